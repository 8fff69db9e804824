/* cfgscan: checks before libconfig parses untrusted text; see cfgscan.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/ascii.h"
#include "muster/cfgscan.h"
#include "muster/esc.h"

#define QUOTE_SHOW	40
#define QUOTE_SIZE	ESC_SIZE(QUOTE_SHOW)

struct scan {
	const char		*name;
	const char		*what;
	int			 max_depth;
	struct muster_err	*e;
};

/* Refuses NUL bytes and any line starting (after blanks) with '@'. */
static int
prescan_lines(struct scan *c, const char *buf, size_t len)
{
	const char *nul;
	size_t i;
	int line = 1, bol = 1;

	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (i = 0; buf + i < nul; i++)
			if (buf[i] == '\n')
				line++;
		return err_at(c->e, MUSTER_EDATA, c->name, line,
		    "NUL byte in %s", c->what);
	}
	for (i = 0; i < len; i++) {
		switch (buf[i]) {
		case '\n':
			line++;
			bol = 1;
			break;
		case ' ': case '\t': case '\r': case '\f': case '\v':
			break;
		case '@':
			if (bol)
				return err_at(c->e, MUSTER_EDATA, c->name,
				    line, "directive \"@\" not allowed (a %s "
				    "cannot @include)", c->what);
			break;
		default:
			bol = 0;
			break;
		}
	}
	return 0;
}

static int
is_tokchar(int ch)
{
	return ascii_alnum(ch) || ch == '_' || ch == '*' || ch == '.' ||
	    ch == '+' || ch == '-';
}

/*
 * Checks one word of the file (a name, a number or junk).  libconfig 1.5
 * truncates an integer that does not fit its type without a word; refuse
 * it instead.  Returns 0 (with an integer's value in *val, else 0) or
 * MUSTER_EDATA.
 */
static int
check_number(struct scan *c, const char *t, size_t n, int line,
    long long *val)
{
	uint64_t v = 0, lim;
	size_t i = 0;
	int neg = 0, hex = 0, big = 0, over = 0, d, base = 10;
	char q[QUOTE_SIZE];

	*val = 0;
	if (t[i] == '+' || t[i] == '-')
		neg = t[i++] == '-';
	if (i >= n || !ascii_digit((unsigned char)t[i]))
		return 0;	/* a name, a float like .5, or junk */
	if (t[i] == '0' && i + 1 < n && (t[i + 1] == 'x' || t[i + 1] == 'X')) {
		hex = 1;
		base = 16;
		i += 2;
	}
	for (; i < n; i++) {
		d = hex ? ascii_hexval((unsigned char)t[i]) :
		    (ascii_digit((unsigned char)t[i]) ? t[i] - '0' : -1);
		if (d < 0)
			break;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			over = 1;
		else
			v = v * (uint64_t)base + (uint64_t)d;
	}
	if (!hex && i < n && (t[i] == '.' || t[i] == 'e' || t[i] == 'E'))
		return 0;	/* a float */
	if ((n - i == 1 && t[i] == 'L') ||
	    (n - i == 2 && t[i] == 'L' && t[i + 1] == 'L'))
		big = 1;
	/* Anything else after the digits is a libconfig syntax error. */
	if (hex)
		lim = big ? INT64_MAX : INT32_MAX;
	else if (big)
		lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	else
		lim = neg ? (uint64_t)INT32_MAX + 1 : INT32_MAX;
	if (over || v > lim)
		return err_at(c->e, MUSTER_EDATA, c->name, line,
		    "integer %s out of range%s",
		    esc_bytes(t, n, QUOTE_SHOW, ESC_QUOTED, q), big ? "" :
		    " (write a 64-bit integer with an L suffix)");
	*val = neg ? (long long)(0 - v) : (long long)v;
	return 0;
}

/* What came before a string, for prescan_tokens. */
enum prev_token {
	PT_NONE,
	PT_ASSIGN,	/* = : */
	PT_OPEN,	/* ( { [ */
	PT_COMMA,
	PT_STRING,
	PT_OTHER,
};

