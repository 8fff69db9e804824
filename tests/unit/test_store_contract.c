/*
 * store contract: what server/store.h promises, run against the backend
 * MUSTER_TEST_STORE names -- a PostgreSQL URI (tests/e2e/test_store_pg.sh
 * starts a throwaway server and runs this binary with it) -- or, when it
 * is unset, SQLite in a temporary directory (make check's plain run).
 * Each test gets a fresh store: a new directory, or the database's
 * public schema dropped and made again.
 *
 * Enrollment with fresh, used and revoked tokens; reports stored,
 * duplicate, replayed and back-dated; history only as changes, read back
 * through the roll-up scans, present and past; revocations; deletion and
 * what it takes with it; consent receipts; a job's savepoint rolled back
 * alone; profiles published, duplicated and rolled back; the read
 * interface (an empty store, one snapshot per answer, the device list);
 * the bulk loader; and two writer handles on one store at the same
 * instant (two servers): one token enrolls one device, one report is
 * stored once and replay holds across handles; the documents several
 * servers share (PostgreSQL only); administrators and the audit chain
 * (two appenders at once make one chain; retention never touches it);
 * retention's pruning and the runs of reports that answer --as-of after
 * it; re-registration; the console's reads, the fleet gauges and the
 * family rows; ping, size and backup (refused on PostgreSQL, naming
 * pg_dump); the device's signature kept with each report, read back by
 * the history and store_read_report.  On PostgreSQL also: schema 4
 * migrated to 5 (old reports "not kept"), and a
 * connection lost under the writer fails the batch with MUSTER_ETEMP
 * (answered 503) and the next transaction reconnects.
 */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "muster/profile.h"
#include "muster/report.h"
#include "../../server/store.h"

#define TOKEN_A		"0123456789abcdef"
#define TOKEN_B		"fedcba9876543210"
#define TOKEN_C		"00000000aaaaaaaa"
#define DEVICE_A	"00112233445566778899aabbccddeeff"
#define DEVICE_B	"ffeeddccbbaa99887766554433221100"
#define DEVICE_C	"0123456789abcdef0123456789abcdef"

struct cfx {
	char		 dir[UNIT_TMPDIR_MAX];
	char		 data[UNIT_TMPDIR_MAX + 8];
	const char	*where;		/* data dir or URI */
	int		 pg;
	struct store	*st;
};

static const char *
pg_uri(void)
{
	const char *u = getenv("MUSTER_TEST_STORE");

	return u != NULL && u[0] != '\0' ? u : NULL;
}

/* An empty PostgreSQL database: the schema dropped and made again. */
static int
pg_reset(const char *uri)
{
	PGconn *c = PQconnectdb(uri);
	PGresult *r;
	int ok;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pg_reset: %s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	/*
	 * A failed test may leave a handle in a transaction behind (cmocka
	 * stops at the assert): its locks would hold the DROP for ever.
	 */
	r = PQexec(c, "SET client_min_messages = warning;"
	    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    "WHERE datname = current_database() AND pid <> pg_backend_pid();"
	    "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "pg_reset: %s", PQresultErrorMessage(r));
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

/* A fresh, empty store (nothing opened yet) in *f. */
static int
fresh(struct cfx *f)
{
	if (unit_tmpdir(f->dir, "contract") != 0)
		return -1;
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	if ((f->where = pg_uri()) != NULL) {
		f->pg = 1;
		return pg_reset(f->where);
	}
	f->where = f->data;
	return 0;
}

static int
setup_empty(void **state)
{
	struct cfx *f = calloc(1, sizeof *f);

	if (f == NULL || fresh(f) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
setup(void **state)
{
	struct cfx *f;
	struct muster_err e;

	if (setup_empty(state) != 0)
		return -1;
	f = *state;
	if (store_open(f->where, 0, &f->st, &e) != 0) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	struct cfx *f = *state;
	int rc;

	store_close(f->st);
	rc = unit_rmtree(f->dir);
	free(f);
	return rc;
}

#define T(t)	cmocka_unit_test_setup_teardown(t, setup, teardown)
#define TE(t)	cmocka_unit_test_setup_teardown(t, setup_empty, teardown)

static void
tx_begin(struct store *st)
{
	struct muster_err e;

	if (store_begin(st, &e) != 0)
		fail_msg("store_begin: %s", e.msg);
}

static int
tx_end(struct store *st, int rc)
{
	struct muster_err e;

	if (rc == 0) {
		if (store_commit(st, &e) != 0)
			fail_msg("store_commit: %s", e.msg);
	} else
		store_rollback(st);
	return rc;
}

#define IN_TX(st, call)	(tx_begin(st), tx_end((st), (call)))

static void
device_init(struct store_device *d, const char *id, const char *token,
    enum profile_scope scope, const char *unit)
{
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", id);
	randombytes_buf(d->pk, sizeof d->pk);
	d->scope = scope;
	snprintf(d->unit, sizeof d->unit, "%s", unit);
	snprintf(d->person, sizeof d->person, "IAF-%.6s", id);
	snprintf(d->model, sizeof d->model, "Xiaomi HM 1SW");
	snprintf(d->token_id, sizeof d->token_id, "%s", token);
	d->enrolled = 1700000000;
}

static void
enroll(struct store *st, const char *id, const char *token,
    enum profile_scope scope, const char *unit)
{
	struct store_device d;
	struct muster_err e;

	device_init(&d, id, token, scope, unit);
	if (IN_TX(st, store_device_add(st, &d, 1900000000, &e)) != 0)
		fail_msg("enroll: %s", e.msg);
}

static void
report_init(struct store_report *r, const char *device, int64_t seq,
    int compliant, const char *body, const char *const *failing,
    size_t nfailing)
{
	memset(r, 0, sizeof *r);
	r->device = device;
	r->seq = seq;
	r->time = 1800000000 + seq * 60;
	r->profile = "iaf-personnel";
	r->serial = 3;
	r->compliant = compliant;
	r->failing = failing;
	r->nfailing = nfailing;
	r->body = (const unsigned char *)body;
	r->len = strlen(body);
}

static enum store_put
put(struct store *st, const struct store_report *r, int want_rc)
{
	struct muster_err e;
	enum store_put res = (enum store_put)-1;

	assert_int_equal(IN_TX(st, store_report_put(st, r, &res, &e)),
	    want_rc);
	return res;
}

static void
open_reopen(void **state)
{
	struct cfx *f = *state;
	struct store *ro = NULL, *again = NULL;
	struct muster_err e;
	int64_t n = -1;

	/* Opening again migrates nothing twice and keeps what is stored. */
	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	assert_int_equal(store_open(f->where, 0, &again, &e), 0);
	assert_int_equal(store_count_devices(again, &n, &e), 0);
	assert_int_equal(n, 1);
	store_close(again);
	assert_int_equal(store_open(f->where, 1, &ro, &e), 0);
	assert_int_equal(store_count_devices(ro, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_count_reports(ro, &n, &e), 0);
	assert_int_equal(n, 0);
	store_close(ro);
	store_close(NULL);
}

static void
enroll_tokens(void **state)
{
	struct cfx *f = *state;
	struct store_device d, got;
	struct muster_err e;
	int used = -1, revoked = -1;

	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_memory_equal(got.pk, d.pk, sizeof d.pk);
	assert_string_equal(got.unit, "IAF/25-WING");
	assert_string_equal(got.person, d.person);
	assert_string_equal(got.model, "Xiaomi HM 1SW");
	assert_string_equal(got.token_id, TOKEN_A);
	assert_int_equal(got.scope, SCOPE_PERSONNEL);
	assert_int_equal(got.enrolled, 1700000000);
	assert_int_equal(got.revoked, 0);
	assert_int_equal(got.last_seq, 0);
	assert_int_equal(store_token_get(f->st, TOKEN_A, &used, &revoked, &e),
	    0);
	assert_true(used == 1 && revoked == 0);
	assert_int_equal(store_token_get(f->st, TOKEN_C, &used, &revoked, &e),
	    0);
	assert_true(used == 0 && revoked == 0);

	device_init(&d, DEVICE_B, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "used"));
	assert_int_equal(store_device_get(f->st, DEVICE_B, &got, &e),
	    MUSTER_ENOINPUT);

	assert_int_equal(IN_TX(f->st, store_revoke(f->st, TOKEN_B, &e)), 0);
	assert_int_equal(store_token_revoked(f->st, TOKEN_B, &revoked, &e), 0);
	assert_int_equal(revoked, 1);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_FAMILY, "IAF/25-WING");
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "revoked"));

	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.revoked, 1);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, "nothex", &e)),
	    MUSTER_EDATA);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, "0123", &e)),
	    MUSTER_EDATA);
}

