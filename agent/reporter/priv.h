/*
 * priv: the reporter's privilege drop.  Started as root, it becomes
 * REPORTER_USER for good before it reads anything from the agent.
 */
#ifndef MUSTER_REPORTER_PRIV_H
#define MUSTER_REPORTER_PRIV_H

#include <stddef.h>

#define REPORTER_USER	"nobody"

/*
 * If the real or effective uid is 0: looks up REPORTER_USER, clears the
 * supplementary groups, sets real, effective and saved gid and uid to
 * that user's, then checks that no id is 0, that there are no
 * supplementary groups, and that setuid(0) and setgid(0) fail.  In any
 * case sets no_new_privs.  Returns 0, or -1 with the reason in msg.
 */
int	priv_drop(char *msg, size_t size);

#endif
