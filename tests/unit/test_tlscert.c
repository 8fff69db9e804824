/*
 * test_tlscert: the server's TLS key, certificate and pin, checked with
 * OpenSSL's own parsers and against a pin computed by the openssl CLI.
 */
#define OPENSSL_API_COMPAT	30000
#define OPENSSL_NO_DEPRECATED

#include "unit.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "../../enroll/tlscert.h"

#define PIN_LEN	(sizeof TLSCERT_PIN_PREFIX - 1 + 44)	/* 44: base64 of 32 */

static const char *const files[] = {
	TLSCERT_KEY_FILE, TLSCERT_CERT_FILE, TLSCERT_PIN_FILE,
};

/* Makes a fresh subdirectory name of top; the caller frees the path. */
static char *
make_sub(const char *top, const char *name)
{
	char *d;

	assert_non_null(d = fs_path(top, name));
	assert_int_equal(mkdir(d, 0700), 0);
	return d;
}

static int
dir_entries(const char *dir)
{
	DIR *d;
	struct dirent *de;
	int n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* Each test gets a fresh mkdtemp directory, removed even if it fails. */
static int
setup(void **state)
{
	char *d = malloc(UNIT_TMPDIR_MAX);

	if (d == NULL || unit_tmpdir(d, "tlscert") != 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	int rc;

	rc = unit_rmtree(*state);
	free(*state);
	return rc;
}

static char *
read_in(const char *dir, const char *name, size_t *len)
{
	struct muster_err e;
	char *p, *buf;

	assert_non_null(p = fs_path(dir, name));
	assert_int_equal(fs_read_file(p, 1 << 20, &buf, len, &e), 0);
	free(p);
	return buf;
}

static mode_t
mode_of(const char *dir, const char *name)
{
	struct stat st;
	char *p;

	assert_non_null(p = fs_path(dir, name));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	free(p);
	return st.st_mode & 07777;
}

static X509 *
load_cert(const char *dir)
{
	X509 *cert;
	FILE *f;
	char *p;

	assert_non_null(p = fs_path(dir, TLSCERT_CERT_FILE));
	assert_non_null(f = fopen(p, "r"));
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	assert_non_null(cert);
	fclose(f);
	free(p);
	return cert;
}

static EVP_PKEY *
load_key(const char *dir)
{
	EVP_PKEY *pkey;
	FILE *f;
	char *p;

	assert_non_null(p = fs_path(dir, TLSCERT_KEY_FILE));
	assert_non_null(f = fopen(p, "r"));
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	assert_non_null(pkey);
	fclose(f);
	free(p);
	return pkey;
}

/* The pin as the openssl CLI and base64(1) compute it. */
static void
cli_pin(const char *dir, char *out, size_t outsz)
{
	char cmd[1024], line[256];
	FILE *p;
	size_t n;

	/* mkdtemp names carry no shell metacharacters. */
	snprintf(cmd, sizeof cmd, "openssl x509 -in '%s/%s' -pubkey -noout | "
	    "openssl pkey -pubin -outform der | "
	    "openssl dgst -sha256 -binary | base64", dir, TLSCERT_CERT_FILE);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(line, sizeof line, p));
	assert_int_equal(pclose(p), 0);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	assert_int_equal(n, 44);
	assert_true(outsz > PIN_LEN);
	memcpy(out, TLSCERT_PIN_PREFIX, sizeof TLSCERT_PIN_PREFIX - 1);
	memcpy(out + sizeof TLSCERT_PIN_PREFIX - 1, line, n + 1);
}

static void
check_san(X509 *cert, const char *host)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *gen;
	unsigned char addr[16];
	int crit = -1, len;

	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	assert_int_equal(crit, 0);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 1);
	gen = sk_GENERAL_NAME_value(gens, 0);
	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1) {
		len = strchr(host, ':') != NULL ? 16 : 4;
		assert_int_equal(gen->type, GEN_IPADD);
		assert_int_equal(ASN1_STRING_length(gen->d.iPAddress), len);
		assert_memory_equal(ASN1_STRING_get0_data(gen->d.iPAddress),
		    addr, (size_t)len);
		assert_int_equal(X509_check_ip_asc(cert, host, 0), 1);
		assert_int_equal(X509_check_ip_asc(cert, "10.9.9.9", 0), 0);
		/* No dNSName: only the CN (which is host) names it as a name. */
		assert_int_equal(X509_check_host(cert, host, 0,
		    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 0);
	} else {
		assert_int_equal(gen->type, GEN_DNS);
		assert_int_equal(ASN1_STRING_length(gen->d.dNSName),
		    (int)strlen(host));
		assert_memory_equal(ASN1_STRING_get0_data(gen->d.dNSName),
		    host, strlen(host));
		assert_int_equal(X509_check_host(cert, host, 0,
		    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 1);
		assert_int_equal(X509_check_host(cert, "evil.example.org", 0,
		    0, NULL), 0);
	}
	GENERAL_NAMES_free(gens);
}

static void
check_usage(X509 *cert)
{
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	EXTENDED_KEY_USAGE *eku;
	int crit = -1;

	bc = X509_get_ext_d2i(cert, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_int_equal(crit, 1);
	assert_int_equal(bc->ca, 0);
	assert_null(bc->pathlen);
	BASIC_CONSTRAINTS_free(bc);

	ku = X509_get_ext_d2i(cert, NID_key_usage, &crit, NULL);
	assert_non_null(ku);
	assert_int_equal(crit, 1);
	ASN1_BIT_STRING_free(ku);
	assert_int_equal(X509_get_key_usage(cert), KU_DIGITAL_SIGNATURE);

	eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
	assert_non_null(eku);
	assert_int_equal(crit, 0);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_server_auth);
	EXTENDED_KEY_USAGE_free(eku);
	assert_int_equal(X509_get_extended_key_usage(cert), XKU_SSL_SERVER);
	assert_int_equal(X509_check_ca(cert), 0);
}

static void
check_validity(X509 *cert)
{
	time_t now = time(NULL), lo = now - 3600 - 120, hi = now - 3600 + 120;
	int days = -1, secs = -1;

	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert),
	    X509_get0_notAfter(cert)), 1);
	assert_int_equal(days, TLSCERT_DAYS);
	assert_int_equal(secs, 0);
	/* notBefore is an hour ago, give or take two minutes. */
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(cert), &lo), 1);
	assert_int_equal(X509_cmp_time(X509_get0_notBefore(cert), &hi), -1);
}

