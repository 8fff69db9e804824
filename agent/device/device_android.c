/*
 * device_android: a real Android device through its own commands,
 *
 *	BINDIR/getprop PROP			one identity fact
 *	BINDIR/settings get|put NS KEY [VALUE]	one setting
 *	BINDIR/pm list packages [-d]		installed / disabled packages
 *	BINDIR/pm disable-user --user 0 PKG	disable one package
 *
 * Each command is run with fork and execve of BINDIR/NAME: no shell, no
 * PATH lookup, arguments from device.c's strict charsets only.  The child
 * gets stdin and stderr on /dev/null, stdout on a pipe, no other file
 * descriptor, default signal dispositions, an empty signal mask, its own
 * process group and a fixed environment.  The parent reads the pipe with
 * poll() against a deadline and an output cap; past either it kills the
 * child's process group with SIGKILL and reaps the child, so no command
 * can block the agent or leave a zombie.
 *
 * The environment is PATH=BINDIR plus the few variables Android's own
 * runtime needs to start settings and pm (they are app_process scripts
 * that need BOOTCLASSPATH and friends), copied from the agent's
 * environment when set there; nothing else of the caller's passes.
 *
 * Only getprop of four named properties is ever run: there is no way to
 * ask this backend for ro.serialno, an IMEI or anything else.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "muster/ident.h"
#include "muster/timefmt.h"
#include "device.h"
#include "device_impl.h"

#define ANDROID_BINDIR		"/system/bin"
#define ANDROID_TIMEOUT_MS	10000	/* per command */
#define ANDROID_TIMEOUT_MAX	600000
#define ANDROID_OUTPUT_MAX	(1024 * 1024)	/* bytes of stdout */
#define ANDROID_MAX_PACKAGES	65536
#define ANDROID_ENV_VALUE_MAX	8192
#define ANDROID_ARGV_MAX	8
#define WAIT_STEP_MS		10	/* polling for exit after EOF */

/* Variables the Android runtime needs; copied when the agent has them. */
static const char *const env_pass[] = {
	"ANDROID_ROOT", "ANDROID_DATA", "ANDROID_ASSETS", "ANDROID_STORAGE",
	"ANDROID_ART_ROOT", "ANDROID_I18N_ROOT", "ANDROID_TZDATA_ROOT",
	"BOOTCLASSPATH", "DEX2OATBOOTCLASSPATH", "SYSTEMSERVERCLASSPATH",
};

#define NENV_PASS	(sizeof env_pass / sizeof env_pass[0])

struct pkglist {
	char	**v;		/* sorted */
	size_t	  n;
};

struct android {
	char		*bindir;
	int		 timeout_ms;
	char		*env[NENV_PASS + 2];	/* PATH=, passed, NULL */
	int		 cached;		/* the lists below are read */
	struct pkglist	 all;			/* pm list packages */
	struct pkglist	 off;			/* pm list packages -d */
};

