/*
 * sigset: a signed document (a root or a manifest, docs/protocol.md "Root
 * of trust"): its exact bytes and 1..SIGSET_MAX ordinary minisign
 * signatures over them, each by one key, so that every one verifies with
 * stock `minisign -V`.  A role's threshold (TUF 1.0 §5.3.4) is met when
 * enough DISTINCT keys of the role each have a signature that verifies
 * over the bytes with the expected trusted comment.
 *
 * On the wire the set is the JSON object
 *	{"version": N, "bytes": "<base64>", "signatures": ["<minisig>", ...]}
 * and in an org directory the files DOC (e.g. root/2.cfg) and
 * DOC.KEYID.minisig, one per signer (KEYID as minisign prints it).
 */
#ifndef MUSTER_SIGSET_H
#define MUSTER_SIGSET_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "muster/err.h"
#include "muster/sig.h"

#define SIGSET_MAX		16	/* signatures on one document */
#define SIGSET_BYTES_MAX	(16 * 1024)	/* a signed document */
#define SIGSET_VERSION_MAX	INT32_MAX
#define SIGSET_HASH_BYTES	crypto_generichash_BYTES	/* 32 */
#define SIGSET_HASH_HEX		(2 * SIGSET_HASH_BYTES + 1)
#define SIGSET_SIG_SUFFIX	".minisig"

struct sigset {
	unsigned char		*bytes;		/* the exact document */
	size_t			 len;
	int64_t			 version;	/* the wire's "version"; 0: unknown */
	size_t			 nsigs;
	char			*texts[SIGSET_MAX];	/* minisig texts, NUL-terminated */
	size_t			 textlens[SIGSET_MAX];
	struct sig_signature	*sigs[SIGSET_MAX];	/* texts[i] parsed */
};

/*
 * Makes a set holding a copy of the len bytes at bytes (1..max, max at
 * most SIGSET_BYTES_MAX) and no signature yet; version is what the wire
 * form will say (0 if not known yet).  *out is the caller's (sigset_free).
 * Returns 0, MUSTER_EDATA when len is 0 or over max, MUSTER_EINTERNAL.
 */
