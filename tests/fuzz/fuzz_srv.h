/*
 * fuzz_srv.h: a muster-server for fuzz_report and fuzz_server, run in the
 * fuzzer's process without libmicrohttpd's daemon: the real srv (config
 * file, org key, SQLite store in the scratch directory, writer thread,
 * profile cache) and the real route functions of server/route.c, called
 * with a struct route_request whose connection is the harness's own.
 *
 * The routes read headers and query arguments only through
 * MHD_lookup_connection_value and MHD_get_connection_values; this file
 * defines both (the executable's definitions take precedence over
 * libmicrohttpd's), over a struct MHD_Connection of its own.
 *
 * fuzz_http defines FUZZ_SRV_HTTP before including this file: then the
 * connection is libmicrohttpd's own (neither function is defined here)
 * and every server made also listens, in plain HTTP (server/http.c built
 * with MUSTER_FUZZING), on 127.0.0.1 at an ephemeral port, fsrv.port,
 * with small limits (FUZZ_SRV_LIMITS).
 *
 * Two devices are enrolled from fixed keys: FUZZ_PDEV (personnel) and
 * FUZZ_FDEV (family).  The store is thrown away and made anew every
 * FUZZ_SRV_RESET inputs, so that it stays small and a run's state does
 * not drift far from the seeds'.
 */
#ifndef MUSTER_FUZZ_SRV_H
#define MUSTER_FUZZ_SRV_H

#include <strings.h>
#include <time.h>
#ifdef FUZZ_SRV_HTTP
#include <netinet/in.h>
#include <stdarg.h>
#endif

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "muster/log.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/token.h"
#include "../../server/config.h"
#include "../../server/front.h"
#include "../../server/http.h"
#include "../../server/route.h"
#include "../../server/srv.h"
#include "../../server/store.h"
#include "../../server/writer.h"
#include "fuzz.h"

#define FUZZ_PDEV	"0123456789abcdef0123456789abcdef"
#define FUZZ_FDEV	"fedcba9876543210fedcba9876543210"
#define FUZZ_ADMIN	"fuzz-admin-token"
#define FUZZ_SRV_RESET	2000
#define FUZZ_HDR_MAX	32
#define FUZZ_ARG_MAX	8

#ifdef FUZZ_SRV_HTTP
/* Small, so that fuzz_http's inputs reach every one of them. */
#define FUZZ_SRV_LIMITS							\
	"limits = { max_body = 2048; connection_timeout = 1; "		\
	"connection_memory = 16384; threads = 2; max_per_ip = 64; "	\
	"device_rate = 0; device_quota = 0; "				\
	"max_half_open_per_ip = 1024; max_half_open_per_net = 1024; };\n"
#else
/* Per-device limits off: one device sends every input (429: e2e tests). */
#define FUZZ_SRV_LIMITS	"limits = { device_rate = 0; device_quota = 0; };\n"

struct fuzz_kv {
	char	*key;
	char	*value;
};

struct MHD_Connection {
	struct fuzz_kv	hdr[FUZZ_HDR_MAX];
	size_t		nhdr;
	struct fuzz_kv	arg[FUZZ_ARG_MAX];
	size_t		narg;
};

const char	*MHD_lookup_connection_value(struct MHD_Connection *,
		    enum MHD_ValueKind, const char *);
int		 MHD_get_connection_values(struct MHD_Connection *,
		    enum MHD_ValueKind, MHD_KeyValueIterator, void *);

/* Header names are case-insensitive, query arguments are not. */
const char *
MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
    const char *key)
{
	size_t i;

	if (c == NULL || key == NULL)
		return NULL;
	if (kind == MHD_HEADER_KIND) {
		for (i = 0; i < c->nhdr; i++)
			if (strcasecmp(c->hdr[i].key, key) == 0)
				return c->hdr[i].value;
	} else if (kind == MHD_GET_ARGUMENT_KIND) {
		for (i = 0; i < c->narg; i++)
			if (strcmp(c->arg[i].key, key) == 0)
				return c->arg[i].value;
	}
	return NULL;
}

