/*
 * rollupgen: fills a new store with a simulated fleet for the roll-up
 * benchmark (tests/bench/rollup.sh).
 *
 *	rollupgen DATA_DIR DEVICES [PROFILE.cfg...]
 *		make the store (store_open: the real schema), publish the
 *		profiles (store API, signature not checked), then bulk-insert
 *		a year of the fleet's history
 *	rollupgen --index DATA_DIR SQL	run one statement (an index to try)
 *
 * DEVICES devices in units of about 1000 (one unit in ten with only a
 * few family devices), 20% family, 20 models.  Over the past year each
 * device changes status 6 to 14 times; each change is stored as the
 * server stores it: a reports row, a status_history row, and
 * failing_history rows for the rules that start or stop failing.  The
 * newest report is a few minutes old, except for 5% stale devices
 * (3 to 30 days) and 2% that never reported.  Everything is one
 * transaction without a journal; rows of the per-device tables go in
 * key order.  Prints the time taken and the row counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

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

static int
step(sqlite3 *db, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "rollupgen: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static int
exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "rollupgen: %.60s: %s\n", sql, msg);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

enum { S_TOKEN, S_DEVICE, S_REPORT, S_HISTORY, S_FHIST, S_FAILING, S__N };

static const char *const sqls[S__N] = {
	[S_TOKEN] = "INSERT INTO tokens (id, used, expires) VALUES (?1, ?2, ?3)",
	[S_DEVICE] = "INSERT INTO devices (id, pubkey, scope, unit, person, "
	    "model, token_id, enrolled, last_seq, last_time, last_received, "
	    "last_status, last_profile, last_serial) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
	[S_REPORT] = "INSERT INTO reports (device, seq, time, received, "
	    "status, profile, serial, hash, body) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, 1, ?7, ?8)",
	[S_HISTORY] = "INSERT INTO status_history (device, time, seq, "
	    "received, status) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FHIST] = "INSERT INTO failing_history (device, rule, time, seq, "
	    "failing) VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_FAILING] = "INSERT INTO device_failing (device, rule, since) "
	    "VALUES (?1, ?2, ?3)",
};

static const char *
status(int ok)
{
	return ok ? "compliant" : "noncompliant";
}

static int
has(const int f[2], int rule)
{
	return rule >= 0 && (f[0] == rule || f[1] == rule);
}

/* The per-device rows of d (status changes, reports, failing rules). */
static int
device_rows(sqlite3 *db, sqlite3_stmt **st, const char *id,
    const struct devsim *d, int64_t counts[S__N])
{
	static const unsigned char hash[32], body[96];
	const char *const *rules = d->family ? frules : prules;
	const char *prof = d->family ? "family-optin" : "iaf-personnel";
	int k, j, prevf[2] = { -1, -1 };

	for (k = 0; k <= d->last && d->n > 0; k++) {
		sqlite3_stmt *s = st[S_REPORT];

		sqlite3_bind_text(s, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, d->seq[k]);
		sqlite3_bind_int64(s, 3, d->t[k]);
		sqlite3_bind_int64(s, 4, d->t[k] + 2);
		sqlite3_bind_text(s, 5, status(d->ok[k]), -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 6, prof, -1, SQLITE_STATIC);
		sqlite3_bind_blob(s, 7, hash, sizeof hash, SQLITE_STATIC);
		sqlite3_bind_blob(s, 8, body, sizeof body, SQLITE_STATIC);
		if (step(db, s) != 0)
			return -1;
		counts[S_REPORT]++;
		if (k == d->n)
			break;		/* the newest report changed nothing */
		s = st[S_HISTORY];
		sqlite3_bind_text(s, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, d->t[k]);
		sqlite3_bind_int64(s, 3, d->seq[k]);
		sqlite3_bind_int64(s, 4, d->t[k] + 2);
		sqlite3_bind_text(s, 5, status(d->ok[k]), -1, SQLITE_STATIC);
		if (step(db, s) != 0)
			return -1;
		counts[S_HISTORY]++;
		/* Rules that stop failing (0) and start failing (1). */
		for (j = 0; j < 2; j++) {
			int stop = prevf[j] >= 0 && !has(d->fail[k], prevf[j]);
			int start = d->fail[k][j] >= 0 &&
			    !has(prevf, d->fail[k][j]);

			s = st[S_FHIST];
			if (stop) {
				sqlite3_bind_text(s, 1, id, 32, SQLITE_STATIC);
				sqlite3_bind_text(s, 2, rules[prevf[j]], -1,
				    SQLITE_STATIC);
				sqlite3_bind_int64(s, 3, d->t[k]);
				sqlite3_bind_int64(s, 4, d->seq[k]);
				sqlite3_bind_int(s, 5, 0);
				if (step(db, s) != 0)
					return -1;
				counts[S_FHIST]++;
			}
			if (start) {
				sqlite3_bind_text(s, 1, id, 32, SQLITE_STATIC);
				sqlite3_bind_text(s, 2, rules[d->fail[k][j]],
				    -1, SQLITE_STATIC);
				sqlite3_bind_int64(s, 3, d->t[k]);
				sqlite3_bind_int64(s, 4, d->seq[k]);
				sqlite3_bind_int(s, 5, 1);
				if (step(db, s) != 0)
					return -1;
				counts[S_FHIST]++;
			}
		}
		prevf[0] = d->fail[k][0];
		prevf[1] = d->fail[k][1];
	}
	for (j = 0; j < 2 && d->n > 0; j++) {
		sqlite3_stmt *s = st[S_FAILING];

		if (prevf[j] < 0)
			continue;
		sqlite3_bind_text(s, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_text(s, 2, rules[prevf[j]], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, d->t[d->n - 1]);
		if (step(db, s) != 0)
			return -1;
		counts[S_FAILING]++;
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
	struct devrec *devs = NULL;
	uint32_t *rank = NULL;
	sqlite3 *db = NULL;
	sqlite3_stmt *s[S__N] = { NULL };
	struct devsim d;
	int64_t end = (int64_t)time(NULL) - 60, counts[S__N] = { 0 };
	char path[4096], token[17], unit[32], person[32];
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
	snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_FILE);
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
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    exec(db, "PRAGMA journal_mode = DELETE;"
	    "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
	    "PRAGMA cache_size = -3000000; PRAGMA locking_mode = EXCLUSIVE;"
	    "PRAGMA temp_store = MEMORY; BEGIN") != 0)
		goto out;
	for (k = 0; k < S__N; k++)
		if (sqlite3_prepare_v2(db, sqls[k], -1, &s[k], NULL) !=
		    SQLITE_OK) {
			fprintf(stderr, "rollupgen: %s\n", sqlite3_errmsg(db));
			goto out;
		}
	/* The profiles were in force all year. */
	snprintf(path, sizeof path, "UPDATE profiles SET published = %lld",
	    (long long)(end - YEAR - 31 * 86400));
	if (exec(db, path) != 0)
		goto out;
	/* Tokens in key order (the token id is the device's rank). */
	for (k = 0; k < ndev; k++) {
		snprintf(token, sizeof token, "%016llx", (unsigned long long)k);
		sqlite3_bind_text(s[S_TOKEN], 1, token, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s[S_TOKEN], 2, end - YEAR);
		sqlite3_bind_int64(s[S_TOKEN], 3, end);
		if (step(db, s[S_TOKEN]) != 0)
			goto out;
	}
	/* Devices in enrollment order: ids random, as a real fleet's. */
	for (i = 0; i < ndev; i++) {
		sqlite3_stmt *x = s[S_DEVICE];
		char id[33];

		simulate(i, ndev, end, &d);
		snprintf(id, sizeof id, "%016llx%016llx",
		    (unsigned long long)mix(2 * (uint64_t)i + 1),
		    (unsigned long long)mix(2 * (uint64_t)i + 2));
		snprintf(token, sizeof token, "%016llx",
		    (unsigned long long)rank[i]);
		snprintf(unit, sizeof unit, "IAF/%04u-WING", d.unit);
		snprintf(person, sizeof person, "IAF-%07u", i);
		sqlite3_bind_text(x, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_blob(x, 2, pk, sizeof pk, SQLITE_STATIC);
		sqlite3_bind_text(x, 3, d.family ? "family" : "personnel", -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(x, 4, unit, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(x, 5, person, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(x, 6, d.model, -1, SQLITE_STATIC);
		sqlite3_bind_text(x, 7, token, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(x, 8, d.enrolled);
		if (d.n > 0) {
			sqlite3_bind_int64(x, 9, d.seq[d.last]);
			sqlite3_bind_int64(x, 10, d.t[d.last]);
			sqlite3_bind_int64(x, 11, d.t[d.last] + 2);
			sqlite3_bind_text(x, 12, status(d.ok[d.last]), -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(x, 13, d.family ? "family-optin" :
			    "iaf-personnel", -1, SQLITE_STATIC);
			sqlite3_bind_int(x, 14, 1);
		} else {
			sqlite3_bind_int(x, 9, 0);
			for (k = 10; k <= 14; k++)
				sqlite3_bind_null(x, (int)k);
		}
		if (step(db, x) != 0)
			goto out;
		counts[S_DEVICE]++;
	}
	/* The history tables in device-id order. */
	for (k = 0; k < ndev; k++) {
		simulate(devs[k].i, ndev, end, &d);
		if (device_rows(db, s, devs[k].id, &d, counts) != 0)
			goto out;
	}
	if (exec(db, "COMMIT") != 0)
		goto out;
	for (k = 0; k < S__N; k++) {
		sqlite3_finalize(s[k]);
		s[k] = NULL;
	}
	/* Back to WAL, as the server keeps it. */
	if (exec(db, "PRAGMA locking_mode = NORMAL;"
	    "PRAGMA journal_mode = WAL") != 0)
		goto out;
	t1 = now_s();
	printf("generated %u devices in %.1f s: %lld reports, %lld status "
	    "changes, %lld failing-rule changes, %lld failing now\n", ndev,
	    t1 - t0, (long long)counts[S_REPORT], (long long)counts[S_HISTORY],
	    (long long)counts[S_FHIST], (long long)counts[S_FAILING]);
	rc = 0;
out:
	for (k = 0; k < S__N; k++)
		sqlite3_finalize(s[k]);
	sqlite3_close(db);
	store_close(st);
	free(devs);
	free(rank);
	return rc;
}

static int
run_sql(const char *dir, const char *sql)
{
	char path[4096];
	sqlite3 *db = NULL;
	double t0 = now_s();
	int rc = 1;

	snprintf(path, sizeof path, "%s/%s", dir, STORE_DB_FILE);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK && exec(db, "PRAGMA cache_size = -1000000") == 0 &&
	    exec(db, sql) == 0) {
		printf("%.2f s: %s\n", now_s() - t0, sql);
		rc = 0;
	}
	sqlite3_close(db);
	return rc;
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
