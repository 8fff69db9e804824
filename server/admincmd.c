/* admincmd: `muster-server admin` and `muster-server audit`; admincmd.h. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "muster/cli.h"
#include "muster/esc.h"
#include "muster/fs.h"
#include "muster/io.h"
#include "muster/timefmt.h"
#include "admincmd.h"
#include "admins.h"
#include "audit.h"
#include "config.h"
#include "daemon.h"
#include "srv.h"

static const char admin_usage[] =
"usage: muster-server admin add [--config FILE] --roles LIST [-o FILE] NAME\n"
"       muster-server admin list [--config FILE]\n"
"       muster-server admin rotate [--config FILE] [-o FILE] NAME\n"
"       muster-server admin remove [--config FILE] NAME\n"
"\n"
"Manages the named administrators of the server's store, while the server\n"
"runs: the server reads them on every request, so a change holds from the\n"
"next one, and a rotated or removed credential is refused at once.\n"
"add and rotate make a new credential (64 hex digits, the form of\n"
"muster-enroll's admin.token) and print it once, on stdout or into FILE\n"
"(-o, created 0600, never replaced); the store keeps only its BLAKE2b-256\n"
"hash.  NAME is [a-z0-9][a-z0-9._-]*, at most 64 characters.  Every change\n"
"is appended to the audit log.\n"
"\n"
"roles (LIST is comma-separated, or all):\n"
"  publish  POST /v1/admin/profile, /v1/admin/manifest, /v1/admin/root\n"
"  revoke   POST /v1/admin/revoke (the revocation itself stays org-signed)\n"
"  read     GET /v1/admin/rollup and the device lists\n"
"  metrics  GET /metrics on the admin listener\n"
"\n"
"options:\n"
"  --config FILE  the server's configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  --roles LIST   the roles of a new administrator\n"
"  -o, --out FILE write the credential into FILE instead of stdout\n"
"  --help         this text\n"
"\n"
"exit codes: 0 ok, 64 usage, 65 the name is taken, 66 no such\n"
"            administrator, 73 FILE exists, 74 storage error,\n"
"            78 bad configuration\n";

static const char audit_usage[] =
"usage: muster-server audit verify [--config FILE] [--pub FILE]\n"
"                                  [--witness SEQ:HASH]\n"
"       muster-server audit show [--config FILE] [--since TIME]\n"
"                                [--actor NAME] [--action ACTION]\n"
"       muster-server audit rekey [--config FILE]\n"
"\n"
"verify walks the whole audit log: each entry's number and BLAKE2b hash\n"
"chain, each checkpoint's Ed25519 signature (with DATA_DIR/audit.pub, or\n"
"FILE, a copy kept off the host) and place in the chain, a checkpoint at\n"
"every 64th entry, and nothing signed past the last entry; --witness adds\n"
"an entry and hash seen elsewhere (a logged checkpoint line).  It prints\n"
"each problem with the entry it is at, and exits 77 if there is one.\n"
"show prints the entries, one a line (seq, time, actor, address, action,\n"
"object, outcome), every string escaped for the terminal.\n"
"rekey records that DATA_DIR/audit.key replaces a lost key (the server\n"
"does not start with a key that did not sign the log): an audit-rekey\n"
"entry naming the new public key, signed by it; verify then checks the\n"
"checkpoints before it with the old audit.pub (--pub) and those after\n"
"with the key it names.\n"
"\n"
"options:\n"
"  --config FILE     the server's configuration (default "
    CONFIG_DEFAULT_PATH ")\n"
"  --pub FILE        the audit public key (default DATA_DIR/audit.pub)\n"
"  --witness SEQ:HASH  entry SEQ must be there with this hash (64 hex)\n"
"  --since TIME      entries at or after TIME (YYYY-MM-DDTHH:MM:SSZ)\n"
"  --actor NAME      entries of this actor (an administrator, \"-\" for\n"
"                    refused credentials, local:USER for this command)\n"
"  --action ACTION   entries of this action (publish, manifest, root,\n"
"                    revoke, rollup, credential, admin-add, admin-rotate,\n"
"                    admin-remove, bootstrap, console sign-in, console\n"
"                    export, console proof, audit-rekey)\n"
"  --help            this text\n"
"\n"
"exit codes: 0 ok (verify: intact), 64 usage, 66 no store or key,\n"
"            74 storage error, 77 the log does not verify,\n"
"            78 bad configuration\n";

/* "local:USER", the actor of what this command does. */
static void
local_actor(char buf[STORE_AUDIT_ACTOR_MAX + 1])
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL && admins_name_ok(pw->pw_name))
		snprintf(buf, STORE_AUDIT_ACTOR_MAX + 1, "local:%s",
		    pw->pw_name);
	else
		snprintf(buf, STORE_AUDIT_ACTOR_MAX + 1, "local:uid%lu",
		    (unsigned long)geteuid());
}

