/*
 * receipt: the enrollment receipt the server signs and takes back to
 * re-register a device.  The key made 0600 and the same one read back;
 * a key file others can read or of the wrong size refused; a receipt
 * round-trips; forged (another key), tampered, truncated, oversized and
 * malformed receipts refused, the strict parse reached only behind a
 * good signature.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "../../server/receipt.h"

struct rfx {
	char			 dir[UNIT_TMPDIR_MAX];
	struct receipt_key	*k;
};

static int
setup(void **state)
{
	struct rfx *f = calloc(1, sizeof *f);
	struct muster_err e;

	if (f == NULL || unit_tmpdir(f->dir, "receipt") != 0 ||
	    receipt_key_open(f->dir, &f->k, &e) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct rfx *f = *state;
	int rc;

	receipt_key_free(f->k);
	rc = unit_rmtree(f->dir);
	free(f);
	return rc;
}

static void
sample(struct receipt *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->device, sizeof r->device, "%s",
	    "00112233445566778899aabbccddeeff");
	memset(r->pk, 0x42, sizeof r->pk);
	r->scope = SCOPE_PERSONNEL;
	snprintf(r->unit, sizeof r->unit, "IAF/25-WING");
	snprintf(r->person, sizeof r->person, "IAF-704512");
	snprintf(r->token_id, sizeof r->token_id, "0123456789abcdef");
	r->expires = 1900000000;
	r->enrolled = 1800000000;
}

/* Splits receipt_sign's {"body":"..","sig":".."} into two strings. */
static void
split(const char *json, char *body, size_t bsize, char *sig, size_t ssize)
{
	const char *b = strstr(json, "\"body\":\"") + 8;
	const char *s = strstr(json, "\"sig\":\"") + 7;

	snprintf(body, bsize, "%.*s", (int)(strchr(b, '"') - b), b);
	snprintf(sig, ssize, "%.*s", (int)(strchr(s, '"') - s), s);
}

static int
verify(struct rfx *f, const char *body, const char *sig, struct receipt *r)
{
	struct muster_err e;

	return receipt_verify(f->k, body, strlen(body), sig, strlen(sig), r,
	    &e);
}

