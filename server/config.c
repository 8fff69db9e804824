/* config: the server's configuration file; see config.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <sodium.h>

#include "muster/cfgread.h"
#include "muster/cfgscan.h"
#include "muster/fs.h"
#include "config.h"

#define CONFIG_DEPTH	4

struct cctx {
	const char		*path;
	char			*dir;		/* malloc'd dirname of path */
	struct config		*c;
	struct muster_err	*e;
};

static int	cerr(struct cctx *, const config_setting_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* "FILE:LINE: message" as MUSTER_ECONFIG. */
static int
cerr(struct cctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return cfgread_err(x->e, MUSTER_ECONFIG, x->path, s, "%s", msg);
}

static int
get_str(struct cctx *x, const config_setting_t *s, const char **v)
{
	if (cfgread_str(s, SIZE_MAX, v) != 0)
		return cerr(x, s, "\"%s\" must be %s", config_setting_name(s),
		    cfgread_type_name(CONFIG_TYPE_STRING));
	if (**v == '\0')
		return cerr(x, s, "\"%s\" is empty", config_setting_name(s));
	return 0;
}

static int
get_int(struct cctx *x, const config_setting_t *s, long long lo, long long hi,
    long long *v)
{
	switch (cfgread_int(s, lo, hi, v)) {
	case 0:
		return 0;
	case CFGREAD_ERANGE:
		return cerr(x, s, "\"%s\" = %lld is out of range (%lld..%lld)",
		    config_setting_name(s), *v, lo, hi);
	default:
		return cerr(x, s, "\"%s\" must be %s", config_setting_name(s),
		    cfgread_type_name(CONFIG_TYPE_INT));
	}
}

/* A path from the file, made relative to the file's directory. */
static int
get_path(struct cctx *x, const config_setting_t *s, char **out)
{
	const char *v;
	int rc;

	if ((rc = get_str(x, s, &v)) != 0)
		return rc;
	free(*out);
	*out = v[0] == '/' ? strdup(v) : fs_path(x->dir, v);
	if (*out == NULL)
		return err_set(x->e, MUSTER_EINTERNAL, "out of memory");
	return 0;
}

static int
parse_limits(struct cctx *x, const config_setting_t *g)
{
	struct config_limits *l = &x->c->limits;
	config_setting_t *s;
	long long v;
	int i, n, rc;
	const char *name;

	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(s);
		if (name == NULL)
			return cerr(x, s, "limits: unnamed value");
		if (strcmp(name, "max_body") == 0) {
			if ((rc = get_int(x, s, 1024, 16 << 20, &v)) != 0)
				return rc;
			l->max_body = (size_t)v;
		} else if (strcmp(name, "max_connections") == 0) {
			if ((rc = get_int(x, s, 1, 65536, &v)) != 0)
				return rc;
			l->max_connections = (unsigned)v;
		} else if (strcmp(name, "max_per_ip") == 0) {
			if ((rc = get_int(x, s, 0, 65536, &v)) != 0)
				return rc;
			l->max_per_ip = (unsigned)v;
		} else if (strcmp(name, "connection_timeout") == 0) {
			if ((rc = get_int(x, s, 1, 3600, &v)) != 0)
				return rc;
			l->connection_timeout = (unsigned)v;
		} else if (strcmp(name, "connection_memory") == 0) {
			if ((rc = get_int(x, s, 8192, 16 << 20, &v)) != 0)
				return rc;
			l->connection_memory = (size_t)v;
		} else if (strcmp(name, "threads") == 0) {
			if ((rc = get_int(x, s, 1, 256, &v)) != 0)
				return rc;
			l->threads = (unsigned)v;
		} else
			return cerr(x, s, "limits: unknown field \"%s\"",
			    name);
	}
	return 0;
}

/*
 * Required top-level fields, in the order init writes them; org_key only
 * without root_dir.
 */
static const char *const required[] = {
	"listen", "port", "tls_cert", "tls_key", "data_dir",
	"admin_token_hash",
};

