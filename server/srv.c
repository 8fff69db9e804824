/* srv: the command server's state, start, reload and clean stop; srv.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/buf.h"
#include "muster/fs.h"
#include "muster/log.h"
#include "admins.h"
#include "audit.h"
#include "daemon.h"
#include "front.h"
#include "http.h"
#include "metrics.h"
#include "srv.h"
#include "srvsync.h"

#define SRV_PEM_MAX	(64 * 1024)

struct srv_reader {
	struct store		*st;
	struct srv_reader	*next;
};

struct srv_oldcfg {
	struct config		*cfg;
	struct srv_oldcfg	*next;
};

struct config *
srv_config(struct srv *s)
{
	return __atomic_load_n(&s->cfg, __ATOMIC_ACQUIRE);
}

static void
srv_log_key(const char *what, const struct sig_pubkey *pk, const char *path)
{
	char id[SIG_KEYID_HEX];

	sig_keyid_hex(pk->keyid, id);
	log_info("%s org key %s from %s", what, id, path);
}

/* Reads a PEM file, refusing one that is not PEM of the expected kind. */
static int
pem_load(const char *path, const char *marker, int private, char **out,
    size_t *outlen, struct muster_err *e)
{
	char *buf = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = private ? fs_read_private(path, SRV_PEM_MAX, &buf, &len, e) :
	    fs_read_file(path, SRV_PEM_MAX, &buf, &len, e);
	if (rc != 0)
		return MUSTER_ECONFIG;
	if (strstr(buf, "-----BEGIN ") == NULL || strstr(buf, marker) == NULL) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: not a PEM %s", path,
		    private ? "private key" : "certificate");
		goto out;
	}
	if (private) {
		/* MHD reads the key from memory; keep it in sodium memory. */
		if ((*out = sodium_malloc(len + 1)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		memcpy(*out, buf, len + 1);
	} else {
		*out = buf;
		buf = NULL;
	}
	*outlen = len;
	rc = 0;
out:
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	return rc;
}

/* The line where cfg sets field (a path), 0 if not known. */
static int
srv_cfg_line(const struct config *cfg, const char *field)
{
	if (strcmp(field, "tls_cert") == 0)
		return cfg->tls_cert_line;
	if (strcmp(field, "tls_key") == 0)
		return cfg->tls_key_line;
	if (strcmp(field, "org_key") == 0)
		return cfg->org_key_line;
	if (strcmp(field, "root_dir") == 0)
		return cfg->root_dir_line;
	if (strcmp(field, "data_dir") == 0)
		return cfg->data_dir_line;
	return 0;
}

/*
 * Rewrites e as "CONFIG:LINE: FIELD: what went wrong", a configuration
 * error.
 */
static int
srv_cfg_err(struct muster_err *e, const struct config *cfg, const char *field)
{
	char msg[ERR_MSG_MAX];
	int line = srv_cfg_line(cfg, field);

	snprintf(msg, sizeof msg, "%s", e->msg);
	if (line > 0)
		return err_set(e, MUSTER_ECONFIG, "%s:%d: %s: %s", cfg->path,
		    line, field, msg);
	return err_set(e, MUSTER_ECONFIG, "%s: %s: %s", cfg->path, field,
	    msg);
}

int
srv_block_signals(struct muster_err *e)
{
	sigset_t set;
	int rc;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return err_sys(e, MUSTER_EOS, "signal");
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if ((rc = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0) {
		errno = rc;
		return err_sys(e, MUSTER_EOS, "pthread_sigmask");
	}
	return 0;
}

int
srv_init(struct config *cfg, struct srv **out, struct muster_err *e)
{
	struct srv *s;
	size_t len;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof *s)) == NULL) {
		config_free(cfg);
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	s->cfg = cfg;
	pthread_mutex_init(&s->prof_mu, NULL);
	pthread_mutex_init(&s->gen_mu, NULL);
	pthread_mutex_init(&s->readers_mu, NULL);
	if ((rc = pthread_key_create(&s->reader_key, NULL)) != 0) {
		free(s);
		config_free(cfg);
		return err_set(e, MUSTER_EINTERNAL, "pthread_key_create");
	}
	if (cfg->org_key != NULL) {
		struct sig_pubkey pk;

		if ((rc = sig_pubkey_load(cfg->org_key, &pk, e)) != 0) {
			rc = srv_cfg_err(e, cfg, "org_key");
			goto out;
		}
		srv_log_key("loaded", &pk, cfg->org_key);
	}
	if ((rc = pem_load(cfg->tls_cert, "CERTIFICATE-----", 0, &s->tls_cert,
	    &len, e)) != 0) {
		rc = srv_cfg_err(e, cfg, "tls_cert");
		goto out;
	}
	/* For /metrics: the PEM itself is freed once the server starts. */
	if (metrics_cert_not_after(s->tls_cert, &s->cert_not_after) != 0)
		s->cert_not_after = 0;
	if ((rc = pem_load(cfg->tls_key, "PRIVATE KEY-----", 1, &s->tls_key,
	    &s->tls_key_len, e)) != 0) {
		rc = srv_cfg_err(e, cfg, "tls_key");
		goto out;
	}
	if ((rc = store_open(config_store(cfg), 0, &s->wst, e)) != 0) {
		if (rc == MUSTER_ECONFIG)
			rc = srv_cfg_err(e, cfg, "data_dir");
		goto out;
	}
	store_retention_set(s->wst, cfg->report_retention);
	if ((rc = writer_start(s->wst, &s->writer, e)) != 0)
		goto out;
	if ((rc = admins_open(config_store(cfg), cfg->data_dir,
	    cfg->admin_hash, 1, &s->audit, e)) != 0)
		goto out;
	if ((rc = trust_open(cfg->root_dir, cfg->org_key, cfg->data_dir,
	    &s->trust, e)) != 0) {
		if (rc == MUSTER_ECONFIG)
			rc = srv_cfg_err(e, cfg, cfg->root_dir != NULL ?
			    "root_dir" : "org_key");
		goto out;
	}
	if ((rc = srvsync_attach(s, e)) != 0)
		goto out;
	s->watched = time(NULL);
	trust_manifest_watch(s->trust, s->watched, cfg->manifest_warn);
	if ((rc = srv_profile_reload(s, SCOPE_PERSONNEL, e)) != 0 ||
	    (rc = srv_profile_reload(s, SCOPE_FAMILY, e)) != 0)
		goto out;
	*out = s;
	s = NULL;
out:
	srv_free(s);
	return rc;
}

