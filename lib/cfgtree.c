/*
 * cfgtree: libconfig 1.5's grammar without libconfig; see cfgtree.h.
 *
 * The scanner follows libconfig's scanner.l token for token (longest
 * match, flex's rule order for ties) and the parser its grammar.y by
 * recursive descent, including where libconfig puts a setting's line:
 * a named setting's is its name's; a list or array element's is the
 * scanner's line after the element's token, or, for a string (which may
 * be continued by the next string), after the token that follows it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "muster/ascii.h"
#include "muster/cfgscan.h"
#include "muster/cfgtree.h"

#define NUM_MAX		128	/* a float's text copied for strtod */

enum tok {
	T_EOF,
	T_NAME,
	T_STRING,
	T_INT,		/* decimal or hex, no L */
	T_INT64,	/* with L or LL */
	T_FLOAT,
	T_BOOL,
	T_ASSIGN,	/* = : */
	T_TERM,		/* ; */
	T_COMMA,
	T_GOPEN, T_GCLOSE,
	T_AOPEN, T_ACLOSE,
	T_LOPEN, T_LCLOSE,
	T_GARBAGE,
};

struct token {
	enum tok	 t;
	const char	*s;	/* its text (a string's between the quotes) */
	size_t		 n;
	long long	 ival;
	double		 fval;
	int		 line;	/* the scanner's line after it */
};

struct rd {
	struct cfgtree		*t;
	const char		*name;
	const char		*p, *end;	/* what is left to scan */
	int			 line;
	int			 depth, max_depth;
	struct token		 la;		/* the lookahead */
	uint32_t		*stack;		/* children of open containers */
	size_t			 nstack, capstack;
	struct muster_err	*e;
};

static int
syntax(struct rd *r, int line, const char *what)
{
	return err_at(r->e, MUSTER_EDATA, r->name, line, "%s", what);
}

static int
oom(struct rd *r)
{
	return err_set(r->e, MUSTER_EINTERNAL, "%s: out of memory", r->name);
}

/* flex's character classes, in the C locale whatever the process's. */
static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

static int
is_name_first(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    ch == '*';
}

static int
is_name_char(int ch)
{
	return is_name_first(ch) || is_digit(ch) || ch == '-' || ch == '_';
}

static size_t
digits(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && is_digit((unsigned char)*q))
		q++;
	return (size_t)(q - p);
}

/* [eE][-+]?[0-9]+ at p: its length, or 0. */
static size_t
exponent(const char *p, const char *end)
{
	const char *q = p;
	size_t d;

	if (q >= end || (*q != 'e' && *q != 'E'))
		return 0;
	q++;
	if (q < end && (*q == '+' || *q == '-'))
		q++;
	if ((d = digits(q, end)) == 0)
		return 0;
	return (size_t)(q - p) + d;
}

/* L or LL at p: its length. */
static size_t
lsuffix(const char *p, const char *end)
{
	if (p >= end || *p != 'L')
		return 0;
	return p + 1 < end && p[1] == 'L' ? 2 : 1;
}

/*
 * The value of the integer token tok (decimal with an optional sign, or
 * 0x hex, either with an L suffix when big), refused where libconfig
 * would truncate it: cfgscan's rule, one for both readers.
 */
static int
int_value(struct rd *r, struct token *tok, int big)
{
	int rc;

	if ((rc = cfgscan_integer(r->name, r->line, tok->s, tok->n,
	    &tok->ival, r->e)) < 0)
		return rc;
	tok->t = big ? T_INT64 : T_INT;
	return 0;
}

/*
 * A number at r->p: the longest of libconfig's integer, integer64, hex,
 * hex64 and float patterns.  Sets tok and returns 0, 1 if none matches
 * (the character is garbage), or MUSTER_EDATA.
 */
