/*
 * rrsim: the family randomized response (lib/rr.c, agent/rrmemo.c) driven
 * at scale, for tests/e2e/test_privacy_rr.sh and tests/bench/privacy.sh.
 * Every answer comes from the real mechanism: each simulated phone has
 * its own random memo secret and answers through rr_answer on the
 * fingerprint of the real parsed rule, as the agent does.
 *
 *   rrsim pop DATA_DIR N PROFILE.cfg
 *	publishes the family profile PROFILE.cfg through the store API and
 *	bulk-loads (store_load_*, as tests/tools/rollupgen does) N family
 *	devices in four units FAM/A..FAM/D, each with a newest report of
 *	its randomized answers a minute old; the i-th rule is truly failing
 *	on a share 0.10 + 0.15 i (mod 0.9) of them, at random.  Prints the
 *	truth: "rule ID failing=SHARE" per rule, then "compliant=SHARE".
 *	With RRSIM_SEED set, the secrets and truths are drawn from it
 *	(BLAKE2b) instead of the system's random source, so that a test
 *	gives the same population every run.
 *   rrsim bench N TRIALS
 *	TRIALS populations of N phones answering a three-rule profile
 *	(truly failing 10 %, 30 %, 50 %) in memory; prints per rule the
 *	mean absolute error of the estimate and the mean half-width of its
 *	95 % interval, in points, and how often the interval held the
 *	truth; and the same for the share compliant on all three.
 *   rrsim cpu PROFILE.cfg SIMDEV RUNS
 *	the agent's evaluation of PROFILE.cfg on sim device SIMDEV
 *	(check_eval, as `check` and `run` do), RUNS times without and
 *	RUNS times with the randomization of its results (rrmemo_apply on
 *	a state dir, the memo file read and, the first time, written);
 *	prints the median CPU per run of each in ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/rr.h"
#include "../../agent/check.h"
#include "../../agent/rrmemo.h"
#include "../../agent/rules.h"
#include "../../server/store.h"

static double
fabs_(double x)
{
	return x < 0 ? -x : x;
}

static struct profile *
load_profile(const char *path, char **bytes, size_t *len)
{
	struct muster_err e;
	struct profile *p = NULL;

	if (fs_read_file(path, PROFILE_MAX_BYTES, bytes, len, &e) != 0 ||
	    profile_parse(path, *bytes, *len, &p, &e) != 0) {
		fprintf(stderr, "rrsim: %s\n", e.msg);
		return NULL;
	}
	return p;
}

/* len bytes for (label, i, r): from the seed, else random. */
static void
draw(const char *seed, const char *label, long i, size_t r,
    unsigned char *out, size_t len)
{
	crypto_generichash_state h;
	long v[2] = { i, (long)r };

	if (seed == NULL) {
		randombytes_buf(out, len);
		return;
	}
	crypto_generichash_init(&h, NULL, 0, len);
	crypto_generichash_update(&h, (const unsigned char *)seed,
	    strlen(seed) + 1);
	crypto_generichash_update(&h, (const unsigned char *)label,
	    strlen(label) + 1);
	crypto_generichash_update(&h, (const unsigned char *)v, sizeof v);
	crypto_generichash_final(&h, out, len);
}

static double
share_of(size_t i)
{
	double s = 0.10 + 0.15 * (double)i;

	while (s >= 0.9)
		s -= 0.9;
	return s;
}

