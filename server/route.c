/*
 * routes: the API calls of docs/protocol.md.
 *
 * A device's request is checked in this order: its signature over the
 * exact bytes with the key stored for it (or, to enroll, with the key it
 * presents), and only then is the body parsed: by jansson, after a scan
 * that bounds nesting, refusing duplicate keys, unknown fields and wrong
 * types.  Every write goes through the writer and is answered only once it
 * has committed.  Error bodies are short fixed strings; the details go to
 * the log, never tokens, signatures, keys or report contents.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "muster/log.h"
#include "muster/manifest.h"
#include "muster/oracle.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/root.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "admins.h"
#include "audit.h"
#include "metrics_fleet.h"
#include "ratelimit.h"
#include "receipt.h"
#include "console.h"
#include "reportcheck.h"
#include "rollup.h"
#include "route.h"
#include "srv.h"
#include "store.h"
#include "trust.h"
#include "writer.h"

#define SIG_B64_MAX		128	/* base64 of a 64-byte signature: 88 */
#define JSON_DEPTH_FLAT		1
/* { "manifest": { "signatures": [ ] } } */
#define JSON_DEPTH_SIGNED	3
/* { "consent": { "remediate": [ { } ] } } */
#define JSON_DEPTH_ENROLL	4
/* { "remediate": [ { } ] } */
#define JSON_DEPTH_CONSENT	3
/* { "receipt": { } } */
#define JSON_DEPTH_REREG	2
#define CONSENT_HASH_HEX	(2 * STORE_HASH_LEN)
#define TEXT_PLAIN		"text/plain; charset=utf-8"
#define TEXT_METRICS		"text/plain; version=0.0.4; charset=utf-8"

static const struct route routes[] = {
	{ PROTO_PATH_ENROLL, MHD_HTTP_METHOD_POST, MR_ENROLL, 0, route_enroll },
	{ PROTO_PATH_PREVIEW, MHD_HTTP_METHOD_POST, MR_ENROLL, 0,
	    route_enroll_preview },
	{ PROTO_PATH_PROFILE, MHD_HTTP_METHOD_GET, MR_PROFILE, 0,
	    route_profile },
	{ PROTO_PATH_REPORT, MHD_HTTP_METHOD_POST, MR_REPORT, 0, route_report },
	{ PROTO_PATH_UNENROLL, MHD_HTTP_METHOD_POST, MR_UNENROLL, 0,
	    route_unenroll },
	{ PROTO_PATH_ADMIN_PROFILE, MHD_HTTP_METHOD_POST, MR_ADMIN_PROFILE,
	    ADMINS_ROLE_PUBLISH,
	    route_admin_profile },
	{ PROTO_PATH_ADMIN_REVOKE, MHD_HTTP_METHOD_POST, MR_ADMIN_REVOKE,
	    ADMINS_ROLE_REVOKE,
	    route_admin_revoke },
	{ PROTO_PATH_ADMIN_ROLLUP, MHD_HTTP_METHOD_GET, MR_ADMIN_ROLLUP,
	    ADMINS_ROLE_READ,
	    route_admin_rollup },
	{ PROTO_PATH_POLICY, MHD_HTTP_METHOD_GET, MR_POLICY, 0,
	    route_policy },
	{ PROTO_PATH_ROOT, MHD_HTTP_METHOD_GET, MR_ROOT, 0, route_root },
	{ PROTO_PATH_ADMIN_ROOT, MHD_HTTP_METHOD_POST, MR_ADMIN_ROOT,
	    ADMINS_ROLE_PUBLISH,
	    route_admin_root },
	{ PROTO_PATH_ADMIN_MANIFEST, MHD_HTTP_METHOD_POST, MR_ADMIN_MANIFEST,
	    ADMINS_ROLE_PUBLISH, route_admin_manifest },
	{ PROTO_PATH_CONSENT, MHD_HTTP_METHOD_POST, MR_CONSENT, 0,
	    route_consent },
	{ PROTO_PATH_REREGISTER, MHD_HTTP_METHOD_POST, MR_ENROLL, 0,
	    route_reregister },
	{ PROTO_PATH_HEALTHZ, MHD_HTTP_METHOD_GET, MR_HEALTHZ, 0,
	    route_healthz },
	{ PROTO_PATH_METRICS, MHD_HTTP_METHOD_GET, MR_METRICS,
	    ADMINS_ROLE_METRICS, route_metrics },
	CONSOLE_ROUTES
};

const struct route *
route_find(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof routes / sizeof routes[0]; i++)
		if (strcmp(path, routes[i].path) == 0)
			return &routes[i];
	return NULL;
}

void
route_reply_clear(struct route_reply *out)
{
	free(out->body);
	out->body = NULL;
	free(out->xheaders);
	out->xheaders = NULL;
}

void
route_reply_error(struct route_reply *out, unsigned status, const char *msg)
{
	route_reply_clear(out);
	out->status = status;
	out->ctype = NULL;
	if (asprintf(&out->body, "{\"error\":\"%s\"}\n", msg) == -1) {
		out->body = NULL;
		out->sbody = "{\"error\":\"out of memory\"}\n";
		out->len = strlen(out->sbody);
	} else
		out->len = strlen(out->body);
}

void
route_reply_set(struct route_reply *out, unsigned status, const char *ctype,
    char *body, size_t len)
{
	out->status = status;
	out->ctype = ctype;
	out->body = body;
	out->len = len;
}

/* Sets out to the compact JSON of o (which it takes) with status. */
static void
reply_json(struct route_reply *out, unsigned status, json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	if (s == NULL) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		return;
	}
	route_reply_clear(out);
	out->status = status;
	out->body = s;
	out->len = strlen(s);
}

static void	reply_text(struct route_reply *, unsigned, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Sets out to a body formatted from fmt (JSON the caller vouches for). */
static void
reply_text(struct route_reply *out, unsigned status, const char *fmt, ...)
{
	va_list ap;
	int n;

	route_reply_clear(out);
	va_start(ap, fmt);
	n = vasprintf(&out->body, fmt, ap);
	va_end(ap);
	if (n == -1) {
		out->body = NULL;
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		return;
	}
	out->status = status;
	out->len = (size_t)n;
}

/* The reply for a store or writer failure; logs its detail. */
static void
reply_store_error(struct route_reply *out, const char *what, int rc,
    const struct muster_err *e)
{
	if (rc == MUSTER_ETEMP) {
		log_warn("%s: %s", what, e->msg);
		route_reply_error(out, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "temporarily unavailable");
	} else {
		log_error("%s: %s", what, e->msg);
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
	}
}

static const char *
hdr(const struct route_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/*
 * A device as a log line names it: a family device never by its id, so
 * that no log outlives a member's unenrollment with a byte of theirs.
 */
static const char *
log_who(enum profile_scope scope, const char *id)
{
	return scope == SCOPE_FAMILY ? "(a family device)" : id;
}

/*
 * rq's body as a JSON object at most depth deep, every member of which
 * fields (NULL-terminated) names: a new reference (the caller's), or
 * NULL when it is not.
 */
static json_t *
body_object(const struct route_request *rq, int depth,
    const char *const *fields)
{
	json_t *o = proto_json_parse(rq->body, rq->len, depth);

	if (o != NULL && !proto_json_keys_ok(o, fields)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
device_id_ok(const char *s)
{
	return s != NULL && proto_hex_ok(s, DEVICE_ID_HEX - 1);
}

/*
 * Decodes standard padded base64 (all of in) into out; 0 when it decoded
 * to exactly want bytes (any length up to max when want is 0).
 */
static int
b64_decode(const char *in, size_t inlen, unsigned char *out, size_t max,
    size_t want, size_t *outlen)
{
	const char *end = NULL;

	if (sodium_base642bin(out, max, in, inlen, NULL, outlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || end != in + inlen)
		return -1;
	return want == 0 || *outlen == want ? 0 : -1;
}

/* The client's address as text into buf ("unknown" if MHD has none). */
static void
client_addr(struct MHD_Connection *c, char buf[STORE_AUDIT_ADDR_MAX + 1])
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, STORE_AUDIT_ADDR_MAX + 1, "unknown");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, buf, STORE_AUDIT_ADDR_MAX + 1);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, buf, STORE_AUDIT_ADDR_MAX + 1);
}

/* Appends an entry for a request on c; a failure is logged, not fatal. */
static void
route_audit(struct srv *s, struct MHD_Connection *c, const char *actor,
    const char *action, const char *object, const char *outcome)
{
	struct muster_err e;
	char addr[STORE_AUDIT_ADDR_MAX + 1];

	client_addr(c, addr);
	if (audit_log(s->audit, actor, addr, action, object, outcome, &e) != 0)
		log_error("audit log: %s (%s %s by %s not recorded)", e.msg,
		    action, outcome, actor);
}

void
route_audit_answer(const struct route_request *rq, const char *actor,
    const char *action, const char *object, unsigned status)
{
	char outcome[STORE_AUDIT_OUTCOME_MAX + 1];

	snprintf(outcome, sizeof outcome, "%s %u", status < 300 ? "ok" :
	    status < 500 ? "refused" : "failed", status);
	route_audit(rq->srv, rq->conn, actor, action, object != NULL &&
	    object[0] != '\0' ? object : rq->path, outcome);
}

/*
 * The administrator whose credential c's Authorization header carries,
 * read from the store on every request (so that `muster-server admin`
 * changes take effect on the next one): 1 with *who, or 0.
 */
static int
admin_who(struct srv *s, struct MHD_Connection *c, struct admins_who *who)
{
	struct store_admin *list = NULL;
	struct store_adm *sa;
	struct muster_err e;
	size_t n = 0;
	int rc, ok;

	memset(who, 0, sizeof *who);
	sa = audit_lock(s->audit);
	rc = store_admin_list(sa, &list, &n, &e);
	audit_unlock(s->audit);
	if (rc != 0) {
		log_error("administrators: %s", e.msg);
		return 0;
	}
	ok = admins_match(list, n, MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), who);
	if (list != NULL)
		sodium_memzero(list, n * sizeof *list);
	free(list);
	return ok;
}

