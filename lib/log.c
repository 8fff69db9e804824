/* log: stderr, a file or syslog, with levels; see include/muster/log.h. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "muster/esc.h"
#include "muster/log.h"
#include "muster/timefmt.h"

static const char *log_prog = "muster";
static const char *log_warn_label = "warn";
static int log_syslog;
static int log_journal;		/* stderr is journald's stream: <N> prefixes */
static int log_fd = -1;		/* a log file: timestamps */
static int log_acc_fd = -1;	/* the access log file */
static int log_acc_to_log;	/* the access log goes to the log */
static enum log_level log_max = LOG_LVL_INFO;	/* atomic */
static pthread_mutex_t log_refused_mu = PTHREAD_MUTEX_INITIALIZER;
static struct log_rate log_refused_rate;

static const struct {
	const char	*name;
	int		 prio;
} levels[] = {
	[LOG_LVL_ERROR] = { "error", LOG_ERR },
	[LOG_LVL_WARN] = { "warn", LOG_WARNING },
	[LOG_LVL_INFO] = { "info", LOG_INFO },
	[LOG_LVL_DEBUG] = { "debug", LOG_DEBUG },
};

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcmp(s, levels[i].name) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

int
log_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	/* "DEV:INO" of the stream journald gave us (systemd.exec(5)). */
	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
log_init(const char *prog, int use_syslog, enum log_level level)
{
	log_prog = prog;
	log_syslog = use_syslog;
	__atomic_store_n(&log_max, level, __ATOMIC_RELAXED);
	log_journal = !use_syslog && log_stderr_is_journal();
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	__atomic_store_n(&log_max, level, __ATOMIC_RELAXED);
}

/* Opens path for appending (0640, no link followed); -1 and errno. */
static int
log_open_append(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NOCTTY, 0640);
}

/*
 * Points *fdp at path: a new descriptor the first time, else the same
 * number made to name the new file (dup2), so that a thread writing at
 * that moment writes whole lines to one file or the other.
 */
static int
log_point(int *fdp, const char *path, struct muster_err *e)
{
	int fd;

	if ((fd = log_open_append(path)) == -1)
		return err_sys(e, MUSTER_ECONFIG, "%s", path);
	if (*fdp == -1) {
		*fdp = fd;
		return 0;
	}
	if (dup2(fd, *fdp) == -1) {
		close(fd);
		return err_sys(e, MUSTER_EOS, "%s: dup2", path);
	}
	close(fd);
	return 0;
}

int
log_file(const char *path, struct muster_err *e)
{
	int rc;

	if ((rc = log_point(&log_fd, path, e)) != 0)
		return rc;
	log_syslog = 0;
	log_journal = 0;
	return 0;
}

int
log_access_open(const char *dest, struct muster_err *e)
{
	if (dest == NULL) {
		log_acc_to_log = 0;
		return 0;
	}
	if (strcmp(dest, "log") == 0) {
		log_acc_to_log = 1;
		return 0;
	}
	log_acc_to_log = 0;
	return log_point(&log_acc_fd, dest, e);
}

int
log_access_enabled(void)
{
	return log_acc_to_log || log_acc_fd != -1;
}

void
log_warn_word(const char *word)
{
	log_warn_label = word;
}

void
log_close(void)
{
	if (log_syslog)
		closelog();
	log_syslog = 0;
	log_journal = 0;
	if (log_fd != -1)
		close(log_fd);
	log_fd = -1;
	if (log_acc_fd != -1)
		close(log_acc_fd);
	log_acc_fd = -1;
	log_acc_to_log = 0;
}

int
log_enabled(enum log_level level)
{
	return level <= __atomic_load_n(&log_max, __ATOMIC_RELAXED);
}

/* Writes line whole to fd, "TIME " before it. */
static void
log_write_stamped(int fd, const char *prefix, const char *line)
{
	char buf[LOG_LINE_MAX + 128], t[TIMEFMT_LEN];
	int n;

	timefmt_format(time(NULL), t);
	n = snprintf(buf, sizeof buf, "%s %s%s\n", t, prefix, line);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf) {
		n = (int)sizeof buf - 1;
		buf[n - 1] = '\n';
	}
	/* One write of O_APPEND: lines of several threads never mix. */
	if (write(fd, buf, (size_t)n) < 0)
		return;
}

static void
log_v(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], prefix[128];

	if (!log_enabled(level))
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	esc_line(line);
	if (log_syslog) {
		syslog(levels[level].prio, "%s", line);
		return;
	}
	snprintf(prefix, sizeof prefix, "%s: %s: ", log_prog,
	    level == LOG_LVL_WARN ? log_warn_label : levels[level].name);
	if (log_fd != -1)
		log_write_stamped(log_fd, prefix, line);
	else if (log_journal)
		/* journald files each line under its <N> priority. */
		fprintf(stderr, "<%d>%s%s\n", levels[level].prio, prefix,
		    line);
	else	/* one call per line: stdio locks the stream around it */
		fprintf(stderr, "%s%s\n", prefix, line);
}

#define LOG_FN(name, level)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	log_v(level, fmt, ap);				\
	va_end(ap);					\
}

LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
log_access(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;

	if (!log_access_enabled())
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	esc_line(line);
	if (log_acc_to_log)
		log_info("access: %s", line);
	else if (log_acc_fd != -1)
		log_write_stamped(log_acc_fd, "", line);
}

int
log_rate_take(struct log_rate *r, time_t now, unsigned long *suppressed)
{
	*suppressed = 0;
	if (now < r->window || now - r->window >= LOG_RATE_WINDOW) {
		*suppressed = r->dropped;
		r->window = now;
		r->used = 0;
		r->dropped = 0;
	}
	if (r->used < LOG_RATE_BURST) {
		r->used++;
		return 1;
	}
	r->dropped++;
	return 0;
}

void
log_refused(const char *fmt, ...)
{
	unsigned long suppressed;
	va_list ap;
	int ok;

	pthread_mutex_lock(&log_refused_mu);
	ok = log_rate_take(&log_refused_rate, time(NULL), &suppressed);
	pthread_mutex_unlock(&log_refused_mu);
	if (suppressed > 0)
		log_warn("refused: %lu more refusals in %d s not logged",
		    suppressed, LOG_RATE_WINDOW);
	if (!ok)
		return;
	va_start(ap, fmt);
	log_v(LOG_LVL_WARN, fmt, ap);
	va_end(ap);
}
