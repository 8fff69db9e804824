/*
 * htab: a string table with dense indexes; see htab.h.  Open addressing
 * with linear probing, at most half full; the slots hold index + 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

static size_t
str_hash(const char *s)
{
	size_t h = 14695981039346656037ULL & SIZE_MAX;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * (1099511628211ULL & SIZE_MAX);
	/* FNV-1a's low bits, which pick the slot, are weak: mix them. */
	return (size_t)htab_mix64(h);
}

static int
htab_grow(struct htab *t)
{
	size_t nslot = t->nslot == 0 ? 64 : t->nslot * 2, i, j;
	size_t *slot;

	if ((slot = calloc(nslot, sizeof *slot)) == NULL)
		return -1;
	for (i = 0; i < t->n; i++) {
		for (j = str_hash(t->keys[i]) & (nslot - 1); slot[j] != 0;
		    j = (j + 1) & (nslot - 1))
			;
		slot[j] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->nslot = nslot;
	return 0;
}

int
htab_intern(struct htab *t, const char *key, size_t *idx, int *added)
{
	size_t j;
	char **keys;

	if (added != NULL)
		*added = 0;
	if (2 * (t->n + 1) > t->nslot && htab_grow(t) != 0)
		return -1;
	for (j = str_hash(key) & (t->nslot - 1); t->slot[j] != 0;
	    j = (j + 1) & (t->nslot - 1))
		if (strcmp(t->keys[t->slot[j] - 1], key) == 0) {
			*idx = t->slot[j] - 1;
			return 0;
		}
	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 16 : t->cap * 2;

		if ((keys = realloc(t->keys, cap * sizeof *keys)) == NULL)
			return -1;
		t->keys = keys;
		t->cap = cap;
	}
	if ((t->keys[t->n] = strdup(key)) == NULL)
		return -1;
	t->slot[j] = t->n + 1;
	*idx = t->n++;
	if (added != NULL)
		*added = 1;
	return 0;
}

void
htab_free(struct htab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->slot);
	memset(t, 0, sizeof *t);
}
