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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "muster/log.h"
#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/root.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "reportcheck.h"
#include "rollup.h"
#include "route.h"
#include "srv.h"
#include "store.h"
#include "trust.h"
#include "writer.h"

#define SIG_B64_MAX		128	/* base64 of a 64-byte signature: 88 */
#define ADMIN_TOKEN_MAX		256
#define JSON_DEPTH_FLAT		1
/* { "manifest": { "signatures": [ ] } } */
#define JSON_DEPTH_SIGNED	3
/* { "consent": { "remediate": [ { } ] } } */
#define JSON_DEPTH_ENROLL	4
/* { "remediate": [ { } ] } */
#define JSON_DEPTH_CONSENT	3
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
	{ PROTO_PATH_ADMIN_PROFILE, MHD_HTTP_METHOD_POST, MR_ADMIN_PROFILE, 1,
	    route_admin_profile },
	{ PROTO_PATH_ADMIN_REVOKE, MHD_HTTP_METHOD_POST, MR_ADMIN_REVOKE, 1,
	    route_admin_revoke },
	{ PROTO_PATH_ADMIN_ROLLUP, MHD_HTTP_METHOD_GET, MR_ADMIN_ROLLUP, 1,
	    route_admin_rollup },
	{ PROTO_PATH_POLICY, MHD_HTTP_METHOD_GET, MR_POLICY, 0,
	    route_policy },
	{ PROTO_PATH_ROOT, MHD_HTTP_METHOD_GET, MR_ROOT, 0, route_root },
	{ PROTO_PATH_ADMIN_ROOT, MHD_HTTP_METHOD_POST, MR_ADMIN_ROOT, 1,
	    route_admin_root },
	{ PROTO_PATH_ADMIN_MANIFEST, MHD_HTTP_METHOD_POST, MR_ADMIN_MANIFEST,
	    1, route_admin_manifest },
	{ PROTO_PATH_CONSENT, MHD_HTTP_METHOD_POST, MR_CONSENT, 0,
	    route_consent },
	{ PROTO_PATH_HEALTHZ, MHD_HTTP_METHOD_GET, MR_HEALTHZ, 0,
	    route_healthz },
	{ PROTO_PATH_METRICS, MHD_HTTP_METHOD_GET, MR_METRICS, 0,
	    route_metrics },
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

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
admin_token_ok(struct srv *s, const char *v)
{
	unsigned char h[CONFIG_ADMIN_HASH_BYTES];
	size_t n;
	int ok;

	if (v == NULL || strncmp(v, "Bearer ", 7) != 0)
		return 0;
	v += 7;
	n = strlen(v);
	if (n == 0 || n > ADMIN_TOKEN_MAX)
		return 0;
	crypto_generichash(h, sizeof h, (const unsigned char *)v, n, NULL, 0);
	ok = sodium_memcmp(h, s->cfg->admin_hash, sizeof h) == 0;
	sodium_memzero(h, sizeof h);
	return ok;
}

