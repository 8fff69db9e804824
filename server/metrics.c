/* metrics: counters, histograms and their Prometheus text; see metrics.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "muster/profile.h"
#include "metrics.h"
#include "store.h"

#ifndef MUSTER_VERSION
#define MUSTER_VERSION	"unknown"
#endif

#define NS_PER_S	1000000000ULL

static const char *const route_names[MR__N] = {
	[MR_ENROLL] = "enroll",
	[MR_PROFILE] = "profile",
	[MR_REPORT] = "report",
	[MR_UNENROLL] = "unenroll",
	[MR_ADMIN_PROFILE] = "admin_profile",
	[MR_ADMIN_REVOKE] = "admin_revoke",
	[MR_ADMIN_ROLLUP] = "admin_rollup",
	[MR_HEALTHZ] = "healthz",
	[MR_METRICS] = "metrics",
	[MR_POLICY] = "policy",
	[MR_ROOT] = "root",
	[MR_ADMIN_ROOT] = "admin_root",
	[MR_ADMIN_MANIFEST] = "admin_manifest",
	[MR_CONSENT] = "consent",
	[MR_CONSOLE] = "console",
	[MR_OTHER] = "other",
};

static const char *const refusal_names[MREF__N] = {
	[MREF_CONNECTION_LIMIT] = "connection_limit",
	[MREF_BODY_TOO_LARGE] = "body_too_large",
	[MREF_RATE_LIMITED] = "rate_limited",
	[MREF_UNAVAILABLE] = "unavailable",
};

/* By enum profile_scope and enum store_state. */
static const char *const scope_names[METRICS_NSCOPES] = {
	"personnel", "family"
};
static const char *const state_names[METRICS_NSTATES] = {
	"compliant", "noncompliant", "stale", "never"
};

/* The statuses the server answers with; anything else counts as 500. */
static const unsigned statuses[] = {
	200, 201, 202, 304, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429,
	500, 503,
};
#define NSTATUS	(sizeof statuses / sizeof statuses[0])

/* A histogram's upper bounds, and how Prometheus reads each (le). */
struct bucket {
	uint64_t	 le;
	const char	*text;
};

/* Durations in nanoseconds: 0.5 ms to 10 s. */
static const struct bucket dur_buckets[] = {
	{ 500000ULL, "0.0005" }, { 1000000ULL, "0.001" },
	{ 2500000ULL, "0.0025" }, { 5000000ULL, "0.005" },
	{ 10000000ULL, "0.01" }, { 25000000ULL, "0.025" },
	{ 50000000ULL, "0.05" }, { 100000000ULL, "0.1" },
	{ 250000000ULL, "0.25" }, { 500000000ULL, "0.5" },
	{ 1000000000ULL, "1" }, { 2500000000ULL, "2.5" },
	{ 5000000000ULL, "5" }, { 10000000000ULL, "10" },
};
#define NDUR	(sizeof dur_buckets / sizeof dur_buckets[0])

/* Jobs in one writer transaction: 1 to WRITER_BATCH_MAX (1024). */
static const struct bucket batch_buckets[] = {
	{ 1, "1" }, { 2, "2" }, { 4, "4" }, { 8, "8" }, { 16, "16" },
	{ 32, "32" }, { 64, "64" }, { 128, "128" }, { 256, "256" },
	{ 512, "512" }, { 1024, "1024" },
};
#define NBATCH	(sizeof batch_buckets / sizeof batch_buckets[0])

/* Per bucket (not cumulative), the last one +Inf; sum in the unit. */
struct hist_dur {
	uint64_t	n[NDUR + 1];
	uint64_t	sum;		/* ns */
};

struct hist_batch {
	uint64_t	n[NBATCH + 1];
	uint64_t	sum;		/* jobs */
};

static uint64_t requests[MR__N][NSTATUS];
static struct hist_dur request_dur[MR__N];
static uint64_t refused[MREF__N];
static uint64_t reports_stored;
static unsigned long writer_depth;
static struct hist_batch writer_batch;
static struct hist_dur writer_commit;
static uint64_t writer_failed;
static uint64_t pruned_reports, prune_batches, prune_failed;
static int64_t prune_last;
/* By enum profile_scope: whether a manifest is held, when it expires. */
static int manifest_present[METRICS_NSCOPES];
static int64_t manifest_expires[METRICS_NSCOPES];

/* When the request this thread answers next started; 0: unknown. */
static _Thread_local uint64_t request_t0;

