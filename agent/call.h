/*
 * call: a signed request from this device to its server through the
 * reporter (docs/protocol.md, "Requests from devices").
 */
#ifndef MUSTER_AGENT_CALL_H
#define MUSTER_AGENT_CALL_H

#include <stddef.h>
#include <time.h>

#include "muster/err.h"
#include "muster/sig.h"
#include "net.h"

/*
 * Sends method ("GET" or "POST") to server+path through the reporter,
 * unsigned, with headers (NULL or "Name: value\n" lines) and len bytes of
 * body (NULL when len is 0); what it points to stays the caller's.
 * Returns as net_exchange, which fills *rs (net_response_free).
 */
int	call_send(const char *method, const char *server, const char *pin,
	    const char *path, const char *headers, const void *body,
	    size_t len, struct net_response *rs, struct muster_err *e);

/*
 * POSTs len bytes of JSON at body to server+path, signed by sk over the
 * exact bytes (PROTO_HDR_SIGNATURE), with PROTO_HDR_DEVICE: device unless
 * device is NULL (enrollment).  With sk NULL the request is not signed (the
 * family profile preview, before a device key exists).  Returns as
 * net_exchange.
 */
int	call_post(const char *server, const char *pin, const char *device,
	    const struct sig_seckey *sk, const char *path, const char *body,
	    size_t len, struct net_response *rs, struct muster_err *e);

/*
 * GETs server+path, signed over PROTO_GET_PREFIX "<path>\n<time>\n" with
 * PROTO_HDR_TIME set to now; extra (NULL or "Name: value\n" lines) is added.
 */
int	call_get(const char *server, const char *pin, const char *device,
	    const struct sig_seckey *sk, const char *path, const char *extra,
	    struct net_response *rs, struct muster_err *e);

/*
 * The three above within a session (agent/net.h: one reporter and one
 * connection for a whole check-in; NULL: a session of their own), the
 * GET stamped with the time when (the device's clock corrected by the
 * offset the server measured, agent/clock.h) rather than now.
 */
int	call_send_in(struct net_session *ns, const char *method,
	    const char *server, const char *pin, const char *path,
	    const char *headers, const void *body, size_t len,
	    struct net_response *rs, struct muster_err *e);
int	call_post_in(struct net_session *ns, const char *server,
	    const char *pin, const char *device, const struct sig_seckey *sk,
	    const char *path, const char *body, size_t len,
	    struct net_response *rs, struct muster_err *e);
int	call_get_in(struct net_session *ns, time_t when, const char *server,
	    const char *pin, const char *device, const struct sig_seckey *sk,
	    const char *path, const char *extra, struct net_response *rs,
	    struct muster_err *e);

#endif
