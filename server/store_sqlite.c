/*
 * store_sqlite: the server's storage in one SQLite file, data_dir/muster.db;
 * see store.h for the contract and docs/server.md for the schema.
 *
 * The schema keeps the present in `devices` (one row per device with its
 * newest report's status) and `device_failing` (the rules each device now
 * fails), and the past only as changes: `status_history` gets a row when a
 * device's overall status changes, `failing_history` when a rule starts or
 * stops failing for a device.  Every per-device table cascades from
 * `devices`, so deleting a device deletes all it left behind.  Tokens are
 * never deleted: a used token stays used.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "muster/fs.h"
#include "store.h"
#include "store_rules.h"
#include "store_sqlite_int.h"

#define STORE_DB_NAME		STORE_DB_FILE
#define STORE_BUSY_MS		10000
#define STORE_HASH_BYTES	crypto_generichash_BYTES
/*
 * How long the checkpoint after a deletion waits for readers of an older
 * snapshot before it gives up for now: briefly at the commit (every write
 * of the batch waits for it), longer when the idle writer retries
 * (WRITER_SCRUB_RETRY_S, writer.c).
 */
#define STORE_SCRUB_COMMIT_MS	20
#define STORE_SCRUB_BUSY_MS	200

/*
 * A family device's consent receipt: what the receipt says, and the exact
 * enrollment body that carried it with the device's signature over it.
 * Version 1 had a placeholder table here that nothing wrote.
 */
#define CONSENTS_SQL \
"CREATE TABLE consents ("\
"  device TEXT PRIMARY KEY REFERENCES devices (id) ON DELETE CASCADE,"\
"  time INTEGER NOT NULL,"		/* when the member agreed */\
"  received INTEGER NOT NULL,"\
"  token TEXT NOT NULL CHECK (length(token) = 16),"\
"  text_hash BLOB NOT NULL CHECK (length(text_hash) = 32),"\
"  profile TEXT,"			/* the profile shown, or NULL */\
"  serial INTEGER,"\
"  remediate TEXT NOT NULL,"		/* JSON list of {rule, change} */\
"  body BLOB NOT NULL,"			/* the signed enrollment body */\
"  sig BLOB NOT NULL CHECK (length(sig) = 64)"\
") WITHOUT ROWID;"

/*
 * When a device reported, kept after its raw reports are pruned: runs of
 * reports (their own times, first to last) no more than the stale window
 * apart.  The open run lives in devices (run_first .. last_time); a run
 * is closed into this table when a report comes later than the window.
 */
#define RUNS_SQL \
"CREATE TABLE report_runs ("\
"  device TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"\
"  first INTEGER NOT NULL,"\
"  last INTEGER NOT NULL,"\
"  PRIMARY KEY (device, first)"\
") WITHOUT ROWID;"

/*
 * Version 4 on a version 1-3 store: the runs of the reports it holds,
 * split wherever two are more than 2 x PROFILE_MIN_REPORT_INTERVAL apart
 * (the smallest stale window a profile can set), so that every --as-of
 * answer stays what it was; the next report of each device opens a run.
 */
#define RUNS_MIGRATE_SQL \
"ALTER TABLE devices ADD COLUMN run_first INTEGER;"\
"ALTER TABLE devices ADD COLUMN run_window INTEGER;"\
RUNS_SQL \
"INSERT INTO report_runs (device, first, last) "\
"SELECT device, min(time), max(time) FROM (SELECT device, time, "\
"  sum(brk) OVER (PARTITION BY device ORDER BY time, seq) AS grp FROM "\
"  (SELECT device, time, seq, CASE WHEN time - lag(time) OVER "\
"   (PARTITION BY device ORDER BY time, seq) <= 120 THEN 0 ELSE 1 END "\
"   AS brk FROM reports)) GROUP BY device, grp;"

/*
 * The device's Ed25519 signature over a report's body (Muster-Signature),
 * kept so that the report can be verified later; NULL in the rows stored
 * before version 5, which did not keep it.
 */
#define REPORTS_SIG_CHECK	"CHECK (sig IS NULL OR length(sig) = 64)"
#define REPORTS_SIG_MIGRATE_SQL \
"ALTER TABLE reports ADD COLUMN sig BLOB " REPORTS_SIG_CHECK ";"

/* Created if missing on every writable open, like reports_device_time. */
#define HISTORY_APPEND_ONLY_SQL \
"CREATE TRIGGER IF NOT EXISTS status_history_append_only "\
"BEFORE UPDATE ON status_history "\
"BEGIN SELECT RAISE(ABORT, 'status history is append-only'); END;"\
"CREATE TRIGGER IF NOT EXISTS failing_history_append_only "\
"BEFORE UPDATE ON failing_history "\
"BEGIN SELECT RAISE(ABORT, 'failing history is append-only'); END;"

static const char schema_sql[] =
"CREATE TABLE tokens ("
"  id TEXT PRIMARY KEY CHECK (length(id) = 16),"
"  used INTEGER,"			/* when, or NULL */
"  revoked INTEGER,"			/* when, or NULL */
"  expires INTEGER"			/* NULL: revoked before it was seen */
") WITHOUT ROWID;"
"CREATE TABLE devices ("
"  id TEXT PRIMARY KEY CHECK (length(id) = 32),"
"  pubkey BLOB NOT NULL CHECK (length(pubkey) = 32),"
"  scope TEXT NOT NULL CHECK (scope IN ('personnel', 'family')),"
"  unit TEXT NOT NULL,"
"  person TEXT NOT NULL,"
"  model TEXT NOT NULL DEFAULT '',"
"  token_id TEXT NOT NULL UNIQUE REFERENCES tokens (id),"
"  enrolled INTEGER NOT NULL,"
"  revoked INTEGER,"
"  last_seq INTEGER NOT NULL DEFAULT 0,"
"  last_time INTEGER,"			/* the newest report's own time */
"  last_received INTEGER,"		/* when the server stored it */
"  last_status TEXT CHECK (last_status IN ('compliant', 'noncompliant')),"
"  last_profile TEXT,"
"  last_serial INTEGER,"
"  last_stale INTEGER NOT NULL DEFAULT 0,"	/* REPORT_STALE_* bits */
"  run_first INTEGER,"		/* the open run of reports: its first */
"  run_window INTEGER"		/* and the smallest window it met */
");"
/* Grouping columns never change after enrollment, so a report's UPDATE of
 * the last_* columns touches none of these indexes. */
