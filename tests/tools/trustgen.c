/*
 * trustgen: the organisation's side of issue 11 made from libmuster's
 * own formats, for the agent's e2e tests (tests/e2e/test_trust_agent.sh)
 * and for writing attacks by hand: keys, roots, manifests, signatures,
 * signed documents in their wire form, v2 bundles.  Every key it writes
 * is unencrypted (a test key); every signature is an ordinary minisign
 * signature (stock `minisign -V` verifies it).
 *
 *	trustgen key NAME			NAME.key, NAME.pub
 *	trustgen root OUT VERSION SERVER EXPIRES PINS ROOTPUBS THR
 *	    POLICYPUBS PTHR REVPUB ENROLLPUB	(lists comma-separated)
 *	trustgen sign DOC KEY COMMENT		DOC.KEYID.minisig
 *	trustgen psign PROFILE KEY		PROFILE.minisig
 *	trustgen doc DIR DOC VERSION		the wire JSON on stdout
 *	trustgen manifest OUT SCOPE VERSION EXPIRES [ID SERIAL FILE]...
 *	trustgen bundle DIR DOC ENROLLKEY SCOPE UNIT PERSON SERVER PIN
 *	    EXPIRES				a v2 bundle on stdout
 *	trustgen bundle1 ORGKEY SCOPE UNIT PERSON SERVER PIN EXPIRES
 *						a first-wave (v1) bundle on stdout
 *	trustgen hash FILE			BLAKE2b-256 hex of FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/fs.h"
#include "muster/manifest.h"
#include "muster/profile.h"
#include "muster/root.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "muster/token2.h"

static struct muster_err e;

static void
die(const char *what)
{
	fprintf(stderr, "trustgen: %s: %s\n", what, e.msg);
	exit(1);
}

static char *
slurp(const char *path, size_t *len)
{
	char *buf = NULL;

	if (fs_read_file(path, 1024 * 1024, &buf, len, &e) != 0)
		die(path);
	return buf;
}

static struct sig_seckey *
load_sk(const char *path)
{
	struct sig_seckey *sk = NULL;
	size_t len;
	char *buf = slurp(path, &len);

	if (sig_seckey_parse(path, buf, len, NULL, &sk, &e) != 0)
		die(path);
	free(buf);
	return sk;
}

static void
keyset(struct root_keyset *ks, char *list, unsigned thr)
{
	char *p, *save = NULL;

	memset(ks, 0, sizeof *ks);
	for (p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		if (sig_pubkey_load(p, &ks->keys[ks->nkeys++], &e) != 0)
			die(p);
	ks->threshold = thr;
}

static int
cmd_key(char **av)
{
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	char *kp, *pp, *skt = NULL, *pkt = NULL;
	size_t len;

	if (sig_keygen(&pk, &sk, &e) != 0 ||
	    sig_seckey_format(sk, NULL, &skt, &len, &e) != 0 ||
	    sig_pubkey_format(&pk, &pkt, &e) != 0)
		die("key");
	if (asprintf(&kp, "%s.key", av[0]) == -1 ||
	    asprintf(&pp, "%s.pub", av[0]) == -1)
		return 1;
	if (fs_write_atomic(kp, skt, len, 0600, &e) != 0 ||
	    fs_write_atomic(pp, pkt, strlen(pkt), 0644, &e) != 0)
		die(av[0]);
	sodium_free(skt);
	sig_seckey_free(sk);
	free(pkt);
	free(kp);
	free(pp);
	return 0;
}

static int
cmd_root(char **av)
{
	struct root r;
	char *out = NULL, *p, *save = NULL;
	size_t len;

	memset(&r, 0, sizeof r);
	r.version = atoll(av[1]);
	snprintf(r.server, sizeof r.server, "%s", av[2]);
	if (timefmt_parse(av[3], &r.expires) != 0) {
		fprintf(stderr, "trustgen: bad time %s\n", av[3]);
		return 1;
	}
	for (p = strtok_r(av[4], ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save))
		snprintf(r.pins[r.npins++], ROOT_PIN_SIZE, "%s", p);
	keyset(&r.roles[ROOT_ROLE_ROOT], av[5], (unsigned)atoi(av[6]));
	keyset(&r.roles[ROOT_ROLE_POLICY], av[7], (unsigned)atoi(av[8]));
	keyset(&r.roles[ROOT_ROLE_REVOCATION], av[9], 1);
	keyset(&r.roles[ROOT_ROLE_ENROLL], av[10], 1);
	if (root_format(&r, &out, &len, &e) != 0 ||
	    fs_write_atomic(av[0], out, len, 0644, &e) != 0)
		die(av[0]);
	free(out);
	return 0;
}

static int
cmd_sign(char **av)
{
	struct sig_seckey *sk = load_sk(av[1]);
	char *buf, *sig = NULL, *d = strdup(av[0]), *b = strdup(av[0]);
	size_t len, slen;

	buf = slurp(av[0], &len);
	if (sig_sign(sk, buf, len, av[2], NULL, &sig, &slen, &e) != 0 ||
	    sigset_write_sig(dirname(d), basename(b), sig, slen, &e) != 0)
		die(av[0]);
	sig_seckey_free(sk);
	free(buf);
	free(sig);
	free(d);
	free(b);
	return 0;
}

static int
cmd_psign(char **av)
{
	struct sig_seckey *sk = load_sk(av[1]);
	struct profile *p = NULL;
	char *buf, *sig = NULL, *path, tc[SIG_TRUSTED_MAX];
	size_t len, slen;

	buf = slurp(av[0], &len);
	if (profile_parse(av[0], buf, len, &p, &e) != 0)
		die(av[0]);
	if (profile_trusted_comment(p, tc, sizeof tc) != 0 ||
	    sig_sign(sk, buf, len, tc, NULL, &sig, &slen, &e) != 0 ||
	    asprintf(&path, "%s.minisig", av[0]) == -1 ||
	    fs_write_atomic(path, sig, slen, 0644, &e) != 0)
		die(av[0]);
	profile_free(p);
	sig_seckey_free(sk);
	free(buf);
	free(sig);
	free(path);
	return 0;
}

static struct sigset *
load_doc(const char *dir, const char *doc, const char *version)
{
	struct sigset *ss = NULL;

	if (sigset_load_dir(dir, doc, SIGSET_BYTES_MAX, &ss, &e) != 0)
		die(doc);
	ss->version = atoll(version);
	return ss;
}

static int
cmd_doc(char **av)
{
	struct sigset *ss = load_doc(av[0], av[1], av[2]);
	json_t *o = NULL;

	if (sigset_to_json(ss, &o, &e) != 0)
		die(av[1]);
	json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(o);
	sigset_free(ss);
	return 0;
}

static int
cmd_manifest(int ac, char **av)
{
	struct manifest m;
	char *out = NULL, *buf;
	size_t len, i;
	int k;

	memset(&m, 0, sizeof m);
	if (profile_scope_parse(av[1], &m.scope) != 0 ||
	    timefmt_parse(av[3], &m.expires) != 0) {
		fprintf(stderr, "trustgen: bad scope or time\n");
		return 1;
	}
	m.version = atoll(av[2]);
	for (k = 4; k + 2 < ac; k += 3) {
		i = m.nprofiles++;
		snprintf(m.profiles[i].id, sizeof m.profiles[i].id, "%s",
		    av[k]);
		m.profiles[i].serial = atoll(av[k + 1]);
		buf = slurp(av[k + 2], &len);
		sigset_hash_hex(buf, len, m.profiles[i].hash);
		free(buf);
	}
	if (manifest_format(&m, &out, &len, &e) != 0 ||
	    fs_write_atomic(av[0], out, len, 0644, &e) != 0)
		die(av[0]);
	free(out);
	return 0;
}

static int
cmd_bundle(char **av)
{
	struct sigset *ss = load_doc(av[0], av[1], "0");
	struct sig_seckey *sk = load_sk(av[2]);
	struct token t;
	struct root r;
	char *tok = NULL, *out = NULL;

	if (root_verify_self(av[1], ss, &r, &e) != 0)
		die(av[1]);
	ss->version = r.version;
	memset(&t, 0, sizeof t);
	token_new_id(t.id);
	snprintf(t.server, sizeof t.server, "%s", av[6]);
	snprintf(t.pin, sizeof t.pin, "%s", av[7]);
	if (profile_scope_parse(av[3], &t.scope) != 0 ||
	    timefmt_parse(av[8], &t.expires) != 0) {
		fprintf(stderr, "trustgen: bad scope or time\n");
		return 1;
	}
	snprintf(t.unit, sizeof t.unit, "%s", av[4]);
	snprintf(t.person, sizeof t.person, "%s", av[5]);
	t.root_version = r.version;
	memcpy(t.root_hash, r.hash, sizeof t.root_hash);
	if (token_sign(&t, sk, &tok, &e) != 0 ||
	    token2_bundle_format(ss, tok, &t, &out, &e) != 0)
		die("bundle");
	fputs(out, stdout);
	fflush(stdout);
	fprintf(stderr, "%s\n", t.id);
	free(tok);
	free(out);
	sigset_free(ss);
	sig_seckey_free(sk);
	return 0;
}

static int
cmd_bundle1(char **av)
{
	struct sig_seckey *sk = load_sk(av[0]);
	struct sig_pubkey pk;
	struct token t;
	char *tok = NULL, *out = NULL;

	sig_seckey_pubkey(sk, &pk);
	memset(&t, 0, sizeof t);
	token_new_id(t.id);
	if (profile_scope_parse(av[1], &t.scope) != 0 ||
	    timefmt_parse(av[6], &t.expires) != 0) {
		fprintf(stderr, "trustgen: bad scope or time\n");
		return 1;
	}
	snprintf(t.unit, sizeof t.unit, "%s", av[2]);
	snprintf(t.person, sizeof t.person, "%s", av[3]);
	snprintf(t.server, sizeof t.server, "%s", av[4]);
	snprintf(t.pin, sizeof t.pin, "%s", av[5]);
	if (token_sign(&t, sk, &tok, &e) != 0 ||
	    token_bundle_format(&pk, tok, &t, &out, &e) != 0)
		die("bundle1");
	fputs(out, stdout);
	fflush(stdout);
	free(tok);
	free(out);
	sig_seckey_free(sk);
	return 0;
}

static int
cmd_hash(char **av)
{
	char h[SIGSET_HASH_HEX], *buf;
	size_t len;

	buf = slurp(av[0], &len);
	sigset_hash_hex(buf, len, h);
	puts(h);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	if (sodium_init() < 0 || argc < 3)
		goto usage;
	if (strcmp(argv[1], "key") == 0 && argc == 3)
		return cmd_key(argv + 2);
	if (strcmp(argv[1], "root") == 0 && argc == 13)
		return cmd_root(argv + 2);
	if (strcmp(argv[1], "sign") == 0 && argc == 5)
		return cmd_sign(argv + 2);
	if (strcmp(argv[1], "psign") == 0 && argc == 4)
		return cmd_psign(argv + 2);
	if (strcmp(argv[1], "doc") == 0 && argc == 5)
		return cmd_doc(argv + 2);
	if (strcmp(argv[1], "manifest") == 0 && argc >= 6 && (argc - 6) % 3 == 0)
		return cmd_manifest(argc - 2, argv + 2);
	if (strcmp(argv[1], "bundle") == 0 && argc == 11)
		return cmd_bundle(argv + 2);
	if (strcmp(argv[1], "bundle1") == 0 && argc == 9)
		return cmd_bundle1(argv + 2);
	if (strcmp(argv[1], "hash") == 0 && argc == 3)
		return cmd_hash(argv + 2);
usage:
	fprintf(stderr, "usage: trustgen key|root|sign|psign|doc|manifest|"
	    "bundle|hash ... (see tests/tools/trustgen.c)\n");
	return 64;
}
