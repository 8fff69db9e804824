/*
 * profile: the policy profile format and its loader; see
 * include/muster/profile.h and profiles/README.md.
 *
 * The input is untrusted until its signature is checked and still parsed
 * defensively after: cfgtree (lib/cfgtree.c) reads its libconfig text,
 * capped in size, nesting and integer range, with no NUL byte or
 * @include, into a flat tree, then every field is checked against the
 * schema below.  A profile is read on every agent check, so it does not
 * go through libconfig itself, which took three quarters of the time.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/ascii.h"
#include "muster/buf.h"
#include "muster/cfgread.h"
#include "muster/cfgtree.h"
#include "muster/err.h"
#include "muster/esc.h"
#include "muster/ident.h"
#include "muster/profile.h"
#include "muster/timefmt.h"

#define QUOTE_SHOW	40	/* bytes of a bad value shown in a message */
#define QUOTE_SIZE	ESC_SIZE(QUOTE_SHOW)
#define VERSION_DIGITS	9	/* per component, so it fits an int */

struct ctx {
	const char		*name;	/* for messages */
	const struct cfgtree	*t;
	struct muster_err	*e;
};

enum field_type {
	FT_STRING,
	FT_INT,		/* int or int64 */
	FT_ARRAY,	/* [ ... ] */
	FT_LIST,	/* ( ... ) */
};

enum str_check {
	SC_TEXT,	/* printable, non-empty */
	SC_TEXT0,	/* printable, may be empty */
	SC_ID,
	SC_KEY,
	SC_PACKAGE,
	SC_VERSION,
};

static const char *const scope_names[] = {
	[SCOPE_PERSONNEL] = "personnel",
	[SCOPE_FAMILY] = "family",
};

static const char *const kind_names[] = {
	[RULE_MODEL_BAN] = "model-ban",
	[RULE_SETTING] = "setting",
	[RULE_PACKAGE_BAN] = "package-ban",
	[RULE_OS_MIN] = "os-min",
	[RULE_EGRESS_DENY] = "egress-deny",
};

static const char *const severity_names[] = {
	[SEV_LOW] = "low",
	[SEV_MEDIUM] = "medium",
	[SEV_HIGH] = "high",
	[SEV_CRITICAL] = "critical",
};

static const char *const action_names[] = {
	[ACTION_REPORT] = "report",
	[ACTION_REMEDIATE] = "remediate",
	[ACTION_DISABLE] = "disable",
};

static const char *const namespace_names[] = {
	"system", "secure", "global",
};

static const char *const top_fields[] = {
	"id", "serial", "expires", "scope", "title", "report_interval",
	"rules", NULL,
};

static const char *const common_fields[] = {
	"id", "kind", "severity", "title", "action", NULL,
};

static const char *const model_ban_fields[] = {
	"manufacturer", "models", "min_build", NULL,
};
static const char *const setting_fields[] = {
	"namespace", "key", "expect", NULL,
};
static const char *const package_ban_fields[] = { "packages", NULL };
static const char *const os_min_fields[] = { "min_version", NULL };
static const char *const egress_deny_fields[] = { "cidrs", NULL };

#define ACT(a)	(1u << (a))