/* A client that trusts only this certificate accepts it for host. */
static void
check_chain(X509 *cert, const char *host)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	X509_VERIFY_PARAM *vp;
	unsigned char addr[16];

	assert_non_null(store = X509_STORE_new());
	assert_int_equal(X509_STORE_add_cert(store, cert), 1);
	assert_non_null(ctx = X509_STORE_CTX_new());
	assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
	vp = X509_STORE_CTX_get0_param(ctx);
	assert_int_equal(X509_VERIFY_PARAM_set_purpose(vp,
	    X509_PURPOSE_SSL_SERVER), 1);
	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1)
		assert_int_equal(X509_VERIFY_PARAM_set1_ip_asc(vp, host), 1);
	else
		assert_int_equal(X509_VERIFY_PARAM_set1_host(vp, host, 0), 1);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("verify: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
}

static void
check_created(const char *dir, const char *host, const char *pin)
{
	char want[TLSCERT_PIN_MAX], frompem[TLSCERT_PIN_MAX], cn[256];
	struct muster_err e;
	EVP_PKEY *pkey;
	X509 *cert;
	BIGNUM *bn;
	char *buf;
	size_t len;

	assert_int_equal(strlen(pin), PIN_LEN);
	assert_memory_equal(pin, TLSCERT_PIN_PREFIX,
	    sizeof TLSCERT_PIN_PREFIX - 1);
	assert_int_equal(pin[PIN_LEN - 1], '=');

	assert_int_equal(dir_entries(dir), 3);
	assert_int_equal(mode_of(dir, TLSCERT_KEY_FILE), 0600);
	assert_int_equal(mode_of(dir, TLSCERT_CERT_FILE), 0644);
	assert_int_equal(mode_of(dir, TLSCERT_PIN_FILE), 0644);

	buf = read_in(dir, TLSCERT_PIN_FILE, &len);
	assert_int_equal(len, PIN_LEN + 1);
	assert_memory_equal(buf, pin, PIN_LEN);
	assert_int_equal(buf[PIN_LEN], '\n');
	free(buf);

	buf = read_in(dir, TLSCERT_KEY_FILE, &len);
	assert_non_null(strstr(buf, "-----BEGIN PRIVATE KEY-----\n"));
	assert_ptr_equal(strstr(buf, "-----BEGIN PRIVATE KEY-----\n"), buf);
	free(buf);

	/* The pin from the PEM and from the CLI both agree. */
	buf = read_in(dir, TLSCERT_CERT_FILE, &len);
	assert_ptr_equal(strstr(buf, "-----BEGIN CERTIFICATE-----\n"), buf);
	assert_int_equal(tlscert_pin_pem(buf, len, frompem, &e), 0);
	assert_string_equal(frompem, pin);
	free(buf);
	cli_pin(dir, want, sizeof want);
	assert_string_equal(want, pin);

	pkey = load_key(dir);
	assert_true(EVP_PKEY_is_a(pkey, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(pkey), 256);
	assert_int_equal(EVP_PKEY_get_utf8_string_param(pkey, "group", cn,
	    sizeof cn, NULL), 1);
	assert_int_equal(OBJ_sn2nid(cn), NID_X9_62_prime256v1);

	cert = load_cert(dir);
	assert_int_equal(X509_get_version(cert), X509_VERSION_3);
	assert_int_equal(X509_get_signature_nid(cert), NID_ecdsa_with_SHA256);
	assert_int_equal(X509_verify(cert, X509_get0_pubkey(cert)), 1);
	assert_int_equal(X509_verify(cert, pkey), 1);
	assert_int_equal(X509_check_private_key(cert, pkey), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(cert), pkey), 1);
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(cert),
	    X509_get_issuer_name(cert)), 0);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
	    NID_commonName, cn, sizeof cn) > 0);
	if (strlen(host) <= 64)
		assert_string_equal(cn, host);
	assert_non_null(bn = ASN1_INTEGER_to_BN(
	    X509_get0_serialNumber(cert), NULL));
	assert_false(BN_is_negative(bn));
	assert_int_equal(BN_num_bits(bn), 128);
	BN_free(bn);

	check_san(cert, host);
	check_usage(cert);
	check_validity(cert);
	check_chain(cert, host);

	X509_free(cert);
	EVP_PKEY_free(pkey);
}

