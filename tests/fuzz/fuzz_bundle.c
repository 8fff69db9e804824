/*
 * fuzz_bundle: enrollment bundles, tokens and revocations (lib/token.c)
 * on arbitrary bytes.  Each input goes, whole, to:
 *
 *	token_bundle_parse		as a bundle file (the token verified with the
 *				bundle's own key, so a real bundle goes deep)
 *	token_bundle_uri_parse	as a muster://enroll URI
 *	token_verify,		as a token and a revocation string, with the
 *	token_revocation_verify	fixed org key of fuzz.h
 *	the body parsers	as the body of a token and of a revocation:
 *				the harness signs it with the fixed org key,
 *				so the strict body parse is reached with any
 *				bytes, not only those the fuzzer can sign
 *
 * Whatever verifies must sign again to exactly the same string (the
 * parse is strict, so a token has one spelling), and a verified token
 * must survive token_bundle_format/token_bundle_parse and token_bundle_uri/token_bundle_uri_parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/sig.h"
#include "muster/token.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define B64URL	sodium_base64_VARIANT_URLSAFE_NO_PADDING

static struct sig_pubkey org_pk;
static struct sig_seckey *org_sk;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	fuzz_org_key(&org_pk, &org_sk);
	return 0;
}

static void
same_token(const struct token *a, const struct token *b, const char *how)
{
	FUZZ_ASSERT(strcmp(a->id, b->id) == 0 &&
	    strcmp(a->server, b->server) == 0 && strcmp(a->pin, b->pin) == 0 &&
	    a->scope == b->scope && strcmp(a->unit, b->unit) == 0 &&
	    strcmp(a->person, b->person) == 0 && a->expires == b->expires &&
	    memcmp(a->keyid, b->keyid, sizeof a->keyid) == 0,
	    "%s gave another token", how);
}

/* A verified token (string tok, fields t, key pk) in every container. */
static void
token_roundtrip(const struct sig_pubkey *pk, const char *tok,
    const struct token *t)
{
	struct sig_pubkey pk2;
	struct token t2;
	struct muster_err e;
	char *text = NULL, *tok2 = NULL;
	int rc;

	FUZZ_ASSERT(token_bundle_format(pk, tok, t, &text, &e) == 0,
	    "token_bundle_format: %s", e.msg);
	rc = token_bundle_parse("again", text, strlen(text), &pk2, &tok2, &t2, &e);
	FUZZ_ASSERT(rc == 0, "a formatted bundle does not parse: %s\n%s",
	    e.msg, text);
	FUZZ_ASSERT(memcmp(pk, &pk2, sizeof *pk) == 0 &&
	    strcmp(tok, tok2) == 0, "token_bundle_parse changed the key or token");
	same_token(t, &t2, "token_bundle_parse");
	free(text);
	free(tok2);
	text = tok2 = NULL;

	FUZZ_ASSERT(token_bundle_uri(pk, tok, &text, &e) == 0, "token_bundle_uri: %s",
	    e.msg);
	rc = token_bundle_uri_parse(text, strlen(text), &pk2, &tok2, &t2, &e);
	FUZZ_ASSERT(rc == 0, "a bundle URI does not parse: %s", e.msg);
	FUZZ_ASSERT(memcmp(pk, &pk2, sizeof *pk) == 0 &&
	    strcmp(tok, tok2) == 0, "token_bundle_uri_parse changed the key or token");
	same_token(t, &t2, "token_bundle_uri_parse");
	free(text);
	free(tok2);
}

/* The input as a bundle file and as a URI. */
static void
fuzz_containers(const uint8_t *data, size_t size)
{
	struct sig_pubkey pk;
	struct token t;
	struct muster_err e;
	char *tok = NULL;
	int rc;

	rc = token_bundle_parse("fuzz.bundle", (const char *)data, size, &pk, &tok,
	    &t, &e);
	if (rc == 0) {
		FUZZ_ASSERT(tok != NULL, "no token");
		token_roundtrip(&pk, tok, &t);
		free(tok);
	} else
		FUZZ_ASSERT(tok == NULL && (rc == MUSTER_EDATA ||
		    rc == MUSTER_ETRUST), "token_bundle_parse: %d", rc);

	tok = NULL;
	rc = token_bundle_uri_parse((const char *)data, size, &pk, &tok, &t, &e);
	if (rc == 0) {
		FUZZ_ASSERT(tok != NULL, "no token");
		token_roundtrip(&pk, tok, &t);
		free(tok);
	} else
		FUZZ_ASSERT(tok == NULL && (rc == MUSTER_EDATA ||
		    rc == MUSTER_ETRUST), "token_bundle_uri_parse: %d", rc);
}

/* Checks a verified token or revocation string s against a new signing. */
static void
resign_token(const char *s, const struct token *t)
{
	struct muster_err e;
	char *again = NULL;

	FUZZ_ASSERT(token_sign(t, org_sk, &again, &e) == 0,
	    "a verified token does not sign: %s", e.msg);
	FUZZ_ASSERT(strcmp(again, s) == 0,
	    "a verified token signs to another string");
	free(again);
	token_roundtrip(&org_pk, s, t);
}

static void
resign_revocation(const char *s, const struct revocation *r)
{
	struct muster_err e;
	char *again = NULL;

	FUZZ_ASSERT(token_revocation_sign(r, org_sk, &again, &e) == 0,
	    "a verified revocation does not sign: %s", e.msg);
	FUZZ_ASSERT(strcmp(again, s) == 0,
	    "a verified revocation signs to another string");
	free(again);
}

/* The input as a token or revocation string. */
static void
fuzz_strings(const uint8_t *data, size_t size)
{
	struct revocation r;
	struct token t;
	struct muster_err e;
	char *s;
	int rc;

	rc = token_verify((const char *)data, size, &org_pk, &t, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA || rc == MUSTER_ETRUST,
	    "token_verify: %d", rc);
	if (rc == 0) {
		s = fuzz_strndup(data, size);
		resign_token(s, &t);
		free(s);
	}
	rc = token_revocation_verify((const char *)data, size, &org_pk, &r, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA || rc == MUSTER_ETRUST,
	    "token_revocation_verify: %d", rc);
	if (rc == 0) {
		s = fuzz_strndup(data, size);
		resign_revocation(s, &r);
		free(s);
	}
}

/* The input as a body, signed here: base64url(body) "." base64url(sig). */
static void
fuzz_bodies(const uint8_t *data, size_t size)
{
	unsigned char sig[crypto_sign_BYTES];
	struct revocation r;
	struct token t;
	struct muster_err e;
	char s[TOKEN_MAX + 64];
	size_t n1;
	int rc;

	if (size == 0 || size > TOKEN_BODY_MAX)
		return;
	crypto_sign_detached(sig, NULL, data, size, org_sk->sk);
	n1 = sodium_base64_ENCODED_LEN(size, B64URL);
	sodium_bin2base64(s, n1, data, size, B64URL);
	s[n1 - 1] = '.';
	sodium_bin2base64(s + n1, sizeof s - n1, sig, sizeof sig, B64URL);

	rc = token_verify(s, strlen(s), &org_pk, &t, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA || rc == MUSTER_ETRUST,
	    "token_verify: %d", rc);
	if (rc == 0)
		resign_token(s, &t);
	rc = token_revocation_verify(s, strlen(s), &org_pk, &r, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA || rc == MUSTER_ETRUST,
	    "token_revocation_verify: %d", rc);
	if (rc == 0)
		resign_revocation(s, &r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_containers(data, size);
	fuzz_strings(data, size);
	fuzz_bodies(data, size);
	return 0;
}
