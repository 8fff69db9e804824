/*
 * checkin: the fleet load tool of tests/bench/checkin.sh.
 *
 *   checkin ORG_DIR URL DEVICES ROUNDS SPOOL THREADS
 *
 * Makes DEVICES simulated devices (own Ed25519 keys), enrolled through
 * the real POST /v1/enroll with tokens it signs with ORG_DIR/enroll.key
 * (else org.key), then measures two things, each device's check-in made
 * as muster-agent makes it: a NEW TLS connection (a new libcurl handle,
 * no session reused) carrying every report the device has waiting, each
 * a signed POST /v1/report, and the signed GET /v1/policy (Muster-Root
 * and If-None-Match of what the device holds) only when the last
 * answer's policy tag is not the one the device holds (agent/run.c:
 * never, here, after enrollment).
 *
 *  1. ROUNDS rounds of unchanged check-ins (one report each), over
 *     THREADS threads, each round followed by as many bare TLS
 *     handshakes (libcurl's CONNECT_ONLY: connect, handshake with the
 *     pin checked, close), the baseline measured alike;
 *  2. the drain after an outage: every device with SPOOL reports waiting
 *     (signed before timing starts), all checking in at once over
 *     THREADS threads.
 *
 * With a seventh argument "resume" each device keeps the TLS session of
 * its last check-in and offers it on the next, as muster-agent does
 * (STATE/tls-session), with the reporter's own code (agent/reporter/
 * tlssess.c): one unmeasured round first (each device's full
 * handshake, its ticket kept), then the measured ones, which resume.
 *
 * With MUSTER_SERVER_PID set, the server's CPU time of each phase is read
 * from /proc (proccpu.h: its threads' run times, in nanoseconds).
 * Prints one line of NAME=VALUE:
 *	checkins=N checkin_s=S checkin_server_cpu_s=C
 *	bare_handshakes=N bare_server_cpu_s=C
 *	drain_reports=N drain_s=S drain_server_cpu_s=C connections=N bad=N
 *	resumed=N (measured check-ins whose handshake resumed a session)
 * and exits 0 when every answer was the one expected (202, and 304 or 200
 * for a policy GET).
 * Bounded: each request has a timeout.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "muster/fs.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "../../agent/reporter/tlssess.h"
#include "proccpu.h"

#define REQ_TIMEOUT	30L
#define BODY_MAX	1024

struct device {
	char		 id[DEVICE_ID_HEX];
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
	long long	 seq;		/* the last seq used */
	char		 etag[64];	/* "root:manifest" of the policy held */
	long long	 root;
	char		**spool;	/* signed report bodies waiting */
	size_t		 nspool;
	struct tlssess	*tls;		/* "resume": its TLS session, kept
					   as the reporter keeps it */
};

static const char *url_base, *cafile;
static char pin[TOKEN_PIN_MAX];
static struct device *devs;
static size_t ndevices, next_dev;
static unsigned long nbad, nconnects, nresumed;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void
die(const char *what)
{
	fprintf(stderr, "checkin: %s\n", what);
	exit(1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
sink(char *p, size_t size, size_t n, void *cls)
{
	FILE *f = cls;

	return f != NULL ? fwrite(p, size, n, f) : size * n;
}

/* Keeps the ETag of a policy answer in the device (cls). */
static size_t
on_header(char *p, size_t size, size_t n, void *cls)
{
	struct device *d = cls;
	size_t len = size * n, i, o = 0;

	if (len > 6 && strncasecmp(p, "ETag: ", 6) == 0) {
		for (i = 6; i < len && p[i] != '\r' && p[i] != '\n' &&
		    o < sizeof d->etag - 1; i++)
			d->etag[o++] = p[i];
		d->etag[o] = '\0';
	}
	return len;
}

static void
b64sig(const unsigned char *sk, const void *msg, size_t len, char *out,
    size_t size)
{
	unsigned char sig[crypto_sign_BYTES];

	crypto_sign_detached(sig, NULL, msg, len, sk);
	sodium_bin2base64(out, size, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
}

static CURL *
handle(void)
{
	CURL *h;

	if ((h = curl_easy_init()) == NULL ||
	    curl_easy_setopt(h, CURLOPT_CAINFO, cafile) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQ_TIMEOUT) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink) != CURLE_OK)
		die("curl_easy_setopt failed");
	return h;
}

/* A signed GET /v1/policy; returns the status (0 on a transport error). */
static long
get_policy(CURL *h, struct device *d)
{
	char t[TIMEFMT_LEN], msg[256], sig[128], line[256], url[512];
	struct curl_slist *l = NULL;
	long status = 0;
	int n;

	timefmt_format(time(NULL), t);
	n = snprintf(msg, sizeof msg, PROTO_GET_PREFIX "%s\n%s\n",
	    PROTO_PATH_POLICY, t);
	b64sig(d->sk, msg, (size_t)n, sig, sizeof sig);
	snprintf(line, sizeof line, PROTO_HDR_DEVICE ": %s", d->id);
	l = curl_slist_append(l, line);
	snprintf(line, sizeof line, PROTO_HDR_TIME ": %s", t);
	l = curl_slist_append(l, line);
	snprintf(line, sizeof line, PROTO_HDR_SIGNATURE ": %s", sig);
	l = curl_slist_append(l, line);
	snprintf(line, sizeof line, PROTO_HDR_ROOT ": %lld", d->root);
	l = curl_slist_append(l, line);
	if (d->etag[0] != '\0') {
		snprintf(line, sizeof line, "If-None-Match: %s", d->etag);
		l = curl_slist_append(l, line);
	}
	snprintf(url, sizeof url, "%s" PROTO_PATH_POLICY, url_base);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, d);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(l);
	return status;
}

