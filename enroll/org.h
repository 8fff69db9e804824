/*
 * org: the organisation directory (--org DIR, default $MUSTER_ORG, else
 * .): `muster-enroll init`, which makes it, and the loading of its keys
 * and org.cfg for the other commands.
 */
#ifndef MUSTER_ENROLL_ORG_H
#define MUSTER_ENROLL_ORG_H

#include <sodium.h>

#include "muster/err.h"
#include "muster/sig.h"
#include "muster/url.h"

#define ORG_ENV		"MUSTER_ORG"	/* default for --org */
#define ORG_ORG		"org"		/* the pair org.key, org.pub */
#define ORG_KEY		ORG_ORG ".key"
#define ORG_PUB		ORG_ORG ".pub"
#define ORG_CFG		"org.cfg"
#define ORG_ADMIN_TOKEN	"admin.token"	/* 64 hex + "\n", 0600 */
#define ORG_SERVER_CFG	"server.cfg"	/* muster-server's config, 0600 */
#define ORG_ADMIN_TOKEN_BYTES	32	/* random bytes in the admin token */
#define ORG_ADMIN_TOKEN_HEX	(2 * ORG_ADMIN_TOKEN_BYTES)
#define ORG_ADMIN_HASH_BYTES	crypto_generichash_BYTES	/* BLAKE2b-256 */
#define ORG_CFG_MAX		(64 * 1024)

#define ORG_PIN_MAX		64	/* "sha256//" + base64 of 32 bytes + NUL */

/*
 * The role keys of an organisation with roots (docs/keys.md): each a
 * minisign pair, NAME.key (0600) and NAME.pub.  org.key and org.pub are
 * the policy pair under its first-wave name (hard links), so that sign,
 * verify and `minisign -V -p org.pub` work as before.
 */
#define ORG_ROOT_DIR		"root"		/* N.cfg, N.cfg.KEYID.minisig */
#define ORG_MANIFEST_DIR	"manifest"	/* SCOPE.cfg and signatures */
#define ORG_POLICY		"policy"
#define ORG_REVOCATION		"revocation"
#define ORG_ENROLL		"enroll"
#define ORG_ROOT_KEY_FMT	"root-%u"	/* root-1 .. root-N */
#define ORG_KEY_SUFFIX		".key"
#define ORG_PUB_SUFFIX		".pub"
#define ORG_ROOT_TTL		(365 * 86400)	/* a new root's expiry */

#define ORG_ADMIN_URL_ENV	"MUSTER_ADMIN_URL"	/* over org.cfg's */

/* What org.cfg tells the commands that talk to or about the server. */
struct org_cfg {
	char		server[URL_MAX + 1];	/* as init was given it */
	char		pin[ORG_PIN_MAX];	/* sha256//BASE64 */
	struct url	url;
	/*
	 * The server's admin listener, where publish, revoke, manifest and
	 * root publish go: --admin-url (org_cfg_admin_set), else
	 * $MUSTER_ADMIN_URL, else org.cfg's admin_url, else
	 * https://127.0.0.1:PORT+1 (what the server listens on when its
	 * server.cfg has no admin_listen).  The certificate is still
	 * checked against url's host, and pinned.
	 */
	char		admin[URL_MAX + 1];
	struct url	admin_url;
};

/*
 * `muster-enroll init` (argv[0] is "init"): writes usage errors and
 * failures as one line on stderr; returns the process exit code.
 */
int	org_init(int argc, char **argv);

/* A count 1..max in decimal into *out; 0, or -1 for anything else. */
int	org_count_parse(const char *s, unsigned max, unsigned *out);

/* The --org default: $MUSTER_ORG, else the current directory. */
const char *org_default_dir(void);

/*
 * Loads a secret key file (the org's org.key or a minisign key), refusing
 * one that others can read, asking for the passphrase only when the key is
 * encrypted.  *sk is owned by the caller (sig_seckey_free).
 */
int	org_seckey_load(const char *path, struct sig_seckey **sk,
	    struct muster_err *e);

/*
 * Reads DIR/org.cfg (server URL, pin and the optional admin_url; other
 * settings are ignored) into *c, the admin URL resolved as struct org_cfg
 * says.  Returns 0, MUSTER_ENOINPUT when it is missing, MUSTER_ECONFIG naming
 * the file and line of what is wrong.
 */
int	org_cfg_load(const char *dir, struct org_cfg *c, struct muster_err *e);

/*
 * Replaces c's admin URL with url (--admin-url).  Returns 0, or
 * MUSTER_EUSAGE naming what is wrong with it.
 */
int	org_cfg_admin_set(struct org_cfg *c, const char *url,
	    struct muster_err *e);

/*
 * The port of the server's default admin listener for a device port:
 * port + 1 (65534 for 65535), as muster-server's config_admin_port.
 */
unsigned org_admin_port(unsigned port);

/*
 * Loads the key pair DIR/NAME.key and DIR/NAME.pub (NAME "org", "policy",
 * "root-2", ...; or a path to NAME.key itself when name ends in ".key")
 * and checks that they belong together.  *sk is the caller's.
 */
int	org_pair_load(const char *dir, const char *name, struct sig_pubkey *pk,
	    struct sig_seckey **sk, struct muster_err *e);

/*
 * Makes a new key pair as DIR/NAME.key (0600, encrypted with pass unless
 * it is NULL; never over a file) and DIR/NAME.pub (0644), and returns the
 * halves (*sk the caller's, may be NULL when not wanted).
 */
int	org_pair_make(const char *dir, const char *name, const char *pass,
	    struct sig_pubkey *pk, struct sig_seckey **sk,
	    struct muster_err *e);

/* 1 if DIR has roots (DIR/root exists), else 0: a first-wave org. */
int	org_has_roots(const char *dir);

/*
 * Loads DIR/org.key (see org_seckey_load) and checks that it is the
 * secret half of DIR/org.pub, whose public key goes to *pk.
 */
int	org_keys_load(const char *dir, struct sig_pubkey *pk,
	    struct sig_seckey **sk, struct muster_err *e);

#endif
