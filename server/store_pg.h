/*
 * store_pg: the PostgreSQL backend of store.h (store_pg.c: connection,
 * schema migrations and writes; store_pg_read.c: the roll-up and
 * device-list reads; store_pg_load.c: bulk loading), reached through
 * store.c with store_pg_ops.  Each function keeps the contract of its
 * store.h namesake; this header also holds what the three files share.
 *
 * A store is named by a libpq URI ("postgresql://HOST/DB?..."; several
 * hosts with target_session_attrs=read-write find the primary after a
 * failover).  The URI may carry a password: it is never logged, and
 * error messages quote libpq's message, which does not repeat it.
 */
#ifndef MUSTER_SERVER_STORE_PG_H
#define MUSTER_SERVER_STORE_PG_H

#include <stdint.h>
#include <time.h>

#include <libpq-fe.h>

#include "store_backend.h"
#include "store_retain.h"

/* The schema this program writes (table schema_version). */
#define STORE_PG_SCHEMA_VERSION	5
/* The key of the advisory lock that serialises migrations. */
#define STORE_PG_MIGRATE_LOCK	0x6d75737465720001LL
#define STORE_PG_PARAMS_MAX	16

/* The parameters of one statement, kept in text or binary form. */
struct store_pg_params {
	const char	*v[STORE_PG_PARAMS_MAX];
	int		 len[STORE_PG_PARAMS_MAX];
	int		 fmt[STORE_PG_PARAMS_MAX];
	char		 num[STORE_PG_PARAMS_MAX][24];
	int		 n;
	int		 over;	/* one too many: a bug, refused */
};

/*
 * A writable or read-only handle of store_open (store_pg.c); its
 * retention state is store_pg_prune.c's.
 */
struct store {
	const struct store_ops	*ops;	/* first: store_backend.h */
	char			*uri;
	PGconn			*c;	/* NULL: to connect */
	int			 readonly;
	int			 tx;	/* inside store_begin .. commit */
	int			 release;	/* a RELEASE to send */
	int			 backoff_ms;
	struct timespec		 retry_at;	/* no attempt before */
	struct store_retain	 ret;	/* store_pg_prune.c; cursor: reports.n */
};

/*
 * A working connection for st (store_pg.c): the one it has, or a new one
 * when it was lost, no sooner than the backoff allows; never inside a
 * transaction.  0, or MUSTER_ETEMP while the database cannot be reached.
 */
int	store_pg_ensure(struct store *st, struct muster_err *e);

/*
 * Adds a text (NULL: SQL NULL), integer or binary (bytea) parameter; past
 * STORE_PG_PARAMS_MAX it sets over, and the statement is not run.
 */
void	store_pg_text(struct store_pg_params *q, const char *v);
void	store_pg_int(struct store_pg_params *q, int64_t v);
void	store_pg_bin(struct store_pg_params *q, const void *v, size_t len);

/*
 * Connects to uri into a new *out (PQfinish), UTF-8, UTC.  MUSTER_ETEMP
 * when the server cannot be reached (a caller may try again later).
 */
int	store_pg_connect(const char *uri, PGconn **out, struct muster_err *e);

/*
 * Sets e from a failed result r (may be NULL) of connection c and
 * returns the MUSTER_E* value its SQLSTATE calls for: MUSTER_ETEMP for
 * a lost connection, a shutdown, a standby that refuses writes, a
 * deadlock or serialization failure (trying again may work: the
 * request is answered 503), MUSTER_EDATA for a constraint, MUSTER_EIO
 * otherwise.  Frees nothing.
 */
int	store_pg_err(PGconn *c, const PGresult *r, const char *what,
	    struct muster_err *e);

/*
 * Runs sql (one or more statements, no parameters) on c; 0 or what
 * store_pg_err returns.
 */
int	store_pg_exec(PGconn *c, const char *sql, struct muster_err *e);

/*
 * Runs sql (not prepared) with the parameters q on c: its result when
 * it succeeded (the caller PQclears it), else NULL with *rc and e set as
 * store_pg_err does, what naming the statement.
 */
