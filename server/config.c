/* config: the server's configuration file; see config.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	const config_setting_t	*listen;	/* resolved once port is read */
	const config_setting_t	*admin_listen;
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

/* get_path, and the line it was set on into *line. */
static int
get_path_line(struct cctx *x, const config_setting_t *s, char **out,
    int *line)
{
	*line = cfgread_line1(s);
	return get_path(x, s, out);
}

/*
 * The fields of limits: each an integer from lo to hi, stored at off in
 * struct config_limits, a size_t (size set) or an unsigned.
 */
#define LIMIT(f, lo, hi) { #f, (lo), (hi), \
	offsetof(struct config_limits, f), \
	sizeof ((struct config_limits *)0)->f == sizeof (size_t) }
static const struct limit_field {
	const char	*name;
	long long	 lo, hi;
	size_t		 off;
	int		 size;
} limit_fields[] = {
	LIMIT(max_body, 1024, 16 << 20),
	LIMIT(max_connections, 1, 65536),
	LIMIT(max_per_ip, 0, 65536),
	LIMIT(connection_timeout, 1, 3600),
	LIMIT(connection_memory, 8192, 16 << 20),
	LIMIT(threads, 1, 256),
	LIMIT(device_rate, 0, 3600000),
	LIMIT(device_burst, 1, 100000),
	LIMIT(device_quota, 0, 1LL << 40),
	LIMIT(request_timeout, 1, 600),
	LIMIT(handshake_timeout, 1, 600),
	LIMIT(max_half_open, 1, 65536),
	LIMIT(max_half_open_per_ip, 1, 65536),
	LIMIT(max_half_open_per_net, 1, 65536),
};
#undef LIMIT

static int
parse_limits(struct cctx *x, const config_setting_t *g)
{
	char *l = (char *)&x->c->limits;
	const struct limit_field *f;
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
		for (f = limit_fields; f < limit_fields +
		    sizeof limit_fields / sizeof limit_fields[0] &&
		    strcmp(name, f->name) != 0; f++)
			;
		if (f == limit_fields + sizeof limit_fields /
		    sizeof limit_fields[0])
			return cerr(x, s, "limits: unknown field \"%s\"",
			    name);
		if ((rc = get_int(x, s, f->lo, f->hi, &v)) != 0)
			return rc;
		if (f->size)
			*(size_t *)(void *)(l + f->off) = (size_t)v;
		else
			*(unsigned *)(void *)(l + f->off) = (unsigned)v;
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

int
config_addr_parse(const char *text, unsigned port, struct config_listen *l)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&l->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l->addr;
	char host[CONFIG_ADDR_MAX];
	const char *p, *colon = NULL;
	size_t n = strlen(text);
	struct in6_addr a6;
	struct in_addr a4;
	unsigned long v;
	char *end;
	int v6;

	if (n == 0 || n >= sizeof host)
		return -1;
	if (text[0] == '[') {
		/* "[V6]" or "[V6]:PORT" */
		if ((p = strchr(text, ']')) == NULL)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(p - text - 1),
		    text + 1);
		if (p[1] == ':')
			colon = p + 1;
		else if (p[1] != '\0')
			return -1;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
	} else if ((p = strchr(text, ':')) != NULL && strchr(p + 1, ':') ==
	    NULL) {
		/* One colon: "V4:PORT". */
		snprintf(host, sizeof host, "%.*s", (int)(p - text), text);
		colon = p;
		if (inet_pton(AF_INET, host, &a4) != 1)
			return -1;
	} else {
		snprintf(host, sizeof host, "%s", text);
		if (inet_pton(AF_INET, host, &a4) != 1 &&
		    inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
	}
	if (colon != NULL) {
		if (colon[1] < '0' || colon[1] > '9')
			return -1;
		errno = 0;
		v = strtoul(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || v < 1 || v > 65535)
			return -1;
		port = (unsigned)v;
	}
	if (port < 1 || port > 65535)
		return -1;
	/* An IPv6 address has a colon, an IPv4 one none. */
	v6 = strchr(host, ':') != NULL;
	memset(&l->addr, 0, sizeof l->addr);
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = a6;
		sin6->sin6_port = htons((uint16_t)port);
		l->addrlen = sizeof *sin6;
	} else {
		sin->sin_family = AF_INET;
		sin->sin_addr = a4;
		sin->sin_port = htons((uint16_t)port);
		l->addrlen = sizeof *sin;
	}
	snprintf(l->text, sizeof l->text, v6 ? "[%s]:%u" : "%s:%u", host,
	    port);
	return 0;
}

