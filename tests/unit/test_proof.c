/*
 * proof: a stored report's check (server/proof.c) with a real Ed25519
 * key: verified; every byte of the body or the signature flipped, the
 * wrong key, a signed report of another device, seq or status, a stored
 * hash that is not the body's, no signature kept.  The proof file
 * written and read back to the same check; the strict reader against
 * truncated, oversized, nested, duplicated, unknown, non-canonical and
 * wrongly sized input.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../server/proof.h"

#define DEV	"00112233445566778899aabbccddeeff"
#define OTHER	"ffeeddccbbaa99887766554433221100"

struct pfx {
	unsigned char		pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char		sk[crypto_sign_SECRETKEYBYTES];
	char			body[256];
	struct store_proof	p;
};

/* A report of dev, seq, status signed by f's key into f->p. */
static void
make(struct pfx *f, const char *dev, long long seq, const char *status)
{
	snprintf(f->body, sizeof f->body, "{\"device\":\"%s\",\"seq\":%lld,"
	    "\"time\":\"2026-12-01T10:00:00Z\",\"status\":\"%s\","
	    "\"results\":[]}", dev, seq, status);
	memset(&f->p, 0, sizeof f->p);
	snprintf(f->p.device, sizeof f->p.device, "%s", DEV);
	f->p.seq = 7;
	f->p.compliant = 0;
	f->p.time = 1796032800;
	f->p.received = 1796032801;
	memcpy(f->p.pk, f->pk, sizeof f->pk);
	f->p.body = (unsigned char *)f->body;
	f->p.len = strlen(f->body);
	crypto_generichash(f->p.hash, sizeof f->p.hash, f->p.body, f->p.len,
	    NULL, 0);
	crypto_sign_detached(f->p.sig, NULL, f->p.body, f->p.len, f->sk);
	f->p.has_sig = 1;
}

static int
setup(void **state)
{
	struct pfx *f = calloc(1, sizeof *f);

	if (f == NULL)
		return -1;
	crypto_sign_keypair(f->pk, f->sk);
	make(f, DEV, 7, "noncompliant");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct pfx *f = *state;

	sodium_memzero(f->sk, sizeof f->sk);
	free(f);
	return 0;
}

static void
check_verified_and_forgeries(void **state)
{
	struct pfx *f = *state;
	unsigned char other_pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char other_sk[crypto_sign_SECRETKEYBYTES];
	size_t i;
	int bit;

	assert_int_equal(proof_check(&f->p), PROOF_VERIFIED);
	assert_string_equal(proof_check_text(PROOF_VERIFIED), "verified");
	/* Every bit of the body, every bit of the signature. */
	for (i = 0; i < f->p.len; i++)
		for (bit = 0; bit < 8; bit++) {
			f->body[i] ^= (char)(1 << bit);
			assert_int_equal(proof_check(&f->p), PROOF_BAD_SIG);
			f->body[i] ^= (char)(1 << bit);
		}
	for (i = 0; i < sizeof f->p.sig; i++) {
		f->p.sig[i] ^= 0x01;
		assert_int_equal(proof_check(&f->p), PROOF_BAD_SIG);
		f->p.sig[i] ^= 0x01;
	}
	/* Truncated body: the signature no longer covers it. */
	f->p.len--;
	assert_int_equal(proof_check(&f->p), PROOF_BAD_SIG);
	f->p.len++;
	/* Another key. */
	crypto_sign_keypair(other_pk, other_sk);
	memcpy(f->p.pk, other_pk, sizeof other_pk);
	assert_int_equal(proof_check(&f->p), PROOF_BAD_SIG);
	memcpy(f->p.pk, f->pk, sizeof f->pk);
	assert_int_equal(proof_check(&f->p), PROOF_VERIFIED);
	sodium_memzero(other_sk, sizeof other_sk);
	/* Not kept: never verified, whatever the bytes. */
	f->p.has_sig = 0;
	assert_int_equal(proof_check(&f->p), PROOF_NOT_KEPT);
	assert_string_equal(proof_check_text(PROOF_NOT_KEPT),
	    "signature not kept (stored before store schema 5)");
	assert_int_equal(proof_check_bytes(f->pk, DEV, 7, 0, f->p.hash,
	    f->body, f->p.len, NULL), PROOF_NOT_KEPT);
}

