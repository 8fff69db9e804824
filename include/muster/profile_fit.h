/*
 * profile_fit: whether a profile can work end to end under the
 * protocol's limits (muster/proto.h): its upload fits a publish, and the
 * largest report a device could make of it fits PROTO_REPORT_MAX.  lint
 * and sign refuse what does not fit, so that nothing they pass is refused
 * later by publish (413) or makes every device's report too large.
 */
#ifndef MUSTER_PROFILE_FIT_H
#define MUSTER_PROFILE_FIT_H

#include <stddef.h>

#include "muster/err.h"
#include "muster/profile.h"

/*
 * The largest report (in bytes, without details) a device could make of
 * p: PROTO_REPORT_FIXED_MAX + sum over rules of PROTO_RESULT_FIXED + the
 * rule id's length.
 */
size_t	profile_fit_report_max(const struct profile *p);

/*
 * 0 when p, of len bytes read from path, fits: len at most
 * PROTO_PUBLISH_PROFILE_MAX and profile_fit_report_max at most
 * PROTO_REPORT_MAX.  Else MUSTER_EDATA with a line naming path, the
 * figure and the limit.
 */
int	profile_fit(const char *path, const struct profile *p, size_t len,
	    struct muster_err *e);

#endif
