/*
 * fuzz_report: the compliance report as the server parses it.  The
 * checks are the one validator of lib/report.c (proto_json_parse, then
 * report_validate), which the agent's builder is tested against; the
 * input goes through the public route_report, in-process on the real
 * store (fuzz_srv.h): the harness signs the input with the key of an
 * enrolled device, so the signature passes and every input reaches the
 * JSON parse, the schema checks and, when they pass, the store.  Each
 * input is sent once by the personnel device and once by the family
 * device, whose reports carry fewer fields.
 *
 * The answer must be one protocol.md allows for a well-signed report from
 * a known device: 202, 200, 409 or 400; never 401, 403 or 5xx.  It is 400
 * exactly when the validator, called directly, refuses the input; and
 * what the validator accepts, written out again by jansson and parsed
 * anew, validates again to the same fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/proto.h"
#include "muster/report.h"
#include "fuzz_srv.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct route *rt;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_srv_init("fuzz_report");
	if ((rt = route_find(PROTO_PATH_REPORT)) == NULL)
		abort();
	return 0;
}

/* Validates data directly; 0 if accepted, with the fields in *f. */
static int
validate(enum profile_scope scope, const char *dev, const char *data,
    size_t size, json_t **root, struct report_fields *f)
{
	const char *why;

	memset(f, 0, sizeof *f);
	if ((*root = proto_json_parse(data, size, REPORT_JSON_DEPTH)) == NULL)
		return -1;
	return report_validate(*root, scope, dev, f, &why);
}

/*
 * The reasons of the server's own checks beyond the report's form
 * (server/reportcheck.c: clock window, published profile, rules, details;
 * the store: a time before the device's previous report).  A 400 for a
 * report the validator accepts must name one of them.
 */
static const char *const server_reasons[] = {
	"report time out of window",
	"report names a profile",
	"a result names a rule",
	"malformed rule id",
	"detail ",
	"report time is before the device's previous report",
	"family results must answer every rule",
};

static int
server_refusal(const char *body)
{
	size_t i;

	for (i = 0; i < sizeof server_reasons / sizeof server_reasons[0]; i++)
		if (body != NULL && strstr(body, server_reasons[i]) != NULL)
			return 1;
	return 0;
}

/*
 * The route answered status (and body) to data from dev: whatever the
 * validator refuses is refused (400); a 400 for what it accepts is one of
 * the server's own checks (server_reasons); and what the validator
 * accepts re-validates identically once written out and parsed again.
 */
static void
check_validator(enum profile_scope scope, const char *dev,
    const uint8_t *data, size_t size, unsigned status, const char *body)
{
	struct report_fields f, g;
	json_t *root = NULL, *again = NULL;
	char *text = NULL;
	size_t i;
	int rc;

	memset(&g, 0, sizeof g);
	rc = validate(scope, dev, data != NULL ? (const char *)data : "",
	    size, &root, &f);
	FUZZ_ASSERT(rc == 0 || status == 400, "validator says %d, route "
	    "answered %u", rc, status);
	FUZZ_ASSERT(rc != 0 || status != 400 || server_refusal(body),
	    "validator accepts, route answered 400 for another reason: %s",
	    body != NULL ? body : "");
	if (rc != 0)
		goto out;
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	FUZZ_ASSERT(text != NULL, "%s", "json_dumps failed");
	FUZZ_ASSERT(validate(scope, dev, text, strlen(text), &again, &g) == 0,
	    "accepted, then refused once rewritten: %s", text);
	FUZZ_ASSERT(strcmp(f.device, g.device) == 0 && f.seq == g.seq &&
	    f.time == g.time && strcmp(f.profile, g.profile) == 0 &&
	    f.serial == g.serial && f.compliant == g.compliant &&
	    f.nfailing == g.nfailing, "re-validated differently: %s", text);
	for (i = 0; i < f.nfailing; i++)
		FUZZ_ASSERT(strcmp(f.failing[i], g.failing[i]) == 0,
		    "failing rule %zu differs: %s", i, text);
out:
	free(f.failing);
	free(g.failing);
	free(text);
	json_decref(again);
	json_decref(root);
}

static void
send_report(enum profile_scope scope, const char *dev, const unsigned char *sk,
    const uint8_t *data, size_t size)
{
	struct MHD_Connection c;
	struct route_reply out;
	char sig[128], body[512];
	unsigned st;

	memset(&c, 0, sizeof c);
	fuzz_srv_sign(sk, data, size, sig, sizeof sig);
	fuzz_conn_add(&c, 0, "Content-Type", PROTO_CTYPE_JSON);
	fuzz_conn_add(&c, 0, PROTO_HDR_DEVICE, dev);
	fuzz_conn_add(&c, 0, PROTO_HDR_SIGNATURE, sig);
	fuzz_srv_call(rt, &c, data != NULL ? (const char *)data : "", size,
	    &out);
	st = out.status;
	FUZZ_ASSERT(st == 202 || st == 200 || st == 409 || st == 400,
	    "report from %s answered %u: %.*s", dev, st, (int)out.len,
	    out.body != NULL ? out.body : out.sbody != NULL ? out.sbody : "");
	snprintf(body, sizeof body, "%.*s", (int)out.len, out.body != NULL ?
	    out.body : out.sbody != NULL ? out.sbody : "");
	route_reply_clear(&out);
	fuzz_conn_clear(&c);
	check_validator(scope, dev, data, size, st, body);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The HTTP layer caps bodies at limits.max_body (64 KiB). */
	if (size > fsrv.srv->cfg->limits.max_body)
		return 0;
	fuzz_srv_next();
	send_report(SCOPE_PERSONNEL, FUZZ_PDEV, fsrv.psk, data, size);
	send_report(SCOPE_FAMILY, FUZZ_FDEV, fsrv.fsk, data, size);
	return 0;
}
