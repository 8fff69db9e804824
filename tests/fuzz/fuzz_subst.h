/*
 * fuzz_subst.h: the placeholders fuzz_server and fuzz_http replace in an
 * input before it reaches the server, for what a fuzzer cannot sign:
 *
 *	@PDEV@ @FDEV@	the enrolled personnel and family device ids
 *	@NOW@		the time now, YYYY-MM-DDTHH:MM:SSZ
 *	@ADMIN@		the admin token
 *	@TOKP@ @TOKF@	a new personnel or family token signed by the org key
 *	@TOKID@		the id of the last token made
 *	@REV@		a revocation of a new token id, signed by the org key
 *	@NEWKEY@	the public key (base64) of a new device key
 *	@PROF@ @PSIG@	a personnel profile (base64) and its signature
 *			(a JSON string), made with the org key
 *
 * each at most SUBST_MAX times per input.  @SIG@ (a device signature) is
 * each harness's own, since what is signed depends on how it frames the
 * request.  "New" things come from a counter, so a run is repeatable from
 * its start.  Include after fuzz_srv.h (the org key is fsrv's); call
 * fuzz_subst_init() once, after fuzz_srv_init().
 */
#ifndef MUSTER_FUZZ_SUBST_H
#define MUSTER_FUZZ_SUBST_H

#include "muster/timefmt.h"

#define SUBST_MAX	8		/* replacements of one placeholder */
#define TEXT_MAX	(128 * 1024)	/* no replacement past this length */

static const char profile_text[] =
    "id = \"fuzz-personnel\";\n"
    "serial = 1;\n"
    "expires = \"2099-01-01T00:00:00Z\";\n"
    "scope = \"personnel\";\n"
    "rules = (\n"
    "\t{ id = \"cloud-messaging-off\"; kind = \"setting\"; "
    "severity = \"critical\";\n"
    "\t  title = \"Cloud Messaging is off\"; namespace = \"secure\";\n"
    "\t  key = \"mi_cloud_messaging_enabled\"; expect = \"0\"; "
    "action = \"remediate\"; }\n"
    ");\n";

static char *prof_b64;		/* @PROF@ */
static char *prof_sig;		/* @PSIG@, JSON-escaped */
static unsigned long counter;	/* new token ids and device keys */
static char last_token_id[TOKEN_ID_HEX] = "0000000000000000";
static unsigned char new_pk[crypto_sign_PUBLICKEYBYTES];
static unsigned char new_sk[crypto_sign_SECRETKEYBYTES];

/* A growing byte buffer, NUL-terminated. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

static inline void
buf_add(struct buf *b, const void *s, size_t n)
{
	char *np;

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((np = realloc(b->p, b->cap)) == NULL)
			abort();
		b->p = np;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* s as the inside of a JSON string; malloc'd. */
static inline char *
json_escape(const char *s)
{
	char *o, *p;

	if ((o = malloc(strlen(s) * 6 + 1)) == NULL)
		abort();
	for (p = o; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\') {
			*p++ = '\\';
			*p++ = *s;
		} else if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if ((unsigned char)*s < 0x20)
			p += sprintf(p, "\\u%04x", (unsigned char)*s);
		else
			*p++ = *s;
	}
	*p = '\0';
	return o;
}

static inline void
make_profile(void)
{
	struct muster_err e;
	struct profile *p = NULL;
	char tc[SIG_TRUSTED_MAX], *sig = NULL;
	size_t n, siglen;

	if (profile_parse("fuzz", profile_text, strlen(profile_text), &p,
	    &e) != 0 || profile_trusted_comment(p, tc, sizeof tc) != 0 ||
	    sig_sign(fsrv.org_sk, profile_text, strlen(profile_text), tc,
	    NULL, &sig, &siglen, &e) != 0) {
		fprintf(stderr, "fuzz: profile: %s\n", e.msg);
		abort();
	}
	n = sodium_base64_ENCODED_LEN(strlen(profile_text),
	    sodium_base64_VARIANT_ORIGINAL);
	if ((prof_b64 = malloc(n)) == NULL)
		abort();
	sodium_bin2base64(prof_b64, n, (const unsigned char *)profile_text,
	    strlen(profile_text), sodium_base64_VARIANT_ORIGINAL);
	prof_sig = json_escape(sig);
	free(sig);
	profile_free(p);
}