/* The configuration's data_dir and admin hash; 0 or an exit code. */
static int
load_cfg(const char *path, struct config **cfg)
{
	struct muster_err e;
	int rc;

	if ((rc = cli_sodium_init()) != 0)
		return rc;
	if ((rc = config_load(path, cfg, &e)) != 0)
		return cli_fail(rc, &e);
	return 0;
}

/* Makes the store of dir if there is none (or brings it up to date). */
static int
store_made(const char *dir, struct muster_err *e)
{
	struct store *st = NULL;
	int rc;

	if ((rc = store_open(dir, 0, &st, e)) == 0)
		store_close(st);
	return rc;
}

/* What as_server runs: 0 with a credential in tok (or tok[0] 0), or rc. */
typedef int (*as_server_fn)(void *arg, char tok[ADMINS_TOKEN_HEX],
    struct muster_err *e);

/*
 * Runs fn(arg, tok, e) as the server's user.  Root never works on the
 * store itself: what it made there (the store, the audit key) would be
 * root's, and the server, as its user, could not open it; nor does root
 * parse what the server writes.  So as root, fn runs in a child that
 * drops to the server's user for good (daemon_drop, as report does),
 * says its own error, and hands a credential back over a pipe; the
 * parent stays root only to write it where the operator asked (-o FILE).
 * Not root, or no user to become: fn runs here.  Returns 0 with tok, or
 * the exit code (the error said).
 */
