/* report: deterministic report JSON; see agent/report.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/profile.h"
#include "report.h"

/* The model as printable ASCII, at most REPORT_MODEL_MAX bytes. */
static void
clean_model(const char *in, char out[REPORT_MODEL_MAX + 1])
{
	size_t i;

	for (i = 0; in[i] != '\0' && i < REPORT_MODEL_MAX; i++)
		out[i] = (unsigned char)in[i] >= 0x20 &&
		    (unsigned char)in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

/* Adds k: v to o, taking v; -1 if v is NULL or it fails. */
static int
put(json_t *o, const char *k, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, k, v);
}

static char *
build(const struct report_in *in, int details, size_t *len)
{
	json_t *root = NULL, *results = NULL, *r;
	char t[21], model[REPORT_MODEL_MAX + 1], *out = NULL;
	int family = in->scope == SCOPE_FAMILY;
	size_t i;

	profile_time_format(in->time, t);
	if ((root = json_object()) == NULL ||
	    put(root, "device", json_string(in->device)) != 0 ||
	    put(root, "seq", json_integer(in->seq)) != 0 ||
	    put(root, "time", json_string(t)) != 0 ||
	    put(root, "profile", json_string(in->profile)) != 0 ||
	    put(root, "serial", json_integer(in->serial)) != 0 ||
	    put(root, "status", json_string(in->compliant ? "compliant" :
	    "noncompliant")) != 0 ||
	    put(root, "dropped", json_integer(in->dropped)) != 0)
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

int
report_build(const struct report_in *in, char **out, size_t *len,
    struct muster_err *e)
{
	char *s;

	*out = NULL;
	*len = 0;
	if ((s = build(in, 1, len)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "report: cannot build the "
		    "JSON (out of memory or not UTF-8)");
	if (*len > REPORT_MAX) {
		free(s);
		if ((s = build(in, 0, len)) == NULL)
			return err_set(e, MUSTER_EINTERNAL, "report: cannot "
			    "build the JSON");
		if (*len > REPORT_MAX) {
			free(s);
			return err_set(e, MUSTER_EDATA, "report: %zu bytes "
			    "even without details, over the limit of %d",
			    *len, REPORT_MAX);
		}
	}
	*out = s;
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
	if (len > REPORT_MAX || (root = json_loadb(buf, len,
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
