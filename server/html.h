/*
 * html: pages built in an append-only buffer where markup and text are
 * kept apart.  Markup comes only from the program (html_markup takes a
 * string the caller wrote, html_markupf numbers into it); any string
 * that came from a device, a store or a request goes in through
 * html_text or html_attr, which escape it for where it lands, so that
 * escaping is not something a page can forget.  No general framework:
 * the console (console.h) and `report --format html` write through it.
 *
 * A buffer is used by one thread.  Once an allocation fails or the
 * buffer passes its cap, every later call is a no-op and html_take
 * reports it: callers need not check each append.
 */
#ifndef MUSTER_SERVER_HTML_H
#define MUSTER_SERVER_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"

#define HTML_MAX_DEFAULT	(4u << 20)	/* bytes of one page */

struct html {
	char	*buf;
	size_t	 len, cap;
	size_t	 max;		/* 0: HTML_MAX_DEFAULT */
	int	 failed;	/* out of memory or past max */
};

/* An empty buffer capped at max bytes (0: HTML_MAX_DEFAULT). */
void	html_init(struct html *h, size_t max);

/*
 * Appends markup the program wrote (a tag, a static word): never a
 * string from outside.  The name says what the caller promises.
 */
void	html_markup(struct html *h, const char *markup);

/*
 * Appends printf output of fmt, which the program wrote: for numbers
 * and program constants only (%d %lld %zu %.1f, static %s).
 */
void	html_markupf(struct html *h, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Appends untrusted text s as element content or a double-quoted
 * attribute value: & < > " ' as character references; control, C1,
 * bidirectional, zero-width and line separator characters (esc_line's
 * set) and bytes that are not UTF-8 as U+FFFD.  NULL appends nothing.
 */
void	html_text(struct html *h, const char *s);

/* html_text for an attribute value: the same escaping. */
void	html_attr(struct html *h, const char *s);

/*
 * Appends s percent-encoded for a URL's query value (everything but
 * A-Z a-z 0-9 - . _ ~ as %HH), which is then also safe in an attribute.
 */
void	html_query(struct html *h, const char *s);

/* Appends v as a decimal integer. */
void	html_int(struct html *h, int64_t v);

/*
 * Hands the page over: *out (malloc'd, NUL-terminated, the caller frees)
 * and *len.  0, or MUSTER_EINTERNAL ("page too large or out of memory")
 * when an append failed; the buffer is empty afterwards either way.
 */
int	html_take(struct html *h, char **out, size_t *len, struct muster_err *e);

/* Frees what h holds; h may be reused after html_init. */
void	html_free(struct html *h);

#endif
