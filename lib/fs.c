/* fs: capped reads, exclusive key files, atomic state writes. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/io.h"

/* fs_private_group's group, or -1: none. */
static gid_t fs_group = (gid_t)-1;

/*
 * Refuses st (of path) unless owned by us or root and closed to others;
 * a regular file the fs_private_group group may read (0640) passes.
 */
static int
private_ok(const char *path, const struct stat *st, struct muster_err *e)
{
	mode_t m = st->st_mode & (S_IRWXG | S_IRWXO);

	if (S_ISLNK(st->st_mode))
		return err_set(e, MUSTER_ECONFIG, "%s: is a symbolic link; "
		    "refusing it", path);
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return err_set(e, MUSTER_ECONFIG, "%s: owned by uid %u, not by "
		    "this user; refusing it", path, (unsigned)st->st_uid);
	if (m == S_IRGRP && S_ISREG(st->st_mode) && fs_group != (gid_t)-1 &&
	    st->st_gid == fs_group)
		return 0;
	if (m == S_IRGRP && S_ISREG(st->st_mode))
		return err_set(e, MUSTER_ECONFIG, "%s: mode 0640 lets group "
		    "%u in, which is not the service's group; chgrp or chmod "
		    "0600 it", path, (unsigned)st->st_gid);
	if (m != 0)
		return err_set(e, MUSTER_ECONFIG, "%s: mode %04o lets others "
		    "in; chmod %s it", path, (unsigned)(st->st_mode & 07777),
		    S_ISDIR(st->st_mode) ? "0700" : "0600");
	return 0;
}

/*
 * fs_read_file and fs_read_private: the checks on the open descriptor
 * (so they hold for the bytes read, whatever the path names by now),
 * then the read.
 */
static int
read_file(const char *path, int private, size_t max, char **buf,
    size_t *len, struct muster_err *e)
{
	struct stat st;
	char *p = NULL;
	size_t n = 0, cap;
	ssize_t r;
	int fd, rc;

	*buf = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO opens at once, and is refused below. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (private ? O_NOFOLLOW : 0))) == -1) {
		if (private && errno == ELOOP)
			return err_set(e, MUSTER_ECONFIG, "%s: is a symbolic "
			    "link; refusing it", path);
		/* As fs_check_private says it: only a missing file is 66. */
		return err_sys(e, !private || errno == ENOENT ?
		    MUSTER_ENOINPUT : MUSTER_EIO, "%s", path);
	}
	if (fstat(fd, &st) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s", path);
		goto out;
	}
	if (private && (rc = private_ok(path, &st, e)) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(e, MUSTER_EDATA, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = err_set(e, MUSTER_EDATA, "%s: file too large "
		    "(%lld bytes, limit %zu)", path, (long long)st.st_size, max);
		goto out;
	}
	/* The size may change under us: read until EOF, never past max+1. */
	cap = (size_t)st.st_size + 1;
	if ((p = malloc(cap + 1)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		if (n == cap) {
			char *np;

			if (cap > max) {
				rc = err_set(e, MUSTER_EDATA, "%s: file too "
				    "large (limit %zu bytes)", path, max);
				goto out;
			}
			/* Not realloc: the old copy may be a key; wipe it. */
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((np = malloc(cap + 1)) == NULL) {
				rc = err_set(e, MUSTER_EINTERNAL,
				    "%s: out of memory", path);
				goto out;
			}
			memcpy(np, p, n);
			fs_wipe_free(p, n);
			p = np;
		}
		r = read(fd, p + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			rc = err_sys(e, MUSTER_EIO, "%s", path);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		rc = err_set(e, MUSTER_EDATA, "%s: file too large "
		    "(limit %zu bytes)", path, max);
		goto out;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	p = NULL;
	rc = 0;
out:
	fs_wipe_free(p, n);
	close(fd);
	return rc;
}

int
fs_read_file(const char *path, size_t max, char **buf, size_t *len,
    struct muster_err *e)
{
	return read_file(path, 0, max, buf, len, e);
}

int
fs_read_private(const char *path, size_t max, char **buf, size_t *len,
    struct muster_err *e)
{
	return read_file(path, 1, max, buf, len, e);
}

int
fs_read_secret(const char *path, size_t max,
    int (*use)(const char *, const char *, size_t, void *,
    struct muster_err *), void *arg, struct muster_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = fs_read_private(path, max, &buf, &len, e)) != 0)
		return rc;
	rc = use(path, buf, len, arg, e);
	fs_wipe_free(buf, len);
	return rc;
}

void
fs_wipe_free(void *p, size_t len)
{
	if (p != NULL) {
		sodium_memzero(p, len);
		free(p);
	}
}

void
fs_free_secret(char *s)
{
	if (s != NULL)
		fs_wipe_free(s, strlen(s));
}

int
fs_write_all(int fd, const void *buf, size_t len)
{
	return io_write_all(fd, buf, len);
}

int
fs_sync_dir(const char *path, struct muster_err *e)
{
	struct stat st;
	char *copy = NULL;
	const char *dir;
	int fd, rc = 0;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		dir = path;
	else {
		if ((copy = strdup(path)) == NULL)
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		dir = dirname(copy);
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s", dir);
		goto out;
	}
	if (fsync(fd) == -1)
		rc = err_sys(e, MUSTER_EIO, "%s: fsync", dir);
	close(fd);
out:
	free(copy);
	return rc;
}

int
fs_create_excl(const char *path, const void *buf, size_t len, mode_t mode,
    struct muster_err *e)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return err_sys(e, MUSTER_ECANTCREAT, "%s", path);
	/* The umask may have narrowed mode; it must never widen it. */
	if (fchmod(fd, mode) == -1 || fs_write_all(fd, buf, len) == -1 ||
	    fsync(fd) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s", path);
		close(fd);
		unlink(path);
		return rc;
	}
	if (close(fd) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s", path);
		unlink(path);
		return rc;
	}
	return fs_sync_dir(path, e);
}

