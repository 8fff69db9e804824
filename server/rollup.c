/*
 * rollup: compliance roll-ups; see rollup.h for the contract and
 * docs/rollup.md for the formats.
 *
 * Everything is read through the store's read interface (store.h), in
 * one snapshot (store_read_begin), so the numbers of one answer agree
 * with each other while the server keeps writing.
 *
 * The store only streams rows; the counting is done here, in hash tables
 * keyed by unit (and model), because a GROUP BY over a million devices
 * costs a sort, or a row lookup per device through an index on the
 * grouping column: about 1 s either way, against 0.3 s for one scan in
 * table order.  Counting per unit first also gives each unit's number of
 * family devices, which the k-anonymity rule needs before any group is
 * formed.
 *
 * The unit, model and scope roll-ups come from one scan of the devices'
 * states (STORE_SCAN_STATUS); the rule roll-up from one scan of the
 * population, which gives the (sorted) ids of family and uncounted
 * devices, merged with one scan of the failing rules in key order
 * (STORE_SCAN_POPULATION, STORE_SCAN_FAILING).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/profile.h"
#include "muster/timefmt.h"
#include "htab.h"
#include "rollup.h"
#include "store.h"

#define NSCOPES			ROLLUP_NSCOPES
#define ID_BUF			80		/* a device id (32) with room */

/* The store's states are the roll-up's. */
_Static_assert((int)ROLLUP_COMPLIANT == (int)STORE_COMPLIANT &&
    (int)ROLLUP_NONCOMPLIANT == (int)STORE_NONCOMPLIANT &&
    (int)ROLLUP_STALE == (int)STORE_STALE &&
    (int)ROLLUP_NEVER == (int)STORE_NEVER, "enum rollup_status");

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

int
rollup_open(const char *data_dir, struct rollup_db **out,
    struct muster_err *e)
{
	struct rollup_db *db;
	int rc;

	*out = NULL;
	if ((db = calloc(1, sizeof *db)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = store_read_open(data_dir, &db->rd, e)) != 0)
		free(db);
	else
		*out = db;
	return rc;
}

void
rollup_close(struct rollup_db *db)
{
	if (db == NULL)
		return;
	store_read_close(db->rd);
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
	struct store_read *rd;
	time_t		 at;			/* as_of, or now */
	int		 past;
	struct store_when w;			/* at, past, stale thresholds */
	int64_t		 interval[NSCOPES];	/* report_interval, s */
	struct profile	*prof[NSCOPES];		/* NULL: none published */
	struct htab	 units;
	int64_t		*unit_family;		/* family devices per unit */
	size_t		 unit_cap;
};

/*
 * The profile each scope was served at c->at (the newest published, in
 * the past: the newest published by then) and its report_interval.  A
 * stored profile this build cannot parse counts as none.
 */
static int
ctx_profiles(struct ctx *c, struct muster_err *e)
{
	struct muster_err pe;
	char *bytes = NULL;
	size_t len;
	int rc = 0, sc;

	for (sc = 0; sc < NSCOPES; sc++) {
		c->interval[sc] = PROFILE_DEFAULT_REPORT_INTERVAL;
		c->prof[sc] = NULL;
	}
	for (sc = 0; sc < NSCOPES && rc == 0; sc++) {
		rc = store_read_profile(c->rd, (enum profile_scope)sc,
		    c->past ? &c->at : NULL, &bytes, &len, e);
		if (rc == 0 && bytes != NULL && profile_parse("profile", bytes,
		    len, &c->prof[sc], &pe) == 0)
			c->interval[sc] = c->prof[sc]->report_interval;
		free(bytes);
		bytes = NULL;
	}
	return rc;
}