/* Audits and logs a refused credential on path. */
static void
admin_refused(struct srv *s, struct MHD_Connection *c, const char *path)
{
	struct muster_err e;
	char addr[STORE_AUDIT_ADDR_MAX + 1];

	client_addr(c, addr);
	/* A flood is counted, not one entry each (audit.h). */
	if (audit_refused(s->audit, addr, path, &e) != 0)
		log_error("audit log: %s (refused credential not recorded)",
		    e.msg);
	log_info("admin credential refused on %s", path);
}

int
route_admin_ok(struct srv *s, struct MHD_Connection *c, const char *path)
{
	struct admins_who who;

	if (admin_who(s, c, &who))
		return 1;
	admin_refused(s, c, path);
	return 0;
}

/*
 * The one check every admin route makes first: the credential names an
 * administrator (else 401, audited) who holds the role the route table
 * gives path (else 403, audited).  Returns 0 with *who, or -1 with the
 * answer in out.
 */
static int
admin_gate(const struct route_request *rq, struct admins_who *who,
    struct route_reply *out)
{
	const struct route *rt = route_find(rq->path);
	char outcome[STORE_AUDIT_OUTCOME_MAX + 1];

	if (rt == NULL || rt->admin == 0) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		return -1;
	}
	/* http.c checked it before the body came; it may have changed. */
	if (!admin_who(rq->srv, rq->conn, who)) {
		admin_refused(rq->srv, rq->conn, rq->path);
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "admin token refused");
		out->hname = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		snprintf(out->hvalue, sizeof out->hvalue, "Bearer");
		return -1;
	}
	if ((who->roles & rt->admin) != rt->admin) {
		snprintf(outcome, sizeof outcome, "denied 403: no %s role",
		    admins_role_name(rt->admin));
		route_audit(rq->srv, rq->conn, who->name, "credential",
		    rq->path, outcome);
		log_info("administrator %s has no %s role for %s", who->name,
		    admins_role_name(rt->admin), rq->path);
		route_reply_error(out, MHD_HTTP_FORBIDDEN,
		    "this administrator lacks the role");
		return -1;
	}
	return 0;
}

typedef void (*admin_fn)(const struct route_request *, struct route_reply *,
    char *, size_t);

/*
 * Runs an admin route: the gate, the route (which names the object it
 * acted on in obj), then the audit entry with its outcome.
 */
static void
admin_route(const struct route_request *rq, struct route_reply *out,
    const char *action, admin_fn fn)
{
	struct admins_who who;
	char obj[STORE_AUDIT_OBJECT_MAX + 1];

	if (admin_gate(rq, &who, out) != 0)
		return;
	obj[0] = '\0';
	fn(rq, out, obj, sizeof obj);
	route_audit_answer(rq, who.name, action, obj, out->status);
}

/* The Muster-Signature header, decoded; 0 or -1. */
static int
sig_header(const struct route_request *rq, unsigned char sig[crypto_sign_BYTES])
{
	const char *v = hdr(rq, PROTO_HDR_SIGNATURE);
	size_t n;

	if (v == NULL || strlen(v) > SIG_B64_MAX)
		return -1;
	return b64_decode(v, strlen(v), sig, crypto_sign_BYTES,
	    crypto_sign_BYTES, &n);
}

/*
 * Authenticates a request from an enrolled device: the device is known,
 * its signature over msg verifies with its stored key, and it is not
 * revoked (unless leaving is set and it is a family device: a member may
 * always leave, and take their data along).  Returns 0 with the device in
 * *d, or -1 with the answer in out.
 */
static int
device_auth(const struct route_request *rq, const void *msg, size_t len,
    int leaving, struct store_device *d, struct route_reply *out)
{
	unsigned char sig[crypto_sign_BYTES];
	struct muster_err e;
	struct store *st;
	const char *id = hdr(rq, PROTO_HDR_DEVICE);
	int rc;

	if (id == NULL || sig_header(rq, sig) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "missing or malformed device signature");
		return -1;
	}
	if (!device_id_ok(id)) {
		route_reply_error(out, MHD_HTTP_FORBIDDEN, "unknown device");
		return -1;
	}
	if ((rc = srv_reader(rq->srv, &st, &e)) != 0 ||
	    (rc = store_device_get(st, id, d, &e)) != 0) {
		if (rc == MUSTER_ENOINPUT)
			route_reply_error(out, MHD_HTTP_FORBIDDEN, "unknown device");
		else
			reply_store_error(out, "device lookup", rc, &e);
		return -1;
	}
	if (crypto_sign_verify_detached(sig, msg, len, d->pk) != 0) {
		log_info("device %s: bad signature on %s",
		    log_who(d->scope, d->id), rq->path);
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED, "bad signature");
		return -1;
	}
	if (d->revoked && !(leaving && d->scope == SCOPE_FAMILY)) {
		route_reply_error(out, MHD_HTTP_FORBIDDEN, "device revoked");
		return -1;
	}
	return 0;
}

/* --- the enrollment receipt's key --------------------------------------- */

static pthread_mutex_t		 receipt_mu = PTHREAD_MUTEX_INITIALIZER;
static struct receipt_key	*receipt_k;

/*
 * The server's receipt key (receipt.h), loaded or made in data_dir on
 * first use and kept for the server's life; NULL with e set on failure.
 */
static const struct receipt_key *
receipt_key(struct srv *s, struct muster_err *e)
{
	const struct receipt_key *k;

	pthread_mutex_lock(&receipt_mu);
	if (receipt_k == NULL &&
	    receipt_key_open(s->cfg->data_dir, &receipt_k, e) != 0)
		receipt_k = NULL;
	k = receipt_k;
	pthread_mutex_unlock(&receipt_mu);
	return k;
}

/*
 * The receipt of enrolled device d (token expiring at expires), as the
 * JSON object of the enrollment answer: malloc'd, or NULL (logged; the
 * device is enrolled all the same, it just cannot re-register).
 */
static char *
enroll_receipt(struct srv *s, const struct store_device *d, time_t expires)
{
	const struct receipt_key *k;
	struct receipt r;
	struct muster_err e;
	char *json = NULL;

	if ((k = receipt_key(s, &e)) == NULL) {
		log_error("enroll: no receipt: %s", e.msg);
		return NULL;
	}
	memset(&r, 0, sizeof r);
	memcpy(r.device, d->id, sizeof r.device);
	memcpy(r.pk, d->pk, sizeof r.pk);
	r.scope = d->scope;
	memcpy(r.unit, d->unit, sizeof r.unit);
	memcpy(r.person, d->person, sizeof r.person);
	memcpy(r.token_id, d->token_id, sizeof r.token_id);
	r.expires = expires;
	r.enrolled = d->enrolled;
	if (receipt_sign(k, &r, &json, &e) != 0) {
		log_error("enroll: no receipt: %s", e.msg);
		return NULL;
	}
	return json;
}

/* --- POST /v1/enroll ---------------------------------------------------- */

struct enroll_job {
	const struct store_device	*d;
	time_t				 expires;
	const struct store_consent	*c;	/* family; else NULL */
};

/* The device and its consent, in one transaction. */
static int
job_enroll(struct store *st, void *arg, struct muster_err *e)
{
	struct enroll_job *j = arg;
	int rc;

	if ((rc = store_device_add(st, j->d, j->expires, e)) != 0 ||
	    j->c == NULL)
		return rc;
	return store_consent_add(st, j->c, e);
}

/*
 * Checks a family consent receipt (docs/protocol.md, "Family consent")
 * for token t and fills c (whose strings point into o, except
 * *remediate, a malloc'd JSON text).  Returns NULL, or what is wrong.
 */
