/*
 * device_impl: what device.c shares with its backends (device_sim.c,
 * device_android.c) and nothing else includes.  A struct device is an ops
 * table and the backend's own state; device.c checks every argument
 * (namespace, key, package name, value) before a backend sees it, so a
 * backend may pass them on as they are.
 */
#ifndef MUSTER_DEVICE_IMPL_H
#define MUSTER_DEVICE_IMPL_H

#include <stddef.h>

#include "muster/err.h"
#include "muster/esc.h"
#include "device.h"

#define DEVICE_NAME_MAX		4096	/* a spec, so a path */
#define DEVICE_KEY_MAX		256	/* bytes in a setting key */
#define DEVICE_PKG_MAX		256	/* bytes in a package name */

struct device_ops {
	int	(*facts)(struct device *, struct device_facts *,
		    struct muster_err *);
	int	(*setting_get)(struct device *, const char *, const char *,
		    char [DEVICE_VALUE_MAX], int *, struct muster_err *);
	int	(*setting_put)(struct device *, const char *, const char *,
		    const char *, struct muster_err *);
	int	(*package)(struct device *, const char *,
		    enum device_pkg_state *, struct muster_err *);
	int	(*package_disable)(struct device *, const char *,
		    struct muster_err *);
	void	(*close)(void *);	/* frees the backend state */
};

struct device {
	const struct device_ops	*ops;
	char			*name;	/* for messages; owned */
	void			*be;	/* backend state; ops->close frees it */
};

/*
 * Backend constructors, called by device_open with d->name already set.
 * On success they set d->ops and d->be and return 0; on failure they leave
 * both NULL and return a MUSTER_E* value.  arg is the part of the spec
 * after "sim:" or "android:" (NULL for a bare "android").
 */
int	device_sim_open(struct device *d, const char *arg,
	    struct muster_err *e);
int	device_android_open(struct device *d, const char *arg,
	    struct muster_err *e);

/* Returns the index of ns in device_namespaces, or -1. */
int	device_ns_index(const char *ns);
extern const char *const device_namespaces[3];	/* system secure global */

/* 1 if s is a settings key: 1 to 256 of A-Z a-z 0-9 . _ - */
int	device_key_ok(const char *s);

/* 1 if s is a package name: 1 to 256 of A-Z a-z 0-9 . _ */
int	device_pkg_ok(const char *s);


#endif
