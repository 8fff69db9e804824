/*
 * fuzz_http: the server's HTTP layer (server/http.c) as libmicrohttpd
 * drives it: http_access, http_first, http_body, the Content-Type and
 * Content-Length checks, the body cap and the counting of the upload
 * itself (chunked too), deferred writes (http_defer, suspend and resume)
 * and http_completed, over keep-alive and pipelining.
 *
 * The real server of fuzz_srv.h (FUZZ_SRV_HTTP) listens on 127.0.0.1 at
 * an ephemeral port, in plain HTTP: server/http.c drops TLS when built
 * with MUSTER_FUZZING, which only the fuzz build defines (fuzz.mk).  Its
 * limits are small (FUZZ_SRV_LIMITS: max_body 2048, connection_timeout
 * 1 s, connection_memory 16 KiB, 2 threads).
 *
 * Each input is raw bytes, written to a new loopback connection after
 * its placeholders are replaced; then the harness shuts its side
 * (SHUT_WR, once an answer has begun or SHUT_US have passed: see
 * exchange) and reads every answer until the server closes, for at most
 * WAIT_MS.  Placeholders, first anywhere (each at most 8 times):
 *
 *	@PDEV@ @FDEV@	the enrolled personnel and family device ids
 *	@NOW@		the time now, YYYY-MM-DDTHH:MM:SSZ
 *	@ADMIN@		the admin token
 *	@TOKP@ @TOKF@	a new personnel or family token signed by the org key
 *	@TOKID@		the id of the last token made
 *	@REV@		a revocation of a new token id, signed by the org key
 *	@NEWKEY@	the public key (base64) of a new device key
 *	@PROF@ @PSIG@	a personnel profile (base64) and its signature
 *
 * then in each request's header block, the request's body being what
 * its Content-Length or chunked framing says, or with @LEN@ everything
 * up to the next @END@ (removed) or the end of the input:
 *
 *	@LEN@		the length of that body
 *	@SIG@		the device signature of the request: over the body
 *			(dechunked) unless the method is GET or HEAD, over
 *			muster-get-v1 then; by the @NEWKEY@ key if the body
 *			holds it, else by the key of the device Muster-Device
 *			names (personnel by default)
 *
 * What must hold: every answer starts with a well-formed HTTP/1.x status
 * line and is as long as its Content-Length; no 5xx but 505 (HTTP
 * version, libmicrohttpd's own); a request whose body is over max_body
 * never gets a 2xx (answers are matched to the requests the harness can
 * frame beyond doubt); and the server still answers GET /healthz on a
 * new connection every HEALTH_EVERY inputs and after any it did not
 * close.  A
 * connection the server does not close within WAIT_MS is not a finding
 * by itself (connection_timeout is 1 s, longer than libFuzzer's unit
 * timeout allows to wait): it is dropped and the server checked at once.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FUZZ_SRV_HTTP
#include "fuzz_srv.h"
#include "fuzz_subst.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define ANSWER_MAX	(1024 * 1024)	/* kept of what the server says */
#define WAIT_MS		700		/* for one input's answers */
#define SHUT_US		2000		/* at most, before the FIN (exchange) */
#define HEALTH_MS	5000		/* for /healthz: a hang is a finding */
#define HEALTH_EVERY	8		/* inputs between two /healthz */
#define REQ_MAX		512		/* requests of one input checked */

static unsigned long inputs;
static int verbose;		/* MUSTER_FUZZ_VERBOSE: print each answer */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* A write to a connection the server closed is an error, no more. */
	signal(SIGPIPE, SIG_IGN);
	fuzz_srv_init("fuzz_http");
	fuzz_subst_init();
	verbose = getenv("MUSTER_FUZZ_VERBOSE") != NULL;
	return 0;
}

/* The first occurrence of needle in h[0..n), or NULL. */
static const char *
find(const char *h, size_t n, const char *needle)
{
	return memmem(h, n, needle, strlen(needle));
}

/*
 * The value of header name in the header block h[0..n) (a line
 * "name:value"), its length in *vlen; NULL if there is none.
 */
