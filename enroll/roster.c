/*
 * roster: `muster-enroll roster`, an enrollment bundle for every row of a
 * CSV file.
 *
 * A bundle is a bearer credential until it is used, so each is created
 * O_EXCL with mode 0600 and never replaces a file.  roster loads org.cfg
 * and the org key once, signs beside a writer thread, and makes the
 * bundles durable with one syncfs of the output directory's file system
 * at the end instead of an fsync per file; it reports success only after
 * that.  A crash before then can leave empty bundles, which no device
 * accepts and no later run overwrites.
 *
 * Beside the bundles, DIR/tokens.csv lists which token went to whom
 * (person, unit, scope, token id, expiry, bundle file), for revocation.
 * A later run into the same directory adds its rows to it: the list is
 * rewritten whole (temp, fsync, rename) after the bundles are durable,
 * so it is never half written.  Its cells come from the charset-checked
 * roster fields, and are written formula-safe all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "muster/cli.h"
#include "muster/csvout.h"
#include "muster/err.h"
#include "muster/fs.h"
#include "muster/profile.h"
#include "muster/sig.h"
#include "muster/timefmt.h"
#include "muster/token.h"
#include "muster/token2.h"
#include "csv.h"
#include "idset.h"
#include "org.h"
#include "roster.h"
#include "tokcmd.h"

#define BUNDLE_SUFFIX	".bundle"
#define ROSTER_HEADER	"person,unit,scope"
#define ROSTER_FIELDS	3
#define ROSTER_CHUNK	4096	/* rows read and signed at a time */
#define ROSTER_THREADS_MAX 16
#define TOKENS_NAME	"tokens.csv"
#define TOKENS_HEADER	"person,unit,scope,token_id,expires,bundle\r\n"
#define TOKENS_MAX	(256L << 20)	/* an earlier tokens.csv, bytes */

_Static_assert(ROSTER_FIELDS <= CSV_FIELDS, "the CSV reader keeps every "
    "field of a roster row");

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
"DIR/tokens.csv (0600, written atomically) lists each bundle written:\n"
"person,unit,scope,token_id,expires,bundle (CSV, CRLF; a cell that would\n"
"start a formula is quoted behind a '); a later run into DIR adds to it.\n"
"Revoke a token with `muster-enroll revoke TOKEN_ID`.\n"
"\n"
"options:\n"
"  --org DIR         organisation directory (default: $MUSTER_ORG, else .)\n"
"  --out DIR         the directory for the bundles (required)\n"
"  --expires WHEN    as for `muster-enroll token` (default 14d); the same\n"
"                    expiry for every bundle\n"
"  --help            this text\n";

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
	char			 id[TOKEN_ID_HEX];	/* once signed */
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
	const struct sigset	*rss;		/* v2: the root; NULL: v1 */
	const struct token	*tmpl;		/* server, pin, root=N:HASH */
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
	FILE			*tokens;	/* tokens.csv, in memory */
	char			 exp[TIMEFMT_LEN];
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

	t = *r->tmpl;
	token_new_id(t.id);
	t.scope = row->scope;
	memcpy(t.unit, row->unit, sizeof t.unit);
	memcpy(t.person, row->person, sizeof t.person);
	t.expires = r->expires;
	if ((rc = token_sign(&t, r->sk, &tok, &e)) != 0 ||
	    (rc = r->rss != NULL ? token2_bundle_format(r->rss, tok, &t,
	    &row->bundle, &e) : token_bundle_format(r->pk, tok, &t,
	    &row->bundle, &e)) != 0)
		roster_fatal(r, rc, &e);
	memcpy(row->id, t.id, sizeof row->id);
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

/* Adds row's line to the token list (errors show in ferror). */
static void
roster_tokens_row(struct roster *r, const struct row *row, const char *name)
{
	const char *cells[] = { row->person, row->unit,
	    profile_scope_name(row->scope), row->id, r->exp, name };
	size_t i;

	for (i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		if (i > 0)
			putc(',', r->tokens);
		csvout_cell(r->tokens, cells[i], CSVOUT_NO_FORMULA);
	}
	fputs("\r\n", r->tokens);
}

/*
 * Starts the token list in memory (r->tokens, *buf, *len, the caller's):
 * the rows of an earlier DIR/tokens.csv, which must start with the
 * header, or the header alone.  Before any passphrase is asked.
 */
static int
roster_tokens_open(struct roster *r, char **buf, size_t *len,
    struct muster_err *e)
{
	char *path = NULL, *old = NULL;
	size_t olen = 0;
	int rc;

