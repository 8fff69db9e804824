/*
 * rollup_write: a roll-up (rollup.h) written out as a table for a
 * terminal, CSV (RFC 4180, CRLF) or JSON (docs/rollup.md has each), and
 * the cell writers the device list (rollup_devices.h) shares.  Every
 * string that came from a device is escaped here, at the one place that
 * writes it: control bytes shown as '?' in a table, CSV fields quoted,
 * JSON strings escaped.
 */
#ifndef MUSTER_SERVER_ROLLUP_WRITE_H
#define MUSTER_SERVER_ROLLUP_WRITE_H

#include <stdio.h>

#include "muster/err.h"
#include "rollup.h"

/* Writes r to fp in fmt; 0, or MUSTER_EIO when fp reports an error. */
int	rollup_write(const struct rollup *r, enum rollup_format fmt, FILE *fp,
	    struct muster_err *e);

/*
 * rollup_write into a malloc'd buffer *out of *len bytes (NUL-terminated,
 * the NUL not counted), which the caller frees.  Returns 0, or
 * MUSTER_EINTERNAL / MUSTER_EIO with *out NULL and *len 0.
 */
int	rollup_write_mem(const struct rollup *r, enum rollup_format fmt,
	    char **out, size_t *len, struct muster_err *e);

/* How many characters a terminal shows for s (UTF-8 continuations not). */
int	rollup_write_width(const char *s);

/*
 * Writes s to fp padded with spaces to width characters (right-aligned
 * if right), control bytes as '?'.
 */
void	rollup_write_cell(FILE *fp, const char *s, int width, int right);

/* Writes s as an RFC 4180 field: quoted when it holds , " CR or LF. */
void	rollup_write_csv(FILE *fp, const char *s);

/* Writes s (UTF-8) as a JSON string, quotes included. */
void	rollup_write_json_str(FILE *fp, const char *s);

/*
 * Flushes fp: 0, or MUSTER_EIO ("writing the roll-up") when fp failed
 * now or earlier.
 */
int	rollup_write_flush(FILE *fp, struct muster_err *e);

#endif
