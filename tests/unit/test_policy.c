/*
 * policy: a GET /v1/policy answer applied to an agent's state
 * (agent/policy.c): the root chain walked and persisted, the manifest
 * verified with the (new) root's policy role and judged against the one
 * held, exactly the profiles it names installed, and every refusal of
 * issue 11's "Bad input" leaving the state as it was: a rolled-back
 * manifest, a removed key, a profile the manifest does not name or whose
 * bytes differ, a root signed below its threshold or skipping a version,
 * a malformed or oversized answer; a family oracle (more rules on one
 * attribute than the lint allows) signed and named all the same.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "../../agent/policy.h"
#include "../../agent/state.h"
#include "trust_fixture.h"

#define PROFILE_FMT \
	"id = \"%s\";\n" \
	"serial = %d;\n" \
	"expires = \"2099-01-01T00:00:00Z\";\n" \
	"scope = \"personnel\";\n" \
	"rules = (\n" \
	"  { id = \"cloud-sync-off\"; kind = \"setting\"; severity = \"high\";\n" \
	"    title = \"Mi Cloud sync off\"; namespace = \"secure\";\n" \
	"    key = \"mi_cloud_sync\"; expect = \"%s\"; }\n" \
	");\n"

struct ctx {
	struct fx	*f;
	char		 dir[64];
	struct root	 r1;		/* root keys abc 2-of-3, policy d */
};

/* A signed profile object as the server serves it; key is a letter. */
static json_t *
profile_obj(const struct fx *f, const char *id, int serial, const char *expect,
    char key, char hash[SIGSET_HASH_HEX])
{
	struct profile *p = NULL;
	struct muster_err e;
	char text[1024], tc[SIG_TRUSTED_MAX], *sig = NULL, *b64;
	size_t len, slen, blen;
	json_t *o;

	snprintf(text, sizeof text, PROFILE_FMT, id, serial, expect);
	len = strlen(text);
	if (profile_parse("p", text, len, &p, &e) != 0)
		fail_msg("profile_parse: %s", e.msg);
	assert_int_equal(profile_trusted_comment(p, tc, sizeof tc), 0);
	if (sig_sign(f->sk[key - 'a'], text, len, tc, NULL, &sig, &slen,
	    &e) != 0)
		fail_msg("sig_sign: %s", e.msg);
	profile_free(p);
	blen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(blen);
	sodium_bin2base64(b64, blen, (const unsigned char *)text, len,
	    sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:s,s:i,s:s,s:s}", "id", id, "serial", serial,
	    "profile", b64, "signature", sig);
	assert_non_null(o);
	if (hash != NULL)
		sigset_hash_hex(text, len, hash);
	free(b64);
	free(sig);
	return o;
}

/* A personnel manifest of version v naming (id, serial, hash), signed. */
static json_t *
manifest_obj(const struct fx *f, int64_t v, const char *id, int serial,
    const char *hash, const char *signers)
{
	struct manifest m;
	struct sigset *ss = NULL;
	struct muster_err e;
	char *text = NULL, tc[MANIFEST_TC_MAX];
	size_t len;
	json_t *o = NULL;

	memset(&m, 0, sizeof m);
	m.scope = SCOPE_PERSONNEL;
	m.version = v;
	m.expires = time(NULL) + FX_YEAR;
	if (id != NULL) {
		snprintf(m.profiles[0].id, sizeof m.profiles[0].id, "%s", id);
		m.profiles[0].serial = serial;
		memcpy(m.profiles[0].hash, hash, SIGSET_HASH_HEX);
		m.nprofiles = 1;
	}
	assert_int_equal(manifest_format(&m, &text, &len, &e), 0);
	assert_int_equal(sigset_new(text, len, MANIFEST_MAX, v, &ss, &e), 0);
	assert_int_equal(manifest_trusted_comment(SCOPE_PERSONNEL, v, tc,
	    sizeof tc), 0);
	fx_sign(ss, f, signers, tc);
	assert_int_equal(sigset_to_json(ss, &o, &e), 0);
	sigset_free(ss);
	free(text);
	return o;
}

