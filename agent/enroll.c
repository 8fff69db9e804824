/*
 * enroll: `muster-agent enroll`.
 *
 * Enrollment trusts nothing but the bundle: a first-wave bundle's token
 * is verified with its org key (the legacy root); a v2 bundle's root must
 * meet its own root threshold (trust on first use), its token must be
 * signed by the root's enroll role and name that root by version and
 * hash (token2_bundle_parse).  The server URL and pin come only from the
 * signed token.  The device key is made here and never leaves the device;
 * the server sees its public half, in a request signed with it (proof of
 * possession).  The answer is checked (device id form) and its profile
 * installed with every check of `muster-agent install`.
 *
 * A family enrollment needs the member's consent first (agent/consent.h).
 * Unless --consent is given it is asked on the terminal, and without a
 * terminal the enrollment stops before anything is sent.  To show the
 * rules the member agrees to, the agent asks the server for the family
 * profile with the token alone (POST /v1/enroll/preview: no device key
 * exists yet and nothing about the device is sent) and verifies it with
 * the bundle's org key.  Only after a "yes" is a key made, any state
 * written, or the enrollment sent, with the signed consent receipt.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/log.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/sig.h"
#include "muster/root.h"
#include "muster/sigset.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "muster/token2.h"
#include "call.h"
#include "cmd.h"
#include "enroll.h"
#include "consent.h"
#include "device/device.h"
#include "devkey.h"
#include "info.h"
#include "install.h"
#include "net.h"
#include "rereg.h"
#include "spool.h"
#include "state.h"


static const char enroll_usage[] =
"usage: muster-agent [--state DIR] [--device BACKEND] enroll BUNDLE|URI\n"
"           [--consent [--report-only]]\n"
"\n"
"Enrolls this device with the organisation's server named in BUNDLE (made\n"
"by muster-enroll token), or in URI, the same bundle as a\n"
"muster://enroll?... URI (what muster-enroll token --qr prints and its QR\n"
"code holds).  An argument of the form SCHEME://... is a URI, anything\n"
"else a file (write ./FILE for a file named like a URI).  A URI on the\n"
"command line is a bearer credential others on the machine may see: it is\n"
"wiped from the arguments once read, but prefer the file on a shared\n"
"machine.  A first-wave bundle's token is verified with its org key,\n"
"which becomes the trust anchor.  A bundle of an organisation with a\n"
"root of trust carries the root (a URI names it by version and hash, and\n"
"the root is fetched from the token's server and checked against that\n"
"hash): the root must meet its own root threshold, the token must be\n"
"signed by its enroll role, and the root becomes the anchor.  The server\n"
"address and its key pin come only from the signed token and root.  A\n"
"device key is made on the device and never leaves it.  The server's\n"
"profile is installed with the checks of muster-agent install.  Prints\n"
"what the device will report first.\n"
"\n"
"A family enrollment first shows what the organisation will and will not\n"
"see and the rules of its family profile (fetched with the token alone),\n"
"then asks on the terminal: only \"yes\" goes on.  Without a terminal it\n"
"needs --consent.  The device signs a receipt of the consent (the hash of\n"
"the text and of the profile shown, the time, the token, the changes\n"
"allowed) and sends it with the enrollment; STATE/consent.txt and\n"
"consent.json keep both.  Only the profile shown is installed.\n"
"\n"
"Exit 0 enrolled; 64 family consent not given (nothing sent, nothing\n"
"kept); 65 malformed bundle or URI; 66 missing bundle; 69 server\n"
"unreachable (run it again later); 77 token expired, used or revoked, bad\n"
"signature, root or pin mismatch, or already enrolled; 78 bad state.\n"
"\n"
"options:\n"
"  --consent      the member agrees to the family enrollment as shown\n"
"  --report-only  family: allow no change to the device; every rule is\n"
"                 only reported\n"
"  --device B     sim:FILE, android or android:BINDIR (default android);\n"
"                 personnel devices send its manufacturer and model\n"
"  --state DIR    the agent's state (default /var/lib/muster)\n"
"  --help         this text\n";

/* A family member's consent, once given. */
struct family {
	struct profile	*p;		/* the family profile shown, or NULL */
	char		 hash[SIGSET_HASH_HEX];	/* of its bytes; "" if none */
	char		*text;		/* the text shown */
	size_t		 tlen;
	char		*receipt;	/* the receipt, as sent */
	json_t		*receipt_obj;
};

