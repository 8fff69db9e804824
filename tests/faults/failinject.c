/*
 * failinject: an LD_PRELOAD shim for tests that makes the Nth call to one
 * function fail, in the manner of curl's torture tests.  It is built only
 * as a test tool (tests/faults/faults.mk); the programs know nothing of it.
 *
 *	MUSTER_FAIL_FN=malloc	malloc, calloc, realloc fail with ENOMEM
 *	MUSTER_FAIL_FN=write	write, pwrite, pwrite64 on a descriptor above
 *				2 fail with ENOSPC (a failed write to stderr
 *				would only hide the message being judged)
 *	MUSTER_FAIL_FN=fsync	fsync, fdatasync fail with EIO
 *	MUSTER_FAIL_FN=rename	rename, renameat fail with EIO
 *	MUSTER_FAIL_AT=N	the call to fail, counting from 1 after this
 *				shim's constructor; 0 or unset: only count
 *	MUSTER_FAIL_LOG=FILE	appended: "hit FN N from OBJECT" when the call
 *				fails (OBJECT: the file of its caller),
 *				"crash SIGNO in OBJECT via CALLER" on SIGSEGV,
 *				SIGBUS, SIGFPE, SIGILL or SIGABRT (OBJECT:
 *				the file of the faulting code, CALLER: of
 *				the first frame outside libc), "calls C hit H"
 *				when the process exits (or, with
 *				MUSTER_FAIL_ARM, when it is re-armed)
 *	MUSTER_FAIL_PROG=NAME	inert unless the program's name is NAME
 *	MUSTER_FAIL_ONLY=A:B:..	count (and fail) only calls made from code in
 *				the objects whose file names start with A, B...
 *				("main": the program itself), as loaded when
 *				the process started
 *	MUSTER_FAIL_ARM=signal	start disarmed; each SIGUSR2 logs the round
 *				that ends, reads "[FN ]N" from the file named
 *				by MUSTER_FAIL_CTL, logs "armed N" and starts
 *				counting again from 0 (a long-lived server,
 *				one request per round)
 *
 * Only the process that loaded the shim counts: a child after fork does
 * not (pthread_atfork), and the agent's reporter is executed with an empty
 * environment, so the shim never reaches it.  Counters are atomic, so
 * threads share one count.  Exactly one call fails per round.
 */
#include <sys/syscall.h>
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

enum fi_fn { FI_NONE, FI_MALLOC, FI_WRITE, FI_FSYNC, FI_RENAME };

extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);

static atomic_int		 fi_which;	/* an enum fi_fn */
static char			 fi_hitmsg[24] = "hit ";
static const char		*fi_log;
static const char		*fi_ctl;
static atomic_int		 fi_on;		/* counting in this process */
static atomic_ulong		 fi_calls;
static atomic_ulong		 fi_at;
static atomic_int		 fi_hit;

#define FI_RANGES	64
static struct {
	uintptr_t	lo, hi;
} fi_range[FI_RANGES];
static int		 fi_nrange = -1;	/* -1: no filter */
static const char	*fi_only;

static ssize_t	(*real_write)(int, const void *, size_t);
static ssize_t	(*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t	(*real_pwrite64)(int, const void *, size_t, off_t);
static int	(*real_fsync)(int);
static int	(*real_fdatasync)(int);
static int	(*real_rename)(const char *, const char *);
static int	(*real_renameat)(int, const char *, int, const char *);

/* Decimal of v into buf (no NUL); returns the length.  Signal-safe. */
static size_t
fi_utoa(unsigned long v, char *buf)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* The file name of the object holding addr ("?" if none), signal-safe
 * enough for a process that is failing or crashing anyway. */
static const char *
fi_object(const void *addr)
{
	Dl_info di;
	const char *s;

	if (addr == NULL || dladdr(addr, &di) == 0 || di.dli_fname == NULL)
		return "?";
	s = strrchr(di.dli_fname, '/');
	return s != NULL ? s + 1 : di.dli_fname;
}

/*
 * Appends "a<x>b<str>\n" (or "a<x>\n" when b is NULL) to the log, with
 * raw system calls: it may run in a signal handler, or inside malloc.
 */
static void
fi_note2(const char *a, unsigned long x, const char *b, const char *str)
{
	char line[192];
	size_t n = 0, l;
	int fd, saved = errno;

	if (fi_log == NULL)
		return;
	l = strnlen(a, 32);
	memcpy(line + n, a, l);
	n += l;
	n += fi_utoa(x, line + n);
	if (b != NULL) {
		l = strnlen(b, 16);
		memcpy(line + n, b, l);
		n += l;
		l = strnlen(str, 96);
		memcpy(line + n, str, l);
		n += l;
	}
	line[n++] = '\n';
	fd = (int)syscall(SYS_openat, AT_FDCWD, fi_log,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0) {
		(void)syscall(SYS_write, fd, line, n);
		(void)syscall(SYS_close, fd);
	}
	errno = saved;
}

/* Appends "a<x>b<y>\n" (or "a<x>\n" when b is NULL) to the log. */
static void
fi_note(const char *a, unsigned long x, const char *b, unsigned long y)
{
	char num[24];

	num[fi_utoa(y, num)] = '\0';
	fi_note2(a, x, b, num);
}

/* 1 if name (a path, or "" for the program) is one MUSTER_FAIL_ONLY names. */
static int
fi_listed(const char *name)
{
	const char *p = fi_only, *base = strrchr(name, '/');
	size_t l;

	base = base != NULL ? base + 1 : name;
	while (p != NULL && *p != '\0') {
		l = strcspn(p, ":");
		if (l > 0 && ((name[0] == '\0' && l == 4 &&
		    strncmp(p, "main", 4) == 0) ||
		    (base[0] != '\0' && strncmp(base, p, l) == 0)))
			return 1;
		p += l + (p[l] == ':');
	}
	return 0;
}

/* Records the code segments of the listed objects. */
static int
fi_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
	int i;

	(void)size;
	(void)arg;
	if (!fi_listed(info->dlpi_name))
		return 0;
	for (i = 0; i < info->dlpi_phnum && fi_nrange < FI_RANGES; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD &&
		    (info->dlpi_phdr[i].p_flags & PF_X)) {
			fi_range[fi_nrange].lo = info->dlpi_addr +
			    info->dlpi_phdr[i].p_vaddr;
			fi_range[fi_nrange].hi = fi_range[fi_nrange].lo +
			    info->dlpi_phdr[i].p_memsz;
			fi_nrange++;
		}
	return 0;
}

