/*
 * info: what the agent shows its device's owner (`muster-agent status`,
 * `explain`, `log`).
 */
#ifndef MUSTER_AGENT_INFO_H
#define MUSTER_AGENT_INFO_H

#include "muster/profile.h"

/* Prints what a compliance report of scope carries (explain's wording). */
void	info_report_fields(enum profile_scope scope);

#endif
