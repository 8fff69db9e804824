/*
 * log: the one log.  Lines on stderr exactly as scripts read them, levels,
 * and no way for untrusted text to forge a line.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines_and_levels),
		cmocka_unit_test(untrusted_text_cleaned),
		cmocka_unit_test(long_line_cut),
		cmocka_unit_test(level_names),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
