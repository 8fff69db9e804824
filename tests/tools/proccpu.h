/*
 * proccpu: the CPU time of another process, for the load tools of
 * tests/bench (checkin, ingest), as precisely as Linux tells it.
 *
 * proccpu_s(PID) returns the CPU seconds (user + system) process PID has
 * used so far: the sum of its threads' run times from
 * /proc/PID/task/TID/schedstat (nanoseconds), or, where the kernel keeps
 * no schedstat, from /proc/PID/stat (clock ticks: 10 ms at the usual
 * 100 Hz, too coarse for a phase of a few dozen check-ins); -1 when
 * unknown.  The thread sum counts the threads alive at the call: a
 * server's threads (its workers, writer, accept thread) live as long as
 * it does, so the difference of two calls is the process's CPU between
 * them.  Header-only: each tool is one file.
 */
#ifndef MUSTER_TESTS_PROCCPU_H
#define MUSTER_TESTS_PROCCPU_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static double
proccpu_stat_s(const char *pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof path, "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st)
	    != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double
proccpu_s(const char *pid)
{
	char path[320];
	unsigned long long ns, sum = 0;
	struct dirent *de;
	DIR *d;
	FILE *f;
	int n = 0, ok = 1;

	if (pid == NULL)
		return -1;
	snprintf(path, sizeof path, "/proc/%s/task", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while (ok && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/%s/task/%s/schedstat", pid,
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL) {
			/* A thread that just ended; no schedstat at all
			 * shows on the first one. */
			ok = n > 0;
			continue;
		}
		if (fscanf(f, "%llu", &ns) == 1) {
			sum += ns;
			n++;
		} else
			ok = 0;
		fclose(f);
	}
	closedir(d);
	if (!ok || n == 0)
		return proccpu_stat_s(pid);
	return (double)sum / 1e9;
}

#endif
