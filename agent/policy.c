/*
 * policy: the roots, manifest and profiles of a GET /v1/policy answer
 * applied to the state; see agent/policy.h.
 *
 * The answer is untrusted from the first byte: it is capped (by the
 * reporter's frame), gated (proto_json_parse: depth, duplicate keys,
 * an object), each signed document is verified over its exact bytes
 * before they are parsed, and each profile is matched by the manifest's
 * id, serial and hash before it is parsed.  What a breached server may
 * still do is withhold: serve nothing new.  The manifest's expiry makes
 * that visible (policy stale) without ever stopping enforcement.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "muster/manifest.h"
#include "muster/proto.h"
#include "muster/root.h"
#include "muster/sigset.h"
#include "install.h"
#include "policy.h"
#include "state.h"

/* A profile the manifest names, verified and judged, not yet written. */
struct named {
	struct profile	*p;
	struct install_obj o;	/* sig and id point into the answer */
	int		 write;		/* 0: installed already, identical */
};

static void
named_free(struct named *n, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		profile_free(n[i].p);
		free(n[i].o.bytes);
	}
}

/*
 * Walks the roots of the answer from a->root, persisting each one it
 * accepts before it takes the next.  Versions at or below the one held
 * are skipped (a repeat does no harm, and their wire version is only a
 * claim: nothing of them is used).
 */
static int
walk_roots(const char *dir, struct state_anchor *a, json_t *roots,
    struct muster_err *e)
{
	struct sigset *ss = NULL;
	struct root next;
	char name[64];
	size_t i, n;
	int rc = 0;

	if (roots == NULL)
		return 0;
	if (!json_is_array(roots))
		return err_set(e, MUSTER_EDATA, "policy answer: \"roots\" is "
		    "not a list");
	if ((n = json_array_size(roots)) > ROOT_CHAIN_MAX)
		return err_set(e, MUSTER_EDATA, "policy answer: %zu roots, "
		    "more than the %d a check-in walks", n, ROOT_CHAIN_MAX);
	if (n > 0 && a->root.version < 1)
		return err_set(e, MUSTER_ECONFIG, "no root of trust to walk "
		    "from: the device is not enrolled with a server");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof name, "server's root [%zu]", i);
		if ((rc = sigset_from_json(name, json_array_get(roots, i),
		    ROOT_MAX, &ss, e)) != 0)
			break;
		if (ss->version != 0 && ss->version <= a->root.version) {
			sigset_free(ss);
			ss = NULL;
			continue;
		}
		if ((rc = root_update(&a->root, name, ss, &next, e)) != 0)
			break;
		ss->version = next.version;
		if ((rc = state_root_store(dir, ss, e)) != 0)
			break;
		a->root = next;
		a->has_root = 1;
		sigset_free(ss);
		ss = NULL;
	}
	sigset_free(ss);
	return rc;
}

/* The profile object of the answer whose "id" is id, or NULL. */
static int
find_profile(json_t *profiles, const char *id, json_t **out,
    struct muster_err *e)
{
	json_t *o;
	const char *pid;
	size_t i;

	*out = NULL;
	json_array_foreach(profiles, i, o) {
		if (!json_is_object(o) || (pid = json_string_value(
		    json_object_get(o, "id"))) == NULL)
			return err_set(e, MUSTER_EDATA, "policy answer: "
			    "profile [%zu] is not a profile object", i);
		if (strcmp(pid, id) != 0)
			continue;
		if (*out != NULL)
			return err_set(e, MUSTER_EDATA, "policy answer: "
			    "profile \"%s\" twice", id);
		*out = o;
	}
	return 0;
}

/*
 * Verifies and judges the profile the manifest entry ent names, from the
 * answer's profiles (or, when the answer does not carry it, the one
 * installed, which must then be the manifest's exactly).
 */
