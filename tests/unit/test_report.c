/*
 * Unit tests for lib/report.c: the report's bytes are deterministic
 * and in the protocol's order; a family report carries nothing but the
 * minimal fields whatever it is given; a model is cleaned and capped; an
 * oversized report sheds its details; the summary reads back; every
 * report the builder makes passes the server's validator, for both
 * scopes; and the validator's refusals keep their exact messages.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"

static const struct report_result results[] = {
	{ "redmi-1s-unfixed", "fail", "model \"HM 1SW\" is banned" },
	{ "mi-cloud-sync-off", "remediated", "was \"1\", set to \"0\"" },
	{ "android-4-4-4", "pass", NULL },
};

/* A family report's results as the device's randomization leaves them. */
static const struct report_result family_results[] = {
	{ "redmi-1s-unfixed", "fail", "model \"HM 1SW\" is banned" },
	{ "mi-cloud-sync-off", "pass", "was \"1\", set to \"0\"" },
	{ "android-4-4-4", "pass", NULL },
};

static struct report_in
sample(enum profile_scope scope)
{
	struct report_in in;

	memset(&in, 0, sizeof in);
	in.scope = scope;
	in.device = "0123456789abcdef0123456789abcdef";
	in.seq = 7;
	in.time = 1795255200;		/* 2026-11-21T10:00:00Z */
	in.profile = "iaf-personnel";
	in.serial = 3;
	in.compliant = 0;
	in.dropped = 2;
	in.model = "Xiaomi HM 1SW";
	in.results = scope == SCOPE_FAMILY ? family_results : results;
	in.nresults = 3;
	return in;
}

static void
test_golden_personnel(void **state)
{
	struct report_in in = sample(SCOPE_PERSONNEL);
	struct muster_err e;
	char *a = NULL, *b = NULL;
	size_t la, lb;

	(void)state;
	assert_int_equal(report_build(&in, &a, &la, &e), 0);
	assert_string_equal(a,
	    "{\"device\":\"0123456789abcdef0123456789abcdef\",\"seq\":7,"
	    "\"time\":\"2026-11-21T10:00:00Z\",\"profile\":\"iaf-personnel\","
	    "\"serial\":3,\"status\":\"noncompliant\",\"dropped\":2,"
	    "\"model\":\"Xiaomi HM 1SW\",\"results\":["
	    "{\"rule\":\"redmi-1s-unfixed\",\"result\":\"fail\","
	    "\"detail\":\"model \\\"HM 1SW\\\" is banned\"},"
	    "{\"rule\":\"mi-cloud-sync-off\",\"result\":\"remediated\","
	    "\"detail\":\"was \\\"1\\\", set to \\\"0\\\"\"},"
	    "{\"rule\":\"android-4-4-4\",\"result\":\"pass\"}]}");
	assert_int_equal(la, strlen(a));
	/* Deterministic: the same input, the same bytes. */
	assert_int_equal(report_build(&in, &b, &lb, &e), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
}

/*
 * A report made again for the clock: the same bytes as report_build
 * would make with the new seq and time, for both scopes; and what is no
 * report is refused.
 */
static void
test_restamp(void **state)
{
	enum profile_scope sc[] = { SCOPE_PERSONNEL, SCOPE_FAMILY };
	struct report_in in;
	struct muster_err e;
	char *a = NULL, *b = NULL, *c = NULL;
	size_t la, lb, lc, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		in = sample(sc[i]);
		assert_int_equal(report_build(&in, &a, &la, &e), 0);
		assert_int_equal(report_restamp(a, la, 8, in.time + 600, &b,
		    &lb, &e), 0);
		in.seq = 8;
		in.time += 600;
		assert_int_equal(report_build(&in, &c, &lc, &e), 0);
		assert_int_equal(lb, lc);
		assert_memory_equal(b, c, lb);
		free(a);
		free(b);
		free(c);
	}
	assert_int_equal(report_restamp("{\"seq\":1}", 9, 2, 0, &b, &lb, &e),
	    MUSTER_EDATA);
	assert_null(b);
	assert_int_equal(report_restamp("[1]", 3, 2, 0, &b, &lb, &e),
	    MUSTER_EDATA);
	assert_int_equal(report_restamp("{\"seq\":1,\"time\":\"x\"}", 21,
	    0, 0, &b, &lb, &e), MUSTER_EDATA);
	assert_int_equal(report_restamp("{\"seq\":1,\"time\":\"x\"", 20, 2,
	    0, &b, &lb, &e), MUSTER_EDATA);
}

