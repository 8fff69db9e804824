/* reportcheck: a report against the clock and its profile; reportcheck.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "muster/esc.h"
#include "muster/ident.h"
#include "muster/log.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/timefmt.h"
#include "reportcheck.h"
#include "rollup.h"
#include "route.h"
#include "srv.h"
#include "store.h"

/* A published profile, parsed, with its rules sorted by id. */
struct entry {
	char		 id[PROFILE_ID_MAX + 1];
	int64_t		 serial;
	struct profile	*p;
	const struct rule **byid;	/* p->nrules, sorted by id */
	unsigned	 refs;		/* the cache's and each user's */
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int	current_interval(struct srv *, enum profile_scope, int64_t *,
		    struct muster_err *);
static struct entry *cache[REPORTCHECK_CACHE];
static size_t cache_next;		/* the slot replaced next */

static void
entry_unref(struct entry *en)
{
	int last;

	if (en == NULL)
		return;
	pthread_mutex_lock(&cache_mu);
	last = --en->refs == 0;
	pthread_mutex_unlock(&cache_mu);
	if (!last)
		return;
	profile_free(en->p);
	free(en->byid);
	free(en);
}

void
reportcheck_cache_free(void)
{
	size_t i;

	for (i = 0; i < REPORTCHECK_CACHE; i++) {
		entry_unref(cache[i]);
		cache[i] = NULL;
	}
}

static int
cmp_rule(const void *a, const void *b)
{
	return strcmp((*(const struct rule *const *)a)->id,
	    (*(const struct rule *const *)b)->id);
}

static int
cmp_key_rule(const void *k, const void *r)
{
	return strcmp(k, (*(const struct rule *const *)r)->id);
}

/* The rule of p with id, or NULL; p's byid index when given. */
static const struct rule *
find_rule(const struct profile *p, const struct rule *const *byid,
    const char *id)
{
	const struct rule *const *hit;
	size_t i;

	if (byid != NULL) {
		hit = bsearch(id, byid, p->nrules, sizeof *byid, cmp_key_rule);
		return hit != NULL ? *hit : NULL;
	}
	for (i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	return NULL;
}

time_t
reportcheck_floor(time_t now, const struct store_device *d)
{
	time_t floor = now - (time_t)PROTO_REPORT_LATE_MAX;

	return d->enrolled > floor ? d->enrolled - PROTO_REPORT_SKEW : floor;
}

int
reportcheck_late(const struct route_request *rq, const struct store_device *d,
    time_t t, time_t *earliest)
{
	struct muster_err e;
	int64_t interval = 0;

	if (current_interval(rq->srv, d->scope, &interval, &e) != 0)
		interval = 0;	/* the default's window: late is a label */
	*earliest = reportcheck_earliest(time(NULL), interval);
	return t < *earliest;
}

time_t
reportcheck_earliest(time_t now, int64_t interval)
{
	int64_t back;

	if (interval <= 0)
		interval = PROFILE_DEFAULT_REPORT_INTERVAL;
	back = ROLLUP_STALE_FACTOR * interval;
	if (back < PROTO_REPORT_SKEW)
		back = PROTO_REPORT_SKEW;
	return now - (time_t)back;
}

static int
is_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F');
}

/* 1 if s holds six hex pairs joined by one separator, ':' or '-'. */
static int
has_mac(const char *s)
{
	size_t i, g;
	char sep;

	for (i = 0; s[i] != '\0'; i++) {
		if (!is_hex((unsigned char)s[i]) ||
		    !is_hex((unsigned char)s[i + 1]))
			continue;
		sep = s[i + 2];
		if (sep != ':' && sep != '-')
			continue;
		for (g = 1; g < 6; g++) {
			const char *q = s + i + 3 * g;

			if (q[-1] != sep || !is_hex((unsigned char)q[0]) ||
			    !is_hex((unsigned char)q[1]))
				break;
		}
		if (g == 6)
			return 1;
	}
	return 0;
}

/* 1 if s holds REPORTCHECK_DIGITS or more digits in a row. */
static int
has_digit_run(const char *s)
{
	size_t run = 0;

	for (; *s != '\0'; s++) {
		run = *s >= '0' && *s <= '9' ? run + 1 : 0;
		if (run >= REPORTCHECK_DIGITS)
			return 1;
	}
	return 0;
}

/*
 * The quoted strings of a setting rule's detail (as esc_str with
 * ESC_QUOTED writes them: '\\', '\"' and \xHH escapes) against r: NULL,
 * or why the detail says too much.
 */
static const char *
check_quotes(const struct rule *r, const char *d)
{
	const char *start;
	size_t n, raw;
	int denied = ident_setting_denied(r->namespace, r->key);

	while ((d = strchr(d, '"')) != NULL) {
		if (denied)
			return "detail quotes a value of an identifier";
		start = ++d;
		for (n = 0; *d != '\0' && *d != '"'; n++) {
			if (d[0] == '\\' && d[1] == 'x' && d[2] != '\0' &&
			    d[3] != '\0')
				d += 4;
			else if (d[0] == '\\' && d[1] != '\0')
				d += 2;
			else
				d++;
		}
		raw = (size_t)(d - start);
		if (n > IDENT_VALUE_SHOW && !(r->key != NULL &&
		    strlen(r->key) == raw && memcmp(start, r->key, raw) == 0))
			return "detail quotes more of a value than a result "
			    "needs";
		if (*d == '"')
			d++;
	}
	return NULL;
}

/* NULL, or why detail d of a result of rule r is refused. */
static const char *
check_detail(const struct rule *r, const char *d)
{
	if (strlen(d) > IDENT_DETAIL_MAX)
		return "detail longer than a result needs";
	if (!reportcheck_text_ok(d))
		return "detail holds a control, bidi or invisible character";
	if (has_digit_run(d) || has_mac(d))
		return "detail carries what looks like an identifier";
	if (r->kind == RULE_SETTING)
		return check_quotes(r, d);
	return NULL;
}

/*
 * The family part: a randomized report (lib/report.c has checked its
 * form) answers every rule of its profile exactly once, as the device's
 * mechanism does (agent/rrmemo.c); the validator refused a rule twice and
 * check_profile a rule the profile lacks, so the count is the rest.  A
 * vector with rules left out could be a device choosing what to answer.
 */
static const char *
check_family(const struct profile *p, json_t *o)
{
	if (json_array_size(json_object_get(o, "results")) != p->nrules)
		return "family results must answer every rule of the profile "
		    "once";
	return NULL;
}

/* reportcheck_profile with p's sorted index when the cache has one. */
static const char *
check_profile(const struct profile *p, const struct rule *const *byid,
    enum profile_scope scope, json_t *o)
{
	const struct rule *r;
	const char *id, *d;
	json_t *it;
	size_t i;

