/*
 * writer: the one thread that writes the store.
 *
 * Request threads hand it jobs (a function run against the write handle),
 * either waiting for the outcome (writer_run) or not (writer_submit, with
 * a callback the writer calls once the outcome is known).  The writer
 * takes every job queued while it was busy into one transaction, each job
 * in its own savepoint, so that a job that fails rolls back alone and the
 * batch commits with one fsync.  No job's outcome is reported before the
 * COMMIT has returned.
 */
#ifndef MUSTER_SERVER_WRITER_H
#define MUSTER_SERVER_WRITER_H

#include <stdint.h>

#include "muster/err.h"
#include "store.h"

#define WRITER_BATCH_MAX	1024	/* jobs in one transaction */
#define WRITER_GATHER_US	1000	/* longest wait for jobs on their way */
#define WRITER_SCRUB_RETRY_S	1	/* a blocked post-deletion checkpoint */
/*
 * Overload (writer_lagging): the writer is behind when a job has waited
 * WRITER_LAG_MS or more for it (queued, or in a transaction that has run
 * that long), or WRITER_QUEUE_HIGH jobs wait.  The server then answers
 * new writes 503 with Retry-After rather than let them time out.
 */
#define WRITER_LAG_MS		2000
#define WRITER_QUEUE_HIGH	(4 * WRITER_BATCH_MAX)
#define WRITER_RETRY_MAX	120	/* seconds of Retry-After at most */

struct writer;

/*
 * A job: runs inside the writer's transaction and savepoint; returns 0 to
 * keep what it wrote, or a MUSTER_E* value to have its savepoint rolled
 * back.  arg belongs to the caller, who reads any result from it once the
 * outcome is known.
 */
typedef int (*writer_fn)(struct store *st, void *arg, struct muster_err *e);

/*
 * A job handed over with writer_submit.  The caller fills fn, arg, done
 * and cls, and keeps the structure (and arg) alive until done is called.
 * The writer sets rc and err, then calls done(job) from its own thread,
 * exactly once, without holding any lock of its own; done must not block
 * and must not submit, and after it the writer no longer touches job.
 * rc is fn's result when the transaction committed, the commit's error
 * (fn's work undone) when it did not.
 */
struct writer_job {
	writer_fn		 fn;
	void			*arg;
	void			(*done)(struct writer_job *job);
	void			*cls;
	int			 rc;
	struct muster_err	 err;
	struct writer_job	*next;		/* the writer's */
	int64_t			 queued_ms;	/* the writer's: when queued */
};

/*
 * Starts the writer thread on st, which it uses alone until writer_stop
 * returns; st stays the caller's to close afterwards.
 */
int	writer_start(struct store *st, struct writer **w,
	    struct muster_err *e);

/*
 * Group commit.  A request thread that is about to verify a request which
 * will probably bring a job says so with writer_expect, and says
 * writer_expect_done when it is finished with it (whether it handed over
 * a job or not).  While jobs are expected, the writer waits up to
 * WRITER_GATHER_US before it commits, so that they share the batch's
 * fsync.
 */
void	writer_expect(struct writer *w);
void	writer_expect_done(struct writer *w);

/*
 * Siblings: connections that have not sent their first request yet (TLS
 * handshake or header block under way).  On a device listener nearly
 * every one is a check-in about to post a report, so while fn(arg) counts
 * any, the writer waits for them too (at most WRITER_GATHER_US, as for
 * expected jobs): check-ins that arrive together share one fsync rather
 * than each paying its own.  fn is called with the writer's lock held:
 * it must be quick and take no lock the writer's callers hold.  A
 * sibling that leaves, or asks for no write, may delay a batch by the
 * bound at most; writer_poke has the writer count again at once.
 */
void	writer_siblings(struct writer *w, unsigned (*fn)(void *), void *arg);
void	writer_poke(struct writer *w);

/* The longest gather, in microseconds (WRITER_GATHER_US; for tests). */
void	writer_gather_max(struct writer *w, long us);

/*
 * Queues job (see struct writer_job) and returns at once: 0, or
 * MUSTER_ETEMP once the writer is stopping (job is not queued and done
 * is not called).
 */
int	writer_submit(struct writer *w, struct writer_job *job,
	    struct muster_err *e);

/*
 * Runs fn(st, arg) in the writer and waits until its transaction has
 * committed.  Returns fn's result when the commit succeeded; the commit's
 * error (fn's work undone) when it failed; MUSTER_ETEMP once the writer is
 * stopping.
 */
int	writer_run(struct writer *w, writer_fn fn, void *arg,
	    struct muster_err *e);

/*
 * Stops taking jobs, commits every job already queued (calling their
 * done), joins the thread and frees w.  NULL is a no-op.
 */
void	writer_stop(struct writer *w);

/*
 * 1 when the writer is behind (see WRITER_LAG_MS), with the seconds a
 * client should wait before it tries again in *retry_after (1 ..
 * WRITER_RETRY_MAX: the lag so far and the queue's length in batches);
 * else 0.  Cheap: one lock, no system call but the clock.
 */
int	writer_lagging(struct writer *w, unsigned *retry_after);

/* Transactions committed and jobs run so far (for the log). */
void	writer_stats(struct writer *w, unsigned long long *commits,
	    unsigned long long *jobs);

#endif
