/*
 * rollupgen: fills a new store with a simulated fleet for the roll-up
 * benchmark (tests/bench/rollup.sh).
 *
 *	rollupgen DATA_DIR DEVICES [PROFILE.cfg...]
 *		make the store (store_open: the real schema), publish the
 *		profiles (store API, signature not checked), then bulk-load
 *		a year of the fleet's history (store_load_*)
 *	rollupgen --index DATA_DIR SQL	run one statement (an index to try)
 *
 * DEVICES devices in units of about 1000 (one unit in ten with only a
 * few family devices), 20% family, 20 models.  Over the past year each
 * device changes status 6 to 14 times; each change is stored as the
 * server stores it: a reports row, a status_history row, and
 * failing_history rows for the rules that start or stop failing.  The
 * newest report is a few minutes old, except for 5% stale devices
 * (3 to 30 days) and 2% that never reported.  Everything is one
 * transaction without a journal (store_load_open); rows of the
 * per-device tables go in key order.  Prints the time taken and the row
 * counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "muster/profile.h"
#include "../../server/store.h"

#define UNIT_SIZE	1000
#define FAMILY_PCT	20
#define STALE_PCT	5
#define NEVER_PCT	2
#define YEAR		(365 * 86400)
#define MAX_CHANGES	14

static const char *const models[] = {
	"Xiaomi HM 1SW", "Xiaomi HM 1SC", "Redmi 1S", "LGE Nexus 5",
	"Motorola XT1068", "Samsung SM-G900F", "Samsung SM-J200G",
	"Samsung GT-I9300", "Micromax A116", "Micromax Q380",
	"Lenovo A6000", "Lenovo K3 Note", "OnePlus A0001", "Sony D6503",
	"HTC One M8", "Asus Z00AD", "Karbonn Titanium S5", "Intex Aqua Y2",
	"Huawei G620S", "",
};
#define NMODELS	(sizeof models / sizeof models[0])

static const char *const prules[] = { "redmi-1s-unfixed",
    "mi-cloud-sync-off", "cloud-messaging-off", "cloud-backup-off",
    "vendor-cloud-packages", "no-vendor-cloud-egress", "android-4-4-4" };
static const char *const frules[] = { "redmi-1s-unfixed",
    "cloud-messaging-off" };

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct rng {
	uint64_t	s;
};

static uint64_t
rnd(struct rng *r, uint64_t n)
{
	r->s = mix(r->s);
	return n == 0 ? 0 : r->s % n;
}

struct devrec {
	char		id[33];
	uint32_t	i;
};

static int
cmp_dev(const void *a, const void *b)
{
	return strcmp(((const struct devrec *)a)->id,
	    ((const struct devrec *)b)->id);
}

/* Everything about device i, drawn from a stream seeded by i. */
struct devsim {
	int		family;
	unsigned	unit;
	const char	*model;
	int64_t		enrolled;
	int		n;			/* status changes; 0: never */
	int64_t		t[MAX_CHANGES + 1];	/* report times */
	int64_t		seq[MAX_CHANGES + 1];
	int		ok[MAX_CHANGES + 1];
	int		fail[MAX_CHANGES + 1][2];	/* rule idx or -1 */
	int		last;			/* index of the newest report */
};

