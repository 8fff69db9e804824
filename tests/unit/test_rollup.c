/*
 * rollup: roll-ups and the device list over a temporary store built with
 * the store API.  Counts by unit, model, scope and rule; stale and never;
 * the past from history (as_of); k-anonymity with 4 and with 5 family
 * devices in a unit; CSV quoting; the JSON shape; an empty store; the
 * HTTP entry point; the personnel-only device list.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/profile.h"
#include "muster/rr.h"
#include "muster/timefmt.h"
#include "../../server/rollup.h"
#include "../../server/store.h"
#include "unit_store.h"

#define E0	1700000000	/* enrollment time of the history tests */

static void
tx(struct fx *f, int rc)
{
	struct muster_err e;

	assert_int_equal(rc, 0);
	assert_int_equal(store_commit(f->st, &e), 0);
}

#define IN_TX(f, call)	do {						\
	struct muster_err e_;						\
	assert_int_equal(store_begin((f)->st, &e_), 0);			\
	tx((f), (call));						\
} while (0)

static void
dev_id(int n, char id[DEVICE_ID_HEX])
{
	snprintf(id, DEVICE_ID_HEX, "%032x", (unsigned)n);
}

/* Enrolls device n. */
static void
dev(struct fx *f, int n, enum profile_scope scope, const char *unit,
    const char *model, time_t enrolled)
{
	struct store_device d;
	struct muster_err e;

	memset(&d, 0, sizeof d);
	dev_id(n, d.id);
	randombytes_buf(d.pk, sizeof d.pk);
	d.scope = scope;
	snprintf(d.unit, sizeof d.unit, "%s", unit);
	snprintf(d.person, sizeof d.person, "P-%d", n);
	snprintf(d.model, sizeof d.model, "%s", model);
	snprintf(d.token_id, sizeof d.token_id, "%016x", (unsigned)n);
	d.enrolled = enrolled;
	IN_TX(f, store_device_add(f->st, &d, 1900000000, &e));
}

/* Stores report seq of device n at time t failing the NULL-ended rules. */
static void
rep(struct fx *f, int n, int64_t seq, time_t t, ...)
{
	const char *failing[8];
	struct store_report r;
	struct muster_err e;
	enum store_put res;
	char id[DEVICE_ID_HEX], body[64];
	size_t nf = 0;
	va_list ap;

	va_start(ap, t);
	while (nf < 8 && (failing[nf] = va_arg(ap, const char *)) != NULL)
		nf++;
	va_end(ap);
	dev_id(n, id);
	snprintf(body, sizeof body, "{\"seq\":%lld}", (long long)seq);
	memset(&r, 0, sizeof r);
	r.device = id;
	r.seq = seq;
	r.time = t;
	r.profile = "p";
	r.serial = 1;
	r.compliant = nf == 0;
	r.failing = failing;
	r.nfailing = nf;
	r.body = (const unsigned char *)body;
	r.len = strlen(body);
	IN_TX(f, store_report_put(f->st, &r, &res, &e));
	assert_int_equal(res, STORE_STORED);
}

static void
dev_revoke(struct fx *f, int n)
{
	struct muster_err e;
	char id[DEVICE_ID_HEX];

	dev_id(n, id);
	IN_TX(f, store_revoke(f->st, id, &e));
}

/* Publishes a profile of scope with rules "a,b,c" (ids, severity high). */
static void
publish(struct fx *f, const char *scope, int interval, const char *rules)
{
	struct profile *p = NULL;
	struct muster_err e;
	char buf[2048], ids[128], *tok, *save = NULL;
	size_t n;

	n = (size_t)snprintf(buf, sizeof buf, "id = \"%s\";\nserial = 1;\n"
	    "expires = \"2030-01-01T00:00:00Z\";\nscope = \"%s\";\n"
	    "report_interval = %d;\nrules = (", scope, scope, interval);
	snprintf(ids, sizeof ids, "%s", rules);
	for (tok = strtok_r(ids, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%s{ id = "
		    "\"%s\"; kind = \"os-min\"; severity = \"high\"; title = "
		    "\"Rule %s\"; min_version = \"4.4\"; }",
		    buf[n - 1] == '(' ? "" : ", ", tok, tok);
	snprintf(buf + n, sizeof buf - n, ");\n");
	if (profile_parse("t", buf, strlen(buf), &p, &e) != 0)
		fail_msg("%s", e.msg);
	IN_TX(f, store_profile_put(f->st, p, buf, strlen(buf), "sig", 3, &e));
	profile_free(p);
}

static struct rollup *
roll_at(struct fx *f, enum rollup_by by, time_t as_of, time_t now)
{
	struct rollup_query q = { by, as_of, now };
	struct rollup_db *db = NULL;
	struct rollup *r = NULL;
	struct muster_err e;

	if (rollup_open(f->data, &db, &e) != 0)
		fail_msg("rollup_open: %s", e.msg);
	if (rollup_compute(db, &q, &r, &e) != 0)
		fail_msg("rollup_compute: %s", e.msg);
	rollup_close(db);
	return r;
}

static struct rollup *
roll(struct fx *f, enum rollup_by by)
{
	return roll_at(f, by, 0, 0);
}

static const struct rollup_counts *
group(const struct rollup *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i].key, key) == 0)
			return &r->groups[i].c;
	fail_msg("no group \"%s\"", key);
	return NULL;
}

