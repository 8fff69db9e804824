/* tlscert: the command server's TLS key, certificate and pin. */
#define OPENSSL_API_COMPAT	30000
#define OPENSSL_NO_DEPRECATED

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "tlscert.h"

#define TLSCERT_CURVE		"P-256"
#define TLSCERT_SERIAL_BITS	128
#define TLSCERT_BACKDATE	(-60 * 60)	/* seconds: tolerate slow clocks */
#define TLSCERT_CN_MAX		64	/* ub-common-name, RFC 5280 */
#define TLSCERT_CN_FALLBACK	"muster-server"
#define TLSCERT_LABEL_MAX	63

enum host_kind {
	HOST_DNS,
	HOST_IPV4,
	HOST_IPV6,
};

/*
 * Records code with "what: <OpenSSL's reason>" and empties OpenSSL's error
 * queue, so that no stale error is reported by a later, unrelated call.
 */
static int
ossl_fail(struct muster_err *e, int code, const char *what)
{
	char reason[256];
	unsigned long ec;

	ec = ERR_peek_last_error();
	if (ec != 0) {
		ERR_error_string_n(ec, reason, sizeof reason);
		err_set(e, code, "%s: %s", what, reason);
	} else
		err_set(e, code, "%s", what);
	ERR_clear_error();
	return code;
}

/*
 * Sorts host into an address or a DNS name, or returns MUSTER_EUSAGE.
 * addr receives the 4 or 16 address bytes.  DNS names are held to the
 * preferred syntax (plus '_'), which also keeps out every control
 * character, space, comma, slash and non-ASCII byte; an all-numeric last
 * label is refused because resolvers read "10.1" as an address.
 */
static int
host_check(const char *host, enum host_kind *kind, unsigned char addr[16],
    struct muster_err *e)
{
	size_t len, i, label = 0;
	int numeric = 1;
	unsigned char c;

	if (host == NULL || host[0] == '\0')
		return err_set(e, MUSTER_EUSAGE, "server host name is empty");
	len = strnlen(host, TLSCERT_HOST_MAX + 1);
	if (len > TLSCERT_HOST_MAX)
		return err_set(e, MUSTER_EUSAGE, "server host name is longer "
		    "than %d bytes", TLSCERT_HOST_MAX);
	for (i = 0; i < len; i++) {
		c = (unsigned char)host[i];
		if (c < 0x20 || c >= 0x7f)
			return err_set(e, MUSTER_EUSAGE, "server host name "
			    "contains a control or non-ASCII byte (0x%02x); "
			    "give an address or an ASCII (punycode) name",
			    (unsigned)c);
	}
	if (inet_pton(AF_INET, host, addr) == 1) {
		*kind = HOST_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, addr) == 1) {
		*kind = HOST_IPV6;
		return 0;
	}
	for (i = 0; i <= len; i++) {
		c = (unsigned char)host[i];
		if (c == '.' || c == '\0') {
			if (label == 0)
				return err_set(e, MUSTER_EUSAGE, "server host "
				    "name \"%s\" has an empty label", host);
			if (c == '\0' && numeric)
				return err_set(e, MUSTER_EUSAGE, "server host "
				    "name \"%s\" is neither an address nor a "
				    "DNS name", host);
			label = 0;
			numeric = 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return err_set(e, MUSTER_EUSAGE, "server host name "
			    "\"%s\": '%c' is not allowed in a DNS name (give "
			    "an address without brackets, or a name)",
			    host, c);
		if (c < '0' || c > '9')
			numeric = 0;
		if (++label > TLSCERT_LABEL_MAX)
			return err_set(e, MUSTER_EUSAGE, "server host name "
			    "\"%s\" has a label longer than %d bytes", host,
			    TLSCERT_LABEL_MAX);
	}
	*kind = HOST_DNS;
	return 0;
}

/* Formats the curl pin of cert's SubjectPublicKeyInfo into pin. */
static int
pin_of_x509(X509 *cert, char pin[TLSCERT_PIN_MAX], struct muster_err *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[((SHA256_DIGEST_LENGTH + 2) / 3) * 4 + 1];
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	X509_PUBKEY *spki;
	int derlen, n, rc;

	if ((spki = X509_get_X509_PUBKEY(cert)) == NULL) {
		rc = ossl_fail(e, MUSTER_EDATA, "certificate has no public key");
		goto out;
	}
	if ((derlen = i2d_X509_PUBKEY(spki, &der)) <= 0) {
		rc = ossl_fail(e, MUSTER_EDATA, "cannot encode the public key");
		goto out;
	}
	if (EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != SHA256_DIGEST_LENGTH) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "SHA-256 failed");
		goto out;
	}
	/* Standard alphabet with its '=' padding, as curl compares it. */
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	if (n <= 0 || (size_t)n >= sizeof b64 ||
	    sizeof TLSCERT_PIN_PREFIX + (size_t)n > TLSCERT_PIN_MAX) {
		rc = err_set(e, MUSTER_EINTERNAL, "cannot encode the pin");
		goto out;
	}
	memcpy(pin, TLSCERT_PIN_PREFIX, sizeof TLSCERT_PIN_PREFIX - 1);
	memcpy(pin + sizeof TLSCERT_PIN_PREFIX - 1, b64, (size_t)n + 1);
	rc = 0;
