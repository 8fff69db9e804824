/*
 * state: the agent's state directory.
 *
 *	agent.cfg		scope and trust anchor key id (libconfig
 *				syntax, read by cfgtree); once enrolled also
 *				server, pin, device_id and profile_id (the
 *				profile the server manages)
 *	org.pub			the first wave's trust anchor (minisign public
 *				key), or
 *	root.json		the org's root of trust: the newest root the
 *				device accepted, as a signed document (the
 *				wire form: version, bytes, signatures)
 *	manifest.json		the newest manifest accepted for the device's
 *				scope, as a signed document
 *	profiles/ID.profile	an installed profile: its minisign signature
 *				(four lines) followed by the exact signed bytes
 *	last-check.cfg		time and outcome of the last check
 *	device.key		the device key (agent/devkey.h)
 *	seq, dropped, spool/, sent/	reports (agent/spool.h)
 *	consent.json		family: the consent receipt as sent, and
 *	consent.txt		the text the member agreed to (agent/consent.h)
 *	lock			flock'd while run, enroll or unenroll works
 *	leaving			the signed unenroll request, queued until the
 *				server has it (agent/leave.h)
 *
 * The directory and its subdirectories are 0700 and every file 0600,
 * written by temp file + fsync + rename.  Nothing here is trusted because
 * it is on disk: installed profiles are verified again on every load.
 */
#include <sys/file.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/cfgtree.h"
#include "muster/fs.h"
#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/root.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/timefmt.h"
#include "reporter/frame.h"
#include "state.h"

#define PROFILE_SUFFIX	".profile"

static char *
path2(const char *dir, const char *a, const char *b)
{
	char *p;

	if (asprintf(&p, "%s/%s%s%s", dir, a, b != NULL ? "/" : "",
	    b != NULL ? b : "") == -1)
		return NULL;
	return p;
}

int
state_open(const char *dir, int create, struct muster_err *e)
{
	char *sub;
	int rc;

	if (create) {
		if ((rc = fs_mkdir_private(dir, e)) != 0)
			return rc;
		if ((sub = path2(dir, STATE_PROFILES, NULL)) == NULL)
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		rc = fs_mkdir_private(sub, e);
		free(sub);
		return rc;
	}
	if ((rc = fs_check_private(dir, e)) == MUSTER_ENOINPUT)
		return err_set(e, MUSTER_ECONFIG, "%s: no agent state here; "
		    "run muster-agent trust or enroll first", dir);
	return rc;
}

/* Reads a small private state file (refusing loose permissions). */
static int
read_private(const char *path, size_t max, char **buf, size_t *len,
    struct muster_err *e)
{
	return fs_read_private(path, max, buf, len, e);
}

/*
 * Reads dir/file (a state file of at most STATE_CFG_MAX bytes, refusing
 * loose permissions) into t with cfgtree, as the profile is read: it is
 * read on every check, and cfgtree checks its allocations where
 * libconfig 1.5 does not.  Sets *pathp to the file's path once it is
 * made, on failure too; the caller frees it and cfgtree_free's t.
 */
