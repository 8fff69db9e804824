/*
 * sigset: a document's exact bytes and the minisign signatures over them,
 * and the threshold rule of TUF 1.0 §5.3.4; see include/muster/sigset.h.
 */
#include <sys/types.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/fs.h"
#include "muster/sigset.h"

#define B64	sodium_base64_VARIANT_ORIGINAL
#define REASON_MAX	256
#define ROLE_KEYS_MAX	64	/* far above any role (ROOT_KEYS_MAX) */

int
sigset_new(const void *bytes, size_t len, size_t max, int64_t version,
    struct sigset **out, struct muster_err *e)
{
	struct sigset *ss;

	*out = NULL;
	if (max > SIGSET_BYTES_MAX)
		max = SIGSET_BYTES_MAX;
	if (len == 0 || bytes == NULL)
		return err_set(e, MUSTER_EDATA, "empty signed document");
	if (len > max)
		return err_set(e, MUSTER_EDATA, "signed document of %zu bytes, "
		    "more than the limit of %zu", len, max);
	if (version < 0 || version > SIGSET_VERSION_MAX)
		return err_set(e, MUSTER_EDATA, "version %lld out of range",
		    (long long)version);
	if ((ss = calloc(1, sizeof *ss)) == NULL ||
	    (ss->bytes = malloc(len)) == NULL) {
		free(ss);
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	memcpy(ss->bytes, bytes, len);
	ss->len = len;
	ss->version = version;
	*out = ss;
	return 0;
}

void
sigset_free(struct sigset *ss)
{
	size_t i;

	if (ss == NULL)
		return;
	for (i = 0; i < ss->nsigs; i++) {
		free(ss->texts[i]);
		free(ss->sigs[i]);
	}
	free(ss->bytes);
	free(ss);
}

int
sigset_add(struct sigset *ss, const char *name, const char *text, size_t len,
    struct muster_err *e)
{
	struct sig_signature *s = NULL;
	char *copy = NULL;
	int rc;

	if (ss->nsigs >= SIGSET_MAX)
		return err_set(e, MUSTER_EDATA, "%s: more than %d signatures",
		    name, SIGSET_MAX);
	if ((s = malloc(sizeof *s)) == NULL || (copy = malloc(len + 1)) ==
	    NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = sig_parse(name, text, len, s, e)) != 0)
		goto out;
	memcpy(copy, text, len);
	copy[len] = '\0';
	ss->texts[ss->nsigs] = copy;
	ss->textlens[ss->nsigs] = len;
	ss->sigs[ss->nsigs] = s;
	ss->nsigs++;
	copy = NULL;
	s = NULL;
	rc = 0;
out:
	free(copy);
	free(s);
	return rc;
}

int
sigset_add_nth(struct sigset *ss, const char *name, const char *what,
    size_t i, const char *text, size_t len, struct muster_err *e)
{
	char label[64];

	snprintf(label, sizeof label, "%.32s: %s %zu", name, what, i + 1);
	if (text == NULL)
		return err_set(e, MUSTER_EDATA, "%s: not a string", label);
	return sigset_add(ss, label, text, len, e);
}

int
sigset_sign(struct sigset *ss, const struct sig_seckey *sk,
    const char *trusted, struct muster_err *e)
{
	char *text = NULL;
	size_t len;
	int rc;

	if (ss->nsigs >= SIGSET_MAX)
		return err_set(e, MUSTER_EDATA, "already %d signatures",
		    SIGSET_MAX);
	if ((rc = sig_sign(sk, ss->bytes, ss->len, trusted, NULL, &text, &len,
	    e)) != 0)
		return rc;
	rc = sigset_add(ss, "new signature", text, len, e);
	free(text);
	return rc;
}