int
route_admin_ok(struct srv *s, struct MHD_Connection *c)
{
	return admin_token_ok(s, MHD_lookup_connection_value(c,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
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
	if (n > 1) {
		qsort(rules, n, sizeof *rules, cmp_str);
		for (i = 1; i < n; i++)
			if (strcmp(rules[i - 1], rules[i]) == 0) {
				why = "consent: a rule is listed twice";
				goto out;
			}
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
	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_ENROLL)) ==
	    NULL ||
	    !proto_json_keys_ok(o, fields) ||
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
	if ((rc = trust_token_verify(rq->srv->trust, tok, toklen, &t, &e)) !=
	    0) {
		log_info("enroll: token refused: %s", e.msg);
		if (rc == MUSTER_EDATA)
			route_reply_error(out, MHD_HTTP_BAD_REQUEST,
			    "malformed token");
		else
			route_reply_error(out, MHD_HTTP_FORBIDDEN, "token refused");
		goto out;
	}
	if (token_expired(&t, time(NULL))) {
		log_info("enroll: token %s expired",
		    log_who(t.scope, t.id));
		route_reply_error(out, MHD_HTTP_FORBIDDEN, "token expired");
		goto out;
	}
	model = proto_json_str(o, "model", NULL);
	if (model != NULL && (t.scope != SCOPE_PERSONNEL ||
	    strlen(model) >= sizeof d.model || !proto_text_ok(model))) {
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
	reply_text(out, MHD_HTTP_CREATED, "{\"device\":\"%s\",\"profile\":%s}",
	    d.id, prof != NULL ? prof : "null");
out:
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
	static const char *const fields[] = { "token", NULL };
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
	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_FLAT)) ==
	    NULL ||
	    !proto_json_keys_ok(o, fields) ||
	    (tok = proto_json_str(o, "token", &toklen)) == NULL ||
	    toklen > TOKEN_MAX) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed request");
		goto out;
	}
	if ((rc = trust_token_verify(rq->srv->trust, tok, toklen, &t, &e)) !=
	    0) {
		log_info("preview: token refused: %s", e.msg);
		if (rc == MUSTER_EDATA)
			route_reply_error(out, MHD_HTTP_BAD_REQUEST,
			    "malformed token");
		else
			route_reply_error(out, MHD_HTTP_FORBIDDEN, "token refused");
		goto out;
	}
	if (token_expired(&t, time(NULL))) {
		route_reply_error(out, MHD_HTTP_FORBIDDEN, "token expired");
		goto out;
	}
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
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED,
		    "Muster-Time too far from the server's clock");
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
	char *roots = NULL, *policy = NULL, etag[64];
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
	newest = trust_root_version(rq->srv->trust);
	snprintf(etag, sizeof etag, "\"%lld:%lld\"", (long long)newest,
	    (long long)manifest);
	out->hname = MHD_HTTP_HEADER_ETAG;
	snprintf(out->hvalue, sizeof out->hvalue, "%s", etag);
	if (have >= newest && etag_match(rq, etag)) {
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

/* Refuses a query parameter other than since. */
static enum MHD_Result
root_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	int *unknown = cls;

	(void)kind;
	(void)value;
	if (strcmp(key, "since") != 0) {
		*unknown = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

/*
 * GET /v1/root?since=N, unsigned (enrollment by URI has no device key
 * yet): the roots N+1 .. newest, at most ROOT_CHAIN_MAX.  All public.
 */
void
route_root(const struct route_request *rq, struct route_reply *out)
{
	struct muster_err e;
	char *roots = NULL;
	int64_t since;
	size_t len;
	int unknown = 0;

	(void)MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND,
	    root_arg, &unknown);
	if (unknown || version_arg(MHD_lookup_connection_value(rq->conn,
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

/*
 * A report on its way to the writer; r's strings point into o, device
 * and the request's body, and r.failing is failing.
 */
struct report_job {
	struct store_report	 r;
	enum store_put		 res;
	char			 device[DEVICE_ID_HEX];
	enum profile_scope	 scope;		/* for the log */
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
		reply_text(out, MHD_HTTP_ACCEPTED, "{\"status\":\"stored\","
		    "\"seq\":%lld}", (long long)j->r.seq);
		break;
	case STORE_DUPLICATE:
		reply_text(out, MHD_HTTP_OK, "{\"status\":\"duplicate\","
		    "\"seq\":%lld}", (long long)j->r.seq);
		break;
	case STORE_REPLAY:
		log_warn("device %s: replayed report seq %lld with other "
		    "bytes (a cloned device key?)",
		    log_who(j->scope, j->device),
		    (long long)j->r.seq);
		route_reply_error(out, MHD_HTTP_CONFLICT, "replay");
		break;
	case STORE_BACKDATED:
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "report time is "
		    "before the device's previous report");
		break;
	}
out:
	report_job_free(j);
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
	int rc;

	if (device_auth(rq, rq->body, rq->len, 0, &d, out) != 0)
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
	j->r.seq = f.seq;
	j->r.time = f.time;
	j->r.profile = f.profile;
	j->r.serial = f.serial;
	j->r.compliant = f.compliant;
	j->r.stale = f.stale;
	j->r.failing = f.failing;
	j->r.nfailing = f.nfailing;
	memcpy(j->device, d.id, sizeof j->device);
	j->scope = d.scope;
	j->r.device = j->device;
	j->r.body = (const unsigned char *)rq->body;
	j->r.len = rq->len;
	out->job = job_report;
	out->arg = j;
	out->done = report_done;
	j = NULL;
out:
	report_job_free(j);
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
	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_FLAT)) ==
	    NULL ||
	    !proto_json_keys_ok(o, fields) ||
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
void
route_admin_profile(const struct route_request *rq, struct route_reply *out)
{
	static const char *const fields[] = { "profile", "signature",
	    "manifest", NULL };
	const struct manifest_entry *me = NULL;
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

	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_SIGNED)) ==
	    NULL ||
	    !proto_json_keys_ok(o, fields) ||
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
	if (p->expires <= time(NULL)) {
		log_info("publish refused: profile %s serial %lld expired",
		    p->id, (long long)p->serial);
		route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "profile expired");
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

/*
 * A manifest alone: a new expiry, or a scope's profiles changed to ones
 * the server already holds (a profile dropped, an older one named again).
 */
void
route_admin_manifest(const struct route_request *rq, struct route_reply *out)
{
	static const char *const fields[] = { "manifest", NULL };
	struct manifest m;
	struct sigset *ss = NULL;
	enum trust_put res;
	const char *why;
	json_t *o = NULL;

	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_SIGNED)) ==
	    NULL || !proto_json_keys_ok(o, fields)) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed request");
		goto out;
	}
	if ((why = signed_member(o, "manifest", MANIFEST_MAX, &ss)) != NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
		goto out;
	}
	if (manifest_gate(rq, ss, &m, &res, out) != 0 ||
	    named_stored(rq, &m, NULL, out) != 0)
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
	json_decref(o);
}

