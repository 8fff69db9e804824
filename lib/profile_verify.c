/* profile_verify: a signed profile is verified over its bytes, then parsed. */
#include <stdlib.h>
#include <string.h>

#include "muster/profile.h"
#include "muster/sig.h"

#define TC_PREFIX	"muster-profile "

int
profile_verify(const char *name, const char *buf, size_t len,
    const char *signame, const char *sig, size_t siglen,
    const struct sig_pubkey *pk, struct profile **out,
    struct sig_signature *sout, struct muster_err *e)
{
	struct sig_signature *s = NULL;
	struct profile *p = NULL;
	char tc[SIG_TRUSTED_MAX], msg[ERR_MSG_MAX];
	int rc;

	*out = NULL;
	if ((s = malloc(sizeof *s)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	if ((rc = sig_parse(signame, sig, siglen, s, e)) != 0)
		goto out;
	if (len > PROFILE_MAX_BYTES) {
		rc = err_set(e, MUSTER_EDATA, "%s: larger than %d bytes", name,
		    PROFILE_MAX_BYTES);
		goto out;
	}
	if ((rc = sig_verify(s, pk, buf, len, e)) != 0) {
		snprintf(msg, sizeof msg, "%s", e != NULL ? e->msg : "");
		rc = err_set(e, rc, "%s: %s", name, msg);
		goto out;
	}
	if ((rc = profile_parse(name, buf, len, &p, e)) != 0)
		goto out;
	if (strncmp(s->trusted, TC_PREFIX, strlen(TC_PREFIX)) == 0 &&
	    (profile_trusted_comment(p, tc, sizeof tc) != 0 ||
	    strcmp(tc, s->trusted) != 0)) {
		rc = err_set(e, MUSTER_ETRUST, "%s: the signed trusted comment "
		    "\"%s\" does not describe this profile", name, s->trusted);
		goto out;
	}
	if (sout != NULL)
		*sout = *s;
	*out = p;
	p = NULL;
	rc = 0;
out:
	profile_free(p);
	free(s);
	return rc;
}
