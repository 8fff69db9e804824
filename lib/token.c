/*
 * token: org-signed enrollment tokens, revocations and enrollment bundles;
 * see include/muster/token.h and docs/protocol.md.
 *
 * A signed object is base64url(body) "." base64url(signature), the
 * signature raw Ed25519 by the org key over the body bytes.  Verification
 * goes: size and alphabet of the encoded text, canonical base64url, the
 * body's key id against the trusted key, the signature, and only then a
 * strict parse of the body (line order, charsets, lengths).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libconfig.h>
#include <sodium.h>

#include "muster/cfgread.h"
#include "muster/cfgscan.h"
#include "muster/fs.h"
#include "muster/timefmt.h"
#include "muster/esc.h"
#include "muster/token.h"

#define B64URL		sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define B64URL_LEN(n)	sodium_base64_ENCODED_LEN((n), B64URL)

#define TOKEN_MAGIC	"muster-token-v1"
#define TOKEN2_MAGIC	"muster-token-v2"
#define ROOT_VERSION_DIGITS	10	/* 1 .. 2^31-1 */
#define REVOKE_MAGIC	"muster-revoke-v1"
#define PIN_PREFIX	"sha256//"
#define PIN_HASH_BYTES	32	/* SHA-256 */
#define PIN_B64_LEN	44	/* standard base64 of 32 bytes, padded */
#define URI_PREFIX	"muster://enroll?k="
#define URI_TOKEN	"&t="
/* Characters of base32 (no padding) of n bytes, and a NUL. */
#define URI_B32_LEN(n)	(((n) * 8 + 4) / 5 + 1)

/* minisign's public key bytes: "Ed" || key id || Ed25519 public key. */
#define PUBKEY_BIN_BYTES \
	(SIG_ALG_BYTES + SIG_KEYID_BYTES + crypto_sign_PUBLICKEYBYTES)

#define BODY_B64_MAX	(B64URL_LEN(TOKEN_BODY_MAX) - 1)
#define SIG_B64_LEN	(B64URL_LEN(crypto_sign_BYTES) - 1)

_Static_assert(BODY_B64_MAX + 1 + SIG_B64_LEN < TOKEN_MAX,
    "TOKEN_MAX holds the largest token");
_Static_assert(sizeof URI_PREFIX - 1 + URI_B32_LEN(PUBKEY_BIN_BYTES) - 1 +
    sizeof URI_TOKEN - 1 + URI_B32_LEN(TOKEN_BODY_MAX) - 1 + 1 +
    URI_B32_LEN(crypto_sign_BYTES) - 1 < BUNDLE_URI_MAX,
    "BUNDLE_URI_MAX holds the largest enrollment URI");
_Static_assert(sizeof PIN_PREFIX - 1 + PIN_B64_LEN < TOKEN_PIN_MAX,
    "TOKEN_PIN_MAX holds a pin");

static const char *const token_keys[] = {
	"id", "server", "pin", "scope", "unit", "person", "expires", "key",
};
#define TOKEN_NKEYS	(sizeof token_keys / sizeof token_keys[0])

/* v2: the v1 lines, then the root the org had when it issued the token. */
static const char *const token2_keys[] = {
	"id", "server", "pin", "scope", "unit", "person", "expires", "root",
	"key",
};
#define TOKEN2_NKEYS	(sizeof token2_keys / sizeof token2_keys[0])

static const char *const revoke_keys[] = { "id", "time", "key" };
#define REVOKE_NKEYS	(sizeof revoke_keys / sizeof revoke_keys[0])

/* What a signed object is called in messages and what its body starts with. */
struct kind {
	const char		*what;		/* "token", "revocation" */
	const char		*magic;
	const char *const	*keys;
	size_t			 nkeys;
};

static const struct kind kind_token = {
	"token", TOKEN_MAGIC, token_keys, TOKEN_NKEYS,
};
static const struct kind kind_token2 = {
	"token", TOKEN2_MAGIC, token2_keys, TOKEN2_NKEYS,
};
static const struct kind kind_revoke = {
	"revocation", REVOKE_MAGIC, revoke_keys, REVOKE_NKEYS,
};

static int
is_lower_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
}

static int
is_upper_hex(int ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F');
}

static int
is_b64url(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}

static int
is_b64(int ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/* 1 if s[0..n) is exactly n lowercase hex digits. */
static int
lower_hex_ok(const char *s, size_t len, size_t n)
{
	size_t i;

	if (len != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_lower_hex((unsigned char)s[i]))
			return 0;
	return 1;
}

int
token_field_ok(const char *s, int allow_slash)
{
	size_t n;
	unsigned char ch;

	if (s == NULL)
		return 0;
	for (n = 0; s[n] != '\0'; n++) {
		if (n >= TOKEN_FIELD_MAX - 1)
			return 0;
		ch = (unsigned char)s[n];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == '-' || ch == '@' || (allow_slash && ch == '/'))
			continue;
		return 0;
	}
	return n > 0;
}

