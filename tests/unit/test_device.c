/*
 * Unit tests for agent/device: the sim backend against the example devices
 * and every kind of broken file, and the android backend against the fake
 * commands in tests/android-bin (copied to a temporary directory with
 * their own state), including commands that hang, fail, print junk or
 * never stop printing.  Run from the top of the tree.
 */
#include "unit.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "muster/err.h"
#include "../../agent/device/device.h"

#define EXAMPLES	"examples/devices"
#define FAKES		"tests/android-bin"
#define SIM_LIMIT	(1024 * 1024)
#define SHORT_MS	300

/* One temporary directory per test, removed by teardown. */
static char tmpdir[UNIT_TMPDIR_MAX];

static int
setup_tmp(void **state)
{
	(void)state;
	return unit_tmpdir(tmpdir, "device");
}

static void
assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static int
count_fds(void)
{
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static int
teardown_tmp(void **state)
{
	(void)state;
	if (tmpdir[0] != '\0')
		unit_rmtree(tmpdir);
	tmpdir[0] = '\0';
	/* Whatever a test did, no child of ours may be left behind. */
	return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD ? 0 : -1;
}

static void
write_all(const char *path, const char *buf, size_t len, mode_t mode)
{
	int fd;

	/* A fresh file: ext4 flushes a truncated one on close, slowly. */
	if (unlink(path) == -1 && errno != ENOENT)
		fail_msg("%s: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
write_str(const char *path, const char *s)
{
	write_all(path, s, strlen(s), 0644);
}

/* Copies examples/devices/name to tmpdir/name; returns the spec. */
static void
copy_example(const char *name, mode_t mode, char *spec, size_t size,
    char *path, size_t psize)
{
	char src[256];
	char *buf;
	size_t len;

	snprintf(src, sizeof src, EXAMPLES "/%s", name);
	buf = unit_slurp(src, &len);
	snprintf(path, psize, "%s/%s", tmpdir, name);
	write_all(path, buf, len, mode);
	free(buf);
	snprintf(spec, size, "sim:%s", path);
}

static struct device *
open_ok(const char *spec)
{
	struct muster_err e = { 0, "" };
	struct device *d = NULL;
	int rc;

	rc = device_open(spec, &d, &e);
	if (rc != 0)
		fail_msg("device_open(%s): %d: %s", spec, rc, e.msg);
	assert_non_null(d);
	return d;
}

static void
get_ok(struct device *d, const char *ns, const char *key, const char *want)
{
	struct muster_err e = { 0, "" };
	char val[DEVICE_VALUE_MAX];
	int isset = -1, rc;

	rc = device_setting_get(d, ns, key, val, &isset, &e);
	if (rc != 0)
		fail_msg("get %s/%s: %d: %s", ns, key, rc, e.msg);
	if (want == NULL) {
		assert_int_equal(isset, 0);
		assert_string_equal(val, "");
	} else {
		assert_int_equal(isset, 1);
		assert_string_equal(val, want);
	}
}

static void
put_ok(struct device *d, const char *ns, const char *key, const char *val)
{
	struct muster_err e = { 0, "" };
	int rc;

	rc = device_setting_put(d, ns, key, val, &e);
	if (rc != 0)
		fail_msg("put %s/%s: %d: %s", ns, key, rc, e.msg);
}

static void
pkg_is(struct device *d, const char *pkg, enum device_pkg_state want)
{
	struct muster_err e = { 0, "" };
	enum device_pkg_state st = (enum device_pkg_state)-1;
	int rc;

	rc = device_package(d, pkg, &st, &e);
	if (rc != 0)
		fail_msg("package %s: %d: %s", pkg, rc, e.msg);
	assert_int_equal(st, want);
}

static void
disable_ok(struct device *d, const char *pkg)
{
	struct muster_err e = { 0, "" };
	int rc;

	rc = device_package_disable(d, pkg, &e);
	if (rc != 0)
		fail_msg("disable %s: %d: %s", pkg, rc, e.msg);
}

static void
facts_are(struct device *d, const char *man, const char *model,
    const char *build, const char *os)
{
	struct muster_err e = { 0, "" };
	struct device_facts f;
	int rc;

	rc = device_facts(d, &f, &e);
	if (rc != 0)
		fail_msg("facts: %d: %s", rc, e.msg);
	assert_string_equal(f.manufacturer, man);
	assert_string_equal(f.model, model);
	assert_string_equal(f.build, build);
	assert_string_equal(f.os_version, os);
}

static void
want_in(const char *msg, const char *w)
{
	if (w != NULL && strstr(msg, w) == NULL)
		fail_msg("want \"%s\" in \"%s\"", w, msg);
}

/* ---- sim ---- */

static void
sim_redmi_1s(void **state)
{
	struct device *d;

	(void)state;
	d = open_ok("sim:" EXAMPLES "/redmi-1s.cfg");
	assert_string_equal(device_name(d), "sim:" EXAMPLES "/redmi-1s.cfg");
	facts_are(d, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	get_ok(d, "secure", "mi_cloud_sync_enabled", "1");
	get_ok(d, "secure", "mi_cloud_messaging_enabled", "1");
	get_ok(d, "secure", "mi_cloud_backup_enabled", "1");
	get_ok(d, "system", "screen_off_timeout", "60000");
	get_ok(d, "global", "auto_time", "1");
	get_ok(d, "global", "mi_cloud_sync_enabled", NULL);
	get_ok(d, "secure", "no_such_key", NULL);
	get_ok(d, "secure", "key.with.dots", NULL);
	pkg_is(d, "com.miui.cloudservice", PKG_ENABLED);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	pkg_is(d, "com.example.absent", PKG_ABSENT);
	device_close(d);
}

static void
sim_redmi_1s_fixed(void **state)
{
	struct device *d;

	(void)state;
	d = open_ok("sim:" EXAMPLES "/redmi-1s-fixed.cfg");
	facts_are(d, "Xiaomi", "HM 1SW", "KHHMIBH45.0", "4.4.4");
	get_ok(d, "secure", "mi_cloud_sync_enabled", "0");
	get_ok(d, "secure", "mi_cloud_messaging_enabled", "0");
	get_ok(d, "secure", "mi_cloud_backup_enabled", "0");
	pkg_is(d, "com.miui.cloudservice", PKG_DISABLED);
	pkg_is(d, "com.xiaomi.xmsf", PKG_DISABLED);
	device_close(d);
}

static void
sim_cloud_sync_on(void **state)
{
	struct device *d;

	(void)state;
	d = open_ok("sim:" EXAMPLES "/cloud-sync-on.cfg");
	facts_are(d, "Motorola", "XT1068", "KXB21.14-L1.40", "4.4.4");
	get_ok(d, "secure", "mi_cloud_sync_enabled", "1");
	get_ok(d, "secure", "mi_cloud_messaging_enabled", "1");
	get_ok(d, "secure", "mi_cloud_backup_enabled", "0");
	pkg_is(d, "com.miui.cloudservice", PKG_ABSENT);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ABSENT);
	device_close(d);
}

static void
sim_clean(void **state)
{
	struct device *d;

	(void)state;
	d = open_ok("sim:" EXAMPLES "/clean.cfg");
	facts_are(d, "LGE", "Nexus 5", "LRX21O", "5.0");
	get_ok(d, "secure", "mi_cloud_sync_enabled", "0");
	get_ok(d, "secure", "mi_cloud_messaging_enabled", "0");
	get_ok(d, "secure", "mi_cloud_backup_enabled", "0");
	pkg_is(d, "com.miui.cloudservice", PKG_ABSENT);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ABSENT);
	device_close(d);
}

/* Put, reopen, mode kept, and putting the old value back is the original. */
static void
sim_put_round_trip(void **state)
{
	char spec[512], path[512];
	struct device *d, *d2;
	struct stat st;
	char *orig, *now;
	size_t olen, nlen;

	(void)state;
	copy_example("redmi-1s.cfg", 0640, spec, sizeof spec, path,
	    sizeof path);
	orig = unit_slurp(path, &olen);
	d = open_ok(spec);
	put_ok(d, "secure", "mi_cloud_sync_enabled", "0");
	get_ok(d, "secure", "mi_cloud_sync_enabled", "0");
	d2 = open_ok(spec);
	get_ok(d2, "secure", "mi_cloud_sync_enabled", "0");
	get_ok(d2, "secure", "mi_cloud_messaging_enabled", "1");
	facts_are(d2, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	device_close(d2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	now = unit_slurp(path, &nlen);
	assert_non_null(strstr(now, "mi_cloud_sync_enabled = \"0\";"));
	/* The leading comment block survives. */
	assert_int_equal(strncmp(now, orig, 40), 0);
	free(now);

	put_ok(d, "secure", "mi_cloud_sync_enabled", "1");
	now = unit_slurp(path, &nlen);
	assert_int_equal(nlen, olen);
	assert_memory_equal(now, orig, olen);
	free(now);

	/* A new key goes at the end of its namespace; odd values survive. */
	put_ok(d, "global", "new-key_2", "a \"quoted\" \\ value ü");
	put_ok(d, "system", "empty", "");
	device_close(d);
	d = open_ok(spec);
	get_ok(d, "global", "new-key_2", "a \"quoted\" \\ value ü");
	get_ok(d, "global", "auto_time", "1");
	get_ok(d, "system", "empty", "");
	device_close(d);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	free(orig);
}

/* Every example is in the writer's own layout. */
static void
sim_examples_canonical(void **state)
{
	static const char *const names[] = {
		"redmi-1s.cfg", "redmi-1s-fixed.cfg", "cloud-sync-on.cfg",
		"clean.cfg",
	};
	char spec[512], path[512], val[DEVICE_VALUE_MAX];
	struct muster_err e = { 0, "" };
	struct device *d;
	char *orig, *now;
	size_t i, olen, nlen;
	int isset;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		copy_example(names[i], 0644, spec, sizeof spec, path,
		    sizeof path);
		orig = unit_slurp(path, &olen);
		d = open_ok(spec);
		assert_int_equal(device_setting_get(d, "global", "auto_time",
		    val, &isset, &e), 0);
		assert_int_equal(isset, 1);
		put_ok(d, "global", "auto_time", "flip");
		put_ok(d, "global", "auto_time", val);
		device_close(d);
		now = unit_slurp(path, &nlen);
		if (nlen != olen || memcmp(now, orig, olen) != 0)
			fail_msg("%s is not in the writer's layout:\n%s",
			    names[i], now);
		free(now);
		free(orig);
	}
}

static void
sim_package_disable(void **state)
{
	struct muster_err e = { 0, "" };
	char spec[512], path[512];
	struct device *d;
	struct stat st;
	char *before, *after;
	size_t blen, alen;

	(void)state;
	copy_example("redmi-1s.cfg", 0600, spec, sizeof spec, path,
	    sizeof path);
	d = open_ok(spec);
	disable_ok(d, "com.miui.cloudservice");
	pkg_is(d, "com.miui.cloudservice", PKG_DISABLED);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	device_close(d);

	d = open_ok(spec);
	pkg_is(d, "com.miui.cloudservice", PKG_DISABLED);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* Disabling a disabled package writes nothing. */
	before = unit_slurp(path, &blen);
	disable_ok(d, "com.miui.cloudservice");
	after = unit_slurp(path, &alen);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(before);
	free(after);

	assert_int_equal(device_package_disable(d, "com.example.absent", &e),
	    MUSTER_EUSAGE);
	want_in(e.msg, "not installed");
	disable_ok(d, "com.xiaomi.xmsf");
	pkg_is(d, "com.xiaomi.xmsf", PKG_DISABLED);
	device_close(d);
}

/* The file is read for every question: outside edits show at once. */
static void
sim_outside_edit(void **state)
{
	struct muster_err e = { 0, "" };
	char spec[512], path[512];
	struct device_facts f;
	struct device *d;
	char *buf, *p;
	size_t len;

	(void)state;
	copy_example("redmi-1s-fixed.cfg", 0644, spec, sizeof spec, path,
	    sizeof path);
	d = open_ok(spec);
	get_ok(d, "secure", "mi_cloud_messaging_enabled", "0");
	buf = unit_slurp(path, &len);
	p = strstr(buf, "mi_cloud_messaging_enabled = \"0\"");
	assert_non_null(p);
	p[strlen("mi_cloud_messaging_enabled = \"")] = '1';
	write_all(path, buf, len, 0644);
	get_ok(d, "secure", "mi_cloud_messaging_enabled", "1");

	/* Broken meanwhile: a clean error, then fine again. */
	write_str(path, "model = ;\n");
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EDATA);
	assert_string_equal(f.model, "");
	write_all(path, buf, len, 0644);
	facts_are(d, "Xiaomi", "HM 1SW", "KHHMIBH45.0", "4.4.4");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(device_facts(d, &f, &e), MUSTER_ENOINPUT);
	free(buf);
	device_close(d);
}

static void
sim_bad_arguments(void **state)
{
	struct muster_err e = { 0, "" };
	char spec[512], path[512], val[DEVICE_VALUE_MAX], big[400];
	enum device_pkg_state st;
	struct device *d;
	int isset;

	(void)state;
	copy_example("clean.cfg", 0644, spec, sizeof spec, path, sizeof path);
	d = open_ok(spec);
	assert_int_equal(device_setting_get(d, "vendor", "k", val, &isset,
	    &e), MUSTER_EUSAGE);
	assert_int_equal(device_setting_get(d, "secure", "a/b", val, &isset,
	    &e), MUSTER_EUSAGE);
	assert_int_equal(device_setting_get(d, "secure", "", val, &isset,
	    &e), MUSTER_EUSAGE);
	assert_int_equal(device_setting_get(d, NULL, "k", val, &isset, &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_setting_get(d, "secure", "k", NULL, &isset,
	    &e), MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "secure", "a.b", "0", &e),
	    MUSTER_EUSAGE);
	want_in(e.msg, "cannot be stored");
	assert_int_equal(device_setting_put(d, "secure", "true", "0", &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "secure", "_x", "0", &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "secure", "k", "a\nb", &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "secure", "k", "\xff", &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "secure", "k", NULL, &e),
	    MUSTER_EUSAGE);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(device_setting_put(d, "secure", "k", big, &e),
	    MUSTER_EUSAGE);
	big[DEVICE_VALUE_MAX - 1] = '\0';
	put_ok(d, "secure", "k", big);
	get_ok(d, "secure", "k", big);
	assert_int_equal(device_package(d, "com.x;rm", &st, &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_package(d, "-x", &st, &e), MUSTER_EUSAGE);
	assert_int_equal(device_package_disable(d, "", &e), MUSTER_EUSAGE);
	assert_int_equal(device_package(d, "com.x", NULL, &e), MUSTER_EUSAGE);
	assert_int_equal(device_facts(d, NULL, &e), MUSTER_EUSAGE);
	device_close(d);
	device_close(NULL);
	assert_int_equal(device_facts(NULL, (struct device_facts[1]){ 0 },
	    &e), MUSTER_EUSAGE);
}

static void
bad_specs(void **state)
{
	static const char *const specs[] = {
		"", "bogus", "sim", "sim:", "SIM:x", "android:", "androidx",
		"android:relative/bin", "android:/tmp:0", "android:/tmp:600001",
		"android:/tmp:99999999999999999999", "android:a:b:100",
		"sim:a\nb",
	};
	struct muster_err e = { 0, "" };
	struct device *d = (struct device *)&e;
	size_t i;
	int rc;

	(void)state;
	assert_int_equal(device_open(NULL, &d, &e), MUSTER_EUSAGE);
	assert_null(d);
	assert_int_equal(device_open("sim:x", NULL, &e), MUSTER_EUSAGE);
	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		d = (struct device *)&e;
		rc = device_open(specs[i], &d, &e);
		if (rc != MUSTER_EUSAGE)
			fail_msg("spec \"%s\": %d (%s)", specs[i], rc, e.msg);
		assert_null(d);
	}
	assert_int_equal(device_open("sim:/nonexistent/dev.cfg", &d, &e),
	    MUSTER_ENOINPUT);
	want_in(e.msg, "/nonexistent/dev.cfg");
	assert_null(d);
	assert_int_equal(device_open("android:/nonexistent/bin", &d, &e),
	    MUSTER_ENOINPUT);
	assert_null(d);
	assert_string_equal(device_name(NULL), "(no device)");
}

/* Opens text as a sim file; wants MUSTER_EDATA "FILE:line: ...w...". */
static void
sim_fails(const char *text, size_t len, int line, const char *w)
{
	struct muster_err e = { 0, "" };
	struct device *d = (struct device *)&e;
	char path[512], spec[520], prefix[600];
	int rc;

	snprintf(path, sizeof path, "%s/bad.cfg", tmpdir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	write_all(path, text, len, 0644);
	rc = device_open(spec, &d, &e);
	if (rc != MUSTER_EDATA)
		fail_msg("want MUSTER_EDATA, got %d (%s) for:\n%.*s", rc,
		    e.msg, (int)len, text);
	assert_null(d);
	if (line > 0) {
		snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
		if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
			fail_msg("want \"%s...\", got \"%s\"", prefix, e.msg);
	}
	want_in(e.msg, w);
}

#define FACTS	"manufacturer = \"M\";\nmodel = \"X\";\nbuild = \"B1\";\n" \
		"os_version = \"4.4.4\";\n"	/* lines 1-4 */

struct fcase {
	const char	*text;
	int		 line;
	const char	*w;
};

static const struct fcase fcases[] = {
	{ FACTS "colour = \"red\";\n", 5, "unknown field \"colour\"" },
	{ FACTS "imei = \"0\";\n", 5, "unknown field \"imei\"" },
	{ "model = \"X\";\nbuild = \"B\";\nos_version = \"4\";\n", 1,
	    "missing field \"manufacturer\"" },
	{ "manufacturer = \"M\";\nbuild = \"B\";\nos_version = \"4\";\n", 1,
	    "missing field \"model\"" },
	{ "", 1, "missing field" },
	{ FACTS "model2 = ;\n", 5, "syntax error" },
	{ "manufacturer = \"M\"\nmodel = = \"X\";\n", 2, "syntax error" },
	{ FACTS "build = \"again\";\n", 5, "duplicate" },
	{ "manufacturer = 1;\nmodel = \"X\";\nbuild = \"B\";\n"
	    "os_version = \"4\";\n", 1, "must be a string" },
	{ FACTS "settings = \"x\";\n", 5, "must be a group" },
	{ FACTS "settings = { secure = ( ); };\n", 5, "must be a group" },
	{ FACTS "settings = { vendor = { }; };\n", 5,
	    "unknown settings namespace \"vendor\"" },
	{ FACTS "settings = {\n secure = {\n k = 0;\n };\n};\n", 7,
	    "must be a string" },
	{ FACTS "settings = {\n secure = {\n k = \"1\";\n k = \"2\";\n"
	    " };\n};\n", 8, "duplicate" },
	{ FACTS "settings = { secure = { k = \"\\x01\"; }; };\n", 5,
	    "control character" },
	{ FACTS "settings = { secure = { k = \"\xc3\"; }; };\n", 5,
	    "bad UTF-8" },
	{ FACTS "settings = { secure = { k*y = \"1\"; }; };\n", 5,
	    "bad settings key" },
	{ FACTS "packages = [ ];\n", 5, "must be a list" },
	{ FACTS "packages = ( \"com.x\" );\n", 5, "must be a group" },
	{ FACTS "packages = (\n { name = \"com.x\"; enabled = \"yes\"; }\n"
	    ");\n", 6, "\"enabled\" must be true or false" },
	{ FACTS "packages = (\n { name = \"com.x\"; }\n);\n", 6,
	    "missing field \"enabled\"" },
	{ FACTS "packages = (\n { enabled = true; }\n);\n", 6,
	    "missing field \"name\"" },
	{ FACTS "packages = (\n { name = \"com.x\"; enabled = true;\n"
	    " state = 1; }\n);\n", 7, "unknown field \"state\"" },
	{ FACTS "packages = (\n { name = \"com/x\"; enabled = true; }\n"
	    ");\n", 6, "bad package name" },
	{ FACTS "packages = (\n { name = \"com.x\"; enabled = true; },\n"
	    " { name = \"com.y\"; enabled = true; },\n"
	    " { name = \"com.x\"; enabled = false; }\n);\n", 8,
	    "duplicate package \"com.x\"" },
	{ FACTS "@include \"/etc/passwd\"\n", 5, "@include" },
	{ FACTS "  @include \"x\"\n", 5, "@include" },
	{ FACTS "x = \"abc\n", 5, "unterminated string" },
	{ FACTS "/* never closed\n", 5, "unterminated comment" },
	{ FACTS "a = 1; \"x\"\n", 5, "unexpected string" },
	{ FACTS "settings = { secure = { k = { a = { b = { c = { d = { e = "
	    "{ f = { g = { }; }; }; }; }; }; }; }; }; };\n", 5, "nested" },
};

static void
sim_malformed(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof fcases / sizeof fcases[0]; i++)
		sim_fails(fcases[i].text, strlen(fcases[i].text),
		    fcases[i].line, fcases[i].w);
}

static void
sim_long_values(void **state)
{
	char text[2048], v[300], path[512], spec[520];
	struct device *d;

	(void)state;
	memset(v, 'a', sizeof v - 1);
	v[DEVICE_FACT_MAX] = '\0';
	snprintf(text, sizeof text, "manufacturer = \"M\";\nmodel = \"%s\";\n"
	    "build = \"B\";\nos_version = \"4\";\n", v);
	sim_fails(text, strlen(text), 2, "longer than 127 bytes");
	v[DEVICE_FACT_MAX - 1] = '\0';
	snprintf(text, sizeof text, "manufacturer = \"M\";\nmodel = \"%s\";\n"
	    "build = \"\";\nos_version = \"\";\n", v);
	snprintf(path, sizeof path, "%s/ok.cfg", tmpdir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	write_str(path, text);
	d = open_ok(spec);
	facts_are(d, "M", v, "", "");
	device_close(d);
	memset(v, 'a', sizeof v - 1);
	v[DEVICE_VALUE_MAX] = '\0';
	snprintf(text, sizeof text, FACTS "settings = { secure = { k = "
	    "\"%s\"; }; };\n", v);
	sim_fails(text, strlen(text), 5, "longer than 255 bytes");
}

static void
sim_nul_and_oversized(void **state)
{
	static const char nul[] = FACTS "# a comment\0 with a NUL\n";
	struct muster_err e = { 0, "" };
	struct device *d = NULL;
	char path[512], spec[520];
	char *big;
	size_t n = SIM_LIMIT + 1;

	(void)state;
	sim_fails(nul, sizeof nul - 1, 5, "NUL byte");

	big = malloc(n);
	assert_non_null(big);
	memcpy(big, FACTS, strlen(FACTS));
	memset(big + strlen(FACTS), '#', n - strlen(FACTS));
	/* libconfig wants a comment to end with a newline. */
	big[n - 2] = '\n';
	big[n - 1] = '\n';
	snprintf(path, sizeof path, "%s/big.cfg", tmpdir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	write_all(path, big, n, 0644);
	assert_int_equal(device_open(spec, &d, &e), MUSTER_EDATA);
	assert_null(d);
	want_in(e.msg, path);
	want_in(e.msg, "too large");
	/* Exactly at the limit is fine (it is all one comment line). */
	write_all(path, big, n - 1, 0644);
	d = open_ok(spec);
	device_close(d);
	free(big);
}

/* Every prefix of every example: a device or a clean error, no crash. */
static void
sim_truncated(void **state)
{
	static const char *const names[] = {
		"redmi-1s.cfg", "redmi-1s-fixed.cfg", "cloud-sync-on.cfg",
		"clean.cfg",
	};
	struct muster_err e;
	struct device *d;
	char src[256], path[512], spec[520], prefix[600];
	char *buf;
	size_t i, n, len, ok;
	int rc;

	(void)state;
	snprintf(path, sizeof path, "%s/cut.cfg", tmpdir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	snprintf(prefix, sizeof prefix, "%s:", path);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(src, sizeof src, EXAMPLES "/%s", names[i]);
		buf = unit_slurp(src, &len);
		ok = 0;
		for (n = 0; n <= len; n++) {
			write_all(path, buf, n, 0644);
			d = NULL;
			memset(&e, 0, sizeof e);
			rc = device_open(spec, &d, &e);
			if (rc == 0) {
				ok++;
				device_close(d);
				continue;
			}
			if (rc != MUSTER_EDATA)
				fail_msg("%s cut at %zu: %d (%s)", names[i],
				    n, rc, e.msg);
			assert_null(d);
			if (strncmp(e.msg, prefix, strlen(prefix)) != 0 ||
			    e.msg[strlen(prefix)] < '1' ||
			    e.msg[strlen(prefix)] > '9')
				fail_msg("%s cut at %zu: no FILE:LINE in "
				    "\"%s\"", names[i], n, e.msg);
		}
		/* The whole file, and a few cuts after the facts. */
		assert_true(ok >= 1);
		free(buf);
	}
}

/* Every byte of an example replaced by a few troublesome ones. */
static void
sim_mutated(void **state)
{
	static const char subst[] = { '"', '{', ')', ';', '@', '\n', '\\',
	    '/', '#', '\x80' };
	struct muster_err e;
	struct device *d;
	char path[512], spec[520];
	char *buf, keep;
	size_t i, k, len;
	int rc;

	(void)state;
	snprintf(path, sizeof path, "%s/mut.cfg", tmpdir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	buf = unit_slurp(EXAMPLES "/redmi-1s.cfg", &len);
	for (i = 0; i < len; i++) {
		keep = buf[i];
		for (k = 0; k < sizeof subst; k++) {
			buf[i] = subst[k];
			write_all(path, buf, len, 0644);
			d = NULL;
			rc = device_open(spec, &d, &e);
			if (rc == 0)
				device_close(d);
			else if (rc != MUSTER_EDATA)
				fail_msg("byte %zu -> %02x: %d (%s)", i,
				    (unsigned char)subst[k], rc, e.msg);
		}
		buf[i] = keep;
	}
	free(buf);
}

static void
sim_not_a_file(void **state)
{
	struct muster_err e = { 0, "" };
	struct device *d = NULL;
	char spec[520], path[512];

	(void)state;
	snprintf(spec, sizeof spec, "sim:%s", tmpdir);
	assert_int_equal(device_open(spec, &d, &e), MUSTER_EDATA);
	want_in(e.msg, "not a regular file");
	assert_null(d);
	/* A FIFO is refused, not opened (which would block). */
	snprintf(path, sizeof path, "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	snprintf(spec, sizeof spec, "sim:%s", path);
	assert_int_equal(device_open(spec, &d, &e), MUSTER_EDATA);
	assert_null(d);
}

/* ---- android ---- */

/* Copies the fakes into tmpdir and writes their state. */
static void
fake_setup(const char *props, const char *packages)
{
	static const char *const cmds[] = { "getprop", "settings", "pm" };
	char src[256], dst[512];
	char *buf;
	size_t i, len;

	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		snprintf(src, sizeof src, FAKES "/%s", cmds[i]);
		buf = unit_slurp(src, &len);
		snprintf(dst, sizeof dst, "%s/%s", tmpdir, cmds[i]);
		write_all(dst, buf, len, 0755);
		free(buf);
	}
	snprintf(dst, sizeof dst, "%s/state", tmpdir);
	assert_int_equal(mkdir(dst, 0700), 0);
	snprintf(dst, sizeof dst, "%s/state/props", tmpdir);
	write_str(dst, props);
	snprintf(dst, sizeof dst, "%s/state/packages", tmpdir);
	write_str(dst, packages);
}

static void
fake_mode(const char *mode)
{
	char path[512];

	snprintf(path, sizeof path, "%s/mode", tmpdir);
	if (mode == NULL)
		unlink(path);
	else
		write_str(path, mode);
}

#define REDMI_PROPS \
	"ro.product.manufacturer=Xiaomi\n" \
	"ro.product.model=HM 1SW\n" \
	"ro.build.version.incremental=KHHMIBF5.0\n" \
	"ro.build.version.release=4.4.2\n" \
	"ro.product.device=armani\n"
#define REDMI_PKGS \
	"com.android.settings enabled\n" \
	"com.miui.cloudservice enabled\n" \
	"com.xiaomi.xmsf enabled\n" \
	"com.miui.home disabled\n"

static struct device *
fake_open(int short_limit)
{
	char spec[600];

	if (short_limit)
		snprintf(spec, sizeof spec, "android:%s:%d", tmpdir, SHORT_MS);
	else
		snprintf(spec, sizeof spec, "android:%s", tmpdir);
	return open_ok(spec);
}

static int64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
android_facts_ok(void **state)
{
	char name[600];
	struct device *d;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	d = fake_open(1);
	snprintf(name, sizeof name, "android:%s", tmpdir);
	assert_string_equal(device_name(d), name);
	facts_are(d, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	device_close(d);
	assert_no_children();
}

/* A property that is not set reads as an empty fact. */
static void
android_facts_missing(void **state)
{
	struct device *d;

	(void)state;
	fake_setup("ro.product.model=Nexus 5\n", "");
	d = fake_open(0);
	facts_are(d, "", "Nexus 5", "", "");
	device_close(d);
	assert_no_children();
}

static void
android_settings(void **state)
{
	char path[600];
	struct device *d;
	char *buf;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	d = fake_open(1);
	get_ok(d, "secure", "mi_cloud_sync_enabled", NULL);
	put_ok(d, "secure", "mi_cloud_sync_enabled", "1");
	get_ok(d, "secure", "mi_cloud_sync_enabled", "1");
	put_ok(d, "secure", "mi_cloud_sync_enabled", "0");
	get_ok(d, "secure", "mi_cloud_sync_enabled", "0");
	snprintf(path, sizeof path, "%s/state/settings/secure/"
	    "mi_cloud_sync_enabled", tmpdir);
	buf = unit_slurp(path, NULL);
	assert_string_equal(buf, "0");
	free(buf);
	/* Arguments go through as they are: no shell to reinterpret them. */
	put_ok(d, "global", "x.y-z", "$(touch /tmp/pwned) `id`; 'a' \"b\" *");
	get_ok(d, "global", "x.y-z", "$(touch /tmp/pwned) `id`; 'a' \"b\" *");
	put_ok(d, "system", "neg", "-1");
	get_ok(d, "system", "neg", "-1");
	device_close(d);
	assert_no_children();
}

static void
android_bad_arguments(void **state)
{
	struct muster_err e = { 0, "" };
	char val[DEVICE_VALUE_MAX];
	enum device_pkg_state st;
	struct device *d;
	int isset;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	d = fake_open(1);
	assert_int_equal(device_setting_get(d, "secure", "--user", val,
	    &isset, &e), MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "secure", "k", "--user", &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "secure", "k;id", "1", &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_setting_get(d, "Secure", "k", val, &isset,
	    &e), MUSTER_EUSAGE);
	assert_int_equal(device_package(d, "com.x y", &st, &e),
	    MUSTER_EUSAGE);
	assert_int_equal(device_package_disable(d, "../x", &e),
	    MUSTER_EUSAGE);
	device_close(d);
	assert_no_children();
}

static void
android_packages(void **state)
{
	struct muster_err e = { 0, "" };
	char path[600];
	struct device *d;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	d = fake_open(1);
	pkg_is(d, "com.miui.cloudservice", PKG_ENABLED);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	pkg_is(d, "com.miui.home", PKG_DISABLED);
	pkg_is(d, "com.example.absent", PKG_ABSENT);

	/* The lists are read once per handle... */
	snprintf(path, sizeof path, "%s/state/packages", tmpdir);
	write_str(path, REDMI_PKGS "com.example.new enabled\n");
	pkg_is(d, "com.example.new", PKG_ABSENT);

	/* ...and again after a change. */
	disable_ok(d, "com.miui.cloudservice");
	pkg_is(d, "com.miui.cloudservice", PKG_DISABLED);
	pkg_is(d, "com.example.new", PKG_ENABLED);
	disable_ok(d, "com.miui.cloudservice");
	assert_int_equal(device_package_disable(d, "com.example.absent", &e),
	    MUSTER_EUSAGE);
	want_in(e.msg, "not installed");
	device_close(d);

	d = fake_open(1);
	pkg_is(d, "com.miui.cloudservice", PKG_DISABLED);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	device_close(d);
	assert_no_children();
}

/* Android 4.4's pm prints the new state on stderr: stdout is empty. */
static void
android_pm_kitkat(void **state)
{
	struct device *d;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	fake_mode("pm:kitkat");
	d = fake_open(1);
	disable_ok(d, "com.xiaomi.xmsf");
	pkg_is(d, "com.xiaomi.xmsf", PKG_DISABLED);
	device_close(d);
	assert_no_children();
}

/* pm claims success but the package stays enabled. */
static void
android_pm_stuck(void **state)
{
	struct muster_err e = { 0, "" };
	struct device *d;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	fake_mode("pm:stuck");
	d = fake_open(1);
	assert_int_equal(device_package_disable(d, "com.xiaomi.xmsf", &e),
	    MUSTER_EUNAVAIL);
	want_in(e.msg, "still enabled");
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	device_close(d);
	assert_no_children();
}

static void
android_timeouts(void **state)
{
	static const char *const modes[] = { "hang", "linger" };
	struct muster_err e = { 0, "" };
	char val[DEVICE_VALUE_MAX], want[64];
	enum device_pkg_state st;
	struct device_facts f;
	struct device *d;
	int64_t t0, dt;
	size_t i;
	int isset, nfd;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	nfd = count_fds();
	d = fake_open(1);
	snprintf(want, sizeof want, "timed out after %d ms", SHORT_MS);
	for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		fake_mode(modes[i]);
		t0 = ms_now();
		assert_int_equal(device_facts(d, &f, &e), MUSTER_EUNAVAIL);
		want_in(e.msg, "getprop ro.product.manufacturer");
		want_in(e.msg, want);
		assert_int_equal(device_setting_get(d, "secure", "k", val,
		    &isset, &e), MUSTER_EUNAVAIL);
		want_in(e.msg, want);
		assert_int_equal(device_package(d, "com.x", &st, &e),
		    MUSTER_EUNAVAIL);
		want_in(e.msg, want);
		dt = ms_now() - t0;
		if (dt < 3 * SHORT_MS || dt > 3 * SHORT_MS + 3000)
			fail_msg("%s: three timeouts took %lld ms", modes[i],
			    (long long)dt);
		assert_no_children();
	}

	/* Only settings hangs: the rest works. */
	fake_mode("settings:hang");
	facts_are(d, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	assert_int_equal(device_setting_put(d, "secure", "k", "0", &e),
	    MUSTER_EUNAVAIL);
	want_in(e.msg, "settings put secure k 0 timed out");
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	fake_mode(NULL);
	put_ok(d, "secure", "k", "0");
	device_close(d);
	assert_no_children();
	/* No pipe or /dev/null left open by any of it. */
	assert_int_equal(count_fds(), nfd);
}

static void
android_fail(void **state)
{
	struct muster_err e = { 0, "" };
	char val[DEVICE_VALUE_MAX];
	enum device_pkg_state st;
	struct device_facts f;
	struct device *d;
	int isset;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	d = fake_open(1);
	fake_mode("fail");
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EUNAVAIL);
	want_in(e.msg, "exited with status 1");
	assert_int_equal(device_setting_get(d, "secure", "k", val, &isset,
	    &e), MUSTER_EUNAVAIL);
	assert_int_equal(device_setting_put(d, "secure", "k", "1", &e),
	    MUSTER_EUNAVAIL);
	assert_int_equal(device_package(d, "com.x", &st, &e),
	    MUSTER_EUNAVAIL);
	want_in(e.msg, "pm list packages exited with status 1");

	fake_mode("signal");
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EUNAVAIL);
	want_in(e.msg, "killed by signal 9");

	fake_mode(NULL);
	pkg_is(d, "com.xiaomi.xmsf", PKG_ENABLED);
	device_close(d);
	assert_no_children();
}

static void
android_garbage(void **state)
{
	struct muster_err e = { 0, "" };
	char val[DEVICE_VALUE_MAX], path[600];
	enum device_pkg_state st;
	struct device_facts f;
	struct device *d;
	int isset;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	d = fake_open(1);
	fake_mode("garbage");
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EDATA);
	want_in(e.msg, "binary output");
	assert_int_equal(device_setting_get(d, "secure", "k", val, &isset,
	    &e), MUSTER_EDATA);
	assert_int_equal(device_package(d, "com.x", &st, &e), MUSTER_EDATA);
	fake_mode(NULL);

	/* Text, but not what the command prints. */
	snprintf(path, sizeof path, "%s/state/props", tmpdir);
	write_str(path, "ro.product.manufacturer=Xi\033[31maomi\n");
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EDATA);
	want_in(e.msg, "control character");
	snprintf(path, sizeof path, "%s/state/packages", tmpdir);
	write_str(path, "com.ok enabled\ncom;bad enabled\n");
	assert_int_equal(device_package(d, "com.ok", &st, &e), MUSTER_EDATA);
	want_in(e.msg, "line 2");
	device_close(d);
	assert_no_children();
}

static void
android_value_too_long(void **state)
{
	struct muster_err e = { 0, "" };
	char props[512], v[200];
	struct device_facts f;
	struct device *d;

	(void)state;
	memset(v, 'x', sizeof v - 1);
	v[sizeof v - 1] = '\0';
	snprintf(props, sizeof props, "ro.product.manufacturer=%s\n", v);
	fake_setup(props, "");
	d = fake_open(1);
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EDATA);
	want_in(e.msg, "longer than 127 bytes");
	device_close(d);
	assert_no_children();
}

static void
android_huge(void **state)
{
	struct muster_err e = { 0, "" };
	enum device_pkg_state st;
	struct device_facts f;
	struct device *d;
	int64_t t0;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	/* The default limit of 10 s: the cap, not the clock, stops it. */
	d = fake_open(0);
	fake_mode("huge");
	t0 = ms_now();
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EDATA);
	want_in(e.msg, "printed more than 1048576 bytes");
	assert_int_equal(device_package(d, "com.x", &st, &e), MUSTER_EDATA);
	assert_true(ms_now() - t0 < 8000);
	device_close(d);
	assert_no_children();
}

