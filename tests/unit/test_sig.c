/*
 * sig: minisign-compatible keys and signatures.  Golden vectors made by
 * stock minisign (tests/data/minisign) must verify; every forgery must not.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/sig.h"

#define DATA "tests/data/minisign/"

/* Reads a test file whole; the caller frees it.  (noinline: gcc 12
 * otherwise warns of a dangling pointer it imagines.) */
static __attribute__((noinline)) char *
slurp(const char *path, size_t *len)
{
	struct muster_err e;
	char *buf = NULL;

	if (fs_read_file(path, 1 << 20, &buf, len, &e) != 0)
		fail_msg("%s", e.msg);
	return buf;
}

static void
golden_verifies(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_signature s;
	size_t mlen, slen, llen;
	char *msg = slurp(DATA "msg.txt", &mlen);
	char *sig = slurp(DATA "msg.txt.minisig", &slen);
	char *leg = slurp(DATA "msg.txt.legacy.minisig", &llen);

	(void)state;
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &pk, &e), 0);
	assert_int_equal(sig_parse("g", sig, slen, &s, &e), 0);
	assert_memory_equal(s.alg, "ED", 2);
	assert_string_equal(s.trusted, "golden trusted comment");
	assert_int_equal(sig_verify(&s, &pk, msg, mlen, &e), 0);
	assert_int_equal(sig_parse("l", leg, llen, &s, &e), 0);
	assert_memory_equal(s.alg, "Ed", 2);
	assert_int_equal(sig_verify(&s, &pk, msg, mlen, &e), 0);
	/* The message with one byte more fails. */
	assert_int_equal(sig_verify(&s, &pk, msg, mlen - 1, &e),
	    MUSTER_ETRUST);
	free(msg);
	free(sig);
	free(leg);
}

static void
golden_wrong_key(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_signature s;
	size_t mlen, slen;
	char *msg = slurp(DATA "msg.txt", &mlen);
	char *sig = slurp(DATA "msg.txt.minisig", &slen);

	(void)state;
	assert_int_equal(sig_pubkey_load(DATA "enc.pub", &pk, &e), 0);
	assert_int_equal(sig_parse("g", sig, slen, &s, &e), 0);
	assert_int_equal(sig_verify(&s, &pk, msg, mlen, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "not by the trusted key"));
	/* Same key id, other key: the signature itself must fail. */
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &pk, &e), 0);
	pk.pk[3] ^= 1;
	assert_int_equal(sig_verify(&s, &pk, msg, mlen, &e), MUSTER_ETRUST);
	free(msg);
	free(sig);
}

/* Flips every bit of every byte of the signature file: only the untrusted
 * comment's text may change and still verify. */
static void
every_sig_byte_flip_fails(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_signature s;
	size_t mlen, slen, i, ucomment;
	int bit;
	char *msg = slurp(DATA "msg.txt", &mlen);
	char *sig = slurp(DATA "msg.txt.minisig", &slen);

	(void)state;
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &pk, &e), 0);
	ucomment = strchr(sig, '\n') - sig;
	for (i = 0; i < slen; i++) {
		for (bit = 0; bit < 8; bit++) {
			int rc;

			sig[i] ^= (char)(1 << bit);
			rc = sig_parse("f", sig, slen, &s, &e);
			if (rc == 0)
				rc = sig_verify(&s, &pk, msg, mlen, &e);
			if (i >= strlen(SIG_UNTRUSTED_PREFIX) && i < ucomment &&
			    sig[i] != '\n' && sig[i] != '\r' && sig[i] != '\0')
				assert_int_equal(rc, 0);
			else if (!(i == slen - 1 && sig[i] == '\r')) {
				if (rc == 0)
					print_error("flip byte %zu bit %d "
					    "verified\n", i, bit);
				assert_int_not_equal(rc, 0);
			}
			sig[i] ^= (char)(1 << bit);
		}
	}
	free(msg);
	free(sig);
}

