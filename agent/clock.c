/* clock: the device's clock offset from the server's; agent/clock.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/fs.h"
#include "muster/proto.h"
#include "muster/timefmt.h"
#include "clock.h"

int
clock_offset_load(const char *dir, int64_t *off, struct muster_err *e)
{
	int rc;

	/* fs_read_number's only MUSTER_ECONFIG: the file holds no offset. */
	if ((rc = fs_read_number(dir, CLOCK_FILE, CLOCK_FILE_MAX,
	    -CLOCK_OFFSET_MAX, CLOCK_OFFSET_MAX, off, e)) == MUSTER_ECONFIG)
		rc = err_set(e, MUSTER_ECONFIG, "%s/%s: damaged (want one "
		    "number of seconds); remove it to measure the clock again",
		    dir, CLOCK_FILE);
	return rc;
}

int
clock_offset_store(const char *dir, int64_t off, struct muster_err *e)
{
	if (off < -CLOCK_OFFSET_MAX || off > CLOCK_OFFSET_MAX)
		return err_set(e, MUSTER_EDATA, "clock offset out of range");
	return fs_write_number(dir, CLOCK_FILE, off, e);
}

int
clock_offset_of(time_t server, time_t local, int64_t *off)
{
	int64_t d = (int64_t)server - (int64_t)local;

	if (d < -CLOCK_OFFSET_MAX || d > CLOCK_OFFSET_MAX)
		return -1;
	*off = d;
	return 0;
}

int
clock_offset_from(const char *body, size_t len, time_t local, int64_t *off)
{
	json_t *o;
	const char *err, *st;
	size_t n = 0;
	time_t t;
	int rc = -1;

	if (body == NULL || (o = proto_json_parse(body, len, 1)) == NULL)
		return -1;
	err = proto_json_str(o, "error", NULL);
	st = proto_json_str(o, "server_time", &n);
	if (err == NULL || st == NULL || (strcmp(err, PROTO_ERR_CLOCK) != 0 &&
	    strcmp(err, PROTO_ERR_REPORT_WINDOW) != 0 &&
	    strcmp(err, PROTO_ERR_REPORT_BEFORE) != 0) ||
	    n != PROTO_TIME_LEN || timefmt_parse(st, &t) != 0)
		goto out;
	rc = clock_offset_of(t, local, off);
out:
	json_decref(o);
	return rc;
}
