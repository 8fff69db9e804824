/*
 * manifest: the per-scope manifest's format, its verification against a
 * root's policy role and the acceptance rule.  The refusals of issue
 * 11's "Bad input" list a manifest can meet: a lower version, the wrong
 * role (a revocation or root key), expired (flagged stale, never
 * refused), a profile whose hash differs, duplicate ids; and a profile
 * the manifest does not name, or signed by a key outside the policy role.
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

#include "muster/manifest.h"
#include "muster/profile.h"
#include "trust_fixture.h"

#define PROFILE_TEXT \
	"id = \"iaf-personnel\";\n" \
	"serial = 3;\n" \
	"expires = \"2099-01-01T00:00:00Z\";\n" \
	"scope = \"personnel\";\n" \
	"rules = (\n" \
	"  { id = \"cloud-sync-off\"; kind = \"setting\"; severity = \"high\";\n" \
	"    title = \"Mi Cloud sync off\"; namespace = \"secure\";\n" \
	"    key = \"mi_cloud_sync\"; expect = \"0\"; }\n" \
	");\n"

/* A personnel manifest of version v naming PROFILE_TEXT (serial 3). */
static void
sample(struct manifest *m, int64_t v)
{
	memset(m, 0, sizeof *m);
	m->scope = SCOPE_PERSONNEL;
	m->version = v;
	m->expires = time(NULL) + 7 * 86400;
	m->nprofiles = 1;
	strcpy(m->profiles[0].id, "iaf-personnel");
	m->profiles[0].serial = 3;
	sigset_hash_hex(PROFILE_TEXT, strlen(PROFILE_TEXT),
	    m->profiles[0].hash);
}

static __attribute__((noinline)) char *
formatted(const struct manifest *m)
{
	struct muster_err e;
	char *text = NULL;
	size_t len;

	if (manifest_format(m, &text, &len, &e) != 0)
		fail_msg("manifest_format: %s", e.msg);
	assert_int_equal(strlen(text), len);
	return text;
}

/* m formatted and signed by signers with its own trusted comment. */
static __attribute__((noinline)) struct sigset *
signed_manifest(const struct manifest *m, const struct fx *f,
    const char *signers)
{
	struct sigset *ss = NULL;
	struct muster_err e;
	char *text, tc[MANIFEST_TC_MAX];

	text = formatted(m);
	if (sigset_new(text, strlen(text), MANIFEST_MAX, m->version, &ss,
	    &e) != 0)
		fail_msg("sigset_new: %s", e.msg);
	free(text);
	assert_int_equal(manifest_trusted_comment(m->scope, m->version, tc,
	    sizeof tc), 0);
	fx_sign(ss, f, signers, tc);
	return ss;
}

static void
refused(const char *text, const char *want)
{
	struct manifest m;
	struct muster_err e;

	memset(&e, 0, sizeof e);
	if (manifest_parse("m.cfg", text, strlen(text), &m, &e) !=
	    MUSTER_EDATA)
		fail_msg("not refused (want \"%s\"):\n%s", want, text);
	if (strstr(e.msg, want) == NULL)
		fail_msg("\"%s\" is not \"%s\"", e.msg, want);
	assert_int_equal(m.version, 0);
}

static void
format_parse_roundtrip(void **state)
{
	struct manifest m, back;
	struct muster_err e;
	char *text, *again, tc[MANIFEST_TC_MAX];

	(void)state;
	sample(&m, 7);
	m.nprofiles = 2;
	strcpy(m.profiles[1].id, "big-serial");
	m.profiles[1].serial = 5000000000LL;
	strcpy(m.profiles[1].hash, m.profiles[0].hash);
	text = formatted(&m);
	assert_int_equal(manifest_parse("m.cfg", text, strlen(text), &back,
	    &e), 0);
	assert_int_equal(back.scope, SCOPE_PERSONNEL);
	assert_int_equal(back.version, 7);
	assert_int_equal(back.expires, m.expires);
	assert_int_equal(back.nprofiles, 2);
	assert_string_equal(back.profiles[0].id, "iaf-personnel");
	assert_int_equal(back.profiles[1].serial, 5000000000LL);
	assert_string_equal(back.profiles[0].hash, m.profiles[0].hash);
	again = formatted(&back);
	assert_string_equal(again, text);
	free(again);
	free(text);
	/* No profile at all is a manifest too (a scope with nothing). */
	m.nprofiles = 0;
	m.scope = SCOPE_FAMILY;
	text = formatted(&m);
	assert_int_equal(manifest_parse("m.cfg", text, strlen(text), &back,
	    &e), 0);
	assert_int_equal(back.nprofiles, 0);
	assert_int_equal(back.scope, SCOPE_FAMILY);
	free(text);
	assert_int_equal(manifest_trusted_comment(SCOPE_FAMILY, 9, tc,
	    sizeof tc), 0);
	assert_string_equal(tc, "muster-manifest scope=family version=9");
}

