/*
 * fetch: the reporter's one HTTPS exchange, with libcurl.  The pin is the
 * only verification of the server and it cannot be switched off.
 */
#ifndef MUSTER_REPORTER_FETCH_H
#define MUSTER_REPORTER_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define FETCH_CONNECT_TIMEOUT	10L	/* seconds */
#define FETCH_TOTAL_TIMEOUT	60L	/* seconds */

struct https_conn;
struct tlssess;

struct fetch_result {
	uint32_t	 outcome;	/* FRAME_OK or FRAME_E* */
	uint32_t	 status;	/* HTTP status when FRAME_OK */
	uint32_t	 retry_after;	/* seconds, at most FRAME_RETRY_MAX */
	long		 connects;	/* new connections the exchange made */
	int		 resumed;	/* its connection resumed a session */
	char		 etag[FRAME_ETAG_MAX + 1];
	char		 msg[FRAME_MSG_MAX + 1];	/* printable ASCII */
	unsigned char	*body;		/* malloc'd, at most FRAME_RESP_BODY_MAX */
	size_t		 body_len;
};

/*
 * Performs rq (already checked by frame_request_read) on hc, the
 * session's one client, and fills *res; fresh forbids reusing the
 * connection (the pin or the server changed).  ts, when not NULL,
 * offers and captures TLS sessions on a new connection (tlssess.h).
 * Never fails as a whole: a failure is an outcome with a message.  The
 * caller frees res->body.
 */
void	fetch_run(struct https_conn *hc, struct tlssess *ts,
	    const struct frame_request *rq, int fresh,
	    struct fetch_result *res);

#endif