static void
android_missing_command(void **state)
{
	struct muster_err e = { 0, "" };
	enum device_pkg_state st;
	char path[600];
	struct device *d;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	snprintf(path, sizeof path, "%s/pm", tmpdir);
	assert_int_equal(unlink(path), 0);
	d = fake_open(1);
	assert_int_equal(device_package(d, "com.x", &st, &e),
	    MUSTER_EUNAVAIL);
	want_in(e.msg, "cannot run");
	want_in(e.msg, path);
	/* Not executable. */
	write_str(path, "#!/bin/sh\necho package:com.x\n");
	assert_int_equal(device_package(d, "com.x", &st, &e),
	    MUSTER_EUNAVAIL);
	want_in(e.msg, "Permission denied");
	device_close(d);
	assert_no_children();
}

/*
 * The child sees PATH=BINDIR and the passed Android variables only, no
 * descriptor of ours, stdin at EOF, and / as its directory.
 */
static void
android_child_environment(void **state)
{
	static const char script[] =
	    "#!/bin/sh\n"
	    "n=$(/usr/bin/env | /usr/bin/wc -l)\n"
	    "if [ -e /proc/$$/fd/FD ]; then fd=leak; else fd=closed; fi\n"
	    "if read -r x; then in=data; else in=eof; fi\n"
	    "echo \"$n $PATH ${HOME-nohome} ${BOOTCLASSPATH-none} $fd $in "
	    "$(/bin/pwd)\"\n";
	char path[600], text[1024], want[1024], *p;
	struct muster_err e = { 0, "" };
	struct device_facts f;
	struct device *d;
	int fd;

	(void)state;
	fake_setup("", "");
	fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC, on purpose */
	assert_true(fd > 2);
	snprintf(text, sizeof text, "%s", script);
	p = strstr(text, "FD");
	assert_non_null(p);
	snprintf(want, sizeof want, "%d%s", fd, p + 2);
	snprintf(p, sizeof text - (size_t)(p - text), "%s", want);
	snprintf(path, sizeof path, "%s/getprop", tmpdir);
	write_all(path, text, strlen(text), 0755);

	setenv("HOME", "/root", 1);
	setenv("BOOTCLASSPATH", "/system/framework/core.jar", 1);
	setenv("LD_PRELOAD", "/nonexistent.so", 1);
	d = fake_open(0);
	unsetenv("BOOTCLASSPATH");
	unsetenv("LD_PRELOAD");
	assert_int_equal(device_facts(d, &f, &e), 0);
	/* env(1) counts PATH, BOOTCLASSPATH and PWD (set by the shell). */
	snprintf(want, sizeof want, "3 %s nohome /system/framework/core.jar "
	    "closed eof /", tmpdir);
	assert_string_equal(f.manufacturer, want);
	device_close(d);
	close(fd);
	assert_no_children();
}

