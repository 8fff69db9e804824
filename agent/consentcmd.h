/*
 * consentcmd: `muster-agent consent [--consent [--report-only]]`: a
 * family member's new consent to a changed family profile (one that
 * waits because it reads what was not agreed to; see
 * check_consent_pending): what changed is shown, the member asked, and
 * a new signed receipt sent with POST /v1/consent; only then is the new
 * profile evaluated.
 */
#ifndef MUSTER_AGENT_CONSENTCMD_H
#define MUSTER_AGENT_CONSENTCMD_H

struct cmd_opts;

/* Returns the exit code (docs/man/muster-agent.1). */
int	consentcmd(struct cmd_opts *o, int argc, char **argv);

#endif
