/*
 * fuzz_sockdiag: the walker of the kernel's sock_diag answers in
 * agent/netscan_diag.c, which egress-deny rules rely on when netlink is
 * allowed.  Each input is one datagram as recvmsg() hands it over; it is
 * walked as the answer to the one-walk request of both families
 * (TCPDIAG_GETSOCK) and to the per-family requests (SOCK_DIAG_BY_FAMILY,
 * IPv4 and IPv6), for request FUZZ_SEQ of port FUZZ_PID (the seeds,
 * real answers of a kernel, were rewritten to carry them).  Whatever is
 * kept must be a socket of the family asked for, in a counted state, and
 * match its own address; an error leaves only what was kept before it.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/profile.h"
#include "../../agent/netscan.h"
#include "../../agent/netscan_diag.h"
#include "fuzz.h"

#define FUZZ_SEQ	1u
#define FUZZ_PID	0x4d555354u	/* "TSUM" as the bytes of a seed read */

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct cidr cidrs[4];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const nets[] = {
		"127.0.0.0/8", "0.0.0.0/0", "::/0", "::ffff:127.0.0.0/104",
	};
	size_t i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (i = 0; i < sizeof nets / sizeof nets[0]; i++)
		if (profile_cidr_parse(nets[i], &cidrs[i]) != 0)
			abort();
	return 0;
}

static void
check_conn(const struct netscan_conn *c, int family)
{
	struct cidr host;
	size_t i;

	FUZZ_ASSERT((c->family == AF_INET || c->family == AF_INET6) &&
	    (family == AF_UNSPEC || c->family == family) &&
	    netscan_state_counted(c->state) && c->port <= 0xffff,
	    "bad connection kept");
	for (i = 0; i < sizeof cidrs / sizeof cidrs[0]; i++)
		(void)netscan_match(c, &cidrs[i]);
	memset(&host, 0, sizeof host);
	host.family = c->family;
	host.prefix = c->family == AF_INET ? 32 : 128;
	memcpy(host.addr, c->addr, sizeof host.addr);
	FUZZ_ASSERT(netscan_match(c, &host), "no match with its own address");
}

static void
walk(const uint8_t *data, size_t size, int family)
{
	struct netscan ns = { NULL, 0 };
	struct muster_err e = { 0, "" };
	size_t cap = 0, i;
	int rc;

	rc = netscan_diag_parse(data, size, family, FUZZ_SEQ, FUZZ_PID, &ns,
	    &cap, &e);
	FUZZ_ASSERT(rc == 0 || rc == 1 || rc == MUSTER_EDATA ||
	    rc == MUSTER_EUNAVAIL || rc == MUSTER_EOS, "parse: %d (%s)", rc,
	    e.msg);
	FUZZ_ASSERT(rc >= 0 || e.msg[0] != '\0', "error without a message");
	/* Each socket takes a whole message of at least a header. */
	FUZZ_ASSERT(ns.nconns <= size / 16 && ns.nconns <= cap,
	    "%zu sockets from %zu bytes", ns.nconns, size);
	for (i = 0; i < ns.nconns; i++)
		check_conn(&ns.conns[i], family);
	netscan_free(&ns);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	/* An exact-size copy, so that a read past the end is caught. */
	if ((copy = malloc(size == 0 ? 1 : size)) == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	walk(copy, size, AF_UNSPEC);
	walk(copy, size, AF_INET);
	walk(copy, size, AF_INET6);
	free(copy);
	return 0;
}
