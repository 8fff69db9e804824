/*
 * info: `muster-agent status` and `muster-agent explain`, which tell the
 * device's owner what the agent holds, what it reads and what would leave
 * the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/root.h"
#include "muster/rr.h"
#include "muster/report.h"
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "check.h"
#include "cmd.h"
#include "consent.h"
#include "device/device.h"
#include "info.h"
#include "spool.h"
#include "state.h"

static const char status_usage[] =
"usage: muster-agent [--state DIR] status\n"
"\n"
"Prints the trust anchor's key id, the device's scope, the server and\n"
"device id once enrolled, the installed profiles (id, serial, expiry),\n"
"the outcome of the last check and how many reports wait to be sent; on\n"
"a family device also that its results are sent randomized (the true\n"
"one 3 times in 4) and the consent given (when, the hash of its text, the\n"
"changes it allows; the text is in STATE/consent.txt).\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

static const char log_usage[] =
"usage: muster-agent [--state DIR] log\n"
"\n"
"Lists the compliance reports kept on this device: those waiting in the\n"
"state's spool/ directory and the newest 32 delivered, in sent/, with\n"
"seq, time, status and what the server answered.  Each is kept as the\n"
"exact bytes that were signed and sent (STATE/sent/SEQ.json), so the\n"
"device's owner can see what left the device.\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

static const char explain_usage[] =
"usage: muster-agent [--state DIR] explain\n"
"\n"
"Prints, for the installed profiles, every fact the agent will read on\n"
"this device (per rule, then every read in total), every change it may\n"
"make (on a family device, only those\n"
"the member's consent allows), and every field a compliance report\n"
"carries, so the device's owner can see what leaves the device.\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

/*
 * The options of every command here: only the common ones, no operand.
 * Returns 0 to go on, else -1 with *ex the exit code.
 */
static int
info_getopt(struct cmd_opts *o, int argc, char **argv, const char *usage,
    int *ex)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};

	return cmd_getopt_noargs(o, argc, argv, "", opts, usage, NULL, NULL,
	    ex);
}

/*
 * The preamble of status and explain: the options, then the state opened
 * and its anchor and installed profiles loaded (*list the caller's,
 * state_profiles_free).  Returns 0 to go on, else -1 with *ex the exit
 * code, the failure printed.
 */
static int
info_open(struct cmd_opts *o, int argc, char **argv, const char *usage,
    struct state_anchor *a, struct state_profile **list, size_t *n, int *ex)
{
	struct muster_err e = { 0 };
	int rc;

	if (info_getopt(o, argc, argv, usage, ex) != 0)
		return -1;
	if ((rc = state_open(o->state, 0, &e)) != 0 ||
	    (rc = state_anchor_load(o->state, a, &e)) != 0 ||
	    (rc = state_profiles_load(o->state, a, list, n, &e)) != 0) {
		*ex = cli_fail(rc, &e);
		return -1;
	}
	return 0;
}

/* The root, manifest and staleness lines of `status`. */
static void
status_trust(const char *dir, const struct state_anchor *a, time_t now)
{
	struct muster_err e = { 0 };
	struct manifest m;
	char hex[SIG_KEYID_HEX], t[TIMEFMT_LEN];
	int rc;

	if (!a->has_root) {
		sig_keyid_hex(a->pk.keyid, hex);
		printf("trust anchor: org key %s\n", hex);
	} else {
		timefmt_format(a->root.expires, t);
		printf("trust anchor: root version %lld, expires %s%s\n"
		    "              BLAKE2b-256 %s\n",
		    (long long)a->root.version, t, root_expired(&a->root, now) ?
		    " EXPIRED (trust stale)" : "", a->root.hash);
	}
	rc = state_manifest_load(dir, a, NULL, &m, &e);
	if (rc == MUSTER_ENOINPUT)
		return;
	if (rc != 0) {
		printf("manifest:     unusable (%s)\n", e.msg);
		return;
	}
	timefmt_format(m.expires, t);
	printf("manifest:     version %lld, %zu profile%s, expires %s%s\n",
	    (long long)m.version, m.nprofiles, m.nprofiles == 1 ? "" : "s", t,
	    manifest_expired(&m, now) ? " EXPIRED (policy stale)" : "");
}

