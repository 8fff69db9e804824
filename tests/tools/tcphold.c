/*
 * tcphold ADDR CMD [ARGS...]: opens a real TCP connection to a listener on
 * ADDR (an IPv4 or IPv6 literal, port chosen by the kernel), keeps it
 * established while CMD runs, and exits with CMD's status.  Used by the
 * egress-deny tests; it listens on loopback addresses only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int l, c, a, st;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: tcphold ADDR CMD [ARGS...]\n");
		return 64;
	}
	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, argv[1],
	    &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, argv[1],
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else {
		fprintf(stderr, "tcphold: bad address %s\n", argv[1]);
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
	if ((pid = fork()) == -1) {
		perror("tcphold: fork");
		return 71;
	}
	if (pid == 0) {
		close(l);
		close(c);
		close(a);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1)
		return 71;
	close(a);
	close(c);
	close(l);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
