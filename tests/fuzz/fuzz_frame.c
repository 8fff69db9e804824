/*
 * fuzz_frame: the agent <-> muster-reporter framing, both directions, on
 * arbitrary bytes (agent/reporter/frame.h has the format).  Each input is
 * read, whole, from a memory file:
 *
 *	frame_request_read	as the reporter reads the agent's request
 *	net_response_read	as the agent reads the reporter's answer
 *
 * A frame that is accepted must be written back byte for byte by the
 * other side's writer (net_request_write over a socket pair,
 * frame_response_write to a memory file): the format has one spelling
 * and both halves agree on it, the TLS session (a request's to offer, an
 * answer's to keep) and an answer's flags included.  Frames follow each other in a session
 * (one reporter per check-in), so what follows an accepted frame is left
 * for the next read: the request reader is run again on the rest, until
 * it ends or is refused.  An accepted answer's body goes on to what the
 * agent reads of it: a report's answer (report_answer_parse: a policy tag
 * of "R:M" only, a time or nothing) and a clock answer
 * (clock_offset_from: an offset within CLOCK_OFFSET_MAX).
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/err.h"
#include "muster/report.h"
#include "../../agent/clock.h"
#include "../../agent/net.h"
#include "../../agent/reporter/frame.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

/* What the agent reads of an answer's body (run.c). */
static void
body_read(const struct net_response *rs)
{
	struct report_answer a;
	const char *colon;
	int64_t off;

	if (report_answer_parse(rs->body, rs->body_len, &a) == 0) {
		FUZZ_ASSERT(rs->body_len <= REPORT_ANSWER_MAX,
		    "an answer over REPORT_ANSWER_MAX read");
		colon = strchr(a.policy, ':');
		FUZZ_ASSERT(a.policy[0] == '\0' || (colon != NULL &&
		    colon > a.policy && colon[1] != '\0' &&
		    strspn(a.policy, "0123456789:") == strlen(a.policy) &&
		    strchr(colon + 1, ':') == NULL),
		    "a policy tag that is not R:M: %s", a.policy);
		FUZZ_ASSERT(a.server_time >= 0, "a time before 1970");
	}
	if (clock_offset_from(rs->body, rs->body_len, time(NULL), &off) == 0)
		FUZZ_ASSERT(off >= -CLOCK_OFFSET_MAX &&
		    off <= CLOCK_OFFSET_MAX, "an offset out of range");
}

