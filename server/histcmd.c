/*
 * histcmd: `muster-server history` and `muster-server verify-report`;
 * see histcmd.h.
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "muster/cli.h"
#include "muster/esc.h"
#include "muster/fs.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "config.h"
#include "daemon.h"
#include "histcmd.h"
#include "proof.h"
#include "srv.h"
#include "store.h"

#define HIST_MAX	100000	/* status changes listed, at most */

static const char history_usage[] =
"usage: muster-server history [--config FILE] [--format table|json] DEVICE\n"
"       muster-server history [--config FILE] --proof SEQ DEVICE\n"
"\n"
"Lists a personnel device's status changes, newest first, each with the\n"
"stored report that caused it: its seq, time, BLAKE2b-256 hash and the\n"
"device's Ed25519 signature, checked against the device's key (verified,\n"
"signature does not verify, signed report does not match this entry, or\n"
"not kept for reports stored before store schema 5).  With --proof,\n"
"writes report SEQ's proof file (JSON: the exact signed body, the\n"
"signature and the device's public key) to stdout, for `muster-server\n"
"verify-report` or openssl (docs/operations.md).  Family devices are\n"
"never shown one by one.\n"
"\n"
"options:\n"
"  --config FILE  the server's configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  --format FMT   table (default) or json\n"
"  --proof SEQ    the proof file of the stored report SEQ\n"
"  --help         this text\n"
"\n"
"exit codes: 0 ok (every kept signature verifies), 64 usage,\n"
"            65 not a device id, 66 no such personnel device or report,\n"
"            74 storage error, 77 a stored report does not verify,\n"
"            78 bad configuration\n";

static const char verify_usage[] =
"usage: muster-server verify-report PROOF\n"
"\n"
"Checks a proof file (muster-server history --proof, or the console's\n"
"download) with no store: the device's Ed25519 signature over the exact\n"
"body with the public key it carries, then that the signed report is the\n"
"entry the file names (device, seq, status, hash).  Compare pk_b64 with\n"
"the device's key from a source you trust (docs/operations.md).\n"
"\n"
"options:\n"
"  --help         this text\n"
"\n"
"exit codes: 0 verified, 64 usage, 65 not a proof (or no signature\n"
"            kept), 66 no such file, 77 does not verify\n";

/* What history's options set. */
struct hist_args {
	int		 json;
	int64_t		 proof;		/* 0: none */
};

static int
hist_opt(void *arg, int c, const char *v)
{
	struct hist_args *a = arg;
	char *end;
	long long n;

	if (c == 'f') {
		if (strcmp(v, "json") != 0 && strcmp(v, "table") != 0)
			return cli_usage("history", "--format must be table "
			    "or json, not \"%s\"", v);
		a->json = strcmp(v, "json") == 0;
		return 0;
	}
	n = strtoll(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || n < 1 || n == LLONG_MAX)
		return cli_usage("history", "--proof must be a report's seq "
		    "(1 or more), not \"%.40s\"", v);
	a->proof = n;
	return 0;
}

/* What the walk over the history gathers. */
struct hist_walk {
	const char		*id;
	const unsigned char	*pk;
	int			 json;
	json_t			*list;		/* json */
	size_t			 n, bad;
};

