/* serve: check a configuration, or serve it; see serve.h. */
#include <stdio.h>
#include <sys/stat.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/log.h"
#include "config.h"
#include "daemon.h"
#include "front.h"
#include "serve.h"
#include "srv.h"

/*
 * The configuration at path into *cfg with the process made ready for it
 * (libsodium is initialised by the caller): umask, signals blocked before any thread starts (only sigwait sees
 * them), root:GROUP 0640 secrets accepted where GROUP is the server's
 * user's.
 */
static int
serve_load(const char *path, struct config **cfg, struct muster_err *e)
{
	gid_t gid;
	int rc;

	umask(077);
	if ((rc = srv_block_signals(e)) != 0 ||
	    (rc = config_load(path, cfg, e)) != 0)
		return rc;
	if (config_service_group(*cfg, &gid) == 0)
		fs_private_group(gid);
	return 0;
}

int
serve_check(const char *path)
{
	struct muster_err e;
	struct config *cfg = NULL;
	char warn[ERR_MSG_MAX], mwarn[ERR_MSG_MAX];
	int rc, warned, mwarned;

	if ((rc = serve_load(path, &cfg, &e)) != 0)
		return cli_fail(rc, &e);
	log_init(SRV_PROG, 0, LOG_LVL_ERROR);
	/* Said before srv_check, which takes cfg. */
	warned = config_admin_warning(cfg, warn, sizeof warn);
	mwarned = config_memory_warning(cfg, mwarn, sizeof mwarn);
	if ((rc = srv_check(cfg, &e)) != 0)
		return cli_fail(rc, &e);
	if (warned)
		fprintf(stderr, "%s: warning: %s\n", SRV_PROG, warn);
	if (mwarned)
		fprintf(stderr, "%s: warning: %s\n", SRV_PROG, mwarn);
	printf("%s: configuration ok\n", path);
	return 0;
}

/* The log and access log files of cfg, opened as the server's user. */
static int
open_logs(const struct config *cfg, struct muster_err *e)
{
	int rc;

	if (cfg->log_file != NULL && (rc = log_file(cfg->log_file, e)) != 0)
		return rc;
	return log_access_open(cfg->access_log, e);
}

int
serve_run(const char *path)
{
	struct muster_err e;
	struct config *cfg = NULL;
	struct front *f = NULL;
	struct srv *s = NULL;
	char warn[ERR_MSG_MAX];
	int rc, stayed = 0;

	if ((rc = serve_load(path, &cfg, &e)) != 0)
		return cli_fail(rc, &e);
	log_init(SRV_PROG, cfg->log_syslog, cfg->log_level);
	if (config_admin_warning(cfg, warn, sizeof warn))
		log_warn("%s", warn);
	if (config_memory_warning(cfg, warn, sizeof warn))
		log_warn("%s", warn);
	/* Bound as root (a port below 1024), then root is gone for good. */
	if ((rc = front_bind(cfg, &f, &e)) != 0 ||
	    (rc = daemon_drop(config_user(cfg), &stayed, &e)) != 0 ||
	    (rc = open_logs(cfg, &e)) != 0) {
		log_error("%s", e.msg);
		front_free(f);
		config_free(cfg);
		log_close();
		return err_exit_code(rc);
	}
	if (stayed)
		log_warn("running as root: no user to become (set user in %s)",
		    path);
	if ((rc = srv_init(cfg, &s, &e)) != 0 ||
	    (rc = srv_listen(s, f, &e)) != 0) {
		log_error("%s", e.msg);
		if (s == NULL)
			front_free(f);
		srv_free(s);
		log_close();
		return err_exit_code(rc);
	}
	srv_wait(s);
	srv_free(s);
	log_info("stopped");
	log_close();
	return 0;
}
