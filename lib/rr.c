/* rr: the family member's randomized response; see muster/rr.h. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/rr.h"

_Static_assert(PROTO_RR_KEEP_NUM * 4 == PROTO_RR_KEEP_DEN * 3,
    "RR_EPSILON and RR_ODDS are for p = 3/4");
_Static_assert((1ull << 32) % PROTO_RR_KEEP_DEN == 0,
    "p must be exact in 32 bits");

double
rr_keep(void)
{
	return (double)PROTO_RR_KEEP_NUM / PROTO_RR_KEEP_DEN;
}

double
rr_sqrt(double x)
{
	double g = x > 1 ? x : 1;
	int i;

	if (!(x > 0))
		return 0;
	for (i = 0; i < 200; i++) {
		double n = (g + x / g) / 2;

		if (n >= g)
			break;
		g = n;
	}
	return g;
}

/* Hashes a length and the bytes, so that no two field lists collide. */
static void
put_bytes(crypto_generichash_state *h, const void *p, size_t n)
{
	unsigned char len[4] = { (unsigned char)(n >> 24),
	    (unsigned char)(n >> 16), (unsigned char)(n >> 8),
	    (unsigned char)n };

	crypto_generichash_update(h, len, sizeof len);
	if (n > 0)
		crypto_generichash_update(h, p, n);
}

