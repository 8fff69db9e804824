/*
 * Unit tests for agent/report.c: the report's bytes are deterministic
 * and in the protocol's order; a family report carries nothing but the
 * minimal fields whatever it is given; a model is cleaned and capped; an
 * oversized report sheds its details; the summary reads back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/report.h"

static const struct report_result results[] = {
	{ "redmi-1s-unfixed", "fail", "model \"HM 1SW\" is banned" },
	{ "mi-cloud-sync-off", "remediated", "was \"1\", set to \"0\"" },
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
	in.results = results;
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
	    "results");
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_personnel),
		cmocka_unit_test(test_family_minimal),
		cmocka_unit_test(test_model_cleaned),
		cmocka_unit_test(test_oversized_sheds_details),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