/* "Nd", "Nh", "Nm" or "Ns": a duration in seconds, 0 .. max. */
static int
get_duration(struct cctx *x, const config_setting_t *s, long max, long *out)
{
	const char *v;
	char *end;
	long long n;
	long unit;
	int rc;

	if ((rc = get_str(x, s, &v)) != 0)
		return rc;
	errno = 0;
	n = v[0] >= '0' && v[0] <= '9' ? strtoll(v, &end, 10) : -1;
	unit = n < 0 || errno != 0 || end[0] == '\0' || end[1] != '\0' ? 0 :
	    end[0] == 'd' ? 86400 : end[0] == 'h' ? 3600 : end[0] == 'm' ? 60 :
	    end[0] == 's' ? 1 : 0;
	if (unit == 0 || n > max / unit)
		return cerr(x, s, "\"%s\" must be a duration such as \"2d\", "
		    "\"36h\", \"90m\" or \"600s\", at most %ld days",
		    config_setting_name(s), max / 86400);
	*out = (long)n * unit;
	return 0;
}

static int
parse_root(struct cctx *x, const config_setting_t *root)
{
	struct config *c = x->c;
	unsigned char addr[sizeof(struct in6_addr)];
	config_setting_t *s;
	const char *name, *v;
	long long n;
	size_t i;
	int rc;

	for (i = 0; i < (size_t)config_setting_length(root); i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		name = config_setting_name(s);
		if (name == NULL)
			return cerr(x, s, "unnamed value");
		if (strcmp(name, "listen") == 0) {
			if ((rc = get_str(x, s, &v)) != 0)
				return rc;
			if (strlen(v) >= sizeof c->listen ||
			    (inet_pton(AF_INET, v, addr) != 1 &&
			    inet_pton(AF_INET6, v, addr) != 1))
				return cerr(x, s, "listen: \"%.64s\" is not an "
				    "IPv4 or IPv6 address", v);
			snprintf(c->listen, sizeof c->listen, "%s", v);
		} else if (strcmp(name, "port") == 0) {
			if ((rc = get_int(x, s, 1, 65535, &n)) != 0)
				return rc;
			c->port = (unsigned)n;
		} else if (strcmp(name, "tls_cert") == 0)
			rc = get_path(x, s, &c->tls_cert);
		else if (strcmp(name, "tls_key") == 0)
			rc = get_path(x, s, &c->tls_key);
		else if (strcmp(name, "org_key") == 0)
			rc = get_path(x, s, &c->org_key);
		else if (strcmp(name, "root_dir") == 0)
			rc = get_path(x, s, &c->root_dir);
		else if (strcmp(name, "manifest_warn") == 0)
			rc = get_duration(x, s, CONFIG_MANIFEST_WARN_MAX,
			    &c->manifest_warn);
		else if (strcmp(name, "data_dir") == 0)
			rc = get_path(x, s, &c->data_dir);
		else if (strcmp(name, "store") == 0) {
			if ((rc = get_str(x, s, &v)) != 0)
				return rc;
			if (strncmp(v, "postgresql://", 13) != 0 &&
			    strncmp(v, "postgres://", 11) != 0)
				return cerr(x, s, "store must be a PostgreSQL "
				    "URI, \"postgresql://...\" (without it "
				    "the store is SQLite in data_dir)");
			free(c->store);
			if ((c->store = strdup(v)) == NULL)
				return err_set(x->e, MUSTER_EINTERNAL,
				    "out of memory");
		}
		else if (strcmp(name, "admin_token_hash") == 0) {
			size_t bin;

			if ((rc = get_str(x, s, &v)) != 0)
				return rc;
			if (strlen(v) != 2 * sizeof c->admin_hash ||
			    strspn(v, "0123456789abcdef") != strlen(v) ||
			    sodium_hex2bin(c->admin_hash, sizeof c->admin_hash,
			    v, strlen(v), NULL, &bin, NULL) != 0 ||
			    bin != sizeof c->admin_hash)
				return cerr(x, s, "admin_token_hash must be "
				    "%zu lowercase hex digits (BLAKE2b-256 of "
				    "the admin token)",
				    2 * sizeof c->admin_hash);
		} else if (strcmp(name, "log") == 0) {
			if ((rc = get_str(x, s, &v)) != 0)
				return rc;
			if (strcmp(v, "stderr") == 0)
				c->log_syslog = 0;
			else if (strcmp(v, "syslog") == 0)
				c->log_syslog = 1;
			else
				return cerr(x, s, "log must be \"stderr\" or "
				    "\"syslog\"");
		} else if (strcmp(name, "log_level") == 0) {
			if ((rc = get_str(x, s, &v)) != 0)
				return rc;
			if (log_level_parse(v, &c->log_level) != 0)
				return cerr(x, s, "log_level must be "
				    "\"error\", \"warn\", \"info\" or "
				    "\"debug\"");
		} else if (strcmp(name, "limits") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP)
				return cerr(x, s, "\"limits\" must be %s",
				    cfgread_type_name(CONFIG_TYPE_GROUP));
			rc = parse_limits(x, s);
		} else
			return cerr(x, s, "unknown field \"%s\"", name);
		if (rc != 0)
			return rc;
	}
	for (i = 0; i < sizeof required / sizeof required[0]; i++)
		if (config_setting_get_member(root, required[i]) == NULL)
			return cerr(x, NULL, "missing field \"%s\"",
			    required[i]);
	if (c->root_dir == NULL && c->org_key == NULL)
		return cerr(x, NULL, "missing field \"org_key\" (or "
		    "\"root_dir\")");
	if (c->root_dir != NULL) {
		/* The roots name every key; org_key would be a second anchor. */
		free(c->org_key);
		c->org_key = NULL;
	}
	return 0;
}

