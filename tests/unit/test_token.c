/*
 * token: org-signed enrollment tokens, revocations and bundles.  Round
 * trips must verify; every forgery, truncation, oversize and malformed
 * field must not.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/timefmt.h"
#include "muster/token.h"

#define B64URL	sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define PIN	"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

struct keys {
	struct sig_pubkey	 pk;
	struct sig_seckey	*sk;
	struct sig_pubkey	 pk2;	/* another org */
	struct sig_seckey	*sk2;
};

static int
setup(void **state)
{
	struct keys *k = calloc(1, sizeof *k);

	if (k == NULL || sig_keygen(&k->pk, &k->sk, NULL) != 0 ||
	    sig_keygen(&k->pk2, &k->sk2, NULL) != 0)
		return -1;
	*state = k;
	return 0;
}

static int
teardown(void **state)
{
	struct keys *k = *state;

	sig_seckey_free(k->sk);
	sig_seckey_free(k->sk2);
	free(k);
	return 0;
}

static void
sample(struct token *t)
{
	memset(t, 0, sizeof *t);
	strcpy(t->id, "0123456789abcdef");
	strcpy(t->server, "https://127.0.0.1:8443");
	strcpy(t->pin, PIN);
	t->scope = SCOPE_PERSONNEL;
	strcpy(t->unit, "IAF/25-WING");
	strcpy(t->person, "IAF-704512");
	assert_int_equal(timefmt_parse("2026-12-05T00:00:00Z",
	    &t->expires), 0);
}

/* (noinline: gcc 12 otherwise warns of a dangling pointer it imagines.) */
static __attribute__((noinline)) char *
must_sign(const struct token *t, const struct sig_seckey *sk)
{
	struct muster_err e;
	char *s = NULL;

	if (token_sign(t, sk, &s, &e) != 0)
		fail_msg("token_sign: %s", e.msg);
	return s;
}

/* Signs an arbitrary body the way token_sign would, for malformed bodies. */
static __attribute__((noinline)) char *
sign_raw(const char *body, size_t len, const struct sig_seckey *sk)
{
	unsigned char sig[crypto_sign_BYTES];
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

/* The body a sample token signed by sk has, with one line replaced. */
static void
body_with(char *buf, size_t size, const struct sig_seckey *sk,
    const char *key, const char *line)
{
	static const char *const lines[] = {
		"muster-token-v1", "id=0123456789abcdef",
		"server=https://127.0.0.1:8443", "pin=" PIN,
		"scope=personnel", "unit=IAF/25-WING", "person=IAF-704512",
		"expires=2026-12-05T00:00:00Z", NULL,
	};
	char hex[SIG_KEYID_HEX], keyline[64];
	size_t i, o = 0, klen = key != NULL ? strlen(key) : 0;

	sig_keyid_hex(sk->keyid, hex);
	snprintf(keyline, sizeof keyline, "key=%s", hex);
	buf[0] = '\0';
	for (i = 0; i < 9; i++) {
		const char *l = i < 8 ? lines[i] : keyline;

		if (key != NULL && strncmp(l, key, klen) == 0 &&
		    l[klen] == '=')
			l = line;
		if (l == NULL)
			continue;
		o += (size_t)snprintf(buf + o, size - o, "%s\n", l);
	}
}

static void
field_ok(void **state)
{
	char s[80];

	(void)state;
	assert_true(token_field_ok("IAF-704512", 0));
	assert_true(token_field_ok("a.b_c-d@e", 0));
	assert_true(token_field_ok("IAF/25-WING", 1));
	assert_false(token_field_ok("IAF/25-WING", 0));
	assert_false(token_field_ok("", 1));
	assert_false(token_field_ok(NULL, 1));
	assert_false(token_field_ok("a b", 1));
	assert_false(token_field_ok("a=b", 1));
	assert_false(token_field_ok("a\nb", 1));
	assert_false(token_field_ok("a,b", 1));
	assert_false(token_field_ok("\xc3\xa9", 1));
	memset(s, 'x', 64);
	s[64] = '\0';
	assert_true(token_field_ok(s, 0));
	s[64] = 'x';
	s[65] = '\0';
	assert_false(token_field_ok(s, 0));
}

static void
new_id(void **state)
{
	char a[TOKEN_ID_HEX], b[TOKEN_ID_HEX];
	size_t i;

	(void)state;
	token_new_id(a);
	token_new_id(b);
	assert_int_equal(strlen(a), 16);
	for (i = 0; i < 16; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
}

static void
sign_verify_roundtrip(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t, v;
	char *s, *dot, body[TOKEN_BODY_MAX + 1], hex[SIG_KEYID_HEX];
	size_t blen, i;

	sample(&t);
	s = must_sign(&t, k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e), 0);
	assert_string_equal(v.id, t.id);
	assert_string_equal(v.server, t.server);
	assert_string_equal(v.pin, t.pin);
	assert_int_equal(v.scope, SCOPE_PERSONNEL);
	assert_string_equal(v.unit, t.unit);
	assert_string_equal(v.person, t.person);
	assert_int_equal(v.expires, t.expires);
	assert_memory_equal(v.keyid, k->pk.keyid, SIG_KEYID_BYTES);

	/* The body is exactly docs/protocol.md's. */
	dot = strchr(s, '.');
	assert_non_null(dot);
	assert_int_equal(sodium_base642bin((unsigned char *)body,
	    sizeof body - 1, s, (size_t)(dot - s), NULL, &blen, NULL, B64URL),
	    0);
	body[blen] = '\0';
	sig_keyid_hex(k->pk.keyid, hex);
	{
		char want[TOKEN_BODY_MAX];

		snprintf(want, sizeof want, "muster-token-v1\n"
		    "id=0123456789abcdef\nserver=https://127.0.0.1:8443\n"
		    "pin=%s\nscope=personnel\nunit=IAF/25-WING\n"
		    "person=IAF-704512\nexpires=2026-12-05T00:00:00Z\n"
		    "key=%s\n", PIN, hex);
		assert_string_equal(body, want);
	}
	free(s);

	/* Family, an IPv6 server, fields at their longest. */
	t.scope = SCOPE_FAMILY;
	strcpy(t.server, "https://[2001:db8::1]:443/");
	/* Units form a tree: no empty level, so "u/u/.../u" (63 bytes). */
	for (i = 0; i < 63; i++)
		t.unit[i] = i % 2 == 0 ? 'u' : '/';
	t.unit[63] = '\0';
	memset(t.person, '@', 64);
	t.person[64] = '\0';
	s = must_sign(&t, k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e), 0);
	assert_int_equal(v.scope, SCOPE_FAMILY);
	assert_string_equal(v.unit, t.unit);
	assert_string_equal(v.person, t.person);
	assert_string_equal(v.server, t.server);
	assert_true(strlen(s) < TOKEN_MAX);
	free(s);
}