static const char *
header(const char *h, size_t n, const char *name, size_t *vlen)
{
	const char *p = h, *end = h + n, *nl;
	size_t k = strlen(name);

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) > k && p[k] == ':' &&
		    strncasecmp(p, name, k) == 0) {
			for (p += k + 1; p < nl && (*p == ' ' || *p == '\t');
			    p++)
				;
			*vlen = (size_t)(nl - p);
			while (*vlen > 0 && (p[*vlen - 1] == '\r' ||
			    p[*vlen - 1] == ' ' || p[*vlen - 1] == '\t'))
				(*vlen)--;
			return p;
		}
	}
	return NULL;
}

/*
 * Walks the chunked body at b[0..n): its decoded bytes are added to out
 * (when not NULL); returns the length of the framing read, or 0 if it is
 * not well formed or not complete.  Lenient: it only finds the end.
 */
static size_t
dechunk(const char *b, size_t n, struct buf *out)
{
	size_t i = 0, sz, digits;
	int d;

	for (;;) {
		for (sz = 0, digits = 0; i < n; i++, digits++) {
			if (b[i] >= '0' && b[i] <= '9')
				d = b[i] - '0';
			else if ((b[i] | 0x20) >= 'a' && (b[i] | 0x20) <= 'f')
				d = (b[i] | 0x20) - 'a' + 10;
			else
				break;
			if (digits >= 8)
				return 0;
			sz = sz * 16 + (size_t)d;
		}
		if (digits == 0 || n - i < 2 || b[i] != '\r' ||
		    b[i + 1] != '\n')
			return 0;
		i += 2;
		if (sz == 0)
			return n - i >= 2 && b[i] == '\r' && b[i + 1] == '\n' ?
			    i + 2 : 0;
		if (n - i < sz + 2 || b[i + sz] != '\r' ||
		    b[i + sz + 1] != '\n')
			return 0;
		if (out != NULL)
			buf_add(out, b + i, sz);
		i += sz + 2;
	}
}

/* Replaces every @SIG@ and @LEN@ of the header block h[0..hn) into o. */
static void
fill_header(const char *h, size_t hn, const char *sig, size_t blen,
    struct buf *o)
{
	const char *p = h, *end = h + hn, *q;
	char len[32];

	snprintf(len, sizeof len, "%zu", blen);
	while (p < end) {
		if ((q = memchr(p, '@', (size_t)(end - p))) == NULL)
			q = end;
		buf_add(o, p, (size_t)(q - p));
		p = q;
		if (p == end)
			break;
		if (end - p >= 5 && memcmp(p, "@SIG@", 5) == 0) {
			buf_add(o, sig, strlen(sig));
			p += 5;
		} else if (end - p >= 5 && memcmp(p, "@LEN@", 5) == 0) {
			buf_add(o, len, strlen(len));
			p += 5;
		} else
			buf_add(o, p++, 1);
	}
}

/*
 * The second pass: each request's header block with @LEN@ and @SIG@
 * replaced (see the top of this file), the rest as it is.
 */
