/*
 * device_sim: a device described by a libconfig file, the format of
 * examples/devices/README.md.  Used for demos, tests and fleet simulation.
 *
 * The file is read again for every call, so an edit made while the agent
 * runs (someone turning Mi Cloud sync back on) shows at the next check.
 * It is capped before libconfig sees it: size, NUL bytes, @include,
 * nesting, and strings where the grammar cannot take one (libconfig 1.5
 * refuses those but leaks the string).  A change rewrites the whole file
 * atomically in the documented layout, keeping the file's mode and its
 * leading comment block; other comments are lost.  What is about to be
 * written is parsed back first, so a rewrite cannot leave a file the
 * agent would refuse.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "muster/cfgread.h"
#include "muster/cfgscan.h"
#include "muster/err.h"
#include "muster/fs.h"
#include "device.h"
#include "device_impl.h"

#define SIM_MAX_BYTES		(1024 * 1024)
#define SIM_MAX_DEPTH		8
#define SIM_MAX_SETTINGS	4096	/* per namespace */
#define SIM_MAX_PACKAGES	4096
#define NNS			3	/* system, secure, global */

struct sim_setting {
	char	*key;
	char	*val;
};

struct sim_pkg {
	char	*name;
	int	 enabled;
	int	 line;
};

/* One reading of the file. */
struct sim_data {
	char			*header;	/* leading comment block */
	size_t			 headerlen;
	mode_t			 mode;
	struct device_facts	 facts;
	struct sim_setting	*set[NNS];
	size_t			 nset[NNS];
	struct sim_pkg		*pkgs;
	size_t			 npkgs;
};

/*
 * The parsed file is kept while the file is unchanged (same inode, size
 * and modification time), so a check of many rules parses it once, and an
 * edit made while the agent runs is still seen at the next call.
 */
struct sim {
	char		*path;
	struct sim_data	 sd;
	int		 loaded;
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim;
};

static const struct {
	const char	*name;
	size_t		 off;
} fact_fields[] = {
	{ "manufacturer", offsetof(struct device_facts, manufacturer) },
	{ "model", offsetof(struct device_facts, model) },
	{ "build", offsetof(struct device_facts, build) },
	{ "os_version", offsetof(struct device_facts, os_version) },
};

#define NFACTS	(sizeof fact_fields / sizeof fact_fields[0])

static int
oom(struct cfgread_doc *c)
{
	return err_set(c->e, MUSTER_EINTERNAL, "%s: out of memory", c->name);
}

static void
sim_data_free(struct sim_data *sd)
{
	size_t i, j;

	free(sd->header);
	for (i = 0; i < NNS; i++) {
		for (j = 0; j < sd->nset[i]; j++) {
			free(sd->set[i][j].key);
			free(sd->set[i][j].val);
		}
		free(sd->set[i]);
	}
	for (i = 0; i < sd->npkgs; i++)
		free(sd->pkgs[i].name);
	free(sd->pkgs);
	memset(sd, 0, sizeof *sd);
}

/*
 * Whether key can be written as a libconfig setting name: a letter, then
 * letters, digits, _ and -; and not "true" or "false", which libconfig
 * reads as booleans.  Android keys with a dot cannot live in a sim file.
 */
static int
sim_key_ok(const char *key)
{
	const char *p;

	if (!device_key_ok(key))
		return 0;
	if (!((key[0] >= 'a' && key[0] <= 'z') ||
	    (key[0] >= 'A' && key[0] <= 'Z')))
		return 0;
	for (p = key; *p != '\0'; p++)
		if (*p == '.')
			return 0;
	if (strcasecmp(key, "true") == 0 || strcasecmp(key, "false") == 0)
		return 0;
	return 1;
}

/*
 * The length of the leading block of lines that are blank or comments
 * starting with '#', up to the end of its last comment line.
 */
static size_t
header_len(const char *buf, size_t len)
{
	size_t i = 0, last = 0;
	int comment;

	while (i < len) {
		while (i < len && (buf[i] == ' ' || buf[i] == '\t' ||
		    buf[i] == '\r' || buf[i] == '\f' || buf[i] == '\v'))
			i++;
		if (i < len && buf[i] != '\n' && buf[i] != '#')
			break;
		comment = i < len && buf[i] == '#';
		while (i < len && buf[i] != '\n')
			i++;
		if (i < len)
			i++;
		if (comment)
			last = i;
	}
	return last;
}