static void
every_byte_flip_fails(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t, v;
	char *s;
	size_t i, len;
	int bit, rc;

	sample(&t);
	s = must_sign(&t, k->sk);
	len = strlen(s);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			s[i] ^= (char)(1 << bit);
			rc = token_verify(s, len, &k->pk, &v, &e);
			if (rc == 0)
				print_error("flip byte %zu bit %d verified\n",
				    i, bit);
			assert_true(rc == MUSTER_ETRUST || rc == MUSTER_EDATA);
			s[i] ^= (char)(1 << bit);
		}
	}
	assert_int_equal(token_verify(s, len, &k->pk, &v, &e), 0);
	free(s);
}

/* Changing any byte of the body, re-encoded with the old signature, fails. */
static void
every_body_byte_change_fails(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t, v;
	unsigned char body[TOKEN_BODY_MAX];
	char *s, *dot, forged[TOKEN_MAX];
	size_t blen, i, n;
	int rc;

	sample(&t);
	s = must_sign(&t, k->sk);
	dot = strchr(s, '.');
	assert_int_equal(sodium_base642bin(body, sizeof body, s,
	    (size_t)(dot - s), NULL, &blen, NULL, B64URL), 0);
	for (i = 0; i < blen; i++) {
		body[i] ^= 0x01;
		sodium_bin2base64(forged, sizeof forged, body, blen, B64URL);
		n = strlen(forged);
		snprintf(forged + n, sizeof forged - n, "%s", dot);
		rc = token_verify(forged, strlen(forged), &k->pk, &v, &e);
		assert_true(rc == MUSTER_ETRUST || rc == MUSTER_EDATA);
		body[i] ^= 0x01;
	}
	free(s);
}

static void
wrong_key(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct sig_pubkey pk;
	struct token t, v;
	char *s;

	sample(&t);
	s = must_sign(&t, k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk2, &v, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "not by the trusted key"));
	/* The same key id with another key: the signature must fail. */
	pk = k->pk2;
	memcpy(pk.keyid, k->pk.keyid, SIG_KEYID_BYTES);
	assert_int_equal(token_verify(s, strlen(s), &pk, &v, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "verification failed"));
	/* Nothing of a refused token is handed out. */
	assert_string_equal(v.person, "");
	free(s);

	/* Signed by the other key but naming ours: still the signature. */
	{
		char body[TOKEN_BODY_MAX];

		body_with(body, sizeof body, k->sk, NULL, NULL);
		s = sign_raw(body, strlen(body), k->sk2);
		assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
		    MUSTER_ETRUST);
		free(s);
	}
}