/* 1 if s is "sha256//" and the standard base64 of 32 bytes. */
static int
pin_ok(const char *s, size_t len)
{
	unsigned char bin[PIN_HASH_BYTES];
	const size_t plen = sizeof PIN_PREFIX - 1;
	const char *end = NULL;
	size_t got = 0, i;

	if (len != plen + PIN_B64_LEN || memcmp(s, PIN_PREFIX, plen) != 0)
		return 0;
	s += plen;
	/* One '=' of padding; no byte outside the alphabet reaches sodium. */
	for (i = 0; i < PIN_B64_LEN - 1; i++)
		if (!is_b64((unsigned char)s[i]))
			return 0;
	if (s[PIN_B64_LEN - 1] != '=')
		return 0;
	if (sodium_base642bin(bin, sizeof bin, s, PIN_B64_LEN, NULL, &got,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || got != sizeof bin ||
	    end != s + PIN_B64_LEN)
		return 0;
	return 1;
}

/* 1 if s[0..len) is an RFC 3339 UTC time; its value in *t. */
static int
time_ok(const char *s, size_t len, time_t *t)
{
	char buf[TIMEFMT_LEN];

	if (len != TIMEFMT_CHARS)
		return 0;
	memcpy(buf, s, TIMEFMT_CHARS);
	buf[TIMEFMT_CHARS] = '\0';
	return timefmt_parse(buf, t) == 0;
}

/* 1 if s[0..len) is a server URL url_parse accepts. */
static int
server_ok(const char *s, size_t len)
{
	char buf[URL_MAX + 1];
	struct url u;
	size_t i;

	if (len == 0 || len > URL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return url_parse(buf, &u, NULL) == 0;
}

/* Reads 16 upper-case hex digits as minisign prints a key id. */
static int
keyid_parse(const char *s, size_t len, unsigned char keyid[SIG_KEYID_BYTES])
{
	uint64_t v = 0;
	size_t i;
	int ch;

	if (len != 2 * SIG_KEYID_BYTES)
		return -1;
	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (!is_upper_hex(ch))
			return -1;
		v = (v << 4) | (uint64_t)(ch <= '9' ? ch - '0' : ch - 'A' + 10);
	}
	/* sig_keyid_hex prints the key id as a little-endian integer. */
	for (i = 0; i < SIG_KEYID_BYTES; i++, v >>= 8)
		keyid[i] = (unsigned char)(v & 0xff);
	return 0;
}

/*
 * Decodes exactly the base64url text s[0..len) (no padding) into at most
 * max bytes; *got receives the count.  Refuses anything outside the
 * alphabet before libsodium sees it, and any encoding that is not the
 * canonical one (so that a token has exactly one spelling).
 */
static int
b64url_decode(const char *s, size_t len, unsigned char *bin, size_t max,
    size_t *got)
{
	char again[B64URL_LEN(TOKEN_BODY_MAX)];
	const char *end = NULL;
	size_t i;

	*got = 0;
	if (len == 0 || len > B64URL_LEN(max) - 1 || max > TOKEN_BODY_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (!is_b64url((unsigned char)s[i]))
			return -1;
	if (sodium_base642bin(bin, max, s, len, NULL, got, &end, B64URL) != 0 ||
	    end != s + len)
		return -1;
	sodium_bin2base64(again, sizeof again, bin, *got, B64URL);
	if (strlen(again) != len || memcmp(again, s, len) != 0)
		return -1;
	return 0;
}

/*
 * Encodes body and signature as base64url(body) "." base64url(sig) into a
 * new malloc'd string.
 */
static int
encode_signed(const unsigned char *body, size_t blen,
    const unsigned char sig[crypto_sign_BYTES], char **out,
    struct muster_err *e)
{
	char *s;
	size_t n1 = B64URL_LEN(blen), n2 = B64URL_LEN(crypto_sign_BYTES);

	if ((s = malloc(n1 + n2)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	sodium_bin2base64(s, n1, body, blen, B64URL);
	s[n1 - 1] = '.';
	sodium_bin2base64(s + n1, n2, sig, crypto_sign_BYTES, B64URL);
	*out = s;
	return 0;
}

/* Signs the body and encodes the result into *out. */
static int
sign_body(const struct kind *k, const char *body, size_t blen,
    const struct sig_seckey *sk, char **out, struct muster_err *e)
{
	unsigned char sig[crypto_sign_BYTES];

	if (blen > TOKEN_BODY_MAX)
		return err_set(e, MUSTER_EUSAGE, "%s body longer than %d "
		    "bytes", k->what, TOKEN_BODY_MAX);
	if (crypto_sign_detached(sig, NULL, (const unsigned char *)body, blen,
	    sk->sk) != 0)
		return err_set(e, MUSTER_EINTERNAL, "%s signing failed",
		    k->what);
	return encode_signed((const unsigned char *)body, blen, sig, out, e);
}

/*
 * The first half of verification: decodes s[0..len) into body (at most
 * TOKEN_BODY_MAX bytes, *blen) and checks the body's last line, the key
 * id, against pk, then the signature over the body.  Returns 0,
 * MUSTER_EDATA for malformed text, MUSTER_ETRUST for another key or a
 * signature that does not verify.  name prefixes every message.
 */
static int
open_signed(const struct kind *k, const char *name, const char *s,
    size_t len, const struct sig_pubkey *pk, unsigned char *body,
    size_t *blen, struct muster_err *e)
{
	unsigned char sig[crypto_sign_BYTES];
	char got[SIG_KEYID_HEX], want[SIG_KEYID_HEX];
	unsigned char keyid[SIG_KEYID_BYTES];
	const char *dot, *line, *nl;
	size_t siglen, i, n;

	*blen = 0;
	if (s == NULL || len == 0)
		return err_set(e, MUSTER_EDATA, "%s: empty %s", name, k->what);
	if (len >= TOKEN_MAX)
		return err_set(e, MUSTER_EDATA, "%s: %s longer than %d bytes",
		    name, k->what, TOKEN_MAX - 1);
	for (i = 0, dot = NULL; i < len; i++) {
		if (s[i] == '.' && dot == NULL)
			dot = s + i;
		else if (!is_b64url((unsigned char)s[i]))
			return err_set(e, MUSTER_EDATA, "%s: %s holds a byte "
			    "outside base64url at offset %zu", name, k->what,
			    i);
	}
	if (dot == NULL)
		return err_set(e, MUSTER_EDATA, "%s: %s has no \".\" between "
		    "body and signature", name, k->what);
	if (b64url_decode(s, (size_t)(dot - s), body, TOKEN_BODY_MAX, blen)
	    != 0)
		return err_set(e, MUSTER_EDATA, "%s: %s body is not canonical "
		    "base64url of at most %d bytes", name, k->what,
		    TOKEN_BODY_MAX);
	n = len - (size_t)(dot - s) - 1;
	if (b64url_decode(dot + 1, n, sig, sizeof sig, &siglen) != 0 ||
	    siglen != sizeof sig)
		return err_set(e, MUSTER_EDATA, "%s: %s signature is not "
		    "canonical base64url of %zu bytes", name, k->what,
		    sizeof sig);

	/* The key id first: the last line, "key=" and 16 hex digits. */
	if (*blen < 2 || body[*blen - 1] != '\n')
		return err_set(e, MUSTER_EDATA, "%s: %s body does not end in "
		    "a newline", name, k->what);
	nl = (const char *)body + *blen - 1;
	for (line = nl; line > (const char *)body && line[-1] != '\n'; line--)
		;
	if ((size_t)(nl - line) != 4 + 2 * SIG_KEYID_BYTES ||
	    memcmp(line, "key=", 4) != 0 ||
	    keyid_parse(line + 4, 2 * SIG_KEYID_BYTES, keyid) != 0)
		return err_set(e, MUSTER_EDATA, "%s: %s body does not end "
		    "with key=KEYID", name, k->what);
	if (memcmp(keyid, pk->keyid, SIG_KEYID_BYTES) != 0) {
		sig_keyid_hex(keyid, got);
		sig_keyid_hex(pk->keyid, want);
		return err_set(e, MUSTER_ETRUST, "%s: %s signed by key %s, not "
		    "by the trusted key %s", name, k->what, got, want);
	}
	if (crypto_sign_verify_detached(sig, body, *blen, pk->pk) != 0)
		return err_set(e, MUSTER_ETRUST, "%s: %s signature "
		    "verification failed: it was changed or signed by another "
		    "key", name, k->what);
	return 0;
}

/*
 * Splits a verified body into exactly k->nkeys "key=value" lines after the
 * magic line, in k's order.  vals[i] and lens[i] point into body.
 */
static int
split_body(const struct kind *k, const char *name, const char *body,
    size_t blen, const char **vals, size_t *lens, struct muster_err *e)
{
	const char *p = body, *end = body + blen, *nl;
	size_t i, klen, mlen = strlen(k->magic);

	if (memchr(body, '\0', blen) != NULL)
		return err_set(e, MUSTER_EDATA, "%s: NUL byte in %s", name,
		    k->what);
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
	    (size_t)(nl - p) != mlen || memcmp(p, k->magic, mlen) != 0)
		return err_set(e, MUSTER_EDATA, "%s: %s line 1: expected "
		    "\"%s\"", name, k->what, k->magic);
	p = nl + 1;
	for (i = 0; i < k->nkeys; i++) {
		klen = strlen(k->keys[i]);
		if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) ==
		    NULL)
			return err_set(e, MUSTER_EDATA, "%s: %s line %zu: "
			    "missing \"%s\"", name, k->what, i + 2,
			    k->keys[i]);
		if ((size_t)(nl - p) <= klen || memcmp(p, k->keys[i], klen) !=
		    0 || p[klen] != '=')
			return err_set(e, MUSTER_EDATA, "%s: %s line %zu: "
			    "expected \"%s=\"", name, k->what, i + 2,
			    k->keys[i]);
		vals[i] = p + klen + 1;
		lens[i] = (size_t)(nl - vals[i]);
		p = nl + 1;
	}
	if (p != end)
		return err_set(e, MUSTER_EDATA, "%s: %s line %zu: unexpected "
		    "line after \"key\"", name, k->what, k->nkeys + 2);
	return 0;
}

/* Copies v[0..n) into a NUL-terminated field of size bytes; 0 or -1. */
static int
copy_field(char *dst, size_t size, const char *v, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int
bad_value(const struct kind *k, const char *name, size_t idx,
    struct muster_err *e, const char *want)
{
	return err_set(e, MUSTER_EDATA, "%s: %s line %zu: \"%s\" is not %s",
	    name, k->what, idx + 2, k->keys[idx], want);
}

/* Reads "N:HASH" (a v2 token's root line) into t; 0 or -1. */
static int
root_line_parse(const char *s, size_t len, struct token *t)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= ROOT_VERSION_DIGITS)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0 || s[0] == '0' || v > INT32_MAX || i >= len ||
	    s[i] != ':' || !lower_hex_ok(s + i + 1, len - i - 1,
	    TOKEN_ROOT_HASH_HEX - 1))
		return -1;
	t->root_version = v;
	memcpy(t->root_hash, s + i + 1, TOKEN_ROOT_HASH_HEX - 1);
	t->root_hash[TOKEN_ROOT_HASH_HEX - 1] = '\0';
	return 0;
}

