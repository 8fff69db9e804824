/*
 * qr: a text (an enrollment bundle's muster://enroll URI) as a QR code,
 * drawn on a terminal or written as a PNG image.
 *
 * A terminal code is drawn with Unicode half blocks, two modules to a
 * character cell, light modules as the glyph: on a dark-background
 * terminal (light text on dark) it is dark on light as a scanner wants
 * it; on a terminal (ansi) it forces bright white on black so that it
 * scans on a light-background terminal too.  It never takes more than
 * QR_TERM_COLS columns: that is checked here, not left to the caller.
 */
#ifndef MUSTER_ENROLL_QR_H
#define MUSTER_ENROLL_QR_H

#include <stdio.h>

#include <qrencode.h>

#include "muster/err.h"

#define QR_TERM_COLS	80	/* columns a terminal code may take */
#define QR_QUIET	4	/* quiet zone modules, as ISO/IEC 18004 asks */
#define QR_QUIET_MIN	2	/* the least a terminal code gets */

/*
 * Encodes text (8-bit mode with alphanumeric and numeric runs, the given
 * error correction level) into a new *qr the caller releases with
 * QRcode_free.  MUSTER_EDATA when it does not fit a QR code.
 */
int	qr_encode(const char *text, QRecLevel level, QRcode **qr,
	    struct muster_err *e);

/*
 * Encodes text for a terminal of QR_TERM_COLS columns into a new *qr (the
 * caller's, QRcode_free) and *quiet, the quiet zone to draw it with: level
 * M with a QR_QUIET-module zone if that fits, else level L with the widest
 * zone from QR_QUIET down to QR_QUIET_MIN that fits.  MUSTER_EDATA, with
 * the width it would need, when none fits.
 */
int	qr_encode_term(const char *text, QRcode **qr, int *quiet,
	    struct muster_err *e);

/* Columns (and modules) qr takes drawn with a quiet zone of quiet modules. */
int	qr_term_cols(const QRcode *qr, int quiet);

/*
 * Draws qr on f with a quiet zone of quiet modules (see above); ansi adds
 * the colours for a light terminal.  MUSTER_EDATA, drawing nothing, when
 * quiet is below QR_QUIET_MIN or the code would take more than
 * QR_TERM_COLS columns.
 */
int	qr_print(FILE *f, const QRcode *qr, int quiet, int ansi,
	    struct muster_err *e);

/*
 * Writes qr as a 1-bit greyscale PNG, 6 pixels per module with a
 * QR_QUIET-module quiet zone, to path atomically with mode 0600.
 */
int	qr_png(const char *path, const QRcode *qr, struct muster_err *e);

#endif