/* The policy tag the device holds: its ETag without the quotes. */
static int
tag_held(const struct device *d, const char *tag)
{
	size_t n = strlen(d->etag);

	return n > 2 && strlen(tag) == n - 2 &&
	    strncmp(d->etag + 1, tag, n - 2) == 0;
}

/* A signed POST of body (of device d, or enrollment when d has no id). */
static long
post(CURL *h, const struct device *d, const char *path, const char *body,
    FILE *out)
{
	char sig[128], line[256], url[512];
	struct curl_slist *l = NULL;
	long status = 0;

	b64sig(d->sk, body, strlen(body), sig, sizeof sig);
	l = curl_slist_append(l, "Content-Type: " PROTO_CTYPE_JSON);
	l = curl_slist_append(l, "Expect:");
	snprintf(line, sizeof line, PROTO_HDR_SIGNATURE ": %s", sig);
	l = curl_slist_append(l, line);
	if (d->id[0] != '\0') {
		snprintf(line, sizeof line, PROTO_HDR_DEVICE ": %s", d->id);
		l = curl_slist_append(l, line);
	}
	snprintf(url, sizeof url, "%s%s", url_base, path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, NULL);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(l);
	return status;
}

/* The next report of d, as an agent spools it. */
static char *
report(struct device *d)
{
	char body[BODY_MAX], now[TIMEFMT_LEN];
	long long s = ++d->seq;

	timefmt_format(time(NULL), now);
	snprintf(body, sizeof body, "{\"device\":\"%s\",\"seq\":%lld,"
	    "\"time\":\"%s\",\"profile\":\"iaf-personnel\",\"serial\":1,"
	    "\"status\":\"noncompliant\",\"dropped\":0,"
	    "\"model\":\"Xiaomi HM 1SW\",\"results\":["
	    "{\"rule\":\"redmi-1s-unfixed\",\"result\":\"fail\","
	    "\"detail\":\"model HM 1SW is banned\"},"
	    "{\"rule\":\"mi-cloud-sync-off\",\"result\":\"pass\"},"
	    "{\"rule\":\"cloud-messaging-off\",\"result\":\"remediated\"}]}",
	    d->id, s, now);
	return strdup(body);
}