static int
unit_add(struct ctx *c, const char *unit, int scope, int64_t n,
    size_t *idx)
{
	if (htab_intern(&c->units, unit, idx, NULL) != 0 ||
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
	htab_free(&c->units);
	free(c->unit_family);
}

/* The time and stale thresholds of c's scans, once the intervals are known. */
static void
ctx_when(struct ctx *c)
{
	int sc;

	c->w.at = c->at;
	c->w.past = c->past;
	for (sc = 0; sc < NSCOPES; sc++)
		c->w.stale_before[sc] = (int64_t)c->at - ROLLUP_STALE_FACTOR *
		    c->interval[sc];
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
	return (size_t)htab_mix64(((uint64_t)a << 32) ^ (uint64_t)b);
}

static size_t
cell_hash(const void *arg, size_t i)
{
	const struct cell *c = (const struct cell *)arg + i;

	return pair_hash(c->unit, c->key);
}

/* The cell of (unit, key), added zeroed when missing; NULL: memory. */
static struct cell *
cells_get(struct cells *t, size_t unit, size_t key)
{
	struct cell *c;
	size_t j;

	if (2 * (t->n + 1) > t->nslot && htab_slots_grow(&t->slot,
	    &t->nslot, 256, t->n, cell_hash, t->v) != 0)
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

void
rollup_counts_add(struct rollup_counts *t, const struct rollup_counts *s)
{
	int i;

	for (i = 0; i < ROLLUP_NSTATUS; i++)
		t->n[i] += s->n[i];
	t->devices += s->devices;
	t->family += s->family;
	t->family_withheld |= s->family_withheld;
}

/*
 * Counts every device of the population into cells by unit (and model),
 * scope and state: one scan of `devices`, aggregated here.
 */
static int
scan_status(struct ctx *c, int by_model, struct htab *keys,
    struct cells *cells, struct muster_err *e)
{
	struct store_cursor *cur = NULL;
	struct store_row row;
	struct cell *cl;
	const char *model;
	size_t u, k = 0;
	int rc = 0, sc, cat;

	if ((rc = store_rollup_scan(c->rd, STORE_SCAN_STATUS, &c->w, &cur,
	    e)) != 0)
		return rc;
	while ((rc = store_cursor_next(cur, &row, e)) > 0) {
		sc = row.scope;
		cat = row.state;
		if (cat < 0 || cat >= ROLLUP_NSTATUS)
			cat = ROLLUP_NEVER;
		if (unit_add(c, row.unit, sc, 1, &u) != 0)
			goto oom;
		if (by_model) {
			model = row.model;
			if (htab_intern(keys, *model != '\0' ? model :
			    "unknown", &k, NULL) != 0)
				goto oom;
		}
		if ((cl = cells_get(cells, u, k)) == NULL)
			goto oom;
		cl->n[sc][cat]++;
	}
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	store_cursor_close(cur);
	return rc;
}

/* --- family estimates (muster/rr.h) -------------------------------------- */

/* What the family pass sums per group. */
struct famacc {
	int64_t		n;		/* reporting devices */
	double		w;		/* sum of their status weights */
};

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The group of a family device by r->by; SIZE_MAX if none. */
static size_t
fam_group(struct ctx *c, const struct rollup *r, struct htab *keys,
    size_t ngroups, const struct store_row *row)
{
	size_t g;
	int added = 0;

	switch (r->by) {
	case ROLLUP_BY_UNIT:
		if (htab_intern(&c->units, row->unit, &g, &added) != 0)
			return SIZE_MAX;
		break;
	case ROLLUP_BY_MODEL:
		if (htab_intern(keys, *row->model != '\0' ? row->model :
		    "unknown", &g, &added) != 0)
			return SIZE_MAX;
		break;
	case ROLLUP_BY_SCOPE:
		g = SCOPE_FAMILY;
		break;
	default:
		g = SIZE_MAX;
		break;
	}
	return added || g >= ngroups ? SIZE_MAX : g;
}

/* The sorted rule ids of the family profile in force; NULL when none. */
static const char **
family_ids(const struct ctx *c, int *oom)
{
	const struct profile *fp = c->prof[SCOPE_FAMILY];
	const char **ids;
	size_t i;

	*oom = 0;
	if (fp == NULL || fp->nrules == 0)
		return NULL;
	if ((ids = calloc(fp->nrules, sizeof *ids)) == NULL) {
		*oom = 1;
		return NULL;
	}
	for (i = 0; i < fp->nrules; i++)
		ids[i] = fp->rules[i].id;
	qsort(ids, fp->nrules, sizeof *ids, cmp_strp);
	return ids;
}

/*
 * The family pass: the counted family devices (units of ROLLUP_K or
 * more) with the rules their newest report fails, one row each.  For
 * each device with a current report, its failing answers on the rules of
 * the family profile in force (c->prof[SCOPE_FAMILY]) give its status
 * weight, summed into acc[its group] (when acc is not NULL) and *total;
 * yes[i] counts the reporting devices answering failing on the
 * profile's i-th rule in sorted id order (ids).  Nothing when no family
 * profile is in force.
 */
static int
family_pass(struct ctx *c, const struct rollup *r, struct htab *keys,
    size_t ngroups, struct famacc *acc, struct famacc *total,
    const char **ids, int64_t *yes, struct muster_err *e)
{
	const struct profile *fp = c->prof[SCOPE_FAMILY];
	struct store_cursor *cur = NULL;
	struct store_row row;
	char rule[PROFILE_ID_MAX + 16];
	const char **hit, **own = NULL, *f, *sp;
	size_t u, g, nfail, n;
	int rc, added;
	double w;

	if (fp == NULL)
		return 0;
	if (ids == NULL && (ids = own = family_ids(c, &rc)) == NULL && rc)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = store_family_scan(c->rd, &c->w, &cur, e)) != 0)
		goto out;
	while ((rc = store_cursor_next(cur, &row, e)) > 0) {
		if (row.state != ROLLUP_COMPLIANT &&
		    row.state != ROLLUP_NONCOMPLIANT)
			continue;
		if (htab_intern(&c->units, row.unit, &u, &added) != 0) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		if (added || c->unit_family == NULL || u >= c->unit_cap ||
		    !unit_counted(c, u))
			continue;
		g = fam_group(c, r, keys, ngroups, &row);
		nfail = 0;
		for (f = row.failing; ids != NULL && *f != '\0'; f = sp) {
			if ((sp = strchr(f, ' ')) == NULL)
				sp = f + strlen(f);
			n = (size_t)(sp - f);
			if (*sp == ' ')
				sp++;
			if (n == 0 || n >= sizeof rule)
				continue;
			memcpy(rule, f, n);
			rule[n] = '\0';
			if ((hit = bsearch(&(const char *){ rule }, ids,
			    fp->nrules, sizeof *ids, cmp_strp)) == NULL)
				continue;
			nfail++;
			if (yes != NULL)
				yes[hit - ids]++;
		}
		w = rr_status_weight(fp->nrules, nfail);
		total->n++;
		total->w += w;
		if (acc != NULL && g != SIZE_MAX) {
			acc[g].n++;
			acc[g].w += w;
		}
	}
out:
	store_cursor_close(cur);
	free(own);
	return rc;
}

