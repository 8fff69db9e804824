/*
 * server config: the file `muster-enroll init` writes parses; unknown
 * fields, wrong types, out-of-range values, missing fields and a file
 * others can read are refused naming FILE:LINE; paths are taken relative
 * to the file's directory; limits default.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../server/config.h"

#define HASH	"0b3104a69f6f511e3e6afc027db5b42c8a02ddb4542b0d5b28d894fdb094f07f"

static const char good[] =
"# written by muster-enroll init\n"
"listen = \"127.0.0.1\";\n"
"port = 8443;\n"
"tls_cert = \"server.crt\";\n"
"tls_key = \"/etc/muster/server.key\";\n"
"org_key = \"org.pub\";\n"
"data_dir = \"data\";\n"
"admin_token_hash = \"" HASH "\";\n"
"log = \"syslog\";\n"
"log_level = \"debug\";\n"
"limits = {\n"
"  max_body = 65536; max_connections = 512; max_per_ip = 64;\n"
"  connection_timeout = 15; connection_memory = 32768; threads = 4;\n"
"};\n";

static char dir[UNIT_TMPDIR_MAX];

static int
setup(void **state)
{
	(void)state;
	return unit_tmpdir(dir, "cfg");
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rmtree(dir);
}

/* Writes text to dir/name with mode; returns the path (static). */
static const char *
put(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* good with the line starting with `field` replaced by repl. */
static const char *
variant(const char *field, const char *repl)
{
	static char buf[2048];
	const char *p = strstr(good, field), *end;

	assert_non_null(p);
	end = strchr(p, '\n');
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - good), good, repl,
	    end);
	return buf;
}

static void
parses_init_output(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char want[160];

	(void)state;
	assert_int_equal(config_load(put("s.cfg", good, 0600), &c, &e), 0);
	/* No admin_listen: the admin listener on loopback, the next port. */
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[0].text, "127.0.0.1:8443");
	assert_int_equal(c->listen[0].line, 2);
	assert_int_equal(c->listen[0].admin, 0);
	assert_string_equal(c->listen[1].text, "127.0.0.1:8444");
	assert_int_equal(c->listen[1].admin, 1);
	assert_int_equal(c->listen[1].line, 3);	/* where port is */
	assert_int_equal(c->admin_separate, 1);
	assert_int_equal(c->admin_default, 1);
	assert_int_equal(c->admin_shared, 0);
	assert_int_equal(c->port, 8443);
	assert_int_equal(c->tls_key_line, 5);
	snprintf(want, sizeof want, "%s/server.crt", dir);
	assert_string_equal(c->tls_cert, want);
	assert_string_equal(c->tls_key, "/etc/muster/server.key");
	snprintf(want, sizeof want, "%s/data", dir);
	assert_string_equal(c->data_dir, want);
	assert_int_equal(c->admin_hash[0], 0x0b);
	assert_int_equal(c->admin_hash[31], 0x7f);
	assert_int_equal(c->log_syslog, 1);
	assert_int_equal(c->log_level, LOG_LVL_DEBUG);
	assert_int_equal(c->limits.threads, 4);
	assert_int_equal(c->limits.max_body, 65536);
	config_free(c);
	config_free(NULL);
}

static void
defaults(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char text[1024];

	(void)state;
	snprintf(text, sizeof text, "listen = \"::1\"; port = 1; "
	    "tls_cert = \"c\"; tls_key = \"k\"; org_key = \"o\"; "
	    "data_dir = \"d\"; admin_token_hash = \"%s\";\n"
	    "limits = { threads = 2; };\n", HASH);
	assert_int_equal(config_load(put("d.cfg", text, 0600), &c, &e), 0);
	assert_int_equal(c->log_syslog, 0);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	assert_int_equal(c->limits.threads, 2);
	assert_int_equal(c->limits.max_connections, 512);
	assert_int_equal(c->limits.max_per_ip, 64);
	assert_int_equal(c->limits.connection_timeout, 15);
	config_free(c);
}

