/*
 * log: the server's log, to stderr (one line per message, for a terminal
 * or journald) or to syslog, with levels.  Thread-safe.  Messages never
 * carry tokens, signatures, keys or report contents; control characters in
 * them are replaced, so untrusted text cannot forge a line.
 */
#ifndef MUSTER_SERVER_LOG_H
#define MUSTER_SERVER_LOG_H

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Parses "error", "warn", "info", "debug"; returns 0 or -1. */
int	log_level_parse(const char *s, enum log_level *out);

/*
 * Sends messages at level or more severe to syslog (use_syslog, facility
 * daemon) or to stderr, prefixed with prog.  Before log_init, messages go
 * to stderr at level info.
 */
void	log_init(const char *prog, int use_syslog, enum log_level level);
void	log_close(void);

/* 1 when a message at level would be written. */
int	log_enabled(enum log_level level);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
