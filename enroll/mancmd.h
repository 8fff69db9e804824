/*
 * mancmd: the per-scope manifests of an org (docs/protocol.md
 * "Manifests"), DIR/manifest/SCOPE.cfg with one signature file per policy
 * key that signed it: made by `publish` for the profile it publishes, and
 * re-signed with a new expiry by `muster-enroll manifest`.
 */
#ifndef MUSTER_ENROLL_MANCMD_H
#define MUSTER_ENROLL_MANCMD_H

#include <stddef.h>
#include <time.h>

#include "muster/err.h"
#include "muster/manifest.h"
#include "muster/sigset.h"

#define MANCMD_KEYS_MAX		8	/* --key options */

/*
 * `muster-enroll manifest` (argv[0] is "manifest"): writes usage errors
 * and failures as one line on stderr; returns the exit code.
 */
int	mancmd_main(int argc, char **argv);

/*
 * With reuse set, when the profiles are those the org's manifest already
 * names and it is valid (not expired, verifies), that manifest as it is.
 * Otherwise makes the next manifest of scope for the org in DIR: the
 * version after
 * DIR/manifest/SCOPE.cfg's (1 if none), expiring at expires, naming add
 * (may be NULL) and, unless only is set, the profiles the old one named
 * (one of add's id replaced by add); signed with the key files keys[0..n)
 * (n 0: DIR/policy.key, or org.key for a first-wave org) and checked
 * against the org's current root (manifest_verify) before it replaces the
 * files.  *ss (the caller's) and *m are the new manifest.  Returns 0,
 * MUSTER_EUSAGE (too many profiles), MUSTER_ETRUST (the keys do not meet
 * the policy threshold), MUSTER_EIO, MUSTER_EINTERNAL.
 */
int	mancmd_make(const char *org, enum profile_scope scope,
	    const struct manifest_entry *add, int only, time_t expires,
	    int reuse, const char *const *keys, size_t n, struct sigset **ss,
	    struct manifest *m, struct muster_err *e)
	    __attribute__((warn_unused_result));

#endif
