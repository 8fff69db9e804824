/*
 * metrics: the Prometheus text of /metrics checked line by line (every
 * sample under its family's HELP and TYPE, names and labels well formed,
 * no unit label anywhere); histograms monotone with _count equal to the
 * +Inf bucket; a request timed into the right bucket, none without a
 * start; refusals from 413/429/503 and from the connection limit; the
 * writer's queue, batches and commits; the manifest expiry counting
 * down; the process start time; a certificate's notAfter (and garbage,
 * truncated and empty PEM refused); the fleet gauges of a real store
 * against the roll-up by scope (k-anonymity: 4 family devices in a unit
 * withheld, 5 counted), policy-stale devices, and the cache.
 */
#include "unit.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "muster/profile.h"
#include "muster/report.h"
#include "../../server/metrics.h"
#include "../../server/metrics_fleet.h"
#include "../../server/rollup.h"
#include "../../server/store.h"
#include "unit_store.h"

/* --- reading the text back ---------------------------------------------- */

static char *
scrape(const struct metrics_scrape *sc)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(metrics_format(sc, &out, &len), 0);
	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

static struct metrics_scrape
scrape_empty(void)
{
	struct metrics_scrape sc;

	memset(&sc, 0, sizeof sc);
	sc.now = time(NULL);
	sc.devices_enrolled = sc.store_bytes = sc.wal_bytes = -1;
	return sc;
}

/* The value of the sample exactly named series ("a{b=\"c\"}"); -1: none. */
static double
value(const char *text, const char *series)
{
	const char *p = text;
	size_t n = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return -1;
}

/*
 * Every line is a HELP, a TYPE or a sample; a sample's name belongs to
 * the last TYPE (a histogram's _bucket, _sum, _count); a family is
 * declared once; label values are quoted; every value is a number.
 */
static void
check_exposition(const char *text)
{
	regex_t sample, help, type;
	regmatch_t m[4];
	char *copy, *line, *save = NULL, fam[128] = "", kind[16] = "";
	char name[128], seen[8192] = " ";
	size_t n;

	assert_int_equal(regcomp(&sample, "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
	    "(\\{([a-z_]+=\"[^\"\\\\\n]*\",?)*\\})? ([-+0-9.eE]+|\\+Inf)$",
	    REG_EXTENDED), 0);
	assert_int_equal(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "[^\n]+$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "(counter|gauge|histogram)$", REG_EXTENDED), 0);
	assert_non_null(copy = strdup(text));
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (regexec(&help, line, 2, m, 0) == 0)
			continue;
		if (regexec(&type, line, 3, m, 0) == 0) {
			n = (size_t)(m[1].rm_eo - m[1].rm_so);
			snprintf(fam, sizeof fam, "%.*s", (int)n,
			    line + m[1].rm_so);
			snprintf(kind, sizeof kind, "%.*s",
			    (int)(m[2].rm_eo - m[2].rm_so), line + m[2].rm_so);
			snprintf(name, sizeof name, " %s ", fam);
			if (strstr(seen, name) != NULL)
				fail_msg("family %s declared twice", fam);
			assert_true(strlen(seen) + strlen(name) < sizeof seen);
			strcat(seen, name + 1);
			continue;
		}
		if (regexec(&sample, line, 2, m, 0) != 0)
			fail_msg("not a sample: \"%s\"", line);
		n = (size_t)(m[1].rm_eo - m[1].rm_so);
		snprintf(name, sizeof name, "%.*s", (int)n, line);
		if (strcmp(kind, "histogram") == 0) {
			size_t fl = strlen(fam);

			if (strncmp(name, fam, fl) != 0 ||
			    (strcmp(name + fl, "_bucket") != 0 &&
			    strcmp(name + fl, "_sum") != 0 &&
			    strcmp(name + fl, "_count") != 0))
				fail_msg("%s outside its histogram %s", name,
				    fam);
		} else if (strcmp(name, fam) != 0)
			fail_msg("sample %s under family %s", name, fam);
	}
	free(copy);
	regfree(&sample);
	regfree(&help);
	regfree(&type);
}

/*
 * The histogram name{labels}: buckets in increasing le, counts that never
 * fall, a +Inf bucket equal to _count.  Returns _count (-1: absent).
 */
