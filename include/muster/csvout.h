/*
 * csvout: cells of a CSV file (RFC 4180) written for people who open it
 * in a spreadsheet.  The one place that quotes a CSV cell: the roll-up
 * (server/rollup_write.c) and roster's token list (enroll/roster.c) both
 * write through it.
 */
#ifndef MUSTER_CSVOUT_H
#define MUSTER_CSVOUT_H

#include <stdio.h>

/*
 * csvout_cell flag: a cell a spreadsheet would take for a formula (one
 * that starts with = + - @ TAB or CR) is written as text: a ' before it
 * and the whole between double quotes, as OWASP's advice on CSV injection
 * has it.
 */
#define CSVOUT_NO_FORMULA	0x1

/*
 * Writes the NUL-terminated s to fp as one RFC 4180 cell: as it is, or
 * between double quotes with each quote doubled when it holds a comma, a
 * double quote, CR or LF (or, with CSVOUT_NO_FORMULA, starts a formula;
 * see above).  Write errors are left in ferror(fp) for the caller's
 * flush to report.
 */
void	csvout_cell(FILE *fp, const char *s, unsigned flags);

/* 1 if s, as a cell, would start a formula (= + - @ TAB CR first). */
int	csvout_is_formula(const char *s);

#endif