/* The strict parse of a verified token body (v1 or v2) into *t. */
static int
token_parse_body(const char *name, const char *body, size_t blen,
    struct token *t, struct muster_err *e)
{
	const struct kind *k = &kind_token;
	const char *v[TOKEN2_NKEYS];
	size_t n[TOKEN2_NKEYS];
	char scope[16];
	int rc;

	memset(t, 0, sizeof *t);
	if (blen > sizeof TOKEN2_MAGIC && memcmp(body, TOKEN2_MAGIC "\n",
	    sizeof TOKEN2_MAGIC) == 0)
		k = &kind_token2;
	if ((rc = split_body(k, name, body, blen, v, n, e)) != 0)
		return rc;
	if (!lower_hex_ok(v[0], n[0], TOKEN_ID_HEX - 1))
		return bad_value(k, name, 0, e, "16 lowercase hex digits");
	memcpy(t->id, v[0], n[0]);
	t->id[n[0]] = '\0';
	if (!server_ok(v[1], n[1]) ||
	    copy_field(t->server, sizeof t->server, v[1], n[1]) != 0)
		return bad_value(k, name, 1, e, "an https://HOST[:PORT] URL");
	if (!pin_ok(v[2], n[2]) ||
	    copy_field(t->pin, sizeof t->pin, v[2], n[2]) != 0)
		return bad_value(k, name, 2, e, "sha256//BASE64");
	if (copy_field(scope, sizeof scope, v[3], n[3]) != 0 ||
	    profile_scope_parse(scope, &t->scope) != 0)
		return bad_value(k, name, 3, e, "personnel or family");
	if (copy_field(t->unit, sizeof t->unit, v[4], n[4]) != 0 ||
	    !token_unit_ok(t->unit))
		return bad_value(k, name, 4, e, TOKEN_UNIT_RULE);
	if (copy_field(t->person, sizeof t->person, v[5], n[5]) != 0 ||
	    !token_field_ok(t->person, 0))
		return bad_value(k, name, 5, e, "1-64 of A-Z a-z 0-9 . _ - @");
	if (!time_ok(v[6], n[6], &t->expires))
		return bad_value(k, name, 6, e, "YYYY-MM-DDTHH:MM:SSZ");
	if (k == &kind_token2 && root_line_parse(v[7], n[7], t) != 0)
		return bad_value(k, name, 7, e, "VERSION:HASH (1 to 2^31-1, "
		    "64 lowercase hex digits)");
	if (keyid_parse(v[k->nkeys - 1], n[k->nkeys - 1], t->keyid) != 0)
		return bad_value(k, name, k->nkeys - 1, e,
		    "16 upper-case hex digits");
	return 0;
}

