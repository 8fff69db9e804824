/*
 * server trust (server/trust.c): the chain from root_dir or the legacy
 * org key, rotations uploaded (accepted, refused, persisted across a
 * reopen), manifests compared and stored, and each check by its role:
 * a token by the enroll key, a revocation by the revocation key only.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/manifest.h"
#include "muster/token.h"
#include "trust_fixture.h"
#include "../../server/trust.h"

static char dir[UNIT_TMPDIR_MAX];

struct tx {
	struct fx	*f;
	char		 rootdir[128], data[128], orgpub[128];
};

static int
setup(void **state)
{
	static struct tx t;
	void *fs = NULL;

	if (fx_setup(&fs) != 0 || unit_tmpdir(dir, "trust") != 0)
		return -1;
	t.f = fs;
	snprintf(t.rootdir, sizeof t.rootdir, "%s/root", dir);
	snprintf(t.data, sizeof t.data, "%s/data", dir);
	snprintf(t.orgpub, sizeof t.orgpub, "%s/org.pub", dir);
	if (mkdir(t.rootdir, 0755) != 0 || mkdir(t.data, 0700) != 0)
		return -1;
	*state = &t;
	return 0;
}

static int
teardown(void **state)
{
	struct tx *t = *state;
	void *fs = t->f;

	unit_rmtree(dir);
	return fx_teardown(&fs);
}

/* Writes ss (root version v) into root_dir as V.cfg and its signatures. */
static void
put_root(const struct tx *t, const struct sigset *ss, int64_t v)
{
	struct muster_err e;
	char doc[32], path[160];
	size_t i;

	snprintf(doc, sizeof doc, "%lld.cfg", (long long)v);
	snprintf(path, sizeof path, "%s/%s", t->rootdir, doc);
	assert_int_equal(fs_write_atomic(path, ss->bytes, ss->len, 0644, &e),
	    0);
	for (i = 0; i < ss->nsigs; i++)
		assert_int_equal(sigset_write_sig(t->rootdir, doc, ss->texts[i],
		    ss->textlens[i], &e), 0);
}

/* A manifest of scope personnel, version v, signed by signers. */
static struct sigset *
signed_manifest(const struct fx *f, int64_t v, const char *signers)
{
	struct manifest m;
	struct sigset *ss = NULL;
	struct muster_err e;
	char *text = NULL, tc[MANIFEST_TC_MAX];
	size_t len;

	memset(&m, 0, sizeof m);
	m.scope = SCOPE_PERSONNEL;
	m.version = v;
	m.expires = time(NULL) + 86400;
	m.nprofiles = 1;
	strcpy(m.profiles[0].id, "iaf-personnel");
	m.profiles[0].serial = 1;
	memset(m.profiles[0].hash, 'a', 64);
	assert_int_equal(manifest_format(&m, &text, &len, &e), 0);
	assert_int_equal(sigset_new(text, len, MANIFEST_MAX, v, &ss, &e), 0);
	free(text);
	assert_int_equal(manifest_trusted_comment(SCOPE_PERSONNEL, v, tc,
	    sizeof tc), 0);
	fx_sign(ss, f, signers, tc);
	return ss;
}

/* The versions trust_roots_json lists after since, as "1,2". */
static void
roots_are(struct trust *tr, int64_t since, const char *want)
{
	struct muster_err e;
	char *json = NULL, got[64] = "", *p;
	size_t len;

	assert_int_equal(trust_roots_json(tr, since, &json, &len, &e), 0);
	for (p = json; (p = strstr(p, "\"version\":")) != NULL; p++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%ld",
		    got[0] != '\0' ? "," : "", strtol(p + 10, NULL, 10));
	free(json);
	assert_string_equal(got, want);
}

/*
 * Root 1 in root_dir (root keys a,b,c, 2 of 3; policy d; revocation e;
 * enroll f); root 2 uploaded with b replaced by g: refused with too few
 * or removed signers, or a skipped version; accepted by a,c + c,g; kept
 * across a reopen.
 */
