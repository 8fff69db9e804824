/*
 * fs: the file habits of DESIGN.md in one place: capped reads, key files
 * created exclusively with mode 0600, state written by temp file + fsync +
 * rename + fsync of the directory, and refusal of files or directories that
 * others can read or write.
 */
#ifndef MUSTER_FS_H
#define MUSTER_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "muster/err.h"

/*
 * Reads the whole of path, refusing files larger than max bytes (without
 * reading past max+1).  On success *buf is a malloc'd buffer of *len bytes
 * followed by a NUL byte the caller does not count; the caller frees it.
 * Returns MUSTER_ENOINPUT when path cannot be opened, MUSTER_EDATA when it
 * is too large or not a regular file (a FIFO or device is refused without
 * blocking), MUSTER_EIO on a read error.  Every copy it drops on the way
 * (a grown buffer, an error) is wiped first: path may be a key.
 */
int	fs_read_file(const char *path, size_t max, char **buf, size_t *len,
	    struct muster_err *e);

/*
 * fs_read_file for a key or a private configuration: also refuses, with
 * MUSTER_ECONFIG and fs_check_private's words, a symbolic link (O_NOFOLLOW)
 * and a file not owned by this user or root or open to group or others,
 * checked on the descriptor it reads (no window between check and read).
 */
int	fs_read_private(const char *path, size_t max, char **buf, size_t *len,
	    struct muster_err *e);

/*
 * Reads a secret file (a key) with fs_read_private and hands its bytes
 * to use(path, buf, len, arg, e), then wipes and frees them: the caller
 * never holds the file's copy.  buf is NUL-terminated beyond len.
 * Returns fs_read_private's error (use is then not called) or use's
 * result.
 */
int	fs_read_secret(const char *path, size_t max,
	    int (*use)(const char *path, const char *buf, size_t len,
	    void *arg, struct muster_err *e), void *arg, struct muster_err *e);

/*
 * Writes len bytes to path atomically: a temporary file in the same
 * directory, created O_EXCL with the given mode, fsync'd, renamed over path,
 * then the directory fsync'd.  Never leaves a partial path behind.
 */
int	fs_write_atomic(const char *path, const void *buf, size_t len,
	    mode_t mode, struct muster_err *e);

/*
 * Creates path with O_CREAT|O_EXCL|O_NOFOLLOW and the given mode, writes
 * len bytes, fsyncs the file and its directory.  Fails with
 * MUSTER_ECANTCREAT if path exists.  Used for keys, which are never
 * replaced.
 */
int	fs_create_excl(const char *path, const void *buf, size_t len,
	    mode_t mode, struct muster_err *e);

/*
 * Returns 0 when path (a file or directory, not followed if a symlink) is
 * owned by the effective user or root and gives no permission to group or
 * others, MUSTER_ECONFIG naming the problem otherwise, MUSTER_ENOINPUT if it
 * does not exist.
 */
int	fs_check_private(const char *path, struct muster_err *e);

/*
 * Creates directory path with mode 0700 if it does not exist (the parent
 * must exist; its entry is fsync'd when the directory is new), then checks
 * it with fs_check_private.
 */
int	fs_mkdir_private(const char *path, struct muster_err *e);

/* io_write_all (muster/io.h): all len bytes to fd; 0, or -1 with errno. */
int	fs_write_all(int fd, const void *buf, size_t len);

/* fsyncs the directory that contains path (or path itself if a directory). */
int	fs_sync_dir(const char *path, struct muster_err *e);

/* Wipes the len bytes at p (a key file read, a secret) and frees p; NULL is
 * a no-op. */
void	fs_wipe_free(void *p, size_t len);

/* Wipes the NUL-terminated secret s (a token, a bundle) and frees it. */
void	fs_free_secret(char *s);

/* Joins dir and name into a malloc'd "dir/name"; NULL if out of memory. */
char	*fs_path(const char *dir, const char *name);

/* fs_write_atomic of the file name in dir; returns as it does. */
int	fs_write_in(const char *dir, const char *name, const void *buf,
	    size_t len, mode_t mode, struct muster_err *e);

/*
 * Reads dir/name, a file of at most max bytes holding one decimal number
 * from lo to hi and an optional newline, into *v; a missing file reads
 * as 0.  Returns 0, fs_read_file's other errors, or MUSTER_ECONFIG
 * ("DIR/NAME: damaged (want one number)") when it holds anything else.
 */
int	fs_read_number(const char *dir, const char *name, size_t max,
	    int64_t lo, int64_t hi, int64_t *v, struct muster_err *e);

/* Writes v and a newline to dir/name with fs_write_atomic, mode 0600. */
int	fs_write_number(const char *dir, const char *name, int64_t v,
	    struct muster_err *e);

/*
 * Lets fs_read_private and fs_check_private accept a regular file that
 * the group gid may read but not write (root:muster 0640: a service's
 * secret), besides the owner's alone; (gid_t)-1 (the default) accepts
 * none.  A file readable by another group, or by others, is still
 * refused.  Process-wide; set it before threads read private files.
 * Returns the group set before.
 */
gid_t	fs_private_group(gid_t gid);

/*
 * Overwrites the regular file dir/name with zeros, fsyncs it, unlinks it
 * and fsyncs the directory: a secret (the device key, the randomized-
 * response memo) that must not outlive its device's enrollment.  Returns
 * 0, MUSTER_ENOINPUT when there is no such file, or MUSTER_EIO.
 */
int	fs_shred(const char *dir, const char *name, struct muster_err *e);


/*
 * Closes *fd unless it is -1, and sets it to -1: the one close of a
 * descriptor that may or may not be open (an out: label, a pipe's end).
 */
void	fs_close(int *fd);

#endif