int
MHD_get_connection_values(struct MHD_Connection *c, enum MHD_ValueKind kind,
    MHD_KeyValueIterator it, void *cls)
{
	struct fuzz_kv *kv;
	size_t i, n;

	if (c == NULL)
		return -1;
	if (kind == MHD_HEADER_KIND) {
		kv = c->hdr;
		n = c->nhdr;
	} else if (kind == MHD_GET_ARGUMENT_KIND) {
		kv = c->arg;
		n = c->narg;
	} else
		return 0;
	for (i = 0; i < n; i++)
		if (it != NULL && it(cls, kind, kv[i].key, kv[i].value) !=
		    MHD_YES)
			return (int)i + 1;
	return (int)n;
}

const union MHD_ConnectionInfo *MHD_get_connection_info(
		    struct MHD_Connection *, enum MHD_ConnectionInfoType, ...);

/* No client address (the audit log says "unknown"). */
const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *c,
    enum MHD_ConnectionInfoType type, ...)
{
	(void)c;
	(void)type;
	return NULL;
}

/* Adds a header (or argument); the strings are copied. */
static inline void
fuzz_conn_add(struct MHD_Connection *c, int arg, const char *key,
    const char *value)
{
	struct fuzz_kv *kv;

	if (arg ? c->narg == FUZZ_ARG_MAX : c->nhdr == FUZZ_HDR_MAX)
		return;
	kv = arg ? &c->arg[c->narg++] : &c->hdr[c->nhdr++];
	if ((kv->key = strdup(key)) == NULL ||
	    (kv->value = strdup(value)) == NULL)
		abort();
}

static inline void
fuzz_conn_clear(struct MHD_Connection *c)
{
	size_t i;

	for (i = 0; i < c->nhdr; i++) {
		free(c->hdr[i].key);
		free(c->hdr[i].value);
	}
	for (i = 0; i < c->narg; i++) {
		free(c->arg[i].key);
		free(c->arg[i].value);
	}
	memset(c, 0, sizeof *c);
}
#endif /* FUZZ_SRV_HTTP */

struct fuzz_srv {
	char			 dir[4096];
	char			 cfgpath[4200];
	struct srv		*srv;
	unsigned		 port;		/* FUZZ_SRV_HTTP: where it listens */
	unsigned long		 runs;
	struct sig_pubkey	 org_pk;
	struct sig_seckey	*org_sk;
	unsigned char		 ppk[crypto_sign_PUBLICKEYBYTES];
	unsigned char		 psk[crypto_sign_SECRETKEYBYTES];
	unsigned char		 fpk[crypto_sign_PUBLICKEYBYTES];
	unsigned char		 fsk[crypto_sign_SECRETKEYBYTES];
};

static struct fuzz_srv fsrv;

static inline void
fuzz_srv_file(const char *name, const char *text, mode_t mode)
{
	char path[4400];

	snprintf(path, sizeof path, "%s/%s", fsrv.dir, name);
	if (fuzz_write(path, text, strlen(text), mode) != 0) {
		perror(path);
		abort();
	}
}

static inline int
fuzz_job_device(struct store *st, void *arg, struct muster_err *e)
{
	return store_device_add(st, arg, 4102444800, e);	/* 2100 */
}

static inline void
fuzz_srv_device(const char *id, const unsigned char *pk,
    enum profile_scope scope, const char *token_id)
{
	struct store_device d;
	struct muster_err e;

	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "%s", id);
	memcpy(d.pk, pk, sizeof d.pk);
	d.scope = scope;
	snprintf(d.unit, sizeof d.unit, "IAF/25-WING");
	snprintf(d.person, sizeof d.person, "IAF-704512");
	snprintf(d.model, sizeof d.model, "%s",
	    scope == SCOPE_PERSONNEL ? "Xiaomi HM 1SW" : "");
	snprintf(d.token_id, sizeof d.token_id, "%s", token_id);
	d.enrolled = 1763719200;
	if (writer_run(fsrv.srv->writer, fuzz_job_device, &d, &e) != 0) {
		fprintf(stderr, "fuzz: enroll %s: %s\n", id, e.msg);
		abort();
	}
}

