/* proto: the JSON gate both sides of the wire share; see muster/proto.h. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/profile.h"
#include "muster/proto.h"

/*
 * jansson 2.14 does not always say that an allocation failed: its lexer
 * turns a string it cannot copy into a syntax error, and under
 * test_fault_inject a parse that lost an allocation returned an object
 * without its "device" member.  Either made the server answer a good
 * report 400 when short of memory, and a device drops a report refused
 * 4xx.  jansson's allocations go through json_malloc, which notes a
 * failure for this thread: a parse during which one failed is ENOMEM,
 * whatever jansson returned.
 */
static _Thread_local int json_oom;
static pthread_once_t json_alloc_once = PTHREAD_ONCE_INIT;

static void *
json_malloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		json_oom = 1;
	return p;
}

static void
json_alloc_init(void)
{
	json_set_alloc_funcs(json_malloc, free);
}

json_t *
proto_json_parse(const char *buf, size_t len, int depth)
{
	json_error_t err;
	json_t *o;
	size_t i;
	int d = 0, in_str = 0, esc = 0;

	errno = 0;
	pthread_once(&json_alloc_once, json_alloc_init);
	json_oom = 0;
	for (i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (buf[i] == '\\')
				esc = 1;
			else if (buf[i] == '"')
				in_str = 0;
		} else if (buf[i] == '"')
			in_str = 1;
		else if (buf[i] == '{' || buf[i] == '[') {
			if (++d > depth)
				return NULL;
		} else if (buf[i] == '}' || buf[i] == ']')
			d--;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &err);
	if (json_oom) {
		/* Whatever jansson made of a parse it could not allocate. */
		json_decref(o);
		errno = ENOMEM;
		return NULL;
	}
	if (o == NULL) {
		if (json_error_code(&err) == json_error_out_of_memory)
			errno = ENOMEM;
	} else if (!json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

const char *
proto_json_str(json_t *o, const char *key, size_t *len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return NULL;
	if (len != NULL)
		*len = json_string_length(v);
	/* An embedded NUL (\u0000) is refused by json_loadb already. */
	return json_string_value(v);
}

int
proto_json_keys_ok(json_t *o, const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return 0;
	}
	return 1;
}

int
proto_json_int(json_t *o, const char *key, long long lo, long long hi,
    long long *v)
{
	json_t *j = json_object_get(o, key);

	if (!json_is_integer(j))
		return -1;
	*v = json_integer_value(j);
	return *v >= lo && *v <= hi ? 0 : -1;
}

int
proto_id_ok(const char *s)
{
	return profile_valid_id(s);
}

int
proto_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
proto_hex_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[len] == '\0';
}

void
proto_policy_tag(char buf[PROTO_POLICY_TAG_MAX], int64_t root,
    int64_t manifest)
{
	snprintf(buf, PROTO_POLICY_TAG_MAX, "%lld:%lld", (long long)root,
	    (long long)manifest);
}

/* A version of a policy tag: 0 .. INT32_MAX, decimal, no leading zero;
 * what follows it, or NULL. */
static const char *
tag_version(const char *s)
{
	long long v = 0;
	size_t n = 0;

	if (s[0] == '0')
		return s + 1;
	while (s[n] >= '0' && s[n] <= '9' && n < 10)
		v = v * 10 + (s[n++] - '0');
	return n == 0 || v > INT32_MAX ? NULL : s + n;
}

int
proto_policy_tag_ok(const char *s)
{
	const char *q;

	return strlen(s) < PROTO_POLICY_TAG_MAX &&
	    (q = tag_version(s)) != NULL && *q == ':' &&
	    (q = tag_version(q + 1)) != NULL && *q == '\0';
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int
proto_sort_has_dup(const char **v, size_t n)
{
	size_t i;

	if (n < 2)
		return 0;
	qsort(v, n, sizeof *v, cmp_str);
	for (i = 1; i < n; i++)
		if (strcmp(v[i - 1], v[i]) == 0)
			return 1;
	return 0;
}
