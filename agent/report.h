/*
 * report: the compliance report a device sends (docs/protocol.md, "POST
 * /v1/report"), built as deterministic JSON bytes: the same input always
 * gives the same bytes, fields in the protocol's order, compact, ASCII.
 * Those bytes are what the device key signs and what is spooled, sent and
 * kept in sent/.
 *
 * A family report carries device, seq, time, profile, serial, status,
 * dropped and results with rule and result only, whatever it is given: no
 * model, no detail.
 */
#ifndef MUSTER_AGENT_REPORT_H
#define MUSTER_AGENT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/profile.h"

#define REPORT_MAX		(64 * 1024)	/* the server's body limit */
#define REPORT_MODEL_MAX	128		/* bytes of "manufacturer model" */

struct report_result {
	const char	*rule;		/* rule id */
	const char	*result;	/* pass, fail, remediated, error */
	const char	*detail;	/* personnel only; NULL for none */
};

struct report_in {
	enum profile_scope		 scope;
	const char			*device;
	int64_t				 seq;
	time_t				 time;
	const char			*profile;
	int64_t				 serial;
	int				 compliant;
	int64_t				 dropped;
	const char			*model;	/* personnel; NULL if unknown */
	const struct report_result	*results;
	size_t				 nresults;
};

/*
 * Builds the report into a malloc'd NUL-terminated *out of *len bytes.
 * When the details make it larger than REPORT_MAX it is built again
 * without them.  The model is cut to REPORT_MODEL_MAX bytes and anything
 * but printable ASCII in it replaced by '?'.  Returns 0, MUSTER_EDATA when
 * even the minimal report does not fit, or MUSTER_EINTERNAL.
 */
int	report_build(const struct report_in *in, char **out, size_t *len,
	    struct muster_err *e);

/* What `muster-agent log` shows of a stored report. */
struct report_summary {
	int64_t		seq;
	char		time[21];
	char		status[16];
	int64_t		dropped;
};

/*
 * Reads the summary fields of a report this agent wrote (len bytes at
 * buf).  Returns 0, or MUSTER_EDATA when they are missing or malformed.
 */
int	report_summary(const char *buf, size_t len, struct report_summary *s,
	    struct muster_err *e);

#endif