int
sigset_threshold(const struct sigset *ss, const struct sig_pubkey *keys,
    size_t nkeys, unsigned threshold, const char *trusted, const char *what,
    size_t *count, struct muster_err *e)
{
	unsigned char counted[ROLE_KEYS_MAX];
	char reason[REASON_MAX], hex[SIG_KEYID_HEX];
	struct muster_err ve;
	const struct sig_signature *s;
	size_t i, k, n = 0;

	if (count != NULL)
		*count = 0;
	reason[0] = '\0';
	if (nkeys > sizeof counted)
		return err_set(e, MUSTER_EINTERNAL, "%s: too many keys", what);
	memset(counted, 0, sizeof counted);
	for (i = 0; i < ss->nsigs; i++) {
		s = ss->sigs[i];
		for (k = 0; k < nkeys; k++)
			if (memcmp(s->keyid, keys[k].keyid,
			    SIG_KEYID_BYTES) == 0)
				break;
		if (k == nkeys || counted[k])
			continue;	/* not of the role, or counted once */
		sig_keyid_hex(s->keyid, hex);
		if (sig_verify(s, &keys[k], ss->bytes, ss->len, &ve) != 0) {
			if (reason[0] == '\0')
				snprintf(reason, sizeof reason, "; key %s: %.200s",
				    hex, ve.msg);
			continue;
		}
		if (trusted != NULL && strcmp(s->trusted, trusted) != 0) {
			if (reason[0] == '\0')
				snprintf(reason, sizeof reason, "; key %s: "
				    "trusted comment \"%.64s\" is not \"%.80s\"",
				    hex, s->trusted, trusted);
			continue;
		}
		counted[k] = 1;
		n++;
	}
	if (count != NULL)
		*count = n;
	if (threshold < 1 || n < threshold)
		return err_set(e, MUSTER_ETRUST, "%s: signed by %zu of the %u "
		    "keys required (threshold %u of %zu)%s", what, n, threshold,
		    threshold, nkeys, reason);
	return 0;
}

int
sigset_to_json(const struct sigset *ss, json_t **out, struct muster_err *e)
{
	json_t *arr = NULL;
	char *b64 = NULL;
	size_t i, blen;

	*out = NULL;
	if (ss->nsigs == 0 || ss->version < 1)
		return err_set(e, MUSTER_EUSAGE, "a signed document needs a "
		    "version and a signature");
	/* Anything that fails here is memory: one message for all. */
	blen = sodium_base64_ENCODED_LEN(ss->len, B64);
	if ((b64 = malloc(blen)) != NULL && (arr = json_array()) != NULL) {
		sodium_bin2base64(b64, blen, ss->bytes, ss->len, B64);
		for (i = 0; i < ss->nsigs && json_array_append_new(arr,
		    json_stringn(ss->texts[i], ss->textlens[i])) == 0; i++)
			;
		if (i == ss->nsigs)
			*out = json_pack("{s:I,s:s,s:O}", "version",
			    (json_int_t)ss->version, "bytes", b64,
			    "signatures", arr);
	}
	json_decref(arr);
	free(b64);
	if (*out == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	return 0;
}

/* 1 if s[0..len) is in the standard base64 alphabet with valid padding. */
static int
b64_alphabet_ok(const char *s, size_t len)
{
	size_t i, pad = 0;

	if (len == 0 || len % 4 != 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '+' || s[i] == '/'))
			return 0;
	}
	return pad <= 2;
}

int
sigset_b64_decode(const char *s, size_t len, size_t max, unsigned char **out,
    size_t *outlen)
{
	unsigned char *bin = NULL;
	char *again = NULL;
	const char *end = NULL;
	size_t got = 0;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (!b64_alphabet_ok(s, len) || len / 4 * 3 > max + 2)
		return -1;
	if ((bin = malloc(len / 4 * 3 + 1)) == NULL)
		return -1;
	if (sodium_base642bin(bin, len / 4 * 3 + 1, s, len, NULL, &got, &end,
	    B64) != 0 || end != s + len || got == 0 || got > max)
		goto out;
	if ((again = malloc(sodium_base64_ENCODED_LEN(got, B64))) == NULL)
		goto out;
	sodium_bin2base64(again, sodium_base64_ENCODED_LEN(got, B64), bin, got,
	    B64);
	if (strlen(again) != len || memcmp(again, s, len) != 0)
		goto out;
	*out = bin;
	*outlen = got;
	bin = NULL;
	rc = 0;
out:
	free(again);
	free(bin);
	return rc;
}

