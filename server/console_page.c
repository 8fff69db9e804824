/*
 * console_page: the console's pages; see console_page.h, and
 * docs/console.md for what each shows.  Every figure comes from a
 * roll-up (rollup_compute, through a short cache) or a store read;
 * every string from a device or the store goes through html_text.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/rr.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "console.h"
#include "console_page.h"
#include "htab.h"
#include "proof.h"
#include "store.h"
#include "svg.h"
#include "trust.h"

#define DAY		86400
#define WEEK		(7 * DAY)
#define CACHE_SLOTS	16
#define CACHE_PAST_TTL	300	/* s: the past changes only by unenrollment */
#define TREND_SLOTS	64
#define TOP_UNITS	10

/* --- the roll-up cache ---------------------------------------------------- */

struct cache_slot {
	char		*dir;
	enum rollup_by	 by;
	time_t		 as_of;
	time_t		 at;		/* computed */
	struct rollup	*r;
	int		 refs;
	int		 dead;		/* replaced: freed at the last put */
};

static struct cache_slot cache[CACHE_SLOTS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static void
slot_clear(struct cache_slot *s)
{
	free(s->dir);
	rollup_free(s->r);
	memset(s, 0, sizeof *s);
}

static int
slot_fresh(const struct cache_slot *s, time_t now)
{
	time_t ttl = s->as_of == 0 ? CONSOLE_CACHE_TTL : CACHE_PAST_TTL;

	return now >= s->at && now - s->at < ttl;
}

int
console_rollup_get(struct console_ctx *c, enum rollup_by by,
    struct rollup **r, struct muster_err *e)
{
	struct rollup_query q = { by, c->as_of, c->now };
	struct cache_slot *free_slot = NULL;
	size_t i;
	int rc;

	*r = NULL;
	pthread_mutex_lock(&cache_mu);
	for (i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *s = &cache[i];

		if (s->r == NULL || s->dead || s->by != by ||
		    s->as_of != c->as_of || strcmp(s->dir, c->data_dir) != 0)
			continue;
		if (slot_fresh(s, c->now)) {
			s->refs++;
			*r = s->r;
			pthread_mutex_unlock(&cache_mu);
			return 0;
		}
		if (s->refs > 0)
			s->dead = 1;
		else
			slot_clear(s);
	}
	pthread_mutex_unlock(&cache_mu);
	/* Computed outside the lock: other pages go on meanwhile. */
	if ((rc = rollup_compute(c->db, &q, r, e)) != 0)
		return rc;
	pthread_mutex_lock(&cache_mu);
	for (i = 0; i < CACHE_SLOTS; i++) {
		struct cache_slot *s = &cache[i];

		if (s->r == NULL) {
			free_slot = s;
			break;
		}
		if (s->refs == 0 && (free_slot == NULL ||
		    s->at < free_slot->at))
			free_slot = s;
	}
	if (free_slot != NULL) {
		slot_clear(free_slot);
		if ((free_slot->dir = strdup(c->data_dir)) != NULL) {
			free_slot->by = by;
			free_slot->as_of = c->as_of;
			free_slot->at = c->now;
			free_slot->r = *r;
			free_slot->refs = 1;
		}
	}
	pthread_mutex_unlock(&cache_mu);
	return 0;
}

void
console_rollup_put(struct rollup *r)
{
	size_t i;

	if (r == NULL)
		return;
	pthread_mutex_lock(&cache_mu);
	for (i = 0; i < CACHE_SLOTS; i++) {
		if (cache[i].r != r)
			continue;
		if (--cache[i].refs == 0 && cache[i].dead)
			slot_clear(&cache[i]);
		pthread_mutex_unlock(&cache_mu);
		return;
	}
	pthread_mutex_unlock(&cache_mu);
	rollup_free(r);		/* never cached */
}

/* --- present-only summaries: a count, the units of a model --------------- */

#define MODEL_UNITS_MAX	50

struct model_unit {
	char	unit[TOKEN_FIELD_MAX];
	int64_t	devices, noncompliant;
};

struct sum_slot {
	char			*dir;
	time_t			 at;
	int64_t			 stale_policy;
	struct model_unit	 mu[MODEL_UNITS_MAX];
	size_t			 nmu;
};

static struct sum_slot sums[4];
static pthread_mutex_t sums_mu = PTHREAD_MUTEX_INITIALIZER;

static int
mu_add(void *arg, const char *unit, int64_t devices, int64_t noncompliant)
{
	struct sum_slot *s = arg;

	if (s->nmu == MODEL_UNITS_MAX)
		return 0;
	snprintf(s->mu[s->nmu].unit, sizeof s->mu[s->nmu].unit, "%s", unit);
	s->mu[s->nmu].devices = devices;
	s->mu[s->nmu].noncompliant = noncompliant;
	s->nmu++;
	return 0;
}

/*
 * The present's summaries of c's store into *out (a copy): from the
 * cache when fresh (CONSOLE_CACHE_TTL), else read (two bounded scans).
 */
static int
sums_get(struct console_ctx *c, struct sum_slot *out, struct muster_err *e)
{
	size_t i, victim = 0;
	int rc;

	pthread_mutex_lock(&sums_mu);
	for (i = 0; i < sizeof sums / sizeof sums[0]; i++) {
		if (sums[i].dir != NULL && strcmp(sums[i].dir, c->data_dir) ==
		    0 && c->now >= sums[i].at &&
		    c->now - sums[i].at < CONSOLE_CACHE_TTL) {
			*out = sums[i];
			out->dir = NULL;
			pthread_mutex_unlock(&sums_mu);
			return 0;
		}
	}
	pthread_mutex_unlock(&sums_mu);
	memset(out, 0, sizeof *out);
	if ((rc = store_count_stale_policy(c->db->rd, &out->stale_policy,
	    e)) != 0)
		return rc;
	/* The Redmi 1S reports itself as "HM 1S" or "HM 1SW". */
	if ((rc = store_model_units(c->db->rd, "HM 1S", MODEL_UNITS_MAX,
	    mu_add, out, e)) != 0)
		return rc;
	out->at = c->now;
	pthread_mutex_lock(&sums_mu);
	for (i = 0; i < sizeof sums / sizeof sums[0]; i++) {
		if (sums[i].dir == NULL) {
			victim = i;
			break;
		}
		if (sums[i].at < sums[victim].at)
			victim = i;
	}
	free(sums[victim].dir);
	sums[victim] = *out;
	sums[victim].dir = strdup(c->data_dir);
	pthread_mutex_unlock(&sums_mu);
	return 0;
}

/* --- the trend cache: one point per (store, day) -------------------------- */

struct trend_slot {
	char	*dir;
	time_t	 t;
	time_t	 at;
	double	 pct;
};

static struct trend_slot trend[TREND_SLOTS];
static pthread_mutex_t trend_mu = PTHREAD_MUTEX_INITIALIZER;

void
console_cache_free(void)
{
	size_t i;

	pthread_mutex_lock(&cache_mu);
	for (i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].refs == 0)
			slot_clear(&cache[i]);
	pthread_mutex_unlock(&cache_mu);
	pthread_mutex_lock(&trend_mu);
	for (i = 0; i < TREND_SLOTS; i++) {
		free(trend[i].dir);
		memset(&trend[i], 0, sizeof trend[i]);
	}
	pthread_mutex_unlock(&trend_mu);
	pthread_mutex_lock(&sums_mu);
	for (i = 0; i < sizeof sums / sizeof sums[0]; i++) {
		free(sums[i].dir);
		memset(&sums[i], 0, sizeof sums[i]);
	}
	pthread_mutex_unlock(&sums_mu);
}

static double
pct_of(int64_t part, int64_t whole)
{
	return whole > 0 ? 100.0 * (double)part / (double)whole : -1;
}