static int
as_server(const struct config *cfg, as_server_fn fn, void *arg,
    char tok[ADMINS_TOKEN_HEX])
{
	const char *user = config_user(cfg);
	struct muster_err e;
	size_t got = 0;
	ssize_t n;
	pid_t pid;
	int p[2], st, rc, stayed;

	if (geteuid() != 0 || user == NULL)
		return (rc = fn(arg, tok, &e)) != 0 ? cli_fail(rc, &e) : 0;
	if (pipe2(p, O_CLOEXEC) == -1)
		return cli_fail(err_sys(&e, MUSTER_EOS, "pipe"), &e);
	(void)fflush(stdout);
	if ((pid = fork()) == -1) {
		rc = err_sys(&e, MUSTER_EOS, "fork");
		(void)close(p[0]);
		(void)close(p[1]);
		return cli_fail(rc, &e);
	}
	if (pid == 0) {
		(void)close(p[0]);
		if ((rc = daemon_drop(user, &stayed, &e)) == 0)
			rc = fn(arg, tok, &e);
		if (rc == 0 && tok[0] != '\0' &&
		    io_write_all(p[1], tok, ADMINS_TOKEN_HEX) != 0)
			rc = err_sys(&e, MUSTER_EOS, "pipe");
		sodium_memzero(tok, ADMINS_TOKEN_HEX);
		rc = rc != 0 ? cli_fail(rc, &e) : 0;
		(void)fflush(stdout);
		_exit(rc);
	}
	(void)close(p[1]);
	while (got < ADMINS_TOKEN_HEX &&
	    ((n = read(p[0], tok + got, ADMINS_TOKEN_HEX - got)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	(void)close(p[0]);
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR) {
			sodium_memzero(tok, ADMINS_TOKEN_HEX);
			return cli_fail(err_sys(&e, MUSTER_EOS, "waitpid"),
			    &e);
		}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		sodium_memzero(tok, ADMINS_TOKEN_HEX);
		if (WIFEXITED(st))
			return WEXITSTATUS(st);
		return cli_fail(err_set(&e, MUSTER_EINTERNAL, "the process "
		    "working as user %s died (signal %d)", user,
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0), &e);
	}
	if (got != 0 && (got != ADMINS_TOKEN_HEX ||
	    tok[ADMINS_TOKEN_HEX - 1] != '\0')) {
		sodium_memzero(tok, ADMINS_TOKEN_HEX);
		return cli_fail(err_set(&e, MUSTER_EINTERNAL, "a malformed "
		    "credential from the process working as user %s", user),
		    &e);
	}
	if (got == 0)
		tok[0] = '\0';
	return 0;
}

/* Hands a new credential over: into out (0600, new) or onto stdout. */
static int
give_token(const char *out, const char *tok, struct muster_err *e)
{
	char line[ADMINS_TOKEN_HEX + 1];
	int rc;

	snprintf(line, sizeof line, "%s\n", tok);
	if (out != NULL)
		rc = fs_create_excl(out, line, strlen(line), 0600, e);
	else if (fputs(line, stdout) == EOF || fflush(stdout) != 0)
		rc = err_set(e, MUSTER_EIO, "cannot write the credential");
	else
		rc = 0;
	sodium_memzero(line, sizeof line);
	return rc;
}

static int
admin_list(struct audit *a, struct muster_err *e)
{
	struct store_admin *l = NULL;
	struct store_adm *sa;
	char roles[ADMINS_ROLES_MAX], c[TIMEFMT_LEN], r[TIMEFMT_LEN],
	    name[ESC_SIZE(STORE_ADMIN_NAME_MAX)];
	size_t i, n = 0;
	int rc;

	sa = audit_lock(a);
	rc = store_admin_list(sa, &l, &n, e);
	audit_unlock(a);
	if (rc != 0)
		return rc;
	printf("%-24s %-28s %-20s %s\n", "NAME", "ROLES", "CREATED",
	    "ROTATED");
	for (i = 0; i < n; i++) {
		timefmt_format(l[i].created, c);
		timefmt_format(l[i].rotated, r);
		printf("%-24s %-28s %-20s %s\n",
		    esc_str(l[i].name, STORE_ADMIN_NAME_MAX, 0, name),
		    admins_roles_format(l[i].roles, roles), c, r);
	}
	if (l != NULL)
		sodium_memzero(l, n * sizeof *l);
	free(l);
	return 0;
}

/*
 * The verb of `muster-server CMD VERB ...` (argv[0] is CMD); NULL after
 * --help (printed, *code 0) or without a verb (the usage error naming
 * verbs, *code CLI_EX_USAGE).
 */
static const char *
verb_of(int argc, char **argv, const char *usage, const char *verbs,
    int *code)
{
	if (argc >= 2 && strcmp(argv[1], "--help") != 0)
		return argv[1];
	if (argc >= 2) {
		fputs(usage, stdout);
		*code = 0;
	} else
		*code = cli_usage(argv[0], "expected %s (see %s %s --help)",
		    verbs, SRV_PROG, argv[0]);
	return NULL;
}

/* One `admin` command, for admin_job. */
struct admin_job {
	const struct config	*cfg;
	const char		*verb, *name;
	unsigned		 roles;
	char			 actor[STORE_AUDIT_ACTOR_MAX + 1];
};

/*
 * The work of one `admin` command (as the server's user: as_server):
 * opens (or makes) the store and the audit log, runs the verb and logs
 * it; a new credential into tok (add, rotate).
 */
static int
admin_job(void *arg, char tok[ADMINS_TOKEN_HEX], struct muster_err *e)
{
	const struct admin_job *j = arg;
	const struct config *cfg = j->cfg;
	struct store_admin ad;
	struct audit *a = NULL;
	struct store_adm *sa;
	struct muster_err ae;
	char obj[STORE_AUDIT_OBJECT_MAX + 1], roles[ADMINS_ROLES_MAX];
	const char *action;
	int rc;

	if ((rc = store_made(config_store(cfg), e)) != 0 ||
	    (rc = admins_open(config_store(cfg), cfg->data_dir,
	    cfg->admin_hash, 0, &a, e)) != 0)
		goto out;
	if (strcmp(j->verb, "list") == 0) {
		rc = admin_list(a, e);
		goto out;
	}
	memset(&ad, 0, sizeof ad);
	if (strcmp(j->verb, "add") == 0) {
		action = "admin-add";
		snprintf(ad.name, sizeof ad.name, "%s", j->name);
		ad.roles = j->roles;
		admins_token_new(tok, ad.hash);
		ad.created = ad.rotated = time(NULL);
		snprintf(obj, sizeof obj, "administrator %s roles %s",
		    j->name, admins_roles_format(j->roles, roles));
		sa = audit_lock(a);
		rc = store_admin_add(sa, &ad, e);
		audit_unlock(a);
	} else if (strcmp(j->verb, "rotate") == 0) {
		action = "admin-rotate";
		admins_token_new(tok, ad.hash);
		snprintf(obj, sizeof obj, "administrator %s", j->name);
		sa = audit_lock(a);
		rc = store_admin_rotate(sa, j->name, ad.hash, time(NULL), e);
		audit_unlock(a);
	} else {
		action = "admin-remove";
		snprintf(obj, sizeof obj, "administrator %s", j->name);
		sa = audit_lock(a);
		rc = store_admin_remove(sa, j->name, e);
		audit_unlock(a);
	}
	if (audit_log(a, j->actor, "local", action, obj, rc == 0 ? "ok" :
	    rc == MUSTER_EDATA ? "refused: name taken" :
	    rc == MUSTER_ENOINPUT ? "refused: no such administrator" :
	    "failed", &ae) != 0 && rc == 0) {
		rc = ae.code;
		*e = ae;
	}
out:
	if (rc != 0)
		sodium_memzero(tok, ADMINS_TOKEN_HEX);
	audit_close(a);
	return rc;
}

int
admincmd_admin(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH, *rolearg = NULL, *out = NULL;
	const char *verb;
	const struct cli_opt opts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_ARG("roles", 'r', &rolearg),
		CLI_OPT_ARG("out", 'o', &out),
		CLI_OPT_END,
	};
	struct admin_job j;
	struct config *cfg = NULL;
	struct muster_err e;
	char tok[ADMINS_TOKEN_HEX];
	int i, rc, code;

	memset(tok, 0, sizeof tok);
	memset(&j, 0, sizeof j);
	if ((verb = verb_of(argc, argv, admin_usage, "add, list, rotate or "
	    "remove", &code)) == NULL)
		return code;
	if (strcmp(verb, "add") != 0 && strcmp(verb, "list") != 0 &&
	    strcmp(verb, "rotate") != 0 && strcmp(verb, "remove") != 0)
		return cli_usage("admin", "unknown command \"%.32s\" (see %s "
		    "admin --help)", verb, SRV_PROG);
	if ((i = cli_options(argc - 1, argv + 1, "o:", opts, admin_usage,
	    NULL, NULL, &code)) < 0)
		return code;
	i++;
	if (strcmp(verb, "list") == 0) {
		if (i != argc)
			return cli_usage("admin", "list takes no operand");
	} else {
		if (i != argc - 1)
			return cli_usage("admin", "%s: expected one NAME",
			    verb);
		j.name = argv[i];
		if (!admins_name_ok(j.name))
			return cli_usage("admin", "NAME must be [a-z0-9]"
			    "[a-z0-9._-]*, at most %d characters",
			    STORE_ADMIN_NAME_MAX);
	}
	if (rolearg != NULL && strcmp(verb, "add") != 0)
		return cli_usage("admin", "--roles is for add (rotate keeps "
		    "the roles; remove and add to change them)");
	if (out != NULL && strcmp(verb, "add") != 0 &&
	    strcmp(verb, "rotate") != 0)
		return cli_usage("admin", "-o is for add and rotate");
	if (strcmp(verb, "add") == 0) {
		if (rolearg == NULL)
			return cli_usage("admin", "add: --roles is required");
		if (admins_roles_parse(rolearg, &j.roles, &e) != 0)
			return cli_usage("admin", "%s", e.msg);
	}
	if ((rc = load_cfg(path, &cfg)) != 0)
		return rc;
	j.cfg = cfg;
	j.verb = verb;
	local_actor(j.actor);	/* who asked: before any drop */
	if ((code = as_server(cfg, admin_job, &j, tok)) == 0 &&
	    tok[0] != '\0' && (rc = give_token(out, tok, &e)) != 0)
		code = cli_fail(rc, &e);
	sodium_memzero(tok, sizeof tok);
	config_free(cfg);
	return code;
}

