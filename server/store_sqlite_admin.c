/*
 * store_sqlite_admin: the administrators and the audit log in the SQLite
 * store (store.h, "Administrators and the audit log").
 *
 * A handle of its own on muster.db: the server uses it from request
 * threads under audit.c's lock, and `muster-server admin|audit` from
 * another process at the same time.  Every write starts with BEGIN
 * IMMEDIATE, so an append reads the newest entry and writes the next one
 * holding the database's write lock: two appenders, in one process or
 * two, never chain onto the same entry.
 *
 * The tables are created IF NOT EXISTS, outside the schema version of
 * store_sqlite.c: they only ever gain rows.  Triggers refuse UPDATE and
 * DELETE of audit rows, so that no code path (retention, a restore tool)
 * removes one by mistake; someone with the file can drop them, which is
 * what the hash chain and the signed checkpoints are for (audit.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "muster/fs.h"
#include "store.h"
#include "store_sqlite_int.h"

#define ADM_BUSY_MS	10000

static const char adm_schema_sql[] =
"CREATE TABLE IF NOT EXISTS admins ("
"  name TEXT PRIMARY KEY,"
"  roles INTEGER NOT NULL,"
"  hash BLOB NOT NULL UNIQUE,"
"  created INTEGER NOT NULL,"
"  rotated INTEGER NOT NULL) WITHOUT ROWID;"
"CREATE TABLE IF NOT EXISTS admin_meta ("
"  key TEXT PRIMARY KEY,"
"  value INTEGER NOT NULL) WITHOUT ROWID;"
"CREATE TABLE IF NOT EXISTS audit ("
"  seq INTEGER PRIMARY KEY,"
"  time INTEGER NOT NULL,"
"  actor TEXT NOT NULL,"
"  addr TEXT NOT NULL,"
"  action TEXT NOT NULL,"
"  object TEXT NOT NULL,"
"  outcome TEXT NOT NULL,"
"  hash BLOB NOT NULL);"
"CREATE TABLE IF NOT EXISTS audit_checkpoints ("
"  seq INTEGER PRIMARY KEY,"
"  time INTEGER NOT NULL,"
"  hash BLOB NOT NULL,"
"  sig BLOB NOT NULL);"
"CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
"CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
"CREATE TRIGGER IF NOT EXISTS audit_ckpt_no_update BEFORE UPDATE ON "
"  audit_checkpoints "
"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
"CREATE TRIGGER IF NOT EXISTS audit_ckpt_no_delete BEFORE DELETE ON "
"  audit_checkpoints "
"  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;";

struct store_adm {
	const struct store_ops *ops;	/* first: store_backend.h */
	sqlite3		*db;
	int		 readonly;
};

/* Maps the last error of sa to MUSTER_E*, naming what. */
static int
adm_err(struct store_adm *sa, const char *what, struct muster_err *e)
{
	int code = sqlite3_extended_errcode(sa->db) & 0xff, rc;

	rc = code == SQLITE_BUSY || code == SQLITE_LOCKED ? MUSTER_ETEMP :
	    code == SQLITE_CONSTRAINT ? MUSTER_EDATA :
	    code == SQLITE_NOMEM ? MUSTER_EINTERNAL : MUSTER_EIO;
	return err_set(e, rc, "store: %s: %s", what, sqlite3_errmsg(sa->db));
}

