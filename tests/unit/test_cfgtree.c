/*
 * lib/cfgtree.c against libconfig 1.5 on the same bytes (cfgtree_diff.h):
 * the corners of libconfig's scanner and grammar one by one, the shipped
 * profiles, and 40,000 deterministic mutations of small texts and of a
 * profile (bytes flipped, dropped, doubled, tokens inserted); then
 * cfgtree's own refusals and their messages, and the limits.
 */
#include "unit.h"

#include <string.h>

#include "muster/cfgtree.h"
#include "cfgtree_diff.h"

static void
agrees(const char *buf, size_t len)
{
	const char *why = cfgtree_diff(buf, len);

	if (why != NULL)
		fail_msg("%.*s\n  -> %s", (int)(len > 300 ? 300 : len), buf,
		    why);
}

#define AGREES(s)	agrees((s), sizeof(s) - 1)

/* The corners of libconfig's scanner and grammar, each alone. */
static void
corners(void **state)
{
	static const char *const texts[] = {
		"", " \n\n", "# only a comment", "// only\n// comments\n",
		"/* c */ a = 1; /* d\n e */ b = 2;", "a = 1 /* x */ ;",
		"a = 1;", "a : 1;", "a = 1", "a = 1, b = 2,", "a=1 b=2",
		"a=12abc=3;", "a = 1;;", ";", "a = ;", "= 1;", "a = 1 2;",
		"a = -1; b = +1; c = 010; d = 0;",
		"a = 2147483647; b = -2147483648;",
		"a = 2147483648;", "a = -2147483649;",
		"a = 5L; b = 5LL; c = -9223372036854775808L;",
		"a = 9223372036854775807L; b = 9223372036854775808L;",
		"a = 5LLL;", "a = 0x10; b = 0XfF; c = 0x7fffffff;",
		"a = 0x80000000;", "a = 0xFFFFFFFF;", "a = 0x7fffffffffffffffL;",
		"a = 0x8000000000000000L;", "a = 0x;", "a = 0xg;",
		"a = -0x10;", "a = +0x80000000a = 1;", "a = 1.5; b = -.5; c = 1e3; d = 1.e-2; e = .;",
		"a = -.e5;", "a = 1.2.3;", "a = 1e;", "a = 1.5L;", "a = +;",
		"a = -;", "a = 99999999999e = 1;",
		"a = true; b = FALSE; c = True;", "true = 1;", "truex = 1;",
		"a = truex;", "a = \"x\";", "a = \"\";", "a = \"x\" \"y\";",
		"a = \"x\"\n\n\"y\";", "a = \"\\n\\r\\t\\f\\\\\\\"\";",
		"a = \"\\x41\\x4a\\X4b\\x00z\";", "a = \"\\x4\";",
		"a = \"\\q\\\";", "a = \"\\\\\";", "a = \"x\ny\";",
		"a = \"\\x4g\";", "a = \"\xc3\xa9\";", "a\xc3\xa9 = 1;",
		"A = 1; a = 2;", "a = 1; a = 2;", "*a = 1;", "a*-_9 = 1;",
		"_a = 1;", "9a = 1;", "a = b;",
		"a = [ ];", "a = [ 1, 2 ];", "a = [ 1, ];", "a = [ , 1 ];",
		"a = [ 1, 1L ];", "a = [ 1, 0x2 ];", "a = [ 1, 1.0 ];",
		"a = [ true, false ];", "a = [ \"x\", 1 ];", "a = [ [ 1 ] ];",
		"a = [ { } ];", "a = [ \"x\" \"y\", \"z\" ];",
		"a = [ \"x\"\n , \"y\"\n ];", "a = [ 1\n , 2\n ];",
		"a = ( );", "a = ( 1, \"x\", [ 1 ], ( ), { b = 1; } );",
		"a = ( 1, );", "a = ( { b = 1; }\n,\n{ b = 2; } );",
		"a = (\n{ b = 1; }\n, [\n1 ]\n);", "a = ( b = 1 );",
		"a = { };", "a = { b = 1; c = { d = \"x\"; }; };",
		"a = { b = 1; b = 2; };", "a = { b = 1 }; b = { b = 1; };",
		"a = {", "a = (", "a = [", "a = \"x", "a = 1; }", "a = 1; )",
		"a\n=\n1\n;\nb\n=\n\"x\"\n\"y\"\n;\n",
		"a = 1;\x0b b = 2;", "a = 1;\x0c b = 2;", "a = 1;\r\nb = 2;\r\n",
		"a = 1; $", "a = 1; /", "a = 1; / b = 2;", "a = 1; ## x\nb=2;",
		"a = ((((((((1))))))));", "a = (((((((1)))))));",
		"a = { b = { c = { d = { e = { f = { g = { h = 1; }; }; }; }; }; }; };",
		"a = { b = { c = { d = { e = { f = { g = 1; }; }; }; }; }; };",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
		agrees(texts[i], strlen(texts[i]));
}

/* The shipped profiles, whole. */
static void
shipped(void **state)
{
	static const char *const files[] = {
		"profiles/iaf-personnel.cfg", "profiles/family-optin.cfg",
		"examples/server.cfg",
	};
	size_t i, len;
	char *buf;

	(void)state;
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		buf = unit_slurp(files[i], &len);
		agrees(buf, len);
		free(buf);
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Fragments a mutation inserts: every token class and its corners. */
static const char *const frags[] = {
	"=", ":", ";", ",", "{", "}", "[", "]", "(", ")", "\"", "\\", "\n",
	" ", "#", "//", "/*", "*/", "@", "a", "*", "-", "+", ".", "e", "L",
	"x", "0x", "1", "9", "0", "true", "False", "\"s\"", "\\x41",
	"\\x00", "2147483648", "1e5", "\t", "\r", "\f", "\v", "\xff",
};

/* One random edit of buf (len bytes, room for len + 16) in place. */
static size_t
mutate(char *buf, size_t len)
{
	size_t pos = len > 0 ? next() % (len + 1) : 0, n;
	const char *f;

	switch (next() % 4) {
	case 0:		/* insert a fragment */
		f = frags[next() % (sizeof frags / sizeof frags[0])];
		n = strlen(f);
		memmove(buf + pos + n, buf + pos, len - pos);
		memcpy(buf + pos, f, n);
		return len + n;
	case 1:		/* drop a byte */
		if (pos >= len)
			return len;
		memmove(buf + pos, buf + pos + 1, len - pos - 1);
		return len - 1;
	case 2:		/* change a byte */
		if (pos < len)
			buf[pos] = (char)(next() & 0x7f);
		return len;
	default:	/* double a byte */
		if (pos >= len)
			return len;
		memmove(buf + pos + 1, buf + pos, len - pos);
		return len + 1;
	}
}

static void
mutants_of(const char *seed, size_t seedlen, int count, int edits)
{
	char *buf;
	size_t cap = seedlen + 16 * (size_t)edits + 16, len;
	int i, k;

	buf = malloc(cap);
	assert_non_null(buf);
	for (i = 0; i < count; i++) {
		memcpy(buf, seed, seedlen);
		len = seedlen;
		for (k = 0, (void)k; k < 1 + (int)(next() % (unsigned)edits);
		    k++)
			len = mutate(buf, len);
		agrees(buf, len);
	}
	free(buf);
}

/* Mutations of small texts, then of a whole profile. */
static void
mutants(void **state)
{
	static const char seed[] =
	    "id = \"p\"; serial = 1L;\n"
	    "rules = ( { id = \"r\"; models = [ \"a\", \"b\" ]; n = 0x1f; },\n"
	    "  { f = 1.5e3; t = true; s = \"x\\n\" \"y\"; g = { }; } );\n"
	    "/* c */ # d\n";
	size_t len;
	char *buf;

	(void)state;
	mutants_of(seed, sizeof seed - 1, 40000, 4);
	buf = unit_slurp("profiles/iaf-personnel.cfg", &len);
	mutants_of(buf, len, 500, 3);
	free(buf);
}

static void
refused(const char *text, int line, const char *want)
{
	struct muster_err e;
	struct cfgtree t;
	char prefix[32];

	if (cfgtree_read(&t, "p.cfg", "profile", text, strlen(text), 4096,
	    8, &e) == 0)
		fail_msg("accepted: %s", text);
	cfgtree_free(&t);
	snprintf(prefix, sizeof prefix, "p.cfg:%d: ", line);
	if (strncmp(e.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(e.msg, want) == NULL)
		fail_msg("%s\n  -> %s (want %s%s)", text, e.msg, prefix, want);
}

/* cfgtree's own refusals, with the line and words cfgscan gives. */
static void
messages(void **state)
{
	struct muster_err e;
	struct cfgtree t;
	char big[5000];

	(void)state;
	refused("a = 1;\n\nb = ;", 3, "syntax error");
	refused("a = 1;\na = 2;", 2, "duplicate setting name");
	refused("a = [ 1,\n 1L ];", 2, "mismatched element type in array");
	refused("a = 1;\nb = \"abc\n\n", 2, "unterminated string");
	refused("a = 1;\n/* abc\n\n", 2, "unterminated comment");
	refused("a = 1;\n  @include \"x\"\n", 2, "directive \"@\" not allowed");
	refused("a = 1;\nb = 4294967297;", 2,
	    "integer \"4294967297\" out of range (write a 64-bit integer");
	refused("a = 0x80000000;", 1, "out of range");
	refused("a = 1;\nserial = 2148953245Lid = \"x\";", 2,
	    "syntax error (a number runs into a name");
	refused("a = +0x2147483647a = 1;", 1, "runs into a name");
	refused("a = 1.5e3x = 1;", 1, "runs into a name");
	refused("a = 9223372036854775808L;", 1, "integer "
	    "\"9223372036854775808L\" out of range");
	refused("a = 1;\nb = ((((((((( 1 )))))))));", 2,
	    "nested deeper than 8 levels");
	assert_int_equal(cfgtree_read(&t, "p.cfg", "profile", "a = \"\0\";",
	    8, 4096, 8, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "NUL byte"));
	cfgtree_free(&t);
	assert_int_equal(cfgtree_read(&t, "p.cfg", "profile", big,
	    sizeof big, 4096, 8, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "p.cfg: 5000 bytes, more than the limit "
	    "of 4096");
	cfgtree_free(&t);
	assert_int_equal(cfgtree_read(&t, "p.cfg", "profile", NULL, 0, 4096,
	    8, &e), 0);
	assert_int_equal(cfgtree_root(&t)->n, 0);
	cfgtree_free(&t);
	assert_int_equal(cfgtree_read(&t, "p.cfg", "profile", NULL, 1, 4096,
	    8, &e), MUSTER_EINTERNAL);
	cfgtree_free(&t);
}

/*
 * A group of CFGTREE_GROUP_MAX settings reads; one more is refused, as
 * cfgscan refuses it (libconfig's duplicate check is quadratic).
 */
static void
group_max(void **state)
{
	struct muster_err e;
	struct cfgtree t;
	char *buf;
	size_t len = 0;
	int i;

	(void)state;
	buf = malloc(16 * (CFGTREE_GROUP_MAX + 1));
	assert_non_null(buf);
	for (i = 0; i < CFGTREE_GROUP_MAX; i++)
		len += (size_t)sprintf(buf + len, "a%d=1;\n", i);
	assert_int_equal(cfgtree_read(&t, "g.cfg", "file", buf, len,
	    (size_t)-1, 8, &e), 0);
	assert_int_equal(cfgtree_root(&t)->n, CFGTREE_GROUP_MAX);
	assert_non_null(cfgtree_member(&t, cfgtree_root(&t), "a4095"));
	assert_null(cfgtree_member(&t, cfgtree_root(&t), "a4096"));
	cfgtree_free(&t);
	len += (size_t)sprintf(buf + len, "b=1;\n");
	assert_int_equal(cfgtree_read(&t, "g.cfg", "file", buf, len,
	    (size_t)-1, 8, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "g.cfg:4097: more than 4096 settings in "
	    "one group");
	cfgtree_free(&t);
	agrees(buf, len);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corners),
		cmocka_unit_test(shipped),
		cmocka_unit_test(mutants),
		cmocka_unit_test(messages),
		cmocka_unit_test(group_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