static const char *
consent_check(json_t *o, const struct token *t, struct store_consent *c,
    char **remediate)
{
	static const char *const fields[] = { "text_hash", "time", "token",
	    "profile", "serial", "hash", "remediate", NULL };
	static const char *const entry[] = { "rule", "change", NULL };
	const char *s, **rules = NULL, *why = NULL;
	json_t *list, *it;
	json_int_t v;
	size_t i, n, len;

	*remediate = NULL;
	if (!json_is_object(o) || !proto_json_keys_ok(o, fields))
		return "malformed consent";
	if ((s = proto_json_str(o, "text_hash", &len)) == NULL ||
	    len != CONSENT_HASH_HEX || !proto_hex_ok(s, len) ||
	    sodium_hex2bin(c->text_hash, sizeof c->text_hash, s, len, NULL,
	    NULL, NULL) != 0)
		return "consent: text_hash must be 64 hex digits";
	if ((s = proto_json_str(o, "time", NULL)) == NULL ||
	    timefmt_parse(s, &c->time) != 0)
		return "consent: time must be YYYY-MM-DDTHH:MM:SSZ";
	if ((s = proto_json_str(o, "token", NULL)) == NULL ||
	    strcmp(s, t->id) != 0)
		return "consent: token is not the enrollment's";
	c->token_id = t->id;
	c->profile = NULL;
	if (json_object_get(o, "profile") != NULL) {
		if ((s = proto_json_str(o, "profile", NULL)) == NULL ||
		    !proto_id_ok(s) ||
		    proto_json_int(o, "serial", 1, INT64_MAX, &v) != 0)
			return "consent: malformed profile or serial";
		c->profile = s;
		c->serial = v;
	} else if (json_object_get(o, "serial") != NULL)
		return "consent: serial without profile";
	/* The hash of the exact profile bytes shown (a profile only). */
	if (json_object_get(o, "hash") != NULL && (c->profile == NULL ||
	    (s = proto_json_str(o, "hash", &len)) == NULL ||
	    len != CONSENT_HASH_HEX || !proto_hex_ok(s, len)))
		return "consent: hash must be 64 hex digits, with a profile";
	list = json_object_get(o, "remediate");
	if (!json_is_array(list) ||
	    (n = json_array_size(list)) > PROFILE_MAX_RULES)
		return "consent: remediate must be a list of at most 4096";
	if (n > 0 && (rules = calloc(n, sizeof *rules)) == NULL)
		return "out of memory";
	json_array_foreach(list, i, it) {
		if (!json_is_object(it) || !proto_json_keys_ok(it, entry) ||
		    (rules[i] = proto_json_str(it, "rule", NULL)) == NULL ||
		    !proto_id_ok(rules[i]) ||
		    (s = proto_json_str(it, "change", &len)) == NULL ||
		    len != CONSENT_HASH_HEX || !proto_hex_ok(s, len)) {
			why = "consent: malformed remediate entry";
			goto out;
		}
	}
	if (proto_sort_has_dup(rules, n)) {
		why = "consent: a rule is listed twice";
		goto out;
	}
	if ((*remediate = json_dumps(list, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		why = "out of memory";
	c->remediate = *remediate;
out:
	free(rules);
	return why;
}

/* The consent receipt that replaces the device's, in one transaction. */
static int
job_consent(struct store *st, void *arg, struct muster_err *e)
{
	return store_consent_replace(st, arg, e);
}

/*
 * rq's body when it holds nothing but the string member name of at most
 * TOKEN_MAX bytes (a token or a revocation): the object (the caller's,
 * json_decref) with *s, pointing into it, and *len; or NULL with the 400
 * answer in out.
 */
static json_t *
token_body(const struct route_request *rq, const char *name, const char **s,
    size_t *len, struct route_reply *out)
{
	const char *const fields[] = { name, NULL };
	json_t *o;

	if ((o = body_object(rq, JSON_DEPTH_FLAT, fields)) == NULL ||
	    (*s = proto_json_str(o, name, len)) == NULL || *len > TOKEN_MAX) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed request");
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The token tok (toklen bytes) a device sent to what ("enroll",
 * "preview"), verified under the newest root and unexpired: 0 with *t,
 * or -1 with the answer (400 malformed, 403 refused or expired) in out.
 */
static int
token_gate(const struct route_request *rq, const char *what, const char *tok,
    size_t toklen, struct token *t, struct route_reply *out)
{
	struct muster_err e;
	int rc;

	if ((rc = trust_token_verify(rq->srv->trust, tok, toklen, t, &e)) !=
	    0) {
		log_info("%s: token refused: %s", what, e.msg);
		route_reply_error(out, rc == MUSTER_EDATA ?
		    MHD_HTTP_BAD_REQUEST : MHD_HTTP_FORBIDDEN, rc ==
		    MUSTER_EDATA ? "malformed token" : "token refused");
		return -1;
	}
	if (token_expired(t, time(NULL))) {
		log_info("%s: token %s expired", what,
		    log_who(t->scope, t->id));
		route_reply_error(out, MHD_HTTP_FORBIDDEN, "token expired");
		return -1;
	}
	return 0;
}

/*
 * POST /v1/consent: a family member's new receipt (docs/protocol.md,
 * "Family consent"), the body itself, signed by the device: checked as
 * at enrollment, for the token the device enrolled with, and stored in
 * place of the old one with the signed body.
 */
void
route_consent(const struct route_request *rq, struct route_reply *out)
{
	struct store_device d;
	struct store_consent c;
	struct token t;
	struct muster_err e;
	const char *why;
	char *remediate = NULL;
	json_t *o = NULL;
	int rc;

	if (device_auth(rq, rq->body, rq->len, 0, &d, out) != 0)
		goto out;
	if (d.scope != SCOPE_FAMILY) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "consent is for family devices");
		goto out;
	}
	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_CONSENT)) ==
	    NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed consent");
		goto out;
	}
	memset(&t, 0, sizeof t);
	snprintf(t.id, sizeof t.id, "%s", d.token_id);
	memset(&c, 0, sizeof c);
	if ((why = consent_check(o, &t, &c, &remediate)) != NULL) {
		log_info("consent: device %s: %s", d.id, why);
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
		goto out;
	}
	c.device = d.id;
	c.body = (const unsigned char *)rq->body;
	c.len = rq->len;
	if (sig_header(rq, c.sig) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "missing or malformed device signature");
		goto out;
	}
	if ((rc = writer_run(rq->srv->writer, job_consent, &c, &e)) != 0) {
		reply_store_error(out, "consent", rc, &e);
		goto out;
	}
	log_info("device %s: new consent for profile %s serial %lld",
	    d.id, c.profile != NULL ? c.profile : "(none)",
	    (long long)c.serial);
	reply_text(out, MHD_HTTP_OK, "{\"device\":\"%s\",\"consent\":"
	    "\"stored\"}", d.id);
out:
	free(remediate);
	json_decref(o);
}

void
route_enroll(const struct route_request *rq, struct route_reply *out)
{
	static const char *const fields[] = { "token", "device_key", "model",
	    "consent", NULL };
	unsigned char sig[crypto_sign_BYTES], id[DEVICE_ID_BYTES];
	struct store_device d;
	struct store_consent c;
	struct enroll_job j;
	struct token t;
	struct muster_err e;
	const char *tok, *key, *model, *why;
	char *prof = NULL, *remediate = NULL, id_hex[DEVICE_ID_HEX];
	char *rcpt = NULL;
	json_t *o = NULL, *consent;
	size_t toklen, keylen, n, proflen;
	int rc;

	if (hdr(rq, PROTO_HDR_DEVICE) != NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "enroll carries no Muster-Device");
		goto out;
	}
	if (sig_header(rq, sig) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "missing or malformed device signature");
		goto out;
	}
	/* The key that signed is inside the body: parse, then verify. */
	if ((o = body_object(rq, JSON_DEPTH_ENROLL, fields)) == NULL ||
	    (tok = proto_json_str(o, "token", &toklen)) == NULL ||
	    (key = proto_json_str(o, "device_key", &keylen)) == NULL ||
	    (json_object_get(o, "model") != NULL &&
	    proto_json_str(o, "model", NULL) == NULL)) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed enrollment");
		goto out;
	}
	memset(&d, 0, sizeof d);
	if (b64_decode(key, keylen, d.pk, sizeof d.pk, sizeof d.pk, &n) != 0) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed device key");
		goto out;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)rq->body,
	    rq->len, d.pk) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED, "bad signature");
		goto out;
	}
	if (toklen > TOKEN_MAX) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed token");
		goto out;
	}
	if (token_gate(rq, "enroll", tok, toklen, &t, out) != 0)
		goto out;
	model = proto_json_str(o, "model", NULL);
	if (model != NULL && (t.scope != SCOPE_PERSONNEL ||
	    strlen(model) >= sizeof d.model || !reportcheck_text_ok(model))) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, t.scope ==
		    SCOPE_PERSONNEL ? "malformed model" :
		    "family devices send no model");
		goto out;
	}
	consent = json_object_get(o, "consent");
	if (consent != NULL && t.scope != SCOPE_FAMILY) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "consent is for family enrollment");
		goto out;
	}
	if (consent == NULL && t.scope == SCOPE_FAMILY) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "family enrollment needs the member's consent");
		goto out;
	}
	memset(&c, 0, sizeof c);
	if (consent != NULL) {
		if ((why = consent_check(consent, &t, &c, &remediate)) !=
		    NULL) {
			log_info("enroll: token %s: %s",
			    log_who(t.scope, t.id), why);
			route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
			goto out;
		}
		/* The receipt is kept as signed: body and signature. */
		c.body = (const unsigned char *)rq->body;
		c.len = rq->len;
		memcpy(c.sig, sig, sizeof c.sig);
	}
	randombytes_buf(id, sizeof id);
	sodium_bin2hex(id_hex, sizeof id_hex, id, sizeof id);
	memcpy(d.id, id_hex, sizeof d.id);
	c.device = d.id;
	d.scope = t.scope;
	snprintf(d.unit, sizeof d.unit, "%s", t.unit);
	snprintf(d.person, sizeof d.person, "%s", t.person);
	snprintf(d.model, sizeof d.model, "%s", model != NULL ? model : "");
	snprintf(d.token_id, sizeof d.token_id, "%s", t.id);
	d.enrolled = time(NULL);
	j = (struct enroll_job){ &d, t.expires, consent != NULL ? &c : NULL };
	if ((rc = writer_run(rq->srv->writer, job_enroll, &j, &e)) != 0) {
		if (rc == MUSTER_ETRUST) {
			log_info("enroll: %s", t.scope == SCOPE_FAMILY ?
			    "a family token was used or revoked" : e.msg);
			route_reply_error(out, MHD_HTTP_FORBIDDEN,
			    "token used or revoked");
		} else
			reply_store_error(out, "enroll", rc, &e);
		goto out;
	}
	if (t.scope == SCOPE_FAMILY)
		log_info("a family device enrolled");
	else
		log_info("device %s enrolled with token %s (%s)", d.id, t.id,
		    profile_scope_name(t.scope));
	/*
	 * Enrolled and committed: from here the answer is 201 whatever
	 * happens, or the device would retry with its spent token.  Without
	 * memory for the profile it gets null and fetches it later.
	 */
	if (srv_profile_copy(rq->srv, t.scope, &prof, &proflen, NULL,
	    NULL) != 0)
		prof = NULL;
	rcpt = enroll_receipt(rq->srv, &d, t.expires);
	reply_text(out, MHD_HTTP_CREATED, "{\"device\":\"%s\",\"profile\":%s"
	    "%s%s}", d.id, prof != NULL ? prof : "null",
	    rcpt != NULL ? ",\"receipt\":" : "", rcpt != NULL ? rcpt : "");
out:
	free(rcpt);
	free(remediate);
	free(prof);
	json_decref(o);
}

/* --- POST /v1/enroll/preview -------------------------------------------- */