static const struct rollup_rule *
rule(const struct rollup *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->nrules; i++)
		if (strcmp(r->rules[i].id, id) == 0)
			return &r->rules[i];
	fail_msg("no rule \"%s\"", id);
	return NULL;
}

/* Checks devices, compliant, noncompliant, stale, never. */
static void
counts_is(const struct rollup_counts *c, int64_t dev, int64_t ok,
    int64_t nok, int64_t stale, int64_t never)
{
	assert_non_null(c);
	assert_int_equal(c->devices, dev);
	assert_int_equal(c->n[ROLLUP_COMPLIANT], ok);
	assert_int_equal(c->n[ROLLUP_NONCOMPLIANT], nok);
	assert_int_equal(c->n[ROLLUP_STALE], stale);
	assert_int_equal(c->n[ROLLUP_NEVER], never);
}

/* r written in fmt, malloc'd. */
static char *
text(const struct rollup *r, enum rollup_format fmt)
{
	struct muster_err e;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(rollup_write(r, fmt, fp, &e), 0);
	fclose(fp);
	return buf;
}

static char *
devices_text(struct fx *f, const char *unit, int status,
    enum rollup_format fmt)
{
	struct rollup_devq q = { unit, status, 0 };
	struct rollup_db *db = NULL;
	struct muster_err e;
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(rollup_open(f->data, &db, &e), 0);
	if (rollup_devices(db, &q, fmt, fp, &e) != 0)
		fail_msg("rollup_devices: %s", e.msg);
	rollup_close(db);
	fclose(fp);
	return buf;
}

/* Units A and B: personnel in every state, two models and none. */
static void
fleet(struct fx *f)
{
	time_t now = time(NULL);

	publish(f, "personnel", 3600, "r1,r2,r3");
	dev(f, 1, SCOPE_PERSONNEL, "A", "Xiaomi HM 1SW", E0);
	dev(f, 2, SCOPE_PERSONNEL, "A", "Xiaomi HM 1SW", E0);
	dev(f, 3, SCOPE_PERSONNEL, "A", "", E0);
	dev(f, 4, SCOPE_PERSONNEL, "B", "LGE Nexus 5", E0);
	dev(f, 5, SCOPE_PERSONNEL, "B", "", E0);
	rep(f, 1, 1, now, NULL);
	rep(f, 2, 1, now, "r1", "r2", NULL);
	rep(f, 4, 1, now, NULL);
	rep(f, 5, 1, now, NULL);
	rep(f, 5, 2, now, "r1", NULL);
}

static void
empty_store(void **state)
{
	struct fx *f = *state;
	struct rollup_db *db = NULL;
	struct rollup *r;
	struct muster_err e;
	char path[160], *s;
	json_t *j;

	r = roll(f, ROLLUP_BY_UNIT);
	assert_int_equal(r->ngroups, 0);
	counts_is(&r->total, 0, 0, 0, 0, 0);
	s = text(r, ROLLUP_FMT_TABLE);
	assert_non_null(strstr(s, "TOTAL        0          0             0      0      0  0\n"));
	free(s);
	s = text(r, ROLLUP_FMT_CSV);
	assert_string_equal(s, "unit,devices,compliant,noncompliant,stale,"
	    "never,family,family_withheld,family_reporting,"
	    "family_compliant_pct,family_compliant_lo,family_compliant_hi,"
	    "family_estimate\r\n,0,0,0,0,0,0,no,,,,,none\r\n");
	free(s);
	s = text(r, ROLLUP_FMT_JSON);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "groups")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "total"), "devices")), 0);
	json_decref(j);
	free(s);
	rollup_free(r);

	r = roll(f, ROLLUP_BY_SCOPE);
	assert_int_equal(r->ngroups, 2);
	assert_string_equal(r->groups[0].key, "personnel");
	assert_string_equal(r->groups[1].key, "family");
	rollup_free(r);
	r = roll(f, ROLLUP_BY_RULE);
	assert_int_equal(r->nrules, 0);
	assert_int_equal(r->total.devices, 0);
	s = text(r, ROLLUP_FMT_TABLE);
	assert_non_null(strstr(s, "TOTAL"));
	free(s);
	rollup_free(r);

	/* A data directory the server has not written yet: empty too. */
	snprintf(path, sizeof path, "%s/fresh", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(rollup_open(path, &db, &e), 0);
	{
		struct rollup_query q = { ROLLUP_BY_MODEL, 0, 0 };

		assert_int_equal(rollup_compute(db, &q, &r, &e), 0);
		counts_is(&r->total, 0, 0, 0, 0, 0);
		rollup_free(r);
	}
	rollup_close(db);
	/* None at all: 66; one others can read: 78. */
	snprintf(path, sizeof path, "%s/none", f->dir);
	assert_int_equal(rollup_open(path, &db, &e), MUSTER_ENOINPUT);
	assert_null(db);
	assert_int_equal(chmod(f->data, 0750), 0);
	assert_int_equal(rollup_open(f->data, &db, &e), MUSTER_ECONFIG);
	assert_int_equal(chmod(f->data, 0700), 0);
}

