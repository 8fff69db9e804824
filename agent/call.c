/* call: signed device requests; see agent/call.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "call.h"
#include "devkey.h"
#include "net.h"

int
call_send(const char *method, const char *server, const char *pin,
    const char *path, const char *headers, const void *body, size_t len,
    struct net_response *rs, struct muster_err *e)
{
	return call_send_in(NULL, method, server, pin, path, headers, body,
	    len, rs, e);
}

int
call_send_in(struct net_session *ns, const char *method, const char *server,
    const char *pin, const char *path, const char *headers, const void *body,
    size_t len, struct net_response *rs, struct muster_err *e)
{
	struct net_request rq;

	memset(&rq, 0, sizeof rq);
	rq.method = method;
	rq.server = server;
	rq.path = path;
	rq.pin = pin;
	rq.headers = headers;
	rq.body = body;
	rq.body_len = len;
	return ns != NULL ? net_session_exchange(ns, &rq, rs, e) :
	    net_exchange(&rq, rs, e);
}

int
call_post(const char *server, const char *pin, const char *device,
    const struct sig_seckey *sk, const char *path, const char *body,
    size_t len, struct net_response *rs, struct muster_err *e)
{
	return call_post_in(NULL, server, pin, device, sk, path, body, len,
	    rs, e);
}

int
call_post_in(struct net_session *ns, const char *server, const char *pin,
    const char *device, const struct sig_seckey *sk, const char *path,
    const char *body, size_t len, struct net_response *rs,
    struct muster_err *e)
{
	char sig[DEVKEY_SIG_B64], hdr[512];
	int n;

	sig[0] = '\0';
	if (sk != NULL)
		devkey_sign(sk, body, len, sig);
	n = snprintf(hdr, sizeof hdr, "Content-Type: " PROTO_CTYPE_JSON "\n"
	    "%s%s%s%s%s%s", device != NULL ? PROTO_HDR_DEVICE ": " : "",
	    device != NULL ? device : "", device != NULL ? "\n" : "",
	    sk != NULL ? PROTO_HDR_SIGNATURE ": " : "", sig,
	    sk != NULL ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof hdr)
		return err_set(e, MUSTER_EINTERNAL, "request headers too long");
	return call_send_in(ns, "POST", server, pin, path, hdr, body, len, rs,
	    e);
}

int
call_get(const char *server, const char *pin, const char *device,
    const struct sig_seckey *sk, const char *path, const char *extra,
    struct net_response *rs, struct muster_err *e)
{
	return call_get_in(NULL, time(NULL), server, pin, device, sk, path,
	    extra, rs, e);
}

int
call_get_in(struct net_session *ns, time_t when, const char *server,
    const char *pin, const char *device, const struct sig_seckey *sk,
    const char *path, const char *extra, struct net_response *rs,
    struct muster_err *e)
{
	char t[TIMEFMT_LEN], hdr[1024];
	size_t n;

	timefmt_format(when, t);
	if (devkey_get_headers(sk, device, path, t, hdr, sizeof hdr) != 0)
		return err_set(e, MUSTER_EINTERNAL, "request headers too long");
	n = strlen(hdr);
	if (extra != NULL && (size_t)snprintf(hdr + n, sizeof hdr - n, "%s",
	    extra) >= sizeof hdr - n)
		return err_set(e, MUSTER_EINTERNAL, "request headers too long");
	return call_send_in(ns, "GET", server, pin, path, hdr, NULL, 0, rs, e);
}