/* Enrolls whichever of the two devices is not (any more). */
static inline void
fuzz_srv_devices(void)
{
	static unsigned long n;
	struct store_device d;
	struct muster_err e;
	struct store *st;
	char tok[TOKEN_ID_HEX];
	int rc;

	if (srv_reader(fsrv.srv, &st, &e) != 0)
		abort();
	if ((rc = store_device_get(st, FUZZ_PDEV, &d, &e)) == MUSTER_ENOINPUT) {
		snprintf(tok, sizeof tok, "a%015lx", ++n);
		fuzz_srv_device(FUZZ_PDEV, fsrv.ppk, SCOPE_PERSONNEL, tok);
	} else if (rc != 0)
		abort();
	if ((rc = store_device_get(st, FUZZ_FDEV, &d, &e)) == MUSTER_ENOINPUT) {
		snprintf(tok, sizeof tok, "f%015lx", ++n);
		fuzz_srv_device(FUZZ_FDEV, fsrv.fpk, SCOPE_FAMILY, tok);
	} else if (rc != 0)
		abort();
}

#ifdef FUZZ_SRV_HTTP
/* libmicrohttpd's messages: refused requests, not worth a line each. */
static inline void
fuzz_srv_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (getenv("MUSTER_FUZZ_VERBOSE") != NULL)
		vfprintf(stderr, fmt, ap);
}

/* The daemon of fsrv.srv on 127.0.0.1, port 0: fsrv.port is the one. */
static inline void
fuzz_srv_listen(void)
{
	struct config *c = fsrv.srv->cfg;
	struct front *f = NULL;
	struct muster_err e;

	/* Any free port: the front binds what the configuration names. */
	if (config_addr_parse("127.0.0.1", 1, &c->listen[0]) != 0)
		abort();
	((struct sockaddr_in *)&c->listen[0].addr)->sin_port = 0;
	c->nlisten = 1;
	c->admin_separate = 0;
	if (front_bind(c, &f, &e) != 0 || srv_listen(fsrv.srv, f, &e) != 0) {
		fprintf(stderr, "fuzz: http: %s\n", e.msg);
		abort();
	}
	if ((fsrv.port = front_port(f)) == 0) {
		fprintf(stderr, "fuzz: http: no port\n");
		abort();
	}
}
#endif

/* A new server on an empty store, with the two devices enrolled. */
static inline void
fuzz_srv_start(void)
{
	struct config *cfg = NULL;
	struct muster_err e;
	char data[4300];

	snprintf(data, sizeof data, "%s/data", fsrv.dir);
	fuzz_rmtree(data);
	if (config_load(fsrv.cfgpath, &cfg, &e) != 0 ||
	    srv_init(cfg, &fsrv.srv, &e) != 0) {
		fprintf(stderr, "fuzz: server: %s\n", e.msg);
		abort();
	}
	fuzz_srv_devices();
#ifdef FUZZ_SRV_HTTP
	fuzz_srv_listen();
#endif
}

static inline void
fuzz_srv_stop(void)
{
	srv_free(fsrv.srv);
	fsrv.srv = NULL;
}

static inline void
fuzz_srv_atexit(void)
{
	fuzz_srv_stop();
	sig_seckey_free(fsrv.org_sk);
	fsrv.org_sk = NULL;
}

/* Once, from LLVMFuzzerInitialize. */
static inline void
fuzz_srv_init(const char *name)
{
	unsigned char seed[crypto_sign_SEEDBYTES], h[crypto_generichash_BYTES];
	char cfg[2048], hex[2 * crypto_generichash_BYTES + 1], *pub = NULL;
	struct muster_err e;

	if (sodium_init() < 0)
		abort();
	/* Errors only: a refused request is the fuzzer's daily bread. */
	log_init(name, 0, LOG_LVL_ERROR);
	snprintf(fsrv.dir, sizeof fsrv.dir, "%s", fuzz_tmpdir(name));
	fuzz_org_key(&fsrv.org_pk, &fsrv.org_sk);
	memset(seed, 'P', sizeof seed);
	crypto_sign_seed_keypair(fsrv.ppk, fsrv.psk, seed);
	memset(seed, 'F', sizeof seed);
	crypto_sign_seed_keypair(fsrv.fpk, fsrv.fsk, seed);

	if (sig_pubkey_format(&fsrv.org_pk, &pub, &e) != 0)
		abort();
	fuzz_srv_file("org.pub", pub, 0644);
	free(pub);
	/* Never handed to TLS: nothing listens, or (fuzz_http) in HTTP. */
	fuzz_srv_file("server.crt", "-----BEGIN CERTIFICATE-----\n"
	    "-----END CERTIFICATE-----\n", 0644);
	fuzz_srv_file("server.key", "-----BEGIN PRIVATE KEY-----\n"
	    "-----END PRIVATE KEY-----\n", 0600);
	crypto_generichash(h, sizeof h, (const unsigned char *)FUZZ_ADMIN,
	    strlen(FUZZ_ADMIN), NULL, 0);
	sodium_bin2hex(hex, sizeof hex, h, sizeof h);
	snprintf(cfg, sizeof cfg, "listen = \"127.0.0.1\";\nport = 8443;\n"
	    "tls_cert = \"server.crt\";\ntls_key = \"server.key\";\n"
	    "org_key = \"org.pub\";\ndata_dir = \"data\";\n"
	    "admin_token_hash = \"%s\";\nlog_level = \"error\";\n"
	    FUZZ_SRV_LIMITS, hex);
	fuzz_srv_file("server.cfg", cfg, 0600);
	snprintf(fsrv.cfgpath, sizeof fsrv.cfgpath, "%s/server.cfg", fsrv.dir);
	fuzz_srv_start();
	atexit(fuzz_srv_atexit);
}

