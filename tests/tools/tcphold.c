/*
 * tcphold [-n] [-w] ADDR CMD [ARGS...]: opens a real TCP connection to a
 * listener on ADDR (an IPv4 or IPv6 literal, port chosen by the kernel),
 * keeps it while CMD runs, and exits with CMD's status.  Used by the
 * egress-deny tests; it listens on loopback addresses only.
 *
 *   -w  the listener's end closes first, so the connecting end is
 *       half-closed by its remote end (CLOSE_WAIT, EOF left unread) while
 *       CMD runs
 *   -n  CMD runs with netlink sockets refused: socket(AF_NETLINK, ...)
 *       fails with EACCES, as Android's SELinux refuses sock_diag to
 *       apps (a seccomp filter; x86_64 and aarch64), so that the agent
 *       must read /proc/net/tcp instead
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>

#if defined(__x86_64__)
#define TCPHOLD_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TCPHOLD_ARCH	AUDIT_ARCH_AARCH64
#endif

/* The low 32 bits of the first argument of a system call. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG0_LO	offsetof(struct seccomp_data, args[0])
#else
#define ARG0_LO	(offsetof(struct seccomp_data, args[0]) + 4)
#endif

#define WAIT_MS	5000	/* for the FIN of -w to arrive */

/*
 * Makes socket(AF_NETLINK, ...) fail with EACCES in this process and
 * what it runs, then checks that it does.  Returns 0 or -1.
 */
static int
refuse_netlink(void)
{
#ifdef TCPHOLD_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TCPHOLD_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_LO),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof f / sizeof f[0], f };
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		perror("tcphold: seccomp");
		return -1;
	}
	if ((fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG)) != -1 ||
	    errno != EACCES) {
		fprintf(stderr, "tcphold: netlink still allowed\n");
		if (fd != -1)
			close(fd);
		return -1;
	}
	return 0;
#else
	fprintf(stderr, "tcphold: -n: no seccomp filter for this machine\n");
	return -1;
#endif
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct pollfd pfd;
	socklen_t sl = sizeof ss;
	int l, c, a, st, ch, nonetlink = 0, closewait = 0;
	pid_t pid;

	while ((ch = getopt(argc, argv, "+nw")) != -1) {
		switch (ch) {
		case 'n':
			nonetlink = 1;
			break;
		case 'w':
			closewait = 1;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2) {
usage:
		fprintf(stderr, "usage: tcphold [-n] [-w] ADDR CMD "
		    "[ARGS...]\n");
		return 64;
	}
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, argv[0],
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, argv[0],
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else {
		fprintf(stderr, "tcphold: bad address %s\n", argv[0]);
		return 64;
	}
	sl = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if ((l = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    bind(l, (struct sockaddr *)&ss, sl) == -1 || listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&ss, &sl) == -1 ||
	    (c = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    connect(c, (struct sockaddr *)&ss, sl) == -1 ||
	    (a = accept(l, NULL, NULL)) == -1) {
		perror("tcphold");
		return 71;
	}
	if (closewait) {
		/* The FIN has arrived when c polls readable (EOF, unread). */
		close(a);
		a = -1;
		pfd.fd = c;
		pfd.events = POLLIN | POLLRDHUP;
		if (poll(&pfd, 1, WAIT_MS) != 1) {
			fprintf(stderr, "tcphold: no FIN within %d ms\n",
			    WAIT_MS);
			return 71;
		}
	}
	if ((pid = fork()) == -1) {
		perror("tcphold: fork");
		return 71;
	}
	if (pid == 0) {
		close(l);
		close(c);
		if (a != -1)
			close(a);
		if (nonetlink && refuse_netlink() == -1)
			_exit(71);
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		return 71;
	if (a != -1)
		close(a);
	close(c);
	close(l);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