/* The cached share at t for dir: 1 and *pct, or 0 when not known yet. */
static int
trend_lookup(const char *dir, time_t t, time_t now, double *pct)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&trend_mu);
	for (i = 0; i < TREND_SLOTS && !found; i++)
		if (trend[i].dir != NULL && trend[i].t == t &&
		    strcmp(trend[i].dir, dir) == 0 && (t < now - WEEK ||
		    now - trend[i].at < CONSOLE_CACHE_TTL)) {
			*pct = trend[i].pct;
			found = 1;
		}
	pthread_mutex_unlock(&trend_mu);
	return found;
}

/*
 * The share compliant at t (past), from a roll-up by scope as of t, into
 * the cache; -1 where the store has no past there.  A point a week old
 * is history that no longer changes (docs/rollup.md): kept for good.
 */
static int
trend_compute(struct rollup_db *db, const char *dir, time_t t, time_t now,
    double *pct, struct muster_err *e)
{
	struct rollup_query q = { ROLLUP_BY_SCOPE, t, now };
	struct rollup *r = NULL;
	size_t i, victim = 0;
	int rc;

	rc = rollup_compute(db, &q, &r, e);
	if (rc == MUSTER_EDATA)
		*pct = -1;
	else if (rc != 0)
		return rc;
	else
		*pct = pct_of(r->total.n[ROLLUP_COMPLIANT], r->total.devices);
	rollup_free(r);
	pthread_mutex_lock(&trend_mu);
	for (i = 0; i < TREND_SLOTS; i++) {
		if (trend[i].dir == NULL) {
			victim = i;
			break;
		}
		if (trend[i].t < trend[victim].t)
			victim = i;
	}
	free(trend[victim].dir);
	trend[victim].dir = strdup(dir);
	trend[victim].t = t;
	trend[victim].at = now;
	trend[victim].pct = *pct;
	pthread_mutex_unlock(&trend_mu);
	return 0;
}

/* The points a filler thread computes (one at a time per process). */
struct trend_job {
	char	*dir;
	time_t	 now;
	time_t	 t[CONSOLE_TREND_POINTS];
	size_t	 n;
};

static int trend_filling;	/* under trend_mu */

static void *
trend_fill(void *arg)
{
	struct trend_job *j = arg;
	struct rollup_db *db = NULL;
	struct muster_err e;
	double pct;
	size_t i;

	if (rollup_open(j->dir, &db, &e) == 0)
		for (i = 0; i < j->n; i++)
			if (!trend_lookup(j->dir, j->t[i], j->now, &pct) &&
			    trend_compute(db, j->dir, j->t[i], j->now, &pct,
			    &e) != 0)
				break;
	rollup_close(db);
	pthread_mutex_lock(&trend_mu);
	trend_filling = 0;
	pthread_mutex_unlock(&trend_mu);
	free(j->dir);
	free(j);
	return NULL;
}

/*
 * Starts a thread that computes the n points t[] of dir's trend unless
 * one is at work already, so that no page waits for a dozen roll-ups of
 * the past at a million devices; 1 if one is at work now.
 */
static int
trend_start(const char *dir, const time_t *t, size_t n, time_t now)
{
	struct trend_job *j;
	pthread_attr_t attr;
	pthread_t tid;
	int busy;

	pthread_mutex_lock(&trend_mu);
	busy = trend_filling;
	trend_filling = 1;
	pthread_mutex_unlock(&trend_mu);
	if (busy)
		return 1;
	if ((j = calloc(1, sizeof *j)) == NULL ||
	    (j->dir = strdup(dir)) == NULL)
		goto fail;
	memcpy(j->t, t, n * sizeof *t);
	j->n = n;
	j->now = now;
	if (pthread_attr_init(&attr) != 0)
		goto fail;
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	busy = pthread_create(&tid, &attr, trend_fill, j);
	pthread_attr_destroy(&attr);
	if (busy == 0)
		return 1;
fail:
	if (j != NULL)
		free(j->dir);
	free(j);
	pthread_mutex_lock(&trend_mu);
	trend_filling = 0;
	pthread_mutex_unlock(&trend_mu);
	return 0;
}

/* --- page parts ----------------------------------------------------------- */

static const char *const nav[][2] = {
	{ "/console/", "Overview" },
	{ "/console/units", "Units" },
	{ "/console/rules", "Rules" },
	{ "/console/models", "Models" },
	{ "/console/devices", "Devices" },
	{ "/console/family", "Family" },
	{ "/console/profiles", "Profiles" },
};

static void
page_begin(struct html *h, const struct console_ctx *c, const char *title,
    const char *here)
{
	size_t i;

	html_markup(h, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">");
	if (c->csrf == NULL) {
		/* A file read anywhere: the same policy, in the file. */
		html_markup(h, "<meta http-equiv=\"Content-Security-Policy\" "
		    "content=\"default-src 'none'; style-src ");
		html_attr(h, console_csp());
		html_markup(h, "; img-src data:\">");
	}
	html_markup(h, "<link rel=\"icon\" href=\"data:,\"><title>");
	html_text(h, title);
	html_markup(h, " \xe2\x80\x94 Muster</title><style>");
	html_markup(h, console_css());
	html_markup(h, "</style></head><body><header><p class=\"brand\">"
	    "Muster</p>");
	if (c->csrf != NULL) {
		html_markup(h, "<nav aria-label=\"Console\"><ul>");
		for (i = 0; i < sizeof nav / sizeof nav[0]; i++) {
			html_markupf(h, "<li><a href=\"%s\"%s>%s</a></li>",
			    nav[i][0], strcmp(here, nav[i][0]) == 0 ?
			    " aria-current=\"page\"" : "", nav[i][1]);
		}
		html_markup(h, "</ul></nav><form class=\"signout\" "
		    "method=\"post\" action=\"/console/logout\">"
		    "<input type=\"hidden\" name=\"csrf\" value=\"");
		html_attr(h, c->csrf);
		html_markup(h, "\"><button type=\"submit\">Sign out</button>"
		    "</form>");
	}
	html_markup(h, "</header><main><h1>");
	html_text(h, title);
	html_markup(h, "</h1>");
}

/* "As of" with the time the figures are for. */
static void
as_of_line(struct html *h, time_t t, int past)
{
	char ts[TIMEFMT_LEN];

	timefmt_format(t, ts);
	html_markupf(h, "<p class=\"asof\">As of <time datetime=\"%s\">%s"
	    "</time>%s</p>", ts, ts, past ? " (from history)" : "");
}

/* The as-of form of a page (not in a standalone file). */
static void
as_of_form(struct html *h, const struct console_ctx *c, const char *action,
    const char *unit)
{
	char ts[TIMEFMT_LEN];

	if (c->csrf == NULL)
		return;
	html_markupf(h, "<form class=\"asof-form noprint\" method=\"get\" "
	    "action=\"%s\">", action);
	if (unit != NULL) {
		html_markup(h, "<input type=\"hidden\" name=\"u\" value=\"");
		html_attr(h, unit);
		html_markup(h, "\">");
	}
	html_markup(h, "<label for=\"as_of\">Show as of (UTC)</label> "
	    "<input id=\"as_of\" name=\"as_of\" "
	    "placeholder=\"YYYY-MM-DDTHH:MM:SSZ\" size=\"22\" value=\"");
	if (c->as_of != 0) {
		timefmt_format(c->as_of, ts);
		html_markup(h, ts);
	}
	html_markup(h, "\"> <button type=\"submit\">Show</button></form>");
}

/* Download links: /console/export?by=BY&format=csv|json[&as_of=]. */
static void
downloads(struct html *h, const struct console_ctx *c, const char *query)
{
	char ts[TIMEFMT_LEN];
	static const char *const fmts[] = { "csv", "json" };
	size_t i;

	if (c->csrf == NULL)
		return;
	html_markup(h, "<p class=\"dl noprint\">Download:");
	for (i = 0; i < 2; i++) {
		html_markup(h, " <a href=\"/console/export?");
		html_markup(h, query);
		html_markupf(h, "&amp;format=%s", fmts[i]);
		if (c->as_of != 0) {
			timefmt_format(c->as_of, ts);
			html_markup(h, "&amp;as_of=");
			html_query(h, ts);
		}
		html_markupf(h, "\" download>%s</a>", i == 0 ? "CSV" : "JSON");
	}
	html_markup(h, "</p>");
}

