/*
 * sig: minisign-compatible Ed25519 keys and signatures.
 *
 * The whole of minisign's file formats lives here.  A public key file is
 *	untrusted comment: <text>\n
 *	base64("Ed" || key id[8] || pk[32])\n
 * a secret key file is
 *	untrusted comment: <text>\n
 *	base64("Ed" || kdf[2] || "B2" || salt[32] || opslimit[8 LE] ||
 *	    memlimit[8 LE] || (key id[8] || sk[64] || chk[32]) ^ stream)\n
 * where kdf is "Sc" (scrypt stream from the passphrase) or two zero bytes
 * (unencrypted, as `minisign -W` writes it: zero salt, limits and chk), and
 * chk = BLAKE2b-256("Ed" || key id || sk); a signature file is
 *	untrusted comment: <text>\n
 *	base64(alg[2] || key id[8] || sig[64])\n
 *	trusted comment: <text>\n
 *	base64(global sig[64])\n
 * where alg "ED" signs BLAKE2b-512(message) and legacy "Ed" signs the
 * message itself, and the global signature covers sig || trusted comment.
 */
#ifndef MUSTER_SIG_H
#define MUSTER_SIG_H

#include <stddef.h>

#include <sodium.h>

#include "muster/err.h"

#define SIG_ALG			"Ed"
#define SIG_ALG_HASHED		"ED"
#define SIG_KDF_SCRYPT		"Sc"
#define SIG_CHK_BLAKE2B		"B2"
#define SIG_ALG_BYTES		2
#define SIG_KEYID_BYTES		8
#define SIG_KEYID_HEX		(2 * SIG_KEYID_BYTES + 1)
#define SIG_SALT_BYTES		crypto_pwhash_scryptsalsa208sha256_SALTBYTES
#define SIG_CHK_BYTES		crypto_generichash_BYTES
#define SIG_HASH_BYTES		crypto_generichash_BYTES_MAX
#define SIG_COMMENT_MAX		1024	/* an untrusted comment line */
#define SIG_TRUSTED_MAX		8192	/* a trusted comment line */
#define SIG_FILE_MAX		(4 * SIG_COMMENT_MAX + SIG_TRUSTED_MAX)
#define SIG_KEYFILE_MAX		4096
#define SIG_PASS_MAX		1024
/* minisign's cost for new keys: scrypt "sensitive" limits. */
#define SIG_KDF_OPSLIMIT	crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE
#define SIG_KDF_MEMLIMIT	crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE
/* What a key file may ask of us before we refuse it: twice minisign's. */
#define SIG_KDF_OPSLIMIT_MAX	(2ULL * SIG_KDF_OPSLIMIT)
#define SIG_KDF_MEMLIMIT_MAX	(2ULL * SIG_KDF_MEMLIMIT)

#define SIG_UNTRUSTED_PREFIX	"untrusted comment: "
#define SIG_TRUSTED_PREFIX	"trusted comment: "

struct sig_pubkey {
	unsigned char	keyid[SIG_KEYID_BYTES];
	unsigned char	pk[crypto_sign_PUBLICKEYBYTES];
};

/* Always in sodium_malloc memory; see sig_seckey_free. */
struct sig_seckey {
	unsigned char	keyid[SIG_KEYID_BYTES];
	unsigned char	sk[crypto_sign_SECRETKEYBYTES];
};

struct sig_signature {
	unsigned char	alg[SIG_ALG_BYTES];
	unsigned char	keyid[SIG_KEYID_BYTES];
	unsigned char	sig[crypto_sign_BYTES];
	unsigned char	global_sig[crypto_sign_BYTES];
	char		trusted[SIG_TRUSTED_MAX];	/* NUL-terminated */
};

/*
 * Makes a new key pair with a random key id.  *sk is sodium_malloc'd and
 * owned by the caller (sig_seckey_free).  Returns 0 or MUSTER_EINTERNAL.
 */
int	sig_keygen(struct sig_pubkey *pk, struct sig_seckey **sk,
	    struct muster_err *e) __attribute__((warn_unused_result));

