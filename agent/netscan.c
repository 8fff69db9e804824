/*
 * netscan: the open TCP connections of the running kernel, read from
 * /proc/net/tcp and /proc/net/tcp6 (the sock_diag reader is in
 * netscan_diag.c; netscan_load_kernel chooses); see agent/netscan.h.
 *
 * A table line looks like
 *	"   1: 0F02000A:A2C4 057100CB:01BB 01 00000000:00000000 ..."
 * where each address is the kernel's 32-bit words printed with %08X in
 * host byte order (so 0100007F is 127.0.0.1 on a little-endian machine)
 * and the port is a plain %04X number.  Only the slot, both addresses and
 * the state are read; the rest of the line is ignored.
 *
 * Limits: a line longer than NETSCAN_LINE_MAX bytes, a NUL byte, a
 * malformed line, more than NETSCAN_FILE_LINES lines in one file or more
 * than NETSCAN_MAX_CONNS kept connections make netscan_load fail with
 * MUSTER_EDATA rather than return a partial table: an egress check that
 * saw only part of the table must not pass.
 */
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muster/ascii.h"
#include "muster/err.h"
#include "muster/profile.h"
#include "netscan.h"
#include "netscan_diag.h"

#define NETSCAN_FILE_LINES	(16 * NETSCAN_MAX_CONNS)
#define NETSCAN_SLOT_DIGITS	10	/* "sl" column: at most this many */
#define NETSCAN_PORT_HEX	4
#define NETSCAN_STATE_HEX	2
#define NETSCAN_INIT_CONNS	64

/* Result of reading one line. */
enum line_rc {
	LINE_OK,
	LINE_EOF,
	LINE_LONG,	/* over NETSCAN_LINE_MAX bytes */
	LINE_NUL,	/* contains a NUL byte */
	LINE_EIO,
};

/*
 * Reads exactly n hex digits at *p into *v (n <= 8) and advances *p.
 * Stops at the terminating NUL, so a short string is refused without
 * reading past it.  Returns 0 or -1.
 */
static int
hex_n(const char **p, size_t n, uint32_t *v)
{
	const char *s = *p;
	uint32_t r = 0;
	size_t i;
	int d;

	for (i = 0; i < n; i++) {
		if ((d = ascii_hexval((unsigned char)s[i])) < 0)
			return -1;
		r = (r << 4) | (uint32_t)d;
	}
	*v = r;
	*p = s + n;
	return 0;
}

/* Skips one or more spaces; returns -1 if there is none. */
static int
spaces(const char **p)
{
	const char *s = *p;

	if (*s != ' ')
		return -1;
	while (*s == ' ')
		s++;
	*p = s;
	return 0;
}

/*
 * Reads "HEXADDR:PORT" for family into addr (network order) and *port.
 * Each 32-bit word was printed from memory in host order, so storing the
 * parsed value back with memcpy restores the network-order bytes on any
 * host.  The address must be followed by a space.
 */
static int
endpoint(const char **p, int family, unsigned char addr[16],
    unsigned *port)
{
	const char *s = *p;
	size_t nwords, i;
	uint32_t w, pt;

	nwords = family == AF_INET ? 1 : 4;
	memset(addr, 0, 16);
	for (i = 0; i < nwords; i++) {
		if (hex_n(&s, 8, &w) == -1)
			return -1;
		memcpy(addr + 4 * i, &w, sizeof w);
	}
	if (*s++ != ':')
		return -1;
	if (hex_n(&s, NETSCAN_PORT_HEX, &pt) == -1)
		return -1;
	if (*s != ' ')
		return -1;
	*port = (unsigned)pt;
	*p = s;
	return 0;
}