static double
check_hist(const char *text, const char *name, const char *labels)
{
	char pre[160], series[200];
	const char *p = text;
	double last = -1, le_last = -1, le, v, count;
	size_t n;
	int inf = 0;

	n = (size_t)snprintf(pre, sizeof pre, "%s_bucket{%s%sle=\"", name,
	    labels, *labels != '\0' ? "," : "");
	while ((p = strstr(p, pre)) != NULL) {
		p += n;
		if (strncmp(p, "+Inf\"", 5) == 0) {
			inf = 1;
			le = 1e300;
		} else
			le = strtod(p, NULL);
		assert_true(le > le_last);
		le_last = le;
		v = strtod(strchr(p, ' ') + 1, NULL);
		assert_true(v >= last);
		last = v;
	}
	if (last < 0)
		return -1;
	assert_true(inf);
	snprintf(series, sizeof series, "%s_count%s%s%s", name,
	    *labels != '\0' ? "{" : "", labels, *labels != '\0' ? "}" : "");
	count = value(text, series);
	assert_true(count == last);
	snprintf(series, sizeof series, "%s_sum%s%s%s", name,
	    *labels != '\0' ? "{" : "", labels, *labels != '\0' ? "}" : "");
	assert_true(value(text, series) >= 0);
	return count;
}

/* --- formatting ---------------------------------------------------------- */

static void
test_format_shape(void **state)
{
	struct metrics_fleet fl;
	struct metrics_scrape sc = scrape_empty();
	char *t;

	(void)state;
	memset(&fl, 0, sizeof fl);
	fl.n[SCOPE_PERSONNEL][STORE_COMPLIANT] = 7;
	fl.n[SCOPE_PERSONNEL][STORE_NEVER] = 2;
	fl.n[SCOPE_FAMILY][STORE_STALE] = 5;
	fl.policy_stale[SCOPE_PERSONNEL] = 1;
	fl.family_withheld = 1;
	fl.at = sc.now;
	fl.scan_ns = 1500000;
	sc.fleet = &fl;
	sc.devices_enrolled = 9;
	sc.store_bytes = 4096;
	sc.wal_bytes = 0;
	sc.cert_not_after = 1900000000;
	sc.profile_expires[SCOPE_PERSONNEL] = 1893456000;
	sc.start_time = 1700000000;
	metrics_request_start(0);
	metrics_request(MR_HEALTHZ, 200);
	t = scrape(&sc);
	check_exposition(t);
	assert_true(value(t, "muster_devices{scope=\"personnel\","
	    "status=\"compliant\"}") == 7);
	assert_true(value(t, "muster_devices{scope=\"personnel\","
	    "status=\"never\"}") == 2);
	assert_true(value(t, "muster_devices{scope=\"family\","
	    "status=\"stale\"}") == 5);
	assert_true(value(t, "muster_devices{scope=\"family\","
	    "status=\"reporting\"}") == 0);
	/* Family compliance is randomized: never a family status of it. */
	assert_true(strstr(t, "scope=\"family\",status=\"compliant\"") ==
	    NULL);
	assert_true(strstr(t, "scope=\"family\",status=\"noncompliant\"") ==
	    NULL);
	assert_true(value(t, "muster_devices_policy_stale{scope="
	    "\"personnel\"}") == 1);
	assert_true(value(t, "muster_devices_family_withheld") == 1);
	assert_true(value(t, "muster_devices_enrolled") == 9);
	assert_true(value(t, "muster_devices_count_duration_seconds") ==
	    0.0015);
	assert_true(value(t, "muster_store_size_bytes") == 4096);
	assert_true(value(t, "muster_store_wal_size_bytes") == 0);
	assert_true(value(t, "muster_tls_certificate_not_after_timestamp_"
	    "seconds") == 1900000000);
	assert_true(value(t, "muster_profile_expiry_timestamp_seconds{scope="
	    "\"personnel\"}") == 1893456000);
	assert_true(value(t, "muster_profile_expiry_timestamp_seconds{scope="
	    "\"family\"}") == -1);
	assert_true(value(t, "process_start_time_seconds") == 1700000000);
	assert_true(value(t, "muster_build_info{version=\"" MUSTER_VERSION
	    "\"}") == 1);
	/* Family figures at the organisation's level only. */
	assert_null(strstr(t, "unit="));
	free(t);

	/* What is unknown is left out, the counters still answered. */
	sc = scrape_empty();
	t = scrape(&sc);
	check_exposition(t);
	assert_null(strstr(t, "muster_devices{"));
	assert_null(strstr(t, "muster_devices_enrolled"));
	assert_null(strstr(t, "muster_store_size_bytes"));
	assert_null(strstr(t, "muster_tls_certificate"));
	assert_null(strstr(t, "process_start_time_seconds"));
	assert_non_null(strstr(t, "muster_build_info{"));
	assert_true(value(t, "muster_writer_queue_depth") >= 0);
	free(t);
}

