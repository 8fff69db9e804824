/*
 * store_sqlite: the SQLite backend of store.h (store_sqlite.c: schema and
 * writes; store_sqlite_read.c: the roll-up and device-list reads;
 * store_sqlite_load.c: bulk loading), reached through store.c with
 * store_sqlite_ops (store_sqlite_ops.c).  Each function keeps the
 * contract of its store.h namesake.
 */
#ifndef MUSTER_SERVER_STORE_SQLITE_H
#define MUSTER_SERVER_STORE_SQLITE_H

#include "store_backend.h"

int	store_sqlite_open(const char *dir, int readonly, struct store **st,
	    struct muster_err *e);
void	store_sqlite_close(struct store *st);
int	store_sqlite_begin(struct store *st, struct muster_err *e);
int	store_sqlite_commit(struct store *st, struct muster_err *e);
void	store_sqlite_rollback(struct store *st);
int	store_sqlite_savepoint(struct store *st, struct muster_err *e);
int	store_sqlite_release(struct store *st, struct muster_err *e);
void	store_sqlite_rollback_savepoint(struct store *st);
int	store_sqlite_device_add(struct store *st, const struct store_device *d,
	    time_t expires, struct muster_err *e);
int	store_sqlite_consent_add(struct store *st,
	    const struct store_consent *c,
	    struct muster_err *e);
int	store_sqlite_consent_replace(struct store *st,
	    const struct store_consent *c, struct muster_err *e);
int	store_sqlite_device_get(struct store *st, const char *id,
	    struct store_device *d, struct muster_err *e);
int	store_sqlite_report_put(struct store *st, const struct store_report *r,
	    enum store_put *res, struct muster_err *e);
int	store_sqlite_revoke(struct store *st, const char *id,
	    struct muster_err *e);
int	store_sqlite_revoke_used(struct store *st, const char *id,
	    char device[DEVICE_ID_HEX], struct muster_err *e);
int	store_sqlite_token_revoked(struct store *st, const char *token_id,
	    int *revoked, struct muster_err *e);
int	store_sqlite_token_get(struct store *st, const char *token_id,
	    int *used,
	    int *revoked, struct muster_err *e);
int	store_sqlite_device_delete(struct store *st, const char *id,
	    struct muster_err *e);
int	store_sqlite_scrub(struct store *st, struct muster_err *e);
int	store_sqlite_scrub_pending(const struct store *st);
int	store_sqlite_profile_publish(struct store *st, const struct profile *p,
	    const char *bytes, size_t len, const char *sig, size_t siglen,
	    enum store_put *res, struct muster_err *e);
int	store_sqlite_profile_current(struct store *st, enum profile_scope scope,
	    struct store_profile *out, struct muster_err *e);
int	store_sqlite_profile_find(struct store *st, const char *id,
	    int64_t serial,
	    struct store_profile *out, struct muster_err *e);
int	store_sqlite_profile_get(struct store *st, enum profile_scope scope,
	    char **bytes, size_t *len, char **sig, size_t *siglen,
	    struct muster_err *e);
int	store_sqlite_count_devices(struct store *st, int64_t *n,
	    struct muster_err *e);
int	store_sqlite_count_reports(struct store *st, int64_t *n,
	    struct muster_err *e);
int	store_sqlite_read_open(const char *data_dir, struct store_read **out,
	    struct muster_err *e);
void	store_sqlite_read_close(struct store_read *rd);
int	store_sqlite_read_begin(struct store_read *rd, struct muster_err *e);
void	store_sqlite_read_end(struct store_read *rd);
int	store_sqlite_read_profile(struct store_read *rd,
	    enum profile_scope scope,
	    const time_t *published_by, char **bytes, size_t *len,
	    struct muster_err *e);
int	store_sqlite_read_first(struct store_read *rd, time_t *first, int *any,
	    struct muster_err *e);
int	store_sqlite_rollup_scan(struct store_read *rd, enum store_scan what,
	    const struct store_when *w, struct store_cursor **cur,
	    struct muster_err *e);
int	store_sqlite_devices_scan(struct store_read *rd,
	    const struct store_devq *q,
	    struct store_cursor **cur, struct muster_err *e);
int	store_sqlite_devices_widths(struct store_read *rd,
	    const struct store_devq *q, int len[3], struct muster_err *e);
int	store_sqlite_cursor_next(struct store_cursor *cur,
	    struct store_row *row,
	    struct muster_err *e);
void	store_sqlite_cursor_close(struct store_cursor *cur);
int	store_sqlite_load_open(const char *dir, struct store_load **out,
	    struct muster_err *e);
