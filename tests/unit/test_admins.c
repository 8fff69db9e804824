/*
 * admins: role names and lists, administrator names, credentials (64 hex
 * digits, BLAKE2b-256 of them as server.cfg's admin_token_hash is), the
 * constant-time match against every administrator, the role check of
 * each admin route, and the bootstrap that happens once in a store's
 * life, on a real SQLite store.
 */
#include "unit.h"
#include "unit_store.h"

#include <string.h>

#include <sodium.h>

#include "../../server/admins.h"
#include "../../server/route.h"
#include "../../include/muster/proto.h"

static void
roles_parse_format(void **state)
{
	struct muster_err e;
	char buf[ADMINS_ROLES_MAX];
	unsigned r;

	(void)state;
	assert_int_equal(admins_roles_parse("read", &r, &e), 0);
	assert_int_equal(r, ADMINS_ROLE_READ);
	assert_int_equal(admins_roles_parse("publish,revoke", &r, &e), 0);
	assert_int_equal(r, ADMINS_ROLE_PUBLISH | ADMINS_ROLE_REVOKE);
	assert_int_equal(admins_roles_parse("all", &r, &e), 0);
	assert_int_equal(r, ADMINS_ROLE_ALL);
	assert_string_equal(admins_roles_format(r, buf),
	    "publish,revoke,read,metrics");
	assert_int_equal(sizeof "publish,revoke,read,metrics",
	    ADMINS_ROLES_MAX);
	assert_string_equal(admins_roles_format(0, buf), "-");
	assert_int_equal(admins_roles_parse("metrics,read", &r, &e), 0);
	assert_string_equal(admins_roles_format(r, buf), "read,metrics");
	/* Anything else is refused, naming the word. */
	assert_int_equal(admins_roles_parse("root", &r, &e), MUSTER_EUSAGE);
	assert_non_null(strstr(e.msg, "\"root\""));
	assert_int_equal(admins_roles_parse("", &r, &e), MUSTER_EUSAGE);
	assert_int_equal(admins_roles_parse("read,", &r, &e), MUSTER_EUSAGE);
	assert_int_equal(admins_roles_parse(",read", &r, &e), MUSTER_EUSAGE);
	assert_int_equal(admins_roles_parse("Read", &r, &e), MUSTER_EUSAGE);
	assert_int_equal(admins_roles_parse("reader", &r, &e), MUSTER_EUSAGE);
	assert_int_equal(admins_roles_parse("rea", &r, &e), MUSTER_EUSAGE);
	assert_int_equal(r, 0);
	assert_string_equal(admins_role_name(ADMINS_ROLE_REVOKE), "revoke");
	assert_string_equal(admins_role_name(ADMINS_ROLE_ALL), "?");
}

static void
names(void **state)
{
	char long_name[STORE_ADMIN_NAME_MAX + 2];

	(void)state;
	assert_true(admins_name_ok("admin"));
	assert_true(admins_name_ok("a.b_c-9"));
	assert_true(admins_name_ok("9"));
	assert_false(admins_name_ok(""));
	assert_false(admins_name_ok(NULL));
	assert_false(admins_name_ok("-x"));
	assert_false(admins_name_ok(".x"));
	assert_false(admins_name_ok("Admin"));
	assert_false(admins_name_ok("a b"));
	assert_false(admins_name_ok("a\nb"));
	assert_false(admins_name_ok("a\x1b[31m"));
	assert_false(admins_name_ok("\xc3\xa9"));
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_false(admins_name_ok(long_name));
	long_name[STORE_ADMIN_NAME_MAX] = '\0';
	assert_true(admins_name_ok(long_name));
}