/* Every limits field lands in its own member, whole (the field table). */
static void
every_limit(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char text[2048];

	(void)state;
	snprintf(text, sizeof text, "listen = \"::1\"; port = 1; "
	    "tls_cert = \"c\"; tls_key = \"k\"; org_key = \"o\"; "
	    "data_dir = \"d\"; admin_token_hash = \"%s\";\n"
	    "limits = { max_body = 16777216; max_connections = 65535; "
	    "max_per_ip = 3; connection_timeout = 3599; "
	    "connection_memory = 8193; threads = 255; device_rate = 3599999; "
	    "device_burst = 99999; device_quota = 1099511627776L; "
	    "request_timeout = 599; max_half_open = 65534; "
	    "max_half_open_per_ip = 7; max_half_open_per_net = 65533; };\n",
	    HASH);
	assert_int_equal(config_load(put("l.cfg", text, 0600), &c, &e), 0);
	assert_int_equal(c->limits.max_body, 16777216);
	assert_int_equal(c->limits.max_connections, 65535);
	assert_int_equal(c->limits.max_per_ip, 3);
	assert_int_equal(c->limits.connection_timeout, 3599);
	assert_int_equal(c->limits.connection_memory, 8193);
	assert_int_equal(c->limits.threads, 255);
	assert_int_equal(c->limits.device_rate, 3599999);
	assert_int_equal(c->limits.device_burst, 99999);
	assert_true(c->limits.device_quota == (size_t)1 << 40);
	assert_int_equal(c->limits.request_timeout, 599);
	assert_int_equal(c->limits.max_half_open, 65534);
	assert_int_equal(c->limits.max_half_open_per_ip, 7);
	assert_int_equal(c->limits.max_half_open_per_net, 65533);
	config_free(c);
}

/* config_addr_parse fills the socket address itself, not only its text. */
static void
addr_bytes(void **state)
{
	struct config_listen l;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&l.addr;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&l.addr;
	struct in6_addr want6;
	struct in_addr want4;

	(void)state;
	memset(&l, 0xa5, sizeof l);
	assert_int_equal(config_addr_parse("[2001:db8::7]:8443", 1, &l), 0);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", &want6), 1);
	assert_int_equal(l.addrlen, sizeof *s6);
	assert_int_equal(s6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(s6->sin6_port), 8443);
	assert_memory_equal(&s6->sin6_addr, &want6, sizeof want6);
	assert_int_equal(s6->sin6_flowinfo, 0);
	assert_int_equal(s6->sin6_scope_id, 0);
	memset(&l, 0xa5, sizeof l);
	assert_int_equal(config_addr_parse("192.0.2.9", 443, &l), 0);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.9", &want4), 1);
	assert_int_equal(l.addrlen, sizeof *s4);
	assert_int_equal(s4->sin_family, AF_INET);
	assert_int_equal(ntohs(s4->sin_port), 443);
	assert_memory_equal(&s4->sin_addr, &want4, sizeof want4);
	assert_string_equal(l.text, "192.0.2.9:443");
}

/* Loading text fails with MUSTER_ECONFIG and a message matching want. */
static void
refused(const char *text, mode_t mode, const char *want)
{
	struct config *c = NULL;
	struct muster_err e;

	memset(&e, 0, sizeof e);
	assert_int_equal(config_load(put("bad.cfg", text, mode), &c, &e),
	    MUSTER_ECONFIG);
	assert_null(c);
	if (strstr(e.msg, want) == NULL)
		fail_msg("\"%s\" does not say \"%s\"", e.msg, want);
}

