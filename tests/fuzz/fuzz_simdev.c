/*
 * fuzz_simdev: the simulated device file (agent/device/device_sim.c), as
 * `muster-agent --device sim:FILE` reads it, through the device
 * interface: open, read the facts, some settings and packages.
 *
 * A file that opens must also take the agent's remediations: setting a
 * value (one with quotes, a backslash and UTF-8) and disabling a package
 * rewrite it, and the rewritten file must open again with the same facts
 * and the changes made.  The file lives in the harness's scratch
 * directory.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "muster/err.h"
#include "../../agent/device/device.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char path[4200], spec[4300];

static const char *const keys[][2] = {
	{ "secure", "mi_cloud_sync_enabled" },
	{ "secure", "mi_cloud_messaging_enabled" },
	{ "system", "screen_off_timeout" },
	{ "global", "auto_time" },
	{ "global", "a.b" },
};

static const char *const pkgs[] = {
	"com.xiaomi.xmsf", "com.miui.cloudservice", "com.android.settings",
};

#define PUT_KEY		"fuzz_key"
#define PUT_VALUE	"a \"quoted\" \\ value \xc3\xa9"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir;

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	dir = fuzz_tmpdir("fuzz_simdev");
	snprintf(path, sizeof path, "%s/device.cfg", dir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	return 0;
}

/* A limit the rewrite may legitimately hit. */
static int
over_limit(int rc, const struct muster_err *e)
{
	return rc == MUSTER_EDATA && strstr(e->msg, "more than") != NULL;
}

static void
remediate(struct device *d, const struct device_facts *before)
{
	struct device_facts f;
	struct device *d2 = NULL;
	struct muster_err e;
	enum device_pkg_state st = PKG_ABSENT, st2;
	char val[DEVICE_VALUE_MAX];
	int rc, isset = 0, disabled = 0;

	rc = device_setting_put(d, "secure", "mi_cloud_sync_enabled", "0", &e);
	if (rc != 0) {
		FUZZ_ASSERT(over_limit(rc, &e), "setting_put on a device that "
		    "opened: %s", e.msg);
		return;
	}
	rc = device_setting_put(d, "system", PUT_KEY, PUT_VALUE, &e);
	if (rc != 0) {
		FUZZ_ASSERT(over_limit(rc, &e), "setting_put: %s", e.msg);
		return;
	}
	rc = device_package(d, pkgs[0], &st, &e);
	FUZZ_ASSERT(rc == 0, "device_package after a rewrite: %s", e.msg);
	if (st == PKG_ENABLED) {
		rc = device_package_disable(d, pkgs[0], &e);
		FUZZ_ASSERT(rc == 0, "package_disable: %s", e.msg);
		disabled = 1;
	}

	/* What was written reads back. */
	rc = device_open(spec, &d2, &e);
	FUZZ_ASSERT(rc == 0, "a rewritten device file does not open: %s",
	    e.msg);
	FUZZ_ASSERT(device_facts(d2, &f, &e) == 0 &&
	    memcmp(&f, before, sizeof f) == 0, "the rewrite changed the facts");
	FUZZ_ASSERT(device_setting_get(d2, "secure", "mi_cloud_sync_enabled",
	    val, &isset, &e) == 0 && isset && strcmp(val, "0") == 0,
	    "the rewrite lost a setting");
	isset = 0;
	FUZZ_ASSERT(device_setting_get(d2, "system", PUT_KEY, val, &isset,
	    &e) == 0 && isset && strcmp(val, PUT_VALUE) == 0,
	    "the rewrite changed a value: [%s]", val);
	FUZZ_ASSERT(device_package(d2, pkgs[0], &st2, &e) == 0 &&
	    (disabled ? st2 == PKG_DISABLED : st2 == st),
	    "the rewrite changed a package");
	device_close(d2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct device_facts f;
	struct device *d = NULL;
	struct muster_err e;
	enum device_pkg_state st;
	char val[DEVICE_VALUE_MAX];
	size_t i;
	int rc, isset;

	if (fuzz_write(path, data, size, 0600) != 0)
		abort();
	rc = device_open(spec, &d, &e);
	if (rc != 0) {
		FUZZ_ASSERT(d == NULL && (rc == MUSTER_EDATA ||
		    rc == MUSTER_EINTERNAL), "device_open: %d (%s)", rc, e.msg);
		return 0;
	}
	FUZZ_ASSERT(device_facts(d, &f, &e) == 0, "facts: %s", e.msg);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		isset = 0;
		FUZZ_ASSERT(device_setting_get(d, keys[i][0], keys[i][1], val,
		    &isset, &e) == 0, "setting_get: %s", e.msg);
		FUZZ_ASSERT(memchr(val, '\0', sizeof val) != NULL,
		    "unterminated value");
	}
	for (i = 0; i < sizeof pkgs / sizeof pkgs[0]; i++) {
		st = PKG_ABSENT;
		FUZZ_ASSERT(device_package(d, pkgs[i], &st, &e) == 0,
		    "package: %s", e.msg);
	}
	remediate(d, &f);
	device_close(d);
	return 0;
}
