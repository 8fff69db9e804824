/*
 * http: the HTTPS front of the server on libmicrohttpd.  Method, path,
 * Content-Type, Content-Length and the admin token are checked from the
 * headers alone, before anything is allocated for the request; a body is
 * then buffered up to limits.max_body, counted as it arrives (chunked
 * uploads too), and handed to its route (route.h).
 */
#ifndef MUSTER_SERVER_HTTP_H
#define MUSTER_SERVER_HTTP_H

#include <stdarg.h>
#include <sys/socket.h>

#include "muster/err.h"
#include "config.h"
#include "front.h"

struct srv;

/* libmicrohttpd's error logger. */
typedef void (*http_log_fn)(void *cls, const char *fmt, va_list ap);

struct http_gen;

/*
 * Starts a generation of daemons for cfg's limits with the TLS identity
 * cert and key (PEM): one for the device listeners and, if admin, one
 * for the admin listeners.  They take connections only from http_add
 * (no socket of their own) once http_gen_swap made them current.
 * Returns 0 and *out, or MUSTER_ECONFIG (bad certificate or key, a key
 * that is not the certificate's, limits MHD refuses).
 */
int	http_gen_start(struct srv *s, const struct config *cfg,
	    const char *cert, const char *key, int admin, http_log_fn log,
	    struct http_gen **out, struct muster_err *e);

/* Stops g's daemons (closing their connections) and frees it; NULL ok. */
void	http_gen_free(struct http_gen *g);

/*
 * Makes g the generation new connections go to; the one before is
 * retired and stopped by http_reap once its last connection ended.
 */
void	http_gen_swap(struct srv *s, struct http_gen *g);

/* Stops and frees every retired generation that serves no connection. */
void	http_reap(struct srv *s);

/*
 * Hands an accepted connection (fd, from the front) to the current
 * generation's daemon for kind, which closes it in any case.  Returns 0,
 * or -1 when it was refused (and closed).
 */
int	http_add(struct srv *s, enum front_kind kind, int fd,
	    const struct sockaddr *addr, socklen_t len);

/*
 * Sets s->stopping and stops accepting connections (front_stop); waits
 * up to grace seconds for requests in flight to be answered; refuses
 * further writes (503) and waits until the writer has the outcome of
 * every write handed to it (the writer must still run); then stops
 * every generation's daemons.
 */
void	http_stop(struct srv *s, unsigned grace);

#endif
