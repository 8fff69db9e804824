/*
 * csvout: RFC 4180 cells, and no cell a spreadsheet would run as a
 * formula when the caller asks for that.
 */
#include "unit.h"

#include <string.h>

#include "muster/csvout.h"

/* The cell csvout_cell writes for s, in a static buffer. */
static const char *
cell(const char *s, unsigned flags)
{
	static char out[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	csvout_cell(fp, s, flags);
	assert_int_equal(fclose(fp), 0);
	assert_true(len < sizeof out);
	memcpy(out, buf, len + 1);
	free(buf);
	return out;
}

static void
rfc4180(void **state)
{
	(void)state;
	assert_string_equal(cell("plain", 0), "plain");
	assert_string_equal(cell("", 0), "");
	assert_string_equal(cell("a,b", 0), "\"a,b\"");
	assert_string_equal(cell("say \"hi\"", 0), "\"say \"\"hi\"\"\"");
	assert_string_equal(cell("two\nlines", 0), "\"two\nlines\"");
	assert_string_equal(cell("cr\r", 0), "\"cr\r\"");
	/* Without the flag a formula stays as it is (the roll-up's way). */
	assert_string_equal(cell("=1+2", 0), "=1+2");
	assert_string_equal(cell("-x", 0), "-x");
	/* With it, what is not a formula is unchanged too. */
	assert_string_equal(cell("IAF/25-WING", CSVOUT_NO_FORMULA),
	    "IAF/25-WING");
	assert_string_equal(cell("a,b", CSVOUT_NO_FORMULA), "\"a,b\"");
	assert_string_equal(cell("", CSVOUT_NO_FORMULA), "");
	assert_string_equal(cell("a=b", CSVOUT_NO_FORMULA), "a=b");
}

static void
no_formula(void **state)
{
	static const char *const bad[] = {
		"=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)",
		"\tTAB", "\rCR", "=cmd|' /C calc'!A0", "-", "@",
	};
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_true(csvout_is_formula(bad[i]));
		got = cell(bad[i], CSVOUT_NO_FORMULA);
		/* Quoted, then a ' before the first character. */
		assert_int_equal(got[0], '"');
		assert_int_equal(got[1], '\'');
		assert_int_equal(got[strlen(got) - 1], '"');
	}
	assert_string_equal(cell("=1+2", CSVOUT_NO_FORMULA), "\"'=1+2\"");
	assert_string_equal(cell("@x,\"y\"", CSVOUT_NO_FORMULA),
	    "\"'@x,\"\"y\"\"\"");
	assert_string_equal(cell("-IAF", CSVOUT_NO_FORMULA), "\"'-IAF\"");
	assert_false(csvout_is_formula(""));
	assert_false(csvout_is_formula("a=1"));
	assert_false(csvout_is_formula(" =1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4180),
		cmocka_unit_test(no_formula),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
