/* cli: one-line error reporting shared by the subcommands. */
#include <stdarg.h>
#include <stdio.h>

#include "enroll.h"

int
cli_fail(int rc, const struct muster_err *e)
{
	fprintf(stderr, "%s: %s\n", ENROLL_PROG, e->msg);
	return err_exit_code(rc);
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (cmd != NULL)
		fprintf(stderr, "%s %s: ", ENROLL_PROG, cmd);
	else
		fprintf(stderr, "%s: ", ENROLL_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 64;
}
