/*
 * tlscert: the command server's TLS identity, made by `muster-enroll init`
 * with OpenSSL 3: an ECDSA P-256 key, a self-signed certificate for the
 * server's host name or address, and the SPKI SHA-256 pin agents carry in
 * their bundle, in curl's "sha256//BASE64" form (DESIGN.md, "Server TLS
 * key").
 */
#ifndef MUSTER_TLSCERT_H
#define MUSTER_TLSCERT_H

#include <stddef.h>

#include "muster/err.h"

#define TLSCERT_KEY_FILE	"server.key"	/* PEM PKCS#8, 0600 */
#define TLSCERT_CERT_FILE	"server.crt"	/* PEM X.509, 0644 */
#define TLSCERT_PIN_FILE	"server.pin"	/* pin + "\n", 0644 */

/* What `cert renew` makes, beside the current files until switched. */
#define TLSCERT_NEXT_KEY_FILE	"server-next.key"
#define TLSCERT_NEXT_CERT_FILE	"server-next.crt"
#define TLSCERT_NEXT_PIN_FILE	"server-next.pin"

#define TLSCERT_PIN_PREFIX	"sha256//"
#define TLSCERT_PIN_MAX		64	/* "sha256//" + base64 of 32 bytes + NUL fits */
#define TLSCERT_HOST_MAX	253	/* longest DNS name */
#define TLSCERT_DAYS		3650	/* validity, from one hour ago */
#define TLSCERT_PEM_MAX		(64 * 1024)	/* cap on a certificate PEM */

/*
 * Creates in dir (which must exist): server.key (ECDSA P-256 private key,
 * PEM PKCS#8, mode 0600), server.crt (self-signed X.509 v3 for host, PEM,
 * 0644) and server.pin (the certificate's pin and a newline, 0644), and
 * copies the pin, NUL-terminated and without the newline, to pin.
 *
 * host is an IPv4 or IPv6 address (no brackets, no zone) or a DNS name of
 * letters, digits, '-', '_' and '.'-separated labels of at most 63 bytes,
 * at most 253 bytes in all and not ending in an all-numeric label; any
 * other host is refused with MUSTER_EUSAGE before anything is made.
 *
 * Never overwrites a file: if any of the three exists the call fails with
 * MUSTER_ECANTCREAT and changes nothing; if writing fails half-way the
 * files this call created are removed.  Returns 0, or a negative MUSTER_E*
 * with a message in e (which may be NULL).  pin is written only on success.
 * The private key never leaves this function except into server.key; its
 * PEM is wiped from memory on every path.
 */
int	tlscert_create(const char *dir, const char *host,
	    char pin[TLSCERT_PIN_MAX], struct muster_err *e);

/*
 * A new certificate for host, to replace the server's (`muster-enroll
 * cert renew`): with new_key, a new key too (server-next.key, 0600),
 * else for the key in dir/server.key; written as server-next.crt and
 * server-next.pin beside the current files, never over a file
 * (MUSTER_ECANTCREAT).  The new certificate's pin goes to pin.  Returns 0
 * or a negative MUSTER_E*; host is checked as tlscert_create checks it.
 */
int	tlscert_renew(const char *dir, const char *host, int new_key,
	    char pin[TLSCERT_PIN_MAX], struct muster_err *e);

/*
 * Computes the pin of the first PEM certificate in the len bytes at buf
 * (which need not be NUL-terminated; the caller keeps it) into pin.
 * Returns 0, MUSTER_EDATA when buf holds no parseable certificate or is
 * larger than TLSCERT_PEM_MAX, or MUSTER_EINTERNAL; pin is written only on
 * success.
 */
int	tlscert_pin_pem(const char *buf, size_t len, char pin[TLSCERT_PIN_MAX],
	    struct muster_err *e);

#endif