static void
every_message_byte_flip_fails(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_signature s;
	size_t mlen, slen, i;
	char *msg = slurp(DATA "msg.txt", &mlen);
	char *sig = slurp(DATA "msg.txt.minisig", &slen);

	(void)state;
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &pk, &e), 0);
	assert_int_equal(sig_parse("g", sig, slen, &s, &e), 0);
	for (i = 0; i < mlen; i++) {
		msg[i] ^= 0x20;
		assert_int_equal(sig_verify(&s, &pk, msg, mlen, &e),
		    MUSTER_ETRUST);
		msg[i] ^= 0x20;
	}
	free(msg);
	free(sig);
}

/* A real profile signed with a new key: one byte changed anywhere in it,
 * to any other value class, never verifies. */
static void
every_profile_byte_change_fails(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	struct sig_signature s;
	size_t plen, slen, i;
	char *prof = slurp("profiles/iaf-personnel.cfg", &plen);
	char *sig = NULL;

	(void)state;
	assert_int_equal(sig_keygen(&pk, &sk, &e), 0);
	assert_int_equal(sig_sign(sk, prof, plen, "t", NULL, &sig, &slen, &e),
	    0);
	assert_int_equal(sig_parse("p", sig, slen, &s, &e), 0);
	assert_int_equal(sig_verify(&s, &pk, prof, plen, &e), 0);
	for (i = 0; i < plen; i++) {
		char saved = prof[i];

		prof[i] = (char)(saved ^ 0x01);
		assert_int_equal(sig_verify(&s, &pk, prof, plen, &e),
		    MUSTER_ETRUST);
		prof[i] = saved;
	}
	assert_int_equal(sig_verify(&s, &pk, prof, plen - 1, &e),
	    MUSTER_ETRUST);
	sig_seckey_free(sk);
	free(sig);
	free(prof);
}

static void
truncated_and_empty(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_signature s;
	size_t mlen, slen, n;
	char *msg = slurp(DATA "msg.txt", &mlen);
	char *sig = slurp(DATA "msg.txt.minisig", &slen);

	(void)state;
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &pk, &e), 0);
	assert_int_equal(sig_parse("e", "", 0, &s, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "empty"));
	/* Every strict prefix is refused (the final newline is optional). */
	for (n = 0; n < slen - 1; n++) {
		int rc = sig_parse("t", sig, n, &s, &e);

		if (rc == 0)
			rc = sig_verify(&s, &pk, msg, mlen, &e);
		assert_int_not_equal(rc, 0);
	}
	assert_int_equal(sig_parse("t", sig, slen - 1, &s, &e), 0);
	free(msg);
	free(sig);
}

static void
edited_trusted_comment_fails(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_signature s;
	size_t mlen, slen;
	char *msg = slurp(DATA "msg.txt", &mlen);
	char *sig = slurp(DATA "msg.txt.minisig", &slen);
	char *p;

	(void)state;
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &pk, &e), 0);
	p = strstr(sig, "golden trusted");
	assert_non_null(p);
	p[0] = 'G';
	assert_int_equal(sig_parse("g", sig, slen, &s, &e), 0);
	assert_int_equal(sig_verify(&s, &pk, msg, mlen, &e), MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "trusted comment"));
	/* A control character is refused before any verification. */
	p[0] = '\x1b';
	assert_int_equal(sig_parse("g", sig, slen, &s, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, ":3:"));
	free(msg);
	free(sig);
}

static void
untrusted_comment_edit_verifies(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_signature s;
	size_t mlen, slen;
	char *msg = slurp(DATA "msg.txt", &mlen);
	char *sig = slurp(DATA "msg.txt.minisig", &slen);
	char *nl, *edited;

	(void)state;
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &pk, &e), 0);
	nl = strchr(sig, '\n');
	assert_true(asprintf(&edited, "untrusted comment: anything at all, "
	    "even longer%s", nl) > 0);
	assert_int_equal(sig_parse("u", edited, strlen(edited), &s, &e), 0);
	assert_int_equal(sig_verify(&s, &pk, msg, mlen, &e), 0);
	free(edited);
	free(msg);
	free(sig);
}

