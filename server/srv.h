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

struct srv {
	struct config		*cfg;		/* owned */
	struct store		*wst;		/* the writer's handle */
	struct writer		*writer;
	struct MHD_Daemon	*mhd;
	char			*tls_cert;	/* PEM */
	char			*tls_key;	/* PEM, sodium_malloc'd */
	size_t			 tls_key_len;

	struct trust		*trust;		/* roots and manifests */
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

/* Starts listening; MUSTER_EUNAVAIL when the address cannot be bound. */
int	srv_listen(struct srv *s, struct muster_err *e);

/*
 * Waits for signals: SIGHUP reloads (roots or org key, published
 * profiles), SIGTERM and SIGINT return; every SRV_WATCH_INTERVAL it
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
 * Re-reads the roots (or the org key), the manifests and the published
 * profiles, and checks the manifests' expiry; 0 or MUSTER_E*.
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

#endif
