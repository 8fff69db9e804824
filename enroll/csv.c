/* csv: an RFC 4180 reader for small records; see enroll/csv.h. */
#include <stdio.h>
#include <string.h>

#include "muster/esc.h"
#include "csv.h"

/* Appends ch to field i of r, if r keeps that field. */
static void
csv_put(struct csv_record *r, int ch)
{
	size_t i = r->nfields - 1;

	if (i >= CSV_FIELDS)
		return;
	if (r->flen[i] < CSV_FIELD_BUF - 1)
		r->field[i][r->flen[i]] = (char)ch;
	if (r->flen[i] < CSV_FIELD_BUF)
		r->flen[i]++;
}

/*
 * 1 if ch, just read, ends the record: a '\n', or a '\r' and the '\n' after
 * it (read here); the line is counted. 0 otherwise: after a lone '\r' the
 * byte that follows it is pushed back.
 */
static int
csv_eol(struct csv *c, int ch)
{
	if (ch == '\r' && (ch = getc_unlocked(c->f)) != '\n') {
		if (ch != EOF)
			ungetc(ch, c->f);
		return 0;
	}
	if (ch != '\n')
		return 0;
	c->line++;
	return 1;
}

int
csv_read(struct csv *c, struct csv_record *r)
{
	enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } st;
	int ch;

	memset(r->flen, 0, sizeof r->flen);
	memset(r->quoted, 0, sizeof r->quoted);
	r->nfields = 1;
	r->bad = NULL;
	r->line = c->line;
	st = FIELD_START;
	if (c->first) {
		c->first = 0;
		/* A UTF-8 byte order mark, as spreadsheets write. */
		if ((ch = getc_unlocked(c->f)) == 0xef) {
			if (getc_unlocked(c->f) != 0xbb ||
			    getc_unlocked(c->f) != 0xbf) {
				r->bad = "a byte that is not ASCII";
				goto skip;
			}
		} else if (ch != EOF)
			ungetc(ch, c->f);
	}
	for (;;) {
		ch = getc_unlocked(c->f);
		if (ch == EOF) {
			if (ferror(c->f))
				return -1;
			if (st == QUOTED) {
				r->bad = "a quoted field is not closed";
				return 1;
			}
			/* Nothing at all since the last record: the end. */
			if (st == FIELD_START && r->nfields == 1)
				return 0;
			return 1;
		}
		switch (st) {
		case FIELD_START:
			if (ch == '"') {
				if (r->nfields <= CSV_FIELDS)
					r->quoted[r->nfields - 1] = 1;
				st = QUOTED;
				break;
			}
			st = UNQUOTED;
			/* FALLTHROUGH */
		case UNQUOTED:
			if (ch == ',') {
				r->nfields++;
				st = FIELD_START;
			} else if (csv_eol(c, ch))
				goto end;
			else if (ch == '"') {
				r->bad = "a quote inside an unquoted field";
				goto skip;
			} else
				csv_put(r, ch);
			break;
		case QUOTED:
			if (ch == '"')
				st = QUOTE_IN_QUOTED;
			else {
				if (ch == '\n')
					c->line++;
				csv_put(r, ch);
			}
			break;
		case QUOTE_IN_QUOTED:
			if (ch == '"') {
				csv_put(r, '"');
				st = QUOTED;
			} else if (ch == ',') {
				r->nfields++;
				st = FIELD_START;
			} else if (csv_eol(c, ch))
				goto end;
			else {
				r->bad = "text after a closing quote";
				goto skip;
			}
			break;
		}
	}
skip:
	while ((ch = getc_unlocked(c->f)) != EOF && ch != '\n')
		;
	if (ch == '\n')
		c->line++;
	else if (ferror(c->f))
		return -1;
	return 1;
end:
	return 1;
}

const char *
csv_field(struct csv_record *r, size_t i)
{
	if (r->flen[i] >= CSV_FIELD_BUF)
		return NULL;
	r->field[i][r->flen[i]] = '\0';
	return r->field[i];
}

_Static_assert(CSV_QUOTE_SHOW < CSV_FIELD_BUF - 1, "CSV_QUOTE_SHOW");

const char *
csv_quote(const struct csv_record *rec, size_t i, char q[CSV_QUOTE_SIZE])
{
	size_t n = rec->flen[i] < CSV_FIELD_BUF - 1 ? rec->flen[i] :
	    CSV_FIELD_BUF - 1;

	/* A field longer than kept is longer than shown: the "..." says so. */
	return esc_bytes(rec->field[i], n, CSV_QUOTE_SHOW, ESC_QUOTED, q);
}

int
csv_blank(const struct csv_record *rec)
{
	return rec->bad == NULL && rec->nfields == 1 && rec->flen[0] == 0 &&
	    !rec->quoted[0];
}
