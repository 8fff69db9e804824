/*
 * tokcmd: `muster-enroll token`, one enrollment bundle, optionally as a
 * QR code; and the --expires option it shares with `roster`.
 *
 * A bundle is a bearer credential until it is used, so it is created
 * O_EXCL with mode 0600 and never replaces a file.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qrencode.h>

#include "muster/cli.h"
#include "muster/err.h"
#include "muster/fs.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "muster/token2.h"
#include "org.h"
#include "rootcmd.h"
#include "qr.h"
#include "tokcmd.h"

static const char token_usage[] =
"usage: muster-enroll token [--org DIR] --scope personnel|family --unit UNIT\n"
"           --person ID [--expires WHEN] [--qr] [--png FILE] -o FILE\n"
"\n"
"Makes an enrollment bundle for one device: a new token (random 16-hex\n"
"id, the server URL and pin of the org's root, scope, unit, person,\n"
"expiry, the root's version and hash) signed with DIR/enroll.key, and\n"
"the root with its signatures (a first-wave org without DIR/root: a v1\n"
"token signed with org.key, and org.pub), written to FILE\n"
"(mode 0600, never over an existing file).  The bundle is a bearer\n"
"credential until a device enrolls with it: hand it over privately.\n"
"Prints the token id (for `muster-enroll revoke`) and the expiry.\n"
"\n"
"options:\n"
"  --org DIR         organisation directory (default: $MUSTER_ORG, else .)\n"
"  --scope SCOPE     personnel or family (required)\n"
"  --unit UNIT       1-64 bytes: letters (UTF-8), digits, spaces and\n"
"                    . _ - @ ( ) ' , & # + :, levels separated by /\n"
"                    (\"IAF/25 Wing/No. 17 Squadron\"; required)\n"
"  --person ID       1-64 of A-Z a-z 0-9 . _ - @ (required)\n"
"  --expires WHEN    Nd, Nh or Nm (days, hours, minutes from now) or an\n"
"                    RFC 3339 UTC time YYYY-MM-DDTHH:MM:SSZ; between one\n"
"                    minute and 365 days from now (default 14d)\n"
"  --qr              also print the bundle as a muster://enroll URI and a\n"
"                    QR code on the terminal (at most 80 columns; refused,\n"
"                    nothing written, when it would be wider)\n"
"  --png FILE        also write the QR code as a PNG image (0600)\n"
"  -o, --output FILE the bundle to write (required)\n"
"  --help            this text\n";

int
tokcmd_expires_parse(const char *s, time_t now, time_t *out,
    struct muster_err *e)
{
	unsigned long long n = 0;
	time_t t;
	size_t i, len;
	long unit;

	len = strlen(s);
	if (len >= 2 && len <= 12 && s[0] >= '0' && s[0] <= '9' &&
	    strchr("dhm", s[len - 1]) != NULL) {
		for (i = 0; i + 1 < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			n = n * 10 + (unsigned long long)(s[i] - '0');
		}
		unit = s[len - 1] == 'd' ? 86400 : s[len - 1] == 'h' ? 3600 :
		    60;
		if (n > (unsigned long long)TOKCMD_EXPIRES_MAX / (unsigned)unit)
			return err_set(e, MUSTER_EUSAGE, "--expires %s is more "
			    "than 365 days", s);
		t = now + (time_t)n * unit;
	} else if (timefmt_parse(s, &t) != 0)
		goto bad;
	if (t < now + TOKCMD_EXPIRES_MIN)
		return err_set(e, MUSTER_EUSAGE, "--expires %s is less than "
		    "a minute from now", s);
	if (t > now + TOKCMD_EXPIRES_MAX)
		return err_set(e, MUSTER_EUSAGE, "--expires %s is more than "
		    "365 days from now", s);
	*out = t;
	return 0;
bad:
	return err_set(e, MUSTER_EUSAGE, "--expires \"%s\": want Nd, Nh, Nm "
	    "or YYYY-MM-DDTHH:MM:SSZ", s);
}

int
tokcmd_signer(const char *org, const struct org_cfg *oc, struct token *t,
    struct sig_pubkey *pk, struct sig_seckey **sk, struct sigset **rss,
    struct muster_err *e)
{
	struct root r;
	int rc;

	*sk = NULL;
	*rss = NULL;
	if (org_has_roots(org)) {
		if ((rc = rootcmd_current(org, &r, rss, NULL, e)) != 0)
			return rc;
	}
	if (*rss == NULL) {
		/* A first-wave org: v1 tokens by the org key. */
		memcpy(t->server, oc->server, sizeof t->server);
		memcpy(t->pin, oc->pin, sizeof t->pin);
		return org_keys_load(org, pk, sk, e);
	}
	snprintf(t->server, sizeof t->server, "%s", r.server);
	snprintf(t->pin, sizeof t->pin, "%s", r.pins[0]);
	t->root_version = r.version;
	snprintf(t->root_hash, sizeof t->root_hash, "%s", r.hash);
	if ((rc = org_pair_load(org, ORG_ENROLL, pk, sk, e)) != 0)
		goto fail;
	if (root_find_key(&r, ROOT_ROLE_ENROLL, pk->keyid) == NULL) {
		rc = err_set(e, MUSTER_ECONFIG, "%s/%s%s is not the enroll key "
		    "of root %lld: publish the root that names it first", org,
		    ORG_ENROLL, ORG_PUB_SUFFIX, (long long)r.version);
		goto fail;
	}
	return 0;