static void
test_request_histogram(void **state)
{
	struct metrics_scrape sc = scrape_empty();
	const char *L = "route=\"admin_root\"";
	char *t;
	double before;

	(void)state;
	t = scrape(&sc);
	before = check_hist(t, "muster_http_request_duration_seconds", L);
	assert_true(before == -1);	/* no admin_root request yet */
	free(t);

	/* 3 ms: in le 0.005, not in le 0.0025. */
	metrics_request_start(metrics_clock() - 3000000ULL);
	metrics_request(MR_ADMIN_ROOT, 200);
	/* 2 s: in le 2.5 only from there. */
	metrics_request_start(metrics_clock() - 2000000000ULL);
	metrics_request(MR_ADMIN_ROOT, 400);
	/* No start: counted, not timed (the start is used once). */
	metrics_request(MR_ADMIN_ROOT, 200);
	t = scrape(&sc);
	check_exposition(t);
	assert_true(check_hist(t, "muster_http_request_duration_seconds", L)
	    == 2);
	assert_true(value(t, "muster_http_request_duration_seconds_bucket{"
	    "route=\"admin_root\",le=\"0.0025\"}") == 0);
	assert_true(value(t, "muster_http_request_duration_seconds_bucket{"
	    "route=\"admin_root\",le=\"0.005\"}") == 1);
	assert_true(value(t, "muster_http_request_duration_seconds_bucket{"
	    "route=\"admin_root\",le=\"1\"}") == 1);
	assert_true(value(t, "muster_http_request_duration_seconds_bucket{"
	    "route=\"admin_root\",le=\"2.5\"}") == 2);
	assert_true(value(t, "muster_http_request_duration_seconds_sum{"
	    "route=\"admin_root\"}") >= 2.003);
	assert_true(value(t, "muster_requests_total{route=\"admin_root\","
	    "status=\"200\"}") == 2);
	assert_true(value(t, "muster_requests_total{route=\"admin_root\","
	    "status=\"400\"}") == 1);
	free(t);

	/* A status it does not know is a 500; a route out of range other. */
	metrics_request(MR_ADMIN_MANIFEST, 418);
	metrics_request((enum metrics_route)99, 404);
	t = scrape(&sc);
	assert_true(value(t, "muster_requests_total{route=\"admin_manifest\","
	    "status=\"500\"}") == 1);
	assert_true(value(t, "muster_requests_total{route=\"other\","
	    "status=\"404\"}") >= 1);
	assert_string_equal(metrics_route_name((enum metrics_route)99),
	    "other");
	free(t);
}

static void
test_refusals(void **state)
{
	struct metrics_scrape sc = scrape_empty();
	double b[MREF__N];
	char *t;

	(void)state;
	t = scrape(&sc);
	b[MREF_CONNECTION_LIMIT] = value(t,
	    "muster_refused_total{reason=\"connection_limit\"}");
	b[MREF_BODY_TOO_LARGE] = value(t,
	    "muster_refused_total{reason=\"body_too_large\"}");
	b[MREF_RATE_LIMITED] = value(t,
	    "muster_refused_total{reason=\"rate_limited\"}");
	b[MREF_UNAVAILABLE] = value(t,
	    "muster_refused_total{reason=\"unavailable\"}");
	free(t);
	/* Every reason is there from the start (rate() needs a series). */
	assert_true(b[0] >= 0 && b[1] >= 0 && b[2] >= 0 && b[3] >= 0);
	metrics_request(MR_REPORT, 413);
	metrics_request(MR_REPORT, 429);
	metrics_request(MR_REPORT, 429);
	metrics_request(MR_REPORT, 503);
	metrics_request(MR_REPORT, 409);	/* not a limit */
	metrics_refused(MREF_CONNECTION_LIMIT);
	metrics_refused(MREF__N);		/* ignored */
	t = scrape(&sc);
	check_exposition(t);
	assert_true(value(t, "muster_refused_total{reason="
	    "\"connection_limit\"}") == b[MREF_CONNECTION_LIMIT] + 1);
	assert_true(value(t, "muster_refused_total{reason="
	    "\"body_too_large\"}") == b[MREF_BODY_TOO_LARGE] + 1);
	assert_true(value(t, "muster_refused_total{reason="
	    "\"rate_limited\"}") == b[MREF_RATE_LIMITED] + 2);
	assert_true(value(t, "muster_refused_total{reason="
	    "\"unavailable\"}") == b[MREF_UNAVAILABLE] + 1);
	assert_true(value(t, "muster_requests_total{route=\"report\","
	    "status=\"429\"}") >= 2);
	free(t);
}

