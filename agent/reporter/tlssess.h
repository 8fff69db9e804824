/*
 * tlssess: TLS session resumption for the reporter (docs/protocol.md,
 * "Session resumption").  libcurl speaks TLS through OpenSSL here; this
 * module hooks the SSL_CTX curl makes for each new connection
 * (CURLOPT_SSL_CTX_FUNCTION) to offer a session the agent kept from an
 * earlier check-in and to capture the tickets the server issues, so that
 * the agent can keep the newest for the next reporter.
 *
 * Resumption changes nothing of the verification: curl compares the
 * server's key with the pin on every connection, resumed or not (the
 * certificate of a resumed session is the one the full handshake
 * verified), and a server can only resume a session whose ticket it can
 * decrypt, with the key only the server that issued it holds in memory.
 * A session that does not parse, has expired or is refused costs a full
 * handshake, nothing else.
 *
 * Links OpenSSL's libssl and libc only.  A session's DER holds its
 * resumption secret: every copy made here is wiped before it is freed.
 */
#ifndef MUSTER_REPORTER_TLSSESS_H
#define MUSTER_REPORTER_TLSSESS_H

#include <stddef.h>

#include <curl/curl.h>

struct tlssess;

/* A new, empty state in *out: 0, or -1 when out of memory.  Free it
 * with tlssess_free (NULL is a no-op). */
int	tlssess_new(struct tlssess **out);
void	tlssess_free(struct tlssess *t);

/*
 * Offers the session of the len bytes of DER at der on the next new
 * connection (the bytes stay the caller's).  Returns 0, or -1 when they
 * are no session OpenSSL can resume (nothing is offered then).
 */
int	tlssess_offer(struct tlssess *t, const unsigned char *der, size_t len);

/* Forgets every session: offered and captured (the server changed). */
void	tlssess_forget(struct tlssess *t);

/*
 * curl's CURLOPT_SSL_CTX_FUNCTION; CURLOPT_SSL_CTX_DATA is the struct
 * tlssess.  Always CURLE_OK: without its hooks a connection is only not
 * resumed.
 */
CURLcode tlssess_ctx(CURL *curl, void *ssl_ctx, void *arg);

/*
 * The newest session the server issued since the last call, as DER in
 * a new buffer (*der, *len; the caller wipes and frees it).  Returns 1
 * with one, 0 when there is none new, -1 when out of memory.
 */
int	tlssess_take(struct tlssess *t, unsigned char **der, size_t *len);

/* 1 if the last handshake resumed a session, 0 if it was full. */
int	tlssess_resumed(const struct tlssess *t);

#endif