static int
revocation_parse_body(const char *name, const char *body, size_t blen,
    struct revocation *r, struct muster_err *e)
{
	const struct kind *k = &kind_revoke;
	const char *v[REVOKE_NKEYS];
	size_t n[REVOKE_NKEYS];
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = split_body(k, name, body, blen, v, n, e)) != 0)
		return rc;
	if (!lower_hex_ok(v[0], n[0], DEVICE_ID_HEX - 1) &&
	    !lower_hex_ok(v[0], n[0], TOKEN_ID_HEX - 1))
		return bad_value(k, name, 0, e, "a device id (32 lowercase "
		    "hex digits) or a token id (16)");
	memcpy(r->id, v[0], n[0]);
	r->id[n[0]] = '\0';
	if (!time_ok(v[1], n[1], &r->time))
		return bad_value(k, name, 1, e, "YYYY-MM-DDTHH:MM:SSZ");
	if (keyid_parse(v[2], n[2], r->keyid) != 0)
		return bad_value(k, name, 2, e, "16 upper-case hex digits");
	return 0;
}

void
token_new_id(char id[TOKEN_ID_HEX])
{
	unsigned char rnd[TOKEN_ID_BYTES];

	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(id, TOKEN_ID_HEX, rnd, sizeof rnd);
}

