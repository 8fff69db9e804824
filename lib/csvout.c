/* csvout: CSV cells for spreadsheets; see include/muster/csvout.h. */
#include <stdio.h>
#include <string.h>

#include "muster/csvout.h"

int
csvout_is_formula(const char *s)
{
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

void
csvout_cell(FILE *fp, const char *s, unsigned flags)
{
	int formula = (flags & CSVOUT_NO_FORMULA) && csvout_is_formula(s);

	if (!formula && strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	putc('"', fp);
	if (formula)
		putc('\'', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}
