/*
 * manifest: the per-scope list of the profiles a device must run; see
 * include/muster/manifest.h and docs/protocol.md "Manifests".
 *
 * Like a root, a manifest is capped and gated with cfgscan before
 * libconfig reads it; manifest_verify also checks the policy keys'
 * signatures over the bytes before it parses them.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "muster/cfgscan.h"
#include "muster/manifest.h"
#include "muster/timefmt.h"

#define MANIFEST_DEPTH	2	/* profiles = ( { ... } ) */

static const char *const top_fields[] = {
	"type", "scope", "version", "expires", "profiles", NULL,
};
static const char *const entry_fields[] = { "id", "serial", "hash", NULL };

struct ctx {
	const char		*name;
	struct muster_err	*e;
};

static int	merr(struct ctx *, const config_setting_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
line_of(const config_setting_t *s)
{
	unsigned line = s != NULL ? config_setting_source_line(s) : 0;

	return line == 0 ? 1 : (int)line;
}

static int
merr(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(c->e, MUSTER_EDATA, "%s:%d: %s", c->name, line_of(s),
	    msg);
}

static int
in_list(const char *const *names, const char *s)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, s) == 0)
			return 1;
	return 0;
}

static int
known_fields(struct ctx *c, const config_setting_t *g, const char *label,
    const char *const *names)
{
	config_setting_t *s;
	const char *n;
	int i, len = config_setting_length(g);

	for (i = 0; i < len; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		n = s != NULL ? config_setting_name(s) : NULL;
		if (n == NULL || !in_list(names, n))
			return merr(c, s, "%s%sunknown field \"%.64s\"",
			    label != NULL ? label : "", label != NULL ?
			    ": " : "", n != NULL ? n : "?");
	}
	return 0;
}

static config_setting_t *
member(struct ctx *c, const config_setting_t *g, const char *label,
    const char *name, int type, const char *want, int *rc)
{
	config_setting_t *s;
	int t;

	*rc = 0;
	if ((s = config_setting_get_member(g, name)) == NULL) {
		*rc = merr(c, g, "%s%smissing field \"%s\"", label != NULL ?
		    label : "", label != NULL ? ": " : "", name);
		return NULL;
	}
	t = config_setting_type(s);
	if (t != type && !(type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64)) {
		*rc = merr(c, s, "%s%sfield \"%s\" must be %s", label != NULL ?
		    label : "", label != NULL ? ": " : "", name, want);
		return NULL;
	}
	return s;
}

/* A profile id as profile.c takes it: 1-64 of a-z 0-9 . _ -, alnum first. */
static int
id_ok(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= PROFILE_ID_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return 1;
}

static int
parse_entry(struct ctx *c, const config_setting_t *g, size_t idx,
    struct manifest_entry *me)
{
	config_setting_t *s;
	char label[32];
	const char *v;
	int rc;

	snprintf(label, sizeof label, "profile #%zu", idx + 1);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return merr(c, g, "%s: must be a group { id = ...; serial = "
		    "...; hash = ...; }", label);
	if ((rc = known_fields(c, g, label, entry_fields)) != 0)
		return rc;
	if ((s = member(c, g, label, "id", CONFIG_TYPE_STRING, "a string",
	    &rc)) == NULL)
		return rc;
	v = config_setting_get_string(s);
	if (!id_ok(v))
		return merr(c, s, "%s: id is not a profile id (1 to 64 of "
		    "a-z 0-9 . _ -)", label);
	memcpy(me->id, v, strlen(v) + 1);
	if ((s = member(c, g, label, "serial", CONFIG_TYPE_INT, "an integer",
	    &rc)) == NULL)
		return rc;
	if ((me->serial = config_setting_get_int64(s)) < 1)
		return merr(c, s, "%s: serial %" PRId64 " is less than 1",
		    label, me->serial);
	if ((s = member(c, g, label, "hash", CONFIG_TYPE_STRING, "a string",
	    &rc)) == NULL)
		return rc;
	v = config_setting_get_string(s);
	if (!sigset_hash_ok(v))
		return merr(c, s, "%s: hash is not 64 lowercase hex digits "
		    "(BLAKE2b-256)", label);
	memcpy(me->hash, v, SIGSET_HASH_HEX);
	return 0;
}

