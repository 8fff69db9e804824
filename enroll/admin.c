/*
 * admin: `muster-enroll publish` and `revoke`, the administrator's calls
 * to the server's /v1/admin API (docs/protocol.md).
 *
 * Every exchange is HTTPS with the server's key pinned to org.cfg's pin
 * and its self-signed certificate (DIR/server.crt) as the only CA; peer
 * and host verification are always on and nothing turns them off.  The
 * admin token is read from a private DIR/admin.token, sent only in the
 * Authorization header, and wiped (our copy and curl's) after the call.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/https.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/sig.h"
#include "muster/token.h"
#include "admin.h"
#include "mancmd.h"
#include "org.h"
#include "profcmd.h"
#include "rootcmd.h"
#include "tlscert.h"
#include "tokcmd.h"

#define ADMIN_PATH_PROFILE	PROTO_PATH_ADMIN_PROFILE
#define ADMIN_PATH_REVOKE	PROTO_PATH_ADMIN_REVOKE
#define ADMIN_BEARER		"Authorization: Bearer "
#define ADMIN_TOKEN_FILE_MAX	256
#define ADMIN_SHOW_MAX		200	/* bytes of a server message shown */
#define ADMIN_USER_AGENT	"muster-enroll/" MUSTER_VERSION

static const char publish_usage[] =
"usage: muster-enroll publish [--org DIR] [--sig FILE] [--expires WHEN]\n"
"           [--add] [--key FILE]... PROFILE.cfg\n"
"\n"
"Verifies PROFILE.cfg against DIR/org.pub (the policy key) with its\n"
"signature (PROFILE.cfg.minisig), signs the next version of its scope's\n"
"manifest (DIR/manifest/SCOPE.cfg) naming it by id, serial and hash, then\n"
"sends all three to the server's POST /v1/admin/profile, which verifies\n"
"them again with the root's policy role and from then serves the devices\n"
"of the scope exactly what the manifest names.  The server is the one\n"
"in DIR/org.cfg, reached on its admin listener (org.cfg's admin_url)\n"
"over HTTPS with its key pinned; the request carries the admin token\n"
"from DIR/admin.token (which must be 0600).\n"
"\n"
"options:\n"
"  --org DIR    organisation directory (default: $MUSTER_ORG, else .)\n"
"  --sig FILE   the signature (default: PROFILE.cfg.minisig)\n"
"  --expires WHEN  the manifest's expiry: Nd, Nh, Nm or an RFC 3339 UTC\n"
"               time (default 7d; renew it with muster-enroll manifest)\n"
"  --add        keep the other profiles the manifest names (default: the\n"
"               scope runs this profile alone)\n"
"  --key FILE   a policy key that signs the manifest (repeat for a policy\n"
"               threshold above 1; default DIR/policy.key)\n"
ADMIN_URL_HELP
"  --help       this text\n"
"\n"
"exit codes: 0 published (or already published), 65 refused as malformed\n"
"or not newer, 69 server unreachable, 75 server error, 77 signature,\n"
"expiry, pin or admin token refused.\n";

static const char revoke_usage[] =
"usage: muster-enroll revoke [--org DIR] ID\n"
"\n"
"Signs a revocation of ID, a device id (32 hex digits) or a token id\n"
"(16 hex digits, as `muster-enroll token` prints it), with\n"
"DIR/revocation.key (a first-wave org: org.key), and sends it to the\n"
"server's POST /v1/admin/revoke: the device's next request is refused and\n"
"the token can no longer enroll; revoking a token a device already\n"
"enrolled with revokes that device too, and says which.  The server is\n"
"the one in DIR/org.cfg, reached on its admin listener (org.cfg's\n"
"admin_url) over HTTPS with its key pinned; the request carries the\n"
"admin token from DIR/admin.token (which must be 0600).\n"
"\n"
ADMIN_ORG_OPTS_HELP
"\n"
"exit codes: 0 revoked, 64 not an id, 65 refused as malformed, 69 server\n"
"unreachable, 75 server error, 77 pin or admin token refused.\n";

/* ---- results ---------------------------------------------------------- */