static int
cfg_load(const char *dir, const char *file, struct cfgtree *t,
    char **pathp, struct muster_err *e)
{
	char *buf = NULL;
	size_t len;
	int rc;

	memset(t, 0, sizeof *t);
	if ((*pathp = path2(dir, file, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = read_private(*pathp, STATE_CFG_MAX, &buf, &len, e)) == 0 &&
	    (rc = cfgtree_read(t, *pathp, "state file", buf, len,
	    STATE_CFG_MAX, CFGTREE_DEPTH_MAX, e)) == MUSTER_EDATA) {
		rc = MUSTER_ECONFIG;	/* damaged state: exit 78 */
		if (e != NULL)
			e->code = rc;
	}
	free(buf);
	return rc;
}

/* The top-level string setting name of t, or NULL. */
static const char *
cfg_str(const struct cfgtree *t, const char *name)
{
	const struct cfgtree_node *s;

	if ((s = cfgtree_member(t, cfgtree_root(t), name)) == NULL ||
	    s->type != CFGTREE_STRING)
		return NULL;
	return s->str;
}

/* 1 if dir/name exists (whatever it is). */
static int
exists(const char *dir, const char *name)
{
	struct stat st;
	char *p;
	int r;

	if ((p = path2(dir, name, NULL)) == NULL)
		return 0;
	r = lstat(p, &st) == 0;
	free(p);
	return r;
}

/* Reads a signed document kept as JSON (root.json, manifest.json). */
static int
doc_load(const char *dir, const char *file, size_t max, struct sigset **ss,
    struct muster_err *e)
{
	json_t *o = NULL;
	char *path = NULL, *buf = NULL;
	size_t len = 0;
	int rc;

	*ss = NULL;
	if ((path = path2(dir, file, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = read_private(path, STATE_DOC_MAX, &buf, &len, e)) != 0)
		goto out;
	if ((o = proto_json_parse(buf, len, 2)) == NULL) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: damaged (not a signed "
		    "document)", path);
		goto out;
	}
	if ((rc = sigset_from_json(path, o, max, ss, e)) != 0)
		rc = rc == MUSTER_EINTERNAL ? rc : MUSTER_ECONFIG;
out:
	json_decref(o);
	free(buf);
	free(path);
	return rc;
}

/* Writes the NUL-terminated text to dir/file atomically (0600). */
static int
store_text(const char *dir, const char *file, const char *text,
    struct muster_err *e)
{
	return fs_write_in(dir, file, text, strlen(text), 0600, e);
}

/* Writes a signed document as JSON, atomically (0600). */
static int
doc_store(const char *dir, const char *file, const struct sigset *ss,
    struct muster_err *e)
{
	json_t *o = NULL;
	char *buf;
	int rc;

	if ((rc = sigset_to_json(ss, &o, e)) != 0)
		return rc;
	if ((buf = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
	else
		rc = store_text(dir, file, buf, e);
	json_decref(o);
	free(buf);
	return rc;
}

int
state_root_load(const char *dir, struct sigset **ssp, struct root *r,
    struct muster_err *e)
{
	struct sigset *ss = NULL;
	int rc;

	if (ssp != NULL)
		*ssp = NULL;
	memset(r, 0, sizeof *r);
	if ((rc = doc_load(dir, STATE_ROOT, ROOT_MAX, &ss, e)) != 0)
		return rc;
	/* Nothing is trusted for being on disk: its own threshold again. */
	if ((rc = root_verify_self(STATE_ROOT, ss, r, e)) != 0) {
		sigset_free(ss);
		return rc == MUSTER_EINTERNAL ? rc : err_set(e, MUSTER_ETRUST,
		    "%s/%s no longer verifies: %s", dir, STATE_ROOT, e->msg);
	}
	if (ssp != NULL)
		*ssp = ss;
	else
		sigset_free(ss);
	return 0;
}

int
state_root_store(const char *dir, const struct sigset *ss,
    struct muster_err *e)
{
	return doc_store(dir, STATE_ROOT, ss, e);
}

/* Reads agent.cfg's scope (the anchor's). */
static int
cfg_scope(const char *dir, enum profile_scope *scope, struct muster_err *e)
{
	struct state_cfg c;
	int rc;

	if ((rc = state_cfg_load(dir, &c, e)) != 0)
		return rc;
	*scope = c.scope;
	return 0;
}

int
state_anchor_load(const char *dir, struct state_anchor *a,
    struct muster_err *e)
{
	struct cfgtree cfg;
	struct state_cfg c;
	const char *scope = NULL, *keyid = NULL;
	char *cpath = NULL, *ppath = NULL, *buf = NULL, hex[SIG_KEYID_HEX];
	size_t len;
	int rc;

	memset(a, 0, sizeof *a);
	memset(&cfg, 0, sizeof cfg);
	if (exists(dir, STATE_ROOT)) {
		/* Also a first-wave device that followed a rotation. */
		if ((rc = state_root_load(dir, NULL, &a->root, e)) != 0 ||
		    (rc = cfg_scope(dir, &a->scope, e)) != 0)
			goto out;
		a->has_root = 1;
		goto out;
	}
	if ((ppath = path2(dir, STATE_ANCHOR, NULL)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = read_private(ppath, SIG_KEYFILE_MAX, &buf, &len, e)) != 0) {
		if (rc == MUSTER_ENOINPUT)
			rc = err_set(e, MUSTER_ECONFIG, "%s: no trust anchor; "
			    "run muster-agent trust ORG.pub or enroll", dir);
		goto out;
	}
	if ((rc = sig_pubkey_parse(ppath, buf, len, &a->pk, e)) != 0) {
		rc = MUSTER_ECONFIG;
		goto out;
	}
	if ((rc = cfg_load(dir, STATE_CFG, &cfg, &cpath, e)) != 0)
		goto out;
	if ((scope = cfg_str(&cfg, "scope")) == NULL ||
	    profile_scope_parse(scope, &a->scope) != 0) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: missing or bad \"scope\"",
		    cpath);
		goto out;
	}
	sig_keyid_hex(a->pk.keyid, hex);
	if ((keyid = cfg_str(&cfg, "key_id")) == NULL ||
	    strcmp(keyid, hex) != 0) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: \"key_id\" does not match "
		    "the anchor %s (%s)", cpath, ppath, hex);
		goto out;
	}
	/* The first wave's org key is root 1 once the server is known. */
	a->root.legacy = 1;
	if (state_cfg_load(dir, &c, NULL) == 0 && c.server[0] != '\0' &&
	    c.pin[0] != '\0' && (rc = root_legacy(&a->pk, c.server, c.pin,
	    &a->root, e)) != 0) {
		rc = MUSTER_ECONFIG;
		goto out;
	}
	rc = 0;
