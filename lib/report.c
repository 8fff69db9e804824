/* report: the report, built and validated; see muster/report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/timefmt.h"

/* The model as printable ASCII, at most PROTO_MODEL_MAX bytes. */
static void
clean_model(const char *in, char out[PROTO_MODEL_MAX + 1])
{
	size_t i;

	for (i = 0; in[i] != '\0' && i < PROTO_MODEL_MAX; i++)
		out[i] = (unsigned char)in[i] >= 0x20 &&
		    (unsigned char)in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

/* The stale words in the order a report lists them. */
static const struct {
	unsigned	 bit;
	const char	*word;
} stale_words[] = {
	{ REPORT_STALE_TRUST, PROTO_STALE_TRUST },
	{ REPORT_STALE_POLICY, PROTO_STALE_POLICY },
	{ REPORT_STALE_CONSENT, PROTO_STALE_CONSENT },
};
#define NSTALE	(sizeof stale_words / sizeof stale_words[0])

/* Adds k: v to o, taking v; -1 if v is NULL or it fails. */
static int
put(json_t *o, const char *k, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, k, v);
}

static char *
build(const struct report_in *in, int details, size_t *len)
{
	json_t *root = NULL, *results = NULL, *r, *stale;
	char t[TIMEFMT_LEN], model[PROTO_MODEL_MAX + 1], *out = NULL;
	int family = in->scope == SCOPE_FAMILY;
	size_t i;

	timefmt_format(in->time, t);
	if ((root = json_object()) == NULL ||
	    put(root, "device", json_string(in->device)) != 0 ||
	    put(root, "seq", json_integer(in->seq)) != 0 ||
	    put(root, "time", json_string(t)) != 0 ||
	    put(root, "profile", json_string(in->profile)) != 0 ||
	    put(root, "serial", json_integer(in->serial)) != 0 ||
	    put(root, "status", json_string(in->compliant ?
	    PROTO_STATUS_COMPLIANT : PROTO_STATUS_NONCOMPLIANT)) != 0 ||
	    put(root, "dropped", json_integer(in->dropped)) != 0)
		goto out;
	if ((in->stale & REPORT_STALE_ALL) != 0) {
		if ((stale = json_array()) == NULL ||
		    json_object_set_new(root, "stale", stale) != 0)
			goto out;
		for (i = 0; i < NSTALE; i++)
			if ((in->stale & stale_words[i].bit) != 0 &&
			    json_array_append_new(stale, json_string(
			    stale_words[i].word)) != 0)
				goto out;
	}
	if (family && put(root, "privacy", json_string(PROTO_PRIVACY_RR)) != 0)
		goto out;
	if (!family && in->model != NULL) {
		clean_model(in->model, model);
		if (put(root, "model", json_string(model)) != 0)
			goto out;
	}
	if ((results = json_array()) == NULL)
		goto out;
	for (i = 0; i < in->nresults; i++) {
		if ((r = json_object()) == NULL ||
		    json_array_append_new(results, r) != 0)
			goto out;
		if (put(r, "rule", json_string(in->results[i].rule)) != 0 ||
		    put(r, "result", json_string(in->results[i].result)) != 0)
			goto out;
		if (!family && details && in->results[i].detail != NULL &&
		    put(r, "detail", json_string(in->results[i].detail)) != 0)
			goto out;
	}
	if (json_object_set(root, "results", results) != 0)
		goto out;
	out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
	if (out != NULL)
		*len = strlen(out);
out:
	json_decref(results);
	json_decref(root);
	return out;
}

/* A family report as randomized response makes it (muster/rr.h). */
static int
family_shape_ok(const struct report_in *in)
{
	size_t i, nfail = 0;

	for (i = 0; i < in->nresults; i++) {
		if (strcmp(in->results[i].result, PROTO_RESULT_FAIL) == 0)
			nfail++;
		else if (strcmp(in->results[i].result, PROTO_RESULT_PASS) != 0)
			return 0;
	}
	return (nfail == 0) == (in->compliant != 0);
}

int
report_build(const struct report_in *in, char **out, size_t *len,
    struct muster_err *e)
{
	char *s;

