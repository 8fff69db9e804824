/*
 * rules: evaluation of a profile's rules against a device; see
 * agent/rules.h.
 *
 * Every reason is at most RULES_REASON_MAX - 1 bytes of printable ASCII.
 * Strings that come from the device (model, build, setting values, error
 * messages) are escaped and cut short before they go into a reason, and a
 * setting's value is shown only up to RULES_SHOW_VALUE bytes
 * (IDENT_VALUE_SHOW, which the server holds reports to), so that a
 * reason never carries more of a device's data than a person needs to
 * act on it; a setting on the identifier deny-list is never read.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "muster/ascii.h"
#include "muster/err.h"
#include "muster/esc.h"
#include "muster/ident.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "device/device.h"
#include "netscan.h"
#include "rules.h"

#define RULES_SHOW_NAME		64	/* bytes of a model, key, package */
#define RULES_SHOW_VALUE	IDENT_VALUE_SHOW /* bytes of a setting's value */
#define RULES_SHOW_MSG		160	/* bytes of an error message */
#define RULES_LIST_MAX		120	/* bytes of a list of packages */
/* Buffers for esc_str of each kind of text. */
#define RULES_NAME_SIZE		ESC_SIZE(RULES_SHOW_NAME)
#define RULES_VALUE_SIZE	ESC_SIZE(RULES_SHOW_VALUE)
#define RULES_MSG_SIZE		ESC_SIZE(RULES_SHOW_MSG)
/* "[v6]:65535" */
#define RULES_ADDR_SIZE		(INET6_ADDRSTRLEN + 8)
/* "a:b::/128" */
#define RULES_CIDR_SIZE		(INET6_ADDRSTRLEN + 4)

_Static_assert(RULES_REASON_MAX - 1 <= IDENT_DETAIL_MAX,
    "a reason must fit the detail the server accepts");

static void	set_out(struct rule_outcome *, enum rule_result, const char *,
		    ...) __attribute__((format(printf, 3, 4)));

/*
 * Sets out to result with a printf-formatted reason.  A reason that does
 * not fit ends in "..."; any unprintable byte left (from a format
 * argument that was not escaped) becomes '?'.
 */
static void
set_out(struct rule_outcome *out, enum rule_result result, const char *fmt,
    ...)
{
	va_list ap;
	size_t i;
	int n;

	out->result = result;
	va_start(ap, fmt);
	n = vsnprintf(out->reason, sizeof out->reason, fmt, ap);
	va_end(ap);
	if (n < 0)
		out->reason[0] = '\0';
	else if ((size_t)n >= sizeof out->reason)
		memcpy(out->reason + sizeof out->reason - 4, "...", 4);
	for (i = 0; out->reason[i] != '\0'; i++)
		if ((unsigned char)out->reason[i] < 0x20 ||
		    (unsigned char)out->reason[i] >= 0x7f)
			out->reason[i] = '?';
}

/* ASCII case-insensitive equality, whatever the locale. */
static int
ascii_caseeq(const char *a, const char *b)
{
	unsigned char ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

int
rules_version_cmp(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)(a ? a : "");
	const unsigned char *pb = (const unsigned char *)(b ? b : "");
	size_t la, lb;
	int c;

	while (*pa != '\0' && *pb != '\0') {
		if (ascii_digit(*pa) && ascii_digit(*pb)) {
			/*
			 * Numbers of any length: without leading zeros the
			 * longer run is the bigger number, and runs of equal
			 * length compare digit by digit.
			 */
			while (*pa == '0')
				pa++;
			while (*pb == '0')
				pb++;
			for (la = 0; ascii_digit(pa[la]); la++)
				;
			for (lb = 0; ascii_digit(pb[lb]); lb++)
				;
			if (la != lb)
				return la < lb ? -1 : 1;
			if ((c = memcmp(pa, pb, la)) != 0)
				return c < 0 ? -1 : 1;
			pa += la;
			pb += lb;
			continue;
		}
		if (*pa != *pb)
			return *pa < *pb ? -1 : 1;
		pa++;
		pb++;
	}
	if (*pa == *pb)
		return 0;
	return *pa == '\0' ? -1 : 1;
}

