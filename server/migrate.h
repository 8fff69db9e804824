/*
 * migrate: `muster-server migrate [--config FILE] URI`, the SQLite store
 * of a configuration's data_dir moved into the empty PostgreSQL store at
 * URI (store_migrate); docs/operations.md, "Moving from SQLite".
 */
#ifndef MUSTER_SERVER_MIGRATE_H
#define MUSTER_SERVER_MIGRATE_H

/*
 * Takes the subcommand's arguments (argv[0] is its name), prints what was
 * copied to stdout, one line per error to stderr, and returns the exit
 * code: 0, 64 usage or a destination that is not empty, 66 no store,
 * 74 storage error, 75 PostgreSQL unreachable, 78 bad configuration.
 */
int	migrate_cmd(int argc, char **argv);

#endif