/*
 * The family profile for the holder of an unused family token, so that
 * the member sees the rules before consenting.  Nothing is stored and
 * no device key is involved: the token is checked as enroll checks it.
 */
void
route_enroll_preview(const struct route_request *rq, struct route_reply *out)
{
	struct muster_err e;
	struct store *st;
	struct token t;
	const char *tok;
	char *prof = NULL;
	json_t *o = NULL;
	size_t toklen, proflen;
	int rc, used = 0, revoked = 0;

	if (hdr(rq, PROTO_HDR_DEVICE) != NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "preview carries no Muster-Device");
		goto out;
	}
	if ((o = token_body(rq, "token", &tok, &toklen, out)) == NULL ||
	    token_gate(rq, "preview", tok, toklen, &t, out) != 0)
		goto out;
	if (t.scope != SCOPE_FAMILY) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "preview is for family enrollment");
		goto out;
	}
	if ((rc = srv_reader(rq->srv, &st, &e)) != 0 ||
	    (rc = store_token_get(st, t.id, &used, &revoked, &e)) != 0) {
		reply_store_error(out, "preview", rc, &e);
		goto out;
	}
	if (used || revoked) {
		route_reply_error(out, MHD_HTTP_FORBIDDEN, "token used or revoked");
		goto out;
	}
	if (srv_profile_copy(rq->srv, SCOPE_FAMILY, &prof, &proflen, NULL,
	    NULL) != 0) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		goto out;
	}
	log_debug("preview: family profile shown");
	reply_text(out, MHD_HTTP_OK, "{\"profile\":%s}",
	    prof != NULL ? prof : "null");
out:
	free(prof);
	json_decref(o);
}

/* --- GET /v1/profile, GET /v1/policy ------------------------------------ */

/*
 * The answer to a time the device signed that the server cannot take
 * (error: PROTO_ERR_CLOCK for a Muster-Time out of the window,
 * PROTO_ERR_REPORT_BEFORE for a report): PROTO_CLOCK_STATUS with the
 * server's time, from which the device corrects its clock.  Not 401: a
 * device whose clock drifted is neither forged nor revoked.
 */
static void
reply_clock(struct route_reply *out, const char *error, time_t now)
{
	char t[TIMEFMT_LEN];

	timefmt_format(now, t);
	reply_text(out, PROTO_CLOCK_STATUS, "{\"error\":\"%s\","
	    "\"server_time\":\"%s\"}\n", error, t);
}

/*
 * Authenticates a signed GET: Muster-Time within the skew window and the
 * device's signature over PROTO_GET_PREFIX "<path>\n<time>\n" (the path
 * without any query).  Returns 0 with the device in *d, or -1 with the
 * answer in out.
 */
static int
get_auth(const struct route_request *rq, struct store_device *d,
    struct route_reply *out)
{
	const char *tstr = hdr(rq, PROTO_HDR_TIME);
	char *msg = NULL;
	time_t t, now = time(NULL);
	int n, rc = -1;

	if (tstr == NULL || strlen(tstr) != PROTO_TIME_LEN ||
	    timefmt_parse(tstr, &t) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "missing or malformed Muster-Time");
		goto out;
	}
	if (t < now - PROTO_GET_SKEW || t > now + PROTO_GET_SKEW) {
		/* Skew is not revocation: say so, with our time. */
		reply_clock(out, PROTO_ERR_CLOCK, now);
		goto out;
	}
	if ((n = asprintf(&msg, PROTO_GET_PREFIX "%s\n%s\n", rq->path, tstr))
	    == -1) {
		msg = NULL;
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		goto out;
	}
	rc = device_auth(rq, msg, (size_t)n, 0, d, out);
out:
	free(msg);
	return rc;
}

/* 1 if the If-None-Match header names etag (quoted or not). */
static int
etag_match(const struct route_request *rq, const char *etag)
{
	const char *inm = hdr(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);

	return inm != NULL && (strcmp(inm, etag) == 0 || (strlen(inm) ==
	    strlen(etag) - 2 && strncmp(inm, etag + 1, strlen(inm)) == 0));
}

void
route_profile(const struct route_request *rq, struct route_reply *out)
{
	struct store_device d;
	char *json = NULL, id[PROFILE_ID_MAX + 1], etag[128];
	int64_t serial;
	size_t len;

	if (get_auth(rq, &d, out) != 0)
		goto out;
	if (srv_profile_copy(rq->srv, d.scope, &json, &len, id, &serial)
	    != 0) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		goto out;
	}
	if (json == NULL) {
		route_reply_error(out, MHD_HTTP_NOT_FOUND, "no profile published");
		goto out;
	}
	snprintf(etag, sizeof etag, "\"%s:%lld\"", id, (long long)serial);
	out->hname = MHD_HTTP_HEADER_ETAG;
	snprintf(out->hvalue, sizeof out->hvalue, "%s", etag);
	if (etag_match(rq, etag)) {
		out->status = MHD_HTTP_NOT_MODIFIED;
		goto out;
	}
	out->status = MHD_HTTP_OK;
	out->body = json;
	out->len = len;
	json = NULL;
out:
	free(json);
}

/* A root version as a header or query gives it: 0 .. ROOT_VERSION_MAX. */
static int
version_arg(const char *s, int64_t *v)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 10 ||
	    (n > 1 && s[0] == '0'))
		return -1;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return *v <= ROOT_VERSION_MAX ? 0 : -1;
}

/*
 * GET /v1/policy: the roots after the device's (Muster-Root), at most
 * ROOT_CHAIN_MAX, the manifest of its scope and every profile it names,
 * so that one exchange walks the chain and brings the policy.
 */
void
route_policy(const struct route_request *rq, struct route_reply *out)
{
	struct store_device d;
	struct muster_err e;
	char *roots = NULL, *policy = NULL, tag[PROTO_POLICY_TAG_MAX];
	int64_t have, newest, manifest;
	size_t rlen, plen;

	if (get_auth(rq, &d, out) != 0)
		goto out;
	if (version_arg(hdr(rq, PROTO_HDR_ROOT), &have) != 0) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "missing or malformed Muster-Root");
		goto out;
	}
	if (srv_policy_copy(rq->srv, d.scope, &policy, &plen, &manifest) !=
	    0 || policy == NULL) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		goto out;
	}
	/* The tag a report's answer carries too, of the manifest version
	 * read with the policy it describes (not srv_policy_tag's read). */
	newest = trust_root_version(rq->srv->trust);
	proto_policy_tag(tag, newest, manifest);
	out->hname = MHD_HTTP_HEADER_ETAG;
	snprintf(out->hvalue, sizeof out->hvalue, "\"%s\"", tag);
	if (have >= newest && etag_match(rq, out->hvalue)) {
		out->status = MHD_HTTP_NOT_MODIFIED;
		goto out;
	}
	if (trust_roots_json(rq->srv->trust, have, &roots, &rlen, &e) != 0) {
		reply_store_error(out, "policy", MUSTER_EINTERNAL, &e);
		goto out;
	}
	reply_text(out, MHD_HTTP_OK, "{\"roots\":%s,%s}", roots, policy);
out:
	free(roots);
	free(policy);
}

struct args_only {
	const char *const	*names;
	int			 unknown;
};

/* Stops at the first query parameter the list does not name. */
static enum MHD_Result
arg_listed(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct args_only *a = cls;
	size_t i;

	(void)kind;
	(void)value;
	for (i = 0; a->names[i] != NULL; i++)
		if (strcmp(key, a->names[i]) == 0)
			return MHD_YES;
	a->unknown = 1;
	return MHD_NO;
}

/* 1 if names (NULL-terminated) lists every query parameter of rq. */
static int
args_only(const struct route_request *rq, const char *const *names)
{
	struct args_only a = { names, 0 };

	(void)MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND,
	    arg_listed, &a);
	return !a.unknown;
}

/*
 * GET /v1/root?since=N, unsigned (enrollment by URI has no device key
 * yet): the roots N+1 .. newest, at most ROOT_CHAIN_MAX.  All public.
 */
void
route_root(const struct route_request *rq, struct route_reply *out)
{
	static const char *const args[] = { "since", NULL };
	struct muster_err e;
	char *roots = NULL;
	int64_t since;
	size_t len;

	if (!args_only(rq, args) ||
	    version_arg(MHD_lookup_connection_value(rq->conn,
	    MHD_GET_ARGUMENT_KIND, "since"), &since) != 0) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "want since=N, a root version");
		return;
	}
	if (trust_roots_json(rq->srv->trust, since, &roots, &len, &e) != 0) {
		reply_store_error(out, "root", MUSTER_EINTERNAL, &e);
		return;
	}
	reply_text(out, MHD_HTTP_OK, "{\"roots\":%s}", roots);
	free(roots);
}

/* --- POST /v1/report ---------------------------------------------------- */

/* 503 with Retry-After: the writer is behind (writer_lagging). */
static void
reply_busy(struct route_reply *out, unsigned retry_after)
{
	route_reply_error(out, MHD_HTTP_SERVICE_UNAVAILABLE, "busy");
	out->hname = MHD_HTTP_HEADER_RETRY_AFTER;
	snprintf(out->hvalue, sizeof out->hvalue, "%u", retry_after);
}

/*
 * A report on its way to the writer; r's strings point into o, device
 * and the request's body, and r.failing is failing.
 */
struct report_job {
	struct srv		*srv;
	struct store_report	 r;
	enum store_put		 res;
	char			 device[DEVICE_ID_HEX];
	unsigned char		 sig[crypto_sign_BYTES];	/* verified */
	enum profile_scope	 scope;		/* for the log */
	int			 late;		/* older than the window */
	time_t			 earliest;	/* the window's start */
	json_t			*o;
	const char		**failing;
};

static void
report_job_free(struct report_job *j)
{
	if (j == NULL)
		return;
	json_decref(j->o);
	free(j->failing);
	free(j);
}

