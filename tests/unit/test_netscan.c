/*
 * Unit tests for agent/netscan.c and netscan_diag.c: lines of
 * /proc/net/tcp{,6} parse into the right remote address, port and state;
 * malformed lines, long lines and oversized tables are refused; sock_diag
 * answers are walked strictly (truncated, oversized, foreign, wrong-type
 * and error messages refused); ranges match as they should; and real
 * loopback connections, established, half-closed (CLOSE_WAIT, FIN_WAIT2)
 * and in TIME_WAIT, are seen alike (or not at all) by the netlink and
 * the /proc readers of the running kernel.
 * Run from the top of the tree (tests/data/proc holds the samples).
 */
#include "unit.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "../../agent/netscan.h"
#include "../../agent/netscan_diag.h"

#define SAMPLES	"tests/data/proc"

/* Sample lines as the kernel writes them (little-endian words). */
#define L4_EST	"   2: 0F02000A:A2C4 057100CB:01BB 01 00000000:00000000 " \
		"00:00000000 00000000  1000        0 40001 1 0000000000000000 " \
		"20 4 30 10 -1"
#define L6_EST	"   2: B80D0120000000000000000002000000:A2D2 " \
		"B80D0120000000000000000001000000:01BB 01 00000000:00000000 " \
		"00:00000000 00000000  1000        0 40011 1 0000000000000000 " \
		"100 0 0 10 0"

struct tmpdir {
	char	path[64];
};

static int
little_endian(void)
{
	uint32_t x = 1;

	return *(unsigned char *)&x == 1;
}

/* The samples are written for a little-endian host. */
static void
need_little_endian(void)
{
	if (!little_endian())
		skip();
}

static void
addr_is(const struct netscan_conn *c, int family, const char *text)
{
	unsigned char want[16];

	memset(want, 0, sizeof want);
	assert_int_equal(c->family, family);
	assert_int_equal(inet_pton(family, text, want), 1);
	assert_memory_equal(c->addr, want, family == AF_INET ? 4 : 16);
}

static struct cidr
cidr(const char *s)
{
	struct cidr c;

	if (profile_cidr_parse(s, &c) != 0)
		fail_msg("bad test CIDR %s", s);
	return c;
}

static void
tmp_open(struct tmpdir *t)
{
	assert_true(sizeof t->path >= UNIT_TMPDIR_MAX);
	assert_int_equal(unit_tmpdir(t->path, "netscan"), 0);
}

