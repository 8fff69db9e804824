/*
 * consent: a family member's consent to enrollment (docs/protocol.md,
 * "Family consent").
 *
 * The member is shown one text: CONSENT_TEXT, the same for every
 * enrollment, followed by a section drawn from the family profile the
 * server would install (its rules, what each reads, and the changes the
 * member allows).  The device signs a receipt with the enrollment body:
 *
 *	{"text_hash": BLAKE2b-256 hex of the exact text shown,
 *	 "time": when the member agreed, "token": the token id,
 *	 "profile": id, "serial": N,		(absent when none was shown)
 *	 "hash": BLAKE2b-256 hex of the exact profile bytes shown,
 *	 "remediate": [ {"rule": id, "change": BLAKE2b-256 hex}, ... ]}
 *
 * "remediate" lists the rules the member allows the agent to change the
 * phone for, each with a hash of exactly what that change is (the
 * setting and value, or the packages), so that a later profile that keeps
 * a rule's id but changes what it does is not covered.  On a family
 * device a rule is remediated only if the consent covers it; any other
 * rule is reported only.
 *
 * The receipt is kept as sent in STATE/consent.json and the text as shown
 * in STATE/consent.txt, so the member can read both again.
 */
#ifndef MUSTER_AGENT_CONSENT_H
#define MUSTER_AGENT_CONSENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/timefmt.h"
#include "muster/token.h"

#define CONSENT_FILE		"consent.json"
#define CONSENT_TEXT_FILE	"consent.txt"
#define CONSENT_PROFILE_FILE	"consented.profile"	/* the profile shown */
#define CONSENT_HASH_BYTES	crypto_generichash_BYTES	/* 32 */
#define CONSENT_HASH_HEX	(2 * CONSENT_HASH_BYTES + 1)
#define CONSENT_MAX		(64 * 1024)	/* receipt: the body limit */
#define CONSENT_TEXT_MAX	(512 * 1024)	/* text: profile-sized */
#define CONSENT_ANSWER		"yes"
#define CONSENT_NOTE		"not remediated: not covered by consent"

struct consent_rule {
	char	rule[PROFILE_ID_MAX + 1];
	char	change[CONSENT_HASH_HEX];
};

struct consent {
	char			 text_hash[CONSENT_HASH_HEX];
	char			 time[TIMEFMT_LEN];
	char			 token[TOKEN_ID_HEX];
	char			 profile[PROFILE_ID_MAX + 1];	/* "": none */
	int64_t			 serial;
	char			 hash[CONSENT_HASH_HEX];	/* "": none */
	struct consent_rule	*rules;		/* changes allowed; malloc'd */
	size_t			 nrules;
};

/*
 * The text a member is shown before a family enrollment: CONSENT_TEXT,
 * then the rules of p (NULL when no family profile is published) with
 * the changes allowed, none if report_only.  *out is malloc'd and
 * NUL-terminated, *len bytes.  Control characters from the profile are
 * shown as '?'.
 */
int	consent_text(const struct profile *p, int report_only, char **out,
	    size_t *len, struct muster_err *e);

/* Just CONSENT_TEXT (what can be shown before the profile is known). */
const char *consent_text_base(void);

/*
 * 1 if the agent can change the device for r: a setting with action
 * remediate or a package-ban with action disable.
 */
int	consent_rule_changes(const struct rule *r);

/* The hash of the change r makes (kind, id and every value it sets). */
void	consent_change_hash(const struct rule *r, char out[CONSENT_HASH_HEX]);

/*
 * Fills c for the len bytes of text shown, the token id, the time t and
 * the profile p shown (may be NULL) with hash, the BLAKE2b-256 hex of its
 * exact bytes (NULL: not named): every rule of p that changes the device
 * is allowed unless report_only.  consent_free releases it.
 */
int	consent_make(struct consent *c, const char *text, size_t len,
	    const char *token, time_t t, const struct profile *p,
	    const char *hash, int report_only, struct muster_err *e);

/*
 * The hash of what p's rules read (their ids and kinds, and the setting,
 * packages or ranges each names), so that a new family profile that reads
 * something else waits for consent and one that only changes a title, a
 * severity or a threshold does not.
 */
void	consent_reads_hash(const struct profile *p, char out[CONSENT_HASH_HEX]);

/* The receipt as a new JSON object (NULL when out of memory). */
json_t	*consent_json(const struct consent *c);

/*
 * Parses and checks a receipt (len bytes at buf, named name in messages)
 * into c.  Returns 0 or MUSTER_EDATA.
 */
int	consent_parse(const char *name, const char *buf, size_t len,
	    struct consent *c, struct muster_err *e);

/* Writes the receipt and the text into the state dir (0600, atomic). */
int	consent_store(const char *dir, const char *receipt, size_t rlen,
	    const char *text, size_t tlen, struct muster_err *e);

/*
 * Loads STATE/consent.json into c.  MUSTER_ENOINPUT when there is none
 * (c is then empty: it covers nothing); MUSTER_ECONFIG when damaged.
 */
int	consent_load(const char *dir, struct consent *c, struct muster_err *e);

void	consent_free(struct consent *c);

/*
 * Shows the len bytes of text on the terminal tty (when stdout is not
 * that terminal) and asks for CONSENT_ANSWER.  Returns 0 for yes, else
 * MUSTER_EUSAGE.
 */
int	consent_ask(int tty, const char *text, size_t len,
	    struct muster_err *e);

/* 1 if c allows the change r makes, exactly as r makes it now. */
int	consent_covers(const struct consent *c, const struct rule *r);

#endif