static void
srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct srv *s = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	/* MHD says so when it closes a connection over a limit. */
	if (strstr(msg, "reached connection limit") != NULL)
		metrics_refused(MREF_CONNECTION_LIMIT);
	/*
	 * While a generation starts (on the main thread), what MHD says
	 * first explains a failure: kept for the error srv_gen returns.
	 */
	if (__atomic_load_n(&s->starting, __ATOMIC_RELAXED)) {
		if (s->start_msg[0] == '\0')
			snprintf(s->start_msg, sizeof s->start_msg, "%s", msg);
		log_debug("http: %s", msg);
	}
	else
		log_debug("http: %s", msg);
}

/* Starts a generation with cert and key (not swapped in yet). */
static int
srv_gen(struct srv *s, const struct config *cfg, const char *cert,
    const char *key, struct http_gen **g, struct muster_err *e)
{
	int rc;

	char msg[ERR_MSG_MAX];

	s->start_msg[0] = '\0';
	__atomic_store_n(&s->starting, 1, __ATOMIC_RELAXED);
	rc = http_gen_start(s, cfg, cert, key, cfg->admin_separate, srv_mhd_log,
	    g, e);
	__atomic_store_n(&s->starting, 0, __ATOMIC_RELAXED);
	if (rc != 0 && s->start_msg[0] != '\0' && e != NULL) {
		snprintf(msg, sizeof msg, "%s", e->msg);
		rc = err_set(e, rc, "%s: %s", msg, s->start_msg);
	}
	return rc;
}

/* Wipes and frees the TLS identity read by srv_init or a reload. */
static void
srv_tls_free(char **cert, char **key)
{
	free(*cert);
	*cert = NULL;
	sodium_free(*key);
	*key = NULL;
}

