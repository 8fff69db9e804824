/* html: pages with markup and text kept apart; see html.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muster/esc.h"
#include "html.h"

#define HTML_REPLACEMENT	"\xef\xbf\xbd"	/* U+FFFD */

void
html_init(struct html *h, size_t max)
{
	memset(h, 0, sizeof *h);
	h->max = max != 0 ? max : HTML_MAX_DEFAULT;
}

/* Room for n more bytes and a NUL; 0, or -1 with h->failed set. */
static int
html_room(struct html *h, size_t n)
{
	size_t cap;
	char *nb;

	if (h->failed)
		return -1;
	if (n > h->max || h->len > h->max - n) {
		h->failed = 1;
		return -1;
	}
	if (h->len + n + 1 <= h->cap)
		return 0;
	cap = h->cap == 0 ? 4096 : h->cap;
	while (cap < h->len + n + 1)
		cap *= 2;
	if ((nb = realloc(h->buf, cap)) == NULL) {
		h->failed = 1;
		return -1;
	}
	h->buf = nb;
	h->cap = cap;
	return 0;
}

static void
html_put(struct html *h, const char *s, size_t n)
{
	if (html_room(h, n) != 0)
		return;
	memcpy(h->buf + h->len, s, n);
	h->len += n;
	h->buf[h->len] = '\0';
}

void
html_markup(struct html *h, const char *markup)
{
	html_put(h, markup, strlen(markup));
}

void
html_markupf(struct html *h, const char *fmt, ...)
{
	va_list ap;
	char small[256], *big = NULL;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->failed = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		html_put(h, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&big, fmt, ap);
	va_end(ap);
	if (n < 0) {
		h->failed = 1;
		return;
	}
	html_put(h, big, (size_t)n);
	free(big);
}

/* The length of the UTF-8 sequence at s (1..4), or 0 when malformed. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

void
html_text(struct html *h, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;

	if (s == NULL)
		return;
	for (i = 0; u[i] != '\0'; ) {
		switch (u[i]) {
		case '&': html_markup(h, "&amp;"); i++; continue;
		case '<': html_markup(h, "&lt;"); i++; continue;
		case '>': html_markup(h, "&gt;"); i++; continue;
		case '"': html_markup(h, "&quot;"); i++; continue;
		case '\'': html_markup(h, "&#39;"); i++; continue;
		default: break;
		}
		if (u[i] < 0x20 || u[i] == 0x7f) {
			html_markup(h, HTML_REPLACEMENT);
			i++;
			continue;
		}
		if ((n = utf8_len(u + i)) == 0) {
			html_markup(h, HTML_REPLACEMENT);
			i++;
			continue;
		}
		/* One character: shown unless it hides or reorders text. */
		if (n > 1 && !esc_text_strict_ok(s + i, n))
			html_markup(h, HTML_REPLACEMENT);
		else
			html_put(h, s + i, n);
		i += n;
	}
}

void
html_attr(struct html *h, const char *s)
{
	html_text(h, s);
}

void
html_query(struct html *h, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char pct[3];

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			html_put(h, s, 1);
			continue;
		}
		pct[0] = '%';
		pct[1] = hex[ch >> 4];
		pct[2] = hex[ch & 15];
		html_put(h, pct, 3);
	}
}

void
html_int(struct html *h, int64_t v)
{
	html_markupf(h, "%lld", (long long)v);
}

int
html_take(struct html *h, char **out, size_t *len, struct muster_err *e)
{
	int failed = h->failed || html_room(h, 0) != 0;

	*out = NULL;
	*len = 0;
	if (failed) {
		html_free(h);
		return err_set(e, MUSTER_EINTERNAL, "page too large or out "
		    "of memory");
	}
	h->buf[h->len] = '\0';
	*out = h->buf;
	*len = h->len;
	h->buf = NULL;
	h->len = h->cap = 0;
	return 0;
}

void
html_free(struct html *h)
{
	free(h->buf);
	h->buf = NULL;
	h->len = h->cap = 0;
	h->failed = 0;
}