static void
test_writer(void **state)
{
	struct metrics_scrape sc = scrape_empty();
	double batches, jobs, failed, commits;
	char *t;

	(void)state;
	t = scrape(&sc);
	batches = check_hist(t, "muster_writer_batch_size", "");
	jobs = value(t, "muster_writer_batch_size_sum");
	commits = check_hist(t, "muster_writer_commit_duration_seconds", "");
	failed = value(t, "muster_writer_failed_batches_total");
	free(t);
	assert_true(batches >= 0 && commits == batches && failed >= 0);

	metrics_writer_queue(17);
	metrics_writer_batch(3, 2000000ULL, 1);
	metrics_writer_batch(1024, 40000000ULL, 1);
	metrics_writer_batch(5000, 20000000000ULL, 0);	/* over every bound */
	t = scrape(&sc);
	check_exposition(t);
	assert_true(value(t, "muster_writer_queue_depth") == 17);
	assert_true(check_hist(t, "muster_writer_batch_size", "") ==
	    batches + 3);
	assert_true(value(t, "muster_writer_batch_size_sum") ==
	    jobs + 3 + 1024 + 5000);
	assert_true(value(t, "muster_writer_batch_size_bucket{le=\"4\"}") -
	    value(t, "muster_writer_batch_size_bucket{le=\"2\"}") >= 1);
	assert_true(value(t, "muster_writer_batch_size_bucket{le=\"+Inf\"}") -
	    value(t, "muster_writer_batch_size_bucket{le=\"1024\"}") >= 1);
	assert_true(check_hist(t, "muster_writer_commit_duration_seconds",
	    "") == commits + 3);
	assert_true(value(t, "muster_writer_commit_duration_seconds_bucket"
	    "{le=\"+Inf\"}") - value(t, "muster_writer_commit_duration_"
	    "seconds_bucket{le=\"10\"}") >= 1);
	assert_true(value(t, "muster_writer_failed_batches_total") ==
	    failed + 1);
	free(t);
	metrics_writer_queue(0);
}

/* Retention's counters and the audit log's size and refusals. */
static void
test_bounds(void **state)
{
	struct metrics_scrape sc = scrape_empty();
	double pruned, batches, failed, last;
	time_t now = time(NULL);
	char *t;

	(void)state;
	sc.audit_entries = -1;
	t = scrape(&sc);
	pruned = value(t, "muster_reports_pruned_total");
	batches = value(t, "muster_prune_batches_total");
	failed = value(t, "muster_prune_failed_batches_total");
	assert_true(pruned >= 0 && batches >= 0 && failed >= 0);
	assert_null(strstr(t, "muster_audit_entries"));	/* unknown: left out */
	free(t);

	metrics_prune(7, 1);
	metrics_prune(0, 1);
	metrics_prune(0, 0);
	sc.audit_entries = 42;
	sc.audit_refused = 2000;
	sc.audit_refused_entries = 6;
	t = scrape(&sc);
	check_exposition(t);
	assert_true(value(t, "muster_reports_pruned_total") == pruned + 7);
	assert_true(value(t, "muster_prune_batches_total") == batches + 2);
	assert_true(value(t, "muster_prune_failed_batches_total") ==
	    failed + 1);
	last = value(t, "muster_prune_last_timestamp_seconds");
	assert_true(last >= (double)now - 5 && last <= (double)now + 5);
	assert_true(value(t, "muster_audit_entries") == 42);
	assert_true(value(t, "muster_audit_refused_total") == 2000);
	assert_true(value(t, "muster_audit_refused_entries_total") == 6);
	assert_non_null(strstr(t, "# TYPE muster_audit_entries gauge\n"));
	assert_non_null(strstr(t, "# TYPE muster_audit_refused_total "
	    "counter\n"));
	free(t);
}

