/*
 * store_sqlite_read: the reads of the roll-up and the device list from
 * the SQLite store (store_sqlite.c owns the schema); see store.h for the
 * contract and docs/rollup.md for what the numbers mean.
 *
 * Everything is read through a read-only SQLite handle of our own, in one
 * read transaction (one WAL snapshot) per answer.
 *
 * SQL only streams rows; the caller counts, because a GROUP BY over a
 * million devices costs a sort, or a row lookup per device through an
 * index on the grouping column: about 1 s either way, against 0.3 s for
 * one scan in table order.
 *
 * The present comes from the columns the server keeps current: one scan
 * of `devices` (last_status, last_received) answers the unit, model and
 * scope roll-ups; for the rule roll-up, one scan of `devices` gives the
 * population and the ids of family and revoked devices, and one scan of
 * `device_failing` in key order is merged with them.  The past (at) comes
 * from history kept as changes: per device the newest `status_history`
 * row with time <= at (a seek on its primary key (device, time, seq)) and
 * the newest `reports` time <= at for staleness (a seek on the index
 * reports (device, time) where it exists); per (device, rule) the newest
 * `failing_history` row with time <= at, from one scan in key order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "muster/fs.h"
#include "muster/report.h"
#include "store.h"
#include "store_sqlite_int.h"

#define READ_BUSY_MS		10000

/* Page cache and memory map of the handle: a 1M-device store scans fast. */
static const char pragmas_sql[] =
"PRAGMA query_only = ON;"
"PRAGMA cache_size = -65536;"
"PRAGMA mmap_size = 1073741824;"
"PRAGMA temp_store = MEMORY;";

/* The state of a device as SQL returns it: enum store_state. */
#define CAT_SQL(status, when, thr_p, thr_f)				\
"CASE WHEN " status " IS NULL THEN 3 "					\
"WHEN " when " < CASE scope WHEN 'family' THEN " thr_f " ELSE " thr_p	\
" END THEN 2 WHEN " status " = 'compliant' THEN 0 ELSE 1 END"

/*
 * ?1, ?2: stale thresholds (personnel, family); ?3: at.  NOT INDEXED:
 * a scan in table order feeds the aggregation in C faster than any index
 * on a grouping column, which would cost a row lookup per device.  The
 * past walks the devices in id order instead, so that the seeks into
 * status_history and reports, keyed by device first, move forward
 * through those tables rather than all over them (3x faster at 1M).
 */
static const char status_present_sql[] =
"SELECT unit, model, scope, "
    CAT_SQL("last_status", "last_received", "?1", "?2") " "
"FROM devices NOT INDEXED WHERE revoked IS NULL";

#define STATUS_PAST_SQL(lt)						\
"SELECT unit, model, scope, " CAT_SQL("st", "lt", "?1", "?2") " "	\
"FROM (SELECT d.unit AS unit, d.model AS model, d.scope AS scope, "	\
"  (SELECT h.status FROM status_history h WHERE h.device = d.id "	\
"   AND h.time <= ?3 ORDER BY h.time DESC, h.seq DESC LIMIT 1) AS st, "	\
   lt " AS lt "								\
"  FROM devices d WHERE d.enrolled <= ?3 "				\
"  AND (d.revoked IS NULL OR d.revoked > ?3) ORDER BY d.id)"

/* Version 1-3: device d's newest report at or before at (?3). */
#define LAST_RAW_SQL							\
"  (SELECT r.time FROM reports r WHERE r.device = d.id AND r.time <= ?3 "	\
"   ORDER BY r.time DESC LIMIT 1)"

/*
 * Version 4, whose raw reports are pruned: the runs of reports (no two
 * more than the stale window apart) say the same.  The newest run that
 * started by at: its last report, or at itself when at falls inside it
 * (a report came less than the window before at).  The open run is in
 * devices (run_first .. last_time), after every closed one.
 */
#define LAST_RUNS_SQL							\
"  coalesce(CASE WHEN d.run_first <= ?3 THEN min(d.last_time, ?3) END, "	\
"   (SELECT min(u.last, ?3) FROM report_runs u WHERE u.device = d.id "	\
"    AND u.first <= ?3 ORDER BY u.first DESC LIMIT 1))"

