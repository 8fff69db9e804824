/*
 * store_pg_load: bulk loading of a PostgreSQL store for benchmark fleets
 * (store.h); rows as given, unchecked, in one transaction that
 * store_load_finish commits.  Only tools use it, never the server.
 *
 * Rows are gathered per table in COPY's text format and sent with COPY,
 * every table in the order its foreign keys need, whenever LOAD_FLUSH
 * bytes are waiting and at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

#define LOAD_FLUSH	(32u << 20)

enum load_table {
	L_TOKENS,
	L_DEVICES,
	L_REPORTS,
	L_STATUS,
	L_FAILING_HISTORY,
	L_FAILING,
	L__N
};

/* In the order the foreign keys need. */
static const struct {
	const char	*name;
	const char	*cols;
} load_tables[L__N] = {
	[L_TOKENS] = { "tokens", "id, used, expires" },
	[L_DEVICES] = { "devices", "id, pubkey, scope, unit, person, model, "
	    "token_id, enrolled, last_seq, last_time, last_received, "
	    "last_status, last_profile, last_serial" },
	[L_REPORTS] = { "reports", "device, seq, time, received, status, "
	    "profile, serial, hash, body" },
	[L_STATUS] = { "status_history", "device, time, seq, received, "
	    "status" },
	[L_FAILING_HISTORY] = { "failing_history", "device, rule, time, seq, "
	    "failing" },
	[L_FAILING] = { "device_failing", "device, rule, since" },
};

struct store_load {
	const struct store_ops	*ops;	/* first: store_backend.h */
	PGconn			*c;
	struct store_pg_copy	 t[L__N];
};

static const char *
status_name(int compliant)
{
	return compliant ? "compliant" : "noncompliant";
}

static int
flush_all(struct store_load *l, struct muster_err *e)
{
	int i, rc;

	for (i = 0; i < L__N; i++)
		if ((rc = store_pg_copy_flush(l->c, load_tables[i].name,
		    load_tables[i].cols, &l->t[i], e)) != 0)
			return rc;
	return 0;
}

/* After a row of table t: flushes everything once enough waits. */
static int
row_done(struct store_load *l, enum load_table t, struct muster_err *e)
{
	size_t n = 0;
	int i;

	store_pg_copy_row(&l->t[t]);
	for (i = 0; i < L__N; i++)
		n += l->t[i].len;
	return n >= LOAD_FLUSH ? flush_all(l, e) : 0;
}

int
store_pg_load_open(const char *uri, struct store_load **out,
    struct muster_err *e)
{
	struct store_load *l;
	int64_t v;
	int rc;

