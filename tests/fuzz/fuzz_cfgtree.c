/*
 * fuzz_cfgtree: the profile's libconfig reader (lib/cfgtree.c) against
 * libconfig 1.5 itself on the same bytes (tests/unit/cfgtree_diff.h):
 * cfgtree must accept exactly what cfgscan_read accepts, into the same
 * tree of names, types, values and line numbers.
 */
#include <stdint.h>
#include <stdlib.h>

#include "../unit/cfgtree_diff.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;

	if (size > 65536)
		return 0;
	why = cfgtree_diff((const char *)data, size);
	FUZZ_ASSERT(why == NULL, "cfgtree and libconfig differ: %s", why);
	return 0;
}