/* The answer to a report: the policy tag and the server's time. */
static void
test_answer(void **state)
{
	static const char *bad_tags[] = {
		"", ":", "1", "1:", ":1", "01:1", "1:01", "-1:1", "1:+1",
		"1:2:3", "1 :2", "2147483648:1", "1:99999999999", "a:b",
		"1:2\\n", NULL
	};
	struct report_answer a;
	char buf[256];
	size_t i;
	int n;

	(void)state;
	n = snprintf(buf, sizeof buf, "{\"status\":\"stored\",\"seq\":3,"
	    "\"policy\":\"2:3\",\"server_time\":\"2026-11-21T10:00:00Z\"}");
	assert_int_equal(report_answer_parse(buf, (size_t)n, &a), 0);
	assert_string_equal(a.policy, "2:3");
	assert_int_equal(a.server_time, 1795255200);
	n = snprintf(buf, sizeof buf, "{\"policy\":\"0:0\",\"server_time\":"
	    "\"2147483647:2147483647\"}");
	assert_int_equal(report_answer_parse(buf, (size_t)n, &a), 0);
	assert_string_equal(a.policy, "0:0");
	assert_int_equal(a.server_time, 0);
	n = snprintf(buf, sizeof buf, "{\"policy\":\"2147483647:2147483647\"}");
	assert_int_equal(report_answer_parse(buf, (size_t)n, &a), 0);
	assert_string_equal(a.policy, "2147483647:2147483647");
	for (i = 0; bad_tags[i] != NULL; i++) {
		n = snprintf(buf, sizeof buf, "{\"policy\":\"%s\","
		    "\"server_time\":\"2026-11-21T10:00:00\"}", bad_tags[i]);
		assert_int_equal(report_answer_parse(buf, (size_t)n, &a), 0);
		assert_string_equal(a.policy, "");
		assert_int_equal(a.server_time, 0);
	}
	/* Not an answer: no object, truncated, nested too deep, too long. */
	assert_int_equal(report_answer_parse(NULL, 0, &a), -1);
	assert_int_equal(report_answer_parse("[]", 2, &a), -1);
	assert_int_equal(report_answer_parse("{\"policy\":\"1:1\"", 15, &a),
	    -1);
	assert_string_equal(a.policy, "");
	assert_int_equal(report_answer_parse("{\"a\":{\"b\":1}}", 13, &a), -1);
	assert_int_equal(report_answer_parse("{\"policy\":\"1:2\\u0000\"}",
	    21, &a), -1);
	memset(buf, ' ', sizeof buf);
	buf[0] = '{';
	buf[sizeof buf - 1] = '}';
	assert_int_equal(report_answer_parse(buf, sizeof buf, &a), 0);
	assert_int_equal(report_answer_parse(buf, REPORT_ANSWER_MAX + 1, &a),
	    -1);
}

/* The exact set of keys of object o, in order, joined by ','. */
static void
keys(json_t *o, char *buf, size_t size)
{
	const char *k;
	json_t *v;

	buf[0] = '\0';
	json_object_foreach(o, k, v) {
		(void)v;
		if (buf[0] != '\0')
			strncat(buf, ",", size - strlen(buf) - 1);
		strncat(buf, k, size - strlen(buf) - 1);
	}
}

