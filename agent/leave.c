/* leave: `muster-agent unenroll` and the queued request; see agent/leave.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "call.h"
#include "cmd.h"
#include "clock.h"
#include "consent.h"
#include "devkey.h"
#include "leave.h"
#include "net.h"
#include "rrmemo.h"
#include "rereg.h"
#include "spool.h"
#include "state.h"

#define TMP_INFIX	".tmp."		/* lib/fs.c's temporary files */

static const char unenroll_usage[] =
"usage: muster-agent [--state DIR] unenroll\n"
"\n"
"Leaves the organisation, at any time: asks the server to delete this\n"
"device, its reports, its history and (family) its consent receipt,\n"
"then wipes the agent's state: the device key is overwritten before it\n"
"is removed, then the profiles, reports, consent and configuration; the\n"
"directory goes too unless it holds files the agent did not make.\n"
"\n"
"The signed request is queued in STATE/leaving before it is sent.  If\n"
"the server cannot be reached it stays queued (exit 75): the agent then\n"
"reports nothing, `muster-agent run` sends the request again before\n"
"anything else, and so does a later unenroll.  `check` still works.  A\n"
"state that was never enrolled with a server is wiped at once.\n"
"\n"
"Exit 0 left and wiped; 75 queued (server unreachable); 77 the server's\n"
"key does not match the pin or it refused the signature (queued); 78 bad\n"
"state.\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