static int
pop(const char *dir, long n, const char *path)
{
	static const char sig[] = "untrusted comment: rrsim, not signed\n";
	static const unsigned char pk[32];
	static const char *const units[] = { "FAM/A", "FAM/B", "FAM/C",
	    "FAM/D" };
	unsigned char key[RR_KEY_BYTES], (*fp)[RR_FP_BYTES] = NULL;
	unsigned char hash[STORE_HASH_LEN];
	struct store_load_device ld;
	struct store_load_report lr;
	struct store_load *l = NULL;
	struct store *st = NULL;
	struct profile *p = NULL;
	struct muster_err e;
	long *failing = NULL, compliant = 0, i;
	char *bytes = NULL, id[DEVICE_ID_HEX], tok[17], person[32];
	char body[] = "{\"rrsim\":1}";
	time_t now = time(NULL), t = now - 60;
	const char *seed = getenv("RRSIM_SEED");
	size_t len = 0, r;
	int rc = 1;

	if ((p = load_profile(path, &bytes, &len)) == NULL)
		goto out;
	if (p->scope != SCOPE_FAMILY || p->nrules == 0) {
		fprintf(stderr, "rrsim: %s: not a family profile with rules\n",
		    path);
		goto out;
	}
	if ((fp = calloc(p->nrules, sizeof *fp)) == NULL ||
	    (failing = calloc(p->nrules, sizeof *failing)) == NULL)
		goto oom;
	for (r = 0; r < p->nrules; r++)
		rr_fingerprint(&p->rules[r], fp[r]);
	if (store_open(dir, 0, &st, &e) != 0 || store_begin(st, &e) != 0 ||
	    store_profile_put(st, p, bytes, len, sig, strlen(sig), &e) != 0 ||
	    store_commit(st, &e) != 0)
		goto fail;
	store_close(st);
	st = NULL;
	if (store_load_open(dir, &l, &e) != 0 ||
	    store_load_profiles_published(l, now - 86400, &e) != 0)
		goto fail;
	crypto_generichash(hash, sizeof hash, (unsigned char *)body,
	    strlen(body), NULL, 0);
	for (i = 0; i < n; i++) {
		int nfail = 0, ans[64];

		draw(seed, "key", i, 0, key, sizeof key);
		for (r = 0; r < p->nrules && r < 64; r++) {
			unsigned char u[4];
			uint32_t v;
			int truth;

			draw(seed, "truth", i, r, u, sizeof u);
			v = ((uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 |
			    (uint32_t)u[2] << 8 | u[3]) % 1000000;
			truth = v < (uint32_t)(share_of(r) * 1000000);

			failing[r] += truth;
			nfail += truth;
			ans[r] = rr_answer(key, fp[r], truth, 1);
		}
		compliant += nfail == 0;
		snprintf(id, sizeof id, "%032lx", (unsigned long)i + 1);
		snprintf(tok, sizeof tok, "%016lx", (unsigned long)i + 1);
		snprintf(person, sizeof person, "F-%ld", i);
		if (store_load_token(l, tok, now - 3600, now + 86400, &e) != 0)
			goto fail;
		memset(&ld, 0, sizeof ld);
		ld.id = id;
		ld.pk = pk;
		ld.scope = SCOPE_FAMILY;
		ld.unit = units[i % 4];
		ld.person = person;
		ld.model = "";
		ld.token_id = tok;
		ld.enrolled = now - 3600;
		ld.last_seq = 1;
		ld.last_time = t;
		ld.last_received = t;
		ld.last_profile = p->id;
		ld.last_serial = p->serial;
		nfail = 0;
		for (r = 0; r < p->nrules && r < 64; r++)
			nfail += ans[r];
		ld.last_compliant = nfail == 0;
		memset(&lr, 0, sizeof lr);
		lr.device = id;
		lr.seq = 1;
		lr.time = t;
		lr.received = t;
		lr.compliant = nfail == 0;
		lr.profile = p->id;
		lr.serial = p->serial;
		lr.hash = hash;
		lr.body = (unsigned char *)body;
		lr.len = strlen(body);
		if (store_load_device(l, &ld, &e) != 0 ||
		    store_load_report(l, &lr, &e) != 0 ||
		    store_load_status(l, id, t, 1, t, nfail == 0, &e) != 0)
			goto fail;
		for (r = 0; r < p->nrules && r < 64; r++)
			if (ans[r] && (store_load_failing_change(l, id,
			    p->rules[r].id, t, 1, 1, &e) != 0 ||
			    store_load_failing(l, id, p->rules[r].id, t,
			    &e) != 0))
				goto fail;
	}
	if (store_load_finish(l, &e) != 0)
		goto fail;
	for (r = 0; r < p->nrules; r++)
		printf("rule %s failing=%.4f\n", p->rules[r].id,
		    (double)failing[r] / (double)n);
	printf("compliant=%.4f\n", (double)compliant / (double)n);
	rc = 0;
	goto out;
oom:
	fprintf(stderr, "rrsim: out of memory\n");
	goto out;
fail:
	fprintf(stderr, "rrsim: %s\n", e.msg);
out:
	store_load_close(l);
	store_close(st);
	profile_free(p);
	free(bytes);
	free(fp);
	free(failing);
	return rc;
}

static int
bench(long n, long trials)
{
	static const double q[3] = { 0.10, 0.30, 0.50 };
	unsigned char key[RR_KEY_BYTES], fp[3][RR_FP_BYTES];
	double err[4] = { 0 }, half[4] = { 0 };
	long cover[4] = { 0 }, tr, i, shown[4] = { 0 };
	int r;

	for (r = 0; r < 3; r++)
		randombytes_buf(fp[r], sizeof fp[r]);
	for (tr = 0; tr < trials; tr++) {
		long yes[3] = { 0, 0, 0 }, truthn[3] = { 0, 0, 0 }, ok = 0;
		double w = 0;
		struct rr_estimate est;

		for (i = 0; i < n; i++) {
			size_t nfail = 0;
			int bad = 0;

			randombytes_buf(key, sizeof key);
			for (r = 0; r < 3; r++) {
				int t = randombytes_uniform(1000) <
				    (uint32_t)(q[r] * 1000);
				int a = rr_answer(key, fp[r], t, 1);

				truthn[r] += t;
				bad |= t;
				yes[r] += a;
				nfail += (size_t)a;
			}
			ok += !bad;
			w += rr_status_weight(3, nfail);
		}
		for (r = 0; r < 4; r++) {
			double truth;

			if (r < 3) {
				rr_estimate_rate(n, yes[r], &est);
				truth = (double)truthn[r] / (double)n;
			} else {
				rr_estimate_status(n, w, 3, &est);
				truth = (double)ok / (double)n;
			}
			err[r] += fabs_(est.raw - truth);
			half[r] += est.half;
			cover[r] += est.raw - est.half <= truth &&
			    truth <= est.raw + est.half;
			shown[r] += est.shown;
		}
	}
	for (r = 0; r < 4; r++)
		printf("%s n=%ld error_pts=%.2f half_width_pts=%.2f "
		    "coverage=%.3f shown=%s\n", r < 3 ? (r == 0 ? "rule-10%" :
		    r == 1 ? "rule-30%" : "rule-50%") : "compliant-all-3", n,
		    100 * err[r] / (double)trials,
		    100 * half[r] / (double)trials,
		    (double)cover[r] / (double)trials,
		    shown[r] == trials ? "yes" : shown[r] == 0 ? "no" :
		    "sometimes");
	return 0;
}

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
cpu(const char *path, const char *sim, long runs)
{
	struct state_profile sp;
	struct report_result *res = NULL;
	struct check_run cr;
	struct device *dev = NULL;
	struct muster_err e;
	char dir[] = "/tmp/rrsim.XXXXXX", spec[4096], *bytes = NULL;
	double *t[2] = { NULL, NULL };
	size_t len = 0, i;
	long k;
	int with, rc = 1, comp;

	memset(&sp, 0, sizeof sp);
	if ((sp.p = load_profile(path, &bytes, &len)) == NULL)
		return 1;
	snprintf(spec, sizeof spec, "sim:%s", sim);
	if (mkdtemp(dir) == NULL || device_open(spec, &dev, &e) != 0 ||
	    (t[0] = calloc((size_t)runs, sizeof *t[0])) == NULL ||
	    (t[1] = calloc((size_t)runs, sizeof *t[1])) == NULL ||
	    (res = calloc(sp.p->nrules + 1, sizeof *res)) == NULL) {
		fprintf(stderr, "rrsim: cannot set up\n");
		goto out;
	}
	for (k = 0; k < runs; k++)
		for (with = 0; with < 2; with++) {
			double t0 = cpu_ms();

			if (check_eval(dev, &sp, 1, 0, 0, NULL, &cr, &e) != 0)
				goto fail;
			for (i = 0; i < cr.nout; i++) {
				res[i].rule = cr.out[i].r->id;
				res[i].result = rules_result_name(
				    cr.out[i].o.result);
				res[i].detail = cr.out[i].o.reason;
			}
			if (with && rrmemo_apply(dir, sp.p, res, cr.nout,
			    &comp, &e) != 0)
				goto fail;
			check_run_free(&cr);
			t[with][k] = cpu_ms() - t0;
		}
	qsort(t[0], (size_t)runs, sizeof *t[0], cmp_d);
	qsort(t[1], (size_t)runs, sizeof *t[1], cmp_d);
	printf("rules=%zu runs=%ld check_ms=%.3f check_rr_ms=%.3f\n",
	    sp.p->nrules, runs, t[0][runs / 2], t[1][runs / 2]);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "rrsim: %s\n", e.msg);
out:
	(void)rrmemo_wipe(dir, &e);
	rmdir(dir);
	device_close(dev);
	profile_free(sp.p);
	free(bytes);
	free(res);
	free(t[0]);
	free(t[1]);
	return rc;
}

int
main(int argc, char **argv)
{
	long n = argc > 3 ? strtol(argv[3], NULL, 10) : 0;

	if (sodium_init() < 0)
		return 1;
	if (argc == 5 && strcmp(argv[1], "pop") == 0 && n > 0)
		return pop(argv[2], n, argv[4]);
	if (argc == 4 && strcmp(argv[1], "bench") == 0 &&
	    strtol(argv[2], NULL, 10) > 0 && n > 0)
		return bench(strtol(argv[2], NULL, 10), n);
	if (argc == 5 && strcmp(argv[1], "cpu") == 0 &&
	    strtol(argv[4], NULL, 10) > 0)
		return cpu(argv[2], argv[3], strtol(argv[4], NULL, 10));
	fprintf(stderr, "usage: rrsim pop DATA_DIR N PROFILE.cfg\n"
	    "       rrsim bench N TRIALS\n"
	    "       rrsim cpu PROFILE.cfg SIMDEV RUNS\n");
	return 64;
}
