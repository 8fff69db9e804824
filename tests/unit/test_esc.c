/*
 * esc: untrusted text for terminals and logs.  Every C0, C1, bidi and
 * zero-width character must come out as something a reader sees.
 */
#include "unit.h"

#include <string.h>

#include "muster/esc.h"

static void
bytes_quoted(void **state)
{
	char buf[ESC_SIZE(8)];

	(void)state;
	assert_string_equal(esc_bytes("abc", 3, 8, ESC_QUOTED, buf),
	    "\"abc\"");
	assert_string_equal(esc_bytes("a\"b\\c", 5, 8, ESC_QUOTED, buf),
	    "\"a\\\"b\\\\c\"");
	assert_string_equal(esc_bytes("a\"b\\c", 5, 8, 0, buf),
	    "a\"b\\\\c");
	/* Not NUL-terminated input, and an embedded NUL. */
	assert_string_equal(esc_bytes("x\0y", 3, 8, ESC_QUOTED, buf),
	    "\"x\\x00y\"");
	assert_string_equal(esc_bytes("", 0, 8, ESC_QUOTED, buf), "\"\"");
	assert_string_equal(esc_bytes("", 0, 8, 0, buf), "");
}

static void
bytes_cut(void **state)
{
	char buf[ESC_SIZE(4)], big[ESC_SIZE(4)];

	(void)state;
	assert_string_equal(esc_bytes("abcd", 4, 4, ESC_QUOTED, buf),
	    "\"abcd\"");
	assert_string_equal(esc_bytes("abcde", 5, 4, ESC_QUOTED, buf),
	    "\"abcd\"...");
	assert_string_equal(esc_bytes("abcde", 5, 4, 0, buf), "abcd...");
	/* The worst case fills the buffer exactly. */
	memset(big, 'Z', sizeof big);
	esc_bytes("\x01\x02\x03\x04\x05", 5, 4, ESC_QUOTED, big);
	assert_int_equal(strlen(big) + 1, sizeof big);
	assert_string_equal(big, "\"\\x01\\x02\\x03\\x04\"...");
}

static void
bytes_controls_and_unicode(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "\x1b[2J", "\\x1b[2J" },			/* C0: ESC */
		{ "a\nb\r\t", "a\\x0ab\\x0d\\x09" },
		{ "\x7f", "\\x7f" },				/* DEL */
		{ "\xc2\x9b" "31m", "\\xc2\\x9b31m" },		/* C1: CSI */
		{ "\xe2\x80\xae" "exe", "\\xe2\\x80\\xaeexe" },	/* RLO */
		{ "\xe2\x81\xa6", "\\xe2\\x81\\xa6" },		/* LRI */
		{ "a\xe2\x80\x8b" "b", "a\\xe2\\x80\\x8bb" },	/* ZWSP */
		{ "\xef\xbb\xbf", "\\xef\\xbb\\xbf" },		/* BOM */
		{ "caf\xc3\xa9", "caf\\xc3\\xa9" },		/* any non-ASCII */
		{ "\xff\xfe", "\\xff\\xfe" },			/* not UTF-8 */
	};
	char buf[ESC_SIZE(32)];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(esc_str(cases[i].in, 32, 0, buf),
		    cases[i].out);
	assert_string_equal(esc_str(NULL, 32, ESC_QUOTED, buf), "\"\"");
	/* esc_str reads no further than show + 1 bytes. */
	assert_string_equal(esc_str("abcdef", 2, 0, buf), "ab...");
}

