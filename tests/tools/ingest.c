/*
 * ingest: load generator for muster-server's report path (tests/bench)
 * and for the server's run under valgrind (tests/e2e/test_valgrind.sh).
 *
 *   ingest [-m] ORG_DIR URL DEVICES REPORTS CONNECTIONS
 *
 * Makes DEVICES simulated devices, each with its own Ed25519 key, and
 * enrolls each through the real POST /v1/enroll with a token it signs
 * with ORG_DIR/enroll.key, else (a first-wave org) ORG_DIR/org.key
 * (unencrypted, as `init --no-passphrase` writes
 * it).  Then signs DEVICES x REPORTS reports (seq 1..REPORTS per device)
 * before any timing starts (a device's status changes at every tenth
 * report, so the history tables see some writes), and posts every report over
 * CONNECTIONS keep-alive HTTPS connections (libcurl multi, one thread,
 * the server's key pinned).  A device's reports go in seq order over one
 * connection.  Reports are timed when they are signed and name the rules
 * of profiles/iaf-personnel.cfg serial 1, which the caller publishes
 * first: the server refuses a time outside its window and a profile or
 * rule it does not hold.  The raw crypto_sign_verify_detached rate on one core (this
 * thread) is measured just before and just after, and their mean is the
 * baseline.  With MUSTER_SERVER_PID set, the server's CPU time during the
 * load is read from /proc.
 *
 * With -m (mixed), every report is followed on its connection by one
 * other request, in turn: GET /healthz and /metrics, an unknown path
 * (404), the previous report again (200, duplicate), a signed report
 * body that is not JSON (400), a report whose signature is not over its
 * bytes (401), an unsigned enrollment (401), a report from an unknown
 * device (403), a chunked body over max_body (413), and now and then a
 * wrong Content-Type (415) or a Content-Length over max_body (413), both
 * sent with "Expect: 100-continue" (the server answers before the body,
 * and closes the connection).  Prints:
 *	verify_per_s=N reports_per_s=N ratio=N stored=N other=N seconds=N
 *	client_cpu_s=N server_cpu_s=N requests=N unexpected=N
 * (requests counts the enrollments too; unexpected, the answers that
 * were not the status expected) and exits 0 when every report got 202
 * and every other request its expected status.  Bounded: each request
 * has a timeout, and the whole load phase a deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "muster/fs.h"
#include "muster/proto.h"
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "muster/token.h"

#define BODY_MAX	1024		/* bytes of one generated report */
#define REQ_TIMEOUT	30L		/* seconds per request */
#define LOAD_DEADLINE	300.0		/* seconds for the whole load */
#define VERIFY_SECONDS	1.0
#define BIG_BODY	(70 * 1024)	/* over the default max_body */
#define UNKNOWN_DEVICE	"00000000000000000000000000000000"

struct device {
	char		 id[DEVICE_ID_HEX];
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
};

/* A request ready to send: a signed report, or one of the others (-m). */
struct report {
	const char		*path;		/* NULL: /v1/report */
	int			 get;
	int			 chunked;
	char			*body;
	size_t			 len;
	struct curl_slist	*hdrs;
	const char		*name;		/* what it is, for errors */
	long			 want;		/* status; 0: 202 */
};

/* The other requests of -m, in the order they take turns. */
enum other {
	O_HEALTHZ, O_METRICS, O_NOT_FOUND, O_DUPLICATE, O_GARBAGE,
	O_BAD_SIG, O_UNSIGNED, O_UNKNOWN, O_CHUNKED_BIG,
	O__TURN,		/* the ones above take turns; then, rarely: */
	O_WRONG_TYPE = O__TURN, O_LENGTH_BIG,
	O__N
};
#define OTHER_RARE	25	/* one turn in this many is a rare one */

/* One connection: the devices it carries, and where it is in them. */
struct conn {
	CURL		*h;
	size_t		 first, step;	/* devices first, first+step, ... */
	size_t		 ndev;		/* how many of them */
	size_t		 next;		/* index into its request order */
	size_t		 total;
	size_t		 nother;	/* others sent (-m) */
	struct report	*last;		/* its last report (-m) */
	long		 want;		/* what the request in flight wants */
	const char	*name;
	char		 errbuf[CURL_ERROR_SIZE];
};