static void
put_str(crypto_generichash_state *h, const char *s)
{
	put_bytes(h, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 0);
}

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_cidr(const void *a, const void *b)
{
	const struct cidr *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if ((c = memcmp(x->addr, y->addr, sizeof x->addr)) != 0)
		return c;
	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

/* A sorted list of strings; unsorted (the order as given) without memory. */
static void
put_list(crypto_generichash_state *h, char **v, size_t n)
{
	char **s = n > 0 ? malloc(n * sizeof *s) : NULL;
	size_t i;

	put_bytes(h, "L", 1);
	if (s != NULL) {
		memcpy(s, v, n * sizeof *s);
		qsort(s, n, sizeof *s, cmp_strp);
		v = s;
	}
	for (i = 0; i < n; i++)
		put_str(h, v[i]);
	free(s);
}

void
rr_fingerprint(const struct rule *r, unsigned char fp[RR_FP_BYTES])
{
	crypto_generichash_state h;
	struct cidr *c;
	size_t i;

	crypto_generichash_init(&h, NULL, 0, RR_FP_BYTES);
	put_str(&h, "muster-rule-question-v1");
	put_str(&h, profile_kind_name(r->kind));
	switch (r->kind) {
	case RULE_MODEL_BAN:
		put_str(&h, r->manufacturer);
		put_list(&h, r->models, r->nmodels);
		put_str(&h, r->min_build);
		break;
	case RULE_SETTING:
		put_str(&h, r->namespace);
		put_str(&h, r->key);
		put_str(&h, r->expect);
		break;
	case RULE_PACKAGE_BAN:
		put_list(&h, r->packages, r->npackages);
		break;
	case RULE_OS_MIN:
		put_str(&h, r->min_version);
		break;
	case RULE_EGRESS_DENY:
		c = r->ncidrs > 0 ? malloc(r->ncidrs * sizeof *c) : NULL;
		if (c != NULL) {
			memcpy(c, r->cidrs, r->ncidrs * sizeof *c);
			qsort(c, r->ncidrs, sizeof *c, cmp_cidr);
		}
		for (i = 0; i < r->ncidrs; i++) {
			const struct cidr *x = c != NULL ? &c[i] : &r->cidrs[i];
			unsigned char b[18];

			b[0] = (unsigned char)x->family;
			b[1] = (unsigned char)x->prefix;
			memcpy(b + 2, x->addr, 16);
			put_bytes(&h, b, sizeof b);
		}
		free(c);
		break;
	}
	crypto_generichash_final(&h, fp, RR_FP_BYTES);
}

void
rr_fp_hex(const unsigned char fp[RR_FP_BYTES], char hex[RR_FP_HEX])
{
	sodium_bin2hex(hex, RR_FP_HEX, fp, RR_FP_BYTES);
}

/* 32 bits of BLAKE2b keyed with key over a label, fp and one byte. */
static uint32_t
prf(const unsigned char key[RR_KEY_BYTES], const char *label,
    const unsigned char fp[RR_FP_BYTES], unsigned char b)
{
	crypto_generichash_state h;
	unsigned char out[16];
	uint32_t v;

	crypto_generichash_init(&h, key, RR_KEY_BYTES, sizeof out);
	crypto_generichash_update(&h, (const unsigned char *)label,
	    strlen(label) + 1);
	crypto_generichash_update(&h, fp, RR_FP_BYTES);
	crypto_generichash_update(&h, &b, 1);
	crypto_generichash_final(&h, out, sizeof out);
	v = (uint32_t)out[0] << 24 | (uint32_t)out[1] << 16 |
	    (uint32_t)out[2] << 8 | out[3];
	sodium_memzero(out, sizeof out);
	sodium_memzero(&h, sizeof h);
	return v;
}

int
rr_answer(const unsigned char key[RR_KEY_BYTES],
    const unsigned char fp[RR_FP_BYTES], int truth, int in_budget)
{
	truth = truth != 0;
	if (!in_budget)
		return (int)(prf(key, PROTO_PRIVACY_RR "-coin", fp, 0) & 1u);
	if (prf(key, PROTO_PRIVACY_RR, fp, (unsigned char)truth) %
	    PROTO_RR_KEEP_DEN < PROTO_RR_KEEP_NUM)
		return truth;
	return !truth;
}

static double
clip(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void
finish(struct rr_estimate *o, int64_t n, double raw, double var)
{
	o->n = n;
	o->raw = raw;
	o->est = clip(raw);
	o->half = n > 0 ? RR_Z95 * rr_sqrt(var / (double)n) : 1;
	o->lo = clip(raw - o->half);
	o->hi = clip(raw + o->half);
	o->shown = n > 0 && o->half <= RR_SHOW_HALF;
}

void
rr_estimate_rate(int64_t n, int64_t yes, struct rr_estimate *out)
{
	double p = rr_keep(), d = 2 * p - 1;

	memset(out, 0, sizeof *out);
	if (n <= 0) {
		finish(out, 0, 0, 1);
		return;
	}
	finish(out, n, ((double)yes / (double)n - (1 - p)) / d,
	    p * (1 - p) / (d * d));
}

double
rr_status_weight(size_t nrules, size_t nfail)
{
	double p = rr_keep(), d = 2 * p - 1, w = 1;
	size_t i;

	for (i = 0; i < nrules; i++)
		w *= i < nfail ? -(1 - p) / d : p / d;
	return w;
}

/* E[f^2] of one ok rule: a^2 p + b^2 (1-p), 1.75 for p = 3/4. */
static double
second_moment(void)
{
	double p = rr_keep(), d = 2 * p - 1, a = p / d, b = (1 - p) / d;

	return a * a * p + b * b * (1 - p);
}

void
rr_estimate_status(int64_t n, double sum_weight, size_t nrules,
    struct rr_estimate *out)
{
	double m = second_moment(), v = 1;
	size_t i;

	memset(out, 0, sizeof *out);
	if (n <= 0 || nrules > RR_STATUS_MAX_RULES) {
		finish(out, n > 0 ? n : 0, n > 0 ? sum_weight / (double)n : 0,
		    1e12);
		out->shown = 0;
		return;
	}
	for (i = 0; i < nrules; i++)
		v *= m;
	finish(out, n, sum_weight / (double)n, v - 1);
}

int64_t
rr_min_devices(size_t nrules, int status)
{
	double p = rr_keep(), d = 2 * p - 1, v, m = second_moment();
	double k = RR_Z95 / RR_SHOW_HALF;
	size_t i;

	if (!status)
		v = p * (1 - p) / (d * d);
	else {
		if (nrules > RR_STATUS_MAX_RULES)
			return 0;
		for (v = 1, i = 0; i < nrules; i++)
			v *= m;
		v -= 1;
	}
	return (int64_t)(k * k * v) + 1;
}
