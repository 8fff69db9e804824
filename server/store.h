/*
 * store: the server's storage, behind one interface so that another
 * backend (PostgreSQL) can follow SQLite (store_sqlite.c).
 *
 * Not thread-safe: the server's single writer thread owns the write
 * handle; readers open their own handle with store_open(..., readonly).
 * Writes happen between store_begin and store_commit; the writer groups
 * many requests in one transaction, each in its own savepoint, and answers
 * none of them before the COMMIT has returned.
 */
#ifndef MUSTER_STORE_H
#define MUSTER_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/token.h"

#define STORE_MODEL_MAX		(PROTO_MODEL_MAX + 1)
#define STORE_DB_FILE		"muster.db"	/* in data_dir */
#define STORE_SCHEMA_VERSION	5		/* PRAGMA user_version */
#define STORE_HASH_LEN		32		/* BLAKE2b-256 */
#define STORE_SIG_LEN		64		/* Ed25519 */
#define STORE_PK_LEN		32		/* Ed25519 public key */

struct store;

struct store_device {
	char			id[DEVICE_ID_HEX];
	unsigned char		pk[32];
	enum profile_scope	scope;
	char			unit[TOKEN_FIELD_MAX];
	char			person[TOKEN_FIELD_MAX];
	char			model[STORE_MODEL_MAX];	/* "" if unknown */
	char			token_id[TOKEN_ID_HEX];
	time_t			enrolled;
	int			revoked;
	int64_t			last_seq;		/* 0: none yet */
};

/* A verified, parsed report. */
struct store_report {
	const char		*device;
	int64_t			 seq;
	time_t			 time;
	const char		*profile;
	int64_t			 serial;
	int			 compliant;
	unsigned		 stale;		/* REPORT_STALE_* it said */
	const char		*const *failing;	/* rule ids */
	size_t			 nfailing;
	const unsigned char	*body;			/* exact bytes */
	size_t			 len;
	/*
	 * The device's Ed25519 signature over body (the Muster-Signature
	 * the server verified), STORE_SIG_LEN bytes kept with the report so
	 * that it can be verified again later; NULL: none to keep (stored
	 * as "not kept", like reports stored before schema version 5).
	 */
	const unsigned char	*sig;
	/*
	 * When the server took it (0: now), and the stale window that
	 * applies to its scope now (2 x report_interval of the profile
	 * served; 0: STORE_RUN_WINDOW_DEFAULT).  The store keeps when a
	 * device reported as runs of reports no more than that window
	 * apart, which answer --as-of staleness once the raw reports are
	 * pruned (store_prune).
	 */
	time_t			 received;
	int64_t			 window;
};

#define STORE_RUN_WINDOW_DEFAULT	7200	/* 2 x the default interval */

/*
 * A family member's consent receipt (docs/protocol.md, "Family consent"),
 * checked, with the exact enrollment body that carries it and the device's
 * signature over that body, so that the receipt can be verified later
 * with the device's key.
 */
struct store_consent {
	const char		*device;
	time_t			 time;		/* when the member agreed */
	const char		*token_id;
	unsigned char		 text_hash[STORE_HASH_LEN];
	const char		*profile;	/* NULL: no profile was shown */
	int64_t			 serial;
	const char		*remediate;	/* the receipt's list (JSON) */
	const unsigned char	*body;
	size_t			 len;
	unsigned char		 sig[STORE_SIG_LEN];
};

enum store_put {
	STORE_STORED,		/* new: 202 */
	STORE_DUPLICATE,	/* same seq, same bytes: 200 */
	STORE_REPLAY,		/* seq not above the newest, other bytes: 409 */
	STORE_BACKDATED,	/* a new seq whose time is before the newest
				   report's: nothing stored, 400 */
};

/*
 * Opens (creating when missing, 0700 directory, 0600 files) the store in
 * directory dir.  SQLite: WAL, synchronous=FULL, foreign keys on,
 * busy_timeout, secure_delete on (checked: a handle where it does not
 * take is refused, MUSTER_EIO).  readonly opens a read handle.  A
 * writable handle brings a version 1 store to version 2 (the consents
 * table, never written by version 1, is made anew).
 */
int	store_open(const char *dir, int readonly, struct store **st,
	    struct muster_err *e);
void	store_close(struct store *st);

int	store_begin(struct store *st, struct muster_err *e);
int	store_commit(struct store *st, struct muster_err *e);
void	store_rollback(struct store *st);
int	store_savepoint(struct store *st, struct muster_err *e);
int	store_release(struct store *st, struct muster_err *e);
void	store_rollback_savepoint(struct store *st);