	*out = NULL;
	if ((l = calloc(1, sizeof *l)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	l->ops = &store_pg_ops;
	if ((rc = store_pg_attach(uri, 0, &l->c, &v, e)) != 0)
		goto out;
	if (v == 0) {
		rc = err_set(e, MUSTER_EIO, "store: no schema yet: open it "
		    "with the server first");
		goto out;
	}
	/* Nothing is safe before the COMMIT anyway: skip the WAL flush. */
	if ((rc = store_pg_exec(l->c, "SET synchronous_commit = off; BEGIN",
	    e)) != 0)
		goto out;
	*out = l;
	l = NULL;
out:
	store_pg_load_close(l);
	return rc;
}

int
store_pg_load_finish(struct store_load *l, struct muster_err *e)
{
	int rc;

	/*
	 * Each loaded report its own run, as store_sqlite_load.c makes
	 * them: --as-of reads what was loaded.
	 */
	if ((rc = flush_all(l, e)) != 0 ||
	    (rc = store_pg_exec(l->c, "INSERT INTO report_runs (device, "
	    "first, last) SELECT DISTINCT device, time, time FROM reports "
	    "ON CONFLICT DO NOTHING", e)) != 0 ||
	    (rc = store_pg_exec(l->c, "COMMIT", e)) != 0)
		return rc;
	return store_pg_exec(l->c, "ANALYZE", e);
}

void
store_pg_load_close(struct store_load *l)
{
	int i;

	if (l == NULL)
		return;
	PQfinish(l->c);
	for (i = 0; i < L__N; i++)
		store_pg_copy_free(&l->t[i]);
	free(l);
}

int
store_pg_load_profiles_published(struct store_load *l, time_t published,
    struct muster_err *e)
{
	char sql[64];

	snprintf(sql, sizeof sql, "UPDATE profiles SET published = %lld",
	    (long long)published);
	return store_pg_exec(l->c, sql, e);
}

int
store_pg_load_token(struct store_load *l, const char *id, time_t used,
    time_t expires, struct muster_err *e)
{
	struct store_pg_copy *b = &l->t[L_TOKENS];

	store_pg_copy_str(b, id);
	store_pg_copy_int(b, used);
	store_pg_copy_int(b, expires);
	return row_done(l, L_TOKENS, e);
}

int
store_pg_load_device(struct store_load *l, const struct store_load_device *d,
    struct muster_err *e)
{
	struct store_pg_copy *b = &l->t[L_DEVICES];

	store_pg_copy_str(b, d->id);
	store_pg_copy_bin(b, d->pk, 32);
	store_pg_copy_str(b, profile_scope_name(d->scope));
	store_pg_copy_str(b, d->unit);
	store_pg_copy_str(b, d->person);
	store_pg_copy_str(b, d->model);
	store_pg_copy_str(b, d->token_id);
	store_pg_copy_int(b, d->enrolled);
	store_pg_copy_int(b, d->last_seq);
	if (d->last_seq > 0) {
		store_pg_copy_int(b, d->last_time);
		store_pg_copy_int(b, d->last_received);
		store_pg_copy_str(b, status_name(d->last_compliant));
		store_pg_copy_str(b, d->last_profile);
		store_pg_copy_int(b, d->last_serial);
	} else {
		store_pg_copy_null(b);
		store_pg_copy_null(b);
		store_pg_copy_null(b);
		store_pg_copy_null(b);
		store_pg_copy_null(b);
	}
	return row_done(l, L_DEVICES, e);
}

int
store_pg_load_report(struct store_load *l, const struct store_load_report *r,
    struct muster_err *e)
{
	struct store_pg_copy *b = &l->t[L_REPORTS];

	store_pg_copy_str(b, r->device);
	store_pg_copy_int(b, r->seq);
	store_pg_copy_int(b, r->time);
	store_pg_copy_int(b, r->received);
	store_pg_copy_str(b, status_name(r->compliant));
	store_pg_copy_str(b, r->profile);
	store_pg_copy_int(b, r->serial);
	store_pg_copy_bin(b, r->hash, STORE_HASH_LEN);
	store_pg_copy_bin(b, r->body, r->len);
	return row_done(l, L_REPORTS, e);
}

int
store_pg_load_status(struct store_load *l, const char *device, time_t time,
    int64_t seq, time_t received, int compliant, struct muster_err *e)
{
	struct store_pg_copy *b = &l->t[L_STATUS];

	store_pg_copy_str(b, device);
	store_pg_copy_int(b, time);
	store_pg_copy_int(b, seq);
	store_pg_copy_int(b, received);
	store_pg_copy_str(b, status_name(compliant));
	return row_done(l, L_STATUS, e);
}

int
store_pg_load_failing_change(struct store_load *l, const char *device,
    const char *rule, time_t time, int64_t seq, int failing,
    struct muster_err *e)
{
	struct store_pg_copy *b = &l->t[L_FAILING_HISTORY];

	store_pg_copy_str(b, device);
	store_pg_copy_str(b, rule);
	store_pg_copy_int(b, time);
	store_pg_copy_int(b, seq);
	store_pg_copy_int(b, failing != 0);
	return row_done(l, L_FAILING_HISTORY, e);
}

int
store_pg_load_failing(struct store_load *l, const char *device,
    const char *rule, time_t since, struct muster_err *e)
{
	struct store_pg_copy *b = &l->t[L_FAILING];

	store_pg_copy_str(b, device);
	store_pg_copy_str(b, rule);
	store_pg_copy_int(b, since);
	return row_done(l, L_FAILING, e);
}

int
store_pg_load_try(const char *uri, const char *stmt, struct muster_err *e)
{
	PGconn *c;
	int rc;

	if ((rc = store_pg_connect(uri, &c, e)) != 0)
		return rc == MUSTER_ETEMP ? MUSTER_EIO : rc;
	rc = store_pg_exec(c, stmt, e);
	PQfinish(c);
	return rc != 0 ? MUSTER_EIO : 0;
}
