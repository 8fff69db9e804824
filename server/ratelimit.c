/*
 * ratelimit: two token buckets per device, in a table of shards each
 * behind its own mutex (open addressing, doubled at half full); ratelimit.h.
 * Entries are never removed: only enrolled devices whose signature
 * verified are charged, so the table holds at most the fleet.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "muster/token.h"
#include "ratelimit.h"

#define RL_SHARDS	16
#define RL_ID_MAX	DEVICE_ID_HEX	/* a device id and its NUL */
#define RL_INIT_SLOTS	64

struct rl_entry {
	char	id[RL_ID_MAX];		/* "": an empty slot */
	double	reports;		/* tokens in each bucket */
	double	bytes;
	double	t;			/* when they were counted */
};

struct rl_shard {
	pthread_mutex_t	 mu;
	struct rl_entry	*slot;
	size_t		 nslot, n;
};

struct ratelimit {
	double		 rate;		/* reports per second; 0: none */
	double		 burst;
	double		 qrate;		/* bytes per second; 0: none */
	double		 quota;		/* bucket size: a day's bytes */
	struct rl_shard	 shard[RL_SHARDS];
};

static double
rl_min(double a, double b)
{
	return a < b ? a : b;
}

static uint64_t
rl_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ^ (h >> 29);
}

int
ratelimit_new(unsigned rate, unsigned burst, uint64_t quota,
    struct ratelimit **out)
{
	struct ratelimit *rl;
	int i;

	*out = NULL;
	if ((rl = calloc(1, sizeof *rl)) == NULL)
		return -1;
	rl->rate = rate / 3600.0;
	rl->burst = burst > 0 ? burst : 1;
	rl->qrate = quota / 86400.0;
	rl->quota = (double)quota;
	for (i = 0; i < RL_SHARDS; i++)
		pthread_mutex_init(&rl->shard[i].mu, NULL);
	*out = rl;
	return 0;
}

void
ratelimit_free(struct ratelimit *rl)
{
	int i;

	if (rl == NULL)
		return;
	for (i = 0; i < RL_SHARDS; i++) {
		pthread_mutex_destroy(&rl->shard[i].mu);
		free(rl->shard[i].slot);
	}
	free(rl);
}

/* The slot of id in sh (found, or the empty one where it goes). */
static struct rl_entry *
rl_find(struct rl_shard *sh, const char *id, uint64_t h)
{
	size_t i = (size_t)(h % sh->nslot);

	while (sh->slot[i].id[0] != '\0' && strcmp(sh->slot[i].id, id) != 0)
		i = (i + 1) % sh->nslot;
	return &sh->slot[i];
}

static int
rl_grow(struct rl_shard *sh)
{
	struct rl_shard bigger = { .nslot = sh->nslot == 0 ? RL_INIT_SLOTS :
	    sh->nslot * 2 };
	size_t i;

	if ((bigger.slot = calloc(bigger.nslot, sizeof *bigger.slot)) == NULL)
		return -1;
	for (i = 0; i < sh->nslot; i++)
		if (sh->slot[i].id[0] != '\0')
			*rl_find(&bigger, sh->slot[i].id,
			    rl_hash(sh->slot[i].id)) = sh->slot[i];
	free(sh->slot);
	sh->slot = bigger.slot;
	sh->nslot = bigger.nslot;
	return 0;
}

/* Seconds until a bucket refilling at rate holds need. */
static double
rl_wait(double have, double need, double rate)
{
	return (need - have) / rate;
}

long
ratelimit_take(struct ratelimit *rl, const char *device, size_t bytes,
    double now)
{
	uint64_t h = rl_hash(device);
	struct rl_shard *sh = &rl->shard[h % RL_SHARDS];
	struct rl_entry *en;
	double dt, wait = 0, need = (double)bytes;
	long rc;

	if (rl->rate == 0 && rl->qrate == 0)
		return 0;
	if (strlen(device) >= RL_ID_MAX)
		device = "";	/* never: ids are checked before */
	pthread_mutex_lock(&sh->mu);
	if ((sh->n + 1) * 2 > sh->nslot && rl_grow(sh) != 0) {
		pthread_mutex_unlock(&sh->mu);
		return -1;
	}
	en = rl_find(sh, device, h);
	if (en->id[0] == '\0') {
		/* A device starts with full buckets. */
		memcpy(en->id, device, strlen(device) + 1);
		if (en->id[0] == '\0')
			en->id[0] = '-';
		en->reports = rl->burst;
		en->bytes = rl->quota;
		en->t = now;
		sh->n++;
	}
	dt = now > en->t ? now - en->t : 0;
	en->t = now > en->t ? now : en->t;
	if (rl->rate > 0)
		en->reports = rl_min(rl->burst, en->reports + dt * rl->rate);
	if (rl->qrate > 0)
		en->bytes = rl_min(rl->quota, en->bytes + dt * rl->qrate);
	if (rl->rate > 0 && en->reports < 1)
		wait = rl_wait(en->reports, 1, rl->rate);
	if (rl->qrate > 0 && need > rl->quota)
		wait = RATELIMIT_RETRY_MAX;
	else if (rl->qrate > 0 && en->bytes < need)
		wait = rl_wait(en->bytes, need, rl->qrate) > wait ?
		    rl_wait(en->bytes, need, rl->qrate) : wait;
	if (wait > 0) {
		rc = wait >= RATELIMIT_RETRY_MAX ? RATELIMIT_RETRY_MAX :
		    (long)wait + ((double)(long)wait < wait);
		if (rc < 1)
			rc = 1;
	} else {
		if (rl->rate > 0)
			en->reports -= 1;
		if (rl->qrate > 0)
			en->bytes -= need;
		rc = 0;
	}
	pthread_mutex_unlock(&sh->mu);
	return rc;
}
