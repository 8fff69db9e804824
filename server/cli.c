/* cli: `muster-server report` and `muster-server devices`; see cli.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "muster/cli.h"
#include "muster/profile.h"
#include "muster/timefmt.h"
#include "cli.h"
#include "config.h"
#include "daemon.h"
#include "console.h"
#include "rollup.h"
#include "srv.h"
#include "store.h"

static const char report_usage[] =
"usage: muster-server report [--config FILE] [--by unit|rule|model|scope]\n"
"                            [--format table|csv|json|html] [--as-of TIME]\n"
"\n"
"Prints the compliance roll-up of the store named by the configuration:\n"
"per group, the devices that are compliant, noncompliant, stale (no report\n"
"within twice the profile's report_interval) and never reported; by rule,\n"
"the devices failing each rule.  Family devices are counted only where\n"
"their unit holds at least 5 of them; smaller groups show <5 (CSV: an\n"
"empty cell, with family_withheld yes).\n"
"\n"
"options:\n"
"  --config FILE  the server's configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  --by KEY       unit (default), rule, model or scope\n"
"  --format FMT   table (default), csv (RFC 4180) or json (docs/rollup.md);\n"
"                 html: the console's overview as one self-contained file\n"
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
"  --unit UNIT      only this unit and the units below it (UNIT/...)\n"
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

/*
 * Run by root against the live configuration, reads the store as the
 * server's user (whose it is, 0700): root is dropped for good first.
 */
static int
open_as_server(const struct config *cfg, struct muster_err *e)
{
	int stayed;

	return daemon_drop(config_user(cfg), &stayed, e);
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
		rc = open_as_server(cfg, &e);
	if (rc == 0)
		rc = rollup_open(config_store(cfg), db, &e);
	config_free(cfg);
	if (rc != 0)
		return cli_fail(rc, &e);
	return 0;
}

/* Parses --format into *fmt; 0, or the usage error's exit code. */
static int
format_opt(const char *cmd, const char *v, enum rollup_format *fmt)
{
	if (rollup_format_parse(v, fmt) != 0)
		return usage_err(cmd, "--format must be table, csv or json, "
		    "not", v);
	return 0;
}

/*
 * cli_options for cmd, which takes no operand; the operand's index, or
 * -1 with *exitcode set.
 */
static int
no_operand(int argc, char **argv, const struct cli_opt *opts,
    const char *usage, int (*fn)(void *, int, const char *), void *arg,
    int *exitcode)
{
	int k;

	if ((k = cli_options(argc, argv, "+", opts, usage, fn, arg,
	    exitcode)) < 0)
		return -1;
	if (k != argc) {
		*exitcode = usage_err(argv[0], "unexpected argument", argv[k]);
		return -1;
	}
	return k;
}

/* What report's options set. */
struct report_args {
	struct rollup_query	q;
	enum rollup_format	fmt;
	int			html;	/* --format html: the console's page */
};

/* report's --by, --format and --as-of; 0 or the usage error's code. */
static int
report_opt(void *arg, int c, const char *v)
{
	struct report_args *a = arg;

	if (c == 'f') {
		a->html = strcmp(v, "html") == 0;
		if (!a->html && rollup_format_parse(v, &a->fmt) != 0)
			return usage_err("report", "--format must be table, "
			    "csv, json or html, not", v);
		return 0;
	}
	if (c == 'b') {
		if (rollup_by_parse(v, &a->q.by) != 0)
			return usage_err("report", "--by must be unit, "
			    "rule, model or scope, not", v);
		return 0;
	}
	if (timefmt_parse(v, &a->q.as_of) != 0)
		return usage_err("report", "--as-of must be "
		    "YYYY-MM-DDTHH:MM:SSZ (UTC), not", v);
	/* 0 asks for the present; the epoch is a past. */
	if (a->q.as_of == 0)
		a->q.as_of = -1;
	return 0;
}

