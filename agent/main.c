/* muster-agent: global options, then dispatch; see agent/cmd.h. */
#include <getopt.h>
#include <stdio.h>

#include "muster/cli.h"
#include "check.h"
#include "cmd.h"
#include "consentcmd.h"
#include "enroll.h"
#include "info.h"
#include "install.h"
#include "leave.h"
#include "run.h"

static const struct agent_cmd {
	struct cli_cmd	c;
	int		(*fn)(struct cmd_opts *, int, char **);
} cmds[] = {
	{ { "trust",	"set the trust anchor (air gap): trust [--scope S] ORG.pub" }, install_cmd_trust },
	{ { "install",	"install a signed profile from a file: install PROFILE.cfg [SIG]" }, install_cmd_install },
	{ { "check",	"evaluate the installed profiles: check [--json] [--remediate]" }, check_cmd },
	{ { "status",	"trust anchor, scope, installed profiles, last check" }, info_cmd_status },
	{ { "explain",	"every fact read and every field a report carries" }, info_cmd_explain },
	{ { "enroll",	"enroll with the org's server: enroll BUNDLE [--consent [--report-only]]" }, enroll_cmd },
	{ { "run",	"fetch, check, report; repeat: run [--once] [--foreground]" }, run_cmd },
	{ { "log",	"the reports kept on this device, sent and waiting" }, info_cmd_log },
	{ { "consent",	"family: agree to a changed profile: consent [--consent [--report-only]]" }, consentcmd },
	{ { "unenroll",	"leave: the server deletes this device's data; the state is wiped" }, leave_cmd },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [--state DIR] [--device BACKEND] COMMAND "
	    "[OPTIONS] [ARGS]\n       %s COMMAND --help\n\ncommands:\n",
	    CMD_PROG, CMD_PROG);
	CLI_CMD_LIST(f, cmds);
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
	    "configuration\n", CMD_STATE_DEFAULT, CMD_DEVICE_DEFAULT);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_opts o = { CMD_STATE_DEFAULT, CMD_DEVICE_DEFAULT };
	const struct agent_cmd *cmd;
	int c;

	cli_init(CMD_PROG);
	/* Descriptors 0-2 open, so nothing we open lands on them. */
	cli_stdio_guard();
	if ((c = cli_sodium_init()) != 0)
		return c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (cmd_common_opt(&o, c))
			continue;
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 'V') {
			printf("%s %s\n", CMD_PROG, MUSTER_VERSION);
			return 0;
		}
		return cli_usage(NULL, "bad option \"%s\" (see %s --help)",
		    argv[optind - 1], CMD_PROG);
	}
	if (optind >= argc) {
		usage(stderr);
		return CLI_EX_USAGE;
	}
	if ((cmd = CLI_CMD_FIND(cmds, argv[optind])) == NULL)
		return cli_cmd_unknown(argv[optind]);
	return cmd->fn(&o, argc - optind, argv + optind);
}