static void
enroll_all(const char *orgdir)
{
	struct muster_err e;
	struct sig_seckey *osk = NULL;
	struct token t;
	char *keybuf = NULL, *path, *tok, *resp = NULL, *body = NULL;
	char b64[sodium_base64_ENCODED_LEN(crypto_sign_PUBLICKEYBYTES,
	    sodium_base64_VARIANT_ORIGINAL)];
	size_t klen, rlen, i;
	CURL *h;

	if ((path = fs_path(orgdir, "enroll.key")) != NULL &&
	    access(path, F_OK) != 0) {
		free(path);
		path = fs_path(orgdir, "org.key");
	}
	if (path == NULL ||
	    fs_read_file(path, SIG_KEYFILE_MAX, &keybuf, &klen, &e) != 0 ||
	    sig_seckey_parse(path, keybuf, klen, NULL, &osk, &e) != 0)
		die("cannot read the org's enroll key");
	free(path);
	free(keybuf);
	h = handle();
	for (i = 0; i < ndevices; i++) {
		struct device *d = &devs[i];
		json_t *j;
		FILE *f;
		long st;

		crypto_sign_keypair(d->pk, d->sk);
		memset(&t, 0, sizeof t);
		token_new_id(t.id);
		snprintf(t.server, sizeof t.server, "%s", url_base);
		snprintf(t.pin, sizeof t.pin, "%s", pin);
		t.scope = SCOPE_PERSONNEL;
		snprintf(t.unit, sizeof t.unit, "BENCH/UNIT-%zu", i % 10);
		snprintf(t.person, sizeof t.person, "C-%zu", i);
		t.expires = time(NULL) + 3600;
		if (token_sign(&t, osk, &tok, &e) != 0)
			die(e.msg);
		sodium_bin2base64(b64, sizeof b64, d->pk, sizeof d->pk,
		    sodium_base64_VARIANT_ORIGINAL);
		if (asprintf(&body, "{\"token\":\"%s\",\"device_key\":\"%s\","
		    "\"model\":\"Xiaomi HM 1SW\"}", tok, b64) == -1)
			die("out of memory");
		free(tok);
		if ((f = open_memstream(&resp, &rlen)) == NULL)
			die("open_memstream");
		st = post(h, d, PROTO_PATH_ENROLL, body, f);
		fclose(f);
		if (st != 201 || (j = json_loads(resp, 0, NULL)) == NULL ||
		    !json_is_string(json_object_get(j, "device")))
			die("enroll: unexpected answer");
		snprintf(d->id, sizeof d->id, "%s",
		    json_string_value(json_object_get(j, "device")));
		json_decref(j);
		free(resp);
		free(body);
		/* What the device holds: the policy's ETag "root:manifest". */
		d->etag[0] = '\0';
		if (get_policy(h, d) != 200)
			die("first policy: unexpected answer");
		d->root = strtoll(d->etag + 1, NULL, 10);
	}
	curl_easy_cleanup(h);
	sig_seckey_free(osk);
}

/* One check-in of d: a new connection, the policy, every report waiting. */
static void
checkin(struct device *d)
{
	unsigned long bad = 0, resumed = 0;
	long conns = 0, c;
	CURL *h = handle();
	size_t i;

	struct report_answer a;
	char *ans = NULL;
	size_t alen = 0;
	long st;
	FILE *f;

	/* A new process on the phone: no connection; with "resume" the
	 * session of its last check-in, else none. */
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	if (d->tls != NULL) {
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, tlssess_ctx);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, d->tls);
	}
	memset(&a, 0, sizeof a);
	for (i = 0; i < d->nspool; i++) {
		if ((f = open_memstream(&ans, &alen)) == NULL)
			die("open_memstream");
		st = post(h, d, PROTO_PATH_REPORT, d->spool[i], f);
		fclose(f);
		if (st != 202 || report_answer_parse(ans, alen, &a) != 0)
			bad++;
		free(ans);
		ans = NULL;
		if (i == 0) {
			if (d->tls != NULL && tlssess_resumed(d->tls))
				resumed = 1;
			curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 0L);
		}
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &c);
		conns += c;
		free(d->spool[i]);
	}
	d->nspool = 0;
	/* The policy only when the answers tag another one than held. */
	if (!tag_held(d, a.policy)) {
		st = get_policy(h, d);
		if (st != 304 && st != 200)
			bad++;
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &c);
		conns += c;
	}
	curl_easy_cleanup(h);
	pthread_mutex_lock(&mu);
	nbad += bad;
	nconnects += (unsigned long)conns;
	nresumed += resumed;
	pthread_mutex_unlock(&mu);
}

/*
 * A bare TLS handshake as d's client makes it (libcurl, OpenSSL, the pin
 * checked): connect, handshake, close; no session offered, no request.
 * The baseline measured in the same phases as the check-ins.
 */
static void
bare(struct device *d)
{
	char url[512];
	CURL *h = handle();

	(void)d;
	snprintf(url, sizeof url, "%s/healthz", url_base);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	if (curl_easy_perform(h) != CURLE_OK) {
		pthread_mutex_lock(&mu);
		nbad++;
		pthread_mutex_unlock(&mu);
	}
	curl_easy_cleanup(h);
}

static int bare_round;		/* round_all makes bare handshakes */

static void *
worker(void *cls)
{
	size_t i;

	(void)cls;
	for (;;) {
		pthread_mutex_lock(&mu);
		i = next_dev++;
		pthread_mutex_unlock(&mu);
		if (i >= ndevices)
			return NULL;
		if (bare_round)
			bare(&devs[i]);
		else
			checkin(&devs[i]);
	}
}

/* Every device checks in once, over nthreads threads. */
static void
round_all(size_t nthreads)
{
	pthread_t th[64];
	size_t t;

	next_dev = 0;
	for (t = 0; t < nthreads; t++)
		if (pthread_create(&th[t], NULL, worker, NULL) != 0)
			die("pthread_create");
	for (t = 0; t < nthreads; t++)
		pthread_join(th[t], NULL);
}

