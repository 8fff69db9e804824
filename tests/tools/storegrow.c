/*
 * storegrow: how many bytes the store grows by per report, through the
 * real store (store_open, store_report_put, store_prune: the schema, the
 * runs, the retention the server runs), with a simulated clock, for
 * tests/e2e/test_retention.sh and tests/bench/storage.sh.
 *
 *	storegrow DATA_DIR DEVICES DAYS RETENTION_HOURS [CHANGES]
 *
 * DEVICES personnel devices report hourly (a body of about the 1.13 KB
 * an agent's report has) with an unchanged status, each hour's reports
 * in one transaction as the writer groups them, and after each hour the
 * store prunes as the idle writer would (RETENTION_HOURS 0: never, the
 * store as it was before retention).  First the retention window fills
 * (RETENTION_HOURS of reports, at least a day), then DAYS days are
 * measured: the growth of muster.db (+ WAL, checkpointed) over them.
 * Then CHANGES (default 0) more hours in which every device's status
 * changes each hour, and a window of unchanged hours after them: the
 * growth per status change (each change keeps its report for good, as
 * evidence, with its history rows).  Prints
 *
 *	unchanged REPORTS BYTES BYTES_PER_REPORT
 *	changes CHANGES BYTES BYTES_PER_CHANGE
 *
 * Exit 0, or 1 with one line on stderr.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "muster/err.h"
#include "../../server/store.h"

#define T0		1800000000	/* the simulated clock starts here */
#define HOUR		3600
#define BODY_TARGET	1130		/* bytes, an agent's usual report */

static const char *const rules[] = { "redmi-1s-unfixed",
    "mi-cloud-sync-off", "cloud-messaging-off", "cloud-backup-off",
    "vendor-cloud-packages", "no-vendor-cloud-egress", "android-4-4-4" };
#define NRULES	(sizeof rules / sizeof rules[0])

static int
fail(const char *what, const struct muster_err *e)
{
	fprintf(stderr, "storegrow: %s: %s\n", what, e != NULL ? e->msg : "");
	return 1;
}

/* Bytes of the store's files, its WAL checkpointed into it first. */
static int64_t
store_bytes(const char *dir)
{
	char path[4096];
	struct stat sb;
	sqlite3 *db = NULL;
	int64_t n = 0;

	snprintf(path, sizeof path, "%s/muster.db", dir);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) ==
	    SQLITE_OK)
		(void)sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
		    NULL, NULL);
	sqlite3_close(db);
	if (stat(path, &sb) == 0)
		n += (int64_t)sb.st_size;
	snprintf(path, sizeof path, "%s/muster.db-wal", dir);
	if (stat(path, &sb) == 0)
		n += (int64_t)sb.st_size;
	return n;
}