int
token_sign(const struct token *t, const struct sig_seckey *sk, char **out,
    struct muster_err *e)
{
	char body[TOKEN_BODY_MAX + 1], exp[TIMEFMT_LEN], hex[SIG_KEYID_HEX];
	char root[ROOT_VERSION_DIGITS + TOKEN_ROOT_HASH_HEX + 8];
	const char *scope;
	int n;

	*out = NULL;
	if (!lower_hex_ok(t->id, strnlen(t->id, sizeof t->id),
	    TOKEN_ID_HEX - 1))
		return err_set(e, MUSTER_EUSAGE, "token id must be 16 "
		    "lowercase hex digits");
	if (!server_ok(t->server, strnlen(t->server, sizeof t->server)))
		return err_set(e, MUSTER_EUSAGE, "token server must be an "
		    "https://HOST[:PORT] URL");
	if (!pin_ok(t->pin, strnlen(t->pin, sizeof t->pin)))
		return err_set(e, MUSTER_EUSAGE, "token pin must be "
		    "sha256//BASE64 of 32 bytes");
	if (t->scope != SCOPE_PERSONNEL && t->scope != SCOPE_FAMILY)
		return err_set(e, MUSTER_EUSAGE, "token scope must be "
		    "personnel or family");
	scope = profile_scope_name(t->scope);
	if (!token_unit_ok(t->unit))
		return err_set(e, MUSTER_EUSAGE, "token unit must be "
		    TOKEN_UNIT_RULE);
	if (!token_field_ok(t->person, 0))
		return err_set(e, MUSTER_EUSAGE, "token person must be 1-64 "
		    "of A-Z a-z 0-9 . _ - @");
	if (timefmt_format_exact(t->expires, exp) != 0)
		return err_set(e, MUSTER_EUSAGE, "token expiry out of range");
	root[0] = '\0';
	if (t->root_version != 0) {
		if (t->root_version < 0 || t->root_version > INT32_MAX ||
		    !lower_hex_ok(t->root_hash, strnlen(t->root_hash,
		    sizeof t->root_hash), TOKEN_ROOT_HASH_HEX - 1))
			return err_set(e, MUSTER_EUSAGE, "token root must be a "
			    "version from 1 to 2^31-1 and 64 lowercase hex "
			    "digits");
		snprintf(root, sizeof root, "root=%lld:%s\n",
		    (long long)t->root_version, t->root_hash);
	}
	sig_keyid_hex(sk->keyid, hex);
	n = snprintf(body, sizeof body, "%s\n"
	    "id=%s\nserver=%s\npin=%s\nscope=%s\nunit=%s\nperson=%s\n"
	    "expires=%s\n%skey=%s\n", root[0] != '\0' ? TOKEN2_MAGIC :
	    TOKEN_MAGIC, t->id, t->server, t->pin, scope, t->unit, t->person,
	    exp, root, hex);
	if (n < 0 || (size_t)n >= sizeof body)
		return err_set(e, MUSTER_EUSAGE, "token body longer than %d "
		    "bytes", TOKEN_BODY_MAX);
	return sign_body(&kind_token, body, (size_t)n, sk, out, e);
}

/* token_verify with name prefixing the messages. */
static int
token_verify_named(const char *name, const char *s, size_t len,
    const struct sig_pubkey *pk, struct token *t, struct muster_err *e)
{
	unsigned char body[TOKEN_BODY_MAX];
	size_t blen;
	int rc;

	memset(t, 0, sizeof *t);
	if ((rc = open_signed(&kind_token, name, s, len, pk, body, &blen,
	    e)) != 0)
		return rc;
	if ((rc = token_parse_body(name, (const char *)body, blen, t, e))
	    != 0)
		memset(t, 0, sizeof *t);
	return rc;
}

int
token_verify(const char *s, size_t len, const struct sig_pubkey *pk,
    struct token *t, struct muster_err *e)
{
	return token_verify_named("token", s, len, pk, t, e);
}

int
token_expired(const struct token *t, time_t now)
{
	return t->expires <= now;
}

