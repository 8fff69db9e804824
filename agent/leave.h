/*
 * leave: the right to leave.  `muster-agent unenroll` queues a signed
 * unenroll request in STATE/leaving, sends it, and once the server has
 * deleted the device (or no longer knows it) wipes the state.  While a
 * request is queued `muster-agent run` sends it again before anything
 * else and sends nothing else; `check` still works on the device.
 *
 * STATE/leaving holds two lines: the base64 device signature, then the
 * exact JSON body {"device": ID, "time": T} it signs.  The same bytes are
 * sent on every try.
 */
#ifndef MUSTER_AGENT_LEAVE_H
#define MUSTER_AGENT_LEAVE_H

#include "muster/err.h"
#include "state.h"

#define LEAVE_MAX	1024	/* bytes of STATE/leaving */

/*
 * 1 if an unenroll request is queued in dir, 0 if not, or a MUSTER_E*
 * value (described in e) when that cannot be told.
 */
int	leave_pending(const char *dir, struct muster_err *e);

/*
 * Queues the unenroll request of the device c describes (unless one is
 * queued already), sends it, and on the server's 200, or 403 (it does not
 * know the device, or keeps a revoked one), wipes the state dir; the
 * caller holds the state's lock and closes it afterwards.  Returns 0 with
 * the HTTP status in *status when the state is wiped; otherwise the
 * request stays queued and the return is MUSTER_ETEMP (server unreachable
 * or busy), MUSTER_ETRUST (pin mismatch, signature refused), MUSTER_EDATA
 * (refused as malformed) or a state error.
 */
int	leave_send(const char *dir, const struct state_cfg *c,
	    unsigned *status, struct muster_err *e);

/*
 * Wipes the state dir: the device key overwritten with zeros, fsync'd and
 * removed first, then every file and directory the agent makes (and
 * their temporary files), then dir itself unless it holds files the agent
 * did not make (*kept is then set).
 */
int	leave_wipe(const char *dir, int *kept, struct muster_err *e);

struct cmd_opts;

/* `muster-agent unenroll`; returns the exit code. */
int	leave_cmd(struct cmd_opts *o, int argc, char **argv);

#endif