static int
parse_top(struct ctx *c, const config_setting_t *root, struct manifest *m)
{
	config_setting_t *s, *list;
	const char *v;
	size_t i, j;
	int n, rc;

	if ((rc = known_fields(c, root, NULL, top_fields)) != 0)
		return rc;
	if ((s = member(c, root, NULL, "type", CONFIG_TYPE_STRING, "a string",
	    &rc)) == NULL)
		return rc;
	if (strcmp(config_setting_get_string(s), MANIFEST_TYPE) != 0)
		return merr(c, s, "type must be \"%s\"", MANIFEST_TYPE);
	if ((s = member(c, root, NULL, "scope", CONFIG_TYPE_STRING, "a string",
	    &rc)) == NULL)
		return rc;
	v = config_setting_get_string(s);
	if (profile_scope_parse(v, &m->scope) != 0)
		return merr(c, s, "scope must be personnel or family");
	if ((s = member(c, root, NULL, "version", CONFIG_TYPE_INT,
	    "an integer", &rc)) == NULL)
		return rc;
	m->version = config_setting_get_int64(s);
	if (m->version < 1 || m->version > MANIFEST_VERSION_MAX)
		return merr(c, s, "version %" PRId64 " out of range (1 to %d)",
		    m->version, MANIFEST_VERSION_MAX);
	if ((s = member(c, root, NULL, "expires", CONFIG_TYPE_STRING,
	    "a string", &rc)) == NULL)
		return rc;
	if (timefmt_parse(config_setting_get_string(s), &m->expires) != 0)
		return merr(c, s, "bad expires (want YYYY-MM-DDTHH:MM:SSZ, "
		    "UTC)");
	if ((list = member(c, root, NULL, "profiles", CONFIG_TYPE_LIST,
	    "a list ( { ... }, ... )", &rc)) == NULL)
		return rc;
	n = config_setting_length(list);
	if (n > MANIFEST_PROFILES_MAX)
		return merr(c, list, "more than %d profiles",
		    MANIFEST_PROFILES_MAX);
	for (i = 0; i < (size_t)n; i++) {
		s = config_setting_get_elem(list, (unsigned)i);
		if ((rc = parse_entry(c, s, i, &m->profiles[i])) != 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(m->profiles[j].id, m->profiles[i].id) == 0)
				return merr(c, s, "profile \"%s\" is named "
				    "twice", m->profiles[i].id);
		m->nprofiles++;
	}
	return 0;
}

int
manifest_parse(const char *name, const void *buf, size_t len,
    struct manifest *m, struct muster_err *e)
{
	struct ctx c;
	config_t cfg;
	int cfg_live = 0, rc;

	c.name = name != NULL ? name : "manifest";
	c.e = e;
	memset(m, 0, sizeof *m);
	if (buf == NULL || len == 0) {
		rc = err_set(e, MUSTER_EDATA, "%s: empty manifest", c.name);
		goto out;
	}
	if (len > MANIFEST_MAX) {
		rc = err_set(e, MUSTER_EDATA, "%s: %zu bytes, more than the "
		    "limit of %d", c.name, len, MANIFEST_MAX);
		goto out;
	}
	config_init(&cfg);
	cfg_live = 1;
	if ((rc = cfgscan_read(&cfg, c.name, "manifest", buf, len,
	    MANIFEST_DEPTH, e)) != 0)
		goto out;
	rc = parse_top(&c, config_root_setting(&cfg), m);
out:
	if (cfg_live)
		config_destroy(&cfg);
	if (rc != 0)
		memset(m, 0, sizeof *m);
	return rc;
}

int
manifest_format(const struct manifest *m, char **out, size_t *outlen,
    struct muster_err *e)
{
	struct manifest back;
	struct muster_err pe;
	char when[TIMEFMT_LEN], *s = NULL, *p;
	size_t i, cap, o;
	int n, rc;