fail:
	sig_seckey_free(*sk);
	*sk = NULL;
	sigset_free(*rss);
	*rss = NULL;
	return rc;
}

int
tokcmd_token(int argc, char **argv)
{
	struct muster_err e = { 0 }, ce = { 0 };
	struct org_cfg oc;
	struct token t, check;
	struct sig_pubkey pk, gotpk;
	struct sig_seckey *sk = NULL;
	struct sigset *rss = NULL, *gotss = NULL;
	struct root gotroot;
	struct stat st;
	QRcode *qr = NULL, *qrpng = NULL;
	const char *org = NULL, *scope = NULL, *unit = NULL, *person = NULL;
	const char *expires = "14d", *png = NULL, *out = NULL;
	char *tok = NULL, *bundle = NULL, *gottok = NULL, *uri = NULL;
	char exp[TIMEFMT_LEN];
	int ex, rc, want_qr = 0, quiet = 0;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &org),
		CLI_OPT_ARG("scope", 's', &scope),
		CLI_OPT_ARG("unit", 'u', &unit),
		CLI_OPT_ARG("person", 'p', &person),
		CLI_OPT_ARG("expires", 'x', &expires),
		CLI_OPT_FLAG("qr", 'q', &want_qr),
		CLI_OPT_ARG("png", 'P', &png),
		CLI_OPT_ARG("output", 'o', &out),
		CLI_OPT_END,
	};

	if (cli_options_operand(argc, argv, "o:", opts, token_usage, NULL,
	    NULL, NULL, &ex) < 0)
		return ex;
	if (scope == NULL || unit == NULL || person == NULL || out == NULL)
		return cli_usage("token", "--scope, --unit, --person and -o "
		    "FILE are required");
	memset(&t, 0, sizeof t);
	if (profile_scope_parse(scope, &t.scope) != 0)
		return cli_usage("token", "--scope \"%s\": want personnel or "
		    "family", scope);
	if (!token_unit_ok(unit))
		return cli_usage("token", "--unit: want " TOKEN_UNIT_RULE);
	if (!token_field_ok(person, 0))
		return cli_usage("token", "--person: want 1-64 of A-Z a-z 0-9 "
		    ". _ - @");
	if (tokcmd_expires_parse(expires, time(NULL), &t.expires, &e) != 0)
		return cli_usage("token", "%s", e.msg);
	if (org == NULL)
		org = org_default_dir();
	/* Before any passphrase is asked: never over an existing file. */
	if (lstat(out, &st) == 0) {
		rc = err_set(&e, MUSTER_ECANTCREAT, "%s: already exists; a "
		    "bundle is never overwritten", out);
		goto out;
	}
	if ((rc = org_cfg_load(org, &oc, &e)) != 0 ||
	    (rc = tokcmd_signer(org, &oc, &t, &pk, &sk, &rss, &e)) != 0)
		goto out;
	token_new_id(t.id);
	memcpy(t.unit, unit, strlen(unit) + 1);
	memcpy(t.person, person, strlen(person) + 1);
	if ((rc = token_sign(&t, sk, &tok, &e)) != 0 ||
	    (rc = rss != NULL ? token2_bundle_format(rss, tok, &t, &bundle,
	    &e) : token_bundle_format(&pk, tok, &t, &bundle, &e)) != 0)
		goto out;
	sig_seckey_free(sk);
	sk = NULL;
	/* As minisign does: never hand out what would not verify. */
	if (rss != NULL ? token2_bundle_parse(out, bundle, strlen(bundle),
	    &gotss, &gotroot, &gottok, &check, &ce) != 0 :
	    token_bundle_parse(out, bundle, strlen(bundle), &gotpk, &gottok,
	    &check, &ce) != 0) {
		rc = err_set(&e, MUSTER_EINTERNAL, "%s: the new bundle does "
		    "not verify (%s); nothing written", out, ce.msg);
		goto out;
	}
	/*
	 * The terminal's code must fit QR_TERM_COLS columns, at level M or
	 * L (a screen does not smudge); the PNG's is at level M, as it may
	 * be printed.  Both are made before anything is written.
	 */
	if ((want_qr || png != NULL) &&
	    (rc = token_bundle_uri(&pk, tok, &uri, &e)) != 0)
		goto out;
	if (want_qr && (rc = qr_encode_term(uri, &qr, &quiet, &e)) != 0) {
		if (rc == MUSTER_EDATA) {
			char why[ERR_MSG_MAX];

			snprintf(why, sizeof why, "%s", e.msg);
			rc = err_set(&e, MUSTER_EDATA, "%.400s; nothing "
			    "written: use --png FILE instead of --qr", why);
		}
		goto out;
	}
	if (png != NULL && (rc = qr_encode(uri, QR_ECLEVEL_M, &qrpng,
	    &e)) != 0)
		goto out;
	if ((rc = fs_create_excl(out, bundle, strlen(bundle), 0600, &e)) != 0)
		goto out;
	if (png != NULL && (rc = qr_png(png, qrpng, &e)) != 0)
		goto out;
	timefmt_format(t.expires, exp);
	printf("%s: enrollment bundle for %s (%s), %s\n"
	    "token id: %s\n"
	    "expires:  %s\n", out, t.person, t.unit,
	    profile_scope_name(t.scope), t.id, exp);
	if (png != NULL)
		printf("QR code:  %s\n", png);
	if (want_qr) {
		printf("\n%s\n\n", uri);
		if ((rc = qr_print(stdout, qr, quiet, isatty(STDOUT_FILENO),
		    &e)) != 0)
			goto out;
	}
	if (fflush(stdout) == EOF)
		rc = err_sys(&e, MUSTER_EIO, "stdout");
out:
	sig_seckey_free(sk);
	sigset_free(rss);
	sigset_free(gotss);
	if (qr != NULL)
		QRcode_free(qr);
	if (qrpng != NULL)
		QRcode_free(qrpng);
	/* Bearer secrets until enrolled: wiped. */
	fs_free_secret(tok);
	fs_free_secret(bundle);
	fs_free_secret(gottok);
	fs_free_secret(uri);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