static inline void
free_profile(void)
{
	free(prof_b64);
	free(prof_sig);
}

static inline void
new_token(enum profile_scope scope, char **out)
{
	struct muster_err e;
	struct token t;

	memset(&t, 0, sizeof t);
	snprintf(t.id, sizeof t.id, "%016lx", ++counter);
	memcpy(last_token_id, t.id, sizeof last_token_id);
	snprintf(t.server, sizeof t.server, "https://127.0.0.1:8443");
	snprintf(t.pin, sizeof t.pin,
	    "sha256//4GNqy/7jNrj2xws2r4IXoiqaPQnF5Heac7v62jkYR5o=");
	t.scope = scope;
	snprintf(t.unit, sizeof t.unit, "IAF/25-WING");
	snprintf(t.person, sizeof t.person, "P-%lu", counter);
	t.expires = time(NULL) + 86400;
	if (token_sign(&t, fsrv.org_sk, out, &e) != 0)
		abort();
}

static inline void
new_revocation(char **out)
{
	struct muster_err e;
	struct revocation r;

	memset(&r, 0, sizeof r);
	snprintf(r.id, sizeof r.id, "%016lx", ++counter);
	r.time = time(NULL);
	if (token_revocation_sign(&r, fsrv.org_sk, out, &e) != 0)
		abort();
}

/*
 * in[0..n) with the placeholders of the first list replaced, as
 * fuzz_server.c does; *newkey is set when a new device key was made.
 */
static inline void
substitute(const char *in, size_t n, int *newkey, struct buf *b)
{
	static const char *const names[] = { "@PDEV@", "@FDEV@", "@NOW@",
	    "@ADMIN@", "@TOKP@", "@TOKF@", "@REV@", "@NEWKEY@", "@PROF@",
	    "@PSIG@", "@TOKID@", NULL };
	unsigned char seed[crypto_sign_SEEDBYTES];
	char now[TIMEFMT_LEN], key[64], *tmp;
	const char *v;
	size_t i = 0, k, used[11] = { 0 };

	buf_add(b, "", 0);
	while (i < n) {
		k = 0;
		if (in[i] == '@')
			for (; names[k] != NULL; k++)
				if (n - i >= strlen(names[k]) &&
				    memcmp(in + i, names[k],
				    strlen(names[k])) == 0 &&
				    used[k] < SUBST_MAX && b->len < TEXT_MAX)
					break;
		if (in[i] != '@' || names[k] == NULL) {
			buf_add(b, in + i, 1);
			i++;
			continue;
		}
		used[k]++;
		i += strlen(names[k]);
		tmp = NULL;
		switch (k) {
		case 0: v = FUZZ_PDEV; break;
		case 1: v = FUZZ_FDEV; break;
		case 2:
			timefmt_format(time(NULL), now);
			v = now;
			break;
		case 3: v = FUZZ_ADMIN; break;
		case 4: new_token(SCOPE_PERSONNEL, &tmp); v = tmp; break;
		case 5: new_token(SCOPE_FAMILY, &tmp); v = tmp; break;
		case 6: new_revocation(&tmp); v = tmp; break;
		case 7:
			if (!*newkey) {
				memset(seed, 0, sizeof seed);
				memcpy(seed, &counter, sizeof counter);
				counter++;
				crypto_sign_seed_keypair(new_pk, new_sk, seed);
				*newkey = 1;
			}
			sodium_bin2base64(key, sizeof key, new_pk,
			    sizeof new_pk, sodium_base64_VARIANT_ORIGINAL);
			v = key;
			break;
		case 8: v = prof_b64; break;
		case 9: v = prof_sig; break;
		default: v = last_token_id; break;
		}
		buf_add(b, v, strlen(v));
		free(tmp);
	}
}

/* Makes the signed profile of @PROF@ and @PSIG@, freed at exit. */
static inline void
fuzz_subst_init(void)
{
	make_profile();
	atexit(free_profile);
}

#endif
