/*
 * tcpcut LISTEN_PORT TARGET_PORT STATS [up:N|down:N]: a TCP proxy on
 * loopback for the check-in tests and benchmark.  It listens on
 * 127.0.0.1:LISTEN_PORT and forwards every connection to
 * 127.0.0.1:TARGET_PORT, counting connections and bytes each way; after
 * each connection ends it rewrites STATS (temp + rename) as
 *
 *	connections N
 *	up BYTES	(client to server)
 *	down BYTES	(server to client)
 *	cut K		(connections it cut)
 *
 * With up:N (down:N) the first connection is cut, both ways, once N bytes
 * have gone to the server (to the client): exactly N are forwarded, then
 * both sockets are closed.  Later connections pass untouched.  It runs
 * until SIGTERM or SIGINT, and at most TCPCUT_LIFETIME seconds, so that a
 * test that forgets it leaves nothing behind for long.  Exit 0, or 64
 * with one line on a usage error, 71 when it cannot listen.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TCPCUT_PAIRS	64
#define TCPCUT_LIFETIME	600	/* seconds */
#define TCPCUT_BUF	16384

struct pair {
	int		 c, s;		/* client and server sockets; -1 */
	int		 cut;		/* this one is to be cut */
	unsigned long	 up, down;	/* bytes forwarded on it */
};

static volatile sig_atomic_t stop;
static unsigned long nconn, nup, ndown, ncut;
static const char *stats;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
write_stats(void)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", stats);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "connections %lu\nup %lu\ndown %lu\ncut %lu\n", nconn, nup,
	    ndown, ncut);
	if (fclose(f) == 0)
		rename(tmp, stats);
}

static void
pair_close(struct pair *p)
{
	if (p->c == -1)
		return;
	close(p->c);
	close(p->s);
	p->c = p->s = -1;
	write_stats();
}

static int
port_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *end == '\0' && v > 0 && v < 65536 ? (int)v : -1;
}

/*
 * Forwards what is readable on from to to, at most limit bytes (0: no
 * limit).  Returns the bytes forwarded, 0 at end of file or error.
 */
static ssize_t
forward(int from, int to, unsigned long limit)
{
	char buf[TCPCUT_BUF];
	size_t want = sizeof buf, off = 0;
	ssize_t r, w;

	if (limit > 0 && limit < want)
		want = limit;
	if ((r = read(from, buf, want)) <= 0)
		return 0;
	while (off < (size_t)r) {
		w = write(to, buf + off, (size_t)r - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return 0;
		off += (size_t)w;
	}
	return r;
}

int
main(int argc, char **argv)
{
	struct pair pairs[TCPCUT_PAIRS];
	struct pollfd pfd[1 + 2 * TCPCUT_PAIRS];
	struct sockaddr_in a;
	struct sigaction sa;
	unsigned long cut_at = 0;
	int lport, tport, lfd, one = 1, cut_up = 0, first = 1, i, n, fd;
	time_t end = time(NULL) + TCPCUT_LIFETIME;

	if (argc < 4 || argc > 5 || (lport = port_arg(argv[1])) == -1 ||
	    (tport = port_arg(argv[2])) == -1) {
		fprintf(stderr, "usage: tcpcut LISTEN_PORT TARGET_PORT STATS "
		    "[up:N|down:N]\n");
		return 64;
	}
	stats = argv[3];
	if (argc == 5) {
		if (strncmp(argv[4], "up:", 3) == 0)
			cut_up = 1;
		else if (strncmp(argv[4], "down:", 5) != 0) {
			fprintf(stderr, "tcpcut: want up:N or down:N, not "
			    "\"%s\"\n", argv[4]);
			return 64;
		}
		cut_at = strtoul(strchr(argv[4], ':') + 1, NULL, 10);
		if (cut_at == 0) {
			fprintf(stderr, "tcpcut: N must be at least 1\n");
			return 64;
		}
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < TCPCUT_PAIRS; i++)
		pairs[i] = (struct pair){ -1, -1, 0, 0, 0 };
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)lport);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof a) == -1 ||
	    listen(lfd, 64) == -1) {
		fprintf(stderr, "tcpcut: cannot listen on 127.0.0.1:%d: %s\n",
		    lport, strerror(errno));
		return 71;
	}
	write_stats();
	while (!stop && time(NULL) < end) {
		pfd[0] = (struct pollfd){ lfd, POLLIN, 0 };
		for (i = 0; i < TCPCUT_PAIRS; i++) {
			pfd[1 + 2 * i] = (struct pollfd){ pairs[i].c, POLLIN, 0 };
			pfd[2 + 2 * i] = (struct pollfd){ pairs[i].s, POLLIN, 0 };
		}
		if ((n = poll(pfd, 1 + 2 * TCPCUT_PAIRS, 1000)) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			if ((fd = accept(lfd, NULL, NULL)) != -1) {
				for (i = 0; i < TCPCUT_PAIRS && pairs[i].c != -1;
				    i++)
					;
				a.sin_port = htons((uint16_t)tport);
				if (i == TCPCUT_PAIRS) {
					close(fd);
				} else if ((pairs[i].s = socket(AF_INET,
				    SOCK_STREAM, 0)) == -1 || connect(pairs[i].s,
				    (struct sockaddr *)&a, sizeof a) == -1) {
					if (pairs[i].s != -1)
						close(pairs[i].s);
					pairs[i].s = -1;
					close(fd);
				} else {
					pairs[i].c = fd;
					pairs[i].up = pairs[i].down = 0;
					pairs[i].cut = cut_at > 0 && first;
					first = 0;
					nconn++;
				}
			}
		}
		for (i = 0; i < TCPCUT_PAIRS; i++) {
			struct pair *p = &pairs[i];
			unsigned long lim;
			ssize_t r;

			if (p->c == -1)
				continue;
			if (pfd[1 + 2 * i].revents & (POLLIN | POLLHUP |
			    POLLERR)) {
				lim = p->cut && cut_up ? cut_at - p->up : 0;
				if ((r = forward(p->c, p->s, lim)) == 0) {
					pair_close(p);
					continue;
				}
				p->up += (unsigned long)r;
				nup += (unsigned long)r;
			}
			if (pfd[2 + 2 * i].revents & (POLLIN | POLLHUP |
			    POLLERR)) {
				lim = p->cut && !cut_up ? cut_at - p->down : 0;
				if ((r = forward(p->s, p->c, lim)) == 0) {
					pair_close(p);
					continue;
				}
				p->down += (unsigned long)r;
				ndown += (unsigned long)r;
			}
			if (p->cut && (cut_up ? p->up : p->down) >= cut_at) {
				ncut++;
				pair_close(p);
			}
		}
	}
	for (i = 0; i < TCPCUT_PAIRS; i++)
		pair_close(&pairs[i]);
	close(lfd);
	write_stats();
	return 0;
}