/* 1 when calls from caller count. */
static int
fi_counts(const void *caller)
{
	uintptr_t a = (uintptr_t)caller;
	int i;

	if (fi_nrange < 0)
		return 1;
	for (i = 0; i < fi_nrange; i++)
		if (a >= fi_range[i].lo && a < fi_range[i].hi)
			return 1;
	return 0;
}

/* 1 when this call of fn (made from caller) is the one to fail. */
static int
fi_fail(enum fi_fn fn, const void *caller)
{
	unsigned long c, at;

	if ((int)fn != atomic_load(&fi_which) || !atomic_load(&fi_on) ||
	    !fi_counts(caller))
		return 0;
	c = atomic_fetch_add(&fi_calls, 1) + 1;
	at = atomic_load(&fi_at);
	if (at == 0 || c != at)
		return 0;
	atomic_store(&fi_hit, 1);
	fi_note2(fi_hitmsg, c, " from ", fi_object(caller));
	return 1;
}

void *
malloc(size_t n)
{
	if (fi_fail(FI_MALLOC, __builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

void *
calloc(size_t n, size_t size)
{
	if (fi_fail(FI_MALLOC, __builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, size);
}

void *
realloc(void *p, size_t n)
{
	/* realloc(p, 0) frees: failing it would leak, not test anything. */
	if (n > 0 && fi_fail(FI_MALLOC, __builtin_return_address(0))) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}

#define FI_REAL(var, name)	do {					\
	if ((var) == NULL)						\
		*(void **)&(var) = dlsym(RTLD_NEXT, (name));		\
} while (0)

ssize_t
write(int fd, const void *buf, size_t n)
{
	FI_REAL(real_write, "write");
	if (fd > 2 && fi_fail(FI_WRITE, __builtin_return_address(0))) {
		errno = ENOSPC;
		return -1;
	}
	return real_write(fd, buf, n);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	FI_REAL(real_pwrite, "pwrite");
	if (fd > 2 && fi_fail(FI_WRITE, __builtin_return_address(0))) {
		errno = ENOSPC;
		return -1;
	}
	return real_pwrite(fd, buf, n, off);
}

ssize_t	pwrite64(int, const void *, size_t, off_t);

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	FI_REAL(real_pwrite64, "pwrite64");
	if (fd > 2 && fi_fail(FI_WRITE, __builtin_return_address(0))) {
		errno = ENOSPC;
		return -1;
	}
	return real_pwrite64(fd, buf, n, off);
}

int
fsync(int fd)
{
	FI_REAL(real_fsync, "fsync");
	if (fi_fail(FI_FSYNC, __builtin_return_address(0))) {
		errno = EIO;
		return -1;
	}
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	FI_REAL(real_fdatasync, "fdatasync");
	if (fi_fail(FI_FSYNC, __builtin_return_address(0))) {
		errno = EIO;
		return -1;
	}
	return real_fdatasync(fd);
}

int
rename(const char *from, const char *to)
{
	FI_REAL(real_rename, "rename");
	if (fi_fail(FI_RENAME, __builtin_return_address(0))) {
		errno = EIO;
		return -1;
	}
	return real_rename(from, to);
}

int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	FI_REAL(real_renameat, "renameat");
	if (fi_fail(FI_RENAME, __builtin_return_address(0))) {
		errno = EIO;
		return -1;
	}
	return real_renameat(fd1, from, fd2, to);
}

/* fn's number for its name (the first len bytes of s), FI_NONE if none. */
static enum fi_fn
fi_lookup(const char *s, size_t len)
{
	static const struct {
		const char	*name;
		enum fi_fn	 fn;
	} fns[] = {
		{ "malloc", FI_MALLOC }, { "write", FI_WRITE },
		{ "fsync", FI_FSYNC }, { "rename", FI_RENAME },
	};
	size_t i;

	for (i = 0; i < sizeof fns / sizeof fns[0]; i++)
		if (strlen(fns[i].name) == len &&
		    memcmp(fns[i].name, s, len) == 0)
			return fns[i].fn;
	return FI_NONE;
}

/*
 * Reads "[FN ]N" from the control file: sets the function when named,
 * returns N (0 when it cannot be read).  Signal-safe.
 */
static unsigned long
fi_ctl_read(void)
{
	char buf[64];
	unsigned long v = 0;
	ssize_t r, i = 0, w;
	enum fi_fn fn;
	int fd;

	if (fi_ctl == NULL)
		return 0;
	fd = (int)syscall(SYS_openat, AT_FDCWD, fi_ctl, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = (ssize_t)syscall(SYS_read, fd, buf, sizeof buf);
	(void)syscall(SYS_close, fd);
	if (r > 0 && (buf[0] < '0' || buf[0] > '9')) {
		for (w = 0; w < r && buf[w] != ' '; w++)
			;
		if ((fn = fi_lookup(buf, (size_t)w)) != FI_NONE) {
			atomic_store(&fi_which, (int)fn);
			for (i = 0; i < w && i < 16; i++)
				fi_hitmsg[4 + i] = buf[i];
			fi_hitmsg[4 + i] = ' ';
			fi_hitmsg[5 + i] = '\0';
		}
		i = w + 1;
	}
	for (; i < r && buf[i] >= '0' && buf[i] <= '9'; i++)
		v = v * 10 + (unsigned long)(buf[i] - '0');
	return v;
}

static void
fi_rearm(int sig)
{
	unsigned long at;

	(void)sig;
	if (atomic_exchange(&fi_on, 0))
		fi_note("calls ", atomic_load(&fi_calls), " hit ",
		    (unsigned long)atomic_load(&fi_hit));
	atomic_store(&fi_calls, 0);
	atomic_store(&fi_hit, 0);
	at = fi_ctl_read();
	atomic_store(&fi_at, at);
	fi_note("armed ", at, NULL, 0);
	atomic_store(&fi_on, 1);
}

/*
 * Logs "crash SIG in OBJECT via CALLER" (CALLER: the first frame on the
 * stack outside libc and this shim, "-" if none) and dies of the signal
 * as it would have.
 */
static void
fi_crash(int sig, siginfo_t *si, void *uc)
{
	void *frames[32];
	const void *pc = NULL;
	const char *via = "-", *o;
	char where[96];
	int n, i;

	(void)si;
#if defined(__x86_64__)
	pc = (const void *)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	pc = (const void *)((ucontext_t *)uc)->uc_mcontext.pc;
#else
	(void)uc;
#endif
	n = backtrace(frames, 32);
	for (i = 0; i < n; i++) {
		o = fi_object(frames[i]);
		if (strncmp(o, "libc.so", 7) != 0 &&
		    strcmp(o, "failinject.so") != 0) {
			via = o;
			break;
		}
	}
	snprintf(where, sizeof where, "%s via %s", fi_object(pc), via);
	fi_note2("crash ", (unsigned long)sig, " in ", where);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
fi_child(void)
{
	atomic_store(&fi_on, 0);
	fi_log = NULL;
}

__attribute__((constructor)) static void
fi_init(void)
{
	const char *fn = getenv("MUSTER_FAIL_FN");
	const char *at = getenv("MUSTER_FAIL_AT");
	const char *prog = getenv("MUSTER_FAIL_PROG");
	const char *arm = getenv("MUSTER_FAIL_ARM");
	struct sigaction sa;

	if (prog != NULL && strcmp(prog, program_invocation_short_name) != 0)
		return;
	if (fn == NULL || fi_lookup(fn, strlen(fn)) == FI_NONE)
		return;
	atomic_store(&fi_which, (int)fi_lookup(fn, strlen(fn)));
	snprintf(fi_hitmsg, sizeof fi_hitmsg, "hit %s ", fn);
	fi_log = getenv("MUSTER_FAIL_LOG");
	if ((fi_only = getenv("MUSTER_FAIL_ONLY")) != NULL) {
		fi_nrange = 0;
		dl_iterate_phdr(fi_phdr, NULL);
	}
	fi_ctl = getenv("MUSTER_FAIL_CTL");
	atomic_store(&fi_at, at != NULL ? strtoul(at, NULL, 10) : 0);
	pthread_atfork(NULL, NULL, fi_child);
	/* backtrace() loads its unwinder on first use: not in a crash. */
	{
		void *f[2];

		(void)backtrace(f, 2);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fi_crash;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	if (arm != NULL && strcmp(arm, "signal") == 0) {
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = fi_rearm;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR2, &sa, NULL);
		return;
	}
	atomic_store(&fi_on, 1);
}

__attribute__((destructor)) static void
fi_fini(void)
{
	if (atomic_exchange(&fi_on, 0))
		fi_note("calls ", atomic_load(&fi_calls), " hit ",
		    (unsigned long)atomic_load(&fi_hit));
}