static int
hist_row(void *arg, const struct store_history_row *row)
{
	struct hist_walk *w = arg;
	char ts[TIMEFMT_LEN], rs[TIMEFMT_LEN], hex[STORE_HASH_LEN * 2 + 1];
	char b64[sodium_base64_ENCODED_LEN(STORE_SIG_LEN,
	    sodium_base64_VARIANT_ORIGINAL)];
	const char *check;
	enum proof_check c = PROOF_NOT_KEPT;
	json_t *o;

	timefmt_format(row->time, ts);
	timefmt_format(row->received, rs);
	hex[0] = b64[0] = '\0';
	if (row->has_report) {
		c = proof_check_bytes(w->pk, w->id, row->seq, row->compliant,
		    row->hash, row->body, row->len, row->sig);
		if (c == PROOF_BAD_SIG || c == PROOF_MISMATCH)
			w->bad++;
		if (row->hash != NULL)
			sodium_bin2hex(hex, sizeof hex, row->hash,
			    STORE_HASH_LEN);
		if (row->sig != NULL)
			sodium_bin2base64(b64, sizeof b64, row->sig,
			    STORE_SIG_LEN, sodium_base64_VARIANT_ORIGINAL);
	}
	check = row->has_report ? proof_check_text(c) :
	    "report no longer stored";
	w->n++;
	if (!w->json) {
		printf("seq %lld  %s  %-12s  %s\n  received  %s\n",
		    (long long)row->seq, ts, row->compliant ? "compliant" :
		    "noncompliant", check, rs);
		if (row->has_report)
			printf("  hash      %s\n  signature %s\n", hex,
			    row->sig != NULL ? b64 : "(not kept)");
		return 0;
	}
	if ((o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s}",
	    "seq", (json_int_t)row->seq, "time", ts, "received", rs,
	    "status", row->compliant ? PROTO_STATUS_COMPLIANT :
	    PROTO_STATUS_NONCOMPLIANT, "report", row->has_report ? "kept" :
	    "pruned", "hash", hex[0] != '\0' ? hex : NULL, "sig_b64",
	    b64[0] != '\0' ? b64 : NULL, "check", row->has_report ?
	    proof_check_name(c) : "pruned")) == NULL ||
	    json_array_append_new(w->list, o) != 0)
		return -1;
	return 0;
}

/* Device id's history to stdout; 0, or a MUSTER_E* value with e set. */
static int
history(struct store_read *rd, const char *id, const struct hist_args *a,
    struct muster_err *e)
{
	struct store_device_info d;
	struct hist_walk w;
	char *text = NULL;
	int rc;

