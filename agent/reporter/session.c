/*
 * session: one check-in's requests, read from the agent, performed over
 * one kept-alive connection, answered in turn; see session.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/https.h"
#include "fetch.h"
#include "frame.h"
#include "session.h"
#include "tlssess.h"

int
session_answer_error(uint32_t outcome, const char *msg)
{
	struct frame_response rs;

	memset(&rs, 0, sizeof rs);
	rs.outcome = outcome;
	rs.uid = (uint32_t)getuid();
	rs.msg = msg;
	rs.msg_len = strnlen(msg, FRAME_MSG_MAX);
	return frame_response_write(FRAME_FD, &rs);
}

static const char *
request_error(int rc)
{
	switch (rc) {
	case FRAME_ERR_MAGIC: return "request: not a muster-reporter frame";
	case FRAME_ERR_LIMIT: return "request: a length over its limit";
	case FRAME_ERR_FORMAT: return "request: a malformed field";
	case FRAME_ERR_TRAILING: return "request: bytes after the frame";
	case FRAME_ERR_NOMEM: return "request: out of memory";
	default: return "request: truncated";
	}
}

/* 1 if a and b name the same scheme, host and port. */
static int
same_origin(const char *a, const char *b)
{
	const char *ea = strchr(a + 8, '/'), *eb = strchr(b + 8, '/');
	size_t na = ea != NULL ? (size_t)(ea - a) : strlen(a);
	size_t nb = eb != NULL ? (size_t)(eb - b) : strlen(b);

	return na == nb && memcmp(a, b, na) == 0;
}

int
session_run(struct https_conn *hc, struct tlssess *ts)
{
	struct frame_request rq, prev;
	struct frame_response rs;
	struct fetch_result res;
	unsigned char *sess;
	size_t sess_len;
	int rc, fresh, ex = 0;

	memset(&prev, 0, sizeof prev);
	for (;;) {
		if ((rc = frame_request_read(FRAME_FD, &rq)) != 0) {
			if (rc == FRAME_ERR_EOF)
				ex = 0;
			else if (rc == FRAME_ERR_IDLE)
				ex = 75;
			else {
				session_answer_error(FRAME_EREQUEST, request_error(rc));
				ex = 65;
			}
			break;
		}
		/* curl matches a connection by host, not by the pin it was
		 * checked against: a new pin set gets a new handshake. */
		fresh = prev.url != NULL && (strcmp(prev.pin, rq.pin) != 0 ||
		    !same_origin(prev.url, rq.url));
		/* Nor is a session resumed with another server or pin. */
		if (fresh)
			tlssess_forget(ts);
		/* The agent's session from an earlier check-in: one that
		 * does not parse costs a full handshake, nothing more. */
		if (rq.session_len > 0)
			(void)tlssess_offer(ts, rq.session, rq.session_len);
		fetch_run(hc, ts, &rq, fresh, &res);
		/* Only a session of a connection the pin accepted is kept:
		 * after any failure the next connection starts afresh. */
		if (res.outcome != FRAME_OK)
			tlssess_forget(ts);
		if (tlssess_take(ts, &sess, &sess_len) < 0)
			sess = NULL, sess_len = 0;
		memset(&rs, 0, sizeof rs);
		rs.outcome = res.outcome;
		rs.status = res.status;
		rs.retry_after = res.retry_after;
		rs.uid = (uint32_t)getuid();
		rs.etag = res.etag;
		rs.etag_len = strlen(res.etag);
		rs.msg = res.msg;
		rs.msg_len = strlen(res.msg);
		rs.body = res.body;
		rs.body_len = res.body_len;
		rs.flags = res.resumed ? FRAME_F_RESUMED : 0;
		rs.session = sess;
		rs.session_len = sess_len;
		rc = frame_response_write(FRAME_FD, &rs);
		free(res.body);
		if (sess != NULL)
			explicit_bzero(sess, sess_len);
		free(sess);
		frame_request_free(&prev);
		prev = rq;
		if (rc != 0) {
			ex = 74;
			break;
		}
	}
	frame_request_free(&prev);
	return ex;
}
