/*
 * rusage N CMD [ARGS...]: runs CMD N times (output discarded) and prints
 * the peak resident set of any run and the median and minimum CPU time
 * (user + system) per run, from wait4()'s rusage: figures the kernel
 * counts for that process alone, whatever else the machine is doing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct rusage ru;
	double *cpu;
	long maxrss = 0;
	int n, i, st, fd, lastst = 0;
	pid_t pid;

	if (argc < 3 || (n = atoi(argv[1])) < 1 || n > 100000) {
		fprintf(stderr, "usage: rusage N CMD [ARGS...]\n");
		return 64;
	}
	if ((cpu = calloc((size_t)n, sizeof *cpu)) == NULL)
		return 71;
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			perror("fork");
			return 71;
		}
		if (pid == 0) {
			if ((fd = open("/dev/null", O_WRONLY)) != -1)
				dup2(fd, 1);
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		if (wait4(pid, &st, 0, &ru) == -1) {
			perror("wait4");
			return 71;
		}
		lastst = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
		cpu[i] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
		    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
	}
	qsort(cpu, (size_t)n, sizeof *cpu, cmp);
	printf("runs=%d exit=%d maxrss_kb=%ld cpu_ms_median=%.3f "
	    "cpu_ms_min=%.3f\n", n, lastst, maxrss, cpu[n / 2], cpu[0]);
	free(cpu);
	return 0;
}
