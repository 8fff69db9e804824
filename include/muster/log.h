/*
 * log: the one log of every Muster process (the server, the agent's run
 * loop), in the manner of OpenSMTPD's log.h: to stderr, one line per
 * message ("PROG: LEVEL: message", one write, for a terminal), with the
 * syslog priority before it ("<3>PROG: error: ...") when stderr is the
 * stream journald handed us (JOURNAL_STREAM), so that journald files each
 * line under its level; to a file ("TIME PROG: LEVEL: message", appended,
 * reopened by log_file on SIGHUP for logrotate); or to syslog (facility
 * daemon), with levels.  Beside it, an optional access log (a file with
 * timestamps, or the log itself), and refusals rate-limited so that a
 * flood of bad credentials cannot fill the disk.  Thread-safe once
 * log_init has run.  Messages never carry tokens, signatures, keys or
 * report contents; what they do carry is cleaned with esc_line, so
 * untrusted text cannot forge a line, move the cursor or reorder what a
 * reader sees.  A message is cut at LOG_LINE_MAX - 1 bytes.
 */
#ifndef MUSTER_LOG_H
#define MUSTER_LOG_H

#include <time.h>

#include "muster/err.h"

#define LOG_LINE_MAX	1024
#define LOG_RATE_BURST	20	/* refusals logged per window */
#define LOG_RATE_WINDOW	10	/* seconds */

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

/* 1 when stderr is the stream JOURNAL_STREAM names (journald's). */
int	log_stderr_is_journal(void);

/* Changes the level log_init set (a reload); any thread. */
void	log_set_level(enum log_level level);

/*
 * Sends messages to the file path from now on (appended, created 0640,
 * never through a symbolic link), each line led by its UTC time.  Called
 * again, it reopens path on the same descriptor (after logrotate moved
 * the old file).  Returns 0 or MUSTER_ECONFIG (cannot open).
 */
int	log_file(const char *path, struct muster_err *e);

/*
 * The access log: dest NULL (none), "log" (the log, level info, as
 * "access: ...") or a file path (appended, timestamps; reopened when
 * called again).  Returns 0 or MUSTER_ECONFIG.
 */
int	log_access_open(const char *dest, struct muster_err *e);

/* 1 when log_access writes anywhere. */
int	log_access_enabled(void);

/* One access log line (cleaned with esc_line like every message). */
void	log_access(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A refusal (a wrong admin token, a bad device signature) logged as a
 * warning, at most LOG_RATE_BURST of them in LOG_RATE_WINDOW seconds;
 * the next window's first line says how many were left out.
 */
void	log_refused(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A rate limit's window: zero it to start. */
struct log_rate {
	time_t		window;		/* its start */
	unsigned	used;
	unsigned long	dropped;
};

/*
 * Whether one more line fits r at time now (1) or is dropped (0); when a
 * new window starts, *suppressed is how many the old one dropped, else 0.
 */
int	log_rate_take(struct log_rate *r, time_t now,
	    unsigned long *suppressed);

/* Closes syslog if log_init opened it; messages go to stderr after it. */
void	log_close(void);

/* 1 when a message at level would be written. */
int	log_enabled(enum log_level level);

void	log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
