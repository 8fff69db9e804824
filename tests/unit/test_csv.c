/*
 * csv: the roster reader.  Records end at LF or CRLF, a lone CR is data in
 * an unquoted field and an error after a closing quote, and after an error
 * the rest of the physical line is skipped with the line count kept right.
 */
#include "unit.h"

#include <string.h>

#include "../../enroll/csv.h"

/* A reader over the len bytes of s (a memory stream the caller closes). */
static void
csv_over(struct csv *c, const char *s, size_t len)
{
	c->f = fmemopen((void *)s, len, "r");
	assert_non_null(c->f);
	c->line = 1;
	c->first = 1;
}

/* Reads one record and checks it is a good one of nf fields. */
static void
want_record(struct csv *c, struct csv_record *r, long line, size_t nf)
{
	assert_int_equal(csv_read(c, r), 1);
	assert_null(r->bad);
	assert_int_equal(r->line, line);
	assert_int_equal(r->nfields, nf);
}

static void
line_ends(void **state)
{
	static const char in[] = "a,b\r\nc,\"d\"\r\ne\nf\r\n";
	struct csv c;
	struct csv_record r;

	(void)state;
	csv_over(&c, in, sizeof in - 1);
	want_record(&c, &r, 1, 2);
	assert_string_equal(csv_field(&r, 0), "a");
	assert_string_equal(csv_field(&r, 1), "b");
	want_record(&c, &r, 2, 2);
	assert_string_equal(csv_field(&r, 1), "d");
	assert_int_equal(r.quoted[1], 1);
	want_record(&c, &r, 3, 1);
	assert_string_equal(csv_field(&r, 0), "e");
	want_record(&c, &r, 4, 1);
	assert_string_equal(csv_field(&r, 0), "f");
	assert_int_equal(csv_read(&c, &r), 0);
	fclose(c.f);
}

static void
lone_cr(void **state)
{
	static const char in[] = "a\rb,\r\"x\"\r";
	struct csv c;
	struct csv_record r;

	(void)state;
	csv_over(&c, in, sizeof in - 1);
	/* Unquoted: the CR is kept; before a quote, the quote is an error. */
	assert_int_equal(csv_read(&c, &r), 1);
	assert_string_equal(r.bad, "a quote inside an unquoted field");
	assert_int_equal(csv_read(&c, &r), 0);
	fclose(c.f);

	csv_over(&c, "a\rb\n", 4);
	want_record(&c, &r, 1, 1);
	assert_int_equal(r.flen[0], 3);
	assert_memory_equal(r.field[0], "a\rb", 3);
	assert_int_equal(csv_read(&c, &r), 0);
	fclose(c.f);

	/* A CR at the very end of an unquoted field and of the file. */
	csv_over(&c, "ab\r", 3);
	want_record(&c, &r, 1, 1);
	assert_memory_equal(r.field[0], "ab\r", 3);
	fclose(c.f);
}

static void
after_closing_quote(void **state)
{
	static const char in[] = "\"a\"\rzz,q\n\"b\"x\nok\n\"c\"\r";
	struct csv c;
	struct csv_record r;

	(void)state;
	csv_over(&c, in, sizeof in - 1);
	assert_int_equal(csv_read(&c, &r), 1);
	assert_string_equal(r.bad, "text after a closing quote");
	assert_int_equal(r.line, 1);
	assert_int_equal(csv_read(&c, &r), 1);
	assert_string_equal(r.bad, "text after a closing quote");
	assert_int_equal(r.line, 2);
	want_record(&c, &r, 3, 1);
	assert_string_equal(csv_field(&r, 0), "ok");
	/* CR then the end of the file after a closing quote. */
	assert_int_equal(csv_read(&c, &r), 1);
	assert_string_equal(r.bad, "text after a closing quote");
	assert_int_equal(r.line, 4);
	assert_int_equal(csv_read(&c, &r), 0);
	fclose(c.f);
}

static void
quoted_newlines(void **state)
{
	static const char in[] = "\"x\r\ny\",\"say \"\"hi\"\"\"\r\nnext\n\"open";
	struct csv c;
	struct csv_record r;

	(void)state;
	csv_over(&c, in, sizeof in - 1);
	want_record(&c, &r, 1, 2);
	assert_string_equal(csv_field(&r, 0), "x\r\ny");
	assert_string_equal(csv_field(&r, 1), "say \"hi\"");
	/* The newline inside the quotes counts as a line. */
	want_record(&c, &r, 3, 1);
	assert_int_equal(csv_read(&c, &r), 1);
	assert_string_equal(r.bad, "a quoted field is not closed");
	fclose(c.f);
}

/* csv_quote: one-line, printable, cut at CSV_QUOTE_SHOW bytes with "...". */
static void
quote(void **state)
{
	static const char in[] = "plain,\"a\"\"b\\c\",\"\x01\x7f\xc3\xa9\"\n"
	    "0123456789012345678901234567890123456789,"
	    "01234567890123456789012345678901234567890,"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "456789\n";
	char q[CSV_QUOTE_SIZE];
	struct csv c;
	struct csv_record r;

	(void)state;
	csv_over(&c, in, sizeof in - 1);
	want_record(&c, &r, 1, 3);
	assert_string_equal(csv_quote(&r, 0, q), "\"plain\"");
	assert_string_equal(csv_quote(&r, 1, q), "\"a\\\"b\\\\c\"");
	assert_string_equal(csv_quote(&r, 2, q), "\"\\x01\\x7f\\xc3\\xa9\"");
	want_record(&c, &r, 2, 3);
	/* Exactly CSV_QUOTE_SHOW bytes: whole; one more, or more than a
	 * field keeps: cut, and said so. */
	assert_string_equal(csv_quote(&r, 0, q),
	    "\"0123456789012345678901234567890123456789\"");
	assert_string_equal(csv_quote(&r, 1, q),
	    "\"0123456789012345678901234567890123456789\"...");
	assert_null(csv_field(&r, 2));
	assert_string_equal(csv_quote(&r, 2, q),
	    "\"0123456789012345678901234567890123456789\"...");
	fclose(c.f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_ends),
		cmocka_unit_test(lone_cr),
		cmocka_unit_test(after_closing_quote),
		cmocka_unit_test(quoted_newlines),
		cmocka_unit_test(quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
