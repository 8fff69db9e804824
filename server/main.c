/*
 * muster-server: the command server; serving is serve.c (then srv.c and
 * friends), each command a function of the module whose job it is.
 */
#include <getopt.h>
#include <stdio.h>

#include "muster/cli.h"
#include "admincmd.h"
#include "cli.h"
#include "config.h"
#include "histcmd.h"
#include "migrate.h"
#include "serve.h"
#include "srv.h"

static const char usage_text[] =
"usage: muster-server [-n] [--config FILE]\n"
"       muster-server report [--config FILE] [--by unit|rule|model|scope]\n"
"                            [--format table|csv|json] [--as-of TIME]\n"
"       muster-server devices [--config FILE] [--unit UNIT] [--status STATE]\n"
"                             [--format table|csv|json]\n"
"       muster-server migrate [--config FILE] URI\n"
"       muster-server admin add|list|rotate|remove ...   (admin --help)\n"
"       muster-server audit verify|show|rekey ...        (audit --help)\n"
"       muster-server history [--config FILE] [--format table|json]\n"
"                             [--proof SEQ] DEVICE   (history --help)\n"
"       muster-server verify-report PROOF\n"
"\n"
"Serves the Muster API (docs/protocol.md) over HTTPS: enrollment, signed\n"
"profiles and compliance reports on the device listeners (listen),\n"
"administration, /metrics and the console on the admin listeners\n"
"(admin_listen; without it 127.0.0.1 on the port after `port`, with a\n"
"warning), /healthz on both.  Started as root, it binds, then becomes its user\n"
"(user, default muster) for good.\n"
"report prints the compliance roll-up, devices the personnel devices to\n"
"follow up (see muster-server report --help, devices --help).\n"
"\n"
"options:\n"
"  --config FILE  the configuration (default " CONFIG_DEFAULT_PATH ");\n"
"                 relative paths in it are relative to its directory\n"
"  -n, --check    load everything a start would (configuration, TLS key\n"
"                 and certificate and their match, the store, the roots\n"
"                 or org key, the profiles), bind nothing, and exit\n"
"  --help         this text\n"
"  --version      the version\n"
"\n"
"signals: SIGHUP reloads the configuration, TLS certificate and key,\n"
"limits, log level, roots or org key and profiles without\n"
"dropping a connection (a bad new configuration is refused and the old\n"
"one keeps serving); SIGTERM or SIGINT stop cleanly (every acknowledged\n"
"write is committed).\n"
"\n"
"exit codes: 0 stopped cleanly, 64 usage, 69 cannot listen,\n"
"            70 internal error, 74 storage error, 78 bad configuration\n";

/* What reads the store without serving (cli.c). */
static const struct cli_cmd_argv cmds[] = {
	{ { "report",	"the compliance roll-up" }, cli_report },
	{ { "devices",	"the personnel devices to follow up" }, cli_devices },
	{ { "migrate",	"the SQLite store into PostgreSQL" }, migrate_cmd },
	{ { "admin",	"named administrators: add, list, rotate, remove" },
	    admincmd_admin },
	{ { "audit",	"the audit log: verify, show" }, admincmd_audit },
	{ { "backup",	"an online copy of the store (0600)" }, cli_backup },
	{ { "history",	"a device's status changes, signatures checked" },
	    histcmd_history },
	{ { "verify-report", "a stored report's proof file checked" },
	    histcmd_verify },
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	const struct cli_cmd_argv *cmd;
	int ch, rc, check = 0;

	cli_init(SRV_PROG);
	if (argc > 1 && (cmd = CLI_CMD_FIND(cmds, argv[1])) != NULL)
		return cmd->fn(argc - 1, argv + 1);
	while ((ch = getopt_long(argc, argv, "c:n", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("%s %s\n", SRV_PROG, MUSTER_VERSION);
			return 0;
		default:
			return cli_usage(NULL, "bad option (see %s --help)",
			    SRV_PROG);
		}
	}
	if (optind != argc)
		return cli_usage(NULL, "unexpected argument \"%s\" (see %s "
		    "--help)", argv[optind], SRV_PROG);
	if ((rc = cli_sodium_init()) != 0)
		return rc;
	return check ? serve_check(path) : serve_run(path);
}
