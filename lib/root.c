/*
 * root: the org's versioned root of trust; see include/muster/root.h and
 * docs/protocol.md "Root of trust".
 *
 * The bytes are capped and gated with cfgscan before libconfig reads
 * them, and every field is then checked: a root names who may sign
 * everything else, so nothing in it is taken on the parser's word.
 * root_update checks the signatures of the keys the device already
 * trusts before it parses the new document at all.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <sodium.h>

#include "muster/buf.h"
#include "muster/cfgread.h"
#include "muster/profile.h"
#include "muster/root.h"
#include "muster/timefmt.h"

#define ROOT_DEPTH	3	/* roles = { root = { keys = [ ] } } */
#define PIN_PREFIX	"sha256//"
#define PIN_HASH_BYTES	32	/* SHA-256 */
#define PIN_B64_LEN	44	/* padded base64 of 32 bytes */
#define KEY_B64_SIZE	sodium_base64_ENCODED_LEN(SIG_ALG_BYTES + \
			    SIG_KEYID_BYTES + crypto_sign_PUBLICKEYBYTES, \
			    sodium_base64_VARIANT_ORIGINAL)
#define NEVER		"9999-12-31T23:59:59Z"	/* a legacy root's expiry */

_Static_assert(sizeof PIN_PREFIX - 1 + PIN_B64_LEN < ROOT_PIN_SIZE,
    "ROOT_PIN_SIZE holds a pin");

static const char *const role_names[ROOT_NROLES] = {
	[ROOT_ROLE_ROOT] = "root",
	[ROOT_ROLE_POLICY] = "policy",
	[ROOT_ROLE_REVOCATION] = "revocation",
	[ROOT_ROLE_ENROLL] = "enroll",
};

static const char *const top_fields[] = {
	"type", "version", "expires", "server", "pins", "roles", NULL,
};
static const char *const role_fields[] = {
	"root", "policy", "revocation", "enroll", NULL,
};
static const char *const keyset_fields[] = { "threshold", "keys", NULL };


const char *
root_role_name(enum root_role role)
{
	if ((unsigned)role >= ROOT_NROLES)
		return "unknown";
	return role_names[role];
}

int
root_role_parse(const char *s, enum root_role *out)
{
	int i;

	for (i = 0; s != NULL && i < ROOT_NROLES; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum root_role)i;
			return 0;
		}
	return -1;
}

int
root_pin_form_ok(const char *s)
{
	unsigned char bin[PIN_HASH_BYTES];
	const size_t plen = sizeof PIN_PREFIX - 1;
	const char *end = NULL;
	size_t got = 0, i;

	if (s == NULL || strlen(s) != plen + PIN_B64_LEN ||
	    memcmp(s, PIN_PREFIX, plen) != 0)
		return 0;
	s += plen;
	for (i = 0; i < PIN_B64_LEN - 1; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '/'))
			return 0;
	if (s[PIN_B64_LEN - 1] != '=')
		return 0;
	return sodium_base642bin(bin, sizeof bin, s, PIN_B64_LEN, NULL, &got,
	    &end, sodium_base64_VARIANT_ORIGINAL) == 0 && got == sizeof bin &&
	    end == s + PIN_B64_LEN;
}