static void
reports(void **state)
{
	struct cfx *f = *state;
	struct store_report r;
	struct store_device got;
	struct muster_err e;
	const char *fail1[] = { "cloud-sync-off" };
	int64_t n;

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	report_init(&r, DEVICE_A, 1, 1, "{\"seq\":1}", NULL, 0);
	assert_int_equal(put(f->st, &r, 0), STORE_STORED);
	assert_int_equal(put(f->st, &r, 0), STORE_DUPLICATE);
	report_init(&r, DEVICE_A, 1, 1, "{\"seq\":1,\"x\":2}", NULL, 0);
	assert_int_equal(put(f->st, &r, 0), STORE_REPLAY);
	report_init(&r, DEVICE_A, 5, 0, "{\"seq\":5}", fail1, 1);
	assert_int_equal(put(f->st, &r, 0), STORE_STORED);
	/* Below the newest seq, never stored: a replay too. */
	report_init(&r, DEVICE_A, 3, 1, "{\"seq\":3}", NULL, 0);
	assert_int_equal(put(f->st, &r, 0), STORE_REPLAY);
	/* A new seq whose time is before the newest report's. */
	report_init(&r, DEVICE_A, 6, 1, "{\"seq\":6}", NULL, 0);
	r.time = 1800000000;
	assert_int_equal(put(f->st, &r, 0), STORE_BACKDATED);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.last_seq, 5);
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 2);

	report_init(&r, DEVICE_B, 1, 1, "{}", NULL, 0);
	(void)put(f->st, &r, MUSTER_ENOINPUT);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);
	report_init(&r, DEVICE_A, 7, 1, "{\"seq\":7}", NULL, 0);
	(void)put(f->st, &r, MUSTER_ETRUST);
}

/* Counts the rows of a scan, and of those whose flag is set. */
static void
scan_count(struct store_read *rd, enum store_scan what,
    const struct store_when *w, int *rows, int *flagged, int state_n[4])
{
	struct store_cursor *cur = NULL;
	struct store_row row;
	struct muster_err e;
	int rc;

	*rows = *flagged = 0;
	if (state_n != NULL)
		memset(state_n, 0, 4 * sizeof *state_n);
	assert_int_equal(store_rollup_scan(rd, what, w, &cur, &e), 0);
	while ((rc = store_cursor_next(cur, &row, &e)) == 1) {
		(*rows)++;
		*flagged += row.flag != 0;
		if (state_n != NULL && row.state >= 0 && row.state < 4)
			state_n[row.state]++;
	}
	assert_int_equal(rc, 0);
	store_cursor_close(cur);
}

static void
history_scans(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_report r;
	struct store_when w;
	struct muster_err e;
	const char *fail1[] = { "b-rule", "a-rule" };
	const char *fail2[] = { "b-rule" };
	int rows, flagged, st[4];

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U1");
	enroll(f->st, DEVICE_B, TOKEN_B, SCOPE_FAMILY, "U1");
	enroll(f->st, DEVICE_C, TOKEN_C, SCOPE_PERSONNEL, "U2");
	report_init(&r, DEVICE_A, 1, 1, "{\"a\":1}", NULL, 0);
	(void)put(f->st, &r, 0);
	report_init(&r, DEVICE_A, 2, 0, "{\"a\":2}", fail1, 2);
	(void)put(f->st, &r, 0);
	report_init(&r, DEVICE_A, 3, 0, "{\"a\":3}", fail2, 1);
	(void)put(f->st, &r, 0);
	report_init(&r, DEVICE_B, 1, 1, "{\"b\":1}", NULL, 0);
	(void)put(f->st, &r, 0);

	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	memset(&w, 0, sizeof w);
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(rows, 3);
	assert_int_equal(st[STORE_COMPLIANT], 1);	/* B */
	assert_int_equal(st[STORE_NONCOMPLIANT], 1);	/* A */
	assert_int_equal(st[STORE_NEVER], 1);		/* C */
	/* Everything received before now + 1 h is stale. */
	w.stale_before[SCOPE_PERSONNEL] = time(NULL) + 3600;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(st[STORE_STALE], 1);
	assert_int_equal(st[STORE_COMPLIANT], 1);
	w.stale_before[SCOPE_PERSONNEL] = 0;
	/* Failing now: A fails b-rule only. */
	scan_count(rd, STORE_SCAN_FAILING, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 1);
	/* History: a-rule started and stopped, b-rule started. */
	w.past = 1;
	w.at = 1800000000 + 2 * 60;
	scan_count(rd, STORE_SCAN_FAILING, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 2);
	assert_int_equal(flagged, 2);
	w.at = 1800000000 + 3 * 60;
	scan_count(rd, STORE_SCAN_FAILING, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 3);
	/* As it stood after seq 1: A compliant, B and C never. */
	w.at = 1800000000 + 60;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(rows, 3);
	assert_int_equal(st[STORE_COMPLIANT], 2);	/* A, B */
	assert_int_equal(st[STORE_NEVER], 1);
	/* Before anyone enrolled: nobody counted. */
	w.at = 1600000000;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(rows, 0);
	scan_count(rd, STORE_SCAN_POPULATION, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 3);
	assert_int_equal(flagged, 0);
	w.past = 0;
	scan_count(rd, STORE_SCAN_POPULATION, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 3);
	assert_int_equal(flagged, 3);
	store_read_end(rd);
	store_read_close(rd);
}

static void
device_list(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_cursor *cur = NULL;
	struct store_report r;
	struct store_row row;
	struct store_devq q;
	struct muster_err e;
	const char *fails[] = { "z-rule", "a-rule" };
	int len[3], n = 0;

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U2");
	enroll(f->st, DEVICE_B, TOKEN_B, SCOPE_FAMILY, "U1");
	enroll(f->st, DEVICE_C, TOKEN_C, SCOPE_PERSONNEL, "U1/long-unit");
	report_init(&r, DEVICE_A, 1, 0, "{\"a\":1}", fails, 2);
	r.stale = 1;
	(void)put(f->st, &r, 0);

	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	memset(&q, 0, sizeof q);
	q.state = -1;
	assert_int_equal(store_devices_widths(rd, &q, len, &e), 0);
	assert_int_equal(len[0], (int)strlen("U1/long-unit"));
	assert_int_equal(store_devices_scan(rd, &q, &cur, &e), 0);
	/* Personnel only, by unit: C (U1/long-unit) then A (U2). */
	while (store_cursor_next(cur, &row, &e) == 1) {
		if (n == 0) {
			assert_string_equal(row.id, DEVICE_C);
			assert_int_equal(row.has_last, 0);
			assert_int_equal(row.state, STORE_NEVER);
		} else {
			assert_string_equal(row.id, DEVICE_A);
			assert_string_equal(row.unit, "U2");
			assert_string_equal(row.failing, "a-rule z-rule");
			assert_int_equal(row.has_last, 1);
			assert_int_equal(row.state, STORE_NONCOMPLIANT);
			assert_int_equal(row.stale, 1);
		}
		n++;
	}
	assert_int_equal(n, 2);
	store_cursor_close(cur);
	q.unit = "U2";
	q.state = STORE_NONCOMPLIANT;
	assert_int_equal(store_devices_scan(rd, &q, &cur, &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	assert_string_equal(row.id, DEVICE_A);
	assert_int_equal(store_cursor_next(cur, &row, &e), 0);
	store_cursor_close(cur);
	q.state = STORE_COMPLIANT;
	assert_int_equal(store_devices_scan(rd, &q, &cur, &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 0);
	store_cursor_close(cur);
	store_read_end(rd);
	store_read_close(rd);
}

static void
consent_init(struct store_consent *c, const char *body)
{
	memset(c, 0, sizeof *c);
	c->device = DEVICE_B;
	c->time = 1795255200;
	c->token_id = TOKEN_B;
	memset(c->text_hash, 0xab, sizeof c->text_hash);
	c->profile = "family-optin";
	c->serial = 3;
	c->remediate = "[]";
	c->body = (const unsigned char *)body;
	c->len = strlen(body);
	memset(c->sig, 0x5a, sizeof c->sig);
}

static void
delete_cascades(void **state)
{
	struct cfx *f = *state;
	struct store_consent c;
	struct store_report r;
	struct store_device got;
	struct muster_err e;
	int used, revoked;
	int64_t n;

	consent_init(&c, "{\"token\":\"t\"}");
	/* No device yet: the receipt is refused. */
	assert_int_not_equal(IN_TX(f->st, store_consent_add(f->st, &c, &e)),
	    0);
	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U1");
	enroll(f->st, DEVICE_B, TOKEN_B, SCOPE_FAMILY, "U1");
	assert_int_equal(IN_TX(f->st, store_consent_add(f->st, &c, &e)), 0);
	consent_init(&c, "{\"token\":\"t\",\"again\":1}");
	c.profile = NULL;
	assert_int_equal(IN_TX(f->st, store_consent_replace(f->st, &c, &e)),
	    0);
	report_init(&r, DEVICE_A, 1, 1, "{\"a\":1}", NULL, 0);
	(void)put(f->st, &r, 0);
	report_init(&r, DEVICE_B, 1, 1, "{\"b\":1}", NULL, 0);
	(void)put(f->st, &r, 0);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);

	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_B,
	    &e)), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_B, &got, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 1);
	/* A family member's token is forgotten: as if never seen. */
	assert_int_equal(store_token_get(f->st, TOKEN_B, &used, &revoked, &e),
	    0);
	assert_true(used == 0 && revoked == 0);
	/* A revoked personnel device: its revocation goes with it, its
	 * token stays used. */
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_A,
	    &e)), 0);
	assert_int_equal(store_token_get(f->st, TOKEN_A, &used, &revoked, &e),
	    0);
	assert_true(used == 1 && revoked == 0);
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_A,
	    &e)), MUSTER_ENOINPUT);
	/* The same device id may enroll again with a new token. */
	enroll(f->st, DEVICE_B, TOKEN_C, SCOPE_FAMILY, "U1");
	while (store_scrub_pending(f->st))
		(void)store_scrub(f->st, &e);
}

