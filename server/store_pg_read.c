/*
 * store_pg_read: the reads of the roll-up and the device list from the
 * PostgreSQL store (store_pg.c owns the schema); the same queries as
 * store_sqlite_read.c, whose comment says why SQL only streams rows.
 *
 * One connection per read handle.  store_read_begin opens a REPEATABLE
 * READ, READ ONLY transaction, so that every read of one answer sees one
 * snapshot while servers write; each scan is a server-side cursor in it
 * (DECLARE ... FETCH), so that a million rows stream in batches and
 * several scans may be open at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muster/report.h"
#include "store_pg.h"

#define READ_FETCH	2000	/* rows per FETCH */
#define INT8OID		20
#define INT4OID		23
#define TEXTOID		25

/* The state of a device as SQL returns it: enum store_state. */
#define CAT_SQL(status, when)						\
"CASE WHEN " status " IS NULL THEN 3 "					\
"WHEN " when " < CASE scope WHEN 'family' THEN $2 ELSE $1 END "	\
"THEN 2 WHEN " status " = 'compliant' THEN 0 ELSE 1 END"

static const char status_present_sql[] =
"SELECT unit, model, scope, " CAT_SQL("last_status", "last_received") " "
"FROM devices WHERE revoked IS NULL";

/*
 * Device d's newest report at or before $3 as the runs of reports say it
 * (raw reports are pruned): the newest run that started by $3, its last
 * report or $3 itself when $3 falls inside it; the open run is in
 * devices (run_first .. last_time).  As store_sqlite_read.c.
 */
#define LAST_RUNS_SQL							\
"  coalesce(CASE WHEN d.run_first <= $3 THEN least(d.last_time, $3) END, "	\
"   (SELECT least(u.last, $3) FROM report_runs u WHERE u.device = d.id "	\
"    AND u.first <= $3 ORDER BY u.first DESC LIMIT 1))"

static const char status_past_sql[] =
"SELECT unit, model, scope, " CAT_SQL("st", "lt") " "
"FROM (SELECT d.unit AS unit, d.model AS model, d.scope AS scope, "
"  (SELECT h.status FROM status_history h WHERE h.device = d.id "
"   AND h.time <= $3 ORDER BY h.time DESC, h.seq DESC LIMIT 1) AS st, "
LAST_RUNS_SQL " AS lt "
"  FROM devices d WHERE d.enrolled <= $3 "
"  AND (d.revoked IS NULL OR d.revoked > $3) ORDER BY d.id) x";

#define POP_SQL(cond)							\
"SELECT unit, scope, CASE WHEN scope = 'family' OR NOT (" cond ") "	\
"THEN id END, (" cond ")::int FROM devices"

static const char pop_present_sql[] = POP_SQL("revoked IS NULL");
static const char pop_past_sql[] =
    POP_SQL("enrolled <= $3 AND (revoked IS NULL OR revoked > $3)");

static const char fail_present_sql[] =
"SELECT device, rule, 1 FROM device_failing ORDER BY device, rule";

static const char fail_past_sql[] =
"SELECT device, rule, failing FROM failing_history "
"WHERE time <= $3 ORDER BY device, rule, time, seq";

static const char profile_sql[] =
"SELECT bytes FROM profiles WHERE scope = $1 "
"AND ($2::bigint IS NULL OR published <= $2) ORDER BY n DESC LIMIT 1";

#define DEV_CAT	CAT_SQL("d.last_status", "d.last_received")

static const char dev_sql[] =
"SELECT id, unit, person, model, last_received, cat, failing, stale FROM ("
" SELECT d.id AS id, d.unit AS unit, d.person AS person, d.model AS model,"
"  d.last_received AS last_received, " DEV_CAT " AS cat,"
"  d.last_stale AS stale,"
"  (SELECT string_agg(f.rule, ' ' ORDER BY f.rule) FROM device_failing f"
"   WHERE f.device = d.id) AS failing"
" FROM devices d WHERE d.scope = 'personnel' AND d.revoked IS NULL%s) x"
"%s ORDER BY unit, person, id";

static const char dev_width_sql[] =
"SELECT coalesce(max(length(unit)), 0), coalesce(max(length(person)), 0), "
"coalesce(max(length(model)), 0) "
"FROM devices d WHERE d.scope = 'personnel' AND d.revoked IS NULL%s";

