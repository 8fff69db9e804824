/*
 * profcmd: `muster-enroll lint`, `sign` and `verify` of policy profiles.
 */
#ifndef MUSTER_ENROLL_PROFCMD_H
#define MUSTER_ENROLL_PROFCMD_H

/*
 * Each takes its command's arguments (argv[0] is the command's name),
 * writes usage errors and failures as one line on stderr, and returns
 * the process exit code.
 */
int	profcmd_lint(int argc, char **argv);
int	profcmd_sign(int argc, char **argv);
int	profcmd_verify(int argc, char **argv);

#endif