static void
test_manifest_expiry(void **state)
{
	struct metrics_scrape sc = scrape_empty();
	char *t;
	double left, at;

	(void)state;
	metrics_manifest_expiry(SCOPE_PERSONNEL, 1, 100);
	metrics_manifest_expiry(SCOPE_FAMILY, 0, 0);
	metrics_manifest_expiry(7, 1, 5);		/* ignored */
	sc.now = time(NULL) + 40;
	t = scrape(&sc);
	check_exposition(t);
	left = value(t, "muster_manifest_expiry_seconds{scope=\"personnel\"}");
	at = value(t, "muster_manifest_expiry_timestamp_seconds{scope="
	    "\"personnel\"}");
	/* Counts down between settings: 100 s set, 40 s later 60 left. */
	assert_true(left >= 59 && left <= 61);
	assert_true(at - (double)sc.now == left);
	assert_true(value(t, "muster_manifest_expiry_seconds{scope="
	    "\"family\"}") == -1);
	free(t);
	metrics_manifest_expiry(SCOPE_PERSONNEL, 0, 0);
	sc.now = time(NULL);
	t = scrape(&sc);
	assert_null(strstr(t, "muster_manifest_expiry"));
	free(t);
}

static void
test_process_start(void **state)
{
	int64_t t;
	time_t now = time(NULL);

	(void)state;
	assert_int_equal(metrics_process_start(&t), 0);
	/* This test process started a moment ago (the boot time is whole
	 * seconds, so a second either way). */
	assert_true(t <= (int64_t)now + 1);
	assert_true(t >= (int64_t)now - 120);
}

/* A self-signed certificate valid until not_after, as PEM (malloc'd). */
static char *
make_cert(time_t not_after)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *pem;
	long n;

	assert_non_null(k);
	assert_non_null(x);
	assert_non_null(b);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), not_after));
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"muster", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, NULL) > 0);
	assert_int_equal(PEM_write_bio_X509(b, x), 1);
	n = BIO_get_mem_data(b, &data);
	assert_non_null(pem = malloc((size_t)n + 1));
	memcpy(pem, data, (size_t)n);
	pem[n] = '\0';
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return pem;
}

static void
test_cert_not_after(void **state)
{
	char *pem, *cut;
	int64_t t;

	(void)state;
	/* UTCTime (before 2050) and GeneralizedTime (from 2050). */
	pem = make_cert(1900000000);
	assert_int_equal(metrics_cert_not_after(pem, &t), 0);
	assert_int_equal(t, 1900000000);
	/* Truncated in the middle of its base64: refused. */
	assert_non_null(cut = strdup(pem));
	cut[strlen(cut) / 2] = '\0';
	assert_int_equal(metrics_cert_not_after(cut, &t), -1);
	assert_int_equal(t, 0);
	free(cut);
	free(pem);
	pem = make_cert(2600000000LL);
	assert_int_equal(metrics_cert_not_after(pem, &t), 0);
	assert_int_equal(t, 2600000000LL);
	free(pem);
	assert_int_equal(metrics_cert_not_after("", &t), -1);
	assert_int_equal(metrics_cert_not_after(NULL, &t), -1);
	assert_int_equal(metrics_cert_not_after("-----BEGIN CERTIFICATE-----\n"
	    "AAAA\n-----END CERTIFICATE-----\n", &t), -1);
	assert_int_equal(metrics_cert_not_after("-----BEGIN PRIVATE KEY-----\n"
	    "MC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n", &t), -1);
}

/* --- the fleet, on a real store ------------------------------------------ */

#define IN_TX(f, call)	do {						\
	struct muster_err e_;						\
	assert_int_equal(store_begin((f)->st, &e_), 0);			\
	assert_int_equal((call), 0);					\
	assert_int_equal(store_commit((f)->st, &e_), 0);		\
} while (0)

static void
dev(struct fx *f, int n, enum profile_scope scope, const char *unit)
{
	struct store_device d;
	struct muster_err e;

	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "%032x", (unsigned)n);
	randombytes_buf(d.pk, sizeof d.pk);
	d.scope = scope;
	snprintf(d.unit, sizeof d.unit, "%s", unit);
	snprintf(d.person, sizeof d.person, "P-%d", n);
	snprintf(d.token_id, sizeof d.token_id, "%016x", (unsigned)n);
	d.enrolled = time(NULL) - 86400;
	IN_TX(f, store_device_add(f->st, &d, time(NULL) + 86400, &e));
}