static void
create_for(const char *dir, const char *host)
{
	char pin[TLSCERT_PIN_MAX];
	struct muster_err e;

	if (tlscert_create(dir, host, pin, &e) != 0)
		fail_msg("tlscert_create(%s): %s", host, e.msg);
	check_created(dir, host, pin);
}

static void
test_create_ipv4(void **state)
{
	create_for(*state, "127.0.0.1");
}

static void
test_create_ipv6(void **state)
{
	create_for(*state, "::1");
}

static void
test_create_dns(void **state)
{
	create_for(*state, "muster.example.org");
}

/* 253 bytes: too long for a CN, still named in full by the SAN. */
static void
test_create_longest_dns(void **state)
{
	char host[TLSCERT_HOST_MAX + 1];
	size_t i;

	for (i = 0; i < TLSCERT_HOST_MAX; i++)
		host[i] = (i % 64 == 63) ? '.' : 'a';
	host[TLSCERT_HOST_MAX] = '\0';
	create_for(*state, host);
}

static void
test_no_overwrite(void **state)
{
	char pin[TLSCERT_PIN_MAX], pin2[TLSCERT_PIN_MAX];
	struct muster_err e;
	const char *dir = *state;
	char *before[3], *after[3];
	size_t lb[3], la[3], i;

	assert_int_equal(tlscert_create(dir, "127.0.0.1", pin, &e), 0);
	for (i = 0; i < 3; i++)
		before[i] = read_in(dir, files[i], &lb[i]);
	memset(pin2, 'x', sizeof pin2);
	assert_int_equal(tlscert_create(dir, "127.0.0.1", pin2, &e),
	    MUSTER_ECANTCREAT);
	assert_int_equal(e.code, MUSTER_ECANTCREAT);
	assert_non_null(strstr(e.msg, "exists"));
	assert_int_equal(pin2[0], 'x');
	assert_int_equal(dir_entries(dir), 3);
	for (i = 0; i < 3; i++) {
		after[i] = read_in(dir, files[i], &la[i]);
		assert_int_equal(la[i], lb[i]);
		assert_memory_equal(after[i], before[i], la[i]);
		free(before[i]);
		free(after[i]);
	}
	assert_int_equal(mode_of(dir, TLSCERT_KEY_FILE), 0600);
}