static void
simulate(uint32_t i, uint32_t ndev, int64_t end, struct devsim *d)
{
	struct rng r = { mix(i) };
	unsigned nunits = ndev / UNIT_SIZE > 10 ? ndev / UNIT_SIZE : 10;
	int64_t last, span, start;
	int k, nrules, j;

	memset(d, 0, sizeof *d);
	d->unit = (unsigned)rnd(&r, nunits);
	/* One unit in ten has about three family devices in all. */
	if (d->unit % 10 == 0)
		d->family = rnd(&r, UNIT_SIZE) < 3;
	else
		d->family = rnd(&r, 100) < FAMILY_PCT;
	d->model = d->family ? "" : models[rnd(&r, NMODELS)];
	d->enrolled = rnd(&r, 10) == 0 ? end - (int64_t)rnd(&r, YEAR) :
	    end - YEAR - (int64_t)rnd(&r, 30 * 86400);
	if (rnd(&r, 100) < NEVER_PCT)
		return;
	last = rnd(&r, 100) < STALE_PCT ?
	    end - 3 * 86400 - (int64_t)rnd(&r, 27 * 86400) :
	    end - (int64_t)rnd(&r, 1800);
	if (last <= d->enrolled)
		last = d->enrolled + 60;
	d->n = 6 + (int)rnd(&r, MAX_CHANGES - 6 + 1);
	start = d->enrolled + 60;
	span = last - start;
	nrules = d->family ? 2 : 7;
	for (k = 0; k < d->n; k++) {
		/* Sorted times: the k-th of n evenly jittered slots. */
		d->t[k] = start + span * k / d->n +
		    (int64_t)rnd(&r, (uint64_t)(span / d->n / 2 + 1));
		d->seq[k] = 1 + 24 * (int64_t)k;
		d->ok[k] = k == 0 ? rnd(&r, 3) != 0 : !d->ok[k - 1];
		d->fail[k][0] = d->fail[k][1] = -1;
		if (!d->ok[k]) {
			d->fail[k][0] = (int)rnd(&r, (uint64_t)nrules);
			j = (int)rnd(&r, (uint64_t)nrules);
			if (rnd(&r, 2) == 0 && j != d->fail[k][0])
				d->fail[k][1] = j;
		}
	}
	/* The newest report, unless it is the last change itself. */
	d->last = d->n - 1;
	if (last > d->t[d->n - 1]) {
		d->last = d->n;
		d->t[d->n] = last;
		d->seq[d->n] = d->seq[d->n - 1] + 1 + (int64_t)rnd(&r, 20);
		d->ok[d->n] = d->ok[d->n - 1];
		d->fail[d->n][0] = d->fail[d->n - 1][0];
		d->fail[d->n][1] = d->fail[d->n - 1][1];
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What was loaded, counted for the closing line. */
enum { N_REPORT, N_HISTORY, N_FHIST, N_FAILING, N__N };

static int
has(const int f[2], int rule)
{
	return rule >= 0 && (f[0] == rule || f[1] == rule);
}

/* Reports this error of the store and returns -1. */
static int
fail(const struct muster_err *e)
{
	fprintf(stderr, "rollupgen: %s\n", e->msg);
	return -1;
}

/* The per-device rows of d (status changes, reports, failing rules). */
static int
device_rows(struct store_load *l, const char *id, const struct devsim *d,
    int64_t counts[N__N])
{
	static const unsigned char hash[STORE_HASH_LEN], body[96];
	const char *const *rules = d->family ? frules : prules;
	const char *prof = d->family ? "family-optin" : "iaf-personnel";
	struct store_load_report r;
	struct muster_err e;
	int k, j, prevf[2] = { -1, -1 };

	for (k = 0; k <= d->last && d->n > 0; k++) {
		r.device = id;
		r.seq = d->seq[k];
		r.time = d->t[k];
		r.received = d->t[k] + 2;
		r.compliant = d->ok[k];
		r.profile = prof;
		r.serial = 1;
		r.hash = hash;
		r.body = body;
		r.len = sizeof body;
		if (store_load_report(l, &r, &e) != 0)
			return fail(&e);
		counts[N_REPORT]++;
		if (k == d->n)
			break;		/* the newest report changed nothing */
		if (store_load_status(l, id, d->t[k], d->seq[k], d->t[k] + 2,
		    d->ok[k], &e) != 0)
			return fail(&e);
		counts[N_HISTORY]++;
		/* Rules that stop failing (0) and start failing (1). */
		for (j = 0; j < 2; j++) {
			int stop = prevf[j] >= 0 && !has(d->fail[k], prevf[j]);
			int start = d->fail[k][j] >= 0 &&
			    !has(prevf, d->fail[k][j]);

			if (stop) {
				if (store_load_failing_change(l, id,
				    rules[prevf[j]], d->t[k], d->seq[k], 0,
				    &e) != 0)
					return fail(&e);
				counts[N_FHIST]++;
			}
			if (start) {
				if (store_load_failing_change(l, id,
				    rules[d->fail[k][j]], d->t[k], d->seq[k],
				    1, &e) != 0)
					return fail(&e);
				counts[N_FHIST]++;
			}
		}
		prevf[0] = d->fail[k][0];
		prevf[1] = d->fail[k][1];
	}
	for (j = 0; j < 2 && d->n > 0; j++) {
		if (prevf[j] < 0)
			continue;
		if (store_load_failing(l, id, rules[prevf[j]], d->t[d->n - 1],
		    &e) != 0)
			return fail(&e);
		counts[N_FAILING]++;
	}
	return 0;
}

/* Publishes the profile in file path through the store API. */
static int
publish(struct store *st, const char *path)
{
	static const char sig[] = "untrusted comment: bench, not signed\n";
	struct muster_err e;
	struct profile *p = NULL;
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = fs_read_file(path, PROFILE_MAX_BYTES, &buf, &len, &e)) ==
	    0 && (rc = profile_parse(path, buf, len, &p, &e)) == 0 &&
	    (rc = store_begin(st, &e)) == 0) {
		if ((rc = store_profile_put(st, p, buf, len, sig,
		    strlen(sig), &e)) == 0)
			rc = store_commit(st, &e);
		else
			store_rollback(st);
	}
	if (rc != 0)
		fprintf(stderr, "rollupgen: %s\n", e.msg);
	profile_free(p);
	free(buf);
	return rc;
}

