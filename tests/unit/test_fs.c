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

/*
 * fs_shred: the bytes are zeros before the name goes (read back through a
 * descriptor held across the call), a missing file is MUSTER_ENOINPUT, and
 * a link or a directory is refused with the link's target left alone.
 */
static void
shred(void **state)
{
	char dir[UNIT_TMPDIR_MAX], path[128], target[128], big[10000];
	char back[sizeof big], zero[sizeof big];
	struct muster_err e = { 0 };
	int fd;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "fsshred"), 0);
	snprintf(path, sizeof path, "%s/key", dir);
	snprintf(target, sizeof target, "%s/target", dir);
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_file(path, big, 0600);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(fs_shred(dir, "key", &e), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(pread(fd, back, sizeof back, 0),
	    (ssize_t)sizeof big - 1);
	memset(zero, 0, sizeof zero);
	assert_memory_equal(back, zero, sizeof big - 1);
	close(fd);
	assert_int_equal(fs_shred(dir, "key", &e), MUSTER_ENOINPUT);
	/* A link is not followed: its target keeps its bytes. */
	write_file(target, "secret", 0600);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(fs_shred(dir, "key", &e), MUSTER_EIO);
	assert_true((fd = open(target, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, back, sizeof back), 6);
	assert_memory_equal(back, "secret", 6);
	close(fd);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_not_equal(fs_shred(dir, "key", &e), 0);
	assert_int_equal(unit_rmtree(dir), 0);
}

/* fs_write_in: the bytes and the mode asked for, in dir; no dir, no file. */
static void
write_in(void **state)
{
	char dir[UNIT_TMPDIR_MAX], path[128], back[16];
	struct muster_err e = { 0 };
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "fsin"), 0);
	assert_int_equal(fs_write_in(dir, "doc", "abc", 3, 0644, &e), 0);
	snprintf(path, sizeof path, "%s/doc", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(read(fd, back, sizeof back), 3);
	assert_memory_equal(back, "abc", 3);
	close(fd);
	assert_int_not_equal(fs_write_in(dir, "no/such/doc", "x", 1, 0600,
	    &e), 0);
	assert_int_equal(unit_rmtree(dir), 0);
}

/* fs_close closes an open descriptor once, marks it closed, and leaves -1. */
static void
close_once(void **state)
{
	int p[2], fd = -1;

	(void)state;
	assert_int_equal(pipe(p), 0);
	fs_close(&p[1]);
	assert_int_equal(p[1], -1);
	assert_int_equal(read(p[0], &fd, 1), 0);	/* the writer is gone */
	fd = p[0];
	fs_close(&p[0]);
	assert_int_equal(p[0], -1);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	fs_close(&p[0]);			/* a second call is a no-op */
	assert_int_equal(p[0], -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_secret),
		cmocka_unit_test(read_number),
		cmocka_unit_test(shred),
		cmocka_unit_test(write_in),
		cmocka_unit_test(close_once),
	};

	return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
