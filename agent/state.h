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
#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/root.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/token.h"
#include "muster/url.h"

/* The files of the state directory. */
#define STATE_CFG		"agent.cfg"
#define STATE_ANCHOR		"org.pub"
#define STATE_ROOT		"root.json"
#define STATE_MANIFEST		"manifest.json"
#define STATE_CONSENTED		"consented.profile"	/* family */
#define STATE_DOC_MAX		(256 * 1024)	/* a signed document as JSON */
#define STATE_PROFILES		"profiles"
#define STATE_LASTCHECK		"last-check.cfg"
#define STATE_LOCK		"lock"
#define STATE_LEAVING		"leaving"
#define STATE_CFG_MAX		(64 * 1024)
#define STATE_MAX_PROFILES	64

/*
 * The trust anchor and what was set with it: either the first wave's org
 * key (org.pub; has_root 0, root is root_legacy of it once the server and
 * pin are known) or the org's root of trust (root.json; has_root 1, pk
 * zeroed).  Profiles verify against root's policy role (the org key for
 * a legacy anchor).
 */
struct state_anchor {
	struct sig_pubkey	pk;
	enum profile_scope	scope;
	int			has_root;
	struct root		root;
};

/* An installed profile, verified again each time it is loaded. */
struct state_profile {
	struct profile	*p;
	char		*bytes;		/* the signed profile bytes */
	size_t		 len;
	char		*sig;		/* its minisign signature */
	size_t		 siglen;
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
 * Sets a root (ss, already verified: root_verify_self) as the anchor of
 * a device of scope, once: MUSTER_ETRUST if an org key or another root
 * is set already (the identical root is accepted again, for an
 * enrollment that did not finish).  ss->version is set from the root.
 */
int	state_root_set(const char *dir, struct sigset *ss,
	    enum profile_scope scope, struct muster_err *e);

/*
 * Loads STATE/root.json: the signed document, verified again against
 * its own root threshold.  *ss (may be NULL) is the caller's
 * (sigset_free).  MUSTER_ENOINPUT when there is none; MUSTER_ETRUST or
 * MUSTER_ECONFIG for a damaged file.
 */
int	state_root_load(const char *dir, struct sigset **ss, struct root *r,
	    struct muster_err *e);

/*
 * Replaces STATE/root.json with ss (a root the caller accepted with
 * root_update), atomically; ss->version must be set.
 */
int	state_root_store(const char *dir, const struct sigset *ss,
	    struct muster_err *e);

/*
 * The key of a's policy role whose id is keyid (the org key of a legacy
 * anchor), or NULL: the keys a profile may be signed by.
 */
const struct sig_pubkey *state_policy_key(const struct state_anchor *a,
	    const unsigned char keyid[SIG_KEYID_BYTES]);

/*
 * Verify, then parse: profile_verify of the len bytes at buf with the
 * policy key (of a) that the signature names.  Returns what
 * profile_verify returns, or MUSTER_ETRUST for a key outside the role.
 */
int	state_profile_verify(const struct state_anchor *a, const char *name,
	    const char *buf, size_t len, const char *signame, const char *sig,
	    size_t siglen, struct profile **out, struct muster_err *e);

/*
 * Loads STATE/manifest.json, the newest manifest accepted for the
 * device's scope, verified again against a's root (manifest_verify).
 * *ss (may be NULL) is the caller's.  MUSTER_ENOINPUT when none is held;
 * MUSTER_ETRUST when it no longer verifies (the policy keys rotated);
 * MUSTER_EDATA or MUSTER_ECONFIG when damaged.
 */
int	state_manifest_load(const char *dir, const struct state_anchor *a,
	    struct sigset **ss, struct manifest *m, struct muster_err *e);

/* Replaces STATE/manifest.json with ss (version set), atomically. */
int	state_manifest_store(const char *dir, const struct sigset *ss,
	    struct muster_err *e);

/* Removes STATE/manifest.json (a missing one is fine). */
int	state_manifest_remove(const char *dir, struct muster_err *e);

/*
 * Removes every installed profile that no longer verifies against a's
 * policy role (after a root rotation removed its key); *n counts them.
 * Damaged files and other errors are left for state_profiles_load to
 * report.  Returns 0 or a local error.
 */
int	state_profiles_purge(const char *dir, const struct state_anchor *a,
	    size_t *n, struct muster_err *e);

/* Removes the installed profile id (a missing one is fine). */
int	state_profile_remove(const char *dir, const char *id,
	    struct muster_err *e);

/*
 * Loads every installed profile, each verified against a's policy role again
 * (a state file that no longer verifies is MUSTER_ETRUST).  *list is a
 * malloc'd array of *n entries sorted by id (state_profiles_free).
 */
int	state_profiles_load(const char *dir, const struct state_anchor *a,
	    struct state_profile **list, size_t *n, struct muster_err *e);
void	state_profiles_free(struct state_profile *list, size_t n);

/* Frees what one loaded profile holds (state_consented_load's). */
void	state_profile_clear(struct state_profile *sp);

/*
 * Installs a verified profile: the signature file and the profile bytes
 * are written together as one file, so a crash leaves either the old or
 * the new profile, never a mix.
 */
int	state_profile_store(const char *dir, const struct profile *p,
	    const char *bytes, size_t len, const char *sig, size_t siglen,
	    struct muster_err *e);

/*
 * A family device's copy of the profile its member consented to
 * (STATE/consented.profile, as an installed profile is kept): while a
 * changed family profile waits for consent, this one is evaluated.
 * state_consented_load verifies it again (MUSTER_ENOINPUT: none kept).
 */
int	state_consented_store(const char *dir, const char *bytes, size_t len,
	    const char *sig, size_t siglen, struct muster_err *e);
int	state_consented_load(const char *dir, const struct state_anchor *a,
	    struct state_profile *sp, struct muster_err *e);

/*
 * Reads agent.cfg, checking every field's form (a damaged or hand-edited
 * file is MUSTER_ECONFIG); fields not set read as "".
 */
int	state_cfg_load(const char *dir, struct state_cfg *c,
	    struct muster_err *e);

/* Checks c's fields and rewrites agent.cfg atomically (0600). */
int	state_cfg_store(const char *dir, const struct state_cfg *c,
	    struct muster_err *e);

/*
 * Where the device talks to: the server URL and the pins (curl's
 * "pin;pin" set, at most ROOT_PINS_CURL_MAX bytes) of the root the
 * state holds, so that a rotated root's new URL or server key needs no
 * re-enrollment; for a first-wave anchor (or when no anchor loads) the
 * server and pin of agent.cfg.  Returns 0 or MUSTER_ECONFIG.
 */
int	state_endpoint(const char *dir, const struct state_cfg *c,
	    char server[URL_MAX + 1], char pins[ROOT_PINS_CURL_MAX],
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

/*
 * The TLS session the last check-in's server issued (a ticket and its
 * resumption secret: 0600, wiped from memory after use), kept for the
 * next check-in's reporter to resume (docs/protocol.md, "Session
 * resumption").  It is kept with the server URL and pin set it was issued
 * under and offered to no other.  state_tls_load sets *der (malloc'd,
 * the caller wipes and frees it) and *len, or leaves *der NULL when none
 * is kept for this server and pin set; a file that is not one is
 * MUSTER_EDATA (the caller goes on without).  state_tls_store replaces
 * it atomically; state_tls_remove removes it (a missing file is fine).
 */
#define STATE_TLS_SESSION	"tls-session"
#define STATE_TLS_MAX		(16 * 1024)
int	state_tls_load(const char *dir, const char *server, const char *pins,
	    unsigned char **der, size_t *len, struct muster_err *e);
int	state_tls_store(const char *dir, const char *server, const char *pins,
	    const unsigned char *der, size_t len, struct muster_err *e);
int	state_tls_remove(const char *dir, struct muster_err *e);

#endif
