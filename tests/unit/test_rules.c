/*
 * Unit tests for agent/rules.c: version order, and every rule kind's
 * outcomes and reasons.  model-ban, os-min and egress-deny run on facts
 * and connection tables filled in by hand with no device at all; setting
 * and package-ban run against a simulated device (a temporary copy of
 * examples/devices/redmi-1s.cfg).  Run from the top of the tree.
 */
#include "unit.h"

#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "muster/err.h"
#include "muster/profile.h"
#include "../../agent/device/device.h"
#include "../../agent/netscan.h"
#include "../../agent/rules.h"

/* The reason is short, terminated and printable ASCII only. */
static void
reason_ok(const struct rule_outcome *o)
{
	size_t i, n = strnlen(o->reason, sizeof o->reason);

	assert_true(n > 0);
	assert_true(n < sizeof o->reason);
	for (i = 0; i < n; i++)
		if ((unsigned char)o->reason[i] < 0x20 ||
		    (unsigned char)o->reason[i] >= 0x7f)
			fail_msg("unprintable byte %zu in reason \"%s\"", i,
			    o->reason);
}

/* Evaluates r and checks the result and the exact reason (if want). */
static void
expect(const struct rule *r, struct rules_ctx *ctx, enum rule_result res,
    const char *want)
{
	struct rule_outcome o;

	memset(&o, 0x55, sizeof o);
	rules_eval(r, ctx, &o);
	reason_ok(&o);
	if (o.result != res)
		fail_msg("result %s, want %s: %s", rules_result_name(o.result),
		    rules_result_name(res), o.reason);
	if (want != NULL && strcmp(o.reason, want) != 0)
		fail_msg("reason \"%s\", want \"%s\"", o.reason, want);
}

/* Like expect(), with words somewhere in the reason. */
static void
expect_has(const struct rule *r, struct rules_ctx *ctx,
    enum rule_result res, const char *words)
{
	struct rule_outcome o;

	rules_eval(r, ctx, &o);
	reason_ok(&o);
	if (o.result != res)
		fail_msg("result %s, want %s: %s", rules_result_name(o.result),
		    rules_result_name(res), o.reason);
	if (strstr(o.reason, words) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", o.reason, words);
}

static void
facts(struct rules_ctx *ctx, const char *man, const char *model,
    const char *build, const char *os)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->facts_ok = 1;
	snprintf(ctx->facts.manufacturer, sizeof ctx->facts.manufacturer,
	    "%s", man);
	snprintf(ctx->facts.model, sizeof ctx->facts.model, "%s", model);
	snprintf(ctx->facts.build, sizeof ctx->facts.build, "%s", build);
	snprintf(ctx->facts.os_version, sizeof ctx->facts.os_version, "%s",
	    os);
}

static char *redmi_models[] = { "HM 1SW", "HM 1SC", "Redmi 1S" };

static struct rule
model_ban(char *min_build)
{
	struct rule r;

	memset(&r, 0, sizeof r);
	r.id = "redmi-1s-unfixed";
	r.kind = RULE_MODEL_BAN;
	r.manufacturer = "Xiaomi";
	r.models = redmi_models;
	r.nmodels = 3;
	r.min_build = min_build;
	return r;
}

static void
test_version_cmp(void **state)
{
	static const struct {
		const char	*a, *b;
		int		 want;
	} cases[] = {
		{ "", "", 0 },
		{ "4.4.4", "4.4.4", 0 },
		{ "4.10", "4.9", 1 },
		{ "4.9", "4.10", -1 },
		{ "4.4", "4.4.1", -1 },
		{ "4.4.1", "4.4", 1 },
		{ "4.4.2", "4.4.4", -1 },
		{ "5.0", "4.4.4", 1 },
		{ "10", "9", 1 },
		{ "KHHCNBF5.0", "KHHCNBH45.0", -1 },
		{ "KHHCNBH45.0", "KHHCNBF5.0", 1 },
		{ "KHHMIBF5.0", "KHHMIBH45.0", -1 },
		{ "KHHMIBH45.0", "KHHMIBH45.0", 0 },
		{ "KHHMIBH46.0", "KHHMIBH45.0", 1 },
		{ "KHHMIBH45.1", "KHHMIBH45.0", 1 },
		{ "KHHMIBH100.0", "KHHMIBH45.0", 1 },
		{ "JLB21.0", "KHHMIBH45.0", -1 },
		{ "4.04", "4.4", 0 },
		{ "4.004.5", "4.4.5", 0 },
		{ "007", "7", 0 },
		{ "0", "00", 0 },
		{ "1.0", "1.00", 0 },
		{ "a", "b", -1 },
		{ "a", "", 1 },
		{ "", "a", -1 },
		{ "1", "a", -1 },		/* '1' < 'a' bytewise */
		{ "1a", "1b", -1 },
		{ "4.4.4-rc1", "4.4.4", 1 },
		{ "4.4.4a", "4.4.4b", -1 },
		/* runs longer than any integer type */
		{ "99999999999999999999999999999", "1", 1 },
		{ "1.99999999999999999999999999998",
		  "1.99999999999999999999999999999", -1 },
		{ "1.0000000000000000000000000000002", "1.1", 1 },
		{ "2.\xc3\xa9", "2.e", 1 },	/* bytes compare unsigned */
	};
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = rules_version_cmp(cases[i].a, cases[i].b);
		if ((got > 0) - (got < 0) != cases[i].want)
			fail_msg("cmp(\"%s\", \"%s\") = %d, want %d",
			    cases[i].a, cases[i].b, got, cases[i].want);
		got = rules_version_cmp(cases[i].b, cases[i].a);
		if ((got > 0) - (got < 0) != -cases[i].want)
			fail_msg("cmp(\"%s\", \"%s\") = %d, want %d",
			    cases[i].b, cases[i].a, got, -cases[i].want);
	}
}