	if (p->scope != scope)
		return "report names a profile of another scope";
	json_array_foreach(json_object_get(o, "results"), i, it) {
		if ((id = proto_json_str(it, "rule", NULL)) == NULL)
			return "malformed rule id";
		if ((r = find_rule(p, byid, id)) == NULL)
			return "a result names a rule the profile does not have";
		if ((d = proto_json_str(it, "detail", NULL)) != NULL &&
		    (d = check_detail(r, d)) != NULL)
			return d;
	}
	return scope == SCOPE_FAMILY ? check_family(p, o) : NULL;
}

const char *
reportcheck_profile(const struct profile *p, enum profile_scope scope,
    json_t *o)
{
	return check_profile(p, NULL, scope, o);
}

/*
 * The cache's entry for (id, serial), read and parsed on a miss, with a
 * reference the caller drops with entry_unref; *en NULL (and 0) when the
 * server never published it or cannot parse it now (a profile published
 * before the identifier deny-list).  A store error is returned.
 */
static int
entry_get(struct srv *s, const char *id, int64_t serial, struct entry **en,
    struct muster_err *e)
{
	struct muster_err pe;
	struct entry *n = NULL;
	struct store *st;
	struct store_profile sp;
	size_t i;
	int rc;

	*en = NULL;
	memset(&sp, 0, sizeof sp);
	pthread_mutex_lock(&cache_mu);
	for (i = 0; i < REPORTCHECK_CACHE; i++)
		if (cache[i] != NULL && cache[i]->serial == serial &&
		    strcmp(cache[i]->id, id) == 0) {
			cache[i]->refs++;
			*en = cache[i];
			break;
		}
	pthread_mutex_unlock(&cache_mu);
	if (*en != NULL)
		return 0;

