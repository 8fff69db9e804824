/* io: whole-buffer reads and writes; see include/muster/io.h. */
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <unistd.h>

#include "muster/io.h"

enum io_op { IO_READ, IO_WRITE, IO_SEND };

/*
 * The one loop of the three: one call moves what it can, EINTR retries,
 * an error or an end of file (0) stops it.  IO_WRITE and IO_SEND only
 * read the bytes at p.
 */
static int
io_all(int fd, unsigned char *p, size_t n, enum io_op op)
{
	ssize_t r;

	while (n > 0) {
		if (op == IO_READ)
			r = read(fd, p, n);
		else if (op == IO_WRITE)
			r = write(fd, p, n);
		else
			r = send(fd, p, n, MSG_NOSIGNAL);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
io_read_all(int fd, void *buf, size_t n)
{
	return io_all(fd, buf, n, IO_READ);
}

int
io_write_all(int fd, const void *buf, size_t n)
{
	return io_all(fd, (void *)buf, n, IO_WRITE);
}

int
io_send_all(int fd, const void *buf, size_t n)
{
	return io_all(fd, (void *)buf, n, IO_SEND);
}
