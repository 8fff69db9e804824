/*
 * proof: a stored report as evidence (docs/operations.md, "Verifying a
 * stored report"): the check of the device's signature the console and
 * `muster-server history` show beside each status change, and the proof
 * file an auditor takes away (the exact signed body, the signature, the
 * device's public key) with its strict reader for `muster-server
 * verify-report`.
 *
 * A proof file is one JSON object (PROOF_FORMAT):
 *
 *	format		"muster-report-proof-1"
 *	device, seq	the entry it is the evidence of
 *	time, received	the report's own time, when the server stored it
 *	status		"compliant" or "noncompliant", as stored
 *	hash		hex BLAKE2b-256 of the body, as stored
 *	body_b64	the exact signed bytes (canonical padded base64)
 *	sig_b64		the device's Ed25519 signature over them, or null
 *			(not kept: stored before schema version 5)
 *	pk_b64		the device's Ed25519 public key (32 bytes)
 *	check		what the server found when it wrote the file
 */
#ifndef MUSTER_SERVER_PROOF_H
#define MUSTER_SERVER_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"
#include "store.h"

#define PROOF_FORMAT	"muster-report-proof-1"
/* A report's base64 and the fields around it: a proof file's cap. */
#define PROOF_FILE_MAX	(PROTO_REPORT_MAX / 3 * 4 + 4096)

enum proof_check {
	PROOF_VERIFIED,		/* the signature verifies with the device's
				   key, and the report it signs is this entry's
				   (its device, seq and status) */
	PROOF_BAD_SIG,		/* the signature does not verify */
	PROOF_MISMATCH,		/* it verifies, but the signed report names
				   another device, seq or status */
	PROOF_NOT_KEPT,		/* no signature was kept (before schema 5) */
};

/*
 * Checks p: its signature over its body with its key, then (verified
 * first, parsed after, from the same bytes) that the body is a report of
 * p->device, p->seq with the status p->compliant says.  Returns which.
 */
enum proof_check proof_check(const struct store_proof *p);

/*
 * proof_check on its parts: device's key pk (STORE_PK_LEN bytes), the
 * entry (device, seq, compliant), the stored hash (NULL: none), the
 * body's len bytes and the signature (NULL: not kept).
 */
enum proof_check proof_check_bytes(const unsigned char pk[STORE_PK_LEN],
	    const char *device, int64_t seq, int compliant,
	    const unsigned char *hash, const void *body, size_t len,
	    const unsigned char *sig);

/* The words the console and the CLI show for c (static). */
const char	*proof_check_text(enum proof_check c);

/* A one-word name of c for JSON and scripts (static). */
const char	*proof_check_name(enum proof_check c);

/*
 * p as a proof file (the format above, with check c) into *out, a
 * malloc'd NUL-terminated text of *len bytes ending in a newline, for
 * the caller to free.  0 or MUSTER_EINTERNAL.
 */
int	proof_json(const struct store_proof *p, enum proof_check c,
	    char **out, size_t *len, struct muster_err *e);

/*
 * Reads a proof file of len bytes (untrusted: capped at PROOF_FILE_MAX,
 * nesting and duplicate keys refused, every field of its exact type,
 * base64 canonical, the key and signature of their exact sizes, no other
 * field) into *p (store_proof_clear releases its body, also on error).
 * 0, or MUSTER_EDATA with e saying which field is wrong.
 */
int	proof_parse(const char *buf, size_t len, struct store_proof *p,
	    struct muster_err *e);

#endif