int
srv_listen(struct srv *s, struct front *f, struct muster_err *e)
{
	const struct config *c = s->cfg;
	struct http_gen *g = NULL;
	size_t i;
	int rc;

	s->front = f;
	/* Check-ins on their way share the fsync of one batch. */
	writer_siblings(s->writer, front_fresh, f);
	if ((rc = srv_gen(s, c, s->tls_cert, s->tls_key, &g, e)) != 0)
		return rc;
	srv_tls_free(&s->tls_cert, &s->tls_key);
	http_gen_swap(s, g);
	if ((rc = front_start(f, s, e)) != 0)
		return rc;
	for (i = 0; i < c->nlisten; i++)
		log_info("listening on https://%s (%s)", c->listen[i].text,
		    c->listen[i].admin && c->admin_separate ? "admin" :
		    c->admin_separate ? "devices" : "devices and admin");
	log_info("%u threads, request_timeout %us, half-open at most %u "
	    "(%u per address, %u per network)", c->limits.threads,
	    c->limits.request_timeout, c->limits.max_half_open,
	    c->limits.max_half_open_per_ip, c->limits.max_half_open_per_net);
	return 0;
}

int
srv_check(struct config *cfg, struct muster_err *e)
{
	struct http_gen *g = NULL;
	struct srv *s = NULL;
	const char *user = config_user(cfg);
	gid_t gid;
	int rc, stayed;

	if (cfg->user != NULL && config_service_group(cfg, &gid) != 0) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: user %s: no such user",
		    cfg->path, cfg->user);
		config_free(cfg);
		return rc;
	}
	/*
	 * As the user it will run as: what that user cannot read fails
	 * here, as it would at a start.
	 */
	if ((rc = daemon_drop(user, &stayed, e)) != 0) {
		config_free(cfg);
		return rc;
	}
	/* Everything srv_init loads, the store included. */
	if ((rc = srv_init(cfg, &s, e)) != 0)
		return rc;
	/* The TLS identity as MHD (GnuTLS) takes it: the key must match. */
	rc = srv_gen(s, s->cfg, s->tls_cert, s->tls_key, &g, e);
	http_gen_free(g);
	srv_free(s);
	return rc;
}

int
srv_health(struct srv *s, struct muster_err *e)
{
	struct store *st;
	int rc;

	if ((rc = srv_reader(s, &st, e)) != 0)
		return rc;
	return store_ping(st, e);
}

void
srv_wait(struct srv *s)
{
	struct muster_err e;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	(void)daemon_notify("READY=1\nSTATUS=serving");
	for (;;) {
		struct timespec ts = { SRV_WATCH_INTERVAL, 0 };
		time_t now = time(NULL);

		if (now - s->watched >= SRV_WATCH_INTERVAL || now < s->watched) {
			s->watched = now;
			trust_manifest_watch(s->trust, now,
			    srv_config(s)->manifest_warn);
		}
		ts.tv_sec = SRV_WATCH_INTERVAL - (now - s->watched);
		if (ts.tv_sec <= 0)
			ts.tv_sec = 1;
		if (ts.tv_sec > AUDIT_TICK)	/* refusal summaries due */
			ts.tv_sec = AUDIT_TICK;
		if (audit_tick(s->audit, &e) != 0)
			log_error("audit log: %s", e.msg);
		srvsync_tick(s, &ts);
		if ((sig = sigtimedwait(&set, NULL, &ts)) == -1)
			continue;
		if (sig != SIGHUP) {
			(void)daemon_notify("STOPPING=1");
			log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" :
			    "SIGINT");
			return;
		}
		(void)daemon_notify("RELOADING=1");
		log_info("SIGHUP: reloading %s", s->cfg->path);
		if (srv_reload(s, &e) != 0) {
			log_error("reload refused: %s (still serving what was "
			    "loaded before)", e.msg);
			(void)daemon_notify("READY=1\nSTATUS=reload refused; "
			    "serving the configuration loaded before");
		} else {
			log_info("reloaded");
			(void)daemon_notify("READY=1\nSTATUS=serving");
		}
	}
}