"CREATE INDEX devices_unit ON devices (unit);"
"CREATE INDEX devices_model ON devices (model);"
"CREATE INDEX devices_scope ON devices (scope);"
"CREATE TABLE reports ("
"  device TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"
"  seq INTEGER NOT NULL CHECK (seq > 0),"
"  time INTEGER NOT NULL,"
"  received INTEGER NOT NULL,"
"  status TEXT NOT NULL CHECK (status IN ('compliant', 'noncompliant')),"
"  profile TEXT,"
"  serial INTEGER,"
"  hash BLOB NOT NULL,"			/* BLAKE2b-256 of body */
"  body BLOB NOT NULL,"			/* the exact signed bytes */
"  sig BLOB " REPORTS_SIG_CHECK ","	/* the device's, over body */
"  UNIQUE (device, seq)"
");"
"CREATE TABLE device_failing ("
"  device TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"
"  rule TEXT NOT NULL,"
"  since INTEGER NOT NULL,"
"  PRIMARY KEY (device, rule)"
") WITHOUT ROWID;"
"CREATE INDEX device_failing_rule ON device_failing (rule, device);"
"CREATE TABLE status_history ("
"  device TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"
"  time INTEGER NOT NULL,"
"  seq INTEGER NOT NULL,"
"  received INTEGER NOT NULL,"
"  status TEXT NOT NULL CHECK (status IN ('compliant', 'noncompliant')),"
"  PRIMARY KEY (device, time, seq)"
") WITHOUT ROWID;"
"CREATE TABLE failing_history ("
"  device TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,"
"  rule TEXT NOT NULL,"
"  time INTEGER NOT NULL,"
"  seq INTEGER NOT NULL,"
"  failing INTEGER NOT NULL CHECK (failing IN (0, 1)),"
"  PRIMARY KEY (device, rule, time, seq)"
") WITHOUT ROWID;"
"CREATE INDEX failing_history_rule ON failing_history (rule, time);"
CONSENTS_SQL
RUNS_SQL
"CREATE TABLE profiles ("
"  id TEXT NOT NULL,"
"  serial INTEGER NOT NULL CHECK (serial > 0),"
"  scope TEXT NOT NULL CHECK (scope IN ('personnel', 'family')),"
"  expires INTEGER NOT NULL,"
"  published INTEGER NOT NULL,"
"  hash BLOB NOT NULL,"
"  bytes BLOB NOT NULL,"
"  sig TEXT NOT NULL,"
"  UNIQUE (id, serial)"
");"
"CREATE INDEX profiles_scope ON profiles (scope);"
"CREATE TABLE revocations ("
"  id TEXT PRIMARY KEY,"
"  received INTEGER NOT NULL"
") WITHOUT ROWID;";

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_TOKEN_GET,
	ST_TOKEN_USE,
	ST_DEVICE_INSERT,
	ST_DEVICE_GET,
	ST_DEVICE_LAST,
	ST_DEVICE_UPDATE,
	ST_RUN_CLOSE,
	ST_REVOKED_ID,
	ST_DEVICE_DELETE,
	ST_CONSENT_INSERT,
	ST_CONSENT_REPLACE,
	ST_REVOKE_FORGET,
	ST_REPORT_HASH,
	ST_REPORT_INSERT,
	ST_HISTORY_INSERT,
	ST_FAILING_LIST,
	ST_FAILING_INSERT,
	ST_FAILING_DELETE,
	ST_FAILING_HISTORY,
	ST_REVOKE_INSERT,
	ST_REVOKE_TOKEN,
	ST_REVOKE_DEVICE,
	ST_PROFILE_NEWEST,
	ST_PROFILE_INSERT,
	ST_PROFILE_CURRENT,
	ST_PROFILE_FIND,
	ST_TOKEN_DEVICE,
	ST_TOKEN_FORGET,
	ST_COUNT_DEVICES,
	ST_COUNT_REPORTS,
	ST__N
};

_Static_assert(ST__N <= STORE_SQLITE_NSTMT, "raise STORE_SQLITE_NSTMT");

