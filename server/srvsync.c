/* srvsync: one truth for several servers on one store; srvsync.h. */
#include <stdlib.h>
#include <string.h>

#include "muster/log.h"
#include "srvsync.h"
#include "store.h"
#include "trust.h"
#include "writer.h"

/* The last poll failed (only srv_wait's thread polls). */
static int srvsync_failing;

/* A document handed to the writer. */
struct doc_job {
	const char	*name;
	int64_t		 version;
	const char	*buf;
	size_t		 len;
};

static int
job_doc_put(struct store *st, void *arg, struct muster_err *e)
{
	struct doc_job *j = arg;
	char *old = NULL;
	size_t len;
	int64_t v;
	int rc, stored, same;

	if ((rc = store_doc_put(st, j->name, j->version, j->buf, j->len,
	    &stored, e)) != 0 || stored)
		return rc;
	/* Not stored: the same one again is no error, anything else is. */
	if ((rc = store_doc_get(st, j->name, &old, &len, &v, e)) != 0)
		return rc;
	same = v == j->version && len == j->len && memcmp(old, j->buf,
	    len) == 0;
	free(old);
	if (same)
		return 0;
	return err_set(e, MUSTER_ETRUST, "%s: version %lld is stored "
	    "(through another server), not below %lld", j->name,
	    (long long)v, (long long)j->version);
}

static int
docs_write(void *cls, const char *name, int64_t version, const char *buf,
    size_t len, struct muster_err *e)
{
	struct srv *s = cls;
	struct doc_job j = { name, version, buf, len };

	return writer_run(s->writer, job_doc_put, &j, e);
}

static int
docs_read(void *cls, const char *name, size_t max, char **buf, size_t *len,
    struct muster_err *e)
{
	struct srv *s = cls;
	struct store *st;
	int64_t v;
	int rc;

	*buf = NULL;
	if ((rc = srv_reader(s, &st, e)) != 0 ||
	    (rc = store_doc_get(st, name, buf, len, &v, e)) != 0)
		return rc;
	if (*len > max) {
		free(*buf);
		*buf = NULL;
		return err_set(e, MUSTER_EDATA, "%s: %zu bytes, more than "
		    "%zu", name, *len, max);
	}
	return 0;
}

int
srvsync_attach(struct srv *s, struct muster_err *e)
{
	struct trust_docs docs = { docs_read, docs_write, s };
	struct store *st;
	int rc;

	if (s->cfg->store == NULL)
		return 0;
	trust_set_docs(s->trust, &docs);
	if ((rc = srv_reader(s, &st, e)) != 0 ||
	    (rc = store_generation(st, &s->generation, e)) != 0)
		return rc;
	s->synced = time(NULL);
	return trust_reload(s->trust, e);
}

void
srvsync_tick(struct srv *s, struct timespec *wait)
{
	struct muster_err e;
	struct store *st;
	time_t now = time(NULL), due;
	int64_t gen;

	if (s->cfg->store == NULL)
		return;
	if (now - s->synced >= SRVSYNC_INTERVAL || now < s->synced) {
		s->synced = now;
		if (srv_reader(s, &st, &e) != 0 ||
		    store_generation(st, &gen, &e) != 0) {
			/* Once per outage, not every poll. */
			if (!srvsync_failing)
				log_warn("store: cannot ask for publications: "
				    "%s", e.msg);
			srvsync_failing = 1;
		} else {
			srvsync_failing = 0;
			if (gen != s->generation) {
				log_info("store: published through another "
				    "server: reloading");
				if (srv_reload(s, &e) != 0)
					log_error("reload: %s (keeping what "
					    "was loaded)", e.msg);
				else
					s->generation = gen;
			}
		}
	}
	due = SRVSYNC_INTERVAL - (now - s->synced);
	if (due < 1)
		due = 1;
	if (wait->tv_sec > due)
		wait->tv_sec = due;
}
