/* writer: the store's single writer thread, with group commit; writer.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "writer.h"

struct job {
	writer_fn		 fn;
	void			*arg;
	int			 rc;
	int			 done;
	struct muster_err	 err;
	pthread_cond_t		 cond;
	struct job		*next;
};

struct writer {
	struct store		*st;
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cond;		/* work queued or stopping */
	struct job		*head, **tail;
	unsigned long		 nqueued;
	unsigned long		 expected;	/* jobs announced, not queued */
	int			 stopping;
	unsigned long long	 commits, jobs;
};

/*
 * Runs one batch (a list of jobs, taken off the queue) in a transaction;
 * returns 1 when it committed.
 */
static int
writer_batch(struct writer *w, struct job *batch)
{
	struct muster_err err;
	struct job *j;
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

/* Whether this thread announced a job it has not queued yet. */
static _Thread_local int writer_promised;

/*
 * Group commit: while requests being handled have announced a job that is
 * not queued yet, wait a little for them.  Called with w->mu held.
 */
static void
writer_gather(struct writer *w)
{
	struct timespec until;

	if (w->expected == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += WRITER_GATHER_US * 1000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!w->stopping && w->nqueued < WRITER_BATCH_MAX &&
	    w->expected > 0)
		if (pthread_cond_timedwait(&w->cond, &w->mu, &until) ==
		    ETIMEDOUT)
			break;
}

static void *
writer_main(void *cls)
{
	struct writer *w = cls;
	struct job *batch, *j, *next;
	size_t n;
	int committed;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->cond, &w->mu);
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
		pthread_mutex_unlock(&w->mu);

		committed = writer_batch(w, batch);

		pthread_mutex_lock(&w->mu);
		w->commits += (unsigned long long)committed;
		w->jobs += n;
		for (j = batch; j != NULL; j = next) {
			next = j->next;	/* j lives on its waiter's stack */
			j->done = 1;
			pthread_cond_signal(&j->cond);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int
writer_start(struct store *st, struct writer **out, struct muster_err *e)
{
	struct writer *w;
	int rc;

	*out = NULL;
	if ((w = calloc(1, sizeof *w)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	w->st = st;
	w->tail = &w->head;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cond, NULL);
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
writer_run(struct writer *w, writer_fn fn, void *arg, struct muster_err *e)
{
	struct job j;

	memset(&j, 0, sizeof j);
	j.fn = fn;
	j.arg = arg;
	pthread_cond_init(&j.cond, NULL);
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		pthread_cond_destroy(&j.cond);
		return err_set(e, MUSTER_ETEMP, "server stopping");
	}
	*w->tail = &j;
	w->tail = &j.next;
	w->nqueued++;
	if (writer_promised) {
		writer_promised = 0;
		w->expected--;
	}
	pthread_cond_signal(&w->cond);
	while (!j.done)
		pthread_cond_wait(&j.cond, &w->mu);
	pthread_mutex_unlock(&w->mu);
	pthread_cond_destroy(&j.cond);
	if (j.rc != 0 && e != NULL)
		*e = j.err;
	return j.rc;
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
writer_expect_done(struct writer *w)
{
	pthread_mutex_lock(&w->mu);
	if (writer_promised) {
		writer_promised = 0;
		w->expected--;
		pthread_cond_signal(&w->cond);	/* it may be gathering */
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

void
writer_stats(struct writer *w, unsigned long long *commits,
    unsigned long long *jobs)
{
	pthread_mutex_lock(&w->mu);
	*commits = w->commits;
	*jobs = w->jobs;
	pthread_mutex_unlock(&w->mu);
}
