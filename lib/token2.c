/*
 * token2: tokens, revocations and bundles against a root's roles; see
 * include/muster/token2.h and docs/protocol.md "Token v2".
 *
 * The strict formats stay in token.c; this file only chooses, from the
 * key id a body names, which key of which role may have signed it, and
 * refuses any key outside that role before a signature is checked.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <sodium.h>

#include "muster/buf.h"
#include "muster/cfgscan.h"
#include "muster/fs.h"
#include "muster/timefmt.h"
#include "muster/esc.h"
#include "muster/token2.h"

#define B64URL		sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define B64		sodium_base64_VARIANT_ORIGINAL
#define KEYLINE		"key="

_Static_assert(TOKEN_ROOT_HASH_HEX == SIGSET_HASH_HEX,
    "a token's root= hash is a root's sigset_hash_hex");

/*
 * The key id the last line of a signed object's body names
 * ("key=" 16 upper-case hex digits), read before anything is verified,
 * only to choose the key to verify with.  0 or -1.
 */
static int
body_keyid(const char *s, size_t len, unsigned char keyid[SIG_KEYID_BYTES])
{
	unsigned char body[TOKEN_BODY_MAX];
	const char *dot, *end = NULL, *line, *nl;
	uint64_t v = 0;
	size_t blen = 0, i;
	int ch;

	if (s == NULL || len == 0 || len >= TOKEN_MAX ||
	    (dot = memchr(s, '.', len)) == NULL || dot == s)
		return -1;
	if (sodium_base642bin(body, sizeof body, s, (size_t)(dot - s), NULL,
	    &blen, &end, B64URL) != 0 || end != dot || blen < 2 ||
	    body[blen - 1] != '\n')
		return -1;
	nl = (const char *)body + blen - 1;
	for (line = nl; line > (const char *)body && line[-1] != '\n'; line--)
		;
	if ((size_t)(nl - line) != strlen(KEYLINE) + 2 * SIG_KEYID_BYTES ||
	    memcmp(line, KEYLINE, strlen(KEYLINE)) != 0)
		return -1;
	line += strlen(KEYLINE);
	for (i = 0; i < 2 * SIG_KEYID_BYTES; i++) {
		ch = (unsigned char)line[i];
		if (ch >= '0' && ch <= '9')
			v = (v << 4) | (uint64_t)(ch - '0');
		else if (ch >= 'A' && ch <= 'F')
			v = (v << 4) | (uint64_t)(ch - 'A' + 10);
		else
			return -1;
	}
	/* As sig_keyid_hex prints it: a little-endian integer. */
	for (i = 0; i < SIG_KEYID_BYTES; i++, v >>= 8)
		keyid[i] = (unsigned char)(v & 0xff);
	return 0;
}

/*
 * The key of role in r that signed s, by the key id its body names;
 * NULL with *rc set when it names a key outside the role.  When the body
 * cannot even be read, the role's first key is returned so that the
 * caller's strict verification says what is malformed.
 */
static const struct sig_pubkey *
role_key(const char *what, const char *s, size_t len, const struct root *r,
    enum root_role role, int *rc, struct muster_err *e)
{
	const struct sig_pubkey *pk;
	unsigned char keyid[SIG_KEYID_BYTES];
	char hex[SIG_KEYID_HEX];

	*rc = 0;
	if (body_keyid(s, len, keyid) != 0)
		return &r->roles[role].keys[0];
	if ((pk = root_find_key(r, role, keyid)) == NULL) {
		sig_keyid_hex(keyid, hex);
		*rc = err_set(e, MUSTER_ETRUST, "%s signed by key %s, which is "
		    "not a%s %s key of root %lld", what, hex,
		    role == ROOT_ROLE_ENROLL ? "n" : "", root_role_name(role),
		    (long long)r->version);
	}
	return pk;
}

int
token2_verify(const char *s, size_t len, const struct root *r,
    struct token *t, struct muster_err *e)
{
	const struct sig_pubkey *pk;
	int rc;

	memset(t, 0, sizeof *t);
	if ((pk = role_key("token", s, len, r, ROOT_ROLE_ENROLL, &rc, e)) ==
	    NULL)
		return rc;
	return token_verify(s, len, pk, t, e);
}

int
token2_revocation_verify(const char *s, size_t len, const struct root *r,
    struct revocation *rv, struct muster_err *e)
{
	const struct sig_pubkey *pk;
	int rc;

	memset(rv, 0, sizeof *rv);
	if ((pk = role_key("revocation", s, len, r, ROOT_ROLE_REVOCATION, &rc,
	    e)) == NULL)
		return rc;
	return token_revocation_verify(s, len, pk, rv, e);
}