const char *
rules_result_name(enum rule_result r)
{
	switch (r) {
	case RESULT_PASS:
		return PROTO_RESULT_PASS;
	case RESULT_FAIL:
		return PROTO_RESULT_FAIL;
	case RESULT_REMEDIATED:
		return PROTO_RESULT_REMEDIATED;
	case RESULT_ERROR:
		return PROTO_RESULT_ERROR;
	}
	return "unknown";
}

/* A device's error message as a reason shows it; m holds RULES_MSG_SIZE. */
static const char *
show_err(const struct muster_err *e, char *m)
{
	if (e->msg[0] == '\0')
		return "no reason given";
	return esc_str(e->msg, RULES_SHOW_MSG, 0, m);
}

/*
 * Copies the facts into f, each terminated whatever the caller left in
 * them, and returns 0; or sets out to RESULT_ERROR with the facts' error
 * and returns -1.
 */
static int
need_facts(const struct rules_ctx *ctx, struct device_facts *f,
    struct rule_outcome *out)
{
	char m[RULES_MSG_SIZE];

	if (ctx->facts_ok) {
		*f = ctx->facts;
		f->manufacturer[sizeof f->manufacturer - 1] = '\0';
		f->model[sizeof f->model - 1] = '\0';
		f->build[sizeof f->build - 1] = '\0';
		f->os_version[sizeof f->os_version - 1] = '\0';
		return 0;
	}
	set_out(out, RESULT_ERROR, "device facts unreadable: %s",
	    ctx->facts_err[0] != '\0' ?
	    esc_str(ctx->facts_err, RULES_SHOW_MSG, 0, m) : "no reason given");
	return -1;
}

static void
eval_model_ban(const struct rule *r, struct rules_ctx *ctx,
    struct rule_outcome *out)
{
	struct device_facts facts, *f = &facts;
	char model[RULES_NAME_SIZE], build[RULES_NAME_SIZE];
	char need[RULES_NAME_SIZE];
	size_t i;
	int banned = 0;

	if (need_facts(ctx, f, out) == -1)
		return;
	if (r->manufacturer == NULL || (r->models == NULL && r->nmodels > 0)) {
		set_out(out, RESULT_ERROR, "rule lists no manufacturer");
		return;
	}
	esc_str(f->model, RULES_SHOW_NAME, ESC_QUOTED, model);
	if (ascii_caseeq(f->manufacturer, r->manufacturer))
		for (i = 0; i < r->nmodels && !banned; i++)
			banned = r->models[i] != NULL &&
			    ascii_caseeq(f->model, r->models[i]);
	if (!banned) {
		set_out(out, RESULT_PASS, "model %s is not banned", model);
		return;
	}
	if (r->min_build == NULL) {
		set_out(out, RESULT_FAIL, "model %s is banned", model);
		return;
	}
	esc_str(r->min_build, RULES_SHOW_NAME, 0, need);
	if (f->build[0] == '\0') {
		set_out(out, RESULT_FAIL, "model %s is banned; build unknown, "
		    "required %s or later", model, need);
		return;
	}
	esc_str(f->build, RULES_SHOW_NAME, 0, build);
	if (rules_version_cmp(f->build, r->min_build) >= 0)
		set_out(out, RESULT_PASS, "model %s allowed: build %s >= "
		    "required %s", model, build, need);
	else
		set_out(out, RESULT_FAIL, "model %s is banned; build %s < "
		    "required %s", model, build, need);
}

static void
eval_os_min(const struct rule *r, struct rules_ctx *ctx,
    struct rule_outcome *out)
{
	char have[RULES_NAME_SIZE], need[RULES_NAME_SIZE];
	struct device_facts f;