static int
scan_number(struct rd *r, struct token *tok)
{
	const char *p = r->p, *end = r->end, *s = p, *q;
	size_t d1, best = 0, len, x;
	int kind = 0;	/* 1 integer, 2 hex, 3 float */
	char num[NUM_MAX], *copy;

	if (*s == '+' || *s == '-')
		s++;
	d1 = digits(s, end);
	if (d1 > 0) {
		best = (size_t)(s - p) + d1;
		best += lsuffix(p + best, end);
		kind = 1;
	}
	if (s == p && end - p > 2 && p[0] == '0' && (p[1] == 'x' ||
	    p[1] == 'X') && ascii_hexval((unsigned char)p[2]) >= 0) {
		for (len = 2; p + len < end &&
		    ascii_hexval((unsigned char)p[len]) >= 0; len++)
			;
		len += lsuffix(p + len, end);
		if (len > best) {
			best = len;
			kind = 2;
		}
	}
	/* [-+]?[0-9]*\.[0-9]*(exp)?  and  [-+]?[0-9]+(\.[0-9]*)?exp */
	q = s + d1;
	if (q < end && *q == '.') {
		q++;
		q += digits(q, end);
		q += exponent(q, end);
	} else if (d1 > 0 && (x = exponent(q, end)) > 0)
		q += x;
	else
		q = p;
	if ((size_t)(q - p) > best) {
		best = (size_t)(q - p);
		kind = 3;
	}
	if (kind == 0)
		return 1;
	tok->s = p;
	tok->n = best;
	r->p += best;
	if (kind != 3)
		return int_value(r, tok, p[best - 1] == 'L');
	copy = best < sizeof num ? num : malloc(best + 1);
	if (copy == NULL)
		return oom(r);
	memcpy(copy, p, best);
	copy[best] = '\0';
	tok->fval = strtod(copy, NULL);	/* libconfig: atof */
	if (copy != num)
		free(copy);
	tok->t = T_FLOAT;
	return 0;
}

/*
 * A string's body after its opening quote: to the closing quote, a
 * backslash taking the next character with it (as libconfig's escapes
 * do, a \" included).  Returns 0 or MUSTER_EDATA.
 */
static int
scan_string(struct rd *r, struct token *tok)
{
	const char *p = r->p + 1, *end = r->end;
	int first = r->line;

	for (; p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		if (*p == '\n')
			r->line++;
	}
	if (p >= end)
		return err_at(r->e, MUSTER_EDATA, r->name, first,
		    "unterminated string");
	tok->t = T_STRING;
	tok->s = r->p + 1;
	tok->n = (size_t)(p - tok->s);
	r->p = p + 1;
	return 0;
}

/* Skips blanks and comments.  Returns 0 or MUSTER_EDATA. */
static int
skip(struct rd *r)
{
	const char *p = r->p, *end = r->end;

	while (p < end) {
		switch (*p) {
		case '\n':
			r->line++;
			/* FALLTHROUGH */
		case ' ': case '\t': case '\r': case '\f':
			p++;
			continue;
		case '#':
			/* flex's $: a newline must end it, else '#' is
			 * garbage (scan finds no token in it). */
			if (memchr(p, '\n', (size_t)(end - p)) == NULL)
				goto out;
			break;
		case '/':
			if (p + 1 < end && p[1] == '/') {
				if (memchr(p, '\n', (size_t)(end - p)) == NULL)
					goto out;
				break;
			}
			if (p + 1 < end && p[1] == '*') {
				if ((p = cfgscan_comment(r->name, p, end,
				    &r->line, r->e)) == NULL)
					return MUSTER_EDATA;
				continue;
			}
			goto out;
		default:
			goto out;
		}
		/* A # or // comment, to the end of the line. */
		p = memchr(p, '\n', (size_t)(end - p));
	}
out:
	r->p = p;
	return 0;
}

/* Scans the next token into r->la.  Returns 0 or a negative error. */
static int
scan(struct rd *r)
{
	struct token *tok = &r->la;
	const char *p;
	int rc;

	if ((rc = skip(r)) < 0)
		return rc;
	memset(tok, 0, sizeof *tok);
	p = r->p;
	if (p >= r->end) {
		tok->t = T_EOF;
		goto done;
	}
	tok->s = p;
	tok->n = 1;
	switch (*p) {
	case '=': case ':': tok->t = T_ASSIGN; break;
	case ';': tok->t = T_TERM; break;
	case ',': tok->t = T_COMMA; break;
	case '{': tok->t = T_GOPEN; break;
	case '}': tok->t = T_GCLOSE; break;
	case '[': tok->t = T_AOPEN; break;
	case ']': tok->t = T_ACLOSE; break;
	case '(': tok->t = T_LOPEN; break;
	case ')': tok->t = T_LCLOSE; break;
	case '"':
		if ((rc = scan_string(r, tok)) < 0)
			return rc;
		goto done;
	default:
		if (is_name_first((unsigned char)*p)) {
			while (p < r->end && is_name_char((unsigned char)*p))
				p++;
			tok->n = (size_t)(p - r->p);
			r->p = p;
			tok->t = T_NAME;
			/* flex: {true} and {false} come before {name}. */
			if ((tok->n == 4 && strncasecmp(tok->s, "true", 4) ==
			    0) || (tok->n == 5 && strncasecmp(tok->s, "false",
			    5) == 0)) {
				tok->t = T_BOOL;
				tok->ival = tok->n == 4;
			}
			goto done;
		}
		if ((rc = scan_number(r, tok)) <= 0) {
			if (rc < 0)
				return rc;
			/*
			 * libconfig reads "serial = 5Lid = 1" as two settings;
			 * cfgscan (before libconfig, for every other file)
			 * reads one word there, and refuses some of them.
			 * Refuse them all.
			 */
			if (r->p < r->end && (is_name_first((unsigned char)*r->p)
			    || *r->p == '_'))
				return err_at(r->e, MUSTER_EDATA, r->name,
				    r->line, "syntax error (a number runs into "
				    "a name: put a blank or ';' between them)");
			goto done;
		}
		tok->t = T_GARBAGE;
		break;
	}
	r->p++;
done:
	tok->line = r->line;
	return 0;
}

