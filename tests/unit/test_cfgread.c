/*
 * cfgread: the field walkers the config readers share.  Each check says
 * what is wrong with a code; cfgread_err names the file and the line.
 */
#include "unit.h"

#include <string.h>

#include <libconfig.h>

#include "muster/cfgread.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(strings),
		cmocka_unit_test(integers_and_bools),
		cmocka_unit_test(lines_and_errors),
	};

	return cmocka_run_group_tests_name("cfgread", tests, setup, teardown);
}
