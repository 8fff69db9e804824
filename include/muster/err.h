/*
 * err: error values and messages shared by every module.
 *
 * Library functions return 0 on success or one of the negative MUSTER_E*
 * values below, and describe the failure in a caller-provided struct
 * muster_err.  The values are the negated sysexits.h codes so that main()
 * can turn any of them into the exit code DESIGN.md promises with
 * err_exit_code(); no library function exits or prints.
 */
#ifndef MUSTER_ERR_H
#define MUSTER_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define MUSTER_OK        0
#define MUSTER_EUSAGE    (-64)	/* bad arguments */
#define MUSTER_EDATA     (-65)	/* malformed input */
#define MUSTER_ENOINPUT  (-66)	/* input missing or unreadable */
#define MUSTER_EUNAVAIL  (-69)	/* server unavailable */
#define MUSTER_EINTERNAL (-70)	/* out of memory, library failure */
#define MUSTER_EOS       (-71)	/* system call failed */
#define MUSTER_ECANTCREAT (-73)	/* output cannot be created */
#define MUSTER_EIO       (-74)	/* read or write failed */
#define MUSTER_ETEMP     (-75)	/* temporary failure, retry later */
#define MUSTER_ETRUST    (-77)	/* signature, key, rollback, expiry, scope, pin */
#define MUSTER_ECONFIG   (-78)	/* bad configuration or permissions */

#define ERR_MSG_MAX 512

struct muster_err {
	int	code;
	char	msg[ERR_MSG_MAX];
};

/*
 * Records code and a printf-formatted message in e (which may be NULL) and
 * returns code, so that a failing path can say
 *	return err_set(e, MUSTER_EDATA, "%s:%d: unknown field", file, line);
 */
int	err_set(struct muster_err *e, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* err_set with a va_list. */
int	err_vset(struct muster_err *e, int code, const char *fmt, va_list ap)
	    __attribute__((format(printf, 3, 0)));

/*
 * Records "file:line: message" in e (which may be NULL) and returns code:
 * the one spelling of an error that points into a file.
 */
int	err_at(struct muster_err *e, int code, const char *file, int line,
	    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* err_at with a va_list. */
int	err_vat(struct muster_err *e, int code, const char *file, int line,
	    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Like err_set, with ": strerror(errno)" appended. */
int	err_sys(struct muster_err *e, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Maps a MUSTER_E* value (or 0) to the process exit code. */
int	err_exit_code(int rc);

/*
 * Rewrites e's message (e may be NULL) as its first keep bytes, "; " and
 * the printf-formatted rest: what failed, then what it means for the user
 * ("...; nothing changed: run consent again later").  Sets e's code to
 * code and returns code.
 */
int	err_suffix(struct muster_err *e, int code, int keep, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));

#endif
