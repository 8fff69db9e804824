/*
 * store: the SQLite store behind server/store.h.  Files and modes,
 * enrollment with fresh, used and revoked tokens, report dedup and replay,
 * status history kept only as changes and appended in time order,
 * cascading device deletion (the consent receipt, a revocation and a
 * family token included), secure_delete on every handle, the WAL
 * checkpointed and truncated after a deletion, the version 1 to 2 upgrade, profile publication with
 * rollback refused, the roll-up's read interface (scans, the device
 * list, an empty store) and the bulk loader of the benchmark tools.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "muster/fs.h"
#include "muster/profile.h"
#include "../../server/store.h"
#include "unit_store.h"

#define TOKEN_A		"0123456789abcdef"
#define TOKEN_B		"fedcba9876543210"
#define DEVICE_A	"00112233445566778899aabbccddeeff"
#define DEVICE_B	"ffeeddccbbaa99887766554433221100"

static void
tx_begin(struct store *st)
{
	struct muster_err e;

	assert_int_equal(store_begin(st, &e), 0);
}

/* Commits when rc is 0, else rolls back, as the writer does; returns rc. */
static int
tx_end(struct store *st, int rc)
{
	struct muster_err e;

	if (rc == 0)
		assert_int_equal(store_commit(st, &e), 0);
	else
		store_rollback(st);
	return rc;
}

/* call (a store function) in a transaction of its own. */
#define IN_TX(st, call)	(tx_begin(st), tx_end((st), (call)))

static void
device_init(struct store_device *d, const char *id, const char *token,
    enum profile_scope scope)
{
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", id);
	randombytes_buf(d->pk, sizeof d->pk);
	d->scope = scope;
	snprintf(d->unit, sizeof d->unit, "IAF/25-WING");
	snprintf(d->person, sizeof d->person, "IAF-704512");
	snprintf(d->model, sizeof d->model, "Xiaomi HM 1SW");
	snprintf(d->token_id, sizeof d->token_id, "%s", token);
	d->enrolled = 1700000000;
}

/* One integer from an SQL query on the store's file, read separately. */
static long long
query(struct fx *f, const char *sql)
{
	char path[128];
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	snprintf(path, sizeof path, "%s/muster.db", f->data);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void
enroll(struct fx *f, const char *id, const char *token)
{
	struct store_device d;
	struct muster_err e;

	device_init(&d, id, token, SCOPE_PERSONNEL);
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d,
	    1900000000, &e)), 0);
}

static void
open_close(void **state)
{
	struct fx *f = *state;
	struct store *ro = NULL, *again = NULL;
	struct muster_err e;
	struct stat sb;
	char path[128];
	int64_t n = -1;

	assert_int_equal(stat(f->data, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof path, "%s/muster.db", f->data);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(query(f, "SELECT count(*) FROM pragma_journal_mode "
	    "WHERE journal_mode = 'wal'"), 1);
	assert_int_equal(store_open(f->data, 1, &ro, &e), 0);
	assert_int_equal(store_count_devices(ro, &n, &e), 0);
	assert_int_equal(n, 0);
	store_close(ro);
	/* A second writer handle on the same files opens (schema kept). */
	assert_int_equal(store_open(f->data, 0, &again, &e), 0);
	store_close(again);
	store_close(NULL);
	/* A directory others can read is refused. */
	assert_int_equal(chmod(f->data, 0755), 0);
	assert_int_equal(store_open(f->data, 1, &ro, &e), MUSTER_ECONFIG);
	assert_null(ro);
	assert_int_equal(chmod(f->data, 0700), 0);
}

static void
enroll_tokens(void **state)
{
	struct fx *f = *state;
	struct store_device d, got;
	struct muster_err e;
	int revoked = -1;

	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL);
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_memory_equal(got.pk, d.pk, sizeof d.pk);
	assert_string_equal(got.unit, "IAF/25-WING");
	assert_string_equal(got.model, "Xiaomi HM 1SW");
	assert_string_equal(got.token_id, TOKEN_A);
	assert_int_equal(got.scope, SCOPE_PERSONNEL);
	assert_int_equal(got.revoked, 0);
	assert_int_equal(got.last_seq, 0);

	/* The same token again: used. */
	device_init(&d, DEVICE_B, TOKEN_A, SCOPE_PERSONNEL);
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "used"));
	assert_int_equal(store_device_get(f->st, DEVICE_B, &got, &e),
	    MUSTER_ENOINPUT);

	/* A token revoked before it was ever seen cannot enroll. */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, TOKEN_B, &e)), 0);
	assert_int_equal(store_token_revoked(f->st, TOKEN_B, &revoked, &e), 0);
	assert_int_equal(revoked, 1);
	assert_int_equal(store_token_revoked(f->st, TOKEN_A, &revoked, &e), 0);
	assert_int_equal(revoked, 0);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_FAMILY);
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "revoked"));

	/* Revoking a device marks it; a bad id is refused. */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.revoked, 1);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, "nothex", &e)),
	    MUSTER_EDATA);
	assert_int_equal(query(f, "SELECT count(*) FROM revocations"), 2);
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
put(struct fx *f, const struct store_report *r)
{
	struct muster_err e;
	enum store_put res = (enum store_put)-1;

	assert_int_equal(IN_TX(f->st, store_report_put(f->st, r, &res, &e)),
	    0);
	return res;
}

