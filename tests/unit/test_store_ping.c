/*
 * store_ping, the read behind GET /healthz: 0 on a store that answers;
 * an error (and so 503) on one whose tables are gone, not a false "ok".
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "unit_store.h"

static void
answers(void **state)
{
	struct fx *f = *state;
	struct muster_err e;

	assert_int_equal(store_ping(f->st, &e), 0);
}

static void
broken(void **state)
{
	struct fx *f = *state;
	struct store *rd = NULL;
	struct muster_err e;
	char path[UNIT_TMPDIR_MAX + 32];
	sqlite3 *db;

	/* A store whose devices table someone dropped behind our back. */
	snprintf(path, sizeof path, "%s/muster.db", f->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys=OFF; "
	    "DROP TABLE devices;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(f->data, 1, &rd, &e), 0);
	memset(&e, 0, sizeof e);
	assert_true(store_ping(rd, &e) < 0);
	assert_non_null(strstr(e.msg, "ping"));
	store_close(rd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(answers, unit_store_setup,
		    unit_store_teardown),
		cmocka_unit_test_setup_teardown(broken, unit_store_setup,
		    unit_store_teardown),
	};

	return cmocka_run_group_tests_name("store_ping", tests, NULL, NULL);
}
