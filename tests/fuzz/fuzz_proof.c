/*
 * fuzz_proof: the proof file `muster-server verify-report` reads
 * (server/proof.c) on arbitrary bytes.  Each input goes, whole, to
 * proof_parse; what parses is checked (proof_check: any outcome, never a
 * crash), written again (proof_json) and read back to the same fields,
 * and its check does not change on the way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../../server/proof.h"
#include "fuzz.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_proof p, q;
	struct muster_err e;
	enum proof_check c;
	char *text = NULL;
	size_t len;

	if (proof_parse((const char *)data, size, &p, &e) != 0) {
		FUZZ_ASSERT(p.body == NULL, "a refused proof kept its body");
		return 0;
	}
	c = proof_check(&p);
	FUZZ_ASSERT(c == PROOF_VERIFIED || c == PROOF_BAD_SIG ||
	    c == PROOF_MISMATCH || c == PROOF_NOT_KEPT, "check %d", (int)c);
	FUZZ_ASSERT(p.has_sig || c == PROOF_NOT_KEPT, "verified unsigned");
	FUZZ_ASSERT(proof_json(&p, c, &text, &len, &e) == 0, "%s", e.msg);
	FUZZ_ASSERT(proof_parse(text, len, &q, &e) == 0, "written proof "
	    "refused: %s", e.msg);
	FUZZ_ASSERT(strcmp(p.device, q.device) == 0 && p.seq == q.seq &&
	    p.time == q.time && p.received == q.received &&
	    p.compliant == q.compliant && p.has_sig == q.has_sig &&
	    p.len == q.len && memcmp(p.body, q.body, p.len) == 0 &&
	    memcmp(p.pk, q.pk, sizeof p.pk) == 0 &&
	    memcmp(p.hash, q.hash, sizeof p.hash) == 0 &&
	    (!p.has_sig || memcmp(p.sig, q.sig, sizeof p.sig) == 0),
	    "written proof reads back otherwise");
	FUZZ_ASSERT(proof_check(&q) == c, "check changed");
	free(text);
	store_proof_clear(&q);
	store_proof_clear(&p);
	return 0;
}
