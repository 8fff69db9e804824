/*
 * store_pg_common: what the PostgreSQL backend's files share: the
 * connection, error mapping, parameters and column decoding; store_pg.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg.h"

#define PG_CONNECT_TIMEOUT	"5"	/* seconds, unless the URI says */

void
store_pg_text(struct store_pg_params *q, const char *v)
{
	if (q->n >= STORE_PG_PARAMS_MAX) {
		q->over = 1;
		return;
	}
	q->v[q->n] = v;
	q->len[q->n] = 0;
	q->fmt[q->n] = 0;
	q->n++;
}

void
store_pg_int(struct store_pg_params *q, int64_t v)
{
	if (q->n >= STORE_PG_PARAMS_MAX) {
		q->over = 1;
		return;
	}
	snprintf(q->num[q->n], sizeof q->num[q->n], "%" PRId64, v);
	store_pg_text(q, q->num[q->n]);
}

void
store_pg_bin(struct store_pg_params *q, const void *v, size_t len)
{
	if (q->n >= STORE_PG_PARAMS_MAX) {
		q->over = 1;
		return;
	}
	q->v[q->n] = v;
	q->len[q->n] = (int)len;
	q->fmt[q->n] = 1;
	q->n++;
}

/* libpq's message on one line, without the trailing newline. */
static void
one_line(char *dst, size_t size, const char *msg)
{
	size_t i, j;

	for (i = 0, j = 0; msg != NULL && msg[i] != '\0' && j + 1 < size;
	    i++) {
		if (msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t')
			dst[j++] = ' ';
		else
			dst[j++] = msg[i];
	}
	while (j > 0 && dst[j - 1] == ' ')
		j--;
	dst[j] = '\0';
}

/* Notices ("already exists, skipping") are not for the server's log. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int
store_pg_connect(const char *uri, PGconn **out, struct muster_err *e)
{
	/* The URI comes last: what it sets wins over these defaults. */
	const char *const keys[] = { "connect_timeout", "application_name",
	    "dbname", NULL };
	const char *const vals[] = { PG_CONNECT_TIMEOUT, "muster-server", uri,
	    NULL };
	char msg[256];
	PGconn *c;
	int rc;

	*out = NULL;
	if ((c = PQconnectdbParams(keys, vals, 1)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (PQstatus(c) != CONNECTION_OK) {
		one_line(msg, sizeof msg, PQerrorMessage(c));
		PQfinish(c);
		return err_set(e, MUSTER_ETEMP, "store: PostgreSQL: %s", msg);
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	if (PQsetClientEncoding(c, "UTF8") != 0)
		rc = store_pg_err(c, NULL, "client encoding", e);
	else
		rc = store_pg_exec(c, "SET TIME ZONE 'UTC'", e);
	if (rc != 0) {
		PQfinish(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
store_pg_err(PGconn *c, const PGresult *r, const char *what,
    struct muster_err *e)
{
	const char *state = r != NULL ?
	    PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	char msg[256];
	int rc = MUSTER_EIO;

	one_line(msg, sizeof msg, r != NULL && PQresultErrorMessage(r)[0] !=
	    '\0' ? PQresultErrorMessage(r) : PQerrorMessage(c));
	if (PQstatus(c) != CONNECTION_OK)
		rc = MUSTER_ETEMP;
	else if (state != NULL) {
		if (strncmp(state, "08", 2) == 0 ||	/* connection */
		    strncmp(state, "57", 2) == 0 ||	/* shutdown */
		    strncmp(state, "53", 2) == 0 ||	/* resources */
		    strncmp(state, "40", 2) == 0 ||	/* deadlock, serial */
		    strcmp(state, "25006") == 0)	/* a standby */
			rc = MUSTER_ETEMP;
		else if (strncmp(state, "23", 2) == 0)
			rc = MUSTER_EDATA;
	}
	return err_set(e, rc, "store: %s: %s", what, msg);
}

int
store_pg_exec(PGconn *c, const char *sql, struct muster_err *e)
{
	PGresult *r;
	int rc = 0, st;

	r = PQexec(c, sql);
	st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = store_pg_err(c, r, "statement", e);
	PQclear(r);
	return rc;
}

PGresult *
store_pg_query(PGconn *c, const char *sql, const struct store_pg_params *q,
    const char *what, int *rc, struct muster_err *e)
{
	PGresult *r;
	int s;

	if (q->over) {
		*rc = err_set(e, MUSTER_EINTERNAL, "store: %s: too many "
		    "parameters", what);
		return NULL;
	}
	r = PQexecParams(c, sql, q->n, NULL, q->v, q->len, q->fmt, 0);
	s = PQresultStatus(r);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		*rc = 0;
		return r;
	}
	*rc = store_pg_err(c, r, what, e);
	PQclear(r);
	return NULL;
}

int
store_pg_version(PGconn *c, int64_t *v, struct muster_err *e)
{
	PGresult *r;
	int rc = 0;

	*v = 0;
	r = PQexec(c, "SELECT to_regclass('schema_version') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = store_pg_err(c, r, "schema version", e);
		goto out;
	}
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		goto out;
	PQclear(r);
	r = PQexec(c, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = store_pg_err(c, r, "schema version", e);
		goto out;
	}
	*v = store_pg_getint(r, 0, 0);
out:
	PQclear(r);
	return rc;
}

int
store_pg_version_check(PGconn *c, int64_t *v, struct muster_err *e)
{
	int rc;

	if ((rc = store_pg_version(c, v, e)) != 0)
		return rc;
	if (*v != 0 && *v != STORE_PG_SCHEMA_VERSION)
		return err_set(e, MUSTER_ECONFIG, "store: database schema "
		    "version %lld, this program knows %d%s", (long long)*v,
		    STORE_PG_SCHEMA_VERSION, *v < STORE_PG_SCHEMA_VERSION ?
		    " (start this server on it once to migrate it)" : "");
	return 0;
}

int
store_pg_attach(const char *uri, int readonly, PGconn **out, int64_t *v,
    struct muster_err *e)
{
	int rc;

	if ((rc = store_pg_connect(uri, out, e)) != 0)
		return rc;
	if ((rc = store_pg_version_check(*out, v, e)) != 0 || (readonly &&
	    (rc = store_pg_exec(*out, "SET default_transaction_read_only = "
	    "on", e)) != 0)) {
		PQfinish(*out);
		*out = NULL;
	}
	return rc;
}

void
store_pg_device_params(struct store_pg_params *q,
    const struct store_device *d, time_t enrolled)
{
	store_pg_text(q, d->id);
	store_pg_bin(q, d->pk, sizeof d->pk);
	store_pg_text(q, profile_scope_name(d->scope));
	store_pg_text(q, d->unit);
	store_pg_text(q, d->person);
	store_pg_text(q, d->model);
	store_pg_text(q, d->token_id);
	store_pg_int(q, enrolled);
}

int64_t
store_pg_getint(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return 0;
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int
store_pg_isnull(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col);
}

int
store_pg_bytea(const PGresult *r, int row, int col, unsigned char **out,
    size_t *len, struct muster_err *e)
{
	unsigned char *u;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	u = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col),
	    &n);
	if (u == NULL || (*out = malloc(n + 1)) == NULL) {
		PQfreemem(u);
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	if (n > 0)
		memcpy(*out, u, n);
	(*out)[n] = '\0';
	*len = n;
	PQfreemem(u);
	return 0;
}

static void
copy_put(struct store_pg_copy *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 65536 : b->cap;
		while (b->len + n + 1 > cap)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
copy_sep(struct store_pg_copy *b)
{
	if (b->nf++ > 0)
		copy_put(b, "\t", 1);
}

void
store_pg_copy_text(struct store_pg_copy *b, const char *v, size_t n)
{
	size_t i, start;

	copy_sep(b);
	for (i = 0, start = 0; i < n; i++) {
		const char *esc = v[i] == '\\' ? "\\\\" : v[i] == '\t' ?
		    "\\t" : v[i] == '\n' ? "\\n" : v[i] == '\r' ? "\\r" : NULL;

		if (esc == NULL)
			continue;
		copy_put(b, v + start, i - start);
		copy_put(b, esc, 2);
		start = i + 1;
	}
	copy_put(b, v + start, n - start);
}

void
store_pg_copy_str(struct store_pg_copy *b, const char *v)
{
	if (v == NULL)
		store_pg_copy_null(b);
	else
		store_pg_copy_text(b, v, strlen(v));
}

void
store_pg_copy_int(struct store_pg_copy *b, int64_t v)
{
	char num[24];
	int n;

	copy_sep(b);
	n = snprintf(num, sizeof num, "%" PRId64, v);
	copy_put(b, num, (size_t)n);
}

void
store_pg_copy_bin(struct store_pg_copy *b, const void *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = v;
	char h[64];
	size_t i, k = 0;

	copy_sep(b);
	/* bytea's hex input, its backslash escaped for COPY. */
	copy_put(b, "\\\\x", 3);
	for (i = 0; i < n; i++) {
		h[k++] = hex[u[i] >> 4];
		h[k++] = hex[u[i] & 15];
		if (k == sizeof h) {
			copy_put(b, h, k);
			k = 0;
		}
	}
	copy_put(b, h, k);
}

void
store_pg_copy_null(struct store_pg_copy *b)
{
	copy_sep(b);
	copy_put(b, "\\N", 2);
}

void
store_pg_copy_row(struct store_pg_copy *b)
{
	copy_put(b, "\n", 1);
	b->nf = 0;
	b->rows++;
}

void
store_pg_copy_free(struct store_pg_copy *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

int
store_pg_copy_flush(PGconn *c, const char *table, const char *cols,
    struct store_pg_copy *b, struct muster_err *e)
{
	PGresult *r;
	char sql[512];
	int rc = 0;

	if (b->oom)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (b->rows == 0)
		return 0;
	snprintf(sql, sizeof sql, "COPY %s (%s) FROM STDIN", table, cols);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rc = store_pg_err(c, r, table, e);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	if (PQputCopyData(c, b->p, (int)b->len) != 1 ||
	    PQputCopyEnd(c, NULL) != 1)
		rc = store_pg_err(c, NULL, table, e);
	while ((r = PQgetResult(c)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = store_pg_err(c, r, table, e);
		PQclear(r);
	}
	b->len = 0;
	b->nf = 0;
	b->rows = 0;
	return rc;
}