static void
present(void **state)
{
	struct fx *f = *state;
	struct rollup *r;

	fleet(f);
	r = roll(f, ROLLUP_BY_UNIT);
	assert_int_equal(r->ngroups, 2);
	assert_string_equal(r->groups[0].key, "A");
	counts_is(group(r, "A"), 3, 1, 1, 0, 1);
	counts_is(group(r, "B"), 2, 1, 1, 0, 0);
	counts_is(&r->total, 5, 2, 2, 0, 1);
	assert_int_equal(r->stale_after[0], 7200);
	assert_int_equal(r->stale_after[1], 2 * PROFILE_DEFAULT_REPORT_INTERVAL);
	rollup_free(r);

	r = roll(f, ROLLUP_BY_MODEL);
	assert_int_equal(r->ngroups, 3);
	assert_string_equal(r->groups[0].key, "LGE Nexus 5");
	assert_string_equal(r->groups[2].key, "unknown");
	counts_is(group(r, "Xiaomi HM 1SW"), 2, 1, 1, 0, 0);
	counts_is(group(r, "LGE Nexus 5"), 1, 1, 0, 0, 0);
	counts_is(group(r, "unknown"), 2, 0, 1, 0, 1);
	rollup_free(r);

	r = roll(f, ROLLUP_BY_SCOPE);
	counts_is(group(r, "personnel"), 5, 2, 2, 0, 1);
	counts_is(group(r, "family"), 0, 0, 0, 0, 0);
	rollup_free(r);

	r = roll(f, ROLLUP_BY_RULE);
	assert_int_equal(r->nrules, 3);
	assert_string_equal(r->rules[0].id, "r1");
	assert_int_equal(rule(r, "r1")->failing, 2);
	assert_int_equal(rule(r, "r2")->failing, 1);
	assert_int_equal(rule(r, "r3")->failing, 0);
	assert_int_equal(rule(r, "r3")->devices, 5);
	assert_string_equal(rule(r, "r2")->title, "Rule r2");
	assert_string_equal(rule(r, "r2")->severity, "high");
	assert_int_equal(rule(r, "r1")->scopes, 1u << SCOPE_PERSONNEL);
	assert_int_equal(r->failing_any, 2);
	assert_int_equal(r->total.devices, 5);
	rollup_free(r);

	/* Three hours on, with a 3600 s interval: every report is stale. */
	r = roll_at(f, ROLLUP_BY_UNIT, 0, time(NULL) + 3 * 3600);
	counts_is(group(r, "A"), 3, 0, 0, 2, 1);
	counts_is(group(r, "B"), 2, 0, 0, 2, 0);
	rollup_free(r);

	/* A revoked device is no longer counted, nor are its rules. */
	dev_revoke(f, 5);
	r = roll(f, ROLLUP_BY_UNIT);
	counts_is(group(r, "B"), 1, 1, 0, 0, 0);
	rollup_free(r);
	r = roll(f, ROLLUP_BY_RULE);
	assert_int_equal(rule(r, "r1")->failing, 1);
	assert_int_equal(rule(r, "r1")->devices, 4);
	rollup_free(r);
}

