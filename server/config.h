/*
 * config: the server's configuration file (libconfig), docs/server.md.
 * `muster-enroll init` writes one; the parser takes exactly its fields and
 * refuses any other, naming FILE:LINE.
 */
#ifndef MUSTER_SERVER_CONFIG_H
#define MUSTER_SERVER_CONFIG_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <sodium.h>

#include "muster/err.h"
#include "muster/log.h"

#define CONFIG_DEFAULT_PATH	"/etc/muster/server.cfg"
#define CONFIG_FILE_MAX		(64 * 1024)
#define CONFIG_ADDR_MAX		64	/* "[v6 address]:port" and its NUL */
#define CONFIG_LISTEN_MAX	16	/* addresses, device and admin */
#define CONFIG_DEFAULT_USER	"muster"	/* when started as root */
#define CONFIG_ADMIN_HASH_BYTES	crypto_generichash_BYTES	/* 32 */
#define CONFIG_MANIFEST_WARN	(2 * 86400)	/* seconds */
#define CONFIG_MANIFEST_WARN_MAX (365 * 86400)
/*
 * The admin listener (docs/server.md): admin routes, /metrics and the
 * console are never served to the devices unless admin_listen says
 * CONFIG_ADMIN_SHARED.  A configuration without admin_listen (one from
 * before it was written by init) gets CONFIG_ADMIN_DEFAULT_ADDR on the
 * port after `port` (config_admin_port), and a warning at each start.
 */
#define CONFIG_ADMIN_SHARED	"device"
#define CONFIG_ADMIN_DEFAULT_ADDR "127.0.0.1"

struct config_limits {
	size_t		max_body;		/* bytes of one request body */
	unsigned	max_connections;
	unsigned	max_per_ip;		/* 0: no limit */
	unsigned	connection_timeout;	/* seconds idle */
	size_t		connection_memory;	/* bytes per connection */
	unsigned	threads;
	/* Per device (ratelimit.c, docs/server.md); 0: no limit. */
	unsigned	device_rate;		/* reports per hour */
	unsigned	device_burst;		/* reports at once */
	size_t		device_quota;		/* report bytes per day */
	/*
	 * Against slow clients (docs/server.md): every request, TLS
	 * handshake and headers and body, is whole within request_timeout
	 * seconds of its connection's accept (or of the previous answer),
	 * however the bytes trickle.  Connections still before their first
	 * complete header block ("half-open") are capped globally (the
	 * oldest is closed for a newcomer), per address and per network
	 * (/24, or /64 for IPv6), so they never take the slots of clients
	 * that got through.
	 */
	unsigned	request_timeout;
	/*
	 * Seconds from accept until the TLS handshake is done; a client
	 * stalled inside the handshake is closed then, whatever is left
	 * of request_timeout (which also still applies).
	 */
	unsigned	handshake_timeout;
	unsigned	max_half_open;		/* 0: max_connections / 2 */
	unsigned	max_half_open_per_ip;
	unsigned	max_half_open_per_net;
};

/* One address the server listens on. */
struct config_listen {
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	int			 admin;		/* an admin_listen address */
	int			 line;		/* in the file */
	char			 text[CONFIG_ADDR_MAX + 8];	/* "[::1]:8443" */
};