int
netscan_parse_line(const char *line, int family, struct netscan_conn *c)
{
	struct netscan_conn r;
	unsigned char laddr[16];
	unsigned lport;
	const char *s = line;
	uint32_t st;
	size_t n;

	if (line == NULL || c == NULL ||
	    (family != AF_INET && family != AF_INET6))
		return -1;
	memset(&r, 0, sizeof r);
	r.family = family;

	/* "  12: " */
	while (*s == ' ')
		s++;
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
		;
	if (n == 0 || n > NETSCAN_SLOT_DIGITS || s[n] != ':')
		return -1;
	s += n + 1;
	if (spaces(&s) == -1)
		return -1;

	/* The local endpoint is checked for form only. */
	if (endpoint(&s, family, laddr, &lport) == -1 || spaces(&s) == -1)
		return -1;
	if (endpoint(&s, family, r.addr, &r.port) == -1 || spaces(&s) == -1)
		return -1;
	if (hex_n(&s, NETSCAN_STATE_HEX, &st) == -1)
		return -1;
	if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\n')
		return -1;
	if (!netscan_state_counted((int)st))
		return 0;
	r.state = (int)st;
	*c = r;
	return 1;
}

/*
 * Reads one line of at most NETSCAN_LINE_MAX bytes into buf (size
 * NETSCAN_LINE_MAX + 1) without its newline.  A last line without a
 * newline counts as a line.
 */
static enum line_rc
read_line(FILE *f, char *buf)
{
	size_t n = 0;
	int ch, nul = 0;

	while ((ch = getc(f)) != EOF && ch != '\n') {
		if (ch == '\0')
			nul = 1;
		if (n == NETSCAN_LINE_MAX)
			return LINE_LONG;
		buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	if (ferror(f))
		return LINE_EIO;
	if (ch == EOF && n == 0)
		return LINE_EOF;
	return nul ? LINE_NUL : LINE_OK;
}

int
netscan_state_counted(int state)
{
	return state > 0 && state < 32 &&
	    (NETSCAN_STATES & (1u << state)) != 0;
}

int
netscan_push(struct netscan *ns, size_t *cap, const struct netscan_conn *c)
{
	struct netscan_conn *nc;
	size_t ncap;

	if (ns->nconns >= NETSCAN_MAX_CONNS)
		return MUSTER_EDATA;
	if (ns->nconns == *cap) {
		ncap = *cap == 0 ? NETSCAN_INIT_CONNS : *cap * 2;
		if (ncap > NETSCAN_MAX_CONNS)
			ncap = NETSCAN_MAX_CONNS;
		nc = reallocarray(ns->conns, ncap, sizeof *nc);
		if (nc == NULL)
			return MUSTER_EINTERNAL;
		ns->conns = nc;
		*cap = ncap;
	}
	ns->conns[ns->nconns++] = *c;
	return 0;
}

/* netscan_push with the table's file and line in the message. */
static int
push(struct netscan *ns, size_t *cap, const struct netscan_conn *c,
    const char *path, unsigned long lineno, struct muster_err *e)
{
	int rc;

	if ((rc = netscan_push(ns, cap, c)) == MUSTER_EDATA)
		return err_set(e, MUSTER_EDATA, "%s:%lu: more than %d open "
		    "connections; not checking a partial table", path, lineno,
		    NETSCAN_MAX_CONNS);
	if (rc < 0)
		return err_set(e, MUSTER_EINTERNAL, "%s: out of memory", path);
	return 0;
}

/*
 * Reads one table into ns.  Returns 0, 1 if the file does not exist and
 * missing_ok is set, or a negative MUSTER_E*.
 */
static int
load_table(const char *dir, const char *name, int family, int missing_ok,
    struct netscan *ns, size_t *cap, struct muster_err *e)
{
	char path[4096], line[NETSCAN_LINE_MAX + 1];
	struct netscan_conn c;
	unsigned long lineno = 0;
	enum line_rc lr;
	FILE *f = NULL;
	const char *s;
	int rc = 0, n;

	n = snprintf(path, sizeof path, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof path) {
		rc = err_set(e, MUSTER_EUSAGE, "%s: directory name too long",
		    name);
		goto out;
	}
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && missing_ok)
			rc = 1;
		else
			rc = err_sys(e, MUSTER_ENOINPUT, "%s", path);
		goto out;
	}
	for (;;) {
		lr = read_line(f, line);
		if (lr == LINE_EOF)
			break;
		if (++lineno > NETSCAN_FILE_LINES) {
			rc = err_set(e, MUSTER_EDATA, "%s: more than %d lines",
			    path, NETSCAN_FILE_LINES);
			goto out;
		}
		if (lr == LINE_EIO) {
			rc = err_sys(e, MUSTER_EIO, "%s:%lu: read", path,
			    lineno);
			goto out;
		}
		if (lr == LINE_LONG) {
			rc = err_set(e, MUSTER_EDATA, "%s:%lu: line longer "
			    "than %d bytes", path, lineno, NETSCAN_LINE_MAX);
			goto out;
		}
		if (lr == LINE_NUL) {
			rc = err_set(e, MUSTER_EDATA, "%s:%lu: NUL byte in "
			    "line", path, lineno);
			goto out;
		}
		if (lineno == 1) {
			/* The header: "  sl  local_address ..." */
			s = line + strspn(line, " ");
			if (strncmp(s, "sl ", 3) != 0) {
				rc = err_set(e, MUSTER_EDATA, "%s:1: not a TCP "
				    "socket table (no \"sl\" header)", path);
				goto out;
			}
			continue;
		}
		n = netscan_parse_line(line, family, &c);
		if (n == -1) {
			rc = err_set(e, MUSTER_EDATA, "%s:%lu: malformed line "
			    "(want \"SL: LOCAL:PORT REMOTE:PORT ST ...\" with "
			    "%d-digit hex addresses)", path, lineno,
			    family == AF_INET ? 8 : 32);
			goto out;
		}
		if (n == 1 && (rc = push(ns, cap, &c, path, lineno, e)) < 0)
			goto out;
	}
	if (lineno == 0)
		rc = err_set(e, MUSTER_EDATA, "%s: empty (no header line)",
		    path);
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

