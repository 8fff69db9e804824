/*
 * buf: a text built by appending (formatted lines, raw bytes, base64)
 * into one malloc'd, NUL-terminated buffer that grows up to a limit.
 * The first failure sticks and every later append does nothing, so a
 * writer appends everything and checks once (buf_check).  Every copy
 * dropped as the buffer grows, and the buffer itself when freed, is
 * wiped first: what is built may be a bearer credential (a bundle).
 */
#ifndef MUSTER_BUF_H
#define MUSTER_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"

#define BUF_ENOMEM	(-1)	/* out of memory */
#define BUF_ETOOLONG	(-2)	/* the text would pass its limit */

/* No limit beyond what memory allows. */
#define BUF_UNBOUNDED	(SIZE_MAX / 2)

struct buf {
	char	*s;	/* the text, NUL-terminated; NULL until appended to */
	size_t	 len;	/* its length without the NUL */
	size_t	 cap;	/* bytes allocated at s */
	size_t	 max;	/* the longest len allowed */
	int	 err;	/* 0, or the first BUF_E* */
};

/* Starts an empty b whose text may be at most max bytes long. */
void	buf_init(struct buf *b, size_t max);

/*
 * Appends printf-formatted text.  Returns 0, or the sticky BUF_E* (also
 * in b->err) when it would pass the limit, memory runs out or an
 * earlier append failed; the text is then left as it was.
 */
int	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Appends the n bytes at p; returns as buf_printf does. */
int	buf_add(struct buf *b, const void *p, size_t n);

/*
 * Appends the len bytes at bin as padded standard base64 (libsodium's
 * ORIGINAL variant); returns as buf_printf does.
 */
int	buf_base64(struct buf *b, const void *bin, size_t len);

/*
 * 0 when every append succeeded; else records in e (MUSTER_EINTERNAL)
 * "out of memory" or "WHAT longer than expected" and returns
 * MUSTER_EINTERNAL.
 */
int	buf_check(const struct buf *b, const char *what, struct muster_err *e);

/*
 * Hands the text over: returns it (malloc'd, the caller's to free; an
 * empty string when nothing was appended), its length in *len (len may
 * be NULL), and leaves b empty.  NULL when an append failed or memory
 * runs out.
 */
char	*buf_take(struct buf *b, size_t *len);

/* Wipes and frees b's text, leaving b empty; safe to call twice. */
void	buf_free(struct buf *b);

/*
 * Formats printf-style into the size bytes at dst (a fixed line such as
 * a trusted comment).  Returns 0, or -1 when dst is NULL, size is 0 or
 * the text would not fit; dst is then left empty (when there is one).
 */
int	buf_fmt(char *dst, size_t size, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
