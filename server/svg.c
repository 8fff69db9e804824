/* svg: inline SVG charts from numbers; see svg.h. */
#include <stdio.h>
#include <time.h>

#include "muster/timefmt.h"
#include "svg.h"

#define SVG_W		640
#define SVG_H		220
#define SVG_LEFT	48
#define SVG_RIGHT	16
#define SVG_TOP		12
#define SVG_BOTTOM	36

static void
svg_day(time_t t, char buf[11])
{
	char full[TIMEFMT_LEN];

	timefmt_format(t, full);
	snprintf(buf, 11, "%.10s", full);
}

int
svg_trend(struct html *h, const char *label, const struct svg_point *p,
    size_t n)
{
	const double pw = SVG_W - SVG_LEFT - SVG_RIGHT;
	const double ph = SVG_H - SVG_TOP - SVG_BOTTOM;
	double span, x, y;
	char d0[11], d1[11], d[11];
	size_t i;
	int pen = 0, g;

	if (n == 0 || n > SVG_POINTS_MAX)
		return -1;
	span = n > 1 ? (double)(p[n - 1].t - p[0].t) : 1;
	if (span <= 0)
		span = 1;
	html_markupf(h, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" "
	    "role=\"img\" aria-label=\"", SVG_W, SVG_H);
	html_attr(h, label);
	html_markup(h, "\" xmlns=\"http://www.w3.org/2000/svg\"><title>");
	html_text(h, label);
	html_markup(h, "</title><desc>");
	for (i = 0; i < n; i++) {
		svg_day(p[i].t, d);
		html_markupf(h, "%s%s: ", i > 0 ? "; " : "", d);
		if (p[i].pct < 0)
			html_markup(h, "no data");
		else
			html_markupf(h, "%.1f%%", p[i].pct);
	}
	html_markup(h, "</desc>");
	/* Grid and y labels every 25 %. */
	for (g = 0; g <= 100; g += 25) {
		y = SVG_TOP + ph * (1 - g / 100.0);
		html_markupf(h, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" "
		    "y2=\"%.1f\" stroke=\"#bbb\" stroke-width=\"1\"/>"
		    "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" "
		    "text-anchor=\"end\" fill=\"#222\">%d%%</text>", SVG_LEFT,
		    y, SVG_W - SVG_RIGHT, y, SVG_LEFT - 6, y + 4, g);
	}
	svg_day(p[0].t, d0);
	svg_day(p[n - 1].t, d1);
	html_markupf(h, "<text x=\"%d\" y=\"%d\" font-size=\"11\" "
	    "fill=\"#222\">%s</text><text x=\"%d\" y=\"%d\" font-size=\"11\" "
	    "text-anchor=\"end\" fill=\"#222\">%s</text>", SVG_LEFT,
	    SVG_H - 12, d0, SVG_W - SVG_RIGHT, SVG_H - 12, d1);
	html_markup(h, "<path fill=\"none\" stroke=\"#0b5394\" "
	    "stroke-width=\"2\" d=\"");
	for (i = 0; i < n; i++) {
		if (p[i].pct < 0) {
			pen = 0;
			continue;
		}
		x = SVG_LEFT + (n > 1 ? pw * (double)(p[i].t - p[0].t) / span :
		    pw / 2);
		y = SVG_TOP + ph * (1 - (p[i].pct > 100 ? 100 : p[i].pct) /
		    100.0);
		html_markupf(h, "%s%.1f %.1f ", pen ? "L" : "M", x, y);
		pen = 1;
	}
	html_markup(h, "\"/>");
	for (i = 0; i < n; i++) {
		if (p[i].pct < 0)
			continue;
		x = SVG_LEFT + (n > 1 ? pw * (double)(p[i].t - p[0].t) / span :
		    pw / 2);
		y = SVG_TOP + ph * (1 - (p[i].pct > 100 ? 100 : p[i].pct) /
		    100.0);
		html_markupf(h, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
		    "fill=\"#0b5394\"/>", x, y);
	}
	html_markup(h, "</svg>");
	return 0;
}

void
svg_bar(struct html *h, double pct)
{
	if (pct < 0)
		pct = 0;
	if (pct > 100)
		pct = 100;
	html_markupf(h, "<svg class=\"bar\" viewBox=\"0 0 100 10\" "
	    "width=\"100\" height=\"10\" aria-hidden=\"true\" "
	    "xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"100\" "
	    "height=\"10\" fill=\"#ddd\"/><rect width=\"%.1f\" height=\"10\" "
	    "fill=\"#2e7d32\"/></svg>", pct);
}