/* "&amp;as_of=T" for a link that keeps the page's past date, if any. */
static void
as_of_arg(struct html *h, const struct console_ctx *c)
{
	char ts[TIMEFMT_LEN];

	if (c->as_of == 0)
		return;
	timefmt_format(c->as_of, ts);
	html_markup(h, "&amp;as_of=");
	html_query(h, ts);
}

static void
page_end(struct html *h)
{
	html_markup(h, "</main></body></html>\n");
}

/* A count cell: the number, or "<5" when the group's are all withheld. */
static void
count_td(struct html *h, int64_t v, int hidden)
{
	if (hidden)
		html_markup(h, "<td class=\"num withheld\">&lt;5</td>");
	else
		html_markupf(h, "<td class=\"num\">%lld</td>", (long long)v);
}

/* A counts table's head, its first column headed first; opens the body. */
static void
counts_head(struct html *h, const char *first)
{
	html_markup(h, "<thead><tr><th scope=\"col\">");
	html_markup(h, first);
	html_markup(h, "</th><th scope=\"col\" class=\"num\">Devices</th>"
	    "<th scope=\"col\" class=\"num\">Compliant</th>"
	    "<th scope=\"col\" class=\"num\">Non-compliant</th>"
	    "<th scope=\"col\" class=\"num\">Stale</th>"
	    "<th scope=\"col\" class=\"num\">Never reported</th>"
	    "<th scope=\"col\" class=\"num\">Family</th>"
	    "<th scope=\"col\">Compliant share</th></tr></thead><tbody>");
}

/* The cells after the key: counts, family, the share as a bar. */
static void
counts_tds(struct html *h, const struct rollup_counts *c)
{
	int hidden = c->devices == 0 && c->family_withheld;
	double p = pct_of(c->n[ROLLUP_COMPLIANT], c->devices);
	int i;

	count_td(h, c->devices, hidden);
	for (i = 0; i < ROLLUP_NSTATUS; i++)
		count_td(h, c->n[i], hidden);
	if (c->family_withheld && c->family == 0)
		html_markup(h, "<td class=\"num withheld\">&lt;5</td>");
	else
		html_markupf(h, "<td class=\"num\">%lld%s</td>",
		    (long long)c->family, c->family_withheld ? "*" : "");
	if (p < 0)
		html_markup(h, "<td>\xe2\x80\x94</td>");
	else {
		html_markup(h, "<td class=\"share\">");
		svg_bar(h, p);
		html_markupf(h, " %.1f%%</td>", p);
	}
}

static void
withheld_note(struct html *h, int any)
{
	if (any)
		html_markupf(h, "<p class=\"note\">&lt;5 and *: family "
		    "devices left out, fewer than %d in their unit "
		    "(k-anonymity).</p>", ROLLUP_K);
}

/* Closes a counts table with total as its footer, then notes k. */
static void
counts_foot(struct html *h, const struct rollup_counts *total)
{
	html_markup(h, "</tbody><tfoot><tr><th scope=\"row\">Total</th>");
	counts_tds(h, total);
	html_markup(h, "</tr></tfoot></table>");
	withheld_note(h, total->family_withheld);
}

/*
 * A row of counts per group of r, the key badged "Redmi 1S" where redmi
 * (NULL: nowhere) says it is one.
 */
static void
group_rows(struct html *h, const struct rollup *r,
    int (*redmi)(const char *key))
{
	size_t g;

	for (g = 0; g < r->ngroups; g++) {
		html_markup(h, "<tr><th scope=\"row\">");
		html_text(h, r->groups[g].key);
		if (redmi != NULL && redmi(r->groups[g].key))
			html_markup(h, " <span class=\"badge\">Redmi 1S"
			    "</span>");
		html_markup(h, "</th>");
		counts_tds(h, &r->groups[g].c);
		html_markup(h, "</tr>");
	}
}

static void
countdown(struct html *h, time_t expires, time_t now)
{
	int64_t d = (int64_t)expires - (int64_t)now;
	int64_t a = d < 0 ? -d : d;
	char ts[TIMEFMT_LEN];

	timefmt_format(expires, ts);
	html_markupf(h, "<time datetime=\"%s\">%s</time> ", ts, ts);
	if (d < 0)
		html_markupf(h, "<strong class=\"bad\">expired %lld d %lld h "
		    "ago</strong>", (long long)(a / DAY),
		    (long long)(a % DAY / 3600));
	else
		html_markupf(h, "<span class=\"%s\">in %lld d %lld h</span>",
		    d < 2 * DAY ? "bad" : "ok", (long long)(a / DAY),
		    (long long)(a % DAY / 3600));
}

/* --- overview -------------------------------------------------------------- */

/*
 * The profile published for scope sc: its bytes in *bytes (NULL when
 * none is) and *len, parsed into *p (NULL when this server cannot read
 * them); both the caller's to free.  0, or the store's error.
 */
static int
scope_profile(struct console_ctx *c, int sc, char **bytes, size_t *len,
    struct profile **p, struct muster_err *e)
{
	struct muster_err pe;
	int rc;

	*p = NULL;
	if ((rc = store_read_profile(c->db->rd, (enum profile_scope)sc, NULL,
	    bytes, len, e)) != 0)
		return rc;
	if (*bytes != NULL)
		(void)profile_parse("profile", *bytes, *len, p, &pe);
	return 0;
}

/* Profiles (and manifests when the server's trust is at hand) in force. */
static int
policy_rows(struct html *h, struct console_ctx *c, int *expired,
    struct muster_err *e)
{
	struct profile *p = NULL;
	struct manifest m;
	char *bytes = NULL;
	size_t len = 0;
	int sc, rc = 0;

	*expired = 0;
	html_markup(h, "<table><caption>Policy in force</caption><thead><tr>"
	    "<th scope=\"col\">Scope</th><th scope=\"col\">Profile</th>"
	    "<th scope=\"col\" class=\"num\">Serial</th>"
	    "<th scope=\"col\">Profile expires</th>"
	    "<th scope=\"col\">Manifest</th></tr></thead><tbody>");
	for (sc = 0; sc < ROLLUP_NSCOPES; sc++) {
		html_markupf(h, "<tr><th scope=\"row\">%s</th>",
		    profile_scope_name((enum profile_scope)sc));
		if ((rc = scope_profile(c, sc, &bytes, &len, &p, e)) != 0)
			goto out;
		if (bytes == NULL)
			html_markup(h, "<td>none published</td><td></td>"
			    "<td></td>");
		else if (p == NULL)
			html_markup(h, "<td>(this server cannot read it)</td>"
			    "<td></td><td></td>");
		else {
			html_markup(h, "<td>");
			html_text(h, p->id);
			if (p->title != NULL) {
				html_markup(h, " \xe2\x80\x94 ");
				html_text(h, p->title);
			}
			html_markupf(h, "</td><td class=\"num\">%lld</td><td>",
			    (long long)p->serial);
			countdown(h, p->expires, c->now);
			if (p->expires < c->now)
				(*expired)++;
			html_markup(h, "</td>");
		}
		html_markup(h, "<td>");
		if (c->trust == NULL)
			html_markup(h, "\xe2\x80\x94");
		else if (trust_manifest(c->trust, (enum profile_scope)sc, &m,
		    NULL, NULL) != 1)
			html_markup(h, "none");
		else {
			html_markupf(h, "version %lld, %zu profile%s, expires ",
			    (long long)m.version, m.nprofiles,
			    m.nprofiles == 1 ? "" : "s");
			countdown(h, m.expires, c->now);
			if (m.expires < c->now)
				(*expired)++;
		}
		html_markup(h, "</td></tr>");
		profile_free(p);
		p = NULL;
		free(bytes);
		bytes = NULL;
	}
	html_markup(h, "</tbody></table>");
out:
	profile_free(p);
	free(bytes);
	return rc;
}

