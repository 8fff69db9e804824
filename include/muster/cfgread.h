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
#include <stdint.h>
#include <time.h>

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

/*
 * cfgread_line, but 1 where that is 0: a setting with no line is the root
 * group, whose place is the top of the file.
 */
int	cfgread_line1(const config_setting_t *s);

/* 1 if s is one of names (a NULL-terminated list), else 0. */
int	cfgread_in(const char *const *names, const char *s);

/*
 * A document read strictly (a root, a manifest, a sim device file): its
 * name for messages and where an error goes, both the caller's.  Every
 * cfgread_doc_* error is MUSTER_EDATA "name:LINE: ...", LINE from
 * cfgread_line1, and "label: " stands before the message where a label
 * is given (NULL: none).
 */
struct cfgread_doc {
	const char		*name;
	struct muster_err	*e;
};

/* Records "name:LINE: message" for setting s; returns MUSTER_EDATA. */
int	cfgread_doc_err(const struct cfgread_doc *d, const config_setting_t *s,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * 0 if every member of group g is named in names (NULL-terminated); else
 * MUSTER_EDATA "label: unknown field "NAME"" at that member.
 */
int	cfgread_doc_known(const struct cfgread_doc *d,
	    const config_setting_t *g, const char *label,
	    const char *const *names);

/*
 * The member name of group g, which must exist and be of libconfig type
 * type (CONFIG_TYPE_INT also takes an INT64; want says the type in
 * words).  Returns it (owned by the config_t) with *rc 0, or NULL with
 * *rc MUSTER_EDATA: "label: missing field "NAME"" or "label: field
 * "NAME" must be WANT".
 */
config_setting_t *cfgread_doc_member(const struct cfgread_doc *d,
	    const config_setting_t *g, const char *label, const char *name,
	    int type, const char *want, int *rc);

/*
 * cfgread_doc_member for a string member: returns the string (the
 * config_t's) and *sp its setting, for an error at its line, with *rc 0;
 * or NULL with *rc as cfgread_doc_member sets it.
 */
const char *cfgread_doc_string(const struct cfgread_doc *d,
	    const config_setting_t *g, const char *label, const char *name,
	    config_setting_t **sp, int *rc);

/*
 * The head every signed document starts with, required members of the
 * root group top.  cfgread_doc_type: type, the string type_name (else
 * "type must be "TYPE"").  cfgread_doc_version: version, an integer from
 * 1 to max stored in *version (else "version N out of range (1 to MAX)"),
 * then expires, a timefmt time stored in *expires (else "bad expires
 * (want YYYY-MM-DDTHH:MM:SSZ, UTC)").  Each returns 0 or MUSTER_EDATA.
 */
/*
 * Scans and reads the signed document buf (cfgscan_read_doc with what,
 * max and max_depth) and hands its root group to parse(d, top, arg), d
 * naming it name (what when name is NULL) and recording into e.
 * Returns the read's error or parse's result.  The settings are freed
 * on return: parse copies out what it keeps.
 */
int	cfgread_doc_parse(const char *name, const char *what, const char *buf,
	    size_t len, size_t max, int max_depth,
	    int (*parse)(const struct cfgread_doc *d,
	    const config_setting_t *top, void *arg), void *arg,
	    struct muster_err *e);

int	cfgread_doc_type(const struct cfgread_doc *d,
	    const config_setting_t *top, const char *type_name);
int	cfgread_doc_version(const struct cfgread_doc *d,
	    const config_setting_t *top, int max, int64_t *version,
	    time_t *expires);

struct buf;

/*
 * One kind of signed document (a root, a manifest): what it is called in
 * messages, its size and depth caps for cfgscan_read_doc, the members its
 * top group may have (NULL-terminated) and its type string, and parse,
 * which fills an object of size bytes from the top group once those two
 * are checked.
 */
struct cfgread_kind {
	const char		*what;
	size_t			 max;
	int			 max_depth;
	const char *const	*fields;
	const char		*type;
	int			(*parse)(const struct cfgread_doc *d,
				    const config_setting_t *top, void *obj);
	size_t			 size;
};

/*
 * Reads the document buf of kind k (named name in messages; k->what when
 * NULL) into obj, which the caller owns: the top group's members and type
 * are checked (cfgread_doc_known, cfgread_doc_type), then k->parse fills
 * obj.  Returns 0, or the error with obj all zeroes.
 */
int	cfgread_doc_load(const struct cfgread_kind *k, const char *name,
	    const void *buf, size_t len, void *obj, struct muster_err *e);

/*
 * Hands out the document of kind k that b holds, as *out (the caller's,
 * freed with free) and *outlen, once b was written whole and the text
 * reads back as "new WHAT" into back (the caller's scratch object of
 * k->size bytes).  Returns 0; MUSTER_EINTERNAL when b was cut short or
 * memory ran out (buf_check); MUSTER_EUSAGE with the reading's message.
 * b stays the caller's to free.
 */
int	cfgread_doc_emit(const struct cfgread_kind *k, struct buf *b,
	    void *back, char **out, size_t *outlen, struct muster_err *e);

#endif
