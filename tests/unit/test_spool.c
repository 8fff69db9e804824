/*
 * Unit tests for agent/spool.c (and the device key it signs with): seqs
 * persist and never repeat, reports list in numeric seq order, sent/
 * keeps the newest SPOOL_SENT_KEEP, a full spool drops the oldest and
 * counts them (and what they carried), debris of interrupted writes is
 * tidied, and a damaged signature file is refused.  Also agent.cfg's
 * extended fields, damaged agent.cfg and last-check.cfg files refused
 * with their line, and the device key's life: made once, 0600, signs,
 * wiped.
 */
#include "unit.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/err.h"
#include "muster/fs.h"
#include "muster/profile.h"
#include "../../agent/state.h"
#include "../../agent/devkey.h"
#include "muster/report.h"
#include "../../agent/spool.h"

#define SIG	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="

static int
setup(void **state)
{
	char *d = malloc(UNIT_TMPDIR_MAX);

	if (d == NULL || unit_tmpdir(d, "spool") != 0) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	int rc;

	rc = unit_rmtree(*state);
	free(*state);
	return rc;
}

/* Spools a minimal report with seq and dropped. */
static void
put(const char *dir, int64_t seq, int64_t dropped)
{
	struct report_in in;
	struct muster_err e;
	char *json = NULL;
	size_t len;

	memset(&in, 0, sizeof in);
	in.scope = SCOPE_FAMILY;
	in.device = "0123456789abcdef0123456789abcdef";
	in.seq = seq;
	in.time = 1795255200;
	in.profile = "p";
	in.serial = 1;
	in.compliant = 1;
	in.dropped = dropped;
	assert_int_equal(report_build(&in, &json, &len, &e), 0);
	assert_int_equal(spool_put(dir, seq, json, len, SIG, &e), 0);
	free(json);
}

static void
list_is(const char *dir, enum spool_which w, const int64_t *want, size_t n)
{
	struct muster_err e;
	int64_t *v = NULL;
	size_t got, i;

	assert_int_equal(spool_list(dir, w, &v, &got, &e), 0);
	assert_int_equal(got, n);
	for (i = 0; i < n; i++)
		assert_int_equal(v[i], want[i]);
	free(v);
}

static void
touch(const char *dir, const char *name)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fclose(f);
}

static int
exists(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return lstat(path, &st) == 0;
}

