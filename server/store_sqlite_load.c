/*
 * store_sqlite_load: bulk loading of the SQLite store for benchmark
 * tools; see store.h.  The schema is store_sqlite.c's; the loader writes
 * its rows as the server would have, with the journal off, synchronous
 * off, a large page cache and the file locked, in one transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <sqlite3.h>

#include "muster/fs.h"
#include "store_sqlite.h"

enum load_stmt {
	L_TOKEN,
	L_DEVICE,
	L_REPORT,
	L_HISTORY,
	L_FHIST,
	L_FAILING,
	L_RUN,
	L__N
};

static const char *const load_sql[L__N] = {
	[L_TOKEN] = "INSERT INTO tokens (id, used, expires) "
	    "VALUES (?1, ?2, ?3)",
	[L_DEVICE] = "INSERT INTO devices (id, pubkey, scope, unit, person, "
	    "model, token_id, enrolled, last_seq, last_time, last_received, "
	    "last_status, last_profile, last_serial) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[L_REPORT] = "INSERT INTO reports (device, seq, time, received, "
	    "status, profile, serial, hash, body) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9)",
	[L_HISTORY] = "INSERT INTO status_history (device, time, seq, "
	    "received, status) VALUES (?1, ?2, ?3, ?4, ?5)",
	[L_FHIST] = "INSERT INTO failing_history (device, rule, time, seq, "
	    "failing) VALUES (?1, ?2, ?3, ?4, ?5)",
	[L_FAILING] = "INSERT INTO device_failing (device, rule, since) "
	    "VALUES (?1, ?2, ?3)",
	/* Each loaded report its own run: --as-of reads what was loaded. */
	[L_RUN] = "INSERT OR IGNORE INTO report_runs (device, first, last) "
	    "VALUES (?1, ?2, ?2)",
};

/* No journal, no fsync, the file ours alone: one transaction. */
static const char load_begin_sql[] =
"PRAGMA journal_mode = DELETE;"
"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
"PRAGMA cache_size = -3000000; PRAGMA locking_mode = EXCLUSIVE;"
"PRAGMA temp_store = MEMORY; BEGIN";

static const char load_end_sql[] =
"PRAGMA locking_mode = NORMAL;"
"PRAGMA journal_mode = WAL";

struct store_load {
	const struct store_ops *ops;	/* first: store_backend.h */
	sqlite3		*db;
	sqlite3_stmt	*s[L__N];
};

static int
load_err(sqlite3 *db, const char *what, struct muster_err *e)
{
	return err_set(e, MUSTER_EIO, "store: %s: %s", what,
	    db != NULL ? sqlite3_errmsg(db) : "cannot open");
}

static int
load_exec(sqlite3 *db, const char *sql, struct muster_err *e)
{
	char *msg = NULL;
	int rc = 0;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = err_set(e, MUSTER_EIO, "store: %.60s: %s", sql,
		    msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
	}
	return rc;
}

/* Runs the bound statement id once and resets it for the next row. */
static int
load_step(struct store_load *l, enum load_stmt id, struct muster_err *e)
{
	int rc = sqlite3_step(l->s[id]);

	sqlite3_reset(l->s[id]);
	return rc == SQLITE_DONE ? 0 : load_err(l->db, "load", e);
}

static const char *
status_name(int compliant)
{
	return compliant ? "compliant" : "noncompliant";
}

int
store_sqlite_load_open(const char *dir, struct store_load **out,
    struct muster_err *e)
{
	struct store_load *l = NULL;
	char *path = NULL;
	int rc, k;