static void
report_dedup_replay(void **state)
{
	struct fx *f = *state;
	static const char *const fail1[] = { "redmi-1s-unfixed" };
	struct store_report r;
	struct store_device d;
	struct muster_err e;
	enum store_put res;
	int64_t n;

	enroll(f, DEVICE_A, TOKEN_A);
	report_init(&r, DEVICE_A, 1, 0, "{\"seq\":1}", fail1, 1);
	assert_int_equal(put(f, &r), STORE_STORED);
	/* The same seq and bytes: already stored. */
	assert_int_equal(put(f, &r), STORE_DUPLICATE);
	/* The same seq, other bytes: replay. */
	report_init(&r, DEVICE_A, 1, 0, "{\"seq\":1,\"x\":1}", fail1, 1);
	assert_int_equal(put(f, &r), STORE_REPLAY);
	report_init(&r, DEVICE_A, 5, 1, "{\"seq\":5}", NULL, 0);
	assert_int_equal(put(f, &r), STORE_STORED);
	/* Below the newest, never stored: replay too. */
	report_init(&r, DEVICE_A, 3, 1, "{\"seq\":3}", NULL, 0);
	assert_int_equal(put(f, &r), STORE_REPLAY);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &d, &e), 0);
	assert_int_equal(d.last_seq, 5);
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 2);
	/* An unknown device, a revoked one. */
	report_init(&r, DEVICE_B, 1, 1, "{}", NULL, 0);
	assert_int_equal(IN_TX(f->st, store_report_put(f->st, &r, &res, &e)),
	    MUSTER_ENOINPUT);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);
	report_init(&r, DEVICE_A, 6, 1, "{\"seq\":6}", NULL, 0);
	assert_int_equal(IN_TX(f->st, store_report_put(f->st, &r, &res, &e)),
	    MUSTER_ETRUST);
	assert_int_equal(store_count_reports(f->st, &n, &e), 0);
	assert_int_equal(n, 2);
}

static void
history_on_change(void **state)
{
	struct fx *f = *state;
	static const char *const a[] = { "cloud-sync-off", "redmi-1s-unfixed" };
	static const char *const b[] = { "redmi-1s-unfixed" };
	struct store_report r;
	char body[32];
	int64_t seq;

	enroll(f, DEVICE_A, TOKEN_A);
	/* noncompliant x3, compliant x2, noncompliant: three changes. */
	for (seq = 1; seq <= 6; seq++) {
		int ok = seq == 4 || seq == 5;

		snprintf(body, sizeof body, "{\"seq\":%lld}", (long long)seq);
		report_init(&r, DEVICE_A, seq, ok, body, ok ? NULL :
		    seq == 6 ? b : a, ok ? 0 : seq == 6 ? 1 : 2);
		assert_int_equal(put(f, &r), STORE_STORED);
	}
	assert_int_equal(query(f, "SELECT count(*) FROM status_history"), 3);
	assert_int_equal(query(f, "SELECT group_concat(seq) = '1,4,6' FROM "
	    "(SELECT seq FROM status_history ORDER BY seq)"), 1);
	assert_int_equal(query(f, "SELECT count(*) FROM reports"), 6);
	/* The failing set now: redmi only; its changes were recorded. */
	assert_int_equal(query(f, "SELECT count(*) FROM device_failing"), 1);
	assert_int_equal(query(f, "SELECT count(*) FROM device_failing "
	    "WHERE rule = 'redmi-1s-unfixed'"), 1);
	/* cloud: on at 1, off at 4; redmi: on 1, off 4, on 6. */
	assert_int_equal(query(f, "SELECT count(*) FROM failing_history"), 5);
	assert_int_equal(query(f, "SELECT last_status = 'noncompliant' AND "
	    "last_seq = 6 AND last_serial = 3 FROM devices"), 1);
}

static void
delete_cascades(void **state)
{
	struct fx *f = *state;
	static const char *const a[] = { "redmi-1s-unfixed" };
	struct store_report r;
	struct store_device d;
	struct muster_err e;

	enroll(f, DEVICE_A, TOKEN_A);
	enroll(f, DEVICE_B, TOKEN_B);
	report_init(&r, DEVICE_A, 1, 0, "{\"a\":1}", a, 1);
	assert_int_equal(put(f, &r), STORE_STORED);
	report_init(&r, DEVICE_B, 1, 0, "{\"b\":1}", a, 1);
	assert_int_equal(put(f, &r), STORE_STORED);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_A,
	    &e)), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &d, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(query(f, "SELECT count(*) FROM reports WHERE "
	    "device = '" DEVICE_A "'"), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM status_history WHERE "
	    "device = '" DEVICE_A "'"), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM device_failing WHERE "
	    "device = '" DEVICE_A "'"), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM failing_history "
	    "WHERE device = '" DEVICE_A "'"), 0);
	/* The other device is untouched; the used token stays used. */
	assert_int_equal(query(f, "SELECT count(*) FROM reports"), 1);
	assert_int_equal(query(f, "SELECT used IS NOT NULL FROM tokens WHERE "
	    "id = '" TOKEN_A "'"), 1);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_A,
	    &e)), MUSTER_ENOINPUT);
}

/* A consent for DEVICE_B enrolled with TOKEN_B. */
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
consent_kept_and_deleted(void **state)
{
	struct fx *f = *state;
	struct store_device d;
	struct store_consent c;
	struct muster_err e;
	int used = -1, revoked = -1;

	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_FAMILY);
	consent_init(&c, "{\"token\":\"t\",\"consent\":{}}");
	/* No device: the foreign key refuses a consent of its own. */
	assert_int_equal(IN_TX(f->st, store_consent_add(f->st, &c, &e)),
	    MUSTER_EDATA);
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	assert_int_equal(store_consent_add(f->st, &c, &e), 0);
	assert_int_equal(store_commit(f->st, &e), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM consents WHERE "
	    "device = '" DEVICE_B "' AND token = '" TOKEN_B "' AND "
	    "hex(text_hash) = '" "ABABABABABABABABABABABABABABABAB"
	    "ABABABABABABABABABABABABABABABAB' AND serial = 3 AND "
	    "length(sig) = 64 AND time = 1795255200"), 1);
	assert_int_equal(store_token_get(f->st, TOKEN_B, &used, &revoked, &e),
	    0);
	assert_int_equal(used, 1);
	assert_int_equal(revoked, 0);
	assert_int_equal(store_token_get(f->st, TOKEN_A, &used, &revoked, &e),
	    0);
	assert_int_equal(used, 0);
	/* A second receipt for the device is refused. */
	assert_int_equal(IN_TX(f->st, store_consent_add(f->st, &c, &e)),
	    MUSTER_EDATA);
	/* Revoked, then deleted: the consent and the revocation go too. */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_B, &e)), 0);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_B,
	    &e)), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM consents"), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM revocations WHERE "
	    "id = '" DEVICE_B "'"), 0);
	/* A family member's token id is forgotten with them. */
	assert_int_equal(store_token_get(f->st, TOKEN_B, &used, &revoked, &e),
	    0);
	assert_int_equal(used, 0);
	assert_int_equal(query(f, "SELECT count(*) FROM tokens WHERE "
	    "id = '" TOKEN_B "'"), 0);
}