int
token_revocation_sign(const struct revocation *r, const struct sig_seckey *sk,
    char **out, struct muster_err *e)
{
	char body[TOKEN_BODY_MAX + 1], tm[TIMEFMT_LEN], hex[SIG_KEYID_HEX];
	size_t idlen;
	int n;

	*out = NULL;
	idlen = strnlen(r->id, sizeof r->id);
	if (!lower_hex_ok(r->id, idlen, DEVICE_ID_HEX - 1) &&
	    !lower_hex_ok(r->id, idlen, TOKEN_ID_HEX - 1))
		return err_set(e, MUSTER_EUSAGE, "revocation id must be a "
		    "device id (32 lowercase hex digits) or a token id (16)");
	if (timefmt_format_exact(r->time, tm) != 0)
		return err_set(e, MUSTER_EUSAGE, "revocation time out of "
		    "range");
	sig_keyid_hex(sk->keyid, hex);
	n = snprintf(body, sizeof body, REVOKE_MAGIC "\nid=%s\ntime=%s\n"
	    "key=%s\n", r->id, tm, hex);
	if (n < 0 || (size_t)n >= sizeof body)
		return err_set(e, MUSTER_EUSAGE, "revocation too long");
	return sign_body(&kind_revoke, body, (size_t)n, sk, out, e);
}

int
token_revocation_verify(const char *s, size_t len, const struct sig_pubkey *pk,
    struct revocation *r, struct muster_err *e)
{
	unsigned char body[TOKEN_BODY_MAX];
	size_t blen;
	int rc;

	memset(r, 0, sizeof *r);
	if ((rc = open_signed(&kind_revoke, "revocation", s, len, pk, body,
	    &blen, e)) != 0)
		return rc;
	if ((rc = revocation_parse_body("revocation", (const char *)body,
	    blen, r, e)) != 0)
		memset(r, 0, sizeof *r);
	return rc;
}

/* ---- bundles ---------------------------------------------------------- */

