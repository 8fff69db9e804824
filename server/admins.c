/* admins: named administrators and their roles; see admins.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "admins.h"

static const struct {
	const char	*name;
	unsigned	 bit;
} roles[] = {
	{ "publish", ADMINS_ROLE_PUBLISH },
	{ "revoke", ADMINS_ROLE_REVOKE },
	{ "read", ADMINS_ROLE_READ },
	{ "metrics", ADMINS_ROLE_METRICS },
};

int
admins_name_ok(const char *name)
{
	size_t i, n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > STORE_ADMIN_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			continue;
		if (i > 0 && (c == '.' || c == '_' || c == '-'))
			continue;
		return 0;
	}
	return 1;
}

int
admins_roles_parse(const char *s, unsigned *out, struct muster_err *e)
{
	const char *p = s, *end;
	size_t i, n;
	unsigned r = 0;

	*out = 0;
	if (strcmp(s, "all") == 0) {
		*out = ADMINS_ROLE_ALL;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof roles / sizeof roles[0]; i++)
			if (strlen(roles[i].name) == n &&
			    strncmp(p, roles[i].name, n) == 0)
				break;
		if (i == sizeof roles / sizeof roles[0])
			return err_set(e, MUSTER_EUSAGE, "roles are publish, "
			    "revoke, read, metrics or all, comma-separated, "
			    "not \"%.*s\"", (int)(n > 32 ? 32 : n), p);
		r |= roles[i].bit;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*out = r;
	return 0;
}

const char *
admins_roles_format(unsigned r, char buf[ADMINS_ROLES_MAX])
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (r & roles[i].bit) {
			if (buf[0] != '\0')
				strcat(buf, ",");
			strcat(buf, roles[i].name);
		}
	if (buf[0] == '\0')
		strcpy(buf, "-");
	return buf;
}

const char *
admins_role_name(unsigned role)
{
	size_t i;

	for (i = 0; i < sizeof roles / sizeof roles[0]; i++)
		if (role == roles[i].bit)
			return roles[i].name;
	return "?";
}

void
admins_token_hash(const char *tok, size_t n, unsigned char hash[STORE_HASH_LEN])
{
	crypto_generichash(hash, STORE_HASH_LEN, (const unsigned char *)tok,
	    n, NULL, 0);
}

void
admins_token_new(char tok[ADMINS_TOKEN_HEX], unsigned char hash[STORE_HASH_LEN])
{
	unsigned char raw[ADMINS_TOKEN_BYTES];

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(tok, ADMINS_TOKEN_HEX, raw, sizeof raw);
	sodium_memzero(raw, sizeof raw);
	admins_token_hash(tok, ADMINS_TOKEN_HEX - 1, hash);
}

int
admins_match(const struct store_admin *list, size_t n,
    const char *authorization, struct admins_who *who)
{
	unsigned char h[STORE_HASH_LEN];
	size_t i, len, found = n;

	memset(who, 0, sizeof *who);
	if (authorization == NULL || strncmp(authorization, "Bearer ", 7) != 0)
		return 0;
	authorization += 7;
	len = strnlen(authorization, ADMINS_CREDENTIAL_MAX + 1);
	if (len == 0 || len > ADMINS_CREDENTIAL_MAX)
		return 0;
	admins_token_hash(authorization, len, h);
	/* Every hash compared, none skipped once one matched. */
	for (i = 0; i < n; i++)
		if (sodium_memcmp(h, list[i].hash, sizeof h) == 0)
			found = i;
	sodium_memzero(h, sizeof h);
	if (found == n)
		return 0;
	memcpy(who->name, list[found].name, sizeof who->name);
	who->roles = list[found].roles;
	return 1;
}

int
admins_bootstrap(struct store_adm *sa, const unsigned char hash[STORE_HASH_LEN],
    int *added, struct muster_err *e)
{
	struct store_admin a;

	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "%s", ADMINS_BOOTSTRAP_NAME);
	a.roles = ADMINS_ROLE_ALL;
	memcpy(a.hash, hash, sizeof a.hash);
	a.created = a.rotated = time(NULL);
	return store_admin_bootstrap(sa, &a, added, e);
}

int
admins_open(const char *where, const char *dir,
    const unsigned char hash[STORE_HASH_LEN], int log_ckpt,
    struct audit **out, struct muster_err *e)
{
	struct audit *a = NULL;
	struct store_adm *sa;
	int rc, added = 0;

	*out = NULL;
	if ((rc = audit_open_store(where, dir, log_ckpt, &a, e)) != 0)
		return rc;
	if ((rc = audit_key_check(a, dir, e)) != 0) {
		audit_close(a);
		return rc;
	}
	sa = audit_lock(a);
	rc = admins_bootstrap(sa, hash, &added, e);
	audit_unlock(a);
	if (rc == 0 && added)
		rc = audit_log(a, "server.cfg", "local", "bootstrap",
		    "administrator " ADMINS_BOOTSTRAP_NAME " (admin_token_hash)",
		    "ok: roles publish,revoke,read,metrics", e);
	if (rc != 0) {
		audit_close(a);
		return rc;
	}
	*out = a;
	return 0;
}