/* A revoked family token stays, or its revocation would go with it. */
static void
family_token_revoked_kept(void **state)
{
	struct fx *f = *state;
	struct store_device d;
	struct muster_err e;
	int used = -1, revoked = -1;

	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_FAMILY);
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d, 1900000000,
	    &e)), 0);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, TOKEN_B, &e)), 0);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_B,
	    &e)), 0);
	assert_int_equal(store_token_get(f->st, TOKEN_B, &used, &revoked, &e),
	    0);
	assert_int_equal(revoked, 1);
	/* A personnel device's token stays used (delete_cascades). */
}

/*
 * A deletion's commit checkpoints the WAL and truncates it: no byte of
 * the deleted device in the database, its WAL or its shared memory,
 * while the handle is still open.  A reader in a transaction holds the
 * checkpoint back; store_scrub finishes it once the reader is done.
 */
static void
scrub_after_delete(void **state)
{
	struct fx *f = *state;
	static const char *const names[] = { "muster.db", "muster.db-wal",
	    "muster.db-shm" };
	struct store_device d;
	struct store_report r;
	struct muster_err e;
	char path[160], *buf;
	sqlite3 *rd;
	FILE *fp;
	size_t i, n;

	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_FAMILY);
	snprintf(d.person, sizeof d.person, "SECRET-PERSON-2");
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d,
	    1900000000, &e)), 0);
	report_init(&r, DEVICE_A, 1, 1, "{\"device\":\"" DEVICE_A "\"}",
	    NULL, 0);
	assert_int_equal(put(f, &r), STORE_STORED);

	/* A reader in a read transaction on the snapshot before. */
	snprintf(path, sizeof path, "%s/muster.db", f->data);
	assert_int_equal(sqlite3_open_v2(path, &rd, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(rd, "BEGIN; SELECT count(*) FROM "
	    "devices;", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_A,
	    &e)), 0);
	assert_int_equal(store_scrub_pending(f->st), 1);
	assert_int_equal(store_scrub(f->st, &e), MUSTER_ETEMP);
	assert_int_equal(sqlite3_exec(rd, "COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(store_scrub(f->st, &e), 0);
	assert_int_equal(store_scrub_pending(f->st), 0);
	assert_int_equal(store_scrub(f->st, &e), 0);	/* nothing pending */

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", f->data, names[i]);
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		assert_non_null(buf = malloc(1 << 22));
		n = fread(buf, 1, 1 << 22, fp);
		fclose(fp);
		assert_null(memmem(buf, n, "SECRET-PERSON-2", 15));
		assert_null(memmem(buf, n, DEVICE_A, strlen(DEVICE_A)));
		assert_null(memmem(buf, n, TOKEN_A, strlen(TOKEN_A)));
		if (i == 1)
			assert_int_equal(n, 0);		/* the WAL is empty */
		free(buf);
	}
	sqlite3_close(rd);
}

/* A new seq may not carry a time before the newest report's. */
static void
report_backdated(void **state)
{
	struct fx *f = *state;
	struct store_report r;

	enroll(f, DEVICE_A, TOKEN_A);
	report_init(&r, DEVICE_A, 5, 1, "{\"seq\":5}", NULL, 0);
	assert_int_equal(put(f, &r), STORE_STORED);
	report_init(&r, DEVICE_A, 6, 0, "{\"seq\":6}", NULL, 0);
	r.time = 1800000000 + 5 * 60 - 1;
	assert_int_equal(put(f, &r), STORE_BACKDATED);
	assert_int_equal(query(f, "SELECT count(*) FROM reports"), 1);
	assert_int_equal(query(f, "SELECT count(*) FROM status_history"), 1);
	assert_int_equal(query(f, "SELECT last_seq FROM devices"), 5);
	/* The same time as the newest is not before it. */
	r.time = 1800000000 + 5 * 60;
	assert_int_equal(put(f, &r), STORE_STORED);
	assert_int_equal(query(f, "SELECT count(*) FROM status_history"), 2);
	/* Not even SQL on the file rewrites history. */
	{
		char path[160], *msg = NULL;
		sqlite3 *db;

		snprintf(path, sizeof path, "%s/muster.db", f->data);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 5000);
		assert_int_equal(sqlite3_exec(db, "UPDATE status_history SET "
		    "time = 0", NULL, NULL, &msg), SQLITE_CONSTRAINT);
		assert_non_null(strstr(msg, "append-only"));
		sqlite3_free(msg);
		sqlite3_close(db);
	}
}

/* secure_delete is on for the writer's handle and for a reader's. */
static void
secure_delete_on(void **state)
{
	struct fx *f = *state;
	struct store *ro = NULL;
	struct store_device d;
	struct muster_err e;
	char path[128], *buf;
	FILE *fp;
	long n;
	size_t got;

	assert_int_equal(store_open(f->data, 1, &ro, &e), 0);
	store_close(ro);
	/* What the handle does, seen in the file's bytes after a delete. */
	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_FAMILY);
	snprintf(d.person, sizeof d.person, "SECRET-PERSON-1");
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d,
	    1900000000, &e)), 0);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_A,
	    &e)), 0);
	/* The last handle closed checkpoints the WAL into the file. */
	store_close(f->st);
	f->st = NULL;
	snprintf(path, sizeof path, "%s/muster.db-wal", f->data);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof path, "%s/muster.db", f->data);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	assert_true((n = ftell(fp)) > 0);
	rewind(fp);
	assert_non_null(buf = malloc((size_t)n));
	got = fread(buf, 1, (size_t)n, fp);
	fclose(fp);
	assert_int_equal(got, (size_t)n);
	assert_null(memmem(buf, got, "SECRET-PERSON-1", 15));
	assert_null(memmem(buf, got, DEVICE_A, strlen(DEVICE_A)));
	free(buf);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
}

