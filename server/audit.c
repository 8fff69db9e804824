/* audit: the tamper-evident audit log; see audit.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "muster/esc.h"
#include "muster/fs.h"
#include "muster/log.h"
#include "muster/timefmt.h"
#include "audit.h"

#define AUDIT_HASH_DOMAIN	"muster-audit-entry-v1"
#define AUDIT_CKPT_DOMAIN	"muster-audit-checkpoint-v1"
#define AUDIT_KEY_FILE_MAX	256
#define AUDIT_SHOW_MAX		STORE_AUDIT_OBJECT_MAX

/* One client address's refused credentials in its current minute. */
struct refused_slot {
	char		addr[STORE_AUDIT_ADDR_MAX + 1];	/* "": free */
	int64_t		minute;		/* time / 60 */
	uint64_t	n;		/* refusals in that minute */
	uint64_t	pending;	/* counted, not yet written */
};

struct audit {
	struct store_adm	*sa;
	pthread_mutex_t		 mu;
	unsigned char		*sk;	/* sodium_malloc'd */
	unsigned char		 pk[AUDIT_PK_BYTES];
	int			 log_ckpt;
	int			 key_refused;	/* audit_key_check said no */
	/* Refused credentials, aggregated (audit_refused); under mu. */
	struct refused_slot	 slots[AUDIT_REFUSED_SLOTS];
	int64_t			 hour;		/* time / 3600 */
	uint64_t		 hour_entries;	/* written from refusals */
	uint64_t		 overflow;	/* past the hour's bound */
	struct audit_stats	 stats;
};

static void
put_be64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	crypto_generichash_update(h, b, sizeof b);
}

static void
put_str(crypto_generichash_state *h, const char *s)
{
	size_t n = strlen(s);

	put_be64(h, n);
	crypto_generichash_update(h, (const unsigned char *)s, n);
}

void
audit_entry_hash(const unsigned char prev[STORE_HASH_LEN],
    const struct store_audit_entry *a, unsigned char out[STORE_HASH_LEN])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, STORE_HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)AUDIT_HASH_DOMAIN,
	    sizeof AUDIT_HASH_DOMAIN);
	crypto_generichash_update(&h, prev, STORE_HASH_LEN);
	put_be64(&h, (uint64_t)a->seq);
	put_be64(&h, (uint64_t)(int64_t)a->time);
	put_str(&h, a->actor);
	put_str(&h, a->addr);
	put_str(&h, a->action);
	put_str(&h, a->object);
	put_str(&h, a->outcome);
	crypto_generichash_final(&h, out, STORE_HASH_LEN);
}

/* The bytes a checkpoint's signature covers. */
static void
ckpt_msg(const struct store_audit_ckpt *ck, unsigned char msg[STORE_HASH_LEN])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, STORE_HASH_LEN);
	crypto_generichash_update(&h, (const unsigned char *)AUDIT_CKPT_DOMAIN,
	    sizeof AUDIT_CKPT_DOMAIN);
	put_be64(&h, (uint64_t)ck->seq);
	put_be64(&h, (uint64_t)(int64_t)ck->time);
	crypto_generichash_update(&h, ck->hash, STORE_HASH_LEN);
	crypto_generichash_final(&h, msg, STORE_HASH_LEN);
}

void
audit_ckpt_sign(struct store_audit_ckpt *ck,
    const unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
	unsigned char msg[STORE_HASH_LEN];

	ckpt_msg(ck, msg);
	crypto_sign_detached(ck->sig, NULL, msg, sizeof msg, sk);
}

int
audit_ckpt_verify(const struct store_audit_ckpt *ck,
    const unsigned char pk[AUDIT_PK_BYTES])
{
	unsigned char msg[STORE_HASH_LEN];

	ckpt_msg(ck, msg);
	return crypto_sign_verify_detached(ck->sig, msg, sizeof msg, pk) == 0 ?
	    0 : -1;
}

/* Parses "<64 hex>\n" (the newline optional) of buf into out. */
static int
hex_key(const char *path, const char *buf, size_t len, unsigned char *out,
    size_t n, struct muster_err *e)
{
	size_t bin;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len != 2 * n || strspn(buf, "0123456789abcdef") < len ||
	    sodium_hex2bin(out, n, buf, len, NULL, &bin, NULL) != 0 ||
	    bin != n)
		return err_set(e, MUSTER_ECONFIG, "%s: not an audit key (%zu "
		    "lowercase hex digits and a newline)", path, 2 * n);
	return 0;
}

