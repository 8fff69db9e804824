/*
 * daemon: the server's life as a system service: dropping root for good
 * after binding (as OpenSMTPD does), and telling systemd where it is
 * (sd_notify's datagram, written by hand: no libsystemd).
 */
#ifndef MUSTER_SERVER_DAEMON_H
#define MUSTER_SERVER_DAEMON_H

#include "muster/err.h"

/*
 * When running as root, becomes user (its uid, its primary group, no
 * supplementary groups) for good, and checks that root cannot be
 * regained.  Not root: nothing changes (the unit started us as our
 * user).  user NULL while root: stays root, and *stayed is set (the
 * caller warns).  Returns 0, MUSTER_ECONFIG (no such user, or user is
 * root) or MUSTER_EOS (a call failed, or root could be regained).
 */
int	daemon_drop(const char *user, int *stayed, struct muster_err *e);

/*
 * Sends state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") to
 * the socket NOTIFY_SOCKET names (a path, or "@" for the abstract
 * namespace); without NOTIFY_SOCKET does nothing.  Returns 0 or -1.
 */
int	daemon_notify(const char *state);

#endif