int
srv_reload(struct srv *s, struct muster_err *e)
{
	struct config *old = s->cfg, *nc = NULL;
	struct srv_oldcfg *oc = NULL;
	struct http_gen *g = NULL;
	struct sig_pubkey pk;
	char *cert = NULL, *key = NULL;
	const char *what;
	int64_t na;
	size_t len, klen;
	int rc;

	if ((rc = config_load(old->path, &nc, e)) != 0)
		goto out;
	if ((what = config_fixed_differs(old, nc)) != NULL ||
	    (what = (old->root_dir == NULL) != (nc->root_dir == NULL) ||
	    (old->root_dir != NULL && strcmp(old->root_dir,
	    nc->root_dir) != 0) ? "root_dir" : NULL) != NULL ||
	    (what = (old->org_key == NULL) != (nc->org_key == NULL) ||
	    (old->org_key != NULL && strcmp(old->org_key, nc->org_key) != 0) ?
	    "org_key" : NULL) != NULL) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: %s changed: that takes a "
		    "restart", nc->path, what);
		goto out;
	}
	if (nc->org_key != NULL) {
		if ((rc = sig_pubkey_load(nc->org_key, &pk, e)) != 0) {
			rc = srv_cfg_err(e, nc, "org_key");
			goto out;
		}
	}
	if ((rc = pem_load(nc->tls_cert, "CERTIFICATE-----", 0, &cert, &len,
	    e)) != 0) {
		rc = srv_cfg_err(e, nc, "tls_cert");
		goto out;
	}
	if ((rc = pem_load(nc->tls_key, "PRIVATE KEY-----", 1, &key, &klen,
	    e)) != 0) {
		rc = srv_cfg_err(e, nc, "tls_key");
		goto out;
	}
	if ((oc = calloc(1, sizeof *oc)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* The new identity and limits, ready before anything is swapped. */
	if ((rc = srv_gen(s, nc, cert, key, &g, e)) != 0)
		goto out;
	if ((rc = trust_reload(s->trust, e)) != 0)
		goto out;
	/* From here nothing fails: the new configuration is in force. */
	if (nc->org_key != NULL)
		srv_log_key("reloaded", &pk, nc->org_key);
	oc->cfg = old;
	oc->next = s->oldcfgs;
	s->oldcfgs = oc;
	oc = NULL;
	__atomic_store_n(&s->cfg, nc, __ATOMIC_RELEASE);
	nc = NULL;
	http_gen_swap(s, g);
	g = NULL;
	if (metrics_cert_not_after(cert, &na) == 0)
		__atomic_store_n(&s->cert_not_after, na, __ATOMIC_RELAXED);
	log_set_level(s->cfg->log_level);
	if (s->cfg->log_file != NULL && log_file(s->cfg->log_file, e) != 0)
		log_error("reload: %s (logging on in the file as it was)",
		    e->msg);
	if (s->cfg->access_log != NULL &&
	    log_access_open(s->cfg->access_log, e) != 0)
		log_error("reload: %s", e->msg);
	if ((rc = srv_profile_reload(s, SCOPE_PERSONNEL, e)) != 0 ||
	    (rc = srv_profile_reload(s, SCOPE_FAMILY, e)) != 0)
		goto out;
	s->watched = time(NULL);
	trust_manifest_watch(s->trust, s->watched, s->cfg->manifest_warn);
	rc = 0;
out:
	http_gen_free(g);
	srv_tls_free(&cert, &key);
	free(oc);
	config_free(nc);
	return rc;
}

int
srv_reader(struct srv *s, struct store **st, struct muster_err *e)
{
	struct srv_reader *r;
	int rc;

	if ((r = pthread_getspecific(s->reader_key)) != NULL) {
		*st = r->st;
		return 0;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = store_open(config_store(s->cfg), 1, &r->st, e)) != 0) {
		free(r);
		return rc;
	}
	if ((rc = pthread_setspecific(s->reader_key, r)) != 0) {
		store_close(r->st);
		free(r);
		return err_set(e, MUSTER_EINTERNAL, "pthread_setspecific");
	}
	pthread_mutex_lock(&s->readers_mu);
	r->next = s->readers;
	s->readers = r;
	pthread_mutex_unlock(&s->readers_mu);
	*st = r->st;
	return 0;
}