static void
truncated(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t, v;
	char *s;
	size_t i, len;

	sample(&t);
	s = must_sign(&t, k->sk);
	len = strlen(s);
	for (i = 0; i < len; i++)
		assert_int_not_equal(token_verify(s, i, &k->pk, &v, &e), 0);
	/* A NUL-terminated prefix too, and the token with a byte added. */
	for (i = 1; i < len; i += 7) {
		char *p = strndup(s, i);

		assert_int_not_equal(token_verify(p, i, &k->pk, &v, &e), 0);
		free(p);
	}
	{
		char *p = malloc(len + 2);

		memcpy(p, s, len);
		p[len] = 'A';
		p[len + 1] = '\0';
		assert_int_equal(token_verify(p, len + 1, &k->pk, &v, &e),
		    MUSTER_EDATA);
		p[len] = '\n';
		assert_int_equal(token_verify(p, len + 1, &k->pk, &v, &e),
		    MUSTER_EDATA);
		free(p);
	}
	assert_int_equal(token_verify(NULL, 0, &k->pk, &v, &e), MUSTER_EDATA);
	assert_int_equal(token_verify("", 0, &k->pk, &v, &e), MUSTER_EDATA);
	assert_int_equal(token_verify(".", 1, &k->pk, &v, &e), MUSTER_EDATA);
	free(s);
}

static void
oversized(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t, v;
	char big[TOKEN_MAX + 100], body[TOKEN_BODY_MAX + 2], *s;
	size_t n;

	memset(big, 'A', sizeof big);
	assert_int_equal(token_verify(big, sizeof big, &k->pk, &v, &e),
	    MUSTER_EDATA);
	/* A signed body of 1025 bytes, even a well-formed one, is refused. */
	body_with(body, sizeof body, k->sk, NULL, NULL);
	n = strlen(body);
	memmove(body + (TOKEN_BODY_MAX + 1 - n), body, n + 1);
	memset(body, '#', TOKEN_BODY_MAX + 1 - n);
	assert_int_equal(strlen(body), TOKEN_BODY_MAX + 1);
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	/* The largest fields token_sign takes still fit (TOKEN_BODY_MAX). */
	sample(&t);
	strcpy(t.server, "https://");
	memset(t.server + 8, 'a', 63);
	t.server[71] = '.';
	memset(t.server + 72, 'b', 63);
	strcpy(t.server + 135, ":65535");
	memset(t.unit, 'u', 64);
	memset(t.person, 'p', 64);
	s = NULL;
	assert_int_equal(token_sign(&t, k->sk, &s, &e), 0);
	assert_true(strlen(s) < TOKEN_MAX);
	free(s);
	s = NULL;
	assert_null(s);
}

