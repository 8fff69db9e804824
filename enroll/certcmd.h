/*
 * certcmd: `muster-enroll cert renew`, a new TLS certificate for the
 * command server, with its key or a new one, and the steps that roll it
 * out without re-enrolling a device (docs/keys.md "Server key rollover").
 */
#ifndef MUSTER_ENROLL_CERTCMD_H
#define MUSTER_ENROLL_CERTCMD_H

/*
 * `muster-enroll cert SUBCOMMAND` (argv[0] is "cert"): writes usage
 * errors and failures as one line on stderr; returns the exit code.
 */
int	certcmd_main(int argc, char **argv);

#endif
