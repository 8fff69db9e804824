/*
 * srvsync: several muster-server processes on one PostgreSQL store serve
 * one truth.  Everything a request decides by (devices, tokens,
 * revocations, reports, profiles by id) is read from the store on every
 * request; what a server keeps in memory between requests -- the trust
 * (uploaded roots, manifests) and the profile each scope is served -- is
 * kept in the store too (store_doc_*), and every SRVSYNC_INTERVAL each
 * server asks the store whether anything was published through any
 * server (store_generation) and, when so, reloads as on SIGHUP.  So a
 * publication through one server is served by all within
 * SRVSYNC_INTERVAL plus one reload; a revocation at once.
 *
 * With an SQLite store (one server) none of this runs.
 */
#ifndef MUSTER_SERVER_SRVSYNC_H
#define MUSTER_SERVER_SRVSYNC_H

#include <time.h>

#include "muster/err.h"
#include "srv.h"

#define SRVSYNC_INTERVAL	2	/* seconds between polls */

/*
 * With a PostgreSQL store: keeps s's trust documents in the store (the
 * writer writes them; each thread reads through its own handle) and
 * loads what is there.  A no-op with SQLite.  Returns 0 or what
 * trust_reload returns.
 */
int	srvsync_attach(struct srv *s, struct muster_err *e);

/*
 * Called by srv_wait: when SRVSYNC_INTERVAL has passed since the last
 * poll, asks the store's generation and reloads when it changed (errors
 * are logged; the next poll tries again).  Lowers *wait to when the next
 * poll is due.  A no-op with SQLite.
 */
void	srvsync_tick(struct srv *s, struct timespec *wait);

#endif