/* A status estimate from what the family pass summed. */
static void
fam_status(const struct ctx *c, const struct famacc *a, struct rollup_fam *f)
{
	const struct profile *fp = c->prof[SCOPE_FAMILY];

	memset(f, 0, sizeof *f);
	if (fp == NULL)
		return;
	f->estimated = 1;
	f->reporting = a->n;
	rr_estimate_status(a->n, a->w, fp->nrules, &f->est);
}

/* The unit, model and scope roll-ups. */
static int
compute_status(struct ctx *c, struct rollup *r, struct muster_err *e)
{
	struct htab keys = { 0 };
	struct cells cells = { 0 };
	struct gacc *acc = NULL;
	struct famacc *facc = NULL, ftotal = { 0, 0 };
	size_t i, g, ng;
	int rc, j, sc, by_model = r->by == ROLLUP_BY_MODEL;

	if ((rc = scan_status(c, by_model, &keys, &cells, e)) != 0)
		goto out;
	/* The groups: a scope roll-up always shows both scopes. */
	if (r->by == ROLLUP_BY_SCOPE)
		for (sc = 0; sc < NSCOPES; sc++)
			if (htab_intern(&keys, profile_scope_name(sc), &g,
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
	if (ng > 0 && (facc = calloc(ng, sizeof *facc)) == NULL)
		goto oom;
	if ((rc = family_pass(c, r, &keys, ng, facc, &ftotal, NULL, NULL,
	    e)) != 0)
		goto out;
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
		/* Personnel exactly; family devices only counted. */
		for (j = 0; j < ROLLUP_NSTATUS; j++) {
			gr->c.n[j] = acc[g].p[j];
			gr->c.devices += gr->c.n[j];
		}
		gr->c.family = fam;
		gr->c.family_withheld = acc[g].withheld;
		if (fam > 0)
			fam_status(c, &facc[g], &gr->c.fam);
		if ((gr->key = strdup(r->by == ROLLUP_BY_UNIT ?
		    c->units.keys[g] : keys.keys[g])) == NULL)
			goto oom;
		rollup_counts_add(&r->total, &gr->c);
	}
	if (r->total.family > 0)
		fam_status(c, &ftotal, &r->total.fam);
	r->family_rules = c->prof[SCOPE_FAMILY] != NULL ?
	    c->prof[SCOPE_FAMILY]->nrules : 0;
	/* By scope, in the order of the enum (personnel first). */
	if (r->by != ROLLUP_BY_SCOPE && r->ngroups > 1)
		qsort(r->groups, r->ngroups, sizeof *r->groups, cmp_group);
	rc = 0;
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	htab_free(&keys);
	cells_free(&cells);
	free(acc);
	free(facc);
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
	struct store_cursor *cur = NULL;
	struct store_row row;
	size_t u;
	int rc, sc, in;

	if ((rc = store_rollup_scan(c->rd, STORE_SCAN_POPULATION, &c->w,
	    &cur, e)) != 0)
		return rc;
	while ((rc = store_cursor_next(cur, &row, e)) > 0) {
		sc = row.scope;
		in = row.flag;
		if (unit_add(c, row.unit, sc, in ? 1 : 0, &u) != 0)
			goto oom;
		if (in && sc == SCOPE_PERSONNEL)
			(*pop_personnel)++;
		if (row.id == NULL)
			continue;
		if (grow((void **)&lk->v, &lk->cap, lk->n + 1,
		    sizeof *lk->v) != 0)
			goto oom;
		copy_str(lk->v[lk->n].id, sizeof lk->v[lk->n].id, row.id);
		lk->v[lk->n++].val = in ? u : LOOK_EXCLUDED;
	}
	if (rc == 0 && lk->n > 1)
		qsort(lk->v, lk->n, sizeof *lk->v, cmp_look);
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	store_cursor_close(cur);
	return rc;
}

/* Adds rule id to r (through ids) if missing; its index in *i. */
static int
rule_add(struct rollup *r, struct htab *ids, size_t *cap, const char *id,
    size_t *i)
{
	int added;

	if (htab_intern(ids, id, i, &added) != 0 ||
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
 * population.  dev must not be below the one of the previous call.
 */
static int
failing_counts(const struct ctx *c, struct looks *lk, const char *dev)
{
	int cmp = 1;

	while (lk->pos < lk->n && (cmp = strcmp(lk->v[lk->pos].id, dev)) < 0)
		lk->pos++;
	/* Looked-up devices are family devices (only estimated, in
	 * family_pass) or devices out of the population. */
	(void)c;
	return lk->pos == lk->n || cmp != 0;
}

/*
 * Counts the failing rules: rows (device, rule, failing) arrive in key
 * order, and the last row of each (device, rule) says whether it fails.
 */
static int
scan_failing(struct ctx *c, struct rollup *r, struct htab *ids,
    size_t *cap, struct looks *lk, struct muster_err *e)
{
	struct store_cursor *cur = NULL;
	struct store_row row;
	char dev[ID_BUF] = "", rule[PROFILE_ID_MAX + 16] = "";
	char counted[ID_BUF] = "";
	size_t i;
	int rc, step, failing = 0, have = 0, done;

	if ((rc = store_rollup_scan(c->rd, STORE_SCAN_FAILING, &c->w, &cur,
	    e)) != 0)
		return rc;
	do {
		const char *d = "", *ru = "";

		step = store_cursor_next(cur, &row, e);
		done = step <= 0;
		if (!done) {
			d = row.id;
			ru = row.rule;
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
			failing = row.flag;
			have = 1;
		}
	} while (!done);
	rc = step;		/* 0 at the end, or the read's error */
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	store_cursor_close(cur);
	return rc;
}

/* The rule roll-up. */
static int
compute_rules(struct ctx *c, struct rollup *r, struct muster_err *e)
{
	struct htab ids = { 0 };
	struct looks lk = { NULL, 0, 0, 0 };
	struct famacc ftotal = { 0, 0 };
	const struct profile *fp;
	const char **fids = NULL;
	int64_t pop[NSCOPES] = { 0, 0 }, *yes = NULL;
	size_t cap = 0, i, u, k;
	int rc, sc, oom = 0;

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
	fp = c->prof[SCOPE_FAMILY];
	if ((fids = family_ids(c, &oom)) == NULL && oom)
		goto oom;
	if (fids != NULL && (yes = calloc(fp->nrules, sizeof *yes)) == NULL)
		goto oom;
	if (pop[SCOPE_FAMILY] > 0 && (rc = family_pass(c, r, NULL, 0, NULL,
	    &ftotal, fids, yes, e)) != 0)
		goto out;
	for (i = 0; i < r->nrules; i++) {
		const char **hit;

		if ((r->rules[i].id = strdup(ids.keys[i])) == NULL)
			goto oom;
		if (r->rules[i].scopes & (1u << SCOPE_PERSONNEL))
			r->rules[i].devices = pop[SCOPE_PERSONNEL];
		if (fids == NULL || pop[SCOPE_FAMILY] == 0 ||
		    (hit = bsearch(&r->rules[i].id, fids, fp->nrules,
		    sizeof *fids, cmp_strp)) == NULL)
			continue;
		r->rules[i].fam.estimated = 1;
		r->rules[i].fam.reporting = ftotal.n;
		rr_estimate_rate(ftotal.n, yes[hit - fids],
		    &r->rules[i].fam.est);
	}
	if (pop[SCOPE_FAMILY] > 0)
		fam_status(c, &ftotal, &r->total.fam);
	r->family_rules = fp != NULL ? fp->nrules : 0;
	if (r->nrules > 1)
		qsort(r->rules, r->nrules, sizeof *r->rules, cmp_rule);
	r->total.family = pop[SCOPE_FAMILY];
	r->total.devices = pop[SCOPE_PERSONNEL];
	rc = 0;
	goto out;
oom:
	rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
out:
	htab_free(&ids);
	free(lk.v);
	free(fids);
	free(yes);
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

/*
 * An as-of time the store can answer: not before its first record, of
 * which there must be one (else the answer would be zeros that look like
 * a fact).  MUSTER_EDATA otherwise.
 */
static int
past_ok(const struct ctx *c, struct muster_err *e)
{
	char t[TIMEFMT_LEN];
	time_t first;
	int rc, any;

	if ((rc = store_read_first(c->rd, &first, &any, e)) != 0)
		return rc;
	if (!any)
		return err_set(e, MUSTER_EDATA, "the store holds no record "
		    "yet: there is no past to answer from");
	if (c->at < first) {
		timefmt_format(first, t);
		return err_set(e, MUSTER_EDATA, "the as-of time is before the "
		    "store's first record (%s)", t);
	}
	return 0;
}

int
rollup_compute(struct rollup_db *db, const struct rollup_query *q,
    struct rollup **out, struct muster_err *e)
{
	struct rollup *r = NULL;
	struct ctx c;
	time_t now = q->now != 0 ? q->now : time(NULL);
	int rc, sc;

	*out = NULL;
	memset(&c, 0, sizeof c);
	c.rd = db->rd;
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
	c.at = r->as_of;
	c.past = r->past;
	/* One snapshot for every read of the answer. */
	if ((rc = store_read_begin(c.rd, e)) != 0 ||
	    (c.past && (rc = past_ok(&c, e)) != 0) ||
	    (rc = ctx_profiles(&c, e)) != 0)
		goto out;
	ctx_when(&c);
	for (sc = 0; sc < NSCOPES; sc++)
		r->stale_after[sc] = ROLLUP_STALE_FACTOR * c.interval[sc];
	rc = r->by == ROLLUP_BY_RULE ? compute_rules(&c, r, e) :
	    compute_status(&c, r, e);
	if (rc != 0)
		goto out;
	*out = r;
	r = NULL;
out:
	store_read_end(c.rd);
	ctx_free(&c);
	rollup_free(r);
	return rc;
}

int
rollup_intervals(struct rollup_db *db, time_t at, int past,
    int64_t interval[ROLLUP_NSCOPES], struct muster_err *e)
{
	struct ctx c;
	int rc, sc;

	memset(&c, 0, sizeof c);
	c.rd = db->rd;
	c.at = at;
	c.past = past;
	rc = ctx_profiles(&c, e);
	for (sc = 0; sc < NSCOPES; sc++)
		interval[sc] = c.interval[sc];
	ctx_free(&c);
	return rc;
}