static void
tmp_write(struct tmpdir *t, const char *name, const char *data, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", t->path, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
tmp_writes(struct tmpdir *t, const char *name, const char *data)
{
	tmp_write(t, name, data, strlen(data));
}

static void
tmp_close(struct tmpdir *t)
{
	char path[128];

	snprintf(path, sizeof path, "%s/tcp", t->path);
	unlink(path);
	snprintf(path, sizeof path, "%s/tcp6", t->path);
	unlink(path);
	assert_int_equal(rmdir(t->path), 0);
}

#define HDR4	"  sl  local_address rem_address   st tx_queue rx_queue tr " \
		"tm->when retrnsmt   uid  timeout inode\n"
#define HDR6	"  sl  local_address                         remote_address" \
		"                        st tx_queue rx_queue tr tm->when " \
		"retrnsmt   uid  timeout inode\n"

static void
test_parse_v4(void **state)
{
	struct netscan_conn c;

	(void)state;
	need_little_endian();
	assert_int_equal(netscan_parse_line(L4_EST, AF_INET, &c), 1);
	addr_is(&c, AF_INET, "203.0.113.5");
	assert_int_equal(c.port, 443);
	assert_int_equal(c.state, 1);

	/* SYN_SENT is kept too; lowercase hex is accepted. */
	assert_int_equal(netscan_parse_line(
	    "3: 0f02000a:a2c6 076433c6:0050 02", AF_INET, &c), 1);
	addr_is(&c, AF_INET, "198.51.100.7");
	assert_int_equal(c.port, 80);
	assert_int_equal(c.state, 2);

	/* A line read with its newline still parses. */
	assert_int_equal(netscan_parse_line(
	    "0: 0100007F:C350 0300007F:1F90 01\n", AF_INET, &c), 1);
	addr_is(&c, AF_INET, "127.0.0.3");
	assert_int_equal(c.port, 8080);
}

static void
test_parse_states(void **state)
{
	static const struct {
		const char	*st;
		int		 want;
	} cases[] = {
		/* Every state in which data can still flow... */
		{ "01", 1 }, { "02", 1 }, { "03", 1 }, { "04", 1 },
		{ "05", 1 }, { "08", 1 }, { "09", 1 },
		/* ...and not TIME_WAIT, CLOSE, LISTEN, CLOSING or others. */
		{ "06", 0 }, { "07", 0 }, { "0A", 0 }, { "0B", 0 },
		{ "0C", 0 }, { "00", 0 }, { "FF", 0 }, { "11", 0 },
		{ "10", 0 }, { "18", 0 }, { "1F", 0 }, { "20", 0 },
	};
	struct netscan_conn c;
	char line[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(line, sizeof line, "  7: 0F02000A:A2C4 057100CB:01BB "
		    "%s 00000000:00000000", cases[i].st);
		memset(&c, 0xa5, sizeof c);
		assert_int_equal(netscan_parse_line(line, AF_INET, &c),
		    cases[i].want);
		if (cases[i].want == 1)
			assert_int_equal(c.state,
			    (int)strtol(cases[i].st, NULL, 16));
		assert_int_equal(netscan_state_counted(
		    (int)strtol(cases[i].st, NULL, 16)), cases[i].want);
	}
	assert_false(netscan_state_counted(-1));
	assert_false(netscan_state_counted(0));
	assert_false(netscan_state_counted(NETSCAN_TCP_NEW_SYN_RECV));
	assert_false(netscan_state_counted(31));
	assert_false(netscan_state_counted(32));
	assert_false(netscan_state_counted(1 << 20));
}

static void
test_parse_v6(void **state)
{
	struct netscan_conn c;

	(void)state;
	need_little_endian();
	assert_int_equal(netscan_parse_line(L6_EST, AF_INET6, &c), 1);
	addr_is(&c, AF_INET6, "2001:db8::1");
	assert_int_equal(c.port, 443);
	assert_int_equal(c.state, 1);

	assert_int_equal(netscan_parse_line("   1: 0000000000000000FFFF0000"
	    "0F02000A:A2D0 0000000000000000FFFF0000057100CB:01BB 01 0",
	    AF_INET6, &c), 1);
	addr_is(&c, AF_INET6, "::ffff:203.0.113.5");

	assert_int_equal(netscan_parse_line("   4: B80D0120000000000000000002"
	    "000000:A2D6 00470626000000000000000011110000:01BB 02",
	    AF_INET6, &c), 1);
	addr_is(&c, AF_INET6, "2606:4700::1111");
	assert_int_equal(c.state, 2);
}

static void
test_parse_malformed(void **state)
{
	static const struct {
		const char	*line;
		int		 family;
	} bad[] = {
		{ "", AF_INET },
		{ "   ", AF_INET },
		/* short and long hex */
		{ "0: 0F02000A:A2C4 057100C:01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB0:01BB 01", AF_INET },
		{ "0: 0F02000:A2C4 057100CB:01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:1BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:001BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BB 1", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BB 001", AF_INET },
		/* non-hex */
		{ "0: 0F02000A:A2C4 0571G0CB:01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BZ 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BB 0x", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BB -1", AF_INET },
		{ "0: 0F02000A:A2C4 +57100CB:01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BB 01x", AF_INET },
		/* missing colon, separators */
		{ "0: 0F02000A:A2C4 057100CB01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB.01BB 01", AF_INET },
		{ "0: 0F02000AA2C4 057100CB:01BB 01", AF_INET },
		{ "0 0F02000A:A2C4 057100CB:01BB 01", AF_INET },
		{ "0:0F02000A:A2C4 057100CB:01BB 01", AF_INET },
		{ ": 0F02000A:A2C4 057100CB:01BB 01", AF_INET },
		{ "x: 0F02000A:A2C4 057100CB:01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4057100CB:01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BB01", AF_INET },
		{ "0: 0F02000A:A2C4\t057100CB:01BB 01", AF_INET },
		{ "12345678901: 0F02000A:A2C4 057100CB:01BB 01", AF_INET },
		{ "0: 0F02000A:A2C4 057100CB:01BB", AF_INET },
		{ "0: 0F02000A:A2C4", AF_INET },
		/* the other family's width */
		{ L6_EST, AF_INET },
		{ L4_EST, AF_INET6 },
		{ L4_EST, AF_UNIX },
	};
	struct netscan_conn c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (netscan_parse_line(bad[i].line, bad[i].family, &c) != -1)
			fail_msg("accepted bad line %zu: \"%s\"", i,
			    bad[i].line);
	}
	assert_int_equal(netscan_parse_line(NULL, AF_INET, &c), -1);
	assert_int_equal(netscan_parse_line(L4_EST, AF_INET, NULL), -1);
}

/*
 * Every prefix of a good line, each in a buffer of exactly its size so
 * that the sanitizer build catches a read past the end: shorter than the
 * state is malformed, the state and anything after it parse.
 */
static void
prefixes(const char *line, int family)
{
	const char *st = strstr(line, " 01 ");
	size_t len = strlen(line), need, i;
	struct netscan_conn c;
	char *buf;

	assert_non_null(st);
	need = (size_t)(st - line) + 3;
	for (i = 0; i <= len; i++) {
		assert_non_null(buf = malloc(i + 1));
		memcpy(buf, line, i);
		buf[i] = '\0';
		if (netscan_parse_line(buf, family, &c) != (i < need ? -1 : 1))
			fail_msg("prefix of %zu bytes: \"%s\"", i, buf);
		free(buf);
	}
}

static void
test_parse_truncated(void **state)
{
	(void)state;
	prefixes(L4_EST, AF_INET);
	prefixes(L6_EST, AF_INET6);
}

static void
test_load_samples(void **state)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;

	(void)state;
	need_little_endian();
	if (netscan_load(SAMPLES, &ns, &e) != 0)
		fail_msg("%s (run from the top of the tree)", e.msg);
	assert_int_equal(ns.nconns, 7);
	addr_is(&ns.conns[0], AF_INET, "203.0.113.5");
	assert_int_equal(ns.conns[0].port, 443);
	assert_int_equal(ns.conns[0].state, 1);
	addr_is(&ns.conns[1], AF_INET, "198.51.100.7");
	assert_int_equal(ns.conns[1].port, 80);
	assert_int_equal(ns.conns[1].state, 2);
	addr_is(&ns.conns[2], AF_INET, "127.0.0.3");
	assert_int_equal(ns.conns[2].port, 8080);
	/* Half-closed by the remote end: data can still flow. */
	addr_is(&ns.conns[3], AF_INET, "8.8.8.8");
	assert_int_equal(ns.conns[3].port, 53);
	assert_int_equal(ns.conns[3].state, NETSCAN_TCP_CLOSE_WAIT);
	addr_is(&ns.conns[4], AF_INET6, "::ffff:203.0.113.5");
	addr_is(&ns.conns[5], AF_INET6, "2001:db8::1");
	addr_is(&ns.conns[6], AF_INET6, "2606:4700::1111");
	assert_int_equal(ns.conns[6].state, 2);
	netscan_free(&ns);
	assert_null(ns.conns);
	assert_int_equal(ns.nconns, 0);
	netscan_free(&ns);
	netscan_free(NULL);
}

/* One line per kernel state, IPv4 and IPv6: the counted ones are kept. */
static void
test_load_states(void **state)
{
	struct muster_err e = { 0, "" };
	char buf[8192], addr[64];
	struct netscan ns;
	struct tmpdir t;
	size_t o, i, k4 = 0, k6 = 0;
	int st;

	(void)state;
	need_little_endian();
	tmp_open(&t);
	/* State st goes to 10.0.0.st (port 1000 + st), [2001:db8::st]. */
	o = (size_t)snprintf(buf, sizeof buf, "%s", HDR4);
	for (st = 0; st <= 0x0C; st++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%4d: "
		    "0F02000A:A2C4 %02X00000A:%04X %02X 00000000:00000000 "
		    "00:00000000 00000000  1000 0 4000%d\n", st, st,
		    1000 + st, st, st);
	tmp_write(&t, "tcp", buf, o);
	o = (size_t)snprintf(buf, sizeof buf, "%s", HDR6);
	for (st = 0; st <= 0x0C; st++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%4d: "
		    "B80D0120000000000000000002000000:A2D2 "
		    "B80D01200000000000000000%02X000000:%04X %02X "
		    "00000000:00000000\n", st, st, 2000 + st, st);
	tmp_write(&t, "tcp6", buf, o);
	assert_int_equal(netscan_load(t.path, &ns, &e), 0);
	assert_int_equal(ns.nconns, 14);
	for (i = 0; i < ns.nconns; i++) {
		const struct netscan_conn *c = &ns.conns[i];

		st = c->state;
		assert_true(netscan_state_counted(st));
		if (c->family == AF_INET) {
			snprintf(addr, sizeof addr, "10.0.0.%d", st);
			assert_int_equal(c->port, 1000 + st);
			k4 |= 1u << st;
		} else {
			snprintf(addr, sizeof addr, "2001:db8::%x", st);
			assert_int_equal(c->port, 2000 + st);
			k6 |= 1u << st;
		}
		addr_is(c, c->family, addr);
	}
	assert_int_equal(k4, NETSCAN_STATES);
	assert_int_equal(k6, NETSCAN_STATES);
	netscan_free(&ns);
	tmp_close(&t);
}

static void
test_load_missing(void **state)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;
	struct tmpdir t;

	(void)state;
	tmp_open(&t);

	/* No tcp: an error naming the file. */
	assert_int_equal(netscan_load(t.path, &ns, &e), MUSTER_ENOINPUT);
	assert_non_null(strstr(e.msg, "/tcp"));
	assert_null(ns.conns);
	assert_int_equal(ns.nconns, 0);

	/* tcp without tcp6 (a kernel without IPv6) is fine. */
	tmp_writes(&t, "tcp", HDR4
	    "   0: 0100007F:C350 0300007F:1F90 01 00000000:00000000\n");
	assert_int_equal(netscan_load(t.path, &ns, &e), 0);
	assert_int_equal(ns.nconns, 1);
	netscan_free(&ns);

	/* Header only: no connections. */
	tmp_writes(&t, "tcp", HDR4);
	tmp_writes(&t, "tcp6", HDR6);
	assert_int_equal(netscan_load(t.path, &ns, &e), 0);
	assert_int_equal(ns.nconns, 0);
	netscan_free(&ns);

	/* Last line without a newline. */
	tmp_writes(&t, "tcp", HDR4 "   0: 0100007F:C350 0300007F:1F90 02");
	assert_int_equal(netscan_load(t.path, &ns, &e), 0);
	assert_int_equal(ns.nconns, 1);
	netscan_free(&ns);
	tmp_close(&t);

	assert_int_equal(netscan_load("/nonexistent/muster", &ns, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(netscan_load(NULL, &ns, &e), MUSTER_EUSAGE);
	assert_int_equal(netscan_load(SAMPLES, NULL, &e), MUSTER_EUSAGE);
}

/*
 * Writes len bytes of data (all of it for (size_t)-1) to file; then
 * netscan_load must fail with MUSTER_EDATA and a message holding words.
 */
static void
load_bad(struct tmpdir *t, const char *file, const char *data, size_t len,
    const char *words)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;

	tmp_write(t, file, data, len == (size_t)-1 ? strlen(data) : len);
	assert_int_equal(netscan_load(t->path, &ns, &e), MUSTER_EDATA);
	if (strstr(e.msg, words) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, words);
	assert_null(ns.conns);
	assert_int_equal(ns.nconns, 0);
}

static void
test_load_malformed(void **state)
{
	static const char nul[] = HDR4 "   0: 0100007F:C350 0300\0007F:1F90 01\n";
	struct tmpdir t;

	(void)state;
	tmp_open(&t);
	load_bad(&t, "tcp", HDR4 "   0: 0100007F:C350 0300007F:1F90 01\n"
	    "   1: 0100007F:C350 0300007F1F90 01\n", (size_t)-1, "tcp:3: "
	    "malformed");
	load_bad(&t, "tcp", "", 0, "empty");
	load_bad(&t, "tcp", "   0: 0100007F:C350 0300007F:1F90 01\n",
	    (size_t)-1, "tcp:1: not a TCP socket table");
	load_bad(&t, "tcp", nul, sizeof nul - 1, "tcp:2: NUL byte");

	/* A bad tcp6 is an error too, even with a good tcp. */
	tmp_writes(&t, "tcp", HDR4);
	load_bad(&t, "tcp6", HDR6 "   0: 0100007F:C350 0300007F:1F90 01\n",
	    (size_t)-1, "tcp6:2: malformed");
	tmp_close(&t);
}

static void
test_load_long_line(void **state)
{
	char line[NETSCAN_LINE_MAX + 2], data[sizeof line + sizeof HDR4 + 1];
	struct muster_err e = { 0, "" };
	struct netscan ns;
	struct tmpdir t;
	size_t n;

	(void)state;
	tmp_open(&t);

	/* Exactly NETSCAN_LINE_MAX bytes is fine... */
	memset(line, ' ', sizeof line);
	n = strlen("   0: 0100007F:C350 0300007F:1F90 01");
	memcpy(line, "   0: 0100007F:C350 0300007F:1F90 01", n);
	line[NETSCAN_LINE_MAX] = '\0';
	snprintf(data, sizeof data, "%s%s\n", HDR4, line);
	tmp_writes(&t, "tcp", data);
	assert_int_equal(netscan_load(t.path, &ns, &e), 0);
	assert_int_equal(ns.nconns, 1);
	netscan_free(&ns);

	/* ...one more is not, with or without a newline after it. */
	line[NETSCAN_LINE_MAX] = ' ';
	line[NETSCAN_LINE_MAX + 1] = '\0';
	snprintf(data, sizeof data, "%s%s\n", HDR4, line);
	load_bad(&t, "tcp", data, strlen(data), "tcp:2: line longer than");
	snprintf(data, sizeof data, "%s%s", HDR4, line);
	load_bad(&t, "tcp", data, strlen(data), "tcp:2: line longer than");
	tmp_close(&t);
}

/* A table of n established connections. */
static char *
table(size_t n, size_t *len)
{
	static const char row[] = "%6zu: 0100007F:C350 0300007F:1F90 01\n";
	size_t cap = sizeof HDR4 + n * 48, o;
	char *buf;
	size_t i;

	assert_non_null(buf = malloc(cap));
	o = (size_t)snprintf(buf, cap, "%s", HDR4);
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(buf + o, cap - o, row, i);
	*len = o;
	return buf;
}

static void
test_load_too_many(void **state)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;
	struct tmpdir t;
	size_t len;
	char *buf;

	(void)state;
	tmp_open(&t);
	buf = table(NETSCAN_MAX_CONNS, &len);
	tmp_write(&t, "tcp", buf, len);
	free(buf);
	assert_int_equal(netscan_load(t.path, &ns, &e), 0);
	assert_int_equal(ns.nconns, NETSCAN_MAX_CONNS);
	netscan_free(&ns);

	/* One more in tcp6 goes over the limit for both files together. */
	tmp_writes(&t, "tcp6", HDR6 "   0: 0000000000000000FFFF0000"
	    "0F02000A:A2D0 0000000000000000FFFF0000057100CB:01BB 01\n");
	assert_int_equal(netscan_load(t.path, &ns, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "tcp6:2: more than"));
	assert_null(ns.conns);
	tmp_close(&t);
}