/* body: these bytes signed by the key of f (or by another, forged). */
static int
signed_as(struct rfx *f, const char *text, int forged, struct receipt *r)
{
	unsigned char sig[crypto_sign_BYTES], pk[32], sk[64], seed[32];
	char b[4096], s[128], path[4200];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", f->dir, RECEIPT_KEY_FILE);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fread(seed, 1, sizeof seed, fp), sizeof seed);
	fclose(fp);
	if (forged)
		seed[0] ^= 1;
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, (const unsigned char *)text,
	    strlen(text), sk);
	sodium_bin2base64(b, sizeof b, (const unsigned char *)text,
	    strlen(text), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(s, sizeof s, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
	return verify(f, b, s, r);
}

static void
key_file(void **state)
{
	struct rfx *f = *state;
	struct receipt_key *k2 = NULL;
	struct muster_err e;
	struct receipt r, got;
	char path[4200], *json = NULL, body[4096], sig[128];
	struct stat sb;

	snprintf(path, sizeof path, "%s/%s", f->dir, RECEIPT_KEY_FILE);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(sb.st_size, RECEIPT_SEED_LEN);
	/* The same key read back: what one signed, the other verifies. */
	assert_int_equal(receipt_key_open(f->dir, &k2, &e), 0);
	sample(&r);
	assert_int_equal(receipt_sign(k2, &r, &json, &e), 0);
	split(json, body, sizeof body, sig, sizeof sig);
	assert_int_equal(verify(f, body, sig, &got), 0);
	receipt_key_free(k2);
	free(json);
	/* Others may read it: refused. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(receipt_key_open(f->dir, &k2, &e), MUSTER_ECONFIG);
	assert_int_equal(chmod(path, 0600), 0);
	/* The wrong size: refused. */
	assert_int_equal(truncate(path, 31), 0);
	assert_int_equal(receipt_key_open(f->dir, &k2, &e), MUSTER_ECONFIG);
	assert_null(k2);
}

static void
round_trip_and_tamper(void **state)
{
	struct rfx *f = *state;
	struct muster_err e;
	struct receipt r, got;
	char *json = NULL, body[4096], sig[128], *raw;
	size_t n;

	sample(&r);
	assert_int_equal(receipt_sign(f->k, &r, &json, &e), 0);
	split(json, body, sizeof body, sig, sizeof sig);
	assert_int_equal(verify(f, body, sig, &got), 0);
	assert_string_equal(got.device, r.device);
	assert_memory_equal(got.pk, r.pk, sizeof r.pk);
	assert_int_equal(got.scope, SCOPE_PERSONNEL);
	assert_string_equal(got.unit, "IAF/25-WING");
	assert_string_equal(got.person, "IAF-704512");
	assert_string_equal(got.token_id, r.token_id);
	assert_int_equal(got.expires, 1900000000);
	assert_int_equal(got.enrolled, 1800000000);
	/* The person changed in the signed bytes: refused. */
	raw = calloc(1, 4096);
	assert_int_equal(sodium_base642bin((unsigned char *)raw, 4095, body,
	    strlen(body), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	*strstr(raw, "704512") = '9';
	sodium_bin2base64(body, sizeof body, (unsigned char *)raw, n,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(verify(f, body, sig, &got), MUSTER_ETRUST);
	free(raw);
	/* Truncated base64, a short signature, no signature. */
	split(json, body, sizeof body, sig, sizeof sig);
	body[strlen(body) - 3] = '\0';
	assert_int_equal(verify(f, body, sig, &got), MUSTER_EDATA);
	split(json, body, sizeof body, sig, sizeof sig);
	assert_int_equal(verify(f, body, "AAAA", &got), MUSTER_EDATA);
	assert_int_equal(verify(f, body, "", &got), MUSTER_EDATA);
	/* Not base64 (a byte past the alphabet). */
	body[4] = (char)0xc3;
	assert_int_equal(verify(f, body, sig, &got), MUSTER_EDATA);
	free(json);
}

static void
forged_oversized_malformed(void **state)
{
	struct rfx *f = *state;
	struct receipt got;
	const char *good = "{\"device\":\"00112233445566778899aabbccddeeff\","
	    "\"device_key\":\"QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\","
	    "\"enrolled\":1800000000,\"expires\":1900000000,\"person\":\"P\","
	    "\"scope\":\"family\",\"token\":\"0123456789abcdef\","
	    "\"unit\":\"U\",\"v\":1}";
	char big[4096], *txt;

	assert_int_equal(signed_as(f, good, 0, &got), 0);
	assert_int_equal(got.scope, SCOPE_FAMILY);
	/* Another key (a forger's): refused before any parse. */
	assert_int_equal(signed_as(f, good, 1, &got), MUSTER_ETRUST);
	assert_int_equal(signed_as(f, "not json", 1, &got), MUSTER_ETRUST);
	/* Signed, but not a receipt. */
	assert_int_equal(signed_as(f, "not json", 0, &got), MUSTER_EDATA);
	assert_int_equal(signed_as(f, "[1]", 0, &got), MUSTER_EDATA);
	assert_int_equal(signed_as(f, "{\"v\":1}", 0, &got), MUSTER_EDATA);
	txt = strdup(good);
	*strstr(txt, "\"v\":1") = ' ';	/* a stray byte: not JSON */
	assert_int_equal(signed_as(f, txt, 0, &got), MUSTER_EDATA);
	free(txt);
	/* One field wrong at a time. */
	{
		static const char *const bad[][2] = {
			{ "\"v\":1", "\"v\":2" },
			{ "\"unit\":\"U\"", "\"unit\":\"U;rm\"" },
			{ "\"person\":\"P\"", "\"person\":\"a/b\"" },
			{ "\"scope\":\"family\"", "\"scope\":\"root\"" },
			{ "\"token\":\"0123456789abcdef\"",
			    "\"token\":\"0123456789ABCDEF\"" },
			{ "00112233445566778899aabbccddeeff",
			    "00112233445566778899aabbccddee" },
			{ "\"enrolled\":1800000000", "\"enrolled\":-1" },
			{ "\"expires\":1900000000", "\"expires\":\"soon\"" },
			{ "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=",
			    "QkJC" },
			{ "\"v\":1", "\"v\":1,\"admin\":true" },
		};
		size_t i;
		char t[1024], *p;

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			p = strstr(good, bad[i][0]);
			assert_non_null(p);
			snprintf(t, sizeof t, "%.*s%s%s", (int)(p - good), good,
			    bad[i][1], p + strlen(bad[i][0]));
			assert_int_equal(signed_as(f, t, 0, &got),
			    MUSTER_EDATA);
		}
	}
	/* Oversized: refused before it is decoded. */
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(verify(f, big, "AAAA", &got), MUSTER_EDATA);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_file, setup, teardown),
		cmocka_unit_test_setup_teardown(round_trip_and_tamper, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(forged_oversized_malformed,
		    setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