out:
	OPENSSL_free(der);
	return rc;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
tlscert_pin_pem(const char *buf, size_t len, char pin[TLSCERT_PIN_MAX],
    struct muster_err *e)
{
	char tmp[TLSCERT_PIN_MAX];
	BIO *bio = NULL;
	X509 *cert = NULL;
	int rc;

	if (buf == NULL || len == 0) {
		rc = err_set(e, MUSTER_EDATA, "certificate is empty");
		goto out;
	}
	if (len > TLSCERT_PEM_MAX) {
		rc = err_set(e, MUSTER_EDATA, "certificate is larger than "
		    "%d bytes", TLSCERT_PEM_MAX);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((cert = PEM_read_bio_X509(bio, NULL, no_passphrase,
	    NULL)) == NULL) {
		rc = ossl_fail(e, MUSTER_EDATA, "no PEM certificate found");
		goto out;
	}
	if ((rc = pin_of_x509(cert, tmp, e)) != 0)
		goto out;
	memcpy(pin, tmp, strlen(tmp) + 1);
	rc = 0;
out:
	X509_free(cert);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

static int
make_key(EVP_PKEY **pkey, struct muster_err *e)
{
	EVP_PKEY_CTX *ctx = NULL;
	int rc;

	*pkey = NULL;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "EC key context");
		goto out;
	}
	if (EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(ctx, TLSCERT_CURVE) <= 0 ||
	    EVP_PKEY_generate(ctx, pkey) <= 0) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "cannot generate the "
		    TLSCERT_CURVE " server key");
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/* A positive serial of exactly TLSCERT_SERIAL_BITS random-led bits. */
static int
set_serial(X509 *cert, struct muster_err *e)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn;
	int rc;

	if ((bn = BN_new()) == NULL ||
	    BN_rand(bn, TLSCERT_SERIAL_BITS, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ANY) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "random serial");
		goto out;
	}
	if ((sn = X509_get_serialNumber(cert)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, sn) == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "serial number");
		goto out;
	}
	rc = 0;
out:
	BN_free(bn);
	return rc;
}

