/*
 * htab: the roll-up's string table.  Dense indexes in the order first
 * seen, the same index for the same string through many growths, the
 * empty string a key like any other, and free leaving an empty table.
 */
#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "../../server/htab.h"

#define NKEYS	20000

static void
dense_and_stable(void **state)
{
	struct htab t = { 0 };
	char key[32];
	size_t i, idx;
	int added;

	(void)state;
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof key, "IAF/%zu-WING", i);
		assert_int_equal(htab_intern(&t, key, &idx, &added), 0);
		assert_int_equal(idx, i);
		assert_int_equal(added, 1);
	}
	assert_int_equal(t.n, NKEYS);
	for (i = 0; i < NKEYS; i++) {
		snprintf(key, sizeof key, "IAF/%zu-WING", i);
		assert_int_equal(htab_intern(&t, key, &idx, &added), 0);
		assert_int_equal(idx, i);
		assert_int_equal(added, 0);
		assert_string_equal(t.keys[i], key);
	}
	assert_int_equal(htab_intern(&t, "", &idx, NULL), 0);
	assert_int_equal(idx, NKEYS);
	assert_int_equal(htab_intern(&t, "", &idx, &added), 0);
	assert_int_equal(idx, NKEYS);
	assert_int_equal(added, 0);
	/* At most half full, so that probing stays short. */
	assert_true(2 * t.n <= t.nslot);
	htab_free(&t);
	assert_int_equal(t.n, 0);
	assert_null(t.keys);
	htab_free(&t);
	assert_int_equal(htab_intern(&t, "again", &idx, NULL), 0);
	assert_int_equal(idx, 0);
	htab_free(&t);
}

static void
mix_spreads(void **state)
{
	(void)state;
	/* Neighbouring keys land far apart in the low bits. */
	assert_int_not_equal(htab_mix64(1) & 0xff, htab_mix64(2) & 0xff);
	assert_int_equal(htab_mix64(0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dense_and_stable),
		cmocka_unit_test(mix_spreads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
