/*
 * skewclock.so: an LD_PRELOAD library that sets a process's wall clock
 * MUSTER_SKEW seconds off (positive: ahead), as a phone's drifted clock
 * is, for the clock-skew tests (faketime is not installed).  It moves
 * time(), gettimeofday() and clock_gettime() of CLOCK_REALTIME and
 * CLOCK_REALTIME_COARSE; monotonic clocks are left alone.  A test tool:
 * nothing of Muster reads MUSTER_SKEW.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*cg_fn)(clockid_t, struct timespec *);

static long
skew(void)
{
	static long s;
	static int done;
	const char *v;

	if (!done) {
		v = getenv("MUSTER_SKEW");
		s = v != NULL ? strtol(v, NULL, 10) : 0;
		done = 1;
	}
	return s;
}

static int
real_clock_gettime(clockid_t id, struct timespec *ts)
{
	static cg_fn real;

	if (real == NULL)
		real = (cg_fn)dlsym(RTLD_NEXT, "clock_gettime");
	return real(id, ts);
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = real_clock_gettime(id, ts);

	if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec += skew();
	return rc;
}

time_t
time(time_t *t)
{
	struct timespec ts;
	time_t now;

	real_clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec + skew();
	if (t != NULL)
		*t = now;
	return now;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	real_clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec + skew();
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
