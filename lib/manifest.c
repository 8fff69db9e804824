/*
 * manifest: the per-scope list of the profiles a device must run; see
 * include/muster/manifest.h and docs/protocol.md "Manifests".
 *
 * Like a root, a manifest is capped and gated with cfgscan before
 * libconfig reads it; manifest_verify also checks the policy keys'
 * signatures over the bytes before it parses them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "muster/buf.h"
#include "muster/cfgread.h"
#include "muster/manifest.h"
#include "muster/timefmt.h"

#define MANIFEST_DEPTH	2	/* profiles = ( { ... } ) */

static const char *const top_fields[] = {
	"type", "scope", "version", "expires", "profiles", NULL,
};
static const char *const entry_fields[] = { "id", "serial", "hash", NULL };

static int
parse_entry(const struct cfgread_doc *c, const config_setting_t *g,
    size_t idx, struct manifest_entry *me)
{
	config_setting_t *s;
	char label[32];
	const char *v;
	int rc;

	snprintf(label, sizeof label, "profile #%zu", idx + 1);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfgread_doc_err(c, g, "%s: must be a group { id = ...; "
		    "serial = ...; hash = ...; }", label);
	if ((rc = cfgread_doc_known(c, g, label, entry_fields)) != 0)
		return rc;
	if ((v = cfgread_doc_string(c, g, label, "id", &s, &rc)) == NULL)
		return rc;
	if (!profile_valid_id(v))
		return cfgread_doc_err(c, s, "%s: id is not a profile id (1 to "
		    "64 of a-z 0-9 . _ -)", label);
	memcpy(me->id, v, strlen(v) + 1);
	if ((s = cfgread_doc_member(c, g, label, "serial", CONFIG_TYPE_INT,
	    "an integer", &rc)) == NULL)
		return rc;
	if ((me->serial = config_setting_get_int64(s)) < 1)
		return cfgread_doc_err(c, s, "%s: serial %" PRId64 " is less "
		    "than 1", label, me->serial);
	if ((v = cfgread_doc_string(c, g, label, "hash", &s, &rc)) == NULL)
		return rc;
	if (!sigset_hash_ok(v))
		return cfgread_doc_err(c, s, "%s: hash is not 64 lowercase hex "
		    "digits (BLAKE2b-256)", label);
	memcpy(me->hash, v, SIGSET_HASH_HEX);
	return 0;
}

static int
parse_top(const struct cfgread_doc *c, const config_setting_t *root,
    void *arg)
{
	struct manifest *m = arg;
	config_setting_t *s, *list;
	const char *v;
	size_t i, j;
	int n, rc;

	if ((v = cfgread_doc_string(c, root, NULL, "scope", &s, &rc)) == NULL)
		return rc;
	if (profile_scope_parse(v, &m->scope) != 0)
		return cfgread_doc_err(c, s, "scope must be personnel or "
		    "family");
	if ((rc = cfgread_doc_version(c, root, MANIFEST_VERSION_MAX,
	    &m->version, &m->expires)) != 0)
		return rc;
	if ((list = cfgread_doc_member(c, root, NULL, "profiles",
	    CONFIG_TYPE_LIST, "a list ( { ... }, ... )", &rc)) == NULL)
		return rc;
	n = config_setting_length(list);
	if (n > MANIFEST_PROFILES_MAX)
		return cfgread_doc_err(c, list, "more than %d profiles",
		    MANIFEST_PROFILES_MAX);
	for (i = 0; i < (size_t)n; i++) {
		s = config_setting_get_elem(list, (unsigned)i);
		if ((rc = parse_entry(c, s, i, &m->profiles[i])) != 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(m->profiles[j].id, m->profiles[i].id) == 0)
				return cfgread_doc_err(c, s, "profile \"%s\" "
				    "is named twice", m->profiles[i].id);
		m->nprofiles++;
	}
	return 0;
}

static const struct cfgread_kind manifest_kind = {
	"manifest", MANIFEST_MAX, MANIFEST_DEPTH, top_fields, MANIFEST_TYPE,
	parse_top, sizeof(struct manifest)
};

int
manifest_parse(const char *name, const void *buf, size_t len,
    struct manifest *m, struct muster_err *e)
{
	return cfgread_doc_load(&manifest_kind, name, buf, len, m, e);
}

int
manifest_format(const struct manifest *m, char **out, size_t *outlen,
    struct muster_err *e)
{
	struct manifest back;
	struct buf b;
	char when[TIMEFMT_LEN];
	size_t i;
	int rc;

	*out = NULL;
	*outlen = 0;
	if (m->nprofiles > MANIFEST_PROFILES_MAX)
		return err_set(e, MUSTER_EUSAGE, "more than %d profiles",
		    MANIFEST_PROFILES_MAX);
	for (i = 0; i < m->nprofiles; i++)
		if (strnlen(m->profiles[i].id, sizeof m->profiles[i].id) ==
		    sizeof m->profiles[i].id ||
		    !profile_valid_id(m->profiles[i].id) ||
		    strnlen(m->profiles[i].hash, SIGSET_HASH_HEX) !=
		    SIGSET_HASH_HEX - 1)
			return err_set(e, MUSTER_EUSAGE, "profile #%zu: bad id "
			    "or hash", i + 1);
	/* Every line is bounded, and so is the whole. */
	buf_init(&b, 511 + m->nprofiles * (PROFILE_ID_MAX + SIGSET_HASH_HEX +
	    64));
	timefmt_format(m->expires, when);
	buf_printf(&b, "# Muster manifest: scope %s, version %" PRId64
	    "\ntype = \"%s\";\nscope = \"%s\";\nversion = %" PRId64 ";\n"
	    "expires = \"%s\";\nprofiles = (%s", profile_scope_name(m->scope),
	    m->version, MANIFEST_TYPE, profile_scope_name(m->scope),
	    m->version, when, m->nprofiles > 0 ? "\n" : "");
	for (i = 0; i < m->nprofiles; i++)
		buf_printf(&b, "  {\n    id = \"%s\";\n    serial = %" PRId64
		    "%s;\n    hash = \"%s\";\n  }%s\n", m->profiles[i].id,
		    m->profiles[i].serial, m->profiles[i].serial > INT32_MAX ?
		    "L" : "", m->profiles[i].hash, i + 1 < m->nprofiles ?
		    "," : "");
	buf_printf(&b, ");\n");
	rc = cfgread_doc_emit(&manifest_kind, &b, &back, out, outlen, e);
	buf_free(&b);
	return rc;
}

int
manifest_trusted_comment(enum profile_scope scope, int64_t version, char *buf,
    size_t size)
{
	return buf_fmt(buf, size, "muster-manifest scope=%s version=%" PRId64,
	    profile_scope_name(scope), version);
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
	if ((rc = manifest_parse(name, ss->bytes, ss->len, m, e)) != 0 ||
	    (rc = sigset_version_check(ss, name, m->version, e)) != 0)
		goto out;
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