/* "SEQ:HASH" into *seq and hash; -1 if it is not that. */
static int
witness_parse(const char *s, int64_t *seq, unsigned char hash[STORE_HASH_LEN])
{
	const char *colon = strchr(s, ':');
	char *end;
	long long v;
	size_t bin;

	if (colon == NULL || colon == s || s[0] < '1' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end != colon || v <= 0)
		return -1;
	if (strlen(colon + 1) != 2 * STORE_HASH_LEN ||
	    strspn(colon + 1, "0123456789abcdef") != 2 * STORE_HASH_LEN ||
	    sodium_hex2bin(hash, STORE_HASH_LEN, colon + 1, 2 * STORE_HASH_LEN,
	    NULL, &bin, NULL) != 0 || bin != STORE_HASH_LEN)
		return -1;
	*seq = v;
	return 0;
}

static int
audit_verify_cmd(struct store_adm *sa, const unsigned char *pk,
    int64_t wseq, const unsigned char *witness, struct muster_err *e)
{
	char head[AUDIT_HASH_HEX];
	struct audit_verdict v;
	size_t i;
	int rc;

	rc = audit_verify(sa, pk, wseq, witness, &v, e);
	if (rc != 0 && rc != MUSTER_ETRUST)
		return rc;
	for (i = 0; i < v.nproblems && i < AUDIT_PROBLEMS_MAX; i++)
		printf("problem: %s\n", v.problems[i]);
	if (v.nproblems > AUDIT_PROBLEMS_MAX)
		printf("problem: ... and %zu more\n",
		    v.nproblems - AUDIT_PROBLEMS_MAX);
	sodium_bin2hex(head, sizeof head, v.head, sizeof v.head);
	printf("%s: %lld entries, %lld checkpoints verified, signed up to "
	    "entry %lld; %lld newer entries not yet signed\n",
	    rc == 0 ? "intact" : "NOT intact", (long long)v.entries,
	    (long long)v.checkpoints, (long long)v.signed_upto,
	    (long long)(v.last - v.signed_upto));
	if (v.last > 0)
		printf("head: %lld:%s\n", (long long)v.last, head);
	if (v.rekeyed_at > 0) {
		sodium_bin2hex(head, sizeof head, v.rekeyed_pk,
		    sizeof v.rekeyed_pk);
		printf("key replaced at entry %lld: checkpoints from there on "
		    "verified with %s\n", (long long)v.rekeyed_at, head);
	}
	return rc;
}

