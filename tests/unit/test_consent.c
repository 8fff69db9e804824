/*
 * Unit tests for agent/consent.c: the consent text is fixed (its hash is
 * pinned, so a change of wording must come with a new version line), the
 * profile section shows the changes asked for or none, a change's hash
 * follows exactly what the rule does, a receipt survives the round trip
 * and a malformed one is refused, and a consent covers a rule only as it
 * was shown.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "../../agent/consent.h"

#define TOKEN_ID	"0123456789abcdef"

/*
 * BLAKE2b-256 of the text shown when no family profile is published.
 * If this test fails the wording changed: bump "muster-consent-v2" in
 * agent/consent.c with it, then pin the new hash here.
 */
#define TEXT_NONE_HASH \
	"0a46bd17a57eb4a05665974b73bebf5b06619da7ab15490ecfd7deb6d3419c91"

static const char fam_v1[] =
"id = \"fam\";\nserial = 1;\nexpires = \"2030-01-01T00:00:00Z\";\n"
"scope = \"family\";\n"
"rules = (\n"
"  { id = \"ban\"; kind = \"model-ban\"; severity = \"high\"; title = \"b\";\n"
"    manufacturer = \"Xiaomi\"; models = [ \"HM 1SW\" ]; },\n"
"  { id = \"msg\"; kind = \"setting\"; severity = \"high\"; title = \"m\";\n"
"    namespace = \"secure\"; key = \"k\"; expect = \"0\";\n"
"    action = \"remediate\"; },\n"
"  { id = \"rep\"; kind = \"setting\"; severity = \"low\"; title = \"r\";\n"
"    namespace = \"secure\"; key = \"r\"; expect = \"0\";\n"
"    action = \"report\"; },\n"
"  { id = \"apps\"; kind = \"package-ban\"; severity = \"low\";\n"
"    title = \"a\"; packages = [ \"p.one\" ]; action = \"disable\"; }\n"
");\n";

static struct profile *
parse(const char *text)
{
	struct profile *p = NULL;
	struct muster_err e;

	if (profile_parse("t", text, strlen(text), &p, &e) != 0)
		fail_msg("%s", e.msg);
	return p;
}

/* fam_v1 with one substitution (from, to) made. */
static struct profile *
parse_edit(const char *from, const char *to)
{
	char buf[2048], *at;
	struct profile *p;

	at = strstr(fam_v1, from);
	assert_non_null(at);
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - fam_v1), fam_v1, to,
	    at + strlen(from));
	p = parse(buf);
	return p;
}

static const struct rule *
rule(const struct profile *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	fail_msg("no rule %s", id);
	return NULL;
}