static const char *url_base, *cafile;
static char pin[TOKEN_PIN_MAX];
static size_t ndevices, nreports;
static struct device *devs;
static struct report *reps;	/* [device * nreports + seq - 1] */
static struct report others[O__N];
static int mixed;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	    (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/*
 * CPU seconds (user + system) used so far by process pid, from
 * /proc/PID/stat; -1 when unknown.
 */
static double
proc_cpu_s(const char *pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	if (pid == NULL)
		return -1;
	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st)
	    != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "ingest: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static size_t
collect(char *p, size_t size, size_t n, void *cls)
{
	FILE *f = cls;

	return f != NULL ? fwrite(p, size, n, f) : size * n;
}

static void
tls_setup(CURL *h)
{
	if (curl_easy_setopt(h, CURLOPT_CAINFO, cafile) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQ_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK)
		die("%s", "curl_easy_setopt failed");
}

/*
 * Headers for a POST: ctype, the signature of body by sk (none when sk is
 * NULL), maybe a device, and expect as the Expect header's value.
 */
static struct curl_slist *
post_headers(const char *body, size_t len, const unsigned char *sk,
    const char *device, const char *ctype, const char *expect)
{
	unsigned char sig[crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)], line[256];
	struct curl_slist *l = NULL;

	snprintf(line, sizeof line, "Content-Type: %s", ctype);
	l = curl_slist_append(l, line);
	snprintf(line, sizeof line, "Expect: %s", expect);
	l = curl_slist_append(l, line);
	if (sk != NULL) {
		crypto_sign_detached(sig, NULL, (const unsigned char *)body,
		    len, sk);
		sodium_bin2base64(b64, sizeof b64, sig, sizeof sig,
		    sodium_base64_VARIANT_ORIGINAL);
		snprintf(line, sizeof line, PROTO_HDR_SIGNATURE ": %s", b64);
		l = curl_slist_append(l, line);
	}
	if (device != NULL) {
		snprintf(line, sizeof line, PROTO_HDR_DEVICE ": %s", device);
		l = curl_slist_append(l, line);
	}
	if (l == NULL)
		die("%s", "out of memory");
	return l;
}

/* Headers for a report-like POST: JSON, signed by sk, for device. */
static struct curl_slist *
signed_headers(const char *body, size_t len, const unsigned char *sk,
    const char *device)
{
	return post_headers(body, len, sk, device, PROTO_CTYPE_JSON, "");
}

static void
enroll_all(const char *orgdir)
{
	struct muster_err e;
	struct sig_seckey *osk = NULL;
	struct token t;
	char *keybuf = NULL, *path, *tok, *resp = NULL, *body = NULL, url[512];
	char b64[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	size_t klen, rlen;
	CURL *h;
	size_t i;

	/* An org with roots signs tokens with its enroll key (a v1 body). */
	if ((path = fs_path(orgdir, "enroll.key")) != NULL &&
	    access(path, F_OK) != 0) {
		free(path);
		path = fs_path(orgdir, "org.key");
	}
	if (path == NULL ||
	    fs_read_file(path, SIG_KEYFILE_MAX, &keybuf, &klen, &e) != 0 ||
	    sig_seckey_parse(path, keybuf, klen, NULL, &osk, &e) != 0)
		die("%s", e.msg);
	free(path);
	free(keybuf);
	if ((h = curl_easy_init()) == NULL)
		die("%s", "curl_easy_init failed");
	tls_setup(h);
	snprintf(url, sizeof url, "%s" PROTO_PATH_ENROLL, url_base);
	for (i = 0; i < ndevices; i++) {
		struct device *d = &devs[i];
		struct curl_slist *hdrs;
		FILE *f;
		json_t *j;
		long status = 0;

		crypto_sign_keypair(d->pk, d->sk);
		memset(&t, 0, sizeof t);
		token_new_id(t.id);
		snprintf(t.server, sizeof t.server, "%s", url_base);
		snprintf(t.pin, sizeof t.pin, "%s", pin);
		t.scope = SCOPE_PERSONNEL;
		snprintf(t.unit, sizeof t.unit, "BENCH/UNIT-%zu", i % 10);
		snprintf(t.person, sizeof t.person, "P-%zu", i);
		t.expires = time(NULL) + 3600;
		if (token_sign(&t, osk, &tok, &e) != 0)
			die("%s", e.msg);
		sodium_bin2base64(b64, sizeof b64, d->pk, sizeof d->pk,
		    sodium_base64_VARIANT_ORIGINAL);
		if (asprintf(&body, "{\"token\":\"%s\",\"device_key\":\"%s\","
		    "\"model\":\"Xiaomi HM 1SW\"}", tok, b64) == -1)
			die("%s", "out of memory");
		free(tok);
		hdrs = signed_headers(body, strlen(body), d->sk, NULL);
		if ((f = open_memstream(&resp, &rlen)) == NULL)
			die("%s", "open_memstream");
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
		if (curl_easy_perform(h) != CURLE_OK)
			die("%s", "enroll: request failed");
		fclose(f);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 201 ||
		    (j = json_loads(resp, 0, NULL)) == NULL ||
		    !json_is_string(json_object_get(j, "device")))
			die("enroll: unexpected answer: %s", resp);
		snprintf(d->id, sizeof d->id, "%s",
		    json_string_value(json_object_get(j, "device")));
		json_decref(j);
		curl_slist_free_all(hdrs);
		free(resp);
		free(body);
		resp = body = NULL;
	}
	curl_easy_cleanup(h);
	sig_seckey_free(osk);
}

