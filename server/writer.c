/* writer: the store's single writer thread, with group commit; writer.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/log.h"
#include "muster/timefmt.h"
#include "metrics.h"
#include "writer.h"

struct writer {
	struct store		*st;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;		/* what the writer waits for */
	struct writer_job	*head, **tail;
	unsigned long		 nqueued;
	unsigned long		 expected;	/* jobs announced, not queued */
	int			 idle;		/* waiting for a first job */
	int			 gathering;	/* waiting for expected jobs */
	int			 stopping;
	int64_t			 batch_ms;	/* a batch's start; 0: none */
	long			 gather_us;	/* the longest gather */
	unsigned		(*siblings)(void *);	/* see writer_siblings */
	void			*siblings_arg;
	unsigned long long	 commits, jobs;
	unsigned long long	 pruned;	/* reports, by retention */
};

#define WRITER_PRUNE_BATCH	256	/* reports per retention batch */

/* What writer_run waits on: its job, and whether its outcome is known. */
struct writer_wait {
	struct writer_job	 job;
	struct writer		*w;
	pthread_cond_t		 cond;
	int			 done;
};

/* Whether this thread announced a job it has not queued yet. */
static _Thread_local int writer_promised;

/*
 * Runs one batch (a list of jobs, taken off the queue) in a transaction;
 * returns 1 when it committed.
 */
static int
writer_batch(struct writer *w, struct writer_job *batch)
{
	struct muster_err err;
	struct writer_job *j;
	int rc;

	if ((rc = store_begin(w->st, &err)) != 0)
		goto fail;
	for (j = batch; j != NULL; j = j->next) {
		if ((j->rc = store_savepoint(w->st, &j->err)) != 0)
			continue;
		j->rc = j->fn(w->st, j->arg, &j->err);
		if (j->rc == 0 && (j->rc = store_release(w->st, &j->err)) == 0)
			continue;
		store_rollback_savepoint(w->st);
	}
	if ((rc = store_commit(w->st, &err)) == 0)
		return 1;
	store_rollback(w->st);
fail:
	log_error("store: transaction failed: %s", err.msg);
	for (j = batch; j != NULL; j = j->next) {
		j->rc = rc;
		j->err = err;
	}
	return 0;
}

/*
 * Whether a job may be on its way: announced by a request being handled
 * (writer_expect), or a sibling connection yet to send its first request.
 * Called with w->mu held.
 */
static int
writer_coming(const struct writer *w)
{
	return w->expected > 0 ||
	    (w->siblings != NULL && w->siblings(w->siblings_arg) > 0);
}

/*
 * Group commit: while a job may be on its way (writer_coming), wait for
 * it, at most gather_us, so that it shares the batch's fsync.  Called
 * with w->mu held.
 */
static void
writer_gather(struct writer *w)
{
	struct timespec until;

	if (w->nqueued >= WRITER_BATCH_MAX || !writer_coming(w))
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += w->gather_us / 1000000;
	until.tv_nsec += w->gather_us % 1000000 * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	w->gathering = 1;
	while (!w->stopping && w->nqueued < WRITER_BATCH_MAX &&
	    writer_coming(w))
		if (pthread_cond_timedwait(&w->cond, &w->mu, &until) ==
		    ETIMEDOUT)
			break;
	w->gathering = 0;
}

/*
 * Wakes the writer if what it waits for has come: a first job, or the
 * last one on its way (or a full batch).  Called with w->mu held.
 */
static void
writer_kick(struct writer *w)
{
	if (w->idle || w->stopping || (w->gathering &&
	    (w->nqueued >= WRITER_BATCH_MAX || !writer_coming(w))))
		pthread_cond_signal(&w->cond);
}

/*
 * A deletion's checkpoint that a reader blocked (store_scrub): waits up
 * to WRITER_SCRUB_RETRY_S for a job, and when none came tries again.
 * Called with w->mu held, which it drops around the attempt.
 */
static void
writer_scrub(struct writer *w)
{
	struct muster_err err;
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += WRITER_SCRUB_RETRY_S;
	if (pthread_cond_timedwait(&w->cond, &w->mu, &until) != ETIMEDOUT)
		return;
	pthread_mutex_unlock(&w->mu);
	if (store_scrub(w->st, &err) != 0)
		log_debug("%s", err.msg);
	pthread_mutex_lock(&w->mu);
}

/*
 * Retention (store_prune): while no job waits, one small batch of old
 * reports at a time, so a job that comes waits for one batch at most;
 * until the next pass is due, a timed wait for jobs.  Returns 0 when
 * the store prunes nothing (the caller waits for a job).  Called with
 * w->mu held, which it drops around the batch.
 */
static int
writer_prune(struct writer *w)
{
	struct muster_err err;
	struct timespec until;
	size_t n;
	int wait, more;

	if ((wait = store_prune_wait(w->st, time(NULL))) < 0)
		return 0;
	if (wait > 0) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait;
		(void)pthread_cond_timedwait(&w->cond, &w->mu, &until);
		return 1;
	}
	pthread_mutex_unlock(&w->mu);
	if (store_prune(w->st, time(NULL), WRITER_PRUNE_BATCH, &n, &more,
	    &err) != 0)
		log_warn("retention: %s", err.msg);
	else if (n > 0)
		log_debug("retention: pruned %zu reports", n);
	pthread_mutex_lock(&w->mu);
	w->pruned += n;
	return 1;
}

