/*
 * ingest: load generator for muster-server's report path (tests/bench).
 *
 *   ingest ORG_DIR URL DEVICES REPORTS CONNECTIONS
 *
 * Makes DEVICES simulated devices, each with its own Ed25519 key, and
 * enrolls each through the real POST /v1/enroll with a token it signs
 * with ORG_DIR/org.key (unencrypted, as `init --no-passphrase` writes
 * it).  Then signs DEVICES x REPORTS reports (seq 1..REPORTS per device)
 * before any timing starts (a device's status changes at every tenth
 * report, so the history tables see some writes), and posts every report over
 * CONNECTIONS keep-alive HTTPS connections (libcurl multi, one thread,
 * the server's key pinned).  A device's reports go in seq order over one
 * connection.  The raw crypto_sign_verify_detached rate on one core (this
 * thread) is measured just before and just after, and their mean is the
 * baseline.  With MUSTER_SERVER_PID set, the server's CPU time during the
 * load is read from /proc.  Prints:
 *	verify_per_s=N reports_per_s=N ratio=N stored=N other=N seconds=N
 *	client_cpu_s=N server_cpu_s=N
 * and exits 0 when every report got 202.  Bounded: each request has a
 * timeout, and the whole load phase a deadline.
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
#include "muster/sig.h"
#include "muster/token.h"

#define REPORT_MAX	1024
#define REQ_TIMEOUT	30L		/* seconds per request */
#define LOAD_DEADLINE	300.0		/* seconds for the whole load */
#define VERIFY_SECONDS	1.0

struct device {
	char		 id[DEVICE_ID_HEX];
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
};

struct report {
	char			*body;
	size_t			 len;
	struct curl_slist	*hdrs;
};

/* One connection: the devices it carries, and where it is in them. */
struct conn {
	CURL		*h;
	size_t		 first, step;	/* devices first, first+step, ... */
	size_t		 ndev;		/* how many of them */
	size_t		 next;		/* index into its request order */
	size_t		 total;
	char		 errbuf[CURL_ERROR_SIZE];
};

static const char *url_base, *cafile;
static char pin[TOKEN_PIN_MAX];
static size_t ndevices, nreports;
static struct device *devs;
static struct report *reps;	/* [device * nreports + seq - 1] */

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

/* Headers for a POST: JSON, the signature of body by sk, maybe a device. */
static struct curl_slist *
signed_headers(const char *body, size_t len, const unsigned char *sk,
    const char *device)
{
	unsigned char sig[crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
	    sodium_base64_VARIANT_ORIGINAL)], line[256];
	struct curl_slist *l = NULL;

	crypto_sign_detached(sig, NULL, (const unsigned char *)body, len, sk);
	sodium_bin2base64(b64, sizeof b64, sig, sizeof sig,
	    sodium_base64_VARIANT_ORIGINAL);
	l = curl_slist_append(l, "Content-Type: application/json");
	l = curl_slist_append(l, "Expect:");
	snprintf(line, sizeof line, "Muster-Signature: %s", b64);
	l = curl_slist_append(l, line);
	if (device != NULL) {
		snprintf(line, sizeof line, "Muster-Device: %s", device);
		l = curl_slist_append(l, line);
	}
	if (l == NULL)
		die("%s", "out of memory");
	return l;
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

	if ((path = fs_path(orgdir, "org.key")) == NULL ||
	    fs_read_file(path, SIG_KEYFILE_MAX, &keybuf, &klen, &e) != 0 ||
	    sig_seckey_parse(path, keybuf, klen, NULL, &osk, &e) != 0)
		die("%s", e.msg);
	free(path);
	free(keybuf);
	if ((h = curl_easy_init()) == NULL)
		die("%s", "curl_easy_init failed");
	tls_setup(h);
	snprintf(url, sizeof url, "%s/v1/enroll", url_base);
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
	char body[REPORT_MAX];
	int n;

	for (i = 0; i < ndevices; i++)
		for (s = 1; s <= nreports; s++) {
			struct report *r = &reps[i * nreports + s - 1];

			n = snprintf(body, sizeof body, "{\"device\":\"%s\","
			    "\"seq\":%zu,\"time\":\"2026-11-21T10:00:00Z\","
			    "\"profile\":\"iaf-personnel\",\"serial\":1,"
			    "\"status\":\"%s\",\"dropped\":0,"
			    "\"model\":\"Xiaomi HM 1SW\",\"results\":["
			    "{\"rule\":\"redmi-1s-unfixed\",\"result\":\"%s\","
			    "\"detail\":\"model HM 1SW is banned\"},"
			    "{\"rule\":\"cloud-sync-off\",\"result\":\"pass\"},"
			    "{\"rule\":\"cloud-messaging-off\",\"result\":"
			    "\"remediated\"}]}", devs[i].id, s,
			    s % 10 == 0 ? "compliant" : "noncompliant",
			    s % 10 == 0 ? "pass" : "fail");
			if ((r->body = strdup(body)) == NULL)
				die("%s", "out of memory");
			r->len = (size_t)n;
			r->hdrs = signed_headers(r->body, r->len, devs[i].sk,
			    devs[i].id);
		}
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