	*out = NULL;
	if ((path = fs_path(dir, STORE_DB_FILE)) == NULL ||
	    (l = calloc(1, sizeof *l)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	l->ops = &store_sqlite_ops;
	if (sqlite3_open(path, &l->db) != SQLITE_OK) {
		rc = load_err(l->db, path, e);
		goto out;
	}
	if ((rc = load_exec(l->db, load_begin_sql, e)) != 0)
		goto out;
	for (k = 0; k < L__N; k++)
		if (sqlite3_prepare_v2(l->db, load_sql[k], -1, &l->s[k],
		    NULL) != SQLITE_OK) {
			rc = load_err(l->db, "prepare", e);
			goto out;
		}
	*out = l;
	l = NULL;
	rc = 0;
out:
	store_sqlite_load_close(l);
	free(path);
	return rc;
}

int
store_sqlite_load_finish(struct store_load *l, struct muster_err *e)
{
	int rc, k;

	if ((rc = load_exec(l->db, "COMMIT", e)) != 0)
		return rc;
	for (k = 0; k < L__N; k++) {
		sqlite3_finalize(l->s[k]);
		l->s[k] = NULL;
	}
	return load_exec(l->db, load_end_sql, e);
}

void
store_sqlite_load_close(struct store_load *l)
{
	int k;

	if (l == NULL)
		return;
	for (k = 0; k < L__N; k++)
		sqlite3_finalize(l->s[k]);
	sqlite3_close(l->db);
	free(l);
}

int
store_sqlite_load_profiles_published(struct store_load *l, time_t published,
    struct muster_err *e)
{
	char sql[80];

	snprintf(sql, sizeof sql, "UPDATE profiles SET published = %lld",
	    (long long)published);
	return load_exec(l->db, sql, e);
}

int
store_sqlite_load_token(struct store_load *l, const char *id, time_t used,
    time_t expires, struct muster_err *e)
{
	sqlite3_stmt *s = l->s[L_TOKEN];

	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, used);
	sqlite3_bind_int64(s, 3, expires);
	return load_step(l, L_TOKEN, e);
}

int
store_sqlite_load_device(struct store_load *l,
    const struct store_load_device *d, struct muster_err *e)
{
	sqlite3_stmt *s = l->s[L_DEVICE];
	int k;

	sqlite3_bind_text(s, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 2, d->pk, 32, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, profile_scope_name(d->scope), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s, 4, d->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, d->person, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, d->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 7, d->token_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, d->enrolled);
	sqlite3_bind_int64(s, 9, d->last_seq);
	if (d->last_seq > 0) {
		sqlite3_bind_int64(s, 10, d->last_time);
		sqlite3_bind_int64(s, 11, d->last_received);
		sqlite3_bind_text(s, 12, status_name(d->last_compliant), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(s, 13, d->last_profile, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 14, d->last_serial);
	} else
		for (k = 10; k <= 14; k++)
			sqlite3_bind_null(s, k);
	return load_step(l, L_DEVICE, e);
}

int
store_sqlite_load_report(struct store_load *l,
    const struct store_load_report *r, struct muster_err *e)
{
	sqlite3_stmt *s = l->s[L_REPORT];
	int rc;

	sqlite3_bind_text(s, 1, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->seq);
	sqlite3_bind_int64(s, 3, r->time);
	sqlite3_bind_int64(s, 4, r->received);
	sqlite3_bind_text(s, 5, status_name(r->compliant), -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, r->profile, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, r->serial);
	sqlite3_bind_blob(s, 8, r->hash, STORE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(s, 9, r->body, (int)r->len, SQLITE_STATIC);
	if ((rc = load_step(l, L_REPORT, e)) != 0)
		return rc;
	s = l->s[L_RUN];
	sqlite3_bind_text(s, 1, r->device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, r->time);
	return load_step(l, L_RUN, e);
}

int
store_sqlite_load_status(struct store_load *l, const char *device, time_t time,
    int64_t seq, time_t received, int compliant, struct muster_err *e)
{
	sqlite3_stmt *s = l->s[L_HISTORY];

	sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, time);
	sqlite3_bind_int64(s, 3, seq);
	sqlite3_bind_int64(s, 4, received);
	sqlite3_bind_text(s, 5, status_name(compliant), -1, SQLITE_STATIC);
	return load_step(l, L_HISTORY, e);
}

int
store_sqlite_load_failing_change(struct store_load *l, const char *device,
    const char *rule, time_t time, int64_t seq, int failing,
    struct muster_err *e)
{
	sqlite3_stmt *s = l->s[L_FHIST];

	sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, time);
	sqlite3_bind_int64(s, 4, seq);
	sqlite3_bind_int(s, 5, failing);
	return load_step(l, L_FHIST, e);
}

int
store_sqlite_load_failing(struct store_load *l, const char *device,
    const char *rule, time_t since, struct muster_err *e)
{
	sqlite3_stmt *s = l->s[L_FAILING];

	sqlite3_bind_text(s, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, rule, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, since);
	return load_step(l, L_FAILING, e);
}

int
store_sqlite_load_try(const char *dir, const char *stmt, struct muster_err *e)
{
	sqlite3 *db = NULL;
	char *path = NULL;
	int rc;

	if ((path = fs_path(dir, STORE_DB_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		rc = load_err(db, path, e);
	else if ((rc = load_exec(db, "PRAGMA cache_size = -1000000", e)) == 0)
		rc = load_exec(db, stmt, e);
	sqlite3_close(db);
	free(path);
	return rc;
}
