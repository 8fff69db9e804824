/*
 * rollup_devices: the personnel devices to follow up, as a table, CSV or
 * JSON (docs/rollup.md), read through the store's read interface
 * (store_devices_scan).  Used by `muster-server devices` (cli.c).  Family
 * devices are never listed one by one.
 */
#ifndef MUSTER_SERVER_ROLLUP_DEVICES_H
#define MUSTER_SERVER_ROLLUP_DEVICES_H

#include <stdio.h>
#include <time.h>

#include "muster/err.h"
#include "rollup.h"

/* Filters of the device list; NULL / -1 for none. */
struct rollup_devq {
	const char	*unit;		/* a unit and those below it */
	int		 status;	/* enum rollup_status or -1 */
	time_t		 now;		/* 0: the clock */
};

/*
 * Writes the personnel devices (never a family device) matching q to fp
 * in fmt, ordered by unit, person, id: id, unit, person, model, the time
 * the newest report arrived, state and failing rules, in one read
 * transaction of db.  Errors as rollup_compute, and MUSTER_EIO when fp
 * fails.
 */
int	rollup_devices(struct rollup_db *db, const struct rollup_devq *q,
	    enum rollup_format fmt, FILE *fp, struct muster_err *e);

#endif
