/*
 * front: the server's listening sockets and its own accept loop, in
 * front of libmicrohttpd (which gets each connection by
 * MHD_add_connection).  Owning accept lets the server
 *
 * - bind every listen and admin_listen address as root, before it drops
 *   to its user, and keep them across reloads (a new TLS identity is a
 *   new MHD daemon fed by the same sockets: no connection dropped);
 * - hold every TLS handshake to a deadline of its own
 *   (limits.handshake_timeout from accept), shorter than a request's, so
 *   that a client stalled inside the handshake (half a ClientHello) is
 *   closed sooner;
 * - hold every request to a deadline that a trickle of bytes cannot
 *   extend (limits.request_timeout, from accept or from the previous
 *   answer until the whole request is in): past it, the socket is shut
 *   down and MHD closes the connection;
 * - keep connections that have not yet sent a complete header block
 *   ("half-open": TLS handshake or headers under way) apart from those
 *   that have: at most max_half_open of them (a newcomer closes the
 *   oldest), max_half_open_per_ip per address and max_half_open_per_net
 *   per /24 (IPv4) or /64 (IPv6); a slow-loris spread over many
 *   addresses holds at most those slots, for at most request_timeout.
 *
 * Thread-safe: one lock guards the connections; MHD's threads call the
 * front_conn_* hooks.
 */
#ifndef MUSTER_SERVER_FRONT_H
#define MUSTER_SERVER_FRONT_H

#include <stddef.h>

#include "muster/err.h"

struct srv;
struct config;
struct front;
struct front_conn;

/* What one listener serves. */
enum front_kind {
	FRONT_DEVICE,		/* device routes, /healthz */
	FRONT_ADMIN,		/* admin routes, /metrics, /healthz */
	FRONT__N
};

/* Counters since start (front_stats). */
struct front_stats {
	unsigned long	accepted;
	unsigned long	refused_ip;	/* over max_half_open_per_ip */
	unsigned long	refused_net;	/* over max_half_open_per_net */
	unsigned long	evicted;	/* oldest half-open closed */
	unsigned long	deadline;	/* cut at request_timeout */
	unsigned long	handshake;	/* cut at handshake_timeout */
	unsigned	half_open;	/* now */
	unsigned	open;		/* now */
};

/*
 * Binds and listens on every address of the configuration c (IPV6_V6ONLY
 * set on each IPv6 socket, so "::" is IPv6 and "0.0.0.0" IPv4); does not
 * accept yet.  Returns 0 and *out (front_free), MUSTER_EUNAVAIL naming
 * the address that cannot be bound.
 */
int	front_bind(const struct config *c, struct front **out,
	    struct muster_err *e);

/* The port the first socket of f is bound to (0 on error). */
unsigned front_port(const struct front *f);

/* Whether f listens for kind (an admin listener is optional). */
int	front_has(const struct front *f, enum front_kind kind);

/*
 * Starts the accept thread for s: each connection is checked against
 * the limits of s's configuration in force and handed to http_add for
 * its listener's kind.  0 or MUSTER_EOS.
 */
int	front_start(struct front *f, struct srv *s, struct muster_err *e);

/*
 * Stops accepting and closes the listening sockets (the kernel refuses
 * new connections from then on); connections already handed over stay
 * with their daemons.  Idempotent.
 */
void	front_stop(struct front *f);

/* Stops the thread if running, closes every socket and frees f. */
void	front_free(struct front *f);

/*
 * Hooks for http.c.  started: MHD took the connection on fd; returns the
 * tracked connection (NULL if unknown), to keep as its socket context.
 * handshaken: its TLS handshake is done (the handshake deadline no longer
 * applies; called from inside the handshake, on MHD's thread).
 * headers: its header block is complete (no longer half-open).  busy: the
 * request is whole and being answered (no deadline while the server
 * works).  answered: the answer is out; the next request on the
 * connection has request_timeout from now.  closed: forget it.  NULL is
 * a no-op for all but started.  busy and closed return 1 when the
 * connection left the fresh count (front_fresh) by it.
 */
struct front_conn *front_conn_started(struct front *f, int fd);
void	front_conn_handshaken(struct front_conn *c);
void	front_conn_headers(struct front *f, struct front_conn *c);
int	front_conn_busy(struct front *f, struct front_conn *c);
void	front_conn_answered(struct front *f, struct front_conn *c);
int	front_conn_closed(struct front *f, struct front_conn *c);

/*
 * Fresh connections: on a device listener, accepted and without a whole
 * first request yet (TLS handshake, headers or body under way): nearly
 * all of them check-ins about to post a report.  The count, read without
 * a lock (f is a struct front; the signature is writer_siblings').
 */
unsigned front_fresh(void *f);

/* Milliseconds since c's current request's headers arrived; -1: none. */
long long front_conn_elapsed_ms(const struct front_conn *c);

/* The client's address as text ("192.0.2.1", "2001:db8::1"). */
const char *front_conn_addr(const struct front_conn *c);

/* A snapshot of f's counters. */
void	front_stats(struct front *f, struct front_stats *st);

#endif
