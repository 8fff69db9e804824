/*
 * console_page: the console's pages rendered into an html buffer, shared
 * by the console's routes (console.c) and `report --format html`.
 * Private to the console.
 */
#ifndef MUSTER_SERVER_CONSOLE_PAGE_H
#define MUSTER_SERVER_CONSOLE_PAGE_H

#include <time.h>

#include "muster/err.h"
#include "html.h"
#include "rollup.h"

struct trust;

/* What a page is rendered from. */
struct console_ctx {
	const char		*data_dir;	/* cache key */
	struct rollup_db	*db;
	struct trust		*trust;		/* NULL: no manifests (report) */
	time_t			 now;
	time_t			 as_of;		/* 0: the present */
	const char		*csrf;		/* NULL: a standalone file */
};

/* Parameters of the pages that take them (validated by console.c). */
struct console_params {
	const char	*unit;		/* units, devices: NULL for all */
	int		 status;	/* devices: enum rollup_status or -1 */
	long		 page;		/* devices: 0-based */
	const char	*id;		/* device */
};

/*
 * Each renders its whole page into h; 0, or what rollup_compute or the
 * store returned (MUSTER_ENOINPUT: no such device, or a family device).
 */
int	console_page_overview(struct html *h, struct console_ctx *c,
	    struct muster_err *e);
int	console_page_units(struct html *h, struct console_ctx *c,
	    const struct console_params *p, struct muster_err *e);
int	console_page_rules(struct html *h, struct console_ctx *c,
	    struct muster_err *e);
int	console_page_models(struct html *h, struct console_ctx *c,
	    struct muster_err *e);
int	console_page_devices(struct html *h, struct console_ctx *c,
	    const struct console_params *p, struct muster_err *e);
int	console_page_device(struct html *h, struct console_ctx *c,
	    const struct console_params *p, struct muster_err *e);
int	console_page_family(struct html *h, struct console_ctx *c,
	    struct muster_err *e);
int	console_page_profiles(struct html *h, struct console_ctx *c,
	    struct muster_err *e);

/* The sign-in page; msg (program text) or NULL. */
void	console_page_signin(struct html *h, const char *msg);

/* A short error page with status text msg (program text). */
void	console_page_error(struct html *h, const char *msg);

/*
 * A roll-up by `by` at c->as_of from the cache (fresh for
 * CONSOLE_CACHE_TTL s; a past one longer) or computed: *r to be given
 * back with console_rollup_put.  Errors as rollup_compute.
 */
int	console_rollup_get(struct console_ctx *c, enum rollup_by by,
	    struct rollup **r, struct muster_err *e);
void	console_rollup_put(struct rollup *r);

#endif
