/*
 * install: a signed profile checked and installed into the state, from a
 * file (`muster-agent install`) or from the server's profile object.
 */
#ifndef MUSTER_AGENT_INSTALL_H
#define MUSTER_AGENT_INSTALL_H

#include <stddef.h>

#include <jansson.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "state.h"

/*
 * Installs a profile given in memory (name and signame for messages) with
 * every check of `muster-agent install`: size caps, the signature over
 * these exact bytes against a's key, then parse, expiry, scope, and no
 * rollback (an equal serial must be byte-identical).  Returns 0 when
 * installed, 1 when the identical profile was already installed, or the
 * refusal (MUSTER_ETRUST, MUSTER_EDATA); the installed profiles are kept
 * on any refusal.  *out (if out is not NULL) gets the parsed profile on
 * 0 or 1 (profile_free).
 */
int	install_profile(const char *dir, const struct state_anchor *a,
	    const char *name, const char *buf, size_t len, const char *signame,
	    const char *sig, size_t siglen, struct profile **out,
	    struct muster_err *e);

/*
 * The same for a profile object from the server: {"id", "serial",
 * "profile": base64 of the exact bytes, "signature": the .minisig text}.
 * The unsigned id and serial must be the signed profile's (MUSTER_ETRUST).
 */
int	install_profile_json(const char *dir, const struct state_anchor *a,
	    const char *name, json_t *obj, struct profile **out,
	    struct muster_err *e);

/*
 * Verifies a profile object from the server against a's policy role
 * without installing it: the signature over the exact bytes, the labels,
 * expiry and a's scope.  Returns 0 with the parsed profile in *out
 * (profile_free) and, when hash is not NULL, the BLAKE2b-256 hex of its
 * exact bytes in hash; MUSTER_EDATA or MUSTER_ETRUST.
 */
int	install_profile_json_check(const struct state_anchor *a,
	    const char *name, json_t *obj, struct profile **out,
	    char hash[SIGSET_HASH_HEX], struct muster_err *e);

/*
 * Judges p, a profile verified from the len bytes at bytes, against a's
 * scope, the clock and the profiles installed in dir: expired, another
 * scope, or a serial lower than the installed one of its id (or equal
 * with other bytes) is MUSTER_ETRUST.  Returns 0 to install, 1 when the
 * identical profile is installed, or the refusal.
 */
int	install_judge(const char *dir, const struct state_anchor *a,
	    const struct profile *p, const char *bytes, size_t len,
	    const char *name, struct muster_err *e);

/* A profile object of the wire (id, serial, profile, signature), decoded. */
struct install_obj {
	unsigned char	*bytes;	/* the profile, malloc'd */
	size_t		 len;
	const char	*sig;	/* the signature and the id point */
	const char	*id;	/* into the JSON object */
	json_int_t	 serial;
};

/*
 * Decodes a profile object (id, serial, profile: base64, signature) into
 * *io; io->bytes is NUL-terminated and the caller frees it (NULL on
 * failure).  Nothing is verified.  Returns 0, MUSTER_EDATA or
 * MUSTER_EINTERNAL.
 */
int	install_json_decode(const char *name, json_t *obj,
	    struct install_obj *io, struct muster_err *e);

struct cmd_opts;

/* `muster-agent trust` and `muster-agent install`; return the exit code. */
int	install_cmd_trust(struct cmd_opts *o, int argc, char **argv);
int	install_cmd_install(struct cmd_opts *o, int argc, char **argv);

#endif
