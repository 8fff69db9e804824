/*
 * muster-reporter: the agent's network half.  muster-agent forks and
 * executes it for each HTTPS exchange with a socket on descriptor
 * FRAME_FD; it drops root (if it has it) before it reads anything, reads
 * one request (agent/reporter/frame.h), performs it with libcurl against
 * the pinned server, writes one answer and exits.  It holds no key and
 * reads no state: it is handed signed bytes and hands back the server's
 * answer, which the agent verifies.
 *
 * Exit: 0 an answer was written (whatever it says), 64 started without
 * the socket, 65 a malformed request, 77 privileges not dropped, 74 the
 * answer could not be written.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "frame.h"
#include "priv.h"

#define PROG	"muster-reporter"

static const char usage[] =
"usage: muster-reporter (run by muster-agent, not by hand)\n"
"\n"
"Performs one HTTPS exchange for muster-agent: reads a request from the\n"
"socket on descriptor 3, answers on it and exits.  Started as root it\n"
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

int
main(int argc, char **argv)
{
	struct frame_request rq;
	struct frame_response rs;
	struct fetch_result res;
	struct stat st;
	char msg[FRAME_MSG_MAX + 1];
	int rc;

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
	if ((rc = frame_request_read(FRAME_FD, &rq)) != 0) {
		answer_error(FRAME_EREQUEST, request_error(rc));
		return 65;
	}
	fetch_run(&rq, &res);
	memset(&rs, 0, sizeof rs);
	rs.outcome = res.outcome;
	rs.status = res.status;
	rs.uid = (uint32_t)getuid();
	rs.etag = res.etag;
	rs.etag_len = strlen(res.etag);
	rs.msg = res.msg;
	rs.msg_len = strlen(res.msg);
	rs.body = res.body;
	rs.body_len = res.body_len;
	rc = frame_response_write(FRAME_FD, &rs);
	free(res.body);
	frame_request_free(&rq);
	close(FRAME_FD);
	return rc == 0 ? 0 : 74;
}
