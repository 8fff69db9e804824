/*
 * store_pg_admin: the administrators and the audit log in the
 * PostgreSQL store (store.h, "Administrators and the audit log"), the
 * tables of migration 4 (store_pg.c).
 *
 * A connection of its own per handle.  Every server sharing the store
 * appends to one log: an append takes a transaction-level advisory lock
 * first, then reads the newest entry and writes the next, so two
 * appenders, in one server or in two, never chain onto the same entry
 * (and the primary key refuses it if they did).  Triggers refuse UPDATE,
 * DELETE and TRUNCATE of the audit tables; retention never touches them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

#define AUDIT_LOCK	0x6d75737465720003LL

struct store_adm {
	const struct store_ops	*ops;	/* first: store_backend.h */
	PGconn			*c;
	int			 readonly;
};

/*
 * The handle's connection, made again when it was lost (a failover:
 * libpq's reset finds the new primary as the URI says).  0, or
 * MUSTER_ETEMP while the database cannot be reached.
 */
static int
adm_ready(struct store_adm *sa, struct muster_err *e)
{
	if (PQstatus(sa->c) == CONNECTION_OK)
		return 0;
	PQreset(sa->c);
	if (PQstatus(sa->c) != CONNECTION_OK)
		return store_pg_err(sa->c, NULL, "reconnect", e);
	if (sa->readonly)
		return store_pg_exec(sa->c, "SET default_transaction_read_only "
		    "= on", e);
	return store_pg_exec(sa->c, "SET TIME ZONE 'UTC'", e);
}

/*
 * BEGIN on a ready connection.  libpq learns that a connection was lost
 * (PostgreSQL restarted, a failover) only when it uses it: then once
 * more on a new one.
 */
static int
adm_begin(struct store_adm *sa, struct muster_err *e)
{
	int rc;

	if ((rc = adm_ready(sa, e)) != 0 ||
	    (rc = store_pg_exec(sa->c, "BEGIN", e)) == 0 ||
	    PQstatus(sa->c) == CONNECTION_OK ||
	    (rc = adm_ready(sa, e)) != 0)
		return rc;
	return store_pg_exec(sa->c, "BEGIN", e);
}

/* store_pg_query outside a transaction, as adm_begin: once more. */
static PGresult *
adm_query(struct store_adm *sa, const char *sql,
    const struct store_pg_params *q, const char *what, int *rc,
    struct muster_err *e)
{
	PGresult *r;

	if ((*rc = adm_ready(sa, e)) != 0)
		return NULL;
	if ((r = store_pg_query(sa->c, sql, q, what, rc, e)) != NULL ||
	    PQstatus(sa->c) == CONNECTION_OK ||
	    (*rc = adm_ready(sa, e)) != 0)
		return r;
	return store_pg_query(sa->c, sql, q, what, rc, e);
}

int
store_pg_adm_open(const char *uri, int readonly, struct store_adm **out,
    struct muster_err *e)
{
	struct store_adm *sa;
	int64_t v;
	int rc;

