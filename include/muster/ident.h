/*
 * ident: the identifiers Muster never reads, names or sends: the deny-list
 * of identifying device settings and properties (profiles/README.md,
 * "Identifiers"; docs/privacy.md).  One list, enforced in three places:
 * the profile loader refuses a `setting` rule that names one (so lint,
 * sign, publish and install refuse it), the agent's device layer refuses
 * to read or write one before any backend runs a command, and the server
 * refuses a report that carries more than a result needs.
 *
 * A name is denied when it is on the exact list (secure/android_id,
 * ro.serialno, ...) or when it contains one of the markers, compared
 * without regard to ASCII case ("serial", "imei", "account", ...).  The
 * list errs on the side of refusing: a policy setting that happens to
 * contain a marker cannot be checked, and the error says why.
 */
#ifndef MUSTER_IDENT_H
#define MUSTER_IDENT_H

#include <stddef.h>

/*
 * Bytes of a setting's value a report detail may quote: enough to tell
 * "0" from "1" or an expected word from another, never a whole free-form
 * value (a name, an address).  The agent cuts what it quotes to this,
 * the server refuses a detail that quotes more.
 */
#define IDENT_VALUE_SHOW	32

/* The longest detail a report result may carry, in bytes (the agent's
 * reasons are shorter; the server refuses longer ones). */
#define IDENT_DETAIL_MAX	255

/*
 * Returns 1 if setting ns/key (ns "system", "secure" or "global"; any
 * other ns is checked by its key alone) names an identifier, else 0.
 * NULL is denied.
 */
int	ident_setting_denied(const char *ns, const char *key);

/*
 * Returns 1 if the system property name (getprop) names an identifier,
 * else 0.  NULL is denied.
 */
int	ident_prop_denied(const char *name);

/*
 * The marker of the deny-list that s contains (a static string), or
 * NULL when it contains none; for error messages.
 */
const char *ident_marker(const char *s);

/*
 * The deny-list for documentation and `muster-agent explain`: the exact
 * settings ("secure/android_id", ...), the exact properties and the
 * markers, each NULL-terminated and static.
 */
extern const char *const ident_settings[];
extern const char *const ident_props[];
extern const char *const ident_markers[];

#endif