static const char *const stmt_sql[ST__N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SAVEPOINT] = "SAVEPOINT job",
	[ST_RELEASE] = "RELEASE job",
	[ST_ROLLBACK_TO] = "ROLLBACK TO job",
	[ST_TOKEN_GET] = "SELECT used, revoked FROM tokens WHERE id = ?1",
	[ST_TOKEN_USE] = "INSERT INTO tokens (id, used, expires) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE "
	    "SET used = excluded.used, expires = excluded.expires",
	[ST_DEVICE_INSERT] = "INSERT INTO devices (id, pubkey, scope, unit, "
	    "person, model, token_id, enrolled) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_DEVICE_GET] = "SELECT pubkey, scope, unit, person, model, "
	    "token_id, enrolled, revoked, last_seq FROM devices WHERE id = ?1",
	[ST_DEVICE_LAST] = "SELECT last_seq, last_status, revoked, last_time, "
	    "run_first, run_window FROM devices WHERE id = ?1",
	[ST_DEVICE_UPDATE] = "UPDATE devices SET last_seq = ?2, "
	    "last_time = ?3, last_received = ?4, last_status = ?5, "
	    "last_profile = ?6, last_serial = ?7, last_stale = ?8, "
	    "run_first = ?9, run_window = ?10 WHERE id = ?1",
	[ST_RUN_CLOSE] = "INSERT OR REPLACE INTO report_runs (device, first, "
	    "last) VALUES (?1, ?2, ?3)",
	[ST_REVOKED_ID] = "SELECT 1 FROM revocations WHERE id = ?1",
	[ST_DEVICE_DELETE] = "DELETE FROM devices WHERE id = ?1",
	[ST_CONSENT_INSERT] = "INSERT INTO consents (device, time, received, "
	    "token, text_hash, profile, serial, remediate, body, sig) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_CONSENT_REPLACE] = "INSERT OR REPLACE INTO consents (device, "
	    "time, received, token, text_hash, profile, serial, remediate, "
	    "body, sig) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_REVOKE_FORGET] = "DELETE FROM revocations WHERE id = ?1",
	[ST_REPORT_HASH] = "SELECT hash FROM reports "
	    "WHERE device = ?1 AND seq = ?2",
	[ST_REPORT_INSERT] = "INSERT INTO reports (device, seq, time, "
	    "received, status, profile, serial, hash, body, sig) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_HISTORY_INSERT] = "INSERT OR IGNORE INTO status_history (device, "
	    "time, seq, received, status) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_FAILING_LIST] = "SELECT rule FROM device_failing "
	    "WHERE device = ?1 ORDER BY rule",
	[ST_FAILING_INSERT] = "INSERT OR IGNORE INTO device_failing "
	    "(device, rule, since) VALUES (?1, ?2, ?3)",
	[ST_FAILING_DELETE] = "DELETE FROM device_failing "
	    "WHERE device = ?1 AND rule = ?2",
	[ST_FAILING_HISTORY] = "INSERT OR IGNORE INTO failing_history "
	    "(device, rule, time, seq, failing) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_REVOKE_INSERT] = "INSERT INTO revocations (id, received) "
	    "VALUES (?1, ?2) ON CONFLICT (id) DO NOTHING",
	[ST_REVOKE_TOKEN] = "INSERT INTO tokens (id, revoked) VALUES (?1, ?2) "
	    "ON CONFLICT (id) DO UPDATE "
	    "SET revoked = coalesce(revoked, excluded.revoked)",
	[ST_REVOKE_DEVICE] = "UPDATE devices SET revoked = "
	    "coalesce(revoked, ?2) WHERE id = ?1",
	[ST_PROFILE_NEWEST] = "SELECT serial, hash FROM profiles "
	    "WHERE id = ?1 ORDER BY serial DESC LIMIT 1",
	[ST_PROFILE_INSERT] = "INSERT INTO profiles (id, serial, scope, "
	    "expires, published, hash, bytes, sig) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_PROFILE_CURRENT] = "SELECT id, serial, expires, published, bytes, "
	    "sig FROM profiles WHERE scope = ?1 ORDER BY rowid DESC LIMIT 1",
	[ST_PROFILE_FIND] = "SELECT id, serial, expires, published, bytes, "
	    "sig FROM profiles WHERE id = ?1 AND serial = ?2",
	[ST_TOKEN_DEVICE] = "SELECT id FROM devices WHERE token_id = ?1",
	/* A revoked token stays, or the revocation would be lost with it. */
	[ST_TOKEN_FORGET] = "DELETE FROM tokens "
	    "WHERE id = ?1 AND revoked IS NULL",
	[ST_COUNT_DEVICES] = "SELECT count(*) FROM devices "
	    "WHERE revoked IS NULL",
	[ST_COUNT_REPORTS] = "SELECT count(*) FROM reports",
};

/* struct store is in store_sqlite_int.h, shared with store_sqlite_prune.c. */

/* Maps the last SQLite error of st to a MUSTER_E* value and message. */
static int
db_err(struct store *st, const char *what, struct muster_err *e)
{
	int code = sqlite3_extended_errcode(st->db), rc;

	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		rc = MUSTER_ETEMP;
		break;
	case SQLITE_CONSTRAINT:
		rc = MUSTER_EDATA;
		break;
	case SQLITE_NOMEM:
		rc = MUSTER_EINTERNAL;
		break;
	default:
		rc = MUSTER_EIO;
		break;
	}
	return err_set(e, rc, "store: %s: %s", what, sqlite3_errmsg(st->db));
}

/* The cached prepared statement id, reset and unbound; NULL on error. */
static sqlite3_stmt *
stmt(struct store *st, enum stmt_id id, struct muster_err *e)
{
	if (st->stmt[id] == NULL && sqlite3_prepare_v3(st->db, stmt_sql[id],
	    -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[id], NULL) != SQLITE_OK) {
		st->err = db_err(st, "prepare", e);
		st->stmt[id] = NULL;
		return NULL;
	}
	return st->stmt[id];
}

