/*
 * root and sigset: the root document's format, the threshold rule and
 * the rotation rule of TUF 1.0 §5.3, with keys made here.  Every refusal
 * of issue 11's "Bad input" list that a root can meet has a case: fewer
 * signatures than the threshold, the same key twice, a removed key, a
 * version that skips or repeats, an expired final root, oversize, an
 * unknown field, a key in two roles, a threshold above the keys.  Each
 * signature also verifies with stock minisign (skipped without it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "muster/fs.h"
#include "muster/root.h"
#include "muster/sigset.h"
#include "trust_fixture.h"

/* root_parse of text, expecting MUSTER_EDATA with want in the message. */
static void
refused(const char *text, const char *want)
{
	struct root r;
	struct muster_err e;

	memset(&e, 0, sizeof e);
	if (root_parse("r.cfg", text, strlen(text), &r, &e) != MUSTER_EDATA)
		fail_msg("not refused (want \"%s\"):\n%s", want, text);
	if (strstr(e.msg, want) == NULL)
		fail_msg("\"%s\" is not \"%s\"", e.msg, want);
	assert_int_equal(r.version, 0);
}

static __attribute__((noinline)) char *
formatted(const struct root *r)
{
	struct muster_err e;
	char *text = NULL;
	size_t len;

	if (root_format(r, &text, &len, &e) != 0)
		fail_msg("root_format: %s", e.msg);
	assert_int_equal(strlen(text), len);
	return text;
}

static void
format_parse_roundtrip(void **state)
{
	struct fx *f = *state;
	struct root r, back;
	struct muster_err e;
	char *text, *again, hash[SIGSET_HASH_HEX];

	fx_root(&r, f, 7, "abc", 2, "de", 1, "f", "g");
	strcpy(r.pins[1], FX_PIN2);
	r.npins = 2;
	text = formatted(&r);
	assert_non_null(strstr(text, "type = \"muster-root\";\nversion = 7;"));
	assert_int_equal(root_parse("r.cfg", text, strlen(text), &back, &e),
	    0);
	assert_int_equal(back.version, 7);
	assert_int_equal(back.expires, r.expires);
	assert_string_equal(back.server, FX_SERVER);
	assert_int_equal(back.npins, 2);
	assert_string_equal(back.pins[0], FX_PIN);
	assert_string_equal(back.pins[1], FX_PIN2);
	assert_int_equal(back.legacy, 0);
	assert_int_equal(back.roles[ROOT_ROLE_ROOT].nkeys, 3);
	assert_int_equal(back.roles[ROOT_ROLE_ROOT].threshold, 2);
	assert_memory_equal(&back.roles[ROOT_ROLE_ROOT].keys[2], &f->pk[2],
	    sizeof f->pk[2]);
	assert_int_equal(back.roles[ROOT_ROLE_POLICY].nkeys, 2);
	assert_memory_equal(root_find_key(&back, ROOT_ROLE_ENROLL,
	    f->pk[6].keyid), &f->pk[6], sizeof f->pk[6]);
	assert_null(root_find_key(&back, ROOT_ROLE_POLICY, f->pk[6].keyid));
	sigset_hash_hex(text, strlen(text), hash);
	assert_string_equal(back.hash, hash);
	assert_true(sigset_hash_ok(hash));
	assert_true(root_pin_ok(&back, FX_PIN2));
	assert_false(root_pin_ok(&back, "sha256//x"));
	/* Deterministic: the parsed root formats to the same bytes. */
	again = formatted(&back);
	assert_string_equal(text, again);
	free(again);
	free(text);
}

