/*
 * certcmd: `muster-enroll cert renew`; see certcmd.h.
 *
 * The new files go beside the current ones (server-next.*) and nothing
 * is switched here: devices accept only the pins of the root they hold,
 * so a new key's pin must be in a published root before the server
 * presents it.
 */
#include <getopt.h>
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

struct cert_args {
	const char	*org;
	int		 new_key;
};

static int
cert_opt(void *arg, int c, const char *val)
{
	struct cert_args *a = arg;

	(void)val;
	switch (c) {
	case 'O': a->org = val; return 0;
	case 'n': a->new_key = 1; return 0;
	}
	return -1;
}

int
certcmd_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'O' },
		{ "new-key", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cert_args a = { NULL, 0 };
	struct muster_err e = { 0 };
	struct org_cfg oc;
	char pin[TLSCERT_PIN_MAX];
	int k, ex, rc;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)) {
		fputs(cert_usage, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "renew") != 0)
		return cli_usage("cert", "expected renew (see muster-enroll "
		    "cert --help)");
	if ((k = cli_getopt(argc - 1, argv + 1, "", opts, cert_usage, cert_opt,
	    &a, &ex)) < 0)
		return ex;
	if (k != argc - 1)
		return cli_usage("cert renew", "unexpected argument \"%s\"",
		    argv[1 + k]);
	if (a.org == NULL)
		a.org = org_default_dir();
	if ((rc = org_cfg_load(a.org, &oc, &e)) != 0 ||
	    (rc = tlscert_renew(a.org, oc.url.host, a.new_key, pin, &e)) != 0)
		return cli_fail(rc, &e);
	printf("%s/%s%s: new certificate for %s\n"
	    "pin: %s\n", a.org, TLSCERT_NEXT_CERT_FILE, a.new_key ?
	    " and " TLSCERT_NEXT_KEY_FILE : "", oc.url.host, pin);
	if (a.new_key)
		printf("Roll it out without re-enrolling a device:\n"
		    "  1. muster-enroll root rotate --org %s --add-pin %s\n"
		    "  2. muster-enroll root sign --org %s --key ROOT-KEY.key "
		    "(each holder)\n"
		    "  3. muster-enroll root publish --org %s\n"
		    "  4. once devices have checked in: move %s over %s and %s "
		    "over %s,\n     restart muster-server\n"
		    "  5. later, root rotate --remove-pin the old pin\n",
		    a.org, pin, a.org, a.org, TLSCERT_NEXT_KEY_FILE,
		    TLSCERT_KEY_FILE, TLSCERT_NEXT_CERT_FILE,
		    TLSCERT_CERT_FILE);
	else
		printf("Same key, same pin: move %s over %s and restart "
		    "muster-server.\n", TLSCERT_NEXT_CERT_FILE,
		    TLSCERT_CERT_FILE);
	return 0;
}
