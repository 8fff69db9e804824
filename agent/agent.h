/*
 * muster-agent: the on-device agent.  main.c parses the global options
 * (--state, --device) and dispatches to one function per command; each
 * returns the process exit code.
 */
#ifndef MUSTER_AGENT_H
#define MUSTER_AGENT_H

#include <getopt.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/token.h"
#include "muster/url.h"

#define AGENT_PROG		"muster-agent"
#define AGENT_STATE_DEFAULT	"/var/lib/muster"
#define AGENT_DEVICE_DEFAULT	"android"
#define AGENT_CFG		"agent.cfg"
#define AGENT_ANCHOR		"org.pub"
#define AGENT_PROFILES		"profiles"
#define AGENT_LASTCHECK		"last-check.cfg"
#define AGENT_LOCK		"lock"
#define AGENT_LEAVING		"leaving"
#define AGENT_CFG_MAX		(64 * 1024)
#define AGENT_MAX_PROFILES	64

struct agent_opts {
	const char	*state;		/* --state DIR */
	const char	*device;	/* --device SPEC */
};

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
 * Commands (argv[0] is the command's name).  --state and --device are
 * accepted before the command and after it alike.
 */
int	cmd_trust(struct agent_opts *o, int argc, char **argv);
int	cmd_install(struct agent_opts *o, int argc, char **argv);
int	cmd_check(struct agent_opts *o, int argc, char **argv);
int	cmd_status(struct agent_opts *o, int argc, char **argv);
int	cmd_explain(struct agent_opts *o, int argc, char **argv);
int	cmd_enroll(struct agent_opts *o, int argc, char **argv);
int	cmd_run(struct agent_opts *o, int argc, char **argv);
int	cmd_log(struct agent_opts *o, int argc, char **argv);
int	cmd_unenroll(struct agent_opts *o, int argc, char **argv);

/* The getopt_long entries every command accepts, and their handler. */
#define AGENT_COMMON_OPTS \
	{ "state", required_argument, NULL, 'S' }, \
	{ "device", required_argument, NULL, 'D' }, \
	{ "help", no_argument, NULL, 'h' }
int	agent_common_opt(struct agent_opts *o, int c);

/*
 * Parses a command's options with getopt_long: common ones go to o, others
 * to fn (which returns 0, or -1 for a bad option).  Returns -1 and sets
 * *exitcode (0 after --help, 64 after a usage error) when the command
 * should stop; otherwise the index of the first operand.
 */
int	agent_getopt(struct agent_opts *o, int argc, char **argv,
	    const char *shortopts, const struct option *opts,
	    const char *usage, int (*fn)(void *, int, const char *),
	    void *arg, int *exitcode);

/* Prints "muster-agent: MSG" on stderr; returns the exit code for rc. */
int	agent_fail(int rc, const struct muster_err *e);
int	agent_usage(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * state: the agent's directory (0700, files 0600, every write temp + fsync
 * + rename).  state_open creates dir when missing (its parent must exist)
 * and refuses one that others can read or write (MUSTER_ECONFIG).
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

int	state_lastcheck_store(const char *dir, const struct state_lastcheck *l,
	    struct muster_err *e);
/* Returns 0 and *l, or MUSTER_ENOINPUT when no check has run. */
int	state_lastcheck_load(const char *dir, struct state_lastcheck *l,
	    struct muster_err *e);

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
 * Verifies a profile object from the server with pk without installing
 * it: the signature over the exact bytes, the labels, expiry and scope.
 * Returns 0 with the parsed profile in *out (profile_free), MUSTER_EDATA
 * or MUSTER_ETRUST.
 */
int	install_profile_json_check(const struct sig_pubkey *pk,
	    enum profile_scope scope, const char *name, json_t *obj,
	    struct profile **out, struct muster_err *e);

/* Prints what a compliance report of scope carries (explain's wording). */
void	info_report_fields(enum profile_scope scope);

#endif