	memset(&w, 0, sizeof w);
	if ((rc = store_read_begin(rd, e)) != 0)
		goto out;
	if ((rc = store_read_device(rd, id, &d, e)) != 0) {
		if (rc == MUSTER_ENOINPUT)
			err_set(e, rc, "device %s: no such personnel device",
			    id);
		goto out;
	}
	if (d.scope != SCOPE_PERSONNEL) {
		rc = err_set(e, MUSTER_ENOINPUT, "device %s: no such personnel "
		    "device (family devices are never shown one by one)", id);
		goto out;
	}
	w.id = id;
	w.pk = d.pk;
	w.json = a->json;
	if (a->json && (w.list = json_array()) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (!a->json) {
		char unit[ESC_SIZE(TOKEN_FIELD_MAX)];
		char person[ESC_SIZE(TOKEN_FIELD_MAX)];

		printf("device %s  unit %s  person %s%s\n", id,
		    esc_str(d.unit, TOKEN_FIELD_MAX, ESC_QUOTED, unit),
		    esc_str(d.person, TOKEN_FIELD_MAX, ESC_QUOTED, person),
		    d.revoked ? "  (revoked)" : "");
	}
	if ((rc = store_device_history(rd, id, HIST_MAX, hist_row, &w, e)) !=
	    0) {
		if (rc == -1)
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (a->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:O}", "device",
		    id, "unit", d.unit, "person", d.person, "revoked",
		    d.revoked, "changes", w.list);

		if (o == NULL || (text = json_dumps(o, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) == NULL) {
			json_decref(o);
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		json_decref(o);
		printf("%s\n", text);
	} else if (w.n == 0)
		printf("no report yet\n");
	if (w.bad > 0)
		rc = err_set(e, MUSTER_ETRUST, "device %s: %zu stored "
		    "report%s of %zu do%s not verify", id, w.bad, w.bad == 1 ?
		    "" : "s", w.n, w.bad == 1 ? "es" : "");
out:
	free(text);
	json_decref(w.list);
	store_read_end(rd);
	return rc;
}

/* Report a->proof of device id as a proof file to stdout. */
static int
proof(struct store_read *rd, const char *id, const struct hist_args *a,
    struct muster_err *e)
{
	struct store_proof p;
	char *text = NULL;
	size_t len;
	int rc;

	memset(&p, 0, sizeof p);
	if ((rc = store_read_begin(rd, e)) != 0)
		goto out;
	if ((rc = store_read_report(rd, id, a->proof, &p, e)) != 0) {
		if (rc == MUSTER_ENOINPUT)
			err_set(e, rc, "device %s: no stored report %lld", id,
			    (long long)a->proof);
		goto out;
	}
	if (p.scope != SCOPE_PERSONNEL) {
		rc = err_set(e, MUSTER_ENOINPUT, "device %s: no stored report "
		    "%lld", id, (long long)a->proof);
		goto out;
	}
	if ((rc = proof_json(&p, proof_check(&p), &text, &len, e)) != 0)
		goto out;
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
		rc = err_sys(e, MUSTER_EIO, "stdout");
out:
	free(text);
	store_proof_clear(&p);
	store_read_end(rd);
	return rc;
}

int
histcmd_history(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_FN("format", 'f', required_argument),
		CLI_OPT_FN("proof", 'p', required_argument),
		CLI_OPT_END,
	};
	struct hist_args a = { 0, 0 };
	struct config *cfg = NULL;
	struct store_read *rd = NULL;
	struct muster_err e;
	const char *id;
	int k, rc, stayed;

	if ((k = cli_options_operand(argc, argv, "+", opts, history_usage,
	    hist_opt, &a, "DEVICE", &rc)) < 0)
		return rc;
	if (k == argc)
		return cli_usage("history", "expected one DEVICE (see %s "
		    "history --help)", SRV_PROG);
	id = argv[k];
	if (!proto_hex_ok(id, DEVICE_ID_HEX - 1)) {
		char shown[ESC_SIZE(40)];

		cli_error("history", "%s: not a device id (%d lowercase hex "
		    "digits)", esc_str(id, 40, ESC_QUOTED, shown),
		    DEVICE_ID_HEX - 1);
		return err_exit_code(MUSTER_EDATA);
	}
	if ((rc = config_load(path, &cfg, &e)) == 0 &&
	    (rc = daemon_drop(config_user(cfg), &stayed, &e)) == 0 &&
	    (rc = store_read_open(config_store(cfg), &rd, &e)) == 0) {
		if (a.proof != 0)
			rc = proof(rd, id, &a, &e);
		else
			rc = history(rd, id, &a, &e);
	}
	store_read_close(rd);
	config_free(cfg);
	if (rc != 0)
		cli_error("history", "%s", e.msg);
	return err_exit_code(rc);
}

int
histcmd_verify(int argc, char **argv)
{
	const struct cli_opt opts[] = { CLI_OPT_END };
	struct store_proof p;
	struct muster_err e;
	enum proof_check c;
	char *buf = NULL, file[ESC_SIZE(80)];
	size_t len;
	int k, rc;

	memset(&p, 0, sizeof p);
	if ((k = cli_options_operand(argc, argv, "+", opts, verify_usage,
	    NULL, NULL, "PROOF", &rc)) < 0)
		return rc;
	if (k == argc)
		return cli_usage("verify-report", "expected one PROOF (see %s "
		    "verify-report --help)", SRV_PROG);
	esc_str(argv[k], 80, 0, file);
	if ((rc = fs_read_file(argv[k], PROOF_FILE_MAX, &buf, &len, &e)) !=
	    0) {
		cli_error("verify-report", "%s", e.msg);
		goto out;
	}
	if ((rc = proof_parse(buf, len, &p, &e)) != 0) {
		cli_error("verify-report", "%s: %s", file, e.msg);
		goto out;
	}
	c = proof_check(&p);
	switch (c) {
	case PROOF_VERIFIED:
		printf("%s: verified: device %s report %lld (%s), signed by "
		    "the key in the file\n", file, p.device, (long long)p.seq,
		    p.compliant ? "compliant" : "noncompliant");
		rc = 0;
		break;
	case PROOF_NOT_KEPT:
		cli_error("verify-report", "%s: %s: nothing to verify", file,
		    proof_check_text(c));
		rc = MUSTER_EDATA;
		break;
	default:
		cli_error("verify-report", "%s: %s", file,
		    proof_check_text(c));
		rc = MUSTER_ETRUST;
		break;
	}
out:
	free(buf);
	store_proof_clear(&p);
	return err_exit_code(rc);
}