	*out = NULL;
	*len = 0;
	if (in->scope == SCOPE_FAMILY && !family_shape_ok(in))
		return err_set(e, MUSTER_EDATA, "report: a family report "
		    "carries randomized results only (pass or fail, the "
		    "status compliant exactly when none fails)");
	if ((s = build(in, 1, len)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "report: cannot build the "
		    "JSON (out of memory or not UTF-8)");
	if (*len > PROTO_REPORT_MAX) {
		free(s);
		if ((s = build(in, 0, len)) == NULL)
			return err_set(e, MUSTER_EINTERNAL, "report: cannot "
			    "build the JSON");
		if (*len > PROTO_REPORT_MAX) {
			free(s);
			return err_set(e, MUSTER_EDATA, "report: %zu bytes "
			    "even without details, over the limit of %d",
			    *len, PROTO_REPORT_MAX);
		}
	}
	*out = s;
	return 0;
}

int
report_restamp(const char *buf, size_t len, int64_t seq, time_t t,
    char **out, size_t *outlen, struct muster_err *e)
{
	json_t *root;
	char ts[TIMEFMT_LEN];
	int rc = 0;

	*out = NULL;
	*outlen = 0;
	if (len > PROTO_REPORT_MAX || (root = json_loadb(buf, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return err_set(e, MUSTER_EDATA, "report: not JSON");
	timefmt_format(t, ts);
	/* Set in place: the members keep their order (report_build's). */
	if (!json_is_object(root) ||
	    !json_is_integer(json_object_get(root, "seq")) ||
	    !json_is_string(json_object_get(root, "time")) || seq < 1)
		rc = err_set(e, MUSTER_EDATA, "report: missing seq or time");
	else if (json_object_set_new(root, "seq", json_integer(seq)) != 0 ||
	    json_object_set_new(root, "time", json_string(ts)) != 0 ||
	    (*out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII)) == NULL)
		rc = err_set(e, MUSTER_EINTERNAL, "report: cannot build the "
		    "JSON");
	else
		*outlen = strlen(*out);
	json_decref(root);
	return rc;
}

int
report_answer_parse(const char *body, size_t len, struct report_answer *a)
{
	const char *p;
	json_t *o;
	size_t n = 0;

	memset(a, 0, sizeof *a);
	if (body == NULL || len > REPORT_ANSWER_MAX ||
	    (o = proto_json_parse(body, len, 1)) == NULL)
		return -1;
	if ((p = proto_json_str(o, "policy", &n)) != NULL &&
	    proto_policy_tag_ok(p))
		memcpy(a->policy, p, n + 1);
	if ((p = proto_json_str(o, "server_time", &n)) == NULL ||
	    n != PROTO_TIME_LEN || timefmt_parse(p, &a->server_time) != 0)
		a->server_time = 0;
	json_decref(o);
	return 0;
}

int
report_summary(const char *buf, size_t len, struct report_summary *s,
    struct muster_err *e)
{
	json_t *root;
	json_int_t seq = 0, dropped = 0;
	const char *t = NULL, *st = NULL;
	int rc = 0;

	memset(s, 0, sizeof s[0]);
	if (len > PROTO_REPORT_MAX || (root = json_loadb(buf, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return err_set(e, MUSTER_EDATA, "report: not JSON");
	if (json_unpack(root, "{s:I,s:s,s:s,s:I}", "seq", &seq, "time", &t,
	    "status", &st, "dropped", &dropped) != 0 || seq < 1 ||
	    dropped < 0 || strlen(t) >= sizeof s->time ||
	    strlen(st) >= sizeof s->status)
		rc = err_set(e, MUSTER_EDATA, "report: missing or bad fields");
	else {
		s->seq = seq;
		s->dropped = dropped;
		memcpy(s->time, t, strlen(t) + 1);
		memcpy(s->status, st, strlen(st) + 1);
	}
	json_decref(root);
	return rc;
}

/* o's member key, an integer from 1 to INT64_MAX, into *v; 0 or -1. */
static int
positive(json_t *o, const char *key, int64_t *v)
{
	long long x;

	if (proto_json_int(o, key, 1, INT64_MAX, &x) != 0)
		return -1;
	*v = x;
	return 0;
}

static int
result_ok(const char *res)
{
	return strcmp(res, PROTO_RESULT_PASS) == 0 ||
	    strcmp(res, PROTO_RESULT_FAIL) == 0 ||
	    strcmp(res, PROTO_RESULT_REMEDIATED) == 0 ||
	    strcmp(res, PROTO_RESULT_ERROR) == 0;
}

/* A "stale" list: 1..NSTALE distinct known words; their bits in *bits. */
static int
stale_check(json_t *a, unsigned *bits)
{
	json_t *it;
	const char *w;
	size_t i, k;

	*bits = 0;
	if (!json_is_array(a) || json_array_size(a) < 1 ||
	    json_array_size(a) > NSTALE)
		return -1;
	json_array_foreach(a, i, it) {
		if ((w = json_string_value(it)) == NULL)
			return -1;
		for (k = 0; k < NSTALE; k++)
			if (strcmp(w, stale_words[k].word) == 0)
				break;
		if (k == NSTALE || (*bits & stale_words[k].bit) != 0)
			return -1;
		*bits |= stale_words[k].bit;
	}
	return 0;
}

/* The checks of report_validate; NULL, or what is wrong. */
static const char *
check(json_t *o, enum profile_scope scope, const char *device,
    struct report_fields *r, int *oom)
{
	static const char *const personnel[] = { "device", "seq", "time",
	    "profile", "serial", "status", "dropped", "stale", "model",
	    "results", NULL };
	static const char *const family[] = { "device", "seq", "time",
	    "profile", "serial", "status", "dropped", "stale", "privacy",
	    "results", NULL };
	static const char *const res_personnel[] = { "rule", "result",
	    "detail", NULL };
	static const char *const res_family[] = { "rule", "result", NULL };
	int pers = scope == SCOPE_PERSONNEL;
	const char *s, **rules = NULL, **fail = NULL;
	const char *why = NULL;
	json_t *results, *it;
	long long v;
	size_t i, n, nfail = 0;

	if (!proto_json_keys_ok(o, pers ? personnel : family))
		return pers ? "unknown field" :
		    "unknown field (family reports carry no details)";
	if ((s = proto_json_str(o, "device", NULL)) == NULL ||
	    strcmp(s, device) != 0)
		return "device does not match Muster-Device";
	r->device = s;
	if (positive(o, "seq", &r->seq) != 0)
		return "seq must be a positive integer";
	if ((s = proto_json_str(o, "time", NULL)) == NULL ||
	    timefmt_parse(s, &r->time) != 0)
		return "time must be YYYY-MM-DDTHH:MM:SSZ";
	if ((s = proto_json_str(o, "profile", NULL)) == NULL || !proto_id_ok(s))
		return "malformed profile id";
	r->profile = s;
	if (positive(o, "serial", &r->serial) != 0)
		return "serial must be a positive integer";
	if ((s = proto_json_str(o, "status", NULL)) == NULL ||
	    (strcmp(s, PROTO_STATUS_COMPLIANT) != 0 &&
	    strcmp(s, PROTO_STATUS_NONCOMPLIANT) != 0))
		return "status must be compliant or noncompliant";
	r->compliant = strcmp(s, PROTO_STATUS_COMPLIANT) == 0;
	if (json_object_get(o, "dropped") != NULL &&
	    proto_json_int(o, "dropped", 0, INT64_MAX, &v) != 0)
		return "dropped must be a count";
	if (json_object_get(o, "stale") != NULL &&
	    stale_check(json_object_get(o, "stale"), &r->stale) != 0)
		return "stale must list trust, policy or consent, each once";
	if (!pers && ((s = proto_json_str(o, "privacy", NULL)) == NULL ||
	    strcmp(s, PROTO_PRIVACY_RR) != 0))
		return "family reports must be randomized (privacy "
		    PROTO_PRIVACY_RR ")";
	if (json_object_get(o, "model") != NULL &&
	    ((s = proto_json_str(o, "model", NULL)) == NULL ||
	    strlen(s) > PROTO_MODEL_MAX || !proto_text_ok(s)))
		return "malformed model";
	results = json_object_get(o, "results");
	if (!json_is_array(results) ||
	    (n = json_array_size(results)) > PROFILE_MAX_RULES)
		return "results must be a list of at most 4096";
	if (n > 0 && ((rules = calloc(n, sizeof *rules)) == NULL ||
	    (fail = calloc(n, sizeof *fail)) == NULL)) {
		*oom = 1;
		why = "out of memory";
		goto out;
	}
	json_array_foreach(results, i, it) {
		const char *res;

		if (!json_is_object(it) || !proto_json_keys_ok(it,
		    pers ? res_personnel : res_family)) {
			why = pers ? "malformed result" :
			    "malformed result (family results carry no detail)";
			goto out;
		}
		if ((s = proto_json_str(it, "rule", NULL)) == NULL ||
		    !proto_id_ok(s)) {
			why = "malformed rule id";
			goto out;
		}
		if ((res = proto_json_str(it, "result", NULL)) == NULL ||
		    !result_ok(res)) {
			why = "result must be pass, fail, remediated or error";
			goto out;
		}
		if (!pers && strcmp(res, PROTO_RESULT_PASS) != 0 &&
		    strcmp(res, PROTO_RESULT_FAIL) != 0) {
			why = "family results are pass or fail (randomized)";
			goto out;
		}
		if (json_object_get(it, "detail") != NULL &&
		    ((s = proto_json_str(it, "detail", NULL)) == NULL ||
		    strlen(s) > PROTO_DETAIL_MAX)) {
			why = "malformed detail";
			goto out;
		}
		rules[i] = proto_json_str(it, "rule", NULL);
		if (strcmp(res, PROTO_RESULT_FAIL) == 0 ||
		    strcmp(res, PROTO_RESULT_ERROR) == 0)
			fail[nfail++] = rules[i];
	}
	if (!pers && (nfail == 0) != (r->compliant != 0)) {
		why = "family status must be compliant exactly when no result "
		    "fails";
		goto out;
	}
	if (proto_sort_has_dup(rules, n)) {
		why = "a rule is reported twice";
		goto out;
	}
	r->failing = fail;
	r->nfailing = nfail;
	fail = NULL;
out:
	free(rules);
	free(fail);
	return why;
}

int
report_validate(json_t *o, enum profile_scope scope, const char *device,
    struct report_fields *r, const char **why)
{
	int oom = 0;

	memset(r, 0, sizeof *r);
	*why = NULL;
	if ((*why = check(o, scope, device, r, &oom)) == NULL)
		return 0;
	memset(r, 0, sizeof *r);
	return oom ? MUSTER_EINTERNAL : MUSTER_EDATA;
}

const char *
report_stale_word(size_t i, unsigned *bit)
{
	*bit = i < NSTALE ? stale_words[i].bit : 0;
	return i < NSTALE ? stale_words[i].word : NULL;
}