	*out = NULL;
	if ((sa = calloc(1, sizeof *sa)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	sa->ops = &store_pg_ops;
	sa->readonly = readonly;
	if ((rc = store_pg_attach(uri, readonly, &sa->c, &v, e)) != 0)
		goto out;
	/* store_open makes the tables (its migrations), as on SQLite. */
	if (v == 0) {
		rc = err_set(e, MUSTER_ENOINPUT, "store: no store in the "
		    "database yet (start the server once)");
		goto out;
	}
	*out = sa;
	sa = NULL;
out:
	store_pg_adm_close(sa);
	return rc;
}

void
store_pg_adm_close(struct store_adm *sa)
{
	if (sa == NULL)
		return;
	PQfinish(sa->c);
	free(sa);
}

/* Ends a transaction: COMMIT when rc is 0 (its failure returned). */
static int
adm_end(struct store_adm *sa, int rc, struct muster_err *e)
{
	if (rc == 0)
		return store_pg_exec(sa->c, "COMMIT", e);
	(void)store_pg_exec(sa->c, "ROLLBACK", NULL);
	return rc;
}

/* Copies column col (text) into buf of size n, cut if longer. */
static void
col_text(const PGresult *r, int row, int col, char *buf, size_t n)
{
	snprintf(buf, n, "%s", PQgetisnull(r, row, col) ? "" :
	    PQgetvalue(r, row, col));
}

/* Column col (bytea) into buf of exactly n bytes; zeros otherwise. */
static void
col_blob(const PGresult *r, int row, int col, unsigned char *buf, size_t n,
    struct muster_err *e)
{
	unsigned char *v = NULL;
	size_t len = 0;

	memset(buf, 0, n);
	/* A hash cut or grown by an edit is zeros: it breaks the chain. */
	if (store_pg_bytea(r, row, col, &v, &len, e) == 0 && len == n)
		memcpy(buf, v, n);
	free(v);
}

/*
 * Runs sql with q and collects its rows into a malloc'd array of
 * elements of size bytes, each zeroed and then filled by row(r, i, el);
 * *list (the caller's to free) and *n.  0 or MUSTER_E*.
 */
static int
adm_rows(struct store_adm *sa, const char *sql, const char *what,
    size_t size, void (*row)(const PGresult *, int, void *), void **list,
    size_t *n, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	char *l = NULL;
	int rc, i, nrows;

	*list = NULL;
	*n = 0;
	if ((r = adm_query(sa, sql, &q, what, &rc, e)) == NULL)
		return rc;
	if ((nrows = PQntuples(r)) > 0 &&
	    (l = calloc((size_t)nrows, size)) == NULL) {
		PQclear(r);
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	for (i = 0; i < nrows; i++)
		row(r, i, l + (size_t)i * size);
	PQclear(r);
	*list = l;
	*n = (size_t)nrows;
	return 0;
}

static void
admin_row(const PGresult *r, int i, void *el)
{
	struct store_admin *a = el;
	struct muster_err ignored;

	col_text(r, i, 0, a->name, sizeof a->name);
	a->roles = (unsigned)store_pg_getint(r, i, 1);
	/* A hash of another length matches no credential. */
	col_blob(r, i, 2, a->hash, sizeof a->hash, &ignored);
	a->created = (time_t)store_pg_getint(r, i, 3);
	a->rotated = (time_t)store_pg_getint(r, i, 4);
}

int
store_pg_admin_list(struct store_adm *sa, struct store_admin **list,
    size_t *n, struct muster_err *e)
{
	void *l;
	int rc;

	rc = adm_rows(sa, "SELECT name, roles, hash, created, rotated FROM "
	    "admins ORDER BY name", "admins", sizeof **list, admin_row, &l, n,
	    e);
	*list = l;
	return rc;
}

/* Runs the write sql with q; *changed the rows it changed. */
static int
adm_write(struct store_adm *sa, const char *sql,
    const struct store_pg_params *q, const char *what, int64_t *changed,
    struct muster_err *e)
{
	PGresult *r;
	int rc;

	if ((r = store_pg_query(sa->c, sql, q, what, &rc, e)) == NULL)
		return rc;
	if (changed != NULL)
		*changed = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

static int
admin_insert(struct store_adm *sa, const struct store_admin *a,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, a->name);
	store_pg_int(&q, a->roles);
	store_pg_bin(&q, a->hash, sizeof a->hash);
	store_pg_int(&q, a->created);
	store_pg_int(&q, a->rotated);
	return adm_write(sa, "INSERT INTO admins (name, roles, hash, created, "
	    "rotated) VALUES ($1, $2, $3, $4, $5)", &q, "admin add", NULL, e);
}

int
store_pg_admin_add(struct store_adm *sa, const struct store_admin *a,
    struct muster_err *e)
{
	int rc;

	if ((rc = adm_begin(sa, e)) != 0)
		return rc;
	rc = admin_insert(sa, a, e);
	if (rc == MUSTER_EDATA)
		err_set(e, rc, "administrator \"%s\" exists", a->name);
	return adm_end(sa, rc, e);
}

/* One write of an administrator's row: ENOINPUT if none changed. */
static int
admin_change(struct store_adm *sa, const char *sql,
    const struct store_pg_params *q, const char *name, struct muster_err *e)
{
	int64_t changed = 0;
	int rc;

	if ((rc = adm_write(sa, sql, q, "admins", &changed, e)) == 0 &&
	    changed == 0)
		rc = err_set(e, MUSTER_ENOINPUT, "no administrator \"%s\"",
		    name);
	return rc;
}

int
store_pg_admin_rotate(struct store_adm *sa, const char *name,
    const unsigned char hash[STORE_HASH_LEN], time_t when,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, name);
	store_pg_bin(&q, hash, STORE_HASH_LEN);
	store_pg_int(&q, when);
	return admin_change(sa, "UPDATE admins SET hash = $2, rotated = $3 "
	    "WHERE name = $1", &q, name, e);
}

int
store_pg_admin_remove(struct store_adm *sa, const char *name,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, name);
	return admin_change(sa, "DELETE FROM admins WHERE name = $1", &q,
	    name, e);
}

int
store_pg_admin_bootstrap(struct store_adm *sa, const struct store_admin *a,
    int *added, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	int64_t mark = 0;
	int rc;

	*added = 0;
	if ((rc = adm_begin(sa, e)) != 0)
		return rc;
	/* Servers starting together: the first one's row wins. */
	if ((rc = adm_write(sa, "INSERT INTO admin_meta (key, value) VALUES "
	    "('bootstrapped', 1) ON CONFLICT (key) DO NOTHING", &q,
	    "admin_meta", &mark, e)) == 0 && mark == 1 &&
	    (rc = admin_insert(sa, a, e)) == 0)
		*added = 1;
	rc = adm_end(sa, rc, e);
	if (rc != 0)
		*added = 0;
	return rc;
}

/* The newest entry; in_tx: inside the caller's transaction. */
static int
audit_last(struct store_adm *sa, int in_tx, int64_t *seq,
    unsigned char hash[STORE_HASH_LEN], struct muster_err *e)
{
	static const char sql[] = "SELECT seq, hash FROM audit ORDER BY seq "
	    "DESC LIMIT 1";
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	*seq = 0;
	memset(hash, 0, STORE_HASH_LEN);
	r = in_tx ? store_pg_query(sa->c, sql, &q, "audit", &rc, e) :
	    adm_query(sa, sql, &q, "audit", &rc, e);
	if (r == NULL)
		return rc;
	if (PQntuples(r) == 1) {
		*seq = store_pg_getint(r, 0, 0);
		col_blob(r, 0, 1, hash, STORE_HASH_LEN, e);
	}
	PQclear(r);
	return 0;
}

int
store_pg_audit_last(struct store_adm *sa, int64_t *seq,
    unsigned char hash[STORE_HASH_LEN], struct muster_err *e)
{
	return audit_last(sa, 0, seq, hash, e);
}

static int
ckpt_insert(struct store_adm *sa, const struct store_audit_ckpt *ck,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_int(&q, ck->seq);
	store_pg_int(&q, ck->time);
	store_pg_bin(&q, ck->hash, sizeof ck->hash);
	store_pg_bin(&q, ck->sig, sizeof ck->sig);
	return adm_write(sa, "INSERT INTO audit_checkpoints (seq, time, hash, "
	    "sig) VALUES ($1, $2, $3, $4)", &q, "audit checkpoint", NULL, e);
}

int
store_pg_audit_append(struct store_adm *sa, struct store_audit_entry *a,
    store_audit_seal_fn seal, void *arg, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	struct store_audit_ckpt ck;
	unsigned char prev[STORE_HASH_LEN];
	int64_t last;
	int rc, want = 0;

	if ((rc = adm_begin(sa, e)) != 0)
		return rc;
	store_pg_int(&q, AUDIT_LOCK);
	if ((rc = adm_write(sa, "SELECT pg_advisory_xact_lock($1)", &q,
	    "audit lock", NULL, e)) != 0 ||
	    (rc = audit_last(sa, 1, &last, prev, e)) != 0)
		goto out;
	a->seq = last + 1;
	memset(&ck, 0, sizeof ck);
	if ((rc = seal(a, prev, &ck, &want, arg)) != 0) {
		err_set(e, rc, "audit: cannot seal entry %lld",
		    (long long)a->seq);
		goto out;
	}
	q.n = 0;
	store_pg_int(&q, a->seq);
	store_pg_int(&q, a->time);
	store_pg_text(&q, a->actor);
	store_pg_text(&q, a->addr);
	store_pg_text(&q, a->action);
	store_pg_text(&q, a->object);
	store_pg_text(&q, a->outcome);
	store_pg_bin(&q, a->hash, sizeof a->hash);
	if ((rc = adm_write(sa, "INSERT INTO audit (seq, time, actor, addr, "
	    "action, object, outcome, hash) VALUES ($1, $2, $3, $4, $5, $6, "
	    "$7, $8)", &q, "audit append", NULL, e)) != 0)
		goto out;
	if (want)
		rc = ckpt_insert(sa, &ck, e);
out:
	return adm_end(sa, rc, e);
}

int
store_pg_audit_scan(struct store_adm *sa, int64_t from,
    int (*fn)(const struct store_audit_entry *, void *), void *arg,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	struct store_audit_entry a;
	PGresult *r;
	int rc = 0, st;

	if ((rc = adm_ready(sa, e)) != 0)
		return rc;
	store_pg_int(&q, from);
	/* Row by row: a long log is never held in memory at once. */
	if (!PQsendQueryParams(sa->c, "SELECT seq, time, actor, addr, action, "
	    "object, outcome, hash FROM audit WHERE seq >= $1 ORDER BY seq",
	    q.n, NULL, q.v, q.len, q.fmt, 0) || !PQsetSingleRowMode(sa->c))
		return store_pg_err(sa->c, NULL, "audit", e);
	while ((r = PQgetResult(sa->c)) != NULL) {
		st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && rc == 0) {
			memset(&a, 0, sizeof a);
			a.seq = store_pg_getint(r, 0, 0);
			a.time = (time_t)store_pg_getint(r, 0, 1);
			col_text(r, 0, 2, a.actor, sizeof a.actor);
			col_text(r, 0, 3, a.addr, sizeof a.addr);
			col_text(r, 0, 4, a.action, sizeof a.action);
			col_text(r, 0, 5, a.object, sizeof a.object);
			col_text(r, 0, 6, a.outcome, sizeof a.outcome);
			col_blob(r, 0, 7, a.hash, sizeof a.hash, e);
			rc = fn(&a, arg);
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
		    rc == 0)
			rc = store_pg_err(sa->c, r, "audit", e);
		/* After a stop the rest is read and dropped: the
		 * connection stays usable. */
		PQclear(r);
	}
	return rc;
}

int
store_pg_audit_ckpt_put(struct store_adm *sa,
    const struct store_audit_ckpt *ck, struct muster_err *e)
{
	int rc;

	if ((rc = adm_begin(sa, e)) != 0)
		return rc;
	return adm_end(sa, ckpt_insert(sa, ck, e), e);
}

static void
ckpt_row(const PGresult *r, int i, void *el)
{
	struct store_audit_ckpt *ck = el;
	struct muster_err ignored;

	ck->seq = store_pg_getint(r, i, 0);
	ck->time = (time_t)store_pg_getint(r, i, 1);
	col_blob(r, i, 2, ck->hash, sizeof ck->hash, &ignored);
	col_blob(r, i, 3, ck->sig, sizeof ck->sig, &ignored);
}

int
store_pg_audit_ckpts(struct store_adm *sa, struct store_audit_ckpt **list,
    size_t *n, struct muster_err *e)
{
	void *l;
	int rc;

	rc = adm_rows(sa, "SELECT seq, time, hash, sig FROM audit_checkpoints "
	    "ORDER BY seq", "audit checkpoints", sizeof **list, ckpt_row, &l,
	    n, e);
	*list = l;
	return rc;
}
