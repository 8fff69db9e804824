/*
 * store_sqlite_prune: what keeps the SQLite store bounded and
 * recoverable (store.h, "retention, backup, re-registration"): pruning
 * raw reports in small batches, the online backup, the journal of
 * revocations and departures a restore does not undo, and a device's
 * re-registration.
 * docs/operations.md says how an operator uses them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "muster/fs.h"
#include "metrics.h"
#include "store.h"
#include "store_rules.h"
#include "store_sqlite_int.h"

#define BACKUP_TMP_TRIES	16

/*
 * A raw report is kept while it is young, the device's newest, or the
 * evidence of a change (the report a status_history or failing_history
 * row names).  ?1 < rowid <= ?2: the batch; ?3: the cutoff.
 */
static const char prune_sql[] =
"DELETE FROM reports WHERE rowid > ?1 AND rowid <= ?2 AND received < ?3 "
"AND seq < (SELECT d.last_seq FROM devices d WHERE d.id = reports.device) "
"AND NOT EXISTS (SELECT 1 FROM status_history h "
"  WHERE h.device = reports.device AND h.seq = reports.seq) "
"AND NOT EXISTS (SELECT 1 FROM failing_history f "
"  WHERE f.device = reports.device AND f.seq = reports.seq)";

static const char batch_sql[] =
"SELECT rowid, received FROM reports WHERE rowid > ?1 ORDER BY rowid "
"LIMIT ?2";

static int
sq_err(sqlite3 *db, const char *what, struct muster_err *e)
{
	int code = sqlite3_extended_errcode(db) & 0xff, rc;

	rc = code == SQLITE_BUSY || code == SQLITE_LOCKED ? MUSTER_ETEMP :
	    code == SQLITE_CONSTRAINT ? MUSTER_EDATA :
	    code == SQLITE_NOMEM ? MUSTER_EINTERNAL : MUSTER_EIO;
	return err_set(e, rc, "store: %s: %s", what, sqlite3_errmsg(db));
}

static int
sq_exec(sqlite3 *db, const char *sql, struct muster_err *e)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_err(db, sql, e);
	return 0;
}

/* --- retention ----------------------------------------------------------- */

void
store_sqlite_retention_set(struct store *st, int64_t seconds)
{
	store_retain_set(&st->ret, seconds);
}

int
store_sqlite_prune_wait(struct store *st, time_t now)
{
	return store_retain_wait(&st->ret, now);
}