const char *
metrics_route_name(enum metrics_route route)
{
	return (unsigned)route < MR__N ? route_names[route] : "other";
}

uint64_t
metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

void
metrics_request_start(uint64_t t0)
{
	request_t0 = t0 != 0 ? t0 : metrics_clock();
}

/* The bucket of v: the first whose bound is >= v, else +Inf (n). */
static size_t
bucket_of(const struct bucket *b, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v <= b[i].le)
			break;
	return i;
}

static void
observe_dur(struct hist_dur *h, uint64_t ns)
{
	__atomic_fetch_add(&h->n[bucket_of(dur_buckets, NDUR, ns)], 1,
	    __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum, ns, __ATOMIC_RELAXED);
}

void
metrics_request(enum metrics_route route, unsigned status)
{
	uint64_t t0 = request_t0, now;
	size_t i, other = 0;

	if ((unsigned)route >= MR__N)
		route = MR_OTHER;
	for (i = 0; i < NSTATUS; i++) {
		if (statuses[i] == 500)
			other = i;
		if (statuses[i] == status)
			break;
	}
	if (i == NSTATUS)
		i = other;
	__atomic_fetch_add(&requests[route][i], 1, __ATOMIC_RELAXED);
	if (t0 != 0) {
		request_t0 = 0;		/* one answer per start */
		now = metrics_clock();
		observe_dur(&request_dur[route], now > t0 ? now - t0 : 0);
	}
	if (status == 413)
		metrics_refused(MREF_BODY_TOO_LARGE);
	else if (status == 429)
		metrics_refused(MREF_RATE_LIMITED);
	else if (status == 503)
		metrics_refused(MREF_UNAVAILABLE);
}

void
metrics_refused(enum metrics_refusal reason)
{
	if ((unsigned)reason < MREF__N)
		__atomic_fetch_add(&refused[reason], 1, __ATOMIC_RELAXED);
}

void
metrics_report_stored(void)
{
	__atomic_fetch_add(&reports_stored, 1, __ATOMIC_RELAXED);
}

void
metrics_writer_queue(unsigned long depth)
{
	__atomic_store_n(&writer_depth, depth, __ATOMIC_RELAXED);
}

void
metrics_writer_batch(size_t jobs, uint64_t ns, int committed)
{
	__atomic_fetch_add(&writer_batch.n[bucket_of(batch_buckets, NBATCH,
	    jobs)], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&writer_batch.sum, (uint64_t)jobs,
	    __ATOMIC_RELAXED);
	observe_dur(&writer_commit, ns);
	if (!committed)
		__atomic_fetch_add(&writer_failed, 1, __ATOMIC_RELAXED);
}

void
metrics_manifest_expiry(int scope, int present, int64_t seconds)
{
	if (scope < 0 || scope >= METRICS_NSCOPES)
		return;
	__atomic_store_n(&manifest_expires[scope], (int64_t)time(NULL) +
	    seconds, __ATOMIC_RELAXED);
	__atomic_store_n(&manifest_present[scope], present, __ATOMIC_RELEASE);
}