int
console_page_overview(struct html *h, struct console_ctx *c,
    struct muster_err *e)
{
	struct svg_point pts[CONSOLE_TREND_POINTS];
	time_t want[CONSOLE_TREND_POINTS];
	struct rollup *r = NULL;
	time_t ref, day;
	size_t i, missing = 0;
	int rc, expired = 0;

	if ((rc = console_rollup_get(c, ROLLUP_BY_SCOPE, &r, e)) != 0)
		goto out;
	page_begin(h, c, "Compliance overview", "/console/");
	as_of_line(h, r->as_of, r->past);
	as_of_form(h, c, "/console/", NULL);
	html_markupf(h, "<section aria-labelledby=\"s-fleet\"><h2 "
	    "id=\"s-fleet\">Fleet</h2><ul class=\"facts\">"
	    "<li><strong id=\"f-devices\">%lld</strong> devices counted</li>"
	    "<li><strong id=\"f-compliant\">%lld</strong> compliant</li>"
	    "<li><strong id=\"f-noncompliant\">%lld</strong> "
	    "non-compliant</li>"
	    "<li><strong id=\"f-stale\">%lld</strong> stale (no report for "
	    "%lld s)</li>"
	    "<li><strong id=\"f-never\">%lld</strong> never reported</li>"
	    "</ul>", (long long)r->total.devices,
	    (long long)r->total.n[ROLLUP_COMPLIANT],
	    (long long)r->total.n[ROLLUP_NONCOMPLIANT],
	    (long long)r->total.n[ROLLUP_STALE],
	    (long long)r->stale_after[0],
	    (long long)r->total.n[ROLLUP_NEVER]);
	html_markup(h, "<table id=\"t-scope\"><caption>Compliance by scope"
	    "</caption>");
	counts_head(h, "Scope");
	group_rows(h, r, NULL);
	counts_foot(h, &r->total);
	downloads(h, c, "by=scope");
	html_markup(h, "</section><section aria-labelledby=\"s-policy\">"
	    "<h2 id=\"s-policy\">Policy</h2>");
	if ((rc = policy_rows(h, c, &expired, e)) != 0)
		goto out;
	html_markupf(h, "<p>Policy stale: <strong id=\"f-policy-stale\">%d"
	    "</strong> profile%s or manifest%s past expiry", expired,
	    expired == 1 ? "" : "s", expired == 1 ? "" : "s");
	if (c->as_of == 0) {
		struct sum_slot sm;

		if ((rc = sums_get(c, &sm, e)) != 0)
			goto out;
		html_markupf(h, "; <strong id=\"f-devices-policy-stale\">%lld"
		    "</strong> personnel device%s whose newest report says "
		    "its manifest expired (it keeps enforcing it)",
		    (long long)sm.stale_policy, sm.stale_policy == 1 ? "" :
		    "s");
		if (c->csrf != NULL && sm.stale_policy > 0)
			html_markup(h, " \xe2\x80\x94 listed as <em>stale: "
			    "policy</em> under <a href=\"/console/devices\">"
			    "Devices</a>");
	}
	html_markup(h, ".</p></section>");
	/* The trend: weekly points over the last 90 days, at midnight UTC. */
	ref = c->as_of != 0 ? c->as_of : c->now;
	day = ref - ref % DAY;
	/* Past points a week old or more: history that no longer changes,
	 * cached for good; only the present is computed again.  A served
	 * page takes what is cached and has the rest computed behind it. */
	for (i = 0; i + 1 < CONSOLE_TREND_POINTS; i++) {
		pts[i].t = day - (time_t)(CONSOLE_TREND_POINTS - 1 - i) * WEEK;
		want[i] = pts[i].t;
		if (trend_lookup(c->data_dir, pts[i].t, c->now, &pts[i].pct))
			continue;
		if (c->csrf == NULL) {
			if ((rc = trend_compute(c->db, c->data_dir, pts[i].t,
			    c->now, &pts[i].pct, e)) != 0)
				goto out;
			continue;
		}
		pts[i].pct = -1;
		missing++;
	}
	if (missing > 0)
		(void)trend_start(c->data_dir, want, i, c->now);
	pts[i].t = r->as_of;
	pts[i].pct = pct_of(r->total.n[ROLLUP_COMPLIANT], r->total.devices);
	html_markup(h, "<section aria-labelledby=\"s-trend\"><h2 "
	    "id=\"s-trend\">Compliant share, last 90 days</h2>"
	    "<figure>");
	(void)svg_trend(h, "Share of counted devices compliant, weekly over "
	    "the last 90 days", pts, CONSOLE_TREND_POINTS);
	html_markup(h, "<figcaption>Weekly, from the stored history "
	    "(as report --as-of answers); gaps: no record yet.");
	if (missing > 0)
		html_markupf(h, "  <strong id=\"trend-pending\">%zu past "
		    "point%s still being read from history: reload in a "
		    "moment.</strong>", missing, missing == 1 ? "" : "s");
	html_markup(h, "</figcaption></figure></section>");
	page_end(h);
out:
	console_rollup_put(r);
	return rc;
}

/* --- units ------------------------------------------------------------- */

struct unit_node {
	struct rollup_counts	c;
	int			has_children;
};

