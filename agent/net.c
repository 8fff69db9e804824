/*
 * net: the agent's half of the exchange with muster-reporter; see
 * agent/net.h and, for the bytes, agent/reporter/frame.h.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "muster/io.h"
#include "muster/log.h"
#include "muster/timefmt.h"
#include "net.h"
#include "state.h"

#ifndef MUSTER_LIBEXECDIR
#define MUSTER_LIBEXECDIR	"/usr/local/libexec/muster"
#endif

/*
 * Reads exactly n bytes before the monotonic deadline.  0, or -1 with
 * *why: "truncated" at end of file, "timed out", or the errno text.
 */
static int
read_deadline(int fd, void *buf, size_t n, int64_t deadline, const char **why)
{
	struct pollfd pfd;
	unsigned char *p = buf;
	int64_t left;
	ssize_t r;
	int pr;

	while (n > 0) {
		if ((left = deadline - timefmt_mono_ms()) <= 0) {
			*why = "timed out";
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		pr = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == -1) {
			*why = strerror(errno);
			return -1;
		}
		if (pr == 0)
			continue;	/* the deadline check says */
		r = read(fd, p, n);
		if (r == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r == -1) {
			*why = strerror(errno);
			return -1;
		}
		if (r == 0) {
			*why = "truncated";
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int
printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* The full URL: server without its trailing '/', then path. */
static int
full_url(const struct net_request *rq, char *url, size_t size)
{
	size_t sl = strlen(rq->server);
	int n;

	while (sl > 0 && rq->server[sl - 1] == '/')
		sl--;
	if (sl > (size_t)INT_MAX || rq->path[0] != '/')
		return -1;
	n = snprintf(url, size, "%.*s%s", (int)sl, rq->server, rq->path);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
net_request_write(int fd, const struct net_request *rq, struct muster_err *e)
{
	unsigned char hdr[FRAME_REQ_HEADER];
	char url[FRAME_URL_MAX + 1];
	const char *headers = rq->headers != NULL ? rq->headers : "";
	size_t ml = strlen(rq->method), ul, pl, hl = strlen(headers);

	if (full_url(rq, url, sizeof url) != 0 ||
	    strncmp(url, "https://", 8) != 0)
		return err_set(e, MUSTER_EUSAGE, "bad server URL or path");
	ul = strlen(url);
	pl = strlen(rq->pin);
	if ((strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") !=
	    0) || !frame_pins_ok(rq->pin) || hl > FRAME_HEADERS_MAX ||
	    rq->body_len > FRAME_REQ_BODY_MAX || !printable(url, ul) ||
	    rq->session_len > FRAME_SESSION_MAX ||
	    (rq->session == NULL && rq->session_len != 0))
		return err_set(e, MUSTER_EUSAGE, "request not sent: bad method, "
		    "pin, headers or size");
	memcpy(hdr, FRAME_REQ_MAGIC, FRAME_MAGIC_BYTES);
	frame_put32(hdr + 4, (uint32_t)ml);
	frame_put32(hdr + 8, (uint32_t)ul);
	frame_put32(hdr + 12, (uint32_t)pl);
	frame_put32(hdr + 16, (uint32_t)hl);
	frame_put32(hdr + 20, (uint32_t)rq->body_len);
	frame_put32(hdr + 24, (uint32_t)rq->session_len);
	if (io_send_all(fd, hdr, sizeof hdr) != 0 ||
	    io_send_all(fd, rq->method, ml) != 0 ||
	    io_send_all(fd, url, ul) != 0 ||
	    io_send_all(fd, rq->pin, pl) != 0 ||
	    io_send_all(fd, headers, hl) != 0 ||
	    io_send_all(fd, rq->body, rq->body_len) != 0 ||
	    io_send_all(fd, rq->session, rq->session_len) != 0)
		return err_sys(e, MUSTER_EIO, "writing to %s", NET_REPORTER);
	return 0;
}

void
net_response_free(struct net_response *rs)
{
	if (rs == NULL)
		return;
	free(rs->body);
	fs_wipe_free(rs->session, rs->session_len);
	memset(rs, 0, sizeof *rs);
}

int
net_response_read(int fd, int timeout_ms, struct net_response *rs,
    struct muster_err *e)
{
	unsigned char hdr[FRAME_RESP_HEADER];
	uint32_t elen, mlen, blen, slen;
	int64_t deadline = timefmt_mono_ms() + timeout_ms;
	const char *why = NULL;
	int rc;

	memset(rs, 0, sizeof *rs);
	if (read_deadline(fd, hdr, sizeof hdr, deadline, &why) != 0)
		return err_set(e, MUSTER_ETEMP, "%s: answer %s", NET_REPORTER,
		    why);
	if (memcmp(hdr, FRAME_RESP_MAGIC, FRAME_MAGIC_BYTES) != 0)
		return err_set(e, MUSTER_ETEMP, "%s: not an answer frame",
		    NET_REPORTER);
	rs->outcome = frame_get32(hdr + 4);
	rs->status = frame_get32(hdr + 8);
	rs->retry_after = frame_get32(hdr + 12);
	rs->uid = frame_get32(hdr + 16);
	elen = frame_get32(hdr + 20);
	mlen = frame_get32(hdr + 24);
	blen = frame_get32(hdr + 28);
	rs->flags = frame_get32(hdr + 32);
	slen = frame_get32(hdr + 36);
	if (rs->outcome > FRAME_OUTCOME_MAX || rs->retry_after >
	    FRAME_RETRY_MAX ||
	    (rs->outcome == FRAME_OK && (rs->status < 100 ||
	    rs->status > 599)) || (rs->outcome != FRAME_OK &&
	    rs->status != 0)) {
		rc = err_set(e, MUSTER_ETEMP, "%s: answer with a bad outcome "
		    "%u or status %u", NET_REPORTER, rs->outcome, rs->status);
		goto fail;
	}
	if (elen > FRAME_ETAG_MAX || mlen > FRAME_MSG_MAX ||
	    blen > FRAME_RESP_BODY_MAX || slen > FRAME_SESSION_MAX ||
	    (rs->flags & ~(uint32_t)FRAME_F_ALL) != 0) {
		rc = err_set(e, MUSTER_ETEMP, "%s: answer over its limits",
		    NET_REPORTER);
		goto fail;
	}
	if ((rs->body = malloc((size_t)blen + 1)) == NULL ||
	    (slen > 0 && (rs->session = malloc(slen)) == NULL)) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto fail;
	}
	if (read_deadline(fd, rs->etag, elen, deadline, &why) != 0 ||
	    read_deadline(fd, rs->msg, mlen, deadline, &why) != 0 ||
	    read_deadline(fd, rs->body, blen, deadline, &why) != 0 ||
	    read_deadline(fd, rs->session, slen, deadline, &why) != 0) {
		rc = err_set(e, MUSTER_ETEMP, "%s: answer %s", NET_REPORTER,
		    why);
		goto fail;
	}
	rs->etag[elen] = '\0';
	rs->msg[mlen] = '\0';
	rs->body[blen] = '\0';
	rs->body_len = blen;
	rs->session_len = slen;
	if (!printable(rs->etag, elen) || !printable(rs->msg, mlen)) {
		rc = err_set(e, MUSTER_ETEMP, "%s: answer with unprintable "
		    "bytes in its ETag or message", NET_REPORTER);
		goto fail;
	}
	return 0;
fail:
	net_response_free(rs);
	return rc;
}

int
net_reporter_path(char *buf, size_t size, struct muster_err *e)
{
	char self[PATH_MAX];
	ssize_t n;
	int w;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		w = snprintf(buf, size, "%s/%s", dirname(self), NET_REPORTER);
		if (w > 0 && (size_t)w < size && access(buf, X_OK) == 0)
			return 0;
	}
	w = snprintf(buf, size, "%s/%s", MUSTER_LIBEXECDIR, NET_REPORTER);
	if (w > 0 && (size_t)w < size && access(buf, X_OK) == 0)
		return 0;
	return err_set(e, MUSTER_ECONFIG, "%s not found beside %s nor in %s; "
	    "install it", NET_REPORTER, n > 0 ? self : "muster-agent",
	    MUSTER_LIBEXECDIR);
}

/* In the child: the socket on FRAME_FD, /dev/null on 0 and 1, then exec. */
static void
child(const char *path, int sock, int devnull)
{
	char *const argv[] = { (char *)NET_REPORTER, NULL };
	char *const envp[] = { NULL };
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(devnull, 0) == -1 || dup2(devnull, 1) == -1)
		_exit(127);
	if (sock == FRAME_FD) {
		if (fcntl(FRAME_FD, F_SETFD, 0) == -1)
			_exit(127);
	} else if (dup2(sock, FRAME_FD) == -1)
		_exit(127);
	/* An empty environment: no proxy, no locale, nothing of ours. */
	execve(path, argv, envp);
	_exit(127);
}

void
net_session_init(struct net_session *s)
{
	memset(s, 0, sizeof *s);
	s->pid = -1;
	s->fd = -1;
}

/*
 * Ends the reporter of s: its socket closed (end of session), then its
 * exit waited for, up to NET_CLOSE_WAIT_MS unless kill says to kill it
 * at once.  Logs its peak memory.
 */
static void
session_end(struct net_session *s, int kill_it)
{
	struct rusage ru;
	struct pollfd pfd;
	char c;
	pid_t w = 0;
	int st, gone = kill_it;

	if (s->fd != -1 && !kill_it) {
		/* The end of the session: the reporter reads end of file and
		 * exits, which closes its end; wait for that, bounded. */
		shutdown(s->fd, SHUT_WR);
		pfd.fd = s->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		while (poll(&pfd, 1, NET_CLOSE_WAIT_MS) == -1 && errno == EINTR)
			;
		gone = (pfd.revents & (POLLIN | POLLHUP)) != 0 &&
		    recv(s->fd, &c, 1, MSG_DONTWAIT) == 0;
	}
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->pid <= 0)
		return;
	if (kill_it || !gone)
		kill(s->pid, SIGKILL);
	memset(&ru, 0, sizeof ru);
	while ((w = wait4(s->pid, &st, 0, &ru)) == -1 && errno == EINTR)
		;
	if (w == s->pid)
		log_debug("reporter pid %ld: %u exchange%s (%u on a resumed "
		    "TLS session), peak RSS %ld kB", (long)s->pid,
		    s->exchanges, s->exchanges == 1 ? "" : "s", s->resumed,
		    ru.ru_maxrss);
	s->pid = -1;
	s->exchanges = 0;
	s->resumed = 0;
}

