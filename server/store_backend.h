/*
 * store_backend: what a storage backend gives store.c (the dispatcher of
 * store.h) -- one function per store.h function, the same contract.
 * Every handle a backend returns (struct store, store_read, store_cursor,
 * store_load) starts with a pointer to its backend's table, which is how
 * store.c finds the backend of a handle; nothing outside store*.c sees
 * this header.
 *
 * A store is named by where it lives: a data directory (SQLite,
 * store_sqlite*.c) or a PostgreSQL URI, "postgresql://..." or
 * "postgres://..." (store_pg*.c).
 */
#ifndef MUSTER_SERVER_STORE_BACKEND_H
#define MUSTER_SERVER_STORE_BACKEND_H

#include "store.h"

struct store_ops {
	const char	*name;
	int	(*open)(const char *dir, int readonly, struct store **st,
		    struct muster_err *e);
	void	(*close)(struct store *st);
	int	(*begin)(struct store *st, struct muster_err *e);
	int	(*commit)(struct store *st, struct muster_err *e);
	void	(*rollback)(struct store *st);
	int	(*savepoint)(struct store *st, struct muster_err *e);
	int	(*release)(struct store *st, struct muster_err *e);
	void	(*rollback_savepoint)(struct store *st);
	int	(*device_add)(struct store *st, const struct store_device *d,
		    time_t expires, struct muster_err *e);
	int	(*consent_add)(struct store *st, const struct store_consent *c,
		    struct muster_err *e);
	int	(*consent_replace)(struct store *st,
		    const struct store_consent *c, struct muster_err *e);
	int	(*device_get)(struct store *st, const char *id,
		    struct store_device *d, struct muster_err *e);
	int	(*report_put)(struct store *st, const struct store_report *r,
		    enum store_put *res, struct muster_err *e);
	int	(*revoke)(struct store *st, const char *id,
		    struct muster_err *e);
	int	(*revoke_used)(struct store *st, const char *id,
		    char device[DEVICE_ID_HEX], struct muster_err *e);
	int	(*token_revoked)(struct store *st, const char *token_id,
		    int *revoked, struct muster_err *e);
	int	(*token_get)(struct store *st, const char *token_id, int *used,
		    int *revoked, struct muster_err *e);
	int	(*device_delete)(struct store *st, const char *id,
		    struct muster_err *e);
	int	(*scrub)(struct store *st, struct muster_err *e);
	int	(*scrub_pending)(const struct store *st);
	int	(*profile_put)(struct store *st, const struct profile *p,
		    const char *bytes, size_t len, const char *sig,
		    size_t siglen, struct muster_err *e);
	int	(*profile_publish)(struct store *st, const struct profile *p,
		    const char *bytes, size_t len, const char *sig,
		    size_t siglen, enum store_put *res, struct muster_err *e);
	int	(*profile_current)(struct store *st, enum profile_scope scope,
		    struct store_profile *out, struct muster_err *e);
	int	(*profile_find)(struct store *st, const char *id,
		    int64_t serial, struct store_profile *out,
		    struct muster_err *e);
	int	(*profile_get)(struct store *st, enum profile_scope scope,
		    char **bytes, size_t *len, char **sig, size_t *siglen,
		    struct muster_err *e);
	int	(*count_devices)(struct store *st, int64_t *n,
		    struct muster_err *e);
	int	(*count_reports)(struct store *st, int64_t *n,
		    struct muster_err *e);
	int	(*read_open)(const char *data_dir, struct store_read **out,
		    struct muster_err *e);
	void	(*read_close)(struct store_read *rd);
	int	(*read_begin)(struct store_read *rd, struct muster_err *e);
	void	(*read_end)(struct store_read *rd);
	int	(*read_profile)(struct store_read *rd, enum profile_scope scope,
		    const time_t *published_by, char **bytes, size_t *len,
		    struct muster_err *e);
	int	(*read_first)(struct store_read *rd, time_t *first, int *any,
		    struct muster_err *e);
	int	(*rollup_scan)(struct store_read *rd, enum store_scan what,
		    const struct store_when *w, struct store_cursor **cur,
		    struct muster_err *e);
	int	(*devices_scan)(struct store_read *rd,
		    const struct store_devq *q, struct store_cursor **cur,
		    struct muster_err *e);
	int	(*devices_widths)(struct store_read *rd,
		    const struct store_devq *q, int len[3],
		    struct muster_err *e);
	int	(*cursor_next)(struct store_cursor *cur, struct store_row *row,
		    struct muster_err *e);
	void	(*cursor_close)(struct store_cursor *cur);
	int	(*load_open)(const char *dir, struct store_load **out,
		    struct muster_err *e);
	int	(*load_finish)(struct store_load *l, struct muster_err *e);
	void	(*load_close)(struct store_load *l);
	int	(*load_profiles_published)(struct store_load *l,
		    time_t published, struct muster_err *e);
	int	(*load_token)(struct store_load *l, const char *id, time_t used,
		    time_t expires, struct muster_err *e);
	int	(*load_device)(struct store_load *l,
		    const struct store_load_device *d, struct muster_err *e);
	int	(*load_report)(struct store_load *l,
		    const struct store_load_report *r, struct muster_err *e);
	int	(*load_status)(struct store_load *l, const char *device,
		    time_t time, int64_t seq, time_t received, int compliant,
		    struct muster_err *e);
	int	(*load_failing_change)(struct store_load *l, const char *device,
		    const char *rule, time_t time, int64_t seq, int failing,
		    struct muster_err *e);
	int	(*load_failing)(struct store_load *l, const char *device,
		    const char *rule, time_t since, struct muster_err *e);
	int	(*load_try)(const char *dir, const char *stmt,
		    struct muster_err *e);
	int	(*doc_put)(struct store *st, const char *name, int64_t version,
		    const char *bytes, size_t len, int *stored,
		    struct muster_err *e);
	int	(*doc_get)(struct store *st, const char *name, char **bytes,
		    size_t *len, int64_t *version, struct muster_err *e);
	int	(*generation)(struct store *st, int64_t *gen,
		    struct muster_err *e);
	int	(*fleet_scan)(struct store_read *rd,
		    const int64_t stale_before[2], store_fleet_fn fn, void *cls,
		    struct muster_err *e);
	int	(*disk_usage)(const char *data_dir, int64_t *db, int64_t *wal,
		    struct muster_err *e);
	int	(*adm_open)(const char *dir, int readonly,
		    struct store_adm **out, struct muster_err *e);
	void	(*adm_close)(struct store_adm *sa);
	int	(*admin_list)(struct store_adm *sa, struct store_admin **list,
		    size_t *n, struct muster_err *e);
	int	(*admin_add)(struct store_adm *sa, const struct store_admin *a,
		    struct muster_err *e);
	int	(*admin_rotate)(struct store_adm *sa, const char *name,
		    const unsigned char hash[STORE_HASH_LEN], time_t when,
		    struct muster_err *e);
	int	(*admin_remove)(struct store_adm *sa, const char *name,
		    struct muster_err *e);
	int	(*admin_bootstrap)(struct store_adm *sa,
		    const struct store_admin *a, int *added,
		    struct muster_err *e);
	int	(*audit_append)(struct store_adm *sa,
		    struct store_audit_entry *a, store_audit_seal_fn seal,
		    void *arg, struct muster_err *e);
	int	(*audit_scan)(struct store_adm *sa, int64_t from,
		    int (*fn)(const struct store_audit_entry *, void *),
		    void *arg, struct muster_err *e);
	int	(*audit_last)(struct store_adm *sa, int64_t *seq,
		    unsigned char hash[STORE_HASH_LEN], struct muster_err *e);
	int	(*audit_ckpt_put)(struct store_adm *sa,
		    const struct store_audit_ckpt *ck, struct muster_err *e);
	int	(*audit_ckpts)(struct store_adm *sa,
		    struct store_audit_ckpt **list, size_t *n,
		    struct muster_err *e);
	int	(*family_scan)(struct store_read *rd,
		    const struct store_when *w, struct store_cursor **cur,
		    struct muster_err *e);
	void	(*retention_set)(struct store *st, int64_t seconds);
	int	(*prune_wait)(struct store *st, time_t now);
	int	(*prune)(struct store *st, time_t now, size_t max,
		    size_t *pruned, int *more, struct muster_err *e);
	int	(*backup)(const char *dir, const char *path, int64_t *bytes,
		    struct muster_err *e);
	int	(*device_reregister)(struct store *st,
		    const struct store_device *d, time_t expires,
		    enum store_put *res, struct muster_err *e);
	int	(*ping)(struct store *st, struct muster_err *e);
	int	(*read_device)(struct store_read *rd, const char *id,
		    struct store_device_info *d, struct muster_err *e);
	int	(*device_history)(struct store_read *rd, const char *id,
		    size_t max, store_history_fn fn, void *arg,
		    struct muster_err *e);
	int	(*devices_page)(struct store_read *rd,
		    const struct store_devq *q, int64_t offset, int64_t limit,
		    struct store_cursor **cur, struct muster_err *e);
	int	(*count_stale_policy)(struct store_read *rd, int64_t *n,
		    struct muster_err *e);
	int	(*model_units)(struct store_read *rd, const char *part,
		    size_t max, store_model_unit_fn fn, void *arg,
		    struct muster_err *e);
	int	(*read_report)(struct store_read *rd, const char *id,
		    int64_t seq, struct store_proof *p, struct muster_err *e);
};

/* The table of handle h (any backend handle: its first member). */
#define STORE_OPS(h) \
	(*(const struct store_ops *const *)(const void *)(h))

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/* The backend of the store at where: PostgreSQL for a URI, else SQLite. */
const struct store_ops *store_backend(const char *where);

#endif
