/*
 * info: what the agent shows its device's owner (`muster-agent status`,
 * `explain`, `log`).
 */
#ifndef MUSTER_AGENT_INFO_H
#define MUSTER_AGENT_INFO_H

#include "muster/profile.h"

/* Prints what a compliance report of scope carries (explain's wording). */
void	info_report_fields(enum profile_scope scope);

struct cmd_opts;

/* `muster-agent status`, `explain` and `log`; return the exit code. */
int	info_cmd_status(struct cmd_opts *o, int argc, char **argv);
int	info_cmd_explain(struct cmd_opts *o, int argc, char **argv);
int	info_cmd_log(struct cmd_opts *o, int argc, char **argv);

#endif
