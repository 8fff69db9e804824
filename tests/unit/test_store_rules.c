/*
 * store_retain and store_rules: what both store backends share.  The
 * schedule must keep a pass period of 1 to 300 s and restart the walk
 * daily; revoke must take exactly a lowercase token or device id and
 * nothing truncated, oversized, uppercase or foreign; a profile is
 * published only over an older serial and never when too large.
 */
#include "unit.h"

#include <string.h>

#include "muster/profile.h"
#include "muster/sig.h"

#include "../../server/store_retain.h"
#include "../../server/store_rules.h"

#define TOK	"0123456789abcdef"			/* 16 hex */
#define DEV	"0123456789abcdef0123456789abcdef"	/* 32 hex */

static void
retain_schedule(void **state)
{
	struct store_retain r;

	(void)state;
	memset(&r, 0, sizeof r);
	assert_int_equal(store_retain_wait(&r, 1000), -1);	/* off */
	store_retain_set(&r, -5);
	assert_int_equal(r.seconds, 0);
	assert_int_equal(store_retain_wait(&r, 1000), -1);
	store_retain_set(&r, 160);
	assert_int_equal(store_retain_wait(&r, 1000), 0);	/* due now */
	store_retain_done(&r, 1000);			/* 160 / 16 = 10 s */
	assert_int_equal(store_retain_wait(&r, 1000), 10);
	assert_int_equal(store_retain_wait(&r, 1009), 1);
	assert_int_equal(store_retain_wait(&r, 1010), 0);
	store_retain_set(&r, 7);			/* at least 1 s */
	assert_int_equal(store_retain_wait(&r, 1000), 0);
	store_retain_done(&r, 1000);
	assert_int_equal(store_retain_wait(&r, 1000), 1);
	store_retain_set(&r, 30L * 86400);		/* at most 300 s */
	store_retain_done(&r, 1000);
	assert_int_equal(store_retain_wait(&r, 1000), 300);
}

static void
retain_batch(void **state)
{
	struct store_retain r;

	(void)state;
	memset(&r, 0, sizeof r);
	store_retain_set(&r, 3600);
	assert_int_equal(store_retain_batch(&r, 100000), 100000 - 3600);
	r.cursor = 42;
	/* Within the day the walk goes on from its cursor ... */
	assert_int_equal(store_retain_batch(&r, 100000 + 86399),
	    100000 + 86399 - 3600);
	assert_int_equal(r.cursor, 42);
	/* ... and starts over once a day. */
	(void)store_retain_batch(&r, 100000 + 86400);
	assert_int_equal(r.cursor, 0);
}

static void
rules_hex_id(void **state)
{
	(void)state;
	assert_int_equal(store_rules_hex_id(TOK, 16), 1);
	assert_int_equal(store_rules_hex_id(DEV, 32), 1);
	assert_int_equal(store_rules_hex_id("", 0), 1);
	assert_int_equal(store_rules_hex_id(TOK, 15), 0);	/* oversized */
	assert_int_equal(store_rules_hex_id("0123456789abcde", 16), 0);
	assert_int_equal(store_rules_hex_id("0123456789ABCDEF", 16), 0);
	assert_int_equal(store_rules_hex_id("0123456789abcdeg", 16), 0);
	assert_int_equal(store_rules_hex_id("0123456789abcde ", 16), 0);
	assert_int_equal(store_rules_hex_id("0123456789abcd'-", 16), 0);
}

static void
rules_revoke_id(void **state)
{
	static const char *bad[] = {
		"", TOK "0", "0123456789abcde", DEV "0", DEV TOK,
		"0123456789ABCDEF", "0123456789abcdef0123456789abcdeF",
		"'; DROP TABLE devices; --", "0123456789abcde\n",
	};
	struct muster_err e;
	size_t i;
	int token = -1;

	(void)state;
	assert_int_equal(store_rules_revoke_id(TOK, &token, &e), 0);
	assert_int_equal(token, 1);
	assert_int_equal(store_rules_revoke_id(DEV, &token, &e), 0);
	assert_int_equal(token, 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		assert_int_equal(store_rules_revoke_id(bad[i], &token, &e),
		    MUSTER_EDATA);
		assert_string_equal(e.msg, "not a device or token id");
	}
}

static void
rules_profile(void **state)
{
	unsigned char hash[STORE_HASH_LEN], again[STORE_HASH_LEN];
	struct profile p;
	enum store_put res = STORE_STORED;
	struct muster_err e;

	(void)state;
	memset(&p, 0, sizeof p);
	p.serial = 5;
	assert_int_equal(store_rules_profile_newer(&p, 4, 0, &res), 1);
	assert_int_equal(res, STORE_STORED);
	assert_int_equal(store_rules_profile_newer(&p, 5, 0, &res), 0);
	assert_int_equal(res, STORE_REPLAY);
	assert_int_equal(store_rules_profile_newer(&p, 9, 0, &res), 0);
	assert_int_equal(res, STORE_REPLAY);
	/* The same bytes again are a duplicate whatever the serial. */
	assert_int_equal(store_rules_profile_newer(&p, 9, 1, &res), 0);
	assert_int_equal(res, STORE_DUPLICATE);
	assert_int_equal(store_rules_profile_newer(&p, 4, 1, &res), 0);
	assert_int_equal(res, STORE_DUPLICATE);

	assert_int_equal(store_rules_profile_hash("abc", 3, 0, hash, &e), 0);
	assert_int_equal(store_rules_profile_hash("abc", 3, SIG_FILE_MAX,
	    again, &e), 0);
	assert_memory_equal(hash, again, sizeof hash);
	assert_int_equal(store_rules_profile_hash("abd", 3, 0, again, &e), 0);
	assert_memory_not_equal(hash, again, sizeof hash);
	assert_int_equal(store_rules_profile_hash("", PROFILE_MAX_BYTES + 1,
	    0, hash, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "profile too large");
	assert_int_equal(store_rules_profile_hash("", 0, SIG_FILE_MAX + 1,
	    hash, &e), MUSTER_EDATA);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(retain_schedule),
		cmocka_unit_test(retain_batch),
		cmocka_unit_test(rules_hex_id),
		cmocka_unit_test(rules_revoke_id),
		cmocka_unit_test(rules_profile),
	};

	return cmocka_run_group_tests_name("store_rules", tests, NULL, NULL);
}
