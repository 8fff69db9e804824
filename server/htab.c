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

static size_t
key_hash(const void *arg, size_t i)
{
	return str_hash(((const struct htab *)arg)->keys[i]);
}

int
htab_slots_grow(size_t **slot, size_t *nslot, size_t min, size_t n,
    size_t (*hash)(const void *arg, size_t i), const void *arg)
{
	size_t ns = *nslot == 0 ? min : *nslot * 2, i, j;
	size_t *v;

	if ((v = calloc(ns, sizeof *v)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		for (j = hash(arg, i) & (ns - 1); v[j] != 0;
		    j = (j + 1) & (ns - 1))
			;
		v[j] = i + 1;
	}
	free(*slot);
	*slot = v;
	*nslot = ns;
	return 0;
}

int
htab_intern(struct htab *t, const char *key, size_t *idx, int *added)
{
	size_t j;
	char **keys;

	if (added != NULL)
		*added = 0;
	if (2 * (t->n + 1) > t->nslot && htab_slots_grow(&t->slot,
	    &t->nslot, 64, t->n, key_hash, t) != 0)
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
