/*
 * token2 and token v2: tokens naming their root, tokens and revocations
 * checked against a root's enroll and revocation roles (a revocation
 * signed by a policy key is refused), v2 bundles carrying the root, and
 * v1 tokens and bundles still working through the legacy root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "muster/timefmt.h"
#include "muster/token2.h"
#include "trust_fixture.h"

#define B64URL	sodium_base64_VARIANT_URLSAFE_NO_PADDING

static void
sample(struct token *t, const struct root *r)
{
	memset(t, 0, sizeof *t);
	strcpy(t->id, "0123456789abcdef");
	strcpy(t->server, FX_SERVER);
	strcpy(t->pin, FX_PIN);
	t->scope = SCOPE_PERSONNEL;
	strcpy(t->unit, "IAF/25-WING");
	strcpy(t->person, "IAF-704512");
	t->expires = time(NULL) + 14 * 86400;
	if (r != NULL) {
		t->root_version = r->version;
		strcpy(t->root_hash, r->hash);
	}
}

static __attribute__((noinline)) char *
must_sign(const struct token *t, const struct sig_seckey *sk)
{
	struct muster_err e;
	char *s = NULL;

	if (token_sign(t, sk, &s, &e) != 0)
		fail_msg("token_sign: %s", e.msg);
	return s;
}

/* The decoded body of a signed object s. */
static void
body_of(const char *s, char *body, size_t size)
{
	const char *dot = strchr(s, '.');
	size_t blen = 0;

	assert_non_null(dot);
	assert_int_equal(sodium_base642bin((unsigned char *)body, size - 1, s,
	    (size_t)(dot - s), NULL, &blen, NULL, B64URL), 0);
	body[blen] = '\0';
}

/* Signs body raw, as token_sign would, for malformed bodies. */
static __attribute__((noinline)) char *
sign_raw(const char *body, const struct sig_seckey *sk)
{
	unsigned char sig[crypto_sign_BYTES];
	size_t len = strlen(body);
	size_t n1 = sodium_base64_ENCODED_LEN(len, B64URL);
	size_t n2 = sodium_base64_ENCODED_LEN(sizeof sig, B64URL);
	char *s = malloc(n1 + n2);

	assert_non_null(s);
	crypto_sign_detached(sig, NULL, (const unsigned char *)body, len,
	    sk->sk);
	sodium_bin2base64(s, n1, (const unsigned char *)body, len, B64URL);
	s[n1 - 1] = '.';
	sodium_bin2base64(s + n1, n2, sig, sizeof sig, B64URL);
	return s;
}

/* A root of version 3 (root a b c 2-of-3, policy d, revocation e, enroll g). */
static __attribute__((noinline)) struct sigset *
org_root(const struct fx *f, struct root *r)
{
	struct sigset *ss;
	struct muster_err e;

	fx_root(r, f, 3, "abc", 2, "d", 1, "e", "g");
	ss = fx_signed_root(r, f, "ab", 0);
	if (root_verify_self("3.cfg", ss, r, &e) != 0)
		fail_msg("root_verify_self: %s", e.msg);
	return ss;
}

