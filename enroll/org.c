/*
 * org: `muster-enroll init` and the loading of the org's keys.
 *
 * init builds the whole organisation in a private temporary directory
 * beside the target and renames it into place with RENAME_NOREPLACE, so
 * an existing directory is never touched and a failure leaves nothing
 * half-made.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "muster/url.h"
#include "org.h"
#include "tlscert.h"

static const char init_usage[] =
"usage: muster-enroll init --org DIR --server URL [--no-passphrase]\n"
"\n"
"Creates a new organisation in DIR, which must not exist:\n"
"  org.key      the org's Ed25519 secret key (minisign format, 0600),\n"
"               encrypted with a passphrase\n"
"  org.pub      its public key (minisign format)\n"
"  org.cfg      server URL, key id, creation time\n"
"  server.key   the command server's TLS key (ECDSA P-256, 0600)\n"
"  server.crt   its self-signed certificate for the URL's host\n"
"  server.pin   the certificate's public key pin (sha256//BASE64)\n"
"  admin.token  the administrator's bearer token for the server's\n"
"               /v1/admin API (0600; publish and revoke send it)\n"
"  server.cfg   a ready muster-server configuration (0600): listens on\n"
"               the URL's host and port, holds only the admin token's\n"
"               BLAKE2b-256 hash\n"
"\n"
"options:\n"
"  --org DIR         the directory to create (required)\n"
"  --server URL      https://HOST[:PORT] devices will reach (required)\n"
"  --no-passphrase   leave org.key unencrypted (as minisign -W does)\n"
"  --help            this text\n"
"\n"
"The passphrase is read from the file named by MUSTER_PASSPHRASE_FILE,\n"
"or asked twice on the terminal.\n";

const char *
org_default_dir(void)
{
	const char *d = getenv(ORG_ENV);

	return d != NULL && *d != '\0' ? d : ".";
}

int
org_seckey_load(const char *path, struct sig_seckey **sk,
    struct muster_err *e)
{
	char *buf = NULL, *pass = NULL, *prompt = NULL;
	size_t len = 0;
	int rc, enc;

	*sk = NULL;
	if ((rc = fs_read_private(path, SIG_KEYFILE_MAX, &buf, &len, e)) != 0)
		goto out;
	if ((enc = sig_seckey_encrypted(path, buf, len, e)) < 0) {
		rc = enc;
		goto out;
	}
	if (enc) {
		if (asprintf(&prompt, "Passphrase for %s: ", path) == -1) {
			prompt = NULL;
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		if ((rc = pass_read(prompt, 0, &pass, e)) != 0)
			goto out;
	}
	rc = sig_seckey_parse(path, buf, len, pass, sk, e);
out:
	if (buf != NULL) {
		sodium_memzero(buf, len);
		free(buf);
	}
	free(prompt);
	pass_free(pass);
	return rc;
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
	rc = 0;
out:
	config_destroy(&cfg);
	free(buf);
	free(path);
	return rc;
}

int
org_keys_load(const char *dir, struct sig_pubkey *pk, struct sig_seckey **sk,
    struct muster_err *e)
{
	struct sig_pubkey mine;
	char *keypath = NULL, *pubpath = NULL;
	int rc;

	*sk = NULL;
	if ((keypath = fs_path(dir, ORG_KEY)) == NULL ||
	    (pubpath = fs_path(dir, ORG_PUB)) == NULL) {
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
		goto out;
	}
	rc = 0;
out:
	free(keypath);
	free(pubpath);
	return rc;
}

/* Writes name in dir with O_EXCL. */
static int
put(const char *dir, const char *name, const void *buf, size_t len,
    mode_t mode, struct muster_err *e)
{
	char *path;
	int rc;

	if ((path = fs_path(dir, name)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = fs_create_excl(path, buf, len, mode, e);
	free(path);
	return rc;
}

/* Removes what init made in tmp, then tmp itself. */
static void
cleanup(const char *tmp)
{
	static const char *names[] = { ORG_KEY, ORG_PUB, ORG_CFG,
	    "server.key", "server.crt", "server.pin", ORG_ADMIN_TOKEN,
	    ORG_SERVER_CFG };
	char *p;
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((p = fs_path(tmp, names[i])) != NULL) {
			(void)unlink(p);
			free(p);
		}
	(void)rmdir(tmp);
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
	char *cfg = NULL;
	size_t n;
	int rc;

	/* The server listens on an address literal; a name is the admin's. */
	listen = u->is_ip ? u->host : "0.0.0.0";
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2hex(tok, sizeof tok, rnd, sizeof rnd);
	n = 2 * ORG_ADMIN_TOKEN_BYTES;
	/* The hash is over the token's hex text, without the newline. */
	crypto_generichash(hash, sizeof hash, (unsigned char *)tok, n, NULL,
	    0);
	sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
	tok[n] = '\n';
	tok[n + 1] = '\0';
	if ((rc = put(tmp, ORG_ADMIN_TOKEN, tok, n + 1, 0600, e)) != 0)
		goto out;
	if (asprintf(&cfg,
	    "# muster-server configuration, written by muster-enroll init.\n"
	    "# Paths are relative to this file's directory.\n"
	    "listen = \"%s\";%*s# %s\n"
	    "port = %u;\n"
	    "tls_cert = \"%s\";\n"
	    "tls_key = \"%s\";\n"
	    "org_key = \"%s\";\n"
	    "data_dir = \"data\";\n"
	    "# BLAKE2b-256 of admin.token's 64 hex digits (without newline).\n"
	    "admin_token_hash = \"%s\";\n"
	    "log = \"stderr\";              # or \"syslog\"\n"
	    "log_level = \"info\";          # error, warn, info, debug\n"
	    "limits = {\n"
	    "  max_body = 65536; max_connections = 512; max_per_ip = 64;\n"
	    "  connection_timeout = 15; connection_memory = 65536; "
	    "threads = 4;\n"
	    "};\n", listen, strlen(listen) < 16 ? (int)(16 - strlen(listen)) :
	    1, "", u->is_ip ? "the URL's host" : "the URL's host is a name: "
	    "every IPv4 address; write the name's address to narrow it",
	    u->port, TLSCERT_CERT_FILE, TLSCERT_KEY_FILE, ORG_PUB, hex) == -1) {
		cfg = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = put(tmp, ORG_SERVER_CFG, cfg, strlen(cfg), 0600, e);
out:
	sodium_memzero(rnd, sizeof rnd);
	sodium_memzero(tok, sizeof tok);
	sodium_memzero(hash, sizeof hash);
	free(cfg);
	return rc;
}

static int
make_org(const char *tmp, const char *server, const struct url *u,
    int no_pass, char *pin, struct muster_err *e)
{
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	char *pass = NULL, *skfile = NULL, *pkfile = NULL, *cfg = NULL;
	char hex[SIG_KEYID_HEX], now[TIMEFMT_LEN];
	size_t sklen = 0;
	int rc;

	if (!no_pass && (rc = pass_read("Passphrase for the new org key: ",
	    1, &pass, e)) != 0)
		goto out;
	if ((rc = sig_keygen(&pk, &sk, e)) != 0)
		goto out;
	if ((rc = sig_seckey_format(sk, pass, &skfile, &sklen, e)) != 0 ||
	    (rc = put(tmp, ORG_KEY, skfile, sklen, 0600, e)) != 0)
		goto out;
	if ((rc = sig_pubkey_format(&pk, &pkfile, e)) != 0 ||
	    (rc = put(tmp, ORG_PUB, pkfile, strlen(pkfile), 0644, e)) != 0)
		goto out;
	if ((rc = tlscert_create(tmp, u->host, pin, e)) != 0)
		goto out;
	if ((rc = make_admin(tmp, u, e)) != 0)
		goto out;
	sig_keyid_hex(pk.keyid, hex);
	timefmt_format(time(NULL), now);
	if (asprintf(&cfg, "# Muster organisation, written by muster-enroll "
	    "init.\n"
	    "server = \"%s\";\n"
	    "key_id = \"%s\";\n"
	    "pin = \"%s\";\n"
	    "created = \"%s\";\n", server, hex, pin, now) == -1) {
		cfg = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	rc = put(tmp, ORG_CFG, cfg, strlen(cfg), 0644, e);
out:
	if (skfile != NULL)
		sodium_free(skfile);
	free(pkfile);
	free(cfg);
	pass_free(pass);
	sig_seckey_free(sk);
	return rc;
}

int
org_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'o' },
		{ "server", required_argument, NULL, 's' },
		{ "no-passphrase", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct muster_err e = { 0 };
	struct url u;
	struct stat st;
	const char *dir = NULL, *server = NULL;
	char *tmp = NULL, *copy = NULL, pin[TLSCERT_PIN_MAX];
	unsigned char rnd[6];
	char rndhex[2 * sizeof rnd + 1];
	int c, no_pass = 0, rc;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 's': server = optarg; break;
		case 'n': no_pass = 1; break;
		case 'h': fputs(init_usage, stdout); return 0;
		default:
			return cli_usage("init", "bad option \"%s\" (see "
			    "muster-enroll init --help)", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage("init", "unexpected argument \"%s\"",
		    argv[optind]);
	if (dir == NULL || server == NULL)
		return cli_usage("init", "--org DIR and --server URL are "
		    "required");
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
	if ((rc = make_org(tmp, server, &u, no_pass, pin, &e)) != 0) {
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
	    "  org key: %s/%s (%s)\n"
	    "  server:  %s/%s (with %s, %s, %s)\n"
	    "  admin:   %s/%s (0600; publish and revoke send it)\n"
	    "Keep org.key offline; devices and the server need only "
	    "org.pub.\n", dir, server, pin, dir, ORG_KEY,
	    no_pass ? "NOT encrypted" : "encrypted", dir, ORG_SERVER_CFG,
	    TLSCERT_CERT_FILE, TLSCERT_KEY_FILE, ORG_PUB, dir,
	    ORG_ADMIN_TOKEN);
	rc = 0;
out:
	free(copy);
	free(tmp);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
