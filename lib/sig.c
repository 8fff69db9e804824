/* sig: minisign-compatible keys and signatures; see include/muster/sig.h. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/sig.h"

#define SIG_DEFAULT_UNTRUSTED	"signature from muster secret key"
#define SECKEY_COMMENT		"minisign encrypted secret key"
#define PUBKEY_COMMENT		"minisign public key "

/* The byte layouts of minisign.h, sizes from libsodium's constants. */
struct pubkey_bin {
	unsigned char	alg[SIG_ALG_BYTES];
	unsigned char	keyid[SIG_KEYID_BYTES];
	unsigned char	pk[crypto_sign_PUBLICKEYBYTES];
};

struct keynum_sk {
	unsigned char	keyid[SIG_KEYID_BYTES];
	unsigned char	sk[crypto_sign_SECRETKEYBYTES];
	unsigned char	chk[SIG_CHK_BYTES];
};

struct seckey_bin {
	unsigned char	alg[SIG_ALG_BYTES];
	unsigned char	kdf[2];
	unsigned char	chk_alg[2];
	unsigned char	salt[SIG_SALT_BYTES];
	unsigned char	opslimit[8];
	unsigned char	memlimit[8];
	struct keynum_sk ksk;
};

struct sig_bin {
	unsigned char	alg[SIG_ALG_BYTES];
	unsigned char	keyid[SIG_KEYID_BYTES];
	unsigned char	sig[crypto_sign_BYTES];
};

_Static_assert(sizeof(struct pubkey_bin) == 42, "minisign public key size");
_Static_assert(sizeof(struct seckey_bin) == 158, "minisign secret key size");
_Static_assert(sizeof(struct sig_bin) == 74, "minisign signature size");

static uint64_t
le64_load(const unsigned char p[8])
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
le64_store(unsigned char p[8], uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

/*
 * Splits buf into at most max lines, each without its "\n" or "\r\n".
 * Lines point into buf and are not NUL-terminated; lens gives their
 * lengths.  Returns the number of lines, or -1 if there are more than max
 * (a final newline does not start a new line) or a NUL byte.
 */
static int
split_lines(const char *buf, size_t len, const char **lines, size_t *lens,
    int max)
{
	size_t i = 0, start;
	int n = 0;

	if (memchr(buf, '\0', len) != NULL)
		return -1;
	while (i < len) {
		if (n == max)
			return -1;
		start = i;
		while (i < len && buf[i] != '\n')
			i++;
		lines[n] = buf + start;
		lens[n] = i - start;
		if (lens[n] > 0 && lines[n][lens[n] - 1] == '\r')
			lens[n]--;
		n++;
		if (i < len)
			i++;	/* the newline */
	}
	return n;
}

/* Decodes exactly binlen bytes of base64 from a line; 0 or -1. */
static int
b64_line(const char *line, size_t len, void *bin, size_t binlen)
{
	size_t got = 0;
	const char *end = NULL;

	size_t i;

	if (len == 0 || len > sodium_base64_ENCODED_LEN(binlen,
	    sodium_base64_VARIANT_ORIGINAL))
		return -1;
	/*
	 * libsodium's constant-time decoder maps some bytes >= 0x80 to base64
	 * values, so the same signature would have several encodings; only
	 * the alphabet itself is accepted.
	 */
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)line[i]) && line[i] != '+' &&
		    line[i] != '/' && line[i] != '=')
			return -1;
	if (sodium_base642bin(bin, binlen, line, len, NULL, &got, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || got != binlen ||
	    end != line + len)
		return -1;
	return 0;
}

static int
has_prefix(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

int
sig_trusted_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != '\t' && (*s < 0x20 || *s > 0x7e))
			return 0;
	return 1;
}

void
sig_keyid_hex(const unsigned char keyid[SIG_KEYID_BYTES],
    char out[SIG_KEYID_HEX])
{
	snprintf(out, SIG_KEYID_HEX, "%016llX",
	    (unsigned long long)le64_load(keyid));
}

int
sig_keygen(struct sig_pubkey *pk, struct sig_seckey **skp,
    struct muster_err *e)
{
	struct sig_seckey *sk;