/* Any one of the three files already there stops the whole call. */
static void
test_partial_existing(void **state)
{
	char pin[TLSCERT_PIN_MAX];
	struct muster_err e;
	size_t i, len;
	char *dir, *p, *buf;

	for (i = 0; i < 3; i++) {
		dir = make_sub(*state, files[i]);
		assert_non_null(p = fs_path(dir, files[i]));
		assert_int_equal(fs_create_excl(p, "old\n", 4, 0600, &e), 0);
		free(p);
		assert_int_equal(tlscert_create(dir, "::1", pin, &e),
		    MUSTER_ECANTCREAT);
		assert_int_equal(dir_entries(dir), 1);
		buf = read_in(dir, files[i], &len);
		assert_int_equal(len, 4);
		assert_memory_equal(buf, "old\n", 4);
		free(buf);
		free(dir);
	}
	/* A dangling symlink counts as existing and is not followed. */
	dir = make_sub(*state, "symlink");
	assert_non_null(p = fs_path(dir, TLSCERT_KEY_FILE));
	assert_int_equal(symlink("/tmp/test_tlscert-nowhere", p), 0);
	assert_int_equal(tlscert_create(dir, "::1", pin, &e),
	    MUSTER_ECANTCREAT);
	assert_int_equal(access("/tmp/test_tlscert-nowhere", F_OK), -1);
	assert_int_equal(dir_entries(dir), 1);
	free(p);
	free(dir);
}

static void
test_missing_dir(void **state)
{
	char pin[TLSCERT_PIN_MAX];
	struct muster_err e;
	const char *dir = *state;
	char *sub;

	assert_non_null(sub = fs_path(dir, "absent"));
	assert_int_equal(tlscert_create(sub, "127.0.0.1", pin, &e),
	    MUSTER_ECANTCREAT);
	assert_int_equal(dir_entries(dir), 0);
	assert_int_equal(tlscert_create("", "127.0.0.1", pin, &e),
	    MUSTER_EUSAGE);
	free(sub);
}

static void
test_bad_hosts(void **state)
{
	char longest[TLSCERT_HOST_MAX + 2], longlabel[80];
	const char *bad[] = {
		"", "a\nb", "a\tb", "a\rb", "\x7f", "a\x1b[31m", "a b",
		"h\xc3\xa9.example.org", "[::1]", "fe80::1%eth0",
		"1.2.3", "10.0.0.256", "a..b", ".a", "a.", ".", "a/b",
		"a,DNS:evil.example.org", "a:b", "*.example.org",
		"user@host", longest, longlabel,
	};
	char pin[TLSCERT_PIN_MAX];
	struct muster_err e;
	const char *dir = *state;
	size_t i;

	memset(longest, 'a', sizeof longest - 1);
	longest[sizeof longest - 1] = '\0';	/* 254 bytes */
	memset(longlabel, 'b', 64);
	strcpy(longlabel + 64, ".example.org");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		memset(pin, 'x', sizeof pin);
		if (tlscert_create(dir, bad[i], pin, &e) != MUSTER_EUSAGE)
			fail_msg("host %zu accepted", i);
		assert_int_equal(e.code, MUSTER_EUSAGE);
		assert_true(e.msg[0] != '\0');
		assert_int_equal(pin[0], 'x');
		assert_int_equal(dir_entries(dir), 0);
	}
	assert_int_equal(tlscert_create(dir, NULL, pin, &e), MUSTER_EUSAGE);
	assert_int_equal(dir_entries(dir), 0);
}

/* Two identities never share a key or a serial; foreign keys fail. */
static void
test_distinct(void **state)
{
	char pa[TLSCERT_PIN_MAX], pb[TLSCERT_PIN_MAX];
	struct muster_err e;
	char *da = make_sub(*state, "a"), *db = make_sub(*state, "b");
	X509 *ca, *cb;
	EVP_PKEY *kb;

	assert_int_equal(tlscert_create(da, "muster.example.org", pa, &e), 0);
	assert_int_equal(tlscert_create(db, "muster.example.org", pb, &e), 0);
	assert_string_not_equal(pa, pb);
	ca = load_cert(da);
	cb = load_cert(db);
	kb = load_key(db);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca),
	    X509_get0_serialNumber(cb)), 0);
	assert_int_not_equal(X509_verify(ca, kb), 1);
	assert_int_not_equal(X509_check_private_key(ca, kb), 1);
	ERR_clear_error();
	X509_free(ca);
	X509_free(cb);
	EVP_PKEY_free(kb);
	free(da);
	free(db);
}

