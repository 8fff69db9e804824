/* muster-enroll: dispatch to the subcommand; see enroll/enroll.h. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "enroll.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *what;
} cmds[] = {
	{ "init",	org_init,	"create an organisation: keys, TLS identity, pin" },
	{ "lint",	profcmd_lint,	"check a profile without signing it" },
	{ "sign",	profcmd_sign,	"sign a profile with the org key" },
	{ "verify",	profcmd_verify,	"verify a signed profile and show what it says" },
	{ "token",	tokcmd_token,	"make an enrollment bundle for one device" },
	{ "roster",	tokcmd_roster,	"make enrollment bundles for every row of a CSV" },
	{ "publish",	admin_publish,	"publish a signed profile to the server" },
	{ "revoke",	admin_revoke,	"revoke a device or an unused token" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s COMMAND [OPTIONS] [ARGS]\n"
	    "       %s COMMAND --help\n\ncommands:\n", ENROLL_PROG,
	    ENROLL_PROG);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].what);
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
	size_t i;

	if (sodium_init() < 0) {
		fprintf(stderr, "%s: libsodium failed to initialise\n",
		    ENROLL_PROG);
		return 70;
	}
	if (argc < 2) {
		usage(stderr);
		return 64;
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
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	return cli_usage(NULL, "unknown command \"%s\" (see %s --help)",
	    argv[1], ENROLL_PROG);
}
