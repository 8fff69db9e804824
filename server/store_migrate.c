/*
 * store_migrate: an SQLite store moved into an empty PostgreSQL store
 * (muster-server migrate); see store.h.  The one place that reads one
 * backend and writes the other: the tables are the same column for
 * column (store_pg.c mirrors store_sqlite.c), so each is read in key
 * order from one SQLite read transaction and written with COPY inside
 * one PostgreSQL transaction; the roots and manifests of data_dir/trust
 * become the PostgreSQL store's documents.  Either all of it arrives or
 * nothing does; then the rows of every table are counted on both sides.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "muster/fs.h"
#include "store_pg.h"

#define MIGRATE_BUF	(1 << 20)	/* COPY data sent in pieces of */
#define MIGRATE_DOC_MAX	(64 * 1024)	/* a root or manifest file */

/* The tables, parents first; columns as both schemas name them. */
static const struct {
	const char	*name;
	const char	*cols;
	const char	*order;
} tables[STORE_MIGRATE_TABLES] = {
	{ "tokens", "id, used, revoked, expires", "id" },
	{ "devices", "id, pubkey, scope, unit, person, model, token_id, "
	    "enrolled, revoked, last_seq, last_time, last_received, "
	    "last_status, last_profile, last_serial, last_stale, run_first, "
	    "run_window", "id" },
	{ "reports", "device, seq, time, received, status, profile, serial, "
	    "hash, body, sig", "device, seq" },
	{ "device_failing", "device, rule, since", "device, rule" },
	{ "status_history", "device, time, seq, received, status",
	    "device, time, seq" },
	{ "failing_history", "device, rule, time, seq, failing",
	    "device, rule, time, seq" },
	{ "consents", "device, time, received, token, text_hash, profile, "
	    "serial, remediate, body, sig", "device" },
	/* rowid order is publication order: PostgreSQL numbers them so. */
	{ "profiles", "id, serial, scope, expires, published, hash, bytes, "
	    "sig", "rowid" },
	{ "revocations", "id, received", "id" },
	{ "report_runs", "device, first, last", "device, first" },
	/* Made by the server's first start (store_adm_open): may be absent. */
	{ "admins", "name, roles, hash, created, rotated", "name" },
	{ "admin_meta", "key, value", "key" },
	{ "audit", "seq, time, actor, addr, action, object, outcome, hash",
	    "seq" },
	{ "audit_checkpoints", "seq, time, hash, sig", "seq" },
};

const char *
store_migrate_table(int i)
{
	return i >= 0 && i < STORE_MIGRATE_TABLES ? tables[i].name : NULL;
}

static int
sq_err(sqlite3 *db, const char *what, struct muster_err *e)
{
	return err_set(e, MUSTER_EIO, "migrate: %s: %s", what,
	    sqlite3_errmsg(db));
}

/* Copies table i from db into c (inside c's transaction); *n rows. */
static int
copy_table(sqlite3 *db, PGconn *c, int i, int64_t *n, struct muster_err *e)
{
	struct store_pg_copy b;
	sqlite3_stmt *s = NULL;
	char sql[512];
	int rc = 0, step, col, ncol;

	*n = 0;
	memset(&b, 0, sizeof b);
	/* A table the source never made has no rows to move. */
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE "
	    "type = 'table' AND name = ?1", -1, &s, NULL) != SQLITE_OK) {
		rc = sq_err(db, tables[i].name, e);
		goto out;
	}
	sqlite3_bind_text(s, 1, tables[i].name, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	sqlite3_finalize(s);
	s = NULL;
	if (step == SQLITE_DONE)
		goto out;
	if (step != SQLITE_ROW) {
		rc = sq_err(db, tables[i].name, e);
		goto out;
	}
	snprintf(sql, sizeof sql, "SELECT %s FROM %s ORDER BY %s",
	    tables[i].cols, tables[i].name, tables[i].order);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = sq_err(db, tables[i].name, e);
		goto out;
	}
	ncol = sqlite3_column_count(s);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		for (col = 0; col < ncol; col++) {
			switch (sqlite3_column_type(s, col)) {
			case SQLITE_NULL:
				store_pg_copy_null(&b);
				break;
			case SQLITE_INTEGER:
				store_pg_copy_int(&b,
				    sqlite3_column_int64(s, col));
				break;
			case SQLITE_BLOB:
				store_pg_copy_bin(&b, sqlite3_column_blob(s,
				    col), (size_t)sqlite3_column_bytes(s, col));
				break;
			default:
				store_pg_copy_text(&b, (const char *)
				    sqlite3_column_text(s, col),
				    (size_t)sqlite3_column_bytes(s, col));
				break;
			}
		}
		store_pg_copy_row(&b);
		(*n)++;
		if (b.len >= MIGRATE_BUF && (rc = store_pg_copy_flush(c,
		    tables[i].name, tables[i].cols, &b, e)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE) {
		rc = sq_err(db, tables[i].name, e);
		goto out;
	}
	rc = store_pg_copy_flush(c, tables[i].name, tables[i].cols, &b, e);
out:
	sqlite3_finalize(s);
	store_pg_copy_free(&b);
	return rc;
}

/*
 * data_dir/trust's roots (root-N.json) and manifests
 * (manifest-SCOPE.json) into documents, with the version they carry.
 */