static void
done(sqlite3_stmt *s)
{
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* Runs a statement that returns no row; 0 or a MUSTER_E* value. */
static int
run(struct store *st, sqlite3_stmt *s, const char *what, struct muster_err *e)
{
	int rc;

	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : db_err(st, what, e);
	done(s);
	return rc;
}

static int
run_plain(struct store *st, enum stmt_id id, struct muster_err *e)
{
	sqlite3_stmt *s;

	if ((s = stmt(st, id, e)) == NULL)
		return st->err;
	return run(st, s, stmt_sql[id], e);
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int
exec(struct store *st, const char *sql, struct muster_err *e)
{
	char *msg = NULL;
	int rc = 0;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = err_set(e, MUSTER_EIO, "store: %.80s: %s", sql,
		    msg != NULL ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
	}
	return rc;
}

/* Reads one integer from a one-row statement such as a PRAGMA. */
static int
query_int(struct store *st, const char *sql, int64_t *v, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_err(st, sql, e);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*v = sqlite3_column_int64(s, 0);
		rc = 0;
	} else
		rc = db_err(st, sql, e);
	sqlite3_finalize(s);
	return rc;
}

/* Creates the schema in a new database, or checks an existing one's. */
static int
schema(struct store *st, struct muster_err *e)
{
	int64_t v, have = 0;
	char sql[64];
	int rc;

	if ((rc = exec(st, "BEGIN IMMEDIATE", e)) != 0)
		return rc;
	if ((rc = query_int(st, "PRAGMA user_version", &v, e)) != 0)
		goto out;
	if (v == 0) {
		if ((rc = exec(st, schema_sql, e)) != 0)
			goto out;
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
		    STORE_SCHEMA_VERSION);
		if ((rc = exec(st, sql, e)) != 0)
			goto out;
	} else if (v >= 1 && v <= 4) {
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
		    STORE_SCHEMA_VERSION);
		/* Version 1's consents table was never written. */
		if (v == 1 && (rc = exec(st, "DROP TABLE consents;"
		    CONSENTS_SQL, e)) != 0)
			goto out;
		/* Version 3: what the newest report said is stale. */
		if ((rc = query_int(st, "SELECT count(*) FROM "
		    "pragma_table_info('devices') WHERE name = 'last_stale'",
		    &have, e)) != 0)
			goto out;
		if (have == 0 && (rc = exec(st, "ALTER TABLE devices ADD "
		    "COLUMN last_stale INTEGER NOT NULL DEFAULT 0", e)) != 0)
			goto out;
		/* Version 4: runs of reports (retention). */
		if ((rc = query_int(st, "SELECT count(*) FROM "
		    "pragma_table_info('devices') WHERE name = 'run_first'",
		    &have, e)) != 0)
			goto out;
		if (have == 0 && (rc = exec(st, RUNS_MIGRATE_SQL, e)) != 0)
			goto out;
		/* Version 5: the device's signature with each report. */
		if ((rc = query_int(st, "SELECT count(*) FROM "
		    "pragma_table_info('reports') WHERE name = 'sig'",
		    &have, e)) != 0)
			goto out;
		if (have == 0 && (rc = exec(st, REPORTS_SIG_MIGRATE_SQL, e)) !=
		    0)
			goto out;
		if ((rc = exec(st, sql, e)) != 0)
			goto out;
	} else if (v != STORE_SCHEMA_VERSION) {
		rc = err_set(e, MUSTER_ECONFIG, "store: database schema "
		    "version %lld, this server knows %d", (long long)v,
		    STORE_SCHEMA_VERSION);
		goto out;
	}
	/*
	 * --as-of staleness seeks each device's newest report at or before
	 * a time; without this index it reads all of a device's reports.
	 */
	if ((rc = exec(st, "CREATE INDEX IF NOT EXISTS reports_device_time "
	    "ON reports (device, time);", e)) != 0)
		goto out;
	/*
	 * History is append-only: nothing rewrites a row, only a device's
	 * deletion removes its rows (docs/privacy.md).
	 */
	if ((rc = exec(st, HISTORY_APPEND_ONLY_SQL, e)) != 0)
		goto out;
	rc = exec(st, "COMMIT", e);
out:
	if (rc != 0)
		(void)exec(st, "ROLLBACK", NULL);
	return rc;
}

/* Creates the database file 0600 (never following a link) if missing. */
static int
db_file(const char *path, int readonly, struct muster_err *e)
{
	int fd;

	if (!readonly) {
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		    0600);
		if (fd == -1)
			return err_sys(e, MUSTER_ECANTCREAT, "%s", path);
		close(fd);
	}
	return fs_check_private(path, e);
}

int
store_sqlite_open(const char *dir, int readonly, struct store **out,
    struct muster_err *e)
{
	struct store *st = NULL;
	char *path = NULL;
	int64_t v;
	int rc;

	*out = NULL;
	if (!readonly && (rc = fs_mkdir_private(dir, e)) != 0)
		return rc;
	if (readonly && (rc = fs_check_private(dir, e)) != 0)
		return rc;
	if ((path = fs_path(dir, STORE_DB_NAME)) == NULL ||
	    (st = calloc(1, sizeof *st)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	st->ops = &store_sqlite_ops;
	st->readonly = readonly;
	if ((st->dir = strdup(dir)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = db_file(path, readonly, e)) != 0)
		goto out;
	if ((rc = store_sqlite_db_open(path, readonly, STORE_BUSY_MS,
	    &st->db, e)) != 0 ||
	    (rc = exec(st, "PRAGMA foreign_keys = ON;"
	    "PRAGMA secure_delete = ON;"
	    "PRAGMA synchronous = FULL;", e)) != 0)
		goto out;
	/* Unenrolling promises overwritten bytes: make sure it took. */
	if ((rc = query_int(st, "PRAGMA secure_delete", &v, e)) != 0)
		goto out;
	if (v != 1) {
		rc = err_set(e, MUSTER_EIO, "%s: SQLite refuses secure_delete",
		    path);
		goto out;
	}
	if (readonly) {
		if ((rc = exec(st, "PRAGMA query_only = ON", e)) != 0)
			goto out;
	} else {
		/* journal_mode answers with the mode it ended up in. */
		sqlite3_stmt *s = NULL;

		if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL",
		    -1, &s, NULL) != SQLITE_OK ||
		    sqlite3_step(s) != SQLITE_ROW ||
		    strcmp((const char *)sqlite3_column_text(s, 0), "wal")
		    != 0) {
			sqlite3_finalize(s);
			rc = err_set(e, MUSTER_EIO, "%s: cannot use WAL mode",
			    path);
			goto out;
		}
		sqlite3_finalize(s);
		if ((rc = schema(st, e)) != 0 ||
		    (rc = store_sqlite_journal_replay(st, e)) != 0)
			goto out;
	}
	if ((rc = query_int(st, "PRAGMA user_version", &v, e)) != 0)
		goto out;
	if (v != STORE_SCHEMA_VERSION) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: database schema version "
		    "%lld, this server knows %d", path, (long long)v,
		    STORE_SCHEMA_VERSION);
		goto out;
	}
	*out = st;
	st = NULL;
	rc = 0;
out:
	store_sqlite_close(st);
	free(path);
	return rc;
}

void
store_sqlite_close(struct store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < ST__N; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL && !st->readonly && !sqlite3_get_autocommit(st->db))
		(void)exec(st, "ROLLBACK", NULL);
	sqlite3_close(st->db);
	free(st->dir);
	free(st);
}

int
store_sqlite_begin(struct store *st, struct muster_err *e)
{
	return run_plain(st, ST_BEGIN, e);
}

static int	scrub(struct store *, int, struct muster_err *);

int
store_sqlite_commit(struct store *st, struct muster_err *e)
{
	int rc;

	if ((rc = run_plain(st, ST_COMMIT, e)) == 0 && st->scrub)
		(void)scrub(st, STORE_SCRUB_COMMIT_MS, NULL); /* or later */
	return rc;
}

int
store_sqlite_scrub_pending(const struct store *st)
{
	return st != NULL && st->scrub;
}

int
store_sqlite_scrub(struct store *st, struct muster_err *e)
{
	return scrub(st, STORE_SCRUB_BUSY_MS, e);
}

