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
#include "writer.h"

#define SRV_PROG		"muster-server"
#define SRV_NSCOPES		2	/* SCOPE_PERSONNEL, SCOPE_FAMILY */

/* The profile served to one scope, with its answer ready to send. */
struct srv_profile {
	int		 present;
	char		 id[PROFILE_ID_MAX + 1];
	int64_t		 serial;
	char		*json;		/* the profile object of protocol.md */
	size_t		 len;
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

	pthread_mutex_t		 key_mu;
	struct sig_pubkey	 org_key;

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
};

/*
 * Builds the server from cfg (taking ownership of it): loads the org key
 * and the TLS files, opens the store and starts the writer.  MUSTER_ECONFIG
 * for a bad key or file; *out is NULL on failure.
 */
int	srv_init(struct config *cfg, struct srv **out, struct muster_err *e);

/* Starts listening; MUSTER_EUNAVAIL when the address cannot be bound. */
int	srv_listen(struct srv *s, struct muster_err *e);

/*
 * Waits for signals: SIGHUP reloads (org key, published profiles),
 * SIGTERM and SIGINT return.  The caller must have blocked those signals
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

/* Re-reads the org key and the published profiles; 0 or MUSTER_E*. */
int	srv_reload(struct srv *s, struct muster_err *e);

/* A copy of the current org key. */
void	srv_org_key(struct srv *s, struct sig_pubkey *pk);

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

/* Reloads the profile cache for scope from the store. */
int	srv_profile_reload(struct srv *s, enum profile_scope scope,
	    struct muster_err *e);

#endif