static const char status_past_v3_sql[] = STATUS_PAST_SQL(LAST_RAW_SQL);
static const char status_past_sql[] = STATUS_PAST_SQL(LAST_RUNS_SQL);

/*
 * The rule roll-up's population: every device's unit and scope, whether
 * it counts, and the id of those the failing rows must look up (family
 * devices, and devices that do not count).
 */
#define POP_SQL(cond)							\
"SELECT unit, scope, CASE WHEN scope = 'family' OR NOT (" cond ") "	\
"THEN id END, (" cond ") FROM devices NOT INDEXED"

static const char pop_present_sql[] = POP_SQL("revoked IS NULL");
static const char pop_past_sql[] =
    POP_SQL("enrolled <= ?3 AND (revoked IS NULL OR revoked > ?3)");

/* (device, rule, failing) in primary-key order: the newest row counts. */
static const char fail_present_sql[] =
"SELECT device, rule, 1 FROM device_failing NOT INDEXED "
"ORDER BY device, rule";

static const char fail_past_sql[] =
"SELECT device, rule, failing FROM failing_history NOT INDEXED "
"WHERE time <= ?3 ORDER BY device, rule, time, seq";

/* The newest profile of a scope (?1), published by ?2 when not NULL. */
static const char profile_sql[] =
"SELECT bytes FROM profiles WHERE scope = ?1 "
"AND (?2 IS NULL OR published <= ?2) ORDER BY rowid DESC LIMIT 1";

/* The device list: personnel devices, ?4 a unit, ?5 a state. */
#define DEV_CAT	CAT_SQL("d.last_status", "d.last_received", "?1", "?2")

static const char dev_sql[] =
"SELECT id, unit, person, model, last_received, cat, failing, stale FROM ("
" SELECT d.id AS id, d.unit AS unit, d.person AS person, d.model AS model,"
"  d.last_received AS last_received, " DEV_CAT " AS cat, %s AS stale,"
"  (SELECT group_concat(rule, ' ') FROM (SELECT f.rule AS rule"
"   FROM device_failing f WHERE f.device = d.id ORDER BY f.rule))"
"   AS failing"
" FROM devices d WHERE d.scope = 'personnel' AND d.revoked IS NULL%s)"
"%s ORDER BY unit, person, id";

static const char dev_width_sql[] =
"SELECT max(length(unit)), max(length(person)), max(length(model)) "
"FROM devices d WHERE d.scope = 'personnel' AND d.revoked IS NULL%s";

/* The unit and every level below it (?4/...): '0' follows '/'. */
#define DEV_UNIT_SQL	" AND (d.unit = ?4 OR (d.unit > ?4 || '/' AND " \
			"d.unit < ?4 || '0'))"
#define DEV_STATUS_SQL	" WHERE cat = ?5"

struct store_read {
	const struct store_ops *ops;	/* first: store_backend.h */
	sqlite3		*db;	/* NULL: no database yet, an empty store */
	int		 tx;	/* in a read transaction */
	int64_t		 version;	/* the schema's */
};

struct store_cursor {
	const struct store_ops *ops;	/* first: store_backend.h */
	sqlite3		*db;
	sqlite3_stmt	*s;	/* NULL: an empty store, no rows */
	int		 kind;	/* enum store_scan, or CUR_DEVICES */
	const char	*what;	/* for errors */
};

#define CUR_DEVICES	(-1)

/* Maps the handle's last error to a MUSTER_E* value and message. */
static int
db_err(sqlite3 *db, const char *what, struct muster_err *e)
{
	int code = sqlite3_extended_errcode(db) & 0xff;

	return err_set(e, code == SQLITE_BUSY || code == SQLITE_LOCKED ?
	    MUSTER_ETEMP : code == SQLITE_NOMEM ? MUSTER_EINTERNAL : MUSTER_EIO,
	    "store: %s: %s", what, sqlite3_errmsg(db));
}

static int
db_exec(sqlite3 *db, const char *sql, struct muster_err *e)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    db_err(db, "read", e);
}

static int
db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s,
    struct muster_err *e)
{
	if (sqlite3_prepare_v2(db, sql, -1, s, NULL) != SQLITE_OK) {
		*s = NULL;
		return db_err(db, "prepare", e);
	}
	return 0;
}

