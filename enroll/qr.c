/*
 * qr: enrollment bundles as QR codes, drawn on a terminal or written as a
 * PNG image; see enroll/qr.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <qrencode.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "qr.h"

#define QR_QUIET	4	/* modules of quiet zone around the code */
#define QR_PNG_SCALE	6	/* pixels per module */

/* 1 if module (x, y) of qr is dark; outside the code (quiet zone) is light. */
static int
qr_dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

int
qr_encode(const char *text, QRecLevel level, QRcode **qr,
    struct muster_err *e)
{
	if ((*qr = QRcode_encodeString(text, 0, level, QR_MODE_8, 1)) == NULL)
		return err_set(e, errno == ERANGE ? MUSTER_EDATA :
		    MUSTER_EINTERNAL, "cannot make a QR code of %zu bytes",
		    strlen(text));
	return 0;
}

void
qr_print(FILE *f, const QRcode *qr, int ansi)
{
	static const char *const cell[4] = {
		"\xe2\x96\x88",	/* both light: full block */
		"\xe2\x96\x80",	/* top light: upper half block */
		"\xe2\x96\x84",	/* bottom light: lower half block */
		" ",		/* both dark */
	};
	int x, y;

	for (y = -QR_QUIET; y < qr->width + QR_QUIET; y += 2) {
		if (ansi)
			fputs("\033[40;97m", f);
		for (x = -QR_QUIET; x < qr->width + QR_QUIET; x++)
			fputs(cell[qr_dark(qr, x, y) |
			    qr_dark(qr, x, y + 1) << 1], f);
		if (ansi)
			fputs("\033[0m", f);
		fputc('\n', f);
	}
}

struct qr_membuf {
	unsigned char	*p;
	size_t		 len, cap;
};

static void
qr_png_write(png_structp png, png_bytep data, png_size_t n)
{
	struct qr_membuf *m = png_get_io_ptr(png);
	unsigned char *np;
	size_t cap;

	if (n > SIZE_MAX / 2 - m->len)
		png_error(png, "image too large");
	if (m->len + n > m->cap) {
		cap = m->cap == 0 ? 4096 : m->cap;
		while (cap < m->len + n)
			cap *= 2;
		if ((np = realloc(m->p, cap)) == NULL)
			png_error(png, "out of memory");
		m->p = np;
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
}

static void
qr_png_flush(png_structp png)
{
	(void)png;
}

static void
qr_png_error(png_structp png, png_const_charp msg)
{
	char *why = png_get_error_ptr(png);

	snprintf(why, ERR_MSG_MAX, "%s", msg);
	png_longjmp(png, 1);
}

static void
qr_png_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* The rows of the image; separate so that nothing lives across setjmp. */
static void
qr_png_rows(png_structp png, const QRcode *qr, unsigned char *row,
    unsigned size)
{
	unsigned x, y;
	int mx, my;

	for (y = 0; y < size; y++) {
		memset(row, 0, (size + 7) / 8);
		my = (int)(y / QR_PNG_SCALE) - QR_QUIET;
		for (x = 0; x < size; x++) {
			mx = (int)(x / QR_PNG_SCALE) - QR_QUIET;
			if (!qr_dark(qr, mx, my))	/* 1 is white */
				row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
		png_write_row(png, row);
	}
}

/* Encodes qr as a 1-bit greyscale PNG into m (m->p is the caller's). */
static int
qr_png_encode(const QRcode *qr, struct qr_membuf *m, char why[ERR_MSG_MAX])
{
	png_structp png;
	png_infop info;
	unsigned char *row;
	unsigned size = (unsigned)(qr->width + 2 * QR_QUIET) * QR_PNG_SCALE;

	snprintf(why, ERR_MSG_MAX, "out of memory");
	if ((row = calloc(1, (size + 7) / 8)) == NULL)
		return -1;
	if ((png = png_create_write_struct(PNG_LIBPNG_VER_STRING, why,
	    qr_png_error, qr_png_warn)) == NULL) {
		free(row);
		return -1;
	}
	if ((info = png_create_info_struct(png)) == NULL) {
		png_destroy_write_struct(&png, NULL);
		free(row);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		return -1;
	}
	png_set_write_fn(png, m, qr_png_write, qr_png_flush);
	png_set_IHDR(png, info, size, size, 1, PNG_COLOR_TYPE_GRAY,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	qr_png_rows(png, qr, row, size);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
}

int
qr_png(const char *path, const QRcode *qr, struct muster_err *e)
{
	struct qr_membuf m = { NULL, 0, 0 };
	char why[ERR_MSG_MAX];
	int rc;

	if (qr_png_encode(qr, &m, why) != 0)
		rc = err_set(e, MUSTER_EINTERNAL, "%s: PNG: %s", path, why);
	else
		rc = fs_write_atomic(path, m.p, m.len, 0600, e);
	free(m.p);
	return rc;
}
