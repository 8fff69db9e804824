/*
 * spool: reports that survive outages.  A report is written to
 * STATE/spool/<seq>.json with its signature in <seq>.sig before it is
 * sent, and moved to STATE/sent/ with a <seq>.ack saying what the server
 * answered once it is done with; sent/ keeps the newest SPOOL_SENT_KEEP.
 * At most SPOOL_MAX reports wait: beyond that the oldest are dropped and
 * counted in STATE/dropped, a count the next report carries.  STATE/seq
 * holds the last seq used, written before a report is signed so that a
 * seq is never used twice.  Every file is 0600 and written atomically.
 */
#ifndef MUSTER_AGENT_SPOOL_H
#define MUSTER_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"
#include "devkey.h"

#define SPOOL_PENDING_DIR	"spool"
#define SPOOL_SENT_DIR		"sent"
#define SPOOL_SEQ_FILE		"seq"
#define SPOOL_DROPPED_FILE	"dropped"
#define SPOOL_MAX		1000	/* undelivered reports kept */
#define SPOOL_SENT_KEEP		32	/* delivered reports kept */
#define SPOOL_ACK_MAX		128	/* bytes of an .ack line */
#define SPOOL_SEQ_MAX		INT64_C(999999999999999999)

enum spool_which {
	SPOOL_PENDING,
	SPOOL_SENT,
};

/* Creates spool/ and sent/ (0700) in the state directory. */
int	spool_init(const char *dir, struct muster_err *e);

/* The last seq used (0 when none). */
int	spool_seq_get(const char *dir, int64_t *seq, struct muster_err *e);

/* Takes the next seq and persists it (fsync'd) before returning it. */
int	spool_seq_next(const char *dir, int64_t *seq, struct muster_err *e);

/* The count of dropped reports not yet carried by a report. */
int	spool_dropped_get(const char *dir, int64_t *n, struct muster_err *e);
int	spool_dropped_set(const char *dir, int64_t n, struct muster_err *e);

/*
 * Drops the oldest waiting reports until fewer than max wait, adding to
 * the dropped count one for each and the count each one carried.
 * *ndropped (may be NULL) says how many were dropped.
 */
int	spool_make_room(const char *dir, size_t max, size_t *ndropped,
	    struct muster_err *e);

/* Writes <seq>.sig, then <seq>.json, into spool/. */
int	spool_put(const char *dir, int64_t seq, const char *json, size_t len,
	    const char *sig, struct muster_err *e);

/*
 * The seqs in spool/ or sent/, ascending, as a malloc'd array (NULL when
 * none).  Ignores files that are not <seq>.json.
 */
int	spool_list(const char *dir, enum spool_which which, int64_t **seqs,
	    size_t *n, struct muster_err *e);

/*
 * Reads a stored report: *json malloc'd (*len bytes, NUL-terminated) and
 * its base64 signature into sig (a missing .sig is MUSTER_ENOINPUT).
 */
int	spool_read(const char *dir, enum spool_which which, int64_t seq,
	    char **json, size_t *len, char sig[DEVKEY_SIG_B64],
	    struct muster_err *e);

/*
 * Moves report seq from spool/ to sent/ with an .ack holding the line
 * what (e.g. "delivered 202 2026-11-21T10:00:00Z"), then keeps only the
 * newest SPOOL_SENT_KEEP in sent/.
 */
int	spool_done(const char *dir, int64_t seq, const char *what,
	    struct muster_err *e);

/* Reads the .ack line of a sent report into buf ("" when there is none). */
void	spool_ack(const char *dir, int64_t seq, char *buf, size_t size);

/* Counts waiting reports. */
int	spool_pending(const char *dir, size_t *n, struct muster_err *e);

#endif
