/*
 * muster-reporter: the agent's network half.  muster-agent forks and
 * executes it once per check-in with a socket on descriptor FRAME_FD; it
 * drops root (if it has it) before it reads anything, then reads requests
 * (agent/reporter/frame.h) one at a time, performs each with libcurl
 * against the pinned server over one kept-alive HTTPS connection, and
 * writes each one's answer, until the agent ends the session.  It holds
 * no key and reads no state: it is handed signed bytes and hands back
 * the server's answers, which the agent verifies, and the TLS session it
 * is handed by the agent and the new one the server issued (tlssess.h).
 *
 * Exit: 0 the session ended after every answer was written (whatever
 * they say), 64 started without the socket, 65 a malformed request (after
 * answering it), 75 no request within FRAME_IDLE_MS, 77 privileges not
 * dropped, 74 an answer could not be written.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/https.h"
#include "fetch.h"
#include "frame.h"
#include "priv.h"
#include "tlssess.h"

#define PROG	"muster-reporter"

static const char usage[] =
"usage: muster-reporter (run by muster-agent, not by hand)\n"
"\n"
"Performs the HTTPS exchanges of one check-in for muster-agent over one\n"
"connection: reads requests from the socket on descriptor 3, answers each\n"
"on it, and exits when the agent closes it.  Started as root it\n"
"first becomes user \"" REPORTER_USER "\".  It verifies the server only\n"
"by the public key pin it is given.\n";

/* Writes an answer that carries only an outcome and a message. */
static int
answer_error(uint32_t outcome, const char *msg)
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

/*
 * Answers requests until the agent ends the session.  Returns the exit
 * code: 0 at the session's end, 65 after a malformed request, 75 when the
 * agent went quiet, 74 when an answer could not be written.
 */
static int
session(struct https_conn *hc, struct tlssess *ts)
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
				answer_error(FRAME_EREQUEST, request_error(rc));
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

int
main(int argc, char **argv)
{
	struct https_conn *hc = NULL;
	struct tlssess *ts = NULL;
	struct stat st;
	char msg[FRAME_MSG_MAX + 1];
	int ex;

	if (argc > 1) {
		if (strcmp(argv[1], "--version") == 0) {
			printf("%s %s\n", PROG, MUSTER_VERSION);
			return 0;
		}
		fputs(usage, strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return strcmp(argv[1], "--help") == 0 ? 0 : 64;
	}
	if (fstat(FRAME_FD, &st) == -1 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "%s: no socket on descriptor %d; this program "
		    "is run by muster-agent\n", PROG, FRAME_FD);
		return 64;
	}
	signal(SIGPIPE, SIG_IGN);
	if (priv_drop(msg, sizeof msg) != 0) {
		answer_error(FRAME_EPRIV, msg);
		return 77;
	}
	if (https_conn_open(&hc) != 0 || tlssess_new(&ts) != 0) {
		https_conn_close(hc);
		answer_error(FRAME_EINTERNAL, "libcurl failed to initialise");
		return 74;
	}
	ex = session(hc, ts);
	/* The connection ends before the sessions it may still use. */
	https_conn_close(hc);
	tlssess_free(ts);
	close(FRAME_FD);
	return ex;
}