/* A version 1 store (placeholder consents table) is brought to 2. */
static void
upgrade_v1(void **state)
{
	struct fx *f = *state;
	struct store_device d;
	struct store_consent c;
	struct muster_err e;
	char path[128];
	sqlite3 *db;

	store_close(f->st);
	f->st = NULL;
	snprintf(path, sizeof path, "%s/muster.db", f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE consents;"
	    "CREATE TABLE consents (device TEXT PRIMARY KEY REFERENCES "
	    "devices (id) ON DELETE CASCADE, time INTEGER NOT NULL, body BLOB "
	    "NOT NULL) WITHOUT ROWID; PRAGMA user_version = 1;", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
	assert_int_equal(query(f, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_FAMILY);
	consent_init(&c, "{}");
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	assert_int_equal(store_consent_add(f->st, &c, &e), 0);
	assert_int_equal(store_commit(f->st, &e), 0);
	/* A newer version than this server knows is refused. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), MUSTER_ECONFIG);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
}

static void
savepoint_isolates(void **state)
{
	struct fx *f = *state;
	struct store_device d;
	struct muster_err e;

	/* One transaction, two jobs: the failing one rolls back alone. */
	enroll(f, DEVICE_A, TOKEN_A);
	assert_int_equal(store_begin(f->st, &e), 0);
	assert_int_equal(store_savepoint(f->st, &e), 0);
	device_init(&d, DEVICE_B, TOKEN_A, SCOPE_PERSONNEL);
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e),
	    MUSTER_ETRUST);
	store_rollback_savepoint(f->st);
	assert_int_equal(store_savepoint(f->st, &e), 0);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_FAMILY);
	assert_int_equal(store_device_add(f->st, &d, 1900000000, &e), 0);
	assert_int_equal(store_release(f->st, &e), 0);
	assert_int_equal(store_commit(f->st, &e), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_B, &d, &e), 0);
	assert_string_equal(d.token_id, TOKEN_B);
	assert_int_equal(d.scope, SCOPE_FAMILY);
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
	struct fx *f = *state;
	struct store_profile cur;
	struct profile *p1, *p2, *p2b, *fam;
	struct muster_err e;
	enum store_put res;
	char b1[512], b2[512], b2b[512], bf[512], *bytes, *sig;
	size_t len, siglen;

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
	/* Serial 1 again (rollback) and serial 2 with other bytes: refused. */
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
	store_profile_clear(&cur);
	assert_int_equal(store_profile_get(f->st, SCOPE_FAMILY, &bytes, &len,
	    &sig, &siglen, &e), 0);
	assert_int_equal(len, strlen(bf));
	assert_memory_equal(bytes, bf, len);
	assert_string_equal(sig, "sigf");
	free(bytes);
	free(sig);
	/* By id and serial, as a manifest names it: the older one too. */
	assert_int_equal(store_profile_find(f->st, "iaf", 1, &cur, &e), 0);
	assert_int_equal(cur.serial, 1);
	assert_memory_equal(cur.bytes, b1, cur.len);
	assert_string_equal(cur.sig, "sig1");
	store_profile_clear(&cur);
	assert_int_equal(store_profile_find(f->st, "iaf", 3, &cur, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(store_profile_find(f->st, "none", 1, &cur, &e),
	    MUSTER_ENOINPUT);
	profile_free(p1);
	profile_free(p2);
	profile_free(p2b);
	profile_free(fam);
}

/*
 * store_revoke_used: a used token revokes the device it enrolled and
 * names it; an unused token or a device id names none.
 */
static void
revoke_used(void **state)
{
	struct fx *f = *state;
	struct store_device got;
	struct muster_err e;
	char dev[DEVICE_ID_HEX];
	int used = 0, revoked = 0;

	enroll(f, DEVICE_A, TOKEN_A);
	assert_int_equal(IN_TX(f->st, store_revoke_used(f->st, TOKEN_A, dev,
	    &e)), 0);
	assert_string_equal(dev, DEVICE_A);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.revoked, 1);
	assert_int_equal(store_token_get(f->st, TOKEN_A, &used, &revoked, &e),
	    0);
	assert_int_equal(used, 1);
	assert_int_equal(revoked, 1);
	assert_int_equal(IN_TX(f->st, store_revoke_used(f->st, TOKEN_B, dev,
	    &e)), 0);
	assert_string_equal(dev, "");
	assert_int_equal(IN_TX(f->st, store_revoke_used(f->st, DEVICE_B, dev,
	    &e)), 0);
	assert_string_equal(dev, "");
	assert_int_equal(IN_TX(f->st, store_revoke_used(f->st, "nothex", dev,
	    &e)), MUSTER_EDATA);
	assert_int_equal(query(f, "SELECT count(*) FROM revocations"), 4);
}

/* Every row of a scan into rows[] (at most n); the number of rows. */
static int
scan_all(struct store_cursor *cur, struct store_row *rows, int n,
    char ids[][DEVICE_ID_HEX])
{
	struct muster_err e;
	struct store_row row;
	int k = 0, rc;

	while ((rc = store_cursor_next(cur, &row, &e)) > 0) {
		assert_true(k < n);
		rows[k] = row;
		/* The strings last only until the next row: keep the id. */
		snprintf(ids[k], DEVICE_ID_HEX, "%s", row.id != NULL ?
		    row.id : "");
		rows[k].id = row.id != NULL ? ids[k] : NULL;
		rows[k].unit = rows[k].person = rows[k].model = "";
		rows[k].rule = rows[k].failing = "";
		k++;
	}
	assert_int_equal(rc, 0);
	store_cursor_close(cur);
	return k;
}