/* One address of listen or admin_listen, appended to the list. */
static int
listen_one(struct cctx *x, const config_setting_t *s, int admin)
{
	struct config *c = x->c;
	struct config_listen *l;
	const char *what = admin ? "admin_listen" : "listen", *v;
	size_t i;

	if (cfgread_str(s, SIZE_MAX, &v) != 0)
		return cerr(x, s, "%s must be an address string or a list of "
		    "them", what);
	if (c->nlisten == CONFIG_LISTEN_MAX)
		return cerr(x, s, "%s: more than %d addresses in all", what,
		    CONFIG_LISTEN_MAX);
	l = &c->listen[c->nlisten];
	memset(l, 0, sizeof *l);
	if (config_addr_parse(v, c->port, l) != 0)
		return cerr(x, s, "%s: \"%.64s\" is not an IPv4 or IPv6 "
		    "address (ADDR, ADDR:PORT or [V6]:PORT)", what, v);
	l->admin = admin;
	l->line = cfgread_line1(s);
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].addrlen == l->addrlen &&
		    memcmp(&c->listen[i].addr, &l->addr, l->addrlen) == 0)
			return cerr(x, s, "%s: %s is named twice", what,
			    l->text);
	c->nlisten++;
	return 0;
}

static int
parse_listen(struct cctx *x, const config_setting_t *s, int admin)
{
	int i, n, rc;

	if (config_setting_type(s) != CONFIG_TYPE_LIST &&
	    config_setting_type(s) != CONFIG_TYPE_ARRAY)
		return listen_one(x, s, admin);
	if ((n = config_setting_length(s)) == 0)
		return cerr(x, s, "%s: an empty list", admin ? "admin_listen" :
		    "listen");
	for (i = 0; i < n; i++)
		if ((rc = listen_one(x, config_setting_get_elem(s,
		    (unsigned)i), admin)) != 0)
			return rc;
	return 0;
}

unsigned
config_admin_port(unsigned port)
{
	return port < 65535 ? port + 1 : port - 1;
}

/*
 * admin_listen: addresses; or "device", the deliberate opt-in to serve
 * the admin routes on the device listeners; or, when it is not in the
 * file, CONFIG_ADMIN_DEFAULT_ADDR on config_admin_port, refused (naming
 * the device address) when a device listener takes that address.
 */