	if (need_facts(ctx, &f, out) == -1)
		return;
	if (r->min_version == NULL) {
		set_out(out, RESULT_ERROR, "rule has no minimum version");
		return;
	}
	if (f.os_version[0] == '\0') {
		set_out(out, RESULT_ERROR, "OS version unknown; cannot check "
		    "it against required %s",
		    esc_str(r->min_version, RULES_SHOW_NAME, 0, need));
		return;
	}
	esc_str(f.os_version, RULES_SHOW_NAME, 0, have);
	esc_str(r->min_version, RULES_SHOW_NAME, 0, need);
	if (rules_version_cmp(f.os_version, r->min_version) < 0)
		set_out(out, RESULT_FAIL, "Android %s < required %s", have,
		    need);
	else
		set_out(out, RESULT_PASS, "Android %s >= required %s", have,
		    need);
}

/* Whether a setting read as (val, isset) equals what r expects. */
static int
setting_ok(const struct rule *r, const char *val, int isset)
{
	if (!isset)
		return r->expect[0] == '\0';
	return strcmp(val, r->expect) == 0;
}

/* Writes the value as a reason shows it into buf: "\"1\"" or "not set". */
static const char *
show_value(const char *val, int isset, char buf[RULES_VALUE_SIZE])
{
	if (!isset) {
		snprintf(buf, RULES_VALUE_SIZE, "not set");
		return buf;
	}
	return esc_str(val, RULES_SHOW_VALUE, ESC_QUOTED, buf);
}

static void
eval_setting(const struct rule *r, struct rules_ctx *ctx,
    struct rule_outcome *out)
{
	char val[DEVICE_VALUE_MAX], now[DEVICE_VALUE_MAX];
	char name[RULES_NAME_SIZE * 2 + 1], ns[RULES_NAME_SIZE];
	char key[RULES_NAME_SIZE], want[RULES_VALUE_SIZE];
	char was[RULES_VALUE_SIZE], got[RULES_VALUE_SIZE];
	char m[RULES_MSG_SIZE];
	struct muster_err e = { 0, "" };
	int isset = 0, nowset = 0;

	if (r->namespace == NULL || r->key == NULL || r->expect == NULL) {
		set_out(out, RESULT_ERROR, "rule names no setting");
		return;
	}
	snprintf(name, sizeof name, "%s/%s",
	    esc_str(r->namespace, RULES_SHOW_NAME, 0, ns),
	    esc_str(r->key, RULES_SHOW_NAME, 0, key));
	esc_str(r->expect, RULES_SHOW_VALUE, ESC_QUOTED, want);
	/* Defence in depth: the loader refuses such a rule already. */
	if (ident_setting_denied(r->namespace, r->key)) {
		set_out(out, RESULT_ERROR, "%s names an identifier; not read",
		    name);
		return;
	}
	if (ctx->dev == NULL) {
		set_out(out, RESULT_ERROR, "%s: no device to read", name);
		return;
	}
	memset(val, 0, sizeof val);
	if (device_setting_get(ctx->dev, r->namespace, r->key, val, &isset,
	    &e) < 0) {
		set_out(out, RESULT_ERROR, "cannot read %s: %s", name,
		    show_err(&e, m));
		return;
	}
	val[sizeof val - 1] = '\0';
	if (setting_ok(r, val, isset)) {
		if (isset)
			set_out(out, RESULT_PASS, "%s is %s", name, want);
		else
			set_out(out, RESULT_PASS, "%s is not set", name);
		return;
	}
	show_value(val, isset, was);
	if (!ctx->remediate || r->action != ACTION_REMEDIATE) {
		set_out(out, RESULT_FAIL, "%s is %s, expected %s", name, was,
		    want);
		return;
	}
	if (device_setting_put(ctx->dev, r->namespace, r->key, r->expect,
	    &e) < 0) {
		set_out(out, RESULT_ERROR, "%s is %s, expected %s; setting it "
		    "failed: %s", name, was, want,
		    show_err(&e, m));
		return;
	}
	/* Only what the device reads back counts as remediated. */
	memset(now, 0, sizeof now);
	if (device_setting_get(ctx->dev, r->namespace, r->key, now, &nowset,
	    &e) < 0) {
		set_out(out, RESULT_ERROR, "%s set to %s but cannot be read "
		    "back: %s", name, want, show_err(&e, m));
		return;
	}
	now[sizeof now - 1] = '\0';
	if (!setting_ok(r, now, nowset)) {
		set_out(out, RESULT_ERROR, "%s set to %s but reads back %s",
		    name, want, show_value(now, nowset, got));
		return;
	}
	set_out(out, RESULT_REMEDIATED, "%s was %s, set to %s", name, was,
	    want);
}