int
token_bundle_format(const struct sig_pubkey *pk, const char *token,
    const struct token *t, char **out, struct muster_err *e)
{
	char b64[sodium_base64_ENCODED_LEN(PUBKEY_BIN_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	char exp[TIMEFMT_LEN], unit[ESC_SIZE(TOKEN_FIELD_MAX)];
	size_t i, len;

	*out = NULL;
	len = strlen(token);
	for (i = 0; i < len; i++)
		if (!is_b64url((unsigned char)token[i]) && token[i] != '.')
			return err_set(e, MUSTER_EUSAGE, "not a token");
	if (len >= TOKEN_MAX || !token_field_ok(t->person, 0) ||
	    !token_unit_ok(t->unit) ||
	    (t->scope != SCOPE_PERSONNEL && t->scope != SCOPE_FAMILY))
		return err_set(e, MUSTER_EUSAGE, "not a token");
	if (sig_pubkey_base64(pk, b64, sizeof b64) != 0)
		return err_set(e, MUSTER_EINTERNAL, "public key encoding "
		    "failed");
	timefmt_format(t->expires, exp);
	/* A bundle is ASCII: a unit's UTF-8 letters as \xHH in its comment. */
	esc_str(t->unit, TOKEN_FIELD_MAX, 0, unit);
	if (asprintf(out, "# Muster enrollment bundle for %s (%s), %s.\n"
	    "# A bearer credential until used or %s: keep it private.\n"
	    "org_key = \"%s\";\n"
	    "token = \"%s\";\n", t->person, unit,
	    profile_scope_name(t->scope), exp, b64, token) == -1) {
		*out = NULL;
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	return 0;
}

int
token_bundle_text(const char *name, const char *buf, size_t len,
    struct muster_err *e)
{
	size_t i;
	unsigned char ch;
	int line = 1;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)buf[i];
		if (ch == '\n')
			line++;
		else if (ch != '\t' && ch != '\r' && (ch < 0x20 || ch > 0x7e))
			return err_at(e, MUSTER_EDATA, name, line, "a byte that "
			    "is not printable ASCII");
	}
	return 0;
}

/* The string value of the top-level setting named key, or NULL. */
static const char *
bundle_string(const char *name, config_setting_t *root, const char *key,
    struct muster_err *e, int *rc)
{
	config_setting_t *s;
	const char *v;

	*rc = 0;
	if ((s = config_setting_get_member(root, key)) == NULL) {
		*rc = err_set(e, MUSTER_EDATA, "%s: missing \"%s\"", name,
		    key);
		return NULL;
	}
	if (cfgread_str(s, SIZE_MAX, &v) != 0) {
		*rc = cfgread_err(e, MUSTER_EDATA, name, s, "\"%s\" must be "
		    "a string", key);
		return NULL;
	}
	return v;
}

int
token_bundle_parse(const char *name, const char *buf, size_t len,
    struct sig_pubkey *pk, char **token, struct token *t,
    struct muster_err *e)
{
	config_t cfg;
	config_setting_t *root, *s;
	const char *keyline, *tok;
	char *copy = NULL;
	int rc, i, n;

	*token = NULL;
	memset(t, 0, sizeof *t);
	memset(pk, 0, sizeof *pk);
	if (name == NULL)
		name = "bundle";
	if (len > BUNDLE_MAX)
		return err_set(e, MUSTER_EDATA, "%s: %zu bytes, more than the "
		    "limit of %d", name, len, BUNDLE_MAX);
	if (buf == NULL)
		return err_set(e, MUSTER_EDATA, "%s: empty bundle", name);
	if ((rc = token_bundle_text(name, buf, len, e)) != 0)
		return rc;
	config_init(&cfg);
	if ((rc = cfgscan_read(&cfg, name, "bundle", buf, len, 1, e)) != 0)
		goto out;
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		if (s == NULL || config_setting_name(s) == NULL ||
		    (strcmp(config_setting_name(s), "org_key") != 0 &&
		    strcmp(config_setting_name(s), "token") != 0)) {
			rc = err_set(e, MUSTER_EDATA, "%s:%d: unknown field "
			    "\"%s\"", name, s != NULL ?
			    config_setting_source_line(s) : 0, s != NULL &&
			    config_setting_name(s) != NULL ?
			    config_setting_name(s) : "?");
			goto out;
		}
	}
	if ((keyline = bundle_string(name, root, "org_key", e, &rc)) == NULL ||
	    (tok = bundle_string(name, root, "token", e, &rc)) == NULL)
		goto out;
	/* Only the bare key line: a file's comment line has no place here. */
	if (strchr(keyline, '\n') != NULL ||
	    (rc = sig_pubkey_parse(name, keyline, strlen(keyline), pk, e))
	    != 0) {
		rc = err_set(e, MUSTER_EDATA, "%s: \"org_key\" is not a "
		    "minisign public key line", name);
		goto out;
	}
	if ((rc = token_verify_named(name, tok, strlen(tok), pk, t, e)) != 0)
		goto out;
	if ((copy = strdup(tok)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	*token = copy;
	rc = 0;
out:
	config_destroy(&cfg);
	if (rc != 0) {
		memset(t, 0, sizeof *t);
		memset(pk, 0, sizeof *pk);
	}
	return rc;
}

/*
 * RFC 4648 base32 without padding, the URI's alphabet: upper case and
 * digits only, so that a QR code carries it in alphanumeric mode (5.5 bits
 * a character where base64url in byte mode costs 8).
 */
static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* Writes base32 of bin[0..n) and a NUL to out (URI_B32_LEN(n) bytes). */
static void
b32_encode(const unsigned char *bin, size_t n, char *out)
{
	unsigned acc = 0;
	int bits = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8 | bin[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 0x1f];
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 0x1f];
	out[o] = '\0';
}

/*
 * Decodes len base32 characters at s into bin (at most max bytes, *got):
 * only the canonical spelling, as b32_encode writes it (no padding, no
 * lower case, unused bits zero), so that a URI has one spelling.
 */
static int
b32_decode(const char *s, size_t len, unsigned char *bin, size_t max,
    size_t *got)
{
	const char *p;
	unsigned acc = 0;
	int bits = 0;
	size_t i;

	*got = 0;
	if (len == 0 || len * 5 / 8 > max || len * 5 % 8 >= 5)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '\0' || (p = strchr(b32_alphabet, s[i])) == NULL)
			return -1;
		acc = (acc << 5 | (unsigned)(p - b32_alphabet)) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			bin[(*got)++] = (unsigned char)(acc >> bits);
		}
	}
	if ((acc & ((1u << bits) - 1)) != 0) {
		sodium_memzero(bin, *got);
		*got = 0;
		return -1;
	}
	return 0;
}

int
token_bundle_uri(const struct sig_pubkey *pk, const char *token, char **out,
    struct muster_err *e)
{
	unsigned char bin[PUBKEY_BIN_BYTES], body[TOKEN_BODY_MAX];
	unsigned char sig[crypto_sign_BYTES];
	char k[URI_B32_LEN(PUBKEY_BIN_BYTES)], s[URI_B32_LEN(sizeof sig)];
	char *b = NULL;
	const char *dot;
	size_t blen = 0, siglen = 0;
	int rc;

