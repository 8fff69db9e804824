/*
 * histcmd: `muster-server history` (one personnel device's status
 * changes, each with the stored report that caused it, its hash and the
 * device's signature, checked; or one report's proof file) and
 * `muster-server verify-report` (a proof file checked offline, with no
 * store).  docs/operations.md, "Verifying a stored report".
 */
#ifndef MUSTER_SERVER_HISTCMD_H
#define MUSTER_SERVER_HISTCMD_H

/*
 * muster-server history [--config FILE] [--format table|json]
 *     [--proof SEQ] DEVICE
 * Returns the exit code: 0 every kept signature verifies (or the proof
 * was written), 64 usage, 65 not a device id, 66 no such personnel
 * device or report, 74 storage error, 77 a stored report does not
 * verify, 78 bad configuration.
 */
int	histcmd_history(int argc, char **argv);

/*
 * muster-server verify-report PROOF: 0 verified, 64 usage, 65 not a
 * proof (or it has no signature to check), 66 no such file, 77 the
 * signature does not verify or the signed report is not the entry the
 * proof names.
 */
int	histcmd_verify(int argc, char **argv);

#endif
