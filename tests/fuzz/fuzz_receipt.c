/*
 * fuzz_receipt: the enrollment receipt a device presents to re-register
 * (server/receipt.c) on arbitrary bytes.  Each input goes, whole, to
 * receipt_verify:
 *
 *	as the wire's body and sig strings	split at the first '|'
 *				(what the device sends: base64 both),
 *				which must never verify unless signed
 *	as the signed bytes		signed here by the harness's receipt
 *				key and base64'd, so that the strict parse
 *				after the signature is reached with any
 *				text; what parses must sign again
 *				(receipt_sign) to a receipt that verifies
 *				to the same fields, and must not verify
 *				with one byte of the body changed
 *
 * The receipt key is made by receipt_key_open in the scratch directory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../server/receipt.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct receipt_key *key;
static unsigned char sk[crypto_sign_SECRETKEYBYTES];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], seed[32];
	struct muster_err e;
	const char *dir;
	char path[4200];
	FILE *f;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	dir = fuzz_tmpdir("fuzz_receipt");
	if (receipt_key_open(dir, &key, &e) != 0) {
		fprintf(stderr, "receipt_key_open: %s\n", e.msg);
		abort();
	}
	/* The same seed, to sign what the fuzzer writes. */
	snprintf(path, sizeof path, "%s/%s", dir, RECEIPT_KEY_FILE);
	if ((f = fopen(path, "rb")) == NULL ||
	    fread(seed, 1, sizeof seed, f) != sizeof seed)
		abort();
	fclose(f);
	crypto_sign_seed_keypair(pk, sk, seed);
	return 0;
}

static char *
b64(const unsigned char *p, size_t n)
{
	size_t len = sodium_base64_ENCODED_LEN(n,
	    sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(len);

	if (s == NULL)
		abort();
	sodium_bin2base64(s, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* body|sig from a receipt_sign JSON object (no escapes in it). */
static void
split_json(const char *json, char **body, char **sig)
{
	const char *b = strstr(json, "\"body\":\""), *s = strstr(json,
	    "\"sig\":\"");

	FUZZ_ASSERT(b != NULL && s != NULL, "receipt_sign wrote %s", json);
	b += 8;
	s += 7;
	*body = strndup(b, (size_t)(strchr(b, '"') - b));
	*sig = strndup(s, (size_t)(strchr(s, '"') - s));
	if (*body == NULL || *sig == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char sig[crypto_sign_BYTES], *flip;
	struct receipt r, r2;
	struct muster_err e;
	const uint8_t *bar;
	char *sb, *ss, *json = NULL, *jb, *js;
	int rc;

	/* The wire: "body|sig" as the fuzzer wrote them. */
	bar = memchr(data, '|', size);
	if (bar != NULL) {
		rc = receipt_verify(key, (const char *)data,
		    (size_t)(bar - data), (const char *)bar + 1,
		    size - (size_t)(bar - data) - 1, &r, &e);
		FUZZ_ASSERT(rc != 0, "an unsigned receipt verified");
	}
	/* Signed here: the parse behind the signature. */
	crypto_sign_detached(sig, NULL, data, size, sk);
	sb = b64(data, size);
	ss = b64(sig, sizeof sig);
	rc = receipt_verify(key, sb, strlen(sb), ss, strlen(ss), &r, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA, "rc %d: %s", rc, e.msg);
	if (rc == 0) {
		FUZZ_ASSERT(size <= PROTO_RECEIPT_MAX, "%zu bytes taken", size);
		FUZZ_ASSERT(receipt_sign(key, &r, &json, &e) == 0, "%s", e.msg);
		split_json(json, &jb, &js);
		FUZZ_ASSERT(receipt_verify(key, jb, strlen(jb), js, strlen(js),
		    &r2, &e) == 0, "re-signed receipt refused: %s", e.msg);
		FUZZ_ASSERT(memcmp(&r, &r2, sizeof r) == 0 ||
		    (strcmp(r.device, r2.device) == 0 &&
		    memcmp(r.pk, r2.pk, sizeof r.pk) == 0 &&
		    r.scope == r2.scope && strcmp(r.unit, r2.unit) == 0 &&
		    strcmp(r.person, r2.person) == 0 &&
		    strcmp(r.token_id, r2.token_id) == 0 &&
		    r.expires == r2.expires && r.enrolled == r2.enrolled),
		    "re-signed receipt reads otherwise");
		/* One byte changed: the signature no longer holds. */
		if ((flip = malloc(size)) == NULL)
			abort();
		memcpy(flip, data, size);
		flip[size / 2] ^= 0x20;
		free(sb);
		sb = b64(flip, size);
		FUZZ_ASSERT(receipt_verify(key, sb, strlen(sb), ss, strlen(ss),
		    &r2, &e) == MUSTER_ETRUST, "a changed body verified");
		free(flip);
		free(jb);
		free(js);
		free(json);
	}
	free(sb);
	free(ss);
	return 0;
}