static void
text_ok(void **state)
{
	static const char *const good[] = {
		"", "Disable Mi Cloud sync", "caf\xc3\xa9",
		"\xe4\xb8\xad\xe6\x96\x87", "\xf0\x9f\x93\xb1",
		"\xe2\x80\x8b",		/* zero-width space: allowed here */
	};
	static const char *const bad[] = {
		"a\nb", "\t", "\x7f", "\x1b[0m",
		"\xc2\x80", "\xc2\x9f",			/* C1 */
		"\xe2\x80\x8e", "\xe2\x80\x8f",		/* LRM RLM */
		"\xe2\x80\xa8", "\xe2\x80\xae",		/* LS .. RLO */
		"\xe2\x81\xa6", "\xe2\x81\xa9",		/* LRI .. PDI */
		"\xc0\xaf", "\xe0\x80\xaf",		/* overlong */
		"\xed\xa0\x80",				/* surrogate */
		"\xf4\x90\x80\x80",			/* past U+10FFFF */
		"\xe2\x80", "\xc3", "\x80", "\xff", "\xf8\x88\x80\x80\x80",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!esc_text_ok(good[i], strlen(good[i])))
			fail_msg("refused good #%zu", i);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (esc_text_ok(bad[i], strlen(bad[i])))
			fail_msg("accepted bad #%zu", i);
	/* A sequence cut by the length is refused; a NUL inside is C0. */
	assert_false(esc_text_ok("caf\xc3\xa9", 4));
	assert_true(esc_text_ok("caf\xc3\xa9", 5));
	assert_false(esc_text_ok("a\0b", 3));
}

static void
line_cleaned(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "plain text", "plain text" },
		{ "forged\nmuster-server: error: x", "forged?muster-server: "
		    "error: x" },
		{ "\x1b[2J\r\x7f", "?[2J??" },
		{ "a\xc2\x9b" "b", "a?b" },			/* C1 */
		{ "\xe2\x80\xae" "gpj.exe", "?gpj.exe" },	/* RLO */
		{ "\xe2\x81\xa6x\xe2\x81\xa9", "?x?" },		/* LRI PDI */
		{ "a\xe2\x80\x8b" "b\xe2\x80\x8d" "c", "a?b?c" },	/* ZW */
		{ "\xe2\x81\xa0\xef\xbb\xbf\xd8\x9c", "???" },	/* WJ BOM ALM */
		{ "\xe2\x80\xa8", "?" },			/* LS */
		{ "caf\xc3\xa9 \xe4\xb8\xad", "caf\xc3\xa9 \xe4\xb8\xad" },
		{ "\xff\xc3", "\xff\xc3" },	/* not UTF-8: left as is */
		{ "", "" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		strcpy(buf, cases[i].in);
		assert_ptr_equal(esc_line(buf), buf);
		assert_string_equal(buf, cases[i].out);
	}
}

/* The strict check: what esc_text_ok refuses, and the invisible ones too. */
static void
text_strict(void **state)
{
	static const char *const bad[] = {
		"Xiaomi\xe2\x80\x8bHM 1SW",		/* ZWSP */
		"HM\xe2\x80\x8c" "1SW",		/* ZWNJ */
		"HM\xe2\x80\x8d" "1SW",		/* ZWJ */
		"\xef\xbb\xbfHM",			/* BOM */
		"HM\xe2\x81\xa0",			/* word joiner */
		"HM\xd8\x9c",				/* Arabic letter mark */
		"HM\xe2\x80\xae" "1S",		/* RLO */
		"HM\xc2\x85",				/* NEL, C1 */
		"HM\n",
		"HM\xc0\xaf",				/* overlong */
		"HM\xe2\x80",				/* truncated */
	};
	static const char *const good[] = { "Xiaomi HM 1SW",
	    "N\xc2\xba 17 Esquadr\xc3\xa3o",
	    "\xe0\xa4\xb5\xe0\xa4\xbe\xe0\xa4\xaf\xe0\xa5\x81" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(esc_text_strict_ok(bad[i], strlen(bad[i])));
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(esc_text_strict_ok(good[i], strlen(good[i])));
	assert_true(esc_text_strict_ok("", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bytes_quoted),
		cmocka_unit_test(bytes_cut),
		cmocka_unit_test(bytes_controls_and_unicode),
		cmocka_unit_test(text_ok),
		cmocka_unit_test(line_cleaned),
		cmocka_unit_test(text_strict),
	};

	return cmocka_run_group_tests_name("esc", tests, NULL, NULL);
}