PGresult *store_pg_query(PGconn *c, const char *sql,
	    const struct store_pg_params *q, const char *what, int *rc,
	    struct muster_err *e);

/*
 * The schema version of the store on c into *v (0: none yet).  Errors
 * as store_pg_err.
 */
int	store_pg_version(PGconn *c, int64_t *v, struct muster_err *e);

/*
 * store_pg_version, checked against this program: 0 with *v 0 (no store
 * yet) or STORE_PG_SCHEMA_VERSION; MUSTER_ECONFIG for any other version
 * (newer: a newer program's; older: not yet migrated by a server).
 */
int	store_pg_version_check(PGconn *c, int64_t *v, struct muster_err *e);

/*
 * How a reader, the loader and the audit tables open the store: connects
 * to uri (store_pg_connect), checks its schema (store_pg_version_check,
 * *v 0: no store yet) and, with readonly, makes every transaction of the
 * session read-only.  0 with *out the caller's (PQfinish); else the
 * error, *out NULL.
 */
int	store_pg_attach(const char *uri, int readonly, PGconn **out,
	    int64_t *v, struct muster_err *e);

/*
 * The parameters $1 .. $8 of "INSERT INTO devices (id, pubkey, scope,
 * unit, person, model, token_id, enrolled)": d's, enrolled as given; the
 * text stays d's, which must outlive the statement.
 */
void	store_pg_device_params(struct store_pg_params *q,
	    const struct store_device *d, time_t enrolled);

/* A column as an integer (0 when NULL) and whether it is NULL. */
int64_t	store_pg_getint(const PGresult *r, int row, int col);
int	store_pg_isnull(const PGresult *r, int row, int col);

/*
 * A bytea column's bytes (text form, hex) into a malloc'd *out of *len
 * bytes, NUL-terminated; MUSTER_EINTERNAL when out of memory.
 */
int	store_pg_bytea(const PGresult *r, int row, int col,
	    unsigned char **out, size_t *len, struct muster_err *e);

/*
 * Rows in COPY's text format, built in memory and sent by
 * store_pg_copy_flush: one field after another (text, integer, bytea or
 * NULL), store_pg_copy_row after each row.  A failed allocation is
 * remembered and reported by the flush.
 */
struct store_pg_copy {
	char	*p;
	size_t	 len, cap;
	int	 oom;
	int	 nf;		/* fields in the current row */
	int64_t	 rows;		/* rows since the last flush */
};

void	store_pg_copy_text(struct store_pg_copy *b, const char *v, size_t len);
void	store_pg_copy_str(struct store_pg_copy *b, const char *v);
void	store_pg_copy_int(struct store_pg_copy *b, int64_t v);
void	store_pg_copy_bin(struct store_pg_copy *b, const void *v, size_t len);
void	store_pg_copy_null(struct store_pg_copy *b);
void	store_pg_copy_row(struct store_pg_copy *b);
void	store_pg_copy_free(struct store_pg_copy *b);

/*
 * COPY table (cols) FROM STDIN with the rows of b, then empties b; 0 or
 * what store_pg_err returns (MUSTER_EINTERNAL when b ran out of memory).
 */
int	store_pg_copy_flush(PGconn *c, const char *table, const char *cols,
	    struct store_pg_copy *b, struct muster_err *e);

int	store_pg_open(const char *uri, int readonly, struct store **st,
	    struct muster_err *e);
void	store_pg_close(struct store *st);
int	store_pg_begin(struct store *st, struct muster_err *e);
int	store_pg_commit(struct store *st, struct muster_err *e);
void	store_pg_rollback(struct store *st);
int	store_pg_savepoint(struct store *st, struct muster_err *e);
int	store_pg_release(struct store *st, struct muster_err *e);
void	store_pg_rollback_savepoint(struct store *st);
int	store_pg_device_add(struct store *st, const struct store_device *d,
	    time_t expires, struct muster_err *e);
int	store_pg_consent_add(struct store *st, const struct store_consent *c,
	    struct muster_err *e);
int	store_pg_consent_replace(struct store *st,
	    const struct store_consent *c, struct muster_err *e);
