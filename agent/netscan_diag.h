/*
 * netscan_diag: the running kernel's TCP sockets through NETLINK_SOCK_DIAG,
 * asked for only in the states netscan counts (NETSCAN_STATES) and read
 * for their family, state, remote address and port alone.  netscan.c
 * falls back to /proc/net/tcp{,6} where netlink is refused.
 */
#ifndef MUSTER_NETSCAN_DIAG_H
#define MUSTER_NETSCAN_DIAG_H

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"
#include "netscan.h"

/*
 * sock_diag limits: one datagram of a dump answer is read into a buffer of
 * NETSCAN_DIAG_BUF bytes (the kernel's dump datagrams are at most 32 KiB;
 * a larger one is refused as truncated), and each receive waits at most
 * NETSCAN_DIAG_TIMEOUT_MS.
 */
#define NETSCAN_DIAG_BUF	32768
#define NETSCAN_DIAG_TIMEOUT_MS	2000

/*
 * Asks the kernel for its TCP sockets in NETSCAN_STATES through one
 * NETLINK_SOCK_DIAG socket (closed before returning): for family
 * AF_UNSPEC both families in one dump (TCPDIAG_GETSOCK, one walk of the
 * kernel's hash table), or, if the kernel refuses that, one
 * SOCK_DIAG_BY_FAMILY dump per family; for AF_INET or AF_INET6 only
 * that family's SOCK_DIAG_BY_FAMILY dump.  Returns 0 and fills *ns
 * (netscan_free); MUSTER_EUNAVAIL when netlink is refused (socket,
 * request or answer failing with EPERM, EACCES, EAFNOSUPPORT,
 * EPROTONOSUPPORT, ENOENT, EOPNOTSUPP or EINVAL), so that the caller may
 * read /proc instead; or another negative MUSTER_E* (a malformed or
 * truncated answer, a silent kernel, more than NETSCAN_MAX_CONNS
 * sockets).  On error *ns is empty.
 */
int	netscan_diag_load(int family, struct netscan *ns,
	    struct muster_err *e);

/*
 * Walks one datagram (buf, len bytes) of the kernel's answer to the dump
 * request numbered seq, for family (AF_UNSPEC: the one-walk request of
 * both families), sent from the netlink port pid.  Every message must be
 * whole, carry seq and pid, and be a socket (its type the request's:
 * TCPDIAG_GETSOCK for AF_UNSPEC, else SOCK_DIAG_BY_FAMILY) of the family
 * asked for in NETSCAN_STATES (a NEW_SYN_RECV one counts as SYN_RECV;
 * one that closed while the kernel dumped, in TIME_WAIT, CLOSE or
 * CLOSING, is skipped), NLMSG_DONE (the last message) or NLMSG_ERROR.
 * Each socket is appended
 * to ns, whose array has *cap entries allocated (0 at first; ns is the
 * caller's to netscan_free, also after an error).  Returns 1 when
 * NLMSG_DONE ended the datagram, 0 when more datagrams follow,
 * MUSTER_EUNAVAIL for an error answer meaning refusal (as
 * netscan_diag_load), MUSTER_EOS for another error answer, or
 * MUSTER_EDATA for anything malformed or unexpected.
 */
int	netscan_diag_parse(const void *buf, size_t len, int family,
	    uint32_t seq, uint32_t pid, struct netscan *ns, size_t *cap,
	    struct muster_err *e);

#endif