/* store_scrub, waiting at most busy_ms for readers. */
static int
scrub(struct store *st, int busy_ms, struct muster_err *e)
{
	int nlog = -1, nckpt = -1, rc;

	if (!st->scrub)
		return 0;
	if (!sqlite3_get_autocommit(st->db))
		return err_set(e, MUSTER_ETEMP, "store: checkpoint inside a "
		    "transaction");
	/*
	 * TRUNCATE copies every frame into the database file (whose freed
	 * bytes secure_delete has zeroed) and cuts the WAL to zero bytes, so
	 * that no old frame keeps what was deleted.  It waits for readers of
	 * an older snapshot, but only briefly: the writer tries again.
	 */
	sqlite3_busy_timeout(st->db, busy_ms);
	rc = sqlite3_wal_checkpoint_v2(st->db, NULL,
	    SQLITE_CHECKPOINT_TRUNCATE, &nlog, &nckpt);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED ||
	    (rc == SQLITE_OK && nlog != 0))
		return err_set(e, MUSTER_ETEMP, "store: checkpoint blocked "
		    "by a reader; will retry");
	if (rc != SQLITE_OK)
		return db_err(st, "checkpoint", e);
	st->scrub = 0;
	return 0;
}

void
store_sqlite_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)run_plain(st, ST_ROLLBACK, NULL);
}

int
store_sqlite_savepoint(struct store *st, struct muster_err *e)
{
	return run_plain(st, ST_SAVEPOINT, e);
}

int
store_sqlite_release(struct store *st, struct muster_err *e)
{
	return run_plain(st, ST_RELEASE, e);
}

void
store_sqlite_rollback_savepoint(struct store *st)
{
	/* ROLLBACK TO keeps the savepoint open; RELEASE pops it. */
	(void)run_plain(st, ST_ROLLBACK_TO, NULL);
	(void)run_plain(st, ST_RELEASE, NULL);
}

int
store_sqlite_device_add(struct store *st, const struct store_device *d,
    time_t expires, struct muster_err *e)
{
	sqlite3_stmt *s;
	time_t now = time(NULL);
	int rc, used, revoked;

	if ((rc = store_token_get(st, d->token_id, &used, &revoked, e)) != 0)
		return rc;
	if (revoked)
		return err_set(e, MUSTER_ETRUST, "token %s is revoked",
		    d->token_id);
	if (used)
		return err_set(e, MUSTER_ETRUST, "token %s was already used",
		    d->token_id);
	if ((s = stmt(st, ST_TOKEN_USE, e)) == NULL)
		return st->err;
	bind_text(s, 1, d->token_id);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, expires);
	if ((rc = run(st, s, "token use", e)) != 0)
		return rc;
	if ((s = stmt(st, ST_DEVICE_INSERT, e)) == NULL)
		return st->err;
	store_sqlite_bind_device(s, d, d->enrolled != 0 ? d->enrolled : now);
	return run(st, s, "device insert", e);
}

static void
copy_col(char *dst, size_t size, sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	snprintf(dst, size, "%s", v != NULL ? (const char *)v : "");
}

int
store_sqlite_device_get(struct store *st, const char *id,
    struct store_device *d, struct muster_err *e)
{
	sqlite3_stmt *s;
	const char *scope;
	int rc, step;

	if ((s = stmt(st, ST_DEVICE_GET, e)) == NULL)
		return st->err;
	bind_text(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = err_set(e, MUSTER_ENOINPUT, "unknown device");
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = db_err(st, "device get", e);
		goto out;
	}
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", id);
	if (sqlite3_column_bytes(s, 0) != (int)sizeof d->pk) {
		rc = err_set(e, MUSTER_EIO, "store: device key of bad size");
		goto out;
	}
	memcpy(d->pk, sqlite3_column_blob(s, 0), sizeof d->pk);
	scope = (const char *)sqlite3_column_text(s, 1);
	if (scope == NULL || profile_scope_parse(scope, &d->scope) != 0) {
		rc = err_set(e, MUSTER_EIO, "store: device of unknown scope");
		goto out;
	}
	copy_col(d->unit, sizeof d->unit, s, 2);
	copy_col(d->person, sizeof d->person, s, 3);
	copy_col(d->model, sizeof d->model, s, 4);
	copy_col(d->token_id, sizeof d->token_id, s, 5);
	d->enrolled = (time_t)sqlite3_column_int64(s, 6);
	d->revoked = sqlite3_column_type(s, 7) != SQLITE_NULL;
	d->last_seq = sqlite3_column_int64(s, 8);
	rc = 0;
out:
	done(s);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
failing_change(struct store *st, const struct store_report *r,
    const char *rule, int failing, struct muster_err *e)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = stmt(st, failing ? ST_FAILING_INSERT : ST_FAILING_DELETE,
	    e)) == NULL)
		return st->err;
	bind_text(s, 1, r->device);
	bind_text(s, 2, rule);
	if (failing)
		sqlite3_bind_int64(s, 3, r->time);
	if ((rc = run(st, s, "failing rule", e)) != 0)
		return rc;
	if (sqlite3_changes(st->db) == 0)
		return 0;
	if ((s = stmt(st, ST_FAILING_HISTORY, e)) == NULL)
		return st->err;
	bind_text(s, 1, r->device);
	bind_text(s, 2, rule);
	sqlite3_bind_int64(s, 3, r->time);
	sqlite3_bind_int64(s, 4, r->seq);
	sqlite3_bind_int(s, 5, failing);
	return run(st, s, "failing history", e);
}

/*
 * Brings device_failing to the report's failing set, recording each rule
 * that starts or stops failing.  Both lists are walked sorted, so a report
 * that changes nothing costs one indexed SELECT.
 */
static int
failing_update(struct store *st, const struct store_report *r,
    struct muster_err *e)
{
	sqlite3_stmt *s;
	const char **now = NULL;
	char **was = NULL;
	size_t nwas = 0, capwas = 0, i, j, n;
	int rc = 0, step, c;

