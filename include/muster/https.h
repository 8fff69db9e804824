/*
 * https: the one pinned libcurl client, used by the agent's reporter
 * (agent/reporter/fetch.c) and by muster-enroll's admin calls
 * (enroll/admin.c).
 *
 * Every exchange is HTTPS only, never redirected, TLS 1.2 or later, with
 * the server's public key pinned (CURLOPT_PINNEDPUBLICKEY), bounded in time
 * and in the bytes of the answer kept, and every curl_easy_setopt checked.
 * The pin cannot be switched off: curl compares the server's key with it
 * on every handshake, whatever else is verified, and aborts before a byte
 * of the request is sent when they differ.  With a CA file the
 * certificate chain and host name are verified as well; without one the
 * pin alone is the verification (a device holds no CA for the org's
 * self-signed server certificate, only the pin from its signed token).
 *
 * This module depends on libcurl and libc only: muster-reporter links its
 * one object and nothing else of libmuster, so no libsodium or jansson is
 * mapped into the process that talks to the network.  A caller may hook
 * the TLS context of each new connection (struct https_opts ssl_ctx_fn;
 * the reporter resumes sessions so), which cannot switch the pin off.
 */
#ifndef MUSTER_HTTPS_H
#define MUSTER_HTTPS_H

#include <stddef.h>

#include <curl/curl.h>

#if LIBCURL_VERSION_NUM < 0x075500
#error "libcurl 7.85 or later is needed (CURLOPT_PROTOCOLS_STR)"
#endif

/* Where an answer's body goes. */
struct https_sink {
	char	*buf;		/* malloc'd, NUL-terminated; the caller frees */
	size_t	 len, cap;
	size_t	 max;		/* bytes kept at most */
	int	 discard;	/* over max: 1 read on and keep nothing more,
				   0 fail the transfer (CURLE_WRITE_ERROR) */
	int	 over;		/* set once an answer went over max */
};

/*
 * One exchange.  pin is curl's "sha256//BASE64[;sha256//...]" and always
 * checked.  ca, a PEM file, is the only CA, with the peer and host name
 * verified; NULL leaves the pin alone as the verification.  isolated
 * also refuses a proxy named by the environment and speaks HTTP/1.1.
 * A sink without discard also sets CURLOPT_MAXFILESIZE to its max.
 */
struct https_opts {
	const char		*url;
	const char		*pin;
	const char		*ca;
	int			 isolated;
	int			 fresh;		/* never reuse a connection */
	long			 connect_timeout;	/* seconds */
	long			 timeout;	/* seconds, all of it */
	const char		*user_agent;
	struct curl_slist	*headers;	/* the caller's; NULL: none */
	int			 post;		/* else a GET */
	const void		*body;		/* of a POST; NULL: empty */
	size_t			 body_len;
	struct https_sink	*sink;
	curl_write_callback	 header_fn;	/* NULL: headers not seen */
	void			*header_arg;
	char			*errbuf;	/* CURL_ERROR_SIZE bytes */
	/* Called with the TLS library's context of each new connection
	 * (CURLOPT_SSL_CTX_FUNCTION), e.g. to resume a session; NULL:
	 * none.  It cannot weaken the pin: curl checks it after the
	 * handshake, whatever the context did. */
	curl_ssl_ctx_callback	 ssl_ctx_fn;
	void			*ssl_ctx_arg;
};

/* Where https_exchange stopped. */
enum https_stage {
	HTTPS_INIT,		/* curl_global_init or curl_easy_init */
	HTTPS_SETOPT,		/* an option was refused; see opt */
	HTTPS_PERFORM,		/* the transfer failed; see cc and errbuf */
	HTTPS_STATUS,		/* no response code; see cc */
};

struct https_result {
	enum https_stage	 stage;	/* when https_exchange returned -1 */
	CURLcode		 cc;
	const char		*opt;	/* HTTPS_SETOPT: "CURLOPT_..." */
	long			 status;	/* the HTTP status, on 0 */
	long long		 retry_after;	/* seconds of Retry-After, or 0 */
	long			 connects;	/* new connections it made */
};

/*
 * A client that keeps its connection between exchanges (keep-alive), so
 * that a check-in's requests share one TLS connection.  Opaque.
 */
struct https_conn;

/*
 * curl's write callback for a struct https_sink (arg).  Returns n, or 0
 * to fail the transfer (out of memory, or over max without discard).
 */
size_t	https_sink_write(char *ptr, size_t size, size_t nmemb, void *arg);

/*
 * Appends line to *list (which stays the caller's; curl_slist_free_all
 * it).  Returns 0, or -1 when out of memory (*list is unchanged).
 */
int	https_header_add(struct curl_slist **list, const char *line);

/*
 * Performs the exchange o describes, between curl_global_init and
 * curl_global_cleanup of its own.  Returns 0 with the HTTP status in
 * r->status (the body is in o->sink), or -1 with where and why it stopped
 * in r (and curl's message in o->errbuf after HTTPS_PERFORM).  The caller
 * keeps owning o's headers and the sink's buffer.
 */
int	https_exchange(const struct https_opts *o, struct https_result *r);

/*
 * https_conn_open makes a client (curl_global_init and an easy handle of
 * its own); 0, or -1 when libcurl could not start.  https_exchange_on
 * performs one exchange as https_exchange does, reusing the connection of
 * the previous one when it is to the same server, alive, and o->fresh is
 * not set (set it when the pin changed: curl matches a connection by its
 * host, not by the pin it was checked against); r->connects says whether
 * it connected anew.  https_conn_close frees it; NULL is a no-op.
 */
int	https_conn_open(struct https_conn **hc);
int	https_exchange_on(struct https_conn *hc, const struct https_opts *o,
	    struct https_result *r);
void	https_conn_close(struct https_conn *hc);

#endif