static void
test_result_name(void **state)
{
	(void)state;
	assert_string_equal(rules_result_name(RESULT_PASS), "pass");
	assert_string_equal(rules_result_name(RESULT_FAIL), "fail");
	assert_string_equal(rules_result_name(RESULT_REMEDIATED),
	    "remediated");
	assert_string_equal(rules_result_name(RESULT_ERROR), "error");
}

static void
test_model_ban(void **state)
{
	struct rule r = model_ban("KHHMIBH45.0");
	struct rules_ctx ctx;

	(void)state;
	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_FAIL, "model \"HM 1SW\" is banned; build "
	    "KHHMIBF5.0 < required KHHMIBH45.0");

	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBH45.0", "4.4.4");
	expect(&r, &ctx, RESULT_PASS, "model \"HM 1SW\" allowed: build "
	    "KHHMIBH45.0 >= required KHHMIBH45.0");
	facts(&ctx, "Xiaomi", "HM 1SC", "KHHMIBH100.0", "4.4.4");
	expect(&r, &ctx, RESULT_PASS, "model \"HM 1SC\" allowed: build "
	    "KHHMIBH100.0 >= required KHHMIBH45.0");

	/* Case-insensitive, exact otherwise: nothing trimmed. */
	facts(&ctx, "XIAOMI", "hm 1sw", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_FAIL, "model \"hm 1sw\" is banned; build "
	    "KHHMIBF5.0 < required KHHMIBH45.0");
	facts(&ctx, "xiaomi", "redmi 1s", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_FAIL, NULL);
	facts(&ctx, "Xiaomi", "HM 1SW ", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_PASS, "model \"HM 1SW \" is not banned");
	facts(&ctx, "Xiaomi ", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_PASS, NULL);
	facts(&ctx, "Xiaomi", "HM 1S", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_PASS, NULL);

	/* Another maker's model of the same name is not banned. */
	facts(&ctx, "Motorola", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_PASS, "model \"HM 1SW\" is not banned");
	facts(&ctx, "motorola", "XT1068", "LPB23.13-56", "5.0.2");
	expect(&r, &ctx, RESULT_PASS, "model \"XT1068\" is not banned");

	/* A banned model whose build it does not report. */
	facts(&ctx, "Xiaomi", "HM 1SW", "", "4.4.2");
	expect(&r, &ctx, RESULT_FAIL, "model \"HM 1SW\" is banned; build "
	    "unknown, required KHHMIBH45.0 or later");

	/* Without min_build no build exempts. */
	r = model_ban(NULL);
	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBH99.0", "4.4.4");
	expect(&r, &ctx, RESULT_FAIL, "model \"HM 1SW\" is banned");
	facts(&ctx, "Xiaomi", "XT1068", "", "");
	expect(&r, &ctx, RESULT_PASS, NULL);
}

static void
test_model_ban_no_facts(void **state)
{
	struct rule r = model_ban("KHHMIBH45.0");
	struct rules_ctx ctx;

	(void)state;
	memset(&ctx, 0, sizeof ctx);
	snprintf(ctx.facts_err, sizeof ctx.facts_err,
	    "getprop: timed out after 10 s");
	expect(&r, &ctx, RESULT_ERROR, "device facts unreadable: getprop: "
	    "timed out after 10 s");
	memset(&ctx, 0, sizeof ctx);
	expect_has(&r, &ctx, RESULT_ERROR, "device facts unreadable");
}