/* A memory file holding data, positioned at its start. */
static int
memfile(const uint8_t *data, size_t size)
{
	int fd;

	if ((fd = memfd_create("fuzz_frame", MFD_CLOEXEC)) == -1 ||
	    (size > 0 && fs_write_all(fd, data, size) != 0) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	return fd;
}

/* Everything fd holds from its start; *len bytes, malloc'd. */
static uint8_t *
slurp(int fd, size_t *len)
{
	uint8_t *buf = NULL, *nb;
	size_t cap = 0, n = 0;
	ssize_t r;

	for (;;) {
		if (n == cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL)
				abort();
			buf = nb;
		}
		if ((r = read(fd, buf + n, cap - n)) <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

/* The bytes of the request rq as its frame spells them. */
static size_t
request_len(const struct frame_request *rq)
{
	return FRAME_REQ_HEADER + strlen(rq->method) + strlen(rq->url) +
	    strlen(rq->pin) + rq->headers_len + rq->body_len +
	    rq->session_len;
}

/* The agent writes the request the reporter read: the same bytes. */
static void
request_roundtrip(const struct frame_request *rq, const uint8_t *data,
    size_t size)
{
	struct net_request nr;
	struct muster_err e;
	uint8_t *got;
	char *server, *slash;
	size_t len;
	int sv[2], rc;

	/*
	 * net_request_write takes the URL as server + "/path" and drops the
	 * server's trailing slashes, so a URL with no host has no such split.
	 */
	if (rq->url[strlen("https://")] == '/' ||
	    (slash = strchr(rq->url + strlen("https://"), '/')) == NULL)
		return;
	if ((server = strndup(rq->url, (size_t)(slash - rq->url))) == NULL)
		abort();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	nr = (struct net_request){ rq->method, server, slash, rq->pin,
	    rq->headers, rq->body, rq->body_len,
	    rq->session_len > 0 ? rq->session : NULL, rq->session_len };
	rc = net_request_write(sv[0], &nr, &e);
	FUZZ_ASSERT(rc == 0, "the agent will not write a request the "
	    "reporter accepts: %s", e.msg);
	close(sv[0]);
	got = slurp(sv[1], &len);
	close(sv[1]);
	FUZZ_ASSERT(len == size && memcmp(got, data, size) == 0,
	    "the agent writes the request otherwise (%zu bytes, not %zu)",
	    len, size);
	free(got);
	free(server);
}

static void
fuzz_request(const uint8_t *data, size_t size)
{
	struct frame_request rq;
	size_t off = 0, n;
	int fd, rc, frames = 0;

	fd = memfile(data, size);
	/* A session: frames one after another, at most a few per input. */
	while (frames++ < 8) {
		rc = frame_request_read(fd, &rq);
		if (rc != 0) {
			FUZZ_ASSERT(rc >= FRAME_ERR_IDLE && rc <= FRAME_ERR_IO &&
			    rq.method == NULL && rq.body == NULL,
			    "frame_request_read: %d", rc);
			FUZZ_ASSERT(rc != FRAME_ERR_EOF || off == size,
			    "end of session inside the input");
			break;
		}
		FUZZ_ASSERT(rq.method != NULL && rq.url != NULL &&
		    rq.pin != NULL && rq.headers != NULL &&
		    strlen(rq.headers) == rq.headers_len &&
		    rq.session != NULL && rq.session_len <= FRAME_SESSION_MAX,
		    "a request with a missing field");
		n = request_len(&rq);
		FUZZ_ASSERT(off + n <= size, "a request longer than its input");
		request_roundtrip(&rq, data + off, n);
		frame_request_free(&rq);
		off += n;
	}
	close(fd);
}

static void
fuzz_response(const uint8_t *data, size_t size)
{
	struct net_response rs;
	struct frame_response fr;
	struct muster_err e;
	uint8_t *got;
	size_t len;
	int fd, rc;

	fd = memfile(data, size);
	rc = net_response_read(fd, 1000, &rs, &e);
	close(fd);
	if (rc != 0) {
		FUZZ_ASSERT(rc == MUSTER_ETEMP || rc == MUSTER_EINTERNAL,
		    "net_response_read: %d", rc);
		FUZZ_ASSERT(rs.body == NULL && rs.session == NULL,
		    "a refused answer kept a body or a session");
		return;
	}
	FUZZ_ASSERT(rs.body != NULL && rs.body[rs.body_len] == '\0',
	    "an answer without a terminated body");
	FUZZ_ASSERT((rs.flags & ~(uint32_t)FRAME_F_ALL) == 0 &&
	    rs.session_len <= FRAME_SESSION_MAX &&
	    (rs.session_len == 0) == (rs.session == NULL),
	    "an answer with unknown flags or a bad session");
	(void)net_outcome_rc(&rs, &e);
	body_read(&rs);
	fr = (struct frame_response){ .outcome = rs.outcome,
	    .status = rs.status, .retry_after = rs.retry_after,
	    .uid = rs.uid, .etag = rs.etag, .etag_len = strlen(rs.etag),
	    .msg = rs.msg, .msg_len = strlen(rs.msg),
	    .body = (const unsigned char *)rs.body, .body_len = rs.body_len,
	    .flags = rs.flags, .session = rs.session,
	    .session_len = rs.session_len };
	if ((fd = memfd_create("fuzz_frame", MFD_CLOEXEC)) == -1)
		abort();
	rc = frame_response_write(fd, &fr);
	FUZZ_ASSERT(rc == 0, "the reporter will not write an answer the "
	    "agent accepts: %d", rc);
	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	got = slurp(fd, &len);
	close(fd);
	/* What follows the answer is the next one's, left unread. */
	FUZZ_ASSERT(len <= size && memcmp(got, data, len) == 0,
	    "the reporter writes the answer otherwise");
	free(got);
	net_response_free(&rs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_request(data, size);
	fuzz_response(data, size);
	return 0;
}
