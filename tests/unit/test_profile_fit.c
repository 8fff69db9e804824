/*
 * profile_fit: the limits lint and sign hold a profile to (issue 13), so
 * that what they pass publishes and reports: the upload bound at exactly
 * PROTO_PUBLISH_PROFILE_MAX bytes, the report bound at exactly
 * PROTO_REPORT_MAX (4096 rules of 63-byte ids would make a report of
 * 390 KiB), and the message naming the file and the limit.
 */
#include "unit.h"

#include <string.h>

#include "muster/profile_fit.h"
#include "muster/proto.h"

/* A profile of n rules with ids of idlen bytes (only what fit reads). */
static struct profile *
fake(size_t n, size_t idlen)
{
	struct profile *p = calloc(1, sizeof *p);
	size_t i;

	assert_non_null(p);
	p->nrules = n;
	p->rules = calloc(n, sizeof *p->rules);
	assert_non_null(p->rules);
	for (i = 0; i < n; i++) {
		p->rules[i].id = malloc(idlen + 1);
		assert_non_null(p->rules[i].id);
		memset(p->rules[i].id, 'r', idlen);
		p->rules[i].id[idlen] = '\0';
	}
	return p;
}

static void
fake_free(struct profile *p)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		free(p->rules[i].id);
	free(p->rules);
	free(p);
}

static void
test_publish_bound(void **state)
{
	struct profile *p = fake(10, 8);
	struct muster_err e;

	(void)state;
	assert_int_equal(PROTO_PUBLISH_PROFILE_MAX, 46080);
	/* Its base64 and the overhead fit the request limit exactly. */
	assert_true((PROTO_PUBLISH_PROFILE_MAX + 2) / 3 * 4 +
	    PROTO_PUBLISH_OVERHEAD <= PROTO_BODY_MAX);
	assert_int_equal(profile_fit("p.cfg", p, PROTO_PUBLISH_PROFILE_MAX,
	    &e), 0);
	assert_int_equal(profile_fit("p.cfg", p, PROTO_PUBLISH_PROFILE_MAX + 1,
	    &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "p.cfg: 46081 bytes, over the 46080"));
	fake_free(p);
}

static void
test_report_bound(void **state)
{
	struct profile *p;
	struct muster_err e;
	size_t per = PROTO_RESULT_FIXED + 63;
	size_t fits = (PROTO_REPORT_MAX - PROTO_REPORT_FIXED_MAX) / per;

	(void)state;
	p = fake(4096, 63);
	assert_int_equal(profile_fit_report_max(p),
	    PROTO_REPORT_FIXED_MAX + 4096 * per);
	assert_int_equal(profile_fit("p.cfg", p, 1000, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "4096 rules make a report of up to"));
	fake_free(p);
	/* The most rules of that id length that fit, and one more. */
	p = fake(fits, 63);
	assert_true(profile_fit_report_max(p) <= PROTO_REPORT_MAX);
	assert_int_equal(profile_fit("p.cfg", p, 1000, &e), 0);
	fake_free(p);
	p = fake(fits + 1, 63);
	assert_int_equal(profile_fit("p.cfg", p, 1000, &e), MUSTER_EDATA);
	fake_free(p);
	/* A profile with no rules: the fixed part alone. */
	p = fake(0, 1);
	assert_int_equal(profile_fit_report_max(p), PROTO_REPORT_FIXED_MAX);
	fake_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_bound),
		cmocka_unit_test(test_report_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
