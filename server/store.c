/*
 * store: the dispatcher of store.h.  A store is opened by where it lives
 * (store_backend); every other call goes to the backend of its handle.
 */
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

const struct store_ops *
store_backend(const char *where)
{
	if (strncmp(where, "postgresql://", 13) == 0 ||
	    strncmp(where, "postgres://", 11) == 0)
		return &store_pg_ops;
	return &store_sqlite_ops;
}

int
store_open(const char *dir, int readonly, struct store **st,
    struct muster_err *e)
{
	return store_backend(dir)->open(dir, readonly, st, e);
}

void
store_close(struct store *st)
{
	if (st != NULL)
		STORE_OPS(st)->close(st);
}

int
store_begin(struct store *st, struct muster_err *e)
{
	return STORE_OPS(st)->begin(st, e);
}

int
store_commit(struct store *st, struct muster_err *e)
{
	return STORE_OPS(st)->commit(st, e);
}

void
store_rollback(struct store *st)
{
	STORE_OPS(st)->rollback(st);
}

int
store_savepoint(struct store *st, struct muster_err *e)
{
	return STORE_OPS(st)->savepoint(st, e);
}

int
store_release(struct store *st, struct muster_err *e)
{
	return STORE_OPS(st)->release(st, e);
}

void
store_rollback_savepoint(struct store *st)
{
	STORE_OPS(st)->rollback_savepoint(st);
}

int
store_device_add(struct store *st, const struct store_device *d, time_t expires,
    struct muster_err *e)
{
	return STORE_OPS(st)->device_add(st, d, expires, e);
}

int
store_consent_add(struct store *st, const struct store_consent *c,
    struct muster_err *e)
{
	return STORE_OPS(st)->consent_add(st, c, e);
}

int
store_consent_replace(struct store *st, const struct store_consent *c,
    struct muster_err *e)
{
	return STORE_OPS(st)->consent_replace(st, c, e);
}

int
store_device_get(struct store *st, const char *id, struct store_device *d,
    struct muster_err *e)
{
	return STORE_OPS(st)->device_get(st, id, d, e);
}

int
store_report_put(struct store *st, const struct store_report *r,
    enum store_put *res, struct muster_err *e)
{
	return STORE_OPS(st)->report_put(st, r, res, e);
}

int
store_revoke(struct store *st, const char *id, struct muster_err *e)
{
	return STORE_OPS(st)->revoke(st, id, e);
}

int
store_revoke_used(struct store *st, const char *id, char device[DEVICE_ID_HEX],
    struct muster_err *e)
{
	return STORE_OPS(st)->revoke_used(st, id, device, e);
}

int
store_token_revoked(struct store *st, const char *token_id, int *revoked,
    struct muster_err *e)
{
	return STORE_OPS(st)->token_revoked(st, token_id, revoked, e);
}

int
store_token_get(struct store *st, const char *token_id, int *used, int *revoked,
    struct muster_err *e)
{
	return STORE_OPS(st)->token_get(st, token_id, used, revoked, e);
}

int
store_device_delete(struct store *st, const char *id, struct muster_err *e)
{
	return STORE_OPS(st)->device_delete(st, id, e);
}

int
store_scrub(struct store *st, struct muster_err *e)
{
	return STORE_OPS(st)->scrub(st, e);
}

int
store_scrub_pending(const struct store *st)
{
	return st != NULL && STORE_OPS(st)->scrub_pending(st);
}

int
store_profile_put(struct store *st, const struct profile *p, const char *bytes,
    size_t len, const char *sig, size_t siglen, struct muster_err *e)
{
	return STORE_OPS(st)->profile_put(st, p, bytes, len, sig, siglen, e);
}

int
store_profile_publish(struct store *st, const struct profile *p,
    const char *bytes, size_t len, const char *sig, size_t siglen,
    enum store_put *res, struct muster_err *e)
{
	return STORE_OPS(st)->profile_publish(st, p, bytes, len, sig, siglen,
	    res, e);
}

int
store_profile_current(struct store *st, enum profile_scope scope,
    struct store_profile *out, struct muster_err *e)
{
	return STORE_OPS(st)->profile_current(st, scope, out, e);
}

int
store_profile_find(struct store *st, const char *id, int64_t serial,
    struct store_profile *out, struct muster_err *e)
{
	return STORE_OPS(st)->profile_find(st, id, serial, out, e);
}

int
store_profile_get(struct store *st, enum profile_scope scope, char **bytes,
    size_t *len, char **sig, size_t *siglen, struct muster_err *e)
{
	return STORE_OPS(st)->profile_get(st, scope, bytes, len, sig, siglen,
	    e);
}

int
store_count_devices(struct store *st, int64_t *n, struct muster_err *e)
{
	return STORE_OPS(st)->count_devices(st, n, e);
}

int
store_count_reports(struct store *st, int64_t *n, struct muster_err *e)
{
	return STORE_OPS(st)->count_reports(st, n, e);
}

int
store_read_open(const char *data_dir, struct store_read **out,
    struct muster_err *e)
{
	return store_backend(data_dir)->read_open(data_dir, out, e);
}

