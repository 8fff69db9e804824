/*
 * audit: the tamper-evident audit log (docs/operations.md, "The audit
 * log").
 *
 * Every administrative action and every refused credential is one entry:
 * seq, time, actor, client address, action, object, outcome.  Each
 * entry's hash is BLAKE2b-256 over a domain string, the hash of the entry
 * before (zeros for the first) and the entry's fields, each length-
 * prefixed, so that changing, removing or inserting any entry changes
 * every hash after it.  Every AUDIT_CHECKPOINT_EVERY entries (in the same
 * transaction as the entry) and when the server stops, a checkpoint signs
 * (seq, time, hash) with the server's Ed25519 audit key, DATA_DIR/
 * audit.key (made 0600 on first use; its public half in audit.pub): an
 * attacker without that key who rewrites the chain cannot re-sign it.
 *
 * What verification can and cannot see is in docs/operations.md: in
 * short, any edit, deletion or insertion before the newest surviving
 * checkpoint is found and located; removing the newest entries together
 * with the checkpoints that cover them leaves an older, consistent log
 * that only an outside witness (a checkpoint line the server logged, or
 * --witness) can contradict; and whoever holds audit.key can re-sign
 * anything, which is why audit.pub should be kept off the host.
 */
#ifndef MUSTER_SERVER_AUDIT_H
#define MUSTER_SERVER_AUDIT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <sodium.h>

#include "muster/err.h"
#include "store.h"

#define AUDIT_CHECKPOINT_EVERY	64
#define AUDIT_KEY_FILE		"audit.key"	/* in data_dir, 0600 */
#define AUDIT_PUB_FILE		"audit.pub"
#define AUDIT_PK_BYTES		crypto_sign_PUBLICKEYBYTES
#define AUDIT_HASH_HEX		(2 * STORE_HASH_LEN + 1)
#define AUDIT_PROBLEMS_MAX	16
#define AUDIT_PROBLEM_LEN	160
#define AUDIT_ACTOR_NONE	"-"		/* a refused credential */
/*
 * Refused credentials (audit_refused): per client address and minute the
 * first AUDIT_REFUSED_FIRST are entries, the rest counted and written as
 * one summary ("refused 401 x N from ADDR") once the minute has ended
 * (at the next entry, the next refusal or audit_tick) or at close; at
 * most AUDIT_REFUSED_HOUR entries an hour come from refusals, past that
 * they are counted into one entry for the hour.  AUDIT_REFUSED_SLOTS
 * addresses are followed in one minute; refusals from more go to the
 * hour's count.  docs/operations.md, "The audit log".
 */
#define AUDIT_REFUSED_FIRST	5
#define AUDIT_REFUSED_HOUR	240
#define AUDIT_REFUSED_SLOTS	64
#define AUDIT_TICK		15	/* seconds between audit_tick calls */

/* What the audit log counted since it was opened (metrics). */
struct audit_stats {
	int64_t		entries;	/* the newest entry's seq */
	uint64_t	refused;	/* credentials refused */
	uint64_t	refused_entries; /* entries written for them */
	uint64_t	summaries;	/* of those, summaries */
};

struct audit;

/*
 * Opens the audit log of the store in dir into a new *out (audit_close):
 * the store's administrators and audit tables, and the signing key,
 * made on first use (audit.key 0600, audit.pub beside it).  log_ckpt
 * makes each checkpoint also a log line, the outside witness of
 * docs/operations.md.
 */
int	audit_open(const char *dir, int log_ckpt, struct audit **out,
	    struct muster_err *e);

/* The action of the entry audit_rekey appends. */
#define AUDIT_ACTION_REKEY	"audit-rekey"

/*
 * Whether a's key (dir's audit.key) signed the store's newest
 * checkpoint: 0 (also when there is none yet), or MUSTER_ECONFIG naming
 * the key file: servers sharing one store must share one key, and a key
 * that replaced a lost one must be recorded first (audit_rekey).
 */
int	audit_key_check(struct audit *a, const char *dir,
	    struct muster_err *e);

/*
 * Records that a's key replaces the key that signed the store's
 * checkpoints, lost: an AUDIT_ACTION_REKEY entry by actor naming the new
 * public key and the last checkpoint of the old one, and a checkpoint of
 * it signed by the new key; audit_verify follows it.  *done is 0 when a's
 * key signs the log already (nothing written).  0 or MUSTER_E*.
 */
int	audit_rekey(struct audit *a, const char *actor, int *done,
	    struct muster_err *e);

/*
 * audit_open for a store that lives elsewhere than dir (a PostgreSQL
 * URI; store_backend): the tables in the store at where, the key files
 * in dir.  Servers sharing one store must share audit.key (docs/
 * operations.md; audit_key_check).
 */
