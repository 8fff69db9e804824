/* consent: a family member's consent; see agent/consent.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/fs.h"
#include "muster/oracle.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "consent.h"

#define CONSENT_CHANGE_TAG	"muster-change-v1"
#define ANSWER_MAX		64	/* bytes of a typed answer kept */

/*
 * The text every family member reads before enrolling.  Its words are
 * part of the hash the receipt carries: change them only with the
 * version line, so that a hash always names one wording.
 */
static const char consent_base[] =
"muster-consent-v2\n"
"Family enrollment: what the organisation will and will not see\n"
"\n"
"The organisation's server receives, with each report, only:\n"
"  - a random device id made at enrollment (not the IMEI or any other\n"
"    hardware id), a counter, and the time of the check\n"
"  - the id and serial of the profile checked\n"
"  - for each rule of the profile, its id and an answer, pass or fail,\n"
"    that this phone randomizes before it leaves: the true result 3\n"
"    times in 4, the opposite 1 time in 4, drawn once per rule and true\n"
"    result from a secret only this phone holds, so that the same\n"
"    answer repeats and many reports cannot be averaged; and whether\n"
"    every answer is pass\n"
"So whatever the organisation holds (its database, its backups, every\n"
"report it ever received, phones it enrolls itself), its best guess of\n"
"your true result on a rule is right at most 3 times in 4 (epsilon =\n"
"ln 3 per rule).  It sees how many phones fail a rule only as an\n"
"estimate over hundreds of phones.  `muster-agent check` shows you the\n"
"true results.\n"
"It also keeps the unit and person named in your enrollment token, when\n"
"you enrolled, and this consent; and it sees the network address the\n"
"phone connects from, as every server does.\n"
"\n"
"It never receives the reasons behind a result, nor your phone's model,\n"
"build, settings, apps or connections.  The agent never reads the IMEI\n"
"or other hardware ids, the phone number, contacts, messages, call logs,\n"
"location, photos or files.\n"
"\n"
"To check a rule the agent reads on the phone only what the rule names:\n"
"the manufacturer, model, build or Android version; a named setting;\n"
"whether named apps are installed and enabled; the addresses of open\n"
"connections, compared on the phone with the ranges the rule names.\n"
"\n"
"The agent changes the phone only for the rules listed below as changes\n"
"you allow, and only as shown there.  Every other rule, and every rule\n"
"the organisation adds or changes later, is only reported.\n"
"\n"
"You can leave at any time with `muster-agent unenroll`: the server then\n"
"deletes this phone's data (its reports, their history and this\n"
"consent) and the agent wipes its own, its secret included.\n"
"`muster-agent explain` shows what the agent reads; `muster-agent log`\n"
"shows each report that left the phone.\n";

const char *
consent_text_base(void)
{
	return consent_base;
}

