/*
 * trust: what the server knows of the organisation's trust (docs/protocol.md
 * "Root of trust", "Manifests"), all of it public: the chain of roots from
 * the lowest version it holds to the newest, and per scope the newest
 * manifest.  It holds no secret: it verifies with the newest root's roles
 * (tokens with enroll, revocations with revocation, manifests and profiles
 * with policy) and serves the signed documents as it got them.
 *
 * Where the roots come from: server.cfg's root_dir (the org directory's
 * root/, N.cfg and N.cfg.KEYID.minisig), then the roots uploaded with
 * POST /v1/admin/root, kept in DATA_DIR/trust/root-N.json (the wire form);
 * without root_dir the chain starts at the legacy root of org_key (the
 * first wave's org key as root version 1, in memory only).  The chain is
 * walked as a device walks it: root_verify_self on the lowest version
 * (root_legacy for the org key), root_update for each next; it stops at
 * the first gap or refusal, which is logged.
 *
 * Manifests live in DATA_DIR/trust/manifest-SCOPE.json (the wire form),
 * replaced atomically.  Every function is thread-safe: the state is read
 * and replaced under one lock, and readers get copies.
 */
#ifndef MUSTER_SERVER_TRUST_H
#define MUSTER_SERVER_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/root.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/token.h"

#define TRUST_DIR		"trust"		/* in data_dir */
#define TRUST_VERSIONS_MAX	4096		/* root versions held */
#define TRUST_NSCOPES		2
#define TRUST_FILE_MAX		(64 * 1024)	/* a stored wire form */
#define TRUST_MANIFEST_WARN	(2 * 86400)	/* default manifest_warn */

struct trust;

/* What trust_manifest_check found. */
enum trust_put {
	TRUST_NEW,		/* a higher version: store it */
	TRUST_SAME,		/* the stored version, the same bytes */
	TRUST_OLD,		/* lower, or the same version with other bytes */
};

/*
 * Loads the trust: the chain (root_dir, may be NULL, else the legacy root
 * of the org key at org_key), then the roots and manifests stored in
 * data_dir/trust (created 0700 when missing; data_dir must exist).
 * *out is the caller's (trust_free).  Returns 0, MUSTER_ECONFIG for a
 * root_dir that holds no root that verifies or an org key that does not
 * load, MUSTER_EIO, MUSTER_EINTERNAL.
 */
int	trust_open(const char *root_dir, const char *org_key,
	    const char *data_dir, struct trust **out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Loads everything again (SIGHUP: root_dir may have new versions) and,
 * only when that succeeded and reaches at least the version held, puts it
 * in place.  Returns 0 or what trust_open returns (the old state stays).
 */
int	trust_reload(struct trust *t, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* Frees t; NULL is a no-op. */
void	trust_free(struct trust *t);

/* A copy of the newest root into *r. */
void	trust_root(struct trust *t, struct root *r);

/* The newest root's version. */
int64_t	trust_root_version(struct trust *t);

/* 1 when the newest root is the legacy root of org_key. */
int	trust_legacy(struct trust *t);

/*
 * The JSON array text of the signed roots since+1 .. newest, at most
 * ROOT_CHAIN_MAX of them (versions the server holds no bytes of, the
 * legacy root, are left out), malloc'd into *json (*len bytes).
 * Returns 0 or MUSTER_EINTERNAL.
 */
int	trust_roots_json(struct trust *t, int64_t since, char **json,
	    size_t *len, struct muster_err *e);

/*
 * Accepts the root in ss as the next version: MUSTER_EUSAGE when its
 * (claimed) version is not exactly newest+1 (a conflict), MUSTER_ETRUST or
 * MUSTER_EDATA as root_update refuses it; else it is stored in
 * data_dir/trust and becomes the newest.  Returns 0 or the above,
 * MUSTER_EIO, MUSTER_EINTERNAL.
 */
int	trust_root_add(struct trust *t, const struct sigset *ss,
	    struct muster_err *e) __attribute__((warn_unused_result));

/*
 * Verifies the manifest in ss against the newest root's policy role
 * (manifest_verify) into *m and says in *res how it compares with the
 * stored one of its scope.  Returns 0, MUSTER_EDATA, MUSTER_ETRUST.
 */
int	trust_manifest_check(struct trust *t, const struct sigset *ss,
	    struct manifest *m, enum trust_put *res, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Stores the manifest in ss (checked by trust_manifest_check as m) as its
 * scope's, unless the stored one is meanwhile not lower (MUSTER_ETRUST).
 * Returns 0, MUSTER_ETRUST, MUSTER_EIO, MUSTER_EINTERNAL.
 */
int	trust_manifest_put(struct trust *t, const struct sigset *ss,
	    const struct manifest *m, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * The manifest of scope: 1 with a copy in *m (may be NULL) and, when json
 * is not NULL, its wire form malloc'd into *json (*len bytes); 0 when
 * none is stored (*json NULL); -1 out of memory.
 */
int	trust_manifest(struct trust *t, enum profile_scope scope,
	    struct manifest *m, char **json, size_t *len);

/*
 * A token (v1 or v2 body) verified against the newest root's enroll role
 * (token2_verify).  Returns what token2_verify returns.
 */
int	trust_token_verify(struct trust *t, const char *s, size_t len,
	    struct token *tok, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * A revocation verified against the newest root's revocation role only
 * (token2_revocation_verify): a policy or root key is refused.
 */
int	trust_revocation_verify(struct trust *t, const char *s, size_t len,
	    struct revocation *rv, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Logs a warning for each stored manifest that has expired or expires
 * within warn seconds of now, and sets the gauge
 * muster_manifest_expiry_seconds{scope} (metrics_manifest_expiry).
 */
void	trust_manifest_watch(struct trust *t, time_t now, time_t warn);

/*
 * Where the uploaded roots and the manifests live when several servers
 * share one store (server/srvsync.c): read gives name's bytes in a new
 * malloc'd *buf (MUSTER_ENOINPUT when there is none); write stores them
 * unless a version at or above version is stored under name
 * (MUSTER_ETRUST; the same bytes again are not an error).  Both are
 * called from any thread, with cls.
 */
struct trust_docs {
	int	(*read)(void *cls, const char *name, size_t max, char **buf,
		    size_t *len, struct muster_err *e);
	int	(*write)(void *cls, const char *name, int64_t version,
		    const char *buf, size_t len, struct muster_err *e);
	void	*cls;
};

/*
 * Keeps t's documents with docs from now on instead of data_dir/trust;
 * trust_reload then loads what they hold.
 */
void	trust_set_docs(struct trust *t, const struct trust_docs *docs);

#endif
