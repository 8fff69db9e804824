/*
 * Unit tests for lib/profile.c: the example profiles load, and every kind
 * of bad input is refused with the right code, line and words.
 * Run from the top of the tree (or set MUSTER_PROFILES to the directory
 * holding the example profiles).
 */
#include "unit.h"

#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "muster/err.h"
#include "muster/profile.h"

#define NAME	"t.cfg"

/* Reads profiles/FILE (or $MUSTER_PROFILES/FILE); the caller frees. */
static char *
read_example(const char *file, size_t *len)
{
	const char *dir = getenv("MUSTER_PROFILES");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof path, "%s/%s", dir != NULL ? dir : "profiles",
	    file);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct profile *
parse_ok(const char *text)
{
	struct muster_err e = { 0, "" };
	struct profile *p = NULL;
	int rc;

	rc = profile_parse(NAME, text, strlen(text), &p, &e);
	if (rc != 0)
		fail_msg("unexpected failure %d: %s", rc, e.msg);
	assert_non_null(p);
	return p;
}

/* Asserts that text fails with MUSTER_EDATA at line, naming w1 and w2. */
static void
parse_fails(const char *text, size_t len, int line, const char *w1,
    const char *w2)
{
	struct muster_err e = { 0, "" };
	struct profile *p = (struct profile *)&e;	/* must become NULL */
	char prefix[64];
	int rc;

	rc = profile_parse(NAME, text, len, &p, &e);
	assert_int_equal(rc, MUSTER_EDATA);
	assert_int_equal(e.code, MUSTER_EDATA);
	assert_null(p);
	if (line > 0) {
		snprintf(prefix, sizeof prefix, NAME ":%d: ", line);
		if (strncmp(e.msg, prefix, strlen(prefix)) != 0)
			fail_msg("want \"%s...\", got \"%s\"", prefix, e.msg);
	}
	if (w1 != NULL && strstr(e.msg, w1) == NULL)
		fail_msg("want \"%s\" in \"%s\"", w1, e.msg);
	if (w2 != NULL && strstr(e.msg, w2) == NULL)
		fail_msg("want \"%s\" in \"%s\"", w2, e.msg);
}

/*
 * Profile text builders.  HEAD is lines 1-4; R_BEGIN opens the rules list
 * on line 5 and a rule group on line 6 with id, kind, severity and title on
 * lines 7-10, so the next field of the rule is on line 11.
 */
#define L_ID		"id = \"t\";\n"
#define L_SERIAL	"serial = 1;\n"
#define L_EXPIRES	"expires = \"2030-01-01T00:00:00Z\";\n"
#define L_SCOPE		"scope = \"personnel\";\n"
#define HEAD		L_ID L_SERIAL L_EXPIRES L_SCOPE
#define OS_RULE		"{ id = \"os\"; kind = \"os-min\"; severity = \"low\"; " \
			"title = \"T\"; min_version = \"4.4\"; }\n"
#define RULES		"rules = (\n" OS_RULE ");\n"
#define R_BEGIN(id, kind) HEAD "rules = (\n{\n" \
			"id = \"" id "\";\n" \
			"kind = \"" kind "\";\n" \
			"severity = \"high\";\n" \
			"title = \"T\";\n"
#define R_END		"}\n);\n"
#define SETTING(id)	R_BEGIN(id, "setting") \
			"namespace = \"secure\";\n" \
			"key = \"k\";\n" \
			"expect = \"0\";\n"		/* lines 11-13 */
#define EGRESS(cidr)	R_BEGIN("e", "egress-deny") \
			"cidrs = [ \"" cidr "\" ];\n" R_END	/* line 11 */

struct fcase {
	const char	*text;
	int		 line;
	const char	*w1;
	const char	*w2;
};

static void
run_fcase(void **state)
{
	const struct fcase *fc = *state;

	parse_fails(fc->text, strlen(fc->text), fc->line, fc->w1, fc->w2);
}

#define FAIL(nm, text, line, w1, w2) \
	static struct fcase nm = { text, line, w1, w2 };
#define FCASE(nm) { .name = #nm, .test_func = run_fcase, \
	.initial_state = &nm }

/* Top level. */
FAIL(top_unknown_field, HEAD "colour = \"red\";\n" RULES, 5,
    "unknown field \"colour\"", NULL)
FAIL(top_missing_id, L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "missing required field \"id\"", NULL)
FAIL(top_missing_serial, L_ID L_EXPIRES L_SCOPE RULES, 1,
    "missing required field \"serial\"", NULL)
FAIL(top_missing_expires, L_ID L_SERIAL L_SCOPE RULES, 1,
    "missing required field \"expires\"", NULL)
FAIL(top_missing_scope, L_ID L_SERIAL L_EXPIRES RULES, 1,
    "missing required field \"scope\"", NULL)
FAIL(top_missing_rules, HEAD, 1, "missing required field \"rules\"", NULL)
FAIL(top_duplicate_field, HEAD "serial = 2;\n" RULES, 5, "duplicate", NULL)
FAIL(top_syntax_error, L_ID "serial = ;\n" L_EXPIRES L_SCOPE RULES, 2,
    "syntax error", NULL)
FAIL(id_uppercase, "id = \"IAF\";\n" L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "field \"id\"", "is not an id")
FAIL(id_leading_dash, "id = \"-x\";\n" L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "\"-x\"", "is not an id")
FAIL(id_empty, "id = \"\";\n" L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "field \"id\"", "must not be empty")
FAIL(id_slash, "id = \"../x\";\n" L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "is not an id", NULL)
FAIL(id_65_chars, "id = \"" "0123456789012345678901234567890123456789"
    "0123456789012345678901234" "\";\n" L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "is not an id", NULL)
FAIL(id_not_string, "id = 7;\n" L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "field \"id\" must be a string", NULL)
FAIL(serial_string, L_ID "serial = \"1\";\n" L_EXPIRES L_SCOPE RULES, 2,
    "field \"serial\" must be an integer", NULL)
