/*
 * admins: named administrators and their roles (docs/operations.md,
 * "Administrators").
 *
 * A credential is 32 random bytes shown once as 64 lowercase hex digits,
 * the form of `muster-enroll init`'s admin.token, so that muster-enroll
 * publish/revoke/manifest/root send it unchanged as "Authorization:
 * Bearer <hex>".  The store keeps BLAKE2b-256 of those 64 digits (what
 * server.cfg's admin_token_hash already is): with 256 bits of entropy
 * there is nothing to guess, so a slow password hash would only cost
 * every request CPU, and preimage resistance is all a stolen store must
 * not give.  A credential is checked against every administrator's hash
 * with sodium_memcmp, all of them, so timing says nothing of which one
 * came close.
 */
#ifndef MUSTER_SERVER_ADMINS_H
#define MUSTER_SERVER_ADMINS_H

#include <stddef.h>

#include "muster/err.h"
#include "audit.h"
#include "store.h"

#define ADMINS_ROLE_PUBLISH	0x1u	/* profiles, manifests, roots */
#define ADMINS_ROLE_REVOKE	0x2u	/* org-signed revocations */
#define ADMINS_ROLE_READ	0x4u	/* roll-ups, device lists, console */
#define ADMINS_ROLE_METRICS	0x8u	/* /metrics */
#define ADMINS_ROLE_ALL		0xfu
#define ADMINS_ROLES_MAX	sizeof "publish,revoke,read,metrics"
#define ADMINS_TOKEN_BYTES	32
#define ADMINS_TOKEN_HEX	(2 * ADMINS_TOKEN_BYTES + 1)
#define ADMINS_CREDENTIAL_MAX	256	/* bytes after "Bearer " */
#define ADMINS_BOOTSTRAP_NAME	"admin"

/* Who a credential is. */
struct admins_who {
	char		name[STORE_ADMIN_NAME_MAX + 1];
	unsigned	roles;
};

/* Whether name is [a-z0-9][a-z0-9._-]{0,63}: 1 or 0. */
int	admins_name_ok(const char *name);

/*
 * Parses a comma-separated list of role names ("publish,revoke", or
 * "all") into *roles; 0, or MUSTER_EUSAGE naming the bad word.
 */
int	admins_roles_parse(const char *s, unsigned *roles,
	    struct muster_err *e);

/* Writes roles as "publish,revoke,..." ("-" for none) into buf; buf. */
const char *admins_roles_format(unsigned roles, char buf[ADMINS_ROLES_MAX]);

/* The name of the one role bit role ("publish", ...), or "?". */
const char *admins_role_name(unsigned role);

/*
 * A new credential into tok (64 hex digits and a NUL, the caller's; wipe
 * it after use) and its hash into hash.
 */
void	admins_token_new(char tok[ADMINS_TOKEN_HEX],
	    unsigned char hash[STORE_HASH_LEN]);

/* BLAKE2b-256 of the credential's n bytes into hash. */
void	admins_token_hash(const char *tok, size_t n,
	    unsigned char hash[STORE_HASH_LEN]);

/*
 * Finds the administrator an Authorization header value ("Bearer ...",
 * NULL when absent) belongs to, among the n of list, comparing in
 * constant time against all of them.  Returns 1 with *who filled, or 0.
 */
int	admins_match(const struct store_admin *list, size_t n,
	    const char *authorization, struct admins_who *who);

/*
 * Adds the administrator of a configuration's admin_token_hash
 * (ADMINS_BOOTSTRAP_NAME, every role) to the store of sa, once in its
 * life (store_admin_bootstrap); *added says whether it did now.
 */
int	admins_bootstrap(struct store_adm *sa,
	    const unsigned char hash[STORE_HASH_LEN], int *added,
	    struct muster_err *e);

/*
 * Opens the audit log of the store at where with its key in dir
 * (audit_open_store, log_ckpt as there) into a new *out and adds the
 * bootstrap administrator of hash (server.cfg's admin_token_hash) if the
 * store never had one, which is then the log's entry "bootstrap".  What
 * the server and `muster-server admin|audit` open first.
 */
int	admins_open(const char *where, const char *dir,
	    const unsigned char hash[STORE_HASH_LEN], int log_ckpt,
	    struct audit **out, struct muster_err *e);

#endif
