/*
 * cli: what the three programs (muster-agent, muster-enroll, muster-server)
 * share on their command lines: the program's name, the subcommand table,
 * getopt_long with --help and one-line usage errors, the one-line failure
 * and its exit code (err_exit_code), descriptors 0-2 kept open.
 *
 * This is the one module of libmuster that prints, and only to stdout
 * (--help) and stderr (errors); it never exits: each function returns the
 * exit code and main returns it.  Messages start with the name given to
 * cli_init:
 *
 *	muster-agent: MESSAGE
 *	muster-agent check: MESSAGE
 */
#ifndef MUSTER_CLI_H
#define MUSTER_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "muster/err.h"

#define CLI_EX_USAGE	64	/* sysexits.h EX_USAGE */
#define CLI_EX_SOFTWARE	70	/* sysexits.h EX_SOFTWARE */

/*
 * Sets the program name every message starts with; prog (a string
 * literal, normally) must outlive every later call.  Until it is called
 * the name is "muster".
 */
void	cli_init(const char *prog);

/* The name given to cli_init; not to be freed. */
const char *cli_prog(void);

/*
 * Opens /dev/null on whichever of descriptors 0, 1 and 2 are closed, so
 * that no file the program opens later lands on them.  Best effort.
 */
void	cli_stdio_guard(void);

/*
 * sodium_init(); on failure prints "PROG: libsodium failed to initialise"
 * and returns CLI_EX_SOFTWARE, else 0.
 */
int	cli_sodium_init(void);

/*
 * Prints "PROG: MESSAGE" (cmd NULL) or "PROG CMD: MESSAGE" as one line on
 * stderr, MESSAGE formatted from fmt.
 */
void	cli_error(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* cli_error, then returns CLI_EX_USAGE (64) for main to exit with. */
int	cli_usage(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Prints "PROG: " and e's message as one line on stderr; returns the exit
 * code for rc (err_exit_code).
 */
int	cli_fail(int rc, const struct muster_err *e);

/*
 * Parses a subcommand's options (argv[0] is its name) with getopt_long,
 * from the start of argv and without getopt's own messages.  --help (an
 * entry of opts returning 'h') prints usage to stdout.  Every other
 * option goes to fn(arg, option, optarg), which returns 0, -1 for a bad
 * option or value, or an exit code above 0 after printing its own
 * message (cli_usage); with fn NULL every other option is bad.  A bad
 * option is the usage error
 *
 *	PROG CMD: bad option "ARG" (see PROG CMD --help)
 *
 * Returns the index of the first operand; or -1 with *exitcode set (0
 * after --help, 64 after a usage error, fn's code after fn's own message)
 * when the command should stop.
 */
int	cli_getopt(int argc, char **argv, const char *shortopts,
	    const struct option *opts, const char *usage,
	    int (*fn)(void *, int, const char *), void *arg, int *exitcode);

/*
 * One option of a cli_options table: --name, and -c too where shortopts
 * names c.  arg, flag or list says where it goes; with none of them it
 * goes to cli_options' fn.  The CLI_OPT_* macros fill it in.
 */
struct cli_opt {
	const char	*name;
	int		 c;
	int		 has_arg;	/* no_argument, required_argument */
	const char	**arg;		/* the argument (the last one given) */
	int		*flag;		/* set to 1 */
	const char	**list;		/* each argument in turn, at most max */
	size_t		*n;		/* how many list holds */
	size_t		 max;
};

#define CLI_OPTS_MAX	16	/* entries of one table, CLI_OPT_END aside */

#define CLI_OPT_ARG(name, c, p) \
	{ (name), (c), required_argument, (p), NULL, NULL, NULL, 0 }
#define CLI_OPT_FLAG(name, c, p) \
	{ (name), (c), no_argument, NULL, (p), NULL, NULL, 0 }
/* array is an array in scope, n a size_t counting what it holds. */
#define CLI_OPT_LIST(name, c, array, n) \
	{ (name), (c), required_argument, NULL, NULL, (array), &(n), \
	    sizeof (array) / sizeof (array)[0] }
#define CLI_OPT_FN(name, c, has_arg) \
	{ (name), (c), (has_arg), NULL, NULL, NULL, NULL, 0 }
#define CLI_OPT_END	{ NULL, 0, 0, NULL, NULL, NULL, NULL, 0 }

/*
 * cli_getopt over opts (up to CLI_OPTS_MAX entries, then CLI_OPT_END),
 * with --help added after them: each option is stored where its entry
 * says, and goes to fn only when its entry says nowhere.  One more
 * argument than a list holds is a bad option.  The pointers in opts are
 * the caller's, and after the call point into argv.  Returns what
 * cli_getopt returns; a table over CLI_OPTS_MAX is a bug, reported as
 * such with *exitcode CLI_EX_SOFTWARE.
 */
int	cli_options(int argc, char **argv, const char *shortopts,
	    const struct cli_opt *opts, const char *usage,
	    int (*fn)(void *, int, const char *), void *arg, int *exitcode);

/*
 * cli_options for a command (argv[0]) that takes exactly one operand,
 * named what in the usage error "PROG CMD: expected one WHAT", or none
 * when what is NULL (an operand is then the usage error "PROG CMD:
 * unexpected argument "ARG"").  Returns the operand's index (argc when
 * there is none), or -1 with *exitcode set as cli_options sets it, or
 * to CLI_EX_USAGE after one of those errors.
 */
int	cli_options_operand(int argc, char **argv, const char *shortopts,
	    const struct cli_opt *opts, const char *usage,
	    int (*fn)(void *, int, const char *), void *arg, const char *what,
	    int *exitcode);

/*
 * A subcommand table is an array of rows that each begin with a struct
 * cli_cmd, followed by the command's function: its arguments are the
 * program's own (the agent hands its global options to each command), so
 * the row type is the program's too.
 */
struct cli_cmd {
	const char	*name;
	const char	*what;		/* one line for the usage text */
};

/* The row of a program whose commands take only their arguments. */
struct cli_cmd_argv {
	struct cli_cmd	c;
	int		(*fn)(int argc, char **argv);
};

/*
 * The row of table (n rows of size bytes each, each beginning with a
 * struct cli_cmd) whose name is name, or NULL.  The row is table's.
 */
const void *cli_cmd_find(const void *table, size_t n, size_t size,
	    const char *name);

/*
 * Writes one line per row of table to f: two spaces, the name padded to
 * one more than the longest name, a space and what.
 */
void	cli_cmd_list(FILE *f, const void *table, size_t n, size_t size);

/* The same for a table that is an array in scope. */
#define CLI_CMD_FIND(table, name) \
	cli_cmd_find((table), sizeof (table) / sizeof (table)[0], \
	    sizeof (table)[0], (name))
#define CLI_CMD_LIST(f, table) \
	cli_cmd_list((f), (table), sizeof (table) / sizeof (table)[0], \
	    sizeof (table)[0])

/*
 * Prints the usage error "PROG: unknown command "NAME" (see PROG --help)";
 * returns CLI_EX_USAGE.
 */
int	cli_cmd_unknown(const char *name);

#endif