/* A device that reports hostile strings gets them escaped and cut. */
static void
test_model_ban_hostile(void **state)
{
	struct rule r = model_ban("KHHMIBH45.0");
	struct rule_outcome o;
	struct rules_ctx ctx;
	char lng[DEVICE_FACT_MAX];

	(void)state;
	facts(&ctx, "Xiaomi", "X\n\x1b[2J\"\\\xff", "", "");
	expect(&r, &ctx, RESULT_PASS,
	    "model \"X\\x0a\\x1b[2J\\\"\\\\\\xff\" is not banned");

	/* The longest facts there are: the reason stays within its size. */
	memset(lng, '\x01', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	memset(&ctx, 0, sizeof ctx);
	ctx.facts_ok = 1;
	snprintf(ctx.facts.manufacturer, sizeof ctx.facts.manufacturer,
	    "Xiaomi");
	memcpy(ctx.facts.model, lng, sizeof lng);
	memcpy(ctx.facts.build, lng, sizeof lng);
	rules_eval(&r, &ctx, &o);
	reason_ok(&o);
	assert_int_equal(o.result, RESULT_PASS);

	redmi_models[0] = ctx.facts.model;
	rules_eval(&r, &ctx, &o);
	redmi_models[0] = "HM 1SW";
	reason_ok(&o);
	assert_int_equal(o.result, RESULT_FAIL);
	assert_non_null(strstr(o.reason, "..."));

	/* A facts_err of nothing but control characters. */
	memset(&ctx, 0, sizeof ctx);
	memset(ctx.facts_err, '\n', sizeof ctx.facts_err - 1);
	rules_eval(&r, &ctx, &o);
	reason_ok(&o);
	assert_int_equal(o.result, RESULT_ERROR);
}

static void
test_os_min(void **state)
{
	struct rules_ctx ctx;
	struct rule r;

	(void)state;
	memset(&r, 0, sizeof r);
	r.id = "android-4-4-4";
	r.kind = RULE_OS_MIN;
	r.min_version = "4.4.4";

	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	expect(&r, &ctx, RESULT_FAIL, "Android 4.4.2 < required 4.4.4");
	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4");
	expect(&r, &ctx, RESULT_FAIL, "Android 4.4 < required 4.4.4");
	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.4");
	expect(&r, &ctx, RESULT_PASS, "Android 4.4.4 >= required 4.4.4");
	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.10");
	expect(&r, &ctx, RESULT_PASS, "Android 4.10 >= required 4.4.4");
	facts(&ctx, "Google", "Pixel", "", "14");
	expect(&r, &ctx, RESULT_PASS, NULL);
	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "");
	expect_has(&r, &ctx, RESULT_ERROR, "OS version unknown");

	memset(&ctx, 0, sizeof ctx);
	snprintf(ctx.facts_err, sizeof ctx.facts_err, "sim: bad file");
	expect(&r, &ctx, RESULT_ERROR, "device facts unreadable: sim: bad "
	    "file");
}

static void
conn(struct netscan_conn *c, int family, const char *addr, unsigned port,
    int st)
{
	memset(c, 0, sizeof *c);
	c->family = family;
	assert_int_equal(inet_pton(family, addr, c->addr), 1);
	c->port = port;
	c->state = st;
}

static struct cidr vendor_cidrs[3];

static struct rule
egress(void)
{
	struct rule r;

	assert_int_equal(profile_cidr_parse("203.0.113.0/24",
	    &vendor_cidrs[0]), 0);
	assert_int_equal(profile_cidr_parse("198.51.100.0/24",
	    &vendor_cidrs[1]), 0);
	assert_int_equal(profile_cidr_parse("2001:db8::/32",
	    &vendor_cidrs[2]), 0);
	memset(&r, 0, sizeof r);
	r.id = "no-vendor-cloud-egress";
	r.kind = RULE_EGRESS_DENY;
	r.cidrs = vendor_cidrs;
	r.ncidrs = 3;
	return r;
}

