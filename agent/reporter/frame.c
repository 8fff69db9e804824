/*
 * frame: the reporter's half of the agent <-> reporter exchange (read a
 * request, write an answer); the format is in agent/reporter/frame.h.
 * Linked into muster-reporter, which links libcurl and nothing else, so
 * this file uses only libc (and lib/io.c, which is libc only).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/io.h"
#include "frame.h"

/* Wipes the n bytes at p (a body or a session: secrets) and frees p. */
static void
wipe_free(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
	free(p);
}

/* Reads a field of n bytes into a new NUL-terminated buffer. */
static int
read_field(int fd, size_t n, char **out)
{
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return FRAME_ERR_NOMEM;
	if (io_read_all(fd, p, n) != 0) {
		wipe_free(p, n);	/* a part of a body or session */
		return FRAME_ERR_IO;
	}
	p[n] = '\0';
	*out = p;
	return 0;
}

/* 1 if the n bytes at s are printable ASCII without spaces. */
static int
printable_nospace(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* 1 if c may be in a header name (RFC 9110 token). */
static int
tchar(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Checks "Name: value\n" lines: no CR, no control bytes, bounded count. */
static int
headers_ok(const char *h, size_t n)
{
	size_t i = 0, lines = 0, name;

	while (i < n) {
		if (++lines > FRAME_HEADER_LINES_MAX)
			return 0;
		for (name = 0; i < n && tchar((unsigned char)h[i]); i++)
			name++;
		if (name == 0 || i + 1 >= n || h[i] != ':' || h[i + 1] != ' ')
			return 0;
		for (i += 2; i < n && h[i] != '\n'; i++)
			if ((unsigned char)h[i] < 0x20 ||
			    (unsigned char)h[i] >= 0x7f)
				return 0;
		if (i == n)
			return 0;	/* the last line has no newline */
		i++;
	}
	return 1;
}

void
frame_request_free(struct frame_request *rq)
{
	if (rq == NULL)
		return;
	free(rq->method);
	free(rq->url);
	free(rq->pin);
	free(rq->headers);
	/* An enrollment's body carries its bearer token. */
	wipe_free(rq->body, rq->body_len);
	/* A TLS session holds its resumption secret. */
	wipe_free(rq->session, rq->session_len);
	memset(rq, 0, sizeof *rq);
}

/*
 * Waits up to FRAME_IDLE_MS for a request to start and reads its first
 * byte: 0, FRAME_ERR_EOF at end of file, FRAME_ERR_IDLE, FRAME_ERR_IO.
 */
static int
read_first(int fd, unsigned char *c)
{
	struct pollfd pfd;
	ssize_t r;
	int pr;

	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, FRAME_IDLE_MS);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == -1)
			return FRAME_ERR_IO;
		if (pr == 0)
			return FRAME_ERR_IDLE;
		r = read(fd, c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0)
			return FRAME_ERR_EOF;
		return r == 1 ? 0 : FRAME_ERR_IO;
	}
}

int
frame_request_read(int fd, struct frame_request *rq)
{
	unsigned char hdr[FRAME_REQ_HEADER];
	uint32_t mlen, ulen, plen, hlen, blen, slen;
	int rc;

	memset(rq, 0, sizeof *rq);
	if ((rc = read_first(fd, hdr)) != 0)
		return rc;
	if (io_read_all(fd, hdr + 1, sizeof hdr - 1) != 0)
		return FRAME_ERR_IO;
	if (memcmp(hdr, FRAME_REQ_MAGIC, FRAME_MAGIC_BYTES) != 0)
		return FRAME_ERR_MAGIC;
	mlen = frame_get32(hdr + 4);
	ulen = frame_get32(hdr + 8);
	plen = frame_get32(hdr + 12);
	hlen = frame_get32(hdr + 16);
	blen = frame_get32(hdr + 20);
	slen = frame_get32(hdr + 24);
	if (mlen < 1 || mlen > FRAME_METHOD_MAX || ulen < 1 ||
	    ulen > FRAME_URL_MAX || plen < 1 || plen > FRAME_PIN_MAX ||
	    hlen > FRAME_HEADERS_MAX || blen > FRAME_REQ_BODY_MAX ||
	    slen > FRAME_SESSION_MAX)
		return FRAME_ERR_LIMIT;
	if ((rc = read_field(fd, mlen, &rq->method)) != 0 ||
	    (rc = read_field(fd, ulen, &rq->url)) != 0 ||
	    (rc = read_field(fd, plen, &rq->pin)) != 0 ||
	    (rc = read_field(fd, hlen, &rq->headers)) != 0 ||
	    (rc = read_field(fd, blen, (char **)&rq->body)) != 0 ||
	    (rc = read_field(fd, slen, (char **)&rq->session)) != 0)
		goto fail;
	rq->headers_len = hlen;
	rq->body_len = blen;
	rq->session_len = slen;
	if ((strcmp(rq->method, "GET") != 0 &&
	    strcmp(rq->method, "POST") != 0) ||
	    strlen(rq->url) != ulen || strncmp(rq->url, "https://", 8) != 0 ||
	    !printable_nospace(rq->url, ulen) ||
	    strlen(rq->pin) != plen || !frame_pins_ok(rq->pin) ||
	    strlen(rq->headers) != hlen || !headers_ok(rq->headers, hlen) ||
	    (strcmp(rq->method, "GET") == 0 && blen != 0)) {
		rc = FRAME_ERR_FORMAT;
		goto fail;
	}
	return 0;
fail:
	frame_request_free(rq);
	return rc;
}

int
frame_response_write(int fd, const struct frame_response *rs)
{
	unsigned char hdr[FRAME_RESP_HEADER];

	if (rs->outcome > FRAME_OUTCOME_MAX ||
	    rs->retry_after > FRAME_RETRY_MAX ||
	    rs->etag_len > FRAME_ETAG_MAX || rs->msg_len > FRAME_MSG_MAX ||
	    rs->body_len > FRAME_RESP_BODY_MAX ||
	    (rs->flags & ~(uint32_t)FRAME_F_ALL) != 0 ||
	    rs->session_len > FRAME_SESSION_MAX)
		return FRAME_ERR_LIMIT;
	memcpy(hdr, FRAME_RESP_MAGIC, FRAME_MAGIC_BYTES);
	frame_put32(hdr + 4, rs->outcome);
	frame_put32(hdr + 8, rs->status);
	frame_put32(hdr + 12, rs->retry_after);
	frame_put32(hdr + 16, rs->uid);
	frame_put32(hdr + 20, (uint32_t)rs->etag_len);
	frame_put32(hdr + 24, (uint32_t)rs->msg_len);
	frame_put32(hdr + 28, (uint32_t)rs->body_len);
	frame_put32(hdr + 32, rs->flags);
	frame_put32(hdr + 36, (uint32_t)rs->session_len);
	if (io_write_all(fd, hdr, sizeof hdr) != 0 ||
	    io_write_all(fd, rs->etag, rs->etag_len) != 0 ||
	    io_write_all(fd, rs->msg, rs->msg_len) != 0 ||
	    io_write_all(fd, rs->body, rs->body_len) != 0 ||
	    io_write_all(fd, rs->session, rs->session_len) != 0)
		return FRAME_ERR_IO;
	return 0;
}
