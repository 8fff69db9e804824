/*
 * token2: enrollment tokens, revocations and bundles checked against the
 * roles of a root (docs/protocol.md "Token v2") rather than one org key.
 * A token must be signed by a key of the root's enroll role, a
 * revocation by a key of its revocation role; a key of any other role
 * (a policy or root key) is refused.  A v2 bundle carries the org's root
 * (bytes and signatures) beside a v2 token naming that root by version
 * and hash; a v1 bundle (org_key + token) still parses, its root being
 * root_legacy of the org key.
 *
 * The token and revocation formats themselves are token.h's.
 */
#ifndef MUSTER_TOKEN2_H
#define MUSTER_TOKEN2_H

#include <stddef.h>

#include "muster/err.h"
#include "muster/root.h"
#include "muster/sigset.h"
#include "muster/token.h"

#define TOKEN2_BUNDLE_MAX	(64 * 1024)	/* a v2 bundle file */

/*
 * Verifies a token string (len bytes, v1 or v2) against r's enroll role:
 * the key its body names must be a key of that role (else MUSTER_ETRUST
 * naming the key), then token_verify with that key.  Returns what
 * token_verify returns.  Whether a v2 token names r is
 * token2_root_match's to say; expiry is the caller's.
 */
int	token2_verify(const char *s, size_t len, const struct root *r,
	    struct token *t, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Verifies a revocation string against r's revocation role, as
 * token2_verify does for tokens.  Returns what token_revocation_verify
 * returns, or MUSTER_ETRUST for a key outside the role.
 */
int	token2_revocation_verify(const char *s, size_t len,
	    const struct root *r, struct revocation *rv, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * 0 if t is a v2 token whose root=N:HASH is r's version and hash;
 * MUSTER_ETRUST otherwise (a v1 token, a legacy root, another version or
 * other bytes).
 */
int	token2_root_match(const struct token *t, const struct root *r,
	    struct muster_err *e) __attribute__((warn_unused_result));

/*
 * Formats a v2 bundle (libconfig): the root's bytes (base64) and
 * signatures, and the token, with a comment naming person, unit and
 * scope.  *out is malloc'd (the caller wipes and frees it: a bundle is a
 * bearer credential).  Returns 0, MUSTER_EUSAGE for a token that is not
 * v2 or a root set without signatures, MUSTER_EINTERNAL.
 */
int	token2_bundle_format(const struct sigset *root, const char *token,
	    const struct token *t, char **out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Parses a bundle of either version (len bytes, name in messages).
 *
 * v2 (root, root_signatures, token): the root must meet its own root
 * threshold (root_verify_self: trust on first use, as the org key was),
 * the token must verify against its enroll role (token2_verify) and name
 * exactly that root (token2_root_match).  *root_ss receives the root's
 * bytes and signatures (the caller's, sigset_free), *r the root.
 *
 * v1 (org_key, token): token_bundle_parse, then *r = root_legacy(org key,
 * token's server, token's pin) and *root_ss = NULL.
 *
 * Either way *token is a malloc'd copy of the token string and *t the
 * verified token.  Returns 0, MUSTER_EDATA for a malformed bundle,
 * MUSTER_ETRUST when a signature, threshold or root match fails; on
 * failure every output is NULL or zeroed.
 */
int	token2_bundle_parse(const char *name, const char *buf, size_t len,
	    struct sigset **root_ss, struct root *r, char **token,
	    struct token *t, struct muster_err *e)
	    __attribute__((warn_unused_result));

#endif