static void
test_egress(void **state)
{
	struct netscan_conn c[5];
	struct netscan ns = { c, 0 };
	struct rule r = egress();
	struct rules_ctx ctx;

	(void)state;
	memset(&ctx, 0, sizeof ctx);

	/* Not scanned: an error with the scanner's message. */
	snprintf(ctx.net_err, sizeof ctx.net_err, "/proc/net/tcp: No such "
	    "file or directory");
	expect(&r, &ctx, RESULT_ERROR, "open connections unreadable: "
	    "/proc/net/tcp: No such file or directory");

	ctx.net = &ns;
	expect(&r, &ctx, RESULT_PASS, "no connection to the 3 denied ranges");

	conn(&c[0], AF_INET, "10.0.0.1", 443, 1);
	conn(&c[1], AF_INET6, "2001:db9::1", 443, 1);
	conn(&c[2], AF_INET, "203.0.112.255", 443, 2);
	ns.nconns = 3;
	expect(&r, &ctx, RESULT_PASS, "no connection to the 3 denied ranges");

	conn(&c[3], AF_INET, "198.51.100.7", 80, 2);
	ns.nconns = 4;
	expect(&r, &ctx, RESULT_FAIL, "connection to 198.51.100.7:80 in "
	    "denied range 198.51.100.0/24");

	conn(&c[4], AF_INET6, "2001:db8::1", 443, 1);
	ns.nconns = 5;
	expect(&r, &ctx, RESULT_FAIL, "connection to 198.51.100.7:80 in "
	    "denied range 198.51.100.0/24 (2 connections to denied ranges)");

	conn(&c[3], AF_INET6, "::ffff:203.0.113.5", 443, 1);
	expect(&r, &ctx, RESULT_FAIL, "connection to [::ffff:203.0.113.5]:"
	    "443 in denied range 203.0.113.0/24 (2 connections to denied "
	    "ranges)");

	ns.nconns = 3;
	r.ncidrs = 1;
	expect(&r, &ctx, RESULT_PASS, "no connection to the denied range");
}

/* The sample tables of tests/data/proc against the example ranges. */
static void
test_egress_samples(void **state)
{
	struct muster_err e = { 0, "" };
	struct rule r = egress();
	struct rules_ctx ctx;
	struct netscan ns;
	uint32_t one = 1;

	(void)state;
	if (*(unsigned char *)&one != 1)
		skip();		/* the samples are little-endian */
	memset(&ctx, 0, sizeof ctx);
	assert_int_equal(netscan_load("tests/data/proc", &ns, &e), 0);
	ctx.net = &ns;
	expect(&r, &ctx, RESULT_FAIL, "connection to 203.0.113.5:443 in "
	    "denied range 203.0.113.0/24 (4 connections to denied ranges)");
	netscan_free(&ns);
}

/* A simulated device in a temporary directory. */
struct sim {
	char		 dir[64];
	char		 path[128];
	char		 spec[160];
	struct device	*dev;
};

#define SIM_TEXT \
	"# A hand-written sim device for test_rules.\n" \
	"manufacturer = \"Xiaomi\";\n" \
	"model = \"HM 1SW\";\n" \
	"build = \"KHHMIBF5.0\";\n" \
	"os_version = \"4.4.2\";\n" \
	"\n" \
	"settings = {\n" \
	"\tsystem = { };\n" \
	"\tsecure = {\n" \
	"\t\tmi_cloud_sync_enabled = \"1\";\n" \
	"\t\tempty_one = \"\";\n" \
	"\t\tutf8_one = \"caf\xc3\xa9\";\n" \
	"\t};\n" \
	"\tglobal = { };\n" \
	"};\n" \
	"\n" \
	"packages = (\n" \
	"\t{ name = \"com.miui.cloudservice\"; enabled = true; },\n" \
	"\t{ name = \"com.xiaomi.xmsf\"; enabled = false; },\n" \
	"\t{ name = \"com.android.chrome\"; enabled = true; }\n" \
	");\n"

