/*
 * rollup_write: a roll-up as a table, CSV or JSON; see rollup_write.h,
 * and docs/rollup.md for the formats.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "muster/csvout.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/rr.h"
#include "muster/timefmt.h"
#include "rollup.h"
#include "rollup_write.h"

#define CELL_MAX		48

int
rollup_write_width(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

void
rollup_write_cell(FILE *fp, const char *s, int width, int right)
{
	int pad = width - rollup_write_width(s);

	for (; right && pad > 0; pad--)
		putc(' ', fp);
	for (; *s != '\0'; s++)
		putc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, fp);
	for (; !right && pad > 0; pad--)
		putc(' ', fp);
}

/* A cell that could start a formula is written as text (docs/rollup.md). */
void
rollup_write_csv(FILE *fp, const char *s)
{
	csvout_cell(fp, s, CSVOUT_NO_FORMULA);
}

/* The store holds UTF-8: jansson checked it on arrival. */
void
rollup_write_json_str(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(fp, "\\u%04x", ch);
		else
			putc(ch, fp);
	}
	putc('"', fp);
}

static const char *
json_bool(int v)
{
	return v ? "true" : "false";
}

/* What a family estimate's flag column says. */
#define FAM_SHOWN	"shown"
#define FAM_WITHHELD	"withheld"	/* the interval is too wide */
#define FAM_NONE	"none"		/* no family device or profile */

/*
 * The cells of family estimate f in percent with one decimal (the
 * complement when invert: "failing one rule or more" from "compliant"):
 * empty unless shown.  Returns the flag.
 */
static const char *
fam_cells(const struct rollup_fam *f, int invert, char pct[CELL_MAX / 4],
    char lo[CELL_MAX / 4], char hi[CELL_MAX / 4])
{
	double e, l, h;

	pct[0] = lo[0] = hi[0] = '\0';
	if (!f->estimated || f->reporting == 0)
		return FAM_NONE;
	if (!f->est.shown)
		return FAM_WITHHELD;
	e = invert ? 1 - f->est.est : f->est.est;
	l = invert ? 1 - f->est.hi : f->est.lo;
	h = invert ? 1 - f->est.lo : f->est.hi;
	snprintf(pct, CELL_MAX / 4, "%.1f", 100 * e);
	snprintf(lo, CELL_MAX / 4, "%.1f", 100 * l);
	snprintf(hi, CELL_MAX / 4, "%.1f", 100 * h);
	return FAM_SHOWN;
}

/* The table's one cell: "87.3% (85.1-89.5)", "-" withheld, "" none. */
static void
fam_table_cell(const struct rollup_fam *f, int invert, char cell[CELL_MAX])
{
	char pct[CELL_MAX / 4], lo[CELL_MAX / 4], hi[CELL_MAX / 4];
	const char *flag = fam_cells(f, invert, pct, lo, hi);

	if (strcmp(flag, FAM_SHOWN) == 0)
		snprintf(cell, CELL_MAX, "%s%% (%s-%s)", pct, lo, hi);
	else
		snprintf(cell, CELL_MAX, "%s", strcmp(flag, FAM_WITHHELD) ==
		    0 ? "-" : "");
}

/* The CSV's columns: ,reporting,pct,lo,hi,flag (reporting empty: none). */
static void
fam_csv(FILE *fp, const struct rollup_fam *f, int invert)
{
	char pct[CELL_MAX / 4], lo[CELL_MAX / 4], hi[CELL_MAX / 4];
	const char *flag = fam_cells(f, invert, pct, lo, hi);

	if (f->estimated)
		fprintf(fp, ",%lld", (long long)f->reporting);
	else
		fputs(",", fp);
	fprintf(fp, ",%s,%s,%s,%s", pct, lo, hi, flag);
}

/* JSON: null, or {"reporting": N, "pct": x|null, "lo", "hi", "shown"}. */
static void
fam_json(FILE *fp, const char *key, const struct rollup_fam *f, int invert)
{
	char pct[CELL_MAX / 4], lo[CELL_MAX / 4], hi[CELL_MAX / 4];
	const char *flag = fam_cells(f, invert, pct, lo, hi);
	int shown = strcmp(flag, FAM_SHOWN) == 0;

	fprintf(fp, ", \"%s\": ", key);
	if (!f->estimated) {
		fputs("null", fp);
		return;
	}
	fprintf(fp, "{\"reporting\": %lld, \"pct\": %s, \"lo\": %s, "
	    "\"hi\": %s, \"shown\": %s}", (long long)f->reporting,
	    shown ? pct : "null", shown ? lo : "null", shown ? hi : "null",
	    json_bool(shown));
}