static void
family_free(struct family *f)
{
	profile_free(f->p);
	free(f->text);
	free(f->receipt);
	json_decref(f->receipt_obj);
	memset(f, 0, sizeof *f);
}

/* "Manufacturer Model" from the device, or "" when it cannot be read. */
static void
read_model(const char *spec, char *buf, size_t size)
{
	struct device_facts f;
	struct device *d = NULL;

	buf[0] = '\0';
	if (device_open(spec, &d, NULL) == 0 &&
	    device_facts(d, &f, NULL) == 0 && f.model[0] != '\0')
		snprintf(buf, size, "%s%s%s", f.manufacturer,
		    f.manufacturer[0] != '\0' ? " " : "", f.model);
	device_close(d);
}

/*
 * The enrollment body, compact JSON in the protocol's order; consent (a
 * family receipt, or NULL) is added as it is.
 */
static char *
enroll_body(const char *token, const char *pk, const char *model,
    json_t *consent)
{
	json_t *o;
	char m[PROTO_MODEL_MAX + 1], *s = NULL;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "token", json_string(token)) != 0 ||
	    json_object_set_new(o, "device_key", json_string(pk)) != 0)
		goto out;
	if (model != NULL && model[0] != '\0') {
		for (i = 0; model[i] != '\0' && i < PROTO_MODEL_MAX; i++)
			m[i] = (unsigned char)model[i] >= 0x20 &&
			    (unsigned char)model[i] < 0x7f ? model[i] : '?';
		m[i] = '\0';
		if (json_object_set_new(o, "model", json_string(m)) != 0)
			goto out;
	}
	if (consent != NULL && json_object_set(o, "consent", consent) != 0)
		goto out;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
out:
	json_decref(o);
	return s;
}

/*
 * rc of an exchange with server that did not complete: a server that may
 * answer later (MUSTER_ETEMP) is MUSTER_EUNAVAIL here, since enroll queues
 * nothing; any other rc is returned as it is.
 */
static int
unreachable(const char *server, int rc, struct muster_err *e)
{
	char why[ERR_MSG_MAX];

	if (rc != MUSTER_ETEMP)
		return rc;
	snprintf(why, sizeof why, "%s", e->msg);
	return err_set(e, MUSTER_EUNAVAIL, "%.100s: %.350s; run enroll again "
	    "later", server, why);
}

/* MUSTER_ETRUST when the state at dir is enrolled already, else 0. */
static int
not_enrolled(const char *dir, struct muster_err *e)
{
	struct state_cfg c;

	if (state_cfg_load(dir, &c, NULL) == 0 && c.device_id[0] != '\0')
		return err_set(e, MUSTER_ETRUST, "%s: already enrolled as "
		    "device %s; unenroll first", dir, c.device_id);
	return 0;
}

/* The error for an enrollment answer that is not 201. */
static int
enroll_refused(const struct net_response *rs, struct muster_err *e)
{
	switch (rs->status) {
	case 400:
		return err_set(e, MUSTER_EDATA, "server: enrollment request "
		    "malformed (HTTP 400)");
	case 401:
		return err_set(e, MUSTER_ETRUST, "server: signature refused "
		    "(HTTP 401)");
	case 403:
		return err_set(e, MUSTER_ETRUST, "server: token expired, "
		    "already used or revoked (HTTP 403)");
	default:
		return err_set(e, MUSTER_EUNAVAIL, "server answered HTTP %u; "
		    "try again later", rs->status);
	}
}

/* An anchor is set already: it must be the bundle's key and scope. */
static int
anchor_matches(const struct state_anchor *a, const struct sig_pubkey *pk,
    enum profile_scope scope, const char *dir, struct muster_err *e)
{
	if (a->has_root ||
	    sodium_memcmp(a->pk.keyid, pk->keyid, sizeof pk->keyid) != 0 ||
	    sodium_memcmp(a->pk.pk, pk->pk, sizeof pk->pk) != 0 ||
	    a->scope != scope)
		return err_set(e, MUSTER_ETRUST, "%s: another trust anchor or "
		    "scope is set; unenroll first", dir);
	return 0;
}