int
cli_report(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_FN("by", 'b', required_argument),
		CLI_OPT_FN("format", 'f', required_argument),
		CLI_OPT_FN("as-of", 'a', required_argument),
		CLI_OPT_END,
	};
	struct report_args a = { { ROLLUP_BY_UNIT, 0, 0 }, ROLLUP_FMT_TABLE, 0 };
	struct rollup_db *db = NULL;
	struct rollup *r = NULL;
	struct muster_err e;
	int rc;

	if (no_operand(argc, argv, opts, report_usage, report_opt, &a,
	    &rc) < 0)
		return rc;
	if ((rc = open_store(path, &db)) != 0)
		return rc;
	if (a.html)
		rc = console_report_html(db, &a.q, stdout, &e);
	else if ((rc = rollup_compute(db, &a.q, &r, &e)) == 0)
		rc = rollup_write(r, a.fmt, stdout, &e);
	if (rc != 0)
		cli_error("report", "%s", e.msg);
	rollup_free(r);
	rollup_close(db);
	return err_exit_code(rc);
}

/* What devices' options set. */
struct devices_args {
	struct rollup_devq	q;
	enum rollup_format	fmt;
};

/* devices' --unit, --status and --format; 0 or the usage error's code. */
static int
devices_opt(void *arg, int c, const char *v)
{
	struct devices_args *a = arg;
	enum rollup_status st;

	if (c == 'f')
		return format_opt("devices", v, &a->fmt);
	if (c == 'u') {
		a->q.unit = v;
		return 0;
	}
	if (rollup_status_parse(v, &st) != 0)
		return usage_err("devices", "--status must be compliant, "
		    "noncompliant, stale or never, not", v);
	a->q.status = (int)st;
	return 0;
}

int
cli_devices(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_FN("unit", 'u', required_argument),
		CLI_OPT_FN("status", 's', required_argument),
		CLI_OPT_FN("format", 'f', required_argument),
		CLI_OPT_END,
	};
	struct devices_args a = { { NULL, -1, 0 }, ROLLUP_FMT_TABLE };
	struct rollup_db *db = NULL;
	struct muster_err e;
	int rc;

	if (no_operand(argc, argv, opts, devices_usage, devices_opt, &a,
	    &rc) < 0)
		return rc;
	if ((rc = open_store(path, &db)) != 0)
		return rc;
	if ((rc = rollup_devices(db, &a.q, a.fmt, stdout, &e)) != 0)
		cli_error("devices", "%s", e.msg);
	rollup_close(db);
	return err_exit_code(rc);
}

static const char backup_usage[] =
"usage: muster-server backup [--config FILE] FILE\n"
"\n"
"Writes a consistent copy of the store named by the configuration to FILE\n"
"while the server goes on serving: one snapshot (the store as of one\n"
"commit), written mode 0600 to a temporary file beside FILE, fsync'd and\n"
"renamed over FILE, so FILE is the old backup or the whole new one.  It\n"
"holds personnel ids: keep it as private as the store.  To restore (see\n"
"docs/operations.md): stop the server, copy FILE to DATA_DIR/muster.db\n"
"(removing muster.db-wal and -shm), start the server.  Keep the rest of\n"
"DATA_DIR (receipt.key, journal), which the backup does not hold.\n"
"\n"
"options:\n"
"  --config FILE  the server's configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  --help         this text\n"
"\n"
"exit codes: 0 ok, 64 usage, 66 no store, 73 cannot create FILE,\n"
"            74 storage error, 78 bad configuration\n";

int
cli_backup(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_END,
	};
	struct config *cfg = NULL;
	struct muster_err e;
	int64_t bytes = 0;
	int k, rc;

	if ((k = cli_options(argc, argv, "+", opts, backup_usage, NULL,
	    NULL, &rc)) < 0)
		return rc;
	if (k == argc)
		return cli_usage("backup", "missing FILE (see %s backup "
		    "--help)", SRV_PROG);
	if (k + 1 != argc)
		return usage_err("backup", "unexpected argument",
		    argv[k + 1]);
	if ((rc = config_load(path, &cfg, &e)) == 0 &&
	    (rc = store_backup(config_store(cfg), argv[k], &bytes, &e)) == 0)
		printf("backup of %s written to %s (%lld bytes)\n",
		    cfg->data_dir, argv[k], (long long)bytes);
	config_free(cfg);
	if (rc != 0)
		return cli_fail(rc, &e);
	return 0;
}