static void
frame(const char *in, size_t n, int newkey, struct buf *o)
{
	const char *p = in, *end = in + n, *he, *h2, *v, *sp, *e;
	struct buf plain = { NULL, 0, 0 };
	char sig[128], key[64], *msg = NULL;
	size_t hn, bn, vlen, skip, k;
	int chunked, get, m;
	unsigned long long cl;
	const unsigned char *sk;

	buf_add(o, "", 0);
	while (p < end) {
		/* The header block ends at the first empty line. */
		he = find(p, (size_t)(end - p), "\r\n\r\n");
		h2 = find(p, (size_t)(end - p), "\n\n");
		if (he != NULL && (h2 == NULL || he < h2))
			hn = (size_t)(he - p) + 4;
		else if (h2 != NULL)
			hn = (size_t)(h2 - p) + 2;
		else
			hn = (size_t)(end - p);
		v = header(p, hn, "Transfer-Encoding", &vlen);
		chunked = v != NULL && find(v, vlen, "chunked") != NULL;
		/* The body and what comes after it. */
		bn = 0;
		skip = 0;
		if (find(p, hn, "@LEN@") != NULL) {
			if ((e = find(p + hn, (size_t)(end - p) - hn,
			    "@END@")) != NULL) {
				bn = (size_t)(e - (p + hn));
				skip = 5;
			} else
				bn = (size_t)(end - p) - hn;
		} else if (chunked)
			bn = dechunk(p + hn, (size_t)(end - p) - hn, NULL);
		else if ((v = header(p, hn, "Content-Length", &vlen)) !=
		    NULL) {
			for (cl = 0, k = 0; k < vlen && k < 12 && v[k] >= '0' &&
			    v[k] <= '9'; k++)
				cl = cl * 10 + (unsigned)(v[k] - '0');
			bn = cl < (size_t)(end - p) - hn ? (size_t)cl :
			    (size_t)(end - p) - hn;
		}
		sig[0] = '\0';
		if (find(p, hn, "@SIG@") != NULL) {
			get = (hn >= 4 && memcmp(p, "GET ", 4) == 0) ||
			    (hn >= 5 && memcmp(p, "HEAD ", 5) == 0);
			sk = fsrv.psk;
			v = header(p, hn, "Muster-Device", &vlen);
			if (v != NULL && vlen == strlen(FUZZ_FDEV) &&
			    memcmp(v, FUZZ_FDEV, vlen) == 0)
				sk = fsrv.fsk;
			if (newkey) {
				sodium_bin2base64(key, sizeof key, new_pk,
				    sizeof new_pk,
				    sodium_base64_VARIANT_ORIGINAL);
				if (find(p + hn, bn, key) != NULL)
					sk = new_sk;
			}
			if (get) {
				/* muster-get-v1, PATH (no query), Muster-Time */
				sp = memchr(p, ' ', hn);
				for (k = 1; sp != NULL && sp + k < p + hn &&
				    sp[k] != ' ' && sp[k] != '?' &&
				    sp[k] != '\r' && sp[k] != '\n'; k++)
					;
				v = header(p, hn, "Muster-Time", &vlen);
				if ((m = asprintf(&msg, "muster-get-v1\n%.*s\n"
				    "%.*s\n", sp != NULL ? (int)k - 1 : 0,
				    sp != NULL ? sp + 1 : "",
				    v != NULL ? (int)vlen : 0,
				    v != NULL ? v : "")) == -1)
					abort();
				fuzz_srv_sign(sk, msg, (size_t)m, sig,
				    sizeof sig);
				free(msg);
				msg = NULL;
			} else if (chunked && bn > 0) {
				plain.len = 0;
				buf_add(&plain, "", 0);
				dechunk(p + hn, bn, &plain);
				fuzz_srv_sign(sk, plain.p, plain.len, sig,
				    sizeof sig);
			} else
				fuzz_srv_sign(sk, p + hn, bn, sig, sizeof sig);
		}
		fill_header(p, hn, sig, bn, o);
		buf_add(o, p + hn, bn);
		p += hn + bn + skip;
	}
	free(plain.p);
}

/* Microseconds on the monotonic clock. */
static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Writes req[0..len) to a new connection to the server, shuts the
 * writing side, and reads into ans until the server closes or wait_ms
 * pass.  Returns 1 when the server closed (EOF or reset), 0 if not.
 *
 * The shutdown waits for the first byte of an answer, or SHUT_US: a FIN
 * that is already there when libmicrohttpd 0.9.75 reads the last bytes
 * of a request is lost on it (it reads less than it asked for, takes the
 * socket for drained, and epoll, edge-triggered, says nothing more), and
 * the connection then stays until connection_timeout.  Arriving after
 * that read, the FIN wakes it.
 */
