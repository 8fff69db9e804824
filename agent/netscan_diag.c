/*
 * netscan_diag: the open TCP connections of the running kernel, asked
 * through NETLINK_SOCK_DIAG, as ss(8) does; see agent/netscan.h.
 *
 * The kernel filters by state itself (idiag_states = NETSCAN_STATES) and
 * formats nothing, where /proc/net/tcp prints every socket of the hash
 * table as text.  Either way the kernel walks its whole established hash
 * table (262144 buckets on a machine with 24 GB), and that walk is most
 * of the cost, so the dump of both families is asked in one request
 * when the kernel allows: TCPDIAG_GETSOCK with struct inet_diag_req
 * dumps IPv4 and IPv6 sockets in one walk (the kernel runs it with
 * AF_UNSPEC), where SOCK_DIAG_BY_FAMILY with struct inet_diag_req_v2
 * walks once per family.  If the one-walk request is refused, the
 * per-family requests follow on the same socket; if they are refused too,
 * MUSTER_EUNAVAIL tells the caller to read /proc.
 *
 * No extension is asked for, so each answer is a struct inet_diag_msg per
 * socket, of which only the family, the state, the remote address and
 * the remote port are read.
 *
 * Limits: a datagram over NETSCAN_DIAG_BUF bytes (MSG_TRUNC), a message
 * whose length runs past its datagram, a sequence number or port id that
 * is not our request's, a sender that is not the kernel, an unknown
 * message type, a socket of a family or state not asked for, a datagram
 * with neither a socket nor the end of the dump, more than
 * NETSCAN_MAX_CONNS sockets, or no answer within NETSCAN_DIAG_TIMEOUT_MS
 * make the load fail rather than return a partial table.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/err.h"
#include "netscan.h"
#include "netscan_diag.h"

/* The requests: a netlink header and the dump filter, nothing else. */
struct diag_request_both {
	struct nlmsghdr		nlh;
	struct inet_diag_req	req;
};

struct diag_request_family {
	struct nlmsghdr		nlh;
	struct inet_diag_req_v2	req;
};

/*
 * Whether err (an errno value) says that netlink or sock_diag is not
 * allowed or not there: SELinux and seccomp answer EACCES or EPERM, a
 * kernel without netlink or without the family's diag handler (module
 * not loaded) EAFNOSUPPORT, EPROTONOSUPPORT or ENOENT, one that does not
 * know the request EOPNOTSUPP or EINVAL.
 */
static int
refused(int err)
{
	return err == EPERM || err == EACCES || err == EAFNOSUPPORT ||
	    err == EPROTONOSUPPORT || err == ENOENT || err == EOPNOTSUPP ||
	    err == EINVAL;
}

/* For messages: what a request for family (AF_UNSPEC: both) dumps. */
static const char *
family_name(int family)
{
	if (family == AF_UNSPEC)
		return "TCP";
	return family == AF_INET ? "IPv4" : "IPv6";
}

/* An error answer (NLMSG_ERROR, or NLMSG_DONE carrying an error). */
static int
answer_error(int err, int family, const char *what, struct muster_err *e)
{
	int code = refused(err) ? MUSTER_EUNAVAIL : MUSTER_EOS;

	return err_set(e, code, "sock_diag %s: %s: %s", family_name(family),
	    what, strerror(err));
}

/*
 * One struct inet_diag_msg (len bytes at p) into ns.  Only the family,
 * the state, the remote port and the remote address are read, each
 * copied from its offset (the buffer need not be aligned: a fuzzer's is
 * not); the uid, inode, cookie and the rest stay unread.
 */
static int
diag_socket(const unsigned char *p, size_t len, int family,
    struct netscan *ns, size_t *cap, struct muster_err *e)
{
	struct netscan_conn c;
	uint16_t dport;
	int rc, fam, st;

