/*
 * htab: a string table, each distinct string given a dense index (0, 1,
 * 2, ... in the order first seen), found again by an open hash.  The
 * roll-up counts a million devices into arrays indexed by unit and model
 * this way, without a GROUP BY.
 *
 * A zeroed struct htab is an empty table; not thread-safe.
 */
#ifndef MUSTER_SERVER_HTAB_H
#define MUSTER_SERVER_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct htab {
	char		**keys;		/* by index, malloc'd */
	size_t		  n, cap;
	size_t		 *slot;		/* index + 1; 0: empty */
	size_t		  nslot;	/* a power of two, > 2 * n */
};

/*
 * A 64-bit finalizer (splitmix64's): every bit of x moves the low bits,
 * which pick a slot.  For hashes of keys other than strings.
 */
static inline uint64_t
htab_mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * The index of key in *idx, key copied in when missing (*added, unless
 * NULL, says whether it was).  0, or -1 when out of memory (t stays
 * valid).  t->keys[i] is the key of index i, owned by the table.
 */
int	htab_intern(struct htab *t, const char *key, size_t *idx, int *added);

/* Frees what t holds and leaves it empty. */
void	htab_free(struct htab *t);

/*
 * The open hash under a table of n entries: grows slot[*nslot] (index + 1;
 * 0: empty; a power of two) to twice its size, or to min (a power of two)
 * from none, and puts entries 0 to n - 1 back by hash(arg, i).  0, or -1
 * when out of memory (*slot and *nslot unchanged).  *slot is malloc'd,
 * owned by the caller's table.
 */
int	htab_slots_grow(size_t **slot, size_t *nslot, size_t min, size_t n,
	    size_t (*hash)(const void *arg, size_t i), const void *arg);

#endif
