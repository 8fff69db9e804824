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

#include "muster/fs.h"
#include "muster/log.h"
#include "http.h"
#include "srv.h"
#include "srvsync.h"

#define SRV_PEM_MAX	(64 * 1024)

struct srv_reader {
	struct store		*st;
	struct srv_reader	*next;
};

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

/* Rewrites e as "CONFIG: FIELD: what went wrong", a configuration error. */
static int
srv_cfg_err(struct muster_err *e, const struct config *cfg, const char *field)
{
	char msg[ERR_MSG_MAX];

	snprintf(msg, sizeof msg, "%s", e->msg);
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
	if ((rc = pem_load(cfg->tls_key, "PRIVATE KEY-----", 1, &s->tls_key,
	    &s->tls_key_len, e)) != 0) {
		rc = srv_cfg_err(e, cfg, "tls_key");
		goto out;
	}
	if ((rc = store_open(config_store(cfg), 0, &s->wst, e)) != 0)
		goto out;
	if ((rc = writer_start(s->wst, &s->writer, e)) != 0)
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
	/* Until it listens, what MHD says explains a failed start. */
	if (s->mhd == NULL)
		log_error("http: %s", msg);
	else
		log_debug("http: %s", msg);
}

int
srv_listen(struct srv *s, struct muster_err *e)
{
	struct config *c = s->cfg;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd, one = 1, v6 = 0;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, c->listen, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)c->port);
		sl = sizeof *sin;
	} else if (inet_pton(AF_INET6, c->listen, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)c->port);
		sl = sizeof *sin6;
		v6 = 1;
	} else
		return err_set(e, MUSTER_ECONFIG, "%s: listen: bad address",
		    c->path);
	/*
	 * Bind once ourselves first: MHD cannot say why it failed to start,
	 * and "address in use" (69) is not a bad configuration (78).
	 */
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return err_sys(e, MUSTER_EOS, "socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1) {
		err_sys(e, MUSTER_EUNAVAIL, "cannot listen on %s%s%s:%u",
		    v6 ? "[" : "", c->listen, v6 ? "]" : "", c->port);
		close(fd);
		return MUSTER_EUNAVAIL;
	}
	close(fd);
	if (http_start(s, (struct sockaddr *)&ss, v6, srv_mhd_log, e) != 0)
		return e != NULL ? e->code : MUSTER_ECONFIG;
	log_info("listening on https://%s%s%s:%u (%u threads)",
	    v6 ? "[" : "", c->listen, v6 ? "]" : "", c->port,
	    c->limits.threads);
	return 0;
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
	for (;;) {
		struct timespec ts = { SRV_WATCH_INTERVAL, 0 };
		time_t now = time(NULL);

		if (now - s->watched >= SRV_WATCH_INTERVAL || now < s->watched) {
			s->watched = now;
			trust_manifest_watch(s->trust, now,
			    s->cfg->manifest_warn);
		}
		ts.tv_sec = SRV_WATCH_INTERVAL - (now - s->watched);
		if (ts.tv_sec <= 0)
			ts.tv_sec = 1;
		srvsync_tick(s, &ts);
		if ((sig = sigtimedwait(&set, NULL, &ts)) == -1)
			continue;
		if (sig != SIGHUP) {
			log_info("%s: stopping", sig == SIGTERM ? "SIGTERM" :
			    "SIGINT");
			return;
		}
		log_info("SIGHUP: reloading");
		if (srv_reload(s, &e) != 0)
			log_error("reload: %s (keeping what was loaded)",
			    e.msg);
	}
}

int
srv_reload(struct srv *s, struct muster_err *e)
{
	struct sig_pubkey pk;
	int rc;

	if (s->cfg->org_key != NULL) {
		if ((rc = sig_pubkey_load(s->cfg->org_key, &pk, e)) != 0)
			return rc;
	}
	if ((rc = trust_reload(s->trust, e)) != 0)
		return rc;
	if (s->cfg->org_key != NULL)
		srv_log_key("reloaded", &pk, s->cfg->org_key);
	if ((rc = srv_profile_reload(s, SCOPE_PERSONNEL, e)) != 0 ||
	    (rc = srv_profile_reload(s, SCOPE_FAMILY, e)) != 0)
		return rc;
	s->watched = time(NULL);
	trust_manifest_watch(s->trust, s->watched, s->cfg->manifest_warn);
	return 0;
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
	if (cur->policy != NULL) {
		if ((*json = malloc(cur->policy_len + 1)) == NULL)
			rc = -1;
		else {
			memcpy(*json, cur->policy, cur->policy_len + 1);
			*len = cur->policy_len;
		}
	}
	pthread_mutex_unlock(&s->prof_mu);
	return rc;
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
	if (cur->present) {
		if ((*json = malloc(cur->len + 1)) == NULL)
			rc = -1;
		else {
			memcpy(*json, cur->json, cur->len + 1);
			*len = cur->len;
			if (id != NULL)
				snprintf(id, PROFILE_ID_MAX + 1, "%s",
				    cur->id);
			if (serial != NULL)
				*serial = cur->serial;
		}
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
	if (s->mhd != NULL)
		http_stop(s, s->cfg->limits.connection_timeout);
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
	for (i = 0; i < SRV_NSCOPES; i++) {
		free(s->prof[i].json);
		free(s->prof[i].policy);
	}
	trust_free(s->trust);
	free(s->tls_cert);
	sodium_free(s->tls_key);
	pthread_key_delete(s->reader_key);
	pthread_mutex_destroy(&s->readers_mu);
	pthread_mutex_destroy(&s->prof_mu);
	config_free(s->cfg);
	free(s);
}
