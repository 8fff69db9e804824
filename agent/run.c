/*
 * run: `muster-agent run [--once]`, the enrolled agent's loop.
 *
 * Each cycle: (b) check the managed profile with remediation where it
 * says so; (c) take and persist the next seq, build the report, sign it,
 * spool it; (d) send every spooled report in seq order; (a) when the
 * answers do not tag the policy held as current, fetch the device's
 * policy (a signed GET /v1/policy with the root version held and
 * If-None-Match "root:manifest") and apply it (agent/policy.h: the root
 * chain, the manifest, exactly the profiles it names), a refusal keeping
 * the old policy, which is still enforced, and check and report again
 * when it changed the profile.  A first-wave device (no root, no
 * manifest) does (a) first, and whose server has no manifest fetches
 * GET /v1/profile as before and installs it with every check of
 * `install`.  A report is on disk before it is sent and moved to sent/
 * only once the server has it, so outages lose nothing (up to
 * SPOOL_MAX).
 *
 * While an unenroll request is queued (agent/leave.h) a cycle sends it
 * and nothing else: no profile is fetched and no report made or sent.
 * Once the server has it the state is wiped and the loop ends (exit 0).
 *
 * On a family device only the rules the member's consent covers are
 * remediated (agent/consent.h); the others are reported only.
 *
 * --once runs one cycle with a few quick retries and exits: 0 everything
 * delivered, 75 reports still queued, 77 revoked or unknown device or pin
 * mismatch (the spool is kept).  Without --once the cycle repeats every
 * report_interval of the profile; failed sends are retried with
 * exponential backoff and jitter up to RUN_BACKOFF_MAX, or when the
 * server said (Retry-After, jittered): until then nothing is sent, and a
 * cycle that falls due checks and keeps its report for the retry.
 * SIGTERM (or SIGINT) ends the loop after the step under way (exit 0);
 * SIGHUP starts a cycle now.  The loop never forks itself into the background.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/cli.h"
#include "muster/log.h"
#include "muster/profile.h"
#include "muster/report.h"
#include "muster/timefmt.h"
#include "call.h"
#include "check.h"
#include "clock.h"
#include "cmd.h"
#include "rrmemo.h"
#include "run.h"
#include "consent.h"
#include "device/device.h"
#include "devkey.h"
#include "install.h"
#include "leave.h"
#include "net.h"
#include "policy.h"
#include "rereg.h"
#include "rules.h"
#include "spool.h"
#include "state.h"

#define RUN_ONCE_TRIES		3	/* sends per --once run */
#define RUN_ONCE_BACKOFF	2	/* seconds before a --once retry */
#define RUN_ONCE_BACKOFF_MAX	8	/* seconds, doubled per try up to this */
#define RUN_BACKOFF_BASE	30	/* seconds, daemon */
#define RUN_BACKOFF_MAX		3600	/* seconds, daemon */
#define RUN_ONCE_WAIT_MAX	60	/* seconds of Retry-After --once waits */

static const char run_usage[] =
"usage: muster-agent [--state DIR] [--device BACKEND] run [--once] "
"[--foreground] [--verbose]\n"
"\n"
"Runs the enrolled agent: checks the device and remediates where the\n"
"profile says so, writes a signed report to the spool, sends every\n"
"spooled report in order, and when the server's answer says its policy\n"
"changed, fetches it (installed only if it passes every check of\n"
"install) and reports again.  Reports that cannot be sent stay\n"
"in the spool (at most 1000; beyond that the oldest are dropped and\n"
"counted in the next report).  `muster-agent log` lists them.\n"
"\n"
"Without --once it repeats every report_interval of the profile, retries\n"
"failed sends with exponential backoff (up to an hour), and logs to\n"
"syslog; SIGTERM stops it after the step under way, SIGHUP runs a cycle\n"
"now.  It does not fork: run it under a supervisor.\n"
"\n"
"While an unenroll request is queued (muster-agent unenroll could not\n"
"reach the server) it sends that request and nothing else; once the\n"
"server has it the state is wiped and run exits 0.\n"
"\n"
"Exit 0 all reports delivered; 75 reports queued (server unreachable);\n"
"77 device revoked or unknown, or the server's key does not match the\n"
"pin (reports kept); 78 not enrolled or bad state.\n"
"\n"
"options:\n"
"  --once        one cycle, then exit; logs to stderr\n"
"  --foreground  log to stderr instead of syslog\n"
"  --verbose     log debug messages too\n"
"  --device B    sim:FILE, android or android:BINDIR (default android)\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

struct run_args {
	int	once;
	int	foreground;
	int	verbose;
};

/* One cycle's view of the state; rebuilt every cycle. */
struct runner {
	const char		*dir;
	const char		*device;
	int			 once;
	struct state_cfg	 c;
	struct state_anchor	 a;
	struct sig_seckey	*sk;
	char			 server[URL_MAX + 1];	/* the root's */
	char			 pins[ROOT_PINS_CURL_MAX];	/* the root's */
	int64_t			 interval;	/* of the managed profile */
	int			 gone;		/* unenrolled: state wiped */
	int			 refused;	/* the policy: 0, ETRUST, EDATA */
	struct muster_err	 refusal;	/* why */
	struct net_session	 ns;		/* the cycle's one reporter */
	int64_t			 offset;	/* server clock - ours, s */
	uint32_t		 retry_after;	/* the server asked: s, or 0 */
	int64_t			 fresh;		/* this cycle's report, or 0 */
	int64_t			 fresh_offset;	/* the offset it was made with */
	int			 restamped;	/* fresh made again: 1, sent: 2 */
	int			 answered;	/* the server answered a send */
	char			 tag[PROTO_POLICY_TAG_MAX];	/* answers' */
	int			 held;	/* in a Retry-After: send nothing */
};