/*
 * Enrolls d with token token_id (expiring at expires): MUSTER_ETRUST when
 * the token was used or revoked; otherwise marks it used and stores d.
 */
int	store_device_add(struct store *st, const struct store_device *d,
	    time_t expires, struct muster_err *e);

/* Stores c in the transaction that enrolled c->device. */
int	store_consent_add(struct store *st, const struct store_consent *c,
	    struct muster_err *e);

/*
 * Replaces c->device's receipt with c (POST /v1/consent: the member
 * consented again to a changed family profile; c->body is that request).
 */
int	store_consent_replace(struct store *st, const struct store_consent *c,
	    struct muster_err *e);

/* Reads device id; MUSTER_ENOINPUT when unknown. */
int	store_device_get(struct store *st, const char *id,
	    struct store_device *d, struct muster_err *e);

/*
 * Stores a report unless it is a duplicate, a replay or back-dated (*res
 * says which), updating the device's latest status, its failing rules,
 * and its status history when the status changed.  History is appended
 * in time order: a report whose time is before the device's newest
 * report's is STORE_BACKDATED and changes nothing.
 */
int	store_report_put(struct store *st, const struct store_report *r,
	    enum store_put *res, struct muster_err *e);

/*
 * Revokes a device or a token by id (either may be unknown yet).  A
 * revocation survives a restore of an older backup of the store: the
 * backend keeps it where the restore does not reach (SQLite: appended and
 * fsync'd to the journal DATA_DIR/journal, 0600, before the transaction
 * commits; store_open applies every line the database lacks), so a
 * re-registration (store_device_reregister) can never undo it.  On
 * PostgreSQL the revocation is in the database and its WAL only: a
 * restore to the newest point keeps it (docs/operations.md).
 */
int	store_revoke(struct store *st, const char *id, struct muster_err *e);

/*
 * store_revoke, and when id is a token a device enrolled with, that
 * device too: its id into device ("" when id is a device id or an unused
 * token).  Returns 0 or what store_revoke returns.
 */
int	store_revoke_used(struct store *st, const char *id,
	    char device[DEVICE_ID_HEX], struct muster_err *e);
int	store_token_revoked(struct store *st, const char *token_id,
	    int *revoked, struct muster_err *e);

/* Whether a token was used and whether it is revoked (0, 0 if unseen). */
int	store_token_get(struct store *st, const char *token_id, int *used,
	    int *revoked, struct muster_err *e);

/*
 * Deletes a device, its reports, history, failing rules and consent
 * receipt (the tables cascade from devices), the revocation of its id if
 * it was revoked, and for a family device its token's row unless the
 * token is revoked.  With secure_delete the bytes are overwritten; what
 * the WAL still holds goes when the transaction commits: store_commit
 * then runs store_scrub.  MUSTER_ENOINPUT when the device is unknown.
 * Like a revocation, the departure survives a restore of an older backup
 * (SQLite: the journal names a hash of the id, never the id, and
 * store_open deletes the device again).
 */
int	store_device_delete(struct store *st, const char *id,
	    struct muster_err *e);

/*
 * After a deletion has committed: checkpoints the WAL into the database
 * file and truncates it to zero bytes, so that no old frame keeps a byte
 * of what was deleted (docs/privacy.md, "Gone means gone").  Returns 0
 * when done or when nothing is pending, MUSTER_ETEMP when a reader of an
 * older snapshot blocked it (still pending: call it again later), or
 * MUSTER_EIO.  store_commit calls it; the writer retries while
 * store_scrub_pending says 1.
 */
int	store_scrub(struct store *st, struct muster_err *e);
int	store_scrub_pending(const struct store *st);

/* Publishes a profile; the server keeps the newest per scope. */
int	store_profile_put(struct store *st, const struct profile *p,
	    const char *bytes, size_t len, const char *sig, size_t siglen,
	    struct muster_err *e);

/*
 * store_profile_put telling what happened in *res: STORE_STORED when
 * published, STORE_DUPLICATE when the newest published profile with p's id
 * has exactly these bytes (nothing changes), STORE_REPLAY when its serial
 * is not below p's (nothing changes).  store_profile_put returns
 * MUSTER_ETRUST for the last case.
 */
int	store_profile_publish(struct store *st, const struct profile *p,
	    const char *bytes, size_t len, const char *sig, size_t siglen,
	    enum store_put *res, struct muster_err *e);

