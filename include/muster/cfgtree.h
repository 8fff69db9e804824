/*
 * cfgtree: libconfig 1.5's grammar read into a flat tree, without
 * libconfig, for the one document read on every agent check: the policy
 * profile.  libconfig builds a tree of separately allocated settings
 * through a flex scanner and a bison parser (about 0.45 ms for a 28 KB,
 * 200-rule profile on this project's machine, three quarters of the
 * profile's whole parse); cfgtree reads the same text in one pass into
 * three arrays.
 *
 * It accepts what libconfig accepts, into the same tree: setting names,
 * types, values and the line numbers config_setting_source_line gives
 * (tests/unit/test_cfgtree.c and tests/fuzz/fuzz_cfgtree.c hold it to
 * that against the libconfig it stands beside), and refuses, with the
 * messages of lib/cfgscan.c, what cfgscan refuses before libconfig: NUL
 * bytes, a line starting with '@', nesting deeper than the limit, more
 * than CFGTREE_GROUP_MAX settings in a group, an integer libconfig would
 * truncate.  One thing libconfig accepts it refuses: a number run into a
 * name ("serial = 5Lid = 1", two settings to libconfig, one word to
 * cfgscan).  Other files (sim devices, bundles, roots, configurations)
 * still go through cfgscan and libconfig.
 */
#ifndef MUSTER_CFGTREE_H
#define MUSTER_CFGTREE_H

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"

#define CFGTREE_DEPTH_MAX	32	/* as CFGSCAN_DEPTH_MAX */
#define CFGTREE_GROUP_MAX	4096	/* as CFGSCAN_GROUP_MAX */

/* The types, numbered as libconfig's CONFIG_TYPE_*. */
enum cfgtree_type {
	CFGTREE_GROUP = 1,
	CFGTREE_INT = 2,
	CFGTREE_INT64 = 3,
	CFGTREE_FLOAT = 4,
	CFGTREE_STRING = 5,
	CFGTREE_BOOL = 6,
	CFGTREE_ARRAY = 7,
	CFGTREE_LIST = 8,
};

struct cfgtree_node {
	const char	*name;	/* a group's member; NULL otherwise */
	const char	*str;	/* CFGTREE_STRING */
	long long	 ival;	/* CFGTREE_INT, CFGTREE_INT64, CFGTREE_BOOL */
	double		 fval;	/* CFGTREE_FLOAT */
	uint32_t	 first;	/* a container's children: kids[first...] */
	uint32_t	 n;	/* how many */
	int		 line;	/* as config_setting_source_line; root 0 */
	int		 type;	/* enum cfgtree_type */
};

struct cfgtree {
	struct cfgtree_node	*nodes;		/* nodes[0] is the root group */
	size_t			 nnodes, capnodes;
	uint32_t		*kids;		/* children, as node indexes */
	size_t			 nkids, capkids;
	char			*strs;		/* names and strings */
	size_t			 nstrs;
};

/*
 * Reads len bytes at buf into t (which need not be initialised; free it
 * with cfgtree_free whatever the result).  name and what ("profile") are
 * for messages; more than max bytes, or nesting of ( { [ deeper than
 * max_depth (<= CFGTREE_DEPTH_MAX), is refused.  A NULL buf reads as ""
 * when len is 0.  Returns 0, or MUSTER_EDATA "name:line: what is wrong"
 * (libconfig's words for its own errors: "syntax error", "duplicate
 * setting name", "mismatched element type in array"), or
 * MUSTER_EINTERNAL on allocation failure.
 */
int	cfgtree_read(struct cfgtree *t, const char *name, const char *what,
	    const char *buf, size_t len, size_t max, int max_depth,
	    struct muster_err *e);

void	cfgtree_free(struct cfgtree *t);

/* The root group of a tree cfgtree_read filled. */
const struct cfgtree_node *cfgtree_root(const struct cfgtree *t);

/* Child i of container n (i < n->n). */
const struct cfgtree_node *cfgtree_elem(const struct cfgtree *t,
	    const struct cfgtree_node *n, size_t i);

/* The member of group g called name, or NULL. */
const struct cfgtree_node *cfgtree_member(const struct cfgtree *t,
	    const struct cfgtree_node *g, const char *name);

/* The node's line, 1 for the root (as cfgread_line1). */
int	cfgtree_line1(const struct cfgtree_node *n);

#endif
