/*
 * svg: charts as inline SVG written into a page (html.h), from numbers
 * only: nothing a device sent reaches a chart but through html_text.
 * Presentation attributes (fill, stroke), never style attributes, so a
 * page's Content-Security-Policy needs no 'unsafe-inline'.
 */
#ifndef MUSTER_SERVER_SVG_H
#define MUSTER_SERVER_SVG_H

#include <stddef.h>
#include <time.h>

#include "html.h"

#define SVG_POINTS_MAX	400

/* One point of a trend: a time and a share in 0..100 (< 0: no data). */
struct svg_point {
	time_t	t;
	double	pct;
};

/*
 * Appends a line chart of n points (1..SVG_POINTS_MAX, in time order) to
 * h: the share compliant over time, 0-100 % on the y axis, the first
 * and last dates on the x axis, a <title> and aria-label of label
 * (program text, escaped anyway), and a <desc> listing every point for
 * screen readers and print.  Points with pct < 0 break the line.
 * Returns 0, or -1 for n out of range (nothing appended).
 */
int	svg_trend(struct html *h, const char *label,
	    const struct svg_point *p, size_t n);

/*
 * Appends a horizontal bar of width 0..100 % (clamped) with the share
 * as its text, for a table cell.
 */
void	svg_bar(struct html *h, double pct);

#endif