/* Whether r has family devices or a family profile to speak of. */
static int
fam_any(const struct rollup *r)
{
	return r->family_rules > 0 || r->total.family > 0 ||
	    r->total.fam.estimated;
}

/* The footnote on estimates a table ends with. */
static void
fam_note(FILE *fp, const struct rollup *r, int rules)
{
	fprintf(fp, "family: %s estimated from randomized reports "
	    "(docs/privacy.md), 95 %% interval; withheld (-) where it is "
	    "wider than +-%.0f points; %zu family rule%s\n", rules ?
	    "share failing" : "share compliant", 100 * RR_SHOW_HALF,
	    r->family_rules, r->family_rules == 1 ? "" : "s");
}

int
rollup_write_flush(FILE *fp, struct muster_err *e)
{
	if (fflush(fp) != 0 || ferror(fp))
		return err_sys(e, MUSTER_EIO, "writing the roll-up");
	return 0;
}

enum { C_KEY, C_DEVICES, C_COMPLIANT, C_NONCOMPLIANT, C_STALE, C_NEVER,
    C_FAMILY, C_FAMEST, C__N };

static const char *const group_heads[C__N] = { NULL, "DEVICES",
    "COMPLIANT", "NONCOMPLIANT", "STALE", "NEVER", "FAMILY",
    "FAMILY COMPLIANT (95% CI)" };

/*
 * The count cells of a group (C_DEVICES..C_FAMEST) as table and CSV show:
 * personnel counts; the family devices counted, "<5" in the table where
 * none is and some are withheld (an empty cell in CSV, whose
 * family_withheld says why); the table's family estimate.
 */
static void
count_cells(const struct rollup_counts *c, int table,
    char cell[C__N][CELL_MAX])
{
	int i;

	for (i = C_DEVICES; i <= C_NEVER; i++) {
		int64_t v = i == C_DEVICES ? c->devices : c->n[i - C_COMPLIANT];

		snprintf(cell[i], CELL_MAX, "%lld", (long long)v);
	}
	/* CSV: a withheld count is an empty cell; family_withheld says why. */
	if (c->family_withheld && c->family == 0)
		snprintf(cell[C_FAMILY], CELL_MAX, "%s", table ? "<5" : "");
	else
		snprintf(cell[C_FAMILY], CELL_MAX, table && c->family_withheld ?
		    "%lld*" : "%lld", (long long)c->family);
	fam_table_cell(&c->fam, 0, cell[C_FAMEST]);
}

static void
head_line(FILE *fp, const struct rollup *r)
{
	char t[TIMEFMT_LEN];

	timefmt_format(r->as_of, t);
	fprintf(fp, "Muster roll-up by %s as of %s%s\n", rollup_by_name(r->by),
	    t, r->past ? " (from history)" : "");
	fprintf(fp, "stale: no report for %lld s (personnel), %lld s "
	    "(family)\n\n", (long long)r->stale_after[0],
	    (long long)r->stale_after[1]);
}