static void
test_match(void **state)
{
	struct netscan_conn v4, mapped, v6, lo;
	struct cidr c;

	(void)state;
	memset(&v4, 0, sizeof v4);
	v4.family = AF_INET;
	inet_pton(AF_INET, "203.0.113.5", v4.addr);
	memset(&mapped, 0, sizeof mapped);
	mapped.family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:203.0.113.5", mapped.addr);
	memset(&v6, 0, sizeof v6);
	v6.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", v6.addr);
	memset(&lo, 0, sizeof lo);
	lo.family = AF_INET;
	inet_pton(AF_INET, "127.0.0.3", lo.addr);

	c = cidr("203.0.113.0/24");
	assert_true(netscan_match(&v4, &c));
	assert_true(netscan_match(&mapped, &c));
	assert_false(netscan_match(&v6, &c));
	assert_false(netscan_match(&lo, &c));

	c = cidr("203.0.113.0/29");
	assert_true(netscan_match(&v4, &c));
	assert_true(netscan_match(&mapped, &c));
	c = cidr("203.0.113.0/30");
	assert_false(netscan_match(&v4, &c));
	assert_false(netscan_match(&mapped, &c));
	c = cidr("203.0.113.5/32");
	assert_true(netscan_match(&v4, &c));
	c = cidr("203.0.113.4/32");
	assert_false(netscan_match(&v4, &c));
	c = cidr("203.0.113.128/25");
	assert_false(netscan_match(&v4, &c));
	c = cidr("198.51.100.0/24");
	assert_false(netscan_match(&v4, &c));

	/* /0 matches its own family (and mapped v4), nothing else. */
	c = cidr("0.0.0.0/0");
	assert_true(netscan_match(&v4, &c));
	assert_true(netscan_match(&mapped, &c));
	assert_false(netscan_match(&v6, &c));
	c = cidr("::/0");
	assert_true(netscan_match(&v6, &c));
	assert_true(netscan_match(&mapped, &c));
	assert_false(netscan_match(&v4, &c));

	c = cidr("2001:db8::/32");
	assert_true(netscan_match(&v6, &c));
	assert_false(netscan_match(&mapped, &c));
	assert_false(netscan_match(&v4, &c));
	c = cidr("2001:db8::1/128");
	assert_true(netscan_match(&v6, &c));
	c = cidr("2001:db9::/32");
	assert_false(netscan_match(&v6, &c));
	c = cidr("2001:db8::/31");
	assert_true(netscan_match(&v6, &c));
	c = cidr("2001:dba::/31");
	assert_false(netscan_match(&v6, &c));

	c = cidr("127.0.0.3/32");
	assert_true(netscan_match(&lo, &c));
	c = cidr("127.0.0.4/32");
	assert_false(netscan_match(&lo, &c));

	assert_false(netscan_match(NULL, &c));
	assert_false(netscan_match(&v4, NULL));
}

