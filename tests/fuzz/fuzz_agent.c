/*
 * fuzz_agent: what the on-device agent parses from outside its process
 * (agent/install.c, agent/consent.c, lib/report.c).  Each input goes,
 * whole, to:
 *
 *	install_profile_json_check	as the server's profile object
 *				(GET /v1/profile), loaded as agent/run.c loads
 *				it; when it has a "profile" member that is an
 *				object (the enroll and preview answers), that
 *				too.  Checked with the fixed org key of fuzz.h
 *				for scope personnel and for scope family.
 *	consent_parse		as a family consent receipt (STATE/consent.json)
 *	policy_apply		as the server's GET /v1/policy answer, applied
 *				to a scratch state whose anchor is the fixed
 *				org key (the legacy root), reset after each
 *				input
 *	report_summary		as a spooled report (STATE/spool/N.json,
 *				sent/N.json), as `muster-agent log` reads it
 *
 * All three are JSON objects sharing field names ("profile", "serial",
 * "time"), so one corpus serves them all and no selector byte is spent.
 *
 * The fuzzer cannot sign: a "signature" that is exactly "@SIG@" is
 * replaced with the fixed org key's signature of the decoded "profile"
 * bytes, with the trusted comment describing that profile when the bytes
 * parse (else a stock minisign one), and "@SIG:TEXT@" with one whose
 * trusted comment is TEXT.  So mutated profiles and trusted comments get
 * past the signature to the checks behind it; the seeds in corpus/fuzz_agent/
 * carry real signatures by the same key.
 *
 * A profile the check accepts must be of that scope, unexpired, labelled
 * with its own id and serial, and verify again with profile_verify as the
 * same profile; with another key of the same key id, or a changed serial
 * label, it must be refused; and it cannot pass for both scopes.  A
 * receipt that parses must come back the same through consent_json; a
 * report summary must have sane fields and agree with report_build.  A
 * policy answer is refused with a message or applied; the fuzzer cannot
 * sign roots or manifests, so an applied answer changes no root.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "../../agent/install.h"
#include "../../agent/consent.h"
#include "../../agent/policy.h"
#include "../../agent/state.h"
#include "muster/report.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define B64		sodium_base64_VARIANT_ORIGINAL
#define SIG_PH		"@SIG@"
#define SIG_PH_TC	"@SIG:"
#define STOCK_TC	"timestamp:0\tfile:fuzz.cfg\thashed"

static struct sig_pubkey org_pk;
static struct sig_seckey *org_sk;
/* Another Ed25519 key that carries the org key's id. */
static struct sig_pubkey other_pk;
/* The scratch state of policy_apply. */
static char state_dir[64];

/* Removes the scratch state at exit. */
static void
state_gone(void)
{
	static const char *const files[] = { "agent.cfg", "org.pub",
	    "root.json", "manifest.json", "profiles", "" };
	char path[128];
	size_t i, n;
	struct state_anchor a;

	memset(&a, 0, sizeof a);
	(void)state_profiles_purge(state_dir, &a, &n, NULL);
	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", state_dir, files[i]);
		(void)remove(path);
	}
}

/* A legacy anchor of pk for scope, as a first-wave device holds it. */
static struct state_anchor
anchor(const struct sig_pubkey *pk, enum profile_scope scope)
{
	struct state_anchor a;

	memset(&a, 0, sizeof a);
	a.pk = *pk;
	a.scope = scope;
	if (root_legacy(pk, "https://127.0.0.1:8443",
	    "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", &a.root,
	    NULL) != 0)
		abort();
	return a;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	fuzz_org_key(&org_pk, &org_sk);
	memset(seed, 0x4e, sizeof seed);
	crypto_sign_seed_keypair(other_pk.pk, sk, seed);
	sodium_memzero(sk, sizeof sk);
	memcpy(other_pk.keyid, org_pk.keyid, sizeof other_pk.keyid);
	snprintf(state_dir, sizeof state_dir, "/tmp/fuzz_agent.XXXXXX");
	if (mkdtemp(state_dir) == NULL)
		abort();
	atexit(state_gone);
	{
		struct state_cfg c;
		struct muster_err e;

		if (state_open(state_dir, 1, &e) != 0 ||
		    state_anchor_set(state_dir, &org_pk, SCOPE_PERSONNEL,
		    &e) != 0 || state_cfg_load(state_dir, &c, &e) != 0)
			abort();
		snprintf(c.server, sizeof c.server, "https://127.0.0.1:8443");
		snprintf(c.pin, sizeof c.pin, "sha256//47DEQpj8HBSa+/TImW+5JCeu"
		    "QeRkm5NMpJWZG3hSuFU=");
		snprintf(c.device_id, sizeof c.device_id,
		    "0123456789abcdef0123456789abcdef");
		if (state_cfg_store(state_dir, &c, &e) != 0)
			abort();
	}
	return 0;
}