/* audit rekey: records DATA_DIR/audit.key as the log's key from now on. */
static int
audit_rekey_cmd(const struct config *cfg, const char *actor,
    struct muster_err *e)
{
	struct audit *a = NULL;
	int rc, done = 0;

	if ((rc = audit_open_store(config_store(cfg), cfg->data_dir, 0, &a,
	    e)) != 0)
		return rc;
	rc = audit_rekey(a, actor, &done, e);
	audit_close(a);
	if (rc == 0)
		printf("%s\n", done ? "audit.key recorded as the log's key "
		    "from here on (audit show --action audit-rekey)" :
		    "audit.key signs the log already: nothing to do");
	return rc;
}

/* One `audit` command, for audit_job. */
struct audit_job {
	const struct config	*cfg;
	const char		*verb;
	const unsigned char	*pk;	/* --pub's, or NULL: DATA_DIR's */
	int64_t			 wseq;
	const unsigned char	*witness;
	const struct audit_filter *f;
	char			 actor[STORE_AUDIT_ACTOR_MAX + 1];
};

/* The work of one `audit` command, as the server's user (as_server). */
static int
audit_job(void *arg, char tok[ADMINS_TOKEN_HEX], struct muster_err *e)
{
	const struct audit_job *j = arg;
	unsigned char pk[AUDIT_PK_BYTES];
	struct store_adm *sa = NULL;
	char *dpub = NULL;
	int rc;

	(void)tok;
	if (strcmp(j->verb, "rekey") == 0)
		return audit_rekey_cmd(j->cfg, j->actor, e);
	if ((rc = store_adm_open(config_store(j->cfg), 1, &sa, e)) != 0)
		return rc;
	if (strcmp(j->verb, "verify") != 0)
		rc = audit_show(sa, j->f, stdout, e);
	else if (j->pk != NULL)
		rc = audit_verify_cmd(sa, j->pk, j->wseq, j->witness, e);
	else if ((dpub = fs_path(j->cfg->data_dir, AUDIT_PUB_FILE)) == NULL)
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
	else if ((rc = audit_pub_load(dpub, pk, e)) == 0)
		rc = audit_verify_cmd(sa, pk, j->wseq, j->witness, e);
	free(dpub);
	store_adm_close(sa);
	return rc;
}

