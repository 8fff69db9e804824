/* tlssess: TLS session resumption for the reporter; tlssess.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "frame.h"
#include "tlssess.h"

struct tlssess {
	SSL_SESSION	*offer;		/* offered on the next connection */
	SSL_SESSION	*fresh;		/* issued since tlssess_take */
	int		 resumed;	/* the last handshake */
};

/* Where an SSL_CTX made by curl keeps its struct tlssess. */
static int tlssess_idx = -1;

int
tlssess_new(struct tlssess **out)
{
	*out = NULL;
	if (tlssess_idx < 0 && (tlssess_idx = SSL_CTX_get_ex_new_index(0,
	    NULL, NULL, NULL, NULL)) < 0)
		return -1;
	if ((*out = calloc(1, sizeof **out)) == NULL)
		return -1;
	return 0;
}

void
tlssess_forget(struct tlssess *t)
{
	SSL_SESSION_free(t->offer);
	SSL_SESSION_free(t->fresh);
	t->offer = t->fresh = NULL;
}

void
tlssess_free(struct tlssess *t)
{
	if (t == NULL)
		return;
	tlssess_forget(t);	/* OpenSSL wipes a session's secrets */
	free(t);
}

int
tlssess_offer(struct tlssess *t, const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	SSL_SESSION *s;

	if (len == 0 || len > FRAME_SESSION_MAX)
		return -1;
	if ((s = d2i_SSL_SESSION(NULL, &p, (long)len)) == NULL ||
	    p != der + len || !SSL_SESSION_is_resumable(s) ||
	    SSL_SESSION_get_protocol_version(s) != TLS1_3_VERSION) {
		SSL_SESSION_free(s);
		return -1;
	}
	SSL_SESSION_free(t->offer);
	t->offer = s;
	return 0;
}

static struct tlssess *
of(const SSL *ssl)
{
	return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tlssess_idx);
}

/* OpenSSL's new-session callback: a ticket arrived.  Keeps it (1). */
static int
on_new(SSL *ssl, SSL_SESSION *s)
{
	struct tlssess *t = of(ssl);

	if (t == NULL || !SSL_SESSION_is_resumable(s))
		return 0;
	SSL_SESSION_free(t->fresh);
	t->fresh = s;
	/* A second connection of the same reporter resumes this one. */
	SSL_SESSION_free(t->offer);
	SSL_SESSION_up_ref(s);
	t->offer = s;
	return 1;
}

/*
 * The info callback: at the start of a connection's handshake (before
 * the ClientHello is made) the session to offer; at its end, whether it
 * was resumed.
 */
static void
on_info(const SSL *ssl, int where, int ret)
{
	struct tlssess *t = of(ssl);

	(void)ret;
	if (t == NULL)
		return;
	if ((where & SSL_CB_HANDSHAKE_START) != 0) {
		t->resumed = 0;
		if (t->offer != NULL && SSL_get0_session(ssl) == NULL)
			(void)SSL_set_session((SSL *)ssl, t->offer);
	}
	if ((where & SSL_CB_HANDSHAKE_DONE) != 0)
		t->resumed = SSL_session_reused(ssl);
}

CURLcode
tlssess_ctx(CURL *curl, void *ssl_ctx, void *arg)
{
	SSL_CTX *ctx = ssl_ctx;
	struct tlssess *t = arg;

	(void)curl;
	t->resumed = 0;		/* a new connection: nothing resumed yet */
	if (SSL_CTX_set_ex_data(ctx, tlssess_idx, arg) != 1)
		return CURLE_OK;
	/* A client cache with no store of OpenSSL's own: on_new keeps. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(ctx, on_new);
	SSL_CTX_set_info_callback(ctx, on_info);
	return CURLE_OK;
}

int
tlssess_take(struct tlssess *t, unsigned char **der, size_t *len)
{
	unsigned char *buf, *p;
	int n;

	*der = NULL;
	*len = 0;
	if (t->fresh == NULL)
		return 0;
	n = i2d_SSL_SESSION(t->fresh, NULL);
	if (n <= 0 || (size_t)n > FRAME_SESSION_MAX) {
		/* Nothing the agent could keep: as if none came. */
		SSL_SESSION_free(t->fresh);
		t->fresh = NULL;
		return 0;
	}
	if ((buf = malloc((size_t)n)) == NULL)
		return -1;
	p = buf;
	if (i2d_SSL_SESSION(t->fresh, &p) != n) {
		OPENSSL_cleanse(buf, (size_t)n);
		free(buf);
		return -1;
	}
	SSL_SESSION_free(t->fresh);
	t->fresh = NULL;
	*der = buf;
	*len = (size_t)n;
	return 1;
}

int
tlssess_resumed(const struct tlssess *t)
{
	return t->resumed;
}
