/* http: libmicrohttpd daemon, request gatekeeping and bodies; http.h. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "muster/log.h"
#include "muster/proto.h"
#include "front.h"
#include "http.h"
#include "route.h"
#include "srv.h"

/*
 * TLS 1.3, and TLS 1.2 with AEAD suites and forward secrecy only
 * (docs/protocol.md): no CBC, no SHA-1 MAC, no RSA key exchange.
 */
#define HTTP_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+CHACHA20-POLY1305:+AES-256-GCM:+AES-128-GCM:" \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
#define HTTP_JSON		PROTO_CTYPE_JSON
#define HTTP_TICKET_LIFETIME	86400	/* seconds a session ticket lives */

/* What the callbacks of one MHD daemon get: the server and the listener. */
struct http_daemon {
	struct srv		*srv;
	enum front_kind		 kind;
	const gnutls_datum_t	*ticket_key;	/* its generation's */
};

/*
 * One generation of daemons: those of one TLS identity and one set of
 * limits, one per kind of listener.  A reload starts a new generation
 * and retires the old one, which serves its connections until they end.
 */
struct http_gen {
	struct MHD_Daemon	*mhd[FRONT__N];
	struct http_daemon	 ctx[FRONT__N];
	struct http_gen		*next;		/* retired ones */
	unsigned long		 serial;
	/*
	 * The key of the TLS 1.3 session tickets this generation issues
	 * and accepts (docs/protocol.md, "Session resumption"): random,
	 * made at its start, never written anywhere, wiped at its end; a
	 * reload (a new generation) rotates it, a restart forgets it.
	 */
	gnutls_datum_t		 ticket_key;
};

/* Where a POST is: its body arriving, its write with the writer, done. */
enum http_state {
	HTTP_BODY,
	HTTP_WRITING,		/* suspended until the writer has an outcome */
	HTTP_WRITTEN,		/* resumed: the outcome is in job */
};

/*
 * What is kept for a POST from its headers to its answer.  For a deferred
 * write (struct route_reply) the connection is suspended while the writer holds
 * job; MHD frees no suspended connection, so r and the body outlive it.
 */
struct http_req {
	const struct route	*route;
	char			*body;
	size_t			 len, cap;
	size_t			 discarded;	/* bytes past max_body */
	int			 too_large;
	int			 state;		/* enum http_state, atomic */
	struct srv		*srv;
	struct MHD_Connection	*conn;
	struct writer_job	 job;		/* job.arg is the route's */
	route_done_fn		 done;		/* NULL once it has run */
	uint64_t		 t0;		/* arrived (metrics_clock) */
};

/*
 * What *con_cls holds for a GET between its headers and its answer: the
 * answer waits for the second call, since MHD closes the connection after
 * an answer queued from the first.  Not allocated.
 */
static struct http_req http_get_marker;

/* The front's record of c (its socket context), or NULL. */
static struct front_conn *
http_conn(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * The access log's line for an answer, and every refused credential
 * (401) logged with the client's address, rate-limited.
 */
static void
http_log_answer(struct MHD_Connection *c, enum metrics_route metric,
    const char *method, const char *url, unsigned status, size_t bytes)
{
	struct front_conn *fc = http_conn(c);
	const char *dev = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    PROTO_HDR_DEVICE);
	const char *addr = front_conn_addr(fc);

	if (status == MHD_HTTP_UNAUTHORIZED) {
		if (metric == MR_ADMIN_PROFILE || metric == MR_ADMIN_REVOKE ||
		    metric == MR_ADMIN_ROLLUP || metric == MR_ADMIN_ROOT ||
		    metric == MR_ADMIN_MANIFEST || metric == MR_METRICS)
			log_refused("refused the admin credential of %s on "
			    "%s %s", addr, method, metrics_route_name(metric));
		else
			log_refused("refused the device signature of %s on "
			    "%s %s", addr, method, metrics_route_name(metric));
	}
	if (!log_access_enabled())
		return;
	/* The path only when it is a route: a 404's is the client's text. */
	log_access("%s \"%s %s\" %u %zu %lldms %.64s", addr, method,
	    metric != MR_OTHER ? url : "-", status, bytes,
	    front_conn_elapsed_ms(fc), dev != NULL ? dev : "-");
}

