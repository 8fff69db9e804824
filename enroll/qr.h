/*
 * qr: a text (an enrollment bundle's muster://enroll URI) as a QR code,
 * drawn on a terminal or written as a PNG image.
 */
#ifndef MUSTER_ENROLL_QR_H
#define MUSTER_ENROLL_QR_H

#include <stdio.h>

#include <qrencode.h>

#include "muster/err.h"

/*
 * Encodes text (8-bit mode, the given error correction level) into a new
 * *qr the caller releases with QRcode_free.  MUSTER_EDATA when it does
 * not fit.
 */
int	qr_encode(const char *text, QRecLevel level, QRcode **qr,
	    struct muster_err *e);

/*
 * Draws qr on f with Unicode half blocks, two modules per character cell,
 * light modules drawn as blocks (for a dark terminal), inside a 4-module
 * quiet zone; ansi also forces white-on-black so that the code scans on a
 * light terminal too.
 */
void	qr_print(FILE *f, const QRcode *qr, int ansi);

/*
 * Writes qr as a 1-bit greyscale PNG, 6 pixels per module with a 4-module
 * quiet zone, to path atomically with mode 0600.
 */
int	qr_png(const char *path, const QRcode *qr, struct muster_err *e);

#endif
