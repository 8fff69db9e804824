/*
 * srv: the command server's state and life: configuration, org key,
 * store handles, writer, published-profile cache, the HTTP daemon, and
 * signals (SIGHUP reloads, SIGTERM/SIGINT stop cleanly).
 */
#ifndef MUSTER_SERVER_SRV_H
#define MUSTER_SERVER_SRV_H

#include <pthread.h>
#include <stdint.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/sig.h"
#include "config.h"
#include "store.h"
#include "trust.h"
#include "writer.h"

#define SRV_PROG		"muster-server"
#define SRV_NSCOPES		2	/* SCOPE_PERSONNEL, SCOPE_FAMILY */
#define SRV_WATCH_INTERVAL	3600	/* seconds between expiry checks */

/*
 * What one scope is served, with its answers ready to send: the profile
 * of GET /v1/profile (the first one the scope's manifest names, else the
 * newest published) and, for GET /v1/policy, the manifest and every
 * profile it names.
 */
struct srv_profile {
	int		 present;
	char		 id[PROFILE_ID_MAX + 1];
	int64_t		 serial;
	char		*json;		/* the profile object of protocol.md */
	size_t		 len;
	int64_t		 manifest;	/* its version; 0: none */
	char		*policy;	/* "\"manifest\":...,\"profiles\":[...]" */
	size_t		 policy_len;
};

struct srv_reader;
struct MHD_Daemon;
struct audit;
struct srv_oldcfg;
struct front;
struct http_gen;

struct srv {
	/*
	 * The configuration now in force (srv_config): a reload swaps it,
	 * and keeps the old one until srv_free, since request threads may
	 * still read it.
	 */
	struct config		*cfg;		/* owned */
	struct srv_oldcfg	*oldcfgs;
	struct store		*wst;		/* the writer's handle */
	struct writer		*writer;
	struct front		*front;		/* sockets, accept, limits */
	pthread_mutex_t		 gen_mu;
	struct http_gen		*gen;		/* serving new connections */
	struct http_gen		*retired;	/* serving their last ones */
	int			 starting;	/* MHD's words explain a failure */
	char			 start_msg[256];	/* its first, then */
	char			*tls_cert;	/* PEM, until the first start */
	int64_t			 cert_not_after; /* served cert's; atomic, 0: ? */
	char			*tls_key;	/* PEM, sodium_malloc'd */
	size_t			 tls_key_len;

	struct trust		*trust;		/* roots and manifests */
	struct audit		*audit;		/* administrators, audit log */
	time_t			 watched;	/* last manifest expiry check */

	pthread_mutex_t		 prof_mu;
	struct srv_profile	 prof[SRV_NSCOPES];

	pthread_key_t		 reader_key;
	pthread_mutex_t		 readers_mu;
	struct srv_reader	*readers;

	int			 stopping;	/* atomic */
	int			 draining;	/* atomic: no more deferred writes */
	unsigned long		 active;	/* atomic: requests in flight */
	unsigned long		 deferred;	/* atomic: writes with the writer */
	unsigned long		 resumed;	/* atomic: written, not answered */
	time_t			 synced;	/* srvsync: last poll */
	int64_t			 generation;	/* srvsync: store's, then */
};

/*
 * Builds the server from cfg (taking ownership of it): loads the TLS
 * files, opens the store, starts the writer and loads the trust (the
 * roots of root_dir, or the org key, and what was uploaded).
 * MUSTER_ECONFIG for a bad key, root or file; *out is NULL on failure.
 */
int	srv_init(struct config *cfg, struct srv **out, struct muster_err *e);

/*
 * Starts serving on the sockets f bound (taking f): the first generation
 * of daemons with the TLS identity srv_init read (wiped then), and the
 * accept thread.  MUSTER_ECONFIG for a certificate or key MHD refuses.
 */
int	srv_listen(struct srv *s, struct front *f, struct muster_err *e);

/*
 * muster-server -n: with cfg loaded, checks everything a start would
 * (the user, the TLS key and certificate and their match, the store, the
 * roots or org key, the published profiles) without binding or writing.
 * Takes cfg.  Returns 0 or MUSTER_E* with e naming the file (and line).
 */
int	srv_check(struct config *cfg, struct muster_err *e);

/* The configuration in force (any thread). */
struct config *srv_config(struct srv *s);

/*
 * Whether the store answers a cheap read on this thread's handle:
 * 0 or MUSTER_E* (GET /healthz says 503).
 */
int	srv_health(struct srv *s, struct muster_err *e);

/*
 * Waits for signals: SIGHUP reloads (srv_reload), SIGTERM and SIGINT
 * return; tells systemd each step (READY, RELOADING, STOPPING); every SRV_WATCH_INTERVAL it
 * checks the manifests' expiry (trust_manifest_watch).  The caller must have blocked those signals
 * in every thread (srv_block_signals before srv_init).
 */
void	srv_wait(struct srv *s);

/* Blocks SIGHUP, SIGTERM, SIGINT (for sigwait) and ignores SIGPIPE. */
int	srv_block_signals(struct muster_err *e);

/*
 * Stops accepting, lets requests in flight finish, stops the daemon,
 * commits everything queued, closes the store and frees s.  NULL is a
 * no-op.
 */
void	srv_free(struct srv *s);

/*
 * Reloads everything that can change without dropping a connection, all
 * or nothing: the configuration file (limits, log level, admin token,
 * manifest_warn), the TLS certificate and key (a new generation of
 * daemons on the same sockets; the old one serves its connections to
 * their end), the roots (or the org key), the manifests and the
 * published profiles; reopens the log and access log files.  A file that
 * does not load, or a change of what needs a restart (listen,
 * admin_listen, user, data_dir, root_dir, org_key, log, access_log), is
 * refused and everything loaded before keeps serving.  0 or MUSTER_E*.
 */
int	srv_reload(struct srv *s, struct muster_err *e);

/*
 * This thread's read-only store handle, opened on first use; it stays
 * valid until srv_free.  Returns 0 or MUSTER_E*.
 */
int	srv_reader(struct srv *s, struct store **st, struct muster_err *e);

/*
 * A malloc'd copy of the JSON object served to scope (*json NULL when no
 * profile is published), its id and serial.  Returns 0 or -1 (memory).
 */
int	srv_profile_copy(struct srv *s, enum profile_scope scope, char **json,
	    size_t *len, char id[PROFILE_ID_MAX + 1], int64_t *serial);

/* Reloads the profile cache for scope from the manifest and the store. */
int	srv_profile_reload(struct srv *s, enum profile_scope scope,
	    struct muster_err *e);

/*
 * For GET /v1/policy: a malloc'd copy of scope's policy fragment
 * ("\"manifest\":...,\"profiles\":[...]", the manifest null when none)
 * into *json (*len bytes) and its manifest's version (0: none) into
 * *manifest.  Returns 0 or -1 (memory).
 */
int	srv_policy_copy(struct srv *s, enum profile_scope scope, char **json,
	    size_t *len, int64_t *manifest);

/*
 * What GET /v1/policy gives as its ETag for scope now, unquoted, into
 * buf: "R:M", R the newest root version, M scope's manifest version (0:
 * none).  A report's answer carries the same (PROTO_POLICY_TAG_MAX).
 */
void	srv_policy_tag(struct srv *s, enum profile_scope scope,
	    char buf[PROTO_POLICY_TAG_MAX]);

#endif
