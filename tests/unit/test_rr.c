/*
 * Unit tests for lib/rr.c (the randomized response and its estimators)
 * and agent/rrmemo.c (the family device's memo): a rule question's
 * fingerprint ignores the id, title and list order but not what it asks;
 * an answer is the truth with probability 3/4 over many secrets and is
 * memoized per (secret, question, truth); beyond the budget it is a coin
 * that does not depend on the truth; the estimators are unbiased and
 * their 95 % intervals cover the truth about 95 % of the time; the memo
 * file is 0600, gives the same answers twice, a new secret when removed,
 * refuses damage, and is wiped.
 */
#include "unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/rr.h"
#include "../../agent/rrmemo.h"

#define FAM(rules) "id = \"fam\";\nserial = 1;\n" \
	"expires = \"2030-01-01T00:00:00Z\";\nscope = \"family\";\n" \
	"rules = (\n" rules ");\n"

static const char fam[] = FAM(
"  { id = \"ban\"; kind = \"model-ban\"; severity = \"high\"; title = \"b\";\n"
"    manufacturer = \"Xiaomi\"; models = [ \"HM 1SW\", \"HM 1SC\" ]; },\n"
"  { id = \"msg\"; kind = \"setting\"; severity = \"high\"; title = \"m\";\n"
"    namespace = \"secure\"; key = \"k\"; expect = \"0\"; },\n"
"  { id = \"apps\"; kind = \"package-ban\"; severity = \"low\";\n"
"    title = \"a\"; packages = [ \"p.one\", \"p.two\" ]; },\n"
"  { id = \"os\"; kind = \"os-min\"; severity = \"low\"; title = \"o\";\n"
"    min_version = \"5.0\"; },\n"
"  { id = \"net\"; kind = \"egress-deny\"; severity = \"low\"; title = \"n\";\n"
"    cidrs = [ \"10.0.0.0/8\", \"192.0.2.0/24\" ]; }\n");

/* The same questions renamed, retitled, lists reordered. */
static const char fam_renamed[] = FAM(
"  { id = \"ban2\"; kind = \"model-ban\"; severity = \"low\"; title = \"x\";\n"
"    manufacturer = \"Xiaomi\"; models = [ \"HM 1SC\", \"HM 1SW\" ]; },\n"
"  { id = \"msg2\"; kind = \"setting\"; severity = \"low\"; title = \"y\";\n"
"    namespace = \"secure\"; key = \"k\"; expect = \"0\";\n"
"    action = \"remediate\"; },\n"
"  { id = \"apps2\"; kind = \"package-ban\"; severity = \"high\";\n"
"    title = \"z\"; packages = [ \"p.two\", \"p.one\" ]; },\n"
"  { id = \"os2\"; kind = \"os-min\"; severity = \"high\"; title = \"w\";\n"
"    min_version = \"5.0\"; },\n"
"  { id = \"net2\"; kind = \"egress-deny\"; severity = \"high\";\n"
"    title = \"v\"; cidrs = [ \"192.0.2.0/24\", \"10.0.0.0/8\" ]; }\n");

/* Each question changed a little: a new question each. */
static const char fam_changed[] = FAM(
"  { id = \"ban\"; kind = \"model-ban\"; severity = \"high\"; title = \"b\";\n"
"    manufacturer = \"Xiaomi\"; models = [ \"HM 1SW\" ]; },\n"
"  { id = \"msg\"; kind = \"setting\"; severity = \"high\"; title = \"m\";\n"
"    namespace = \"secure\"; key = \"k\"; expect = \"1\"; },\n"
"  { id = \"apps\"; kind = \"package-ban\"; severity = \"low\";\n"
"    title = \"a\"; packages = [ \"p.one\" ]; },\n"
"  { id = \"os\"; kind = \"os-min\"; severity = \"low\"; title = \"o\";\n"
"    min_version = \"5.0.1\"; },\n"
"  { id = \"net\"; kind = \"egress-deny\"; severity = \"low\"; title = \"n\";\n"
"    cidrs = [ \"10.0.0.0/8\" ]; }\n");

static struct profile *
parse(const char *text)
{
	struct profile *p = NULL;
	struct muster_err e;

	if (profile_parse("t", text, strlen(text), &p, &e) != 0)
		fail_msg("%s", e.msg);
	return p;
}

