/*
 * profile: the policy profile format (profiles/README.md) and its loader.
 *
 * A profile is parsed from an in-memory buffer, the same bytes whose
 * signature was verified; the loader never reads a file itself.  Everything
 * it returns is owned by the struct profile and freed by profile_free().
 */
#ifndef MUSTER_PROFILE_H
#define MUSTER_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/timefmt.h"

#define PROFILE_MAX_BYTES	(256 * 1024)
#define PROFILE_MAX_RULES	4096
#define PROFILE_MAX_LIST	1024	/* models, packages, cidrs per rule */
#define PROFILE_ID_MAX		64	/* profile and rule ids */
#define PROFILE_DEFAULT_REPORT_INTERVAL	3600	/* seconds */
#define PROFILE_MIN_REPORT_INTERVAL	60	/* seconds */
#define PROFILE_MAX_REPORT_INTERVAL	604800	/* seconds: one week */
#define PROFILE_STR_MAX		256	/* bytes in a title, value or name */
#define PROFILE_MAX_DEPTH	8	/* nesting of ( { [ in the file */

enum profile_scope {
	SCOPE_PERSONNEL,
	SCOPE_FAMILY,
};

enum rule_kind {
	RULE_MODEL_BAN,
	RULE_SETTING,
	RULE_PACKAGE_BAN,
	RULE_OS_MIN,
	RULE_EGRESS_DENY,
};

enum rule_severity {
	SEV_LOW,
	SEV_MEDIUM,
	SEV_HIGH,
	SEV_CRITICAL,
};

enum rule_action {
	ACTION_REPORT,		/* only report (every kind) */
	ACTION_REMEDIATE,	/* setting: set the expected value */
	ACTION_DISABLE,		/* package-ban: disable the packages */
};

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network order; 4 bytes used for v4 */
	unsigned	prefix;		/* 0..32 or 0..128; host bits are zero */
};

struct rule {
	char			*id;
	enum rule_kind		 kind;
	enum rule_severity	 severity;
	char			*title;
	enum rule_action	 action;
	int			 line;		/* line of the rule in the file */

	/* model-ban */
	char			*manufacturer;
	char			**models;
	size_t			 nmodels;
	char			*min_build;	/* NULL: no build exempts */

	/* setting */
	char			*namespace;	/* "system", "secure", "global" */
	char			*key;
	char			*expect;

	/* package-ban */
	char			**packages;
	size_t			 npackages;

	/* os-min */
	char			*min_version;	/* e.g. "4.4.4" */

	/* egress-deny */
	struct cidr		*cidrs;
	size_t			 ncidrs;
};

struct profile {
	char			*id;
	int64_t			 serial;	/* >= 1 */
	time_t			 expires;
	char			*expires_str;	/* as written, RFC 3339 UTC */
	enum profile_scope	 scope;
	char			*title;		/* NULL if absent */
	int64_t			 report_interval; /* seconds */
	struct rule		*rules;
	size_t			 nrules;
};

/*
 * Parses len bytes at buf (which need not be NUL-terminated) as a profile;
 * name is used only in error messages ("name:line: what is wrong").
 * Refuses: more than PROFILE_MAX_BYTES, NUL bytes, any @include directive,
 * libconfig syntax errors, unknown or missing fields, wrong types, unknown
 * rule kinds, severities, actions or scopes, duplicate rule ids, bad ids,
 * bad CIDRs, bad dates, empty lists, a setting rule whose key names an
 * identifier (muster/ident.h).  Returns 0 and a new profile in *out,
 * or MUSTER_EDATA (MUSTER_EINTERNAL on allocation failure) with *out NULL.
 */
int	profile_parse(const char *name, const char *buf, size_t len,
	    struct profile **out, struct muster_err *e);

/* Frees p and everything it owns; NULL is a no-op. */
void	profile_free(struct profile *p);

/* Names as written in profiles ("model-ban", "critical", "personnel"...). */
const char *profile_scope_name(enum profile_scope s);
const char *profile_kind_name(enum rule_kind k);
const char *profile_severity_name(enum rule_severity s);
const char *profile_action_name(enum rule_action a);

/*
 * 1 if s is a profile (or rule) id: 1 to PROFILE_ID_MAX of a-z 0-9 . _ -,
 * a letter or digit first; else 0.
 */
int	profile_valid_id(const char *s);

/* Parses a scope name; returns 0 or -1. */
int	profile_scope_parse(const char *s, enum profile_scope *out);

/*
 * Parses "a.b.c.d/n" or an IPv6 "x::y/n" into c.  Refuses a missing or
 * out-of-range prefix and set host bits.  Returns 0 or -1.
 */
int	profile_cidr_parse(const char *s, struct cidr *c);

/*
 * The trusted comment a Muster signature of p carries:
 * "muster-profile id=ID serial=N scope=SCOPE expires=TIME".
 * Writes at most size bytes to buf; returns 0, or -1 if it did not fit.
 */
int	profile_trusted_comment(const struct profile *p, char *buf,
	    size_t size);

struct sig_pubkey;
struct sig_signature;

/*
 * Verify, then parse: checks the minisign signature file sig (siglen
 * bytes, named signame in messages) over exactly the len bytes at buf with
 * pk, and only then parses that same buffer as a profile.  A Muster
 * trusted comment ("muster-profile ...") must describe the parsed profile;
 * any other trusted comment (stock minisign's) is accepted as it is.
 * Returns 0 with a new profile in *out (and the parsed signature in *s if
 * s is not NULL); MUSTER_EDATA for a malformed signature file or profile;
 * MUSTER_ETRUST when the key id, signature or trusted comment does not
 * verify.  Expiry, scope and rollback are the caller's to judge.
 */
int	profile_verify(const char *name, const char *buf, size_t len,
	    const char *signame, const char *sig, size_t siglen,
	    const struct sig_pubkey *pk, struct profile **out,
	    struct sig_signature *s, struct muster_err *e)
	    __attribute__((warn_unused_result));

#endif