int
token2_root_match(const struct token *t, const struct root *r,
    struct muster_err *e)
{
	if (t->root_version == 0)
		return err_set(e, MUSTER_ETRUST, "a v1 token names no root");
	if (r->legacy || t->root_version != r->version ||
	    strcmp(t->root_hash, r->hash) != 0)
		return err_set(e, MUSTER_ETRUST, "the token names root %lld "
		    "%.16s..., not root %lld %.16s...",
		    (long long)t->root_version, t->root_hash,
		    (long long)r->version, r->legacy ? "(legacy)" : r->hash);
	return 0;
}

/*
 * Appends text as the body of a libconfig string (escaping " \ and the
 * line breaks of a minisig text) to b; -1 for any other control byte.
 * Whether it fit is b's to say.
 */
static int
cfg_escape(struct buf *b, const char *text, size_t len)
{
	size_t i;
	unsigned char ch;
	const char *esc;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)text[i];
		esc = ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : ch == '\t' ?
		    "\\t" : ch == '"' ? "\\\"" : ch == '\\' ? "\\\\" : NULL;
		if (esc == NULL && (ch < 0x20 || ch > 0x7e))
			return -1;
		if (esc != NULL)
			buf_add(b, esc, 2);
		else
			buf_add(b, &ch, 1);
	}
	return 0;
}

int
token2_bundle_format(const struct sigset *root, const char *token,
    const struct token *t, char **out, struct muster_err *e)
{
	struct buf b;
	char exp[TIMEFMT_LEN], unit[ESC_SIZE(TOKEN_FIELD_MAX)];
	size_t cap, i, tlen;
	int rc;

	*out = NULL;
	tlen = strlen(token);
	if (t->root_version == 0 || tlen == 0 || tlen >= TOKEN_MAX ||
	    strpbrk(token, "\"\\\n") != NULL || !token_field_ok(t->person, 0) ||
	    !token_unit_ok(t->unit) ||
	    (t->scope != SCOPE_PERSONNEL && t->scope != SCOPE_FAMILY))
		return err_set(e, MUSTER_EUSAGE, "not a v2 token");
	if (root->nsigs == 0 || root->len == 0)
		return err_set(e, MUSTER_EUSAGE, "the root has no signature");
	cap = 512 + sizeof unit + sodium_base64_ENCODED_LEN(root->len, B64) + tlen;
	for (i = 0; i < root->nsigs; i++)
		cap += 2 * root->textlens[i] + 16;
	buf_init(&b, cap - 1);
	timefmt_format(t->expires, exp);
	/* A bundle is ASCII: a unit's UTF-8 letters as \xHH in its comment. */
	esc_str(t->unit, TOKEN_FIELD_MAX, 0, unit);
	buf_printf(&b, "# Muster enrollment bundle for %s (%s), %s.\n"
	    "# A bearer credential until used or %s: keep it private.\n"
	    "root = \"", t->person, unit, profile_scope_name(t->scope), exp);
	buf_base64(&b, root->bytes, root->len);
	buf_printf(&b, "\";\nroot_signatures = (\n");
	for (i = 0; i < root->nsigs; i++) {
		buf_printf(&b, "  \"");
		if (cfg_escape(&b, root->texts[i], root->textlens[i]) != 0) {
			rc = err_set(e, MUSTER_EUSAGE, "root signature %zu "
			    "holds a control byte", i + 1);
			goto out;
		}
		buf_printf(&b, "\"%s\n", i + 1 < root->nsigs ? "," : "");
	}
	buf_printf(&b, ");\ntoken = \"%s\";\n", token);
	if ((rc = buf_check(&b, "bundle", e)) == 0)
		*out = buf_take(&b, NULL);
out:
	buf_free(&b);
	return rc;
}

static int
bundle2_parse(const char *name, config_setting_t *top, struct sigset **ssp,
    struct root *r, char **token, struct token *t, struct muster_err *e)
{
	static const char *const fields[] = {
		"root", "root_signatures", "token",
	};
	config_setting_t *s, *rs, *tk, *el;
	struct sigset *ss = NULL;
	unsigned char *bin = NULL;
	const char *n, *v;
	size_t binlen = 0, i, j;
	int rc, cnt;

