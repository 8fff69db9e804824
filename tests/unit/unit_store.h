/*
 * The store fixture of the tests that need a real SQLite store (test_store,
 * test_rollup): a fresh store in its own temporary directory for each
 * test, closed and removed after it.  Include after unit.h.
 */
#ifndef MUSTER_TESTS_UNIT_STORE_H
#define MUSTER_TESTS_UNIT_STORE_H

#include "muster/err.h"
#include "../../server/store.h"

struct fx {
	char		 dir[UNIT_TMPDIR_MAX];	/* the temporary directory */
	char		 data[UNIT_TMPDIR_MAX + 8];	/* dir/data, the store's */
	struct store	*st;
};

static int
unit_store_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct muster_err e;

	if (f == NULL)
		return -1;
	if (unit_tmpdir(f->dir, "store") != 0) {
		free(f);
		return -1;
	}
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	if (store_open(f->data, 0, &f->st, &e) != 0) {
		fprintf(stderr, "store_open: %s\n", e.msg);
		unit_rmtree(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
unit_store_teardown(void **state)
{
	struct fx *f = *state;
	int rc;

	store_close(f->st);
	rc = unit_rmtree(f->dir);
	free(f);
	return rc;
}

/* A cmocka test run with its own fresh store. */
#define unit_store_test(t) \
	cmocka_unit_test_setup_teardown(t, unit_store_setup, unit_store_teardown)

#endif
