/*
 * profcmd: `muster-enroll lint`, `sign` and `verify` of policy profiles.
 */
#ifndef MUSTER_ENROLL_PROFCMD_H
#define MUSTER_ENROLL_PROFCMD_H

#include <stddef.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/sig.h"

#define PROFCMD_SIG_SUFFIX	".minisig"	/* PROFILE.cfg.minisig */

/*
 * Each takes its command's arguments (argv[0] is the command's name),
 * writes usage errors and failures as one line on stderr, and returns
 * the process exit code.
 */
int	profcmd_lint(int argc, char **argv);
int	profcmd_sign(int argc, char **argv);
int	profcmd_verify(int argc, char **argv);

/*
 * The signature file of the profile at path: sigarg when not NULL, else
 * PROFILE.cfg.minisig, made in *owned (NULL before, the caller's to
 * free).  Returns it, or NULL when out of memory.
 */
const char *profcmd_sig_path(const char *path, const char *sigarg,
	    char **owned);

/*
 * Reads the profile at path and its signature at sigpath, each capped,
 * and verifies the exact bytes read under pk before parsing them
 * (profile_verify: *p, and *s unless NULL).  *buf and *sig get the bytes
 * read, the caller's to free on every return.  Returns 0 or the error.
 */
int	profcmd_read_verify(const char *path, const char *sigpath,
	    const struct sig_pubkey *pk, char **buf, size_t *len, char **sig,
	    size_t *siglen, struct profile **p, struct sig_signature *s,
	    struct muster_err *e) __attribute__((warn_unused_result));

/*
 * 0 while p (read from path) has not expired; else MUSTER_ETRUST with
 * "PATH: profile "ID" expired on WHEN".
 */
int	profcmd_check_unexpired(const char *path, const struct profile *p,
	    struct muster_err *e);

/*
 * The oracle lint of a family profile p read from path (muster/oracle.h):
 * 0 after writing each group of rules that together reveal an attribute
 * of the phone to stderr as "PATH:LINE: warning: ..."; MUSTER_EDATA with
 * "PATH:LINE: family profile: ..." (and nothing written) when a group
 * has more rules than ORACLE_MAX_PER_ATTR.  0 for a personnel profile.
 */
int	profcmd_oracle(const char *path, const struct profile *p,
	    struct muster_err *e);

#endif
