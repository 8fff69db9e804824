/*
 * ratelimit: the per-device buckets behind the 429 of POST /v1/report.
 * A burst, then one report per 1/rate with the exact Retry-After, nothing
 * charged for a refusal; the byte quota refilling over a day and a report
 * larger than the whole quota waiting a day; devices apart from each
 * other (thousands, through the table's growth); limits off; a clock
 * that goes back; and many threads charging one device never letting
 * more through than the buckets hold.
 */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../../server/ratelimit.h"

#define DEV_A	"00112233445566778899aabbccddeeff"
#define DEV_B	"ffeeddccbbaa99887766554433221100"

static void
burst_then_rate(void **state)
{
	struct ratelimit *rl;
	int i;

	(void)state;
	/* 720 an hour: one every 5 s; a burst of 3. */
	assert_int_equal(ratelimit_new(720, 3, 0, &rl), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 100.0), 0);
	assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 100.0), 5);
	/* Refused again and again: nothing charged, the wait shrinks. */
	assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 101.0), 4);
	assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 104.5), 1);
	assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 105.0), 0);
	assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 105.0), 5);
	/* Another device has its own buckets. */
	assert_int_equal(ratelimit_take(rl, DEV_B, 1000, 105.0), 0);
	/* A long quiet refills to the burst, no more. */
	for (i = 0; i < 3; i++)
		assert_int_equal(ratelimit_take(rl, DEV_A, 1, 100000.0), 0);
	assert_true(ratelimit_take(rl, DEV_A, 1, 100000.0) > 0);
	/* A clock that goes back refills nothing. */
	assert_true(ratelimit_take(rl, DEV_A, 1, 50.0) > 0);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void
quota(void **state)
{
	struct ratelimit *rl;

	(void)state;
	/* 86400 bytes a day: one a second; no report limit. */
	assert_int_equal(ratelimit_new(0, 1, 86400, &rl), 0);
	assert_int_equal(ratelimit_take(rl, DEV_A, 80000, 0.0), 0);
	assert_int_equal(ratelimit_take(rl, DEV_A, 6000, 0.0), 0);
	assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 0.0), 600);
	assert_int_equal(ratelimit_take(rl, DEV_A, 1000, 600.0), 0);
	/* Larger than a whole day's quota: a day, never taken. */
	assert_int_equal(ratelimit_take(rl, DEV_A, 86401, 1e9),
	    RATELIMIT_RETRY_MAX);
	/* Limits off. */
	ratelimit_free(rl);
	assert_int_equal(ratelimit_new(0, 1, 0, &rl), 0);
	assert_int_equal(ratelimit_take(rl, DEV_A, 1 << 30, 0.0), 0);
	ratelimit_free(rl);
}

static void
many_devices(void **state)
{
	struct ratelimit *rl;
	char id[40];
	int i;

	(void)state;
	assert_int_equal(ratelimit_new(3600, 1, 0, &rl), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(id, sizeof id, "%032x", i);
		assert_int_equal(ratelimit_take(rl, id, 1, 0.0), 0);
	}
	/* Each one still spent: the table kept them through its growth. */
	for (i = 0; i < 20000; i += 997) {
		snprintf(id, sizeof id, "%032x", i);
		assert_int_equal(ratelimit_take(rl, id, 1, 0.0), 1);
	}
	ratelimit_free(rl);
}

struct racer {
	struct ratelimit	*rl;
	int			 taken;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	int i;

	for (i = 0; i < 5000; i++)
		if (ratelimit_take(r->rl, DEV_A, 10, 0.0) == 0)
			r->taken++;
	return NULL;
}

static void
threads_one_device(void **state)
{
	struct racer r[8];
	pthread_t t[8];
	struct ratelimit *rl;
	int i, total = 0;

	(void)state;
	assert_int_equal(ratelimit_new(60, 100, 0, &rl), 0);
	for (i = 0; i < 8; i++) {
		r[i].rl = rl;
		r[i].taken = 0;
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += r[i].taken;
	}
	assert_int_equal(total, 100);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_rate),
		cmocka_unit_test(quota),
		cmocka_unit_test(many_devices),
		cmocka_unit_test(threads_one_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