static int
job_report(struct store *st, void *arg, struct muster_err *e)
{
	struct report_job *j = arg;

	return store_report_put(st, &j->r, &j->res, e);
}

/* The answer to a report, once its transaction is over (route_done_fn). */
static void
report_done(void *arg, int rc, const struct muster_err *e, struct route_reply *out)
{
	struct report_job *j = arg;
	char tag[PROTO_POLICY_TAG_MAX], now[TIMEFMT_LEN];

	/* What the check-in needs besides: the policy's tag and our time. */
	srv_policy_tag(j->srv, j->scope, tag);
	timefmt_format(time(NULL), now);
	if (rc == MUSTER_ENOINPUT || rc == MUSTER_ETRUST) {
		route_reply_error(out, MHD_HTTP_FORBIDDEN, rc == MUSTER_ENOINPUT ?
		    "unknown device" : "device revoked");
		goto out;
	}
	if (rc != 0) {
		reply_store_error(out, "report", rc, e);
		goto out;
	}
	switch (j->res) {
	case STORE_STORED:
		metrics_report_stored();
		if (j->late)
			log_info("device %s: late report seq %lld stored at its "
			    "own time, %lld s before the window (an outage)",
			    log_who(j->scope, j->device), (long long)j->r.seq,
			    (long long)(j->earliest - j->r.time));
		reply_text(out, MHD_HTTP_ACCEPTED, "{\"status\":\"stored\","
		    "\"seq\":%lld%s,\"policy\":\"%s\",\"server_time\":"
		    "\"%s\"}", (long long)j->r.seq, j->late ?
		    ",\"late\":true" : "", tag, now);
		break;
	case STORE_DUPLICATE:
		reply_text(out, MHD_HTTP_OK, "{\"status\":\"duplicate\","
		    "\"seq\":%lld,\"policy\":\"%s\",\"server_time\":"
		    "\"%s\"}", (long long)j->r.seq, tag, now);
		break;
	case STORE_REPLAY:
		log_warn("device %s: replayed report seq %lld with other "
		    "bytes (a cloned device key?)",
		    log_who(j->scope, j->device),
		    (long long)j->r.seq);
		route_reply_error(out, MHD_HTTP_CONFLICT, "replay");
		break;
	case STORE_BACKDATED:
		/* Late and before the previous one: the window refuses it. */
		/* Either way with our time: a clock behind shows here. */
		if (j->late)
			reportcheck_reply_window(out, time(NULL), j->earliest);
		else
			reply_clock(out, PROTO_ERR_REPORT_BEFORE, time(NULL));
		break;
	}
out:
	report_job_free(j);
}

/*
 * The per-device limits (ratelimit.h), one table for the server's life,
 * made from the configuration on first use.
 */
static pthread_mutex_t	 limit_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ratelimit	*limit_table;
static int		 limit_failed;

/*
 * Charges device d one report of len bytes: 0, or -1 with the answer in
 * out: 429 with Retry-After when it is over its rate or quota (nothing
 * is stored; the agent keeps the report spooled and sends it later), 503
 * when the table could not grow.
 */
static int
report_limit(const struct route_request *rq, const struct store_device *d,
    struct route_reply *out)
{
	const struct config_limits *l = &rq->srv->cfg->limits;
	struct ratelimit *rl;
	struct timespec ts;
	long wait;

	pthread_mutex_lock(&limit_mu);
	if (limit_table == NULL && !limit_failed &&
	    ratelimit_new(l->device_rate, l->device_burst, l->device_quota,
	    &limit_table) != 0)
		limit_failed = 1;
	rl = limit_table;
	pthread_mutex_unlock(&limit_mu);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	wait = rl == NULL ? -1 : ratelimit_take(rl, d->id, rq->len,
	    (double)ts.tv_sec + ts.tv_nsec / 1e9);
	if (wait == 0)
		return 0;
	if (wait < 0) {
		route_reply_error(out, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "server busy");
		out->hname = MHD_HTTP_HEADER_RETRY_AFTER;
		snprintf(out->hvalue, sizeof out->hvalue, "%d", 5);
		return -1;
	}
	log_debug("device %s: over its report limit, retry in %ld s",
	    log_who(d->scope, d->id), wait);
	reply_text(out, MHD_HTTP_TOO_MANY_REQUESTS, "{\"error\":\"rate "
	    "limited\",\"retry_after\":%ld}", wait);
	out->hname = MHD_HTTP_HEADER_RETRY_AFTER;
	snprintf(out->hvalue, sizeof out->hvalue, "%ld", wait);
	return -1;
}

/*
 * Verified and checked here; stored by the writer, and answered by
 * report_done once the transaction has committed (a deferred write).
 */
void
route_report(const struct route_request *rq, struct route_reply *out)
{
	struct report_job *j = NULL;
	struct report_fields f;
	struct store_device d;
	const char *why;
	unsigned ra;
	int rc;

	/* Overload: said at once, before any work, rather than queued to
	 * time out; the device keeps the report and comes back. */
	if (writer_lagging(rq->srv->writer, &ra)) {
		reply_busy(out, ra);
		goto out;
	}
	if (device_auth(rq, rq->body, rq->len, 0, &d, out) != 0 ||
	    report_limit(rq, &d, out) != 0)
		goto out;
	if ((j = calloc(1, sizeof *j)) == NULL) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		goto out;
	}
	if ((j->o = proto_json_parse(rq->body, rq->len, REPORT_JSON_DEPTH)) ==
	    NULL) {
		if (errno == ENOMEM)
			route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "internal error");
		else
			route_reply_error(out, MHD_HTTP_BAD_REQUEST,
			    "malformed report");
		goto out;
	}
	if ((rc = report_validate(j->o, d.scope, d.id, &f, &why)) != 0) {
		log_debug("device %s: report refused: %s",
		    log_who(d.scope, d.id), why);
		if (rc == MUSTER_EINTERNAL)
			route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "internal error");
		else
			route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
		goto out;
	}
	j->failing = f.failing;
	if (reportcheck_report(rq, &d, j->o, &f, out) != 0)
		goto out;
	j->late = reportcheck_late(rq, &d, f.time, &j->earliest);
	j->r.seq = f.seq;
	j->r.time = f.time;
	j->r.profile = f.profile;
	j->r.serial = f.serial;
	j->r.compliant = f.compliant;
	j->r.stale = f.stale;
	j->r.failing = f.failing;
	j->r.nfailing = f.nfailing;
	memcpy(j->device, d.id, sizeof j->device);
	j->srv = rq->srv;
	j->scope = d.scope;
	j->r.device = j->device;
	j->r.body = (const unsigned char *)rq->body;
	j->r.len = rq->len;
	/* Kept with the report: device_auth verified it over these bytes. */
	if (sig_header(rq, j->sig) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "missing or malformed device signature");
		goto out;
	}
	j->r.sig = j->sig;
	j->r.window = reportcheck_window(rq->srv, d.scope);
	out->job = job_report;
	out->arg = j;
	out->done = report_done;
	j = NULL;
out:
	report_job_free(j);
}

/* --- POST /v1/reregister ----------------------------------------------- */

struct rereg_job {
	struct store_device	d;
	time_t			expires;
	enum store_put		res;
};

static int
job_reregister(struct store *st, void *arg, struct muster_err *e)
{
	struct rereg_job *j = arg;

	return store_device_reregister(st, &j->d, j->expires, &j->res, e);
}

/*
 * A device the store does not know (it was restored from an older
 * backup) proves who it is: the receipt this server signed when it
 * enrolled it, in a body signed by the device key the receipt names.
 * The receipt is verified first (the server's key), then the request's
 * signature (the device's), then the store refuses a revoked device or
 * token and a token another device holds.
 */
void
route_reregister(const struct route_request *rq, struct route_reply *out)
{
	static const char *const fields[] = { "receipt", NULL };
	static const char *const rfields[] = { "body", "sig", NULL };
	unsigned char sig[crypto_sign_BYTES];
	const struct receipt_key *k;
	const char *id = hdr(rq, PROTO_HDR_DEVICE), *body, *rsig;
	struct rereg_job j;
	struct receipt r;
	struct muster_err e;
	size_t blen, slen;
	json_t *o = NULL, *ro;
	int rc;

	if (id == NULL || sig_header(rq, sig) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "missing or malformed device signature");
		goto out;
	}
	if ((o = body_object(rq, JSON_DEPTH_REREG, fields)) == NULL ||
	    !json_is_object(ro = json_object_get(o, "receipt")) ||
	    !proto_json_keys_ok(ro, rfields) ||
	    (body = proto_json_str(ro, "body", &blen)) == NULL ||
	    (rsig = proto_json_str(ro, "sig", &slen)) == NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "malformed re-registration");
		goto out;
	}
	if ((k = receipt_key(rq->srv, &e)) == NULL) {
		reply_store_error(out, "receipt key", MUSTER_EIO, &e);
		goto out;
	}
	if ((rc = receipt_verify(k, body, blen, rsig, slen, &r, &e)) != 0) {
		log_info("reregister: receipt refused: %s", e.msg);
		route_reply_error(out, rc == MUSTER_ETRUST ?
		    MHD_HTTP_FORBIDDEN : MHD_HTTP_BAD_REQUEST, rc ==
		    MUSTER_ETRUST ? "receipt refused" : "malformed receipt");
		goto out;
	}
	if (strcmp(id, r.device) != 0) {
		route_reply_error(out, MHD_HTTP_FORBIDDEN,
		    "receipt of another device");
		goto out;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)rq->body,
	    rq->len, r.pk) != 0) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED, "bad signature");
		goto out;
	}
	memset(&j, 0, sizeof j);
	memcpy(j.d.id, r.device, sizeof j.d.id);
	memcpy(j.d.pk, r.pk, sizeof j.d.pk);
	j.d.scope = r.scope;
	memcpy(j.d.unit, r.unit, sizeof j.d.unit);
	memcpy(j.d.person, r.person, sizeof j.d.person);
	memcpy(j.d.token_id, r.token_id, sizeof j.d.token_id);
	j.d.enrolled = r.enrolled;
	j.expires = r.expires;
	if ((rc = writer_run(rq->srv->writer, job_reregister, &j, &e)) != 0) {
		if (rc == MUSTER_ETRUST) {
			log_warn("device %s: re-registration refused: %s",
			    log_who(r.scope, r.device), e.msg);
			route_reply_error(out, MHD_HTTP_FORBIDDEN,
			    "re-registration refused");
		} else
			reply_store_error(out, "reregister", rc, &e);
		goto out;
	}
	if (j.res == STORE_STORED)
		log_info("device %s re-registered by its enrollment receipt",
		    log_who(r.scope, r.device));
	reply_text(out, j.res == STORE_STORED ? MHD_HTTP_CREATED :
	    MHD_HTTP_OK, "{\"device\":\"%s\",\"status\":\"%s\"}", r.device,
	    j.res == STORE_STORED ? "reregistered" : "known");
