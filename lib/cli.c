/* cli: command-line plumbing of the three programs; see include/muster/cli.h. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/cli.h"

static const char *prog = "muster";

void
cli_init(const char *name)
{
	prog = name;
}

const char *
cli_prog(void)
{
	return prog;
}

void
cli_stdio_guard(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

int
cli_sodium_init(void)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n", prog);
		return CLI_EX_SOFTWARE;
	}
	return 0;
}

static void
cli_verror(const char *cmd, const char *fmt, va_list ap)
{
	/* One line, even when another thread writes to stderr too. */
	flockfile(stderr);
	if (cmd != NULL)
		fprintf(stderr, "%s %s: ", prog, cmd);
	else
		fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void
cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(cmd, fmt, ap);
	va_end(ap);
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_verror(cmd, fmt, ap);
	va_end(ap);
	return CLI_EX_USAGE;
}

int
cli_fail(int rc, const struct muster_err *e)
{
	cli_error(NULL, "%s", e->msg);
	return err_exit_code(rc);
}

int
cli_getopt(int argc, char **argv, const char *shortopts,
    const struct option *opts, const char *usage,
    int (*fn)(void *, int, const char *), void *arg, int *exitcode)
{
	int c, r;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage, stdout);
			*exitcode = 0;
			return -1;
		}
		r = c == '?' || c == ':' || fn == NULL ? -1 : fn(arg, c, optarg);
		if (r > 0) {
			*exitcode = r;
			return -1;
		}
		if (r != 0) {
			*exitcode = cli_usage(argv[0], "bad option \"%s\" "
			    "(see %s %s --help)", argv[optind - 1], prog,
			    argv[0]);
			return -1;
		}
	}
	return optind;
}

/* What cli_options hands cli_getopt as fn's argument. */
struct cli_options_arg {
	const struct cli_opt	*opts;
	int			(*fn)(void *, int, const char *);
	void			*arg;
};

/* Stores an option where its entry says, else hands it to fn. */
static int
cli_options_take(void *arg, int c, const char *val)
{
	struct cli_options_arg *g = arg;
	const struct cli_opt *o;

	for (o = g->opts; o->name != NULL && o->c != c; o++)
		;
	if (o->name == NULL || (o->arg == NULL && o->flag == NULL &&
	    o->list == NULL))
		return g->fn != NULL ? g->fn(g->arg, c, val) : -1;
	if (o->arg != NULL)
		*o->arg = val;
	else if (o->flag != NULL)
		*o->flag = 1;
	else if (*o->n == o->max)
		return -1;
	else
		o->list[(*o->n)++] = val;
	return 0;
}

int
cli_options(int argc, char **argv, const char *shortopts,
    const struct cli_opt *opts, const char *usage,
    int (*fn)(void *, int, const char *), void *arg, int *exitcode)
{
	struct option lo[CLI_OPTS_MAX + 2];
	struct cli_options_arg g = { opts, fn, arg };
	size_t n;

	for (n = 0; opts[n].name != NULL; n++) {
		if (n == CLI_OPTS_MAX) {
			cli_error(argv[0], "more than %d options", CLI_OPTS_MAX);
			*exitcode = CLI_EX_SOFTWARE;
			return -1;
		}
		lo[n].name = opts[n].name;
		lo[n].has_arg = opts[n].has_arg;
		lo[n].flag = NULL;
		lo[n].val = opts[n].c;
	}
	lo[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	return cli_getopt(argc, argv, shortopts, lo, usage, cli_options_take,
	    &g, exitcode);
}

int
cli_options_operand(int argc, char **argv, const char *shortopts,
    const struct cli_opt *opts, const char *usage,
    int (*fn)(void *, int, const char *), void *arg, const char *what,
    int *exitcode)
{
	int k;

	if ((k = cli_options(argc, argv, shortopts, opts, usage, fn, arg,
	    exitcode)) < 0)
		return -1;
	if (what != NULL && argc - k != 1)
		*exitcode = cli_usage(argv[0], "expected one %s", what);
	else if (what == NULL && k != argc)
		*exitcode = cli_usage(argv[0], "unexpected argument \"%s\"",
		    argv[k]);
	else
		return k;
	return -1;
}

const void *
cli_cmd_find(const void *table, size_t n, size_t size, const char *name)
{
	const char *row = table;
	size_t i;

	for (i = 0; i < n; i++, row += size)
		if (strcmp(((const struct cli_cmd *)row)->name, name) == 0)
			return row;
	return NULL;
}

void
cli_cmd_list(FILE *f, const void *table, size_t n, size_t size)
{
	const char *row;
	size_t i, len, longest = 0;

	for (i = 0, row = table; i < n; i++, row += size)
		if ((len = strlen(((const struct cli_cmd *)row)->name)) >
		    longest)
			longest = len;
	for (i = 0, row = table; i < n; i++, row += size)
		fprintf(f, "  %-*s %s\n", (int)longest + 1,
		    ((const struct cli_cmd *)row)->name,
		    ((const struct cli_cmd *)row)->what);
}

int
cli_cmd_unknown(const char *name)
{
	return cli_usage(NULL, "unknown command \"%s\" (see %s --help)", name,
	    prog);
}