static void
chain(void **state)
{
	struct tx *t = *state;
	struct trust *tr = NULL;
	struct sigset *ss;
	struct muster_err e;
	struct root r1, r2, r3, cur;

	fx_root(&r1, t->f, 1, "abc", 2, "d", 1, "e", "f");
	ss = fx_signed_root(&r1, t->f, "abc", 0);
	put_root(t, ss, 1);
	sigset_free(ss);
	assert_int_equal(trust_open(t->rootdir, NULL, t->data, &tr, &e), 0);
	assert_int_equal(trust_root_version(tr), 1);
	assert_false(trust_legacy(tr));
	roots_are(tr, 0, "1");
	roots_are(tr, 1, "");

	fx_root(&r2, t->f, 2, "agc", 2, "d", 1, "e", "f");
	ss = fx_signed_root(&r2, t->f, "a", 0);
	ss->version = 2;
	assert_int_equal(trust_root_add(tr, ss, &e), MUSTER_ETRUST);
	sigset_free(ss);
	ss = fx_signed_root(&r2, t->f, "aa", 0);	/* one key twice */
	ss->version = 2;
	assert_int_equal(trust_root_add(tr, ss, &e), MUSTER_ETRUST);
	sigset_free(ss);
	ss = fx_signed_root(&r2, t->f, "ab", 0);	/* b: not in root 2 */
	ss->version = 2;
	assert_int_equal(trust_root_add(tr, ss, &e), MUSTER_ETRUST);
	sigset_free(ss);
	fx_root(&r3, t->f, 3, "agc", 2, "d", 1, "e", "f");
	ss = fx_signed_root(&r3, t->f, "acg", 0);
	ss->version = 3;
	assert_int_equal(trust_root_add(tr, ss, &e), MUSTER_EUSAGE);
	sigset_free(ss);
	ss = fx_signed_root(&r2, t->f, "acg", 0);
	ss->version = 2;
	assert_int_equal(trust_root_add(tr, ss, &e), 0);
	assert_int_equal(trust_root_add(tr, ss, &e), MUSTER_EUSAGE);
	sigset_free(ss);
	assert_int_equal(trust_root_version(tr), 2);
	roots_are(tr, 0, "1,2");
	roots_are(tr, 1, "2");
	trust_root(tr, &cur);
	assert_non_null(root_find_key(&cur, ROOT_ROLE_ROOT, t->f->pk[6].keyid));
	assert_null(root_find_key(&cur, ROOT_ROLE_ROOT, t->f->pk[1].keyid));
	trust_free(tr);

	/* The upload survives a restart, and a reload keeps it. */
	tr = NULL;
	assert_int_equal(trust_open(t->rootdir, NULL, t->data, &tr, &e), 0);
	assert_int_equal(trust_root_version(tr), 2);
	assert_int_equal(trust_reload(tr, &e), 0);
	assert_int_equal(trust_root_version(tr), 2);
	trust_free(tr);
	trust_free(NULL);
}