out:
	cfgtree_free(&cfg);
	free(buf);
	free(cpath);
	free(ppath);
	return rc;
}

int
state_root_set(const char *dir, struct sigset *ss, enum profile_scope scope,
    struct muster_err *e)
{
	struct state_cfg c;
	struct sigset *cur = NULL;
	struct root r, have;
	int rc;

	if ((rc = root_verify_self("root", ss, &r, e)) != 0)
		return rc;
	ss->version = r.version;
	if (exists(dir, STATE_ANCHOR))
		return err_set(e, MUSTER_ETRUST, "%s/%s: a trust anchor is "
		    "already set; it is never replaced (unenroll first)", dir,
		    STATE_ANCHOR);
	if (exists(dir, STATE_ROOT)) {
		if ((rc = state_root_load(dir, &cur, &have, e)) != 0)
			return rc;
		rc = cur->len == ss->len && memcmp(cur->bytes, ss->bytes,
		    ss->len) == 0 && cfg_scope(dir, &c.scope, NULL) == 0 &&
		    c.scope == scope ? 0 : err_set(e, MUSTER_ETRUST, "%s: "
		    "another root of trust or scope is set; unenroll first",
		    dir);
		sigset_free(cur);
		return rc;
	}
	memset(&c, 0, sizeof c);
	c.scope = scope;
	/* agent.cfg first: a root without its config is refused. */
	if ((rc = state_cfg_store(dir, &c, e)) != 0)
		return rc;
	return state_root_store(dir, ss, e);
}

const struct sig_pubkey *
state_policy_key(const struct state_anchor *a,
    const unsigned char keyid[SIG_KEYID_BYTES])
{
	if (a->has_root)
		return root_find_key(&a->root, ROOT_ROLE_POLICY, keyid);
	return sodium_memcmp(a->pk.keyid, keyid, SIG_KEYID_BYTES) == 0 ?
	    &a->pk : NULL;
}

int
state_profile_verify(const struct state_anchor *a, const char *name,
    const char *buf, size_t len, const char *signame, const char *sig,
    size_t siglen, struct profile **out, struct muster_err *e)
{
	struct sig_signature *s = NULL;
	const struct sig_pubkey *pk;
	char hex[SIG_KEYID_HEX];
	int rc;

	*out = NULL;
	if ((s = malloc(sizeof *s)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = sig_parse(signame, sig, siglen, s, e)) != 0)
		goto out;
	/* A legacy anchor: profile_verify names the key it expected. */
	pk = state_policy_key(a, s->keyid);
	if (pk == NULL && !a->has_root)
		pk = &a->pk;
	if (pk == NULL) {
		sig_keyid_hex(s->keyid, hex);
		rc = err_set(e, MUSTER_ETRUST, "%s: signed by key %s, which is "
		    "not a policy key of root %lld", signame, hex,
		    (long long)a->root.version);
		goto out;
	}
	rc = profile_verify(name, buf, len, signame, sig, siglen, pk, out,
	    NULL, e);
out:
	free(s);
	return rc;
}

int
state_manifest_load(const char *dir, const struct state_anchor *a,
    struct sigset **ssp, struct manifest *m, struct muster_err *e)
{
	struct sigset *ss = NULL;
	int rc;

	if (ssp != NULL)
		*ssp = NULL;
	memset(m, 0, sizeof *m);
	if ((rc = doc_load(dir, STATE_MANIFEST, MANIFEST_MAX, &ss, e)) != 0)
		return rc;
	if ((rc = manifest_verify(STATE_MANIFEST, ss, &a->root, m, e)) != 0)
		goto out;
	if (m->scope != a->scope) {
		rc = err_set(e, MUSTER_ECONFIG, "%s/%s: a manifest of scope %s "
		    "on a %s device", dir, STATE_MANIFEST,
		    profile_scope_name(m->scope), profile_scope_name(a->scope));
		goto out;
	}
	if (ssp != NULL) {
		*ssp = ss;
		ss = NULL;
	}
out:
	if (rc != 0)
		memset(m, 0, sizeof *m);
	sigset_free(ss);
	return rc;
}