/* The consent lines of `status` on a family device. */
static void
status_consent(const char *dir)
{
	struct muster_err e = { 0 };
	struct consent c;
	size_t i;
	int rc;

	if ((rc = consent_load(dir, &c, &e)) == MUSTER_ENOINPUT) {
		printf("consent:      none recorded: the agent changes nothing "
		    "on this device\n");
		return;
	}
	if (rc != 0) {
		printf("consent:      unreadable (%s): the agent changes "
		    "nothing on this device\n", e.msg);
		return;
	}
	printf("consent:      given %s with token %s\n"
	    "              text BLAKE2b-256 %s (%s/%s)\n", c.time, c.token,
	    c.text_hash, dir, CONSENT_TEXT_FILE);
	if (c.profile[0] != '\0')
		printf("              shown profile \"%s\" serial %lld\n",
		    c.profile, (long long)c.serial);
	if (c.nrules == 0)
		printf("              allows no change: every rule is only "
		    "reported\n");
	else {
		printf("              allows changes for:");
		for (i = 0; i < c.nrules; i++)
			printf("%s %s", i > 0 ? "," : "", c.rules[i].rule);
		printf("\n");
	}
	consent_free(&c);
}

int
info_cmd_status(struct cmd_opts *o, int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct state_anchor a;
	struct state_profile *list = NULL;
	struct state_lastcheck l;
	struct state_cfg c;
	struct stat st;
	char t[TIMEFMT_LEN], *lp = NULL;
	size_t n = 0, i, pending = 0;
	int64_t seq = 0, dropped = 0;
	time_t now = time(NULL);
	int ex, rc;

	if (info_open(o, argc, argv, status_usage, &a, &list, &n, &ex) != 0)
		return ex;
	printf("state:        %s\n", o->state);
	status_trust(o->state, &a, now);
	printf("scope:        %s\n"
	    "profiles:     %zu installed\n", profile_scope_name(a.scope), n);
	for (i = 0; i < n; i++)
		printf("  %-24s serial %-6lld expires %s%s (%zu rules)\n",
		    list[i].p->id, (long long)list[i].p->serial,
		    list[i].p->expires_str,
		    list[i].p->expires <= now ? " EXPIRED" : "",
		    list[i].p->nrules);
	if (state_cfg_load(o->state, &c, &e) == 0 && c.device_id[0] != '\0')
		printf("server:       %s\n"
		    "device id:    %s\n", c.server, c.device_id);
	else
		printf("server:       none (not enrolled)\n");
	if (spool_pending(o->state, &pending, &e) == 0 &&
	    spool_seq_get(o->state, &seq, &e) == 0 &&
	    spool_dropped_get(o->state, &dropped, &e) == 0)
		printf("reports:      %zu waiting in the spool, last seq %lld"
		    "%s\n", pending, (long long)seq, dropped > 0 ?
		    ", some dropped from a full spool" : "");
	if (a.scope == SCOPE_FAMILY) {
		printf("privacy:      results sent randomized: the true one %d "
		    "times in %d (epsilon %s\n              per rule); "
		    "`check` here shows the truth\n", PROTO_RR_KEEP_NUM,
		    PROTO_RR_KEEP_DEN, RR_EPSILON_TEXT);
		status_consent(o->state);
	}
	if ((lp = fs_path(o->state, STATE_LEAVING)) != NULL &&
	    lstat(lp, &st) == 0)
		printf("leaving:      an unenroll request is queued: nothing "
		    "is reported until the\n              server has it; run "
		    "muster-agent unenroll (or run) again\n");
	free(lp);
	rc = state_lastcheck_load(o->state, &l, &e);
	if (rc == 0) {
		timefmt_format(l.time, t);
		printf("last check:   %s %s (%u pass, %u fail, %u remediated, "
		    "%u error)\n", t, l.compliant ? "compliant" :
		    "noncompliant", l.pass, l.fail, l.remediated, l.error);
	} else if (rc == MUSTER_ENOINPUT) {
		printf("last check:   never\n");
		rc = 0;
	}
	state_profiles_free(list, n);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

void
info_report_fields(enum profile_scope scope)
{
	printf("A compliance report carries only:\n"
	    "  device      the random device id the server gave at "
	    "enrollment\n"
	    "  seq         a counter that increases with every report\n"
	    "  time        when the check ran\n"
	    "  profile     the profile id and serial checked\n"
	    "  status      compliant or noncompliant\n"
	    "  dropped     how many reports a full spool dropped\n"
	    "  results     per rule: its id and pass, fail, remediated or "
	    "error\n");
	if (scope == SCOPE_PERSONNEL)
		printf("  detail      per rule, the short reason shown by "
		    "`muster-agent check`\n"
		    "  model       the device's manufacturer and model\n");
	else
		printf("  (family scope: no reasons or details, only rule ids "
		    "and results)\n"
		    "  each family result is randomized before it leaves: "
		    "the true one %d times in %d,\n"
		    "  the other one otherwise, always the same (epsilon %s "
		    "per rule; docs/privacy.md)\n", PROTO_RR_KEEP_NUM,
		    PROTO_RR_KEEP_DEN, RR_EPSILON_TEXT);
}

/*
 * What a rule that changes the device may do: as its profile says
 * (personnel: limit NULL), or only if the member's consent covers it.
 */
static const char *
explain_change(const struct rule *r, const struct consent *limit,
    const char *what)
{
	if (limit == NULL)
		return what;
	if (consent_covers(limit, r))
		return r->kind == RULE_SETTING ? "sets it as above when run "
		    "with --remediate (your consent allows it)" :
		    "disables them for user 0 when run with --remediate "
		    "(your consent allows it)";
	return "nothing: your consent does not allow this change (reported "
	    "only)";
}

static void
explain_rule(const struct rule *r, const struct consent *limit)
{
	size_t i;

	printf("  - %s (%s, %s): %s\n", r->id, profile_kind_name(r->kind),
	    profile_severity_name(r->severity), r->title);
	switch (r->kind) {
	case RULE_MODEL_BAN:
		printf("      reads: manufacturer, model, build id\n"
		    "      bans:  %s", r->manufacturer);
		for (i = 0; i < r->nmodels; i++)
			printf("%s\"%s\"", i ? ", " : " ", r->models[i]);
		if (r->min_build != NULL)
			printf(" (unless build >= %s)", r->min_build);
		printf("\n      may change: nothing\n");
		break;
	case RULE_SETTING:
		printf("      reads: setting %s/%s (expected \"%s\")\n",
		    r->namespace, r->key, r->expect);
		if (r->action == ACTION_REMEDIATE && limit != NULL)
			printf("      may change: %s\n",
			    explain_change(r, limit, NULL));
		else if (r->action == ACTION_REMEDIATE)
			printf("      may change: sets %s/%s to \"%s\" when run "
			    "with --remediate\n", r->namespace, r->key,
			    r->expect);
		else
			printf("      may change: nothing (report only)\n");
		break;
	case RULE_PACKAGE_BAN:
		printf("      reads: whether these packages are installed and "
		    "enabled:");
		for (i = 0; i < r->npackages; i++)
			printf(" %s", r->packages[i]);
		printf("\n      may change: %s\n", r->action == ACTION_DISABLE ?
		    explain_change(r, limit, "disables them for user 0 when "
		    "run with --remediate") : "nothing (report only)");
		break;
	case RULE_OS_MIN:
		printf("      reads: Android version (needs %s or later)\n"
		    "      may change: nothing\n", r->min_version);
		break;
	case RULE_EGRESS_DENY:
		printf("      reads: remote addresses of open TCP connections "
		    "(kernel /proc/net/tcp, tcp6),\n"
		    "             compared on the device with %zu denied "
		    "range%s\n      may change: nothing\n", r->ncidrs,
		    r->ncidrs == 1 ? "" : "s");
		break;
	}
}

/* 1 if setting ns/key was listed by an earlier rule of the profiles. */
static int
setting_seen(const struct state_profile *list, size_t pi, size_t ri,
    const struct rule *r)
{
	const struct rule *q;
	size_t i, j;

	for (i = 0; i <= pi; i++)
		for (j = 0; j < list[i].p->nrules && (i < pi || j < ri); j++) {
			q = &list[i].p->rules[j];
			if (q->kind == RULE_SETTING &&
			    strcmp(q->namespace, r->namespace) == 0 &&
			    strcmp(q->key, r->key) == 0)
				return 1;
		}
	return 0;
}

/*
 * Every read the installed profiles cause on this device, each once:
 * the properties behind the facts, each setting, the package lists, the
 * socket table.  Personnel reports carry the model, so a personnel device
 * reads the facts whatever its rules.
 */
static void
explain_reads(const struct state_profile *list, size_t n,
    enum profile_scope scope)
{
	const struct rule *r;
	int facts = scope == SCOPE_PERSONNEL, pkgs = 0, net = 0, any = 0;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < list[i].p->nrules; j++) {
			r = &list[i].p->rules[j];
			facts |= r->kind == RULE_MODEL_BAN ||
			    r->kind == RULE_OS_MIN;
			pkgs |= r->kind == RULE_PACKAGE_BAN;
			net |= r->kind == RULE_EGRESS_DENY;
		}
	printf("Every read these profiles cause on this device:\n");
	if (facts) {
		printf("  property %s, %s, %s, %s (getprop on Android)%s\n",
		    DEVICE_PROP_MANUFACTURER, DEVICE_PROP_MODEL,
		    DEVICE_PROP_BUILD, DEVICE_PROP_OS,
		    scope == SCOPE_PERSONNEL ? ";\n    manufacturer and "
		    "model are sent in each report" : "");
		any = 1;
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < list[i].p->nrules; j++) {
			r = &list[i].p->rules[j];
			if (r->kind != RULE_SETTING ||
			    setting_seen(list, i, j, r))
				continue;
			printf("  setting %s/%s (settings get on Android)\n",
			    r->namespace, r->key);
			any = 1;
		}
	if (pkgs) {
		printf("  the lists of installed and of disabled packages (pm "
		    "list packages [-d]),\n    compared on the device with "
		    "the banned names; only those are reported\n");
		any = 1;
	}
	if (net) {
		printf("  the remote addresses of open TCP connections "
		    "(netlink sock_diag, else\n    /proc/net/tcp and tcp6), "
		    "compared on the device with the denied ranges\n");
		any = 1;
	}
	if (!any)
		printf("  nothing\n");
	printf("No profile can make it read an identifier: the Android ID, "
	    "Bluetooth and\nWi-Fi addresses and names, the device name, "
	    "serial numbers, IMEI, MEID,\nICCID, IMSI, the phone number or "
	    "accounts (profiles/README.md, \"Identifiers\").\n\n");
}