int	audit_open_store(const char *where, const char *dir, int log_ckpt,
	    struct audit **out, struct muster_err *e);

/* Signs a checkpoint of the newest entry (if it has none), then frees a. */
void	audit_close(struct audit *a);

/*
 * Appends one entry, now.  Strings longer than the store's limits are
 * cut; none is escaped here (they are stored as given and escaped where
 * shown).  Thread-safe.  Returns 0 or MUSTER_E*.
 */
int	audit_log(struct audit *a, const char *actor, const char *addr,
	    const char *action, const char *object, const char *outcome,
	    struct muster_err *e);

/*
 * Records a refused credential from addr on object (a path): an entry,
 * or counted into a summary as AUDIT_REFUSED_FIRST says.  Thread-safe.
 * Returns 0 or MUSTER_E*.
 */
int	audit_refused(struct audit *a, const char *addr, const char *object,
	    struct muster_err *e);

/*
 * Writes the summaries that are due (minutes ended, the hour's count);
 * called every AUDIT_TICK seconds by the server's main loop.  0 or
 * MUSTER_E*.
 */
int	audit_tick(struct audit *a, struct muster_err *e);

/*
 * Copies the counters of a into *out, the entries read from the store
 * now.  Returns 0, or MUSTER_E* (the entries as last known).
 */
int	audit_stats(struct audit *a, struct audit_stats *out,
	    struct muster_err *e);

/* Signs a checkpoint of the newest entry unless it has one; 0 or MUSTER_E*. */
int	audit_checkpoint(struct audit *a, struct muster_err *e);

/*
 * The store handle, locked for the caller until audit_unlock (the
 * administrators are read through it).
 */
struct store_adm *audit_lock(struct audit *a);
void	audit_unlock(struct audit *a);

/* The entry hash of a given the hash prev of the entry before; pure. */
void	audit_entry_hash(const unsigned char prev[STORE_HASH_LEN],
	    const struct store_audit_entry *a, unsigned char out[STORE_HASH_LEN]);

/* Signs ck (its seq, time and hash) with the secret key sk into ck->sig. */
void	audit_ckpt_sign(struct store_audit_ckpt *ck,
	    const unsigned char sk[crypto_sign_SECRETKEYBYTES]);

/* 0 when ck's signature verifies with pk, -1 otherwise. */
int	audit_ckpt_verify(const struct store_audit_ckpt *ck,
	    const unsigned char pk[AUDIT_PK_BYTES])
	    __attribute__((warn_unused_result));

/* Reads a public key file (64 hex digits and a newline) into pk. */
int	audit_pub_load(const char *path, unsigned char pk[AUDIT_PK_BYTES],
	    struct muster_err *e);

/* What audit_verify found. */
struct audit_verdict {
	int64_t		entries;	/* read */
	int64_t		rekeyed_at;	/* the last audit-rekey entry, 0: none */
	unsigned char	rekeyed_pk[AUDIT_PK_BYTES];	/* the key it named */
	int64_t		last;		/* the newest seq, 0: none */
	int64_t		checkpoints;	/* verified */
	int64_t		signed_upto;	/* the newest checkpoint's seq */
	unsigned char	head[STORE_HASH_LEN];	/* the newest entry's hash */
	size_t		nproblems;	/* all found; the first few kept */
	char		problems[AUDIT_PROBLEMS_MAX][AUDIT_PROBLEM_LEN];
};

/*
 * Walks the whole log of sa: every entry's number and hash chain, every
 * checkpoint's signature (with pk) and place in the chain, a checkpoint
 * at every AUDIT_CHECKPOINT_EVERY-th entry, nothing signed beyond the
 * last entry, and, when witness_seq > 0, that entry witness_seq is there
 * with hash witness.  Returns 0 when all holds, MUSTER_ETRUST when not
 * (each problem, naming its entry, in v->problems), another MUSTER_E*
 * when the store cannot be read.
 */
int	audit_verify(struct store_adm *sa, const unsigned char pk[AUDIT_PK_BYTES],
	    int64_t witness_seq, const unsigned char witness[STORE_HASH_LEN],
	    struct audit_verdict *v, struct muster_err *e);

/* What audit_show prints. */
struct audit_filter {
	time_t		 since;		/* 0: all */
	const char	*actor;		/* NULL: any */
	const char	*action;	/* NULL: any */
};

/*
 * Writes the entries of sa that pass f to out, one line each: seq, time,
 * actor, address, action, object, outcome, every string escaped for the
 * terminal (esc).  Returns 0 or MUSTER_E*.
 */
int	audit_show(struct store_adm *sa, const struct audit_filter *f,
	    FILE *out, struct muster_err *e);

#endif
