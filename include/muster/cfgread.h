/*
 * cfgread: the field walkers every reader of a libconfig file shares
 * (profiles, sim devices, bundles, server.cfg, agent.cfg, org.cfg): a
 * string of at most so many bytes, an integer in a range, a boolean, the
 * line a setting came from, and the "FILE:LINE: what" error.  The checks
 * return a CFGREAD_E* code and say nothing, so each reader keeps its own
 * words; cfgread_err is the one place that puts the file and line in.
 * Run cfgscan (include/muster/cfgscan.h) on untrusted text first.
 */
#ifndef MUSTER_CFGREAD_H
#define MUSTER_CFGREAD_H

#include <stddef.h>

#include <libconfig.h>

#include "muster/err.h"

#define CFGREAD_ETYPE	(-1)	/* missing, or not of the type asked for */
#define CFGREAD_ELONG	(-2)	/* a string too long for its buffer */
#define CFGREAD_ERANGE	(-3)	/* an integer outside the range */

/*
 * The line of the file s came from, 1 or more; 0 when libconfig knows
 * none (the root group) or s is NULL.
 */
int	cfgread_line(const config_setting_t *s);

/*
 * What a setting of libconfig type type is, for messages: "a string",
 * "an integer", "a group { ... }", "true or false"...  A static string.
 */
const char *cfgread_type_name(int type);

/*
 * If s is a string setting shorter than size bytes (its NUL included),
 * points *v at its value (owned by the config_t) and returns 0.  Returns
 * CFGREAD_ETYPE for NULL, another type or a value libconfig lost, and
 * CFGREAD_ELONG (*v still set) for a string of size bytes or more.
 */
int	cfgread_str(const config_setting_t *s, size_t size, const char **v);

/*
 * cfgread_str, then copies the value with its NUL into buf (size bytes,
 * the caller's).  buf is left "" on any error.
 */
int	cfgread_str_copy(const config_setting_t *s, char *buf, size_t size);

/*
 * If s is an integer (32 or 64 bits), stores it in *v; returns 0 when
 * lo <= *v <= hi, else CFGREAD_ERANGE.  CFGREAD_ETYPE for NULL or another
 * type (*v untouched).
 */
int	cfgread_int(const config_setting_t *s, long long lo, long long hi,
	    long long *v);

/* If s is true or false, stores 1 or 0 in *v and returns 0; else
 * CFGREAD_ETYPE. */
int	cfgread_bool(const config_setting_t *s, int *v);

/*
 * Records "file:LINE: message" (or "file: message" when s has no line)
 * in e with code, and returns code.
 */
int	cfgread_err(struct muster_err *e, int code, const char *file,
	    const config_setting_t *s, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

#endif
