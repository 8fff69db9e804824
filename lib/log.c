/* log: stderr or syslog with levels; see include/muster/log.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "muster/esc.h"
#include "muster/log.h"

static const char *log_prog = "muster";
static const char *log_warn_label = "warn";
static int log_syslog;
static enum log_level log_max = LOG_LVL_INFO;

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

void
log_init(const char *prog, int use_syslog, enum log_level level)
{
	log_prog = prog;
	log_syslog = use_syslog;
	log_max = level;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
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
}

int
log_enabled(enum log_level level)
{
	return level <= log_max;
}

static void
log_v(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];

	if (!log_enabled(level))
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	esc_line(line);
	if (log_syslog)
		syslog(levels[level].prio, "%s", line);
	else	/* one call per line: stdio locks the stream around it */
		fprintf(stderr, "%s: %s: %s\n", log_prog,
		    level == LOG_LVL_WARN ? log_warn_label :
		    levels[level].name, line);
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
