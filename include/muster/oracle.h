/*
 * oracle: what the rules of a family profile reveal together
 * (docs/privacy.md, "Oracles").  Each family answer is randomized with
 * epsilon = ln 3 per rule (muster/rr.h), but several rules asking about
 * one attribute of the phone compose: an os-min ladder narrows the
 * Android version, many model-bans the model, many package-bans the
 * installed apps, many egress-denies the connections, several setting
 * rules on one key its value.  Two or more rules on one attribute are
 * reported (a warning, and a line of the consent text); more than
 * ORACLE_MAX_PER_ATTR are refused by `muster-enroll lint`, `sign` and
 * `publish` (exit 65): their composed epsilon on that attribute would
 * exceed ORACLE_MAX_PER_ATTR x ln 3.
 */
#ifndef MUSTER_ORACLE_H
#define MUSTER_ORACLE_H

#include <stddef.h>

#include "muster/profile.h"

#define ORACLE_MAX_PER_ATTR	3	/* rules on one attribute */
#define ORACLE_MSG_MAX		512

struct oracle_finding {
	int		refuse;		/* over ORACLE_MAX_PER_ATTR */
	int		line;		/* the line of the group's first rule */
	size_t		nrules;		/* rules on the attribute */
	char		msg[ORACLE_MSG_MAX];	/* what they reveal together */
};

/*
 * Calls fn(finding, arg) for each attribute of the phone that two or
 * more rules of p ask about, in a fixed order.  Returns how many of them
 * are to be refused.  Nothing for a personnel profile.
 */
size_t	oracle_scan(const struct profile *p,
	    void (*fn)(const struct oracle_finding *, void *), void *arg);

/*
 * What one rule's result reveals of the phone, one line for a person,
 * into buf (size bytes; cut short if need be).
 */
void	oracle_rule_reveals(const struct rule *r, char *buf, size_t size);

/*
 * The refusal `muster-enroll lint`, the server's publish and the agent's
 * install share: returns 1 when p is a family profile with more than
 * ORACLE_MAX_PER_ATTR rules on one attribute, with the first such group
 * in *first (caller's storage), else 0 and *first zeroed.
 */
int	oracle_refusal(const struct profile *p, struct oracle_finding *first);

#endif
