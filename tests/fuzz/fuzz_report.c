/*
 * fuzz_report: the compliance report as the server parses it.  The
 * checks live in server/routes.c (json_bounded, report_check: static), so
 * the input goes through the public route_report, in-process on the real
 * store (fuzz_srv.h): the harness signs the input with the key of an
 * enrolled device, so the signature passes and every input reaches the
 * JSON parse, the schema checks and, when they pass, the store.  Each
 * input is sent once by the personnel device and once by the family
 * device, whose reports carry fewer fields.
 *
 * The answer must be one protocol.md allows for a well-signed report from
 * a known device: 202, 200, 409 or 400; never 401, 403 or 5xx.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	if ((rt = route_find("/v1/report")) == NULL)
		abort();
	return 0;
}

static void
send_report(const char *dev, const unsigned char *sk, const uint8_t *data,
    size_t size)
{
	struct MHD_Connection c;
	struct reply out;
	char sig[128];
	unsigned st;

	memset(&c, 0, sizeof c);
	fuzz_srv_sign(sk, data, size, sig, sizeof sig);
	fuzz_conn_add(&c, 0, "Content-Type", "application/json");
	fuzz_conn_add(&c, 0, "Muster-Device", dev);
	fuzz_conn_add(&c, 0, "Muster-Signature", sig);
	fuzz_srv_call(rt, &c, data != NULL ? (const char *)data : "", size,
	    &out);
	st = out.status;
	FUZZ_ASSERT(st == 202 || st == 200 || st == 409 || st == 400,
	    "report from %s answered %u: %.*s", dev, st, (int)out.len,
	    out.body != NULL ? out.body : out.sbody != NULL ? out.sbody : "");
	reply_clear(&out);
	fuzz_conn_clear(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The HTTP layer caps bodies at limits.max_body (64 KiB). */
	if (size > fsrv.srv->cfg->limits.max_body)
		return 0;
	fuzz_srv_next();
	send_report(FUZZ_PDEV, fsrv.psk, data, size);
	send_report(FUZZ_FDEV, fsrv.fsk, data, size);
	return 0;
}