int
metrics_process_start(int64_t *t)
{
	char buf[1024], *p;
	unsigned long long start = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	size_t n;
	FILE *f;
	int i, found = 0;

	*t = 0;
	if (hz <= 0 || (f = fopen("/proc/self/stat", "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name (field 2) may hold anything but ends at the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* starttime is field 22: 20 fields after the name. */
	for (i = 0; i < 20 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
		return -1;
	if ((f = fopen("/proc/stat", "re")) == NULL)
		return -1;
	while (fgets(buf, sizeof buf, f) != NULL)
		if (sscanf(buf, "btime %llu", &btime) == 1) {
			found = 1;
			break;
		}
	fclose(f);
	if (!found)
		return -1;
	*t = (int64_t)(btime + start / (unsigned long long)hz);
	return 0;
}

int
metrics_cert_not_after(const char *pem, int64_t *t)
{
	const ASN1_TIME *na;
	X509 *x = NULL;
	BIO *b = NULL;
	struct tm tm;
	int rc = -1;

	*t = 0;
	if (pem == NULL || (b = BIO_new_mem_buf(pem, -1)) == NULL)
		goto out;
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((na = X509_get0_notAfter(x)) == NULL ||
	    ASN1_TIME_to_tm(na, &tm) != 1)
		goto out;
	*t = (int64_t)timegm(&tm);
	rc = 0;
out:
	X509_free(x);
	BIO_free(b);
	return rc;
}

/* --- formatting --------------------------------------------------------- */

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one sample without labels, v; gauge or counter. */
static void
one(FILE *f, const char *name, const char *type, const char *help,
    long long v)
{
	family(f, name, type, help);
	fprintf(f, "%s %lld\n", name, v);
}

/* The same for an unsigned v. */
static void
one_u(FILE *f, const char *name, const char *type, const char *help,
    unsigned long long v)
{
	family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, v);
}

/*
 * One histogram's series: labels ("route=\"report\"," or ""), the
 * per-bucket counts n (nb + 1, the last +Inf) read once each, and sum
 * written as is (integers) or in seconds (from nanoseconds).
 */
static void
hist_write(FILE *f, const char *name, const char *labels,
    const struct bucket *b, size_t nb, const uint64_t *n,
    const uint64_t *sum, int seconds)
{
	uint64_t cum = 0, s;
	size_t i;
	size_t ll = strlen(labels);

	for (i = 0; i <= nb; i++) {
		cum += __atomic_load_n(&n[i], __ATOMIC_RELAXED);
		fprintf(f, "%s_bucket{%sle=\"%s\"} %llu\n", name, labels,
		    i < nb ? b[i].text : "+Inf", (unsigned long long)cum);
	}
	s = __atomic_load_n(sum, __ATOMIC_RELAXED);
	/* The labels without their trailing comma, in braces or none. */
	if (seconds)
		fprintf(f, "%s_sum%s%.*s%s %llu.%09llu\n", name,
		    ll > 0 ? "{" : "", ll > 0 ? (int)ll - 1 : 0, labels,
		    ll > 0 ? "}" : "", (unsigned long long)(s / NS_PER_S),
		    (unsigned long long)(s % NS_PER_S));
	else
		fprintf(f, "%s_sum%s%.*s%s %llu\n", name, ll > 0 ? "{" : "",
		    ll > 0 ? (int)ll - 1 : 0, labels, ll > 0 ? "}" : "",
		    (unsigned long long)s);
	fprintf(f, "%s_count%s%.*s%s %llu\n", name, ll > 0 ? "{" : "",
	    ll > 0 ? (int)ll - 1 : 0, labels, ll > 0 ? "}" : "",
	    (unsigned long long)cum);
}

static uint64_t
hist_total(const uint64_t *n, size_t nb)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i <= nb; i++)
		t += __atomic_load_n(&n[i], __ATOMIC_RELAXED);
	return t;
}

static void
format_requests(FILE *f)
{
	char labels[64];
	size_t r, s;
	uint64_t v;

	family(f, "muster_requests_total", "counter",
	    "HTTP requests answered, by route and status.");
	for (r = 0; r < MR__N; r++)
		for (s = 0; s < NSTATUS; s++) {
			v = __atomic_load_n(&requests[r][s], __ATOMIC_RELAXED);
			if (v > 0)
				fprintf(f, "muster_requests_total{route=\"%s\","
				    "status=\"%u\"} %llu\n", route_names[r],
				    statuses[s], (unsigned long long)v);
		}
	family(f, "muster_http_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its answer (a write's "
	    "included), by route.");
	for (r = 0; r < MR__N; r++) {
		if (hist_total(request_dur[r].n, NDUR) == 0)
			continue;
		snprintf(labels, sizeof labels, "route=\"%s\",",
		    route_names[r]);
		hist_write(f, "muster_http_request_duration_seconds", labels,
		    dur_buckets, NDUR, request_dur[r].n, &request_dur[r].sum,
		    1);
	}
	family(f, "muster_refused_total", "counter",
	    "Connections and requests refused by a limit, by reason.");
	for (r = 0; r < MREF__N; r++)
		fprintf(f, "muster_refused_total{reason=\"%s\"} %llu\n",
		    refusal_names[r], (unsigned long long)__atomic_load_n(
		    &refused[r], __ATOMIC_RELAXED));
}

static void
format_writer(FILE *f)
{
	one_u(f, "muster_reports_stored_total", "counter",
	    "Compliance reports stored since the server started.",
	    __atomic_load_n(&reports_stored, __ATOMIC_RELAXED));
	one_u(f, "muster_writer_queue_depth", "gauge",
	    "Writes waiting for the store's writer thread.",
	    __atomic_load_n(&writer_depth, __ATOMIC_RELAXED));
	family(f, "muster_writer_batch_size", "histogram",
	    "Writes committed together in one store transaction.");
	hist_write(f, "muster_writer_batch_size", "", batch_buckets, NBATCH,
	    writer_batch.n, &writer_batch.sum, 0);
	family(f, "muster_writer_commit_duration_seconds", "histogram",
	    "Time of one writer transaction, BEGIN to the end of COMMIT.");
	hist_write(f, "muster_writer_commit_duration_seconds", "",
	    dur_buckets, NDUR, writer_commit.n, &writer_commit.sum, 1);
	one_u(f, "muster_writer_failed_batches_total", "counter",
	    "Writer transactions that failed to commit (rolled back).",
	    __atomic_load_n(&writer_failed, __ATOMIC_RELAXED));
}

void
metrics_prune(size_t n, int ok)
{
	if (!ok) {
		__atomic_fetch_add(&prune_failed, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&prune_batches, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&pruned_reports, (uint64_t)n, __ATOMIC_RELAXED);
	__atomic_store_n(&prune_last, (int64_t)time(NULL), __ATOMIC_RELAXED);
}

/* Retention and the audit log: what grows and what keeps it bounded. */
static void
format_bounds(FILE *f, const struct metrics_scrape *sc)
{
	int64_t last = __atomic_load_n(&prune_last, __ATOMIC_RELAXED);

	family(f, "muster_reports_pruned_total", "counter",
	    "Raw reports deleted by retention since the server started.");
	fprintf(f, "muster_reports_pruned_total %llu\n",
	    (unsigned long long)__atomic_load_n(&pruned_reports,
	    __ATOMIC_RELAXED));
	family(f, "muster_prune_batches_total", "counter",
	    "Retention batches committed since the server started.");
	fprintf(f, "muster_prune_batches_total %llu\n",
	    (unsigned long long)__atomic_load_n(&prune_batches,
	    __ATOMIC_RELAXED));
	family(f, "muster_prune_failed_batches_total", "counter",
	    "Retention batches that failed (rolled back).");
	fprintf(f, "muster_prune_failed_batches_total %llu\n",
	    (unsigned long long)__atomic_load_n(&prune_failed,
	    __ATOMIC_RELAXED));
	if (last != 0) {
		family(f, "muster_prune_last_timestamp_seconds", "gauge",
		    "When the last retention batch committed.");
		fprintf(f, "muster_prune_last_timestamp_seconds %lld\n",
		    (long long)last);
	}
	if (sc->audit_entries < 0)
		return;
	family(f, "muster_audit_entries", "gauge",
	    "Entries in the audit log (never deleted).");
	fprintf(f, "muster_audit_entries %lld\n",
	    (long long)sc->audit_entries);
	family(f, "muster_audit_refused_total", "counter",
	    "Admin credentials refused since the server started.");
	fprintf(f, "muster_audit_refused_total %llu\n",
	    (unsigned long long)sc->audit_refused);
	family(f, "muster_audit_refused_entries_total", "counter",
	    "Audit entries written for refused credentials (the first "
	    "few per address and minute, and summaries).");
	fprintf(f, "muster_audit_refused_entries_total %llu\n",
	    (unsigned long long)sc->audit_refused_entries);
}

static void
format_fleet(FILE *f, const struct metrics_scrape *sc)
{
	const struct metrics_fleet *fl = sc->fleet;
	int s, st;

	if (sc->devices_enrolled >= 0) {
		one(f, "muster_devices_enrolled", "gauge",
		    "Devices enrolled and not revoked.",
		    sc->devices_enrolled);
	}
	if (fl == NULL)
		return;
	family(f, "muster_devices", "gauge", "Devices counted by the "
	    "roll-up, by scope and status (family: only what the roll-up "
	    "shows; their compliance is randomized on the phone, so fresh "
	    "family devices are one status, reporting).");
	for (s = 0; s < METRICS_NSCOPES; s++)
		for (st = 0; st < METRICS_NSTATES; st++) {
			if (s == SCOPE_FAMILY && st == STORE_NONCOMPLIANT)
				continue;
			fprintf(f, "muster_devices{scope=\"%s\",status=\"%s\"} "
			    "%lld\n", scope_names[s], s == SCOPE_FAMILY &&
			    st == STORE_COMPLIANT ? "reporting" :
			    state_names[st], (long long)(fl->n[s][st] +
			    (s == SCOPE_FAMILY && st == STORE_COMPLIANT ?
			    fl->n[s][STORE_NONCOMPLIANT] : 0)));
		}
	family(f, "muster_devices_policy_stale", "gauge", "Counted devices "
	    "whose newest report says their policy is stale, by scope.");
	for (s = 0; s < METRICS_NSCOPES; s++)
		fprintf(f, "muster_devices_policy_stale{scope=\"%s\"} %lld\n",
		    scope_names[s], (long long)fl->policy_stale[s]);
	one(f, "muster_devices_family_withheld", "gauge", "1 when the "
	    "roll-up leaves family devices out (k-anonymity).",
	    fl->family_withheld ? 1 : 0);
	one(f, "muster_devices_counted_timestamp_seconds", "gauge",
	    "When the device gauges were counted (cached a few seconds).",
	    fl->at);
	family(f, "muster_devices_count_duration_seconds", "gauge",
	    "What counting the device gauges took.");
	fprintf(f, "muster_devices_count_duration_seconds %llu.%09llu\n",
	    (unsigned long long)(fl->scan_ns / NS_PER_S),
	    (unsigned long long)(fl->scan_ns % NS_PER_S));
}

static void
format_gauges(FILE *f, const struct metrics_scrape *sc)
{
	int64_t exp[METRICS_NSCOPES];
	int present[METRICS_NSCOPES], s, any = 0;

	if (sc->store_bytes >= 0) {
		one(f, "muster_store_size_bytes", "gauge",
		    "Bytes of the store's database file.",
		    sc->store_bytes);
	}
	if (sc->wal_bytes >= 0) {
		one(f, "muster_store_wal_size_bytes", "gauge",
		    "Bytes of the store's write-ahead log.",
		    sc->wal_bytes);
	}
	if (sc->cert_not_after != 0) {
		one(f, "muster_tls_certificate_not_after_timestamp_seconds",
		    "gauge", "When the server's TLS certificate expires.",
		    sc->cert_not_after);
	}
	for (s = 0; s < METRICS_NSCOPES; s++) {
		present[s] = __atomic_load_n(&manifest_present[s],
		    __ATOMIC_ACQUIRE);
		exp[s] = __atomic_load_n(&manifest_expires[s],
		    __ATOMIC_RELAXED);
		any |= present[s];
	}
	if (any) {
		family(f, "muster_manifest_expiry_seconds", "gauge",
		    "Seconds until the served manifest of a scope expires.");
		for (s = 0; s < METRICS_NSCOPES; s++)
			if (present[s])
				fprintf(f, "muster_manifest_expiry_seconds"
				    "{scope=\"%s\"} %lld\n", scope_names[s],
				    (long long)(exp[s] - (int64_t)sc->now));
		family(f, "muster_manifest_expiry_timestamp_seconds", "gauge",
		    "When the served manifest of a scope expires.");
		for (s = 0; s < METRICS_NSCOPES; s++)
			if (present[s])
				fprintf(f, "muster_manifest_expiry_timestamp_"
				    "seconds{scope=\"%s\"} %lld\n",
				    scope_names[s], (long long)exp[s]);
	}
	for (s = any = 0; s < METRICS_NSCOPES; s++)
		any |= sc->profile_expires[s] != 0;
	if (any) {
		family(f, "muster_profile_expiry_timestamp_seconds", "gauge",
		    "When the newest profile published for a scope expires.");
		for (s = 0; s < METRICS_NSCOPES; s++)
			if (sc->profile_expires[s] != 0)
				fprintf(f, "muster_profile_expiry_timestamp_"
				    "seconds{scope=\"%s\"} %lld\n",
				    scope_names[s],
				    (long long)sc->profile_expires[s]);
	}
	if (sc->start_time != 0) {
		one(f, "process_start_time_seconds", "gauge",
		    "Start time of the process since the Unix epoch.",
		    sc->start_time);
	}
	family(f, "muster_build_info", "gauge",
	    "The version of the running server (always 1).");
	fprintf(f, "muster_build_info{version=\"%s\"} 1\n", MUSTER_VERSION);
}

int
metrics_format(const struct metrics_scrape *sc, char **out, size_t *len)
{
	FILE *f;

	*out = NULL;
	*len = 0;
	if ((f = open_memstream(out, len)) == NULL)
		return -1;
	format_requests(f);
	format_writer(f);
	format_fleet(f, sc);
	format_gauges(f, sc);
	format_bounds(f, sc);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		*len = 0;
		return -1;
	}
	return 0;
}
