/*
 * info: `muster-agent status` and `muster-agent explain`, which tell the
 * device's owner what the agent holds, what it reads and what would leave
 * the device.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "muster/profile.h"
#include "muster/sig.h"
#include "agent.h"

static const char status_usage[] =
"usage: muster-agent [--state DIR] status\n"
"\n"
"Prints the trust anchor's key id, the device's scope, the installed\n"
"profiles (id, serial, expiry) and the outcome of the last check.\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

static const char explain_usage[] =
"usage: muster-agent [--state DIR] explain\n"
"\n"
"Prints, for the installed profiles, every fact the agent will read on\n"
"this device, every change it may make, and every field a compliance\n"
"report carries, so the device's owner can see what leaves the device.\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

/* Opens the state and loads anchor and profiles for both commands. */
static int
load(struct agent_opts *o, struct state_anchor *a,
    struct state_profile **list, size_t *n, struct muster_err *e)
{
	int rc;

	if ((rc = state_open(o->state, 0, e)) != 0 ||
	    (rc = state_anchor_load(o->state, a, e)) != 0)
		return rc;
	return state_profiles_load(o->state, a, list, n, e);
}

int
cmd_status(struct agent_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		AGENT_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct muster_err e = { 0 };
	struct state_anchor a;
	struct state_profile *list = NULL;
	struct state_lastcheck l;
	char hex[SIG_KEYID_HEX], t[21];
	size_t n = 0, i;
	time_t now = time(NULL);
	int k, ex, rc;

	if ((k = agent_getopt(o, argc, argv, "", opts, status_usage, NULL,
	    NULL, &ex)) < 0)
		return ex;
	if (k != argc)
		return agent_usage("status", "unexpected argument \"%s\"",
		    argv[k]);
	if ((rc = load(o, &a, &list, &n, &e)) != 0)
		return agent_fail(rc, &e);
	sig_keyid_hex(a.pk.keyid, hex);
	printf("state:        %s\n"
	    "trust anchor: org key %s\n"
	    "scope:        %s\n"
	    "profiles:     %zu installed\n", o->state, hex,
	    profile_scope_name(a.scope), n);
	for (i = 0; i < n; i++)
		printf("  %-24s serial %-6lld expires %s%s (%zu rules)\n",
		    list[i].p->id, (long long)list[i].p->serial,
		    list[i].p->expires_str,
		    list[i].p->expires <= now ? " EXPIRED" : "",
		    list[i].p->nrules);
	rc = state_lastcheck_load(o->state, &l, &e);
	if (rc == 0) {
		profile_time_format(l.time, t);
		printf("last check:   %s %s (%u pass, %u fail, %u remediated, "
		    "%u error)\n", t, l.compliant ? "compliant" :
		    "noncompliant", l.pass, l.fail, l.remediated, l.error);
	} else if (rc == MUSTER_ENOINPUT) {
		printf("last check:   never\n");
		rc = 0;
	}
	state_profiles_free(list, n);
	return rc == 0 ? 0 : agent_fail(rc, &e);
}

static void
explain_rule(const struct rule *r)
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
		if (r->action == ACTION_REMEDIATE)
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
		    "disables them for user 0 when run with --remediate" :
		    "nothing (report only)");
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

int
cmd_explain(struct agent_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		AGENT_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct muster_err e = { 0 };
	struct state_anchor a;
	struct state_profile *list = NULL;
	char hex[SIG_KEYID_HEX];
	size_t n = 0, i, j;
	int k, ex, rc;

	if ((k = agent_getopt(o, argc, argv, "", opts, explain_usage, NULL,
	    NULL, &ex)) < 0)
		return ex;
	if (k != argc)
		return agent_usage("explain", "unexpected argument \"%s\"",
		    argv[k]);
	if ((rc = load(o, &a, &list, &n, &e)) != 0)
		return agent_fail(rc, &e);
	sig_keyid_hex(a.pk.keyid, hex);
	printf("This device (scope %s) follows profiles signed by org key "
	    "%s.\n\n", profile_scope_name(a.scope), hex);
	if (n == 0)
		printf("No profile is installed: the agent reads nothing.\n\n");
	for (i = 0; i < n; i++) {
		printf("Profile %s, serial %lld, expires %s:\n", list[i].p->id,
		    (long long)list[i].p->serial, list[i].p->expires_str);
		for (j = 0; j < list[i].p->nrules; j++)
			explain_rule(&list[i].p->rules[j]);
		printf("\n");
	}
	printf("A compliance report carries only:\n"
	    "  device      the random device id the server gave at "
	    "enrollment\n"
	    "  seq         a counter that increases with every report\n"
	    "  time        when the check ran\n"
	    "  profile     the profile id and serial checked\n"
	    "  status      compliant or noncompliant\n"
	    "  results     per rule: its id and pass, fail, remediated or "
	    "error\n");
	if (a.scope == SCOPE_PERSONNEL)
		printf("  detail      per rule, the short reason shown by "
		    "`muster-agent check`\n");
	else
		printf("  (family scope: no reasons or details, only rule ids "
		    "and results)\n");
	printf("\nThe agent never reads the IMEI or other hardware ids, the "
	    "phone number,\ncontacts, messages, call logs, location, files or "
	    "the names of other apps\nthan those listed above.  Reports go "
	    "only to the organisation's server,\nwhose key is pinned; each "
	    "report sent is kept in the state's sent/ directory.\n");
	state_profiles_free(list, n);
	return 0;
}
