/* front: listening sockets, accept loop, limits and deadlines; front.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "muster/log.h"
#include "config.h"
#include "front.h"
#include "http.h"
#include "srv.h"

#define FRONT_TICK_MS		200	/* deadlines checked this often */
#define FRONT_BACKLOG		1024
#define FRONT_ACCEPT_BURST	64	/* per listener per wake-up */
#define FRONT_UNSEEN_MS		5000	/* handed to MHD, never started */

enum front_state {
	FC_HALF_OPEN,		/* no complete header block yet */
	FC_REQUEST,		/* headers in, body arriving */
	FC_BUSY,		/* whole, being answered: no deadline */
	FC_IDLE,		/* answered, waiting for the next request */
};

struct front_conn {
	struct front		*front;
	int			 fd;
	int			 seen;		/* MHD started it */
	int			 cut;		/* shut down by us */
	int			 shaken;	/* TLS handshake done */
	int			 fresh;		/* counted in front.fresh */
	enum front_state	 state;
	long long		 since;		/* ms, monotonic: accepted */
	long long		 deadline;	/* ms, monotonic; 0: none */
	long long		 hs_deadline;	/* ms: the handshake's */
	long long		 req;		/* ms: this request's headers */
	unsigned char		 net[8];	/* the /24 or /64 */
	unsigned char		 ip[16];
	int			 family;
	char			 addr[INET6_ADDRSTRLEN];
	struct front_conn	*prev, *next;	/* oldest first */
};

struct front_sock {
	int			 fd;
	enum front_kind		 kind;
	char			 text[CONFIG_ADDR_MAX + 8];
};