static volatile sig_atomic_t	got_term;
static volatile sig_atomic_t	got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
runner_free(struct runner *r)
{
	sig_seckey_free(r->sk);
	r->sk = NULL;
}

/* Loads what a cycle needs; MUSTER_ECONFIG when not enrolled. */
static int
runner_load(struct runner *r, struct muster_err *e)
{
	struct muster_err ce = { 0 };
	int rc;

	if ((rc = state_open(r->dir, 0, e)) != 0 ||
	    (rc = state_cfg_load(r->dir, &r->c, e)) != 0 ||
	    (rc = state_anchor_load(r->dir, &r->a, e)) != 0)
		return rc;
	if (r->c.device_id[0] == '\0')
		return err_set(e, MUSTER_ECONFIG, "%s: not enrolled with a "
		    "server; run muster-agent enroll BUNDLE", r->dir);
	if ((rc = state_endpoint(r->dir, &r->c, r->server, r->pins, e)) != 0 ||
	    (rc = spool_init(r->dir, e)) != 0)
		return rc;
	if (clock_offset_load(r->dir, &r->offset, &ce) != 0)
		log_warn("%s; measuring it again", ce.msg);
	state_tidy(r->dir);
	return devkey_load(r->dir, &r->sk, e);
}

/* "Name: value\n" for If-None-Match of the managed profile, or "". */
static void
if_none_match(struct runner *r, const struct state_profile *list, size_t n,
    char *buf, size_t size)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		if (strcmp(list[i].p->id, r->c.profile_id) == 0) {
			snprintf(buf, size, "If-None-Match: \"%s:%lld\"\n",
			    list[i].p->id, (long long)list[i].p->serial);
			r->interval = list[i].p->report_interval;
		}
}

/* The error for an answer that says this device is not welcome. */
static int
revoked(unsigned status, struct muster_err *e)
{
	return err_set(e, MUSTER_ETRUST, "device revoked or unknown to the "
	    "server (HTTP %u); reports are kept in the spool", status);
}

/* Takes off as the device's clock offset, says so and keeps it. */
static void
clock_adopt(struct runner *r, int64_t off)
{
	struct muster_err ce = { 0 };

	log_warn("clock: this device's clock is %lld s %s the server's; "
	    "correcting the times it signs by %+lld s", (long long)(off < 0 ?
	    -off : off), off < 0 ? "ahead of" : "behind", (long long)off);
	r->offset = off;
	if (clock_offset_store(r->dir, off, &ce) != 0)
		log_warn("clock offset not kept: %s", ce.msg);
}

/*
 * Learns the device's clock offset from a clock answer of the server
 * (agent/clock.h) and keeps it.  1 when rs was one and the offset
 * changed, else 0.  The offset only stamps what the device signs; no
 * expiry or trust decision reads it.
 */
static int
clock_learn(struct runner *r, const struct net_response *rs)
{
	int64_t off;

	if (clock_offset_from(rs->body, rs->body_len, time(NULL), &off) != 0 ||
	    off == r->offset)
		return 0;
	clock_adopt(r, off);
	return 1;
}

/*
 * What a report's 200/202 says besides (muster/report.h): the policy's
 * tag, kept for the cycle, and the server's time, which corrects the
 * device's clock when it is more than PROTO_GET_SKEW off (the GET's
 * window, so that a few seconds of drift are never written down).
 */
static void
answer_learn(struct runner *r, const struct net_response *rs)
{
	struct report_answer a;
	int64_t off;

	if (report_answer_parse(rs->body, rs->body_len, &a) != 0)
		return;
	if (a.policy[0] != '\0')
		memcpy(r->tag, a.policy, sizeof r->tag);
	if (a.server_time == 0 ||
	    clock_offset_of(a.server_time, time(NULL), &off) != 0)
		return;
	if (off - r->offset > PROTO_GET_SKEW ||
	    r->offset - off > PROTO_GET_SKEW)
		clock_adopt(r, off);
}

/*
 * GETs path (with extra headers, or NULL) from r's server over the
 * cycle's session, signed by the device key at the device's corrected
 * time, into *rs (net_response_free); a clock answer corrects the time
 * and the GET is sent once more.  Returns 0 when the server answered,
 * whatever its status; else as call_get_in or net_outcome_rc.
 */
static int
runner_get(struct runner *r, const char *path, const char *extra,
    struct net_response *rs, struct muster_err *e)
{
	int rc, again = 1;

	for (;;) {
		if ((rc = call_get_in(&r->ns, time(NULL) + (time_t)r->offset,
		    r->server, r->pins, r->c.device_id, r->sk, path, extra, rs,
		    e)) != 0 || (rc = net_outcome_rc(rs, e)) != 0)
			return rc;
		if (rs->status != PROTO_CLOCK_STATUS || !again ||
		    !clock_learn(r, rs))
			return 0;
		again = 0;
		net_response_free(rs);
	}
}

/*
 * The server is busy (503) or limits this device (429): the reports stay
 * spooled, and the next try waits what its Retry-After says (at least a
 * second), with jitter.  MUSTER_ETEMP.
 */
static int
busy(struct runner *r, const struct net_response *rs, const char *what,
    struct muster_err *e)
{
	r->retry_after = rs->retry_after > 0 ? rs->retry_after : 1;
	return err_set(e, MUSTER_ETEMP, "%s: server busy (HTTP %u), asks "
	    "to retry in %u s", what, rs->status, r->retry_after);
}

/*
 * A 401: the server did not take this device's signature.  Not
 * revocation (403): the reports stay spooled and are tried again, and
 * the daemon goes on.  MUSTER_ETEMP, logged as an error.
 */
static int
sig_refused(const char *what, struct muster_err *e)
{
	log_error("%s: the server refused this device's signature (HTTP "
	    "401); reports are kept and tried again", what);
	return err_set(e, MUSTER_ETEMP, "%s: signature refused (HTTP 401)",
	    what);
}

