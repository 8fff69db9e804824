/*
 * err: messages a person reads.  err_suffix keeps the first keep bytes of
 * what failed and adds what it means; err_exit_code maps every MUSTER_E*
 * to its exit code and anything else to 70.
 */
#include "unit.h"

#include <string.h>

#include "muster/err.h"

static void
suffix(void **state)
{
	struct muster_err e = { 0 };
	char longmsg[ERR_MSG_MAX];

	(void)state;
	err_set(&e, MUSTER_ETEMP, "server answered HTTP %u", 503u);
	assert_int_equal(err_suffix(&e, MUSTER_EUNAVAIL, 400, "nothing "
	    "changed: run %s again later", "consent"), MUSTER_EUNAVAIL);
	assert_int_equal(e.code, MUSTER_EUNAVAIL);
	assert_string_equal(e.msg, "server answered HTTP 503; nothing changed: "
	    "run consent again later");
	/* What failed is cut at keep bytes; the advice always shows. */
	memset(longmsg, 'x', sizeof longmsg - 1);
	longmsg[sizeof longmsg - 1] = '\0';
	err_set(&e, MUSTER_EDATA, "%s", longmsg);
	err_suffix(&e, MUSTER_EDATA, 10, "use --png");
	assert_string_equal(e.msg, "xxxxxxxxxx; use --png");
	/* A message shorter than keep is kept whole. */
	err_set(&e, MUSTER_EDATA, "short");
	err_suffix(&e, MUSTER_ETRUST, 300, "queued in %.3s/%s", "/var/lib",
	    "leaving");
	assert_string_equal(e.msg, "short; queued in /va/leaving");
	assert_int_equal(e.code, MUSTER_ETRUST);
	/* The whole stays within the buffer. */
	err_set(&e, MUSTER_EDATA, "%s", longmsg);
	err_suffix(&e, MUSTER_EDATA, 400, "%s", longmsg);
	assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
	assert_memory_equal(e.msg, longmsg, 400);
	assert_memory_equal(e.msg + 400, "; x", 3);
	/* No error record: only the code. */
	assert_int_equal(err_suffix(NULL, MUSTER_EIO, 10, "x"), MUSTER_EIO);
}

static void
exit_codes(void **state)
{
	(void)state;
	assert_int_equal(err_exit_code(0), 0);
	assert_int_equal(err_exit_code(1), 1);
	assert_int_equal(err_exit_code(MUSTER_EUSAGE), 64);
	assert_int_equal(err_exit_code(MUSTER_ETRUST), 77);
	assert_int_equal(err_exit_code(MUSTER_ECONFIG), 78);
	assert_int_equal(err_exit_code(-1), 70);
	assert_int_equal(err_exit_code(-79), 70);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(suffix),
		cmocka_unit_test(exit_codes),
	};

	return cmocka_run_group_tests_name("err", tests, NULL, NULL);
}
