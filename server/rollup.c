/*
 * rollup: compliance roll-ups and the device follow-up list; see rollup.h
 * for the contract and docs/rollup.md for the formats.
 *
 * Everything is read through a read-only SQLite handle of our own, in one
 * read transaction (one WAL snapshot), so the numbers of one answer agree
 * with each other while the server keeps writing.
 *
 * SQL only streams rows; the counting is done here, in hash tables keyed
 * by unit (and model), because a GROUP BY over a million devices costs a
 * sort, or a row lookup per device through an index on the grouping
 * column: about 1 s either way, against 0.3 s for one scan in table
 * order.  Counting per unit first also gives each unit's number of
 * family devices, which the k-anonymity rule needs before any group is
 * formed.
 *
 * The present comes from the columns the server keeps current: one scan
 * of `devices` (last_status, last_received) answers the unit, model and
 * scope roll-ups; for the rule roll-up, one scan of `devices` gives the
 * population and the (sorted) ids of family and revoked devices, and one
 * scan of `device_failing` in key order is merged with them.  The past
 * (as_of) comes from history kept as changes: per device the newest
 * `status_history` row with time <= as_of (a seek on its primary key
 * (device, time, seq)) and the newest `reports` time <= as_of for
 * staleness (a seek on the index reports (device, time) where it
 * exists); per (device, rule) the newest `failing_history` row with
 * time <= as_of, from one scan in key order.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "muster/fs.h"
#include "muster/profile.h"
#include "rollup.h"
#include "store.h"

#define ROLLUP_BUSY_MS		10000
#define TIME_STR		21		/* YYYY-MM-DDTHH:MM:SSZ + NUL */
#define NSCOPES			2		/* SCOPE_PERSONNEL, SCOPE_FAMILY */
#define CELL_MAX		32
#define ID_BUF			80		/* a device id (32) with room */
#define CT_JSON			"application/json"
#define CT_CSV			"text/csv; charset=utf-8; header=present"
#define CT_TEXT			"text/plain; charset=utf-8"

/* Page cache and memory map of the handle: a 1M-device store scans fast. */
static const char pragmas_sql[] =
"PRAGMA query_only = ON;"
"PRAGMA cache_size = -65536;"
"PRAGMA mmap_size = 1073741824;"
"PRAGMA temp_store = MEMORY;";

/* The state of a device as SQL returns it: enum rollup_status. */
#define CAT_SQL(status, when, thr_p, thr_f)				\
"CASE WHEN " status " IS NULL THEN 3 "					\
"WHEN " when " < CASE scope WHEN 'family' THEN " thr_f " ELSE " thr_p	\
" END THEN 2 WHEN " status " = 'compliant' THEN 0 ELSE 1 END"

/*
 * ?1, ?2: stale thresholds (personnel, family); ?3: as_of.  NOT INDEXED:
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

static const char status_past_sql[] =
"SELECT unit, model, scope, " CAT_SQL("st", "lt", "?1", "?2") " "
"FROM (SELECT d.unit AS unit, d.model AS model, d.scope AS scope, "
"  (SELECT h.status FROM status_history h WHERE h.device = d.id "
"   AND h.time <= ?3 ORDER BY h.time DESC, h.seq DESC LIMIT 1) AS st, "
"  (SELECT r.time FROM reports r WHERE r.device = d.id AND r.time <= ?3 "
"   ORDER BY r.time DESC LIMIT 1) AS lt "
"  FROM devices d WHERE d.enrolled <= ?3 "
"  AND (d.revoked IS NULL OR d.revoked > ?3) ORDER BY d.id)";

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

struct rollup_db {
	sqlite3		*db;	/* NULL: no database yet, an empty store */
};

static const char *const by_names[] = {
	[ROLLUP_BY_UNIT] = "unit",
	[ROLLUP_BY_RULE] = "rule",
	[ROLLUP_BY_MODEL] = "model",
	[ROLLUP_BY_SCOPE] = "scope",
};

static const char *const fmt_names[] = {
	[ROLLUP_FMT_TABLE] = "table",
	[ROLLUP_FMT_CSV] = "csv",
	[ROLLUP_FMT_JSON] = "json",
};

static const char *const status_names[] = {
	[ROLLUP_COMPLIANT] = "compliant",
	[ROLLUP_NONCOMPLIANT] = "noncompliant",
	[ROLLUP_STALE] = "stale",
	[ROLLUP_NEVER] = "never",
};

static int
name_parse(const char *s, const char *const *names, size_t n, int *out)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	return -1;
}

int
rollup_by_parse(const char *s, enum rollup_by *out)
{
	int v;

	if (name_parse(s, by_names, sizeof by_names / sizeof by_names[0],
	    &v) != 0)
		return -1;
	*out = (enum rollup_by)v;
	return 0;
}

int
rollup_format_parse(const char *s, enum rollup_format *out)
{
	int v;

	if (name_parse(s, fmt_names, sizeof fmt_names / sizeof fmt_names[0],
	    &v) != 0)
		return -1;
	*out = (enum rollup_format)v;
	return 0;
}

int
rollup_status_parse(const char *s, enum rollup_status *out)
{
	int v;

	if (name_parse(s, status_names, ROLLUP_NSTATUS, &v) != 0)
		return -1;
	*out = (enum rollup_status)v;
	return 0;
}

const char *
rollup_by_name(enum rollup_by by)
{
	return (unsigned)by < sizeof by_names / sizeof by_names[0] ?
	    by_names[by] : "?";
}

const char *
rollup_status_name(enum rollup_status st)
{
	return (unsigned)st < ROLLUP_NSTATUS ? status_names[st] : "?";
}

/* --- the store ---------------------------------------------------------- */

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
rollup_open(const char *data_dir, struct rollup_db **out,
    struct muster_err *e)
{
	struct rollup_db *db = NULL;
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
	if ((db = calloc(1, sizeof *db)) == NULL ||
	    (path = fs_path(data_dir, STORE_DB_FILE)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (lstat(path, &sb) == -1 && errno == ENOENT) {
		/* The server never ran here: an empty store. */
		goto done;
	}
	if ((rc = fs_check_private(path, e)) != 0)
		goto out;
	if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) {
		rc = err_set(e, MUSTER_EIO, "%s: %s", path, db->db != NULL ?
		    sqlite3_errmsg(db->db) : "cannot open");
		goto out;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(db->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_busy_timeout(db->db, ROLLUP_BUSY_MS);
	if ((rc = db_exec(db->db, pragmas_sql, e)) != 0 ||
	    (rc = db_prepare(db->db, "PRAGMA user_version", &s, e)) != 0)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = db_err(db->db, path, e);
		goto out;
	}
	version = sqlite3_column_int64(s, 0);
	/*
	 * 0: created, its schema not yet written, an empty store.  The
	 * roll-up reads only tables that version 1 has.
	 */
	if (version == 0) {
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_close(db->db);
		db->db = NULL;
	} else if (version < 1 || version > STORE_SCHEMA_VERSION) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: database schema version "
		    "%lld, this program knows %d", path, (long long)version,
		    STORE_SCHEMA_VERSION);
		goto out;
	}
done:
	*out = db;
	db = NULL;
	rc = 0;
out:
	sqlite3_finalize(s);
	rollup_close(db);
	free(path);
	return rc;
}

