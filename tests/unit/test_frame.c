/*
 * Unit tests for the agent <-> muster-reporter framing: the agent's half
 * (agent/net.c: write a request, read an answer) against the reporter's
 * half (agent/reporter/frame.c: read a request, write an answer), a
 * session of several requests and answers over one socket, and every kind
 * of bad frame from either side -- truncated, oversized, malformed,
 * garbage after a frame, late -- refused with a clean error before
 * anything is allocated for it.
 */
#include "unit.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/err.h"
#include "../../agent/net.h"
#include "../../agent/reporter/frame.h"

#define PIN	"sha256//4GNqy/7jNrj2xws2r4IXoiqaPQnF5Heac7v62jkYR5o="

/* A socket pair: [0] for the side under test, [1] for the test. */
static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void
put(int fd, const void *buf, size_t n)
{
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
}

/* Writes a request header with the given lengths, then the bytes. */
static void
raw_request(int fd, const char *magic, uint32_t ml, uint32_t ul,
    uint32_t pl, uint32_t hl, uint32_t bl, const void *rest, size_t n)
{
	unsigned char h[FRAME_REQ_HEADER];

	memcpy(h, magic, 4);
	frame_put32(h + 4, ml);
	frame_put32(h + 8, ul);
	frame_put32(h + 12, pl);
	frame_put32(h + 16, hl);
	frame_put32(h + 20, bl);
	frame_put32(h + 24, 0);		/* no TLS session */
	put(fd, h, sizeof h);
	if (n > 0)
		put(fd, rest, n);
}

/* Feeds a request made of parts; returns what frame_request_read says. */
static int
req_parts(const char *method, const char *url, const char *pin,
    const char *hdrs, const char *body, const char *trail)
{
	struct frame_request rq;
	char buf[8192];
	int sv[2], rc;
	size_t n;

	n = (size_t)snprintf(buf, sizeof buf, "%s%s%s%s%s%s", method, url, pin,
	    hdrs, body, trail);
	pair(sv);
	raw_request(sv[1], FRAME_REQ_MAGIC, (uint32_t)strlen(method),
	    (uint32_t)strlen(url), (uint32_t)strlen(pin),
	    (uint32_t)strlen(hdrs), (uint32_t)strlen(body), buf, n);
	shutdown(sv[1], SHUT_WR);
	rc = frame_request_read(sv[0], &rq);
	if (rc == 0)
		frame_request_free(&rq);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

static void
test_request_roundtrip(void **state)
{
	struct net_request rq = { "POST", "https://127.0.0.1:8443/",
	    "/v1/report", PIN, "Content-Type: application/json\n"
	    "Muster-Device: 0123\n", "{\"a\":1}", 7, NULL, 0 };
	struct frame_request got;
	struct muster_err e;
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(net_request_write(sv[1], &rq, &e), 0);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &got), 0);
	assert_string_equal(got.method, "POST");
	/* The server's trailing '/' is not doubled. */
	assert_string_equal(got.url, "https://127.0.0.1:8443/v1/report");
	assert_string_equal(got.pin, PIN);
	assert_string_equal(got.headers, rq.headers);
	assert_int_equal(got.body_len, 7);
	assert_memory_equal(got.body, "{\"a\":1}", 7);
	frame_request_free(&got);
	close(sv[0]);
	close(sv[1]);
}

static void
test_request_writer_refuses(void **state)
{
	struct net_request ok = { "GET", "https://h", "/v1/profile", PIN,
	    NULL, NULL, 0, NULL, 0 };
	struct net_request rq;
	struct muster_err e;
	static char big[FRAME_REQ_BODY_MAX + 1];
	int sv[2];

	(void)state;
	pair(sv);
	rq = ok; rq.method = "PUT";
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.server = "http://h";
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.pin = "sha256//short=";
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	/* A root's pin set: 1..FRAME_PINS_MAX pins, nothing empty. */
	rq = ok; rq.pin = PIN ";" PIN ";" PIN ";" PIN ";" PIN;
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.pin = PIN ";";
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.pin = ";" PIN;
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.pin = PIN ";sha256//short=";
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.pin = "";
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.body = big; rq.body_len = sizeof big;
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq = ok; rq.path = "v1/profile";
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	/* Nothing was written by any of them. */
	shutdown(sv[1], SHUT_WR);
	{
		char c;

		assert_int_equal(read(sv[0], &c, 1), 0);
	}
	close(sv[0]);
	close(sv[1]);
}

