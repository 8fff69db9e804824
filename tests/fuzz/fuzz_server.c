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

#include "fuzz_srv.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define SUBST_MAX	8	/* replacements of one placeholder */
#define TEXT_MAX	(128 * 1024)

static const char profile_text[] =
    "id = \"fuzz-personnel\";\n"
    "serial = 1;\n"
    "expires = \"2099-01-01T00:00:00Z\";\n"
    "scope = \"personnel\";\n"
    "rules = (\n"
    "\t{ id = \"cloud-messaging-off\"; kind = \"setting\"; "
    "severity = \"critical\";\n"
    "\t  title = \"Cloud Messaging is off\"; namespace = \"secure\";\n"
    "\t  key = \"mi_cloud_messaging_enabled\"; expect = \"0\"; "
    "action = \"remediate\"; }\n"
    ");\n";

static char *prof_b64;		/* @PROF@ */
static char *prof_sig;		/* @PSIG@, JSON-escaped */
static unsigned long counter;	/* new token ids and device keys */
static int verbose;		/* MUSTER_FUZZ_VERBOSE: print each answer */
static char last_token_id[TOKEN_ID_HEX] = "0000000000000000";
static unsigned char new_pk[crypto_sign_PUBLICKEYBYTES];
static unsigned char new_sk[crypto_sign_SECRETKEYBYTES];

/* s as the inside of a JSON string; malloc'd. */
static char *
json_escape(const char *s)
{
	char *o, *p;

	if ((o = malloc(strlen(s) * 6 + 1)) == NULL)
		abort();
	for (p = o; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			*p++ = '\\';
			*p++ = *s;
		} else if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if ((unsigned char)*s < 0x20)
			p += sprintf(p, "\\u%04x", (unsigned char)*s);
		else
			*p++ = *s;
	}
	*p = '\0';
	return o;
}

static void
make_profile(void)
{
	struct muster_err e;
	struct profile *p = NULL;
	char tc[SIG_TRUSTED_MAX], *sig = NULL;
	size_t n, siglen;

	if (profile_parse("fuzz", profile_text, strlen(profile_text), &p,
	    &e) != 0 || profile_trusted_comment(p, tc, sizeof tc) != 0 ||
	    sig_sign(fsrv.org_sk, profile_text, strlen(profile_text), tc,
	    NULL, &sig, &siglen, &e) != 0) {
		fprintf(stderr, "fuzz: profile: %s\n", e.msg);
		abort();
	}
	n = sodium_base64_ENCODED_LEN(strlen(profile_text),
	    sodium_base64_VARIANT_ORIGINAL);
	if ((prof_b64 = malloc(n)) == NULL)
		abort();
	sodium_bin2base64(prof_b64, n, (const unsigned char *)profile_text,
	    strlen(profile_text), sodium_base64_VARIANT_ORIGINAL);
	prof_sig = json_escape(sig);
	free(sig);
	profile_free(p);
}

static void
free_profile(void)
{
	free(prof_b64);
	free(prof_sig);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_srv_init("fuzz_server");
	make_profile();
	verbose = getenv("MUSTER_FUZZ_VERBOSE") != NULL;
	atexit(free_profile);
	return 0;
}

/* A growing text buffer. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	char *np;

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((np = realloc(b->p, b->cap)) == NULL)
			abort();
		b->p = np;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
new_token(enum profile_scope scope, char **out)
{
	struct muster_err e;
	struct token t;

	memset(&t, 0, sizeof t);
	snprintf(t.id, sizeof t.id, "%016lx", ++counter);
	memcpy(last_token_id, t.id, sizeof last_token_id);
	snprintf(t.server, sizeof t.server, "https://127.0.0.1:8443");
	snprintf(t.pin, sizeof t.pin,
	    "sha256//4GNqy/7jNrj2xws2r4IXoiqaPQnF5Heac7v62jkYR5o=");
	t.scope = scope;
	snprintf(t.unit, sizeof t.unit, "IAF/25-WING");
	snprintf(t.person, sizeof t.person, "P-%lu", counter);
	t.expires = time(NULL) + 86400;
	if (token_sign(&t, fsrv.org_sk, out, &e) != 0)
		abort();
}

static void
new_revocation(char **out)
{
	struct muster_err e;
	struct revocation r;

	memset(&r, 0, sizeof r);
	snprintf(r.id, sizeof r.id, "%016lx", ++counter);
	r.time = time(NULL);
	if (revocation_sign(&r, fsrv.org_sk, out, &e) != 0)
		abort();
}

/*
 * in[0..n) with every placeholder but @SIG@ replaced; *newkey is set when
 * a new device key was made.  malloc'd, NUL-terminated, length in *outlen.
 */
