/*
 * org: `muster-enroll init` and the loading of the org's keys.
 *
 * init builds the whole organisation in a private temporary directory
 * beside the target and renames it into place with RENAME_NOREPLACE, so
 * an existing directory is never touched and a failure leaves nothing
 * half-made.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libconfig.h>
#include <sodium.h>

#include "muster/cfgread.h"
#include "muster/cfgscan.h"
#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/pass.h"
#include "muster/profile.h"
#include "muster/root.h"
#include "muster/sig.h"
#include "muster/sigset.h"
#include "muster/timefmt.h"
#include "muster/url.h"
#include "org.h"
#include "tlscert.h"

static const char init_usage[] =
"usage: muster-enroll init --org DIR --server URL [--no-passphrase]\n"
"           [--root-keys N --threshold K]\n"
"\n"
"Creates a new organisation in DIR, which must not exist.  Every key is a\n"
"minisign pair (NAME.key, 0600, encrypted with a passphrase; NAME.pub):\n"
"  root-1.key .. root-N.key   the root keys: K of them sign each new root\n"
"               (give each to a different person, keep them offline)\n"
"  policy.key   signs profiles and manifests (org.key and org.pub are\n"
"               the same pair under their first-wave names)\n"
"  revocation.key  signs revocations of devices and tokens\n"
"  enroll.key   signs enrollment tokens\n"
"  root/1.cfg   root version 1: server, pin, each role's keys, signed by\n"
"               every root key (root/1.cfg.KEYID.minisig)\n"
"  org.cfg      server URL, admin URL (admin_url: the admin listener,\n"
"               https://127.0.0.1:PORT+1), policy key id, creation time\n"
"  server.key   the command server's TLS key (ECDSA P-256, 0600)\n"
"  server.crt   its self-signed certificate for the URL's host\n"
"  server.pin   the certificate's public key pin (sha256//BASE64)\n"
"  admin.token  the administrator's bearer token for the server's\n"
"               /v1/admin API (0600; publish and revoke send it)\n"
"  server.cfg   a ready muster-server configuration (0600): devices on\n"
"               the URL's host and port, the admin API, /metrics and\n"
"               the console on loopback only (admin_listen, the next\n"
"               port); holds only the admin token's BLAKE2b-256 hash\n"
"\n"
"options:\n"
"  --org DIR         the directory to create (required)\n"
"  --server URL      https://HOST[:PORT] devices will reach (required)\n"
"  --no-passphrase   leave the keys unencrypted (as minisign -W does)\n"
"  --root-keys N     how many root keys (1-8, default 1)\n"
"  --threshold K     how many of them must sign a root (default 1)\n"
"  --help            this text\n"
"\n"
"The passphrase is read from the file named by MUSTER_PASSPHRASE_FILE,\n"
"or asked twice on the terminal.\n";

int
org_count_parse(const char *s, unsigned max, unsigned *out)
{
	unsigned long v;
	char *end;

	if (s[0] < '1' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

const char *
org_default_dir(void)
{
	const char *d = getenv(ORG_ENV);

	return d != NULL && *d != '\0' ? d : ".";
}

/*
 * fs_read_secret's use for a minisign secret key file: the passphrase is
 * asked only when the key is encrypted.  arg is the struct sig_seckey **.
 */
static int
seckey_use(const char *path, const char *buf, size_t len, void *arg,
    struct muster_err *e)
{
	char *pass = NULL, *prompt = NULL;
	int rc, enc;

	if ((enc = sig_seckey_encrypted(path, buf, len, e)) < 0)
		return enc;
	if (enc) {
		if (asprintf(&prompt, "Passphrase for %s: ", path) == -1)
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		rc = pass_read(prompt, 0, &pass, e);
		free(prompt);
		if (rc != 0)
			return rc;
	}
	rc = sig_seckey_parse(path, buf, len, pass, arg, e);
	pass_free(pass);
	return rc;
}

int
org_seckey_load(const char *path, struct sig_seckey **sk,
    struct muster_err *e)
{
	*sk = NULL;
	return fs_read_secret(path, SIG_KEYFILE_MAX, seckey_use, sk, e);
}