/*
 * Reads the state of every package r bans: *nenabled counts the enabled
 * ones and list names the first of them ("a, b and 3 more"; list holds
 * RULES_LIST_MAX + 32 bytes).  Returns 0, or -1 with out set to
 * RESULT_ERROR.
 */
static int
scan_packages(const struct rule *r, struct rules_ctx *ctx, size_t *nenabled,
    char *list, size_t listsize, struct rule_outcome *out)
{
	char pkg[RULES_NAME_SIZE], m[RULES_MSG_SIZE];
	struct muster_err e = { 0, "" };
	enum device_pkg_state st;
	size_t i, used = 0, shown = 0, n;
	int full = 0;

	*nenabled = 0;
	list[0] = '\0';
	for (i = 0; i < r->npackages; i++) {
		if (r->packages[i] == NULL)
			continue;
		esc_str(r->packages[i], RULES_SHOW_NAME, 0, pkg);
		st = PKG_ABSENT;
		if (device_package(ctx->dev, r->packages[i], &st, &e) < 0) {
			set_out(out, RESULT_ERROR, "cannot read package %s: %s",
			    pkg, show_err(&e, m));
			return -1;
		}
		if (st != PKG_ENABLED)
			continue;
		(*nenabled)++;
		n = strlen(pkg) + (shown > 0 ? 2 : 0);
		if (full || used + n > RULES_LIST_MAX || used + n >= listsize) {
			full = 1;
			continue;
		}
		snprintf(list + used, listsize - used, "%s%s",
		    shown > 0 ? ", " : "", pkg);
		used += n;
		shown++;
	}
	if (*nenabled > shown)
		snprintf(list + used, listsize - used, " and %zu more",
		    *nenabled - shown);
	return 0;
}

static void
eval_package_ban(const struct rule *r, struct rules_ctx *ctx,
    struct rule_outcome *out)
{
	char list[RULES_LIST_MAX + 32], after[RULES_LIST_MAX + 32];
	char pkg[RULES_NAME_SIZE], m[RULES_MSG_SIZE], why[RULES_MSG_SIZE];
	struct muster_err e = { 0, "" };
	enum device_pkg_state st;
	size_t i, nenabled, nleft;
	int failed = 0;

	pkg[0] = '\0';
	if (r->packages == NULL && r->npackages > 0) {
		set_out(out, RESULT_ERROR, "rule lists no packages");
		return;
	}
	if (ctx->dev == NULL) {
		set_out(out, RESULT_ERROR, "no device to read packages from");
		return;
	}
	if (scan_packages(r, ctx, &nenabled, list, sizeof list, out) == -1)
		return;
	if (nenabled == 0) {
		set_out(out, RESULT_PASS, "none of the %zu banned package%s "
		    "is enabled", r->npackages, r->npackages == 1 ? "" : "s");
		return;
	}
	if (!ctx->remediate || r->action != ACTION_DISABLE) {
		set_out(out, RESULT_FAIL, "%zu banned package%s enabled: %s",
		    nenabled, nenabled == 1 ? "" : "s", list);
		return;
	}

	/* Disable every enabled one, even after a failure, then re-read. */
	why[0] = '\0';
	for (i = 0; i < r->npackages; i++) {
		if (r->packages[i] == NULL)
			continue;
		st = PKG_ABSENT;
		if (device_package(ctx->dev, r->packages[i], &st, &e) < 0 ||
		    st != PKG_ENABLED)
			continue;
		if (device_package_disable(ctx->dev, r->packages[i], &e) < 0 &&
		    !failed) {
			failed = 1;
			esc_str(r->packages[i], RULES_SHOW_NAME, 0, pkg);
			snprintf(why, sizeof why, "%s", show_err(&e, m));
		}
	}
	if (failed) {
		set_out(out, RESULT_ERROR, "disabling %s failed: %s", pkg, why);
		return;
	}
	if (scan_packages(r, ctx, &nleft, after, sizeof after, out) == -1)
		return;
	if (nleft > 0) {
		set_out(out, RESULT_ERROR, "%zu package%s still enabled after "
		    "disabling: %s", nleft, nleft == 1 ? "" : "s", after);
		return;
	}
	set_out(out, RESULT_REMEDIATED, "disabled %zu banned package%s: %s",
	    nenabled, nenabled == 1 ? "" : "s", list);
}