static void
kanon(void **state)
{
	struct fx *f = *state;
	struct rollup *r;
	time_t now = time(NULL);
	char *s;
	int i;

	publish(f, "family", 21600, "r1,f1");
	/* F: one personnel and four family; G: three family only. */
	dev(f, 1, SCOPE_PERSONNEL, "F", "Xiaomi HM 1SW", E0);
	rep(f, 1, 1, now, NULL);
	for (i = 10; i < 14; i++) {
		dev(f, i, SCOPE_FAMILY, "F", "", E0);
		if (i == 13)
			rep(f, i, 1, now, "f1", NULL);
		else
			rep(f, i, 1, now, NULL);
	}
	for (i = 20; i < 23; i++) {
		dev(f, i, SCOPE_FAMILY, "G", "", E0);
		rep(f, i, 1, now, "f1", NULL);
	}

	r = roll(f, ROLLUP_BY_UNIT);
	counts_is(group(r, "F"), 1, 1, 0, 0, 0);
	assert_int_equal(group(r, "F")->family, 0);
	assert_true(group(r, "F")->family_withheld);
	assert_false(group(r, "F")->fam.estimated);
	counts_is(group(r, "G"), 0, 0, 0, 0, 0);
	assert_true(group(r, "G")->family_withheld);
	counts_is(&r->total, 1, 1, 0, 0, 0);
	assert_true(r->total.family_withheld);
	assert_false(r->total.fam.estimated);
	s = text(r, ROLLUP_FMT_CSV);
	/* A withheld count is an empty cell; family_withheld says why. */
	assert_non_null(strstr(s, "\r\nF,1,1,0,0,0,,yes,,,,,none\r\n"));
	assert_non_null(strstr(s, "\r\nG,0,0,0,0,0,,yes,,,,,none\r\n"));
	assert_null(strstr(s, "<5"));
	free(s);
	s = text(r, ROLLUP_FMT_TABLE);
	assert_non_null(strstr(s, "\nG            0          0             0"
	    "      0      0  <5\n"));
	assert_non_null(strstr(s, "k-anonymity"));
	free(s);
	rollup_free(r);

	r = roll(f, ROLLUP_BY_SCOPE);
	counts_is(group(r, "family"), 0, 0, 0, 0, 0);
	assert_true(group(r, "family")->family_withheld);
	rollup_free(r);
	r = roll(f, ROLLUP_BY_MODEL);
	counts_is(group(r, "unknown"), 0, 0, 0, 0, 0);
	assert_true(group(r, "unknown")->family_withheld);
	rollup_free(r);
	r = roll(f, ROLLUP_BY_RULE);
	assert_int_equal(rule(r, "f1")->failing, 0);
	assert_int_equal(rule(r, "f1")->devices, 0);
	assert_false(rule(r, "f1")->fam.estimated);
	assert_int_equal(r->failing_any, 0);
	assert_int_equal(r->total.devices, 1);
	assert_true(r->total.family_withheld);
	rollup_free(r);

	/*
	 * A fifth family device in F: F's family devices are counted, but
	 * their results are randomized: never counted exactly, only
	 * estimated, and four reporting devices make no estimate narrow
	 * enough to print.
	 */
	dev(f, 14, SCOPE_FAMILY, "F", "", E0);
	r = roll(f, ROLLUP_BY_UNIT);
	counts_is(group(r, "F"), 1, 1, 0, 0, 0);
	assert_int_equal(group(r, "F")->family, 5);
	assert_false(group(r, "F")->family_withheld);
	assert_true(group(r, "F")->fam.estimated);
	assert_int_equal(group(r, "F")->fam.reporting, 4);
	assert_false(group(r, "F")->fam.est.shown);
	assert_true(group(r, "G")->family_withheld);
	counts_is(&r->total, 1, 1, 0, 0, 0);
	assert_int_equal(r->total.fam.reporting, 4);
	assert_int_equal(r->family_rules, 2);
	s = text(r, ROLLUP_FMT_CSV);
	assert_non_null(strstr(s, "\r\nF,1,1,0,0,0,5,no,4,,,,withheld\r\n"));
	free(s);
	s = text(r, ROLLUP_FMT_TABLE);
	assert_non_null(strstr(s, "FAMILY COMPLIANT (95% CI)"));
	assert_non_null(strstr(s, "  5*      -\n"));
	assert_non_null(strstr(s, "wider than +-10 points"));
	free(s);
	rollup_free(r);
	r = roll(f, ROLLUP_BY_SCOPE);
	counts_is(group(r, "family"), 0, 0, 0, 0, 0);
	assert_int_equal(group(r, "family")->family, 5);
	assert_true(group(r, "family")->family_withheld);	/* G's */
	s = text(r, ROLLUP_FMT_TABLE);
	assert_non_null(strstr(s, "5*"));
	free(s);
	rollup_free(r);
	r = roll(f, ROLLUP_BY_RULE);
	assert_int_equal(rule(r, "f1")->failing, 0);
	assert_int_equal(rule(r, "f1")->devices, 0);
	assert_true(rule(r, "f1")->fam.estimated);
	assert_int_equal(rule(r, "f1")->fam.reporting, 4);
	assert_false(rule(r, "f1")->fam.est.shown);
	/* one of four answered failing: (1/4 - 1/4) / (1/2) = 0 */
	assert_true(rule(r, "f1")->fam.est.raw == 0);
	assert_int_equal(rule(r, "r1")->devices, 0);
	assert_int_equal(rule(r, "r1")->scopes, 1u << SCOPE_FAMILY);
	assert_int_equal(r->failing_any, 0);
	s = text(r, ROLLUP_FMT_JSON);
	assert_non_null(strstr(s, "\"family_failing\": {\"reporting\": 4, "
	    "\"pct\": null, \"lo\": null, \"hi\": null, \"shown\": false}"));
	free(s);
	rollup_free(r);

	/* Family devices are never listed. */
	s = devices_text(f, NULL, -1, ROLLUP_FMT_CSV);
	assert_null(strstr(s, "0000000000000000000000000000000a"));
	assert_null(strstr(s, "P-10"));
	assert_non_null(strstr(s, "00000000000000000000000000000001"));
	free(s);
}

