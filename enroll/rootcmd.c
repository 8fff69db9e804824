/*
 * rootcmd: `muster-enroll root show|rotate|sign|publish`; see rootcmd.h.
 *
 * rotate writes root/N+1.cfg and nothing signs it yet: each holder of a
 * root key (of version N, and of N+1 when its root keys change) runs
 * `root sign --key THEIR.key`, which adds one signature file, and
 * `root publish` checks both thresholds exactly as a device will
 * (root_update) before it uploads the root.  A key that rotate replaces
 * is kept, renamed NAME-retired-vN.key, until its holder no longer needs
 * it to sign the rotation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/pass.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "admin.h"
#include "org.h"
#include "rootcmd.h"
#include "tokcmd.h"

#define ROOTCMD_PINS_ARG	ROOT_PINS_MAX
#define ROOTCMD_REPLACE_MAX	(ROOT_NROLES + ROOT_KEYS_MAX)
#define RETIRED_FMT		"%s-retired-v%lld"

static const char root_usage[] =
"usage: muster-enroll root show    [--org DIR] [VERSION]\n"
"       muster-enroll root rotate  [--org DIR] [--add-pin PIN] "
"[--remove-pin PIN]\n"
"                                  [--server URL] [--replace ROLE]\n"
"                                  [--root-keys N] [--threshold K] "
"[--expires WHEN]\n"
"                                  [--no-passphrase]\n"
"       muster-enroll root sign    [--org DIR] --key FILE [VERSION]\n"
"       muster-enroll root publish [--org DIR] [--admin-url URL] [VERSION]\n"
"\n"
"The organisation's root of trust: DIR/root/N.cfg, each version signed\n"
"by a threshold of the previous version's root keys and of its own (one\n"
"file N.cfg.KEYID.minisig per signer, each a stock minisign signature).\n"
"\n"
"  show      the root (default: the newest in DIR/root) and who signed it\n"
"  rotate    writes the next version, unsigned: --add-pin and\n"
"            --remove-pin change the server pins (1-4), --server the URL,\n"
"            --replace ROLE makes new keys for a role (root, policy,\n"
"            revocation, enroll, or one root key root-K; repeatable; the\n"
"            old files become NAME-retired-vN.key), --root-keys N makes N\n"
"            new root keys, --threshold K sets the root threshold,\n"
"            --expires WHEN the expiry (default 365d); new keys are\n"
"            encrypted with a passphrase unless --no-passphrase\n"
"  sign      adds one signature by the key FILE (a root key of the new\n"
"            version or of the one before) to VERSION (default: newest)\n"
"  publish   checks that VERSION (default: newest) meets both thresholds,\n"
"            as a device will, then uploads it (POST /v1/admin/root)\n"
"\n"
ADMIN_ORG_OPTS_HELP
"\n"
"exit codes: 0 done, 64 usage, 65 malformed, 66 missing, 69 server\n"
"unreachable, 73 cannot create, 77 threshold not met or refused.\n";

/* ---- the chain --------------------------------------------------------- */