static const struct kind_spec {
	const char *const	*fields;	/* besides common_fields */
	unsigned		 actions;	/* ACT() bits allowed */
	const char		*want;		/* the same, for messages */
} kind_specs[] = {
	[RULE_MODEL_BAN] = { model_ban_fields, ACT(ACTION_REPORT), "report" },
	[RULE_SETTING] = { setting_fields,
	    ACT(ACTION_REMEDIATE) | ACT(ACTION_REPORT), "remediate or report" },
	[RULE_PACKAGE_BAN] = { package_ban_fields,
	    ACT(ACTION_DISABLE) | ACT(ACTION_REPORT), "disable or report" },
	[RULE_OS_MIN] = { os_min_fields, ACT(ACTION_REPORT), "report" },
	[RULE_EGRESS_DENY] = { egress_deny_fields, ACT(ACTION_REPORT),
	    "report" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static int	perr(struct ctx *, int, const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/*
 * Records "name:line: label: message" (label may be NULL) as MUSTER_EDATA
 * and returns MUSTER_EDATA.
 */
static int
perr(struct ctx *c, int line, const char *label, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (label != NULL)
		return err_set(c->e, MUSTER_EDATA, "%s:%d: %s: %s", c->name,
		    line, label, msg);
	return err_set(c->e, MUSTER_EDATA, "%s:%d: %s", c->name, line, msg);
}

static int
oom(struct ctx *c)
{
	return err_set(c->e, MUSTER_EINTERNAL, "%s: out of memory", c->name);
}

static int
lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

static int
is_lower_alnum(int ch)
{
	return ascii_digit(ch) || (ch >= 'a' && ch <= 'z');
}

int
profile_valid_id(const char *s)
{
	size_t i;

	if (!is_lower_alnum((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= PROFILE_ID_MAX)
			return 0;
		if (!is_lower_alnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return 0;
	}
	return 1;
}

static int
charset_ok(const char *s, const char *extra)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!ascii_alnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

static int
version_ok(const char *s)
{
	size_t digits = 0;

	for (;; s++) {
		if (ascii_digit((unsigned char)*s)) {
			if (++digits > VERSION_DIGITS)
				return 0;
			continue;
		}
		if (digits == 0 || (*s != '.' && *s != '\0'))
			return 0;
		if (*s == '\0')
			return 1;
		digits = 0;
	}
}

/* Returns NULL if s passes check, or why it does not. */
static const char *
str_check(const char *s, enum str_check check)
{
	size_t len = strlen(s);

	if (len == 0 && check != SC_TEXT0)
		return "must not be empty";
	if (len > PROFILE_STR_MAX)
		return "is longer than 256 bytes";
	switch (check) {
	case SC_TEXT:
	case SC_TEXT0:
		if (!esc_text_ok(s, strlen(s)))
			return "contains a control character or bad UTF-8";
		break;
	case SC_ID:
		if (!profile_valid_id(s))
			return "is not an id (1 to 64 of a-z 0-9 . _ -, "
			    "starting with a-z or 0-9)";
		break;
	case SC_KEY:
		if (!charset_ok(s, "._-"))
			return "is not a settings key (A-Z a-z 0-9 . _ -)";
		break;
	case SC_PACKAGE:
		if (!charset_ok(s, "._"))
			return "is not a package name (A-Z a-z 0-9 . _)";
		break;
	case SC_VERSION:
		if (!version_ok(s))
			return "is not a version (dot-separated numbers "
			    "such as 4.4.4)";
		break;
	}
	return NULL;
}

static int
type_ok(const struct cfgtree_node *s, enum field_type type)
{
	switch (type) {
	case FT_STRING:
		return s->type == CFGTREE_STRING;
	case FT_INT:
		return s->type == CFGTREE_INT || s->type == CFGTREE_INT64;
	case FT_ARRAY:
		return s->type == CFGTREE_ARRAY;
	case FT_LIST:
		return s->type == CFGTREE_LIST;
	}
	return 0;
}

static const char *
type_want(enum field_type type)
{
	switch (type) {
	case FT_STRING:
		return "a string";
	case FT_INT:
		return "an integer";
	case FT_ARRAY:
		return "an array [ \"...\", ... ]";
	case FT_LIST:
		return "a list ( { ... }, ... )";
	}
	return "?";
}

/*
 * Looks up field in group g and checks its type.  Returns 1 with *out set
 * if present, 0 if absent and optional, or MUSTER_EDATA.
 */
static int
field(struct ctx *c, const struct cfgtree_node *g, const char *label,
    const char *name, enum field_type type, int required,
    const struct cfgtree_node **out)
{
	const struct cfgtree_node *s;

	*out = NULL;
	s = cfgtree_member(c->t, g, name);
	if (s == NULL) {
		if (required)
			return perr(c, cfgtree_line1(g), label,
			    "missing required field \"%s\"", name);
		return 0;
	}
	if (!type_ok(s, type))
		return perr(c, cfgtree_line1(s), label,
		    "field \"%s\" must be %s", name, type_want(type));
	*out = s;
	return 1;
}

/*
 * Reads string field name of g into *out (a copy the caller frees), checked
 * with check.  Returns 1, 0 if absent and optional, or a negative error.
 */
static int
str_field(struct ctx *c, const struct cfgtree_node *g, const char *label,
    const char *name, enum str_check check, int required, char **out)
{
	const struct cfgtree_node *s;
	const char *v, *why;
	char q[QUOTE_SIZE];
	int rc;

	if ((rc = field(c, g, label, name, FT_STRING, required, &s)) <= 0)
		return rc;
	v = s->str;
	if ((why = str_check(v, check)) != NULL)
		return perr(c, cfgtree_line1(s), label, "field \"%s\": %s %s",
		    name, esc_str(v, QUOTE_SHOW, ESC_QUOTED, q), why);
	if ((*out = strdup(v)) == NULL)
		return oom(c);
	return 1;
}

/*
 * Reads a name from a fixed set (kind, severity...) into *out as its index.
 * Returns 1, 0 if absent and optional, or MUSTER_EDATA.
 */
static int
enum_field(struct ctx *c, const struct cfgtree_node *g, const char *label,
    const char *name, const char *const *names, size_t n, const char *want,
    int required, int *out)
{
	const struct cfgtree_node *s;
	const char *v;
	char q[QUOTE_SIZE];
	int rc;

	if ((rc = field(c, g, label, name, FT_STRING, required, &s)) <= 0)
		return rc;
	v = s->str;
	if ((*out = lookup(names, n, v)) < 0)
		return perr(c, cfgtree_line1(s), label,
		    "unknown %s %s (want %s)", name,
		    esc_str(v, QUOTE_SHOW, ESC_QUOTED, q), want);
	return 1;
}

/*
 * Checks that array field name of g is present, not empty and within
 * PROFILE_MAX_LIST entries of strings.  Returns its length or MUSTER_EDATA.
 */
static int
array_field(struct ctx *c, const struct cfgtree_node *g, const char *label,
    const char *name, const struct cfgtree_node **out)
{
	const struct cfgtree_node *s;
	int i, n, rc;

	if ((rc = field(c, g, label, name, FT_ARRAY, 1, &s)) < 0)
		return rc;
	n = (int)s->n;
	if (n == 0)
		return perr(c, cfgtree_line1(s), label, "field \"%s\" is empty",
		    name);
	if (n > PROFILE_MAX_LIST)
		return perr(c, cfgtree_line1(s), label,
		    "field \"%s\" has more than %d entries", name,
		    PROFILE_MAX_LIST);
	for (i = 0; i < n; i++)
		if (cfgtree_elem(c->t, s, (size_t)i)->type != CFGTREE_STRING)
			return perr(c, cfgtree_line1(s), label,
			    "field \"%s\" must be an array of strings", name);
	*out = s;
	return n;
}

/*
 * Reads array-of-strings field name of g, each entry checked with check,
 * into a new vector *out of *n copies; on failure *out holds the entries
 * read so far (so the caller's free releases them).  Returns 0 or an error.
 */
static int
strv_field(struct ctx *c, const struct cfgtree_node *g, const char *label,
    const char *name, enum str_check check, char ***out, size_t *nout)
{
	const struct cfgtree_node *s, *el;
	const char *v, *why;
	char q[QUOTE_SIZE];
	int i, n;

	if ((n = array_field(c, g, label, name, &s)) < 0)
		return n;
	if ((*out = calloc((size_t)n, sizeof **out)) == NULL)
		return oom(c);
	for (i = 0; i < n; i++) {
		el = cfgtree_elem(c->t, s, (size_t)i);
		v = el->str;
		if ((why = str_check(v, check)) != NULL)
			return perr(c, cfgtree_line1(el), label,
			    "field \"%s\" entry %d: %s %s", name, i + 1,
			    esc_str(v, QUOTE_SHOW, ESC_QUOTED, q), why);
		if (((*out)[i] = strdup(v)) == NULL)
			return oom(c);
		(*nout)++;
	}
	return 0;
}

static int
cidrs_field(struct ctx *c, const struct cfgtree_node *g, const char *label,
    struct rule *r)
{
	const struct cfgtree_node *s, *el;
	const char *v;
	char q[QUOTE_SIZE];
	int i, n;

	if ((n = array_field(c, g, label, "cidrs", &s)) < 0)
		return n;
	if ((r->cidrs = calloc((size_t)n, sizeof *r->cidrs)) == NULL)
		return oom(c);
	for (i = 0; i < n; i++) {
		el = cfgtree_elem(c->t, s, (size_t)i);
		v = el->str;
		if (profile_cidr_parse(v, &r->cidrs[i]) == -1)
			return perr(c, cfgtree_line1(el), label,
			    "field \"cidrs\" entry %d: bad CIDR %s (want "
			    "ADDRESS/PREFIX with no host bits set)", i + 1,
			    esc_str(v, QUOTE_SHOW, ESC_QUOTED, q));
		r->ncidrs++;
	}
	return 0;
}

/* The fields of r its kind uses; r->kind is set. */
static int
parse_kind_fields(struct ctx *c, const struct cfgtree_node *g,
    const char *label, struct rule *r)
{
	int rc, ns;

	switch (r->kind) {
	case RULE_MODEL_BAN:
		if ((rc = str_field(c, g, label, "manufacturer", SC_TEXT, 1,
		    &r->manufacturer)) < 0)
			return rc;
		if ((rc = strv_field(c, g, label, "models", SC_TEXT,
		    &r->models, &r->nmodels)) < 0)
			return rc;
		if ((rc = str_field(c, g, label, "min_build", SC_TEXT, 0,
		    &r->min_build)) < 0)
			return rc;
		break;
	case RULE_SETTING:
		if ((rc = enum_field(c, g, label, "namespace", namespace_names,
		    NELEM(namespace_names), "system, secure or global", 1,
		    &ns)) < 0)
			return rc;
		if ((r->namespace = strdup(namespace_names[ns])) == NULL)
			return oom(c);
		if ((rc = str_field(c, g, label, "key", SC_KEY, 1,
		    &r->key)) < 0)
			return rc;
		if (ident_setting_denied(r->namespace, r->key))
			return perr(c, cfgtree_line1(cfgtree_member(c->t,
			    g, "key")), label, "setting %s/%s names an "
			    "identifier (%s); Muster never reads one "
			    "(profiles/README.md, \"Identifiers\")",
			    r->namespace, r->key, ident_marker(r->key) != NULL ?
			    ident_marker(r->key) : "on the deny-list");
		if ((rc = str_field(c, g, label, "expect", SC_TEXT0, 1,
		    &r->expect)) < 0)
			return rc;
		break;
	case RULE_PACKAGE_BAN:
		if ((rc = strv_field(c, g, label, "packages", SC_PACKAGE,
		    &r->packages, &r->npackages)) < 0)
			return rc;
		break;
	case RULE_OS_MIN:
		if ((rc = str_field(c, g, label, "min_version", SC_VERSION, 1,
		    &r->min_version)) < 0)
			return rc;
		break;
	case RULE_EGRESS_DENY:
		if ((rc = cidrs_field(c, g, label, r)) < 0)
			return rc;
		break;
	}
	return 0;
}

/* Returns 1 if name is a field of some rule kind. */
static int
other_kind_field(const char *name)
{
	size_t k;

	for (k = 0; k < NELEM(kind_specs); k++)
		if (cfgread_in(kind_specs[k].fields, name))
			return 1;
	return 0;
}

/* Parses rule number idx (from 0) of the rules list, group g, into r. */
static int
parse_rule(struct ctx *c, const struct cfgtree_node *g, int idx, struct rule *r)
{
	const struct kind_spec *ks;
	const struct cfgtree_node *s;
	const char *fname;
	char label[PROFILE_ID_MAX + 16];
	int i, n, rc, v;

	r->line = cfgtree_line1(g);
	snprintf(label, sizeof label, "rule #%d", idx + 1);
	if (g->type != CFGTREE_GROUP)
		return perr(c, r->line, label, "must be a group { ... }");
	if ((rc = str_field(c, g, label, "id", SC_ID, 1, &r->id)) < 0)
		return rc;
	snprintf(label, sizeof label, "rule \"%s\"", r->id);

	if ((rc = enum_field(c, g, label, "kind", kind_names,
	    NELEM(kind_names), "model-ban, setting, package-ban, os-min or "
	    "egress-deny", 1, &v)) < 0)
		return rc;
	r->kind = (enum rule_kind)v;
	ks = &kind_specs[r->kind];

	n = (int)g->n;
	for (i = 0; i < n; i++) {
		s = cfgtree_elem(c->t, g, (size_t)i);
		fname = s->name;
		if (cfgread_in(common_fields, fname) ||
		    cfgread_in(ks->fields, fname))
			continue;
		if (other_kind_field(fname))
			return perr(c, cfgtree_line1(s), label, "unknown field "
			    "\"%s\" (not used by %s rules)", fname,
			    kind_names[r->kind]);
		return perr(c, cfgtree_line1(s), label, "unknown field \"%s\"",
		    fname);
	}

	if ((rc = enum_field(c, g, label, "severity", severity_names,
	    NELEM(severity_names), "low, medium, high or critical", 1,
	    &v)) < 0)
		return rc;
	r->severity = (enum rule_severity)v;
	if ((rc = str_field(c, g, label, "title", SC_TEXT, 1,
	    &r->title)) < 0)
		return rc;

	r->action = ACTION_REPORT;
	if ((rc = enum_field(c, g, label, "action", action_names,
	    NELEM(action_names), "report, remediate or disable", 0,
	    &v)) < 0)
		return rc;
	if (rc == 1) {
		if ((ks->actions & ACT(v)) == 0) {
			s = cfgtree_member(c->t, g, "action");
			return perr(c, cfgtree_line1(s), label,
			    "action \"%s\" is not allowed for a %s rule "
			    "(want %s)", action_names[v], kind_names[r->kind],
			    ks->want);
		}
		r->action = (enum rule_action)v;
	}
	return parse_kind_fields(c, g, label, r);
}

/* FNV-1a of a rule id, for the duplicate check of parse_rules. */
static uint32_t
id_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/*
 * The index of the rule before i whose id rule i repeats, or -1 after
 * adding i to seen: an open-addressed set of rule indexes plus one
 * (0: free), of mask + 1 slots, at least twice the rules.
 */
static long
id_seen(uint32_t *seen, uint32_t mask, const struct rule *rules, size_t i)
{
	uint32_t k;

	for (k = id_hash(rules[i].id) & mask; seen[k] != 0; k = (k + 1) & mask)
		if (strcmp(rules[seen[k] - 1].id, rules[i].id) == 0)
			return (long)seen[k] - 1;
	seen[k] = (uint32_t)i + 1;
	return -1;
}

static int
parse_rules(struct ctx *c, const struct cfgtree_node *root, struct profile *p)
{
	const struct cfgtree_node *list;
	uint32_t *seen, mask;
	size_t i;
	long j;
	int n, rc;

	if ((rc = field(c, root, NULL, "rules", FT_LIST, 1, &list)) < 0)
		return rc;
	n = (int)list->n;
	if (n == 0)
		return perr(c, cfgtree_line1(list), NULL,
		    "field \"rules\" is empty");
	if (n > PROFILE_MAX_RULES)
		return perr(c, cfgtree_line1(list), NULL,
		    "more than %d rules", PROFILE_MAX_RULES);
	if ((p->rules = calloc((size_t)n, sizeof *p->rules)) == NULL)
		return oom(c);
	p->nrules = (size_t)n;
	for (mask = 1; mask < 2 * (uint32_t)n; mask <<= 1)
		;
	if ((seen = calloc(mask--, sizeof *seen)) == NULL)
		return oom(c);

	rc = 0;
	for (i = 0; i < p->nrules && rc == 0; i++) {
		rc = parse_rule(c, cfgtree_elem(c->t, list, i),
		    (int)i, &p->rules[i]);
		if (rc == 0 && (j = id_seen(seen, mask, p->rules, i)) >= 0)
			rc = perr(c, p->rules[i].line, NULL,
			    "rule \"%s\": duplicate rule id (first used at "
			    "line %d)", p->rules[i].id, p->rules[j].line);
	}
	free(seen);
	return rc < 0 ? rc : 0;
}

static int
parse_top(struct ctx *c, const struct cfgtree_node *root, struct profile *p)
{
	const struct cfgtree_node *s;
	const char *v;
	char q[QUOTE_SIZE];
	int i, n, rc, sc;

	n = (int)root->n;
	for (i = 0; i < n; i++) {
		s = cfgtree_elem(c->t, root, (size_t)i);
		if (!cfgread_in(top_fields, s->name))
			return perr(c, cfgtree_line1(s), NULL,
			    "unknown field \"%s\"", s->name);
	}

	if ((rc = str_field(c, root, NULL, "id", SC_ID, 1, &p->id)) < 0)
		return rc;

	if ((rc = field(c, root, NULL, "serial", FT_INT, 1, &s)) < 0)
		return rc;
	p->serial = s->ival;	/* FT_INT: an int or an int64 */
	if (p->serial < 1)
		return perr(c, cfgtree_line1(s), NULL,
		    "serial %" PRId64 " is less than 1", p->serial);

	if ((rc = field(c, root, NULL, "expires", FT_STRING, 1, &s)) < 0)
		return rc;
	v = s->str;
	if (timefmt_parse(v, &p->expires) == -1)
		return perr(c, cfgtree_line1(s), NULL, "bad expires %s (want "
		    "YYYY-MM-DDTHH:MM:SSZ, UTC)",
		    esc_str(v, QUOTE_SHOW, ESC_QUOTED, q));
	if ((p->expires_str = strdup(v)) == NULL)
		return oom(c);

	if ((rc = enum_field(c, root, NULL, "scope", scope_names,
	    NELEM(scope_names), "personnel or family", 1, &sc)) < 0)
		return rc;
	p->scope = (enum profile_scope)sc;

	if ((rc = str_field(c, root, NULL, "title", SC_TEXT, 0,
	    &p->title)) < 0)
		return rc;

	p->report_interval = PROFILE_DEFAULT_REPORT_INTERVAL;
	if ((rc = field(c, root, NULL, "report_interval", FT_INT, 0, &s)) < 0)
		return rc;
	if (rc == 1) {
		p->report_interval = s->ival;
		if (s->ival < PROFILE_MIN_REPORT_INTERVAL ||
		    s->ival > PROFILE_MAX_REPORT_INTERVAL)
			return perr(c, cfgtree_line1(s), NULL,
			    "report_interval %" PRId64 " is out of range "
			    "(%d to %d seconds)", p->report_interval,
			    PROFILE_MIN_REPORT_INTERVAL,
			    PROFILE_MAX_REPORT_INTERVAL);
	}

	return parse_rules(c, root, p);
}

int
profile_parse(const char *name, const char *buf, size_t len,
    struct profile **out, struct muster_err *e)
{
	struct ctx c;
	struct profile *p = NULL;
	struct cfgtree t;
	int rc;

	c.name = name != NULL ? name : "profile";
	c.t = &t;
	c.e = e;
	memset(&t, 0, sizeof t);
	if (out == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "%s: no place for the "
		    "profile", c.name);
		goto out;
	}
	*out = NULL;
	if ((rc = cfgtree_read(&t, c.name, "profile", buf, len,
	    PROFILE_MAX_BYTES, PROFILE_MAX_DEPTH, e)) < 0)
		goto out;

	if ((p = calloc(1, sizeof *p)) == NULL) {
		rc = oom(&c);
		goto out;
	}
	if ((rc = parse_top(&c, cfgtree_root(&t), p)) < 0)
		goto out;
	*out = p;
	p = NULL;
	rc = 0;
out:
	profile_free(p);
	cfgtree_free(&t);
	return rc;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
profile_free(struct profile *p)
{
	struct rule *r;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nrules; i++) {
		r = &p->rules[i];
		free(r->id);
		free(r->title);
		free(r->manufacturer);
		strv_free(r->models, r->nmodels);
		free(r->min_build);
		free(r->namespace);
		free(r->key);
		free(r->expect);
		strv_free(r->packages, r->npackages);
		free(r->min_version);
		free(r->cidrs);
	}
	free(p->rules);
	free(p->id);
	free(p->expires_str);
	free(p->title);
	free(p);
}

/* names[i], or "unknown" past the end of names (n of them). */
static const char *
name_of(const char *const *names, size_t n, size_t i)
{
	return i < n ? names[i] : "unknown";
}

const char *
profile_scope_name(enum profile_scope s)
{
	return name_of(scope_names, NELEM(scope_names), (size_t)s);
}

const char *
profile_kind_name(enum rule_kind k)
{
	return name_of(kind_names, NELEM(kind_names), (size_t)k);
}

const char *
profile_severity_name(enum rule_severity s)
{
	return name_of(severity_names, NELEM(severity_names), (size_t)s);
}

const char *
profile_action_name(enum rule_action a)
{
	return name_of(action_names, NELEM(action_names), (size_t)a);
}

int
profile_scope_parse(const char *s, enum profile_scope *out)
{
	int i;

	if (s == NULL || out == NULL ||
	    (i = lookup(scope_names, NELEM(scope_names), s)) < 0)
		return -1;
	*out = (enum profile_scope)i;
	return 0;
}

int
profile_cidr_parse(const char *s, struct cidr *c)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash, *pfx;
	struct cidr r;
	unsigned prefix = 0, bits, i;
	size_t alen;

	if (s == NULL || c == NULL || (slash = strchr(s, '/')) == NULL)
		return -1;
	alen = (size_t)(slash - s);
	if (alen == 0 || ascii_copyn(addr, sizeof addr, s, alen) != 0)
		return -1;

	/* Decimal, no sign, no leading zero, at most three digits. */
	pfx = slash + 1;
	if (pfx[0] == '\0' || strlen(pfx) > 3 ||
	    (pfx[0] == '0' && pfx[1] != '\0'))
		return -1;
	for (i = 0; pfx[i] != '\0'; i++) {
		if (!ascii_digit((unsigned char)pfx[i]))
			return -1;
		prefix = prefix * 10 + (unsigned)(pfx[i] - '0');
	}

	memset(&r, 0, sizeof r);
	if (strchr(addr, ':') != NULL) {
		r.family = AF_INET6;
		bits = 128;
	} else {
		r.family = AF_INET;
		bits = 32;
	}
	if (inet_pton(r.family, addr, r.addr) != 1 || prefix > bits)
		return -1;
	r.prefix = prefix;

	/* Host bits: the partial byte, then every byte after it. */
	if (prefix % 8 != 0 &&
	    (r.addr[prefix / 8] & (0xffu >> (prefix % 8))) != 0)
		return -1;
	for (i = (prefix + 7) / 8; i < bits / 8; i++)
		if (r.addr[i] != 0)
			return -1;
	*c = r;
	return 0;
}

int
profile_trusted_comment(const struct profile *p, char *buf, size_t size)
{
	char when[TIMEFMT_LEN];

	if (p == NULL || p->id == NULL) {
		if (buf != NULL && size > 0)
			buf[0] = '\0';
		return -1;
	}
	timefmt_format(p->expires, when);
	return buf_fmt(buf, size, "muster-profile id=%s serial=%" PRId64
	    " scope=%s expires=%s", p->id, p->serial,
	    profile_scope_name(p->scope), when);
}
