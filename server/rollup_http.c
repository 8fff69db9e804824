/*
 * rollup_http: GET /v1/admin/rollup; see rollup_http.h, and
 * docs/protocol.md for the API.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muster/profile.h"
#include "muster/timefmt.h"
#include "rollup.h"
#include "rollup_http.h"
#include "rollup_write.h"

#define CT_JSON			"application/json"
#define CT_CSV			"text/csv; charset=utf-8; header=present"
#define CT_TEXT			"text/plain; charset=utf-8"

/*
 * rollup_compute + rollup_write into a malloc'd buffer *out of *len bytes
 * (NUL-terminated, the NUL not counted), which the caller frees.
 */
static int
rollup_http_run(struct rollup_db *db, const struct rollup_query *q,
    enum rollup_format fmt, char **out, size_t *len, struct muster_err *e)
{
	struct rollup *r = NULL;
	FILE *fp = NULL;
	char *buf = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = rollup_compute(db, q, &r, e)) != 0)
		goto out;
	if ((fp = open_memstream(&buf, &n)) == NULL) {
		rc = err_sys(e, MUSTER_EINTERNAL, "open_memstream");
		goto out;
	}
	rc = rollup_write(r, fmt, fp, e);
	if (fclose(fp) != 0 && rc == 0)
		rc = err_sys(e, MUSTER_EINTERNAL, "open_memstream");
	fp = NULL;
	if (rc != 0)
		goto out;
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (fp != NULL)
		fclose(fp);
	free(buf);
	rollup_free(r);
	return rc;
}

static int
http_error(unsigned code, const char *msg, char **body, size_t *len,
    const char **ctype, unsigned *status)
{
	*status = code;
	*ctype = CT_JSON;
	if (asprintf(body, "{\"error\":\"%s\"}\n", msg) == -1) {
		*body = NULL;
		*len = 0;
		return -1;
	}
	*len = strlen(*body);
	return 0;
}

int
rollup_http(const char *data_dir, const char *by, const char *format,
    const char *as_of, char **body, size_t *len, const char **ctype,
    unsigned *status, struct muster_err *e)
{
	static const char *const ctypes[] = {
		[ROLLUP_FMT_TABLE] = CT_TEXT,
		[ROLLUP_FMT_CSV] = CT_CSV,
		[ROLLUP_FMT_JSON] = CT_JSON,
	};
	struct rollup_query q = { ROLLUP_BY_UNIT, 0, 0 };
	enum rollup_format fmt = ROLLUP_FMT_JSON;
	struct rollup_db *db = NULL;
	const char *why = NULL;
	int rc;

	*body = NULL;
	*len = 0;
	if (by != NULL && rollup_by_parse(by, &q.by) != 0)
		why = "by must be unit, rule, model or scope";
	else if (format != NULL && rollup_format_parse(format, &fmt) != 0)
		why = "format must be json, csv or table";
	else if (as_of != NULL && timefmt_parse(as_of, &q.as_of) != 0)
		why = "as_of must be YYYY-MM-DDTHH:MM:SSZ";
	if (why != NULL) {
		/* "rollup: bad by": the parameter is the answer's first word. */
		rc = err_set(e, MUSTER_EUSAGE, "rollup: bad %.*s",
		    (int)strcspn(why, " "), why);
		(void)http_error(400, why, body, len, ctype, status);
		goto out;
	}
	/* 0 asks for the present; the epoch is a past. */
	if (as_of != NULL && q.as_of == 0)
		q.as_of = -1;
	if ((rc = rollup_open(data_dir, &db, e)) != 0 ||
	    (rc = rollup_http_run(db, &q, fmt, body, len, e)) != 0) {
		if (rc == MUSTER_EUSAGE)
			(void)http_error(400, "as_of is in the future", body,
			    len, ctype, status);
		else if (rc == MUSTER_EDATA && as_of != NULL)
			(void)http_error(400, "as_of is before the store's "
			    "first record", body, len, ctype, status);
		else if (rc == MUSTER_ETEMP)
			(void)http_error(503, "store busy, try again", body,
			    len, ctype, status);
		else
			(void)http_error(500, "internal error", body, len,
			    ctype, status);
		goto out;
	}
	*status = 200;
	*ctype = ctypes[fmt];
out:
	rollup_close(db);
	return rc;
}