/* Checks that s (named what, for messages) has type want. */
static int
want_type(struct cfgread_doc *c, const config_setting_t *s, const char *what,
    int want)
{
	int type = config_setting_type(s);

	if (type == want)
		return 0;
	return cfgread_doc_err(c, s, "%s must be %s, not %s", what,
	    cfgread_type_name(want), cfgread_type_name(type));
}

/* Copies string setting s into dst[size] after checking it. */
static int
text_field(struct cfgread_doc *c, const config_setting_t *s, const char *what,
    char *dst, size_t size)
{
	const char *v;
	size_t n;
	int rc;

	if ((rc = want_type(c, s, what, CONFIG_TYPE_STRING)) < 0)
		return rc;
	if (cfgread_str(s, size, &v) != 0)
		return cfgread_doc_err(c, s, "%s is longer than %zu bytes",
		    what, size - 1);
	n = strlen(v);
	if (!esc_text_ok(v, n))
		return cfgread_doc_err(c, s, "%s holds a control character "
		    "or bad UTF-8", what);
	memcpy(dst, v, n + 1);
	return 0;
}

static int
parse_namespace(struct cfgread_doc *c, const config_setting_t *g, int ns,
    struct sim_data *sd)
{
	const config_setting_t *s;
	char what[DEVICE_KEY_MAX + 32];
	char val[DEVICE_VALUE_MAX];
	const char *key;
	int i, n, rc;

	n = config_setting_length(g);
	if (n > SIM_MAX_SETTINGS)
		return cfgread_doc_err(c, g, "more than %d settings in "
		    "\"%s\"", SIM_MAX_SETTINGS, device_namespaces[ns]);
	if (n == 0)
		return 0;
	if ((sd->set[ns] = calloc((size_t)n, sizeof *sd->set[ns])) == NULL)
		return oom(c);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		key = config_setting_name(s);
		if (key == NULL || !sim_key_ok(key))
			return cfgread_doc_err(c, s, "bad settings key "
			    "in \"%s\" (want a letter, then A-Z a-z 0-9 _ -)",
			    device_namespaces[ns]);
		snprintf(what, sizeof what, "setting %s/%s",
		    device_namespaces[ns], key);
		if ((rc = text_field(c, s, what, val, sizeof val)) < 0)
			return rc;
		if ((sd->set[ns][i].key = strdup(key)) == NULL ||
		    (sd->set[ns][i].val = strdup(val)) == NULL) {
			sd->nset[ns] = (size_t)i + 1;
			return oom(c);
		}
		sd->nset[ns] = (size_t)i + 1;
	}
	return 0;
}

static int
parse_settings(struct cfgread_doc *c, const config_setting_t *g,
    struct sim_data *sd)
{
	const config_setting_t *s;
	const char *name;
	int i, n, ns, rc;

	if ((rc = want_type(c, g, "field \"settings\"", CONFIG_TYPE_GROUP)) < 0)
		return rc;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(s);
		if ((ns = device_ns_index(name)) < 0)
			return cfgread_doc_err(c, s, "unknown settings "
			    "namespace \"%s\" (want system, secure or global)",
			    name != NULL ? name : "");
		if ((rc = want_type(c, s, "a settings namespace",
		    CONFIG_TYPE_GROUP)) < 0)
			return rc;
		if ((rc = parse_namespace(c, s, ns, sd)) < 0)
			return rc;
	}
	return 0;
}

