/*
 * reportcheck: what the server checks of a report beyond its form
 * (lib/report.c report_validate, shared with the agent): the report
 * against the server's clock and against the profile it names, as the
 * server holds it (docs/privacy.md, docs/protocol.md "POST /v1/report").
 *
 *  - its time is at most PROTO_REPORT_SKEW ahead of the server's clock,
 *    and not before the device's enrollment nor PROTO_REPORT_LATE_MAX
 *    old.  The window [now - back, now + PROTO_REPORT_SKEW], back being
 *    ROLLUP_STALE_FACTOR report intervals of the profile now published
 *    for the device's scope (at least PROTO_REPORT_SKEW), is where a
 *    report is on time; one older is late (spooled through an outage)
 *    and is stored at its own time only after the device's previous
 *    report, which the store checks in its transaction, so that nothing
 *    is written before the end of a device's history.  Refused 400 with
 *    a body that says so and gives the server's time, so that a device
 *    whose clock is off can tell (never 401/403: clock skew is not
 *    revocation);
 *  - the profile (id, serial) was published by this server for the
 *    device's scope, and every result names one of its rules;
 *  - no detail is longer than IDENT_DETAIL_MAX bytes or carries what looks
 *    like a hardware or telephony identifier (a run of 14 or more digits,
 *    a MAC address); the detail of a `setting` rule quotes at most
 *    IDENT_VALUE_SHOW bytes of any value (the rule's own key excepted),
 *    and nothing at all for a setting on the identifier deny-list.
 *
 * Profiles are parsed once per (id, serial) and kept in a small cache
 * shared by the request threads; a published profile never changes.
 */
#ifndef MUSTER_SERVER_REPORTCHECK_H
#define MUSTER_SERVER_REPORTCHECK_H

#include <stdint.h>
#include <time.h>

#include "muster/profile.h"

#define REPORTCHECK_CACHE	16	/* parsed profiles kept */
#define REPORTCHECK_DIGITS	14	/* a digit run this long is an id */

struct json_t;
struct report_fields;
struct route_reply;
struct route_request;
struct store_device;

/*
 * The earliest time a report received at now may carry, for a scope
 * whose profile asks for a report every interval seconds (0: none
 * published, PROFILE_DEFAULT_REPORT_INTERVAL).  The latest is now +
 * PROTO_REPORT_SKEW.
 */
time_t	reportcheck_earliest(time_t now, int64_t interval);

/* The oldest time a report of device d received at now may carry. */
time_t	reportcheck_floor(time_t now, const struct store_device *d);

/*
 * 1 if a report of device d timed t (reportcheck_report took it) is late:
 * before the window's start, which goes to *earliest; else 0.
 */
int	reportcheck_late(const struct route_request *rq,
	    const struct store_device *d, time_t t, time_t *earliest);

/*
 * Sets out to the window's 400: {"error":PROTO_ERR_REPORT_WINDOW,
 * "server_time","earliest","latest"}.
 */
void	reportcheck_reply_window(struct route_reply *out, time_t now,
	    time_t earliest);

/*
 * Checks the results of report o (already through report_validate)
 * against profile p, for a device of scope: p is for that scope, every
 * result names a rule of p, every detail passes the rules above.
 * Returns NULL, or the protocol's one-line reason (a static string).
 */
const char *reportcheck_profile(const struct profile *p,
	    enum profile_scope scope, struct json_t *o);

/*
 * The whole check of a report from device d, o validated into f, on the
 * server rq->srv: the time window, then reportcheck_profile against the
 * profile f names (read from the store once, then cached).  Returns 0,
 * or -1 with the answer (400, or 500/503 when the store failed) in out.
 */
int	reportcheck_report(const struct route_request *rq,
	    const struct store_device *d, struct json_t *o,
	    const struct report_fields *f, struct route_reply *out);

/*
 * 1 if s, a string a device sent (its model, a result's detail), may be
 * stored and shown: UTF-8 with no control character (C0, DEL, C1), no
 * bidirectional formatting and no zero-width character (esc_text_strict_ok);
 * 0 otherwise, and for NULL.  Two models that look alike are then alike.
 */
int	reportcheck_text_ok(const char *s);

/* Frees the cache (at server exit; tests).  Not thread-safe. */
void	reportcheck_cache_free(void);

/*
 * The stale window of scope now: ROLLUP_STALE_FACTOR x the report_interval
 * of the profile served to it (the default interval when none), which the
 * store's runs of reports use (store_report_put).
 */
struct srv;
int64_t	reportcheck_window(struct srv *s, enum profile_scope scope);

#endif
