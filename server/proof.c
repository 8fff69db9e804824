/*
 * proof: a stored report checked, written and read back as evidence;
 * see proof.h for the file's format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/proto.h"
#include "muster/report.h"
#include "muster/sigset.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "proof.h"

_Static_assert(STORE_SIG_LEN == crypto_sign_BYTES, "Ed25519 signature");
_Static_assert(sizeof ((struct store_proof *)0)->pk ==
    crypto_sign_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(STORE_HASH_LEN == crypto_generichash_BYTES, "BLAKE2b-256");

#define PROOF_JSON_DEPTH	2
#define PROOF_CHECK_MAX		32	/* bytes of the check's name */

enum proof_check
proof_check_bytes(const unsigned char pk[STORE_PK_LEN], const char *device,
    int64_t seq, int compliant, const unsigned char *hash,
    const void *body, size_t len, const unsigned char *sig)
{
	unsigned char h[STORE_HASH_LEN];
	const char *dev, *st;
	json_t *o = NULL;
	long long n;
	enum proof_check c = PROOF_MISMATCH;

	if (sig == NULL)
		return PROOF_NOT_KEPT;
	if (body == NULL || crypto_sign_verify_detached(sig, body, len, pk) !=
	    0)
		return PROOF_BAD_SIG;
	/* Verified: now what it says, parsed from the same bytes. */
	crypto_generichash(h, sizeof h, body, len, NULL, 0);
	if (hash == NULL || sodium_memcmp(h, hash, sizeof h) != 0)
		goto out;
	if ((o = proto_json_parse(body, len, REPORT_JSON_DEPTH)) == NULL ||
	    (dev = proto_json_str(o, "device", NULL)) == NULL ||
	    strcmp(dev, device) != 0 ||
	    proto_json_int(o, "seq", 1, INT64_MAX, &n) != 0 || n != seq ||
	    (st = proto_json_str(o, "status", NULL)) == NULL ||
	    strcmp(st, compliant ? PROTO_STATUS_COMPLIANT :
	    PROTO_STATUS_NONCOMPLIANT) != 0)
		goto out;
	c = PROOF_VERIFIED;
out:
	json_decref(o);
	return c;
}

enum proof_check
proof_check(const struct store_proof *p)
{
	return proof_check_bytes(p->pk, p->device, p->seq, p->compliant,
	    p->hash, p->body, p->len, p->has_sig ? p->sig : NULL);
}

const char *
proof_check_text(enum proof_check c)
{
	switch (c) {
	case PROOF_VERIFIED:
		return "verified";
	case PROOF_BAD_SIG:
		return "signature does not verify";
	case PROOF_MISMATCH:
		return "signed report does not match this entry";
	case PROOF_NOT_KEPT:
		break;
	}
	return "signature not kept (stored before store schema 5)";
}

const char *
proof_check_name(enum proof_check c)
{
	switch (c) {
	case PROOF_VERIFIED:
		return "verified";
	case PROOF_BAD_SIG:
		return "bad-signature";
	case PROOF_MISMATCH:
		return "mismatch";
	case PROOF_NOT_KEPT:
		break;
	}
	return "not-kept";
}