static int
exchange(const char *req, size_t len, struct buf *ans, int wait_ms)
{
	struct sockaddr_in sin;
	struct pollfd pfd;
	char chunk[16384];
	long long t0 = now_us(), deadline = t0 + wait_ms * 1000LL, now;
	long long shut_at = -1;
	size_t off = 0;
	ssize_t k;
	int fd, shut = 0, closed = 0, ms;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)fsrv.port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		perror("fuzz: socket");
		abort();
	}
	FUZZ_ASSERT(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0 ||
	    errno == EINPROGRESS, "connect to port %u: %s", fsrv.port,
	    strerror(errno));
	buf_add(ans, "", 0);
	while (!closed && (now = now_us()) < deadline) {
		if (!shut && off == len) {
			if (shut_at < 0)
				shut_at = now + SHUT_US;
			if (ans->len > 0 || now >= shut_at) {
				shutdown(fd, SHUT_WR);
				shut = 1;
			}
		}
		pfd.fd = fd;
		pfd.events = POLLIN | (!shut && off < len ? POLLOUT : 0);
		pfd.revents = 0;
		ms = (int)((deadline - now + 999) / 1000);
		if (!shut && off == len)
			ms = (int)((shut_at - now + 999) / 1000);
		if (poll(&pfd, 1, ms) <= 0)
			continue;
		if (!shut && (pfd.revents & POLLOUT)) {
			k = send(fd, req + off, len - off, MSG_NOSIGNAL);
			if (k > 0)
				off += (size_t)k;
			else if (k == -1 && errno != EAGAIN &&
			    errno != EINTR) {
				FUZZ_ASSERT(errno != ECONNREFUSED,
				    "the server does not listen");
				shut = 1;	/* it has closed */
			}
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			k = recv(fd, chunk, sizeof chunk, 0);
			if (k > 0) {
				if (ans->len < ANSWER_MAX)
					buf_add(ans, chunk, (size_t)k);
			} else if (k == 0 || (errno != EAGAIN &&
			    errno != EINTR)) {
				FUZZ_ASSERT(k == 0 || errno != ECONNREFUSED,
				    "the server does not listen");
				closed = 1;
			}
		}
	}
	close(fd);
	if (verbose)
		fprintf(stderr, "fuzz_http: %zu/%zu bytes out, %zu back, %s "
		    "after %lld us\n", off, len, ans->len, closed ? "closed" :
		    "open", now_us() - t0);
	return closed;
}

/* What the harness knows of one request of the input. */
struct req_info {
	int		head;		/* HEAD: an answer without body */
	int		over;		/* its body is over max_body */
};

static int
tchar(int c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
	    (c | 0x20) <= 'z') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/*
 * The requests of t[0..n) that are framed beyond doubt (CRLF lines,
 * tokens, one Content-Length of digits or chunked alone, no trailers):
 * how many, up to max, into ri.  The first one in doubt ends the list,
 * since the server's framing of what follows may differ from ours.
 */
