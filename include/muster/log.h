/*
 * log: the one log of every Muster process (the server, the agent's run
 * loop), in the manner of OpenSMTPD's log.h: to stderr, one line per
 * message ("PROG: LEVEL: message", one write, for a terminal or journald),
 * or to syslog (facility daemon), with levels.  Thread-safe once
 * log_init has run.  Messages never carry tokens, signatures, keys or
 * report contents; what they do carry is cleaned with esc_line, so
 * untrusted text cannot forge a line, move the cursor or reorder what a
 * reader sees.  A message is cut at LOG_LINE_MAX - 1 bytes.
 */
#ifndef MUSTER_LOG_H
#define MUSTER_LOG_H

#define LOG_LINE_MAX	1024

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Parses "error", "warn", "info", "debug"; returns 0 or -1. */
int	log_level_parse(const char *s, enum log_level *out);

/*
 * Sends messages at level or more severe to syslog (use_syslog) or to
 * stderr, prefixed with prog, which must outlive the log (a literal).
 * Before log_init, messages go to stderr at level info as "muster".
 */
void	log_init(const char *prog, int use_syslog, enum log_level level);

/*
 * Sets the word for warnings on stderr: "warn" (the server's, as its
 * log_level setting spells it) until changed.  The agent's lines say
 * "warning", which scripts that read them match.  word must outlive the
 * log (a literal).
 */
void	log_warn_word(const char *word);

/* Closes syslog if log_init opened it; messages go to stderr after it. */
void	log_close(void);

/* 1 when a message at level would be written. */
int	log_enabled(enum log_level level);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
