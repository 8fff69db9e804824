/*
 * fuzz_minisig: the minisign file parsers of lib/sig.c on arbitrary
 * bytes, each given the whole input: a signature file (sig_parse, then
 * sig_verify with the golden key of tests/data/minisign, then
 * profile_verify), a public key file (sig_pubkey_parse) and a secret key
 * file (sig_seckey_encrypted, sig_seckey_parse).
 *
 * What parses must format back and parse again to the same thing.  An
 * encrypted secret key is decrypted only when its scrypt limits are small:
 * the parser accepts up to twice minisign's (2 GiB of memory, seconds of
 * work) by design, which is no use to a fuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/profile.h"
#include "muster/sig.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* tests/data/minisign/plain.pub and the message its signatures cover. */
static const char golden_pub[] =
    "untrusted comment: minisign public key 2979242D7A61831A\n"
    "RWQag2F6LSR5KbyYFuSOEzUPoyYtzXoMLBJBL3VG0cKn7h6rG7/9gpON\n";
static const char golden_msg[] = "id = \"golden\";\n";

/* scrypt costs small enough to try: libsodium's minimum work. */
#define FUZZ_OPS_MAX	(1ULL << 15)
#define FUZZ_MEM_MAX	(1ULL << 24)

static struct sig_pubkey golden_pk;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct muster_err e;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	if (sig_pubkey_parse("golden", golden_pub, strlen(golden_pub),
	    &golden_pk, &e) != 0) {
		fprintf(stderr, "golden key: %s\n", e.msg);
		abort();
	}
	return 0;
}

static void
fuzz_signature(const uint8_t *data, size_t size)
{
	struct sig_signature *s;
	struct profile *p = NULL;
	struct muster_err e;
	int rc;

	if ((s = malloc(sizeof *s)) == NULL)
		abort();
	rc = sig_parse("fuzz.minisig", (const char *)data, size, s, &e);
	if (rc != 0) {
		FUZZ_ASSERT(rc == MUSTER_EDATA, "sig_parse: %d", rc);
		free(s);
		return;
	}
	FUZZ_ASSERT(memchr(s->trusted, '\0', sizeof s->trusted) != NULL &&
	    sig_trusted_ok(s->trusted), "bad trusted comment accepted");
	rc = sig_verify(s, &golden_pk, golden_msg, strlen(golden_msg), &e);
	FUZZ_ASSERT(rc == 0 || rc == MUSTER_ETRUST, "sig_verify: %d", rc);
	/* The same file as a profile's signature (the message is no profile). */
	rc = profile_verify("msg", golden_msg, strlen(golden_msg), "sig",
	    (const char *)data, size, &golden_pk, &p, NULL, &e);
	FUZZ_ASSERT(rc != 0 && p == NULL, "a message verified as a profile");
	free(s);
}

static void
fuzz_pubkey(const uint8_t *data, size_t size)
{
	struct sig_pubkey pk, again;
	struct muster_err e;
	char *text = NULL;
	int rc;

	rc = sig_pubkey_parse("fuzz.pub", (const char *)data, size, &pk, &e);
	if (rc != 0) {
		FUZZ_ASSERT(rc == MUSTER_EDATA, "sig_pubkey_parse: %d", rc);
		return;
	}
	FUZZ_ASSERT(sig_pubkey_format(&pk, &text, &e) == 0, "format: %s",
	    e.msg);
	rc = sig_pubkey_parse("again", text, strlen(text), &again, &e);
	FUZZ_ASSERT(rc == 0 && memcmp(&pk, &again, sizeof pk) == 0,
	    "a formatted public key does not parse back");
	free(text);
}

/* The scrypt limits of a secret key file's second line, if it decodes. */
static int
seckey_limits(const uint8_t *data, size_t size, unsigned long long *ops,
    unsigned long long *mem)
{
	unsigned char bin[158];
	const char *p, *end = (const char *)data + size, *nl;
	size_t got = 0, len;
	int i;

	if ((p = memchr(data, '\n', size)) == NULL)
		return -1;
	p++;
	nl = memchr(p, '\n', (size_t)(end - p));
	len = (size_t)((nl != NULL ? nl : end) - p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (sodium_base642bin(bin, sizeof bin, p, len, NULL, &got, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || got != sizeof bin)
		return -1;
	*ops = *mem = 0;
	for (i = 7; i >= 0; i--) {
		*ops = (*ops << 8) | bin[38 + i];
		*mem = (*mem << 8) | bin[46 + i];
	}
	return 0;
}

static void
fuzz_seckey(const uint8_t *data, size_t size)
{
	struct sig_seckey *sk = NULL, *again = NULL;
	struct sig_pubkey pk;
	struct muster_err e;
	unsigned long long ops, mem;
	const char *pass = NULL;
	char *text = NULL, *sig = NULL;
	size_t len, siglen;
	int enc, rc;

	enc = sig_seckey_encrypted("fuzz.key", (const char *)data, size, &e);
	if (enc < 0) {
		FUZZ_ASSERT(enc == MUSTER_EDATA, "sig_seckey_encrypted: %d",
		    enc);
		return;
	}
	if (enc == 1 && seckey_limits(data, size, &ops, &mem) == 0 &&
	    ops <= FUZZ_OPS_MAX && mem <= FUZZ_MEM_MAX)
		pass = "golden-pass";
	rc = sig_seckey_parse("fuzz.key", (const char *)data, size, pass, &sk,
	    &e);
	if (rc != 0) {
		FUZZ_ASSERT(sk == NULL, "a failed parse returned a key");
		FUZZ_ASSERT(rc == MUSTER_EDATA || rc == MUSTER_ETRUST ||
		    rc == MUSTER_EUSAGE, "sig_seckey_parse: %d (%s)", rc,
		    e.msg);
		return;
	}
	/* A key that parses signs, verifies, and writes out unencrypted. */
	sig_seckey_pubkey(sk, &pk);
	rc = sig_sign(sk, golden_msg, strlen(golden_msg), "fuzz", NULL, &sig,
	    &siglen, &e);
	FUZZ_ASSERT(rc == 0, "sig_sign with a parsed key: %s", e.msg);
	FUZZ_ASSERT(sig_seckey_format(sk, NULL, &text, &len, &e) == 0,
	    "format: %s", e.msg);
	rc = sig_seckey_parse("again", text, len, NULL, &again, &e);
	FUZZ_ASSERT(rc == 0 && memcmp(sk, again, sizeof *sk) == 0,
	    "a formatted secret key does not parse back: %s", e.msg);
	sodium_free(text);
	free(sig);
	sig_seckey_free(again);
	sig_seckey_free(sk);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_signature(data, size);
	fuzz_pubkey(data, size);
	fuzz_seckey(data, size);
	return 0;
}