/* The request a connection sends next: seq-major over its devices. */
static struct report *
conn_next(struct conn *c)
{
	size_t dev, seq;

	if (c->next >= c->total)
		return NULL;
	dev = c->first + (c->next % c->ndev) * c->step;
	seq = c->next / c->ndev;
	c->next++;
	return &reps[dev * nreports + seq];
}

static void
conn_send(CURLM *m, struct conn *c, const struct report *r, const char *url)
{
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)r->len);
	if (curl_multi_add_handle(m, c->h) != CURLM_OK)
		die("%s", "curl_multi_add_handle failed");
}

int
main(int argc, char **argv)
{
	CURLM *m;
	struct conn *conns;
	size_t nconn, i, stored = 0, other = 0, done = 0, total;
	char url[512], *pinbuf = NULL, *pinpath;
	struct muster_err e;
	struct rusage ru0, ru1;
	double vps, vps2, t0, t1, s0, s1;
	int running, left;
	size_t plen;

	if (argc != 6) {
		fprintf(stderr, "usage: ingest ORG_DIR URL DEVICES REPORTS "
		    "CONNECTIONS\n");
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
	vps = verify_rate();

	snprintf(url, sizeof url, "%s/v1/report", url_base);
	if ((m = curl_multi_init()) == NULL)
		die("%s", "curl_multi_init failed");
	curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)nconn);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)nconn);
	total = ndevices * nreports;
	getrusage(RUSAGE_SELF, &ru0);
	s0 = proc_cpu_s(getenv("MUSTER_SERVER_PID"));
	t0 = now_s();
	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];

		c->first = i;
		c->step = nconn;
		c->ndev = (ndevices - i + nconn - 1) / nconn;
		c->total = c->ndev * nreports;
		if ((c->h = curl_easy_init()) == NULL)
			die("%s", "curl_easy_init failed");
		tls_setup(c->h);
		curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(c->h, CURLOPT_WRITEDATA, NULL);
		curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->errbuf);
		curl_easy_setopt(c->h, CURLOPT_PRIVATE, c);
		conn_send(m, c, conn_next(c), url);
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
			if (msg->data.result == CURLE_OK && status == 202)
				stored++;
			else {
				if (other++ < 5)
					fprintf(stderr, "ingest: HTTP %ld %s\n",
					    status, c->errbuf);
			}
			done++;
			curl_multi_remove_handle(m, c->h);
			if ((r = conn_next(c)) != NULL)
				conn_send(m, c, r, url);
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
	    "other=%zu seconds=%.2f client_cpu_s=%.2f server_cpu_s=%.2f\n",
	    vps, (double)stored / (t1 - t0), (double)stored / (t1 - t0) / vps,
	    stored, other, t1 - t0, cpu_s(&ru1) - cpu_s(&ru0),
	    s0 >= 0 && s1 >= 0 ? s1 - s0 : -1.0);

	for (i = 0; i < nconn; i++)
		curl_easy_cleanup(conns[i].h);
	curl_multi_cleanup(m);
	for (i = 0; i < ndevices * nreports; i++) {
		free(reps[i].body);
		curl_slist_free_all(reps[i].hdrs);
	}
	sodium_memzero(devs, ndevices * sizeof *devs);
	free(devs);
	free(reps);
	free(conns);
	free(pinpath);
	curl_global_cleanup();
	return stored == total ? 0 : 1;
}