	*skp = NULL;
	if ((sk = sodium_malloc(sizeof *sk)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	randombytes_buf(sk->keyid, sizeof sk->keyid);
	if (crypto_sign_keypair(pk->pk, sk->sk) != 0) {
		sig_seckey_free(sk);
		return err_set(e, MUSTER_EINTERNAL, "key generation failed");
	}
	memcpy(pk->keyid, sk->keyid, sizeof pk->keyid);
	*skp = sk;
	return 0;
}

void
sig_seckey_free(struct sig_seckey *sk)
{
	if (sk != NULL)
		sodium_free(sk);	/* sodium_free wipes before freeing */
}

void
sig_seckey_pubkey(const struct sig_seckey *sk, struct sig_pubkey *pk)
{
	memcpy(pk->keyid, sk->keyid, sizeof pk->keyid);
	crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

int
sig_pubkey_parse(const char *name, const char *buf, size_t len,
    struct sig_pubkey *pk, struct muster_err *e)
{
	const char *lines[3];
	size_t lens[3];
	struct pubkey_bin bin;
	const char *b64;
	size_t b64len;
	int n;

	if (len > SIG_KEYFILE_MAX ||
	    (n = split_lines(buf, len, lines, lens, 2)) < 1)
		return err_set(e, MUSTER_EDATA, "%s: not a minisign public "
		    "key", name);
	if (n == 2) {
		if (!has_prefix(lines[0], lens[0], SIG_UNTRUSTED_PREFIX))
			return err_set(e, MUSTER_EDATA, "%s:1: expected "
			    "\"untrusted comment: \"", name);
		b64 = lines[1];
		b64len = lens[1];
	} else {
		b64 = lines[0];
		b64len = lens[0];
	}
	if (b64_line(b64, b64len, &bin, sizeof bin) != 0)
		return err_set(e, MUSTER_EDATA, "%s:%d: not a base64 minisign "
		    "public key", name, n);
	if (memcmp(bin.alg, SIG_ALG, SIG_ALG_BYTES) != 0)
		return err_set(e, MUSTER_EDATA, "%s:%d: unsupported signature "
		    "algorithm", name, n);
	memcpy(pk->keyid, bin.keyid, sizeof pk->keyid);
	memcpy(pk->pk, bin.pk, sizeof pk->pk);
	return 0;
}

int
sig_pubkey_load(const char *path, struct sig_pubkey *pk, struct muster_err *e)
{
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = fs_read_file(path, SIG_KEYFILE_MAX, &buf, &len, e)) != 0)
		return rc;
	rc = sig_pubkey_parse(path, buf, len, pk, e);
	free(buf);
	return rc;
}

int
sig_pubkey_base64(const struct sig_pubkey *pk, char *out, size_t size)
{
	struct pubkey_bin bin;

	if (size < sodium_base64_ENCODED_LEN(sizeof bin,
	    sodium_base64_VARIANT_ORIGINAL))
		return -1;
	memcpy(bin.alg, SIG_ALG, SIG_ALG_BYTES);
	memcpy(bin.keyid, pk->keyid, sizeof bin.keyid);
	memcpy(bin.pk, pk->pk, sizeof bin.pk);
	sodium_bin2base64(out, size, (unsigned char *)&bin, sizeof bin,
	    sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int
sig_pubkey_format(const struct sig_pubkey *pk, char **out,
    struct muster_err *e)
{
	char b64[sodium_base64_ENCODED_LEN(sizeof(struct pubkey_bin),
	    sodium_base64_VARIANT_ORIGINAL)];
	char hex[SIG_KEYID_HEX];

	*out = NULL;
	(void)sig_pubkey_base64(pk, b64, sizeof b64);
	sig_keyid_hex(pk->keyid, hex);
	if (asprintf(out, "%s%s%s\n%s\n", SIG_UNTRUSTED_PREFIX,
	    PUBKEY_COMMENT, hex, b64) == -1) {
		*out = NULL;
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	return 0;
}

/* Decodes a secret key file into *bin (sodium memory); checks the ids. */
static int
seckey_decode(const char *name, const char *buf, size_t len,
    struct seckey_bin **binp, struct muster_err *e)
{
	const char *lines[3];
	size_t lens[3];
	struct seckey_bin *bin;
	int n;

	*binp = NULL;
	if (len > SIG_KEYFILE_MAX ||
	    (n = split_lines(buf, len, lines, lens, 2)) != 2 ||
	    !has_prefix(lines[0], lens[0], SIG_UNTRUSTED_PREFIX))
		return err_set(e, MUSTER_EDATA, "%s: not a minisign secret "
		    "key file", name);
	if ((bin = sodium_malloc(sizeof *bin)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (b64_line(lines[1], lens[1], bin, sizeof *bin) != 0) {
		sodium_free(bin);
		return err_set(e, MUSTER_EDATA, "%s:2: not a base64 minisign "
		    "secret key", name);
	}
	if (memcmp(bin->alg, SIG_ALG, SIG_ALG_BYTES) != 0 ||
	    memcmp(bin->chk_alg, SIG_CHK_BLAKE2B, 2) != 0 ||
	    (memcmp(bin->kdf, SIG_KDF_SCRYPT, 2) != 0 &&
	    memcmp(bin->kdf, "\0\0", 2) != 0)) {
		sodium_free(bin);
		return err_set(e, MUSTER_EDATA, "%s:2: unsupported key, "
		    "checksum or key derivation algorithm", name);
	}
	*binp = bin;
	return 0;
}

int
sig_seckey_encrypted(const char *name, const char *buf, size_t len,
    struct muster_err *e)
{
	struct seckey_bin *bin;
	int rc;

	if ((rc = seckey_decode(name, buf, len, &bin, e)) != 0)
		return rc;
	rc = memcmp(bin->kdf, SIG_KDF_SCRYPT, 2) == 0;
	sodium_free(bin);
	return rc;
}

static void
seckey_chk(const struct seckey_bin *bin, unsigned char chk[SIG_CHK_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, SIG_CHK_BYTES);
	crypto_generichash_update(&st, bin->alg, sizeof bin->alg);
	crypto_generichash_update(&st, bin->ksk.keyid, sizeof bin->ksk.keyid);
	crypto_generichash_update(&st, bin->ksk.sk, sizeof bin->ksk.sk);
	crypto_generichash_final(&st, chk, SIG_CHK_BYTES);
	sodium_memzero(&st, sizeof st);
}

/* XORs the scrypt stream of pass into bin->ksk (it is its own inverse). */
static int
seckey_crypt(struct seckey_bin *bin, const char *pass, struct muster_err *e)
{
	unsigned char *stream;
	uint64_t ops, mem;
	size_t i;
	int rc = 0;

	ops = le64_load(bin->opslimit);
	mem = le64_load(bin->memlimit);
	if (ops > SIG_KDF_OPSLIMIT_MAX || mem > SIG_KDF_MEMLIMIT_MAX)
		return err_set(e, MUSTER_EDATA, "secret key asks for a key "
		    "derivation cost above the limit (opslimit %llu, memlimit "
		    "%llu)", (unsigned long long)ops, (unsigned long long)mem);
	if ((stream = sodium_malloc(sizeof bin->ksk)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof bin->ksk, pass,
	    strlen(pass), bin->salt, ops, (size_t)mem) != 0) {
		rc = err_set(e, MUSTER_EINTERNAL, "scrypt failed (out of "
		    "memory?)");
		goto out;
	}
	for (i = 0; i < sizeof bin->ksk; i++)
		((unsigned char *)&bin->ksk)[i] ^= stream[i];
out:
	sodium_free(stream);
	return rc;
}

int
sig_seckey_parse(const char *name, const char *buf, size_t len,
    const char *pass, struct sig_seckey **skp, struct muster_err *e)
{
	struct seckey_bin *bin = NULL;
	struct sig_seckey *sk = NULL;
	unsigned char *tmp = NULL;
	unsigned char chk[SIG_CHK_BYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	int encrypted, rc;

	*skp = NULL;
	if ((rc = seckey_decode(name, buf, len, &bin, e)) != 0)
		return rc;
	encrypted = memcmp(bin->kdf, SIG_KDF_SCRYPT, 2) == 0;
	if (encrypted) {
		if (pass == NULL) {
			rc = err_set(e, MUSTER_EUSAGE, "%s: the key is "
			    "encrypted and no passphrase was given", name);
			goto out;
		}
		if ((rc = seckey_crypt(bin, pass, e)) != 0)
			goto out;
	}
	seckey_chk(bin, chk);
	if (sodium_memcmp(chk, bin->ksk.chk, sizeof chk) != 0) {
		if (encrypted) {
			rc = err_set(e, MUSTER_ETRUST, "%s: wrong passphrase",
			    name);
			goto out;
		}
		/* minisign -W writes an unencrypted key with a zero chk. */
		if (!sodium_is_zero(bin->ksk.chk, sizeof bin->ksk.chk)) {
			rc = err_set(e, MUSTER_EDATA, "%s: secret key checksum "
			    "mismatch (damaged key file)", name);
			goto out;
		}
	}
	/* Either way, the key must be its own seed's (catches damage). */
	if ((tmp = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	crypto_sign_seed_keypair(pk, tmp, bin->ksk.sk);
	if (sodium_memcmp(tmp, bin->ksk.sk, crypto_sign_SECRETKEYBYTES) != 0) {
		rc = err_set(e, MUSTER_EDATA, "%s: secret key is inconsistent "
		    "(damaged key file)", name);
		goto out;
	}
	if ((sk = sodium_malloc(sizeof *sk)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(sk->keyid, bin->ksk.keyid, sizeof sk->keyid);
	memcpy(sk->sk, bin->ksk.sk, sizeof sk->sk);
	*skp = sk;
	rc = 0;
out:
	sodium_memzero(chk, sizeof chk);
	if (tmp != NULL)
		sodium_free(tmp);
	sodium_free(bin);
	return rc;
}

int
sig_seckey_format(const struct sig_seckey *sk, const char *pass, char **out,
    size_t *outlen, struct muster_err *e)
{
	struct seckey_bin *bin;
	char *s = NULL;
	size_t b64len, n;
	int rc;

	*out = NULL;
	*outlen = 0;
	if ((bin = sodium_malloc(sizeof *bin)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	memset(bin, 0, sizeof *bin);
	memcpy(bin->alg, SIG_ALG, SIG_ALG_BYTES);
	memcpy(bin->chk_alg, SIG_CHK_BLAKE2B, 2);
	memcpy(bin->ksk.keyid, sk->keyid, sizeof bin->ksk.keyid);
	memcpy(bin->ksk.sk, sk->sk, sizeof bin->ksk.sk);
	if (pass != NULL) {
		memcpy(bin->kdf, SIG_KDF_SCRYPT, 2);
		randombytes_buf(bin->salt, sizeof bin->salt);
		le64_store(bin->opslimit, SIG_KDF_OPSLIMIT);
		le64_store(bin->memlimit, SIG_KDF_MEMLIMIT);
		seckey_chk(bin, bin->ksk.chk);
		if ((rc = seckey_crypt(bin, pass, e)) != 0)
			goto out;
	}
	b64len = sodium_base64_ENCODED_LEN(sizeof *bin,
	    sodium_base64_VARIANT_ORIGINAL);
	n = strlen(SIG_UNTRUSTED_PREFIX SECKEY_COMMENT "\n") + b64len + 1;
	if ((s = sodium_malloc(n)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	strcpy(s, SIG_UNTRUSTED_PREFIX SECKEY_COMMENT "\n");
	sodium_bin2base64(s + strlen(s), b64len, (unsigned char *)bin,
	    sizeof *bin, sodium_base64_VARIANT_ORIGINAL);
	strcat(s, "\n");
	*outlen = strlen(s);
	*out = s;
	rc = 0;
out:
	sodium_free(bin);
	return rc;
}

int
sig_parse(const char *name, const char *buf, size_t len,
    struct sig_signature *s, struct muster_err *e)
{
	const char *lines[5];
	size_t lens[5], plen;
	struct sig_bin bin;
	int n;

	memset(s, 0, sizeof *s);
	if (len == 0)
		return err_set(e, MUSTER_EDATA, "%s: empty signature file",
		    name);
	if (len > SIG_FILE_MAX)
		return err_set(e, MUSTER_EDATA, "%s: signature file too "
		    "large", name);
	n = split_lines(buf, len, lines, lens, 4);
	if (n != 4)
		return err_set(e, MUSTER_EDATA, "%s: not a minisign signature "
		    "(%s)", name, n < 0 ? "too many lines or a NUL byte" :
		    "truncated");
	if (!has_prefix(lines[0], lens[0], SIG_UNTRUSTED_PREFIX) ||
	    lens[0] > SIG_COMMENT_MAX)
		return err_set(e, MUSTER_EDATA, "%s:1: expected \"%s\"", name,
		    SIG_UNTRUSTED_PREFIX);
	if (b64_line(lines[1], lens[1], &bin, sizeof bin) != 0)
		return err_set(e, MUSTER_EDATA, "%s:2: not a base64 "
		    "signature", name);
	if (memcmp(bin.alg, SIG_ALG_HASHED, SIG_ALG_BYTES) != 0 &&
	    memcmp(bin.alg, SIG_ALG, SIG_ALG_BYTES) != 0)
		return err_set(e, MUSTER_EDATA, "%s:2: unsupported signature "
		    "algorithm", name);
	plen = strlen(SIG_TRUSTED_PREFIX);
	if (!has_prefix(lines[2], lens[2], SIG_TRUSTED_PREFIX))
		return err_set(e, MUSTER_EDATA, "%s:3: expected \"%s\"", name,
		    SIG_TRUSTED_PREFIX);
	if (lens[2] - plen >= sizeof s->trusted)
		return err_set(e, MUSTER_EDATA, "%s:3: trusted comment too "
		    "long", name);
	memcpy(s->trusted, lines[2] + plen, lens[2] - plen);
	s->trusted[lens[2] - plen] = '\0';
	if (!sig_trusted_ok(s->trusted))
		return err_set(e, MUSTER_EDATA, "%s:3: trusted comment holds "
		    "a control or non-ASCII character", name);
	if (b64_line(lines[3], lens[3], s->global_sig,
	    sizeof s->global_sig) != 0)
		return err_set(e, MUSTER_EDATA, "%s:4: not a base64 global "
		    "signature", name);
	memcpy(s->alg, bin.alg, sizeof s->alg);
	memcpy(s->keyid, bin.keyid, sizeof s->keyid);
	memcpy(s->sig, bin.sig, sizeof s->sig);
	return 0;
}

int
sig_verify(const struct sig_signature *s, const struct sig_pubkey *pk,
    const void *msg, size_t msglen, struct muster_err *e)
{
	unsigned char hash[SIG_HASH_BYTES];
	unsigned char *gmsg = NULL;
	char want[SIG_KEYID_HEX], got[SIG_KEYID_HEX];
	size_t tlen;
	int rc;

	if (memcmp(s->keyid, pk->keyid, SIG_KEYID_BYTES) != 0) {
		sig_keyid_hex(s->keyid, got);
		sig_keyid_hex(pk->keyid, want);
		return err_set(e, MUSTER_ETRUST, "signed by key %s, not by "
		    "the trusted key %s", got, want);
	}
	if (memcmp(s->alg, SIG_ALG_HASHED, SIG_ALG_BYTES) == 0) {
		crypto_generichash(hash, sizeof hash, msg, msglen, NULL, 0);
		rc = crypto_sign_verify_detached(s->sig, hash, sizeof hash,
		    pk->pk);
	} else if (memcmp(s->alg, SIG_ALG, SIG_ALG_BYTES) == 0)
		rc = crypto_sign_verify_detached(s->sig, msg, msglen, pk->pk);
	else
		rc = -1;
	if (rc != 0)
		return err_set(e, MUSTER_ETRUST, "signature verification "
		    "failed: the file was changed or signed by another key");
	tlen = strnlen(s->trusted, sizeof s->trusted);
	if (tlen == sizeof s->trusted)
		return err_set(e, MUSTER_ETRUST, "trusted comment too long");
	if ((gmsg = malloc(sizeof s->sig + tlen)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	memcpy(gmsg, s->sig, sizeof s->sig);
	memcpy(gmsg + sizeof s->sig, s->trusted, tlen);
	rc = crypto_sign_verify_detached(s->global_sig, gmsg,
	    sizeof s->sig + tlen, pk->pk);
	free(gmsg);
	if (rc != 0)
		return err_set(e, MUSTER_ETRUST, "trusted comment signature "
		    "verification failed: the trusted comment was changed");
	return 0;
}

int
sig_sign(const struct sig_seckey *sk, const void *msg, size_t msglen,
    const char *trusted, const char *untrusted, char **out, size_t *outlen,
    struct muster_err *e)
{
	struct sig_bin bin;
	struct sig_signature check;
	struct sig_pubkey pk;
	unsigned char hash[SIG_HASH_BYTES], global[crypto_sign_BYTES];
	unsigned char *gmsg = NULL;
	char b64sig[sodium_base64_ENCODED_LEN(sizeof(struct sig_bin),
	    sodium_base64_VARIANT_ORIGINAL)];
	char b64g[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	char *s = NULL;
	size_t tlen;
	int rc, n;

	*out = NULL;
	*outlen = 0;
	if (untrusted == NULL)
		untrusted = SIG_DEFAULT_UNTRUSTED;
	tlen = strlen(trusted);
	if (!sig_trusted_ok(trusted) || tlen >= SIG_TRUSTED_MAX)
		return err_set(e, MUSTER_EDATA, "trusted comment must be "
		    "printable ASCII or TAB, under %d bytes", SIG_TRUSTED_MAX);
	if (strpbrk(untrusted, "\r\n") != NULL ||
	    strlen(untrusted) + strlen(SIG_UNTRUSTED_PREFIX) > SIG_COMMENT_MAX)
		return err_set(e, MUSTER_EDATA, "untrusted comment must be one "
		    "short line");
	memcpy(bin.alg, SIG_ALG_HASHED, SIG_ALG_BYTES);
	memcpy(bin.keyid, sk->keyid, sizeof bin.keyid);
	crypto_generichash(hash, sizeof hash, msg, msglen, NULL, 0);
	if (crypto_sign_detached(bin.sig, NULL, hash, sizeof hash,
	    sk->sk) != 0)
		return err_set(e, MUSTER_EINTERNAL, "signing failed");
	if ((gmsg = malloc(sizeof bin.sig + tlen)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	memcpy(gmsg, bin.sig, sizeof bin.sig);
	memcpy(gmsg + sizeof bin.sig, trusted, tlen);
	rc = crypto_sign_detached(global, NULL, gmsg, sizeof bin.sig + tlen,
	    sk->sk);
	free(gmsg);
	if (rc != 0)
		return err_set(e, MUSTER_EINTERNAL, "signing failed");
	sodium_bin2base64(b64sig, sizeof b64sig, (unsigned char *)&bin,
	    sizeof bin, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b64g, sizeof b64g, global, sizeof global,
	    sodium_base64_VARIANT_ORIGINAL);
	n = asprintf(&s, "%s%s\n%s\n%s%s\n%s\n", SIG_UNTRUSTED_PREFIX,
	    untrusted, b64sig, SIG_TRUSTED_PREFIX, trusted, b64g);
	if (n == -1)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	/* As minisign does: never hand out a signature that would not verify. */
	sig_seckey_pubkey(sk, &pk);
	if ((rc = sig_parse("signature", s, (size_t)n, &check, e)) != 0 ||
	    (rc = sig_verify(&check, &pk, msg, msglen, e)) != 0) {
		free(s);
		return err_set(e, MUSTER_EINTERNAL, "the new signature does "
		    "not verify; nothing written");
	}
	*out = s;
	*outlen = (size_t)n;
	return 0;
}
