/*
 * The identifier deny-list (lib/ident.c) and its three gates: the profile
 * loader refuses a setting rule that names an identifier (file:line), the
 * agent's device layer refuses to read or write one before any backend
 * runs, a rule's reason quotes at most IDENT_VALUE_SHOW bytes of a value;
 * and the server's report check (server/reportcheck.c): rules the profile
 * lacks, long details, quoted values past the cap, identifier-like text,
 * the time window.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "muster/ident.h"
#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "../../agent/device/device.h"
#include "../../agent/rules.h"
#include "../../server/reportcheck.h"
#include "../../server/rollup.h"

/* The first marker (list order) in s, ASCII case ignored: the plain way. */
static const char *
marker_slow(const char *s)
{
	size_t k;

	for (k = 0; ident_markers[k] != NULL; k++)
		if (strcasestr(s, ident_markers[k]) != NULL)
			return ident_markers[k];
	return NULL;
}

/*
 * ident_marker: every marker, in any case and anywhere in a key, is
 * found, and the one the list names first wins, as the plain search says.
 */
static void
marker_search(void **state)
{
	static const char *const keys[] = {
		"", "a", "mi_cloud_sync_enabled", "Device_Name_Serial",
		"xxSSIDxx", "user_name_and_imei", "owner_info_email",
		"bt_addr", "bluetooth_address", "line1line1", "IMSI",
	};
	char key[96];
	size_t i, j, n;

	(void)state;
	for (i = 0; ident_markers[i] != NULL; i++) {
		n = (size_t)snprintf(key, sizeof key, "x_%s_z",
		    ident_markers[i]);
		for (j = 0; j < n; j++)
			if (i % 2 == 1 && key[j] >= 'a' && key[j] <= 'z')
				key[j] = (char)(key[j] - 'a' + 'A');
		assert_non_null(ident_marker(key));
		assert_ptr_equal(ident_marker(key), marker_slow(key));
	}
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		assert_ptr_equal(ident_marker(keys[i]), marker_slow(keys[i]));
	assert_null(ident_marker(NULL));
}

