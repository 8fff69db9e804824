/* trust: the server's roots and manifests, all public; see trust.h. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "muster/buf.h"
#include "muster/fs.h"
#include "muster/log.h"
#include "muster/timefmt.h"
#include "muster/token2.h"
#include "metrics.h"
#include "trust.h"

/*
 * root_legacy wants the server URL and pin a device's token gave it; the
 * server verifies with the key alone and never serves the legacy root, so
 * these stand in for them.
 */
#define LEGACY_SERVER	"https://localhost"
#define LEGACY_PIN	"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define ROOT_FILE_FMT	"root-%lld.json"
#define MANIFEST_FILE_FMT "manifest-%s.json"
#define NAME_MAX_LEN	64

/* One version of the chain. */
struct trust_ver {
	struct root	 r;
	struct sigset	*ss;		/* NULL: the legacy root */
	char		*json;		/* its wire form; NULL when legacy */
	size_t		 len;
};

struct trust_scope {
	int		 present;
	struct manifest	 m;
	struct sigset	*ss;
	char		*json;
	size_t		 len;
};

struct trust_state {
	struct trust_ver	*v;	/* consecutive versions, lowest first */
	size_t			 n;	/* >= 1 */
	struct trust_scope	 sc[TRUST_NSCOPES];
};

struct trust {
	struct trust_docs	 docs;	/* read NULL: files in dir */
	pthread_mutex_t		 mu;	/* st */
	pthread_mutex_t		 wmu;	/* one writer or reload at a time */
	char			*root_dir;	/* NULL: legacy */
	char			*org_key;
	char			*dir;		/* data_dir/trust */
	struct trust_state	 st;
};

static void
state_clear(struct trust_state *st)
{
	size_t i;

	for (i = 0; i < st->n; i++) {
		sigset_free(st->v[i].ss);
		free(st->v[i].json);
	}
	free(st->v);
	for (i = 0; i < TRUST_NSCOPES; i++) {
		sigset_free(st->sc[i].ss);
		free(st->sc[i].json);
	}
	memset(st, 0, sizeof *st);
}

/* ss's wire form as compact JSON text, malloc'd. */
static int
wire_text(const struct sigset *ss, char **out, size_t *len,
    struct muster_err *e)
{
	json_t *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = sigset_to_json(ss, &o, e)) != 0)
		return rc;
	*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (*out == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	*len = strlen(*out);
	return 0;
}

/*
 * Reads the stored wire form name (a file in t->dir, or t->docs) into a
 * new *ss; path names it in messages.  MUSTER_ENOINPUT when missing.
 */
