/*
 * console: the console's routes, sign-in, security headers and
 * downloads; see console.h, and docs/console.md.  The pages themselves
 * are in console_page.c.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <sodium.h>

#include "muster/ascii.h"
#include "muster/log.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "config.h"
#include "console.h"
#include "console_page.h"
#include "console_session.h"
#include "proof.h"
#include "route.h"
#include "srv.h"

#define CT_HTML		"text/html; charset=utf-8"
#define CT_CSV		"text/csv; charset=utf-8; header=present"
#define CT_JSON		"application/json"
#define FORM_FIELDS_MAX	16

static const char css[] =
"*{box-sizing:border-box}"
"body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#111;"
"background:#fff}"
"header{display:flex;flex-wrap:wrap;align-items:center;gap:1em;"
"padding:.5em 1em;background:#12355b;color:#fff}"
"header a{color:#fff}"
".brand{font-weight:700;margin:0}"
"nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.9em;margin:0;"
"padding:0}"
"nav a[aria-current]{font-weight:700;text-decoration:none;"
"border-bottom:2px solid #fff}"
".signout{margin-left:auto}"
"main{padding:0 1em 2em;max-width:78em}"
"h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.5em}"
"table{border-collapse:collapse;margin:.8em 0;min-width:30em}"
"caption{text-align:left;font-weight:600;padding:.3em 0}"
"th,td{border-bottom:1px solid #ccc;padding:.25em .6em;text-align:left;"
"vertical-align:top}"
"thead th{border-bottom:2px solid #444}"
"tfoot th,tfoot td{border-top:2px solid #444;font-weight:600}"
".num{text-align:right;font-variant-numeric:tabular-nums}"
".withheld{color:#555;font-style:italic}"
".bad{color:#a00000}.ok{color:#1b5e20}"
".st-noncompliant{color:#a00000}.st-stale,.st-never{color:#6d4c00}"
".asof{color:#333}.note{color:#333;font-size:.9em}"
".facts{display:flex;flex-wrap:wrap;gap:1.5em;list-style:none;padding:0}"
".facts strong{font-size:1.4em;display:block}"
".chart{width:100%;max-width:640px;height:auto;border:1px solid #ccc}"
".crumbs ol{list-style:none;display:flex;flex-wrap:wrap;gap:.4em;"
"padding:0}"
".crumbs li+li::before{content:\"/ \";color:#555}"
".badge{background:#a00000;color:#fff;padding:0 .4em;border-radius:3px;"
"font-size:.8em}"
".callout{border-left:4px solid #a00000;padding:.3em .8em;"
"background:#fbeaea}"
".id,code{font-family:ui-monospace,monospace;font-size:.9em}"
".small{font-size:.85em;font-weight:400}"
"pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;"
"padding:.5em;max-width:60em}"
".timeline li{margin-bottom:.6em}"
".proof{display:grid;grid-template-columns:max-content 1fr;"
"gap:.1em .8em;margin:.3em 0}.proof dd{margin:0;word-break:break-all}"
"a{color:#0b4a8b}.share{white-space:nowrap}"
"form{margin:.6em 0}"
"input,select,button{font:inherit;padding:.2em .4em}"
"@media print{header,.noprint,.signout{display:none}"
"body{font-size:11pt}a{color:#000;text-decoration:none}"
"table{page-break-inside:auto}tr{page-break-inside:avoid}"
"details>pre{display:block}}";

static char csp_source[64];
static char csp_header[256];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

static void
csp_init(void)
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];

	crypto_hash_sha256(h, (const unsigned char *)css, sizeof css - 1);
	sodium_bin2base64(b64, sizeof b64, h, sizeof h,
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(csp_source, sizeof csp_source, "'sha256-%s'", b64);
	snprintf(csp_header, sizeof csp_header, "default-src 'none'; "
	    "style-src %s; img-src data:; form-action 'self'; "
	    "frame-ancestors 'none'; base-uri 'none'", csp_source);
}

const char *
console_css(void)
{
	return css;
}

const char *
console_csp(void)
{
	(void)pthread_once(&csp_once, csp_init);
	return csp_source;
}

/* --- forms ---------------------------------------------------------------- */

