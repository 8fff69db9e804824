/*
 * net: the agent's half of its exchanges with muster-reporter.  The agent
 * never links libcurl: for a check-in it forks and executes one reporter
 * (found beside its own executable, else in MUSTER_LIBEXECDIR) with a
 * socket on the reporter's descriptor FRAME_FD (a session), and writes
 * each request and reads its answer over it in turn (format:
 * agent/reporter/frame.h); the reporter keeps one HTTPS connection to the
 * server for all of them.  Whatever comes
 * back is untrusted: lengths are capped before anything is allocated, and
 * callers verify bodies (signatures, id formats) before using them.
 */
#ifndef MUSTER_AGENT_NET_H
#define MUSTER_AGENT_NET_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"
#include "reporter/frame.h"

#define NET_REPORTER		"muster-reporter"
#define NET_ANSWER_TIMEOUT_MS	90000	/* the reporter's own limit is 60 s */
#define NET_CLOSE_WAIT_MS	5000	/* for a reporter to exit at the end */

struct net_request {
	const char	*method;	/* "GET" or "POST" */
	const char	*server;	/* https://HOST[:PORT][/] from agent.cfg */
	const char	*path;		/* "/v1/report" */
	const char	*pin;		/* sha256//BASE64 */
	const char	*headers;	/* "Name: value\n" lines, or NULL */
	const void	*body;
	size_t		 body_len;
	const unsigned char *session;	/* a TLS session to offer, or NULL */
	size_t		 session_len;
};

struct net_response {
	uint32_t	 outcome;	/* FRAME_OK or FRAME_E* */
	uint32_t	 status;	/* HTTP status when FRAME_OK */
	uint32_t	 retry_after;	/* seconds of Retry-After, 0: none */
	uint32_t	 uid;		/* the uid the reporter ran as */
	char		 etag[FRAME_ETAG_MAX + 1];
	char		 msg[FRAME_MSG_MAX + 1];
	char		*body;		/* malloc'd, NUL-terminated */
	size_t		 body_len;
	uint32_t	 flags;		/* FRAME_F_* */
	unsigned char	*session;	/* a new TLS session, or NULL; wiped
					   by net_response_free */
	size_t		 session_len;
};

/*
 * A session: one reporter (and so one connection to the server) for
 * several exchanges.  The caller owns the struct; net_session_init makes
 * it empty, and the reporter starts at the first exchange.
 */
struct net_session {
	pid_t		 pid;		/* -1: none running */
	int		 fd;		/* -1: none */
	unsigned	 exchanges;	/* by the reporter now running */
	unsigned	 started;	/* reporters started in this session */
	/* The state directory whose TLS session (state_tls_load) each new
	 * reporter is offered and where a new one is kept; NULL: none. */
	const char	*dir;
	unsigned	 resumed;	/* exchanges on a resumed TLS session */
};

void	net_session_init(struct net_session *s);

/*
 * Writes rq to the session's reporter (starting one when none runs, or
 * when the one running has gone) and reads its answer into *rs
 * (net_response_free).  Returns 0 when the reporter answered, whether
 * with an HTTP status or a transport outcome (see net_outcome_rc);
 * MUSTER_ECONFIG when no reporter is installed or it answered as root;
 * MUSTER_ETEMP when it could not be run, died, timed out or sent a
 * malformed answer (the reporter is then killed; the next exchange starts
 * another).
 */
int	net_session_exchange(struct net_session *s,
	    const struct net_request *rq, struct net_response *rs,
	    struct muster_err *e);

/* Ends the session: the reporter is told so and waited for.  NULL: no-op. */
void	net_session_close(struct net_session *s);

/* One exchange in a session of its own (net_session_exchange). */
int	net_exchange(const struct net_request *rq, struct net_response *rs,
	    struct muster_err *e);

void	net_response_free(struct net_response *rs);

/*
 * The error a transport outcome stands for: MUSTER_ETRUST for a pin
 * mismatch, MUSTER_ECONFIG when the reporter could not drop privileges,
 * MUSTER_EINTERNAL when it refused our request, MUSTER_ETEMP otherwise
 * (unreachable, timeout, TLS, oversized answer).  0 for FRAME_OK.
 */
int	net_outcome_rc(const struct net_response *rs, struct muster_err *e);

/*
 * The two halves of the framing, exposed for the tests.  net_request_write
 * checks the request (method, https URL that fits, pin form, sizes) before
 * writing anything: MUSTER_EUSAGE; MUSTER_EIO when the write fails.
 * net_response_read reads one answer within timeout_ms: MUSTER_ETEMP for
 * a truncated, oversized, malformed or late answer (what follows it is
 * the next answer's, and is left unread).
 */
int	net_request_write(int fd, const struct net_request *rq,
	    struct muster_err *e);
int	net_response_read(int fd, int timeout_ms, struct net_response *rs,
	    struct muster_err *e);

/* Where the reporter is: beside /proc/self/exe, else MUSTER_LIBEXECDIR. */
int	net_reporter_path(char *buf, size_t size, struct muster_err *e);

#endif
