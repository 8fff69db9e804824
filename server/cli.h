/*
 * cli: muster-server's administrative subcommands, which read the store
 * of a configuration without the server (docs/rollup.md):
 *
 *	muster-server report [--config FILE] [--by unit|rule|model|scope]
 *	    [--format table|csv|json] [--as-of TIME]
 *	muster-server devices [--config FILE] [--unit UNIT]
 *	    [--status compliant|noncompliant|stale|never]
 *	    [--format table|csv|json]
 *	muster-server backup [--config FILE] FILE
 */
#ifndef MUSTER_SERVER_CLI_H
#define MUSTER_SERVER_CLI_H

/*
 * Each takes the subcommand's arguments (argv[0] is its name), writes to
 * stdout, one line per error to stderr, and returns the exit code: 0, 64
 * usage, 66 no data directory, 74 storage error, 78 bad configuration.
 */
int	cli_report(int argc, char **argv);
int	cli_devices(int argc, char **argv);

/*
 * muster-server backup [--config FILE] FILE: a consistent copy of the
 * store written to FILE (0600, temp + fsync + rename) while the server
 * runs; docs/operations.md.  0, 64, 66 no store, 73 cannot create FILE,
 * 74 storage error, 78 bad configuration.
 */
int	cli_backup(int argc, char **argv);

#endif