/* 1 if s is a server URL as tokens take it (printable, url_parse). */
static int
server_ok(const char *s)
{
	struct url u;
	size_t i, len = strlen(s);

	if (len == 0 || len > URL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return url_parse(s, &u, NULL) == 0;
}


/* Two keys are the same key when either the id or the key matches. */
static int
same_key(const struct sig_pubkey *a, const struct sig_pubkey *b)
{
	return memcmp(a->keyid, b->keyid, SIG_KEYID_BYTES) == 0 ||
	    memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

static int
parse_keyset(const struct cfgread_doc *c, const config_setting_t *roles,
    enum root_role role, struct root_keyset *ks)
{
	config_setting_t *g, *s, *el;
	const char *label = role_names[role], *v;
	char hex[SIG_KEYID_HEX];
	int64_t t;
	int i, n, rc;
	size_t j;

	if ((g = cfgread_doc_member(c, roles, "roles", label,
	    CONFIG_TYPE_GROUP, "a group { threshold = N; keys = [ ... ]; }",
	    &rc)) == NULL)
		return rc;
	if ((rc = cfgread_doc_known(c, g, label, keyset_fields)) != 0)
		return rc;
	if ((s = cfgread_doc_member(c, g, label, "keys", CONFIG_TYPE_ARRAY,
	    "an array [ \"RWQ...\", ... ]", &rc)) == NULL)
		return rc;
	n = config_setting_length(s);
	if (n < 1 || n > ROOT_KEYS_MAX)
		return cfgread_doc_err(c, s, "%s: %d keys (want 1 to %d)",
		    label, n, ROOT_KEYS_MAX);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(el) != CONFIG_TYPE_STRING ||
		    (v = config_setting_get_string(el)) == NULL ||
		    strchr(v, '\n') != NULL || strchr(v, '\r') != NULL ||
		    sig_pubkey_parse(c->name, v, strlen(v), &ks->keys[i],
		    NULL) != 0)
			return cfgread_doc_err(c, el, "%s: key %d is not a "
			    "minisign public key line (\"RWQ...\")", label,
			    i + 1);
		for (j = 0; j < (size_t)i; j++)
			if (same_key(&ks->keys[j], &ks->keys[i])) {
				sig_keyid_hex(ks->keys[i].keyid, hex);
				return cfgread_doc_err(c, el, "%s: key %s is "
				    "listed twice", label, hex);
			}
		ks->nkeys++;
	}
	if ((s = cfgread_doc_member(c, g, label, "threshold", CONFIG_TYPE_INT,
	    "an integer", &rc)) == NULL)
		return rc;
	t = config_setting_get_int64(s);
	if (t < 1 || t > (int64_t)ks->nkeys)
		return cfgread_doc_err(c, s, "%s: threshold %" PRId64 " is not "
		    "between 1 and its %zu keys", label, t, ks->nkeys);
	if ((role == ROOT_ROLE_REVOCATION || role == ROOT_ROLE_ENROLL) &&
	    t != 1)
		return cfgread_doc_err(c, s, "%s: threshold must be 1", label);
	ks->threshold = (unsigned)t;
	return 0;
}

/* No key in two roles: a held online key must never sign for another. */
static int
roles_disjoint(const struct cfgread_doc *c, const config_setting_t *roles,
    const struct root *r)
{
	const struct root_keyset *a, *b;
	char hex[SIG_KEYID_HEX];
	int i, j;
	size_t x, y;

	for (i = 0; i < ROOT_NROLES; i++)
		for (j = i + 1; j < ROOT_NROLES; j++) {
			a = &r->roles[i];
			b = &r->roles[j];
			for (x = 0; x < a->nkeys; x++)
				for (y = 0; y < b->nkeys; y++) {
					if (!same_key(&a->keys[x],
					    &b->keys[y]))
						continue;
					sig_keyid_hex(b->keys[y].keyid, hex);
					return cfgread_doc_err(c,
					    config_setting_get_member(roles,
					    role_names[j]), "key %s is in "
					    "roles %s and %s (a key belongs to "
					    "one role only)", hex,
					    role_names[i], role_names[j]);
				}
		}
	return 0;
}

static int
parse_pins(const struct cfgread_doc *c, const config_setting_t *root,
    struct root *r)
{
	config_setting_t *s, *el;
	const char *v;
	int i, n, rc;
	size_t j;

