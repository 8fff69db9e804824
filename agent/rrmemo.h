/*
 * rrmemo: the family device's randomized response (muster/rr.h) applied
 * to a report's results, with its memo secret in STATE/rr.state (0600,
 * written by temp file + fsync + rename; overwritten and removed by
 * `muster-agent unenroll`).
 *
 * The file holds a 32-byte secret, made once from the system's random
 * source, and the fingerprints of the rule questions (at most
 * PROTO_RR_BUDGET) the device answers with probability 3/4 of the truth;
 * every question beyond is answered by a fair coin.  A deleted file is a
 * new secret: new draws for every question (a test resets a simulated
 * phone so; on a real phone it happens only when the state is lost).
 * `muster-agent check` never reads it: the member sees the truth.
 */
#ifndef MUSTER_AGENT_RRMEMO_H
#define MUSTER_AGENT_RRMEMO_H

#include <stddef.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/report.h"

#define RRMEMO_FILE	"rr.state"
#define RRMEMO_MAX	(16 * 1024)	/* bytes of the file */

/*
 * Randomizes the n results res of a family report of profile p in
 * place: each result ("pass", "remediated": ok; "fail", "error":
 * failing) becomes the device's memoized answer, PROTO_RESULT_PASS or
 * PROTO_RESULT_FAIL (static strings), its detail NULL; *compliant is
 * set to whether no answer is fail.  A result naming no rule of p is
 * answered as a question of its id alone.  Creates or extends the memo
 * file.  Returns 0; MUSTER_ECONFIG when the file is damaged or others
 * may read it; MUSTER_EIO when it cannot be written.
 */
int	rrmemo_apply(const char *dir, const struct profile *p,
	    struct report_result *res, size_t n, int *compliant,
	    struct muster_err *e);

/*
 * Overwrites STATE/rr.state with zeros, fsyncs and removes it.  0 (also
 * when there is none) or MUSTER_EIO.
 */
int	rrmemo_wipe(const char *dir, struct muster_err *e);

#endif