/* Copies what the server said into out as one printable line. */
static void
admin_message(const char *body, size_t len, char *out, size_t size)
{
	json_t *j = NULL, *m;
	json_error_t je;
	const char *s = body;
	size_t n = len, i, o = 0;

	out[0] = '\0';
	if (body == NULL || len == 0)
		return;
	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) != NULL &&
	    json_is_object(j)) {
		if ((m = json_object_get(j, "error")) == NULL)
			m = json_object_get(j, "message");
		if (json_is_string(m)) {
			s = json_string_value(m);
			n = json_string_length(m);
		}
	}
	for (i = 0; i < n && o + 1 < size && o < ADMIN_SHOW_MAX; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			break;
		out[o++] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	}
	out[o] = '\0';
	json_decref(j);
}

int
admin_http_result(const char *url, long status, const char *body,
    size_t len, struct muster_err *e)
{
	char msg[ADMIN_SHOW_MAX + 1];
	const char *sep;
	int code;

	if (status >= 200 && status <= 299)
		return 0;
	admin_message(body, len, msg, sizeof msg);
	sep = msg[0] != '\0' ? ": " : "";
	if (status == 401 || status == 403)
		code = MUSTER_ETRUST;
	else if (status == 422)
		code = MUSTER_ETRUST;
	else if (status >= 500 && status <= 599)
		code = MUSTER_ETEMP;
	else if (status >= 400 && status <= 499)
		code = MUSTER_EDATA;
	else
		code = MUSTER_EUNAVAIL;
	if (status == 401)
		return err_set(e, code, "%s: the server refused the admin "
		    "token (401)%s%s", url, sep, msg);
	return err_set(e, code, "%s: the server answered %ld%s%s", url, status,
	    sep, msg);
}

int
admin_curl_result(int cc, const char *url, const char *detail,
    struct muster_err *e)
{
	const char *why = detail != NULL && detail[0] != '\0' ? detail :
	    curl_easy_strerror((CURLcode)cc);

	switch ((CURLcode)cc) {
	case CURLE_OK:
		return 0;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return err_set(e, MUSTER_ETRUST, "%s: the server's key does "
		    "not match the pin in %s; refusing to talk to it", url,
		    ORG_CFG);
	case CURLE_PEER_FAILED_VERIFICATION:
		return err_set(e, MUSTER_ETRUST, "%s: the server's "
		    "certificate is not %s: %s", url, TLSCERT_CERT_FILE, why);
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return err_set(e, MUSTER_ECONFIG, "%s: %s", url, why);
	default:
		return err_set(e, MUSTER_EUNAVAIL, "%s: server unavailable: %s",
		    url, why);
	}
}

/* ---- the admin token -------------------------------------------------- */

/*
 * Reads DIR/admin.token, which must be private and hold 64 lowercase hex
 * digits and an optional newline, into a sodium_malloc'd header line
 * "Authorization: Bearer HEX" (*hdr; sodium_free it).
 */
