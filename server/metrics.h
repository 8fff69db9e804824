/*
 * metrics: request counters per route and status, and the text /metrics
 * serves (Prometheus exposition format 0.0.4).  Counting is lock-free.
 */
#ifndef MUSTER_SERVER_METRICS_H
#define MUSTER_SERVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

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

/* The route's label ("report"). */
const char *metrics_route_name(enum metrics_route route);

/* Counts one answered request. */
void	metrics_request(enum metrics_route route, unsigned status);

/* Counts reports stored (committed) since the server started. */
void	metrics_report_stored(void);

/*
 * Sets the gauge muster_manifest_expiry_seconds{scope} (scope an enum
 * profile_scope) to seconds until the scope's manifest expires (negative
 * once it has); present 0 leaves the scope out.
 */
void	metrics_manifest_expiry(int scope, int present, int64_t seconds);

/*
 * Formats every counter, with devices_enrolled as the gauge
 * muster_devices_enrolled (negative: left out), into a malloc'd string
 * *out of *len bytes.  Returns 0 or -1 (out of memory).
 */
int	metrics_format(int64_t devices_enrolled, char **out, size_t *len);

#endif
