/*
 * check: the evaluation core shared by `muster-agent check` and `run`:
 * every rule of the given profiles evaluated on a device, with the
 * counts a status line and a report need.
 */
#ifndef MUSTER_AGENT_CHECK_H
#define MUSTER_AGENT_CHECK_H

#include <stddef.h>

#include "muster/err.h"
#include "state.h"
#include "consent.h"
#include "device/device.h"
#include "rules.h"

struct check_outcome {
	const struct profile	*p;
	const struct rule	*r;
	struct rule_outcome	 o;
};

struct check_run {
	struct check_outcome	*out;	/* one per rule, profiles in order */
	size_t			 nout;
	struct state_lastcheck	 l;	/* time, counts, compliant */
	struct device_facts	 facts;
	int			 facts_ok;
};

/*
 * Evaluates every rule of the n profiles in list on dev into *cr
 * (check_run_free), changing the device only if remediate is set, and
 * then, when limit is not NULL (a family device), only for the rules the
 * consent limit covers: a rule it does not cover that fails is reported
 * as failing with CONSENT_NOTE in its reason.  The
 * device's identity facts are read when a rule needs them or want_facts is
 * set; the socket table only when an egress-deny rule needs it.  Fails
 * only for lack of memory: a fact that cannot be read is an "error"
 * outcome of the rules that need it.  cr->out points into list, which
 * must outlive it.
 */
int	check_eval(struct device *dev, const struct state_profile *list,
	    size_t n, int remediate, int want_facts,
	    const struct consent *limit, struct check_run *cr,
	    struct muster_err *e);
void	check_run_free(struct check_run *cr);

/*
 * The remediation limit of the device of state dir in scope: *limit is
 * NULL for a personnel device; for a family device it points to c, the
 * consent loaded from the state, or an empty one (covering nothing) when
 * none was recorded (consent_free(c) after use).  MUSTER_ECONFIG when the
 * receipt is damaged.
 */
int	check_limit(const char *dir, enum profile_scope scope,
	    struct consent *c, const struct consent **limit,
	    struct muster_err *e);

/*
 * Consent bound to bytes, after enrollment: 1 when the family profile
 * mine is not the one consent c names (its hash) and reads something the
 * consented profile did not (consent_reads_hash), so that it must wait
 * for a new consent; *old is then the consented profile, verified again
 * (state_profile_clear), which is evaluated and reported in its place.
 * 0 otherwise (a personnel device, a receipt without a hash, the same
 * bytes, the same reads, or no consented copy kept).
 */
int	check_consent_pending(const char *dir, const struct state_anchor *a,
	    const struct state_profile *mine, const struct consent *c,
	    struct state_profile *old);

struct cmd_opts;

/* `muster-agent check [--json] [--remediate]`; returns the exit code. */
int	check_cmd(struct cmd_opts *o, int argc, char **argv);

#endif