/* Before each input: a fresh store now and then. */
static inline void
fuzz_srv_next(void)
{
	if (++fsrv.runs % FUZZ_SRV_RESET == 0) {
		fuzz_srv_stop();
		fuzz_srv_start();
	}
}

/* An answer said to be JSON must be JSON. */
static inline void
fuzz_srv_json_ok(const struct route *rt, const struct route_reply *out)
{
	const char *b = out->body != NULL ? out->body : out->sbody;
	json_error_t err;
	json_t *j;

	if (out->status == 304 || (out->ctype != NULL &&
	    strncmp(out->ctype, "application/json", 16) != 0))
		return;
	FUZZ_ASSERT(b != NULL, "%s: %u with no body", rt->path, out->status);
	j = json_loadb(b, out->len, 0, &err);
	FUZZ_ASSERT(j != NULL, "%s: %u answer is not JSON (%s): %.*s",
	    rt->path, out->status, err.text, (int)out->len, b);
	json_decref(j);
}

/*
 * Runs a route as http.c does: a POST inside writer_expect, and a write
 * the route defers (out->job) handed to the writer, then answered by
 * out->done with the outcome.  http.c submits the job and says
 * writer_expect_done without waiting; writer_run after
 * writer_expect_done is the same order, waiting.
 */
static inline void
fuzz_srv_call(const struct route *rt, struct MHD_Connection *c,
    const char *body, size_t len, struct route_reply *out)
{
	struct route_request rq;
	struct muster_err e;
	route_done_fn done;
	writer_fn job;
	void *arg;
	int rc;

	memset(out, 0, sizeof *out);
	rq = (struct route_request){ fsrv.srv, c, rt->path, body, len };
	if (body != NULL)
		writer_expect(fsrv.srv->writer);
	rt->fn(&rq, out);
	if (body != NULL)
		writer_expect_done(fsrv.srv->writer);
	if (out->job != NULL) {
		FUZZ_ASSERT(out->done != NULL, "%s: a job without done",
		    rt->path);
		job = out->job;
		arg = out->arg;
		done = out->done;
		route_reply_clear(out);
		memset(&e, 0, sizeof e);
		rc = writer_run(fsrv.srv->writer, job, arg, &e);
		memset(out, 0, sizeof *out);
		done(arg, rc, &e, out);
		FUZZ_ASSERT(out->job == NULL, "%s: done left a job", rt->path);
	}
	FUZZ_ASSERT(out->status >= 100 && out->status <= 599,
	    "%s: status %u: %s", rt->path, out->status,
	    out->body != NULL ? out->body : out->sbody != NULL ? out->sbody :
	    "");
	FUZZ_ASSERT(out->body == NULL || out->len == strlen(out->body) ||
	    out->ctype != NULL, "%s: body length %zu", rt->path, out->len);
	fuzz_srv_json_ok(rt, out);
}

/* The base64 Ed25519 signature of msg by sk, into out (at least 89). */
static inline void
fuzz_srv_sign(const unsigned char *sk, const void *msg, size_t len,
    char *out, size_t size)
{
	unsigned char sig[crypto_sign_BYTES];

	crypto_sign_detached(sig, NULL, msg, len, sk);
	sodium_bin2base64(out, size, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
}

#endif