FAIL(serial_float, L_ID "serial = 1.0;\n" L_EXPIRES L_SCOPE RULES, 2,
    "field \"serial\" must be an integer", NULL)
FAIL(serial_bool, L_ID "serial = true;\n" L_EXPIRES L_SCOPE RULES, 2,
    "must be an integer", NULL)
FAIL(serial_zero, L_ID "serial = 0;\n" L_EXPIRES L_SCOPE RULES, 2,
    "serial 0 is less than 1", NULL)
FAIL(serial_negative, L_ID "serial = -5L;\n" L_EXPIRES L_SCOPE RULES, 2,
    "serial -5 is less than 1", NULL)
/* libconfig 1.5 would read these as 1 and -2147483648. */
FAIL(serial_int_overflow, L_ID "serial = 4294967297;\n" L_EXPIRES L_SCOPE
    RULES, 2, "integer \"4294967297\" out of range", "L suffix")
FAIL(serial_hex_overflow, L_ID "serial = 0x80000000;\n" L_EXPIRES L_SCOPE
    RULES, 2, "out of range", NULL)
FAIL(serial_int64_overflow, L_ID "serial = 99999999999999999999L;\n"
    L_EXPIRES L_SCOPE RULES, 2, "out of range", NULL)
FAIL(expires_feb_30, L_ID L_SERIAL "expires = \"2030-02-30T00:00:00Z\";\n"
    L_SCOPE RULES, 3, "bad expires \"2030-02-30T00:00:00Z\"", NULL)
FAIL(expires_hour_24, L_ID L_SERIAL "expires = \"2030-01-01T24:00:00Z\";\n"
    L_SCOPE RULES, 3, "bad expires", NULL)
FAIL(expires_trailing, L_ID L_SERIAL
    "expires = \"2030-01-01T00:00:00Zjunk\";\n" L_SCOPE RULES, 3,
    "bad expires", NULL)
FAIL(expires_offset, L_ID L_SERIAL
    "expires = \"2030-01-01T00:00:00+05:30\";\n" L_SCOPE RULES, 3,
    "bad expires", NULL)
FAIL(expires_integer, L_ID L_SERIAL "expires = 1893456000;\n" L_SCOPE
    RULES, 3, "field \"expires\" must be a string", NULL)
FAIL(scope_unknown, L_ID L_SERIAL L_EXPIRES "scope = \"friends\";\n" RULES,
    4, "unknown scope \"friends\"", "personnel or family")
FAIL(scope_case, L_ID L_SERIAL L_EXPIRES "scope = \"Personnel\";\n" RULES,
    4, "unknown scope", NULL)
FAIL(title_empty, HEAD "title = \"\";\n" RULES, 5, "field \"title\"",
    "must not be empty")
FAIL(title_control, HEAD "title = \"a\\x1b[31mred\";\n" RULES, 5,
    "control character", "\\x1b")
FAIL(title_bidi, HEAD "title = \"abc\xe2\x80\xaexyz\";\n" RULES, 5,
    "control character", NULL)
FAIL(title_bad_utf8, HEAD "title = \"caf\xc3\";\n" RULES, 5,
    "bad UTF-8", NULL)
FAIL(title_too_long, HEAD "title = \""
    "0123456789012345678901234567890123456789012345678901234567890123"
    "0123456789012345678901234567890123456789012345678901234567890123"
    "0123456789012345678901234567890123456789012345678901234567890123"
    "0123456789012345678901234567890123456789012345678901234567890123"
    "x\";\n" RULES, 5, "longer than 256 bytes", NULL)
FAIL(interval_low, HEAD "report_interval = 59;\n" RULES, 5,
    "report_interval 59 is out of range", NULL)
FAIL(interval_high, HEAD "report_interval = 604801;\n" RULES, 5,
    "out of range", NULL)
FAIL(interval_string, HEAD "report_interval = \"60\";\n" RULES, 5,
    "must be an integer", NULL)
FAIL(rules_empty, HEAD "rules = ( );\n", 5, "field \"rules\" is empty",
    NULL)
FAIL(rules_array, HEAD "rules = [ \"a\" ];\n", 5,
    "field \"rules\" must be a list", NULL)
FAIL(rules_group, HEAD "rules = { a = 1; };\n", 5,
    "field \"rules\" must be a list", NULL)
FAIL(rule_not_group, HEAD "rules = (\n\"x\" );\n", 6,
    "rule #1: must be a group", NULL)

/* Every rule. */
FAIL(rule_missing_id, HEAD "rules = (\n{\nkind = \"os-min\";\n}\n);\n", 6,
    "rule #1: missing required field \"id\"", NULL)
FAIL(rule_bad_id, HEAD "rules = (\n{\nid = \"Cloud Sync\";\n}\n);\n", 7,
    "rule #1: field \"id\": \"Cloud Sync\" is not an id", NULL)
FAIL(rule_missing_kind, HEAD "rules = (\n{\nid = \"x\";\n}\n);\n", 6,
    "rule \"x\": missing required field \"kind\"", NULL)
FAIL(rule_unknown_kind, R_BEGIN("x", "model_ban") R_END, 8,
    "rule \"x\": unknown kind \"model_ban\"", "model-ban, setting")
FAIL(rule_kind_escaped, R_BEGIN("x", "\\x1b]0;pwned\\x07") R_END, 8,
    "unknown kind \"\\x1b]0;pwned\\x07\"", NULL)
FAIL(rule_unknown_severity, HEAD "rules = (\n{\nid = \"x\";\n"
    "kind = \"os-min\";\nseverity = \"urgent\";\n}\n);\n", 9,
    "rule \"x\": unknown severity \"urgent\"", "low, medium, high")
FAIL(rule_missing_severity, HEAD "rules = (\n{\nid = \"x\";\n"
    "kind = \"os-min\";\ntitle = \"T\";\nmin_version = \"4\";\n}\n);\n", 6,
    "rule \"x\": missing required field \"severity\"", NULL)