/* Genuine signatures over reports that are not the entry's. */
static void
check_mismatch(void **state)
{
	struct pfx *f = *state;

	make(f, OTHER, 7, "noncompliant");
	assert_int_equal(proof_check(&f->p), PROOF_MISMATCH);
	make(f, DEV, 8, "noncompliant");
	assert_int_equal(proof_check(&f->p), PROOF_MISMATCH);
	make(f, DEV, 7, "compliant");
	assert_int_equal(proof_check(&f->p), PROOF_MISMATCH);
	make(f, DEV, 7, "noncompliant");
	f->p.compliant = 1;
	assert_int_equal(proof_check(&f->p), PROOF_MISMATCH);
	f->p.compliant = 0;
	f->p.hash[0] ^= 1;
	assert_int_equal(proof_check(&f->p), PROOF_MISMATCH);
	f->p.hash[0] ^= 1;
	assert_int_equal(proof_check_bytes(f->pk, DEV, 7, 0, NULL, f->body,
	    f->p.len, f->p.sig), PROOF_MISMATCH);
	/* Signed bytes that are no report at all. */
	snprintf(f->body, sizeof f->body, "not json");
	f->p.len = strlen(f->body);
	crypto_generichash(f->p.hash, sizeof f->p.hash, f->p.body, f->p.len,
	    NULL, 0);
	crypto_sign_detached(f->p.sig, NULL, f->p.body, f->p.len, f->sk);
	assert_int_equal(proof_check(&f->p), PROOF_MISMATCH);
	assert_string_equal(proof_check_text(PROOF_MISMATCH),
	    "signed report does not match this entry");
}

/* The proof file written, then read back to the same proof. */
static void
file_round_trip(void **state)
{
	struct pfx *f = *state;
	struct store_proof q;
	struct muster_err e;
	char *text = NULL;
	size_t len, cut;

	assert_int_equal(proof_json(&f->p, proof_check(&f->p), &text, &len,
	    &e), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "\"check\": \"verified\""));
	assert_non_null(strstr(text, "\"format\": \"" PROOF_FORMAT "\""));
	assert_int_equal(proof_parse(text, len, &q, &e), 0);
	assert_string_equal(q.device, DEV);
	assert_int_equal(q.seq, 7);
	assert_int_equal(q.compliant, 0);
	assert_int_equal(q.time, f->p.time);
	assert_int_equal(q.received, f->p.received);
	assert_memory_equal(q.pk, f->pk, sizeof f->pk);
	assert_memory_equal(q.hash, f->p.hash, sizeof q.hash);
	assert_true(q.has_sig);
	assert_memory_equal(q.sig, f->p.sig, sizeof q.sig);
	assert_int_equal(q.len, f->p.len);
	assert_memory_equal(q.body, f->body, q.len);
	assert_int_equal(proof_check(&q), PROOF_VERIFIED);
	store_proof_clear(&q);
	/* Every truncation is refused, none read past its end. */
	for (cut = 0; cut < len - 1; cut++) {
		char *part = malloc(cut + 1);

		assert_non_null(part);
		memcpy(part, text, cut);
		assert_int_equal(proof_parse(part, cut, &q, &e), MUSTER_EDATA);
		assert_null(q.body);
		free(part);
	}
	free(text);
	/* Not kept: sig_b64 is null, read as such. */
	f->p.has_sig = 0;
	assert_int_equal(proof_json(&f->p, PROOF_NOT_KEPT, &text, &len, &e),
	    0);
	assert_non_null(strstr(text, "\"sig_b64\": null"));
	assert_int_equal(proof_parse(text, len, &q, &e), 0);
	assert_false(q.has_sig);
	assert_int_equal(proof_check(&q), PROOF_NOT_KEPT);
	store_proof_clear(&q);
	free(text);
}

