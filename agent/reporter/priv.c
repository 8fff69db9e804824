/* priv: the reporter drops root for good; see agent/reporter/priv.h. */
#include <sys/prctl.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"

int
priv_drop(char *msg, size_t size)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	if (getuid() == 0 || geteuid() == 0) {
		errno = 0;
		if ((pw = getpwnam(REPORTER_USER)) == NULL) {
			snprintf(msg, size, "no user \"%s\" to run as",
			    REPORTER_USER);
			return -1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		if (uid == 0 || gid == 0) {
			snprintf(msg, size, "user \"%s\" has uid or gid 0",
			    REPORTER_USER);
			return -1;
		}
		if (setgroups(0, NULL) == -1 ||
		    setresgid(gid, gid, gid) == -1 ||
		    setresuid(uid, uid, uid) == -1) {
			snprintf(msg, size, "cannot become \"%s\": %s",
			    REPORTER_USER, strerror(errno));
			return -1;
		}
		/* Trust nothing: check that root is gone and cannot return. */
		if (getuid() == 0 || geteuid() == 0 || getgid() == 0 ||
		    getegid() == 0 || getgroups(0, NULL) != 0 ||
		    setuid(0) != -1 || setgid(0) != -1) {
			snprintf(msg, size, "privileges were not dropped");
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(msg, size, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	return 0;
}