/* The sample table matched against the example profile's ranges. */
static void
test_match_samples(void **state)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;
	struct cidr c[3];
	size_t i, j, hits = 0;

	(void)state;
	need_little_endian();
	c[0] = cidr("203.0.113.0/24");
	c[1] = cidr("198.51.100.0/24");
	c[2] = cidr("2001:db8::/32");
	assert_int_equal(netscan_load(SAMPLES, &ns, &e), 0);
	for (i = 0; i < ns.nconns; i++)
		for (j = 0; j < 3; j++)
			if (netscan_match(&ns.conns[i], &c[j])) {
				hits++;
				break;
			}
	/*
	 * 203.0.113.5 twice, 198.51.100.7, 2001:db8::1; not TIME_WAIT (nor
	 * 8.8.8.8, in CLOSE_WAIT but in no range).
	 */
	assert_int_equal(hits, 4);
	netscan_free(&ns);
}

/* --- sock_diag answers, built by hand ---------------------------------- */

#define D_SEQ	7u
#define D_PID	4242u

struct dgram {
	unsigned char	buf[4096];
	size_t		len;
};

/* Appends a message of type with payload (plen bytes), NLMSG_ALIGNed. */
static void
put_msg(struct dgram *d, uint16_t type, uint32_t seq, uint32_t pid,
    const void *payload, size_t plen)
{
	struct nlmsghdr h;

	assert_true(d->len + NLMSG_ALIGN(sizeof h + plen) <= sizeof d->buf);
	memset(&h, 0, sizeof h);
	h.nlmsg_len = (uint32_t)(sizeof h + plen);
	h.nlmsg_type = type;
	h.nlmsg_flags = NLM_F_MULTI;
	h.nlmsg_seq = seq;
	h.nlmsg_pid = pid;
	memcpy(d->buf + d->len, &h, sizeof h);
	if (plen > 0)
		memcpy(d->buf + d->len + sizeof h, payload, plen);
	d->len += NLMSG_ALIGN(sizeof h + plen);
}

/* A socket's message as the kernel writes it (the rest is noise). */
static void
put_sock(struct dgram *d, uint16_t type, int family, int st,
    const char *addr, unsigned port)
{
	struct inet_diag_msg m;

	memset(&m, 0x5a, sizeof m);
	m.idiag_family = (uint8_t)family;
	m.idiag_state = (uint8_t)st;
	m.id.idiag_dport = htons((uint16_t)port);
	memset(m.id.idiag_dst, 0, sizeof m.id.idiag_dst);
	if (addr != NULL)
		assert_int_equal(inet_pton(family == AF_INET6 ? AF_INET6 :
		    AF_INET, addr, m.id.idiag_dst), 1);
	put_msg(d, type, D_SEQ, D_PID, &m, sizeof m);
}

static void
put_status(struct dgram *d, uint16_t type, int32_t status)
{
	put_msg(d, type, D_SEQ, D_PID, &status, sizeof status);
}

/* netscan_diag_parse of len bytes of d into a fresh table. */
static int
parse(const struct dgram *d, size_t len, int family, struct netscan *ns,
    struct muster_err *e)
{
	size_t cap = 0;

	ns->conns = NULL;
	ns->nconns = 0;
	return netscan_diag_parse(d->buf, len, family, D_SEQ, D_PID, ns, &cap,
	    e);
}