static int
pkg_cmp(const void *a, const void *b)
{
	const struct sim_pkg *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int
parse_package(struct cfgread_doc *c, const config_setting_t *g,
    struct sim_pkg *p)
{
	const config_setting_t *s, *name = NULL, *enabled = NULL;
	const char *field;
	int i, n, rc;

	if ((rc = want_type(c, g, "a package", CONFIG_TYPE_GROUP)) < 0)
		return rc;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		field = config_setting_name(s);
		if (field != NULL && strcmp(field, "name") == 0)
			name = s;
		else if (field != NULL && strcmp(field, "enabled") == 0)
			enabled = s;
		else
			return cfgread_doc_err(c, s, "package: unknown "
			    "field \"%s\" (want name and enabled)",
			    field != NULL ? field : "");
	}
	if (name == NULL)
		return cfgread_doc_err(c, g, "package: missing field "
		    "\"name\"");
	if (enabled == NULL)
		return cfgread_doc_err(c, g, "package: missing field "
		    "\"enabled\"");
	if ((rc = want_type(c, name, "package field \"name\"",
	    CONFIG_TYPE_STRING)) < 0 ||
	    (rc = want_type(c, enabled, "package field \"enabled\"",
	    CONFIG_TYPE_BOOL)) < 0)
		return rc;
	if (!device_pkg_ok(config_setting_get_string(name)))
		return cfgread_doc_err(c, name, "bad package name (want 1 "
		    "to %d of A-Z a-z 0-9 . _)", DEVICE_PKG_MAX);
	if ((p->name = strdup(config_setting_get_string(name))) == NULL)
		return oom(c);
	/* Its type was checked above, so this cannot fail. */
	(void)cfgread_bool(enabled, &p->enabled);
	p->line = cfgread_line1(g);
	return 0;
}

static int
parse_packages(struct cfgread_doc *c, const config_setting_t *l,
    struct sim_data *sd)
{
	struct sim_pkg **sorted = NULL;
	size_t k;
	int i, n, rc;

	if ((rc = want_type(c, l, "field \"packages\"", CONFIG_TYPE_LIST)) < 0)
		goto out;
	n = config_setting_length(l);
	if (n > SIM_MAX_PACKAGES) {
		rc = cfgread_doc_err(c, l, "more than %d packages",
		    SIM_MAX_PACKAGES);
		goto out;
	}
	rc = 0;
	if (n == 0)
		goto out;
	if ((sd->pkgs = calloc((size_t)n, sizeof *sd->pkgs)) == NULL ||
	    (sorted = calloc((size_t)n, sizeof *sorted)) == NULL) {
		rc = oom(c);
		goto out;
	}
	for (i = 0; i < n; i++) {
		sd->npkgs = (size_t)i + 1;
		if ((rc = parse_package(c, config_setting_get_elem(l,
		    (unsigned)i), &sd->pkgs[i])) < 0)
			goto out;
		sorted[i] = &sd->pkgs[i];
	}
	qsort(sorted, (size_t)n, sizeof *sorted, pkg_cmp);
	for (k = 1; k < (size_t)n; k++)
		if (strcmp(sorted[k - 1]->name, sorted[k]->name) == 0) {
			rc = err_at(c->e, MUSTER_EDATA, c->name,
			    sorted[k - 1]->line > sorted[k]->line ?
			    sorted[k - 1]->line : sorted[k]->line,
			    "duplicate package \"%s\"", sorted[k]->name);
			goto out;
		}
	rc = 0;
out:
	free(sorted);
	return rc;
}

static int
parse_root(struct cfgread_doc *c, const config_setting_t *root,
    struct sim_data *sd)
{
	const config_setting_t *s;
	char what[64];
	const char *name;
	int seen[NFACTS] = { 0 };
	size_t f;
	int i, n, rc;

	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		name = config_setting_name(s);
		if (name == NULL)
			name = "";
		for (f = 0; f < NFACTS; f++)
			if (strcmp(name, fact_fields[f].name) == 0)
				break;
		if (f < NFACTS) {
			snprintf(what, sizeof what, "field \"%s\"", name);
			if ((rc = text_field(c, s, what, (char *)&sd->facts +
			    fact_fields[f].off, DEVICE_FACT_MAX)) < 0)
				return rc;
			seen[f] = 1;
		} else if (strcmp(name, "settings") == 0) {
			if ((rc = parse_settings(c, s, sd)) < 0)
				return rc;
		} else if (strcmp(name, "packages") == 0) {
			if ((rc = parse_packages(c, s, sd)) < 0)
				return rc;
		} else
			return cfgread_doc_err(c, s, "unknown field \"%s\" "
			    "(want manufacturer, model, build, os_version, "
			    "settings or packages)", name);
	}
	for (f = 0; f < NFACTS; f++)
		if (!seen[f])
			return cfgread_doc_err(c, NULL, "missing field \"%s\"",
			    fact_fields[f].name);
	return 0;
}

