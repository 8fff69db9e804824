/*
 * The agent's one-number state files (STATE/clock, the spool's seq and
 * dropped counts), read back from disk as an attacker or a crash may
 * leave them: the words each refusal uses, and the bounds.
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "../../agent/clock.h"
#include "../../agent/spool.h"

static void
put(const char *dir, const char *name, const char *text)
{
	struct muster_err e = { 0 };
	char path[160];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600, &e),
	    0);
}

static void
clock_file_round_trip_and_damage(void **state)
{
	char dir[UNIT_TMPDIR_MAX], want[256];
	struct muster_err e = { 0 };
	int64_t off;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "clock"), 0);
	off = 5;
	assert_int_equal(clock_offset_load(dir, &off, &e), 0);
	assert_int_equal(off, 0);
	assert_int_equal(clock_offset_store(dir, -600, &e), 0);
	assert_int_equal(clock_offset_load(dir, &off, &e), 0);
	assert_int_equal(off, -600);
	assert_int_equal(clock_offset_store(dir, CLOCK_OFFSET_MAX + 1, &e),
	    MUSTER_EDATA);
	assert_string_equal(e.msg, "clock offset out of range");
	/* Past the bound, not a number, too long: each named as before. */
	snprintf(want, sizeof want, "%s/clock: damaged (want one number of "
	    "seconds); remove it to measure the clock again", dir);
	put(dir, CLOCK_FILE, "34560001\n");
	assert_int_equal(clock_offset_load(dir, &off, &e), MUSTER_ECONFIG);
	assert_string_equal(e.msg, want);
	assert_int_equal(off, 0);
	put(dir, CLOCK_FILE, "-60s");
	assert_int_equal(clock_offset_load(dir, &off, &e), MUSTER_ECONFIG);
	assert_string_equal(e.msg, want);
	put(dir, CLOCK_FILE, "000000000000000000000000000000001");
	assert_int_equal(clock_offset_load(dir, &off, &e), MUSTER_EDATA);
	assert_int_equal(unit_rmtree(dir), 0);
}

static void
spool_counts_damage(void **state)
{
	char dir[UNIT_TMPDIR_MAX], want[256];
	struct muster_err e = { 0 };
	int64_t n;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "spnum"), 0);
	assert_int_equal(spool_dropped_set(dir, 3, &e), 0);
	assert_int_equal(spool_dropped_get(dir, &n, &e), 0);
	assert_int_equal(n, 3);
	snprintf(want, sizeof want, "%s/seq: damaged (want one number)", dir);
	put(dir, SPOOL_SEQ_FILE, "-1\n");
	assert_int_equal(spool_seq_get(dir, &n, &e), MUSTER_ECONFIG);
	assert_string_equal(e.msg, want);
	put(dir, SPOOL_SEQ_FILE, "1000000000000000000");
	assert_int_equal(spool_seq_get(dir, &n, &e), MUSTER_ECONFIG);
	assert_string_equal(e.msg, want);
	put(dir, SPOOL_SEQ_FILE, "999999999999999999\n");
	assert_int_equal(spool_seq_get(dir, &n, &e), 0);
	assert_int_equal(n, INT64_C(999999999999999999));
	assert_int_equal(unit_rmtree(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clock_file_round_trip_and_damage),
		cmocka_unit_test(spool_counts_damage),
	};

	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
