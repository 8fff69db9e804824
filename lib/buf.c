/* buf: a bounded text built by appending; see include/muster/buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/buf.h"

#define BUF_MIN	256	/* the first allocation */

void
buf_init(struct buf *b, size_t max)
{
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max < BUF_UNBOUNDED ? max : BUF_UNBOUNDED;
	b->err = 0;
}

/*
 * Makes room for n more bytes and the NUL.  Not realloc: the old copy
 * may hold a secret, so it is wiped before it is freed.
 */
static int
reserve(struct buf *b, size_t n)
{
	size_t want, cap;
	char *ns;

	if (b->err != 0)
		return b->err;
	if (n > b->max - b->len)
		return b->err = BUF_ETOOLONG;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap < BUF_MIN ? BUF_MIN : b->cap;
	while (cap < want)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if ((ns = malloc(cap)) == NULL)
		return b->err = BUF_ENOMEM;
	if (b->s != NULL) {
		memcpy(ns, b->s, b->len + 1);
		sodium_memzero(b->s, b->cap);
		free(b->s);
	} else
		ns[0] = '\0';
	b->s = ns;
	b->cap = cap;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (b->err != 0)
		return b->err;
	va_start(ap, fmt);
	w = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (w < 0)
		return b->err = BUF_ENOMEM;
	if (reserve(b, (size_t)w) != 0)
		return b->err;
	va_start(ap, fmt);
	(void)vsnprintf(b->s + b->len, (size_t)w + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)w;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (reserve(b, n) != 0)
		return b->err;
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
buf_base64(struct buf *b, const void *bin, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);

	/* n counts the NUL that sodium_bin2base64 writes. */
	if (reserve(b, n - 1) != 0)
		return b->err;
	sodium_bin2base64(b->s + b->len, n, bin, len,
	    sodium_base64_VARIANT_ORIGINAL);
	b->len += n - 1;
	return 0;
}

int
buf_check(const struct buf *b, const char *what, struct muster_err *e)
{
	if (b->err == 0)
		return 0;
	if (b->err == BUF_ETOOLONG)
		return err_set(e, MUSTER_EINTERNAL, "%s longer than expected",
		    what);
	return err_set(e, MUSTER_EINTERNAL, "out of memory");
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *s;

	if (b->err != 0 || reserve(b, 0) != 0)
		return NULL;
	s = b->s;
	if (len != NULL)
		*len = b->len;
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
	return s;
}

void
buf_free(struct buf *b)
{
	if (b->s != NULL) {
		sodium_memzero(b->s, b->cap);
		free(b->s);
	}
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
}

int
buf_fmt(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (dst == NULL || size == 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		dst[0] = '\0';
		return -1;
	}
	return 0;
}