	n = r->nfailing;
	if (n > 0) {
		if ((now = calloc(n, sizeof *now)) == NULL)
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		memcpy(now, r->failing, n * sizeof *now);
		qsort(now, n, sizeof *now, cmp_str);
	}
	if ((s = stmt(st, ST_FAILING_LIST, e)) == NULL) {
		rc = st->err;
		goto out;
	}
	bind_text(s, 1, r->device);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);

		if (nwas == capwas) {
			char **nw;

			capwas = capwas == 0 ? 8 : capwas * 2;
			if ((nw = realloc(was, capwas * sizeof *was)) ==
			    NULL) {
				rc = err_set(e, MUSTER_EINTERNAL,
				    "out of memory");
				break;
			}
			was = nw;
		}
		if ((was[nwas] = strdup(v != NULL ? v : "")) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			break;
		}
		nwas++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(st, "failing list", e);
	done(s);
	if (rc != 0)
		goto out;
	for (i = 0, j = 0; rc == 0 && (i < nwas || j < n);) {
		if (i < nwas && j < n)
			c = strcmp(was[i], now[j]);
		else
			c = i < nwas ? -1 : 1;
		if (c == 0) {
			i++;
			j++;
		} else if (c < 0)
			rc = failing_change(st, r, was[i++], 0, e);
		else
			rc = failing_change(st, r, now[j++], 1, e);
	}
out:
	for (i = 0; i < nwas; i++)
		free(was[i]);
	free(was);
	free(now);
	return rc;
}

/*
 * Binds what the reports row and the device's last_* columns share, as
 * ?1 .. ?7: device, seq, time, received (now), status, profile, serial.
 */
static void
bind_report(sqlite3_stmt *s, const struct store_report *r, time_t now,
    const char *status)
{
	bind_text(s, 1, r->device);
	sqlite3_bind_int64(s, 2, r->seq);
	sqlite3_bind_int64(s, 3, r->time);
	sqlite3_bind_int64(s, 4, now);
	bind_text(s, 5, status);
	bind_text(s, 6, r->profile);
	sqlite3_bind_int64(s, 7, r->serial);
}

int
store_sqlite_report_put(struct store *st, const struct store_report *r,
    enum store_put *res, struct muster_err *e)
{
	unsigned char hash[STORE_HASH_BYTES];
	char last_status[16] = "";
	const char *status = r->compliant ? "compliant" : "noncompliant";
	sqlite3_stmt *s;
	int64_t last_seq, run_first, run_window, window;
	time_t now = r->received != 0 ? r->received : time(NULL), last_time;
	int rc, step, revoked, has_last, has_run;

	if ((s = stmt(st, ST_DEVICE_LAST, e)) == NULL)
		return st->err;
	bind_text(s, 1, r->device);
	step = sqlite3_step(s);
	if (step != SQLITE_ROW) {
		rc = step == SQLITE_DONE ? err_set(e, MUSTER_ENOINPUT,
		    "unknown device") : db_err(st, "device", e);
		done(s);
		return rc;
	}
	last_seq = sqlite3_column_int64(s, 0);
	copy_col(last_status, sizeof last_status, s, 1);
	revoked = sqlite3_column_type(s, 2) != SQLITE_NULL;
	has_last = sqlite3_column_type(s, 3) != SQLITE_NULL;
	last_time = (time_t)sqlite3_column_int64(s, 3);
	has_run = sqlite3_column_type(s, 4) != SQLITE_NULL;
	run_first = sqlite3_column_int64(s, 4);
	run_window = sqlite3_column_int64(s, 5);
	done(s);
	if (revoked)
		return err_set(e, MUSTER_ETRUST, "device revoked");

	crypto_generichash(hash, sizeof hash, r->body, r->len, NULL, 0);
	if (r->seq <= last_seq) {
		if ((s = stmt(st, ST_REPORT_HASH, e)) == NULL)
			return st->err;
		bind_text(s, 1, r->device);
		sqlite3_bind_int64(s, 2, r->seq);
		step = sqlite3_step(s);
		if (step == SQLITE_ROW) {
			*res = sqlite3_column_bytes(s, 0) == (int)sizeof hash &&
			    memcmp(sqlite3_column_blob(s, 0), hash,
			    sizeof hash) == 0 ? STORE_DUPLICATE : STORE_REPLAY;
			rc = 0;
		} else if (step == SQLITE_DONE) {
			*res = STORE_REPLAY;
			rc = 0;
		} else
			rc = db_err(st, "report", e);
		done(s);
		return rc;
	}
	/* History is appended in time order, never written before its end. */
	if (has_last && r->time < last_time) {
		*res = STORE_BACKDATED;
		return 0;
	}

	if ((s = stmt(st, ST_REPORT_INSERT, e)) == NULL)
		return st->err;
	bind_report(s, r, now, status);
	sqlite3_bind_blob(s, 8, hash, sizeof hash, SQLITE_STATIC);
	sqlite3_bind_blob(s, 9, r->body, (int)r->len, SQLITE_STATIC);
	if (r->sig != NULL)
		sqlite3_bind_blob(s, 10, r->sig, STORE_SIG_LEN, SQLITE_STATIC);
	if ((rc = run(st, s, "report insert", e)) != 0)
		return rc;

	/*
	 * The open run goes on while reports come no more than the window
	 * apart, the smallest window it met: a profile that shortened the
	 * interval also shortens the gaps a run may hold.
	 */
	window = r->window > 0 ? r->window : STORE_RUN_WINDOW_DEFAULT;
	if (has_run && has_last && run_window > 0 && run_window < window)
		window = run_window;
	if (!has_run || !has_last || r->time - last_time > window) {
		if (has_run && has_last) {
			if ((s = stmt(st, ST_RUN_CLOSE, e)) == NULL)
				return st->err;
			bind_text(s, 1, r->device);
			sqlite3_bind_int64(s, 2, run_first);
			sqlite3_bind_int64(s, 3, last_time);
			if ((rc = run(st, s, "run close", e)) != 0)
				return rc;
		}
		run_first = r->time;
		window = r->window > 0 ? r->window : STORE_RUN_WINDOW_DEFAULT;
	}

	if ((s = stmt(st, ST_DEVICE_UPDATE, e)) == NULL)
		return st->err;
	bind_report(s, r, now, status);
	sqlite3_bind_int64(s, 8, r->stale);
	sqlite3_bind_int64(s, 9, run_first);
	sqlite3_bind_int64(s, 10, window);
	if ((rc = run(st, s, "device update", e)) != 0)
		return rc;

