/*
 * proto: the device protocol's wire format in one place (docs/protocol.md),
 * as minisign keeps its whole format in minisign.h.  The agent builds its
 * requests with these names, the server checks them with the same names,
 * and the test tools speak them too, so that nothing here can change on
 * one side of the wire and not on the other.
 *
 * Ids are spelled elsewhere but once: a device id is DEVICE_ID_HEX - 1
 * lowercase hex digits (muster/token.h), a profile or rule id at most
 * PROFILE_ID_MAX bytes (muster/profile.h), a report's results at most
 * PROFILE_MAX_RULES.  The report itself is built and validated by one
 * module, muster/report.h.
 *
 * Besides the constants, the JSON gate both sides share: a body is capped
 * in nesting before jansson sees it, duplicate keys are refused, and
 * members are read by exact type.
 */
#ifndef MUSTER_PROTO_H
#define MUSTER_PROTO_H

#include <stddef.h>

#include "muster/timefmt.h"

/* Headers of a request from an enrolled device. */
#define PROTO_HDR_DEVICE	"Muster-Device"		/* its device id */
#define PROTO_HDR_SIGNATURE	"Muster-Signature"	/* base64 Ed25519 */
#define PROTO_HDR_TIME		"Muster-Time"		/* a GET's time */
#define PROTO_HDR_ROOT		"Muster-Root"		/* root version held */

/*
 * A POST is signed over its exact body; a GET over
 * PROTO_GET_PREFIX "<path>\n<Muster-Time>\n", and the server accepts a
 * Muster-Time at most PROTO_GET_SKEW seconds from its own clock.
 */
#define PROTO_GET_PREFIX	"muster-get-v1\n"
#define PROTO_GET_SKEW		300	/* seconds */
/* A report's time may be at most this far ahead of the server's clock. */
#define PROTO_REPORT_SKEW	300	/* seconds */
/*
 * A report spooled through an outage may be this old (and no older than
 * its device's enrollment); it is stored at its own time when it comes
 * after the device's previous report (docs/protocol.md, "Late reports").
 */
#define PROTO_REPORT_LATE_MAX	(90LL * 24 * 3600)	/* seconds */
#define PROTO_TIME_LEN		TIMEFMT_CHARS	/* YYYY-MM-DDTHH:MM:SSZ */

/* The API (docs/protocol.md). */
#define PROTO_PATH_ENROLL		"/v1/enroll"
#define PROTO_PATH_PREVIEW		"/v1/enroll/preview"
#define PROTO_PATH_PROFILE		"/v1/profile"
#define PROTO_PATH_REPORT		"/v1/report"
#define PROTO_PATH_UNENROLL		"/v1/unenroll"
#define PROTO_PATH_ADMIN_PROFILE	"/v1/admin/profile"
#define PROTO_PATH_ADMIN_REVOKE		"/v1/admin/revoke"
#define PROTO_PATH_ADMIN_ROLLUP		"/v1/admin/rollup"
#define PROTO_PATH_ADMIN_ROOT		"/v1/admin/root"
#define PROTO_PATH_ADMIN_MANIFEST	"/v1/admin/manifest"
#define PROTO_PATH_HEALTHZ		"/healthz"
#define PROTO_PATH_METRICS		"/metrics"
#define PROTO_PATH_POLICY		"/v1/policy"	/* roots, manifest, profiles */
#define PROTO_PATH_ROOT			"/v1/root"	/* ?since=N, unsigned */
#define PROTO_PATH_CONSENT		"/v1/consent"	/* a new family receipt */

/* What a report says is stale (its optional "stale" member). */
#define PROTO_STALE_TRUST	"trust"		/* the newest root expired */
#define PROTO_STALE_POLICY	"policy"	/* the manifest expired */
#define PROTO_STALE_CONSENT	"consent"	/* a profile awaits consent */

/*
 * Clock skew is not revocation: a signed GET whose Muster-Time is out of
 * the window is answered PROTO_CLOCK_STATUS with
 * {"error":PROTO_ERR_CLOCK,"server_time":T}, a report out of its window
 * 400 with {"error":PROTO_ERR_REPORT_WINDOW,"server_time":T,...}; the
 * device corrects its clock by the difference (docs/protocol.md).
 */
#define PROTO_CLOCK_STATUS	400
#define PROTO_ERR_CLOCK		"clock"
#define PROTO_ERR_REPORT_WINDOW	"report time out of window"
#define PROTO_ERR_REPORT_BEFORE	"report time is before the device's " \
				"previous report"

/*
 * A report's answer (202 stored, 200 duplicate) says what a check-in
 * needs besides: {"status":S,"seq":N,["late":true,]"policy":"R:M",
 * "server_time":T}.  "policy" is the value GET /v1/policy would give as
 * its ETag for the device now (R the newest root version, M the version
 * of the scope's manifest, 0 for none): a device that holds it has no
 * need of that GET.  "server_time" lets a device whose clock drifted
 * past PROTO_GET_SKEW correct it (docs/protocol.md, "One connection per
 * check-in").  A tag is at most PROTO_POLICY_TAG_MAX bytes.
 */
#define PROTO_POLICY_TAG_MAX	48	/* two int64 in decimal and a colon */

/*
 * Overload: 503 (the server's writer is behind) or 429 (a rate limit)
 * with Retry-After in seconds; the device waits that long plus a jitter
 * of up to half as much again (PROTO_RETRY_JITTER_DIV), keeping its
 * reports spooled.
 */
