/*
 * enroll: `muster-agent enroll` and `muster-agent unenroll`.
 *
 * Enrollment trusts nothing but the bundle's org-signed token: the token
 * is verified with the bundle's org key, and the server URL and pin come
 * only from it.  The device key is made here and never leaves the device;
 * the server sees its public half, in a request signed with it (proof of
 * possession).  The answer is checked (device id form) and its profile
 * installed with every check of `muster-agent install`.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/fs.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/token.h"
#include "agent.h"
#include "call.h"
#include "devkey.h"
#include "device/device.h"
#include "net.h"
#include "report.h"
#include "spool.h"

#define ENROLL_PATH	"/v1/enroll"
#define UNENROLL_PATH	"/v1/unenroll"

static const char enroll_usage[] =
"usage: muster-agent [--state DIR] [--device BACKEND] enroll BUNDLE "
"[--consent]\n"
"\n"
"Enrolls this device with the organisation's server named in BUNDLE (made\n"
"by muster-enroll token).  The bundle's token is verified with its org\n"
"key, which becomes the trust anchor; the server address and its key pin\n"
"come only from the signed token.  A device key is made on the device and\n"
"never leaves it.  The server's profile is installed with the checks of\n"
"muster-agent install.  Prints what the device will report first.\n"
"\n"
"Exit 0 enrolled; 64 family scope without --consent; 65 malformed bundle;\n"
"66 missing bundle; 69 server unreachable (run it again later); 77 token\n"
"expired, used or revoked, bad signature, pin mismatch, or already\n"
"enrolled; 78 bad state.\n"
"\n"
"options:\n"
"  --consent     the device's owner agrees to a family enrollment\n"
"  --device B    sim:FILE, android or android:BINDIR (default android);\n"
"                personnel devices send its manufacturer and model\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

static const char unenroll_usage[] =
"usage: muster-agent [--state DIR] unenroll\n"
"\n"
"Leaves the organisation: asks the server to delete this device and its\n"
"reports, then wipes the agent's state (the device key is overwritten\n"
"before it is removed).  If the server cannot be reached the state is\n"
"marked as leaving and kept; run unenroll again (exit 75).  A state that\n"
"was never enrolled with a server is wiped at once.\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

struct enroll_args {
	int	consent;
};

static int
enroll_opt(void *arg, int c, const char *val)
{
	struct enroll_args *a = arg;

	(void)val;
	if (c != 'c')
		return -1;
	a->consent = 1;
	return 0;
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

/* The enrollment body, compact JSON in the protocol's order. */
static char *
enroll_body(const char *token, const char *pk, const char *model)
{
	json_t *o;
	char m[REPORT_MODEL_MAX + 1], *s = NULL;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "token", json_string(token)) != 0 ||
	    json_object_set_new(o, "device_key", json_string(pk)) != 0)
		goto out;
	if (model != NULL && model[0] != '\0') {
		for (i = 0; model[i] != '\0' && i < REPORT_MODEL_MAX; i++)
			m[i] = (unsigned char)model[i] >= 0x20 &&
			    (unsigned char)model[i] < 0x7f ? model[i] : '?';
		m[i] = '\0';
		if (json_object_set_new(o, "model", json_string(m)) != 0)
			goto out;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
out:
	json_decref(o);
	return s;
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
	if (sodium_memcmp(a->pk.keyid, pk->keyid, sizeof pk->keyid) != 0 ||
	    sodium_memcmp(a->pk.pk, pk->pk, sizeof pk->pk) != 0 ||
	    a->scope != scope)
		return err_set(e, MUSTER_ETRUST, "%s: another trust anchor or "
		    "scope is set; unenroll first", dir);
	return 0;
}

/* Prints what the bundle says and what the device will report. */
static void
enroll_explain(const struct token *t, const struct sig_pubkey *pk)
{
	char hex[SIG_KEYID_HEX], exp[21];

	sig_keyid_hex(pk->keyid, hex);
	profile_time_format(t->expires, exp);
	printf("Enrollment of %s (%s), scope %s\n"
	    "  org key:  %s\n"
	    "  server:   %s\n"
	    "  pin:      %s\n"
	    "  token:    %s, expires %s\n\n", t->person, t->unit,
	    profile_scope_name(t->scope), hex, t->server, t->pin, t->id, exp);
	info_report_fields(t->scope);
	printf("\n");
}

