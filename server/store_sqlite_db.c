/*
 * store_sqlite_db: how every handle of the SQLite backend that opens an
 * existing muster.db opens it (the server's store, its readers, the
 * administrators' and audit tables); see store_sqlite_int.h.
 */
#include <sqlite3.h>

#include "muster/err.h"
#include "store_sqlite_int.h"

int
store_sqlite_db_open(const char *path, int readonly, int busy_ms,
    sqlite3 **db, struct muster_err *e)
{
	/* Each handle is used by one thread at a time (store.h). */
	int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW |
	    (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);

	if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK)
		return err_set(e, MUSTER_EIO, "%s: %s", path, *db != NULL ?
		    sqlite3_errmsg(*db) : "cannot open");
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_db_config(*db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(*db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_timeout(*db, busy_ms);
	return 0;
}