int
netscan_load(const char *dir, struct netscan *ns, struct muster_err *e)
{
	struct netscan r = { NULL, 0 };
	size_t cap = 0;
	int rc;

	if (ns == NULL)
		return err_set(e, MUSTER_EUSAGE, "netscan_load: no output");
	ns->conns = NULL;
	ns->nconns = 0;
	if (dir == NULL || *dir == '\0') {
		rc = err_set(e, MUSTER_EUSAGE, "netscan_load: no directory");
		goto out;
	}
	if ((rc = load_table(dir, "tcp", AF_INET, 0, &r, &cap, e)) < 0)
		goto out;
	/* A kernel without IPv6 has no tcp6. */
	if ((rc = load_table(dir, "tcp6", AF_INET6, 1, &r, &cap, e)) < 0)
		goto out;
	rc = 0;
	*ns = r;
	r.conns = NULL;
out:
	free(r.conns);
	return rc;
}

int
netscan_load_kernel(struct netscan *ns, struct muster_err *e)
{
	struct muster_err de = { 0, "" };
	size_t n;
	int rc;

	if ((rc = netscan_diag_load(AF_UNSPEC, ns, &de)) != MUSTER_EUNAVAIL) {
		if (rc < 0)
			err_set(e, rc, "%s", de.msg);
		return rc;
	}
	/* Refused (Android apps, old kernels): the same table from /proc. */
	if ((rc = netscan_load(NETSCAN_PROC_DIR, ns, e)) < 0 && e != NULL) {
		n = strlen(e->msg);
		snprintf(e->msg + n, sizeof e->msg - n, " (and %s)", de.msg);
	}
	return rc;
}

/* Whether the first prefix bits of a and b are equal. */
static int
prefix_equal(const unsigned char *a, const unsigned char *b,
    unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	unsigned char mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (unsigned char)(0xffu << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

int
netscan_match(const struct netscan_conn *c, const struct cidr *cidr)
{
	static const unsigned char v4mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	if (c == NULL || cidr == NULL)
		return 0;
	if (cidr->family == AF_INET && cidr->prefix <= 32) {
		if (c->family == AF_INET)
			return prefix_equal(c->addr, cidr->addr, cidr->prefix);
		if (c->family == AF_INET6 &&
		    memcmp(c->addr, v4mapped, sizeof v4mapped) == 0)
			return prefix_equal(c->addr + sizeof v4mapped,
			    cidr->addr, cidr->prefix);
		return 0;
	}
	if (cidr->family == AF_INET6 && cidr->prefix <= 128 &&
	    c->family == AF_INET6)
		return prefix_equal(c->addr, cidr->addr, cidr->prefix);
	return 0;
}

void
netscan_free(struct netscan *ns)
{
	if (ns == NULL)
		return;
	free(ns->conns);
	ns->conns = NULL;
	ns->nconns = 0;
}
