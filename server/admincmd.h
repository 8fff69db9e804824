/*
 * admincmd: `muster-server admin` and `muster-server audit`, on the store
 * of a configuration, while the server runs or not (docs/operations.md):
 *
 *	muster-server admin add [--config FILE] --roles LIST [-o FILE] NAME
 *	muster-server admin list [--config FILE]
 *	muster-server admin rotate [--config FILE] [-o FILE] NAME
 *	muster-server admin remove [--config FILE] NAME
 *	muster-server audit verify [--config FILE] [--pub FILE]
 *	    [--witness SEQ:HASH]
 *	muster-server audit show [--config FILE] [--since TIME]
 *	    [--actor NAME] [--action ACTION]
 */
#ifndef MUSTER_SERVER_ADMINCMD_H
#define MUSTER_SERVER_ADMINCMD_H

/*
 * Each takes the command's arguments (argv[0] "admin" or "audit"),
 * writes to stdout, one line per error to stderr, and returns the exit
 * code: 0, 64 usage, 65 name taken, 66 no such administrator or file,
 * 74 storage error, 77 the audit log does not verify, 78 bad
 * configuration.
 */
int	admincmd_admin(int argc, char **argv);
int	admincmd_audit(int argc, char **argv);

#endif