/*
 * 1 if arg has the form of a URI, SCHEME "://" (RFC 3986 scheme
 * characters), rather than a file name.
 */
static int
enroll_is_uri(const char *arg)
{
	size_t i;

	if (!((arg[0] >= 'A' && arg[0] <= 'Z') || (arg[0] >= 'a' &&
	    arg[0] <= 'z')))
		return 0;
	for (i = 1; arg[i] != '\0'; i++) {
		if (arg[i] == ':')
			return arg[i + 1] == '/' && arg[i + 2] == '/';
		if (!((arg[i] >= 'A' && arg[i] <= 'Z') || (arg[i] >= 'a' &&
		    arg[i] <= 'z') || (arg[i] >= '0' && arg[i] <= '9') ||
		    arg[i] == '+' || arg[i] == '-' || arg[i] == '.'))
			return 0;
	}
	return 0;
}

/*
 * The root a v2 token names (t->root_version, t->root_hash), fetched
 * unsigned from the token's server (GET /v1/root?since=N-1, pinned by the
 * token's pin) for an enrollment by URI, which cannot carry the root.
 * Untrusted until checked: it must be that version, hash to the token's
 * root= (so the server cannot choose the root), meet its own root
 * threshold, and the token (len bytes at token) must verify against its
 * enroll role.  Fills *root_ss (sigset_free) and *r.  Returns 0,
 * MUSTER_EUNAVAIL when the server cannot be reached, MUSTER_EDATA for a
 * malformed answer, MUSTER_ETRUST for any mismatch.
 */
static int
enroll_fetch_root(const struct token *t, const char *token,
    struct sigset **root_ss, struct root *r, struct muster_err *e)
{
	struct net_response rs;
	struct token vt;
	json_t *o = NULL, *roots, *doc;
	char path[sizeof PROTO_PATH_ROOT + 32];
	int rc;

	*root_ss = NULL;
	memset(&rs, 0, sizeof rs);
	snprintf(path, sizeof path, "%s?since=%lld", PROTO_PATH_ROOT,
	    (long long)t->root_version - 1);
	if ((rc = call_send("GET", t->server, t->pin, path, NULL, NULL, 0,
	    &rs, e)) != 0 ||
	    (rc = net_outcome_rc(&rs, e)) != 0) {
		rc = unreachable(t->server, rc, e);
		goto out;
	}
	if (rs.status != 200) {
		rc = err_set(e, MUSTER_EUNAVAIL, "server answered the root "
		    "request with HTTP %u; try again later", rs.status);
		goto out;
	}
	if ((o = proto_json_parse(rs.body, rs.body_len, 4)) == NULL ||
	    (roots = json_object_get(o, "roots")) == NULL ||
	    !json_is_array(roots) || (doc = json_array_get(roots, 0)) ==
	    NULL) {
		rc = err_set(e, MUSTER_EDATA, "server: malformed root answer");
		goto out;
	}
	if ((rc = sigset_from_json("server's root", doc, ROOT_MAX, root_ss,
	    e)) != 0 || (rc = root_verify_self("server's root", *root_ss, r,
	    e)) != 0 || (rc = token2_root_match(t, r, e)) != 0 ||
	    (rc = token2_verify(token, strlen(token), r, &vt, e)) != 0)
		goto out;
out:
	if (rc != 0) {
		sigset_free(*root_ss);
		*root_ss = NULL;
	}
	json_decref(o);
	net_response_free(&rs);
	return rc;
}

/*
 * Reads the bundle named by arg, a file or an enrollment URI, as untrusted
 * input: capped, then verified, then parsed, into *root_ss (the root's
 * signed document, or NULL for a first-wave bundle), *r (the root, or the
 * legacy root of a first-wave org key), *token (malloc'd, the caller's to
 * wipe) and *t; *name is what messages call it (never the URI itself, a
 * bearer secret).  A URI is wiped from arg once read; a URI of a v2 token
 * has its root fetched (enroll_fetch_root).  Returns what
 * token2_bundle_parse or token_bundle_uri_parse returns, MUSTER_ENOINPUT
 * for a file that cannot be read, or enroll_fetch_root's refusal.
 */