	*out = NULL;
	if ((dot = strchr(token, '.')) == NULL ||
	    b64url_decode(token, (size_t)(dot - token), body, sizeof body,
	    &blen) != 0 || b64url_decode(dot + 1, strlen(dot + 1), sig,
	    sizeof sig, &siglen) != 0 || siglen != sizeof sig) {
		rc = err_set(e, MUSTER_EUSAGE, "not a token");
		goto out;
	}
	if ((b = malloc(URI_B32_LEN(blen))) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(bin, SIG_ALG, SIG_ALG_BYTES);
	memcpy(bin + SIG_ALG_BYTES, pk->keyid, SIG_KEYID_BYTES);
	memcpy(bin + SIG_ALG_BYTES + SIG_KEYID_BYTES, pk->pk,
	    crypto_sign_PUBLICKEYBYTES);
	b32_encode(bin, sizeof bin, k);
	b32_encode(body, blen, b);
	b32_encode(sig, sizeof sig, s);
	if (asprintf(out, URI_PREFIX "%s" URI_TOKEN "%s.%s", k, b, s) == -1) {
		*out = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(body, sizeof body);
	if (b != NULL)
		fs_free_secret(b);
	return rc;
}

int
token_bundle_uri_parse(const char *s, size_t len, struct sig_pubkey *pk,
    char **token, struct token *t, struct muster_err *e)
{
	unsigned char bin[PUBKEY_BIN_BYTES], body[TOKEN_BODY_MAX];
	unsigned char sig[crypto_sign_BYTES];
	const size_t plen = sizeof URI_PREFIX - 1, klen = URI_B32_LEN(
	    PUBKEY_BIN_BYTES) - 1, tlen = sizeof URI_TOKEN - 1;
	const char *tok, *dot;
	char *enc = NULL;
	size_t got, blen = 0, n;
	int rc;

	*token = NULL;
	memset(t, 0, sizeof *t);
	memset(pk, 0, sizeof *pk);
	if (s == NULL || len < plen + klen + tlen || len >= BUNDLE_URI_MAX ||
	    memcmp(s, URI_PREFIX, plen) != 0 ||
	    memcmp(s + plen + klen, URI_TOKEN, tlen) != 0) {
		rc = err_set(e, MUSTER_EDATA, "enrollment URI: not muster://"
		    "enroll?k=...&t=... of at most %d bytes",
		    BUNDLE_URI_MAX - 1);
		goto out;
	}
	if (b32_decode(s + plen, klen, bin, sizeof bin, &got) != 0 ||
	    got != PUBKEY_BIN_BYTES || memcmp(bin, SIG_ALG, SIG_ALG_BYTES)
	    != 0) {
		rc = err_set(e, MUSTER_EDATA, "enrollment URI: k= is not the "
		    "base32 of a minisign public key");
		goto out;
	}
	memcpy(pk->keyid, bin + SIG_ALG_BYTES, SIG_KEYID_BYTES);
	memcpy(pk->pk, bin + SIG_ALG_BYTES + SIG_KEYID_BYTES,
	    crypto_sign_PUBLICKEYBYTES);
	tok = s + plen + klen + tlen;
	n = len - plen - klen - tlen;
	if ((dot = memchr(tok, '.', n)) == NULL ||
	    b32_decode(tok, (size_t)(dot - tok), body, sizeof body, &blen) !=
	    0 || b32_decode(dot + 1, n - (size_t)(dot - tok) - 1, sig,
	    sizeof sig, &got) != 0 || got != sizeof sig) {
		rc = err_set(e, MUSTER_EDATA, "enrollment URI: t= is not "
		    "base32(body).base32(signature) of a token");
		goto out;
	}
	/* The token as the bundle and the server spell it, then verified. */
	if ((rc = encode_signed(body, blen, sig, &enc, e)) != 0 ||
	    (rc = token_verify_named("enrollment URI", enc, strlen(enc), pk,
	    t, e)) != 0)
		goto out;
	*token = enc;
	enc = NULL;
out:
	sodium_memzero(body, sizeof body);
	fs_free_secret(enc);
	if (rc != 0) {
		memset(pk, 0, sizeof *pk);
		memset(t, 0, sizeof *t);
	}
	return rc;
}

/* ASCII a unit name may hold besides letters and digits. */
#define TOKEN_UNIT_PUNCT	" ._-@/()',&#+:"

int
token_unit_ok(const char *s)
{
	size_t n, i;
	unsigned char ch;

	if (s == NULL || (n = strlen(s)) == 0 || n >= TOKEN_FIELD_MAX ||
	    !esc_text_strict_ok(s, n))
		return 0;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch >= 0x80 || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			continue;
		if (strchr(TOKEN_UNIT_PUNCT, ch) == NULL)
			return 0;
		/* Every level holds something and no space at either end. */
		if (ch == '/' && (i == 0 || i == n - 1 || s[i - 1] == '/' ||
		    s[i - 1] == ' ' || s[i + 1] == ' '))
			return 0;
		if (ch == ' ' && (i == 0 || i == n - 1))
			return 0;
	}
	/* No-break and other Unicode spaces look like a space: refused. */
	for (i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] == 0xa0)
			return 0;
	return 1;
}

int
token_unit_within(const char *unit, const char *top)
{
	size_t n = strlen(top);

	return strncmp(unit, top, n) == 0 &&
	    (unit[n] == '\0' || unit[n] == '/');
}
