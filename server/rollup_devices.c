/*
 * rollup_devices: the personnel devices to follow up; see
 * rollup_devices.h, and docs/rollup.md for the formats.  The store
 * streams the devices in order (store_devices_scan); each is written as
 * it arrives, so a million-device list needs no more memory than one.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "muster/timefmt.h"
#include "rollup.h"
#include "rollup_devices.h"
#include "rollup_write.h"
#include "store.h"


enum { D_ID, D_UNIT, D_PERSON, D_MODEL, D_LAST, D_STATUS, D_FAILING, D__N };

static const char *const dev_heads[D__N] = { "DEVICE", "UNIT", "PERSON",
    "MODEL", "LAST_REPORT", "STATUS", "FAILING" };

static const char *const dev_csv_heads =
    "device,unit,person,model,last_report,status,failing\r\n";

/* Widths of the table's columns, from the longest values stored. */
static int
dev_widths(struct store_read *rd, const struct store_devq *q, int w[D__N],
    struct muster_err *e)
{
	static const int fixed[D__N] = { 32, 0, 0, 0, TIMEFMT_CHARS, 12, 0 };
	int len[3], i, rc;

	for (i = 0; i < D__N; i++) {
		w[i] = rollup_write_width(dev_heads[i]);
		if (fixed[i] > w[i])
			w[i] = fixed[i];
	}
	if (w[D_MODEL] < 7)
		w[D_MODEL] = 7;		/* "unknown" */
	if ((rc = store_devices_widths(rd, q, len, e)) != 0)
		return rc;
	for (i = 0; i < 3; i++)
		if (len[i] > w[D_UNIT + i])
			w[D_UNIT + i] = len[i];
	return 0;
}

/*
 * What the device's newest report said is stale (REPORT_STALE_*), for
 * the table and CSV as words after its status, "" when nothing is (so a
 * fleet with nothing stale lists exactly as before).
 */
static const char *
stale_words(unsigned stale, int json)
{
	static char buf[64];
	const char *word;
	unsigned bit;
	size_t i;

	buf[0] = '\0';
	for (i = 0; (word = report_stale_word(i, &bit)) != NULL; i++) {
		if ((stale & bit) == 0)
			continue;
		if (json)
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
			    "%s\"%s\"", buf[0] != '\0' ? ", " : "", word);
		else
			snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
			    "%s%s", buf[0] != '\0' ? "," : " (stale: ", word);
	}
	if (!json && buf[0] != '\0')
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ")");
	return buf;
}

/* One device in fmt; text[] holds its columns, last NULL if never. */
static void
dev_row(FILE *fp, enum rollup_format fmt, const int w[D__N],
    const char *text[D__N], unsigned stale, int64_t n)
{
	const char *p, *sp;
	int i;

	switch (fmt) {
	case ROLLUP_FMT_TABLE:
		for (i = 0; i < D__N; i++) {
			const char *v = text[i];

			if (i > 0)
				fputs("  ", fp);
			if (v == NULL || *v == '\0')
				v = i == D_MODEL ? "unknown" : "-";
			rollup_write_cell(fp, v, i == D__N - 1 ? 0 : w[i], 0);
		}
		putc('\n', fp);
		break;
	case ROLLUP_FMT_CSV:
		for (i = 0; i < D__N; i++) {
			if (i > 0)
				putc(',', fp);
			rollup_write_csv(fp, text[i] != NULL ? text[i] : "");
		}
		fputs("\r\n", fp);
		break;
	case ROLLUP_FMT_JSON:
		fprintf(fp, "%s\n    {\"device\": ", n > 0 ? "," : "");
		rollup_write_json_str(fp, text[D_ID]);
		fputs(", \"unit\": ", fp);
		rollup_write_json_str(fp, text[D_UNIT]);
		fputs(", \"person\": ", fp);
		rollup_write_json_str(fp, text[D_PERSON]);
		fputs(", \"model\": ", fp);
		rollup_write_json_str(fp, text[D_MODEL]);
		fputs(", \"last_report\": ", fp);
		if (text[D_LAST] != NULL)
			rollup_write_json_str(fp, text[D_LAST]);
		else
			fputs("null", fp);
		fprintf(fp, ", \"status\": \"%s\", ", text[D_STATUS]);
		if (stale != 0)
			fprintf(fp, "\"stale\": [%s], ", stale_words(stale, 1));
		fputs("\"failing\": [", fp);
		for (p = text[D_FAILING], i = 0; *p != '\0'; p = sp, i++) {
			size_t len;

			if ((sp = strchr(p, ' ')) == NULL)
				sp = p + strlen(p);
			len = (size_t)(sp - p);
			if (i > 0)
				fputs(", ", fp);
			/* Rule ids are [a-z0-9._-]: nothing to escape. */
			fprintf(fp, "\"%.*s\"", (int)len, p);
			if (*sp == ' ')
				sp++;
		}
		fputs("]}", fp);
		break;
	}
}