/*
 * Estimates: 400 family devices of unit W answering one rule, their
 * answers drawn by the real mechanism (a secret each), and 6 in unit S.
 * The printed figures are exactly the stated estimators on the stored
 * answers; W's and the total's are narrow enough to show, S's not.
 */
static void
estimates(void **state)
{
	struct fx *f = *state;
	struct rollup *r;
	unsigned char key[RR_KEY_BYTES], fp[RR_FP_BYTES];
	time_t now = time(NULL);
	int i, yes = 0, yes_w = 0, a;
	double want;
	char *s;

	publish(f, "family", 21600, "f1");
	randombytes_buf(fp, sizeof fp);
	for (i = 100; i < 506; i++) {
		randombytes_buf(key, sizeof key);
		a = rr_answer(key, fp, i % 4 == 0, 1);
		dev(f, i, SCOPE_FAMILY, i < 500 ? "W" : "S", "", E0);
		if (a)
			rep(f, i, 1, now, "f1", NULL);
		else
			rep(f, i, 1, now, NULL);
		yes += a;
		yes_w += i < 500 ? a : 0;
	}
	r = roll(f, ROLLUP_BY_RULE);
	assert_true(rule(r, "f1")->fam.estimated);
	assert_int_equal(rule(r, "f1")->fam.reporting, 406);
	want = ((double)yes / 406 - 0.25) / 0.5;
	assert_true(rule(r, "f1")->fam.est.raw > want - 1e-12 &&
	    rule(r, "f1")->fam.est.raw < want + 1e-12);
	assert_true(rule(r, "f1")->fam.est.shown);
	assert_true(rule(r, "f1")->fam.est.half > 0.0842 &&
	    rule(r, "f1")->fam.est.half < 0.0843);	/* 1.96 sqrt(.75/406) */
	assert_int_equal(rule(r, "f1")->failing, 0);	/* never counted */
	s = text(r, ROLLUP_FMT_CSV);
	assert_non_null(strstr(s, ",406,"));
	assert_non_null(strstr(s, ",shown\r\n"));
	free(s);
	rollup_free(r);
	r = roll(f, ROLLUP_BY_UNIT);
	/* One rule: the status weight's mean is 1.5 - 2 yes/n. */
	want = 1.5 - 2.0 * yes_w / 400;
	assert_int_equal(group(r, "W")->fam.reporting, 400);
	assert_true(group(r, "W")->fam.est.raw > want - 1e-12 &&
	    group(r, "W")->fam.est.raw < want + 1e-12);
	assert_true(group(r, "W")->fam.est.shown);
	assert_int_equal(group(r, "S")->family, 6);
	assert_int_equal(group(r, "S")->fam.reporting, 6);
	assert_false(group(r, "S")->fam.est.shown);
	assert_int_equal(r->total.fam.reporting, 406);
	assert_true(r->total.fam.est.shown);
	counts_is(group(r, "W"), 0, 0, 0, 0, 0);
	s = text(r, ROLLUP_FMT_TABLE);
	assert_non_null(strstr(s, "\nS            0          0             0"
	    "      0      0  6       -\n"));
	free(s);
	rollup_free(r);
}

