/*
 * frame: the requests and answers the agent and muster-reporter exchange
 * over a socket on the reporter's descriptor FRAME_FD: one check-in is one
 * reporter and one socket carrying any number of request/answer pairs, in
 * turn (the reporter keeps one HTTPS connection to the server open across
 * them: docs/protocol.md, "One connection per check-in").  The
 * whole wire format lives here; the agent's half (write a request, read
 * an answer) is agent/net.c, the reporter's half (read a request, write
 * an answer) is agent/reporter/frame.c.  Neither side trusts the other's
 * lengths: every field is capped before anything is allocated, and a
 * frame that is short, long, or has bytes after its end is refused.
 *
 * All integers are 32-bit unsigned, big-endian.
 *
 * Request, agent -> reporter; the agent writes the next one only once it
 * has read the answer, and ends the session by shutting down its writing
 * side (end of file where a request would start):
 *	magic		"MUQ2"
 *	method_len	1..FRAME_METHOD_MAX	("GET" or "POST")
 *	url_len		1..FRAME_URL_MAX	(https://HOST[:PORT]/PATH)
 *	pin_len		1..FRAME_PIN_MAX	(1..FRAME_PINS_MAX sha256//BASE64
 *						 joined by ';', curl's set)
 *	headers_len	0..FRAME_HEADERS_MAX	("Name: value\n" lines)
 *	body_len	0..FRAME_REQ_BODY_MAX
 *	session_len	0..FRAME_SESSION_MAX	(a TLS session to offer when
 *						 the reporter connects: the
 *						 DER the server's last
 *						 answer handed back; secret)
 *	method, url, pin, headers, body, session bytes, in that order
 *
 * Answer, reporter -> agent, one per request (the reporter exits at the
 * end of the session, or after answering a request it refused):
 *	magic		"MUR2"
 *	outcome		FRAME_OK, or a FRAME_E* transport failure
 *	status		HTTP status 100..599 when FRAME_OK, else 0
 *	retry_after	0..FRAME_RETRY_MAX: the seconds of the server's
 *			Retry-After (delta-seconds form; 0 when absent)
 *	uid		the reporter's real uid when it answered (after it
 *			dropped root), so the agent can log and check it
 *	etag_len	0..FRAME_ETAG_MAX
 *	msg_len		0..FRAME_MSG_MAX	(printable ASCII: what failed)
 *	body_len	0..FRAME_RESP_BODY_MAX
 *	flags		FRAME_F_* bits, no others
 *	session_len	0..FRAME_SESSION_MAX: a TLS session the server
 *			issued (a ticket) since the previous answer, for the
 *			agent to keep and offer to the next reporter; 0 none
 *	etag, msg, body, session bytes, in that order
 */
#ifndef MUSTER_FRAME_H
#define MUSTER_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FRAME_FD		3	/* the reporter's end of the socket */

#define FRAME_REQ_MAGIC		"MUQ3"
#define FRAME_RESP_MAGIC	"MUR3"
#define FRAME_MAGIC_BYTES	4
#define FRAME_REQ_HEADER	(FRAME_MAGIC_BYTES + 6 * 4)
#define FRAME_RESP_HEADER	(FRAME_MAGIC_BYTES + 9 * 4)
#define FRAME_RETRY_MAX		86400	/* seconds of Retry-After kept */
#define FRAME_IDLE_MS		120000	/* the reporter's wait for a request */

#define FRAME_METHOD_MAX	7
#define FRAME_URL_MAX		1024
#define FRAME_PINS_MAX		4	/* a root's pin set (ROOT_PINS_MAX) */
#define FRAME_PIN_MAX		256	/* FRAME_PINS_MAX pins and ';'s */
#define FRAME_HEADERS_MAX	4096
#define FRAME_HEADER_LINES_MAX	16
#define FRAME_REQ_BODY_MAX	(64 * 1024)	/* protocol.md: bodies <= 64 KiB */
#define FRAME_ETAG_MAX		256
#define FRAME_MSG_MAX		256
#define FRAME_RESP_BODY_MAX	(1024 * 1024)
#define FRAME_SESSION_MAX	8192	/* an SSL_SESSION's DER, ticket and
					   server certificate included */

/* Answer flags. */
#define FRAME_F_RESUMED		0x1	/* this exchange's connection was
					   a resumed TLS session */
#define FRAME_F_ALL		FRAME_F_RESUMED

/* Outcomes. */
#define FRAME_OK		0	/* an HTTP answer, any status */
#define FRAME_EUNREACH		1	/* connect, resolve, send, receive */
#define FRAME_EPIN		2	/* the server's key is not the pin */
#define FRAME_ETIMEOUT		3	/* connect or total time limit */
#define FRAME_ETLS		4	/* TLS handshake or version */
#define FRAME_EREQUEST		5	/* the reporter refused the request */
#define FRAME_ETOOBIG		6	/* the answer exceeded its cap */
#define FRAME_EPRIV		7	/* could not drop privileges */
#define FRAME_EINTERNAL		8	/* out of memory, library failure */
#define FRAME_OUTCOME_MAX	8