	*out = NULL;
	*outlen = 0;
	if (m->nprofiles > MANIFEST_PROFILES_MAX)
		return err_set(e, MUSTER_EUSAGE, "more than %d profiles",
		    MANIFEST_PROFILES_MAX);
	for (i = 0; i < m->nprofiles; i++)
		if (strnlen(m->profiles[i].id, sizeof m->profiles[i].id) ==
		    sizeof m->profiles[i].id || !id_ok(m->profiles[i].id) ||
		    strnlen(m->profiles[i].hash, SIGSET_HASH_HEX) !=
		    SIGSET_HASH_HEX - 1)
			return err_set(e, MUSTER_EUSAGE, "profile #%zu: bad id "
			    "or hash", i + 1);
	/* Every line is bounded: a fixed buffer holds the largest. */
	cap = 512 + m->nprofiles * (PROFILE_ID_MAX + SIGSET_HASH_HEX + 64);
	if ((s = malloc(cap)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	timefmt_format(m->expires, when);
	o = 0;
	n = snprintf(s, cap, "# Muster manifest: scope %s, version %" PRId64
	    "\ntype = \"%s\";\nscope = \"%s\";\nversion = %" PRId64 ";\n"
	    "expires = \"%s\";\nprofiles = (%s", profile_scope_name(m->scope),
	    m->version, MANIFEST_TYPE, profile_scope_name(m->scope),
	    m->version, when, m->nprofiles > 0 ? "\n" : "");
	if (n < 0 || (size_t)n >= cap)
		goto toolong;
	o = (size_t)n;
	for (i = 0; i < m->nprofiles; i++) {
		p = s + o;
		n = snprintf(p, cap - o, "  {\n    id = \"%s\";\n    serial = %"
		    PRId64 "%s;\n    hash = \"%s\";\n  }%s\n", m->profiles[i].id,
		    m->profiles[i].serial, m->profiles[i].serial > INT32_MAX ?
		    "L" : "", m->profiles[i].hash, i + 1 < m->nprofiles ?
		    "," : "");
		if (n < 0 || (size_t)n >= cap - o)
			goto toolong;
		o += (size_t)n;
	}
	n = snprintf(s + o, cap - o, ");\n");
	if (n < 0 || (size_t)n >= cap - o)
		goto toolong;
	o += (size_t)n;
	if (manifest_parse("new manifest", s, o, &back, &pe) != 0) {
		rc = err_set(e, MUSTER_EUSAGE, "%s", pe.msg);
		goto out;
	}
	*out = s;
	*outlen = o;
	s = NULL;
	rc = 0;
	goto out;
toolong:
	rc = err_set(e, MUSTER_EINTERNAL, "manifest longer than expected");
out:
	free(s);
	return rc;
}

int
manifest_trusted_comment(enum profile_scope scope, int64_t version, char *buf,
    size_t size)
{
	int n;

	if (buf == NULL || size == 0)
		return -1;
	n = snprintf(buf, size, "muster-manifest scope=%s version=%" PRId64,
	    profile_scope_name(scope), version);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

int
manifest_verify(const char *name, const struct sigset *ss,
    const struct root *r, struct manifest *m, struct muster_err *e)
{
	const struct root_keyset *ks = &r->roles[ROOT_ROLE_POLICY];
	char tc[MANIFEST_TC_MAX], what[160];
	int rc;

	memset(m, 0, sizeof *m);
	if (name == NULL)
		name = "manifest";
	snprintf(what, sizeof what, "%.80s: policy keys of root %" PRId64,
	    name, r->version);
	/* The policy keys first: unsigned bytes never reach libconfig. */
	if ((rc = sigset_threshold(ss, ks->keys, ks->nkeys, ks->threshold,
	    NULL, what, NULL, e)) != 0)
		goto out;
	if ((rc = manifest_parse(name, ss->bytes, ss->len, m, e)) != 0)
		goto out;
	if (ss->version != 0 && ss->version != m->version) {
		rc = err_set(e, MUSTER_EDATA, "%s: sent as version %" PRId64
		    ", the document is version %" PRId64, name, ss->version,
		    m->version);
		goto out;
	}
	(void)manifest_trusted_comment(m->scope, m->version, tc, sizeof tc);
	rc = sigset_threshold(ss, ks->keys, ks->nkeys, ks->threshold, tc, what,
	    NULL, e);
out:
	if (rc != 0)
		memset(m, 0, sizeof *m);
	return rc;
}

int
manifest_expired(const struct manifest *m, time_t now)
{
	return m->expires <= now;
}

int
manifest_accept(const struct manifest *cur, const void *cur_bytes,
    size_t cur_len, const struct manifest *next, const void *next_bytes,
    size_t next_len, time_t now, int *stale, struct muster_err *e)
{
	const char *scope = profile_scope_name(next->scope);

	if (stale != NULL)
		*stale = 0;
	if (cur != NULL) {
		if (cur->scope != next->scope)
			return err_set(e, MUSTER_ETRUST, "manifest of scope %s "
			    "offered for scope %s", scope,
			    profile_scope_name(cur->scope));
		if (next->version < cur->version)
			return err_set(e, MUSTER_ETRUST, "manifest %s version "
			    "%" PRId64 " is older than the version %" PRId64
			    " already accepted (rollback)", scope,
			    next->version, cur->version);
		if (next->version == cur->version && (cur_len != next_len ||
		    cur_bytes == NULL || next_bytes == NULL ||
		    memcmp(cur_bytes, next_bytes, cur_len) != 0))
			return err_set(e, MUSTER_ETRUST, "manifest %s version "
			    "%" PRId64 " differs from the one already accepted "
			    "with that version", scope, next->version);
	}
	if (stale != NULL)
		*stale = manifest_expired(next, now);
	return 0;
}

const struct manifest_entry *
manifest_find(const struct manifest *m, const char *id)
{
	size_t i;

	if (id == NULL)
		return NULL;
	for (i = 0; i < m->nprofiles; i++)
		if (strcmp(m->profiles[i].id, id) == 0)
			return &m->profiles[i];
	return NULL;
}

int
manifest_names(const struct manifest *m, const char *id, int64_t serial,
    const void *buf, size_t len, struct muster_err *e)
{
	const struct manifest_entry *me;
	char hash[SIGSET_HASH_HEX];

	if ((me = manifest_find(m, id)) == NULL)
		return err_set(e, MUSTER_ETRUST, "profile \"%.64s\" is not "
		    "named by the %s manifest version %" PRId64, id != NULL ?
		    id : "", profile_scope_name(m->scope), m->version);
	if (me->serial != serial)
		return err_set(e, MUSTER_ETRUST, "profile \"%s\" serial %"
		    PRId64 ": the manifest names serial %" PRId64, me->id,
		    serial, me->serial);
	sigset_hash_hex(buf, len, hash);
	if (strcmp(hash, me->hash) != 0)
		return err_set(e, MUSTER_ETRUST, "profile \"%s\" serial %"
		    PRId64 ": its bytes are not the ones the manifest names "
		    "(hash %.16s..., want %.16s...)", me->id, serial, hash,
		    me->hash);
	return 0;
}

int
manifest_profile_verify(const struct manifest *m, const struct root *r,
    const char *id, int64_t serial, const char *name, const char *buf,
    size_t len, const char *signame, const char *sig, size_t siglen,
    struct profile **out, struct muster_err *e)
{
	struct sig_signature *s = NULL;
	struct profile *p = NULL;
	const struct sig_pubkey *pk;
	char hex[SIG_KEYID_HEX];
	int rc;

	*out = NULL;
	if ((rc = manifest_names(m, id, serial, buf, len, e)) != 0)
		return rc;
	if ((s = malloc(sizeof *s)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = sig_parse(signame, sig, siglen, s, e)) != 0)
		goto out;
	if ((pk = root_find_key(r, ROOT_ROLE_POLICY, s->keyid)) == NULL) {
		sig_keyid_hex(s->keyid, hex);
		rc = err_set(e, MUSTER_ETRUST, "%s: signed by key %s, which "
		    "is not a policy key of root %" PRId64, name, hex,
		    r->version);
		goto out;
	}
	if ((rc = profile_verify(name, buf, len, signame, sig, siglen, pk, &p,
	    NULL, e)) != 0)
		goto out;
	if (strcmp(p->id, id) != 0 || p->serial != serial ||
	    p->scope != m->scope) {
		rc = err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" serial %"
		    PRId64 " scope %s is not the manifest's \"%s\" serial %"
		    PRId64 " scope %s", name, p->id, p->serial,
		    profile_scope_name(p->scope), id, serial,
		    profile_scope_name(m->scope));
		goto out;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	profile_free(p);
	free(s);
	return rc;
}
