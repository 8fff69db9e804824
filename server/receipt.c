/* receipt: the enrollment receipt the server signs; receipt.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/fs.h"
#include "receipt.h"

#define RECEIPT_SIG_B64		sodium_base64_ENCODED_LEN(crypto_sign_BYTES, \
				    sodium_base64_VARIANT_ORIGINAL)
#define RECEIPT_PK_B64		sodium_base64_ENCODED_LEN( \
				    crypto_sign_PUBLICKEYBYTES, \
				    sodium_base64_VARIANT_ORIGINAL)
#define RECEIPT_JSON_DEPTH	1

/* Held whole in sodium_malloc'd (guarded, wiped on free) memory. */
struct receipt_key {
	unsigned char	sk[crypto_sign_SECRETKEYBYTES];
	unsigned char	pk[crypto_sign_PUBLICKEYBYTES];
};

void
receipt_key_free(struct receipt_key *k)
{
	sodium_free(k);		/* NULL: nothing */
}

int
receipt_key_open(const char *data_dir, struct receipt_key **out,
    struct muster_err *e)
{
	unsigned char seed[RECEIPT_SEED_LEN];
	struct receipt_key *k = NULL;
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((path = fs_path(data_dir, RECEIPT_KEY_FILE)) == NULL ||
	    (k = sodium_malloc(sizeof *k)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = fs_read_private(path, sizeof seed + 1, &buf, &len, e);
	if (rc == MUSTER_ENOINPUT) {
		randombytes_buf(seed, sizeof seed);
		rc = fs_create_excl(path, seed, sizeof seed, 0600, e);
		if (rc == MUSTER_ECANTCREAT)	/* made meanwhile: read it */
			rc = fs_read_private(path, sizeof seed + 1, &buf,
			    &len, e);
		else
			len = sizeof seed;
	}
	if (rc != 0)
		goto out;
	if (buf != NULL) {
		if (len != sizeof seed) {
			rc = err_set(e, MUSTER_ECONFIG, "%s: not a receipt key "
			    "(%zu bytes, want %zu)", path, len, sizeof seed);
			goto out;
		}
		memcpy(seed, buf, sizeof seed);
	}
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	*out = k;
	k = NULL;
	rc = 0;
out:
	sodium_memzero(seed, sizeof seed);
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	receipt_key_free(k);
	free(path);
	return rc;
}

int
receipt_sign(const struct receipt_key *k, const struct receipt *r,
    char **json, struct muster_err *e)
{
	unsigned char sig[crypto_sign_BYTES];
	char pk64[RECEIPT_PK_B64], sig64[RECEIPT_SIG_B64], *body = NULL;
	char *b64 = NULL;
	size_t blen, b64len;
	json_t *o = NULL;
	int rc = MUSTER_EINTERNAL;

	*json = NULL;
	sodium_bin2base64(pk64, sizeof pk64, r->pk, sizeof r->pk,
	    sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}",
	    "v", RECEIPT_VERSION, "device", r->device, "device_key", pk64,
	    "scope", profile_scope_name(r->scope), "unit", r->unit,
	    "person", r->person, "token", r->token_id,
	    "expires", (json_int_t)r->expires,
	    "enrolled", (json_int_t)r->enrolled);
	if (o == NULL || (body = json_dumps(o, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL)
		goto out;
	blen = strlen(body);
	if (blen > PROTO_RECEIPT_MAX)
		goto out;
	crypto_sign_detached(sig, NULL, (unsigned char *)body, blen, k->sk);
	sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
	b64len = sodium_base64_ENCODED_LEN(blen,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL)
		goto out;
	sodium_bin2base64(b64, b64len, (unsigned char *)body, blen,
	    sodium_base64_VARIANT_ORIGINAL);
	if (asprintf(json, "{\"body\":\"%s\",\"sig\":\"%s\"}", b64, sig64) ==
	    -1) {
		*json = NULL;
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		err_set(e, rc, "receipt: out of memory");
	json_decref(o);
	free(body);
	free(b64);
	return rc;
}

/* Strict base64 (the alphabet, padding) of at most max decoded bytes. */
static int
b64_strict(const char *in, size_t inlen, unsigned char *out, size_t max,
    size_t *outlen)
{
	size_t i;

	if (inlen == 0 || inlen % 4 != 0 || inlen / 4 * 3 > max + 2)
		return -1;
	for (i = 0; i < inlen; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '+' || ch == '/' ||
		    (ch == '=' && i >= inlen - 2)))
			return -1;
	}
	return sodium_base642bin(out, max, in, inlen, NULL, outlen, NULL,
	    sodium_base64_VARIANT_ORIGINAL);
}

/* Copies string member key of o into dst (size): 0, or -1. */
static int
str_field(json_t *o, const char *key, char *dst, size_t size)
{
	const char *v = proto_json_str(o, key, NULL);

	if (v == NULL || strlen(v) >= size)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

int
receipt_verify(const struct receipt_key *k, const char *body, size_t blen,
    const char *sig, size_t slen, struct receipt *r, struct muster_err *e)
{
	static const char *const fields[] = { "v", "device", "device_key",
	    "scope", "unit", "person", "token", "expires", "enrolled", NULL };
	unsigned char *raw = NULL, sigbin[crypto_sign_BYTES];
	char pk64[RECEIPT_PK_B64], scope[16];
	size_t rawlen = 0, n;
	long long v, expires, enrolled;
	json_t *o = NULL;
	int rc;

	memset(r, 0, sizeof *r);
	if (blen > sodium_base64_ENCODED_LEN(PROTO_RECEIPT_MAX,
	    sodium_base64_VARIANT_ORIGINAL)) {
		rc = err_set(e, MUSTER_EDATA, "receipt: too large");
		goto out;
	}
	if ((raw = malloc(PROTO_RECEIPT_MAX)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (b64_strict(body, blen, raw, PROTO_RECEIPT_MAX, &rawlen) != 0 ||
	    b64_strict(sig, slen, sigbin, sizeof sigbin, &n) != 0 ||
	    n != sizeof sigbin) {
		rc = err_set(e, MUSTER_EDATA, "receipt: malformed base64");
		goto out;
	}
	/* Verify, then parse the same bytes. */
	if (crypto_sign_verify_detached(sigbin, raw, rawlen, k->pk) != 0) {
		rc = err_set(e, MUSTER_ETRUST, "receipt: signature does not "
		    "verify with this server's receipt key");
		goto out;
	}
	if ((o = proto_json_parse((const char *)raw, rawlen,
	    RECEIPT_JSON_DEPTH)) == NULL || !proto_json_keys_ok(o, fields) ||
	    proto_json_int(o, "v", RECEIPT_VERSION, RECEIPT_VERSION, &v) != 0 ||
	    proto_json_int(o, "expires", 0, INT64_MAX, &expires) != 0 ||
	    proto_json_int(o, "enrolled", 0, INT64_MAX, &enrolled) != 0 ||
	    str_field(o, "device", r->device, sizeof r->device) != 0 ||
	    !proto_hex_ok(r->device, DEVICE_ID_HEX - 1) ||
	    str_field(o, "token", r->token_id, sizeof r->token_id) != 0 ||
	    !proto_hex_ok(r->token_id, TOKEN_ID_HEX - 1) ||
	    str_field(o, "unit", r->unit, sizeof r->unit) != 0 ||
	    !token_field_ok(r->unit, 1) ||
	    str_field(o, "person", r->person, sizeof r->person) != 0 ||
	    !token_field_ok(r->person, 0) ||
	    str_field(o, "scope", scope, sizeof scope) != 0 ||
	    profile_scope_parse(scope, &r->scope) != 0 ||
	    str_field(o, "device_key", pk64, sizeof pk64) != 0 ||
	    b64_strict(pk64, strlen(pk64), r->pk, sizeof r->pk, &n) != 0 ||
	    n != sizeof r->pk) {
		rc = err_set(e, MUSTER_EDATA, "receipt: malformed");
		goto out;
	}
	r->expires = (time_t)expires;
	r->enrolled = (time_t)enrolled;
	rc = 0;
out:
	json_decref(o);
	free(raw);
	return rc;
}
