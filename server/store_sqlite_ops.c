/* store_sqlite_ops: the SQLite backend's table for store.c. */
#include "store_sqlite.h"
#include "store_rules.h"

/*
 * One server per SQLite store: its trust documents stay in
 * data_dir/trust, and nothing needs to watch for other servers.
 */
static int
no_docs(struct muster_err *e)
{
	return err_set(e, MUSTER_EUSAGE, "store: an SQLite store keeps no "
	    "shared documents (data_dir/trust holds them)");
}

static int
sqlite_doc_put(struct store *st, const char *name, int64_t version,
    const char *bytes, size_t len, int *stored, struct muster_err *e)
{
	(void)st;
	(void)name;
	(void)version;
	(void)bytes;
	(void)len;
	*stored = 0;
	return no_docs(e);
}

static int
sqlite_doc_get(struct store *st, const char *name, char **bytes,
    size_t *len, int64_t *version, struct muster_err *e)
{
	(void)st;
	(void)name;
	*bytes = NULL;
	*len = 0;
	*version = 0;
	return no_docs(e);
}

static int
sqlite_generation(struct store *st, int64_t *gen, struct muster_err *e)
{
	(void)st;
	*gen = 0;
	return no_docs(e);
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = store_sqlite_open,
	.close = store_sqlite_close,
	.begin = store_sqlite_begin,
	.commit = store_sqlite_commit,
	.rollback = store_sqlite_rollback,
	.savepoint = store_sqlite_savepoint,
	.release = store_sqlite_release,
	.rollback_savepoint = store_sqlite_rollback_savepoint,
	.device_add = store_sqlite_device_add,
	.consent_add = store_sqlite_consent_add,
	.consent_replace = store_sqlite_consent_replace,
	.device_get = store_sqlite_device_get,
	.report_put = store_sqlite_report_put,
	.revoke = store_sqlite_revoke,
	.revoke_used = store_sqlite_revoke_used,
	.token_revoked = store_sqlite_token_revoked,
	.token_get = store_sqlite_token_get,
	.device_delete = store_sqlite_device_delete,
	.scrub = store_sqlite_scrub,
	.scrub_pending = store_sqlite_scrub_pending,
	.profile_put = store_rules_profile_put,
	.profile_publish = store_sqlite_profile_publish,
	.profile_current = store_sqlite_profile_current,
	.profile_find = store_sqlite_profile_find,
	.profile_get = store_sqlite_profile_get,
	.count_devices = store_sqlite_count_devices,
	.count_reports = store_sqlite_count_reports,
	.read_open = store_sqlite_read_open,
	.read_close = store_sqlite_read_close,
	.read_begin = store_sqlite_read_begin,
	.read_end = store_sqlite_read_end,
	.read_profile = store_sqlite_read_profile,
	.read_first = store_sqlite_read_first,
	.rollup_scan = store_sqlite_rollup_scan,
	.devices_scan = store_sqlite_devices_scan,
	.devices_widths = store_sqlite_devices_widths,
	.cursor_next = store_sqlite_cursor_next,
	.cursor_close = store_sqlite_cursor_close,
	.load_open = store_sqlite_load_open,
	.load_finish = store_sqlite_load_finish,
	.load_close = store_sqlite_load_close,
	.load_profiles_published = store_sqlite_load_profiles_published,
	.load_token = store_sqlite_load_token,
	.load_device = store_sqlite_load_device,
	.load_report = store_sqlite_load_report,
	.load_status = store_sqlite_load_status,
	.load_failing_change = store_sqlite_load_failing_change,
	.load_failing = store_sqlite_load_failing,
	.load_try = store_sqlite_load_try,
	.doc_put = sqlite_doc_put,
	.doc_get = sqlite_doc_get,
	.generation = sqlite_generation,
	.fleet_scan = store_sqlite_fleet_scan,
	.disk_usage = store_sqlite_disk_usage,
	.adm_open = store_sqlite_adm_open,
	.adm_close = store_sqlite_adm_close,
	.admin_list = store_sqlite_admin_list,
	.admin_add = store_sqlite_admin_add,
	.admin_rotate = store_sqlite_admin_rotate,
	.admin_remove = store_sqlite_admin_remove,
	.admin_bootstrap = store_sqlite_admin_bootstrap,
	.audit_append = store_sqlite_audit_append,
	.audit_scan = store_sqlite_audit_scan,
	.audit_last = store_sqlite_audit_last,
	.audit_ckpt_put = store_sqlite_audit_ckpt_put,
	.audit_ckpts = store_sqlite_audit_ckpts,
	.family_scan = store_sqlite_family_scan,
	.retention_set = store_sqlite_retention_set,
	.prune_wait = store_sqlite_prune_wait,
	.prune = store_sqlite_prune,
	.backup = store_sqlite_backup,
	.device_reregister = store_sqlite_device_reregister,
	.ping = store_sqlite_ping,
	.read_device = store_sqlite_read_device,
	.device_history = store_sqlite_device_history,
	.devices_page = store_sqlite_devices_page,
	.count_stale_policy = store_sqlite_count_stale_policy,
	.model_units = store_sqlite_model_units,
	.read_report = store_sqlite_read_report,
};
