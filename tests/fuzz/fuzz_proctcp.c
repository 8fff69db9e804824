/*
 * fuzz_proctcp: the /proc/net/tcp and tcp6 reader of agent/netscan.c,
 * which egress-deny rules rely on.  Each input is a whole table: every
 * line goes to netscan_parse_line as an IPv4 and as an IPv6 line, and the
 * text is loaded by netscan_load from a directory in the harness's
 * scratch space: up to its second header line ("  sl ...") as tcp, the
 * rest, if there is a second header, as tcp6 (so a seed is the two files
 * one after the other).  Whatever is kept must match its own address.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/profile.h"
#include "../../agent/netscan.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char dir[4096], tcp[4200], tcp6[4200];
static struct cidr cidrs[6];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const nets[] = {
		"203.0.113.0/24", "0.0.0.0/0", "127.0.0.1/32", "::/0",
		"2001:db8::/32", "::ffff:203.0.113.0/120",
	};
	size_t i;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	snprintf(dir, sizeof dir, "%s", fuzz_tmpdir("fuzz_proctcp"));
	snprintf(tcp, sizeof tcp, "%s/tcp", dir);
	snprintf(tcp6, sizeof tcp6, "%s/tcp6", dir);
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

	FUZZ_ASSERT(c->family == family && netscan_state_counted(c->state) &&
	    c->port <= 0xffff, "bad connection kept");
	for (i = 0; i < sizeof cidrs / sizeof cidrs[0]; i++)
		(void)netscan_match(c, &cidrs[i]);
	/* An address is in its own /32 or /128. */
	memset(&host, 0, sizeof host);
	host.family = family;
	host.prefix = family == AF_INET ? 32 : 128;
	memcpy(host.addr, c->addr, sizeof host.addr);
	FUZZ_ASSERT(netscan_match(c, &host), "no match with its own address");
}

static void
lines(const uint8_t *data, size_t size)
{
	struct netscan_conn c;
	const uint8_t *p = data, *end = data + size, *nl;
	char *line;
	int rc;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		line = fuzz_strndup(p, (size_t)((nl != NULL ? nl : end) - p));
		rc = netscan_parse_line(line, AF_INET, &c);
		FUZZ_ASSERT(rc >= -1 && rc <= 1, "parse_line: %d", rc);
		if (rc == 1)
			check_conn(&c, AF_INET);
		rc = netscan_parse_line(line, AF_INET6, &c);
		FUZZ_ASSERT(rc >= -1 && rc <= 1, "parse_line: %d", rc);
		if (rc == 1)
			check_conn(&c, AF_INET6);
		free(line);
		p = nl != NULL ? nl + 1 : end;
	}
}

/* Where the second table starts: its header line, else size. */
static size_t
second_table(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl, *s;

	if ((nl = memchr(p, '\n', size)) == NULL)
		return size;
	for (p = nl + 1; p < end; p = nl + 1) {
		for (s = p; s < end && *s == ' '; s++)
			;
		if (end - s >= 3 && memcmp(s, "sl ", 3) == 0)
			return (size_t)(p - data);
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
	}
	return size;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct netscan ns = { NULL, 0 };
	struct muster_err e;
	size_t i, split;
	int rc;

	lines(data, size);
	split = second_table(data, size);
	if (fuzz_write(tcp, data, split, 0600) != 0)
		abort();
	if (split < size) {
		if (fuzz_write(tcp6, data + split, size - split, 0600) != 0)
			abort();
	} else
		unlink(tcp6);
	rc = netscan_load(dir, &ns, &e);
	if (rc != 0) {
		FUZZ_ASSERT(rc == MUSTER_EDATA && ns.conns == NULL &&
		    ns.nconns == 0, "netscan_load: %d (%s)", rc, e.msg);
		return 0;
	}
	for (i = 0; i < ns.nconns; i++)
		FUZZ_ASSERT(ns.conns[i].family == AF_INET ||
		    ns.conns[i].family == AF_INET6, "bad family");
	netscan_free(&ns);
	return 0;
}
