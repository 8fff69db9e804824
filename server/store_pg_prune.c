/*
 * store_pg_prune: what keeps the PostgreSQL store bounded, and what
 * stands in it for the SQLite store's file-level tools (store.h,
 * "retention, backup, re-registration"): pruning raw reports in small
 * batches, the database's size for /metrics, a backup refused in favour
 * of PostgreSQL's own tools, and a device's re-registration.
 *
 * Pruning keeps what store_sqlite_prune.c keeps (a report young, its
 * device's newest, or the evidence of a change) and walks reports in
 * arrival order (reports.n) from where it stopped, starting over daily;
 * a report whose number was taken before one the walk passed but that
 * committed later (two servers writing at once) waits for that daily
 * walk.  Servers sharing the store take turns: a batch starts with
 * pg_try_advisory_xact_lock, and a server that does not get it leaves
 * the pass to the one that has it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "metrics.h"
#include "store_pg.h"
#include "store_rules.h"

#define PRUNE_LOCK		0x6d75737465720002LL

static const char batch_sql[] =
"SELECT n, received FROM reports WHERE n > $1 ORDER BY n LIMIT $2";

static const char prune_sql[] =
"DELETE FROM reports r WHERE n > $1 AND n <= $2 AND received < $3 "
"AND seq < (SELECT d.last_seq FROM devices d WHERE d.id = r.device) "
"AND NOT EXISTS (SELECT 1 FROM status_history h "
"  WHERE h.device = r.device AND h.seq = r.seq) "
"AND NOT EXISTS (SELECT 1 FROM failing_history f "
"  WHERE f.device = r.device AND f.seq = r.seq)";

void
store_pg_retention_set(struct store *st, int64_t seconds)
{
	store_retain_set(&st->ret, seconds);
}

int
store_pg_prune_wait(struct store *st, time_t now)
{
	return store_retain_wait(&st->ret, now);
}

/*
 * The batch after st->ret.cursor: its last report number older than
 * cutoff into *hi, how many into *n, *young when a young one ended it.
 */
static int
prune_batch(struct store *st, size_t max, int64_t cutoff, int64_t *hi,
    size_t *n, int *young, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc, i;

	*hi = st->ret.cursor;
	*n = 0;
	*young = 0;
	store_pg_int(&q, st->ret.cursor);
	store_pg_int(&q, (int64_t)max);
	if ((r = store_pg_query(st->c, batch_sql, &q, "prune", &rc, e)) ==
	    NULL)
		return rc;
	/* Reports arrive in n order: the first young one ends the pass. */
	for (i = 0; i < PQntuples(r); i++) {
		if (store_pg_getint(r, i, 1) >= cutoff) {
			*young = 1;
			break;
		}
		*hi = store_pg_getint(r, i, 0);
		(*n)++;
	}
	PQclear(r);
	return 0;
}