/*
 * The profile bytes of a profile object, decoded as install.c does, and
 * its signature (pointing into obj); NULL when it has none.
 */
static unsigned char *
decode(json_t *obj, size_t *len, const char **sig)
{
	const char *b64, *id;
	json_int_t serial;
	unsigned char *bytes;
	size_t b64len, max;

	if (!json_is_object(obj) || json_unpack(obj, "{s:s,s:I,s:s,s:s}",
	    "id", &id, "serial", &serial, "profile", &b64, "signature",
	    sig) != 0)
		return NULL;
	b64len = strlen(b64);
	if (b64len > (PROFILE_MAX_BYTES / 3 + 1) * 4)
		return NULL;
	max = b64len / 4 * 3 + 3;
	if ((bytes = malloc(max + 1)) == NULL)
		abort();
	if (sodium_base642bin(bytes, max, b64, b64len, NULL, len, NULL,
	    B64) != 0) {
		free(bytes);
		return NULL;
	}
	bytes[*len] = '\0';
	return bytes;
}

/* Replaces a placeholder signature in obj with a real one (see above). */
static void
resolve_sig(json_t *obj)
{
	struct profile *p = NULL;
	struct muster_err e;
	unsigned char *bytes;
	const char *ph = NULL;
	char tc[SIG_TRUSTED_MAX], *sig = NULL;
	size_t len = 0, siglen = 0, n;

	if ((bytes = decode(obj, &len, &ph)) == NULL)
		return;
	n = strlen(ph);
	if (strcmp(ph, SIG_PH) == 0) {
		if (profile_parse("fuzz.cfg", (const char *)bytes, len, &p,
		    NULL) != 0 || profile_trusted_comment(p, tc,
		    sizeof tc) != 0)
			snprintf(tc, sizeof tc, "%s", STOCK_TC);
		profile_free(p);
	} else if (n > strlen(SIG_PH_TC) && n - strlen(SIG_PH_TC) <=
	    sizeof tc && strncmp(ph, SIG_PH_TC, strlen(SIG_PH_TC)) == 0 &&
	    ph[n - 1] == '@') {
		memcpy(tc, ph + strlen(SIG_PH_TC), n - strlen(SIG_PH_TC) - 1);
		tc[n - strlen(SIG_PH_TC) - 1] = '\0';
	} else
		goto out;
	/* What sig_sign refuses, the fuzzer keeps as an unsigned text. */
	if (len > PROFILE_MAX_BYTES || !sig_trusted_ok(tc) ||
	    sig_sign(org_sk, bytes, len, tc, NULL, &sig, &siglen, &e) != 0)
		goto out;
	if (json_object_set_new(obj, "signature", json_stringn(sig,
	    siglen)) != 0)
		abort();
out:
	free(sig);
	free(bytes);
}

