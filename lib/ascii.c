/* ascii: locale-free character classes; see include/muster/ascii.h. */
#include <string.h>

#include "muster/ascii.h"

int
ascii_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

int
ascii_alnum(int ch)
{
	return ascii_digit(ch) || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z');
}

int
ascii_hexval(int ch)
{
	if (ascii_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
ascii_copyn(char *dst, size_t size, const char *src, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}
