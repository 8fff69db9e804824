/*
 * trust_fixture.h: what test_root, test_manifest and test_token2 share,
 * header-only: a pool of minisign keys made in the test (named by the
 * letters a..l), roots built from them and signed by any of them.
 * Include after cmocka.h.
 */
#ifndef TRUST_FIXTURE_H
#define TRUST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/root.h"
#include "muster/sigset.h"

#define FX_NKEYS	12	/* keys 'a' .. 'l' */
#define FX_PIN		"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define FX_PIN2		"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define FX_SERVER	"https://127.0.0.1:8443"
#define FX_YEAR		((time_t)365 * 86400)

struct fx {
	struct sig_pubkey	 pk[FX_NKEYS];
	struct sig_seckey	*sk[FX_NKEYS];
};

static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	int i;

	if (f == NULL)
		return -1;
	for (i = 0; i < FX_NKEYS; i++)
		if (sig_keygen(&f->pk[i], &f->sk[i], NULL) != 0)
			return -1;
	*state = f;
	return 0;
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	int i;

	for (i = 0; i < FX_NKEYS; i++)
		sig_seckey_free(f->sk[i]);
	free(f);
	return 0;
}

static void
fx_keyset(struct root_keyset *ks, const struct fx *f, const char *keys,
    unsigned threshold)
{
	memset(ks, 0, sizeof *ks);
	for (; *keys != '\0'; keys++)
		ks->keys[ks->nkeys++] = f->pk[*keys - 'a'];
	ks->threshold = threshold;
}

/*
 * A root of version v: root keys (letters) with threshold thr, policy
 * keys with pthr, one revocation and one enroll key; expires in a year.
 */
static void
fx_root(struct root *r, const struct fx *f, int64_t v, const char *root,
    unsigned thr, const char *policy, unsigned pthr, const char *revocation,
    const char *enroll)
{
	memset(r, 0, sizeof *r);
	r->version = v;
	r->expires = time(NULL) + FX_YEAR;
	strcpy(r->server, FX_SERVER);
	strcpy(r->pins[0], FX_PIN);
	r->npins = 1;
	fx_keyset(&r->roles[ROOT_ROLE_ROOT], f, root, thr);
	fx_keyset(&r->roles[ROOT_ROLE_POLICY], f, policy, pthr);
	fx_keyset(&r->roles[ROOT_ROLE_REVOCATION], f, revocation, 1);
	fx_keyset(&r->roles[ROOT_ROLE_ENROLL], f, enroll, 1);
}

/* Signs every byte of ss with the keys named, trusted comment tc. */
static void
fx_sign(struct sigset *ss, const struct fx *f, const char *signers,
    const char *tc)
{
	struct muster_err e;

	for (; *signers != '\0'; signers++)
		if (sigset_sign(ss, f->sk[*signers - 'a'], tc, &e) != 0)
			fail_msg("sigset_sign: %s", e.msg);
}

/*
 * r formatted and signed by signers with "muster-root version=tcv" (r's
 * own version when tcv is 0); the wire version is left unset (0).
 */
static __attribute__((noinline)) struct sigset *
fx_signed_root(const struct root *r, const struct fx *f, const char *signers,
    int64_t tcv)
{
	struct sigset *ss = NULL;
	struct muster_err e;
	char *text = NULL, tc[ROOT_TC_MAX];
	size_t len;

	if (root_format(r, &text, &len, &e) != 0)
		fail_msg("root_format: %s", e.msg);
	if (sigset_new(text, len, ROOT_MAX, 0, &ss, &e) != 0)
		fail_msg("sigset_new: %s", e.msg);
	free(text);
	assert_int_equal(root_trusted_comment(tcv != 0 ? tcv : r->version, tc,
	    sizeof tc), 0);
	fx_sign(ss, f, signers, tc);
	return ss;
}

/* A malloc'd copy of s with the first "from" replaced by "to". */
static __attribute__((noinline)) char *
fx_replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out;

	if (p == NULL)
		fail_msg("\"%s\" not in the text", from);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, s, (size_t)(p - s));
	strcpy(out + (p - s), to);
	strcat(out, p + strlen(from));
	return out;
}

#endif
