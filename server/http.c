/* http: libmicrohttpd daemon, request gatekeeping and bodies; http.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http.h"
#include "log.h"
#include "routes.h"
#include "srv.h"

/* TLS 1.2 and 1.3 only (docs/protocol.md). */
#define HTTP_TLS_PRIORITIES	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define HTTP_JSON		"application/json"

/* What is kept for a POST between its headers and the end of its body. */
struct http_req {
	const struct route	*route;
	char			*body;
	size_t			 len, cap;
	size_t			 discarded;	/* bytes past max_body */
	int			 too_large;
};

/*
 * What *con_cls holds for a GET between its headers and its answer: the
 * answer waits for the second call, since MHD closes the connection after
 * an answer queued from the first.  Not allocated.
 */
static struct http_req http_get_marker;

/* Sends out (taking what it owns) and counts it under route. */
static enum MHD_Result
http_send(struct srv *s, struct MHD_Connection *c, enum metrics_route metric,
    const char *method, struct reply *out)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

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
		reply_clear(out);
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
	if (__atomic_load_n(&s->stopping, __ATOMIC_RELAXED))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(c, out->status, resp);
	MHD_destroy_response(resp);
	metrics_request(metric, out->status);
	log_debug("%s %s: %u", method, metrics_route_name(metric),
	    out->status);
	reply_clear(out);
	return ret;
}

static enum MHD_Result
http_fail(struct srv *s, struct MHD_Connection *c, enum metrics_route metric,
    const char *method, unsigned status, const char *msg)
{
	struct reply out;

	memset(&out, 0, sizeof out);
	reply_error(&out, status, msg);
	return http_send(s, c, metric, method, &out);
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

/* The Content-Length, or -1 when absent (chunked), -2 when malformed. */
static long long
http_content_length(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	long long n = 0;

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
    const struct route *rt, const char *method)
{
	struct reply out;

	memset(&out, 0, sizeof out);
	reply_error(&out, MHD_HTTP_UNAUTHORIZED, "admin token refused");
	out.hname = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
	snprintf(out.hvalue, sizeof out.hvalue, "Bearer");
	return http_send(s, c, rt->metric, method, &out);
}

/*
 * Headers only: refuses what it can before anything is allocated, marks
 * a GET for its answer on the next call, and sets up the body buffer of
 * an acceptable POST.
 */
static enum MHD_Result
http_first(struct srv *s, struct MHD_Connection *c, const char *url,
    const char *method, void **con_cls)
{
	const struct route *rt;
	struct http_req *r;
	struct reply out;
	long long cl;

	if ((rt = route_find(url)) == NULL)
		return http_fail(s, c, MR_OTHER, method, MHD_HTTP_NOT_FOUND,
		    "not found");
	if (strcmp(method, rt->method) != 0) {
		memset(&out, 0, sizeof out);
		reply_error(&out, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method not allowed");
		out.hname = MHD_HTTP_HEADER_ALLOW;
		snprintf(out.hvalue, sizeof out.hvalue, "%s", rt->method);
		return http_send(s, c, rt->metric, method, &out);
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
		if (rt->admin && !route_admin_ok(s, c))
			return http_unauthorized(s, c, rt, method);
		*con_cls = &http_get_marker;
		return MHD_YES;
	}
	if (!http_is_json(c))
		return http_fail(s, c, rt->metric, method,
		    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "content type must be application/json");
	cl = http_content_length(c);
	if (cl == -2)
		return http_fail(s, c, rt->metric, method,
		    MHD_HTTP_BAD_REQUEST, "bad content length");
	if (cl > (long long)s->cfg->limits.max_body)
		return http_fail(s, c, rt->metric, method,
		    MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	if (rt->admin && !route_admin_ok(s, c))
		return http_unauthorized(s, c, rt, method);
	if ((r = calloc(1, sizeof *r)) == NULL)
		return MHD_NO;
	r->route = rt;
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
	size_t max = s->cfg->limits.max_body, cap;
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

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct srv *s = cls;
	struct http_req *r = *con_cls;
	const struct route *rt;
	struct request rq;
	struct reply out;
	enum MHD_Result ret;

	(void)version;
	if (r == NULL) {
		__atomic_add_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
		return http_first(s, c, url, method, con_cls);
	}
	if (r == &http_get_marker) {
		/* No route takes a body on a GET: drop the connection. */
		if (*upload_data_size != 0)
			return MHD_NO;
		if ((rt = route_find(url)) == NULL)
			return MHD_NO;
		memset(&out, 0, sizeof out);
		rq = (struct request){ s, c, rt->path, NULL, 0 };
		rt->fn(&rq, &out);
		return http_send(s, c, rt->metric, method, &out);
	}
	if (*upload_data_size != 0) {
		ret = http_body(s, r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ret;
	}
	if (r->too_large)
		return http_fail(s, c, r->route->metric, method,
		    MHD_HTTP_CONTENT_TOO_LARGE, "body too large");
	memset(&out, 0, sizeof out);
	rq = (struct request){ s, c, r->route->path,
	    r->body != NULL ? r->body : "", r->len };
	/* Every POST route may write: tell the writer (group commit). */
	writer_expect(s->writer);
	r->route->fn(&rq, &out);
	writer_expect_done(s->writer);
	return http_send(s, c, r->route->metric, method, &out);
}

static void
http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct srv *s = cls;
	struct http_req *r = *con_cls;

	(void)c;
	(void)toe;
	if (r != NULL && r != &http_get_marker) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
	__atomic_sub_fetch(&s->active, 1, __ATOMIC_SEQ_CST);
}

int
http_start(struct srv *s, const struct sockaddr *addr, int v6,
    http_log_fn log, struct muster_err *e)
{
	const struct config_limits *l = &s->cfg->limits;
	unsigned flags;

	flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (v6)
		flags |= MHD_USE_IPv6;
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, http_access, s,
	    MHD_OPTION_EXTERNAL_LOGGER, log, s,
	    MHD_OPTION_SOCK_ADDR, addr,
	    MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert,
	    MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
	    MHD_OPTION_HTTPS_PRIORITIES, HTTP_TLS_PRIORITIES,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)l->threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)l->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)l->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)l->connection_timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)l->connection_memory,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, s,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	if (s->mhd == NULL)
		return err_set(e, MUSTER_ECONFIG, "cannot start the HTTPS "
		    "server (check tls_cert, tls_key and limits in %s)",
		    s->cfg->path);
	return 0;
}

void
http_stop(struct srv *s, unsigned grace)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	MHD_socket fd;
	unsigned long i, n = (unsigned long)grace * 100;

	fd = MHD_quiesce_daemon(s->mhd);
	for (i = 0; i < n && __atomic_load_n(&s->active, __ATOMIC_SEQ_CST) > 0;
	    i++)
		nanosleep(&ts, NULL);
	if (__atomic_load_n(&s->active, __ATOMIC_SEQ_CST) > 0)
		log_warn("stopping with %lu requests unanswered",
		    __atomic_load_n(&s->active, __ATOMIC_SEQ_CST));
	MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}