/* A new node of type type with the next free index in *idx. */
static int
node_new(struct rd *r, int type, const char *name, int line, uint32_t *idx)
{
	struct cfgtree *t = r->t;
	struct cfgtree_node *n;
	size_t cap;

	if (t->nnodes == t->capnodes) {
		cap = t->capnodes * 2;
		if (cap > UINT32_MAX ||
		    (n = reallocarray(t->nodes, cap, sizeof *n)) == NULL)
			return oom(r);
		t->nodes = n;
		t->capnodes = cap;
	}
	n = &t->nodes[t->nnodes];
	memset(n, 0, sizeof *n);
	n->type = type;
	n->name = name;
	n->line = line;
	*idx = (uint32_t)t->nnodes++;
	return 0;
}

/* Puts node idx on the stack of the open container's children. */
static int
push(struct rd *r, uint32_t idx)
{
	uint32_t *s;
	size_t cap;

	if (r->nstack == r->capstack) {
		cap = r->capstack * 2;
		if ((s = reallocarray(r->stack, cap, sizeof *s)) == NULL)
			return oom(r);
		r->stack = s;
		r->capstack = cap;
	}
	r->stack[r->nstack++] = idx;
	return 0;
}

/* Moves the children of container idx, stack[base...], to its kids. */
static int
close_container(struct rd *r, uint32_t idx, size_t base)
{
	struct cfgtree *t = r->t;
	size_t n = r->nstack - base, cap;
	uint32_t *k;

	if (t->nkids + n > t->capkids) {
		for (cap = t->capkids; cap < t->nkids + n; cap *= 2)
			;
		if ((k = reallocarray(t->kids, cap, sizeof *k)) == NULL)
			return oom(r);
		t->kids = k;
		t->capkids = cap;
	}
	memcpy(t->kids + t->nkids, r->stack + base, n * sizeof *k);
	t->nodes[idx].first = (uint32_t)t->nkids;
	t->nodes[idx].n = (uint32_t)n;
	t->nkids += n;
	r->nstack = base;
	return 0;
}

/* A name's text into the string store. */
static const char *
store_name(struct rd *r, const struct token *tok)
{
	char *s = r->t->strs + r->t->nstrs;

	memcpy(s, tok->s, tok->n);
	s[tok->n] = '\0';
	r->t->nstrs += tok->n + 1;
	return s;
}

/*
 * Appends a string token's body to the string store, unescaped as
 * libconfig does: \n \r \t \f \\ \" and \xHH (a \x00 adds nothing); any
 * other backslash stays.
 */
static void
append_string(struct rd *r, const struct token *tok)
{
	const char *p = tok->s, *end = tok->s + tok->n;
	char *o = r->t->strs + r->t->nstrs;
	int hi, lo;

	while (p < end) {
		if (*p != '\\' || p + 1 >= end) {
			*o++ = *p++;
			continue;
		}
		switch (p[1]) {
		case 'n': *o++ = '\n'; p += 2; continue;
		case 'r': *o++ = '\r'; p += 2; continue;
		case 't': *o++ = '\t'; p += 2; continue;
		case 'f': *o++ = '\f'; p += 2; continue;
		case '\\': *o++ = '\\'; p += 2; continue;
		case '"': *o++ = '"'; p += 2; continue;
		case 'x': case 'X':
			if (end - p >= 4 &&
			    (hi = ascii_hexval((unsigned char)p[2])) >= 0 &&
			    (lo = ascii_hexval((unsigned char)p[3])) >= 0) {
				if (hi != 0 || lo != 0)
					*o++ = (char)(hi << 4 | lo);
				p += 4;
				continue;
			}
			break;
		default:
			break;
		}
		*o++ = *p++;
	}
	r->t->nstrs = (size_t)(o - r->t->strs);
}