static json_t *
root_obj(const struct root *r, const struct fx *f, const char *signers)
{
	struct sigset *ss = fx_signed_root(r, f, signers, 0);
	struct muster_err e;
	json_t *o = NULL;

	ss->version = r->version;
	assert_int_equal(sigset_to_json(ss, &o, &e), 0);
	sigset_free(ss);
	return o;
}

/* Applies {"roots": roots, "manifest": m, "profiles": profiles}. */
static int
apply(struct ctx *c, json_t *roots, json_t *m, json_t *profiles,
    struct policy_outcome *po, struct muster_err *e)
{
	struct state_anchor a;
	json_t *o;
	char *s;
	int rc;

	assert_int_equal(state_anchor_load(c->dir, &a, e), 0);
	o = json_pack("{s:o,s:o,s:o}", "roots", roots != NULL ? roots :
	    json_array(), "manifest", m != NULL ? m : json_null(), "profiles",
	    profiles != NULL ? profiles : json_array());
	assert_non_null(o);
	s = json_dumps(o, JSON_COMPACT);
	rc = policy_apply(c->dir, &a, s, strlen(s), time(NULL), po, e);
	free(s);
	json_decref(o);
	return rc;
}

/* The state's files, hashed: what a refusal must not change. */
static void
snap(const struct ctx *c, char out[SIGSET_HASH_HEX])
{
	static const char *const files[] = { "root.json", "manifest.json",
	    "agent.cfg", "profiles/iaf.profile", "profiles/lax.profile" };
	crypto_generichash_state st;
	unsigned char h[32];
	char path[128], *buf;
	size_t i, len;
	FILE *fp;

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", c->dir, files[i]);
		if ((fp = fopen(path, "rb")) == NULL) {
			crypto_generichash_update(&st, (const unsigned char *)
			    "-", 1);
			continue;
		}
		buf = malloc(65536);
		len = fread(buf, 1, 65536, fp);
		fclose(fp);
		crypto_generichash_update(&st, (unsigned char *)buf, len);
		free(buf);
	}
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, SIGSET_HASH_HEX, h, sizeof h);
}

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof *c);
	struct sigset *ss;
	struct state_cfg cfg;
	struct muster_err e;

	if (c == NULL || fx_setup((void **)&c->f) != 0)
		return -1;
	snprintf(c->dir, sizeof c->dir, "/tmp/test_policy.XXXXXX");
	if (mkdtemp(c->dir) == NULL)
		return -1;
	fx_root(&c->r1, c->f, 1, "abc", 2, "d", 1, "e", "f");
	ss = fx_signed_root(&c->r1, c->f, "ab", 0);
	if (state_open(c->dir, 1, &e) != 0 ||
	    state_root_set(c->dir, ss, SCOPE_PERSONNEL, &e) != 0 ||
	    state_cfg_load(c->dir, &cfg, &e) != 0)
		return -1;
	sigset_free(ss);
	snprintf(cfg.device_id, sizeof cfg.device_id,
	    "0123456789abcdef0123456789abcdef");
	if (state_cfg_store(c->dir, &cfg, &e) != 0)
		return -1;
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
	if (system(cmd) != 0)
		return -1;
	fx_teardown((void **)&c->f);
	free(c);
	return 0;
}