/* Return values of the reporter's half (negative). */
#define FRAME_ERR_IO		(-1)	/* read/write failed or short */
#define FRAME_ERR_MAGIC		(-2)	/* not a frame of this version */
#define FRAME_ERR_LIMIT		(-3)	/* a length over its cap */
#define FRAME_ERR_FORMAT	(-4)	/* a field with bad content */
#define FRAME_ERR_TRAILING	(-5)	/* (no longer returned: frames follow) */
#define FRAME_ERR_NOMEM		(-6)
#define FRAME_ERR_EOF		(-7)	/* the session's end: no request */
#define FRAME_ERR_IDLE		(-8)	/* no request within FRAME_IDLE_MS */

/* A request; every string is NUL-terminated and owned by the struct. */
struct frame_request {
	char		*method;
	char		*url;
	char		*pin;
	char		*headers;	/* "Name: value\n" lines, may be "" */
	size_t		 headers_len;
	unsigned char	*body;
	size_t		 body_len;
	unsigned char	*session;	/* wiped when freed: a secret */
	size_t		 session_len;
};

/* An answer, as the reporter writes it (nothing here is owned). */
struct frame_response {
	uint32_t		 outcome;
	uint32_t		 status;
	uint32_t		 retry_after;	/* seconds, 0..FRAME_RETRY_MAX */
	uint32_t		 uid;
	const char		*etag;
	size_t			 etag_len;
	const char		*msg;
	size_t			 msg_len;
	const unsigned char	*body;
	size_t			 body_len;
	uint32_t		 flags;		/* FRAME_F_* */
	const unsigned char	*session;
	size_t			 session_len;
};

static inline void
frame_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t
frame_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * The reporter's half.  frame_request_read reads one request from fd,
 * waiting at most FRAME_IDLE_MS for its first byte, capping each length
 * before it allocates, and checks
 * every field's content: method GET or POST; url https:// and printable
 * without spaces; pin one to FRAME_PINS_MAX "sha256//" followed by 44
 * base64 characters, joined by ';' (frame_pins_ok); header lines
 * "Name: value" of token characters and printable values, at most
 * FRAME_HEADER_LINES_MAX.  Returns 0 and fills
 * *rq (frame_request_free), or a FRAME_ERR_* value with *rq empty:
 * FRAME_ERR_EOF when the agent ended the session (end of file before a
 * request's first byte), FRAME_ERR_IDLE when it sent nothing in time.
 */
int	frame_request_read(int fd, struct frame_request *rq);
void	frame_request_free(struct frame_request *rq);


/*
 * Writes one answer to fd.  Returns 0, FRAME_ERR_LIMIT when a length is
 * over its cap (nothing is written), or FRAME_ERR_IO.
 */
int	frame_response_write(int fd, const struct frame_response *rs);

#define FRAME_PIN_PREFIX	"sha256//"
#define FRAME_PIN_B64_LEN	44	/* base64 of a SHA-256, one '=' */

/*
 * 1 if pin is exactly one curl public key pin "sha256//" + the base64 of
 * 32 bytes: no list, no other hash, no file name.  Both sides check it.
 */
static inline int
frame_pin_ok(const char *pin)
{
	size_t i, n, p = sizeof FRAME_PIN_PREFIX - 1;
	char c;

	for (n = 0; pin[n] != '\0' && n <= p + FRAME_PIN_B64_LEN; n++)
		;
	if (n != p + FRAME_PIN_B64_LEN ||
	    memcmp(pin, FRAME_PIN_PREFIX, p) != 0)
		return 0;
	for (i = p; i < n - 1; i++) {
		c = pin[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	/* 32 bytes: the last digit before '=' carries 2 bits of zero pad. */
	return pin[n - 1] == '=' && strchr("AEIMQUYcgkosw048", pin[n - 2])
	    != NULL;
}

/*
 * 1 if pins is a set of 1..FRAME_PINS_MAX pins as frame_pin_ok takes
 * them, joined by ';' (curl's CURLOPT_PINNEDPUBLICKEY list): the server
 * may present any of them (a root names the current and the next key).
 */
static inline int
frame_pins_ok(const char *pins)
{
	char one[sizeof FRAME_PIN_PREFIX + FRAME_PIN_B64_LEN];
	const char *p = pins, *semi;
	size_t n, count = 0;

	for (;;) {
		semi = strchr(p, ';');
		n = semi != NULL ? (size_t)(semi - p) : strlen(p);
		if (n >= sizeof one || ++count > FRAME_PINS_MAX)
			return 0;
		memcpy(one, p, n);
		one[n] = '\0';
		if (!frame_pin_ok(one))
			return 0;
		if (semi == NULL)
			return 1;
		p = semi + 1;
	}
}

/* A short name of an outcome for messages ("server unreachable"). */
static inline const char *
frame_outcome_name(uint32_t outcome)
{
	static const char *const names[] = {
		"ok", "server unreachable", "server key does not match the pin",
		"timed out", "TLS handshake failed", "request refused by the "
		"reporter", "answer too large", "reporter could not drop "
		"privileges", "reporter internal error",
	};

	return outcome <= FRAME_OUTCOME_MAX ? names[outcome] : "unknown outcome";
}

#endif