int	store_pg_device_get(struct store *st, const char *id,
	    struct store_device *d, struct muster_err *e);
int	store_pg_report_put(struct store *st, const struct store_report *r,
	    enum store_put *res, struct muster_err *e);
int	store_pg_revoke(struct store *st, const char *id,
	    struct muster_err *e);
int	store_pg_revoke_used(struct store *st, const char *id,
	    char device[DEVICE_ID_HEX], struct muster_err *e);
int	store_pg_token_revoked(struct store *st, const char *token_id,
	    int *revoked, struct muster_err *e);
int	store_pg_token_get(struct store *st, const char *token_id, int *used,
	    int *revoked, struct muster_err *e);
int	store_pg_device_delete(struct store *st, const char *id,
	    struct muster_err *e);
int	store_pg_scrub(struct store *st, struct muster_err *e);
int	store_pg_scrub_pending(const struct store *st);
int	store_pg_profile_publish(struct store *st, const struct profile *p,
	    const char *bytes, size_t len, const char *sig, size_t siglen,
	    enum store_put *res, struct muster_err *e);
int	store_pg_profile_current(struct store *st, enum profile_scope scope,
	    struct store_profile *out, struct muster_err *e);
int	store_pg_profile_find(struct store *st, const char *id,
	    int64_t serial, struct store_profile *out, struct muster_err *e);
int	store_pg_profile_get(struct store *st, enum profile_scope scope,
	    char **bytes, size_t *len, char **sig, size_t *siglen,
	    struct muster_err *e);
int	store_pg_count_devices(struct store *st, int64_t *n,
	    struct muster_err *e);
int	store_pg_count_reports(struct store *st, int64_t *n,
	    struct muster_err *e);

int	store_pg_doc_put(struct store *st, const char *name, int64_t version,
	    const char *bytes, size_t len, int *stored, struct muster_err *e);
int	store_pg_doc_get(struct store *st, const char *name, char **bytes,
	    size_t *len, int64_t *version, struct muster_err *e);
int	store_pg_generation(struct store *st, int64_t *gen,
	    struct muster_err *e);

int	store_pg_read_open(const char *uri, struct store_read **out,
	    struct muster_err *e);
void	store_pg_read_close(struct store_read *rd);
int	store_pg_read_begin(struct store_read *rd, struct muster_err *e);
void	store_pg_read_end(struct store_read *rd);
int	store_pg_read_profile(struct store_read *rd, enum profile_scope scope,
	    const time_t *published_by, char **bytes, size_t *len,
	    struct muster_err *e);
int	store_pg_read_first(struct store_read *rd, time_t *first, int *any,
	    struct muster_err *e);
int	store_pg_rollup_scan(struct store_read *rd, enum store_scan what,
	    const struct store_when *w, struct store_cursor **cur,
	    struct muster_err *e);
int	store_pg_devices_scan(struct store_read *rd,
	    const struct store_devq *q, struct store_cursor **cur,
	    struct muster_err *e);
int	store_pg_devices_widths(struct store_read *rd,
	    const struct store_devq *q, int len[3], struct muster_err *e);
int	store_pg_cursor_next(struct store_cursor *cur, struct store_row *row,
	    struct muster_err *e);
void	store_pg_cursor_close(struct store_cursor *cur);

int	store_pg_load_open(const char *uri, struct store_load **out,
	    struct muster_err *e);
int	store_pg_load_finish(struct store_load *l, struct muster_err *e);
void	store_pg_load_close(struct store_load *l);
int	store_pg_load_profiles_published(struct store_load *l,
	    time_t published, struct muster_err *e);
int	store_pg_load_token(struct store_load *l, const char *id, time_t used,
	    time_t expires, struct muster_err *e);
int	store_pg_load_device(struct store_load *l,
	    const struct store_load_device *d, struct muster_err *e);
int	store_pg_load_report(struct store_load *l,
	    const struct store_load_report *r, struct muster_err *e);
int	store_pg_load_status(struct store_load *l, const char *device,
	    time_t time, int64_t seq, time_t received, int compliant,
	    struct muster_err *e);