void
store_read_close(struct store_read *rd)
{
	if (rd != NULL)
		STORE_OPS(rd)->read_close(rd);
}

int
store_read_begin(struct store_read *rd, struct muster_err *e)
{
	return STORE_OPS(rd)->read_begin(rd, e);
}

void
store_read_end(struct store_read *rd)
{
	STORE_OPS(rd)->read_end(rd);
}

int
store_read_profile(struct store_read *rd, enum profile_scope scope,
    const time_t *published_by, char **bytes, size_t *len, struct muster_err *e)
{
	return STORE_OPS(rd)->read_profile(rd, scope, published_by, bytes, len,
	    e);
}

int
store_read_first(struct store_read *rd, time_t *first, int *any,
    struct muster_err *e)
{
	return STORE_OPS(rd)->read_first(rd, first, any, e);
}

int
store_rollup_scan(struct store_read *rd, enum store_scan what,
    const struct store_when *w, struct store_cursor **cur, struct muster_err *e)
{
	return STORE_OPS(rd)->rollup_scan(rd, what, w, cur, e);
}

int
store_devices_scan(struct store_read *rd, const struct store_devq *q,
    struct store_cursor **cur, struct muster_err *e)
{
	return STORE_OPS(rd)->devices_scan(rd, q, cur, e);
}

int
store_devices_widths(struct store_read *rd, const struct store_devq *q,
    int len[3], struct muster_err *e)
{
	return STORE_OPS(rd)->devices_widths(rd, q, len, e);
}

int
store_cursor_next(struct store_cursor *cur, struct store_row *row,
    struct muster_err *e)
{
	return STORE_OPS(cur)->cursor_next(cur, row, e);
}

void
store_cursor_close(struct store_cursor *cur)
{
	if (cur != NULL)
		STORE_OPS(cur)->cursor_close(cur);
}

int
store_load_open(const char *dir, struct store_load **out, struct muster_err *e)
{
	return store_backend(dir)->load_open(dir, out, e);
}

int
store_load_finish(struct store_load *l, struct muster_err *e)
{
	return STORE_OPS(l)->load_finish(l, e);
}

void
store_load_close(struct store_load *l)
{
	if (l != NULL)
		STORE_OPS(l)->load_close(l);
}

int
store_load_profiles_published(struct store_load *l, time_t published,
    struct muster_err *e)
{
	return STORE_OPS(l)->load_profiles_published(l, published, e);
}

int
store_load_token(struct store_load *l, const char *id, time_t used,
    time_t expires, struct muster_err *e)
{
	return STORE_OPS(l)->load_token(l, id, used, expires, e);
}

int
store_load_device(struct store_load *l, const struct store_load_device *d,
    struct muster_err *e)
{
	return STORE_OPS(l)->load_device(l, d, e);
}

int
store_load_report(struct store_load *l, const struct store_load_report *r,
    struct muster_err *e)
{
	return STORE_OPS(l)->load_report(l, r, e);
}

int
store_load_status(struct store_load *l, const char *device, time_t time,
    int64_t seq, time_t received, int compliant, struct muster_err *e)
{
	return STORE_OPS(l)->load_status(l, device, time, seq, received,
	    compliant, e);
}

int
store_load_failing_change(struct store_load *l, const char *device,
    const char *rule, time_t time, int64_t seq, int failing,
    struct muster_err *e)
{
	return STORE_OPS(l)->load_failing_change(l, device, rule, time, seq,
	    failing, e);
}

int
store_load_failing(struct store_load *l, const char *device, const char *rule,
    time_t since, struct muster_err *e)
{
	return STORE_OPS(l)->load_failing(l, device, rule, since, e);
}

int
store_load_try(const char *dir, const char *stmt, struct muster_err *e)
{
	return store_backend(dir)->load_try(dir, stmt, e);
}

int
store_doc_put(struct store *st, const char *name, int64_t version,
    const char *bytes, size_t len, int *stored, struct muster_err *e)
{
	return STORE_OPS(st)->doc_put(st, name, version, bytes, len, stored,
	    e);
}

int
store_doc_get(struct store *st, const char *name, char **bytes, size_t *len,
    int64_t *version, struct muster_err *e)
{
	return STORE_OPS(st)->doc_get(st, name, bytes, len, version, e);
}

int
store_generation(struct store *st, int64_t *gen, struct muster_err *e)
{
	return STORE_OPS(st)->generation(st, gen, e);
}

int
store_fleet_scan(struct store_read *rd, const int64_t stale_before[2],
    store_fleet_fn fn, void *cls, struct muster_err *e)
{
	return STORE_OPS(rd)->fleet_scan(rd, stale_before, fn, cls, e);
}

int
store_disk_usage(const char *data_dir, int64_t *db, int64_t *wal,
    struct muster_err *e)
{
	return store_backend(data_dir)->disk_usage(data_dir, db, wal, e);
}

int
store_adm_open(const char *dir, int readonly, struct store_adm **out,
    struct muster_err *e)
{
	return store_backend(dir)->adm_open(dir, readonly, out, e);
}

