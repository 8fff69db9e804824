/*
 * mancmd: the org's manifests and `muster-enroll manifest`; mancmd.h.
 *
 * A new manifest is signed and verified in memory first; only then are
 * the old signature files removed and the document and its new
 * signatures written, the document last, so that a crash leaves either
 * the old manifest with its signatures or a new one not yet signed
 * (which nothing accepts, and the next run replaces).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "admin.h"
#include "mancmd.h"
#include "org.h"
#include "rootcmd.h"
#include "tokcmd.h"

static const char manifest_usage[] =
"usage: muster-enroll manifest [--org DIR] [--scope SCOPE] [--expires WHEN]\n"
"           [--key FILE]...\n"
"\n"
"Signs a new version of each scope's manifest (DIR/manifest/SCOPE.cfg,\n"
"the profiles a device of the scope must run) naming the same profiles,\n"
"with a new expiry, and uploads it (POST /v1/admin/manifest).  Run it\n"
"before a manifest expires: past its expiry devices keep their policy\n"
"but report it stale, and the server warns days before (manifest_warn).\n"
"\n"
"options:\n"
"  --org DIR       organisation directory (default: $MUSTER_ORG, else .)\n"
"  --scope SCOPE   personnel or family (default: both that have one)\n"
"  --expires WHEN  Nd, Nh, Nm or an RFC 3339 UTC time (default 7d)\n"
"  --key FILE      a policy key that signs (repeat for a policy threshold\n"
"                  above 1; default DIR/policy.key)\n"
"  --help          this text\n";

/* DIR/manifest (made 0755 when missing) into a malloc'd *dir. */
static int
man_dir(const char *org, char **dir, struct muster_err *e)
{
	if ((*dir = fs_path(org, ORG_MANIFEST_DIR)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (mkdir(*dir, 0755) == -1 && errno != EEXIST)
		return err_sys(e, MUSTER_ECANTCREAT, "%s", *dir);
	return 0;
}

/* Removes dir/doc.*.minisig. */
static int
drop_sigs(const char *dir, const char *doc, struct muster_err *e)
{
	struct dirent *de;
	DIR *d;
	size_t n = strlen(doc), sl = strlen(SIGSET_SIG_SUFFIX), l;
	char *p;
	int rc = 0;

	if ((d = opendir(dir)) == NULL)
		return err_sys(e, MUSTER_EIO, "%s", dir);
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l <= n + 1 + sl || strncmp(de->d_name, doc, n) != 0 ||
		    de->d_name[n] != '.' ||
		    strcmp(de->d_name + l - sl, SIGSET_SIG_SUFFIX) != 0)
			continue;
		if ((p = fs_path(dir, de->d_name)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			break;
		}
		if (unlink(p) == -1 && errno != ENOENT)
			rc = err_sys(e, MUSTER_EIO, "%s", p);
		free(p);
	}
	closedir(d);
	return rc;
}

/* 1 if a and b name the same profiles (in any order). */
static int
same_set(const struct manifest *a, const struct manifest *b)
{
	const struct manifest_entry *x;
	size_t i;

	if (a->nprofiles != b->nprofiles)
		return 0;
	for (i = 0; i < a->nprofiles; i++)
		if ((x = manifest_find(b, a->profiles[i].id)) == NULL ||
		    x->serial != a->profiles[i].serial ||
		    strcmp(x->hash, a->profiles[i].hash) != 0)
			return 0;
	return 1;
}

int
mancmd_make(const char *org, enum profile_scope scope,
    const struct manifest_entry *add, int only, time_t expires, int reuse,
    const char *const *keys, size_t n, struct sigset **ss,
    struct manifest *m, struct muster_err *e)
{
	struct muster_err ue;
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	struct sigset *cur = NULL;
	struct manifest old, check;
	struct root r;
	const char *defkey;
	char *dir = NULL, *path = NULL, *buf = NULL, *text = NULL;
	char doc[32], tc[MANIFEST_TC_MAX];
	size_t len = 0, i;
	int rc;

	*ss = NULL;
	memset(m, 0, sizeof *m);
	if ((rc = rootcmd_current(org, &r, &cur, NULL, e)) != 0)
		goto out;
	if ((rc = man_dir(org, &dir, e)) != 0)
		goto out;
	snprintf(doc, sizeof doc, "%s.cfg", profile_scope_name(scope));
	if ((path = fs_path(dir, doc)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = fs_read_file(path, MANIFEST_MAX, &buf, &len, e);
	if (rc == 0) {
		if ((rc = manifest_parse(path, buf, len, &old, e)) != 0)
			goto out;
	} else if (rc == MUSTER_ENOINPUT)
		memset(&old, 0, sizeof old);
	else
		goto out;
	m->scope = scope;
	m->version = old.version + 1;
	m->expires = expires;
	if (add != NULL)
		m->profiles[m->nprofiles++] = *add;
	for (i = 0; !only && i < old.nprofiles; i++) {
		if (add != NULL && strcmp(old.profiles[i].id, add->id) == 0)
			continue;
		if (m->nprofiles == MANIFEST_PROFILES_MAX) {
			rc = err_set(e, MUSTER_EUSAGE, "%s: a manifest names at "
			    "most %d profiles", path, MANIFEST_PROFILES_MAX);
			goto out;
		}
		m->profiles[m->nprofiles++] = old.profiles[i];
	}
	/*
	 * The same profiles again (publish run twice): the manifest the org
	 * has, while it is valid, so that nothing changes on the server.
	 */
	if (reuse && old.version > 0 && same_set(m, &old) &&
	    !manifest_expired(&old, time(NULL)) &&
	    sigset_load_dir(dir, doc, MANIFEST_MAX, ss, &ue) == 0) {
		(*ss)->version = old.version;
		if (manifest_verify(doc, *ss, &r, &check, &ue) == 0) {
			*m = old;
			rc = 0;
			goto out;
		}
		sigset_free(*ss);
		*ss = NULL;
	}
	if ((rc = manifest_format(m, &text, &len, e)) != 0 ||
	    (rc = sigset_new(text, len, MANIFEST_MAX, m->version, ss, e)) != 0)
		goto out;
	(void)manifest_trusted_comment(scope, m->version, tc, sizeof tc);
	defkey = cur != NULL ? ORG_POLICY : "org";
	for (i = 0; i < (n == 0 ? 1 : n); i++) {
		if ((rc = org_pair_load(org, n == 0 ? defkey : keys[i], &pk,
		    &sk, e)) != 0 ||
		    (rc = sigset_sign(*ss, sk, tc, e)) != 0)
			goto out;
		sig_seckey_free(sk);
		sk = NULL;
	}
	/* As a device will check it, before anything is replaced. */
	if ((rc = manifest_verify(doc, *ss, &r, &check, &ue)) != 0) {
		rc = err_set(e, rc, "%s; nothing written (sign with --key for "
		    "each policy key the threshold needs)", ue.msg);
		goto out;
	}
	if ((rc = drop_sigs(dir, doc, e)) != 0)
		goto out;
	for (i = 0; i < (*ss)->nsigs; i++)
		if ((rc = sigset_write_sig(dir, doc, (*ss)->texts[i],
		    (*ss)->textlens[i], e)) != 0)
			goto out;
	rc = fs_write_atomic(path, text, len, 0644, e);
out:
	if (rc != 0) {
		sigset_free(*ss);
		*ss = NULL;
	}
	sig_seckey_free(sk);
	sigset_free(cur);
	free(dir);
	free(path);
	free(buf);
	free(text);
	return rc;
}

struct man_args {
	const char	*org, *scope, *expires;
	const char	*keys[MANCMD_KEYS_MAX];
	size_t		 nkeys;
};

int
mancmd_main(int argc, char **argv)
{
	struct man_args a;
	struct muster_err e = { 0 };
	struct sigset *ss = NULL;
	struct manifest m;
	struct stat st;
	json_t *doc = NULL, *body = NULL;
	enum profile_scope scope, only = SCOPE_PERSONNEL;
	char *path = NULL, when[TIMEFMT_LEN];
	time_t expires;
	long status;
	int ex, rc = 0, one = 0, done = 0, s;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &a.org),
		CLI_OPT_ARG("scope", 's', &a.scope),
		CLI_OPT_ARG("expires", 'x', &a.expires),
		CLI_OPT_LIST("key", 'k', a.keys, a.nkeys),
		CLI_OPT_END,
	};

	memset(&a, 0, sizeof a);
	a.expires = "7d";
	if (cli_options_operand(argc, argv, "", opts, manifest_usage, NULL,
	    NULL, NULL, &ex) < 0)
		return ex;
	if (a.scope != NULL) {
		if (profile_scope_parse(a.scope, &only) != 0)
			return cli_usage("manifest", "--scope \"%s\": want "
			    "personnel or family", a.scope);
		one = 1;
	}
	if (tokcmd_expires_parse(a.expires, time(NULL), &expires, &e) != 0)
		return cli_usage("manifest", "%s", e.msg);
	if (a.org == NULL)
		a.org = org_default_dir();
	for (s = 0; s < 2 && rc == 0; s++) {
		scope = (enum profile_scope)s;
		if (one && scope != only)
			continue;
		free(path);
		if (asprintf(&path, "%s/%s/%s.cfg", a.org, ORG_MANIFEST_DIR,
		    profile_scope_name(scope)) == -1) {
			path = NULL;
			rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
			break;
		}
		if (stat(path, &st) == -1) {
			if (one)
				rc = err_set(&e, MUSTER_ENOINPUT, "%s: no "
				    "manifest yet (publish a profile first)",
				    path);
			continue;
		}
		if ((rc = mancmd_make(a.org, scope, NULL, 0, expires, 0, a.keys,
		    a.nkeys, &ss, &m, &e)) != 0)
			break;
		json_decref(doc);
		json_decref(body);
		body = NULL;
		if ((rc = sigset_to_json(ss, &doc, &e)) != 0)
			break;
		if ((body = json_pack("{s:O}", "manifest", doc)) == NULL) {
			rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
			break;
		}
		if ((rc = admin_post_json(a.org, PROTO_PATH_ADMIN_MANIFEST, body,
		    &status, NULL, &e)) != 0)
			break;
		timefmt_format(m.expires, when);
		printf("%s: manifest %s version %lld (%zu profiles), expires "
		    "%s, uploaded\n", path, profile_scope_name(scope),
		    (long long)m.version, m.nprofiles, when);
		sigset_free(ss);
		ss = NULL;
		done++;
	}
	if (rc == 0 && done == 0)
		rc = err_set(&e, MUSTER_ENOINPUT, "%s/%s: no manifest yet "
		    "(publish a profile first)", a.org, ORG_MANIFEST_DIR);
	sigset_free(ss);
	json_decref(doc);
	json_decref(body);
	free(path);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
