/*
 * rules: evaluation of a profile's rules against a device, one outcome per
 * rule: pass, fail, remediated or error, with a short reason a person can
 * act on ('model "HM 1SW" is banned; build KHHCNBF5.0 < required
 * KHHCNBH45.0').
 */
#ifndef MUSTER_RULES_H
#define MUSTER_RULES_H

#include <stddef.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "device/device.h"
#include "netscan.h"

#define RULES_REASON_MAX	256

enum rule_result {
	RESULT_PASS,
	RESULT_FAIL,
	RESULT_REMEDIATED,
	RESULT_ERROR,
};

struct rule_outcome {
	enum rule_result	result;
	char			reason[RULES_REASON_MAX];
};

/* What one evaluation may read and change. */
struct rules_ctx {
	struct device		*dev;
	struct device_facts	 facts;		/* read once per check */
	int			 facts_ok;	/* 0: facts could not be read */
	char			 facts_err[RULES_REASON_MAX];
	const struct netscan	*net;		/* NULL: not scanned */
	char			 net_err[RULES_REASON_MAX];
	int			 remediate;	/* may change the device */
};

/*
 * Evaluates r in ctx into *out.  Never fails as a whole: a fact that
 * cannot be read makes the outcome RESULT_ERROR with the reason.  With
 * ctx->remediate set, a failing `setting` rule with action remediate is
 * set and read back (RESULT_REMEDIATED only if the read-back matches), and
 * a failing `package-ban` with action disable disables the packages.
 */
void	rules_eval(const struct rule *r, struct rules_ctx *ctx,
	    struct rule_outcome *out);

const char *rules_result_name(enum rule_result r);

/*
 * Compares two version or build strings naturally: runs of digits compare
 * as numbers, other characters one by one, so "4.10" > "4.9" and
 * "KHHCNBF5.0" < "KHHCNBH45.0".  Returns <0, 0 or >0.
 */
int	rules_version_cmp(const char *a, const char *b);

#endif
