/*
 * fuzz_root: roots, manifests, signed documents and v2 bundles
 * (lib/root.c, lib/manifest.c, lib/sigset.c, lib/token2.c) on arbitrary
 * bytes.  Each input goes, whole, to:
 *
 *	root_parse, manifest_parse	as a document; what parses must
 *				format to text that parses to the same
 *				thing and formats to the same bytes
 *	root_update, manifest_verify	the same bytes signed here, by the
 *				fixed root's root key and policy key, so
 *				the threshold and rotation checks are
 *				reached with any document, not only those
 *				the fuzzer can sign
 *	sigset_from_json	as the wire object; what parses must
 *				serialize and parse back the same, and go
 *				through root_verify_self, root_update and
 *				manifest_verify against the fixed root
 *	token2_bundle_parse	as a bundle of either version
 *
 * The fixed root (version 1) has fuzz.h's org key as its root key and
 * keys from constant seeds as policy ('P'), revocation ('R') and enroll
 * ('E') keys; corpus/fuzz_root/ holds documents signed by them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/manifest.h"
#include "muster/root.h"
#include "muster/sigset.h"
#include "muster/token2.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sig_pubkey org_pk, role_pk[3];
static struct sig_seckey *org_sk, *role_sk[3];
static struct root fixed;

/* A key from a constant seed: the letter c fills the seed and key id. */
static void
seed_key(int c, struct sig_pubkey *pk, struct sig_seckey **skp)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	struct sig_seckey *sk;

	memset(seed, c, sizeof seed);
	if ((sk = sodium_malloc(sizeof *sk)) == NULL)
		abort();
	crypto_sign_seed_keypair(pk->pk, sk->sk, seed);
	memset(sk->keyid, c, sizeof sk->keyid);
	memcpy(pk->keyid, sk->keyid, sizeof pk->keyid);
	*skp = sk;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct muster_err e;
	int i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	fuzz_org_key(&org_pk, &org_sk);
	seed_key('P', &role_pk[0], &role_sk[0]);
	seed_key('R', &role_pk[1], &role_sk[1]);
	seed_key('E', &role_pk[2], &role_sk[2]);
	FUZZ_ASSERT(root_legacy(&org_pk, "https://127.0.0.1:8443",
	    "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", &fixed,
	    &e) == 0, "root_legacy: %s", e.msg);
	fixed.legacy = 0;
	for (i = 1; i < ROOT_NROLES; i++)
		fixed.roles[i].keys[0] = role_pk[i - 1];
	return 0;
}

static int
refusal(int rc)
{
	return rc == MUSTER_EDATA || rc == MUSTER_ETRUST;
}

/*
 * Two parsed roots say the same: every field before the hash (which is of
 * other bytes); root_parse zeroes the whole struct first.
 */
static int
same_root(const struct root *a, const struct root *b)
{
	return memcmp(a, b, offsetof(struct root, hash)) == 0;
}

static void
fuzz_root_doc(const uint8_t *data, size_t size)
{
	struct root r, back, next;
	struct sigset *ss = NULL;
	struct muster_err e;
	char *text = NULL, *again = NULL, tc[ROOT_TC_MAX];
	size_t len, len2;
	int rc;

	memset(&r, 0, sizeof r);
	rc = root_parse("fuzz.cfg", data, size, &r, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA, "root_parse: %d", rc);
	if (rc != 0)
		return;
	FUZZ_ASSERT(root_format(&r, &text, &len, &e) == 0,
	    "a parsed root does not format: %s", e.msg);
	FUZZ_ASSERT(root_parse("again", text, len, &back, &e) == 0,
	    "a formatted root does not parse: %s\n%s", e.msg, text);
	FUZZ_ASSERT(same_root(&r, &back), "root_format changed the root");
	FUZZ_ASSERT(root_format(&back, &again, &len2, &e) == 0 &&
	    len2 == len && memcmp(text, again, len) == 0,
	    "root_format is not deterministic");
	free(again);
	free(text);

	/* Signed here by the fixed root's key: the rotation rule. */
	FUZZ_ASSERT(sigset_new(data, size, ROOT_MAX, 0, &ss, &e) == 0,
	    "sigset_new: %s", e.msg);
	(void)root_trusted_comment(r.version, tc, sizeof tc);
	FUZZ_ASSERT(sigset_sign(ss, org_sk, tc, &e) == 0, "sigset_sign: %s",
	    e.msg);
	rc = root_update(&fixed, "fuzz.cfg", ss, &next, &e);
	FUZZ_ASSERT(rc == 0 || refusal(rc), "root_update: %d", rc);
	if (rc == 0)
		FUZZ_ASSERT(next.version == 2 && root_find_key(&next,
		    ROOT_ROLE_ROOT, org_pk.keyid) != NULL,
		    "root_update took a root it should not have");
	rc = root_verify_self("fuzz.cfg", ss, &next, &e);
	FUZZ_ASSERT(rc == 0 || refusal(rc), "root_verify_self: %d", rc);
	sigset_free(ss);
}