int
console_page_units(struct html *h, struct console_ctx *c,
    const struct console_params *p, struct muster_err *e)
{
	struct rollup *r = NULL;
	struct htab t;
	struct unit_node *nodes = NULL, *nn;
	struct rollup_counts self, sum;
	size_t g, idx, cap = 0, plen, i, first;
	const char *top = p->unit, *rel, *sl;
	char name[TOKEN_FIELD_MAX], path[2 * TOKEN_FIELD_MAX];
	int rc, added, has_self = 0;

	memset(&t, 0, sizeof t);
	memset(&self, 0, sizeof self);
	memset(&sum, 0, sizeof sum);
	if ((rc = console_rollup_get(c, ROLLUP_BY_UNIT, &r, e)) != 0)
		goto out;
	plen = top != NULL ? strlen(top) : 0;
	for (g = 0; g < r->ngroups; g++) {
		const char *key = r->groups[g].key;

		if (top != NULL && !token_unit_within(key, top))
			continue;
		rollup_counts_add(&sum, &r->groups[g].c);
		if (top != NULL && key[plen] == '\0') {
			rollup_counts_add(&self, &r->groups[g].c);
			has_self = 1;
			continue;
		}
		rel = top != NULL ? key + plen + 1 : key;
		sl = strchr(rel, '/');
		snprintf(name, sizeof name, "%.*s", (int)(sl != NULL ?
		    (size_t)(sl - rel) : strlen(rel)), rel);
		if (htab_intern(&t, name, &idx, &added) != 0) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		if (idx >= cap) {
			size_t ncap = cap == 0 ? 64 : cap * 2;

			if ((nn = realloc(nodes, ncap * sizeof *nn)) == NULL) {
				rc = err_set(e, MUSTER_EINTERNAL,
				    "out of memory");
				goto out;
			}
			memset(nn + cap, 0, (ncap - cap) * sizeof *nn);
			nodes = nn;
			cap = ncap;
		}
		rollup_counts_add(&nodes[idx].c, &r->groups[g].c);
		if (sl != NULL)
			nodes[idx].has_children = 1;
	}
	page_begin(h, c, top != NULL ? top : "Units", "/console/units");
	as_of_line(h, r->as_of, r->past);
	/* Where we are: every level a link up. */
	html_markup(h, "<nav class=\"crumbs\" aria-label=\"Unit path\"><ol>"
	    "<li><a href=\"/console/units?u=");
	as_of_arg(h, c);
	html_markup(h, "\">All units</a></li>");
	for (i = 0; top != NULL && i <= plen; i++) {
		if (top[i] != '/' && top[i] != '\0')
			continue;
		snprintf(path, sizeof path, "%.*s", (int)i, top);
		sl = strrchr(path, '/');
		html_markup(h, "<li><a href=\"/console/units?u=");
		html_query(h, path);
		as_of_arg(h, c);
		html_markup(h, "\"");
		if (top[i] == '\0')
			html_markup(h, " aria-current=\"page\"");
		html_markup(h, ">");
		html_text(h, sl != NULL ? sl + 1 : path);
		html_markup(h, "</a></li>");
	}
	html_markup(h, "</ol></nav>");
	as_of_form(h, c, "/console/units", top);
	html_markup(h, "<table id=\"t-units\"><caption>Each row rolls up "
	    "every unit below it</caption>");
	counts_head(h, "Unit");
	if (has_self) {
		html_markup(h, "<tr><th scope=\"row\">(devices of ");
		html_text(h, top);
		html_markup(h, " itself)</th>");
		counts_tds(h, &self);
		html_markup(h, "</tr>");
	}
	first = (size_t)p->page * CONSOLE_UNIT_ROWS;
	for (idx = first; idx < t.n && idx < first + CONSOLE_UNIT_ROWS;
	    idx++) {
		snprintf(path, sizeof path, "%s%s%s", top != NULL ? top : "",
		    top != NULL ? "/" : "", t.keys[idx]);
		html_markup(h, "<tr><th scope=\"row\">");
		if (nodes[idx].has_children) {
			html_markup(h, "<a class=\"drill\" href=\"/console/"
			    "units?u=");
			html_query(h, path);
			as_of_arg(h, c);
			html_markup(h, "\">");
			html_text(h, t.keys[idx]);
			html_markup(h, "</a>");
		} else
			html_text(h, t.keys[idx]);
		if (c->csrf != NULL) {
			html_markup(h, " <a class=\"small\" href=\"/console/"
			    "devices?unit=");
			html_query(h, path);
			html_markup(h, "\">devices</a>");
		}
		html_markup(h, "</th>");
		counts_tds(h, &nodes[idx].c);
		html_markup(h, "</tr>");
	}
	counts_foot(h, top != NULL ? &sum : &r->total);
	/* A level with many units: a page of them at a time. */
	if (t.n > CONSOLE_UNIT_ROWS) {
		html_markupf(h, "<p>Units %zu to %zu of %zu.</p><nav "
		    "class=\"pages noprint\" aria-label=\"Pages\">",
		    first < t.n ? first + 1 : t.n, idx, t.n);
		if (p->page > 0) {
			html_markupf(h, "<a rel=\"prev\" href=\"/console/"
			    "units?page=%ld&amp;u=", p->page - 1);
			html_query(h, top);
			as_of_arg(h, c);
			html_markup(h, "\">Previous</a> ");
		}
		if (idx < t.n) {
			html_markupf(h, "<a rel=\"next\" href=\"/console/"
			    "units?page=%ld&amp;u=", p->page + 1);
			html_query(h, top);
			as_of_arg(h, c);
			html_markup(h, "\">Next</a>");
		}
		html_markup(h, "</nav>");
	}
	downloads(h, c, "by=unit");
	page_end(h);
out:
	free(nodes);
	htab_free(&t);
	console_rollup_put(r);
	return rc;
}

/* --- rules ------------------------------------------------------------- */

static int
cmp_noncompliant(const void *a, const void *b)
{
	const struct rollup_group *x = *(const struct rollup_group *const *)a;
	const struct rollup_group *y = *(const struct rollup_group *const *)b;
	int64_t d = y->c.n[ROLLUP_NONCOMPLIANT] - x->c.n[ROLLUP_NONCOMPLIANT];

	return d > 0 ? 1 : d < 0 ? -1 : strcmp(x->key, y->key);
}

int
console_page_rules(struct html *h, struct console_ctx *c,
    struct muster_err *e)
{
	static const char *const sevs[] = { "critical", "high", "medium",
	    "low", "" };
	struct rollup *r = NULL, *u = NULL;
	const struct rollup_group **top = NULL;
	int64_t nrules[5] = { 0 }, failing[5] = { 0 };
	size_t k, s, n;
	int rc;