int
store_pg_prune(struct store *st, time_t now, size_t max, size_t *pruned,
    int *more, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r = NULL;
	int64_t hi, cutoff;
	size_t n = 0;
	int rc, young = 0, tx = 0, ours;

	*pruned = 0;
	*more = 0;
	if (st->ret.seconds == 0 || max == 0)
		return 0;
	if (max > INT32_MAX)
		max = INT32_MAX;
	cutoff = store_retain_batch(&st->ret, now);
	if ((rc = store_pg_ensure(st, e)) != 0 ||
	    (rc = store_pg_exec(st->c, "BEGIN", e)) != 0)
		goto out;
	tx = 1;
	store_pg_int(&q, PRUNE_LOCK);
	if ((r = store_pg_query(st->c, "SELECT pg_try_advisory_xact_lock($1)",
	    &q, "prune", &rc, e)) == NULL)
		goto out;
	ours = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	r = NULL;
	if (!ours) {	/* another server is pruning now */
		young = 1;
		goto done;
	}
	if ((rc = prune_batch(st, max, cutoff, &hi, &n, &young, e)) != 0)
		goto out;
	if (n > 0) {
		q.n = 0;
		store_pg_int(&q, st->ret.cursor);
		store_pg_int(&q, hi);
		store_pg_int(&q, cutoff);
		if ((r = store_pg_query(st->c, prune_sql, &q, "prune", &rc,
		    e)) == NULL)
			goto out;
		*pruned = (size_t)strtoull(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		r = NULL;
	}
	st->ret.cursor = hi;
done:
	rc = store_pg_exec(st->c, "COMMIT", e);
	tx = 0;
	if (rc != 0)
		goto out;
	metrics_prune(*pruned, 1);
	*more = !young && n == max;
	if (!*more)
		store_retain_done(&st->ret, now);
out:
	PQclear(r);
	if (rc != 0) {
		if (tx && st->c != NULL)
			(void)store_pg_exec(st->c, "ROLLBACK", NULL);
		*pruned = 0;
		metrics_prune(0, 0);
		/*
		 * The writer prunes again as soon as a pass is due: with the
		 * database gone that would be at once, for ever (a busy
		 * loop logging each failure).  The next pass waits.
		 */
		store_retain_done(&st->ret, now);
	}
	return rc;
}

int
store_pg_backup(const char *uri, const char *path, int64_t *bytes,
    struct muster_err *e)
{
	(void)uri;
	(void)path;
	*bytes = 0;
	return err_set(e, MUSTER_EUSAGE, "backup: the store is PostgreSQL: "
	    "back it up with PostgreSQL's tools (pg_dump, or pg_basebackup "
	    "with WAL archiving; docs/operations.md, \"PostgreSQL\")");
}

int
store_pg_disk_usage(const char *uri, int64_t *db, int64_t *wal,
    struct muster_err *e)
{
	PGconn *c = NULL;
	PGresult *r;
	int rc;

	*db = 0;
	/* The WAL is the cluster's, shared by its databases: not ours. */
	*wal = -1;
	if ((rc = store_pg_connect(uri, &c, e)) != 0)
		return rc;
	r = PQexec(c, "SELECT pg_database_size(current_database())");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = store_pg_err(c, r, "database size", e);
	else
		*db = store_pg_getint(r, 0, 0);
	PQclear(r);
	PQfinish(c);
	return rc;
}

/* One row back from sql with q: 1 in *yes, else 0. */
static int
one_row(struct store *st, const char *sql, const struct store_pg_params *q,
    const char *what, int *yes, struct muster_err *e)
{
	PGresult *r;
	int rc;

	*yes = 0;
	if ((r = store_pg_query(st->c, sql, q, what, &rc, e)) == NULL)
		return rc;
	*yes = PQntuples(r) > 0;
	PQclear(r);
	return 0;
}

int
store_pg_device_reregister(struct store *st, const struct store_device *d,
    time_t expires, enum store_put *res, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	int rc, revoked, claimed;

	if ((rc = store_rules_known(st, d, res, e)) != MUSTER_ENOINPUT)
		return rc;
	store_pg_text(&q, d->id);
	if ((rc = one_row(st, "SELECT 1 FROM revocations WHERE id = $1", &q,
	    "revocation", &revoked, e)) != 0)
		return rc;
	if (revoked)
		return err_set(e, MUSTER_ETRUST, "device revoked");
	if ((rc = store_rules_token_free(st, d, e)) != 0)
		return rc;
	q.n = 0;
	store_pg_text(&q, d->token_id);
	store_pg_int(&q, d->enrolled);
	store_pg_int(&q, expires);
	if ((rc = one_row(st, "INSERT INTO tokens (id, used, expires) "
	    "VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING RETURNING 1", &q,
	    "reregister token", &claimed, e)) != 0)
		return rc;
	if (!claimed) {
		/* Another server was first: the same device, or another. */
		if ((rc = store_rules_known(st, d, res, e)) != MUSTER_ENOINPUT)
			return rc;
		return err_set(e, MUSTER_ETRUST, "token used by another "
		    "device");
	}
	q.n = 0;
	store_pg_device_params(&q, d, d->enrolled);
	if ((rc = one_row(st, "INSERT INTO devices (id, pubkey, scope, unit, "
	    "person, model, token_id, enrolled) VALUES ($1, $2, $3, $4, $5, "
	    "$6, $7, $8)", &q, "reregister device", &claimed, e)) != 0)
		return rc;
	*res = STORE_STORED;
	return 0;
}