/* Wipes and frees sk; NULL is a no-op. */
void	sig_seckey_free(struct sig_seckey *sk);

/* The public half of sk. */
void	sig_seckey_pubkey(const struct sig_seckey *sk, struct sig_pubkey *pk);

/* The key id as minisign prints it: 16 upper-case hex digits. */
void	sig_keyid_hex(const unsigned char keyid[SIG_KEYID_BYTES],
	    char out[SIG_KEYID_HEX]);

/*
 * Parses a public key file's contents (len bytes, NUL not required), or a
 * bare base64 key line.  Returns 0, or MUSTER_EDATA naming what is wrong;
 * name is the file name used in messages.
 */
int	sig_pubkey_parse(const char *name, const char *buf, size_t len,
	    struct sig_pubkey *pk, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* Reads and parses the public key file at path. */
int	sig_pubkey_load(const char *path, struct sig_pubkey *pk,
	    struct muster_err *e) __attribute__((warn_unused_result));

/*
 * Formats pk as a public key file into a malloc'd string in *out
 * (caller frees).  Returns 0 or MUSTER_EINTERNAL.
 */
int	sig_pubkey_format(const struct sig_pubkey *pk, char **out,
	    struct muster_err *e);

/* The base64 key line alone (as `minisign -P` takes it) into out. */
int	sig_pubkey_base64(const struct sig_pubkey *pk, char *out, size_t size);

/*
 * Tells whether a secret key file's contents are encrypted (1), not
 * encrypted (0), or malformed (MUSTER_EDATA), so that a caller asks for a
 * passphrase only when one is needed.
 */
int	sig_seckey_encrypted(const char *name, const char *buf, size_t len,
	    struct muster_err *e);

/*
 * Parses and, when encrypted, decrypts a secret key file's contents with
 * pass (ignored, and may be NULL, for an unencrypted key).  Checks the
 * checksum, so a wrong passphrase is MUSTER_ETRUST ("wrong passphrase").
 * Refuses KDF limits above SIG_KDF_*_MAX.  On success *sk is a new
 * sodium_malloc'd key owned by the caller.  Every intermediate is wiped.
 */
int	sig_seckey_parse(const char *name, const char *buf, size_t len,
	    const char *pass, struct sig_seckey **sk, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Formats sk as a secret key file into a sodium_malloc'd, NUL-terminated
 * string *out of *outlen bytes, which the caller releases with
 * sodium_free.  With pass non-NULL the key is encrypted with scrypt at
 * minisign's cost; with pass NULL it is written as `minisign -W` does.
 */
int	sig_seckey_format(const struct sig_seckey *sk, const char *pass,
	    char **out, size_t *outlen, struct muster_err *e);

/*
 * Signs msg with sk (prehashed "ED"), with the given trusted comment
 * (printable ASCII and TAB only) and untrusted comment (NULL for the
 * default), and verifies the result before returning it.  On success
 * *out is a malloc'd NUL-terminated signature file of *outlen bytes.
 */
int	sig_sign(const struct sig_seckey *sk, const void *msg, size_t msglen,
	    const char *trusted, const char *untrusted, char **out,
	    size_t *outlen, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Parses a signature file's contents into s.  Refuses anything that is not
 * exactly four lines of the expected shapes (a missing final newline is
 * allowed), an unknown algorithm, and a trusted comment holding anything
 * but printable ASCII and TAB.  Returns 0 or MUSTER_EDATA.
 */
int	sig_parse(const char *name, const char *buf, size_t len,
	    struct sig_signature *s, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Verifies s over msg with pk: the key id first, then the signature over
 * the message (prehashed or legacy per s->alg), then the global signature
 * over sig || trusted comment.  Returns 0 or MUSTER_ETRUST naming which
 * check failed.
 */
int	sig_verify(const struct sig_signature *s, const struct sig_pubkey *pk,
	    const void *msg, size_t msglen, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* 1 if s holds only printable ASCII and TAB (a valid trusted comment). */
int	sig_trusted_ok(const char *s);

#endif
