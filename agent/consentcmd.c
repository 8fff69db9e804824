/*
 * consentcmd: `muster-agent consent`; see agent/consentcmd.h.
 *
 * The receipt is made as at enrollment (consent_make over the text shown,
 * naming the profile by id, serial and the hash of its bytes) for the
 * token the device enrolled with, signed by the device key as the body of
 * POST /v1/consent.  The state changes only once the server has it: the
 * receipt and text (consent.json, consent.txt) and the consented copy of
 * the profile (consented.profile).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "muster/cli.h"
#include "muster/proto.h"
#include "muster/sigset.h"
#include "call.h"
#include "check.h"
#include "cmd.h"
#include "consent.h"
#include "consentcmd.h"
#include "devkey.h"
#include "net.h"
#include "state.h"

static const char consent_usage[] =
"usage: muster-agent [--state DIR] consent [--consent [--report-only]]\n"
"\n"
"On a family device: when the organisation's family profile changed what\n"
"the agent reads, the new profile waits (the device checks and reports\n"
"the profile you agreed to, and says consent is pending).  This shows\n"
"what changed and the consent text of the new profile, asks (type yes on\n"
"the terminal, or give --consent), and sends a new signed receipt to the\n"
"server.  Only then is the new profile checked.\n"
"\n"
"Exit 0 consented, or nothing waits; 64 consent not given (nothing sent,\n"
"nothing changed); 69 server unreachable (run it again later); 77 the\n"
"server refused it; 78 not a family device or not enrolled.\n"
"\n"
"options:\n"
"  --consent      the member agrees to the new profile as shown\n"
"  --report-only  allow no change to the device; every rule is reported\n"
"  --state DIR    the agent's state (default /var/lib/muster)\n"
"  --help         this text\n";

/* The rule of p with id, or NULL. */
static const struct rule *
find_rule(const struct profile *p, const char *id)
{
	size_t i;

	for (i = 0; i < p->nrules; i++)
		if (strcmp(p->rules[i].id, id) == 0)
			return &p->rules[i];
	return NULL;
}

/* 1 if two rules read the same things (consent_reads_hash of each). */
static int
same_reads(const struct rule *a, const struct rule *b)
{
	struct profile pa, pb;
	char ha[CONSENT_HASH_HEX], hb[CONSENT_HASH_HEX];

	memset(&pa, 0, sizeof pa);
	memset(&pb, 0, sizeof pb);
	pa.rules = (struct rule *)a;
	pa.nrules = 1;
	pb.rules = (struct rule *)b;
	pb.nrules = 1;
	consent_reads_hash(&pa, ha);
	consent_reads_hash(&pb, hb);
	return strcmp(ha, hb) == 0;
}

/* Prints the rules added, removed and changed from old to new. */
static void
show_changes(const struct profile *old, const struct profile *new)
{
	const struct rule *r;
	size_t i;

	printf("The family profile \"%s\" changed from serial %lld (agreed "
	    "to) to serial %lld:\n", new->id, (long long)old->serial,
	    (long long)new->serial);
	for (i = 0; i < new->nrules; i++) {
		if ((r = find_rule(old, new->rules[i].id)) == NULL)
			printf("  + %s (new rule)\n", new->rules[i].id);
		else if (!same_reads(r, &new->rules[i]))
			printf("  ~ %s (reads something else now)\n",
			    new->rules[i].id);
	}
	for (i = 0; i < old->nrules; i++)
		if (find_rule(new, old->rules[i].id) == NULL)
			printf("  - %s (removed)\n", old->rules[i].id);
	printf("\n");
}

/* The answer of POST /v1/consent as the error it stands for. */
static int
answered(const struct net_response *rs, struct muster_err *e)
{
	switch (rs->status) {
	case 200:
		return 0;
	case 400:
		return err_set(e, MUSTER_EDATA, "server: consent malformed "
		    "(HTTP 400)");
	case 401:
	case 403:
		return err_set(e, MUSTER_ETRUST, "server: device refused "
		    "(HTTP %u)", rs->status);
	default:
		return err_set(e, MUSTER_EUNAVAIL, "server answered HTTP %u; "
		    "try again later", rs->status);
	}
}

