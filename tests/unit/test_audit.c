/*
 * audit: the entry hash (a known answer, computed independently in
 * Python, and every field covered), checkpoint signatures (forged,
 * tampered, wrong key), the key file (0600, the same key on reopening, a
 * readable key refused), and the chain on a real SQLite store: intact,
 * then an edited, a deleted and a truncated entry and a forged or
 * missing checkpoint each found at its entry; a witness; and two
 * handles appending at once (the server and the CLI) keeping one chain;
 * refused credentials aggregated per address and minute and bounded per
 * hour, every refusal accounted for.
 */
#include "unit.h"
#include "unit_store.h"

#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "../../server/audit.h"

static void
entry(struct store_audit_entry *a, int64_t seq, time_t t, const char *actor,
    const char *addr, const char *action, const char *object,
    const char *outcome)
{
	memset(a, 0, sizeof *a);
	a->seq = seq;
	a->time = t;
	snprintf(a->actor, sizeof a->actor, "%s", actor);
	snprintf(a->addr, sizeof a->addr, "%s", addr);
	snprintf(a->action, sizeof a->action, "%s", action);
	snprintf(a->object, sizeof a->object, "%s", object);
	snprintf(a->outcome, sizeof a->outcome, "%s", outcome);
}

static void
entry_hash(void **state)
{
	unsigned char prev[STORE_HASH_LEN], h[STORE_HASH_LEN],
	    h2[STORE_HASH_LEN];
	char hex[AUDIT_HASH_HEX];
	struct store_audit_entry a, b;

	(void)state;
	memset(prev, 0, sizeof prev);
	entry(&a, 1, 1700000000, "admin", "127.0.0.1", "publish",
	    "profile p serial 1", "ok 201");
	audit_entry_hash(prev, &a, h);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	assert_string_equal(hex, "2856a14c032c4c94bfe9b50d01e37c86"
	    "a9f07518d0b18f197328d9b7ad61e38d");
	/* Every field, and the entry before, is covered. */
#define CHANGED(stmt) do {						\
		b = a;							\
		stmt;							\
		audit_entry_hash(prev, &b, h2);				\
		assert_memory_not_equal(h, h2, sizeof h);		\
	} while (0)
	CHANGED(b.seq = 2);
	CHANGED(b.time++);
	CHANGED(b.actor[0] = 'A');
	CHANGED(b.addr[0] = '8');
	CHANGED(b.action[0] = 'P');
	CHANGED(b.object[0] = 'P');
	CHANGED(b.outcome[0] = 'O');
	/* Length-prefixed: moving a byte from one field to the next shows. */
	CHANGED(snprintf(b.actor, sizeof b.actor, "admin1");
	    snprintf(b.addr, sizeof b.addr, "27.0.0.1"));
#undef CHANGED
	prev[31] = 1;
	audit_entry_hash(prev, &a, h2);
	assert_memory_not_equal(h, h2, sizeof h);
}

static void
ckpt_sig(void **state)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES],
	    sk[crypto_sign_SECRETKEYBYTES], pk2[crypto_sign_PUBLICKEYBYTES],
	    sk2[crypto_sign_SECRETKEYBYTES];
	struct store_audit_ckpt ck, t;
	size_t i;

	(void)state;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	memset(&ck, 0, sizeof ck);
	ck.seq = 64;
	ck.time = 1700000000;
	randombytes_buf(ck.hash, sizeof ck.hash);
	audit_ckpt_sign(&ck, sk);
	assert_int_equal(audit_ckpt_verify(&ck, pk), 0);
	assert_int_equal(audit_ckpt_verify(&ck, pk2), -1);
	t = ck;
	t.seq = 63;
	assert_int_equal(audit_ckpt_verify(&t, pk), -1);
	t = ck;
	t.time++;
	assert_int_equal(audit_ckpt_verify(&t, pk), -1);
	for (i = 0; i < sizeof ck.hash * 8; i += 7) {
		t = ck;
		t.hash[i / 8] ^= (unsigned char)(1u << (i % 8));
		assert_int_equal(audit_ckpt_verify(&t, pk), -1);
	}
	for (i = 0; i < sizeof ck.sig * 8; i++) {
		t = ck;
		t.sig[i / 8] ^= (unsigned char)(1u << (i % 8));
		assert_int_equal(audit_ckpt_verify(&t, pk), -1);
	}
	memset(t.sig, 0, sizeof t.sig);
	assert_int_equal(audit_ckpt_verify(&t, pk), -1);
	/* Signed by another key. */
	t = ck;
	audit_ckpt_sign(&t, sk2);
	assert_int_equal(audit_ckpt_verify(&t, pk), -1);
	sodium_memzero(sk, sizeof sk);
	sodium_memzero(sk2, sizeof sk2);
}