/* Adds the "Name: value\n" lines of x (route_reply's xheaders). */
static void
http_xheaders(struct MHD_Response *resp, char *x)
{
	char *line, *colon, *nl;

	for (line = x; line != NULL && *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL ||
		    (colon = strstr(line, ": ")) == NULL || colon > nl)
			return;
		*colon = *nl = '\0';
		MHD_add_response_header(resp, line, colon + 2);
		*colon = ':';
		*nl = '\n';
	}
}

/* Sends out (taking what it owns) and counts it under route. */
static enum MHD_Result
http_send(struct srv *s, struct MHD_Connection *c, enum metrics_route metric,
    const char *method, const char *url, struct route_reply *out)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t bytes = out->len;

	if (out->body != NULL) {
		resp = MHD_create_response_from_buffer(out->len, out->body,
		    MHD_RESPMEM_MUST_FREE);
		if (resp != NULL)
			out->body = NULL;
	} else
		resp = MHD_create_response_from_buffer(out->len,
		    (void *)(uintptr_t)(out->sbody != NULL ? out->sbody : ""),
		    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		route_reply_clear(out);
		return MHD_NO;
	}
	if (out->status != MHD_HTTP_NOT_MODIFIED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    out->ctype != NULL ? out->ctype : HTTP_JSON);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (out->hname != NULL)
		MHD_add_response_header(resp, out->hname, out->hvalue);
	http_xheaders(resp, out->xheaders);
	if (__atomic_load_n(&s->stopping, __ATOMIC_RELAXED))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(c, out->status, resp);
	MHD_destroy_response(resp);
	metrics_request(metric, out->status);
	log_debug("%s %s: %u", method, metrics_route_name(metric),
	    out->status);
	http_log_answer(c, metric, method, url, out->status, bytes);
	route_reply_clear(out);
	return ret;
}

static enum MHD_Result
http_fail(struct srv *s, struct MHD_Connection *c, enum metrics_route metric,
    const char *method, const char *url, unsigned status, const char *msg)
{
	struct route_reply out;

	memset(&out, 0, sizeof out);
	route_reply_error(&out, status, msg);
	return http_send(s, c, metric, method, url, &out);
}