static void *
writer_main(void *cls)
{
	struct writer *w = cls;
	struct writer_job *batch, *j, *next;
	size_t n;
	int committed;
	uint64_t t0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping) {
			w->idle = 1;
			if (store_scrub_pending(w->st))
				writer_scrub(w);
			else if (!writer_prune(w))
				pthread_cond_wait(&w->cond, &w->mu);
			w->idle = 0;
		}
		if (w->head == NULL)
			break;		/* stopping, and the queue is drained */
		writer_gather(w);
		batch = w->head;
		for (n = 1, j = batch; j->next != NULL &&
		    n < WRITER_BATCH_MAX; n++)
			j = j->next;
		w->head = j->next;
		if (w->head == NULL)
			w->tail = &w->head;
		j->next = NULL;
		w->nqueued -= n;
		metrics_writer_queue(w->nqueued);
		w->batch_ms = batch->queued_ms;
		pthread_mutex_unlock(&w->mu);

		t0 = metrics_clock();
		committed = writer_batch(w, batch);
		metrics_writer_batch(n, metrics_clock() - t0, committed);

		/* Counted before any caller learns of its job. */
		pthread_mutex_lock(&w->mu);
		w->batch_ms = 0;
		w->commits += (unsigned long long)committed;
		w->jobs += n;
		pthread_mutex_unlock(&w->mu);
		/* Outside the lock: done may take other locks, or wake. */
		for (j = batch; j != NULL; j = next) {
			next = j->next;
			j->done(j);	/* j may be gone after this */
		}
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
writer_start(struct store *st, struct writer **out, struct muster_err *e)
{
	pthread_condattr_t ca;
	struct writer *w;
	int rc;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	w->st = st;
	w->tail = &w->head;
	w->gather_us = WRITER_GATHER_US;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->mu);
		free(w);
		errno = rc;
		return err_sys(e, MUSTER_EOS, "writer thread");
	}
	*out = w;
	return 0;
}

int
writer_submit(struct writer *w, struct writer_job *job, struct muster_err *e)
{
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (writer_promised) {
		writer_promised = 0;
		w->expected--;
	}
	if (w->stopping) {
		rc = err_set(e, MUSTER_ETEMP, "server stopping");
		goto out;
	}
	job->next = NULL;
	job->queued_ms = timefmt_mono_ms();
	*w->tail = job;
	w->tail = &job->next;
	w->nqueued++;
	metrics_writer_queue(w->nqueued);
out:
	writer_kick(w);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* writer_run's done: the waiter may go. */
static void
writer_wake(struct writer_job *job)
{
	struct writer_wait *ww = job->cls;

	pthread_mutex_lock(&ww->w->mu);
	ww->done = 1;
	pthread_cond_signal(&ww->cond);
	pthread_mutex_unlock(&ww->w->mu);
}

int
writer_run(struct writer *w, writer_fn fn, void *arg, struct muster_err *e)
{
	struct writer_wait ww;
	int rc;

	memset(&ww, 0, sizeof ww);
	ww.job.fn = fn;
	ww.job.arg = arg;
	ww.job.done = writer_wake;
	ww.job.cls = &ww;
	ww.w = w;
	pthread_cond_init(&ww.cond, NULL);
	if ((rc = writer_submit(w, &ww.job, e)) != 0)
		goto out;
	pthread_mutex_lock(&w->mu);
	while (!ww.done)
		pthread_cond_wait(&ww.cond, &w->mu);
	pthread_mutex_unlock(&w->mu);
	if ((rc = ww.job.rc) != 0 && e != NULL)
		*e = ww.job.err;
out:
	pthread_cond_destroy(&ww.cond);
	return rc;
}

void
writer_expect(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	if (!writer_promised) {
		writer_promised = 1;
		w->expected++;
	}
	pthread_mutex_unlock(&w->mu);
}

void
writer_siblings(struct writer *w, unsigned (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&w->mu);
	w->siblings = fn;
	w->siblings_arg = arg;
	pthread_mutex_unlock(&w->mu);
}

void
writer_poke(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	/* Only a gathering writer counts: an idle one has nothing to do. */
	if (w->gathering)
		writer_kick(w);
	pthread_mutex_unlock(&w->mu);
}

void
writer_gather_max(struct writer *w, long us)
{
	pthread_mutex_lock(&w->mu);
	w->gather_us = us;
	pthread_mutex_unlock(&w->mu);
}

void
writer_expect_done(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	if (writer_promised) {
		writer_promised = 0;
		w->expected--;
		writer_kick(w);	/* it may be gathering */
	}
	pthread_mutex_unlock(&w->mu);
}

void
writer_stop(struct writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->mu);
	free(w);
}

int
writer_lagging(struct writer *w, unsigned *retry_after)
{
	int64_t oldest, lag;
	unsigned long n;
	unsigned ra;

	pthread_mutex_lock(&w->mu);
	/* The oldest job not answered: in the batch running, else queued. */
	oldest = w->batch_ms != 0 ? w->batch_ms : w->head != NULL ?
	    w->head->queued_ms : 0;
	n = w->nqueued;
	pthread_mutex_unlock(&w->mu);
	lag = oldest != 0 ? timefmt_mono_ms() - oldest : 0;
	if (lag < WRITER_LAG_MS && n < WRITER_QUEUE_HIGH)
		return 0;
	ra = 1 + (unsigned)(lag / 1000) + (unsigned)(n / WRITER_BATCH_MAX);
	*retry_after = ra > WRITER_RETRY_MAX ? WRITER_RETRY_MAX : ra;
	return 1;
}

void
writer_stats(struct writer *w, unsigned long long *commits,
    unsigned long long *jobs)
{
	pthread_mutex_lock(&w->mu);
	*commits = w->commits;
	*jobs = w->jobs;
	pthread_mutex_unlock(&w->mu);
}