static int
add_san(X509 *cert, const char *host, enum host_kind kind,
    const unsigned char addr[16], struct muster_err *e)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_OCTET_STRING *ip = NULL;
	ASN1_IA5STRING *dns = NULL;
	int rc;

	if ((gens = GENERAL_NAMES_new()) == NULL ||
	    (gen = GENERAL_NAME_new()) == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (kind == HOST_DNS) {
		if ((dns = ASN1_IA5STRING_new()) == NULL ||
		    ASN1_STRING_set(dns, host, -1) != 1) {
			rc = ossl_fail(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_DNS, dns);
		dns = NULL;
	} else {
		if ((ip = ASN1_OCTET_STRING_new()) == NULL ||
		    ASN1_OCTET_STRING_set(ip, addr,
		    kind == HOST_IPV4 ? 4 : 16) != 1) {
			rc = ossl_fail(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
		ip = NULL;
	}
	if (sk_GENERAL_NAME_push(gens, gen) <= 0) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	gen = NULL;
	if (X509_add1_ext_i2d(cert, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "subjectAltName");
		goto out;
	}
	rc = 0;
out:
	ASN1_IA5STRING_free(dns);
	ASN1_OCTET_STRING_free(ip);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* basicConstraints, keyUsage and extendedKeyUsage of a TLS server leaf. */
static int
add_usage(X509 *cert, struct muster_err *e)
{
	BASIC_CONSTRAINTS *bc = NULL;
	ASN1_BIT_STRING *ku = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *obj;
	int rc;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	bc->ca = 0;
	if (X509_add1_ext_i2d(cert, NID_basic_constraints, bc, 1,
	    X509V3_ADD_DEFAULT) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "basicConstraints");
		goto out;
	}
	/* Bit 0 is digitalSignature: all an ECDHE-ECDSA server needs. */
	if ((ku = ASN1_BIT_STRING_new()) == NULL ||
	    ASN1_BIT_STRING_set_bit(ku, 0, 1) != 1 ||
	    X509_add1_ext_i2d(cert, NID_key_usage, ku, 1,
	    X509V3_ADD_DEFAULT) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "keyUsage");
		goto out;
	}
	if ((eku = sk_ASN1_OBJECT_new_null()) == NULL ||
	    (obj = OBJ_nid2obj(NID_server_auth)) == NULL ||
	    sk_ASN1_OBJECT_push(eku, obj) <= 0 ||
	    X509_add1_ext_i2d(cert, NID_ext_key_usage, eku, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "extendedKeyUsage");
		goto out;
	}
	rc = 0;
out:
	EXTENDED_KEY_USAGE_free(eku);
	ASN1_BIT_STRING_free(ku);
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

static int
make_cert(EVP_PKEY *pkey, const char *host, enum host_kind kind,
    const unsigned char addr[16], X509 **out_cert, struct muster_err *e)
{
	X509 *cert = NULL;
	X509_NAME *name;
	const char *cn;
	time_t now;
	int rc;

	*out_cert = NULL;
	if ((cert = X509_new()) == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (X509_set_version(cert, X509_VERSION_3) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "certificate version");
		goto out;
	}
	if ((rc = set_serial(cert, e)) != 0)
		goto out;
	/* The notAfter is counted from the backdated notBefore. */
	now = time(NULL);
	if (X509_time_adj_ex(X509_getm_notBefore(cert), 0, TLSCERT_BACKDATE,
	    &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(cert), TLSCERT_DAYS,
	    TLSCERT_BACKDATE, &now) == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "certificate validity");
		goto out;
	}
	/*
	 * A CN is at most 64 bytes; a longer host still gets a subject (the
	 * issuer of a self-signed certificate must not be empty) and is
	 * named in full by the subjectAltName, which is what clients check.
	 */
	cn = strlen(host) <= TLSCERT_CN_MAX ? host : TLSCERT_CN_FALLBACK;
	if ((name = X509_get_subject_name(cert)) == NULL ||
	    X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(cert, name) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "certificate subject");
		goto out;
	}
	if (X509_set_pubkey(cert, pkey) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "certificate public key");
		goto out;
	}
	if ((rc = add_san(cert, host, kind, addr, e)) != 0 ||
	    (rc = add_usage(cert, e)) != 0)
		goto out;
	if (X509_sign(cert, pkey, EVP_sha256()) <= 0) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "cannot sign the "
		    "certificate");
		goto out;
	}
	/* Check our own signature before anything reaches the disk. */
	if (X509_verify(cert, pkey) != 1) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "the new certificate "
		    "does not verify");
		goto out;
	}
	*out_cert = cert;
	cert = NULL;
	rc = 0;
out:
	X509_free(cert);
	return rc;
}

/*
 * Creates path exclusively.  *created is set when the file may exist
 * because of this call (fs_create_excl fails with MUSTER_ECANTCREAT only
 * when it did not create it), so the caller can remove it on a later
 * failure and never removes a file it did not make.
 */
static int
create_file(const char *path, const void *buf, size_t len, mode_t mode,
    int *created, struct muster_err *e)
{
	int rc;

	rc = fs_create_excl(path, buf, len, mode, e);
	if (rc != MUSTER_ECANTCREAT)
		*created = 1;
	return rc;
}

enum { F_KEY, F_CERT, F_PIN, F_N };

/*
 * Makes a certificate for host with the key given (a new key when given
 * is NULL) and writes the files names[] in dir, never over a file (no
 * key file when names[F_KEY] is NULL).
 */