/* What the server serves for a scope, as store_profile_current finds it. */
struct store_profile {
	char			id[PROFILE_ID_MAX + 1];
	int64_t			serial;
	time_t			expires;
	time_t			published;
	char			*bytes;		/* malloc'd, NUL-terminated */
	size_t			len;
	char			*sig;		/* malloc'd, NUL-terminated */
	size_t			siglen;
};

/*
 * The newest published profile for scope into *out, whose bytes and sig
 * the caller releases with store_profile_clear; MUSTER_ENOINPUT when none.
 */
int	store_profile_current(struct store *st, enum profile_scope scope,
	    struct store_profile *out, struct muster_err *e);
void	store_profile_clear(struct store_profile *p);

/*
 * The stored profile id with serial (a manifest names it so) into *out,
 * released with store_profile_clear; MUSTER_ENOINPUT when not stored.
 */
int	store_profile_find(struct store *st, const char *id, int64_t serial,
	    struct store_profile *out, struct muster_err *e);

/*
 * The newest published profile for scope: malloc'd copies of its bytes and
 * signature, or MUSTER_ENOINPUT when none.
 */
int	store_profile_get(struct store *st, enum profile_scope scope,
	    char **bytes, size_t *len, char **sig, size_t *siglen,
	    struct muster_err *e);

/* Counts for /metrics. */
int	store_count_devices(struct store *st, int64_t *n,
	    struct muster_err *e);
int	store_count_reports(struct store *st, int64_t *n,
	    struct muster_err *e);

/* --- reading for roll-ups and the device list (store_sqlite_read.c) ----- */

/*
 * A read handle of its own, apart from struct store, for the roll-up and
 * the device list: read-only, opened on a store that may not exist yet,
 * and used by one thread at a time (open one per thread).  Every read
 * between store_read_begin and store_read_end sees one snapshot, so the
 * numbers of one answer agree with each other while the server writes.
 */
struct store_read;
struct store_cursor;

/* A device's state as the roll-up counts it (enum rollup_status agrees). */
enum store_state {
	STORE_COMPLIANT,
	STORE_NONCOMPLIANT,
	STORE_STALE,
	STORE_NEVER,
};

/*
 * When a scan reads: the present (the columns the server keeps current)
 * or, with past, the history as it stood at `at`.  A device whose newest
 * report arrived before stale_before[its scope] is STORE_STALE.
 */
struct store_when {
	time_t		at;
	int		past;
	int64_t		stale_before[2];	/* by enum profile_scope */
};

enum store_scan {
	/*
	 * Every device counted at `at` (enrolled by then, not revoked):
	 * unit, model, scope, state.  In table order, the present; the past
	 * in id order.
	 */
	STORE_SCAN_STATUS,
	/*
	 * Every device: unit, scope, flag (whether it is counted at `at`),
	 * and id, set only for family devices and devices not counted.
	 */
	STORE_SCAN_POPULATION,
	/*
	 * Failing-rule rows (id, rule, flag: failing) in (device, rule)
	 * order; the last row of each (device, rule) says whether the rule
	 * fails at `at`.
	 */
	STORE_SCAN_FAILING,
};

/* The filters of the device list: personnel devices, never revoked. */
struct store_devq {
	const char	*unit;			/* a unit and those below, or NULL */
	int		 state;			/* enum store_state, or -1 */
	int64_t		 stale_before[2];	/* as in struct store_when */
};

/*
 * One row of a scan.  The strings belong to the cursor and stay valid
 * until the next store_cursor_next or store_cursor_close; those a scan
 * does not give are "" (id: NULL).
 */
struct store_row {
	const char		*id;		/* the device */
	const char		*unit;
	const char		*person;
	const char		*model;		/* "" if unknown */
	const char		*rule;
	const char		*failing;	/* sorted rule ids, by spaces */
	enum profile_scope	 scope;
	int			 state;		/* enum store_state */
	int			 flag;		/* see enum store_scan */
	int			 has_last;	/* whether last is set */
	time_t			 last;		/* newest report arrived */
	unsigned		 stale;		/* devices: REPORT_STALE_* of
						   its newest report */
};

/*
 * Opens the store in data_dir for reading (busy timeout, query_only, the
 * schema version checked).  MUSTER_ENOINPUT when data_dir does not exist,
 * MUSTER_ECONFIG when others may read it or the schema is another
 * version, MUSTER_EIO when the file cannot be read.  A data_dir without a
 * database yet is an empty store, not an error: every scan of it is
 * empty.  Release with store_read_close (NULL is a no-op).
 */
int	store_read_open(const char *data_dir, struct store_read **out,
	    struct muster_err *e);
void	store_read_close(struct store_read *rd);

