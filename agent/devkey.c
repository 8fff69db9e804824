/* devkey: the device key; see agent/devkey.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/proto.h"
#include "muster/sig.h"
#include "devkey.h"

/* fs_read_secret's use: the key file parsed into arg (a sig_seckey **). */
static int
devkey_use(const char *path, const char *buf, size_t len, void *arg,
    struct muster_err *e)
{
	int rc;

	if ((rc = sig_seckey_parse(path, buf, len, NULL, arg, e)) != 0)
		rc = rc == MUSTER_EINTERNAL ? rc : MUSTER_ECONFIG;
	return rc;
}

int
devkey_load(const char *dir, struct sig_seckey **sk, struct muster_err *e)
{
	char *path;
	int rc;

	*sk = NULL;
	if ((path = fs_path(dir, DEVKEY_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	/* devkey_use never says ENOINPUT: only a missing file does. */
	if ((rc = fs_read_secret(path, SIG_KEYFILE_MAX, devkey_use, sk,
	    e)) == MUSTER_ENOINPUT)
		rc = err_set(e, MUSTER_ECONFIG, "%s: no device key; enroll "
		    "first", path);
	free(path);
	return rc;
}

int
devkey_create(const char *dir, struct sig_seckey **sk, struct muster_err *e)
{
	struct sig_pubkey pk;
	struct stat st;
	char *path = NULL, *txt = NULL;
	size_t txtlen = 0;
	int rc;

	*sk = NULL;
	if ((path = fs_path(dir, DEVKEY_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (lstat(path, &st) == 0) {
		/* An earlier enrollment stopped after making the key. */
		free(path);
		return devkey_load(dir, sk, e);
	}
	if ((rc = sig_keygen(&pk, sk, e)) != 0 ||
	    (rc = sig_seckey_format(*sk, NULL, &txt, &txtlen, e)) != 0 ||
	    (rc = fs_create_excl(path, txt, txtlen, 0600, e)) != 0) {
		sig_seckey_free(*sk);
		*sk = NULL;
	}
	if (txt != NULL)
		sodium_free(txt);	/* sig_seckey_format wiped-on-free memory */
	free(path);
	return rc;
}

void
devkey_pubkey_b64(const struct sig_seckey *sk, char out[DEVKEY_PK_B64])
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];

	crypto_sign_ed25519_sk_to_pk(pk, sk->sk);
	sodium_bin2base64(out, DEVKEY_PK_B64, pk, sizeof pk,
	    sodium_base64_VARIANT_ORIGINAL);
}

void
devkey_sign(const struct sig_seckey *sk, const void *msg, size_t len,
    char out[DEVKEY_SIG_B64])
{
	unsigned char sig[crypto_sign_BYTES];

	crypto_sign_detached(sig, NULL, msg, len, sk->sk);
	sodium_bin2base64(out, DEVKEY_SIG_B64, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
}

int
devkey_verify(const struct sig_seckey *sk, const void *msg, size_t len,
    const char *sig_b64)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	size_t n = 0;

	crypto_sign_ed25519_sk_to_pk(pk, sk->sk);
	if (sodium_base642bin(sig, sizeof sig, sig_b64, strlen(sig_b64), NULL,
	    &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 || n != sizeof sig)
		return -1;
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : -1;
}

int
devkey_get_headers(const struct sig_seckey *sk, const char *device,
    const char *path, const char *t, char *hdr, size_t size)
{
	char msg[512], sig[DEVKEY_SIG_B64];
	int n;

	n = snprintf(msg, sizeof msg, PROTO_GET_PREFIX "%s\n%s\n", path, t);
	if (n < 0 || (size_t)n >= sizeof msg)
		return -1;
	devkey_sign(sk, msg, (size_t)n, sig);
	n = snprintf(hdr, size, PROTO_HDR_DEVICE ": %s\n"
	    PROTO_HDR_TIME ": %s\n" PROTO_HDR_SIGNATURE ": %s\n", device, t,
	    sig);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
devkey_wipe(const char *dir, struct muster_err *e)
{
	unsigned char zero[4096];
	struct stat st;
	char *path;
	off_t left;
	size_t n;
	int fd = -1, rc = 0;

	if ((path = fs_path(dir, DEVKEY_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		rc = err_sys(e, errno == ENOENT ? MUSTER_ENOINPUT : MUSTER_EIO,
		    "%s", path);
		goto out;
	}
	memset(zero, 0, sizeof zero);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		rc = err_set(e, MUSTER_EIO, "%s: not a regular file", path);
		goto out;
	}
	for (left = st.st_size; left > 0; left -= (off_t)n) {
		n = left > (off_t)sizeof zero ? sizeof zero : (size_t)left;
		if (write(fd, zero, n) != (ssize_t)n) {
			rc = err_sys(e, MUSTER_EIO, "%s: overwrite", path);
			goto out;
		}
	}
	if (fsync(fd) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s: fsync", path);
		goto out;
	}
	if (unlink(path) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s: unlink", path);
		goto out;
	}
	rc = fs_sync_dir(path, e);
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}