static int
enroll_read_bundle(char *arg, struct sigset **root_ss, struct root *r,
    char **token, struct token *t, const char **name, struct muster_err *e)
{
	struct sig_pubkey pk;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*token = NULL;
	*root_ss = NULL;
	if (!enroll_is_uri(arg)) {
		*name = arg;
		if ((rc = fs_read_file(arg, TOKEN2_BUNDLE_MAX, &buf, &len,
		    e)) == 0)
			rc = token2_bundle_parse(arg, buf, len, root_ss, r,
			    token, t, e);
		fs_wipe_free(buf, len);
		return rc;
	}
	*name = "enrollment URI";
	len = strnlen(arg, BUNDLE_URI_MAX);
	if (len >= BUNDLE_URI_MAX)
		rc = err_set(e, MUSTER_EDATA, "enrollment URI: longer than %d "
		    "bytes", BUNDLE_URI_MAX - 1);
	else
		rc = token_bundle_uri_parse(arg, len, &pk, token, t, e);
	/* Out of the process's arguments (ps) from here on. */
	sodium_memzero(arg, strlen(arg));
	if (rc != 0)
		return rc;
	if (t->root_version > 0)
		rc = enroll_fetch_root(t, *token, root_ss, r, e);
	else
		rc = root_legacy(&pk, t->server, t->pin, r, e);
	if (rc != 0) {
		fs_free_secret(*token);
		*token = NULL;
	}
	return rc;
}

/*
 * The pins enrollment accepts: a v2 bundle's root names the server's
 * current and next key; the token's pin, signed by the enroll role, must
 * be one of them.  A v1 bundle: the token's pin.  Points into a static
 * buffer.
 */
static const char *
enroll_pins(const struct token *t, const struct state_anchor *ba)
{
	static char pins[ROOT_PINS_CURL_MAX];

	if (!ba->has_root || !root_pin_ok(&ba->root, t->pin) ||
	    root_pins_curl(&ba->root, pins, sizeof pins) != 0)
		return t->pin;
	return pins;
}

/* Prints what the bundle says and what the device will report. */
static void
enroll_explain(const struct token *t, const struct state_anchor *ba)
{
	char hex[SIG_KEYID_HEX], exp[TIMEFMT_LEN], rexp[TIMEFMT_LEN];

	timefmt_format(t->expires, exp);
	printf("Enrollment of %s (%s), scope %s\n", t->person, t->unit,
	    profile_scope_name(t->scope));
	if (ba->has_root) {
		timefmt_format(ba->root.expires, rexp);
		printf("  root:     version %lld, expires %s\n"
		    "            BLAKE2b-256 %s\n", (long long)ba->root.version,
		    rexp, ba->root.hash);
	} else {
		sig_keyid_hex(ba->pk.keyid, hex);
		printf("  org key:  %s\n", hex);
	}
	printf("  server:   %s\n"
	    "  pin:      %s\n"
	    "  token:    %s, expires %s\n\n", t->server, t->pin, t->id, exp);
	if (t->scope == SCOPE_PERSONNEL) {
		info_report_fields(t->scope);
		printf("\n");
	}
}

/*
 * Asks the server for the family profile with the token alone and
 * verifies it with the bundle's key: *p is the profile, or NULL when none
 * is published.  Returns MUSTER_EUNAVAIL when the server cannot be
 * reached, MUSTER_ETRUST when it refuses the token or its profile does
 * not verify.
 */