int
info_cmd_explain(struct cmd_opts *o, int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct state_anchor a;
	struct state_profile *list = NULL;
	struct consent cons;
	const struct consent *limit = NULL;
	char hex[SIG_KEYID_HEX];
	size_t n = 0, i, j;
	int ex, rc;

	if (info_open(o, argc, argv, explain_usage, &a, &list, &n, &ex) != 0)
		return ex;
	if ((rc = check_limit(o->state, a.scope, &cons, &limit, &e)) != 0) {
		state_profiles_free(list, n);
		return cli_fail(rc, &e);
	}
	if (a.has_root)
		printf("This device (scope %s) follows profiles signed by the "
		    "policy keys of the\norganisation's root of trust, version "
		    "%lld, and named by its scope's\nsigned manifest.\n\n",
		    profile_scope_name(a.scope), (long long)a.root.version);
	else {
		sig_keyid_hex(a.pk.keyid, hex);
		printf("This device (scope %s) follows profiles signed by org "
		    "key %s.\n\n", profile_scope_name(a.scope), hex);
	}
	if (n == 0)
		printf("No profile is installed: the agent reads nothing.\n\n");
	for (i = 0; i < n; i++) {
		printf("Profile %s, serial %lld, expires %s:\n", list[i].p->id,
		    (long long)list[i].p->serial, list[i].p->expires_str);
		for (j = 0; j < list[i].p->nrules; j++)
			explain_rule(&list[i].p->rules[j], limit);
		printf("\n");
	}
	explain_reads(list, n, a.scope);
	info_report_fields(a.scope);
	printf("\nThe agent never reads the IMEI or other hardware ids, the "
	    "phone number,\ncontacts, messages, call logs, location, files or "
	    "the names of other apps\nthan those listed above.  Reports go "
	    "only to the organisation's server,\nwhose key is pinned; each "
	    "report sent is kept in the state's sent/ directory.\n");
	if (a.scope == SCOPE_FAMILY)
		printf("\nThe consent you gave is in %s/%s (the text) and %s "
		    "(the receipt\nsent to the server).  You can leave at any "
		    "time: muster-agent unenroll\nasks the server to delete "
		    "this device's data and wipes the agent's state.\n",
		    o->state, CONSENT_TEXT_FILE, CONSENT_FILE);
	consent_free(&cons);
	state_profiles_free(list, n);
	return 0;
}

