/*
 * rr: the family member's randomized response (docs/privacy.md), the one
 * place that knows the mechanism: which answer a device gives for a
 * rule, and what the server may conclude from many of them.
 *
 * Permanent randomized response in the manner of RAPPOR (Erlingsson et
 * al., CCS 2014): for each rule question (the rule's fingerprint: its kind
 * and what it asks, not its id, title or severity) and each true value
 * (ok: pass or remediated; failing: fail or error) the device draws once,
 * from a keyed hash of a secret only it holds, whether it tells the truth
 * (probability PROTO_RR_KEEP_NUM / PROTO_RR_KEEP_DEN = 3/4) or the
 * opposite.  The same question with the same truth always gets the same
 * answer, so reports cannot be averaged; a change of truth draws the
 * other memo.  A device answers at most PROTO_RR_BUDGET distinct
 * questions with that probability; every question beyond is answered by
 * a fair coin (epsilon 0).
 *
 * The estimators are unbiased for the population they count: with the
 * truth fixed, the only randomness is the mechanism's, whose variance is
 * known exactly (per rule) or bounded (a device's status over R rules),
 * so the intervals need no variance estimated from the data.
 */
#ifndef MUSTER_RR_H
#define MUSTER_RR_H

#include <stddef.h>
#include <stdint.h>

#include "muster/profile.h"
#include "muster/proto.h"

#define RR_KEY_BYTES		32	/* the device's memo secret */
#define RR_FP_BYTES		16	/* a rule question's fingerprint */
#define RR_FP_HEX		(2 * RR_FP_BYTES + 1)

/* epsilon per rule: ln(p / (1 - p)) with p = 3/4, i.e. ln 3. */
#define RR_EPSILON		1.0986122886681098
#define RR_EPSILON_TEXT		"ln 3 = 1.10"
/* Odds of the truth against the lie: e^epsilon = 3. */
#define RR_ODDS			3

/* The interval shown: 95 %, and only where it is this narrow or less. */
#define RR_Z95			1.959963984540054
#define RR_SHOW_HALF		0.10	/* half-width, as a fraction */
/* A status over more rules is never estimated (its variance 1.75^R). */
#define RR_STATUS_MAX_RULES	24

/* The probability p that an answer is the truth, 0.75. */
double	rr_keep(void);

/*
 * The fingerprint of what rule r asks (kind and parameters, lists in
 * sorted order; not id, title, severity or action): two rules asking the
 * same question share one memo, and renaming a rule draws nothing new.
 */
void	rr_fingerprint(const struct rule *r, unsigned char fp[RR_FP_BYTES]);
void	rr_fp_hex(const unsigned char fp[RR_FP_BYTES], char hex[RR_FP_HEX]);

/*
 * The answer (1: failing, 0: ok) the device holding key gives to question
 * fp when the truth is failing (1) or ok (0): the truth with probability
 * 3/4, decided once per (key, fp, truth) by a keyed BLAKE2b.  With
 * in_budget 0, a fair coin fixed per (key, fp), whatever the truth.
 */
int	rr_answer(const unsigned char key[RR_KEY_BYTES],
	    const unsigned char fp[RR_FP_BYTES], int truth, int in_budget);

/* An estimated share (0..1) of a population, with its 95 % interval. */
struct rr_estimate {
	int64_t	n;		/* devices answering */
	double	raw;		/* the unbiased estimate (may leave 0..1) */
	double	est;		/* raw, clipped to 0..1 */
	double	lo, hi;		/* the 95 % interval, clipped to 0..1 */
	double	half;		/* its half-width before clipping */
	int	shown;		/* half <= RR_SHOW_HALF (and n > 0) */
};

/*
 * The share of n devices whose truth on one rule is failing, from yes of
 * them answering failing: (yes/n - (1-p)) / (2p-1), with the exact
 * variance of the mechanism, p(1-p)/(2p-1)^2 = 0.75 per device.
 */
void	rr_estimate_rate(int64_t n, int64_t yes, struct rr_estimate *out);

/*
 * One device's unbiased weight for "every one of its R rules is ok",
 * given its R answers as a count of failing answers nfail: the product
 * of p/(2p-1) per ok answer and -(1-p)/(2p-1) per failing one.
 */
double	rr_status_weight(size_t nrules, size_t nfail);

/*
 * The share of n devices compliant on all nrules rules, from the sum of
 * their rr_status_weight; the interval from the variance bound
 * (E[f^2 | ok] ^ R - 1 = 1.75^R - 1 per device).  Never shown for more
 * than RR_STATUS_MAX_RULES rules.
 */
void	rr_estimate_status(int64_t n, double sum_weight, size_t nrules,
	    struct rr_estimate *out);

/*
 * How many devices an estimate of one rule needs for a half-width of at
 * most RR_SHOW_HALF (289), or of a status over nrules rules (0: never).
 */
int64_t	rr_min_devices(size_t nrules, int status);

/* sqrt without libm, for the intervals (x >= 0). */
double	rr_sqrt(double x);

#endif