/* d must be refused with code and a message holding words. */
static void
diag_bad(const struct dgram *d, int family, int code, const char *words)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;

	assert_int_equal(parse(d, d->len, family, &ns, &e), code);
	if (strstr(e.msg, words) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", e.msg, words);
	netscan_free(&ns);
}

static void
test_diag_parse(void **state)
{
	struct muster_err e = { 0, "" };
	struct dgram d = { .len = 0 };
	struct netscan ns;
	unsigned char *odd;

	(void)state;
	/* The one-walk answer: both families, then the end. */
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, NETSCAN_TCP_CLOSE_WAIT,
	    "203.0.113.5", 443);
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET6, NETSCAN_TCP_ESTABLISHED,
	    "2001:db8::1", 8443);
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET6, NETSCAN_TCP_NEW_SYN_RECV,
	    "::ffff:198.51.100.7", 80);
	put_status(&d, NLMSG_DONE, 0);
	assert_int_equal(parse(&d, d.len, AF_UNSPEC, &ns, &e), 1);
	assert_int_equal(ns.nconns, 3);
	addr_is(&ns.conns[0], AF_INET, "203.0.113.5");
	assert_int_equal(ns.conns[0].port, 443);
	assert_int_equal(ns.conns[0].state, NETSCAN_TCP_CLOSE_WAIT);
	addr_is(&ns.conns[1], AF_INET6, "2001:db8::1");
	assert_int_equal(ns.conns[1].port, 8443);
	assert_int_equal(ns.conns[1].state, NETSCAN_TCP_ESTABLISHED);
	/* A request socket counts as SYN_RECV. */
	addr_is(&ns.conns[2], AF_INET6, "::ffff:198.51.100.7");
	assert_int_equal(ns.conns[2].state, NETSCAN_TCP_SYN_RECV);
	netscan_free(&ns);

	/* The same bytes at an odd address (the walker copies, never casts). */
	assert_non_null(odd = malloc(d.len + 1));
	memcpy(odd + 1, d.buf, d.len);
	{
		size_t cap = 0;

		ns.conns = NULL;
		ns.nconns = 0;
		assert_int_equal(netscan_diag_parse(odd + 1, d.len, AF_UNSPEC,
		    D_SEQ, D_PID, &ns, &cap, &e), 1);
		assert_int_equal(ns.nconns, 3);
		netscan_free(&ns);
	}
	free(odd);

	/* Every counted state of a per-family answer, without an end yet. */
	d.len = 0;
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 1, "10.0.0.1", 1);
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 2, "10.0.0.2", 2);
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 3, "10.0.0.3", 3);
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 4, "10.0.0.4", 4);
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 5, "10.0.0.5", 5);
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 8, "10.0.0.8", 8);
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 9, "10.0.0.9", 9);
	assert_int_equal(parse(&d, d.len, AF_INET, &ns, &e), 0);
	assert_int_equal(ns.nconns, 7);
	assert_int_equal(ns.conns[5].state, NETSCAN_TCP_CLOSE_WAIT);
	assert_int_equal(ns.conns[6].state, NETSCAN_TCP_LAST_ACK);
	addr_is(&ns.conns[6], AF_INET, "10.0.0.9");
	assert_int_equal(ns.conns[6].port, 9);
	netscan_free(&ns);

	/* The end alone, with or without its status word. */
	d.len = 0;
	put_msg(&d, NLMSG_DONE, D_SEQ, D_PID, NULL, 0);
	assert_int_equal(parse(&d, d.len, AF_INET6, &ns, &e), 1);
	assert_int_equal(ns.nconns, 0);
	d.len = 0;
	put_status(&d, NLMSG_DONE, 0);
	assert_int_equal(parse(&d, d.len, AF_INET6, &ns, &e), 1);
	netscan_free(&ns);
}