static void
history(void **state)
{
	struct fx *f = *state;
	struct rollup *r;
	struct rollup_db *db;
	struct rollup_query q = { ROLLUP_BY_UNIT, 0, 0 };
	struct muster_err e;

	dev(f, 1, SCOPE_PERSONNEL, "H", "", E0);
	rep(f, 1, 1, E0 + 100, NULL);
	rep(f, 1, 2, E0 + 1000, "r1", NULL);
	rep(f, 1, 3, E0 + 5000, NULL);
	dev(f, 2, SCOPE_PERSONNEL, "H", "", E0 + 2000);
	rep(f, 2, 1, E0 + 2100, "r2", NULL);

	r = roll_at(f, ROLLUP_BY_UNIT, E0 + 50, 0);
	assert_true(r->past);
	assert_int_equal(r->as_of, E0 + 50);
	counts_is(group(r, "H"), 1, 0, 0, 0, 1);	/* 2 not enrolled */
	rollup_free(r);
	r = roll_at(f, ROLLUP_BY_UNIT, E0 + 500, 0);
	counts_is(group(r, "H"), 1, 1, 0, 0, 0);
	rollup_free(r);
	r = roll_at(f, ROLLUP_BY_UNIT, E0 + 1500, 0);
	counts_is(group(r, "H"), 1, 0, 1, 0, 0);
	rollup_free(r);
	r = roll_at(f, ROLLUP_BY_RULE, E0 + 1500, 0);
	assert_int_equal(rule(r, "r1")->failing, 1);
	assert_int_equal(r->failing_any, 1);
	assert_int_equal(r->total.devices, 1);
	rollup_free(r);
	r = roll_at(f, ROLLUP_BY_RULE, E0 + 3000, 0);
	assert_int_equal(rule(r, "r1")->failing, 1);
	assert_int_equal(rule(r, "r2")->failing, 1);
	assert_int_equal(r->failing_any, 2);
	assert_int_equal(r->total.devices, 2);
	rollup_free(r);
	r = roll_at(f, ROLLUP_BY_UNIT, E0 + 5500, 0);
	counts_is(group(r, "H"), 2, 1, 1, 0, 0);
	rollup_free(r);
	/* No profile names r1, and nothing fails it any more. */
	r = roll_at(f, ROLLUP_BY_RULE, E0 + 5500, 0);
	assert_int_equal(r->nrules, 1);
	assert_int_equal(rule(r, "r2")->failing, 1);
	rollup_free(r);
	/* No profile was published then: stale after 2 x 3600 s. */
	r = roll_at(f, ROLLUP_BY_UNIT, E0 + 2100 + 7201, 0);
	counts_is(group(r, "H"), 2, 1, 0, 1, 0);
	rollup_free(r);
	r = roll_at(f, ROLLUP_BY_SCOPE, E0 + 2100 + 7200, 0);
	counts_is(group(r, "personnel"), 2, 1, 1, 0, 0);
	rollup_free(r);

	/* Revoked now: gone from the present, still there in the past. */
	dev_revoke(f, 1);
	r = roll(f, ROLLUP_BY_UNIT);
	counts_is(group(r, "H"), 1, 0, 1, 0, 0);
	rollup_free(r);
	r = roll_at(f, ROLLUP_BY_UNIT, E0 + 5500, 0);
	counts_is(group(r, "H"), 2, 1, 1, 0, 0);
	rollup_free(r);

	/* The future is refused. */
	assert_int_equal(rollup_open(f->data, &db, &e), 0);
	q.as_of = time(NULL) + 3600;
	r = NULL;
	assert_int_equal(rollup_compute(db, &q, &r, &e), MUSTER_EUSAGE);
	assert_null(r);
	rollup_close(db);
}