static int
take_profile(const char *dir, const struct state_anchor *a,
    const struct manifest *m, const struct manifest_entry *ent,
    json_t *profiles, struct named *nd, struct muster_err *e)
{
	struct state_profile *inst = NULL;
	json_t *obj = NULL;
	char name[PROFILE_ID_MAX + 32];
	size_t ninst = 0, i;
	int rc;

	memset(nd, 0, sizeof *nd);
	snprintf(name, sizeof name, "server's profile \"%s\"", ent->id);
	if ((rc = find_profile(profiles, ent->id, &obj, e)) != 0)
		return rc;
	if (obj == NULL) {
		/* Not sent: the device must have it already, as named. */
		if ((rc = state_profiles_load(dir, a, &inst, &ninst, e)) != 0)
			return rc;
		rc = err_set(e, MUSTER_ETRUST, "manifest %lld names profile "
		    "\"%s\" serial %lld, which the server did not send and "
		    "this device does not have", (long long)m->version,
		    ent->id, (long long)ent->serial);
		for (i = 0; i < ninst; i++)
			if (strcmp(inst[i].p->id, ent->id) == 0) {
				rc = manifest_names(m, ent->id,
				    inst[i].p->serial, inst[i].bytes,
				    inst[i].len, e);
				break;
			}
		state_profiles_free(inst, ninst);
		return rc;
	}
	if ((rc = install_json_decode(name, obj, &nd->o, e)) != 0)
		return rc;
	if (nd->o.len > PROFILE_MAX_BYTES || strlen(nd->o.sig) > SIG_FILE_MAX)
		return err_set(e, MUSTER_EDATA, "%s: profile or signature too "
		    "large", name);
	/* Matched by id, serial and hash before it is parsed. */
	if ((rc = manifest_profile_verify(m, &a->root, ent->id, ent->serial,
	    name, (const char *)nd->o.bytes, nd->o.len, name, nd->o.sig,
	    strlen(nd->o.sig), &nd->p, e)) != 0)
		return rc;
	if (nd->o.serial != ent->serial)
		return err_set(e, MUSTER_ETRUST, "%s: labelled serial %lld but "
		    "the signed profile is serial %lld", name,
		    (long long)nd->o.serial, (long long)ent->serial);
	if ((rc = install_judge(dir, a, nd->p, (const char *)nd->o.bytes,
	    nd->o.len, name, e)) < 0)
		return rc;
	nd->write = rc == 0;
	return 0;
}

void
policy_stale(const char *dir, const struct state_anchor *a, time_t now,
    int *trust, int *policy)
{
	struct manifest m;

	*trust = a->has_root && root_expired(&a->root, now);
	*policy = state_manifest_load(dir, a, NULL, &m, NULL) == 0 &&
	    manifest_expired(&m, now);
}