int
cmd_enroll(struct agent_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		AGENT_COMMON_OPTS,
		{ "consent", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct enroll_args ea = { 0 };
	struct muster_err e = { 0 }, ie = { 0 };
	struct sig_pubkey orgpk;
	struct state_anchor a;
	struct state_cfg c;
	struct token t;
	struct net_response rs;
	struct sig_seckey *sk = NULL;
	struct profile *p = NULL;
	json_t *ans = NULL, *prof;
	struct stat st;
	const char *devid;
	char *buf = NULL, *token = NULL, *body = NULL, *anchor = NULL;
	char pkb64[DEVKEY_PK_B64], model[DEVICE_FACT_MAX * 2 + 2];
	size_t len = 0;
	int i, ex, rc, lockfd = -1, irc = 0;

	memset(&rs, 0, sizeof rs);
	if ((i = agent_getopt(o, argc, argv, "", opts, enroll_usage,
	    enroll_opt, &ea, &ex)) < 0)
		return ex;
	if (argc - i != 1)
		return agent_usage("enroll", "expected one BUNDLE");
	/* Capped, verified, parsed; expiry judged here. */
	if ((rc = fs_read_file(argv[i], BUNDLE_MAX, &buf, &len, &e)) != 0 ||
	    (rc = bundle_parse(argv[i], buf, len, &orgpk, &token, &t, &e)) != 0)
		goto out;
	if (token_expired(&t, time(NULL))) {
		char exp[21];

		profile_time_format(t.expires, exp);
		rc = err_set(&e, MUSTER_ETRUST, "%s: token expired on %s; ask "
		    "for a new one", argv[i], exp);
		goto out;
	}
	enroll_explain(&t, &orgpk);
	if (t.scope == SCOPE_FAMILY && !ea.consent) {
		sodium_memzero(token, strlen(token));
		sodium_memzero(buf, len);
		free(buf);
		free(token);
		return agent_usage("enroll", "a family enrollment needs the "
		    "owner's consent: read the above, then add --consent");
	}
	if ((rc = state_open(o->state, 1, &e)) != 0 ||
	    (rc = state_lock(o->state, 0, &lockfd, &e)) != 0)
		goto out;
	if (state_cfg_load(o->state, &c, NULL) == 0 &&
	    c.device_id[0] != '\0') {
		rc = err_set(&e, MUSTER_ETRUST, "%s: already enrolled as "
		    "device %s; unenroll first", o->state, c.device_id);
		goto out;
	}
	if ((anchor = fs_path(o->state, AGENT_ANCHOR)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (lstat(anchor, &st) == 0) {
		/* Set by trust, or by an enrollment that did not finish. */
		if ((rc = state_anchor_load(o->state, &a, &e)) != 0 ||
		    (rc = anchor_matches(&a, &orgpk, t.scope, o->state,
		    &e)) != 0)
			goto out;
	} else if ((rc = state_anchor_set(o->state, &orgpk, t.scope,
	    &e)) != 0 || (rc = state_anchor_load(o->state, &a, &e)) != 0)
		goto out;
	if ((rc = devkey_create(o->state, &sk, &e)) != 0)
		goto out;
	devkey_pubkey_b64(sk, pkb64);
	model[0] = '\0';
	if (t.scope == SCOPE_PERSONNEL)
		read_model(o->device, model, sizeof model);
	if ((body = enroll_body(token, pkb64, model)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = call_post(t.server, t.pin, NULL, sk, ENROLL_PATH, body,
	    strlen(body), &rs, &e)) != 0 || (rc = net_outcome_rc(&rs, &e)) != 0) {
		if (rc == MUSTER_ETEMP) {
			char why[ERR_MSG_MAX];

			snprintf(why, sizeof why, "%s", e.msg);
			rc = err_set(&e, MUSTER_EUNAVAIL, "%.100s: %.350s; run "
			    "enroll again later", t.server, why);
		}
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
	if ((rc = state_cfg_load(o->state, &c, &e)) != 0)
		goto out;
	snprintf(c.server, sizeof c.server, "%s", t.server);
	snprintf(c.pin, sizeof c.pin, "%s", t.pin);
	snprintf(c.device_id, sizeof c.device_id, "%s", devid);
	if ((rc = state_cfg_store(o->state, &c, &e)) != 0 ||
	    (rc = spool_init(o->state, &e)) != 0)
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
	printf("installed profile \"%s\" serial %lld (scope %s, %zu rules, "
	    "expires %s)\n", p->id, (long long)p->serial,
	    profile_scope_name(p->scope), p->nrules, p->expires_str);
out:
	if (lockfd != -1)
		close(lockfd);
	json_decref(ans);
	net_response_free(&rs);
	profile_free(p);
	sig_seckey_free(sk);
	free(anchor);
	/* The token is a bearer credential until the server marks it used. */
	if (body != NULL)
		sodium_memzero(body, strlen(body));
	if (token != NULL)
		sodium_memzero(token, strlen(token));
	if (buf != NULL)
		sodium_memzero(buf, len);
	free(body);
	free(token);
	free(buf);
	return rc == 0 ? 0 : agent_fail(rc, &e);
}

/* Unlinks every entry of dir/sub (not following links), then the dir. */
static void
wipe_sub(const char *dir, const char *sub)
{
	struct dirent *de;
	char *d, *p;
	DIR *dp;

	if ((d = fs_path(dir, sub)) == NULL)
		return;
	if ((dp = opendir(d)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((p = fs_path(d, de->d_name)) != NULL)
				unlink(p);
			free(p);
		}
		closedir(dp);
	}
	rmdir(d);
	free(d);
}

/*
 * Wipes the state: the device key overwritten then removed first, then
 * every file the agent makes, then the directory if nothing else is in it.
 */
static int
wipe_state(const char *dir, struct muster_err *e)
{
	static const char *files[] = { AGENT_CFG, AGENT_ANCHOR,
	    AGENT_LASTCHECK, SPOOL_SEQ_FILE, SPOOL_DROPPED_FILE,
	    AGENT_LEAVING, AGENT_LOCK };
	static const char *subs[] = { AGENT_PROFILES, SPOOL_PENDING_DIR,
	    SPOOL_SENT_DIR };
	char *p;
	size_t i;
	int rc;

	if ((rc = devkey_wipe(dir, e)) != 0 && rc != MUSTER_ENOINPUT)
		return rc;
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++)
		wipe_sub(dir, subs[i]);
	for (i = 0; i < sizeof files / sizeof files[0]; i++)
		if ((p = fs_path(dir, files[i])) != NULL) {
			unlink(p);
			free(p);
		}
	if (rmdir(dir) == -1 && errno != ENOENT)
		fprintf(stderr, "%s: note: %s holds files muster-agent did not "
		    "make; left in place\n", AGENT_PROG, dir);
	return 0;
}

/* Marks the state as leaving (unenroll did not reach the server). */
static int
mark_leaving(const char *dir, struct muster_err *e)
{
	char *p, t[21], line[32];
	int rc;

	if ((p = fs_path(dir, AGENT_LEAVING)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	profile_time_format(time(NULL), t);
	snprintf(line, sizeof line, "%s\n", t);
	rc = fs_write_atomic(p, line, strlen(line), 0600, e);
	free(p);
	return rc;
}

int
cmd_unenroll(struct agent_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		AGENT_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct muster_err e = { 0 }, le = { 0 };
	struct state_cfg c;
	struct net_response rs;
	struct sig_seckey *sk = NULL;
	char t[21], *body = NULL;
	int k, ex, rc, lockfd = -1;

	memset(&rs, 0, sizeof rs);
	if ((k = agent_getopt(o, argc, argv, "", opts, unenroll_usage, NULL,
	    NULL, &ex)) < 0)
		return ex;
	if (k != argc)
		return agent_usage("unenroll", "unexpected argument \"%s\"",
		    argv[k]);
	if ((rc = state_open(o->state, 0, &e)) != 0 ||
	    (rc = state_lock(o->state, 0, &lockfd, &e)) != 0 ||
	    (rc = state_cfg_load(o->state, &c, &e)) != 0)
		goto out;
	if (c.device_id[0] == '\0') {
		if ((rc = wipe_state(o->state, &e)) == 0)
			printf("not enrolled with a server; the local state %s "
			    "was wiped\n", o->state);
		goto out;
	}
	if ((rc = devkey_load(o->state, &sk, &e)) != 0)
		goto out;
	profile_time_format(time(NULL), t);
	if (asprintf(&body, "{\"device\":\"%s\",\"time\":\"%s\"}",
	    c.device_id, t) == -1) {
		body = NULL;
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = call_post(c.server, c.pin, c.device_id, sk, UNENROLL_PATH, body,
	    strlen(body), &rs, &e);
	if (rc == 0)
		rc = net_outcome_rc(&rs, &e);
	if (rc == 0 && rs.status >= 500)
		rc = err_set(&e, MUSTER_ETEMP, "server answered HTTP %u",
		    rs.status);
	if (rc == MUSTER_ETEMP || rc == MUSTER_ETRUST) {
		char why[ERR_MSG_MAX];

		/* Keep everything; a later unenroll finishes the job. */
		snprintf(why, sizeof why, "%s", e.msg);
		if (mark_leaving(o->state, &le) != 0)
			e = le;
		else
			err_set(&e, rc, "%.300s; %.100s is marked as leaving: "
			    "run unenroll again later", why, o->state);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (rs.status != 200 && rs.status != 403) {
		rc = err_set(&e, rs.status == 401 ? MUSTER_ETRUST : MUSTER_EDATA,
		    "server refused to unenroll (HTTP %u)", rs.status);
		goto out;
	}
	/* Closed before the wipe removes the lock file. */
	close(lockfd);
	lockfd = -1;
	sig_seckey_free(sk);
	sk = NULL;
	if ((rc = wipe_state(o->state, &e)) != 0)
		goto out;
	printf("unenrolled device %s%s; the local state %s was wiped\n",
	    c.device_id, rs.status == 403 ? " (the server no longer knew it)" :
	    "", o->state);
out:
	if (lockfd != -1)
		close(lockfd);
	net_response_free(&rs);
	sig_seckey_free(sk);
	free(body);
	return rc == 0 ? 0 : agent_fail(rc, &e);
}