static void
test_diag_parse_errors(void **state)
{
	static const uint16_t types[] = {
		NLMSG_NOOP, NLMSG_OVERRUN, 0, 17, 19, 21, 0x1234, 0xffff,
	};
	struct muster_err e = { 0, "" };
	struct dgram d = { .len = 0 };
	struct netscan ns;
	size_t i;

	(void)state;
	/* Error answers: refusals are MUSTER_EUNAVAIL, the rest fail. */
	put_status(&d, NLMSG_ERROR, -EACCES);
	diag_bad(&d, AF_UNSPEC, MUSTER_EUNAVAIL, "Permission denied");
	d.len = 0;
	put_status(&d, NLMSG_ERROR, -EPERM);
	diag_bad(&d, AF_INET, MUSTER_EUNAVAIL, "request refused");
	d.len = 0;
	put_status(&d, NLMSG_ERROR, -EINVAL);
	diag_bad(&d, AF_UNSPEC, MUSTER_EUNAVAIL, "request refused");
	d.len = 0;
	put_status(&d, NLMSG_ERROR, -ENOENT);
	diag_bad(&d, AF_INET6, MUSTER_EUNAVAIL, "IPv6");
	d.len = 0;
	put_status(&d, NLMSG_ERROR, -ENOMEM);
	diag_bad(&d, AF_INET, MUSTER_EOS, "request refused");
	d.len = 0;
	put_status(&d, NLMSG_DONE, -EINTR);
	diag_bad(&d, AF_INET, MUSTER_EOS, "dump failed");
	d.len = 0;
	put_status(&d, NLMSG_DONE, -EACCES);
	diag_bad(&d, AF_INET, MUSTER_EUNAVAIL, "dump failed");
	/* An acknowledgement, odd statuses, a truncated error. */
	d.len = 0;
	put_status(&d, NLMSG_ERROR, 0);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "error message with status 0");
	d.len = 0;
	put_status(&d, NLMSG_ERROR, INT32_MIN);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "error message with status");
	d.len = 0;
	put_status(&d, NLMSG_DONE, 5);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "end of dump with status 5");
	d.len = 0;
	put_msg(&d, NLMSG_ERROR, D_SEQ, D_PID, "\xff\xff", 2);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "truncated error message");

	/* Wrong types: another request's, and what a dump never sends. */
	d.len = 0;
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 1, "10.0.0.1", 1);
	diag_bad(&d, AF_UNSPEC, MUSTER_EDATA, "unexpected message type 20");
	d.len = 0;
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, 1, "10.0.0.1", 1);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "unexpected message type 18");
	for (i = 0; i < sizeof types / sizeof types[0]; i++) {
		d.len = 0;
		put_status(&d, types[i], 0);
		diag_bad(&d, AF_INET, MUSTER_EDATA, "unexpected message type");
	}

	/* Not ours: another sequence number or port id. */
	d.len = 0;
	put_msg(&d, NLMSG_DONE, D_SEQ + 1, D_PID, NULL, 0);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "not ours");
	d.len = 0;
	put_msg(&d, NLMSG_DONE, D_SEQ, 0, NULL, 0);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "not ours");

	/* A family or state not asked for; a short socket message. */
	d.len = 0;
	put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET6, 1, "2001:db8::1", 1);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "family 10");
	d.len = 0;
	put_sock(&d, TCPDIAG_GETSOCK, AF_UNIX, 1, NULL, 1);
	diag_bad(&d, AF_UNSPEC, MUSTER_EDATA, "family 1");
	d.len = 0;
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, NETSCAN_TCP_LISTEN, NULL, 0);
	diag_bad(&d, AF_UNSPEC, MUSTER_EDATA, "state 10");
	/*
	 * A socket that closed between the kernel's state filter and its
	 * message (TIME_WAIT, CLOSE, CLOSING) is skipped, not an error: the
	 * others of the datagram still count.
	 */
	d.len = 0;
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, NETSCAN_TCP_TIME_WAIT,
	    "10.0.0.1", 1);
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, NETSCAN_TCP_CLOSE,
	    "10.0.0.2", 2);
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, NETSCAN_TCP_CLOSING,
	    "10.0.0.3", 3);
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, NETSCAN_TCP_ESTABLISHED,
	    "10.0.0.4", 4);
	put_status(&d, NLMSG_DONE, 0);
	assert_int_equal(parse(&d, d.len, AF_UNSPEC, &ns, &e), 1);
	assert_int_equal(ns.nconns, 1);
	addr_is(&ns.conns[0], AF_INET, "10.0.0.4");
	netscan_free(&ns);
	{
		unsigned char m[sizeof(struct inet_diag_msg)];

		memset(m, 0, sizeof m);
		m[0] = AF_INET;
		m[1] = NETSCAN_TCP_ESTABLISHED;
		d.len = 0;
		put_msg(&d, TCPDIAG_GETSOCK, D_SEQ, D_PID, m, sizeof m - 1);
		diag_bad(&d, AF_UNSPEC, MUSTER_EDATA, "socket message of 71 "
		    "bytes");
		d.len = 0;
		put_msg(&d, TCPDIAG_GETSOCK, D_SEQ, D_PID, NULL, 0);
		diag_bad(&d, AF_UNSPEC, MUSTER_EDATA, "socket message of 0 "
		    "bytes");
	}

	/* Anything after the end. */
	d.len = 0;
	put_status(&d, NLMSG_DONE, 0);
	put_status(&d, NLMSG_DONE, 0);
	diag_bad(&d, AF_INET, MUSTER_EDATA, "after the end");

	/* Lengths: none, under a header, over the datagram. */
	d.len = 0;
	diag_bad(&d, AF_INET, MUSTER_EDATA, "empty datagram");
	d.len = 0;
	put_status(&d, NLMSG_DONE, 0);
	((struct nlmsghdr *)d.buf)->nlmsg_len = 15;
	diag_bad(&d, AF_INET, MUSTER_EDATA, "message length 15");
	((struct nlmsghdr *)d.buf)->nlmsg_len = 21;
	diag_bad(&d, AF_INET, MUSTER_EDATA, "message length 21");
	((struct nlmsghdr *)d.buf)->nlmsg_len = UINT32_MAX;
	diag_bad(&d, AF_INET, MUSTER_EDATA, "message length 4294967295");
	((struct nlmsghdr *)d.buf)->nlmsg_len = 0;
	diag_bad(&d, AF_INET, MUSTER_EDATA, "message length 0");

	/* Bad arguments. */
	assert_int_equal(parse(&d, d.len, AF_UNIX, &ns, &e), MUSTER_EUSAGE);
	assert_int_equal(netscan_diag_parse(NULL, 1, AF_INET, D_SEQ, D_PID,
	    &ns, &i, &e), MUSTER_EUSAGE);
	assert_int_equal(netscan_diag_parse(d.buf, d.len, AF_INET, D_SEQ,
	    D_PID, NULL, &i, &e), MUSTER_EUSAGE);
	assert_int_equal(netscan_diag_parse(d.buf, d.len, AF_INET, D_SEQ,
	    D_PID, &ns, NULL, &e), MUSTER_EUSAGE);
}

/*
 * Every prefix of a good answer, each in a buffer of exactly its size so
 * that the sanitizer build catches a read past the end: a cut inside a
 * message is refused, a cut between messages is a datagram to be
 * continued (0), and only the whole answer ends the dump.
 */
static void
test_diag_parse_truncated(void **state)
{
	struct muster_err e = { 0, "" };
	struct dgram d = { .len = 0 };
	size_t i, cap, ends[3];
	struct netscan ns;
	unsigned char *buf;
	int rc, want;

	(void)state;
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET, 1, "203.0.113.5", 443);
	ends[0] = d.len;
	put_sock(&d, TCPDIAG_GETSOCK, AF_INET6, 8, "2001:db8::1", 443);
	ends[1] = d.len;
	put_status(&d, NLMSG_DONE, 0);
	ends[2] = d.len;
	for (i = 1; i <= d.len; i++) {
		assert_non_null(buf = malloc(i));
		memcpy(buf, d.buf, i);
		cap = 0;
		ns.conns = NULL;
		ns.nconns = 0;
		rc = netscan_diag_parse(buf, i, AF_UNSPEC, D_SEQ, D_PID, &ns,
		    &cap, &e);
		want = i == ends[2] ? 1 : i == ends[0] || i == ends[1] ? 0 :
		    MUSTER_EDATA;
		if (rc != want)
			fail_msg("prefix of %zu bytes: %d (%s)", i, rc, e.msg);
		netscan_free(&ns);
		free(buf);
	}
}

/* More than NETSCAN_MAX_CONNS sockets over many datagrams: refused. */
static void
test_diag_parse_too_many(void **state)
{
	struct muster_err e = { 0, "" };
	struct dgram d = { .len = 0 };
	struct netscan ns = { NULL, 0 };
	size_t cap = 0, per = 0;
	int rc = 0;

	(void)state;
	while (d.len + NLMSG_ALIGN(sizeof(struct nlmsghdr) +
	    sizeof(struct inet_diag_msg)) <= sizeof d.buf) {
		put_sock(&d, SOCK_DIAG_BY_FAMILY, AF_INET, 1, "10.0.0.1", 1);
		per++;
	}
	while (ns.nconns + per <= NETSCAN_MAX_CONNS) {
		rc = netscan_diag_parse(d.buf, d.len, AF_INET, D_SEQ, D_PID,
		    &ns, &cap, &e);
		assert_int_equal(rc, 0);
	}
	rc = netscan_diag_parse(d.buf, d.len, AF_INET, D_SEQ, D_PID, &ns,
	    &cap, &e);
	assert_int_equal(rc, MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "more than 65536 open connections"));
	assert_int_equal(ns.nconns, NETSCAN_MAX_CONNS);
	netscan_free(&ns);
}

