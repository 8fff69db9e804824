/*
 * ascii: the classes hold exactly their characters for every byte value
 * (and EOF), whatever the locale, and ascii_copyn never writes past dst.
 */
#include "unit.h"

#include <locale.h>
#include <string.h>

#include "muster/ascii.h"

static void
classes(void **state)
{
	int ch, digits = 0, alnums = 0, hexes = 0;

	(void)state;
	/* A locale where isalnum would say yes to more bytes. */
	(void)setlocale(LC_ALL, "C.UTF-8");
	for (ch = -129; ch < 256; ch++) {
		digits += ascii_digit(ch);
		alnums += ascii_alnum(ch);
		if (ascii_hexval(ch) >= 0)
			hexes++;
	}
	assert_int_equal(digits, 10);
	assert_int_equal(alnums, 62);
	assert_int_equal(hexes, 22);
	assert_int_equal(ascii_hexval('0'), 0);
	assert_int_equal(ascii_hexval('9'), 9);
	assert_int_equal(ascii_hexval('a'), 10);
	assert_int_equal(ascii_hexval('F'), 15);
	assert_int_equal(ascii_hexval('g'), -1);
	assert_int_equal(ascii_hexval(0xe9), -1);	/* Latin-1 e-acute */
	assert_int_equal(ascii_alnum(0xe9), 0);
	assert_int_equal(ascii_digit(0xb2), 0);		/* superscript two */
}

static void
copyn(void **state)
{
	char dst[5];

	(void)state;
	memset(dst, 'x', sizeof dst);
	assert_int_equal(ascii_copyn(dst, sizeof dst, "abcdXYZ", 4), 0);
	assert_string_equal(dst, "abcd");
	/* No room for the NUL: refused, dst as it was. */
	assert_int_equal(ascii_copyn(dst, sizeof dst, "12345", 5), -1);
	assert_string_equal(dst, "abcd");
	assert_int_equal(ascii_copyn(dst, sizeof dst, "", 0), 0);
	assert_string_equal(dst, "");
	assert_int_equal(ascii_copyn(dst, 0, "", 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classes),
		cmocka_unit_test(copyn),
	};

	return cmocka_run_group_tests_name("ascii", tests, NULL, NULL);
}
