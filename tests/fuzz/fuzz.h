/*
 * fuzz.h: what the libFuzzer harnesses of tests/fuzz/ share, header-only
 * so that each target stays one file: a private scratch directory, a
 * fixed org key (the key id of docs/protocol.md's examples, so that the
 * seed tokens read like the documentation), and small helpers.
 *
 * A harness writes only below its scratch directory, made in
 * $MUSTER_FUZZ_TMPDIR (tests/fuzz/run.sh points it at tmpfs), else
 * $TMPDIR, else /tmp, and removed at exit.
 */
#ifndef MUSTER_FUZZ_H
#define MUSTER_FUZZ_H

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/sig.h"

/* Prints why and aborts, so that libFuzzer keeps the input. */
#define FUZZ_ASSERT(cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz assertion failed: %s: ", #cond);	\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

static char fuzz_dir[4096];

/* Removes dir and everything below it (no symlink is followed). */
static inline void
fuzz_rmtree(const char *dir)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
				fuzz_rmtree(path);
			else
				unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

static inline void
fuzz_cleanup(void)
{
	if (fuzz_dir[0] != '\0')
		fuzz_rmtree(fuzz_dir);
	fuzz_dir[0] = '\0';
}

/* Makes the harness's private scratch directory; aborts on failure. */
static inline const char *
fuzz_tmpdir(const char *name)
{
	const char *base = getenv("MUSTER_FUZZ_TMPDIR");

	if (fuzz_dir[0] != '\0')
		return fuzz_dir;
	if (base == NULL || *base == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(fuzz_dir, sizeof fuzz_dir, "%s/%s.XXXXXX", base, name);
	if (mkdtemp(fuzz_dir) == NULL) {
		perror(fuzz_dir);
		abort();
	}
	atexit(fuzz_cleanup);
	return fuzz_dir;
}

/* Writes len bytes to path (truncating it); 0 or -1. */
static inline int
fuzz_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	int fd, rc;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, mode)) == -1)
		return -1;
	rc = fs_write_all(fd, buf, len);
	if (close(fd) == -1)
		rc = -1;
	return rc;
}

/* A malloc'd NUL-terminated copy of len bytes; aborts without memory. */
static inline char *
fuzz_strndup(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}

/*
 * The fixed org key: Ed25519 from a constant seed, key id 45E170CAFF09B51C
 * as minisign prints it (docs/protocol.md's example).  *sk is sodium
 * memory (sig_seckey_free).
 */
static inline void
fuzz_org_key(struct sig_pubkey *pk, struct sig_seckey **skp)
{
	static const unsigned char keyid[SIG_KEYID_BYTES] = {
		0x1c, 0xb5, 0x09, 0xff, 0xca, 0x70, 0xe1, 0x45,
	};
	unsigned char seed[crypto_sign_SEEDBYTES];
	struct sig_seckey *sk;

	memset(seed, 0x4d, sizeof seed);	/* 'M' */
	if ((sk = sodium_malloc(sizeof *sk)) == NULL)
		abort();
	crypto_sign_seed_keypair(pk->pk, sk->sk, seed);
	memcpy(sk->keyid, keyid, sizeof keyid);
	memcpy(pk->keyid, keyid, sizeof keyid);
	*skp = sk;
}

#endif