static void
text_fixed(void **state)
{
	unsigned char h[crypto_generichash_BYTES];
	char hex[2 * sizeof h + 1], *a = NULL, *b = NULL;
	size_t alen, blen;
	struct muster_err e;

	(void)state;
	assert_int_equal(consent_text(NULL, 0, &a, &alen, &e), 0);
	assert_int_equal(consent_text(NULL, 1, &b, &blen, &e), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	assert_int_equal(strncmp(a, consent_text_base(),
	    strlen(consent_text_base())), 0);
	assert_int_equal(strncmp(a, "muster-consent-v2\n", 18), 0);
	/* The text says what the noise hides, as a number. */
	assert_non_null(strstr(a, "3 times in 4"));
	assert_non_null(strstr(a, "ln 3 per rule"));
	assert_null(strstr(a, "remediated or error"));
	assert_non_null(strstr(a, "No family profile is published"));
	assert_non_null(strstr(a, "IMEI"));
	assert_non_null(strstr(a, "muster-agent unenroll"));
	crypto_generichash(h, sizeof h, (const unsigned char *)a, alen, NULL,
	    0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	assert_string_equal(hex, TEXT_NONE_HASH);
	free(a);
	free(b);
}

/* Rules that tell more together are said to, from the profile itself. */
static void
text_together(void **state)
{
	struct profile *p = parse_edit("key = \"r\"", "key = \"k\"");
	struct muster_err e;
	char *a = NULL;
	size_t alen;

	(void)state;
	assert_int_equal(consent_text(p, 0, &a, &alen, &e), 0);
	assert_non_null(strstr(a, "Together: 2 rules (msg, rep) together "
	    "tell the value of the setting secure/k; together epsilon 2 x "
	    "ln 3 = 2.20 (each answer still randomized as above).\n"));
	free(a);
	profile_free(p);
}

static void
text_profile(void **state)
{
	struct profile *p = parse(fam_v1);
	struct muster_err e;
	char *a = NULL, *r = NULL;
	size_t alen, rlen;

	(void)state;
	assert_int_equal(consent_text(p, 0, &a, &alen, &e), 0);
	assert_int_equal(consent_text(p, 1, &r, &rlen, &e), 0);
	assert_int_equal(strlen(a), alen);
	assert_non_null(strstr(a, "\"fam\" serial 1"));
	assert_non_null(strstr(a, "you allow: set secure/k to \"0\""));
	assert_non_null(strstr(a, "you allow: disable those apps"));
	assert_non_null(strstr(a, "Changes you allow: 2,"));
	/* Rule by rule: what a result tells, how much the noise hides. */
	assert_non_null(strstr(a, "its result tells: whether the phone is "
	    "one of 1 Xiaomi model named\n"));
	assert_non_null(strstr(a, "its result tells: whether the setting "
	    "secure/k is \"0\"\n"));
	assert_non_null(strstr(a, "its result tells: whether any of 1 named "
	    "app is installed and enabled\n"));
	assert_non_null(strstr(a, "the answer sent: the true result 3 times "
	    "in 4\n"));
	/* Two settings on different keys: nothing to add together. */
	assert_null(strstr(a, "Together:"));
	/* A report-only rule is never offered as a change. */
	assert_null(strstr(a, "set secure/r"));
	assert_null(strstr(r, "you allow: set"));
	assert_null(strstr(r, "you allow: disable"));
	assert_non_null(strstr(r, "you allow no change"));
	assert_non_null(strstr(r, "Changes you allow: none"));
	free(a);
	free(r);
	profile_free(p);
}

static void
change_hash(void **state)
{
	struct profile *p = parse(fam_v1), *q;
	char h1[CONSENT_HASH_HEX], h2[CONSENT_HASH_HEX];

	(void)state;
	assert_true(consent_rule_changes(rule(p, "msg")));
	assert_true(consent_rule_changes(rule(p, "apps")));
	assert_false(consent_rule_changes(rule(p, "rep")));
	assert_false(consent_rule_changes(rule(p, "ban")));
	consent_change_hash(rule(p, "msg"), h1);
	q = parse(fam_v1);
	consent_change_hash(rule(q, "msg"), h2);
	assert_string_equal(h1, h2);
	profile_free(q);
	/* Another value, key, or package list: another change. */
	q = parse_edit("expect = \"0\";\n    action = \"remediate\"",
	    "expect = \"1\";\n    action = \"remediate\"");
	consent_change_hash(rule(q, "msg"), h2);
	assert_string_not_equal(h1, h2);
	profile_free(q);
	q = parse_edit("key = \"k\"", "key = \"kk\"");
	consent_change_hash(rule(q, "msg"), h2);
	assert_string_not_equal(h1, h2);
	profile_free(q);
	consent_change_hash(rule(p, "apps"), h1);
	q = parse_edit("[ \"p.one\" ]", "[ \"p.one\", \"p.two\" ]");
	consent_change_hash(rule(q, "apps"), h2);
	assert_string_not_equal(h1, h2);
	profile_free(q);
	profile_free(p);
}

static void
receipt_round_trip(void **state)
{
	struct profile *p = parse(fam_v1), *q;
	struct consent c, back;
	struct muster_err e;
	json_t *o;
	char *s, *text = NULL;
	size_t len;

	(void)state;
	assert_int_equal(consent_text(p, 0, &text, &len, &e), 0);
	assert_int_equal(consent_make(&c, text, len, TOKEN_ID, 1795255200, p,
	    NULL, 0, &e), 0);
	assert_int_equal(c.nrules, 2);
	assert_non_null(o = consent_json(&c));
	assert_non_null(s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER));
	assert_non_null(strstr(s, "\"time\":\"2026-11-21T10:00:00Z\","
	    "\"token\":\"" TOKEN_ID "\",\"profile\":\"fam\",\"serial\":1,"
	    "\"remediate\":[{\"rule\":\"msg\",\"change\":\""));
	assert_int_equal(consent_parse("r", s, strlen(s), &back, &e), 0);
	assert_string_equal(back.text_hash, c.text_hash);
	assert_string_equal(back.token, TOKEN_ID);
	assert_string_equal(back.profile, "fam");
	assert_int_equal(back.nrules, 2);
	/* Covered as shown; not once it changes; never a report rule. */
	assert_true(consent_covers(&back, rule(p, "msg")));
	assert_true(consent_covers(&back, rule(p, "apps")));
	assert_false(consent_covers(&back, rule(p, "rep")));
	assert_false(consent_covers(&back, rule(p, "ban")));
	assert_false(consent_covers(NULL, rule(p, "msg")));
	q = parse_edit("[ \"p.one\" ]", "[ \"p.one\", \"p.two\" ]");
	assert_false(consent_covers(&back, rule(q, "apps")));
	assert_true(consent_covers(&back, rule(q, "msg")));
	profile_free(q);
	consent_free(&back);
	consent_free(&c);
	free(s);
	json_decref(o);
	/* Report only: nothing covered. */
	assert_int_equal(consent_make(&c, text, len, TOKEN_ID, 1795255200, p,
	    NULL, 1, &e), 0);
	assert_int_equal(c.nrules, 0);
	assert_false(consent_covers(&c, rule(p, "msg")));
	consent_free(&c);
	free(text);
	profile_free(p);
}

/* The receipt names the profile's bytes; what the rules read is hashed. */
static void
receipt_hash(void **state)
{
	struct profile *p = parse(fam_v1), *q;
	struct consent c, back;
	struct muster_err e;
	json_t *o;
	char *s, ra[CONSENT_HASH_HEX], rb[CONSENT_HASH_HEX];
	static const char h[] = "0123456789abcdef0123456789abcdef"
	    "0123456789abcdef0123456789abcdef";

	(void)state;
	assert_int_equal(consent_make(&c, "t", 1, TOKEN_ID, 1795255200, p, h,
	    0, &e), 0);
	assert_non_null(o = consent_json(&c));
	assert_non_null(s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER));
	assert_non_null(strstr(s, "\"serial\":1,\"hash\":\"0123456789abcdef"));
	assert_int_equal(consent_parse("r", s, strlen(s), &back, &e), 0);
	assert_string_equal(back.hash, h);
	consent_free(&back);
	free(s);
	json_decref(o);
	consent_free(&c);
	/* Reads: the same profile, the same hash; another package, not. */
	consent_reads_hash(p, ra);
	consent_reads_hash(p, rb);
	assert_string_equal(ra, rb);
	q = parse_edit("[ \"p.one\" ]", "[ \"p.one\", \"p.two\" ]");
	consent_reads_hash(q, rb);
	assert_string_not_equal(ra, rb);
	profile_free(q);
	profile_free(p);
}

