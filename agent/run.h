/*
 * run: `muster-agent run [--once] [--foreground]`, the enrolled agent's
 * loop (fetch the profile, check, report, send; see agent/run.c).
 */
#ifndef MUSTER_AGENT_RUN_H
#define MUSTER_AGENT_RUN_H

struct cmd_opts;

/* Returns the exit code (docs/man/muster-agent.1). */
int	run_cmd(struct cmd_opts *o, int argc, char **argv);

#endif
