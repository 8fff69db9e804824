/*
 * fs_read_secret: the bytes of a private file reach the use function
 * exactly, its result is returned, and a file others can read, a link or
 * a missing file never reaches it.  fs_wipe_free of NULL is a no-op.
 */
#include "unit.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "muster/fs.h"

struct seen {
	int	calls;
	size_t	len;
	char	text[64];
	int	nul;	/* buf[len] was the NUL */
	int	rc;	/* what use returns */
};

static int
use(const char *path, const char *buf, size_t len, void *arg,
    struct muster_err *e)
{
	struct seen *s = arg;

	(void)path;
	s->calls++;
	s->len = len;
	if (len < sizeof s->text)
		memcpy(s->text, buf, len);
	s->nul = buf[len] == '\0';
	if (s->rc != 0)
		return err_set(e, s->rc, "use said no");
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) >=
	    0);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
read_secret(void **state)
{
	char dir[UNIT_TMPDIR_MAX], path[128], link_path[128];
	struct muster_err e = { 0 };
	struct seen s;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "fs"), 0);
	snprintf(path, sizeof path, "%s/key", dir);
	snprintf(link_path, sizeof link_path, "%s/link", dir);
	write_file(path, "secret\nbytes", 0600);

	memset(&s, 0, sizeof s);
	assert_int_equal(fs_read_secret(path, 64, use, &s, &e), 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.len, 12);
	assert_memory_equal(s.text, "secret\nbytes", 12);
	assert_true(s.nul);

	/* use's error is the caller's. */
	memset(&s, 0, sizeof s);
	s.rc = MUSTER_ETRUST;
	assert_int_equal(fs_read_secret(path, 64, use, &s, &e),
	    MUSTER_ETRUST);
	assert_string_equal(e.msg, "use said no");

	/* Over the limit, open to others, a link, missing: use not called. */
	memset(&s, 0, sizeof s);
	assert_int_equal(fs_read_secret(path, 11, use, &s, &e), MUSTER_EDATA);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(fs_read_secret(path, 64, use, &s, &e),
	    MUSTER_ECONFIG);
	assert_non_null(strstr(e.msg, "lets others in"));
	/* Group-readable: only by the service's group (fs_private_group). */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(fs_read_secret(path, 64, use, &s, &e),
	    MUSTER_ECONFIG);
	assert_non_null(strstr(e.msg, "not the service's group"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(fs_read_secret(link_path, 64, use, &s, &e),
	    MUSTER_ECONFIG);
	assert_non_null(strstr(e.msg, "symbolic link"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(fs_read_secret(path, 64, use, &s, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(s.calls, 0);

	fs_wipe_free(NULL, 10);		/* a no-op */
	assert_int_equal(unit_rmtree(dir), 0);
}

static void
read_number(void **state)
{
	static const char *const bad[] = { "", "\n", "12x", "12\n\n", " ",
	    "-1", "101", "99999999999999999999", "1 ", "0x10", "+",
	    NULL };
	char dir[UNIT_TMPDIR_MAX], path[128], want[160];
	struct muster_err e = { 0 };
	int64_t v;
	size_t i;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "fsnum"), 0);
	snprintf(path, sizeof path, "%s/n", dir);
	/* Missing reads as 0. */
	v = 7;
	assert_int_equal(fs_read_number(dir, "n", 32, 0, 100, &v, &e), 0);
	assert_int_equal(v, 0);
	/* What fs_write_number writes reads back, to the bounds. */
	assert_int_equal(fs_write_number(dir, "n", 100, &e), 0);
	assert_int_equal(fs_read_number(dir, "n", 32, 0, 100, &v, &e), 0);
	assert_int_equal(v, 100);
	assert_int_equal(fs_write_number(dir, "n", -5, &e), 0);
	assert_int_equal(fs_read_number(dir, "n", 32, -5, 5, &v, &e), 0);
	assert_int_equal(v, -5);
	write_file(path, "42", 0600);
	assert_int_equal(fs_read_number(dir, "n", 32, 0, 100, &v, &e), 0);
	assert_int_equal(v, 42);
	/* Anything else is damage, named, and leaves 0. */
	snprintf(want, sizeof want, "%s: damaged (want one number)", path);
	for (i = 0; bad[i] != NULL; i++) {
		write_file(path, bad[i], 0600);
		v = 7;
		assert_int_equal(fs_read_number(dir, "n", 32, 0, 100, &v, &e),
		    MUSTER_ECONFIG);
		assert_string_equal(e.msg, want);
		assert_int_equal(v, 0);
	}
	/* Oversized: fs_read_file's refusal, not a number. */
	write_file(path, "1234567890", 0600);
	assert_int_equal(fs_read_number(dir, "n", 4, 0, INT64_MAX, &v, &e),
	    MUSTER_EDATA);
	assert_int_equal(unit_rmtree(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_secret),
		cmocka_unit_test(read_number),
	};

	return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