static void
sign_all(void)
{
	size_t i, s;
	char body[BODY_MAX], now[TIMEFMT_LEN];
	int n;

	/* Timed now: the server refuses a time outside its window. */
	timefmt_format(time(NULL), now);
	for (i = 0; i < ndevices; i++)
		for (s = 1; s <= nreports; s++) {
			struct report *r = &reps[i * nreports + s - 1];

			n = snprintf(body, sizeof body, "{\"device\":\"%s\","
			    "\"seq\":%zu,\"time\":\"%s\","
			    "\"profile\":\"iaf-personnel\",\"serial\":1,"
			    "\"status\":\"%s\",\"dropped\":0,"
			    "\"model\":\"Xiaomi HM 1SW\",\"results\":["
			    "{\"rule\":\"redmi-1s-unfixed\",\"result\":\"%s\","
			    "\"detail\":\"model HM 1SW is banned\"},"
			    "{\"rule\":\"mi-cloud-sync-off\",\"result\":"
			    "\"pass\"},"
			    "{\"rule\":\"cloud-messaging-off\",\"result\":"
			    "\"remediated\"}]}", devs[i].id, s, now,
			    s % 10 == 0 ? "compliant" : "noncompliant",
			    s % 10 == 0 ? "pass" : "fail");
			if ((r->body = strdup(body)) == NULL)
				die("%s", "out of memory");
			r->len = (size_t)n;
			r->hdrs = signed_headers(r->body, r->len, devs[i].sk,
			    devs[i].id);
			r->name = "report";
		}
}

static void
other(enum other k, const char *name, const char *path, int get,
    const char *body, struct curl_slist *hdrs, long want)
{
	struct report *r = &others[k];

	r->name = name;
	r->path = path;
	r->get = get;
	r->want = want;
	r->hdrs = hdrs;
	if (body != NULL) {
		if ((r->body = strdup(body)) == NULL)
			die("%s", "out of memory");
		r->len = strlen(body);
	}
}

/* The requests of -m other than reports and their duplicates. */
static void
make_others(void)
{
	const struct device *d = &devs[0];
	const struct report *r0 = &reps[0];
	struct curl_slist *h;
	char *big;

	other(O_HEALTHZ, "healthz", PROTO_PATH_HEALTHZ, 1, NULL, NULL, 200);
	other(O_METRICS, "metrics without a credential", PROTO_PATH_METRICS, 1,
	    NULL, NULL, 401);
	other(O_NOT_FOUND, "unknown path", "/v2/nothing", 1, NULL, NULL, 404);
	other(O_DUPLICATE, "duplicate", NULL, 0, NULL, NULL, 200);
	other(O_GARBAGE, "garbage report", NULL, 0, "{\"device\": garbage",
	    NULL, 400);
	others[O_GARBAGE].hdrs = signed_headers(others[O_GARBAGE].body,
	    others[O_GARBAGE].len, d->sk, d->id);
	/* Device 0's first report, with the signature of other bytes. */
	h = signed_headers("other bytes", 11, d->sk, d->id);
	other(O_BAD_SIG, "bad signature", NULL, 0, r0->body, h, 401);
	other(O_UNSIGNED, "unsigned enrollment", PROTO_PATH_ENROLL, 0,
	    "{\"token\":\"x\",\"device_key\":\"AA==\"}", NULL, 401);
	others[O_UNSIGNED].hdrs = post_headers(NULL, 0, NULL, NULL,
	    PROTO_CTYPE_JSON, "");
	h = signed_headers(r0->body, r0->len, d->sk, UNKNOWN_DEVICE);
	other(O_UNKNOWN, "unknown device", NULL, 0, r0->body, h, 403);
	if ((big = malloc(BIG_BODY + 1)) == NULL)
		die("%s", "out of memory");
	memset(big, 'a', BIG_BODY);
	big[BIG_BODY] = '\0';
	h = post_headers(big, BIG_BODY, d->sk, d->id, PROTO_CTYPE_JSON, "");
	if ((h = curl_slist_append(h, "Transfer-Encoding: chunked")) == NULL)
		die("%s", "out of memory");
	other(O_CHUNKED_BIG, "chunked body over max_body", NULL, 0, big, h,
	    413);
	others[O_CHUNKED_BIG].chunked = 1;
	h = post_headers(big, BIG_BODY, d->sk, d->id, PROTO_CTYPE_JSON,
	    "100-continue");
	other(O_LENGTH_BIG, "Content-Length over max_body", NULL, 0, big, h,
	    413);
	free(big);
	h = post_headers(r0->body, r0->len, d->sk, d->id, "text/plain",
	    "100-continue");
	other(O_WRONG_TYPE, "wrong content type", NULL, 0, r0->body, h, 415);
}