int	store_sqlite_load_finish(struct store_load *l, struct muster_err *e);
void	store_sqlite_load_close(struct store_load *l);
int	store_sqlite_load_profiles_published(struct store_load *l,
	    time_t published,
	    struct muster_err *e);
int	store_sqlite_load_token(struct store_load *l, const char *id,
	    time_t used,
	    time_t expires, struct muster_err *e);
int	store_sqlite_load_device(struct store_load *l,
	    const struct store_load_device *d, struct muster_err *e);
int	store_sqlite_load_report(struct store_load *l,
	    const struct store_load_report *r, struct muster_err *e);
int	store_sqlite_load_status(struct store_load *l, const char *device,
	    time_t time, int64_t seq, time_t received, int compliant,
	    struct muster_err *e);
int	store_sqlite_load_failing_change(struct store_load *l,
	    const char *device,
	    const char *rule, time_t time, int64_t seq, int failing,
	    struct muster_err *e);
int	store_sqlite_load_failing(struct store_load *l, const char *device,
	    const char *rule, time_t since, struct muster_err *e);
int	store_sqlite_load_try(const char *dir, const char *stmt,
	    struct muster_err *e);

int	store_sqlite_fleet_scan(struct store_read *rd,
	    const int64_t stale_before[2], store_fleet_fn fn, void *cls,
	    struct muster_err *e);
int	store_sqlite_disk_usage(const char *data_dir, int64_t *db, int64_t *wal,
	    struct muster_err *e);
int	store_sqlite_adm_open(const char *dir, int readonly,
	    struct store_adm **out, struct muster_err *e);
void	store_sqlite_adm_close(struct store_adm *sa);
int	store_sqlite_admin_list(struct store_adm *sa, struct store_admin **list,
	    size_t *n, struct muster_err *e);
int	store_sqlite_admin_add(struct store_adm *sa,
	    const struct store_admin *a, struct muster_err *e);
int	store_sqlite_admin_rotate(struct store_adm *sa, const char *name,
	    const unsigned char hash[STORE_HASH_LEN], time_t when,
	    struct muster_err *e);
int	store_sqlite_admin_remove(struct store_adm *sa, const char *name,
	    struct muster_err *e);
int	store_sqlite_admin_bootstrap(struct store_adm *sa,
	    const struct store_admin *a, int *added, struct muster_err *e);
int	store_sqlite_audit_append(struct store_adm *sa,
	    struct store_audit_entry *a, store_audit_seal_fn seal, void *arg,
	    struct muster_err *e);
int	store_sqlite_audit_scan(struct store_adm *sa, int64_t from,
	    int (*fn)(const struct store_audit_entry *, void *), void *arg,
	    struct muster_err *e);
int	store_sqlite_audit_last(struct store_adm *sa, int64_t *seq,
	    unsigned char hash[STORE_HASH_LEN], struct muster_err *e);
int	store_sqlite_audit_ckpt_put(struct store_adm *sa,
	    const struct store_audit_ckpt *ck, struct muster_err *e);
int	store_sqlite_audit_ckpts(struct store_adm *sa,
	    struct store_audit_ckpt **list, size_t *n, struct muster_err *e);
int	store_sqlite_family_scan(struct store_read *rd,
	    const struct store_when *w, struct store_cursor **cur,
	    struct muster_err *e);
void	store_sqlite_retention_set(struct store *st, int64_t seconds);
int	store_sqlite_prune_wait(struct store *st, time_t now);
int	store_sqlite_prune(struct store *st, time_t now, size_t max,
	    size_t *pruned, int *more, struct muster_err *e);
int	store_sqlite_backup(const char *dir, const char *path, int64_t *bytes,
	    struct muster_err *e);
int	store_sqlite_device_reregister(struct store *st,
	    const struct store_device *d, time_t expires, enum store_put *res,
	    struct muster_err *e);
int	store_sqlite_ping(struct store *st, struct muster_err *e);
int	store_sqlite_read_device(struct store_read *rd, const char *id,
	    struct store_device_info *d, struct muster_err *e);
int	store_sqlite_device_history(struct store_read *rd, const char *id,
	    size_t max, store_history_fn fn, void *arg, struct muster_err *e);
int	store_sqlite_devices_page(struct store_read *rd,
	    const struct store_devq *q, int64_t offset, int64_t limit,
	    struct store_cursor **cur, struct muster_err *e);
int	store_sqlite_count_stale_policy(struct store_read *rd, int64_t *n,
	    struct muster_err *e);
int	store_sqlite_model_units(struct store_read *rd, const char *part,
	    size_t max, store_model_unit_fn fn, void *arg,
	    struct muster_err *e);
int	store_sqlite_read_report(struct store_read *rd, const char *id,
	    int64_t seq, struct store_proof *p, struct muster_err *e);
#endif