void
net_session_close(struct net_session *s)
{
	if (s != NULL)
		session_end(s, 0);
}

/* Starts a reporter for s.  0, or MUSTER_ECONFIG / MUSTER_ETEMP. */
static int
session_start(struct net_session *s, struct muster_err *e)
{
	char path[PATH_MAX];
	int sv[2] = { -1, -1 }, devnull = -1, rc;
	pid_t pid;

	if ((rc = net_reporter_path(path, sizeof path, e)) != 0)
		return rc;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		rc = err_sys(e, MUSTER_ETEMP, "socketpair");
		goto out;
	}
	/* Descriptors 0-2 are open (main), so sv[1] and devnull are > 2. */
	if ((pid = fork()) == -1) {
		rc = err_sys(e, MUSTER_ETEMP, "fork");
		goto out;
	}
	if (pid == 0)
		child(path, sv[1], devnull);
	s->pid = pid;
	s->fd = sv[0];
	sv[0] = -1;
	s->started++;
	log_debug("reporter %s pid %ld started", path, (long)pid);
	rc = 0;
out:
	fs_close(&sv[0]);
	fs_close(&sv[1]);
	fs_close(&devnull);
	return rc;
}

/*
 * 1 if the reporter of s can take a request: its socket holds nothing
 * unasked (an answer nobody asked for, or its end of file: it exited).
 */