static void
v2_roundtrip(void **state)
{
	struct fx *f = *state;
	struct root r;
	struct sigset *ss = org_root(f, &r);
	struct token t, v;
	struct muster_err e;
	char *s, body[TOKEN_BODY_MAX + 1], want[TOKEN_BODY_MAX], hex[17];
	char exp[TIMEFMT_LEN];

	sample(&t, &r);
	s = must_sign(&t, f->sk[6]);
	body_of(s, body, sizeof body);
	sig_keyid_hex(f->pk[6].keyid, hex);
	timefmt_format(t.expires, exp);
	snprintf(want, sizeof want, "muster-token-v2\nid=0123456789abcdef\n"
	    "server=%s\npin=%s\nscope=personnel\nunit=IAF/25-WING\n"
	    "person=IAF-704512\nexpires=%s\nroot=3:%s\nkey=%s\n", FX_SERVER,
	    FX_PIN, exp, r.hash, hex);
	assert_string_equal(body, want);
	assert_int_equal(token_verify(s, strlen(s), &f->pk[6], &v, &e), 0);
	assert_int_equal(v.root_version, 3);
	assert_string_equal(v.root_hash, r.hash);
	assert_int_equal(token2_verify(s, strlen(s), &r, &v, &e), 0);
	assert_int_equal(token2_root_match(&v, &r, &e), 0);
	free(s);

	/* v1 tokens are signed and read exactly as before. */
	sample(&t, NULL);
	s = must_sign(&t, f->sk[6]);
	body_of(s, body, sizeof body);
	assert_non_null(strstr(body, "muster-token-v1\n"));
	assert_null(strstr(body, "root="));
	assert_int_equal(token2_verify(s, strlen(s), &r, &v, &e), 0);
	assert_int_equal(v.root_version, 0);
	assert_string_equal(v.root_hash, "");
	assert_int_equal(token2_root_match(&v, &r, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "v1 token names no root"));
	free(s);

	/* Bad root values refused at signing. */
	sample(&t, &r);
	t.root_hash[0] = 'A';
	assert_int_equal(token_sign(&t, f->sk[6], &s, &e), MUSTER_EUSAGE);
	sample(&t, &r);
	t.root_version = (int64_t)INT32_MAX + 1;
	assert_int_equal(token_sign(&t, f->sk[6], &s, &e), MUSTER_EUSAGE);
	sigset_free(ss);
}

static void
v2_body_refusals(void **state)
{
	struct fx *f = *state;
	struct token t, v;
	struct muster_err e;
	const char *hash = "0123456789abcdef0123456789abcdef0123456789abcdef"
	    "0123456789abcdef";
	static const char *const roots[] = {
		"root=0:%s", "root=01:%s", "root=2147483648:%s", "root=:%s",
		"root=3%s", "root=3:%.63s", "root=3:%sa", "root=-3:%s",
		"root=3:%s ",
	};
	char body[TOKEN_BODY_MAX], line[128], hex[17], *s;
	size_t i;

	sig_keyid_hex(f->pk[6].keyid, hex);
	for (i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		snprintf(line, sizeof line, roots[i], hash);
		snprintf(body, sizeof body, "muster-token-v2\n"
		    "id=0123456789abcdef\nserver=%s\npin=%s\nscope=personnel\n"
		    "unit=U\nperson=P\nexpires=2099-01-01T00:00:00Z\n%s\n"
		    "key=%s\n", FX_SERVER, FX_PIN, line, hex);
		s = sign_raw(body, f->sk[6]);
		if (token_verify(s, strlen(s), &f->pk[6], &v, &e) !=
		    MUSTER_EDATA)
			fail_msg("\"%s\" not refused", line);
		assert_non_null(strstr(e.msg, "\"root\" is not"));
		assert_int_equal(v.root_version, 0);
		free(s);
	}
	/* v2 without its root line; v1 with one. */
	snprintf(body, sizeof body, "muster-token-v2\nid=0123456789abcdef\n"
	    "server=%s\npin=%s\nscope=personnel\nunit=U\nperson=P\n"
	    "expires=2099-01-01T00:00:00Z\nkey=%s\n", FX_SERVER, FX_PIN, hex);
	s = sign_raw(body, f->sk[6]);
	assert_int_equal(token_verify(s, strlen(s), &f->pk[6], &v, &e),
	    MUSTER_EDATA);
	free(s);
	snprintf(body, sizeof body, "muster-token-v1\nid=0123456789abcdef\n"
	    "server=%s\npin=%s\nscope=personnel\nunit=U\nperson=P\n"
	    "expires=2099-01-01T00:00:00Z\nroot=3:%s\nkey=%s\n", FX_SERVER,
	    FX_PIN, hash, hex);
	s = sign_raw(body, f->sk[6]);
	assert_int_equal(token_verify(s, strlen(s), &f->pk[6], &v, &e),
	    MUSTER_EDATA);
	free(s);
	snprintf(body, sizeof body, "muster-token-v3\nid=0123456789abcdef\n"
	    "key=%s\n", hex);
	s = sign_raw(body, f->sk[6]);
	assert_int_equal(token_verify(s, strlen(s), &f->pk[6], &v, &e),
	    MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "expected \"muster-token-v1\""));
	free(s);
	sample(&t, NULL);
	(void)t;
}