/*
 * Starts one snapshot for the reads that follow, until store_read_end
 * (which may be called without a snapshot: a no-op).  0, MUSTER_ETEMP
 * when the store stayed busy, MUSTER_EIO on other errors.
 */
int	store_read_begin(struct store_read *rd, struct muster_err *e);
void	store_read_end(struct store_read *rd);

/*
 * The bytes of the profile served for scope: the newest published, or
 * with published_by not NULL the newest published at or before
 * *published_by.  *bytes is malloc'd (NUL-terminated, *len bytes without
 * it) for the caller to free, or NULL when there is none.  Errors as
 * store_read_begin.
 */
int	store_read_profile(struct store_read *rd, enum profile_scope scope,
	    const time_t *published_by, char **bytes, size_t *len,
	    struct muster_err *e);

/*
 * The time of the store's first record (its first enrollment or profile
 * publication) into *first with *any 1; *any 0 when it holds none yet.
 * An --as-of before it has nothing to answer from.  Errors as
 * store_read_begin.
 */
int	store_read_first(struct store_read *rd, time_t *first, int *any,
	    struct muster_err *e);

/*
 * Starts scan what at w into a new *cur (store_cursor_close), whose rows
 * store_cursor_next gives.  Errors as store_read_begin.
 */
int	store_rollup_scan(struct store_read *rd, enum store_scan what,
	    const struct store_when *w, struct store_cursor **cur,
	    struct muster_err *e);

/*
 * Starts the device list q selects, ordered by unit, person, id: id,
 * unit, person, model, last (has_last 0: never reported), state and
 * failing.  Errors as store_read_begin.
 */
int	store_devices_scan(struct store_read *rd, const struct store_devq *q,
	    struct store_cursor **cur, struct muster_err *e);

/*
 * The longest unit, person and model (in characters) of the devices
 * store_devices_scan(q) lists, ignoring q's state filter; 0 when none.
 * Errors as store_read_begin.
 */
int	store_devices_widths(struct store_read *rd,
	    const struct store_devq *q, int len[3], struct muster_err *e);

/*
 * The next row of cur into *row: 1, 0 at the end, or MUSTER_ETEMP /
 * MUSTER_EIO / MUSTER_EINTERNAL with e set when the read failed.
 */
int	store_cursor_next(struct store_cursor *cur, struct store_row *row,
	    struct muster_err *e);
void	store_cursor_close(struct store_cursor *cur);

/* --- bulk loading, for benchmark fleets (store_sqlite_load.c) ---------- */

/*
 * A loader writes rows as given, unchecked, into a store that store_open
 * made, in one transaction without a journal and with the file locked:
 * fast, and nothing is safe from a crash or visible to another process
 * until store_load_finish.  Only tools use it (tests/tools/rollupgen.c
 * writes a year of a simulated fleet's history); never the server.
 * Rows of the per-device tables load fastest in key order.
 */
struct store_load;

/* A device as the server keeps it, with its newest report's columns. */
struct store_load_device {
	const char		*id;
	const unsigned char	*pk;		/* 32 bytes */
	enum profile_scope	 scope;
	const char		*unit;
	const char		*person;
	const char		*model;
	const char		*token_id;
	time_t			 enrolled;
	int64_t			 last_seq;	/* 0: no report, no last_* */
	time_t			 last_time;
	time_t			 last_received;
	int			 last_compliant;
	const char		*last_profile;
	int64_t			 last_serial;
};

/* A stored report (its body and hash as given, not checked). */
struct store_load_report {
	const char		*device;
	int64_t			 seq;
	time_t			 time;
	time_t			 received;
	int			 compliant;
	const char		*profile;
	int64_t			 serial;
	const unsigned char	*hash;		/* STORE_HASH_LEN bytes */
	const unsigned char	*body;
	size_t			 len;
};

/*
 * Opens the store in dir for loading into a new *out, released with
 * store_load_close.  MUSTER_EIO when it cannot be opened or locked.
 */
int	store_load_open(const char *dir, struct store_load **out,
	    struct muster_err *e);

/*
 * Commits what was loaded and brings the store back to the journal the
 * server keeps (WAL).  After it, store_load_close is all that is left.
 */
int	store_load_finish(struct store_load *l, struct muster_err *e);

/* Closes l; what was loaded before no store_load_finish is lost. */
void	store_load_close(struct store_load *l);

/* Sets the publication time of every stored profile to published. */
int	store_load_profiles_published(struct store_load *l, time_t published,
	    struct muster_err *e);

/* A token used at used, expiring at expires. */
int	store_load_token(struct store_load *l, const char *id, time_t used,
	    time_t expires, struct muster_err *e);