static void
read_scans(void **state)
{
	struct fx *f = *state;
	static const char *const fail1[] = { "redmi-1s-unfixed" };
	struct store_when w = { 0, 0, { 0, 0 } };
	struct store_devq q = { NULL, -1, { 0, 0 } };
	struct store_device d;
	struct store_report r;
	struct store_read *rd = NULL;
	struct store_cursor *cur = NULL;
	struct store_row rows[4], row;
	struct muster_err e;
	char ids[4][DEVICE_ID_HEX], path[128], *bytes = NULL;
	size_t len;
	int len3[3], n, k;

	/* No data directory; one without a database: an empty store. */
	snprintf(path, sizeof path, "%s/none", f->dir);
	assert_int_equal(store_read_open(path, &rd, &e), MUSTER_ENOINPUT);
	assert_null(rd);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(store_read_open(path, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	assert_int_equal(store_rollup_scan(rd, STORE_SCAN_STATUS, &w, &cur,
	    &e), 0);
	assert_int_equal(scan_all(cur, rows, 4, ids), 0);
	assert_int_equal(store_devices_widths(rd, &q, len3, &e), 0);
	assert_int_equal(len3[0] + len3[1] + len3[2], 0);
	assert_int_equal(store_read_profile(rd, SCOPE_PERSONNEL, NULL, &bytes,
	    &len, &e), 0);
	assert_null(bytes);
	store_read_end(rd);
	store_read_close(rd);
	store_read_close(NULL);

	/* A personnel device failing a rule, a family device never seen. */
	enroll(f, DEVICE_A, TOKEN_A);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_FAMILY);
	assert_int_equal(IN_TX(f->st, store_device_add(f->st, &d,
	    1900000000, &e)), 0);
	report_init(&r, DEVICE_A, 1, 0, "{\"seq\":1}", fail1, 1);
	assert_int_equal(put(f, &r), STORE_STORED);
	assert_int_equal(store_read_open(f->data, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);

	w.at = time(NULL);
	assert_int_equal(store_rollup_scan(rd, STORE_SCAN_STATUS, &w, &cur,
	    &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	assert_string_equal(row.unit, "IAF/25-WING");
	for (n = 1; store_cursor_next(cur, &row, &e) == 1; n++)
		;
	store_cursor_close(cur);
	assert_int_equal(n, 2);
	assert_int_equal(store_rollup_scan(rd, STORE_SCAN_STATUS, &w, &cur,
	    &e), 0);
	n = scan_all(cur, rows, 4, ids);
	assert_int_equal(n, 2);
	for (k = 0; k < n; k++)
		assert_int_equal(rows[k].state, rows[k].scope == SCOPE_FAMILY ?
		    STORE_NEVER : STORE_NONCOMPLIANT);
	/* Received before the threshold: stale. */
	w.stale_before[SCOPE_PERSONNEL] = w.at + 3600;
	assert_int_equal(store_rollup_scan(rd, STORE_SCAN_STATUS, &w, &cur,
	    &e), 0);
	n = scan_all(cur, rows, 4, ids);
	for (k = 0; k < n; k++)
		if (rows[k].scope == SCOPE_PERSONNEL)
			assert_int_equal(rows[k].state, STORE_STALE);

	/* The population names the family device only. */
	assert_int_equal(store_rollup_scan(rd, STORE_SCAN_POPULATION, &w,
	    &cur, &e), 0);
	n = scan_all(cur, rows, 4, ids);
	assert_int_equal(n, 2);
	for (k = 0; k < n; k++) {
		assert_int_equal(rows[k].flag, 1);
		if (rows[k].scope == SCOPE_FAMILY)
			assert_string_equal(rows[k].id, DEVICE_B);
		else
			assert_null(rows[k].id);
	}
	assert_int_equal(store_rollup_scan(rd, STORE_SCAN_FAILING, &w, &cur,
	    &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	assert_string_equal(row.id, DEVICE_A);
	assert_string_equal(row.rule, "redmi-1s-unfixed");
	assert_int_equal(row.flag, 1);
	assert_int_equal(store_cursor_next(cur, &row, &e), 0);
	store_cursor_close(cur);

	/* The device list: personnel only, filtered by state. */
	assert_int_equal(store_devices_scan(rd, &q, &cur, &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	assert_string_equal(row.id, DEVICE_A);
	assert_string_equal(row.person, "IAF-704512");
	assert_string_equal(row.model, "Xiaomi HM 1SW");
	assert_string_equal(row.failing, "redmi-1s-unfixed");
	assert_int_equal(row.state, STORE_NONCOMPLIANT);
	assert_true(row.has_last);
	assert_int_equal(store_cursor_next(cur, &row, &e), 0);
	store_cursor_close(cur);
	q.state = STORE_COMPLIANT;
	assert_int_equal(store_devices_scan(rd, &q, &cur, &e), 0);
	assert_int_equal(scan_all(cur, rows, 4, ids), 0);
	q.unit = "IAF/25-WING";
	assert_int_equal(store_devices_widths(rd, &q, len3, &e), 0);
	assert_int_equal(len3[0], 11);
	assert_int_equal(len3[1], 10);
	assert_int_equal(len3[2], 13);
	store_read_end(rd);
	store_read_close(rd);
}

/* The benchmark loader writes rows the store and the reader then see. */
static void
bulk_load(void **state)
{
	struct fx *f = *state;
	static const unsigned char pk[32], hash[STORE_HASH_LEN];
	struct store_load_device ld;
	struct store_load_report lr;
	struct store_load *l = NULL;
	struct store_device d;
	struct muster_err e;

	/* The loader locks the file: the writer's handle goes first. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_load_open(f->data, &l, &e), 0);
	assert_int_equal(store_load_profiles_published(l, 1700000000, &e), 0);
	assert_int_equal(store_load_token(l, TOKEN_A, 1700000000, 1900000000,
	    &e), 0);
	memset(&ld, 0, sizeof ld);
	ld.id = DEVICE_A;
	ld.pk = pk;
	ld.scope = SCOPE_PERSONNEL;
	ld.unit = "IAF/25-WING";
	ld.person = "IAF-704512";
	ld.model = "Redmi 1S";
	ld.token_id = TOKEN_A;
	ld.enrolled = 1700000000;
	ld.last_seq = 7;
	ld.last_time = 1700000600;
	ld.last_received = 1700000602;
	ld.last_compliant = 0;
	ld.last_profile = "iaf-personnel";
	ld.last_serial = 1;
	assert_int_equal(store_load_device(l, &ld, &e), 0);
	memset(&lr, 0, sizeof lr);
	lr.device = DEVICE_A;
	lr.seq = 7;
	lr.time = 1700000600;
	lr.received = 1700000602;
	lr.profile = "iaf-personnel";
	lr.serial = 1;
	lr.hash = hash;
	lr.body = (const unsigned char *)"{}";
	lr.len = 2;
	assert_int_equal(store_load_report(l, &lr, &e), 0);
	assert_int_equal(store_load_status(l, DEVICE_A, 1700000600, 7,
	    1700000602, 0, &e), 0);
	assert_int_equal(store_load_failing_change(l, DEVICE_A, "os-min",
	    1700000600, 7, 1, &e), 0);
	assert_int_equal(store_load_failing(l, DEVICE_A, "os-min",
	    1700000600, &e), 0);
	/* A row the schema refuses is an error, not a crash. */
	assert_int_equal(store_load_report(l, &lr, &e), MUSTER_EIO);
	assert_int_equal(store_load_finish(l, &e), 0);
	store_load_close(l);
	store_load_close(NULL);

	assert_int_equal(query(f, "SELECT count(*) FROM pragma_journal_mode "
	    "WHERE journal_mode = 'wal'"), 1);
	assert_int_equal(query(f, "SELECT count(*) FROM reports"), 1);
	assert_int_equal(query(f, "SELECT count(*) FROM status_history"), 1);
	assert_int_equal(query(f, "SELECT count(*) FROM failing_history"), 1);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &d, &e), 0);
	assert_string_equal(d.model, "Redmi 1S");
	assert_int_equal(d.last_seq, 7);
	assert_int_equal(store_load_try(f->data, "CREATE INDEX IF NOT EXISTS "
	    "devices_person ON devices (person)", &e), 0);
	assert_int_equal(store_load_try(f->data, "no such statement", &e),
	    MUSTER_EIO);
}


/* The past state of DEVICE_A at `at` with a stale window of `win`. */
static int
past_state(struct fx *f, time_t at, int64_t win)
{
	struct store_when w = { at, 1, { at - win, at - win } };
	struct store_read *rd = NULL;
	struct store_cursor *cur = NULL;
	struct store_row row;
	struct muster_err e;
	int state;

	assert_int_equal(store_read_open(f->data, &rd, &e), 0);
	assert_int_equal(store_read_begin(rd, &e), 0);
	assert_int_equal(store_rollup_scan(rd, STORE_SCAN_STATUS, &w, &cur,
	    &e), 0);
	assert_int_equal(store_cursor_next(cur, &row, &e), 1);
	state = row.state;
	store_cursor_close(cur);
	store_read_close(rd);
	return state;
}

/*
 * A week of hourly reports, one status change in it: pruning keeps the
 * change's report, the newest and the young ones, deletes the rest, and
 * every --as-of answer (each half hour of the week, the gap included)
 * is the same before and after.
 */
static void
prune_keeps_evidence(void **state)
{
	struct fx *f = *state;
	static const char *const fail1[] = { "redmi-1s-unfixed" };
	struct store_report r;
	struct muster_err e;
	char body[64];
	const time_t t0 = 1800000000;
	int before[400], more, i, k;
	size_t pruned, total = 0;
	int64_t seq;

	enroll(f, DEVICE_A, TOKEN_A);
	for (seq = 1; seq <= 168; seq++) {
		/* Noncompliant from hour 100 on; silent hours 50-59. */
		if (seq >= 50 && seq < 60)
			continue;
		snprintf(body, sizeof body, "{\"seq\":%lld}", (long long)seq);
		report_init(&r, DEVICE_A, seq, seq < 100, body,
		    seq < 100 ? NULL : fail1, seq < 100 ? 0 : 1);
		r.time = t0 + seq * 3600;
		r.received = r.time + 5;
		r.window = 7200;
		assert_int_equal(put(f, &r), STORE_STORED);
	}
	for (k = 0; k < 340; k++)
		before[k] = past_state(f, t0 + k * 1800, 7200);
	assert_int_equal(before[2 * 55], STORE_STALE);
	assert_int_equal(before[2 * 40], STORE_COMPLIANT);
	assert_int_equal(before[2 * 120], STORE_NONCOMPLIANT);
	assert_int_equal(query(f, "SELECT count(*) FROM report_runs"), 1);

	/* No retention: nothing is due, nothing goes. */
	assert_int_equal(store_prune_wait(f->st, t0), -1);
	store_retention_set(f->st, 24 * 3600);
	assert_int_equal(store_prune_wait(f->st, t0 + 200 * 3600), 0);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(store_prune(f->st, t0 + 170 * 3600, 16,
		    &pruned, &more, &e), 0);
		total += pruned;
		if (!more)
			break;
	}
	assert_true(store_prune_wait(f->st, t0 + 170 * 3600) > 0);
	/* Kept: seq 1 (first), 100 (the change), 168 (newest), and the
	 * last day (received from hour 146 on). */
	assert_int_equal(query(f, "SELECT count(*) FROM reports WHERE "
	    "seq IN (1, 100, 168)"), 3);
	assert_int_equal(query(f, "SELECT count(*) FROM reports WHERE "
	    "seq >= 146"), 23);
	assert_int_equal(query(f, "SELECT count(*) FROM reports"),
	    2 + 23);
	assert_int_equal((int)total, 158 - 25);
	for (k = 0; k < 340; k++)
		assert_int_equal(past_state(f, t0 + k * 1800, 7200),
		    before[k]);
	/* Reports keep coming; a second pass takes what became old. */
	report_init(&r, DEVICE_A, 169, 0, "{\"seq\":169}", fail1, 1);
	r.time = t0 + 169 * 3600;
	r.received = r.time + 5;
	assert_int_equal(put(f, &r), STORE_STORED);
	assert_int_equal(store_prune(f->st, t0 + 400 * 3600, 100, &pruned,
	    &more, &e), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM reports"), 3);
	assert_int_equal(query(f, "SELECT count(*) FROM reports WHERE "
	    "seq IN (1, 100, 169)"), 3);
}

/* A report later than the window closes the run; a smaller window wins. */
static void
runs_split(void **state)
{
	struct fx *f = *state;
	struct store_report r;
	char body[64];
	const time_t t0 = 1800000000;
	static const int64_t at[] = { 0, 3600, 7200, 20000, 23600, 23700,
	    23900 };
	static const int64_t win[] = { 7200, 7200, 7200, 7200, 7200, 120,
	    7200 };
	size_t i;

	enroll(f, DEVICE_A, TOKEN_A);
	for (i = 0; i < sizeof at / sizeof at[0]; i++) {
		snprintf(body, sizeof body, "{\"seq\":%zu}", i + 1);
		report_init(&r, DEVICE_A, (int64_t)i + 1, 1, body, NULL, 0);
		r.time = t0 + at[i];
		r.window = win[i];
		assert_int_equal(put(f, &r), STORE_STORED);
	}
	/* [0, 7200] closed at 20000; [20000, 23700] closed at 23900 (200 s
	 * after a report whose window was 120 s); 23900 open. */
	assert_int_equal(query(f, "SELECT count(*) FROM report_runs"), 2);
	assert_int_equal(query(f, "SELECT count(*) FROM report_runs WHERE "
	    "first = 1800020000 AND last = 1800023700"), 1);
	assert_int_equal(query(f, "SELECT run_first - 1800000000 FROM "
	    "devices"), 23900);
	assert_int_equal(past_state(f, t0 + 23800, 120), STORE_COMPLIANT);
	assert_int_equal(past_state(f, t0 + 23800, 60), STORE_STALE);
	/* Inside a run: a report came less than its window before. */
	assert_int_equal(past_state(f, t0 + 21000, 7200), STORE_COMPLIANT);
	assert_int_equal(past_state(f, t0 + 15000, 7200), STORE_STALE);
	assert_int_equal(past_state(f, t0 + 5000, 7200), STORE_COMPLIANT);
}

/*
 * A revocation and a departure are journaled beside the database: a
 * restored older copy of muster.db gets them back when it is opened (the
 * departed device deleted again, its id not written in the journal).
 */
static void
revocation_journal(void **state)
{
	struct fx *f = *state;
	struct store_device d;
	struct muster_err e;
	char db[160], old[160], jr[160], *buf = NULL;
	size_t len;
	struct stat sb;
	FILE *fp;

	enroll(f, DEVICE_A, TOKEN_A);
	enroll(f, DEVICE_B, TOKEN_B);
	snprintf(db, sizeof db, "%s/muster.db", f->data);
	snprintf(old, sizeof old, "%s/old.db", f->dir);
	snprintf(jr, sizeof jr, "%s/journal", f->data);
	assert_int_equal(store_backup(f->data, old, &(int64_t){ 0 }, &e), 0);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);
	/* B is revoked, then leaves: its revocation goes with it. */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_B, &e)), 0);
	assert_int_equal(IN_TX(f->st, store_device_delete(f->st, DEVICE_B,
	    &e)), 0);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, TOKEN_B, &e)), 0);
	assert_int_equal(stat(jr, &sb), 0);
	assert_int_equal(fs_read_file(jr, 4096, &buf, &len, &e), 0);
	assert_non_null(memmem(buf, len, "gone ", 5));
	free(buf);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* The restore: stop, copy the old file back, start. */
	store_close(f->st);
	f->st = NULL;
	unlink(db);
	assert_int_equal(rename(old, db), 0);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &d, &e), 0);
	assert_int_equal(d.revoked, 1);
	assert_int_equal(query(f, "SELECT count(*) FROM tokens WHERE id = '"
	    TOKEN_B "' AND revoked IS NOT NULL"), 1);
	assert_int_equal(store_device_get(f->st, DEVICE_B, &d, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(query(f, "SELECT count(*) FROM revocations WHERE "
	    "id = '" DEVICE_B "'"), 0);
	assert_int_equal(query(f, "SELECT count(*) FROM devices"), 1);
	/* Opened again: nothing more to apply, nothing journaled twice. */
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
	assert_int_equal(stat(jr, &sb), 0);
	assert_int_equal(sb.st_size, len);
	/* A damaged journal line is refused, naming the line. */
	store_close(f->st);
	f->st = NULL;
	assert_non_null(fp = fopen(jr, "a"));
	fputs("revoke not-an-id 12\n", fp);
	fclose(fp);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), MUSTER_EIO);
	assert_non_null(strstr(e.msg, "journal:5:"));
	assert_int_equal(truncate(jr, 0), 0);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
}

