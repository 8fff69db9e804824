/*
 * server writer: jobs from many threads are committed in shared
 * transactions, each visible to another handle the moment writer_run
 * returns; a failing job rolls back alone; the batches are counted.  A
 * writer held up past WRITER_LAG_MS says it lags (the server's 503 with
 * Retry-After), and stops saying so once it has caught up.  While a
 * sibling (a connection yet to send its first request) is counted, a
 * lone job waits for the sibling's job and both commit together; a
 * sibling that leaves lets it go at once (writer_poke), one that never
 * posts holds it no longer than the bound.
 */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "muster/timefmt.h"
#include "../../server/store.h"
#include "../../server/writer.h"

#define THREADS		8
#define PER_THREAD	40

static char dir[UNIT_TMPDIR_MAX + 2];
static struct writer *w;
static struct store *wst;

struct add {
	struct store_device	d;
	int			fail;	/* make the job fail after writing */
};

static int
job_add(struct store *st, void *arg, struct muster_err *e)
{
	struct add *a = arg;
	int rc;

	if ((rc = store_device_add(st, &a->d, 1900000000, e)) != 0)
		return rc;
	/* Wrote, then failed: its savepoint must undo the write. */
	return a->fail ? err_set(e, MUSTER_EDATA, "job failed") : 0;
}

static void
device(struct store_device *d, unsigned t, unsigned i)
{
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%08x%08x%016x", t, i, 0u);
	snprintf(d->token_id, sizeof d->token_id, "%08x%08x", t, i);
	randombytes_buf(d->pk, sizeof d->pk);
	d->scope = SCOPE_PERSONNEL;
	snprintf(d->unit, sizeof d->unit, "U");
	snprintf(d->person, sizeof d->person, "P");
	d->enrolled = 1700000000;
}

static void *
worker(void *cls)
{
	unsigned t = (unsigned)(uintptr_t)cls, i;
	struct store *ro = NULL;
	struct store_device got;
	struct muster_err e;
	struct add a;
	long bad = 0;

	if (store_open(dir, 1, &ro, &e) != 0)
		return (void *)1;
	for (i = 0; i < PER_THREAD; i++) {
		device(&a.d, t, i);
		a.fail = i % 5 == 4;
		writer_expect(w);
		if (writer_run(w, job_add, &a, &e) != (a.fail ? MUSTER_EDATA :
		    0))
			bad++;
		writer_expect_done(w);
		/* Answered means committed: another handle sees it now. */
		if (store_device_get(ro, a.d.id, &got, &e) !=
		    (a.fail ? MUSTER_ENOINPUT : 0))
			bad++;
	}
	store_close(ro);
	return (void *)bad;
}