static void
test_request_malicious(void **state)
{
	struct frame_request rq;
	int sv[2];

	(void)state;
	/* The good one, then one change at a time. */
	assert_int_equal(req_parts("GET", "https://h/v1/profile", PIN,
	    "A: b\n", "", ""), 0);
	/* Bytes after a frame are the next one's: read there, not here. */
	assert_int_equal(req_parts("GET", "https://h/v1/profile", PIN,
	    "A: b\n", "", "x"), 0);
	assert_int_equal(req_parts("DELETE", "https://h/", PIN, "", "", ""),
	    FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("GET", "http://h/", PIN, "", "", ""),
	    FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("GET", "https://h/ x", PIN, "", "", ""),
	    FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("GET", "https://h/", "sha256//x", "", "",
	    ""), FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("GET", "https://h/", PIN, "", "body", ""),
	    FRAME_ERR_FORMAT);
	/* Header injection and malformed header lines. */
	assert_int_equal(req_parts("POST", "https://h/", PIN,
	    "A: b\r\nHost: evil\n", "", ""), FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("POST", "https://h/", PIN, "A: b", "", ""),
	    FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("POST", "https://h/", PIN, "A b\n", "", ""),
	    FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("POST", "https://h/", PIN, ": b\n", "", ""),
	    FRAME_ERR_FORMAT);
	assert_int_equal(req_parts("POST", "https://h/", PIN,
	    "A: 1\nA: 2\nA: 3\nA: 4\nA: 5\nA: 6\nA: 7\nA: 8\nA: 9\nA: 10\n"
	    "A: 11\nA: 12\nA: 13\nA: 14\nA: 15\nA: 16\nA: 17\n", "", ""),
	    FRAME_ERR_FORMAT);

	/* Bad magic, and the one-request version before sessions. */
	pair(sv);
	raw_request(sv[1], "MUQ9", 3, 9, 52, 0, 0, NULL, 0);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_MAGIC);
	close(sv[0]); close(sv[1]);
	pair(sv);
	raw_request(sv[1], "MUQ1", 3, 9, 52, 0, 0, NULL, 0);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_MAGIC);
	close(sv[0]); close(sv[1]);

	/* Lengths over their caps: refused before any allocation. */
	pair(sv);
	raw_request(sv[1], FRAME_REQ_MAGIC, 3, 9, 52, 0, 0xffffffffu, NULL, 0);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_LIMIT);
	close(sv[0]); close(sv[1]);
	pair(sv);
	raw_request(sv[1], FRAME_REQ_MAGIC, 0, 9, 52, 0, 0, NULL, 0);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_LIMIT);
	close(sv[0]); close(sv[1]);
	pair(sv);
	raw_request(sv[1], FRAME_REQ_MAGIC, 3, FRAME_URL_MAX + 1, 52, 0, 0,
	    NULL, 0);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_LIMIT);
	close(sv[0]); close(sv[1]);

	/* Truncated: in the header, and in the fields. */
	pair(sv);
	put(sv[1], FRAME_REQ_MAGIC "\0\0", 6);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_IO);
	close(sv[0]); close(sv[1]);
	pair(sv);
	raw_request(sv[1], FRAME_REQ_MAGIC, 3, 9, 52, 0, 10, "GEThttps://h",
	    12);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_IO);
	close(sv[0]); close(sv[1]);
	/* Nothing at all: the session's end, not an error. */
	pair(sv);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &rq), FRAME_ERR_EOF);
	close(sv[0]); close(sv[1]);
	/* A NUL inside the URL. */
	{
		char u[] = "GEThttps://h\0x/" PIN;

		pair(sv);
		raw_request(sv[1], FRAME_REQ_MAGIC, 3, 12, 52, 0, 0, u,
		    sizeof u - 1);
		shutdown(sv[1], SHUT_WR);
		assert_int_equal(frame_request_read(sv[0], &rq),
		    FRAME_ERR_FORMAT);
		close(sv[0]); close(sv[1]);
	}
}

