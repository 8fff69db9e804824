/*
 * profcmd: `muster-enroll lint`, `sign` and `verify` of policy profiles.
 *
 * verify checks the signature over the exact bytes read, then parses the
 * same buffer; sign refuses a profile that does not lint and writes only a
 * signature that it has verified itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/oracle.h"
#include "muster/profile.h"
#include "muster/profile_fit.h"
#include "muster/sig.h"
#include "org.h"
#include "profcmd.h"

static const char lint_usage[] =
"usage: muster-enroll lint PROFILE.cfg\n"
"\n"
"Checks a profile against the format of profiles/README.md without\n"
"signing it: fields, rule kinds, ids, CIDRs, dates, size.  Prints one\n"
"line per error as FILE:LINE: what is wrong.\n"
"\n"
"A family profile is also checked for oracles: rules that together pin\n"
"down one attribute of a member's phone (an os-min ladder, many\n"
"model-bans, package-bans or egress-denies, several settings on one\n"
"key).  Two or three such rules are a warning (FILE:LINE: warning:);\n"
"more are refused (exit 65), as sign and publish refuse them.\n"
"\n"
"options:\n"
"  --help   this text\n";

static const char sign_usage[] =
"usage: muster-enroll sign [--org DIR | --key SECKEY] PROFILE.cfg\n"
"\n"
"Lints the profile, signs it with the org key and writes\n"
"PROFILE.cfg.minisig (minisign format, prehashed Ed25519) with the\n"
"trusted comment \"muster-profile id=... serial=... scope=... "
"expires=...\".\n"
"\n"
"options:\n"
"  --org DIR     organisation directory holding org.key\n"
"                (default: $MUSTER_ORG, else .)\n"
"  --key SECKEY  sign with this minisign secret key file instead\n"
"  -o, --output FILE  write the signature to FILE\n"
"  --help        this text\n";

static const char verify_usage[] =
"usage: muster-enroll verify [--pub ORG.pub | --org DIR] [--sig FILE] "
"PROFILE.cfg\n"
"\n"
"Verifies PROFILE.cfg.minisig against the org public key over the\n"
"exact bytes of the profile, then parses them and prints the profile's\n"
"id, serial, scope, expiry and the signing key id.  Exits 77 when the\n"
"signature, key or trusted comment does not verify or the profile has\n"
"expired.\n"
"\n"
"options:\n"
"  --pub FILE   the trusted public key (minisign format)\n"
"  --org DIR    use DIR/org.pub (default: $MUSTER_ORG, else .)\n"
"  --sig FILE   the signature (default: PROFILE.cfg.minisig)\n"
"  --help       this text\n";

/*
 * Issue 13: what lint and sign pass must publish and report; the limits
 * are the protocol's (lib/profile_fit.c).
 */
static int
fit(const char *path, const struct profile *p, size_t len,
    struct muster_err *e)
{
	return profile_fit(path, p, len, e);
}

/* Reads and parses a profile; *buf keeps the bytes for signing. */
static int
load_profile(const char *path, char **buf, size_t *len, struct profile **p,
    struct muster_err *e)
{
	int rc;

	*p = NULL;
	if ((rc = fs_read_file(path, PROFILE_MAX_BYTES, buf, len, e)) != 0 ||
	    (rc = profile_parse(path, *buf, *len, p, e)) != 0)
		return rc;
	return fit(path, *p, *len, e);
}

const char *
profcmd_sig_path(const char *path, const char *sigarg, char **owned)
{
	if (sigarg != NULL)
		return sigarg;
	if (asprintf(owned, "%s%s", path, PROFCMD_SIG_SUFFIX) == -1) {
		*owned = NULL;
		return NULL;
	}
	return *owned;
}

int
profcmd_read_verify(const char *path, const char *sigpath,
    const struct sig_pubkey *pk, char **buf, size_t *len, char **sig,
    size_t *siglen, struct profile **p, struct sig_signature *s,
    struct muster_err *e)
{
	int rc;

