/*
 * esc: untrusted text made safe to show on a terminal or in a log line.
 * Device facts, profile values, file contents and error text from other
 * processes pass through here before anyone reads them, so that none can
 * move the cursor, forge a line, or display as something other than what
 * its bytes say (control, C1, bidirectional and zero-width characters).
 */
#ifndef MUSTER_ESC_H
#define MUSTER_ESC_H

#include <stddef.h>

/* Bytes of a buffer for esc_bytes/esc_str showing at most show bytes:
 * two quotes, \xHH for each byte, "..." and the NUL. */
#define ESC_SIZE(show)	(2 + 4 * (show) + 3 + 1)

/* esc_bytes/esc_str flag: between double quotes, a '"' escaped too. */
#define ESC_QUOTED	0x1

/*
 * Writes at most show bytes of s[0..n) into buf (ESC_SIZE(show) bytes,
 * the caller's) as printable ASCII: '\' (and '"' with ESC_QUOTED) escaped
 * with '\', any other byte outside 0x20..0x7e as \xHH (lowercase), the
 * whole between double quotes with ESC_QUOTED, and "..." after it when s
 * was cut.  Returns buf.
 */
const char *esc_bytes(const char *s, size_t n, size_t show, unsigned flags,
	    char *buf);

/* esc_bytes of the NUL-terminated s; NULL is shown as "". */
const char *esc_str(const char *s, size_t show, unsigned flags, char *buf);

/*
 * Returns 1 if s[0..n) is well-formed UTF-8 (no overlong form, surrogate
 * or code point past U+10FFFF) with no control character (C0, DEL, C1)
 * and no bidirectional formatting or line/paragraph separator character
 * (U+200E, U+200F, U+2028..U+202E, U+2066..U+2069); 0 otherwise.
 */
int	esc_text_ok(const char *s, size_t n);

/*
 * Rewrites the NUL-terminated s in place for one log line: each C0
 * control byte and DEL becomes '?', and so does each whole UTF-8 sequence
 * of a C1 control, a bidirectional formatting, zero-width or line
 * separator character (U+061C, U+200B..U+200F, U+2028..U+202E, U+2060..
 * U+2064, U+2066..U+2069, U+FEFF).  Other bytes, printable UTF-8 or not,
 * are left as they are, and the length never grows.  Returns s.
 */
char	*esc_line(char *s);

/*
 * esc_text_ok, and no character esc_line would hide either: also refuses
 * the Arabic letter mark (U+061C), zero-width characters (U+200B..U+200D,
 * U+2060..U+2064) and the byte order mark (U+FEFF), so that two strings
 * that look the same are the same.  For device-supplied text the server
 * stores and shows (the model, report details, unit names).  1 or 0.
 */
int	esc_text_strict_ok(const char *s, size_t n);

#endif
