/* spool: the report queue in the state directory; see agent/spool.h. */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/fs.h"
#include "muster/report.h"
#include "spool.h"

#define INTFILE_MAX	32

static const char *
subdir(enum spool_which which)
{
	return which == SPOOL_SENT ? SPOOL_SENT_DIR : SPOOL_PENDING_DIR;
}

/* "dir/sub/<seq>ext", or "dir/sub" when ext is NULL; NULL if no memory. */
static char *
entry(const char *dir, enum spool_which which, int64_t seq, const char *ext)
{
	char *p;
	int n;

	if (ext == NULL)
		n = asprintf(&p, "%s/%s", dir, subdir(which));
	else
		n = asprintf(&p, "%s/%s/%lld%s", dir, subdir(which),
		    (long long)seq, ext);
	return n == -1 ? NULL : p;
}

/* Parses "<seq>ext" (decimal, no sign, no leading zero); 0 or -1. */
static int
name_seq(const char *name, const char *ext, int64_t *seq)
{
	size_t i, nd = strspn(name, "0123456789");
	int64_t v = 0;

	if (nd == 0 || nd > 18 || name[0] == '0' || strcmp(name + nd, ext) != 0)
		return -1;
	for (i = 0; i < nd; i++)
		v = v * 10 + (name[i] - '0');
	*seq = v;
	return 0;
}

/* Reads a file holding one decimal number; a missing file reads as 0. */
static int
int_get(const char *dir, const char *name, int64_t *v, struct muster_err *e)
{
	return fs_read_number(dir, name, INTFILE_MAX, 0, SPOOL_SEQ_MAX, v, e);
}

int
spool_seq_get(const char *dir, int64_t *seq, struct muster_err *e)
{
	return int_get(dir, SPOOL_SEQ_FILE, seq, e);
}

int
spool_seq_next(const char *dir, int64_t *seq, struct muster_err *e)
{
	int64_t last;
	int rc;

	if ((rc = int_get(dir, SPOOL_SEQ_FILE, &last, e)) != 0)
		return rc;
	if (last >= SPOOL_SEQ_MAX)
		return err_set(e, MUSTER_ECONFIG, "%s/%s: seq exhausted", dir,
		    SPOOL_SEQ_FILE);
	if ((rc = fs_write_number(dir, SPOOL_SEQ_FILE, last + 1, e)) != 0)
		return rc;
	*seq = last + 1;
	return 0;
}

int
spool_dropped_get(const char *dir, int64_t *n, struct muster_err *e)
{
	return int_get(dir, SPOOL_DROPPED_FILE, n, e);
}

int
spool_dropped_set(const char *dir, int64_t n, struct muster_err *e)
{
	return fs_write_number(dir, SPOOL_DROPPED_FILE, n, e);
}

/*
 * Removes what an interrupted write left: temp files, and .sig or .ack
 * files without their .json.
 */
static void
tidy(const char *dir, enum spool_which which)
{
	struct dirent *de;
	struct stat st;
	char *sub, *json = NULL, *path = NULL;
	int64_t seq;
	DIR *d;

	if ((sub = entry(dir, which, 0, NULL)) == NULL ||
	    (d = opendir(sub)) == NULL) {
		free(sub);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		int orphan = 0;

		if (name_seq(de->d_name, ".sig", &seq) == 0 ||
		    name_seq(de->d_name, ".ack", &seq) == 0) {
			if ((json = entry(dir, which, seq, ".json")) == NULL)
				break;
			orphan = lstat(json, &st) == -1 && errno == ENOENT;
			free(json);
			json = NULL;
		} else if (strstr(de->d_name, ".tmp.") != NULL)
			orphan = 1;
		if (!orphan || asprintf(&path, "%s/%s", sub, de->d_name) == -1)
			continue;
		unlink(path);
		free(path);
	}
	closedir(d);
	free(sub);
}

