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

int
qr_encode_term(const char *text, QRcode **qr, int *quiet,
    struct muster_err *e)
{
	int rc, q;

	*qr = NULL;
	*quiet = 0;
	/* M where it fits with a full quiet zone: a screen seldom needs it. */
	if ((rc = qr_encode(text, QR_ECLEVEL_M, qr, e)) == 0 &&
	    qr_term_cols(*qr, QR_QUIET) <= QR_TERM_COLS) {
		*quiet = QR_QUIET;
		return 0;
	}
	if (*qr != NULL) {
		QRcode_free(*qr);
		*qr = NULL;
	}
	if (rc != 0 && rc != MUSTER_EDATA)
		return rc;
	if ((rc = qr_encode(text, QR_ECLEVEL_L, qr, e)) != 0)
		return rc;
	for (q = QR_QUIET; q >= QR_QUIET_MIN; q--)
		if (qr_term_cols(*qr, q) <= QR_TERM_COLS) {
			*quiet = q;
			return 0;
		}
	rc = err_set(e, MUSTER_EDATA, "a QR code of %zu bytes is %d columns "
	    "wide on a terminal (version %d, level L, %d-module quiet zone), "
	    "more than %d", strlen(text), qr_term_cols(*qr, QR_QUIET_MIN),
	    (*qr)->version, QR_QUIET_MIN, QR_TERM_COLS);
	QRcode_free(*qr);
	*qr = NULL;
	return rc;
}

int
qr_term_cols(const QRcode *qr, int quiet)
{
	return qr->width + 2 * quiet;
}

int
qr_print(FILE *f, const QRcode *qr, int quiet, int ansi,
    struct muster_err *e)
{
	/*
	 * Indexed by dark(top) | dark(bottom) << 1; the glyph is drawn in
	 * the foreground (light) colour, the rest of the cell is background.
	 */
	static const char *const cell[4] = {
		"\xe2\x96\x88",	/* both light: full block */
		"\xe2\x96\x84",	/* top dark: lower half block */
		"\xe2\x96\x80",	/* bottom dark: upper half block */
		" ",		/* both dark */
	};
	int x, y;

	if (quiet < QR_QUIET_MIN || qr_term_cols(qr, quiet) > QR_TERM_COLS)
		return err_set(e, MUSTER_EDATA, "a QR code %d columns wide "
		    "with a %d-module quiet zone does not fit %d columns",
		    qr_term_cols(qr, quiet), quiet, QR_TERM_COLS);
	for (y = -quiet; y < qr->width + quiet; y += 2) {
		if (ansi)
			fputs("\033[40;97m", f);
		for (x = -quiet; x < qr->width + quiet; x++)
			fputs(cell[qr_dark(qr, x, y) |
			    qr_dark(qr, x, y + 1) << 1], f);
		if (ansi)
			fputs("\033[0m", f);
		fputc('\n', f);
	}
	return 0;
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