/* p, accepted from obj for scope, verifies again as the same profile. */
static void
verify_again(json_t *obj, enum profile_scope scope, const struct profile *p)
{
	struct state_anchor a;
	struct profile *q = NULL;
	struct muster_err e;
	unsigned char *bytes;
	const char *sig = NULL, *id = NULL;
	json_int_t serial = 0;
	json_t *tampered;
	size_t len = 0;
	int rc;

	FUZZ_ASSERT(json_unpack(obj, "{s:s,s:I}", "id", &id, "serial",
	    &serial) == 0, "accepted an object without labels");
	FUZZ_ASSERT(p->scope == scope, "accepted scope %s for %s",
	    profile_scope_name(p->scope), profile_scope_name(scope));
	FUZZ_ASSERT(p->expires > time(NULL), "accepted a profile expired on "
	    "%s", p->expires_str);
	FUZZ_ASSERT(strcmp(p->id, id) == 0 && p->serial == serial,
	    "accepted \"%s\" %lld labelled \"%s\" %lld", p->id,
	    (long long)p->serial, id, (long long)serial);
	FUZZ_ASSERT(p->serial >= 1 && p->nrules > 0,
	    "accepted a profile without serial or rules");

	bytes = decode(obj, &len, &sig);
	FUZZ_ASSERT(bytes != NULL, "accepted an object that does not decode");
	rc = profile_verify("again", (const char *)bytes, len, "again.minisig",
	    sig, strlen(sig), &org_pk, &q, NULL, &e);
	FUZZ_ASSERT(rc == 0, "an accepted profile does not verify: %s", e.msg);
	FUZZ_ASSERT(strcmp(q->id, p->id) == 0 && q->serial == p->serial &&
	    q->scope == p->scope && q->expires == p->expires &&
	    q->nrules == p->nrules, "verified as another profile");
	profile_free(q);
	free(bytes);

	q = NULL;
	a = anchor(&other_pk, scope);
	rc = install_profile_json_check(&a, "other key", obj, &q, NULL, &e);
	FUZZ_ASSERT(rc == MUSTER_ETRUST && q == NULL,
	    "accepted with another key of the same id: %d", rc);

	if ((tampered = json_deep_copy(obj)) == NULL ||
	    json_object_set_new(tampered, "serial", json_integer(
	    serial == INT64_MAX ? serial - 1 : serial + 1)) != 0)
		abort();
	a = anchor(&org_pk, scope);
	rc = install_profile_json_check(&a, "tampered", tampered, &q, NULL,
	    &e);
	FUZZ_ASSERT(rc == MUSTER_ETRUST && q == NULL,
	    "accepted with a changed serial label: %d", rc);
	json_decref(tampered);
}

/* One profile object, for both scopes. */
static void
check_object(json_t *obj)
{
	static const enum profile_scope scopes[] = { SCOPE_PERSONNEL,
	    SCOPE_FAMILY };
	struct state_anchor a;
	struct profile *p;
	struct muster_err e;
	size_t i, passed = 0;
	int rc;

	resolve_sig(obj);
	for (i = 0; i < sizeof scopes / sizeof scopes[0]; i++) {
		p = NULL;
		e.msg[0] = '\0';
		a = anchor(&org_pk, scopes[i]);
		rc = install_profile_json_check(&a, "server profile", obj, &p,
		    NULL, &e);
		if (rc != 0) {
			FUZZ_ASSERT(p == NULL, "a refusal returned a profile");
			FUZZ_ASSERT(rc == MUSTER_EDATA || rc == MUSTER_ETRUST ||
			    rc == MUSTER_EINTERNAL, "unexpected error %d", rc);
			FUZZ_ASSERT(e.msg[0] != '\0', "a refusal without a "
			    "message");
			continue;
		}
		FUZZ_ASSERT(p != NULL, "accepted without a profile");
		verify_again(obj, scopes[i], p);
		profile_free(p);
		passed++;
	}
	FUZZ_ASSERT(passed < 2, "one profile passed for both scopes");
}

