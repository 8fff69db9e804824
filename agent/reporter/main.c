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
#include "frame.h"
#include "priv.h"
#include "session.h"
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
		session_answer_error(FRAME_EPRIV, msg);
		return 77;
	}
	if (https_conn_open(&hc) != 0 || tlssess_new(&ts) != 0) {
		https_conn_close(hc);
		session_answer_error(FRAME_EINTERNAL, "libcurl failed to initialise");
		return 74;
	}
	ex = session_run(hc, ts);
	/* The connection ends before the sessions it may still use. */
	https_conn_close(hc);
	tlssess_free(ts);
	close(FRAME_FD);
	return ex;
}