/* Manifests: by the policy threshold only, compared by version and bytes. */
static void
manifests(void **state)
{
	struct tx *t = *state;
	struct trust *tr = NULL;
	struct sigset *ss;
	struct manifest m;
	struct muster_err e;
	enum trust_put res;
	char *json = NULL;
	size_t len;

	assert_int_equal(trust_open(t->rootdir, NULL, t->data, &tr, &e), 0);
	assert_int_equal(trust_manifest(tr, SCOPE_PERSONNEL, &m, &json, &len),
	    0);
	assert_null(json);
	ss = signed_manifest(t->f, 5, "e");	/* the revocation key */
	assert_int_equal(trust_manifest_check(tr, ss, &m, &res, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
	ss = signed_manifest(t->f, 5, "a");	/* a root key */
	assert_int_equal(trust_manifest_check(tr, ss, &m, &res, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
	ss = signed_manifest(t->f, 5, "d");
	assert_int_equal(trust_manifest_check(tr, ss, &m, &res, &e), 0);
	assert_int_equal(res, TRUST_NEW);
	assert_int_equal(trust_manifest_put(tr, ss, &m, &e), 0);
	assert_int_equal(trust_manifest_check(tr, ss, &m, &res, &e), 0);
	assert_int_equal(res, TRUST_SAME);
	sigset_free(ss);
	ss = signed_manifest(t->f, 4, "d");
	assert_int_equal(trust_manifest_check(tr, ss, &m, &res, &e), 0);
	assert_int_equal(res, TRUST_OLD);
	assert_int_equal(trust_manifest_put(tr, ss, &m, &e), MUSTER_ETRUST);
	sigset_free(ss);
	assert_int_equal(trust_manifest(tr, SCOPE_PERSONNEL, &m, &json, &len),
	    1);
	assert_int_equal(m.version, 5);
	assert_non_null(strstr(json, "\"version\":5"));
	free(json);
	assert_int_equal(trust_manifest(tr, SCOPE_FAMILY, NULL, NULL, NULL),
	    0);
	trust_manifest_watch(tr, time(NULL), 2 * 86400);
	trust_free(tr);
	/* Stored: a reopen serves it. */
	tr = NULL;
	assert_int_equal(trust_open(t->rootdir, NULL, t->data, &tr, &e), 0);
	assert_int_equal(trust_manifest(tr, SCOPE_PERSONNEL, &m, NULL, NULL),
	    1);
	assert_int_equal(m.version, 5);
	trust_free(tr);
}

/* Tokens by the enroll key, revocations by the revocation key alone. */
static void
roles(void **state)
{
	struct tx *t = *state;
	struct trust *tr = NULL;
	struct token tok, got;
	struct revocation rv, grv;
	struct muster_err e;
	char *s = NULL;

	assert_int_equal(trust_open(t->rootdir, NULL, t->data, &tr, &e), 0);
	memset(&tok, 0, sizeof tok);
	token_new_id(tok.id);
	strcpy(tok.server, FX_SERVER);
	strcpy(tok.pin, FX_PIN);
	tok.scope = SCOPE_PERSONNEL;
	strcpy(tok.unit, "U");
	strcpy(tok.person, "P");
	tok.expires = time(NULL) + 3600;
	assert_int_equal(token_sign(&tok, t->f->sk[5], &s, &e), 0);
	assert_int_equal(trust_token_verify(tr, s, strlen(s), &got, &e), 0);
	free(s);
	assert_int_equal(token_sign(&tok, t->f->sk[3], &s, &e), 0);	/* policy */
	assert_int_equal(trust_token_verify(tr, s, strlen(s), &got, &e),
	    MUSTER_ETRUST);
	free(s);
	memset(&rv, 0, sizeof rv);
	strcpy(rv.id, tok.id);
	rv.time = time(NULL);
	assert_int_equal(token_revocation_sign(&rv, t->f->sk[4], &s, &e), 0);
	assert_int_equal(trust_revocation_verify(tr, s, strlen(s), &grv, &e),
	    0);
	free(s);
	assert_int_equal(token_revocation_sign(&rv, t->f->sk[3], &s, &e), 0);
	assert_int_equal(trust_revocation_verify(tr, s, strlen(s), &grv, &e),
	    MUSTER_ETRUST);
	free(s);
	trust_free(tr);
}

/* Without root_dir: the org key as root 1, in every role; migration. */
static void
legacy(void **state)
{
	struct tx *t = *state;
	struct trust *tr = NULL;
	struct sigset *ss;
	struct muster_err e;
	struct root r2;
	char *pub = NULL, data2[160];

	assert_int_equal(sig_pubkey_format(&t->f->pk[7], &pub, &e), 0);
	assert_int_equal(fs_write_atomic(t->orgpub, pub, strlen(pub), 0644,
	    &e), 0);
	free(pub);
	snprintf(data2, sizeof data2, "%s/data2", dir);
	assert_int_equal(mkdir(data2, 0700), 0);
	assert_int_equal(trust_open(NULL, t->orgpub, data2, &tr, &e), 0);
	assert_true(trust_legacy(tr));
	assert_int_equal(trust_root_version(tr), 1);
	roots_are(tr, 0, "");
	/* Root 2 signed by the org key (root 1's) and its own keys. */
	fx_root(&r2, t->f, 2, "ij", 2, "h", 1, "k", "l");
	ss = fx_signed_root(&r2, t->f, "ij", 0);
	ss->version = 2;
	assert_int_equal(trust_root_add(tr, ss, &e), MUSTER_ETRUST);
	sigset_free(ss);
	ss = fx_signed_root(&r2, t->f, "hij", 0);
	ss->version = 2;
	assert_int_equal(trust_root_add(tr, ss, &e), 0);
	sigset_free(ss);
	assert_false(trust_legacy(tr));
	roots_are(tr, 0, "2");
	trust_free(tr);
	tr = NULL;
	assert_int_equal(trust_open(NULL, t->orgpub, data2, &tr, &e), 0);
	assert_int_equal(trust_root_version(tr), 2);
	trust_free(tr);
	tr = NULL;
	assert_int_equal(trust_open(NULL, NULL, data2, &tr, &e),
	    MUSTER_ECONFIG);
}

/* A root_dir whose root 1 was changed after signing: not served. */
static void
tampered(void **state)
{
	struct tx *t = *state;
	struct trust *tr = NULL;
	struct sigset *ss;
	struct muster_err e;
	struct root r1;
	char rd[160], path[192], *text;
	size_t i;

	snprintf(rd, sizeof rd, "%s/bad", dir);
	assert_int_equal(mkdir(rd, 0755), 0);
	fx_root(&r1, t->f, 1, "abc", 2, "d", 1, "e", "f");
	ss = fx_signed_root(&r1, t->f, "abc", 0);
	assert_non_null(text = malloc(ss->len + 1));
	memcpy(text, ss->bytes, ss->len);
	text[ss->len] = '\0';
	{
		char *changed = fx_replace(text, FX_SERVER,
		    "https://127.0.0.1:9443");

		snprintf(path, sizeof path, "%s/1.cfg", rd);
		assert_int_equal(fs_write_atomic(path, changed,
		    strlen(changed), 0644, &e), 0);
		free(changed);
	}
	for (i = 0; i < ss->nsigs; i++)
		assert_int_equal(sigset_write_sig(rd, "1.cfg", ss->texts[i],
		    ss->textlens[i], &e), 0);
	free(text);
	sigset_free(ss);
	assert_int_equal(trust_open(rd, NULL, t->data, &tr, &e),
	    MUSTER_ECONFIG);
	assert_null(tr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(chain),
		cmocka_unit_test(manifests),
		cmocka_unit_test(roles),
		cmocka_unit_test(legacy),
		cmocka_unit_test(tampered),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