static int
adm_exec(struct store_adm *sa, const char *sql, struct muster_err *e)
{
	if (sqlite3_exec(sa->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return adm_err(sa, sql, e);
	return 0;
}

static int
adm_prepare(struct store_adm *sa, const char *sql, sqlite3_stmt **s,
    struct muster_err *e)
{
	if (sqlite3_prepare_v2(sa->db, sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return adm_err(sa, "prepare", e);
	}
	return 0;
}

/* Steps the bound write s once and finalizes it; 0 or adm_err(what). */
static int
adm_run(struct store_adm *sa, sqlite3_stmt *s, const char *what,
    struct muster_err *e)
{
	int rc = sqlite3_step(s) == SQLITE_DONE ? 0 : adm_err(sa, what, e);

	sqlite3_finalize(s);
	return rc;
}

/* Ends a transaction: COMMIT when rc is 0 (its failure returned). */
static int
adm_end(struct store_adm *sa, int rc, struct muster_err *e)
{
	if (rc == 0)
		return adm_exec(sa, "COMMIT", e);
	(void)sqlite3_exec(sa->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int
store_sqlite_adm_open(const char *dir, int readonly, struct store_adm **out,
    struct muster_err *e)
{
	struct store_adm *sa = NULL;
	char *path = NULL;
	int rc;

	*out = NULL;
	/*
	 * No open(2) of the database here: closing any descriptor of it
	 * would drop the POSIX locks of every SQLite handle this process
	 * holds on it (the server's writer and readers).
	 */
	if ((rc = fs_check_private(dir, e)) != 0)
		goto out;
	if ((path = fs_path(dir, STORE_DB_FILE)) == NULL ||
	    (sa = calloc(1, sizeof *sa)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	sa->ops = &store_sqlite_ops;
	sa->readonly = readonly;
	if ((rc = fs_check_private(path, e)) != 0)
		goto out;
	if ((rc = store_sqlite_db_open(path, readonly, ADM_BUSY_MS, &sa->db,
	    e)) != 0 ||
	    (rc = adm_exec(sa, "PRAGMA synchronous = FULL", e)) != 0)
		goto out;
	if (readonly)
		rc = adm_exec(sa, "PRAGMA query_only = ON", e);
	else if ((rc = adm_exec(sa, "BEGIN IMMEDIATE", e)) == 0)
		rc = adm_end(sa, adm_exec(sa, adm_schema_sql, e), e);
	if (rc != 0)
		goto out;
	*out = sa;
	sa = NULL;
out:
	store_adm_close(sa);
	free(path);
	return rc;
}

void
store_sqlite_adm_close(struct store_adm *sa)
{
	if (sa == NULL)
		return;
	sqlite3_close(sa->db);
	free(sa);
}

/* Copies column i (text) into buf of size n, cut if longer. */
static void
col_text(sqlite3_stmt *s, int i, char *buf, size_t n)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	snprintf(buf, n, "%s", v != NULL ? (const char *)v : "");
}

/* Copies column i (a blob of exactly n bytes) into buf; -1 otherwise. */
static int
col_blob(sqlite3_stmt *s, int i, unsigned char *buf, size_t n)
{
	const void *v = sqlite3_column_blob(s, i);

	if (v == NULL || (size_t)sqlite3_column_bytes(s, i) != n) {
		memset(buf, 0, n);
		return -1;
	}
	memcpy(buf, v, n);
	return 0;
}

/*
 * Runs sql (no parameters) and collects its rows into a malloc'd array
 * of elements of size bytes, each zeroed and then filled by row(s, el);
 * *list (the caller's to free) and *n, what names the table in errors.
 * 0 or MUSTER_E*.
 */
static int
adm_rows(struct store_adm *sa, const char *sql, const char *what,
    size_t size, void (*row)(sqlite3_stmt *, void *), void **list,
    size_t *n, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	char *l = NULL, *nl;
	size_t cnt = 0, cap = 0;
	int rc, step;

	*list = NULL;
	*n = 0;
	if ((rc = adm_prepare(sa, sql, &s, e)) != 0)
		return rc;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			if ((nl = realloc(l, cap * size)) == NULL) {
				rc = err_set(e, MUSTER_EINTERNAL,
				    "out of memory");
				goto out;
			}
			l = nl;
		}
		memset(l + cnt * size, 0, size);
		row(s, l + cnt * size);
		cnt++;
	}
	if (step != SQLITE_DONE) {
		rc = adm_err(sa, what, e);
		goto out;
	}
	*list = l;
	*n = cnt;
	l = NULL;
out:
	free(l);
	sqlite3_finalize(s);
	return rc;
}

/* One row of the admins table into a struct store_admin. */
static void
admin_row(sqlite3_stmt *s, void *el)
{
	struct store_admin *a = el;

	col_text(s, 0, a->name, sizeof a->name);
	a->roles = (unsigned)sqlite3_column_int64(s, 1);
	/* A hash of another length matches no credential. */
	(void)col_blob(s, 2, a->hash, sizeof a->hash);
	a->created = (time_t)sqlite3_column_int64(s, 3);
	a->rotated = (time_t)sqlite3_column_int64(s, 4);
}

int
store_sqlite_admin_list(struct store_adm *sa, struct store_admin **list,
    size_t *n, struct muster_err *e)
{
	void *l;
	int rc;

	rc = adm_rows(sa, "SELECT name, roles, hash, created, rotated "
	    "FROM admins ORDER BY name", "admins", sizeof **list, admin_row,
	    &l, n, e);
	*list = l;
	return rc;
}

/* Inserts a (inside the caller's transaction). */
static int
admin_insert(struct store_adm *sa, const struct store_admin *a,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = adm_prepare(sa, "INSERT INTO admins (name, roles, hash, "
	    "created, rotated) VALUES (?1, ?2, ?3, ?4, ?5)", &s, e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, a->roles);
	sqlite3_bind_blob(s, 3, a->hash, sizeof a->hash, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)a->created);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)a->rotated);
	return adm_run(sa, s, "admin add", e);
}

int
store_sqlite_admin_add(struct store_adm *sa, const struct store_admin *a,
    struct muster_err *e)
{
	int rc;

	if ((rc = adm_exec(sa, "BEGIN IMMEDIATE", e)) != 0)
		return rc;
	rc = admin_insert(sa, a, e);
	if (rc == MUSTER_EDATA)
		err_set(e, rc, "administrator \"%s\" exists", a->name);
	return adm_end(sa, rc, e);
}

/* Runs s (bound by the caller) as one write; ENOINPUT if no row changed. */
static int
admin_change(struct store_adm *sa, sqlite3_stmt *s, const char *name,
    struct muster_err *e)
{
	int rc;

	if ((rc = adm_exec(sa, "BEGIN IMMEDIATE", e)) != 0)
		goto out;
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = adm_err(sa, "admins", e);
	else if (sqlite3_changes(sa->db) == 0)
		rc = err_set(e, MUSTER_ENOINPUT, "no administrator \"%s\"",
		    name);
	rc = adm_end(sa, rc, e);
out:
	sqlite3_finalize(s);
	return rc;
}

int
store_sqlite_admin_rotate(struct store_adm *sa, const char *name,
    const unsigned char hash[STORE_HASH_LEN], time_t when,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = adm_prepare(sa, "UPDATE admins SET hash = ?2, rotated = ?3 "
	    "WHERE name = ?1", &s, e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)when);
	return admin_change(sa, s, name, e);
}

