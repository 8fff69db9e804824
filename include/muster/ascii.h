/*
 * ascii: the character classes and the bounded copy that parsers of
 * untrusted bytes use.  Unlike <ctype.h> they never depend on the locale
 * and take any int (a char's sign does not matter past the class test).
 */
#ifndef MUSTER_ASCII_H
#define MUSTER_ASCII_H

#include <stddef.h>

/* 1 if ch is '0' to '9', else 0. */
int	ascii_digit(int ch);

/* 1 if ch is an ASCII letter or digit, else 0. */
int	ascii_alnum(int ch);

/* The value (0 to 15) of the hex digit ch, either case; -1 if none. */
int	ascii_hexval(int ch);

/*
 * Copies the n bytes at src into dst (of size bytes) and NUL-terminates
 * them.  Returns 0, or -1 (dst untouched) when n + 1 bytes do not fit.
 */
int	ascii_copyn(char *dst, size_t size, const char *src, size_t n);

#endif