int	store_load_device(struct store_load *l,
	    const struct store_load_device *d, struct muster_err *e);
int	store_load_report(struct store_load *l,
	    const struct store_load_report *r, struct muster_err *e);

/* A change of the device's overall status (status history). */
int	store_load_status(struct store_load *l, const char *device,
	    time_t time, int64_t seq, time_t received, int compliant,
	    struct muster_err *e);

/* A rule that starts (failing 1) or stops (0) failing for a device. */
int	store_load_failing_change(struct store_load *l, const char *device,
	    const char *rule, time_t time, int64_t seq, int failing,
	    struct muster_err *e);

/* A rule the device fails now, since since. */
int	store_load_failing(struct store_load *l, const char *device,
	    const char *rule, time_t since, struct muster_err *e);

/*
 * Runs one statement in the backend's own language on the store in dir
 * (a benchmark trying an index); 0 or MUSTER_EIO with e saying why.
 */
int	store_load_try(const char *dir, const char *stmt,
	    struct muster_err *e);

/* --- what several servers on one store share (store_pg.c) ------------ */

/*
 * Named documents every server sharing the store reads: the uploaded
 * roots and the manifests (their wire forms), which one server alone
 * keeps in data_dir/trust.  Only a PostgreSQL store keeps them: on
 * SQLite these three return MUSTER_EUSAGE.
 *
 * store_doc_put stores bytes as name at version unless name is stored
 * at that version or above (by any server, at any time): *stored 1 when
 * it did, 0 when nothing changed.  Runs in the writer's transaction.
 */
int	store_doc_put(struct store *st, const char *name, int64_t version,
	    const char *bytes, size_t len, int *stored, struct muster_err *e);

/*
 * The document name: its bytes in a new malloc'd *bytes (NUL-terminated,
 * *len without it) and its version; MUSTER_ENOINPUT when there is none.
 */
int	store_doc_get(struct store *st, const char *name, char **bytes,
	    size_t *len, int64_t *version, struct muster_err *e);

/*
 * A number that grows whenever a profile or a document is published
 * through any server on the store (0 while none is): a server that sees
 * it change reloads what it serves.
 */
int	store_generation(struct store *st, int64_t *gen,
	    struct muster_err *e);

/* --- moving an SQLite store to PostgreSQL (store_migrate.c) ---------- */

#define STORE_MIGRATE_TABLES	14

/*
 * Copies the SQLite store in data_dir (schema STORE_SCHEMA_VERSION; stop
 * its server first: later writes are not copied) and the roots and
 * manifests of data_dir/trust into the empty PostgreSQL store at uri
 * (its schema made first), in one transaction, and checks that every
 * row arrived.  rows[i] counts table store_migrate_table(i),
 * rows[STORE_MIGRATE_TABLES] the documents.  Returns 0, MUSTER_EUSAGE
 * when uri is not PostgreSQL or its store is not empty, MUSTER_ENOINPUT
 * without muster.db, MUSTER_ECONFIG for another schema version,
 * MUSTER_ETEMP when PostgreSQL cannot be reached, MUSTER_EIO; nothing is
 * written unless it returns 0.
 */
int	store_migrate(const char *data_dir, const char *uri,
	    int64_t rows[STORE_MIGRATE_TABLES + 1], struct muster_err *e);

/* The name of table i of store_migrate's rows, or NULL. */
const char *store_migrate_table(int i);
/* --- fleet gauges and disk usage for /metrics (store_sqlite_read.c) ---- */

/*
 * One device counted now (enrolled, not revoked): its scope, its unit
 * (family devices only, which the k-anonymity rule groups by unit; NULL
 * for personnel), its state (enum store_state) and the REPORT_STALE_*
 * bits its newest report carried (0 when none).  unit is valid for the
 * call only.  Returns 0 to go on, anything else to stop the scan.
 */
typedef int (*store_fleet_fn)(void *cls, enum profile_scope scope,
	    const char *unit, int state, unsigned stale);

/*
 * Calls fn for every device counted now, a device stale when its newest
 * report arrived before stale_before[its scope] (as struct store_when),
 * in one scan in table order (rd's snapshot if one was begun).  Returns
 * 0, fn's first nonzero return, or an error as store_read_begin.
 */
int	store_fleet_scan(struct store_read *rd, const int64_t stale_before[2],
	    store_fleet_fn fn, void *cls, struct muster_err *e);