static int
parse_admin_listen(struct cctx *x, const config_setting_t *root)
{
	struct config *c = x->c;
	struct config_listen *l, *d;
	const config_setting_t *s = x->admin_listen, *ps;
	const struct sockaddr_in *a, *b;
	const char *v;
	size_t i;
	int rc;

	if (s != NULL && cfgread_str(s, SIZE_MAX, &v) == 0 &&
	    strcmp(v, CONFIG_ADMIN_SHARED) == 0) {
		c->admin_shared = 1;
		return 0;
	}
	if (s != NULL) {
		for (i = 0; config_setting_type(s) != CONFIG_TYPE_STRING &&
		    i < (size_t)config_setting_length(s); i++)
			if (cfgread_str(config_setting_get_elem(s,
			    (unsigned)i), SIZE_MAX, &v) == 0 &&
			    strcmp(v, CONFIG_ADMIN_SHARED) == 0)
				return cerr(x, s, "admin_listen: \"%s\" must "
				    "stand alone, not in a list",
				    CONFIG_ADMIN_SHARED);
		if ((rc = parse_listen(x, s, 1)) != 0)
			return rc;
		c->admin_separate = 1;
		return 0;
	}
	if (c->nlisten == CONFIG_LISTEN_MAX)
		return cerr(x, x->listen, "listen: %d addresses leave no "
		    "room for the admin listener; set admin_listen",
		    CONFIG_LISTEN_MAX);
	l = &c->listen[c->nlisten];
	memset(l, 0, sizeof *l);
	if (config_addr_parse(CONFIG_ADMIN_DEFAULT_ADDR,
	    config_admin_port(c->port), l) != 0)
		return err_set(x->e, MUSTER_EINTERNAL, "the default admin "
		    "address does not parse");
	l->admin = 1;
	/* Its errors (a bind) point at `port`, which it derives from. */
	ps = config_setting_get_member(root, "port");
	l->line = ps != NULL ? cfgread_line1(ps) : 0;
	a = (const struct sockaddr_in *)&l->addr;
	for (i = 0; i < c->nlisten; i++) {
		d = &c->listen[i];
		b = (const struct sockaddr_in *)&d->addr;
		if (d->addr.ss_family == AF_INET && b->sin_port == a->sin_port &&
		    (b->sin_addr.s_addr == a->sin_addr.s_addr ||
		    b->sin_addr.s_addr == htonl(INADDR_ANY)))
			return err_set(x->e, MUSTER_ECONFIG, "%s:%d: listen: "
			    "%s takes %s, where the admin listener goes when "
			    "admin_listen is not set; set admin_listen",
			    x->path, d->line, d->text, l->text);
	}
	c->nlisten++;
	c->admin_separate = 1;
	c->admin_default = 1;
	return 0;
}

int
config_admin_warning(const struct config *c, char *buf, size_t len)
{
	size_t i;

	if (len > 0)
		buf[0] = '\0';
	if (c->admin_shared) {
		snprintf(buf, len, "%s: admin_listen = \"%s\": the admin "
		    "routes, /metrics and the console are served on the "
		    "device listeners, to whoever reaches them", c->path,
		    CONFIG_ADMIN_SHARED);
		return 1;
	}
	if (!c->admin_default)
		return 0;
	for (i = 0; i < c->nlisten && !c->listen[i].admin; i++)
		;
	snprintf(buf, len, "%s: no admin_listen: the admin routes, /metrics "
	    "and the console are on %s only (set admin_listen to say where)",
	    c->path, i < c->nlisten ? c->listen[i].text : "?");
	return 1;
}

int
config_memory_warning(const struct config *c, char *buf, size_t len)
{
	if (len > 0)
		buf[0] = '\0';
	if (c->limits.connection_memory <= CONFIG_POOL_MALLOC_MAX)
		return 0;
	snprintf(buf, len, "%s: connection_memory = %lld: over %d bytes, "
	    "libmicrohttpd maps and unmaps it for every connection, which "
	    "slows every check-in; %d is enough (the body has its own "
	    "buffer, max_body)", c->path,
	    (long long)c->limits.connection_memory, CONFIG_POOL_MALLOC_MAX,
	    CONFIG_POOL_MALLOC_MAX);
	return 1;
}

const char *
config_fixed_differs(const struct config *a, const struct config *b)
{
	size_t i;

	if (a->nlisten != b->nlisten || a->admin_separate != b->admin_separate ||
	    a->admin_shared != b->admin_shared)
		return "listen";
	for (i = 0; i < a->nlisten; i++)
		if (a->listen[i].admin != b->listen[i].admin ||
		    a->listen[i].addrlen != b->listen[i].addrlen ||
		    memcmp(&a->listen[i].addr, &b->listen[i].addr,
		    a->listen[i].addrlen) != 0)
			return a->listen[i].admin ? "admin_listen" : "listen";
	if ((a->user == NULL) != (b->user == NULL) ||
	    (a->user != NULL && strcmp(a->user, b->user) != 0))
		return "user";
	if (strcmp(a->data_dir, b->data_dir) != 0)
		return "data_dir";
	/* The writer holds the store it opened at start. */
	if (strcmp(config_store(a), config_store(b)) != 0)
		return "store";
	if ((a->access_log == NULL) != (b->access_log == NULL) ||
	    (a->access_log != NULL && strcmp(a->access_log,
	    b->access_log) != 0))
		return "access_log";
	if ((a->log_file == NULL) != (b->log_file == NULL) ||
	    a->log_syslog != b->log_syslog ||
	    (a->log_file != NULL && strcmp(a->log_file, b->log_file) != 0))
		return "log";
	return NULL;
}

