/*
 * store_retain: retention's schedule, the same for every backend: when a
 * pruning pass may start, the cutoff of a batch, and the walk's cursor
 * starting over daily (store.h, "retention, backup, re-registration").
 * It speaks no SQL; store_sqlite_prune.c and store_pg_prune.c hold one
 * struct store_retain each in their struct store and run the batches.
 */
#ifndef MUSTER_STORE_RETAIN_H
#define MUSTER_STORE_RETAIN_H

#include <stdint.h>
#include <time.h>

struct store_retain {
	int64_t		 seconds;	/* 0: keep every report */
	int64_t		 cursor;	/* reports numbered up to it: examined */
	time_t		 next;		/* when the next pass may start */
	time_t		 rescan;	/* when the cursor starts over */
};

/* Sets the window to seconds (0 or less: keep all); a pass is due now. */
void	store_retain_set(struct store_retain *r, int64_t seconds);

/*
 * Returns -1 when retention is off, 0 when a pass is due at now, else
 * the seconds until it is.
 */
int	store_retain_wait(const struct store_retain *r, time_t now);

/*
 * Starts a batch at now: returns the cutoff (reports received before it
 * are old), with r->cursor back at 0 when the daily walk starts over (a
 * report passed over as its device's newest may be prunable now that a
 * newer one came).  Call only with retention on.
 */
int64_t	store_retain_batch(struct store_retain *r, time_t now);

/* Ends a pass at now: the next one starts a period (1 to 300 s) later. */
void	store_retain_done(struct store_retain *r, time_t now);

#endif