out:
	json_decref(o);
}

/* --- POST /v1/unenroll -------------------------------------------------- */

/* Re-checked in the writer's transaction: a revocation may have raced. */
static int
job_unenroll(struct store *st, void *arg, struct muster_err *e)
{
	struct store_device d;
	int rc;

	if ((rc = store_device_get(st, arg, &d, e)) != 0)
		return rc;
	if (d.revoked && d.scope != SCOPE_FAMILY)
		return err_set(e, MUSTER_ETRUST, "device revoked");
	return store_device_delete(st, arg, e);
}

void
route_unenroll(const struct route_request *rq, struct route_reply *out)
{
	static const char *const fields[] = { "device", "time", NULL };
	struct store_device d;
	struct muster_err e;
	const char *s;
	json_t *o = NULL;
	time_t t;
	int rc;

	if (device_auth(rq, rq->body, rq->len, 1, &d, out) != 0)
		goto out;
	if ((o = body_object(rq, JSON_DEPTH_FLAT, fields)) == NULL ||
	    (s = proto_json_str(o, "time", NULL)) == NULL ||
	    timefmt_parse(s, &t) != 0) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed unenroll");
		goto out;
	}
	if ((s = proto_json_str(o, "device", NULL)) == NULL ||
	    strcmp(s, d.id) != 0) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "device does not match Muster-Device");
		goto out;
	}
	rc = writer_run(rq->srv->writer, job_unenroll, d.id, &e);
	if (rc == MUSTER_ENOINPUT || rc == MUSTER_ETRUST) {
		route_reply_error(out, MHD_HTTP_FORBIDDEN, rc == MUSTER_ENOINPUT ?
		    "unknown device" : "device revoked");
		goto out;
	}
	if (rc != 0) {
		reply_store_error(out, "unenroll", rc, &e);
		goto out;
	}
	log_info("device %s unenrolled; its data is deleted",
	    log_who(d.scope, d.id));
	reply_json(out, MHD_HTTP_OK, json_pack("{s:s,s:s}", "device", d.id,
	    "status", "unenrolled"));
out:
	json_decref(o);
}

/* --- POST /v1/admin/profile, /v1/admin/manifest, /v1/admin/root -------- */

struct publish_job {
	const struct profile	*p;
	const char		*bytes, *sig;
	size_t			 len, siglen;
	enum store_put		 res;
};

static int
job_publish(struct store *st, void *arg, struct muster_err *e)
{
	struct publish_job *j = arg;

	return store_profile_publish(st, j->p, j->bytes, j->len, j->sig,
	    j->siglen, &j->res, e);
}

/*
 * Reads the signed document member name of o (a manifest or a root, at
 * most max bytes) into a new *ss.  NULL, or the answer's message.
 */
static const char *
signed_member(json_t *o, const char *name, size_t max, struct sigset **ss)
{
	struct muster_err e;
	json_t *v = json_object_get(o, name);

	*ss = NULL;
	if (!json_is_object(v) || sigset_from_json(name, v, max, ss, &e) != 0) {
		if (v != NULL)
			log_info("%s refused: %s", name, json_is_object(v) ?
			    e.msg : "not an object");
		return name[0] == 'r' ? "malformed root" : "malformed manifest";
	}
	return NULL;
}

/*
 * rq's body when it holds nothing but the signed document name (a
 * manifest or a root, at most max bytes): read into a new *ss (the
 * caller's, sigset_free), 0; or -1 with the 400 answer in out.
 */
static int
signed_body(const struct route_request *rq, const char *name, size_t max,
    struct sigset **ss, struct route_reply *out)
{
	const char *const fields[] = { name, NULL };
	const char *why;
	json_t *o;

	*ss = NULL;
	if ((o = body_object(rq, JSON_DEPTH_SIGNED, fields)) == NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed request");
		return -1;
	}
	why = signed_member(o, name, max, ss);
	json_decref(o);
	if (why != NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
		return -1;
	}
	return 0;
}

/*
 * Whether the store holds every profile m names, with the bytes it names
 * (the one hashing to skip, being uploaded, aside).  0, or -1 with the
 * answer in out.
 */
static int
named_stored(const struct route_request *rq, const struct manifest *m,
    const char *skip, struct route_reply *out)
{
	struct store_profile p;
	struct muster_err e;
	struct store *st;
	char hash[SIGSET_HASH_HEX];
	size_t i;
	int rc;

	if ((rc = srv_reader(rq->srv, &st, &e)) != 0) {
		reply_store_error(out, "manifest", rc, &e);
		return -1;
	}
	for (i = 0; i < m->nprofiles; i++) {
		if (skip != NULL && strcmp(m->profiles[i].hash, skip) == 0)
			continue;
		rc = store_profile_find(st, m->profiles[i].id,
		    m->profiles[i].serial, &p, &e);
		if (rc != 0 && rc != MUSTER_ENOINPUT) {
			reply_store_error(out, "manifest", rc, &e);
			return -1;
		}
		if (rc == 0)
			sigset_hash_hex(p.bytes, p.len, hash);
		store_profile_clear(&p);
		if (rc != 0 || strcmp(hash, m->profiles[i].hash) != 0) {
			log_info("manifest %s version %lld refused: the server "
			    "holds no %s serial %lld with its hash",
			    profile_scope_name(m->scope), (long long)m->version,
			    m->profiles[i].id, (long long)m->profiles[i].serial);
			route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
			    "the manifest names a profile the server does not "
			    "hold");
			return -1;
		}
	}
	return 0;
}

/*
 * Checks the manifest in ss (trust_manifest_check): 0 with *m and *res,
 * or -1 with the answer in out (422 refused, 409 not newer).
 */
static int
manifest_gate(const struct route_request *rq, const struct sigset *ss,
    struct manifest *m, enum trust_put *res, struct route_reply *out)
{
	struct muster_err e;

	if (trust_manifest_check(rq->srv->trust, ss, m, res, &e) != 0) {
		log_info("manifest refused: %s", e.msg);
		route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "manifest refused");
		return -1;
	}
	if (*res == TRUST_OLD) {
		log_info("manifest %s version %lld refused: not above the "
		    "stored one", profile_scope_name(m->scope),
		    (long long)m->version);
		route_reply_error(out, MHD_HTTP_CONFLICT,
		    "manifest version not above the stored one");
		return -1;
	}
	return 0;
}

/* Stores a checked manifest and serves it; 0, or -1 with out set. */
static int
manifest_store(const struct route_request *rq, const struct sigset *ss,
    const struct manifest *m, struct route_reply *out)
{
	struct muster_err e;
	int rc;

	if ((rc = trust_manifest_put(rq->srv->trust, ss, m, &e)) != 0) {
		if (rc == MUSTER_ETRUST) {
			log_info("%s", e.msg);
			route_reply_error(out, MHD_HTTP_CONFLICT,
			    "manifest version not above the stored one");
		} else
			reply_store_error(out, "manifest", rc, &e);
		return -1;
	}
	if (srv_profile_reload(rq->srv, m->scope, &e) != 0)
		log_error("profile cache: %s", e.msg);
	trust_manifest_watch(rq->srv->trust, time(NULL),
	    rq->srv->cfg->manifest_warn);
	return 0;
}

/*
 * The profile is checked with the newest root: with a manifest, as the
 * manifest names it (manifest_profile_verify: policy key, id, serial,
 * hash); without one, only a first-wave org (the legacy root) may still
 * publish, to a scope that has no manifest yet.
 */
