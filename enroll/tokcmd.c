/*
 * tokcmd: `muster-enroll token` (one enrollment bundle, optionally as a QR
 * code) and `muster-enroll roster` (a bundle for every row of a CSV file).
 *
 * A bundle is a bearer credential until it is used, so each is created
 * O_EXCL with mode 0600 and never replaces a file.  roster loads org.cfg
 * and the org key once, signs beside a writer thread, and makes the
 * bundles durable with one syncfs of the output directory's file system
 * at the end instead of an fsync per file; it reports success only after
 * that.  A crash before then can leave empty bundles, which no device
 * accepts and no later run overwrites.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <png.h>
#include <qrencode.h>
#include <sodium.h>

#include "muster/cli.h"
#include "muster/fs.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/token.h"
#include "org.h"
#include "tokcmd.h"

#define OPTS_END	{ NULL, 0, NULL, 0 }

#define QR_QUIET	4	/* modules of quiet zone around the code */
#define QR_PNG_SCALE	6	/* pixels per module */
#define BUNDLE_SUFFIX	".bundle"
#define ROSTER_HEADER	"person,unit,scope"
#define ROSTER_FIELDS	3
#define ROSTER_CHUNK	4096	/* rows read and signed at a time */
#define ROSTER_THREADS_MAX 16
#define CSV_FIELD_BUF	(TOKEN_FIELD_MAX + 1)	/* one byte more: too long */
#define CSV_QUOTE_SHOW	40	/* bytes of a bad field shown */
#define CSV_QUOTE_SIZE	(CSV_QUOTE_SHOW * 4 + 8)

static const char token_usage[] =
"usage: muster-enroll token [--org DIR] --scope personnel|family --unit UNIT\n"
"           --person ID [--expires WHEN] [--qr] [--png FILE] -o FILE\n"
"\n"
"Makes an enrollment bundle for one device: a new token (random 16-hex\n"
"id, the server URL and pin from DIR/org.cfg, scope, unit, person,\n"
"expiry) signed with the org key, and the org public key, written to FILE\n"
"(mode 0600, never over an existing file).  The bundle is a bearer\n"
"credential until a device enrolls with it: hand it over privately.\n"
"Prints the token id (for `muster-enroll revoke`) and the expiry.\n"
"\n"
"options:\n"
"  --org DIR         organisation directory (default: $MUSTER_ORG, else .)\n"
"  --scope SCOPE     personnel or family (required)\n"
"  --unit UNIT       1-64 of A-Z a-z 0-9 . _ - @ / (required)\n"
"  --person ID       1-64 of A-Z a-z 0-9 . _ - @ (required)\n"
"  --expires WHEN    Nd, Nh or Nm (days, hours, minutes from now) or an\n"
"                    RFC 3339 UTC time YYYY-MM-DDTHH:MM:SSZ; between one\n"
"                    minute and 365 days from now (default 14d)\n"
"  --qr              also print the bundle as a muster://enroll URI and a\n"
"                    QR code on the terminal\n"
"  --png FILE        also write the QR code as a PNG image (0600)\n"
"  -o, --output FILE the bundle to write (required)\n"
"  --help            this text\n";

static const char roster_usage[] =
"usage: muster-enroll roster [--org DIR] ROSTER.csv --out DIR "
"[--expires WHEN]\n"
"\n"
"Makes an enrollment bundle for every row of ROSTER.csv, a CSV file\n"
"(RFC 4180 quoting allowed) whose first line is the header\n"
"\"person,unit,scope\", into DIR/PERSON.bundle (mode 0600, never over an\n"
"existing file; DIR is created 0700 if missing and must be private).\n"
"A bad row is reported as ROSTER.csv:LINE: what is wrong, and skipped;\n"
"the other rows carry on.  Exits 65 if any row was refused.\n"
"\n"
"options:\n"
"  --org DIR         organisation directory (default: $MUSTER_ORG, else .)\n"
"  --out DIR         the directory for the bundles (required)\n"
"  --expires WHEN    as for `muster-enroll token` (default 14d); the same\n"
"                    expiry for every bundle\n"
"  --help            this text\n";

int
tokcmd_expires_parse(const char *s, time_t now, time_t *out,
    struct muster_err *e)
{
	unsigned long long n = 0;
	time_t t;
	size_t i, len;
	long unit;

	len = strlen(s);
	if (len >= 2 && len <= 12 && s[0] >= '0' && s[0] <= '9' &&
	    strchr("dhm", s[len - 1]) != NULL) {
		for (i = 0; i + 1 < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			n = n * 10 + (unsigned long long)(s[i] - '0');
		}
		unit = s[len - 1] == 'd' ? 86400 : s[len - 1] == 'h' ? 3600 :
		    60;
		if (n > (unsigned long long)TOKCMD_EXPIRES_MAX / (unsigned)unit)
			return err_set(e, MUSTER_EUSAGE, "--expires %s is more "
			    "than 365 days", s);
		t = now + (time_t)n * unit;
	} else if (profile_time_parse(s, &t) != 0)
		goto bad;
	if (t < now + TOKCMD_EXPIRES_MIN)
		return err_set(e, MUSTER_EUSAGE, "--expires %s is less than "
		    "a minute from now", s);
	if (t > now + TOKCMD_EXPIRES_MAX)
		return err_set(e, MUSTER_EUSAGE, "--expires %s is more than "
		    "365 days from now", s);
	*out = t;
	return 0;
bad:
	return err_set(e, MUSTER_EUSAGE, "--expires \"%s\": want Nd, Nh, Nm "
	    "or YYYY-MM-DDTHH:MM:SSZ", s);
}

