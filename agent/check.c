/*
 * check: `muster-agent check [--json] [--remediate]`.
 *
 * Every installed profile is verified again, then each rule evaluated.
 * The device is read only for what the rules need: identity facts only if
 * a model-ban or os-min rule exists, the socket table only if an
 * egress-deny rule does.  Without --remediate nothing on the device
 * changes; on a family device --remediate changes only what the member's
 * consent covers (agent/consent.h).  Exit 0 when every rule passed or was
 * remediated, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "muster/cli.h"
#include "muster/profile.h"
#include "muster/timefmt.h"
#include "muster/sigset.h"
#include "check.h"
#include "cmd.h"
#include "device/device.h"
#include "netscan.h"
#include "rules.h"
#include "state.h"


static const char check_usage[] =
"usage: muster-agent [--state DIR] [--device BACKEND] check [--json] "
"[--remediate]\n"
"\n"
"Evaluates every installed profile on the device and prints, per rule,\n"
"its severity, result (pass, fail, remediated, error) and the reason.\n"
"Exit 0 when compliant (every rule passed or was remediated), 1 when not.\n"
"\n"
"options:\n"
"  --json        print JSON instead of a table (see docs/check-json.md)\n"
"  --remediate   set settings and disable packages where the profile says\n"
"                so (on a family device only where the member's consent\n"
"                allows it); without it the device is not changed\n"
"  --device B    sim:FILE, android or android:BINDIR (default android)\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

struct check_args {
	int	json;
	int	remediate;
};

static void
print_table(const char *device, const struct state_profile *list, size_t n,
    const struct check_outcome *out, size_t nout, const struct state_lastcheck *l)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		const struct profile *p = list[i].p;

		printf("profile %s serial %lld (%s, expires %s%s) on %s\n",
		    p->id, (long long)p->serial,
		    profile_scope_name(p->scope), p->expires_str,
		    p->expires <= l->time ? ", EXPIRED" : "", device);
		printf("  %-28s %-9s %-11s %s\n", "RULE", "SEVERITY", "RESULT",
		    "REASON");
		for (; j < nout && out[j].p == p; j++)
			printf("  %-28s %-9s %-11s %s\n", out[j].r->id,
			    profile_severity_name(out[j].r->severity),
			    rules_result_name(out[j].o.result),
			    out[j].o.reason);
	}
	if (n == 0)
		printf("no profile installed: nothing to check\n");
	printf("status: %s (%u pass, %u fail, %u remediated, %u error)\n",
	    l->compliant ? "compliant" : "noncompliant", l->pass, l->fail,
	    l->remediated, l->error);
}

static int
print_json(const char *device, const struct state_profile *list, size_t n,
    const struct check_outcome *out, size_t nout, const struct state_lastcheck *l)
{
	json_t *root, *profiles, *rules;
	char t[TIMEFMT_LEN];
	size_t i;
	int rc;

	timefmt_format(l->time, t);
	profiles = json_array();
	rules = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(profiles, json_pack("{s:s,s:I,s:s,s:s,"
		    "s:b}", "id", list[i].p->id, "serial",
		    (json_int_t)list[i].p->serial, "scope",
		    profile_scope_name(list[i].p->scope), "expires",
		    list[i].p->expires_str, "expired",
		    list[i].p->expires <= l->time));
	for (i = 0; i < nout; i++)
		json_array_append_new(rules, json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:s,s:s}", "profile", out[i].p->id, "id", out[i].r->id,
		    "kind", profile_kind_name(out[i].r->kind), "severity",
		    profile_severity_name(out[i].r->severity), "title",
		    out[i].r->title, "result",
		    rules_result_name(out[i].o.result), "reason",
		    out[i].o.reason));
	root = json_pack("{s:s,s:s,s:s,s:o,s:{s:I,s:I,s:I,s:I},s:o}",
	    "status", l->compliant ? "compliant" : "noncompliant",
	    "time", t, "device", device, "profiles", profiles, "counts",
	    "pass", (json_int_t)l->pass, "fail", (json_int_t)l->fail,
	    "remediated", (json_int_t)l->remediated, "error",
	    (json_int_t)l->error, "rules", rules);
	if (root == NULL)
		return -1;
	rc = json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(root);
	return rc;
}

/* Says in o's reason that the rule was not remediated, and why. */
static void
not_covered(struct rule_outcome *o)
{
	static const char note[] = "; " CONSENT_NOTE;
	size_t n = strlen(o->reason);

	/* The note is what the reader needs most: cut the reason for it. */
	if (n > sizeof o->reason - sizeof note)
		n = sizeof o->reason - sizeof note;
	memcpy(o->reason + n, note, sizeof note);
}

int
check_limit(const char *dir, enum profile_scope scope, struct consent *c,
    const struct consent **limit, struct muster_err *e)
{
	int rc;

	*limit = NULL;
	memset(c, 0, sizeof *c);
	if (scope != SCOPE_FAMILY)
		return 0;
	if ((rc = consent_load(dir, c, e)) != 0 && rc != MUSTER_ENOINPUT)
		return rc;
	*limit = c;
	return 0;
}

int
check_consent_pending(const char *dir, const struct state_anchor *a,
    const struct state_profile *mine, const struct consent *c,
    struct state_profile *old)
{
	char h[SIGSET_HASH_HEX], r1[CONSENT_HASH_HEX], r2[CONSENT_HASH_HEX];