	/* Verify over the exact bytes, then parse that same buffer. */
	if ((rc = fs_read_file(path, PROFILE_MAX_BYTES, buf, len, e)) != 0 ||
	    (rc = fs_read_file(sigpath, SIG_FILE_MAX, sig, siglen, e)) != 0)
		return rc;
	return profile_verify(path, *buf, *len, sigpath, *sig, *siglen, pk, p,
	    s, e);
}

int
profcmd_check_unexpired(const char *path, const struct profile *p,
    struct muster_err *e)
{
	if (p->expires <= time(NULL))
		return err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" expired "
		    "on %s", path, p->id, p->expires_str);
	return 0;
}

struct oracle_out {
	const char		*path;
	int			 refused;
	struct muster_err	*e;
};

static void
oracle_one(const struct oracle_finding *f, void *arg)
{
	struct oracle_out *o = arg;

	if (f->refuse && !o->refused) {
		o->refused = 1;
		err_set(o->e, MUSTER_EDATA, "%s:%d: family profile: %s",
		    o->path, f->line, f->msg);
	}
}

static void
oracle_warn(const struct oracle_finding *f, void *arg)
{
	const struct oracle_out *o = arg;

	fprintf(stderr, "%s:%d: warning: %s\n", o->path, f->line, f->msg);
}

int
profcmd_oracle(const char *path, const struct profile *p,
    struct muster_err *e)
{
	struct oracle_out o = { path, 0, e };

	if (oracle_scan(p, oracle_one, &o) > 0)
		return MUSTER_EDATA;
	(void)oracle_scan(p, oracle_warn, &o);
	return 0;
}

