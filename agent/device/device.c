/*
 * device: the spec dispatch and the argument checks every backend relies
 * on; see device.h.  A backend sees only a namespace from the fixed list,
 * a key or package name from a strict charset, never a setting on the
 * identifier deny-list (muster/ident.h), and a value that is printable
 * UTF-8, whatever the caller passed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "muster/ascii.h"
#include "muster/err.h"
#include "muster/ident.h"
#include "device.h"
#include "device_impl.h"

#define SIM_PREFIX	"sim:"
#define ANDROID_NAME	"android"

const char *const device_namespaces[3] = { "system", "secure", "global" };

int
device_ns_index(const char *ns)
{
	size_t i;

	if (ns == NULL)
		return -1;
	for (i = 0; i < sizeof device_namespaces /
	    sizeof device_namespaces[0]; i++)
		if (strcmp(ns, device_namespaces[i]) == 0)
			return (int)i;
	return -1;
}

static int
charset_ok(const char *s, size_t max, const char *extra)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= max)
			return 0;
		if (!ascii_alnum((unsigned char)s[i]) &&
		    strchr(extra, s[i]) == NULL)
			return 0;
	}
	return 1;
}

int
device_key_ok(const char *s)
{
	return charset_ok(s, DEVICE_KEY_MAX, "._-");
}

int
device_pkg_ok(const char *s)
{
	return charset_ok(s, DEVICE_PKG_MAX, "._");
}

int
device_open(const char *spec, struct device **dp, struct muster_err *e)
{
	struct device *d = NULL;
	const char *arg;
	int rc;

	if (dp == NULL) {
		rc = err_set(e, MUSTER_EUSAGE, "device: no place for the device");
		goto out;
	}
	*dp = NULL;
	if (spec == NULL || spec[0] == '\0') {
		rc = err_set(e, MUSTER_EUSAGE, "no device given (want sim:FILE, "
		    "android or android:BINDIR)");
		goto out;
	}
	if (strnlen(spec, DEVICE_NAME_MAX) >= DEVICE_NAME_MAX ||
	    !esc_text_ok(spec, strlen(spec))) {
		rc = err_set(e, MUSTER_EUSAGE, "device spec is too long or "
		    "holds a control character");
		goto out;
	}
	if ((d = calloc(1, sizeof *d)) == NULL ||
	    (d->name = strdup(spec)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (strncmp(spec, SIM_PREFIX, strlen(SIM_PREFIX)) == 0) {
		arg = spec + strlen(SIM_PREFIX);
		if (arg[0] == '\0') {
			rc = err_set(e, MUSTER_EUSAGE, "device \"sim:\" names "
			    "no file (want sim:FILE)");
			goto out;
		}
		rc = device_sim_open(d, arg, e);
	} else if (strcmp(spec, ANDROID_NAME) == 0)
		rc = device_android_open(d, NULL, e);
	else if (strncmp(spec, ANDROID_NAME ":", strlen(ANDROID_NAME) + 1)
	    == 0)
		rc = device_android_open(d, spec + strlen(ANDROID_NAME) + 1, e);
	else
		rc = err_set(e, MUSTER_EUSAGE, "unknown device \"%s\" (want "
		    "sim:FILE, android or android:BINDIR)", spec);
	if (rc < 0)
		goto out;
	*dp = d;
	d = NULL;
	rc = 0;
out:
	device_close(d);
	return rc;
}

void
device_close(struct device *d)
{
	if (d == NULL)
		return;
	if (d->ops != NULL && d->be != NULL)
		d->ops->close(d->be);
	free(d->name);
	free(d);
}

const char *
device_name(const struct device *d)
{
	if (d == NULL || d->name == NULL)
		return "(no device)";
	return d->name;
}

static int
check_dev(struct device *d, struct muster_err *e)
{
	if (d == NULL || d->ops == NULL)
		return err_set(e, MUSTER_EUSAGE, "device: not open");
	return 0;
}

static int
check_setting(struct device *d, const char *ns, const char *key,
    struct muster_err *e)
{
	int rc;

	if ((rc = check_dev(d, e)) < 0)
		return rc;
	if (device_ns_index(ns) < 0)
		return err_set(e, MUSTER_EUSAGE, "%s: unknown settings "
		    "namespace (want system, secure or global)", d->name);
	if (!device_key_ok(key))
		return err_set(e, MUSTER_EUSAGE, "%s: bad settings key (want "
		    "1 to %d of A-Z a-z 0-9 . _ -)", d->name, DEVICE_KEY_MAX);
	/* The read gate: no backend runs a command for an identifier. */
	if (ident_setting_denied(ns, key))
		return err_set(e, MUSTER_EUSAGE, "%s: %s/%s names an "
		    "identifier; the agent never reads or writes one",
		    d->name, ns, key);
	return 0;
}

