/* metrics_fleet: the device gauges, counted as the roll-up counts. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "muster/profile.h"
#include "muster/report.h"
#include "htab.h"
#include "metrics_fleet.h"
#include "rollup.h"
#include "store.h"

_Static_assert(METRICS_NSCOPES == ROLLUP_NSCOPES &&
    METRICS_NSTATES == ROLLUP_NSTATUS, "metrics and roll-up agree");

/* Family devices of one unit, by state and policy staleness. */
struct unit_fam {
	int64_t		n[METRICS_NSTATES];
	int64_t		policy_stale;
};

struct count {
	struct metrics_fleet	*out;
	struct htab		 units;		/* family units */
	struct unit_fam		*fam;		/* by unit index */
	size_t			 cap;
};

/* store_fleet_fn: one device into its cell. */
static int
count_device(void *cls, enum profile_scope scope, const char *unit,
    int state, unsigned stale)
{
	struct count *c = cls;
	struct unit_fam *nf;
	size_t u, cap;

	if (state < 0 || state >= METRICS_NSTATES)
		state = STORE_NEVER;
	if (scope != SCOPE_FAMILY) {
		c->out->n[SCOPE_PERSONNEL][state]++;
		if (stale & REPORT_STALE_POLICY)
			c->out->policy_stale[SCOPE_PERSONNEL]++;
		return 0;
	}
	if (htab_intern(&c->units, unit != NULL ? unit : "", &u, NULL) != 0)
		return -1;
	if (u >= c->cap) {
		cap = c->cap == 0 ? 64 : c->cap * 2;
		if ((nf = realloc(c->fam, cap * sizeof *nf)) == NULL)
			return -1;
		memset(nf + c->cap, 0, (cap - c->cap) * sizeof *nf);
		c->fam = nf;
		c->cap = cap;
	}
	c->fam[u].n[state]++;
	if (stale & REPORT_STALE_POLICY)
		c->fam[u].policy_stale++;
	return 0;
}

/*
 * The roll-up's k-anonymity rule on the family counts: a unit with fewer
 * than ROLLUP_K family devices is left out, then all of them when fewer
 * than ROLLUP_K remain.
 */
static void
count_family(struct count *c)
{
	struct metrics_fleet *o = c->out;
	int64_t unit_n, total = 0;
	size_t u;
	int st;

	for (u = 0; u < c->units.n; u++) {
		for (unit_n = 0, st = 0; st < METRICS_NSTATES; st++)
			unit_n += c->fam[u].n[st];
		if (unit_n < ROLLUP_K) {
			o->family_withheld = 1;
			continue;
		}
		for (st = 0; st < METRICS_NSTATES; st++)
			o->n[SCOPE_FAMILY][st] += c->fam[u].n[st];
		o->policy_stale[SCOPE_FAMILY] += c->fam[u].policy_stale;
		total += unit_n;
	}
	if (total > 0 && total < ROLLUP_K) {
		memset(o->n[SCOPE_FAMILY], 0, sizeof o->n[SCOPE_FAMILY]);
		o->policy_stale[SCOPE_FAMILY] = 0;
		o->family_withheld = 1;
	}
}

int
metrics_fleet_count(const char *data_dir, time_t now,
    struct metrics_fleet *out, struct muster_err *e)
{
	struct rollup_db *db = NULL;
	struct count c;
	int64_t interval[ROLLUP_NSCOPES], stale_before[ROLLUP_NSCOPES];
	uint64_t t0 = metrics_clock();
	int rc, sc;

	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	c.out = out;
	if ((rc = rollup_open(data_dir, &db, e)) != 0 ||
	    (rc = store_read_begin(db->rd, e)) != 0 ||
	    (rc = rollup_intervals(db, now, 0, interval, e)) != 0)
		goto out;
	for (sc = 0; sc < ROLLUP_NSCOPES; sc++)
		stale_before[sc] = (int64_t)now - ROLLUP_STALE_FACTOR *
		    interval[sc];
	rc = store_fleet_scan(db->rd, stale_before, count_device, &c, e);
	if (rc == -1)
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (rc != 0)
		goto out;
	count_family(&c);
	out->at = now;
	out->scan_ns = metrics_clock() - t0;
out:
	if (rc != 0)
		memset(out, 0, sizeof *out);
	if (db != NULL)
		store_read_end(db->rd);
	rollup_close(db);
	htab_free(&c.units);
	free(c.fam);
	return rc;
}

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct metrics_fleet cache;
static char *cache_dir;		/* NULL: nothing cached */

int
metrics_fleet_get(const char *data_dir, time_t now,
    struct metrics_fleet *out, struct muster_err *e)
{
	struct metrics_fleet fresh;
	int rc = 0;

	/* One counts; the others wait for that count rather than scan too. */
	pthread_mutex_lock(&cache_mu);
	if (cache_dir != NULL && strcmp(cache_dir, data_dir) == 0 &&
	    now >= cache.at && now - cache.at < METRICS_FLEET_TTL) {
		*out = cache;
		goto out;
	}
	if ((rc = metrics_fleet_count(data_dir, now, &fresh, e)) != 0)
		goto out;
	free(cache_dir);
	if ((cache_dir = strdup(data_dir)) != NULL)
		cache = fresh;
	*out = fresh;
out:
	pthread_mutex_unlock(&cache_mu);
	return rc;
}
