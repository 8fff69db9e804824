/* rrmemo: randomized family results and their memo; see rrmemo.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/fs.h"
#include "muster/proto.h"
#include "muster/rr.h"
#include "rrmemo.h"

#define MAGIC		"muster-rr 1"

struct memo {
	unsigned char	key[RR_KEY_BYTES];
	unsigned char	q[PROTO_RR_BUDGET][RR_FP_BYTES];
	size_t		nq;
};

/* Parses the file's text; 0 or -1 (damaged). */
static int
memo_parse(char *buf, struct memo *m)
{
	char *line, *save = NULL;
	size_t bin;
	int first = 1, havekey = 0;

	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (first) {
			if (strcmp(line, MAGIC) != 0)
				return -1;
			first = 0;
		} else if (strncmp(line, "key ", 4) == 0 && !havekey) {
			if (strlen(line + 4) != 2 * RR_KEY_BYTES ||
			    sodium_hex2bin(m->key, RR_KEY_BYTES, line + 4,
			    2 * RR_KEY_BYTES, NULL, &bin, NULL) != 0 ||
			    bin != RR_KEY_BYTES)
				return -1;
			havekey = 1;
		} else if (strncmp(line, "q ", 2) == 0) {
			if (m->nq == PROTO_RR_BUDGET ||
			    strlen(line + 2) != 2 * RR_FP_BYTES ||
			    sodium_hex2bin(m->q[m->nq], RR_FP_BYTES, line + 2,
			    2 * RR_FP_BYTES, NULL, &bin, NULL) != 0 ||
			    bin != RR_FP_BYTES)
				return -1;
			m->nq++;
		} else
			return -1;
	}
	return havekey ? 0 : -1;
}

/* Loads dir's memo into m, or makes a new secret; *fresh: not on disk. */
static int
memo_load(const char *path, struct memo *m, int *fresh,
    struct muster_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(m, 0, sizeof *m);
	*fresh = 0;
	rc = fs_read_private(path, RRMEMO_MAX, &buf, &len, e);
	if (rc == MUSTER_ENOINPUT) {
		struct stat st;

		if (lstat(path, &st) == 0)
			return err_set(e, MUSTER_ECONFIG, "%s: cannot be read",
			    path);
		randombytes_buf(m->key, sizeof m->key);
		*fresh = 1;
		return 0;
	}
	if (rc == MUSTER_EDATA)
		rc = err_set(e, MUSTER_ECONFIG, "%s: not a memo file", path);
	if (rc != 0)
		goto out;
	if (memchr(buf, '\0', len) != NULL || memo_parse(buf, m) != 0)
		rc = err_set(e, MUSTER_ECONFIG, "%s: damaged (remove it to "
		    "draw new answers)", path);
out:
	fs_wipe_free(buf, len);
	return rc;
}

static int
memo_store(const char *path, const struct memo *m, struct muster_err *e)
{
	char hex[2 * RR_KEY_BYTES + 1], *buf;
	size_t cap = 64 + sizeof hex + m->nq * (RR_FP_HEX + 4), n, i;
	int rc;

	if ((buf = malloc(cap)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	sodium_bin2hex(hex, sizeof hex, m->key, RR_KEY_BYTES);
	n = (size_t)snprintf(buf, cap, MAGIC "\nkey %s\n", hex);
	for (i = 0; i < m->nq; i++) {
		char fh[RR_FP_HEX];

		rr_fp_hex(m->q[i], fh);
		n += (size_t)snprintf(buf + n, cap - n, "q %s\n", fh);
	}
	rc = fs_write_atomic(path, buf, n, 0600, e);
	sodium_memzero(hex, sizeof hex);
	sodium_memzero(buf, cap);
	free(buf);
	return rc;
}

/* Whether question fp is in the budget, admitting it if there is room. */
static int
memo_admit(struct memo *m, const unsigned char fp[RR_FP_BYTES], int *added)
{
	size_t i;

	for (i = 0; i < m->nq; i++)
		if (memcmp(m->q[i], fp, RR_FP_BYTES) == 0)
			return 1;
	if (m->nq == PROTO_RR_BUDGET)
		return 0;
	memcpy(m->q[m->nq++], fp, RR_FP_BYTES);
	*added = 1;
	return 1;
}

static const struct rule *
rule_of(const struct profile *p, size_t i, const char *id)
{
	size_t k;

	if (i < p->nrules && strcmp(p->rules[i].id, id) == 0)
		return &p->rules[i];
	for (k = 0; k < p->nrules; k++)
		if (strcmp(p->rules[k].id, id) == 0)
			return &p->rules[k];
	return NULL;
}

int
rrmemo_apply(const char *dir, const struct profile *p,
    struct report_result *res, size_t n, int *compliant,
    struct muster_err *e)
{
	struct memo *m = NULL;
	unsigned char fp[RR_FP_BYTES];
	const struct rule *r;
	char *path = NULL;
	size_t i;
	int rc, fresh = 0, added = 0, truth, ans, nfail = 0;

	if ((path = fs_path(dir, RRMEMO_FILE)) == NULL ||
	    (m = sodium_malloc(sizeof *m)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	if ((rc = memo_load(path, m, &fresh, e)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		truth = strcmp(res[i].result, PROTO_RESULT_FAIL) == 0 ||
		    strcmp(res[i].result, PROTO_RESULT_ERROR) == 0;
		if ((r = rule_of(p, i, res[i].rule)) != NULL)
			rr_fingerprint(r, fp);
		else
			crypto_generichash(fp, sizeof fp,
			    (const unsigned char *)res[i].rule,
			    strlen(res[i].rule), NULL, 0);
		ans = rr_answer(m->key, fp, truth, memo_admit(m, fp, &added));
		res[i].result = ans ? PROTO_RESULT_FAIL : PROTO_RESULT_PASS;
		res[i].detail = NULL;
		nfail += ans;
	}
	*compliant = nfail == 0;
	rc = fresh || added ? memo_store(path, m, e) : 0;
out:
	sodium_free(m);
	free(path);
	return rc;
}

int
rrmemo_wipe(const char *dir, struct muster_err *e)
{
	unsigned char zero[RRMEMO_MAX];
	struct stat st;
	char *path;
	int fd = -1, rc = 0;

	if ((path = fs_path(dir, RRMEMO_FILE)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			rc = err_sys(e, MUSTER_EIO, "%s", path);
		goto out;
	}
	memset(zero, 0, sizeof zero);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > RRMEMO_MAX ||
	    fs_write_all(fd, zero, (size_t)st.st_size) != 0 ||
	    fsync(fd) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s: overwrite", path);
		goto out;
	}
	if (unlink(path) == -1) {
		rc = err_sys(e, MUSTER_EIO, "%s: unlink", path);
		goto out;
	}
	rc = fs_sync_dir(path, e);
out:
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}
