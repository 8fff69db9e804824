/*
 * netscan: the device's open TCP connections, read from the running
 * kernel's /proc/net/tcp and /proc/net/tcp6, for egress-deny rules.  Only
 * remote addresses of sockets that are established or connecting
 * (SYN_SENT) are kept; nothing else of the socket table is read.
 */
#ifndef MUSTER_NETSCAN_H
#define MUSTER_NETSCAN_H

#include <stddef.h>

#include "muster/err.h"
#include "muster/profile.h"

#define NETSCAN_MAX_CONNS	65536
#define NETSCAN_LINE_MAX	512

struct netscan_conn {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* remote address, network order */
	unsigned	port;		/* remote port */
	int		state;		/* kernel TCP state (1 or 2) */
};

struct netscan {
	struct netscan_conn	*conns;
	size_t			 nconns;
};

/*
 * Reads DIR/tcp and DIR/tcp6 (DIR is normally /proc/net; a missing tcp6
 * is not an error).  Returns 0 and fills *ns (netscan_free), or a negative
 * MUSTER_E* with a message.  Malformed lines are MUSTER_EDATA.
 */
int	netscan_load(const char *dir, struct netscan *ns, struct muster_err *e);

/*
 * Parses one line of a /proc/net/tcp{,6} table (not the header).  Returns
 * 1 and fills *c for an established or connecting socket, 0 for any other
 * state, -1 for a malformed line.
 */
int	netscan_parse_line(const char *line, int family,
	    struct netscan_conn *c);

/*
 * Whether c's remote address lies in cidr; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) matches IPv4 ranges.
 */
int	netscan_match(const struct netscan_conn *c, const struct cidr *cidr);

void	netscan_free(struct netscan *ns);

#endif
