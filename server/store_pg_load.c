/*
 * store_pg_load: bulk loading of a PostgreSQL store for benchmark fleets
 * (store.h); rows as given, unchecked, in one transaction that
 * store_load_finish commits.  Only tools use it, never the server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

enum load_stmt {
	L_TOKEN,
	L_DEVICE,
	L_REPORT,
	L_STATUS,
	L_FAILING_CHANGE,
	L_FAILING,
	L_PROFILES,
	L__N
};

static const char *const load_sql[L__N] = {
	[L_TOKEN] = "INSERT INTO tokens (id, used, expires) VALUES ($1, $2, $3)",
	[L_DEVICE] = "INSERT INTO devices (id, pubkey, scope, unit, person, "
	    "model, token_id, enrolled, last_seq, last_time, last_received, "
	    "last_status, last_profile, last_serial) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
	[L_REPORT] = "INSERT INTO reports (device, seq, time, received, "
	    "status, profile, serial, hash, body) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	[L_STATUS] = "INSERT INTO status_history (device, time, seq, "
	    "received, status) VALUES ($1, $2, $3, $4, $5)",
	[L_FAILING_CHANGE] = "INSERT INTO failing_history (device, rule, "
	    "time, seq, failing) VALUES ($1, $2, $3, $4, $5)",
	[L_FAILING] = "INSERT INTO device_failing (device, rule, since) "
	    "VALUES ($1, $2, $3)",
	[L_PROFILES] = "UPDATE profiles SET published = $1",
};

struct store_load {
	const struct store_ops	*ops;	/* first: store_backend.h */
	PGconn			*c;
};

static const char *
status_name(int compliant)
{
	return compliant ? "compliant" : "noncompliant";
}

static int
load_run(struct store_load *l, enum load_stmt id,
    const struct store_pg_params *q, struct muster_err *e)
{
	char name[16];
	PGresult *r;
	int rc = 0;

	if (q->over)
		return err_set(e, MUSTER_EINTERNAL, "store: load: too many "
		    "parameters");
	snprintf(name, sizeof name, "l%d", (int)id);
	r = PQexecPrepared(l->c, name, q->n, q->v, q->len, q->fmt, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = store_pg_err(l->c, r, "load", e);
	PQclear(r);
	return rc;
}

int
store_pg_load_open(const char *uri, struct store_load **out,
    struct muster_err *e)
{
	struct store_load *l;
	char name[16];
	PGresult *r;
	int64_t v;
	int rc, i;

	*out = NULL;
	if ((l = calloc(1, sizeof *l)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	l->ops = &store_pg_ops;
	if ((rc = store_pg_connect(uri, &l->c, e)) != 0 ||
	    (rc = store_pg_version(l->c, &v, e)) != 0)
		goto out;
	if (v != STORE_PG_SCHEMA_VERSION) {
		rc = err_set(e, MUSTER_EIO, "store: schema version %lld, not "
		    "%d: open it with the server first", (long long)v,
		    STORE_PG_SCHEMA_VERSION);
		goto out;
	}
	for (i = 0; i < L__N; i++) {
		snprintf(name, sizeof name, "l%d", i);
		r = PQprepare(l->c, name, load_sql[i], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = store_pg_err(l->c, r, "prepare", e);
		PQclear(r);
		if (rc != 0)
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

	if ((rc = store_pg_exec(l->c, "COMMIT", e)) != 0)
		return rc;
	return store_pg_exec(l->c, "ANALYZE", e);
}

void
store_pg_load_close(struct store_load *l)
{
	if (l == NULL)
		return;
	PQfinish(l->c);
	free(l);
}

int
store_pg_load_profiles_published(struct store_load *l, time_t published,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_int(&q, published);
	return load_run(l, L_PROFILES, &q, e);
}

int
store_pg_load_token(struct store_load *l, const char *id, time_t used,
    time_t expires, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, id);
	store_pg_int(&q, used);
	store_pg_int(&q, expires);
	return load_run(l, L_TOKEN, &q, e);
}

int
store_pg_load_device(struct store_load *l, const struct store_load_device *d,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	int last = d->last_seq > 0;

	store_pg_text(&q, d->id);
	store_pg_bin(&q, d->pk, 32);
	store_pg_text(&q, profile_scope_name(d->scope));
	store_pg_text(&q, d->unit);
	store_pg_text(&q, d->person);
	store_pg_text(&q, d->model);
	store_pg_text(&q, d->token_id);
	store_pg_int(&q, d->enrolled);
	store_pg_int(&q, d->last_seq);
	if (last) {
		store_pg_int(&q, d->last_time);
		store_pg_int(&q, d->last_received);
		store_pg_text(&q, status_name(d->last_compliant));
		store_pg_text(&q, d->last_profile);
		store_pg_int(&q, d->last_serial);
	} else {
		store_pg_text(&q, NULL);
		store_pg_text(&q, NULL);
		store_pg_text(&q, NULL);
		store_pg_text(&q, NULL);
		store_pg_text(&q, NULL);
	}
	return load_run(l, L_DEVICE, &q, e);
}

int
store_pg_load_report(struct store_load *l, const struct store_load_report *r,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, r->device);
	store_pg_int(&q, r->seq);
	store_pg_int(&q, r->time);
	store_pg_int(&q, r->received);
	store_pg_text(&q, status_name(r->compliant));
	store_pg_text(&q, r->profile);
	store_pg_int(&q, r->serial);
	store_pg_bin(&q, r->hash, STORE_HASH_LEN);
	store_pg_bin(&q, r->body, r->len);
	return load_run(l, L_REPORT, &q, e);
}

int
store_pg_load_status(struct store_load *l, const char *device, time_t time,
    int64_t seq, time_t received, int compliant, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, device);
	store_pg_int(&q, time);
	store_pg_int(&q, seq);
	store_pg_int(&q, received);
	store_pg_text(&q, status_name(compliant));
	return load_run(l, L_STATUS, &q, e);
}

int
store_pg_load_failing_change(struct store_load *l, const char *device,
    const char *rule, time_t time, int64_t seq, int failing,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, device);
	store_pg_text(&q, rule);
	store_pg_int(&q, time);
	store_pg_int(&q, seq);
	store_pg_int(&q, failing != 0);
	return load_run(l, L_FAILING_CHANGE, &q, e);
}

int
store_pg_load_failing(struct store_load *l, const char *device,
    const char *rule, time_t since, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	store_pg_text(&q, device);
	store_pg_text(&q, rule);
	store_pg_int(&q, since);
	return load_run(l, L_FAILING, &q, e);
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
