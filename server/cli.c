/* cli: `muster-server report` and `muster-server devices`; see cli.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "muster/cli.h"
#include "muster/profile.h"
#include "muster/timefmt.h"
#include "cli.h"
#include "config.h"
#include "rollup.h"
#include "srv.h"

static const char report_usage[] =
"usage: muster-server report [--config FILE] [--by unit|rule|model|scope]\n"
"                            [--format table|csv|json] [--as-of TIME]\n"
"\n"
"Prints the compliance roll-up of the store named by the configuration:\n"
"per group, the devices that are compliant, noncompliant, stale (no report\n"
"within twice the profile's report_interval) and never reported; by rule,\n"
"the devices failing each rule.  Family devices are counted only where\n"
"their unit holds at least 5 of them; smaller groups show <5.\n"
"\n"
"options:\n"
"  --config FILE  the server's configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  --by KEY       unit (default), rule, model or scope\n"
"  --format FMT   table (default), csv (RFC 4180) or json (docs/rollup.md)\n"
"  --as-of TIME   the state at TIME (YYYY-MM-DDTHH:MM:SSZ), from history;\n"
"                 not before the store's first record, not in the future\n"
"  --help         this text\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 --as-of before the first record,\n"
"            66 no data directory, 74 storage error,\n"
"            78 bad configuration\n";

static const char devices_usage[] =
"usage: muster-server devices [--config FILE] [--unit UNIT]\n"
"                             [--status compliant|noncompliant|stale|never]\n"
"                             [--format table|csv|json]\n"
"\n"
"Lists personnel devices for follow-up: device id, unit, person, model,\n"
"when the newest report arrived, state and failing rules.  Family devices\n"
"are never listed.\n"
"\n"
"options:\n"
"  --config FILE    the server's configuration (default "
    CONFIG_DEFAULT_PATH ")\n"
"  --unit UNIT      only this unit\n"
"  --status STATE   only devices in this state\n"
"  --format FMT     table (default), csv (RFC 4180) or json\n"
"  --help           this text\n"
"\n"
"exit codes: 0 ok, 64 usage, 66 no data directory, 74 storage error,\n"
"            78 bad configuration\n";

static int
usage_err(const char *cmd, const char *what, const char *arg)
{
	return cli_usage(cmd, "%s \"%s\" (see %s %s --help)", what, arg,
	    SRV_PROG, cmd);
}

/* Loads the configuration and opens its store; 0 or an exit code. */
static int
open_store(const char *path, struct rollup_db **db)
{
	struct muster_err e;
	struct config *cfg = NULL;
	int rc;

	*db = NULL;
	if ((rc = config_load(path, &cfg, &e)) == 0)
		rc = rollup_open(config_store(cfg), db, &e);
	config_free(cfg);
	if (rc != 0)
		return cli_fail(rc, &e);
	return 0;
}

int
cli_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "by", required_argument, NULL, 'b' },
		{ "format", required_argument, NULL, 'f' },
		{ "as-of", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rollup_query q = { ROLLUP_BY_UNIT, 0, 0 };
	enum rollup_format fmt = ROLLUP_FMT_TABLE;
	const char *path = CONFIG_DEFAULT_PATH;
	struct rollup_db *db = NULL;
	struct rollup *r = NULL;
	struct muster_err e;
	int ch, rc;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'b':
			if (rollup_by_parse(optarg, &q.by) != 0)
				return usage_err("report", "--by must be unit, "
				    "rule, model or scope, not", optarg);
			break;
		case 'f':
			if (rollup_format_parse(optarg, &fmt) != 0)
				return usage_err("report", "--format must be "
				    "table, csv or json, not", optarg);
			break;
		case 'a':
			if (timefmt_parse(optarg, &q.as_of) != 0)
				return usage_err("report", "--as-of must be "
				    "YYYY-MM-DDTHH:MM:SSZ (UTC), not", optarg);
			/* 0 asks for the present; the epoch is a past. */
			if (q.as_of == 0)
				q.as_of = -1;
			break;
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		default:
			return usage_err("report", "bad option",
			    argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_err("report", "unexpected argument",
		    argv[optind]);
	if ((rc = open_store(path, &db)) != 0)
		return rc;
	if ((rc = rollup_compute(db, &q, &r, &e)) == 0)
		rc = rollup_write(r, fmt, stdout, &e);
	if (rc != 0)
		cli_error("report", "%s", e.msg);
	rollup_free(r);
	rollup_close(db);
	return err_exit_code(rc);
}

int
cli_devices(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "status", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rollup_devq q = { NULL, -1, 0 };
	enum rollup_format fmt = ROLLUP_FMT_TABLE;
	enum rollup_status st;
	const char *path = CONFIG_DEFAULT_PATH;
	struct rollup_db *db = NULL;
	struct muster_err e;
	int ch, rc;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'u':
			q.unit = optarg;
			break;
		case 's':
			if (rollup_status_parse(optarg, &st) != 0)
				return usage_err("devices", "--status must be "
				    "compliant, noncompliant, stale or never, "
				    "not", optarg);
			q.status = (int)st;
			break;
		case 'f':
			if (rollup_format_parse(optarg, &fmt) != 0)
				return usage_err("devices", "--format must be "
				    "table, csv or json, not", optarg);
			break;
		case 'h':
			fputs(devices_usage, stdout);
			return 0;
		default:
			return usage_err("devices", "bad option",
			    argv[optind - 1]);
		}
	}
	if (optind != argc)
		return usage_err("devices", "unexpected argument",
		    argv[optind]);
	if ((rc = open_store(path, &db)) != 0)
		return rc;
	if ((rc = rollup_devices(db, &q, fmt, stdout, &e)) != 0)
		cli_error("devices", "%s", e.msg);
	rollup_close(db);
	return err_exit_code(rc);
}