	cnt = config_setting_length(top);
	for (i = 0; i < (size_t)cnt; i++) {
		s = config_setting_get_elem(top, (unsigned)i);
		n = s != NULL ? config_setting_name(s) : NULL;
		for (j = 0; n != NULL && j < 3; j++)
			if (strcmp(n, fields[j]) == 0)
				break;
		if (n == NULL || j == 3)
			return err_set(e, MUSTER_EDATA, "%s:%d: unknown field "
			    "\"%.64s\"", name, s != NULL ?
			    config_setting_source_line(s) : 0, n != NULL ? n :
			    "?");
	}
	s = config_setting_get_member(top, "root");
	rs = config_setting_get_member(top, "root_signatures");
	tk = config_setting_get_member(top, "token");
	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING ||
	    (v = config_setting_get_string(s)) == NULL ||
	    sigset_b64_decode(v, strlen(v), ROOT_MAX, &bin, &binlen) != 0)
		return err_set(e, MUSTER_EDATA, "%s: \"root\" must be the "
		    "base64 of a root of at most %d bytes", name, ROOT_MAX);
	if (rs == NULL || config_setting_type(rs) != CONFIG_TYPE_LIST ||
	    (cnt = config_setting_length(rs)) < 1 || cnt > SIGSET_MAX) {
		rc = err_set(e, MUSTER_EDATA, "%s: \"root_signatures\" must be "
		    "a list ( ... ) of 1 to %d minisign signatures", name,
		    SIGSET_MAX);
		goto out;
	}
	if (tk == NULL || config_setting_type(tk) != CONFIG_TYPE_STRING) {
		rc = err_set(e, MUSTER_EDATA, "%s: \"token\" must be a string",
		    name);
		goto out;
	}
	if ((rc = sigset_new(bin, binlen, ROOT_MAX, 0, &ss, e)) != 0)
		goto out;
	for (i = 0; i < (size_t)cnt; i++) {
		el = config_setting_get_elem(rs, (unsigned)i);
		v = config_setting_type(el) == CONFIG_TYPE_STRING ?
		    config_setting_get_string(el) : NULL;
		if ((rc = sigset_add_nth(ss, name, "root signature", i, v,
		    v != NULL ? strlen(v) : 0, e)) != 0)
			goto out;
	}
	if ((rc = root_verify_self(name, ss, r, e)) != 0)
		goto out;
	ss->version = r->version;
	v = config_setting_get_string(tk);
	if ((rc = token2_verify(v, strlen(v), r, t, e)) != 0 ||
	    (rc = token2_root_match(t, r, e)) != 0)
		goto out;
	if ((*token = strdup(v)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	*ssp = ss;
	ss = NULL;
	rc = 0;
out:
	sigset_free(ss);
	free(bin);
	return rc;
}

int
token2_bundle_parse(const char *name, const char *buf, size_t len,
    struct sigset **root_ss, struct root *r, char **token, struct token *t,
    struct muster_err *e)
{
	struct sig_pubkey pk;
	config_t cfg;
	int cfg_live = 0, rc;

	*root_ss = NULL;
	*token = NULL;
	memset(r, 0, sizeof *r);
	memset(t, 0, sizeof *t);
	if (name == NULL)
		name = "bundle";
	if (buf == NULL || len == 0)
		return err_set(e, MUSTER_EDATA, "%s: empty bundle", name);
	if (len > TOKEN2_BUNDLE_MAX)
		return err_set(e, MUSTER_EDATA, "%s: %zu bytes, more than the "
		    "limit of %d", name, len, TOKEN2_BUNDLE_MAX);
	if ((rc = token_bundle_text(name, buf, len, e)) != 0)
		return rc;
	config_init(&cfg);
	cfg_live = 1;
	if ((rc = cfgscan_read(&cfg, name, "bundle", buf, len, 1, e)) != 0)
		goto out;
	if (config_setting_get_member(config_root_setting(&cfg), "org_key") !=
	    NULL) {
		/* A first-wave bundle: its org key is the legacy root. */
		config_destroy(&cfg);
		cfg_live = 0;
		if ((rc = token_bundle_parse(name, buf, len, &pk, token, t, e)) != 0)
			goto out;
		rc = root_legacy(&pk, t->server, t->pin, r, e);
		goto out;
	}
	rc = bundle2_parse(name, config_root_setting(&cfg), root_ss, r, token,
	    t, e);
out:
	if (cfg_live)
		config_destroy(&cfg);
	if (rc != 0) {
		sigset_free(*root_ss);
		*root_ss = NULL;
		if (*token != NULL)
			fs_free_secret(*token);
		*token = NULL;
		memset(r, 0, sizeof *r);
		memset(t, 0, sizeof *t);
	}
	return rc;
}
