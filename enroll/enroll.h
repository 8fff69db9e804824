/*
 * muster-enroll: the administrator's CLI.  Each subcommand is a function
 * taking its own argv (argv[0] is the subcommand's name) and returning the
 * process exit code; main.c only dispatches.
 */
#ifndef MUSTER_ENROLL_H
#define MUSTER_ENROLL_H

#include "muster/err.h"
#include "muster/sig.h"

#define ENROLL_PROG	"muster-enroll"
#define ORG_ENV		"MUSTER_ORG"	/* default for --org */
#define ORG_KEY		"org.key"
#define ORG_PUB		"org.pub"
#define ORG_CFG		"org.cfg"

int	org_init(int argc, char **argv);
int	profcmd_lint(int argc, char **argv);
int	profcmd_sign(int argc, char **argv);
int	profcmd_verify(int argc, char **argv);

/* The --org default: $MUSTER_ORG, else the current directory. */
const char *org_default_dir(void);

/*
 * Loads a secret key file (the org's org.key or a minisign key), refusing
 * one that others can read, asking for the passphrase only when the key is
 * encrypted.  *sk is owned by the caller (sig_seckey_free).
 */
int	org_seckey_load(const char *path, struct sig_seckey **sk,
	    struct muster_err *e);

/* Prints "muster-enroll: MSG" as one line on stderr; returns the exit code. */
int	cli_fail(int rc, const struct muster_err *e);

/* Prints a one-line usage error and returns 64. */
int	cli_usage(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