static void
reregister(void **state)
{
	struct fx *f = *state;
	struct store_device d, got;
	struct muster_err e;
	enum store_put res;

	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL);
	d.enrolled = 1800000000;
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), 0);
	assert_int_equal(res, STORE_STORED);
	assert_int_equal(store_device_get(f->st, DEVICE_A, &got, &e), 0);
	assert_int_equal(got.enrolled, 1800000000);
	assert_string_equal(got.unit, d.unit);
	/* Again: known with the same key. */
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), 0);
	assert_int_equal(res, STORE_DUPLICATE);
	/* Known with another key. */
	d.pk[0] ^= 1;
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	/* Its token is used now: another device cannot take it. */
	device_init(&d, DEVICE_B, TOKEN_A, SCOPE_PERSONNEL);
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	/* A revoked token, a revoked device id (not in the store). */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, TOKEN_B, &e)), 0);
	device_init(&d, DEVICE_B, TOKEN_B, SCOPE_PERSONNEL);
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_B, &e)), 0);
	device_init(&d, DEVICE_B, "aaaaaaaaaaaaaaaa", SCOPE_PERSONNEL);
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
	assert_int_equal(query(f, "SELECT count(*) FROM devices"), 1);
	/* A revoked device that the store knows. */
	assert_int_equal(IN_TX(f->st, store_revoke(f->st, DEVICE_A, &e)), 0);
	device_init(&d, DEVICE_A, TOKEN_A, SCOPE_PERSONNEL);
	assert_int_equal(IN_TX(f->st, store_device_reregister(f->st, &d,
	    1900000000, &res, &e)), MUSTER_ETRUST);
}

