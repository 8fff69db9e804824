/*
 * admin: the administrator's calls to the server (publish, revoke) and
 * how their outcomes map to exit codes, for tests to reach directly.
 */
#ifndef MUSTER_ADMIN_H
#define MUSTER_ADMIN_H

#include <stddef.h>

#include <jansson.h>

#include "muster/err.h"
#include "org.h"

/* --admin-url in the usage of every command that calls the admin API. */
#define ADMIN_URL_HELP \
"  --admin-url URL  the server's admin listener (default: $MUSTER_ADMIN_URL,\n" \
"               else org.cfg's admin_url, else https://127.0.0.1:PORT+1)\n"

/* The options of a command that takes only --org and --admin-url. */
#define ADMIN_ORG_OPTS_HELP \
"options:\n" \
"  --org DIR    organisation directory (default: $MUSTER_ORG, else .)\n" \
ADMIN_URL_HELP \
"  --help       this text\n"

#define ADMIN_CONNECT_TIMEOUT	10L	/* seconds */
#define ADMIN_TIMEOUT		30L	/* seconds, the whole exchange */
#define ADMIN_RESP_MAX		(64 * 1024)	/* bytes of an answer kept */

/*
 * `muster-enroll publish` and `revoke` (argv[0] is the command's name):
 * each writes usage errors and failures as one line on stderr and
 * returns the process exit code.
 */
int	admin_publish(int argc, char **argv);
int	admin_revoke(int argc, char **argv);

/*
 * POSTs the JSON body (the caller keeps it) to path on the admin
 * listener of the server of DIR/org.cfg (admin_url: --admin-url, NULL
 * for org.cfg's; see struct org_cfg) with the admin token, as publish
 * and revoke do.  Returns 0 after a 2xx answer (*status; its body
 * malloc'd in *answer when answer is not NULL), MUSTER_EUSAGE for a bad
 * admin_url, or what admin_http_result / admin_curl_result return.
 */
int	admin_post_json(const char *org, const char *admin_url,
	    const char *path, json_t *body, long *status, char **answer,
	    struct muster_err *e);

/*
 * org_cfg_load of DIR into *oc, with admin_url (--admin-url; NULL: none)
 * over the admin URL it resolved.  Returns 0, what org_cfg_load returns,
 * or MUSTER_EUSAGE naming --admin-url.
 */
int	admin_org_load(const char *org, const char *admin_url,
	    struct org_cfg *oc, struct muster_err *e);

/*
 * Maps the server's HTTP status and answer from url (len bytes; a JSON object's
 * "error" string is shown, else the first line) to 0 for 2xx, else
 * MUSTER_ETRUST (401, 403, 422), MUSTER_EDATA (400 and other 4xx),
 * MUSTER_ETEMP (5xx) or MUSTER_EUNAVAIL, with a one-line message in e.
 */
int	admin_http_result(const char *url, long status, const char *body,
	    size_t len, struct muster_err *e);

/*
 * Maps a failed transfer (a CURLcode as int, with curl's error buffer as
 * detail) to MUSTER_ETRUST for a pin or certificate mismatch, else
 * MUSTER_EUNAVAIL (or MUSTER_ECONFIG when server.crt is unusable).
 */
int	admin_curl_result(int cc, const char *url, const char *detail,
	    struct muster_err *e);

#endif