static void
names_and_pins(void **state)
{
	struct fx *f = *state;
	struct root r;
	enum root_role role;
	char buf[ROOT_PINS_CURL_MAX], tc[ROOT_TC_MAX];

	assert_string_equal(root_role_name(ROOT_ROLE_REVOCATION),
	    "revocation");
	assert_int_equal(root_role_parse("enroll", &role), 0);
	assert_int_equal(role, ROOT_ROLE_ENROLL);
	assert_int_equal(root_role_parse("org", &role), -1);
	fx_root(&r, f, 1, "a", 1, "b", 1, "c", "d");
	strcpy(r.pins[1], FX_PIN2);
	r.npins = 2;
	assert_int_equal(root_pins_curl(&r, buf, sizeof buf), 0);
	assert_string_equal(buf, FX_PIN ";" FX_PIN2);
	assert_int_equal(root_pins_curl(&r, buf, 20), -1);
	assert_int_equal(root_trusted_comment(12, tc, sizeof tc), 0);
	assert_string_equal(tc, "muster-root version=12");
	assert_true(root_pin_form_ok(FX_PIN));
	assert_false(root_pin_form_ok("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5"
	    "NMpJWZG3hSuFU"));
}

static void
parse_refusals(void **state)
{
	struct fx *f = *state;
	struct root r;
	char *text, *bad, big[ROOT_MAX + 64], keyline[128];

	fx_root(&r, f, 2, "abc", 2, "d", 1, "e", "g");
	text = formatted(&r);

	bad = fx_replace(text, "version = 2;", "version = 2;\nextra = 1;");
	refused(bad, "unknown field \"extra\"");
	free(bad);
	bad = fx_replace(text, "    threshold = 1;\n    keys = [\n",
	    "    threshold = 1;\n    comment = \"x\";\n    keys = [\n");
	refused(bad, "policy: unknown field \"comment\"");
	free(bad);
	bad = fx_replace(text, "type = \"muster-root\"",
	    "type = \"muster-manifest\"");
	refused(bad, "type must be \"muster-root\"");
	free(bad);
	bad = fx_replace(text, "version = 2;", "version = 0;");
	refused(bad, "version 0 out of range");
	free(bad);
	bad = fx_replace(text, "version = 2;", "version = 2147483648L;");
	refused(bad, "out of range");
	free(bad);
	bad = fx_replace(text, "version = 2;", "version = \"2\";");
	refused(bad, "field \"version\" must be an integer");
	free(bad);
	bad = fx_replace(text, "version = 2;\n", "");
	refused(bad, "missing field \"version\"");
	free(bad);
	bad = fx_replace(text, "expires = \"", "expires = \"x");
	refused(bad, "bad expires");
	free(bad);
	bad = fx_replace(text, "https://", "http://");
	refused(bad, "server is not an https://HOST[:PORT] URL");
	free(bad);
	bad = fx_replace(text, "threshold = 2;", "threshold = 4;");
	refused(bad, "root: threshold 4 is not between 1 and its 3 keys");
	free(bad);
	bad = fx_replace(text, "threshold = 2;", "threshold = 0;");
	refused(bad, "root: threshold 0");
	free(bad);
	/* revocation and enroll: threshold exactly 1 (one key held online). */
	fx_root(&r, f, 2, "abc", 2, "d", 1, "ef", "g");
	r.roles[ROOT_ROLE_REVOCATION].threshold = 2;
	free(text);
	text = NULL;
	{
		struct muster_err e;
		size_t len;

		assert_int_equal(root_format(&r, &text, &len, &e),
		    MUSTER_EUSAGE);
		assert_non_null(strstr(e.msg, "revocation: threshold must be "
		    "1"));
		assert_null(text);
	}
	/* A key in two roles, by key or by key id alone. */
	fx_root(&r, f, 2, "abc", 2, "d", 1, "e", "a");
	{
		struct muster_err e;
		size_t len;

		assert_int_equal(root_format(&r, &text, &len, &e),
		    MUSTER_EUSAGE);
		assert_non_null(strstr(e.msg, "is in roles root and enroll"));
	}
	fx_root(&r, f, 2, "abc", 2, "d", 1, "e", "g");
	memcpy(r.roles[ROOT_ROLE_ENROLL].keys[0].keyid, f->pk[3].keyid,
	    SIG_KEYID_BYTES);
	{
		struct muster_err e;
		size_t len;

		assert_int_equal(root_format(&r, &text, &len, &e),
		    MUSTER_EUSAGE);
		assert_non_null(strstr(e.msg, "is in roles policy and enroll"));
	}
	/* The same key twice in one role. */
	fx_root(&r, f, 2, "aba", 2, "d", 1, "e", "g");
	{
		struct muster_err e;
		size_t len;

		assert_int_equal(root_format(&r, &text, &len, &e),
		    MUSTER_EUSAGE);
		assert_non_null(strstr(e.msg, "is listed twice"));
	}
	fx_root(&r, f, 2, "abc", 2, "d", 1, "e", "g");
	text = formatted(&r);
	bad = fx_replace(text, "  revocation = {", "  audit = { threshold = 1; "
	    "keys = [ ]; };\n  revocation = {");
	refused(bad, "roles: unknown field \"audit\"");
	free(bad);
	(void)sig_pubkey_base64(&f->pk[6], keyline, sizeof keyline);
	bad = fx_replace(text, keyline, "RWQ");
	refused(bad, "enroll: key 1 is not a minisign public key line");
	free(bad);
	bad = fx_replace(text, "pins = [\n  \"" FX_PIN "\"", "pins = [\n  \""
	    FX_PIN "\", \"" FX_PIN "\"");
	refused(bad, "pin 2 is listed twice");
	free(bad);
	bad = fx_replace(text, "pins = [\n  \"" FX_PIN "\"", "pins = [\n  \""
	    FX_PIN "\", \"" FX_PIN2 "\", \"sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	    "BBBBBBBBBBBBBB=\", \"sha256//CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
	    "CCCC=\", \"sha256//DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD=\"");
	refused(bad, "5 pins (want 1 to 4)");
	free(bad);
	bad = fx_replace(text, "pins = [\n  \"" FX_PIN "\"", "pins = [\n  \""
	    "sha1//x\"");
	refused(bad, "pin 1 is not sha256//BASE64");
	free(bad);
	bad = fx_replace(text, "type = ", "@include \"/etc/passwd\"\ntype = ");
	refused(bad, "@include");
	free(bad);
	/* Over ROOT_MAX: refused before libconfig sees it. */
	memset(big, '#', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, text, strlen(text));
	refused(big, "more than the limit of 16384");
	free(text);
}

