/* daemon: privileges and systemd readiness; see daemon.h. */
#include <errno.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

int
daemon_drop(const char *user, int *stayed, struct muster_err *e)
{
	struct passwd *pw;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	*stayed = 0;
	if (geteuid() != 0)
		return 0;
	if (user == NULL) {
		*stayed = 1;
		return 0;
	}
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return err_set(e, MUSTER_ECONFIG, "user %s: no such user "
		    "(create it, or name another with user in server.cfg)",
		    user);
	if (pw->pw_uid == 0)
		return err_set(e, MUSTER_ECONFIG, "user %s: is root; name an "
		    "unprivileged user", user);
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
		return err_sys(e, MUSTER_EOS, "cannot become user %s", user);
	/* As OpenSMTPD: make sure, rather than trust the calls. */
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    ru != pw->pw_uid || eu != pw->pw_uid || su != pw->pw_uid ||
	    rg != pw->pw_gid || eg != pw->pw_gid || sg != pw->pw_gid)
		return err_set(e, MUSTER_EOS, "user %s: ids not all dropped",
		    user);
	if (setuid(0) != -1 || seteuid(0) != -1)
		return err_set(e, MUSTER_EOS, "user %s: root could be "
		    "regained; refusing to run", user);
	return 0;
}

int
daemon_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t n;
	int fd, rc;

	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof sun.sun_path)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (path[0] == '/' ? 1 : 0));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, len) == (ssize_t)strlen(state) ? 0 : -1;
	close(fd);
	return rc;
}
