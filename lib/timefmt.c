/* timefmt: RFC 3339 UTC times; see include/muster/timefmt.h. */
#include <string.h>
#include <time.h>

#include "muster/ascii.h"
#include "muster/timefmt.h"

static const char timefmt_zero[TIMEFMT_LEN] = "0000-00-00T00:00:00Z";

static int
days_in_month(int year, int mon)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	if (mon == 2 && ((year % 4 == 0 && year % 100 != 0) ||
	    year % 400 == 0))
		return 29;
	return days[mon - 1];
}

int
timefmt_parse(const char *s, time_t *t)
{
	static const char form[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm;
	int year, mon, day, hour, min, sec;
	time_t r;
	size_t i;

	if (s == NULL || t == NULL || strlen(s) != TIMEFMT_CHARS)
		return -1;
	for (i = 0; i < TIMEFMT_CHARS; i++) {
		if (form[i] == 'd' ? !ascii_digit((unsigned char)s[i]) :
		    s[i] != form[i])
			return -1;
	}
#define NUM2(o)	((s[o] - '0') * 10 + (s[(o) + 1] - '0'))
	year = NUM2(0) * 100 + NUM2(2);
	mon = NUM2(5);
	day = NUM2(8);
	hour = NUM2(11);
	min = NUM2(14);
	sec = NUM2(17);
#undef NUM2
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || hour > 23 || min > 59 ||
	    sec > 59)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	/* -1 is 1969-12-31T23:59:59Z, below the range accepted above. */
	if ((r = timegm(&tm)) == (time_t)-1)
		return -1;
	*t = r;
	return 0;
}

/* Writes v (0 <= v < 10^n) as n decimal digits at p. */
static void
put_digits(char *p, int n, int v)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void
timefmt_format(time_t t, char buf[TIMEFMT_LEN])
{
	struct tm tm;

	memcpy(buf, timefmt_zero, TIMEFMT_LEN);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return;
	put_digits(buf, 4, tm.tm_year + 1900);
	put_digits(buf + 5, 2, tm.tm_mon + 1);
	put_digits(buf + 8, 2, tm.tm_mday);
	put_digits(buf + 11, 2, tm.tm_hour);
	put_digits(buf + 14, 2, tm.tm_min);
	put_digits(buf + 17, 2, tm.tm_sec);
}

int
timefmt_format_exact(time_t t, char buf[TIMEFMT_LEN])
{
	time_t back;

	timefmt_format(t, buf);
	return timefmt_parse(buf, &back) == 0 && back == t ? 0 : -1;
}

int64_t
timefmt_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