static void
threshold_rule(void **state)
{
	struct fx *f = *state;
	struct root r, got;
	struct sigset *ss;
	struct muster_err e;
	char tc[ROOT_TC_MAX];
	size_t n;

	fx_root(&r, f, 1, "abc", 2, "d", 1, "e", "g");
	/* 2 of 3 signed: trusted. */
	ss = fx_signed_root(&r, f, "ac", 0);
	assert_int_equal(root_verify_self("1.cfg", ss, &got, &e), 0);
	assert_int_equal(got.version, 1);
	sigset_free(ss);

	/* Fewer keys than the threshold. */
	ss = fx_signed_root(&r, f, "b", 0);
	assert_int_equal(root_verify_self("1.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "signed by 1 of the 2 keys required "
	    "(threshold 2 of 3)"));
	assert_int_equal(got.version, 0);
	sigset_free(ss);

	/* The same key twice counts once. */
	ss = fx_signed_root(&r, f, "bb", 0);
	assert_int_equal(ss->nsigs, 2);
	assert_int_equal(root_verify_self("1.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	assert_int_equal(sigset_threshold(ss, r.roles[0].keys, 3, 2, NULL,
	    "t", &n, &e), MUSTER_ETRUST);
	assert_int_equal(n, 1);
	sigset_free(ss);

	/* Keys outside the role are ignored, however many. */
	ss = fx_signed_root(&r, f, "adefghijkl", 0);
	assert_int_equal(root_verify_self("1.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "signed by 1 of the 2"));
	sigset_free(ss);

	/* A trusted comment for another version does not count. */
	ss = fx_signed_root(&r, f, "ab", 2);
	assert_int_equal(root_verify_self("1.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "is not \"muster-root version=1\""));
	sigset_free(ss);

	/* Tampered bytes: no signature counts. */
	ss = fx_signed_root(&r, f, "abc", 0);
	ss->bytes[ss->len - 2] = ' ';
	assert_int_equal(root_verify_self("1.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "signed by 0 of the 2"));
	sigset_free(ss);

	/* A wire version that is not the document's. */
	ss = fx_signed_root(&r, f, "ab", 0);
	ss->version = 2;
	assert_int_equal(root_verify_self("1.cfg", ss, &got, &e),
	    MUSTER_EDATA);
	assert_string_equal(e.msg, "1.cfg: sent as version 2, the document "
	    "is version 1");
	assert_int_equal(got.version, 0);
	/* The 17th signature is malformed. */
	ss->version = 0;
	assert_int_equal(root_trusted_comment(1, tc, sizeof tc), 0);
	fx_sign(ss, f, "abcdefghijkl", tc);
	fx_sign(ss, f, "ab", tc);
	assert_int_equal(ss->nsigs, SIGSET_MAX);
	assert_int_equal(sigset_sign(ss, f->sk[0], tc, &e), MUSTER_EDATA);
	assert_int_equal(sigset_add(ss, "s", ss->texts[0], ss->textlens[0],
	    &e), MUSTER_EDATA);
	sigset_free(ss);
	/* Threshold 0 is never met. */
	ss = fx_signed_root(&r, f, "abc", 0);
	assert_int_equal(sigset_threshold(ss, r.roles[0].keys, 3, 0, NULL,
	    "t", NULL, &e), MUSTER_ETRUST);
	sigset_free(ss);
}

/* root_update of cur to next signed by signers; the result code. */
static int
rotate(const struct fx *f, const struct root *cur, const struct root *next,
    const char *signers, struct root *out, struct muster_err *e)
{
	struct sigset *ss = fx_signed_root(next, f, signers, 0);
	int rc = root_update(cur, "next.cfg", ss, out, e);

	sigset_free(ss);
	return rc;
}

static void
rotation_rule(void **state)
{
	struct fx *f = *state;
	struct root v1, v2, v3, got;
	struct sigset *ss;
	struct muster_err e;

	fx_root(&v1, f, 1, "abc", 2, "d", 1, "e", "g");
	fx_root(&v2, f, 2, "hij", 2, "d", 1, "e", "g");
	/* New root keys: 2 of the old and 2 of the new. */
	assert_int_equal(rotate(f, &v1, &v2, "abhi", &got, &e), 0);
	assert_int_equal(got.version, 2);
	assert_memory_equal(&got.roles[0].keys[0], &f->pk[7],
	    sizeof f->pk[7]);
	/* Only the old keys, or only the new. */
	assert_int_equal(rotate(f, &v1, &v2, "abc", &got, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "by its own root keys: signed by 0"));
	assert_int_equal(got.version, 0);
	assert_int_equal(rotate(f, &v1, &v2, "hij", &got, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "by the root keys of root 1: signed by "
	    "0"));
	/* One old key short. */
	assert_int_equal(rotate(f, &v1, &v2, "ahij", &got, &e),
	    MUSTER_ETRUST);

	/* A version that skips or repeats, in the document or the wire. */
	fx_root(&v3, f, 3, "abc", 2, "d", 1, "e", "g");
	assert_int_equal(rotate(f, &v1, &v3, "abc", &got, &e), MUSTER_ETRUST);
	fx_root(&v3, f, 1, "abc", 2, "d", 1, "e", "g");
	assert_int_equal(rotate(f, &v1, &v3, "abc", &got, &e), MUSTER_ETRUST);
	ss = fx_signed_root(&v2, f, "abhi", 0);
	ss->version = 3;
	assert_int_equal(root_update(&v1, "2.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "version skip"));
	ss->version = 1;
	assert_int_equal(root_update(&v1, "2.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "rollback or repeat"));
	ss->version = 2;
	assert_int_equal(root_update(&v1, "2.cfg", ss, &got, &e), 0);
	sigset_free(ss);
	/* Signed as version 2 (the comment) but the document says 3. */
	fx_root(&v3, f, 3, "abc", 2, "d", 1, "e", "g");
	ss = fx_signed_root(&v3, f, "abc", 2);
	assert_int_equal(root_update(&v1, "2.cfg", ss, &got, &e),
	    MUSTER_ETRUST);
	sigset_free(ss);

	/* An expired intermediate root is walked; the newest is judged. */
	v2.expires = time(NULL) - 86400;
	assert_int_equal(rotate(f, &v1, &v2, "abhi", &got, &e), 0);
	assert_int_equal(root_expired(&got, time(NULL)), 1);
	assert_int_equal(root_expired(&v1, time(NULL)), 0);
	fx_root(&v3, f, 3, "hij", 2, "d", 1, "e", "g");
	assert_int_equal(rotate(f, &got, &v3, "hi", &got, &e), 0);
	assert_int_equal(root_expired(&got, time(NULL)), 0);
}

/*
 * The chain of issue 11: 2-of-3 -> 2-of-3 with one key replaced, after
 * which the removed key's signatures no longer count, and a policy key
 * replaced by rotation.
 */
static void
chain_walk(void **state)
{
	struct fx *f = *state;
	struct root chain[5], held;
	struct sigset *ss;
	struct muster_err e;
	int i;

	fx_root(&chain[0], f, 1, "abc", 2, "d", 1, "e", "f");
	fx_root(&chain[1], f, 2, "abh", 2, "d", 1, "e", "f");	/* c removed */
	fx_root(&chain[2], f, 3, "abh", 2, "i", 1, "e", "f");	/* new policy */
	fx_root(&chain[3], f, 4, "bhj", 2, "i", 1, "k", "f");
	fx_root(&chain[4], f, 5, "bhj", 2, "i", 1, "k", "l");

	ss = fx_signed_root(&chain[0], f, "bc", 0);
	assert_int_equal(root_verify_self("1.cfg", ss, &held, &e), 0);
	sigset_free(ss);
	/* v2: a, c of v1; a, h of v2. */
	ss = fx_signed_root(&chain[1], f, "ach", 0);
	assert_int_equal(root_update(&held, "2.cfg", ss, &held, &e), 0);
	sigset_free(ss);
	/* v3 signed by b and the removed c: c no longer counts. */
	ss = fx_signed_root(&chain[2], f, "bc", 0);
	assert_int_equal(root_update(&held, "3.cfg", ss, &held, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "signed by 1 of the 2"));
	sigset_free(ss);
	/* root_update zeroes its output on failure: start again from v2. */
	ss = fx_signed_root(&chain[0], f, "ab", 0);
	assert_int_equal(root_verify_self("1.cfg", ss, &held, &e), 0);
	sigset_free(ss);
	ss = fx_signed_root(&chain[1], f, "ab", 0);
	assert_int_equal(root_update(&held, "2.cfg", ss, &held, &e), 0);
	sigset_free(ss);
	for (i = 2; i < 5; i++) {
		ss = fx_signed_root(&chain[i], f, "bhj", 0);
		if (root_update(&held, "N.cfg", ss, &held, &e) != 0)
			fail_msg("step to %d: %s", i + 1, e.msg);
		sigset_free(ss);
	}
	assert_int_equal(held.version, 5);
	assert_non_null(root_find_key(&held, ROOT_ROLE_POLICY,
	    f->pk[8].keyid));
	assert_null(root_find_key(&held, ROOT_ROLE_POLICY, f->pk[3].keyid));
	assert_null(root_find_key(&held, ROOT_ROLE_ROOT, f->pk[2].keyid));
	/* Nothing the removed root keys a and c sign counts any more. */
	fx_root(&chain[0], f, 6, "bhj", 2, "i", 1, "k", "l");
	ss = fx_signed_root(&chain[0], f, "acbh", 0);
	assert_int_equal(root_update(&held, "6.cfg", ss, &chain[1], &e), 0);
	sigset_free(ss);
	ss = fx_signed_root(&chain[0], f, "acb", 0);
	assert_int_equal(root_update(&held, "6.cfg", ss, &chain[1], &e),
	    MUSTER_ETRUST);
	sigset_free(ss);
}

static void
legacy_root(void **state)
{
	struct fx *f = *state;
	struct root old, v2, got;
	struct muster_err e;
	int i;

	assert_int_equal(root_legacy(&f->pk[0], FX_SERVER, FX_PIN, &old, &e),
	    0);
	assert_int_equal(old.version, 1);
	assert_int_equal(old.legacy, 1);
	assert_string_equal(old.hash, "");
	assert_string_equal(old.pins[0], FX_PIN);
	for (i = 0; i < ROOT_NROLES; i++) {
		assert_int_equal(old.roles[i].nkeys, 1);
		assert_int_equal(old.roles[i].threshold, 1);
		assert_non_null(root_find_key(&old, (enum root_role)i,
		    f->pk[0].keyid));
	}
	assert_int_equal(root_expired(&old, time(NULL) + 100 * FX_YEAR), 0);
	assert_int_equal(root_legacy(&f->pk[0], "http://x", FX_PIN, &got, &e),
	    MUSTER_EDATA);
	assert_int_equal(root_legacy(&f->pk[0], FX_SERVER, "x", &got, &e),
	    MUSTER_EDATA);
	/* Migration: root 2 signed by the org key and by its own keys. */
	fx_root(&v2, f, 2, "bc", 2, "a", 1, "d", "e");
	assert_int_equal(rotate(f, &old, &v2, "abc", &got, &e), 0);
	assert_int_equal(got.legacy, 0);
	assert_int_equal(rotate(f, &old, &v2, "bc", &got, &e), MUSTER_ETRUST);
}

static void
json_wire(void **state)
{
	struct fx *f = *state;
	struct root r, got;
	struct sigset *ss, *back = NULL;
	struct muster_err e;
	json_t *o, *bad;
	size_t i;

	fx_root(&r, f, 3, "abc", 2, "d", 1, "e", "g");
	ss = fx_signed_root(&r, f, "ab", 0);
	assert_int_equal(sigset_to_json(ss, &o, &e), MUSTER_EUSAGE);
	ss->version = 3;
	assert_int_equal(sigset_to_json(ss, &o, &e), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 3);
	assert_int_equal(sigset_from_json("w", o, ROOT_MAX, &back, &e), 0);
	assert_int_equal(back->len, ss->len);
	assert_memory_equal(back->bytes, ss->bytes, ss->len);
	assert_int_equal(back->nsigs, 2);
	for (i = 0; i < 2; i++)
		assert_string_equal(back->texts[i], ss->texts[i]);
	assert_int_equal(root_verify_self("w", back, &got, &e), 0);
	sigset_free(back);

	/* Malformed: each refused with MUSTER_EDATA. */
	bad = json_deep_copy(o);
	json_object_set_new(bad, "extra", json_true());
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	assert_null(back);
	json_decref(bad);
	bad = json_deep_copy(o);
	json_object_set_new(bad, "version", json_integer(0));
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	json_decref(bad);
	bad = json_deep_copy(o);
	json_object_set_new(bad, "bytes", json_string("dHlwZQ"));	/* no pad */
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	json_object_set_new(bad, "bytes", json_string("dHlwZR=="));	/* bits */
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	json_object_set_new(bad, "bytes", json_string("dHlw\nZQ=="));
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	json_object_set_new(bad, "bytes", json_string("dHlwZQ=="));
	assert_int_equal(sigset_from_json("w", bad, 3, &back, &e),
	    MUSTER_EDATA);
	assert_int_equal(sigset_from_json("w", bad, 4, &back, &e), 0);
	sigset_free(back);
	json_decref(bad);
	bad = json_deep_copy(o);
	json_object_set_new(bad, "signatures", json_array());
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	for (i = 0; i < SIGSET_MAX + 1; i++)
		json_array_append_new(json_object_get(bad, "signatures"),
		    json_string(ss->texts[0]));
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	json_array_clear(json_object_get(bad, "signatures"));
	json_array_append_new(json_object_get(bad, "signatures"),
	    json_string("untrusted comment: x\nnot a signature\n"));
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	json_decref(bad);
	bad = json_array();
	assert_int_equal(sigset_from_json("w", bad, ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	json_decref(bad);
	json_decref(o);
	sigset_free(ss);
}

/* A fresh private directory for one test; the caller removes it. */
static void
tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "%s/muster-root.XXXXXX", getenv("TMPDIR") != NULL ?
	    getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
}

static void
rmtree(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
org_layout(void **state)
{
	struct fx *f = *state;
	struct root r, got;
	struct sigset *ss, *back;
	struct muster_err e;
	char dir[4096], path[4200], *name;
	size_t i;

	tmpdir(dir, sizeof dir);
	fx_root(&r, f, 2, "abc", 2, "d", 1, "e", "g");
	ss = fx_signed_root(&r, f, "cab", 0);
	assert_int_equal(sigset_load_dir(dir, "2.cfg", ROOT_MAX, &back, &e),
	    MUSTER_ENOINPUT);
	snprintf(path, sizeof path, "%s/2.cfg", dir);
	assert_int_equal(fs_write_atomic(path, ss->bytes, ss->len, 0644, &e),
	    0);
	assert_int_equal(sigset_load_dir(dir, "2.cfg", ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "no signature"));
	for (i = 0; i < ss->nsigs; i++)
		assert_int_equal(sigset_write_sig(dir, "2.cfg", ss->texts[i],
		    ss->textlens[i], &e), 0);
	assert_int_equal(sigset_sig_name("2.cfg", f->pk[0].keyid, &name, &e),
	    0);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(access(path, R_OK), 0);
	assert_int_equal(strlen(name), strlen("2.cfg.") + 16 +
	    strlen(".minisig"));
	free(name);
	assert_int_equal(sigset_load_dir(dir, "2.cfg", ROOT_MAX, &back, &e),
	    0);
	assert_int_equal(back->nsigs, 3);
	assert_int_equal(back->version, 0);
	assert_int_equal(root_verify_self("2.cfg", back, &got, &e), 0);
	/* In key id order, whatever order they were written in. */
	for (i = 1; i < back->nsigs; i++)
		assert_true(memcmp(back->sigs[i - 1]->keyid,
		    back->sigs[i]->keyid, SIG_KEYID_BYTES) != 0);
	sigset_free(back);
	/* A signature in a file named for another key. */
	assert_int_equal(sigset_sig_name("2.cfg", f->pk[9].keyid, &name, &e),
	    0);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	free(name);
	assert_int_equal(fs_write_atomic(path, ss->texts[0], ss->textlens[0],
	    0644, &e), 0);
	assert_int_equal(sigset_load_dir(dir, "2.cfg", ROOT_MAX, &back, &e),
	    MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "named for another key"));
	sigset_free(ss);
	rmtree(dir);
}

/* Each signature of a root verifies with stock minisign -V. */
static void
stock_minisign(void **state)
{
	struct fx *f = *state;
	struct root r;
	struct sigset *ss;
	struct muster_err e;
	char dir[4096], path[4200], cmd[16384], *pub, *name;
	size_t i;
	int k;

	if (system("command -v minisign >/dev/null 2>&1") != 0) {
		print_message("# SKIP minisign is not installed "
		    "(scripts/deps.sh installs it)\n");
		skip();
	}
	tmpdir(dir, sizeof dir);
	fx_root(&r, f, 2, "abc", 2, "d", 1, "e", "g");
	ss = fx_signed_root(&r, f, "abc", 0);
	snprintf(path, sizeof path, "%s/2.cfg", dir);
	assert_int_equal(fs_write_atomic(path, ss->bytes, ss->len, 0644, &e),
	    0);
	for (i = 0; i < ss->nsigs; i++) {
		assert_int_equal(sigset_write_sig(dir, "2.cfg", ss->texts[i],
		    ss->textlens[i], &e), 0);
		k = (int)i;	/* signed by a, b, c in that order */
		assert_int_equal(sig_pubkey_format(&f->pk[k], &pub, &e), 0);
		snprintf(path, sizeof path, "%s/root-%d.pub", dir, k + 1);
		assert_int_equal(fs_write_atomic(path, pub, strlen(pub), 0644,
		    &e), 0);
		free(pub);
		assert_int_equal(sigset_sig_name("2.cfg", f->pk[k].keyid, &name,
		    &e), 0);
		snprintf(cmd, sizeof cmd, "cd '%s' && minisign -V -q -p "
		    "root-%d.pub -m 2.cfg -x %s", dir, k + 1, name);
		if (system(cmd) != 0)
			fail_msg("stock minisign refused %s", name);
		/* And refuses it with another root key. */
		snprintf(cmd, sizeof cmd, "cd '%s' && minisign -V -q -p "
		    "root-%d.pub -m 2.cfg -x %s 2>/dev/null", dir,
		    (k + 1) % 3 + 1, name);
		if (system(cmd) == 0)
			fail_msg("stock minisign took %s with another key",
			    name);
		free(name);
	}
	/* The trusted comment minisign shows is the root's. */
	assert_string_equal(ss->sigs[0]->trusted, "muster-root version=2");
	sigset_free(ss);
	rmtree(dir);
}

/* The canonical base64 of a document's bytes: one spelling only. */
static void
b64_and_nth(void **state)
{
	unsigned char *bin = NULL;
	size_t len = 0;
	struct sigset *ss = NULL;
	struct muster_err e;

	(void)state;
	assert_int_equal(sigset_b64_decode("aGk=", 4, 16, &bin, &len), 0);
	assert_int_equal(len, 2);
	assert_memory_equal(bin, "hi", 2);
	free(bin);
	assert_int_equal(sigset_b64_decode("aGl=", 4, 16, &bin, &len), -1);
	assert_null(bin);
	assert_int_equal(sigset_b64_decode("aGk", 3, 16, &bin, &len), -1);
	assert_int_equal(sigset_b64_decode("aG k", 4, 16, &bin, &len), -1);
	assert_int_equal(sigset_b64_decode("", 0, 16, &bin, &len), -1);
	assert_int_equal(sigset_b64_decode("aGk=", 4, 1, &bin, &len), -1);
	assert_int_equal(sigset_new("hi", 2, 16, 0, &ss, &e), 0);
	assert_int_equal(sigset_add_nth(ss, "org/root.json", "signature", 1,
	    NULL, 0, &e), MUSTER_EDATA);
	assert_string_equal(e.msg, "org/root.json: signature 2: not a string");
	assert_int_not_equal(sigset_add_nth(ss, "r", "root signature", 0, "x",
	    1, &e), 0);
	assert_int_equal(ss->nsigs, 0);
	sigset_free(ss);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_parse_roundtrip),
		cmocka_unit_test(names_and_pins),
		cmocka_unit_test(parse_refusals),
		cmocka_unit_test(threshold_rule),
		cmocka_unit_test(rotation_rule),
		cmocka_unit_test(chain_walk),
		cmocka_unit_test(legacy_root),
		cmocka_unit_test(json_wire),
		cmocka_unit_test(org_layout),
		cmocka_unit_test(stock_minisign),
		cmocka_unit_test(b64_and_nth),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}