static void
refusals(void **state)
{
	char text[2048];

	(void)state;
	refused(good, 0644, "chmod 0600");
	/* Group-readable: only by the server's user's group (below). */
	refused(good, 0660, "lets others in");
	refused(good, 0604, "lets others in");
	refused(variant("log_level", "log_levle = \"info\";"), 0600,
	    "bad.cfg:10: unknown field \"log_levle\"");
	refused(variant("threads", "  threads = 4; spare = 1;"), 0600,
	    "bad.cfg:13: limits: unknown field \"spare\"");
	refused(variant("port", "port = \"8443\";"), 0600,
	    "bad.cfg:3: \"port\" must be an integer");
	refused(variant("port", "port = 70000;"), 0600,
	    "bad.cfg:3: \"port\" = 70000 is out of range");
	refused(variant("listen", "listen = \"localhost\";"), 0600,
	    "bad.cfg:2: listen: \"localhost\" is not an IPv4 or IPv6");
	refused(variant("admin_token_hash", "admin_token_hash = \"abc\";"),
	    0600, "bad.cfg:8: admin_token_hash must be 64 lowercase hex");
	refused(variant("log =", "log = \"file\";"), 0600,
	    "bad.cfg:9: log must be");
	refused(variant("data_dir", ""), 0600,
	    "missing field \"data_dir\"");
	snprintf(text, sizeof text, "%.*slimits = 3;\n",
	    (int)(strstr(good, "limits") - good), good);
	refused(text, 0600, "bad.cfg:11: \"limits\" must be a group");
	refused(variant("data_dir", "@include \"/etc/passwd\""), 0600,
	    "bad.cfg:7:");
	refused(variant("port", "port = = 8443;"), 0600, "bad.cfg:3:");
}

/* root_dir instead of org_key (init's), manifest_warn's durations. */
static void
roots(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char want[160];

	(void)state;
	assert_int_equal(config_load(put("r.cfg", variant("org_key",
	    "root_dir = \"root\"; manifest_warn = \"36h\";"), 0600), &c, &e),
	    0);
	snprintf(want, sizeof want, "%s/root", dir);
	assert_string_equal(c->root_dir, want);
	assert_null(c->org_key);
	assert_int_equal(c->manifest_warn, 36 * 3600);
	config_free(c);
	assert_int_equal(config_load(put("r.cfg", good, 0600), &c, &e), 0);
	assert_null(c->root_dir);
	assert_int_equal(c->manifest_warn, CONFIG_MANIFEST_WARN);
	config_free(c);
	/* Both: the roots name every key, org_key is not kept. */
	assert_int_equal(config_load(put("r.cfg", variant("org_key",
	    "org_key = \"o\"; root_dir = \"root\";"), 0600), &c, &e), 0);
	assert_null(c->org_key);
	assert_non_null(c->root_dir);
	config_free(c);
	refused(variant("org_key", ""), 0600,
	    "missing field \"org_key\" (or \"root_dir\")");
	refused(variant("org_key", "org_key = \"o\"; manifest_warn = "
	    "\"2w\";"), 0600, "\"manifest_warn\" must be a duration");
	refused(variant("org_key", "org_key = \"o\"; manifest_warn = "
	    "\"366d\";"), 0600, "at most 365 days");
	refused(variant("org_key", "org_key = \"o\"; manifest_warn = 2;"),
	    0600, "\"manifest_warn\" must be a string");
}