static void
parse_refusals(void **state)
{
	struct manifest m;
	struct muster_err e;
	char *text, *bad, big[MANIFEST_MAX + 64];
	size_t i, len;

	(void)state;
	sample(&m, 7);
	text = formatted(&m);
	bad = fx_replace(text, "version = 7;", "version = 7;\nextra = 1;");
	refused(bad, "unknown field \"extra\"");
	free(bad);
	bad = fx_replace(text, "    serial = 3;\n", "    serial = 3;\n"
	    "    title = \"x\";\n");
	refused(bad, "profile #1: unknown field \"title\"");
	free(bad);
	bad = fx_replace(text, "muster-manifest", "muster-root");
	refused(bad, "type must be \"muster-manifest\"");
	free(bad);
	bad = fx_replace(text, "scope = \"personnel\"", "scope = \"admin\"");
	refused(bad, "scope must be personnel or family");
	free(bad);
	bad = fx_replace(text, "version = 7;", "version = -7;");
	refused(bad, "version -7 out of range");
	free(bad);
	bad = fx_replace(text, "serial = 3;", "serial = 0;");
	refused(bad, "profile #1: serial 0 is less than 1");
	free(bad);
	bad = fx_replace(text, "hash = \"", "hash = \"A");
	refused(bad, "hash is not 64 lowercase hex digits");
	free(bad);
	bad = fx_replace(text, "id = \"iaf-personnel\"", "id = \"IAF\"");
	refused(bad, "id is not a profile id");
	free(bad);
	bad = fx_replace(text, "expires = \"", "expires = \"2026");
	refused(bad, "bad expires");
	free(bad);
	bad = fx_replace(text, "profiles = (", "profiles = [");
	refused(bad, "m.cfg");
	free(bad);
	bad = fx_replace(text, "    id = \"iaf-personnel\";\n", "");
	refused(bad, "profile #1: missing field \"id\"");
	free(bad);
	free(text);

	/* Duplicate ids. */
	m.nprofiles = 2;
	m.profiles[1] = m.profiles[0];
	m.profiles[1].serial = 4;
	assert_int_equal(manifest_format(&m, &text, &len, &e), MUSTER_EUSAGE);
	assert_non_null(strstr(e.msg, "profile \"iaf-personnel\" is named "
	    "twice"));
	/* 17 profiles. */
	sample(&m, 7);
	for (i = 1; i < MANIFEST_PROFILES_MAX; i++) {
		m.profiles[i] = m.profiles[0];
		snprintf(m.profiles[i].id, sizeof m.profiles[i].id, "p%zu", i);
	}
	m.nprofiles = MANIFEST_PROFILES_MAX;
	text = formatted(&m);
	bad = fx_replace(text, "  {\n    id = \"p1\";", "  {\n    id = \"q\";\n"
	    "    serial = 1;\n    hash = \"" "0000000000000000000000000000000"
	    "000000000000000000000000000000000\";\n  },\n  {\n    id = \"p1\";");
	refused(bad, "more than 16 profiles");
	free(bad);
	free(text);
	/* Oversize. */
	sample(&m, 7);
	text = formatted(&m);
	memset(big, '#', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, text, strlen(text));
	refused(big, "more than the limit of 16384");
	free(text);
}

