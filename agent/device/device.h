/*
 * device: how the agent reads a device and changes it.  One interface,
 * one backend per file (device_<name>.c):
 *
 *	sim:FILE		a device described by a libconfig file
 *				(examples/devices/README.md); changes rewrite
 *				the file atomically
 *	android[:BINDIR]	a real Android device through getprop,
 *				settings and pm run by execve (no shell), with
 *				a time limit and an output cap; BINDIR
 *				(default /system/bin) holds the commands
 *
 * The interface reads only what a profile can ask about: manufacturer,
 * model, build, OS version, named settings and package states.  There is
 * no call that could read an IMEI, a phone number, contacts or messages.
 */
#ifndef MUSTER_DEVICE_H
#define MUSTER_DEVICE_H

#include <stddef.h>

#include "muster/err.h"

#define DEVICE_FACT_MAX		128	/* manufacturer, model, build, os */
#define DEVICE_VALUE_MAX	256	/* a setting's value */

struct device;

/*
 * The Android system properties behind the four facts (getprop), and the
 * only properties the agent ever reads; `muster-agent explain` names them.
 */
#define DEVICE_PROP_MANUFACTURER	"ro.product.manufacturer"
#define DEVICE_PROP_MODEL		"ro.product.model"
#define DEVICE_PROP_BUILD		"ro.build.version.incremental"
#define DEVICE_PROP_OS			"ro.build.version.release"

struct device_facts {
	char	manufacturer[DEVICE_FACT_MAX];
	char	model[DEVICE_FACT_MAX];
	char	build[DEVICE_FACT_MAX];		/* incremental build id */
	char	os_version[DEVICE_FACT_MAX];	/* e.g. "4.4.4" */
};

enum device_pkg_state {
	PKG_ABSENT,
	PKG_ENABLED,
	PKG_DISABLED,
};

/*
 * Opens the backend named by spec ("sim:FILE", "android",
 * "android:BINDIR").  Returns 0 and a new device in *d (device_close), or
 * MUSTER_EUSAGE for an unknown spec, MUSTER_ENOINPUT for a missing sim
 * file, MUSTER_EDATA ("FILE:LINE: what") for a malformed one.
 */
int	device_open(const char *spec, struct device **d, struct muster_err *e);

/* Frees d; NULL is a no-op.  Changes were already written when made. */
void	device_close(struct device *d);

/* The backend's name for messages: "sim:FILE" or "android". */
const char *device_name(const struct device *d);

/*
 * Reads the four identity facts.  A fact the device does not report is
 * returned empty; a failing command is MUSTER_EUNAVAIL or MUSTER_EDATA.
 */
int	device_facts(struct device *d, struct device_facts *f,
	    struct muster_err *e);

/*
 * Reads setting ns/key ("system", "secure", "global") into val.  A setting
 * that is not set reads as the empty string with *isset 0.
 */
int	device_setting_get(struct device *d, const char *ns, const char *key,
	    char val[DEVICE_VALUE_MAX], int *isset, struct muster_err *e);

/* Sets ns/key to val (persistently: the sim file is rewritten). */
int	device_setting_put(struct device *d, const char *ns, const char *key,
	    const char *val, struct muster_err *e);

/* Whether package pkg is absent, installed and enabled, or disabled. */
int	device_package(struct device *d, const char *pkg,
	    enum device_pkg_state *st, struct muster_err *e);

/* Disables package pkg for user 0 (the sim file is rewritten). */
int	device_package_disable(struct device *d, const char *pkg,
	    struct muster_err *e);

#endif
