/* cfgread: libconfig field walkers; see include/muster/cfgread.h. */
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "muster/buf.h"
#include "muster/cfgread.h"
#include "muster/cfgscan.h"
#include "muster/timefmt.h"

int
cfgread_line(const config_setting_t *s)
{
	unsigned line;

	if (s == NULL)
		return 0;
	line = config_setting_source_line(s);
	return line > INT_MAX ? 0 : (int)line;
}

int
cfgread_line1(const config_setting_t *s)
{
	int line = cfgread_line(s);

	return line == 0 ? 1 : line;
}

int
cfgread_in(const char *const *names, const char *s)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, s) == 0)
			return 1;
	return 0;
}

const char *
cfgread_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	default:
		return "something else";
	}
}

int
cfgread_str(const config_setting_t *s, size_t size, const char **v)
{
	const char *r;

	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING ||
	    (r = config_setting_get_string(s)) == NULL)
		return CFGREAD_ETYPE;
	*v = r;
	return strlen(r) >= size ? CFGREAD_ELONG : 0;
}

int
cfgread_str_copy(const config_setting_t *s, char *buf, size_t size)
{
	const char *v;
	int rc;

	if (size == 0)
		return CFGREAD_ELONG;
	buf[0] = '\0';
	if ((rc = cfgread_str(s, size, &v)) != 0)
		return rc;
	memcpy(buf, v, strlen(v) + 1);
	return 0;
}

int
cfgread_int(const config_setting_t *s, long long lo, long long hi,
    long long *v)
{
	if (s == NULL || (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64))
		return CFGREAD_ETYPE;
	*v = config_setting_get_int64(s);
	return *v < lo || *v > hi ? CFGREAD_ERANGE : 0;
}

int
cfgread_bool(const config_setting_t *s, int *v)
{
	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_BOOL)
		return CFGREAD_ETYPE;
	*v = config_setting_get_bool(s) != 0;
	return 0;
}

int
cfgread_err(struct muster_err *e, int code, const char *file,
    const config_setting_t *s, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	int line = cfgread_line(s);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		return err_set(e, code, "%s:%d: %s", file, line, msg);
	return err_set(e, code, "%s: %s", file, msg);
}

int
cfgread_doc_err(const struct cfgread_doc *d, const config_setting_t *s,
    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = err_vat(d->e, MUSTER_EDATA, d->name, cfgread_line1(s), fmt, ap);
	va_end(ap);
	return rc;
}

int
cfgread_doc_known(const struct cfgread_doc *d, const config_setting_t *g,
    const char *label, const char *const *names)
{
	config_setting_t *s;
	const char *n;
	int i, len = config_setting_length(g);

	for (i = 0; i < len; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		n = s != NULL ? config_setting_name(s) : NULL;
		if (n == NULL || !cfgread_in(names, n))
			return cfgread_doc_err(d, s, "%s%sunknown field "
			    "\"%.64s\"", label != NULL ? label : "",
			    label != NULL ? ": " : "", n != NULL ? n : "?");
	}
	return 0;
}

config_setting_t *
cfgread_doc_member(const struct cfgread_doc *d, const config_setting_t *g,
    const char *label, const char *name, int type, const char *want,
    int *rc)
{
	config_setting_t *s;
	int t;

	*rc = 0;
	if ((s = config_setting_get_member(g, name)) == NULL) {
		*rc = cfgread_doc_err(d, g, "%s%smissing field \"%s\"",
		    label != NULL ? label : "", label != NULL ? ": " : "",
		    name);
		return NULL;
	}
	t = config_setting_type(s);
	if (t != type && !(type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64)) {
		*rc = cfgread_doc_err(d, s, "%s%sfield \"%s\" must be %s",
		    label != NULL ? label : "", label != NULL ? ": " : "",
		    name, want);
		return NULL;
	}
	return s;
}