/* ---- QR codes ---------------------------------------------------------- */

/* 1 if module (x, y) of qr is dark; outside the code (quiet zone) is light. */
static int
qr_dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->data[y * qr->width + x] & 1;
}

int
tokcmd_qr_encode(const char *text, QRecLevel level, QRcode **qr,
    struct muster_err *e)
{
	if ((*qr = QRcode_encodeString(text, 0, level, QR_MODE_8, 1)) == NULL)
		return err_set(e, errno == ERANGE ? MUSTER_EDATA :
		    MUSTER_EINTERNAL, "cannot make a QR code of %zu bytes",
		    strlen(text));
	return 0;
}

/*
 * Writes qr to f with Unicode half blocks, two modules per character
 * cell, light modules drawn as blocks (for a dark terminal), inside a
 * quiet zone.  With ansi set it also forces white-on-black so that the
 * code scans on a light terminal too.
 */
void
tokcmd_qr_print(FILE *f, const QRcode *qr, int ansi)
{
	static const char *const cell[4] = {
		"\xe2\x96\x88",	/* both light: full block */
		"\xe2\x96\x80",	/* top light: upper half block */
		"\xe2\x96\x84",	/* bottom light: lower half block */
		" ",		/* both dark */
	};
	int x, y;

	for (y = -QR_QUIET; y < qr->width + QR_QUIET; y += 2) {
		if (ansi)
			fputs("\033[40;97m", f);
		for (x = -QR_QUIET; x < qr->width + QR_QUIET; x++)
			fputs(cell[qr_dark(qr, x, y) |
			    qr_dark(qr, x, y + 1) << 1], f);
		if (ansi)
			fputs("\033[0m", f);
		fputc('\n', f);
	}
}

struct membuf {
	unsigned char	*p;
	size_t		 len, cap;
};

