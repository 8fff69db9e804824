/*
 * cfgread: the field walkers the config readers share.  Each check says
 * what is wrong with a code; cfgread_err names the file and the line.
 */
#include "unit.h"

#include <string.h>

#include <libconfig.h>

#include "muster/buf.h"
#include "muster/cfgread.h"
#include "muster/cfgscan.h"

static const char text[] =
    "s = \"hello\";\n"
    "empty = \"\";\n"
    "i = 42;\n"
    "big = 5000000000L;\n"
    "neg = -7;\n"
    "b = true;\n"
    "f = false;\n"
    "g = { x = 1; };\n"
    "fl = 1.5;\n";

static int
setup(void **state)
{
	static config_t cfg;

	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE)
		return -1;
	*state = &cfg;
	return 0;
}

static int
teardown(void **state)
{
	config_destroy(*state);
	return 0;
}

static config_setting_t *
get(void **state, const char *name)
{
	return config_lookup(*state, name);
}

static void
strings(void **state)
{
	const char *v = NULL;
	char buf[6];

	assert_int_equal(cfgread_str(get(state, "s"), 6, &v), 0);
	assert_string_equal(v, "hello");
	assert_int_equal(cfgread_str(get(state, "s"), 5, &v), CFGREAD_ELONG);
	assert_int_equal(cfgread_str(get(state, "empty"), 1, &v), 0);
	assert_string_equal(v, "");
	assert_int_equal(cfgread_str(get(state, "i"), 6, &v), CFGREAD_ETYPE);
	assert_int_equal(cfgread_str(get(state, "g"), 6, &v), CFGREAD_ETYPE);
	assert_int_equal(cfgread_str(NULL, 6, &v), CFGREAD_ETYPE);
	assert_int_equal(cfgread_str_copy(get(state, "s"), buf, sizeof buf),
	    0);
	assert_string_equal(buf, "hello");
	assert_int_equal(cfgread_str_copy(get(state, "s"), buf, 5),
	    CFGREAD_ELONG);
	assert_string_equal(buf, "");
	strcpy(buf, "junk");
	assert_int_equal(cfgread_str_copy(get(state, "b"), buf, sizeof buf),
	    CFGREAD_ETYPE);
	assert_string_equal(buf, "");
}