static void
sign_refuses_bad_fields(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t;
	char *s = NULL;
	static const char *const bad_units[] = {
		"", "a\nb", "a=b", "a\"b", "a\\b", "/a", "a/", "a//b",
		"a /b", "a/ b", " a", "a ", "a\xe2\x80\x8b" "b", "a\xc2\xa0" "b",
		"a\xe2\x80\xae" "b", "a\xc2\x85" "b", "a\xff", "a;b", "a<b",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	size_t i;

	for (i = 0; i < sizeof bad_units / sizeof bad_units[0]; i++) {
		sample(&t);
		snprintf(t.unit, sizeof t.unit, "%s", bad_units[i]);
		if (strlen(bad_units[i]) > 64)
			memcpy(t.unit, bad_units[i], sizeof t.unit);	/* unterminated */
		assert_int_equal(token_sign(&t, k->sk, &s, &e),
		    MUSTER_EUSAGE);
		assert_null(s);
		sample(&t);
		snprintf(t.person, sizeof t.person, "%s", bad_units[i]);
		if (strlen(bad_units[i]) > 64)
			memcpy(t.person, bad_units[i], sizeof t.person);
		assert_int_equal(token_sign(&t, k->sk, &s, &e),
		    MUSTER_EUSAGE);
	}
	sample(&t);
	strcpy(t.person, "a/b");
	assert_int_equal(token_sign(&t, k->sk, &s, &e), MUSTER_EUSAGE);
	sample(&t);
	strcpy(t.id, "0123456789ABCDEF");
	assert_int_equal(token_sign(&t, k->sk, &s, &e), MUSTER_EUSAGE);
	sample(&t);
	strcpy(t.server, "http://127.0.0.1");
	assert_int_equal(token_sign(&t, k->sk, &s, &e), MUSTER_EUSAGE);
	sample(&t);
	strcpy(t.server, "https://h\n/");
	assert_int_equal(token_sign(&t, k->sk, &s, &e), MUSTER_EUSAGE);
	sample(&t);
	strcpy(t.pin, "sha256//abc");
	assert_int_equal(token_sign(&t, k->sk, &s, &e), MUSTER_EUSAGE);
	sample(&t);
	t.scope = (enum profile_scope)7;
	assert_int_equal(token_sign(&t, k->sk, &s, &e), MUSTER_EUSAGE);
	sample(&t);
	t.expires = (time_t)-1;
	assert_int_equal(token_sign(&t, k->sk, &s, &e), MUSTER_EUSAGE);
	assert_null(s);
}

/* Bodies signed by the right key that the strict parse must refuse. */
static void
verify_refuses_bad_bodies(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token v;
	char body[2 * TOKEN_BODY_MAX], hex[SIG_KEYID_HEX], *s, *p;
	static const struct {
		const char *key, *line;
	} cases[] = {
		{ "unit", "unit=a=b" },
		{ "unit", "unit=" },
		{ "unit", "unit=a//b" },
		{ "unit", "unit=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },
		{ "person", "person=a/b" },
		{ "person", "person=a\rb" },
		{ "person", NULL },
		{ "id", "id=0123456789ABCDEF" },
		{ "id", "id=0123456789abcde" },
		{ "id", "id=0123456789abcdef0" },
		{ "server", "server=http://127.0.0.1:8443" },
		{ "server", "server=https://127.0.0.1:8443/x" },
		{ "server", "server=https://bad host" },
		{ "pin", "pin=sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU" },
		{ "pin", "pin=sha1//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
		{ "pin", "pin=sha256//47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" },
		{ "scope", "scope=Personnel" },
		{ "scope", "scope=admin" },
		{ "expires", "expires=2026-02-30T00:00:00Z" },
		{ "expires", "expires=2026-12-05T00:00:00+01:00" },
		{ "expires", "expires=2026-12-05 00:00:00Z" },
		{ "muster-token-v1", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (strcmp(cases[i].key, "muster-token-v1") == 0) {
			body_with(body, sizeof body, k->sk, NULL, NULL);
			p = body + strlen("muster-token-v1\n");
			s = sign_raw(p, strlen(p), k->sk);
		} else {
			body_with(body, sizeof body, k->sk, cases[i].key,
			    cases[i].line);
			s = sign_raw(body, strlen(body), k->sk);
		}
		if (token_verify(s, strlen(s), &k->pk, &v, &e) !=
		    MUSTER_EDATA)
			fail_msg("case %zu (%s) not refused", i,
			    cases[i].line != NULL ? cases[i].line : "-");
		assert_string_equal(v.person, "");
		free(s);
	}

	sig_keyid_hex(k->sk->keyid, hex);
	/* Duplicate, reordered, extra, CRLF, lowercase key id, no newline. */
	body_with(body, sizeof body, k->sk, "unit",
	    "unit=IAF/25-WING\nunit=IAF/25-WING");
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	/* unit and person swapped. */
	snprintf(body, sizeof body, "muster-token-v1\nid=0123456789abcdef\n"
	    "server=https://127.0.0.1:8443\npin=%s\nscope=personnel\n"
	    "person=IAF-704512\nunit=IAF/25-WING\n"
	    "expires=2026-12-05T00:00:00Z\nkey=%s\n", PIN, hex);
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "line 6: expected \"unit=\""));
	free(s);
	body_with(body, sizeof body, k->sk, NULL, NULL);
	strcat(body, "extra=1\n");
	s = sign_raw(body, strlen(body), k->sk);
	/* The key line is no longer last. */
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	body_with(body, sizeof body, k->sk, "expires",
	    "expires=2026-12-05T00:00:00Z\nextra=1");
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	body_with(body, sizeof body, k->sk, "scope", "scope=personnel\r");
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	body_with(body, sizeof body, k->sk, NULL, NULL);
	body[strlen(body) - 1] = '\0';
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	body_with(body, sizeof body, k->sk, NULL, NULL);
	for (p = strstr(body, "key=") + 4; *p != '\n'; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	/* A NUL byte inside a value. */
	body_with(body, sizeof body, k->sk, NULL, NULL);
	p = strstr(body, "unit=") + 6;
	*p = '\0';
	s = sign_raw(body, strlen(body) + strlen(p + 1) + 1, k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	/* The well-formed body signed the same way verifies (control). */
	body_with(body, sizeof body, k->sk, NULL, NULL);
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e), 0);
	free(s);
}

/* Bytes outside the alphabet, >= 0x80 in particular, and non-canonical
 * spellings of the same bytes are refused before any crypto. */
static void
encoding_is_strict(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t, v;
	char *s, *p;
	size_t len;
	static const char bytes[] = { '\x80', '\xc0', '\xff', '=', '+', '/',
	    ' ', '\n', '\0', '.' };
	size_t i, j;
	char c, *end;
	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_";

	sample(&t);
	s = must_sign(&t, k->sk);
	len = strlen(s);
	for (i = 0; i < len; i += 13) {
		c = s[i];
		for (j = 0; j < sizeof bytes; j++) {
			if (bytes[j] == c)
				continue;
			s[i] = bytes[j];
			assert_int_equal(token_verify(s, len, &k->pk, &v, &e),
			    MUSTER_EDATA);
		}
		s[i] = c;
	}
	/* The signature's last character carries 4 unused bits. */
	end = s + len - 1;
	c = *end;
	p = strchr(alpha, c);
	assert_non_null(p);
	for (i = 0; i < 64; i++) {
		if (alpha[i] == c)
			continue;
		*end = alpha[i];
		assert_int_not_equal(token_verify(s, len, &k->pk, &v, &e), 0);
	}
	*end = c;
	/* Padding is refused. */
	p = malloc(len + 3);
	memcpy(p, s, len);
	memcpy(p + len, "==", 3);
	assert_int_equal(token_verify(p, len + 2, &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(p);
	assert_int_equal(token_verify(s, len, &k->pk, &v, &e), 0);
	free(s);
}

static void
expired(void **state)
{
	struct token t;

	(void)state;
	sample(&t);
	assert_false(token_expired(&t, t.expires - 1));
	assert_true(token_expired(&t, t.expires));
	assert_true(token_expired(&t, t.expires + 1));
}

static void
revocation_roundtrip(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct revocation r, v;
	struct token t;
	char *s, body[256], hex[SIG_KEYID_HEX];
	size_t i, len;

	memset(&r, 0, sizeof r);
	strcpy(r.id, "0123456789abcdef0123456789abcdef");
	assert_int_equal(timefmt_parse("2026-11-21T10:00:00Z", &r.time),
	    0);
	assert_int_equal(token_revocation_sign(&r, k->sk, &s, &e), 0);
	assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk, &v, &e), 0);
	assert_string_equal(v.id, r.id);
	assert_int_equal(v.time, r.time);
	assert_memory_equal(v.keyid, k->pk.keyid, SIG_KEYID_BYTES);
	assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk2, &v, &e),
	    MUSTER_ETRUST);
	/* A revocation is not a token, nor the other way round. */
	assert_int_equal(token_verify(s, strlen(s), &k->pk, &t, &e),
	    MUSTER_EDATA);
	len = strlen(s);
	for (i = 0; i < len; i++) {
		s[i] ^= 0x04;
		assert_int_not_equal(token_revocation_verify(s, len, &k->pk, &v,
		    &e), 0);
		s[i] ^= 0x04;
	}
	for (i = 0; i < len; i++)
		assert_int_not_equal(token_revocation_verify(s, i, &k->pk, &v, &e),
		    0);
	free(s);

	strcpy(r.id, "0123456789abcdef");
	assert_int_equal(token_revocation_sign(&r, k->sk, &s, &e), 0);
	assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk, &v, &e), 0);
	assert_string_equal(v.id, "0123456789abcdef");
	free(s);
	{
		struct token tt;

		sample(&tt);
		s = must_sign(&tt, k->sk);
		assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk, &v,
		    &e), MUSTER_EDATA);
		free(s);
	}

	s = NULL;
	strcpy(r.id, "0123456789abcdef0");
	assert_int_equal(token_revocation_sign(&r, k->sk, &s, &e), MUSTER_EUSAGE);
	strcpy(r.id, "0123456789ABCDEF");
	assert_int_equal(token_revocation_sign(&r, k->sk, &s, &e), MUSTER_EUSAGE);
	strcpy(r.id, "../../etc/passwd");
	assert_int_equal(token_revocation_sign(&r, k->sk, &s, &e), MUSTER_EUSAGE);
	assert_null(s);

	/* Bad ids and times signed by the right key are refused. */
	sig_keyid_hex(k->sk->keyid, hex);
	snprintf(body, sizeof body, "muster-revoke-v1\nid=0123456789abcde"
	    "\ntime=2026-11-21T10:00:00Z\nkey=%s\n", hex);
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	snprintf(body, sizeof body, "muster-revoke-v1\nid=0123456789abcdef"
	    "\ntime=2026-11-21T25:00:00Z\nkey=%s\n", hex);
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	snprintf(body, sizeof body, "muster-revoke-v1\ntime=2026-11-21T10:00:"
	    "00Z\nid=0123456789abcdef\nkey=%s\n", hex);
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk, &v, &e),
	    MUSTER_EDATA);
	free(s);
	snprintf(body, sizeof body, "muster-revoke-v1\nid=0123456789abcdef"
	    "\ntime=2026-11-21T10:00:00Z\nkey=%s\n", hex);
	s = sign_raw(body, strlen(body), k->sk);
	assert_int_equal(token_revocation_verify(s, strlen(s), &k->pk, &v, &e), 0);
	free(s);
}

