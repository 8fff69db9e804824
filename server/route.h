/*
 * routes: one function per API call of docs/protocol.md.  Each gets the
 * request's headers (through its connection) and its whole body, already
 * capped, and fills in a reply; http.c sends it.  A route whose answer
 * waits for a write may instead leave a writer job in the reply, and the
 * function that makes the answer from the job's outcome.
 */
#ifndef MUSTER_SERVER_ROUTE_H
#define MUSTER_SERVER_ROUTE_H

#include <stddef.h>

#include "metrics.h"
#include "writer.h"

struct srv;
struct MHD_Connection;

#define REPLY_HEADER_MAX	160

struct route_reply;

/*
 * Makes the answer of a deferred write (struct route_reply) into out from its
 * job's outcome: rc and e as writer_run would have returned them
 * (MUSTER_ETEMP when the writer refused the job).  Called exactly once,
 * on a request thread; it releases arg.
 */
typedef void (*route_done_fn)(void *arg, int rc, const struct muster_err *e,
    struct route_reply *out);

struct route_reply {
	unsigned	 status;
	const char	*ctype;		/* NULL: application/json */
	char		*body;		/* malloc'd; NULL: sbody */
	const char	*sbody;		/* static text */
	size_t		 len;
	const char	*hname;		/* one extra header, or NULL */
	char		 hvalue[REPLY_HEADER_MAX];
	/* More headers: malloc'd "Name: value\n" lines, or NULL (console). */
	char		*xheaders;
	/*
	 * A deferred write: instead of an answer, a route may set job (run
	 * by the writer with arg, which it owns) and done.  http.c hands the
	 * job to the writer without blocking its thread, and answers with
	 * what done makes once the transaction has committed or failed.
	 * The request's body stays valid until then.
	 */
	writer_fn	 job;
	void		*arg;
	route_done_fn	 done;
};

struct route_request {
	struct srv		*srv;
	struct MHD_Connection	*conn;
	const char		*path;
	const char		*body;		/* NULL for a GET */
	size_t			 len;
};

typedef void (*route_fn)(const struct route_request *rq, struct route_reply *out);

struct route {
	const char		*path;
	const char		*method;
	enum metrics_route	 metric;
	unsigned		 admin;		/* ADMINS_ROLE_* it needs; 0 */
	route_fn		 fn;
};

/* The route for path, or NULL. */
const struct route *route_find(const char *path);

/*
 * Whether the Authorization header carries the credential of an
 * administrator (any role: each route checks its own); a refusal is
 * appended to the audit log with path and the client's address.
 */
int	route_admin_ok(struct srv *s, struct MHD_Connection *c,
	    const char *path);

/* Whether rt's POST body is an HTML form (the console's), not JSON. */
int	route_takes_form(const struct route *rt);

/*
 * The console's sign-in: whether secret (a credential typed into the
 * sign-in form, not a header) is that of an administrator holding the
 * read role; 1 with cred (ROUTE_CRED_BYTES) set to what identifies that
 * administrator's current credential (its name and hash, hashed: a
 * rotation or removal changes it), or 0.  Both outcomes are audited with
 * the client's address of rq.
 */
#define ROUTE_CRED_BYTES	32
int	route_admin_credential_ok(const struct route_request *rq,
	    const char *secret, unsigned char cred[ROUTE_CRED_BYTES]);

/*
 * Whether cred (as route_admin_credential_ok set it) still names an
 * administrator with the read role and the same credential: 1 with that
 * administrator's name in name (STORE_ADMIN_NAME_MAX + 1 bytes; may be
 * NULL), or 0.
 */
int	route_admin_cred_live(struct srv *s,
	    const unsigned char cred[ROUTE_CRED_BYTES], char *name);

/*
 * Appends an audit log entry for rq answered status (the client's address
 * is rq's): actor did action on object (NULL or "": rq's path), the
 * outcome "ok|refused|failed STATUS".  A failure is logged, not fatal.
 */
void	route_audit_answer(const struct route_request *rq, const char *actor,
	    const char *action, const char *object, unsigned status);


/* Sets out to {"error":"msg"} with status; msg is a static string. */
void	route_reply_error(struct route_reply *out, unsigned status, const char *msg);

/* Frees what out owns. */
void	route_reply_clear(struct route_reply *out);

/*
 * Sets out's status, content type and body: body (malloc'd, len bytes)
 * becomes out's.  out's old body must be cleared already; its extra
 * headers stay.
 */
void	route_reply_set(struct route_reply *out, unsigned status,
	    const char *ctype, char *body, size_t len);

void	route_enroll(const struct route_request *, struct route_reply *);
void	route_enroll_preview(const struct route_request *, struct route_reply *);
void	route_profile(const struct route_request *, struct route_reply *);
void	route_report(const struct route_request *, struct route_reply *);
void	route_unenroll(const struct route_request *, struct route_reply *);
void	route_policy(const struct route_request *, struct route_reply *);
void	route_root(const struct route_request *, struct route_reply *);
void	route_admin_profile(const struct route_request *, struct route_reply *);
void	route_admin_manifest(const struct route_request *, struct route_reply *);
/* POST /v1/consent: a family member's new receipt, signed by the device. */
void	route_consent(const struct route_request *, struct route_reply *);
/* POST /v1/reregister: a device the store lost, with its receipt. */
void	route_reregister(const struct route_request *, struct route_reply *);
void	route_admin_root(const struct route_request *, struct route_reply *);
void	route_admin_revoke(const struct route_request *, struct route_reply *);
void	route_admin_rollup(const struct route_request *, struct route_reply *);
void	route_healthz(const struct route_request *, struct route_reply *);
void	route_metrics(const struct route_request *, struct route_reply *);

#endif