/*
 * The bytes the store in data_dir takes on disk: the database file into
 * *db, its write-ahead log into *wal (0 for a file not there).  Returns
 * 0 or MUSTER_EIO.  On PostgreSQL (data_dir a URI): the database's size
 * (pg_database_size) into *db and -1 into *wal, the WAL being the
 * cluster's, not the store's; MUSTER_ETEMP when it cannot be reached.
 */
int	store_disk_usage(const char *data_dir, int64_t *db, int64_t *wal,
	    struct muster_err *e);


/*
 * --- Administrators and the audit log (store_sqlite_admin.c) ----------
 *
 * A handle of its own, opened on the store of dir (created by store_open
 * first when missing), used by the server (under the caller's lock: one
 * thread at a time) and by `muster-server admin|audit` in another process
 * at the same time; every write is one transaction that takes the write
 * lock first, so the two never interleave an append.  The tables are the
 * backend's: nothing outside store_*.c knows them.  On PostgreSQL the
 * tables are made by store_open's migrations, an append takes an
 * advisory lock (several servers make one chain), and a handle whose
 * connection was lost makes a new one at its next call.
 */
#define STORE_ADMIN_NAME_MAX	64	/* [a-z0-9][a-z0-9._-]* */
#define STORE_AUDIT_ACTOR_MAX	80
#define STORE_AUDIT_ADDR_MAX	64
#define STORE_AUDIT_ACTION_MAX	32
#define STORE_AUDIT_OBJECT_MAX	256
#define STORE_AUDIT_OUTCOME_MAX	64

struct store_adm;

/* One administrator: the hash of its credential, never the credential. */
struct store_admin {
	char		name[STORE_ADMIN_NAME_MAX + 1];
	unsigned	roles;			/* ADMINS_ROLE_* bits */
	unsigned char	hash[STORE_HASH_LEN];
	time_t		created;
	time_t		rotated;		/* == created until rotated */
};

/* One audit entry; hash chains it to the entry before (audit.c). */
struct store_audit_entry {
	int64_t		seq;			/* 1, 2, ... */
	time_t		time;
	char		actor[STORE_AUDIT_ACTOR_MAX + 1];
	char		addr[STORE_AUDIT_ADDR_MAX + 1];
	char		action[STORE_AUDIT_ACTION_MAX + 1];
	char		object[STORE_AUDIT_OBJECT_MAX + 1];
	char		outcome[STORE_AUDIT_OUTCOME_MAX + 1];
	unsigned char	hash[STORE_HASH_LEN];
};

/* A signed checkpoint: the chain's hash at entry seq, signed. */
struct store_audit_ckpt {
	int64_t		seq;
	time_t		time;
	unsigned char	hash[STORE_HASH_LEN];
	unsigned char	sig[STORE_SIG_LEN];
};

/*
 * Called by store_audit_append inside its transaction with a->seq set to
 * the next number and prev the hash of the entry before (zeros for the
 * first): fills a->hash, and *ck with *want set to 1 when a checkpoint
 * is to be stored with the entry.  Returns 0, or a MUSTER_E* value that
 * rolls the append back.
 */
typedef int (*store_audit_seal_fn)(struct store_audit_entry *a,
    const unsigned char prev[STORE_HASH_LEN], struct store_audit_ckpt *ck,
    int *want, void *arg);

/*
 * Opens the administrators' and audit tables of the store in dir (made
 * by store_open before: MUSTER_ENOINPUT when there is none) into a new
 * *out (store_adm_close), creating the tables when missing; readonly
 * opens without creating or writing anything.
 */
int	store_adm_open(const char *dir, int readonly, struct store_adm **out,
	    struct muster_err *e);
void	store_adm_close(struct store_adm *sa);

/*
 * Every administrator, in name order, into a new array *list of *n
 * (free(*list)); an empty store gives *list NULL and *n 0.
 */
int	store_admin_list(struct store_adm *sa, struct store_admin **list,
	    size_t *n, struct muster_err *e);

/* Adds a; MUSTER_EDATA when the name (or the hash) is taken. */
int	store_admin_add(struct store_adm *sa, const struct store_admin *a,
	    struct muster_err *e);

/*
 * Gives administrator name a new credential hash and its rotation time;
 * MUSTER_ENOINPUT when there is no such administrator.
 */
int	store_admin_rotate(struct store_adm *sa, const char *name,
	    const unsigned char hash[STORE_HASH_LEN], time_t when,
	    struct muster_err *e);

/* Removes administrator name; MUSTER_ENOINPUT when there is none. */
int	store_admin_remove(struct store_adm *sa, const char *name,
	    struct muster_err *e);

/*
 * Once in a store's life: adds a (the configuration's administrator)
 * unless the store was bootstrapped before, and says in *added whether
 * it did.  Later calls change nothing, whatever a holds.
 */