/* The highest N of DIR/root/N.cfg, or 0. */
static int64_t
highest(const char *rootdir)
{
	struct dirent *de;
	DIR *d;
	long long v, best = 0;
	char *end;

	if ((d = opendir(rootdir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		errno = 0;
		v = strtoll(de->d_name, &end, 10);
		if (errno == 0 && strcmp(end, ".cfg") == 0 &&
		    v <= ROOT_VERSION_MAX && v > best)
			best = v;
	}
	closedir(d);
	return best;
}

/* Loads root/V.cfg and its signatures; ss->version set to v. */
static int
load_version(const char *rootdir, int64_t v, struct sigset **ss,
    struct muster_err *e)
{
	char doc[32];
	int rc;

	snprintf(doc, sizeof doc, "%lld.cfg", (long long)v);
	if ((rc = sigset_load_dir(rootdir, doc, ROOT_MAX, ss, e)) == 0)
		(*ss)->version = v;
	return rc;
}

/* The legacy root of DIR/org.pub with org.cfg's server and pin. */
static int
legacy_root(const char *org, struct root *r, struct muster_err *e)
{
	struct org_cfg oc;
	struct sig_pubkey pk;
	char *pub;
	int rc;

	if ((rc = org_cfg_load(org, &oc, e)) != 0)
		return rc;
	if ((pub = fs_path(org, ORG_PUB)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = sig_pubkey_load(pub, &pk, e);
	free(pub);
	if (rc != 0)
		return rc;
	return root_legacy(&pk, oc.server, oc.pin, r, e);
}

int
rootcmd_current(const char *org, struct root *r, struct sigset **ss,
    int64_t *pending, struct muster_err *e)
{
	struct muster_err ue;
	struct sigset *next = NULL;
	struct root nr;
	char *rootdir = NULL, name[64];
	int64_t hi;
	int rc;

	*ss = NULL;
	if (pending != NULL)
		*pending = 0;
	if ((rootdir = fs_path(org, ORG_ROOT_DIR)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	hi = org_has_roots(org) ? highest(rootdir) : 0;
	if (pending != NULL)
		*pending = hi;
	rc = hi >= 1 ? load_version(rootdir, 1, ss, e) : MUSTER_ENOINPUT;
	if (rc == 0) {
		if ((rc = root_verify_self("root/1.cfg", *ss, r, e)) != 0)
			goto out;
	} else if (rc == MUSTER_ENOINPUT) {
		if ((rc = legacy_root(org, r, e)) != 0)
			goto out;
	} else
		goto out;
	while (r->version < hi) {
		snprintf(name, sizeof name, "root/%lld.cfg",
		    (long long)(r->version + 1));
		if (load_version(rootdir, r->version + 1, &next, &ue) != 0 ||
		    root_update(r, name, next, &nr, &ue) != 0)
			break;	/* a rotation not yet signed enough */
		*r = nr;
		sigset_free(*ss);
		*ss = next;
		next = NULL;
	}
	rc = 0;
out:
	if (rc != 0) {
		sigset_free(*ss);
		*ss = NULL;
	}
	sigset_free(next);
	free(rootdir);
	return rc;
}

/* 1 if DIR/root/1.cfg exists (else root 1 is the legacy org key). */
static int
org_root1(const char *org)
{
	struct stat st;
	char *p;
	int rc;

	if (asprintf(&p, "%s/%s/1.cfg", org, ORG_ROOT_DIR) == -1)
		return 0;
	rc = lstat(p, &st) == 0;
	free(p);
	return rc;
}

/* ---- show -------------------------------------------------------------- */

static void
show_keys(const struct root_keyset *ks, const struct sigset *ss,
    const char *tc)
{
	char hex[SIG_KEYID_HEX], b64[64];
	size_t i, j;
	int signed_ok;

	for (i = 0; i < ks->nkeys; i++) {
		sig_keyid_hex(ks->keys[i].keyid, hex);
		(void)sig_pubkey_base64(&ks->keys[i], b64, sizeof b64);
		signed_ok = 0;
		for (j = 0; ss != NULL && j < ss->nsigs; j++) {
			struct muster_err ue;

			if (memcmp(ss->sigs[j]->keyid, ks->keys[i].keyid,
			    SIG_KEYID_BYTES) == 0 &&
			    strcmp(ss->sigs[j]->trusted, tc) == 0 &&
			    sig_verify(ss->sigs[j], &ks->keys[i], ss->bytes,
			    ss->len, &ue) == 0)
				signed_ok = 1;
		}
		printf("    %s  %s%s\n", hex, b64, ss == NULL ? "" : signed_ok ?
		    "  signed" : "");
	}
}

/*
 * The optional VERSION operand of `root CMD` into *v (0 without one);
 * returns 0, or the exit code after the usage error.
 */
static int
version_arg(const char *cmd, int argc, char **argv, int64_t *v)
{
	*v = 0;
	if (argc > 1)
		return cli_usage(cmd, "expected at most one VERSION");
	if (argc == 1 && (sscanf(argv[0], "%lld", (long long *)v) != 1 ||
	    *v < 1 || *v > ROOT_VERSION_MAX))
		return cli_usage(cmd, "VERSION \"%s\": want 1 to %d", argv[0],
		    ROOT_VERSION_MAX);
	return 0;
}

/*
 * The org's current root into head and cur (see rootcmd_current), and,
 * when *v is 0 (no VERSION given), the newest version there is, signed or
 * pending, into *v.  Returns 0 or rootcmd_current's error.
 */
static int
newest(const char *org, struct root *head, struct sigset **cur, int64_t *v,
    struct muster_err *e)
{
	int64_t pending;
	int rc;

	if ((rc = rootcmd_current(org, head, cur, &pending, e)) != 0)
		return rc;
	if (*v == 0)
		*v = pending > head->version ? pending : head->version;
	return 0;
}

static int
root_show(const char *org, int argc, char **argv)
{
	struct muster_err e = { 0 }, ue;
	struct sigset *ss = NULL, *cur = NULL, *prev = NULL;
	struct root r, head, pr;
	char *rootdir = NULL, when[TIMEFMT_LEN], tc[ROOT_TC_MAX], name[64];
	int64_t v = 0;
	size_t i, cnt;
	int rc;

	if ((rc = version_arg("root show", argc, argv, &v)) != 0)
		return rc;
	if ((rc = newest(org, &head, &cur, &v, &e)) != 0)
		goto out;
	if (head.legacy && v == 1) {
		printf("root 1: the first-wave org key (org.pub), in every "
		    "role, threshold 1\n");
		goto out;
	}
	if ((rootdir = fs_path(org, ORG_ROOT_DIR)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = load_version(rootdir, v, &ss, &e)) != 0)
		goto out;
	snprintf(name, sizeof name, "root/%lld.cfg", (long long)v);
	if ((rc = root_parse(name, ss->bytes, ss->len, &r, &e)) != 0)
		goto out;
	(void)root_trusted_comment(v, tc, sizeof tc);
	timefmt_format(r.expires, when);
	printf("root %lld (%s)%s\n", (long long)v, name, v == head.version ?
	    " the current root" : v > head.version ? " not yet accepted: "
	    "sign it" : "");
	printf("  expires: %s%s\n", when, root_expired(&r, time(NULL)) ?
	    " (EXPIRED: devices report their trust stale)" : "");
	printf("  server:  %s\n", r.server);
	for (i = 0; i < r.npins; i++)
		printf("  pin:     %s%s\n", r.pins[i], i == 0 ? " (current)" :
		    "");
	for (i = 0; i < ROOT_NROLES; i++) {
		printf("  %s: threshold %u of %zu\n", root_role_name(
		    (enum root_role)i), r.roles[i].threshold,
		    r.roles[i].nkeys);
		show_keys(&r.roles[i], i == ROOT_ROLE_ROOT ? ss : NULL, tc);
	}
	if (sigset_threshold(ss, r.roles[ROOT_ROLE_ROOT].keys,
	    r.roles[ROOT_ROLE_ROOT].nkeys, r.roles[ROOT_ROLE_ROOT].threshold,
	    tc, name, &cnt, &ue) != 0) {
		/* Shown as a count: fewer than the threshold. */
	}
	printf("  signed by %zu of its own %u required root keys\n", cnt,
	    r.roles[ROOT_ROLE_ROOT].threshold);
	if (v > 1) {
		/* The previous version's root keys, as a device checks. */
		if (v - 1 == 1 && !org_root1(org))
			rc = legacy_root(org, &pr, &ue);
		else if (load_version(rootdir, v - 1, &prev, &ue) != 0 ||
		    root_parse(name, prev->bytes, prev->len, &pr, &ue) != 0)
			rc = -1;
		if (rc != 0) {
			printf("  root %lld: %s\n", (long long)(v - 1), ue.msg);
			rc = 0;
			goto out;
		}
		if (sigset_threshold(ss, pr.roles[ROOT_ROLE_ROOT].keys,
		    pr.roles[ROOT_ROLE_ROOT].nkeys,
		    pr.roles[ROOT_ROLE_ROOT].threshold, tc, name, &cnt,
		    &ue) != 0) {
			/* Shown as a count, as above. */
		}
		printf("  signed by %zu of root %lld's %u required root "
		    "keys\n", cnt, (long long)(v - 1),
		    pr.roles[ROOT_ROLE_ROOT].threshold);
	}
out:
	sigset_free(ss);
	sigset_free(cur);
	sigset_free(prev);
	free(rootdir);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

/* ---- rotate ------------------------------------------------------------ */

struct rotate_args {
	const char	*add[ROOTCMD_PINS_ARG], *del[ROOTCMD_PINS_ARG];
	size_t		 nadd, ndel;
	const char	*server, *expires;
	const char	*replace[ROOTCMD_REPLACE_MAX];
	size_t		 nreplace;
	const char	*nroot, *threshold;
	int		 no_pass;
};

/* What pair_move does with each file of a key pair. */
enum pair_how {
	PAIR_RETIRE,	/* rename, never over a file; none to move is fine */
	PAIR_RELINK,	/* link in place of what is there */
	PAIR_LINK	/* link, unless there is one already */
};

/* Moves or links DIR/FROM.{key,pub} to DIR/TO.{key,pub}, as how says. */
static int
pair_move(const char *org, const char *from, const char *to,
    enum pair_how how, struct muster_err *e)
{
	const char *sfx[2] = { ORG_KEY_SUFFIX, ORG_PUB_SUFFIX };
	char *a = NULL, *b = NULL;
	int i, failed = 0, rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		if (asprintf(&a, "%s/%s%s", org, from, sfx[i]) == -1 ||
		    asprintf(&b, "%s/%s%s", org, to, sfx[i]) == -1) {
			free(a);
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		}
		switch (how) {
		case PAIR_RETIRE:
			failed = renameat2(AT_FDCWD, a, AT_FDCWD, b,
			    RENAME_NOREPLACE) == -1 && errno != ENOENT;
			break;
		case PAIR_RELINK:
			(void)unlink(b);
			failed = link(a, b) == -1;
			break;
		case PAIR_LINK:
			failed = link(a, b) == -1 && errno != EEXIST;
			break;
		}
		if (failed)
			rc = err_sys(e, MUSTER_ECANTCREAT, "%s", b);
		free(a);
		free(b);
		a = b = NULL;
	}
	return rc;
}

/* Renames DIR/NAME.{key,pub} to NAME-retired-vV.{key,pub}. */
static int
retire(const char *org, const char *name, int64_t v, struct muster_err *e)
{
	char *to = NULL;
	int rc;

	if (asprintf(&to, RETIRED_FMT, name, (long long)v) == -1)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = pair_move(org, name, to, PAIR_RETIRE, e);
	free(to);
	return rc;
}

/* Makes a new pair for role (not root) and puts it in r. */
static int
replace_role(const char *org, enum root_role role, int64_t v,
    const char *pass, struct root *r, struct muster_err *e)
{
	const char *name = role == ROOT_ROLE_POLICY ? ORG_POLICY :
	    role == ROOT_ROLE_REVOCATION ? ORG_REVOCATION : ORG_ENROLL;
	struct sig_pubkey pk;
	int rc;

	if ((rc = retire(org, name, v, e)) != 0 ||
	    (rc = org_pair_make(org, name, pass, &pk, NULL, e)) != 0)
		return rc;
	/* org.key and org.pub stay the (new) policy pair's names. */
	if (role == ROOT_ROLE_POLICY &&
	    (rc = pair_move(org, ORG_POLICY, ORG_ORG, PAIR_RELINK, e)) != 0)
		return rc;
	r->roles[role].keys[0] = pk;
	r->roles[role].nkeys = 1;
	r->roles[role].threshold = 1;
	return 0;
}

static int
root_rotate(const char *org, struct rotate_args *a)
{
	struct muster_err e = { 0 };
	struct sigset *ss = NULL;
	struct root cur, r;
	struct url u;
	char *rootdir = NULL, *text = NULL, *pass = NULL, *path = NULL;
	char name[64], doc[32];
	int64_t pending, v;
	size_t i, k, len;
	unsigned n, thr;
	int rc, newroot = 0, replaced[ROOT_NROLES] = { 0 };
	int replaced_key[ROOT_KEYS_MAX] = { 0 };
	time_t expires;

	if ((rc = tokcmd_expires_parse(a->expires, time(NULL), &expires,
	    &e)) != 0)
		return cli_usage("root rotate", "%s", e.msg);
	if (a->server != NULL && url_parse(a->server, &u, &e) != 0)
		return cli_usage("root rotate", "--server: %s", e.msg);
	for (i = 0; i < a->nadd; i++)
		if (!root_pin_form_ok(a->add[i]))
			return cli_usage("root rotate", "--add-pin \"%s\": "
			    "want sha256//BASE64 (as cert renew prints it)",
			    a->add[i]);
	if ((rc = rootcmd_current(org, &cur, &ss, &pending, &e)) != 0)
		goto out;
	v = cur.version + 1;
	if (pending >= v) {
		rc = err_set(&e, MUSTER_ECANTCREAT, "%s/%s/%lld.cfg exists and "
		    "is not signed enough yet: sign it (root sign) or remove "
		    "it", org, ORG_ROOT_DIR, (long long)pending);
		goto out;
	}
	r = cur;
	r.legacy = 0;
	r.version = v;
	r.expires = expires;
	if (a->server != NULL)
		snprintf(r.server, sizeof r.server, "%s", a->server);
	for (i = 0; i < a->ndel; i++) {
		for (k = 0; k < r.npins; k++)
			if (strcmp(r.pins[k], a->del[i]) == 0)
				break;
		if (k == r.npins) {
			rc = err_set(&e, MUSTER_EUSAGE, "--remove-pin %s: not a "
			    "pin of root %lld", a->del[i],
			    (long long)cur.version);
			goto out;
		}
		memmove(r.pins[k], r.pins[k + 1], (r.npins - k - 1) *
		    sizeof r.pins[0]);
		r.npins--;
	}
	for (i = 0; i < a->nadd; i++) {
		if (root_pin_ok(&r, a->add[i]))
			continue;
		if (r.npins == ROOT_PINS_MAX) {
			rc = err_set(&e, MUSTER_EUSAGE, "a root holds at most "
			    "%d pins: --remove-pin one", ROOT_PINS_MAX);
			goto out;
		}
		snprintf(r.pins[r.npins++], sizeof r.pins[0], "%s",
		    a->add[i]);
	}
	if (r.npins == 0) {
		rc = err_set(&e, MUSTER_EUSAGE, "a root needs at least one pin");
		goto out;
	}
	for (i = 0; i < a->nreplace; i++) {
		enum root_role role;

		if (root_role_parse(a->replace[i], &role) == 0) {
			if (role == ROOT_ROLE_ROOT)
				newroot = 1;
			else
				replaced[role] = 1;
		} else if (strncmp(a->replace[i], "root-", 5) == 0 &&
		    org_count_parse(a->replace[i] + 5, (unsigned)
		    cur.roles[ROOT_ROLE_ROOT].nkeys, &n) == 0 && !cur.legacy)
			replaced_key[n - 1] = 1;
		else {
			rc = err_set(&e, MUSTER_EUSAGE, "--replace \"%s\": want "
			    "root, policy, revocation, enroll or root-K (K a "
			    "root key of root %lld)", a->replace[i],
			    (long long)cur.version);
			goto out;
		}
	}
	if (a->nroot != NULL)
		newroot = 1;
	if (cur.legacy) {
		/*
		 * The first-wave org key stays the policy key; every other
		 * role gets its own key, as no key may serve two roles.
		 */
		newroot = replaced[ROOT_ROLE_REVOCATION] =
		    replaced[ROOT_ROLE_ENROLL] = 1;
	}
	n = (unsigned)r.roles[ROOT_ROLE_ROOT].nkeys;
	if (a->nroot != NULL && org_count_parse(a->nroot, ROOT_KEYS_MAX,
	    &n) != 0) {
		rc = err_set(&e, MUSTER_EUSAGE, "--root-keys \"%s\": want 1 to "
		    "%d", a->nroot, ROOT_KEYS_MAX);
		goto out;
	}
	thr = newroot && a->threshold == NULL ? 1 :
	    r.roles[ROOT_ROLE_ROOT].threshold;
	if (a->threshold != NULL && org_count_parse(a->threshold, n,
	    &thr) != 0) {
		rc = err_set(&e, MUSTER_EUSAGE, "--threshold \"%s\": want 1 to "
		    "the number of root keys (%u)", a->threshold, n);
		goto out;
	}
	if ((rootdir = fs_path(org, ORG_ROOT_DIR)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (mkdir(rootdir, 0755) == -1 && errno != EEXIST) {
		rc = err_sys(&e, MUSTER_ECANTCREAT, "%s", rootdir);
		goto out;
	}
	/* New keys are encrypted as init's were, unless --no-passphrase. */
	for (i = 0, k = newroot; i < ROOT_NROLES; i++)
		k |= (size_t)replaced[i];
	for (i = 0; i < ROOT_KEYS_MAX; i++)
		k |= (size_t)replaced_key[i];
	if (k && !a->no_pass && (rc = pass_read("Passphrase for the new "
	    "keys: ", 1, &pass, &e)) != 0)
		goto out;
	/* A first-wave org: policy.key and policy.pub as org.key's names. */
	if (cur.legacy && (rc = pair_move(org, ORG_ORG, ORG_POLICY, PAIR_LINK,
	    &e)) != 0)
		goto out;
	for (i = 0; i < ROOT_NROLES; i++)
		if (replaced[i] && (rc = replace_role(org, (enum root_role)i,
		    cur.version, pass, &r, &e)) != 0)
			goto out;
	if (newroot) {
		for (k = 0; k < cur.roles[ROOT_ROLE_ROOT].nkeys && !cur.legacy;
		    k++) {
			snprintf(name, sizeof name, ORG_ROOT_KEY_FMT,
			    (unsigned)k + 1);
			if ((rc = retire(org, name, cur.version, &e)) != 0)
				goto out;
		}
		for (k = 0; k < n; k++) {
			snprintf(name, sizeof name, ORG_ROOT_KEY_FMT,
			    (unsigned)k + 1);
			if ((rc = org_pair_make(org, name, pass,
			    &r.roles[ROOT_ROLE_ROOT].keys[k], NULL, &e)) != 0)
				goto out;
		}
		r.roles[ROOT_ROLE_ROOT].nkeys = n;
	} else
		for (k = 0; k < n; k++) {
			if (!replaced_key[k])
				continue;
			snprintf(name, sizeof name, ORG_ROOT_KEY_FMT,
			    (unsigned)k + 1);
			if ((rc = retire(org, name, cur.version, &e)) != 0 ||
			    (rc = org_pair_make(org, name, pass,
			    &r.roles[ROOT_ROLE_ROOT].keys[k], NULL, &e)) != 0)
				goto out;
		}
	r.roles[ROOT_ROLE_ROOT].threshold = thr;
	if ((rc = root_format(&r, &text, &len, &e)) != 0)
		goto out;
	snprintf(doc, sizeof doc, "%lld.cfg", (long long)v);
	if ((path = fs_path(rootdir, doc)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = fs_create_excl(path, text, len, 0644, &e)) != 0)
		goto out;
	printf("%s: root %lld written, not signed yet.\n"
	    "It needs %u signature%s by the root keys of root %lld and %u by "
	    "its own:\neach holder runs  muster-enroll root sign --org %s "
	    "--key ROOT-KEY.key\nthen  muster-enroll root publish --org %s\n",
	    path, (long long)v, cur.roles[ROOT_ROLE_ROOT].threshold,
	    cur.roles[ROOT_ROLE_ROOT].threshold == 1 ? "" : "s",
	    (long long)cur.version, thr, org, org);
	rc = 0;
out:
	sigset_free(ss);
	pass_free(pass);
	free(rootdir);
	free(text);
	free(path);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

/* ---- sign -------------------------------------------------------------- */

static int
root_sign(const char *org, const char *keyfile, int argc, char **argv)
{
	struct muster_err e = { 0 }, ue;
	struct sigset *ss = NULL, *cur = NULL;
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	struct root head, r, prev;
	char *rootdir = NULL, tc[ROOT_TC_MAX], doc[32], hex[SIG_KEYID_HEX];
	int64_t v = 0, pending;
	int rc, mine = 0;

	if ((rc = version_arg("root sign", argc, argv, &v)) != 0)
		return rc;
	if ((rc = rootcmd_current(org, &head, &cur, &pending, &e)) != 0)
		goto out;
	if (v == 0)
		v = pending;
	if ((rootdir = fs_path(org, ORG_ROOT_DIR)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(doc, sizeof doc, "%lld.cfg", (long long)v);
	/* The bytes alone: a version nobody signed yet has no .minisig. */
	{
		char *path = fs_path(rootdir, doc), *buf = NULL;
		size_t len;

		if (path == NULL) {
			rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		rc = fs_read_file(path, ROOT_MAX, &buf, &len, &e);
		if (rc == 0 && (rc = root_parse(path, buf, len, &r, &e)) == 0)
			rc = sigset_new(buf, len, ROOT_MAX, v, &ss, &e);
		free(path);
		free(buf);
		if (rc != 0)
			goto out;
	}
	if ((rc = org_pair_load(org, keyfile, &pk, &sk, &e)) != 0)
		goto out;
	/* A root key of v, or of v-1: anyone else's signature is noise. */
	mine = root_find_key(&r, ROOT_ROLE_ROOT, pk.keyid) != NULL;
	if (!mine && v > 1) {
		if (v - 1 == head.version)
			prev = head;
		else {
			struct sigset *p = NULL;

			rc = load_version(rootdir, v - 1, &p, &ue);
			if (rc == 0)
				rc = root_parse("previous root", p->bytes,
				    p->len, &prev, &ue);
			sigset_free(p);
			if (rc != 0)
				memset(&prev, 0, sizeof prev);
		}
		mine = root_find_key(&prev, ROOT_ROLE_ROOT, pk.keyid) != NULL;
	}
	sig_keyid_hex(pk.keyid, hex);
	if (!mine) {
		rc = err_set(&e, MUSTER_ETRUST, "%s (key %s) is not a root key "
		    "of root %lld or %lld; nothing signed", keyfile, hex,
		    (long long)v, (long long)(v - 1));
		goto out;
	}
	(void)root_trusted_comment(v, tc, sizeof tc);
	if ((rc = sigset_sign(ss, sk, tc, &e)) != 0 ||
	    (rc = sigset_write_sig(rootdir, doc, ss->texts[0],
	    ss->textlens[0], &e)) != 0)
		goto out;
	printf("%s/%s.%s%s: signed by %s\n", rootdir, doc, hex,
	    SIGSET_SIG_SUFFIX, hex);
out:
	sig_seckey_free(sk);
	sigset_free(ss);
	sigset_free(cur);
	free(rootdir);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

/* ---- publish ----------------------------------------------------------- */

static int
root_publish(const char *org, const char *admin_url, int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct sigset *ss = NULL, *cur = NULL;
	struct root head, r;
	json_t *doc = NULL, *body = NULL;
	char *rootdir = NULL, name[64];
	int64_t v = 0;
	long status = 0;
	int rc;

	if ((rc = version_arg("root publish", argc, argv, &v)) != 0)
		return rc;
	if ((rc = newest(org, &head, &cur, &v, &e)) != 0)
		goto out;
	if ((rootdir = fs_path(org, ORG_ROOT_DIR)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	snprintf(name, sizeof name, "root/%lld.cfg", (long long)v);
	if (v == head.version && cur != NULL) {
		ss = cur;
		cur = NULL;
	} else if (v == head.version + 1) {
		/* Exactly the check a device makes. */
		if ((rc = load_version(rootdir, v, &ss, &e)) != 0 ||
		    (rc = root_update(&head, name, ss, &r, &e)) != 0)
			goto out;
	} else {
		rc = err_set(&e, MUSTER_EUSAGE, "root %lld: the current root "
		    "is %lld; publish it or the next one", (long long)v,
		    (long long)head.version);
		goto out;
	}
	if ((rc = sigset_to_json(ss, &doc, &e)) != 0)
		goto out;
	if ((body = json_pack("{s:O}", "root", doc)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = admin_post_json(org, admin_url, PROTO_PATH_ADMIN_ROOT, body,
	    &status, NULL, &e)) != 0)
		goto out;
	printf("%s: root %lld published (%zu signatures)\n", name,
	    (long long)v, ss->nsigs);
out:
	json_decref(doc);
	json_decref(body);
	sigset_free(ss);
	sigset_free(cur);
	free(rootdir);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

/* ---- dispatch ---------------------------------------------------------- */

struct root_args {
	const char		*org, *key, *admin_url;
	struct rotate_args	 rot;
};

int
rootcmd_main(int argc, char **argv)
{
	struct root_args a;
	const char *sub;
	int k, ex, rotating;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &a.org),
		CLI_OPT_ARG("key", 'k', &a.key),
		CLI_OPT_LIST("add-pin", 'a', a.rot.add, a.rot.nadd),
		CLI_OPT_LIST("remove-pin", 'd', a.rot.del, a.rot.ndel),
		CLI_OPT_ARG("server", 's', &a.rot.server),
		CLI_OPT_LIST("replace", 'r', a.rot.replace, a.rot.nreplace),
		CLI_OPT_ARG("root-keys", 'n', &a.rot.nroot),
		CLI_OPT_ARG("threshold", 't', &a.rot.threshold),
		CLI_OPT_ARG("expires", 'x', &a.rot.expires),
		CLI_OPT_FLAG("no-passphrase", 'p', &a.rot.no_pass),
		CLI_OPT_ARG("admin-url", 'U', &a.admin_url),
		CLI_OPT_END,
	};

	memset(&a, 0, sizeof a);
	a.rot.expires = "365d";
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(root_usage, stdout);
		return 0;
	}
	if (argc < 2)
		return cli_usage("root", "expected show, rotate, sign or "
		    "publish (see muster-enroll root --help)");
	sub = argv[1];
	if ((k = cli_options(argc - 1, argv + 1, "", opts, root_usage, NULL,
	    NULL, &ex)) < 0)
		return ex;
	if (a.org == NULL)
		a.org = org_default_dir();
	rotating = strcmp(sub, "rotate") == 0;
	if (!rotating && (a.rot.nadd || a.rot.ndel || a.rot.server ||
	    a.rot.nreplace || a.rot.nroot || a.rot.threshold ||
	    a.rot.no_pass))
		return cli_usage("root", "--add-pin, --remove-pin, --server, "
		    "--replace, --root-keys and --threshold are rotate's");
	if (a.key != NULL && strcmp(sub, "sign") != 0)
		return cli_usage("root", "--key is sign's");
	if (strcmp(sub, "show") == 0)
		return root_show(a.org, argc - 1 - k, argv + 1 + k);
	if (rotating) {
		if (k != argc - 1)
			return cli_usage("root rotate", "unexpected argument "
			    "\"%s\"", argv[1 + k]);
		return root_rotate(a.org, &a.rot);
	}
	if (strcmp(sub, "sign") == 0) {
		if (a.key == NULL)
			return cli_usage("root sign", "--key FILE is required "
			    "(the root key that signs)");
		return root_sign(a.org, a.key, argc - 1 - k, argv + 1 + k);
	}
	if (strcmp(sub, "publish") == 0)
		return root_publish(a.org, a.admin_url, argc - 1 - k,
		    argv + 1 + k);
	return cli_usage("root", "unknown subcommand \"%s\" (show, rotate, "
	    "sign, publish)", sub);
}