	if (len < sizeof(struct inet_diag_msg))
		return err_set(e, MUSTER_EDATA, "sock_diag %s: socket message "
		    "of %zu bytes (want %zu)", family_name(family), len,
		    sizeof(struct inet_diag_msg));
	fam = p[offsetof(struct inet_diag_msg, idiag_family)];
	if ((fam != AF_INET && fam != AF_INET6) ||
	    (family != AF_UNSPEC && fam != family))
		return err_set(e, MUSTER_EDATA, "sock_diag %s: socket of "
		    "family %d in the answer", family_name(family), fam);
	st = p[offsetof(struct inet_diag_msg, idiag_state)];
	if (st == NETSCAN_TCP_NEW_SYN_RECV)
		st = NETSCAN_TCP_SYN_RECV;
	/*
	 * The kernel filters on the state before it takes the socket and
	 * reads the state again when it fills the message: a connection
	 * closing in between arrives in a closing state.  No data flows
	 * there; it is skipped.  Any other state was never asked for.
	 */
	if (st == NETSCAN_TCP_TIME_WAIT || st == NETSCAN_TCP_CLOSE ||
	    st == NETSCAN_TCP_CLOSING)
		return 0;
	if (!netscan_state_counted(st))
		return err_set(e, MUSTER_EDATA, "sock_diag %s: socket in "
		    "state %d, which was not asked for", family_name(family),
		    st);
	memset(&c, 0, sizeof c);
	c.family = fam;
	c.state = st;
	memcpy(&dport, p + offsetof(struct inet_diag_msg, id.idiag_dport),
	    sizeof dport);
	c.port = ntohs(dport);
	memcpy(c.addr, p + offsetof(struct inet_diag_msg, id.idiag_dst),
	    fam == AF_INET ? 4 : 16);
	if ((rc = netscan_push(ns, cap, &c)) == MUSTER_EDATA)
		return err_set(e, MUSTER_EDATA, "sock_diag: more than %d open "
		    "connections; not checking a partial table",
		    NETSCAN_MAX_CONNS);
	if (rc < 0)
		return err_set(e, MUSTER_EINTERNAL, "sock_diag: out of memory");
	return 0;
}

/*
 * One whole message h (its payload at p, h->nlmsg_len - sizeof *h bytes)
 * of the answer for family.  Returns 1 for the end of the dump, 0 for a
 * socket (appended to ns), or a negative MUSTER_E*.
 */
static int
diag_message(const struct nlmsghdr *h, const unsigned char *p, int family,
    struct netscan *ns, size_t *cap, struct muster_err *e)
{
	size_t plen = h->nlmsg_len - sizeof *h;
	int32_t status;

	/* A socket's message echoes the request's type. */
	if (h->nlmsg_type == (family == AF_UNSPEC ? TCPDIAG_GETSOCK :
	    SOCK_DIAG_BY_FAMILY))
		return diag_socket(p, plen, family, ns, cap, e);
	if (h->nlmsg_type != NLMSG_DONE && h->nlmsg_type != NLMSG_ERROR)
		return err_set(e, MUSTER_EDATA, "sock_diag %s: unexpected "
		    "message type %u", family_name(family),
		    (unsigned)h->nlmsg_type);
	/*
	 * NLMSG_ERROR starts with the (negative) errno; NLMSG_DONE carries
	 * the dump's status since Linux 4.x, and nothing before.
	 */
	if (plen < sizeof status) {
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		return err_set(e, MUSTER_EDATA, "sock_diag %s: truncated "
		    "error message", family_name(family));
	}
	memcpy(&status, p, sizeof status);
	if (status == INT32_MIN || (status >= 0 && h->nlmsg_type ==
	    NLMSG_ERROR) || (status > 0 && h->nlmsg_type == NLMSG_DONE))
		return err_set(e, MUSTER_EDATA, "sock_diag %s: %s with status "
		    "%d", family_name(family), h->nlmsg_type == NLMSG_DONE ?
		    "end of dump" : "error message", (int)status);
	if (status < 0)
		return answer_error(-status, family, h->nlmsg_type ==
		    NLMSG_DONE ? "dump failed" : "request refused", e);
	return 1;
}

