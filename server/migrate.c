/* migrate: muster-server migrate; migrate.h. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "muster/cli.h"
#include "config.h"
#include "migrate.h"
#include "srv.h"
#include "store.h"

static const char migrate_usage[] =
"usage: muster-server migrate [--config FILE] URI\n"
"\n"
"Copies the SQLite store of the configuration's data_dir (muster.db, and\n"
"the roots and manifests in data_dir/trust) into the empty PostgreSQL\n"
"database at URI (postgresql://...), in one transaction, and checks that\n"
"every row arrived.  Stop the server first; afterwards add\n"
"store = \"URI\"; to the configuration and start it again.\n"
"\n"
"options:\n"
"  --config FILE  the server's configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  --help         this text\n"
"\n"
"exit codes: 0 ok, 64 usage or a destination that is not empty,\n"
"            66 no store in data_dir, 74 storage error,\n"
"            75 PostgreSQL unreachable, 78 bad configuration\n";

int
migrate_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t rows[STORE_MIGRATE_TABLES + 1];
	const char *path = CONFIG_DEFAULT_PATH;
	struct config *cfg = NULL;
	struct muster_err e;
	int ch, rc, i;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			fputs(migrate_usage, stdout);
			return 0;
		default:
			return cli_usage("migrate", "bad option (see %s migrate "
			    "--help)", SRV_PROG);
		}
	}
	if (argc - optind != 1)
		return cli_usage("migrate", "one destination URI expected "
		    "(see %s migrate --help)", SRV_PROG);
	if (strncmp(argv[optind], "postgresql://", 13) != 0 &&
	    strncmp(argv[optind], "postgres://", 11) != 0)
		return cli_usage("migrate", "the destination must be a "
		    "PostgreSQL URI, postgresql://...");
	if ((rc = cli_sodium_init()) != 0)
		return rc;
	if ((rc = config_load(path, &cfg, &e)) != 0)
		return cli_fail(rc, &e);
	rc = store_migrate(cfg->data_dir, argv[optind], rows, &e);
	config_free(cfg);
	if (rc != 0)
		return cli_fail(rc, &e);
	for (i = 0; i < STORE_MIGRATE_TABLES; i++)
		printf("%-16s %lld\n", store_migrate_table(i),
		    (long long)rows[i]);
	printf("%-16s %lld\n", "documents",
	    (long long)rows[STORE_MIGRATE_TABLES]);
	return 0;
}
