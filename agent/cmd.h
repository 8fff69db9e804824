/*
 * cmd: muster-agent's commands, apart from the logic they call.  main.c
 * parses the global options (--state, --device) into a struct cmd_opts
 * and dispatches to one function per command, declared by the module
 * whose job the command is (install_cmd_trust in install.h, check_cmd in
 * check.h, ...).  Each takes the command's arguments (argv[0] is its
 * name), parses its own options with cmd_getopt (--state and --device
 * are accepted before the command and after it alike) and returns the
 * process exit code.
 */
#ifndef MUSTER_AGENT_CMD_H
#define MUSTER_AGENT_CMD_H

#include <getopt.h>

#define CMD_PROG		"muster-agent"
#define CMD_STATE_DEFAULT	"/var/lib/muster"
#define CMD_DEVICE_DEFAULT	"android"

struct cmd_opts {
	const char	*state;		/* --state DIR */
	const char	*device;	/* --device SPEC */
};

/* The getopt_long entries every command accepts, and their handler. */
#define CMD_COMMON_OPTS \
	{ "state", required_argument, NULL, 'S' }, \
	{ "device", required_argument, NULL, 'D' }, \
	{ "help", no_argument, NULL, 'h' }

/* The getopt_long table of a command with no options of its own. */
extern const struct option cmd_common_opts[];

/* Stores option c (from CMD_COMMON_OPTS) in o: 1 if it was one, else 0. */
int	cmd_common_opt(struct cmd_opts *o, int c);

/*
 * cli_getopt for a command: the common options go to o, others to fn
 * (which returns 0, or -1 for a bad option).  Returns -1 and sets
 * *exitcode (0 after --help, 64 after a usage error) when the command
 * should stop; otherwise the index of the first operand.
 */
int	cmd_getopt(struct cmd_opts *o, int argc, char **argv,
	    const char *shortopts, const struct option *opts,
	    const char *usage, int (*fn)(void *, int, const char *),
	    void *arg, int *exitcode);

/*
 * cmd_getopt for a command that takes no operands: an operand is the
 * usage error "PROG CMD: unexpected argument "ARG"".  Returns 0 when the
 * command should go on, else -1 with *exitcode set (0 after --help, 64
 * after a usage error).
 */
int	cmd_getopt_noargs(struct cmd_opts *o, int argc, char **argv,
	    const char *shortopts, const struct option *opts,
	    const char *usage, int (*fn)(void *, int, const char *),
	    void *arg, int *exitcode);

/*
 * An option that only sets a flag: getopt_long's value for it and the int
 * that it sets to 1.  A command's list of them ends with { 0, NULL }.
 */
struct cmd_flag {
	int	c;
	int	*set;
};

/*
 * The fn of cmd_getopt for a command whose own options are all flags:
 * arg is its struct cmd_flag list (the caller's).  Sets the flag of c and
 * returns 0, or -1 when c is not in the list.
 */
int	cmd_flag_opt(void *arg, int c, const char *val);

/*
 * A family member's answer on the command line, as enroll and consent
 * take it: --consent (agreed without the prompt), --report-only (the
 * device is never changed).  cmd_consent_opts is the getopt_long table
 * of such a command (CMD_COMMON_OPTS and those two), CMD_CONSENT_FLAGS(ans)
 * its cmd_flag list setting *ans.
 */
struct cmd_consent {
	int	consent;
	int	report_only;
};

extern const struct option cmd_consent_opts[];

#define CMD_CONSENT_FLAGS(ans) \
	{ { 'c', &(ans)->consent }, { 'r', &(ans)->report_only }, { 0, NULL } }

#endif