int
netscan_diag_parse(const void *buf, size_t len, int family, uint32_t seq,
    uint32_t pid, struct netscan *ns, size_t *cap, struct muster_err *e)
{
	const unsigned char *p = buf;
	struct nlmsghdr h;
	size_t off = 0, step;
	int done = 0;

	if ((buf == NULL && len > 0) || ns == NULL || cap == NULL ||
	    (family != AF_UNSPEC && family != AF_INET && family != AF_INET6))
		return err_set(e, MUSTER_EUSAGE, "netscan_diag_parse: bad "
		    "arguments");
	if (len == 0)
		return err_set(e, MUSTER_EDATA, "sock_diag %s: empty datagram",
		    family_name(family));
	while (off < len) {
		if (done)
			return err_set(e, MUSTER_EDATA, "sock_diag %s: data "
			    "after the end of the dump", family_name(family));
		if (len - off < sizeof h)
			return err_set(e, MUSTER_EDATA, "sock_diag %s: "
			    "truncated message header (%zu bytes)",
			    family_name(family), len - off);
		memcpy(&h, p + off, sizeof h);
		if (h.nlmsg_len < sizeof h || h.nlmsg_len > len - off)
			return err_set(e, MUSTER_EDATA, "sock_diag %s: message "
			    "length %u with %zu bytes left",
			    family_name(family), (unsigned)h.nlmsg_len,
			    len - off);
		if (h.nlmsg_seq != seq || h.nlmsg_pid != pid)
			return err_set(e, MUSTER_EDATA, "sock_diag %s: message "
			    "for request %u of port %u, not ours (%u of %u)",
			    family_name(family), (unsigned)h.nlmsg_seq,
			    (unsigned)h.nlmsg_pid, (unsigned)seq,
			    (unsigned)pid);
		if ((done = diag_message(&h, p + off + sizeof h, family, ns,
		    cap, e)) < 0)
			return done;
		/* NLMSG_ALIGN, in size_t so that it cannot wrap to 0. */
		step = ((size_t)h.nlmsg_len + NLMSG_ALIGNTO - 1) /
		    NLMSG_ALIGNTO * NLMSG_ALIGNTO;
		off = step > len - off ? len : off + step;
	}
	return done;
}

/*
 * Sends the dump request numbered seq: for family AF_UNSPEC the one-walk
 * TCPDIAG_GETSOCK, else SOCK_DIAG_BY_FAMILY for family.
 */
static int
diag_send(int fd, int family, uint32_t seq, struct muster_err *e)
{
	struct sockaddr_nl kernel;
	struct diag_request_both b;
	struct diag_request_family f;
	struct nlmsghdr *h;
	const void *r;
	size_t len;
	ssize_t n;

	memset(&kernel, 0, sizeof kernel);
	kernel.nl_family = AF_NETLINK;
	if (family == AF_UNSPEC) {
		memset(&b, 0, sizeof b);
		h = &b.nlh;
		h->nlmsg_type = TCPDIAG_GETSOCK;
		b.req.idiag_states = NETSCAN_STATES;
		r = &b;
		len = sizeof b;
	} else {
		memset(&f, 0, sizeof f);
		h = &f.nlh;
		h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		f.req.sdiag_family = (uint8_t)family;
		f.req.sdiag_protocol = IPPROTO_TCP;
		f.req.idiag_states = NETSCAN_STATES;
		r = &f;
		len = sizeof f;
	}
	h->nlmsg_len = (uint32_t)len;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	h->nlmsg_seq = seq;
	do
		n = sendto(fd, r, len, 0, (struct sockaddr *)&kernel,
		    sizeof kernel);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return err_sys(e, refused(errno) ? MUSTER_EUNAVAIL : MUSTER_EOS,
		    "sock_diag %s: send", family_name(family));
	if ((size_t)n != len)
		return err_set(e, MUSTER_EOS, "sock_diag %s: short send",
		    family_name(family));
	return 0;
}

/*
 * Reads the whole answer to request seq into ns.  Each datagram that does
 * not end the dump must hold a socket, so at most NETSCAN_MAX_CONNS + 1
 * datagrams are read before the cap refuses the table.
 */