/* bin as canonical padded base64, a new JSON string; NULL: no memory. */
static json_t *
b64_string(const unsigned char *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	json_t *s;
	char *t;

	if ((t = malloc(n)) == NULL)
		return NULL;
	sodium_bin2base64(t, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
	s = json_string(t);
	free(t);
	return s;
}

int
proof_json(const struct store_proof *p, enum proof_check c, char **out,
    size_t *len, struct muster_err *e)
{
	char ts[TIMEFMT_LEN], rs[TIMEFMT_LEN];
	char hex[STORE_HASH_LEN * 2 + 1], *text = NULL, *nl = NULL;
	json_t *o = NULL;
	int rc = 0;

	*out = NULL;
	*len = 0;
	timefmt_format(p->time, ts);
	timefmt_format(p->received, rs);
	sodium_bin2hex(hex, sizeof hex, p->hash, sizeof p->hash);
	if ((o = json_object()) == NULL ||
	    json_object_set_new(o, "format", json_string(PROOF_FORMAT)) ||
	    json_object_set_new(o, "device", json_string(p->device)) ||
	    json_object_set_new(o, "seq", json_integer(p->seq)) ||
	    json_object_set_new(o, "time", json_string(ts)) ||
	    json_object_set_new(o, "received", json_string(rs)) ||
	    json_object_set_new(o, "status", json_string(p->compliant ?
	    PROTO_STATUS_COMPLIANT : PROTO_STATUS_NONCOMPLIANT)) ||
	    json_object_set_new(o, "hash", json_string(hex)) ||
	    json_object_set_new(o, "body_b64", b64_string(p->body, p->len)) ||
	    json_object_set_new(o, "sig_b64", p->has_sig ?
	    b64_string(p->sig, sizeof p->sig) : json_null()) ||
	    json_object_set_new(o, "pk_b64", b64_string(p->pk,
	    sizeof p->pk)) ||
	    json_object_set_new(o, "check", json_string(proof_check_name(c))) ||
	    (text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL ||
	    asprintf(&nl, "%s\n", text) == -1) {
		nl = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	*len = strlen(nl);
	*out = nl;
out:
	free(text);
	json_decref(o);
	return rc;
}

/* o's key as canonical base64 of exactly want bytes (0: 1 to max). */
static int
b64_field(json_t *o, const char *key, size_t want, size_t max,
    unsigned char **out, size_t *outlen)
{
	const char *s;
	size_t len;

	if ((s = proto_json_str(o, key, &len)) == NULL ||
	    sigset_b64_decode(s, len, want != 0 ? want : max, out, outlen) != 0)
		return -1;
	if (want != 0 && *outlen != want) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
proof_parse(const char *buf, size_t len, struct store_proof *p,
    struct muster_err *e)
{
	static const char *const fields[] = { "format", "device", "seq",
	    "time", "received", "status", "hash", "body_b64", "sig_b64",
	    "pk_b64", "check", NULL };
	unsigned char *pk = NULL, *sig = NULL;
	const char *s, *bad = NULL;
	json_t *o = NULL, *v;
	long long seq;
	size_t n, siglen;
	int rc;

	memset(p, 0, sizeof *p);
	if (len > PROOF_FILE_MAX)
		return err_set(e, MUSTER_EDATA, "proof larger than %d bytes",
		    PROOF_FILE_MAX);
	if ((o = proto_json_parse(buf, len, PROOF_JSON_DEPTH)) == NULL) {
		rc = err_set(e, MUSTER_EDATA, "not a proof: malformed JSON");
		goto out;
	}
	if (!proto_json_keys_ok(o, fields))
		bad = "an unknown field";
	else if ((s = proto_json_str(o, "format", NULL)) == NULL ||
	    strcmp(s, PROOF_FORMAT) != 0)
		bad = "\"format\"";
	else if ((s = proto_json_str(o, "device", &n)) == NULL ||
	    n != DEVICE_ID_HEX - 1 || !proto_hex_ok(s, DEVICE_ID_HEX - 1))
		bad = "\"device\"";
	else if (proto_json_int(o, "seq", 1, INT64_MAX, &seq) != 0)
		bad = "\"seq\"";
	else if ((s = proto_json_str(o, "time", NULL)) == NULL ||
	    timefmt_parse(s, &p->time) != 0)
		bad = "\"time\"";
	else if ((s = proto_json_str(o, "received", NULL)) == NULL ||
	    timefmt_parse(s, &p->received) != 0)
		bad = "\"received\"";
	else if ((s = proto_json_str(o, "status", NULL)) == NULL ||
	    (strcmp(s, PROTO_STATUS_COMPLIANT) != 0 &&
	    strcmp(s, PROTO_STATUS_NONCOMPLIANT) != 0))
		bad = "\"status\"";
	else if ((s = proto_json_str(o, "hash", &n)) == NULL ||
	    n != STORE_HASH_LEN * 2 || !proto_hex_ok(s, STORE_HASH_LEN * 2))
		bad = "\"hash\"";
	if (bad != NULL) {
		rc = err_set(e, MUSTER_EDATA, "proof: %s is missing or "
		    "malformed", bad);
		goto out;
	}
	snprintf(p->device, sizeof p->device, "%s",
	    proto_json_str(o, "device", NULL));
	p->seq = seq;
	p->compliant = strcmp(proto_json_str(o, "status", NULL),
	    PROTO_STATUS_COMPLIANT) == 0;
	if (sodium_hex2bin(p->hash, sizeof p->hash, proto_json_str(o, "hash",
	    NULL), STORE_HASH_LEN * 2, NULL, &n, NULL) != 0 ||
	    n != sizeof p->hash) {
		rc = err_set(e, MUSTER_EDATA, "proof: \"hash\" is malformed");
		goto out;
	}
	if (b64_field(o, "pk_b64", sizeof p->pk, 0, &pk, &n) != 0)
		bad = "\"pk_b64\"";
	else if ((v = json_object_get(o, "sig_b64")) == NULL ||
	    (!json_is_null(v) && b64_field(o, "sig_b64", sizeof p->sig, 0,
	    &sig, &siglen) != 0))
		bad = "\"sig_b64\"";
	else if (b64_field(o, "body_b64", 0, PROTO_REPORT_MAX, &p->body,
	    &p->len) != 0)
		bad = "\"body_b64\"";
	else if ((s = proto_json_str(o, "check", &n)) == NULL ||
	    n > PROOF_CHECK_MAX)
		bad = "\"check\"";
	if (bad != NULL) {
		rc = err_set(e, MUSTER_EDATA, "proof: %s is missing or "
		    "malformed", bad);
		goto out;
	}
	memcpy(p->pk, pk, sizeof p->pk);
	if (sig != NULL) {
		memcpy(p->sig, sig, sizeof p->sig);
		p->has_sig = 1;
	}
	rc = 0;
out:
	if (rc != 0)
		store_proof_clear(p);
	free(pk);
	free(sig);
	json_decref(o);
	return rc;
}