static void
revoke_used(void **state)
{
	struct cfx *f = *state;
	struct store_device got;
	struct muster_err e;
	char dev[DEVICE_ID_HEX];

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U1");
	assert_int_equal(IN_TX(f->st, store_revoke_used(f->st, TOKEN_A, dev,
	    &e)), 0);
	assert_string_equal(dev, DEVICE_A);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.revoked, 1);
	assert_int_equal(IN_TX(f->st, store_revoke_used(f->st, TOKEN_B, dev,
	    &e)), 0);
	assert_string_equal(dev, "");
	assert_int_equal(IN_TX(f->st, store_revoke_used(f->st, DEVICE_C, dev,
	    &e)), 0);
	assert_string_equal(dev, "");
}

/* A job that fails rolls back alone; the batch commits the others. */
static void
savepoints(void **state)
{
	struct cfx *f = *state;
	struct store_device d, got;
	struct muster_err e;

	tx_begin(f->st);
	assert_int_equal(store_savepoint(f->st, &e), 0);
	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U1");
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	assert_int_equal(store_release(f->st, &e), 0);
	assert_int_equal(store_savepoint(f->st, &e), 0);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_PERSONNEL, "U1");
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	/* This one fails (the device id is taken) after writing a token. */
	device_init(&d, DEVICE_A, TOKEN_C, SCOPE_PERSONNEL, "U1");
	assert_int_not_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	store_rollback_savepoint(f->st);
	assert_int_equal(store_savepoint(f->st, &e), 0);
	assert_int_equal(store_revoke(f->st, TOKEN_C, &e), 0);
	assert_int_equal(store_release(f->st, &e), 0);
	assert_int_equal(store_commit(f->st, &e), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_B, &got, &e),
	    MUSTER_ENOINPUT);
	/* A whole transaction rolled back leaves nothing. */
	tx_begin(f->st);
	device_init(&d, DEVICE_C, TOKEN_B, SCOPE_PERSONNEL, "U1");
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	store_rollback(f->st);
	assert_int_equal(store_device_get(f->st, DEVICE_C, &got, &e),
	    MUSTER_ENOINPUT);
}

static struct profile *
profile_make(const char *id, int64_t serial, const char *scope, char *buf,
    size_t size)
{
	struct profile *p = NULL;
	struct muster_err e;

	snprintf(buf, size, "id = \"%s\";\nserial = %lld;\n"
	    "expires = \"2030-01-01T00:00:00Z\";\nscope = \"%s\";\n"
	    "rules = ( { id = \"os\"; kind = \"os-min\"; severity = \"low\"; "
	    "title = \"os\"; min_version = \"4.4\"; } );\n", id,
	    (long long)serial, scope);
	if (profile_parse("t", buf, strlen(buf), &p, &e) != 0)
		fail_msg("%s", e.msg);
	return p;
}

static void
profiles(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_profile cur;
	struct profile *p1, *p2, *p2b, *fam;
	struct muster_err e;
	enum store_put res;
	char b1[512], b2[512], b2b[512], bf[512], *bytes, *sig;
	size_t len, siglen;
	time_t first, by;
	int any;

	assert_int_equal(store_profile_current(f->st, SCOPE_PERSONNEL, &cur,
	    &e), MUSTER_ENOINPUT);
	p1 = profile_make("iaf", 1, "personnel", b1, sizeof b1);
	p2 = profile_make("iaf", 2, "personnel", b2, sizeof b2);
	fam = profile_make("fam", 1, "family", bf, sizeof bf);
	p2b = profile_make("iaf", 2, "personnel", b2b, sizeof b2b);
	strcat(b2b, "# changed\n");

	assert_int_equal(IN_TX(f->st, store_profile_publish(f->st, p1, b1,
	    strlen(b1), "sig1", 4, &res, &e)), 0);
	assert_int_equal(res, STORE_STORED);
	assert_int_equal(IN_TX(f->st, store_profile_publish(f->st, p1, b1,
	    strlen(b1), "sig1", 4, &res, &e)), 0);
	assert_int_equal(res, STORE_DUPLICATE);
	assert_int_equal(IN_TX(f->st, store_profile_publish(f->st, p2, b2,
	    strlen(b2), "sig2", 4, &res, &e)), 0);
	assert_int_equal(res, STORE_STORED);
	assert_int_equal(IN_TX(f->st, store_profile_publish(f->st, p1, b1,
	    strlen(b1), "sig1", 4, &res, &e)), 0);
	assert_int_equal(res, STORE_REPLAY);
	assert_int_equal(IN_TX(f->st, store_profile_put(f->st, p2b, b2b,
	    strlen(b2b), "sig3", 4, &e)), MUSTER_ETRUST);
	assert_int_equal(IN_TX(f->st, store_profile_put(f->st, fam, bf,
	    strlen(bf), "sigf", 4, &e)), 0);

	assert_int_equal(store_profile_current(f->st, SCOPE_PERSONNEL, &cur,
	    &e), 0);
	assert_string_equal(cur.id, "iaf");
	assert_int_equal(cur.serial, 2);
	assert_int_equal(cur.len, strlen(b2));
	assert_memory_equal(cur.bytes, b2, cur.len);
	assert_string_equal(cur.sig, "sig2");
	assert_true(cur.expires > 1800000000);
	store_profile_clear(&cur);
	assert_int_equal(store_profile_get(f->st, SCOPE_FAMILY, &bytes, &len,
	    &sig, &siglen, &e), 0);
	assert_int_equal(len, strlen(bf));
	assert_memory_equal(bytes, bf, len);
	assert_string_equal(sig, "sigf");
	free(bytes);
	free(sig);
	assert_int_equal(store_profile_find(f->st, "iaf", 1, &cur, &e), 0);
	assert_int_equal(cur.serial, 1);
	assert_string_equal(cur.sig, "sig1");
	store_profile_clear(&cur);
	assert_int_equal(store_profile_find(f->st, "iaf", 3, &cur, &e),
	    MUSTER_ENOINPUT);

	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_profile(rd, SCOPE_PERSONNEL, NULL, &bytes,
	    &len, &e), 0);
	assert_non_null(bytes);
	assert_memory_equal(bytes, b2, len);
	free(bytes);
	by = 1000;	/* before any publication */
	assert_int_equal(store_read_profile(rd, SCOPE_PERSONNEL, &by, &bytes,
	    &len, &e), 0);
	assert_null(bytes);
	assert_int_equal(store_read_first(rd, &first, &any, &e), 0);
	assert_int_equal(any, 1);
	assert_true(first > 1700000000 && first <= time(NULL));
	store_read_close(rd);
	profile_free(p1);
	profile_free(p2);
	profile_free(p2b);
	profile_free(fam);
}

/* A store no server opened yet reads as an empty store. */
static void
read_empty(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_when w;
	struct muster_err e;
	char *bytes;
	size_t len;
	time_t first;
	int rows, flagged, any;

	if (!f->pg)
		assert_int_equal(mkdir(f->data, 0700), 0);
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	memset(&w, 0, sizeof w);
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 0);
	assert_int_equal(store_read_first(rd, &first, &any, &e), 0);
	assert_int_equal(any, 0);
	assert_int_equal(store_read_profile(rd, SCOPE_FAMILY, NULL, &bytes,
	    &len, &e), 0);
	assert_null(bytes);
	store_read_end(rd);
	store_read_close(rd);
	assert_int_equal(store_open(f->where, 0, &f->st, &e), 0);
}

/* One snapshot per answer, while the writer commits. */
static void
read_snapshot(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_when w;
	struct muster_err e;
	int rows, flagged;

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U1");
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	memset(&w, 0, sizeof w);
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 1);
	enroll(f->st, DEVICE_B, TOKEN_B, SCOPE_PERSONNEL, "U1");
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 1);
	store_read_end(rd);
	assert_int_equal(store_read_begin(rd, &e), 0);
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 2);
	store_read_end(rd);
	store_read_close(rd);
}

static void
loader(void **state)
{
	struct cfx *f = *state;
	struct store_load *l = NULL;
	struct store_load_device d;
	struct store_load_report r;
	struct store_read *rd = NULL;
	struct store_device got;
	struct store_when w;
	struct muster_err e;
	unsigned char pk[32], hash[STORE_HASH_LEN];
	int rows, flagged, st[4];
	int64_t n;

	memset(pk, 7, sizeof pk);
	memset(hash, 9, sizeof hash);
	/* A loader has the store to itself (SQLite locks the file). */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_load_open(f->where, &l, &e), 0);
	assert_int_equal(store_load_token(l, TOKEN_A, 1700000000, 1900000000,
	    &e), 0);
	memset(&d, 0, sizeof d);
	d.id = DEVICE_A;
	d.pk = pk;
	d.scope = SCOPE_PERSONNEL;
	d.unit = "U1";
	d.person = "p";
	d.model = "m";
	d.token_id = TOKEN_A;
	d.enrolled = 1700000000;
	d.last_seq = 1;
	d.last_time = d.last_received = 1700000100;
	d.last_compliant = 0;
	d.last_profile = "iaf";
	d.last_serial = 1;
	assert_int_equal(store_load_device(l, &d, &e), 0);
	memset(&r, 0, sizeof r);
	r.device = DEVICE_A;
	r.seq = 1;
	r.time = r.received = 1700000100;
	r.profile = "iaf";
	r.serial = 1;
	r.hash = hash;
	r.body = (const unsigned char *)"{}";
	r.len = 2;
	assert_int_equal(store_load_report(l, &r, &e), 0);
	assert_int_equal(store_load_status(l, DEVICE_A, 1700000100, 1,
	    1700000100, 0, &e), 0);
	assert_int_equal(store_load_failing_change(l, DEVICE_A, "os",
	    1700000100, 1, 1, &e), 0);
	assert_int_equal(store_load_failing(l, DEVICE_A, "os", 1700000100,
	    &e), 0);
	assert_int_equal(store_load_profiles_published(l, 1700000000, &e), 0);
	assert_int_equal(store_load_finish(l, &e), 0);
	store_load_close(l);

	if (store_open(f->where, 0, &f->st, &e) != 0)
		fail_msg("store_open: %s", e.msg);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.last_seq, 1);
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	memset(&w, 0, sizeof w);
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(st[STORE_NONCOMPLIANT], 1);
	scan_count(rd, STORE_SCAN_FAILING, &w, &rows, &flagged, NULL);
	assert_int_equal(rows, 1);
	/* --as-of a day later: the loaded report's run says stale. */
	w.past = 1;
	w.at = 1700000100 + 86400;
	w.stale_before[SCOPE_PERSONNEL] = w.at - 3600;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(st[STORE_STALE], 1);
	store_read_end(rd);
	store_read_close(rd);
	/* A statement in the backend's own language. */
	assert_int_equal(store_load_try(f->where, "CREATE INDEX try_idx ON "
	    "reports (received)", &e), 0);
	assert_int_equal(store_load_try(f->where, "NOT SQL", &e), MUSTER_EIO);
}

