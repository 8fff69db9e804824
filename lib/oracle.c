/* oracle: what family rules reveal together; see muster/oracle.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muster/oracle.h"
#include "muster/profile.h"
#include "muster/rr.h"

/* Appends to buf what fits. */
static void
cat(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 < size)
		snprintf(buf + n, size - n, "%s", s);
}

void
oracle_rule_reveals(const struct rule *r, char *buf, size_t size)
{
	char n[32];

	buf[0] = '\0';
	switch (r->kind) {
	case RULE_MODEL_BAN:
		snprintf(n, sizeof n, "%zu", r->nmodels);
		snprintf(buf, size, "whether the phone is one of %s %s "
		    "model%s named%s", n, r->manufacturer, r->nmodels == 1 ?
		    "" : "s", r->min_build != NULL ? ", on a build before "
		    "the fixed one" : "");
		break;
	case RULE_SETTING:
		snprintf(buf, size, "whether the setting %s/%s is \"%s\"",
		    r->namespace, r->key, r->expect);
		break;
	case RULE_PACKAGE_BAN:
		snprintf(buf, size, "whether any of %zu named app%s is "
		    "installed and enabled", r->npackages,
		    r->npackages == 1 ? "" : "s");
		break;
	case RULE_OS_MIN:
		snprintf(buf, size, "whether Android is older than %s",
		    r->min_version);
		break;
	case RULE_EGRESS_DENY:
		snprintf(buf, size, "whether the phone had an open "
		    "connection to one of %zu address range%s", r->ncidrs,
		    r->ncidrs == 1 ? "" : "s");
		break;
	}
}

static void
finding(const struct profile *p, const size_t *idx, size_t n,
    const char *what, void (*fn)(const struct oracle_finding *, void *),
    void *arg, size_t *refused)
{
	struct oracle_finding f;
	char eps[64];
	size_t i;

	if (n < 2)
		return;
	memset(&f, 0, sizeof f);
	f.refuse = n > ORACLE_MAX_PER_ATTR;
	f.line = p->rules[idx[0]].line;
	f.nrules = n;
	snprintf(f.msg, sizeof f.msg, "%zu rules (", n);
	for (i = 0; i < n && i < 8; i++) {
		cat(f.msg, sizeof f.msg, i > 0 ? ", " : "");
		cat(f.msg, sizeof f.msg, p->rules[idx[i]].id);
	}
	cat(f.msg, sizeof f.msg, i < n ? ", ...) " : ") ");
	cat(f.msg, sizeof f.msg, what);
	snprintf(eps, sizeof eps, "; together epsilon %zu x ln 3 = %.2f",
	    n, (double)n * RR_EPSILON);
	cat(f.msg, sizeof f.msg, eps);
	if (f.refuse) {
		snprintf(eps, sizeof eps, ", over the %d rules allowed on one "
		    "attribute", ORACLE_MAX_PER_ATTR);
		cat(f.msg, sizeof f.msg, eps);
	}
	(*refused) += (size_t)f.refuse;
	fn(&f, arg);
}

size_t
oracle_scan(const struct profile *p,
    void (*fn)(const struct oracle_finding *, void *), void *arg)
{
	static const struct {
		enum rule_kind	 kind;
		const char	*what;
	} kinds[] = {
		{ RULE_OS_MIN, "together narrow the Android version to one "
		    "of their ranges" },
		{ RULE_MODEL_BAN, "together tell which of the models they "
		    "name the phone is" },
		{ RULE_PACKAGE_BAN, "together tell which of the apps they "
		    "name are installed" },
		{ RULE_EGRESS_DENY, "together tell which of the address "
		    "ranges they name the phone talks to" },
	};
	size_t *idx = NULL, n, i, k, refused = 0;
	char what[256];
	unsigned char *done = NULL;

	if (p->scope != SCOPE_FAMILY || p->nrules < 2 ||
	    (idx = calloc(p->nrules, sizeof *idx)) == NULL ||
	    (done = calloc(p->nrules, 1)) == NULL) {
		free(idx);
		return 0;
	}
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		for (i = 0, n = 0; i < p->nrules; i++)
			if (p->rules[i].kind == kinds[k].kind)
				idx[n++] = i;
		finding(p, idx, n, kinds[k].what, fn, arg, &refused);
	}
	/* Settings: the rules on one key tell its value. */
	for (i = 0; i < p->nrules; i++) {
		const struct rule *r = &p->rules[i];

		if (r->kind != RULE_SETTING || done[i])
			continue;
		for (k = i, n = 0; k < p->nrules; k++) {
			const struct rule *s = &p->rules[k];

			if (s->kind == RULE_SETTING && !done[k] &&
			    strcmp(s->namespace, r->namespace) == 0 &&
			    strcmp(s->key, r->key) == 0) {
				idx[n++] = k;
				done[k] = 1;
			}
		}
		snprintf(what, sizeof what, "together tell the value of the "
		    "setting %s/%s", r->namespace, r->key);
		finding(p, idx, n, what, fn, arg, &refused);
	}
	free(idx);
	free(done);
	return refused;
}

static void
first_refused(const struct oracle_finding *f, void *arg)
{
	struct oracle_finding *first = arg;

	if (f->refuse && !first->refuse)
		*first = *f;
}

int
oracle_refusal(const struct profile *p, struct oracle_finding *first)
{
	memset(first, 0, sizeof *first);
	return oracle_scan(p, first_refused, first) > 0 ? 1 : 0;
}
