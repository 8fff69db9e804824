/* cfgread: libconfig field walkers; see include/muster/cfgread.h. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include "muster/cfgread.h"

int
cfgread_line(const config_setting_t *s)
{
	unsigned line;

	if (s == NULL)
		return 0;
	line = config_setting_source_line(s);
	return line > INT_MAX ? 0 : (int)line;
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
