/*
 * lib/oracle.c's shared refusal (oracle_refusal), the one that lint, the
 * server's publish and the agent's install apply: a family profile with
 * more than ORACLE_MAX_PER_ATTR rules on one attribute (an os-min ladder,
 * model-bans, package-bans, egress-denies, settings on one key) is
 * refused with the first such group; at the limit, a personnel profile,
 * or rules spread over attributes: not refused.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muster/err.h"
#include "muster/oracle.h"
#include "muster/profile.h"

/* A profile of n rules of kind (the test_privacy_rr.sh shapes). */
static struct profile *
ladder(const char *kind, int n, const char *scope)
{
	char buf[8192], rule[256];
	struct muster_err e;
	struct profile *p = NULL;
	int i;

	snprintf(buf, sizeof buf, "id = \"o\";\nserial = 1;\nexpires = "
	    "\"2099-01-01T00:00:00Z\";\nscope = \"%s\";\nrules = (\n", scope);
	for (i = 1; i <= n; i++) {
		if (strcmp(kind, "os-min") == 0)
			snprintf(rule, sizeof rule, "kind = \"os-min\"; "
			    "min_version = \"%d.0\";", i + 3);
		else if (strcmp(kind, "package-ban") == 0)
			snprintf(rule, sizeof rule, "kind = \"package-ban\"; "
			    "packages = [ \"com.app%d\" ];", i);
		else if (strcmp(kind, "setting") == 0)
			snprintf(rule, sizeof rule, "kind = \"setting\"; "
			    "namespace = \"system\"; key = \"font_scale\"; "
			    "expect = \"%d\";", i);
		else
			snprintf(rule, sizeof rule, "kind = \"setting\"; "
			    "namespace = \"system\"; key = \"k%d\"; "
			    "expect = \"1\";", i);
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
		    "%s  { id = \"r%d\"; severity = \"low\"; title = \"t\"; "
		    "%s }", i > 1 ? ",\n" : "", i, rule);
	}
	snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "\n);\n");
	if (profile_parse("t", buf, strlen(buf), &p, &e) != 0)
		fail_msg("parse: %s", e.msg);
	return p;
}

static void
refused_over_limit(void **state)
{
	static const char *const kinds[] = { "os-min", "package-ban",
	    "setting" };
	struct oracle_finding f;
	struct profile *p;
	size_t k;

	(void)state;
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		p = ladder(kinds[k], ORACLE_MAX_PER_ATTR + 1, "family");
		assert_int_equal(oracle_refusal(p, &f), 1);
		assert_int_equal(f.refuse, 1);
		assert_int_equal(f.nrules, ORACLE_MAX_PER_ATTR + 1);
		assert_true(f.line > 0);
		assert_non_null(strstr(f.msg, "4 rules (r1, r2, r3, r4)"));
		assert_non_null(strstr(f.msg, "over the 3 rules allowed"));
		profile_free(p);
	}
}

static void
allowed(void **state)
{
	struct oracle_finding f;
	struct profile *p;

	(void)state;
	p = ladder("os-min", ORACLE_MAX_PER_ATTR, "family");	/* at the limit */
	assert_int_equal(oracle_refusal(p, &f), 0);
	assert_int_equal(f.refuse, 0);
	assert_string_equal(f.msg, "");
	profile_free(p);
	p = ladder("os-min", 12, "personnel");	/* exact results by design */
	assert_int_equal(oracle_refusal(p, &f), 0);
	profile_free(p);
	p = ladder("spread", 12, "family");	/* 12 keys, one rule each */
	assert_int_equal(oracle_refusal(p, &f), 0);
	profile_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refused_over_limit),
		cmocka_unit_test(allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