void
rollup_close(struct rollup_db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->db);
	free(db);
}

/* Copies s into dst of size bytes, cut short if need be. */
static void
copy_str(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* --- a string table: string -> dense index ------------------------------ */

struct strtab {
	char		**keys;		/* by index, malloc'd */
	size_t		  n, cap;
	size_t		 *slot;		/* index + 1; 0: empty */
	size_t		  nslot;	/* a power of two, > 2 * n */
};

static uint64_t
mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t
str_hash(const char *s)
{
	size_t h = 14695981039346656037ULL & SIZE_MAX;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * (1099511628211ULL & SIZE_MAX);
	/* FNV-1a's low bits, which pick the slot, are weak: mix them. */
	return (size_t)mix64(h);
}

static int
strtab_grow(struct strtab *t)
{
	size_t nslot = t->nslot == 0 ? 64 : t->nslot * 2, i, j;
	size_t *slot;

	if ((slot = calloc(nslot, sizeof *slot)) == NULL)
		return -1;
	for (i = 0; i < t->n; i++) {
		for (j = str_hash(t->keys[i]) & (nslot - 1); slot[j] != 0;
		    j = (j + 1) & (nslot - 1))
			;
		slot[j] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	return 0;
}

/* The index of key, added when missing (*added says so); 0 or -1. */
static int
strtab_intern(struct strtab *t, const char *key, size_t *idx, int *added)
{
	size_t j;
	char **keys;

	if (added != NULL)
		*added = 0;
	if (2 * (t->n + 1) > t->nslot && strtab_grow(t) != 0)
		return -1;
	for (j = str_hash(key) & (t->nslot - 1); t->slot[j] != 0;
	    j = (j + 1) & (t->nslot - 1))
		if (strcmp(t->keys[t->slot[j] - 1], key) == 0) {
			*idx = t->slot[j] - 1;
			return 0;
		}
	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 16 : t->cap * 2;

		if ((keys = realloc(t->keys, cap * sizeof *keys)) == NULL)
			return -1;
		t->keys = keys;
		t->cap = cap;
	}
	if ((t->keys[t->n] = strdup(key)) == NULL)
		return -1;
	t->slot[j] = t->n + 1;
	*idx = t->n++;
	if (added != NULL)
		*added = 1;
	return 0;
}

static void
strtab_free(struct strtab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* Grows *arr (of elements of size) to hold at least n; 0 or -1. */
static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap == 0 ? 16 : *cap;
	void *p;

	if (n <= *cap)
		return 0;
	while (c < n)
		c *= 2;
	if ((p = realloc(*arr, c * size)) == NULL)
		return -1;
	memset((char *)p + *cap * size, 0, (c - *cap) * size);
	*arr = p;
	*cap = c;
	return 0;
}

/* --- computing ---------------------------------------------------------- */

/* What one roll-up needs to know before counting. */
struct ctx {
	sqlite3		*db;
	time_t		 at;			/* as_of, or now */
	int		 past;
	int64_t		 interval[NSCOPES];	/* report_interval, s */
	struct profile	*prof[NSCOPES];		/* NULL: none published */
	struct strtab	 units;
	int64_t		*unit_family;		/* family devices per unit */
	size_t		 unit_cap;
};

static int
scope_of(const unsigned char *s)
{
	return s != NULL && strcmp((const char *)s, "family") == 0 ?
	    SCOPE_FAMILY : SCOPE_PERSONNEL;
}

static const char *
col_text(sqlite3_stmt *s, int col)
{
	const unsigned char *v = sqlite3_column_text(s, col);

	return v != NULL ? (const char *)v : "";
}

/*
 * The profile each scope was served at c->at (the newest published, in
 * the past: the newest published by then) and its report_interval.  A
 * stored profile this build cannot parse counts as none.
 */
static int
ctx_profiles(struct ctx *c, struct muster_err *e)
{
	struct muster_err pe;
	sqlite3_stmt *s = NULL;
	int rc = 0, sc, step;

	for (sc = 0; sc < NSCOPES; sc++) {
		c->interval[sc] = PROFILE_DEFAULT_REPORT_INTERVAL;
		c->prof[sc] = NULL;
	}
	if (c->db == NULL)
		return 0;
	if ((rc = db_prepare(c->db, profile_sql, &s, e)) != 0)
		return rc;
	for (sc = 0; sc < NSCOPES && rc == 0; sc++) {
		sqlite3_reset(s);
		sqlite3_bind_text(s, 1, profile_scope_name(sc), -1,
		    SQLITE_STATIC);
		if (c->past)
			sqlite3_bind_int64(s, 2, c->at);
		else
			sqlite3_bind_null(s, 2);
		step = sqlite3_step(s);
		if (step == SQLITE_ROW) {
			if (profile_parse("profile", sqlite3_column_blob(s, 0),
			    (size_t)sqlite3_column_bytes(s, 0), &c->prof[sc],
			    &pe) == 0)
				c->interval[sc] = c->prof[sc]->report_interval;
		} else if (step != SQLITE_DONE)
			rc = db_err(c->db, "profiles", e);
	}
	sqlite3_finalize(s);
	return rc;
}

static int
unit_add(struct ctx *c, const char *unit, int scope, int64_t n,
    size_t *idx)
{
	if (strtab_intern(&c->units, unit, idx, NULL) != 0 ||
	    grow((void **)&c->unit_family, &c->unit_cap, c->units.n,
	    sizeof *c->unit_family) != 0)
		return -1;
	if (scope == SCOPE_FAMILY)
		c->unit_family[*idx] += n;
	return 0;
}

/* Whether a family device of unit u is counted (k-anonymity). */
static int
unit_counted(const struct ctx *c, size_t u)
{
	return c->unit_family[u] >= ROLLUP_K;
}

static void
ctx_free(struct ctx *c)
{
	int sc;

	for (sc = 0; sc < NSCOPES; sc++)
		profile_free(c->prof[sc]);
	strtab_free(&c->units);
	free(c->unit_family);
}

/* Binds the stale thresholds and as_of of a counting statement. */
static void
bind_times(struct ctx *c, sqlite3_stmt *s)
{
	int sc;

	for (sc = 0; sc < NSCOPES; sc++)
		if (sqlite3_bind_parameter_index(s, sc == SCOPE_PERSONNEL ?
		    "?1" : "?2") > 0)
			sqlite3_bind_int64(s, sc == SCOPE_PERSONNEL ? 1 : 2,
			    (int64_t)c->at - ROLLUP_STALE_FACTOR *
			    c->interval[sc]);
	if (sqlite3_bind_parameter_index(s, "?3") > 0)
		sqlite3_bind_int64(s, 3, c->at);
}

/*
 * A cell: the devices of one unit (and one model, by model) counted by
 * scope and state.  Cells are found by (unit, key) in an open hash.
 */
struct cell {
	size_t		unit;
	size_t		key;		/* model index (by model), else 0 */
	int64_t		n[NSCOPES][ROLLUP_NSTATUS];
};

struct cells {
	struct cell	*v;
	size_t		 n, cap;
	size_t		*slot;		/* index + 1; 0: empty */
	size_t		 nslot;
};

static size_t
pair_hash(size_t a, size_t b)
{
	return (size_t)mix64(((uint64_t)a << 32) ^ (uint64_t)b);
}

static int
cells_grow(struct cells *t)
{
	size_t nslot = t->nslot == 0 ? 256 : t->nslot * 2, i, j;
	size_t *slot;

	if ((slot = calloc(nslot, sizeof *slot)) == NULL)
		return -1;
	for (i = 0; i < t->n; i++) {
		for (j = pair_hash(t->v[i].unit, t->v[i].key) & (nslot - 1);
		    slot[j] != 0; j = (j + 1) & (nslot - 1))
			;
		slot[j] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	return 0;
}

/* The cell of (unit, key), added zeroed when missing; NULL: memory. */
static struct cell *
cells_get(struct cells *t, size_t unit, size_t key)
{
	struct cell *c;
	size_t j;

	if (2 * (t->n + 1) > t->nslot && cells_grow(t) != 0)
		return NULL;
	for (j = pair_hash(unit, key) & (t->nslot - 1); t->slot[j] != 0;
	    j = (j + 1) & (t->nslot - 1)) {
		c = &t->v[t->slot[j] - 1];
		if (c->unit == unit && c->key == key)
			return c;
	}
	if (grow((void **)&t->v, &t->cap, t->n + 1, sizeof *t->v) != 0)
		return NULL;
	c = &t->v[t->n];
	memset(c, 0, sizeof *c);
	c->unit = unit;
	c->key = key;
	t->slot[j] = ++t->n;
	return c;
}

static void
cells_free(struct cells *t)
{
	free(t->v);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* A group being counted: personnel and family apart. */
struct gacc {
	int64_t		p[ROLLUP_NSTATUS];
	int64_t		f[ROLLUP_NSTATUS];
	int		withheld;
};

static int
cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct rollup_group *)a)->key,
	    ((const struct rollup_group *)b)->key);
}