int
leave_pending(const char *dir, struct muster_err *e)
{
	struct stat st;
	char *p;
	int r;

	/*
	 * In doubt, neither: a "yes" would have run send (and so queue) an
	 * unenroll request nobody asked for, a "no" would send reports.
	 */
	if ((p = fs_path(dir, STATE_LEAVING)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (lstat(p, &st) == 0)
		r = 1;
	else if (errno == ENOENT)
		r = 0;
	else
		r = err_sys(e, MUSTER_EIO, "%s", p);
	free(p);
	return r;
}

/*
 * The queued request: *body (malloc'd, NUL-terminated) as signed, if the
 * file holds a request of this device that sk's signature verifies.
 * MUSTER_ENOINPUT when none is queued or it is damaged.
 */
static int
queued(const char *dir, const struct state_cfg *c,
    const struct sig_seckey *sk, char **body, struct muster_err *e)
{
	char *path, *buf = NULL, *nl, *b = NULL, want[64];
	size_t len = 0, blen;
	int rc;

	*body = NULL;
	if ((path = fs_path(dir, STATE_LEAVING)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = fs_read_file(path, LEAVE_MAX, &buf, &len, e)) != 0)
		goto out;
	rc = MUSTER_ENOINPUT;
	snprintf(want, sizeof want, "{\"device\":\"%s\",", c->device_id);
	if (len == 0 || buf[len - 1] != '\n' ||
	    (nl = memchr(buf, '\n', len)) == NULL || nl == buf + len - 1)
		goto out;
	*nl = '\0';
	blen = (size_t)(buf + len - 1 - (nl + 1));
	if (strncmp(nl + 1, want, strlen(want)) != 0 ||
	    devkey_verify(sk, nl + 1, blen, buf) != 0 ||
	    (b = strndup(nl + 1, blen)) == NULL)
		goto out;
	*body = b;
	rc = 0;
out:
	free(buf);
	free(path);
	return rc;
}

/* Builds, signs and queues a new request into *body (malloc'd). */
static int
queue(const char *dir, const struct state_cfg *c,
    const struct sig_seckey *sk, char **body, struct muster_err *e)
{
	char t[TIMEFMT_LEN], sig[DEVKEY_SIG_B64], *path = NULL, *file = NULL;
	int rc;

	*body = NULL;
	timefmt_format(time(NULL), t);
	if (asprintf(body, "{\"device\":\"%s\",\"time\":\"%s\"}",
	    c->device_id, t) == -1) {
		*body = NULL;
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	devkey_sign(sk, *body, strlen(*body), sig);
	if ((path = fs_path(dir, STATE_LEAVING)) == NULL ||
	    asprintf(&file, "%s\n%s\n", sig, *body) == -1) {
		file = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = fs_write_atomic(path, file, strlen(file), 0600, e);
out:
	if (rc != 0) {
		free(*body);
		*body = NULL;
	}
	free(file);
	free(path);
	return rc;
}

int
leave_send(const char *dir, const struct state_cfg *c, unsigned *status,
    struct muster_err *e)
{
	struct net_response rs;
	struct sig_seckey *sk = NULL;
	char *body = NULL, why[ERR_MSG_MAX], server[URL_MAX + 1];
	char pins[ROOT_PINS_CURL_MAX];
	int rc, kept = 0;

	*status = 0;
	memset(&rs, 0, sizeof rs);
	if ((rc = state_endpoint(dir, c, server, pins, e)) != 0 ||
	    (rc = devkey_load(dir, &sk, e)) != 0)
		goto out;
	/* Queued before it is sent: an outage or a crash loses nothing. */
	if ((rc = queued(dir, c, sk, &body, e)) == MUSTER_ENOINPUT)
		rc = queue(dir, c, sk, &body, e);
	if (rc != 0)
		goto out;
	rc = call_post(server, pins, c->device_id, sk,
	    PROTO_PATH_UNENROLL, body, strlen(body), &rs, e);
	if (rc == 0)
		rc = net_outcome_rc(&rs, e);
	if (rc == 0) {
		switch (rs.status) {
		case 200:
		case 403:
			break;
		case 401:
			rc = err_set(e, MUSTER_ETRUST, "server refused the "
			    "device's signature (HTTP 401)");
			break;
		case 400:
		case 413:
		case 415:
			rc = err_set(e, MUSTER_EDATA, "server refused the "
			    "unenroll request (HTTP %u)", rs.status);
			break;
		default:
			rc = err_set(e, MUSTER_ETEMP, "server answered HTTP %u",
			    rs.status);
			break;
		}
	}
	if (rc == MUSTER_ETEMP || rc == MUSTER_ETRUST || rc == MUSTER_EDATA) {
		snprintf(why, sizeof why, "%s", e->msg);
		err_set(e, rc, "%.300s; the unenroll request stays queued in "
		    "%.100s/%s: run unenroll again later", why, dir,
		    STATE_LEAVING);
		goto out;
	}
	if (rc != 0)
		goto out;
	*status = rs.status;
	sig_seckey_free(sk);
	sk = NULL;
	rc = leave_wipe(dir, &kept, e);
out:
	net_response_free(&rs);
	sig_seckey_free(sk);
	free(body);
	return rc;
}

/* 1 if name is one of names, or a temporary file of one. */
static int
ours(const char *name, const char *const *names, size_t n)
{
	size_t i, l;

	for (i = 0; i < n; i++) {
		l = strlen(names[i]);
		if (strncmp(name, names[i], l) == 0 && (name[l] == '\0' ||
		    strncmp(name + l, TMP_INFIX, strlen(TMP_INFIX)) == 0))
			return 1;
	}
	return 0;
}

/* Unlinks every entry of dir/sub (not following links), then the dir. */
static void
wipe_sub(const char *dir, const char *sub)
{
	struct dirent *de;
	char *d, *p;
	DIR *dp;

	if ((d = fs_path(dir, sub)) == NULL)
		return;
	if ((dp = opendir(d)) != NULL) {
		while ((de = readdir(dp)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((p = fs_path(d, de->d_name)) != NULL)
				unlink(p);
			free(p);
		}
		closedir(dp);
	}
	rmdir(d);
	free(d);
}

int
leave_wipe(const char *dir, int *kept, struct muster_err *e)
{
	static const char *const files[] = { STATE_CFG, STATE_ANCHOR,
	    STATE_LASTCHECK, SPOOL_SEQ_FILE, SPOOL_DROPPED_FILE, CONSENT_FILE,
	    CONSENT_TEXT_FILE, STATE_CONSENTED, STATE_ROOT, STATE_MANIFEST,
	    STATE_LEAVING, DEVKEY_FILE, RRMEMO_FILE, REREG_FILE, CLOCK_FILE,
	    STATE_TLS_SESSION, STATE_LOCK };
	static const char *const subs[] = { STATE_PROFILES, SPOOL_PENDING_DIR,
	    SPOOL_SENT_DIR };
	struct dirent *de;
	DIR *dp;
	char *p;
	size_t i;
	int rc;

	*kept = 0;
	if ((rc = devkey_wipe(dir, e)) != 0 && rc != MUSTER_ENOINPUT)
		return rc;
	if ((rc = rrmemo_wipe(dir, e)) != 0)
		return rc;
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++)
		wipe_sub(dir, subs[i]);
	if ((dp = opendir(dir)) == NULL)
		return err_sys(e, MUSTER_EIO, "%s", dir);
	while ((de = readdir(dp)) != NULL) {
		if (!ours(de->d_name, files, sizeof files / sizeof files[0]))
			continue;
		if ((p = fs_path(dir, de->d_name)) != NULL)
			unlink(p);
		free(p);
	}
	closedir(dp);
	if (rmdir(dir) == -1 && errno != ENOENT)
		*kept = 1;
	return 0;
}

int
leave_cmd(struct cmd_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct muster_err e = { 0 };
	struct state_cfg c;
	unsigned status = 0;
	int ex, rc, lockfd = -1, kept = 0;

	if (cmd_getopt_noargs(o, argc, argv, "", opts, unenroll_usage, NULL,
	    NULL, &ex) != 0)
		return ex;
	/* A running agent holds the lock for one cycle at most: wait. */
	if ((rc = state_open(o->state, 0, &e)) != 0 ||
	    (rc = state_lock(o->state, 1, &lockfd, &e)) != 0 ||
	    (rc = state_cfg_load(o->state, &c, &e)) != 0)
		goto out;
	if (c.device_id[0] == '\0') {
		if ((rc = leave_wipe(o->state, &kept, &e)) == 0)
			printf("not enrolled with a server; the local state %s "
			    "was wiped\n", o->state);
		goto out;
	}
	if ((rc = leave_send(o->state, &c, &status, &e)) != 0)
		goto out;
	if (status == 200)
		printf("unenrolled device %s: the server deleted its data; "
		    "the local state %s was wiped\n", c.device_id, o->state);
	else
		printf("unenrolled device %s: the server no longer knows it or "
		    "keeps it as revoked (HTTP 403); the local state %s was "
		    "wiped\n", c.device_id, o->state);
	/* rmdir failed: the directory holds files the agent did not make. */
	kept = kept || access(o->state, F_OK) == 0;
out:
	if (kept)
		fprintf(stderr, "%s: note: %s holds files muster-agent did not "
		    "make; left in place\n", CMD_PROG, o->state);
	if (lockfd != -1)
		close(lockfd);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