int
store_sqlite_prune(struct store *st, time_t now, size_t max, size_t *pruned,
    int *more, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int64_t lo, hi, cutoff;
	size_t n = 0;
	int rc, step, young = 0;

	*pruned = 0;
	*more = 0;
	if (st->ret.seconds == 0 || max == 0)
		return 0;
	if (max > INT_MAX)
		max = INT_MAX;
	cutoff = store_retain_batch(&st->ret, now);
	if ((rc = sq_exec(st->db, "BEGIN IMMEDIATE", e)) != 0)
		goto out;
	lo = hi = st->ret.cursor;
	if (sqlite3_prepare_v2(st->db, batch_sql, -1, &s, NULL) != SQLITE_OK) {
		rc = sq_err(st->db, "prune", e);
		goto out;
	}
	sqlite3_bind_int64(s, 1, lo);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	/* Reports arrive in rowid order: the first young one ends the pass. */
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (sqlite3_column_int64(s, 1) >= cutoff) {
			young = 1;
			break;
		}
		hi = sqlite3_column_int64(s, 0);
		n++;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = sq_err(st->db, "prune", e);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (n > 0) {
		if (sqlite3_prepare_v2(st->db, prune_sql, -1, &s, NULL) !=
		    SQLITE_OK) {
			rc = sq_err(st->db, "prune", e);
			goto out;
		}
		sqlite3_bind_int64(s, 1, lo);
		sqlite3_bind_int64(s, 2, hi);
		sqlite3_bind_int64(s, 3, cutoff);
		if (sqlite3_step(s) != SQLITE_DONE) {
			rc = sq_err(st->db, "prune", e);
			goto out;
		}
		*pruned = (size_t)sqlite3_changes(st->db);
	}
	if ((rc = sq_exec(st->db, "COMMIT", e)) != 0)
		goto out;
	metrics_prune(*pruned, 1);
	st->ret.cursor = hi;
	*more = !young && n == max;
	if (!*more)
		store_retain_done(&st->ret, now);
out:
	sqlite3_finalize(s);
	if (rc != 0) {
		if (!sqlite3_get_autocommit(st->db))
			(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		*pruned = 0;
		metrics_prune(0, 0);
	}
	return rc;
}

/* --- backup -------------------------------------------------------------- */

int
store_sqlite_backup(const char *dir, const char *path, int64_t *bytes,
    struct muster_err *e)
{
	unsigned char rnd[8];
	char *src = NULL, *tmp = NULL, *copy = NULL, hex[2 * sizeof rnd + 1];
	const char *parent;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	int rc, fd = -1, i, made = 0;
	size_t tlen;

	*bytes = 0;
	if ((src = fs_path(dir, STORE_DB_FILE)) == NULL ||
	    (copy = strdup(path)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (lstat(src, &sb) != 0) {
		rc = err_sys(e, MUSTER_ENOINPUT, "%s", src);
		goto out;
	}
	parent = dirname(copy);
	tlen = strlen(path) + sizeof hex + 16;
	if ((tmp = malloc(tlen)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* An empty private file for VACUUM INTO, which keeps its mode. */
	for (i = 0; i < BACKUP_TMP_TRIES && fd == -1; i++) {
		randombytes_buf(rnd, sizeof rnd);
		sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
		snprintf(tmp, tlen, "%s.%s.tmp", path, hex);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1) {
		rc = err_sys(e, MUSTER_ECANTCREAT, "%s", path);
		goto out;
	}
	made = 1;
	if (fchmod(fd, 0600) != 0) {
		rc = err_sys(e, MUSTER_ECANTCREAT, "%s", tmp);
		goto out;
	}
	if (sqlite3_open_v2(src, &db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = err_set(e, MUSTER_EIO, "%s: %s", src, db != NULL ?
		    sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 10000);
	/*
	 * One read transaction: the copy is the store as of one commit,
	 * while the server goes on writing (WAL readers do not block it).
	 */
	if (sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &s, NULL) !=
	    SQLITE_OK) {
		rc = sq_err(db, "backup", e);
		goto out;
	}
	sqlite3_bind_text(s, 1, tmp, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE) {
		rc = sq_err(db, "backup", e);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	sqlite3_close(db);
	db = NULL;
	if (fsync(fd) != 0 || fstat(fd, &sb) != 0) {
		rc = err_sys(e, MUSTER_EIO, "%s", tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		rc = err_sys(e, MUSTER_ECANTCREAT, "%s", path);
		goto out;
	}
	made = 0;
	if ((rc = fs_sync_dir(parent, e)) != 0)
		goto out;
	*bytes = (int64_t)sb.st_size;
	rc = 0;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	if (fd != -1)
		close(fd);
	if (made)
		(void)unlink(tmp);
	free(tmp);
	free(copy);
	free(src);
	return rc;
}

/* --- the journal: revocations and departures ---------------------------- */

#define GONE_HEX	(2 * crypto_generichash_BYTES + 1)

/* The hex BLAKE2b-256 of a device id, as a "gone" line names it. */
static void
gone_hash(const char *id, char out[GONE_HEX])
{
	unsigned char h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof h, (const unsigned char *)id, strlen(id),
	    NULL, 0);
	sodium_bin2hex(out, GONE_HEX, h, sizeof h);
}

int
store_sqlite_journal(struct store *st, const char *kind, const char *id,
    time_t when, struct muster_err *e)
{
	char *path = NULL, line[128], hash[GONE_HEX];
	struct stat sb;
	int fd = -1, rc, fresh;
	size_t n;

	if (st->replaying)
		return 0;
	if (strcmp(kind, "gone") == 0) {
		gone_hash(id, hash);
		id = hash;
	}
	if ((path = fs_path(st->dir, STORE_JOURNAL_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	fresh = lstat(path, &sb) != 0;
	n = (size_t)snprintf(line, sizeof line, "%s %s %lld\n", kind, id,
	    (long long)when);
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || fs_write_all(fd, line, n) != 0 ||
	    fsync(fd) != 0) {
		rc = err_sys(e, MUSTER_EIO, "%s", path);
		goto out;
	}
	rc = fresh ? fs_sync_dir(st->dir, e) : 0;
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

static int
hex_len_ok(const char *id, size_t len)
{
	return strlen(id) == len && strspn(id, "0123456789abcdef") == len;
}

/* Revokes id as of when, as store_revoke does, unless it is revoked. */
static int
journal_revoke(struct store *st, const char *id, int64_t when,
    struct muster_err *e)
{
	static const char *const sql[] = {
		"INSERT INTO revocations (id, received) VALUES (?1, ?2) "
		"ON CONFLICT (id) DO NOTHING",
		"INSERT INTO tokens (id, revoked) VALUES (?1, ?2) "
		"ON CONFLICT (id) DO UPDATE "
		"SET revoked = coalesce(revoked, excluded.revoked)",
		"UPDATE devices SET revoked = coalesce(revoked, ?2) "
		"WHERE id = ?1",
	};
	sqlite3_stmt *s = NULL;
	int rc = 0, i;

	for (i = 0; i < 3 && rc == 0; i++) {
		if (i == 1 && strlen(id) != TOKEN_ID_HEX - 1)
			continue;
		if (i == 2 && strlen(id) != DEVICE_ID_HEX - 1)
			continue;
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) !=
		    SQLITE_OK)
			return sq_err(st->db, "journal", e);
		sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, when);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = sq_err(st->db, "journal", e);
		sqlite3_finalize(s);
		s = NULL;
	}
	return rc;
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, GONE_HEX);
}

/* Deletes every device whose id hashes to one of gone (n, sorted). */
static int
journal_gone(struct store *st, const char (*gone)[GONE_HEX], size_t n,
    struct muster_err *e)
{
	char (*ids)[DEVICE_ID_HEX] = NULL, hash[GONE_HEX];
	sqlite3_stmt *s = NULL;
	size_t nids = 0, cap = 0, i;
	const unsigned char *v;
	int rc = 0, step;

	if (n == 0)
		return 0;
	if (sqlite3_prepare_v2(st->db, "SELECT id FROM devices", -1, &s,
	    NULL) != SQLITE_OK)
		return sq_err(st->db, "journal", e);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		v = sqlite3_column_text(s, 0);
		if (v == NULL || strlen((const char *)v) != DEVICE_ID_HEX - 1)
			continue;
		gone_hash((const char *)v, hash);
		if (bsearch(hash, gone, n, GONE_HEX, cmp_hash) == NULL)
			continue;
		if (nids == cap) {
			void *m;

			cap = cap == 0 ? 16 : cap * 2;
			if ((m = realloc(ids, cap * sizeof *ids)) == NULL) {
				rc = err_set(e, MUSTER_EINTERNAL,
				    "out of memory");
				goto out;
			}
			ids = m;
		}
		memcpy(ids[nids++], v, DEVICE_ID_HEX);
	}
	if (step != SQLITE_DONE) {
		rc = sq_err(st->db, "journal", e);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < nids && rc == 0; i++)
		rc = store_device_delete(st, ids[i], e);
out:
	sqlite3_finalize(s);
	free(ids);
	return rc;
}

/*
 * One line of the journal (NUL-terminated at p) in pass 0 (collect the
 * gone hashes into *gone) or pass 1 (apply a revocation, unless of a
 * device that left since: its id goes with it).
 */
static int
journal_line(struct store *st, const char *p, int pass,
    char (**gone)[GONE_HEX], size_t *ngone, size_t *cap,
    struct muster_err *e)
{
	char kind[8], id[GONE_HEX + 1], hash[GONE_HEX], c;
	long long when;
	int ok;

	ok = sscanf(p, "%7s %65s %lld%c", kind, id, &when, &c) == 3;
	if (ok && strcmp(kind, "revoke") == 0 &&
	    (hex_len_ok(id, TOKEN_ID_HEX - 1) ||
	    hex_len_ok(id, DEVICE_ID_HEX - 1))) {
		if (pass == 0)
			return 0;
		if (strlen(id) == DEVICE_ID_HEX - 1 && *ngone > 0) {
			gone_hash(id, hash);
			if (bsearch(hash, *gone, *ngone, GONE_HEX,
			    cmp_hash) != NULL)
				return 0;
		}
		return journal_revoke(st, id, when, e);
	}
	if (!ok || strcmp(kind, "gone") != 0 || !hex_len_ok(id, GONE_HEX - 1))
		return -1;
	if (pass == 1)
		return 0;
	if (*ngone == *cap) {
		void *m;

		*cap = *cap == 0 ? 16 : *cap * 2;
		if ((m = realloc(*gone, *cap * sizeof **gone)) == NULL)
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		*gone = m;
	}
	memcpy((*gone)[(*ngone)++], id, GONE_HEX);
	return 0;
}

int
store_sqlite_journal_replay(struct store *st, struct muster_err *e)
{
	char *path = NULL, *buf = NULL, *p, *nl;
	char (*gone)[GONE_HEX] = NULL;
	size_t len = 0, line, ngone = 0, cap = 0;
	int rc, tx = 0, pass;

	if ((path = fs_path(st->dir, STORE_JOURNAL_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = fs_read_private(path, STORE_JOURNAL_MAX, &buf, &len, e);
	if (rc == MUSTER_ENOINPUT) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	/* Lines end in '\n'; a line cut by a crash was never acknowledged. */
	for (p = buf; p < buf + len; p = nl + 1)
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) != NULL)
			*nl = '\0';
		else {
			len = (size_t)(p - buf);
			break;
		}
	if ((rc = sq_exec(st->db, "BEGIN IMMEDIATE", e)) != 0)
		goto out;
	tx = 1;
	st->replaying = 1;
	for (pass = 0; pass < 2; pass++) {
		for (p = buf, line = 1; p < buf + len; p += strlen(p) + 1,
		    line++) {
			rc = journal_line(st, p, pass, &gone, &ngone, &cap, e);
			if (rc == -1)
				rc = err_set(e, MUSTER_EIO, "%s:%zu: not a "
				    "journal line (revoke ID TIME, gone HASH "
				    "TIME)", path, line);
			if (rc != 0)
				goto out;
		}
		if (pass == 0 && ngone > 0)
			qsort(gone, ngone, GONE_HEX, cmp_hash);
	}
	if ((rc = journal_gone(st, (const char (*)[GONE_HEX])gone, ngone,
	    e)) != 0)
		goto out;
	rc = sq_exec(st->db, "COMMIT", e);
	tx = 0;
out:
	st->replaying = 0;
	if (tx)
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	free(gone);
	free(buf);
	free(path);
	return rc;
}

/* --- re-registration ----------------------------------------------------- */

/* Whether id is in revocations: 0 or 1 in *yes, or MUSTER_E*. */
static int
is_revoked(struct store *st, const char *id, int *yes, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc = 0, step;

	*yes = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM revocations WHERE id = ?1",
	    -1, &s, NULL) != SQLITE_OK)
		return sq_err(st->db, "revocation", e);
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*yes = 1;
	else if (step != SQLITE_DONE)
		rc = sq_err(st->db, "revocation", e);
	sqlite3_finalize(s);
	return rc;
}

int
store_sqlite_device_reregister(struct store *st, const struct store_device *d,
    time_t expires, enum store_put *res, struct muster_err *e)
{
	static const char tok_sql[] = "INSERT INTO tokens (id, used, expires) "
	    "VALUES (?1, ?2, ?3)";
	static const char dev_sql[] = "INSERT INTO devices (id, pubkey, scope, "
	    "unit, person, model, token_id, enrolled) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	sqlite3_stmt *s = NULL;
	int rc, revoked;

	if ((rc = store_rules_known(st, d, res, e)) != MUSTER_ENOINPUT)
		return rc;
	if ((rc = is_revoked(st, d->id, &revoked, e)) != 0)
		return rc;
	if (revoked)
		return err_set(e, MUSTER_ETRUST, "device revoked");
	if ((rc = store_rules_token_free(st, d, e)) != 0)
		return rc;
	if (sqlite3_prepare_v2(st->db, tok_sql, -1, &s, NULL) != SQLITE_OK)
		return sq_err(st->db, "reregister", e);
	sqlite3_bind_text(s, 1, d->token_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, d->enrolled);
	sqlite3_bind_int64(s, 3, expires);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
	    sq_err(st->db, "reregister token", e);
	sqlite3_finalize(s);
	s = NULL;
	if (rc != 0)
		return rc;
	if (sqlite3_prepare_v2(st->db, dev_sql, -1, &s, NULL) != SQLITE_OK)
		return sq_err(st->db, "reregister", e);
	store_sqlite_bind_device(s, d, d->enrolled);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 :
	    sq_err(st->db, "reregister device", e);
	sqlite3_finalize(s);
	if (rc == 0)
		*res = STORE_STORED;
	return rc;
}