	if (strcmp(last_status, status) != 0) {
		if ((s = stmt(st, ST_HISTORY_INSERT, e)) == NULL)
			return st->err;
		bind_text(s, 1, r->device);
		sqlite3_bind_int64(s, 2, r->time);
		sqlite3_bind_int64(s, 3, r->seq);
		sqlite3_bind_int64(s, 4, now);
		bind_text(s, 5, status);
		if ((rc = run(st, s, "status history", e)) != 0)
			return rc;
	}
	if ((rc = failing_update(st, r, e)) != 0)
		return rc;
	*res = STORE_STORED;
	return 0;
}

int
store_sqlite_revoke(struct store *st, const char *id, struct muster_err *e)
{
	sqlite3_stmt *s;
	time_t now = time(NULL);
	enum stmt_id what;
	int rc, token;

	if ((rc = store_rules_revoke_id(id, &token, e)) != 0)
		return rc;
	what = token ? ST_REVOKE_TOKEN : ST_REVOKE_DEVICE;
	/* Beside the database first: a restore never undoes it. */
	if ((rc = store_sqlite_journal(st, "revoke", id, now, e)) != 0)
		return rc;
	if ((s = stmt(st, ST_REVOKE_INSERT, e)) == NULL)
		return st->err;
	bind_text(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	if ((rc = run(st, s, "revocation", e)) != 0)
		return rc;
	if ((s = stmt(st, what, e)) == NULL)
		return st->err;
	bind_text(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	return run(st, s, "revoke", e);
}

int
store_sqlite_revoke_used(struct store *st, const char *id,
    char device[DEVICE_ID_HEX], struct muster_err *e)
{
	sqlite3_stmt *s;
	int rc, step;

	device[0] = '\0';
	if ((rc = store_sqlite_revoke(st, id, e)) != 0 ||
	    !store_rules_hex_id(id, TOKEN_ID_HEX - 1))
		return rc;
	if ((s = stmt(st, ST_TOKEN_DEVICE, e)) == NULL)
		return st->err;
	bind_text(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		copy_col(device, DEVICE_ID_HEX, s, 0);
	rc = step == SQLITE_ROW || step == SQLITE_DONE ? 0 :
	    db_err(st, "token device", e);
	done(s);
	if (rc != 0 || device[0] == '\0')
		return rc;
	if (!store_rules_hex_id(device, DEVICE_ID_HEX - 1)) {
		device[0] = '\0';
		return err_set(e, MUSTER_EIO, "token %s: a malformed device "
		    "id in the store", id);
	}
	return store_sqlite_revoke(st, device, e);
}

int
store_sqlite_token_get(struct store *st, const char *token_id, int *used,
    int *revoked, struct muster_err *e)
{
	sqlite3_stmt *s;
	int rc = 0, step;

	*used = *revoked = 0;
	if ((s = stmt(st, ST_TOKEN_GET, e)) == NULL)
		return st->err;
	bind_text(s, 1, token_id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		*used = sqlite3_column_type(s, 0) != SQLITE_NULL;
		*revoked = sqlite3_column_type(s, 1) != SQLITE_NULL;
	} else if (step != SQLITE_DONE)
		rc = db_err(st, "token", e);
	done(s);
	return rc;
}

int
store_sqlite_token_revoked(struct store *st, const char *token_id, int *revoked,
    struct muster_err *e)
{
	int used;

	return store_token_get(st, token_id, &used, revoked, e);
}

int
store_sqlite_device_delete(struct store *st, const char *id,
    struct muster_err *e)
{
	struct store_device d;
	sqlite3_stmt *s;
	int rc;

	if ((rc = store_sqlite_device_get(st, id, &d, e)) != 0)
		return rc;
	if ((s = stmt(st, ST_DEVICE_DELETE, e)) == NULL)
		return st->err;
	bind_text(s, 1, id);
	if ((rc = run(st, s, "device delete", e)) != 0)
		return rc;
	if (sqlite3_changes(st->db) == 0)
		return err_set(e, MUSTER_ENOINPUT, "unknown device");
	st->scrub = 1;
	/* A restore of an older backup must not bring the device back. */
	if ((rc = store_sqlite_journal(st, "gone", id, time(NULL), e)) != 0)
		return rc;
	/* A revoked device's id is all that would be left of it. */
	if ((s = stmt(st, ST_REVOKE_FORGET, e)) == NULL)
		return st->err;
	bind_text(s, 1, id);
	if ((rc = run(st, s, "revocation delete", e)) != 0 ||
	    d.scope != SCOPE_FAMILY)
		return rc;
	/*
	 * A family member's token id names them in the organisation's
	 * roster: forget it, unless a revocation of it must hold.
	 */
	if ((s = stmt(st, ST_TOKEN_FORGET, e)) == NULL)
		return st->err;
	bind_text(s, 1, d.token_id);
	return run(st, s, "token delete", e);
}

static int
consent_put(struct store *st, const struct store_consent *c, int which,
    struct muster_err *e)
{
	sqlite3_stmt *s;

	if (c->len > INT_MAX)
		return err_set(e, MUSTER_EDATA, "consent too large");
	if ((s = stmt(st, which, e)) == NULL)
		return st->err;
	bind_text(s, 1, c->device);
	sqlite3_bind_int64(s, 2, c->time);
	sqlite3_bind_int64(s, 3, time(NULL));
	bind_text(s, 4, c->token_id);
	sqlite3_bind_blob(s, 5, c->text_hash, sizeof c->text_hash,
	    SQLITE_STATIC);
	bind_text(s, 6, c->profile);
	if (c->profile != NULL)
		sqlite3_bind_int64(s, 7, c->serial);
	bind_text(s, 8, c->remediate);
	sqlite3_bind_blob(s, 9, c->body, (int)c->len, SQLITE_STATIC);
	sqlite3_bind_blob(s, 10, c->sig, sizeof c->sig, SQLITE_STATIC);
	return run(st, s, "consent insert", e);
}

int
store_sqlite_consent_add(struct store *st, const struct store_consent *c,
    struct muster_err *e)
{
	return consent_put(st, c, ST_CONSENT_INSERT, e);
}

int
store_sqlite_consent_replace(struct store *st, const struct store_consent *c,
    struct muster_err *e)
{
	return consent_put(st, c, ST_CONSENT_REPLACE, e);
}

int
store_sqlite_profile_publish(struct store *st, const struct profile *p,
    const char *bytes, size_t len, const char *sig, size_t siglen,
    enum store_put *res, struct muster_err *e)
{
	unsigned char hash[STORE_HASH_LEN];
	sqlite3_stmt *s;
	int rc, step;

	if ((rc = store_rules_profile_hash(bytes, len, siglen, hash, e)) != 0)
		return rc;
	if ((s = stmt(st, ST_PROFILE_NEWEST, e)) == NULL)
		return st->err;
	bind_text(s, 1, p->id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		int same = sqlite3_column_bytes(s, 1) == (int)sizeof hash &&
		    memcmp(sqlite3_column_blob(s, 1), hash, sizeof hash) == 0;
		int64_t serial = sqlite3_column_int64(s, 0);

		done(s);
		if (!store_rules_profile_newer(p, serial, same, res))
			return 0;
	} else {
		rc = step == SQLITE_DONE ? 0 : db_err(st, "profile", e);
		done(s);
		if (rc != 0)
			return rc;
	}
	if ((s = stmt(st, ST_PROFILE_INSERT, e)) == NULL)
		return st->err;
	bind_text(s, 1, p->id);
	sqlite3_bind_int64(s, 2, p->serial);
	bind_text(s, 3, profile_scope_name(p->scope));
	sqlite3_bind_int64(s, 4, p->expires);
	sqlite3_bind_int64(s, 5, time(NULL));
	sqlite3_bind_blob(s, 6, hash, sizeof hash, SQLITE_STATIC);
	sqlite3_bind_blob(s, 7, bytes, (int)len, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, sig, (int)siglen, SQLITE_STATIC);
	if ((rc = run(st, s, "profile insert", e)) != 0)
		return rc;
	*res = STORE_STORED;
	return 0;
}

/* A malloc'd NUL-terminated copy of column col of s. */
static char *
col_dup(sqlite3_stmt *s, int col, size_t *len)
{
	const void *v = sqlite3_column_blob(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(p, v, n);
	p[n] = '\0';
	*len = n;
	return p;
}

void
store_profile_clear(struct store_profile *p)
{
	if (p == NULL)
		return;
	free(p->bytes);
	free(p->sig);
	memset(p, 0, sizeof *p);
}

/* The row of s (ST_PROFILE_CURRENT or _FIND, bound) into *out. */
static int
profile_row(struct store *st, sqlite3_stmt *s, const char *what,
    struct store_profile *out, struct muster_err *e)
{
	int rc, step;

	memset(out, 0, sizeof *out);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = err_set(e, MUSTER_ENOINPUT, "no profile published for "
		    "%s", what);
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = db_err(st, "profile", e);
		goto out;
	}
	copy_col(out->id, sizeof out->id, s, 0);
	out->serial = sqlite3_column_int64(s, 1);
	out->expires = (time_t)sqlite3_column_int64(s, 2);
	out->published = (time_t)sqlite3_column_int64(s, 3);
	if ((out->bytes = col_dup(s, 4, &out->len)) == NULL ||
	    (out->sig = col_dup(s, 5, &out->siglen)) == NULL) {
		store_profile_clear(out);
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	done(s);
	return rc;
}

int
store_sqlite_profile_current(struct store *st, enum profile_scope scope,
    struct store_profile *out, struct muster_err *e)
{
	char what[32];
	sqlite3_stmt *s;

	memset(out, 0, sizeof *out);
	if ((s = stmt(st, ST_PROFILE_CURRENT, e)) == NULL)
		return st->err;
	bind_text(s, 1, profile_scope_name(scope));
	snprintf(what, sizeof what, "scope %s", profile_scope_name(scope));
	return profile_row(st, s, what, out, e);
}

int
store_sqlite_profile_find(struct store *st, const char *id, int64_t serial,
    struct store_profile *out, struct muster_err *e)
{
	char what[PROFILE_ID_MAX + 48];
	sqlite3_stmt *s;

	memset(out, 0, sizeof *out);
	if ((s = stmt(st, ST_PROFILE_FIND, e)) == NULL)
		return st->err;
	bind_text(s, 1, id);
	sqlite3_bind_int64(s, 2, serial);
	snprintf(what, sizeof what, "%s serial %lld", id, (long long)serial);
	return profile_row(st, s, what, out, e);
}

int
store_sqlite_profile_get(struct store *st, enum profile_scope scope,
    char **bytes, size_t *len, char **sig, size_t *siglen, struct muster_err *e)
{
	struct store_profile p;
	int rc;

	*bytes = *sig = NULL;
	*len = *siglen = 0;
	if ((rc = store_sqlite_profile_current(st, scope, &p, e)) != 0)
		return rc;
	*bytes = p.bytes;
	*len = p.len;
	*sig = p.sig;
	*siglen = p.siglen;
	return 0;
}

static int
count(struct store *st, enum stmt_id id, int64_t *n, struct muster_err *e)
{
	sqlite3_stmt *s;
	int rc = 0;

	if ((s = stmt(st, id, e)) == NULL)
		return st->err;
	if (sqlite3_step(s) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		rc = db_err(st, "count", e);
	done(s);
	return rc;
}

int
store_sqlite_count_devices(struct store *st, int64_t *n, struct muster_err *e)
{
	return count(st, ST_COUNT_DEVICES, n, e);
}

int
store_sqlite_count_reports(struct store *st, int64_t *n, struct muster_err *e)
{
	return count(st, ST_COUNT_REPORTS, n, e);
}

int
store_sqlite_ping(struct store *st, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	/* A read of a real table: the file is there, readable, the schema. */
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM devices LIMIT 1", -1,
	    &s, NULL) != SQLITE_OK)
		return db_err(st, "ping", e);
	rc = sqlite3_step(s);
	rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_err(st, "ping", e);
	sqlite3_finalize(s);
	return rc;
}