/* Whether ns holds an established connection in s (to port, if not 0). */
static int
has_conn(const struct netscan *ns, const char *s, unsigned port)
{
	struct cidr c = cidr(s);
	size_t i;

	for (i = 0; i < ns->nconns; i++)
		if (ns->conns[i].state == 1 &&
		    netscan_match(&ns->conns[i], &c) &&
		    (port == 0 || ns->conns[i].port == port))
			return 1;
	return 0;
}

static void
test_live(void **state)
{
	struct muster_err e = { 0, "" };
	struct sockaddr_in sin;
	socklen_t slen = sizeof sin;
	struct netscan ns;
	int lfd, cfd, afd;

	(void)state;
	assert_true((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "127.0.0.3", &sin.sin_addr), 1);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0) {
		close(lfd);
		fail_msg("cannot bind 127.0.0.3 (is lo up?)");
	}
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	assert_true((cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) >= 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_true((afd = accept(lfd, NULL, NULL)) >= 0);

	assert_int_equal(netscan_load("/proc/net", &ns, &e), 0);
	assert_true(has_conn(&ns, "127.0.0.3/32", ntohs(sin.sin_port)));
	assert_false(has_conn(&ns, "127.0.0.4/32", 0));
	netscan_free(&ns);

	close(afd);
	close(cfd);
	close(lfd);
}

/* --- real connections on loopback, read back from the kernel ---------- */

/* A reader of the running kernel's table. */
struct reader {
	const char	*name;
	int		(*load)(struct netscan *, struct muster_err *);
};

static int
read_proc(struct netscan *ns, struct muster_err *e)
{
	return netscan_load("/proc/net", ns, e);
}

static int
read_diag(struct netscan *ns, struct muster_err *e)
{
	return netscan_diag_load(AF_UNSPEC, ns, e);
}

static int
read_diag4(struct netscan *ns, struct muster_err *e)
{
	return netscan_diag_load(AF_INET, ns, e);
}

static int
read_diag6(struct netscan *ns, struct muster_err *e)
{
	return netscan_diag_load(AF_INET6, ns, e);
}

static const struct reader readers[] = {
	{ "/proc/net", read_proc },
	{ "sock_diag (one walk)", read_diag },
	{ "sock_diag IPv4", read_diag4 },
	{ "sock_diag IPv6", read_diag6 },
	{ "netscan_load_kernel", netscan_load_kernel },
};
#define NREADERS	(sizeof readers / sizeof readers[0])

/* Which readers can see a socket of family (the per-family ones only one). */
static int
reader_sees(size_t r, int family)
{
	if (readers[r].load == read_diag4)
		return family == AF_INET;
	if (readers[r].load == read_diag6)
		return family == AF_INET6;
	return 1;
}

/* A listener and a connection to it: c the client's end, a the server's. */
struct pair {
	int			l, c, a;
	struct sockaddr_storage	c_peer;	/* the remote end as c sees it */
	struct sockaddr_storage	a_peer;	/* the remote end as a sees it */
};

static socklen_t
ss_len(int family)
{
	return family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
}

static void
ss_set(struct sockaddr_storage *ss, const char *addr)
{
	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr))
		ss->ss_family = AF_INET;
	else if (inet_pton(AF_INET6, addr,
	    &((struct sockaddr_in6 *)ss)->sin6_addr))
		ss->ss_family = AF_INET6;
	else
		fail_msg("bad test address %s", addr);
}

/*
 * Listens on laddr (port from the kernel), connects from a socket of
 * cfamily bound to caddr, accepts.  Returns 0, or -1 if the addresses
 * cannot be bound here (no IPv6).
 */
static int
pair_open(struct pair *p, const char *laddr, int cfamily, const char *caddr)
{
	struct sockaddr_storage ls, cs, to;
	socklen_t slen;

	memset(p, 0, sizeof *p);
	p->l = p->c = p->a = -1;
	ss_set(&ls, laddr);
	ss_set(&cs, caddr);
	assert_int_equal(cs.ss_family, cfamily);
	assert_true((p->l = socket(ls.ss_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) >= 0);
	if (bind(p->l, (struct sockaddr *)&ls, ss_len(ls.ss_family)) != 0) {
		close(p->l);
		return -1;
	}
	assert_int_equal(listen(p->l, 4), 0);
	slen = sizeof ls;
	assert_int_equal(getsockname(p->l, (struct sockaddr *)&ls, &slen), 0);
	assert_true((p->c = socket(cfamily, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) >= 0);
	if (bind(p->c, (struct sockaddr *)&cs, ss_len(cfamily)) != 0) {
		close(p->c);
		close(p->l);
		return -1;
	}
	/* A v6 client reaches a v4 listener at its IPv4-mapped address. */
	to = ls;
	if (cfamily == AF_INET6 && ls.ss_family == AF_INET) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&to;
		struct sockaddr_in s4 = *(struct sockaddr_in *)&ls;

		memset(&to, 0, sizeof to);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = s4.sin_port;
		s6->sin6_addr.s6_addr[10] = 0xff;
		s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], &s4.sin_addr, 4);
	}
	assert_int_equal(connect(p->c, (struct sockaddr *)&to,
	    ss_len(cfamily)), 0);
	assert_true((p->a = accept4(p->l, NULL, NULL, SOCK_CLOEXEC)) >= 0);
	slen = sizeof p->c_peer;
	assert_int_equal(getpeername(p->c, (struct sockaddr *)&p->c_peer,
	    &slen), 0);
	slen = sizeof p->a_peer;
	assert_int_equal(getpeername(p->a, (struct sockaddr *)&p->a_peer,
	    &slen), 0);
	return 0;
}

static void
pair_close(struct pair *p)
{
	if (p->a != -1)
		close(p->a);
	if (p->c != -1)
		close(p->c);
	if (p->l != -1)
		close(p->l);
	p->a = p->c = p->l = -1;
}

static unsigned
ss_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	    ntohs(((const struct sockaddr_in *)ss)->sin_port) :
	    ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static const void *
ss_addr(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ?
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr :
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
}

