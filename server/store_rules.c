/*
 * store_rules: decisions both store backends share; see store_rules.h.
 */
#include <string.h>

#include <sodium.h>

#include "muster/profile.h"
#include "muster/sig.h"
#include "store_rules.h"

int
store_rules_hex_id(const char *id, size_t len)
{
	size_t i;

	if (strlen(id) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		    (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

int
store_rules_revoke_id(const char *id, int *token, struct muster_err *e)
{
	if (store_rules_hex_id(id, TOKEN_ID_HEX - 1))
		*token = 1;
	else if (store_rules_hex_id(id, DEVICE_ID_HEX - 1))
		*token = 0;
	else
		return err_set(e, MUSTER_EDATA, "not a device or token id");
	return 0;
}

int
store_rules_known(struct store *st, const struct store_device *d,
    enum store_put *res, struct muster_err *e)
{
	struct store_device have;
	int rc;

	if ((rc = store_device_get(st, d->id, &have, e)) != 0)
		return rc;
	if (sodium_memcmp(have.pk, d->pk, sizeof d->pk) != 0)
		return err_set(e, MUSTER_ETRUST, "device %s is known with "
		    "another key", d->id);
	if (have.revoked)
		return err_set(e, MUSTER_ETRUST, "device revoked");
	*res = STORE_DUPLICATE;
	return 0;
}

int
store_rules_token_free(struct store *st, const struct store_device *d,
    struct muster_err *e)
{
	int rc, used, revoked;

	if ((rc = store_token_get(st, d->token_id, &used, &revoked, e)) != 0)
		return rc;
	if (revoked)
		return err_set(e, MUSTER_ETRUST, "token revoked");
	if (used)
		return err_set(e, MUSTER_ETRUST, "token used by another device");
	return 0;
}

int
store_rules_profile_hash(const char *bytes, size_t len, size_t siglen,
    unsigned char hash[STORE_HASH_LEN], struct muster_err *e)
{
	if (len > PROFILE_MAX_BYTES || siglen > SIG_FILE_MAX)
		return err_set(e, MUSTER_EDATA, "profile too large");
	crypto_generichash(hash, STORE_HASH_LEN, (const unsigned char *)bytes,
	    len, NULL, 0);
	return 0;
}

int
store_rules_profile_newer(const struct profile *p, int64_t serial, int same,
    enum store_put *res)
{
	if (same) {
		*res = STORE_DUPLICATE;
		return 0;
	}
	if (p->serial <= serial) {
		*res = STORE_REPLAY;
		return 0;
	}
	return 1;
}

int
store_rules_profile_put(struct store *st, const struct profile *p,
    const char *bytes, size_t len, const char *sig, size_t siglen,
    struct muster_err *e)
{
	enum store_put res;
	int rc;

	rc = store_profile_publish(st, p, bytes, len, sig, siglen, &res, e);
	if (rc == 0 && res == STORE_REPLAY)
		rc = err_set(e, MUSTER_ETRUST, "profile %s: serial %lld is "
		    "not above the published one", p->id,
		    (long long)p->serial);
	return rc;
}