void
store_adm_close(struct store_adm *sa)
{
	if (sa != NULL)
		STORE_OPS(sa)->adm_close(sa);
}

int
store_admin_list(struct store_adm *sa, struct store_admin **list, size_t *n,
    struct muster_err *e)
{
	return STORE_OPS(sa)->admin_list(sa, list, n, e);
}

int
store_admin_add(struct store_adm *sa, const struct store_admin *a,
    struct muster_err *e)
{
	return STORE_OPS(sa)->admin_add(sa, a, e);
}

int
store_admin_rotate(struct store_adm *sa, const char *name,
    const unsigned char hash[STORE_HASH_LEN], time_t when, struct muster_err *e)
{
	return STORE_OPS(sa)->admin_rotate(sa, name, hash, when, e);
}

int
store_admin_remove(struct store_adm *sa, const char *name, struct muster_err *e)
{
	return STORE_OPS(sa)->admin_remove(sa, name, e);
}

int
store_admin_bootstrap(struct store_adm *sa, const struct store_admin *a,
    int *added, struct muster_err *e)
{
	return STORE_OPS(sa)->admin_bootstrap(sa, a, added, e);
}

int
store_audit_append(struct store_adm *sa, struct store_audit_entry *a,
    store_audit_seal_fn seal, void *arg, struct muster_err *e)
{
	return STORE_OPS(sa)->audit_append(sa, a, seal, arg, e);
}

int
store_audit_scan(struct store_adm *sa, int64_t from,
    int (*fn)(const struct store_audit_entry *, void *), void *arg,
    struct muster_err *e)
{
	return STORE_OPS(sa)->audit_scan(sa, from, fn, arg, e);
}

int
store_audit_last(struct store_adm *sa, int64_t *seq,
    unsigned char hash[STORE_HASH_LEN], struct muster_err *e)
{
	return STORE_OPS(sa)->audit_last(sa, seq, hash, e);
}

int
store_audit_ckpt_put(struct store_adm *sa, const struct store_audit_ckpt *ck,
    struct muster_err *e)
{
	return STORE_OPS(sa)->audit_ckpt_put(sa, ck, e);
}

int
store_audit_ckpts(struct store_adm *sa, struct store_audit_ckpt **list,
    size_t *n, struct muster_err *e)
{
	return STORE_OPS(sa)->audit_ckpts(sa, list, n, e);
}

int
store_family_scan(struct store_read *rd, const struct store_when *w,
    struct store_cursor **cur, struct muster_err *e)
{
	return STORE_OPS(rd)->family_scan(rd, w, cur, e);
}

void
store_retention_set(struct store *st, int64_t seconds)
{
	STORE_OPS(st)->retention_set(st, seconds);
}

int
store_prune_wait(struct store *st, time_t now)
{
	return STORE_OPS(st)->prune_wait(st, now);
}

int
store_prune(struct store *st, time_t now, size_t max, size_t *pruned, int *more,
    struct muster_err *e)
{
	return STORE_OPS(st)->prune(st, now, max, pruned, more, e);
}

int
store_backup(const char *dir, const char *path, int64_t *bytes,
    struct muster_err *e)
{
	return store_backend(dir)->backup(dir, path, bytes, e);
}

int
store_device_reregister(struct store *st, const struct store_device *d,
    time_t expires, enum store_put *res, struct muster_err *e)
{
	return STORE_OPS(st)->device_reregister(st, d, expires, res, e);
}

int
store_ping(struct store *st, struct muster_err *e)
{
	return STORE_OPS(st)->ping(st, e);
}

int
store_read_device(struct store_read *rd, const char *id,
    struct store_device_info *d, struct muster_err *e)
{
	return STORE_OPS(rd)->read_device(rd, id, d, e);
}

int
store_device_history(struct store_read *rd, const char *id, size_t max,
    store_history_fn fn, void *arg, struct muster_err *e)
{
	return STORE_OPS(rd)->device_history(rd, id, max, fn, arg, e);
}

int
store_devices_page(struct store_read *rd, const struct store_devq *q,
    int64_t offset, int64_t limit, struct store_cursor **cur,
    struct muster_err *e)
{
	return STORE_OPS(rd)->devices_page(rd, q, offset, limit, cur, e);
}

int
store_count_stale_policy(struct store_read *rd, int64_t *n,
    struct muster_err *e)
{
	return STORE_OPS(rd)->count_stale_policy(rd, n, e);
}

int
store_model_units(struct store_read *rd, const char *part, size_t max,
    store_model_unit_fn fn, void *arg, struct muster_err *e)
{
	return STORE_OPS(rd)->model_units(rd, part, max, fn, arg, e);
}

int
store_read_report(struct store_read *rd, const char *id, int64_t seq,
    struct store_proof *p, struct muster_err *e)
{
	return STORE_OPS(rd)->read_report(rd, id, seq, p, e);
}

/* Backend-independent: the body is malloc'd by either backend. */
void
store_proof_clear(struct store_proof *p)
{
	if (p == NULL)
		return;
	free(p->body);
	p->body = NULL;
	p->len = 0;
}