FAIL(rule_missing_title, HEAD "rules = (\n{\nid = \"x\";\n"
    "kind = \"os-min\";\nseverity = \"low\";\nmin_version = \"4\";\n}\n);\n",
    6, "rule \"x\": missing required field \"title\"", NULL)
FAIL(rule_empty_title, HEAD "rules = (\n{\nid = \"x\";\n"
    "kind = \"os-min\";\nseverity = \"low\";\ntitle = \"\";\n}\n);\n", 10,
    "field \"title\"", "must not be empty")
FAIL(rule_unknown_field, SETTING("cloud-sync-off") "expct = \"0\";\n" R_END,
    14, "rule \"cloud-sync-off\": unknown field \"expct\"", NULL)
FAIL(rule_other_kind_field, R_BEGIN("x", "os-min") "min_version = \"4\";\n"
    "cidrs = [ \"192.0.2.0/24\" ];\n" R_END, 12,
    "rule \"x\": unknown field \"cidrs\"", "not used by os-min rules")
FAIL(rule_duplicate_field, SETTING("x") "key = \"k2\";\n" R_END, 14,
    "duplicate", NULL)
FAIL(rule_duplicate_id, HEAD "rules = (\n{ id = \"os\"; kind = \"os-min\"; "
    "severity = \"low\"; title = \"T\"; min_version = \"4\"; },\n" OS_RULE
    ");\n", 7,
    "rule \"os\": duplicate rule id", "first used at line 6")
FAIL(rule_unknown_action, SETTING("x") "action = \"delete\";\n" R_END, 14,
    "rule \"x\": unknown action \"delete\"", NULL)
FAIL(rule_action_type, SETTING("x") "action = 1;\n" R_END, 14,
    "field \"action\" must be a string", NULL)
FAIL(action_setting_disable, SETTING("x") "action = \"disable\";\n" R_END, 14,
    "action \"disable\" is not allowed for a setting rule",
    "remediate or report")
