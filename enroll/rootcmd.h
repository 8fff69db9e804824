/*
 * rootcmd: `muster-enroll root show|rotate|sign|publish`, the org's root
 * of trust (docs/keys.md): the chain root/1.cfg, root/2.cfg, ... each
 * signed by a threshold of the previous version's root keys and of its
 * own, one signature file per signer, so that the k-of-n ceremony is one
 * `root sign` per holder.
 */
#ifndef MUSTER_ENROLL_ROOTCMD_H
#define MUSTER_ENROLL_ROOTCMD_H

#include <stdint.h>

#include "muster/err.h"
#include "muster/root.h"
#include "muster/sigset.h"

/*
 * `muster-enroll root SUBCOMMAND ...` (argv[0] is "root"): writes usage
 * errors and failures as one line on stderr; returns the exit code.
 */
int	rootcmd_main(int argc, char **argv);

/*
 * The org's current root: the newest version of DIR/root/ that a device
 * holding the first would accept (root/1.cfg trusted as it is, else the
 * legacy root of DIR/org.pub, then root_update for each next version),
 * into *r, and its signed set into *ss (the caller's; NULL for the
 * legacy root).  *pending (may be NULL) is the highest N.cfg present,
 * which may be a rotation not yet signed.  A first-wave org (no root/)
 * gives its legacy root.  Returns 0, MUSTER_ENOINPUT, MUSTER_EDATA,
 * MUSTER_ETRUST (root/1.cfg does not meet its threshold), MUSTER_ECONFIG.
 */
int	rootcmd_current(const char *org, struct root *r, struct sigset **ss,
	    int64_t *pending, struct muster_err *e)
	    __attribute__((warn_unused_result));

#endif