const char *
cfgread_doc_string(const struct cfgread_doc *d, const config_setting_t *g,
    const char *label, const char *name, config_setting_t **sp, int *rc)
{
	if ((*sp = cfgread_doc_member(d, g, label, name, CONFIG_TYPE_STRING,
	    "a string", rc)) == NULL)
		return NULL;
	return config_setting_get_string(*sp);
}

int
cfgread_doc_type(const struct cfgread_doc *d, const config_setting_t *top,
    const char *type_name)
{
	config_setting_t *s;
	const char *v;
	int rc;

	if ((v = cfgread_doc_string(d, top, NULL, "type", &s, &rc)) == NULL)
		return rc;
	if (strcmp(v, type_name) != 0)
		return cfgread_doc_err(d, s, "type must be \"%s\"", type_name);
	return 0;
}

int
cfgread_doc_version(const struct cfgread_doc *d, const config_setting_t *top,
    int max, int64_t *version, time_t *expires)
{
	config_setting_t *s;
	const char *v;
	int rc;

	if ((s = cfgread_doc_member(d, top, NULL, "version", CONFIG_TYPE_INT,
	    "an integer", &rc)) == NULL)
		return rc;
	*version = config_setting_get_int64(s);
	if (*version < 1 || *version > max)
		return cfgread_doc_err(d, s, "version %" PRId64 " out of range "
		    "(1 to %d)", *version, max);
	if ((v = cfgread_doc_string(d, top, NULL, "expires", &s, &rc)) == NULL)
		return rc;
	if (timefmt_parse(v, expires) != 0)
		return cfgread_doc_err(d, s, "bad expires (want "
		    "YYYY-MM-DDTHH:MM:SSZ, UTC)");
	return 0;
}

int
cfgread_doc_parse(const char *name, const char *what, const char *buf,
    size_t len, size_t max, int max_depth,
    int (*parse)(const struct cfgread_doc *, const config_setting_t *,
    void *), void *arg, struct muster_err *e)
{
	struct cfgread_doc d;
	config_t cfg;
	int rc;

	d.name = name != NULL ? name : what;
	d.e = e;
	config_init(&cfg);
	if ((rc = cfgscan_read_doc(&cfg, d.name, what, buf, len, max,
	    max_depth, e)) == 0)
		rc = parse(&d, config_root_setting(&cfg), arg);
	config_destroy(&cfg);
	return rc;
}

struct kind_arg {
	const struct cfgread_kind	*k;
	void				*obj;
};

/* The checks every document kind starts with, then the kind's parse. */
static int
kind_parse(const struct cfgread_doc *d, const config_setting_t *top,
    void *arg)
{
	const struct kind_arg *ka = arg;
	int rc;

	if ((rc = cfgread_doc_known(d, top, NULL, ka->k->fields)) != 0 ||
	    (rc = cfgread_doc_type(d, top, ka->k->type)) != 0)
		return rc;
	return ka->k->parse(d, top, ka->obj);
}

int
cfgread_doc_load(const struct cfgread_kind *k, const char *name,
    const void *buf, size_t len, void *obj, struct muster_err *e)
{
	struct kind_arg ka = { k, obj };
	int rc;

	memset(obj, 0, k->size);
	if ((rc = cfgread_doc_parse(name, k->what, buf, len, k->max,
	    k->max_depth, kind_parse, &ka, e)) != 0)
		memset(obj, 0, k->size);
	return rc;
}

int
cfgread_doc_emit(const struct cfgread_kind *k, struct buf *b, void *back,
    char **out, size_t *outlen, struct muster_err *e)
{
	struct muster_err pe;
	char name[64];
	int rc;

	if ((rc = buf_check(b, k->what, e)) != 0)
		return rc;
	/* Never hand out a document that would not read back. */
	snprintf(name, sizeof name, "new %s", k->what);
	if (cfgread_doc_load(k, name, b->s, b->len, back, &pe) != 0)
		return err_set(e, MUSTER_EUSAGE, "%s", pe.msg);
	*out = buf_take(b, outlen);
	return 0;
}
