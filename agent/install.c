/*
 * install: `muster-agent trust` and `muster-agent install`.
 *
 * A profile is installed only if its signature verifies against the anchor
 * over the exact bytes read, those bytes parse, it has not expired, its
 * scope is the device's, and its serial does not roll back the installed
 * profile of the same id (an equal serial must be byte-identical).  Any
 * family profile the oracle lint refuses (muster/oracle.h) is refused too
 * (exit 65), however it was signed.  Any refusal leaves the installed
 * profiles as they were.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/oracle.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "cmd.h"
#include "install.h"
#include "state.h"

static const char trust_usage[] =
"usage: muster-agent [--state DIR] trust [--scope personnel|family] ORG.pub\n"
"\n"
"Sets the trust anchor: the organisation's public key (minisign format)\n"
"that every profile must be signed with, and the device's scope.  Done\n"
"once; an anchor is never replaced.  Creates the state directory (0700).\n"
"\n"
"options:\n"
"  --scope S     personnel (default) or family\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

static const char install_usage[] =
"usage: muster-agent [--state DIR] install PROFILE.cfg [SIG]\n"
"\n"
"Installs a signed profile from a file (air gap).  SIG defaults to\n"
"PROFILE.cfg.minisig.  Refused, exit 77, and the installed profile kept:\n"
"a bad signature or key, an expired profile, another scope, a serial lower\n"
"than the installed one (or equal with other content).  Exit 65 for a\n"
"malformed or oversized file, a family profile the oracle lint refuses\n"
"(more than 3 rules on one attribute), 66 for a missing one.\n"
"\n"
"options:\n"
"  --state DIR   the agent's state (default /var/lib/muster)\n"
"  --help        this text\n";

struct trust_args {
	enum profile_scope	scope;
	int			bad;
};

static int
trust_opt(void *arg, int c, const char *val)
{
	struct trust_args *t = arg;

	if (c != 's' || profile_scope_parse(val, &t->scope) != 0)
		return -1;
	return 0;
}

int
install_cmd_trust(struct cmd_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ "scope", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct trust_args t = { SCOPE_PERSONNEL, 0 };
	struct muster_err e = { 0 };
	struct sig_pubkey pk;
	char hex[SIG_KEYID_HEX];
	int i, ex, rc;

	if ((i = cmd_getopt(o, argc, argv, "", opts, trust_usage, trust_opt,
	    &t, &ex)) < 0)
		return ex;
	if (argc - i != 1)
		return cli_usage("trust", "expected one ORG.pub");
	if ((rc = sig_pubkey_load(argv[i], &pk, &e)) != 0)
		return cli_fail(rc, &e);
	if ((rc = state_open(o->state, 1, &e)) != 0 ||
	    (rc = state_anchor_set(o->state, &pk, t.scope, &e)) != 0)
		return cli_fail(rc, &e);
	sig_keyid_hex(pk.keyid, hex);
	printf("trust anchor set: org key %s, scope %s, state %s\n", hex,
	    profile_scope_name(t.scope), o->state);
	return 0;
}

/*
 * A family profile whose rules together pin down one attribute of the
 * phone (muster/oracle.h): refused as lint refuses it, even when signed
 * (a signing tool that skipped lint).  Returns 0 or MUSTER_EDATA.
 */
static int
oracle_refuse(const struct profile *p, const char *path,
    struct muster_err *e)
{
	struct oracle_finding f;

	if (!oracle_refusal(p, &f))
		return 0;
	return err_set(e, MUSTER_EDATA, "%s:%d: family profile \"%s\": %s; "
	    "refused", path, f.line, p->id, f.msg);
}

/*
 * Judges p (verified, from bytes/len) against the anchor's scope, the
 * clock and the installed profiles.  Returns 0 to install, 1 when the
 * identical profile is already installed, or MUSTER_ETRUST.
 */
static int
judge(const struct profile *p, const char *bytes, size_t len,
    const struct state_anchor *a, const struct state_profile *inst,
    size_t ninst, const char *path, struct muster_err *e)
{
	size_t i;
	int rc;

	if (p->expires <= time(NULL))
		return err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" expired "
		    "on %s; refused", path, p->id, p->expires_str);
	if (p->scope != a->scope)
		return err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" is for "
		    "scope %s, this device is %s; refused", path, p->id,
		    profile_scope_name(p->scope), profile_scope_name(a->scope));
	if ((rc = oracle_refuse(p, path, e)) != 0)
		return rc;
	for (i = 0; i < ninst; i++) {
		if (strcmp(inst[i].p->id, p->id) != 0)
			continue;
		if (p->serial < inst[i].p->serial)
			return err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" "
			    "serial %lld is older than the installed serial "
			    "%lld (rollback); refused", path, p->id,
			    (long long)p->serial,
			    (long long)inst[i].p->serial);
		if (p->serial == inst[i].p->serial) {
			if (len == inst[i].len &&
			    memcmp(bytes, inst[i].bytes, len) == 0)
				return 1;
			return err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" "
			    "serial %lld is installed with other content; a "
			    "change needs a higher serial; refused", path,
			    p->id, (long long)p->serial);
		}
	}
	return 0;
}

