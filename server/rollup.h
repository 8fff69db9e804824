/*
 * rollup: compliance roll-ups, computed from what the store's read
 * interface (store.h: store_read_open, store_rollup_scan) streams
 * (docs/rollup.md has the formats and what every number means).  Used by
 * `muster-server report` (cli.c) and by GET /v1/admin/rollup
 * (rollup_http.h); rollup_write.h writes a roll-up out, rollup_devices.h
 * lists the devices to follow up.
 *
 * A device is counted in exactly one of four states: never (no report),
 * stale (no report within ROLLUP_STALE_FACTOR times the report_interval of
 * the profile published for its scope, PROFILE_DEFAULT_REPORT_INTERVAL when
 * none), else compliant or noncompliant as its newest report says.
 * Revoked devices are left out.  Family devices are counted only where
 * their unit holds at least ROLLUP_K of them (k-anonymity), and never
 * listed one by one; their results are randomized on the device, so
 * their compliance is only estimated (struct rollup_fam), never counted.
 *
 * A handle is used by one thread at a time; open one per thread.
 */
#ifndef MUSTER_SERVER_ROLLUP_H
#define MUSTER_SERVER_ROLLUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "muster/err.h"
#include "muster/rr.h"

#define ROLLUP_K		5	/* fewest family devices counted */
#define ROLLUP_STALE_FACTOR	2	/* stale after this many intervals */
#define ROLLUP_FORMAT_VERSION	1	/* "version" of the JSON documents */
#define ROLLUP_NSCOPES		2	/* SCOPE_PERSONNEL, SCOPE_FAMILY */

enum rollup_by {
	ROLLUP_BY_UNIT,
	ROLLUP_BY_RULE,
	ROLLUP_BY_MODEL,
	ROLLUP_BY_SCOPE,
};

enum rollup_format {
	ROLLUP_FMT_TABLE,
	ROLLUP_FMT_CSV,
	ROLLUP_FMT_JSON,
};

/* The values of enum store_state (rollup.c checks). */
enum rollup_status {
	ROLLUP_COMPLIANT,
	ROLLUP_NONCOMPLIANT,
	ROLLUP_STALE,
	ROLLUP_NEVER,
	ROLLUP_NSTATUS,
};

struct rollup_query {
	enum rollup_by	by;
	time_t		as_of;		/* 0: the present */
	time_t		now;		/* 0: the clock (tests set it) */
};

/*
 * A family estimate (muster/rr.h, docs/privacy.md): the share of the
 * counted family devices with a current report (not stale, not never)
 * that is compliant (a group, the total) or fails a rule (by rule),
 * with its 95 % interval; est.shown says whether it is narrow enough to
 * print (half-width at most RR_SHOW_HALF).
 */
struct rollup_fam {
	int64_t			reporting;	/* the estimate's devices */
	struct rr_estimate	est;
	int			estimated;	/* 0: no family profile */
};

/*
 * Counts of one group (or of all: the total).  n[] and devices count
 * personnel devices only, exactly; family devices are counted in family
 * (units of ROLLUP_K or more) and their compliance only estimated.
 */
struct rollup_counts {
	int64_t		n[ROLLUP_NSTATUS];	/* personnel in each state */
	int64_t		devices;		/* their sum */
	int64_t		family;			/* family devices counted */
	int		family_withheld;	/* family devices left out */
	struct rollup_fam fam;			/* their share compliant */
};

struct rollup_group {
	char			*key;		/* unit, model ("unknown"), scope */
	struct rollup_counts	 c;
};

struct rollup_rule {
	char		*id;
	char		*title;		/* "" when no profile holds the rule */
	const char	*severity;	/* "" likewise; static */
	unsigned	 scopes;	/* 1 << SCOPE_*: profiles holding it */
	int64_t		 devices;	/* personnel devices, if personnel */
	int64_t		 failing;	/* personnel devices failing it */
	struct rollup_fam fam;		/* family: share failing, if family */
};

struct rollup {
	enum rollup_by		 by;
	time_t			 as_of;		/* the time the numbers are for */
	int			 past;		/* from history (--as-of) */
	struct rollup_group	*groups;	/* sorted by key (not for rule) */
	size_t			 ngroups;
	struct rollup_rule	*rules;		/* sorted by id (by rule only) */
	size_t			 nrules;
	int64_t			 stale_after[2]; /* s; [SCOPE_PERSONNEL], [SCOPE_FAMILY] */
	struct rollup_counts	 total;		/* every counted device */
	int64_t			 failing_any;	/* by rule: failing one or more */
	size_t			 family_rules;	/* rules of the family profile */
};

struct store_read;

/* A read handle on the store (rollup_open). */
struct rollup_db {
	struct store_read	*rd;
};

/*
 * Opens the store in data_dir read-only through store_read_open (busy
 * timeout, query_only, the schema version checked).  MUSTER_ENOINPUT when data_dir does not exist,
 * MUSTER_ECONFIG when others may read it or the schema is another
 * version, MUSTER_EIO when the file cannot be read.  A data_dir without a
 * database yet is an empty store, not an error.  Release with
 * rollup_close (NULL is a no-op).
 */
int	rollup_open(const char *data_dir, struct rollup_db **out,
	    struct muster_err *e);
void	rollup_close(struct rollup_db *db);

/*
 * The report_interval (s) of the profile each scope was served at `at`
 * (with past: the newest published by then; else the newest), into
 * interval[SCOPE_*]; PROFILE_DEFAULT_REPORT_INTERVAL where none was, or
 * where this build cannot parse it.  Reads in db's snapshot if one was
 * begun (store_read_begin).  Errors as rollup_compute.
 */
int	rollup_intervals(struct rollup_db *db, time_t at, int past,
	    int64_t interval[ROLLUP_NSCOPES], struct muster_err *e);

/*
 * Computes the roll-up q asks for, in one read transaction, into a new
 * *out (rollup_free).  MUSTER_EUSAGE for an as_of later than now;
 * MUSTER_EDATA for one before the store's first record (or any as_of
 * when it holds none); MUSTER_ETEMP when the store stayed busy,
 * MUSTER_EIO on other store errors.
 */
int	rollup_compute(struct rollup_db *db, const struct rollup_query *q,
	    struct rollup **out, struct muster_err *e);
void	rollup_free(struct rollup *r);

/* Parse option values; 0, or -1 for an unknown name. */
int	rollup_by_parse(const char *s, enum rollup_by *out);
int	rollup_format_parse(const char *s, enum rollup_format *out);
int	rollup_status_parse(const char *s, enum rollup_status *out);

/* Names: "unit", "csv", "noncompliant". */
const char *rollup_by_name(enum rollup_by by);
const char *rollup_status_name(enum rollup_status st);

/*
 * Adds the counts of s to t (the states, devices, family, withheld); the
 * family estimate t->fam is left as it is.
 */
void	rollup_counts_add(struct rollup_counts *t,
	    const struct rollup_counts *s);

/*
 * The roll-up's writers, device list and HTTP entry point, declared
 * where they are defined; included here so that a user of the roll-up
 * needs this one include.
 */
#include "rollup_write.h"
#include "rollup_devices.h"
#include "rollup_http.h"

#endif
