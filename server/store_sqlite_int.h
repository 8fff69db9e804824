/*
 * store_sqlite_int: what the files of the SQLite backend share
 * (store_sqlite.c, store_sqlite_prune.c, store_sqlite_read.c,
 * store_sqlite_admin.c, store_sqlite_db.c); nothing outside them
 * includes it.  See store.h for the contract.
 */
#ifndef MUSTER_STORE_SQLITE_INT_H
#define MUSTER_STORE_SQLITE_INT_H

#include <stdint.h>
#include <time.h>

#include <sqlite3.h>

#include "muster/err.h"
#include "store_retain.h"
#include "store_sqlite.h"

#define STORE_SQLITE_NSTMT	96	/* room for every cached statement */
#define STORE_JOURNAL_FILE	"journal"	/* in data_dir */
#define STORE_JOURNAL_MAX	(64L << 20)

struct store {
	const struct store_ops *ops;	/* first: store_backend.h */
	sqlite3		*db;
	int		 readonly;
	sqlite3_stmt	*stmt[STORE_SQLITE_NSTMT];
	int		 err;	/* what the last failed stmt() returned */
	int		 scrub;	/* a deletion's bytes may be in the WAL */
	char		*dir;	/* data_dir */
	int		 replaying;	/* applying the journal: not journaled */
	struct store_retain ret;	/* store_sqlite_prune.c; cursor: rowid */
};

/*
 * The journal beside the database (data_dir/STORE_JOURNAL_FILE, 0600),
 * what a restore of an older muster.db must not undo, one line each:
 *
 *	revoke ID TIME		a device or token id revoked at TIME
 *	gone HASH TIME		a device deleted (unenrolled) at TIME: the
 *				hex BLAKE2b-256 of its id, not the id
 *
 * Appends one line and fsyncs it (nothing while st->replaying); 0 or
 * MUSTER_EIO.  kind is "revoke" or "gone".
 */
int	store_sqlite_journal(struct store *st, const char *kind,
	    const char *id, time_t when, struct muster_err *e);

/*
 * Applies every journal line the database lacks (after a restore of an
 * older backup: revocations it does not hold, devices it still holds that
 * have left), in one transaction; 0 or MUSTER_E* (a damaged line:
 * MUSTER_EIO naming it).
 */
int	store_sqlite_journal_replay(struct store *st, struct muster_err *e);

/*
 * Opens the database at path (never creating it, never through a
 * symbolic link) for one thread at a time, read-only or read-write, with
 * extended result codes, SQLite's defensive mode, untrusted schema and a
 * busy timeout of busy_ms.  *db is set even on failure (NULL, or a handle
 * the caller closes with sqlite3_close); 0 or MUSTER_EIO "PATH: why".
 */
int	store_sqlite_db_open(const char *path, int readonly, int busy_ms,
	    sqlite3 **db, struct muster_err *e);

struct store_device;

/*
 * Binds d to a "INSERT INTO devices (id, pubkey, scope, unit, person,
 * model, token_id, enrolled)" statement's ?1 .. ?8, enrolled as given;
 * the bound text stays d's (SQLITE_STATIC): d outlives the step.
 */
void	store_sqlite_bind_device(sqlite3_stmt *s,
	    const struct store_device *d, time_t enrolled);

#endif