static void
test_fingerprint(void **state)
{
	struct profile *a = parse(fam), *b = parse(fam_renamed);
	struct profile *c = parse(fam_changed);
	unsigned char fa[RR_FP_BYTES], fb[RR_FP_BYTES], fc[RR_FP_BYTES];
	unsigned char fo[RR_FP_BYTES];
	size_t i, j;

	(void)state;
	for (i = 0; i < a->nrules; i++) {
		rr_fingerprint(&a->rules[i], fa);
		rr_fingerprint(&b->rules[i], fb);
		rr_fingerprint(&c->rules[i], fc);
		assert_memory_equal(fa, fb, RR_FP_BYTES);
		assert_memory_not_equal(fa, fc, RR_FP_BYTES);
		for (j = 0; j < a->nrules; j++) {
			if (j == i)
				continue;
			rr_fingerprint(&a->rules[j], fo);
			assert_memory_not_equal(fa, fo, RR_FP_BYTES);
		}
	}
	profile_free(a);
	profile_free(b);
	profile_free(c);
}

static void
test_answer_rates(void **state)
{
	unsigned char key[RR_KEY_BYTES], fp[RR_FP_BYTES];
	int n = 40000, i, t, kept[2] = { 0, 0 }, coin[2] = { 0, 0 };
	int agree = 0;

	(void)state;
	randombytes_buf(fp, sizeof fp);
	for (i = 0; i < n; i++) {
		randombytes_buf(key, sizeof key);
		for (t = 0; t < 2; t++) {
			int a = rr_answer(key, fp, t, 1);

			/* memoized: asked again, the same answer */
			assert_int_equal(a, rr_answer(key, fp, t, 1));
			kept[t] += a == t;
			coin[t] += rr_answer(key, fp, t, 0);
		}
		/* beyond the budget the truth plays no part */
		agree += rr_answer(key, fp, 0, 0) == rr_answer(key, fp, 1, 0);
	}
	/* 3/4 +- 5 sd (sd = 0.00217 at n = 40000) */
	for (t = 0; t < 2; t++) {
		assert_in_range(kept[t], n * 3 / 4 - 434, n * 3 / 4 + 434);
		assert_in_range(coin[t], n / 2 - 500, n / 2 + 500);
	}
	assert_int_equal(agree, n);
	assert_in_range((long long)(rr_keep() * 1000), 750, 750);
}

/*
 * Simulated populations: the truth fixed (a share q failing), each
 * device's answer drawn by the real rr_answer with its own secret.  The
 * estimate is unbiased and the interval covers q about 95 % of the time.
 */
static void
test_estimate_rate(void **state)
{
	unsigned char key[RR_KEY_BYTES], fp[RR_FP_BYTES];
	struct rr_estimate est;
	int trials = 200, tr, covered = 0, n = 1000, i;
	double q = 0.3, sum = 0;

	(void)state;
	randombytes_buf(fp, sizeof fp);
	for (tr = 0; tr < trials; tr++) {
		int64_t yes = 0;

		for (i = 0; i < n; i++) {
			randombytes_buf(key, sizeof key);
			yes += rr_answer(key, fp, i < (int)(q * n), 1);
		}
		rr_estimate_rate(n, yes, &est);
		covered += est.lo <= q && q <= est.hi;
		sum += est.raw;
		assert_true(est.shown);		/* 1000 >= 289 */
		assert_true(est.half > 0.052 && est.half < 0.054);
	}
	/* 95 % of 200: 190; binomial sd 3.1 */
	assert_in_range(covered, 178, 200);
	/* mean of 200 estimates: sd 0.0274 / sqrt(200) = 0.0019 */
	assert_true(sum / trials > q - 0.01 && sum / trials < q + 0.01);
	rr_estimate_rate(100, 50, &est);
	assert_false(est.shown);		/* half 0.17 */
	rr_estimate_rate(0, 0, &est);
	assert_false(est.shown);
	assert_int_equal(rr_min_devices(1, 0), 289);
	rr_estimate_rate(289, 100, &est);
	assert_true(est.shown);
	rr_estimate_rate(288, 100, &est);
	assert_false(est.shown);
	/* clipped for display, raw kept */
	rr_estimate_rate(1000, 0, &est);
	assert_true(est.raw < 0);
	assert_true(est.est == 0 && est.lo == 0);
}