static size_t
requests(const char *t, size_t n, struct req_info *ri, size_t max)
{
	const char *p = t, *end = t + n, *eol, *c, *v;
	size_t nr = 0, vlen, k, bl;
	unsigned long long cl;
	int has_cl, has_te;

	while (p < end && nr < max) {
		memset(&ri[nr], 0, sizeof ri[nr]);
		/* METHOD SP target SP HTTP/1.x CRLF */
		if ((eol = find(p, (size_t)(end - p), "\r\n")) == NULL)
			break;
		for (c = p; c < eol && tchar((unsigned char)*c); c++)
			;
		if (c == p || c == eol || *c != ' ')
			break;
		ri[nr].head = c - p == 4 && memcmp(p, "HEAD", 4) == 0;
		for (c++, v = c; c < eol && *c > ' ' && *c < 0x7f; c++)
			;
		if (c == v || eol - c != 9 || (memcmp(c, " HTTP/1.1", 9) != 0 &&
		    memcmp(c, " HTTP/1.0", 9) != 0))
			break;
		/* Headers. */
		has_cl = has_te = 0;
		cl = 0;
		for (p = eol + 2; p < end; p = eol + 2) {
			if ((eol = find(p, (size_t)(end - p), "\r\n")) == NULL)
				return nr;
			if (eol == p)
				break;
			for (c = p; c < eol && tchar((unsigned char)*c); c++)
				;
			if (c == p || c == eol || *c != ':')
				return nr;
			for (v = c + 1; v < eol; v++)
				if ((*v < ' ' && *v != '\t') || *v == 0x7f ||
				    (*v & 0x80))
					return nr;
			for (v = c + 1; v < eol && (*v == ' ' || *v == '\t');
			    v++)
				;
			vlen = (size_t)(eol - v);
			while (vlen > 0 && (v[vlen - 1] == ' ' ||
			    v[vlen - 1] == '\t'))
				vlen--;
			if (c - p == 14 && strncasecmp(p, "Content-Length",
			    14) == 0) {
				if (has_cl++ || vlen == 0 || vlen > 15)
					return nr;
				for (k = 0; k < vlen; k++) {
					if (v[k] < '0' || v[k] > '9')
						return nr;
					cl = cl * 10 + (unsigned)(v[k] - '0');
				}
			} else if (c - p == 17 && strncasecmp(p,
			    "Transfer-Encoding", 17) == 0) {
				if (has_te++ || vlen != 7 ||
				    strncasecmp(v, "chunked", 7) != 0)
					return nr;
			}
		}
		if (p >= end || (has_cl && has_te))
			return nr;
		p = eol + 2;
		/* The body. */
		if (has_te) {
			/* Whole chunks only; a partial one is counted. */
			for (bl = 0;;) {
				for (cl = 0, k = 0; p + k < end && k < 8; k++) {
					if (p[k] >= '0' && p[k] <= '9')
						cl = cl * 16 + (unsigned)(p[k] -
						    '0');
					else if ((p[k] | 0x20) >= 'a' &&
					    (p[k] | 0x20) <= 'f')
						cl = cl * 16 + (unsigned)((p[k] |
						    0x20) - 'a' + 10);
					else
						break;
				}
				if (k == 0 || end - (p + k) < 2 ||
				    memcmp(p + k, "\r\n", 2) != 0) {
					/* Cut or extended: known no more. */
					ri[nr].over = bl > fsrv.srv->cfg->
					    limits.max_body;
					return ri[nr].over ? nr + 1 : nr;
				}
				p += k + 2;
				if (cl == 0)
					break;
				if ((unsigned long long)(end - p) < cl + 2) {
					bl += (size_t)(end - p);
					ri[nr].over = bl > fsrv.srv->cfg->
					    limits.max_body;
					return ri[nr].over ? nr + 1 : nr;
				}
				bl += cl;
				p += cl;
				if (memcmp(p, "\r\n", 2) != 0)
					return nr;
				p += 2;
			}
			ri[nr].over = bl > fsrv.srv->cfg->limits.max_body;
			if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
				return ri[nr].over ? nr + 1 : nr;
			p += 2;
		} else if (has_cl) {
			ri[nr].over = cl > fsrv.srv->cfg->limits.max_body;
			if ((unsigned long long)(end - p) < cl)
				return nr + 1;
			p += cl;
		}
		nr++;
	}
	return nr;
}

/*
 * Checks what the server said: answers, each a status line, headers and
 * a body as long as its Content-Length (none for 1xx, 204, 304 and a
 * HEAD); answer i is that of request i when ri knows it.  whole: the
 * server closed, so nothing may be cut.
 */
