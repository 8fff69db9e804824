/*
 * The fixture every unit test shares: cmocka's includes in the order it
 * needs them, a private temporary directory per test and its removal, and
 * reading a test file whole.  Tests run from the top of the tree.
 *
 * Everything here is static inline so that a test that uses only part of
 * it builds without unused-function warnings.
 */
#ifndef MUSTER_TESTS_UNIT_H
#define MUSTER_TESTS_UNIT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* A directory name made by unit_tmpdir: "/tmp/muster-NAME.XXXXXX". */
#define UNIT_TMPDIR_MAX	64

/*
 * Makes a new directory /tmp/muster-NAME.XXXXXX (0700) and writes its
 * path into buf.  Returns 0, or -1 with errno set.
 */
static inline int
unit_tmpdir(char buf[UNIT_TMPDIR_MAX], const char *name)
{
	int n;

	n = snprintf(buf, UNIT_TMPDIR_MAX, "/tmp/muster-%s.XXXXXX", name);
	if (n < 0 || n >= UNIT_TMPDIR_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(buf) == NULL ? -1 : 0;
}

static inline int
unit_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * Removes path and everything below it, never following a link.  A path
 * that does not exist is not an error.  Returns 0 or -1.
 */
static inline int
unit_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ?
	    0 : -1;
}

/*
 * Reads the test file path whole and NUL-terminates it; *len (if len is
 * not NULL) gets its length without the NUL.  Fails the test when it
 * cannot be read.  The caller frees the buffer.
 */
static inline char *
unit_slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(buf = malloc((size_t)n + 1));
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

#endif