int	store_pg_load_failing_change(struct store_load *l, const char *device,
	    const char *rule, time_t time, int64_t seq, int failing,
	    struct muster_err *e);
int	store_pg_load_failing(struct store_load *l, const char *device,
	    const char *rule, time_t since, struct muster_err *e);
int	store_pg_load_try(const char *uri, const char *stmt,
	    struct muster_err *e);

/*
 * The connection of read handle rd, in its snapshot when one was begun;
 * NULL for a store that has no schema yet (every read empty).
 */
PGconn	*store_pg_read_conn(struct store_read *rd);

int	store_pg_ping(struct store *st, struct muster_err *e);
void	store_pg_retention_set(struct store *st, int64_t seconds);
int	store_pg_prune_wait(struct store *st, time_t now);
int	store_pg_prune(struct store *st, time_t now, size_t max,
	    size_t *pruned, int *more, struct muster_err *e);
int	store_pg_backup(const char *uri, const char *path, int64_t *bytes,
	    struct muster_err *e);
int	store_pg_disk_usage(const char *uri, int64_t *db, int64_t *wal,
	    struct muster_err *e);
int	store_pg_device_reregister(struct store *st,
	    const struct store_device *d, time_t expires, enum store_put *res,
	    struct muster_err *e);

int	store_pg_adm_open(const char *uri, int readonly,
	    struct store_adm **out, struct muster_err *e);
void	store_pg_adm_close(struct store_adm *sa);
int	store_pg_admin_list(struct store_adm *sa, struct store_admin **list,
	    size_t *n, struct muster_err *e);
int	store_pg_admin_add(struct store_adm *sa, const struct store_admin *a,
	    struct muster_err *e);
int	store_pg_admin_rotate(struct store_adm *sa, const char *name,
	    const unsigned char hash[STORE_HASH_LEN], time_t when,
	    struct muster_err *e);
int	store_pg_admin_remove(struct store_adm *sa, const char *name,
	    struct muster_err *e);
int	store_pg_admin_bootstrap(struct store_adm *sa,
	    const struct store_admin *a, int *added, struct muster_err *e);
int	store_pg_audit_append(struct store_adm *sa,
	    struct store_audit_entry *a, store_audit_seal_fn seal, void *arg,
	    struct muster_err *e);
int	store_pg_audit_scan(struct store_adm *sa, int64_t from,
	    int (*fn)(const struct store_audit_entry *, void *), void *arg,
	    struct muster_err *e);
int	store_pg_audit_last(struct store_adm *sa, int64_t *seq,
	    unsigned char hash[STORE_HASH_LEN], struct muster_err *e);
int	store_pg_audit_ckpt_put(struct store_adm *sa,
	    const struct store_audit_ckpt *ck, struct muster_err *e);
int	store_pg_audit_ckpts(struct store_adm *sa,
	    struct store_audit_ckpt **list, size_t *n, struct muster_err *e);

int	store_pg_fleet_scan(struct store_read *rd,
	    const int64_t stale_before[2], store_fleet_fn fn, void *cls,
	    struct muster_err *e);
int	store_pg_family_scan(struct store_read *rd,
	    const struct store_when *w, struct store_cursor **cur,
	    struct muster_err *e);
int	store_pg_read_device(struct store_read *rd, const char *id,
	    struct store_device_info *d, struct muster_err *e);
int	store_pg_device_history(struct store_read *rd, const char *id,
	    size_t max, store_history_fn fn, void *arg, struct muster_err *e);
int	store_pg_devices_page(struct store_read *rd,
	    const struct store_devq *q, int64_t offset, int64_t limit,
	    struct store_cursor **cur, struct muster_err *e);
int	store_pg_count_stale_policy(struct store_read *rd, int64_t *n,
	    struct muster_err *e);
int	store_pg_model_units(struct store_read *rd, const char *part,
	    size_t max, store_model_unit_fn fn, void *arg,
	    struct muster_err *e);
int	store_pg_read_report(struct store_read *rd, const char *id,
	    int64_t seq, struct store_proof *p, struct muster_err *e);

#endif
