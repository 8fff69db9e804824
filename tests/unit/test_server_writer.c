/*
 * server writer: jobs from many threads are committed in shared
 * transactions, each visible to another handle the moment writer_run
 * returns; a failing job rolls back alone; the batches are counted.  A
 * writer held up past WRITER_LAG_MS says it lags (the server's 503 with
 * Retry-After), and stops saying so once it has caught up.
 */
#include "unit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(concurrent_jobs),
		cmocka_unit_test(lagging),
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
