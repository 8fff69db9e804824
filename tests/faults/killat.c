/*
 * killat USEC CMD [ARGS...]: runs CMD in a process group of its own and
 * sends SIGKILL to that group USEC microseconds after starting it (a power
 * cut for CMD and everything it started), unless CMD has ended by then.
 * Prints one line: "killed USEC" or "exited CODE USEC" (CODE 128+N for a
 * signal N that was not ours), USEC being how long CMD ran.  Exit 0, or 64
 * usage, 71 when it cannot start CMD.  Used by tests/e2e/test_fault_*.sh.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
main(int argc, char **argv)
{
	long long start, deadline, left;
	struct timespec ts;
	char *end;
	long usec;
	pid_t pid, w;
	int st, killed = 0;

	if (argc < 3 || (usec = strtol(argv[1], &end, 10)) < 0 ||
	    *end != '\0') {
		fprintf(stderr, "usage: killat USEC CMD [ARGS...]\n");
		return 64;
	}
	start = now_us();
	if ((pid = fork()) == -1) {
		perror("killat: fork");
		return 71;
	}
	if (pid == 0) {
		setpgid(0, 0);
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	setpgid(pid, pid);	/* either side may win the race */
	deadline = start + usec;
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w == -1 && errno != EINTR) {
			perror("killat: waitpid");
			return 71;
		}
		if ((left = deadline - now_us()) <= 0) {
			kill(-pid, SIGKILL);
			killed = 1;
			while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
				;
			break;
		}
		/* Short naps: the child's end is seen within 200 us. */
		if (left > 200)
			left = 200;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000;
		nanosleep(&ts, NULL);
	}
	/* Whatever CMD left running in its group goes with it. */
	kill(-pid, SIGKILL);
	if (killed && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		printf("killed %lld\n", now_us() - start);
	else
		printf("exited %d %lld\n", WIFEXITED(st) ? WEXITSTATUS(st) :
		    128 + WTERMSIG(st), now_us() - start);
	return 0;
}
