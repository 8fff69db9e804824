/*
 * csv: reads an RFC 4180 file (a roster) one record at a time, keeping
 * the first CSV_FIELDS fields of each, and quotes a field for a one-line
 * message.
 */
#ifndef MUSTER_ENROLL_CSV_H
#define MUSTER_ENROLL_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "muster/esc.h"
#include "muster/token.h"

#define CSV_FIELDS	3	/* fields kept of each record */
#define CSV_FIELD_BUF	(TOKEN_FIELD_MAX + 1)	/* one byte more: too long */
/* Bytes of a bad field shown; fewer than a field keeps (csv_quote). */
#define CSV_QUOTE_SHOW	40
#define CSV_QUOTE_SIZE	ESC_SIZE(CSV_QUOTE_SHOW)

/* A CSV file being read: set f, line 1 and first 1 before the first read. */
struct csv {
	FILE		*f;
	long		 line;		/* the line being read, from 1 */
	int		 first;		/* nothing read yet (for a BOM) */
};

/* One record: its first CSV_FIELDS fields, and how many it had. */
struct csv_record {
	long		 line;		/* where the record starts */
	size_t		 nfields;
	char		 field[CSV_FIELDS][CSV_FIELD_BUF];
	size_t		 flen[CSV_FIELDS];
	int		 quoted[CSV_FIELDS];
	const char	*bad;		/* a syntax error, or NULL */
};

/*
 * Reads one RFC 4180 record (fields separated by ',', records by LF or
 * CRLF, a field in double quotes may hold ',', newlines and "" for a
 * quote) into r; a UTF-8 byte order mark before the first is skipped.
 * Fields are kept up to CSV_FIELD_BUF - 1 bytes, and flen tells whether
 * one was longer.  After a syntax error the rest of the physical line is
 * skipped and r->bad says what was wrong.  Returns 1 for a record, 0 at
 * the end of the file, -1 on a read error.
 */
int	csv_read(struct csv *c, struct csv_record *r);

/*
 * NUL-terminated field i (below CSV_FIELDS), in r, or NULL when it was
 * longer than kept.
 */
const char *csv_field(struct csv_record *r, size_t i);

/*
 * Writes field i of rec into q as a double-quoted string fit for a
 * one-line message: at most CSV_QUOTE_SHOW bytes, anything but printable
 * ASCII escaped.  Returns q.
 */
const char *csv_quote(const struct csv_record *rec, size_t i,
	    char q[CSV_QUOTE_SIZE]);

/* 1 if the record is a blank line. */
int	csv_blank(const struct csv_record *rec);

#endif