int
fs_write_atomic(const char *path, const void *buf, size_t len, mode_t mode,
    struct muster_err *e)
{
	unsigned char rnd[8];
	char *tmp = NULL, hex[2 * sizeof rnd + 1];
	int fd = -1, rc;
	size_t n;

	n = strlen(path) + sizeof ".tmp." + 2 * sizeof rnd;
	if ((tmp = malloc(n)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
	snprintf(tmp, n, "%s.tmp.%s", path, hex);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		rc = err_sys(e, MUSTER_ECANTCREAT, "%s", tmp);
		goto out;
	}
	if (fchmod(fd, mode) == -1 || fs_write_all(fd, buf, len) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s: write", path);
		goto fail;
	}
	if (fsync(fd) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s: fsync", path);
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		rc = err_sys(e, MUSTER_EIO, "%s: close", path);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s: rename", path);
		goto fail;
	}
	rc = fs_sync_dir(path, e);
	goto out;
fail:
	if (fd != -1)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	return rc;
}

int
fs_check_private(const char *path, struct muster_err *e)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return err_sys(e, errno == ENOENT ? MUSTER_ENOINPUT :
		    MUSTER_EIO, "%s", path);
	return private_ok(path, &st, e);
}

int
fs_mkdir_private(const char *path, struct muster_err *e)
{
	char *copy;
	int rc;

	if (mkdir(path, 0700) == -1) {
		if (errno != EEXIST)
			return err_sys(e, MUSTER_ECANTCREAT, "%s", path);
		return fs_check_private(path, e);
	}
	if ((rc = fs_check_private(path, e)) != 0)
		return rc;
	/* A new directory lasts only once its parent's entry is synced. */
	if ((copy = strdup(path)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = fs_sync_dir(dirname(copy), e);
	free(copy);
	return rc;
}

char *
fs_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) == -1)
		return NULL;
	return p;
}

int
fs_write_in(const char *dir, const char *name, const void *buf, size_t len,
    mode_t mode, struct muster_err *e)
{
	char *path;
	int rc;

	if ((path = fs_path(dir, name)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = fs_write_atomic(path, buf, len, mode, e);
	free(path);
	return rc;
}

gid_t
fs_private_group(gid_t gid)
{
	gid_t old = fs_group;

	fs_group = gid;
	return old;
}

/* 0 and *v if s is one decimal number from lo to hi and maybe "\n". */
static int
number_parse(const char *s, int64_t lo, int64_t hi, int64_t *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	if (end == s || errno != 0 || x < lo || x > hi ||
	    (*end != '\0' && strcmp(end, "\n") != 0))
		return -1;
	*v = x;
	return 0;
}

int
fs_read_number(const char *dir, const char *name, size_t max, int64_t lo,
    int64_t hi, int64_t *v, struct muster_err *e)
{
	char *path, *buf = NULL;
	size_t len;
	int rc;

	*v = 0;
	if ((path = fs_path(dir, name)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = fs_read_file(path, max, &buf, &len, e);
	if (rc == MUSTER_ENOINPUT)
		rc = 0;
	else if (rc == 0 && number_parse(buf, lo, hi, v) != 0)
		rc = err_set(e, MUSTER_ECONFIG, "%s: damaged (want one "
		    "number)", path);
	free(buf);
	free(path);
	return rc;
}

int
fs_write_number(const char *dir, const char *name, int64_t v,
    struct muster_err *e)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof buf, "%lld\n", (long long)v);
	return fs_write_in(dir, name, buf, (size_t)n, 0600, e);
}

int
fs_shred(const char *dir, const char *name, struct muster_err *e)
{
	unsigned char zero[4096];
	struct stat st;
	char *path;
	off_t left;
	size_t n;
	int fd = -1, rc;

	if ((path = fs_path(dir, name)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		rc = err_sys(e, errno == ENOENT ? MUSTER_ENOINPUT : MUSTER_EIO,
		    "%s", path);
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		rc = err_set(e, MUSTER_EIO, "%s: not a regular file", path);
		goto out;
	}
	memset(zero, 0, sizeof zero);
	for (left = st.st_size; left > 0; left -= (off_t)n) {
		n = left > (off_t)sizeof zero ? sizeof zero : (size_t)left;
		if (fs_write_all(fd, zero, n) != 0) {
			rc = err_sys(e, MUSTER_EIO, "%s: overwrite", path);
			goto out;
		}
	}
	if (fsync(fd) == -1)
		rc = err_sys(e, MUSTER_EIO, "%s: fsync", path);
	else if (unlink(path) == -1)
		rc = err_sys(e, MUSTER_EIO, "%s: unlink", path);
	else
		rc = fs_sync_dir(path, e);
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

void
fs_close(int *fd)
{
	if (*fd != -1) {
		(void)close(*fd);
		*fd = -1;
	}
}
