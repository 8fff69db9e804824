/*
 * enroll: `muster-agent enroll BUNDLE [--consent [--report-only]]`: the
 * bundle's token verified with its key, the family preview and consent,
 * a new device key, POST /v1/enroll, and the state written only once the
 * server has answered.
 */
#ifndef MUSTER_AGENT_ENROLL_H
#define MUSTER_AGENT_ENROLL_H

struct cmd_opts;

/* Returns the exit code (docs/man/muster-agent.1). */
int	enroll_cmd(struct cmd_opts *o, int argc, char **argv);

#endif