static void
test_family_minimal(void **state)
{
	struct report_in in = sample(SCOPE_FAMILY);
	struct muster_err e;
	json_t *root, *r;
	char *s = NULL, k[256];
	size_t len, i;

	(void)state;
	/* Given a model and details, it still sends neither. */
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	assert_null(strstr(s, "model"));
	assert_null(strstr(s, "detail"));
	assert_null(strstr(s, "HM 1SW"));
	assert_non_null(root = json_loadb(s, len, 0, NULL));
	keys(root, k, sizeof k);
	assert_string_equal(k, "device,seq,time,profile,serial,status,dropped,"
	    "privacy,results");
	assert_string_equal(json_string_value(json_object_get(root,
	    "privacy")), PROTO_PRIVACY_RR);
	assert_int_equal(json_array_size(json_object_get(root, "results")), 3);
	json_array_foreach(json_object_get(root, "results"), i, r) {
		keys(r, k, sizeof k);
		assert_string_equal(k, "rule,result");
	}
	json_decref(root);
	free(s);
}

static void
test_model_cleaned(void **state)
{
	struct report_in in = sample(SCOPE_PERSONNEL);
	struct muster_err e;
	json_t *root;
	const char *m;
	char model[300], *s = NULL;
	size_t len;

	(void)state;
	memset(model, 'x', sizeof model - 1);
	model[sizeof model - 1] = '\0';
	memcpy(model, "Xia\xc3\xb6mi\n\"", 9);
	in.model = model;
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	assert_non_null(root = json_loadb(s, len, 0, NULL));
	m = json_string_value(json_object_get(root, "model"));
	assert_non_null(m);
	assert_int_equal(strlen(m), PROTO_MODEL_MAX);
	assert_memory_equal(m, "Xia??mi?\"", 9);
	json_decref(root);
	free(s);
	/* No model known: no field. */
	in.model = NULL;
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	assert_null(strstr(s, "\"model\""));
	free(s);
}

static void
test_oversized_sheds_details(void **state)
{
	struct report_in in = sample(SCOPE_PERSONNEL);
	struct report_result *many;
	struct muster_err e;
	char ids[1000][16], detail[255], *s = NULL;
	size_t len, i;

	(void)state;
	memset(detail, 'd', sizeof detail - 1);
	detail[sizeof detail - 1] = '\0';
	assert_non_null(many = calloc(1000, sizeof *many));
	for (i = 0; i < 1000; i++) {
		snprintf(ids[i], sizeof ids[i], "rule-%zu", i);
		many[i].rule = ids[i];
		many[i].result = "fail";
		many[i].detail = detail;
	}
	in.results = many;
	in.nresults = 1000;
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	assert_true(len <= PROTO_REPORT_MAX);
	assert_null(strstr(s, "detail"));
	assert_non_null(strstr(s, "\"rule\":\"rule-999\""));
	free(s);
	free(many);
}

static void
test_summary(void **state)
{
	struct report_in in = sample(SCOPE_FAMILY);
	struct report_summary sum;
	struct muster_err e;
	char *s = NULL;
	size_t len;

	(void)state;
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	assert_int_equal(report_summary(s, len, &sum, &e), 0);
	assert_int_equal(sum.seq, 7);
	assert_int_equal(sum.dropped, 2);
	assert_string_equal(sum.time, "2026-11-21T10:00:00Z");
	assert_string_equal(sum.status, "noncompliant");
	free(s);
	assert_int_equal(report_summary("{\"seq\":1}", 9, &sum, &e),
	    MUSTER_EDATA);
	assert_int_equal(report_summary("nope", 4, &sum, &e), MUSTER_EDATA);
	assert_int_equal(report_summary("{\"seq\":0,\"time\":\"t\",\"status\":"
	    "\"x\",\"dropped\":0}", 46, &sum, &e), MUSTER_EDATA);
}