/* The JSON object a device gets for p (docs/protocol.md). */
static char *
profile_json(const struct store_profile *p, size_t *len)
{
	json_t *o;
	char *b64, *out = NULL;
	size_t n = sodium_base64_ENCODED_LEN(p->len,
	    sodium_base64_VARIANT_ORIGINAL);

	if ((b64 = malloc(n)) == NULL)
		return NULL;
	sodium_bin2base64(b64, n, (const unsigned char *)p->bytes, p->len,
	    sodium_base64_VARIANT_ORIGINAL);
	o = json_pack("{s:s,s:I,s:s,s:s}", "id", p->id, "serial",
	    (json_int_t)p->serial, "profile", b64, "signature", p->sig);
	if (o != NULL) {
		out = json_dumps(o, JSON_COMPACT);
		json_decref(o);
	}
	free(b64);
	if (out != NULL)
		*len = strlen(out);
	return out;
}

/*
 * The profiles the manifest m names, as the array text of GET /v1/policy
 * (FILE f), and the first one into *first (its bytes the caller's,
 * store_profile_clear) unless none is stored.  A named profile the store
 * does not hold, or holds with other bytes, is left out and logged: the
 * upload checks make that impossible short of a damaged store.
 */
static int
policy_profiles(struct store *st, const struct manifest *m, FILE *f,
    struct store_profile *first, struct muster_err *e)
{
	const struct manifest_entry *me;
	struct store_profile p;
	char hash[SIGSET_HASH_HEX], *json;
	size_t i, len, n = 0;
	int rc;

	memset(first, 0, sizeof *first);
	fputc('[', f);
	for (i = 0; i < m->nprofiles; i++) {
		me = &m->profiles[i];
		rc = store_profile_find(st, me->id, me->serial, &p, e);
		if (rc == MUSTER_ENOINPUT) {
			log_error("manifest %s version %lld names %s serial "
			    "%lld, which the server does not hold",
			    profile_scope_name(m->scope), (long long)m->version,
			    me->id, (long long)me->serial);
			continue;
		}
		if (rc != 0)
			return rc;
		sigset_hash_hex(p.bytes, p.len, hash);
		if (strcmp(hash, me->hash) != 0) {
			log_error("manifest %s version %lld: the stored %s "
			    "serial %lld is not the profile it names",
			    profile_scope_name(m->scope), (long long)m->version,
			    me->id, (long long)me->serial);
			store_profile_clear(&p);
			continue;
		}
		if ((json = profile_json(&p, &len)) == NULL) {
			store_profile_clear(&p);
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		}
		if (n++ > 0)
			fputc(',', f);
		fwrite(json, 1, len, f);
		free(json);
		if (n == 1)
			*first = p;
		else
			store_profile_clear(&p);
	}
	fputc(']', f);
	return 0;
}

int
srv_profile_reload(struct srv *s, enum profile_scope scope,
    struct muster_err *e)
{
	struct srv_profile *cur = &s->prof[scope];
	struct store_profile p;
	struct manifest m;
	struct store *st;
	FILE *f = NULL;
	char *json = NULL, *mjson = NULL, *policy = NULL;
	size_t len = 0, mlen = 0, plen = 0;
	int rc, have;