/* Gives every device n reports waiting. */
static void
spool_all(size_t n)
{
	size_t i, k;

	for (i = 0; i < ndevices; i++) {
		if ((devs[i].spool = calloc(n, sizeof *devs[i].spool)) == NULL)
			die("out of memory");
		for (k = 0; k < n; k++)
			if ((devs[i].spool[k] = report(&devs[i])) == NULL)
				die("out of memory");
		devs[i].nspool = n;
	}
}

int
main(int argc, char **argv)
{
	const char *spid = getenv("MUSTER_SERVER_PID");
	struct muster_err e;
	char *pinbuf = NULL, *path;
	size_t rounds, spool, nthreads, plen, r;
	double t0, t1, s0, s1, ct, cs, dt, ds, bs = 0;
	unsigned long checkins, ck_resumed;
	int resume = argc == 8 && strcmp(argv[7], "resume") == 0;
	size_t i;

	if (argc != 7 && !resume) {
		fprintf(stderr, "usage: checkin ORG_DIR URL DEVICES ROUNDS "
		    "SPOOL THREADS [resume]\n");
		return 64;
	}
	ndevices = strtoul(argv[3], NULL, 10);
	rounds = strtoul(argv[4], NULL, 10);
	spool = strtoul(argv[5], NULL, 10);
	nthreads = strtoul(argv[6], NULL, 10);
	if (ndevices == 0 || ndevices > 100000 || rounds > 1000 ||
	    spool > 1000 || nthreads == 0 || nthreads > 64) {
		fprintf(stderr, "checkin: DEVICES, ROUNDS, SPOOL or THREADS "
		    "out of range\n");
		return 64;
	}
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("initialisation failed");
	url_base = argv[2];
	if ((path = fs_path(argv[1], "server.pin")) == NULL ||
	    fs_read_file(path, 256, &pinbuf, &plen, &e) != 0)
		die("cannot read server.pin");
	pinbuf[strcspn(pinbuf, "\r\n")] = '\0';
	snprintf(pin, sizeof pin, "%s", pinbuf);
	free(pinbuf);
	free(path);
	if ((path = fs_path(argv[1], "server.crt")) == NULL)
		die("out of memory");
	cafile = path;
	if ((devs = calloc(ndevices, sizeof *devs)) == NULL)
		die("out of memory");
	enroll_all(argv[1]);
	for (i = 0; resume && i < ndevices; i++)
		if (tlssess_new(&devs[i].tls) != 0)
			die("out of memory");
	if (resume) {
		/* Each device's first check-in: a full handshake. */
		spool_all(1);
		round_all(nthreads);
		nresumed = 0;
	}

	/*
	 * 1. Unchanged check-ins: the policy (304) and one report.  After
	 * each round, as many bare handshakes (the baseline), so that both
	 * are measured in the same moments of a shared machine.
	 */
	ct = cs = 0;
	for (r = 0; r < rounds; r++) {
		spool_all(1);
		s0 = proccpu_s(spid);
		t0 = now_s();
		round_all(nthreads);
		t1 = now_s();
		s1 = proccpu_s(spid);
		ct += t1 - t0;
		cs = cs < 0 || s0 < 0 || s1 < 0 ? -1 : cs + s1 - s0;
		bare_round = 1;
		s0 = proccpu_s(spid);
		round_all(nthreads);
		s1 = proccpu_s(spid);
		bare_round = 0;
		bs = bs < 0 || s0 < 0 || s1 < 0 ? -1 : bs + s1 - s0;
	}
	checkins = (unsigned long)(rounds * ndevices);
	ck_resumed = nresumed;

	/* 2. The drain: every device back with spool reports waiting. */
	spool_all(spool);
	nconnects = 0;
	s0 = proccpu_s(spid);
	t0 = now_s();
	if (spool > 0)
		round_all(nthreads);
	t1 = now_s();
	s1 = proccpu_s(spid);
	dt = t1 - t0;
	ds = s0 >= 0 && s1 >= 0 ? s1 - s0 : -1;
	printf("checkins=%lu checkin_s=%.3f checkin_server_cpu_s=%.3f "
	    "bare_handshakes=%lu bare_server_cpu_s=%.3f "
	    "drain_reports=%zu drain_s=%.3f drain_server_cpu_s=%.3f "
	    "connections=%lu bad=%lu resumed=%lu\n", checkins, ct, cs,
	    checkins, bs, ndevices * spool, dt, ds, nconnects, nbad,
	    ck_resumed);
	for (i = 0; i < ndevices; i++)
		tlssess_free(devs[i].tls);
	free(path);
	return nbad == 0 ? 0 : 1;
}