int
org_cfg_load(const char *dir, struct org_cfg *c, struct muster_err *e)
{
	static const char *const keys[] = { "server", "pin" };
	struct muster_err ue = { 0 };
	char *path = NULL, *buf = NULL, *dst[2];
	size_t len = 0, size[2], i;
	config_t cfg;
	config_setting_t *s;
	const char *env;
	int rc;

	memset(c, 0, sizeof *c);
	dst[0] = c->server;
	size[0] = sizeof c->server;
	dst[1] = c->pin;
	size[1] = sizeof c->pin;
	config_init(&cfg);
	if ((path = fs_path(dir, ORG_CFG)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = fs_read_file(path, ORG_CFG_MAX, &buf, &len, e)) != 0)
		goto out;
	if ((rc = cfgscan_read(&cfg, path, "org.cfg", buf, len, 1, e)) != 0) {
		rc = MUSTER_ECONFIG;
		if (e != NULL)
			e->code = rc;
		goto out;
	}
	for (i = 0; i < 2; i++) {
		s = config_setting_get_member(config_root_setting(&cfg),
		    keys[i]);
		if (s == NULL) {
			rc = err_set(e, MUSTER_ECONFIG, "%s: missing \"%s\"",
			    path, keys[i]);
			goto out;
		}
		if (cfgread_str_copy(s, dst[i], size[i]) != 0) {
			rc = cfgread_err(e, MUSTER_ECONFIG, path, s, "\"%s\" "
			    "must be a string of at most %zu bytes", keys[i],
			    size[i] - 1);
			goto out;
		}
	}
	if (url_parse(c->server, &c->url, &ue) != 0) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: \"server\": %s", path,
		    ue.msg);
		goto out;
	}
	if (strncmp(c->pin, TLSCERT_PIN_PREFIX, strlen(TLSCERT_PIN_PREFIX))
	    != 0) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: \"pin\" is not "
		    "sha256//BASE64", path);
		goto out;
	}
	/* The admin listener: the environment, org.cfg, the default. */
	env = getenv(ORG_ADMIN_URL_ENV);
	s = config_setting_get_member(config_root_setting(&cfg), "admin_url");
	if (env != NULL && *env != '\0') {
		if (org_cfg_admin_set(c, env, &ue) != 0) {
			rc = err_set(e, MUSTER_ECONFIG, "%s: %s",
			    ORG_ADMIN_URL_ENV, ue.msg);
			goto out;
		}
	} else if (s != NULL) {
		if (cfgread_str_copy(s, c->admin, sizeof c->admin) != 0) {
			rc = cfgread_err(e, MUSTER_ECONFIG, path, s,
			    "\"admin_url\" must be a string of at most %zu "
			    "bytes", sizeof c->admin - 1);
			goto out;
		}
		if (org_cfg_admin_set(c, c->admin, &ue) != 0) {
			rc = cfgread_err(e, MUSTER_ECONFIG, path, s,
			    "\"admin_url\": %s", ue.msg);
			goto out;
		}
	} else {
		snprintf(c->admin, sizeof c->admin, "https://127.0.0.1:%u",
		    org_admin_port(c->url.port));
		if ((rc = url_parse(c->admin, &c->admin_url, e)) != 0)
			goto out;
	}
	rc = 0;
out:
	config_destroy(&cfg);
	free(buf);
	free(path);
	return rc;
}

unsigned
org_admin_port(unsigned port)
{
	return port < 65535 ? port + 1 : port - 1;
}

int
org_cfg_admin_set(struct org_cfg *c, const char *url, struct muster_err *e)
{
	struct url u;
	int rc;

	if (strlen(url) >= sizeof c->admin)
		return err_set(e, MUSTER_EUSAGE, "admin URL longer than %zu "
		    "bytes", sizeof c->admin - 1);
	if ((rc = url_parse(url, &u, e)) != 0)
		return rc;
	memmove(c->admin, url, strlen(url) + 1);
	c->admin_url = u;
	return 0;
}

int
org_keys_load(const char *dir, struct sig_pubkey *pk, struct sig_seckey **sk,
    struct muster_err *e)
{
	return org_pair_load(dir, ORG_ORG, pk, sk, e);
}

int
org_has_roots(const char *dir)
{
	struct stat st;
	char *p = fs_path(dir, ORG_ROOT_DIR);
	int rc;

	rc = p != NULL && lstat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return rc;
}

int
org_pair_load(const char *dir, const char *name, struct sig_pubkey *pk,
    struct sig_seckey **sk, struct muster_err *e)
{
	struct sig_pubkey mine;
	char *keypath = NULL, *pubpath = NULL;
	size_t n = strlen(name), sl = strlen(ORG_KEY_SUFFIX);
	int rc;

