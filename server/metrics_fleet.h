/*
 * metrics_fleet: the device gauges of /metrics (struct metrics_fleet),
 * counted as the roll-up counts: the four states of rollup.h against the
 * stale thresholds of the profiles served (rollup_intervals), revoked
 * devices left out, and family devices counted only where the roll-up
 * would show them (a unit with ROLLUP_K or more, and ROLLUP_K or more in
 * all), never per unit.  One scan of the store's devices in table order
 * (store_fleet_scan), cached for METRICS_FLEET_TTL seconds so that
 * frequent scrapes of a large store cost little.
 */
#ifndef MUSTER_SERVER_METRICS_FLEET_H
#define MUSTER_SERVER_METRICS_FLEET_H

#include <time.h>

#include "muster/err.h"
#include "metrics.h"

#define METRICS_FLEET_TTL	10	/* seconds a count is served again */

/*
 * Counts the devices of the store in data_dir as they stand at now into
 * *out.  Returns 0, or what rollup_open and the store's reads return
 * (MUSTER_ENOINPUT, MUSTER_ECONFIG, MUSTER_ETEMP, MUSTER_EIO,
 * MUSTER_EINTERNAL) with e set.
 */
int	metrics_fleet_count(const char *data_dir, time_t now,
	    struct metrics_fleet *out, struct muster_err *e);

/*
 * metrics_fleet_count through a cache shared by every thread: a count of
 * data_dir made less than METRICS_FLEET_TTL seconds before now is given
 * again.  Thread-safe; one thread counts at a time.  Returns as
 * metrics_fleet_count.
 */
int	metrics_fleet_get(const char *data_dir, time_t now,
	    struct metrics_fleet *out, struct muster_err *e);

#endif