static void
test_policy_flow(void **state)
{
	struct ctx *c = *state;
	struct policy_outcome po;
	struct muster_err e;
	struct state_cfg cfg;
	struct state_anchor a;
	struct root r2;
	char h1[SIGSET_HASH_HEX], h2[SIGSET_HASH_HEX], hl[SIGSET_HASH_HEX];
	char before[SIGSET_HASH_HEX], after[SIGSET_HASH_HEX];
	json_t *m1, *p1, *lax;
	int rc;

	/* Manifest 1 naming iaf serial 1, with an unnamed lax profile. */
	p1 = profile_obj(c->f, "iaf", 1, "0", 'd', h1);
	lax = profile_obj(c->f, "lax", 9, "1", 'd', hl);
	m1 = manifest_obj(c->f, 1, "iaf", 1, h1, "d");
	rc = apply(c, NULL, json_incref(m1), json_pack("[O,O]", p1, lax),
	    &po, &e);
	assert_int_equal(rc, 0);
	assert_int_equal(po.manifest_to, 1);
	assert_int_equal(po.installed, 1);
	assert_string_equal(po.managed, "iaf");
	assert_int_equal(state_cfg_load(c->dir, &cfg, &e), 0);
	assert_string_equal(cfg.profile_id, "iaf");
	{
		char path[128];

		snprintf(path, sizeof path, "%s/profiles/lax.profile", c->dir);
		assert_int_equal(access(path, F_OK), -1);
		snprintf(path, sizeof path, "%s/profiles/iaf.profile", c->dir);
		assert_int_equal(access(path, F_OK), 0);
	}
	/* The same again: nothing new. */
	assert_int_equal(apply(c, NULL, json_incref(m1), json_pack("[O]", p1),
	    &po, &e), 0);
	assert_int_equal(po.installed, 0);
	/* Held already, not sent: fine. */
	rc = apply(c, NULL, json_incref(m1), NULL, &po, &e);
	if (rc != 0)
		fail_msg("%s", e.msg);

	snap(c, before);
	/* Refusals, none of which changes the state. */
	rc = apply(c, NULL, manifest_obj(c->f, 1, "lax", 9, hl, "d"),
	    json_pack("[O]", lax), &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);	/* same version, other bytes */
	rc = apply(c, NULL, manifest_obj(c->f, 2, "iaf", 1, h1, "e"),
	    json_pack("[O]", p1), &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);	/* a revocation key signed */
	rc = apply(c, NULL, manifest_obj(c->f, 2, "other", 1, h1, "d"),
	    json_pack("[O]", lax), &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);	/* named, not sent, not held */
	json_object_set(p1, "profile", json_object_get(lax, "profile"));
	rc = apply(c, NULL, manifest_obj(c->f, 2, "iaf", 1, h1, "d"),
	    json_pack("[O]", p1), &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);	/* other bytes, other hash */
	json_decref(p1);
	assert_non_null(strstr(e.msg, "hash"));
	/* A root 2 signed by one of its predecessor's 3 keys (threshold 2). */
	fx_root(&r2, c->f, 2, "abg", 2, "h", 1, "e", "f");
	rc = apply(c, json_pack("[o]", root_obj(&r2, c->f, "ag")), NULL, NULL,
	    &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);
	rc = apply(c, json_pack("[o]", root_obj(&r2, c->f, "aag")), NULL,
	    NULL, &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);	/* the same key twice */
	r2.version = 3;
	rc = apply(c, json_pack("[o]", root_obj(&r2, c->f, "abg")), NULL,
	    NULL, &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);	/* skips version 2 */
	r2.version = 2;
	/* Malformed answers. */
	assert_int_equal(state_anchor_load(c->dir, &a, &e), 0);
	assert_int_equal(policy_apply(c->dir, &a, "[]", 2, time(NULL), &po,
	    &e), MUSTER_EDATA);
	assert_int_equal(policy_apply(c->dir, &a, "{\"roots\":[],\"x\":1}",
	    19, time(NULL), &po, &e), MUSTER_EDATA);
	assert_int_equal(policy_apply(c->dir, &a, "{\"roots\":{}}", 12,
	    time(NULL), &po, &e), MUSTER_EDATA);
	snap(c, after);
	assert_string_equal(before, after);

	/* The rotation: root 2 (c replaced by g, policy d by h), signed by
	 * a and b (old and new) and g; manifest 2 by the new policy key. */
	p1 = profile_obj(c->f, "iaf", 2, "0", 'h', h2);
	rc = apply(c, json_pack("[o]", root_obj(&r2, c->f, "abg")),
	    manifest_obj(c->f, 2, "iaf", 2, h2, "h"), json_pack("[o]", p1),
	    &po, &e);
	assert_int_equal(rc, 0);
	assert_int_equal(po.root_from, 1);
	assert_int_equal(po.root_to, 2);
	assert_int_equal(po.manifest_to, 2);
	assert_int_equal(state_anchor_load(c->dir, &a, &e), 0);
	assert_int_equal(a.root.version, 2);
	/* After it, the removed policy key counts for nothing. */
	snap(c, before);
	rc = apply(c, NULL, manifest_obj(c->f, 3, "lax", 9, hl, "d"),
	    json_pack("[O]", lax), &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);
	/* A rolled-back manifest. */
	rc = apply(c, NULL, manifest_obj(c->f, 1, "iaf", 2, h2, "h"), NULL,
	    &po, &e);
	assert_int_equal(rc, MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "rollback"));
	snap(c, after);
	assert_string_equal(before, after);
	/* A manifest that names nothing: the managed profile goes. */
	assert_int_equal(apply(c, NULL, manifest_obj(c->f, 3, NULL, 0, NULL,
	    "h"), NULL, &po, &e), 0);
	assert_int_equal(po.removed, 1);
	assert_string_equal(po.managed, "");
	json_decref(m1);
	json_decref(lax);
}

