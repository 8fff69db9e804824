/*
 * netscan: the device's open TCP connections, for egress-deny rules.  The
 * running kernel is asked through netlink sock_diag (what ss(8) uses),
 * which answers only for the sockets in the states asked for; where
 * netlink is refused (Android's SELinux refuses sock_diag to apps)
 * /proc/net/tcp and /proc/net/tcp6 are read instead.  Only the remote
 * address, port and state of sockets in a state where data can still
 * flow are kept (ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2,
 * CLOSE_WAIT, LAST_ACK: NETSCAN_STATES); nothing else of the socket
 * table is read.
 */
#ifndef MUSTER_NETSCAN_H
#define MUSTER_NETSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "muster/err.h"
#include "muster/profile.h"

#define NETSCAN_MAX_CONNS	65536
#define NETSCAN_LINE_MAX	512
#define NETSCAN_PROC_DIR	"/proc/net"

/*
 * The kernel's TCP states (include/net/tcp_states.h), as /proc/net/tcp
 * prints them in hex and sock_diag reports them.
 */
enum netscan_tcp_state {
	NETSCAN_TCP_ESTABLISHED = 1,
	NETSCAN_TCP_SYN_SENT,
	NETSCAN_TCP_SYN_RECV,
	NETSCAN_TCP_FIN_WAIT1,
	NETSCAN_TCP_FIN_WAIT2,
	NETSCAN_TCP_TIME_WAIT,
	NETSCAN_TCP_CLOSE,
	NETSCAN_TCP_CLOSE_WAIT,
	NETSCAN_TCP_LAST_ACK,
	NETSCAN_TCP_LISTEN,
	NETSCAN_TCP_CLOSING,
	NETSCAN_TCP_NEW_SYN_RECV,	/* request socket, as SYN_RECV */
};

/*
 * The states counted, as a bitmask of 1 << state (sock_diag's
 * idiag_states): every state in which data can still flow.  TIME_WAIT,
 * CLOSE, LISTEN and CLOSING are not counted.
 */
#define NETSCAN_STATES	(			\
	(1u << NETSCAN_TCP_ESTABLISHED) |	\
	(1u << NETSCAN_TCP_SYN_SENT) |		\
	(1u << NETSCAN_TCP_SYN_RECV) |		\
	(1u << NETSCAN_TCP_FIN_WAIT1) |		\
	(1u << NETSCAN_TCP_FIN_WAIT2) |		\
	(1u << NETSCAN_TCP_CLOSE_WAIT) |	\
	(1u << NETSCAN_TCP_LAST_ACK))

struct netscan_conn {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* remote address, network order */
	unsigned	port;		/* remote port */
	int		state;		/* a counted NETSCAN_TCP_* state */
};

struct netscan {
	struct netscan_conn	*conns;
	size_t			 nconns;
};

/*
 * The running kernel's connections: through sock_diag (netscan_diag.h),
 * or, where netlink is refused, from NETSCAN_PROC_DIR (netscan_load).
 * Returns 0 and fills *ns (netscan_free), or a negative MUSTER_E* with a
 * message; never a partial table.
 */
int	netscan_load_kernel(struct netscan *ns, struct muster_err *e);

/*
 * Reads DIR/tcp and DIR/tcp6 (DIR is normally /proc/net; a missing tcp6
 * is not an error).  Returns 0 and fills *ns (netscan_free), or a negative
 * MUSTER_E* with a message.  Malformed lines are MUSTER_EDATA.
 */
int	netscan_load(const char *dir, struct netscan *ns, struct muster_err *e);

/* Whether state (a NETSCAN_TCP_* value) is in NETSCAN_STATES. */
int	netscan_state_counted(int state);

/*
 * Appends c to ns, whose array has *cap entries (grown here).  Returns 0,
 * MUSTER_EDATA when ns already holds NETSCAN_MAX_CONNS connections, or
 * MUSTER_EINTERNAL when out of memory; sets no message.
 */
int	netscan_push(struct netscan *ns, size_t *cap,
	    const struct netscan_conn *c);

/*
 * Parses one line of a /proc/net/tcp{,6} table (not the header).  Returns
 * 1 and fills *c for a socket in NETSCAN_STATES, 0 for any other state, -1
 * for a malformed line.
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