static void
fuzz_manifest_doc(const uint8_t *data, size_t size)
{
	struct manifest m, back, got;
	struct sigset *ss = NULL;
	struct muster_err e;
	char *text = NULL, *again = NULL, tc[MANIFEST_TC_MAX];
	size_t len, len2;
	int rc, stale;

	rc = manifest_parse("fuzz.cfg", data, size, &m, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA, "manifest_parse: %d", rc);
	if (rc != 0)
		return;
	FUZZ_ASSERT(manifest_format(&m, &text, &len, &e) == 0,
	    "a parsed manifest does not format: %s", e.msg);
	FUZZ_ASSERT(manifest_parse("again", text, len, &back, &e) == 0,
	    "a formatted manifest does not parse: %s\n%s", e.msg, text);
	FUZZ_ASSERT(memcmp(&m, &back, sizeof m) == 0,
	    "manifest_format changed the manifest");
	FUZZ_ASSERT(manifest_format(&back, &again, &len2, &e) == 0 &&
	    len2 == len && memcmp(text, again, len) == 0,
	    "manifest_format is not deterministic");
	free(again);

	/* Signed here by the policy key: verified, and accepted by itself. */
	FUZZ_ASSERT(sigset_new(data, size, MANIFEST_MAX, 0, &ss, &e) == 0,
	    "sigset_new: %s", e.msg);
	(void)manifest_trusted_comment(m.scope, m.version, tc, sizeof tc);
	FUZZ_ASSERT(sigset_sign(ss, role_sk[0], tc, &e) == 0,
	    "sigset_sign: %s", e.msg);
	FUZZ_ASSERT(manifest_verify("fuzz.cfg", ss, &fixed, &got, &e) == 0,
	    "a policy-signed manifest does not verify: %s", e.msg);
	FUZZ_ASSERT(manifest_accept(&got, data, size, &m, data, size, 0,
	    &stale, &e) == 0, "a manifest is not accepted over itself");
	FUZZ_ASSERT(manifest_accept(&got, data, size, &back, text, len, 0,
	    &stale, &e) == (len == size && memcmp(text, data, size) == 0 ? 0 :
	    MUSTER_ETRUST), "manifest_accept: same version, other bytes");
	sigset_free(ss);
	/* The same bytes under the revocation key: never counted. */
	FUZZ_ASSERT(sigset_new(data, size, MANIFEST_MAX, 0, &ss, &e) == 0,
	    "sigset_new: %s", e.msg);
	FUZZ_ASSERT(sigset_sign(ss, role_sk[1], tc, &e) == 0,
	    "sigset_sign: %s", e.msg);
	FUZZ_ASSERT(manifest_verify("fuzz.cfg", ss, &fixed, &got, &e) ==
	    MUSTER_ETRUST, "a revocation key signed a manifest");
	sigset_free(ss);
	free(text);
}

static void
fuzz_wire(const uint8_t *data, size_t size)
{
	struct sigset *ss = NULL, *back = NULL;
	struct manifest m;
	struct root r;
	json_t *j, *o = NULL;
	size_t i;
	int rc;
	struct muster_err e;

	if ((j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		return;
	rc = sigset_from_json("fuzz", j, SIGSET_BYTES_MAX, &ss, &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_EDATA, "sigset_from_json: %d", rc);
	json_decref(j);
	if (rc != 0)
		return;
	FUZZ_ASSERT(sigset_to_json(ss, &o, &e) == 0, "sigset_to_json: %s",
	    e.msg);
	FUZZ_ASSERT(sigset_from_json("again", o, SIGSET_BYTES_MAX, &back,
	    &e) == 0, "a serialized set does not parse: %s", e.msg);
	FUZZ_ASSERT(back->len == ss->len && back->version == ss->version &&
	    back->nsigs == ss->nsigs && memcmp(back->bytes, ss->bytes,
	    ss->len) == 0, "the set changed on the wire");
	for (i = 0; i < ss->nsigs; i++)
		FUZZ_ASSERT(strcmp(back->texts[i], ss->texts[i]) == 0,
		    "signature %zu changed on the wire", i);
	json_decref(o);
	sigset_free(back);
	rc = root_verify_self("fuzz", ss, &r, &e);
	FUZZ_ASSERT(rc == 0 || refusal(rc), "root_verify_self: %d", rc);
	rc = root_update(&fixed, "fuzz", ss, &r, &e);
	FUZZ_ASSERT(rc == 0 || refusal(rc), "root_update: %d", rc);
	rc = manifest_verify("fuzz", ss, &fixed, &m, &e);
	FUZZ_ASSERT(rc == 0 || refusal(rc), "manifest_verify: %d", rc);
	sigset_free(ss);
}

static void
fuzz_bundle2(const uint8_t *data, size_t size)
{
	struct sigset *ss = NULL;
	struct root r;
	struct token t;
	struct muster_err e;
	char *tok = NULL;
	int rc;

	rc = token2_bundle_parse("fuzz.bundle", (const char *)data, size, &ss,
	    &r, &tok, &t, &e);
	FUZZ_ASSERT(rc == 0 || refusal(rc), "token2_bundle_parse: %d", rc);
	if (rc != 0) {
		FUZZ_ASSERT(ss == NULL && tok == NULL, "output on failure");
		return;
	}
	FUZZ_ASSERT(tok != NULL, "no token");
	FUZZ_ASSERT(r.legacy || token2_root_match(&t, &r, &e) == 0,
	    "a v2 bundle's token does not name its root");
	sigset_free(ss);
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_root_doc(data, size);
	fuzz_manifest_doc(data, size);
	fuzz_wire(data, size);
	fuzz_bundle2(data, size);
	return 0;
}
