/*
 * rereg: the enrollment receipt and re-registration (docs/protocol.md,
 * "Re-registration").  The server's enrollment answer carries a receipt
 * it signed; the agent keeps it, as received, in STATE/receipt.json
 * (0600).  When the server no longer knows the device (its store was
 * restored from a backup older than the enrollment) the agent presents
 * the receipt in a request signed by its device key, and carries on
 * with no wipe and no new token.
 */
#ifndef MUSTER_AGENT_REREG_H
#define MUSTER_AGENT_REREG_H

#include "muster/err.h"

#define REREG_FILE	"receipt.json"

struct json_t;

/*
 * Keeps receipt (the enrollment answer's "receipt" member, or NULL when
 * the server sent none: nothing is kept) in dir/REREG_FILE.  Only its
 * shape is checked, {"body": string, "sig": string} within
 * PROTO_RECEIPT_JSON_MAX bytes; the server verifies it.  0, MUSTER_EDATA
 * (malformed), or the write's error.
 */
int	rereg_store(const char *dir, struct json_t *receipt,
	    struct muster_err *e);

/*
 * After the server refused this device (a cycle ended in MUSTER_ETRUST):
 * when dir holds a receipt, presents it (POST /v1/reregister, signed by
 * the device key).  Returns 0 when the server took the device back (the
 * caller runs the cycle again), -1 otherwise: no receipt, a device the
 * server knows (so the refusal stands: revoked), a refused receipt, or
 * no answer; what happened is logged.
 */
int	rereg_try(const char *dir);

#endif