static void
formats(void **state)
{
	static const char *const keys[] = { "unit", "devices", "compliant",
	    "noncompliant", "stale", "never", "family", "family_withheld",
	    "family_compliant", NULL };
	static const char *const top[] = { "version", "by", "as_of",
	    "from_history", "k", "stale_after", "family_privacy", "groups",
	    "total", NULL };
	struct fx *f = *state;
	struct rollup *r;
	json_t *j, *g;
	char *s;
	size_t i;

	dev(f, 1, SCOPE_PERSONNEL, "A,\"B\"", "", E0);
	dev(f, 2, SCOPE_PERSONNEL, "plain", "", E0);
	rep(f, 1, 1, time(NULL), "r1", NULL);
	r = roll(f, ROLLUP_BY_UNIT);
	s = text(r, ROLLUP_FMT_CSV);
	assert_non_null(strstr(s, "\r\n\"A,\"\"B\"\"\",1,0,1,0,0,0,no,,,,,none"
	    "\r\n"));
	assert_non_null(strstr(s, "\r\nplain,1,0,0,0,1,0,no,,,,,none\r\n"));
	assert_non_null(strstr(s, "\r\n,2,0,1,0,1,0,no,,,,,none\r\n"));
	free(s);

	s = text(r, ROLLUP_FMT_JSON);
	j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(j);
	assert_int_equal(json_object_size(j), 9);
	for (i = 0; top[i] != NULL; i++)
		assert_non_null(json_object_get(j, top[i]));
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "by")),
	    "unit");
	assert_int_equal(json_integer_value(json_object_get(j, "k")), 5);
	assert_true(json_is_false(json_object_get(j, "from_history")));
	assert_int_equal(json_array_size(json_object_get(j, "groups")), 2);
	g = json_array_get(json_object_get(j, "groups"), 0);
	assert_int_equal(json_object_size(g), 9);
	assert_true(json_is_null(json_object_get(g, "family_compliant")));
	for (i = 0; keys[i] != NULL; i++)
		assert_non_null(json_object_get(g, keys[i]));
	assert_string_equal(json_string_value(json_object_get(g, "unit")),
	    "A,\"B\"");
	assert_int_equal(json_integer_value(json_object_get(g,
	    "noncompliant")), 1);
	assert_true(json_is_false(json_object_get(g, "family_withheld")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "total"), "devices")), 2);
	json_decref(j);
	free(s);
	rollup_free(r);

	r = roll(f, ROLLUP_BY_RULE);
	s = text(r, ROLLUP_FMT_JSON);
	j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(j);
	g = json_array_get(json_object_get(j, "rules"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "rule")),
	    "r1");
	assert_int_equal(json_integer_value(json_object_get(g, "failing")), 1);
	assert_int_equal(json_array_size(json_object_get(g, "scopes")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "total"), "failing")), 1);
	json_decref(j);
	free(s);
	s = text(r, ROLLUP_FMT_CSV);
	assert_non_null(strstr(s, "rule,severity,scopes,devices,failing,"
	    "title,family_reporting,family_failing_pct,family_failing_lo,"
	    "family_failing_hi,family_estimate\r\nr1,,,0,1,,,,,,none\r\n"
	    ",,,2,1,,,,,,none\r\n"));
	free(s);
	rollup_free(r);
}

static void
http(void **state)
{
	struct fx *f = *state;
	struct muster_err e;
	const char *ct = NULL;
	unsigned status = 0;
	char *body = NULL, path[160], future[TIMEFMT_LEN];
	size_t len = 0;

	fleet(f);
	assert_int_equal(rollup_http(f->data, NULL, NULL, NULL, &body, &len,
	    &ct, &status, &e), 0);
	assert_int_equal(status, 200);
	assert_string_equal(ct, "application/json");
	assert_int_equal(strlen(body), len);
	assert_non_null(strstr(body, "\"total\": {\"devices\": 5,"));
	free(body);
	assert_int_equal(rollup_http(f->data, "rule", "csv", NULL, &body,
	    &len, &ct, &status, &e), 0);
	assert_int_equal(status, 200);
	assert_non_null(strstr(ct, "text/csv"));
	assert_non_null(strstr(body, "\r\nr1,high,personnel,5,2,Rule r1,,,,,"
	    "none\r\n"));
	free(body);
	assert_int_equal(rollup_http(f->data, "unit", "table",
	    "2023-11-14T22:13:20Z", &body, &len, &ct, &status, &e), 0);
	assert_int_equal(status, 200);
	assert_non_null(strstr(body, "(from history)"));
	free(body);

	assert_int_not_equal(rollup_http(f->data, "person", NULL, NULL, &body,
	    &len, &ct, &status, &e), 0);
	assert_int_equal(status, 400);
	assert_string_equal(ct, "application/json");
	assert_non_null(strstr(body, "\"error\""));
	free(body);
	assert_int_not_equal(rollup_http(f->data, NULL, "xml", NULL, &body,
	    &len, &ct, &status, &e), 0);
	assert_int_equal(status, 400);
	free(body);
	assert_int_not_equal(rollup_http(f->data, NULL, NULL, "2024-13-01",
	    &body, &len, &ct, &status, &e), 0);
	assert_int_equal(status, 400);
	free(body);
	timefmt_format(time(NULL) + 86400, future);
	assert_int_not_equal(rollup_http(f->data, NULL, NULL, future, &body,
	    &len, &ct, &status, &e), 0);
	assert_int_equal(status, 400);
	free(body);
	snprintf(path, sizeof path, "%s/none", f->dir);
	assert_int_equal(rollup_http(path, NULL, NULL, NULL, &body, &len, &ct,
	    &status, &e), MUSTER_ENOINPUT);
	assert_int_equal(status, 500);
	free(body);
}