static void
admin_profile(const struct route_request *rq, struct route_reply *out,
    char *obj, size_t objlen)
{
	static const char *const fields[] = { "profile", "signature",
	    "manifest", NULL };
	const struct manifest_entry *me = NULL;
	struct oracle_finding of;
	struct publish_job j;
	struct root root;
	struct manifest m;
	struct muster_err e;
	struct sigset *ss = NULL;
	struct profile *p = NULL;
	enum trust_put mres = TRUST_SAME;
	unsigned char *bytes = NULL;
	const char *b64, *sig, *why;
	char hash[SIGSET_HASH_HEX];
	json_t *o = NULL;
	size_t b64len, siglen, len, i;
	int rc;

	if ((o = body_object(rq, JSON_DEPTH_SIGNED, fields)) == NULL ||
	    (b64 = proto_json_str(o, "profile", &b64len)) == NULL ||
	    (sig = proto_json_str(o, "signature", &siglen)) == NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed request");
		goto out;
	}
	if (json_object_get(o, "manifest") != NULL &&
	    (why = signed_member(o, "manifest", MANIFEST_MAX, &ss)) != NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
		goto out;
	}
	if ((bytes = malloc(b64len / 4 * 3 + 3)) == NULL) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		goto out;
	}
	if (b64_decode(b64, b64len, bytes, b64len / 4 * 3 + 3, 0, &len) != 0) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "profile must be base64");
		goto out;
	}
	trust_root(rq->srv->trust, &root);
	sigset_hash_hex(bytes, len, hash);
	if (ss != NULL) {
		if (manifest_gate(rq, ss, &m, &mres, out) != 0)
			goto out;
		for (i = 0; i < m.nprofiles && me == NULL; i++)
			if (strcmp(m.profiles[i].hash, hash) == 0)
				me = &m.profiles[i];
		if (me == NULL) {
			log_info("publish refused: manifest %s version %lld "
			    "does not name the profile",
			    profile_scope_name(m.scope), (long long)m.version);
			route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
			    "the manifest does not name this profile");
			goto out;
		}
		rc = manifest_profile_verify(&m, &root, me->id, me->serial,
		    "profile", (const char *)bytes, len, "signature", sig,
		    siglen, &p, &e);
	} else if (!root.legacy) {
		log_info("publish refused: no manifest (the organisation has "
		    "roots)");
		route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "a manifest is required");
		goto out;
	} else
		rc = profile_verify("profile", (const char *)bytes, len,
		    "signature", sig, siglen,
		    &root_keys(&root, ROOT_ROLE_POLICY)->keys[0], &p, NULL, &e);
	if (rc != 0) {
		log_info("publish refused: %s", e.msg);
		route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    rc == MUSTER_ETRUST ? "signature refused" :
		    "profile or signature malformed");
		goto out;
	}
	snprintf(obj, objlen, "profile %s serial %lld scope %s", p->id,
	    (long long)p->serial, profile_scope_name(p->scope));
	if (p->expires <= time(NULL)) {
		log_info("publish refused: profile %s serial %lld expired",
		    p->id, (long long)p->serial);
		route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "profile expired");
		goto out;
	}
	/* The oracle lint that lint/sign/publish run, here too (issue 12). */
	if (oracle_refusal(p, &of)) {
		char why2[sizeof of.msg + 32];

		log_info("publish refused: profile %s serial %lld: family "
		    "profile: %s", p->id, (long long)p->serial, of.msg);
		snprintf(why2, sizeof why2, "family profile: %s", of.msg);
		/* Rule ids and setting keys: quoted by jansson. */
		reply_json(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    json_pack("{s:s}", "error", why2));
		goto out;
	}
	if (ss == NULL && trust_manifest(rq->srv->trust, p->scope, NULL, NULL,
	    NULL) != 0) {
		log_info("publish refused: scope %s has a manifest",
		    profile_scope_name(p->scope));
		route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "a manifest is required");
		goto out;
	}
	if (ss != NULL && named_stored(rq, &m, hash, out) != 0)
		goto out;
	j = (struct publish_job){ p, (const char *)bytes, sig, len, siglen,
	    STORE_STORED };
	if ((rc = writer_run(rq->srv->writer, job_publish, &j, &e)) != 0) {
		reply_store_error(out, "publish", rc, &e);
		goto out;
	}
	if (j.res == STORE_REPLAY && ss != NULL &&
	    named_stored(rq, &m, NULL, out) == 0)
		j.res = STORE_DUPLICATE;	/* stored before, not the newest */
	else if (j.res == STORE_REPLAY) {
		route_reply_clear(out);
		log_info("publish refused: profile %s serial %lld is not "
		    "above the published one", p->id, (long long)p->serial);
		route_reply_error(out, MHD_HTTP_CONFLICT,
		    "serial not above the published one");
		goto out;
	}
	if (j.res == STORE_STORED)
		log_info("profile %s serial %lld published for %s", p->id,
		    (long long)p->serial, profile_scope_name(p->scope));
	if (ss != NULL && mres == TRUST_NEW &&
	    manifest_store(rq, ss, &m, out) != 0)
		goto out;
	if (j.res == STORE_STORED && (ss == NULL || mres != TRUST_NEW) &&
	    srv_profile_reload(rq->srv, p->scope, &e) != 0)
		log_error("profile cache: %s", e.msg);
	if (ss != NULL)
		reply_json(out, j.res == STORE_STORED || mres == TRUST_NEW ?
		    MHD_HTTP_CREATED : MHD_HTTP_OK,
		    json_pack("{s:s,s:I,s:s,s:s,s:I}", "id", p->id, "serial",
		    (json_int_t)p->serial, "scope", profile_scope_name(p->scope),
		    "status", j.res == STORE_STORED || mres == TRUST_NEW ?
		    "published" : "unchanged", "manifest",
		    (json_int_t)m.version));
	else
		reply_json(out, j.res == STORE_STORED ? MHD_HTTP_CREATED :
		    MHD_HTTP_OK, json_pack("{s:s,s:I,s:s,s:s}", "id", p->id,
		    "serial", (json_int_t)p->serial, "scope",
		    profile_scope_name(p->scope), "status", j.res ==
		    STORE_STORED ? "published" : "unchanged"));
out:
	sigset_free(ss);
	profile_free(p);
	free(bytes);
	json_decref(o);
}

void
route_admin_profile(const struct route_request *rq, struct route_reply *out)
{
	admin_route(rq, out, "publish", admin_profile);
}

/*
 * A manifest alone: a new expiry, or a scope's profiles changed to ones
 * the server already holds (a profile dropped, an older one named again).
 */
static void
admin_manifest(const struct route_request *rq, struct route_reply *out,
    char *obj, size_t objlen)
{
	struct manifest m;
	struct sigset *ss = NULL;
	enum trust_put res;

	if (signed_body(rq, "manifest", MANIFEST_MAX, &ss, out) != 0 ||
	    manifest_gate(rq, ss, &m, &res, out) != 0)
		goto out;
	snprintf(obj, objlen, "manifest %s version %lld",
	    profile_scope_name(m.scope), (long long)m.version);
	if (named_stored(rq, &m, NULL, out) != 0)
		goto out;
	if (res == TRUST_NEW && manifest_store(rq, ss, &m, out) != 0)
		goto out;
	reply_json(out, res == TRUST_NEW ? MHD_HTTP_CREATED : MHD_HTTP_OK,
	    json_pack("{s:s,s:I,s:I,s:s}", "scope", profile_scope_name(m.scope),
	    "version", (json_int_t)m.version, "profiles",
	    (json_int_t)m.nprofiles, "status", res == TRUST_NEW ? "published" :
	    "unchanged"));
out:
	sigset_free(ss);
}

void
route_admin_manifest(const struct route_request *rq, struct route_reply *out)
{
	admin_route(rq, out, "manifest", admin_manifest);
}

/*
 * The next root: exactly newest+1 (else 409) and accepted by the rotation
 * rule from the newest (else 422).  From then on the server serves it and
 * verifies with its roles.
 */
static void
admin_root(const struct route_request *rq, struct route_reply *out,
    char *obj, size_t objlen)
{
	struct muster_err e;
	struct sigset *ss = NULL;
	int rc;

	if (signed_body(rq, "root", ROOT_MAX, &ss, out) != 0)
		goto out;
	snprintf(obj, objlen, "root version %lld", (long long)ss->version);
	if ((rc = trust_root_add(rq->srv->trust, ss, &e)) != 0) {
		if (rc == MUSTER_EUSAGE) {
			log_info("root refused: %s", e.msg);
			route_reply_error(out, MHD_HTTP_CONFLICT,
			    "not the next root version");
		} else if (rc == MUSTER_ETRUST || rc == MUSTER_EDATA) {
			log_info("root refused: %s", e.msg);
			route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
			    "root refused");
		} else
			reply_store_error(out, "root", rc, &e);
		goto out;
	}
	reply_json(out, MHD_HTTP_CREATED, json_pack("{s:I,s:s}", "root",
	    (json_int_t)ss->version, "status", "accepted"));
out:
	sigset_free(ss);
}

void
route_admin_root(const struct route_request *rq, struct route_reply *out)
{
	admin_route(rq, out, "root", admin_root);
}

/* --- POST /v1/admin/revoke ---------------------------------------------- */

struct revoke_job {
	const char	*id;
	char		 device[DEVICE_ID_HEX];
};

static int
job_revoke(struct store *st, void *arg, struct muster_err *e)
{
	struct revoke_job *j = arg;

	return store_revoke_used(st, j->id, j->device, e);
}

/*
 * What a revocation names, for the audit log: the token or device id,
 * and the device a used token enrolled (device, or NULL); a family
 * device's id never (the log outlives the member's data), only that it
 * was one.
 */
static void
revoke_object(const struct route_request *rq, const char *id,
    const char *device, char *obj, size_t objlen)
{
	struct store_device d;
	struct muster_err e;
	struct store *st;
	const char *dev = device != NULL ? device :
	    strlen(id) == DEVICE_ID_HEX - 1 ? id : NULL;
	int family = 0;

	if (dev != NULL && srv_reader(rq->srv, &st, &e) == 0 &&
	    store_device_get(st, dev, &d, &e) == 0)
		family = d.scope == SCOPE_FAMILY;
	if (device != NULL)
		snprintf(obj, objlen, "token %s, device %s", id, family ?
		    "(a family device)" : device);
	else if (dev != NULL)
		snprintf(obj, objlen, "device %s", family ?
		    "(a family device)" : id);
	else
		snprintf(obj, objlen, "token %s", id);
}

/*
 * A revocation signed by a key of the newest root's revocation role (a
 * policy or root key is refused).  Revoking a token a device enrolled
 * with revokes that device too, and the answer names it.
 */