/* Opens a sim device on a fresh copy of text. */
static void
sim_open(struct sim *s, const char *text)
{
	struct muster_err e = { 0, "" };
	FILE *f;

	memset(s, 0, sizeof *s);
	assert_true(sizeof s->dir >= UNIT_TMPDIR_MAX);
	assert_int_equal(unit_tmpdir(s->dir, "rules"), 0);
	snprintf(s->path, sizeof s->path, "%s/device.cfg", s->dir);
	snprintf(s->spec, sizeof s->spec, "sim:%s", s->path);
	assert_non_null(f = fopen(s->path, "wb"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	if (device_open(s->spec, &s->dev, &e) != 0)
		fail_msg("device_open %s: %s", s->spec, e.msg);
}

/* Opens a sim device on a fresh copy of examples/devices/name. */
static void
sim_open_example(struct sim *s, const char *name)
{
	char path[256], *text;

	snprintf(path, sizeof path, "examples/devices/%s", name);
	text = unit_slurp(path, NULL);
	sim_open(s, text);
	free(text);
}

static void
sim_close(struct sim *s)
{
	device_close(s->dev);
	s->dev = NULL;
	unlink(s->path);
	assert_int_equal(rmdir(s->dir), 0);
}

/* The device file now. */
static char *
sim_text(const struct sim *s)
{
	return unit_slurp(s->path, NULL);
}

static void
sim_ctx(struct rules_ctx *ctx, const struct sim *s, int remediate)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->dev = s->dev;
	ctx->remediate = remediate;
}

static struct rule
setting(char *key, char *want, enum rule_action act)
{
	struct rule r;

	memset(&r, 0, sizeof r);
	r.id = "a-setting";
	r.kind = RULE_SETTING;
	r.namespace = "secure";
	r.key = key;
	r.expect = want;
	r.action = act;
	return r;
}

static void
test_setting(void **state)
{
	struct rule r = setting("mi_cloud_sync_enabled", "0",
	    ACTION_REMEDIATE);
	struct rules_ctx ctx;
	char *before, *after;
	struct sim s;

	(void)state;
	sim_open(&s, SIM_TEXT);
	before = sim_text(&s);

	/* Without remediate, or with action report: fail, file unchanged. */
	sim_ctx(&ctx, &s, 0);
	expect(&r, &ctx, RESULT_FAIL, "secure/mi_cloud_sync_enabled is \"1\", "
	    "expected \"0\"");
	r.action = ACTION_REPORT;
	sim_ctx(&ctx, &s, 1);
	expect(&r, &ctx, RESULT_FAIL, NULL);
	after = sim_text(&s);
	assert_string_equal(before, after);
	free(after);

	/* With both: set, read back, and the file says so. */
	r.action = ACTION_REMEDIATE;
	expect(&r, &ctx, RESULT_REMEDIATED, "secure/mi_cloud_sync_enabled was "
	    "\"1\", set to \"0\"");
	after = sim_text(&s);
	assert_non_null(strstr(after, "mi_cloud_sync_enabled = \"0\";"));
	assert_null(strstr(after, "mi_cloud_sync_enabled = \"1\";"));
	free(after);
	expect(&r, &ctx, RESULT_PASS, "secure/mi_cloud_sync_enabled is "
	    "\"0\"");
	sim_ctx(&ctx, &s, 0);
	expect(&r, &ctx, RESULT_PASS, NULL);

	free(before);
	sim_close(&s);
}

static void
test_setting_unset_and_empty(void **state)
{
	struct rule r = setting("not_there", "0", ACTION_REMEDIATE);
	struct rules_ctx ctx;
	char *after;
	struct sim s;

	(void)state;
	sim_open(&s, SIM_TEXT);
	sim_ctx(&ctx, &s, 0);
	expect(&r, &ctx, RESULT_FAIL, "secure/not_there is not set, expected "
	    "\"0\"");

	/* Empty expected: unset or empty passes, anything else fails. */
	r = setting("not_there", "", ACTION_REMEDIATE);
	expect(&r, &ctx, RESULT_PASS, "secure/not_there is not set");
	r = setting("empty_one", "", ACTION_REMEDIATE);
	expect(&r, &ctx, RESULT_PASS, "secure/empty_one is \"\"");
	r = setting("mi_cloud_sync_enabled", "", ACTION_REPORT);
	expect(&r, &ctx, RESULT_FAIL, "secure/mi_cloud_sync_enabled is \"1\", "
	    "expected \"\"");
	r = setting("empty_one", "0", ACTION_REPORT);
	expect(&r, &ctx, RESULT_FAIL, "secure/empty_one is \"\", expected "
	    "\"0\"");

	/* Setting a key that was not set adds it. */
	r = setting("not_there", "0", ACTION_REMEDIATE);
	sim_ctx(&ctx, &s, 1);
	expect(&r, &ctx, RESULT_REMEDIATED, "secure/not_there was not set, "
	    "set to \"0\"");
	after = sim_text(&s);
	assert_non_null(strstr(after, "not_there = \"0\";"));
	free(after);
	expect(&r, &ctx, RESULT_PASS, "secure/not_there is \"0\"");
	sim_close(&s);
}

static void
test_setting_errors(void **state)
{
	struct rule r = setting("mi_cloud_sync_enabled", "0",
	    ACTION_REMEDIATE);
	struct rules_ctx ctx;
	char *before, *after;
	struct sim s;

	(void)state;
	sim_open(&s, SIM_TEXT);
	before = sim_text(&s);
	sim_ctx(&ctx, &s, 1);

	/* The device refuses what it is asked. */
	r.namespace = "bogus";
	expect_has(&r, &ctx, RESULT_ERROR, "cannot read bogus/"
	    "mi_cloud_sync_enabled: ");
	r = setting("bad key!", "0", ACTION_REMEDIATE);
	expect_has(&r, &ctx, RESULT_ERROR, "cannot read secure/bad key!: ");

	/* A value the device cannot store: set fails, nothing changes. */
	r = setting("mi_cloud_sync_enabled", "\x01", ACTION_REMEDIATE);
	expect_has(&r, &ctx, RESULT_ERROR, "secure/mi_cloud_sync_enabled is "
	    "\"1\", expected \"\\x01\"; setting it failed: ");
	r = setting("1abc", "0", ACTION_REMEDIATE);
	expect_has(&r, &ctx, RESULT_ERROR, "secure/1abc is not set, expected "
	    "\"0\"; setting it failed: ");
	after = sim_text(&s);
	assert_string_equal(before, after);
	free(after);

	/* Values shown escaped. */
	r = setting("utf8_one", "cafe", ACTION_REPORT);
	expect(&r, &ctx, RESULT_FAIL, "secure/utf8_one is \"caf\\xc3\\xa9\", "
	    "expected \"cafe\"");

	/* The device file gone: an error, not a pass. */
	assert_int_equal(unlink(s.path), 0);
	r = setting("mi_cloud_sync_enabled", "0", ACTION_REMEDIATE);
	expect_has(&r, &ctx, RESULT_ERROR, "cannot read secure/"
	    "mi_cloud_sync_enabled: ");
	free(before);
	sim_close(&s);
}

/* A long value is cut short in the reason. */
static void
test_setting_long_value(void **state)
{
	char text[sizeof SIM_TEXT + DEVICE_VALUE_MAX + 64];
	char val[DEVICE_VALUE_MAX];
	struct rule r = setting("long_one", "0", ACTION_REPORT);
	struct rule_outcome o;
	struct rules_ctx ctx;
	struct sim s;

	(void)state;
	memset(val, 'v', sizeof val - 1);
	val[sizeof val - 1] = '\0';
	snprintf(text, sizeof text, "%s", SIM_TEXT);
	memcpy(strstr(text, "empty_one"), "long_one ", 9);
	snprintf(strstr(text, "\"\";"), sizeof text - (size_t)(strstr(text,
	    "\"\";") - text), "\"%s\";%s", val, strstr(SIM_TEXT, "\"\";") + 3);
	sim_open(&s, text);
	sim_ctx(&ctx, &s, 0);
	rules_eval(&r, &ctx, &o);
	reason_ok(&o);
	assert_int_equal(o.result, RESULT_FAIL);
	assert_non_null(strstr(o.reason, "vvv\"..., expected \"0\""));
	assert_true(strlen(o.reason) < 100);
	sim_close(&s);
}

static char *cloud_pkgs[] = { "com.miui.cloudservice", "com.xiaomi.xmsf" };

static struct rule
package_ban(char **pkgs, size_t n, enum rule_action act)
{
	struct rule r;

	memset(&r, 0, sizeof r);
	r.id = "vendor-cloud-packages";
	r.kind = RULE_PACKAGE_BAN;
	r.packages = pkgs;
	r.npackages = n;
	r.action = act;
	return r;
}

static void
test_package_ban(void **state)
{
	struct rule r = package_ban(cloud_pkgs, 2, ACTION_DISABLE);
	static char *absent[] = { "com.not.installed", "com.xiaomi.xmsf" };
	struct rules_ctx ctx;
	char *before, *after;
	struct sim s;

	(void)state;
	sim_open(&s, SIM_TEXT);
	before = sim_text(&s);

	sim_ctx(&ctx, &s, 0);
	expect(&r, &ctx, RESULT_FAIL, "1 banned package enabled: "
	    "com.miui.cloudservice");
	r.action = ACTION_REPORT;
	sim_ctx(&ctx, &s, 1);
	expect(&r, &ctx, RESULT_FAIL, NULL);
	after = sim_text(&s);
	assert_string_equal(before, after);
	free(after);

	/* Absent and disabled pass. */
	r = package_ban(absent, 2, ACTION_DISABLE);
	expect(&r, &ctx, RESULT_PASS, "none of the 2 banned packages is "
	    "enabled");
	r = package_ban(absent, 1, ACTION_DISABLE);
	expect(&r, &ctx, RESULT_PASS, "none of the 1 banned package is "
	    "enabled");

	r = package_ban(cloud_pkgs, 2, ACTION_DISABLE);
	expect(&r, &ctx, RESULT_REMEDIATED, "disabled 1 banned package: "
	    "com.miui.cloudservice");
	after = sim_text(&s);
	assert_non_null(strstr(after, "name = \"com.miui.cloudservice\"; "
	    "enabled = false;"));
	assert_non_null(strstr(after, "name = \"com.android.chrome\"; "
	    "enabled = true;"));
	free(after);
	expect(&r, &ctx, RESULT_PASS, "none of the 2 banned packages is "
	    "enabled");
	free(before);
	sim_close(&s);
}

static void
test_package_ban_many(void **state)
{
	char text[sizeof SIM_TEXT + 40 * 80], *p;
	char names[40][64], *pkgs[41];
	struct rule r;
	struct rules_ctx ctx;
	struct sim s;
	size_t i, o;

	(void)state;
	o = (size_t)snprintf(text, sizeof text, "%.*s", (int)(strstr(SIM_TEXT,
	    "packages = (") - SIM_TEXT), SIM_TEXT);
	o += (size_t)snprintf(text + o, sizeof text - o, "packages = (\n");
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof names[i],
		    "com.example.vendor.cloud.component%02zu", i);
		pkgs[i] = names[i];
		o += (size_t)snprintf(text + o, sizeof text - o, "%s\t{ name = "
		    "\"%s\"; enabled = true; }", i > 0 ? ",\n" : "", names[i]);
	}
	snprintf(text + o, sizeof text - o, "\n);\n");
	pkgs[40] = "com.not.installed";
	sim_open(&s, text);
	sim_ctx(&ctx, &s, 0);
	r = package_ban(pkgs, 41, ACTION_DISABLE);
	expect_has(&r, &ctx, RESULT_FAIL, "40 banned packages enabled: "
	    "com.example.vendor.cloud.component00, "
	    "com.example.vendor.cloud.component01");
	expect_has(&r, &ctx, RESULT_FAIL, " more");

	sim_ctx(&ctx, &s, 1);
	expect_has(&r, &ctx, RESULT_REMEDIATED, "disabled 40 banned "
	    "packages: ");
	p = sim_text(&s);
	assert_null(strstr(p, "enabled = true"));
	free(p);
	expect(&r, &ctx, RESULT_PASS, "none of the 41 banned packages is "
	    "enabled");
	sim_close(&s);
}