static void
counts_add(struct rollup_counts *t, const struct rollup_counts *c)
{
	int i;

	for (i = 0; i < ROLLUP_NSTATUS; i++)
		t->n[i] += c->n[i];
	t->devices += c->devices;
	t->family += c->family;
	t->family_withheld |= c->family_withheld;
}

/*
 * Counts every device of the population into cells by unit (and model),
 * scope and state: one scan of `devices`, aggregated here.
 */
static int
scan_status(struct ctx *c, int by_model, struct strtab *keys,
    struct cells *cells, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	struct cell *cl;
	const char *model;
	size_t u, k = 0;
	int rc = 0, step, sc, cat;

	if (c->db == NULL)
		return 0;
	if ((rc = db_prepare(c->db, c->past ? status_past_sql :
	    status_present_sql, &s, e)) != 0)
		return rc;
	bind_times(c, s);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sc = scope_of(sqlite3_column_text(s, 2));
		cat = sqlite3_column_int(s, 3);
		if (cat < 0 || cat >= ROLLUP_NSTATUS)
			cat = ROLLUP_NEVER;
		if (unit_add(c, col_text(s, 0), sc, 1, &u) != 0)
			goto oom;
		if (by_model) {
			model = col_text(s, 1);
			if (strtab_intern(keys, *model != '\0' ? model :
			    "unknown", &k, NULL) != 0)
				goto oom;
		}
		if ((cl = cells_get(cells, u, k)) == NULL)
			goto oom;
		cl->n[sc][cat]++;
	}
	if (step != SQLITE_DONE)
		rc = db_err(c->db, "roll-up", e);
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	sqlite3_finalize(s);
	return rc;
}

/* The unit, model and scope roll-ups. */
static int
compute_status(struct ctx *c, struct rollup *r, struct muster_err *e)
{
	struct strtab keys = { 0 };
	struct cells cells = { 0 };
	struct gacc *acc = NULL;
	size_t i, g, ng;
	int rc, j, sc, by_model = r->by == ROLLUP_BY_MODEL;

	if ((rc = scan_status(c, by_model, &keys, &cells, e)) != 0)
		goto out;
	/* The groups: a scope roll-up always shows both scopes. */
	if (r->by == ROLLUP_BY_SCOPE)
		for (sc = 0; sc < NSCOPES; sc++)
			if (strtab_intern(&keys, profile_scope_name(sc), &g,
			    NULL) != 0)
				goto oom;
	ng = r->by == ROLLUP_BY_UNIT ? c->units.n : keys.n;
	if (ng > 0 && (acc = calloc(ng, sizeof *acc)) == NULL)
		goto oom;
	for (i = 0; i < cells.n; i++) {
		const struct cell *cl = &cells.v[i];

		for (sc = 0; sc < NSCOPES; sc++) {
			if (r->by == ROLLUP_BY_UNIT)
				g = cl->unit;
			else if (r->by == ROLLUP_BY_SCOPE)
				g = (size_t)sc;		/* interned in order */
			else
				g = cl->key;
			for (j = 0; j < ROLLUP_NSTATUS; j++) {
				if (cl->n[sc][j] == 0)
					continue;
				if (sc == SCOPE_PERSONNEL)
					acc[g].p[j] += cl->n[sc][j];
				else if (unit_counted(c, cl->unit))
					acc[g].f[j] += cl->n[sc][j];
				else
					acc[g].withheld = 1;
			}
		}
	}
	if (ng > 0 && (r->groups = calloc(ng, sizeof *r->groups)) == NULL)
		goto oom;
	r->ngroups = ng;
	for (g = 0; g < ng; g++) {
		struct rollup_group *gr = &r->groups[g];
		int64_t fam = 0;

		for (j = 0; j < ROLLUP_NSTATUS; j++)
			fam += acc[g].f[j];
		/* Fewer than K family devices in a group are left out too. */
		if (fam > 0 && fam < ROLLUP_K) {
			memset(acc[g].f, 0, sizeof acc[g].f);
			fam = 0;
			acc[g].withheld = 1;
		}
		for (j = 0; j < ROLLUP_NSTATUS; j++) {
			gr->c.n[j] = acc[g].p[j] + acc[g].f[j];
			gr->c.devices += gr->c.n[j];
		}
		gr->c.family = fam;
		gr->c.family_withheld = acc[g].withheld;
		if ((gr->key = strdup(r->by == ROLLUP_BY_UNIT ?
		    c->units.keys[g] : keys.keys[g])) == NULL)
			goto oom;
		counts_add(&r->total, &gr->c);
	}
	/* By scope, in the order of the enum (personnel first). */
	if (r->by != ROLLUP_BY_SCOPE && r->ngroups > 1)
		qsort(r->groups, r->ngroups, sizeof *r->groups, cmp_group);
	rc = 0;
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	strtab_free(&keys);
	cells_free(&cells);
	free(acc);
	return rc;
}

static int
cmp_rule(const void *a, const void *b)
{
	return strcmp(((const struct rollup_rule *)a)->id,
	    ((const struct rollup_rule *)b)->id);
}

#define LOOK_EXCLUDED	SIZE_MAX	/* not in the population */

/*
 * A device the failing rows must not count as personnel: a family device
 * (val: its unit) or one out of the population (LOOK_EXCLUDED).  Sorted
 * by id, the order in which the failing rows arrive, so that the two
 * meet in one merge.
 */
struct look {
	char		id[DEVICE_ID_HEX];
	size_t		val;
};

struct looks {
	struct look	*v;
	size_t		 n, cap, pos;	/* pos: the merge's cursor */
};

static int
cmp_look(const void *a, const void *b)
{
	return strcmp(((const struct look *)a)->id,
	    ((const struct look *)b)->id);
}