static void
table_groups(FILE *fp, const struct rollup *r)
{
	char cell[C__N][CELL_MAX];
	int w[C__N], i, star = 0, lt5 = 0, last, end;
	size_t g;
	const char *head = r->by == ROLLUP_BY_UNIT ? "UNIT" :
	    r->by == ROLLUP_BY_MODEL ? "MODEL" : "SCOPE";

	/* Without a family device or profile, the estimate's column and
	 * notes are left out: a personnel roll-up reads as it always has. */
	last = fam_any(r) ? C__N - 1 : C_FAMILY;
	for (i = 0; i < C__N; i++)
		w[i] = rollup_write_width(i == C_KEY ? head : group_heads[i]);
	if (w[C_KEY] < 5)
		w[C_KEY] = 5;		/* "TOTAL" */
	for (g = 0; g <= r->ngroups; g++) {
		const struct rollup_counts *c = g < r->ngroups ?
		    &r->groups[g].c : &r->total;

		count_cells(c, 1, cell);
		if (g < r->ngroups &&
		    rollup_write_width(r->groups[g].key) > w[C_KEY])
			w[C_KEY] = rollup_write_width(r->groups[g].key);
		for (i = C_DEVICES; i < C__N; i++)
			if ((int)strlen(cell[i]) > w[i])
				w[i] = (int)strlen(cell[i]);
		if (c->family_withheld && c->family == 0)
			lt5 = 1;
		else if (c->family_withheld)
			star = 1;
	}
	head_line(fp, r);
	for (i = 0; i <= last; i++) {
		if (i > 0)
			fputs("  ", fp);
		rollup_write_cell(fp, i == C_KEY ? head : group_heads[i],
		    i == last ? 0 : w[i], i != C_KEY && i < C_FAMILY);
	}
	putc('\n', fp);
	for (g = 0; g <= r->ngroups; g++) {
		const struct rollup_counts *c = g < r->ngroups ?
		    &r->groups[g].c : &r->total;

		count_cells(c, 1, cell);
		rollup_write_cell(fp, g < r->ngroups ? r->groups[g].key :
		    "TOTAL", w[C_KEY], 0);
		/* No trailing blanks where the estimate's cell is empty. */
		end = last > C_FAMILY && cell[last][0] == '\0' ? C_FAMILY :
		    last;
		for (i = C_DEVICES; i <= end; i++) {
			fputs("  ", fp);
			rollup_write_cell(fp, cell[i], i == end ? 0 : w[i],
			    i < C_FAMILY);
		}
		putc('\n', fp);
	}
	if (last == C_FAMILY && !lt5 && !star)
		return;
	putc('\n', fp);
	if (last != C_FAMILY) {
		fprintf(fp, "DEVICES to NEVER: personnel devices; FAMILY: "
		    "family devices counted\n");
		fam_note(fp, r, 0);
	}
	if (lt5)
		fprintf(fp, "<5: family devices left out: fewer than %d in "
		    "their unit (k-anonymity)\n", ROLLUP_K);
	if (star)
		fprintf(fp, "*: more family devices left out: fewer than %d "
		    "in their unit (k-anonymity)\n", ROLLUP_K);
}

static void
csv_groups(FILE *fp, const struct rollup *r)
{
	char cell[C__N][CELL_MAX];
	size_t g;
	int i;

	fprintf(fp, "%s,devices,compliant,noncompliant,stale,never,family,"
	    "family_withheld,family_reporting,family_compliant_pct,"
	    "family_compliant_lo,family_compliant_hi,family_estimate\r\n",
	    rollup_by_name(r->by));
	for (g = 0; g <= r->ngroups; g++) {
		const struct rollup_counts *c = g < r->ngroups ?
		    &r->groups[g].c : &r->total;

		count_cells(c, 0, cell);
		rollup_write_csv(fp, g < r->ngroups ? r->groups[g].key : "");
		for (i = C_DEVICES; i <= C_FAMILY; i++)
			fprintf(fp, ",%s", cell[i]);
		fprintf(fp, ",%s", c->family_withheld ? "yes" : "no");
		fam_csv(fp, &c->fam, 0);
		fputs("\r\n", fp);
	}
}

static void
json_counts(FILE *fp, const struct rollup_counts *c)
{
	fprintf(fp, "\"devices\": %lld, \"compliant\": %lld, "
	    "\"noncompliant\": %lld, \"stale\": %lld, \"never\": %lld, "
	    "\"family\": %lld, \"family_withheld\": %s",
	    (long long)c->devices, (long long)c->n[ROLLUP_COMPLIANT],
	    (long long)c->n[ROLLUP_NONCOMPLIANT],
	    (long long)c->n[ROLLUP_STALE], (long long)c->n[ROLLUP_NEVER],
	    (long long)c->family, json_bool(c->family_withheld));
	fam_json(fp, "family_compliant", &c->fam, 0);
	putc('}', fp);
}

static void
json_head(FILE *fp, const struct rollup *r)
{
	char t[TIMEFMT_LEN];

	timefmt_format(r->as_of, t);
	fprintf(fp, "{\n  \"version\": %d,\n  \"by\": \"%s\",\n"
	    "  \"as_of\": \"%s\",\n  \"from_history\": %s,\n  \"k\": %d,\n"
	    "  \"stale_after\": {\"personnel\": %lld, \"family\": %lld},\n"
	    "  \"family_privacy\": {\"mechanism\": \"%s\", \"epsilon\": %.4f, "
	    "\"keep\": %.2f, \"confidence\": 0.95, \"max_half_width_pct\": "
	    "%.0f, \"family_rules\": %zu},\n",
	    ROLLUP_FORMAT_VERSION, rollup_by_name(r->by), t,
	    json_bool(r->past), ROLLUP_K, (long long)r->stale_after[0],
	    (long long)r->stale_after[1], PROTO_PRIVACY_RR, RR_EPSILON,
	    rr_keep(), 100 * RR_SHOW_HALF, r->family_rules);
}