/*
 * Parses len bytes at buf (named name in messages) into sd, which the
 * caller frees with sim_data_free whatever the result.
 */
static int
sim_parse(const char *name, const char *buf, size_t len, struct sim_data *sd,
    struct muster_err *e)
{
	struct cfgread_doc c = { name, e };
	config_t cfg;
	size_t hl;
	int live = 0, rc;

	if (len > SIM_MAX_BYTES) {
		rc = err_set(e, MUSTER_EDATA, "%s: %zu bytes, more than the "
		    "limit of %d", name, len, SIM_MAX_BYTES);
		goto out;
	}
	config_init(&cfg);
	live = 1;
	if ((rc = cfgscan_read(&cfg, name, "device file", buf, len,
	    SIM_MAX_DEPTH, e)) < 0)
		goto out;
	if ((rc = parse_root(&c, config_root_setting(&cfg), sd)) < 0)
		goto out;
	if ((hl = header_len(buf, len)) > 0) {
		if ((sd->header = malloc(hl + 1)) == NULL) {
			rc = oom(&c);
			goto out;
		}
		memcpy(sd->header, buf, hl);
		sd->header[hl] = '\0';
		sd->headerlen = hl;
	}
	rc = 0;
out:
	if (live)
		config_destroy(&cfg);
	return rc;
}