static void
test_package_ban_errors(void **state)
{
	static char *bad[] = { "com.xiaomi.xmsf", "bad name!" };
	struct rule r = package_ban(bad, 2, ACTION_DISABLE);
	struct rules_ctx ctx;
	struct sim s;

	(void)state;
	sim_open(&s, SIM_TEXT);
	sim_ctx(&ctx, &s, 1);
	expect_has(&r, &ctx, RESULT_ERROR, "cannot read package bad name!: ");
	assert_int_equal(unlink(s.path), 0);
	r = package_ban(cloud_pkgs, 2, ACTION_DISABLE);
	expect_has(&r, &ctx, RESULT_ERROR, "cannot read package "
	    "com.miui.cloudservice: ");
	sim_close(&s);
}

/*
 * Evaluates every rule of profiles/iaf-personnel.cfg against the sim
 * device s (facts read from it, no connection open) and checks the
 * results, one letter per rule: p pass, f fail, r remediated, e error.
 */
static void
eval_profile(const struct profile *p, struct sim *s, int remediate,
    const char *want)
{
	static const char letter[] = { 'p', 'f', 'r', 'e' };
	struct muster_err e = { 0, "" };
	struct netscan ns = { NULL, 0 };
	struct rule_outcome o;
	struct rules_ctx ctx;
	size_t i;

	assert_int_equal(strlen(want), p->nrules);
	sim_ctx(&ctx, s, remediate);
	if (device_facts(s->dev, &ctx.facts, &e) != 0)
		fail_msg("device_facts: %s", e.msg);
	ctx.facts_ok = 1;
	ctx.net = &ns;
	for (i = 0; i < p->nrules; i++) {
		rules_eval(&p->rules[i], &ctx, &o);
		reason_ok(&o);
		if (letter[o.result] != want[i])
			fail_msg("%s: rule %s: %s (%s), want %c", s->spec,
			    p->rules[i].id, rules_result_name(o.result),
			    o.reason, want[i]);
	}
}