#define PROTO_RETRY_JITTER_DIV	2

/* Every request and answer body of the API is JSON. */
#define PROTO_CTYPE_JSON	"application/json"

/* Limits both sides keep. */
#define PROTO_REPORT_MAX	(64 * 1024)	/* bytes of a report */
/*
 * The profile limits that lint, sign, publish and report agree on
 * (lib/profile_fit.c, muster-profile(5)): a request body is at most
 * PROTO_BODY_MAX (the server's default limits.max_body); a publish
 * carries the profile in base64 with its signature and a manifest within
 * PROTO_PUBLISH_OVERHEAD, so a profile is at most
 * PROTO_PUBLISH_PROFILE_MAX bytes; and its report without details (the
 * agent drops details rather than exceed PROTO_REPORT_MAX) is at most
 * PROTO_REPORT_FIXED_MAX plus PROTO_RESULT_FIXED and the rule id's length
 * per rule.
 */
#define PROTO_BODY_MAX			(64 * 1024)
#define PROTO_PUBLISH_OVERHEAD		4096
#define PROTO_PUBLISH_PROFILE_MAX	\
	((PROTO_BODY_MAX - PROTO_PUBLISH_OVERHEAD) / 4 * 3)
#define PROTO_REPORT_FIXED_MAX		2048
/* {"rule":"","result":"remediated"}, */
#define PROTO_RESULT_FIXED		34
#define PROTO_MODEL_MAX		128	/* bytes of "manufacturer model" */
#define PROTO_DETAIL_MAX	1024	/* bytes of a result's detail */

/* A report's overall status and each rule's result. */
#define PROTO_STATUS_COMPLIANT		"compliant"
#define PROTO_STATUS_NONCOMPLIANT	"noncompliant"
#define PROTO_RESULT_PASS		"pass"
#define PROTO_RESULT_FAIL		"fail"
#define PROTO_RESULT_REMEDIATED		"remediated"
#define PROTO_RESULT_ERROR		"error"

struct json_t;

/*
 * Parses len bytes of JSON, refusing nesting deeper than depth before
 * jansson sees them, duplicate keys, and anything but an object.  Returns
 * the object (the caller json_decref's it), or NULL with errno ENOMEM when
 * any allocation failed during the parse (jansson's result is then not
 * trusted), else errno 0.
 */
struct json_t	*proto_json_parse(const char *buf, size_t len, int depth);

/*
 * The value of o's string member key (it points into o), or NULL when it
 * is absent or not a string; its length into *len unless len is NULL.
 */
const char	*proto_json_str(struct json_t *o, const char *key, size_t *len);

/*
 * o's integer member key into *v: 0 when it is one and in [lo, hi], else
 * -1 (absent, not an integer, out of range).
 */
int		 proto_json_int(struct json_t *o, const char *key, long long lo,
		    long long hi, long long *v);

/* 1 if every key of object o is in the NULL-terminated list allowed. */
int		 proto_json_keys_ok(struct json_t *o,
		    const char *const *allowed);

/*
 * 1 if s is a profile or rule id as profiles/README.md defines it: a
 * lowercase letter or digit, then those or '.', '_', '-', shorter than
 * PROFILE_ID_MAX bytes.
 */
int		 proto_id_ok(const char *s);

/* 1 if s has no control character (text that people will read). */
int		 proto_text_ok(const char *s);

/* 1 if s is exactly len lowercase hex digits. */
int		 proto_hex_ok(const char *s, size_t len);

/*
 * The policy tag "R:M" (PROTO_POLICY_TAG_MAX) of root version root and
 * manifest version manifest, both 0 .. 2^31-1 in decimal: what GET
 * /v1/policy gives as its ETag (quoted) and a report's answer carries.
 */
void		 proto_policy_tag(char buf[PROTO_POLICY_TAG_MAX], int64_t root,
		    int64_t manifest);

/* 1 if s is a policy tag as proto_policy_tag spells it: no sign, no
 * leading zero, each version at most 2^31-1, one ':'. */
int		 proto_policy_tag_ok(const char *s);

/*
 * Family reports are randomized on the device (muster/rr.h,
 * docs/privacy.md): a family report carries "privacy": PROTO_PRIVACY_RR,
 * its results are only pass or fail, each the truth with probability
 * PROTO_RR_KEEP_NUM / PROTO_RR_KEEP_DEN (epsilon = ln 3 per rule), and
 * its status is compliant exactly when no result is fail.  A protocol
 * constant, not a profile field: no signed profile can weaken it.
 */
#define PROTO_PRIVACY_RR	"rr1"
#define PROTO_RR_KEEP_NUM	3
#define PROTO_RR_KEEP_DEN	4
#define PROTO_RR_BUDGET		64	/* questions answered with eps > 0 */

/*
 * Re-registration after the server's store was restored from a backup
 * (docs/protocol.md, "Re-registration"): the enrollment receipt the
 * server signed, presented with the device's signature.
 */
#define PROTO_PATH_REREGISTER		"/v1/reregister"
#define PROTO_RECEIPT_MAX		2048	/* bytes of a receipt's body */
#define PROTO_RECEIPT_JSON_MAX		4096	/* {"body","sig"} as kept */

/*
 * Sorts the n strings at v (strcmp order; the strings are not copied)
 * and returns 1 if two of them are equal, else 0: a rule id listed twice
 * in a report or a consent.
 */
int		 proto_sort_has_dup(const char **v, size_t n);

#endif