static int
session_alive(struct net_session *s)
{
	struct pollfd pfd = { s->fd, POLLIN, 0 };

	return s->fd != -1 && poll(&pfd, 1, 0) == 0;
}

/*
 * Keeps the TLS session rs carries for the next reporter, only from an
 * answer (FRAME_OK: the server's key matched the pin), or forgets the
 * kept one when the server's key did not match the pin.  Best effort: a session not kept costs a full handshake.
 */
static void
tls_keep(struct net_session *s, const struct net_request *rq,
    struct net_response *rs)
{
	struct muster_err te = { 0 };

	if (s->dir == NULL)
		;
	else if (rs->outcome == FRAME_EPIN) {
		if (state_tls_remove(s->dir, &te) != 0)
			log_warn("%s", te.msg);
	} else if (rs->outcome == FRAME_OK && rs->session_len > 0 &&
	    rs->uid != 0 && state_tls_store(s->dir, rq->server, rq->pin,
	    rs->session, rs->session_len, &te) != 0)
		log_warn("TLS session not kept: %s", te.msg);
	fs_wipe_free(rs->session, rs->session_len);
	rs->session = NULL;
	rs->session_len = 0;
}

int
net_session_exchange(struct net_session *s, const struct net_request *rq,
    struct net_response *rs, struct muster_err *e)
{
	struct net_request one;
	unsigned char *sess = NULL;
	size_t sess_len = 0;
	int rc;

