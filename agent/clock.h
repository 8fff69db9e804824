/*
 * clock: the device's clock as the server sees it.  A phone's clock
 * drifts; the server answers a signed GET whose Muster-Time is out of
 * its window with its own time (docs/protocol.md, "Clock skew"), never
 * with 401 or 403.  The agent keeps the measured offset (server time
 * minus device time, in seconds) in STATE/clock and adds it to every
 * time it signs (a GET's Muster-Time, a report's time), so that a device
 * whose clock is off goes on reporting.
 */
#ifndef MUSTER_AGENT_CLOCK_H
#define MUSTER_AGENT_CLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"

#define CLOCK_FILE		"clock"
#define CLOCK_OFFSET_MAX	(400LL * 24 * 3600)	/* a year and some */
#define CLOCK_FILE_MAX		32

/*
 * The offset kept in dir (0 when there is none).  Returns 0, or
 * MUSTER_ECONFIG for a damaged file (*off is then 0).
 */
int	clock_offset_load(const char *dir, int64_t *off, struct muster_err *e);

/* Keeps off in dir (temp + fsync + rename, 0600).  0 or an error. */
int	clock_offset_store(const char *dir, int64_t off, struct muster_err *e);

/*
 * The offset of a server time seen when the device's uncorrected clock
 * read local, into *off: 0, or -1 when it would exceed CLOCK_OFFSET_MAX.
 */
int	clock_offset_of(time_t server, time_t local, int64_t *off);

/*
 * Reads the server's clock answer (a JSON object with "error":"clock" and
 * "server_time", or a report's "report time out of window" or "report
 * time is before the device's previous report" with "server_time") from
 * len bytes at body, and sets *off to server_time
 * minus local (the device's uncorrected time when the answer came).
 * Returns 0, or -1 when body is not such an answer or the offset would
 * exceed CLOCK_OFFSET_MAX.
 */
int	clock_offset_from(const char *body, size_t len, time_t local,
	    int64_t *off);

#endif
