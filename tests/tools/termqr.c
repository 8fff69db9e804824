/*
 * termqr: draws text as a terminal would, to a PGM image a QR decoder
 * (zbarimg) reads, for the test that `muster-enroll token --qr` scans.
 *
 *	termqr dark|light OUT.pgm < TEXT
 *
 * Each character cell is CELL_W x CELL_H pixels: ' ' is all background,
 * U+2588 (full block) all foreground, U+2580 (upper half block) the top
 * half foreground, U+2584 (lower half block) the bottom half; anything
 * else is refused, so that the test sees exactly what it drew.  The
 * default colours are a dark terminal's (light grey on near black) or a
 * light one's (near black on light grey); SGR sequences ESC [ ... m set
 * black, white, grey or bright white foreground and background (30 37 90
 * 97, 40 47 100 107), and 0, 39 and 49 go back to the defaults.  A CR
 * before a LF (a pty's line end) is ignored.  The window's background
 * surrounds the text by MARGIN cells.  Prints "COLUMNS ROWS" of the text
 * (characters, not bytes; escape sequences take none) on stdout.
 * Exits 0, 1 on bad input, 2 on a usage or system error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_W		5
#define CELL_H		10
#define MARGIN		3
#define MAX_COLS	400
#define MAX_ROWS	400

enum glyph { G_SPACE, G_FULL, G_UPPER, G_LOWER };

struct cell {
	unsigned char	g, fg, bg;
};

static struct cell grid[MAX_ROWS][MAX_COLS];
static int ncols[MAX_ROWS];

static int
bad(const char *what, int row)
{
	fprintf(stderr, "termqr: line %d: %s\n", row + 1, what);
	return 1;
}

/* Grey level of an SGR colour code, or -1 for one this tool does not know. */
static int
sgr_grey(int code)
{
	switch (code % 10) {
	case 0:
		return code >= 90 ? 128 : 0;	/* black, bright black */
	case 7:
		return code >= 90 ? 255 : 192;	/* white, bright white */
	}
	return -1;
}

int
main(int argc, char **argv)
{
	unsigned char fg0, bg0, fg, bg, *img, px;
	FILE *out;
	int ch, row = 0, col = 0, maxc = 0, w, h, x, y, r, c, code, v;
	size_t n;

	if (argc != 3 || (strcmp(argv[1], "dark") != 0 &&
	    strcmp(argv[1], "light") != 0)) {
		fprintf(stderr, "usage: termqr dark|light OUT.pgm < TEXT\n");
		return 2;
	}
	if (strcmp(argv[1], "dark") == 0) {
		fg0 = 208;
		bg0 = 24;
	} else {
		fg0 = 24;
		bg0 = 240;
	}
	fg = fg0;
	bg = bg0;
	while ((ch = getchar()) != EOF) {
		enum glyph g;

		if (row >= MAX_ROWS)
			return bad("too many lines", row);
		if (ch == '\033') {
			if (getchar() != '[')
				return bad("an escape that is not CSI", row);
			code = 0;
			for (;;) {
				ch = getchar();
				if (ch >= '0' && ch <= '9') {
					code = code * 10 + ch - '0';
					if (code > 999)
						return bad("SGR code too big",
						    row);
					continue;
				}
				if (ch != ';' && ch != 'm')
					return bad("a CSI that is not SGR",
					    row);
				if (code == 0) {
					fg = fg0;
					bg = bg0;
				} else if (code == 39)
					fg = fg0;
				else if (code == 49)
					bg = bg0;
				else if (((code >= 30 && code <= 37) ||
				    (code >= 90 && code <= 97)) &&
				    (v = sgr_grey(code)) >= 0)
					fg = (unsigned char)v;
				else if (((code >= 40 && code <= 47) ||
				    (code >= 100 && code <= 107)) &&
				    (v = sgr_grey(code - 10)) >= 0)
					bg = (unsigned char)v;
				else
					return bad("an SGR code not known here",
					    row);
				code = 0;
				if (ch == 'm')
					break;
			}
			continue;
		}
		if (ch == '\r') {
			if ((ch = getchar()) != '\n')
				return bad("a CR not before a LF", row);
		}
		if (ch == '\n') {
			ncols[row++] = col;
			col = 0;
			continue;
		}
		if (ch == ' ')
			g = G_SPACE;
		else if (ch == 0xe2 && getchar() == 0x96) {
			ch = getchar();
			if (ch == 0x88)
				g = G_FULL;
			else if (ch == 0x80)
				g = G_UPPER;
			else if (ch == 0x84)
				g = G_LOWER;
			else
				return bad("a character other than a block",
				    row);
		} else
			return bad("a character other than a block", row);
		if (col >= MAX_COLS)
			return bad("too many columns", row);
		grid[row][col].g = (unsigned char)g;
		grid[row][col].fg = fg;
		grid[row][col].bg = bg;
		col++;
		if (col > maxc)
			maxc = col;
	}
	if (col > 0)
		return bad("no newline at the end", row);
	for (r = 0; r < row; r++)
		if (ncols[r] > maxc)
			maxc = ncols[r];
	w = (maxc + 2 * MARGIN) * CELL_W;
	h = (row + 2 * MARGIN) * CELL_H;
	if ((img = malloc((size_t)w * (size_t)h)) == NULL) {
		fprintf(stderr, "termqr: out of memory\n");
		return 2;
	}
	memset(img, bg0, (size_t)w * (size_t)h);
	for (r = 0; r < row; r++)
		for (c = 0; c < ncols[r]; c++) {
			const struct cell *k = &grid[r][c];

			for (y = 0; y < CELL_H; y++)
				for (x = 0; x < CELL_W; x++) {
					int top = y < CELL_H / 2;

					px = k->g == G_FULL ||
					    (k->g == G_UPPER && top) ||
					    (k->g == G_LOWER && !top) ?
					    k->fg : k->bg;
					img[(size_t)((r + MARGIN) * CELL_H +
					    y) * (size_t)w + (size_t)((c +
					    MARGIN) * CELL_W + x)] = px;
				}
		}
	if ((out = fopen(argv[2], "wb")) == NULL) {
		perror(argv[2]);
		free(img);
		return 2;
	}
	fprintf(out, "P5\n%d %d\n255\n", w, h);
	n = fwrite(img, 1, (size_t)w * (size_t)h, out);
	free(img);
	if (n != (size_t)w * (size_t)h || fclose(out) != 0) {
		perror(argv[2]);
		return 2;
	}
	printf("%d %d\n", maxc, row);
	return 0;
}
