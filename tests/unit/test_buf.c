/*
 * buf: the bounded text builder the root, manifest and bundle writers
 * share.  Exact bytes, growth across many appends, the limit to the byte,
 * and an error that sticks.
 */
#include "unit.h"

#include <string.h>

#include "muster/buf.h"

static void
buf_builds_exact_bytes(void **state)
{
	static const unsigned char bin[] = { 0xfb, 0xff, 0x00, 'M' };
	struct muster_err e = { 0 };
	struct buf b;
	char *s;
	size_t len = 99;

	(void)state;
	buf_init(&b, BUF_UNBOUNDED);
	assert_int_equal(buf_printf(&b, "n = %d; s = \"%s\";", 42, "x"), 0);
	assert_int_equal(buf_add(&b, "\0z", 2), 0);	/* bytes, NUL included */
	assert_int_equal(buf_base64(&b, bin, sizeof bin), 0);
	assert_int_equal(buf_base64(&b, bin, 0), 0);	/* nothing */
	assert_int_equal(buf_check(&b, "text", &e), 0);
	assert_non_null(s = buf_take(&b, &len));
	assert_int_equal(len, 16 + 2 + 8);
	assert_memory_equal(s, "n = 42; s = \"x\";\0z+/8ATQ==", len + 1);
	assert_null(b.s);
	free(s);
	buf_free(&b);		/* after a take: empty, a no-op */
	buf_free(&b);
}

static void
buf_empty_take_is_empty_string(void **state)
{
	struct buf b;
	char *s;
	size_t len = 7;

	(void)state;
	buf_init(&b, 0);
	assert_non_null(s = buf_take(&b, &len));
	assert_int_equal(len, 0);
	assert_string_equal(s, "");
	free(s);
	/* A limit of 0 refuses even one byte. */
	buf_init(&b, 0);
	assert_int_equal(buf_add(&b, "x", 1), BUF_ETOOLONG);
	buf_free(&b);
}

static void
buf_grows_across_many_appends(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, BUF_UNBOUNDED);
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_printf(&b, "%05zu\n", i), 0);
	assert_int_equal(b.len, 60000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.s[b.len], '\0');
	assert_memory_equal(b.s + 6 * 9999, "09999\n", 6);
	assert_memory_equal(b.s + 6 * 1234, "01234\n", 6);
	buf_free(&b);
	assert_null(b.s);
}

static void
buf_limit_to_the_byte_and_sticky(void **state)
{
	struct muster_err e = { 0 };
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_printf(&b, "%s", "0123456789"), 0);	/* 10 */
	assert_int_equal(b.len, 10);
	assert_int_equal(buf_add(&b, "x", 1), BUF_ETOOLONG);	/* 11 */
	assert_int_equal(b.len, 10);
	assert_string_equal(b.s, "0123456789");	/* left as it was */
	/* The error sticks: a later append that would fit does nothing. */
	assert_int_equal(buf_add(&b, "", 0), BUF_ETOOLONG);
	assert_int_equal(buf_printf(&b, "%s", ""), BUF_ETOOLONG);
	assert_int_equal(buf_base64(&b, "", 0), BUF_ETOOLONG);
	assert_null(buf_take(&b, NULL));
	assert_int_equal(buf_check(&b, "manifest", &e), MUSTER_EINTERNAL);
	assert_string_equal(e.msg, "manifest longer than expected");
	buf_free(&b);

	/* base64 counts without its NUL: 4 characters fit a limit of 4. */
	buf_init(&b, 4);
	assert_int_equal(buf_base64(&b, "abc", 3), 0);
	assert_string_equal(b.s, "YWJj");
	assert_int_equal(buf_base64(&b, "a", 1), BUF_ETOOLONG);
	buf_free(&b);

	/* An oversized single append is refused whole, not cut. */
	buf_init(&b, 5);
	assert_int_equal(buf_printf(&b, "%s", "123456"), BUF_ETOOLONG);
	assert_null(b.s);
	buf_free(&b);
}

static void
buf_nomem_message(void **state)
{
	struct muster_err e = { 0 };
	struct buf b;

	(void)state;
	buf_init(&b, BUF_UNBOUNDED);
	assert_int_equal(buf_add(&b, "abc", 3), 0);
	/*
	 * A failed malloc, as reserve records it (a real one cannot be
	 * forced under ASan, which aborts on a huge request).
	 */
	b.err = BUF_ENOMEM;
	assert_int_equal(buf_check(&b, "root", &e), MUSTER_EINTERNAL);
	assert_string_equal(e.msg, "out of memory");
	assert_int_equal(buf_add(&b, "x", 1), BUF_ENOMEM);
	assert_int_equal(b.len, 3);
	assert_null(buf_take(&b, NULL));
	buf_free(&b);
	/* Past BUF_UNBOUNDED is past the limit, whatever memory there is. */
	buf_init(&b, SIZE_MAX);
	assert_int_equal(b.max, BUF_UNBOUNDED);
	assert_int_equal(buf_add(&b, "", SIZE_MAX), BUF_ETOOLONG);
	buf_free(&b);
}

static void
buf_fmt_fits_to_the_byte_or_empties(void **state)
{
	char dst[6];

	(void)state;
	assert_int_equal(buf_fmt(dst, sizeof dst, "v=%d", 123), 0);
	assert_string_equal(dst, "v=123");
	/* One byte more than fits: refused and left empty, not cut. */
	assert_int_equal(buf_fmt(dst, sizeof dst, "v=%d", 1234), -1);
	assert_string_equal(dst, "");
	assert_int_equal(buf_fmt(dst, 0, "x"), -1);
	assert_int_equal(buf_fmt(NULL, 8, "x"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_builds_exact_bytes),
		cmocka_unit_test(buf_empty_take_is_empty_string),
		cmocka_unit_test(buf_grows_across_many_appends),
		cmocka_unit_test(buf_limit_to_the_byte_and_sticky),
		cmocka_unit_test(buf_nomem_message),
		cmocka_unit_test(buf_fmt_fits_to_the_byte_or_empties),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