static int
copy_docs(const char *data_dir, PGconn *c, int64_t *n, struct muster_err *e)
{
	struct store_pg_params q;
	struct dirent *de;
	json_error_t je;
	json_t *o;
	PGresult *r;
	DIR *d = NULL;
	char *dir = NULL, *path = NULL, *buf = NULL;
	size_t len;
	int rc = 0;

	*n = 0;
	if ((dir = fs_path(data_dir, "trust")) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((d = opendir(dir)) == NULL) {
		rc = errno == ENOENT ? 0 : err_sys(e, MUSTER_EIO, "%s", dir);
		goto out;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0 ||
		    (strncmp(de->d_name, "root-", 5) != 0 &&
		    strncmp(de->d_name, "manifest-", 9) != 0))
			continue;
		free(path);
		free(buf);
		buf = NULL;
		if ((path = fs_path(dir, de->d_name)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			break;
		}
		if ((rc = fs_read_file(path, MIGRATE_DOC_MAX, &buf, &len, e)) !=
		    0)
			break;
		if ((o = json_loadb(buf, len, 0, &je)) == NULL ||
		    !json_is_integer(json_object_get(o, "version"))) {
			json_decref(o);
			rc = err_set(e, MUSTER_EDATA, "%s: no version", path);
			break;
		}
		memset(&q, 0, sizeof q);
		store_pg_text(&q, de->d_name);
		store_pg_int(&q, (int64_t)json_integer_value(
		    json_object_get(o, "version")));
		store_pg_bin(&q, buf, len);
		json_decref(o);
		r = PQexecParams(c, "INSERT INTO documents (name, version, "
		    "bytes, n) VALUES ($1, $2, $3, nextval('documents_n'))",
		    q.n, NULL, q.v, q.len, q.fmt, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = store_pg_err(c, r, path, e);
		else
			(*n)++;
		PQclear(r);
	}
out:
	if (d != NULL)
		closedir(d);
	free(dir);
	free(path);
	free(buf);
	return rc;
}

int
store_migrate(const char *data_dir, const char *uri,
    int64_t rows[STORE_MIGRATE_TABLES + 1], struct muster_err *e)
{
	struct store *dst = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	PGconn *c = NULL;
	PGresult *r = NULL;
	char *path = NULL, sql[128];
	struct stat sb;
	int64_t v, n;
	int rc, i, tx = 0;

	memset(rows, 0, (STORE_MIGRATE_TABLES + 1) * sizeof *rows);
	if (store_backend(uri) != &store_pg_ops)
		return err_set(e, MUSTER_EUSAGE, "migrate: the destination "
		    "must be a PostgreSQL URI (postgresql://...)");
	if ((path = fs_path(data_dir, STORE_DB_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (lstat(path, &sb) == -1) {
		rc = err_sys(e, errno == ENOENT ? MUSTER_ENOINPUT : MUSTER_EIO,
		    "%s", path);
		goto out;
	}
	if ((rc = fs_check_private(path, e)) != 0)
		goto out;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		rc = sq_err(db, path, e);
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	/* One snapshot of the source for the whole copy. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) !=
	    SQLITE_OK || sqlite3_step(s) != SQLITE_ROW) {
		rc = sq_err(db, path, e);
		goto out;
	}
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (v != STORE_SCHEMA_VERSION) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: schema version %lld, not "
		    "%d: start this server on it once to upgrade it", path,
		    (long long)v, STORE_SCHEMA_VERSION);
		goto out;
	}
	/* The destination's schema, by the server's own migrations. */
	if ((rc = store_open(uri, 0, &dst, e)) != 0)
		goto out;
	store_close(dst);
	if ((rc = store_pg_connect(uri, &c, e)) != 0)
		goto out;
	r = PQexec(c, "SELECT (SELECT count(*) FROM tokens) + (SELECT "
	    "count(*) FROM devices) + (SELECT count(*) FROM profiles) + "
	    "(SELECT count(*) FROM revocations) + (SELECT count(*) FROM "
	    "documents) + (SELECT count(*) FROM admins) + (SELECT count(*) "
	    "FROM audit)");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = store_pg_err(c, r, "destination", e);
		goto out;
	}
	if (store_pg_getint(r, 0, 0) != 0) {
		rc = err_set(e, MUSTER_EUSAGE, "migrate: the destination "
		    "database is not empty");
		goto out;
	}
	PQclear(r);
	r = NULL;
	if ((rc = store_pg_exec(c, "BEGIN", e)) != 0)
		goto out;
	tx = 1;
	for (i = 0; i < STORE_MIGRATE_TABLES; i++)
		if ((rc = copy_table(db, c, i, &rows[i], e)) != 0)
			goto out;
	if ((rc = copy_docs(data_dir, c, &rows[STORE_MIGRATE_TABLES], e)) !=
	    0)
		goto out;
	/* Every row arrived: counted on the other side, in the same tx. */
	for (i = 0; i < STORE_MIGRATE_TABLES; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s",
		    tables[i].name);
		r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			rc = store_pg_err(c, r, tables[i].name, e);
			goto out;
		}
		n = store_pg_getint(r, 0, 0);
		PQclear(r);
		r = NULL;
		if (n != rows[i]) {
			rc = err_set(e, MUSTER_EIO, "migrate: %s: %lld rows "
			    "read, %lld written", tables[i].name,
			    (long long)rows[i], (long long)n);
			goto out;
		}
	}
	rc = store_pg_exec(c, "COMMIT", e);
	tx = 0;
out:
	if (tx)
		(void)store_pg_exec(c, "ROLLBACK", NULL);
	PQclear(r);
	PQfinish(c);
	sqlite3_finalize(s);
	if (db != NULL) {
		(void)sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
	}
	free(path);
	return rc;
}
