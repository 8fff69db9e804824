/*
 * Unit tests for lib/cli.c: the subcommand table finds its rows and lists
 * them in the programs' layout, cli_getopt hands options over and prints
 * --help and the one-line bad-option error the programs always printed,
 * cli_options stores each option where its table says, and cli_fail/
 * cli_usage print one line and return the exit code.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/cli.h"
#include "muster/err.h"

static int
cmd_a(int argc, char **argv)
{
	(void)argv;
	return 10 + argc;
}

static int
cmd_b(int argc, char **argv)
{
	(void)argv;
	return 20 + argc;
}

static const struct cli_cmd_argv cmds[] = {
	{ { "alpha",	"the first" }, cmd_a },
	{ { "be",	"the second" }, cmd_b },
};

/* What fd (1 or 2) received while fn(arg) ran; malloc'd, the caller's. */
static char *
capture(int fd, void (*fn)(void *), void *arg)
{
	FILE *tmp = tmpfile();
	char *buf;
	long n;
	int saved;

	assert_non_null(tmp);
	fflush(fd == 1 ? stdout : stderr);
	saved = dup(fd);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), fd) == fd);
	fn(arg);
	fflush(fd == 1 ? stdout : stderr);
	assert_true(dup2(saved, fd) == fd);
	close(saved);
	n = ftell(tmp);
	assert_true(n >= 0);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	rewind(tmp);
	assert_int_equal(fread(buf, 1, (size_t)n, tmp), (size_t)n);
	fclose(tmp);
	return buf;
}

static void
table_find(void **state)
{
	const struct cli_cmd_argv *c;
	char *argv[] = { "be", "x", NULL };

	(void)state;
	c = CLI_CMD_FIND(cmds, "be");
	assert_non_null(c);
	assert_ptr_equal(c, &cmds[1]);
	assert_int_equal(c->fn(2, argv), 22);
	assert_ptr_equal(CLI_CMD_FIND(cmds, "alpha"), &cmds[0]);
	assert_null(CLI_CMD_FIND(cmds, "alph"));
	assert_null(CLI_CMD_FIND(cmds, "alphabet"));
	assert_null(CLI_CMD_FIND(cmds, ""));
}

static void
list_to(void *arg)
{
	CLI_CMD_LIST(stdout, cmds);
	(void)arg;
}

/* Names padded to one more than the longest, as the usage texts were. */
static void
table_list(void **state)
{
	char *out;

	(void)state;
	out = capture(1, list_to, NULL);
	assert_string_equal(out, "  alpha  the first\n  be     the second\n");
	free(out);
}

struct opt_run {
	int	argc;
	char	**argv;
	int	k, ex;
	int	seen_x;
	const char *seen_n;
};

static int
opt_fn(void *arg, int c, const char *val)
{
	struct opt_run *r = arg;

	switch (c) {
	case 'x': r->seen_x = 1; return 0;
	case 'n': r->seen_n = val; return 0;
	case 'm': return cli_usage("t", "at most %d --many", 0);
	}
	return -1;	/* 'b' is in opts but refused here */
}

