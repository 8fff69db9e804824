/* profile_fit: a profile against the protocol's limits; profile_fit.h. */
#include <string.h>

#include "muster/profile_fit.h"
#include "muster/proto.h"

size_t
profile_fit_report_max(const struct profile *p)
{
	size_t i, n = PROTO_REPORT_FIXED_MAX;

	for (i = 0; i < p->nrules; i++)
		n += PROTO_RESULT_FIXED + strlen(p->rules[i].id);
	return n;
}

int
profile_fit(const char *path, const struct profile *p, size_t len,
    struct muster_err *e)
{
	size_t r;

	if (len > PROTO_PUBLISH_PROFILE_MAX)
		return err_set(e, MUSTER_EDATA, "%s: %zu bytes, over the %d "
		    "a profile may have (it is published in base64 within "
		    "the server's %d-byte request limit); split it into "
		    "profiles the manifest names", path, len,
		    PROTO_PUBLISH_PROFILE_MAX, PROTO_BODY_MAX);
	if ((r = profile_fit_report_max(p)) > PROTO_REPORT_MAX)
		return err_set(e, MUSTER_EDATA, "%s: %zu rules make a report "
		    "of up to %zu bytes, over the %d a report may have; use "
		    "fewer rules or shorter rule ids", path, p->nrules, r,
		    PROTO_REPORT_MAX);
	return 0;
}