/*
 * A string value, one string token or several in a row, already in the
 * lookahead.  Leaves the token after it in the lookahead.
 */
static int
string_value(struct rd *r, struct cfgtree_node *n)
{
	char *s = r->t->strs + r->t->nstrs;
	int rc;

	do {
		append_string(r, &r->la);
		if ((rc = scan(r)) < 0)
			return rc;
	} while (r->la.t == T_STRING);
	r->t->strs[r->t->nstrs++] = '\0';
	n->str = s;
	return 0;
}

static int	value(struct rd *, uint32_t, int);
static int	settings(struct rd *, uint32_t, enum tok);

/* The type a scalar token makes, or 0. */
static int
scalar_type(enum tok t)
{
	switch (t) {
	case T_STRING: return CFGTREE_STRING;
	case T_INT: return CFGTREE_INT;
	case T_INT64: return CFGTREE_INT64;
	case T_FLOAT: return CFGTREE_FLOAT;
	case T_BOOL: return CFGTREE_BOOL;
	default: return 0;
	}
}

/*
 * A container's elements up to close: values (lists) or scalars of one
 * type (arrays), separated by commas.  The opening token was consumed.
 */
static int
elements(struct rd *r, uint32_t idx, enum tok close)
{
	size_t base = r->nstack;
	uint32_t el;
	int rc, first_type = 0, type, array = close == T_ACLOSE;

	if (r->la.t == close)
		goto done;
	for (;;) {
		type = scalar_type(r->la.t);
		if (type == 0 && (array || (r->la.t != T_GOPEN &&
		    r->la.t != T_AOPEN && r->la.t != T_LOPEN)))
			return syntax(r, r->la.line, "syntax error");
		if ((rc = node_new(r, type, NULL, r->la.line, &el)) < 0 ||
		    (rc = push(r, el)) < 0 || (rc = value(r, el, 1)) < 0)
			return rc;
		if (array) {
			if (first_type == 0)
				first_type = type;
			else if (type != first_type)
				return syntax(r, r->t->nodes[el].line,
				    "mismatched element type in array");
		}
		if (r->la.t == close)
			break;
		if (r->la.t != T_COMMA)
			return syntax(r, r->la.line, "syntax error");
		if ((rc = scan(r)) < 0)
			return rc;
	}
done:
	if ((rc = close_container(r, idx, base)) < 0)
		return rc;
	r->depth--;
	return scan(r);
}

/*
 * The value in the lookahead into node idx (its type set if a scalar);
 * elem is 1 for a list or array element, whose line is set here.
 * Leaves the token after the value in the lookahead.
 */
static int
value(struct rd *r, uint32_t idx, int elem)
{
	struct cfgtree_node *n = &r->t->nodes[idx];
	enum tok t = r->la.t, close;
	int rc;

	switch (t) {
	case T_STRING:
		n->type = CFGTREE_STRING;
		if ((rc = string_value(r, n)) < 0)
			return rc;
		if (elem)	/* after the token that ended the string */
			n->line = r->la.line;
		return 0;
	case T_INT: case T_INT64: case T_BOOL:
		n->type = scalar_type(t);
		n->ival = r->la.ival;
		break;
	case T_FLOAT:
		n->type = CFGTREE_FLOAT;
		n->fval = r->la.fval;
		break;
	case T_GOPEN: case T_AOPEN: case T_LOPEN:
		if (r->depth >= r->max_depth)
			return err_at(r->e, MUSTER_EDATA, r->name, r->la.line,
			    "nested deeper than %d levels", r->max_depth);
		r->depth++;
		n->type = t == T_GOPEN ? CFGTREE_GROUP : t == T_AOPEN ?
		    CFGTREE_ARRAY : CFGTREE_LIST;
		close = t == T_GOPEN ? T_GCLOSE : t == T_AOPEN ? T_ACLOSE :
		    T_LCLOSE;
		if ((rc = scan(r)) < 0)
			return rc;
		if (t != T_GOPEN)
			return elements(r, idx, close);
		if ((rc = settings(r, idx, T_GCLOSE)) < 0)
			return rc;
		r->depth--;
		return scan(r);
	default:
		return syntax(r, r->la.line, "syntax error");
	}
	if (elem)
		n->line = r->la.line;
	return scan(r);
}

/*
 * The settings of group idx up to close (} or the end of the text),
 * leaving close in the lookahead.
 */
