/*
 * log: the one log.  Lines on stderr exactly as scripts read them, levels,
 * and no way for untrusted text to forge a line.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "muster/log.h"

static char out[4 * LOG_LINE_MAX];

/* Points stderr at a temporary file; returns the saved descriptor. */
static int
capture_start(FILE **tmp)
{
	int saved;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_non_null(*tmp = tmpfile());
	assert_true(dup2(fileno(*tmp), STDERR_FILENO) >= 0);
	return saved;
}

/* Restores stderr and returns what was written to it (static). */
static const char *
capture_end(FILE *tmp, int saved)
{
	size_t n;

	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof out - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
lines_and_levels(void **state)
{
	FILE *tmp;
	int saved;

	(void)state;
	saved = capture_start(&tmp);
	log_init("muster-server", 0, LOG_LVL_INFO);
	log_error("e %d", 1);
	log_warn("replay from %s", "dev");
	log_info("i");
	log_debug("not shown");
	assert_true(log_enabled(LOG_LVL_INFO));
	assert_false(log_enabled(LOG_LVL_DEBUG));
	log_init("muster-agent", 0, LOG_LVL_DEBUG);
	log_warn_word("warning");
	log_warn("w");
	log_debug("d");
	log_init("muster-server", 0, LOG_LVL_ERROR);
	log_warn_word("warn");
	log_warn("dropped");
	log_error("kept");
	log_close();
	assert_string_equal(capture_end(tmp, saved),
	    "muster-server: error: e 1\n"
	    "muster-server: warn: replay from dev\n"
	    "muster-server: info: i\n"
	    "muster-agent: warning: w\n"
	    "muster-agent: debug: d\n"
	    "muster-server: error: kept\n");
}

static void
untrusted_text_cleaned(void **state)
{
	FILE *tmp;
	int saved;

	(void)state;
	saved = capture_start(&tmp);
	log_init("muster-server", 0, LOG_LVL_INFO);
	log_info("model \"%s\"", "X\nmuster-server: error: forged\x1b[0m");
	log_info("file %s", "\xe2\x80\xae" "fdp.exe");
	log_info("caf\xc3\xa9");
	assert_string_equal(capture_end(tmp, saved),
	    "muster-server: info: model \"X?muster-server: error: forged?[0m\"\n"
	    "muster-server: info: file ?fdp.exe\n"
	    "muster-server: info: caf\xc3\xa9\n");
}

static void
long_line_cut(void **state)
{
	char big[2 * LOG_LINE_MAX];
	const char *o;
	FILE *tmp;
	int saved;

	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	saved = capture_start(&tmp);
	log_init("p", 0, LOG_LVL_INFO);
	log_info("%s", big);
	o = capture_end(tmp, saved);
	assert_int_equal(strlen(o), strlen("p: info: ") + LOG_LINE_MAX - 1 + 1);
	assert_int_equal(o[strlen(o) - 1], '\n');
}

static void
level_names(void **state)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	enum log_level l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_int_equal(log_level_parse(names[i], &l), 0);
		assert_int_equal(l, (enum log_level)i);
	}
	assert_int_equal(log_level_parse("warning", &l), -1);
	assert_int_equal(log_level_parse("INFO", &l), -1);
	assert_int_equal(log_level_parse("", &l), -1);
}