int
state_manifest_store(const char *dir, const struct sigset *ss,
    struct muster_err *e)
{
	return doc_store(dir, STATE_MANIFEST, ss, e);
}

/* Removes dir/a[/b]; a missing file is fine. */
static int
remove_file(const char *dir, const char *a, const char *b,
    struct muster_err *e)
{
	char *p;
	int rc = 0;

	if ((p = path2(dir, a, b)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (unlink(p) == -1 && errno != ENOENT)
		rc = err_sys(e, MUSTER_EIO, "%s", p);
	else if (fs_sync_dir(dir, NULL) != 0)
		rc = 0;	/* the unlink stands; a later write syncs it */
	free(p);
	return rc;
}

int
state_manifest_remove(const char *dir, struct muster_err *e)
{
	return remove_file(dir, STATE_MANIFEST, NULL, e);
}

int
state_profile_remove(const char *dir, const char *id, struct muster_err *e)
{
	char *name;
	int rc;

	if (!proto_id_ok(id))
		return err_set(e, MUSTER_EINTERNAL, "bad profile id");
	if (asprintf(&name, "%s%s", id, PROFILE_SUFFIX) == -1)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = remove_file(dir, STATE_PROFILES, name, e);
	free(name);
	return rc;
}

int
state_anchor_set(const char *dir, const struct sig_pubkey *pk,
    enum profile_scope scope, struct muster_err *e)
{
	struct state_cfg c;
	struct stat st;
	char *ppath = NULL, *pub = NULL;
	int rc;

	if ((ppath = path2(dir, STATE_ANCHOR, NULL)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (lstat(ppath, &st) == 0 || exists(dir, STATE_ROOT)) {
		rc = err_set(e, MUSTER_ETRUST, "%s: a trust anchor is already "
		    "set; it is never replaced (unenroll first)", ppath);
		goto out;
	}
	memset(&c, 0, sizeof c);
	c.scope = scope;
	sig_keyid_hex(pk->keyid, c.key_id);
	if ((rc = sig_pubkey_format(pk, &pub, e)) != 0)
		goto out;
	/* agent.cfg first: an anchor without its config is refused. */
	if ((rc = state_cfg_store(dir, &c, e)) != 0)
		goto out;
	rc = fs_create_excl(ppath, pub, strlen(pub), 0600, e);
out:
	free(pub);
	free(ppath);
	return rc;
}

int
state_endpoint(const char *dir, const struct state_cfg *c,
    char server[URL_MAX + 1], char pins[ROOT_PINS_CURL_MAX],
    struct muster_err *e)
{
	struct root r;

	if (exists(dir, STATE_ROOT) && state_root_load(dir, NULL, &r,
	    NULL) == 0) {
		snprintf(server, URL_MAX + 1, "%s", r.server);
		if (root_pins_curl(&r, pins, ROOT_PINS_CURL_MAX) != 0)
			return err_set(e, MUSTER_ECONFIG, "%s/%s: pins too "
			    "long", dir, STATE_ROOT);
		return 0;
	}
	if (c->server[0] == '\0' || c->pin[0] == '\0')
		return err_set(e, MUSTER_ECONFIG, "%s: not enrolled with a "
		    "server; run muster-agent enroll BUNDLE", dir);
	snprintf(server, URL_MAX + 1, "%s", c->server);
	snprintf(pins, ROOT_PINS_CURL_MAX, "%s", c->pin);
	return 0;
}

int
state_device_id_ok(const char *s)
{
	return proto_hex_ok(s, DEVICE_ID_HEX - 1);
}

/* Checks the optional fields of c; NULL when good, else the bad one. */
static const char *
cfg_bad_field(const struct state_cfg *c)
{
	struct url u;

	if (c->server[0] != '\0' && url_parse(c->server, &u, NULL) != 0)
		return "server";
	if (c->pin[0] != '\0' && !frame_pin_ok(c->pin))
		return "pin";
	if (c->device_id[0] != '\0' && !state_device_id_ok(c->device_id))
		return "device_id";
	if (c->profile_id[0] != '\0' && !proto_id_ok(c->profile_id))
		return "profile_id";
	return NULL;
}

/*
 * Copies an optional string setting into buf (size bytes); -1 if it is
 * too long or not a string.
 */
static int
cfg_opt(const struct cfgtree *t, const char *name, char *buf, size_t size)
{
	const struct cfgtree_node *s;
	size_t n;

	buf[0] = '\0';
	if ((s = cfgtree_member(t, cfgtree_root(t), name)) == NULL)
		return 0;
	if (s->type != CFGTREE_STRING || (n = strlen(s->str)) >= size)
		return -1;
	memcpy(buf, s->str, n + 1);
	return 0;
}

int
state_cfg_load(const char *dir, struct state_cfg *c, struct muster_err *e)
{
	struct cfgtree cfg;
	const char *scope = NULL, *bad;
	char *cpath = NULL;
	int rc;

	memset(c, 0, sizeof *c);
	if ((rc = cfg_load(dir, STATE_CFG, &cfg, &cpath, e)) != 0) {
		if (rc == MUSTER_ENOINPUT)
			rc = err_set(e, MUSTER_ECONFIG, "%s: not set up; run "
			    "muster-agent enroll or trust first", cpath);
		goto out;
	}
	if ((scope = cfg_str(&cfg, "scope")) == NULL ||
	    profile_scope_parse(scope, &c->scope) != 0) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: missing or bad \"scope\"",
		    cpath);
		goto out;
	}
	bad = NULL;
	if (cfg_opt(&cfg, "key_id", c->key_id, sizeof c->key_id) != 0)
		bad = "key_id";
	else if (cfg_opt(&cfg, "server", c->server, sizeof c->server) != 0)
		bad = "server";
	else if (cfg_opt(&cfg, "pin", c->pin, sizeof c->pin) != 0)
		bad = "pin";
	else if (cfg_opt(&cfg, "device_id", c->device_id,
	    sizeof c->device_id) != 0)
		bad = "device_id";
	else if (cfg_opt(&cfg, "profile_id", c->profile_id,
	    sizeof c->profile_id) != 0)
		bad = "profile_id";
	else
		bad = cfg_bad_field(c);
	if (bad != NULL) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: bad \"%s\"", cpath, bad);
		goto out;
	}
	rc = 0;
out:
	cfgtree_free(&cfg);
	free(cpath);
	return rc;
}

