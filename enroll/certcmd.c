/*
 * certcmd: `muster-enroll cert renew`; see certcmd.h.
 *
 * The new files go beside the current ones (server-next.*) and nothing
 * is switched here: devices accept only the pins of the root they hold,
 * so a new key's pin must be in a published root before the server
 * presents it.
 */
#include <stdio.h>
#include <string.h>

#include "muster/cli.h"
#include "certcmd.h"
#include "org.h"
#include "tlscert.h"

static const char cert_usage[] =
"usage: muster-enroll cert renew [--org DIR] [--new-key]\n"
"\n"
"Makes a new certificate for the command server (DIR/org.cfg's host),\n"
"for its key (DIR/server.key) or, with --new-key, for a new key, as\n"
"DIR/server-next.crt, server-next.pin (and server-next.key), never over\n"
"a file, and prints the pin.  The same key keeps the pin: switch at once.\n"
"A new key's pin must reach the devices first, in a root:\n"
"  muster-enroll root rotate --add-pin PIN   (then root sign, root publish)\n"
"then, once devices have fetched it, switch the server (move server-next.*\n"
"over server.*, restart muster-server) and later rotate the old pin out.\n"
"\n"
"options:\n"
"  --org DIR    organisation directory (default: $MUSTER_ORG, else .)\n"
"  --new-key    a new key, not only a new certificate\n"
"  --help       this text\n";

int
certcmd_main(int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct org_cfg oc;
	const char *org = NULL;
	char pin[TLSCERT_PIN_MAX];
	int k, ex, rc, new_key = 0;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &org),
		CLI_OPT_FLAG("new-key", 'n', &new_key),
		CLI_OPT_END,
	};

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(cert_usage, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "renew") != 0)
		return cli_usage("cert", "expected renew (see muster-enroll "
		    "cert --help)");
	if ((k = cli_options(argc - 1, argv + 1, "", opts, cert_usage, NULL,
	    NULL, &ex)) < 0)
		return ex;
	if (k != argc - 1)
		return cli_usage("cert renew", "unexpected argument \"%s\"",
		    argv[1 + k]);
	if (org == NULL)
		org = org_default_dir();
	if ((rc = org_cfg_load(org, &oc, &e)) != 0 ||
	    (rc = tlscert_renew(org, oc.url.host, new_key, pin, &e)) != 0)
		return cli_fail(rc, &e);
	printf("%s/%s%s: new certificate for %s\n"
	    "pin: %s\n", org, TLSCERT_NEXT_CERT_FILE, new_key ?
	    " and " TLSCERT_NEXT_KEY_FILE : "", oc.url.host, pin);
	if (new_key)
		printf("Roll it out without re-enrolling a device:\n"
		    "  1. muster-enroll root rotate --org %s --add-pin %s\n"
		    "  2. muster-enroll root sign --org %s --key ROOT-KEY.key "
		    "(each holder)\n"
		    "  3. muster-enroll root publish --org %s\n"
		    "  4. once devices have checked in: move %s over %s and %s "
		    "over %s,\n     restart muster-server\n"
		    "  5. later, root rotate --remove-pin the old pin\n",
		    org, pin, org, org, TLSCERT_NEXT_KEY_FILE,
		    TLSCERT_KEY_FILE, TLSCERT_NEXT_CERT_FILE,
		    TLSCERT_CERT_FILE);
	else
		printf("Same key, same pin: move %s over %s and restart "
		    "muster-server.\n", TLSCERT_NEXT_CERT_FILE,
		    TLSCERT_CERT_FILE);
	return 0;
}