/* With SIGCHLD ignored by the caller, status is still read, then restored. */
static void
android_sigchld_ignored(void **state)
{
	struct sigaction sa, old, now;
	struct muster_err e = { 0, "" };
	struct device_facts f;
	struct device *d;

	(void)state;
	fake_setup(REDMI_PROPS, REDMI_PKGS);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &sa, &old), 0);
	d = fake_open(1);
	facts_are(d, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	fake_mode("fail");
	assert_int_equal(device_facts(d, &f, &e), MUSTER_EUNAVAIL);
	want_in(e.msg, "status 1");
	assert_int_equal(sigaction(SIGCHLD, &old, &now), 0);
	assert_true(now.sa_handler == SIG_IGN);
	device_close(d);
	assert_no_children();
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup_tmp, teardown_tmp)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(sim_redmi_1s),
		T(sim_redmi_1s_fixed),
		T(sim_cloud_sync_on),
		T(sim_clean),
		T(sim_put_round_trip),
		T(sim_examples_canonical),
		T(sim_package_disable),
		T(sim_outside_edit),
		T(sim_bad_arguments),
		T(bad_specs),
		T(sim_malformed),
		T(sim_long_values),
		T(sim_nul_and_oversized),
		T(sim_truncated),
		T(sim_mutated),
		T(sim_not_a_file),
		T(android_facts_ok),
		T(android_facts_missing),
		T(android_settings),
		T(android_bad_arguments),
		T(android_packages),
		T(android_pm_kitkat),
		T(android_pm_stuck),
		T(android_timeouts),
		T(android_fail),
		T(android_garbage),
		T(android_value_too_long),
		T(android_huge),
		T(android_missing_command),
		T(android_child_environment),
		T(android_sigchld_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