	if ((rc = console_rollup_get(c, ROLLUP_BY_RULE, &r, e)) != 0 ||
	    (rc = console_rollup_get(c, ROLLUP_BY_UNIT, &u, e)) != 0)
		goto out;
	page_begin(h, c, "Rules", "/console/rules");
	as_of_line(h, r->as_of, r->past);
	as_of_form(h, c, "/console/rules", NULL);
	for (k = 0; k < r->nrules; k++)
		for (s = 0; s < 5; s++)
			if (strcmp(r->rules[k].severity, sevs[s]) == 0) {
				nrules[s]++;
				failing[s] += r->rules[k].failing;
				break;
			}
	html_markup(h, "<table id=\"t-severity\"><caption>Failing by "
	    "severity (a device failing two rules counts twice)</caption>"
	    "<thead><tr><th scope=\"col\">Severity</th><th scope=\"col\" "
	    "class=\"num\">Rules</th><th scope=\"col\" class=\"num\">"
	    "Failing</th></tr></thead><tbody>");
	for (s = 0; s < 5; s++)
		if (nrules[s] > 0)
			html_markupf(h, "<tr><th scope=\"row\">%s</th><td "
			    "class=\"num\">%lld</td><td class=\"num\">%lld"
			    "</td></tr>", s < 4 ? sevs[s] : "(none in force)",
			    (long long)nrules[s], (long long)failing[s]);
	html_markup(h, "</tbody></table>");
	html_markup(h, "<table id=\"t-rules\"><caption>Every rule in force "
	    "or failing</caption><thead><tr><th scope=\"col\">Rule</th>"
	    "<th scope=\"col\">Severity</th><th scope=\"col\">Scopes</th>"
	    "<th scope=\"col\" class=\"num\">Devices</th><th scope=\"col\" "
	    "class=\"num\">Failing</th><th scope=\"col\">Failing share</th>"
	    "<th scope=\"col\">Title</th></tr></thead><tbody>");
	for (k = 0; k < r->nrules; k++) {
		const struct rollup_rule *ru = &r->rules[k];
		double p = pct_of(ru->failing, ru->devices);

		html_markup(h, "<tr><th scope=\"row\">");
		html_text(h, ru->id);
		html_markup(h, "</th><td>");
		html_text(h, ru->severity);
		html_markupf(h, "</td><td>%s%s%s</td><td class=\"num\">%lld"
		    "</td><td class=\"num\">%lld</td><td class=\"share\">",
		    ru->scopes & (1u << SCOPE_PERSONNEL) ? "personnel" : "",
		    ru->scopes == 3 ? " " : "",
		    ru->scopes & (1u << SCOPE_FAMILY) ? "family" : "",
		    (long long)ru->devices, (long long)ru->failing);
		if (p >= 0) {
			svg_bar(h, p);
			html_markupf(h, " %.1f%%", p);
		}
		html_markup(h, "</td><td>");
		html_text(h, ru->title);
		html_markup(h, "</td></tr>");
	}
	html_markupf(h, "</tbody><tfoot><tr><th scope=\"row\">Total</th>"
	    "<td></td><td></td><td class=\"num\">%lld</td><td class=\"num\">"
	    "%lld</td><td colspan=\"2\">devices failing one rule or more"
	    "</td></tr></tfoot></table>", (long long)r->total.devices,
	    (long long)r->failing_any);
	downloads(h, c, "by=rule");
	/* The units with the most non-compliant devices. */
	n = u->ngroups;
	if (n > 0 && (top = calloc(n, sizeof *top)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	for (k = 0; k < n; k++)
		top[k] = &u->groups[k];
	if (n > 0)
		qsort(top, n, sizeof *top, cmp_noncompliant);
	html_markup(h, "<table id=\"t-worst\"><caption>Units with the most "
	    "non-compliant devices</caption><thead><tr><th scope=\"col\">"
	    "Unit</th><th scope=\"col\" class=\"num\">Non-compliant</th>"
	    "<th scope=\"col\" class=\"num\">Devices</th></tr></thead>"
	    "<tbody>");
	for (k = 0; k < n && k < TOP_UNITS; k++) {
		if (top[k]->c.n[ROLLUP_NONCOMPLIANT] == 0)
			break;
		html_markup(h, "<tr><th scope=\"row\">");
		if (c->csrf != NULL) {
			html_markup(h, "<a href=\"/console/devices?status="
			    "noncompliant&amp;unit=");
			html_query(h, top[k]->key);
			html_markup(h, "\">");
		}
		html_text(h, top[k]->key);
		if (c->csrf != NULL)
			html_markup(h, "</a>");
		html_markupf(h, "</th><td class=\"num\">%lld</td><td "
		    "class=\"num\">%lld</td></tr>",
		    (long long)top[k]->c.n[ROLLUP_NONCOMPLIANT],
		    (long long)top[k]->c.devices);
	}
	html_markup(h, "</tbody></table>");
	page_end(h);
out:
	free(top);
	console_rollup_put(u);
	console_rollup_put(r);
	return rc;
}

/* --- models ------------------------------------------------------------ */

/* The Redmi 1S as it reports itself ("HM 1S", "HM 1SW"; sums_get too). */
static int
is_redmi_1s(const char *model)
{
	return strstr(model, "HM 1S") != NULL;
}

int
console_page_models(struct html *h, struct console_ctx *c,
    struct muster_err *e)
{
	struct rollup *r = NULL;
	struct rollup_counts redmi;
	size_t g;
	int rc;

	memset(&redmi, 0, sizeof redmi);
	if ((rc = console_rollup_get(c, ROLLUP_BY_MODEL, &r, e)) != 0)
		goto out;
	for (g = 0; g < r->ngroups; g++)
		if (is_redmi_1s(r->groups[g].key))
			rollup_counts_add(&redmi, &r->groups[g].c);
	page_begin(h, c, "Models", "/console/models");
	as_of_line(h, r->as_of, r->past);
	as_of_form(h, c, "/console/models", NULL);
	html_markupf(h, "<p class=\"callout\">Redmi 1S still in service: "
	    "<strong id=\"f-redmi\">%lld</strong> device%s, %lld "
	    "non-compliant.</p>", (long long)redmi.devices,
	    redmi.devices == 1 ? "" : "s",
	    (long long)redmi.n[ROLLUP_NONCOMPLIANT]);
	if (c->as_of == 0) {
		struct sum_slot sm;
		size_t k;

		if ((rc = sums_get(c, &sm, e)) != 0)
			goto out;
		html_markup(h, "<table id=\"t-redmi-units\"><caption>Redmi 1S "
		    "still in service, by unit (personnel; the units with the "
		    "most first)</caption><thead><tr><th scope=\"col\">Unit"
		    "</th><th scope=\"col\" class=\"num\">Redmi 1S</th><th "
		    "scope=\"col\" class=\"num\">Reported non-compliant</th>"
		    "</tr></thead><tbody>");
		for (k = 0; k < sm.nmu; k++) {
			html_markup(h, "<tr><th scope=\"row\">");
			if (c->csrf != NULL) {
				html_markup(h, "<a href=\"/console/devices?"
				    "unit=");
				html_query(h, sm.mu[k].unit);
				html_markup(h, "\">");
			}
			html_text(h, sm.mu[k].unit);
			if (c->csrf != NULL)
				html_markup(h, "</a>");
			html_markupf(h, "</th><td class=\"num\">%lld</td><td "
			    "class=\"num\">%lld</td></tr>",
			    (long long)sm.mu[k].devices,
			    (long long)sm.mu[k].noncompliant);
		}
		html_markup(h, "</tbody></table>");
		if (sm.nmu == MODEL_UNITS_MAX)
			html_markupf(h, "<p class=\"note\">The %d units with "
			    "the most; the device list has them all.</p>",
			    MODEL_UNITS_MAX);
	}
	html_markup(h, "<table id=\"t-models\"><caption>Devices by model, as "
	    "each device reported it at enrollment</caption>");
	counts_head(h, "Model");
	group_rows(h, r, is_redmi_1s);
	counts_foot(h, &r->total);
	downloads(h, c, "by=model");
	page_end(h);
out:
	console_rollup_put(r);
	return rc;
}

/* --- devices ------------------------------------------------------------ */

static void
stale_words(struct html *h, unsigned stale)
{
	if (stale == 0)
		return;
	html_markupf(h, " <span class=\"bad\">(stale:%s%s%s)</span>",
	    stale & REPORT_STALE_TRUST ? " " PROTO_STALE_TRUST : "",
	    stale & REPORT_STALE_POLICY ? " " PROTO_STALE_POLICY : "",
	    stale & REPORT_STALE_CONSENT ? " " PROTO_STALE_CONSENT : "");
}

int
console_page_devices(struct html *h, struct console_ctx *c,
    const struct console_params *p, struct muster_err *e)
{
	struct store_cursor *cur = NULL;
	struct store_devq sq;
	struct store_row row;
	int64_t interval[ROLLUP_NSCOPES], shown = 0;
	char ts[TIMEFMT_LEN];
	int rc, sc, more = 0, st;

	if ((rc = store_read_begin(c->db->rd, e)) != 0 ||
	    (rc = rollup_intervals(c->db, c->now, 0, interval, e)) != 0)
		goto out;
	sq.unit = p->unit;
	sq.state = p->status;
	for (sc = 0; sc < ROLLUP_NSCOPES; sc++)
		sq.stale_before[sc] = (int64_t)c->now - ROLLUP_STALE_FACTOR *
		    interval[sc];
	/* One row past the page says whether there is a next one. */
	if ((rc = store_devices_page(c->db->rd, &sq, (int64_t)p->page *
	    CONSOLE_PAGE_ROWS, CONSOLE_PAGE_ROWS + 1, &cur, e)) != 0)
		goto out;
	page_begin(h, c, "Personnel devices", "/console/devices");
	as_of_line(h, c->now, 0);
	html_markup(h, "<form class=\"filter noprint\" method=\"get\" "
	    "action=\"/console/devices\"><label for=\"unit\">Unit (and "
	    "below)</label> <input id=\"unit\" name=\"unit\" size=\"24\" "
	    "value=\"");
	html_attr(h, p->unit);
	html_markup(h, "\"> <label for=\"status\">Status</label> <select "
	    "id=\"status\" name=\"status\"><option value=\"\">any</option>");
	for (st = 0; st < ROLLUP_NSTATUS; st++)
		html_markupf(h, "<option%s>%s</option>", st == p->status ?
		    " selected" : "", rollup_status_name(st));
	html_markup(h, "</select> <button type=\"submit\">Filter</button>"
	    "</form><p class=\"noprint\">Follow up: <a href=\"/console/"
	    "devices?status=noncompliant\">non-compliant</a>, <a href=\""
	    "/console/devices?status=stale\">stale</a>, <a href=\"/console/"
	    "devices?status=never\">never reported</a>.  Family devices are "
	    "never listed one by one.</p>");
	html_markup(h, "<table id=\"t-devices\"><caption>Personnel devices, "
	    "by unit and person</caption><thead><tr><th scope=\"col\">Device"
	    "</th><th scope=\"col\">Unit</th><th scope=\"col\">Person</th>"
	    "<th scope=\"col\">Model</th><th scope=\"col\">Last report</th>"
	    "<th scope=\"col\">Status</th><th scope=\"col\">Failing</th>"
	    "</tr></thead><tbody>");
	while ((rc = store_cursor_next(cur, &row, e)) > 0) {
		if (shown == CONSOLE_PAGE_ROWS) {
			more = 1;
			break;
		}
		shown++;
		html_markup(h, "<tr><td class=\"id\"><a href=\"/console/"
		    "device?id=");
		html_query(h, row.id);
		html_markup(h, "\">");
		html_text(h, row.id);
		html_markup(h, "</a></td><td>");
		html_text(h, row.unit);
		html_markup(h, "</td><td>");
		html_text(h, row.person);
		html_markup(h, "</td><td class=\"model\">");
		html_text(h, row.model[0] != '\0' ? row.model : "unknown");
		html_markup(h, "</td><td>");
		if (row.has_last) {
			timefmt_format(row.last, ts);
			html_markup(h, ts);
		} else
			html_markup(h, "never");
		html_markupf(h, "</td><td class=\"st-%s\">%s",
		    rollup_status_name(row.state >= 0 && row.state <
		    ROLLUP_NSTATUS ? row.state : ROLLUP_NEVER),
		    rollup_status_name(row.state >= 0 && row.state <
		    ROLLUP_NSTATUS ? row.state : ROLLUP_NEVER));
		stale_words(h, row.stale);
		html_markup(h, "</td><td>");
		html_text(h, row.failing);
		html_markup(h, "</td></tr>");
	}
	if (rc < 0)
		goto out;
	rc = 0;
	html_markupf(h, "</tbody></table><p>Devices %lld to %lld.</p>",
	    (long long)(p->page * CONSOLE_PAGE_ROWS + (shown > 0)),
	    (long long)(p->page * CONSOLE_PAGE_ROWS + shown));
	html_markup(h, "<nav class=\"pages noprint\" aria-label=\"Pages\">");
	if (p->page > 0 || more) {
		if (p->page > 0) {
			html_markupf(h, "<a rel=\"prev\" href=\"/console/"
			    "devices?page=%ld&amp;status=%s&amp;unit=",
			    p->page - 1, p->status >= 0 ?
			    rollup_status_name(p->status) : "");
			html_query(h, p->unit);
			html_markup(h, "\">Previous</a> ");
		}
		if (more) {
			html_markupf(h, "<a rel=\"next\" href=\"/console/"
			    "devices?page=%ld&amp;status=%s&amp;unit=",
			    p->page + 1, p->status >= 0 ?
			    rollup_status_name(p->status) : "");
			html_query(h, p->unit);
			html_markup(h, "\">Next</a>");
		}
	}
	html_markup(h, "</nav>");
	if (c->csrf != NULL) {
		html_markupf(h, "<p class=\"dl noprint\">Download the whole "
		    "list: <a download href=\"/console/export?what=devices&amp;"
		    "format=csv&amp;status=%s&amp;unit=", p->status >= 0 ?
		    rollup_status_name(p->status) : "");
		html_query(h, p->unit);
		html_markupf(h, "\">CSV</a> <a download href=\"/console/"
		    "export?what=devices&amp;format=json&amp;status=%s&amp;"
		    "unit=", p->status >= 0 ? rollup_status_name(p->status) :
		    "");
		html_query(h, p->unit);
		html_markup(h, "\">JSON</a></p>");
	}
	page_end(h);
out:
	store_cursor_close(cur);
	store_read_end(c->db->rd);
	return rc;
}

/* --- one device's history -------------------------------------------------- */

struct hist_arg {
	struct html		*h;
	const char		*id;
	const unsigned char	*pk;
	size_t			 n;
};

/* The class a check is shown with (the style sheet's). */
static const char *
check_class(enum proof_check c)
{
	return c == PROOF_VERIFIED ? "ok" : c == PROOF_NOT_KEPT ? "withheld" :
	    "bad";
}

static int
hist_row(void *arg, const struct store_history_row *row)
{
	struct hist_arg *a = arg;
	struct html *h = a->h;
	char ts[TIMEFMT_LEN], rs[TIMEFMT_LEN], *body;
	char b64[sodium_base64_ENCODED_LEN(STORE_SIG_LEN,
	    sodium_base64_VARIANT_ORIGINAL)];
	enum proof_check c;
	size_t i;

	timefmt_format(row->time, ts);
	timefmt_format(row->received, rs);
	html_markupf(h, "<li><p><time datetime=\"%s\">%s</time>: <strong "
	    "class=\"st-%s\">%s</strong> (report %lld, received %s)</p>", ts,
	    ts, row->compliant ? "compliant" : "noncompliant",
	    row->compliant ? "compliant" : "non-compliant",
	    (long long)row->seq, rs);
	if (!row->has_report) {
		html_markup(h, "<p>The report is no longer stored.</p></li>");
		a->n++;
		return 0;
	}
	/* Checked here, as it is shown: the signature over these bytes. */
	c = proof_check_bytes(a->pk, a->id, row->seq, row->compliant,
	    row->hash, row->body, row->len, row->sig);
	html_markupf(h, "<p class=\"check\">Signature: <strong class=\"%s "
	    "check-%s\">", check_class(c), proof_check_name(c));
	html_text(h, proof_check_text(c));
	html_markup(h, "</strong></p><dl class=\"proof\"><dt>Seq</dt><dd>");
	html_markupf(h, "%lld</dd><dt>Time</dt><dd>%s</dd><dt>BLAKE2b-256"
	    "</dt><dd><code>", (long long)row->seq, ts);
	if (row->hash != NULL)
		for (i = 0; i < STORE_HASH_LEN; i++)
			html_markupf(h, "%02x", row->hash[i]);
	html_markup(h, "</code></dd><dt>Signature (Ed25519)</dt><dd>");
	if (row->sig != NULL) {
		sodium_bin2base64(b64, sizeof b64, row->sig, STORE_SIG_LEN,
		    sodium_base64_VARIANT_ORIGINAL);
		html_markup(h, "<code>");
		html_text(h, b64);
		html_markup(h, "</code>");
	} else
		html_markup(h, "not kept");
	html_markup(h, "</dd></dl><p class=\"noprint\"><a download "
	    "href=\"/console/proof?id=");
	html_query(h, a->id);
	html_markupf(h, "&amp;seq=%lld\">Download the proof</a> (the signed "
	    "body, the signature and the device&#8217;s public key, as "
	    "JSON)</p>", (long long)row->seq);
	html_markup(h, "<details><summary>The signed report</summary><pre>");
	/* The exact bytes, shown as text: a copy to end them with a NUL. */
	if ((body = malloc(row->len + 1)) == NULL)
		return -1;
	memcpy(body, row->body, row->len);
	body[row->len] = '\0';
	html_text(h, body);
	free(body);
	html_markup(h, "</pre></details></li>");
	a->n++;
	return 0;
}

static int
id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == DEVICE_ID_HEX - 1;
}

int
console_page_device(struct html *h, struct console_ctx *c,
    const struct console_params *p, struct muster_err *e)
{
	struct store_device_info d;
	struct hist_arg a = { h, NULL, NULL, 0 };
	char ts[TIMEFMT_LEN];
	int rc;

	if (p->id == NULL || !id_ok(p->id))
		return err_set(e, MUSTER_ENOINPUT, "no such device");
	if ((rc = store_read_begin(c->db->rd, e)) != 0 ||
	    (rc = store_read_device(c->db->rd, p->id, &d, e)) != 0)
		goto out;
	if (d.scope != SCOPE_PERSONNEL || d.revoked) {
		/* Family devices are never shown one by one. */
		rc = err_set(e, MUSTER_ENOINPUT, "no such device");
		goto out;
	}
	a.id = p->id;
	a.pk = d.pk;
	page_begin(h, c, "Device history", "/console/devices");
	as_of_line(h, c->now, 0);
	timefmt_format(d.enrolled, ts);
	html_markup(h, "<dl class=\"device\"><dt>Device</dt><dd><code>");
	html_text(h, p->id);
	html_markup(h, "</code></dd><dt>Unit</dt><dd>");
	html_text(h, d.unit);
	html_markup(h, "</dd><dt>Person</dt><dd>");
	html_text(h, d.person);
	html_markup(h, "</dd><dt>Model</dt><dd class=\"model\">");
	html_text(h, d.model[0] != '\0' ? d.model : "unknown");
	html_markupf(h, "</dd><dt>Enrolled</dt><dd>%s</dd></dl>", ts);
	html_markup(h, "<h2>Status changes, newest first</h2><ol "
	    "class=\"timeline\">");
	if ((rc = store_device_history(c->db->rd, p->id, CONSOLE_HISTORY_MAX,
	    hist_row, &a, e)) != 0) {
		if (rc == -1)
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	html_markup(h, "</ol>");
	if (a.n == 0)
		html_markup(h, "<p>No report yet.</p>");
	html_markup(h, "<p class=\"note\">Each report is shown as the device "
	    "signed it; its BLAKE2b-256 hash is that of these bytes "
	    "(<code>b2sum -l 256</code>).  The server checks the device&#8217;s "
	    "Ed25519 signature over them with the key the device enrolled "
	    "with each time this page is drawn; a downloaded proof verifies "
	    "offline with <code>muster-server verify-report</code> or "
	    "<code>openssl pkeyutl -verify</code> (docs/operations.md, "
	    "&#8220;Verifying a stored report&#8221;).</p>");
	page_end(h);
out:
	store_read_end(c->db->rd);
	return rc;
}

/* --- family ------------------------------------------------------------ */

int
console_page_family(struct html *h, struct console_ctx *c,
    struct muster_err *e)
{
	struct rollup *r = NULL, *u = NULL;
	const struct rollup_counts *fam = NULL;
	size_t g, withholding = 0, counted = 0;
	int rc;

	if ((rc = console_rollup_get(c, ROLLUP_BY_SCOPE, &r, e)) != 0 ||
	    (rc = console_rollup_get(c, ROLLUP_BY_UNIT, &u, e)) != 0)
		goto out;
	for (g = 0; g < r->ngroups; g++)
		if (strcmp(r->groups[g].key, "family") == 0)
			fam = &r->groups[g].c;
	for (g = 0; g < u->ngroups; g++) {
		if (u->groups[g].c.family_withheld)
			withholding++;
		if (u->groups[g].c.family > 0)
			counted++;
	}
	page_begin(h, c, "Family devices", "/console/family");
	as_of_line(h, r->as_of, r->past);
	html_markupf(h, "<p>Family members enrolled of their own will.  "
	    "Their devices are shown only for the whole organisation, never "
	    "by unit, model or person; a unit's family devices are counted "
	    "only where it holds at least %d of them (k-anonymity), so what "
	    "follows leaves out the family devices of %zu unit%s.</p>",
	    ROLLUP_K, withholding, withholding == 1 ? "" : "s");
	html_markupf(h, "<p>A family phone's answer on each rule is the "
	    "truth %d times in %d (randomized on the phone, docs/privacy.md), "
	    "so its compliance is never counted: the share compliant is "
	    "estimated, with a 95 %% interval, and shown only where the "
	    "interval is within &#177;%.0f points.</p>", PROTO_RR_KEEP_NUM,
	    PROTO_RR_KEEP_DEN, RR_SHOW_HALF * 100);
	html_markup(h, "<table id=\"t-family\"><caption>Family devices of "
	    "the organisation</caption><thead><tr><th scope=\"col\">Scope"
	    "</th><th scope=\"col\">Devices counted</th><th scope=\"col\">"
	    "Reporting</th><th scope=\"col\">Compliant (estimate)</th><th "
	    "scope=\"col\">95 % interval</th></tr></thead>");
	html_markup(h, "<tbody><tr><th scope=\"row\">family</th>");
	if (fam != NULL) {
		html_markupf(h, "<td class=\"num\">%lld</td><td class=\"num\">"
		    "%lld</td>", (long long)fam->family,
		    (long long)fam->fam.reporting);
		if (fam->fam.estimated && fam->fam.est.shown)
			html_markupf(h, "<td class=\"num\">%.1f %%</td><td>"
			    "%.1f&#8211;%.1f %%</td>", fam->fam.est.est * 100,
			    fam->fam.est.lo * 100, fam->fam.est.hi * 100);
		else
			html_markup(h, "<td>withheld</td><td>too wide to "
			    "mean something</td>");
	}
	html_markup(h, "</tr></tbody></table>");
	html_markupf(h, "<p>Units whose family devices are counted: %zu.</p>",
	    counted);
	downloads(h, c, "by=scope");
	page_end(h);
out:
	console_rollup_put(u);
	console_rollup_put(r);
	return rc;
}

/* --- profiles ------------------------------------------------------------ */

int
console_page_profiles(struct html *h, struct console_ctx *c,
    struct muster_err *e)
{
	struct profile *p = NULL;
	struct manifest m;
	char *bytes = NULL;
	size_t len, k;
	int sc, rc = 0, expired;

	page_begin(h, c, "Profiles and manifests", "/console/profiles");
	as_of_line(h, c->now, 0);
	if ((rc = store_read_begin(c->db->rd, e)) != 0 ||
	    (rc = policy_rows(h, c, &expired, e)) != 0)
		goto out;
	for (sc = 0; sc < ROLLUP_NSCOPES; sc++) {
		html_markupf(h, "<section><h2>%s</h2>",
		    profile_scope_name((enum profile_scope)sc));
		if ((rc = scope_profile(c, sc, &bytes, &len, &p, e)) != 0)
			goto out;
		if (p != NULL) {
			html_markupf(h, "<table><caption>Rules of the profile "
			    "(a report every %lld s)</caption><thead><tr><th "
			    "scope=\"col\">Rule</th><th scope=\"col\">Kind"
			    "</th><th scope=\"col\">Severity</th><th "
			    "scope=\"col\">Title</th></tr></thead><tbody>",
			    (long long)p->report_interval);
			for (k = 0; k < p->nrules; k++) {
				html_markup(h, "<tr><th scope=\"row\">");
				html_text(h, p->rules[k].id);
				html_markupf(h, "</th><td>%s</td><td>%s</td>"
				    "<td>", profile_kind_name(p->rules[k].kind),
				    profile_severity_name(
				    p->rules[k].severity));
				html_text(h, p->rules[k].title);
				html_markup(h, "</td></tr>");
			}
			html_markup(h, "</tbody></table>");
		} else
			html_markup(h, "<p>No profile published.</p>");
		if (c->trust != NULL && trust_manifest(c->trust,
		    (enum profile_scope)sc, &m, NULL, NULL) == 1) {
			html_markupf(h, "<p>Manifest version %lld names:</p>"
			    "<ul>", (long long)m.version);
			for (k = 0; k < m.nprofiles; k++) {
				html_markup(h, "<li>");
				html_text(h, m.profiles[k].id);
				html_markupf(h, " serial %lld, <code>",
				    (long long)m.profiles[k].serial);
				html_text(h, m.profiles[k].hash);
				html_markup(h, "</code></li>");
			}
			html_markup(h, "</ul>");
		}
		html_markup(h, "</section>");
		profile_free(p);
		p = NULL;
		free(bytes);
		bytes = NULL;
	}
	page_end(h);
out:
	profile_free(p);
	free(bytes);
	store_read_end(c->db->rd);
	return rc;
}

/* --- sign-in and errors ------------------------------------------------- */

void
console_page_signin(struct html *h, const char *msg)
{
	/* Served only: the Content-Security-Policy comes as a header. */
	html_markup(h, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">"
	    "<link rel=\"icon\" href=\"data:,\"><title>Sign in \xe2\x80\x94 "
	    "Muster</title><style>");
	html_markup(h, console_css());
	html_markup(h, "</style></head><body><header><p class=\"brand\">"
	    "Muster</p></header><main><h1>Sign in to the console</h1>");
	if (msg != NULL) {
		html_markup(h, "<p class=\"bad\" role=\"alert\">");
		html_text(h, msg);
		html_markup(h, "</p>");
	}
	html_markup(h, "<form class=\"signin\" method=\"post\" "
	    "action=\"/console/login\"><label for=\"token\">Administrator "
	    "credential</label> <input id=\"token\" name=\"token\" "
	    "type=\"password\" autocomplete=\"current-password\" required "
	    "size=\"48\"> <button type=\"submit\">Sign in</button></form>"
	    "</main></body></html>\n");
}

void
console_page_error(struct html *h, const char *msg)
{
	html_markup(h, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">"
	    "<title>Muster</title><style>");
	html_markup(h, console_css());
	html_markup(h, "</style></head><body><main><h1>");
	html_text(h, msg);
	html_markup(h, "</h1><p><a href=\"/console/\">Back to the overview"
	    "</a></p></main></body></html>\n");
}