static void
json_groups(FILE *fp, const struct rollup *r)
{
	size_t g;

	json_head(fp, r);
	fputs("  \"groups\": [", fp);
	for (g = 0; g < r->ngroups; g++) {
		fprintf(fp, "%s\n    {\"%s\": ", g > 0 ? "," : "",
		    rollup_by_name(r->by));
		rollup_write_json_str(fp, r->groups[g].key);
		fputs(", ", fp);
		json_counts(fp, &r->groups[g].c);
	}
	fprintf(fp, "%s],\n  \"total\": {", r->ngroups > 0 ? "\n  " : "");
	json_counts(fp, &r->total);
	fputs("\n}\n", fp);
}

static void
scopes_text(unsigned scopes, const char *sep, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s",
	    scopes & (1u << SCOPE_PERSONNEL) ? "personnel" : "",
	    scopes == ((1u << SCOPE_PERSONNEL) | (1u << SCOPE_FAMILY)) ?
	    sep : "", scopes & (1u << SCOPE_FAMILY) ? "family" : "");
}

enum { R_RULE, R_SEVERITY, R_SCOPES, R_DEVICES, R_FAILING, R_FAMILY,
    R_TITLE, R__N };

static const char *const rule_heads[R__N] = { "RULE", "SEVERITY", "SCOPES",
    "DEVICES", "FAILING", "FAMILY FAILING (95% CI)", "TITLE" };

/* The cells of rule i (i == nrules: the total). */
static void
rule_cells(const struct rollup *r, size_t i, char cell[R__N][CELL_MAX],
    const char **text)
{
	const struct rollup_rule *ru = i < r->nrules ? &r->rules[i] : NULL;

	if (ru != NULL) {
		text[R_RULE] = ru->id;
		text[R_SEVERITY] = ru->severity;
		text[R_TITLE] = ru->title;
		scopes_text(ru->scopes, ",", cell[R_SCOPES], CELL_MAX);
		snprintf(cell[R_DEVICES], CELL_MAX, "%lld",
		    (long long)ru->devices);
		snprintf(cell[R_FAILING], CELL_MAX, "%lld",
		    (long long)ru->failing);
		fam_table_cell(&ru->fam, 0, cell[R_FAMILY]);
	} else {
		text[R_RULE] = "";
		text[R_SEVERITY] = "";
		text[R_TITLE] = "";
		cell[R_SCOPES][0] = '\0';
		snprintf(cell[R_DEVICES], CELL_MAX, "%lld",
		    (long long)r->total.devices);
		snprintf(cell[R_FAILING], CELL_MAX, "%lld",
		    (long long)r->failing_any);
		fam_table_cell(&r->total.fam, 1, cell[R_FAMILY]);
	}
	text[R_SCOPES] = cell[R_SCOPES];
	text[R_FAMILY] = cell[R_FAMILY];
	text[R_DEVICES] = cell[R_DEVICES];
	text[R_FAILING] = cell[R_FAILING];
}

static void
table_rules(FILE *fp, const struct rollup *r)
{
	char cell[R__N][CELL_MAX];
	const char *text[R__N];
	int w[R__N], i, any = fam_any(r);
	size_t k;

	for (i = 0; i < R__N; i++)
		w[i] = rollup_write_width(rule_heads[i]);
	if (w[R_RULE] < 5)
		w[R_RULE] = 5;
	for (k = 0; k <= r->nrules; k++) {
		rule_cells(r, k, cell, text);
		for (i = 0; i < R__N; i++)
			if (rollup_write_width(text[i]) > w[i])
				w[i] = rollup_write_width(text[i]);
	}
	head_line(fp, r);
	for (i = 0; i < R__N; i++) {
		if (i == R_FAMILY && !any)
			continue;
		if (i > 0)
			fputs("  ", fp);
		rollup_write_cell(fp, rule_heads[i], i == R_TITLE ? 0 : w[i],
		    i == R_DEVICES || i == R_FAILING);
	}
	putc('\n', fp);
	for (k = 0; k <= r->nrules; k++) {
		rule_cells(r, k, cell, text);
		if (k == r->nrules) {
			text[R_RULE] = "TOTAL";
			text[R_TITLE] = "(failing: devices failing one rule "
			    "or more)";
		}
		for (i = 0; i < R__N; i++) {
			if (i == R_FAMILY && !any)
				continue;
			if (i > 0)
				fputs("  ", fp);
			rollup_write_cell(fp, text[i], i == R_TITLE ? 0 : w[i],
			    i == R_DEVICES || i == R_FAILING);
		}
		putc('\n', fp);
	}
	if (any) {
		fprintf(fp, "\nDEVICES, FAILING: personnel devices\n");
		fam_note(fp, r, 1);
	}
	if (r->total.family_withheld)
		fprintf(fp, "%sfamily devices of units with fewer than %d are "
		    "left out (k-anonymity)\n", any ? "" : "\n", ROLLUP_K);
}