/* crypto_sign_verify_detached per second, on this thread. */
static double
verify_rate(void)
{
	const struct report *r = &reps[0];
	unsigned char sig[crypto_sign_BYTES];
	double t0, t;
	long n = 0;

	crypto_sign_detached(sig, NULL, (const unsigned char *)r->body,
	    r->len, devs[0].sk);
	t0 = now_s();
	do {
		int i;

		for (i = 0; i < 256; i++, n++)
			if (crypto_sign_verify_detached(sig,
			    (const unsigned char *)r->body, r->len,
			    devs[0].pk) != 0)
				die("%s", "verify failed");
		t = now_s();
	} while (t - t0 < VERIFY_SECONDS);
	return (double)n / (t - t0);
}

/*
 * The request a connection sends next: its reports seq-major over its
 * devices, with -m each followed by one of the others (a duplicate being
 * the connection's last report again).  Sets c->want and c->name.
 */
static struct report *
conn_next(struct conn *c)
{
	struct report *r;
	size_t dev, seq, i, k;

	if (c->next >= c->total)
		return NULL;
	i = c->next++;
	if (mixed && i % 2 == 1) {
		k = c->nother++;
		if (k % OTHER_RARE == OTHER_RARE - 1)
			r = &others[O__TURN + (k / OTHER_RARE) %
			    (O__N - O__TURN)];
		else
			r = &others[(k + c->first) % O__TURN];
		if (r == &others[O_DUPLICATE]) {
			c->want = 200;
			c->name = "duplicate";
			return c->last;
		}
		c->want = r->want;
		c->name = r->name;
		return r;
	}
	if (mixed)
		i /= 2;
	dev = c->first + (i % c->ndev) * c->step;
	seq = i / c->ndev;
	c->want = 202;
	c->name = "report";
	return c->last = &reps[dev * nreports + seq];
}

static void
conn_send(CURLM *m, struct conn *c, const struct report *r, const char *base)
{
	char url[512];

	snprintf(url, sizeof url, "%s%s", base, r->path != NULL ? r->path :
	    PROTO_PATH_REPORT);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, r->hdrs);
	if (r->get)
		curl_easy_setopt(c->h, CURLOPT_HTTPGET, 1L);
	else {
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE,
		    r->chunked ? -1L : (long)r->len);
	}
	if (curl_multi_add_handle(m, c->h) != CURLM_OK)
		die("%s", "curl_multi_add_handle failed");
}