/* The share compliant on all of 3 rules, from the product weights. */
static void
test_estimate_status(void **state)
{
	unsigned char key[RR_KEY_BYTES], fp[3][RR_FP_BYTES];
	struct rr_estimate est;
	int trials = 60, tr, covered = 0, n = 4000, i, r;
	double sum = 0, truth;

	(void)state;
	for (r = 0; r < 3; r++)
		randombytes_buf(fp[r], sizeof fp[r]);
	truth = 0;
	for (tr = 0; tr < trials; tr++) {
		double w = 0;

		truth = 0;
		for (i = 0; i < n; i++) {
			size_t nfail = 0;
			int bad = i % 5 == 0, bad2 = i % 7 == 0;

			randombytes_buf(key, sizeof key);
			nfail += (size_t)rr_answer(key, fp[0], bad, 1);
			nfail += (size_t)rr_answer(key, fp[1], bad2, 1);
			nfail += (size_t)rr_answer(key, fp[2], 0, 1);
			w += rr_status_weight(3, nfail);
			truth += !bad && !bad2;
		}
		truth /= n;
		rr_estimate_status(n, w, 3, &est);
		covered += est.lo <= truth && truth <= est.hi;
		sum += est.raw;
	}
	assert_in_range(covered, 52, 60);
	assert_true(sum / trials > truth - 0.02 &&
	    sum / trials < truth + 0.02);
	/* weights: 1.5^2 * -0.5 for one failing answer of three */
	assert_true(rr_status_weight(3, 1) == -1.125);
	rr_estimate_status(10000, 5000, RR_STATUS_MAX_RULES + 1, &est);
	assert_false(est.shown);
	assert_int_equal(rr_min_devices(RR_STATUS_MAX_RULES + 1, 1), 0);
	assert_true(rr_min_devices(3, 1) > rr_min_devices(1, 0));
	assert_true(rr_sqrt(2.25) > 1.4999 && rr_sqrt(2.25) < 1.5001);
}

/* rrmemo_apply on a copy of truth; the answers as 0/1 into ans. */
static void
apply(const char *dir, const struct profile *p, const char *const *truth,
    int *ans, int *compliant, int rc_want)
{
	struct report_result res[8];
	struct muster_err e;
	size_t i;

	for (i = 0; i < p->nrules; i++) {
		res[i].rule = p->rules[i].id;
		res[i].result = truth[i];
		res[i].detail = "a detail";
	}
	assert_int_equal(rrmemo_apply(dir, p, res, p->nrules, compliant, &e),
	    rc_want);
	if (rc_want != 0)
		return;
	for (i = 0; i < p->nrules; i++) {
		assert_null(res[i].detail);
		assert_true(strcmp(res[i].result, "pass") == 0 ||
		    strcmp(res[i].result, "fail") == 0);
		ans[i] = strcmp(res[i].result, "fail") == 0;
	}
}