int	store_admin_bootstrap(struct store_adm *sa, const struct store_admin *a,
	    int *added, struct muster_err *e);

/*
 * Appends a (its seq and hash set by seal, with arg) and, when seal asks,
 * the checkpoint it makes, in one transaction.  a->seq is the entry's
 * number afterwards.
 */
int	store_audit_append(struct store_adm *sa, struct store_audit_entry *a,
	    store_audit_seal_fn seal, void *arg, struct muster_err *e);

/*
 * Calls fn for each entry with seq >= from in seq order, then returns 0;
 * a non-zero return of fn stops the walk and is returned.
 */
int	store_audit_scan(struct store_adm *sa, int64_t from,
	    int (*fn)(const struct store_audit_entry *, void *), void *arg,
	    struct muster_err *e);

/* The newest entry's seq and hash into *seq, hash (0 and zeros: none). */
int	store_audit_last(struct store_adm *sa, int64_t *seq,
	    unsigned char hash[STORE_HASH_LEN], struct muster_err *e);

/* Stores a checkpoint (MUSTER_EDATA when one exists at its seq). */
int	store_audit_ckpt_put(struct store_adm *sa,
	    const struct store_audit_ckpt *ck, struct muster_err *e);

/* Every checkpoint in seq order into a new array (free(*list)). */
int	store_audit_ckpts(struct store_adm *sa, struct store_audit_ckpt **list,
	    size_t *n, struct muster_err *e);

/*
 * The family devices counted at `at` (as STORE_SCAN_STATUS counts them),
 * for the roll-up's family estimates: rows with id, unit, model, state
 * and failing (the rules the newest report at `at` fails, sorted, by
 * spaces; the other fields "" or 0).  The cursor is closed with
 * store_cursor_close.
 */
int	store_family_scan(struct store_read *rd, const struct store_when *w,
	    struct store_cursor **cur, struct muster_err *e);

/* --- retention, backup, re-registration (store_sqlite_prune.c) -------- */

/*
 * Bounded storage.  The store keeps for ever what the roll-ups, history
 * and evidence need: the status and failing-rule changes, the signed
 * report that caused each change (verifiable later with the device's
 * key), each device's newest report, and when each device reported (as
 * runs, see struct store_report); raw reports that are none of these
 * are kept for `retention` seconds after they arrived, then pruned.
 *
 * store_retention_set sets that window (0: keep every report, the
 * default of a handle store_open made).  store_prune_wait says when the
 * next batch is due: 0 now, N seconds from now, or -1 never (no
 * retention).  store_prune deletes at most max prunable reports that
 * arrived before now - retention, in a transaction of its own (never call
 * it between store_begin and store_commit), so the writer can run it in
 * small batches between other jobs; *pruned says how many, *more 1 when
 * more may be due now.  0 or MUSTER_E*.  On PostgreSQL one server prunes
 * at a time (an advisory lock per batch; the others' passes prune
 * nothing).
 */
void	store_retention_set(struct store *st, int64_t seconds);
int	store_prune_wait(struct store *st, time_t now);
int	store_prune(struct store *st, time_t now, size_t max, size_t *pruned,
	    int *more, struct muster_err *e);

/*
 * Writes a consistent copy of the store in dir to path while the server
 * may be writing (SQLite: the online backup API, from one read
 * snapshot), created 0600 as a temporary file in path's directory,
 * fsync'd, renamed over path and the directory fsync'd: path is the old
 * file or the whole new one, never a part.  *bytes is its size.  0,
 * MUSTER_ENOINPUT when dir holds no store, MUSTER_ECANTCREAT / MUSTER_EIO
 * when path cannot be written.  A PostgreSQL store is refused with
 * MUSTER_EUSAGE and a message naming pg_dump (nothing is written): it is
 * backed up with PostgreSQL's tools.
 */
int	store_backup(const char *dir, const char *path, int64_t *bytes,
	    struct muster_err *e);

/*
 * Re-registers device d (a device the store does not know after a
 * restore, proving who it is with an enrollment receipt the server
 * signed), enrolled at d->enrolled with token d->token_id expiring at
 * expires.  In the caller's transaction: STORE_DUPLICATE in *res when d
 * is known with the same key (nothing changes), STORE_STORED when it was
 * added back (the token marked used by it); MUSTER_ETRUST when the device
 * or its token is revoked, the token is used by another device, or the
 * id is known with another key.
 */
int	store_device_reregister(struct store *st, const struct store_device *d,
	    time_t expires, enum store_put *res, struct muster_err *e);