int
config_load(const char *path, struct config **out, struct muster_err *e)
{
	struct cctx x = { path, NULL, NULL, e };
	config_t cfg;
	char *buf = NULL, *copy = NULL;
	size_t len;
	int rc;

	*out = NULL;
	config_init(&cfg);
	if ((rc = fs_read_private(path, CONFIG_FILE_MAX, &buf, &len, e)) != 0)
		goto out;
	if ((x.c = calloc(1, sizeof *x.c)) == NULL ||
	    (x.c->path = strdup(path)) == NULL ||
	    (copy = strdup(path)) == NULL ||
	    (x.dir = strdup(dirname(copy))) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	x.c->log_level = LOG_LVL_INFO;
	x.c->manifest_warn = CONFIG_MANIFEST_WARN;
	x.c->limits = (struct config_limits){
		.max_body = 65536,
		.max_connections = 512,
		.max_per_ip = 64,
		.connection_timeout = 15,
		.connection_memory = 65536,
		.threads = 4,
	};
	if ((rc = cfgscan_read(&cfg, path, "server configuration", buf, len,
	    CONFIG_DEPTH, e)) != 0) {
		rc = MUSTER_ECONFIG;
		if (e != NULL)
			e->code = rc;
		goto out;
	}
	if ((rc = parse_root(&x, config_root_setting(&cfg))) != 0)
		goto out;
	*out = x.c;
	x.c = NULL;
out:
	if (rc == MUSTER_EDATA || rc == MUSTER_ENOINPUT || rc == MUSTER_EIO) {
		/* Whatever is wrong with the file, it is bad configuration. */
		if (e != NULL)
			e->code = MUSTER_ECONFIG;
		rc = MUSTER_ECONFIG;
	}
	config_destroy(&cfg);
	config_free(x.c);
	free(x.dir);
	free(copy);
	free(buf);
	return rc;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->org_key);
	free(c->root_dir);
	free(c->data_dir);
	if (c->store != NULL)	/* may hold a password */
		sodium_memzero(c->store, strlen(c->store));
	free(c->store);
	sodium_memzero(c, sizeof *c);
	free(c);
}

const char *
config_store(const struct config *c)
{
	return c->store != NULL ? c->store : c->data_dir;
}