int
sigset_from_json(const char *name, const json_t *obj, size_t max,
    struct sigset **out, struct muster_err *e)
{
	struct sigset *ss = NULL;
	unsigned char *bin = NULL;
	const json_t *ver, *bytes, *sigs, *el;
	const char *key;
	json_t *val;
	json_int_t v;
	size_t binlen, i, n;
	int rc;

	*out = NULL;
	if (max > SIGSET_BYTES_MAX)
		max = SIGSET_BYTES_MAX;
	if (!json_is_object(obj))
		return err_set(e, MUSTER_EDATA, "%s: not an object", name);
	json_object_foreach((json_t *)obj, key, val)
		if (strcmp(key, "version") != 0 && strcmp(key, "bytes") != 0 &&
		    strcmp(key, "signatures") != 0)
			return err_set(e, MUSTER_EDATA, "%s: unknown member "
			    "\"%.64s\"", name, key);
	ver = json_object_get(obj, "version");
	bytes = json_object_get(obj, "bytes");
	sigs = json_object_get(obj, "signatures");
	if (!json_is_integer(ver) || (v = json_integer_value(ver)) < 1 ||
	    v > SIGSET_VERSION_MAX)
		return err_set(e, MUSTER_EDATA, "%s: \"version\" must be an "
		    "integer from 1 to %d", name, SIGSET_VERSION_MAX);
	if (!json_is_string(bytes) || sigset_b64_decode(json_string_value(bytes),
	    json_string_length(bytes), max, &bin, &binlen) != 0)
		return err_set(e, MUSTER_EDATA, "%s: \"bytes\" must be base64 "
		    "of 1 to %zu bytes", name, max);
	n = json_array_size(sigs);
	if (!json_is_array(sigs) || n < 1 || n > SIGSET_MAX) {
		rc = err_set(e, MUSTER_EDATA, "%s: \"signatures\" must be an "
		    "array of 1 to %d minisign signatures", name, SIGSET_MAX);
		goto out;
	}
	if ((rc = sigset_new(bin, binlen, max, (int64_t)v, &ss, e)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		el = json_array_get(sigs, i);
		if ((rc = sigset_add_nth(ss, name, "signature", i,
		    json_is_string(el) ? json_string_value(el) : NULL,
		    json_string_length(el), e)) != 0)
			goto out;
	}
	*out = ss;
	ss = NULL;
	rc = 0;
out:
	sigset_free(ss);
	free(bin);
	return rc;
}

int
sigset_version_check(const struct sigset *ss, const char *name,
    int64_t version, struct muster_err *e)
{
	if (ss->version == 0 || ss->version == version)
		return 0;
	return err_set(e, MUSTER_EDATA, "%s: sent as version %" PRId64
	    ", the document is version %" PRId64, name, ss->version, version);
}

int
sigset_sig_name(const char *doc, const unsigned char keyid[SIG_KEYID_BYTES],
    char **out, struct muster_err *e)
{
	char hex[SIG_KEYID_HEX];

	sig_keyid_hex(keyid, hex);
	if (asprintf(out, "%s.%s%s", doc, hex, SIGSET_SIG_SUFFIX) == -1) {
		*out = NULL;
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	return 0;
}

/* 1 if name is doc "." 16 upper-case hex digits ".minisig". */
static int
sig_file_name_ok(const char *name, const char *doc)
{
	size_t dlen = strlen(doc), slen = strlen(SIGSET_SIG_SUFFIX), i;

	if (strlen(name) != dlen + 1 + 2 * SIG_KEYID_BYTES + slen ||
	    strncmp(name, doc, dlen) != 0 || name[dlen] != '.' ||
	    strcmp(name + dlen + 1 + 2 * SIG_KEYID_BYTES,
	    SIGSET_SIG_SUFFIX) != 0)
		return 0;
	for (i = dlen + 1; i < dlen + 1 + 2 * SIG_KEYID_BYTES; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'A' && name[i] <= 'F')))
			return 0;
	return 1;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sigset_load_dir(const char *dir, const char *doc, size_t max,
    struct sigset **out, struct muster_err *e)
{
	struct sigset *ss = NULL;
	struct dirent *de;
	DIR *d = NULL;
	struct muster_err ne;
	char *names[SIGSET_MAX + 1], *path = NULL, *buf = NULL;
	char got[SIG_KEYID_HEX];
	size_t nnames = 0, len, i;
	int rc;