int
profcmd_lint(int argc, char **argv)
{
	static const struct cli_opt opts[] = { CLI_OPT_END };
	struct muster_err e = { 0 };
	struct profile *p = NULL;
	char *buf = NULL;
	size_t len = 0;
	int k, ex, rc;

	if ((k = cli_options(argc, argv, "", opts, lint_usage, NULL, NULL,
	    &ex)) < 0)
		return ex;
	if (argc - k != 1)
		return cli_usage("lint", "expected one PROFILE.cfg");
	if ((rc = load_profile(argv[k], &buf, &len, &p, &e)) == 0 &&
	    p->expires <= time(NULL))
		rc = err_set(&e, MUSTER_EDATA, "%s: \"expires\" (%s) is in the "
		    "past", argv[k], p->expires_str);
	if (rc == 0)
		rc = profcmd_oracle(argv[k], p, &e);
	if (rc == 0)
		printf("%s: ok: profile \"%s\" serial %lld, scope %s, %zu "
		    "rule%s, expires %s\n", argv[k], p->id,
		    (long long)p->serial, profile_scope_name(p->scope),
		    p->nrules, p->nrules == 1 ? "" : "s", p->expires_str);
	profile_free(p);
	free(buf);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

int
profcmd_sign(int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct profile *p = NULL;
	struct sig_seckey *sk = NULL;
	struct sig_pubkey orgpk, skpk;
	const char *org = NULL, *key = NULL, *out = NULL, *path;
	char *buf = NULL, *sig = NULL, *keypath = NULL, *pubpath = NULL;
	char *sigpath = NULL, tc[SIG_TRUSTED_MAX], hex[SIG_KEYID_HEX];
	size_t len = 0, siglen = 0;
	int k, ex, rc;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &org),
		CLI_OPT_ARG("key", 'k', &key),
		CLI_OPT_ARG("output", 'o', &out),
		CLI_OPT_END,
	};

	if ((k = cli_options(argc, argv, "o:", opts, sign_usage, NULL, NULL,
	    &ex)) < 0)
		return ex;
	if (argc - k != 1)
		return cli_usage("sign", "expected one PROFILE.cfg");
	if (org != NULL && key != NULL)
		return cli_usage("sign", "--org and --key exclude each other");
	path = argv[k];
	if ((rc = load_profile(path, &buf, &len, &p, &e)) != 0)
		goto out;
	if (p->expires <= time(NULL)) {
		rc = err_set(&e, MUSTER_EDATA, "%s: \"expires\" (%s) is in the "
		    "past; refusing to sign", path, p->expires_str);
		goto out;
	}
	if ((rc = profcmd_oracle(path, p, &e)) != 0)
		goto out;
	if (key == NULL) {
		if (org == NULL)
			org = org_default_dir();
		if ((keypath = fs_path(org, ORG_KEY)) == NULL ||
		    (pubpath = fs_path(org, ORG_PUB)) == NULL) {
			rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		key = keypath;
	}
	if ((rc = org_seckey_load(key, &sk, &e)) != 0)
		goto out;
	/* A key that is not the org's would sign what no device trusts. */
	if (pubpath != NULL) {
		if ((rc = sig_pubkey_load(pubpath, &orgpk, &e)) != 0)
			goto out;
		sig_seckey_pubkey(sk, &skpk);
		if (memcmp(&orgpk, &skpk, sizeof orgpk) != 0) {
			rc = err_set(&e, MUSTER_ECONFIG, "%s does not belong "
			    "to %s", key, pubpath);
			goto out;
		}
	}
	if (profile_trusted_comment(p, tc, sizeof tc) != 0) {
		rc = err_set(&e, MUSTER_EDATA, "%s: id too long for a trusted "
		    "comment", path);
		goto out;
	}
	if ((rc = sig_sign(sk, buf, len, tc, NULL, &sig, &siglen, &e)) != 0)
		goto out;
	if ((out = profcmd_sig_path(path, out, &sigpath)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = fs_write_atomic(out, sig, siglen, 0644, &e)) != 0)
		goto out;
	sig_keyid_hex(sk->keyid, hex);
	printf("%s: signed by key %s: %s\n", out, hex, tc);
out:
	sig_seckey_free(sk);
	profile_free(p);
	free(buf);
	free(sig);
	free(keypath);
	free(pubpath);
	free(sigpath);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

int
profcmd_verify(int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct profile *p = NULL;
	struct sig_pubkey pk;
	struct sig_signature s;
	const char *pub = NULL, *org = NULL, *sigarg = NULL, *path;
	char *buf = NULL, *sigbuf = NULL, *pubpath = NULL, *sigpath = NULL;
	char hex[SIG_KEYID_HEX];
	size_t len = 0, siglen = 0;
	int k, ex, rc;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("pub", 'p', &pub),
		CLI_OPT_ARG("org", 'o', &org),
		CLI_OPT_ARG("sig", 's', &sigarg),
		CLI_OPT_END,
	};

	if ((k = cli_options(argc, argv, "", opts, verify_usage, NULL, NULL,
	    &ex)) < 0)
		return ex;
	if (argc - k != 1)
		return cli_usage("verify", "expected one PROFILE.cfg");
	if (pub != NULL && org != NULL)
		return cli_usage("verify", "--pub and --org exclude each other");
	path = argv[k];
	if (pub == NULL) {
		if ((pubpath = fs_path(org != NULL ? org : org_default_dir(),
		    ORG_PUB)) == NULL) {
			rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		pub = pubpath;
	}
	if ((sigarg = profcmd_sig_path(path, sigarg, &sigpath)) == NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = sig_pubkey_load(pub, &pk, &e)) != 0 ||
	    (rc = profcmd_read_verify(path, sigarg, &pk, &buf, &len, &sigbuf,
	    &siglen, &p, &s, &e)) != 0)
		goto out;
	sig_keyid_hex(s.keyid, hex);
	printf("%s: signature ok\n"
	    "id:       %s\n"
	    "serial:   %lld\n"
	    "scope:    %s\n"
	    "expires:  %s\n"
	    "key id:   %s\n"
	    "rules:    %zu\n"
	    "trusted comment: %s\n", path, p->id, (long long)p->serial,
	    profile_scope_name(p->scope), p->expires_str, hex, p->nrules,
	    s.trusted);
	rc = profcmd_check_unexpired(path, p, &e);
out:
	profile_free(p);
	free(buf);
	free(sigbuf);
	free(pubpath);
	free(sigpath);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
