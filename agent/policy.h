/*
 * policy: what the server's answer to GET /v1/policy may change on the
 * device (docs/protocol.md "GET /v1/policy"): the root chain walked from
 * the root held (TUF 1.0 §5.3: each version exactly N+1, signed by the
 * threshold of the old and the new root keys, persisted before the next
 * is taken, at most ROOT_CHAIN_MAX per answer), then the scope's manifest
 * verified with the (new) root's policy role and accepted only if its
 * version does not roll back, then exactly the profiles it names, each
 * matched by id, serial and hash before it is parsed.
 *
 * All or nothing after the roots: the manifest and every profile it
 * names are verified and judged before any of them is written, so a
 * refusal leaves the installed policy as it was, still enforced.
 */
#ifndef MUSTER_AGENT_POLICY_H
#define MUSTER_AGENT_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/manifest.h"
#include "muster/profile.h"
#include "state.h"

/* Nesting of the answer: { "roots": [ { "signatures": [ ] } ] } */
#define POLICY_JSON_DEPTH	4

struct policy_outcome {
	int64_t	root_from;	/* the root version held before */
	int64_t	root_to;	/* and after */
	int	has_manifest;	/* the answer carried one (not null) */
	int64_t	manifest_from;	/* the manifest version held before; 0 */
	int64_t	manifest_to;	/* and after; 0 when none is held */
	int	dropped;	/* the manifest held no longer verified */
	size_t	installed;	/* profiles written: */
	struct {
		char	id[PROFILE_ID_MAX + 1];
		int64_t	serial;
	}	inst[MANIFEST_PROFILES_MAX];
	size_t	removed;	/* managed profiles the manifest dropped */
	size_t	purged;		/* installed profiles a new root distrusts */
	int	trust_stale;	/* the newest root has expired */
	int	policy_stale;	/* the manifest held has expired */
	char	managed[PROFILE_ID_MAX + 1];	/* its first profile; "" */
};

/*
 * Applies an answer of GET /v1/policy (len bytes at body, untrusted) to
 * the state dir of a device whose anchor is *a, at time now: roots
 * first (each accepted one persisted and *a updated), then the manifest
 * and its profiles.  agent.cfg's profile_id becomes the first profile
 * the manifest names.  Returns 0 with *out filled (also when nothing
 * changed); MUSTER_EDATA for a malformed answer; MUSTER_ETRUST for a
 * refused root, manifest (rollback, wrong role, another scope) or
 * profile (not named, other hash, expired, rolled back): the roots
 * accepted before the refusal stay, nothing else changes; a local error
 * (MUSTER_EIO, ...) when the state could not be written.
 */
int	policy_apply(const char *dir, struct state_anchor *a,
	    const char *body, size_t len, time_t now,
	    struct policy_outcome *out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * The stale flags of the state dir now: the root's expiry and the
 * manifest held (none held: not stale).
 */
void	policy_stale(const char *dir, const struct state_anchor *a,
	    time_t now, int *trust, int *policy);

#endif