	*out = NULL;
	if ((path = fs_path(dir, doc)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = fs_read_file(path, max, &buf, &len, e)) != 0)
		goto out;
	if ((rc = sigset_new(buf, len, max, 0, &ss, &ne)) != 0) {
		rc = err_set(e, rc, "%s: %s", path, ne.msg);
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		rc = err_sys(e, MUSTER_ENOINPUT, "%s", dir);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!sig_file_name_ok(de->d_name, doc))
			continue;
		if (nnames == SIGSET_MAX) {
			rc = err_set(e, MUSTER_EDATA, "%s: more than %d "
			    "signature files", path, SIGSET_MAX);
			goto out;
		}
		if ((names[nnames] = strdup(de->d_name)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		nnames++;
	}
	if (nnames == 0) {
		rc = err_set(e, MUSTER_EDATA, "%s: no signature (%s.KEYID%s)",
		    path, doc, SIGSET_SIG_SUFFIX);
		goto out;
	}
	qsort(names, nnames, sizeof names[0], name_cmp);
	for (i = 0; i < nnames; i++) {
		free(path);
		free(buf);
		buf = NULL;
		if ((path = fs_path(dir, names[i])) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		if ((rc = fs_read_file(path, SIG_FILE_MAX, &buf, &len, e)) != 0 ||
		    (rc = sigset_add(ss, path, buf, len, e)) != 0)
			goto out;
		sig_keyid_hex(ss->sigs[ss->nsigs - 1]->keyid, got);
		if (strncmp(names[i] + strlen(doc) + 1, got,
		    2 * SIG_KEYID_BYTES) != 0) {
			rc = err_set(e, MUSTER_EDATA, "%s: a signature by key "
			    "%s in the file named for another key", path, got);
			goto out;
		}
	}
	*out = ss;
	ss = NULL;
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(path);
	free(buf);
	sigset_free(ss);
	return rc;
}

int
sigset_write_sig(const char *dir, const char *doc, const char *text,
    size_t len, struct muster_err *e)
{
	struct sig_signature *s = NULL;
	char *name = NULL, *path = NULL;
	int rc;

	if ((s = malloc(sizeof *s)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = sig_parse("signature", text, len, s, e)) != 0)
		goto out;
	if ((rc = sigset_sig_name(doc, s->keyid, &name, e)) != 0)
		goto out;
	if ((path = fs_path(dir, name)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = fs_write_atomic(path, text, len, 0644, e);
out:
	free(path);
	free(name);
	free(s);
	return rc;
}

void
sigset_hash_hex(const void *buf, size_t len, char out[SIGSET_HASH_HEX])
{
	unsigned char h[SIGSET_HASH_BYTES];

	crypto_generichash(h, sizeof h, buf, len, NULL, 0);
	sodium_bin2hex(out, SIGSET_HASH_HEX, h, sizeof h);
}

int
sigset_hash_ok(const char *s)
{
	size_t i;

	for (i = 0; i < SIGSET_HASH_HEX - 1; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' &&
		    s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}
