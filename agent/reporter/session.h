/*
 * session: the reporter's loop over one check-in -- each request the
 * agent writes on FRAME_FD performed with libcurl (fetch.h) on one
 * kept-alive connection, its TLS session offered and captured
 * (tlssess.h), and its answer written back, until the agent closes.
 */
#ifndef MUSTER_REPORTER_SESSION_H
#define MUSTER_REPORTER_SESSION_H

#include <stdint.h>

struct https_conn;
struct tlssess;

/*
 * Answers requests until the agent ends the session.  Returns the exit
 * code: 0 at the session's end, 65 after a malformed request, 75 when the
 * agent went quiet, 74 when an answer could not be written.
 */
int	session_run(struct https_conn *hc, struct tlssess *ts);

/*
 * Writes an answer that carries only an outcome (FRAME_E*) and msg.
 * Returns frame_response_write's result.
 */
int	session_answer_error(uint32_t outcome, const char *msg);

#endif