static int
generate(const char *dir, uint32_t ndev, char **profiles, int nprofiles)
{
	static const unsigned char pk[32];
	struct muster_err e;
	struct store *st = NULL;
	struct store_load *l = NULL;
	struct store_load_device ld;
	struct devrec *devs = NULL;
	uint32_t *rank = NULL;
	struct devsim d;
	int64_t end = (int64_t)time(NULL) - 60, counts[N__N] = { 0 };
	char token[17], unit[32], person[32];
	double t0 = now_s(), t1;
	uint32_t i, k;
	int rc = 1;

	if (store_open(dir, 0, &st, &e) != 0) {
		fprintf(stderr, "rollupgen: %s\n", e.msg);
		goto out;
	}
	for (k = 0; k < (uint32_t)nprofiles; k++)
		if (publish(st, profiles[k]) != 0)
			goto out;
	store_close(st);
	st = NULL;
	if ((devs = calloc(ndev, sizeof *devs)) == NULL ||
	    (rank = calloc(ndev, sizeof *rank)) == NULL) {
		fprintf(stderr, "rollupgen: out of memory\n");
		goto out;
	}
	for (i = 0; i < ndev; i++) {
		snprintf(devs[i].id, sizeof devs[i].id, "%016llx%016llx",
		    (unsigned long long)mix(2 * (uint64_t)i + 1),
		    (unsigned long long)mix(2 * (uint64_t)i + 2));
		devs[i].i = i;
	}
	qsort(devs, ndev, sizeof *devs, cmp_dev);
	for (k = 0; k < ndev; k++)
		rank[devs[k].i] = k;
	if (store_load_open(dir, &l, &e) != 0) {
		fail(&e);
		goto out;
	}
	/* The profiles were in force all year. */
	if (store_load_profiles_published(l, end - YEAR - 31 * 86400, &e) !=
	    0) {
		fail(&e);
		goto out;
	}
	/* Tokens in key order (the token id is the device's rank). */
	for (k = 0; k < ndev; k++) {
		snprintf(token, sizeof token, "%016llx", (unsigned long long)k);
		if (store_load_token(l, token, end - YEAR, end, &e) != 0) {
			fail(&e);
			goto out;
		}
	}
	/* Devices in enrollment order: ids random, as a real fleet's. */
	for (i = 0; i < ndev; i++) {
		char id[33];

		simulate(i, ndev, end, &d);
		snprintf(id, sizeof id, "%016llx%016llx",
		    (unsigned long long)mix(2 * (uint64_t)i + 1),
		    (unsigned long long)mix(2 * (uint64_t)i + 2));
		snprintf(token, sizeof token, "%016llx",
		    (unsigned long long)rank[i]);
		snprintf(unit, sizeof unit, "IAF/%04u-WING", d.unit);
		snprintf(person, sizeof person, "IAF-%07u", i);
		memset(&ld, 0, sizeof ld);
		ld.id = id;
		ld.pk = pk;
		ld.scope = d.family ? SCOPE_FAMILY : SCOPE_PERSONNEL;
		ld.unit = unit;
		ld.person = person;
		ld.model = d.model;
		ld.token_id = token;
		ld.enrolled = d.enrolled;
		if (d.n > 0) {
			ld.last_seq = d.seq[d.last];
			ld.last_time = d.t[d.last];
			ld.last_received = d.t[d.last] + 2;
			ld.last_compliant = d.ok[d.last];
			ld.last_profile = d.family ? "family-optin" :
			    "iaf-personnel";
			ld.last_serial = 1;
		}
		if (store_load_device(l, &ld, &e) != 0) {
			fail(&e);
			goto out;
		}
	}
	/* The history tables in device-id order. */
	for (k = 0; k < ndev; k++) {
		simulate(devs[k].i, ndev, end, &d);
		if (device_rows(l, devs[k].id, &d, counts) != 0)
			goto out;
	}
	/* Committed, and back to WAL, as the server keeps it. */
	if (store_load_finish(l, &e) != 0) {
		fail(&e);
		goto out;
	}
	t1 = now_s();
	printf("generated %u devices in %.1f s: %lld reports, %lld status "
	    "changes, %lld failing-rule changes, %lld failing now\n", ndev,
	    t1 - t0, (long long)counts[N_REPORT], (long long)counts[N_HISTORY],
	    (long long)counts[N_FHIST], (long long)counts[N_FAILING]);
	rc = 0;
out:
	store_load_close(l);
	store_close(st);
	free(devs);
	free(rank);
	return rc;
}

static int
run_sql(const char *dir, const char *sql)
{
	struct muster_err e;
	double t0 = now_s();

	if (store_load_try(dir, sql, &e) != 0) {
		fprintf(stderr, "rollupgen: %s\n", e.msg);
		return 1;
	}
	printf("%.2f s: %s\n", now_s() - t0, sql);
	return 0;
}

int
main(int argc, char **argv)
{
	char *end = NULL;
	unsigned long n;

	if (argc == 4 && strcmp(argv[1], "--index") == 0)
		return run_sql(argv[2], argv[3]);
	if (argc < 3 || (n = strtoul(argv[2], &end, 10)) == 0 ||
	    *end != '\0' || n > 50000000) {
		fprintf(stderr, "usage: rollupgen DATA_DIR DEVICES "
		    "[PROFILE.cfg...]\n"
		    "       rollupgen --index DATA_DIR SQL\n");
		return 64;
	}
	return generate(argv[1], (uint32_t)n, argv + 3, argc - 3);
}