/*
 * Decodes s[0..n) (form encoding) into out (size bytes); the decoded
 * length, or -1 when malformed or too long.
 */
static long
form_decode(const char *s, size_t n, char *out, size_t size)
{
	size_t i, o = 0;
	int hi, lo;
	char ch;

	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch == '+')
			ch = ' ';
		else if (ch == '%') {
			if (i + 2 >= n)
				return -1;
			if ((hi = ascii_hexval(s[i + 1])) < 0 ||
			    (lo = ascii_hexval(s[i + 2])) < 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			i += 2;
		}
		if (ch == '\0' || (out != NULL && o + 1 >= size) ||
		    o >= CONSOLE_FORM_VALUE_MAX)
			return -1;
		if (out != NULL)
			out[o] = ch;
		o++;
	}
	if (out != NULL)
		out[o] = '\0';
	return (long)o;
}

int
console_form_value(const char *body, size_t len, const char *key,
    char *out, size_t size)
{
	char name[64];
	size_t i = 0, end, eq, fields = 0;
	int found = 0;

	if (size > 0)
		out[0] = '\0';
	while (i < len) {
		for (end = i; end < len && body[end] != '&'; end++)
			;
		if (++fields > FORM_FIELDS_MAX)
			goto bad;
		for (eq = i; eq < end && body[eq] != '='; eq++)
			;
		if (form_decode(body + i, eq - i, name, sizeof name) < 0)
			goto bad;
		if (eq < end && form_decode(body + eq + 1, end - eq - 1, NULL,
		    0) < 0)
			goto bad;
		if (strcmp(name, key) == 0) {
			if (found)
				goto bad;
			found = 1;
			if (form_decode(eq < end ? body + eq + 1 : "",
			    eq < end ? end - eq - 1 : 0, out, size) < 0)
				goto bad;
		}
		i = end + 1;
	}
	return found;
bad:
	if (size > 0)
		sodium_memzero(out, size);
	return -1;
}

/* --- replies -------------------------------------------------------------- */

/*
 * Sets out's extra headers: the page's security headers, then extra
 * ("Name: value\n" lines, or NULL).  0 or -1.
 */
static int
reply_headers(struct route_reply *out, const char *extra)
{
	(void)pthread_once(&csp_once, csp_init);
	free(out->xheaders);
	if (asprintf(&out->xheaders, "Content-Security-Policy: %s\n"
	    "X-Frame-Options: DENY\nReferrer-Policy: no-referrer\n"
	    "Cross-Origin-Opener-Policy: same-origin\n"
	    "Cross-Origin-Resource-Policy: same-origin\n%s", csp_header,
	    extra != NULL ? extra : "") == -1) {
		out->xheaders = NULL;
		return -1;
	}
	return 0;
}

/* Hands a rendered page to out with status; 500 when it failed. */
static void
reply_page(struct route_reply *out, struct html *h, unsigned status,
    const char *extra)
{
	struct muster_err e;
	char *body;
	size_t len;

	route_reply_clear(out);
	if (html_take(h, &body, &len, &e) != 0 ||
	    (reply_headers(out, extra) != 0 &&
	    err_set(&e, MUSTER_EINTERNAL, "out of memory") != 0)) {
		free(body);
		log_error("console: %s", e.msg);
		route_reply_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal error");
		return;
	}
	route_reply_set(out, status, CT_HTML, body, len);
}

static void
reply_error_page(struct route_reply *out, unsigned status, const char *msg)
{
	struct html h;

	html_init(&h, 0);
	console_page_error(&h, msg);
	reply_page(out, &h, status, NULL);
}

/* 303 to location, with one more header line (Set-Cookie) or NULL. */
static void
reply_see_other(struct route_reply *out, const char *location,
    const char *cookie)
{
	char extra[512];
	struct html h;

	snprintf(extra, sizeof extra, "Location: %s\n%s%s%s", location,
	    cookie != NULL ? "Set-Cookie: " : "",
	    cookie != NULL ? cookie : "", cookie != NULL ? "\n" : "");
	html_init(&h, 0);
	html_markup(&h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><title>Muster</title></head><body><p><a "
	    "href=\"");
	html_attr(&h, location);
	html_markup(&h, "\">Continue</a></p></body></html>\n");
	reply_page(out, &h, MHD_HTTP_SEE_OTHER, extra);
	sodium_memzero(extra, sizeof extra);
}