/* The unit and every level below it ($4/...): '0' follows '/'. */
#define DEV_UNIT_SQL	" AND (d.unit = $4 OR (d.unit > $4 || '/' AND " \
			"d.unit < $4 || '0'))"
#define DEV_STATUS_SQL	" WHERE cat = $5"

static const char first_sql[] =
"SELECT min(t) FROM (SELECT min(enrolled) AS t FROM devices "
"UNION ALL SELECT min(published) FROM profiles) x";

struct store_read {
	const struct store_ops	*ops;	/* first: store_backend.h */
	PGconn			*c;
	int			 empty;	/* no schema yet: every scan empty */
	int			 tx;	/* in a snapshot */
	unsigned		 ncur;	/* cursors declared (names) */
};

struct store_cursor {
	const struct store_ops	*ops;	/* first: store_backend.h */
	struct store_read	*rd;	/* NULL: an empty store, no rows */
	char			 name[24];
	PGresult		*batch;
	int			 row, nrows;
	int			 done;	/* the last FETCH came back short */
	int			 kind;	/* enum store_scan, or CUR_DEVICES */
	const char		*what;
};

#define CUR_DEVICES	(-1)
#define CUR_FLEET	(-2)

/*
 * The parameters every scan takes: $1, $2 stale, $3 at, $4 unit, $5
 * state, $6 limit, $7 offset (a page of the device list).
 */
#define SCAN_NPARAMS	7

struct scan_params {
	char		 num[SCAN_NPARAMS][24];
	const char	*v[SCAN_NPARAMS];
	Oid		 types[SCAN_NPARAMS];
};

static void
scan_params(struct scan_params *p, const int64_t stale_before[2],
    const time_t *at, const char *unit, int state)
{
	memset(p, 0, sizeof *p);
	snprintf(p->num[0], sizeof p->num[0], "%lld",
	    (long long)stale_before[SCOPE_PERSONNEL]);
	snprintf(p->num[1], sizeof p->num[1], "%lld",
	    (long long)stale_before[SCOPE_FAMILY]);
	snprintf(p->num[2], sizeof p->num[2], "%lld",
	    (long long)(at != NULL ? *at : 0));
	snprintf(p->num[4], sizeof p->num[4], "%d", state);
	snprintf(p->num[5], sizeof p->num[5], "%d", INT32_MAX);
	snprintf(p->num[6], sizeof p->num[6], "0");
	p->v[0] = p->num[0];
	p->v[1] = p->num[1];
	p->v[2] = p->num[2];
	p->v[3] = unit;
	p->v[4] = p->num[4];
	p->v[5] = p->num[5];
	p->v[6] = p->num[6];
	p->types[0] = p->types[1] = p->types[2] = INT8OID;
	p->types[3] = TEXTOID;
	p->types[4] = INT4OID;
	p->types[5] = p->types[6] = INT8OID;
}

int
store_pg_read_open(const char *uri, struct store_read **out,
    struct muster_err *e)
{
	struct store_read *rd = NULL;
	int64_t v;
	int rc;