	*sk = NULL;
	if (n > sl && strcmp(name + n - sl, ORG_KEY_SUFFIX) == 0) {
		/* A path to the .key file; its .pub beside it. */
		if ((keypath = strdup(name)) == NULL ||
		    asprintf(&pubpath, "%.*s%s", (int)(n - sl), name,
		    ORG_PUB_SUFFIX) == -1)
			pubpath = NULL;
	} else if (asprintf(&keypath, "%s/%s%s", dir, name, ORG_KEY_SUFFIX) ==
	    -1 || asprintf(&pubpath, "%s/%s%s", dir, name, ORG_PUB_SUFFIX) ==
	    -1) {
		keypath = NULL;
		pubpath = NULL;
	}
	if (keypath == NULL || pubpath == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = sig_pubkey_load(pubpath, pk, e)) != 0 ||
	    (rc = org_seckey_load(keypath, sk, e)) != 0)
		goto out;
	sig_seckey_pubkey(*sk, &mine);
	if (memcmp(&mine, pk, sizeof mine) != 0) {
		sig_seckey_free(*sk);
		*sk = NULL;
		rc = err_set(e, MUSTER_ECONFIG, "%s does not belong to %s",
		    keypath, pubpath);
	}
out:
	free(keypath);
	free(pubpath);
	return rc;
}

/* Writes dir/NAME SUFFIX (suffix may be "") with O_EXCL. */
static int
put(const char *dir, const char *name, const char *suffix, const void *buf,
    size_t len, mode_t mode, struct muster_err *e)
{
	char *path;
	int rc;

	if (asprintf(&path, "%s/%s%s", dir, name, suffix) == -1)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = fs_create_excl(path, buf, len, mode, e);
	free(path);
	return rc;
}

int
org_pair_make(const char *dir, const char *name, const char *pass,
    struct sig_pubkey *pk, struct sig_seckey **skp, struct muster_err *e)
{
	struct sig_seckey *sk = NULL;
	char *skfile = NULL, *pkfile = NULL;
	size_t sklen = 0;
	int rc;

	if (skp != NULL)
		*skp = NULL;
	if ((rc = sig_keygen(pk, &sk, e)) != 0 ||
	    (rc = sig_seckey_format(sk, pass, &skfile, &sklen, e)) != 0 ||
	    (rc = put(dir, name, ORG_KEY_SUFFIX, skfile, sklen, 0600, e)) != 0 ||
	    (rc = sig_pubkey_format(pk, &pkfile, e)) != 0 ||
	    (rc = put(dir, name, ORG_PUB_SUFFIX, pkfile, strlen(pkfile), 0644,
	    e)) != 0)
		goto out;
	if (skp != NULL) {
		*skp = sk;
		sk = NULL;
	}
out:
	if (skfile != NULL)
		sodium_free(skfile);
	free(pkfile);
	sig_seckey_free(sk);
	return rc;
}

