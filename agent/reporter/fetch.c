/*
 * fetch: one HTTPS request with libcurl; see agent/reporter/fetch.h.
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

#include "fetch.h"

struct sink {
	unsigned char	*buf;
	size_t		 len, cap;
	int		 toobig;
};

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
on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb, ncap;
	unsigned char *nb;

	if (n > FRAME_RESP_BODY_MAX - s->len) {
		s->toobig = 1;
		return 0;		/* CURLE_WRITE_ERROR */
	}
	if (s->len + n > s->cap) {
		ncap = s->cap == 0 ? 4096 : s->cap;
		while (ncap < s->len + n)
			ncap *= 2;
		if (ncap > FRAME_RESP_BODY_MAX)
			ncap = FRAME_RESP_BODY_MAX;
		if ((nb = realloc(s->buf, ncap)) == NULL)
			return 0;
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	return n;
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
outcome_of(CURLcode cc, const struct sink *s)
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
		return s->toobig || cc == CURLE_FILESIZE_EXCEEDED ?
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

/* Adds one line to the curl header list; 0 or -1. */
static int
add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = n;
	return 0;
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
		if (add_header(list, line) != 0)
			return -1;
		p = nl + 1;
	}
	/* No 100-continue round trip; no compressed answers to inflate. */
	if (add_header(list, "Expect:") != 0 ||
	    add_header(list, "Accept: application/json") != 0)
		return -1;
	return 0;
}

#define SET(opt, val) do {						\
	if ((cc = curl_easy_setopt(c, (opt), (val))) != CURLE_OK) {	\
		res->outcome = FRAME_EINTERNAL;				\
		snprintf(res->msg, sizeof res->msg, "curl option %s: %s", \
		    #opt, curl_easy_strerror(cc));			\
		goto out;						\
	}								\
} while (0)

void
fetch_run(const struct frame_request *rq, struct fetch_result *res)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hl = NULL;
	struct sink s = { NULL, 0, 0, 0 };
	struct hdrs h;
	CURL *c = NULL;
	CURLcode cc;
	long status = 0;
	int global = 0;

	memset(res, 0, sizeof *res);
	memset(&h, 0, sizeof h);
	errbuf[0] = '\0';
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (global = 1, c = curl_easy_init()) == NULL) {
		res->outcome = FRAME_EINTERNAL;
		set_msg(res, "libcurl failed to initialise");
		goto out;
	}
	if (make_headers(rq, &hl) != 0) {
		res->outcome = FRAME_EINTERNAL;
		set_msg(res, "out of memory");
		goto out;
	}
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_URL, rq->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	/* Only the org's server: never a proxy named by the environment. */
	SET(CURLOPT_PROXY, "");
	SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* The pin is the verification: see the comment at the top. */
	SET(CURLOPT_PINNEDPUBLICKEY, rq->pin);
	SET(CURLOPT_SSL_VERIFYPEER, 0L);
	SET(CURLOPT_SSL_VERIFYHOST, 0L);
	/* No CA store to load: nothing would be verified against it. */
	SET(CURLOPT_CAINFO, (char *)NULL);
	SET(CURLOPT_CAPATH, (char *)NULL);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_CONNECTTIMEOUT, FETCH_CONNECT_TIMEOUT);
	SET(CURLOPT_TIMEOUT, FETCH_TOTAL_TIMEOUT);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FRAME_RESP_BODY_MAX);
	SET(CURLOPT_USERAGENT, "muster-reporter/" MUSTER_VERSION);
	SET(CURLOPT_HTTPHEADER, hl);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, &s);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, &h);
	if (strcmp(rq->method, "POST") == 0) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
		SET(CURLOPT_POSTFIELDS, rq->body_len > 0 ?
		    (const char *)rq->body : "");
	} else
		SET(CURLOPT_HTTPGET, 1L);
	cc = curl_easy_perform(c);
	if ((res->outcome = outcome_of(cc, &s)) != FRAME_OK) {
		set_msg(res, errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK || status < 100 || status > 599) {
		res->outcome = FRAME_EUNREACH;
		set_msg(res, "no HTTP status in the answer");
		goto out;
	}
	res->status = (uint32_t)status;
	memcpy(res->etag, h.etag, sizeof res->etag);
	res->body = s.buf;
	res->body_len = s.len;
	s.buf = NULL;
out:
	free(s.buf);
	curl_slist_free_all(hl);
	if (c != NULL)
		curl_easy_cleanup(c);
	if (global)
		curl_global_cleanup();
}