static void
receipt_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		/* unknown field */
		"{\"text_hash\":\"%s\",\"time\":\"2026-11-21T10:00:00Z\","
		"\"token\":\"" TOKEN_ID "\",\"remediate\":[],\"imei\":\"1\"}",
		/* a rule twice */
		"{\"text_hash\":\"%s\",\"time\":\"2026-11-21T10:00:00Z\","
		"\"token\":\"" TOKEN_ID "\",\"remediate\":[{\"rule\":\"a\","
		"\"change\":\"%s\"},{\"rule\":\"a\",\"change\":\"%s\"}]}",
		/* serial without profile */
		"{\"text_hash\":\"%s\",\"time\":\"2026-11-21T10:00:00Z\","
		"\"token\":\"" TOKEN_ID "\",\"serial\":1,\"remediate\":[]}",
		/* bad time */
		"{\"text_hash\":\"%s\",\"time\":\"yesterday\","
		"\"token\":\"" TOKEN_ID "\",\"remediate\":[]}",
		/* short token */
		"{\"text_hash\":\"%s\",\"time\":\"2026-11-21T10:00:00Z\","
		"\"token\":\"0123\",\"remediate\":[]}",
		/* extra field in an entry */
		"{\"text_hash\":\"%s\",\"time\":\"2026-11-21T10:00:00Z\","
		"\"token\":\"" TOKEN_ID "\",\"remediate\":[{\"rule\":\"a\","
		"\"change\":\"%s\",\"x\":1}]}",
		/* uppercase hex */
		"{\"text_hash\":\"%s\",\"time\":\"2026-11-21T10:00:00Z\","
		"\"token\":\"" TOKEN_ID "\",\"remediate\":[{\"rule\":\"a\","
		"\"change\":\"%.63sF\"}]}",
	};
	char hex[CONSENT_HASH_HEX], buf[1024];
	struct consent c;
	struct muster_err e;
	size_t i;

	(void)state;
	memset(hex, 'a', sizeof hex - 1);
	hex[sizeof hex - 1] = '\0';
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, bad[i], hex, hex, hex);
		if (consent_parse("r", buf, strlen(buf), &c, &e) !=
		    MUSTER_EDATA)
			fail_msg("accepted: %s", buf);
		assert_null(c.rules);
	}
	snprintf(buf, sizeof buf, "{\"text_hash\":\"%s\",\"time\":"
	    "\"2026-11-21T10:00:00Z\",\"token\":\"" TOKEN_ID "\","
	    "\"remediate\":[]}", hex);
	assert_int_equal(consent_parse("r", buf, strlen(buf), &c, &e), 0);
	assert_string_equal(c.profile, "");
	consent_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_fixed),
		cmocka_unit_test(text_profile),
		cmocka_unit_test(text_together),
		cmocka_unit_test(change_hash),
		cmocka_unit_test(receipt_round_trip),
		cmocka_unit_test(receipt_refused),
		cmocka_unit_test(receipt_hash),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
