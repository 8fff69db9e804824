/* metrics: counters and their Prometheus text; see metrics.h. */
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

static const char *const route_names[MR__N] = {
	[MR_ENROLL] = "enroll",
	[MR_PROFILE] = "profile",
	[MR_REPORT] = "report",
	[MR_UNENROLL] = "unenroll",
	[MR_ADMIN_PROFILE] = "admin_profile",
	[MR_ADMIN_REVOKE] = "admin_revoke",
	[MR_ADMIN_ROLLUP] = "admin_rollup",
	[MR_HEALTHZ] = "healthz",
	[MR_METRICS] = "metrics",
	[MR_OTHER] = "other",
};

/* The statuses the server answers with; anything else counts as 500. */
static const unsigned statuses[] = {
	200, 201, 202, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 500,
	503,
};
#define NSTATUS	(sizeof statuses / sizeof statuses[0])

static uint64_t requests[MR__N][NSTATUS];
static uint64_t reports_stored;

const char *
metrics_route_name(enum metrics_route route)
{
	return (unsigned)route < MR__N ? route_names[route] : "other";
}

void
metrics_request(enum metrics_route route, unsigned status)
{
	size_t i, other = 0;

	if ((unsigned)route >= MR__N)
		route = MR_OTHER;
	for (i = 0; i < NSTATUS; i++) {
		if (statuses[i] == 500)
			other = i;
		if (statuses[i] == status)
			break;
	}
	if (i == NSTATUS)
		i = other;
	__atomic_fetch_add(&requests[route][i], 1, __ATOMIC_RELAXED);
}

void
metrics_report_stored(void)
{
	__atomic_fetch_add(&reports_stored, 1, __ATOMIC_RELAXED);
}

int
metrics_format(int64_t devices_enrolled, char **out, size_t *len)
{
	FILE *f;
	size_t r, s;
	uint64_t v;

	*out = NULL;
	*len = 0;
	if ((f = open_memstream(out, len)) == NULL)
		return -1;
	fprintf(f, "# HELP muster_requests_total HTTP requests answered, "
	    "by route and status.\n"
	    "# TYPE muster_requests_total counter\n");
	for (r = 0; r < MR__N; r++)
		for (s = 0; s < NSTATUS; s++) {
			v = __atomic_load_n(&requests[r][s], __ATOMIC_RELAXED);
			if (v > 0)
				fprintf(f, "muster_requests_total{route=\"%s\","
				    "status=\"%u\"} %llu\n", route_names[r],
				    statuses[s], (unsigned long long)v);
		}
	fprintf(f, "# HELP muster_reports_stored_total Compliance reports "
	    "stored since the server started.\n"
	    "# TYPE muster_reports_stored_total counter\n"
	    "muster_reports_stored_total %llu\n",
	    (unsigned long long)__atomic_load_n(&reports_stored,
	    __ATOMIC_RELAXED));
	if (devices_enrolled >= 0)
		fprintf(f, "# HELP muster_devices_enrolled Devices enrolled "
		    "and not revoked.\n"
		    "# TYPE muster_devices_enrolled gauge\n"
		    "muster_devices_enrolled %lld\n",
		    (long long)devices_enrolled);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