/*
 * The rule roll-up's population: personnel devices counted in
 * *pop_personnel, family devices per unit in c->unit_family, and the
 * devices a failing row must look up in lk.
 */
static int
scan_population(struct ctx *c, int64_t *pop_personnel, struct looks *lk,
    struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	size_t u;
	int rc, step, sc, in;

	if (c->db == NULL)
		return 0;
	if ((rc = db_prepare(c->db, c->past ? pop_past_sql : pop_present_sql,
	    &s, e)) != 0)
		return rc;
	bind_times(c, s);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		sc = scope_of(sqlite3_column_text(s, 1));
		in = sqlite3_column_int(s, 3);
		if (unit_add(c, col_text(s, 0), sc, in ? 1 : 0, &u) != 0)
			goto oom;
		if (in && sc == SCOPE_PERSONNEL)
			(*pop_personnel)++;
		if (sqlite3_column_type(s, 2) == SQLITE_NULL)
			continue;
		if (grow((void **)&lk->v, &lk->cap, lk->n + 1,
		    sizeof *lk->v) != 0)
			goto oom;
		copy_str(lk->v[lk->n].id, sizeof lk->v[lk->n].id,
		    col_text(s, 2));
		lk->v[lk->n++].val = in ? u : LOOK_EXCLUDED;
	}
	if (step != SQLITE_DONE)
		rc = db_err(c->db, "roll-up", e);
	else if (lk->n > 1)
		qsort(lk->v, lk->n, sizeof *lk->v, cmp_look);
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	sqlite3_finalize(s);
	return rc;
}

/* Adds rule id to r (through ids) if missing; its index in *i. */
static int
rule_add(struct rollup *r, struct strtab *ids, size_t *cap, const char *id,
    size_t *i)
{
	int added;

	if (strtab_intern(ids, id, i, &added) != 0 ||
	    grow((void **)&r->rules, cap, ids->n, sizeof *r->rules) != 0)
		return -1;
	r->nrules = ids->n;
	if (added) {
		r->rules[*i].severity = "";
		if ((r->rules[*i].title = strdup("")) == NULL)
			return -1;
	}
	return 0;
}

/*
 * Whether device dev's failing rows count: a personnel device of the
 * population, or a family device of a unit with K or more.  dev must not
 * be below the one of the previous call.
 */
static int
failing_counts(const struct ctx *c, struct looks *lk, const char *dev)
{
	int cmp = 1;

	while (lk->pos < lk->n && (cmp = strcmp(lk->v[lk->pos].id, dev)) < 0)
		lk->pos++;
	if (lk->pos == lk->n || cmp != 0)
		return 1;
	return lk->v[lk->pos].val != LOOK_EXCLUDED &&
	    unit_counted(c, lk->v[lk->pos].val);
}

/*
 * Counts the failing rules: rows (device, rule, failing) arrive in key
 * order, and the last row of each (device, rule) says whether it fails.
 */
static int
scan_failing(struct ctx *c, struct rollup *r, struct strtab *ids,
    size_t *cap, struct looks *lk, struct muster_err *e)
{
	sqlite3_stmt *s = NULL;
	char dev[ID_BUF] = "", rule[PROFILE_ID_MAX + 16] = "";
	char counted[ID_BUF] = "";
	size_t i;
	int rc, step, failing = 0, have = 0, done;

	if (c->db == NULL)
		return 0;
	if ((rc = db_prepare(c->db, c->past ? fail_past_sql : fail_present_sql,
	    &s, e)) != 0)
		return rc;
	bind_times(c, s);
	do {
		const char *d = "", *ru = "";

		step = sqlite3_step(s);
		done = step != SQLITE_ROW;
		if (!done) {
			d = col_text(s, 0);
			ru = col_text(s, 1);
		}
		/* A (device, rule) ends: count it by its last row. */
		if (have && (done || strcmp(d, dev) != 0 ||
		    strcmp(ru, rule) != 0) && failing &&
		    failing_counts(c, lk, dev)) {
			if (rule_add(r, ids, cap, rule, &i) != 0)
				goto oom;
			r->rules[i].failing++;
			if (strcmp(counted, dev) != 0) {
				r->failing_any++;
				copy_str(counted, sizeof counted, dev);
			}
		}
		if (!done) {
			copy_str(dev, sizeof dev, d);
			copy_str(rule, sizeof rule, ru);
			failing = sqlite3_column_int(s, 2);
			have = 1;
		}
	} while (!done);
	if (step != SQLITE_DONE)
		rc = db_err(c->db, "roll-up", e);
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	sqlite3_finalize(s);
	return rc;
}

/* The rule roll-up. */
static int
compute_rules(struct ctx *c, struct rollup *r, struct muster_err *e)
{
	struct strtab ids = { 0 };
	struct looks lk = { NULL, 0, 0, 0 };
	int64_t pop[NSCOPES] = { 0, 0 };
	size_t cap = 0, i, u, k;
	int rc, sc;

	if ((rc = scan_population(c, &pop[SCOPE_PERSONNEL], &lk, e)) != 0)
		goto out;
	for (u = 0; u < c->units.n; u++) {
		if (unit_counted(c, u))
			pop[SCOPE_FAMILY] += c->unit_family[u];
		else if (c->unit_family[u] > 0)
			r->total.family_withheld = 1;
	}
	/* Rules of the profiles in force, personnel's titles first. */
	for (sc = 0; sc < NSCOPES; sc++) {
		const struct profile *p = c->prof[sc];

		for (k = 0; p != NULL && k < p->nrules; k++) {
			if (rule_add(r, &ids, &cap, p->rules[k].id, &i) != 0)
				goto oom;
			if (r->rules[i].scopes == 0) {
				free(r->rules[i].title);
				if ((r->rules[i].title = strdup(
				    p->rules[k].title != NULL ?
				    p->rules[k].title : "")) == NULL)
					goto oom;
				r->rules[i].severity =
				    profile_severity_name(p->rules[k].severity);
			}
			r->rules[i].scopes |= 1u << sc;
		}
	}
	if ((rc = scan_failing(c, r, &ids, &cap, &lk, e)) != 0)
		goto out;
	for (i = 0; i < r->nrules; i++) {
		if ((r->rules[i].id = strdup(ids.keys[i])) == NULL)
			goto oom;
		for (sc = 0; sc < NSCOPES; sc++)
			if (r->rules[i].scopes & (1u << sc))
				r->rules[i].devices += pop[sc];
	}
	if (r->nrules > 1)
		qsort(r->rules, r->nrules, sizeof *r->rules, cmp_rule);
	r->total.family = pop[SCOPE_FAMILY];
	r->total.devices = pop[SCOPE_PERSONNEL] + pop[SCOPE_FAMILY];
	rc = 0;
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	strtab_free(&ids);
	free(lk.v);
	return rc;
}

void
rollup_free(struct rollup *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ngroups; i++)
		free(r->groups[i].key);
	free(r->groups);
	for (i = 0; i < r->nrules; i++) {
		free(r->rules[i].id);
		free(r->rules[i].title);
	}
	free(r->rules);
	free(r);
}

int
rollup_compute(struct rollup_db *db, const struct rollup_query *q,
    struct rollup **out, struct muster_err *e)
{
	struct rollup *r = NULL;
	struct ctx c;
	time_t now = q->now != 0 ? q->now : time(NULL);
	int rc, tx = 0, sc;