int
install_judge(const char *dir, const struct state_anchor *a,
    const struct profile *p, const char *bytes, size_t len, const char *name,
    struct muster_err *e)
{
	struct state_profile *inst = NULL;
	size_t ninst = 0;
	int rc;

	if ((rc = state_profiles_load(dir, a, &inst, &ninst, e)) != 0)
		return rc;
	rc = judge(p, bytes, len, a, inst, ninst, name, e);
	state_profiles_free(inst, ninst);
	return rc;
}

int
install_profile(const char *dir, const struct state_anchor *a,
    const char *name, const char *buf, size_t len, const char *signame,
    const char *sig, size_t siglen, struct profile **outp,
    struct muster_err *e)
{
	struct state_profile *inst = NULL;
	struct profile *p = NULL;
	size_t ninst = 0;
	int rc;

	if (outp != NULL)
		*outp = NULL;
	/* Capped first, verified second, parsed third (one buffer). */
	if (len > PROFILE_MAX_BYTES)
		return err_set(e, MUSTER_EDATA, "%s: profile too large (%zu "
		    "bytes, limit %d)", name, len, PROFILE_MAX_BYTES);
	if (siglen > SIG_FILE_MAX)
		return err_set(e, MUSTER_EDATA, "%s: signature too large",
		    signame);
	if ((rc = state_profile_verify(a, name, buf, len, signame, sig, siglen,
	    &p, e)) != 0)
		goto out;
	if ((rc = state_profiles_load(dir, a, &inst, &ninst, e)) != 0)
		goto out;
	if ((rc = judge(p, buf, len, a, inst, ninst, name, e)) < 0)
		goto out;
	if (rc == 0 && (rc = state_profile_store(dir, p, buf, len, sig, siglen,
	    e)) != 0)
		goto out;
	if (outp != NULL) {
		*outp = p;
		p = NULL;
	}
out:
	state_profiles_free(inst, ninst);
	profile_free(p);
	return rc;
}

