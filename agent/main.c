/* muster-agent: global options, then dispatch; see agent/agent.h. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agent.h"

static const struct {
	const char *name;
	int (*fn)(struct agent_opts *, int, char **);
	const char *what;
} cmds[] = {
	{ "trust",	cmd_trust,	"set the trust anchor (air gap): trust [--scope S] ORG.pub" },
	{ "install",	cmd_install,	"install a signed profile from a file: install PROFILE.cfg [SIG]" },
	{ "check",	cmd_check,	"evaluate the installed profiles: check [--json] [--remediate]" },
	{ "status",	cmd_status,	"trust anchor, scope, installed profiles, last check" },
	{ "explain",	cmd_explain,	"every fact read and every field a report carries" },
	{ "enroll",	cmd_enroll,	"enroll with the org's server: enroll BUNDLE [--consent [--report-only]]" },
	{ "run",	cmd_run,	"fetch, check, report; repeat: run [--once] [--foreground]" },
	{ "log",	cmd_log,	"the reports kept on this device, sent and waiting" },
	{ "unenroll",	cmd_unenroll,	"leave: the server deletes this device's data; the state is wiped" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [--state DIR] [--device BACKEND] COMMAND "
	    "[OPTIONS] [ARGS]\n       %s COMMAND --help\n\ncommands:\n",
	    AGENT_PROG, AGENT_PROG);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "\noptions:\n"
	    "  --state DIR       the agent's state (default %s)\n"
	    "  --device BACKEND  sim:FILE, android or android:BINDIR "
	    "(default %s)\n"
	    "  --help            this text\n"
	    "  --version         the version\n\n"
	    "exit codes: 0 ok/compliant, 1 non-compliant, 64 usage, 65 bad "
	    "data,\n"
	    "            66 missing input, 69 server unavailable, 75 queued "
	    "(retry later),\n"
	    "            77 trust failure (signature, pin, revoked), 78 bad "
	    "configuration\n", AGENT_STATE_DEFAULT, AGENT_DEVICE_DEFAULT);
}

int
agent_fail(int rc, const struct muster_err *e)
{
	fprintf(stderr, "%s: %s\n", AGENT_PROG, e->msg);
	return err_exit_code(rc);
}

int
agent_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", AGENT_PROG, cmd != NULL ? " " : "",
	    cmd != NULL ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 64;
}

int
agent_common_opt(struct agent_opts *o, int c)
{
	switch (c) {
	case 'S': o->state = optarg; return 1;
	case 'D': o->device = optarg; return 1;
	}
	return 0;
}

int
agent_getopt(struct agent_opts *o, int argc, char **argv,
    const char *shortopts, const struct option *opts, const char *usage_text,
    int (*fn)(void *, int, const char *), void *arg, int *exitcode)
{
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (agent_common_opt(o, c))
			continue;
		if (c == 'h') {
			fputs(usage_text, stdout);
			*exitcode = 0;
			return -1;
		}
		if (c == '?' || c == ':' || fn == NULL ||
		    fn(arg, c, optarg) != 0) {
			*exitcode = agent_usage(argv[0], "bad option \"%s\" "
			    "(see %s %s --help)", argv[optind - 1], AGENT_PROG,
			    argv[0]);
			return -1;
		}
	}
	return optind;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		AGENT_COMMON_OPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct agent_opts o = { AGENT_STATE_DEFAULT, AGENT_DEVICE_DEFAULT };
	size_t i;
	int c;

	/* Descriptors 0-2 open, so nothing we open lands on them. */
	while ((c = open("/dev/null", O_RDWR)) >= 0 && c <= 2)
		;
	if (c > 2)
		close(c);
	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n",
		    AGENT_PROG);
		return 70;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (agent_common_opt(&o, c))
			continue;
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("%s %s\n", AGENT_PROG, MUSTER_VERSION);
			return 0;
		}
		return agent_usage(NULL, "bad option \"%s\" (see %s --help)",
		    argv[optind - 1], AGENT_PROG);
	}
	if (optind >= argc) {
		usage(stderr);
		return 64;
	}
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[optind], cmds[i].name) == 0)
			return cmds[i].fn(&o, argc - optind, argv + optind);
	return agent_usage(NULL, "unknown command \"%s\" (see %s --help)",
	    argv[optind], AGENT_PROG);
}