/*
 * Follows libconfig's comments and strings far enough to refuse nesting
 * deeper than the limit, integers libconfig would truncate, and
 * unterminated strings and comments.  It also refuses a string where the
 * grammar cannot take one (after a value, a ';', a '{', or a ',' outside
 * [ ] and ( )): libconfig 1.5 refuses that too but leaks the string, and
 * the agent is a long-lived process.
 */
static int
prescan_tokens(struct scan *c, const char *buf, size_t len)
{
	char stack[CFGSCAN_DEPTH_MAX];
	/* Settings named so far in the group open at each depth. */
	size_t members[CFGSCAN_DEPTH_MAX + 1] = { 0 };
	enum prev_token prev = PT_NONE;
	size_t i = 0, start;
	long long v;
	int line = 1, depth = 0, first, rc;

	while (i < len) {
		switch (buf[i]) {
		case '\n':
			line++;
			i++;
			break;
		case ' ': case '\t': case '\r': case '\f': case '\v':
			i++;
			break;
		case '#':
			while (i < len && buf[i] != '\n')
				i++;
			break;
		case '/':
			if (i + 1 < len && buf[i + 1] == '/') {
				while (i < len && buf[i] != '\n')
					i++;
				break;
			}
			if (i + 1 < len && buf[i + 1] == '*') {
				const char *q = cfgscan_comment(c->name,
				    buf + i, buf + len, &line, c->e);

				if (q == NULL)
					return MUSTER_EDATA;
				i = (size_t)(q - buf);
				break;
			}
			prev = PT_OTHER;
			i++;
			break;
		case '"':
			if (prev != PT_ASSIGN && prev != PT_STRING &&
			    !(prev == PT_OPEN && depth > 0 &&
			    stack[depth - 1] != '{') &&
			    !(prev == PT_COMMA && depth > 0 &&
			    stack[depth - 1] != '{'))
				return err_at(c->e, MUSTER_EDATA, c->name,
				    line, "syntax error (unexpected string)");
			first = line;
			for (i++; i < len && buf[i] != '"'; i++) {
				if (buf[i] == '\\' && i + 1 < len)
					i++;
				if (buf[i] == '\n')
					line++;
			}
			if (i >= len)
				return err_at(c->e, MUSTER_EDATA, c->name,
				    first, "unterminated string");
			i++;
			prev = PT_STRING;
			break;
		case '(': case '{': case '[':
			if (depth >= c->max_depth)
				return err_at(c->e, MUSTER_EDATA, c->name,
				    line, "nested deeper than %d levels",
				    c->max_depth);
			stack[depth++] = buf[i++];
			members[depth] = 0;
			prev = PT_OPEN;
			break;
		case ')': case '}': case ']':
			if (depth > 0)
				depth--;
			i++;
			prev = PT_OTHER;
			break;
		case '=': case ':':
			/*
			 * libconfig looks for a duplicate name before it adds
			 * a setting to a group: quadratic in the group's size
			 * (seconds for a 256 KiB profile of "aN=1;").
			 */
			if (++members[depth] > CFGSCAN_GROUP_MAX)
				return err_at(c->e, MUSTER_EDATA, c->name,
				    line, "more than %d settings in one group",
				    CFGSCAN_GROUP_MAX);
			i++;
			prev = PT_ASSIGN;
			break;
		case ',':
			i++;
			prev = PT_COMMA;
			break;
		default:
			prev = PT_OTHER;
			if (!is_tokchar((unsigned char)buf[i])) {
				i++;
				break;
			}
			for (start = i; i < len &&
			    is_tokchar((unsigned char)buf[i]); i++)
				;
			if ((rc = check_number(c, buf + start, i - start,
			    line, &v)) < 0)
				return rc;
			break;
		}
	}
	return 0;
}

int
cfgscan_check(const char *name, const char *what, const char *buf,
    size_t len, int max_depth, struct muster_err *e)
{
	struct scan c = { name, what, max_depth, e };
	int rc;

	if (max_depth < 1 || max_depth > CFGSCAN_DEPTH_MAX)
		return err_set(e, MUSTER_EINTERNAL, "%s: bad depth limit",
		    name);
	if ((rc = prescan_lines(&c, buf, len)) < 0)
		return rc;
	return prescan_tokens(&c, buf, len);
}