int
store_sqlite_read_open(const char *data_dir, struct store_read **out,
    struct muster_err *e)
{
	struct store_read *rd = NULL;
	sqlite3_stmt *s = NULL;
	struct stat sb;
	char *path = NULL;
	int64_t version;
	int rc;

	*out = NULL;
	if (stat(data_dir, &sb) == -1) {
		rc = errno == ENOENT ? err_set(e, MUSTER_ENOINPUT,
		    "%s: no such data directory (data_dir)", data_dir) :
		    err_sys(e, MUSTER_EIO, "%s", data_dir);
		goto out;
	}
	if (!S_ISDIR(sb.st_mode)) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: data_dir is not a "
		    "directory", data_dir);
		goto out;
	}
	if ((rc = fs_check_private(data_dir, e)) != 0)
		goto out;
	if ((rd = calloc(1, sizeof *rd)) == NULL ||
	    (path = fs_path(data_dir, STORE_DB_FILE)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rd->ops = &store_sqlite_ops;
	if (lstat(path, &sb) == -1 && errno == ENOENT) {
		/* The server never ran here: an empty store. */
		goto done;
	}
	if ((rc = fs_check_private(path, e)) != 0)
		goto out;
	if ((rc = store_sqlite_db_open(path, 1, READ_BUSY_MS, &rd->db,
	    e)) != 0 ||
	    (rc = db_exec(rd->db, pragmas_sql, e)) != 0 ||
	    (rc = db_prepare(rd->db, "PRAGMA user_version", &s, e)) != 0)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = db_err(rd->db, path, e);
		goto out;
	}
	version = sqlite3_column_int64(s, 0);
	rd->version = version;
	/*
	 * 0: created, its schema not yet written, an empty store.  The
	 * reads here use only tables that version 1 has.
	 */
	if (version == 0) {
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_close(rd->db);
		rd->db = NULL;
	} else if (version < 1 || version > STORE_SCHEMA_VERSION) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: database schema version "
		    "%lld, this program knows %d", path, (long long)version,
		    STORE_SCHEMA_VERSION);
		goto out;
	}
done:
	*out = rd;
	rd = NULL;
	rc = 0;
out:
	sqlite3_finalize(s);
	store_sqlite_read_close(rd);
	free(path);
	return rc;
}

void
store_sqlite_read_close(struct store_read *rd)
{
	if (rd == NULL)
		return;
	store_sqlite_read_end(rd);
	sqlite3_close(rd->db);
	free(rd);
}

int
store_sqlite_read_begin(struct store_read *rd, struct muster_err *e)
{
	int rc;

	if (rd->db == NULL)
		return 0;
	if ((rc = db_exec(rd->db, "BEGIN", e)) == 0)
		rd->tx = 1;
	return rc;
}

void
store_sqlite_read_end(struct store_read *rd)
{
	if (rd->tx)
		(void)sqlite3_exec(rd->db, "COMMIT", NULL, NULL, NULL);
	rd->tx = 0;
}