/* Device n reports at t, compliant or not, with the stale bits. */
static void
rep(struct fx *f, int n, time_t t, int compliant, unsigned stale)
{
	static const char *const failing[] = { "r1" };
	struct store_report r;
	struct muster_err e;
	enum store_put res;
	char id[DEVICE_ID_HEX], body[64];

	snprintf(id, sizeof id, "%032x", (unsigned)n);
	snprintf(body, sizeof body, "{\"n\":%d}", n);
	memset(&r, 0, sizeof r);
	r.device = id;
	r.seq = 1;
	r.time = t;
	r.profile = "p";
	r.serial = 1;
	r.compliant = compliant;
	r.stale = stale;
	r.failing = compliant ? NULL : failing;
	r.nfailing = compliant ? 0 : 1;
	r.body = (const unsigned char *)body;
	r.len = strlen(body);
	IN_TX(f, store_report_put(f->st, &r, &res, &e));
	assert_int_equal(res, STORE_STORED);
}

/* The fleet gauges agree with the roll-up by scope, state by state. */
static void
same_as_rollup(struct fx *f, const struct metrics_fleet *fl)
{
	struct rollup_query q = { ROLLUP_BY_SCOPE, 0, fl->at };
	struct rollup_db *db = NULL;
	struct rollup *r = NULL;
	struct muster_err e;
	size_t g;
	int sc, st;

	assert_int_equal(rollup_open(f->data, &db, &e), 0);
	assert_int_equal(rollup_compute(db, &q, &r, &e), 0);
	assert_int_equal(r->ngroups, 2);
	for (g = 0; g < r->ngroups; g++) {
		sc = strcmp(r->groups[g].key, "family") == 0 ? SCOPE_FAMILY :
		    SCOPE_PERSONNEL;
		/*
		 * The roll-up counts personnel by state; family devices only
		 * as a number (their compliance is an estimate).
		 */
		if (sc == SCOPE_FAMILY) {
			int64_t fam = 0;

			for (st = 0; st < METRICS_NSTATES; st++)
				fam += fl->n[sc][st];
			assert_int_equal(fam, r->groups[g].c.family);
			continue;
		}
		for (st = 0; st < METRICS_NSTATES; st++)
			assert_int_equal(fl->n[sc][st], r->groups[g].c.n[st]);
	}
	assert_int_equal(fl->family_withheld, r->total.family_withheld);
	rollup_free(r);
	rollup_close(db);
}