struct front {
	struct srv		*srv;
	struct front_sock	 socks[CONFIG_LISTEN_MAX];
	size_t			 nsocks;
	int			 wake[2];	/* pipe: stop the thread */
	pthread_t		 thread;
	int			 running;
	pthread_mutex_t		 mu;
	struct front_conn	*head, *tail;
	struct front_stats	 st;
	unsigned		 fresh;	/* front_fresh; atomic */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
front_bind(const struct config *c, struct front **out, struct muster_err *e)
{
	struct front *f;
	size_t i;
	int fd, one = 1, rc = 0;

	*out = NULL;
	if ((f = calloc(1, sizeof *f)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	f->wake[0] = f->wake[1] = -1;
	pthread_mutex_init(&f->mu, NULL);
	for (i = 0; i < c->nlisten; i++) {
		const struct config_listen *l = &c->listen[i];
		struct front_sock *fs = &f->socks[f->nsocks];

		fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (fd == -1) {
			rc = err_sys(e, MUSTER_EOS, "socket");
			goto out;
		}
		fs->fd = fd;
		fs->kind = l->admin && c->admin_separate ? FRONT_ADMIN :
		    FRONT_DEVICE;
		snprintf(fs->text, sizeof fs->text, "%s", l->text);
		f->nsocks++;
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof one);
		/* Explicit, whatever net.ipv6.bindv6only says. */
		if (l->addr.ss_family == AF_INET6 && setsockopt(fd,
		    IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == -1) {
			rc = err_sys(e, MUSTER_EOS, "%s: IPV6_V6ONLY",
			    l->text);
			goto out;
		}
		if (bind(fd, (const struct sockaddr *)&l->addr,
		    l->addrlen) == -1 || listen(fd, FRONT_BACKLOG) == -1) {
			rc = err_sys(e, MUSTER_EUNAVAIL, "%s:%d: %s: "
			    "cannot listen on %s", c->path, l->line, l->admin ?
			    "admin_listen" : "listen", l->text);
			goto out;
		}
	}
	if (pipe2(f->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		rc = err_sys(e, MUSTER_EOS, "pipe");
		goto out;
	}
	*out = f;
	f = NULL;
out:
	front_free(f);
	return rc;
}

unsigned
front_port(const struct front *f)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;

	if (f->nsocks == 0 || getsockname(f->socks[0].fd,
	    (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

int
front_has(const struct front *f, enum front_kind kind)
{
	size_t i;

	for (i = 0; i < f->nsocks; i++)
		if (f->socks[i].kind == kind)
			return 1;
	return 0;
}

/* Moves c to state st (f->mu held), out of the half-open count if in. */
static void
conn_state(struct front *f, struct front_conn *c, enum front_state st)
{
	if (c->state == FC_HALF_OPEN && f->st.half_open > 0)
		f->st.half_open--;
	c->state = st;
}

/* Takes c out of the fresh count (f->mu held); 1 if it was in. */
static int
conn_unfresh(struct front *f, struct front_conn *c)
{
	if (!c->fresh)
		return 0;
	c->fresh = 0;
	__atomic_sub_fetch(&f->fresh, 1, __ATOMIC_RELAXED);
	return 1;
}

/* Forgets c (f->mu held); 1 if it was in the fresh count. */
static int
conn_unlink(struct front *f, struct front_conn *c)
{
	int was = conn_unfresh(f, c);

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		f->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		f->tail = c->prev;
	conn_state(f, c, FC_IDLE);	/* out of the half-open count */
	if (f->st.open > 0)
		f->st.open--;
	free(c);
	return was;
}

/* Shuts c's socket down: MHD sees the end and closes the connection. */
static void
conn_cut(struct front_conn *c)
{
	if (!c->cut) {
		c->cut = 1;
		(void)shutdown(c->fd, SHUT_RDWR);
	}
}

/* Fills c's address, /24 or /64 and text from the peer address. */
static void
conn_addr(struct front_conn *c, const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(c->ip, &s6->sin6_addr, 16);
		memcpy(c->net, &s6->sin6_addr, 8);
		c->family = AF_INET6;
		inet_ntop(AF_INET6, &s6->sin6_addr, c->addr, sizeof c->addr);
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		memcpy(c->ip, &s4->sin_addr, 4);
		memcpy(c->net, &s4->sin_addr, 3);
		c->family = AF_INET;
		inet_ntop(AF_INET, &s4->sin_addr, c->addr, sizeof c->addr);
	}
}

/*
 * Admits the new connection n (not yet linked) under the limits l (0),
 * or refuses it: 1 (its address) or 2 (its network) has too many
 * half-open connections.  Closes the oldest half-open connection when
 * the global cap is reached.  Called with f->mu held.
 */
static int
conn_admit(struct front *f, struct front_conn *n,
    const struct config_limits *l)
{
	struct front_conn *c, *next, *oldest = NULL;
	unsigned per_ip = 0, per_net = 0, half = 0;
	long long now = n->since;

	for (c = f->head; c != NULL; c = next) {
		next = c->next;
		if (c->fd == n->fd) {
			/* The number is ours again: that one is gone. */
			conn_unlink(f, c);
			continue;
		}
		if (!c->seen && now - c->since > FRONT_UNSEEN_MS) {
			conn_unlink(f, c);
			continue;
		}
		if (c->state != FC_HALF_OPEN || c->cut)
			continue;
		half++;
		if (oldest == NULL)
			oldest = c;
		if (c->family != n->family)
			continue;
		if (memcmp(c->ip, n->ip, sizeof c->ip) == 0)
			per_ip++;
		if (memcmp(c->net, n->net, sizeof c->net) == 0)
			per_net++;
	}
	if (per_ip >= l->max_half_open_per_ip) {
		f->st.refused_ip++;
		return 1;
	}
	if (per_net >= l->max_half_open_per_net) {
		f->st.refused_net++;
		return 2;
	}
	if (half >= l->max_half_open && oldest != NULL) {
		conn_cut(oldest);
		f->st.evicted++;
	}
	return 0;
}

/* Accepts what waits on one listener and hands it to its daemon. */
static void
front_accept(struct front *f, const struct front_sock *fs)
{
	struct sockaddr_storage ss;
	struct front_conn *n;
	struct config *cfg;
	socklen_t sl;
	int fd, i, why;

	for (i = 0; i < FRONT_ACCEPT_BURST; i++) {
		sl = sizeof ss;
		fd = accept4(fs->fd, (struct sockaddr *)&ss, &sl,
		    SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept on %s: %s", fs->text,
				    strerror(errno));
			return;
		}
		cfg = srv_config(f->srv);
		if ((n = calloc(1, sizeof *n)) == NULL) {
			close(fd);
			continue;
		}
		n->front = f;
		n->fd = fd;
		n->since = now_ms();
		n->deadline = n->since +
		    (long long)cfg->limits.request_timeout * 1000;
		n->hs_deadline = n->since +
		    (long long)cfg->limits.handshake_timeout * 1000;
		conn_addr(n, &ss);
		pthread_mutex_lock(&f->mu);
		if ((why = conn_admit(f, n, &cfg->limits)) == 0) {
			n->next = NULL;
			n->prev = f->tail;
			if (f->tail != NULL)
				f->tail->next = n;
			else
				f->head = n;
			f->tail = n;
			f->st.accepted++;
			f->st.half_open++;
			if (fs->kind == FRONT_DEVICE) {
				n->fresh = 1;
				__atomic_add_fetch(&f->fresh, 1,
				    __ATOMIC_RELAXED);
			}
			f->st.open++;
		}
		pthread_mutex_unlock(&f->mu);
		if (why != 0) {
			log_refused("refused a connection from %s: too many "
			    "half-open connections from its %s", n->addr,
			    why == 1 ? "address" : "network");
			close(fd);
			free(n);
			continue;
		}
		/* MHD closes fd whatever happens. */
		if (http_add(f->srv, fs->kind, fd, (struct sockaddr *)&ss,
		    sl) != 0) {
			pthread_mutex_lock(&f->mu);
			for (n = f->head; n != NULL; n = n->next)
				if (n->fd == fd && !n->seen) {
					conn_unlink(f, n);
					break;
				}
			pthread_mutex_unlock(&f->mu);
		}
	}
}

/*
 * Shuts down every connection past one of its deadlines: the handshake's
 * (handshake_timeout from accept, until the TLS handshake is done) or
 * the request's (request_timeout).
 */
static void
front_sweep(struct front *f)
{
	struct front_conn *c;
	long long now = now_ms();
	unsigned long cut = 0, hs = 0;

	pthread_mutex_lock(&f->mu);
	for (c = f->head; c != NULL; c = c->next) {
		if (!c->seen || c->cut)
			continue;
		if (!c->shaken && now >= c->hs_deadline) {
			conn_cut(c);
			hs++;
		} else if (c->deadline != 0 && now >= c->deadline) {
			conn_cut(c);
			cut++;
		}
	}
	f->st.deadline += cut;
	f->st.handshake += hs;
	pthread_mutex_unlock(&f->mu);
	if (cut > 0)
		log_debug("front: %lu connections past request_timeout "
		    "closed", cut);
	if (hs > 0)
		log_debug("front: %lu connections past handshake_timeout "
		    "closed", hs);
}

static void *
front_run(void *arg)
{
	struct front *f = arg;
	struct pollfd pfd[CONFIG_LISTEN_MAX + 1];
	long long next = now_ms() + FRONT_TICK_MS;
	size_t i;
	int n, timeout;

	for (i = 0; i < f->nsocks; i++)
		pfd[i] = (struct pollfd){ f->socks[i].fd, POLLIN, 0 };
	pfd[f->nsocks] = (struct pollfd){ f->wake[0], POLLIN, 0 };
	for (;;) {
		timeout = (int)(next - now_ms());
		if (timeout < 0)
			timeout = 0;
		n = poll(pfd, f->nsocks + 1, timeout);
		if (n == -1 && errno != EINTR) {
			log_error("front: poll: %s", strerror(errno));
			break;
		}
		if (n > 0 && pfd[f->nsocks].revents != 0)
			break;
		for (i = 0; n > 0 && i < f->nsocks; i++)
			if (pfd[i].revents & POLLIN)
				front_accept(f, &f->socks[i]);
		if (now_ms() >= next) {
			front_sweep(f);
			http_reap(f->srv);
			next = now_ms() + FRONT_TICK_MS;
		}
	}
	return NULL;
}

int
front_start(struct front *f, struct srv *s, struct muster_err *e)
{
	int rc;

	f->srv = s;
	if ((rc = pthread_create(&f->thread, NULL, front_run, f)) != 0) {
		errno = rc;
		return err_sys(e, MUSTER_EOS, "pthread_create");
	}
	f->running = 1;
	return 0;
}

void
front_stop(struct front *f)
{
	size_t i;

	if (f == NULL)
		return;
	if (f->running) {
		if (write(f->wake[1], "x", 1) != 1)
			log_error("front: cannot wake the accept thread");
		pthread_join(f->thread, NULL);
		f->running = 0;
	}
	for (i = 0; i < f->nsocks; i++)
		if (f->socks[i].fd != -1) {
			close(f->socks[i].fd);
			f->socks[i].fd = -1;
		}
}

void
front_free(struct front *f)
{
	struct front_conn *c, *next;

	if (f == NULL)
		return;
	front_stop(f);
	if (f->wake[0] != -1)
		close(f->wake[0]);
	if (f->wake[1] != -1)
		close(f->wake[1]);
	for (c = f->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	pthread_mutex_destroy(&f->mu);
	free(f);
}

struct front_conn *
front_conn_started(struct front *f, int fd)
{
	struct front_conn *c;

	pthread_mutex_lock(&f->mu);
	for (c = f->head; c != NULL; c = c->next)
		if (c->fd == fd && !c->seen) {
			c->seen = 1;
			break;
		}
	pthread_mutex_unlock(&f->mu);
	return c;
}

void
front_conn_headers(struct front *f, struct front_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	/* Headers came over TLS: the handshake is done, if not said. */
	c->shaken = 1;
	/* The deadline stands: the body must be in by it too. */
	conn_state(f, c, FC_REQUEST);
	c->req = now_ms();
	pthread_mutex_unlock(&f->mu);
}

void
front_conn_handshaken(struct front_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->front->mu);
	c->shaken = 1;
	pthread_mutex_unlock(&c->front->mu);
}

int
front_conn_busy(struct front *f, struct front_conn *c)
{
	int was;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&f->mu);
	conn_state(f, c, FC_BUSY);
	c->deadline = 0;
	was = conn_unfresh(f, c);
	pthread_mutex_unlock(&f->mu);
	return was;
}

void
front_conn_answered(struct front *f, struct front_conn *c)
{
	struct config *cfg = srv_config(f->srv);

	if (c == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	conn_state(f, c, FC_IDLE);
	c->deadline = now_ms() + (long long)cfg->limits.request_timeout * 1000;
	pthread_mutex_unlock(&f->mu);
}

int
front_conn_closed(struct front *f, struct front_conn *c)
{
	int was;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&f->mu);
	was = conn_unlink(f, c);
	pthread_mutex_unlock(&f->mu);
	return was;
}

unsigned
front_fresh(void *f)
{
	return __atomic_load_n(&((struct front *)f)->fresh, __ATOMIC_RELAXED);
}

long long
front_conn_elapsed_ms(const struct front_conn *c)
{
	return c != NULL && c->req != 0 ? now_ms() - c->req : -1;
}

const char *
front_conn_addr(const struct front_conn *c)
{
	return c != NULL ? c->addr : "-";
}

void
front_stats(struct front *f, struct front_stats *st)
{
	pthread_mutex_lock(&f->mu);
	*st = f->st;
	pthread_mutex_unlock(&f->mu);
}