int
main(int argc, char **argv)
{
	CURLM *m;
	struct conn *conns;
	size_t nconn, i, stored = 0, other = 0, done = 0, total, unexpected = 0;
	char *pinbuf = NULL, *pinpath;
	struct muster_err e;
	struct rusage ru0, ru1;
	double vps, vps2, t0, t1, s0, s1;
	int running, left;
	size_t plen;

	if (argc > 1 && strcmp(argv[1], "-m") == 0) {
		mixed = 1;
		argc--;
		argv++;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: ingest [-m] ORG_DIR URL DEVICES "
		    "REPORTS CONNECTIONS\n");
		return 64;
	}
	ndevices = strtoul(argv[3], NULL, 10);
	nreports = strtoul(argv[4], NULL, 10);
	nconn = strtoul(argv[5], NULL, 10);
	if (ndevices == 0 || nreports == 0 || nconn == 0 ||
	    ndevices > 100000 || nreports > 100000 || nconn > 1024)
		die("%s", "DEVICES, REPORTS, CONNECTIONS out of range");
	if (nconn > ndevices)
		nconn = ndevices;
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("%s", "initialisation failed");
	url_base = argv[2];
	if ((pinpath = fs_path(argv[1], "server.pin")) == NULL ||
	    fs_read_file(pinpath, 256, &pinbuf, &plen, &e) != 0)
		die("%s", "cannot read server.pin");
	pinbuf[strcspn(pinbuf, "\r\n")] = '\0';
	snprintf(pin, sizeof pin, "%s", pinbuf);
	free(pinbuf);
	free(pinpath);
	if ((pinpath = fs_path(argv[1], "server.crt")) == NULL)
		die("%s", "out of memory");
	cafile = pinpath;

	if ((devs = calloc(ndevices, sizeof *devs)) == NULL ||
	    (reps = calloc(ndevices * nreports, sizeof *reps)) == NULL ||
	    (conns = calloc(nconn, sizeof *conns)) == NULL)
		die("%s", "out of memory");
	enroll_all(argv[1]);
	sign_all();
	if (mixed)
		make_others();
	vps = verify_rate();

	if ((m = curl_multi_init()) == NULL)
		die("%s", "curl_multi_init failed");
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)nconn);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)nconn);
	total = ndevices * nreports * (mixed ? 2 : 1);
	getrusage(RUSAGE_SELF, &ru0);
	s0 = proc_cpu_s(getenv("MUSTER_SERVER_PID"));
	t0 = now_s();
	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];

		c->first = i;
		c->step = nconn;
		c->ndev = (ndevices - i + nconn - 1) / nconn;
		c->total = c->ndev * nreports * (mixed ? 2 : 1);
		if ((c->h = curl_easy_init()) == NULL)
			die("%s", "curl_easy_init failed");
		tls_setup(c->h);
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
		curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
		conn_send(m, c, conn_next(c), url_base);
	}
	do {
		CURLMsg *msg;

		if (curl_multi_perform(m, &running) != CURLM_OK)
			die("%s", "curl_multi_perform failed");
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct conn *c;
			struct report *r;
			long status = 0;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&c);
			curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE,
			    &status);
			if (msg->data.result == CURLE_OK && status == 202 &&
			    c->want == 202)
				stored++;
			else if (c->want == 202)
				other++;
			if (msg->data.result != CURLE_OK || status != c->want) {
				if (unexpected++ < 5)
					fprintf(stderr, "ingest: %s: HTTP %ld, "
					    "wanted %ld %s\n", c->name, status,
					    c->want, c->errbuf);
			}
			done++;
			c->errbuf[0] = '\0';
			curl_multi_remove_handle(m, c->h);
			if ((r = conn_next(c)) != NULL)
				conn_send(m, c, r, url_base);
		}
		if (now_s() - t0 > LOAD_DEADLINE) {
			fprintf(stderr, "ingest: deadline reached\n");
			break;
		}
		if (done < total && curl_multi_poll(m, NULL, 0, 100, NULL) !=
		    CURLM_OK)
			die("%s", "curl_multi_poll failed");
	} while (done < total);
	t1 = now_s();
	s1 = proc_cpu_s(getenv("MUSTER_SERVER_PID"));
	getrusage(RUSAGE_SELF, &ru1);
	/* The baseline before and after the load, so drift shows. */
	vps2 = verify_rate();
	fprintf(stderr, "ingest: verify/s before %.0f, after %.0f\n", vps,
	    vps2);
	vps = (vps + vps2) / 2;
	printf("verify_per_s=%.0f reports_per_s=%.0f ratio=%.2f stored=%zu "
	    "other=%zu seconds=%.2f client_cpu_s=%.2f server_cpu_s=%.2f "
	    "requests=%zu unexpected=%zu\n",
	    vps, (double)stored / (t1 - t0), (double)stored / (t1 - t0) / vps,
	    stored, other, t1 - t0, cpu_s(&ru1) - cpu_s(&ru0),
	    s0 >= 0 && s1 >= 0 ? s1 - s0 : -1.0, ndevices + done,
	    unexpected + (total - done));

	for (i = 0; i < nconn; i++)
		curl_easy_cleanup(conns[i].h);
	curl_multi_cleanup(m);
	for (i = 0; i < ndevices * nreports; i++) {
		free(reps[i].body);
		curl_slist_free_all(reps[i].hdrs);
	}
	for (i = 0; i < O__N; i++) {
		free(others[i].body);
		curl_slist_free_all(others[i].hdrs);
	}
	sodium_memzero(devs, ndevices * sizeof *devs);
	free(devs);
	free(reps);
	free(conns);
	free(pinpath);
	curl_global_cleanup();
	return done == total && unexpected == 0 ? 0 : 1;
}