static void
roles_of_keys(void **state)
{
	struct fx *f = *state;
	struct root r;
	struct sigset *ss = org_root(f, &r);
	struct token t, v;
	struct revocation rv, got;
	struct muster_err e;
	char *s;
	int k;

	sample(&t, &r);
	/* A token by any key but the enroll key: refused. */
	for (k = 0; k < 6; k++) {
		s = must_sign(&t, f->sk[k]);
		assert_int_equal(token2_verify(s, strlen(s), &r, &v, &e),
		    MUSTER_ETRUST);
		assert_non_null(strstr(e.msg, "not an enroll key of root 3"));
		assert_string_equal(v.id, "");
		free(s);
	}
	/* A forged token naming the enroll key. */
	s = must_sign(&t, f->sk[6]);
	s[3] ^= 1;
	assert_true(token2_verify(s, strlen(s), &r, &v, &e) < 0);
	free(s);
	assert_int_equal(token2_verify("junk", 4, &r, &v, &e), MUSTER_EDATA);

	memset(&rv, 0, sizeof rv);
	strcpy(rv.id, "0123456789abcdef0123456789abcdef");
	rv.time = time(NULL);
	/* Revocation by the revocation key: accepted. */
	assert_int_equal(token_revocation_sign(&rv, f->sk[4], &s, &e), 0);
	assert_int_equal(token2_revocation_verify(s, strlen(s), &r, &got, &e),
	    0);
	assert_string_equal(got.id, rv.id);
	free(s);
	/* By the policy key (the first wave's org key) or any other: no. */
	for (k = 0; k < 7; k++) {
		if (k == 4)
			continue;
		assert_int_equal(token_revocation_sign(&rv, f->sk[k], &s, &e), 0);
		assert_int_equal(token2_revocation_verify(s, strlen(s), &r,
		    &got, &e), MUSTER_ETRUST);
		assert_non_null(strstr(e.msg, "not a revocation key"));
		assert_string_equal(got.id, "");
		free(s);
	}
	sigset_free(ss);
}

static void
legacy_tokens(void **state)
{
	struct fx *f = *state;
	struct root legacy;
	struct token t, v;
	struct revocation rv, got;
	struct muster_err e;
	char *s;

	assert_int_equal(root_legacy(&f->pk[0], FX_SERVER, FX_PIN, &legacy,
	    &e), 0);
	sample(&t, NULL);
	s = must_sign(&t, f->sk[0]);
	assert_int_equal(token2_verify(s, strlen(s), &legacy, &v, &e), 0);
	assert_int_equal(token2_root_match(&v, &legacy, &e), MUSTER_ETRUST);
	free(s);
	s = must_sign(&t, f->sk[1]);
	assert_int_equal(token2_verify(s, strlen(s), &legacy, &v, &e),
	    MUSTER_ETRUST);
	free(s);
	memset(&rv, 0, sizeof rv);
	strcpy(rv.id, "0123456789abcdef");
	rv.time = time(NULL);
	assert_int_equal(token_revocation_sign(&rv, f->sk[0], &s, &e), 0);
	assert_int_equal(token2_revocation_verify(s, strlen(s), &legacy, &got,
	    &e), 0);
	free(s);
}

static void
root_match(void **state)
{
	struct fx *f = *state;
	struct root r, other;
	struct sigset *ss = org_root(f, &r);
	struct token t;
	struct muster_err e;

	sample(&t, &r);
	assert_int_equal(token2_root_match(&t, &r, &e), 0);
	other = r;
	other.version = 4;
	assert_int_equal(token2_root_match(&t, &other, &e), MUSTER_ETRUST);
	other = r;
	other.hash[5] ^= 1;
	assert_int_equal(token2_root_match(&t, &other, &e), MUSTER_ETRUST);
	sigset_free(ss);
}

