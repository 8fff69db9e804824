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
	[MR_POLICY] = "policy",
	[MR_ROOT] = "root",
	[MR_ADMIN_ROOT] = "admin_root",
	[MR_ADMIN_MANIFEST] = "admin_manifest",
	[MR_CONSENT] = "consent",
	[MR_CONSOLE] = "console",
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
/* By enum profile_scope: whether a manifest is held, seconds left. */
static int manifest_present[2];
static int64_t manifest_expiry[2];
static const char *const scope_names[2] = { "personnel", "family" };

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

void
metrics_manifest_expiry(int scope, int present, int64_t seconds)
{
	if (scope < 0 || scope > 1)
		return;
	__atomic_store_n(&manifest_expiry[scope], seconds, __ATOMIC_RELAXED);
	__atomic_store_n(&manifest_present[scope], present, __ATOMIC_RELEASE);
}

int
metrics_format(int64_t devices_enrolled, char **out, size_t *len)
{
	FILE *f;
	size_t r, s;
	uint64_t v;
	int header = 0;

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
	for (s = 0; s < 2; s++) {
		if (!__atomic_load_n(&manifest_present[s], __ATOMIC_ACQUIRE))
			continue;
		if (!header) {
			fprintf(f, "# HELP muster_manifest_expiry_seconds "
			    "Seconds until the served manifest of a scope "
			    "expires.\n"
			    "# TYPE muster_manifest_expiry_seconds gauge\n");
			header = 1;
		}
		fprintf(f, "muster_manifest_expiry_seconds{scope=\"%s\"} "
		    "%lld\n", scope_names[s], (long long)__atomic_load_n(
		    &manifest_expiry[s], __ATOMIC_RELAXED));
	}
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