static void
opt_call(void *arg)
{
	static const struct option opts[] = {
		{ "ex", no_argument, NULL, 'x' },
		{ "name", required_argument, NULL, 'n' },
		{ "bad", no_argument, NULL, 'b' },
		{ "many", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opt_run *r = arg;

	r->k = cli_getopt(r->argc, r->argv, "", opts, "usage: t\n", opt_fn, r,
	    &r->ex);
}

static void
getopt_ok(void **state)
{
	char *argv[] = { "t", "--ex", "--name", "N", "op", NULL };
	struct opt_run r = { 5, argv, 0, -1, 0, NULL };
	char *err;

	(void)state;
	cli_init("muster-test");
	err = capture(2, opt_call, &r);
	assert_string_equal(err, "");
	assert_int_equal(r.k, 4);
	assert_int_equal(r.seen_x, 1);
	assert_string_equal(r.seen_n, "N");
	free(err);
}

static void
getopt_help(void **state)
{
	char *argv[] = { "t", "--help", "--bogus", NULL };
	struct opt_run r = { 3, argv, 0, -1, 0, NULL };
	char *out;

	(void)state;
	cli_init("muster-test");
	out = capture(1, opt_call, &r);
	assert_string_equal(out, "usage: t\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 0);
	free(out);
}

static void
getopt_bad(void **state)
{
	char *unknown[] = { "t", "--bogus", NULL };
	char *refused[] = { "t", "--bad", NULL };
	char *missing[] = { "t", "--name", NULL };
	struct opt_run r = { 2, unknown, 0, -1, 0, NULL };
	char *err;

	(void)state;
	cli_init("muster-test");
	err = capture(2, opt_call, &r);
	assert_string_equal(err, "muster-test t: bad option \"--bogus\" "
	    "(see muster-test t --help)\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 64);
	free(err);

	r.argv = refused;
	r.ex = -1;
	err = capture(2, opt_call, &r);
	assert_string_equal(err, "muster-test t: bad option \"--bad\" "
	    "(see muster-test t --help)\n");
	assert_int_equal(r.ex, 64);
	free(err);

	r.argv = missing;
	r.ex = -1;
	err = capture(2, opt_call, &r);
	assert_string_equal(err, "muster-test t: bad option \"--name\" "
	    "(see muster-test t --help)\n");
	assert_int_equal(r.ex, 64);
	free(err);
}

/* An option whose handler prints its own usage error: that one line only. */
static void
getopt_own_message(void **state)
{
	char *argv[] = { "t", "--many", "--bogus", NULL };
	struct opt_run r = { 3, argv, 0, -1, 0, NULL };
	char *err;

	(void)state;
	cli_init("muster-test");
	err = capture(2, opt_call, &r);
	assert_string_equal(err, "muster-test t: at most 0 --many\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 64);
	free(err);
}

/* What a cli_options table fills in. */
struct table_run {
	int		argc;
	char		**argv;
	int		k, ex;
	const char	*name, *list[2];
	size_t		n;
	int		flag, fn_seen;
};

static int
table_fn(void *arg, int c, const char *val)
{
	struct table_run *r = arg;

	(void)val;
	if (c != 'f')
		return -1;
	r->fn_seen++;
	return 0;
}

static void
table_call(void *arg)
{
	struct table_run *r = arg;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("name", 'n', &r->name),
		CLI_OPT_FLAG("flag", 'x', &r->flag),
		CLI_OPT_LIST("item", 'i', r->list, r->n),
		CLI_OPT_FN("fn", 'f', no_argument),
		CLI_OPT_FN("other", 'o', no_argument),
		CLI_OPT_END,
	};

	r->k = cli_options(r->argc, r->argv, "n:", opts, "usage: t\n",
	    table_fn, r, &r->ex);
}

static void
options_store(void **state)
{
	char *argv[] = { "t", "-n", "A", "--flag", "--item", "1", "--fn",
	    "--item", "2", "--name", "B", "op", NULL };
	char *help[] = { "t", "--help", NULL };
	struct table_run r;
	char *out;

	(void)state;
	cli_init("muster-test");
	memset(&r, 0, sizeof r);
	r.argc = 12;
	r.argv = argv;
	out = capture(2, table_call, &r);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(r.k, 11);
	assert_string_equal(r.name, "B");
	assert_int_equal(r.flag, 1);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.list[0], "1");
	assert_string_equal(r.list[1], "2");
	assert_int_equal(r.fn_seen, 1);

	memset(&r, 0, sizeof r);
	r.argc = 2;
	r.argv = help;
	out = capture(1, table_call, &r);
	assert_string_equal(out, "usage: t\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 0);
	free(out);
}

static void
options_bad(void **state)
{
	char *full[] = { "t", "--item", "1", "--item", "2", "--item", "3",
	    NULL };
	char *refused[] = { "t", "--other", NULL };
	struct table_run r;
	char *err;

	(void)state;
	cli_init("muster-test");
	/* One more than the list holds: the bad option, named as ever. */
	memset(&r, 0, sizeof r);
	r.argc = 7;
	r.argv = full;
	err = capture(2, table_call, &r);
	assert_string_equal(err, "muster-test t: bad option \"3\" "
	    "(see muster-test t --help)\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 64);
	assert_int_equal(r.n, 2);
	free(err);

	memset(&r, 0, sizeof r);
	r.argc = 2;
	r.argv = refused;
	err = capture(2, table_call, &r);
	assert_string_equal(err, "muster-test t: bad option \"--other\" "
	    "(see muster-test t --help)\n");
	assert_int_equal(r.ex, 64);
	free(err);
}

/* cli_options_operand with r->name as the operand's name (NULL: none). */
static void
operand_call(void *arg)
{
	struct table_run *r = arg;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG("flag", 'x', &r->flag),
		CLI_OPT_END,
	};

	r->k = cli_options_operand(r->argc, r->argv, "", opts, "usage: t\n",
	    NULL, NULL, r->name, &r->ex);
}

static void
options_operand(void **state)
{
	char *one[] = { "publish", "--flag", "p.cfg", NULL };
	char *two[] = { "publish", "a.cfg", "b.cfg", NULL };
	char *none[] = { "init", "--flag", NULL };
	char *extra[] = { "init", "--flag", "stray", NULL };
	char *bad[] = { "init", "--nope", NULL };
	char *help[] = { "init", "--help", "stray", NULL };
	struct table_run r;
	char *err;

	(void)state;
	cli_init("muster-test");
	/* Exactly one operand: its index. */
	memset(&r, 0, sizeof r);
	r.argc = 3;
	r.argv = one;
	r.name = "PROFILE.cfg";
	err = capture(2, operand_call, &r);
	assert_string_equal(err, "");
	assert_int_equal(r.k, 2);
	assert_int_equal(r.flag, 1);
	free(err);
	/* Two, or none, where one is wanted: the usage line, 64. */
	r.argc = 3;
	r.argv = two;
	err = capture(2, operand_call, &r);
	assert_string_equal(err, "muster-test publish: expected one "
	    "PROFILE.cfg\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 64);
	free(err);
	r.argc = 1;
	err = capture(2, operand_call, &r);
	assert_string_equal(err, "muster-test publish: expected one "
	    "PROFILE.cfg\n");
	assert_int_equal(r.ex, 64);
	free(err);

	/* No operand wanted: argc back, or the stray one named. */
	memset(&r, 0, sizeof r);
	r.argc = 2;
	r.argv = none;
	err = capture(2, operand_call, &r);
	assert_string_equal(err, "");
	assert_int_equal(r.k, 2);
	free(err);
	r.argc = 3;
	r.argv = extra;
	err = capture(2, operand_call, &r);
	assert_string_equal(err, "muster-test init: unexpected argument "
	    "\"stray\"\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 64);
	free(err);
	/* A bad option and --help stop before any operand is counted. */
	r.argc = 2;
	r.argv = bad;
	err = capture(2, operand_call, &r);
	assert_string_equal(err, "muster-test init: bad option \"--nope\" "
	    "(see muster-test init --help)\n");
	assert_int_equal(r.ex, 64);
	free(err);
	r.argc = 3;
	r.argv = help;
	err = capture(1, operand_call, &r);
	assert_string_equal(err, "usage: t\n");
	assert_int_equal(r.k, -1);
	assert_int_equal(r.ex, 0);
	free(err);
}

static void
fail_call(void *arg)
{
	struct muster_err e;

	err_set(&e, MUSTER_ETRUST, "x.cfg:3: bad signature");
	*(int *)arg = cli_fail(MUSTER_ETRUST, &e);
}

static void
usage_call(void *arg)
{
	*(int *)arg = cli_usage(NULL, "unknown command \"%s\"", "zz") +
	    cli_usage("sub", "expected %d", 1) + cli_cmd_unknown("yy");
}

static void
messages(void **state)
{
	char *err;
	int rc = 0;

	(void)state;
	cli_init("muster-test");
	assert_string_equal(cli_prog(), "muster-test");
	err = capture(2, fail_call, &rc);
	assert_string_equal(err, "muster-test: x.cfg:3: bad signature\n");
	assert_int_equal(rc, 77);
	free(err);
	err = capture(2, usage_call, &rc);
	assert_string_equal(err, "muster-test: unknown command \"zz\"\n"
	    "muster-test sub: expected 1\n"
	    "muster-test: unknown command \"yy\" (see muster-test --help)\n");
	assert_int_equal(rc, 3 * 64);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_find),
		cmocka_unit_test(table_list),
		cmocka_unit_test(getopt_ok),
		cmocka_unit_test(getopt_help),
		cmocka_unit_test(getopt_bad),
		cmocka_unit_test(getopt_own_message),
		cmocka_unit_test(options_store),
		cmocka_unit_test(options_bad),
		cmocka_unit_test(options_operand),
		cmocka_unit_test(messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