static void
test_seq(void **state)
{
	const char *d = *state;
	struct muster_err e;
	struct stat st;
	char path[256];
	int64_t s;

	assert_int_equal(spool_seq_get(d, &s, &e), 0);
	assert_int_equal(s, 0);
	assert_int_equal(spool_seq_next(d, &s, &e), 0);
	assert_int_equal(s, 1);
	assert_int_equal(spool_seq_next(d, &s, &e), 0);
	assert_int_equal(s, 2);
	assert_int_equal(spool_seq_get(d, &s, &e), 0);
	assert_int_equal(s, 2);
	snprintf(path, sizeof path, "%s/%s", d, SPOOL_SEQ_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A damaged seq file stops, rather than restart at 1. */
	assert_int_equal(fs_write_atomic(path, "x\n", 2, 0600, &e), 0);
	assert_int_equal(spool_seq_next(d, &s, &e), MUSTER_ECONFIG);
	assert_int_equal(fs_write_atomic(path, "-4\n", 3, 0600, &e), 0);
	assert_int_equal(spool_seq_next(d, &s, &e), MUSTER_ECONFIG);
}

static void
test_order(void **state)
{
	const char *d = *state;
	struct muster_err e;
	char sub[256], *json = NULL, sig[DEVKEY_SIG_B64];
	size_t len;
	static const int64_t want[] = { 1, 2, 9, 10, 100 };

	assert_int_equal(spool_init(d, &e), 0);
	put(d, 10, 0);
	put(d, 2, 0);
	put(d, 100, 0);
	put(d, 1, 0);
	put(d, 9, 0);
	/* Not reports: ignored. */
	snprintf(sub, sizeof sub, "%s/%s", d, SPOOL_PENDING_DIR);
	touch(sub, "011.json");
	touch(sub, "x.json");
	touch(sub, "12.json~");
	list_is(d, SPOOL_PENDING, want, 5);
	assert_int_equal(spool_read(d, SPOOL_PENDING, 9, &json, &len, sig, &e),
	    0);
	assert_non_null(strstr(json, "\"seq\":9,"));
	assert_string_equal(sig, SIG);
	free(json);
	assert_int_equal(spool_read(d, SPOOL_PENDING, 3, &json, &len, sig, &e),
	    MUSTER_ENOINPUT);
}

static void
test_done_and_sent_bound(void **state)
{
	const char *d = *state;
	struct muster_err e;
	char ack[SPOOL_ACK_MAX];
	int64_t want[SPOOL_SENT_KEEP], i;
	size_t n;

	assert_int_equal(spool_init(d, &e), 0);
	for (i = 1; i <= 40; i++)
		put(d, i, 0);
	assert_int_equal(spool_done(d, 1, "delivered 202 t", &e), 0);
	spool_ack(d, 1, ack, sizeof ack);
	assert_string_equal(ack, "delivered 202 t");
	assert_int_equal(spool_pending(d, &n, &e), 0);
	assert_int_equal(n, 39);
	for (i = 2; i <= 40; i++)
		assert_int_equal(spool_done(d, i, "delivered 202 t", &e), 0);
	for (i = 0; i < SPOOL_SENT_KEEP; i++)
		want[i] = 40 - SPOOL_SENT_KEEP + 1 + i;
	list_is(d, SPOOL_SENT, want, SPOOL_SENT_KEEP);
	list_is(d, SPOOL_PENDING, NULL, 0);
	/* The pruned ones are gone with their .sig and .ack. */
	assert_false(exists(d, "sent/1.sig"));
	assert_false(exists(d, "sent/1.ack"));
	assert_true(exists(d, "sent/40.sig"));
}

static void
test_make_room(void **state)
{
	const char *d = *state;
	struct muster_err e;
	int64_t dropped, i;
	size_t nd;
	static const int64_t want[] = { 4, 5, 6, 7 };

	assert_int_equal(SPOOL_MAX, 1000);
	assert_int_equal(spool_init(d, &e), 0);
	for (i = 1; i <= 7; i++)
		put(d, i, i == 2 ? 5 : 0);	/* report 2 carried 5 drops */
	/* Room for one more under a bound of 5: the 3 oldest go. */
	assert_int_equal(spool_make_room(d, 5, &nd, &e), 0);
	assert_int_equal(nd, 3);
	list_is(d, SPOOL_PENDING, want, 4);
	assert_int_equal(spool_dropped_get(d, &dropped, &e), 0);
	assert_int_equal(dropped, 3 + 5);
	/* Under the bound: nothing happens. */
	assert_int_equal(spool_make_room(d, 5, &nd, &e), 0);
	assert_int_equal(nd, 0);
	assert_int_equal(spool_dropped_get(d, &dropped, &e), 0);
	assert_int_equal(dropped, 8);
	assert_int_equal(spool_dropped_set(d, 0, &e), 0);
	assert_int_equal(spool_dropped_get(d, &dropped, &e), 0);
	assert_int_equal(dropped, 0);
}

static void
test_tidy_and_damage(void **state)
{
	const char *d = *state;
	struct muster_err e;
	char sub[256], path[512], *json = NULL, sig[DEVKEY_SIG_B64];
	size_t len;

	assert_int_equal(spool_init(d, &e), 0);
	put(d, 1, 0);
	snprintf(sub, sizeof sub, "%s/%s", d, SPOOL_PENDING_DIR);
	touch(sub, "2.sig");			/* crash before 2.json */
	touch(sub, "3.json.tmp.0011223344556677");
	assert_int_equal(spool_init(d, &e), 0);
	assert_false(exists(sub, "2.sig"));
	assert_false(exists(sub, "3.json.tmp.0011223344556677"));
	assert_true(exists(sub, "1.sig"));
	/* A damaged signature file is refused, not sent. */
	snprintf(path, sizeof path, "%s/1.sig", sub);
	assert_int_equal(fs_write_atomic(path, "short\n", 6, 0600, &e), 0);
	assert_int_equal(spool_read(d, SPOOL_PENDING, 1, &json, &len, sig, &e),
	    MUSTER_EDATA);
	assert_null(json);
}

static void
test_devkey(void **state)
{
	const char *d = *state;
	struct sig_seckey *a = NULL, *b = NULL;
	struct muster_err e;
	struct stat st;
	char path[256], s[DEVKEY_SIG_B64], pa[DEVKEY_PK_B64], pb[DEVKEY_PK_B64];
	char hdr[512];

	assert_int_equal(devkey_load(d, &a, &e), MUSTER_ECONFIG);
	assert_int_equal(devkey_create(d, &a, &e), 0);
	snprintf(path, sizeof path, "%s/%s", d, DEVKEY_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A second create (an enrollment retried) keeps the same key. */
	assert_int_equal(devkey_create(d, &b, &e), 0);
	devkey_pubkey_b64(a, pa);
	devkey_pubkey_b64(b, pb);
	assert_string_equal(pa, pb);
	devkey_sign(a, "body", 4, s);
	assert_int_equal(devkey_verify(b, "body", 4, s), 0);
	assert_int_equal(devkey_verify(b, "bodY", 4, s), -1);
	assert_int_equal(devkey_verify(b, "body", 4, "AAAA"), -1);
	assert_int_equal(devkey_get_headers(a, "0123456789abcdef0123456789abcdef",
	    "/v1/profile", "2026-11-21T10:00:00Z", hdr, sizeof hdr), 0);
	assert_non_null(strstr(hdr, "Muster-Time: 2026-11-21T10:00:00Z\n"));
	devkey_sign(a, "muster-get-v1\n/v1/profile\n2026-11-21T10:00:00Z\n",
	    47, s);
	assert_non_null(strstr(hdr, s));
	/* Others may not read it. */
	chmod(path, 0644);
	sig_seckey_free(b);
	b = NULL;
	assert_int_equal(devkey_load(d, &b, &e), MUSTER_ECONFIG);
	chmod(path, 0600);
	assert_int_equal(devkey_wipe(d, &e), 0);
	assert_false(exists(d, DEVKEY_FILE));
	assert_int_equal(devkey_wipe(d, &e), MUSTER_ENOINPUT);
	sig_seckey_free(a);
}

static void
test_cfg(void **state)
{
	const char *d = *state;
	struct state_cfg c, got;
	struct muster_err e;

	memset(&c, 0, sizeof c);
	c.scope = SCOPE_FAMILY;
	snprintf(c.key_id, sizeof c.key_id, "45E170CAFF09B51C");
	assert_int_equal(state_cfg_store(d, &c, &e), 0);
	assert_int_equal(state_cfg_load(d, &got, &e), 0);
	assert_int_equal(got.scope, SCOPE_FAMILY);
	assert_string_equal(got.device_id, "");
	snprintf(c.server, sizeof c.server, "https://127.0.0.1:8443");
	snprintf(c.pin, sizeof c.pin,
	    "sha256//4GNqy/7jNrj2xws2r4IXoiqaPQnF5Heac7v62jkYR5o=");
	snprintf(c.device_id, sizeof c.device_id,
	    "0123456789abcdef0123456789abcdef");
	snprintf(c.profile_id, sizeof c.profile_id, "family-optin");
	assert_int_equal(state_cfg_store(d, &c, &e), 0);
	assert_int_equal(state_cfg_load(d, &got, &e), 0);
	assert_memory_equal(&got, &c, sizeof c);
	/* Nothing malformed is written... */
	snprintf(c.device_id, sizeof c.device_id, "0123\"; pin = \"x");
	assert_int_equal(state_cfg_store(d, &c, &e), MUSTER_EINTERNAL);
	snprintf(c.device_id, sizeof c.device_id,
	    "0123456789ABCDEF0123456789abcdef");
	assert_int_equal(state_cfg_store(d, &c, &e), MUSTER_EINTERNAL);
	snprintf(c.device_id, sizeof c.device_id,
	    "0123456789abcdef0123456789abcdef");
	snprintf(c.server, sizeof c.server, "http://127.0.0.1:8443");
	assert_int_equal(state_cfg_store(d, &c, &e), MUSTER_EINTERNAL);
	/* ...nor read. */
	{
		char path[256];
		const char *bad = "scope = \"personnel\";\nkey_id = "
		    "\"45E170CAFF09B51C\";\npin = \"sha256//x\";\n";

		snprintf(path, sizeof path, "%s/%s", d, STATE_CFG);
		assert_int_equal(fs_write_atomic(path, bad, strlen(bad), 0600,
		    &e), 0);
		assert_int_equal(state_cfg_load(d, &got, &e), MUSTER_ECONFIG);
		assert_non_null(strstr(e.msg, "pin"));
	}
}

/*
 * agent.cfg and last-check.cfg are read with cfgtree: a truncated, an
 * including, a mistyped or a NUL-carrying file is a damaged state
 * (MUSTER_ECONFIG, the file and line named), never a crash or a guess.
 */
static void
test_cfg_damaged(void **state)
{
	static const struct {
		const char	*file, *text;
		size_t		 len;	/* 0: strlen */
		const char	*want;
	} cases[] = {
		{ STATE_CFG, "scope = \"pers", 0, ":1: unterminated string" },
		{ STATE_CFG, "scope = \"personnel\";\n@include \"/etc/x\"\n",
		    0, ":2: directive \"@\" not allowed" },
		{ STATE_CFG, "scope = 1;\n", 0, "missing or bad \"scope\"" },
		{ STATE_CFG, "scope = \"personnel\"; scope = \"family\";", 0,
		    ":1: duplicate setting name" },
		{ STATE_CFG, "scope = \"per\0sonnel\";", 20, "NUL byte" },
		{ STATE_LASTCHECK, "time = \"2026-12-03T00:00:00Z\";\n"
		    "status = \"compliant\";\npass = 1;\nfail = -1;\n"
		    "remediated = 0;\nerror = 0;\n", 0, "damaged" },
		{ STATE_LASTCHECK, "time = \"2026-12-03T00:00:00Z\";\n"
		    "status = \"compliant\";\npass = 1;\nfail = \"0\";\n"
		    "remediated = 0;\nerror = 0;\n", 0, "damaged" },
		{ STATE_LASTCHECK, "time = \"2026-12-03T00:00:00Z\";\n"
		    "status = \"compliant\";\npass = 1;\nfail = 0", 0,
		    "damaged" },
		{ STATE_LASTCHECK, "time = \"2026-12-03T00:00:00Z\"\n"
		    "status = ;\n", 0, ":2: syntax error" },
	};
	const char *d = *state;
	struct state_cfg got;
	struct state_lastcheck l;
	struct muster_err e;
	char path[256];
	size_t i, len;
	int rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", d, cases[i].file);
		len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].text);
		assert_int_equal(fs_write_atomic(path, cases[i].text, len,
		    0600, &e), 0);
		if (strcmp(cases[i].file, STATE_CFG) == 0)
			rc = state_cfg_load(d, &got, &e);
		else
			rc = state_lastcheck_load(d, &l, &e);
		if (rc != MUSTER_ECONFIG || strstr(e.msg, cases[i].want) ==
		    NULL || strstr(e.msg, cases[i].file) == NULL)
			fail_msg("case %zu: %d %s (want %s)", i, rc, e.msg,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_done_and_sent_bound,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_make_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tidy_and_damage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_devkey, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cfg, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cfg_damaged, setup,
		    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