static void
test_policy_chain_cap(void **state)
{
	struct ctx *c = *state;
	struct policy_outcome po;
	struct muster_err e;
	json_t *roots = json_array();
	size_t i;
	for (i = 0; i <= ROOT_CHAIN_MAX; i++)
		json_array_append_new(roots, json_pack("{s:i}", "version",
		    (int)i + 2));
	struct state_anchor a;
	char *bad;

	assert_int_equal(apply(c, roots, NULL, NULL, &po, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "roots"));
	/* "profiles" that is not a list. */
	bad = fx_replace("{\"roots\":[],\"profiles\":[]}", "[]}", "7}");
	assert_int_equal(state_anchor_load(c->dir, &a, &e), 0);
	assert_int_equal(policy_apply(c->dir, &a, bad, strlen(bad),
	    time(NULL), &po, &e), MUSTER_EDATA);
	free(bad);
}

static void
test_policy_stale(void **state)
{
	struct ctx *c = *state;
	struct state_anchor a;
	struct muster_err e;
	int trust, policy;

	assert_int_equal(state_anchor_load(c->dir, &a, &e), 0);
	policy_stale(c->dir, &a, time(NULL), &trust, &policy);
	assert_false(trust);
	policy_stale(c->dir, &a, time(NULL) + 2 * FX_YEAR, &trust, &policy);
	assert_true(trust);
}

/* A family state: the personnel fixture's root, the other scope. */
static int
setup_family(void **state)
{
	struct ctx *c;
	struct sigset *ss;
	struct muster_err e;
	char cmd[128];

	if (setup(state) != 0)
		return -1;
	c = *state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
	snprintf(c->dir, sizeof c->dir, "/tmp/test_policy.XXXXXX");
	if (system(cmd) != 0 || mkdtemp(c->dir) == NULL)
		return -1;
	ss = fx_signed_root(&c->r1, c->f, "ab", 0);
	if (state_open(c->dir, 1, &e) != 0 ||
	    state_root_set(c->dir, ss, SCOPE_FAMILY, &e) != 0)
		return -1;
	sigset_free(ss);
	return 0;
}