int
state_cfg_store(const char *dir, const struct state_cfg *c,
    struct muster_err *e)
{
	char *buf;
	const char *bad;
	size_t i;
	int rc;

	for (i = 0; c->key_id[i] != '\0'; i++)
		if (!((c->key_id[i] >= '0' && c->key_id[i] <= '9') ||
		    (c->key_id[i] >= 'A' && c->key_id[i] <= 'F')))
			return err_set(e, MUSTER_EINTERNAL, "agent.cfg: bad "
			    "key_id");
	if ((bad = cfg_bad_field(c)) != NULL)
		return err_set(e, MUSTER_EINTERNAL, "agent.cfg: refusing to "
		    "write a bad \"%s\"", bad);
	/* Every value was checked: none can hold a quote or a backslash. */
	if (asprintf(&buf, "# muster-agent state: written by muster-agent, "
	    "do not edit.\nscope = \"%s\";\nkey_id = \"%s\";\n"
	    "%s%s%s" "%s%s%s" "%s%s%s" "%s%s%s",
	    profile_scope_name(c->scope), c->key_id,
	    c->server[0] ? "server = \"" : "", c->server,
	    c->server[0] ? "\";\n" : "",
	    c->pin[0] ? "pin = \"" : "", c->pin, c->pin[0] ? "\";\n" : "",
	    c->device_id[0] ? "device_id = \"" : "", c->device_id,
	    c->device_id[0] ? "\";\n" : "",
	    c->profile_id[0] ? "profile_id = \"" : "", c->profile_id,
	    c->profile_id[0] ? "\";\n" : "") == -1)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = store_text(dir, STATE_CFG, buf, e);
	free(buf);
	return rc;
}

int
state_lock(const char *dir, int wait, int *fdp, struct muster_err *e)
{
	char *path;
	int fd, rc = 0;

	*fdp = -1;
	if ((path = path2(dir, STATE_LOCK, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		rc = err_sys(e, MUSTER_ECONFIG, "%s", path);
		goto out;
	}
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1) {
		if (errno == EINTR)
			continue;
		rc = errno == EWOULDBLOCK ? err_set(e, MUSTER_ETEMP, "%s: "
		    "another muster-agent is using this state; try again",
		    dir) : err_sys(e, MUSTER_EIO, "%s: flock", path);
		close(fd);
		goto out;
	}
	*fdp = fd;
out:
	free(path);
	return rc;
}

/* 1 if name ends in ".tmp." and 16 lowercase hex digits (lib/fs.c). */
static int
tmp_name(const char *name)
{
	size_t n = strlen(name);

	return n >= 22 && strncmp(name + n - 21, ".tmp.", 5) == 0 &&
	    proto_hex_ok(name + n - 16, 16);
}

static void
tidy_dir(const char *dir, time_t before)
{
	struct dirent *de;
	struct stat st;
	char *p;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!tmp_name(de->d_name) || (p = path2(dir, de->d_name,
		    NULL)) == NULL)
			continue;
		if (lstat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_mtime < before)
			unlink(p);
		free(p);
	}
	closedir(d);
}

