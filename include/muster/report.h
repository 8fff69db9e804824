/*
 * report: the compliance report a device sends (docs/protocol.md, "POST
 * /v1/report"), built by the agent and validated by the server in this one
 * module, so that a field added on one side cannot be forgotten on the
 * other.
 *
 * Built as deterministic JSON bytes: the same input always gives the same
 * bytes, fields in the protocol's order, compact, ASCII.  Those bytes are
 * what the device key signs and what is spooled, sent and kept in sent/.
 *
 * A family report carries device, seq, time, profile, serial, status,
 * dropped, stale and results with rule and result only, whatever it is
 * given: no model, no detail; and the validator refuses a family report
 * with more.
 *
 * "stale" (after "dropped", only when something is stale) lists what the
 * device enforces without it being current: "trust" (its newest root has
 * expired), "policy" (its manifest has expired: a server that stopped
 * serving new policy, a freeze, is seen), "consent" (a family profile
 * waits for the member's new consent; the report is of the profile
 * consented to).  It says nothing about the member.
 */
#ifndef MUSTER_REPORT_H
#define MUSTER_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/timefmt.h"

/* Nesting of a report: { "results": [ { } ] } */
#define REPORT_JSON_DEPTH	3

struct report_result {
	const char	*rule;		/* rule id */
	const char	*result;	/* PROTO_RESULT_* */
	const char	*detail;	/* personnel only; NULL for none */
};

/* What a report may say is stale (report_in.stale, report_fields.stale). */
#define REPORT_STALE_TRUST	0x1u	/* PROTO_STALE_TRUST */
#define REPORT_STALE_POLICY	0x2u	/* PROTO_STALE_POLICY */
#define REPORT_STALE_CONSENT	0x4u	/* PROTO_STALE_CONSENT */
#define REPORT_STALE_ALL	0x7u

struct report_in {
	enum profile_scope		 scope;
	const char			*device;
	int64_t				 seq;
	time_t				 time;
	const char			*profile;
	int64_t				 serial;
	int				 compliant;
	int64_t				 dropped;
	unsigned			 stale;	/* REPORT_STALE_*; 0: none */
	const char			*model;	/* personnel; NULL if unknown */
	const struct report_result	*results;
	size_t				 nresults;
};

/*
 * Builds the report into a malloc'd NUL-terminated *out of *len bytes.
 * When the details make it larger than PROTO_REPORT_MAX it is built again
 * without them.  The model is cut to PROTO_MODEL_MAX bytes and anything
 * but printable ASCII in it replaced by '?'.  Returns 0, MUSTER_EDATA when
 * even the minimal report does not fit, or MUSTER_EINTERNAL.
 */
int	report_build(const struct report_in *in, char **out, size_t *len,
	    struct muster_err *e);

/*
 * The same report (len bytes at buf, as report_build made it) with seq
 * and time replaced, into a malloc'd *out of *outlen bytes: every other
 * byte as it was.  For a report the server refused for the device's
 * clock, made again with the corrected time under a new seq.  Returns 0,
 * MUSTER_EDATA when buf is not such a report, or MUSTER_EINTERNAL.
 */
int	report_restamp(const char *buf, size_t len, int64_t seq, time_t t,
	    char **out, size_t *outlen, struct muster_err *e);

/* What the answer to a report says besides its status (muster/proto.h). */
struct report_answer {
	char	policy[PROTO_POLICY_TAG_MAX];	/* "R:M", or "" */
	time_t	server_time;			/* or 0 */
};

#define REPORT_ANSWER_MAX	1024	/* bytes of an answer read */

/*
 * Reads the answer to a report (len bytes at body, a JSON object of at
 * most REPORT_ANSWER_MAX bytes): "policy" when it is "R:M" (each a
 * version 0 .. 2^31-1 in decimal, no sign, no leading zero) and
 * "server_time" when it is an RFC 3339 UTC time; a member missing or
 * malformed is left empty, the rest of the object is not read.  Returns
 * 0, or -1 when body is not a JSON object of that size.
 */
int	report_answer_parse(const char *body, size_t len,
	    struct report_answer *a);

/* What `muster-agent log` shows of a stored report. */
struct report_summary {
	int64_t		seq;
	char		time[TIMEFMT_LEN];
	char		status[16];
	int64_t		dropped;
};

/*
 * Reads the summary fields of a report this agent wrote (len bytes at
 * buf).  Returns 0, or MUSTER_EDATA when they are missing or malformed.
 */
int	report_summary(const char *buf, size_t len, struct report_summary *s,
	    struct muster_err *e);

/* A validated report; the strings point into the object validated. */
struct report_fields {
	const char		*device;
	int64_t			 seq;
	time_t			 time;
	const char		*profile;
	int64_t			 serial;
	int			 compliant;
	unsigned		 stale;		/* REPORT_STALE_*; 0: none */
	const char		**failing;	/* malloc'd: fail or error */
	size_t			 nfailing;
};

/*
 * Validates o, a report parsed with proto_json_parse(...,
 * REPORT_JSON_DEPTH), as one from device (its id, as Muster-Device named
 * it) of scope: the field set of its scope, each field's type and range,
 * the result words, the limits, no rule twice, and an optional "stale"
 * list of 1..3 distinct words of PROTO_STALE_*.  Returns 0 with *r filled
 * (its strings point into o; r->failing is malloc'd, free it, and NULL
 * when no rule fails); MUSTER_EDATA with *why, the protocol's one-line
 * reason (a static string the server sends in its 400); or
 * MUSTER_EINTERNAL when memory ran out.  *r holds nothing to free on
 * failure.
 */
int	report_validate(struct json_t *o, enum profile_scope scope,
	    const char *device, struct report_fields *r, const char **why)
	    __attribute__((warn_unused_result));

/*
 * The i-th stale word (PROTO_STALE_*) in the order a report lists them,
 * with its REPORT_STALE_* bit in *bit; NULL (and *bit 0) past the last.
 * The words are static.
 */
const char *report_stale_word(size_t i, unsigned *bit);

#endif
