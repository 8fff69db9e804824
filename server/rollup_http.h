/*
 * rollup_http: GET /v1/admin/rollup, the roll-up (rollup.h) as the admin
 * API serves it: query parameters checked, the answer written into a
 * buffer with its status and content type.  route.c calls it after the
 * admin token and the method have been checked.
 */
#ifndef MUSTER_SERVER_ROLLUP_HTTP_H
#define MUSTER_SERVER_ROLLUP_HTTP_H

#include <stddef.h>

#include "muster/err.h"

/*
 * GET /v1/admin/rollup: by, format and as_of are the query parameters as
 * received (NULL when absent: by=unit, format=json, the present).  Opens
 * data_dir itself, so any thread may call it.  Always sets *status (200,
 * 400 for a malformed or future parameter, 503 when the store stayed
 * busy, 500 otherwise), *ctype (a static string) and *body, malloc'd,
 * *len bytes, which the caller frees (for an error: {"error":"..."}).
 * Returns 0, or the MUSTER_E* value with e saying what failed, for the
 * log.
 */
int	rollup_http(const char *data_dir, const char *by, const char *format,
	    const char *as_of, char **body, size_t *len, const char **ctype,
	    unsigned *status, struct muster_err *e);

#endif
