/*
 * state: the agent's directory (--state DIR, default /var/lib/muster):
 * the trust anchor, agent.cfg, the installed profiles, the last check and
 * the lock.  0700, files 0600, every write temp + fsync + rename.
 */
#ifndef MUSTER_AGENT_STATE_H
#define MUSTER_AGENT_STATE_H

#include <stddef.h>
#include <time.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/token.h"
#include "muster/url.h"

/* The files of the state directory. */
#define STATE_CFG		"agent.cfg"
#define STATE_ANCHOR		"org.pub"
#define STATE_PROFILES		"profiles"
#define STATE_LASTCHECK		"last-check.cfg"
#define STATE_LOCK		"lock"
#define STATE_LEAVING		"leaving"
#define STATE_CFG_MAX		(64 * 1024)
#define STATE_MAX_PROFILES	64

/* The trust anchor and what was set with it. */
struct state_anchor {
	struct sig_pubkey	pk;
	enum profile_scope	scope;
};

/* An installed profile, verified again each time it is loaded. */
struct state_profile {
	struct profile	*p;
	char		*bytes;		/* the signed profile bytes */
	size_t		 len;
};

/*
 * agent.cfg: the anchor's scope and key id (set by trust or enroll), and
 * after enrollment the server, its pin, the device id the server gave and
 * the id of the profile the server manages ("" when unset).
 */
struct state_cfg {
	enum profile_scope	scope;
	char			key_id[SIG_KEYID_HEX];
	char			server[URL_MAX + 1];
	char			pin[TOKEN_PIN_MAX];
	char			device_id[DEVICE_ID_HEX];
	char			profile_id[PROFILE_ID_MAX + 1];
};

struct state_lastcheck {
	time_t		time;
	int		compliant;
	unsigned	pass, fail, remediated, error;
};

/*
 * Opens the state directory: creates dir when missing (its parent must
 * exist) if create is set, and refuses one that others can read or write
 * (MUSTER_ECONFIG).
 */
int	state_open(const char *dir, int create, struct muster_err *e);

/* Reads the anchor; MUSTER_ECONFIG "no trust anchor" when none is set. */
int	state_anchor_load(const char *dir, struct state_anchor *a,
	    struct muster_err *e);

/* Sets the anchor once; MUSTER_ETRUST if one is already set. */
int	state_anchor_set(const char *dir, const struct sig_pubkey *pk,
	    enum profile_scope scope, struct muster_err *e);

/*
 * Loads every installed profile, each verified against a->pk again
 * (a state file that no longer verifies is MUSTER_ETRUST).  *list is a
 * malloc'd array of *n entries sorted by id (state_profiles_free).
 */
int	state_profiles_load(const char *dir, const struct state_anchor *a,
	    struct state_profile **list, size_t *n, struct muster_err *e);
void	state_profiles_free(struct state_profile *list, size_t n);

/*
 * Installs a verified profile: the signature file and the profile bytes
 * are written together as one file, so a crash leaves either the old or
 * the new profile, never a mix.
 */
int	state_profile_store(const char *dir, const struct profile *p,
	    const char *bytes, size_t len, const char *sig, size_t siglen,
	    struct muster_err *e);

/*
 * Reads agent.cfg, checking every field's form (a damaged or hand-edited
 * file is MUSTER_ECONFIG); fields not set read as "".
 */
int	state_cfg_load(const char *dir, struct state_cfg *c,
	    struct muster_err *e);

/* Checks c's fields and rewrites agent.cfg atomically (0600). */
int	state_cfg_store(const char *dir, const struct state_cfg *c,
	    struct muster_err *e);

/* 1 if s is 32 lowercase hex digits (a device id). */
int	state_device_id_ok(const char *s);

/*
 * Takes the state's lock (STATE/lock, flock) so that two agents never
 * use one state at once: *fd holds it until closed.  With wait 0 a held
 * lock is MUSTER_ETEMP at once.
 */
int	state_lock(const char *dir, int wait, int *fd, struct muster_err *e);

/*
 * Removes the temporary files an interrupted write (a crash, a power cut)
 * left in dir and dir/profiles: regular files named NAME.tmp.<16 hex>, as
 * fs_write_atomic makes them, last written more than STATE_TMP_AGE
 * seconds ago (commands that write without the lock may be writing one
 * now).  Best effort: errors are ignored.
 */
#define STATE_TMP_AGE	60
void	state_tidy(const char *dir);

/* Writes l to last-check.cfg atomically (0600). */
int	state_lastcheck_store(const char *dir, const struct state_lastcheck *l,
	    struct muster_err *e);
/* Returns 0 and *l, or MUSTER_ENOINPUT when no check has run. */
int	state_lastcheck_load(const char *dir, struct state_lastcheck *l,
	    struct muster_err *e);

#endif