static char *
make_bundle(struct keys *k, struct token *t, char **tok)
{
	struct muster_err e;
	char *b = NULL;

	sample(t);
	*tok = must_sign(t, k->sk);
	if (token_bundle_format(&k->pk, *tok, t, &b, &e) != 0)
		fail_msg("token_bundle_format: %s", e.msg);
	return b;
}

static void
bundle_roundtrip(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct sig_pubkey pk;
	struct token t, v;
	char *tok, *b, *got = NULL, *uri = NULL, line[256];

	b = make_bundle(k, &t, &tok);
	assert_non_null(strstr(b, "# Muster enrollment bundle for IAF-704512 "
	    "(IAF/25-WING), personnel.\n"));
	assert_non_null(strstr(b, "\norg_key = \"RW"));
	assert_int_equal(sig_pubkey_base64(&k->pk, line, sizeof line), 0);
	assert_non_null(strstr(b, line));
	assert_int_equal(token_bundle_parse("b.bundle", b, strlen(b), &pk, &got, &v,
	    &e), 0);
	assert_memory_equal(&pk, &k->pk, sizeof pk);
	assert_string_equal(got, tok);
	assert_string_equal(v.person, "IAF-704512");
	assert_string_equal(v.server, "https://127.0.0.1:8443");
	free(got);
	got = NULL;

	assert_int_equal(token_bundle_uri(&k->pk, tok, &uri, &e), 0);
	assert_true(strncmp(uri, "muster://enroll?k=", 18) == 0);
	/* k= is base32 of 42 key bytes; t= base32 of body "." signature. */
	assert_int_equal(strchr(uri, '&') - uri, 18 + 68);
	assert_int_equal(strspn(uri + 18, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
	    68);
	assert_true(strncmp(uri + 18 + 68, "&t=", 3) == 0);
	assert_int_equal(strspn(uri + 18 + 68 + 3,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567."), strlen(uri) - 18 - 68 - 3);
	assert_int_equal(strlen(strrchr(uri, '.') + 1), 103);
	assert_int_equal(token_bundle_uri_parse(uri, strlen(uri), &pk, &got, &v,
	    &e), 0);
	assert_memory_equal(&pk, &k->pk, sizeof pk);
	assert_string_equal(got, tok);
	free(got);
	got = NULL;
	/* One spelling: lower case, padding, unused bits set are refused. */
	{
		char *u2 = strdup(uri);
		size_t n = strlen(u2);
		char *last = u2 + n - 1;
		const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
		int pos = (int)(strchr(a, *last) - a);

		assert_non_null(u2);
		/* 512 bits in 103 characters: the last 3 bits are unused. */
		*last = a[pos ^ 1];
		assert_int_equal(token_bundle_uri_parse(u2, n, &pk, &got, &v, &e),
		    MUSTER_EDATA);
		*last = a[pos];
		u2[n - 5] = (char)(u2[n - 5] | 0x20);
		if (u2[n - 5] >= 'a' && u2[n - 5] <= 'z')
			assert_int_equal(token_bundle_uri_parse(u2, n, &pk, &got,
			    &v, &e), MUSTER_EDATA);
		free(u2);
		assert_int_not_equal(asprintf(&u2, "%s=", uri), -1);
		assert_int_equal(token_bundle_uri_parse(u2, n + 1, &pk, &got, &v,
		    &e), MUSTER_EDATA);
		free(u2);
		/* A body changed by one letter no longer verifies. */
		u2 = strdup(uri);
		assert_non_null(u2);
		u2[18 + 68 + 3 + 10] = u2[18 + 68 + 3 + 10] == 'A' ? 'B' : 'A';
		assert_int_equal(token_bundle_uri_parse(u2, n, &pk, &got, &v, &e),
		    MUSTER_ETRUST);
		assert_null(got);
		free(u2);
		/* Longer than BUNDLE_URI_MAX - 1, whatever follows. */
		u2 = calloc(1, BUNDLE_URI_MAX + 1);
		assert_non_null(u2);
		memcpy(u2, uri, n);
		memset(u2 + n, 'A', BUNDLE_URI_MAX - n);
		assert_int_equal(token_bundle_uri_parse(u2, BUNDLE_URI_MAX, &pk,
		    &got, &v, &e), MUSTER_EDATA);
		free(u2);
	}
	/* Every prefix of the URI is refused; so is another key in k=. */
	{
		size_t i, n = strlen(uri);

		for (i = 0; i < n; i++)
			assert_int_not_equal(token_bundle_uri_parse(uri, i, &pk,
			    &got, &v, &e), 0);
		uri[20] = uri[20] == 'A' ? 'B' : 'A';
		assert_int_not_equal(token_bundle_uri_parse(uri, n, &pk, &got, &v,
		    &e), 0);
		assert_null(got);
	}
	free(uri);

	/* Hand-written libconfig that says the same thing is fine too. */
	{
		char *h = NULL;

		assert_int_not_equal(asprintf(&h, "// hand-made\n"
		    "token : \"%s\"\n  org_key=\"%s\" ;\n", tok, line), -1);
		assert_int_equal(token_bundle_parse("h", h, strlen(h), &pk, &got,
		    &v, &e), 0);
		free(got);
		got = NULL;
		free(h);
	}
	free(b);
	free(tok);
}

static void
bundle_refuses(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct sig_pubkey pk;
	struct token t, v;
	char *tok, *b, *bad = NULL, *got = NULL, line[256], line2[256];
	size_t i, n;
	static const char *const garbage[] = {
		"", "\n", "org_key", "org_key = ", "org_key = \"", "= = =",
		"org_key = 1 \"x\";", "org_key = (\"a\" \"b\");",
		"token = \"x\"; token = \"y\";", "{ }", "a = { b = { c = 1; }; };",
		"org_key = \"x\"\n/* unterminated", "\xef\xbb\xbforg_key = 1;",
		"org_key = 99999999999999999999;", "x = [1, \"a\"];",
	};

	b = make_bundle(k, &t, &tok);
	assert_int_equal(sig_pubkey_base64(&k->pk, line, sizeof line), 0);
	assert_int_equal(sig_pubkey_base64(&k->pk2, line2, sizeof line2), 0);

	/* @include, with blanks before it. */
	assert_int_not_equal(asprintf(&bad, "%s  @include \"/etc/passwd\"\n",
	    b), -1);
	assert_int_equal(token_bundle_parse("b", bad, strlen(bad), &pk, &got, &v,
	    &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "b:5:"));
	free(bad);
	/* An unknown field, named with its line. */
	assert_int_not_equal(asprintf(&bad, "%sserver = \"https://evil\";\n",
	    b), -1);
	assert_int_equal(token_bundle_parse("b", bad, strlen(bad), &pk, &got, &v,
	    &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "b:5: unknown field \"server\""));
	free(bad);
	/* Missing fields, wrong types. */
	assert_int_not_equal(asprintf(&bad, "token = \"%s\";\n", tok), -1);
	assert_int_equal(token_bundle_parse("b", bad, strlen(bad), &pk, &got, &v,
	    &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "missing \"org_key\""));
	free(bad);
	assert_int_not_equal(asprintf(&bad, "org_key = \"%s\";\ntoken = 1;\n",
	    line), -1);
	assert_int_equal(token_bundle_parse("b", bad, strlen(bad), &pk, &got, &v,
	    &e), MUSTER_EDATA);
	free(bad);
	assert_int_not_equal(asprintf(&bad, "org_key = \"%s\";\ntoken = "
	    "[\"%s\"];\n", line, tok), -1);
	assert_int_equal(token_bundle_parse("b", bad, strlen(bad), &pk, &got, &v,
	    &e), MUSTER_EDATA);
	free(bad);
	/* The whole public key file in org_key is not a key line. */
	assert_int_not_equal(asprintf(&bad, "org_key = \"untrusted comment: "
	    "x\\n%s\";\ntoken = \"%s\";\n", line, tok), -1);
	assert_int_not_equal(token_bundle_parse("b", bad, strlen(bad), &pk, &got, &v,
	    &e), 0);
	free(bad);
	/* Another org's key with our token: a trust failure. */
	assert_int_not_equal(asprintf(&bad, "org_key = \"%s\";\ntoken = "
	    "\"%s\";\n", line2, tok), -1);
	assert_int_equal(token_bundle_parse("b", bad, strlen(bad), &pk, &got, &v,
	    &e), MUSTER_ETRUST);
	free(bad);
	/* Oversized, a NUL byte, a byte >= 0x80 in a comment. */
	bad = calloc(1, BUNDLE_MAX + 2);
	memcpy(bad, b, strlen(b));
	memset(bad + strlen(b), '#', BUNDLE_MAX + 1 - strlen(b));
	assert_int_equal(token_bundle_parse("b", bad, BUNDLE_MAX + 1, &pk, &got, &v,
	    &e), MUSTER_EDATA);
	free(bad);
	n = strlen(b);
	bad = malloc(n + 1);
	memcpy(bad, b, n + 1);
	bad[3] = '\0';
	assert_int_equal(token_bundle_parse("b", bad, n, &pk, &got, &v, &e),
	    MUSTER_EDATA);
	bad[3] = '\xe9';
	assert_int_equal(token_bundle_parse("b", bad, n, &pk, &got, &v, &e),
	    MUSTER_EDATA);
	free(bad);
	/* Garbage of every sort; none may leak or crash (ASan build). */
	for (i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
		assert_int_not_equal(token_bundle_parse("g", garbage[i],
		    strlen(garbage[i]), &pk, &got, &v, &e), 0);
	/* Every prefix of a good bundle (but the closing '";' and newline,
	 * which libconfig does without), and random bytes. */
	for (i = 0; i + 2 < n; i++)
		assert_int_not_equal(token_bundle_parse("p", b, i, &pk, &got, &v,
		    &e), 0);
	{
		unsigned char rnd[512];
		int r;

		for (r = 0; r < 200; r++) {
			randombytes_buf(rnd, sizeof rnd);
			assert_int_not_equal(token_bundle_parse("r", (char *)rnd,
			    sizeof rnd, &pk, &got, &v, &e), 0);
		}
	}
	assert_null(got);
	assert_string_equal(v.person, "");
	/* The token flipped inside a bundle fails. */
	bad = strdup(b);
	n = strlen(bad);
	bad[n - 10] = bad[n - 10] == 'A' ? 'B' : 'A';
	assert_int_not_equal(token_bundle_parse("b", bad, n, &pk, &got, &v, &e), 0);
	free(bad);
	/* token_bundle_format refuses what is not a token. */
	assert_int_not_equal(token_bundle_format(&k->pk, "a\"; x = \"b", &t, &bad,
	    &e), 0);
	assert_null(bad);
	assert_int_not_equal(token_bundle_uri(&k->pk, "a&b", &bad, &e), 0);
	assert_null(bad);
	free(b);
	free(tok);
}

/* A bundle is text: the first byte that is not names its line. */
static void
bundle_text_gate(void **state)
{
	struct muster_err e;

	(void)state;
	assert_int_equal(token_bundle_text("b", "a = 1;\r\n\tb;\n", 11, &e),
	    0);
	assert_int_equal(token_bundle_text("b", "a\nb\n\x7f", 5, &e),
	    MUSTER_EDATA);
	assert_string_equal(e.msg, "b:3: a byte that is not printable ASCII");
	assert_int_equal(token_bundle_text("b", "\xc3\xa9", 2, &e),
	    MUSTER_EDATA);
	assert_string_equal(e.msg, "b:1: a byte that is not printable ASCII");
}

/* Units with spaces and UTF-8 letters sign and verify; '/' makes a tree. */
static void
unit_names(void **state)
{
	struct keys *k = *state;
	struct muster_err e;
	struct token t, v;
	char *s;
	static const char *const good[] = {
		"No. 17 Squadron", "IAF/25 Wing/No. 17 Squadron",
		"Esquadr\xc3\xa3o 1/Sec\xc3\xa7\xc3\xa3o (B)",
		"\xe0\xa4\xb5\xe0\xa4\xbe\xe0\xa4\xaf\xe0\xa5\x81 \xe0\xa4\xb8\xe0\xa5\x87\xe0\xa4\xa8\xe0\xa4\xbe",
		"IAF/25-WING/SQN-17", "O'Brien & Co, #2: +1", "u",
	};
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		assert_true(token_unit_ok(good[i]));
		sample(&t);
		snprintf(t.unit, sizeof t.unit, "%s", good[i]);
		s = must_sign(&t, k->sk);
		assert_int_equal(token_verify(s, strlen(s), &k->pk, &v, &e), 0);
		assert_string_equal(v.unit, good[i]);
		free(s);
	}
	assert_true(token_unit_within("IAF", "IAF"));
	assert_true(token_unit_within("IAF/25-WING", "IAF"));
	assert_true(token_unit_within("IAF/25-WING/SQN-17", "IAF/25-WING"));
	assert_false(token_unit_within("IAF2", "IAF"));
	assert_false(token_unit_within("IAF-X/1", "IAF"));
	assert_false(token_unit_within("IA", "IAF"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_ok),
		cmocka_unit_test(new_id),
		cmocka_unit_test(sign_verify_roundtrip),
		cmocka_unit_test(every_byte_flip_fails),
		cmocka_unit_test(every_body_byte_change_fails),
		cmocka_unit_test(wrong_key),
		cmocka_unit_test(truncated),
		cmocka_unit_test(oversized),
		cmocka_unit_test(unit_names),
		cmocka_unit_test(sign_refuses_bad_fields),
		cmocka_unit_test(verify_refuses_bad_bodies),
		cmocka_unit_test(encoding_is_strict),
		cmocka_unit_test(expired),
		cmocka_unit_test(revocation_roundtrip),
		cmocka_unit_test(bundle_roundtrip),
		cmocka_unit_test(bundle_refuses),
		cmocka_unit_test(bundle_text_gate),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
