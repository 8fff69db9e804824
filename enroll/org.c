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

#include <sodium.h>

#include "muster/fs.h"
#include "muster/pass.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/url.h"
#include "enroll.h"
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
	if ((rc = fs_check_private(path, e)) != 0)
		goto out;
	if ((rc = fs_read_file(path, SIG_KEYFILE_MAX, &buf, &len, e)) != 0)
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
	    "server.key", "server.crt", "server.pin" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((p = fs_path(tmp, names[i])) != NULL) {
			(void)unlink(p);
			free(p);
		}
	(void)rmdir(tmp);
}

static int
make_org(const char *tmp, const char *server, const struct url *u,
    int no_pass, char *pin, struct muster_err *e)
{
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	char *pass = NULL, *skfile = NULL, *pkfile = NULL, *cfg = NULL;
	char hex[SIG_KEYID_HEX], now[21];
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
	sig_keyid_hex(pk.keyid, hex);
	profile_time_format(time(NULL), now);
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
	if (asprintf(&tmp, "%s.init-%02x%02x%02x%02x%02x%02x", dir, rnd[0],
	    rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]) == -1) {
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
	    "Keep org.key offline; devices and the server need only "
	    "org.pub.\n", dir, server, pin, dir, ORG_KEY,
	    no_pass ? "NOT encrypted" : "encrypted");
	rc = 0;
out:
	free(copy);
	free(tmp);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}