static void
png_mem_write(png_structp png, png_bytep data, png_size_t n)
{
	struct membuf *m = png_get_io_ptr(png);
	unsigned char *np;
	size_t cap;

	if (n > SIZE_MAX / 2 - m->len)
		png_error(png, "image too large");
	if (m->len + n > m->cap) {
		cap = m->cap == 0 ? 4096 : m->cap;
		while (cap < m->len + n)
			cap *= 2;
		if ((np = realloc(m->p, cap)) == NULL)
			png_error(png, "out of memory");
		m->p = np;
		m->cap = cap;
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
}

static void
png_mem_flush(png_structp png)
{
	(void)png;
}

static void
png_fail(png_structp png, png_const_charp msg)
{
	char *why = png_get_error_ptr(png);

	snprintf(why, ERR_MSG_MAX, "%s", msg);
	png_longjmp(png, 1);
}

static void
png_warn(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

/* The rows of the image; separate so that nothing lives across setjmp. */
static void
png_rows(png_structp png, const QRcode *qr, unsigned char *row,
    unsigned size)
{
	unsigned x, y;
	int mx, my;

	for (y = 0; y < size; y++) {
		memset(row, 0, (size + 7) / 8);
		my = (int)(y / QR_PNG_SCALE) - QR_QUIET;
		for (x = 0; x < size; x++) {
			mx = (int)(x / QR_PNG_SCALE) - QR_QUIET;
			if (!qr_dark(qr, mx, my))	/* 1 is white */
				row[x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
		png_write_row(png, row);
	}
}

/* Encodes qr as a 1-bit greyscale PNG into m (m->p is the caller's). */
static int
png_encode(const QRcode *qr, struct membuf *m, char why[ERR_MSG_MAX])
{
	png_structp png;
	png_infop info;
	unsigned char *row;
	unsigned size = (unsigned)(qr->width + 2 * QR_QUIET) * QR_PNG_SCALE;

	snprintf(why, ERR_MSG_MAX, "out of memory");
	if ((row = calloc(1, (size + 7) / 8)) == NULL)
		return -1;
	if ((png = png_create_write_struct(PNG_LIBPNG_VER_STRING, why,
	    png_fail, png_warn)) == NULL) {
		free(row);
		return -1;
	}
	if ((info = png_create_info_struct(png)) == NULL) {
		png_destroy_write_struct(&png, NULL);
		free(row);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		free(row);
		return -1;
	}
	png_set_write_fn(png, m, png_mem_write, png_mem_flush);
	png_set_IHDR(png, info, size, size, 1, PNG_COLOR_TYPE_GRAY,
	    PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
	    PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_rows(png, qr, row, size);
	png_write_end(png, info);
	png_destroy_write_struct(&png, &info);
	free(row);
	return 0;
}

int
tokcmd_qr_png(const char *path, const QRcode *qr, struct muster_err *e)
{
	struct membuf m = { NULL, 0, 0 };
	char why[ERR_MSG_MAX];
	int rc;

	if (png_encode(qr, &m, why) != 0)
		rc = err_set(e, MUSTER_EINTERNAL, "%s: PNG: %s", path, why);
	else
		rc = fs_write_atomic(path, m.p, m.len, 0600, e);
	free(m.p);
	return rc;
}

/* ---- token ------------------------------------------------------------- */

int
tokcmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'O' },
		{ "scope", required_argument, NULL, 's' },
		{ "unit", required_argument, NULL, 'u' },
		{ "person", required_argument, NULL, 'p' },
		{ "expires", required_argument, NULL, 'x' },
		{ "qr", no_argument, NULL, 'q' },
		{ "png", required_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		OPTS_END,
	};
	struct muster_err e = { 0 }, ce = { 0 };
	struct org_cfg oc;
	struct token t, check;
	struct sig_pubkey pk, gotpk;
	struct sig_seckey *sk = NULL;
	struct stat st;
	QRcode *qr = NULL, *qrpng = NULL;
	const char *org = NULL, *scope = NULL, *unit = NULL, *person = NULL;
	const char *expires = "14d", *png = NULL, *out = NULL;
	char *tok = NULL, *bundle = NULL, *gottok = NULL, *uri = NULL;
	char exp[21];
	int c, rc, want_qr = 0;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'O': org = optarg; break;
		case 's': scope = optarg; break;
		case 'u': unit = optarg; break;
		case 'p': person = optarg; break;
		case 'x': expires = optarg; break;
		case 'q': want_qr = 1; break;
		case 'P': png = optarg; break;
		case 'o': out = optarg; break;
		case 'h': fputs(token_usage, stdout); return 0;
		default:
			return cli_usage("token", "bad option \"%s\" (see "
			    "muster-enroll token --help)", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage("token", "unexpected argument \"%s\"",
		    argv[optind]);
	if (scope == NULL || unit == NULL || person == NULL || out == NULL)
		return cli_usage("token", "--scope, --unit, --person and -o "
		    "FILE are required");
	memset(&t, 0, sizeof t);
	if (profile_scope_parse(scope, &t.scope) != 0)
		return cli_usage("token", "--scope \"%s\": want personnel or "
		    "family", scope);
	if (!token_field_ok(unit, 1))
		return cli_usage("token", "--unit: want 1-64 of A-Z a-z 0-9 "
		    ". _ - @ /");
	if (!token_field_ok(person, 0))
		return cli_usage("token", "--person: want 1-64 of A-Z a-z 0-9 "
		    ". _ - @");
	if (tokcmd_expires_parse(expires, time(NULL), &t.expires, &e) != 0)
		return cli_usage("token", "%s", e.msg);
	if (org == NULL)
		org = org_default_dir();
	/* Before any passphrase is asked: never over an existing file. */
	if (lstat(out, &st) == 0) {
		rc = err_set(&e, MUSTER_ECANTCREAT, "%s: already exists; a "
		    "bundle is never overwritten", out);
		goto out;
	}
	if ((rc = org_cfg_load(org, &oc, &e)) != 0 ||
	    (rc = org_keys_load(org, &pk, &sk, &e)) != 0)
		goto out;
	token_new_id(t.id);
	memcpy(t.server, oc.server, sizeof t.server);
	memcpy(t.pin, oc.pin, sizeof t.pin);
	memcpy(t.unit, unit, strlen(unit) + 1);
	memcpy(t.person, person, strlen(person) + 1);
	if ((rc = token_sign(&t, sk, &tok, &e)) != 0 ||
	    (rc = bundle_format(&pk, tok, &t, &bundle, &e)) != 0)
		goto out;
	sig_seckey_free(sk);
	sk = NULL;
	/* As minisign does: never hand out what would not verify. */
	if (bundle_parse(out, bundle, strlen(bundle), &gotpk, &gottok,
	    &check, &ce) != 0) {
		rc = err_set(&e, MUSTER_EINTERNAL, "%s: the new bundle does "
		    "not verify (%s); nothing written", out, ce.msg);
		goto out;
	}
	/*
	 * The terminal's code at level L, the smallest (a screen does not
	 * smudge); the PNG's at level M, as it may be printed.
	 */
	if ((want_qr || png != NULL) &&
	    (rc = bundle_uri(&pk, tok, &uri, &e)) != 0)
		goto out;
	if (want_qr && (rc = tokcmd_qr_encode(uri, QR_ECLEVEL_L, &qr, &e)) != 0)
		goto out;
	if (png != NULL && (rc = tokcmd_qr_encode(uri, QR_ECLEVEL_M, &qrpng,
	    &e)) != 0)
		goto out;
	if ((rc = fs_create_excl(out, bundle, strlen(bundle), 0600, &e)) != 0)
		goto out;
	if (png != NULL && (rc = tokcmd_qr_png(png, qrpng, &e)) != 0)
		goto out;
	profile_time_format(t.expires, exp);
	printf("%s: enrollment bundle for %s (%s), %s\n"
	    "token id: %s\n"
	    "expires:  %s\n", out, t.person, t.unit,
	    profile_scope_name(t.scope), t.id, exp);
	if (png != NULL)
		printf("QR code:  %s\n", png);
	if (want_qr) {
		printf("\n%s\n\n", uri);
		tokcmd_qr_print(stdout, qr, isatty(STDOUT_FILENO));
	}
	if (fflush(stdout) == EOF)
		rc = err_sys(&e, MUSTER_EIO, "stdout");
out:
	sig_seckey_free(sk);
	if (qr != NULL)
		QRcode_free(qr);
	if (qrpng != NULL)
		QRcode_free(qrpng);
	/* Bearer secrets until enrolled: wiped. */
	fs_free_secret(tok);
	fs_free_secret(bundle);
	fs_free_secret(gottok);
	fs_free_secret(uri);
	return rc == 0 ? 0 : cli_fail(rc, &e);
}

/* ---- roster: CSV ------------------------------------------------------- */

struct csv {
	FILE		*f;
	long		 line;		/* the line being read, from 1 */
	int		 first;		/* nothing read yet (for a BOM) */
};

struct csv_record {
	long		 line;		/* where the record starts */
	size_t		 nfields;
	char		 field[ROSTER_FIELDS][CSV_FIELD_BUF];
	size_t		 flen[ROSTER_FIELDS];
	int		 quoted[ROSTER_FIELDS];
	const char	*bad;		/* a syntax error, or NULL */
};

/* Appends ch to field i of r, if r keeps that field. */
static void
csv_put(struct csv_record *r, int ch)
{
	size_t i = r->nfields - 1;

	if (i >= ROSTER_FIELDS)
		return;
	if (r->flen[i] < CSV_FIELD_BUF - 1)
		r->field[i][r->flen[i]] = (char)ch;
	if (r->flen[i] < CSV_FIELD_BUF)
		r->flen[i]++;
}

/*
 * Reads one RFC 4180 record (fields separated by ',', records by LF or
 * CRLF, a field in double quotes may hold ',', newlines and "" for a
 * quote).  Fields are kept up to CSV_FIELD_BUF - 1 bytes, and flen tells
 * whether one was longer.  After a syntax error the rest of the physical
 * line is skipped and r->bad says what was wrong.  Returns 1 for a
 * record, 0 at the end of the file, -1 on a read error.
 */
static int
csv_read(struct csv *c, struct csv_record *r)
{
	enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } st;
	int ch;

	memset(r->flen, 0, sizeof r->flen);
	memset(r->quoted, 0, sizeof r->quoted);
	r->nfields = 1;
	r->bad = NULL;
	r->line = c->line;
	st = FIELD_START;
	if (c->first) {
		c->first = 0;
		/* A UTF-8 byte order mark, as spreadsheets write. */
		if ((ch = getc_unlocked(c->f)) == 0xef) {
			if (getc_unlocked(c->f) != 0xbb ||
			    getc_unlocked(c->f) != 0xbf) {
				r->bad = "a byte that is not ASCII";
				goto skip;
			}
		} else if (ch != EOF)
			ungetc(ch, c->f);
	}
	for (;;) {
		ch = getc_unlocked(c->f);
		if (ch == EOF) {
			if (ferror(c->f))
				return -1;
			if (st == QUOTED) {
				r->bad = "a quoted field is not closed";
				return 1;
			}
			/* Nothing at all since the last record: the end. */
			if (st == FIELD_START && r->nfields == 1)
				return 0;
			return 1;
		}
		switch (st) {
		case FIELD_START:
			if (ch == '"') {
				if (r->nfields <= ROSTER_FIELDS)
					r->quoted[r->nfields - 1] = 1;
				st = QUOTED;
				break;
			}
			st = UNQUOTED;
			/* FALLTHROUGH */
		case UNQUOTED:
			if (ch == ',') {
				r->nfields++;
				st = FIELD_START;
			} else if (ch == '\n') {
				c->line++;
				goto end;
			} else if (ch == '\r') {
				if ((ch = getc_unlocked(c->f)) == '\n') {
					c->line++;
					goto end;
				}
				if (ch != EOF)
					ungetc(ch, c->f);
				csv_put(r, '\r');
			} else if (ch == '"') {
				r->bad = "a quote inside an unquoted field";
				goto skip;
			} else
				csv_put(r, ch);
			break;
		case QUOTED:
			if (ch == '"')
				st = QUOTE_IN_QUOTED;
			else {
				if (ch == '\n')
					c->line++;
				csv_put(r, ch);
			}
			break;
		case QUOTE_IN_QUOTED:
			if (ch == '"') {
				csv_put(r, '"');
				st = QUOTED;
			} else if (ch == ',') {
				r->nfields++;
				st = FIELD_START;
			} else if (ch == '\n') {
				c->line++;
				goto end;
			} else if (ch == '\r') {
				if ((ch = getc_unlocked(c->f)) == '\n') {
					c->line++;
					goto end;
				}
				r->bad = "text after a closing quote";
				if (ch == EOF)
					return 1;
				goto skip;
			} else {
				r->bad = "text after a closing quote";
				goto skip;
			}
			break;
		}
	}
skip:
	while ((ch = getc_unlocked(c->f)) != EOF && ch != '\n')
		;
	if (ch == '\n')
		c->line++;
	else if (ferror(c->f))
		return -1;
	return 1;
end:
	return 1;
}

/* NUL-terminated field i, or NULL when it was longer than kept. */
static const char *
csv_field(struct csv_record *r, size_t i)
{
	if (r->flen[i] >= CSV_FIELD_BUF)
		return NULL;
	r->field[i][r->flen[i]] = '\0';
	return r->field[i];
}

/* ---- roster: duplicate persons ---------------------------------------- */

struct seen_entry {
	char	*name;
	long	 line;
};

struct seen {
	struct seen_entry	*tab;
	size_t			 cap, n;	/* cap a power of two */
};

static uint64_t
seen_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int
seen_grow(struct seen *s)
{
	struct seen_entry *nt;
	size_t cap = s->cap == 0 ? 1024 : s->cap * 2, i, j;

	if ((nt = calloc(cap, sizeof *nt)) == NULL)
		return -1;
	for (i = 0; i < s->cap; i++) {
		if (s->tab[i].name == NULL)
			continue;
		for (j = seen_hash(s->tab[i].name) & (cap - 1);
		    nt[j].name != NULL; j = (j + 1) & (cap - 1))
			;
		nt[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = nt;
	s->cap = cap;
	return 0;
}

/*
 * Adds name; returns 0 when new, the line where it was first seen when
 * not, -1 when out of memory.
 */
static long
seen_add(struct seen *s, const char *name, long line)
{
	size_t j;

	if ((s->n + 1) * 2 > s->cap && seen_grow(s) != 0)
		return -1;
	for (j = seen_hash(name) & (s->cap - 1); s->tab[j].name != NULL;
	    j = (j + 1) & (s->cap - 1))
		if (strcmp(s->tab[j].name, name) == 0)
			return s->tab[j].line;
	if ((s->tab[j].name = strdup(name)) == NULL)
		return -1;
	s->tab[j].line = line;
	s->n++;
	return 0;
}

static void
seen_free(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->tab[i].name);
	free(s->tab);
}

/* ---- roster: signing and writing -------------------------------------- */

/*
 * The rows go through in chunks: this thread reads and checks a chunk and
 * signs it (with helper threads when there are more than two CPUs) while
 * a writer thread creates the files of the chunk before it and reports
 * its bad rows in order.  File creation in one directory is serialised by
 * the kernel anyway, so one writer is as fast as several and lets the
 * signing run beside it.
 */
struct row {
	long			 line;
	char			*err;		/* malloc'd; NULL when good */
	char			*bundle;	/* malloc'd, once signed */
	enum profile_scope	 scope;
	char			 person[TOKEN_FIELD_MAX];
	char			 unit[TOKEN_FIELD_MAX];
};

struct chunk {
	struct row	*rows;		/* ROSTER_CHUNK of them */
	size_t		 nrows;
	int		 full;		/* signed, for the writer */
};

struct roster {
	const char		*name;		/* ROSTER.csv, for messages */
	const char		*outdir;
	int			 outfd;
	const struct org_cfg	*oc;
	const struct sig_pubkey	*pk;
	const struct sig_seckey	*sk;
	time_t			 expires;
	unsigned		 nsigners;
	struct chunk		 ch[2];
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	int			 done;		/* no more chunks will come */
	/* Set once (atomically) by the first thread meeting a fatal error. */
	int			 fatal;
	struct muster_err	 fatal_err;
	/* The writer's alone until it is joined. */
	size_t			 written, bad;
};

struct signer {
	struct roster	*r;
	struct chunk	*c;
	unsigned	 index;
};

static int
roster_failed(struct roster *r)
{
	return __atomic_load_n(&r->fatal, __ATOMIC_ACQUIRE) != 0;
}

static void
roster_fatal(struct roster *r, int code, const struct muster_err *e)
{
	pthread_mutex_lock(&r->lock);
	if (!roster_failed(r)) {
		r->fatal_err = *e;
		__atomic_store_n(&r->fatal, code, __ATOMIC_RELEASE);
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Signs one good row into row->bundle. */
static void
roster_sign_one(struct roster *r, struct row *row)
{
	struct muster_err e = { 0 };
	struct token t;
	char *tok = NULL;
	int rc;

	memset(&t, 0, sizeof t);
	token_new_id(t.id);
	memcpy(t.server, r->oc->server, sizeof t.server);
	memcpy(t.pin, r->oc->pin, sizeof t.pin);
	t.scope = row->scope;
	memcpy(t.unit, row->unit, sizeof t.unit);
	memcpy(t.person, row->person, sizeof t.person);
	t.expires = r->expires;
	if ((rc = token_sign(&t, r->sk, &tok, &e)) != 0 ||
	    (rc = bundle_format(r->pk, tok, &t, &row->bundle, &e)) != 0)
		roster_fatal(r, rc, &e);
	fs_free_secret(tok);
}

static void *
roster_signer(void *arg)
{
	struct signer *s = arg;
	struct chunk *c = s->c;
	size_t i;

	for (i = s->index; i < c->nrows; i += s->r->nsigners) {
		if (roster_failed(s->r))
			break;
		if (c->rows[i].err == NULL)
			roster_sign_one(s->r, &c->rows[i]);
	}
	return NULL;
}

/* Signs the good rows of c on r->nsigners threads, this one included. */
static void
roster_sign(struct roster *r, struct chunk *c)
{
	struct signer s[ROSTER_THREADS_MAX];
	pthread_t tid[ROSTER_THREADS_MAX];
	struct muster_err e;
	unsigned i, started = 1;

	for (i = 0; i < r->nsigners; i++) {
		s[i].r = r;
		s[i].c = c;
		s[i].index = i;
	}
	for (i = 1; i < r->nsigners; i++, started++)
		if (pthread_create(&tid[i], NULL, roster_signer, &s[i]) != 0) {
			err_set(&e, MUSTER_EOS, "cannot start a thread");
			roster_fatal(r, MUSTER_EOS, &e);
			break;
		}
	roster_signer(&s[0]);
	for (i = 1; i < started; i++)
		(void)pthread_join(tid[i], NULL);
}

/*
 * Creates one row's bundle file.  A file that exists is the row's error
 * (row->err); anything else (disk full, permissions) is fatal.
 */
static void
roster_write_one(struct roster *r, struct row *row)
{
	struct muster_err e = { 0 };
	char name[TOKEN_FIELD_MAX + sizeof BUNDLE_SUFFIX];
	int fd;

	snprintf(name, sizeof name, "%s%s", row->person, BUNDLE_SUFFIX);
	fd = openat(r->outfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1 && errno == EEXIST) {
		if (asprintf(&row->err, "%s/%s: already exists; a bundle is "
		    "never overwritten", r->outdir, name) == -1) {
			row->err = NULL;
			err_set(&e, MUSTER_EINTERNAL, "out of memory");
			roster_fatal(r, MUSTER_EINTERNAL, &e);
		}
		return;
	}
	if (fd == -1) {
		err_sys(&e, MUSTER_ECANTCREAT, "%s/%s", r->outdir, name);
		roster_fatal(r, MUSTER_ECANTCREAT, &e);
		return;
	}
	if (fs_write_all(fd, row->bundle, strlen(row->bundle)) == -1) {
		err_sys(&e, MUSTER_EIO, "%s/%s", r->outdir, name);
		close(fd);
		(void)unlinkat(r->outfd, name, 0);
		roster_fatal(r, MUSTER_EIO, &e);
		return;
	}
	if (close(fd) == -1) {
		err_sys(&e, MUSTER_EIO, "%s/%s", r->outdir, name);
		(void)unlinkat(r->outfd, name, 0);
		roster_fatal(r, MUSTER_EIO, &e);
		return;
	}
	r->written++;
}

/* Frees what a chunk's rows hold and empties it. */
static void
chunk_clear(struct chunk *c)
{
	size_t i;

	for (i = 0; i < c->nrows; i++) {
		free(c->rows[i].err);
		fs_free_secret(c->rows[i].bundle);
		c->rows[i].err = NULL;
		c->rows[i].bundle = NULL;
	}
	c->nrows = 0;
}

/*
 * The writer: takes the chunks in order, creates their files, prints their
 * bad rows in line order, and hands the chunk back.  After a fatal error
 * it only drains.
 */
static void *
roster_writer(void *arg)
{
	struct roster *r = arg;
	struct chunk *c;
	size_t i, k;

	for (k = 0;; k++) {
		c = &r->ch[k % 2];
		pthread_mutex_lock(&r->lock);
		while (!c->full && !r->done)
			pthread_cond_wait(&r->cond, &r->lock);
		if (!c->full) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		pthread_mutex_unlock(&r->lock);
		for (i = 0; i < c->nrows; i++) {
			if (roster_failed(r))
				break;
			if (c->rows[i].err == NULL &&
			    c->rows[i].bundle != NULL)
				roster_write_one(r, &c->rows[i]);
		}
		for (i = 0; i < c->nrows && !roster_failed(r); i++) {
			if (c->rows[i].err == NULL)
				continue;
			cli_error(NULL, "%s:%ld: %s", r->name,
			    c->rows[i].line, c->rows[i].err);
			r->bad++;
		}
		chunk_clear(c);
		pthread_mutex_lock(&r->lock);
		c->full = 0;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	return NULL;
}

/*
 * Writes field i of rec into q as a double-quoted string fit for a
 * one-line message: at most 40 bytes, anything but printable ASCII
 * escaped.
 */
static const char *
csv_quote(const struct csv_record *rec, size_t i, char q[CSV_QUOTE_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = rec->flen[i] < CSV_FIELD_BUF - 1 ? rec->flen[i] :
	    CSV_FIELD_BUF - 1, j, o = 0;
	unsigned char ch;

	q[o++] = '"';
	for (j = 0; j < n && j < CSV_QUOTE_SHOW; j++) {
		ch = (unsigned char)rec->field[i][j];
		if (ch == '"' || ch == '\\') {
			q[o++] = '\\';
			q[o++] = (char)ch;
		} else if (ch < 0x20 || ch > 0x7e) {
			q[o++] = '\\';
			q[o++] = 'x';
			q[o++] = hex[ch >> 4];
			q[o++] = hex[ch & 0xf];
		} else
			q[o++] = (char)ch;
	}
	q[o++] = '"';
	if (j < rec->flen[i]) {
		memcpy(q + o, "...", 3);
		o += 3;
	}
	q[o] = '\0';
	return q;
}

/* Checks one CSV record into row; row->err says what is wrong. */
static int
roster_row(struct csv_record *rec, struct seen *seen, struct row *row)
{
	const char *person, *unit, *scope;
	char q[CSV_QUOTE_SIZE];
	long first;
	int n = 0;

	memset(row, 0, sizeof *row);
	row->line = rec->line;
	if (rec->bad != NULL)
		n = asprintf(&row->err, "%s", rec->bad);
	else if (rec->nfields != ROSTER_FIELDS)
		n = asprintf(&row->err, "%zu fields, want 3 (%s)",
		    rec->nfields, ROSTER_HEADER);
	else if ((person = csv_field(rec, 0)) == NULL ||
	    !token_field_ok(person, 0))
		n = asprintf(&row->err, "person %s: want 1-64 of A-Z a-z 0-9 "
		    ". _ - @", csv_quote(rec, 0, q));
	else if ((unit = csv_field(rec, 1)) == NULL ||
	    !token_field_ok(unit, 1))
		n = asprintf(&row->err, "unit %s: want 1-64 of A-Z a-z 0-9 "
		    ". _ - @ /", csv_quote(rec, 1, q));
	else if ((scope = csv_field(rec, 2)) == NULL ||
	    profile_scope_parse(scope, &row->scope) != 0)
		n = asprintf(&row->err, "scope %s: want personnel or family",
		    csv_quote(rec, 2, q));
	else if ((first = seen_add(seen, person, rec->line)) != 0) {
		if (first < 0)
			return -1;
		n = asprintf(&row->err, "person \"%s\" again (first on line "
		    "%ld)", person, first);
	} else {
		memcpy(row->person, person, strlen(person) + 1);
		memcpy(row->unit, unit, strlen(unit) + 1);
		return 0;
	}
	if (n == -1) {
		row->err = NULL;
		return -1;
	}
	return 0;
}

/* 1 if the record is a blank line. */
static int
csv_blank(const struct csv_record *rec)
{
	return rec->bad == NULL && rec->nfields == 1 && rec->flen[0] == 0 &&
	    !rec->quoted[0];
}

/*
 * Verifies the first bundle of the run (in c, if it has one; *checked
 * then says so) as a device will, before any is written: a wrong key or
 * format stops the run at once.  The others are not verified one by one
 * (that would cost about three signatures each): they come from the same
 * key and code, and as every body holds a fresh random token id none is
 * ever signed twice.
 */
static int
roster_check_first(struct roster *r, const struct chunk *c, int *checked,
    struct muster_err *e)
{
	struct muster_err ce = { 0 };
	struct sig_pubkey pk;
	struct token t;
	char *tok = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < c->nrows; i++)
		if (c->rows[i].bundle != NULL)
			break;
	if (i == c->nrows || roster_failed(r))
		return 0;
	*checked = 1;
	if (bundle_parse(r->name, c->rows[i].bundle,
	    strlen(c->rows[i].bundle), &pk, &tok, &t, &ce) != 0 ||
	    memcmp(&pk, r->pk, sizeof pk) != 0)
		rc = err_set(e, MUSTER_EINTERNAL, "%s:%ld: the new bundle does "
		    "not verify (%s); nothing written", r->name,
		    c->rows[i].line, ce.msg);
	free(tok);
	return rc;
}

/* Signing threads: the online CPUs but one (the writer's), within reason. */
static unsigned
roster_signers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;

	if (n < 1)
		return 1;
	return n > ROSTER_THREADS_MAX ? ROSTER_THREADS_MAX : (unsigned)n;
}

/*
 * Reads, checks and signs the roster chunk by chunk, handing each to the
 * writer thread; returns 0 or a MUSTER_E* for a failure of its own.
 */
static int
roster_feed(struct roster *r, struct csv *csv, struct csv_record *rec,
    struct seen *seen, struct muster_err *e)
{
	struct chunk *c;
	size_t k;
	int rc, more = 1, checked = 0;

	for (k = 0; more && !roster_failed(r); k++) {
		c = &r->ch[k % 2];
		pthread_mutex_lock(&r->lock);
		while (c->full && !roster_failed(r))
			pthread_cond_wait(&r->cond, &r->lock);
		pthread_mutex_unlock(&r->lock);
		if (roster_failed(r))
			break;
		while (c->nrows < ROSTER_CHUNK) {
			if ((rc = csv_read(csv, rec)) < 0)
				return err_sys(e, MUSTER_EIO, "%s", r->name);
			if (rc == 0) {
				more = 0;
				break;
			}
			if (csv_blank(rec))
				continue;
			if (roster_row(rec, seen, &c->rows[c->nrows]) != 0)
				return err_set(e, MUSTER_EINTERNAL, "out of "
				    "memory");
			c->nrows++;
		}
		roster_sign(r, c);
		if (!checked && (rc = roster_check_first(r, c, &checked, e))
		    != 0)
			return rc;
		pthread_mutex_lock(&r->lock);
		c->full = 1;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	return 0;
}

int
tokcmd_roster(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "org", required_argument, NULL, 'O' },
		{ "out", required_argument, NULL, 'o' },
		{ "expires", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		OPTS_END,
	};
	struct muster_err e = { 0 };
	struct org_cfg oc;
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	struct roster r;
	struct csv csv = { NULL, 1, 1 };
	struct csv_record *rec = NULL;
	struct seen seen = { NULL, 0, 0 };
	pthread_t writer;
	const char *org = NULL, *outdir = NULL, *expires = "14d", *path;
	char exp[21];
	int c, rc, sync_live = 0, writer_live = 0, i;

	memset(&r, 0, sizeof r);
	r.outfd = -1;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'O': org = optarg; break;
		case 'o': outdir = optarg; break;
		case 'x': expires = optarg; break;
		case 'h': fputs(roster_usage, stdout); return 0;
		default:
			return cli_usage("roster", "bad option \"%s\" (see "
			    "muster-enroll roster --help)", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage("roster", "expected one ROSTER.csv");
	if (outdir == NULL)
		return cli_usage("roster", "--out DIR is required");
	path = argv[optind];
	if (tokcmd_expires_parse(expires, time(NULL), &r.expires, &e) != 0)
		return cli_usage("roster", "%s", e.msg);
	if (org == NULL)
		org = org_default_dir();

	if ((csv.f = fopen(path, "re")) == NULL) {
		rc = err_sys(&e, MUSTER_ENOINPUT, "%s", path);
		goto out;
	}
	if ((rec = malloc(sizeof *rec)) == NULL ||
	    (r.ch[0].rows = calloc(ROSTER_CHUNK, sizeof(struct row))) ==
	    NULL ||
	    (r.ch[1].rows = calloc(ROSTER_CHUNK, sizeof(struct row))) ==
	    NULL) {
		rc = err_set(&e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* The header first, so that a wrong file fails before a passphrase. */
	if ((rc = csv_read(&csv, rec)) < 0) {
		rc = err_sys(&e, MUSTER_EIO, "%s", path);
		goto out;
	}
	if (rc == 0 || rec->bad != NULL || rec->nfields != ROSTER_FIELDS ||
	    csv_field(rec, 0) == NULL || strcmp(rec->field[0], "person") ||
	    csv_field(rec, 1) == NULL || strcmp(rec->field[1], "unit") ||
	    csv_field(rec, 2) == NULL || strcmp(rec->field[2], "scope")) {
		rc = err_set(&e, MUSTER_EDATA, "%s:1: want the header line "
		    "\"%s\"", path, ROSTER_HEADER);
		goto out;
	}
	if ((rc = org_cfg_load(org, &oc, &e)) != 0 ||
	    (rc = fs_mkdir_private(outdir, &e)) != 0)
		goto out;
	if ((r.outfd = open(outdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		rc = err_sys(&e, MUSTER_ECANTCREAT, "%s", outdir);
		goto out;
	}
	if ((rc = org_keys_load(org, &pk, &sk, &e)) != 0)
		goto out;
	r.name = path;
	r.outdir = outdir;
	r.oc = &oc;
	r.pk = &pk;
	r.sk = sk;
	r.nsigners = roster_signers();
	if (pthread_mutex_init(&r.lock, NULL) != 0) {
		rc = err_set(&e, MUSTER_EOS, "cannot make a mutex");
		goto out;
	}
	if (pthread_cond_init(&r.cond, NULL) != 0) {
		pthread_mutex_destroy(&r.lock);
		rc = err_set(&e, MUSTER_EOS, "cannot make a condition");
		goto out;
	}
	sync_live = 1;
	if (pthread_create(&writer, NULL, roster_writer, &r) != 0) {
		rc = err_set(&e, MUSTER_EOS, "cannot start a thread");
		goto out;
	}
	writer_live = 1;

	rc = roster_feed(&r, &csv, rec, &seen, &e);
	pthread_mutex_lock(&r.lock);
	r.done = 1;
	pthread_cond_broadcast(&r.cond);
	pthread_mutex_unlock(&r.lock);
	(void)pthread_join(writer, NULL);
	writer_live = 0;
	if (rc != 0)
		goto out;
	if (roster_failed(&r)) {
		e = r.fatal_err;
		rc = r.fatal;
		goto out;
	}
	/*
	 * One flush of the file system for all the bundles, then the
	 * directory, before anything is reported as done.
	 */
	if (syncfs(r.outfd) == -1 || fsync(r.outfd) == -1) {
		rc = err_sys(&e, MUSTER_EIO, "%s: sync", outdir);
		goto out;
	}
	profile_time_format(r.expires, exp);
	printf("%s: %zu bundle%s written to %s, %zu row%s refused; tokens "
	    "expire %s\n", path, r.written, r.written == 1 ? "" : "s", outdir,
	    r.bad, r.bad == 1 ? "" : "s", exp);
	if (fflush(stdout) == EOF) {
		rc = err_sys(&e, MUSTER_EIO, "stdout");
		goto out;
	}
	rc = 0;
out:
	if (writer_live) {
		pthread_mutex_lock(&r.lock);
		r.done = 1;
		pthread_cond_broadcast(&r.cond);
		pthread_mutex_unlock(&r.lock);
		(void)pthread_join(writer, NULL);
	}
	if (rc != 0 && r.written > 0)
		cli_error(NULL, "%s: stopped after %zu bundle%s in %s", path,
		    r.written, r.written == 1 ? "" : "s", outdir);
	if (sync_live) {
		pthread_cond_destroy(&r.cond);
		pthread_mutex_destroy(&r.lock);
	}
	for (i = 0; i < 2; i++) {
		if (r.ch[i].rows == NULL)
			continue;
		r.ch[i].nrows = ROSTER_CHUNK;
		chunk_clear(&r.ch[i]);
		free(r.ch[i].rows);
	}
	if (r.outfd != -1)
		close(r.outfd);
	if (csv.f != NULL)
		fclose(csv.f);
	seen_free(&seen);
	free(rec);
	sig_seckey_free(sk);
	if (rc != 0)
		return cli_fail(rc, &e);
	return r.bad > 0 ? err_exit_code(MUSTER_EDATA) : 0;
}
