/*
 * console: the page buffer (html), the charts (svg), the sign-in
 * sessions (console_session) and the form parser, as an attacker feeds
 * them: markup, controls, bidi and broken UTF-8 in device text; forged,
 * expired, evicted and rebound sessions; malformed forms.
 */
#include "unit.h"

#include <string.h>
#include <time.h>

#include <sodium.h>

#include <jansson.h>

#include "muster/profile.h"
#include "muster/proto.h"
#include "muster/report.h"
#include "../../server/console.h"
#include "../../server/reportcheck.h"
#include "../../server/console_session.h"
#include "../../server/html.h"
#include "../../server/svg.h"

static char *
esc(const char *s)
{
	struct muster_err e;
	struct html h;
	char *out;
	size_t len;

	html_init(&h, 0);
	html_text(&h, s);
	assert_int_equal(html_take(&h, &out, &len, &e), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

#define ESC_IS(in, want) do {						\
	char *got_ = esc(in);						\
	assert_string_equal(got_, want);				\
	free(got_);							\
} while (0)

static void
html_escapes(void **state)
{
	(void)state;
	ESC_IS("<script>alert(1)</script>",
	    "&lt;script&gt;alert(1)&lt;/script&gt;");
	ESC_IS("a\"b'c&d", "a&quot;b&#39;c&amp;d");
	ESC_IS("=HYPERLINK(\"http://x/\",\"y\")",
	    "=HYPERLINK(&quot;http://x/&quot;,&quot;y&quot;)");
	/* C0, DEL, C1, bidi, zero-width, BOM, broken UTF-8: U+FFFD. */
	ESC_IS("a\x1b[2Jb", "a\xef\xbf\xbd[2Jb");
	ESC_IS("a\x7f", "a\xef\xbf\xbd");
	ESC_IS("a\xc2\x85" "b", "a\xef\xbf\xbd" "b");
	ESC_IS("HM\xe2\x80\xae" "1S", "HM\xef\xbf\xbd" "1S");
	ESC_IS("HM\xe2\x80\x8b" "1S", "HM\xef\xbf\xbd" "1S");
	ESC_IS("\xef\xbb\xbfHM", "\xef\xbf\xbdHM");
	ESC_IS("a\xff" "b", "a\xef\xbf\xbd" "b");
	ESC_IS("a\xc0\xaf", "a\xef\xbf\xbd\xef\xbf\xbd");
	ESC_IS("a\xe2\x80", "a\xef\xbf\xbd\xef\xbf\xbd");
	/* Letters of any script stay as they are. */
	ESC_IS("Esquadr\xc3\xa3o 17", "Esquadr\xc3\xa3o 17");
	ESC_IS("", "");
}

static void
html_query_and_cap(void **state)
{
	struct muster_err e;
	struct html h;
	char *out;
	size_t len, i;

	(void)state;
	html_init(&h, 0);
	html_query(&h, "IAF/25 Wing&x=\"<\xc3\xa3");
	assert_int_equal(html_take(&h, &out, &len, &e), 0);
	assert_string_equal(out, "IAF%2F25%20Wing%26x%3D%22%3C%C3%A3");
	free(out);
	/* A page past its cap is refused as a whole, never cut. */
	html_init(&h, 64);
	for (i = 0; i < 100; i++)
		html_markup(&h, "<p>");
	assert_int_equal(html_take(&h, &out, &len, &e), MUSTER_EINTERNAL);
	assert_null(out);
	html_free(&h);
	/* An empty page is a page. */
	html_init(&h, 0);
	assert_int_equal(html_take(&h, &out, &len, &e), 0);
	assert_string_equal(out, "");
	free(out);
}

static void
svg_charts(void **state)
{
	struct svg_point p[3] = { { 1000, 50 }, { 2000, -1 }, { 3000, 75 } };
	struct muster_err e;
	struct html h;
	char *out;
	size_t len;

	(void)state;
	html_init(&h, 0);
	assert_int_equal(svg_trend(&h, "x", p, 0), -1);
	assert_int_equal(svg_trend(&h, "x", p, SVG_POINTS_MAX + 1), -1);
	assert_int_equal(svg_trend(&h, "<b>\"", p, 3), 0);
	svg_bar(&h, 250);
	assert_int_equal(html_take(&h, &out, &len, &e), 0);
	assert_non_null(strstr(out, "<title>&lt;b&gt;&quot;</title>"));
	assert_null(strstr(out, "<b>"));
	/* The point with no data breaks the line: two M moves. */
	assert_non_null(strstr(out, "no data"));
	assert_non_null(strstr(strstr(out, " d=\"M") + 4, "M"));
	/* Clamped bar. */
	assert_non_null(strstr(out, "<rect width=\"100.0\""));
	assert_null(strstr(out, "style="));
	free(out);
}

static unsigned char cred_a[CONSOLE_CRED_BYTES], cred_b[CONSOLE_CRED_BYTES];

static void
sessions(void **state)
{
	char id[CONSOLE_SECRET_B64], csrf[CONSOLE_SECRET_B64];
	char id2[CONSOLE_SECRET_B64], csrf2[CONSOLE_SECRET_B64];
	char got[CONSOLE_SECRET_B64], forged[CONSOLE_SECRET_B64];
	time_t t0 = 1800000000;

	(void)state;
	memset(cred_a, 'a', sizeof cred_a);
	memset(cred_b, 'b', sizeof cred_b);
	console_session_clear();
	assert_int_equal(console_session_new(cred_a, t0, id, csrf), 0);
	assert_int_equal(strlen(id), 43);
	assert_int_equal(strlen(csrf), 43);
	assert_string_not_equal(id, csrf);
	assert_true(console_session_check(id, cred_a, t0 + 1, got));
	assert_string_equal(got, csrf);
	/* Forged, truncated, NULL ids; another credential ends it. */
	memcpy(forged, id, sizeof forged);
	forged[0] = forged[0] == 'A' ? 'B' : 'A';
	assert_false(console_session_check(forged, cred_a, t0 + 2, NULL));
	assert_false(console_session_check("short", cred_a, t0 + 2, NULL));
	assert_false(console_session_check(NULL, cred_a, t0 + 2, NULL));
	assert_false(console_session_csrf_ok(id, "wrong"));
	assert_false(console_session_csrf_ok(id, forged));
	assert_true(console_session_csrf_ok(id, csrf));
	assert_false(console_session_csrf_ok(forged, csrf));
	assert_false(console_session_check(id, cred_b, t0 + 3, NULL));
	assert_false(console_session_check(id, cred_a, t0 + 4, NULL));
	/* Idle: used within 15 min lives on; 15 min and a second ends it. */
	assert_int_equal(console_session_new(cred_a, t0, id, csrf), 0);
	assert_true(console_session_check(id, cred_a, t0 + 800, NULL));
	assert_true(console_session_check(id, cred_a, t0 + 1600, NULL));
	assert_false(console_session_check(id, cred_a,
	    t0 + 1600 + CONSOLE_SESSION_IDLE + 1, NULL));
	/* Absolute: 8 h however busy. */
	assert_int_equal(console_session_new(cred_a, t0, id, csrf), 0);
	{
		time_t t;

		for (t = t0; t < t0 + CONSOLE_SESSION_MAX_AGE; t += 600)
			assert_true(console_session_check(id, cred_a, t,
			    NULL));
	}
	assert_false(console_session_check(id, cred_a,
	    t0 + CONSOLE_SESSION_MAX_AGE + 1, NULL));
	/* Sign-out. */
	assert_int_equal(console_session_new(cred_a, t0, id, csrf), 0);
	console_session_end(id);
	assert_false(console_session_check(id, cred_a, t0, NULL));
	/* A full table evicts the least recently used, not the others. */
	console_session_clear();
	assert_int_equal(console_session_new(cred_a, t0, id, csrf), 0);
	assert_int_equal(console_session_new(cred_a, t0, id2, csrf2), 0);
	assert_true(console_session_check(id2, cred_a, t0 + 5, NULL));
	{
		char x[CONSOLE_SECRET_B64], y[CONSOLE_SECRET_B64];
		int i;

		for (i = 0; i < CONSOLE_SESSIONS_MAX - 1; i++)
			assert_int_equal(console_session_new(cred_a, t0 + 10,
			    x, y), 0);
	}
	assert_false(console_session_check(id, cred_a, t0 + 20, NULL));
	assert_true(console_session_check(id2, cred_a, t0 + 20, NULL));
	console_session_clear();
	assert_false(console_session_check(id2, cred_a, t0 + 21, NULL));
}

static void
forms(void **state)
{
	char v[64];
	static const char *const bad[] = {
		"token=a%", "token=a%2", "token=a%zz", "token=a%00b",
		"token=a&token=b", "%=x", "a%0=1&token=x",
	};
	size_t i;
	char many[256], big[2048];

	(void)state;
	assert_int_equal(console_form_value("token=abc", 9, "token", v,
	    sizeof v), 1);
	assert_string_equal(v, "abc");
	assert_int_equal(console_form_value("csrf=x&token=a+b%2Bc%3d", 23,
	    "token", v, sizeof v), 1);
	assert_string_equal(v, "a b+c=");
	assert_int_equal(console_form_value("token", 5, "token", v,
	    sizeof v), 1);
	assert_string_equal(v, "");
	assert_int_equal(console_form_value("csrf=x", 6, "token", v,
	    sizeof v), 0);
	assert_int_equal(console_form_value("", 0, "token", v, sizeof v), 0);
	/* Not NUL-terminated: only len bytes are read. */
	assert_int_equal(console_form_value("token=abcdef", 8, "token", v,
	    sizeof v), 1);
	assert_string_equal(v, "ab");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(console_form_value(bad[i], strlen(bad[i]),
		    "token", v, sizeof v), -1);
	/* Longer than the caller's buffer, or than any value may be. */
	memset(big, 'x', sizeof big);
	memcpy(big, "token=", 6);
	assert_int_equal(console_form_value(big, 6 + 64, "token", v,
	    sizeof v), -1);
	assert_int_equal(console_form_value(big, 6 + 63, "token", v,
	    sizeof v), 1);
	assert_int_equal(console_form_value(big, sizeof big, "csrf", v,
	    sizeof v), -1);
	/* More than 16 fields. */
	many[0] = '\0';
	for (i = 0; i < 17; i++)
		strcat(many, "a=b&");
	assert_int_equal(console_form_value(many, strlen(many), "token", v,
	    sizeof v), -1);
}

/* The server's check of device strings: the model, a result's detail. */
static void
device_text(void **state)
{
	static const char *const bad[] = {
		"Xiaomi HM\xe2\x80\xae" "1SW", "HM\xe2\x80\x8b" "1SW",
		"HM\xc2\x85", "HM\x1b[31m", "\xef\xbb\xbfHM", "HM\xd8\x9c",
		"HM\xff",
	};
	struct profile *p = NULL;
	struct muster_err e;
	char *text = NULL, buf[512];
	size_t len, i;
	json_t *o;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(reportcheck_text_ok(bad[i]));
	assert_false(reportcheck_text_ok(NULL));
	assert_true(reportcheck_text_ok("Xiaomi HM 1SW"));
	assert_true(reportcheck_text_ok("=HYPERLINK(\"x\")<script>"));
	/* A detail with a bidi override is refused by the report check. */
	text = unit_slurp("profiles/iaf-personnel.cfg", &len);
	assert_int_equal(profile_parse("p", text, len, &p, &e), 0);
	snprintf(buf, sizeof buf, "{\"results\":[{\"rule\":\"%s\","
	    "\"result\":\"fail\",\"detail\":\"Android 4.4.2 %s 4.4.4\"}]}",
	    p->rules[p->nrules - 1].id, "\\u202e<");
	assert_non_null(o = proto_json_parse(buf, strlen(buf),
	    REPORT_JSON_DEPTH));
	assert_string_equal(reportcheck_profile(p, SCOPE_PERSONNEL, o),
	    "detail holds a control, bidi or invisible character");
	json_decref(o);
	snprintf(buf, sizeof buf, "{\"results\":[{\"rule\":\"%s\","
	    "\"result\":\"fail\",\"detail\":\"Android 4.4.2 < 4.4.4\"}]}",
	    p->rules[p->nrules - 1].id);
	assert_non_null(o = proto_json_parse(buf, strlen(buf),
	    REPORT_JSON_DEPTH));
	assert_null(reportcheck_profile(p, SCOPE_PERSONNEL, o));
	json_decref(o);
	profile_free(p);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(html_escapes),
		cmocka_unit_test(html_query_and_cap),
		cmocka_unit_test(svg_charts),
		cmocka_unit_test(sessions),
		cmocka_unit_test(forms),
		cmocka_unit_test(device_text),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