static void
test_fleet(void **state)
{
	struct fx *f = *state;
	struct metrics_fleet fl, again;
	struct muster_err e;
	time_t now = time(NULL);
	int i;

	/* An empty store: zeros. */
	assert_int_equal(metrics_fleet_count(f->data, now, &fl, &e), 0);
	for (i = 0; i < METRICS_NSTATES; i++)
		assert_int_equal(fl.n[SCOPE_PERSONNEL][i] +
		    fl.n[SCOPE_FAMILY][i], 0);
	same_as_rollup(f, &fl);

	/*
	 * Personnel: 2 compliant (one with a stale policy), 1 noncompliant
	 * with a stale policy, 1 never, 1 revoked (not counted).
	 */
	for (i = 1; i <= 5; i++)
		dev(f, i, SCOPE_PERSONNEL, "U");
	rep(f, 1, now - 60, 1, 0);
	rep(f, 2, now - 60, 0, REPORT_STALE_POLICY);
	rep(f, 3, now - 60, 1, REPORT_STALE_POLICY);
	rep(f, 5, now - 60, 0, 0);
	IN_TX(f, store_revoke(f->st, "00000000000000000000000000000005", &e));
	/* Family: 4 in unit A (withheld), 5 in unit B (counted). */
	for (i = 10; i < 14; i++) {
		dev(f, i, SCOPE_FAMILY, "A");
		rep(f, i, now - 60, 0, REPORT_STALE_POLICY);
	}
	for (i = 20; i < 25; i++) {
		dev(f, i, SCOPE_FAMILY, "B");
		rep(f, i, now - 60, i != 20, i == 21 ? REPORT_STALE_POLICY :
		    0);
	}
	assert_int_equal(metrics_fleet_count(f->data, now, &fl, &e), 0);
	assert_int_equal(fl.n[SCOPE_PERSONNEL][STORE_COMPLIANT], 2);
	assert_int_equal(fl.n[SCOPE_PERSONNEL][STORE_NONCOMPLIANT], 1);
	assert_int_equal(fl.n[SCOPE_PERSONNEL][STORE_STALE], 0);
	assert_int_equal(fl.n[SCOPE_PERSONNEL][STORE_NEVER], 1);
	assert_int_equal(fl.policy_stale[SCOPE_PERSONNEL], 2);
	/* B's five only: A's four (all policy stale) are not counted. */
	assert_int_equal(fl.n[SCOPE_FAMILY][STORE_COMPLIANT], 4);
	assert_int_equal(fl.n[SCOPE_FAMILY][STORE_NONCOMPLIANT], 1);
	assert_int_equal(fl.policy_stale[SCOPE_FAMILY], 1);
	assert_true(fl.family_withheld);
	assert_int_equal(fl.at, now);
	same_as_rollup(f, &fl);

	/*
	 * Three hours on, no new report: stale after twice the default
	 * interval (an hour), policy staleness as the reports said.
	 */
	assert_int_equal(metrics_fleet_count(f->data, now + 3 * 3600, &fl,
	    &e), 0);
	assert_int_equal(fl.n[SCOPE_PERSONNEL][STORE_STALE], 3);
	assert_int_equal(fl.n[SCOPE_PERSONNEL][STORE_COMPLIANT], 0);
	assert_int_equal(fl.n[SCOPE_PERSONNEL][STORE_NEVER], 1);
	assert_int_equal(fl.n[SCOPE_FAMILY][STORE_STALE], 5);
	assert_int_equal(fl.policy_stale[SCOPE_PERSONNEL], 2);
	same_as_rollup(f, &fl);

	/* Cached: a change within METRICS_FLEET_TTL is not seen yet. */
	assert_int_equal(metrics_fleet_get(f->data, now, &fl, &e), 0);
	dev(f, 6, SCOPE_PERSONNEL, "U");
	assert_int_equal(metrics_fleet_get(f->data, now +
	    METRICS_FLEET_TTL - 1, &again, &e), 0);
	assert_int_equal(again.at, fl.at);
	assert_int_equal(again.n[SCOPE_PERSONNEL][STORE_NEVER], 1);
	assert_int_equal(metrics_fleet_get(f->data, now +
	    METRICS_FLEET_TTL, &again, &e), 0);
	assert_int_equal(again.at, now + METRICS_FLEET_TTL);
	assert_int_equal(again.n[SCOPE_PERSONNEL][STORE_NEVER], 2);

	/* Fewer than 5 family devices in all: every family figure withheld. */
	IN_TX(f, store_revoke(f->st, "00000000000000000000000000000014", &e));
	assert_int_equal(metrics_fleet_count(f->data, now, &fl, &e), 0);
	for (i = 0; i < METRICS_NSTATES; i++)
		assert_int_equal(fl.n[SCOPE_FAMILY][i], 0);
	assert_int_equal(fl.policy_stale[SCOPE_FAMILY], 0);
	assert_true(fl.family_withheld);
	same_as_rollup(f, &fl);
}

static void
test_fleet_no_store(void **state)
{
	struct metrics_fleet fl;
	struct muster_err e;
	int64_t db, wal;

	(void)state;
	assert_int_equal(metrics_fleet_count("/nonexistent/muster", time(NULL),
	    &fl, &e), MUSTER_ENOINPUT);
	assert_int_equal(store_disk_usage("/nonexistent/muster", &db, &wal,
	    &e), 0);
	assert_int_equal(db, 0);
	assert_int_equal(wal, 0);
}

static void
test_disk_usage(void **state)
{
	struct fx *f = *state;
	struct muster_err e;
	int64_t db, wal;

	dev(f, 1, SCOPE_PERSONNEL, "U");
	assert_int_equal(store_disk_usage(f->data, &db, &wal, &e), 0);
	assert_true(db >= 4096);
	/* WAL mode: the committed enrollment is in the log until a
	 * checkpoint. */
	assert_true(wal > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_shape),
		cmocka_unit_test(test_request_histogram),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_manifest_expiry),
		cmocka_unit_test(test_process_start),
		cmocka_unit_test(test_cert_not_after),
		unit_store_test(test_fleet),
		cmocka_unit_test(test_fleet_no_store),
		unit_store_test(test_disk_usage),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
