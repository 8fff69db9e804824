/*
 * console_session: the console's sign-in sessions, in memory only.  A
 * session id is 256 random bits, given to the browser once (the
 * cookie) and kept here only as its BLAKE2b-256 hash; each session has
 * its own CSRF token for the forms it posts.  Sessions end after
 * CONSOLE_SESSION_IDLE seconds unused, CONSOLE_SESSION_MAX_AGE after
 * sign-in, at sign-out, at a server restart, and when the credential
 * they signed in with changes (`muster-server admin rotate` or `remove`).  At most
 * CONSOLE_SESSIONS_MAX live at once; a new one evicts the least
 * recently used.  Thread-safe.
 */
#ifndef MUSTER_SERVER_CONSOLE_SESSION_H
#define MUSTER_SERVER_CONSOLE_SESSION_H

#include <stddef.h>
#include <time.h>

#define CONSOLE_SESSION_IDLE	(15 * 60)
#define CONSOLE_SESSION_MAX_AGE	(8 * 3600)
#define CONSOLE_SESSIONS_MAX	64
#define CONSOLE_SECRET_BYTES	32	/* id and CSRF token: 256 bits */
#define CONSOLE_CRED_BYTES	32	/* what identifies the credential */
/* base64url without padding of CONSOLE_SECRET_BYTES, and the NUL. */
#define CONSOLE_SECRET_B64	44

/*
 * Starts a session for credential cred (CONSOLE_CRED_BYTES, e.g. the
 * admin token's hash) at now: its id into id and its CSRF token into
 * csrf (base64url, NUL-terminated).  0, or -1 when the random source or
 * the encoding failed.
 */
int	console_session_new(const unsigned char *cred, time_t now,
	    char id[CONSOLE_SECRET_B64], char csrf[CONSOLE_SECRET_B64]);

/*
 * Whether id (the cookie's value, or NULL) names a live session for
 * credential cred at now: 1 and its CSRF token into csrf (may be NULL),
 * the session's idle clock restarted; 0 when not (an expired session or
 * one of another credential is ended).
 */
int	console_session_check(const char *id, const unsigned char *cred,
	    time_t now, char csrf[CONSOLE_SECRET_B64]);

/*
 * Whether token is the CSRF token of session id (constant time); 1 or 0.
 */
int	console_session_csrf_ok(const char *id, const char *token);

/*
 * The credential session id (or NULL) was started for, into cred
 * (CONSOLE_CRED_BYTES), whatever its age: 1, or 0 when there is no such
 * session.  console_session_check still decides whether it is live.
 */
int	console_session_cred(const char *id, unsigned char *cred);

/* Ends session id (unknown or NULL: nothing). */
void	console_session_end(const char *id);

/* Ends every session (tests; server exit). */
void	console_session_clear(void);

#endif