/* The state ns holds for the connection to peer, 0 if none (at most one). */
static int
state_of(const struct netscan *ns, const struct sockaddr_storage *peer)
{
	size_t i, n = 0;
	int st = 0;

	for (i = 0; i < ns->nconns; i++) {
		const struct netscan_conn *c = &ns->conns[i];

		if (c->family != peer->ss_family || c->port != ss_port(peer) ||
		    memcmp(c->addr, ss_addr(peer), c->family == AF_INET ? 4 :
		    16) != 0)
			continue;
		st = c->state;
		n++;
	}
	if (n > 1)
		fail_msg("%zu connections to one remote address and port", n);
	return st;
}

/*
 * The hex state of /proc/net/tcp{,6} for the socket whose remote end is
 * peer, read raw (not by the code under test); -1 if there is none.
 */
static int
proc_state(const struct sockaddr_storage *peer)
{
	char line[512], raddr[64];
	unsigned rport, st;
	int found = -1;
	FILE *f;

	f = fopen(peer->ss_family == AF_INET ? "/proc/net/tcp" :
	    "/proc/net/tcp6", "re");
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%*u: %*[0-9A-F]:%*x %63[0-9A-F]:%x %x",
		    raddr, &rport, &st) == 3 && rport == ss_port(peer)) {
			unsigned char a[16];
			size_t w, nw = peer->ss_family == AF_INET ? 1 : 4;
			uint32_t v;

			for (w = 0; w < nw; w++) {
				char word[9];

				memcpy(word, raddr + 8 * w, 8);
				word[8] = '\0';
				v = (uint32_t)strtoul(word, NULL, 16);
				memcpy(a + 4 * w, &v, 4);
			}
			if (memcmp(a, ss_addr(peer), 4 * nw) == 0)
				found = (int)st;
		}
	fclose(f);
	return found;
}

/* Waits (2 s at most) until /proc shows the socket to peer in state st. */
static void
wait_state(const struct sockaddr_storage *peer, int st)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	int i, now = -1;

	for (i = 0; i < 200; i++) {
		if ((now = proc_state(peer)) == st)
			return;
		nanosleep(&ms, NULL);
	}
	fail_msg("socket to port %u in state %d, not %d", ss_port(peer), now,
	    st);
}

/* Every reader must see peer in state want (0: not at all). */
static void
all_see(const struct sockaddr_storage *peer, int want, const char *what)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;
	size_t r;
	int got, rc;

	for (r = 0; r < NREADERS; r++) {
		if ((rc = readers[r].load(&ns, &e)) != 0)
			fail_msg("%s: %d: %s", readers[r].name, rc, e.msg);
		got = state_of(&ns, peer);
		netscan_free(&ns);
		if (got != (reader_sees(r, peer->ss_family) ? want : 0))
			fail_msg("%s: %s in state %d, want %d",
			    readers[r].name, what, got, want);
	}
}

/*
 * A connection over family, established, then half-closed by the
 * server's end: the client holds CLOSE_WAIT (not reading the EOF, not
 * closing), the server's end FIN_WAIT2; a second one closed by the
 * client first leaves it in TIME_WAIT, which no reader counts; nor is
 * the listener counted.
 */
static void
live_states(const char *laddr, int cfamily, const char *caddr)
{
	struct pair p, q;
	struct sockaddr_storage none;

	if (pair_open(&p, laddr, cfamily, caddr) != 0) {
		if (cfamily == AF_INET6)
			skip();		/* no IPv6 on this machine */
		fail_msg("cannot bind %s and %s (is lo up?)", laddr, caddr);
	}
	wait_state(&p.c_peer, NETSCAN_TCP_ESTABLISHED);
	all_see(&p.c_peer, NETSCAN_TCP_ESTABLISHED, "client, established");
	all_see(&p.a_peer, NETSCAN_TCP_ESTABLISHED, "server, established");

	close(p.a);
	p.a = -1;
	wait_state(&p.c_peer, NETSCAN_TCP_CLOSE_WAIT);
	wait_state(&p.a_peer, NETSCAN_TCP_FIN_WAIT2);
	all_see(&p.c_peer, NETSCAN_TCP_CLOSE_WAIT, "client, CLOSE_WAIT");
	all_see(&p.a_peer, NETSCAN_TCP_FIN_WAIT2, "server, FIN_WAIT2");

	/* The listener's remote end is the unspecified address, port 0. */
	memset(&none, 0, sizeof none);
	none.ss_family = p.c_peer.ss_family;
	all_see(&none, 0, "a listener");

	assert_int_equal(pair_open(&q, laddr, cfamily, caddr), 0);
	close(q.c);
	q.c = -1;
	wait_state(&q.a_peer, NETSCAN_TCP_CLOSE_WAIT);
	close(q.a);
	q.a = -1;
	wait_state(&q.c_peer, NETSCAN_TCP_TIME_WAIT);
	all_see(&q.c_peer, 0, "client, TIME_WAIT");
	pair_close(&q);

	/* The half-closed one is still there, still counted. */
	all_see(&p.c_peer, NETSCAN_TCP_CLOSE_WAIT, "client, CLOSE_WAIT");
	pair_close(&p);
}

static void
test_live_v4(void **state)
{
	(void)state;
	live_states("127.0.0.3", AF_INET, "127.0.0.5");
}

static void
test_live_v6(void **state)
{
	(void)state;
	live_states("::1", AF_INET6, "::1");
}

/* A v6 socket to an IPv4 listener: ::ffff:127.0.0.3 on both readers. */
static void
test_live_mapped(void **state)
{
	(void)state;
	live_states("127.0.0.3", AF_INET6, "::ffff:127.0.0.6");
}

/* The kernel's readers refuse a family they do not know. */
static void
test_diag_load_args(void **state)
{
	struct muster_err e = { 0, "" };
	struct netscan ns;

	(void)state;
	assert_int_equal(netscan_diag_load(AF_UNIX, &ns, &e), MUSTER_EUSAGE);
	assert_null(ns.conns);
	assert_int_equal(ns.nconns, 0);
	assert_int_equal(netscan_diag_load(AF_INET, NULL, &e), MUSTER_EUSAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_states),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_load_samples),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_malformed),
		cmocka_unit_test(test_load_long_line),
		cmocka_unit_test(test_load_too_many),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_samples),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_load_states),
		cmocka_unit_test(test_diag_parse),
		cmocka_unit_test(test_diag_parse_errors),
		cmocka_unit_test(test_diag_parse_truncated),
		cmocka_unit_test(test_diag_parse_too_many),
		cmocka_unit_test(test_diag_load_args),
		cmocka_unit_test(test_live_v4),
		cmocka_unit_test(test_live_v6),
		cmocka_unit_test(test_live_mapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
