/*
 * devkey: the device's Ed25519 key, made on the device at enrollment and
 * kept in STATE/device.key (minisign -W format, unencrypted, 0600, created
 * exclusively).  It never leaves the device: only its public half is sent,
 * and it signs every request the device makes (docs/protocol.md).
 */
#ifndef MUSTER_AGENT_DEVKEY_H
#define MUSTER_AGENT_DEVKEY_H

#include <stddef.h>

#include <sodium.h>

#include "muster/err.h"
#include "muster/proto.h"
#include "muster/sig.h"

#define DEVKEY_FILE		"device.key"
/* base64 (standard, padded) of a signature and of a public key, + NUL */
#define DEVKEY_SIG_B64		sodium_base64_ENCODED_LEN(crypto_sign_BYTES, \
				    sodium_base64_VARIANT_ORIGINAL)
#define DEVKEY_PK_B64		sodium_base64_ENCODED_LEN( \
				    crypto_sign_PUBLICKEYBYTES, \
				    sodium_base64_VARIANT_ORIGINAL)

/*
 * Makes a new key and writes it to dir/device.key with O_EXCL, or, when
 * that file exists from an enrollment that did not finish, loads it.
 * *sk is sodium_malloc'd (sig_seckey_free).
 */
int	devkey_create(const char *dir, struct sig_seckey **sk,
	    struct muster_err *e);

/* Loads dir/device.key (refused if others can read it). */
int	devkey_load(const char *dir, struct sig_seckey **sk,
	    struct muster_err *e);

/* base64 of the public half into out. */
void	devkey_pubkey_b64(const struct sig_seckey *sk,
	    char out[DEVKEY_PK_B64]);

/* Signs len bytes at msg; the base64 signature into out. */
void	devkey_sign(const struct sig_seckey *sk, const void *msg, size_t len,
	    char out[DEVKEY_SIG_B64]);

/*
 * Checks a base64 signature by sk's public half over msg: 0, or -1 when
 * malformed or not matching.
 */
int	devkey_verify(const struct sig_seckey *sk, const void *msg,
	    size_t len, const char *sig_b64) __attribute__((warn_unused_result));

/*
 * Signs a GET of path at time t (PROTO_GET_PREFIX "<path>\n<time>\n") and
 * writes the three header lines PROTO_HDR_DEVICE, PROTO_HDR_TIME and
 * PROTO_HDR_SIGNATURE into hdr.  Returns 0, or -1 if they do not fit.
 */
int	devkey_get_headers(const struct sig_seckey *sk, const char *device,
	    const char *path, const char *t, char *hdr, size_t size);

/*
 * Overwrites dir/device.key with zeros, fsyncs it, then unlinks it.
 * MUSTER_ENOINPUT when there is none.
 */
int	devkey_wipe(const char *dir, struct muster_err *e);

#endif