	if ((s = cfgread_doc_member(c, root, NULL, "pins", CONFIG_TYPE_ARRAY,
	    "an array [ \"sha256//...\", ... ]", &rc)) == NULL)
		return rc;
	n = config_setting_length(s);
	if (n < 1 || n > ROOT_PINS_MAX)
		return cfgread_doc_err(c, s, "%d pins (want 1 to %d)", n,
		    ROOT_PINS_MAX);
	for (i = 0; i < n; i++) {
		el = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(el) != CONFIG_TYPE_STRING ||
		    (v = config_setting_get_string(el)) == NULL ||
		    !root_pin_form_ok(v))
			return cfgread_doc_err(c, el, "pin %d is not "
			    "sha256//BASE64 of 32 bytes", i + 1);
		for (j = 0; j < r->npins; j++)
			if (strcmp(r->pins[j], v) == 0)
				return cfgread_doc_err(c, el, "pin %d is "
				    "listed twice", i + 1);
		memcpy(r->pins[r->npins++], v, strlen(v) + 1);
	}
	return 0;
}

static int
parse_top(const struct cfgread_doc *c, const config_setting_t *root,
    void *arg)
{
	struct root *r = arg;
	config_setting_t *s, *roles;
	const char *v;
	int i, rc;

	if ((rc = cfgread_doc_version(c, root, ROOT_VERSION_MAX,
	    &r->version, &r->expires)) != 0)
		return rc;
	if ((v = cfgread_doc_string(c, root, NULL, "server", &s, &rc)) == NULL)
		return rc;
	if (!server_ok(v))
		return cfgread_doc_err(c, s, "server is not an "
		    "https://HOST[:PORT] URL");
	memcpy(r->server, v, strlen(v) + 1);
	if ((rc = parse_pins(c, root, r)) != 0)
		return rc;
	if ((roles = cfgread_doc_member(c, root, NULL, "roles",
	    CONFIG_TYPE_GROUP, "a group { root = ...; policy = ...; ... }",
	    &rc)) == NULL)
		return rc;
	if ((rc = cfgread_doc_known(c, roles, "roles", role_fields)) != 0)
		return rc;
	for (i = 0; i < ROOT_NROLES; i++)
		if ((rc = parse_keyset(c, roles, (enum root_role)i,
		    &r->roles[i])) != 0)
			return rc;
	return roles_disjoint(c, roles, r);
}

static const struct cfgread_kind root_kind = {
	"root", ROOT_MAX, ROOT_DEPTH, top_fields, ROOT_TYPE, parse_top,
	sizeof(struct root)
};

int
root_parse(const char *name, const void *buf, size_t len, struct root *r,
    struct muster_err *e)
{
	int rc;

	if ((rc = cfgread_doc_load(&root_kind, name, buf, len, r, e)) != 0)
		return rc;
	sigset_hash_hex(buf, len, r->hash);
	return 0;
}

int
root_format(const struct root *r, char **out, size_t *outlen,
    struct muster_err *e)
{
	struct buf b;
	struct root back;
	const struct root_keyset *ks;
	char when[TIMEFMT_LEN], b64[KEY_B64_SIZE], hex[SIG_KEYID_HEX];
	size_t i, k;
	int rc;