	*out = NULL;
	memset(&c, 0, sizeof c);
	if (q->as_of != 0 && q->as_of > now) {
		rc = err_set(e, MUSTER_EUSAGE, "the as-of time is in the "
		    "future");
		goto out;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	r->by = q->by;
	r->past = q->as_of != 0;
	r->as_of = r->past ? q->as_of : now;
	c.db = db->db;
	c.at = r->as_of;
	c.past = r->past;
	/* One snapshot for every statement of the answer. */
	if (c.db != NULL) {
		if ((rc = db_exec(c.db, "BEGIN", e)) != 0)
			goto out;
		tx = 1;
	}
	if ((rc = ctx_profiles(&c, e)) != 0)
		goto out;
	for (sc = 0; sc < NSCOPES; sc++)
		r->stale_after[sc] = ROLLUP_STALE_FACTOR * c.interval[sc];
	rc = r->by == ROLLUP_BY_RULE ? compute_rules(&c, r, e) :
	    compute_status(&c, r, e);
	if (rc != 0)
		goto out;
	*out = r;
	r = NULL;
out:
	if (tx)
		(void)sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL);
	ctx_free(&c);
	rollup_free(r);
	return rc;
}

/* --- writing ------------------------------------------------------------ */

/* Characters of s as a terminal shows them (UTF-8 continuation skipped). */
static int
text_width(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* s padded to width (right-aligned if right), control bytes as '?'. */
static void
text_cell(FILE *fp, const char *s, int width, int right)
{
	int pad = width - text_width(s);

	for (; right && pad > 0; pad--)
		putc(' ', fp);
	for (; *s != '\0'; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
	for (; !right && pad > 0; pad--)
		putc(' ', fp);
}

/* An RFC 4180 field: quoted when it holds a comma, quote, CR or LF. */
static void
csv_field(FILE *fp, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

/* A JSON string (the store holds UTF-8: jansson checked it on arrival). */
static void
json_str(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(fp, "\\u%04x", ch);
		else
			putc(ch, fp);
	}
	putc('"', fp);
}

static const char *
json_bool(int v)
{
	return v ? "true" : "false";
}

static int
flush_check(FILE *fp, struct muster_err *e)
{
	if (fflush(fp) != 0 || ferror(fp))
		return err_sys(e, MUSTER_EIO, "writing the roll-up");
	return 0;
}

enum { C_KEY, C_DEVICES, C_COMPLIANT, C_NONCOMPLIANT, C_STALE, C_NEVER,
    C_FAMILY, C__N };

static const char *const group_heads[C__N] = { NULL, "DEVICES",
    "COMPLIANT", "NONCOMPLIANT", "STALE", "NEVER", "FAMILY" };

/* Whether every device of the group is withheld: counts show "<5". */
static int
hidden(const struct rollup_counts *c)
{
	return c->devices == 0 && c->family_withheld;
}

/* The count cells of a group (C_DEVICES..C_FAMILY) as table and CSV show. */
static void
count_cells(const struct rollup_counts *c, int table,
    char cell[C__N][CELL_MAX])
{
	int i;

	for (i = C_DEVICES; i <= C_NEVER; i++) {
		int64_t v = i == C_DEVICES ? c->devices : c->n[i - C_COMPLIANT];

		if (hidden(c))
			snprintf(cell[i], CELL_MAX, "<5");
		else
			snprintf(cell[i], CELL_MAX, "%lld", (long long)v);
	}
	if (c->family_withheld && c->family == 0)
		snprintf(cell[C_FAMILY], CELL_MAX, "<5");
	else
		snprintf(cell[C_FAMILY], CELL_MAX, table && c->family_withheld ?
		    "%lld*" : "%lld", (long long)c->family);
}

static void
head_line(FILE *fp, const struct rollup *r)
{
	char t[TIME_STR];

	profile_time_format(r->as_of, t);
	fprintf(fp, "Muster roll-up by %s as of %s%s\n", rollup_by_name(r->by),
	    t, r->past ? " (from history)" : "");
	fprintf(fp, "stale: no report for %lld s (personnel), %lld s "
	    "(family)\n\n", (long long)r->stale_after[0],
	    (long long)r->stale_after[1]);
}

static void
table_groups(FILE *fp, const struct rollup *r)
{
	char cell[C__N][CELL_MAX];
	int w[C__N], i, star = 0, lt5 = 0;
	size_t g;
	const char *head = r->by == ROLLUP_BY_UNIT ? "UNIT" :
	    r->by == ROLLUP_BY_MODEL ? "MODEL" : "SCOPE";

	for (i = 0; i < C__N; i++)
		w[i] = text_width(i == C_KEY ? head : group_heads[i]);
	if (w[C_KEY] < 5)
		w[C_KEY] = 5;		/* "TOTAL" */
	for (g = 0; g <= r->ngroups; g++) {
		const struct rollup_counts *c = g < r->ngroups ?
		    &r->groups[g].c : &r->total;

		count_cells(c, 1, cell);
		if (g < r->ngroups && text_width(r->groups[g].key) > w[C_KEY])
			w[C_KEY] = text_width(r->groups[g].key);
		for (i = C_DEVICES; i < C__N; i++)
			if ((int)strlen(cell[i]) > w[i])
				w[i] = (int)strlen(cell[i]);
		if (c->family_withheld && c->family == 0)
			lt5 = 1;
		else if (c->family_withheld)
			star = 1;
	}
	head_line(fp, r);
	for (i = 0; i < C__N; i++) {
		if (i > 0)
			fputs("  ", fp);
		text_cell(fp, i == C_KEY ? head : group_heads[i],
		    i == C__N - 1 ? 0 : w[i], i != C_KEY && i != C_FAMILY);
	}
	putc('\n', fp);
	for (g = 0; g <= r->ngroups; g++) {
		const struct rollup_counts *c = g < r->ngroups ?
		    &r->groups[g].c : &r->total;

		count_cells(c, 1, cell);
		text_cell(fp, g < r->ngroups ? r->groups[g].key : "TOTAL",
		    w[C_KEY], 0);
		for (i = C_DEVICES; i < C__N; i++) {
			fputs("  ", fp);
			text_cell(fp, cell[i], i == C_FAMILY ? 0 : w[i],
			    i != C_FAMILY);
		}
		putc('\n', fp);
	}
	if (lt5 || star)
		putc('\n', fp);
	if (lt5)
		fprintf(fp, "<5: family devices left out: fewer than %d in "
		    "their unit (k-anonymity)\n", ROLLUP_K);
	if (star)
		fprintf(fp, "*: more family devices left out: fewer than %d "
		    "in their unit (k-anonymity)\n", ROLLUP_K);
}

static void
csv_groups(FILE *fp, const struct rollup *r)
{
	char cell[C__N][CELL_MAX];
	size_t g;
	int i;

	fprintf(fp, "%s,devices,compliant,noncompliant,stale,never,family,"
	    "family_withheld\r\n", rollup_by_name(r->by));
	for (g = 0; g <= r->ngroups; g++) {
		const struct rollup_counts *c = g < r->ngroups ?
		    &r->groups[g].c : &r->total;

		count_cells(c, 0, cell);
		csv_field(fp, g < r->ngroups ? r->groups[g].key : "");
		for (i = C_DEVICES; i < C__N; i++)
			fprintf(fp, ",%s", cell[i]);
		fprintf(fp, ",%s\r\n", c->family_withheld ? "yes" : "no");
	}
}

static void
json_counts(FILE *fp, const struct rollup_counts *c)
{
	fprintf(fp, "\"devices\": %lld, \"compliant\": %lld, "
	    "\"noncompliant\": %lld, \"stale\": %lld, \"never\": %lld, "
	    "\"family\": %lld, \"family_withheld\": %s}",
	    (long long)c->devices, (long long)c->n[ROLLUP_COMPLIANT],
	    (long long)c->n[ROLLUP_NONCOMPLIANT],
	    (long long)c->n[ROLLUP_STALE], (long long)c->n[ROLLUP_NEVER],
	    (long long)c->family, json_bool(c->family_withheld));
}

static void
json_head(FILE *fp, const struct rollup *r)
{
	char t[TIME_STR];

	profile_time_format(r->as_of, t);
	fprintf(fp, "{\n  \"version\": %d,\n  \"by\": \"%s\",\n"
	    "  \"as_of\": \"%s\",\n  \"from_history\": %s,\n  \"k\": %d,\n"
	    "  \"stale_after\": {\"personnel\": %lld, \"family\": %lld},\n",
	    ROLLUP_FORMAT_VERSION, rollup_by_name(r->by), t,
	    json_bool(r->past), ROLLUP_K, (long long)r->stale_after[0],
	    (long long)r->stale_after[1]);
}

static void
json_groups(FILE *fp, const struct rollup *r)
{
	size_t g;

	json_head(fp, r);
	fputs("  \"groups\": [", fp);
	for (g = 0; g < r->ngroups; g++) {
		fprintf(fp, "%s\n    {\"%s\": ", g > 0 ? "," : "",
		    rollup_by_name(r->by));
		json_str(fp, r->groups[g].key);
		fputs(", ", fp);
		json_counts(fp, &r->groups[g].c);
	}
	fprintf(fp, "%s],\n  \"total\": {", r->ngroups > 0 ? "\n  " : "");
	json_counts(fp, &r->total);
	fputs("\n}\n", fp);
}

static void
scopes_text(unsigned scopes, const char *sep, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s",
	    scopes & (1u << SCOPE_PERSONNEL) ? "personnel" : "",
	    scopes == ((1u << SCOPE_PERSONNEL) | (1u << SCOPE_FAMILY)) ?
	    sep : "", scopes & (1u << SCOPE_FAMILY) ? "family" : "");
}

enum { R_RULE, R_SEVERITY, R_SCOPES, R_DEVICES, R_FAILING, R_TITLE, R__N };

static const char *const rule_heads[R__N] = { "RULE", "SEVERITY", "SCOPES",
    "DEVICES", "FAILING", "TITLE" };

/* The cells of rule i (i == nrules: the total). */
static void
rule_cells(const struct rollup *r, size_t i, char cell[R__N][CELL_MAX],
    const char **text)
{
	const struct rollup_rule *ru = i < r->nrules ? &r->rules[i] : NULL;

	if (ru != NULL) {
		text[R_RULE] = ru->id;
		text[R_SEVERITY] = ru->severity;
		text[R_TITLE] = ru->title;
		scopes_text(ru->scopes, ",", cell[R_SCOPES], CELL_MAX);
		snprintf(cell[R_DEVICES], CELL_MAX, "%lld",
		    (long long)ru->devices);
		snprintf(cell[R_FAILING], CELL_MAX, "%lld",
		    (long long)ru->failing);
	} else {
		text[R_RULE] = "";
		text[R_SEVERITY] = "";
		text[R_TITLE] = "";
		cell[R_SCOPES][0] = '\0';
		snprintf(cell[R_DEVICES], CELL_MAX, hidden(&r->total) ? "<5" :
		    "%lld", (long long)r->total.devices);
		snprintf(cell[R_FAILING], CELL_MAX, hidden(&r->total) ? "<5" :
		    "%lld", (long long)r->failing_any);
	}
	text[R_SCOPES] = cell[R_SCOPES];
	text[R_DEVICES] = cell[R_DEVICES];
	text[R_FAILING] = cell[R_FAILING];
}

static void
table_rules(FILE *fp, const struct rollup *r)
{
	char cell[R__N][CELL_MAX];
	const char *text[R__N];
	int w[R__N], i;
	size_t k;

	for (i = 0; i < R__N; i++)
		w[i] = text_width(rule_heads[i]);
	if (w[R_RULE] < 5)
		w[R_RULE] = 5;
	for (k = 0; k <= r->nrules; k++) {
		rule_cells(r, k, cell, text);
		for (i = 0; i < R__N; i++)
			if (text_width(text[i]) > w[i])
				w[i] = text_width(text[i]);
	}
	head_line(fp, r);
	for (i = 0; i < R__N; i++) {
		if (i > 0)
			fputs("  ", fp);
		text_cell(fp, rule_heads[i], i == R_TITLE ? 0 : w[i],
		    i == R_DEVICES || i == R_FAILING);
	}
	putc('\n', fp);
	for (k = 0; k <= r->nrules; k++) {
		rule_cells(r, k, cell, text);
		if (k == r->nrules) {
			text[R_RULE] = "TOTAL";
			text[R_TITLE] = "(failing: devices failing one rule "
			    "or more)";
		}
		for (i = 0; i < R__N; i++) {
			if (i > 0)
				fputs("  ", fp);
			text_cell(fp, text[i], i == R_TITLE ? 0 : w[i],
			    i == R_DEVICES || i == R_FAILING);
		}
		putc('\n', fp);
	}
	if (r->total.family_withheld)
		fprintf(fp, "\nfamily devices of units with fewer than %d are "
		    "left out (k-anonymity)\n", ROLLUP_K);
}

static void
csv_rules(FILE *fp, const struct rollup *r)
{
	char cell[R__N][CELL_MAX];
	const char *text[R__N];
	size_t k;

	fputs("rule,severity,scopes,devices,failing,title\r\n", fp);
	for (k = 0; k <= r->nrules; k++) {
		rule_cells(r, k, cell, text);
		if (k < r->nrules)
			scopes_text(r->rules[k].scopes, " ", cell[R_SCOPES],
			    CELL_MAX);
		csv_field(fp, text[R_RULE]);
		putc(',', fp);
		csv_field(fp, text[R_SEVERITY]);
		putc(',', fp);
		csv_field(fp, cell[R_SCOPES]);
		fprintf(fp, ",%s,%s,", text[R_DEVICES], text[R_FAILING]);
		csv_field(fp, text[R_TITLE]);
		fputs("\r\n", fp);
	}
}

static void
json_rules(FILE *fp, const struct rollup *r)
{
	const struct rollup_rule *ru;
	size_t k;
	int sc, n;

	json_head(fp, r);
	fputs("  \"rules\": [", fp);
	for (k = 0; k < r->nrules; k++) {
		ru = &r->rules[k];
		fprintf(fp, "%s\n    {\"rule\": ", k > 0 ? "," : "");
		json_str(fp, ru->id);
		fputs(", \"severity\": ", fp);
		json_str(fp, ru->severity);
		fputs(", \"title\": ", fp);
		json_str(fp, ru->title);
		fputs(", \"scopes\": [", fp);
		for (sc = 0, n = 0; sc < NSCOPES; sc++)
			if (ru->scopes & (1u << sc))
				fprintf(fp, "%s\"%s\"", n++ > 0 ? ", " : "",
				    profile_scope_name(sc));
		fprintf(fp, "], \"devices\": %lld, \"failing\": %lld}",
		    (long long)ru->devices, (long long)ru->failing);
	}
	fprintf(fp, "%s],\n  \"total\": {\"devices\": %lld, \"failing\": %lld, "
	    "\"family\": %lld, \"family_withheld\": %s}\n}\n",
	    r->nrules > 0 ? "\n  " : "", (long long)r->total.devices,
	    (long long)r->failing_any, (long long)r->total.family,
	    json_bool(r->total.family_withheld));
}

int
rollup_write(const struct rollup *r, enum rollup_format fmt, FILE *fp,
    struct muster_err *e)
{
	int rules = r->by == ROLLUP_BY_RULE;

	switch (fmt) {
	case ROLLUP_FMT_TABLE:
		(rules ? table_rules : table_groups)(fp, r);
		break;
	case ROLLUP_FMT_CSV:
		(rules ? csv_rules : csv_groups)(fp, r);
		break;
	case ROLLUP_FMT_JSON:
		(rules ? json_rules : json_groups)(fp, r);
		break;
	}
	return flush_check(fp, e);
}

int
rollup_run(struct rollup_db *db, const struct rollup_query *q,
    enum rollup_format fmt, char **out, size_t *len, struct muster_err *e)
{
	struct rollup *r = NULL;
	FILE *fp = NULL;
	char *buf = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = rollup_compute(db, q, &r, e)) != 0)
		goto out;
	if ((fp = open_memstream(&buf, &n)) == NULL) {
		rc = err_sys(e, MUSTER_EINTERNAL, "open_memstream");
		goto out;
	}
	rc = rollup_write(r, fmt, fp, e);
	if (fclose(fp) != 0 && rc == 0)
		rc = err_sys(e, MUSTER_EINTERNAL, "open_memstream");
	fp = NULL;
	if (rc != 0)
		goto out;
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	rollup_free(r);
	return rc;
}

