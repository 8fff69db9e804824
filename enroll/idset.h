/*
 * idset: a set of names (roster persons), each with the line where it
 * was first seen, for telling duplicates; an open-addressed FNV-1a hash
 * table that doubles when half full.
 */
#ifndef MUSTER_ENROLL_IDSET_H
#define MUSTER_ENROLL_IDSET_H

#include <stddef.h>

struct idset_entry {
	char	*name;
	long	 line;
};

/* Zero-initialised it is empty. */
struct idset {
	struct idset_entry	*tab;
	size_t			 cap, n;	/* cap a power of two */
};

/*
 * Adds a copy of name, first seen on line; returns 0 when it is new, the
 * line where it was first seen when not, -1 when out of memory.
 */
long	idset_add(struct idset *s, const char *name, long line);

/* Frees what s holds (s itself is the caller's). */
void	idset_free(struct idset *s);

#endif