static int
preview(const struct token *t, const char *token,
    const struct state_anchor *ba, struct profile **p,
    char hash[SIGSET_HASH_HEX], struct muster_err *e)
{
	struct net_response rs;
	json_t *o = NULL, *prof;
	char *body = NULL;
	int rc;

	*p = NULL;
	memset(&rs, 0, sizeof rs);
	if ((o = json_pack("{s:s}", "token", token)) == NULL ||
	    (body = json_dumps(o, JSON_COMPACT)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	json_decref(o);
	o = NULL;
	printf("Asking %s for the family profile\n(this sends the "
	    "enrollment token, nothing about this device)...\n\n",
	    t->server);
	fflush(stdout);
	if ((rc = call_post(t->server, enroll_pins(t, ba), NULL, NULL,
	    PROTO_PATH_PREVIEW,
	    body, strlen(body), &rs, e)) != 0 ||
	    (rc = net_outcome_rc(&rs, e)) != 0) {
		rc = unreachable(t->server, rc, e);
		goto out;
	}
	switch (rs.status) {
	case 200:
		break;
	case 400:
		rc = err_set(e, MUSTER_EDATA, "server: preview request "
		    "malformed (HTTP 400)");
		goto out;
	case 403:
		rc = err_set(e, MUSTER_ETRUST, "server: token expired, already "
		    "used or revoked (HTTP 403)");
		goto out;
	default:
		rc = err_set(e, MUSTER_EUNAVAIL, "server answered the preview "
		    "with HTTP %u; try again later", rs.status);
		goto out;
	}
	/* Untrusted: the profile must verify with the bundle's key. */
	if ((o = json_loadb(rs.body, rs.body_len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || json_unpack(o, "{s:o}", "profile", &prof) != 0) {
		rc = err_set(e, MUSTER_EDATA, "server: malformed preview "
		    "answer");
		goto out;
	}
	if (!json_is_null(prof))
		rc = install_profile_json_check(ba, "server's family profile",
		    prof, p, hash, e);
out:
	json_decref(o);
	net_response_free(&rs);
	fs_free_secret(body);
	return rc;
}

/*
 * The family consent: shown, asked (unless --consent), and the signed
 * receipt made into f.  MUSTER_EUSAGE when it is not given, before
 * anything is sent when there is no terminal to ask on.
 */
static int
family_consent(const struct cmd_consent *ea, const struct token *t,
    const char *token, const struct state_anchor *ba, struct family *f,
    struct muster_err *e)
{
	struct consent c;
	int rc, tty = -1;

	memset(&c, 0, sizeof c);
	if (!ea->consent && (tty = open("/dev/tty", O_RDWR | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		fputs(consent_text_base(), stdout);
		return err_set(e, MUSTER_EUSAGE, "a family enrollment needs "
		    "the member's consent: run enroll on a terminal and "
		    "answer yes, or add --consent; nothing was sent");
	}
	if ((rc = preview(t, token, ba, &f->p, f->hash, e)) != 0 ||
	    (rc = consent_text(f->p, ea->report_only, &f->text, &f->tlen,
	    e)) != 0)
		goto out;
	fwrite(f->text, 1, f->tlen, stdout);
	fflush(stdout);
	if (!ea->consent && (rc = consent_ask(tty, f->text, f->tlen, e)) != 0)
		goto out;
	if ((rc = consent_make(&c, f->text, f->tlen, t->id, time(NULL), f->p,
	    f->p != NULL ? f->hash : NULL, ea->report_only, e)) != 0)
		goto out;
	if ((f->receipt_obj = consent_json(&c)) == NULL ||
	    (f->receipt = json_dumps(f->receipt_obj, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	printf("\nConsent given: text BLAKE2b-256 %s\n\n", c.text_hash);
out:
	consent_free(&c);
	if (tty != -1)
		close(tty);
	return rc;
}

/*
 * A family enrollment's answer carries the profile the member was shown,
 * byte for byte (the receipt's hash), or none when none was shown:
 * anything else is MUSTER_ETRUST, before any state is written.
 */
static int
consented_only(const struct family *f, json_t *prof, struct muster_err *e)
{
	struct install_obj io;
	char h[SIGSET_HASH_HEX];
	int rc;

	if (json_is_null(prof))
		return 0;
	if (f->p == NULL)
		return err_set(e, MUSTER_ETRUST, "server: the enrollment "
		    "carries a family profile the member was not shown; "
		    "refused, nothing kept");
	if ((rc = install_json_decode("server profile", prof, &io, e)) != 0)
		return rc;
	sigset_hash_hex(io.bytes, io.len, h);
	free(io.bytes);
	if (strcmp(h, f->hash) != 0)
		return err_set(e, MUSTER_ETRUST, "server: the enrollment's "
		    "profile \"%.64s\" is not the one the member was shown "
		    "(BLAKE2b-256 %s, shown %s); refused, nothing kept", io.id,
		    h, f->hash);
	return 0;
}

/* Keeps the consented family profile (see state_consented_store). */
static int
keep_consented(const char *dir, json_t *prof, struct muster_err *e)
{
	struct install_obj io;
	int rc;

	if ((rc = install_json_decode("server profile", prof, &io, e)) != 0)
		return rc;
	rc = state_consented_store(dir, (const char *)io.bytes, io.len, io.sig,
	    strlen(io.sig), e);
	free(io.bytes);
	return rc;
}

int
enroll_cmd(struct cmd_opts *o, int argc, char **argv)
{
	struct cmd_consent ea = { 0, 0 };
	struct cmd_flag flags[] = CMD_CONSENT_FLAGS(&ea);
	struct family fam;
	struct muster_err e = { 0 }, ie = { 0 };
	struct state_anchor a, ba;
	struct sigset *root_ss = NULL;
	struct state_cfg c;
	struct token t;
	struct net_response rs;
	struct sig_seckey *sk = NULL;
	struct profile *p = NULL;
	json_t *ans = NULL, *prof;
	struct stat st;
	const char *devid, *name = NULL;
	char *token = NULL, *body = NULL, *anchor = NULL;
	char pkb64[DEVKEY_PK_B64], model[DEVICE_FACT_MAX * 2 + 2];
	int i, ex, rc, lockfd = -1, irc = 0;

	memset(&rs, 0, sizeof rs);
	memset(&fam, 0, sizeof fam);
	if ((i = cmd_getopt(o, argc, argv, "", cmd_consent_opts, enroll_usage,
	    cmd_flag_opt, flags, &ex)) < 0)
		return ex;
	if (argc - i != 1)
		return cli_usage("enroll", "expected one BUNDLE or URI");
	/* Capped, verified, parsed; expiry judged here. */
	memset(&ba, 0, sizeof ba);
	if ((rc = enroll_read_bundle(argv[i], &root_ss, &ba.root, &token, &t,
	    &name, &e)) != 0)
		goto out;
	/* The bundle's anchor, in memory until the member has agreed. */
	ba.scope = t.scope;
	ba.has_root = root_ss != NULL;
	if (!ba.has_root)
		ba.pk = ba.root.roles[ROOT_ROLE_POLICY].keys[0];
	if (token_expired(&t, time(NULL))) {
		char exp[TIMEFMT_LEN];

		timefmt_format(t.expires, exp);
		rc = err_set(&e, MUSTER_ETRUST, "%s: token expired on %s; ask "
		    "for a new one", name, exp);
		goto out;
	}
	if (t.scope != SCOPE_FAMILY && ea.report_only) {
		rc = err_set(&e, MUSTER_EUSAGE, "--report-only is for a family "
		    "enrollment; %s is %s", name,
		    profile_scope_name(t.scope));
		goto out;
	}
	/* Asking for a consent that cannot be used would waste it. */
	if ((rc = not_enrolled(o->state, &e)) != 0)
		goto out;
	enroll_explain(&t, &ba);
	/* Nothing is made or kept before the member has agreed. */
	if (t.scope == SCOPE_FAMILY && (rc = family_consent(&ea, &t, token,
	    &ba, &fam, &e)) != 0)
		goto out;
	if ((rc = state_open(o->state, 1, &e)) != 0 ||
	    (rc = state_lock(o->state, 0, &lockfd, &e)) != 0)
		goto out;
	if ((rc = not_enrolled(o->state, &e)) != 0)
		goto out;
	if ((anchor = fs_path(o->state, STATE_ANCHOR)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (ba.has_root) {
		/* Refused if another anchor is set; the same root again is
		 * an enrollment that did not finish. */
		if ((rc = state_root_set(o->state, root_ss, t.scope,
		    &e)) != 0 || (rc = state_anchor_load(o->state, &a,
		    &e)) != 0)
			goto out;
	} else if (lstat(anchor, &st) == 0) {
		/* Set by trust, or by an enrollment that did not finish. */
		if ((rc = state_anchor_load(o->state, &a, &e)) != 0 ||
		    (rc = anchor_matches(&a, &ba.pk, t.scope, o->state,
		    &e)) != 0)
			goto out;
	} else if ((rc = state_anchor_set(o->state, &ba.pk, t.scope,
	    &e)) != 0 || (rc = state_anchor_load(o->state, &a, &e)) != 0)
		goto out;
	if ((rc = devkey_create(o->state, &sk, &e)) != 0)
		goto out;
	devkey_pubkey_b64(sk, pkb64);
	model[0] = '\0';
	if (t.scope == SCOPE_PERSONNEL)
		read_model(o->device, model, sizeof model);
	if ((body = enroll_body(token, pkb64, model, fam.receipt_obj)) ==
	    NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = call_post(t.server, enroll_pins(&t, &ba), NULL, sk,
	    PROTO_PATH_ENROLL, body,
	    strlen(body), &rs, &e)) != 0 || (rc = net_outcome_rc(&rs, &e)) != 0) {
		rc = unreachable(t.server, rc, &e);
		goto out;
	}
	if (rs.status != 201) {
		rc = enroll_refused(&rs, &e);
		goto out;
	}
	/* The answer is untrusted: the device id's form, the profile's
	 * signature and everything else install checks. */
	if ((ans = json_loadb(rs.body, rs.body_len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || json_unpack(ans, "{s:s,s:o}", "device", &devid,
	    "profile", &prof) != 0 || !state_device_id_ok(devid)) {
		rc = err_set(&e, MUSTER_EDATA, "server: malformed enrollment "
		    "answer (want a device id of %d hex digits)",
		    DEVICE_ID_HEX - 1);
		goto out;
	}
	/* Consent binds bytes: the profile installed is the one shown. */
	if (t.scope == SCOPE_FAMILY && (rc = consented_only(&fam, prof,
	    &e)) != 0)
		goto out;
	if ((rc = state_cfg_load(o->state, &c, &e)) != 0)
		goto out;
	snprintf(c.server, sizeof c.server, "%s", t.server);
	snprintf(c.pin, sizeof c.pin, "%s", t.pin);
	snprintf(c.device_id, sizeof c.device_id, "%s", devid);
	if ((rc = state_cfg_store(o->state, &c, &e)) != 0 ||
	    (rc = spool_init(o->state, &e)) != 0)
		goto out;
	/* Enrolled: without its receipt it only cannot re-register. */
	if ((irc = rereg_store(o->state, json_object_get(ans, "receipt"),
	    &ie)) != 0)
		log_warn("%s", ie.msg);
	if (fam.receipt != NULL && (rc = consent_store(o->state, fam.receipt,
	    strlen(fam.receipt), fam.text, fam.tlen, &e)) != 0)
		goto out;
	printf("enrolled with %s as device %s\n", c.server, c.device_id);
	if (json_is_null(prof)) {
		printf("no profile is published for scope %s yet; muster-agent "
		    "run will fetch it\n", profile_scope_name(t.scope));
		goto out;
	}
	irc = install_profile_json(o->state, &a, "server profile", prof, &p,
	    &ie);
	if (irc < 0) {
		rc = irc;
		e = ie;
		goto out;
	}
	snprintf(c.profile_id, sizeof c.profile_id, "%s", p->id);
	if ((rc = state_cfg_store(o->state, &c, &e)) != 0)
		goto out;
	if (t.scope == SCOPE_FAMILY && (rc = keep_consented(o->state, prof,
	    &e)) != 0)
		goto out;
	printf("installed profile \"%s\" serial %lld (scope %s, %zu rules, "
	    "expires %s)\n", p->id, (long long)p->serial,
	    profile_scope_name(p->scope), p->nrules, p->expires_str);
out:
	if (lockfd != -1)
		close(lockfd);
	json_decref(ans);
	net_response_free(&rs);
	family_free(&fam);
	profile_free(p);
	sig_seckey_free(sk);
	sigset_free(root_ss);
	free(anchor);
	/* The token is a bearer credential until the server marks it used. */
	fs_free_secret(body);
	fs_free_secret(token);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