/* --- the device list ---------------------------------------------------- */

#define DEV_CAT	CAT_SQL("d.last_status", "d.last_received", "?1", "?2")

static const char dev_sql[] =
"SELECT id, unit, person, model, last_received, cat, failing FROM ("
" SELECT d.id AS id, d.unit AS unit, d.person AS person, d.model AS model,"
"  d.last_received AS last_received, " DEV_CAT " AS cat,"
"  (SELECT group_concat(rule, ' ') FROM (SELECT f.rule AS rule"
"   FROM device_failing f WHERE f.device = d.id ORDER BY f.rule))"
"   AS failing"
" FROM devices d WHERE d.scope = 'personnel' AND d.revoked IS NULL%s)"
"%s ORDER BY unit, person, id";

static const char dev_width_sql[] =
"SELECT max(length(unit)), max(length(person)), max(length(model)) "
"FROM devices d WHERE d.scope = 'personnel' AND d.revoked IS NULL%s";

#define DEV_UNIT_SQL	" AND d.unit = ?4"
#define DEV_STATUS_SQL	" WHERE cat = ?5"

enum { D_ID, D_UNIT, D_PERSON, D_MODEL, D_LAST, D_STATUS, D_FAILING, D__N };

static const char *const dev_heads[D__N] = { "DEVICE", "UNIT", "PERSON",
    "MODEL", "LAST_REPORT", "STATUS", "FAILING" };

