/*
 * io: a whole buffer read from or written to a descriptor, retried on
 * EINTR.  libc only, so that muster-reporter (which links no other part
 * of libmuster but lib/https.o) shares it with the agent and lib/fs.c.
 */
#ifndef MUSTER_IO_H
#define MUSTER_IO_H

#include <stddef.h>

/*
 * Reads exactly n bytes from fd into buf (the caller's).  Returns 0, or
 * -1 on an error (errno says which) or on end of file before n bytes
 * (errno untouched); what was read by then is in buf.
 */
int	io_read_all(int fd, void *buf, size_t n);

/* Writes all n bytes of buf to fd; 0, or -1 with errno. */
int	io_write_all(int fd, const void *buf, size_t n);

/*
 * io_write_all for a socket, sent with MSG_NOSIGNAL: a peer that closed
 * its end is -1 (EPIPE), not SIGPIPE.
 */
int	io_send_all(int fd, const void *buf, size_t n);

#endif
