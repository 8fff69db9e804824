/* cmd: the options every agent command shares; see agent/cmd.h. */
#include <getopt.h>
#include <stddef.h>

#include "muster/cli.h"
#include "cmd.h"

/* What cmd_getopt hands cli_getopt as fn's argument. */
struct cmd_getopt_arg {
	struct cmd_opts	*o;
	int			(*fn)(void *, int, const char *);
	void			*arg;
};

int
cmd_common_opt(struct cmd_opts *o, int c)
{
	switch (c) {
	case 'S': o->state = optarg; return 1;
	case 'D': o->device = optarg; return 1;
	}
	return 0;
}

/* The common options first, then the command's own. */
static int
cmd_opt(void *arg, int c, const char *val)
{
	struct cmd_getopt_arg *g = arg;

	if (cmd_common_opt(g->o, c))
		return 0;
	if (g->fn == NULL)
		return -1;
	return g->fn(g->arg, c, val);
}

int
cmd_getopt(struct cmd_opts *o, int argc, char **argv,
    const char *shortopts, const struct option *opts, const char *usage,
    int (*fn)(void *, int, const char *), void *arg, int *exitcode)
{
	struct cmd_getopt_arg g = { o, fn, arg };

	return cli_getopt(argc, argv, shortopts, opts, usage, cmd_opt, &g,
	    exitcode);
}

int
cmd_getopt_noargs(struct cmd_opts *o, int argc, char **argv,
    const char *shortopts, const struct option *opts, const char *usage,
    int (*fn)(void *, int, const char *), void *arg, int *exitcode)
{
	int k;

	if ((k = cmd_getopt(o, argc, argv, shortopts, opts, usage, fn, arg,
	    exitcode)) < 0)
		return -1;
	if (k != argc) {
		*exitcode = cli_usage(argv[0], "unexpected argument \"%s\"",
		    argv[k]);
		return -1;
	}
	return 0;
}

int
cmd_flag_opt(void *arg, int c, const char *val)
{
	const struct cmd_flag *f;

	(void)val;
	for (f = arg; f->set != NULL; f++)
		if (f->c == c) {
			*f->set = 1;
			return 0;
		}
	return -1;
}

const struct option cmd_common_opts[] = {
	CMD_COMMON_OPTS,
	{ NULL, 0, NULL, 0 },
};

const struct option cmd_consent_opts[] = {
	CMD_COMMON_OPTS,
	{ "consent", no_argument, NULL, 'c' },
	{ "report-only", no_argument, NULL, 'r' },
	{ NULL, 0, NULL, 0 },
};