static const char *const dev_csv_heads =
    "device,unit,person,model,last_report,status,failing\r\n";

static void
dev_bind(sqlite3_stmt *s, const struct rollup_devq *q, const int64_t thr[2])
{
	if (sqlite3_bind_parameter_index(s, "?1") > 0) {
		sqlite3_bind_int64(s, 1, thr[SCOPE_PERSONNEL]);
		sqlite3_bind_int64(s, 2, thr[SCOPE_FAMILY]);
	}
	if (q->unit != NULL)
		sqlite3_bind_text(s, 4, q->unit, -1, SQLITE_STATIC);
	if (q->status >= 0 && sqlite3_bind_parameter_index(s, "?5") > 0)
		sqlite3_bind_int(s, 5, q->status);
}

/* Widths of the table's columns, from the longest values stored. */
static int
dev_widths(sqlite3 *db, const struct rollup_devq *q, int w[D__N],
    struct muster_err *e)
{
	static const int fixed[D__N] = { 32, 0, 0, 0, TIME_STR - 1, 12, 0 };
	sqlite3_stmt *s = NULL;
	char sql[512];
	int i, rc = 0;

	for (i = 0; i < D__N; i++) {
		w[i] = text_width(dev_heads[i]);
		if (fixed[i] > w[i])
			w[i] = fixed[i];
	}
	if (w[D_MODEL] < 7)
		w[D_MODEL] = 7;		/* "unknown" */
	if (db == NULL)
		return 0;
	snprintf(sql, sizeof sql, dev_width_sql,
	    q->unit != NULL ? DEV_UNIT_SQL : "");
	if ((rc = db_prepare(db, sql, &s, e)) != 0)
		return rc;
	if (q->unit != NULL)
		sqlite3_bind_text(s, 4, q->unit, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		for (i = 0; i < 3; i++)
			if (sqlite3_column_int(s, i) > w[D_UNIT + i])
				w[D_UNIT + i] = sqlite3_column_int(s, i);
	} else
		rc = db_err(db, "devices", e);
	sqlite3_finalize(s);
	return rc;
}

/* One device in fmt; text[] holds its columns, last NULL if never. */
static void
dev_row(FILE *fp, enum rollup_format fmt, const int w[D__N],
    const char *text[D__N], int64_t n)
{
	const char *p, *sp;
	int i;

	switch (fmt) {
	case ROLLUP_FMT_TABLE:
		for (i = 0; i < D__N; i++) {
			const char *v = text[i];

			if (i > 0)
				fputs("  ", fp);
			if (v == NULL || *v == '\0')
				v = i == D_MODEL ? "unknown" : "-";
			text_cell(fp, v, i == D__N - 1 ? 0 : w[i], 0);
		}
		putc('\n', fp);
		break;
	case ROLLUP_FMT_CSV:
		for (i = 0; i < D__N; i++) {
			if (i > 0)
				putc(',', fp);
			csv_field(fp, text[i] != NULL ? text[i] : "");
		}
		fputs("\r\n", fp);
		break;
	case ROLLUP_FMT_JSON:
		fprintf(fp, "%s\n    {\"device\": ", n > 0 ? "," : "");
		json_str(fp, text[D_ID]);
		fputs(", \"unit\": ", fp);
		json_str(fp, text[D_UNIT]);
		fputs(", \"person\": ", fp);
		json_str(fp, text[D_PERSON]);
		fputs(", \"model\": ", fp);
		json_str(fp, text[D_MODEL]);
		fputs(", \"last_report\": ", fp);
		if (text[D_LAST] != NULL)
			json_str(fp, text[D_LAST]);
		else
			fputs("null", fp);
		fprintf(fp, ", \"status\": \"%s\", \"failing\": [",
		    text[D_STATUS]);
		for (p = text[D_FAILING], i = 0; *p != '\0'; p = sp, i++) {
			size_t len;

			if ((sp = strchr(p, ' ')) == NULL)
				sp = p + strlen(p);
			len = (size_t)(sp - p);
			if (i > 0)
				fputs(", ", fp);
			/* Rule ids are [a-z0-9._-]: nothing to escape. */
			fprintf(fp, "\"%.*s\"", (int)len, p);
			if (*sp == ' ')
				sp++;
		}
		fputs("]}", fp);
		break;
	}
}