static struct profile *
example_profile(void)
{
	struct muster_err e = { 0, "" };
	struct profile *p = NULL;
	size_t len;
	char *buf;

	buf = unit_slurp("profiles/iaf-personnel.cfg", &len);
	if (profile_parse("iaf-personnel.cfg", buf, len, &p, &e) != 0)
		fail_msg("%s", e.msg);
	free(buf);
	/* The order eval_profile's letters follow. */
	assert_int_equal(p->nrules, 7);
	assert_string_equal(p->rules[0].id, "redmi-1s-unfixed");
	assert_string_equal(p->rules[1].id, "mi-cloud-sync-off");
	assert_string_equal(p->rules[4].id, "vendor-cloud-packages");
	assert_string_equal(p->rules[5].id, "no-vendor-cloud-egress");
	assert_string_equal(p->rules[6].id, "android-4-4-4");
	return p;
}

/* The example devices against the example profile, as their comments say. */
static void
test_examples(void **state)
{
	struct profile *p = example_profile();
	char *before, *after;
	struct sim s;

	(void)state;

	/* Only the two settings fail; remediation fixes them. */
	sim_open_example(&s, "cloud-sync-on.cfg");
	before = sim_text(&s);
	eval_profile(p, &s, 0, "pffpppp");
	after = sim_text(&s);
	assert_string_equal(before, after);
	free(after);
	eval_profile(p, &s, 1, "prrpppp");
	after = sim_text(&s);
	assert_non_null(strstr(after, "mi_cloud_sync_enabled = \"0\";"));
	assert_non_null(strstr(after, "mi_cloud_messaging_enabled = \"0\";"));
	assert_non_null(strstr(after, "auto_time = \"1\";"));
	free(after);
	eval_profile(p, &s, 0, "ppppppp");
	free(before);
	sim_close(&s);

	/* Everything fails; the model and OS cannot be remediated. */
	sim_open_example(&s, "redmi-1s.cfg");
	before = sim_text(&s);
	eval_profile(p, &s, 0, "fffffpf");
	after = sim_text(&s);
	assert_string_equal(before, after);
	free(after);
	eval_profile(p, &s, 1, "frrrrpf");
	after = sim_text(&s);
	assert_non_null(strstr(after, "mi_cloud_sync_enabled = \"0\";"));
	assert_non_null(strstr(after, "mi_cloud_messaging_enabled = \"0\";"));
	assert_non_null(strstr(after, "mi_cloud_backup_enabled = \"0\";"));
	assert_true(strncmp(after, "# A Xiaomi Redmi 1S", 19) == 0);
	assert_non_null(strstr(after, "name = \"com.miui.cloudservice\"; "
	    "enabled = false;"));
	assert_non_null(strstr(after, "name = \"com.xiaomi.xmsf\"; "
	    "enabled = false;"));
	assert_non_null(strstr(after, "name = \"com.miui.home\"; "
	    "enabled = true;"));
	free(after);
	eval_profile(p, &s, 1, "fpppppf");
	eval_profile(p, &s, 0, "fpppppf");
	free(before);
	sim_close(&s);

	sim_open_example(&s, "redmi-1s-fixed.cfg");
	eval_profile(p, &s, 1, "ppppppp");
	sim_close(&s);
	sim_open_example(&s, "clean.cfg");
	eval_profile(p, &s, 1, "ppppppp");
	sim_close(&s);
	profile_free(p);
}