	memset(rs, 0, sizeof *rs);
	if (s->fd != -1 && !session_alive(s))
		session_end(s, 1);
	if (s->fd == -1 && (rc = session_start(s, e)) != 0)
		return rc;
	log_debug("%s %s%s via reporter pid %ld", rq->method, rq->server,
	    rq->path, (long)s->pid);
	/* A new reporter: offered the session the last one kept. */
	if (s->exchanges == 0 && s->dir != NULL && rq->session == NULL) {
		struct muster_err te = { 0 };

		if (state_tls_load(s->dir, rq->server, rq->pin, &sess,
		    &sess_len, &te) != 0)
			log_warn("%s", te.msg);
		one = *rq;
		one.session = sess;
		one.session_len = sess_len;
		rq = &one;
	}
	rc = net_request_write(s->fd, rq, e);
	fs_wipe_free(sess, sess_len);
	if (rc != 0) {
		/* A reporter that stopped reading may have said why. */
		if (rc == MUSTER_EIO && net_response_read(s->fd, 5000, rs,
		    NULL) == 0)
			rc = 0;
		else
			goto fail;
	} else if ((rc = net_response_read(s->fd, NET_ANSWER_TIMEOUT_MS, rs,
	    e)) != 0)
		goto fail;
	s->exchanges++;
	log_debug("reporter pid %ld ran as uid %u: %s, HTTP %u, %zu bytes%s",
	    (long)s->pid, rs->uid, frame_outcome_name(rs->outcome),
	    rs->status, rs->body_len, (rs->flags & FRAME_F_RESUMED) != 0 ?
	    ", TLS session resumed" : "");
	if ((rs->flags & FRAME_F_RESUMED) != 0)
		s->resumed++;
	tls_keep(s, rq, rs);
	if (rs->uid == 0) {
		net_response_free(rs);
		session_end(s, 1);
		return err_set(e, MUSTER_ECONFIG, "%s answered as root; its "
		    "answer is refused", NET_REPORTER);
	}
	/* It refused the request or could not start: it is gone. */
	if (rs->outcome == FRAME_EREQUEST || rs->outcome == FRAME_EPRIV ||
	    rs->outcome == FRAME_EINTERNAL)
		session_end(s, 0);
	return 0;
fail:
	{
		pid_t pid = s->pid;
		int st = 0;

		kill(pid, SIGKILL);
		close(s->fd);
		s->fd = -1;
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		s->pid = -1;
		if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
			rc = err_set(e, MUSTER_ECONFIG, "%s: could not be "
			    "executed", NET_REPORTER);
	}
	return rc;
}

int
net_exchange(const struct net_request *rq, struct net_response *rs,
    struct muster_err *e)
{
	struct net_session s;
	int rc;

	net_session_init(&s);
	rc = net_session_exchange(&s, rq, rs, e);
	net_session_close(&s);
	return rc;
}

int
net_outcome_rc(const struct net_response *rs, struct muster_err *e)
{
	const char *name = frame_outcome_name(rs->outcome);
	const char *sep = rs->msg[0] != '\0' ? ": " : "";

	switch (rs->outcome) {
	case FRAME_OK:
		return 0;
	case FRAME_EPIN:
		return err_set(e, MUSTER_ETRUST, "%s%s%s; refusing to talk to "
		    "it", name, sep, rs->msg);
	case FRAME_EPRIV:
		return err_set(e, MUSTER_ECONFIG, "%s%s%s", name, sep, rs->msg);
	case FRAME_EREQUEST:
		return err_set(e, MUSTER_EINTERNAL, "%s%s%s", name, sep,
		    rs->msg);
	default:
		return err_set(e, MUSTER_ETEMP, "%s%s%s", name, sep, rs->msg);
	}
}
