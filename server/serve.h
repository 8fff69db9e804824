/*
 * serve: what `muster-server` without a command does once its options are
 * read -- check a configuration (-n), or bind, become the server's user
 * and serve until a stop signal (srv.c and friends do the serving).
 */
#ifndef MUSTER_SERVER_SERVE_H
#define MUSTER_SERVER_SERVE_H

/*
 * Both need sodium_init done (cli_sodium_init).
 *
 * Loads the configuration at path as a start would and checks everything
 * (srv_check); prints "PATH: configuration ok" or one error line.
 * Returns the exit code.
 */
int	serve_check(const char *path);

/*
 * Loads the configuration at path, binds its listeners (as root when
 * started so), drops to its user for good, serves until SIGTERM/SIGINT
 * and stops cleanly.  Returns the exit code.
 */
int	serve_run(const char *path);

#endif
