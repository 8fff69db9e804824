/* pass: passphrases from a private file or the terminal, in sodium memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/ascii.h"
#include "muster/fs.h"
#include "muster/pass.h"
#include "muster/sig.h"

void
pass_free(char *p)
{
	if (p != NULL)
		sodium_free(p);
}

/* Keeps the first line of buf (len bytes) in p; 0 or -1 if too long. */
static int
first_line(const char *buf, size_t len, char *p, size_t size)
{
	size_t n = 0;

	while (n < len && buf[n] != '\n' && buf[n] != '\r')
		n++;
	return ascii_copyn(p, size, buf, n);
}

static int
pass_from_file(const char *path, char *p, size_t size, struct muster_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = fs_read_private(path, size + 2, &buf, &len, e)) != 0)
		return rc == MUSTER_ENOINPUT ? err_set(e, MUSTER_ENOINPUT,
		    "%s (named by %s): no such file", path, PASS_ENV) : rc;
	if (first_line(buf, len, p, size) != 0)
		rc = err_set(e, MUSTER_EUSAGE, "%s: passphrase too long",
		    path);
	fs_wipe_free(buf, len);
	return rc;
}

/* Reads one line from the terminal fd with echo off. */
static int
tty_line(int fd, const char *prompt, char *p, size_t size,
    struct muster_err *e)
{
	struct termios old, quiet;
	size_t n = 0;
	ssize_t r;
	char c;
	int rc = 0, restore = 0;

	if (write(fd, prompt, strlen(prompt)) < 0)
		return err_sys(e, MUSTER_EIO, "/dev/tty");
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &quiet) == 0)
			restore = 1;
	}
	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		if (n + 1 >= size) {
			rc = err_set(e, MUSTER_EUSAGE, "passphrase too long");
			continue;	/* drain the line */
		}
		p[n++] = c;
	}
	p[n] = '\0';
	c = 0;
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		c = 0;	/* the newline is cosmetic */
	return rc;
}

int
pass_read(const char *prompt, int confirm, char **out, struct muster_err *e)
{
	const char *file = getenv(PASS_ENV);
	char *p = NULL, *again = NULL;
	int fd = -1, rc;

	*out = NULL;
	if ((p = sodium_malloc(SIG_PASS_MAX)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if (file != NULL && *file != '\0') {
		if ((rc = pass_from_file(file, p, SIG_PASS_MAX, e)) != 0)
			goto out;
	} else {
		if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC))
		    == -1) {
			rc = err_set(e, MUSTER_EUSAGE, "no terminal to ask for "
			    "the passphrase; set %s to a file holding it",
			    PASS_ENV);
			goto out;
		}
		if ((rc = tty_line(fd, prompt, p, SIG_PASS_MAX, e)) != 0)
			goto out;
		if (confirm) {
			if ((again = sodium_malloc(SIG_PASS_MAX)) == NULL) {
				rc = err_set(e, MUSTER_EINTERNAL,
				    "out of memory");
				goto out;
			}
			if ((rc = tty_line(fd, "Again: ", again, SIG_PASS_MAX,
			    e)) != 0)
				goto out;
			if (strcmp(p, again) != 0) {
				rc = err_set(e, MUSTER_EUSAGE, "the "
				    "passphrases do not match");
				goto out;
			}
		}
	}
	if (*p == '\0') {
		rc = err_set(e, MUSTER_EUSAGE, "empty passphrase refused");
		goto out;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	pass_free(again);
	pass_free(p);
	return rc;
}