static void
integers_and_bools(void **state)
{
	long long v = 0;
	int b = -1;

	assert_int_equal(cfgread_int(get(state, "i"), 1, 65535, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(cfgread_int(get(state, "i"), 43, 65535, &v),
	    CFGREAD_ERANGE);
	assert_int_equal(v, 42);
	assert_int_equal(cfgread_int(get(state, "i"), 0, 41, &v),
	    CFGREAD_ERANGE);
	assert_int_equal(cfgread_int(get(state, "big"), 0, INT64_MAX, &v), 0);
	assert_true(v == 5000000000LL);
	assert_int_equal(cfgread_int(get(state, "big"), 0, 2147483647, &v),
	    CFGREAD_ERANGE);
	assert_int_equal(cfgread_int(get(state, "neg"), 0, 10, &v),
	    CFGREAD_ERANGE);
	assert_int_equal(v, -7);
	v = 9;
	assert_int_equal(cfgread_int(get(state, "s"), 0, 10, &v),
	    CFGREAD_ETYPE);
	assert_int_equal(cfgread_int(get(state, "fl"), 0, 10, &v),
	    CFGREAD_ETYPE);
	assert_int_equal(cfgread_int(get(state, "b"), 0, 10, &v),
	    CFGREAD_ETYPE);
	assert_int_equal(cfgread_int(NULL, 0, 10, &v), CFGREAD_ETYPE);
	assert_int_equal(v, 9);
	assert_int_equal(cfgread_bool(get(state, "b"), &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(cfgread_bool(get(state, "f"), &b), 0);
	assert_int_equal(b, 0);
	assert_int_equal(cfgread_bool(get(state, "i"), &b), CFGREAD_ETYPE);
	assert_int_equal(cfgread_bool(NULL, &b), CFGREAD_ETYPE);
}

static void
lines_and_errors(void **state)
{
	struct muster_err e;

	assert_int_equal(cfgread_line(get(state, "s")), 1);
	assert_int_equal(cfgread_line(get(state, "b")), 6);
	assert_int_equal(cfgread_line(config_root_setting((config_t *)*state)), 0);
	assert_int_equal(cfgread_line(NULL), 0);
	assert_int_equal(cfgread_err(&e, MUSTER_ECONFIG, "server.cfg",
	    get(state, "i"), "\"%s\" = %d is out of range", "i", 42),
	    MUSTER_ECONFIG);
	assert_int_equal(e.code, MUSTER_ECONFIG);
	assert_string_equal(e.msg, "server.cfg:3: \"i\" = 42 is out of range");
	assert_int_equal(cfgread_err(&e, MUSTER_EDATA, "b.cfg", NULL,
	    "missing \"%s\"", "token"), MUSTER_EDATA);
	assert_string_equal(e.msg, "b.cfg: missing \"token\"");
	assert_int_equal(cfgread_err(NULL, MUSTER_EDATA, "b.cfg", NULL, "x"),
	    MUSTER_EDATA);
	assert_string_equal(cfgread_type_name(CONFIG_TYPE_STRING), "a string");
	assert_string_equal(cfgread_type_name(CONFIG_TYPE_INT64),
	    "an integer");
	assert_string_equal(cfgread_type_name(CONFIG_TYPE_GROUP),
	    "a group { ... }");
	assert_string_equal(cfgread_type_name(CONFIG_TYPE_BOOL),
	    "true or false");
	assert_string_equal(cfgread_type_name(-1), "something else");
}

/* The strict walkers of a signed document: every message names a line. */
static void
doc_walkers(void **state)
{
	static const char *const names[] = { "type", "version", NULL };
	static const char doc[] =
	    "type = \"muster-x\";\n"
	    "version = 3;\n"
	    "expires = \"2031-01-02T03:04:05Z\";\n";
	struct muster_err e;
	struct cfgread_doc d = { "x.cfg", &e };
	config_t cfg;
	config_setting_t *top = config_root_setting((config_t *)*state);
	int64_t v = 0;
	time_t t = 0;
	int rc = 1;

	assert_int_equal(cfgread_line1(top), 1);
	assert_int_equal(cfgread_line1(get(state, "b")), 6);
	assert_int_equal(cfgread_in(names, "version"), 1);
	assert_int_equal(cfgread_in(names, "expires"), 0);
	assert_int_equal(cfgread_doc_err(&d, NULL, "%s", "bad"), MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:1: bad");
	assert_int_equal(cfgread_doc_known(&d, top, NULL, names), MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:1: unknown field \"s\"");
	assert_int_equal(cfgread_doc_known(&d, get(state, "g"), "g",
	    names), MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:8: g: unknown field \"x\"");
	assert_null(cfgread_doc_member(&d, top, NULL, "nope",
	    CONFIG_TYPE_STRING, "a string", &rc));
	assert_int_equal(rc, MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:1: missing field \"nope\"");
	assert_null(cfgread_doc_member(&d, top, "top", "s", CONFIG_TYPE_INT,
	    "an integer", &rc));
	assert_string_equal(e.msg, "x.cfg:1: top: field \"s\" must be an "
	    "integer");
	assert_non_null(cfgread_doc_member(&d, top, NULL, "big",
	    CONFIG_TYPE_INT, "an integer", &rc));
	assert_int_equal(rc, 0);

	config_init(&cfg);
	assert_int_equal(cfgscan_read_doc(&cfg, "x.cfg", "doc", doc,
	    strlen(doc), 1024, 1, &e), 0);
	top = config_root_setting(&cfg);
	assert_int_equal(cfgread_doc_type(&d, top, "muster-x"), 0);
	assert_int_equal(cfgread_doc_type(&d, top, "muster-y"), MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:1: type must be \"muster-y\"");
	assert_int_equal(cfgread_doc_version(&d, top, 5, &v, &t), 0);
	assert_int_equal(v, 3);
	assert_int_equal(t, 1925089445);
	assert_int_equal(cfgread_doc_version(&d, top, 2, &v, &t),
	    MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:2: version 3 out of range (1 to 2)");
	config_destroy(&cfg);
}

/* A string member: its text and its setting, or the member's errors. */
static void
doc_string(void **state)
{
	struct muster_err e;
	struct cfgread_doc d = { "x.cfg", &e };
	config_setting_t *top = config_root_setting((config_t *)*state);
	config_setting_t *s = NULL;
	const char *v;
	int rc = 1;

	assert_non_null(v = cfgread_doc_string(&d, top, NULL, "s", &s, &rc));
	assert_string_equal(v, "hello");
	assert_int_equal(rc, 0);
	assert_ptr_equal(s, get(state, "s"));
	assert_non_null(v = cfgread_doc_string(&d, top, NULL, "empty", &s,
	    &rc));
	assert_string_equal(v, "");
	assert_null(cfgread_doc_string(&d, top, "top", "nope", &s, &rc));
	assert_null(s);
	assert_int_equal(rc, MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:1: top: missing field \"nope\"");
	/* Not a string, even one libconfig could print as one. */
	assert_null(cfgread_doc_string(&d, top, NULL, "b", &s, &rc));
	assert_int_equal(rc, MUSTER_EDATA);
	assert_string_equal(e.msg, "x.cfg:6: field \"b\" must be a string");
	assert_null(cfgread_doc_string(&d, top, "g", "g", &s, &rc));
	assert_string_equal(e.msg, "x.cfg:8: g: field \"g\" must be a "
	    "string");
}

/* The gates before libconfig: empty, too large, a NULL buffer. */
static void
scan_gates(void **state)
{
	struct muster_err e;
	config_t cfg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfgscan_read_doc(&cfg, "r.cfg", "root", "", 0, 10, 1,
	    &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "r.cfg: empty root");
	assert_int_equal(cfgscan_read_doc(&cfg, "r.cfg", "root", "a = 1;", 6,
	    5, 1, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "r.cfg: 6 bytes, more than the limit of 5");
	assert_int_equal(cfgscan_read_max(&cfg, "p.cfg", "profile", NULL, 3,
	    10, 1, &e), MUSTER_EINTERNAL);
	assert_string_equal(e.msg, "p.cfg: no buffer");
	assert_int_equal(cfgscan_read_max(&cfg, "p.cfg", "profile", NULL, 0,
	    10, 1, &e), 0);
	config_destroy(&cfg);
	assert_int_equal(err_at(&e, MUSTER_EIO, "f", 7, "%d", 42),
	    MUSTER_EIO);
	assert_int_equal(e.code, MUSTER_EIO);
	assert_string_equal(e.msg, "f:7: 42");
}

/* A document kind for cfgread_doc_load and cfgread_doc_emit. */
struct thing {
	int64_t	version;
	time_t	expires;
	char	name[16];
};

static int
thing_parse(const struct cfgread_doc *d, const config_setting_t *top,
    void *obj)
{
	struct thing *t = obj;
	config_setting_t *s;
	const char *v;
	int rc;

	if ((rc = cfgread_doc_version(d, top, 9, &t->version,
	    &t->expires)) != 0)
		return rc;
	if ((v = cfgread_doc_string(d, top, NULL, "name", &s, &rc)) == NULL)
		return rc;
	if (strlen(v) >= sizeof t->name)
		return cfgread_doc_err(d, s, "name too long");
	memcpy(t->name, v, strlen(v) + 1);
	return 0;
}

static const char *const thing_fields[] = {
	"type", "version", "expires", "name", NULL,
};
static const struct cfgread_kind thing_kind = {
	"thing", 512, 1, thing_fields, "muster-thing", thing_parse,
	sizeof(struct thing)
};

/* 1 if the n bytes at p are all zero. */
static int
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i] != 0)
			return 0;
	return 1;
}

/*
 * A kind's fields and type are checked before its parse, a failed read
 * leaves the object all zeroes (even what parse had filled), and emit
 * hands out only text that was written whole and reads back.
 */
static void
doc_kind(void **state)
{
	static const char good[] = "type = \"muster-thing\";\nversion = 2;\n"
	    "expires = \"2031-01-02T03:04:05Z\";\nname = \"abc\";\n";
	static const char extra[] = "type = \"muster-thing\";\nversion = 2;\n"
	    "expires = \"2031-01-02T03:04:05Z\";\nname = \"abc\";\nx = 1;\n";
	static const char wrongtype[] = "type = \"muster-other\";\n"
	    "version = 2;\nexpires = \"2031-01-02T03:04:05Z\";\n"
	    "name = \"abc\";\n";
	static const char noname[] = "type = \"muster-thing\";\n"
	    "version = 2;\nexpires = \"2031-01-02T03:04:05Z\";\n";
	struct muster_err e;
	struct thing t, back;
	struct buf b;
	char *out = NULL;
	size_t outlen = 0;

	(void)state;
	memset(&t, 0x5a, sizeof t);
	assert_int_equal(cfgread_doc_load(&thing_kind, "t.cfg", good,
	    strlen(good), &t, &e), 0);
	assert_int_equal(t.version, 2);
	assert_int_equal(t.expires, 1925089445);
	assert_string_equal(t.name, "abc");

	memset(&t, 0x5a, sizeof t);
	assert_int_equal(cfgread_doc_load(&thing_kind, "t.cfg", extra,
	    strlen(extra), &t, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "t.cfg:5: unknown field \"x\"");
	assert_true(all_zero(&t, sizeof t));
	assert_int_equal(cfgread_doc_load(&thing_kind, NULL, wrongtype,
	    strlen(wrongtype), &t, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "thing:1: type must be \"muster-thing\"");
	/* parse had stored the version when the name was found missing. */
	memset(&t, 0x5a, sizeof t);
	assert_int_equal(cfgread_doc_load(&thing_kind, "t.cfg", noname,
	    strlen(noname), &t, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "t.cfg:1: missing field \"name\"");
	assert_true(all_zero(&t, sizeof t));
	/* Truncated: the document cut before its last member. */
	assert_int_equal(cfgread_doc_load(&thing_kind, "t.cfg", good,
	    strlen(good) - 14, &t, &e), MUSTER_EDATA);
	assert_true(all_zero(&t, sizeof t));
	/* Oversized: more than the kind's max bytes, refused before libconfig. */
	{
		char big[600];

		memset(big, ' ', sizeof big);
		memcpy(big, good, strlen(good));
		assert_int_equal(cfgread_doc_load(&thing_kind, "t.cfg", big,
		    sizeof big, &t, &e), MUSTER_EDATA);
		assert_string_equal(e.msg, "t.cfg: 600 bytes, more than the "
		    "limit of 512");
	}

	buf_init(&b, BUF_UNBOUNDED);
	buf_printf(&b, "%s", good);
	assert_int_equal(cfgread_doc_emit(&thing_kind, &b, &back, &out,
	    &outlen, &e), 0);
	assert_non_null(out);
	assert_int_equal(outlen, strlen(good));
	assert_string_equal(out, good);
	free(out);
	out = NULL;
	buf_free(&b);

	buf_init(&b, BUF_UNBOUNDED);
	buf_printf(&b, "%s", noname);
	assert_int_equal(cfgread_doc_emit(&thing_kind, &b, &back, &out,
	    &outlen, &e), MUSTER_EUSAGE);
	assert_string_equal(e.msg, "new thing:1: missing field \"name\"");
	assert_null(out);
	buf_free(&b);

	buf_init(&b, 10);
	buf_printf(&b, "%s", good);
	assert_int_equal(cfgread_doc_emit(&thing_kind, &b, &back, &out,
	    &outlen, &e), MUSTER_EINTERNAL);
	assert_string_equal(e.msg, "thing longer than expected");
	assert_null(out);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strings),
		cmocka_unit_test(integers_and_bools),
		cmocka_unit_test(lines_and_errors),
		cmocka_unit_test(doc_walkers),
		cmocka_unit_test(doc_string),
		cmocka_unit_test(scan_gates),
		cmocka_unit_test(doc_kind),
	};

	return cmocka_run_group_tests_name("cfgread", tests, setup, teardown);
}
