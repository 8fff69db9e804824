/*
 * manifest: what a device of one scope must run (docs/protocol.md
 * "Manifests"): a libconfig document naming, by id, serial and the
 * BLAKE2b-256 of their exact bytes, the profiles of the scope, with a
 * version that grows with every publish and an expiry.  Signed by the
 * threshold of the root's policy role (a sigset), it defeats
 * mix-and-match (a profile the manifest does not name is refused),
 * rollback (a lower version is refused) and, past its expiry, shows a
 * freeze (the device reports its policy stale).
 *
 * A struct manifest is plain data: no pointer, copied by assignment.
 */
#ifndef MUSTER_MANIFEST_H
#define MUSTER_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/root.h"
#include "muster/sigset.h"

#define MANIFEST_MAX		(16 * 1024)	/* bytes of a manifest */
#define MANIFEST_PROFILES_MAX	16
#define MANIFEST_VERSION_MAX	SIGSET_VERSION_MAX
#define MANIFEST_TYPE		"muster-manifest"
#define MANIFEST_TC_MAX		96
#define MANIFEST_DEFAULT_TTL	(7 * 86400)	/* expiry after signing */

struct manifest_entry {
	char		id[PROFILE_ID_MAX + 1];
	int64_t		serial;			/* >= 1 */
	char		hash[SIGSET_HASH_HEX];	/* of the profile's bytes */
};

struct manifest {
	enum profile_scope	scope;
	int64_t			version;	/* 1 .. MANIFEST_VERSION_MAX */
	time_t			expires;
	struct manifest_entry	profiles[MANIFEST_PROFILES_MAX];
	size_t			nprofiles;	/* 0 .. MANIFEST_PROFILES_MAX */
};

/*
 * Parses the len bytes at buf as a manifest into *m (name used in
 * messages, "name:line: what").  Capped at MANIFEST_MAX, gated with
 * cfgscan, then strict: type "muster-manifest", scope, version, expires,
 * profiles (a list of 0..MANIFEST_PROFILES_MAX groups of exactly id (a
 * profile id), serial (>= 1) and hash (64 lowercase hex digits), ids
 * unique), no unknown or missing field.  Expiry is not judged here.
 * Returns 0 or MUSTER_EDATA (MUSTER_EINTERNAL out of memory); *m is
 * zeroed on failure.
 */
int	manifest_parse(const char *name, const void *buf, size_t len,
	    struct manifest *m, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Formats m (deterministic) into a malloc'd NUL-terminated *out of
 * *outlen bytes, parsed back before it is returned.  Returns 0,
 * MUSTER_EUSAGE naming what manifest_parse would refuse,
 * MUSTER_EINTERNAL.
 */
int	manifest_format(const struct manifest *m, char **out, size_t *outlen,
	    struct muster_err *e) __attribute__((warn_unused_result));

/*
 * The trusted comment of a manifest of scope and version:
 * "muster-manifest scope=S version=N".  Returns 0 or -1.
 */
int	manifest_trusted_comment(enum profile_scope scope, int64_t version,
	    char *buf, size_t size);

/*
 * Verifies the manifest in ss against r's policy role: first that the
 * threshold of policy keys signed the bytes (any trusted comment), then
 * parses them into *m, then that the threshold holds with the trusted
 * comment manifest_trusted_comment(scope, version) and that ss->version,
 * when set, is the manifest's.  A signature by a key of another role
 * never counts.  Returns 0, MUSTER_EDATA for a malformed manifest,
 * MUSTER_ETRUST when the threshold is not met.  Expiry and rollback are
 * manifest_accept's.  *m is zeroed on failure.
 */
int	manifest_verify(const char *name, const struct sigset *ss,
	    const struct root *r, struct manifest *m, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* 1 if m has expired at now (m->expires <= now), else 0. */
int	manifest_expired(const struct manifest *m, time_t now);

/*
 * The acceptance rule against the manifest a device holds (cur, with its
 * exact bytes; cur NULL for none), for next (verified, with its bytes):
 * another scope, a lower version ("rollback"), or the same version with
 * other bytes is MUSTER_ETRUST; otherwise 0 and next may replace cur.
 * Expiry never refuses (fail safe: keep enforcing): *stale (may be NULL)
 * is set to manifest_expired(next, now) so that the caller reports
 * "policy: stale".
 */
int	manifest_accept(const struct manifest *cur, const void *cur_bytes,
	    size_t cur_len, const struct manifest *next, const void *next_bytes,
	    size_t next_len, time_t now, int *stale, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* The entry of m for profile id, or NULL if m does not name it. */
const struct manifest_entry *manifest_find(const struct manifest *m,
	    const char *id);

/*
 * Checks that m names exactly this profile: its id, serial and the hash
 * of its len bytes at buf.  Returns 0, or MUSTER_ETRUST naming which of
 * the three differs.  Call it before the profile is parsed.
 */
int	manifest_names(const struct manifest *m, const char *id,
	    int64_t serial, const void *buf, size_t len, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * A profile as the manifest m (already verified against r) allows it:
 * manifest_names(id, serial, bytes) first, then the profile's minisign
 * signature (sig, siglen; signame in messages) must be by a key of r's
 * policy role and verify (profile_verify), then the parsed profile's id,
 * serial and scope must be id, serial and m's scope.  On success *out is
 * a new profile owned by the caller (profile_free).  Returns 0,
 * MUSTER_EDATA for malformed input, MUSTER_ETRUST otherwise.  Expiry of
 * the profile is the caller's to judge.
 */
int	manifest_profile_verify(const struct manifest *m, const struct root *r,
	    const char *id, int64_t serial, const char *name, const char *buf,
	    size_t len, const char *signame, const char *sig, size_t siglen,
	    struct profile **out, struct muster_err *e)
	    __attribute__((warn_unused_result));

#endif
