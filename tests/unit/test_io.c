/*
 * io: a whole buffer crosses a pipe or a socket, however large; an end of
 * file before n bytes is -1; a send to a peer that closed its end is -1
 * with EPIPE and no SIGPIPE (the agent writing to a reporter that died).
 */
#include "unit.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "muster/io.h"

/* More than a pipe holds, so both sides loop over short transfers. */
#define BIG	(256 * 1024)

static void
pipe_round_trip(void **state)
{
	static unsigned char out[BIG], in[BIG];
	int p[2];
	pid_t pid;
	size_t i;
	int status;

	(void)state;
	for (i = 0; i < sizeof out; i++)
		out[i] = (unsigned char)(i * 7 + 3);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		close(p[0]);
		_exit(io_write_all(p[1], out, sizeof out) == 0 ? 0 : 1);
	}
	close(p[1]);
	assert_int_equal(io_read_all(p[0], in, sizeof in), 0);
	assert_memory_equal(in, out, sizeof out);
	/* The writer is done: one byte more is an early end of file. */
	assert_int_equal(io_read_all(p[0], in, 1), -1);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
read_truncated(void **state)
{
	unsigned char buf[8];
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(io_write_all(p[1], "abc", 3), 0);
	close(p[1]);
	assert_int_equal(io_read_all(p[0], buf, sizeof buf), -1);
	assert_memory_equal(buf, "abc", 3);
	close(p[0]);
	/* Nothing asked for is nothing done, even with no buffer. */
	assert_int_equal(io_read_all(-1, NULL, 0), 0);
	assert_int_equal(io_write_all(-1, NULL, 0), 0);
	assert_int_equal(io_send_all(-1, NULL, 0), 0);
	assert_int_equal(io_write_all(-1, "x", 1), -1);
	assert_int_equal(errno, EBADF);
}

static void
send_to_closed_peer(void **state)
{
	struct sigaction dfl, old;
	int sv[2];

	(void)state;
	/* SIGPIPE at its default would kill this test if it were raised. */
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(io_send_all(sv[0], "ping", 4), 0);
	close(sv[1]);
	errno = 0;
	assert_int_equal(io_send_all(sv[0], "ping", 4), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
	assert_int_equal(sigaction(SIGPIPE, &old, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pipe_round_trip),
		cmocka_unit_test(read_truncated),
		cmocka_unit_test(send_to_closed_peer),
	};

	return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