static void
tokens(void **state)
{
	unsigned char h[STORE_HASH_LEN], h2[STORE_HASH_LEN];
	char a[ADMINS_TOKEN_HEX], b[ADMINS_TOKEN_HEX];
	size_t i;

	(void)state;
	admins_token_new(a, h);
	admins_token_new(b, h2);
	assert_int_equal(strlen(a), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
	assert_memory_not_equal(h, h2, sizeof h);
	/* The hash is BLAKE2b-256 of the 64 digits: admin_token_hash's. */
	crypto_generichash(h2, sizeof h2, (unsigned char *)a, 64, NULL, 0);
	assert_memory_equal(h, h2, sizeof h);
	/* A known answer: BLAKE2b-256("abc"). */
	admins_token_hash("abc", 3, h);
	sodium_bin2hex(a, sizeof a, h, sizeof h);
	assert_string_equal(a, "bddd813c634239723171ef3fee98579b"
	    "94964e3bb1cb3e427262c8c068d52319");
}

/* Three administrators with credentials c[i] ("c0".."c2"). */
static void
three(struct store_admin l[3])
{
	static const char *const nm[] = { "alice", "bob", "carol" };
	static const unsigned r[] = { ADMINS_ROLE_READ, ADMINS_ROLE_PUBLISH,
	    ADMINS_ROLE_ALL };
	char c[3];
	int i;

	memset(l, 0, 3 * sizeof *l);
	for (i = 0; i < 3; i++) {
		snprintf(l[i].name, sizeof l[i].name, "%s", nm[i]);
		l[i].roles = r[i];
		snprintf(c, sizeof c, "c%d", i);
		admins_token_hash(c, 2, l[i].hash);
	}
}

static void
match(void **state)
{
	struct store_admin l[3];
	struct admins_who w;
	char big[ADMINS_CREDENTIAL_MAX + 16];

	(void)state;
	three(l);
	assert_int_equal(admins_match(l, 3, "Bearer c1", &w), 1);
	assert_string_equal(w.name, "bob");
	assert_int_equal(w.roles, ADMINS_ROLE_PUBLISH);
	assert_int_equal(admins_match(l, 3, "Bearer c2", &w), 1);
	assert_string_equal(w.name, "carol");
	/* Refused: unknown, empty, another scheme, no header, a prefix. */
	assert_int_equal(admins_match(l, 3, "Bearer c3", &w), 0);
	assert_string_equal(w.name, "");
	assert_int_equal(w.roles, 0);
	assert_int_equal(admins_match(l, 3, "Bearer ", &w), 0);
	assert_int_equal(admins_match(l, 3, "Basic c1", &w), 0);
	assert_int_equal(admins_match(l, 3, "bearer c1", &w), 0);
	assert_int_equal(admins_match(l, 3, "Bearer c1 ", &w), 0);
	assert_int_equal(admins_match(l, 3, "Bearer  c1", &w), 0);
	assert_int_equal(admins_match(l, 3, "Bearer c", &w), 0);
	assert_int_equal(admins_match(l, 3, NULL, &w), 0);
	assert_int_equal(admins_match(NULL, 0, "Bearer c1", &w), 0);
	/* Oversized credentials are refused before hashing. */
	memcpy(big, "Bearer ", 7);
	memset(big + 7, 'a', sizeof big - 8);
	big[sizeof big - 1] = '\0';
	assert_int_equal(admins_match(l, 3, big, &w), 0);
	/* A removed administrator: the list no longer holds it. */
	assert_int_equal(admins_match(l, 2, "Bearer c2", &w), 0);
}

/* The role each admin route needs, from the route table itself. */
static void
route_roles(void **state)
{
	(void)state;
	assert_int_equal(route_find(PROTO_PATH_ADMIN_PROFILE)->admin,
	    ADMINS_ROLE_PUBLISH);
	assert_int_equal(route_find(PROTO_PATH_ADMIN_MANIFEST)->admin,
	    ADMINS_ROLE_PUBLISH);
	assert_int_equal(route_find(PROTO_PATH_ADMIN_ROOT)->admin,
	    ADMINS_ROLE_PUBLISH);
	assert_int_equal(route_find(PROTO_PATH_ADMIN_REVOKE)->admin,
	    ADMINS_ROLE_REVOKE);
	assert_int_equal(route_find(PROTO_PATH_ADMIN_ROLLUP)->admin,
	    ADMINS_ROLE_READ);
	/* Device routes need no administrator. */
	assert_int_equal(route_find(PROTO_PATH_REPORT)->admin, 0);
	assert_int_equal(route_find(PROTO_PATH_ENROLL)->admin, 0);
	assert_int_equal(route_find(PROTO_PATH_HEALTHZ)->admin, 0);
}

/* The store: add, list, rotate, remove, and the one-time bootstrap. */
static void
store_admins(void **state)
{
	struct fx *f = *state;
	struct store_adm *sa = NULL;
	struct store_admin a, *l = NULL;
	struct admins_who w;
	struct muster_err e;
	unsigned char h0[STORE_HASH_LEN], h1[STORE_HASH_LEN];
	size_t n;
	int added;

	assert_int_equal(store_adm_open(f->data, 0, &sa, &e), 0);
	admins_token_hash("boot", 4, h0);
	assert_int_equal(admins_bootstrap(sa, h0, &added, &e), 0);
	assert_int_equal(added, 1);
	memset(&a, 0, sizeof a);
	snprintf(a.name, sizeof a.name, "ops");
	a.roles = ADMINS_ROLE_READ;
	admins_token_hash("ops1", 4, a.hash);
	a.created = a.rotated = 1000;
	assert_int_equal(store_admin_add(sa, &a, &e), 0);
	assert_int_equal(store_admin_add(sa, &a, &e), MUSTER_EDATA);
	assert_non_null(strstr(e.msg, "exists"));
	assert_int_equal(store_admin_list(sa, &l, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].name, "admin");
	assert_int_equal(l[0].roles, ADMINS_ROLE_ALL);
	assert_memory_equal(l[0].hash, h0, sizeof h0);
	assert_string_equal(l[1].name, "ops");
	assert_int_equal(admins_match(l, n, "Bearer ops1", &w), 1);
	free(l);

	/* Rotation: the old credential matches no more, the new one does. */
	admins_token_hash("ops2", 4, h1);
	assert_int_equal(store_admin_rotate(sa, "ops", h1, 2000, &e), 0);
	assert_int_equal(store_admin_rotate(sa, "nobody", h1, 2000, &e),
	    MUSTER_ENOINPUT);
	assert_int_equal(store_admin_list(sa, &l, &n, &e), 0);
	assert_int_equal(admins_match(l, n, "Bearer ops1", &w), 0);
	assert_int_equal(admins_match(l, n, "Bearer ops2", &w), 1);
	assert_int_equal(l[1].created, 1000);
	assert_int_equal(l[1].rotated, 2000);
	free(l);

	/* The bootstrap happens once: not after a removal, not with another hash. */
	assert_int_equal(store_admin_remove(sa, "admin", &e), 0);
	assert_int_equal(store_admin_remove(sa, "admin", &e), MUSTER_ENOINPUT);
	assert_int_equal(admins_bootstrap(sa, h0, &added, &e), 0);
	assert_int_equal(added, 0);
	assert_int_equal(store_admin_list(sa, &l, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(admins_match(l, n, "Bearer boot", &w), 0);
	free(l);
	store_adm_close(sa);

	/* And in another handle, as after a restart. */
	assert_int_equal(store_adm_open(f->data, 0, &sa, &e), 0);
	assert_int_equal(admins_bootstrap(sa, h1, &added, &e), 0);
	assert_int_equal(added, 0);
	store_adm_close(sa);
	/* A read-only handle reads, and writes nothing. */
	assert_int_equal(store_adm_open(f->data, 1, &sa, &e), 0);
	assert_int_equal(store_admin_list(sa, &l, &n, &e), 0);
	assert_int_equal(n, 1);
	free(l);
	assert_int_not_equal(store_admin_remove(sa, "ops", &e), 0);
	store_adm_close(sa);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roles_parse_format),
		cmocka_unit_test(names),
		cmocka_unit_test(tokens),
		cmocka_unit_test(match),
		cmocka_unit_test(route_roles),
		unit_store_test(store_admins),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
