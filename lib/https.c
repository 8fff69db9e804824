/*
 * https: the pinned libcurl client; see muster/https.h.
 *
 * libcurl and libc only: muster-reporter links this object alone of
 * libmuster.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "muster/https.h"

#define SINK_FIRST	4096	/* bytes of a sink's first buffer */

size_t
https_sink_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct https_sink *s = arg;
	size_t n = size * nmemb, ncap;
	char *nb;

	if (s->over || n > s->max - s->len) {
		s->over = 1;
		return s->discard ? n : 0;
	}
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap == 0 ? SINK_FIRST : s->cap;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if (ncap > s->max + 1)
			ncap = s->max + 1;
		if ((nb = realloc(s->buf, ncap)) == NULL)
			return 0;	/* curl fails the transfer */
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, ptr, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

int
https_header_add(struct curl_slist **list, const char *line)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(*list, line)) == NULL)
		return -1;
	*list = n;
	return 0;
}

#define SET(option, val) do {						\
	if ((r->cc = curl_easy_setopt(c, (option), (val))) != CURLE_OK) { \
		r->stage = HTTPS_SETOPT;				\
		r->opt = #option;					\
		goto out;						\
	}								\
} while (0)

struct https_conn {
	CURL	*c;
};

int
https_conn_open(struct https_conn **out)
{
	struct https_conn *hc;

	*out = NULL;
	if ((hc = calloc(1, sizeof *hc)) == NULL)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(hc);
		return -1;
	}
	if ((hc->c = curl_easy_init()) == NULL) {
		curl_global_cleanup();
		free(hc);
		return -1;
	}
	*out = hc;
	return 0;
}

void
https_conn_close(struct https_conn *hc)
{
	if (hc == NULL)
		return;
	curl_easy_cleanup(hc->c);
	curl_global_cleanup();
	free(hc);
}

int
https_exchange(const struct https_opts *o, struct https_result *r)
{
	struct https_conn *hc = NULL;
	int rc;

	if (https_conn_open(&hc) != 0) {
		memset(r, 0, sizeof *r);
		o->errbuf[0] = '\0';
		r->stage = HTTPS_INIT;
		r->cc = CURLE_FAILED_INIT;
		return -1;
	}
	rc = https_exchange_on(hc, o, r);
	https_conn_close(hc);
	return rc;
}

int
https_exchange_on(struct https_conn *hc, const struct https_opts *o,
    struct https_result *r)
{
	CURL *c = hc->c;
	curl_off_t ra = 0;
	long nconn = 0;
	int rc = -1;

	memset(r, 0, sizeof *r);
	o->errbuf[0] = '\0';
	/* The previous exchange's options go; its connection stays. */
	curl_easy_reset(c);
	SET(CURLOPT_ERRORBUFFER, o->errbuf);
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_MAXREDIRS, 0L);
	SET(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	if (o->isolated) {
		/* Only the org's server: never a proxy from the environment. */
		SET(CURLOPT_PROXY, "");
		SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	}
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/* The pin, always; see muster/https.h. */
	SET(CURLOPT_PINNEDPUBLICKEY, o->pin);
	SET(CURLOPT_SSL_VERIFYPEER, o->ca != NULL ? 1L : 0L);
	SET(CURLOPT_SSL_VERIFYHOST, o->ca != NULL ? 2L : 0L);
	/* The org's own certificate is the only CA; with none, no CA store. */
	SET(CURLOPT_CAINFO, o->ca);
	SET(CURLOPT_CAPATH, (char *)NULL);
	if (o->fresh)
		SET(CURLOPT_FRESH_CONNECT, 1L);
	if (o->ssl_ctx_fn != NULL) {
		SET(CURLOPT_SSL_CTX_FUNCTION, o->ssl_ctx_fn);
		SET(CURLOPT_SSL_CTX_DATA, o->ssl_ctx_arg);
	}
	SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	SET(CURLOPT_TIMEOUT, o->timeout);
	SET(CURLOPT_NOSIGNAL, 1L);
	if (!o->sink->discard)
		SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->sink->max);
	SET(CURLOPT_USERAGENT, o->user_agent);
	SET(CURLOPT_HTTPHEADER, o->headers);
	SET(CURLOPT_WRITEFUNCTION, https_sink_write);
	SET(CURLOPT_WRITEDATA, o->sink);
	if (o->header_fn != NULL) {
		SET(CURLOPT_HEADERFUNCTION, o->header_fn);
		SET(CURLOPT_HEADERDATA, o->header_arg);
	}
	if (o->post) {
		SET(CURLOPT_POST, 1L);
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)o->body_len);
		SET(CURLOPT_POSTFIELDS, o->body_len > 0 ?
		    (const char *)o->body : "");
	} else
		SET(CURLOPT_HTTPGET, 1L);
	r->stage = HTTPS_PERFORM;
	if ((r->cc = curl_easy_perform(c)) != CURLE_OK)
		goto out;
	r->stage = HTTPS_STATUS;
	if ((r->cc = curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE,
	    &r->status)) != CURLE_OK)
		goto out;
	/* Both are advice: an answer without them is still an answer. */
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
	    ra > 0)
		r->retry_after = (long long)ra;
	if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nconn) == CURLE_OK)
		r->connects = nconn;
	rc = 0;
out:
	return rc;
}
