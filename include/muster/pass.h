/*
 * pass: passphrases, from the file named by MUSTER_PASSPHRASE_FILE or
 * from a prompt on the controlling terminal, into sodium memory.
 */
#ifndef MUSTER_PASS_H
#define MUSTER_PASS_H

#include "muster/err.h"

#define PASS_ENV	"MUSTER_PASSPHRASE_FILE"

/*
 * Reads a passphrase.  With MUSTER_PASSPHRASE_FILE set, its first line
 * (without the newline) is the passphrase; the file must not be readable
 * by others.  Otherwise prompt is shown on /dev/tty and the answer read
 * with echo off; with confirm set it is asked twice and must match.  An
 * empty passphrase is refused.  On success *out is a sodium_malloc'd
 * NUL-terminated string the caller releases with pass_free.  Returns
 * MUSTER_EUSAGE when there is neither a file nor a terminal.
 */
int	pass_read(const char *prompt, int confirm, char **out,
	    struct muster_err *e) __attribute__((warn_unused_result));

/* Wipes and frees a passphrase; NULL is a no-op. */
void	pass_free(char *p);

#endif