int
store_sqlite_admin_remove(struct store_adm *sa, const char *name,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = adm_prepare(sa, "DELETE FROM admins WHERE name = ?1", &s,
	    e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	return admin_change(sa, s, name, e);
}

int
store_sqlite_admin_bootstrap(struct store_adm *sa, const struct store_admin *a,
    int *added, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc, done = 0;

	*added = 0;
	if ((rc = adm_exec(sa, "BEGIN IMMEDIATE", e)) != 0)
		return rc;
	if ((rc = adm_prepare(sa, "SELECT 1 FROM admin_meta WHERE key = "
	    "'bootstrapped'", &s, e)) != 0)
		goto out;
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		done = 1;
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = adm_err(sa, "admin_meta", e);
		goto out;
	}
	if (done)
		goto out;
	if ((rc = admin_insert(sa, a, e)) != 0 ||
	    (rc = adm_exec(sa, "INSERT INTO admin_meta (key, value) VALUES "
	    "('bootstrapped', 1)", e)) != 0)
		goto out;
	*added = 1;
out:
	sqlite3_finalize(s);
	rc = adm_end(sa, rc, e);
	if (rc != 0)
		*added = 0;
	return rc;
}

/* The newest entry, inside the caller's transaction. */
static int
audit_last(struct store_adm *sa, int64_t *seq,
    unsigned char hash[STORE_HASH_LEN], struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*seq = 0;
	memset(hash, 0, STORE_HASH_LEN);
	if ((rc = adm_prepare(sa, "SELECT seq, hash FROM audit ORDER BY seq "
	    "DESC LIMIT 1", &s, e)) != 0)
		return rc;
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		*seq = sqlite3_column_int64(s, 0);
		(void)col_blob(s, 1, hash, STORE_HASH_LEN);
		break;
	case SQLITE_DONE:
		break;
	default:
		rc = adm_err(sa, "audit", e);
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_sqlite_audit_last(struct store_adm *sa, int64_t *seq,
    unsigned char hash[STORE_HASH_LEN], struct muster_err *e)
{
	return audit_last(sa, seq, hash, e);
}

/* Inserts ck (inside the caller's transaction). */
static int
ckpt_insert(struct store_adm *sa, const struct store_audit_ckpt *ck,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((rc = adm_prepare(sa, "INSERT INTO audit_checkpoints (seq, time, "
	    "hash, sig) VALUES (?1, ?2, ?3, ?4)", &s, e)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, ck->seq);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)ck->time);
	sqlite3_bind_blob(s, 3, ck->hash, sizeof ck->hash, SQLITE_STATIC);
	sqlite3_bind_blob(s, 4, ck->sig, sizeof ck->sig, SQLITE_STATIC);
	return adm_run(sa, s, "audit checkpoint", e);
}