/* "a.b.c.d:port" or "[v6]:port". */
static void
format_addr(const struct netscan_conn *c, char buf[RULES_ADDR_SIZE])
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof a) == NULL)
		snprintf(a, sizeof a, "?");
	if (c->family == AF_INET6)
		snprintf(buf, RULES_ADDR_SIZE, "[%s]:%u", a, c->port);
	else
		snprintf(buf, RULES_ADDR_SIZE, "%s:%u", a, c->port);
}

static void
format_cidr(const struct cidr *c, char buf[RULES_CIDR_SIZE])
{
	char a[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, a, sizeof a) == NULL)
		snprintf(a, sizeof a, "?");
	snprintf(buf, RULES_CIDR_SIZE, "%s/%u", a, c->prefix);
}

static void
eval_egress_deny(const struct rule *r, struct rules_ctx *ctx,
    struct rule_outcome *out)
{
	const struct netscan *net = ctx->net;
	const struct netscan_conn *first = NULL;
	const struct cidr *range = NULL;
	char addr[RULES_ADDR_SIZE], cidr[RULES_CIDR_SIZE];
	char m[RULES_MSG_SIZE];
	size_t i, j, hits = 0;

	if (net == NULL) {
		set_out(out, RESULT_ERROR, "open connections unreadable: %s",
		    ctx->net_err[0] != '\0' ?
		    esc_str(ctx->net_err, RULES_SHOW_MSG, 0, m) : "not scanned");
		return;
	}
	if (r->cidrs == NULL && r->ncidrs > 0) {
		set_out(out, RESULT_ERROR, "rule lists no ranges");
		return;
	}
	for (i = 0; i < net->nconns && net->conns != NULL; i++) {
		for (j = 0; j < r->ncidrs; j++) {
			if (!netscan_match(&net->conns[i], &r->cidrs[j]))
				continue;
			if (hits++ == 0) {
				first = &net->conns[i];
				range = &r->cidrs[j];
			}
			break;
		}
	}
	if (hits == 0) {
		if (r->ncidrs == 1)
			set_out(out, RESULT_PASS, "no connection to the denied "
			    "range");
		else
			set_out(out, RESULT_PASS, "no connection to the %zu "
			    "denied ranges", r->ncidrs);
		return;
	}
	format_addr(first, addr);
	format_cidr(range, cidr);
	if (hits == 1)
		set_out(out, RESULT_FAIL, "connection to %s in denied range %s",
		    addr, cidr);
	else
		set_out(out, RESULT_FAIL, "connection to %s in denied range %s "
		    "(%zu connections to denied ranges)", addr, cidr, hits);
}

/* The evaluator of each rule kind, indexed by enum rule_kind. */
static void (*const rule_evals[])(const struct rule *, struct rules_ctx *,
    struct rule_outcome *) = {
	[RULE_MODEL_BAN] = eval_model_ban,
	[RULE_SETTING] = eval_setting,
	[RULE_PACKAGE_BAN] = eval_package_ban,
	[RULE_OS_MIN] = eval_os_min,
	[RULE_EGRESS_DENY] = eval_egress_deny,
};

void
rules_eval(const struct rule *r, struct rules_ctx *ctx,
    struct rule_outcome *out)
{
	size_t k;

	if (out == NULL)
		return;
	if (r == NULL || ctx == NULL) {
		set_out(out, RESULT_ERROR, "internal error: no rule or context");
		return;
	}
	k = (size_t)r->kind;
	if (k < sizeof rule_evals / sizeof rule_evals[0] &&
	    rule_evals[k] != NULL) {
		rule_evals[k](r, ctx, out);
		return;
	}
	set_out(out, RESULT_ERROR, "unknown rule kind %d; update the agent",
	    (int)r->kind);
}