	*out = NULL;
	if ((rd = calloc(1, sizeof *rd)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rd->ops = &store_pg_ops;
	if ((rc = store_pg_attach(uri, 1, &rd->c, &v, e)) != 0)
		goto out;
	rd->empty = v == 0;	/* no server ran here yet */
	*out = rd;
	rd = NULL;
out:
	store_pg_read_close(rd);
	return rc;
}

void
store_pg_read_close(struct store_read *rd)
{
	if (rd == NULL)
		return;
	store_pg_read_end(rd);
	PQfinish(rd->c);
	free(rd);
}

int
store_pg_read_begin(struct store_read *rd, struct muster_err *e)
{
	int rc;

	if (rd->empty || rd->tx)
		return 0;
	if ((rc = store_pg_exec(rd->c, "BEGIN ISOLATION LEVEL REPEATABLE "
	    "READ READ ONLY", e)) == 0)
		rd->tx = 1;
	return rc;
}

void
store_pg_read_end(struct store_read *rd)
{
	if (rd->tx && rd->c != NULL)
		(void)store_pg_exec(rd->c, "COMMIT", NULL);
	rd->tx = 0;
}

int
store_pg_read_profile(struct store_read *rd, enum profile_scope scope,
    const time_t *published_by, char **bytes, size_t *len,
    struct muster_err *e)
{
	const Oid types[2] = { TEXTOID, INT8OID };
	const char *v[2];
	char by[24];
	PGresult *r;
	int rc = 0;

	*bytes = NULL;
	*len = 0;
	if (rd->empty)
		return 0;
	v[0] = profile_scope_name(scope);
	v[1] = NULL;
	if (published_by != NULL) {
		snprintf(by, sizeof by, "%lld", (long long)*published_by);
		v[1] = by;
	}
	r = PQexecParams(rd->c, profile_sql, 2, types, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = store_pg_err(rd->c, r, "profiles", e);
	else if (PQntuples(r) == 1)
		rc = store_pg_bytea(r, 0, 0, (unsigned char **)bytes, len, e);
	PQclear(r);
	return rc;
}

int
store_pg_read_first(struct store_read *rd, time_t *first, int *any,
    struct muster_err *e)
{
	PGresult *r;
	int rc = 0;

	*first = 0;
	*any = 0;
	if (rd->empty)
		return 0;
	r = PQexec(rd->c, first_sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = store_pg_err(rd->c, r, "first record", e);
	else if (!PQgetisnull(r, 0, 0)) {
		*first = (time_t)store_pg_getint(r, 0, 0);
		*any = 1;
	}
	PQclear(r);
	return rc;
}

/*
 * A new cursor on sql with p, declared in the handle's snapshot (begun
 * here when the caller did not).
 */
static int
cursor_new(struct store_read *rd, const char *sql, const struct scan_params *p,
    int kind, const char *what, struct store_cursor **out,
    struct muster_err *e)
{
	struct store_cursor *cur;
	PGresult *r;
	char *decl = NULL;
	size_t n;
	int rc = 0;

	*out = NULL;
	if ((cur = calloc(1, sizeof *cur)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	cur->ops = &store_pg_ops;
	cur->kind = kind;
	cur->what = what;
	if (rd->empty)
		goto done;
	if ((rc = store_pg_read_begin(rd, e)) != 0)
		goto out;
	snprintf(cur->name, sizeof cur->name, "muster_c%u", rd->ncur++);
	n = strlen(sql) + 64;
	if ((decl = malloc(n)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(decl, n, "DECLARE %s NO SCROLL CURSOR FOR %s", cur->name, sql);
	r = PQexecParams(rd->c, decl, SCAN_NPARAMS, p->types, p->v, NULL,
	    NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = store_pg_err(rd->c, r, what, e);
	PQclear(r);
	if (rc != 0)
		goto out;
	cur->rd = rd;
done:
	*out = cur;
	cur = NULL;
out:
	free(decl);
	free(cur);
	return rc;
}

int
store_pg_rollup_scan(struct store_read *rd, enum store_scan what,
    const struct store_when *w, struct store_cursor **cur,
    struct muster_err *e)
{
	struct scan_params p;
	const char *sql;

	switch (what) {
	case STORE_SCAN_STATUS:
		sql = w->past ? status_past_sql : status_present_sql;
		break;
	case STORE_SCAN_POPULATION:
		sql = w->past ? pop_past_sql : pop_present_sql;
		break;
	case STORE_SCAN_FAILING:
	default:
		sql = w->past ? fail_past_sql : fail_present_sql;
		break;
	}
	scan_params(&p, w->stale_before, &w->at, NULL, 0);
	return cursor_new(rd, sql, &p, (int)what, "roll-up", cur, e);
}

int
store_pg_devices_scan(struct store_read *rd, const struct store_devq *q,
    struct store_cursor **cur, struct muster_err *e)
{
	struct scan_params p;
	char sql[2048];

	snprintf(sql, sizeof sql, dev_sql, q->unit != NULL ? DEV_UNIT_SQL : "",
	    q->state >= 0 ? DEV_STATUS_SQL : "");
	scan_params(&p, q->stale_before, NULL, q->unit, q->state);
	return cursor_new(rd, sql, &p, CUR_DEVICES, "devices", cur, e);
}

int
store_pg_devices_widths(struct store_read *rd, const struct store_devq *q,
    int len[3], struct muster_err *e)
{
	struct scan_params p;
	PGresult *r;
	char sql[512];
	int i, rc = 0;

	for (i = 0; i < 3; i++)
		len[i] = 0;
	if (rd->empty)
		return 0;
	snprintf(sql, sizeof sql, dev_width_sql,
	    q->unit != NULL ? DEV_UNIT_SQL : "");
	scan_params(&p, q->stale_before, NULL, q->unit, q->state);
	r = PQexecParams(rd->c, sql, SCAN_NPARAMS, p.types, p.v, NULL, NULL,
	    0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = store_pg_err(rd->c, r, "devices", e);
	else
		for (i = 0; i < 3; i++)
			len[i] = (int)store_pg_getint(r, 0, i);
	PQclear(r);
	return rc;
}

static const char *
col_text(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

static enum profile_scope
col_scope(const PGresult *r, int row, int col)
{
	return strcmp(col_text(r, row, col), "family") == 0 ? SCOPE_FAMILY :
	    SCOPE_PERSONNEL;
}

int
store_pg_cursor_next(struct store_cursor *cur, struct store_row *row,
    struct muster_err *e)
{
	char sql[64];
	PGresult *r;
	int i;

	if (cur->rd == NULL)
		return 0;
	if (cur->batch == NULL || cur->row >= cur->nrows) {
		PQclear(cur->batch);
		cur->batch = NULL;
		if (cur->done)
			return 0;
		snprintf(sql, sizeof sql, "FETCH %d FROM %s", READ_FETCH,
		    cur->name);
		r = PQexec(cur->rd->c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			i = store_pg_err(cur->rd->c, r, cur->what, e);
			PQclear(r);
			return i;
		}
		cur->batch = r;
		cur->row = 0;
		cur->nrows = PQntuples(r);
		cur->done = cur->nrows < READ_FETCH;
		if (cur->nrows == 0)
			return 0;
	}
	r = cur->batch;
	i = cur->row++;
	row->id = NULL;
	row->unit = row->person = row->model = row->rule = row->failing = "";
	row->scope = SCOPE_PERSONNEL;
	row->state = STORE_NEVER;
	row->flag = 0;
	row->has_last = 0;
	row->last = 0;
	row->stale = 0;
	switch (cur->kind) {
	case STORE_SCAN_STATUS:
		row->unit = col_text(r, i, 0);
		row->model = col_text(r, i, 1);
		row->scope = col_scope(r, i, 2);
		row->state = (int)store_pg_getint(r, i, 3);
		break;
	case STORE_SCAN_POPULATION:
		row->unit = col_text(r, i, 0);
		row->scope = col_scope(r, i, 1);
		if (!PQgetisnull(r, i, 2))
			row->id = col_text(r, i, 2);
		row->flag = (int)store_pg_getint(r, i, 3);
		break;
	case STORE_SCAN_FAILING:
		row->id = col_text(r, i, 0);
		row->rule = col_text(r, i, 1);
		row->flag = (int)store_pg_getint(r, i, 2);
		break;
	case CUR_FLEET:
		row->scope = col_scope(r, i, 0);
		row->unit = col_text(r, i, 1);
		row->state = (int)store_pg_getint(r, i, 2);
		row->stale = (unsigned)store_pg_getint(r, i, 3);
		break;
	case CUR_DEVICES:
		row->id = col_text(r, i, 0);
		row->unit = col_text(r, i, 1);
		row->person = col_text(r, i, 2);
		row->model = col_text(r, i, 3);
		if (!PQgetisnull(r, i, 4)) {
			row->has_last = 1;
			row->last = (time_t)store_pg_getint(r, i, 4);
		}
		row->state = (int)store_pg_getint(r, i, 5);
		row->failing = col_text(r, i, 6);
		row->stale = (unsigned)store_pg_getint(r, i, 7);
		break;
	}
	return 1;
}

void
store_pg_cursor_close(struct store_cursor *cur)
{
	char sql[64];

	if (cur == NULL)
		return;
	PQclear(cur->batch);
	if (cur->rd != NULL && cur->rd->tx) {
		snprintf(sql, sizeof sql, "CLOSE %s", cur->name);
		(void)store_pg_exec(cur->rd->c, sql, NULL);
	}
	free(cur);
}

PGconn *
store_pg_read_conn(struct store_read *rd)
{
	return rd->empty ? NULL : rd->c;
}

/* --- fleet gauges, family counts, pages, the console ------------------- */


static const char fleet_sql[] =
"SELECT scope, CASE WHEN scope = 'family' THEN unit END, "
    CAT_SQL("last_status", "last_received") ", last_stale "
"FROM devices WHERE revoked IS NULL";

int
store_pg_fleet_scan(struct store_read *rd, const int64_t stale_before[2],
    store_fleet_fn fn, void *cls, struct muster_err *e)
{
	struct store_cursor *cur = NULL;
	struct scan_params p;
	struct store_row row;
	int rc;

	scan_params(&p, stale_before, NULL, NULL, 0);
	if ((rc = cursor_new(rd, fleet_sql, &p, CUR_FLEET, "fleet", &cur,
	    e)) != 0)
		return rc;
	while ((rc = store_pg_cursor_next(cur, &row, e)) == 1)
		if ((rc = fn(cls, row.scope, row.scope == SCOPE_FAMILY ?
		    row.unit : NULL, row.state, row.stale)) != 0)
			break;
	store_pg_cursor_close(cur);
	return rc;
}

/*
 * The family devices counted at $3 (or now) in the device list's
 * columns, failing their newest report's failing rules, sorted, by
 * spaces (as store_sqlite_read.c).  The newest report at $3 is read
 * from the runs (LAST_RUNS_SQL), as status_past_sql does.
 */
static const char fam_present_sql[] =
"SELECT id, unit, '', model, NULL::bigint, "
    CAT_SQL("last_status", "last_received") ", "
"  coalesce((SELECT string_agg(f.rule, ' ' ORDER BY f.rule) "
"   FROM device_failing f WHERE f.device = d.id), ''), 0 "
"FROM devices d WHERE scope = 'family' AND revoked IS NULL";

static const char fam_past_sql[] =
"SELECT id, unit, '', model, NULL::bigint, " CAT_SQL("st", "lt") ", "
"  coalesce((SELECT string_agg(rule, ' ' ORDER BY rule) FROM "
"   (SELECT DISTINCT ON (h.rule) h.rule AS rule, h.failing AS failing "
"    FROM failing_history h WHERE h.device = x.id AND h.time <= $3 "
"    ORDER BY h.rule, h.time DESC, h.seq DESC) z WHERE failing = 1), ''), "
"  0 "
"FROM (SELECT d.id AS id, d.unit AS unit, d.model AS model, "
"  d.scope AS scope, "
"  (SELECT h.status FROM status_history h WHERE h.device = d.id "
"   AND h.time <= $3 ORDER BY h.time DESC, h.seq DESC LIMIT 1) AS st, "
LAST_RUNS_SQL " AS lt "
"  FROM devices d WHERE d.scope = 'family' AND d.enrolled <= $3 "
"  AND (d.revoked IS NULL OR d.revoked > $3) ORDER BY d.id) x";

int
store_pg_family_scan(struct store_read *rd, const struct store_when *w,
    struct store_cursor **cur, struct muster_err *e)
{
	struct scan_params p;

	scan_params(&p, w->stale_before, &w->at, NULL, 0);
	return cursor_new(rd, w->past ? fam_past_sql : fam_present_sql, &p,
	    CUR_DEVICES, "roll-up", cur, e);
}

int
store_pg_devices_page(struct store_read *rd, const struct store_devq *q,
    int64_t offset, int64_t limit, struct store_cursor **cur,
    struct muster_err *e)
{
	struct scan_params p;
	char sql[2048];
	size_t n;

	snprintf(sql, sizeof sql, dev_sql, q->unit != NULL ? DEV_UNIT_SQL : "",
	    q->state >= 0 ? DEV_STATUS_SQL : "");
	n = strlen(sql);
	snprintf(sql + n, sizeof sql - n, " LIMIT $6 OFFSET $7");
	scan_params(&p, q->stale_before, NULL, q->unit, q->state);
	snprintf(p.num[5], sizeof p.num[5], "%lld", (long long)limit);
	snprintf(p.num[6], sizeof p.num[6], "%lld", (long long)offset);
	return cursor_new(rd, sql, &p, CUR_DEVICES, "devices", cur, e);
}

/*
 * A bytea column of exactly len bytes into dst: 0, 1 when its size is
 * another (dst untouched), MUSTER_EINTERNAL when out of memory.
 */
static int
col_fixed(const PGresult *r, int row, int col, unsigned char *dst,
    size_t len, struct muster_err *e)
{
	unsigned char *b = NULL;
	size_t n;
	int rc;

	if ((rc = store_pg_bytea(r, row, col, &b, &n, e)) != 0)
		return rc;
	if (n == len)
		memcpy(dst, b, len);
	free(b);
	return n == len ? 0 : 1;
}

int
store_pg_read_device(struct store_read *rd, const char *id,
    struct store_device_info *d, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	memset(d, 0, sizeof *d);
	if (rd->empty)
		return err_set(e, MUSTER_ENOINPUT, "no such device");
	store_pg_text(&q, id);
	if ((r = store_pg_query(rd->c, "SELECT scope, unit, person, model, "
	    "enrolled, (revoked IS NOT NULL)::int, pubkey FROM devices "
	    "WHERE id = $1", &q, "device", &rc, e)) == NULL)
		return rc;
	if (PQntuples(r) == 1) {
		d->scope = col_scope(r, 0, 0);
		snprintf(d->unit, sizeof d->unit, "%s", col_text(r, 0, 1));
		snprintf(d->person, sizeof d->person, "%s", col_text(r, 0, 2));
		snprintf(d->model, sizeof d->model, "%s", col_text(r, 0, 3));
		d->enrolled = (time_t)store_pg_getint(r, 0, 4);
		d->revoked = (int)store_pg_getint(r, 0, 5);
		if ((rc = col_fixed(r, 0, 6, d->pk, sizeof d->pk, e)) == 1)
			rc = err_set(e, MUSTER_EIO, "store: device key of "
			    "bad size");
	} else
		rc = err_set(e, MUSTER_ENOINPUT, "no such device");
	PQclear(r);
	return rc;
}

static const char history_sql[] =
"SELECT h.time, h.seq, h.received, (h.status = 'compliant')::int, "
"r.hash, r.body, r.sig FROM status_history h LEFT JOIN reports r "
"ON r.device = h.device AND r.seq = h.seq "
"WHERE h.device = $1 ORDER BY h.time DESC, h.seq DESC LIMIT $2";

int
store_pg_device_history(struct store_read *rd, const char *id, size_t max,
    store_history_fn fn, void *arg, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	struct store_history_row row;
	unsigned char *hash = NULL, *body = NULL, *sig = NULL;
	size_t hlen, slen, i;
	PGresult *r;
	int rc;

	if (rd->empty)
		return 0;
	store_pg_text(&q, id);
	store_pg_int(&q, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = store_pg_query(rd->c, history_sql, &q, "device history", &rc,
	    e)) == NULL)
		return rc;
	for (i = 0; rc == 0 && i < (size_t)PQntuples(r); i++) {
		memset(&row, 0, sizeof row);
		row.time = (time_t)store_pg_getint(r, (int)i, 0);
		row.seq = store_pg_getint(r, (int)i, 1);
		row.received = (time_t)store_pg_getint(r, (int)i, 2);
		row.compliant = (int)store_pg_getint(r, (int)i, 3);
		if (!PQgetisnull(r, (int)i, 5)) {
			row.has_report = 1;
			if ((rc = store_pg_bytea(r, (int)i, 4, &hash, &hlen,
			    e)) != 0 || (rc = store_pg_bytea(r, (int)i, 5,
			    &body, &row.len, e)) != 0)
				break;
			if (hlen == STORE_HASH_LEN)
				row.hash = hash;
			row.body = (const char *)body;
			/* NULL: not kept (stored before migration 5). */
			if (!PQgetisnull(r, (int)i, 6)) {
				if ((rc = store_pg_bytea(r, (int)i, 6, &sig,
				    &slen, e)) != 0)
					break;
				if (slen == STORE_SIG_LEN)
					row.sig = sig;
			}
		}
		rc = fn(arg, &row);
		free(hash);
		free(body);
		free(sig);
		hash = body = sig = NULL;
	}
	free(hash);
	free(body);
	free(sig);
	PQclear(r);
	return rc;
}

int
store_pg_count_stale_policy(struct store_read *rd, int64_t *n,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	*n = 0;
	if (rd->empty)
		return 0;
	store_pg_int(&q, REPORT_STALE_POLICY);
	if ((r = store_pg_query(rd->c, "SELECT count(*) FROM devices WHERE "
	    "scope = 'personnel' AND revoked IS NULL AND "
	    "(last_stale & $1::int) != 0", &q, "stale policy", &rc, e)) ==
	    NULL)
		return rc;
	*n = store_pg_getint(r, 0, 0);
	PQclear(r);
	return 0;
}

static const char model_units_sql[] =
"SELECT unit, count(*), count(*) FILTER (WHERE last_status = "
"'noncompliant') FROM devices WHERE scope = 'personnel' AND revoked IS NULL "
"AND strpos(model, $1) > 0 GROUP BY unit ORDER BY count(*) DESC, unit "
"LIMIT $2";

int
store_pg_model_units(struct store_read *rd, const char *part, size_t max,
    store_model_unit_fn fn, void *arg, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc, i;

	if (rd->empty)
		return 0;
	store_pg_text(&q, part);
	store_pg_int(&q, max > INT64_MAX ? INT64_MAX : (int64_t)max);
	if ((r = store_pg_query(rd->c, model_units_sql, &q, "model units", &rc,
	    e)) == NULL)
		return rc;
	for (i = 0; rc == 0 && i < PQntuples(r); i++)
		rc = fn(arg, col_text(r, i, 0), store_pg_getint(r, i, 1),
		    store_pg_getint(r, i, 2));
	PQclear(r);
	return rc;
}

/* --- one stored report and its proof ------------------------------------ */

static const char report_proof_sql[] =
"SELECT d.scope, (d.revoked IS NOT NULL)::int, d.pubkey, r.time, "
"r.received, (r.status = 'compliant')::int, r.hash, r.body, r.sig "
"FROM devices d JOIN reports r ON r.device = d.id "
"WHERE d.id = $1 AND r.seq = $2";

int
store_pg_read_report(struct store_read *rd, const char *id, int64_t seq,
    struct store_proof *p, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r = NULL;
	int rc;

	memset(p, 0, sizeof *p);
	if (rd->empty)
		return err_set(e, MUSTER_ENOINPUT, "no such report");
	store_pg_text(&q, id);
	store_pg_int(&q, seq);
	if ((r = store_pg_query(rd->c, report_proof_sql, &q, "report", &rc,
	    e)) == NULL)
		return rc;
	if (PQntuples(r) != 1) {
		rc = err_set(e, MUSTER_ENOINPUT, "no such report");
		goto out;
	}
	snprintf(p->device, sizeof p->device, "%s", id);
	p->scope = col_scope(r, 0, 0);
	p->revoked = (int)store_pg_getint(r, 0, 1);
	p->seq = seq;
	p->time = (time_t)store_pg_getint(r, 0, 3);
	p->received = (time_t)store_pg_getint(r, 0, 4);
	p->compliant = (int)store_pg_getint(r, 0, 5);
	p->has_sig = !PQgetisnull(r, 0, 8);
	if ((rc = col_fixed(r, 0, 2, p->pk, sizeof p->pk, e)) != 0 ||
	    (rc = col_fixed(r, 0, 6, p->hash, sizeof p->hash, e)) != 0 ||
	    (p->has_sig && (rc = col_fixed(r, 0, 8, p->sig, sizeof p->sig,
	    e)) != 0)) {
		if (rc == 1)
			rc = err_set(e, MUSTER_EIO, "store: report %lld: a key, "
			    "hash or signature of bad size", (long long)seq);
		goto out;
	}
	/* NUL-terminated by store_pg_bytea: the bytes may be shown as text. */
	rc = store_pg_bytea(r, 0, 7, &p->body, &p->len, e);
out:
	if (rc != 0) {
		free(p->body);
		p->body = NULL;
		p->len = 0;
		p->has_sig = 0;
	}
	PQclear(r);
	return rc;
}