static void
test_response_roundtrip(void **state)
{
	struct frame_response rs = { FRAME_OK, 202, 30, 65534, "\"a:1\"", 5,
	    "", 0, (const unsigned char *)"{\"ok\":1}", 8, 0, NULL, 0 };
	struct net_response got;
	struct muster_err e;
	int sv[2];

	(void)state;
	pair(sv);
	assert_int_equal(frame_response_write(sv[1], &rs), 0);
	close(sv[1]);
	assert_int_equal(net_response_read(sv[0], 1000, &got, &e), 0);
	assert_int_equal(got.outcome, FRAME_OK);
	assert_int_equal(got.status, 202);
	assert_int_equal(got.retry_after, 30);
	assert_int_equal(got.uid, 65534);
	assert_string_equal(got.etag, "\"a:1\"");
	assert_string_equal(got.body, "{\"ok\":1}");
	assert_int_equal(got.body_len, 8);
	net_response_free(&got);
	close(sv[0]);

	/* A transport failure with its message. */
	rs.outcome = FRAME_EPIN;
	rs.status = 0;
	rs.msg = "SSL: public key does not match pinned public key";
	rs.msg_len = strlen(rs.msg);
	rs.body_len = 0;
	pair(sv);
	assert_int_equal(frame_response_write(sv[1], &rs), 0);
	close(sv[1]);
	assert_int_equal(net_response_read(sv[0], 1000, &got, &e), 0);
	assert_int_equal(got.outcome, FRAME_EPIN);
	assert_int_equal(net_outcome_rc(&got, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "pin"));
	net_response_free(&got);
	close(sv[0]);
}

/* Writes a raw answer; returns what net_response_read says. */
static int
resp_raw(const char *magic, uint32_t outcome, uint32_t status, uint32_t el,
    uint32_t ml, uint32_t bl, const void *rest, size_t n, int close_after)
{
	unsigned char h[FRAME_RESP_HEADER];
	struct net_response got;
	struct muster_err e;
	int sv[2], rc;

	pair(sv);
	memcpy(h, magic, 4);
	frame_put32(h + 4, outcome);
	frame_put32(h + 8, status);
	frame_put32(h + 12, status == 503 ? FRAME_RETRY_MAX + 1 : 0);
	frame_put32(h + 16, 65534);
	frame_put32(h + 20, el);
	frame_put32(h + 24, ml);
	frame_put32(h + 28, bl);
	frame_put32(h + 32, 0);		/* flags */
	frame_put32(h + 36, 0);		/* no TLS session */
	put(sv[1], h, sizeof h);
	if (n > 0)
		put(sv[1], rest, n);
	if (close_after)
		shutdown(sv[1], SHUT_WR);
	memset(&got, 0x55, sizeof got);
	rc = net_response_read(sv[0], 200, &got, &e);
	if (rc == 0)
		net_response_free(&got);
	else {
		/* A refused answer leaves nothing to free. */
		assert_null(got.body);
		assert_true(strlen(e.msg) > 0);
	}
	close(sv[0]);
	close(sv[1]);
	return rc;
}

static void
test_response_malicious(void **state)
{
	(void)state;
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0, 0, 2,
	    "{}", 2, 1), 0);
	assert_int_equal(resp_raw("MUR9", FRAME_OK, 200, 0, 0, 2, "{}", 2, 1),
	    MUSTER_ETEMP);
	assert_int_equal(resp_raw("MUR1", FRAME_OK, 200, 0, 0, 2, "{}", 2, 1),
	    MUSTER_ETEMP);
	/* A Retry-After over its cap (resp_raw gives a 503 one). */
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 503, 0, 0, 2,
	    "{}", 2, 1), MUSTER_ETEMP);
	/* Oversized lengths: refused before allocating 4 GiB. */
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0, 0,
	    0xffffffffu, NULL, 0, 1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0, 0,
	    FRAME_RESP_BODY_MAX + 1, NULL, 0, 1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200,
	    FRAME_ETAG_MAX + 1, 0, 0, NULL, 0, 1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0,
	    FRAME_MSG_MAX + 1, 0, NULL, 0, 1), MUSTER_ETEMP);
	/* Outcomes and statuses that cannot be. */
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, 99, 0, 0, 0, 0, NULL, 0,
	    1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 0, 0, 0, 0,
	    NULL, 0, 1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 600, 0, 0, 0,
	    NULL, 0, 1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_EUNREACH, 200, 0, 0,
	    0, NULL, 0, 1), MUSTER_ETEMP);
	/* Truncated body; bytes after an answer are left for the next. */
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0, 0, 10,
	    "{}", 2, 1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0, 0, 2,
	    "{}!", 3, 1), 0);
	/* Unprintable bytes in what gets logged. */
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_EUNREACH, 0, 0, 3,
	    0, "a\nb", 3, 1), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 304, 2, 0, 0,
	    "\x1b[", 2, 1), MUSTER_ETEMP);
	/* A reporter that never finishes: a time limit, not a hang; one
	 * that stays for the next request after a whole answer is fine. */
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0, 0, 5,
	    "{}", 2, 0), MUSTER_ETEMP);
	assert_int_equal(resp_raw(FRAME_RESP_MAGIC, FRAME_OK, 200, 0, 0, 2,
	    "{}", 2, 0), 0);
	{
		struct net_response got;
		struct muster_err e;
		int sv[2];

		pair(sv);
		put(sv[1], "MU", 2);
		close(sv[1]);
		assert_int_equal(net_response_read(sv[0], 200, &got, &e),
		    MUSTER_ETEMP);
		assert_non_null(strstr(e.msg, "truncated"));
		close(sv[0]);
	}
}