/* Removes the files of dir (no deeper), then dir itself. */
static void
rm_flat(const char *dir)
{
	struct dirent *de;
	DIR *d;
	char *p;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			if ((p = fs_path(dir, de->d_name)) != NULL) {
				(void)unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	(void)rmdir(dir);
}

/* Removes what init made in tmp (root/ included), then tmp itself. */
static void
cleanup(const char *tmp)
{
	char *p;

	if ((p = fs_path(tmp, ORG_ROOT_DIR)) != NULL) {
		rm_flat(p);
		free(p);
	}
	rm_flat(tmp);
}

/*
 * Writes admin.token (32 random bytes as 64 lowercase hex digits and a
 * newline, 0600) and server.cfg (0600), which holds only the token's
 * BLAKE2b-256 hash, so that the server never stores the token itself.
 */
static int
make_admin(const char *tmp, const struct url *u, struct muster_err *e)
{
	unsigned char rnd[ORG_ADMIN_TOKEN_BYTES], hash[ORG_ADMIN_HASH_BYTES];
	char tok[2 * ORG_ADMIN_TOKEN_BYTES + 2];
	char hex[2 * ORG_ADMIN_HASH_BYTES + 1];
	const char *listen;
	char *cfg = NULL, admin[96];
	unsigned aport = org_admin_port(u->port);
	size_t n;
	int rc;

	/* The server listens on an address literal; a name is the admin's. */
	listen = u->is_ip ? u->host : "0.0.0.0";
	/* The admin API on loopback only, IPv6's too beside an IPv6 host. */
	if (u->is_v6)
		snprintf(admin, sizeof admin, "[\"127.0.0.1:%u\", "
		    "\"[::1]:%u\"]", aport, aport);
	else
		snprintf(admin, sizeof admin, "\"127.0.0.1:%u\"", aport);
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(tok, sizeof tok, rnd, sizeof rnd);
	n = 2 * ORG_ADMIN_TOKEN_BYTES;
	/* The hash is over the token's hex text, without the newline. */
	crypto_generichash(hash, sizeof hash, (unsigned char *)tok, n, NULL,
	    0);
	sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
	tok[n] = '\n';
	tok[n + 1] = '\0';
	if ((rc = put(tmp, ORG_ADMIN_TOKEN, "", tok, n + 1, 0600, e)) != 0)
		goto out;
	if (asprintf(&cfg,
	    "# muster-server configuration, written by muster-enroll init.\n"
	    "# Paths are relative to this file's directory.\n"
	    "listen = \"%s\";%*s# %s\n"
	    "port = %u;\n"
	    "# The admin API (/v1/admin), /metrics and the console: never on\n"
	    "# the device listener.  Keep it on loopback or a management\n"
	    "# network; muster-enroll reaches it through org.cfg's admin_url.\n"
	    "admin_listen = %s;\n"
	    "tls_cert = \"%s\";\n"
	    "tls_key = \"%s\";\n"
	    "# The org's roots: the server verifies with the newest one's "
	    "roles.\n"
	    "root_dir = \"%s\";\n"
	    "data_dir = \"data\";\n"
	    "manifest_warn = \"2d\";         # warn before a manifest "
	    "expires\n"
	    "# BLAKE2b-256 of admin.token's 64 hex digits (without newline).\n"
	    "admin_token_hash = \"%s\";\n"
	    "log = \"stderr\";              # or \"syslog\"\n"
	    "log_level = \"info\";          # error, warn, info, debug\n"
	    "limits = {\n"
	    "  max_body = 65536; max_connections = 512; max_per_ip = 64;\n"
	    "  connection_timeout = 15; connection_memory = 32768; "
	    "threads = 4;\n"
	    "};\n", listen, strlen(listen) < 16 ? (int)(16 - strlen(listen)) :
	    1, "", u->is_ip ? "the URL's host" : "the URL's host is a name: "
	    "every IPv4 address; write the name's address to narrow it",
	    u->port, admin, TLSCERT_CERT_FILE, TLSCERT_KEY_FILE, ORG_ROOT_DIR,
	    hex) ==
	    -1) {
		cfg = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = put(tmp, ORG_SERVER_CFG, "", cfg, strlen(cfg), 0600, e);
out:
	sodium_memzero(rnd, sizeof rnd);
	sodium_memzero(tok, sizeof tok);
	sodium_memzero(hash, sizeof hash);
	free(cfg);
	return rc;
}

/*
 * Writes root/1.cfg for the keys made and signs it with every root key,
 * then checks it as a device would (root_verify_self).
 */
static int
make_root(const char *tmp, const char *server, const char *pin,
    struct sig_pubkey *roles[ROOT_NROLES], const size_t nkeys[ROOT_NROLES],
    unsigned threshold, struct sig_seckey *const *rootsk,
    struct muster_err *e)
{
	struct sigset *ss = NULL;
	struct root r, check;
	char *dir = NULL, *text = NULL, tc[ROOT_TC_MAX];
	size_t len = 0, i, k;
	int rc;

	memset(&r, 0, sizeof r);
	r.version = 1;
	r.expires = time(NULL) + ORG_ROOT_TTL;
	snprintf(r.server, sizeof r.server, "%s", server);
	snprintf(r.pins[0], sizeof r.pins[0], "%s", pin);
	r.npins = 1;
	for (i = 0; i < ROOT_NROLES; i++) {
		for (k = 0; k < nkeys[i]; k++)
			r.roles[i].keys[k] = roles[i][k];
		r.roles[i].nkeys = nkeys[i];
		r.roles[i].threshold = i == ROOT_ROLE_ROOT ? threshold : 1;
	}
	if ((dir = fs_path(tmp, ORG_ROOT_DIR)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (mkdir(dir, 0755) == -1) {
		rc = err_sys(e, MUSTER_ECANTCREAT, "%s", dir);
		goto out;
	}
	if ((rc = root_format(&r, &text, &len, e)) != 0 ||
	    (rc = put(dir, "1.cfg", "", text, len, 0644, e)) != 0 ||
	    (rc = sigset_new(text, len, ROOT_MAX, 1, &ss, e)) != 0)
		goto out;
	(void)root_trusted_comment(1, tc, sizeof tc);
	for (k = 0; k < nkeys[ROOT_ROLE_ROOT]; k++)
		if ((rc = sigset_sign(ss, rootsk[k], tc, e)) != 0 ||
		    (rc = sigset_write_sig(dir, "1.cfg", ss->texts[k],
		    ss->textlens[k], e)) != 0)
			goto out;
	rc = root_verify_self("root/1.cfg", ss, &check, e);
out:
	sigset_free(ss);
	free(text);
	free(dir);
	return rc;
}

static int
make_org(const char *tmp, const char *server, const struct url *u,
    int no_pass, unsigned nroot, unsigned threshold, char *pin,
    struct muster_err *e)
{
	struct sig_pubkey rootpk[ROOT_KEYS_MAX], pol, rev, enr;
	struct sig_pubkey *roles[ROOT_NROLES];
	size_t nkeys[ROOT_NROLES];
	struct sig_seckey *rootsk[ROOT_KEYS_MAX] = { NULL };
	char *pass = NULL, *cfg = NULL, *a = NULL, *b = NULL;
	char hex[SIG_KEYID_HEX], now[TIMEFMT_LEN], name[32];
	const char *sfx[2] = { ORG_KEY_SUFFIX, ORG_PUB_SUFFIX };
	unsigned i;
	int rc;

	if (!no_pass && (rc = pass_read("Passphrase for the new org keys: ",
	    1, &pass, e)) != 0)
		goto out;
	for (i = 0; i < nroot; i++) {
		snprintf(name, sizeof name, ORG_ROOT_KEY_FMT, i + 1);
		if ((rc = org_pair_make(tmp, name, pass, &rootpk[i],
		    &rootsk[i], e)) != 0)
			goto out;
	}
	if ((rc = org_pair_make(tmp, ORG_POLICY, pass, &pol, NULL, e)) != 0 ||
	    (rc = org_pair_make(tmp, ORG_REVOCATION, pass, &rev, NULL,
	    e)) != 0 ||
	    (rc = org_pair_make(tmp, ORG_ENROLL, pass, &enr, NULL, e)) != 0)
		goto out;
	/* org.key, org.pub: the policy pair's first-wave names. */
	for (i = 0; i < 2; i++) {
		free(a);
		free(b);
		if (asprintf(&a, "%s/%s%s", tmp, ORG_POLICY, sfx[i]) == -1 ||
		    asprintf(&b, "%s/org%s", tmp, sfx[i]) == -1) {
			a = b = NULL;
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		if (link(a, b) == -1) {
			rc = err_sys(e, MUSTER_ECANTCREAT, "%s", b);
			goto out;
		}
	}
	if ((rc = tlscert_create(tmp, u->host, pin, e)) != 0)
		goto out;
	roles[ROOT_ROLE_ROOT] = rootpk;
	nkeys[ROOT_ROLE_ROOT] = nroot;
	roles[ROOT_ROLE_POLICY] = &pol;
	roles[ROOT_ROLE_REVOCATION] = &rev;
	roles[ROOT_ROLE_ENROLL] = &enr;
	nkeys[ROOT_ROLE_POLICY] = nkeys[ROOT_ROLE_REVOCATION] =
	    nkeys[ROOT_ROLE_ENROLL] = 1;
	if ((rc = make_root(tmp, server, pin, roles, nkeys, threshold, rootsk,
	    e)) != 0)
		goto out;
	if ((rc = make_admin(tmp, u, e)) != 0)
		goto out;
	sig_keyid_hex(pol.keyid, hex);
	timefmt_format(time(NULL), now);
	if (asprintf(&cfg, "# Muster organisation, written by muster-enroll "
	    "init.\n"
	    "server = \"%s\";\n"
	    "# The server's admin listener (server.cfg's admin_listen), for\n"
	    "# publish, revoke, manifest and root publish; --admin-url and\n"
	    "# MUSTER_ADMIN_URL override it.\n"
	    "admin_url = \"https://127.0.0.1:%u\";\n"
	    "key_id = \"%s\";\n"
	    "pin = \"%s\";\n"
	    "created = \"%s\";\n", server, org_admin_port(u->port), hex, pin,
	    now) == -1) {
		cfg = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = put(tmp, ORG_CFG, "", cfg, strlen(cfg), 0644, e);
out:
	for (i = 0; i < ROOT_KEYS_MAX; i++)
		sig_seckey_free(rootsk[i]);
	free(cfg);
	free(a);
	free(b);
	pass_free(pass);
	return rc;
}

int
org_init(int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct url u;
	struct stat st;
	const char *dir = NULL, *server = NULL;
	char *tmp = NULL, *copy = NULL, pin[TLSCERT_PIN_MAX];
	unsigned char rnd[6];
	char rndhex[2 * sizeof rnd + 1];
	const char *nroot_s = "1", *thr_s = NULL;
	unsigned nroot, thr;
	int ex, no_pass = 0, rc;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'o', &dir),
		CLI_OPT_ARG("server", 's', &server),
		CLI_OPT_FLAG("no-passphrase", 'n', &no_pass),
		CLI_OPT_ARG("root-keys", 'r', &nroot_s),
		CLI_OPT_ARG("threshold", 't', &thr_s),
		CLI_OPT_END,
	};

	if (cli_options_operand(argc, argv, "", opts, init_usage, NULL, NULL,
	    NULL, &ex) < 0)
		return ex;
	if (dir == NULL || server == NULL)
		return cli_usage("init", "--org DIR and --server URL are "
		    "required");
	if (org_count_parse(nroot_s, ROOT_KEYS_MAX, &nroot) != 0)
		return cli_usage("init", "--root-keys \"%s\": want 1 to %d",
		    nroot_s, ROOT_KEYS_MAX);
	if (thr_s == NULL)
		thr = 1;
	else if (org_count_parse(thr_s, nroot, &thr) != 0)
		return cli_usage("init", "--threshold \"%s\": want 1 to the "
		    "number of root keys (%u)", thr_s, nroot);
	if ((rc = url_parse(server, &u, &e)) != 0)
		return cli_fail(rc, &e);
	if (lstat(dir, &st) == 0) {
		err_set(&e, MUSTER_ECANTCREAT, "%s: already exists; init "
		    "never touches an existing directory", dir);
		return cli_fail(e.code, &e);
	}
	/* A private sibling, renamed into place when complete. */
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(rndhex, sizeof rndhex, rnd, sizeof rnd);
	if (asprintf(&tmp, "%s.init-%s", dir, rndhex) == -1) {
		err_set(&e, MUSTER_EINTERNAL, "out of memory");
		return cli_fail(e.code, &e);
	}
	if (mkdir(tmp, 0700) == -1) {
		rc = err_sys(&e, MUSTER_ECANTCREAT, "%s", dir);
		goto out;
	}
	if ((rc = make_org(tmp, server, &u, no_pass, nroot, thr, pin,
	    &e)) != 0) {
		cleanup(tmp);
		goto out;
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) == -1) {
		rc = err_sys(&e, MUSTER_ECANTCREAT, "%s", dir);
		cleanup(tmp);
		goto out;
	}
	if ((copy = strdup(dir)) != NULL)
		(void)fs_sync_dir(dirname(copy), NULL);
	printf("Created organisation in %s\n"
	    "  server:  %s\n"
	    "  pin:     %s\n"
	    "  root:    %s/%s/1.cfg, %u root key%s (root-N.key), %u must "
	    "sign\n"
	    "  keys:    %s.key (= org.key), %s.key, %s.key (%s)\n"
	    "  server:  %s/%s (with %s, %s, %s/)\n"
	    "  admin:   %s/%s (0600; publish and revoke send it)\n"
	    "  admin listener: https://127.0.0.1:%u (loopback only; org.cfg "
	    "admin_url)\n"
	    "Give each root key to a different person and keep it offline; "
	    "the server\nneeds only the public files.\n", dir, server, pin,
	    dir, ORG_ROOT_DIR, nroot, nroot == 1 ? "" : "s", thr, ORG_POLICY,
	    ORG_REVOCATION, ORG_ENROLL, no_pass ? "NOT encrypted" :
	    "encrypted", dir, ORG_SERVER_CFG, TLSCERT_CERT_FILE,
	    TLSCERT_KEY_FILE, ORG_ROOT_DIR, dir, ORG_ADMIN_TOKEN,
	    org_admin_port(u.port));
	rc = 0;
out:
	free(copy);
	free(tmp);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
