/*
 * tokcmd: `muster-enroll token` and `roster`, and the pieces of them that
 * tests reach directly: expiry parsing and QR codes.
 */
#ifndef MUSTER_TOKCMD_H
#define MUSTER_TOKCMD_H

#include <stdio.h>
#include <time.h>

#include <qrencode.h>

#include "muster/err.h"

#define TOKCMD_EXPIRES_MIN	60		/* seconds: one minute */
#define TOKCMD_EXPIRES_MAX	(365 * 86400)	/* seconds: 365 days */

/*
 * `muster-enroll token` and `roster` (argv[0] is the command's name):
 * each writes usage errors and failures as one line on stderr and
 * returns the process exit code.
 */
int	tokcmd_token(int argc, char **argv);
int	tokcmd_roster(int argc, char **argv);

/*
 * Parses an --expires value: Nd, Nh or Nm (days, hours, minutes after
 * now) or an RFC 3339 UTC time, into *out.  Refuses anything outside
 * TOKCMD_EXPIRES_MIN..TOKCMD_EXPIRES_MAX from now with MUSTER_EUSAGE.
 */
int	tokcmd_expires_parse(const char *s, time_t now, time_t *out,
	    struct muster_err *e);

/*
 * Encodes text (8-bit mode, the given error correction level) into a new
 * *qr the caller releases with QRcode_free.  MUSTER_EDATA when it does
 * not fit.
 */
int	tokcmd_qr_encode(const char *text, QRecLevel level, QRcode **qr,
	    struct muster_err *e);

/*
 * Draws qr on f with Unicode half blocks inside a 4-module quiet zone;
 * ansi adds colours that force light-on-dark.
 */
void	tokcmd_qr_print(FILE *f, const QRcode *qr, int ansi);

/*
 * Writes qr as a 1-bit greyscale PNG, 6 pixels per module with a 4-module
 * quiet zone, to path atomically with mode 0600.
 */
int	tokcmd_qr_png(const char *path, const QRcode *qr, struct muster_err *e);

#endif