/* listen lists, IPv6 forms, admin_listen; what a reload cannot change. */
static void
listeners(void **state)
{
	struct config *c = NULL, *d = NULL;
	struct muster_err e;
	struct config_listen l;

	(void)state;
	assert_int_equal(config_load(put("l.cfg", variant("listen",
	    "listen = [\"0.0.0.0\", \"::\", \"[::1]:9443\", "
	    "\"127.0.0.2:8080\"];\nadmin_listen = \"127.0.0.1:9444\";"
	    "\nuser = \"nobody\"; access_log = \"log\";"), 0600), &c, &e), 0);
	assert_int_equal(c->nlisten, 5);
	assert_string_equal(c->listen[0].text, "0.0.0.0:8443");
	assert_int_equal(c->listen[1].addr.ss_family, AF_INET6);
	assert_string_equal(c->listen[1].text, "[::]:8443");
	assert_string_equal(c->listen[2].text, "[::1]:9443");
	assert_string_equal(c->listen[3].text, "127.0.0.2:8080");
	assert_int_equal(c->listen[4].admin, 1);
	assert_string_equal(c->listen[4].text, "127.0.0.1:9444");
	assert_int_equal(c->listen[4].line, 3);
	assert_int_equal(c->admin_separate, 1);
	assert_string_equal(c->user, "nobody");
	assert_string_equal(c->access_log, "log");
	assert_null(config_fixed_differs(c, c));
	assert_int_equal(config_load(put("l2.cfg", good, 0600), &d, &e), 0);
	assert_string_equal(config_fixed_differs(c, d), "listen");
	config_free(d);
	d = NULL;
	assert_int_equal(config_load(put("l2.cfg", variant("listen",
	    "listen = [\"0.0.0.0\", \"::\", \"[::1]:9443\", "
	    "\"127.0.0.2:8080\"];\nadmin_listen = \"127.0.0.1:9444\";"
	    "\nuser = \"other\"; access_log = \"log\";"), 0600), &d, &e), 0);
	assert_string_equal(config_fixed_differs(c, d), "user");
	config_free(d);
	config_free(c);

	/* The address forms, and what is refused. */
	assert_int_equal(config_addr_parse("::1", 1, &l), 0);
	assert_string_equal(l.text, "[::1]:1");
	assert_int_equal(config_addr_parse("[2001:db8::7]", 443, &l), 0);
	assert_string_equal(l.text, "[2001:db8::7]:443");
	assert_int_equal(config_addr_parse("10.1.2.3:65535", 1, &l), 0);
	assert_string_equal(l.text, "10.1.2.3:65535");
	assert_int_equal(config_addr_parse("10.1.2.3:0", 1, &l), -1);
	assert_int_equal(config_addr_parse("10.1.2.3:65536", 1, &l), -1);
	assert_int_equal(config_addr_parse("10.1.2.3:", 1, &l), -1);
	assert_int_equal(config_addr_parse("10.1.2.3:+1", 1, &l), -1);
	assert_int_equal(config_addr_parse("[::1]8443", 1, &l), -1);
	assert_int_equal(config_addr_parse("[::1", 1, &l), -1);
	assert_int_equal(config_addr_parse("[10.0.0.1]:1", 1, &l), -1);
	assert_int_equal(config_addr_parse("host:80", 1, &l), -1);
	assert_int_equal(config_addr_parse("", 1, &l), -1);
	assert_int_equal(config_addr_parse("[]:1", 1, &l), -1);
	{
		char big[200];

		memset(big, '1', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		assert_int_equal(config_addr_parse(big, 1, &l), -1);
	}

	refused(variant("listen", "listen = [];"), 0600,
	    "bad.cfg:2: listen: an empty list");
	refused(variant("listen", "listen = (\"127.0.0.1\", 3);"), 0600,
	    "bad.cfg:2: listen must be an address string");
	refused(variant("listen", "listen = [\"127.0.0.1\", "
	    "\"127.0.0.1:8443\"];"), 0600,
	    "bad.cfg:2: listen: 127.0.0.1:8443 is named twice");
	refused(variant("listen", "listen = \"127.0.0.1\";\n"
	    "admin_listen = \"[::1\";"), 0600,
	    "bad.cfg:3: admin_listen: \"[::1\" is not an IPv4 or IPv6");
	refused(variant("listen", "listen = \"127.0.0.1\"; user = \"a b\";"),
	    0600, "bad.cfg:2: user: \"a b\" is not a user name");
	refused(variant("threads", "  threads = 4; request_timeout = 0;"),
	    0600, "bad.cfg:13: \"request_timeout\" = 0 is out of range");
	refused(variant("log =", "log = \"logfile\";"), 0600,
	    "bad.cfg:9: log must be \"stderr\", \"syslog\" or a file's path");
}

/* The slow-client limits' defaults, and the file log. */
static void
slow_limits(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char want[160];

	(void)state;
	assert_int_equal(config_load(put("s.cfg", variant("log =",
	    "log = \"./server.log\";"), 0600), &c, &e), 0);
	assert_int_equal(c->limits.request_timeout, 10);
	assert_int_equal(c->limits.max_half_open, 256);
	assert_int_equal(c->limits.max_half_open_per_ip, 16);
	assert_int_equal(c->limits.max_half_open_per_net, 64);
	snprintf(want, sizeof want, "%s/./server.log", dir);
	assert_string_equal(c->log_file, want);
	assert_int_equal(c->log_syslog, 0);
	config_free(c);
	assert_int_equal(config_load(put("s.cfg", variant("threads",
	    "  threads = 4; request_timeout = 3; max_half_open = 9;\n"
	    "  max_half_open_per_ip = 2; max_half_open_per_net = 5;"), 0600),
	    &c, &e), 0);
	assert_int_equal(c->limits.request_timeout, 3);
	assert_int_equal(c->limits.max_half_open, 9);
	assert_int_equal(c->limits.max_half_open_per_ip, 2);
	assert_int_equal(c->limits.max_half_open_per_net, 5);
	config_free(c);
}

/*
 * 0640: accepted when its group is the server's user's (here the running
 * user's, not root: the file names no user), refused for another group.
 */
static void
group_readable(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	const char *p;

	(void)state;
	if (geteuid() == 0) {
		/* Root: the user setting names whose group may read. */
		p = put("g.cfg", variant("log =", "log = \"stderr\"; "
		    "user = \"nobody\";"), 0640);
		assert_int_equal(chown(p, 0, 0), 0);
		refused(variant("log =", "log = \"stderr\"; user = "
		    "\"nobody\";"), 0640, "not the group of the server's user "
		    "nobody");
		return;
	}
	p = put("g.cfg", good, 0640);
	assert_int_equal(config_load(p, &c, &e), 0);
	config_free(c);
}

/* The example the packages install parses, with the defaults it shows. */
static void
example(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char *text;
	FILE *f;
	long n;

	(void)state;
	assert_non_null(f = fopen("examples/server.cfg", "r"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_non_null(text = calloc(1, (size_t)n + 1));
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	assert_int_equal(config_load(put("ex.cfg", text, 0600), &c, &e), 0);
	free(text);
	assert_int_equal(c->nlisten, 2);
	assert_int_equal(c->listen[1].admin, 1);
	assert_string_equal(c->listen[1].text, "127.0.0.1:8444");
	assert_int_equal(c->admin_default, 0);
	assert_int_equal(c->admin_separate, 1);
	assert_int_equal(c->limits.request_timeout, 10);
	assert_int_equal(c->limits.max_half_open, 256);
	assert_int_equal(c->limits.max_half_open_per_ip, 16);
	assert_int_equal(c->limits.max_half_open_per_net, 64);
	config_free(c);
}

/*
 * Where the admin routes go: admin_listen as written; without it the
 * default loopback listener on the next port, with a warning naming
 * it; "device" only when spelled alone, with its own warning; a device
 * listener on the default's address refused, naming its line.
 */
/* connection_memory over what libmicrohttpd mallocs: said, not refused. */
static void
memory_warning(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char w[ERR_MSG_MAX];

	(void)state;
	assert_int_equal(config_load(put("m.cfg", good, 0600), &c, &e), 0);
	assert_int_equal(c->limits.connection_memory, CONFIG_POOL_MALLOC_MAX);
	assert_int_equal(config_memory_warning(c, w, sizeof w), 0);
	assert_string_equal(w, "");
	config_free(c);
	c = NULL;
	/* What `muster-enroll init` wrote before: it still loads. */
	assert_int_equal(config_load(put("m.cfg", variant("connection_timeout",
	    "  connection_timeout = 15; connection_memory = 65536; "
	    "threads = 4;"), 0600), &c, &e), 0);
	assert_int_equal(c->limits.connection_memory, 65536);
	assert_int_equal(config_memory_warning(c, w, sizeof w), 1);
	assert_non_null(strstr(w, "m.cfg: connection_memory = 65536: over "
	    "32768 bytes"));
	config_free(c);
}

static void
admin_listener(void **state)
{
	struct config *c = NULL, *d = NULL;
	struct muster_err e;
	char w[ERR_MSG_MAX];

	(void)state;
	assert_int_equal(config_load(put("a.cfg", good, 0600), &c, &e), 0);
	assert_int_equal(config_admin_warning(c, w, sizeof w), 1);
	assert_non_null(strstr(w, "a.cfg: no admin_listen"));
	assert_non_null(strstr(w, "on 127.0.0.1:8444 only"));
	/* A reload of the same file changes no listener. */
	assert_int_equal(config_load(put("a.cfg", good, 0600), &d, &e), 0);
	assert_null(config_fixed_differs(c, d));
	config_free(d);
	d = NULL;

	/* Written: no warning, and no default listener beside it. */
	assert_int_equal(config_load(put("b.cfg", variant("listen",
	    "listen = \"0.0.0.0\"; admin_listen = [\"127.0.0.1:9000\", "
	    "\"[::1]:9000\"];"), 0600), &d, &e), 0);
	assert_int_equal(d->nlisten, 3);
	assert_int_equal(d->admin_default, 0);
	assert_int_equal(d->admin_separate, 1);
	assert_string_equal(d->listen[2].text, "[::1]:9000");
	assert_int_equal(config_admin_warning(d, w, sizeof w), 0);
	assert_string_equal(w, "");
	assert_string_equal(config_fixed_differs(c, d), "listen");
	config_free(d);
	d = NULL;

	/* The deliberate opt-in to the first wave's one listener. */
	assert_int_equal(config_load(put("s.cfg", variant("listen",
	    "listen = \"127.0.0.1\"; admin_listen = \"device\";"), 0600),
	    &d, &e), 0);
	assert_int_equal(d->nlisten, 1);
	assert_int_equal(d->admin_separate, 0);
	assert_int_equal(d->admin_shared, 1);
	assert_int_equal(config_admin_warning(d, w, sizeof w), 1);
	assert_non_null(strstr(w, "s.cfg: admin_listen = \"device\": the "
	    "admin routes, /metrics and the console are served on the "
	    "device listeners"));
	assert_string_equal(config_fixed_differs(c, d), "listen");
	config_free(d);
	d = NULL;
	config_free(c);

	refused(variant("listen", "listen = \"127.0.0.1\"; admin_listen = "
	    "[\"device\"];"), 0600,
	    "bad.cfg:2: admin_listen: \"device\" must stand alone");
	refused(variant("listen", "listen = \"127.0.0.1\"; admin_listen = "
	    "[\"127.0.0.1:9000\", \"device\"];"), 0600,
	    "bad.cfg:2: admin_listen: \"device\" must stand alone");
	refused(variant("listen", "listen = \"127.0.0.1\"; admin_listen = "
	    "\"Device\";"), 0600,
	    "bad.cfg:2: admin_listen: \"Device\" is not an IPv4 or IPv6");
	/* The default's place already taken by a device listener. */
	refused(variant("listen", "listen = [\"10.0.0.1\", "
	    "\"0.0.0.0:8444\"];"), 0600,
	    "bad.cfg:2: listen: 0.0.0.0:8444 takes 127.0.0.1:8444, where the "
	    "admin listener goes when admin_listen is not set");
	refused(variant("listen", "listen = \"127.0.0.1:8444\";"), 0600,
	    "bad.cfg:2: listen: 127.0.0.1:8444 takes 127.0.0.1:8444");
	/* Port 65535: the default goes below it. */
	assert_int_equal(config_load(put("p.cfg", variant("port",
	    "port = 65535;"), 0600), &c, &e), 0);
	assert_string_equal(c->listen[1].text, "127.0.0.1:65534");
	config_free(c);
	assert_int_equal(config_admin_port(8443), 8444);
	assert_int_equal(config_admin_port(65535), 65534);
}

static void
missing(void **state)
{
	struct config *c = NULL;
	struct muster_err e;
	char path[128];

	(void)state;
	snprintf(path, sizeof path, "%s/none.cfg", dir);
	assert_int_equal(config_load(path, &c, &e), MUSTER_ECONFIG);
	assert_non_null(strstr(e.msg, "none.cfg"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_init_output),
		cmocka_unit_test(defaults),
		cmocka_unit_test(refusals),
		cmocka_unit_test(roots),
		cmocka_unit_test(missing),
		cmocka_unit_test(listeners),
		cmocka_unit_test(admin_listener),
		cmocka_unit_test(memory_warning),
		cmocka_unit_test(slow_limits),
		cmocka_unit_test(group_readable),
		cmocka_unit_test(example),
		cmocka_unit_test(every_limit),
		cmocka_unit_test(addr_bytes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