static void
sign_roundtrip_and_other_file(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk, pk2;
	struct sig_seckey *sk = NULL;
	struct sig_signature s;
	char *out = NULL, *pkf = NULL;
	size_t outlen;
	const char m1[] = "serial = 2;\n", m2[] = "serial = 1;\n";

	(void)state;
	assert_int_equal(sig_keygen(&pk, &sk, &e), 0);
	assert_int_equal(sig_sign(sk, m1, sizeof m1 - 1, "muster-profile "
	    "id=x", NULL, &out, &outlen, &e), 0);
	assert_int_equal(sig_parse("s", out, outlen, &s, &e), 0);
	assert_memory_equal(s.alg, "ED", 2);
	assert_int_equal(sig_verify(&s, &pk, m1, sizeof m1 - 1, &e), 0);
	/* A signature of another file. */
	assert_int_equal(sig_verify(&s, &pk, m2, sizeof m2 - 1, &e),
	    MUSTER_ETRUST);
	/* The public key file round-trips. */
	assert_int_equal(sig_pubkey_format(&pk, &pkf, &e), 0);
	assert_int_equal(sig_pubkey_parse("p", pkf, strlen(pkf), &pk2, &e), 0);
	assert_memory_equal(&pk, &pk2, sizeof pk);
	/* Control characters in a trusted comment are refused. */
	free(out);
	out = NULL;
	assert_int_equal(sig_sign(sk, m1, 1, "a\nb", NULL, &out, &outlen, &e),
	    MUSTER_EDATA);
	assert_null(out);
	free(pkf);
	sig_seckey_free(sk);
}

static void
seckey_unencrypted_minisign(void **state)
{
	struct muster_err e;
	struct sig_seckey *sk = NULL;
	struct sig_pubkey pk, fpk;
	char *out = NULL, *again = NULL;
	size_t klen, outlen, alen;
	char *key = slurp(DATA "plain.key", &klen);

	(void)state;
	assert_int_equal(sig_seckey_encrypted("k", key, klen, &e), 0);
	assert_int_equal(sig_seckey_parse("k", key, klen, NULL, &sk, &e), 0);
	sig_seckey_pubkey(sk, &pk);
	assert_int_equal(sig_pubkey_load(DATA "plain.pub", &fpk, &e), 0);
	assert_memory_equal(&pk, &fpk, sizeof pk);
	/* Formatting unencrypted gives minisign -W's bytes exactly. */
	assert_int_equal(sig_seckey_format(sk, NULL, &again, &alen, &e), 0);
	assert_string_equal(again, key);
	/* A damaged unencrypted key is noticed. */
	key[150] = key[150] == 'A' ? 'B' : 'A';
	sig_seckey_free(sk);
	sk = NULL;
	assert_int_not_equal(sig_seckey_parse("k", key, klen, NULL, &sk, &e),
	    0);
	assert_null(sk);
	sodium_free(again);
	free(out);
	(void)outlen;
	free(key);
}

static void
seckey_encrypted_minisign(void **state)
{
	struct muster_err e;
	struct sig_seckey *sk = NULL;
	struct sig_pubkey pk, fpk;
	size_t klen;
	char *key = slurp(DATA "enc.key", &klen);

	(void)state;
	assert_int_equal(sig_seckey_encrypted("k", key, klen, &e), 1);
	assert_int_equal(sig_seckey_parse("k", key, klen, NULL, &sk, &e),
	    MUSTER_EUSAGE);
	assert_int_equal(sig_seckey_parse("k", key, klen, "wrong", &sk, &e),
	    MUSTER_ETRUST);
	assert_non_null(strstr(e.msg, "wrong passphrase"));
	assert_null(sk);
	assert_int_equal(sig_seckey_parse("k", key, klen, "golden-pass", &sk,
	    &e), 0);
	sig_seckey_pubkey(sk, &pk);
	assert_int_equal(sig_pubkey_load(DATA "enc.pub", &fpk, &e), 0);
	assert_memory_equal(&pk, &fpk, sizeof pk);
	sig_seckey_free(sk);
	free(key);
}

