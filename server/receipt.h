/*
 * receipt: the enrollment receipt (docs/protocol.md, "Re-registration").
 * When the server enrolls a device it signs, with an Ed25519 key of its
 * own (DATA_DIR/receipt.key, made on first use, 0600), what it enrolled:
 * device id and key, scope, unit, person, token id and expiry, time.  The
 * device keeps the receipt; after a restore of the store from a backup
 * older than its enrollment, it presents the receipt, signed by its
 * device key, and the server adds it back (store_device_reregister).
 *
 * The receipt key can neither sign policy nor revoke: it vouches only
 * that this server once enrolled that key with a valid token, which is
 * what the store itself says (docs/keys.md).
 */
#ifndef MUSTER_SERVER_RECEIPT_H
#define MUSTER_SERVER_RECEIPT_H

#include <stddef.h>
#include <time.h>

#include <sodium.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/token.h"

#define RECEIPT_KEY_FILE	"receipt.key"
#define RECEIPT_SEED_LEN	crypto_sign_SEEDBYTES
#define RECEIPT_VERSION		1

struct receipt {
	char			device[DEVICE_ID_HEX];
	unsigned char		pk[crypto_sign_PUBLICKEYBYTES];
	enum profile_scope	scope;
	char			unit[TOKEN_FIELD_MAX];
	char			person[TOKEN_FIELD_MAX];
	char			token_id[TOKEN_ID_HEX];
	time_t			expires;	/* the token's */
	time_t			enrolled;
};

struct receipt_key;

/*
 * Loads data_dir/RECEIPT_KEY_FILE (a private file of RECEIPT_SEED_LEN
 * bytes), creating it 0600 when missing, into *out (receipt_key_free; the
 * secret is in sodium_malloc memory).  MUSTER_ECONFIG for a file others
 * can read or of the wrong size, MUSTER_EIO / MUSTER_ECANTCREAT.
 */
int	receipt_key_open(const char *data_dir, struct receipt_key **out,
	    struct muster_err *e);

/* Wipes and frees k (NULL: nothing). */
void	receipt_key_free(struct receipt_key *k);

/*
 * The receipt of r as the JSON object the device keeps,
 * {"body":"<base64 of the signed JSON>","sig":"<base64 Ed25519>"}:
 * a malloc'd NUL-terminated string into *json.  0 or MUSTER_EINTERNAL.
 */
int	receipt_sign(const struct receipt_key *k, const struct receipt *r,
	    char **json, struct muster_err *e);

/*
 * Checks a receipt presented as body (base64, blen bytes) and sig
 * (base64): the signature by k over the decoded bytes first, then
 * parses them into *r.  MUSTER_EDATA when malformed or oversized,
 * MUSTER_ETRUST when the signature does not verify.
 */
int	receipt_verify(const struct receipt_key *k, const char *body,
	    size_t blen, const char *sig, size_t slen, struct receipt *r,
	    struct muster_err *e);

#endif
