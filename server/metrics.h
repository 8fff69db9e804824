/*
 * metrics: what GET /metrics says (Prometheus text exposition format
 * 0.0.4): request counters and per-route duration histograms, the store
 * writer's queue depth, batch sizes and commit latency, refusals by
 * limit, and the gauges an operator alerts on (devices by scope and
 * status, store and WAL size, certificate, manifest and profile expiry,
 * process start, build).  docs/operations.md lists every metric and the
 * alerts of docs/alerts.yml.
 *
 * Counting is lock-free (relaxed atomics): any thread may count at any
 * time, and a scrape reads each counter once.  A histogram's buckets are
 * kept per bucket and summed when formatted, so its buckets are always
 * monotone and its _count is its +Inf bucket.
 */
#ifndef MUSTER_SERVER_METRICS_H
#define MUSTER_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define METRICS_NSCOPES		2	/* by enum profile_scope */
#define METRICS_NSTATES		4	/* by enum store_state */

enum metrics_route {
	MR_ENROLL,
	MR_PROFILE,
	MR_REPORT,
	MR_UNENROLL,
	MR_ADMIN_PROFILE,
	MR_ADMIN_REVOKE,
	MR_ADMIN_ROLLUP,
	MR_HEALTHZ,
	MR_METRICS,
	MR_POLICY,
	MR_ROOT,
	MR_ADMIN_ROOT,
	MR_ADMIN_MANIFEST,
	MR_CONSENT,
	MR_CONSOLE,		/* /console/... (console.h) */
	MR_OTHER,		/* no such route */
	MR__N
};

/* Why a connection or request was refused (muster_refused_total{reason}). */
enum metrics_refusal {
	MREF_CONNECTION_LIMIT,	/* closed at accept: connection or per-IP cap */
	MREF_BODY_TOO_LARGE,	/* answered 413 */
	MREF_RATE_LIMITED,	/* answered 429 */
	MREF_UNAVAILABLE,	/* answered 503: overload, busy, stopping */
	MREF__N
};

/*
 * The fleet as the roll-up counts it now (metrics_fleet.h computes it):
 * devices by scope and state, those whose newest report said their
 * policy is stale, family figures only where the roll-up shows them.
 */
struct metrics_fleet {
	int64_t		n[METRICS_NSCOPES][METRICS_NSTATES];
	int64_t		policy_stale[METRICS_NSCOPES];
	int		family_withheld;	/* some family devices left out */
	time_t		at;			/* when counted */
	uint64_t	scan_ns;		/* what counting cost */
};

/* What a scrape shows besides the counters; see metrics_format. */
struct metrics_scrape {
	time_t				 now;
	int64_t				 devices_enrolled;	/* <0: unknown */
	const struct metrics_fleet	*fleet;		/* NULL: unknown */
	int64_t				 store_bytes;	/* <0: unknown */
	int64_t				 wal_bytes;	/* <0: unknown */
	int64_t				 cert_not_after; /* 0: unknown */
	int64_t				 profile_expires[METRICS_NSCOPES];
						/* 0: no profile */
	int64_t				 start_time;	/* 0: unknown */
	int64_t				 audit_entries;	/* <0: unknown */
	uint64_t			 audit_refused;	/* credentials */
	uint64_t			 audit_refused_entries;
};

/* The route's label ("report"). */
const char *metrics_route_name(enum metrics_route route);

/* A monotonic clock in nanoseconds, for durations. */
uint64_t metrics_clock(void);

/*
 * Marks when the request this thread is now working on started (a
 * metrics_clock value; 0: now).  The next metrics_request of this thread
 * observes its duration from there.
 */
void	metrics_request_start(uint64_t t0);

/*
 * Counts one answered request by route and status, with its duration
 * since metrics_request_start in this thread (none observed when there
 * was no start); 413, 429 and 503 also count as refusals.
 */
void	metrics_request(enum metrics_route route, unsigned status);

/* Counts one refusal (a connection closed at accept, say). */
void	metrics_refused(enum metrics_refusal reason);

/* Counts reports stored (committed) since the server started. */
void	metrics_report_stored(void);

/* The writer's queue: jobs waiting for it now. */
void	metrics_writer_queue(unsigned long depth);

/*
 * One writer transaction of jobs jobs that took ns nanoseconds from BEGIN
 * to the end of COMMIT (or of the rollback when it failed, committed 0).
 */
void	metrics_writer_batch(size_t jobs, uint64_t ns, int committed);

/*
 * Counts one retention batch (store_prune): committed (ok 1) with n
 * reports pruned, or failed (ok 0).
 */
void	metrics_prune(size_t n, int ok);

/*
 * Sets the scope's manifest expiry (scope an enum profile_scope) to
 * seconds from now (negative once it has expired); present 0 leaves the
 * scope out.  Kept as a time, so that muster_manifest_expiry_seconds
 * counts down between calls.
 */
void	metrics_manifest_expiry(int scope, int present, int64_t seconds);

/*
 * The time this process started (Unix seconds), from /proc/self/stat
 * and the boot time in /proc/stat, into *t.  Returns 0 or -1.
 */
int	metrics_process_start(int64_t *t);

/*
 * The notAfter of the first certificate in the PEM text pem (Unix
 * seconds) into *t.  Returns 0, or -1 when pem holds no certificate.
 */
int	metrics_cert_not_after(const char *pem, int64_t *t);

/*
 * Formats every counter and histogram and the gauges of sc into a
 * malloc'd string *out of *len bytes, which the caller frees.  Returns 0
 * or -1 (out of memory).
 */
int	metrics_format(const struct metrics_scrape *sc, char **out,
	    size_t *len);

#endif