static void
verify_roles(void **state)
{
	struct fx *f = *state;
	struct root r;
	struct manifest m, got;
	struct sigset *ss;
	struct muster_err e;

	/* root a b c (2), policy d e (2), revocation f, enroll g */
	fx_root(&r, f, 4, "abc", 2, "de", 2, "f", "g");
	sample(&m, 7);
	ss = signed_manifest(&m, f, "de");
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e), 0);
	assert_int_equal(got.version, 7);
	sigset_free(ss);
	/* Short of the policy threshold. */
	ss = signed_manifest(&m, f, "d");
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "policy keys of root 4: signed by 1 of "
	    "the 2"));
	assert_int_equal(got.version, 0);
	sigset_free(ss);
	/* The wrong role: revocation, enroll, root keys never count. */
	ss = signed_manifest(&m, f, "dfgabc");
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
	fx_root(&r, f, 4, "abc", 2, "d", 1, "f", "g");
	ss = signed_manifest(&m, f, "f");
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "signed by 0 of the 1"));
	sigset_free(ss);
	/* A trusted comment for another scope or version. */
	ss = signed_manifest(&m, f, "");
	fx_sign(ss, f, "d", "muster-manifest scope=family version=7");
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
	ss = signed_manifest(&m, f, "");
	fx_sign(ss, f, "d", "muster-manifest scope=personnel version=8");
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
	/* The wire's version must be the document's. */
	ss = signed_manifest(&m, f, "d");
	ss->version = 8;
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e),
	    MUSTER_EDATA);
	assert_string_equal(e.msg, "personnel: sent as version 8, the "
	    "document is version 7");
	assert_int_equal(got.version, 0);
	/* Tampered: refused before the bytes are parsed. */
	ss->version = 7;
	ss->bytes[0] = '@';
	assert_int_equal(manifest_verify("personnel", ss, &r, &got, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
}

/* After a rotation that replaces the policy key, the old one is refused. */
static void
removed_policy_key(void **state)
{
	struct fx *f = *state;
	struct root v1, v2, held;
	struct manifest m, got;
	struct sigset *ss;
	struct muster_err e;

	fx_root(&v1, f, 1, "a", 1, "d", 1, "f", "g");
	fx_root(&v2, f, 2, "a", 1, "e", 1, "f", "g");
	ss = fx_signed_root(&v2, f, "a", 0);
	assert_int_equal(root_update(&v1, "2.cfg", ss, &held, &e), 0);
	sigset_free(ss);
	sample(&m, 7);
	ss = signed_manifest(&m, f, "d");
	assert_int_equal(manifest_verify("m", ss, &v1, &got, &e), 0);
	assert_int_equal(manifest_verify("m", ss, &held, &got, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
	ss = signed_manifest(&m, f, "e");
	assert_int_equal(manifest_verify("m", ss, &held, &got, &e), 0);
	sigset_free(ss);
}

static void
acceptance(void **state)
{
	struct manifest v7, v7b, v8, fam;
	struct muster_err e;
	char *t7, *t7b, *t8;
	int stale = -1;

	(void)state;
	sample(&v7, 7);
	sample(&v8, 8);
	v7b = v7;
	v7b.profiles[0].serial = 2;
	t7 = formatted(&v7);
	t7b = formatted(&v7b);
	t8 = formatted(&v8);
	/* None held, newer, identical: accepted. */
	assert_int_equal(manifest_accept(NULL, NULL, 0, &v7, t7, strlen(t7),
	    time(NULL), &stale, &e), 0);
	assert_int_equal(stale, 0);
	assert_int_equal(manifest_accept(&v7, t7, strlen(t7), &v8, t8,
	    strlen(t8), time(NULL), &stale, &e), 0);
	assert_int_equal(manifest_accept(&v7, t7, strlen(t7), &v7, t7,
	    strlen(t7), time(NULL), NULL, &e), 0);
	/* Lower version: rollback. */
	assert_int_equal(manifest_accept(&v8, t8, strlen(t8), &v7, t7,
	    strlen(t7), time(NULL), &stale, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "rollback"));
	/* Same version, other bytes. */
	assert_int_equal(manifest_accept(&v7, t7, strlen(t7), &v7b, t7b,
	    strlen(t7b), time(NULL), &stale, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "differs"));
	/* Another scope. */
	fam = v8;
	fam.scope = SCOPE_FAMILY;
	assert_int_equal(manifest_accept(&v7, t7, strlen(t7), &fam, t8,
	    strlen(t8), time(NULL), &stale, &e), MUSTER_ETRUST);
	/* Expired: accepted (keep enforcing), flagged stale. */
	assert_int_equal(manifest_expired(&v8, v8.expires), 1);
	assert_int_equal(manifest_expired(&v8, v8.expires - 1), 0);
	assert_int_equal(manifest_accept(&v7, t7, strlen(t7), &v8, t8,
	    strlen(t8), v8.expires + 1, &stale, &e), 0);
	assert_int_equal(stale, 1);
	free(t7);
	free(t7b);
	free(t8);
}

static void
names_profile(void **state)
{
	struct fx *f = *state;
	struct root r;
	struct manifest m;
	struct profile *p = NULL;
	struct muster_err e;
	const char *text = PROFILE_TEXT;
	char *sig, *other, *sig2;
	size_t siglen, len = strlen(text);

	fx_root(&r, f, 2, "abc", 2, "d", 1, "f", "g");
	sample(&m, 7);
	assert_non_null(manifest_find(&m, "iaf-personnel"));
	assert_null(manifest_find(&m, "iaf-test"));
	assert_int_equal(manifest_names(&m, "iaf-personnel", 3, text, len, &e),
	    0);
	assert_int_equal(manifest_names(&m, "iaf-test", 3, text, len, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "not named by the personnel manifest"));
	assert_int_equal(manifest_names(&m, "iaf-personnel", 2, text, len, &e),
	    MUSTER_ETRUST);
	assert_int_equal(manifest_names(&m, "iaf-personnel", 3, text, len - 1,
	    &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "not the ones the manifest names"));

	/* Signed by the policy key: verified and parsed. */
	assert_int_equal(sig_sign(f->sk[3], text, len, "muster-profile "
	    "id=iaf-personnel serial=3 scope=personnel expires="
	    "2099-01-01T00:00:00Z", NULL, &sig, &siglen, &e), 0);
	assert_int_equal(manifest_profile_verify(&m, &r, "iaf-personnel", 3,
	    "p.cfg", text, len, "p.cfg.minisig", sig, siglen, &p, &e), 0);
	assert_string_equal(p->id, "iaf-personnel");
	profile_free(p);
	p = NULL;
	/* The same bytes, another serial asked for. */
	assert_int_equal(manifest_profile_verify(&m, &r, "iaf-personnel", 2,
	    "p.cfg", text, len, "p.cfg.minisig", sig, siglen, &p, &e),
	    MUSTER_ETRUST);
	assert_null(p);
	/* Signed by a revocation key: not a policy key. */
	assert_int_equal(sig_sign(f->sk[5], text, len, "x", NULL, &sig2,
	    &siglen, &e), 0);
	assert_int_equal(manifest_profile_verify(&m, &r, "iaf-personnel", 3,
	    "p.cfg", text, len, "p.cfg.minisig", sig2, siglen, &p, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "not a policy key of root 2"));
	free(sig2);
	/* A manifest naming bytes the id does not carry (another id). */
	other = fx_replace(text, "iaf-personnel", "iaf-test");
	strcpy(m.profiles[0].id, "iaf-test");
	sigset_hash_hex(other, strlen(other), m.profiles[0].hash);
	assert_int_equal(sig_sign(f->sk[3], other, strlen(other), "x", NULL,
	    &sig2, &siglen, &e), 0);
	assert_int_equal(manifest_profile_verify(&m, &r, "iaf-test", 3,
	    "p.cfg", other, strlen(other), "p.cfg.minisig", sig2, siglen, &p,
	    &e), 0);
	profile_free(p);
	p = NULL;
	/* ...but its id must be the one the manifest and server say. */
	strcpy(m.profiles[0].id, "iaf-personnel");
	assert_int_equal(manifest_profile_verify(&m, &r, "iaf-personnel", 3,
	    "p.cfg", other, strlen(other), "p.cfg.minisig", sig2, siglen, &p,
	    &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "is not the manifest's"));
	/* A family manifest does not carry a personnel profile. */
	m.scope = SCOPE_FAMILY;
	sigset_hash_hex(text, len, m.profiles[0].hash);
	assert_int_equal(manifest_profile_verify(&m, &r, "iaf-personnel", 3,
	    "p.cfg", text, len, "p.cfg.minisig", sig, strlen(sig), &p, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "scope family"));
	free(sig2);
	free(other);
	free(sig);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_parse_roundtrip),
		cmocka_unit_test(parse_refusals),
		cmocka_unit_test(verify_roles),
		cmocka_unit_test(removed_policy_key),
		cmocka_unit_test(acceptance),
		cmocka_unit_test(names_profile),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