int
rollup_devices(struct rollup_db *db, const struct rollup_devq *q,
    enum rollup_format fmt, FILE *fp, struct muster_err *e)
{
	struct ctx c;
	sqlite3_stmt *s = NULL;
	const char *text[D__N];
	char sql[2048], last[TIME_STR], now_s[TIME_STR];
	int64_t thr[NSCOPES], n = 0;
	int w[D__N], rc, step, sc, i, tx = 0;

	memset(&c, 0, sizeof c);
	c.db = db->db;
	c.at = q->now != 0 ? q->now : time(NULL);
	if (c.db != NULL) {
		if ((rc = db_exec(c.db, "BEGIN", e)) != 0)
			goto out;
		tx = 1;
	}
	if ((rc = ctx_profiles(&c, e)) != 0)
		goto out;
	for (sc = 0; sc < NSCOPES; sc++)
		thr[sc] = (int64_t)c.at - ROLLUP_STALE_FACTOR * c.interval[sc];
	if (fmt == ROLLUP_FMT_TABLE && (rc = dev_widths(c.db, q, w, e)) != 0)
		goto out;
	if (c.db != NULL) {
		snprintf(sql, sizeof sql, dev_sql,
		    q->unit != NULL ? DEV_UNIT_SQL : "",
		    q->status >= 0 ? DEV_STATUS_SQL : "");
		if ((rc = db_prepare(c.db, sql, &s, e)) != 0)
			goto out;
		dev_bind(s, q, thr);
	}
	profile_time_format(c.at, now_s);
	switch (fmt) {
	case ROLLUP_FMT_TABLE:
		fprintf(fp, "Muster personnel devices as of %s\nstale: no "
		    "report for %lld s\n\n", now_s,
		    (long long)(ROLLUP_STALE_FACTOR *
		    c.interval[SCOPE_PERSONNEL]));
		for (i = 0; i < D__N; i++) {
			if (i > 0)
				fputs("  ", fp);
			text_cell(fp, dev_heads[i], i == D__N - 1 ? 0 : w[i],
			    0);
		}
		putc('\n', fp);
		break;
	case ROLLUP_FMT_CSV:
		fputs(dev_csv_heads, fp);
		break;
	case ROLLUP_FMT_JSON:
		fprintf(fp, "{\n  \"version\": %d,\n  \"as_of\": \"%s\",\n"
		    "  \"stale_after\": %lld,\n  \"devices\": [",
		    ROLLUP_FORMAT_VERSION, now_s,
		    (long long)(ROLLUP_STALE_FACTOR *
		    c.interval[SCOPE_PERSONNEL]));
		break;
	}
	while (s != NULL && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int cat = sqlite3_column_int(s, 5);

		for (i = D_ID; i <= D_MODEL; i++)
			text[i] = col_text(s, i);
		if (sqlite3_column_type(s, 4) == SQLITE_NULL)
			text[D_LAST] = NULL;
		else {
			profile_time_format((time_t)sqlite3_column_int64(s, 4),
			    last);
			text[D_LAST] = last;
		}
		text[D_STATUS] = rollup_status_name(cat >= 0 &&
		    cat < ROLLUP_NSTATUS ? cat : ROLLUP_NEVER);
		text[D_FAILING] = col_text(s, 6);
		dev_row(fp, fmt, w, text, n++);
		if (ferror(fp)) {
			rc = err_sys(e, MUSTER_EIO, "writing the device list");
			goto out;
		}
	}
	if (s != NULL && step != SQLITE_DONE) {
		rc = db_err(c.db, "devices", e);
		goto out;
	}
	if (fmt == ROLLUP_FMT_TABLE)
		fprintf(fp, "\n%lld device%s\n", (long long)n,
		    n == 1 ? "" : "s");
	else if (fmt == ROLLUP_FMT_JSON)
		fprintf(fp, "%s],\n  \"count\": %lld\n}\n", n > 0 ? "\n  " : "",
		    (long long)n);
	rc = flush_check(fp, e);
out:
	sqlite3_finalize(s);
	if (tx)
		(void)sqlite3_exec(c.db, "COMMIT", NULL, NULL, NULL);
	ctx_free(&c);
	return rc;
}

/* --- GET /v1/admin/rollup ------------------------------------------------ */

static int
http_error(unsigned code, const char *msg, char **body, size_t *len,
    const char **ctype, unsigned *status)
{
	*status = code;
	*ctype = CT_JSON;
	if (asprintf(body, "{\"error\":\"%s\"}\n", msg) == -1) {
		*body = NULL;
		*len = 0;
		return -1;
	}
	*len = strlen(*body);
	return 0;
}

int
rollup_http(const char *data_dir, const char *by, const char *format,
    const char *as_of, char **body, size_t *len, const char **ctype,
    unsigned *status, struct muster_err *e)
{
	static const char *const ctypes[] = {
		[ROLLUP_FMT_TABLE] = CT_TEXT,
		[ROLLUP_FMT_CSV] = CT_CSV,
		[ROLLUP_FMT_JSON] = CT_JSON,
	};
	struct rollup_query q = { ROLLUP_BY_UNIT, 0, 0 };
	enum rollup_format fmt = ROLLUP_FMT_JSON;
	struct rollup_db *db = NULL;
	int rc;

	*body = NULL;
	*len = 0;
	if (by != NULL && rollup_by_parse(by, &q.by) != 0) {
		rc = err_set(e, MUSTER_EUSAGE, "rollup: bad by");
		(void)http_error(400, "by must be unit, rule, model or scope",
		    body, len, ctype, status);
		goto out;
	}
	if (format != NULL && rollup_format_parse(format, &fmt) != 0) {
		rc = err_set(e, MUSTER_EUSAGE, "rollup: bad format");
		(void)http_error(400, "format must be json, csv or table",
		    body, len, ctype, status);
		goto out;
	}
	if (as_of != NULL && profile_time_parse(as_of, &q.as_of) != 0) {
		rc = err_set(e, MUSTER_EUSAGE, "rollup: bad as_of");
		(void)http_error(400, "as_of must be YYYY-MM-DDTHH:MM:SSZ",
		    body, len, ctype, status);
		goto out;
	}
	if ((rc = rollup_open(data_dir, &db, e)) != 0 ||
	    (rc = rollup_run(db, &q, fmt, body, len, e)) != 0) {
		if (rc == MUSTER_EUSAGE)
			(void)http_error(400, "as_of is in the future", body,
			    len, ctype, status);
		else if (rc == MUSTER_ETEMP)
			(void)http_error(503, "store busy, try again", body,
			    len, ctype, status);
		else
			(void)http_error(500, "internal error", body, len,
			    ctype, status);
		goto out;
	}
	*status = 200;
	*ctype = ctypes[fmt];
out:
	rollup_close(db);
	return rc;
}