const char *
cfgscan_comment(const char *name, const char *p, const char *end,
    int *line, struct muster_err *e)
{
	int first = *line;

	for (p += 2; p < end; p++) {
		if (*p == '\n')
			(*line)++;
		else if (*p == '*' && p + 1 < end && p[1] == '/')
			return p + 2;
	}
	err_at(e, MUSTER_EDATA, name, first, "unterminated comment");
	return NULL;
}

int
cfgscan_lines(const char *name, const char *what, const char *buf,
    size_t len, struct muster_err *e)
{
	struct scan c = { name, what, CFGSCAN_DEPTH_MAX, e };

	return prescan_lines(&c, buf, len);
}

int
cfgscan_integer(const char *name, int line, const char *t, size_t n,
    long long *v, struct muster_err *e)
{
	struct scan c = { name, NULL, CFGSCAN_DEPTH_MAX, e };

	return check_number(&c, t, n, line, v);
}

/*
 * 1 if every string setting at or under s has its value and every member
 * of a group its name.  libconfig 1.5 does not check its strdup calls: on
 * a failed one it keeps the setting with a NULL string and says nothing.
 * Nothing deeper than CFGSCAN_DEPTH_MAX is looked at.
 */
static int
whole(const config_setting_t *s, int depth)
{
	config_setting_t *el;
	int i, n, type = config_setting_type(s);

	if (type == CONFIG_TYPE_STRING)
		return config_setting_get_string(s) != NULL;
	if ((type != CONFIG_TYPE_GROUP && type != CONFIG_TYPE_LIST &&
	    type != CONFIG_TYPE_ARRAY) || depth > CFGSCAN_DEPTH_MAX)
		return 1;
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		if ((el = config_setting_get_elem(s, (unsigned)i)) == NULL ||
		    (type == CONFIG_TYPE_GROUP &&
		    config_setting_name(el) == NULL) || !whole(el, depth + 1))
			return 0;
	}
	return 1;
}

/*
 * After config_read_string succeeded: 0, or MUSTER_EINTERNAL ("name: out
 * of memory while parsing") when libconfig 1.5 lost a string or a name to
 * a failed allocation, which it does not report.
 */
static int
cfgscan_whole(const config_t *cfg, const char *name, struct muster_err *e)
{
	if (config_root_setting(cfg) == NULL ||
	    !whole(config_root_setting(cfg), 0))
		return err_set(e, MUSTER_EINTERNAL, "%s: out of memory while "
		    "parsing", name);
	return 0;
}

int
cfgscan_read(config_t *cfg, const char *name, const char *what,
    const char *buf, size_t len, int max_depth, struct muster_err *e)
{
	char *text;
	int rc;

	if ((rc = cfgscan_check(name, what, buf, len, max_depth, e)) < 0)
		return rc;
	if ((text = malloc(len + 1)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "%s: out of memory", name);
	memcpy(text, buf, len);
	text[len] = '\0';
	if (config_read_string(cfg, text) != CONFIG_TRUE)
		rc = err_set(e, MUSTER_EDATA, "%s:%d: %s", name,
		    config_error_line(cfg), config_error_text(cfg) != NULL ?
		    config_error_text(cfg) : "syntax error");
	else
		rc = cfgscan_whole(cfg, name, e);
	sodium_memzero(text, len);	/* a bundle holds a bearer token */
	free(text);
	return rc;
}

int
cfgscan_read_max(config_t *cfg, const char *name, const char *what,
    const char *buf, size_t len, size_t max, int max_depth,
    struct muster_err *e)
{
	if (len > max)
		return err_set(e, MUSTER_EDATA, "%s: %zu bytes, more than the "
		    "limit of %zu", name, len, max);
	if (buf == NULL) {
		if (len != 0)
			return err_set(e, MUSTER_EINTERNAL, "%s: no buffer",
			    name);
		buf = "";
	}
	return cfgscan_read(cfg, name, what, buf, len, max_depth, e);
}

int
cfgscan_read_doc(config_t *cfg, const char *name, const char *what,
    const char *buf, size_t len, size_t max, int max_depth,
    struct muster_err *e)
{
	if (buf == NULL || len == 0)
		return err_set(e, MUSTER_EDATA, "%s: empty %s", name, what);
	return cfgscan_read_max(cfg, name, what, buf, len, max, max_depth, e);
}