static int
settings(struct rd *r, uint32_t idx, enum tok close)
{
	const struct cfgtree *t = r->t;
	const char *name;
	size_t base = r->nstack, i;
	uint32_t el;
	int rc;

	while (r->la.t != close) {
		if (r->la.t != T_NAME)
			return syntax(r, r->la.line, "syntax error");
		for (i = base; i < r->nstack; i++)
			if (strlen(t->nodes[r->stack[i]].name) == r->la.n &&
			    memcmp(t->nodes[r->stack[i]].name, r->la.s,
			    r->la.n) == 0)
				return syntax(r, r->la.line,
				    "duplicate setting name");
		if (r->nstack - base >= CFGTREE_GROUP_MAX)
			return err_at(r->e, MUSTER_EDATA, r->name, r->la.line,
			    "more than %d settings in one group",
			    CFGTREE_GROUP_MAX);
		name = store_name(r, &r->la);
		if ((rc = node_new(r, 0, name, r->la.line, &el)) < 0 ||
		    (rc = push(r, el)) < 0 || (rc = scan(r)) < 0)
			return rc;
		if (r->la.t != T_ASSIGN)
			return syntax(r, r->la.line, "syntax error");
		if ((rc = scan(r)) < 0 || (rc = value(r, el, 0)) < 0)
			return rc;
		if ((r->la.t == T_TERM || r->la.t == T_COMMA) &&
		    (rc = scan(r)) < 0)
			return rc;
	}
	return close_container(r, idx, base);
}

/* Refuses a NUL byte and a line starting with '@', as cfgscan does. */
static int
lines_ok(struct rd *r, const char *what, const char *buf, size_t len)
{
	if (memchr(buf, '@', len) == NULL && memchr(buf, '\0', len) == NULL)
		return 0;
	return cfgscan_lines(r->name, what, buf, len, r->e);
}

int
cfgtree_read(struct cfgtree *t, const char *name, const char *what,
    const char *buf, size_t len, size_t max, int max_depth,
    struct muster_err *e)
{
	struct rd r;
	uint32_t root;
	int rc;

	memset(t, 0, sizeof *t);
	memset(&r, 0, sizeof r);
	r.t = t;
	r.name = name;
	r.e = e;
	if (len > max)
		return err_set(e, MUSTER_EDATA, "%s: %zu bytes, more than the "
		    "limit of %zu", name, len, max);
	if (buf == NULL) {
		if (len != 0)
			return err_set(e, MUSTER_EINTERNAL, "%s: no buffer",
			    name);
		buf = "";
	}
	if (max_depth < 1 || max_depth > CFGTREE_DEPTH_MAX)
		return err_set(e, MUSTER_EINTERNAL, "%s: bad depth limit",
		    name);
	if ((rc = lines_ok(&r, what, buf, len)) < 0)
		return rc;
	/*
	 * Every name and string is at most its text plus a NUL, and every
	 * node but the root at least one byte of the text.
	 */
	t->capnodes = len / 8 + 16;
	t->capkids = t->capnodes;
	r.capstack = t->capnodes;
	if ((t->strs = malloc(2 * len + 2)) == NULL ||
	    (t->nodes = malloc(t->capnodes * sizeof *t->nodes)) == NULL ||
	    (t->kids = malloc(t->capkids * sizeof *t->kids)) == NULL ||
	    (r.stack = malloc(r.capstack * sizeof *r.stack)) == NULL) {
		rc = oom(&r);
		goto out;
	}
	r.p = buf;
	r.end = buf + len;
	r.line = 1;
	r.max_depth = max_depth;
	if ((rc = node_new(&r, CFGTREE_GROUP, NULL, 0, &root)) < 0 ||
	    (rc = scan(&r)) < 0 || (rc = settings(&r, root, T_EOF)) < 0)
		goto out;
	rc = 0;
out:
	free(r.stack);
	return rc;
}

void
cfgtree_free(struct cfgtree *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t->kids);
	free(t->strs);
	memset(t, 0, sizeof *t);
}

const struct cfgtree_node *
cfgtree_root(const struct cfgtree *t)
{
	return &t->nodes[0];
}

const struct cfgtree_node *
cfgtree_elem(const struct cfgtree *t, const struct cfgtree_node *n,
    size_t i)
{
	return &t->nodes[t->kids[n->first + i]];
}

const struct cfgtree_node *
cfgtree_member(const struct cfgtree *t, const struct cfgtree_node *g,
    const char *name)
{
	const struct cfgtree_node *m;
	uint32_t i;

	for (i = 0; i < g->n; i++) {
		m = &t->nodes[t->kids[g->first + i]];
		if (strcmp(m->name, name) == 0)
			return m;
	}
	return NULL;
}

int
cfgtree_line1(const struct cfgtree_node *n)
{
	return n->line == 0 ? 1 : n->line;
}