int
policy_apply(const char *dir, struct state_anchor *a, const char *body,
    size_t len, time_t now, struct policy_outcome *out, struct muster_err *e)
{
	static const char *const keys[] = { "roots", "manifest", "profiles",
	    NULL };
	struct named nd[MANIFEST_PROFILES_MAX];
	struct sigset *ss = NULL, *curss = NULL;
	struct manifest m, cur;
	struct state_cfg c;
	json_t *o = NULL, *mj, *profiles;
	size_t i, nnd = 0;
	int rc, have_cur = 0, stale = 0;

	memset(out, 0, sizeof *out);
	out->root_from = out->root_to = a->root.version;
	if ((o = proto_json_parse(body, len, POLICY_JSON_DEPTH)) == NULL) {
		rc = errno == ENOMEM ? err_set(e, MUSTER_EINTERNAL, "out of "
		    "memory") : err_set(e, MUSTER_EDATA, "policy answer: not a "
		    "JSON object");
		goto out;
	}
	if (!proto_json_keys_ok(o, keys)) {
		rc = err_set(e, MUSTER_EDATA, "policy answer: an unknown "
		    "member");
		goto out;
	}
	profiles = json_object_get(o, "profiles");
	if (profiles != NULL && !json_is_array(profiles)) {
		rc = err_set(e, MUSTER_EDATA, "policy answer: \"profiles\" is "
		    "not a list");
		goto out;
	}
	if (profiles == NULL && (profiles = json_array()) != NULL)
		json_object_set_new(o, "profiles", profiles);
	if (json_array_size(profiles) > MANIFEST_PROFILES_MAX) {
		rc = err_set(e, MUSTER_EDATA, "policy answer: more than %d "
		    "profiles", MANIFEST_PROFILES_MAX);
		goto out;
	}
	if ((rc = state_cfg_load(dir, &c, e)) != 0)
		goto out;
	/* (1) The roots, each step persisted. */
	rc = walk_roots(dir, a, json_object_get(o, "roots"), e);
	out->root_to = a->root.version;
	if (rc != 0)
		goto out;
	/* Once a root has rotated, what only a removed key signed counts
	 * for nothing: such installed profiles go (the answer's manifest
	 * brings their successors). */
	if (out->root_to != out->root_from &&
	    (rc = state_profiles_purge(dir, a, &out->purged, e)) != 0)
		goto out;
	/* The manifest held, if the (new) root still trusts it. */
	rc = state_manifest_load(dir, a, &curss, &cur, e);
	if (rc == MUSTER_ETRUST) {
		/* The policy keys rotated: a manifest only a removed key
		 * signed counts for nothing (TUF 1.0 §5.3.11). */
		if ((rc = state_manifest_remove(dir, e)) != 0)
			goto out;
		out->dropped = 1;
	} else if (rc == 0) {
		have_cur = 1;
		out->manifest_from = out->manifest_to = cur.version;
	} else if (rc != MUSTER_ENOINPUT)
		goto out;
	rc = 0;
	if ((mj = json_object_get(o, "manifest")) == NULL || json_is_null(mj))
		goto done;
	out->has_manifest = 1;
	/* (2) The manifest: verified, then judged against the one held. */
	if ((rc = sigset_from_json("server's manifest", mj, MANIFEST_MAX, &ss,
	    e)) != 0 || (rc = manifest_verify("server's manifest", ss,
	    &a->root, &m, e)) != 0)
		goto out;
	if (m.scope != a->scope) {
		rc = err_set(e, MUSTER_ETRUST, "server's manifest is for scope "
		    "%s, this device is %s; refused",
		    profile_scope_name(m.scope), profile_scope_name(a->scope));
		goto out;
	}
	if ((rc = manifest_accept(have_cur ? &cur : NULL, have_cur ?
	    curss->bytes : NULL, have_cur ? curss->len : 0, &m, ss->bytes,
	    ss->len, now, &stale, e)) != 0)
		goto out;
	/* (3) Every profile it names, before anything is written. */
	for (nnd = 0; nnd < m.nprofiles; nnd++)
		if ((rc = take_profile(dir, a, &m, &m.profiles[nnd], profiles,
		    &nd[nnd], e)) != 0) {
			nnd++;
			goto out;
		}
	/* (4) Written: the profiles, then the manifest that names them. */
	for (i = 0; i < nnd; i++) {
		if (!nd[i].write)
			continue;
		if ((rc = state_profile_store(dir, nd[i].p,
		    (const char *)nd[i].o.bytes, nd[i].o.len, nd[i].o.sig,
		    strlen(nd[i].o.sig), e)) != 0)
			goto out;
		snprintf(out->inst[out->installed].id,
		    sizeof out->inst[0].id, "%s", nd[i].p->id);
		out->inst[out->installed].serial = nd[i].p->serial;
		out->installed++;
	}
	if (!have_cur || curss->len != ss->len || memcmp(curss->bytes,
	    ss->bytes, ss->len) != 0) {
		ss->version = m.version;
		if ((rc = state_manifest_store(dir, ss, e)) != 0)
			goto out;
	}
	out->manifest_to = m.version;
	if (c.profile_id[0] != '\0' && manifest_find(&m, c.profile_id) ==
	    NULL) {
		if ((rc = state_profile_remove(dir, c.profile_id, e)) != 0)
			goto out;
		out->removed++;
	}
	snprintf(out->managed, sizeof out->managed, "%s", m.nprofiles > 0 ?
	    m.profiles[0].id : "");
	if (strcmp(c.profile_id, out->managed) != 0) {
		snprintf(c.profile_id, sizeof c.profile_id, "%s",
		    out->managed);
		if ((rc = state_cfg_store(dir, &c, e)) != 0)
			goto out;
	}
done:
	policy_stale(dir, a, now, &out->trust_stale, &out->policy_stale);
	rc = 0;
out:
	named_free(nd, nnd);
	sigset_free(ss);
	sigset_free(curss);
	json_decref(o);
	return rc;
}