static void
csv_rules(FILE *fp, const struct rollup *r)
{
	char cell[R__N][CELL_MAX];
	const char *text[R__N];
	size_t k;

	fputs("rule,severity,scopes,devices,failing,title,family_reporting,"
	    "family_failing_pct,family_failing_lo,family_failing_hi,"
	    "family_estimate\r\n", fp);
	for (k = 0; k <= r->nrules; k++) {
		rule_cells(r, k, cell, text);
		if (k < r->nrules)
			scopes_text(r->rules[k].scopes, " ", cell[R_SCOPES],
			    CELL_MAX);
		rollup_write_csv(fp, text[R_RULE]);
		putc(',', fp);
		rollup_write_csv(fp, text[R_SEVERITY]);
		putc(',', fp);
		rollup_write_csv(fp, cell[R_SCOPES]);
		fprintf(fp, ",%s,%s,", text[R_DEVICES], text[R_FAILING]);
		rollup_write_csv(fp, text[R_TITLE]);
		if (k < r->nrules)
			fam_csv(fp, &r->rules[k].fam, 0);
		else
			fam_csv(fp, &r->total.fam, 1);
		fputs("\r\n", fp);
	}
}

static void
json_rules(FILE *fp, const struct rollup *r)
{
	const struct rollup_rule *ru;
	size_t k;
	int sc, n;

	json_head(fp, r);
	fputs("  \"rules\": [", fp);
	for (k = 0; k < r->nrules; k++) {
		ru = &r->rules[k];
		fprintf(fp, "%s\n    {\"rule\": ", k > 0 ? "," : "");
		rollup_write_json_str(fp, ru->id);
		fputs(", \"severity\": ", fp);
		rollup_write_json_str(fp, ru->severity);
		fputs(", \"title\": ", fp);
		rollup_write_json_str(fp, ru->title);
		fputs(", \"scopes\": [", fp);
		for (sc = 0, n = 0; sc < ROLLUP_NSCOPES; sc++)
			if (ru->scopes & (1u << sc))
				fprintf(fp, "%s\"%s\"", n++ > 0 ? ", " : "",
				    profile_scope_name(sc));
		fprintf(fp, "], \"devices\": %lld, \"failing\": %lld",
		    (long long)ru->devices, (long long)ru->failing);
		fam_json(fp, "family_failing", &ru->fam, 0);
		putc('}', fp);
	}
	fprintf(fp, "%s],\n  \"total\": {\"devices\": %lld, \"failing\": %lld, "
	    "\"family\": %lld, \"family_withheld\": %s",
	    r->nrules > 0 ? "\n  " : "", (long long)r->total.devices,
	    (long long)r->failing_any, (long long)r->total.family,
	    json_bool(r->total.family_withheld));
	fam_json(fp, "family_failing", &r->total.fam, 1);
	fputs("}\n}\n", fp);
}

int
rollup_write(const struct rollup *r, enum rollup_format fmt, FILE *fp,
    struct muster_err *e)
{
	int rules = r->by == ROLLUP_BY_RULE;

	switch (fmt) {
	case ROLLUP_FMT_TABLE:
		(rules ? table_rules : table_groups)(fp, r);
		break;
	case ROLLUP_FMT_CSV:
		(rules ? csv_rules : csv_groups)(fp, r);
		break;
	case ROLLUP_FMT_JSON:
		(rules ? json_rules : json_groups)(fp, r);
		break;
	}
	return rollup_write_flush(fp, e);
}