int
audit_pub_load(const char *path, unsigned char pk[AUDIT_PK_BYTES],
    struct muster_err *e)
{
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = fs_read_file(path, AUDIT_KEY_FILE_MAX, &buf, &len, e)) != 0)
		return rc;
	rc = hex_key(path, buf, len, pk, AUDIT_PK_BYTES, e);
	free(buf);
	return rc;
}

/*
 * Loads dir's audit key into a->sk and a->pk, making it (and audit.pub)
 * when there is none.
 */
static int
key_load(struct audit *a, const char *dir, struct muster_err *e)
{
	unsigned char seed[crypto_sign_SEEDBYTES];
	char hex[2 * crypto_sign_SEEDBYTES + 2], pub[2 * AUDIT_PK_BYTES + 2];
	char *kpath = NULL, *ppath = NULL, *buf = NULL;
	size_t len;
	int rc;

	if ((kpath = fs_path(dir, AUDIT_KEY_FILE)) == NULL ||
	    (ppath = fs_path(dir, AUDIT_PUB_FILE)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = fs_read_private(kpath, AUDIT_KEY_FILE_MAX, &buf, &len, e);
	if (rc == MUSTER_ENOINPUT) {
		randombytes_buf(seed, sizeof seed);
		sodium_bin2hex(hex, sizeof hex, seed, sizeof seed);
		hex[2 * sizeof seed] = '\n';
		crypto_sign_seed_keypair(a->pk, a->sk, seed);
		sodium_bin2hex(pub, sizeof pub, a->pk, sizeof a->pk);
		pub[2 * sizeof a->pk] = '\n';
		/* O_EXCL: of two first starts, one makes it. */
		if ((rc = fs_create_excl(kpath, hex, sizeof hex - 1, 0600,
		    e)) == 0)
			rc = fs_write_atomic(ppath, pub, sizeof pub - 1, 0644,
			    e);
		else if (rc == MUSTER_ECANTCREAT)
			rc = fs_read_private(kpath, AUDIT_KEY_FILE_MAX, &buf,
			    &len, e);
		if (rc != 0 || buf == NULL)
			goto out;
	} else if (rc != 0)
		goto out;
	if ((rc = hex_key(kpath, buf, len, seed, sizeof seed, e)) != 0)
		goto out;
	crypto_sign_seed_keypair(a->pk, a->sk, seed);
out:
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(hex, sizeof hex);
	fs_free_secret(buf);
	free(kpath);
	free(ppath);
	return rc;
}

/*
 * Whether a's key signed the store's newest checkpoint (none: it did),
 * into a->key_refused, with that checkpoint's seq in *seq.  Until
 * recorded (audit_rekey), a refused key signs nothing: not even the
 * checkpoint audit_close makes.
 */
static int
key_signs_newest(struct audit *a, int64_t *seq, struct muster_err *e)
{
	struct store_audit_ckpt *ck = NULL;
	size_t n = 0;
	int rc;

	*seq = 0;
	pthread_mutex_lock(&a->mu);
	rc = store_audit_ckpts(a->sa, &ck, &n, e);
	pthread_mutex_unlock(&a->mu);
	if (rc != 0)
		return rc;
	if (n > 0) {
		*seq = ck[n - 1].seq;
		a->key_refused = audit_ckpt_verify(&ck[n - 1], a->pk) != 0;
	}
	free(ck);
	return 0;
}

int
audit_key_check(struct audit *a, const char *dir, struct muster_err *e)
{
	int64_t seq;
	int rc;

	if ((rc = key_signs_newest(a, &seq, e)) != 0)
		return rc;
	if (a->key_refused)
		return err_set(e, MUSTER_ECONFIG, "%s/%s did not sign the audit "
		    "log's checkpoints (checkpoint %lld): every server of one "
		    "store needs the same audit key (a lost key: muster-server "
		    "audit rekey)", dir, AUDIT_KEY_FILE, (long long)seq);
	return 0;
}

int
audit_rekey(struct audit *a, const char *actor, int *done,
    struct muster_err *e)
{
	char obj[STORE_AUDIT_OBJECT_MAX + 1], hex[2 * AUDIT_PK_BYTES + 1];
	int64_t seq;
	int rc;

	*done = 0;
	if ((rc = key_signs_newest(a, &seq, e)) != 0 || !a->key_refused)
		return rc;	/* 0: this key signs the log already */
	sodium_bin2hex(hex, sizeof hex, a->pk, sizeof a->pk);
	snprintf(obj, sizeof obj, "key %s replaces the key of checkpoint "
	    "%lld", hex, (long long)seq);
	if ((rc = audit_log(a, actor, "local", AUDIT_ACTION_REKEY, obj, "ok",
	    e)) != 0)
		return rc;
	a->key_refused = 0;
	if ((rc = audit_checkpoint(a, e)) != 0)
		return rc;
	*done = 1;
	return 0;
}

int
audit_open(const char *dir, int log_ckpt, struct audit **out,
    struct muster_err *e)
{
	return audit_open_store(dir, dir, log_ckpt, out, e);
}

int
audit_open_store(const char *where, const char *dir, int log_ckpt,
    struct audit **out, struct muster_err *e)
{
	struct audit *a;
	unsigned char head[STORE_HASH_LEN];
	int rc;

	*out = NULL;
	if ((a = calloc(1, sizeof *a)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	a->log_ckpt = log_ckpt;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return err_set(e, MUSTER_EINTERNAL, "mutex");
	}
	if ((a->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* With the store elsewhere (PostgreSQL) nothing else makes dir. */
	if (strcmp(where, dir) != 0 && (rc = fs_mkdir_private(dir, e)) != 0)
		goto out;
	if ((rc = store_adm_open(where, 0, &a->sa, e)) != 0 ||
	    (rc = key_load(a, dir, e)) != 0 ||
	    (rc = store_audit_last(a->sa, &a->stats.entries, head, e)) != 0)
		goto out;
	*out = a;
	a = NULL;
out:
	if (a != NULL) {
		a->log_ckpt = 0;
		if (a->sa != NULL)
			audit_close(a);
		else {
			sodium_free(a->sk);
			pthread_mutex_destroy(&a->mu);
			free(a);
		}
	}
	return rc;
}

/* Logs a checkpoint: the line an off-host log keeps as a witness. */
static void
ckpt_logged(const struct audit *a, const struct store_audit_ckpt *ck)
{
	char hex[AUDIT_HASH_HEX];

	if (!a->log_ckpt)
		return;
	sodium_bin2hex(hex, sizeof hex, ck->hash, sizeof ck->hash);
	log_info("audit checkpoint %lld %s", (long long)ck->seq, hex);
}

struct seal_arg {
	struct audit		*a;
	struct store_audit_ckpt	*ck;	/* &copy once a checkpoint is made */
	struct store_audit_ckpt	 copy;	/* the store's lives on its stack */
};

static int
seal(struct store_audit_entry *en, const unsigned char prev[STORE_HASH_LEN],
    struct store_audit_ckpt *ck, int *want, void *arg)
{
	struct seal_arg *s = arg;

	audit_entry_hash(prev, en, en->hash);
	*want = en->seq % AUDIT_CHECKPOINT_EVERY == 0;
	if (*want) {
		ck->seq = en->seq;
		ck->time = en->time;
		memcpy(ck->hash, en->hash, sizeof ck->hash);
		audit_ckpt_sign(ck, s->a->sk);
		s->copy = *ck;
		s->ck = &s->copy;
	}
	return 0;
}

/* Appends en (its time set) with a->mu held; 0 or MUSTER_E*. */
static int
append_locked(struct audit *a, struct store_audit_entry *en,
    struct muster_err *e)
{
	struct store_audit_ckpt ck;
	struct seal_arg s;
	int rc;

	memset(&s, 0, sizeof s);
	s.a = a;
	rc = store_audit_append(a->sa, en, seal, &s, e);
	if (rc == 0 && s.ck != NULL) {
		ck = *s.ck;
		ckpt_logged(a, &ck);
	}
	if (rc == 0) {
		a->stats.entries = en->seq;
		if (strcmp(en->actor, AUDIT_ACTOR_NONE) == 0)
			a->stats.refused_entries++;
	}
	return rc;
}

static void
entry_fill(struct store_audit_entry *en, time_t now, const char *actor,
    const char *addr, const char *action, const char *object,
    const char *outcome)
{
	memset(en, 0, sizeof *en);
	en->time = now;
	snprintf(en->actor, sizeof en->actor, "%s", actor);
	snprintf(en->addr, sizeof en->addr, "%s", addr);
	snprintf(en->action, sizeof en->action, "%s", action);
	snprintf(en->object, sizeof en->object, "%s", object);
	snprintf(en->outcome, sizeof en->outcome, "%s", outcome);
}

/*
 * One entry from the refusal path, within the hour's bound: written and
 * counted, or (past the bound) its n refusals added to the overflow.
 */
static int
refused_entry(struct audit *a, time_t now, const char *addr,
    const char *object, const char *outcome, uint64_t n,
    struct muster_err *e)
{
	struct store_audit_entry en;

	if (a->hour_entries >= AUDIT_REFUSED_HOUR) {
		a->overflow += n;
		return 0;
	}
	a->hour_entries++;
	entry_fill(&en, now, AUDIT_ACTOR_NONE, addr, "credential", object,
	    outcome);
	return append_locked(a, &en, e);
}

/* The summary entry of slot sl ("refused 401 x N from ADDR"), then free. */
static int
slot_flush(struct audit *a, time_t now, struct refused_slot *sl,
    struct muster_err *e)
{
	char obj[STORE_AUDIT_OBJECT_MAX + 1], outc[STORE_AUDIT_OUTCOME_MAX + 1];
	char t[TIMEFMT_LEN];
	int rc = 0;

	if (sl->pending > 0) {
		timefmt_format((time_t)(sl->minute * 60), t);
		snprintf(obj, sizeof obj, "refused credentials in the minute "
		    "from %s, past the first %d", t, AUDIT_REFUSED_FIRST);
		/* A long IPv6 address stays whole in the entry's address. */
		if (snprintf(outc, sizeof outc, "refused 401 x %llu from %s",
		    (unsigned long long)sl->pending, sl->addr) >=
		    (int)sizeof outc)
			snprintf(outc, sizeof outc, "refused 401 x %llu",
			    (unsigned long long)sl->pending);
		rc = refused_entry(a, now, sl->addr, obj, outc, sl->pending, e);
		if (rc == 0)
			a->stats.summaries++;
	}
	/* Within its minute (a flush for another entry) the count goes on. */
	if (rc == 0 && sl->minute != (int64_t)now / 60)
		memset(sl, 0, sizeof *sl);
	else if (rc == 0)
		sl->pending = 0;
	return rc;
}

/*
 * Writes what is due at now with a->mu held: the summaries of minutes
 * that have ended (of every minute when all is set), then, when the hour
 * has changed (or all), the hour's overflow as one entry.
 */
static int
flush_due(struct audit *a, time_t now, int all, struct muster_err *e)
{
	char obj[STORE_AUDIT_OBJECT_MAX + 1], outc[STORE_AUDIT_OUTCOME_MAX + 1];
	char t[TIMEFMT_LEN];
	struct store_audit_entry en;
	size_t i;
	int rc;

	for (i = 0; i < AUDIT_REFUSED_SLOTS; i++)
		if (a->slots[i].addr[0] != '\0' &&
		    (all || a->slots[i].minute != (int64_t)now / 60) &&
		    (rc = slot_flush(a, now, &a->slots[i], e)) != 0)
			return rc;
	if (!all && a->hour == (int64_t)now / 3600)
		return 0;
	if (a->overflow > 0) {
		timefmt_format((time_t)(a->hour * 3600), t);
		snprintf(obj, sizeof obj, "refused credentials in the hour "
		    "from %s, past its bound of %d entries", t,
		    AUDIT_REFUSED_HOUR);
		snprintf(outc, sizeof outc, "refused 401 x %llu from any "
		    "address", (unsigned long long)a->overflow);
		entry_fill(&en, now, AUDIT_ACTOR_NONE, "*", "credential", obj,
		    outc);
		if ((rc = append_locked(a, &en, e)) != 0)
			return rc;
		a->stats.summaries++;
		a->overflow = 0;
	}
	if (a->hour != (int64_t)now / 3600) {
		a->hour = (int64_t)now / 3600;
		a->hour_entries = 0;
	}
	return 0;
}

int
audit_log(struct audit *a, const char *actor, const char *addr,
    const char *action, const char *object, const char *outcome,
    struct muster_err *e)
{
	struct store_audit_entry en;
	time_t now = time(NULL);
	int rc;

	entry_fill(&en, now, actor, addr, action, object, outcome);
	pthread_mutex_lock(&a->mu);
	/* Counted refusals go in first: the chain's order stays true. */
	if ((rc = flush_due(a, now, 1, e)) == 0)
		rc = append_locked(a, &en, e);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int
audit_refused(struct audit *a, const char *addr, const char *object,
    struct muster_err *e)
{
	struct refused_slot *sl = NULL;
	time_t now = time(NULL);
	int64_t minute = (int64_t)now / 60;
	size_t i;
	int rc;

	pthread_mutex_lock(&a->mu);
	a->stats.refused++;
	if ((rc = flush_due(a, now, 0, e)) != 0)
		goto out;
	for (i = 0; i < AUDIT_REFUSED_SLOTS && sl == NULL; i++)
		if (strncmp(a->slots[i].addr, addr, STORE_AUDIT_ADDR_MAX) == 0)
			sl = &a->slots[i];
	for (i = 0; i < AUDIT_REFUSED_SLOTS && sl == NULL; i++)
		if (a->slots[i].addr[0] == '\0') {
			sl = &a->slots[i];
			snprintf(sl->addr, sizeof sl->addr, "%s", addr);
			sl->minute = minute;
		}
	if (sl == NULL) {
		/* More addresses this minute than slots: the hour's count. */
		a->overflow++;
		goto out;
	}
	if (++sl->n <= AUDIT_REFUSED_FIRST)
		rc = refused_entry(a, now, addr, object, "refused 401", 1, e);
	else
		sl->pending++;
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int
audit_tick(struct audit *a, struct muster_err *e)
{
	int rc;

	pthread_mutex_lock(&a->mu);
	rc = flush_due(a, time(NULL), 0, e);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int
audit_stats(struct audit *a, struct audit_stats *out, struct muster_err *e)
{
	unsigned char head[STORE_HASH_LEN];
	int64_t seq = 0;
	int rc;

	pthread_mutex_lock(&a->mu);
	/* From the store: `muster-server admin` appends from outside. */
	if ((rc = store_audit_last(a->sa, &seq, head, e)) == 0)
		a->stats.entries = seq;
	*out = a->stats;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int
audit_checkpoint(struct audit *a, struct muster_err *e)
{
	struct store_audit_ckpt ck;
	int rc = 0;

	memset(&ck, 0, sizeof ck);
	pthread_mutex_lock(&a->mu);
	if (a->key_refused ||
	    (rc = store_audit_last(a->sa, &ck.seq, ck.hash, e)) != 0 ||
	    ck.seq == 0)
		goto out;
	ck.time = time(NULL);
	audit_ckpt_sign(&ck, a->sk);
	rc = store_audit_ckpt_put(a->sa, &ck, e);
	if (rc == MUSTER_EDATA)		/* that entry is signed already */
		rc = 0;
	else if (rc == 0)
		ckpt_logged(a, &ck);
out:
	pthread_mutex_unlock(&a->mu);
	return rc;
}

struct store_adm *
audit_lock(struct audit *a)
{
	pthread_mutex_lock(&a->mu);
	return a->sa;
}

void
audit_unlock(struct audit *a)
{
	pthread_mutex_unlock(&a->mu);
}

void
audit_close(struct audit *a)
{
	struct muster_err e;

	if (a == NULL)
		return;
	if (a->sa != NULL) {
		pthread_mutex_lock(&a->mu);
		if (flush_due(a, time(NULL), 1, &e) != 0)
			log_error("audit: refused credentials counted at "
			    "close: %s", e.msg);
		pthread_mutex_unlock(&a->mu);
	}
	if (a->sa != NULL && audit_checkpoint(a, &e) != 0)
		log_error("audit checkpoint at close: %s", e.msg);
	store_adm_close(a->sa);
	sodium_free(a->sk);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* --- verification ------------------------------------------------------- */

struct walk {
	struct audit_verdict		*v;
	const unsigned char		*pk;
	unsigned char			 rekeyed[AUDIT_PK_BYTES];
	const struct store_audit_ckpt	*ck;
	size_t				 nck, ick;
	int64_t				 next;		/* the seq expected */
	unsigned char			 prev[STORE_HASH_LEN];
	int64_t				 wseq;
	const unsigned char		*witness;
	int				 witnessed;
};

static void	problem(struct audit_verdict *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
problem(struct audit_verdict *v, const char *fmt, ...)
{
	va_list ap;

	if (v->nproblems < AUDIT_PROBLEMS_MAX) {
		va_start(ap, fmt);
		vsnprintf(v->problems[v->nproblems], AUDIT_PROBLEM_LEN, fmt,
		    ap);
		va_end(ap);
	}
	v->nproblems++;
}

/* Checks the checkpoints at seq (the chain's hash there is h). */
static void
walk_ckpts(struct walk *w, int64_t seq, const unsigned char *h)
{
	const struct store_audit_ckpt *ck;

	/* Checkpoints of entries that are gone. */
	for (; w->ick < w->nck && w->ck[w->ick].seq < seq; w->ick++)
		problem(w->v, "checkpoint %lld: its entry is missing (deleted)",
		    (long long)w->ck[w->ick].seq);
	if (w->ick < w->nck && w->ck[w->ick].seq == seq) {
		ck = &w->ck[w->ick++];
		if (audit_ckpt_verify(ck, w->pk) != 0)
			problem(w->v, "checkpoint %lld: bad signature (forged "
			    "or edited, or signed by another key)",
			    (long long)seq);
		else if (sodium_memcmp(ck->hash, h, STORE_HASH_LEN) != 0)
			problem(w->v, "entry %lld: the chain up to here differs "
			    "from what checkpoint %lld signed (an entry at or "
			    "before %lld was rewritten)", (long long)seq,
			    (long long)seq, (long long)seq);
		else {
			w->v->checkpoints++;
			w->v->signed_upto = seq;
		}
	} else if (seq % AUDIT_CHECKPOINT_EVERY == 0)
		problem(w->v, "entry %lld: its checkpoint is missing (deleted)",
		    (long long)seq);
}

/*
 * An audit-rekey entry (audit_rekey): its checkpoint and those after it
 * are signed by the key it names, which the chain up to it vouches for.
 */
static void
walk_rekey(struct walk *w, const struct store_audit_entry *en)
{
	const char *o = en->object;
	size_t n;

	if (strcmp(en->action, AUDIT_ACTION_REKEY) != 0)
		return;
	if (strlen(o) < 5 + 2 * AUDIT_PK_BYTES || strncmp(o, "key ", 4) !=
	    0 || sodium_hex2bin(w->rekeyed,
	    sizeof w->rekeyed, o + 4, 2 * AUDIT_PK_BYTES, NULL, &n, NULL) !=
	    0 || n != AUDIT_PK_BYTES || o[4 + 2 * AUDIT_PK_BYTES] != ' ') {
		problem(w->v, "entry %lld: a key replacement that names no "
		    "key", (long long)en->seq);
		return;
	}
	w->pk = w->rekeyed;
	w->v->rekeyed_at = en->seq;
	memcpy(w->v->rekeyed_pk, w->rekeyed, sizeof w->v->rekeyed_pk);
}

static int
walk_entry(const struct store_audit_entry *en, void *arg)
{
	struct walk *w = arg;
	unsigned char h[STORE_HASH_LEN];

	w->v->entries++;
	if (en->seq != w->next) {
		if (en->seq == w->next + 1)
			problem(w->v, "entry %lld missing (deleted)",
			    (long long)w->next);
		else if (en->seq > w->next)
			problem(w->v, "entries %lld to %lld missing (deleted)",
			    (long long)w->next, (long long)(en->seq - 1));
		else
			problem(w->v, "entry %lld: out of order",
			    (long long)en->seq);
	}
	audit_entry_hash(w->prev, en, h);
	if (sodium_memcmp(h, en->hash, sizeof h) != 0)
		problem(w->v, "entry %lld: its hash does not match its content "
		    "and the entry before (entry %lld edited%s)",
		    (long long)en->seq, (long long)en->seq,
		    en->seq > 1 ? ", or the one before it rewritten" : "");
	/* Chain on from what is stored, so that one edit is one problem. */
	memcpy(w->prev, en->hash, sizeof w->prev);
	walk_rekey(w, en);
	walk_ckpts(w, en->seq, en->hash);
	if (w->wseq == en->seq) {
		w->witnessed = 1;
		if (sodium_memcmp(en->hash, w->witness, STORE_HASH_LEN) != 0)
			problem(w->v, "entry %lld: not the entry the witness "
			    "saw (the log was rewritten)", (long long)en->seq);
	}
	w->next = en->seq + 1;
	w->v->last = en->seq;
	memcpy(w->v->head, en->hash, sizeof w->v->head);
	return 0;
}

int
audit_verify(struct store_adm *sa, const unsigned char pk[AUDIT_PK_BYTES],
    int64_t witness_seq, const unsigned char witness[STORE_HASH_LEN],
    struct audit_verdict *v, struct muster_err *e)
{
	struct store_audit_ckpt *ck = NULL;
	struct walk w;
	size_t nck;
	int rc;

	memset(v, 0, sizeof *v);
	if ((rc = store_audit_ckpts(sa, &ck, &nck, e)) != 0)
		return rc;
	w = (struct walk){ .v = v, .pk = pk, .ck = ck, .nck = nck, .next = 1,
	    .wseq = witness_seq, .witness = witness };
	if ((rc = store_audit_scan(sa, 1, walk_entry, &w, e)) != 0)
		goto out;
	for (; w.ick < nck; w.ick++)
		problem(v, "truncated: checkpoint %lld signs entries up to "
		    "%lld, the log ends at %lld", (long long)ck[w.ick].seq,
		    (long long)ck[w.ick].seq, (long long)v->last);
	if (witness_seq > 0 && !w.witnessed)
		problem(v, "truncated: the witnessed entry %lld is missing, "
		    "the log ends at %lld", (long long)witness_seq,
		    (long long)v->last);
	if (v->nproblems > 0)
		rc = err_set(e, MUSTER_ETRUST, "audit log: %s%s",
		    v->problems[0], v->nproblems > 1 ? " (and more)" : "");
out:
	free(ck);
	return rc;
}

/* --- show --------------------------------------------------------------- */

struct show {
	const struct audit_filter	*f;
	FILE				*out;
};

static int
show_entry(const struct store_audit_entry *en, void *arg)
{
	struct show *s = arg;
	char t[TIMEFMT_LEN], actor[ESC_SIZE(STORE_AUDIT_ACTOR_MAX)],
	    addr[ESC_SIZE(STORE_AUDIT_ADDR_MAX)],
	    action[ESC_SIZE(STORE_AUDIT_ACTION_MAX)],
	    object[ESC_SIZE(AUDIT_SHOW_MAX)],
	    outcome[ESC_SIZE(STORE_AUDIT_OUTCOME_MAX)];

	if ((s->f->since != 0 && en->time < s->f->since) ||
	    (s->f->actor != NULL && strcmp(en->actor, s->f->actor) != 0) ||
	    (s->f->action != NULL && strcmp(en->action, s->f->action) != 0))
		return 0;
	timefmt_format(en->time, t);
	fprintf(s->out, "%lld %s %s %s %s %s %s\n", (long long)en->seq, t,
	    esc_str(en->actor, STORE_AUDIT_ACTOR_MAX, 0, actor),
	    esc_str(en->addr, STORE_AUDIT_ADDR_MAX, 0, addr),
	    esc_str(en->action, STORE_AUDIT_ACTION_MAX, 0, action),
	    esc_str(en->object, AUDIT_SHOW_MAX, ESC_QUOTED, object),
	    esc_str(en->outcome, STORE_AUDIT_OUTCOME_MAX, ESC_QUOTED,
	    outcome));
	return ferror(s->out) ? MUSTER_EIO : 0;
}

int
audit_show(struct store_adm *sa, const struct audit_filter *f, FILE *out,
    struct muster_err *e)
{
	struct show s = { f, out };
	int rc;

	rc = store_audit_scan(sa, 1, show_entry, &s, e);
	if (rc == MUSTER_EIO && ferror(out))
		err_set(e, rc, "cannot write the audit log");
	return rc;
}