/* A report body like an agent's, of about BODY_TARGET bytes. */
static size_t
body(char *buf, size_t size, const char *dev, int64_t seq, time_t t,
    int compliant)
{
	size_t n, i, pad;
	char ts[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = (size_t)snprintf(buf, size, "{\"device\":\"%s\",\"seq\":%" PRId64
	    ",\"time\":\"%s\",\"profile\":\"iaf-personnel\",\"serial\":1,"
	    "\"status\":\"%s\",\"dropped\":0,\"model\":\"Xiaomi HM 1SW\","
	    "\"results\":[", dev, seq, ts, compliant ? "compliant" :
	    "noncompliant");
	pad = (BODY_TARGET - n) / NRULES - 40;
	for (i = 0; i < NRULES && n < size; i++) {
		n += (size_t)snprintf(buf + n, size - n, "%s{\"rule\":\"%s\","
		    "\"result\":\"%s\",\"detail\":\"%.*s\"}", i ? "," : "",
		    rules[i], compliant || i ? "pass" : "fail",
		    (int)(pad > strlen(rules[i]) ? pad - strlen(rules[i]) : 0),
		    "the device says so, as the rule reads it: every setting "
		    "and package checked against the profile's rule, nothing "
		    "identifying kept in the text............................"
		    "...............................................");
	}
	n += (size_t)snprintf(buf + n, size - n, "]}");
	return n;
}

/* One simulated hour: a report from every device, then pruning. */
static int
hour(struct store *st, char (*ids)[DEVICE_ID_HEX], int ndev, int64_t h,
    int flip, int prune, int64_t *nreports)
{
	static const char *const failing[] = { "redmi-1s-unfixed" };
	struct store_report r;
	struct muster_err e;
	enum store_put res;
	char buf[4096];
	time_t now = T0 + (time_t)(h * HOUR);
	size_t n;
	int i, more, compliant;

	if (store_begin(st, &e) != 0)
		return fail("begin", &e);
	for (i = 0; i < ndev; i++) {
		compliant = flip ? (int)(h & 1) : 1;
		memset(&r, 0, sizeof r);
		r.device = ids[i];
		r.seq = h + 1;
		r.time = now + i % 60;
		r.received = r.time + 1;
		r.window = 2 * HOUR;
		r.profile = "iaf-personnel";
		r.serial = 1;
		r.compliant = compliant;
		r.failing = compliant ? NULL : failing;
		r.nfailing = compliant ? 0 : 1;
		r.len = body(buf, sizeof buf, ids[i], r.seq, r.time, compliant);
		r.body = (const unsigned char *)buf;
		if (store_report_put(st, &r, &res, &e) != 0)
			return fail("report", &e);
		if (res != STORE_STORED)
			return fail("report not stored", NULL);
		(*nreports)++;
	}
	if (store_commit(st, &e) != 0)
		return fail("commit", &e);
	if (!prune)
		return 0;
	do {
		if (store_prune(st, now + HOUR - 1, 256, &n, &more, &e) != 0)
			return fail("prune", &e);
	} while (more);
	return 0;
}

int
main(int argc, char **argv)
{
	struct store *st = NULL;
	struct store_device d;
	struct muster_err e;
	char (*ids)[DEVICE_ID_HEX] = NULL;
	unsigned char rnd[16];
	int64_t h, warm, days, ret, changes = 0, n = 0, b0, b1, b2;
	int ndev, i, rc = 1;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: storegrow DATA_DIR DEVICES DAYS "
		    "RETENTION_HOURS [CHANGES]\n");
		return 64;
	}
	ndev = atoi(argv[2]);
	days = atoll(argv[3]);
	ret = atoll(argv[4]);
	if (argc == 6)
		changes = atoll(argv[5]);
	if (ndev < 1 || ndev > 100000 || days < 1 || days > 366 || ret < 0 ||
	    ret > 24 * 366 || changes < 0 || changes > 1000) {
		fprintf(stderr, "storegrow: arguments out of range\n");
		return 64;
	}
	if (sodium_init() < 0 || (ids = calloc((size_t)ndev,
	    sizeof *ids)) == NULL)
		return fail("init", NULL);
	if (store_open(argv[1], 0, &st, &e) != 0) {
		rc = fail(argv[1], &e);
		goto out;
	}
	store_retention_set(st, ret * HOUR);
	if (store_begin(st, &e) != 0)
		goto out;
	for (i = 0; i < ndev; i++) {
		memset(&d, 0, sizeof d);
		randombytes_buf(rnd, sizeof rnd);
		sodium_bin2hex(ids[i], sizeof ids[i], rnd, 16);
		memcpy(d.id, ids[i], sizeof d.id);
		randombytes_buf(d.pk, sizeof d.pk);
		d.scope = SCOPE_PERSONNEL;
		snprintf(d.unit, sizeof d.unit, "IAF/%d-WING", i % 40);
		snprintf(d.person, sizeof d.person, "IAF-%06d", i);
		snprintf(d.model, sizeof d.model, "Xiaomi HM 1SW");
		randombytes_buf(rnd, 8);
		sodium_bin2hex(d.token_id, sizeof d.token_id, rnd, 8);
		d.enrolled = T0 - HOUR;
		if (store_device_add(st, &d, T0 + 14 * 86400, &e) != 0) {
			rc = fail("enroll", &e);
			goto out;
		}
	}
	if (store_commit(st, &e) != 0) {
		rc = fail("commit", &e);
		goto out;
	}
	/* The window fills first: then growth is what stays for good. */
	warm = ret > 24 ? ret : 24;
	for (h = 0; h < warm; h++)
		if (hour(st, ids, ndev, h, 0, ret > 0, &n) != 0)
			goto out;
	b0 = store_bytes(argv[1]);
	n = 0;
	for (; h < warm + days * 24; h++)
		if (hour(st, ids, ndev, h, 0, ret > 0, &n) != 0)
			goto out;
	b1 = store_bytes(argv[1]);
	printf("unchanged %" PRId64 " %" PRId64 " %.2f\n", n, b1 - b0,
	    (double)(b1 - b0) / (double)n);
	if (changes > 0) {
		int64_t nchg = 0, prev = 1, m = 0, k;

		/*
		 * Status = the hour's parity: a change every hour.  Then a
		 * whole window of unchanged hours, so that the window holds
		 * as many raw reports as before and what is left is what
		 * the changes keep for good.
		 */
		if ((h & 1) == 1)
			h++;
		for (k = 0; k < changes; k++, h++) {
			if (hour(st, ids, ndev, h, 1, ret > 0, &m) != 0)
				goto out;
			nchg += (h & 1) != prev ? ndev : 0;
			prev = h & 1;
		}
		if (prev == 0)		/* back to compliant: one more */
			nchg += ndev;
		for (k = 0; k < warm; k++, h++)
			if (hour(st, ids, ndev, h, 0, ret > 0, &m) != 0)
				goto out;
		b2 = store_bytes(argv[1]);
		printf("changes %" PRId64 " %" PRId64 " %.2f\n", nchg,
		    b2 - b1, (double)(b2 - b1) / (double)nchg);
	}
	rc = 0;
out:
	store_close(st);
	free(ids);
	return rc;
}