static void
test_pin_pem_garbage(void **state)
{
	static const char *const bad[] = {
		"garbage",
		"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
		"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
	};
	char pin[TLSCERT_PIN_MAX];
	unsigned char rnd[4096];
	struct muster_err e;
	char *big;
	size_t i;

	(void)state;
	memset(pin, 'x', sizeof pin);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(tlscert_pin_pem(bad[i], strlen(bad[i]), pin,
		    &e), MUSTER_EDATA);
	assert_int_equal(tlscert_pin_pem("", 0, pin, &e), MUSTER_EDATA);
	assert_int_equal(tlscert_pin_pem(NULL, 0, pin, &e), MUSTER_EDATA);
	srand(1);
	for (i = 0; i < sizeof rnd; i++)
		rnd[i] = (unsigned char)rand();
	for (i = 1; i <= sizeof rnd; i *= 2)
		assert_int_equal(tlscert_pin_pem((const char *)rnd, i, pin,
		    &e), MUSTER_EDATA);
	/* Capped before it is parsed. */
	assert_non_null(big = calloc(1, TLSCERT_PEM_MAX + 1));
	memset(big, 'A', TLSCERT_PEM_MAX);
	assert_int_equal(tlscert_pin_pem(big, TLSCERT_PEM_MAX + 1, pin, &e),
	    MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "larger"));
	free(big);
	assert_int_equal(pin[0], 'x');
	assert_int_equal(ERR_peek_error(), 0);
}

/* Not a certificate: the private key PEM must not yield a pin. */
static void
test_pin_pem_wrong_type(void **state)
{
	char pin[TLSCERT_PIN_MAX];
	struct muster_err e;
	const char *dir = *state;
	char *buf;
	size_t len;

	assert_int_equal(tlscert_create(dir, "127.0.0.1", pin, &e), 0);
	buf = read_in(dir, TLSCERT_KEY_FILE, &len);
	assert_int_equal(tlscert_pin_pem(buf, len, pin, &e), MUSTER_EDATA);
	free(buf);
	buf = read_in(dir, TLSCERT_PIN_FILE, &len);
	assert_int_equal(tlscert_pin_pem(buf, len, pin, &e), MUSTER_EDATA);
	free(buf);
}

/*
 * Every prefix of the certificate PEM, each in a buffer of exactly its
 * length so the sanitizer build catches a read past it, then every
 * single-byte corruption of it: no crash, and a pin only when it is right.
 */
static void
test_pin_pem_truncated(void **state)
{
	static const char endline[] = "-----END CERTIFICATE-----";
	char pin[TLSCERT_PIN_MAX], got[TLSCERT_PIN_MAX];
	struct muster_err e;
	const char *dir = *state;
	char *buf, *cp;
	size_t len, n, end, ok = 0;
	int rc;

	assert_int_equal(tlscert_create(dir, "muster.example.org", pin, &e),
	    0);
	buf = read_in(dir, TLSCERT_CERT_FILE, &len);
	assert_non_null(cp = strstr(buf, endline));
	end = (size_t)(cp - buf) + sizeof endline - 1;
	for (n = 0; n <= len; n++) {
		assert_non_null(cp = malloc(n > 0 ? n : 1));
		memcpy(cp, buf, n);
		rc = tlscert_pin_pem(cp, n, got, &e);
		free(cp);
		if (rc == 0) {
			assert_string_equal(got, pin);
			ok++;
		} else
			assert_int_equal(rc, MUSTER_EDATA);
		if (n < end)
			assert_int_not_equal(rc, 0);
	}
	assert_true(ok >= 1);
	assert_int_equal(tlscert_pin_pem(buf, len, got, &e), 0);
	assert_string_equal(got, pin);
	for (n = 0; n < len; n++) {
		assert_non_null(cp = malloc(len));
		memcpy(cp, buf, len);
		cp[n] ^= 0x01;
		rc = tlscert_pin_pem(cp, len, got, &e);
		assert_true(rc == 0 || rc == MUSTER_EDATA);
		free(cp);
	}
	assert_int_equal(ERR_peek_error(), 0);
	free(buf);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_ipv4),
		T(test_create_ipv6),
		T(test_create_dns),
		T(test_create_longest_dns),
		T(test_no_overwrite),
		T(test_partial_existing),
		T(test_missing_dir),
		T(test_bad_hosts),
		T(test_distinct),
		cmocka_unit_test(test_pin_pem_garbage),
		T(test_pin_pem_wrong_type),
		T(test_pin_pem_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