int
admincmd_audit(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH, *pub = NULL, *wit = NULL;
	const char *since = NULL, *verb;
	struct audit_filter f = { 0, NULL, NULL };
	const struct cli_opt vopts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_ARG("pub", 'p', &pub),
		CLI_OPT_ARG("witness", 'w', &wit),
		CLI_OPT_END,
	};
	const struct cli_opt ropts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_END,
	};
	const struct cli_opt sopts[] = {
		CLI_OPT_ARG("config", 'c', &path),
		CLI_OPT_ARG("since", 's', &since),
		CLI_OPT_ARG("actor", 'a', &f.actor),
		CLI_OPT_ARG("action", 'A', &f.action),
		CLI_OPT_END,
	};
	unsigned char witness[STORE_HASH_LEN], pk[AUDIT_PK_BYTES];
	struct audit_job j;
	struct config *cfg = NULL;
	struct muster_err e;
	char tok[ADMINS_TOKEN_HEX];
	int64_t wseq = 0;
	int i, rc, code;

	memset(&j, 0, sizeof j);

	if ((verb = verb_of(argc, argv, audit_usage, "verify, show or rekey",
	    &code)) == NULL)
		return code;
	if (strcmp(verb, "verify") == 0)
		i = cli_options(argc - 1, argv + 1, "", vopts, audit_usage,
		    NULL, NULL, &code);
	else if (strcmp(verb, "rekey") == 0)
		i = cli_options(argc - 1, argv + 1, "", ropts, audit_usage,
		    NULL, NULL, &code);
	else if (strcmp(verb, "show") == 0)
		i = cli_options(argc - 1, argv + 1, "", sopts, audit_usage,
		    NULL, NULL, &code);
	else
		return cli_usage("audit", "unknown command \"%.32s\" (see %s "
		    "audit --help)", verb, SRV_PROG);
	if (i < 0)
		return code;
	if (i + 1 != argc)
		return cli_usage("audit", "unexpected argument \"%.64s\"",
		    argv[i + 1]);
	if (wit != NULL && witness_parse(wit, &wseq, witness) != 0)
		return cli_usage("audit", "--witness must be SEQ:HASH (an "
		    "entry number and 64 lowercase hex digits)");
	if (since != NULL && timefmt_parse(since, &f.since) != 0)
		return cli_usage("audit", "--since must be "
		    "YYYY-MM-DDTHH:MM:SSZ (UTC)");
	if ((rc = load_cfg(path, &cfg)) != 0)
		return rc;
	j.cfg = cfg;
	j.verb = verb;
	j.f = &f;
	j.wseq = wseq;
	j.witness = wseq > 0 ? witness : NULL;
	local_actor(j.actor);	/* who asked: before any drop */
	/* A key the operator names is read as the operator. */
	if (pub != NULL) {
		if ((rc = audit_pub_load(pub, pk, &e)) != 0) {
			config_free(cfg);
			return cli_fail(rc, &e);
		}
		j.pk = pk;
	}
	memset(tok, 0, sizeof tok);
	code = as_server(cfg, audit_job, &j, tok);
	config_free(cfg);
	return code;
}