static void
bundles(void **state)
{
	struct fx *f = *state;
	struct root r, got;
	struct sigset *ss = org_root(f, &r), *gss = NULL, *weak;
	struct token t, v;
	struct muster_err e;
	char *tok, *text = NULL, *gtok = NULL, *bad, *v1 = NULL;

	sample(&t, &r);
	tok = must_sign(&t, f->sk[6]);
	assert_int_equal(token2_bundle_format(ss, tok, &t, &text, &e), 0);
	assert_non_null(strstr(text, "root_signatures = (\n"));
	assert_null(strstr(text, "org_key"));
	assert_int_equal(token2_bundle_parse("b", text, strlen(text), &gss,
	    &got, &gtok, &v, &e), 0);
	assert_string_equal(gtok, tok);
	assert_int_equal(got.version, 3);
	assert_string_equal(got.hash, r.hash);
	assert_int_equal(gss->version, 3);
	assert_int_equal(gss->nsigs, 2);
	assert_memory_equal(gss->bytes, ss->bytes, ss->len);
	assert_string_equal(gss->texts[1], ss->texts[1]);
	assert_int_equal(v.root_version, 3);
	sigset_free(gss);
	free(gtok);

	/* Unknown field; a v1 token in a v2 bundle. */
	bad = fx_replace(text, "token = ", "extra = 1;\ntoken = ");
	assert_int_equal(token2_bundle_parse("b", bad, strlen(bad), &gss, &got,
	    &gtok, &v, &e), MUSTER_EDATA);
	assert_null(gss);
	assert_null(gtok);
	free(bad);
	assert_int_equal(token2_bundle_format(ss, tok, &(struct token){ 0 },
	    &bad, &e), MUSTER_EUSAGE);
	free(text);

	/* A root signed below its threshold is not trusted on first use. */
	weak = fx_signed_root(&r, f, "a", 0);
	assert_int_equal(token2_bundle_format(weak, tok, &t, &text, &e), 0);
	assert_int_equal(token2_bundle_parse("b", text, strlen(text), &gss,
	    &got, &gtok, &v, &e), MUSTER_ETRUST);
	assert_null(gss);
	assert_int_equal(got.version, 0);
	free(text);
	sigset_free(weak);
	free(tok);

	/* A token that names another root (an older one). */
	t.root_version = 2;
	tok = must_sign(&t, f->sk[6]);
	assert_int_equal(token2_bundle_format(ss, tok, &t, &text, &e), 0);
	assert_int_equal(token2_bundle_parse("b", text, strlen(text), &gss,
	    &got, &gtok, &v, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "names root 2"));
	free(text);
	free(tok);
	/* Signed by the policy key, not the enroll key. */
	sample(&t, &r);
	tok = must_sign(&t, f->sk[3]);
	assert_int_equal(token2_bundle_format(ss, tok, &t, &text, &e), 0);
	assert_int_equal(token2_bundle_parse("b", text, strlen(text), &gss,
	    &got, &gtok, &v, &e), MUSTER_ETRUST);
	free(text);
	free(tok);

	/* A first-wave bundle: the org key becomes the legacy root. */
	sample(&t, NULL);
	tok = must_sign(&t, f->sk[0]);
	assert_int_equal(token_bundle_format(&f->pk[0], tok, &t, &v1, &e), 0);
	assert_int_equal(token2_bundle_parse("b", v1, strlen(v1), &gss, &got,
	    &gtok, &v, &e), 0);
	assert_null(gss);
	assert_int_equal(got.legacy, 1);
	assert_string_equal(got.server, FX_SERVER);
	assert_string_equal(got.pins[0], FX_PIN);
	assert_non_null(root_find_key(&got, ROOT_ROLE_POLICY, f->pk[0].keyid));
	assert_string_equal(gtok, tok);
	free(gtok);
	free(v1);
	free(tok);
	sigset_free(ss);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v2_roundtrip),
		cmocka_unit_test(v2_body_refusals),
		cmocka_unit_test(roles_of_keys),
		cmocka_unit_test(legacy_tokens),
		cmocka_unit_test(root_match),
		cmocka_unit_test(bundles),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