/* Builds in, then validates the bytes as the server does; 0 or the rc. */
static int
roundtrip(const struct report_in *in, struct report_fields *f,
    json_t **root, const char **why)
{
	struct muster_err e;
	char *s = NULL;
	size_t len;
	int rc;

	*root = NULL;
	assert_int_equal(report_build(in, &s, &len, &e), 0);
	assert_non_null(*root = proto_json_parse(s, len, REPORT_JSON_DEPTH));
	rc = report_validate(*root, in->scope, in->device, f, why);
	free(s);
	return rc;
}

static void
test_builder_passes_validator(void **state)
{
	static const enum profile_scope scopes[] = { SCOPE_PERSONNEL,
	    SCOPE_FAMILY };
	static const char *const words[] = { PROTO_RESULT_PASS,
	    PROTO_RESULT_FAIL, PROTO_RESULT_REMEDIATED, PROTO_RESULT_ERROR };
	struct report_result many[200];
	struct report_fields f;
	char ids[200][16], detail[PROTO_DETAIL_MAX + 1], model[300];
	const char *why;
	json_t *root;
	size_t i, k, v, nfail;

	(void)state;
	memset(detail, 'd', sizeof detail - 1);
	detail[sizeof detail - 1] = '\0';
	memset(model, 'm', sizeof model - 1);
	model[sizeof model - 1] = '\0';
	for (i = 0; i < 200; i++) {
		snprintf(ids[i], sizeof ids[i], "rule-%zu", i);
		many[i].rule = ids[i];
		many[i].result = words[i % 4];
		many[i].detail = i % 3 == 0 ? NULL : detail;
	}
	for (k = 0; k < 2; k++)
		for (v = 0; v < 5; v++) {
			struct report_in in = sample(scopes[k]);

			in.compliant = v % 2;
			/* Family results are pass or fail, the status theirs. */
			for (i = 0; i < 200; i++)
				many[i].result = k == 1 ? (i % 4 == 1 && v != 3 ?
				    PROTO_RESULT_FAIL : PROTO_RESULT_PASS) :
				    words[i % 4];
			in.dropped = v == 1 ? 0 : in.dropped;
			in.model = v == 2 ? NULL : v == 3 ? model : in.model;
			if (v >= 3) {	/* many; v == 4 sheds its details */
				in.results = many;
				in.nresults = v == 3 ? 20 : 200;
			}
			if (v == 1)
				in.nresults = 0;
			if (k == 1)
				in.compliant = v == 1 || v == 3;
			assert_int_equal(roundtrip(&in, &f, &root, &why), 0);
			assert_null(why);
			assert_string_equal(f.device, in.device);
			assert_int_equal(f.seq, in.seq);
			assert_int_equal(f.time, in.time);
			assert_string_equal(f.profile, in.profile);
			assert_int_equal(f.serial, in.serial);
			assert_int_equal(f.compliant, in.compliant);
			for (i = 0, nfail = 0; i < in.nresults; i++)
				if (strcmp(in.results[i].result, "fail") ==
				    0 || strcmp(in.results[i].result,
				    "error") == 0)
					assert_string_equal(
					    f.failing[nfail++],
					    in.results[i].rule);
			assert_int_equal(f.nfailing, nfail);
			free(f.failing);
			json_decref(root);
		}
}

/* What the validator says of body from the sample device of scope. */
static const char *
refusal(enum profile_scope scope, const char *body)
{
	struct report_fields f;
	const char *why = NULL;
	json_t *root;
	int rc;

	assert_non_null(root = proto_json_parse(body, strlen(body),
	    REPORT_JSON_DEPTH));
	rc = report_validate(root, scope, "0123456789abcdef0123456789abcdef",
	    &f, &why);
	json_decref(root);
	assert_int_equal(rc, MUSTER_EDATA);
	assert_null(f.failing);
	return why;
}