/* Appends n entries through a; the last seq must be last. */
static void
fill(struct audit *a, int n)
{
	struct muster_err e;
	char obj[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(obj, sizeof obj, "thing %d", i);
		assert_int_equal(audit_log(a, "admin", "127.0.0.1", "publish",
		    obj, "ok 201", &e), 0);
	}
}

/* Runs sql on the store of f, as an attacker with the file would. */
static void
attack(const struct fx *f, const char *sql)
{
	char path[UNIT_TMPDIR_MAX + 32];
	sqlite3 *db;

	snprintf(path, sizeof path, "%s/" STORE_DB_FILE, f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TRIGGER IF EXISTS audit_no_update;"
	    "DROP TRIGGER IF EXISTS audit_no_delete;"
	    "DROP TRIGGER IF EXISTS audit_ckpt_no_update;"
	    "DROP TRIGGER IF EXISTS audit_ckpt_no_delete;", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Verifies f's log with its own public key; the verdict into v. */
static int
verify(const struct fx *f, int64_t wseq, const unsigned char *w,
    struct audit_verdict *v)
{
	unsigned char pk[AUDIT_PK_BYTES];
	char path[UNIT_TMPDIR_MAX + 32];
	struct store_adm *sa = NULL;
	struct muster_err e;
	int rc;

	snprintf(path, sizeof path, "%s/" AUDIT_PUB_FILE, f->data);
	assert_int_equal(audit_pub_load(path, pk, &e), 0);
	assert_int_equal(store_adm_open(f->data, 1, &sa, &e), 0);
	rc = audit_verify(sa, pk, wseq, w, v, &e);
	store_adm_close(sa);
	return rc;
}

static void
first_problem(const struct audit_verdict *v, const char *want)
{
	assert_true(v->nproblems > 0);
	if (strstr(v->problems[0], want) == NULL)
		fail_msg("first problem \"%s\", wanted \"%s\"", v->problems[0],
		    want);
}

static void
any_problem(const struct audit_verdict *v, const char *want)
{
	size_t i;

	for (i = 0; i < v->nproblems && i < AUDIT_PROBLEMS_MAX; i++)
		if (strstr(v->problems[i], want) != NULL)
			return;
	fail_msg("no problem \"%s\" among %zu", want, v->nproblems);
}

static void
chain(void **state)
{
	struct fx *f = *state;
	struct audit *a = NULL;
	struct audit_verdict v;
	struct muster_err e;
	unsigned char w[STORE_HASH_LEN];
	char path[UNIT_TMPDIR_MAX + 32];
	struct stat st;

	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	fill(a, 130);
	snprintf(path, sizeof path, "%s/" AUDIT_KEY_FILE, f->data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Before the close: checkpoints at 64 and 128, two unsigned. */
	assert_int_equal(verify(f, 0, NULL, &v), 0);
	assert_int_equal(v.entries, 130);
	assert_int_equal(v.checkpoints, 2);
	assert_int_equal(v.signed_upto, 128);
	audit_close(a);
	assert_int_equal(verify(f, 0, NULL, &v), 0);
	assert_int_equal(v.checkpoints, 3);
	assert_int_equal(v.signed_upto, 130);
	memcpy(w, v.head, sizeof w);
	assert_int_equal(verify(f, 130, w, &v), 0);
	/* Reopened: the same key signs on. */
	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	fill(a, 2);
	audit_close(a);
	assert_int_equal(verify(f, 130, w, &v), 0);
	assert_int_equal(v.entries, 132);
	assert_int_equal(v.signed_upto, 132);

	/* An attacker with the file drops the triggers and edits. */
	attack(f, "UPDATE audit SET object = 'nothing' WHERE seq = 70");
	assert_int_equal(verify(f, 0, NULL, &v), MUSTER_ETRUST);
	first_problem(&v, "entry 70: its hash does not match");
	assert_int_equal(v.nproblems, 1);
}

/* The triggers: UPDATE and DELETE of an entry refused by the store. */
static void
append_only(void **state)
{
	struct fx *f = *state;
	struct audit *a = NULL;
	struct muster_err e;
	char path[UNIT_TMPDIR_MAX + 32];
	sqlite3 *db;

	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	fill(a, 3);
	audit_close(a);
	snprintf(path, sizeof path, "%s/" STORE_DB_FILE, f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET actor = 'x'",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit_checkpoints",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A fresh log of 130 entries, closed (signed up to 130). */
static void
log130(struct fx *f)
{
	struct audit *a = NULL;
	struct muster_err e;

	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	fill(a, 130);
	audit_close(a);
}

static void
tamper_delete(void **state)
{
	struct fx *f = *state;
	struct audit_verdict v;

	log130(f);
	attack(f, "DELETE FROM audit WHERE seq = 1");
	assert_int_equal(verify(f, 0, NULL, &v), MUSTER_ETRUST);
	first_problem(&v, "entry 1 missing (deleted)");
	attack(f, "DELETE FROM audit WHERE seq BETWEEN 100 AND 101");
	assert_int_equal(verify(f, 0, NULL, &v), MUSTER_ETRUST);
	/* Each gap, and the entry after it that no longer chains. */
	any_problem(&v, "entry 2: its hash does not match");
	any_problem(&v, "entries 100 to 101 missing (deleted)");
	any_problem(&v, "entry 102: its hash does not match");
}

static void
tamper_truncate(void **state)
{
	struct fx *f = *state;
	struct audit_verdict v;
	unsigned char w[STORE_HASH_LEN];

	log130(f);
	assert_int_equal(verify(f, 0, NULL, &v), 0);
	memcpy(w, v.head, sizeof w);
	attack(f, "DELETE FROM audit WHERE seq > 129");
	assert_int_equal(verify(f, 0, NULL, &v), MUSTER_ETRUST);
	first_problem(&v, "truncated: checkpoint 130 signs entries up to 130, "
	    "the log ends at 129");
	/* Back to checkpoint 128 with its tail: only a witness can tell. */
	attack(f, "DELETE FROM audit_checkpoints WHERE seq > 128;"
	    "DELETE FROM audit WHERE seq > 128");
	assert_int_equal(verify(f, 0, NULL, &v), 0);
	assert_int_equal(verify(f, 130, w, &v), MUSTER_ETRUST);
	first_problem(&v, "the witnessed entry 130 is missing");
	/* Past a periodic checkpoint: its loss is seen. */
	attack(f, "DELETE FROM audit_checkpoints WHERE seq = 128;"
	    "DELETE FROM audit WHERE seq > 127");
	assert_int_equal(verify(f, 0, NULL, &v), 0);
	attack(f, "DELETE FROM audit_checkpoints WHERE seq = 64");
	assert_int_equal(verify(f, 0, NULL, &v), MUSTER_ETRUST);
	first_problem(&v, "entry 64: its checkpoint is missing");
}

static void
tamper_ckpt(void **state)
{
	struct fx *f = *state;
	struct audit_verdict v;
	unsigned char w[STORE_HASH_LEN];

	log130(f);
	attack(f, "UPDATE audit_checkpoints SET time = time + 1 WHERE seq = 64");
	assert_int_equal(verify(f, 0, NULL, &v), MUSTER_ETRUST);
	first_problem(&v, "checkpoint 64: bad signature");
	/* A hash cut short by an edit breaks the chain there. */
	attack(f, "UPDATE audit SET hash = x'00' WHERE seq = 3");
	assert_int_equal(verify(f, 0, NULL, &v), MUSTER_ETRUST);
	first_problem(&v, "entry 3: its hash does not match");
	any_problem(&v, "entry 4: its hash does not match");
	any_problem(&v, "checkpoint 64: bad signature");
	/* A witness that does not match. */
	memset(w, 0xab, sizeof w);
	attack(f, "SELECT 1");
	assert_int_equal(verify(f, 5, w, &v), MUSTER_ETRUST);
}

struct appender {
	const char	*dir;
	int		 n;
	int		 rc;
};

static void *
append_thread(void *arg)
{
	struct appender *ap = arg;
	struct audit *a = NULL;
	struct muster_err e;
	int i;

	if ((ap->rc = audit_open(ap->dir, 0, &a, &e)) != 0)
		return NULL;
	for (i = 0; i < ap->n && ap->rc == 0; i++)
		ap->rc = audit_log(a, "local:test", "local", "admin-add",
		    "administrator x", "ok", &e);
	audit_close(a);
	return NULL;
}

/* Two handles (the server's and the CLI's) appending at once. */
static void
two_appenders(void **state)
{
	struct fx *f = *state;
	struct appender ap[2] = { { f->data, 100, 0 }, { f->data, 100, 0 } };
	struct audit_verdict v;
	pthread_t t[2];
	int i;

	log130(f);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, append_thread,
		    &ap[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(ap[i].rc, 0);
	}
	assert_int_equal(verify(f, 0, NULL, &v), 0);
	assert_int_equal(v.entries, 330);
	assert_int_equal(v.last, 330);
	assert_true(v.checkpoints >= 5);	/* 64..320, and the closes */
}

static void
key_file(void **state)
{
	struct fx *f = *state;
	struct audit *a = NULL;
	struct muster_err e;
	unsigned char pk[AUDIT_PK_BYTES], pk2[AUDIT_PK_BYTES];
	char path[UNIT_TMPDIR_MAX + 32];

	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	audit_close(a);
	snprintf(path, sizeof path, "%s/" AUDIT_PUB_FILE, f->data);
	assert_int_equal(audit_pub_load(path, pk, &e), 0);
	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	audit_close(a);
	assert_int_equal(audit_pub_load(path, pk2, &e), 0);
	assert_memory_equal(pk, pk2, sizeof pk);
	/* A key others can read is refused. */
	snprintf(path, sizeof path, "%s/" AUDIT_KEY_FILE, f->data);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(audit_open(f->data, 0, &a, &e), MUSTER_ECONFIG);
	assert_null(a);
	/* A damaged key is refused. */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(audit_open(f->data, 0, &a, &e), MUSTER_ECONFIG);
	assert_non_null(strstr(e.msg, "not an audit key"));
	/* A malformed public key file. */
	snprintf(path, sizeof path, "%s/" AUDIT_PUB_FILE, f->data);
	assert_int_equal(truncate(path, 63), 0);
	assert_int_equal(audit_pub_load(path, pk, &e), MUSTER_ECONFIG);
}

/*
 * Refused credentials as stored: how many entries and how many refusals
 * they account for ("refused 401" is one, "refused 401 x N ..." is N).
 */
static void
refused_count(const struct fx *f, long long *entries, long long *count)
{
	char path[UNIT_TMPDIR_MAX + 32];
	sqlite3_stmt *st;
	sqlite3 *db;
	const char *o;
	long long n;

	*entries = *count = 0;
	snprintf(path, sizeof path, "%s/" STORE_DB_FILE, f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT outcome FROM audit "
	    "WHERE actor = '-'", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		o = (const char *)sqlite3_column_text(st, 0);
		(*entries)++;
		if (strcmp(o, "refused 401") == 0)
			n = 1;
		else
			assert_int_equal(sscanf(o, "refused 401 x %lld", &n), 1);
		*count += n;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* How many entries have exactly the outcome o. */
static int
outcome_count(const struct fx *f, const char *o)
{
	char path[UNIT_TMPDIR_MAX + 32];
	sqlite3_stmt *st;
	sqlite3 *db;
	int n;

	snprintf(path, sizeof path, "%s/" STORE_DB_FILE, f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit "
	    "WHERE outcome = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, o, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* Keeps a test of a few seconds inside one minute (bounded wait). */
static void
same_minute(int need)
{
	int i;

	for (i = 0; i < 60 && time(NULL) % 60 > 59 - need; i++)
		sleep(1);
}

/*
 * A flood of refused credentials: per address and minute, the first
 * AUDIT_REFUSED_FIRST are entries and the rest one summary, written
 * before the next entry; every refusal accounted for; the chain intact.
 */
static void
refused_flood(void **state)
{
	struct fx *f = *state;
	struct audit *a = NULL;
	struct audit_stats as;
	struct audit_verdict v;
	struct muster_err e;
	long long entries, count;
	int i;

	same_minute(10);
	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(audit_refused(a, "192.0.2.7",
		    "/v1/admin/rollup", &e), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(audit_refused(a, "2001:db8::1",
		    "/metrics", &e), 0);
	/* The longest IPv6 text: its summary's outcome without "from". */
	for (i = 0; i < AUDIT_REFUSED_FIRST + 4; i++)
		assert_int_equal(audit_refused(a, "ffff:ffff:ffff:ffff:ffff:"
		    "ffff:255.255.255.255", "/metrics", &e), 0);
	refused_count(f, &entries, &count);
	assert_int_equal(entries, 2 * AUDIT_REFUSED_FIRST + 2);
	assert_int_equal(count, 2 * AUDIT_REFUSED_FIRST + 2);
	/* The next entry brings the summaries in first. */
	fill(a, 1);
	refused_count(f, &entries, &count);
	assert_int_equal(entries, 2 * AUDIT_REFUSED_FIRST + 4);
	assert_int_equal(count, 1011);
	assert_int_equal(audit_stats(a, &as, &e), 0);
	assert_int_equal(as.refused, 1011);
	assert_int_equal(as.refused_entries, 2 * AUDIT_REFUSED_FIRST + 4);
	assert_int_equal(as.summaries, 2);
	assert_int_equal(as.entries, 2 * AUDIT_REFUSED_FIRST + 5);
	/* In the same minute the count goes on: no new first few. */
	for (i = 0; i < 10; i++)
		assert_int_equal(audit_refused(a, "192.0.2.7",
		    "/v1/admin/rollup", &e), 0);
	audit_close(a);
	refused_count(f, &entries, &count);
	assert_int_equal(entries, 2 * AUDIT_REFUSED_FIRST + 5);
	assert_int_equal(count, 1021);
	assert_int_equal(verify(f, 0, NULL, &v), 0);
	assert_int_equal(v.entries, 2 * AUDIT_REFUSED_FIRST + 6);
	assert_int_equal(outcome_count(f, "refused 401 x 4"), 1);
	assert_int_equal(outcome_count(f, "refused 401 x 995 from "
	    "192.0.2.7"), 1);
}

/*
 * Many addresses: entries from refusals stop at AUDIT_REFUSED_HOUR an
 * hour, the rest go into one entry for the hour; more addresses in a
 * minute than AUDIT_REFUSED_SLOTS go there too.  Nothing is lost.
 */
static void
refused_hour_bound(void **state)
{
	struct fx *f = *state;
	struct audit *a = NULL;
	struct audit_verdict v;
	struct muster_err e;
	long long entries, count;
	char addr[32];
	int i, k;

	same_minute(20);
	assert_int_equal(audit_open(f->data, 0, &a, &e), 0);
	for (k = 0; k < AUDIT_REFUSED_SLOTS + 16; k++) {
		snprintf(addr, sizeof addr, "198.51.100.%d", k);
		for (i = 0; i < AUDIT_REFUSED_FIRST + 3; i++)
			assert_int_equal(audit_refused(a, addr, "/metrics", &e),
			    0);
	}
	refused_count(f, &entries, &count);
	assert_int_equal(entries, AUDIT_REFUSED_HOUR);
	audit_close(a);
	refused_count(f, &entries, &count);
	assert_int_equal(entries, AUDIT_REFUSED_HOUR + 1);
	assert_int_equal(count, (AUDIT_REFUSED_SLOTS + 16) *
	    (AUDIT_REFUSED_FIRST + 3));
	assert_int_equal(verify(f, 0, NULL, &v), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(entry_hash),
		cmocka_unit_test(ckpt_sig),
		unit_store_test(chain),
		unit_store_test(append_only),
		unit_store_test(tamper_delete),
		unit_store_test(tamper_truncate),
		unit_store_test(tamper_ckpt),
		unit_store_test(two_appenders),
		unit_store_test(key_file),
		unit_store_test(refused_flood),
		unit_store_test(refused_hour_bound),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