static int
check_pkg(struct device *d, const char *pkg, struct muster_err *e)
{
	int rc;

	if ((rc = check_dev(d, e)) < 0)
		return rc;
	if (!device_pkg_ok(pkg))
		return err_set(e, MUSTER_EUSAGE, "%s: bad package name (want "
		    "1 to %d of A-Z a-z 0-9 . _)", d->name, DEVICE_PKG_MAX);
	return 0;
}

int
device_facts(struct device *d, struct device_facts *f, struct muster_err *e)
{
	int rc;

	if (f == NULL)
		return err_set(e, MUSTER_EUSAGE, "device: no place for facts");
	memset(f, 0, sizeof *f);
	if ((rc = check_dev(d, e)) < 0)
		return rc;
	if ((rc = d->ops->facts(d, f, e)) < 0)
		memset(f, 0, sizeof *f);
	return rc;
}

int
device_setting_get(struct device *d, const char *ns, const char *key,
    char val[DEVICE_VALUE_MAX], int *isset, struct muster_err *e)
{
	int rc;

	if (val == NULL || isset == NULL)
		return err_set(e, MUSTER_EUSAGE, "device: no place for the "
		    "value");
	val[0] = '\0';
	*isset = 0;
	if ((rc = check_setting(d, ns, key, e)) < 0)
		return rc;
	if ((rc = d->ops->setting_get(d, ns, key, val, isset, e)) < 0) {
		val[0] = '\0';
		*isset = 0;
	}
	return rc;
}

int
device_setting_put(struct device *d, const char *ns, const char *key,
    const char *val, struct muster_err *e)
{
	size_t n;
	int rc;

	if ((rc = check_setting(d, ns, key, e)) < 0)
		return rc;
	if (val == NULL || (n = strnlen(val, DEVICE_VALUE_MAX)) >=
	    DEVICE_VALUE_MAX)
		return err_set(e, MUSTER_EUSAGE, "%s: %s/%s: value missing or "
		    "longer than %d bytes", d->name, ns, key,
		    DEVICE_VALUE_MAX - 1);
	if (!esc_text_ok(val, n))
		return err_set(e, MUSTER_EUSAGE, "%s: %s/%s: value holds a "
		    "control character or bad UTF-8", d->name, ns, key);
	return d->ops->setting_put(d, ns, key, val, e);
}

int
device_package(struct device *d, const char *pkg,
    enum device_pkg_state *st, struct muster_err *e)
{
	int rc;

	if (st == NULL)
		return err_set(e, MUSTER_EUSAGE, "device: no place for the "
		    "package state");
	*st = PKG_ABSENT;
	if ((rc = check_pkg(d, pkg, e)) < 0)
		return rc;
	if ((rc = d->ops->package(d, pkg, st, e)) < 0)
		*st = PKG_ABSENT;
	return rc;
}

int
device_package_disable(struct device *d, const char *pkg,
    struct muster_err *e)
{
	int rc;

	if ((rc = check_pkg(d, pkg, e)) < 0)
		return rc;
	return d->ops->package_disable(d, pkg, e);
}