int
store_sqlite_read_profile(struct store_read *rd, enum profile_scope scope,
    const time_t *published_by, char **bytes, size_t *len,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	size_t n;
	int rc, step;

	*bytes = NULL;
	*len = 0;
	if (rd->db == NULL)
		return 0;
	if ((rc = db_prepare(rd->db, profile_sql, &s, e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, profile_scope_name(scope), -1, SQLITE_STATIC);
	if (published_by != NULL)
		sqlite3_bind_int64(s, 2, *published_by);
	else
		sqlite3_bind_null(s, 2);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(s, 0);
		if ((*bytes = malloc(n + 1)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		if (n > 0)
			memcpy(*bytes, sqlite3_column_blob(s, 0), n);
		(*bytes)[n] = '\0';
		*len = n;
	} else if (step != SQLITE_DONE)
		rc = db_err(rd->db, "profiles", e);
out:
	sqlite3_finalize(s);
	return rc;
}

/* Binds the stale thresholds and the time of a scan's statement. */
static void
bind_when(sqlite3_stmt *s, const int64_t stale_before[2], const time_t *at)
{
	int sc;

	for (sc = 0; sc < 2; sc++)
		if (sqlite3_bind_parameter_index(s, sc == SCOPE_PERSONNEL ?
		    "?1" : "?2") > 0)
			sqlite3_bind_int64(s, sc == SCOPE_PERSONNEL ? 1 : 2,
			    stale_before[sc]);
	if (at != NULL && sqlite3_bind_parameter_index(s, "?3") > 0)
		sqlite3_bind_int64(s, 3, *at);
}

/* A new cursor on sql (not prepared for an empty store). */
static int
cursor_new(struct store_read *rd, const char *sql, int kind,
    const char *what, struct store_cursor **out, struct muster_err *e)
{
	struct store_cursor *cur;
	int rc;

	*out = NULL;
	if ((cur = calloc(1, sizeof *cur)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	cur->ops = &store_sqlite_ops;
	cur->db = rd->db;
	cur->kind = kind;
	cur->what = what;
	if (rd->db != NULL && (rc = db_prepare(rd->db, sql, &cur->s, e)) != 0) {
		free(cur);
		return rc;
	}
	*out = cur;
	return 0;
}

int
store_sqlite_rollup_scan(struct store_read *rd, enum store_scan what,
    const struct store_when *w, struct store_cursor **cur,
    struct muster_err *e)
{
	const char *sql;
	int rc;

	switch (what) {
	case STORE_SCAN_STATUS:
		sql = !w->past ? status_present_sql : rd->version >= 4 ?
		    status_past_sql : status_past_v3_sql;
		break;
	case STORE_SCAN_POPULATION:
		sql = w->past ? pop_past_sql : pop_present_sql;
		break;
	case STORE_SCAN_FAILING:
	default:
		sql = w->past ? fail_past_sql : fail_present_sql;
		break;
	}
	if ((rc = cursor_new(rd, sql, (int)what, "roll-up", cur, e)) != 0)
		return rc;
	if ((*cur)->s != NULL)
		bind_when((*cur)->s, w->stale_before, &w->at);
	return 0;
}

/*
 * The devices query q selects, with tail (a LIMIT, or "") after it, as a
 * cursor with q's parameters bound; (*cur)->s is NULL on an empty store.
 */
static int
devices_cursor(struct store_read *rd, const struct store_devq *q,
    const char *tail, struct store_cursor **cur, struct muster_err *e)
{
	sqlite3_stmt *s;
	char sql[2048];
	size_t n;
	int rc;

	/* A version 1 or 2 store (not yet opened by a newer server) has
	 * no last_stale: nothing is stale there. */
	snprintf(sql, sizeof sql, dev_sql, rd->version >= 3 ? "d.last_stale" :
	    "0", q->unit != NULL ? DEV_UNIT_SQL : "",
	    q->state >= 0 ? DEV_STATUS_SQL : "");
	n = strlen(sql);
	snprintf(sql + n, sizeof sql - n, "%s", tail);
	if ((rc = cursor_new(rd, sql, CUR_DEVICES, "devices", cur, e)) != 0)
		return rc;
	if ((s = (*cur)->s) == NULL)
		return 0;
	bind_when(s, q->stale_before, NULL);
	if (q->unit != NULL)
		sqlite3_bind_text(s, 4, q->unit, -1, SQLITE_STATIC);
	if (q->state >= 0 && sqlite3_bind_parameter_index(s, "?5") > 0)
		sqlite3_bind_int(s, 5, q->state);
	return 0;
}

int
store_sqlite_devices_scan(struct store_read *rd, const struct store_devq *q,
    struct store_cursor **cur, struct muster_err *e)
{
	return devices_cursor(rd, q, "", cur, e);
}

int
store_sqlite_devices_widths(struct store_read *rd, const struct store_devq *q,
    int len[3], struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	char sql[512];
	int i, rc = 0;

	for (i = 0; i < 3; i++)
		len[i] = 0;
	if (rd->db == NULL)
		return 0;
	snprintf(sql, sizeof sql, dev_width_sql,
	    q->unit != NULL ? DEV_UNIT_SQL : "");
	if ((rc = db_prepare(rd->db, sql, &s, e)) != 0)
		return rc;
	if (q->unit != NULL)
		sqlite3_bind_text(s, 4, q->unit, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		for (i = 0; i < 3; i++)
			len[i] = sqlite3_column_int(s, i);
	} else
		rc = db_err(rd->db, "devices", e);
	sqlite3_finalize(s);
	return rc;
}

static const char *
col_text(sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	return v != NULL ? (const char *)v : "";
}

static enum profile_scope
col_scope(sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	return v != NULL && strcmp((const char *)v, "family") == 0 ?
	    SCOPE_FAMILY : SCOPE_PERSONNEL;
}

int
store_sqlite_cursor_next(struct store_cursor *cur, struct store_row *row,
    struct muster_err *e)
{
	sqlite3_stmt *s = cur->s;
	int step;

	if (s == NULL)
		return 0;
	if ((step = sqlite3_step(s)) != SQLITE_ROW)
		return step == SQLITE_DONE ? 0 : db_err(cur->db, cur->what, e);
	row->id = NULL;
	row->unit = row->person = row->model = row->rule = row->failing = "";
	row->scope = SCOPE_PERSONNEL;
	row->state = STORE_NEVER;
	row->flag = 0;
	row->has_last = 0;
	row->last = 0;
	switch (cur->kind) {
	case STORE_SCAN_STATUS:
		row->unit = col_text(s, 0);
		row->model = col_text(s, 1);
		row->scope = col_scope(s, 2);
		row->state = sqlite3_column_int(s, 3);
		break;
	case STORE_SCAN_POPULATION:
		row->unit = col_text(s, 0);
		row->scope = col_scope(s, 1);
		if (sqlite3_column_type(s, 2) != SQLITE_NULL)
			row->id = col_text(s, 2);
		row->flag = sqlite3_column_int(s, 3);
		break;
	case STORE_SCAN_FAILING:
		row->id = col_text(s, 0);
		row->rule = col_text(s, 1);
		row->flag = sqlite3_column_int(s, 2);
		break;
	case CUR_DEVICES:
		row->id = col_text(s, 0);
		row->unit = col_text(s, 1);
		row->person = col_text(s, 2);
		row->model = col_text(s, 3);
		if (sqlite3_column_type(s, 4) != SQLITE_NULL) {
			row->has_last = 1;
			row->last = (time_t)sqlite3_column_int64(s, 4);
		}
		row->state = sqlite3_column_int(s, 5);
		row->failing = col_text(s, 6);
		row->stale = (unsigned)sqlite3_column_int(s, 7);
		break;
	}
	return 1;
}

void
store_sqlite_cursor_close(struct store_cursor *cur)
{
	if (cur == NULL)
		return;
	sqlite3_finalize(cur->s);
	free(cur);
}

/*
 * The store's first record: its first enrollment or publication (history
 * before the first enrollment counts no device, so it is not read).
 */
static const char first_sql[] =
"SELECT min(t) FROM (SELECT min(enrolled) AS t FROM devices "
"UNION ALL SELECT min(published) FROM profiles)";

int
store_sqlite_read_first(struct store_read *rd, time_t *first, int *any,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	*first = 0;
	*any = 0;
	if (rd->db == NULL)
		return 0;
	if ((rc = db_prepare(rd->db, first_sql, &s, e)) != 0)
		return rc;
	step = sqlite3_step(s);
	if (step == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*first = (time_t)sqlite3_column_int64(s, 0);
		*any = 1;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = db_err(rd->db, "first record", e);
	sqlite3_finalize(s);
	return rc;
}

/* --- fleet gauges and disk usage for /metrics --------------------------- */

/* ?1, ?2: stale thresholds; %s: last_stale (a version 1 or 2 store: 0). */
static const char fleet_sql[] =
"SELECT scope, CASE WHEN scope = 'family' THEN unit END, "
    CAT_SQL("last_status", "last_received", "?1", "?2") ", %s "
"FROM devices NOT INDEXED WHERE revoked IS NULL";

int
store_sqlite_fleet_scan(struct store_read *rd, const int64_t stale_before[2],
    store_fleet_fn fn, void *cls, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	char sql[512];
	const unsigned char *unit;
	int rc = 0, step;

	if (rd->db == NULL)
		return 0;
	snprintf(sql, sizeof sql, fleet_sql, rd->version >= 3 ?
	    "last_stale" : "0");
	if ((rc = db_prepare(rd->db, sql, &s, e)) != 0)
		return rc;
	bind_when(s, stale_before, NULL);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		unit = sqlite3_column_text(s, 1);
		if ((rc = fn(cls, col_scope(s, 0), (const char *)unit,
		    sqlite3_column_int(s, 2),
		    (unsigned)sqlite3_column_int(s, 3))) != 0)
			goto out;
	}
	if (step != SQLITE_DONE)
		rc = db_err(rd->db, "fleet", e);
out:
	sqlite3_finalize(s);
	return rc;
}

/* --- one device's history (the console) -------------------------------- */

static const char device_info_sql[] =
"SELECT scope, unit, person, model, enrolled, revoked IS NOT NULL, pubkey "
"FROM devices WHERE id = ?1";

int
store_sqlite_read_device(struct store_read *rd, const char *id,
    struct store_device_info *d, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc, step;

	memset(d, 0, sizeof *d);
	if (rd->db == NULL)
		return err_set(e, MUSTER_ENOINPUT, "no such device");
	if ((rc = db_prepare(rd->db, device_info_sql, &s, e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		d->scope = col_scope(s, 0);
		snprintf(d->unit, sizeof d->unit, "%s", col_text(s, 1));
		snprintf(d->person, sizeof d->person, "%s", col_text(s, 2));
		snprintf(d->model, sizeof d->model, "%s", col_text(s, 3));
		d->enrolled = (time_t)sqlite3_column_int64(s, 4);
		d->revoked = sqlite3_column_int(s, 5);
		if (sqlite3_column_bytes(s, 6) == (int)sizeof d->pk)
			memcpy(d->pk, sqlite3_column_blob(s, 6), sizeof d->pk);
		else
			rc = err_set(e, MUSTER_EIO, "store: device key of "
			    "bad size");
	} else if (step == SQLITE_DONE)
		rc = err_set(e, MUSTER_ENOINPUT, "no such device");
	else
		rc = db_err(rd->db, "device", e);
	sqlite3_finalize(s);
	return rc;
}

/* Version 5 keeps the device's signature with each report. */
#define HISTORY_SQL(sig) \
"SELECT h.time, h.seq, h.received, h.status = 'compliant', r.hash, r.body, " \
sig " FROM status_history h LEFT JOIN reports r " \
"ON r.device = h.device AND r.seq = h.seq " \
"WHERE h.device = ?1 ORDER BY h.time DESC, h.seq DESC LIMIT ?2"
static const char history_sql[] = HISTORY_SQL("r.sig");
static const char history_v4_sql[] = HISTORY_SQL("NULL");

int
store_sqlite_device_history(struct store_read *rd, const char *id, size_t max,
    store_history_fn fn, void *arg, struct muster_err *e)
{
	struct store_history_row row;
	sqlite3_stmt *s = NULL;
	int rc, step;

	if (rd->db == NULL)
		return 0;
	if ((rc = db_prepare(rd->db, rd->version >= 5 ? history_sql :
	    history_v4_sql, &s, e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		memset(&row, 0, sizeof row);
		row.time = (time_t)sqlite3_column_int64(s, 0);
		row.seq = sqlite3_column_int64(s, 1);
		row.received = (time_t)sqlite3_column_int64(s, 2);
		row.compliant = sqlite3_column_int(s, 3);
		if (sqlite3_column_type(s, 5) != SQLITE_NULL) {
			row.has_report = 1;
			if (sqlite3_column_bytes(s, 4) == STORE_HASH_LEN)
				row.hash = sqlite3_column_blob(s, 4);
			row.body = sqlite3_column_blob(s, 5);
			row.len = (size_t)sqlite3_column_bytes(s, 5);
			if (row.body == NULL)
				row.body = "";
			if (sqlite3_column_bytes(s, 6) == STORE_SIG_LEN)
				row.sig = sqlite3_column_blob(s, 6);
		}
		if ((rc = fn(arg, &row)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(rd->db, "device history", e);
	sqlite3_finalize(s);
	return rc;
}

/* The size of dir/name into *n: 0 when it is not there. */
static int
disk_size(const char *dir, const char *name, int64_t *n,
    struct muster_err *e)
{
	struct stat sb;
	char *path;
	int rc = 0;

	*n = 0;
	if ((path = fs_path(dir, name)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (lstat(path, &sb) == 0)
		*n = (int64_t)sb.st_size;
	else if (errno != ENOENT)
		rc = err_sys(e, MUSTER_EIO, "%s", path);
	free(path);
	return rc;
}

int
store_sqlite_disk_usage(const char *data_dir, int64_t *db, int64_t *wal,
    struct muster_err *e)
{
	int rc;

	*wal = 0;
	if ((rc = disk_size(data_dir, STORE_DB_FILE, db, e)) != 0)
		return rc;
	return disk_size(data_dir, STORE_DB_FILE "-wal", wal, e);
}

/*
 * The family devices counted at ?3 (or now), in the device list's columns
 * (id, unit, person, model, last, state, failing, stale) so that
 * store_cursor_next reads them as it reads that list: failing, the rules
 * their newest report (at ?3: the newest row per rule of failing_history
 * at or before ?3) fails, by spaces; one seek per device on the failing
 * tables' primary keys.
 */
static const char fam_present_sql[] =
"SELECT id, unit, '', model, NULL, "
    CAT_SQL("last_status", "last_received", "?1", "?2") ", "
"  coalesce((SELECT group_concat(f.rule, ' ') FROM device_failing f "
"   WHERE f.device = d.id), ''), 0 "
"FROM devices d WHERE scope = 'family' AND revoked IS NULL";

#define FAM_PAST_SQL(last)						\
"SELECT id, unit, '', model, NULL, " CAT_SQL("st", "lt", "?1", "?2") ", "	\
"  coalesce((SELECT group_concat(rule, ' ') FROM (SELECT h.rule AS rule, "	\
"   h.failing AS failing, max(h.time * 4294967296 + h.seq) "		\
"   FROM failing_history h WHERE h.device = x.id AND h.time <= ?3 "	\
"   GROUP BY h.rule) WHERE failing = 1), ''), 0 "			\
"FROM (SELECT d.id AS id, d.unit AS unit, d.model AS model, "		\
"  d.scope AS scope, "							\
"  (SELECT h.status FROM status_history h WHERE h.device = d.id "	\
"   AND h.time <= ?3 ORDER BY h.time DESC, h.seq DESC LIMIT 1) AS st, "	\
last " AS lt "								\
"  FROM devices d WHERE d.scope = 'family' AND d.enrolled <= ?3 "	\
"  AND (d.revoked IS NULL OR d.revoked > ?3) ORDER BY d.id) x"

static const char fam_past_v3_sql[] = FAM_PAST_SQL(LAST_RAW_SQL);
static const char fam_past_sql[] = FAM_PAST_SQL(LAST_RUNS_SQL);

int
store_sqlite_family_scan(struct store_read *rd, const struct store_when *w,
    struct store_cursor **cur, struct muster_err *e)
{
	int rc;

	if ((rc = cursor_new(rd, !w->past ? fam_present_sql :
	    rd->version >= 4 ? fam_past_sql : fam_past_v3_sql, CUR_DEVICES,
	    "roll-up", cur, e)) != 0)
		return rc;
	if ((*cur)->s != NULL)
		bind_when((*cur)->s, w->stale_before, &w->at);
	return 0;
}

int
store_sqlite_devices_page(struct store_read *rd, const struct store_devq *q,
    int64_t offset, int64_t limit, struct store_cursor **cur,
    struct muster_err *e)
{
	int rc;

	if ((rc = devices_cursor(rd, q, " LIMIT ?6 OFFSET ?7", cur, e)) != 0 ||
	    (*cur)->s == NULL)
		return rc;
	sqlite3_bind_int64((*cur)->s, 6, limit);
	sqlite3_bind_int64((*cur)->s, 7, offset);
	return 0;
}

/* --- console summaries ---------------------------------------------------- */

static const char policy_stale_sql[] =
"SELECT count(*) FROM devices WHERE scope = 'personnel' "
"AND revoked IS NULL AND (last_stale & ?1) != 0";

int
store_sqlite_count_stale_policy(struct store_read *rd, int64_t *n,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc = 0;

	*n = 0;
	if (rd->db == NULL || rd->version < 3)
		return 0;
	if ((rc = db_prepare(rd->db, policy_stale_sql, &s, e)) != 0)
		return rc;
	sqlite3_bind_int(s, 1, REPORT_STALE_POLICY);
	if (sqlite3_step(s) == SQLITE_ROW)
		*n = sqlite3_column_int64(s, 0);
	else
		rc = db_err(rd->db, "stale policy", e);
	sqlite3_finalize(s);
	return rc;
}

static const char model_units_sql[] =
"SELECT unit, count(*), sum(last_status = 'noncompliant') FROM devices "
"WHERE scope = 'personnel' AND revoked IS NULL AND instr(model, ?1) > 0 "
"GROUP BY unit ORDER BY count(*) DESC, unit LIMIT ?2";

int
store_sqlite_model_units(struct store_read *rd, const char *part, size_t max,
    store_model_unit_fn fn, void *arg, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	int rc = 0, step;

	if (rd->db == NULL)
		return 0;
	if ((rc = db_prepare(rd->db, model_units_sql, &s, e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, part, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = fn(arg, col_text(s, 0), sqlite3_column_int64(s, 1),
		    sqlite3_column_int64(s, 2))) != 0)
			break;
	if (rc == 0 && step != SQLITE_DONE)
		rc = db_err(rd->db, "model units", e);
	sqlite3_finalize(s);
	return rc;
}

/* --- one stored report and its proof ------------------------------------ */

#define REPORT_PROOF_SQL(sig) \
"SELECT d.scope, d.revoked IS NOT NULL, d.pubkey, r.time, r.received, " \
"r.status = 'compliant', r.hash, r.body, " sig " FROM devices d " \
"JOIN reports r ON r.device = d.id WHERE d.id = ?1 AND r.seq = ?2"
static const char report_proof_sql[] = REPORT_PROOF_SQL("r.sig");
static const char report_proof_v4_sql[] = REPORT_PROOF_SQL("NULL");

int
store_sqlite_read_report(struct store_read *rd, const char *id,
    int64_t seq, struct store_proof *p, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	const void *body;
	int rc, step, n;

	memset(p, 0, sizeof *p);
	if (rd->db == NULL)
		return err_set(e, MUSTER_ENOINPUT, "no such report");
	if ((rc = db_prepare(rd->db, rd->version >= 5 ? report_proof_sql :
	    report_proof_v4_sql, &s, e)) != 0)
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, seq);
	step = sqlite3_step(s);
	if (step == SQLITE_DONE) {
		rc = err_set(e, MUSTER_ENOINPUT, "no such report");
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = db_err(rd->db, "report", e);
		goto out;
	}
	snprintf(p->device, sizeof p->device, "%s", id);
	p->scope = col_scope(s, 0);
	p->revoked = sqlite3_column_int(s, 1);
	p->seq = seq;
	p->time = (time_t)sqlite3_column_int64(s, 3);
	p->received = (time_t)sqlite3_column_int64(s, 4);
	p->compliant = sqlite3_column_int(s, 5);
	if (sqlite3_column_bytes(s, 2) != (int)sizeof p->pk ||
	    sqlite3_column_bytes(s, 6) != (int)sizeof p->hash ||
	    (sqlite3_column_type(s, 8) != SQLITE_NULL &&
	    sqlite3_column_bytes(s, 8) != (int)sizeof p->sig)) {
		rc = err_set(e, MUSTER_EIO, "store: report %lld: a key, hash "
		    "or signature of bad size", (long long)seq);
		goto out;
	}
	memcpy(p->pk, sqlite3_column_blob(s, 2), sizeof p->pk);
	memcpy(p->hash, sqlite3_column_blob(s, 6), sizeof p->hash);
	if (sqlite3_column_type(s, 8) != SQLITE_NULL) {
		p->has_sig = 1;
		memcpy(p->sig, sqlite3_column_blob(s, 8), sizeof p->sig);
	}
	body = sqlite3_column_blob(s, 7);
	n = sqlite3_column_bytes(s, 7);
	/* One byte more, a NUL, so that the bytes may be shown as text. */
	if ((p->body = malloc((size_t)n + 1)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (n > 0)
		memcpy(p->body, body, (size_t)n);
	p->body[n] = '\0';
	p->len = (size_t)n;
	rc = 0;
out:
	sqlite3_finalize(s);
	return rc;
}