/* --- two writer handles at the same instant: two servers --------------- */

struct racer {
	struct store		*st;
	pthread_barrier_t	*go;
	const char		*device, *token;
	const struct store_report *r;
	int			 rc;
	enum store_put		 res;
	struct muster_err	 e;
};

static void *
race_enroll(void *arg)
{
	struct racer *x = arg;
	struct store_device d;

	device_init(&d, x->device, x->token, SCOPE_PERSONNEL, "U1");
	pthread_barrier_wait(x->go);
	if ((x->rc = store_begin(x->st, &x->e)) != 0)
		return NULL;
	x->rc = store_device_add(x->st, &d, 1900000000, &x->e);
	if (x->rc == 0)
		x->rc = store_commit(x->st, &x->e);
	else
		store_rollback(x->st);
	return NULL;
}

static void *
race_report(void *arg)
{
	struct racer *x = arg;

	pthread_barrier_wait(x->go);
	if ((x->rc = store_begin(x->st, &x->e)) != 0)
		return NULL;
	x->rc = store_report_put(x->st, x->r, &x->res, &x->e);
	if (x->rc == 0)
		x->rc = store_commit(x->st, &x->e);
	else
		store_rollback(x->st);
	return NULL;
}

static void
race(struct cfx *f, void *(*fn)(void *), struct racer x[2])
{
	pthread_barrier_t go;
	pthread_t t[2];
	struct muster_err e;
	int i;

	pthread_barrier_init(&go, NULL, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(store_open(f->where, 0, &x[i].st, &e), 0);
		x[i].go = &go;
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fn, &x[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		store_close(x[i].st);
	}
	pthread_barrier_destroy(&go);
}

static void
two_writers(void **state)
{
	struct cfx *f = *state;
	struct racer x[2];
	struct store_report r, lower;
	struct store_device got;
	struct muster_err e;
	int round, ok, dup, stored, replay, i;
	int64_t n;

	for (round = 0; round < 20; round++) {
		char dev[2][DEVICE_ID_HEX], tok[TOKEN_ID_HEX];

		snprintf(tok, sizeof tok, "%016x", 0x1000 + round);
		for (i = 0; i < 2; i++) {
			snprintf(dev[i], sizeof dev[i], "%032x",
			    0x2000 + round * 2 + i);
			memset(&x[i], 0, sizeof x[i]);
			x[i].device = dev[i];
			x[i].token = tok;
		}
		race(f, race_enroll, x);
		ok = (x[0].rc == 0) + (x[1].rc == 0);
		assert_int_equal(ok, 1);
		assert_int_equal(x[0].rc == 0 ? x[1].rc : x[0].rc,
		    MUSTER_ETRUST);
	}
	assert_int_equal(store_count_devices(f->st, &n, &e), 0);
	assert_int_equal(n, 20);

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U1");
	for (round = 1; round <= 20; round++) {
		char body[32];

		snprintf(body, sizeof body, "{\"seq\":%d}", round);
		report_init(&r, DEVICE_A, round, round % 2, body, NULL, 0);
		for (i = 0; i < 2; i++) {
			memset(&x[i], 0, sizeof x[i]);
			x[i].r = &r;
		}
		race(f, race_report, x);
		stored = dup = 0;
		for (i = 0; i < 2; i++) {
			assert_int_equal(x[i].rc, 0);
			stored += x[i].res == STORE_STORED;
			dup += x[i].res == STORE_DUPLICATE;
		}
		assert_int_equal(stored, 1);
		assert_int_equal(dup, 1);
		/* seq replay holds across the handles at once too. */
		report_init(&lower, DEVICE_A, round, 1, "{\"other\":1}", NULL,
		    0);
		for (i = 0; i < 2; i++) {
			memset(&x[i], 0, sizeof x[i]);
			x[i].r = &lower;
		}
		race(f, race_report, x);
		for (replay = 0, i = 0; i < 2; i++)
			replay += x[i].rc == 0 && x[i].res == STORE_REPLAY;
		assert_int_equal(replay, 2);
	}
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 20);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.last_seq, 20);
}

/*
 * Documents every server reads (PostgreSQL): a version at or below the
 * stored one never replaces it, and the generation grows with every
 * publication.  SQLite keeps none (one server): MUSTER_EUSAGE.
 */
static void
documents(void **state)
{
	struct cfx *f = *state;
	struct profile *p;
	struct muster_err e;
	enum store_put res;
	char *b = NULL, buf[512];
	size_t len;
	int64_t v, g0, g1, g2;
	int stored;

	if (!f->pg) {
		assert_int_equal(IN_TX(f->st, store_doc_put(f->st, "m", 1, "x",
		    1, &stored, &e)), MUSTER_EUSAGE);
		assert_int_equal(store_doc_get(f->st, "m", &b, &len, &v, &e),
		    MUSTER_EUSAGE);
		assert_int_equal(store_generation(f->st, &g0, &e),
		    MUSTER_EUSAGE);
		return;
	}
	assert_int_equal(store_generation(f->st, &g0, &e), 0);
	assert_int_equal(g0, 0);
	assert_int_equal(store_doc_get(f->st, "manifest-personnel", &b, &len,
	    &v, &e), MUSTER_ENOINPUT);
	assert_int_equal(IN_TX(f->st, store_doc_put(f->st,
	    "manifest-personnel", 5, "five", 4, &stored, &e)), 0);
	assert_int_equal(stored, 1);
	assert_int_equal(store_generation(f->st, &g1, &e), 0);
	assert_true(g1 > g0);
	/* The same version, or a lower one, never replaces it. */
	assert_int_equal(IN_TX(f->st, store_doc_put(f->st,
	    "manifest-personnel", 5, "FIVE", 4, &stored, &e)), 0);
	assert_int_equal(stored, 0);
	assert_int_equal(IN_TX(f->st, store_doc_put(f->st,
	    "manifest-personnel", 4, "four", 4, &stored, &e)), 0);
	assert_int_equal(stored, 0);
	assert_int_equal(store_doc_get(f->st, "manifest-personnel", &b, &len,
	    &v, &e), 0);
	assert_int_equal(v, 5);
	assert_int_equal(len, 4);
	assert_string_equal(b, "five");
	free(b);
	assert_int_equal(IN_TX(f->st, store_doc_put(f->st,
	    "manifest-personnel", 6, "six!", 4, &stored, &e)), 0);
	assert_int_equal(stored, 1);
	assert_int_equal(store_generation(f->st, &g2, &e), 0);
	assert_true(g2 > g1);
	p = profile_make("iaf", 1, "personnel", buf, sizeof buf);
	assert_int_equal(IN_TX(f->st, store_profile_publish(f->st, p, buf,
	    strlen(buf), "s", 1, &res, &e)), 0);
	profile_free(p);
	assert_int_equal(store_generation(f->st, &g1, &e), 0);
	assert_true(g1 > g2);
}

/*
 * PostgreSQL: the writer's connection killed (a database restart, a
 * failover) fails what is in flight with MUSTER_ETEMP, which the server
 * answers 503; a later transaction reconnects by itself.
 */