/* The backup: 0600, a whole consistent store, never over a directory. */
static void
backup_file(void **state)
{
	struct fx *f = *state;
	struct store_read *rd = NULL;
	struct muster_err e;
	char path[160], bdir[160];
	struct stat sb;
	int64_t bytes;

	enroll(f, DEVICE_A, TOKEN_A);
	snprintf(path, sizeof path, "%s/b.db", f->dir);
	umask(022);
	assert_int_equal(store_backup(f->data, path, &bytes, &e), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal((int64_t)sb.st_size, bytes);
	/* Over an old backup: replaced whole. */
	assert_int_equal(store_backup(f->data, path, &bytes, &e), 0);
	/* It opens as a store holding the device. */
	snprintf(bdir, sizeof bdir, "%s/restored", f->dir);
	assert_int_equal(mkdir(bdir, 0700), 0);
	snprintf(bdir, sizeof bdir, "%s/restored/muster.db", f->dir);
	assert_int_equal(rename(path, bdir), 0);
	snprintf(bdir, sizeof bdir, "%s/restored", f->dir);
	assert_int_equal(store_read_open(bdir, &rd, &e), 0);
	store_read_close(rd);
	snprintf(path, sizeof path, "%s/no/such/dir/b.db", f->dir);
	assert_int_equal(store_backup(f->data, path, &bytes, &e),
	    MUSTER_ECANTCREAT);
	snprintf(path, sizeof path, "%s/none", f->dir);
	assert_int_equal(store_backup(path, f->dir, &bytes, &e),
	    MUSTER_ENOINPUT);
}


/*
 * A version 3 store (every report kept, no runs) brought to 4: the runs
 * are built from its reports, split where two are more than 120 s apart,
 * and the past reads as it did from the reports.
 */
static void
upgrade_v3_runs(void **state)
{
	struct fx *f = *state;
	struct store_report r;
	struct muster_err e;
	static const int64_t at[] = { 0, 60, 120, 4000, 4100 };
	char body[32], path[160];
	const time_t t0 = 1800000000;
	int before[80], k;
	size_t i;
	sqlite3 *db;

	enroll(f, DEVICE_A, TOKEN_A);
	for (i = 0; i < sizeof at / sizeof at[0]; i++) {
		snprintf(body, sizeof body, "{\"seq\":%zu}", i + 1);
		report_init(&r, DEVICE_A, (int64_t)i + 1, 1, body, NULL, 0);
		r.time = t0 + at[i];
		assert_int_equal(put(f, &r), STORE_STORED);
	}
	store_close(f->st);
	f->st = NULL;
	snprintf(path, sizeof path, "%s/muster.db", f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE report_runs;"
	    "ALTER TABLE devices DROP COLUMN run_first;"
	    "ALTER TABLE devices DROP COLUMN run_window;"
	    "PRAGMA user_version = 3;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	/* What version 3 answers (from the reports), at 100 s steps. */
	for (k = 0; k < 50; k++)
		before[k] = past_state(f, t0 + k * 100, 300);
	assert_int_equal(store_open(f->data, 0, &f->st, &e), 0);
	assert_int_equal(query(f, "PRAGMA user_version"), 4);
	assert_int_equal(query(f, "SELECT count(*) FROM report_runs"), 2);
	assert_int_equal(query(f, "SELECT count(*) FROM devices WHERE "
	    "run_first IS NULL"), 1);
	for (k = 0; k < 50; k++)
		assert_int_equal(past_state(f, t0 + k * 100, 300), before[k]);
	assert_int_equal(before[3], STORE_COMPLIANT);
	assert_int_equal(before[10], STORE_STALE);
	/* The next report opens a run of its own. */
	report_init(&r, DEVICE_A, 6, 1, "{\"seq\":6}", NULL, 0);
	r.time = t0 + 4200;
	assert_int_equal(put(f, &r), STORE_STORED);
	assert_int_equal(query(f, "SELECT run_first - 1800000000 FROM "
	    "devices"), 4200);
	assert_int_equal(past_state(f, t0 + 4150, 300), STORE_COMPLIANT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		unit_store_test(open_close),
		unit_store_test(enroll_tokens),
		unit_store_test(report_dedup_replay),
		unit_store_test(history_on_change),
		unit_store_test(delete_cascades),
		unit_store_test(consent_kept_and_deleted),
		unit_store_test(family_token_revoked_kept),
		unit_store_test(scrub_after_delete),
		unit_store_test(report_backdated),
		unit_store_test(secure_delete_on),
		unit_store_test(upgrade_v1),
		unit_store_test(savepoint_isolates),
		unit_store_test(profiles),
		unit_store_test(revoke_used),
		unit_store_test(read_scans),
		unit_store_test(bulk_load),
		unit_store_test(prune_keeps_evidence),
		unit_store_test(runs_split),
		unit_store_test(revocation_journal),
		unit_store_test(reregister),
		unit_store_test(backup_file),
		unit_store_test(upgrade_v3_runs),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