/*
 * The next root: exactly newest+1 (else 409) and accepted by the rotation
 * rule from the newest (else 422).  From then on the server serves it and
 * verifies with its roles.
 */
void
route_admin_root(const struct route_request *rq, struct route_reply *out)
{
	static const char *const fields[] = { "root", NULL };
	struct muster_err e;
	struct sigset *ss = NULL;
	const char *why;
	json_t *o = NULL;
	int rc;

	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_SIGNED)) ==
	    NULL || !proto_json_keys_ok(o, fields)) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed request");
		goto out;
	}
	if ((why = signed_member(o, "root", ROOT_MAX, &ss)) != NULL) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, why);
		goto out;
	}
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
	json_decref(o);
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
 * A revocation signed by a key of the newest root's revocation role (a
 * policy or root key is refused).  Revoking a token a device enrolled
 * with revokes that device too, and the answer names it.
 */
void
route_admin_revoke(const struct route_request *rq, struct route_reply *out)
{
	static const char *const fields[] = { "revocation", NULL };
	struct revocation rv;
	struct revoke_job j;
	struct muster_err e;
	const char *s;
	json_t *o = NULL, *a;
	size_t len;
	int rc;

	if ((o = proto_json_parse(rq->body, rq->len, JSON_DEPTH_FLAT)) ==
	    NULL ||
	    !proto_json_keys_ok(o, fields) ||
	    (s = proto_json_str(o, "revocation", &len)) == NULL ||
	    len > TOKEN_MAX) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST, "malformed request");
		goto out;
	}
	if ((rc = trust_revocation_verify(rq->srv->trust, s, len, &rv, &e)) !=
	    0) {
		log_info("revocation refused: %s", e.msg);
		if (rc == MUSTER_EDATA)
			route_reply_error(out, MHD_HTTP_BAD_REQUEST,
			    "malformed revocation");
		else
			route_reply_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
			    "signature refused");
		goto out;
	}
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

/* --- GET /v1/admin/rollup ----------------------------------------------- */

/* Refuses a query parameter other than by, format and as_of. */
static enum MHD_Result
rollup_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	int *unknown = cls;

	(void)kind;
	(void)value;
	if (strcmp(key, "by") != 0 && strcmp(key, "format") != 0 &&
	    strcmp(key, "as_of") != 0) {
		*unknown = 1;
		return MHD_NO;
	}
	return MHD_YES;
}

void
route_admin_rollup(const struct route_request *rq, struct route_reply *out)
{
	struct muster_err e;
	const char *ctype = NULL;
	unsigned status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	char *body = NULL;
	size_t len = 0;
	int rc, unknown = 0;

	/* http_first checked the token already; a second look costs nothing. */
	if (!route_admin_ok(rq->srv, rq->conn)) {
		route_reply_error(out, MHD_HTTP_UNAUTHORIZED, "admin token refused");
		out->hname = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		snprintf(out->hvalue, sizeof out->hvalue, "Bearer");
		return;
	}
	(void)MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND,
	    rollup_arg, &unknown);
	if (unknown) {
		route_reply_error(out, MHD_HTTP_BAD_REQUEST,
		    "parameters are by, format and as_of");
		return;
	}
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
	out->status = status;
	out->ctype = ctype;
	out->body = body;
	out->len = len;
}

/* --- operator ----------------------------------------------------------- */

void
route_healthz(const struct route_request *rq, struct route_reply *out)
{
	(void)rq;
	out->status = MHD_HTTP_OK;
	out->ctype = TEXT_PLAIN;
	out->sbody = "ok\n";
	out->len = 3;
}

void
route_metrics(const struct route_request *rq, struct route_reply *out)
{
	struct muster_err e;
	struct store *st;
	int64_t devices = -1;

	if (srv_reader(rq->srv, &st, &e) != 0 ||
	    store_count_devices(st, &devices, &e) != 0) {
		log_error("metrics: %s", e.msg);
		devices = -1;
	}
	if (metrics_format(devices, &out->body, &out->len) != 0) {
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		return;
	}
	out->status = MHD_HTTP_OK;
	out->ctype = TEXT_METRICS;
}