/* Prints one line of `log` for report seq in which. */
static void
log_line(const char *dir, enum spool_which which, int64_t seq)
{
	struct report_summary sum;
	char *json = NULL, sig[DEVKEY_SIG_B64], ack[SPOOL_ACK_MAX];
	size_t len = 0;

	if (spool_read(dir, which, seq, &json, &len, sig, NULL) != 0 ||
	    report_summary(json, len, &sum, NULL) != 0) {
		printf("%-8lld %-20s %-12s %s\n", (long long)seq, "?",
		    "?", "damaged");
		free(json);
		return;
	}
	if (which == SPOOL_SENT)
		spool_ack(dir, seq, ack, sizeof ack);
	else
		snprintf(ack, sizeof ack, "pending");
	printf("%-8lld %-20s %-12s %s\n", (long long)seq, sum.time,
	    sum.status, ack[0] != '\0' ? ack : "sent");
	free(json);
}

int
info_cmd_log(struct cmd_opts *o, int argc, char **argv)
{
	struct muster_err e = { 0 };
	int64_t *sent = NULL, *pend = NULL, dropped = 0;
	size_t ns = 0, np = 0, i;
	int ex, rc;

	if (info_getopt(o, argc, argv, log_usage, &ex) != 0)
		return ex;
	if ((rc = state_open(o->state, 0, &e)) != 0 ||
	    (rc = spool_list(o->state, SPOOL_SENT, &sent, &ns, &e)) != 0 ||
	    (rc = spool_list(o->state, SPOOL_PENDING, &pend, &np, &e)) != 0 ||
	    (rc = spool_dropped_get(o->state, &dropped, &e)) != 0)
		goto out;
	printf("%-8s %-20s %-12s %s\n", "SEQ", "TIME", "STATUS", "STATE");
	for (i = 0; i < ns; i++)
		log_line(o->state, SPOOL_SENT, sent[i]);
	for (i = 0; i < np; i++)
		log_line(o->state, SPOOL_PENDING, pend[i]);
	printf("%zu delivered report%s kept in %s/%s, %zu waiting in %s/%s",
	    ns, ns == 1 ? "" : "s", o->state, SPOOL_SENT_DIR, np, o->state,
	    SPOOL_PENDING_DIR);
	if (dropped > 0)
		printf(", %lld dropped from a full spool not yet reported",
		    (long long)dropped);
	printf("\n");
out:
	free(sent);
	free(pend);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
