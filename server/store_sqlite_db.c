/*
 * store_sqlite_db: how every handle of the SQLite backend that opens an
 * existing muster.db opens it (the server's store, its readers, the
 * administrators' and audit tables), and what more than one of them binds;
 * see store_sqlite_int.h.
 */
#include <sqlite3.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "store.h"
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

void
store_sqlite_bind_device(sqlite3_stmt *s, const struct store_device *d,
    time_t enrolled)
{
	sqlite3_bind_text(s, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, d->pk, sizeof d->pk, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, profile_scope_name(d->scope), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 4, d->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, d->person, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, d->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, d->token_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, enrolled);
}