static void
test_response_writer_refuses(void **state)
{
	struct frame_response rs;
	int sv[2];
	char c;

	(void)state;
	pair(sv);
	memset(&rs, 0, sizeof rs);
	rs.outcome = FRAME_OUTCOME_MAX + 1;
	assert_int_equal(frame_response_write(sv[1], &rs), FRAME_ERR_LIMIT);
	rs.outcome = FRAME_OK;
	rs.body_len = FRAME_RESP_BODY_MAX + 1;
	assert_int_equal(frame_response_write(sv[1], &rs), FRAME_ERR_LIMIT);
	close(sv[1]);
	assert_int_equal(read(sv[0], &c, 1), 0);
	close(sv[0]);
}

/*
 * A session: three requests and their answers in turn over one socket,
 * then the end of file that ends it; garbage after a good request is
 * refused as the next one.
 */
/*
 * The TLS session fields: a request's session (to offer) and an answer's
 * flags and session (to keep) go through byte for byte; a session over
 * FRAME_SESSION_MAX, unknown flags, a session cut short are refused.
 */
static void
test_tls_session_fields(void **state)
{
	static unsigned char sess[FRAME_SESSION_MAX + 1];
	struct net_request rq = { "GET", "https://127.0.0.1:8443",
	    "/v1/policy", PIN, NULL, NULL, 0, sess, 900 };
	struct frame_response rs = { FRAME_OK, 304, 0, 65534, "", 0, "", 0,
	    NULL, 0, FRAME_F_RESUMED, sess, 1200 };
	struct frame_request got;
	struct net_response ans;
	struct muster_err e;
	unsigned char h[FRAME_RESP_HEADER];
	int sv[2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sess; i++)
		sess[i] = (unsigned char)(i * 7 + 3);
	pair(sv);
	assert_int_equal(net_request_write(sv[1], &rq, &e), 0);
	assert_int_equal(frame_request_read(sv[0], &got), 0);
	assert_int_equal(got.session_len, 900);
	assert_memory_equal(got.session, sess, 900);
	frame_request_free(&got);
	assert_null(got.session);
	assert_int_equal(frame_response_write(sv[0], &rs), 0);
	assert_int_equal(net_response_read(sv[1], 1000, &ans, &e), 0);
	assert_int_equal(ans.flags, FRAME_F_RESUMED);
	assert_int_equal(ans.session_len, 1200);
	assert_memory_equal(ans.session, sess, 1200);
	net_response_free(&ans);
	assert_null(ans.session);
	close(sv[0]);
	close(sv[1]);

	/* Oversized: neither writer writes it, neither reader takes it. */
	pair(sv);
	rq.session_len = FRAME_SESSION_MAX + 1;
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rq.session = NULL;
	rq.session_len = 5;
	assert_int_equal(net_request_write(sv[1], &rq, &e), MUSTER_EUSAGE);
	rs.session_len = FRAME_SESSION_MAX + 1;
	assert_int_equal(frame_response_write(sv[0], &rs), FRAME_ERR_LIMIT);
	rs.session_len = 10;
	rs.flags = 0x2;
	assert_int_equal(frame_response_write(sv[0], &rs), FRAME_ERR_LIMIT);
	close(sv[0]);
	close(sv[1]);

	/* A request whose header claims a session over the cap. */
	pair(sv);
	{
		unsigned char q[FRAME_REQ_HEADER];

		memcpy(q, FRAME_REQ_MAGIC, 4);
		frame_put32(q + 4, 3);
		frame_put32(q + 8, 20);
		frame_put32(q + 12, 52);
		frame_put32(q + 16, 0);
		frame_put32(q + 20, 0);
		frame_put32(q + 24, FRAME_SESSION_MAX + 1);
		put(sv[1], q, sizeof q);
	}
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &got), FRAME_ERR_LIMIT);
	close(sv[0]);
	close(sv[1]);

	/* Answers: a session over the cap, an unknown flag, one cut short. */
	for (i = 0; i < 3; i++) {
		pair(sv);
		memset(h, 0, sizeof h);
		memcpy(h, FRAME_RESP_MAGIC, 4);
		frame_put32(h + 8, 200);
		frame_put32(h + 16, 65534);
		frame_put32(h + 32, i == 1 ? 0x4 : FRAME_F_RESUMED);
		frame_put32(h + 36, i == 0 ? FRAME_SESSION_MAX + 1 : 64);
		put(sv[0], h, sizeof h);
		put(sv[0], sess, 10);	/* 10 of the 64 */
		shutdown(sv[0], SHUT_WR);
		memset(&ans, 0x55, sizeof ans);
		assert_int_equal(net_response_read(sv[1], 200, &ans, &e),
		    MUSTER_ETEMP);
		assert_null(ans.body);
		assert_null(ans.session);
		close(sv[0]);
		close(sv[1]);
	}
}