FAIL(action_model_remediate, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\nmodels = [ \"HM 1SW\" ];\n"
    "action = \"remediate\";\n" R_END, 13,
    "action \"remediate\" is not allowed for a model-ban rule", NULL)
FAIL(action_package_remediate, R_BEGIN("x", "package-ban")
    "packages = [ \"com.x\" ];\naction = \"remediate\";\n" R_END, 12,
    "not allowed for a package-ban rule", "disable or report")
FAIL(action_os_disable, R_BEGIN("x", "os-min") "min_version = \"4\";\n"
    "action = \"disable\";\n" R_END, 12,
    "not allowed for a os-min rule", NULL)
FAIL(action_egress_remediate, R_BEGIN("x", "egress-deny")
    "cidrs = [ \"192.0.2.0/24\" ];\naction = \"remediate\";\n" R_END, 12,
    "not allowed for a egress-deny rule", NULL)

/* model-ban */
FAIL(model_missing_manufacturer, R_BEGIN("x", "model-ban")
    "models = [ \"HM 1SW\" ];\n" R_END, 6,
    "missing required field \"manufacturer\"", NULL)
FAIL(model_missing_models, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\n" R_END, 6,
    "missing required field \"models\"", NULL)
FAIL(model_models_empty, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\nmodels = [ ];\n" R_END, 12,
    "field \"models\" is empty", NULL)
FAIL(model_models_string, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\nmodels = \"HM 1SW\";\n" R_END, 12,
    "field \"models\" must be an array", NULL)
FAIL(model_models_ints, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\nmodels = [ 1, 2 ];\n" R_END, 12,
    "must be an array of strings", NULL)
FAIL(model_models_list, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\nmodels = ( \"HM 1SW\" );\n" R_END, 12,
    "field \"models\" must be an array", NULL)
FAIL(model_model_empty, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\nmodels = [ \"HM 1SW\",\n\"\" ];\n" R_END,
    13, "field \"models\" entry 2", "must not be empty")
FAIL(model_min_build_int, R_BEGIN("x", "model-ban")
    "manufacturer = \"Xiaomi\";\nmodels = [ \"HM 1SW\" ];\n"
    "min_build = 45;\n" R_END, 13, "field \"min_build\" must be a string",
    NULL)

/* setting */
FAIL(setting_unknown_namespace, R_BEGIN("x", "setting")
    "namespace = \"private\";\nkey = \"k\";\nexpect = \"0\";\n" R_END, 11,
    "unknown namespace \"private\"", "system, secure or global")
FAIL(setting_bad_key, R_BEGIN("x", "setting")
    "namespace = \"secure\";\nkey = \"a b\";\nexpect = \"0\";\n" R_END, 12,
    "field \"key\": \"a b\" is not a settings key", NULL)
FAIL(setting_missing_expect, R_BEGIN("x", "setting")
    "namespace = \"secure\";\nkey = \"k\";\n" R_END, 6,
    "missing required field \"expect\"", NULL)
FAIL(setting_expect_int, R_BEGIN("x", "setting")
    "namespace = \"secure\";\nkey = \"k\";\nexpect = 0;\n" R_END, 13,
    "field \"expect\" must be a string", NULL)

/* package-ban */
FAIL(package_empty, R_BEGIN("x", "package-ban") "packages = [];\n" R_END,
    11, "field \"packages\" is empty", NULL)
FAIL(package_bad_name, R_BEGIN("x", "package-ban")
    "packages = [ \"com.x\", \"com.evil;reboot\" ];\n" R_END, 11,
    "field \"packages\" entry 2: \"com.evil;reboot\" is not a package name",
    NULL)

/* os-min */
FAIL(os_min_letters, R_BEGIN("x", "os-min") "min_version = \"4.4.x\";\n"
    R_END, 11, "\"4.4.x\" is not a version", NULL)
FAIL(os_min_double_dot, R_BEGIN("x", "os-min") "min_version = \"4..4\";\n"
    R_END, 11, "is not a version", NULL)
FAIL(os_min_trailing_dot, R_BEGIN("x", "os-min") "min_version = \"4.\";\n"
    R_END, 11, "is not a version", NULL)
FAIL(os_min_huge, R_BEGIN("x", "os-min") "min_version = \"4.9999999999\";\n"
    R_END, 11, "is not a version", NULL)
FAIL(os_min_missing, R_BEGIN("x", "os-min") R_END, 6,
    "missing required field \"min_version\"", NULL)

/* egress-deny */
FAIL(cidr_no_prefix, EGRESS("203.0.113.0"), 11,
    "field \"cidrs\" entry 1: bad CIDR \"203.0.113.0\"", NULL)
FAIL(cidr_prefix_33, EGRESS("203.0.113.0/33"), 11, "bad CIDR", NULL)
FAIL(cidr_prefix_129, EGRESS("2001:db8::/129"), 11, "bad CIDR", NULL)
FAIL(cidr_host_bits, EGRESS("10.0.0.1/8"), 11, "bad CIDR \"10.0.0.1/8\"",
    "no host bits")
FAIL(cidr_garbage, EGRESS("vendor.example/24"), 11, "bad CIDR", NULL)
FAIL(cidr_trailing, EGRESS("203.0.113.0/24x"), 11, "bad CIDR", NULL)
FAIL(cidr_empty_list, R_BEGIN("x", "egress-deny") "cidrs = [ ];\n" R_END,
    11, "field \"cidrs\" is empty", NULL)
FAIL(cidr_second_bad, R_BEGIN("x", "egress-deny")
    "cidrs = [ \"192.0.2.0/24\",\n\"2001:db8::1/32\" ];\n" R_END, 12,
    "entry 2: bad CIDR \"2001:db8::1/32\"", NULL)

/* Pre-scan: @include, nesting. */
FAIL(include_line_start, HEAD "@include \"/etc/passwd\"\n" RULES, 5,
    "@include", NULL)
FAIL(include_indented, HEAD " \t @include \"/etc/passwd\"\n" RULES, 5,
    "@include", NULL)
FAIL(include_first_line, "@include \"x.cfg\"\n" HEAD RULES, 1, "@include",
    NULL)
FAIL(include_after_cr, HEAD "\r@include \"x.cfg\"\n" RULES, 5, "@include",
    NULL)
/* A string where the grammar takes none (libconfig 1.5 leaked it). */
FAIL(string_after_value, HEAD "title = \"a\", \"b\";\n" RULES, 5,
    "syntax error", NULL)
FAIL(string_after_semicolon, HEAD "serial2 = 1; \"b\";\n" RULES, 5,
    "syntax error", NULL)
FAIL(string_in_group, HEAD "rules = (\n{ id = \"x\", \"kind\" }\n);\n", 6,
    "syntax error", NULL)
FAIL(string_after_array, HEAD "x = [ \"a\" ]\n\"z\";\n" RULES, 6,
    "syntax error", NULL)
FAIL(string_first, "\"id\" = \"t\";\n" L_SERIAL L_EXPIRES L_SCOPE RULES, 1,
    "syntax error", NULL)
FAIL(unterminated_string, HEAD RULES "title = \"abc\n\n", 8,
    "unterminated string", NULL)
FAIL(unterminated_comment, HEAD RULES "/* comment\n\n", 8,
    "unterminated comment", NULL)
FAIL(nested_too_deep, HEAD "x = ((((((((((1))))))))));\n" RULES, 5,
    "nested deeper than 8", NULL)

static void
example_iaf(void **state)
{
	struct muster_err e = { 0, "" };
	struct profile *p = NULL;
	const struct rule *r;
	char tc[256];
	size_t len;
	char *buf;

	(void)state;
	buf = read_example("iaf-personnel.cfg", &len);
	if (profile_parse("profiles/iaf-personnel.cfg", buf, len, &p, &e) != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(p->id, "iaf-personnel");
	assert_int_equal(p->serial, 1);
	assert_int_equal(p->scope, SCOPE_PERSONNEL);
	assert_string_equal(p->expires_str, "2030-01-01T00:00:00Z");
	assert_int_equal(p->expires, 1893456000);
	assert_non_null(p->title);
	assert_int_equal(p->nrules, 7);

	r = &p->rules[0];
	assert_int_equal(r->kind, RULE_MODEL_BAN);
	assert_int_equal(r->severity, SEV_CRITICAL);
	assert_int_equal(r->action, ACTION_REPORT);
	assert_string_equal(r->manufacturer, "Xiaomi");
	assert_int_equal(r->nmodels, 3);
	assert_string_equal(r->models[0], "HM 1SW");
	assert_string_equal(r->models[2], "Redmi 1S");
	assert_non_null(r->min_build);

	r = &p->rules[2];
	assert_string_equal(r->id, "cloud-messaging-off");
	assert_int_equal(r->kind, RULE_SETTING);
	assert_int_equal(r->action, ACTION_REMEDIATE);
	assert_string_equal(r->namespace, "secure");
	assert_string_equal(r->expect, "0");

	r = &p->rules[4];
	assert_int_equal(r->kind, RULE_PACKAGE_BAN);
	assert_int_equal(r->action, ACTION_DISABLE);
	assert_int_equal(r->npackages, 2);
	assert_string_equal(r->packages[0], "com.miui.cloudservice");
	assert_string_equal(r->packages[1], "com.xiaomi.xmsf");

	r = &p->rules[5];
	assert_int_equal(r->kind, RULE_EGRESS_DENY);
	assert_int_equal(r->ncidrs, 3);
	assert_int_equal(r->cidrs[0].family, AF_INET);
	assert_int_equal(r->cidrs[0].prefix, 24);
	assert_int_equal(r->cidrs[2].family, AF_INET6);
	assert_int_equal(r->cidrs[2].prefix, 32);

	r = &p->rules[6];
	assert_int_equal(r->kind, RULE_OS_MIN);
	assert_string_equal(r->min_version, "4.4.4");

	assert_int_equal(profile_trusted_comment(p, tc, sizeof tc), 0);
	assert_string_equal(tc, "muster-profile id=iaf-personnel serial=1 "
	    "scope=personnel expires=2030-01-01T00:00:00Z");
	profile_free(p);
	free(buf);
}

static void
example_family(void **state)
{
	struct muster_err e = { 0, "" };
	struct profile *p = NULL;
	size_t i, len;
	char *buf;

	(void)state;
	buf = read_example("family-optin.cfg", &len);
	if (profile_parse("profiles/family-optin.cfg", buf, len, &p, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(p->scope, SCOPE_FAMILY);
	assert_true(p->nrules >= 1);
	for (i = 0; i < p->nrules; i++) {
		/* Family devices opted in: report only, nothing changed. */
		assert_int_equal(p->rules[i].action, ACTION_REPORT);
		assert_true(p->rules[i].kind != RULE_PACKAGE_BAN);
		assert_true(p->rules[i].kind != RULE_EGRESS_DENY);
	}
	profile_free(p);
	free(buf);
}

static void
minimal_defaults(void **state)
{
	struct profile *p;

	(void)state;
	p = parse_ok(HEAD RULES);
	assert_null(p->title);
	assert_int_equal(p->report_interval, PROFILE_DEFAULT_REPORT_INTERVAL);
	assert_int_equal(p->nrules, 1);
	assert_int_equal(p->rules[0].action, ACTION_REPORT);
	assert_int_equal(p->rules[0].line, 6);
	assert_null(p->rules[0].min_build);
	profile_free(p);
}

static void
accepted_edges(void **state)
{
	struct profile *p;

	(void)state;
	/* 64-bit serial, interval bounds, colon syntax, UTF-8 title. */
	p = parse_ok(L_ID "serial = 4294967297L;\n" L_EXPIRES L_SCOPE
	    "report_interval = 604800;\ntitle = \"Caf\xc3\xa9 \xe2\x82\xac\";\n"
	    RULES);
	assert_true(p->serial == INT64_C(4294967297));
	assert_int_equal(p->report_interval, 604800);
	profile_free(p);
	p = parse_ok(L_ID "serial = 2147483647;\n" L_EXPIRES L_SCOPE
	    "report_interval = 60;\n" RULES);
	assert_int_equal(p->serial, 2147483647);
	assert_int_equal(p->report_interval, 60);
	profile_free(p);
	p = parse_ok(L_ID "serial = 0x10;\n" L_EXPIRES L_SCOPE RULES);
	assert_int_equal(p->serial, 16);
	profile_free(p);
	/* The longest id. */
	p = parse_ok("id = \"0123456789012345678901234567890123456789"
	    "012345678901234567890123\";\n" L_SERIAL L_EXPIRES L_SCOPE RULES);
	assert_int_equal(strlen(p->id), PROFILE_ID_MAX);
	profile_free(p);
	/* Empty expect; each action allowed for setting. */
	p = parse_ok(R_BEGIN("x", "setting") "namespace = \"global\";\n"
	    "key = \"Mi.cloud_sync-1\";\nexpect = \"\";\n"
	    "action = \"report\";\n" R_END);
	assert_string_equal(p->rules[0].expect, "");
	assert_string_equal(p->rules[0].namespace, "global");
	profile_free(p);
}

/* Words that look like trouble inside strings and comments are inert. */
static void
inert_strings_and_comments_ok(void **state)
{
	struct profile *p;

	(void)state;
	p = parse_ok(HEAD
	    "title = \"serial = 99999999999 (((((((((( @include \\\" [[[[\";\n"
	    "# ((((((((( 99999999999 @include\n"
	    "// {{{{{{{{{{ 0xffffffffffffffffff\n"
	    "/* [[[[[[[[[[\n 4294967297 */\n"
	    RULES);
	assert_string_equal(p->title,
	    "serial = 99999999999 (((((((((( @include \" [[[[");
	profile_free(p);
}

static void
include_in_comment(void **state)
{
	const char *t = HEAD "/* a comment\n  @include \"x.cfg\" */\n" RULES;

	(void)state;
	/* Refused although libconfig would ignore it: the scan is by line. */
	parse_fails(t, strlen(t), 6, "@include", NULL);
}

static void
too_large(void **state)
{
	const char *head = HEAD RULES;
	size_t n = PROFILE_MAX_BYTES;
	struct profile *p = NULL;
	struct muster_err e;
	char *buf;

	(void)state;
	buf = malloc(n + 1);
	assert_non_null(buf);
	/* Exactly the limit (padded with blanks) is accepted... */
	memset(buf, ' ', n + 1);
	memcpy(buf, head, strlen(head));
	assert_int_equal(profile_parse(NAME, buf, n, &p, &e), 0);
	profile_free(p);
	p = NULL;
	/* ...one byte more is not, whatever it holds. */
	parse_fails(buf, n + 1, 0, "262145 bytes", "limit of 262144");
	assert_int_equal(profile_parse(NAME, buf, SIZE_MAX, &p, &e),
	    MUSTER_EDATA);
	assert_null(p);
	free(buf);
}

static void
nul_byte(void **state)
{
	char buf[] = HEAD RULES;

	(void)state;
	buf[strlen(L_ID L_SERIAL) + 3] = '\0';	/* on line 3 */
	parse_fails(buf, sizeof buf - 1, 3, "NUL byte", NULL);
	/* A trailing NUL counts too: the length is the caller's. */
	parse_fails(HEAD RULES, sizeof(HEAD RULES), 8, "NUL byte", NULL);
}

static void
empty_and_null_input(void **state)
{
	struct profile *p = NULL;
	struct muster_err e;

	(void)state;
	parse_fails("", 0, 1, "missing required field \"id\"", NULL);
	assert_int_equal(profile_parse(NAME, NULL, 0, &p, &e), MUSTER_EDATA);
	assert_null(p);
	assert_int_equal(profile_parse(NAME, NULL, 5, &p, &e),
	    MUSTER_EINTERNAL);
	assert_null(p);
	assert_int_equal(profile_parse(NAME, "", 0, NULL, &e),
	    MUSTER_EINTERNAL);
	/* A NULL error struct is allowed. */
	assert_int_equal(profile_parse(NULL, "x", 1, &p, NULL), MUSTER_EDATA);
}

static void
too_many_rules(void **state)
{
	size_t n = PROFILE_MAX_RULES + 1, i, off;
	char *buf;

	(void)state;
	buf = malloc(strlen(HEAD) + 16 + n * 2);
	assert_non_null(buf);
	off = (size_t)sprintf(buf, "%srules = (\n", HEAD);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "%s", i ? ",1" : "1");
	off += (size_t)sprintf(buf + off, ");\n");
	parse_fails(buf, off, 5, "more than 4096 rules", NULL);
	free(buf);
}

/*
 * DUP_RULES rules, one per line from line 6, ids r0, r1, ...; the
 * rule at index dup (if any) takes the id of the rule at index first,
 * the rule at index bad (if any) lacks its title.  Caller frees.
 */
#define DUP_RULES	3000	/* of about 66 bytes: within PROFILE_MAX_BYTES */

static char *
rules_profile(size_t dup, size_t first, size_t bad, size_t *len)
{
	size_t n = DUP_RULES, i, off;
	char *buf;

	buf = malloc(strlen(HEAD) + 32 + n * 80);
	assert_non_null(buf);
	off = (size_t)sprintf(buf, "%srules = (\n", HEAD);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "%s{id=\"r%zu\";kind="
		    "\"os-min\";severity=\"low\";%smin_version=\"4\";}\n",
		    i > 0 ? "," : "", i == dup ? first : i,
		    i == bad ? "" : "title=\"T\";");
	off += (size_t)sprintf(buf + off, ");\n");
	*len = off;
	return buf;
}

/*
 * Rule ids are checked for duplicates as each rule is read, in time linear
 * in the rules (a hash set; it was a comparison with every rule before):
 * among as many rules as PROFILE_MAX_BYTES holds, the first repeat is named with
 * the line of the rule it repeats, and an error in an earlier rule still
 * comes first.
 */
static void
duplicate_ids_many(void **state)
{
	struct profile *p;
	size_t len;
	char *buf;

	(void)state;
	buf = rules_profile(SIZE_MAX, 0, SIZE_MAX, &len);
	p = parse_ok(buf);
	assert_int_equal(p->nrules, DUP_RULES);
	profile_free(p);
	free(buf);

	buf = rules_profile(DUP_RULES - 1, 17, SIZE_MAX, &len);
	parse_fails(buf, len, 6 + DUP_RULES - 1,
	    "rule \"r17\": duplicate rule id", "first used at line 23");
	free(buf);

	buf = rules_profile(2000, 1999, 1000, &len);
	parse_fails(buf, len, 6 + 1000, "rule \"r1000\": missing required "
	    "field \"title\"", NULL);
	free(buf);

	buf = rules_profile(1000, 999, 2000, &len);
	parse_fails(buf, len, 6 + 1000, "rule \"r999\": duplicate rule id",
	    "first used at line 1005");
	free(buf);
}

/* A model-ban rule with n models; models is on line 12.  Caller frees. */
static char *
models_profile(size_t n, size_t *len)
{
	const char *pre = R_BEGIN("x", "model-ban")
	    "manufacturer = \"Xiaomi\";\nmodels = [ ";
	size_t i, off;
	char *buf;

	buf = malloc(strlen(pre) + 32 + n * 5);
	assert_non_null(buf);
	off = (size_t)sprintf(buf, "%s", pre);
	for (i = 0; i < n; i++)
		off += (size_t)sprintf(buf + off, "%s", i ? ",\"m\"" : "\"m\"");
	off += (size_t)sprintf(buf + off, " ];\n" R_END);
	*len = off;
	return buf;
}

static void
too_many_models(void **state)
{
	struct profile *p = NULL;
	struct muster_err e;
	size_t len;
	char *buf;

	(void)state;
	buf = models_profile(PROFILE_MAX_LIST + 1, &len);
	parse_fails(buf, len, 12, "field \"models\" has more than 1024",
	    NULL);
	free(buf);
	buf = models_profile(PROFILE_MAX_LIST, &len);
	assert_int_equal(profile_parse(NAME, buf, len, &p, &e), 0);
	assert_int_equal(p->rules[0].nmodels, PROFILE_MAX_LIST);
	profile_free(p);
	free(buf);
}

/* Every prefix of a valid profile either parses or fails cleanly. */
static void
truncated(void **state)
{
	const char *t = HEAD "title = \"x\";\nreport_interval = 600;\n"
	    "rules = (\n"
	    "{ id = \"m\"; kind = \"model-ban\"; severity = \"low\"; "
	    "title = \"M\"; manufacturer = \"X\"; models = [ \"A\", \"B\" ]; "
	    "min_build = \"B1\"; },\n"
	    "{ id = \"s\"; kind = \"setting\"; severity = \"medium\"; "
	    "title = \"S\"; namespace = \"secure\"; key = \"k\"; "
	    "expect = \"0\"; action = \"remediate\"; },\n"
	    "{ id = \"p\"; kind = \"package-ban\"; severity = \"high\"; "
	    "title = \"P\"; packages = [ \"com.x\" ]; action = \"disable\"; },\n"
	    "{ id = \"o\"; kind = \"os-min\"; severity = \"critical\"; "
	    "title = \"O\"; min_version = \"4.4.4\"; },\n"
	    "{ id = \"e\"; kind = \"egress-deny\"; severity = \"low\"; "
	    "title = \"E\"; cidrs = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]; }\n"
	    ");\n";
	size_t len = strlen(t), n, parsed = 0;
	struct muster_err e;
	struct profile *p;
	char *buf;
	int rc;

	(void)state;
	for (n = 0; n <= len; n++) {
		/* An exact-size copy, so ASan sees any read past the end. */
		buf = malloc(n ? n : 1);
		assert_non_null(buf);
		memcpy(buf, t, n);
		p = NULL;
		e.msg[0] = '\0';
		rc = profile_parse(NAME, buf, n, &p, &e);
		if (rc == 0) {
			assert_non_null(p);
			parsed++;
			profile_free(p);
		} else {
			assert_int_equal(rc, MUSTER_EDATA);
			assert_null(p);
			assert_true(strncmp(e.msg, NAME ":", 6) == 0);
		}
		free(buf);
	}
	/* The whole text parses (and the text minus its final newline). */
	assert_true(parsed >= 1);
	p = parse_ok(t);
	assert_int_equal(p->nrules, 5);
	profile_free(p);
}

/* Every single-byte change of a valid profile parses or fails cleanly. */
static void
mutated(void **state)
{
	static const char subst[] = { '\0', '\n', '"', '\\', '@', '(', '{',
	    '[', ';', '/', '*', '9', 'L', 'x', '\x80', '\xff', ' ' };
	const char *t = HEAD "rules = (\n"
	    "{ id = \"s\"; kind = \"setting\"; severity = \"medium\"; "
	    "title = \"S\"; namespace = \"secure\"; key = \"k\"; "
	    "expect = \"0\"; action = \"remediate\"; },\n"
	    "{ id = \"e\"; kind = \"egress-deny\"; severity = \"low\"; "
	    "title = \"E\"; cidrs = [ \"192.0.2.0/24\", \"2001:db8::/32\" ]; }\n"
	    ");\n";
	size_t len = strlen(t), i, j;
	struct muster_err e;
	struct profile *p;
	char *buf;
	int rc;

	(void)state;
	buf = malloc(len);
	assert_non_null(buf);
	for (i = 0; i < len; i++) {
		for (j = 0; j < sizeof subst; j++) {
			memcpy(buf, t, len);
			buf[i] = subst[j];
			p = NULL;
			rc = profile_parse(NAME, buf, len, &p, &e);
			assert_true(rc == 0 || rc == MUSTER_EDATA);
			assert_true((rc == 0) == (p != NULL));
			profile_free(p);
		}
	}
	free(buf);
}

static void
cidr_good(void **state)
{
	static const unsigned char mapped[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 203, 0, 113, 0,
	};
	static const unsigned char zero[16] = { 0 };
	static const unsigned char ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	struct cidr c;

	(void)state;
	assert_int_equal(profile_cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 0);
	assert_memory_equal(c.addr, zero, 16);

	assert_int_equal(profile_cidr_parse("203.0.113.7/32", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(c.addr[3], 7);

	assert_int_equal(profile_cidr_parse("255.255.255.255/32", &c), 0);
	assert_int_equal(profile_cidr_parse("198.51.100.128/25", &c), 0);
	assert_int_equal(profile_cidr_parse("10.0.0.0/8", &c), 0);

	assert_int_equal(profile_cidr_parse("::/0", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 0);
	assert_memory_equal(c.addr, zero, 16);

	assert_int_equal(profile_cidr_parse(
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_memory_equal(c.addr, ones, 16);

	assert_int_equal(profile_cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(c.addr[0], 0x20);
	assert_int_equal(c.addr[3], 0xb8);

	/* IPv4-mapped stays IPv6, as /proc/net/tcp6 shows it. */
	assert_int_equal(profile_cidr_parse("::ffff:203.0.113.0/120", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 120);
	assert_memory_equal(c.addr, mapped, 16);
}

static void
cidr_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"/",
		"/24",
		"203.0.113.0",			/* no prefix */
		"203.0.113.0/",
		"203.0.113.0/33",		/* out of range */
		"2001:db8::/129",
		"0.0.0.0/1000",
		"10.0.0.1/8",			/* host bits */
		"11.0.0.0/7",
		"198.51.100.129/25",
		"203.0.113.1/31",
		"::1/127",
		"2001:db8::1/32",
		"::ffff:203.0.113.1/120",
		"::/-0",
		"10.0.0.0/+8",
		"10.0.0.0/08",			/* leading zero */
		"10.0.0.0/8/8",
		"10.0.0.0/8 ",
		" 10.0.0.0/8",
		"10.0.0/24",			/* not dotted quad */
		"10.0.0.0.0/24",
		"010.0.0.0/8",
		"0x0a.0.0.0/8",
		"256.0.0.0/8",
		"fe80::1%eth0/128",		/* zone ids */
		"2001:db8:::/48",
		"gggg::/16",
		"example.org/24",
		"203.0.113.0/24x",
	};
	struct cidr c, before;
	size_t i;

	(void)state;
	memset(&before, 0x5a, sizeof before);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = before;
		if (profile_cidr_parse(bad[i], &c) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&c, &before, sizeof c);
	}
	assert_int_equal(profile_cidr_parse(NULL, &c), -1);
	assert_int_equal(profile_cidr_parse("::/0", NULL), -1);
}

static void
names(void **state)
{
	enum profile_scope s;

	(void)state;
	assert_string_equal(profile_scope_name(SCOPE_PERSONNEL), "personnel");
	assert_string_equal(profile_scope_name(SCOPE_FAMILY), "family");
	assert_string_equal(profile_kind_name(RULE_MODEL_BAN), "model-ban");
	assert_string_equal(profile_kind_name(RULE_SETTING), "setting");
	assert_string_equal(profile_kind_name(RULE_PACKAGE_BAN),
	    "package-ban");
	assert_string_equal(profile_kind_name(RULE_OS_MIN), "os-min");
	assert_string_equal(profile_kind_name(RULE_EGRESS_DENY),
	    "egress-deny");
	assert_string_equal(profile_severity_name(SEV_LOW), "low");
	assert_string_equal(profile_severity_name(SEV_CRITICAL), "critical");
	assert_string_equal(profile_action_name(ACTION_REPORT), "report");
	assert_string_equal(profile_action_name(ACTION_REMEDIATE),
	    "remediate");
	assert_string_equal(profile_action_name(ACTION_DISABLE), "disable");
	assert_string_equal(profile_kind_name((enum rule_kind)99), "unknown");

	assert_int_equal(profile_scope_parse("family", &s), 0);
	assert_int_equal(s, SCOPE_FAMILY);
	assert_int_equal(profile_scope_parse("personnel", &s), 0);
	assert_int_equal(s, SCOPE_PERSONNEL);
	assert_int_equal(profile_scope_parse("Family", &s), -1);
	assert_int_equal(profile_scope_parse("", &s), -1);
	assert_int_equal(profile_scope_parse(NULL, &s), -1);
	profile_free(NULL);
}

static void
trusted_comment(void **state)
{
	const char *want = "muster-profile id=t serial=4294967297 "
	    "scope=family expires=2030-01-01T00:00:00Z";
	struct profile *p;
	char buf[128];

	(void)state;
	p = parse_ok(L_ID "serial = 4294967297L;\n" L_EXPIRES
	    "scope = \"family\";\n" RULES);
	assert_int_equal(profile_trusted_comment(p, buf, sizeof buf), 0);
	assert_string_equal(buf, want);
	assert_int_equal(profile_trusted_comment(p, buf, strlen(want) + 1), 0);
	assert_int_equal(profile_trusted_comment(p, buf, strlen(want)), -1);
	assert_string_equal(buf, "");
	assert_int_equal(profile_trusted_comment(p, buf, 0), -1);
	assert_int_equal(profile_trusted_comment(NULL, buf, sizeof buf), -1);
	profile_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example_iaf),
		cmocka_unit_test(example_family),
		cmocka_unit_test(minimal_defaults),
		cmocka_unit_test(accepted_edges),
		cmocka_unit_test(inert_strings_and_comments_ok),
		cmocka_unit_test(include_in_comment),
		cmocka_unit_test(too_large),
		cmocka_unit_test(nul_byte),
		cmocka_unit_test(empty_and_null_input),
		cmocka_unit_test(too_many_rules),
		cmocka_unit_test(duplicate_ids_many),
		cmocka_unit_test(too_many_models),
		cmocka_unit_test(truncated),
		cmocka_unit_test(mutated),
		cmocka_unit_test(cidr_good),
		cmocka_unit_test(cidr_bad),
		cmocka_unit_test(names),
		cmocka_unit_test(trusted_comment),

		FCASE(top_unknown_field),
		FCASE(top_missing_id),
		FCASE(top_missing_serial),
		FCASE(top_missing_expires),
		FCASE(top_missing_scope),
		FCASE(top_missing_rules),
		FCASE(top_duplicate_field),
		FCASE(top_syntax_error),
		FCASE(id_uppercase),
		FCASE(id_leading_dash),
		FCASE(id_empty),
		FCASE(id_slash),
		FCASE(id_65_chars),
		FCASE(id_not_string),
		FCASE(serial_string),
		FCASE(serial_float),
		FCASE(serial_bool),
		FCASE(serial_zero),
		FCASE(serial_negative),
		FCASE(serial_int_overflow),
		FCASE(serial_hex_overflow),
		FCASE(serial_int64_overflow),
		FCASE(expires_feb_30),
		FCASE(expires_hour_24),
		FCASE(expires_trailing),
		FCASE(expires_offset),
		FCASE(expires_integer),
		FCASE(scope_unknown),
		FCASE(scope_case),
		FCASE(title_empty),
		FCASE(title_control),
		FCASE(title_bidi),
		FCASE(title_bad_utf8),
		FCASE(title_too_long),
		FCASE(interval_low),
		FCASE(interval_high),
		FCASE(interval_string),
		FCASE(rules_empty),
		FCASE(rules_array),
		FCASE(rules_group),
		FCASE(rule_not_group),
		FCASE(rule_missing_id),
		FCASE(rule_bad_id),
		FCASE(rule_missing_kind),
		FCASE(rule_unknown_kind),
		FCASE(rule_kind_escaped),
		FCASE(rule_unknown_severity),
		FCASE(rule_missing_severity),
		FCASE(rule_missing_title),
		FCASE(rule_empty_title),
		FCASE(rule_unknown_field),
		FCASE(rule_other_kind_field),
		FCASE(rule_duplicate_field),
		FCASE(rule_duplicate_id),
		FCASE(rule_unknown_action),
		FCASE(rule_action_type),
		FCASE(action_setting_disable),
		FCASE(action_model_remediate),
		FCASE(action_package_remediate),
		FCASE(action_os_disable),
		FCASE(action_egress_remediate),
		FCASE(model_missing_manufacturer),
		FCASE(model_missing_models),
		FCASE(model_models_empty),
		FCASE(model_models_string),
		FCASE(model_models_ints),
		FCASE(model_models_list),
		FCASE(model_model_empty),
		FCASE(model_min_build_int),
		FCASE(setting_unknown_namespace),
		FCASE(setting_bad_key),
		FCASE(setting_missing_expect),
		FCASE(setting_expect_int),
		FCASE(package_empty),
		FCASE(package_bad_name),
		FCASE(os_min_letters),
		FCASE(os_min_double_dot),
		FCASE(os_min_trailing_dot),
		FCASE(os_min_huge),
		FCASE(os_min_missing),
		FCASE(cidr_no_prefix),
		FCASE(cidr_prefix_33),
		FCASE(cidr_prefix_129),
		FCASE(cidr_host_bits),
		FCASE(cidr_garbage),
		FCASE(cidr_trailing),
		FCASE(cidr_empty_list),
		FCASE(cidr_second_bad),
		FCASE(include_line_start),
		FCASE(include_indented),
		FCASE(include_first_line),
		FCASE(include_after_cr),
		FCASE(string_after_value),
		FCASE(string_after_semicolon),
		FCASE(string_in_group),
		FCASE(string_after_array),
		FCASE(string_first),
		FCASE(unterminated_string),
		FCASE(unterminated_comment),
		FCASE(nested_too_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
