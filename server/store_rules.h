/*
 * store_rules: what both store backends decide the same way, apart from
 * how they ask their database: which ids revoke accepts, when a
 * re-registration meets a device or token already there, and when a
 * profile may be published.  No SQL: the
 * questions go through store.h (store_device_get, store_token_get),
 * which hands them to the handle's own backend.
 */
#ifndef MUSTER_STORE_RULES_H
#define MUSTER_STORE_RULES_H

#include <stddef.h>

#include "muster/err.h"
#include "store.h"

/* Returns 1 when id is exactly len lowercase hex digits, else 0. */
int	store_rules_hex_id(const char *id, size_t len);

/*
 * What revoke's id names: 0 with *token 1 (a token id) or 0 (a device
 * id); MUSTER_EDATA "not a device or token id" for anything else.
 */
int	store_rules_revoke_id(const char *id, int *token, struct muster_err *e);

/*
 * Re-registration of d on st, where d->id is already there: 0 with *res
 * STORE_DUPLICATE when it is the same device (its key) and not revoked;
 * MUSTER_ETRUST for another key or a revoked device; MUSTER_ENOINPUT
 * when st holds no such device (the re-registration goes on); other
 * errors as store_device_get.
 */
int	store_rules_known(struct store *st, const struct store_device *d,
	    enum store_put *res, struct muster_err *e);

/*
 * Whether the token d->token_id may enrol d: 0 when st knows it unused
 * and not revoked; MUSTER_ETRUST "token revoked" or "token used by
 * another device"; other errors as store_token_get.
 */
int	store_rules_token_free(struct store *st, const struct store_device *d,
	    struct muster_err *e);

/*
 * Before a profile is published: MUSTER_EDATA "profile too large" when
 * len or siglen is over its bound, else 0 with hash the BLAKE2b-256 of
 * the len bytes.
 */
int	store_rules_profile_hash(const char *bytes, size_t len, size_t siglen,
	    unsigned char hash[STORE_HASH_LEN], struct muster_err *e);

/*
 * Whether p may be published over the newest stored version of its id
 * (serial; same: its hash is p's): 1 yes; 0 with *res STORE_DUPLICATE
 * (the same bytes again) or STORE_REPLAY (a serial not above serial).
 */
int	store_rules_profile_newer(const struct profile *p, int64_t serial,
	    int same, enum store_put *res);

/*
 * store_profile_put of both backends: store_profile_publish, a replay
 * (serial not above the published one) refused with MUSTER_ETRUST.
 */
int	store_rules_profile_put(struct store *st, const struct profile *p,
	    const char *bytes, size_t len, const char *sig, size_t siglen,
	    struct muster_err *e);

#endif