static int
identity(const char *dir, const char *host, const char *const names[F_N],
    EVP_PKEY *given, char pin[TLSCERT_PIN_MAX], struct muster_err *e)
{
	char *path[F_N] = { NULL, NULL, NULL };
	int created[F_N] = { 0, 0, 0 };
	char tmp[TLSCERT_PIN_MAX], line[TLSCERT_PIN_MAX + 1];
	unsigned char addr[16];
	enum host_kind kind;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	BIO *kbio = NULL, *cbio = NULL;
	char *kpem = NULL, *cpem = NULL;
	long klen = 0, clen = 0;
	struct stat st;
	size_t n;
	int i, rc;

	if (dir == NULL || dir[0] == '\0') {
		rc = err_set(e, MUSTER_EUSAGE, "no directory for the server "
		    "key");
		goto out;
	}
	if ((rc = host_check(host, &kind, addr, e)) != 0)
		goto out;
	for (i = 0; i < F_N; i++) {
		if (names[i] == NULL)
			continue;
		if ((path[i] = fs_path(dir, names[i])) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		/* Only a courtesy: fs_create_excl is what never overwrites. */
		if (lstat(path[i], &st) == 0) {
			rc = err_set(e, MUSTER_ECANTCREAT, "%s: already "
			    "exists; refusing to replace the server's TLS "
			    "identity", path[i]);
			goto out;
		}
		if (errno != ENOENT) {
			rc = err_sys(e, MUSTER_ECANTCREAT, "%s", path[i]);
			goto out;
		}
	}

	if (given != NULL) {
		if (EVP_PKEY_up_ref(given) != 1) {
			rc = ossl_fail(e, MUSTER_EINTERNAL, "key reference");
			goto out;
		}
		pkey = given;
	} else if ((rc = make_key(&pkey, e)) != 0)
		goto out;
	if ((rc = make_cert(pkey, host, kind, addr, &cert, e)) != 0 ||
	    (rc = pin_of_x509(cert, tmp, e)) != 0)
		goto out;

	/* The secure-heap BIO clears its buffer when it grows or is freed. */
	if ((kbio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 ||
	    (klen = BIO_get_mem_data(kbio, &kpem)) <= 0 || kpem == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "cannot encode the "
		    "server key");
		goto out;
	}
	if ((cbio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(cbio, cert) != 1 ||
	    (clen = BIO_get_mem_data(cbio, &cpem)) <= 0 || cpem == NULL) {
		rc = ossl_fail(e, MUSTER_EINTERNAL, "cannot encode the "
		    "server certificate");
		goto out;
	}
	n = (size_t)snprintf(line, sizeof line, "%s\n", tmp);
	if (n >= sizeof line) {
		rc = err_set(e, MUSTER_EINTERNAL, "pin too long");
		goto out;
	}

	if (path[F_KEY] != NULL && (rc = create_file(path[F_KEY], kpem,
	    (size_t)klen, 0600, &created[F_KEY], e)) != 0)
		goto out;
	OPENSSL_cleanse(kpem, (size_t)klen);
	if ((rc = create_file(path[F_CERT], cpem, (size_t)clen, 0644,
	    &created[F_CERT], e)) != 0 ||
	    (rc = create_file(path[F_PIN], line, n, 0644, &created[F_PIN],
	    e)) != 0)
		goto out;
	memcpy(pin, tmp, strlen(tmp) + 1);
	rc = 0;
out:
	if (rc != 0) {
		/* Leave nothing half-made, so that a retry can succeed. */
		for (i = F_N - 1; i >= 0; i--)
			if (created[i])
				(void)unlink(path[i]);
	}
	if (kpem != NULL && klen > 0)
		OPENSSL_cleanse(kpem, (size_t)klen);
	BIO_free(kbio);
	BIO_free(cbio);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	for (i = 0; i < F_N; i++)
		free(path[i]);
	ERR_clear_error();
	return rc;
}

int
tlscert_create(const char *dir, const char *host, char pin[TLSCERT_PIN_MAX],
    struct muster_err *e)
{
	static const char *const names[F_N] = {
		TLSCERT_KEY_FILE, TLSCERT_CERT_FILE, TLSCERT_PIN_FILE,
	};

	return identity(dir, host, names, NULL, pin, e);
}

/* fs_read_secret's use: the PEM private key into arg (an EVP_PKEY **). */
static int
pem_key_use(const char *path, const char *buf, size_t len, void *arg,
    struct muster_err *e)
{
	EVP_PKEY **pkey = arg;
	BIO *bio;
	int rc = 0;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (*pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
	    NULL)) == NULL)
		rc = ossl_fail(e, MUSTER_EDATA, path);
	BIO_free(bio);
	return rc;
}

int
tlscert_renew(const char *dir, const char *host, int new_key,
    char pin[TLSCERT_PIN_MAX], struct muster_err *e)
{
	static const char *const names[F_N] = {
		TLSCERT_NEXT_KEY_FILE, TLSCERT_NEXT_CERT_FILE,
		TLSCERT_NEXT_PIN_FILE,
	};
	const char *const same[F_N] = { NULL, names[F_CERT], names[F_PIN] };
	EVP_PKEY *pkey = NULL;
	char *path;
	int rc;

	if (new_key)
		return identity(dir, host, names, NULL, pin, e);
	if ((path = fs_path(dir, TLSCERT_KEY_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = fs_read_secret(path, TLSCERT_PEM_MAX, pem_key_use, &pkey,
	    e)) == 0)
		rc = identity(dir, host, same, pkey, pin, e);
	EVP_PKEY_free(pkey);
	free(path);
	ERR_clear_error();
	return rc;
}
