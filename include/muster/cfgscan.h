/*
 * cfgscan: what every untrusted libconfig text (profiles, sim device
 * files, bundles) goes through before libconfig 1.5 sees it.  libconfig
 * would process an @include, silently truncate integers that do not fit,
 * and leak memory on some syntax errors; cfgscan refuses all of those
 * first, then parses.
 */
#ifndef MUSTER_CFGSCAN_H
#define MUSTER_CFGSCAN_H

#include <stddef.h>

#include <libconfig.h>

#include "muster/err.h"

#define CFGSCAN_DEPTH_MAX	32
#define CFGSCAN_GROUP_MAX	4096	/* settings in one group { } */

/*
 * Checks len bytes at buf: no NUL byte; no line whose first non-blank
 * character is '@' (libconfig's @include); nesting of ( { [ at most
 * max_depth (<= CFGSCAN_DEPTH_MAX); at most CFGSCAN_GROUP_MAX settings in
 * one group; no unterminated string or comment; no
 * string where the grammar cannot take one; no integer libconfig would
 * truncate.  name is the file name and what the kind of file ("profile")
 * for messages.  Returns 0 or MUSTER_EDATA "name:line: what is wrong".
 */
int	cfgscan_check(const char *name, const char *what, const char *buf,
	    size_t len, int max_depth, struct muster_err *e);

/*
 * Two of cfgscan_check's checks, for lib/cfgtree.c.  cfgscan_lines: no
 * NUL byte, no line whose first non-blank character is '@'.
 * cfgscan_integer: the n bytes at t, an integer literal as libconfig
 * writes it ([+-]digits or 0xHEX, L or LL for 64 bits), fit what
 * libconfig keeps: 0 with its value in *v, or MUSTER_EDATA "name:line:
 * integer "T" out of range..." (a word that is no integer is 0, *v 0).
 */
int	cfgscan_lines(const char *name, const char *what, const char *buf,
	    size_t len, struct muster_err *e);
int	cfgscan_integer(const char *name, int line, const char *t, size_t n,
	    long long *v, struct muster_err *e);

/*
 * The end of the block comment whose opening slash-star is at p (in [p,
 * end)): the first byte after its star-slash, with *line advanced by the
 * newlines inside; NULL with MUSTER_EDATA "name:line: unterminated
 * comment" (line: the comment's first) when it has none.  For
 * cfgscan_check and lib/cfgtree.c alike.
 */
const char *cfgscan_comment(const char *name, const char *p,
	    const char *end, int *line, struct muster_err *e);

/*
 * cfgscan_check, then config_read_string of a NUL-terminated copy into
 * cfg, which the caller has config_init'ed and destroys whatever the
 * result.  A libconfig syntax error is MUSTER_EDATA "name:line: error".
 */
int	cfgscan_read(config_t *cfg, const char *name, const char *what,
	    const char *buf, size_t len, int max_depth, struct muster_err *e);

/*
 * The gate of a document capped at max bytes (a profile, a root, a
 * manifest): MUSTER_EDATA "name: LEN bytes, more than the limit of MAX"
 * when len > max, then cfgscan_read.  A NULL buf reads as "" when len is
 * 0 and is MUSTER_EINTERNAL "name: no buffer" otherwise.  cfg as for
 * cfgscan_read: the caller config_init's and destroys it.
 */
int	cfgscan_read_max(config_t *cfg, const char *name, const char *what,
	    const char *buf, size_t len, size_t max, int max_depth,
	    struct muster_err *e);

/*
 * cfgscan_read_max for a document that may not be empty (a root, a
 * manifest): a NULL buf or len 0 is MUSTER_EDATA "name: empty what".
 */
int	cfgscan_read_doc(config_t *cfg, const char *name, const char *what,
	    const char *buf, size_t len, size_t max, int max_depth,
	    struct muster_err *e);

#endif