/* Reads and parses the file at path into sd (freed by sim_data_free). */
static int
sim_load(const char *path, struct sim_data *sd, struct muster_err *e)
{
	struct stat st;
	char *buf = NULL;
	size_t len;
	int rc;

	memset(sd, 0, sizeof *sd);
	/* Before opening it: a FIFO would block the open. */
	if (stat(path, &st) == -1) {
		rc = err_sys(e, MUSTER_ENOINPUT, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(e, MUSTER_EDATA, "%s: not a regular file", path);
		goto out;
	}
	sd->mode = st.st_mode & 07777;
	if ((rc = fs_read_file(path, SIM_MAX_BYTES, &buf, &len, e)) < 0)
		goto out;
	rc = sim_parse(path, buf, len, sd, e);
out:
	free(buf);
	return rc;
}

/* Remembers what path looks like now, so that sim_get can tell a change. */
static void
sim_remember(struct sim *s)
{
	struct stat st;

	if (stat(s->path, &st) == -1) {
		s->loaded = 0;
		return;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->size = st.st_size;
	s->mtim = st.st_mtim;
}

/* The parsed device, read again only if the file changed. */
static int
sim_get(struct sim *s, struct sim_data **sdp, struct muster_err *e)
{
	struct stat st;
	int rc;

	*sdp = NULL;
	if (s->loaded && stat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino && st.st_size == s->size &&
	    st.st_mtim.tv_sec == s->mtim.tv_sec &&
	    st.st_mtim.tv_nsec == s->mtim.tv_nsec) {
		*sdp = &s->sd;
		return 0;
	}
	sim_data_free(&s->sd);
	s->loaded = 0;
	sim_remember(s);
	if ((rc = sim_load(s->path, &s->sd, e)) < 0) {
		sim_data_free(&s->sd);
		return rc;
	}
	s->loaded = 1;
	*sdp = &s->sd;
	return 0;
}

struct sbuf {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 bad;	/* out of memory or over SIM_MAX_BYTES */
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	size_t want;
	char *np;

	if (b->bad)
		return;
	if (n > SIM_MAX_BYTES || b->len + n > SIM_MAX_BYTES) {
		b->bad = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		want = b->cap == 0 ? 4096 : b->cap;
		while (want < b->len + n + 1)
			want *= 2;
		if ((np = realloc(b->p, want)) == NULL) {
			b->bad = 1;
			return;
		}
		b->p = np;
		b->cap = want;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_cat(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

/* Appends s as a libconfig string; values hold no control characters. */
static void
sb_quote(struct sbuf *b, const char *s)
{
	const char *p;

	sb_cat(b, "\"");
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			sb_add(b, "\\", 1);
		sb_add(b, p, 1);
	}
	sb_cat(b, "\"");
}

/* Formats sd in the documented layout into b. */
static void
sim_format(const struct sim_data *sd, struct sbuf *b)
{
	size_t f, ns, i;

	if (sd->header != NULL) {
		sb_add(b, sd->header, sd->headerlen);
		if (sd->headerlen > 0 && sd->header[sd->headerlen - 1] != '\n')
			sb_cat(b, "\n");
		sb_cat(b, "\n");
	}
	for (f = 0; f < NFACTS; f++) {
		sb_cat(b, fact_fields[f].name);
		sb_cat(b, " = ");
		sb_quote(b, (const char *)&sd->facts + fact_fields[f].off);
		sb_cat(b, ";\n");
	}
	sb_cat(b, "\nsettings = {\n");
	for (ns = 0; ns < NNS; ns++) {
		sb_cat(b, "\t");
		sb_cat(b, device_namespaces[ns]);
		if (sd->nset[ns] == 0) {
			sb_cat(b, " = { };\n");
			continue;
		}
		sb_cat(b, " = {\n");
		for (i = 0; i < sd->nset[ns]; i++) {
			sb_cat(b, "\t\t");
			sb_cat(b, sd->set[ns][i].key);
			sb_cat(b, " = ");
			sb_quote(b, sd->set[ns][i].val);
			sb_cat(b, ";\n");
		}
		sb_cat(b, "\t};\n");
	}
	sb_cat(b, "};\n\npackages = (");
	for (i = 0; i < sd->npkgs; i++) {
		sb_cat(b, i == 0 ? "\n" : ",\n");
		sb_cat(b, "\t{ name = ");
		sb_quote(b, sd->pkgs[i].name);
		sb_cat(b, sd->pkgs[i].enabled ? "; enabled = true; }" :
		    "; enabled = false; }");
	}
	sb_cat(b, sd->npkgs > 0 ? "\n);\n" : " );\n");
}

/* Rewrites path from sd atomically, after parsing the new text back. */
static int
sim_store(const char *path, const struct sim_data *sd, struct muster_err *e)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	struct sim_data check;
	int rc;

	memset(&check, 0, sizeof check);
	sim_format(sd, &b);
	if (b.bad) {
		rc = err_set(e, MUSTER_EDATA, "%s: out of memory or over the "
		    "limit of %d bytes while rewriting", path, SIM_MAX_BYTES);
		goto out;
	}
	if ((rc = sim_parse(path, b.p, b.len, &check, e)) < 0)
		goto out;
	rc = fs_write_atomic(path, b.p, b.len, sd->mode, e);
out:
	sim_data_free(&check);
	free(b.p);
	return rc;
}

static struct sim_setting *
find_setting(struct sim_data *sd, int ns, const char *key)
{
	size_t i;

	for (i = 0; i < sd->nset[ns]; i++)
		if (strcmp(sd->set[ns][i].key, key) == 0)
			return &sd->set[ns][i];
	return NULL;
}

static struct sim_pkg *
find_pkg(struct sim_data *sd, const char *pkg)
{
	size_t i;

	for (i = 0; i < sd->npkgs; i++)
		if (strcmp(sd->pkgs[i].name, pkg) == 0)
			return &sd->pkgs[i];
	return NULL;
}

static int
sim_facts(struct device *d, struct device_facts *f, struct muster_err *e)
{
	struct sim *s = d->be;
	struct sim_data *sd;
	int rc;

	if ((rc = sim_get(s, &sd, e)) == 0)
		*f = sd->facts;
	return rc;
}

static int
sim_setting_get(struct device *d, const char *ns, const char *key,
    char val[DEVICE_VALUE_MAX], int *isset, struct muster_err *e)
{
	struct sim *s = d->be;
	struct sim_setting *st;
	struct sim_data *sd;
	int rc;

	if ((rc = sim_get(s, &sd, e)) < 0)
		return rc;
	if ((st = find_setting(sd, device_ns_index(ns), key)) != NULL) {
		/* Checked shorter than DEVICE_VALUE_MAX when parsed. */
		snprintf(val, DEVICE_VALUE_MAX, "%s", st->val);
		*isset = 1;
	}
	return 0;
}

/* Writes the changed cache out; on failure the cache is dropped. */
static int
sim_commit(struct sim *s, struct muster_err *e)
{
	int rc;

	if ((rc = sim_store(s->path, &s->sd, e)) < 0) {
		sim_data_free(&s->sd);
		s->loaded = 0;
		return rc;
	}
	sim_remember(s);
	return 0;
}

static int
sim_setting_put(struct device *d, const char *ns, const char *key,
    const char *val, struct muster_err *e)
{
	struct sim *s = d->be;
	struct sim_setting *st, *nv;
	struct sim_data *sd;
	char *v = NULL, *k = NULL;
	int n, rc;

	if (!sim_key_ok(key)) {
		rc = err_set(e, MUSTER_EUSAGE, "%s: key \"%s\" cannot be "
		    "stored in a sim device file (want a letter, then A-Z a-z "
		    "0-9 _ -)", d->name, key);
		goto out;
	}
	if ((rc = sim_get(s, &sd, e)) < 0)
		goto out;
	n = device_ns_index(ns);
	if ((st = find_setting(sd, n, key)) != NULL) {
		if (strcmp(st->val, val) == 0)
			goto out;
		if ((v = strdup(val)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		free(st->val);
		st->val = v;
		v = NULL;
	} else {
		if (sd->nset[n] >= SIM_MAX_SETTINGS) {
			rc = err_set(e, MUSTER_EDATA, "%s: more than %d "
			    "settings in \"%s\"", s->path, SIM_MAX_SETTINGS,
			    ns);
			goto out;
		}
		if ((k = strdup(key)) == NULL || (v = strdup(val)) == NULL ||
		    (nv = realloc(sd->set[n], (sd->nset[n] + 1) *
		    sizeof *nv)) == NULL) {
			rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
			goto out;
		}
		sd->set[n] = nv;
		nv[sd->nset[n]].key = k;
		nv[sd->nset[n]].val = v;
		sd->nset[n]++;
		k = v = NULL;
	}
	rc = sim_commit(s, e);
out:
	free(k);
	free(v);
	return rc;
}

static int
sim_package(struct device *d, const char *pkg, enum device_pkg_state *st,
    struct muster_err *e)
{
	struct sim *s = d->be;
	struct sim_data *sd;
	struct sim_pkg *p;
	int rc;

	if ((rc = sim_get(s, &sd, e)) == 0 && (p = find_pkg(sd, pkg)) != NULL)
		*st = p->enabled ? PKG_ENABLED : PKG_DISABLED;
	return rc;
}

static int
sim_package_disable(struct device *d, const char *pkg, struct muster_err *e)
{
	struct sim *s = d->be;
	struct sim_data *sd;
	struct sim_pkg *p;
	int rc;

	if ((rc = sim_get(s, &sd, e)) < 0)
		return rc;
	if ((p = find_pkg(sd, pkg)) == NULL)
		return err_set(e, MUSTER_EUSAGE, "%s: package %s is not "
		    "installed; nothing to disable", d->name, pkg);
	if (!p->enabled)
		return 0;
	p->enabled = 0;
	return sim_commit(s, e);
}

static void
sim_close(void *be)
{
	struct sim *s = be;

	if (s == NULL)
		return;
	sim_data_free(&s->sd);
	free(s->path);
	free(s);
}

static const struct device_ops sim_ops = {
	sim_facts,
	sim_setting_get,
	sim_setting_put,
	sim_package,
	sim_package_disable,
	sim_close,
};

int
device_sim_open(struct device *d, const char *arg, struct muster_err *e)
{
	struct sim_data *sd;
	struct sim *s = NULL;
	int rc;

	if ((s = calloc(1, sizeof *s)) == NULL ||
	    (s->path = strdup(arg)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	/* Read it once now so that a missing or broken file fails early. */
	if ((rc = sim_get(s, &sd, e)) < 0)
		goto out;
	d->ops = &sim_ops;
	d->be = s;
	s = NULL;
	rc = 0;
out:
	sim_close(s);
	return rc;
}