/* Each bad query parameter: 400, its own JSON error and its own message. */
static void
http_bad_params(void **state)
{
	static const struct {
		const char *by, *format, *as_of, *body, *msg;
	} bad[] = {
		{ "person", NULL, NULL, "{\"error\":\"by must be unit, rule, "
		    "model or scope\"}\n", "rollup: bad by" },
		{ NULL, "xml", NULL, "{\"error\":\"format must be json, csv "
		    "or table\"}\n", "rollup: bad format" },
		{ NULL, NULL, "2024-13-01", "{\"error\":\"as_of must be "
		    "YYYY-MM-DDTHH:MM:SSZ\"}\n", "rollup: bad as_of" },
	};
	struct fx *f = *state;
	struct muster_err e;
	const char *ct = NULL;
	unsigned status = 0;
	char *body = NULL;
	size_t i, len = 0;

	fleet(f);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(rollup_http(f->data, bad[i].by, bad[i].format,
		    bad[i].as_of, &body, &len, &ct, &status, &e),
		    MUSTER_EUSAGE);
		assert_int_equal(status, 400);
		assert_string_equal(ct, "application/json");
		assert_string_equal(body, bad[i].body);
		assert_int_equal(len, strlen(bad[i].body));
		assert_string_equal(e.msg, bad[i].msg);
		free(body);
	}
}

static void
devices(void **state)
{
	static const char head[] = "device,unit,person,model,last_report,"
	    "status,failing\r\n00000000000000000000000000000001,A,P-1,"
	    "Xiaomi HM 1SW,";
	struct fx *f = *state;
	json_t *j, *d;
	char *s;

	fleet(f);
	dev(f, 9, SCOPE_FAMILY, "A", "", E0);
	s = devices_text(f, NULL, -1, ROLLUP_FMT_CSV);
	assert_true(strncmp(s, head, strlen(head)) == 0);
	assert_non_null(strstr(s, ",noncompliant,r1 r2\r\n"));
	assert_non_null(strstr(s, "00000000000000000000000000000003,A,P-3,,,"
	    "never,\r\n"));
	assert_null(strstr(s, "P-9"));
	free(s);

	s = devices_text(f, NULL, ROLLUP_NONCOMPLIANT, ROLLUP_FMT_JSON);
	j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
	d = json_array_get(json_object_get(j, "devices"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "person")),
	    "P-2");
	assert_int_equal(json_array_size(json_object_get(d, "failing")), 2);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(d, "failing"), 1)), "r2");
	d = json_array_get(json_object_get(j, "devices"), 1);
	assert_string_equal(json_string_value(json_object_get(d, "unit")), "B");
	json_decref(j);
	free(s);

	s = devices_text(f, "B", -1, ROLLUP_FMT_TABLE);
	assert_non_null(strstr(s, "P-4"));
	assert_non_null(strstr(s, "P-5"));
	assert_null(strstr(s, "P-1 "));
	assert_non_null(strstr(s, "\n2 devices\n"));
	free(s);
	s = devices_text(f, NULL, ROLLUP_NEVER, ROLLUP_FMT_JSON);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "count")), 1);
	d = json_array_get(json_object_get(j, "devices"), 0);
	assert_true(json_is_null(json_object_get(d, "last_report")));
	json_decref(j);
	free(s);
}

static void
names(void **state)
{
	enum rollup_by by;
	enum rollup_format fmt;
	enum rollup_status st;

	(void)state;
	assert_int_equal(rollup_by_parse("model", &by), 0);
	assert_int_equal(by, ROLLUP_BY_MODEL);
	assert_int_equal(rollup_by_parse("person", &by), -1);
	assert_int_equal(rollup_by_parse(NULL, &by), -1);
	assert_int_equal(rollup_format_parse("csv", &fmt), 0);
	assert_int_equal(fmt, ROLLUP_FMT_CSV);
	assert_int_equal(rollup_format_parse("CSV", &fmt), -1);
	assert_int_equal(rollup_status_parse("stale", &st), 0);
	assert_int_equal(st, ROLLUP_STALE);
	assert_string_equal(rollup_status_name(ROLLUP_NEVER), "never");
	assert_string_equal(rollup_by_name(ROLLUP_BY_SCOPE), "scope");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		unit_store_test(empty_store),
		unit_store_test(present),
		unit_store_test(kanon),
		unit_store_test(estimates),
		unit_store_test(history),
		unit_store_test(formats),
		unit_store_test(http),
		unit_store_test(http_bad_params),
		unit_store_test(devices),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