static char *
substitute(const char *in, size_t n, int *newkey, size_t *outlen)
{
	static const char *const names[] = { "@PDEV@", "@FDEV@", "@NOW@",
	    "@ADMIN@", "@TOKP@", "@TOKF@", "@REV@", "@NEWKEY@", "@PROF@",
	    "@PSIG@", "@TOKID@", NULL };
	struct buf b = { NULL, 0, 0 };
	unsigned char seed[crypto_sign_SEEDBYTES];
	char now[21], key[64], *tmp = NULL;
	const char *v;
	size_t i = 0, k, used[11] = { 0 };

	buf_add(&b, "", 0);
	while (i < n) {
		for (k = 0; names[k] != NULL; k++)
			if (n - i >= strlen(names[k]) &&
			    memcmp(in + i, names[k], strlen(names[k])) == 0 &&
			    used[k] < SUBST_MAX && b.len < TEXT_MAX)
				break;
		if (names[k] == NULL) {
			buf_add(&b, in + i, 1);
			i++;
			continue;
		}
		used[k]++;
		i += strlen(names[k]);
		tmp = NULL;
		switch (k) {
		case 0: v = FUZZ_PDEV; break;
		case 1: v = FUZZ_FDEV; break;
		case 2:
			profile_time_format(time(NULL), now);
			v = now;
			break;
		case 3: v = FUZZ_ADMIN; break;
		case 4: new_token(SCOPE_PERSONNEL, &tmp); v = tmp; break;
		case 5: new_token(SCOPE_FAMILY, &tmp); v = tmp; break;
		case 6: new_revocation(&tmp); v = tmp; break;
		case 7:
			if (!*newkey) {
				memset(seed, 0, sizeof seed);
				memcpy(seed, &counter, sizeof counter);
				counter++;
				crypto_sign_seed_keypair(new_pk, new_sk, seed);
				*newkey = 1;
			}
			sodium_bin2base64(key, sizeof key, new_pk,
			    sizeof new_pk, sodium_base64_VARIANT_ORIGINAL);
			v = key;
			break;
		case 8: v = prof_b64; break;
		case 9: v = prof_sig; break;
		default: v = last_token_id; break;
		}
		buf_add(&b, v, strlen(v));
		free(tmp);
	}
	*outlen = b.len;
	return b.p;
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
		if (strcasecmp(c->hdr[i].key, "Muster-Signature") == 0 &&
		    strcmp(c->hdr[i].value, "@SIG@") == 0)
			break;
	if (i == c->nhdr)
		return;
	dev = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Muster-Device");
	if (r->newkey)
		sk = new_sk;
	else if (dev != NULL && strcmp(dev, FUZZ_FDEV) == 0)
		sk = fsrv.fsk;
	if (post)
		fuzz_srv_sign(sk, r->body != NULL ? r->body : "", r->blen, sig,
		    sizeof sig);
	else {
		t = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "Muster-Time");
		if ((n = asprintf(&msg, "muster-get-v1\n%s\n%s\n", r->path,
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
	struct reply out;
	struct req r;
	int post;

	memset(&c, 0, sizeof c);
	memset(&r, 0, sizeof r);
	fuzz_srv_next();
	r.text = substitute((const char *)data, size, &r.newkey, &r.len);
	if (parse(&r, &c) != 0 || (rt = route_find(r.path)) == NULL ||
	    strcmp(r.method, rt->method) != 0)
		goto out;			/* 404, 405 */
	post = strcmp(r.method, "POST") == 0;
	if (post && r.blen > fsrv.srv->cfg->limits.max_body)
		goto out;			/* 413 */
	if (!post && r.body != NULL && r.blen > 0)
		goto out;			/* dropped */
	if (rt->admin && !route_admin_ok(fsrv.srv, &c))
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
	reply_clear(&out);
	/* An unenrolled device comes back, so the seeds keep working. */
	fuzz_srv_devices();
out:
	fuzz_conn_clear(&c);
	free(r.text);
	return 0;
}