/* text with the first from replaced by to, parsed: its return. */
static int
parse_edited(const char *text, const char *from, const char *to)
{
	struct store_proof q;
	struct muster_err e;
	const char *at = strstr(text, from);
	char *buf;
	size_t n;
	int rc;

	assert_non_null(at);
	n = strlen(text) - strlen(from) + strlen(to);
	assert_non_null(buf = malloc(n + 1));
	snprintf(buf, n + 1, "%.*s%s%s", (int)(at - text), text, to,
	    at + strlen(from));
	rc = proof_parse(buf, n, &q, &e);
	if (rc == 0)
		store_proof_clear(&q);
	else
		assert_null(q.body);
	free(buf);
	return rc;
}

static void
file_malicious(void **state)
{
	struct pfx *f = *state;
	struct store_proof q;
	struct muster_err e;
	char *text = NULL, *big, pk64[64], key[80];
	size_t len, i;

	assert_int_equal(proof_json(&f->p, PROOF_VERIFIED, &text, &len, &e),
	    0);
	/* The unedited file parses (the edits below are what fails). */
	assert_int_equal(parse_edited(text, "\"format\"", "\"format\""), 0);
	assert_int_equal(parse_edited(text, "{", "{\"extra\": 1, "),
	    MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "{", "{\"seq\": 7, "),
	    MUSTER_EDATA);			/* a duplicate key */
	assert_int_equal(parse_edited(text, "{", "{\"x\": [[[[1]]]], "),
	    MUSTER_EDATA);			/* nested, and unknown */
	assert_int_equal(parse_edited(text, PROOF_FORMAT,
	    "muster-report-proof-2"), MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "\"seq\": 7", "\"seq\": 0"),
	    MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "\"seq\": 7", "\"seq\": \"7\""),
	    MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "\"seq\": 7", "\"seq\": 7.5"),
	    MUSTER_EDATA);
	assert_int_equal(parse_edited(text, DEV,
	    "00112233445566778899AABBCCDDEEFF"), MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "\"noncompliant\"",
	    "\"unknown\""), MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "\"time\": \"",
	    "\"time\": \"x"), MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "\"check\": \"verified\"",
	    "\"check\": 1"), MUSTER_EDATA);
	assert_int_equal(parse_edited(text, "\"sig_b64\": \"",
	    "\"sig_b64\": \"AAAA"), MUSTER_EDATA);	/* 67 bytes */
	/* The key: 31 bytes, 33 bytes, and a non-canonical spelling. */
	sodium_bin2base64(pk64, sizeof pk64, f->pk, sizeof f->pk,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(key, sizeof key, "\"pk_b64\": \"%s\"", pk64);
	assert_int_equal(parse_edited(text, key, "\"pk_b64\": \""
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\""), MUSTER_EDATA);
	assert_int_equal(parse_edited(text, key, "\"pk_b64\": \""
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""), MUSTER_EDATA);
	/*
	 * The last digit before '=' carries 2 unused bits, zero in the
	 * canonical spelling: set, the same bytes spelled otherwise.
	 */
	{
		static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/";
		char bad[80];
		size_t v = (size_t)(strchr(alpha, pk64[42]) - alpha);

		assert_int_equal(v & 3, 0);
		snprintf(bad, sizeof bad, "\"pk_b64\": \"%.42s%c=\"", pk64,
		    alpha[v | 1]);
		assert_int_equal(parse_edited(text, key, bad), MUSTER_EDATA);
	}
	/* Oversized: refused before it is parsed. */
	assert_non_null(big = malloc(PROOF_FILE_MAX + 2));
	memset(big, ' ', PROOF_FILE_MAX + 1);
	memcpy(big, text, len);
	big[PROOF_FILE_MAX + 1] = '\0';
	assert_int_equal(proof_parse(big, PROOF_FILE_MAX + 1, &q, &e),
	    MUSTER_EDATA);
	assert_null(q.body);
	free(big);
	/* Not JSON, empty, a NUL inside. */
	assert_int_equal(proof_parse("", 0, &q, &e), MUSTER_EDATA);
	assert_int_equal(proof_parse("[]", 2, &q, &e), MUSTER_EDATA);
	for (i = 0; i < len; i += 37) {
		char *nul = malloc(len);

		assert_non_null(nul);
		memcpy(nul, text, len);
		nul[i] = '\0';
		assert_int_equal(proof_parse(nul, len, &q, &e), MUSTER_EDATA);
		free(nul);
	}
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(check_verified_and_forgeries,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(check_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(file_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(file_malicious, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
