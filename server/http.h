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

struct srv;

/* libmicrohttpd's error logger. */
typedef void (*http_log_fn)(void *cls, const char *fmt, va_list ap);

/*
 * Starts the daemon on addr (IPv6 if v6) with s's TLS identity and limits;
 * s->mhd is set on success.  Returns 0 or MUSTER_ECONFIG.
 */
int	http_start(struct srv *s, const struct sockaddr *addr, int v6,
	    http_log_fn log, struct muster_err *e);

/*
 * Sets s->stopping and stops accepting connections; waits up to grace
 * seconds for requests in flight to be answered; refuses further writes
 * (503) and waits until the writer has the outcome of every write handed
 * to it (the writer must still run); then stops the daemon.
 */
void	http_stop(struct srv *s, unsigned grace);

#endif