static void
test_session(void **state)
{
	struct net_request rq = { "POST", "https://127.0.0.1:8443",
	    "/v1/report", PIN, "Content-Type: application/json\n", "{}", 2,
	    NULL, 0 };
	struct frame_response rs = { FRAME_OK, 202, 0, 65534, "", 0, "", 0,
	    (const unsigned char *)"{}", 2, 0, NULL, 0 };
	struct frame_request got;
	struct net_response ans;
	struct muster_err e;
	int sv[2], i;

	(void)state;
	pair(sv);
	for (i = 0; i < 3; i++) {
		rq.path = i == 0 ? "/v1/policy" : "/v1/report";
		rq.method = i == 0 ? "GET" : "POST";
		rq.body_len = i == 0 ? 0 : 2;
		assert_int_equal(net_request_write(sv[1], &rq, &e), 0);
		assert_int_equal(frame_request_read(sv[0], &got), 0);
		assert_string_equal(got.method, rq.method);
		assert_int_equal(got.body_len, rq.body_len);
		frame_request_free(&got);
		rs.status = i == 0 ? 304 : 202;
		rs.retry_after = (uint32_t)i;
		assert_int_equal(frame_response_write(sv[0], &rs), 0);
		assert_int_equal(net_response_read(sv[1], 1000, &ans, &e), 0);
		assert_int_equal(ans.status, rs.status);
		assert_int_equal(ans.retry_after, (uint32_t)i);
		net_response_free(&ans);
	}
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &got), FRAME_ERR_EOF);
	close(sv[0]);
	close(sv[1]);

	/* A good request, then garbage where the next would start. */
	pair(sv);
	assert_int_equal(net_request_write(sv[1], &rq, &e), 0);
	put(sv[1], "GARBAGE-GARBAGE-GARBAGE-GARBAGE", 31);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &got), 0);
	frame_request_free(&got);
	assert_int_equal(frame_request_read(sv[0], &got), FRAME_ERR_MAGIC);
	close(sv[0]);
	close(sv[1]);

	/* A request cut short inside its header. */
	pair(sv);
	put(sv[1], FRAME_REQ_MAGIC, 4);
	shutdown(sv[1], SHUT_WR);
	assert_int_equal(frame_request_read(sv[0], &got), FRAME_ERR_IO);
	close(sv[0]);
	close(sv[1]);
}

static void
test_pin_form(void **state)
{
	(void)state;
	assert_true(frame_pin_ok(PIN));
	assert_false(frame_pin_ok(""));
	assert_false(frame_pin_ok("sha256//"));
	assert_false(frame_pin_ok(PIN "x"));
	assert_false(frame_pin_ok(PIN ";" PIN));
	assert_true(frame_pins_ok(PIN));
	assert_true(frame_pins_ok(PIN ";" PIN ";" PIN ";" PIN));
	assert_false(frame_pins_ok(PIN ";" PIN ";" PIN ";" PIN ";" PIN));
	assert_false(frame_pins_ok(""));
	assert_false(frame_pins_ok(PIN ";"));
	assert_false(frame_pins_ok(PIN ";;" PIN));
	assert_false(frame_pins_ok(PIN ",sha256//x"));
	assert_false(frame_pin_ok("sha512//4GNqy/7jNrj2xws2r4IXoiqaPQnF5Heac7v62jkYR5o="));
	assert_false(frame_pin_ok("sha256//4GNqy/7jNrj2xws2r4IXoiqaPQnF5Heac7v62jkYR5p="));
	assert_false(frame_pin_ok("sha256//4GNqy-7jNrj2xws2r4IXoiqaPQnF5Heac7v62jkYR5o="));
	assert_false(frame_pin_ok("/etc/ssl/server.pem"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_writer_refuses),
		cmocka_unit_test(test_request_malicious),
		cmocka_unit_test(test_response_roundtrip),
		cmocka_unit_test(test_response_malicious),
		cmocka_unit_test(test_response_writer_refuses),
		cmocka_unit_test(test_pin_form),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_tls_session_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