	if ((path = fs_path(r->outdir, TOKENS_NAME)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (faccessat(r->outfd, TOKENS_NAME, F_OK, AT_SYMLINK_NOFOLLOW) ==
	    0) {
		if ((rc = fs_read_private(path, TOKENS_MAX, &old, &olen,
		    e)) != 0)
			goto out;
		if (olen < sizeof TOKENS_HEADER - 1 || memcmp(old,
		    TOKENS_HEADER, sizeof TOKENS_HEADER - 1) != 0 ||
		    old[olen - 1] != '\n') {
			rc = err_set(e, MUSTER_EDATA, "%s: not a token list "
			    "roster wrote (want the header \"%.*s\" and whole "
			    "lines); move it away", path,
			    (int)sizeof TOKENS_HEADER - 3, TOKENS_HEADER);
			goto out;
		}
	} else if (errno != ENOENT) {
		rc = err_sys(e, MUSTER_ENOINPUT, "%s", path);
		goto out;
	}
	if ((r->tokens = open_memstream(buf, len)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if (old != NULL)
		fwrite(old, 1, olen, r->tokens);
	else
		fputs(TOKENS_HEADER, r->tokens);
	rc = 0;
out:
	free(old);
	free(path);
	return rc;
}

/*
 * Writes the token list to DIR/tokens.csv atomically (0600) and closes
 * r->tokens; buf and len are its memory, the caller's to free.
 */
static int
roster_tokens_write(struct roster *r, char **buf, size_t *len,
    struct muster_err *e)
{
	char *path = NULL;
	int rc, bad;

	bad = ferror(r->tokens);
	if (fclose(r->tokens) != 0)
		bad = 1;
	r->tokens = NULL;
	if (bad)
		return err_set(e, MUSTER_EINTERNAL, "%s/%s: out of memory",
		    r->outdir, TOKENS_NAME);
	if ((path = fs_path(r->outdir, TOKENS_NAME)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	rc = fs_write_atomic(path, *buf, *len, 0600, e);
	free(path);
	return rc;
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
	roster_tokens_row(r, row, name);
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

/* Checks one CSV record into row; row->err says what is wrong. */
static int
roster_row(struct csv_record *rec, struct idset *seen, struct row *row)
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
	    !token_unit_ok(unit))
		n = asprintf(&row->err, "unit %s: want " TOKEN_UNIT_RULE,
		    csv_quote(rec, 1, q));
	else if ((scope = csv_field(rec, 2)) == NULL ||
	    profile_scope_parse(scope, &row->scope) != 0)
		n = asprintf(&row->err, "scope %s: want personnel or family",
		    csv_quote(rec, 2, q));
	else if ((first = idset_add(seen, person, rec->line)) != 0) {
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
	struct sigset *ss = NULL;
	struct root root;
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
	if (r->rss != NULL ? token2_bundle_parse(r->name, c->rows[i].bundle,
	    strlen(c->rows[i].bundle), &ss, &root, &tok, &t, &ce) != 0 ||
	    memcmp(t.keyid, r->pk->keyid, sizeof t.keyid) != 0 :
	    token_bundle_parse(r->name, c->rows[i].bundle,
	    strlen(c->rows[i].bundle), &pk, &tok, &t, &ce) != 0 ||
	    memcmp(&pk, r->pk, sizeof pk) != 0)
		rc = err_set(e, MUSTER_EINTERNAL, "%s:%ld: the new bundle does "
		    "not verify (%s); nothing written", r->name,
		    c->rows[i].line, ce.msg);
	sigset_free(ss);
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
    struct idset *seen, struct muster_err *e)
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
roster_cmd(int argc, char **argv)
{
	struct muster_err e = { 0 };
	struct org_cfg oc;
	struct sig_pubkey pk;
	struct sig_seckey *sk = NULL;
	struct sigset *rss = NULL;
	struct token tmpl;
	struct roster r;
	struct csv csv = { NULL, 1, 1 };
	struct csv_record *rec = NULL;
	struct idset seen = { NULL, 0, 0 };
	pthread_t writer;
	const char *org = NULL, *outdir = NULL, *expires = "14d", *path;
	char exp[TIMEFMT_LEN], *tbuf = NULL;
	size_t tlen = 0;
	int k, ex, rc, sync_live = 0, writer_live = 0, i;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("org", 'O', &org),
		CLI_OPT_ARG("out", 'o', &outdir),
		CLI_OPT_ARG("expires", 'x', &expires),
		CLI_OPT_END,
	};

	memset(&r, 0, sizeof r);
	r.outfd = -1;
	if ((k = cli_options(argc, argv, "", opts, roster_usage, NULL, NULL,
	    &ex)) < 0)
		return ex;
	if (argc - k != 1)
		return cli_usage("roster", "expected one ROSTER.csv");
	if (outdir == NULL)
		return cli_usage("roster", "--out DIR is required");
	path = argv[k];
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
	r.outdir = outdir;
	timefmt_format(r.expires, r.exp);
	if ((rc = roster_tokens_open(&r, &tbuf, &tlen, &e)) != 0)
		goto out;
	memset(&tmpl, 0, sizeof tmpl);
	if ((rc = tokcmd_signer(org, &oc, &tmpl, &pk, &sk, &rss, &e)) != 0)
		goto out;
	tmpl.expires = r.expires;
	r.rss = rss;
	r.tmpl = &tmpl;
	r.name = path;
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
	/* The list only once the bundles it names are on disk. */
	if ((rc = roster_tokens_write(&r, &tbuf, &tlen, &e)) != 0)
		goto out;
	timefmt_format(r.expires, exp);
	printf("%s: %zu bundle%s written to %s, %zu row%s refused; tokens "
	    "expire %s\n", path, r.written, r.written == 1 ? "" : "s", outdir,
	    r.bad, r.bad == 1 ? "" : "s", exp);
	printf("token ids: %s/%s\n", outdir, TOKENS_NAME);
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
	if (rc != 0 && r.written > 0) {
		struct muster_err te = { 0 };

		/* What was written must still be revocable. */
		if (r.tokens != NULL && (syncfs(r.outfd) == -1 ||
		    roster_tokens_write(&r, &tbuf, &tlen, &te) != 0))
			cli_error(NULL, "%s/%s: not written: %s", outdir,
			    TOKENS_NAME, te.msg[0] != '\0' ? te.msg :
			    strerror(errno));
		cli_error(NULL, "%s: stopped after %zu bundle%s in %s", path,
		    r.written, r.written == 1 ? "" : "s", outdir);
	}
	if (r.tokens != NULL)
		fclose(r.tokens);
	free(tbuf);
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
	idset_free(&seen);
	free(rec);
	sig_seckey_free(sk);
	sigset_free(rss);
	if (rc != 0)
		return cli_fail(rc, &e);
	return r.bad > 0 ? err_exit_code(MUSTER_EDATA) : 0;
}
