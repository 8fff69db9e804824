/*
 * fuzz_console: what the console takes from outside, as a browser or an
 * attacker sends it and as a device's strings reach a page.
 *
 * The bytes are a form body (console_form_value: every key the console
 * asks for); a value it returns fits its buffer and holds no NUL.  The
 * same bytes, as device text, go through html_text: what comes out is
 * well-formed UTF-8 with no markup character, no control, bidi or
 * zero-width character, so no device string can open a tag, end an
 * attribute or reorder what a reader sees.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "muster/esc.h"
#include "../../server/console.h"
#include "../../server/html.h"
#include "fuzz.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
form(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "token", "csrf", "", "a" };
	char v[CONSOLE_FORM_VALUE_MAX + 1];
	size_t i;
	int rc;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		memset(v, 'Z', sizeof v);
		rc = console_form_value((const char *)data, size, keys[i], v,
		    sizeof v);
		FUZZ_ASSERT(rc >= -1 && rc <= 1, "form: rc %d", rc);
		if (rc == 1)
			FUZZ_ASSERT(memchr(v, '\0', sizeof v) != NULL,
			    "form: value not terminated");
		if (rc != 1)
			FUZZ_ASSERT(v[0] == '\0', "form: junk left on %d", rc);
	}
}

static void
text(const uint8_t *data, size_t size)
{
	struct muster_err e;
	struct html h;
	char *s, *out = NULL;
	size_t len, i;

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	html_init(&h, 0);
	html_markup(&h, "<td>");
	html_text(&h, s);
	html_markup(&h, "</td>");
	FUZZ_ASSERT(html_take(&h, &out, &len, &e) == 0, "html: %s", e.msg);
	FUZZ_ASSERT(len >= 9 && memcmp(out, "<td>", 4) == 0 &&
	    memcmp(out + len - 5, "</td>", 5) == 0, "html: frame broken");
	for (i = 4; i < len - 5; i++)
		FUZZ_ASSERT(out[i] != '<' && out[i] != '>' && out[i] != '"' &&
		    out[i] != '\'', "html: markup character at %zu", i);
	FUZZ_ASSERT(esc_text_strict_ok(out, len), "html: output has a "
	    "control, bidi or zero-width character, or is not UTF-8");
	free(out);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	form(data, size);
	text(data, size);
	return 0;
}