	if ((rc = srv_reader(s, &st, e)) != 0)
		goto out;
	rc = store_profile_find(st, id, serial, &sp, e);
	if (rc == MUSTER_ENOINPUT) {
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if ((n = calloc(1, sizeof *n)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (profile_parse("published profile", sp.bytes, sp.len, &n->p,
	    &pe) != 0) {
		log_warn("profile %s serial %lld no longer loads: %s", id,
		    (long long)serial, pe.msg);
		goto out;
	}
	if ((n->byid = calloc(n->p->nrules, sizeof *n->byid)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < n->p->nrules; i++)
		n->byid[i] = &n->p->rules[i];
	qsort(n->byid, n->p->nrules, sizeof *n->byid, cmp_rule);
	snprintf(n->id, sizeof n->id, "%s", id);
	n->serial = serial;
	n->refs = 2;			/* the cache's and the caller's */
	pthread_mutex_lock(&cache_mu);
	if (cache[cache_next] != NULL && --cache[cache_next]->refs == 0) {
		profile_free(cache[cache_next]->p);
		free(cache[cache_next]->byid);
		free(cache[cache_next]);
	}
	cache[cache_next] = n;
	cache_next = (cache_next + 1) % REPORTCHECK_CACHE;
	pthread_mutex_unlock(&cache_mu);
	*en = n;
	n = NULL;
out:
	if (n != NULL) {
		profile_free(n->p);
		free(n->byid);
		free(n);
	}
	store_profile_clear(&sp);
	return rc;
}

/* The report_interval of the profile served to scope now; 0 if none. */
static int
current_interval(struct srv *s, enum profile_scope scope, int64_t *interval,
    struct muster_err *e)
{
	char id[PROFILE_ID_MAX + 1];
	struct entry *en = NULL;
	int64_t serial = 0;
	int present, rc;

	*interval = 0;
	pthread_mutex_lock(&s->prof_mu);
	present = s->prof[scope].present;
	if (present) {
		snprintf(id, sizeof id, "%s", s->prof[scope].id);
		serial = s->prof[scope].serial;
	}
	pthread_mutex_unlock(&s->prof_mu);
	if (!present)
		return 0;
	if ((rc = entry_get(s, id, serial, &en, e)) == 0 && en != NULL)
		*interval = en->p->report_interval;
	entry_unref(en);
	return rc;
}

/* The 400 of a time out of the window, with the server's own time. */
void
reportcheck_reply_window(struct route_reply *out, time_t now, time_t earliest)
{
	char t[TIMEFMT_LEN], lo[TIMEFMT_LEN], hi[TIMEFMT_LEN];

	timefmt_format(now, t);
	timefmt_format(earliest, lo);
	timefmt_format(now + PROTO_REPORT_SKEW, hi);
	route_reply_clear(out);
	if (asprintf(&out->body, "{\"error\":\"" PROTO_ERR_REPORT_WINDOW "\","
	    "\"server_time\":\"%s\",\"earliest\":\"%s\",\"latest\":\"%s\"}\n",
	    t, lo, hi) == -1) {
		out->body = NULL;
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    PROTO_ERR_REPORT_WINDOW);
		return;
	}
	out->status = MHD_HTTP_BAD_REQUEST;
	out->ctype = NULL;
	out->len = strlen(out->body);
}

static void
reply_store(struct route_reply *out, int rc, const struct muster_err *e)
{
	if (rc == MUSTER_ETEMP) {
		log_warn("report check: %s", e->msg);
		route_reply_error(out, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "temporarily unavailable");
	} else {
		log_error("report check: %s", e->msg);
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
	}
}

int
reportcheck_report(const struct route_request *rq,
    const struct store_device *d, json_t *o, const struct report_fields *f,
    struct route_reply *out)
{
	struct muster_err e;
	struct entry *en = NULL;
	time_t now = time(NULL), earliest;
	const char *why;
	int64_t interval;
	int rc, ret = -1;

	if ((rc = current_interval(rq->srv, d->scope, &interval, &e)) != 0) {
		reply_store(out, rc, &e);
		goto out;
	}
	earliest = reportcheck_earliest(now, interval);
	/*
	 * Older than the stale window is late, not refused, within
	 * reportcheck_floor: a spool drained after an outage.  The store
	 * takes it only after the device's previous report (append-only
	 * history), and route.c answers the window's 400 when it does not.
	 */
	if (f->time < reportcheck_floor(now, d) ||
	    f->time > now + PROTO_REPORT_SKEW) {
		reportcheck_reply_window(out, now, earliest);
		goto out;
	}
	if ((rc = entry_get(rq->srv, f->profile, f->serial, &en, &e)) != 0) {
		reply_store(out, rc, &e);
		goto out;
	}
	if (en == NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "report names a "
		    "profile this server did not publish");
		goto out;
	}
	if ((why = check_profile(en->p, en->byid, d->scope, o)) != NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
		goto out;
	}
	ret = 0;
out:
	entry_unref(en);
	return ret;
}

int64_t
reportcheck_window(struct srv *s, enum profile_scope scope)
{
	struct muster_err e;
	int64_t interval = 0;

	if (current_interval(s, scope, &interval, &e) != 0 || interval <= 0)
		interval = PROFILE_DEFAULT_REPORT_INTERVAL;
	return ROLLUP_STALE_FACTOR * interval;
}

int
reportcheck_text_ok(const char *s)
{
	return s != NULL && esc_text_strict_ok(s, strlen(s));
}
