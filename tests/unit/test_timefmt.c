/*
 * timefmt: the one RFC 3339 UTC form, YYYY-MM-DDTHH:MM:SSZ.  Round trips
 * of good times, and refusal of everything near it.
 */
#include "unit.h"

#include <string.h>
#include <time.h>

#include "muster/timefmt.h"

_Static_assert(TIMEFMT_LEN == sizeof "YYYY-MM-DDTHH:MM:SSZ",
    "TIMEFMT_LEN holds one time and its NUL");

static void
time_round_trip(void **state)
{
	static const struct {
		const char	*s;
		time_t		 t;
	} ok[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2000-02-29T12:34:56Z", 951827696 },
		{ "2014-08-10T00:00:00Z", 1407628800 },
		{ "2030-01-01T00:00:00Z", 1893456000 },
		{ "2038-01-19T03:14:08Z", INT64_C(2147483648) },
		{ "9999-12-31T23:59:59Z", INT64_C(253402300799) },
	};
	char buf[TIMEFMT_LEN];
	time_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		assert_int_equal(timefmt_parse(ok[i].s, &t), 0);
		assert_true(t == ok[i].t);
		timefmt_format(t, buf);
		assert_string_equal(buf, ok[i].s);
	}
	/* Unrepresentable years come out in a form the parser refuses. */
	timefmt_format((time_t)INT64_C(253402300800), buf);
	assert_int_equal(timefmt_parse(buf, &t), -1);
}

static void
time_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"2030-02-30T00:00:00Z",		/* Feb 30 */
		"2001-02-29T00:00:00Z",		/* not a leap year */
		"1900-02-29T00:00:00Z",		/* not a leap year */
		"2030-04-31T00:00:00Z",
		"2030-00-10T00:00:00Z",
		"2030-13-10T00:00:00Z",
		"2030-01-00T00:00:00Z",
		"2030-01-32T00:00:00Z",
		"2030-01-01T24:00:00Z",		/* hour 24 */
		"2030-01-01T23:60:00Z",
		"2030-01-01T23:59:60Z",		/* no leap seconds */
		"2030-01-01T00:00:00Zjunk",	/* trailing garbage */
		"2030-01-01T00:00:00Z ",
		" 2030-01-01T00:00:00Z",
		"2030-01-01T00:00:00+00:00",	/* offsets other than Z */
		"2030-01-01T00:00:00-05:00",
		"2030-01-01T00:00:00",
		"2030-01-01T00:00:00z",
		"2030-01-01t00:00:00Z",
		"2030-01-01 00:00:00Z",
		"2030-01-01T00:00:00.5Z",
		"2030-1-01T00:00:00Z",
		"+030-01-01T00:00:00Z",
		"1969-12-31T23:59:59Z",		/* before the epoch */
		"2030-01-01",
	};
	time_t t = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (timefmt_parse(bad[i], &t) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(t == 42);
	}
	assert_int_equal(timefmt_parse(NULL, &t), -1);
	assert_int_equal(timefmt_parse("2030-01-01T00:00:00Z", NULL), -1);
}

static void
time_format_exact(void **state)
{
	char buf[TIMEFMT_LEN];

	(void)state;
	assert_int_equal(timefmt_format_exact(0, buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	assert_int_equal(timefmt_format_exact((time_t)1407628800, buf), 0);
	assert_string_equal(buf, "2014-08-10T00:00:00Z");
	assert_int_equal(timefmt_format_exact((time_t)INT64_C(253402300799),
	    buf), 0);
	assert_string_equal(buf, "9999-12-31T23:59:59Z");
	/* Before the epoch: formatted, but it does not parse back. */
	assert_int_equal(timefmt_format_exact((time_t)-1, buf), -1);
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
	assert_int_equal(timefmt_format_exact((time_t)INT64_C(253402300800),
	    buf), -1);
	assert_string_equal(buf, "0000-00-00T00:00:00Z");
	assert_int_equal(timefmt_format_exact((time_t)INT64_MIN, buf), -1);
	assert_string_equal(buf, "0000-00-00T00:00:00Z");
	assert_int_equal(timefmt_format_exact((time_t)INT64_MAX, buf), -1);
	assert_string_equal(buf, "0000-00-00T00:00:00Z");
}

/* The monotonic clock in ms never runs back and follows a short sleep. */
static void
time_mono_ms(void **state)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int64_t a, b;

	(void)state;
	a = timefmt_mono_ms();
	assert_true(a >= 0);
	nanosleep(&ts, NULL);
	b = timefmt_mono_ms();
	assert_true(b - a >= 20);
	assert_true(b - a < 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(time_round_trip),
		cmocka_unit_test(time_bad),
		cmocka_unit_test(time_format_exact),
		cmocka_unit_test(time_mono_ms),
	};

	return cmocka_run_group_tests_name("timefmt", tests, NULL, NULL);
}
