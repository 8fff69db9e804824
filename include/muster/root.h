/*
 * root: the org's root of trust (docs/protocol.md "Root of trust",
 * docs/keys.md): a versioned libconfig document naming the server, its
 * TLS pins and, for each role, the minisign keys and the threshold, signed
 * by a threshold of root keys (a sigset).  Root vN+1 is accepted from a
 * holder of vN when it meets both vN's and its own root threshold (TUF 1.0
 * §5.3), so keys can change without re-enrollment.
 *
 * A struct root is plain data: no pointer, copied by assignment.
 */
#ifndef MUSTER_ROOT_H
#define MUSTER_ROOT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/url.h"

#define ROOT_MAX		(16 * 1024)	/* bytes of a root document */
#define ROOT_CHAIN_MAX		32	/* versions walked in one check-in */
#define ROOT_PINS_MAX		4
#define ROOT_KEYS_MAX		8	/* keys of one role */
#define ROOT_PIN_SIZE		64	/* "sha256//" + 44 base64 + NUL fits */
#define ROOT_VERSION_MAX	SIGSET_VERSION_MAX
#define ROOT_TYPE		"muster-root"
#define ROOT_TC_PREFIX		"muster-root version="
#define ROOT_TC_MAX		64
/* curl's CURLOPT_PINNEDPUBLICKEY list of every pin: "pin;pin;..." */
#define ROOT_PINS_CURL_MAX	(ROOT_PINS_MAX * ROOT_PIN_SIZE)

enum root_role {
	ROOT_ROLE_ROOT,		/* signs roots, k-of-n */
	ROOT_ROLE_POLICY,	/* signs profiles and manifests */
	ROOT_ROLE_REVOCATION,	/* signs revocations; threshold 1 */
	ROOT_ROLE_ENROLL,	/* signs enrollment tokens; threshold 1 */
};
#define ROOT_NROLES		4

struct root_keyset {
	struct sig_pubkey	keys[ROOT_KEYS_MAX];
	size_t			nkeys;		/* 1 .. ROOT_KEYS_MAX */
	unsigned		threshold;	/* 1 .. nkeys */
};

struct root {
	int64_t			version;	/* 1 .. ROOT_VERSION_MAX */
	time_t			expires;
	char			server[URL_MAX + 1];
	char			pins[ROOT_PINS_MAX][ROOT_PIN_SIZE];
	size_t			npins;		/* 1 .. ROOT_PINS_MAX, current first */
	struct root_keyset	roles[ROOT_NROLES];
	int			legacy;		/* root_legacy's: no bytes */
	char			hash[SIGSET_HASH_HEX];	/* of the bytes; "" if legacy */
};

/* "root", "policy", "revocation", "enroll"; "unknown" out of range. */
const char *root_role_name(enum root_role role);

/* Parses a role name; 0 or -1. */
int	root_role_parse(const char *s, enum root_role *out);

/*
 * Parses the len bytes at buf as a root document into *r (name is used
 * in messages, "name:line: what").  Capped at ROOT_MAX, gated with
 * cfgscan (no @include, depth, integer range), then strict: type
 * "muster-root", version, expires (RFC 3339 UTC), server (url_parse),
 * pins (1..ROOT_PINS_MAX distinct sha256//BASE64), roles with exactly
 * root, policy, revocation and enroll, each 1..ROOT_KEYS_MAX distinct
 * minisign key lines and a threshold 1..nkeys (exactly 1 for revocation
 * and enroll), no key (by key id or by key) in two roles, no unknown or
 * missing field.  r->hash is the BLAKE2b-256 of the bytes.  Expiry is
 * not judged here.  Returns 0 or MUSTER_EDATA (MUSTER_EINTERNAL out of
 * memory); *r is zeroed on failure.
 */
int	root_parse(const char *name, const void *buf, size_t len,
	    struct root *r, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Formats r as a root document (deterministic: the same root gives the
 * same bytes) into a malloc'd NUL-terminated *out of *outlen bytes, and
 * parses the result back before returning it.  r->legacy, r->hash are
 * ignored.  Returns 0, MUSTER_EUSAGE naming what root_parse would refuse,
 * MUSTER_EINTERNAL.
 */
int	root_format(const struct root *r, char **out, size_t *outlen,
	    struct muster_err *e) __attribute__((warn_unused_result));

/* The trusted comment of root version v, "muster-root version=V"; 0/-1. */
int	root_trusted_comment(int64_t version, char *buf, size_t size);

/*
 * Trust on first use: parses ss's bytes into *r and checks that they
 * meet the threshold of their own root role (trusted comment
 * root_trusted_comment(version)) and that ss->version, when set, is the
 * document's.  name is used in messages.  For the first root a device is
 * given (a bundle); every later one goes through root_update.  Returns 0,
 * MUSTER_EDATA for a malformed root, MUSTER_ETRUST when the threshold is
 * not met.  *r is zeroed on failure.
 */
int	root_verify_self(const char *name, const struct sigset *ss,
	    struct root *r, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * The rotation rule of TUF 1.0 §5.3: accepts the root in next from a
 * holder of cur when the signatures meet cur's root threshold (checked
 * before the bytes are parsed), the document parses, its version is
 * exactly cur->version + 1 (and ss->version, when set, says the same),
 * and the signatures meet its own root threshold; each key counts once.
 * Expiry is not checked (an intermediate root may have expired; see
 * root_expired for the newest).  On success *out is the new root.
 * Returns 0, MUSTER_EDATA for a malformed root, MUSTER_ETRUST for a
 * threshold not met or a version that skips or repeats ("rollback").
 * *out is zeroed on failure; out may be cur's storage only if the caller
 * no longer needs cur on failure.
 */
int	root_update(const struct root *cur, const char *name,
	    const struct sigset *next, struct root *out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* 1 if r has expired at now (r->expires <= now), else 0. */
int	root_expired(const struct root *r, time_t now);

/*
 * The first wave's single org key as an in-memory root: version 1, pk
 * alone in every role with threshold 1 (the one-role-per-key rule does
 * not apply to it), the given server URL and pin, never expiring,
 * r->legacy set and no hash.  Returns 0 or MUSTER_EDATA for a server
 * url_parse refuses or a pin that is not sha256//BASE64 of 32 bytes.
 */
int	root_legacy(const struct sig_pubkey *pk, const char *server,
	    const char *pin, struct root *r, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* The keys and threshold of role in r (points into r). */
const struct root_keyset *root_keys(const struct root *r,
	    enum root_role role);

/*
 * The key of role in r whose key id is keyid (points into r), or NULL:
 * e.g. the policy key a profile's signature names.
 */
const struct sig_pubkey *root_find_key(const struct root *r,
	    enum root_role role, const unsigned char keyid[SIG_KEYID_BYTES]);

/* 1 if pin (sha256//BASE64) is one of r's pins. */
int	root_pin_ok(const struct root *r, const char *pin);

/*
 * r's pins joined with ';' as curl's CURLOPT_PINNEDPUBLICKEY takes a
 * set, into buf of size bytes (ROOT_PINS_CURL_MAX is enough); 0 or -1.
 */
int	root_pins_curl(const struct root *r, char *buf, size_t size);

/*
 * 1 if s is a pin as roots and tokens write it: "sha256//" and the
 * padded standard base64 of 32 bytes.
 */
int	root_pin_form_ok(const char *s);

#endif