int
store_sqlite_audit_append(struct store_adm *sa, struct store_audit_entry *a,
    store_audit_seal_fn seal, void *arg, struct muster_err *e)
{
	struct store_audit_ckpt ck;
	unsigned char prev[STORE_HASH_LEN];
	sqlite3_stmt *s = NULL;
	int64_t last;
	int rc, want = 0;

	if ((rc = adm_exec(sa, "BEGIN IMMEDIATE", e)) != 0)
		return rc;
	if ((rc = audit_last(sa, &last, prev, e)) != 0)
		goto out;
	a->seq = last + 1;
	memset(&ck, 0, sizeof ck);
	if ((rc = seal(a, prev, &ck, &want, arg)) != 0) {
		err_set(e, rc, "audit: cannot seal entry %lld",
		    (long long)a->seq);
		goto out;
	}
	if ((rc = adm_prepare(sa, "INSERT INTO audit (seq, time, actor, addr, "
	    "action, object, outcome, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	    "?7, ?8)", &s, e)) != 0)
		goto out;
	sqlite3_bind_int64(s, 1, a->seq);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)a->time);
	sqlite3_bind_text(s, 3, a->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, a->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, a->outcome, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 8, a->hash, sizeof a->hash, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = adm_err(sa, "audit append", e);
		goto out;
	}
	if (want)
		rc = ckpt_insert(sa, &ck, e);
out:
	sqlite3_finalize(s);
	return adm_end(sa, rc, e);
}

int
store_sqlite_audit_scan(struct store_adm *sa, int64_t from,
    int (*fn)(const struct store_audit_entry *, void *), void *arg,
    struct muster_err *e)
{
	struct store_audit_entry a;
	sqlite3_stmt *s = NULL;
	int rc, step;

	if ((rc = adm_prepare(sa, "SELECT seq, time, actor, addr, action, "
	    "object, outcome, hash FROM audit WHERE seq >= ?1 ORDER BY seq",
	    &s, e)) != 0)
		return rc;
	sqlite3_bind_int64(s, 1, from);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&a, 0, sizeof a);
		a.seq = sqlite3_column_int64(s, 0);
		a.time = (time_t)sqlite3_column_int64(s, 1);
		col_text(s, 2, a.actor, sizeof a.actor);
		col_text(s, 3, a.addr, sizeof a.addr);
		col_text(s, 4, a.action, sizeof a.action);
		col_text(s, 5, a.object, sizeof a.object);
		col_text(s, 6, a.outcome, sizeof a.outcome);
		/* A hash cut or grown by an edit is zeros: it breaks the chain. */
		(void)col_blob(s, 7, a.hash, sizeof a.hash);
		if ((rc = fn(&a, arg)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE)
		rc = adm_err(sa, "audit", e);
out:
	sqlite3_finalize(s);
	return rc;
}

int
store_sqlite_audit_ckpt_put(struct store_adm *sa,
    const struct store_audit_ckpt *ck, struct muster_err *e)
{
	int rc;

	if ((rc = adm_exec(sa, "BEGIN IMMEDIATE", e)) != 0)
		return rc;
	return adm_end(sa, ckpt_insert(sa, ck, e), e);
}

/* One row of audit_checkpoints into a struct store_audit_ckpt. */
static void
ckpt_row(sqlite3_stmt *s, void *el)
{
	struct store_audit_ckpt *ck = el;

	ck->seq = sqlite3_column_int64(s, 0);
	ck->time = (time_t)sqlite3_column_int64(s, 1);
	(void)col_blob(s, 2, ck->hash, sizeof ck->hash);
	(void)col_blob(s, 3, ck->sig, sizeof ck->sig);
}

int
store_sqlite_audit_ckpts(struct store_adm *sa, struct store_audit_ckpt **list,
    size_t *n, struct muster_err *e)
{
	void *l;
	int rc;

	rc = adm_rows(sa, "SELECT seq, time, hash, sig FROM "
	    "audit_checkpoints ORDER BY seq", "audit checkpoints",
	    sizeof **list, ckpt_row, &l, n, e);
	*list = l;
	return rc;
}