/* Kinds that need no device never touch ctx->dev. */
static void
test_no_device(void **state)
{
	struct rule mb = model_ban("KHHMIBH45.0"), eg = egress(), os, bad;
	struct netscan ns = { NULL, 0 };
	struct rules_ctx ctx;
	struct rule_outcome o;

	(void)state;
	facts(&ctx, "Xiaomi", "HM 1SW", "KHHMIBF5.0", "4.4.2");
	/* A pointer that faults if anything follows it. */
	ctx.dev = (struct device *)(uintptr_t)0x10;
	ctx.net = &ns;
	memset(&os, 0, sizeof os);
	os.kind = RULE_OS_MIN;
	os.min_version = "4.4.4";
	expect(&mb, &ctx, RESULT_FAIL, NULL);
	expect(&os, &ctx, RESULT_FAIL, NULL);
	expect(&eg, &ctx, RESULT_PASS, NULL);

	/* setting and package-ban without a device are errors. */
	ctx.dev = NULL;
	memset(&bad, 0, sizeof bad);
	bad.kind = RULE_SETTING;
	bad.namespace = "secure";
	bad.key = "mi_cloud_sync_enabled";
	bad.expect = "0";
	expect_has(&bad, &ctx, RESULT_ERROR, "secure/mi_cloud_sync_enabled");
	memset(&bad, 0, sizeof bad);
	bad.kind = RULE_PACKAGE_BAN;
	bad.packages = redmi_models;
	bad.npackages = 1;
	expect_has(&bad, &ctx, RESULT_ERROR, "no device");

	/* An unknown kind, and missing arguments. */
	bad.kind = (enum rule_kind)99;
	expect_has(&bad, &ctx, RESULT_ERROR, "unknown rule kind 99");
	rules_eval(NULL, &ctx, &o);
	assert_int_equal(o.result, RESULT_ERROR);
	reason_ok(&o);
	rules_eval(&bad, NULL, &o);
	assert_int_equal(o.result, RESULT_ERROR);
	rules_eval(&bad, &ctx, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_cmp),
		cmocka_unit_test(test_result_name),
		cmocka_unit_test(test_model_ban),
		cmocka_unit_test(test_model_ban_no_facts),
		cmocka_unit_test(test_model_ban_hostile),
		cmocka_unit_test(test_os_min),
		cmocka_unit_test(test_egress),
		cmocka_unit_test(test_egress_samples),
		cmocka_unit_test(test_no_device),
		cmocka_unit_test(test_setting),
		cmocka_unit_test(test_setting_unset_and_empty),
		cmocka_unit_test(test_setting_errors),
		cmocka_unit_test(test_setting_long_value),
		cmocka_unit_test(test_package_ban),
		cmocka_unit_test(test_package_ban_many),
		cmocka_unit_test(test_package_ban_errors),
		cmocka_unit_test(test_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
