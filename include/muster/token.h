/*
 * token: org-signed enrollment tokens and revocations, and enrollment
 * bundles (docs/protocol.md).  A signed object is
 * base64url(body) "." base64url(Ed25519 signature of body by the org key).
 */
#ifndef MUSTER_TOKEN_H
#define MUSTER_TOKEN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/url.h"

#define TOKEN_ID_BYTES		8
#define TOKEN_ID_HEX		(2 * TOKEN_ID_BYTES + 1)
#define DEVICE_ID_BYTES		16
#define DEVICE_ID_HEX		(2 * DEVICE_ID_BYTES + 1)
#define TOKEN_FIELD_MAX		65	/* unit, person: 1..64 bytes + NUL */
#define TOKEN_PIN_MAX		64
#define TOKEN_BODY_MAX		1024
#define TOKEN_MAX		2048	/* encoded token or revocation, and a NUL */
#define BUNDLE_MAX		8192
#define BUNDLE_URI_MAX		2048	/* enrollment URI and a NUL */
#define TOKEN_DEFAULT_TTL	(14 * 86400)
#define TOKEN_ROOT_HASH_HEX	65	/* BLAKE2b-256 hex of a root, and a NUL */

struct token {
	char			id[TOKEN_ID_HEX];
	char			server[URL_MAX + 1];
	char			pin[TOKEN_PIN_MAX];
	enum profile_scope	scope;
	char			unit[TOKEN_FIELD_MAX];
	char			person[TOKEN_FIELD_MAX];
	time_t			expires;
	/* A v2 token's root=N:HASH; 0 and "" for a v1 token. */
	int64_t			root_version;
	char			root_hash[TOKEN_ROOT_HASH_HEX];
	unsigned char		keyid[SIG_KEYID_BYTES];
};

struct revocation {
	char			id[DEVICE_ID_HEX];	/* device or token id */
	time_t			time;
	unsigned char		keyid[SIG_KEYID_BYTES];
};

/*
 * 1 if s is a valid unit (slash allowed) or person: 1-64 characters of
 * A-Z a-z 0-9 . _ - @.
 */
int	token_field_ok(const char *s, int allow_slash);

/* What token_unit_ok takes, for error messages. */
#define TOKEN_UNIT_RULE	"1-64 bytes of letters (UTF-8), digits, spaces " \
	"and . _ - @ ( ) ' , & # + :, levels separated by /"

/*
 * 1 if s is a valid unit name: 1-64 bytes of UTF-8 letters and digits,
 * spaces and . _ - @ ( ) ' , & # + : (no quote or backslash, so that it
 * sits in a libconfig string as it is); '/' separates levels, each level
 * non-empty with no space at either end ("IAF/25 Wing/No. 17 Squadron").
 * No control, bidi or zero-width character (esc_text_strict_ok) and no
 * no-break space.  Every unit token_field_ok(s, 1) takes passes.
 */
int	token_unit_ok(const char *s);

/* 1 if unit is top or below it ("IAF/25-WING" is within "IAF"). */
int	token_unit_within(const char *unit, const char *top);

/* Fills id with a new random token id (16 lowercase hex digits). */
void	token_new_id(char id[TOKEN_ID_HEX]);

/*
 * Signs t with sk (t->keyid is taken from sk) into a malloc'd
 * NUL-terminated token string *out.  Validates every field first
 * (MUSTER_EUSAGE naming it).  With t->root_version > 0 the token is a v2
 * token ("muster-token-v2", a root=N:HASH line before key=).
 */
int	token_sign(const struct token *t, const struct sig_seckey *sk,
	    char **out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Verifies a token string (len bytes) with pk: key id, then signature,
 * then a strict parse of the body (v1 or v2) into *t.  Returns 0, MUSTER_EDATA for a
 * malformed token, MUSTER_ETRUST for another key or a bad signature.
 * Expiry is the caller's to judge (token_expired).
 */
int	token_verify(const char *s, size_t len, const struct sig_pubkey *pk,
	    struct token *t, struct muster_err *e)
	    __attribute__((warn_unused_result));

int	token_expired(const struct token *t, time_t now);

/* The same for revocations. */
int	token_revocation_sign(const struct revocation *r,
	    const struct sig_seckey *sk, char **out, struct muster_err *e)
	    __attribute__((warn_unused_result));
int	token_revocation_verify(const char *s, size_t len,
	    const struct sig_pubkey *pk, struct revocation *r,
	    struct muster_err *e) __attribute__((warn_unused_result));

/*
 * Formats a bundle file (libconfig) holding pk and the token string, with
 * a comment naming person, unit and scope.  *out is malloc'd.
 */
int	token_bundle_format(const struct sig_pubkey *pk, const char *token,
	    const struct token *t, char **out, struct muster_err *e);

/*
 * The text gate of a bundle of either version: 0 if every one of the len
 * bytes at buf is printable ASCII, TAB, CR or LF; else MUSTER_EDATA
 * "name:LINE: a byte that is not printable ASCII".
 */
int	token_bundle_text(const char *name, const char *buf, size_t len,
	    struct muster_err *e);

/*
 * Parses a bundle (len bytes, named name in messages) into pk and a
 * malloc'd token string *token, then verifies the token with pk into *t.
 * Returns MUSTER_EDATA for a malformed bundle, MUSTER_ETRUST when the
 * token does not verify with the bundle's key.
 */
int	token_bundle_parse(const char *name, const char *buf, size_t len,
	    struct sig_pubkey *pk, char **token, struct token *t,
	    struct muster_err *e) __attribute__((warn_unused_result));

/*
 * The bundle as a muster://enroll?k=K&t=B.S URI into a malloc'd *out (the
 * caller's, a bearer secret to wipe): K, B and S are RFC 4648 base32 (no
 * padding) of the org key's minisign bytes, the token's body and its
 * signature, so that a QR code carries them in alphanumeric mode.  Returns
 * MUSTER_EUSAGE when token is not a token.
 */
int	token_bundle_uri(const struct sig_pubkey *pk, const char *token, char **out,
	    struct muster_err *e);

/*
 * The reverse of token_bundle_uri: parses the len bytes at s (below
 * BUNDLE_URI_MAX; exactly as token_bundle_uri writes them, one spelling only)
 * into pk and a malloc'd token string *token (base64url, as in a bundle;
 * the caller's), then verifies the token with pk into *t.  Returns
 * MUSTER_EDATA for a malformed URI, else what token_bundle_parse returns.
 */
int	token_bundle_uri_parse(const char *s, size_t len, struct sig_pubkey *pk,
	    char **token, struct token *t, struct muster_err *e)
	    __attribute__((warn_unused_result));

#endif