void
state_tidy(const char *dir)
{
	time_t before = time(NULL) - STATE_TMP_AGE;
	char *sub;

	tidy_dir(dir, before);
	if ((sub = path2(dir, STATE_PROFILES, NULL)) != NULL)
		tidy_dir(sub, before);
	free(sub);
}

/* 1 if name is an installed profile's file name (ID.profile). */
static int
stored_name(const char *name)
{
	size_t n = strlen(name), sl = strlen(PROFILE_SUFFIX);

	return n > sl && strcmp(name + n - sl, PROFILE_SUFFIX) == 0;
}

/* Splits a stored profile into its signature (4 lines) and its bytes. */
static int
split_stored(const char *buf, size_t len, size_t *siglen)
{
	size_t i;
	int lines = 0;

	for (i = 0; i < len; i++)
		if (buf[i] == '\n' && ++lines == 4) {
			*siglen = i + 1;
			return 0;
		}
	return -1;
}

static int
profile_cmp(const void *a, const void *b)
{
	const struct state_profile *x = a, *y = b;

	return strcmp(x->p->id, y->p->id);
}

void
state_profile_clear(struct state_profile *sp)
{
	profile_free(sp->p);
	free(sp->bytes);
	free(sp->sig);
	memset(sp, 0, sizeof *sp);
}

void
state_profiles_free(struct state_profile *list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		state_profile_clear(&list[i]);
	free(list);
}

/* Loads and verifies one stored profile file. */
static int
load_one(const char *path, const struct state_anchor *a,
    struct state_profile *sp, struct muster_err *e)
{
	char *buf = NULL;
	size_t len = 0, siglen;
	int rc;

	memset(sp, 0, sizeof *sp);
	if ((rc = read_private(path, PROFILE_MAX_BYTES + SIG_FILE_MAX, &buf,
	    &len, e)) != 0)
		return rc;
	if (split_stored(buf, len, &siglen) != 0) {
		free(buf);
		return err_set(e, MUSTER_ETRUST, "%s: damaged installed "
		    "profile (no signature)", path);
	}
	if ((rc = state_profile_verify(a, path, buf + siglen, len - siglen,
	    path, buf, siglen, &sp->p, e)) != 0) {
		free(buf);
		return rc == MUSTER_EINTERNAL ? rc : err_set(e, MUSTER_ETRUST,
		    "installed profile no longer verifies: %s", e->msg);
	}
	sp->len = len - siglen;
	sp->siglen = siglen;
	if ((sp->bytes = malloc(sp->len + 1)) == NULL ||
	    (sp->sig = malloc(siglen + 1)) == NULL) {
		profile_free(sp->p);
		free(sp->bytes);
		memset(sp, 0, sizeof *sp);
		free(buf);
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	memcpy(sp->bytes, buf + siglen, sp->len);
	sp->bytes[sp->len] = '\0';
	memcpy(sp->sig, buf, siglen);
	sp->sig[siglen] = '\0';
	free(buf);
	return 0;
}

int
state_profiles_load(const char *dir, const struct state_anchor *a,
    struct state_profile **listp, size_t *np, struct muster_err *e)
{
	struct state_profile *list = NULL;
	struct dirent *de;
	DIR *d = NULL;
	char *pdir = NULL, *path = NULL;
	size_t n = 0;
	int rc = 0;

