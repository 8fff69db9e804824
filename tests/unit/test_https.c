/*
 * Unit tests for lib/https.c, the pinned libcurl client of the reporter
 * and of muster-enroll: the sink keeps at most max bytes, NUL-terminated,
 * and past that either fails the transfer or reads on keeping nothing;
 * header lists grow; an exchange with nobody listening stops at the
 * transfer, not before, and one that is not https is refused.
 */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "muster/https.h"

#define PIN	"sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void
test_sink_fails_over_max(void **state)
{
	struct https_sink s = { NULL, 0, 0, 10, 0, 0 };
	char chunk[8] = "abcdefg";

	(void)state;
	assert_int_equal(https_sink_write(chunk, 1, 7, &s), 7);
	assert_string_equal(s.buf, "abcdefg");
	assert_int_equal(https_sink_write(chunk, 1, 3, &s), 3);
	assert_int_equal(s.len, 10);
	assert_string_equal(s.buf, "abcdefgabc");
	assert_false(s.over);
	/* One byte more fails the transfer. */
	assert_int_equal(https_sink_write(chunk, 1, 1, &s), 0);
	assert_true(s.over);
	assert_int_equal(s.len, 10);
	free(s.buf);
}

static void
test_sink_discards_over_max(void **state)
{
	struct https_sink s = { NULL, 0, 0, 10, 1, 0 };
	char chunk[8] = "abcdefg";

	(void)state;
	assert_int_equal(https_sink_write(chunk, 1, 7, &s), 7);
	/* A chunk that does not fit is read and dropped whole ... */
	assert_int_equal(https_sink_write(chunk, 1, 7, &s), 7);
	assert_true(s.over);
	/* ... and so is everything after it, even what would fit. */
	assert_int_equal(https_sink_write(chunk, 1, 1, &s), 1);
	assert_int_equal(s.len, 7);
	assert_string_equal(s.buf, "abcdefg");
	free(s.buf);
}

static void
test_header_add(void **state)
{
	struct curl_slist *l = NULL;

	(void)state;
	assert_int_equal(https_header_add(&l, "Expect:"), 0);
	assert_int_equal(https_header_add(&l, "Accept: application/json"),
	    0);
	assert_non_null(l);
	assert_string_equal(l->data, "Expect:");
	assert_string_equal(l->next->data, "Accept: application/json");
	assert_null(l->next->next);
	curl_slist_free_all(l);
}

static void
exchange(const char *url, int isolated, struct https_result *r)
{
	struct https_sink s = { NULL, 0, 0, 1024, 0, 0 };
	char errbuf[CURL_ERROR_SIZE];
	struct https_opts o;

	memset(&o, 0, sizeof o);
	o.url = url;
	o.pin = PIN;
	o.isolated = isolated;
	o.connect_timeout = 5;
	o.timeout = 5;
	o.user_agent = "test_https";
	o.post = 1;
	o.body = "{}";
	o.body_len = 2;
	o.sink = &s;
	o.errbuf = errbuf;
	assert_int_equal(https_exchange(&o, r), -1);
	assert_int_equal(r->stage, HTTPS_PERFORM);
	assert_null(s.buf);
}

static void
test_exchange_refuses(void **state)
{
	struct https_result r;

	(void)state;
	/* Port 1 on loopback: nobody there. */
	exchange("https://127.0.0.1:1/v1/report", 1, &r);
	assert_int_equal(r.cc, CURLE_COULDNT_CONNECT);
	exchange("https://127.0.0.1:1/v1/report", 0, &r);
	assert_int_equal(r.cc, CURLE_COULDNT_CONNECT);
	/* Only https. */
	exchange("http://127.0.0.1:1/v1/report", 1, &r);
	assert_int_equal(r.cc, CURLE_UNSUPPORTED_PROTOCOL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_fails_over_max),
		cmocka_unit_test(test_sink_discards_over_max),
		cmocka_unit_test(test_header_add),
		cmocka_unit_test(test_exchange_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
