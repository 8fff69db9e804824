/*
 * console: the officers' console, server-rendered HTML under /console/
 * (docs/console.md): overview, units as a tree, rules, models, the
 * personnel devices and each one's history, family aggregates, profiles
 * and manifests in force, every table as CSV and JSON.  Signed in with
 * the admin credential (route_admin_credential_ok, the one check) into
 * a session (console_session.h); every figure comes from the roll-up
 * engine (rollup.h) and the store's read interface (store.h), never SQL.
 * Pages go through html.h, so device text is escaped where it is
 * written; charts are inline SVG (svg.h); no script, no external asset,
 * a strict Content-Security-Policy.
 */
#ifndef MUSTER_SERVER_CONSOLE_H
#define MUSTER_SERVER_CONSOLE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "muster/err.h"
#include "html.h"
#include "rollup.h"

struct route_request;
struct route_reply;
struct trust;

#define CONSOLE_COOKIE		"muster_console"
#define CONSOLE_FORM_VALUE_MAX	512	/* bytes of one decoded value */
#define CONSOLE_PAGE_ROWS	100	/* devices per page */
#define CONSOLE_UNIT_ROWS	100	/* units of one level per page */
#define CONSOLE_PAGES_MAX	100000
#define CONSOLE_HISTORY_MAX	200	/* status changes on a device page */
#define CONSOLE_TREND_POINTS	14	/* 13 weeks back (91 days), and now */
#define CONSOLE_CACHE_TTL	15	/* s a present roll-up is reused */

/* The console's rows of route.c's table (path, method, metric, admin, fn). */
#define CONSOLE_ROUTES \
	{ "/console", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/signin", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/login", "POST", MR_CONSOLE, 0, console_route }, \
	{ "/console/logout", "POST", MR_CONSOLE, 0, console_route }, \
	{ "/console/units", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/rules", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/models", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/devices", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/device", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/family", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/profiles", "GET", MR_CONSOLE, 0, console_route }, \
	{ "/console/export", "GET", MR_CONSOLE, 0, console_route },

/*
 * Every console request (the route table's fn): checks the session (or
 * signs in), renders the page or the download into out with the
 * console's security headers.
 */
void	console_route(const struct route_request *rq, struct route_reply *out);

/*
 * Looks up key in an application/x-www-form-urlencoded body (len bytes,
 * need not be NUL-terminated), decoded ('+' and %HH) into out (size
 * bytes, NUL-terminated).  1 when found, 0 when absent, -1 when the body
 * is malformed (a bad %-escape, a NUL, a key given twice, a value longer
 * than size - 1 or CONSOLE_FORM_VALUE_MAX, more than 16 fields).
 */
int	console_form_value(const char *body, size_t len, const char *key,
	    char *out, size_t size);

/*
 * The overview page (scopes, stale, never reported, profiles in force,
 * the 90-day trend) as one self-contained HTML document for
 * `muster-server report --format html`: q's as_of (0: now), written to
 * fp.  0, errors as rollup_compute, MUSTER_EIO when fp fails.
 */
int	console_report_html(struct rollup_db *db, const struct rollup_query *q,
	    FILE *fp, struct muster_err *e);

/* The console's inline style sheet and its CSP source ('sha256-...'). */
const char *console_css(void);
const char *console_csp(void);

/* Frees the roll-up and trend caches (tests; server exit). */
void	console_cache_free(void);

#endif