/* Under journald (JOURNAL_STREAM names stderr) lines carry <N>. */
static void
journald_prefixes(void **state)
{
	struct stat st;
	char env[64];
	FILE *tmp;
	int saved;

	(void)state;
	saved = capture_start(&tmp);
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	assert_true(log_stderr_is_journal());
	log_init("muster-server", 0, LOG_LVL_DEBUG);
	log_error("e");
	log_warn("w");
	log_info("i");
	log_debug("d");
	/* Another stream (the ino differs): no prefixes. */
	snprintf(env, sizeof env, "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	assert_false(log_stderr_is_journal());
	log_init("muster-server", 0, LOG_LVL_INFO);
	log_info("plain");
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_false(log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
	assert_false(log_stderr_is_journal());
	log_close();
	assert_string_equal(capture_end(tmp, saved),
	    "<3>muster-server: error: e\n"
	    "<4>muster-server: warn: w\n"
	    "<6>muster-server: info: i\n"
	    "<7>muster-server: debug: d\n"
	    "muster-server: info: plain\n");
}

/* Reads path into out (static), NUL-terminated. */
static const char *
slurp(const char *path)
{
	FILE *f;
	size_t n;

	assert_non_null(f = fopen(path, "r"));
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	return out;
}

/* 1 if line starts with an RFC 3339 UTC time and a space. */
static int
stamped(const char *line)
{
	int y, mo, d, h, mi, sec;
	char z, sp;

	return sscanf(line, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &y, &mo, &d, &h,
	    &mi, &sec, &z, &sp) == 8 && z == 'Z' && sp == ' ';
}

/* A log file: timestamps, appended, reopened; the level can change. */
static void
file_log(void **state)
{
	char dir[] = "/tmp/muster-log.XXXXXX", path[64], moved[64];
	struct muster_err e;
	const char *o, *nl;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/server.log", dir);
	snprintf(moved, sizeof moved, "%s/server.log.1", dir);
	log_init("muster-server", 0, LOG_LVL_INFO);
	assert_int_equal(log_file(path, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	log_info("first");
	log_debug("hidden");
	log_set_level(LOG_LVL_DEBUG);
	log_debug("now shown");
	o = slurp(path);
	assert_true(stamped(o));
	assert_non_null(strstr(o, " muster-server: info: first\n"));
	nl = strchr(o, '\n');
	assert_true(stamped(nl + 1));
	assert_non_null(strstr(nl, " muster-server: debug: now shown\n"));
	assert_null(strstr(o, "hidden"));
	/* logrotate moved it: the next open (SIGHUP) makes a new file. */
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(log_file(path, &e), 0);
	log_warn("after");
	assert_non_null(strstr(slurp(path), " muster-server: warn: after\n"));
	assert_null(strstr(slurp(moved), "after"));
	/* Never through a symbolic link. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(moved, path), 0);
	assert_int_equal(log_file(path, &e), MUSTER_ECONFIG);
	log_close();
	unlink(path);
	unlink(moved);
	rmdir(dir);
}

/* The access log: off, to the log, to its own file, cleaned. */
static void
access_log(void **state)
{
	char dir[] = "/tmp/muster-acc.XXXXXX", path[64];
	struct muster_err e;
	const char *o;
	FILE *tmp;
	int saved;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/access.log", dir);
	saved = capture_start(&tmp);
	log_init("muster-server", 0, LOG_LVL_INFO);
	assert_int_equal(log_access_open(NULL, &e), 0);
	assert_false(log_access_enabled());
	log_access("dropped");
	assert_int_equal(log_access_open("log", &e), 0);
	assert_true(log_access_enabled());
	log_access("192.0.2.1 \"GET /healthz\" 200 3 0ms %s", "dev\nforged");
	assert_int_equal(log_access_open(path, &e), 0);
	log_access("192.0.2.2 \"POST /v1/report\" 202 2 1ms abc");
	log_close();
	assert_false(log_access_enabled());
	assert_string_equal(capture_end(tmp, saved),
	    "muster-server: info: access: 192.0.2.1 \"GET /healthz\" 200 3 0ms "
	    "dev?forged\n");
	o = slurp(path);
	assert_true(stamped(o));
	assert_string_equal(strchr(o, ' ') + 1,
	    "192.0.2.2 \"POST /v1/report\" 202 2 1ms abc\n");
	unlink(path);
	rmdir(dir);
}

/* Refusals: LOG_RATE_BURST per window, then a count of what was left. */
static void
rate_limit(void **state)
{
	struct log_rate r;
	unsigned long dropped;
	unsigned i, ok = 0;
	FILE *tmp;
	int saved;
	const char *o, *p;

	(void)state;
	memset(&r, 0, sizeof r);
	for (i = 0; i < 1000; i++)
		ok += (unsigned)log_rate_take(&r, 1000, &dropped);
	assert_int_equal(ok, LOG_RATE_BURST);
	assert_int_equal(log_rate_take(&r, 1000 + LOG_RATE_WINDOW - 1,
	    &dropped), 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(log_rate_take(&r, 1000 + LOG_RATE_WINDOW, &dropped),
	    1);
	assert_int_equal(dropped, 1000 - LOG_RATE_BURST + 1);
	/* A clock stepped back opens a new window too. */
	assert_int_equal(log_rate_take(&r, 5, &dropped), 1);

	saved = capture_start(&tmp);
	log_init("muster-server", 0, LOG_LVL_INFO);
	for (i = 0; i < 500; i++)
		log_refused("refused the admin credential of 192.0.2.%u", i % 250);
	o = capture_end(tmp, saved);
	for (i = 0, p = o; (p = strchr(p, '\n')) != NULL; p++)
		i++;
	/* A flood of 500 writes at most a burst (and one summary line). */
	assert_true(i <= LOG_RATE_BURST + 1);
	assert_true(i >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_and_levels),
		cmocka_unit_test(untrusted_text_cleaned),
		cmocka_unit_test(long_line_cut),
		cmocka_unit_test(level_names),
		cmocka_unit_test(journald_prefixes),
		cmocka_unit_test(file_log),
		cmocka_unit_test(access_log),
		cmocka_unit_test(rate_limit),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