static const char cookie_gone[] = CONSOLE_COOKIE "=; Path=/console; "
    "HttpOnly; Secure; SameSite=Strict; Max-Age=0";

/* --- requests ------------------------------------------------------------- */

static const char *
arg(const struct route_request *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    key);
}

/*
 * A POST from another site is refused even before SameSite: when the
 * browser says where the form came from, it must be this origin.
 */
static int
same_origin(const struct route_request *rq)
{
	const char *site = MHD_lookup_connection_value(rq->conn,
	    MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(rq->conn,
	    MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(rq->conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);

	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return 0;
	if (origin != NULL && strcmp(origin, "null") != 0) {
		if (host == NULL || strncmp(origin, "https://", 8) != 0 ||
		    strcmp(origin + 8, host) != 0)
			return 0;
	}
	return 1;
}

static void
do_login(const struct route_request *rq, struct route_reply *out)
{
	char token[CONSOLE_FORM_VALUE_MAX + 1];
	char id[CONSOLE_SECRET_B64], csrf[CONSOLE_SECRET_B64];
	char cookie[160];
	unsigned char cred[CONSOLE_CRED_BYTES];
	struct html h;
	int got;

	if (!same_origin(rq)) {
		reply_error_page(out, MHD_HTTP_FORBIDDEN, "Sign-in from "
		    "another site refused");
		return;
	}
	got = console_form_value(rq->body, rq->len, "token", token,
	    sizeof token);
	if (got != 1 || !route_admin_credential_ok(rq, token, cred)) {
		sodium_memzero(token, sizeof token);
		log_info("console: sign-in refused");
		html_init(&h, 0);
		console_page_signin(&h, got < 0 ? "Malformed form." :
		    "Sign-in refused: that is not the credential of an "
		    "administrator with the read role.");
		reply_page(out, &h, MHD_HTTP_UNAUTHORIZED, NULL);
		return;
	}
	sodium_memzero(token, sizeof token);
	if (console_session_new(cred, time(NULL), id, csrf) != 0) {
		reply_error_page(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "Could not start a session");
		return;
	}
	snprintf(cookie, sizeof cookie, "%s=%s; Path=/console; HttpOnly; "
	    "Secure; SameSite=Strict; Max-Age=%d", CONSOLE_COOKIE, id,
	    CONSOLE_SESSION_MAX_AGE);
	log_info("console: signed in");
	reply_see_other(out, "/console/", cookie);
	sodium_memzero(cookie, sizeof cookie);
	sodium_memzero(id, sizeof id);
	sodium_memzero(csrf, sizeof csrf);
}

static void
do_logout(const struct route_request *rq, struct route_reply *out,
    const char *sid)
{
	char csrf[CONSOLE_FORM_VALUE_MAX + 1];

	if (!same_origin(rq) || console_form_value(rq->body, rq->len, "csrf",
	    csrf, sizeof csrf) != 1 || !console_session_csrf_ok(sid, csrf)) {
		reply_error_page(out, MHD_HTTP_FORBIDDEN, "Sign-out refused: "
		    "the form did not come from this console");
		return;
	}
	console_session_end(sid);
	log_info("console: signed out");
	reply_see_other(out, "/console/signin", cookie_gone);
}

/* Reads the page parameters; NULL, or why they are refused. */
static const char *
params_read(const struct route_request *rq, struct console_params *p,
    time_t *as_of)
{
	const char *v;
	enum rollup_status st;
	char *end;

	memset(p, 0, sizeof *p);
	p->status = -1;
	*as_of = 0;
	v = arg(rq, strcmp(rq->path, "/console/units") == 0 ? "u" : "unit");
	if (v != NULL && *v != '\0') {
		if (!token_unit_ok(v))
			return "No such unit";
		p->unit = v;
	}
	if ((v = arg(rq, "status")) != NULL && *v != '\0') {
		if (rollup_status_parse(v, &st) != 0)
			return "Status must be compliant, noncompliant, stale "
			    "or never";
		p->status = (int)st;
	}
	if ((v = arg(rq, "page")) != NULL && *v != '\0') {
		p->page = strtol(v, &end, 10);
		if (*end != '\0' || p->page < 0 || p->page >= CONSOLE_PAGES_MAX)
			return "No such page";
	}
	p->id = arg(rq, "id");
	if ((v = arg(rq, "as_of")) != NULL && *v != '\0') {
		if (timefmt_parse(v, as_of) != 0)
			return "As of must be YYYY-MM-DDTHH:MM:SSZ (UTC)";
		if (*as_of == 0)
			*as_of = -1;	/* the epoch is a past */
	}
	return NULL;
}

/* GET /console/export: a roll-up or the device list, as the CLI writes. */
static int
do_export(const struct route_request *rq, struct console_ctx *c,
    const struct console_params *p, struct route_reply *out, char *obj,
    size_t objlen, struct muster_err *e)
{
	const char *by = arg(rq, "by"), *what = arg(rq, "what");
	const char *fmt_s = arg(rq, "format");
	enum rollup_format fmt;
	struct rollup_query q = { ROLLUP_BY_UNIT, c->as_of, 0 };
	struct rollup_devq dq = { p->unit, p->status, 0 };
	struct rollup *r = NULL;
	char extra[160], *buf = NULL;
	size_t n = 0;
	FILE *fp;
	int rc, devices = what != NULL && strcmp(what, "devices") == 0;

	if (fmt_s == NULL || rollup_format_parse(fmt_s, &fmt) != 0 ||
	    fmt == ROLLUP_FMT_TABLE) {
		reply_error_page(out, MHD_HTTP_BAD_REQUEST, "Format must be "
		    "csv or json");
		return 0;
	}
	if (!devices && (by == NULL || rollup_by_parse(by, &q.by) != 0)) {
		reply_error_page(out, MHD_HTTP_BAD_REQUEST, "By must be unit, "
		    "rule, model or scope");
		return 0;
	}
	if ((fp = open_memstream(&buf, &n)) == NULL) {
		rc = err_sys(e, MUSTER_EINTERNAL, "open_memstream");
		goto out;
	}
	if (devices)
		rc = rollup_devices(c->db, &dq, fmt, fp, e);
	else if ((rc = rollup_compute(c->db, &q, &r, e)) == 0)
		rc = rollup_write(r, fmt, fp, e);
	if (fclose(fp) != 0 && rc == 0)
		rc = err_sys(e, MUSTER_EINTERNAL, "open_memstream");
	if (rc != 0)
		goto out;
	snprintf(extra, sizeof extra, "Content-Disposition: attachment; "
	    "filename=\"muster-%s.%s\"\n", devices ? "devices" :
	    rollup_by_name(q.by), fmt == ROLLUP_FMT_CSV ? "csv" : "json");
	route_reply_clear(out);
	if (reply_headers(out, extra) != 0) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	route_reply_set(out, MHD_HTTP_OK, fmt == ROLLUP_FMT_CSV ? CT_CSV :
	    CT_JSON, buf, n);
	buf = NULL;
	if (devices)
		snprintf(obj, objlen, "devices format=%s unit=%s status=%s",
		    fmt_s, p->unit != NULL ? p->unit : "-", p->status >= 0 ?
		    rollup_status_name(p->status) : "-");
	else
		snprintf(obj, objlen, "by=%s format=%s as_of=%s",
		    rollup_by_name(q.by), fmt_s, c->as_of != 0 ? arg(rq,
		    "as_of") : "-");
out:
	free(buf);
	rollup_free(r);
	return rc;
}

/*
 * GET /console/proof?id=ID&seq=N: a personnel device's stored report as
 * a proof file (proof.h), checked as the device page checks it.
 */
static int
do_proof(const struct route_request *rq, struct console_ctx *c,
    const struct console_params *p, struct route_reply *out, char *obj,
    size_t objlen, struct muster_err *e)
{
	const char *v = arg(rq, "seq");
	struct store_proof pf;
	char extra[160], *body = NULL, *end = NULL;
	long long seq;
	size_t len;
	int rc;

	memset(&pf, 0, sizeof pf);
	seq = v != NULL && *v >= '0' && *v <= '9' ? strtoll(v, &end, 10) : 0;
	if (p->id == NULL || !proto_hex_ok(p->id, DEVICE_ID_HEX - 1) ||
	    seq < 1 || seq == LLONG_MAX || *end != '\0') {
		reply_error_page(out, MHD_HTTP_NOT_FOUND, "No such report");
		return 0;
	}
	if ((rc = store_read_begin(c->db->rd, e)) != 0)
		goto out;
	rc = store_read_report(c->db->rd, p->id, seq, &pf, e);
	/* Family devices are never shown one by one, as on the pages. */
	if (rc == MUSTER_ENOINPUT || (rc == 0 &&
	    (pf.scope != SCOPE_PERSONNEL || pf.revoked))) {
		reply_error_page(out, MHD_HTTP_NOT_FOUND, "No such report");
		rc = 0;
		goto out;
	}
	if (rc != 0 || (rc = proof_json(&pf, proof_check(&pf), &body, &len,
	    e)) != 0)
		goto out;
	snprintf(extra, sizeof extra, "Content-Disposition: attachment; "
	    "filename=\"muster-report-%s-%lld.json\"\n", p->id, seq);
	route_reply_clear(out);
	if (reply_headers(out, extra) != 0) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	route_reply_set(out, MHD_HTTP_OK, CT_JSON, body, len);
	body = NULL;
	/* A personnel device: family devices were refused above. */
	snprintf(obj, objlen, "%s seq %lld", p->id, seq);
out:
	free(body);
	store_proof_clear(&pf);
	store_read_end(c->db->rd);
	return rc;
}

/*
 * A file the console hands out: what leaves the console is audited, as
 * the API's roll-up is.  fn names what it handed out in obj; a refusal
 * leaves obj empty and the path stands for it (a refused proof's device
 * may be a family one, never named).
 */
struct console_file {
	const char	*path;
	const char	*action;	/* the audit entry's */
	int		 (*fn)(const struct route_request *,
			    struct console_ctx *, const struct console_params *,
			    struct route_reply *, char *, size_t,
			    struct muster_err *);
};

void
console_route(const struct route_request *rq, struct route_reply *out)
{
	static const struct {
		const char	*path;
		int		 (*fn)(struct html *, struct console_ctx *,
				    const struct console_params *,
				    struct muster_err *);
	} pp[] = {
		{ "/console/units", console_page_units },
		{ "/console/devices", console_page_devices },
		{ "/console/device", console_page_device },
	};
	static const struct {
		const char	*path;
		int		 (*fn)(struct html *, struct console_ctx *,
				    struct muster_err *);
	} plain[] = {
		{ "/console", console_page_overview },
		{ "/console/", console_page_overview },
		{ "/console/rules", console_page_rules },
		{ "/console/models", console_page_models },
		{ "/console/family", console_page_family },
		{ "/console/profiles", console_page_profiles },
	};
	static const struct console_file files[] = {
		{ "/console/export", "console export", do_export },
		{ "/console/proof", "console proof", do_proof },
	};
	struct console_ctx c;
	struct console_params p;
	struct muster_err e;
	struct html h;
	unsigned char cred[CONSOLE_CRED_BYTES];
	char csrf[CONSOLE_SECRET_B64], who[STORE_ADMIN_NAME_MAX + 1];
	char obj[STORE_AUDIT_OBJECT_MAX + 1];
	const struct console_file *file = NULL;
	const char *sid, *why;
	size_t i;
	int rc = 0, done = 0;

	memset(&c, 0, sizeof c);
	html_init(&h, 0);
	if (strcmp(rq->path, "/console/login") == 0) {
		do_login(rq, out);
		return;
	}
	if (strcmp(rq->path, "/console/signin") == 0) {
		console_page_signin(&h, NULL);
		reply_page(out, &h, MHD_HTTP_OK, NULL);
		return;
	}
	sid = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND,
	    CONSOLE_COOKIE);
	/*
	 * The session's administrator must still hold the read role with
	 * the credential it signed in with: a rotation or removal by
	 * `muster-server admin` ends its sessions on their next request.
	 */
	if (!console_session_cred(sid, cred) ||
	    !route_admin_cred_live(rq->srv, cred, who)) {
		console_session_end(sid);
		reply_see_other(out, "/console/signin", sid != NULL ?
		    cookie_gone : NULL);
		return;
	}
	if (!console_session_check(sid, cred, time(NULL), csrf)) {
		/* No session, or it ended: sign in again (no redirect loop:
		 * /console/signin needs none). */
		reply_see_other(out, "/console/signin", sid != NULL ?
		    cookie_gone : NULL);
		return;
	}
	if (strcmp(rq->path, "/console/logout") == 0) {
		do_logout(rq, out, sid);
		goto out;
	}
	if ((why = params_read(rq, &p, &c.as_of)) != NULL) {
		reply_error_page(out, MHD_HTTP_BAD_REQUEST, why);
		goto out;
	}
	c.data_dir = config_store(rq->srv->cfg);
	c.trust = rq->srv->trust;
	c.now = time(NULL);
	c.csrf = csrf;
	if (c.as_of > c.now) {
		reply_error_page(out, MHD_HTTP_BAD_REQUEST, "As of is in the "
		    "future");
		goto out;
	}
	obj[0] = '\0';
	for (i = 0; file == NULL && i < sizeof files / sizeof files[0]; i++)
		if (strcmp(rq->path, files[i].path) == 0)
			file = &files[i];
	if ((rc = rollup_open(c.data_dir, &c.db, &e)) != 0)
		goto fail;
	if (file != NULL) {
		if ((rc = file->fn(rq, &c, &p, out, obj, sizeof obj, &e)) != 0)
			goto fail;
		goto out;
	}
	for (i = 0; !done && i < sizeof pp / sizeof pp[0]; i++)
		if (strcmp(rq->path, pp[i].path) == 0) {
			rc = pp[i].fn(&h, &c, &p, &e);
			done = 1;
		}
	for (i = 0; !done && i < sizeof plain / sizeof plain[0]; i++)
		if (strcmp(rq->path, plain[i].path) == 0) {
			rc = plain[i].fn(&h, &c, &e);
			done = 1;
		}
	if (!done) {
		reply_error_page(out, MHD_HTTP_NOT_FOUND, "Not found");
		goto out;
	}
	if (rc != 0)
		goto fail;
	reply_page(out, &h, MHD_HTTP_OK, NULL);
	goto out;
fail:
	html_free(&h);
	if (rc == MUSTER_ENOINPUT)
		reply_error_page(out, MHD_HTTP_NOT_FOUND, "No such device");
	else if (rc == MUSTER_EDATA)
		reply_error_page(out, MHD_HTTP_BAD_REQUEST, "As of is before "
		    "the store's first record");
	else if (rc == MUSTER_EUSAGE)
		reply_error_page(out, MHD_HTTP_BAD_REQUEST, "As of is in the "
		    "future");
	else if (rc == MUSTER_ETEMP)
		reply_error_page(out, MHD_HTTP_SERVICE_UNAVAILABLE, "The "
		    "store is busy; try again");
	else {
		log_error("console: %s", e.msg);
		reply_error_page(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "Internal error");
	}
out:
	if (file != NULL)
		route_audit_answer(rq, who, file->action, obj, out->status);
	html_free(&h);
	rollup_close(c.db);
	sodium_memzero(csrf, sizeof csrf);
}

/* --- report --format html ------------------------------------------------ */

int
console_report_html(struct rollup_db *db, const struct rollup_query *q,
    FILE *fp, struct muster_err *e)
{
	struct console_ctx c;
	struct html h;
	char *body = NULL;
	size_t len;
	int rc;

	memset(&c, 0, sizeof c);
	c.data_dir = "";
	c.db = db;
	c.now = q->now != 0 ? q->now : time(NULL);
	c.as_of = q->as_of;
	html_init(&h, 0);
	if ((rc = console_page_overview(&h, &c, e)) != 0 ||
	    (rc = html_take(&h, &body, &len, e)) != 0)
		goto out;
	if (fwrite(body, 1, len, fp) != len || fflush(fp) != 0)
		rc = err_sys(e, MUSTER_EIO, "writing the report");
out:
	html_free(&h);
	free(body);
	console_cache_free();
	return rc;
}