	*out = NULL;
	*outlen = 0;
	buf_init(&b, BUF_UNBOUNDED);
	if (r->version < 1 || r->version > ROOT_VERSION_MAX)
		return err_set(e, MUSTER_EUSAGE, "root version out of range");
	if (r->npins < 1 || r->npins > ROOT_PINS_MAX)
		return err_set(e, MUSTER_EUSAGE, "a root needs 1 to %d pins",
		    ROOT_PINS_MAX);
	for (i = 0; i < r->npins; i++)
		if (!root_pin_form_ok(r->pins[i]))
			return err_set(e, MUSTER_EUSAGE, "pin %zu is not "
			    "sha256//BASE64 of 32 bytes", i + 1);
	if (strnlen(r->server, sizeof r->server) == sizeof r->server ||
	    !server_ok(r->server))
		return err_set(e, MUSTER_EUSAGE, "server is not an "
		    "https://HOST[:PORT] URL");
	for (i = 0; i < ROOT_NROLES; i++)
		if (r->roles[i].nkeys < 1 || r->roles[i].nkeys > ROOT_KEYS_MAX)
			return err_set(e, MUSTER_EUSAGE, "role %s needs 1 to "
			    "%d keys", role_names[i], ROOT_KEYS_MAX);
	timefmt_format(r->expires, when);
	buf_printf(&b, "# Muster root of trust, version %" PRId64 "\n"
	    "type = \"%s\";\nversion = %" PRId64 ";\nexpires = \"%s\";\n"
	    "server = \"%s\";\npins = [\n", r->version, ROOT_TYPE, r->version,
	    when, r->server);
	for (i = 0; i < r->npins; i++)
		buf_printf(&b, "  \"%s\"%s\n", r->pins[i],
		    i + 1 < r->npins ? "," : "");
	buf_printf(&b, "];\nroles = {\n");
	for (i = 0; i < ROOT_NROLES; i++) {
		ks = &r->roles[i];
		buf_printf(&b, "  %s = {\n    threshold = %u;\n"
		    "    keys = [\n", role_names[i], ks->threshold);
		for (k = 0; k < ks->nkeys; k++) {
			(void)sig_pubkey_base64(&ks->keys[k], b64, sizeof b64);
			sig_keyid_hex(ks->keys[k].keyid, hex);
			buf_printf(&b, "      \"%s\"%s  # %s\n", b64,
			    k + 1 < ks->nkeys ? "," : " ", hex);
		}
		buf_printf(&b, "    ];\n  };\n");
	}
	buf_printf(&b, "};\n");
	rc = cfgread_doc_emit(&root_kind, &b, &back, out, outlen, e);
	buf_free(&b);
	return rc;
}

int
root_trusted_comment(int64_t version, char *buf, size_t size)
{
	return buf_fmt(buf, size, ROOT_TC_PREFIX "%" PRId64, version);
}

/* The threshold of r's root role over ss with r's version's comment. */
static int
own_threshold(const char *name, const struct sigset *ss, const struct root *r,
    struct muster_err *e)
{
	const struct root_keyset *ks = &r->roles[ROOT_ROLE_ROOT];
	char tc[ROOT_TC_MAX], what[160];

	(void)root_trusted_comment(r->version, tc, sizeof tc);
	snprintf(what, sizeof what, "%.80s: root %" PRId64 " by its own root "
	    "keys", name, r->version);
	return sigset_threshold(ss, ks->keys, ks->nkeys, ks->threshold, tc,
	    what, NULL, e);
}

int
root_verify_self(const char *name, const struct sigset *ss, struct root *r,
    struct muster_err *e)
{
	int rc;

	if (name == NULL)
		name = "root";
	if ((rc = root_parse(name, ss->bytes, ss->len, r, e)) != 0)
		return rc;
	if ((rc = sigset_version_check(ss, name, r->version, e)) == 0)
		rc = own_threshold(name, ss, r, e);
	if (rc != 0)
		memset(r, 0, sizeof *r);
	return rc;
}