/*
 * A cheap read that proves the store answers (GET /healthz): 0, or
 * MUSTER_ETEMP / MUSTER_EIO with e saying why.
 */
int	store_ping(struct store *st, struct muster_err *e);

/* --- one device's history, for the console (store_sqlite_read.c) ------ */

/* A personnel or family device as the console may show it. */
struct store_device_info {
	enum profile_scope	scope;
	char			unit[TOKEN_FIELD_MAX];
	char			person[TOKEN_FIELD_MAX];
	char			model[STORE_MODEL_MAX];
	time_t			enrolled;
	int			revoked;
	unsigned char		pk[STORE_PK_LEN];	/* its Ed25519 key */
};

/*
 * Device id into *d: 0, MUSTER_ENOINPUT when unknown (or no store yet),
 * errors as store_read_begin.
 */
int	store_read_device(struct store_read *rd, const char *id,
	    struct store_device_info *d, struct muster_err *e);

/* A change of a device's status and the stored report that made it. */
struct store_history_row {
	time_t			 time;		/* the report's own time */
	int64_t			 seq;
	time_t			 received;
	int			 compliant;
	int			 has_report;	/* the report is still stored */
	const unsigned char	*hash;		/* STORE_HASH_LEN, or NULL */
	const char		*body;		/* its exact signed bytes */
	size_t			 len;
	const unsigned char	*sig;		/* STORE_SIG_LEN: the device's
						   signature over body, or
						   NULL: not kept */
};

/*
 * Calls fn(arg, row) for each status change of device id, newest
 * first, at most max of them; row's pointers are valid during the call.
 * fn returns 0 to go on, else the scan stops and returns that.  0 when
 * done, errors as store_read_begin.
 */
typedef int (*store_history_fn)(void *arg, const struct store_history_row *row);
int	store_device_history(struct store_read *rd, const char *id,
	    size_t max, store_history_fn fn, void *arg, struct muster_err *e);

/*
 * store_devices_scan, one page of it: at most limit rows after the
 * first offset, so that a page of a million-device list costs one
 * bounded sort, not the whole list.  Errors as store_read_begin.
 */
int	store_devices_page(struct store_read *rd, const struct store_devq *q,
	    int64_t offset, int64_t limit, struct store_cursor **cur,
	    struct muster_err *e);

/*
 * The personnel devices (not revoked) whose newest report said their
 * policy (manifest) was stale, into *n.  Errors as store_read_begin.
 */
int	store_count_stale_policy(struct store_read *rd, int64_t *n,
	    struct muster_err *e);

/*
 * Calls fn(arg, unit, devices, noncompliant) for the units holding
 * personnel devices (not revoked) whose model contains part, most such
 * devices first, at most max units; noncompliant counts those whose
 * newest report said so (stale or not).  fn returns 0 to go on.  0, or
 * fn's value, or errors as store_read_begin.
 */
typedef int (*store_model_unit_fn)(void *arg, const char *unit,
    int64_t devices, int64_t noncompliant);
int	store_model_units(struct store_read *rd, const char *part, size_t max,
	    store_model_unit_fn fn, void *arg, struct muster_err *e);

/* --- one stored report and its proof (store_*_read.c) ------------------ */

/*
 * A stored report as the evidence of what a device said: the exact
 * signed bytes, the device's signature over them (has_sig 0: not kept,
 * a report stored before schema version 5) and the device's public key,
 * with what the store recorded about it.  body is malloc'd.
 */
struct store_proof {
	char			 device[DEVICE_ID_HEX];
	enum profile_scope	 scope;		/* the device's */
	int			 revoked;	/* the device is revoked */
	int64_t			 seq;
	time_t			 time;		/* the report's own time */
	time_t			 received;
	int			 compliant;	/* the status it was stored as */
	unsigned char		 pk[STORE_PK_LEN];
	unsigned char		 hash[STORE_HASH_LEN];	/* as stored */
	int			 has_sig;
	unsigned char		 sig[STORE_SIG_LEN];
	unsigned char		*body;
	size_t			 len;
};

/*
 * Device id's stored report seq into *p, whose body the caller releases
 * with store_proof_clear (also on error; a cleared p is a no-op).
 * MUSTER_ENOINPUT when the device or the report is unknown (pruned, or
 * no store yet), MUSTER_EIO when a stored key, hash or signature has the
 * wrong size, errors as store_read_begin.
 */
int	store_read_report(struct store_read *rd, const char *id, int64_t seq,
	    struct store_proof *p, struct muster_err *e);
void	store_proof_clear(struct store_proof *p);

#endif