static void
check_answers(const char *a, size_t n, int whole, const struct req_info *ri,
    size_t nri)
{
	const char *p = a, *end = a + n, *eol, *hend, *v;
	size_t i = 0, vlen, k;
	unsigned long long cl;
	unsigned status;

	while (p < end) {
		/* HTTP/1.x SP 3DIGIT SP reason CRLF */
		if ((eol = find(p, (size_t)(end - p), "\r\n")) == NULL) {
			FUZZ_ASSERT(!whole, "answer %zu cut in its status "
			    "line: %.*s", i, (int)(end - p), p);
			return;
		}
		FUZZ_ASSERT(eol - p >= 13 && memcmp(p, "HTTP/1.", 7) == 0 &&
		    (p[7] == '0' || p[7] == '1') && p[8] == ' ' &&
		    p[9] >= '1' && p[9] <= '5' && p[10] >= '0' &&
		    p[10] <= '9' && p[11] >= '0' && p[11] <= '9' &&
		    p[12] == ' ', "answer %zu: bad status line: %.*s", i,
		    (int)(eol - p), p);
		status = (unsigned)((p[9] - '0') * 100 + (p[10] - '0') * 10 +
		    (p[11] - '0'));
		if ((hend = find(p, (size_t)(end - p), "\r\n\r\n")) == NULL) {
			FUZZ_ASSERT(!whole, "answer %zu (%u) cut in its "
			    "headers", i, status);
			return;
		}
		if (verbose)
			fprintf(stderr, "fuzz_http: answer %zu: %.*s\n", i,
			    (int)(eol - p), p);
		FUZZ_ASSERT(status < 500 || status == 505,
		    "answer %zu: %.*s", i, (int)(eol - p), p);
		FUZZ_ASSERT(i >= nri || !ri[i].over || status < 200 ||
		    status >= 300, "request %zu, whose body is over "
		    "max_body (%zu), answered %u", i,
		    fsrv.srv->cfg->limits.max_body, status);
		cl = 0;
		v = header(p, (size_t)(hend - p) + 2, "Content-Length", &vlen);
		for (k = 0; v != NULL && k < vlen && v[k] >= '0' &&
		    v[k] <= '9'; k++)
			cl = cl * 10 + (unsigned)(v[k] - '0');
		/*
		 * libmicrohttpd 0.9.75 sends the header block of its own error
		 * answer twice when it follows an answer on the same
		 * connection (a pipelined request without Host, say): its
		 * bug, not http.c's; the copy is skipped.
		 */
		if (status >= 400 && (size_t)(end - (hend + 4)) >=
		    (size_t)(hend + 4 - p) && memcmp(hend + 4, p,
		    (size_t)(hend + 4 - p)) == 0 && header(p, (size_t)(hend -
		    p) + 2, "Connection", &vlen) != NULL) {
			if (verbose)
				fprintf(stderr, "fuzz_http: answer %zu: "
				    "header block sent twice\n", i);
			p = hend + 4;
			continue;
		}
		p = hend + 4;
		if (status < 200)
			continue;	/* 100 Continue: the answer follows */
		/* No length: the body runs to the close (MHD's own errors). */
		if (v == NULL && status != 204 && status != 304)
			return;
		/* A HEAD's answer has no body, whether we know it or not. */
		if (status == 204 || status == 304 || (i < nri && ri[i].head) ||
		    (i >= nri && (end - p == 0 || (end - p >= 7 &&
		    memcmp(p, "HTTP/1.", 7) == 0))))
			cl = 0;
		if ((unsigned long long)(end - p) < cl) {
			FUZZ_ASSERT(!whole || i >= nri, "answer %zu (%u) cut "
			    "in its body", i, status);
			return;
		}
		p += cl;
		i++;
	}
}

/* GET /healthz on a new connection must be answered 200. */
static void
health(void)
{
	static const char rq[] = "GET /healthz HTTP/1.1\r\nHost: fuzz\r\n"
	    "Connection: close\r\n\r\n";
	struct buf ans = { NULL, 0, 0 };
	int closed;

	closed = exchange(rq, sizeof rq - 1, &ans, HEALTH_MS);
	FUZZ_ASSERT(ans.len >= 12 && memcmp(ans.p, "HTTP/1.1 200", 12) == 0,
	    "GET /healthz after the input: %s: %.*s",
	    closed ? "closed" : "no close", (int)(ans.len > 200 ? 200 :
	    ans.len), ans.p != NULL ? ans.p : "");
	free(ans.p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf t1 = { NULL, 0, 0 }, t2 = { NULL, 0, 0 };
	struct buf ans = { NULL, 0, 0 };
	static struct req_info ri[REQ_MAX];
	size_t nri;
	int newkey = 0, closed;

	fuzz_srv_next();
	substitute((const char *)data, size, &newkey, &t1);
	frame(t1.p, t1.len, newkey, &t2);
	nri = requests(t2.p, t2.len, ri, REQ_MAX);
	closed = exchange(t2.p, t2.len, &ans, WAIT_MS);
	if (verbose)
		fprintf(stderr, "fuzz_http: %zu bytes, %zu requests known, "
		    "%zu bytes back, %s\n", t2.len, nri, ans.len,
		    closed ? "closed" : "not closed");
	check_answers(ans.p, ans.len, closed && ans.len < ANSWER_MAX, ri,
	    nri);
	if (++inputs % HEALTH_EVERY == 0 || !closed)
		health();
	/* An unenrolled device comes back, so the seeds keep working. */
	fuzz_srv_devices();
	free(t1.p);
	free(t2.p);
	free(ans.p);
	return 0;
}