static int
diag_recv(int fd, unsigned char *buf, int family, uint32_t seq,
    uint32_t pid, struct netscan *ns, size_t *cap, struct muster_err *e)
{
	struct sockaddr_nl from;
	struct msghdr msg;
	struct iovec iov;
	size_t before;
	ssize_t n;
	int rc;

	for (;;) {
		memset(&from, 0, sizeof from);
		memset(&msg, 0, sizeof msg);
		iov.iov_base = buf;
		iov.iov_len = NETSCAN_DIAG_BUF;
		msg.msg_name = &from;
		msg.msg_namelen = sizeof from;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		do
			n = recvmsg(fd, &msg, 0);
		while (n == -1 && errno == EINTR);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return err_set(e, MUSTER_ETEMP, "sock_diag %s: no "
			    "answer from the kernel within %d ms",
			    family_name(family), NETSCAN_DIAG_TIMEOUT_MS);
		if (n == -1)
			return err_sys(e, refused(errno) ? MUSTER_EUNAVAIL :
			    MUSTER_EOS, "sock_diag %s: receive",
			    family_name(family));
		if (msg.msg_flags & MSG_TRUNC)
			return err_set(e, MUSTER_EDATA, "sock_diag %s: "
			    "datagram over %d bytes", family_name(family),
			    NETSCAN_DIAG_BUF);
		if (msg.msg_namelen != sizeof from ||
		    from.nl_family != AF_NETLINK || from.nl_pid != 0)
			return err_set(e, MUSTER_EDATA, "sock_diag %s: "
			    "datagram not from the kernel",
			    family_name(family));
		before = ns->nconns;
		rc = netscan_diag_parse(buf, (size_t)n, family, seq, pid, ns,
		    cap, e);
		if (rc != 0)
			return rc < 0 ? rc : 0;
		if (ns->nconns == before)
			return err_set(e, MUSTER_EDATA, "sock_diag %s: "
			    "datagram with no socket and no end",
			    family_name(family));
	}
}

/* One dump (see diag_send) into ns. */
static int
diag_dump(int fd, unsigned char *buf, int family, uint32_t seq,
    uint32_t pid, struct netscan *ns, size_t *cap, struct muster_err *e)
{
	int rc;

	if ((rc = diag_send(fd, family, seq, e)) < 0)
		return rc;
	return diag_recv(fd, buf, family, seq, pid, ns, cap, e);
}

int
netscan_diag_load(int family, struct netscan *ns, struct muster_err *e)
{
	struct netscan r = { NULL, 0 };
	struct sockaddr_nl self;
	struct timeval tv;
	socklen_t slen = sizeof self;
	unsigned char *buf = NULL;
	size_t cap = 0;
	int fd = -1, rc;

	if (ns == NULL)
		return err_set(e, MUSTER_EUSAGE, "netscan_diag_load: no "
		    "output");
	ns->conns = NULL;
	ns->nconns = 0;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) {
		rc = err_set(e, MUSTER_EUSAGE, "netscan_diag_load: family %d",
		    family);
		goto out;
	}
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd == -1) {
		rc = err_sys(e, refused(errno) ? MUSTER_EUNAVAIL : MUSTER_EOS,
		    "sock_diag: socket");
		goto out;
	}
	/* A silent kernel must not hang the agent. */
	tv.tv_sec = NETSCAN_DIAG_TIMEOUT_MS / 1000;
	tv.tv_usec = (NETSCAN_DIAG_TIMEOUT_MS % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == -1) {
		rc = err_sys(e, MUSTER_EOS, "sock_diag: SO_RCVTIMEO");
		goto out;
	}
	/* Bound now, so that the port id the answers must carry is known. */
	memset(&self, 0, sizeof self);
	self.nl_family = AF_NETLINK;
	if (bind(fd, (struct sockaddr *)&self, sizeof self) == -1 ||
	    getsockname(fd, (struct sockaddr *)&self, &slen) == -1) {
		rc = err_sys(e, refused(errno) ? MUSTER_EUNAVAIL : MUSTER_EOS,
		    "sock_diag: bind");
		goto out;
	}
	if (slen != sizeof self || self.nl_family != AF_NETLINK) {
		rc = err_set(e, MUSTER_EOS, "sock_diag: no netlink address");
		goto out;
	}
	if ((buf = malloc(NETSCAN_DIAG_BUF)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "sock_diag: out of memory");
		goto out;
	}
	if (family != AF_UNSPEC) {
		rc = diag_dump(fd, buf, family, 1, self.nl_pid, &r, &cap, e);
		goto done;
	}
	rc = diag_dump(fd, buf, AF_UNSPEC, 1, self.nl_pid, &r, &cap, e);
	if (rc != MUSTER_EUNAVAIL)
		goto done;
	/* The one-walk request refused: one walk per family. */
	r.nconns = 0;
	if ((rc = diag_dump(fd, buf, AF_INET, 2, self.nl_pid, &r, &cap,
	    e)) < 0)
		goto out;
	rc = diag_dump(fd, buf, AF_INET6, 3, self.nl_pid, &r, &cap, e);
done:
	if (rc < 0)
		goto out;
	rc = 0;
	*ns = r;
	r.conns = NULL;
out:
	free(buf);
	free(r.conns);
	if (fd != -1)
		close(fd);
	return rc;
}
