/*
 * fuzz_profile: the policy profile loader (lib/profile.c, lib/cfgtree.c)
 * on arbitrary bytes, as the agent and the server get them after a
 * signature check and as `muster-enroll lint` gets them before one.
 *
 * Whatever profile_parse accepts must also survive the path a real
 * profile takes: signed with a Muster trusted comment made from it, then
 * verified and parsed again by profile_verify into the same profile.  The
 * same bytes also go to the CIDR and time parsers on their own.
 */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sig_pubkey org_pk;
static struct sig_seckey *org_sk;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	fuzz_org_key(&org_pk, &org_sk);
	return 0;
}

/* Two parses of the same bytes must agree. */
static void
same_profile(const struct profile *a, const struct profile *b)
{
	size_t i;

	FUZZ_ASSERT(strcmp(a->id, b->id) == 0 && a->serial == b->serial &&
	    a->expires == b->expires && a->scope == b->scope &&
	    a->nrules == b->nrules && a->report_interval == b->report_interval,
	    "profile_verify parsed another profile than profile_parse");
	for (i = 0; i < a->nrules; i++)
		FUZZ_ASSERT(strcmp(a->rules[i].id, b->rules[i].id) == 0 &&
		    a->rules[i].kind == b->rules[i].kind,
		    "rule %zu differs", i);
}

/* Sign what parsed, then verify and parse it the way the agent does. */
static void
sign_and_verify(const uint8_t *data, size_t size, const struct profile *p)
{
	struct sig_signature s;
	struct profile *q = NULL;
	struct muster_err e;
	char tc[SIG_TRUSTED_MAX], *sig = NULL;
	size_t siglen;
	int rc;

	FUZZ_ASSERT(profile_trusted_comment(p, tc, sizeof tc) == 0,
	    "no trusted comment for profile %s", p->id);
	FUZZ_ASSERT(sig_trusted_ok(tc), "trusted comment \"%s\" unsignable",
	    tc);
	rc = sig_sign(org_sk, data, size, tc, NULL, &sig, &siglen, &e);
	FUZZ_ASSERT(rc == 0, "sig_sign: %s", e.msg);
	rc = profile_verify("profile", (const char *)data, size, "sig", sig,
	    siglen, &org_pk, &q, &s, &e);
	FUZZ_ASSERT(rc == 0, "profile_verify of a profile that parsed: %s",
	    e.msg);
	FUZZ_ASSERT(strcmp(s.trusted, tc) == 0, "trusted comment changed");
	same_profile(p, q);
	profile_free(q);
	free(sig);
}

/* The CIDR and time parsers on the whole input as one string. */
static void
small_parsers(const uint8_t *data, size_t size)
{
	char *s, buf[INET6_ADDRSTRLEN + 8], tbuf[TIMEFMT_LEN];
	char addr[INET6_ADDRSTRLEN];
	struct cidr c, c2;
	time_t t, t2;

	if (size > 128)
		return;
	s = fuzz_strndup(data, size);
	if (profile_cidr_parse(s, &c) == 0) {
		FUZZ_ASSERT(c.prefix <= (c.family == AF_INET ? 32u : 128u),
		    "prefix %u", c.prefix);
		FUZZ_ASSERT(inet_ntop(c.family, c.addr, addr, sizeof addr) !=
		    NULL, "inet_ntop");
		snprintf(buf, sizeof buf, "%s/%u", addr, c.prefix);
		FUZZ_ASSERT(profile_cidr_parse(buf, &c2) == 0 &&
		    c2.family == c.family && c2.prefix == c.prefix &&
		    memcmp(c2.addr, c.addr, sizeof c.addr) == 0,
		    "CIDR %s does not read back as %s", s, buf);
	}
	if (timefmt_parse(s, &t) == 0) {
		timefmt_format(t, tbuf);
		FUZZ_ASSERT(strcmp(tbuf, s) == 0, "time %s formats as %s", s,
		    tbuf);
		FUZZ_ASSERT(timefmt_parse(tbuf, &t2) == 0 && t2 == t,
		    "time %s does not read back", tbuf);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct profile *p = NULL;
	struct muster_err e;
	size_t i;
	int rc;

	small_parsers(data, size);
	rc = profile_parse("fuzz.cfg", (const char *)data, size, &p, &e);
	if (rc != 0) {
		FUZZ_ASSERT(p == NULL, "a failed parse returned a profile");
		FUZZ_ASSERT(rc == MUSTER_EDATA || rc == MUSTER_EINTERNAL,
		    "unexpected error %d", rc);
		FUZZ_ASSERT(memchr(e.msg, '\0', sizeof e.msg) != NULL &&
		    e.msg[0] != '\0', "no message");
		return 0;
	}
	FUZZ_ASSERT(p != NULL && p->nrules > 0 && p->serial >= 1,
	    "accepted a profile without rules or serial");
	for (i = 0; i < p->nrules; i++)
		FUZZ_ASSERT(p->rules[i].id != NULL && p->rules[i].title != NULL,
		    "rule %zu without id or title", i);
	(void)profile_scope_name(p->scope);
	sign_and_verify(data, size, p);
	profile_free(p);
	return 0;
}
