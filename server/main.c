/*
 * muster-server: the command server; the work is in srv.c and friends.
 * `report` and `devices` read the store without serving (cli.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "muster/cli.h"
#include "muster/log.h"
#include "cli.h"
#include "config.h"
#include "migrate.h"
#include "srv.h"

static const char usage_text[] =
"usage: muster-server [--config FILE]\n"
"       muster-server report [--config FILE] [--by unit|rule|model|scope]\n"
"                            [--format table|csv|json] [--as-of TIME]\n"
"       muster-server devices [--config FILE] [--unit UNIT] [--status STATE]\n"
"                             [--format table|csv|json]\n"
"       muster-server migrate [--config FILE] URI\n"
"\n"
"Serves the Muster API (docs/protocol.md) over HTTPS: enrollment, signed\n"
"profiles, compliance reports, administration, /healthz and /metrics.\n"
"report prints the compliance roll-up, devices the personnel devices to\n"
"follow up (see muster-server report --help, devices --help).\n"
"\n"
"options:\n"
"  --config FILE  the configuration (default " CONFIG_DEFAULT_PATH ");\n"
"                 relative paths in it are relative to its directory\n"
"  --help         this text\n"
"  --version      the version\n"
"\n"
"signals: SIGHUP re-reads the org key and the published profiles;\n"
"SIGTERM or SIGINT stop cleanly (every acknowledged write is committed).\n"
"\n"
"exit codes: 0 stopped cleanly, 64 usage, 69 cannot listen,\n"
"            70 internal error, 74 storage error, 78 bad configuration\n";

/* What reads the store without serving (cli.c). */
static const struct cli_cmd_argv cmds[] = {
	{ { "report",	"the compliance roll-up" }, cli_report },
	{ { "devices",	"the personnel devices to follow up" }, cli_devices },
	{ { "migrate",	"the SQLite store into PostgreSQL" }, migrate_cmd },
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = CONFIG_DEFAULT_PATH;
	const struct cli_cmd_argv *cmd;
	struct muster_err e;
	struct config *cfg = NULL;
	struct srv *s = NULL;
	int ch, rc;

	cli_init(SRV_PROG);
	if (argc > 1 && (cmd = CLI_CMD_FIND(cmds, argv[1])) != NULL)
		return cmd->fn(argc - 1, argv + 1);
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
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
	umask(077);
	/* Before any thread starts, so that only sigwait sees them. */
	if ((rc = srv_block_signals(&e)) != 0 ||
	    (rc = config_load(path, &cfg, &e)) != 0)
		return cli_fail(rc, &e);
	log_init(SRV_PROG, cfg->log_syslog, cfg->log_level);
	if ((rc = srv_init(cfg, &s, &e)) != 0 ||
	    (rc = srv_listen(s, &e)) != 0) {
		log_error("%s", e.msg);
		srv_free(s);
		log_close();
		return err_exit_code(rc);
	}
	srv_wait(s);
	srv_free(s);
	log_info("stopped");
	log_close();
	return 0;
}