int
consentcmd(struct cmd_opts *o, int argc, char **argv)
{
	struct cmd_consent ca = { 0, 0 };
	struct cmd_flag flags[] = CMD_CONSENT_FLAGS(&ca);
	struct muster_err e = { 0 };
	struct state_anchor a;
	struct state_cfg c;
	struct state_profile *list = NULL, *mine = NULL, old;
	struct consent cons, next;
	struct sig_seckey *sk = NULL;
	struct net_response rs;
	json_t *obj = NULL;
	char *text = NULL, *body = NULL, server[URL_MAX + 1];
	char pins[ROOT_PINS_CURL_MAX], hash[SIGSET_HASH_HEX];
	size_t n = 0, tlen = 0, i;
	int ex, rc, tty = -1, lockfd = -1;

	memset(&old, 0, sizeof old);
	memset(&cons, 0, sizeof cons);
	memset(&next, 0, sizeof next);
	memset(&rs, 0, sizeof rs);
	if (cmd_getopt_noargs(o, argc, argv, "", cmd_consent_opts,
	    consent_usage, cmd_flag_opt, flags, &ex) != 0)
		return ex;
	if ((rc = state_open(o->state, 0, &e)) != 0 ||
	    (rc = state_lock(o->state, 0, &lockfd, &e)) != 0 ||
	    (rc = state_cfg_load(o->state, &c, &e)) != 0 ||
	    (rc = state_anchor_load(o->state, &a, &e)) != 0)
		goto out;
	if (a.scope != SCOPE_FAMILY || c.device_id[0] == '\0') {
		rc = err_set(&e, MUSTER_ECONFIG, "%s: not an enrolled family "
		    "device: there is no consent to give", o->state);
		goto out;
	}
	if ((rc = consent_load(o->state, &cons, &e)) != 0 ||
	    (rc = state_profiles_load(o->state, &a, &list, &n, &e)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(list[i].p->id, c.profile_id) == 0)
			mine = &list[i];
	if (mine == NULL || !check_consent_pending(o->state, &a, mine, &cons,
	    &old)) {
		printf("nothing waits for consent: the profile checked is the "
		    "one agreed to, or reads nothing new\n");
		rc = 0;
		goto out;
	}
	show_changes(old.p, mine->p);
	if ((rc = consent_text(mine->p, ca.report_only, &text, &tlen,
	    &e)) != 0)
		goto out;
	fwrite(text, 1, tlen, stdout);
	fflush(stdout);
	if (!ca.consent) {
		if ((tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) ==
		    -1) {
			rc = err_set(&e, MUSTER_EUSAGE, "consent needs the "
			    "member: run it on a terminal and answer yes, or "
			    "add --consent; nothing was sent");
			goto out;
		}
		if ((rc = consent_ask(tty, text, tlen, &e)) != 0)
			goto out;
	}
	sigset_hash_hex(mine->bytes, mine->len, hash);
	if ((rc = consent_make(&next, text, tlen, cons.token, time(NULL),
	    mine->p, hash, ca.report_only, &e)) != 0)
		goto out;
	if ((obj = consent_json(&next)) == NULL || (body = json_dumps(obj,
	    JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) ==
	    NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = state_endpoint(o->state, &c, server, pins, &e)) != 0 ||
	    (rc = devkey_load(o->state, &sk, &e)) != 0)
		goto out;
	if ((rc = call_post(server, pins, c.device_id, sk, PROTO_PATH_CONSENT,
	    body, strlen(body), &rs, &e)) != 0 ||
	    (rc = net_outcome_rc(&rs, &e)) != 0) {
		if (rc == MUSTER_ETEMP)
			rc = err_suffix(&e, MUSTER_EUNAVAIL, 400, "nothing "
			    "changed: run consent again later");
		goto out;
	}
	if ((rc = answered(&rs, &e)) != 0)
		goto out;
	/* The server has it: the copy first, then the receipt naming it. */
	if ((rc = state_consented_store(o->state, mine->bytes, mine->len,
	    mine->sig, mine->siglen, &e)) != 0 ||
	    (rc = consent_store(o->state, body, strlen(body), text, tlen,
	    &e)) != 0)
		goto out;
	printf("\nConsent given for profile \"%s\" serial %lld: text "
	    "BLAKE2b-256 %s\n", mine->p->id, (long long)mine->p->serial,
	    next.text_hash);
out:
	if (tty != -1)
		close(tty);
	if (lockfd != -1)
		close(lockfd);
	json_decref(obj);
	free(body);
	free(text);
	net_response_free(&rs);
	sig_seckey_free(sk);
	consent_free(&next);
	consent_free(&cons);
	state_profile_clear(&old);
	state_profiles_free(list, n);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
