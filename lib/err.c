/* err: error values and messages; see include/muster/err.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "muster/err.h"

int
err_vset(struct muster_err *e, int code, const char *fmt, va_list ap)
{
	if (e == NULL)
		return code;
	e->code = code;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	return code;
}

int
err_set(struct muster_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)err_vset(e, code, fmt, ap);
	va_end(ap);
	return code;
}

int
err_vat(struct muster_err *e, int code, const char *file, int line,
    const char *fmt, va_list ap)
{
	char msg[ERR_MSG_MAX];

	vsnprintf(msg, sizeof msg, fmt, ap);
	return err_set(e, code, "%s:%d: %s", file, line, msg);
}

int
err_at(struct muster_err *e, int code, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)err_vat(e, code, file, line, fmt, ap);
	va_end(ap);
	return code;
}

int
err_sys(struct muster_err *e, int code, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;
	size_t n;

	if (e == NULL)
		return code;
	va_start(ap, fmt);
	(void)err_vset(e, code, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	if (n < sizeof e->msg)
		snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
	errno = saved;
	return code;
}

int
err_exit_code(int rc)
{
	if (rc >= 0)
		return rc;
	if (rc < -78 || rc > -64)
		return 70;
	return -rc;
}

int
err_suffix(struct muster_err *e, int code, int keep, const char *fmt, ...)
{
	char why[ERR_MSG_MAX], more[ERR_MSG_MAX];
	va_list ap;

	if (e == NULL)
		return code;
	snprintf(why, sizeof why, "%s", e->msg);
	va_start(ap, fmt);
	vsnprintf(more, sizeof more, fmt, ap);
	va_end(ap);
	return err_set(e, code, "%.*s; %s", keep, why, more);
}