/* A family os-min ladder of n rules, signed by d, as served; its hash. */
static json_t *
ladder_obj(const struct fx *f, int n, char hash[SIGSET_HASH_HEX])
{
	struct profile *p = NULL;
	struct muster_err e;
	char text[4096], tc[SIG_TRUSTED_MAX], *sig = NULL, *b64;
	size_t len, slen, blen;
	json_t *o;
	int i;

	snprintf(text, sizeof text, "id = \"fam\";\nserial = %d;\nexpires = "
	    "\"2099-01-01T00:00:00Z\";\nscope = \"family\";\nrules = (\n", n);
	for (i = 1; i <= n; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    "%s  { id = \"r%d\"; kind = \"os-min\"; severity = "
		    "\"low\"; title = \"t\"; min_version = \"%d.0\"; }",
		    i > 1 ? ",\n" : "", i, i + 3);
	snprintf(text + strlen(text), sizeof text - strlen(text), "\n);\n");
	len = strlen(text);
	if (profile_parse("p", text, len, &p, &e) != 0)
		fail_msg("profile_parse: %s", e.msg);
	assert_int_equal(profile_trusted_comment(p, tc, sizeof tc), 0);
	if (sig_sign(f->sk['d' - 'a'], text, len, tc, NULL, &sig, &slen,
	    &e) != 0)
		fail_msg("sig_sign: %s", e.msg);
	profile_free(p);
	blen = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(blen);
	sodium_bin2base64(b64, blen, (const unsigned char *)text, len,
	    sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:s,s:i,s:s,s:s}", "id", "fam", "serial", n,
	    "profile", b64, "signature", sig);
	assert_non_null(o);
	sigset_hash_hex(text, len, hash);
	free(b64);
	free(sig);
	return o;
}

/* The family manifest of version v naming fam serial n, signed by d. */
static json_t *
family_manifest_obj(const struct fx *f, int64_t v, int n, const char *hash)
{
	struct manifest m;
	struct sigset *ss = NULL;
	struct muster_err e;
	char *text = NULL, tc[MANIFEST_TC_MAX];
	size_t len;
	json_t *o = NULL;

	memset(&m, 0, sizeof m);
	m.scope = SCOPE_FAMILY;
	m.version = v;
	m.expires = time(NULL) + FX_YEAR;
	snprintf(m.profiles[0].id, sizeof m.profiles[0].id, "fam");
	m.profiles[0].serial = n;
	memcpy(m.profiles[0].hash, hash, SIGSET_HASH_HEX);
	m.nprofiles = 1;
	assert_int_equal(manifest_format(&m, &text, &len, &e), 0);
	assert_int_equal(sigset_new(text, len, MANIFEST_MAX, v, &ss, &e), 0);
	assert_int_equal(manifest_trusted_comment(SCOPE_FAMILY, v, tc,
	    sizeof tc), 0);
	fx_sign(ss, f, "d", tc);
	assert_int_equal(sigset_to_json(ss, &o, &e), 0);
	sigset_free(ss);
	free(text);
	return o;
}

/*
 * A family oracle (4 os-min rules) signed by the policy key and named by
 * a good manifest, as a server would send it: refused (65), nothing of
 * it kept; the 3-rule ladder the same way: installed.
 */
static void
test_policy_family_oracle(void **state)
{
	struct ctx *c = *state;
	struct policy_outcome po;
	struct muster_err e;
	char h[SIGSET_HASH_HEX], path[128];
	json_t *p;
	int rc;

	p = ladder_obj(c->f, 4, h);
	rc = apply(c, NULL, family_manifest_obj(c->f, 1, 4, h),
	    json_pack("[o]", p), &po, &e);
	assert_int_equal(rc, MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "family profile \"fam\": 4 rules "
	    "(r1, r2, r3, r4)"));
	snprintf(path, sizeof path, "%s/profiles/fam.profile", c->dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof path, "%s/manifest.json", c->dir);
	assert_int_equal(access(path, F_OK), -1);

	p = ladder_obj(c->f, 3, h);
	rc = apply(c, NULL, family_manifest_obj(c->f, 1, 3, h),
	    json_pack("[o]", p), &po, &e);
	if (rc != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(po.installed, 1);
	snprintf(path, sizeof path, "%s/profiles/fam.profile", c->dir);
	assert_int_equal(access(path, F_OK), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_policy_flow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_policy_chain_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_policy_stale, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_policy_family_oracle,
		    setup_family, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
