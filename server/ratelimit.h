/*
 * ratelimit: per-device limits on reports (docs/server.md, limits
 * device_rate, device_burst, device_quota; docs/protocol.md "Rate limits"):
 * a token bucket of reports (device_burst, refilled at device_rate per
 * hour) and one of report bytes (device_quota, refilled over a day).  A
 * report that either bucket cannot pay for is answered 429 with
 * Retry-After, and costs nothing.  Kept in memory, per server process;
 * thread-safe.  Keyed by device id, so it is charged only after the
 * device's signature verified: nobody can spend another device's budget.
 */
#ifndef MUSTER_SERVER_RATELIMIT_H
#define MUSTER_SERVER_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_RETRY_MAX	86400	/* Retry-After never says more */

struct ratelimit;

/*
 * A new table into *out (ratelimit_free): rate reports per hour with a
 * burst of burst, quota bytes per day (the bucket holds a day's quota).
 * rate 0 or quota 0: that bucket does not limit.  0 or -1 (memory).
 */
int	ratelimit_new(unsigned rate, unsigned burst, uint64_t quota,
	    struct ratelimit **out);

/* Frees rl; NULL is a no-op. */
void	ratelimit_free(struct ratelimit *rl);

/*
 * Charges device (an id string, copied) one report of bytes at time now
 * (seconds, any monotonic clock): 0 when both buckets could pay (both are
 * charged), else the whole seconds (1 .. RATELIMIT_RETRY_MAX) after which
 * they can, nothing charged.  A report larger than the whole quota waits
 * RATELIMIT_RETRY_MAX.  -1 when the table could not grow (memory): the
 * caller answers 503.
 */
long	ratelimit_take(struct ratelimit *rl, const char *device, size_t bytes,
	    double now);

#endif
