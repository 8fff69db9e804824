/*
 * fetch: one HTTPS request through the pinned client of lib/https.c
 * (the one object of libmuster the reporter links); see
 * agent/reporter/fetch.h.
 *
 * The server's certificate is self-signed by `muster-enroll init` and the
 * device holds no CA for it: what it holds is the pin from the org-signed
 * token.  So certificate-chain and host-name verification are off and
 * CURLOPT_PINNEDPUBLICKEY does the verifying: curl compares the server's
 * public key with the pin on every handshake whatever VERIFYPEER says,
 * and aborts before any byte of the request is sent if they differ.  The
 * pin IS the verification, which is why a request without a well-formed
 * pin never gets this far (frame_pin_ok) and why there is no switch to do
 * without one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "muster/https.h"
#include "fetch.h"
#include "tlssess.h"

struct hdrs {
	char		 etag[FRAME_ETAG_MAX + 1];
};

static void
set_msg(struct fetch_result *res, const char *s)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o < FRAME_MSG_MAX; i++)
		if ((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f)
			res->msg[o++] = s[i];
	while (o > 0 && res->msg[o - 1] == ' ')
		o--;
	res->msg[o] = '\0';
}

static size_t
on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct hdrs *h = arg;
	size_t n = size * nmemb, i, o = 0;

	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		h->etag[0] = '\0';	/* a new answer (after 100 Continue) */
		return n;
	}
	if (n < 5 || strncasecmp(ptr, "etag:", 5) != 0)
		return n;
	for (i = 5; i < n && (ptr[i] == ' ' || ptr[i] == '\t'); i++)
		;
	for (; i < n && o < FRAME_ETAG_MAX; i++) {
		if ((unsigned char)ptr[i] < 0x21 || (unsigned char)ptr[i] >= 0x7f)
			break;
		h->etag[o++] = ptr[i];
	}
	h->etag[o] = '\0';
	return n;
}

static uint32_t
outcome_of(CURLcode cc, const struct https_sink *s)
{
	switch (cc) {
	case CURLE_OK:
		return FRAME_OK;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return FRAME_EPIN;
	case CURLE_OPERATION_TIMEDOUT:
		return FRAME_ETIMEOUT;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return s->over || cc == CURLE_FILESIZE_EXCEEDED ?
		    FRAME_ETOOBIG : FRAME_EINTERNAL;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return FRAME_ETLS;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_TOO_MANY_REDIRECTS:
		return FRAME_EREQUEST;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
		return FRAME_EINTERNAL;
	default:
		/* Resolve, connect, send, receive, empty answer: retry later. */
		return FRAME_EUNREACH;
	}
}

/* The agent's "Name: value\n" lines, then our own. */
static int
make_headers(const struct frame_request *rq, struct curl_slist **list)
{
	char line[FRAME_HEADERS_MAX + 1];
	const char *p = rq->headers, *nl;
	size_t n;

	while (*p != '\0') {
		nl = strchr(p, '\n');	/* frame_request_read checked: present */
		n = (size_t)(nl - p);
		memcpy(line, p, n);
		line[n] = '\0';
		if (https_header_add(list, line) != 0)
			return -1;
		p = nl + 1;
	}
	/* No 100-continue round trip; no compressed answers to inflate. */
	if (https_header_add(list, "Expect:") != 0 ||
	    https_header_add(list, "Accept: application/json") != 0)
		return -1;
	return 0;
}

void
fetch_run(struct https_conn *hc, struct tlssess *ts,
    const struct frame_request *rq, int fresh, struct fetch_result *res)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hl = NULL;
	struct https_sink s = { NULL, 0, 0, FRAME_RESP_BODY_MAX, 0, 0 };
	struct https_result hr;
	struct https_opts o;
	struct hdrs h;
	int rc;

	memset(res, 0, sizeof *res);
	memset(&h, 0, sizeof h);
	errbuf[0] = '\0';
	if (make_headers(rq, &hl) != 0) {
		res->outcome = FRAME_EINTERNAL;
		set_msg(res, "out of memory");
		goto out;
	}
	memset(&o, 0, sizeof o);
	o.url = rq->url;
	o.pin = rq->pin;		/* the verification: see the top */
	o.ca = NULL;
	o.isolated = 1;
	o.fresh = fresh;
	o.connect_timeout = FETCH_CONNECT_TIMEOUT;
	o.timeout = FETCH_TOTAL_TIMEOUT;
	o.user_agent = "muster-reporter/" MUSTER_VERSION;
	o.headers = hl;
	o.post = strcmp(rq->method, "POST") == 0;
	o.body = rq->body;
	o.body_len = rq->body_len;
	o.sink = &s;
	o.header_fn = on_header;
	o.header_arg = &h;
	o.errbuf = errbuf;
	if (ts != NULL) {
		o.ssl_ctx_fn = tlssess_ctx;
		o.ssl_ctx_arg = ts;
	}
	rc = https_exchange_on(hc, &o, &hr);
	/* Also when it failed after the handshake (the pin): said so. */
	res->resumed = ts != NULL && tlssess_resumed(ts);
	if (rc != 0) {
		switch (hr.stage) {
		case HTTPS_INIT:
			res->outcome = FRAME_EINTERNAL;
			set_msg(res, "libcurl failed to initialise");
			break;
		case HTTPS_SETOPT:
			res->outcome = FRAME_EINTERNAL;
			snprintf(res->msg, sizeof res->msg,
			    "curl option %s: %s", hr.opt,
			    curl_easy_strerror(hr.cc));
			break;
		case HTTPS_PERFORM:
			res->outcome = outcome_of(hr.cc, &s);
			set_msg(res, errbuf[0] != '\0' ? errbuf :
			    curl_easy_strerror(hr.cc));
			break;
		case HTTPS_STATUS:
			res->outcome = FRAME_EUNREACH;
			set_msg(res, "no HTTP status in the answer");
			break;
		}
		goto out;
	}
	if (hr.status < 100 || hr.status > 599) {
		res->outcome = FRAME_EUNREACH;
		set_msg(res, "no HTTP status in the answer");
		goto out;
	}
	res->outcome = FRAME_OK;
	res->status = (uint32_t)hr.status;
	res->retry_after = hr.retry_after > FRAME_RETRY_MAX ? FRAME_RETRY_MAX :
	    (uint32_t)hr.retry_after;
	res->connects = hr.connects;
	memcpy(res->etag, h.etag, sizeof res->etag);
	res->body = (unsigned char *)s.buf;
	res->body_len = s.len;
	s.buf = NULL;
out:
	free(s.buf);
	curl_slist_free_all(hl);
}