static void
concurrent_jobs(void **state)
{
	pthread_t th[THREADS];
	struct muster_err e;
	unsigned long long commits, jobs;
	unsigned t;
	void *bad;
	int64_t n;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "writer"), 0);
	strcat(dir, "/d");
	assert_int_equal(store_open(dir, 0, &wst, &e), 0);
	assert_int_equal(writer_start(wst, &w, &e), 0);
	for (t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, worker,
		    (void *)(uintptr_t)t), 0);
	for (t = 0; t < THREADS; t++) {
		assert_int_equal(pthread_join(th[t], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
	writer_stats(w, &commits, &jobs);
	assert_int_equal(jobs, THREADS * PER_THREAD);
	assert_true(commits >= 1 && commits <= jobs);
	print_message("# %llu jobs in %llu transactions\n", jobs, commits);
	writer_stop(w);
	writer_stop(NULL);
	assert_int_equal(store_count_devices(wst, &n, &e), 0);
	assert_int_equal(n, THREADS * PER_THREAD * 4 / 5);
	store_close(wst);
}

/* A job that holds the writer until released. */
static volatile int hold_go, hold_done;

static int
job_hold(struct store *st, void *arg, struct muster_err *e)
{
	struct timespec ms = { 0, 1000 * 1000 };

	(void)st;
	(void)arg;
	(void)e;
	while (!__atomic_load_n(&hold_go, __ATOMIC_SEQ_CST))
		nanosleep(&ms, NULL);
	return 0;
}

static void
hold_finished(struct writer_job *job)
{
	(void)job;
	__atomic_store_n(&hold_done, 1, __ATOMIC_SEQ_CST);
}

static void
lagging(void **state)
{
	struct timespec ms = { 0, 1000 * 1000 }, lag = {
	    WRITER_LAG_MS / 1000, (WRITER_LAG_MS % 1000) * 1000000L + 300000000L };
	struct writer_job job, queued[3];
	struct muster_err e;
	struct store *st = NULL;
	struct writer *lw = NULL;
	char d2[UNIT_TMPDIR_MAX + 8];
	unsigned ra = 0, i;
	int n;

	(void)state;
	snprintf(d2, sizeof d2, "%s2", dir);
	assert_int_equal(store_open(d2, 0, &st, &e), 0);
	assert_int_equal(writer_start(st, &lw, &e), 0);
	assert_int_equal(writer_lagging(lw, &ra), 0);
	memset(&job, 0, sizeof job);
	job.fn = job_hold;
	job.done = hold_finished;
	assert_int_equal(writer_submit(lw, &job, &e), 0);
	/* Jobs queued behind the one the writer is stuck on. */
	memset(queued, 0, sizeof queued);
	for (i = 0; i < 3; i++) {
		queued[i].fn = job_hold;
		queued[i].done = hold_finished;
		assert_int_equal(writer_submit(lw, &queued[i], &e), 0);
	}
	assert_int_equal(writer_lagging(lw, &ra), 0);	/* not yet */
	nanosleep(&lag, NULL);
	assert_int_equal(writer_lagging(lw, &ra), 1);
	assert_true(ra >= 1 + WRITER_LAG_MS / 1000 && ra <= WRITER_RETRY_MAX);
	__atomic_store_n(&hold_go, 1, __ATOMIC_SEQ_CST);
	for (n = 0; n < 5000 && writer_lagging(lw, &ra); n++)
		nanosleep(&ms, NULL);
	assert_int_equal(writer_lagging(lw, &ra), 0);
	writer_stop(lw);
	assert_int_equal(hold_done, 1);
	store_close(st);
}

static unsigned sib;		/* the siblings the writer is told of */

static unsigned
siblings(void *arg)
{
	(void)arg;
	return __atomic_load_n(&sib, __ATOMIC_SEQ_CST);
}

struct runner {
	pthread_t	 th;
	struct add	 a;
	int		 rc;
	int		 done;
};

static void *
run_one(void *cls)
{
	struct runner *r = cls;
	struct muster_err e;

	r->rc = writer_run(w, job_add, &r->a, &e);
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* A sibling's request as http.c makes it: announced, then not fresh. */
static void *
run_sibling(void *cls)
{
	struct runner *r = cls;
	struct muster_err e;

	writer_expect(w);
	__atomic_store_n(&sib, 0, __ATOMIC_SEQ_CST);
	r->rc = writer_run(w, job_add, &r->a, &e);
	writer_expect_done(w);
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
sibling_jobs(void **state)
{
	struct timespec wait = { 0, 50 * 1000 * 1000 };
	unsigned long long c0, j0, c1, j1;
	struct runner r1, r2;
	struct muster_err e;
	char d3[UNIT_TMPDIR_MAX + 8];
	int64_t t0;

	(void)state;
	snprintf(d3, sizeof d3, "%s3", dir);
	assert_int_equal(store_open(d3, 0, &wst, &e), 0);
	assert_int_equal(writer_start(wst, &w, &e), 0);
	writer_siblings(w, siblings, NULL);
	writer_gather_max(w, 2 * 1000 * 1000);
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	device(&r1.a.d, 100, 1);
	device(&r2.a.d, 100, 2);

	/* A sibling on its way: the first job waits for it. */
	__atomic_store_n(&sib, 1, __ATOMIC_SEQ_CST);
	writer_stats(w, &c0, &j0);
	assert_int_equal(pthread_create(&r1.th, NULL, run_one, &r1), 0);
	nanosleep(&wait, NULL);
	assert_int_equal(__atomic_load_n(&r1.done, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(pthread_create(&r2.th, NULL, run_sibling, &r2), 0);
	assert_int_equal(pthread_join(r1.th, NULL), 0);
	assert_int_equal(pthread_join(r2.th, NULL), 0);
	assert_int_equal(r1.rc, 0);
	assert_int_equal(r2.rc, 0);
	writer_stats(w, &c1, &j1);
	assert_int_equal(j1 - j0, 2);
	assert_int_equal(c1 - c0, 1);		/* one transaction, one fsync */

	/* A sibling that leaves without a job: poked, the writer goes. */
	__atomic_store_n(&sib, 1, __ATOMIC_SEQ_CST);
	memset(&r1, 0, sizeof r1);
	device(&r1.a.d, 100, 3);
	t0 = timefmt_mono_ms();
	assert_int_equal(pthread_create(&r1.th, NULL, run_one, &r1), 0);
	nanosleep(&wait, NULL);
	assert_int_equal(__atomic_load_n(&r1.done, __ATOMIC_SEQ_CST), 0);
	__atomic_store_n(&sib, 0, __ATOMIC_SEQ_CST);
	writer_poke(w);
	assert_int_equal(pthread_join(r1.th, NULL), 0);
	assert_int_equal(r1.rc, 0);
	assert_true(timefmt_mono_ms() - t0 < 1500);	/* not the 2 s bound */

	/* One that never posts nor leaves holds a job to the bound only. */
	writer_gather_max(w, WRITER_GATHER_US);
	__atomic_store_n(&sib, 1, __ATOMIC_SEQ_CST);
	memset(&r1, 0, sizeof r1);
	device(&r1.a.d, 100, 4);
	t0 = timefmt_mono_ms();
	run_one(&r1);
	assert_int_equal(r1.rc, 0);
	assert_true(timefmt_mono_ms() - t0 >= WRITER_GATHER_US / 1000);
	__atomic_store_n(&sib, 0, __ATOMIC_SEQ_CST);
	writer_stop(w);
	w = NULL;
	store_close(wst);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_jobs),
		cmocka_unit_test(lagging),
		cmocka_unit_test(sibling_jobs),
	};
	int rc;

	if (sodium_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (dir[0] != '\0') {
		dir[strlen(dir) - 2] = '\0';
		if (unit_rmtree(dir) != 0)
			rc = 1;
	}
	return rc;
}