/*
 * The answer to the GET of what ("profile", "policy") when its status is
 * none the caller expects: revoked() for 403, sig_refused() for 401,
 * busy() for 503 and 429, MUSTER_ETEMP when the server may answer later,
 * else a warning that kept stays and 0.
 */
static int
get_failed(struct runner *r, const struct net_response *rs,
    const char *what, const char *kept, struct muster_err *e)
{
	unsigned status = rs->status;

	if (status == 403)
		return revoked(status, e);
	if (status == 401)
		return sig_refused(what, e);
	if (status == 503 || status == 429)
		return busy(r, rs, what, e);
	if (status >= 500 || status == 408)
		return err_set(e, MUSTER_ETEMP, "%s: server answered HTTP %u",
		    what, status);
	log_warn("%s: server answered HTTP %u; keeping %s", what, status,
	    kept);
	return 0;
}

/*
 * (a) Fetches and installs the server's profile.  A refused profile is
 * logged and the old one kept (0).  Returns MUSTER_ETEMP when the server
 * could not be reached, MUSTER_ETRUST when it refuses this device or its
 * key is not the pin, and the local error when a good profile could not
 * be stored (the old one is kept).
 */
static int
fetch_profile(struct runner *r, struct muster_err *e)
{
	struct muster_err ie = { 0 };
	struct state_profile *list = NULL;
	struct net_response rs;
	struct profile *p = NULL;
	json_t *obj = NULL;
	const char *sid;
	char inm[FRAME_ETAG_MAX + 32];
	size_t n = 0;
	int rc, irc;

	memset(&rs, 0, sizeof rs);
	if ((rc = state_profiles_load(r->dir, &r->a, &list, &n, e)) != 0)
		goto out;
	if_none_match(r, list, n, inm, sizeof inm);
	state_profiles_free(list, n);
	if ((rc = runner_get(r, PROTO_PATH_PROFILE, inm, &rs, e)) != 0)
		goto out;
	switch (rs.status) {
	case 304:
		log_debug("profile \"%s\" is current", r->c.profile_id);
		goto out;
	case 404:
		log_info("no profile is published for this device's scope");
		goto out;
	case 200:
		break;
	default:
		rc = get_failed(r, &rs, "profile", "the installed profile", e);
		goto out;
	}
	if ((obj = json_loadb(rs.body, rs.body_len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL) {
		log_warn("profile: the server's answer is not JSON; keeping "
		    "the installed profile");
		goto out;
	}
	/* Mix-and-match: without a manifest saying so, a profile of another
	 * id never displaces the managed one (issue 11). */
	if (r->c.profile_id[0] != '\0' && (sid = json_string_value(
	    json_object_get(obj, "id"))) != NULL &&
	    strcmp(sid, r->c.profile_id) != 0) {
		if (!r->once)
			log_error("profile refused, keeping the installed one: "
			    "the server serves \"%.64s\" in place of the "
			    "managed \"%s\", and no manifest names it", sid,
			    r->c.profile_id);
		r->refused = MUSTER_ETRUST;
		err_set(&r->refusal, MUSTER_ETRUST, "profile \"%.64s\" refused: "
		    "it is not the managed \"%s\" and no manifest names it",
		    sid, r->c.profile_id);
		goto out;
	}
	irc = install_profile_json(r->dir, &r->a, "server profile", obj, &p,
	    &ie);
	if (irc == MUSTER_EIO || irc == MUSTER_ECANTCREAT ||
	    irc == MUSTER_EINTERNAL || irc == MUSTER_EOS) {
		/* Not the profile's fault (a full disk, say): the caller
		 * says so, once, and the next cycle tries again. */
		*e = ie;
		rc = irc;
		goto out;
	}
	if (irc < 0) {
		log_error("profile refused, keeping the installed one: %s",
		    ie.msg);
		goto out;
	}
	if (irc == 0)
		log_info("installed profile \"%s\" serial %lld", p->id,
		    (long long)p->serial);
	r->interval = p->report_interval;
	if (strcmp(r->c.profile_id, p->id) != 0) {
		snprintf(r->c.profile_id, sizeof r->c.profile_id, "%s", p->id);
		rc = state_cfg_store(r->dir, &r->c, e);
	}
out:
	json_decref(obj);
	profile_free(p);
	net_response_free(&rs);
	return rc;
}

/* Logs what an applied policy answer changed. */
static void
policy_log(const struct policy_outcome *po)
{
	size_t i;

	if (po->root_to != po->root_from)
		log_info("root of trust: version %lld -> %lld", (long long)
		    po->root_from, (long long)po->root_to);
	if (po->purged > 0)
		log_warn("%zu installed profile%s signed by a key the new root "
		    "removed, dropped", po->purged, po->purged == 1 ? "" : "s");
	if (po->dropped)
		log_warn("the manifest held was signed by policy keys the new "
		    "root removed; it no longer counts");
	if (po->manifest_to != po->manifest_from)
		log_info("manifest: version %lld -> %lld", (long long)
		    po->manifest_from, (long long)po->manifest_to);
	for (i = 0; i < po->installed; i++)
		log_info("installed profile \"%s\" serial %lld (named by "
		    "manifest %lld)", po->inst[i].id,
		    (long long)po->inst[i].serial, (long long)po->manifest_to);
	if (po->removed > 0)
		log_info("removed %zu profile%s the manifest no longer names",
		    po->removed, po->removed == 1 ? "" : "s");
}

/* 1 if the device holds a manifest it still trusts. */
static int
holds_manifest(struct runner *r, int64_t *version)
{
	struct manifest m;

	*version = 0;
	if (state_manifest_load(r->dir, &r->a, NULL, &m, NULL) != 0)
		return 0;
	*version = m.version;
	return 1;
}

/*
 * The policy the device holds as the server tags it (proto_policy_tag:
 * its root version, its manifest's or 0) into buf; 1 if it holds a
 * manifest it still trusts.
 */
static int
held_tag(struct runner *r, char buf[PROTO_POLICY_TAG_MAX])
{
	int64_t mv;
	int held = holds_manifest(r, &mv);

	proto_policy_tag(buf, r->a.root.version, mv);
	return held;
}

/*
 * (a) Fetches GET /v1/policy and applies it (agent/policy.h).  A refused
 * answer is logged, kept in r->refused for --once, and the old policy
 * kept (0).  A first-wave device (no root document) that holds no
 * manifest, talking to a server that serves none, falls back to
 * GET /v1/profile.  Returns as fetch_profile.
 */
static int
fetch_policy(struct runner *r, struct muster_err *e)
{
	struct muster_err ie = { 0 };
	struct policy_outcome po;
	struct net_response rs;
	char hdr[128], tag[PROTO_POLICY_TAG_MAX];
	int rc, irc, held;

	memset(&rs, 0, sizeof rs);
	held = held_tag(r, tag);
	snprintf(hdr, sizeof hdr, PROTO_HDR_ROOT ": %lld\nIf-None-Match: "
	    "\"%s\"\n", (long long)r->a.root.version, tag);
	if ((rc = runner_get(r, PROTO_PATH_POLICY, hdr, &rs, e)) != 0)
		goto out;
	switch (rs.status) {
	case 304:
		log_debug("policy %s (root:manifest) is current", tag);
		/* A first-wave org without manifests: its profile may be
		 * new all the same. */
		if (!r->a.has_root && !held) {
			net_response_free(&rs);
			return fetch_profile(r, e);
		}
		goto out;
	case 404:
		if (!r->a.has_root && !held) {
			net_response_free(&rs);
			return fetch_profile(r, e);
		}
		log_warn("policy: the server serves no %s; keeping the policy "
		    "held", PROTO_PATH_POLICY);
		goto out;
	case 200:
		break;
	default:
		rc = get_failed(r, &rs, "policy", "the policy held", e);
		goto out;
	}
	irc = policy_apply(r->dir, &r->a, rs.body, rs.body_len, time(NULL),
	    &po, &ie);
	policy_log(&po);
	if (irc == MUSTER_ETRUST || irc == MUSTER_EDATA) {
		/* --once says it once, as its exit reason (cycle). */
		if (!r->once)
			log_error("policy refused, keeping the policy held: %s",
			    ie.msg);
		r->refused = irc;
		err_set(&r->refusal, irc, "policy refused, keeping the policy "
		    "held: %.400s", ie.msg);
		goto out;
	}
	if (irc != 0) {
		/* Not the answer's fault (a full disk, say). */
		*e = ie;
		rc = irc;
		goto out;
	}
	/* Re-read the endpoint: a new root may name a new URL or pins. */
	if ((rc = state_endpoint(r->dir, &r->c, r->server, r->pins, e)) != 0 ||
	    (rc = state_cfg_load(r->dir, &r->c, e)) != 0)
		goto out;
	if (!po.has_manifest && po.manifest_to == 0 && !r->a.has_root) {
		net_response_free(&rs);
		return fetch_profile(r, e);
	}
out:
	net_response_free(&rs);
	return rc;
}

/*
 * What the report says is stale, each logged once per cycle: an expired
 * root or manifest never stops enforcement (fail safe), it is shown.
 */
static unsigned
stale_flags(struct runner *r)
{
	char t[TIMEFMT_LEN];
	int trust, policy;

	policy_stale(r->dir, &r->a, time(NULL), &trust, &policy);
	if (trust) {
		timefmt_format(r->a.root.expires, t);
		log_warn("trust stale: root version %lld expired on %s; still "
		    "enforcing the policy held", (long long)r->a.root.version,
		    t);
	}
	if (policy)
		log_warn("policy stale: the manifest held has expired (the "
		    "server serves no newer one); still enforcing it");
	return (trust ? REPORT_STALE_TRUST : 0) |
	    (policy ? REPORT_STALE_POLICY : 0);
}

/*
 * (b) and (c): checks the managed profile (remediating), then spools a
 * signed report.  Nothing to do when no profile is installed yet.
 */
static int
make_report(struct runner *r, struct muster_err *e)
{
	struct state_profile *list = NULL, *mine = NULL, old;
	struct report_result *res = NULL;
	struct device *dev = NULL;
	struct consent cons;
	const struct consent *limit = NULL;
	struct check_run cr;
	struct report_in in;
	char *json = NULL, sig[DEVKEY_SIG_B64];
	char model[2 * DEVICE_FACT_MAX + 2];
	int64_t seq, dropped;
	size_t n = 0, i, len = 0, ndropped = 0;
	int rc, personnel = r->a.scope == SCOPE_PERSONNEL, pending = 0;

	memset(&cr, 0, sizeof cr);
	memset(&old, 0, sizeof old);
	memset(&cons, 0, sizeof cons);
	if ((rc = state_profiles_load(r->dir, &r->a, &list, &n, e)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(list[i].p->id, r->c.profile_id) == 0)
			mine = &list[i];
	if (mine == NULL) {
		log_info("no profile from the server is installed yet; "
		    "nothing to check or report");
		goto out;
	}
	r->interval = mine->p->report_interval;
	if ((rc = check_limit(r->dir, r->a.scope, &cons, &limit, e)) != 0)
		goto out;
	/* A changed family profile waits for consent: the one consented
	 * to is checked and reported meanwhile. */
	if ((pending = check_consent_pending(r->dir, &r->a, mine, limit,
	    &old)) == 1) {
		log_warn("consent pending: profile \"%s\" serial %lld reads "
		    "what the member has not agreed to; checking serial %lld "
		    "until muster-agent consent", mine->p->id,
		    (long long)mine->p->serial, (long long)old.p->serial);
		mine = &old;
	}
	if ((rc = device_open(r->device, &dev, e)) != 0 ||
	    (rc = check_eval(dev, mine, 1, 1, personnel, limit, &cr,
	    e)) != 0 ||
	    (rc = state_lastcheck_store(r->dir, &cr.l, e)) != 0)
		goto out;
	if (cr.nout > 0 && (res = calloc(cr.nout, sizeof *res)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	for (i = 0; i < cr.nout; i++) {
		res[i].rule = cr.out[i].r->id;
		res[i].result = rules_result_name(cr.out[i].o.result);
		res[i].detail = cr.out[i].o.reason;
	}
	if ((rc = spool_make_room(r->dir, SPOOL_MAX, &ndropped, e)) != 0)
		goto out;
	if (ndropped > 0)
		log_warn("spool full: dropped the %zu oldest unsent "
		    "report%s", ndropped, ndropped == 1 ? "" : "s");
	/* The seq is on disk before anything is signed with it. */
	if ((rc = spool_seq_next(r->dir, &seq, e)) != 0 ||
	    (rc = spool_dropped_get(r->dir, &dropped, e)) != 0)
		goto out;
	memset(&in, 0, sizeof in);
	in.scope = r->a.scope;
	in.device = r->c.device_id;
	in.seq = seq;
	/* Stamped by the server's clock as far as the device knows it. */
	in.time = cr.l.time + (time_t)r->offset;
	in.profile = mine->p->id;
	in.serial = mine->p->serial;
	in.compliant = cr.l.compliant;
	in.dropped = dropped;
	in.stale = stale_flags(r) | (pending ? REPORT_STALE_CONSENT : 0);
	if (personnel && cr.facts_ok && cr.facts.model[0] != '\0') {
		snprintf(model, sizeof model, "%s%s%s", cr.facts.manufacturer,
		    cr.facts.manufacturer[0] != '\0' ? " " : "",
		    cr.facts.model);
		in.model = model;
	}
	in.results = res;
	in.nresults = cr.nout;
	if (!personnel && (rc = rrmemo_apply(r->dir, mine->p, res, cr.nout,
	    &in.compliant, e)) != 0)
		goto out;
	if ((rc = report_build(&in, &json, &len, e)) != 0)
		goto out;
	devkey_sign(r->sk, json, len, sig);
	if ((rc = spool_put(r->dir, seq, json, len, sig, e)) != 0)
		goto out;
	r->fresh = seq;
	r->fresh_offset = r->offset;
	if (dropped > 0 && (rc = spool_dropped_set(r->dir, 0, e)) != 0)
		goto out;
	log_info("report %lld: %s (%u pass, %u fail, %u remediated, %u "
	    "error)", (long long)seq, cr.l.compliant ? "compliant" :
	    "noncompliant", cr.l.pass, cr.l.fail, cr.l.remediated,
	    cr.l.error);
out:
	free(json);
	free(res);
	check_run_free(&cr);
	consent_free(&cons);
	device_close(dev);
	state_profile_clear(&old);
	state_profiles_free(list, n);
	return rc;
}

/* Moves a report to sent/ with what happened to it. */
static int
done(struct runner *r, int64_t seq, const char *what, unsigned status,
    struct muster_err *e)
{
	char line[SPOOL_ACK_MAX], t[TIMEFMT_LEN];

	timefmt_format(time(NULL), t);
	if (status != 0)
		snprintf(line, sizeof line, "%s %u %s", what, status, t);
	else
		snprintf(line, sizeof line, "%s %s", what, t);
	return spool_done(r->dir, seq, line, e);
}

/*
 * This cycle's report (seq, json of len bytes) was refused for the
 * device's clock (status), or an answer before it corrected the clock
 * (status 0, not sent): it is made again, every byte the same but for
 * the corrected time and the next seq, on disk before the old one goes
 * to sent/, and sent in this cycle.  Only this cycle's: an older
 * report's time is history and stays as it was.
 */
static int
restamp(struct runner *r, int64_t seq, const char *json, size_t len,
    unsigned status, struct muster_err *e)
{
	char *out = NULL, sig[DEVKEY_SIG_B64], what[64];
	int64_t next;
	size_t olen = 0;
	int rc;

	if ((rc = spool_seq_next(r->dir, &next, e)) != 0 ||
	    (rc = report_restamp(json, len, next, time(NULL) +
	    (time_t)r->offset, &out, &olen, e)) != 0)
		goto out;
	devkey_sign(r->sk, out, olen, sig);
	if ((rc = spool_put(r->dir, next, out, olen, sig, e)) != 0)
		goto out;
	if (status != 0)
		log_info("report %lld was refused for this device's clock "
		    "(HTTP %u); made again as report %lld with the corrected "
		    "time", (long long)seq, status, (long long)next);
	else
		log_info("report %lld was stamped before the clock was "
		    "corrected; made again as report %lld", (long long)seq,
		    (long long)next);
	snprintf(what, sizeof what, "made again as %lld", (long long)next);
	if ((rc = done(r, seq, what, status, e)) != 0)
		goto out;
	r->fresh = next;
	r->restamped = 1;
out:
	free(out);
	return rc;
}

/*
 * One pass of send_spool over the reports spooled when it starts.
 */
static int
send_pass(struct runner *r, struct muster_err *e)
{
	struct net_response rs;
	int64_t *seqs = NULL;
	char *json = NULL, sig[DEVKEY_SIG_B64];
	size_t n = 0, i, len = 0, sent = 0;
	int rc;

	memset(&rs, 0, sizeof rs);
	if ((rc = spool_list(r->dir, SPOOL_PENDING, &seqs, &n, e)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (got_term && !r->once) {
			rc = err_set(e, MUSTER_ETEMP, "stopping");
			goto out;
		}
		free(json);
		json = NULL;
		net_response_free(&rs);
		if ((rc = spool_read(r->dir, SPOOL_PENDING, seqs[i], &json,
		    &len, sig, e)) != 0 && rc != MUSTER_EDATA &&
		    rc != MUSTER_ENOINPUT)
			goto out;
		/* A damaged report would look like a bad signature (401),
		 * which means "revoked": never send one. */
		if (rc != 0 || devkey_verify(r->sk, json, len, sig) != 0) {
			log_error("report %lld is damaged; not sent",
			    (long long)seqs[i]);
			if ((rc = done(r, seqs[i], "damaged, not sent", 0,
			    e)) != 0)
				goto out;
			continue;
		}
		/* The clock corrected by an answer before it (answer_learn):
		 * this cycle's report goes with the corrected time. */
		if (seqs[i] == r->fresh && r->restamped == 0 &&
		    r->offset != r->fresh_offset) {
			if ((rc = restamp(r, seqs[i], json, len, 0, e)) != 0)
				goto out;
			continue;
		}
		/* One connection for the whole spool (the cycle's session);
		 * each report is still its own signed request and answer. */
		if ((rc = call_post_in(&r->ns, r->server, r->pins,
		    r->c.device_id, r->sk, PROTO_PATH_REPORT, json, len, &rs,
		    e)) != 0 || (rc = net_outcome_rc(&rs, e)) != 0)
			goto out;
		r->answered = 1;
		switch (rs.status) {
		case 200:
		case 202:
			answer_learn(r, &rs);
			rc = done(r, seqs[i], "delivered", rs.status, e);
			sent++;
			break;
		case 401:
			rc = sig_refused("report", e);
			goto out;
		case 403:
			rc = revoked(rs.status, e);
			goto out;
		case 429:
		case 503:
			rc = busy(r, &rs, "report", e);
			goto out;
		case 409:
			/* Never sent again: a later seq would not fix it. */
			log_warn("report %lld refused as a replay (HTTP 409); "
			    "kept in sent/ as rejected", (long long)seqs[i]);
			rc = done(r, seqs[i], "rejected", rs.status, e);
			break;
		default:
			if (rs.status >= 500 || rs.status == 404 ||
			    rs.status == 408 || rs.status == 429) {
				rc = err_set(e, MUSTER_ETEMP, "report %lld: "
				    "server answered HTTP %u",
				    (long long)seqs[i], rs.status);
				goto out;
			}
			/* A clock that is off shows here too: later reports
			 * are stamped right, and this cycle's is made again
			 * (the report's own time is signed). */
			if (rs.status == 400 && clock_learn(r, &rs) &&
			    seqs[i] == r->fresh && r->restamped == 0) {
				rc = restamp(r, seqs[i], json, len, rs.status,
				    e);
				break;
			}
			log_error("report %lld refused (HTTP %u); kept in sent/ "
			    "as rejected", (long long)seqs[i], rs.status);
			rc = done(r, seqs[i], "rejected", rs.status, e);
			break;
		}
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	if (sent > 0)
		log_info("delivered %zu report%s", sent, sent == 1 ? "" : "s");
	free(json);
	free(seqs);
	net_response_free(&rs);
	return rc;
}

/*
 * (d) Sends the spooled reports in seq order, and the one made again for
 * the clock (restamp) after them.  Returns 0 when none is left,
 * MUSTER_ETEMP when the server could not take them now, MUSTER_ETRUST
 * when it refuses the device or the pin does not match.
 */
static int
send_spool(struct runner *r, struct muster_err *e)
{
	int rc = send_pass(r, e);

	if (rc == 0 && r->restamped == 1) {
		r->restamped = 2;
		rc = send_pass(r, e);
	}
	return rc;
}

/*
 * Sleeps up to secs seconds or until a signal; signals are blocked
 * except inside ppoll, so none is lost between the check and the sleep.
 */
static void
nap(long secs)
{
	sigset_t block, old;
	struct timespec ts = { secs, 0 };

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (!got_term && !got_hup && secs > 0)
		ppoll(NULL, 0, &ts, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Backoff before retry k (1, 2, ...): base * 2^(k-1), capped, jittered. */
static long
backoff(long base, long cap, unsigned k)
{
	long d = base;

	while (--k > 0 && d < cap)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Uniform in [d/2, d]: devices that lost the server together do
	 * not come back together. */
	return d / 2 + (long)randombytes_uniform((uint32_t)(d / 2 + 1));
}

/*
 * The wait the server asked for (Retry-After), jittered: uniform in
 * [ra, ra + ra / PROTO_RETRY_JITTER_DIV], so that devices the server
 * turned away together do not come back together.
 */
static long
retry_after_wait(uint32_t ra)
{
	return (long)ra + (long)randombytes_uniform(ra /
	    PROTO_RETRY_JITTER_DIV + 1);
}

/*
 * 1 when a step that returned rc on its try number tries is to be tried
 * again: a temporary failure under --once, before RUN_ONCE_TRIES tries
 * and any SIGTERM, and not a Retry-After over RUN_ONCE_WAIT_MAX; it logs
 * e's message and waits first (what the server asked, else a backoff).
 * 0 when rc stands.
 */
static int
retry(struct runner *r, int rc, int tries, const struct muster_err *e)
{
	long wait;

	if (rc != MUSTER_ETEMP || !r->once || tries == RUN_ONCE_TRIES ||
	    got_term || r->retry_after > RUN_ONCE_WAIT_MAX)
		return 0;
	wait = r->retry_after > 0 ? retry_after_wait(r->retry_after) :
	    backoff(RUN_ONCE_BACKOFF, RUN_ONCE_BACKOFF_MAX, (unsigned)tries);
	r->retry_after = 0;
	log_warn("%s; retrying in %ld s", e->msg, wait);
	nap(wait);
	return 1;
}

/*
 * Sends the queued unenroll request, and nothing else, retried like the
 * reports.  Returns 0 once the server has it and the state is wiped
 * (r->gone is set), or why it is still queued.
 */
static int
leave_cycle(struct runner *r, struct muster_err *e)
{
	struct state_cfg c;
	unsigned status = 0;
	int rc, tries;

	if ((rc = state_cfg_load(r->dir, &c, e)) != 0)
		return rc;
	if (c.device_id[0] == '\0')
		return err_set(e, MUSTER_ECONFIG, "%s: not enrolled with a "
		    "server; run muster-agent unenroll to wipe it", r->dir);
	log_info("an unenroll request is queued: sending it, and nothing "
	    "else");
	tries = 0;
	do
		rc = leave_send(r->dir, &c, &status, e);
	while (retry(r, rc, ++tries, e));
	if (rc == 0) {
		r->gone = 1;
		log_info("unenrolled device %s (HTTP %u); the state %s is "
		    "wiped", c.device_id, status, r->dir);
	}
	return rc;
}

/*
 * What a report says that a policy can change, as text: the managed
 * profile's id and serial and what is stale (trust, policy).
 */
static void
report_basis(struct runner *r, char *buf, size_t size)
{
	struct state_profile *list = NULL;
	struct muster_err e;
	size_t n = 0, i;
	int trust, policy;
	long long serial = -1;

	if (state_profiles_load(r->dir, &r->a, &list, &n, &e) == 0)
		for (i = 0; i < n; i++)
			if (strcmp(list[i].p->id, r->c.profile_id) == 0)
				serial = list[i].p->serial;
	state_profiles_free(list, n);
	policy_stale(r->dir, &r->a, time(NULL), &trust, &policy);
	snprintf(buf, size, "%s:%lld:%d:%d", r->c.profile_id, serial, trust,
	    policy);
}

/*
 * Sends the spool, retried under --once (retry) once the server has
 * answered in this cycle: a server that cannot be reached at all is the
 * cycle's answer at once (75), as a failed policy GET was before.
 */
static int
send_retried(struct runner *r, struct muster_err *e)
{
	int rc, tries = 0;

	do
		rc = send_spool(r, e);
	while (r->answered && retry(r, rc, ++tries, e));
	return rc;
}

/*
 * After the reports went out: when no answer said the policy held is
 * current (the tag of a report's answer), GET /v1/policy and apply it,
 * and when that changed what a report says (the managed profile, what is
 * stale), check and report again under it, in the same check-in.  A
 * fetch that fails is logged and waits for the next cycle (the reports
 * are delivered); a device the server refuses is MUSTER_ETRUST.  *mrc
 * and *me are make_report's outcome.
 */
static int
policy_after(struct runner *r, int *mrc, struct muster_err *me,
    struct muster_err *e)
{
	struct muster_err fe = { 0 };
	char before[PROTO_POLICY_TAG_MAX], after[PROTO_POLICY_TAG_MAX];
	char was[PROFILE_ID_MAX + 64], now[PROFILE_ID_MAX + 64];
	int frc;

	held_tag(r, before);
	if (r->tag[0] != '\0' && strcmp(r->tag, before) == 0) {
		log_debug("policy %s is current (the report's answer)", before);
		return 0;
	}
	report_basis(r, was, sizeof was);
	if ((frc = fetch_policy(r, &fe)) == MUSTER_ETRUST) {
		*e = fe;
		return frc;
	}
	if (frc != 0) {
		log_warn("policy not fetched: %s", fe.msg);
		return 0;
	}
	/* Nothing new (304), or nothing a report says changed. */
	held_tag(r, after);
	if (strcmp(before, after) == 0)
		return 0;
	report_basis(r, now, sizeof now);
	if (strcmp(was, now) == 0)
		return 0;
	log_info("policy %s -> %s: checking and reporting again", before,
	    after);
	*mrc = make_report(r, me);
	return send_retried(r, e);
}

/*
 * One full cycle (fetch=1) or a retry of the sends only (fetch=0), under
 * the state's lock.  A first-wave device (no root document, no manifest)
 * fetches its policy or profile before it checks; any other reports
 * first and fetches the policy only when a report's answer says its own
 * is not current (policy_after): an unchanged check-in is one request.
 * Returns 0, MUSTER_ETEMP (queued) or an error.
 */
static int
cycle(struct runner *r, int fetch, struct muster_err *e)
{
	struct muster_err fe = { 0 }, me = { 0 };
	int64_t mv;
	int rc, frc = 0, mrc = 0, lockfd = -1, first = 0;

	net_session_init(&r->ns);
	r->ns.dir = r->dir;	/* TLS session resumption (net.h) */
	if ((rc = state_open(r->dir, 0, e)) != 0 ||
	    (rc = state_lock(r->dir, !r->once, &lockfd, e)) != 0)
		return rc;
	if ((rc = leave_pending(r->dir, e)) < 0)
		goto out;
	if (rc == 1) {
		rc = r->held ? 0 : leave_cycle(r, e);
		goto out;
	}
	r->refused = 0;
	r->retry_after = 0;
	r->fresh = 0;
	r->restamped = 0;
	r->answered = 0;
	r->tag[0] = '\0';
	if ((rc = runner_load(r, e)) != 0)
		goto out;
	if (r->held) {
		/* The server asked for quiet: check now, and let the report
		 * wait in the spool for the retry the server allowed. */
		if (fetch && (rc = make_report(r, e)) == 0)
			log_info("report kept: the server asked to wait");
		goto out;
	}
	first = fetch && !r->a.has_root && !holds_manifest(r, &mv);
	if (fetch && !first)
		mrc = make_report(r, &me);
	if (first) {
		frc = fetch_policy(r, &fe);
		if (frc == MUSTER_ETRUST) {
			*e = fe;
			rc = frc;
			goto out;
		}
		if (frc != 0)
			log_warn("profile not fetched: %s", fe.msg);
		/* A device that cannot be checked now does not hold back
		 * the reports already waiting.  Its error is said once:
		 * here, or as the cycle's own (below). */
		if ((mrc = make_report(r, &me)) != 0 && frc == MUSTER_ETEMP)
			log_error("no report this time: %s", me.msg);
		if (frc == MUSTER_ETEMP) {
			/* The server is away; the report waits with the rest. */
			*e = fe;
			rc = frc;
			goto out;
		}
	}
	/* A retry of the sends (fetch=0), or after the first-wave GET was
	 * answered: the server is there. */
	if (!fetch || first)
		r->answered = 1;
	rc = send_retried(r, e);
	if (fetch && !first && rc == 0)
		rc = policy_after(r, &mrc, &me, e);
	if (mrc != 0 && rc == 0) {
		*e = me;
		rc = mrc;
	} else if (mrc != 0)
		log_error("no report this time: %s", me.msg);
	/* A refused policy stops only --once (77 or 65), after the report
	 * made with the policy held went out; the daemon goes on. */
	if (rc == 0 && r->once && r->refused != 0) {
		*e = r->refusal;
		rc = r->refused;
	}
out:
	if (r->ns.started > 0)
		log_debug("check-in: %u reporter%s, %u exchange%s on the last",
		    r->ns.started, r->ns.started == 1 ? "" : "s",
		    r->ns.exchanges, r->ns.exchanges == 1 ? "" : "s");
	net_session_close(&r->ns);
	runner_free(r);
	if (lockfd != -1)
		close(lockfd);
	return rc;
}

/*
 * cycle, and once more when the server refused this device but took it
 * back by its enrollment receipt (its store was restored; rereg.c).
 */
static int
cycle_rereg(struct runner *r, int fetch, struct muster_err *e)
{
	int rc = cycle(r, fetch, e);

	if (rc == MUSTER_ETRUST && !r->held && rereg_try(r->dir) == 0)
		rc = cycle(r, 1, e);
	return rc;
}

/* The end of one cycle in words and in the exit code. */
static int
finish(struct runner *r, int rc, const struct muster_err *e)
{
	size_t pending = 0;

	if (r->gone)
		return rc == 0 ? 0 : err_exit_code(rc);
	spool_pending(r->dir, &pending, NULL);
	if (rc == 0) {
		log_debug("nothing waiting in the spool");
		return 0;
	}
	if (rc == MUSTER_ETEMP)
		log_warn("%s; %zu report%s queued", e->msg, pending,
		    pending == 1 ? "" : "s");
	else
		log_error("%s", e->msg);
	return err_exit_code(rc);
}

int
run_cmd(struct cmd_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "once", no_argument, NULL, 'o' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_args ra = { 0, 0, 0 };
	struct cmd_flag flags[] = { { 'o', &ra.once },
	    { 'f', &ra.foreground }, { 'v', &ra.verbose }, { 0, NULL } };
	struct muster_err e = { 0 };
	struct sigaction sa;
	struct runner r;
	time_t now, next_cycle = 0, next_retry = 0, quiet_until = 0;
	unsigned fails = 0;
	long wait;
	int ex, rc, fetch;

	if (cmd_getopt_noargs(o, argc, argv, "", opts, run_usage,
	    cmd_flag_opt, flags, &ex) != 0)
		return ex;
	log_init(CMD_PROG, !(ra.once || ra.foreground),
	    ra.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	log_warn_word("warning");
	memset(&r, 0, sizeof r);
	r.dir = o->state;
	r.device = o->device;
	r.once = ra.once;
	r.interval = PROFILE_DEFAULT_REPORT_INTERVAL;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (ra.once)
		return finish(&r, cycle_rereg(&r, 1, &e), &e);
	log_info("started (state %s, device %s)", o->state, o->device);
	while (!got_term) {
		now = time(NULL);
		fetch = got_hup || now >= next_cycle;
		if (fetch || (next_retry != 0 && now >= next_retry)) {
			got_hup = 0;
			/* Nothing goes to the server before its Retry-After
			 * has passed, not even a scheduled check-in. */
			r.held = now < quiet_until;
			rc = cycle_rereg(&r, fetch, &e);
			if (fetch)
				next_cycle = time(NULL) + (time_t)r.interval;
			if (r.held && rc == 0) {
				/* Checked and spooled: the retry sends. */
			} else if (rc == MUSTER_ETEMP && r.retry_after > 0) {
				/* The server said when: that, jittered. */
				finish(&r, rc, &e);
				next_retry = time(NULL) + retry_after_wait(
				    r.retry_after);
				quiet_until = next_retry;
				r.retry_after = 0;
			} else if (rc == MUSTER_ETEMP) {
				finish(&r, rc, &e);
				next_retry = time(NULL) + backoff(
				    RUN_BACKOFF_BASE, RUN_BACKOFF_MAX, ++fails);
			} else if (rc == MUSTER_ETRUST ||
			    rc == MUSTER_ECONFIG) {
				/* Revoked, pin, not enrolled, bad state: a
				 * supervisor that restarts us changes none. */
				return finish(&r, rc, &e);
			} else if (rc != 0) {
				/* The device, say: try again next cycle. */
				finish(&r, rc, &e);
			} else {
				fails = 0;
				next_retry = 0;
			}
			/* A retry never comes before the quiet ends. */
			if (next_retry != 0 && next_retry < quiet_until)
				next_retry = quiet_until;
			r.held = 0;
			if (r.gone) {
				log_info("stopped: this device has left");
				return 0;
			}
			/* Hand back what the cycle used before sleeping. */
			malloc_trim(0);
		}
		now = time(NULL);
		wait = (long)(next_cycle - now);
		if (next_retry != 0 && next_retry - now < wait)
			wait = (long)(next_retry - now);
		if (wait > 0)
			nap(wait);
	}
	log_info("stopped");
	return 0;
}