int
rollup_devices(struct rollup_db *db, const struct rollup_devq *q,
    enum rollup_format fmt, FILE *fp, struct muster_err *e)
{
	struct store_cursor *cur = NULL;
	struct store_devq sq;
	struct store_row row;
	const char *text[D__N];
	char last[TIMEFMT_LEN], now_s[TIMEFMT_LEN], status[96];
	int64_t interval[ROLLUP_NSCOPES], n = 0;
	time_t at = q->now != 0 ? q->now : time(NULL);
	int w[D__N], rc, sc, i;

	/* One snapshot for every read of the list. */
	if ((rc = store_read_begin(db->rd, e)) != 0 ||
	    (rc = rollup_intervals(db, at, 0, interval, e)) != 0)
		goto out;
	sq.unit = q->unit;
	sq.state = q->status;
	for (sc = 0; sc < ROLLUP_NSCOPES; sc++)
		sq.stale_before[sc] = (int64_t)at - ROLLUP_STALE_FACTOR *
		    interval[sc];
	if (fmt == ROLLUP_FMT_TABLE &&
	    (rc = dev_widths(db->rd, &sq, w, e)) != 0)
		goto out;
	if ((rc = store_devices_scan(db->rd, &sq, &cur, e)) != 0)
		goto out;
	timefmt_format(at, now_s);
	switch (fmt) {
	case ROLLUP_FMT_TABLE:
		fprintf(fp, "Muster personnel devices as of %s\nstale: no "
		    "report for %lld s\n\n", now_s,
		    (long long)(ROLLUP_STALE_FACTOR *
		    interval[SCOPE_PERSONNEL]));
		for (i = 0; i < D__N; i++) {
			if (i > 0)
				fputs("  ", fp);
			rollup_write_cell(fp, dev_heads[i],
			    i == D__N - 1 ? 0 : w[i], 0);
		}
		putc('\n', fp);
		break;
	case ROLLUP_FMT_CSV:
		fputs(dev_csv_heads, fp);
		break;
	case ROLLUP_FMT_JSON:
		fprintf(fp, "{\n  \"version\": %d,\n  \"as_of\": \"%s\",\n"
		    "  \"stale_after\": %lld,\n  \"devices\": [",
		    ROLLUP_FORMAT_VERSION, now_s,
		    (long long)(ROLLUP_STALE_FACTOR *
		    interval[SCOPE_PERSONNEL]));
		break;
	}
	while ((rc = store_cursor_next(cur, &row, e)) > 0) {
		int cat = row.state;

		text[D_ID] = row.id;
		text[D_UNIT] = row.unit;
		text[D_PERSON] = row.person;
		text[D_MODEL] = row.model;
		if (!row.has_last)
			text[D_LAST] = NULL;
		else {
			timefmt_format(row.last, last);
			text[D_LAST] = last;
		}
		text[D_STATUS] = rollup_status_name(cat >= 0 &&
		    cat < ROLLUP_NSTATUS ? cat : ROLLUP_NEVER);
		if (row.stale != 0 && fmt != ROLLUP_FMT_JSON) {
			snprintf(status, sizeof status, "%s%s",
			    text[D_STATUS], stale_words(row.stale, 0));
			text[D_STATUS] = status;
		}
		text[D_FAILING] = row.failing;
		dev_row(fp, fmt, w, text, row.stale, n++);
		if (ferror(fp)) {
			rc = err_sys(e, MUSTER_EIO, "writing the device list");
			goto out;
		}
	}
	if (rc < 0)
		goto out;
	if (fmt == ROLLUP_FMT_TABLE)
		fprintf(fp, "\n%lld device%s\n", (long long)n,
		    n == 1 ? "" : "s");
	else if (fmt == ROLLUP_FMT_JSON)
		fprintf(fp, "%s],\n  \"count\": %lld\n}\n", n > 0 ? "\n  " : "",
		    (long long)n);
	rc = rollup_write_flush(fp, e);
out:
	store_cursor_close(cur);
	store_read_end(db->rd);
	return rc;
}