static void
seckey_encrypt_roundtrip(void **state)
{
	struct muster_err e;
	struct sig_seckey *sk = NULL, *back = NULL;
	struct sig_pubkey pk;
	char *out = NULL;
	size_t outlen;

	(void)state;
	assert_int_equal(sig_keygen(&pk, &sk, &e), 0);
	assert_int_equal(sig_seckey_format(sk, "s3cret", &out, &outlen, &e),
	    0);
	assert_int_equal(sig_seckey_encrypted("k", out, outlen, &e), 1);
	assert_int_equal(sig_seckey_parse("k", out, outlen, "s3cret", &back,
	    &e), 0);
	assert_memory_equal(sk, back, sizeof *sk);
	sig_seckey_free(back);
	sig_seckey_free(sk);
	sodium_free(out);
}

static void
seckey_refuses_excessive_cost(void **state)
{
	struct muster_err e;
	struct sig_seckey *sk = NULL;
	unsigned char bin[158];
	size_t klen, got;
	char *key = slurp(DATA "enc.key", &klen);
	char *nl = strchr(key, '\n') + 1;
	char *forged;

	(void)state;
	assert_int_equal(sodium_base642bin(bin, sizeof bin, nl, strcspn(nl,
	    "\n"), NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	memset(bin + 6 + 32 + 8, 0xff, 8);	/* memlimit: 2^64 - 1 */
	forged = calloc(1, 400);
	strcpy(forged, "untrusted comment: x\n");
	sodium_bin2base64(forged + strlen(forged), 300, bin, sizeof bin,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(sig_seckey_parse("k", forged, strlen(forged), "x",
	    &sk, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "limit"));
	free(forged);
	free(key);
}

static void
garbage_keys(void **state)
{
	struct muster_err e;
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	static const char *bad[] = {
		"", "\n", "untrusted comment: x\n", "untrusted comment: x\n!!!\n",
		"RWQ=\n", "untrusted comment: x\nRWQctQn/ynDhRaoOex0giHKRrV0Ky6U5qf3Fl+mtRG5im6mLs3dexE/l\nextra\n",
		"no prefix\nRWQctQn/ynDhRaoOex0giHKRrV0Ky6U5qf3Fl+mtRG5im6mLs3dexE/l\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(sig_pubkey_parse("b", bad[i], strlen(bad[i]),
		    &pk, &e), MUSTER_EDATA);
		assert_int_not_equal(sig_seckey_parse("b", bad[i],
		    strlen(bad[i]), "x", &sk, &e), 0);
		assert_null(sk);
	}
	/* A bare base64 line is a public key too (minisign -P). */
	assert_int_equal(sig_pubkey_parse("b", "RWQctQn/ynDhRaoOex0giHKRrV0Ky6U5"
	    "qf3Fl+mtRG5im6mLs3dexE/l", 56, &pk, &e), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(golden_verifies),
		cmocka_unit_test(golden_wrong_key),
		cmocka_unit_test(every_sig_byte_flip_fails),
		cmocka_unit_test(every_message_byte_flip_fails),
		cmocka_unit_test(every_profile_byte_change_fails),
		cmocka_unit_test(truncated_and_empty),
		cmocka_unit_test(edited_trusted_comment_fails),
		cmocka_unit_test(untrusted_comment_edit_verifies),
		cmocka_unit_test(sign_roundtrip_and_other_file),
		cmocka_unit_test(seckey_unencrypted_minisign),
		cmocka_unit_test(seckey_encrypted_minisign),
		cmocka_unit_test(seckey_encrypt_roundtrip),
		cmocka_unit_test(seckey_refuses_excessive_cost),
		cmocka_unit_test(garbage_keys),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("sig", tests, NULL, NULL);
}