static void
admin_revoke(const struct route_request *rq, struct route_reply *out,
    char *obj, size_t objlen)
{
	struct revocation rv;
	struct revoke_job j;
	struct muster_err e;
	const char *s;
	json_t *o = NULL, *a;
	size_t len;
	int rc;

	if ((o = token_body(rq, "revocation", &s, &len, out)) == NULL)
		goto out;
	if ((rc = trust_revocation_verify(rq->srv->trust, s, len, &rv, &e)) !=
	    0) {
		log_info("revocation refused: %s", e.msg);
		route_reply_error(out, rc == MUSTER_EDATA ?
		    MHD_HTTP_BAD_REQUEST : MHD_HTTP_UNPROCESSABLE_CONTENT, rc ==
		    MUSTER_EDATA ? "malformed revocation" : "signature refused");
		goto out;
	}
	revoke_object(rq, rv.id, NULL, obj, objlen);
	memset(&j, 0, sizeof j);
	j.id = rv.id;
	if ((rc = writer_run(rq->srv->writer, job_revoke, &j, &e)) != 0) {
		if (rc == MUSTER_EDATA)
			route_reply_error(out, MHD_HTTP_BAD_REQUEST,
			    "not a device or token id");
		else
			reply_store_error(out, "revoke", rc, &e);
		goto out;
	}
	log_info("revoked %s %s", strlen(rv.id) == TOKEN_ID_HEX - 1 ?
	    "token" : "device", rv.id);
	if (j.device[0] != '\0')
		log_info("revoked device %s, enrolled with token %s", j.device,
		    rv.id);
	if (j.device[0] != '\0')
		revoke_object(rq, rv.id, j.device, obj, objlen);
	a = json_pack("{s:s,s:s,s:s}", "id", rv.id, "status", "revoked",
	    "revoked", rv.id);
	if (a != NULL && j.device[0] != '\0' &&
	    json_object_set_new(a, "device", json_string(j.device)) != 0) {
		json_decref(a);
		a = NULL;
	}
	reply_json(out, MHD_HTTP_OK, a);
out:
	json_decref(o);
}

void
route_admin_revoke(const struct route_request *rq, struct route_reply *out)
{
	admin_route(rq, out, "revoke", admin_revoke);
}

/* --- GET /v1/admin/rollup ----------------------------------------------- */

/* A query argument of rq, or "-" (for the audit log's object). */
static const char *
arg_or_dash(const struct route_request *rq, const char *key)
{
	const char *v = MHD_lookup_connection_value(rq->conn,
	    MHD_GET_ARGUMENT_KIND, key);

	return v != NULL ? v : "-";
}

static void
admin_rollup(const struct route_request *rq, struct route_reply *out,
    char *obj, size_t objlen)
{
	struct muster_err e;
	const char *ctype = NULL;
	unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	char *body = NULL;
	static const char *const args[] = { "by", "format", "as_of", NULL };
	size_t len = 0;
	int rc;

	if (!args_only(rq, args)) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "parameters are by, format and as_of");
		return;
	}
	snprintf(obj, objlen, "rollup by=%s format=%s as_of=%s",
	    arg_or_dash(rq, "by"), arg_or_dash(rq, "format"),
	    arg_or_dash(rq, "as_of"));
	rc = rollup_http(config_store(rq->srv->cfg),
	    MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "by"),
	    MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    "format"),
	    MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    "as_of"), &body, &len, &ctype, &status, &e);
	if (rc != 0 && status >= 500)
		log_error("rollup: %s", e.msg);
	else if (rc != 0)
		log_info("rollup refused: %s", e.msg);
	if (body == NULL) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		return;
	}
	route_reply_clear(out);
	route_reply_set(out, status, ctype, body, len);
}

void
route_admin_rollup(const struct route_request *rq, struct route_reply *out)
{
	admin_route(rq, out, "rollup", admin_rollup);
}

/* --- operator ----------------------------------------------------------- */

void
route_healthz(const struct route_request *rq, struct route_reply *out)
{
	struct muster_err e;

	if (srv_health(rq->srv, &e) != 0) {
		log_error("healthz: the store does not answer: %s", e.msg);
		route_reply_error(out, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "store unavailable");
		return;
	}
	out->status = MHD_HTTP_OK;
	out->ctype = TEXT_PLAIN;
	out->sbody = "ok\n";
	out->len = 3;
}

/*
 * GET /metrics: the counters, and gauges read now: the fleet (cached,
 * metrics_fleet.h), the store's size, the certificate, the profiles'
 * expiry.  A gauge that cannot be read is left out and logged; the
 * counters are always answered.  Giving the route the metrics role in the
 * table makes it need a credential, refusals audited, successful scrapes
 * not (one every 15 s would be most of the log).
 */
void
route_metrics(const struct route_request *rq, struct route_reply *out)
{
	const struct route *rt = route_find(rq->path);
	struct admins_who who;
	struct srv *s = rq->srv;
	struct metrics_scrape sc;
	struct metrics_fleet fleet;
	struct audit_stats as;
	struct store_profile p;
	struct muster_err e;
	struct store *st = NULL;
	int scope;

	if (rt != NULL && rt->admin != 0 && admin_gate(rq, &who, out) != 0)
		return;
	memset(&sc, 0, sizeof sc);
	sc.now = time(NULL);
	sc.devices_enrolled = sc.store_bytes = sc.wal_bytes = -1;
	if (srv_reader(s, &st, &e) != 0) {
		log_error("metrics: %s", e.msg);
		st = NULL;
	}
	if (st != NULL && store_count_devices(st, &sc.devices_enrolled,
	    &e) != 0) {
		log_error("metrics: %s", e.msg);
		sc.devices_enrolled = -1;
	}
	for (scope = 0; st != NULL && scope < METRICS_NSCOPES; scope++) {
		memset(&p, 0, sizeof p);
		if (store_profile_current(st, (enum profile_scope)scope, &p,
		    &e) == 0)
			sc.profile_expires[scope] = (int64_t)p.expires;
		store_profile_clear(&p);
	}
	if (metrics_fleet_get(config_store(s->cfg), sc.now, &fleet, &e) == 0)
		sc.fleet = &fleet;
	else
		log_error("metrics: %s", e.msg);
	if (store_disk_usage(config_store(s->cfg), &sc.store_bytes,
	    &sc.wal_bytes, &e) != 0) {
		log_error("metrics: %s", e.msg);
		sc.store_bytes = sc.wal_bytes = -1;
	}
	sc.cert_not_after = __atomic_load_n(&s->cert_not_after,
	    __ATOMIC_RELAXED);
	(void)metrics_process_start(&sc.start_time);
	sc.audit_entries = -1;
	if (audit_stats(s->audit, &as, &e) != 0)
		log_error("metrics: audit log: %s", e.msg);
	else {
		sc.audit_entries = as.entries;
		sc.audit_refused = as.refused;
		sc.audit_refused_entries = as.refused_entries;
	}
	if (metrics_format(&sc, &out->body, &out->len) != 0) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		return;
	}
	out->status = MHD_HTTP_OK;
	out->ctype = TEXT_METRICS;
}

int
route_takes_form(const struct route *rt)
{
	return rt->fn == console_route;
}

/* What identifies administrator a's current credential (a session's). */
static void
admin_cred(const struct store_admin *a, unsigned char cred[ROUTE_CRED_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, ROUTE_CRED_BYTES);
	crypto_generichash_update(&st, (const unsigned char *)a->name,
	    strlen(a->name) + 1);
	crypto_generichash_update(&st, a->hash, sizeof a->hash);
	crypto_generichash_final(&st, cred, ROUTE_CRED_BYTES);
}

/* The administrators, read now (NULL and 0 on an error, logged). */
static struct store_admin *
admin_list(struct srv *s, size_t *n)
{
	struct store_admin *list = NULL;
	struct store_adm *sa;
	struct muster_err e;
	int rc;

	*n = 0;
	sa = audit_lock(s->audit);
	rc = store_admin_list(sa, &list, n, &e);
	audit_unlock(s->audit);
	if (rc != 0) {
		log_error("administrators: %s", e.msg);
		*n = 0;
		return NULL;
	}
	return list;
}

static void
admin_list_free(struct store_admin *list, size_t n)
{
	if (list != NULL)
		sodium_memzero(list, n * sizeof *list);
	free(list);
}

int
route_admin_credential_ok(const struct route_request *rq, const char *secret,
    unsigned char cred[ROUTE_CRED_BYTES])
{
	struct store_admin *list;
	struct admins_who who;
	char *bearer = NULL;
	size_t n, i, len = strlen(secret);
	int ok = 0;

	memset(cred, 0, ROUTE_CRED_BYTES);
	list = admin_list(rq->srv, &n);
	if (len <= ADMINS_CREDENTIAL_MAX &&
	    (bearer = sodium_malloc(len + 8)) != NULL) {
		memcpy(bearer, "Bearer ", 7);
		memcpy(bearer + 7, secret, len + 1);
		ok = admins_match(list, n, bearer, &who);
		sodium_free(bearer);
	}
	if (!ok) {
		route_audit(rq->srv, rq->conn, AUDIT_ACTOR_NONE,
		    "console sign-in", rq->path, "refused 401");
		goto out;
	}
	if ((who.roles & ADMINS_ROLE_READ) == 0) {
		route_audit(rq->srv, rq->conn, who.name, "console sign-in",
		    rq->path, "refused 403 (needs read)");
		ok = 0;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(list[i].name, who.name) == 0)
			admin_cred(&list[i], cred);
	route_audit(rq->srv, rq->conn, who.name, "console sign-in", rq->path,
	    "ok");
out:
	admin_list_free(list, n);
	return ok;
}

int
route_admin_cred_live(struct srv *s, const unsigned char cred[ROUTE_CRED_BYTES],
    char *name)
{
	struct store_admin *list;
	unsigned char c[ROUTE_CRED_BYTES];
	size_t n, i;
	int live = 0;

	list = admin_list(s, &n);
	for (i = 0; i < n; i++) {
		admin_cred(&list[i], c);
		if (sodium_memcmp(c, cred, sizeof c) == 0 &&
		    (list[i].roles & ADMINS_ROLE_READ) != 0) {
			live = 1;
			if (name != NULL)
				memcpy(name, list[i].name,
				    sizeof list[i].name);
		}
	}
	sodium_memzero(c, sizeof c);
	admin_list_free(list, n);
	return live;
}