static void
fuzz_install(const uint8_t *data, size_t size)
{
	json_t *o, *inner;

	if ((o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL)
		return;
	check_object(o);
	if ((inner = json_object_get(o, "profile")) != NULL &&
	    json_is_object(inner))
		check_object(inner);
	json_decref(o);
}

static void
same_consent(const struct consent *a, const struct consent *b)
{
	size_t i;

	FUZZ_ASSERT(strcmp(a->text_hash, b->text_hash) == 0 &&
	    strcmp(a->time, b->time) == 0 && strcmp(a->token, b->token) == 0 &&
	    strcmp(a->profile, b->profile) == 0 && a->serial == b->serial &&
	    a->nrules == b->nrules, "consent_json gave another receipt");
	for (i = 0; i < a->nrules; i++)
		FUZZ_ASSERT(strcmp(a->rules[i].rule, b->rules[i].rule) == 0 &&
		    strcmp(a->rules[i].change, b->rules[i].change) == 0,
		    "remediate entry %zu changed", i + 1);
}

static void
fuzz_consent(const uint8_t *data, size_t size)
{
	struct consent c, c2;
	struct muster_err e;
	json_t *j;
	char *s;
	int rc;

	e.msg[0] = '\0';
	rc = consent_parse("consent.json", (const char *)data, size, &c, &e);
	if (rc != 0) {
		FUZZ_ASSERT(rc == MUSTER_EDATA || rc == MUSTER_EINTERNAL,
		    "consent_parse: %d", rc);
		FUZZ_ASSERT(c.rules == NULL && c.nrules == 0 &&
		    e.msg[0] != '\0', "a refused receipt kept rules");
		return;
	}
	FUZZ_ASSERT(strlen(c.text_hash) == CONSENT_HASH_HEX - 1 &&
	    strlen(c.token) == TOKEN_ID_HEX - 1 &&
	    (c.profile[0] == '\0') == (c.serial == 0) &&
	    c.nrules <= PROFILE_MAX_RULES, "a receipt with bad fields");
	/* What the agent would write for c reads back as c. */
	if ((j = consent_json(&c)) == NULL || (s = json_dumps(j, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) == NULL)
		abort();
	rc = consent_parse("again", s, strlen(s), &c2, &e);
	FUZZ_ASSERT(rc == 0, "a written receipt does not parse: %s\n%s",
	    e.msg, s);
	same_consent(&c, &c2);
	consent_free(&c2);
	free(s);
	json_decref(j);
	consent_free(&c);
}

static const struct report_result one_fail = { "r", "fail", NULL };

static void
fuzz_report(const uint8_t *data, size_t size)
{
	struct report_summary s, s2;
	struct report_in in;
	struct muster_err e;
	char *json = NULL;
	size_t len = 0;
	time_t t;
	int rc;

	e.msg[0] = '\0';
	rc = report_summary((const char *)data, size, &s, &e);
	if (rc != 0) {
		FUZZ_ASSERT(rc == MUSTER_EDATA && e.msg[0] != '\0',
		    "report_summary: %d", rc);
		return;
	}
	FUZZ_ASSERT(s.seq >= 1 && s.dropped >= 0 &&
	    memchr(s.time, '\0', sizeof s.time) != NULL &&
	    memchr(s.status, '\0', sizeof s.status) != NULL,
	    "a summary with bad fields");
	/* A report the agent could have written reads back the same. */
	if (timefmt_parse(s.time, &t) != 0 ||
	    (strcmp(s.status, "compliant") != 0 &&
	    strcmp(s.status, "noncompliant") != 0))
		return;
	memset(&in, 0, sizeof in);
	in.scope = SCOPE_FAMILY;
	in.device = "0123456789abcdef0123456789abcdef";
	in.seq = s.seq;
	in.time = t;
	in.profile = "p";
	in.serial = 1;
	in.compliant = strcmp(s.status, "compliant") == 0;
	in.dropped = s.dropped;
	/* A family report's status is its (randomized) answers': one fail. */
	in.results = in.compliant ? NULL : &one_fail;
	in.nresults = in.compliant ? 0 : 1;
	FUZZ_ASSERT(report_build(&in, &json, &len, &e) == 0, "report_build: "
	    "%s", e.msg);
	FUZZ_ASSERT(report_summary(json, len, &s2, &e) == 0 &&
	    s2.seq == s.seq && s2.dropped == s.dropped &&
	    strcmp(s2.time, s.time) == 0 && strcmp(s2.status, s.status) == 0,
	    "a built report reads back otherwise: %s", json);
	free(json);
}

static void
fuzz_policy(const uint8_t *data, size_t size)
{
	struct policy_outcome po;
	struct state_anchor a;
	struct muster_err e;
	size_t n;
	int rc;

	a = anchor(&org_pk, SCOPE_PERSONNEL);
	e.msg[0] = '\0';
	rc = policy_apply(state_dir, &a, (const char *)data, size,
	    time(NULL), &po, &e);
	if (rc != 0)
		FUZZ_ASSERT((rc == MUSTER_EDATA || rc == MUSTER_ETRUST ||
		    rc == MUSTER_EINTERNAL) && e.msg[0] != '\0',
		    "policy_apply: %d without a message", rc);
	FUZZ_ASSERT(po.root_to == 1 && !a.has_root,
	    "an unsigned answer moved the root to %lld",
	    (long long)po.root_to);
	/* Whatever it wrote goes: every input starts from the same state. */
	(void)state_manifest_remove(state_dir, NULL);
	(void)state_profiles_purge(state_dir, &a, &n, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_install(data, size);
	fuzz_consent(data, size);
	fuzz_report(data, size);
	fuzz_policy(data, size);
	return 0;
}