/* 1 if the Content-Type is JSON (parameters such as charset allowed). */
static int
http_is_json(struct MHD_Connection *c)
{
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen(HTTP_JSON);

	return ct != NULL && strncasecmp(ct, HTTP_JSON, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* 1 if the Content-Type is an HTML form's (a console POST). */
static int
http_is_form(struct MHD_Connection *c)
{
	static const char form[] = "application/x-www-form-urlencoded";
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = sizeof form - 1;

	return ct != NULL && strncasecmp(ct, form, n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}


/* Counts the Content-Length headers (MHD_KeyValueIterator). */
static enum MHD_Result
http_count_cl(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	(void)kind;
	(void)value;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		(*(unsigned *)cls)++;
	return MHD_YES;
}

/*
 * The Content-Length, or -1 when absent (chunked), -2 when malformed or
 * given more than once (two lengths are a smuggling attempt, equal or
 * not: RFC 9112 6.3), or with Transfer-Encoding.
 */
static long long
http_content_length(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	long long n = 0;
	unsigned count = 0;

	(void)MHD_get_connection_values(c, MHD_HEADER_KIND, http_count_cl,
	    &count);
	if (count > 1)
		return -2;
	if (v != NULL && MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL)
		return -2;
	if (v == NULL)
		return -1;
	if (*v == '\0')
		return -2;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || n > (INT64_MAX - 9) / 10)
			return -2;
		n = n * 10 + (*v - '0');
	}
	return n;
}

/* 401 for an admin call without the admin token. */
static enum MHD_Result
http_unauthorized(struct srv *s, struct MHD_Connection *c,
    const struct route *rt, const char *method, const char *url)
{
	struct route_reply out;

	memset(&out, 0, sizeof out);
	route_reply_error(&out, MHD_HTTP_UNAUTHORIZED, "admin token refused");
	out.hname = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
	snprintf(out.hvalue, sizeof out.hvalue, "Bearer");
	return http_send(s, c, rt->metric, method, url, &out);
}

/*
 * Headers only: refuses what it can before anything is allocated, marks
 * a GET for its answer on the next call, and sets up the body buffer of
 * an acceptable POST.
 */
/*
 * Whether the listener kind serves rt: admin routes and /metrics on the
 * admin listener (on the device listener too when there is none),
 * /healthz on both, device routes on the device listener.
 */
static int
http_serves(struct srv *s, enum front_kind kind, const struct route *rt)
{
	if (rt->metric == MR_HEALTHZ)
		return 1;
	/* The console is an admin page: the admin listener's. */
	if (rt->admin || rt->metric == MR_CONSOLE)
		return kind == FRONT_ADMIN || !srv_config(s)->admin_separate;
	return kind == FRONT_DEVICE;
}

static enum MHD_Result
http_first(struct srv *s, enum front_kind kind, struct MHD_Connection *c,
    const char *url, const char *method, void **con_cls)
{
	const struct route *rt;
	struct http_req *r;
	struct route_reply out;
	long long cl;

	front_conn_headers(s->front, http_conn(c));
	if ((rt = route_find(url)) == NULL || !http_serves(s, kind, rt))
		return http_fail(s, c, MR_OTHER, method, url,
		    MHD_HTTP_NOT_FOUND, "not found");
	if (strcmp(method, rt->method) != 0) {
		memset(&out, 0, sizeof out);
		route_reply_error(&out, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed");
		out.hname = MHD_HTTP_HEADER_ALLOW;
		snprintf(out.hvalue, sizeof out.hvalue, "%s", rt->method);
		return http_send(s, c, rt->metric, method, url, &out);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
		if (rt->admin && !route_admin_ok(s, c, url))
			return http_unauthorized(s, c, rt, method, url);
		*con_cls = &http_get_marker;
		return MHD_YES;
	}
	if (route_takes_form(rt) ? !http_is_form(c) : !http_is_json(c))
		return http_fail(s, c, rt->metric, method, url,
		    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, route_takes_form(rt) ?
		    "content type must be application/x-www-form-urlencoded" :
		    "content type must be application/json");
	cl = http_content_length(c);
	if (cl == -2)
		return http_fail(s, c, rt->metric, method, url,
		    MHD_HTTP_BAD_REQUEST, "bad content length");
	if (cl > (long long)srv_config(s)->limits.max_body)
		return http_fail(s, c, rt->metric, method, url,
		    MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	if (rt->admin && !route_admin_ok(s, c, url))
		return http_unauthorized(s, c, rt, method, url);
	if ((r = calloc(1, sizeof *r)) == NULL)
		return MHD_NO;
	r->route = rt;
	r->t0 = metrics_clock();
	if (cl > 0) {
		/* Known and within max_body: one allocation. */
		if ((r->body = malloc((size_t)cl)) == NULL) {
			free(r);
			return MHD_NO;
		}
		r->cap = (size_t)cl;
	}
	*con_cls = r;
	return MHD_YES;
}

/* Appends n bytes of body, or counts them away past max_body. */
static enum MHD_Result
http_body(struct srv *s, struct http_req *r, const char *data, size_t n)
{
	size_t max = srv_config(s)->limits.max_body, cap;
	char *nb;

	if (!r->too_large && n > max - r->len) {
		/* Over the limit: keep nothing more, answer 413 at the end. */
		r->too_large = 1;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
	}
	if (r->too_large) {
		r->discarded += n;
		/* A client that keeps sending is cut off. */
		return r->discarded > max ? MHD_NO : MHD_YES;
	}
	if (r->len + n > r->cap) {
		cap = r->cap == 0 ? 4096 : r->cap;
		while (cap < r->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		if ((nb = realloc(r->body, cap)) == NULL)
			return MHD_NO;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return MHD_YES;
}

/*
 * The writer's callback for a deferred write (struct writer_job): the
 * outcome is in r->job; wake the connection, whose thread answers it.
 */
static void
http_written(struct writer_job *job)
{
	struct http_req *r = job->cls;
	struct MHD_Connection *c = r->conn;
	struct srv *s = r->srv;

	__atomic_store_n(&r->state, HTTP_WRITTEN, __ATOMIC_RELEASE);
	__atomic_add_fetch(&s->resumed, 1, __ATOMIC_SEQ_CST);
	/* From here r may be answered and freed by a request thread. */
	MHD_resume_connection(c);
	__atomic_sub_fetch(&s->deferred, 1, __ATOMIC_SEQ_CST);
}

/* Answers a deferred write from its outcome (route_done_fn). */
static enum MHD_Result
http_answer_write(struct srv *s, struct MHD_Connection *c, struct http_req *r,
    const char *method)
{
	struct route_reply out;
	route_done_fn done = r->done;

	memset(&out, 0, sizeof out);
	r->done = NULL;
	done(r->job.arg, r->job.rc, &r->job.err, &out);
	r->job.arg = NULL;
	return http_send(s, c, r->route->metric, method, r->route->path, &out);
}

/*
 * Hands the job a route left in out to the writer and suspends the
 * connection until the writer has committed it (http_written); the
 * thread goes on with its other connections.  Once http_stop drains, or
 * when the writer refuses, the job is answered at once with MUSTER_ETEMP
 * (503) and nothing is written.
 */
static enum MHD_Result
http_defer(struct srv *s, struct MHD_Connection *c, struct http_req *r,
    const char *method, struct route_reply *out)
{
	struct muster_err e;
	int rc;

	r->srv = s;
	r->conn = c;
	r->done = out->done;
	memset(&r->job, 0, sizeof r->job);
	r->job.fn = out->job;
	r->job.arg = out->arg;
	r->job.done = http_written;
	r->job.cls = r;
	route_reply_clear(out);
	/* Counted before draining is read: http_stop sees one or the other. */
	__atomic_add_fetch(&s->deferred, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->draining, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&s->deferred, 1, __ATOMIC_SEQ_CST);
		r->job.rc = err_set(&r->job.err, MUSTER_ETEMP,
		    "server stopping");
		return http_answer_write(s, c, r, method);
	}
	/*
	 * Suspended first: the writer may resume it before we return.  Once
	 * queued, r->job is the writer's until it resumes the connection.
	 */
	__atomic_store_n(&r->state, HTTP_WRITING, __ATOMIC_RELAXED);
	MHD_suspend_connection(c);
	if ((rc = writer_submit(s->writer, &r->job, &e)) != 0) {
		r->job.rc = rc;
		r->job.err = e;
		http_written(&r->job);	/* answered when resumed */
	}
	return MHD_YES;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_daemon *d = cls;
	struct srv *s = d->srv;
	struct http_req *r = *con_cls;
	const struct route *rt;
	struct route_request rq;
	struct route_reply out;
	enum MHD_Result ret;

	(void)version;
	/* The duration metrics_request observes: a POST's from its headers. */
	metrics_request_start(r != NULL && r != &http_get_marker ? r->t0 : 0);
	if (r == NULL) {
		__atomic_add_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
		return http_first(s, d->kind, c, url, method, con_cls);
	}
	if (r == &http_get_marker) {
		/* No route takes a body on a GET: drop the connection. */
		if (*upload_data_size != 0)
			return MHD_NO;
		if ((rt = route_find(url)) == NULL)
			return MHD_NO;
		/* A fresh connection that asks for no write: the writer
		 * may be waiting for it (writer_siblings). */
		if (front_conn_busy(s->front, http_conn(c)))
			writer_poke(s->writer);
		memset(&out, 0, sizeof out);
		rq = (struct route_request){ s, c, rt->path, NULL, 0 };
		rt->fn(&rq, &out);
		return http_send(s, c, rt->metric, method, url, &out);
	}
	switch (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE)) {
	case HTTP_BODY:
		break;
	case HTTP_WRITTEN:
		if (r->done == NULL)
			return MHD_NO;	/* answered already */
		__atomic_sub_fetch(&s->resumed, 1, __ATOMIC_SEQ_CST);
		return http_answer_write(s, c, r, method);
	default:
		/* MHD calls no handler of a suspended connection. */
		log_error("http: %s %s called while its write is pending",
		    method, url);
		return MHD_NO;
	}
	if (*upload_data_size != 0) {
		ret = http_body(s, r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ret;
	}
	if (r->too_large)
		return http_fail(s, c, r->route->metric, method, url,
		    MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	/*
	 * Every POST route may write: tell the writer (group commit), before
	 * the connection stops counting as one a write may come from.
	 */
	writer_expect(s->writer);
	(void)front_conn_busy(s->front, http_conn(c));
	memset(&out, 0, sizeof out);
	rq = (struct route_request){ s, c, r->route->path,
	    r->body != NULL ? r->body : "", r->len };
	r->route->fn(&rq, &out);
	if (out.job != NULL)
		ret = http_defer(s, c, r, method, &out);
	else
		ret = http_send(s, c, r->route->metric, method, url, &out);
	writer_expect_done(s->writer);
	return ret;
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_daemon *d = cls;
	struct srv *s = d->srv;
	struct http_req *r = *con_cls;
	struct route_reply out;

	(void)toe;
	front_conn_answered(s->front, http_conn(c));
	if (r != NULL && r != &http_get_marker &&
	    __atomic_load_n(&r->state, __ATOMIC_ACQUIRE) == HTTP_WRITING) {
		/* Never while suspended; if it were, the writer has r. */
		log_error("http: request ended while its write is pending");
		r = NULL;
	}
	if (r != NULL && r != &http_get_marker) {
		if (r->done != NULL) {
			/* Written, but the client left before the answer. */
			__atomic_sub_fetch(&s->resumed, 1, __ATOMIC_SEQ_CST);
			memset(&out, 0, sizeof out);
			r->done(r->job.arg, r->job.rc, &r->job.err, &out);
			route_reply_clear(&out);
		}
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
	__atomic_sub_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
}


#ifndef MUSTER_FUZZING
/*
 * GnuTLS's handshake hook, set on every session (http_notify): once the
 * client's Finished has been read and checked, the handshake is done
 * and its deadline (handshake_timeout) no longer applies.  The session's
 * db pointer holds the front's record (libmicrohttpd keeps the session
 * pointer for itself and no session database is used).
 */
static int
http_handshake_hook(gnutls_session_t ts, unsigned htype, unsigned when,
    unsigned incoming, const gnutls_datum_t *msg)
{
	(void)msg;
	if (htype == GNUTLS_HANDSHAKE_FINISHED && when == GNUTLS_HOOK_POST &&
	    incoming)
		front_conn_handshaken(gnutls_db_get_ptr(ts));
	return 0;
}
#endif

/* MHD_OPTION_NOTIFY_CONNECTION: the front's record as socket context. */
static void
http_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http_daemon *d = cls;
	const union MHD_ConnectionInfo *ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci != NULL ? front_conn_started(d->srv->front,
		    ci->connect_fd) : NULL;
#ifndef MUSTER_FUZZING
		/*
		 * MHD has made the TLS session and not yet read a byte of
		 * its handshake: session tickets, so that a device's next
		 * check-in resumes instead of paying a full handshake.
		 * Without them the connection is served all the same.
		 */
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (ci == NULL || ci->tls_session == NULL)
			front_conn_handshaken(*socket_context);
		else {
			gnutls_db_set_ptr(ci->tls_session, *socket_context);
			gnutls_handshake_set_hook_function(ci->tls_session,
			    GNUTLS_HANDSHAKE_FINISHED, GNUTLS_HOOK_POST,
			    http_handshake_hook);
		}
		if (ci != NULL && ci->tls_session != NULL &&
		    d->ticket_key != NULL) {
			gnutls_session_t ts = ci->tls_session;

			/* Beyond the longest report interval a profile
			 * names (6 h) and within TLS 1.3's 7 days. */
			gnutls_db_set_cache_expiration(ts,
			    HTTP_TICKET_LIFETIME);
			(void)gnutls_session_ticket_enable_server(ts,
			    d->ticket_key);
		}
#else
		/* Plain HTTP: no handshake to wait for. */
		front_conn_handshaken(*socket_context);
#endif
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (front_conn_closed(d->srv->front, *socket_context))
			writer_poke(d->srv->writer);
		*socket_context = NULL;
	}
}

/*
 * MUSTER_FUZZING is defined by the fuzz build alone (tests/fuzz/fuzz.mk;
 * libFuzzer's convention for the same is
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION): there the daemon speaks
 * plain HTTP, so that fuzz_http can write raw requests to this handler
 * over loopback.  No other build defines it, and nothing at run time or
 * in the configuration turns TLS off.
 */
static struct MHD_Daemon *
http_daemon_start(struct http_daemon *d, const struct config_limits *l,
    unsigned threads, const char *cert, const char *key, http_log_fn log)
{
	unsigned flags;

	/*
	 * poll(), not epoll: libmicrohttpd 0.9.75 in epoll mode leaves a
	 * connection in its ready list while its TLS handshake waits for
	 * the client's next flight, and its thread spins (recv, EAGAIN,
	 * epoll_wait with no timeout) until that flight comes: the round
	 * trip and whatever the client computes, in server CPU, for every
	 * handshake.  That spin was most of what a handshake cost the
	 * server (docs/performance.md).  poll() sleeps until the bytes
	 * come; a thread holds at most max_connections / threads.
	 */
	flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_POLL | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME |
	    MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
#ifdef MUSTER_FUZZING
	flags &= ~(unsigned)MHD_USE_TLS;
	(void)cert;
	(void)key;
#endif
	return MHD_start_daemon(flags, 0, NULL, NULL, http_access, d,
	    MHD_OPTION_EXTERNAL_LOGGER, log, d->srv,
#ifndef MUSTER_FUZZING
	    MHD_OPTION_HTTPS_MEM_CERT, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
#endif
	    MHD_OPTION_THREAD_POOL_SIZE, threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)l->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)l->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)l->connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)l->connection_memory,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, d,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify, d,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
}

void
http_gen_free(struct http_gen *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < FRONT__N; i++)
		if (g->mhd[i] != NULL)
			MHD_stop_daemon(g->mhd[i]);
	if (g->ticket_key.data != NULL) {
		gnutls_memset(g->ticket_key.data, 0, g->ticket_key.size);
		gnutls_free(g->ticket_key.data);
	}
	free(g);
}