struct config {
	char			*path;		/* the file itself */
	/*
	 * listen (a string or a list: "ADDR", "ADDR:PORT", "[V6]:PORT",
	 * the default port being `port`), then admin_listen.  Without
	 * admin_listen, the admin listener is CONFIG_ADMIN_DEFAULT_ADDR on
	 * config_admin_port (admin_default); only admin_listen =
	 * CONFIG_ADMIN_SHARED lets the device listeners serve the admin
	 * routes, /metrics and the console (the first wave's one listener).
	 */
	struct config_listen	 listen[CONFIG_LISTEN_MAX];
	size_t			 nlisten;
	int			 admin_separate;	/* an admin listener */
	int			 admin_default;		/* ... not in the file */
	int			 admin_shared;	/* admin_listen = "device" */
	unsigned		 port;
	char			*user;		/* NULL: CONFIG_DEFAULT_USER */
	char			*access_log;	/* NULL: none; "log"; a path */
	char			*tls_cert;	/* resolved against the */
	char			*tls_key;	/* file's directory */
	char			*org_key;	/* NULL when root_dir is set */
	char			*root_dir;	/* NULL: legacy, org_key */
	char			*data_dir;
	char			*store;		/* a PostgreSQL URI, or NULL */
	int			 tls_cert_line;	/* where each path was set */
	int			 tls_key_line;
	int			 org_key_line;
	int			 root_dir_line;
	int			 data_dir_line;
	long			 manifest_warn;	/* seconds, default 2 days */
	unsigned char		 admin_hash[CONFIG_ADMIN_HASH_BYTES];
	int			 log_syslog;
	char			*log_file;	/* log = "PATH": NULL otherwise */
	enum log_level		 log_level;
	struct config_limits	 limits;
	long			 report_retention; /* seconds raw reports stay */
};

#define CONFIG_RETENTION	(30 * 86400)	/* seconds */
#define CONFIG_RETENTION_MAX	(3650L * 86400)

/*
 * Reads path into a new *out (config_free).  Refuses a file others can
 * read or write (MUSTER_ECONFIG), and any unknown field, wrong type,
 * missing field or value out of range (MUSTER_ECONFIG "FILE:LINE: what").
 * Relative paths in the file are taken relative to its directory.
 * Either root_dir or org_key must be given; with root_dir, org_key is
 * not used and need not be.
 */
int	config_load(const char *path, struct config **out,
	    struct muster_err *e);

/*
 * Parses one listen address ("1.2.3.4", "1.2.3.4:443", "::", "[::1]:8443")
 * into l, with port where the text names none.  Returns 0 or -1.
 */
int	config_addr_parse(const char *text, unsigned port,
	    struct config_listen *l);

/*
 * Whether a and b listen on the same addresses, run as the same user and
 * keep their data in the same place (data_dir, store): what a reload
 * cannot change.
 * Returns NULL when they agree, else the name of the first field that
 * differs.
 */
const char *config_fixed_differs(const struct config *a,
	    const struct config *b);

/*
 * The user the server runs as: the user setting, else CONFIG_DEFAULT_USER
 * when started as root and the system has that user, else NULL (the user
 * that started it: root then stays root, and says so in the log).
 */
const char *config_user(const struct config *c);

/*
 * The group of config_user into *gid (the running group for NULL): the
 * one group that may read the configuration and TLS key (0640).
 * Returns 0, or -1 when the user does not exist.
 */
int	config_service_group(const struct config *c, gid_t *gid);

/*
 * The port of the default admin listener for the device port: port + 1,
 * or 65534 for 65535.  muster-enroll init writes the same.
 */
unsigned config_admin_port(unsigned port);

/*
 * The one warning a start and `-n` give about the admin routes, written
 * into buf (len bytes): the admin listener was not configured (and
 * which default address serves them), or admin_listen = "device" serves
 * them to whoever reaches a device listener.  Returns 1 when there is
 * one, else 0 with buf empty.
 */
int	config_admin_warning(const struct config *c, char *buf, size_t len);

/*
 * libmicrohttpd allocates a connection's pool of at most this many bytes
 * with malloc; a larger one is mapped for each connection and unmapped at
 * its close (page faults, and a TLB shootdown across the CPUs), about
 * 60 us more server CPU for each check-in (docs/server.md).
 */
#define CONFIG_POOL_MALLOC_MAX	32768

/*
 * The warning a start and `-n` give when connection_memory is over
 * CONFIG_POOL_MALLOC_MAX (a configuration written before the default
 * became 32768), written into buf as config_admin_warning does.  Returns
 * 1 when there is one, else 0 with buf empty.
 */
int	config_memory_warning(const struct config *c, char *buf, size_t len);

/* Frees c; NULL is a no-op. */
void	config_free(struct config *c);

/*
 * Where the store lives, as store_open takes it: the `store` URI
 * (PostgreSQL) when set, else data_dir (SQLite).  Belongs to c.
 */
const char *config_store(const struct config *c);

#endif
