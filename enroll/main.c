/* muster-enroll: dispatch to the subcommand; see include/muster/cli.h. */
#include <stdio.h>
#include <string.h>

#include "muster/cli.h"
#include "admin.h"
#include "certcmd.h"
#include "mancmd.h"
#include "org.h"
#include "profcmd.h"
#include "rootcmd.h"
#include "roster.h"
#include "tokcmd.h"

#define ENROLL_PROG	"muster-enroll"

static const struct cli_cmd_argv cmds[] = {
	{ { "init",	"create an organisation: keys, TLS identity, pin" }, org_init },
	{ { "lint",	"check a profile without signing it" }, profcmd_lint },
	{ { "sign",	"sign a profile with the org key" }, profcmd_sign },
	{ { "verify",	"verify a signed profile and show what it says" }, profcmd_verify },
	{ { "token",	"make an enrollment bundle for one device" }, tokcmd_token },
	{ { "roster",	"make enrollment bundles for every row of a CSV" }, roster_cmd },
	{ { "publish",	"publish a signed profile and its scope's manifest" },
	    admin_publish },
	{ { "manifest",	"re-sign and upload the scopes' manifests (expiry)" },
	    mancmd_main },
	{ { "revoke",	"revoke a device or a token (and the device it "
	    "enrolled)" }, admin_revoke },
	{ { "root",	"show, rotate, sign and publish the org's root of "
	    "trust" }, rootcmd_main },
	{ { "cert",	"renew the server's TLS certificate (same or new key)" },
	    certcmd_main },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s COMMAND [OPTIONS] [ARGS]\n"
	    "       %s COMMAND --help\n\ncommands:\n", ENROLL_PROG,
	    ENROLL_PROG);
	CLI_CMD_LIST(f, cmds);
	fprintf(f, "\noptions:\n"
	    "  --help     this text\n"
	    "  --version  the version\n\n"
	    "environment:\n"
	    "  MUSTER_ORG              default organisation directory "
	    "(else .)\n"
	    "  MUSTER_PASSPHRASE_FILE  file holding the org key passphrase "
	    "(else a prompt)\n\n"
	    "exit codes: 0 ok, 64 usage, 65 bad data, 66 missing input, "
	    "69 server unavailable,\n"
	    "            73 cannot create, 75 server error (try again), "
	    "77 trust failure,\n"
	    "            78 bad configuration\n");
}

int
main(int argc, char **argv)
{
	const struct cli_cmd_argv *cmd;
	int rc;

	cli_init(ENROLL_PROG);
	if ((rc = cli_sodium_init()) != 0)
		return rc;
	if (argc < 2) {
		usage(stderr);
		return CLI_EX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", ENROLL_PROG, MUSTER_VERSION);
		return 0;
	}
	if ((cmd = CLI_CMD_FIND(cmds, argv[1])) == NULL)
		return cli_cmd_unknown(argv[1]);
	return cmd->fn(argc - 1, argv + 1);
}