static int
admin_token_header(const char *org, char **hdr, struct muster_err *e)
{
	char *path = NULL, *buf = NULL, *h = NULL;
	size_t len = 0, i, blen = strlen(ADMIN_BEARER);
	int rc;

	*hdr = NULL;
	if ((path = fs_path(org, ORG_ADMIN_TOKEN)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = fs_read_private(path, ADMIN_TOKEN_FILE_MAX, &buf, &len,
	    e)) != 0)
		goto out;
	if (len == ORG_ADMIN_TOKEN_HEX + 1 && buf[len - 1] == '\n')
		len--;
	for (i = 0; i < len; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') ||
		    (buf[i] >= 'a' && buf[i] <= 'f')))
			break;
	if (len != ORG_ADMIN_TOKEN_HEX || i != len) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: not an admin token (%d "
		    "lowercase hex digits)", path, ORG_ADMIN_TOKEN_HEX);
		goto out;
	}
	if ((h = sodium_malloc(blen + len + 1)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(h, ADMIN_BEARER, blen);
	memcpy(h + blen, buf, len);
	h[blen + len] = '\0';
	*hdr = h;
	rc = 0;
out:
	fs_wipe_free(buf, len);
	free(path);
	return rc;
}

/* ---- HTTPS ------------------------------------------------------------ */

/* Wipes and frees a header list (the admin token is in it). */
static void
admin_headers_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/*
 * POSTs the JSON text body to path on the server of oc, pinned to oc->pin
 * with DIR/server.crt as the only CA, with the admin token.  Returns 0
 * after a 2xx answer (its body, if wanted, in *answer, malloc'd), or the
 * MUSTER_E* of admin_http_result / admin_curl_result.
 */
static int
admin_post(const char *org, const struct org_cfg *oc, const char *path,
    const char *body, long *status, char **answer, struct muster_err *e)
{
	struct curl_slist *hdrs = NULL, *to = NULL;
	struct https_sink r = { NULL, 0, 0, ADMIN_RESP_MAX, 1, 0 };
	struct https_result hr;
	struct https_opts o;
	char *auth = NULL, *url = NULL, *ca = NULL, *curl_url = NULL;
	char *conn = NULL;
	const struct url *su = &oc->url, *au = &oc->admin_url;
	char errbuf[CURL_ERROR_SIZE], pins[ROOT_PINS_CURL_MAX];
	struct muster_err ue;
	struct sigset *rss = NULL;
	struct root root;
	size_t slen;
	int rc;

	*status = 0;
	if (answer != NULL)
		*answer = NULL;
	errbuf[0] = '\0';
	slen = strlen(oc->admin);
	if (slen > 0 && oc->admin[slen - 1] == '/')
		slen--;
	/*
	 * The admin listener (url, as messages name it) is reached under
	 * the server's own name (curl_url), so that the certificate is
	 * checked against the host it was made for, and pinned.
	 */
	if (asprintf(&url, "%.*s%s", (int)slen, oc->admin, path) == -1 ||
	    asprintf(&curl_url, "https://%s%s%s:%u%s", su->is_v6 ? "[" : "",
	    su->host, su->is_v6 ? "]" : "", au->port, path) == -1) {
		url = curl_url = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (strcmp(su->host, au->host) != 0) {
		if (asprintf(&conn, "%s%s%s:%u:%s%s%s:%u", su->is_v6 ? "[" :
		    "", su->host, su->is_v6 ? "]" : "", au->port, au->is_v6 ?
		    "[" : "", au->host, au->is_v6 ? "]" : "", au->port) == -1) {
			conn = NULL;
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		if ((to = curl_slist_append(NULL, conn)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
	}
	if ((ca = fs_path(org, TLSCERT_CERT_FILE)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = admin_token_header(org, &auth, e)) != 0)
		goto out;
	if (https_header_add(&hdrs, "Content-Type: " PROTO_CTYPE_JSON) != 0 ||
	    https_header_add(&hdrs, auth) != 0 ||
	    https_header_add(&hdrs, "Expect:") != 0) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* Any pin of the org's current root: the server key may roll over. */
	if (!org_has_roots(org) || rootcmd_current(org, &root, &rss, NULL,
	    &ue) != 0 || rss == NULL ||
	    root_pins_curl(&root, pins, sizeof pins) != 0)
		snprintf(pins, sizeof pins, "%s", oc->pin);
	sigset_free(rss);
	rss = NULL;
	memset(&o, 0, sizeof o);
	o.url = curl_url;
	o.connect_to = to;
	o.pin = pins;
	o.ca = ca;		/* the org's own certificate, the only CA */
	o.connect_timeout = ADMIN_CONNECT_TIMEOUT;
	o.timeout = ADMIN_TIMEOUT;
	o.user_agent = ADMIN_USER_AGENT;
	o.headers = hdrs;
	o.post = 1;
	o.body = body;
	o.body_len = strlen(body);
	o.sink = &r;		/* keeps ADMIN_RESP_MAX, reads on past it */
	o.errbuf = errbuf;
	if (https_exchange(&o, &hr) != 0) {
		switch (hr.stage) {
		case HTTPS_INIT:
			rc = err_set(e, MUSTER_EINTERNAL, "curl: cannot "
			    "initialise");
			break;
		case HTTPS_SETOPT:
			rc = err_set(e, MUSTER_EINTERNAL, "curl: %s: %s",
			    hr.opt, curl_easy_strerror(hr.cc));
			break;
		case HTTPS_PERFORM:
			rc = admin_curl_result(hr.cc, url, errbuf, e);
			break;
		case HTTPS_STATUS:
			rc = err_set(e, MUSTER_EINTERNAL, "curl: %s",
			    curl_easy_strerror(hr.cc));
			break;
		}
		goto out;
	}
	*status = hr.status;
	if ((rc = admin_http_result(url, *status, r.buf, r.len, e)) != 0)
		goto out;
	if (answer != NULL) {
		*answer = r.buf;
		r.buf = NULL;
	}
	rc = 0;
out:
	admin_headers_free(hdrs);
	if (auth != NULL)
		sodium_free(auth);	/* sodium_free wipes */
	free(r.buf);
	free(url);
	free(curl_url);
	free(conn);
	curl_slist_free_all(to);
	free(ca);
	return rc;
}

int
admin_post_json(const char *org, const char *admin_url, const char *path,
    json_t *body, long *status, char **answer, struct muster_err *e)
{
	struct org_cfg oc;
	char *text = NULL;
	int rc;

	*status = 0;
	if (answer != NULL)
		*answer = NULL;
	if ((rc = admin_org_load(org, admin_url, &oc, e)) != 0)
		return rc;
	if ((text = json_dumps(body, JSON_COMPACT)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = admin_post(org, &oc, path, text, status, answer, e);
	free(text);
	return rc;
}

int
admin_org_load(const char *org, const char *admin_url, struct org_cfg *oc,
    struct muster_err *e)
{
	struct muster_err ue = { 0 };
	int rc;

	if ((rc = org_cfg_load(org, oc, e)) != 0)
		return rc;
	if (admin_url != NULL && org_cfg_admin_set(oc, admin_url, &ue) != 0)
		return err_set(e, MUSTER_EUSAGE, "--admin-url: %s", ue.msg);
	return 0;
}

/* ---- publish ---------------------------------------------------------- */

/* publish's --key, with its own limit message. */
struct publish_keys {
	const char	*keys[MANCMD_KEYS_MAX];
	size_t		 n;
};

static int
publish_key(void *arg, int c, const char *val)
{
	struct publish_keys *pk = arg;

	(void)c;
	if (pk->n == MANCMD_KEYS_MAX)
		return cli_usage("publish", "at most %d --key",
		    MANCMD_KEYS_MAX);
	pk->keys[pk->n++] = val;
	return 0;
}

int
admin_publish(int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct org_cfg oc;
	struct sig_pubkey pk;
	struct profile *p = NULL;
	struct manifest_entry me;
	struct manifest m;
	struct sigset *ss = NULL;
	struct publish_keys keys = { { NULL }, 0 };
	const char *expires_s = NULL;
	time_t expires;
	int add = 0, fresh;
	json_t *j = NULL, *mj = NULL;
	const char *org = NULL, *sigarg = NULL, *path, *admin_url = NULL;
	char *buf = NULL, *sig = NULL, *b64 = NULL, *body = NULL;
	char *pubpath = NULL, *sigpath = NULL;
	size_t len = 0, siglen = 0, b64len;
	long status = 0;
	int k, ex, rc;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &org),
		CLI_OPT_ARG("sig", 's', &sigarg),
		CLI_OPT_ARG("expires", 'x', &expires_s),
		CLI_OPT_FLAG("add", 'a', &add),
		CLI_OPT_FN("key", 'k', required_argument),
		CLI_OPT_ARG("admin-url", 'U', &admin_url),
		CLI_OPT_END,
	};

	if ((k = cli_options_operand(argc, argv, "", opts, publish_usage,
	    publish_key, &keys, "PROFILE.cfg", &ex)) < 0)
		return ex;
	path = argv[k];
	/* The manifest's expiry moves only when --expires says so. */
	fresh = expires_s != NULL;
	if (expires_s == NULL)
		expires_s = "7d";
	if (tokcmd_expires_parse(expires_s, time(NULL), &expires, &e) != 0)
		return cli_usage("publish", "%s", e.msg);
	if (org == NULL)
		org = org_default_dir();
	if ((sigarg = profcmd_sig_path(path, sigarg, &sigpath)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((pubpath = fs_path(org, ORG_PUB)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = admin_org_load(org, admin_url, &oc, &e)) != 0 ||
	    (rc = sig_pubkey_load(pubpath, &pk, &e)) != 0)
		goto out;
	/* The server's checks, made here first on the same bytes. */
	if ((rc = profcmd_read_verify(path, sigarg, &pk, &buf, &len, &sig,
	    &siglen, &p, NULL, &e)) != 0 ||
	    (rc = profcmd_check_unexpired(path, p, &e)) != 0 ||
	    (rc = profcmd_oracle(path, p, &e)) != 0)
		goto out;
	b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	sodium_bin2base64(b64, b64len, (const unsigned char *)buf, len,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((j = json_pack("{s:s, s:s#}", "profile", b64, "signature", sig,
	    (int)siglen)) == NULL) {
		rc = err_set(&e, MUSTER_EDATA, "%s: signature file is not "
		    "UTF-8 text", sigarg);
		goto out;
	}
	/* The scope's next manifest names exactly these bytes. */
	memset(&me, 0, sizeof me);
	snprintf(me.id, sizeof me.id, "%s", p->id);
	me.serial = p->serial;
	sigset_hash_hex(buf, len, me.hash);
	if ((rc = mancmd_make(org, p->scope, &me, !add, expires, !fresh,
	    keys.keys, keys.n, &ss, &m, &e)) != 0 ||
	    (rc = sigset_to_json(ss, &mj, &e)) != 0)
		goto out;
	if (json_object_set(j, "manifest", mj) != 0 ||
	    (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = admin_post(org, &oc, ADMIN_PATH_PROFILE, body, &status,
	    NULL, &e)) != 0)
		goto out;
	printf("%s: profile \"%s\" serial %lld (%s), manifest version %lld, "
	    "%s\n", path, p->id, (long long)p->serial,
	    profile_scope_name(p->scope), (long long)m.version, status == 200 ?
	    "was already published" : "published");
out:
	sigset_free(ss);
	json_decref(mj);
	profile_free(p);
	json_decref(j);
	free(buf);
	free(sig);
	free(b64);
	free(body);
	free(pubpath);
	free(sigpath);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

/* ---- revoke ----------------------------------------------------------- */

int
admin_revoke(int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct org_cfg oc;
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	struct revocation rv, check;
	json_t *j = NULL;
	const char *org = NULL, *id, *admin_url = NULL;
	char *rtext = NULL, *body = NULL, *auth = NULL, *answer = NULL;
	json_t *a = NULL;
	size_t n, i;
	long status = 0;
	int k, ex, rc;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &org),
		CLI_OPT_ARG("admin-url", 'U', &admin_url),
		CLI_OPT_END,
	};

	if ((k = cli_options_operand(argc, argv, "", opts, revoke_usage, NULL,
	    NULL, "device or token id", &ex)) < 0)
		return ex;
	id = argv[k];
	n = strlen(id);
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)id[i]) ||
		    isupper((unsigned char)id[i]))
			break;
	if (i != n || (n != DEVICE_ID_HEX - 1 && n != TOKEN_ID_HEX - 1))
		return cli_usage("revoke", "\"%s\" is neither a device id (32 "
		    "lowercase hex digits) nor a token id (16)", id);
	if (org == NULL)
		org = org_default_dir();
	memset(&rv, 0, sizeof rv);
	memcpy(rv.id, id, n + 1);
	rv.time = time(NULL);
	/* Every check that needs no passphrase before the prompt. */
	if ((rc = admin_org_load(org, admin_url, &oc, &e)) != 0 ||
	    (rc = admin_token_header(org, &auth, &e)) != 0)
		goto out;
	sodium_free(auth);
	auth = NULL;
	if ((rc = (org_has_roots(org) ? org_pair_load(org, ORG_REVOCATION,
	    &pk, &sk, &e) : org_keys_load(org, &pk, &sk, &e))) != 0 ||
	    (rc = token_revocation_sign(&rv, sk, &rtext, &e)) != 0)
		goto out;
	sig_seckey_free(sk);
	sk = NULL;
	if ((rc = token_revocation_verify(rtext, strlen(rtext), &pk, &check, &e)) !=
	    0) {
		rc = err_set(&e, MUSTER_EINTERNAL, "the new revocation does "
		    "not verify; nothing sent");
		goto out;
	}
	if ((j = json_pack("{s:s}", "revocation", rtext)) == NULL ||
	    (body = json_dumps(j, JSON_COMPACT)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = admin_post(org, &oc, ADMIN_PATH_REVOKE, body, &status,
	    &answer, &e)) != 0)
		goto out;
	printf("revoked %s %s\n", n == DEVICE_ID_HEX - 1 ? "device" : "token",
	    id);
	/* A used token: the server revoked the device it enrolled. */
	if (answer != NULL && (a = json_loads(answer, JSON_REJECT_DUPLICATES,
	    NULL)) != NULL && json_is_string(json_object_get(a, "device")) &&
	    proto_hex_ok(json_string_value(json_object_get(a, "device")),
	    DEVICE_ID_HEX - 1))
		printf("revoked device %s, which enrolled with token %s\n",
		    json_string_value(json_object_get(a, "device")), id);
out:
	json_decref(a);
	free(answer);
	if (auth != NULL)
		sodium_free(auth);
	sig_seckey_free(sk);
	json_decref(j);
	free(rtext);
	free(body);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