int
http_gen_start(struct srv *s, const struct config *cfg, const char *cert,
    const char *key, int admin, http_log_fn log, struct http_gen **out,
    struct muster_err *e)
{
	static unsigned long serial;
	struct http_gen *g;
	size_t i;

	*out = NULL;
	if ((g = calloc(1, sizeof *g)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	g->serial = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
	if (gnutls_session_ticket_key_generate(&g->ticket_key) < 0) {
		free(g);
		return err_set(e, MUSTER_EINTERNAL, "no TLS session ticket "
		    "key (GnuTLS's random generator failed)");
	}
	for (i = 0; i < FRONT__N; i++) {
		if (i == FRONT_ADMIN && !admin)
			continue;
		g->ctx[i].srv = s;
		g->ctx[i].kind = (enum front_kind)i;
		g->ctx[i].ticket_key = &g->ticket_key;
		/* The admin listener is for a few operators: one thread. */
		g->mhd[i] = http_daemon_start(&g->ctx[i], &cfg->limits,
		    i == FRONT_ADMIN ? 1 : cfg->limits.threads, cert, key,
		    log);
		if (g->mhd[i] == NULL) {
			http_gen_free(g);
			return err_set(e, MUSTER_ECONFIG, "%s:%d: tls_key: "
			    "%s and tls_cert %s do not start the HTTPS server",
			    cfg->path, cfg->tls_key_line, cfg->tls_key,
			    cfg->tls_cert);
		}
	}
	*out = g;
	return 0;
}

int
http_add(struct srv *s, enum front_kind kind, int fd,
    const struct sockaddr *addr, socklen_t len)
{
	struct MHD_Daemon *d;
	int rc;

	/* Under the lock: a reload cannot stop the daemon under us. */
	pthread_mutex_lock(&s->gen_mu);
	d = s->gen != NULL ? s->gen->mhd[kind] : NULL;
	if (d == NULL) {
		pthread_mutex_unlock(&s->gen_mu);
		close(fd);
		return -1;
	}
	rc = MHD_add_connection(d, fd, addr, len) == MHD_YES ? 0 : -1;
	pthread_mutex_unlock(&s->gen_mu);
	return rc;
}

void
http_gen_swap(struct srv *s, struct http_gen *g)
{
	pthread_mutex_lock(&s->gen_mu);
	if (s->gen != NULL) {
		s->gen->next = s->retired;
		s->retired = s->gen;
	}
	s->gen = g;
	pthread_mutex_unlock(&s->gen_mu);
}

/* The connections d holds now. */
static unsigned
http_daemon_conns(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di;

	if (d == NULL)
		return 0;
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return di != NULL ? di->num_connections : 0;
}

void
http_reap(struct srv *s)
{
	struct http_gen **pp, *g, *done = NULL;
	unsigned n;
	size_t i;

	pthread_mutex_lock(&s->gen_mu);
	for (pp = &s->retired; (g = *pp) != NULL;) {
		for (n = 0, i = 0; i < FRONT__N; i++)
			n += http_daemon_conns(g->mhd[i]);
		if (n == 0) {
			*pp = g->next;
			g->next = done;
			done = g;
		} else
			pp = &g->next;
	}
	pthread_mutex_unlock(&s->gen_mu);
	while ((g = done) != NULL) {
		done = g->next;
		log_info("reload: generation %lu served its last connection",
		    g->serial);
		http_gen_free(g);
	}
}

/* Waits up to ticks x 10 ms for *n to fall to 0; 1 if it did. */
static int
http_wait_zero(unsigned long *n, unsigned long ticks)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned long i;

	for (i = 0; i < ticks && __atomic_load_n(n, __ATOMIC_SEQ_CST) > 0;
	    i++)
		nanosleep(&ts, NULL);
	return __atomic_load_n(n, __ATOMIC_SEQ_CST) == 0;
}

void
http_stop(struct srv *s, unsigned grace)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	unsigned long i, ticks = (grace > 0 ? (unsigned long)grace : 1) * 100;
	struct http_gen *g;

