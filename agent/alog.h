/*
 * alog: the agent's messages while it runs (muster-agent run): to syslog
 * as "muster-agent" (facility daemon) by default, or to stderr as
 * "muster-agent: LEVEL: message" in the foreground.  Debug messages only
 * when asked for.  The one-shot commands print their single error line
 * with agent_fail instead.
 */
#ifndef MUSTER_AGENT_ALOG_H
#define MUSTER_AGENT_ALOG_H

enum alog_dest {
	ALOG_STDERR,
	ALOG_SYSLOG,
};

/* Chooses where messages go and whether debug ones are kept. */
void	alog_init(enum alog_dest dest, int debug);

void	alog_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	alog_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	alog_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	alog_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
