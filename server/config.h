/*
 * config: the server's configuration file (libconfig), docs/server.md.
 * `muster-enroll init` writes one; the parser takes exactly its fields and
 * refuses any other, naming FILE:LINE.
 */
#ifndef MUSTER_SERVER_CONFIG_H
#define MUSTER_SERVER_CONFIG_H

#include <stddef.h>

#include <sodium.h>

#include "muster/err.h"
#include "muster/log.h"

#define CONFIG_DEFAULT_PATH	"/etc/muster/server.cfg"
#define CONFIG_FILE_MAX		(64 * 1024)
#define CONFIG_ADDR_MAX		64
#define CONFIG_ADMIN_HASH_BYTES	crypto_generichash_BYTES	/* 32 */
#define CONFIG_MANIFEST_WARN	(2 * 86400)	/* seconds */
#define CONFIG_MANIFEST_WARN_MAX (365 * 86400)

struct config_limits {
	size_t		max_body;		/* bytes of one request body */
	unsigned	max_connections;
	unsigned	max_per_ip;		/* 0: no limit */
	unsigned	connection_timeout;	/* seconds idle */
	size_t		connection_memory;	/* bytes per connection */
	unsigned	threads;
};

struct config {
	char			*path;		/* the file itself */
	char			 listen[CONFIG_ADDR_MAX];
	unsigned		 port;
	char			*tls_cert;	/* resolved against the */
	char			*tls_key;	/* file's directory */
	char			*org_key;	/* NULL when root_dir is set */
	char			*root_dir;	/* NULL: legacy, org_key */
	char			*data_dir;
	char			*store;		/* a PostgreSQL URI, or NULL */
	long			 manifest_warn;	/* seconds, default 2 days */
	unsigned char		 admin_hash[CONFIG_ADMIN_HASH_BYTES];
	int			 log_syslog;
	enum log_level		 log_level;
	struct config_limits	 limits;
};

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

/* Frees c; NULL is a no-op. */
void	config_free(struct config *c);

/*
 * Where the store lives, as store_open takes it: the `store` URI
 * (PostgreSQL) when set, else data_dir (SQLite).  Belongs to c.
 */
const char *config_store(const struct config *c);

#endif
