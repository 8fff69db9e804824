/* esc: untrusted text for terminals and logs; see include/muster/esc.h. */
#include <stdint.h>
#include <string.h>

#include "muster/esc.h"

static const char esc_hex[] = "0123456789abcdef";

const char *
esc_bytes(const char *s, size_t n, size_t show, unsigned flags, char *buf)
{
	int quoted = (flags & ESC_QUOTED) != 0;
	size_t i, o = 0;
	unsigned char ch;

	if (quoted)
		buf[o++] = '"';
	for (i = 0; i < n && i < show; i++) {
		ch = (unsigned char)s[i];
		if ((ch == '"' && quoted) || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = esc_hex[ch >> 4];
			buf[o++] = esc_hex[ch & 0xf];
		} else
			buf[o++] = (char)ch;
	}
	if (quoted)
		buf[o++] = '"';
	if (i < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

const char *
esc_str(const char *s, size_t show, unsigned flags, char *buf)
{
	if (s == NULL)
		s = "";
	/* Never reads more than show + 1 bytes of s. */
	return esc_bytes(s, strnlen(s, show + 1), show, flags, buf);
}

/*
 * Decodes the UTF-8 sequence at u[0..n) (n >= 1, u[0] >= 0x80): its code
 * point in *cp and its length, or 0 if it is malformed (bad lead or
 * continuation byte, cut short, overlong, surrogate, past U+10FFFF).
 */
static size_t
utf8_decode(const unsigned char *u, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t k, more;

	if ((u[0] & 0xe0) == 0xc0) {
		more = 1;
		c = u[0] & 0x1f;
		min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		more = 2;
		c = u[0] & 0x0f;
		min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		more = 3;
		c = u[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (n <= more)
		return 0;
	for (k = 1; k <= more; k++) {
		if ((u[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (u[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return more + 1;
}

/* C1 controls, bidirectional formatting and the line separators. */
static int
cp_bidi_or_control(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

int
esc_text_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t i, len;

	for (i = 0; i < n; ) {
		if (u[i] < 0x80) {
			if (u[i] < 0x20 || u[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if ((len = utf8_decode(u + i, n - i, &cp)) == 0 ||
		    cp_bidi_or_control(cp))
			return 0;
		i += len;
	}
	return 1;
}

/* What esc_line hides: the above, Arabic letter mark and zero-width. */
static int
cp_hidden(uint32_t cp)
{
	return cp_bidi_or_control(cp) || cp == 0x061c ||
	    (cp >= 0x200b && cp <= 0x200d) || (cp >= 0x2060 && cp <= 0x2064) ||
	    cp == 0xfeff;
}

char *
esc_line(char *s)
{
	unsigned char *u = (unsigned char *)s;
	uint32_t cp;
	size_t i, o, n, len;

	n = strlen(s);
	for (i = o = 0; i < n; ) {
		if (u[i] < 0x20 || u[i] == 0x7f) {
			u[o++] = '?';
			i++;
		} else if (u[i] < 0x80 ||
		    (len = utf8_decode(u + i, n - i, &cp)) == 0) {
			u[o++] = u[i++];
		} else if (cp_hidden(cp)) {
			u[o++] = '?';
			i += len;
		} else {
			memmove(u + o, u + i, len);
			o += len;
			i += len;
		}
	}
	u[o] = '\0';
	return s;
}

int
esc_text_strict_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	size_t i, len;

	if (!esc_text_ok(s, n))
		return 0;
	for (i = 0; i < n; ) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		/* esc_text_ok decoded every sequence already. */
		len = utf8_decode(u + i, n - i, &cp);
		if (len == 0 || cp_hidden(cp))
			return 0;
		i += len;
	}
	return 1;
}
