/*
 * Unit tests for agent/netscan.c: lines of /proc/net/tcp{,6} parse into
 * the right remote address, port and state; malformed lines, long lines
 * and oversized tables are refused; ranges match as they should; and a
 * real connection on 127.0.0.3 shows up in the running kernel's table.
 * Run from the top of the tree (tests/data/proc holds the samples).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "../../agent/netscan.h"

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
	snprintf(t->path, sizeof t->path, "/tmp/muster-netscan.XXXXXX");
	assert_non_null(mkdtemp(t->path));
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