static void
pkglist_free(struct pkglist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
cache_drop(struct android *a)
{
	pkglist_free(&a->all);
	pkglist_free(&a->off);
	a->cached = 0;
}

/*
 * In the child between fork and execve: only async-signal-safe calls.
 * Reports a failure as errno through errw (close-on-exec, so the parent
 * reads EOF once execve succeeds).
 */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], char *const envp[],
    int devnull, int outw, int errw, long maxfd)
{
	struct sigaction sa;
	sigset_t none;
	int sig, in, out, err, fd, saved;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setpgid(0, 0);

	/* Move everything above 2 first: the caller may have closed 0-2. */
	if ((err = fcntl(errw, F_DUPFD_CLOEXEC, 3)) == -1)
		err = errw;
	if ((in = fcntl(devnull, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    (out = fcntl(outw, F_DUPFD_CLOEXEC, 3)) == -1 ||
	    dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(in, STDERR_FILENO) == -1)
		goto fail;
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		for (fd = 3; fd < maxfd; fd++)
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)!chdir("/");
	execve(path, argv, envp);
fail:
	saved = errno;
	(void)!write(err, &saved, sizeof saved);
	_exit(127);
}

/* Kills the child's process group and reaps the child. */
static void
kill_reap(pid_t pid)
{
	int status;

	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

/* "getprop ro.product.model": argv joined, for messages. */
static void
describe(const char *const argv[], char *buf, size_t size)
{
	size_t n = 0;
	int i, w;

	buf[0] = '\0';
	for (i = 0; argv[i] != NULL && n < size; i++) {
		w = snprintf(buf + n, size - n, "%s%s", i > 0 ? " " : "",
		    argv[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

/*
 * Runs BINDIR/argv[0] with argv.  Returns 0 with its whole stdout in
 * *out (malloc'd, NUL-terminated, *outlen bytes; the caller frees) when it
 * exits with status 0 in time; MUSTER_EUNAVAIL when it cannot be run,
 * times out, exits non-zero or dies by a signal; MUSTER_EDATA when its
 * output exceeds ANDROID_OUTPUT_MAX; MUSTER_EOS when a system call fails.
 * The child is always reaped before this returns.
 */
static int
run(struct device *d, const char *const argv[], char **out, size_t *outlen,
    struct muster_err *e)
{
	struct android *a = d->be;
	struct sigaction oldchld, dfl;
	struct pollfd pfd[2];
	char what[512], *path = NULL, *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, devnull = -1;
	int child_errno = 0, swapped = 0, timed_out = 0, oversize = 0;
	int status = 0, rc;
	size_t errgot = 0;
	int64_t deadline, left;
	long maxfd;
	ssize_t r;
	pid_t pid = -1, w;

	*out = NULL;
	*outlen = 0;
	describe(argv, what, sizeof what);
	if ((path = fs_path(a->bindir, argv[0])) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((maxfd = sysconf(_SC_OPEN_MAX)) < 0 || maxfd > 65536)
		maxfd = 65536;
	if (pipe2(outp, O_CLOEXEC) == -1 || pipe2(errp, O_CLOEXEC) == -1 ||
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		rc = err_sys(e, MUSTER_EOS, "%s: %s: cannot set up", d->name,
		    what);
		goto out;
	}

	/*
	 * With SIGCHLD ignored the kernel reaps the child itself and
	 * waitpid cannot report its status: restore the default for the
	 * length of the command only.
	 */
	if (sigaction(SIGCHLD, NULL, &oldchld) == 0 &&
	    (oldchld.sa_handler == SIG_IGN ||
	    (oldchld.sa_flags & SA_NOCLDWAIT))) {
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		if (sigaction(SIGCHLD, &dfl, NULL) == 0)
			swapped = 1;
	}

	deadline = timefmt_mono_ms() + a->timeout_ms;
	if ((pid = fork()) == -1) {
		rc = err_sys(e, MUSTER_EOS, "%s: %s: fork", d->name, what);
		goto out;
	}
	if (pid == 0)
		child_exec(path, (char *const *)argv, a->env, devnull,
		    outp[1], errp[1], maxfd);
	/* Also here, so that a kill of the group cannot miss the child. */
	(void)setpgid(pid, pid);
	fs_close(&outp[1]);
	fs_close(&errp[1]);

	pfd[0].fd = outp[0];
	pfd[0].events = POLLIN;
	pfd[1].fd = errp[0];
	pfd[1].events = POLLIN;
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if ((left = deadline - timefmt_mono_ms()) <= 0) {
			timed_out = 1;
			break;
		}
		if (poll(pfd, 2, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			rc = err_sys(e, MUSTER_EOS, "%s: %s: poll", d->name,
			    what);
			goto out;
		}
		if (pfd[1].fd >= 0 && pfd[1].revents != 0) {
			r = read(pfd[1].fd, (char *)&child_errno + errgot,
			    sizeof child_errno - errgot);
			if (r > 0)
				errgot += (size_t)r;
			else if (r == 0 || (errno != EINTR &&
			    errno != EAGAIN))
				pfd[1].fd = -1;
			if (errgot == sizeof child_errno)
				pfd[1].fd = -1;
		}
		if (pfd[0].fd >= 0 && pfd[0].revents != 0) {
			if (len == cap) {
				cap = cap == 0 ? 4096 : cap * 2;
				if (cap > ANDROID_OUTPUT_MAX + 1)
					cap = ANDROID_OUTPUT_MAX + 1;
				if ((nb = realloc(buf, cap + 1)) == NULL) {
					rc = err_set(e, MUSTER_EINTERNAL,
					    "out of memory");
					goto out;
				}
				buf = nb;
			}
			r = read(pfd[0].fd, buf + len, cap - len);
			if (r > 0) {
				len += (size_t)r;
				if (len > ANDROID_OUTPUT_MAX) {
					oversize = 1;
					break;
				}
			} else if (r == 0)
				pfd[0].fd = -1;
			else if (errno != EINTR && errno != EAGAIN) {
				rc = err_sys(e, MUSTER_EIO, "%s: %s: read",
				    d->name, what);
				goto out;
			}
		}
	}

	/* Output is done; the command must still exit in time. */
	while (!timed_out && !oversize) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			pid = -1;
			break;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			/* Someone else reaped it (a SIGCHLD handler?). */
			rc = err_sys(e, MUSTER_EOS, "%s: %s: waitpid", d->name,
			    what);
			pid = -1;
			goto out;
		}
		if ((left = deadline - timefmt_mono_ms()) <= 0) {
			timed_out = 1;
			break;
		}
		(void)poll(NULL, 0, left < WAIT_STEP_MS ? (int)left :
		    WAIT_STEP_MS);
	}

	if (timed_out) {
		rc = err_set(e, MUSTER_EUNAVAIL, "%s: %s timed out after %d "
		    "ms", d->name, what, a->timeout_ms);
		goto out;
	}
	if (oversize) {
		rc = err_set(e, MUSTER_EDATA, "%s: %s printed more than %d "
		    "bytes", d->name, what, ANDROID_OUTPUT_MAX);
		goto out;
	}
	if (errgot == sizeof child_errno) {
		errno = child_errno;
		rc = err_sys(e, MUSTER_EUNAVAIL, "%s: cannot run %s", d->name,
		    path);
		goto out;
	}
	if (WIFSIGNALED(status)) {
		rc = err_set(e, MUSTER_EUNAVAIL, "%s: %s killed by signal %d",
		    d->name, what, WTERMSIG(status));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = err_set(e, MUSTER_EUNAVAIL, "%s: %s exited with status "
		    "%d", d->name, what, WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1);
		goto out;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
out:
	if (pid > 0)
		kill_reap(pid);
	if (swapped)
		(void)sigaction(SIGCHLD, &oldchld, NULL);
	fs_close(&outp[0]);
	fs_close(&outp[1]);
	fs_close(&errp[0]);
	fs_close(&errp[1]);
	fs_close(&devnull);
	free(buf);
	free(path);
	return rc;
}

/*
 * Checks that the n bytes at out are one line of text ending in '\n' and
 * copies it without the newline into dst[size].
 */
static int
one_line(struct device *d, const char *what, const char *out, size_t n,
    char *dst, size_t size, struct muster_err *e)
{
	if (memchr(out, '\0', n) != NULL)
		return err_set(e, MUSTER_EDATA, "%s: %s: binary output",
		    d->name, what);
	if (n == 0 || out[n - 1] != '\n')
		return err_set(e, MUSTER_EDATA, "%s: %s: output is not one "
		    "line", d->name, what);
	n--;
	if (memchr(out, '\n', n) != NULL)
		return err_set(e, MUSTER_EDATA, "%s: %s: more than one line "
		    "of output", d->name, what);
	if (n >= size)
		return err_set(e, MUSTER_EDATA, "%s: %s: value longer than "
		    "%zu bytes", d->name, what, size - 1);
	if (!esc_text_ok(out, n))
		return err_set(e, MUSTER_EDATA, "%s: %s: output holds a "
		    "control character or bad UTF-8", d->name, what);
	memcpy(dst, out, n);
	dst[n] = '\0';
	return 0;
}

static int
getprop(struct device *d, const char *prop, char *dst, size_t size,
    struct muster_err *e)
{
	const char *argv[] = { "getprop", prop, NULL };
	char what[128];
	char *out = NULL;
	size_t n;
	int rc;

	if (ident_prop_denied(prop))
		return err_set(e, MUSTER_EUSAGE, "%s: property %s names an "
		    "identifier; the agent never reads one", d->name, prop);
	snprintf(what, sizeof what, "getprop %s", prop);
	if ((rc = run(d, argv, &out, &n, e)) == 0)
		rc = one_line(d, what, out, n, dst, size, e);
	free(out);
	return rc;
}

static int
android_facts(struct device *d, struct device_facts *f, struct muster_err *e)
{
	int rc;

	if ((rc = getprop(d, DEVICE_PROP_MANUFACTURER, f->manufacturer,
	    sizeof f->manufacturer, e)) < 0 ||
	    (rc = getprop(d, DEVICE_PROP_MODEL, f->model, sizeof f->model,
	    e)) < 0 ||
	    (rc = getprop(d, DEVICE_PROP_BUILD, f->build,
	    sizeof f->build, e)) < 0 ||
	    (rc = getprop(d, DEVICE_PROP_OS, f->os_version,
	    sizeof f->os_version, e)) < 0)
		return rc;
	return 0;
}

/*
 * settings(1) takes "--user" anywhere as an option: refuse a key or value
 * it could read as one.
 */
static int
arg_ok(struct device *d, const char *what, const char *s,
    struct muster_err *e)
{
	if (s[0] == '-' && s[1] == '-')
		return err_set(e, MUSTER_EUSAGE, "%s: %s may not start with "
		    "\"--\"", d->name, what);
	return 0;
}

static int
android_setting_get(struct device *d, const char *ns, const char *key,
    char val[DEVICE_VALUE_MAX], int *isset, struct muster_err *e)
{
	const char *argv[] = { "settings", "get", ns, key, NULL };
	char what[DEVICE_KEY_MAX + 32];
	char *out = NULL;
	size_t n;
	int rc;

	if ((rc = arg_ok(d, "a settings key", key, e)) < 0)
		goto out;
	snprintf(what, sizeof what, "settings get %s %s", ns, key);
	if ((rc = run(d, argv, &out, &n, e)) < 0 ||
	    (rc = one_line(d, what, out, n, val, DEVICE_VALUE_MAX, e)) < 0)
		goto out;
	/* settings prints Java's null for a setting that is not set. */
	if (strcmp(val, "null") == 0) {
		val[0] = '\0';
		*isset = 0;
	} else
		*isset = 1;
out:
	free(out);
	return rc;
}

static int
android_setting_put(struct device *d, const char *ns, const char *key,
    const char *val, struct muster_err *e)
{
	const char *argv[] = { "settings", "put", ns, key, val, NULL };
	char *out = NULL;
	size_t n;
	int rc;

	if ((rc = arg_ok(d, "a settings key", key, e)) < 0 ||
	    (rc = arg_ok(d, "a settings value", val, e)) < 0)
		goto out;
	/* Only the exit status counts; the caller reads the value back. */
	rc = run(d, argv, &out, &n, e);
out:
	free(out);
	return rc;
}

static int
str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Parses "package:NAME" lines into l (sorted). */
static int
parse_packages(struct device *d, const char *what, const char *out,
    size_t n, struct pkglist *l, struct muster_err *e)
{
	const char *p = out, *nl, *end = out + n;
	char name[DEVICE_PKG_MAX + 1];
	size_t cap = 0, k;
	char **nv;
	int line = 0;

	if (memchr(out, '\0', n) != NULL)
		return err_set(e, MUSTER_EDATA, "%s: %s: binary output",
		    d->name, what);
	while (p < end) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return err_set(e, MUSTER_EDATA, "%s: %s: line %d does "
			    "not end", d->name, what, line);
		k = (size_t)(nl - p);
		if (k == 0) {
			p = nl + 1;
			continue;
		}
		if (k <= strlen("package:") ||
		    strncmp(p, "package:", strlen("package:")) != 0 ||
		    k - strlen("package:") > DEVICE_PKG_MAX)
			return err_set(e, MUSTER_EDATA, "%s: %s: line %d is "
			    "not \"package:NAME\"", d->name, what, line);
		memcpy(name, p + strlen("package:"), k - strlen("package:"));
		name[k - strlen("package:")] = '\0';
		if (!device_pkg_ok(name))
			return err_set(e, MUSTER_EDATA, "%s: %s: line %d: bad "
			    "package name", d->name, what, line);
		if (l->n >= ANDROID_MAX_PACKAGES)
			return err_set(e, MUSTER_EDATA, "%s: %s: more than %d "
			    "packages", d->name, what, ANDROID_MAX_PACKAGES);
		if (l->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = realloc(l->v, cap * sizeof *nv)) == NULL)
				return err_set(e, MUSTER_EINTERNAL,
				    "out of memory");
			l->v = nv;
		}
		if ((l->v[l->n] = strdup(name)) == NULL)
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		l->n++;
		p = nl + 1;
	}
	if (l->n > 0)
		qsort(l->v, l->n, sizeof *l->v, str_cmp);
	return 0;
}

static int
list_packages(struct device *d, int disabled, struct pkglist *l,
    struct muster_err *e)
{
	const char *all[] = { "pm", "list", "packages", NULL };
	const char *off[] = { "pm", "list", "packages", "-d", NULL };
	char *out = NULL;
	size_t n;
	int rc;

	if ((rc = run(d, disabled ? off : all, &out, &n, e)) == 0)
		rc = parse_packages(d, disabled ? "pm list packages -d" :
		    "pm list packages", out, n, l, e);
	free(out);
	return rc;
}

/* Reads both package lists unless this handle has them already. */
static int
load_packages(struct device *d, struct muster_err *e)
{
	struct android *a = d->be;
	int rc;

	if (a->cached)
		return 0;
	cache_drop(a);
	if ((rc = list_packages(d, 0, &a->all, e)) < 0 ||
	    (rc = list_packages(d, 1, &a->off, e)) < 0) {
		cache_drop(a);
		return rc;
	}
	a->cached = 1;
	return 0;
}

static int
in_list(const struct pkglist *l, const char *pkg)
{
	return l->n > 0 && bsearch(&pkg, l->v, l->n, sizeof *l->v,
	    str_cmp) != NULL;
}

static enum device_pkg_state
state_of(const struct android *a, const char *pkg)
{
	if (in_list(&a->off, pkg))
		return PKG_DISABLED;
	if (in_list(&a->all, pkg))
		return PKG_ENABLED;
	return PKG_ABSENT;
}

static int
android_package(struct device *d, const char *pkg,
    enum device_pkg_state *st, struct muster_err *e)
{
	int rc;

	if ((rc = load_packages(d, e)) < 0)
		return rc;
	*st = state_of(d->be, pkg);
	return 0;
}

/*
 * pm disable-user prints "Package PKG new state: disabled-user" on stdout
 * (Android 5 and later) or on stderr (4.x), so its output is checked when
 * there is one, and the package list is read again either way.
 */
static int
android_package_disable(struct device *d, const char *pkg,
    struct muster_err *e)
{
	const char *argv[] = { "pm", "disable-user", "--user", "0", pkg,
	    NULL };
	struct android *a = d->be;
	char line[DEVICE_PKG_MAX + 64], want[DEVICE_PKG_MAX + 64];
	char what[DEVICE_PKG_MAX + 64];
	char *out = NULL;
	size_t n;
	int rc;

	if ((rc = load_packages(d, e)) < 0)
		goto out;
	switch (state_of(a, pkg)) {
	case PKG_ABSENT:
		rc = err_set(e, MUSTER_EUSAGE, "%s: package %s is not "
		    "installed; nothing to disable", d->name, pkg);
		goto out;
	case PKG_DISABLED:
		goto out;
	case PKG_ENABLED:
		break;
	}
	snprintf(what, sizeof what, "pm disable-user --user 0 %s", pkg);
	cache_drop(a);
	if ((rc = run(d, argv, &out, &n, e)) < 0)
		goto out;
	if (n > 0) {
		if ((rc = one_line(d, what, out, n, line, sizeof line,
		    e)) < 0)
			goto out;
		snprintf(want, sizeof want, "Package %s new state: "
		    "disabled-user", pkg);
		if (strcmp(line, want) != 0) {
			rc = err_set(e, MUSTER_EDATA, "%s: %s: unexpected "
			    "answer \"%.*s\"", d->name, what, 80, line);
			goto out;
		}
	}
	if ((rc = load_packages(d, e)) < 0)
		goto out;
	if (state_of(a, pkg) != PKG_DISABLED) {
		rc = err_set(e, MUSTER_EUNAVAIL, "%s: %s succeeded but the "
		    "package is still enabled", d->name, what);
		goto out;
	}
	rc = 0;
out:
	free(out);
	return rc;
}

static void
android_close(void *be)
{
	struct android *a = be;
	size_t i;

	if (a == NULL)
		return;
	cache_drop(a);
	for (i = 0; a->env[i] != NULL; i++)
		free(a->env[i]);
	free(a->bindir);
	free(a);
}

static const struct device_ops android_ops = {
	android_facts,
	android_setting_get,
	android_setting_put,
	android_package,
	android_package_disable,
	android_close,
};

/* Splits "BINDIR" or "BINDIR:TIMEOUT_MS" into a. */
static int
parse_arg(struct device *d, const char *arg, struct android *a,
    struct muster_err *e)
{
	const char *colon, *p;
	long ms = ANDROID_TIMEOUT_MS;
	size_t n;

	if (arg == NULL)
		arg = ANDROID_BINDIR;
	n = strlen(arg);
	if ((colon = strrchr(arg, ':')) != NULL && colon[1] != '\0' &&
	    strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		if (strlen(colon + 1) > 7)
			ms = ANDROID_TIMEOUT_MAX + 1;
		else
			ms = strtol(colon + 1, NULL, 10);
		n = (size_t)(colon - arg);
	}
	if (ms < 1 || ms > ANDROID_TIMEOUT_MAX)
		return err_set(e, MUSTER_EUSAGE, "%s: time limit must be 1 to "
		    "%d ms", d->name, ANDROID_TIMEOUT_MAX);
	if (n == 0 || arg[0] != '/' || n >= PATH_MAX)
		return err_set(e, MUSTER_EUSAGE, "%s: want android:BINDIR "
		    "with an absolute BINDIR (and optionally :TIMEOUT_MS)",
		    d->name);
	for (p = arg; p < arg + n; p++)
		if (*p == ':')
			return err_set(e, MUSTER_EUSAGE, "%s: BINDIR may not "
			    "hold ':'", d->name);
	if ((a->bindir = strndup(arg, n)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	a->timeout_ms = (int)ms;
	return 0;
}

static int
build_env(struct android *a, struct muster_err *e)
{
	const char *v;
	size_t i, k = 0, n;

	if (asprintf(&a->env[k], "PATH=%s", a->bindir) == -1) {
		a->env[k] = NULL;
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	k++;
	for (i = 0; i < NENV_PASS; i++) {
		if ((v = getenv(env_pass[i])) == NULL)
			continue;
		n = strnlen(v, ANDROID_ENV_VALUE_MAX);
		if (n >= ANDROID_ENV_VALUE_MAX || !esc_text_ok(v, n))
			continue;
		if (asprintf(&a->env[k], "%s=%s", env_pass[i], v) == -1) {
			a->env[k] = NULL;
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		}
		k++;
	}
	a->env[k] = NULL;
	return 0;
}

int
device_android_open(struct device *d, const char *arg, struct muster_err *e)
{
	struct android *a = NULL;
	struct stat st;
	char *name = NULL;
	int rc;

	if ((a = calloc(1, sizeof *a)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = parse_arg(d, arg, a, e)) < 0 ||
	    (rc = build_env(a, e)) < 0)
		goto out;
	if (stat(a->bindir, &st) == -1) {
		rc = err_sys(e, MUSTER_ENOINPUT, "android: %s", a->bindir);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		rc = err_set(e, MUSTER_ENOINPUT, "android: %s: not a "
		    "directory", a->bindir);
		goto out;
	}
	/* The name leaves out the time limit: "android" or "android:DIR". */
	if (arg == NULL)
		name = strdup("android");
	else if (asprintf(&name, "android:%s", a->bindir) == -1)
		name = NULL;
	if (name == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	free(d->name);
	d->name = name;
	d->ops = &android_ops;
	d->be = a;
	a = NULL;
	rc = 0;
out:
	android_close(a);
	return rc;
}
