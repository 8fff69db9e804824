/*
 * cfgtree_diff: lib/cfgtree.c held to libconfig on the same bytes, for
 * tests/unit/test_cfgtree.c and tests/fuzz/fuzz_cfgtree.c.  The
 * reference is the gate every other libconfig file goes through,
 * cfgscan_read (cfgscan's refusals, then libconfig 1.5): cfgtree must
 * accept exactly what it accepts, into the same tree (names, types,
 * values, the lines config_setting_source_line gives).  One difference is
 * allowed: an integer cfgscan's scan misses and libconfig then truncates
 * ("a = 99999999999e = 1": cfgscan reads one word and calls it a float)
 * cfgtree refuses as out of range.  And one difference is by design:
 * a number run into a name ("a = 5Lid = 1", "b = +0x9z = 1"), which
 * libconfig reads as two settings and cfgscan as one word it sometimes
 * refuses ("5Lid", "+0x9z"), cfgtree always refuses.
 *
 * cfgtree_diff returns NULL when the two agree, else a static message
 * saying how they differ.
 */
#ifndef MUSTER_TESTS_CFGTREE_DIFF_H
#define MUSTER_TESTS_CFGTREE_DIFF_H

#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "muster/cfgscan.h"
#include "muster/cfgtree.h"

#define CFGTREE_DIFF_DEPTH	8

static inline const char *
cfgtree_diff_node(const struct cfgtree *t, const struct cfgtree_node *n,
    const config_setting_t *s, char *why, size_t size)
{
	const char *sn = config_setting_name(s);
	int type = config_setting_type(s), i, len;

	if (type != n->type) {
		snprintf(why, size, "line %d: type %d, libconfig %d", n->line,
		    n->type, type);
		return why;
	}
	if ((sn == NULL) != (n->name == NULL) ||
	    (sn != NULL && strcmp(sn, n->name) != 0)) {
		snprintf(why, size, "line %d: name %s, libconfig %s", n->line,
		    n->name != NULL ? n->name : "(none)",
		    sn != NULL ? sn : "(none)");
		return why;
	}
	if ((int)config_setting_source_line(s) != n->line) {
		snprintf(why, size, "setting %s: line %d, libconfig %u",
		    sn != NULL ? sn : "(element)", n->line,
		    config_setting_source_line(s));
		return why;
	}
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		if (config_setting_get_int64(s) != n->ival) {
			snprintf(why, size, "line %d: %lld, libconfig %lld",
			    n->line, n->ival, config_setting_get_int64(s));
			return why;
		}
		break;
	case CONFIG_TYPE_BOOL:
		if ((config_setting_get_bool(s) != 0) != (n->ival != 0)) {
			snprintf(why, size, "line %d: bool differs", n->line);
			return why;
		}
		break;
	case CONFIG_TYPE_FLOAT:
		if (memcmp(&(double){ config_setting_get_float(s) }, &n->fval,
		    sizeof n->fval) != 0) {
			snprintf(why, size, "line %d: %g, libconfig %g",
			    n->line, n->fval, config_setting_get_float(s));
			return why;
		}
		break;
	case CONFIG_TYPE_STRING:
		if (strcmp(config_setting_get_string(s), n->str) != 0) {
			snprintf(why, size, "line %d: string differs",
			    n->line);
			return why;
		}
		break;
	default:
		len = config_setting_length(s);
		if ((unsigned)len != n->n) {
			snprintf(why, size, "line %d: %u children, libconfig "
			    "%d", n->line, n->n, len);
			return why;
		}
		for (i = 0; i < len; i++)
			if (cfgtree_diff_node(t, cfgtree_elem(t, n, (size_t)i),
			    config_setting_get_elem(s, (unsigned)i), why,
			    size) != NULL)
				return why;
		break;
	}
	return NULL;
}

static inline const char *
cfgtree_diff(const char *buf, size_t len)
{
	static char why[1024];
	struct muster_err e1, e2;
	struct cfgtree t;
	config_t cfg;
	int rc1, rc2;

	config_init(&cfg);
	rc1 = cfgscan_read(&cfg, "f", "file", buf, len, CFGTREE_DIFF_DEPTH,
	    &e1);
	rc2 = cfgtree_read(&t, "f", "file", buf, len, (size_t)-1,
	    CFGTREE_DIFF_DEPTH, &e2);
	if (rc1 == 0 && rc2 == 0) {
		if (cfgtree_diff_node(&t, cfgtree_root(&t),
		    config_root_setting(&cfg), why, sizeof why) == NULL)
			why[0] = '\0';
	} else if (rc1 == 0 && strstr(e2.msg, "out of range") != NULL)
		why[0] = '\0';	/* libconfig truncated what cfgscan missed */
	else if (rc1 == 0 && strstr(e2.msg, "runs into a name") != NULL)
		why[0] = '\0';	/* by design */
	else if (rc1 == 0)
		snprintf(why, sizeof why, "cfgtree refused (%.400s), libconfig "
		    "accepted", e2.msg);
	else if (rc2 == 0)
		snprintf(why, sizeof why, "cfgtree accepted, cfgscan/libconfig "
		    "refused (%.400s)", e1.msg);
	else
		why[0] = '\0';
	cfgtree_free(&t);
	config_destroy(&cfg);
	return why[0] == '\0' ? NULL : why;
}

#endif