int	sigset_new(const void *bytes, size_t len, size_t max, int64_t version,
	    struct sigset **out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/* Frees ss and everything it holds; NULL is a no-op. */
void	sigset_free(struct sigset *ss);

/*
 * Adds one minisig text (len bytes, name used in messages) to ss, parsed
 * with sig_parse; the set keeps its own copy.  Returns 0, or MUSTER_EDATA
 * when the text does not parse or ss already holds SIGSET_MAX signatures.
 * Nothing is verified here.
 */
int	sigset_add(struct sigset *ss, const char *name, const char *text,
	    size_t len, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * sigset_add for signature number i + 1 of a list read from name (a JSON
 * array, a libconfig list): the name it is added under is "NAME: WHAT N",
 * NAME cut at 32 bytes.  A NULL text (the element is not a string) is
 * MUSTER_EDATA "NAME: WHAT N: not a string".  Returns what sigset_add
 * returns.
 */
int	sigset_add_nth(struct sigset *ss, const char *name, const char *what,
	    size_t i, const char *text, size_t len, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Decodes s[0..len), which must be canonical padded standard base64 (a
 * document has one spelling), into a new buffer *out of 1 to max bytes
 * (malloc'd, the caller's), *outlen its size.  Returns 0 or -1.
 */
int	sigset_b64_decode(const char *s, size_t len, size_t max,
	    unsigned char **out, size_t *outlen)
	    __attribute__((warn_unused_result));

/*
 * Signs ss's bytes with sk and the trusted comment (sig_sign: prehashed,
 * verified before it is returned) and adds the signature to ss.  The new
 * text is ss->texts[ss->nsigs - 1].  Returns 0, MUSTER_EDATA when ss is
 * full or the comment is not printable ASCII, MUSTER_EINTERNAL.
 */
int	sigset_sign(struct sigset *ss, const struct sig_seckey *sk,
	    const char *trusted, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * The threshold check.  Counts the DISTINCT keys of keys[0..nkeys) that
 * have a signature in ss that verifies over ss's bytes and whose trusted
 * comment equals trusted (any trusted comment when trusted is NULL).
 * Signatures by keys outside the array are ignored, as are signatures of
 * a key of the array that do not verify; a key counts once however many
 * times it signed.  what names the document and role in messages ("root
 * 3: root role").  Returns 0 when at least threshold keys count (and
 * threshold >= 1), else MUSTER_ETRUST "what: signed by N of the T keys
 * required (threshold T of M)" with the first reason a signature of the
 * role was not counted.  *count (may be NULL) receives the count.
 */
int	sigset_threshold(const struct sigset *ss, const struct sig_pubkey *keys,
	    size_t nkeys, unsigned threshold, const char *trusted,
	    const char *what, size_t *count, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * The wire form of ss as a new JSON object owned by the caller
 * (json_decref).  Returns 0, MUSTER_EUSAGE when ss has no signature or no
 * version, MUSTER_EINTERNAL.
 */
int	sigset_to_json(const struct sigset *ss, json_t **out,
	    struct muster_err *e);

/*
 * Reads the wire form: an object with exactly "version" (1 ..
 * SIGSET_VERSION_MAX), "bytes" (canonical padded base64 of 1..max bytes,
 * max at most SIGSET_BYTES_MAX) and "signatures" (1..SIGSET_MAX strings,
 * each a minisig text).  name is used in messages.  *out is the caller's.
 * Returns 0, MUSTER_EDATA for anything malformed, MUSTER_EINTERNAL.
 * The version is only what the sender claims: root_* and manifest_*
 * check it against the signed document.
 */
int	sigset_from_json(const char *name, const json_t *obj, size_t max,
	    struct sigset **out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * That check: 0 when ss carries no version (0) or the signed document's
 * own version, else MUSTER_EDATA "NAME: sent as version N, the document
 * is version M".
 */
int	sigset_version_check(const struct sigset *ss, const char *name,
	    int64_t version, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * The name of the signature file of document doc (a file name such as
 * "2.cfg", not a path) by key id keyid: "2.cfg.45E170CAFF09B51C.minisig",
 * malloc'd into *out.  Returns 0 or MUSTER_EINTERNAL.
 */
int	sigset_sig_name(const char *doc, const unsigned char
	    keyid[SIG_KEYID_BYTES], char **out, struct muster_err *e);

/*
 * Loads dir/doc (at most max bytes) and every dir/doc.KEYID.minisig, in
 * key id order, into a new set *out (version 0).  A signature file whose
 * name is not for the key that made it is malformed.  Returns 0,
 * MUSTER_ENOINPUT when dir/doc is missing, MUSTER_EDATA when there is no
 * signature file or more than SIGSET_MAX or one does not parse,
 * MUSTER_EIO, MUSTER_EINTERNAL.
 */
int	sigset_load_dir(const char *dir, const char *doc, size_t max,
	    struct sigset **out, struct muster_err *e)
	    __attribute__((warn_unused_result));

/*
 * Writes the minisig text (len bytes) as dir/doc.KEYID.minisig for the
 * key that made it (mode 0644, atomically), replacing an older signature
 * by the same key.  Returns 0, MUSTER_EDATA when text does not parse, or
 * what fs_write_atomic returns.
 */
int	sigset_write_sig(const char *dir, const char *doc, const char *text,
	    size_t len, struct muster_err *e);

/* BLAKE2b-256 of the len bytes at buf as 64 lowercase hex digits. */
void	sigset_hash_hex(const void *buf, size_t len,
	    char out[SIGSET_HASH_HEX]);

/* 1 if s is exactly 64 lowercase hex digits (a sigset_hash_hex). */
int	sigset_hash_ok(const char *s);

#endif