	__atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
	/* No new connection from here on: the listening sockets close. */
	front_stop(s->front);
	/*
	 * Requests in flight, except those only waiting for a thread to send
	 * the writer's answer: one whose wake-up was lost would hold the
	 * stop for the whole grace.
	 */
	for (i = 0; i < ticks && __atomic_load_n(&s->active,
	    __ATOMIC_SEQ_CST) > __atomic_load_n(&s->resumed,
	    __ATOMIC_SEQ_CST); i++)
		nanosleep(&tick, NULL);
	/*
	 * No write is handed to the writer from here on (503), and every
	 * one handed over gets its outcome: MHD must not be stopped with a
	 * connection suspended.  The writer runs until srv_free stops it
	 * after this, so the wait ends once it has committed what it has.
	 */
	__atomic_store_n(&s->draining, 1, __ATOMIC_SEQ_CST);
	while (!http_wait_zero(&s->deferred, ticks))
		log_warn("stopping: %lu writes still with the writer",
		    __atomic_load_n(&s->deferred, __ATOMIC_SEQ_CST));
	/* A moment for the threads to send what the writer answered. */
	if (!http_wait_zero(&s->active, 100))
		log_warn("stopping with %lu requests unanswered",
		    __atomic_load_n(&s->active, __ATOMIC_SEQ_CST));
	pthread_mutex_lock(&s->gen_mu);
	g = s->gen;
	s->gen = NULL;
	if (g != NULL) {
		g->next = s->retired;
		s->retired = g;
	}
	g = s->retired;
	s->retired = NULL;
	pthread_mutex_unlock(&s->gen_mu);
	while (g != NULL) {
		struct http_gen *next = g->next;

		http_gen_free(g);
		g = next;
	}
}