/* Writes s with control characters shown as '?'. */
static void
put_clean(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

int
consent_rule_changes(const struct rule *r)
{
	return (r->kind == RULE_SETTING && r->action == ACTION_REMEDIATE) ||
	    (r->kind == RULE_PACKAGE_BAN && r->action == ACTION_DISABLE);
}

/* One rule of the profile section: what it reads and may change. */
static void
text_rule(FILE *f, const struct rule *r, int report_only)
{
	char reveals[256];
	size_t i;

	fputs("  - ", f);
	put_clean(f, r->id);
	fputs(": ", f);
	put_clean(f, r->title);
	fputs("\n      reads: ", f);
	switch (r->kind) {
	case RULE_MODEL_BAN:
		fputs("the manufacturer, model and build", f);
		break;
	case RULE_SETTING:
		fputs("the setting ", f);
		put_clean(f, r->namespace);
		fputc('/', f);
		put_clean(f, r->key);
		break;
	case RULE_PACKAGE_BAN:
		fputs("whether these apps are installed and enabled:", f);
		for (i = 0; i < r->npackages; i++) {
			fputc(' ', f);
			put_clean(f, r->packages[i]);
		}
		break;
	case RULE_OS_MIN:
		fputs("the Android version", f);
		break;
	case RULE_EGRESS_DENY:
		fprintf(f, "the open connections, compared on the phone with "
		    "%zu range%s", r->ncidrs, r->ncidrs == 1 ? "" : "s");
		break;
	}
	oracle_rule_reveals(r, reveals, sizeof reveals);
	fputs("\n      its result tells: ", f);
	put_clean(f, reveals);
	fprintf(f, "\n      the answer sent: the true result %d times in %d\n"
	    "      ", PROTO_RR_KEEP_NUM, PROTO_RR_KEEP_DEN);
	if (!consent_rule_changes(r))
		fputs("changes nothing: reported only\n", f);
	else if (report_only)
		fputs("changes nothing: reported only (you allow no change)\n",
		    f);
	else if (r->kind == RULE_SETTING) {
		fputs("you allow: set ", f);
		put_clean(f, r->namespace);
		fputc('/', f);
		put_clean(f, r->key);
		fputs(" to \"", f);
		put_clean(f, r->expect);
		fputs("\"\n", f);
	} else
		fputs("you allow: disable those apps\n", f);
}

/* A group of rules that tell more together (muster/oracle.h). */
static void
text_together(const struct oracle_finding *o, void *arg)
{
	FILE *f = arg;

	fputs("Together: ", f);
	put_clean(f, o->msg);
	fputs(" (each answer still randomized as above).\n", f);
}

int
consent_text(const struct profile *p, int report_only, char **out,
    size_t *len, struct muster_err *e)
{
	FILE *f;
	size_t i, n = 0;
	char *buf = NULL;

	*out = NULL;
	*len = 0;
	if ((f = open_memstream(&buf, len)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	fputs(consent_base, f);
	fputc('\n', f);
	if (p == NULL)
		fputs("No family profile is published yet: the agent will "
		    "change nothing\non this phone, and report only on the "
		    "rules published later.\n", f);
	else {
		fputs("The rules of the family profile \"", f);
		put_clean(f, p->id);
		fprintf(f, "\" serial %lld, signed with the\norganisation's "
		    "key:\n", (long long)p->serial);
		for (i = 0; i < p->nrules; i++) {
			text_rule(f, &p->rules[i], report_only);
			n += !report_only && consent_rule_changes(&p->rules[i]);
		}
		(void)oracle_scan(p, text_together, f);
		if (n == 0)
			fputs("Changes you allow: none; every rule is only "
			    "reported.\n", f);
		else
			fprintf(f, "Changes you allow: %zu, as listed above.\n",
			    n);
	}
	if (fclose(f) != 0 || buf == NULL) {
		free(buf);
		*len = 0;
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	*out = buf;
	return 0;
}

/* Adds s and its NUL: fields cannot run into each other. */
static void
hash_str(crypto_generichash_state *h, const char *s)
{
	if (s == NULL)
		s = "";
	crypto_generichash_update(h, (const unsigned char *)s, strlen(s) + 1);
}

void
consent_change_hash(const struct rule *r, char out[CONSENT_HASH_HEX])
{
	unsigned char h[CONSENT_HASH_BYTES];
	crypto_generichash_state st;
	size_t i;

	crypto_generichash_init(&st, NULL, 0, sizeof h);
	hash_str(&st, CONSENT_CHANGE_TAG);
	hash_str(&st, r->id);
	hash_str(&st, profile_kind_name(r->kind));
	hash_str(&st, profile_action_name(r->action));
	if (r->kind == RULE_SETTING) {
		hash_str(&st, r->namespace);
		hash_str(&st, r->key);
		hash_str(&st, r->expect);
	} else if (r->kind == RULE_PACKAGE_BAN)
		for (i = 0; i < r->npackages; i++)
			hash_str(&st, r->packages[i]);
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, CONSENT_HASH_HEX, h, sizeof h);
}

void
consent_free(struct consent *c)
{
	if (c == NULL)
		return;
	free(c->rules);
	memset(c, 0, sizeof *c);
}

void
consent_reads_hash(const struct profile *p, char out[CONSENT_HASH_HEX])
{
	crypto_generichash_state st;
	unsigned char h[CONSENT_HASH_BYTES];
	const struct rule *r;
	char buf[32];
	size_t i, j;

#define PUT(s)	crypto_generichash_update(&st, (const unsigned char *)(s), \
		    strlen(s) + 1)
	crypto_generichash_init(&st, NULL, 0, sizeof h);
	PUT("muster-reads-v1");
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		PUT(r->id);
		PUT(profile_kind_name(r->kind));
		if (r->kind == RULE_SETTING) {
			PUT(r->namespace);
			PUT(r->key);
		}
		for (j = 0; r->kind == RULE_PACKAGE_BAN && j < r->npackages;
		    j++)
			PUT(r->packages[j]);
		for (j = 0; r->kind == RULE_EGRESS_DENY && j < r->ncidrs;
		    j++) {
			crypto_generichash_update(&st, r->cidrs[j].addr,
			    sizeof r->cidrs[j].addr);
			snprintf(buf, sizeof buf, "%d/%u", r->cidrs[j].family,
			    r->cidrs[j].prefix);
			PUT(buf);
		}
	}
#undef PUT
	crypto_generichash_final(&st, h, sizeof h);
	sodium_bin2hex(out, CONSENT_HASH_HEX, h, sizeof h);
}

int
consent_make(struct consent *c, const char *text, size_t len,
    const char *token, time_t t, const struct profile *p, const char *hash,
    int report_only, struct muster_err *e)
{
	unsigned char h[CONSENT_HASH_BYTES];
	size_t i;

	memset(c, 0, sizeof *c);
	crypto_generichash(h, sizeof h, (const unsigned char *)text, len, NULL,
	    0);
	sodium_bin2hex(c->text_hash, sizeof c->text_hash, h, sizeof h);
	timefmt_format(t, c->time);
	snprintf(c->token, sizeof c->token, "%s", token);
	if (p == NULL)
		return 0;
	snprintf(c->profile, sizeof c->profile, "%s", p->id);
	c->serial = p->serial;
	if (hash != NULL)
		snprintf(c->hash, sizeof c->hash, "%s", hash);
	if (report_only || p->nrules == 0)
		return 0;
	if ((c->rules = calloc(p->nrules, sizeof *c->rules)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	for (i = 0; i < p->nrules; i++) {
		if (!consent_rule_changes(&p->rules[i]))
			continue;
		snprintf(c->rules[c->nrules].rule, sizeof c->rules[0].rule,
		    "%s", p->rules[i].id);
		consent_change_hash(&p->rules[i], c->rules[c->nrules].change);
		c->nrules++;
	}
	return 0;
}

json_t *
consent_json(const struct consent *c)
{
	json_t *o, *list = NULL, *r;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	if (json_object_set_new(o, "text_hash", json_string(c->text_hash)) ||
	    json_object_set_new(o, "time", json_string(c->time)) ||
	    json_object_set_new(o, "token", json_string(c->token)))
		goto fail;
	if (c->profile[0] != '\0' && (json_object_set_new(o, "profile",
	    json_string(c->profile)) || json_object_set_new(o, "serial",
	    json_integer(c->serial))))
		goto fail;
	if (c->profile[0] != '\0' && c->hash[0] != '\0' &&
	    json_object_set_new(o, "hash", json_string(c->hash)))
		goto fail;
	if ((list = json_array()) == NULL)
		goto fail;
	for (i = 0; i < c->nrules; i++)
		if ((r = json_pack("{s:s,s:s}", "rule", c->rules[i].rule,
		    "change", c->rules[i].change)) == NULL ||
		    json_array_append_new(list, r) != 0)
			goto fail;
	if (json_object_set_new(o, "remediate", list) != 0) {
		list = NULL;
		goto fail;
	}
	return o;
fail:
	json_decref(list);
	json_decref(o);
	return NULL;
}

int
consent_parse(const char *name, const char *buf, size_t len,
    struct consent *c, struct muster_err *e)
{
	static const char *const keys[] = { "text_hash", "time", "token",
	    "profile", "serial", "hash", "remediate", NULL };
	const char *hash, *t, *tok, *prof = NULL, *rule, *chg, *ph = NULL;
	json_t *o = NULL, *list, *it;
	json_int_t serial = 0;
	time_t when;
	size_t i, j;
	int rc = MUSTER_EDATA;

	memset(c, 0, sizeof *c);
	if (len > CONSENT_MAX || (o = json_loadb(buf, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL || !json_is_object(o)) {
		err_set(e, rc, "%s: not a consent receipt", name);
		goto out;
	}
	if (!proto_json_keys_ok(o, keys)) {
		err_set(e, rc, "%s: unknown field", name);
		goto out;
	}
	if (json_unpack(o, "{s:s,s:s,s:s,s:o,s?s,s?I,s?s}", "text_hash",
	    &hash, "time", &t, "token", &tok, "remediate", &list, "profile",
	    &prof, "serial", &serial, "hash", &ph) != 0 ||
	    !proto_hex_ok(hash, CONSENT_HASH_HEX - 1) || (ph != NULL &&
	    (prof == NULL || !proto_hex_ok(ph, CONSENT_HASH_HEX - 1))) ||
	    timefmt_parse(t, &when) != 0 ||
	    !proto_hex_ok(tok, TOKEN_ID_HEX - 1) || !json_is_array(list) ||
	    json_array_size(list) > PROFILE_MAX_RULES ||
	    (prof != NULL && (!proto_id_ok(prof) || serial < 1)) ||
	    (prof == NULL && json_object_get(o, "serial") != NULL)) {
		err_set(e, rc, "%s: malformed consent receipt", name);
		goto out;
	}
	memcpy(c->text_hash, hash, sizeof c->text_hash);
	snprintf(c->time, sizeof c->time, "%s", t);
	memcpy(c->token, tok, sizeof c->token);
	if (prof != NULL) {
		snprintf(c->profile, sizeof c->profile, "%s", prof);
		c->serial = serial;
	}
	if (ph != NULL)
		memcpy(c->hash, ph, sizeof c->hash);
	if (json_array_size(list) > 0 && (c->rules = calloc(
	    json_array_size(list), sizeof *c->rules)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	json_array_foreach(list, i, it) {
		if (json_unpack(it, "{s:s,s:s!}", "rule", &rule, "change",
		    &chg) != 0 || !proto_id_ok(rule) ||
		    !proto_hex_ok(chg, CONSENT_HASH_HEX - 1)) {
			err_set(e, rc, "%s: malformed remediate entry %zu",
			    name, i + 1);
			goto out;
		}
		for (j = 0; j < c->nrules; j++)
			if (strcmp(c->rules[j].rule, rule) == 0) {
				err_set(e, rc, "%s: rule \"%s\" listed twice",
				    name, rule);
				goto out;
			}
		snprintf(c->rules[i].rule, sizeof c->rules[i].rule, "%s", rule);
		memcpy(c->rules[i].change, chg, sizeof c->rules[i].change);
		c->nrules++;
	}
	rc = 0;
out:
	if (rc != 0)
		consent_free(c);
	json_decref(o);
	return rc;
}

int
consent_store(const char *dir, const char *receipt, size_t rlen,
    const char *text, size_t tlen, struct muster_err *e)
{
	char *rp = NULL, *tp = NULL;
	int rc;

	if ((rp = fs_path(dir, CONSENT_FILE)) == NULL ||
	    (tp = fs_path(dir, CONSENT_TEXT_FILE)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* The text first: a receipt is never without the words it names. */
	if ((rc = fs_write_atomic(tp, text, tlen, 0600, e)) != 0)
		goto out;
	rc = fs_write_atomic(rp, receipt, rlen, 0600, e);
out:
	free(rp);
	free(tp);
	return rc;
}

int
consent_load(const char *dir, struct consent *c, struct muster_err *e)
{
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	int rc;

	memset(c, 0, sizeof *c);
	if ((path = fs_path(dir, CONSENT_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = fs_read_private(path, CONSENT_MAX, &buf, &len, e)) != 0)
		goto out;
	if ((rc = consent_parse(path, buf, len, c, e)) == MUSTER_EDATA)
		rc = MUSTER_ECONFIG;
out:
	free(buf);
	free(path);
	return rc;
}

int
consent_covers(const struct consent *c, const struct rule *r)
{
	char h[CONSENT_HASH_HEX];
	size_t i;

	if (c == NULL || !consent_rule_changes(r))
		return 0;
	for (i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].rule, r->id) == 0) {
			consent_change_hash(r, h);
			return strcmp(c->rules[i].change, h) == 0;
		}
	return 0;
}

/*
 * Shows the consent text on the terminal tty (when stdout is not that
 * terminal) and asks for "yes".  Returns 0 for yes, else MUSTER_EUSAGE.
 */
int
consent_ask(int tty, const char *text, size_t len, struct muster_err *e)
{
	static const char prompt[] = "\nType yes to agree and enroll this "
	    "phone (anything else stops): ";
	char ans[ANSWER_MAX + 1], ch;
	size_t n = 0;
	ssize_t r;

	if (!isatty(STDOUT_FILENO) && (fs_write_all(tty, text, len) != 0))
		return err_sys(e, MUSTER_EUSAGE, "/dev/tty");
	if (fs_write_all(tty, prompt, sizeof prompt - 1) != 0)
		return err_sys(e, MUSTER_EUSAGE, "/dev/tty");
	for (;;) {
		r = read(tty, &ch, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r != 1 || ch == '\n')
			break;
		if (n < ANSWER_MAX)
			ans[n++] = ch;
	}
	while (n > 0 && (ans[n - 1] == '\r' || ans[n - 1] == ' '))
		n--;
	ans[n] = '\0';
	if (strcmp(ans, CONSENT_ANSWER) != 0)
		return err_set(e, MUSTER_EUSAGE, "consent not given: nothing "
		    "was enrolled, no key made, nothing kept");
	return 0;
}