int
root_update(const struct root *cur, const char *name,
    const struct sigset *next, struct root *out, struct muster_err *e)
{
	const struct root_keyset *ks = &cur->roles[ROOT_ROLE_ROOT];
	struct root nr;
	char tc[ROOT_TC_MAX], what[160];
	int64_t want = cur->version + 1;
	int rc;

	memset(&nr, 0, sizeof nr);
	if (name == NULL)
		name = "root";
	if (cur->version >= ROOT_VERSION_MAX) {
		rc = err_set(e, MUSTER_ETRUST, "%s: root %" PRId64 " has no "
		    "successor", name, cur->version);
		goto out;
	}
	if (next->version != 0 && next->version != want) {
		rc = err_set(e, MUSTER_ETRUST, "%s: root %" PRId64 " offered "
		    "to a holder of root %" PRId64 " (%s; want %" PRId64 ")",
		    name, next->version, cur->version, next->version <=
		    cur->version ? "rollback or repeat" : "version skip", want);
		goto out;
	}
	/* The keys already trusted speak first; only then is it parsed. */
	(void)root_trusted_comment(want, tc, sizeof tc);
	snprintf(what, sizeof what, "%.80s: root %" PRId64 " by the root keys "
	    "of root %" PRId64, name, want, cur->version);
	if ((rc = sigset_threshold(next, ks->keys, ks->nkeys, ks->threshold,
	    tc, what, NULL, e)) != 0)
		goto out;
	if ((rc = root_parse(name, next->bytes, next->len, &nr, e)) != 0)
		goto out;
	if (nr.version != want) {
		rc = err_set(e, MUSTER_ETRUST, "%s: signed as root %" PRId64
		    " but the document is version %" PRId64, name, want,
		    nr.version);
		goto out;
	}
	if ((rc = own_threshold(name, next, &nr, e)) != 0)
		goto out;
	*out = nr;
	rc = 0;
out:
	if (rc != 0)
		memset(out, 0, sizeof *out);
	sodium_memzero(&nr, sizeof nr);
	return rc;
}

int
root_expired(const struct root *r, time_t now)
{
	return r->expires <= now;
}

int
root_legacy(const struct sig_pubkey *pk, const char *server, const char *pin,
    struct root *r, struct muster_err *e)
{
	int i;

	memset(r, 0, sizeof *r);
	if (server == NULL || !server_ok(server))
		return err_set(e, MUSTER_EDATA, "legacy root: server is not an "
		    "https://HOST[:PORT] URL");
	if (!root_pin_form_ok(pin))
		return err_set(e, MUSTER_EDATA, "legacy root: pin is not "
		    "sha256//BASE64 of 32 bytes");
	r->version = 1;
	(void)timefmt_parse(NEVER, &r->expires);
	memcpy(r->server, server, strlen(server) + 1);
	memcpy(r->pins[0], pin, strlen(pin) + 1);
	r->npins = 1;
	for (i = 0; i < ROOT_NROLES; i++) {
		r->roles[i].keys[0] = *pk;
		r->roles[i].nkeys = 1;
		r->roles[i].threshold = 1;
	}
	r->legacy = 1;
	return 0;
}

const struct root_keyset *
root_keys(const struct root *r, enum root_role role)
{
	if ((unsigned)role >= ROOT_NROLES)
		return NULL;
	return &r->roles[role];
}

const struct sig_pubkey *
root_find_key(const struct root *r, enum root_role role,
    const unsigned char keyid[SIG_KEYID_BYTES])
{
	const struct root_keyset *ks;
	size_t i;

	if ((ks = root_keys(r, role)) == NULL)
		return NULL;
	for (i = 0; i < ks->nkeys; i++)
		if (memcmp(ks->keys[i].keyid, keyid, SIG_KEYID_BYTES) == 0)
			return &ks->keys[i];
	return NULL;
}

int
root_pin_ok(const struct root *r, const char *pin)
{
	size_t i;

	if (pin == NULL)
		return 0;
	for (i = 0; i < r->npins; i++)
		if (strcmp(r->pins[i], pin) == 0)
			return 1;
	return 0;
}

int
root_pins_curl(const struct root *r, char *buf, size_t size)
{
	size_t i, o = 0, n;

	if (size == 0 || r->npins == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; i < r->npins; i++) {
		n = strnlen(r->pins[i], ROOT_PIN_SIZE);
		if (o + n + (i > 0) + 1 > size) {
			buf[0] = '\0';
			return -1;
		}
		if (i > 0)
			buf[o++] = ';';
		memcpy(buf + o, r->pins[i], n);
		o += n;
		buf[o] = '\0';
	}
	return 0;
}
