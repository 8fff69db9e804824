/* idset: a set of names with first lines; see enroll/idset.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idset.h"

static uint64_t
idset_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int
idset_grow(struct idset *s)
{
	struct idset_entry *nt;
	size_t cap = s->cap == 0 ? 1024 : s->cap * 2, i, j;

	if ((nt = calloc(cap, sizeof *nt)) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if (s->tab[i].name == NULL)
			continue;
		for (j = idset_hash(s->tab[i].name) & (cap - 1);
		    nt[j].name != NULL; j = (j + 1) & (cap - 1))
			;
		nt[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = nt;
	s->cap = cap;
	return 0;
}

long
idset_add(struct idset *s, const char *name, long line)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && idset_grow(s) != 0)
		return -1;
	for (j = idset_hash(name) & (s->cap - 1); s->tab[j].name != NULL;
	    j = (j + 1) & (s->cap - 1))
		if (strcmp(s->tab[j].name, name) == 0)
			return s->tab[j].line;
	if ((s->tab[j].name = strdup(name)) == NULL)
		return -1;
	s->tab[j].line = line;
	s->n++;
	return 0;
}

void
idset_free(struct idset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->tab[i].name);
	free(s->tab);
}