int
spool_init(const char *dir, struct muster_err *e)
{
	char *p;
	int rc, i;

	for (i = 0; i < 2; i++) {
		if ((p = entry(dir, i ? SPOOL_SENT : SPOOL_PENDING, 0, NULL)) ==
		    NULL)
			return err_set(e, MUSTER_EINTERNAL, "out of memory");
		rc = fs_mkdir_private(p, e);
		free(p);
		if (rc != 0)
			return rc;
		tidy(dir, i ? SPOOL_SENT : SPOOL_PENDING);
	}
	return 0;
}

static int
seq_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int
spool_list(const char *dir, enum spool_which which, int64_t **seqs,
    size_t *np, struct muster_err *e)
{
	struct dirent *de;
	int64_t *v = NULL, *nv, seq;
	size_t n = 0, cap = 0;
	char *sub;
	DIR *d = NULL;
	int rc = 0;

	*seqs = NULL;
	*np = 0;
	if ((sub = entry(dir, which, 0, NULL)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((d = opendir(sub)) == NULL) {
		if (errno != ENOENT)
			rc = err_sys(e, MUSTER_EIO, "%s", sub);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (name_seq(de->d_name, ".json", &seq) != 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL) {
				rc = err_set(e, MUSTER_EINTERNAL, "out of "
				    "memory");
				goto out;
			}
			v = nv;
		}
		v[n++] = seq;
	}
	if (n > 0)
		qsort(v, n, sizeof *v, seq_cmp);
	*seqs = v;
	*np = n;
	v = NULL;
out:
	if (d != NULL)
		closedir(d);
	free(v);
	free(sub);
	return rc;
}

int
spool_pending(const char *dir, size_t *n, struct muster_err *e)
{
	int64_t *v = NULL;
	int rc;

	rc = spool_list(dir, SPOOL_PENDING, &v, n, e);
	free(v);
	return rc;
}

int
spool_read(const char *dir, enum spool_which which, int64_t seq,
    char **json, size_t *len, char sig[DEVKEY_SIG_B64], struct muster_err *e)
{
	char *jp = NULL, *sp = NULL, *sbuf = NULL;
	size_t slen = 0;
	int rc;

	*json = NULL;
	*len = 0;
	if ((jp = entry(dir, which, seq, ".json")) == NULL ||
	    (sp = entry(dir, which, seq, ".sig")) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = fs_read_file(jp, PROTO_REPORT_MAX, json, len, e)) != 0 ||
	    (rc = fs_read_file(sp, DEVKEY_SIG_B64, &sbuf, &slen, e)) != 0)
		goto out;
	if (slen > 0 && sbuf[slen - 1] == '\n')
		sbuf[--slen] = '\0';
	if (slen != DEVKEY_SIG_B64 - 1) {
		rc = err_set(e, MUSTER_EDATA, "%s: damaged signature", sp);
		goto out;
	}
	memcpy(sig, sbuf, slen + 1);
out:
	if (rc != 0) {
		free(*json);
		*json = NULL;
		*len = 0;
	}
	free(sbuf);
	free(jp);
	free(sp);
	return rc;
}

