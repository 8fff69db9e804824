/*
 * fuzz_server: the server's request handling, in-process (fuzz_srv.h):
 * method, path, query, headers and body from the input, through the gate
 * http.c applies before a route runs (route, method, admin token) and then
 * the route itself, on the real store and writer.
 *
 * http.c's own handler (http_access) is static and driven by MHD, so the
 * gate is done here the way http_first does it; the handler itself, with
 * what http.c checks before that (Content-Type, Content-Length, the body
 * cap, the upload counted as it comes), is fuzz_http's, over loopback.
 *
 * An input is an HTTP request in short form:
 *
 *	METHOD SP PATH[?K=V&...] LF
 *	Name: value LF		(up to 32)
 *	LF
 *	body
 *
 * Signatures cannot be fuzzed, so placeholders in headers and body are
 * replaced first (each at most 8 times per input):
 *
 *	@PDEV@ @FDEV@	the enrolled personnel and family device ids
 *	@NOW@		the time now, YYYY-MM-DDTHH:MM:SSZ
 *	@ADMIN@		the admin token
 *	@TOKP@ @TOKF@	a new personnel or family token signed by the org key
 *	@TOKID@		the id of the last token made (for a consent receipt)
 *	@REV@		a revocation of a new token id, signed by the org key
 *	@NEWKEY@	the public key (base64) of a new device key
 *	@PROF@ @PSIG@	a personnel profile (base64) and its signature
 *			(a JSON string), made with the org key
 *	@SIG@		(last) the device signature of the request: over the
 *			body for a POST, over muster-get-v1 for a GET; by the
 *			@NEWKEY@ key if the body has one, else by the key of
 *			the device Muster-Device names (personnel by default)
 *
 * "New" things come from a counter, so a run is repeatable from its
 * start; the store is made anew every FUZZ_SRV_RESET inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/proto.h"
#include "fuzz_srv.h"
#include "fuzz_subst.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int verbose;		/* MUSTER_FUZZ_VERBOSE: print each answer */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_srv_init("fuzz_server");
	fuzz_subst_init();
	verbose = getenv("MUSTER_FUZZ_VERBOSE") != NULL;
	return 0;
}

/* The request line, headers and body of in (placeholders replaced). */
struct req {
	char			*text;		/* owns everything below */
	size_t			 len;
	const char		*method, *path;
	char			*query;
	char			*body;		/* NULL: none */
	size_t			 blen;
	int			 newkey;
};

/* Splits text into the request; -1 if it is not one. */
static int
parse(struct req *r, struct MHD_Connection *c)
{
	char *p = r->text, *end = r->text + r->len, *nl, *sp, *colon, *v;
	char *amp, *eq;

	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		return -1;
	*nl = '\0';
	if ((sp = strchr(p, ' ')) == NULL)
		return -1;
	*sp = '\0';
	r->method = p;
	r->path = sp + 1;
	if ((r->query = strchr(sp + 1, '?')) != NULL)
		*r->query++ = '\0';
	for (p = nl + 1; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p) {		/* the blank line: the body follows */
			r->body = nl + 1 <= end ? nl + 1 : end;
			r->blen = (size_t)(end - r->body);
			break;
		}
		*nl = '\0';
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL ||
		    (colon = strchr(p, ':')) == NULL)
			continue;
		*colon = '\0';
		for (v = colon + 1; *v == ' '; v++)
			;
		fuzz_conn_add(c, 0, p, v);
		if (nl == end)
			break;
	}
	for (p = r->query; p != NULL && *p != '\0'; p = amp) {
		if ((amp = strchr(p, '&')) != NULL)
			*amp++ = '\0';
		if ((eq = strchr(p, '=')) != NULL)
			*eq++ = '\0';
		fuzz_conn_add(c, 1, p, eq != NULL ? eq : "");
	}
	return 0;
}

/* Replaces a Muster-Signature of "@SIG@" with the real signature. */
static void
sign(const struct req *r, struct MHD_Connection *c, int post)
{
	const unsigned char *sk = fsrv.psk;
	const char *dev, *t;
	char *msg = NULL, sig[128];
	size_t i;
	int n;

	for (i = 0; i < c->nhdr; i++)
		if (strcasecmp(c->hdr[i].key, PROTO_HDR_SIGNATURE) == 0 &&
		    strcmp(c->hdr[i].value, "@SIG@") == 0)
			break;
	if (i == c->nhdr)
		return;
	dev = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    PROTO_HDR_DEVICE);
	if (r->newkey)
		sk = new_sk;
	else if (dev != NULL && strcmp(dev, FUZZ_FDEV) == 0)
		sk = fsrv.fsk;
	if (post)
		fuzz_srv_sign(sk, r->body != NULL ? r->body : "", r->blen, sig,
		    sizeof sig);
	else {
		t = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    PROTO_HDR_TIME);
		if ((n = asprintf(&msg, PROTO_GET_PREFIX "%s\n%s\n", r->path,
		    t != NULL ? t : "")) == -1)
			abort();
		fuzz_srv_sign(sk, msg, (size_t)n, sig, sizeof sig);
		free(msg);
	}
	free(c->hdr[i].value);
	if ((c->hdr[i].value = strdup(sig)) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct MHD_Connection c;
	const struct route *rt;
	struct route_reply out;
	struct buf sb = { NULL, 0, 0 };
	struct req r;
	int post;

	memset(&c, 0, sizeof c);
	memset(&r, 0, sizeof r);
	fuzz_srv_next();
	substitute((const char *)data, size, &r.newkey, &sb);
	r.text = sb.p;
	r.len = sb.len;
	if (parse(&r, &c) != 0 || (rt = route_find(r.path)) == NULL ||
	    strcmp(r.method, rt->method) != 0)
		goto out;			/* 404, 405 */
	post = strcmp(r.method, "POST") == 0;
	if (post && r.blen > fsrv.srv->cfg->limits.max_body)
		goto out;			/* 413 */
	if (!post && r.body != NULL && r.blen > 0)
		goto out;			/* dropped */
	if (rt->admin && !route_admin_ok(fsrv.srv, &c, r.path))
		goto out;			/* 401 */
	sign(&r, &c, post);
	fuzz_srv_call(rt, &c, post ? (r.body != NULL ? r.body : "") : NULL,
	    post ? r.blen : 0, &out);
	if (verbose)
		fprintf(stderr, "%s %s: %u %.*s\n", r.method, r.path,
		    out.status, (int)(out.len > 200 ? 200 : out.len),
		    out.body != NULL ? out.body : out.sbody != NULL ?
		    out.sbody : "");
	/* A server error is a bug: nothing here makes the store fail. */
	FUZZ_ASSERT(out.status < 500, "%s %s answered %u: %.*s", r.method,
	    r.path, out.status, (int)out.len, out.body != NULL ? out.body :
	    out.sbody != NULL ? out.sbody : "");
	route_reply_clear(&out);
	/* An unenrolled device comes back, so the seeds keep working. */
	fuzz_srv_devices();
out:
	fuzz_conn_clear(&c);
	free(r.text);
	return 0;
}