/*
 * The path settings, each with the line it was set on: whether name is
 * one, and then its fields of c in *v and *line.
 */
static int
path_field(struct config *c, const char *name, char ***v, int **line)
{
	const struct {
		const char	*name;
		char		**v;
		int		*line;
	} f[] = {
		{ "tls_cert", &c->tls_cert, &c->tls_cert_line },
		{ "tls_key", &c->tls_key, &c->tls_key_line },
		{ "org_key", &c->org_key, &c->org_key_line },
		{ "root_dir", &c->root_dir, &c->root_dir_line },
		{ "data_dir", &c->data_dir, &c->data_dir_line },
	};
	size_t i;

	for (i = 0; i < sizeof f / sizeof f[0]; i++)
		if (strcmp(name, f[i].name) == 0) {
			*v = f[i].v;
			*line = f[i].line;
			return 1;
		}
	return 0;
}

static int
parse_root(struct cctx *x, const config_setting_t *root)
{
	struct config *c = x->c;
	config_setting_t *s;
	const char *name, *v;
	char **pv;
	long long n;
	size_t i;
	int rc, *pline;

	for (i = 0; i < (size_t)config_setting_length(root); i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		name = config_setting_name(s);
		if (name == NULL)
			return cerr(x, s, "unnamed value");
		if (strcmp(name, "listen") == 0)
			x->listen = s;
		else if (strcmp(name, "admin_listen") == 0)
			x->admin_listen = s;
		else if (strcmp(name, "user") == 0) {
			if ((rc = get_str(x, s, &v)) != 0)
				return rc;
			if (strlen(v) > 32 || strspn(v, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != strlen(v) ||
			    v[0] == '-')
				return cerr(x, s, "user: \"%.40s\" is not a user "
				    "name", v);
			free(c->user);
			if ((c->user = strdup(v)) == NULL)
				return err_set(x->e, MUSTER_EINTERNAL,
				    "out of memory");
		} else if (strcmp(name, "access_log") == 0) {
			if ((rc = get_str(x, s, &v)) != 0)
				return rc;
			if (strcmp(v, "off") == 0) {
				free(c->access_log);
				c->access_log = NULL;
			} else if (strcmp(v, "log") == 0) {
				free(c->access_log);
				if ((c->access_log = strdup(v)) == NULL)
					return err_set(x->e, MUSTER_EINTERNAL,
					    "out of memory");
			} else if ((rc = get_path(x, s, &c->access_log)) != 0)
				return rc;
		} else if (strcmp(name, "port") == 0) {
			if ((rc = get_int(x, s, 1, 65535, &n)) != 0)
				return rc;
			c->port = (unsigned)n;
		} else if (path_field(c, name, &pv, &pline))
			rc = get_path_line(x, s, pv, pline);
		else if (strcmp(name, "manifest_warn") == 0)
			rc = get_duration(x, s, CONFIG_MANIFEST_WARN_MAX,
			    &c->manifest_warn);
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
		} else if (strcmp(name, "report_retention") == 0) {
			if ((rc = get_duration(x, s, CONFIG_RETENTION_MAX,
			    &c->report_retention)) == 0 &&
			    c->report_retention == 0)
				return cerr(x, s, "report_retention must be "
				    "at least 1s");
		} else if (strcmp(name, "admin_token_hash") == 0) {
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
			free(c->log_file);
			c->log_file = NULL;
			c->log_syslog = 0;
			if (strcmp(v, "syslog") == 0)
				c->log_syslog = 1;
			else if (strcmp(v, "stderr") != 0 && strchr(v, '/') ==
			    NULL)
				return cerr(x, s, "log must be \"stderr\", "
				    "\"syslog\" or a file's path (with a /)");
			else if (strcmp(v, "stderr") != 0 &&
			    (rc = get_path(x, s, &c->log_file)) != 0)
				return rc;
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
	if ((rc = parse_listen(x, x->listen, 0)) != 0 ||
	    (rc = parse_admin_listen(x, root)) != 0)
		return rc;
	if (c->limits.max_half_open == 0)
		c->limits.max_half_open = c->limits.max_connections / 2 > 0 ?
		    c->limits.max_connections / 2 : 1;
	if (c->root_dir != NULL) {
		/* The roots name every key; org_key would be a second anchor. */
		free(c->org_key);
		c->org_key = NULL;
	}
	return 0;
}

const char *
config_user(const struct config *c)
{
	if (c->user != NULL)
		return c->user;
	/* Root without a user setting: muster if the system has it. */
	return geteuid() == 0 && getpwnam(CONFIG_DEFAULT_USER) != NULL ?
	    CONFIG_DEFAULT_USER : NULL;
}

int
config_service_group(const struct config *c, gid_t *gid)
{
	const char *user = config_user(c);
	struct passwd *pw;

	if (user == NULL) {
		*gid = getegid();
		return 0;
	}
	if ((pw = getpwnam(user)) == NULL)
		return -1;
	*gid = pw->pw_gid;
	return 0;
}

int
config_load(const char *path, struct config **out, struct muster_err *e)
{
	struct cctx x = { path, NULL, NULL, e, NULL, NULL };
	struct stat st;
	config_t cfg;
	char *buf = NULL, *copy = NULL;
	size_t len;
	gid_t gid, before = (gid_t)-1;
	int rc, grouped = 0;

	*out = NULL;
	config_init(&cfg);
	/*
	 * A file its group may read (root:muster 0640) is read, and kept
	 * only if that group is the one of the user the server runs as,
	 * which the file itself names.  The group is taken from the file
	 * before opening it and checked again on the descriptor.
	 */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)) == S_IRGRP) {
		grouped = 1;
		before = fs_private_group(st.st_gid);
	}
	rc = fs_read_private(path, CONFIG_FILE_MAX, &buf, &len, e);
	if (grouped)
		fs_private_group(before);
	if (rc != 0)
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
		.connection_memory = 32768,
		.threads = 4,
		.device_rate = 60,
		.device_burst = 1000,
		.device_quota = 16 << 20,
		.request_timeout = 10,
		.handshake_timeout = 5,
		.max_half_open_per_ip = 16,
		.max_half_open_per_net = 64,
	};
	x.c->report_retention = CONFIG_RETENTION;
	if ((rc = cfgscan_read(&cfg, path, "server configuration", buf, len,
	    CONFIG_DEPTH, e)) != 0) {
		rc = MUSTER_ECONFIG;
		if (e != NULL)
			e->code = rc;
		goto out;
	}
	if ((rc = parse_root(&x, config_root_setting(&cfg))) != 0)
		goto out;
	if (grouped && (config_service_group(x.c, &gid) != 0 ||
	    gid != st.st_gid)) {
		rc = err_set(e, MUSTER_ECONFIG, "%s: mode 0640 lets group %u "
		    "in, which is not the group of the server's user %s; chgrp "
		    "or chmod 0600 it", path, (unsigned)st.st_gid,
		    config_user(x.c) != NULL ? config_user(x.c) : "(this one)");
		goto out;
	}
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
	free(c->user);
	free(c->access_log);
	free(c->log_file);
	sodium_memzero(c, sizeof *c);
	free(c);
}

const char *
config_store(const struct config *c)
{
	return c->store != NULL ? c->store : c->data_dir;
}
