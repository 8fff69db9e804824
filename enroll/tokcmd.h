/*
 * tokcmd: `muster-enroll token`, one enrollment bundle, and the --expires
 * option it shares with `roster`.
 */
#ifndef MUSTER_TOKCMD_H
#define MUSTER_TOKCMD_H

#include <time.h>

#include "muster/err.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/token.h"
#include "org.h"

#define TOKCMD_EXPIRES_MIN	60		/* seconds: one minute */
#define TOKCMD_EXPIRES_MAX	(365 * 86400)	/* seconds: 365 days */

/*
 * Takes the command's arguments (argv[0] is "token"); writes usage errors
 * and failures as one line on stderr, and returns the process exit code.
 */
int	tokcmd_token(int argc, char **argv);

/*
 * What signs tokens for the org in DIR (oc its org.cfg): with roots, the
 * enroll key (*pk, *sk) and the current root (*rss, the caller's), with
 * t's server, pin and root=N:HASH taken from it, for v2 tokens and
 * bundles; a first-wave org gives org.key and org.cfg's server and pin,
 * and *rss NULL (v1).  MUSTER_ECONFIG when enroll.key is not the root's.
 */
int	tokcmd_signer(const char *org, const struct org_cfg *oc,
	    struct token *t, struct sig_pubkey *pk, struct sig_seckey **sk,
	    struct sigset **rss, struct muster_err *e);

/*
 * Parses an --expires value: Nd, Nh or Nm (days, hours, minutes after
 * now) or an RFC 3339 UTC time, into *out.  Refuses anything outside
 * TOKCMD_EXPIRES_MIN..TOKCMD_EXPIRES_MAX from now with MUSTER_EUSAGE.
 */
int	tokcmd_expires_parse(const char *s, time_t now, time_t *out,
	    struct muster_err *e);

#endif