static void
test_memo(void **state)
{
	static const char *const truth[] = { "fail", "remediated", "pass",
	    "error", "pass" };
	struct profile *p = parse(fam), *q = parse(fam_renamed);
	char dir[UNIT_TMPDIR_MAX], path[128];
	int a[8], b[8], c[8], comp, i, differ = 0, tries;
	struct muster_err e;
	struct stat st;
	FILE *fp;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "rr"), 0);
	snprintf(path, sizeof path, "%s/%s", dir, RRMEMO_FILE);
	apply(dir, p, truth, a, &comp, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	{
		int any = 0;

		for (i = 0; i < 5; i++)
			any |= a[i];
		assert_int_equal(comp, !any);
	}
	/* Memoized: again, and renamed, the same answers. */
	apply(dir, p, truth, b, &comp, 0);
	assert_memory_equal(a, b, 5 * sizeof a[0]);
	apply(dir, q, truth, b, &comp, 0);
	assert_memory_equal(a, b, 5 * sizeof a[0]);
	/* A new secret (the file removed) draws anew: some answer differs
	 * within a few tries (each try: 1 - (5/8)^5 = 0.9). */
	for (tries = 0; tries < 20 && !differ; tries++) {
		assert_int_equal(unlink(path), 0);
		apply(dir, p, truth, c, &comp, 0);
		differ = memcmp(a, c, 5 * sizeof a[0]) != 0;
	}
	assert_true(differ);
	/* Damaged or readable by others: refused. */
	assert_int_equal(chmod(path, 0644), 0);
	apply(dir, p, truth, c, &comp, MUSTER_ECONFIG);
	assert_int_equal(chmod(path, 0600), 0);
	assert_non_null(fp = fopen(path, "a"));
	fputs("q zz\n", fp);
	fclose(fp);
	apply(dir, p, truth, c, &comp, MUSTER_ECONFIG);
	/* Truncated, oversized or malicious memo files: refused, never
	 * taken as a new secret (which would redraw every answer). */
	{
		static const char *const bad[] = {
			"",					/* empty */
			"muster-rr 1\n",			/* no key */
			"muster-rr 1\nkey 00\n",		/* short key */
			"muster-rr 2\nkey %s\n",		/* version */
			"muster-rr 1\nkey %s\nkey %s\n",	/* two keys */
			"muster-rr 1\nkey %s\nq 00\n",	/* short question */
			"muster-rr 1\nkey %s\nx y\n",		/* unknown line */
			"muster-rr 1\nkey %s\0\n",		/* NUL (cut) */
		};
		char k64[2 * RR_KEY_BYTES + 1], body[256];
		size_t k;
		int fd;

		memset(k64, 'a', sizeof k64 - 1);
		k64[sizeof k64 - 1] = '\0';
		for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
			int n = snprintf(body, sizeof body, bad[k], k64, k64);

			assert_int_equal(unlink(path), 0);
			assert_true((fd = open(path, O_WRONLY | O_CREAT |
			    O_EXCL, 0600)) >= 0);
			assert_int_equal(write(fd, body, (size_t)n), n);
			if (k == 7)	/* a NUL inside the file */
				assert_int_equal(write(fd, "\0q", 2), 2);
			close(fd);
			apply(dir, p, truth, c, &comp, MUSTER_ECONFIG);
		}
		/* More questions than the budget: refused. */
		assert_int_equal(unlink(path), 0);
		assert_non_null(fp = fopen(path, "w"));
		fprintf(fp, "muster-rr 1\nkey %s\n", k64);
		for (k = 0; k <= PROTO_RR_BUDGET; k++)
			fprintf(fp, "q %032zx\n", k);
		fclose(fp);
		assert_int_equal(chmod(path, 0600), 0);
		apply(dir, p, truth, c, &comp, MUSTER_ECONFIG);
		/* Over the size limit: refused. */
		assert_int_equal(unlink(path), 0);
		assert_non_null(fp = fopen(path, "w"));
		fprintf(fp, "muster-rr 1\nkey %s\n", k64);
		for (k = 0; k < RRMEMO_MAX; k++)
			fputc('#', fp);
		fclose(fp);
		assert_int_equal(chmod(path, 0600), 0);
		apply(dir, p, truth, c, &comp, MUSTER_ECONFIG);
		/* A symbolic link in its place: refused. */
		assert_int_equal(unlink(path), 0);
		assert_int_equal(symlink("/etc/passwd", path), 0);
		apply(dir, p, truth, c, &comp, MUSTER_ECONFIG);
		assert_int_equal(unlink(path), 0);
		apply(dir, p, truth, c, &comp, 0);
	}
	/* Wiped: gone, and wiping nothing is no error. */
	assert_int_equal(rrmemo_wipe(dir, &e), 0);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(rrmemo_wipe(dir, &e), 0);
	profile_free(p);
	profile_free(q);
	unit_rmtree(dir);
}

/* The budget: the 65th question on is a coin, and the file stays small. */
static void
test_memo_budget(void **state)
{
	char dir[UNIT_TMPDIR_MAX], text[4096], path[128];
	const char *truth[1] = { "fail" };
	struct profile *p;
	struct stat st;
	int a[8], comp, i;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "rrb"), 0);
	snprintf(path, sizeof path, "%s/%s", dir, RRMEMO_FILE);
	for (i = 0; i < PROTO_RR_BUDGET + 10; i++) {
		snprintf(text, sizeof text, FAM(
		    "  { id = \"os\"; kind = \"os-min\"; severity = \"low\";\n"
		    "    title = \"o\"; min_version = \"%d.0\"; }\n"), i);
		p = parse(text);
		apply(dir, p, truth, a, &comp, 0);
		profile_free(p);
	}
	assert_int_equal(stat(path, &st), 0);
	/* magic, key, and PROTO_RR_BUDGET questions */
	assert_int_equal(st.st_size, 12 + 4 + 2 * RR_KEY_BYTES + 1 +
	    PROTO_RR_BUDGET * (2 + 2 * RR_FP_BYTES + 1));
	unit_rmtree(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_answer_rates),
		cmocka_unit_test(test_estimate_rate),
		cmocka_unit_test(test_estimate_status),
		cmocka_unit_test(test_memo),
		cmocka_unit_test(test_memo_budget),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