int
install_cmd_install(struct cmd_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		CMD_COMMON_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct muster_err e = { 0 };
	struct state_anchor a;
	struct profile *p = NULL;
	const char *path, *sigarg;
	char *buf = NULL, *sig = NULL, *sigpath = NULL;
	size_t len = 0, siglen = 0;
	int i, ex, rc;

	if ((i = cmd_getopt(o, argc, argv, "", opts, install_usage, NULL,
	    NULL, &ex)) < 0)
		return ex;
	if (argc - i < 1 || argc - i > 2)
		return cli_usage("install", "expected PROFILE.cfg [SIG]");
	path = argv[i];
	if (argc - i == 2)
		sigarg = argv[i + 1];
	else {
		if (asprintf(&sigpath, "%s.minisig", path) == -1) {
			rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		sigarg = sigpath;
	}
	if ((rc = state_open(o->state, 0, &e)) != 0 ||
	    (rc = state_anchor_load(o->state, &a, &e)) != 0)
		goto out;
	if ((rc = fs_read_file(path, PROFILE_MAX_BYTES, &buf, &len, &e)) != 0 ||
	    (rc = fs_read_file(sigarg, SIG_FILE_MAX, &sig, &siglen, &e)) != 0)
		goto out;
	rc = install_profile(o->state, &a, path, buf, len, sigarg, sig, siglen,
	    &p, &e);
	if (rc == 1) {
		printf("profile \"%s\" serial %lld is already installed\n",
		    p->id, (long long)p->serial);
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	printf("installed profile \"%s\" serial %lld (scope %s, %zu rules, "
	    "expires %s)\n", p->id, (long long)p->serial,
	    profile_scope_name(p->scope), p->nrules, p->expires_str);
out:
	profile_free(p);
	free(buf);
	free(sig);
	free(sigpath);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

int
install_json_decode(const char *name, json_t *obj, unsigned char **bytes,
    size_t *len, const char **sig, const char **id, json_int_t *serial,
    struct muster_err *e)
{
	const char *b64 = NULL;
	size_t b64len, max;

	*bytes = NULL;
	*len = 0;
	if (!json_is_object(obj) || json_unpack(obj, "{s:s,s:I,s:s,s:s}",
	    "id", id, "serial", serial, "profile", &b64, "signature",
	    sig) != 0)
		return err_set(e, MUSTER_EDATA, "%s: not a profile object "
		    "(id, serial, profile, signature)", name);
	b64len = strlen(b64);
	if (b64len > (PROFILE_MAX_BYTES / 3 + 1) * 4)
		return err_set(e, MUSTER_EDATA, "%s: profile too large", name);
	max = b64len / 4 * 3 + 3;
	if ((*bytes = malloc(max + 1)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (sodium_base642bin(*bytes, max, b64, b64len, NULL, len, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(*bytes);
		*bytes = NULL;
		return err_set(e, MUSTER_EDATA, "%s: profile is not base64",
		    name);
	}
	(*bytes)[*len] = '\0';
	return 0;
}

/*
 * 0 when a profile object's unsigned labels (id, serial) are the signed
 * profile p's own, else MUSTER_ETRUST naming both.
 */
static int
labels_match(const char *name, const char *id, json_int_t serial,
    const struct profile *p, struct muster_err *e)
{
	if (strcmp(id, p->id) == 0 && serial == p->serial)
		return 0;
	return err_set(e, MUSTER_ETRUST, "%s: labelled \"%s\" serial %lld "
	    "but the signed profile is \"%s\" serial %lld", name, id,
	    (long long)serial, p->id, (long long)p->serial);
}

int
install_profile_json_check(const struct state_anchor *a, const char *name,
    json_t *obj, struct profile **outp, char hash[SIGSET_HASH_HEX],
    struct muster_err *e)
{
	enum profile_scope scope = a->scope;
	struct profile *p = NULL;
	const char *sig = NULL, *id = NULL;
	json_int_t serial = 0;
	unsigned char *bytes = NULL;
	size_t len = 0;
	int rc;

	*outp = NULL;
	if ((rc = install_json_decode(name, obj, &bytes, &len, &sig, &id,
	    &serial, e)) != 0)
		return rc;
	if (len > PROFILE_MAX_BYTES || strlen(sig) > SIG_FILE_MAX) {
		rc = err_set(e, MUSTER_EDATA, "%s: profile or signature too "
		    "large", name);
		goto out;
	}
	if ((rc = state_profile_verify(a, name, (const char *)bytes, len,
	    name, sig, strlen(sig), &p, e)) != 0)
		goto out;
	if (hash != NULL)
		sigset_hash_hex(bytes, len, hash);
	if ((rc = labels_match(name, id, serial, p, e)) != 0)
		goto out;
	if (p->expires <= time(NULL))
		rc = err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" expired "
		    "on %s; refused", name, p->id, p->expires_str);
	else if (p->scope != scope)
		rc = err_set(e, MUSTER_ETRUST, "%s: profile \"%s\" is for "
		    "scope %s, not %s; refused", name, p->id,
		    profile_scope_name(p->scope), profile_scope_name(scope));
	else
		rc = oracle_refuse(p, name, e);
	if (rc == 0) {
		*outp = p;
		p = NULL;
	}
out:
	profile_free(p);
	free(bytes);
	return rc;
}

int
install_profile_json(const char *dir, const struct state_anchor *a,
    const char *name, json_t *obj, struct profile **outp,
    struct muster_err *e)
{
	struct profile *p = NULL;
	const char *sig = NULL, *id = NULL;
	json_int_t serial = 0;
	unsigned char *bytes = NULL;
	size_t len = 0;
	int rc;

	if (outp != NULL)
		*outp = NULL;
	if ((rc = install_json_decode(name, obj, &bytes, &len, &sig, &id,
	    &serial, e)) != 0)
		return rc;
	/* Unsigned labels that disagree with the signed bytes: refuse. */
	if (len <= PROFILE_MAX_BYTES && strlen(sig) <= SIG_FILE_MAX &&
	    state_profile_verify(a, name, (const char *)bytes, len, name, sig,
	    strlen(sig), &p, NULL) == 0 &&
	    (rc = labels_match(name, id, serial, p, e)) != 0)
		goto out;
	profile_free(p);
	p = NULL;
	rc = install_profile(dir, a, name, (const char *)bytes, len, name, sig,
	    strlen(sig), &p, e);
	if (rc < 0)
		goto out;
	if (outp != NULL) {
		*outp = p;
		p = NULL;
	}
out:
	profile_free(p);
	free(bytes);
	return rc;
}