static void
pg_reconnect(void **state)
{
	struct cfx *f = *state;
	struct store_device d, got;
	struct muster_err e;
	PGconn *c;
	PGresult *r;
	int rc, i;

	if (!f->pg)
		skip();
	tx_begin(f->st);
	c = PQconnectdb(f->where);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, "SELECT count(pg_terminate_backend(pid)) FROM "
	    "pg_stat_activity WHERE usename = current_user AND "
	    "pid <> pg_backend_pid() AND application_name = 'muster-server'");
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	/* Ours, and any closed connection still on its way out. */
	assert_true(atoi(PQgetvalue(r, 0, 0)) >= 1);
	PQclear(r);
	PQfinish(c);
	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "U1");
	rc = store_device_add(f->st, &d, 1900000000, &e);
	assert_int_equal(rc, MUSTER_ETEMP);
	assert_int_equal(store_commit(f->st, &e), MUSTER_ETEMP);
	store_rollback(f->st);
	/* Within the backoff (100 ms, then more), a new attempt works. */
	for (i = 0; i < 50; i++) {
		if ((rc = store_begin(f->st, &e)) == 0)
			break;
		assert_int_equal(rc, MUSTER_ETEMP);
		usleep(50000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	assert_int_equal(store_commit(f->st, &e), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
}

/*
 * Runs sql as the cluster's superuser (tests/tools/pg.sh) on database db
 * of the fixture's cluster; asserts it ran.
 */
static void
pg_admin_sql(const struct cfx *f, const char *db, const char *sql)
{
	const char *kw[] = { "dbname", "dbname", "user", NULL };
	const char *val[] = { f->where, db, "postgres", NULL };
	PGconn *c;
	PGresult *r;
	int s;

	c = PQconnectdbParams(kw, val, 1);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	s = PQresultStatus(r);
	assert_true(s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
}

/* Terminates the store's backends and waits (5 s at most) until they are
 * gone, their sockets closed. */
#define PG_KILL_OURS	"SELECT count(pg_terminate_backend(pid, 5000)) FROM " \
	"pg_stat_activity WHERE usename = 'muster' AND " \
	"application_name = 'muster-server'"

/*
 * PostgreSQL: an idle connection the server closed is replaced before
 * the next pass uses it; while no connection can be had, retention's
 * batch fails and the next pass waits (the writer would otherwise retry
 * at once, for ever).
 */
static void
pg_prune_lost(void **state)
{
	struct cfx *f = *state;
	struct muster_err e;
	time_t now = time(NULL);
	size_t pruned = 9;
	int more = 9;

	if (!f->pg)
		skip();
	store_retention_set(f->st, 3600);
	assert_int_equal(store_prune(f->st, now, 10, &pruned, &more, &e), 0);
	now += 400;	/* the next pass due */
	assert_int_equal(store_prune_wait(f->st, now), 0);
	pg_admin_sql(f, "postgres", PG_KILL_OURS);
	assert_int_equal(store_prune(f->st, now, 10, &pruned, &more, &e), 0);
	now += 400;
	assert_int_equal(store_prune_wait(f->st, now), 0);
	pg_admin_sql(f, "postgres",
	    "ALTER DATABASE muster ALLOW_CONNECTIONS false");
	pg_admin_sql(f, "postgres", PG_KILL_OURS);
	assert_int_equal(store_prune(f->st, now, 10, &pruned, &more, &e),
	    MUSTER_ETEMP);
	pg_admin_sql(f, "postgres",
	    "ALTER DATABASE muster ALLOW_CONNECTIONS true");
	assert_int_equal(pruned, 0);
	assert_int_equal(more, 0);
	assert_true(store_prune_wait(f->st, now) > 0);
}

/* PostgreSQL: a server that cannot be reached is a temporary failure. */
static void
pg_unreachable(void **state)
{
	struct cfx *f = *state;
	struct store *st = NULL;
	struct store_read *rd = NULL;
	struct muster_err e;

	if (!f->pg)
		skip();
	assert_int_equal(store_open("postgresql:///muster?host=/nonexistent"
	    "&port=1", 0, &st, &e), MUSTER_ETEMP);
	assert_null(st);
	assert_non_null(strstr(e.msg, "PostgreSQL"));
	assert_null(strchr(e.msg, '\n'));
	assert_int_equal(store_read_open("postgresql:///muster?host="
	    "/nonexistent&port=1", &rd, &e), MUSTER_ETEMP);
	assert_null(rd);
}

/* --- main's store functions on both backends ---------------------------- */

/* A seal as audit.c's in shape: hash = BLAKE2b(prev, seq, action). */
static int
test_seal(struct store_audit_entry *a, const unsigned char prev[STORE_HASH_LEN],
    struct store_audit_ckpt *ck, int *want, void *arg)
{
	crypto_generichash_state h;
	int every = arg != NULL ? *(const int *)arg : 0;

	crypto_generichash_init(&h, NULL, 0, STORE_HASH_LEN);
	crypto_generichash_update(&h, prev, STORE_HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)&a->seq,
	    sizeof a->seq);
	crypto_generichash_update(&h, (const unsigned char *)a->action,
	    strlen(a->action));
	crypto_generichash_final(&h, a->hash, STORE_HASH_LEN);
	if (every > 0 && a->seq % every == 0) {
		ck->seq = a->seq;
		ck->time = a->time;
		memcpy(ck->hash, a->hash, STORE_HASH_LEN);
		memset(ck->sig, 0x5a, sizeof ck->sig);
		*want = 1;
	}
	return 0;
}

static int
refuse_seal(struct store_audit_entry *a,
    const unsigned char prev[STORE_HASH_LEN], struct store_audit_ckpt *ck,
    int *want, void *arg)
{
	(void)a;
	(void)prev;
	(void)ck;
	(void)want;
	(void)arg;
	return MUSTER_EINTERNAL;
}

static void
append(struct store_adm *sa, const char *action, int every)
{
	struct store_audit_entry a;
	struct muster_err e;

	memset(&a, 0, sizeof a);
	a.time = time(NULL);
	snprintf(a.actor, sizeof a.actor, "alice");
	snprintf(a.addr, sizeof a.addr, "127.0.0.1");
	snprintf(a.action, sizeof a.action, "%s", action);
	snprintf(a.object, sizeof a.object, "profile iaf serial 3");
	snprintf(a.outcome, sizeof a.outcome, "ok");
	if (store_audit_append(sa, &a, test_seal, &every, &e) != 0)
		fail_msg("audit append: %s", e.msg);
}

/* Walks the chain from 1: every hash recomputed from the one before. */
struct chain {
	unsigned char	prev[STORE_HASH_LEN];
	int64_t		next;
	int		stop_at;
};

static int
chain_check(const struct store_audit_entry *a, void *arg)
{
	struct chain *c = arg;
	struct store_audit_entry x = *a;
	struct store_audit_ckpt ck;
	int want = 0;

	if (a->seq != c->next)
		return 1000 + (int)a->seq;
	(void)test_seal(&x, c->prev, &ck, &want, NULL);
	if (memcmp(x.hash, a->hash, STORE_HASH_LEN) != 0)
		return 2000 + (int)a->seq;
	memcpy(c->prev, a->hash, STORE_HASH_LEN);
	c->next++;
	return c->stop_at > 0 && a->seq == c->stop_at ? 7 : 0;
}

static void
admins_audit(void **state)
{
	struct cfx *f = *state;
	struct store_adm *sa = NULL, *ro = NULL;
	struct store_admin a, *list = NULL;
	struct store_audit_ckpt ck, *cks = NULL;
	struct store_audit_entry en;
	struct chain c;
	struct muster_err e;
	unsigned char h[STORE_HASH_LEN];
	size_t n = 99;
	int64_t seq = -1, pruned_before;
	int added = -1, i;

	assert_int_equal(store_adm_open(f->where, 0, &sa, &e), 0);
	assert_int_equal(store_admin_list(sa, &list, &n, &e), 0);
	assert_null(list);
	assert_int_equal(n, 0);

	/* Once in a store's life, whatever comes later. */
	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "admin");
	a.roles = 15;
	memset(a.hash, 1, sizeof a.hash);
	a.created = a.rotated = 1700000000;
	assert_int_equal(store_admin_bootstrap(sa, &a, &added, &e), 0);
	assert_int_equal(added, 1);
	assert_int_equal(store_admin_bootstrap(sa, &a, &added, &e), 0);
	assert_int_equal(added, 0);
	assert_int_equal(store_admin_remove(sa, "admin", &e), 0);
	assert_int_equal(store_admin_bootstrap(sa, &a, &added, &e), 0);
	assert_int_equal(added, 0);
	assert_int_equal(store_admin_remove(sa, "admin", &e), MUSTER_ENOINPUT);

	snprintf(a.name, sizeof a.name, "zoe");
	memset(a.hash, 2, sizeof a.hash);
	assert_int_equal(store_admin_add(sa, &a, &e), 0);
	snprintf(a.name, sizeof a.name, "bob");
	a.roles = 4;
	memset(a.hash, 3, sizeof a.hash);
	assert_int_equal(store_admin_add(sa, &a, &e), 0);
	/* A name or a credential hash taken. */
	assert_int_equal(store_admin_add(sa, &a, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "bob"));
	snprintf(a.name, sizeof a.name, "carol");
	assert_int_equal(store_admin_add(sa, &a, &e), MUSTER_EDATA);
	memset(h, 9, sizeof h);
	assert_int_equal(store_admin_rotate(sa, "zoe", h, 1700000100, &e), 0);
	assert_int_equal(store_admin_rotate(sa, "nobody", h, 1, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(store_admin_list(sa, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "bob");	/* name order */
	assert_int_equal(list[0].roles, 4);
	assert_string_equal(list[1].name, "zoe");
	assert_memory_equal(list[1].hash, h, sizeof h);
	assert_int_equal(list[1].created, 1700000000);
	assert_int_equal(list[1].rotated, 1700000100);
	free(list);

	/* The chain: seq numbers from 1, a checkpoint every 3rd entry. */
	assert_int_equal(store_audit_last(sa, &seq, h, &e), 0);
	assert_int_equal(seq, 0);
	for (i = 0; i < 7; i++)
		append(sa, i % 2 ? "publish" : "revoke", 3);
	memset(&en, 0, sizeof en);
	snprintf(en.action, sizeof en.action, "x");
	assert_int_equal(store_audit_append(sa, &en, refuse_seal, NULL, &e),
	    MUSTER_EINTERNAL);
	assert_int_equal(store_audit_last(sa, &seq, h, &e), 0);
	assert_int_equal(seq, 7);
	memset(&c, 0, sizeof c);
	c.next = 1;
	assert_int_equal(store_audit_scan(sa, 1, chain_check, &c, &e), 0);
	assert_int_equal(c.next, 8);
	assert_memory_equal(c.prev, h, sizeof h);
	/* A walk from the middle; a stop returns fn's value. */
	memset(&c, 0, sizeof c);
	c.next = 1;
	c.stop_at = 4;
	assert_int_equal(store_audit_scan(sa, 1, chain_check, &c, &e), 7);
	assert_int_equal(c.next, 5);
	/* The handle still answers after a stopped walk. */
	assert_int_equal(store_audit_last(sa, &seq, h, &e), 0);
	assert_int_equal(seq, 7);
	assert_int_equal(store_audit_ckpts(sa, &cks, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(cks[0].seq, 3);
	assert_int_equal(cks[1].seq, 6);
	free(cks);
	memset(&ck, 0, sizeof ck);
	ck.seq = 6;
	assert_int_equal(store_audit_ckpt_put(sa, &ck, &e), MUSTER_EDATA);
	ck.seq = 7;
	assert_int_equal(store_audit_ckpt_put(sa, &ck, &e), 0);

	/* Retention never touches the audit log. */
	store_retention_set(f->st, 1);
	assert_int_equal(store_prune(f->st, time(NULL) + 86400, 1000,
	    (size_t *)&n, &added, &e), 0);
	assert_int_equal(store_audit_last(sa, &pruned_before, h, &e), 0);
	assert_int_equal(pruned_before, 7);

	/* A read-only handle reads, and writes nothing. */
	assert_int_equal(store_adm_open(f->where, 1, &ro, &e), 0);
	assert_int_equal(store_audit_last(ro, &seq, h, &e), 0);
	assert_int_equal(seq, 7);
	assert_int_not_equal(store_admin_remove(ro, "bob", &e), 0);
	store_adm_close(ro);
	store_adm_close(sa);
	store_adm_close(NULL);
}

/* Before any store_open: nothing to open. */
static void
admins_no_store(void **state)
{
	struct cfx *f = *state;
	struct store_adm *sa = NULL;
	struct muster_err e;

	assert_int_equal(store_adm_open(f->where, 1, &sa, &e),
	    MUSTER_ENOINPUT);
	assert_null(sa);
}

struct appender {
	const char	*where;
	int		 rc;
};

static void *
appender_run(void *arg)
{
	struct appender *ap = arg;
	struct store_adm *sa = NULL;
	struct muster_err e;
	int i;

	if ((ap->rc = store_adm_open(ap->where, 0, &sa, &e)) != 0)
		return NULL;
	for (i = 0; i < 20; i++)
		append(sa, "publish", 0);
	store_adm_close(sa);
	return NULL;
}

/* Two servers appending at once: one chain, no seq twice, no gap. */
static void
audit_two_appenders(void **state)
{
	struct cfx *f = *state;
	struct appender ap[2] = { { f->where, -1 }, { f->where, -1 } };
	pthread_t t[2];
	struct store_adm *sa = NULL;
	struct chain c;
	struct muster_err e;
	int i;

	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, appender_run,
		    &ap[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(ap[i].rc, 0);
	}
	assert_int_equal(store_adm_open(f->where, 1, &sa, &e), 0);
	memset(&c, 0, sizeof c);
	c.next = 1;
	assert_int_equal(store_audit_scan(sa, 1, chain_check, &c, &e), 0);
	assert_int_equal(c.next, 41);
	store_adm_close(sa);
}

static enum store_put
put_at(struct store *st, const char *dev, int64_t seq, int compliant,
    const char *const *failing, size_t nf, time_t t, time_t received)
{
	static char body[64];
	struct store_report r;

	snprintf(body, sizeof body, "{\"d\":\"%.4s\",\"seq\":%lld}", dev,
	    (long long)seq);
	report_init(&r, dev, seq, compliant, body, failing, nf);
	r.time = t;
	r.received = received;
	return put(st, &r, 0);
}

static int
history_count(void *arg, const struct store_history_row *row)
{
	int *n = arg;

	if (!row->has_report || row->hash == NULL || row->len == 0)
		return -1;
	(*n)++;
	return 0;
}

static void
retention(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_when w;
	struct muster_err e;
	const char *fail1[] = { "cloud-sync-off" };
	time_t now = time(NULL), old = now - 1000, t0 = 1800000000;
	size_t pruned = 99;
	int64_t n;
	int more = -1, rows, flagged, st[4], hist = 0;

	assert_int_equal(store_prune_wait(f->st, now), -1);
	assert_int_equal(store_prune(f->st, now, 100, &pruned, &more, &e), 0);
	assert_int_equal(pruned, 0);
	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	/* 1 (status), 2, 3, 4 (change, failing), 5: old; 6 (change): new. */
	put_at(f->st, DEVICE_A, 1, 1, NULL, 0, t0 + 60, old);
	put_at(f->st, DEVICE_A, 2, 1, NULL, 0, t0 + 120, old);
	put_at(f->st, DEVICE_A, 3, 1, NULL, 0, t0 + 180, old);
	put_at(f->st, DEVICE_A, 4, 0, fail1, 1, t0 + 240, old);
	put_at(f->st, DEVICE_A, 5, 0, fail1, 1, t0 + 300, old);
	put_at(f->st, DEVICE_A, 6, 1, NULL, 0, t0 + 360, now);
	store_retention_set(f->st, 100);
	assert_int_equal(store_prune_wait(f->st, now), 0);
	assert_int_equal(store_prune(f->st, now, 2, &pruned, &more, &e), 0);
	assert_int_equal(more, 1);		/* a full batch: more due */
	n = (int64_t)pruned;
	do {
		assert_int_equal(store_prune(f->st, now, 2, &pruned, &more,
		    &e), 0);
		n += (int64_t)pruned;
	} while (more);
	assert_int_equal(n, 3);			/* 2, 3 and 5 */
	assert_true(store_prune_wait(f->st, now) > 0);
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 3);
	/* A pruned seq sent again is a replay, the newest a duplicate. */
	assert_int_equal(put_at(f->st, DEVICE_A, 2, 1, NULL, 0, t0 + 120, now),
	    STORE_REPLAY);
	assert_int_equal(put_at(f->st, DEVICE_A, 6, 1, NULL, 0, t0 + 360, now),
	    STORE_DUPLICATE);

	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	/* Every change still has its signed report. */
	assert_int_equal(store_device_history(rd, DEVICE_A, 10, history_count,
	    &hist, &e), 0);
	assert_int_equal(hist, 3);
	/* --as-of inside the run, where report 3 was pruned: not stale. */
	memset(&w, 0, sizeof w);
	w.past = 1;
	w.at = t0 + 200;
	w.stale_before[SCOPE_PERSONNEL] = w.at - 100;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(st[STORE_COMPLIANT], 1);
	store_read_close(rd);
	rd = NULL;

	/* A gap wider than the window closes the run. */
	put_at(f->st, DEVICE_A, 7, 1, NULL, 0, t0 + 360 + 20000, now);
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	w.at = t0 + 360 + 10000;
	w.stale_before[SCOPE_PERSONNEL] = w.at - 3600;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(st[STORE_STALE], 1);
	w.at = t0 + 360 + 20010;
	w.stale_before[SCOPE_PERSONNEL] = w.at - 3600;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(st[STORE_COMPLIANT], 1);
	/* Inside the closed run: its last report is 10 s before at. */
	w.at = t0 + 370;
	w.stale_before[SCOPE_PERSONNEL] = w.at - 60;
	scan_count(rd, STORE_SCAN_STATUS, &w, &rows, &flagged, st);
	assert_int_equal(st[STORE_COMPLIANT], 1);
	store_read_close(rd);
}

/* The state of the one family device a family scan at w gives. */
static int
family_state(struct store_read *rd, const struct store_when *w)
{
	struct store_cursor *cur = NULL;
	struct store_row row;
	struct muster_err e;
	int state;

	assert_int_equal(store_family_scan(rd, w, &cur, &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	state = row.state;
	assert_int_equal(store_cursor_next(cur, &row, &e), 0);
	store_cursor_close(cur);
	return state;
}

/*
 * Retention and a family device's past: the family estimate --as-of
 * reads the runs of reports, as the personnel roll-up does, and answers
 * the same once the raw reports inside a run are pruned (it read the
 * raw reports and called a device stale at an instant between two
 * pruned reports).
 */
static void
retention_family(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_when w;
	struct muster_err e;
	time_t now = time(NULL), old = now - 1000, t0 = 1800000000;
	size_t pruned = 0;
	int more = 1, before;
	int64_t seq;

	enroll(f->st, DEVICE_B, TOKEN_B, SCOPE_FAMILY, "IAF/25-WING");
	for (seq = 1; seq <= 5; seq++)
		put_at(f->st, DEVICE_B, seq, 1, NULL, 0, t0 + 60 * seq, old);
	put_at(f->st, DEVICE_B, 6, 1, NULL, 0, t0 + 360, now);
	memset(&w, 0, sizeof w);
	w.past = 1;
	w.at = t0 + 200;
	w.stale_before[SCOPE_FAMILY] = w.at - 100;
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	before = family_state(rd, &w);
	assert_int_equal(before, STORE_COMPLIANT);
	store_read_close(rd);
	store_retention_set(f->st, 100);
	while (more)
		assert_int_equal(store_prune(f->st, now, 100, &pruned, &more,
		    &e), 0);
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(family_state(rd, &w), before);
	/* Before its first report: never; after a gap: stale. */
	w.at = t0 + 30;
	w.stale_before[SCOPE_FAMILY] = w.at - 100;
	assert_int_equal(family_state(rd, &w), STORE_NEVER);
	w.at = t0 + 360 + 5000;
	w.stale_before[SCOPE_FAMILY] = w.at - 3600;
	assert_int_equal(family_state(rd, &w), STORE_STALE);
	store_read_close(rd);
}

static void
reregister(void **state)
{
	struct cfx *f = *state;
	struct store_device d;
	enum store_put res = (enum store_put)-1;
	struct muster_err e;
	int used, revoked;

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	/* Known with another key. */
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	/* A device the store lost: back, its token used by it. */
	device_init(&d, DEVICE_C, TOKEN_C, SCOPE_PERSONNEL, "IAF/3-WING");
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), 0);
	assert_int_equal(res, STORE_STORED);
	assert_int_equal(store_token_get(f->st, TOKEN_C, &used, &revoked, &e),
	    0);
	assert_true(used == 1 && revoked == 0);
	/* Again, the same key: nothing changes. */
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), 0);
	assert_int_equal(res, STORE_DUPLICATE);
	/* Another device with that token. */
	device_init(&d, DEVICE_B, TOKEN_C, SCOPE_PERSONNEL, "IAF/3-WING");
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	/* A revoked device, a revoked token: never back. */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_B, &e)), 0);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_PERSONNEL, "IAF/3-WING");
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, TOKEN_B, &e)), 0);
	device_init(&d, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", TOKEN_B,
	    SCOPE_PERSONNEL, "IAF/3-WING");
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	assert_int_equal(store_device_get(f->st,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", &d, &e), MUSTER_ENOINPUT);
}

struct fleet_n {
	int	personnel, family, by_state[4], stale_policy;
	char	unit[64];
};

static int
fleet_count(void *cls, enum profile_scope scope, const char *unit, int state,
    unsigned stale)
{
	struct fleet_n *fl = cls;

	if (scope == SCOPE_FAMILY) {
		fl->family++;
		if (unit == NULL)
			return -1;
		snprintf(fl->unit, sizeof fl->unit, "%s", unit);
	} else {
		fl->personnel++;
		if (unit != NULL)
			return -1;	/* never a personnel unit */
	}
	if (state >= 0 && state < 4)
		fl->by_state[state]++;
	fl->stale_policy += (stale & REPORT_STALE_POLICY) != 0;
	return 0;
}

struct munit {
	int	n;
	char	first[64];
	int64_t	devices, noncompliant;
};

static int
munit_add(void *arg, const char *unit, int64_t devices, int64_t noncompliant)
{
	struct munit *m = arg;

	if (m->n++ == 0) {
		snprintf(m->first, sizeof m->first, "%s", unit);
		m->devices = devices;
		m->noncompliant = noncompliant;
	}
	return 0;
}

/* The ids a device-list cursor gives, by spaces. */
static void
ids(struct store_cursor *cur, char *out, size_t size)
{
	struct store_row row;
	struct muster_err e;
	size_t k = 0;
	int rc;

	out[0] = '\0';
	while ((rc = store_cursor_next(cur, &row, &e)) == 1)
		k += (size_t)snprintf(out + k, size - k, "%s%.4s",
		    k > 0 ? " " : "", row.id);
	assert_int_equal(rc, 0);
	store_cursor_close(cur);
}

static void
console_reads(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_cursor *cur = NULL;
	struct store_device_info di;
	struct store_devq q;
	struct store_when w;
	struct store_row row;
	struct store_report r;
	struct fleet_n fl;
	struct munit mu;
	struct muster_err e;
	const char *fam_fail[] = { "z-rule", "a-rule" };
	const int64_t now_stale[2] = { 0, 0 };
	char got[256];
	int64_t n = -1;
	int hist = 0, rc;

	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF");
	enroll(f->st, DEVICE_B, TOKEN_B, SCOPE_FAMILY, "IAF/25-WING");
	enroll(f->st, DEVICE_C, TOKEN_C, SCOPE_PERSONNEL, "IAF/25-WING");
	enroll(f->st, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1111111111111111",
	    SCOPE_PERSONNEL, "IAFX");
	put_at(f->st, DEVICE_A, 1, 1, NULL, 0, 1800000060, 0);
	put_at(f->st, DEVICE_A, 2, 0, fam_fail, 1, 1800000120, 0);
	report_init(&r, DEVICE_C, 1, 0, "{\"c\":1}", NULL, 0);
	r.stale = REPORT_STALE_POLICY;
	(void)put(f->st, &r, 0);
	put_at(f->st, DEVICE_B, 1, 0, fam_fail, 2, 1800000060, 0);

	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_device(rd, DEVICE_B, &di, &e), 0);
	assert_int_equal(di.scope, SCOPE_FAMILY);
	assert_string_equal(di.unit, "IAF/25-WING");
	assert_string_equal(di.model, "Xiaomi HM 1SW");
	assert_int_equal(di.enrolled, 1700000000);
	assert_int_equal(di.revoked, 0);
	assert_int_equal(store_read_device(rd,
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", &di, &e), MUSTER_ENOINPUT);
	/* Newest first, at most max. */
	assert_int_equal(store_device_history(rd, DEVICE_A, 1, history_count,
	    &hist, &e), 0);
	assert_int_equal(hist, 1);
	hist = 0;
	assert_int_equal(store_device_history(rd, DEVICE_A, 10, history_count,
	    &hist, &e), 0);
	assert_int_equal(hist, 2);

	/* A unit and the levels below it, not a unit it prefixes. */
	memset(&q, 0, sizeof q);
	q.state = -1;
	q.unit = "IAF";
	assert_int_equal(store_devices_scan(rd, &q, &cur, &e), 0);
	ids(cur, got, sizeof got);
	assert_string_equal(got, "0011 0123");
	q.unit = NULL;
	assert_int_equal(store_devices_page(rd, &q, 1, 1, &cur, &e), 0);
	ids(cur, got, sizeof got);
	assert_string_equal(got, "0123");
	assert_int_equal(store_devices_page(rd, &q, 0, 10, &cur, &e), 0);
	ids(cur, got, sizeof got);
	assert_string_equal(got, "0011 0123 aaaa");
	assert_int_equal(store_devices_page(rd, &q, 3, 10, &cur, &e), 0);
	ids(cur, got, sizeof got);
	assert_string_equal(got, "");

	assert_int_equal(store_count_stale_policy(rd, &n, &e), 0);
	assert_int_equal(n, 1);
	memset(&mu, 0, sizeof mu);
	assert_int_equal(store_model_units(rd, "HM 1S", 10, munit_add, &mu,
	    &e), 0);
	assert_int_equal(mu.n, 3);	/* personnel units only */
	assert_int_equal(mu.devices, 1);
	memset(&mu, 0, sizeof mu);
	assert_int_equal(store_model_units(rd, "Pixel", 10, munit_add, &mu,
	    &e), 0);
	assert_int_equal(mu.n, 0);

	memset(&fl, 0, sizeof fl);
	assert_int_equal(store_fleet_scan(rd, now_stale, fleet_count, &fl,
	    &e), 0);
	assert_int_equal(fl.personnel, 3);
	assert_int_equal(fl.family, 1);
	assert_string_equal(fl.unit, "IAF/25-WING");
	assert_int_equal(fl.by_state[STORE_NONCOMPLIANT], 3);
	assert_int_equal(fl.by_state[STORE_NEVER], 1);
	assert_int_equal(fl.stale_policy, 1);

	/* The family rows: failing sorted, present and past. */
	memset(&w, 0, sizeof w);
	assert_int_equal(store_family_scan(rd, &w, &cur, &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	assert_string_equal(row.unit, "IAF/25-WING");
	assert_string_equal(row.failing, "a-rule z-rule");
	assert_int_equal(row.state, STORE_NONCOMPLIANT);
	assert_int_equal(store_cursor_next(cur, &row, &e), 0);
	store_cursor_close(cur);
	w.past = 1;
	w.at = 1800000060;
	assert_int_equal(store_family_scan(rd, &w, &cur, &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	assert_string_equal(row.failing, "a-rule z-rule");
	rc = store_cursor_next(cur, &row, &e);
	assert_int_equal(rc, 0);
	store_cursor_close(cur);
	w.at = 1800000000;
	assert_int_equal(store_family_scan(rd, &w, &cur, &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	assert_string_equal(row.failing, "");
	assert_int_equal(row.state, STORE_NEVER);
	store_cursor_close(cur);
	store_read_close(rd);
}

static void
ping_size_backup(void **state)
{
	struct cfx *f = *state;
	struct muster_err e;
	char path[UNIT_TMPDIR_MAX + 32];
	int64_t db = -2, wal = -2, bytes = -1;

	assert_int_equal(store_ping(f->st, &e), 0);
	assert_int_equal(store_disk_usage(f->where, &db, &wal, &e), 0);
	assert_true(db > 0);
	snprintf(path, sizeof path, "%s/backup.db", f->dir);
	if (f->pg) {
		/* The WAL is the cluster's: not reported as the store's. */
		assert_int_equal(wal, -1);
		assert_int_equal(store_backup(f->where, path, &bytes, &e),
		    MUSTER_EUSAGE);
		assert_non_null(strstr(e.msg, "pg_dump"));
		assert_null(strchr(e.msg, '\n'));
		assert_int_equal(access(path, F_OK), -1);
	} else {
		assert_true(wal >= 0);
		assert_int_equal(store_backup(f->where, path, &bytes, &e), 0);
		assert_true(bytes > 0);
	}
}

/* --- the device's signature kept with each report ------------------------ */

struct sig_rows {
	int		n;
	int64_t		seq[4];
	int		has_sig[4];
	unsigned char	sig[4][STORE_SIG_LEN];
};

static int
sig_rows_add(void *arg, const struct store_history_row *row)
{
	struct sig_rows *sr = arg;

	if (sr->n >= 4 || !row->has_report)
		return -1;
	sr->seq[sr->n] = row->seq;
	sr->has_sig[sr->n] = row->sig != NULL;
	if (row->sig != NULL)
		memcpy(sr->sig[sr->n], row->sig, STORE_SIG_LEN);
	sr->n++;
	return 0;
}

/* Runs sql on the PostgreSQL store of f: 1 when it was refused. */
static int
pg_sql(const struct cfx *f, const char *sql)
{
	PGconn *c = PQconnectdb(f->where);
	PGresult *r;
	ExecStatusType st;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	st = PQresultStatus(r);
	PQclear(r);
	PQfinish(c);
	return st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
}

/*
 * What the history, the console's proof and verify-report rely on: the
 * signature handed to store_report_put comes back byte for byte through
 * the history and store_read_report with the body, its hash and the
 * device's key; a report stored without one reads "not kept"; a
 * duplicate keeps the first signature.
 */
static void
report_sig(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store_device d;
	struct store_device_info di;
	struct store_report r;
	struct store_proof p;
	struct sig_rows sr;
	struct muster_err e;
	unsigned char sig[STORE_SIG_LEN], other[STORE_SIG_LEN];
	unsigned char hash[STORE_HASH_LEN];
	const char *body1 = "{\"seq\":1,\"status\":\"compliant\"}";
	const char *fail1[] = { "cloud-sync-off" };

	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), 0);
	randombytes_buf(sig, sizeof sig);
	memcpy(other, sig, sizeof other);
	other[0] ^= 0x01;
	report_init(&r, DEVICE_A, 1, 1, body1, NULL, 0);
	r.sig = sig;
	assert_int_equal(put(f->st, &r, 0), STORE_STORED);
	/* The same bytes again with another signature: the first stays. */
	r.sig = other;
	assert_int_equal(put(f->st, &r, 0), STORE_DUPLICATE);
	/* A status change stored without a signature. */
	report_init(&r, DEVICE_A, 2, 0, "{\"seq\":2}", fail1, 1);
	assert_int_equal(put(f->st, &r, 0), STORE_STORED);

	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	assert_int_equal(store_read_device(rd, DEVICE_A, &di, &e), 0);
	assert_memory_equal(di.pk, d.pk, sizeof d.pk);

	memset(&sr, 0, sizeof sr);
	assert_int_equal(store_device_history(rd, DEVICE_A, 10, sig_rows_add,
	    &sr, &e), 0);
	assert_int_equal(sr.n, 2);
	assert_int_equal(sr.seq[0], 2);
	assert_int_equal(sr.has_sig[0], 0);
	assert_int_equal(sr.seq[1], 1);
	assert_int_equal(sr.has_sig[1], 1);
	assert_memory_equal(sr.sig[1], sig, sizeof sig);

	assert_int_equal(store_read_report(rd, DEVICE_A, 1, &p, &e), 0);
	assert_string_equal(p.device, DEVICE_A);
	assert_int_equal(p.seq, 1);
	assert_int_equal(p.scope, SCOPE_PERSONNEL);
	assert_int_equal(p.revoked, 0);
	assert_int_equal(p.compliant, 1);
	assert_int_equal(p.time, 1800000060);
	assert_true(p.received > 0);
	assert_memory_equal(p.pk, d.pk, sizeof d.pk);
	assert_int_equal(p.has_sig, 1);
	assert_memory_equal(p.sig, sig, sizeof sig);
	assert_int_equal(p.len, strlen(body1));
	assert_memory_equal(p.body, body1, p.len);
	assert_int_equal(p.body[p.len], '\0');
	crypto_generichash(hash, sizeof hash, (const unsigned char *)body1,
	    strlen(body1), NULL, 0);
	assert_memory_equal(p.hash, hash, sizeof hash);
	store_proof_clear(&p);
	store_proof_clear(&p);		/* a cleared proof: a no-op */
	store_proof_clear(NULL);

	assert_int_equal(store_read_report(rd, DEVICE_A, 2, &p, &e), 0);
	assert_int_equal(p.has_sig, 0);
	assert_int_equal(p.compliant, 0);
	assert_string_equal((const char *)p.body, "{\"seq\":2}");
	store_proof_clear(&p);

	/* No such report, no such device: nothing to prove. */
	assert_int_equal(store_read_report(rd, DEVICE_A, 9, &p, &e),
	    MUSTER_ENOINPUT);
	assert_null(p.body);
	assert_int_equal(store_read_report(rd, DEVICE_B, 1, &p, &e),
	    MUSTER_ENOINPUT);
	assert_null(p.body);
	store_proof_clear(&p);
	store_read_end(rd);
	store_read_close(rd);

	/* A revoked device's report still reads, marked revoked. */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_report(rd, DEVICE_A, 1, &p, &e), 0);
	assert_int_equal(p.revoked, 1);
	assert_int_equal(p.has_sig, 1);
	store_proof_clear(&p);
	store_read_close(rd);

	if (!f->pg)
		return;		/* SQLite's file: test_store, test_report_sig */
	/* The column refuses a signature of another size. */
	assert_int_equal(pg_sql(f, "UPDATE reports SET sig = "
	    "decode(repeat('00', 63), 'hex') WHERE seq = 1"), 1);
	/* Without that check, a short one is an error, not a signature. */
	assert_int_equal(pg_sql(f, "ALTER TABLE reports DROP CONSTRAINT "
	    "reports_sig_len; UPDATE reports SET sig = "
	    "decode(repeat('00', 63), 'hex') WHERE seq = 1"), 0);
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_report(rd, DEVICE_A, 1, &p, &e),
	    MUSTER_EIO);
	assert_null(p.body);
	assert_int_equal(store_read_report(rd, DEVICE_A, 2, &p, &e), 0);
	store_proof_clear(&p);
	store_read_close(rd);
}

/*
 * PostgreSQL: a store of schema version 4 (reports without sig, the
 * 12-argument muster_report_put) migrated by the next writable open:
 * its reports read "not kept", new ones keep their signature.  The
 * version-4 shape is made from the current one by hand: the column and
 * the function taken away, the version row removed.
 */
static void
pg_sig_migration(void **state)
{
	struct cfx *f = *state;
	struct store_read *rd = NULL;
	struct store *again = NULL;
	struct store_report r;
	struct store_proof p;
	struct muster_err e;
	unsigned char sig[STORE_SIG_LEN];

	if (!f->pg)
		skip();
	enroll(f->st, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL, "IAF/25-WING");
	put_at(f->st, DEVICE_A, 1, 1, NULL, 0, 1800000060, 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(pg_sql(f, "ALTER TABLE reports DROP COLUMN sig;"
	    "DROP FUNCTION muster_report_put(text, bigint, bigint, bigint, "
	    "text, text, bigint, integer, bytea, bytea, text[], bigint, "
	    "bytea);"
	    "CREATE FUNCTION muster_report_put(text, bigint, bigint, bigint, "
	    "text, text, bigint, integer, bytea, bytea, text[], bigint) "
	    "RETURNS integer LANGUAGE sql AS 'SELECT 0';"
	    "DELETE FROM schema_version WHERE version = 5"), 0);
	/* Not yet migrated: a reader refuses the older schema. */
	assert_int_equal(store_read_open(f->where, &rd, &e), MUSTER_ECONFIG);
	assert_int_equal(store_open(f->where, 0, &again, &e), 0);
	f->st = again;
	randombytes_buf(sig, sizeof sig);
	report_init(&r, DEVICE_A, 2, 0, "{\"seq\":2}", NULL, 0);
	r.sig = sig;
	assert_int_equal(put(f->st, &r, 0), STORE_STORED);
	assert_int_equal(store_read_open(f->where, &rd, &e), 0);
	assert_int_equal(store_read_report(rd, DEVICE_A, 1, &p, &e), 0);
	assert_int_equal(p.has_sig, 0);
	store_proof_clear(&p);
	assert_int_equal(store_read_report(rd, DEVICE_A, 2, &p, &e), 0);
	assert_int_equal(p.has_sig, 1);
	assert_memory_equal(p.sig, sig, sizeof sig);
	store_proof_clear(&p);
	store_read_close(rd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(open_reopen),
		T(enroll_tokens),
		T(reports),
		T(history_scans),
		T(device_list),
		T(delete_cascades),
		T(revoke_used),
		T(savepoints),
		T(profiles),
		TE(read_empty),
		T(read_snapshot),
		T(loader),
		T(two_writers),
		T(documents),
		T(pg_reconnect),
		T(pg_unreachable),
		T(pg_prune_lost),
		T(admins_audit),
		TE(admins_no_store),
		T(audit_two_appenders),
		T(retention),
		T(retention_family),
		T(reregister),
		T(console_reads),
		T(ping_size_backup),
		T(report_sig),
		T(pg_sig_migration),
	};

	if (sodium_init() < 0)
		return 1;
	fprintf(stderr, "# store contract on %s\n", pg_uri() != NULL ?
	    "PostgreSQL" : "SQLite");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