static int
wire_load(const struct trust *t, const char *name, const char *path,
    size_t max, struct sigset **ss, struct muster_err *e)
{
	json_error_t je;
	json_t *o = NULL;
	char *buf = NULL;
	size_t len;
	int rc;

	*ss = NULL;
	if (t->docs.read != NULL)
		rc = t->docs.read(t->docs.cls, name, TRUST_FILE_MAX, &buf,
		    &len, e);
	else
		rc = fs_read_file(path, TRUST_FILE_MAX, &buf, &len, e);
	if (rc != 0)
		return rc;
	if ((o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		rc = err_set(e, MUSTER_EDATA, "%s: not JSON: %s", path,
		    je.text);
		goto out;
	}
	rc = sigset_from_json(path, o, max, ss, e);
out:
	json_decref(o);
	free(buf);
	return rc;
}

/*
 * Writes ss's wire form as name: t->docs (which refuses, MUSTER_ETRUST,
 * a version at or below the one stored, by any server), else the file
 * t->dir/name atomically (0600).
 */
static int
wire_store(const struct trust *t, const char *name, const struct sigset *ss,
    struct muster_err *e)
{
	char *text = NULL;
	size_t len;
	int rc;

	if ((rc = wire_text(ss, &text, &len, e)) != 0)
		return rc;
	if (t->docs.write != NULL)
		rc = t->docs.write(t->docs.cls, name, ss->version, text, len,
		    e);
	else
		rc = fs_write_in(t->dir, name, text, len, 0600, e);
	free(text);
	return rc;
}

/* Appends a verified version to st (taking ss). */
static int
chain_push(struct trust_state *st, const struct root *r, struct sigset *ss,
    struct muster_err *e)
{
	struct trust_ver *v;
	int rc;

	if ((v = realloc(st->v, (st->n + 1) * sizeof *v)) == NULL) {
		sigset_free(ss);
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	st->v = v;
	v = &st->v[st->n];
	memset(v, 0, sizeof *v);
	v->r = *r;
	if (ss != NULL) {
		ss->version = r->version;
		if ((rc = wire_text(ss, &v->json, &v->len, e)) != 0) {
			sigset_free(ss);
			return rc;
		}
	}
	v->ss = ss;
	st->n++;
	return 0;
}

/* 1 if name is "N.cfg", N a version without leading zero; N in *v. */
static int
root_file_version(const char *name, long long *v)
{
	char *end;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	errno = 0;
	*v = strtoll(name, &end, 10);
	return errno == 0 && strcmp(end, ".cfg") == 0 && *v >= 1 &&
	    *v <= ROOT_VERSION_MAX;
}

/* The lowest version in root_dir, or MUSTER_ECONFIG when none. */
static int
root_dir_lowest(const char *dir, int64_t *lo, struct muster_err *e)
{
	struct dirent *de;
	DIR *d;
	long long v, best = 0;

	if ((d = opendir(dir)) == NULL)
		return err_sys(e, MUSTER_ECONFIG, "root_dir %s", dir);
	while ((de = readdir(d)) != NULL)
		if (root_file_version(de->d_name, &v) && (best == 0 ||
		    v < best))
			best = v;
	closedir(d);
	if (best == 0)
		return err_set(e, MUSTER_ECONFIG, "root_dir %s holds no "
		    "root (N.cfg)", dir);
	*lo = best;
	return 0;
}

/*
 * Version v of the chain: root_dir/v.cfg with its signature files, else
 * the stored upload.  MUSTER_ENOINPUT when neither exists.
 */
static int
version_load(const struct trust *t, int64_t v, struct sigset **ss,
    char *name, size_t size, struct muster_err *e)
{
	char doc[NAME_MAX_LEN], *path = NULL;
	int rc;

	*ss = NULL;
	snprintf(doc, sizeof doc, "%lld.cfg", (long long)v);
	if (t->root_dir != NULL) {
		snprintf(name, size, "%s/%s", t->root_dir, doc);
		rc = sigset_load_dir(t->root_dir, doc, ROOT_MAX, ss, e);
		if (rc != MUSTER_ENOINPUT)
			return rc;
	}
	snprintf(doc, sizeof doc, ROOT_FILE_FMT, (long long)v);
	if ((path = fs_path(t->dir, doc)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	snprintf(name, size, "%s", path);
	rc = wire_load(t, doc, path, ROOT_MAX, ss, e);
	free(path);
	return rc;
}

/* The chain, from its lowest version as far as it verifies. */
static int
chain_load(const struct trust *t, struct trust_state *st,
    struct muster_err *e)
{
	struct muster_err ue;
	struct sig_pubkey pk;
	struct sigset *ss = NULL;
	struct root r, nr;
	char name[1024];
	int64_t v = 0;
	int rc;

	if (t->root_dir != NULL) {
		if ((rc = root_dir_lowest(t->root_dir, &v, e)) != 0)
			return rc;
		if ((rc = version_load(t, v, &ss, name, sizeof name, &ue)) != 0)
			return err_set(e, rc == MUSTER_EINTERNAL ? rc :
			    MUSTER_ECONFIG, "%s", ue.msg);
		if ((rc = root_verify_self(name, ss, &r, &ue)) != 0) {
			sigset_free(ss);
			return err_set(e, MUSTER_ECONFIG, "%s", ue.msg);
		}
		if (r.version != v) {
			sigset_free(ss);
			return err_set(e, MUSTER_ECONFIG, "%s: says version "
			    "%lld", name, (long long)r.version);
		}
	} else {
		if ((rc = sig_pubkey_load(t->org_key, &pk, &ue)) != 0)
			return err_set(e, MUSTER_ECONFIG, "%s", ue.msg);
		if ((rc = root_legacy(&pk, LEGACY_SERVER, LEGACY_PIN, &r,
		    e)) != 0)
			return rc;
	}
	if ((rc = chain_push(st, &r, ss, e)) != 0)
		return rc;
	for (;;) {
		v = st->v[st->n - 1].r.version + 1;
		if (st->n >= TRUST_VERSIONS_MAX || v > ROOT_VERSION_MAX)
			break;
		rc = version_load(t, v, &ss, name, sizeof name, &ue);
		if (rc == MUSTER_ENOINPUT)
			break;
		if (rc == 0)
			rc = root_update(&st->v[st->n - 1].r, name, ss, &nr,
			    &ue);
		if (rc != 0) {
			/* A device would refuse it too: serve up to here. */
			log_warn("root %lld refused, the chain stops at "
			    "version %lld: %s", (long long)v,
			    (long long)(v - 1), ue.msg);
			sigset_free(ss);
			break;
		}
		if ((rc = chain_push(st, &nr, ss, e)) != 0)
			return rc;
	}
	return 0;
}

/* The stored manifest of scope, if any, into sc. */
static void
scope_load(const struct trust *t, const struct root *newest,
    enum profile_scope scope, struct trust_scope *sc)
{
	struct muster_err ue;
	struct sigset *ss = NULL;
	struct manifest m;
	char name[NAME_MAX_LEN], *path;
	int rc;

	snprintf(name, sizeof name, MANIFEST_FILE_FMT,
	    profile_scope_name(scope));
	if ((path = fs_path(t->dir, name)) == NULL)
		return;
	if ((rc = wire_load(t, name, path, MANIFEST_MAX, &ss, &ue)) != 0) {
		if (rc != MUSTER_ENOINPUT)
			log_error("manifest: %s", ue.msg);
		goto out;
	}
	if (manifest_verify(path, ss, newest, &m, &ue) != 0) {
		/* Kept for its version, so nothing older replaces it. */
		log_warn("manifest %s does not verify with root %lld (devices "
		    "will refuse it; publish a new one): %s", path,
		    (long long)newest->version, ue.msg);
		if (manifest_parse(path, ss->bytes, ss->len, &m, &ue) != 0) {
			log_error("manifest: %s", ue.msg);
			goto out;
		}
	}
	if (m.scope != scope) {
		log_error("%s: a manifest of scope %s", path,
		    profile_scope_name(m.scope));
		goto out;
	}
	ss->version = m.version;
	if (wire_text(ss, &sc->json, &sc->len, &ue) != 0) {
		log_error("manifest: %s", ue.msg);
		goto out;
	}
	sc->present = 1;
	sc->m = m;
	sc->ss = ss;
	ss = NULL;
out:
	sigset_free(ss);
	free(path);
}

static int
state_load(const struct trust *t, struct trust_state *st,
    struct muster_err *e)
{
	int rc;

	memset(st, 0, sizeof *st);
	if ((rc = chain_load(t, st, e)) != 0) {
		state_clear(st);
		return rc;
	}
	scope_load(t, &st->v[st->n - 1].r, SCOPE_PERSONNEL,
	    &st->sc[SCOPE_PERSONNEL]);
	scope_load(t, &st->v[st->n - 1].r, SCOPE_FAMILY, &st->sc[SCOPE_FAMILY]);
	return 0;
}

static void
log_chain(const struct trust_state *st)
{
	const struct trust_ver *lo = &st->v[0], *hi = &st->v[st->n - 1];

	if (hi->r.legacy)
		log_info("trust: the org key as root 1 (no root_dir)");
	else
		log_info("trust: roots %lld to %lld%s", (long long)lo->r.version,
		    (long long)hi->r.version, lo->r.legacy ? " (1: the org "
		    "key)" : "");
}

int
trust_open(const char *root_dir, const char *org_key, const char *data_dir,
    struct trust **out, struct muster_err *e)
{
	struct trust *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof *t)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	pthread_mutex_init(&t->mu, NULL);
	pthread_mutex_init(&t->wmu, NULL);
	if ((root_dir != NULL && (t->root_dir = strdup(root_dir)) == NULL) ||
	    (org_key != NULL && (t->org_key = strdup(org_key)) == NULL) ||
	    (t->dir = fs_path(data_dir, TRUST_DIR)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (root_dir == NULL && org_key == NULL) {
		rc = err_set(e, MUSTER_ECONFIG, "neither root_dir nor org_key");
		goto out;
	}
	/* With a PostgreSQL store nothing else makes data_dir. */
	if ((rc = fs_mkdir_private(data_dir, e)) != 0 ||
	    (rc = fs_mkdir_private(t->dir, e)) != 0)
		goto out;
	if ((rc = state_load(t, &t->st, e)) != 0)
		goto out;
	log_chain(&t->st);
	*out = t;
	t = NULL;
out:
	trust_free(t);
	return rc;
}

int
trust_reload(struct trust *t, struct muster_err *e)
{
	struct trust_state st, old;
	int rc;

	pthread_mutex_lock(&t->wmu);
	if ((rc = state_load(t, &st, e)) != 0)
		goto out;
	pthread_mutex_lock(&t->mu);
	if (st.v[st.n - 1].r.version < t->st.v[t->st.n - 1].r.version) {
		rc = err_set(e, MUSTER_ECONFIG, "reload reaches root %lld, "
		    "below the %lld held", (long long)st.v[st.n - 1].r.version,
		    (long long)t->st.v[t->st.n - 1].r.version);
		pthread_mutex_unlock(&t->mu);
		state_clear(&st);
		goto out;
	}
	old = t->st;
	t->st = st;
	pthread_mutex_unlock(&t->mu);
	state_clear(&old);
	log_chain(&t->st);
	rc = 0;
out:
	pthread_mutex_unlock(&t->wmu);
	return rc;
}

void
trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	state_clear(&t->st);
	free(t->root_dir);
	free(t->org_key);
	free(t->dir);
	pthread_mutex_destroy(&t->mu);
	pthread_mutex_destroy(&t->wmu);
	free(t);
}

void
trust_root(struct trust *t, struct root *r)
{
	pthread_mutex_lock(&t->mu);
	*r = t->st.v[t->st.n - 1].r;
	pthread_mutex_unlock(&t->mu);
}

int64_t
trust_root_version(struct trust *t)
{
	struct root r;

	trust_root(t, &r);
	return r.version;
}

int
trust_legacy(struct trust *t)
{
	struct root r;

	trust_root(t, &r);
	return r.legacy;
}

int
trust_roots_json(struct trust *t, int64_t since, char **json, size_t *len,
    struct muster_err *e)
{
	const struct trust_ver *v;
	FILE *f;
	size_t i, n = 0;
	int rc = 0;

	*json = NULL;
	*len = 0;
	if ((f = open_memstream(json, len)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	fputc('[', f);
	pthread_mutex_lock(&t->mu);
	for (i = 0; i < t->st.n && n < ROOT_CHAIN_MAX; i++) {
		v = &t->st.v[i];
		if (v->r.version <= since || v->json == NULL)
			continue;
		if (n++ > 0)
			fputc(',', f);
		fwrite(v->json, 1, v->len, f);
	}
	pthread_mutex_unlock(&t->mu);
	fputc(']', f);
	if (fclose(f) != 0) {
		free(*json);
		*json = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	return rc;
}

int
trust_root_add(struct trust *t, const struct sigset *ss,
    struct muster_err *e)
{
	struct trust_state *st = &t->st;
	struct sigset *copy = NULL;
	struct root cur, nr;
	char name[NAME_MAX_LEN];
	size_t i;
	int rc;

	pthread_mutex_lock(&t->wmu);
	trust_root(t, &cur);
	if (ss->version != cur.version + 1) {
		rc = err_set(e, MUSTER_EUSAGE, "root %lld is not the next "
		    "version (the newest is %lld)", (long long)ss->version,
		    (long long)cur.version);
		goto out;
	}
	snprintf(name, sizeof name, "root %lld", (long long)ss->version);
	if ((rc = root_update(&cur, name, ss, &nr, e)) != 0)
		goto out;
	/* The set as it came, each signature as its sender wrote it. */
	if ((rc = sigset_new(ss->bytes, ss->len, ROOT_MAX, nr.version, &copy,
	    e)) != 0)
		goto out;
	for (i = 0; i < ss->nsigs; i++)
		if ((rc = sigset_add(copy, name, ss->texts[i], ss->textlens[i],
		    e)) != 0)
			goto out;
	snprintf(name, sizeof name, ROOT_FILE_FMT, (long long)nr.version);
	if ((rc = wire_store(t, name, copy, e)) != 0)
		goto out;
	pthread_mutex_lock(&t->mu);
	rc = chain_push(st, &nr, copy, e);
	pthread_mutex_unlock(&t->mu);
	copy = NULL;
	if (rc == 0)
		log_info("trust: root %lld accepted and stored",
		    (long long)nr.version);
out:
	sigset_free(copy);
	pthread_mutex_unlock(&t->wmu);
	return rc;
}

/* How m (with ss's bytes) compares with the stored manifest; under mu. */
static enum trust_put
compare(const struct trust_scope *sc, const struct manifest *m,
    const struct sigset *ss)
{
	if (!sc->present || m->version > sc->m.version)
		return TRUST_NEW;
	if (m->version == sc->m.version && ss->len == sc->ss->len &&
	    memcmp(ss->bytes, sc->ss->bytes, ss->len) == 0)
		return TRUST_SAME;
	return TRUST_OLD;
}

int
trust_manifest_check(struct trust *t, const struct sigset *ss,
    struct manifest *m, enum trust_put *res, struct muster_err *e)
{
	struct root r;
	int rc;

	trust_root(t, &r);
	if ((rc = manifest_verify("manifest", ss, &r, m, e)) != 0)
		return rc;
	pthread_mutex_lock(&t->mu);
	*res = compare(&t->st.sc[m->scope], m, ss);
	pthread_mutex_unlock(&t->mu);
	return 0;
}

int
trust_manifest_put(struct trust *t, const struct sigset *ss,
    const struct manifest *m, struct muster_err *e)
{
	struct trust_scope sc, old;
	char name[NAME_MAX_LEN];
	enum trust_put res;
	size_t i;
	int rc;

	memset(&sc, 0, sizeof sc);
	pthread_mutex_lock(&t->wmu);
	pthread_mutex_lock(&t->mu);
	res = compare(&t->st.sc[m->scope], m, ss);
	pthread_mutex_unlock(&t->mu);
	if (res == TRUST_SAME) {
		rc = 0;
		goto out;
	}
	if (res == TRUST_OLD) {
		rc = err_set(e, MUSTER_ETRUST, "manifest %s version %lld is "
		    "not above the stored one", profile_scope_name(m->scope),
		    (long long)m->version);
		goto out;
	}
	if ((rc = sigset_new(ss->bytes, ss->len, MANIFEST_MAX, m->version,
	    &sc.ss, e)) != 0)
		goto out;
	for (i = 0; i < ss->nsigs; i++)
		if ((rc = sigset_add(sc.ss, "manifest", ss->texts[i],
		    ss->textlens[i], e)) != 0)
			goto out;
	if ((rc = wire_text(sc.ss, &sc.json, &sc.len, e)) != 0)
		goto out;
	snprintf(name, sizeof name, MANIFEST_FILE_FMT,
	    profile_scope_name(m->scope));
	if ((rc = wire_store(t, name, sc.ss, e)) != 0)
		goto out;
	sc.present = 1;
	sc.m = *m;
	pthread_mutex_lock(&t->mu);
	old = t->st.sc[m->scope];
	t->st.sc[m->scope] = sc;
	pthread_mutex_unlock(&t->mu);
	memset(&sc, 0, sizeof sc);
	sigset_free(old.ss);
	free(old.json);
	log_info("manifest %s version %lld stored (%zu profiles)",
	    profile_scope_name(m->scope), (long long)m->version,
	    m->nprofiles);
out:
	sigset_free(sc.ss);
	free(sc.json);
	pthread_mutex_unlock(&t->wmu);
	return rc;
}

int
trust_manifest(struct trust *t, enum profile_scope scope, struct manifest *m,
    char **json, size_t *len)
{
	const struct trust_scope *sc;
	int rc = 0;

	if (json != NULL) {
		*json = NULL;
		*len = 0;
	}
	pthread_mutex_lock(&t->mu);
	sc = &t->st.sc[scope];
	if (sc->present) {
		rc = 1;
		if (m != NULL)
			*m = sc->m;
		if (json != NULL && buf_copy(sc->json, sc->len, json, len) != 0)
			rc = -1;
	}
	pthread_mutex_unlock(&t->mu);
	return rc;
}

int
trust_token_verify(struct trust *t, const char *s, size_t len,
    struct token *tok, struct muster_err *e)
{
	struct root r;

	trust_root(t, &r);
	return token2_verify(s, len, &r, tok, e);
}

int
trust_revocation_verify(struct trust *t, const char *s, size_t len,
    struct revocation *rv, struct muster_err *e)
{
	struct root r;

	trust_root(t, &r);
	return token2_revocation_verify(s, len, &r, rv, e);
}

void
trust_manifest_watch(struct trust *t, time_t now, time_t warn)
{
	struct manifest m;
	char when[TIMEFMT_LEN];
	int scope;

	for (scope = 0; scope < TRUST_NSCOPES; scope++) {
		if (trust_manifest(t, (enum profile_scope)scope, &m, NULL,
		    NULL) != 1) {
			metrics_manifest_expiry(scope, 0, 0);
			continue;
		}
		metrics_manifest_expiry(scope, 1, (int64_t)(m.expires - now));
		timefmt_format(m.expires, when);
		if (m.expires <= now)
			log_warn("manifest %s version %lld expired on %s: "
			    "devices report their policy stale; sign and "
			    "upload a new one (muster-enroll manifest)",
			    profile_scope_name(m.scope), (long long)m.version,
			    when);
		else if (m.expires - now <= warn)
			log_warn("manifest %s version %lld expires on %s: "
			    "sign and upload a new one (muster-enroll "
			    "manifest)", profile_scope_name(m.scope),
			    (long long)m.version, when);
	}
}

void
trust_set_docs(struct trust *t, const struct trust_docs *docs)
{
	pthread_mutex_lock(&t->wmu);
	t->docs = *docs;
	pthread_mutex_unlock(&t->wmu);
}