	*listp = NULL;
	*np = 0;
	if ((pdir = path2(dir, STATE_PROFILES, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = fs_check_private(pdir, e)) != 0) {
		if (rc == MUSTER_ENOINPUT)
			rc = 0;		/* nothing installed yet */
		goto out;
	}
	if ((d = opendir(pdir)) == NULL) {
		rc = err_sys(e, MUSTER_EIO, "%s", pdir);
		goto out;
	}
	if ((list = calloc(STATE_MAX_PROFILES, sizeof *list)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!stored_name(de->d_name))
			continue;	/* temp files of an interrupted write */
		if (n == STATE_MAX_PROFILES) {
			rc = err_set(e, MUSTER_ECONFIG, "%s: more than %d "
			    "profiles installed", pdir, STATE_MAX_PROFILES);
			goto out;
		}
		if ((path = path2(pdir, de->d_name, NULL)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		rc = load_one(path, a, &list[n], e);
		free(path);
		path = NULL;
		if (rc != 0)
			goto out;
		n++;
	}
	qsort(list, n, sizeof *list, profile_cmp);
	*listp = list;
	*np = n;
	list = NULL;
	rc = 0;
out:
	state_profiles_free(list, n);
	if (d != NULL)
		closedir(d);
	free(pdir);
	return rc;
}

/* Writes the signature and the profile bytes as one file at path. */
static int
write_stored(const char *path, const char *bytes, size_t len,
    const char *sig, size_t siglen, struct muster_err *e)
{
	char *buf;
	size_t n;
	int rc;

	if ((buf = malloc(siglen + 1 + len)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	memcpy(buf, sig, siglen);
	n = siglen;
	if (siglen > 0 && sig[siglen - 1] != '\n')
		buf[n++] = '\n';
	memcpy(buf + n, bytes, len);
	n += len;
	rc = fs_write_atomic(path, buf, n, 0600, e);
	free(buf);
	return rc;
}

int
state_consented_store(const char *dir, const char *bytes, size_t len,
    const char *sig, size_t siglen, struct muster_err *e)
{
	char *path;
	int rc;

	if ((path = path2(dir, STATE_CONSENTED, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = write_stored(path, bytes, len, sig, siglen, e);
	free(path);
	return rc;
}

int
state_consented_load(const char *dir, const struct state_anchor *a,
    struct state_profile *sp, struct muster_err *e)
{
	char *path;
	int rc;

	memset(sp, 0, sizeof *sp);
	if ((path = path2(dir, STATE_CONSENTED, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = load_one(path, a, sp, e);
	free(path);
	return rc;
}

int
state_profile_store(const char *dir, const struct profile *p,
    const char *bytes, size_t len, const char *sig, size_t siglen,
    struct muster_err *e)
{
	char *path = NULL, *name = NULL;
	int rc;

	if ((rc = state_open(dir, 1, e)) != 0)
		return rc;
	if (asprintf(&name, "%s%s", p->id, PROFILE_SUFFIX) == -1 ||
	    (path = path2(dir, STATE_PROFILES, name)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = write_stored(path, bytes, len, sig, siglen, e);
out:
	free(path);
	free(name);
	return rc;
}

int
state_lastcheck_store(const char *dir, const struct state_lastcheck *l,
    struct muster_err *e)
{
	char *buf, t[TIMEFMT_LEN];
	int rc;

	timefmt_format(l->time, t);
	if (asprintf(&buf, "time = \"%s\";\nstatus = \"%s\";\npass = %u;\n"
	    "fail = %u;\nremediated = %u;\nerror = %u;\n", t,
	    l->compliant ? "compliant" : "noncompliant", l->pass, l->fail,
	    l->remediated, l->error) == -1)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = store_text(dir, STATE_LASTCHECK, buf, e);
	free(buf);
	return rc;
}

int
state_lastcheck_load(const char *dir, struct state_lastcheck *l,
    struct muster_err *e)
{
	struct cfgtree cfg;
	const struct cfgtree_node *n;
	const char *t = NULL, *status = NULL;
	char *path = NULL;
	long long v[4];
	int rc, i;
	static const char *names[] = { "pass", "fail", "remediated", "error" };

	memset(l, 0, sizeof *l);
	if ((rc = cfg_load(dir, STATE_LASTCHECK, &cfg, &path, e)) != 0)
		goto out;
	if ((t = cfg_str(&cfg, "time")) == NULL ||
	    timefmt_parse(t, &l->time) != 0 ||
	    (status = cfg_str(&cfg, "status")) == NULL) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: damaged", path);
		goto out;
	}
	for (i = 0; i < 4; i++) {
		n = cfgtree_member(&cfg, cfgtree_root(&cfg), names[i]);
		if (n == NULL || (n->type != CFGTREE_INT &&
		    n->type != CFGTREE_INT64) || n->ival < 0 ||
		    n->ival > INT_MAX) {
			rc = err_set(e, MUSTER_ECONFIG, "%s: damaged", path);
			goto out;
		}
		v[i] = n->ival;
	}
	l->compliant = strcmp(status, "compliant") == 0;
	l->pass = (unsigned)v[0];
	l->fail = (unsigned)v[1];
	l->remediated = (unsigned)v[2];
	l->error = (unsigned)v[3];
	rc = 0;
out:
	cfgtree_free(&cfg);
	free(path);
	return rc;
}

int
state_profiles_purge(const char *dir, const struct state_anchor *a,
    size_t *np, struct muster_err *e)
{
	struct muster_err le = { 0 };
	struct state_profile sp;
	struct dirent *de;
	DIR *d = NULL;
	char *pdir = NULL, *path = NULL;
	int rc = 0;

	*np = 0;
	if ((pdir = path2(dir, STATE_PROFILES, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((d = opendir(pdir)) == NULL) {
		rc = errno == ENOENT ? 0 : err_sys(e, MUSTER_EIO, "%s", pdir);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!stored_name(de->d_name))
			continue;
		if ((path = path2(pdir, de->d_name, NULL)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		rc = load_one(path, a, &sp, &le);
		if (rc == 0) {
			state_profile_clear(&sp);
		} else if (rc == MUSTER_ETRUST) {
			if (unlink(path) == -1 && errno != ENOENT) {
				rc = err_sys(e, MUSTER_EIO, "%s", path);
				goto out;
			}
			(*np)++;
		}
		free(path);
		path = NULL;
	}
	rc = *np > 0 ? fs_sync_dir(pdir, e) : 0;
out:
	free(path);
	if (d != NULL)
		closedir(d);
	free(pdir);
	return rc;
}

/*
 * The TLS session file: "MUTS1\n", the server URL and the pin set it was
 * issued under, each on a line of its own, then the session's DER.
 */
#define TLS_MAGIC	"MUTS1\n"

/* The server URL without its trailing '/'s: its length in s. */
static size_t
tls_server_len(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;
	return n;
}

int
state_tls_load(const char *dir, const char *server, const char *pins,
    unsigned char **der, size_t *len, struct muster_err *e)
{
	char *path = NULL, *buf = NULL, *p, *end, *nl;
	size_t n = 0, sl = tls_server_len(server), pl = strlen(pins);
	int rc;

	*der = NULL;
	*len = 0;
	if ((path = path2(dir, STATE_TLS_SESSION, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = read_private(path, STATE_TLS_MAX, &buf, &n, e);
	if (rc == MUSTER_ENOINPUT) {
		rc = 0;		/* none kept yet */
		goto out;
	}
	if (rc != 0)
		goto out;
	p = buf;
	end = buf + n;
	rc = err_set(e, MUSTER_EDATA, "%s: not a TLS session file; it is "
	    "ignored", path);
	if (n < sizeof TLS_MAGIC - 1 || memcmp(p, TLS_MAGIC,
	    sizeof TLS_MAGIC - 1) != 0)
		goto out;
	p += sizeof TLS_MAGIC - 1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		goto out;
	/* Another server or pin set: kept for nobody. */
	if ((size_t)(nl - p) != sl || memcmp(p, server, sl) != 0) {
		rc = 0;
		goto out;
	}
	p = nl + 1;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		goto out;
	if ((size_t)(nl - p) != pl || memcmp(p, pins, pl) != 0) {
		rc = 0;
		goto out;
	}
	p = nl + 1;
	if (p == end || (size_t)(end - p) > FRAME_SESSION_MAX)
		goto out;
	if ((*der = malloc((size_t)(end - p))) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	memcpy(*der, p, (size_t)(end - p));
	*len = (size_t)(end - p);
	rc = 0;
out:
	fs_wipe_free(buf, n);
	free(path);
	return rc;
}

int
state_tls_store(const char *dir, const char *server, const char *pins,
    const unsigned char *der, size_t len, struct muster_err *e)
{
	char *path = NULL, *buf = NULL;
	size_t sl = tls_server_len(server), pl = strlen(pins), n, o;
	int rc;

	if (len == 0 || len > FRAME_SESSION_MAX || sl > FRAME_URL_MAX ||
	    pl > FRAME_PIN_MAX || memchr(server, '\n', sl) != NULL ||
	    strchr(pins, '\n') != NULL)
		return err_set(e, MUSTER_EUSAGE, "TLS session not kept: bad "
		    "server, pin or size");
	n = sizeof TLS_MAGIC - 1 + sl + 1 + pl + 1 + len;
	if ((path = path2(dir, STATE_TLS_SESSION, NULL)) == NULL ||
	    (buf = malloc(n)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	o = 0;
	memcpy(buf + o, TLS_MAGIC, sizeof TLS_MAGIC - 1);
	o += sizeof TLS_MAGIC - 1;
	memcpy(buf + o, server, sl);
	o += sl;
	buf[o++] = '\n';
	memcpy(buf + o, pins, pl);
	o += pl;
	buf[o++] = '\n';
	memcpy(buf + o, der, len);
	rc = fs_write_atomic(path, buf, n, 0600, e);
out:
	fs_wipe_free(buf, n);
	free(path);
	return rc;
}

int
state_tls_remove(const char *dir, struct muster_err *e)
{
	return remove_file(dir, STATE_TLS_SESSION, NULL, e);
}