int
spool_put(const char *dir, int64_t seq, const char *json, size_t len,
    const char *sig, struct muster_err *e)
{
	char *jp = NULL, *sp = NULL, *sline = NULL;
	int rc;

	if ((jp = entry(dir, SPOOL_PENDING, seq, ".json")) == NULL ||
	    (sp = entry(dir, SPOOL_PENDING, seq, ".sig")) == NULL ||
	    asprintf(&sline, "%s\n", sig) == -1) {
		sline = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* The .json makes it a waiting report: it goes last. */
	if ((rc = fs_write_atomic(sp, sline, strlen(sline), 0600, e)) == 0)
		rc = fs_write_atomic(jp, json, len, 0600, e);
out:
	free(sline);
	free(jp);
	free(sp);
	return rc;
}

/* Unlinks the .json, .sig and .ack of seq in which. */
static void
remove_entry(const char *dir, enum spool_which which, int64_t seq)
{
	static const char *ext[] = { ".json", ".sig", ".ack" };
	char *p;
	size_t i;

	for (i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if ((p = entry(dir, which, seq, ext[i])) != NULL) {
			unlink(p);
			free(p);
		}
}

int
spool_make_room(const char *dir, size_t max, size_t *ndropped,
    struct muster_err *e)
{
	struct report_summary s;
	int64_t *v = NULL, count = 0, old;
	char *json = NULL, sig[DEVKEY_SIG_B64];
	size_t n = 0, i, drop, len;
	int rc;

	if (ndropped != NULL)
		*ndropped = 0;
	if ((rc = spool_list(dir, SPOOL_PENDING, &v, &n, e)) != 0)
		goto out;
	if (n < max)
		goto out;
	drop = n - max + 1;
	for (i = 0; i < drop; i++) {
		count++;
		/* What a dropped report carried is not lost either. */
		if (spool_read(dir, SPOOL_PENDING, v[i], &json, &len, sig,
		    NULL) == 0 && report_summary(json, len, &s, NULL) == 0)
			count += s.dropped;
		free(json);
		json = NULL;
	}
	/* Count first: a crash here over-counts rather than loses. */
	if ((rc = spool_dropped_get(dir, &old, e)) != 0 ||
	    (rc = spool_dropped_set(dir, old + count, e)) != 0)
		goto out;
	for (i = 0; i < drop; i++)
		remove_entry(dir, SPOOL_PENDING, v[i]);
	if (ndropped != NULL)
		*ndropped = drop;
out:
	free(v);
	return rc;
}

int
spool_done(const char *dir, int64_t seq, const char *what,
    struct muster_err *e)
{
	static const char *ext[] = { ".json", ".sig" };
	char *from = NULL, *to = NULL, *ack = NULL, *line = NULL;
	int64_t *v = NULL;
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < 2; i++) {
		if ((from = entry(dir, SPOOL_PENDING, seq, ext[i])) == NULL ||
		    (to = entry(dir, SPOOL_SENT, seq, ext[i])) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		/* The .json first: once it has gone it is no longer waiting. */
		if (rename(from, to) == -1 && (errno != ENOENT || i == 0)) {
			rc = err_sys(e, MUSTER_EIO, "%s", from);
			goto out;
		}
		free(from);
		free(to);
		from = to = NULL;
	}
	if ((ack = entry(dir, SPOOL_SENT, seq, ".ack")) == NULL ||
	    asprintf(&line, "%.*s\n", SPOOL_ACK_MAX - 2, what) == -1) {
		line = NULL;
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = fs_write_atomic(ack, line, strlen(line), 0600, e)) != 0)
		goto out;
	if ((from = entry(dir, SPOOL_PENDING, 0, NULL)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = fs_sync_dir(from, e)) != 0)
		goto out;
	if ((rc = spool_list(dir, SPOOL_SENT, &v, &n, e)) != 0)
		goto out;
	for (i = 0; n > SPOOL_SENT_KEEP && i < n - SPOOL_SENT_KEEP; i++)
		remove_entry(dir, SPOOL_SENT, v[i]);
out:
	free(v);
	free(from);
	free(to);
	free(ack);
	free(line);
	return rc;
}

void
spool_ack(const char *dir, int64_t seq, char *buf, size_t size)
{
	char *p, *s = NULL;
	size_t len = 0, i;

	buf[0] = '\0';
	if ((p = entry(dir, SPOOL_SENT, seq, ".ack")) == NULL)
		return;
	if (fs_read_file(p, SPOOL_ACK_MAX, &s, &len, NULL) == 0) {
		for (i = 0; i < len && i + 1 < size && s[i] >= 0x20 &&
		    s[i] < 0x7f; i++)
			buf[i] = s[i];
		buf[i] = '\0';
	}
	free(s);
	free(p);
}