	memset(old, 0, sizeof *old);
	if (a->scope != SCOPE_FAMILY || c == NULL || c->profile[0] == '\0' ||
	    c->hash[0] == '\0')
		return 0;
	sigset_hash_hex(mine->bytes, mine->len, h);
	if (strcmp(h, c->hash) == 0 ||
	    state_consented_load(dir, a, old, NULL) != 0)
		return 0;
	sigset_hash_hex(old->bytes, old->len, h);
	consent_reads_hash(mine->p, r1);
	consent_reads_hash(old->p, r2);
	if (strcmp(h, c->hash) == 0 && strcmp(r1, r2) != 0)
		return 1;
	state_profile_clear(old);
	return 0;
}

int
check_eval(struct device *dev, const struct state_profile *list, size_t n,
    int remediate, int want_facts, const struct consent *limit,
    struct check_run *cr, struct muster_err *e)
{
	struct muster_err de = { 0 };
	struct rules_ctx ctx;
	struct netscan ns = { NULL, 0 };
	struct state_lastcheck *l = &cr->l;
	size_t total = 0, i, j;
	int need_facts = want_facts, need_net = 0;

	memset(cr, 0, sizeof *cr);
	memset(&ctx, 0, sizeof ctx);
	for (i = 0; i < n; i++) {
		total += list[i].p->nrules;
		for (j = 0; j < list[i].p->nrules; j++) {
			enum rule_kind kd = list[i].p->rules[j].kind;

			need_facts |= kd == RULE_MODEL_BAN || kd == RULE_OS_MIN;
			need_net |= kd == RULE_EGRESS_DENY;
		}
	}
	if (total > 0 && (cr->out = calloc(total, sizeof *cr->out)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	ctx.dev = dev;
	if (need_facts) {
		if (device_facts(dev, &ctx.facts, &de) == 0) {
			ctx.facts_ok = 1;
			cr->facts = ctx.facts;
			cr->facts_ok = 1;
		} else
			snprintf(ctx.facts_err, sizeof ctx.facts_err, "%.*s",
			    (int)sizeof ctx.facts_err - 1, de.msg);
	}
	if (need_net) {
		if (netscan_load_kernel(&ns, &de) == 0)
			ctx.net = &ns;
		else
			snprintf(ctx.net_err, sizeof ctx.net_err, "%.*s",
			    (int)sizeof ctx.net_err - 1, de.msg);
	}
	l->time = time(NULL);
	for (i = 0; i < n; i++)
		for (j = 0; j < list[i].p->nrules; j++, cr->nout++) {
			struct check_outcome *c = &cr->out[cr->nout];

			c->p = list[i].p;
			c->r = &list[i].p->rules[j];
			ctx.remediate = remediate && (limit == NULL ||
			    consent_covers(limit, c->r));
			rules_eval(c->r, &ctx, &c->o);
			if (remediate && !ctx.remediate &&
			    consent_rule_changes(c->r) &&
			    c->o.result == RESULT_FAIL)
				not_covered(&c->o);
			switch (c->o.result) {
			case RESULT_PASS: l->pass++; break;
			case RESULT_FAIL: l->fail++; break;
			case RESULT_REMEDIATED: l->remediated++; break;
			case RESULT_ERROR: l->error++; break;
			}
		}
	l->compliant = l->fail == 0 && l->error == 0;
	netscan_free(&ns);
	return 0;
}

void
check_run_free(struct check_run *cr)
{
	if (cr == NULL)
		return;
	free(cr->out);
	memset(cr, 0, sizeof *cr);
}

int
check_cmd(struct cmd_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "remediate", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_args ca = { 0, 0 };
	struct cmd_flag flags[] = { { 'j', &ca.json },
	    { 'r', &ca.remediate }, { 0, NULL } };
	struct muster_err e = { 0 };
	struct consent cons;
	const struct consent *limit = NULL;
	struct state_anchor a;
	struct state_profile *list = NULL;
	struct check_run cr;
	struct device *dev = NULL;
	size_t n = 0;
	int ex, rc;

	if (cmd_getopt_noargs(o, argc, argv, "", opts, check_usage,
	    cmd_flag_opt, flags, &ex) != 0)
		return ex;
	memset(&cr, 0, sizeof cr);
	memset(&cons, 0, sizeof cons);
	if ((rc = state_open(o->state, 0, &e)) != 0 ||
	    (rc = state_anchor_load(o->state, &a, &e)) != 0 ||
	    (rc = state_profiles_load(o->state, &a, &list, &n, &e)) != 0 ||
	    (rc = check_limit(o->state, a.scope, &cons, &limit, &e)) != 0)
		goto out;
	if ((rc = device_open(o->device, &dev, &e)) != 0)
		goto out;
	if ((rc = check_eval(dev, list, n, ca.remediate, 0, limit, &cr,
	    &e)) != 0)
		goto out;
	if ((rc = state_lastcheck_store(o->state, &cr.l, &e)) != 0)
		goto out;
	if (ca.json) {
		if (print_json(device_name(dev), list, n, cr.out, cr.nout,
		    &cr.l) != 0) {
			rc = err_set(&e, MUSTER_EINTERNAL, "JSON output failed");
			goto out;
		}
	} else
		print_table(device_name(dev), list, n, cr.out, cr.nout, &cr.l);
	rc = 0;
out:
	device_close(dev);
	state_profiles_free(list, n);
	consent_free(&cons);
	if (rc != 0) {
		check_run_free(&cr);
		return cli_fail(rc, &e);
	}
	rc = cr.l.compliant ? 0 : 1;
	check_run_free(&cr);
	return rc;
}