#define FHEAD	HEAD ",\"privacy\":\"rr1\""
#define HEAD	"{\"device\":\"0123456789abcdef0123456789abcdef\",\"seq\":7," \
		"\"time\":\"2026-11-21T10:00:00Z\",\"profile\":\"p\"," \
		"\"serial\":3,\"status\":\"compliant\""

static void
test_validator_refusals(void **state)
{
	static const struct {
		enum profile_scope	 scope;
		const char		*body, *why;
	} cases[] = {
		{ SCOPE_PERSONNEL, HEAD ",\"results\":[],\"x\":1}",
		    "unknown field" },
		{ SCOPE_FAMILY, HEAD ",\"model\":\"m\",\"results\":[]}",
		    "unknown field (family reports carry no details)" },
		{ SCOPE_PERSONNEL, "{\"device\":\"00\",\"results\":[]}",
		    "device does not match Muster-Device" },
		{ SCOPE_PERSONNEL, "{\"device\":"
		    "\"0123456789abcdef0123456789abcdef\",\"seq\":0}",
		    "seq must be a positive integer" },
		{ SCOPE_PERSONNEL, "{\"device\":"
		    "\"0123456789abcdef0123456789abcdef\",\"seq\":1,"
		    "\"time\":\"yesterday\"}",
		    "time must be YYYY-MM-DDTHH:MM:SSZ" },
		{ SCOPE_PERSONNEL, "{\"device\":"
		    "\"0123456789abcdef0123456789abcdef\",\"seq\":1,"
		    "\"time\":\"2026-11-21T10:00:00Z\",\"profile\":\"P\"}",
		    "malformed profile id" },
		{ SCOPE_PERSONNEL, "{\"device\":"
		    "\"0123456789abcdef0123456789abcdef\",\"seq\":1,"
		    "\"time\":\"2026-11-21T10:00:00Z\",\"profile\":\"p\","
		    "\"serial\":\"3\"}",
		    "serial must be a positive integer" },
		{ SCOPE_PERSONNEL, "{\"device\":"
		    "\"0123456789abcdef0123456789abcdef\",\"seq\":1,"
		    "\"time\":\"2026-11-21T10:00:00Z\",\"profile\":\"p\","
		    "\"serial\":3,\"status\":\"fine\"}",
		    "status must be compliant or noncompliant" },
		{ SCOPE_PERSONNEL, HEAD ",\"dropped\":-1,\"results\":[]}",
		    "dropped must be a count" },
		{ SCOPE_PERSONNEL, HEAD ",\"model\":\"a\\u0007\","
		    "\"results\":[]}", "malformed model" },
		{ SCOPE_PERSONNEL, HEAD ",\"results\":{}}",
		    "results must be a list of at most 4096" },
		{ SCOPE_PERSONNEL, HEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"pass\",\"x\":1}]}", "malformed result" },
		{ SCOPE_FAMILY, FHEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"pass\",\"detail\":\"d\"}]}",
		    "malformed result (family results carry no detail)" },
		{ SCOPE_PERSONNEL, HEAD ",\"results\":[{\"rule\":\"-r\","
		    "\"result\":\"pass\"}]}", "malformed rule id" },
		{ SCOPE_FAMILY, FHEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"ok\"}]}",
		    "result must be pass, fail, remediated or error" },
		{ SCOPE_PERSONNEL, HEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"fail\",\"detail\":1}]}", "malformed detail" },
		{ SCOPE_PERSONNEL, HEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"fail\"},{\"rule\":\"r\",\"result\":"
		    "\"pass\"}]}", "a rule is reported twice" },
		/* Family results that randomization cannot have made. */
		{ SCOPE_FAMILY, HEAD ",\"results\":[]}",
		    "family reports must be randomized (privacy rr1)" },
		{ SCOPE_FAMILY, HEAD ",\"privacy\":\"exact\",\"results\":[]}",
		    "family reports must be randomized (privacy rr1)" },
		{ SCOPE_FAMILY, HEAD ",\"privacy\":1,\"results\":[]}",
		    "family reports must be randomized (privacy rr1)" },
		{ SCOPE_FAMILY, FHEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"remediated\"}]}",
		    "family results are pass or fail (randomized)" },
		{ SCOPE_FAMILY, FHEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"error\"}]}",
		    "family results are pass or fail (randomized)" },
		{ SCOPE_FAMILY, FHEAD ",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"fail\"}]}",
		    "family status must be compliant exactly when no result "
		    "fails" },
		{ SCOPE_FAMILY, "{\"device\":\"0123456789abcdef0123456789abcdef\","
		    "\"seq\":7,\"time\":\"2026-11-21T10:00:00Z\",\"profile\":"
		    "\"p\",\"serial\":3,\"status\":\"noncompliant\","
		    "\"privacy\":\"rr1\",\"results\":[{\"rule\":\"r\","
		    "\"result\":\"pass\"}]}",
		    "family status must be compliant exactly when no result "
		    "fails" },
		/* A personnel report has no privacy member. */
		{ SCOPE_PERSONNEL, FHEAD ",\"results\":[]}", "unknown field" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_string_equal(refusal(cases[i].scope, cases[i].body),
		    cases[i].why);
}

/* The limits are the protocol's: at the bound passes, one over fails. */
/* "stale": built in its fixed order after dropped, validated both ways. */
static void
test_stale(void **state)
{
	struct report_in in = sample(SCOPE_FAMILY);
	struct report_fields f;
	struct muster_err e;
	const char *why = NULL;
	json_t *root;
	char *s = NULL;
	size_t len;

	(void)state;
	in.stale = REPORT_STALE_CONSENT | REPORT_STALE_TRUST;
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	assert_non_null(strstr(s, "\"dropped\":2,\"stale\":[\"trust\","
	    "\"consent\"],\"privacy\":\"rr1\",\"results\""));
	free(s);
	assert_int_equal(roundtrip(&in, &f, &root, &why), 0);
	assert_int_equal(f.stale, REPORT_STALE_CONSENT | REPORT_STALE_TRUST);
	free(f.failing);
	json_decref(root);
	in = sample(SCOPE_PERSONNEL);
	in.stale = REPORT_STALE_POLICY;
	assert_int_equal(roundtrip(&in, &f, &root, &why), 0);
	assert_int_equal(f.stale, REPORT_STALE_POLICY);
	free(f.failing);
	json_decref(root);
	/* Nothing stale: no member, the bytes of before. */
	in.stale = 0;
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	assert_null(strstr(s, "stale"));
	free(s);
	assert_string_equal(refusal(SCOPE_PERSONNEL, HEAD ",\"stale\":[],"
	    "\"results\":[]}"), "stale must list trust, policy or consent, "
	    "each once");
	assert_string_equal(refusal(SCOPE_FAMILY, FHEAD ",\"stale\":"
	    "[\"policy\",\"policy\"],\"results\":[]}"), "stale must list "
	    "trust, policy or consent, each once");
	assert_string_equal(refusal(SCOPE_FAMILY, FHEAD ",\"stale\":"
	    "[\"keys\"],\"results\":[]}"), "stale must list trust, policy "
	    "or consent, each once");
	assert_string_equal(refusal(SCOPE_FAMILY, FHEAD ",\"stale\":"
	    "\"policy\",\"results\":[]}"), "stale must list trust, policy "
	    "or consent, each once");
}

/* The builder makes no family report that randomization could not. */
static void
test_family_builder_refuses_exact(void **state)
{
	struct report_in in = sample(SCOPE_FAMILY);
	struct muster_err e;
	char *s = NULL;
	size_t len;

	(void)state;
	in.results = results;		/* "remediated": an exact result */
	assert_int_equal(report_build(&in, &s, &len, &e), MUSTER_EDATA);
	assert_null(s);
	in = sample(SCOPE_FAMILY);
	in.compliant = 1;		/* a fail, yet compliant */
	assert_int_equal(report_build(&in, &s, &len, &e), MUSTER_EDATA);
	assert_null(s);
	in.nresults = 0;		/* nothing fails: compliant it is */
	assert_int_equal(report_build(&in, &s, &len, &e), 0);
	free(s);
}

static void
test_validator_limits(void **state)
{
	char body[4096], model[PROTO_MODEL_MAX + 2];
	char detail[PROTO_DETAIL_MAX + 2];
	struct report_fields f;
	const char *why;
	json_t *root;
	int over;

	(void)state;
	for (over = 0; over < 2; over++) {
		memset(model, 'm', sizeof model);
		model[PROTO_MODEL_MAX + over] = '\0';
		memset(detail, 'd', sizeof detail);
		detail[PROTO_DETAIL_MAX + over] = '\0';
		snprintf(body, sizeof body, HEAD ",\"model\":\"%s\","
		    "\"results\":[]}", model);
		assert_non_null(root = proto_json_parse(body, strlen(body),
		    REPORT_JSON_DEPTH));
		assert_int_equal(report_validate(root, SCOPE_PERSONNEL,
		    "0123456789abcdef0123456789abcdef", &f, &why),
		    over ? MUSTER_EDATA : 0);
		json_decref(root);
		snprintf(body, sizeof body, HEAD ",\"results\":[{\"rule\":"
		    "\"r\",\"result\":\"error\",\"detail\":\"%s\"}]}",
		    detail);
		assert_non_null(root = proto_json_parse(body, strlen(body),
		    REPORT_JSON_DEPTH));
		assert_int_equal(report_validate(root, SCOPE_PERSONNEL,
		    "0123456789abcdef0123456789abcdef", &f, &why),
		    over ? MUSTER_EDATA : 0);
		if (!over) {
			assert_int_equal(f.nfailing, 1);
			free(f.failing);
		}
		json_decref(root);
	}
	/* Deeper than a report nests is refused before jansson parses. */
	snprintf(body, sizeof body, "{\"results\":[{\"a\":[]}]}");
	assert_null(proto_json_parse(body, strlen(body), REPORT_JSON_DEPTH));
}

/* The stale words in report order, each with its own bit, then none. */
static void
test_stale_words(void **state)
{
	static const char *const want[] = { PROTO_STALE_TRUST,
	    PROTO_STALE_POLICY, PROTO_STALE_CONSENT };
	unsigned bit, all = 0;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_string_equal(report_stale_word(i, &bit), want[i]);
		assert_int_equal(bit & all, 0);
		all |= bit;
	}
	assert_int_equal(all, REPORT_STALE_ALL);
	assert_null(report_stale_word(3, &bit));
	assert_int_equal(bit, 0);
}

/* proto_sort_has_dup: sorted in place, a repeat anywhere found. */
static void
test_sort_has_dup(void **state)
{
	const char *v[] = { "b", "c", "a" }, *w[] = { "x", "y", "x", "z" };
	const char *one[] = { "only" };

	(void)state;
	assert_int_equal(proto_sort_has_dup(v, 3), 0);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[2], "c");
	assert_int_equal(proto_sort_has_dup(w, 4), 1);
	assert_int_equal(proto_sort_has_dup(one, 1), 0);
	assert_int_equal(proto_sort_has_dup(NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_personnel),
		cmocka_unit_test(test_family_minimal),
		cmocka_unit_test(test_model_cleaned),
		cmocka_unit_test(test_oversized_sheds_details),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_restamp),
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_builder_passes_validator),
		cmocka_unit_test(test_validator_refusals),
		cmocka_unit_test(test_validator_limits),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_stale_words),
		cmocka_unit_test(test_sort_has_dup),
		cmocka_unit_test(test_family_builder_refuses_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