	memset(&p, 0, sizeof p);
	/* Held across the read, so the last reload to run is the newest. */
	pthread_mutex_lock(&s->prof_mu);
	if ((rc = srv_reader(s, &st, e)) != 0)
		goto out;
	if ((have = trust_manifest(s->trust, scope, &m, &mjson, &mlen)) < 0) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((f = open_memstream(&policy, &plen)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (have) {
		/* The manifest says what is served, never the newest row. */
		fprintf(f, "\"manifest\":%s,\"profiles\":", mjson);
		if ((rc = policy_profiles(st, &m, f, &p, e)) != 0)
			goto out;
		rc = p.bytes == NULL ? MUSTER_ENOINPUT : 0;
	} else {
		fputs("\"manifest\":null,\"profiles\":[]", f);
		rc = store_profile_current(st, scope, &p, e);
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	f = NULL;
	if (rc != 0 && rc != MUSTER_ENOINPUT)
		goto out;
	if (rc == 0 && (json = profile_json(&p, &len)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "profile %s: cannot encode",
		    p.id);
		goto out;
	}
	free(cur->json);
	free(cur->policy);
	memset(cur, 0, sizeof *cur);
	if (rc == 0) {
		cur->present = 1;
		snprintf(cur->id, sizeof cur->id, "%s", p.id);
		cur->serial = p.serial;
		cur->json = json;
		cur->len = len;
		json = NULL;
	}
	cur->manifest = have ? m.version : 0;
	cur->policy = policy;
	cur->policy_len = plen;
	policy = NULL;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	store_profile_clear(&p);
	free(json);
	free(mjson);
	free(policy);
	pthread_mutex_unlock(&s->prof_mu);
	return rc;
}

int
srv_policy_copy(struct srv *s, enum profile_scope scope, char **json,
    size_t *len, int64_t *manifest)
{
	struct srv_profile *cur = &s->prof[scope];
	int rc = 0;

	*json = NULL;
	*len = 0;
	pthread_mutex_lock(&s->prof_mu);
	*manifest = cur->manifest;
	if (cur->policy != NULL)
		rc = buf_copy(cur->policy, cur->policy_len, json, len);
	pthread_mutex_unlock(&s->prof_mu);
	return rc;
}

void
srv_policy_tag(struct srv *s, enum profile_scope scope,
    char buf[PROTO_POLICY_TAG_MAX])
{
	int64_t manifest;

	pthread_mutex_lock(&s->prof_mu);
	manifest = s->prof[scope].manifest;
	pthread_mutex_unlock(&s->prof_mu);
	proto_policy_tag(buf, trust_root_version(s->trust), manifest);
}

int
srv_profile_copy(struct srv *s, enum profile_scope scope, char **json,
    size_t *len, char id[PROFILE_ID_MAX + 1], int64_t *serial)
{
	struct srv_profile *cur = &s->prof[scope];
	int rc = 0;

	*json = NULL;
	*len = 0;
	pthread_mutex_lock(&s->prof_mu);
	if (cur->present &&
	    (rc = buf_copy(cur->json, cur->len, json, len)) == 0) {
		if (id != NULL)
			snprintf(id, PROFILE_ID_MAX + 1, "%s", cur->id);
		if (serial != NULL)
			*serial = cur->serial;
	}
	pthread_mutex_unlock(&s->prof_mu);
	return rc;
}

void
srv_free(struct srv *s)
{
	struct srv_reader *r, *next;
	unsigned long long commits = 0, jobs = 0;
	size_t i;

	if (s == NULL)
		return;
	if (s->gen != NULL || s->retired != NULL)
		http_stop(s, s->cfg->limits.connection_timeout);
	if (s->front != NULL) {
		struct front_stats fs;

		front_stats(s->front, &fs);
		log_info("connections: %lu accepted, %lu refused (half-open "
		    "per address), %lu refused (per network), %lu half-open "
		    "closed for newcomers, %lu cut at request_timeout, %lu at "
		    "handshake_timeout", fs.accepted, fs.refused_ip,
		    fs.refused_net, fs.evicted, fs.deadline, fs.handshake);
	}
	if (s->writer != NULL)
		writer_siblings(s->writer, NULL, NULL);	/* f is going */
	front_free(s->front);
	s->front = NULL;
	if (s->writer != NULL) {
		writer_stats(s->writer, &commits, &jobs);
		writer_stop(s->writer);	/* commits everything queued */
		log_info("store: %llu writes in %llu transactions", jobs,
		    commits);
	}
	for (r = s->readers; r != NULL; r = next) {
		next = r->next;
		store_close(r->st);
		free(r);
	}
	store_close(s->wst);
	audit_close(s->audit);	/* signs the last entry */
	for (i = 0; i < SRV_NSCOPES; i++) {
		free(s->prof[i].json);
		free(s->prof[i].policy);
	}
	trust_free(s->trust);
	srv_tls_free(&s->tls_cert, &s->tls_key);
	while (s->oldcfgs != NULL) {
		struct srv_oldcfg *oc = s->oldcfgs;

		s->oldcfgs = oc->next;
		config_free(oc->cfg);
		free(oc);
	}
	pthread_mutex_destroy(&s->gen_mu);
	pthread_key_delete(s->reader_key);
	pthread_mutex_destroy(&s->readers_mu);
	pthread_mutex_destroy(&s->prof_mu);
	config_free(s->cfg);
	free(s);
}