static void
deny_list(void **state)
{
	static const char *const denied[][2] = {
		{ "secure", "android_id" }, { "secure", "ANDROID_ID" },
		{ "secure", "bluetooth_address" },
		{ "secure", "bluetooth_name" }, { "global", "device_name" },
		{ "system", "device_name" }, { "global", "wifi_mac_address" },
		{ "secure", "advertising_id" }, { "global", "my_Serial_no" },
		{ "system", "imei0" }, { "secure", "meid" },
		{ "global", "sim_iccid" }, { "global", "imsi" },
		{ "global", "msisdn" }, { "global", "phone_number" },
		{ "global", "line1_number" }, { "secure", "sync_account" },
		{ "system", "lock_screen_owner_info" },
		{ "global", "wifi_ssid" }, { "secure", "net.hostname" },
	};
	static const char *const allowed[][2] = {
		{ "secure", "mi_cloud_sync_enabled" },
		{ "global", "adb_enabled" },
		{ "secure", "location_providers_allowed" },
		{ "global", "wifi_connected_mac_randomization_enabled" },
		{ "global", "bluetooth_on" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof denied / sizeof denied[0]; i++)
		if (!ident_setting_denied(denied[i][0], denied[i][1]))
			fail_msg("%s/%s not denied", denied[i][0],
			    denied[i][1]);
	for (i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
		if (ident_setting_denied(allowed[i][0], allowed[i][1]))
			fail_msg("%s/%s denied", allowed[i][0],
			    allowed[i][1]);
	assert_true(ident_setting_denied("secure", NULL));
	for (i = 0; ident_settings[i] != NULL; i++) {
		char ns[64], *slash;

		snprintf(ns, sizeof ns, "%s", ident_settings[i]);
		assert_non_null(slash = strchr(ns, '/'));
		*slash = '\0';
		assert_true(ident_setting_denied(ns, slash + 1));
	}
	for (i = 0; ident_props[i] != NULL; i++)
		assert_true(ident_prop_denied(ident_props[i]));
	assert_true(ident_prop_denied("RO.SERIALNO"));
	assert_true(ident_prop_denied("persist.radio.imei2"));
	assert_true(ident_prop_denied(NULL));
	/* The four properties the agent reads are not identifiers. */
	assert_false(ident_prop_denied(DEVICE_PROP_MANUFACTURER));
	assert_false(ident_prop_denied(DEVICE_PROP_MODEL));
	assert_false(ident_prop_denied(DEVICE_PROP_BUILD));
	assert_false(ident_prop_denied(DEVICE_PROP_OS));
	assert_string_equal(ident_marker("ro.boot.serialno"), "serial");
	assert_null(ident_marker("ro.product.model"));
}

#define PROFILE_HEAD \
	"id = \"p\";\nserial = 1;\nexpires = \"2030-01-01T00:00:00Z\";\n" \
	"scope = \"personnel\";\nrules = (\n"

/* The loader refuses a setting rule naming an identifier, at its key. */
static void
profile_refuses(void **state)
{
	static const char *const keys[][2] = {
		{ "secure", "android_id" }, { "secure", "bluetooth_address" },
		{ "global", "device_name" }, { "global", "Wifi_MAC_address" },
		{ "system", "ril.serialnumber" },
	};
	struct profile *p = NULL;
	struct muster_err e;
	char buf[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(buf, sizeof buf, PROFILE_HEAD
		    "  { id = \"x\"; kind = \"setting\"; severity = \"low\";\n"
		    "    title = \"t\"; namespace = \"%s\";\n"
		    "    key = \"%s\"; expect = \"0\"; }\n);\n",
		    keys[i][0], keys[i][1]);
		assert_int_equal(profile_parse("id.cfg", buf, strlen(buf), &p,
		    &e), MUSTER_EDATA);
		assert_null(p);
		if (strncmp(e.msg, "id.cfg:8: rule \"x\": setting ", 27) != 0 ||
		    strstr(e.msg, "names an identifier") == NULL)
			fail_msg("message: %s", e.msg);
	}
	snprintf(buf, sizeof buf, PROFILE_HEAD
	    "  { id = \"x\"; kind = \"setting\"; severity = \"low\";\n"
	    "    title = \"t\"; namespace = \"secure\";\n"
	    "    key = \"mi_cloud_sync_enabled\"; expect = \"0\"; }\n);\n");
	assert_int_equal(profile_parse("ok.cfg", buf, strlen(buf), &p, &e), 0);
	profile_free(p);
}

#define SIM_IDS \
	"manufacturer = \"Xiaomi\";\nmodel = \"HM 1SW\";\n" \
	"build = \"KHHMIBF5.0\";\nos_version = \"4.4.2\";\n" \
	"settings = {\n\tsystem = { };\n\tsecure = {\n" \
	"\t\tandroid_id = \"SECRET-ANDROID-ID\";\n" \
	"\t\tlong_one = \"0123456789abcdefghijklmnopqrstuvwxyzABCDEF\";\n" \
	"\t};\n\tglobal = { device_name = \"Jane Doe's phone\"; };\n};\n" \
	"packages = ( );\n"

/* The device layer refuses before the backend reads or writes. */
static void
device_refuses(void **state)
{
	char dir[UNIT_TMPDIR_MAX], path[UNIT_TMPDIR_MAX + 16];
	char spec[UNIT_TMPDIR_MAX + 32], val[DEVICE_VALUE_MAX], *after;
	struct device *d = NULL;
	struct muster_err e = { 0, "" };
	struct rules_ctx ctx;
	struct rule_outcome o;
	struct rule r;
	FILE *f;
	int isset = -1;

	(void)state;
	assert_int_equal(unit_tmpdir(dir, "ident"), 0);
	snprintf(path, sizeof path, "%s/device.cfg", dir);
	snprintf(spec, sizeof spec, "sim:%s", path);
	assert_non_null(f = fopen(path, "wb"));
	assert_true(fputs(SIM_IDS, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(device_open(spec, &d, &e), 0);

	strcpy(val, "untouched");
	assert_int_equal(device_setting_get(d, "secure", "android_id", val,
	    &isset, &e), MUSTER_EUSAGE);
	assert_string_equal(val, "");
	assert_int_equal(isset, 0);
	assert_non_null(strstr(e.msg, "names an identifier"));
	assert_null(strstr(e.msg, "SECRET"));
	assert_int_equal(device_setting_get(d, "global", "device_name", val,
	    &isset, &e), MUSTER_EUSAGE);
	assert_int_equal(device_setting_put(d, "global", "device_name", "x",
	    &e), MUSTER_EUSAGE);
	after = unit_slurp(path, NULL);
	assert_non_null(strstr(after, "Jane Doe's phone"));
	free(after);

	/* A rule built by hand (the loader would refuse it): no read. */
	memset(&r, 0, sizeof r);
	r.id = "x";
	r.kind = RULE_SETTING;
	r.namespace = "secure";
	r.key = "android_id";
	r.expect = "0";
	memset(&ctx, 0, sizeof ctx);
	ctx.dev = d;
	rules_eval(&r, &ctx, &o);
	assert_int_equal(o.result, RESULT_ERROR);
	assert_null(strstr(o.reason, "SECRET"));

	/* A free-form value is quoted to IDENT_VALUE_SHOW bytes at most. */
	r.key = "long_one";
	rules_eval(&r, &ctx, &o);
	assert_int_equal(o.result, RESULT_FAIL);
	assert_non_null(strstr(o.reason,
	    "\"0123456789abcdefghijklmnopqrstuv\"..."));
	assert_null(strstr(o.reason, "w"));

	device_close(d);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

#define CHECK_PROFILE PROFILE_HEAD \
	"  { id = \"sync\"; kind = \"setting\"; severity = \"low\";\n" \
	"    title = \"t\"; namespace = \"secure\";\n" \
	"    key = \"a_rather_long_setting_key_name_over_32\"; expect = \"0\"; },\n" \
	"  { id = \"model\"; kind = \"model-ban\"; severity = \"low\";\n" \
	"    title = \"t\"; manufacturer = \"X\"; models = [ \"Y\" ]; }\n);\n"

/* reportcheck_profile of a report with the results in json. */
static const char *
check(const struct profile *p, enum profile_scope scope, const char *results)
{
	static char buf[2048];
	const char *why;
	json_t *o;

	snprintf(buf, sizeof buf, "{\"results\":%s}", results);
	assert_non_null(o = proto_json_parse(buf, strlen(buf),
	    REPORT_JSON_DEPTH));
	why = reportcheck_profile(p, scope, o);
	json_decref(o);
	return why;
}

static void
server_check(void **state)
{
	struct profile *p = NULL;
	struct muster_err e;
	char detail[IDENT_DETAIL_MAX + 64], res[IDENT_DETAIL_MAX + 128];

	(void)state;
	assert_int_equal(profile_parse("c.cfg", CHECK_PROFILE,
	    strlen(CHECK_PROFILE), &p, &e), 0);
	/* What the agent writes passes. */
	assert_null(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"sync\","
	    "\"result\":\"fail\",\"detail\":\"secure/a_rather_long_setting_"
	    "key_name_over_32 is \\\"0123456789abcdefghijklmnopqrstuv\\\"..."
	    ", expected \\\"0\\\"\"},{\"rule\":\"model\",\"result\":"
	    "\"pass\",\"detail\":\"model \\\"HM 1SW\\\" is not banned\"}]"));
	assert_null(check(p, SCOPE_PERSONNEL, "[]"));
	/* The quoted key itself may be long. */
	assert_null(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"sync\",\"result\":"
	    "\"error\",\"detail\":\"key \\\"a_rather_long_setting_key_name_"
	    "over_32\\\" cannot be stored\"}]"));
	/* A rule the profile does not have. */
	assert_string_equal(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"imei\","
	    "\"result\":\"pass\"}]"),
	    "a result names a rule the profile does not have");
	/* The profile of another scope. */
	assert_non_null(check(p, SCOPE_FAMILY, "[]"));
	/* A value quoted past the cap, escapes counted as one byte. */
	assert_non_null(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"sync\","
	    "\"result\":\"fail\",\"detail\":\"is \\\"Jane Doe's phone, "
	    "the one with the red case\\\"\"}]"));
	assert_null(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"sync\","
	    "\"result\":\"fail\",\"detail\":\"is \\\"\\\\x01\\\\x02\\\\x03"
	    "\\\\x04\\\\x05\\\\x06\\\\x07\\\\x08\\\\x09\\\\x0a\\\"\"}]"));
	/* Identifier-like text in any detail. */
	assert_string_equal(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"model\","
	    "\"result\":\"pass\",\"detail\":\"imei 358240051111110\"}]"),
	    "detail carries what looks like an identifier");
	assert_non_null(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"model\","
	    "\"result\":\"pass\",\"detail\":\"bt 00:1A:7D:da:71:13\"}]"));
	assert_null(check(p, SCOPE_PERSONNEL, "[{\"rule\":\"model\","
	    "\"result\":\"pass\",\"detail\":\"connection to [2001:db8::1]:443"
	    " at 1733155200000\"}]"));
	/* A detail longer than any reason. */
	memset(detail, 'a', IDENT_DETAIL_MAX + 1);
	detail[IDENT_DETAIL_MAX + 1] = '\0';
	snprintf(res, sizeof res, "[{\"rule\":\"model\",\"result\":\"pass\","
	    "\"detail\":\"%s\"}]", detail);
	assert_non_null(check(p, SCOPE_PERSONNEL, res));
	detail[IDENT_DETAIL_MAX] = '\0';
	snprintf(res, sizeof res, "[{\"rule\":\"model\",\"result\":\"pass\","
	    "\"detail\":\"%s\"}]", detail);
	assert_null(check(p, SCOPE_PERSONNEL, res));
	profile_free(p);

	/* A denied key (a rule built by hand): no quote at all. */
	{
		struct rule r;
		struct profile hp;

		memset(&r, 0, sizeof r);
		memset(&hp, 0, sizeof hp);
		r.id = "sync";
		r.kind = RULE_SETTING;
		r.namespace = "secure";
		r.key = "android_id";
		r.expect = "0";
		hp.rules = &r;
		hp.nrules = 1;
		hp.scope = SCOPE_PERSONNEL;
		assert_non_null(check(&hp, SCOPE_PERSONNEL, "[{\"rule\":"
		    "\"sync\",\"result\":\"fail\",\"detail\":\"is \\\"ab\\\""
		    "\"}]"));
		assert_null(check(&hp, SCOPE_PERSONNEL, "[{\"rule\":\"sync\","
		    "\"result\":\"error\",\"detail\":\"not read\"}]"));
	}
}

static void
time_window(void **state)
{
	(void)state;
	assert_int_equal(reportcheck_earliest(100000, 3600),
	    100000 - ROLLUP_STALE_FACTOR * 3600);
	assert_int_equal(reportcheck_earliest(100000, 0),
	    100000 - ROLLUP_STALE_FACTOR * PROFILE_DEFAULT_REPORT_INTERVAL);
	/* Never narrower than the skew a clock may have. */
	assert_int_equal(reportcheck_earliest(100000, 60),
	    100000 - (ROLLUP_STALE_FACTOR * 60 > PROTO_REPORT_SKEW ?
	    ROLLUP_STALE_FACTOR * 60 : PROTO_REPORT_SKEW));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(marker_search),
		cmocka_unit_test(deny_list),
		cmocka_unit_test(profile_refuses),
		cmocka_unit_test(device_refuses),
		cmocka_unit_test(server_check),
		cmocka_unit_test(time_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
