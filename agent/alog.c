/* alog: syslog or stderr, with levels; see agent/alog.h. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "cmd.h"
#include "alog.h"

static enum alog_dest	dest = ALOG_STDERR;
static int		verbose;

void
alog_init(enum alog_dest d, int debug)
{
	dest = d;
	verbose = debug;
	if (d == ALOG_SYSLOG)
		openlog(AGENT_PROG, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

static void
vlog(int pri, const char *level, const char *fmt, va_list ap)
{
	if (pri == LOG_DEBUG && !verbose)
		return;
	if (dest == ALOG_SYSLOG) {
		vsyslog(pri, fmt, ap);
		return;
	}
	fprintf(stderr, "%s: %s: ", AGENT_PROG, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
alog_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_DEBUG, "debug", fmt, ap);
	va_end(ap);
}

void
alog_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, "info", fmt, ap);
	va_end(ap);
}

void
alog_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, "warning", fmt, ap);
	va_end(ap);
}

void
alog_errx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, "error", fmt, ap);
	va_end(ap);
}
