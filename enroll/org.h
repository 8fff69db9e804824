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
#define ORG_KEY		"org.key"
#define ORG_PUB		"org.pub"
#define ORG_CFG		"org.cfg"
#define ORG_ADMIN_TOKEN	"admin.token"	/* 64 hex + "\n", 0600 */
#define ORG_SERVER_CFG	"server.cfg"	/* muster-server's config, 0600 */
#define ORG_ADMIN_TOKEN_BYTES	32	/* random bytes in the admin token */
#define ORG_ADMIN_TOKEN_HEX	(2 * ORG_ADMIN_TOKEN_BYTES)
#define ORG_ADMIN_HASH_BYTES	crypto_generichash_BYTES	/* BLAKE2b-256 */
#define ORG_CFG_MAX		(64 * 1024)

#define ORG_PIN_MAX		64	/* "sha256//" + base64 of 32 bytes + NUL */

/* What org.cfg tells the commands that talk to or about the server. */
struct org_cfg {
	char		server[URL_MAX + 1];	/* as init was given it */
	char		pin[ORG_PIN_MAX];	/* sha256//BASE64 */
	struct url	url;
};

/*
 * `muster-enroll init` (argv[0] is "init"): writes usage errors and
 * failures as one line on stderr; returns the process exit code.
 */
int	org_init(int argc, char **argv);

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
 * Reads DIR/org.cfg (server URL and pin; other settings are ignored) into
 * *c.  Returns 0, MUSTER_ENOINPUT when it is missing, MUSTER_ECONFIG naming
 * the file and line of what is wrong.
 */
int	org_cfg_load(const char *dir, struct org_cfg *c, struct muster_err *e);

/*
 * Loads DIR/org.key (see org_seckey_load) and checks that it is the
 * secret half of DIR/org.pub, whose public key goes to *pk.
 */
int	org_keys_load(const char *dir, struct sig_pubkey *pk,
	    struct sig_seckey **sk, struct muster_err *e);

#endif
