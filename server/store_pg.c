/*
 * store_pg: the server's storage in PostgreSQL (15 and later), for any
 * number of muster-server processes on one database; see store.h for
 * the contract, store_pg.h for the naming of a store, and
 * docs/operations.md ("PostgreSQL") for running it.
 *
 * The tables are store_sqlite.c's, column for column (times in seconds
 * since the epoch, text in the "C" collation so that ORDER BY agrees
 * with strcmp as SQLite's does).  The schema is versioned in
 * schema_version; the migrations below run at a writable open, in one
 * transaction under an advisory lock, so that servers starting together
 * migrate once.
 *
 * Several servers, one truth: nothing a decision needs is kept between
 * requests.  A token is claimed by one INSERT ... ON CONFLICT DO UPDATE
 * ... WHERE unused, so two servers enrolling with it at the same instant
 * enroll one device (the other waits for the row, then finds it used).
 * A report locks its device's row (SELECT ... FOR UPDATE) before it
 * compares seq and bytes, so the same report through two servers is
 * stored once and the second finds it a duplicate after the first
 * commits; seq replay holds the same way.  Publications of a profile id
 * are serialised by an advisory transaction lock.  Revocations and
 * profiles are read from the database on every request: every server
 * honours them as soon as they commit.
 *
 * The writer's group commit is one transaction per batch (store_begin ..
 * store_commit, a savepoint per request), with prepared statements; a
 * report is one round trip (muster_report_put, migration 3; since
 * migration 4 it also keeps the runs of reports that retention's
 * --as-of answers need) and a job's RELEASE rides with the next
 * SAVEPOINT.  A
 * lost connection fails the batch with MUSTER_ETEMP (answered 503, never
 * 202); the next store_begin reconnects, with a backoff of 100 ms
 * doubling to 5 s between attempts.  An idle connection the server
 * closed is made again before it is used (stale).  A COMMIT whose answer
 * was lost may have committed: the 503 makes the device send the report
 * again, which is then a duplicate (200).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "store_pg.h"
#include "store_rules.h"

#define PG_BACKOFF_MIN_MS	100
#define PG_BACKOFF_MAX_MS	5000
#define PG_PROFILE_LOCK		0x6d75	/* advisory lock class: profiles */

/*
 * What muster_report_put does in every version (migrations 3 to 5):
 * the device's checks and the report's row, then the history.  A
 * released migration's text must not change: these expand to it.
 */
#define REPORT_PUT_CHECKS \
	REPORT_PUT_CHECKS_AS("", "")

/*
 * The same checks, the report's row with more columns (cols, ", sig")
 * and their values (vals, ", p_sig"): migration 5 keeps the signature.
 */
#define REPORT_PUT_CHECKS_AS(cols, vals) \
	"  IF NOT FOUND THEN RETURN -1; END IF; " \
	"  IF d.revoked IS NOT NULL THEN RETURN -2; END IF; " \
	"  IF p_seq <= d.last_seq THEN " \
	"    SELECT hash INTO old FROM reports " \
	"      WHERE device = p_device AND seq = p_seq; " \
	"    IF FOUND AND old = p_hash THEN RETURN 1; END IF; " \
	"    RETURN 2; " \
	"  END IF; " \
	"  IF d.last_time IS NOT NULL AND p_time < d.last_time THEN " \
	"    RETURN 3; " \
	"  END IF; " \
	"  INSERT INTO reports (device, seq, time, received, status, " \
	"    profile, serial, hash, body" cols ") VALUES (p_device, p_seq, " \
	"p_time, " \
	"    p_now, p_status, p_profile, p_serial, p_hash, p_body" vals "); "

#define REPORT_PUT_HISTORY \
	"  IF d.last_status IS DISTINCT FROM p_status THEN " \
	"    INSERT INTO status_history (device, time, seq, received, " \
	"      status) VALUES (p_device, p_time, p_seq, p_now, p_status) " \
	"      ON CONFLICT DO NOTHING; " \
	"  END IF; " \
	"  WITH gone AS (DELETE FROM device_failing WHERE device = p_device " \
	"      AND NOT (rule = ANY (p_failing)) RETURNING rule) " \
	"    INSERT INTO failing_history (device, rule, time, seq, failing) " \
	"    SELECT p_device, rule, p_time, p_seq, 0 FROM gone " \
	"    ON CONFLICT DO NOTHING; " \
	"  WITH added AS (INSERT INTO device_failing (device, rule, since) " \
	"      SELECT DISTINCT p_device, f, p_time FROM unnest(p_failing) f " \
	"      ON CONFLICT DO NOTHING RETURNING rule) " \
	"    INSERT INTO failing_history (device, rule, time, seq, failing) " \
	"    SELECT p_device, rule, p_time, p_seq, 1 FROM added " \
	"    ON CONFLICT DO NOTHING; " \
	"  RETURN 0; " \
	"END $$;"

/*
 * What muster_report_put does after the checks since migration 4: the
 * runs of reports, then the device's row.
 */
#define REPORT_PUT_RUNS \
	"  w := p_window; rf := d.run_first; " \
	"  IF rf IS NOT NULL AND d.last_time IS NOT NULL AND " \
	"    d.run_window > 0 AND d.run_window < w THEN " \
	"    w := d.run_window; " \
	"  END IF; " \
	"  IF rf IS NULL OR d.last_time IS NULL OR " \
	"    p_time - d.last_time > w THEN " \
	"    IF rf IS NOT NULL AND d.last_time IS NOT NULL THEN " \
	"      INSERT INTO report_runs (device, first, last) " \
	"        VALUES (p_device, rf, d.last_time) ON CONFLICT " \
	"        (device, first) DO UPDATE SET last = excluded.last; " \
	"    END IF; " \
	"    rf := p_time; w := p_window; " \
	"  END IF; " \
	"  UPDATE devices SET last_seq = p_seq, last_time = p_time, " \
	"    last_received = p_now, last_status = p_status, " \
	"    last_profile = p_profile, last_serial = p_serial, " \
	"    last_stale = p_stale, run_first = rf, run_window = w " \
	"    WHERE id = p_device; "

/*
 * The migrations, in order: migration[i] brings the schema from version
 * i to i + 1.  A released migration is never edited; a change is a new
 * one appended here (and STORE_PG_SCHEMA_VERSION raised).
 */
static const char *const migration[STORE_PG_SCHEMA_VERSION] = {
	/* 1: the schema of store_sqlite.c version 3. */
	"CREATE TABLE tokens ("
	"  id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 16),"
	"  used bigint,"
	"  revoked bigint,"
	"  expires bigint"
	");"
	"CREATE TABLE devices ("
	"  id text COLLATE \"C\" PRIMARY KEY CHECK (length(id) = 32),"
	"  pubkey bytea NOT NULL CHECK (length(pubkey) = 32),"
	"  scope text COLLATE \"C\" NOT NULL"
	"    CHECK (scope IN ('personnel', 'family')),"
	"  unit text COLLATE \"C\" NOT NULL,"
	"  person text COLLATE \"C\" NOT NULL,"
	"  model text COLLATE \"C\" NOT NULL DEFAULT '',"
	"  token_id text COLLATE \"C\" NOT NULL UNIQUE REFERENCES tokens (id),"
	"  enrolled bigint NOT NULL,"
	"  revoked bigint,"
	"  last_seq bigint NOT NULL DEFAULT 0,"
	"  last_time bigint,"
	"  last_received bigint,"
	"  last_status text COLLATE \"C\""
	"    CHECK (last_status IN ('compliant', 'noncompliant')),"
	"  last_profile text COLLATE \"C\","
	"  last_serial bigint,"
	"  last_stale integer NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX devices_unit ON devices (unit);"
	"CREATE INDEX devices_model ON devices (model);"
	"CREATE INDEX devices_scope ON devices (scope);"
	"CREATE TABLE reports ("
	"  device text COLLATE \"C\" NOT NULL"
	"    REFERENCES devices (id) ON DELETE CASCADE,"
	"  seq bigint NOT NULL CHECK (seq > 0),"
	"  time bigint NOT NULL,"
	"  received bigint NOT NULL,"
	"  status text COLLATE \"C\" NOT NULL"
	"    CHECK (status IN ('compliant', 'noncompliant')),"
	"  profile text COLLATE \"C\","
	"  serial bigint,"
	"  hash bytea NOT NULL,"
	"  body bytea NOT NULL,"
	"  PRIMARY KEY (device, seq)"
	");"
	"CREATE INDEX reports_device_time ON reports (device, time);"
	"CREATE TABLE device_failing ("
	"  device text COLLATE \"C\" NOT NULL"
	"    REFERENCES devices (id) ON DELETE CASCADE,"
	"  rule text COLLATE \"C\" NOT NULL,"
	"  since bigint NOT NULL,"
	"  PRIMARY KEY (device, rule)"
	");"
	"CREATE INDEX device_failing_rule ON device_failing (rule, device);"
	"CREATE TABLE status_history ("
	"  device text COLLATE \"C\" NOT NULL"
	"    REFERENCES devices (id) ON DELETE CASCADE,"
	"  time bigint NOT NULL,"
	"  seq bigint NOT NULL,"
	"  received bigint NOT NULL,"
	"  status text COLLATE \"C\" NOT NULL"
	"    CHECK (status IN ('compliant', 'noncompliant')),"
	"  PRIMARY KEY (device, time, seq)"
	");"
	"CREATE TABLE failing_history ("
	"  device text COLLATE \"C\" NOT NULL"
	"    REFERENCES devices (id) ON DELETE CASCADE,"
	"  rule text COLLATE \"C\" NOT NULL,"
	"  time bigint NOT NULL,"
	"  seq bigint NOT NULL,"
	"  failing smallint NOT NULL CHECK (failing IN (0, 1)),"
	"  PRIMARY KEY (device, rule, time, seq)"
	");"
	"CREATE INDEX failing_history_rule ON failing_history (rule, time);"
	"CREATE TABLE consents ("
	"  device text COLLATE \"C\" PRIMARY KEY"
	"    REFERENCES devices (id) ON DELETE CASCADE,"
	"  time bigint NOT NULL,"
	"  received bigint NOT NULL,"
	"  token text COLLATE \"C\" NOT NULL CHECK (length(token) = 16),"
	"  text_hash bytea NOT NULL CHECK (length(text_hash) = 32),"
	"  profile text COLLATE \"C\","
	"  serial bigint,"
	"  remediate text NOT NULL,"
	"  body bytea NOT NULL,"
	"  sig bytea NOT NULL CHECK (length(sig) = 64)"
	");"
	"CREATE TABLE profiles ("
	"  n bigserial PRIMARY KEY,"		/* publication order */
	"  id text COLLATE \"C\" NOT NULL,"
	"  serial bigint NOT NULL CHECK (serial > 0),"
	"  scope text COLLATE \"C\" NOT NULL"
	"    CHECK (scope IN ('personnel', 'family')),"
	"  expires bigint NOT NULL,"
	"  published bigint NOT NULL,"
	"  hash bytea NOT NULL,"
	"  bytes bytea NOT NULL,"
	"  sig text NOT NULL,"
	"  UNIQUE (id, serial)"
	");"
	"CREATE INDEX profiles_scope ON profiles (scope, n);"
	"CREATE TABLE revocations ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  received bigint NOT NULL"
	");"
	/* History is append-only: only a device's deletion removes rows. */
	"CREATE FUNCTION muster_append_only() RETURNS trigger "
	"  LANGUAGE plpgsql AS $$ BEGIN "
	"  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$;"
	"CREATE TRIGGER status_history_append_only BEFORE UPDATE "
	"  ON status_history FOR EACH ROW EXECUTE FUNCTION muster_append_only();"
	"CREATE TRIGGER failing_history_append_only BEFORE UPDATE "
	"  ON failing_history FOR EACH ROW "
	"  EXECUTE FUNCTION muster_append_only();",
	/* 2: what every server sharing the store serves (store_doc_put). */
	"CREATE SEQUENCE documents_n;"
	"CREATE TABLE documents ("
	"  name text COLLATE \"C\" PRIMARY KEY,"
	"  version bigint NOT NULL,"
	"  bytes bytea NOT NULL,"
	"  n bigint NOT NULL"			/* store_generation */
	");",
	/*
	 * 3: a report in one round trip (store_pg_report_put): what
	 * store_sqlite.c does in six statements, the device row locked
	 * first.  Returns 0 stored, 1 duplicate, 2 replay, 3 back-dated,
	 * -1 unknown device, -2 revoked.
	 */
	"CREATE FUNCTION muster_report_put(p_device text, p_seq bigint, "
	"  p_time bigint, p_now bigint, p_status text, p_profile text, "
	"  p_serial bigint, p_stale integer, p_hash bytea, p_body bytea, "
	"  p_failing text[]) RETURNS integer LANGUAGE plpgsql AS $$ "
	"DECLARE d record; old bytea; "
	"BEGIN "
	"  SELECT last_seq, last_status, revoked, last_time INTO d "
	"    FROM devices WHERE id = p_device FOR UPDATE; "
	REPORT_PUT_CHECKS
	"  UPDATE devices SET last_seq = p_seq, last_time = p_time, "
	"    last_received = p_now, last_status = p_status, "
	"    last_profile = p_profile, last_serial = p_serial, "
	"    last_stale = p_stale WHERE id = p_device; "
	REPORT_PUT_HISTORY,
	/*
	 * 4: store_sqlite.c version 4 and its administrators' tables.  The
	 * runs of reports (retention keeps when a device reported after its
	 * raw reports are pruned), made from the reports held as SQLite's
	 * migration makes them; reports numbered in arrival order (n) for
	 * the pruning walk; the administrators and the append-only audit
	 * log (store_pg_admin.c); muster_report_put keeping the runs.
	 */
	"ALTER TABLE devices ADD COLUMN run_first bigint, "
	"  ADD COLUMN run_window bigint;"
	"CREATE TABLE report_runs ("
	"  device text COLLATE \"C\" NOT NULL"
	"    REFERENCES devices (id) ON DELETE CASCADE,"
	"  first bigint NOT NULL,"
	"  last bigint NOT NULL,"
	"  PRIMARY KEY (device, first)"
	");"
	"INSERT INTO report_runs (device, first, last) "
	"SELECT device, min(time), max(time) FROM (SELECT device, time, "
	"  sum(brk) OVER (PARTITION BY device ORDER BY time, seq) AS grp FROM "
	"  (SELECT device, time, seq, CASE WHEN time - lag(time) OVER "
	"   (PARTITION BY device ORDER BY time, seq) <= 120 THEN 0 ELSE 1 END "
	"   AS brk FROM reports) a) b GROUP BY device, grp;"
	"ALTER TABLE reports ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;"
	"CREATE INDEX reports_n ON reports (n);"
	"CREATE TABLE admins ("
	"  name text COLLATE \"C\" PRIMARY KEY,"
	"  roles bigint NOT NULL,"
	"  hash bytea NOT NULL UNIQUE,"
	"  created bigint NOT NULL,"
	"  rotated bigint NOT NULL"
	");"
	"CREATE TABLE admin_meta ("
	"  key text COLLATE \"C\" PRIMARY KEY,"
	"  value bigint NOT NULL"
	");"
	"CREATE TABLE audit ("
	"  seq bigint PRIMARY KEY,"
	"  time bigint NOT NULL,"
	"  actor text NOT NULL,"
	"  addr text NOT NULL,"
	"  action text NOT NULL,"
	"  object text NOT NULL,"
	"  outcome text NOT NULL,"
	"  hash bytea NOT NULL"
	");"
	"CREATE TABLE audit_checkpoints ("
	"  seq bigint PRIMARY KEY,"
	"  time bigint NOT NULL,"
	"  hash bytea NOT NULL,"
	"  sig bytea NOT NULL"
	");"
	/* No code path (retention, a restore tool) removes an entry. */
	"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit "
	"  FOR EACH ROW EXECUTE FUNCTION muster_append_only();"
	"CREATE TRIGGER audit_truncate BEFORE TRUNCATE ON audit "
	"  FOR EACH STATEMENT EXECUTE FUNCTION muster_append_only();"
	"CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE "
	"  ON audit_checkpoints FOR EACH ROW "
	"  EXECUTE FUNCTION muster_append_only();"
	"CREATE TRIGGER audit_checkpoints_truncate BEFORE TRUNCATE "
	"  ON audit_checkpoints FOR EACH STATEMENT "
	"  EXECUTE FUNCTION muster_append_only();"
	"DROP FUNCTION muster_report_put(text, bigint, bigint, bigint, text, "
	"  text, bigint, integer, bytea, bytea, text[]);"
	/*
	 * As version 3's, and: the open run (run_first .. last_time) goes
	 * on while reports come no more than the window apart, the
	 * smallest window it met; a later report closes it into
	 * report_runs and opens the next (store_sqlite.c does the same).
	 */
	"CREATE FUNCTION muster_report_put(p_device text, p_seq bigint, "
	"  p_time bigint, p_now bigint, p_status text, p_profile text, "
	"  p_serial bigint, p_stale integer, p_hash bytea, p_body bytea, "
	"  p_failing text[], p_window bigint) RETURNS integer "
	"  LANGUAGE plpgsql AS $$ "
	"DECLARE d record; old bytea; w bigint; rf bigint; "
	"BEGIN "
	"  SELECT last_seq, last_status, revoked, last_time, run_first, "
	"    run_window INTO d FROM devices WHERE id = p_device FOR UPDATE; "
	REPORT_PUT_CHECKS
	REPORT_PUT_RUNS
	REPORT_PUT_HISTORY,
	/*
	 * 5: the device's Ed25519 signature over each report's body (the
	 * Muster-Signature the server verified), kept so that a stored
	 * report can be verified again later, as store_sqlite.c's version
	 * 5.  Rows stored before stay NULL ("not kept").  The column is new
	 * and all NULL, so its check is not validated against the rows
	 * (NOT VALID: no scan of a year of reports under the migration's
	 * lock); it holds for every row written from now on.
	 */
	"ALTER TABLE reports ADD COLUMN sig bytea, "
	"  ADD CONSTRAINT reports_sig_len "
	"  CHECK (sig IS NULL OR octet_length(sig) = 64) NOT VALID;"
	"DROP FUNCTION muster_report_put(text, bigint, bigint, bigint, text, "
	"  text, bigint, integer, bytea, bytea, text[], bigint);"
	/* As version 4's, and the signature (NULL: none to keep). */
	"CREATE FUNCTION muster_report_put(p_device text, p_seq bigint, "
	"  p_time bigint, p_now bigint, p_status text, p_profile text, "
	"  p_serial bigint, p_stale integer, p_hash bytea, p_body bytea, "
	"  p_failing text[], p_window bigint, p_sig bytea) RETURNS integer "
	"  LANGUAGE plpgsql AS $$ "
	"DECLARE d record; old bytea; w bigint; rf bigint; "
	"BEGIN "
	"  SELECT last_seq, last_status, revoked, last_time, run_first, "
	"    run_window INTO d FROM devices WHERE id = p_device FOR UPDATE; "
	REPORT_PUT_CHECKS_AS(", sig", ", p_sig")
	REPORT_PUT_RUNS
	REPORT_PUT_HISTORY,
};

enum stmt_id {
	ST_TOKEN_GET,
	ST_TOKEN_CLAIM,
	ST_DEVICE_INSERT,
	ST_DEVICE_GET,
	ST_DEVICE_DELETE,
	ST_CONSENT_INSERT,
	ST_CONSENT_REPLACE,
	ST_REVOKE_FORGET,
	ST_REVOKE_INSERT,
	ST_REVOKE_TOKEN,
	ST_REVOKE_DEVICE,
	ST_PROFILE_LOCK,
	ST_PROFILE_NEWEST,
	ST_PROFILE_INSERT,
	ST_PROFILE_CURRENT,
	ST_PROFILE_FIND,
	ST_TOKEN_DEVICE,
	ST_TOKEN_FORGET,
	ST_COUNT_DEVICES,
	ST_COUNT_REPORTS,
	ST_DOC_PUT,
	ST_DOC_GET,
	ST_GENERATION,
	ST_REPORT_PUT,
	ST_PING,
	ST__N
};

#define CONSENT_COLS "(device, time, received, token, text_hash, profile, "\
	"serial, remediate, body, sig) VALUES ($1, $2, $3, $4, $5, $6, $7, "\
	"$8, $9, $10)"

static const char *const stmt_sql[ST__N] = {
	[ST_TOKEN_GET] = "SELECT used, revoked FROM tokens WHERE id = $1",
	/* One row back: the token was unused and unrevoked, and is ours. */
	[ST_TOKEN_CLAIM] = "INSERT INTO tokens (id, used, expires) "
	    "VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE "
	    "SET used = excluded.used, expires = excluded.expires "
	    "WHERE tokens.used IS NULL AND tokens.revoked IS NULL RETURNING 1",
	[ST_DEVICE_INSERT] = "INSERT INTO devices (id, pubkey, scope, unit, "
	    "person, model, token_id, enrolled) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	[ST_DEVICE_GET] = "SELECT pubkey, scope, unit, person, model, "
	    "token_id, enrolled, revoked, last_seq FROM devices WHERE id = $1",
	[ST_DEVICE_DELETE] = "DELETE FROM devices WHERE id = $1",
	[ST_CONSENT_INSERT] = "INSERT INTO consents " CONSENT_COLS,
	[ST_CONSENT_REPLACE] = "INSERT INTO consents " CONSENT_COLS
	    " ON CONFLICT (device) DO UPDATE SET time = excluded.time, "
	    "received = excluded.received, token = excluded.token, "
	    "text_hash = excluded.text_hash, profile = excluded.profile, "
	    "serial = excluded.serial, remediate = excluded.remediate, "
	    "body = excluded.body, sig = excluded.sig",
	[ST_REVOKE_FORGET] = "DELETE FROM revocations WHERE id = $1",
	[ST_REVOKE_INSERT] = "INSERT INTO revocations (id, received) "
	    "VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
	[ST_REVOKE_TOKEN] = "INSERT INTO tokens (id, revoked) VALUES ($1, $2) "
	    "ON CONFLICT (id) DO UPDATE "
	    "SET revoked = coalesce(tokens.revoked, excluded.revoked)",
	[ST_REVOKE_DEVICE] = "UPDATE devices SET revoked = "
	    "coalesce(revoked, $2) WHERE id = $1",
	[ST_PROFILE_LOCK] = "SELECT pg_advisory_xact_lock(27765, hashtext($1))",
	[ST_PROFILE_NEWEST] = "SELECT serial, hash FROM profiles "
	    "WHERE id = $1 ORDER BY serial DESC LIMIT 1",
	[ST_PROFILE_INSERT] = "INSERT INTO profiles (id, serial, scope, "
	    "expires, published, hash, bytes, sig) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	[ST_PROFILE_CURRENT] = "SELECT id, serial, expires, published, bytes, "
	    "sig FROM profiles WHERE scope = $1 ORDER BY n DESC LIMIT 1",
	[ST_PROFILE_FIND] = "SELECT id, serial, expires, published, bytes, "
	    "sig FROM profiles WHERE id = $1 AND serial = $2",
	[ST_TOKEN_DEVICE] = "SELECT id FROM devices WHERE token_id = $1",
	/* A revoked token stays, or the revocation would be lost with it. */
	[ST_TOKEN_FORGET] = "DELETE FROM tokens "
	    "WHERE id = $1 AND revoked IS NULL",
	[ST_COUNT_DEVICES] = "SELECT count(*) FROM devices "
	    "WHERE revoked IS NULL",
	[ST_COUNT_REPORTS] = "SELECT count(*) FROM reports",
	[ST_DOC_PUT] = "INSERT INTO documents (name, version, bytes, n) "
	    "VALUES ($1, $2, $3, nextval('documents_n')) ON CONFLICT (name) "
	    "DO UPDATE SET version = excluded.version, bytes = excluded.bytes, "
	    "n = excluded.n WHERE documents.version < excluded.version "
	    "RETURNING 1",
	[ST_DOC_GET] = "SELECT bytes, version FROM documents WHERE name = $1",
	[ST_GENERATION] = "SELECT coalesce((SELECT max(n) FROM profiles), 0) "
	    "+ coalesce((SELECT max(n) FROM documents), 0)",
	[ST_REPORT_PUT] = "SELECT muster_report_put($1, $2, $3, $4, $5, $6, "
	    "$7, $8, $9, $10, $11, $12, $13)",
	[ST_PING] = "SELECT 1 FROM devices LIMIT 1",
};

static void
now_mono(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

/* Prepares every statement on st's new connection. */
static int
prepare(struct store *st, struct muster_err *e)
{
	char name[16];
	PGresult *r;
	int i, rc;

	for (i = 0; i < ST__N; i++) {
		snprintf(name, sizeof name, "m%d", i);
		r = PQprepare(st->c, name, stmt_sql[i], 0, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = store_pg_err(st->c, r, "prepare", e);
			PQclear(r);
			return rc;
		}
		PQclear(r);
	}
	return 0;
}

/*
 * Brings the schema on c to STORE_PG_SCHEMA_VERSION: one transaction,
 * under an advisory lock, so that servers starting together migrate
 * once.  MUSTER_ECONFIG when the database is newer than this program.
 */
static int
migrate(PGconn *c, struct muster_err *e)
{
	char sql[128];
	int64_t v;
	int rc;

	snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
	    (long long)STORE_PG_MIGRATE_LOCK);
	if ((rc = store_pg_exec(c, sql, e)) != 0)
		return rc;
	if ((rc = store_pg_exec(c, "CREATE TABLE IF NOT EXISTS schema_version "
	    "(version integer PRIMARY KEY, applied timestamptz NOT NULL "
	    "DEFAULT now())", e)) != 0 ||
	    (rc = store_pg_version(c, &v, e)) != 0)
		goto out;
	if (v > STORE_PG_SCHEMA_VERSION) {
		rc = err_set(e, MUSTER_ECONFIG, "store: database schema version "
		    "%lld, this server knows %d", (long long)v,
		    STORE_PG_SCHEMA_VERSION);
		goto out;
	}
	for (; v < STORE_PG_SCHEMA_VERSION; v++) {
		if ((rc = store_pg_exec(c, migration[v], e)) != 0)
			goto out;
		snprintf(sql, sizeof sql, "INSERT INTO schema_version "
		    "(version) VALUES (%lld)", (long long)v + 1);
		if ((rc = store_pg_exec(c, sql, e)) != 0)
			goto out;
	}
	rc = store_pg_exec(c, "COMMIT", e);
out:
	if (rc != 0)
		(void)store_pg_exec(c, "ROLLBACK", NULL);
	return rc;
}

/*
 * Whether an idle connection was closed by its server (PostgreSQL
 * restarted, a failover): the server has nothing to say to an idle
 * session of ours (no LISTEN), so a readable socket means its goodbye.
 * libpq would learn it only by failing the next statement, and a
 * handle used seldom (a worker's reader) would turn that into one 503
 * per handle after every restart.
 */
static int
stale(PGconn *c)
{
	struct pollfd p = { PQsocket(c), POLLIN, 0 };

	if (p.fd < 0)
		return 1;
	return poll(&p, 1, 0) > 0;
}

/* A transaction is lost with its connection: never reconnect in one. */
int
store_pg_ensure(struct store *st, struct muster_err *e)
{
	struct timespec now;
	int rc;

	if (st->c != NULL && PQstatus(st->c) == CONNECTION_OK &&
	    (st->tx || !stale(st->c)))
		return 0;
	if (st->tx)
		return err_set(e, MUSTER_ETEMP, "store: connection lost in a "
		    "transaction");
	now_mono(&now);
	if (st->backoff_ms > 0 && (now.tv_sec < st->retry_at.tv_sec ||
	    (now.tv_sec == st->retry_at.tv_sec &&
	    now.tv_nsec < st->retry_at.tv_nsec)))
		return err_set(e, MUSTER_ETEMP, "store: PostgreSQL unreachable; "
		    "next attempt within %d ms", st->backoff_ms);
	PQfinish(st->c);
	st->c = NULL;
	if ((rc = store_pg_connect(st->uri, &st->c, e)) == 0 &&
	    st->readonly)
		rc = store_pg_exec(st->c, "SET default_transaction_read_only "
		    "= on", e);
	if (rc == 0)
		rc = prepare(st, e);
	if (rc != 0) {
		PQfinish(st->c);
		st->c = NULL;
		st->backoff_ms = st->backoff_ms == 0 ? PG_BACKOFF_MIN_MS :
		    st->backoff_ms * 2;
		if (st->backoff_ms > PG_BACKOFF_MAX_MS)
			st->backoff_ms = PG_BACKOFF_MAX_MS;
		st->retry_at = now;
		st->retry_at.tv_sec += st->backoff_ms / 1000;
		st->retry_at.tv_nsec += (long)(st->backoff_ms % 1000) *
		    1000000L;
		if (st->retry_at.tv_nsec >= 1000000000L) {
			st->retry_at.tv_sec++;
			st->retry_at.tv_nsec -= 1000000000L;
		}
		return rc == MUSTER_EINTERNAL ? rc : MUSTER_ETEMP;
	}
	st->backoff_ms = 0;
	return 0;
}

/*
 * Runs prepared statement id with q: its result when it succeeded (the
 * caller PQclears it), else NULL with *rc and e set.
 */
static PGresult *
run(struct store *st, enum stmt_id id, const struct store_pg_params *q,
    const char *what, int *rc, struct muster_err *e)
{
	char name[16];
	PGresult *r;
	int s;

	if (q->over) {
		*rc = err_set(e, MUSTER_EINTERNAL, "store: %s: too many "
		    "parameters", what);
		return NULL;
	}
	if ((*rc = store_pg_ensure(st, e)) != 0)
		return NULL;
	snprintf(name, sizeof name, "m%d", (int)id);
	r = PQexecPrepared(st->c, name, q->n, q->v, q->len, q->fmt, 0);
	s = PQresultStatus(r);
	if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
		*rc = 0;
		return r;
	}
	*rc = store_pg_err(st->c, r, what, e);
	PQclear(r);
	return NULL;
}

/* run, for a statement whose rows do not matter; 0 or its error. */
static int
run_plain(struct store *st, enum stmt_id id, const struct store_pg_params *q,
    const char *what, struct muster_err *e)
{
	PGresult *r;
	int rc;

	if ((r = run(st, id, q, what, &rc, e)) != NULL)
		PQclear(r);
	return rc;
}

/* A transaction-control statement (no parameters, not prepared). */
static int
ctl(struct store *st, const char *sql, struct muster_err *e)
{
	int rc;

	if ((rc = store_pg_ensure(st, e)) != 0)
		return rc;
	return store_pg_exec(st->c, sql, e);
}

int
store_pg_open(const char *uri, int readonly, struct store **out,
    struct muster_err *e)
{
	struct store *st = NULL;
	int64_t v;
	int rc;

	*out = NULL;
	if ((st = calloc(1, sizeof *st)) == NULL ||
	    (st->uri = strdup(uri)) == NULL) {
		rc = err_set(e, MUSTER_EINTERNAL, "out of memory");
		goto out;
	}
	st->ops = &store_pg_ops;
	st->readonly = readonly;
	if ((rc = store_pg_connect(uri, &st->c, e)) != 0)
		goto out;
	if (!readonly && (rc = migrate(st->c, e)) != 0)
		goto out;
	if ((rc = store_pg_version_check(st->c, &v, e)) != 0)
		goto out;
	if (v == 0) {	/* read-only, before any server migrated it */
		rc = err_set(e, MUSTER_ECONFIG, "store: no store in the "
		    "database yet (start the server once)");
		goto out;
	}
	if (readonly && (rc = store_pg_exec(st->c,
	    "SET default_transaction_read_only = on", e)) != 0)
		goto out;
	if ((rc = prepare(st, e)) != 0)
		goto out;
	*out = st;
	st = NULL;
out:
	store_pg_close(st);
	return rc;
}

void
store_pg_close(struct store *st)
{
	if (st == NULL)
		return;
	PQfinish(st->c);
	if (st->uri != NULL)
		sodium_memzero(st->uri, strlen(st->uri));	/* a password */
	free(st->uri);
	free(st);
}

int
store_pg_begin(struct store *st, struct muster_err *e)
{
	int rc;

	st->release = 0;
	if ((rc = ctl(st, "BEGIN", e)) == 0)
		st->tx = 1;
	return rc;
}

int
store_pg_commit(struct store *st, struct muster_err *e)
{
	PGresult *r;
	int rc = 0;

	st->release = 0;	/* COMMIT releases every savepoint */
	if (st->c == NULL || PQstatus(st->c) != CONNECTION_OK) {
		st->tx = 0;
		return err_set(e, MUSTER_ETEMP, "store: connection lost in a "
		    "transaction");
	}
	r = PQexec(st->c, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = store_pg_err(st->c, r, "commit", e);
	/* An aborted transaction's COMMIT answers ROLLBACK. */
	else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
		rc = err_set(e, MUSTER_ETEMP, "store: transaction was rolled "
		    "back");
	PQclear(r);
	st->tx = 0;
	return rc;
}

void
store_pg_rollback(struct store *st)
{
	st->release = 0;
	if (st->c != NULL && PQstatus(st->c) == CONNECTION_OK &&
	    PQtransactionStatus(st->c) != PQTRANS_IDLE)
		(void)store_pg_exec(st->c, "ROLLBACK", NULL);
	st->tx = 0;
}

/*
 * A job's RELEASE rides with the next job's SAVEPOINT (or is made moot
 * by the COMMIT): one round trip per job fewer in the writer's batch.
 */
int
store_pg_savepoint(struct store *st, struct muster_err *e)
{
	int pending = st->release;

	st->release = 0;
	return ctl(st, pending ? "RELEASE job; SAVEPOINT job" :
	    "SAVEPOINT job", e);
}

int
store_pg_release(struct store *st, struct muster_err *e)
{
	(void)e;
	st->release = 1;
	return 0;
}

void
store_pg_rollback_savepoint(struct store *st)
{
	st->release = 0;
	(void)ctl(st, "ROLLBACK TO job; RELEASE job", NULL);
}

int
store_pg_device_add(struct store *st, const struct store_device *d,
    time_t expires, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	time_t now = time(NULL);
	int rc, used, revoked;

	if ((rc = store_pg_token_get(st, d->token_id, &used, &revoked, e)) != 0)
		return rc;
	if (revoked)
		return err_set(e, MUSTER_ETRUST, "token %s is revoked",
		    d->token_id);
	if (used)
		return err_set(e, MUSTER_ETRUST, "token %s was already used",
		    d->token_id);
	store_pg_text(&q, d->token_id);
	store_pg_int(&q, now);
	store_pg_int(&q, expires);
	if ((r = run(st, ST_TOKEN_CLAIM, &q, "token use", &rc, e)) == NULL)
		return rc;
	used = PQntuples(r) == 0;	/* another server was first */
	PQclear(r);
	if (used) {
		if ((rc = store_pg_token_get(st, d->token_id, &used, &revoked,
		    e)) != 0)
			return rc;
		return err_set(e, MUSTER_ETRUST, revoked ? "token %s is "
		    "revoked" : "token %s was already used", d->token_id);
	}
	q.n = 0;
	store_pg_device_params(&q, d, d->enrolled != 0 ? d->enrolled : now);
	return run_plain(st, ST_DEVICE_INSERT, &q, "device insert", e);
}

static void
copy_col(char *dst, size_t size, const PGresult *r, int row, int col)
{
	snprintf(dst, size, "%s", PQgetisnull(r, row, col) ? "" :
	    PQgetvalue(r, row, col));
}

int
store_pg_device_get(struct store *st, const char *id, struct store_device *d,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	unsigned char *pk = NULL;
	PGresult *r;
	size_t n;
	int rc;

	store_pg_text(&q, id);
	if ((r = run(st, ST_DEVICE_GET, &q, "device get", &rc, e)) == NULL)
		return rc;
	if (PQntuples(r) == 0) {
		rc = err_set(e, MUSTER_ENOINPUT, "unknown device");
		goto out;
	}
	memset(d, 0, sizeof *d);
	snprintf(d->id, sizeof d->id, "%s", id);
	if ((rc = store_pg_bytea(r, 0, 0, &pk, &n, e)) != 0)
		goto out;
	if (n != sizeof d->pk) {
		rc = err_set(e, MUSTER_EIO, "store: device key of bad size");
		goto out;
	}
	memcpy(d->pk, pk, sizeof d->pk);
	if (profile_scope_parse(PQgetvalue(r, 0, 1), &d->scope) != 0) {
		rc = err_set(e, MUSTER_EIO, "store: device of unknown scope");
		goto out;
	}
	copy_col(d->unit, sizeof d->unit, r, 0, 2);
	copy_col(d->person, sizeof d->person, r, 0, 3);
	copy_col(d->model, sizeof d->model, r, 0, 4);
	copy_col(d->token_id, sizeof d->token_id, r, 0, 5);
	d->enrolled = (time_t)store_pg_getint(r, 0, 6);
	d->revoked = !store_pg_isnull(r, 0, 7);
	d->last_seq = store_pg_getint(r, 0, 8);
out:
	free(pk);
	PQclear(r);
	return rc;
}

/* The array literal of r's failing rules, '{"a","b"}', malloc'd. */
static char *
failing_array(const struct store_report *r)
{
	size_t i, n = 3, k = 0;
	const char *c;
	char *a;

	for (i = 0; i < r->nfailing; i++)
		n += 2 * strlen(r->failing[i]) + 3;
	if ((a = malloc(n)) == NULL)
		return NULL;
	a[k++] = '{';
	for (i = 0; i < r->nfailing; i++) {
		if (i > 0)
			a[k++] = ',';
		a[k++] = '"';
		for (c = r->failing[i]; *c != '\0'; c++) {
			if (*c == '"' || *c == '\\')
				a[k++] = '\\';
			a[k++] = *c;
		}
		a[k++] = '"';
	}
	a[k++] = '}';
	a[k] = '\0';
	return a;
}

int
store_pg_report_put(struct store *st, const struct store_report *r,
    enum store_put *res, struct muster_err *e)
{
	unsigned char hash[crypto_generichash_BYTES];
	struct store_pg_params q = { .n = 0 };
	char *failing;
	PGresult *pr;
	int rc;

	crypto_generichash(hash, sizeof hash, r->body, r->len, NULL, 0);
	if ((failing = failing_array(r)) == NULL)
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	store_pg_text(&q, r->device);
	store_pg_int(&q, r->seq);
	store_pg_int(&q, r->time);
	store_pg_int(&q, r->received != 0 ? r->received : time(NULL));
	store_pg_text(&q, r->compliant ? "compliant" : "noncompliant");
	store_pg_text(&q, r->profile);
	store_pg_int(&q, r->serial);
	store_pg_int(&q, r->stale);
	store_pg_bin(&q, hash, sizeof hash);
	store_pg_bin(&q, r->body, r->len);
	store_pg_text(&q, failing);
	store_pg_int(&q, r->window > 0 ? r->window : STORE_RUN_WINDOW_DEFAULT);
	if (r->sig != NULL)
		store_pg_bin(&q, r->sig, STORE_SIG_LEN);
	else
		store_pg_text(&q, NULL);	/* not kept */
	pr = run(st, ST_REPORT_PUT, &q, "report", &rc, e);
	free(failing);
	if (pr == NULL)
		return rc;
	switch (store_pg_getint(pr, 0, 0)) {
	case 0:
		*res = STORE_STORED;
		break;
	case 1:
		*res = STORE_DUPLICATE;
		break;
	case 2:
		*res = STORE_REPLAY;
		break;
	case 3:
		*res = STORE_BACKDATED;
		break;
	case -1:
		rc = err_set(e, MUSTER_ENOINPUT, "unknown device");
		break;
	case -2:
		rc = err_set(e, MUSTER_ETRUST, "device revoked");
		break;
	default:
		rc = err_set(e, MUSTER_EIO, "store: report: unexpected answer");
		break;
	}
	PQclear(pr);
	return rc;
}

int
store_pg_revoke(struct store *st, const char *id, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	enum stmt_id what;
	int rc, token;

	if ((rc = store_rules_revoke_id(id, &token, e)) != 0)
		return rc;
	what = token ? ST_REVOKE_TOKEN : ST_REVOKE_DEVICE;
	store_pg_text(&q, id);
	store_pg_int(&q, time(NULL));
	if ((rc = run_plain(st, ST_REVOKE_INSERT, &q, "revocation", e)) != 0)
		return rc;
	return run_plain(st, what, &q, "revoke", e);
}

int
store_pg_revoke_used(struct store *st, const char *id,
    char device[DEVICE_ID_HEX], struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	device[0] = '\0';
	if ((rc = store_pg_revoke(st, id, e)) != 0 ||
	    !store_rules_hex_id(id, TOKEN_ID_HEX - 1))
		return rc;
	store_pg_text(&q, id);
	if ((r = run(st, ST_TOKEN_DEVICE, &q, "token device", &rc, e)) ==
	    NULL)
		return rc;
	if (PQntuples(r) == 1)
		copy_col(device, DEVICE_ID_HEX, r, 0, 0);
	PQclear(r);
	if (device[0] == '\0')
		return 0;
	if (!store_rules_hex_id(device, DEVICE_ID_HEX - 1)) {
		device[0] = '\0';
		return err_set(e, MUSTER_EIO, "token %s: a malformed device "
		    "id in the store", id);
	}
	return store_pg_revoke(st, device, e);
}

int
store_pg_token_get(struct store *st, const char *token_id, int *used,
    int *revoked, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	*used = *revoked = 0;
	store_pg_text(&q, token_id);
	if ((r = run(st, ST_TOKEN_GET, &q, "token", &rc, e)) == NULL)
		return rc;
	if (PQntuples(r) == 1) {
		*used = !store_pg_isnull(r, 0, 0);
		*revoked = !store_pg_isnull(r, 0, 1);
	}
	PQclear(r);
	return 0;
}

int
store_pg_token_revoked(struct store *st, const char *token_id, int *revoked,
    struct muster_err *e)
{
	int used;

	return store_pg_token_get(st, token_id, &used, revoked, e);
}

int
store_pg_device_delete(struct store *st, const char *id,
    struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	struct store_device d;
	PGresult *r;
	int rc, gone;

	if ((rc = store_pg_device_get(st, id, &d, e)) != 0)
		return rc;
	store_pg_text(&q, id);
	if ((r = run(st, ST_DEVICE_DELETE, &q, "device delete", &rc, e)) ==
	    NULL)
		return rc;
	gone = strcmp(PQcmdTuples(r), "0") != 0;
	PQclear(r);
	if (!gone)
		return err_set(e, MUSTER_ENOINPUT, "unknown device");
	/* A revoked device's id is all that would be left of it. */
	if ((rc = run_plain(st, ST_REVOKE_FORGET, &q, "revocation delete",
	    e)) != 0 || d.scope != SCOPE_FAMILY)
		return rc;
	/* A family member's token id names them in the roster. */
	q.n = 0;
	store_pg_text(&q, d.token_id);
	return run_plain(st, ST_TOKEN_FORGET, &q, "token delete", e);
}

/*
 * PostgreSQL gives no way to overwrite a deleted row's bytes in place:
 * nothing is pending here, and docs/operations.md ("Erasure on
 * PostgreSQL") says what stays where after an unenroll.
 */
int
store_pg_scrub(struct store *st, struct muster_err *e)
{
	(void)st;
	(void)e;
	return 0;
}

int
store_pg_scrub_pending(const struct store *st)
{
	(void)st;
	return 0;
}

static int
consent_put(struct store *st, const struct store_consent *c,
    enum stmt_id which, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	if (c->len > INT32_MAX)
		return err_set(e, MUSTER_EDATA, "consent too large");
	store_pg_text(&q, c->device);
	store_pg_int(&q, c->time);
	store_pg_int(&q, time(NULL));
	store_pg_text(&q, c->token_id);
	store_pg_bin(&q, c->text_hash, sizeof c->text_hash);
	store_pg_text(&q, c->profile);
	if (c->profile != NULL)
		store_pg_int(&q, c->serial);
	else
		store_pg_text(&q, NULL);
	store_pg_text(&q, c->remediate);
	store_pg_bin(&q, c->body, c->len);
	store_pg_bin(&q, c->sig, sizeof c->sig);
	return run_plain(st, which, &q, "consent insert", e);
}

int
store_pg_consent_add(struct store *st, const struct store_consent *c,
    struct muster_err *e)
{
	return consent_put(st, c, ST_CONSENT_INSERT, e);
}

int
store_pg_consent_replace(struct store *st, const struct store_consent *c,
    struct muster_err *e)
{
	return consent_put(st, c, ST_CONSENT_REPLACE, e);
}

int
store_pg_profile_publish(struct store *st, const struct profile *p,
    const char *bytes, size_t len, const char *sig, size_t siglen,
    enum store_put *res, struct muster_err *e)
{
	unsigned char hash[STORE_HASH_LEN];
	struct store_pg_params q = { .n = 0 };
	unsigned char *old = NULL;
	PGresult *r;
	size_t n;
	int rc, same;
	int64_t serial;

	if ((rc = store_rules_profile_hash(bytes, len, siglen, hash, e)) != 0)
		return rc;
	store_pg_text(&q, p->id);
	/* Two servers publishing the same id take turns. */
	if ((rc = run_plain(st, ST_PROFILE_LOCK, &q, "profile lock", e)) != 0)
		return rc;
	if ((r = run(st, ST_PROFILE_NEWEST, &q, "profile", &rc, e)) == NULL)
		return rc;
	if (PQntuples(r) == 1) {
		serial = store_pg_getint(r, 0, 0);
		if ((rc = store_pg_bytea(r, 0, 1, &old, &n, e)) != 0) {
			PQclear(r);
			return rc;
		}
		same = n == sizeof hash && memcmp(old, hash, n) == 0;
		free(old);
		PQclear(r);
		if (!store_rules_profile_newer(p, serial, same, res))
			return 0;
	} else
		PQclear(r);
	q.n = 0;
	store_pg_text(&q, p->id);
	store_pg_int(&q, p->serial);
	store_pg_text(&q, profile_scope_name(p->scope));
	store_pg_int(&q, p->expires);
	store_pg_int(&q, time(NULL));
	store_pg_bin(&q, hash, sizeof hash);
	store_pg_bin(&q, bytes, len);
	store_pg_bin(&q, sig, siglen);	/* text's binary form: its bytes */
	if ((rc = run_plain(st, ST_PROFILE_INSERT, &q, "profile insert", e)) !=
	    0)
		return rc;
	*res = STORE_STORED;
	return 0;
}

/* The row of a profile query into *out. */
static int
profile_row(PGresult *r, const char *what, struct store_profile *out,
    struct muster_err *e)
{
	unsigned char *b = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	if (PQntuples(r) == 0)
		return err_set(e, MUSTER_ENOINPUT, "no profile published for "
		    "%s", what);
	copy_col(out->id, sizeof out->id, r, 0, 0);
	out->serial = store_pg_getint(r, 0, 1);
	out->expires = (time_t)store_pg_getint(r, 0, 2);
	out->published = (time_t)store_pg_getint(r, 0, 3);
	if ((rc = store_pg_bytea(r, 0, 4, &b, &out->len, e)) != 0)
		return rc;
	out->bytes = (char *)b;
	out->siglen = (size_t)PQgetlength(r, 0, 5);
	if ((out->sig = malloc(out->siglen + 1)) == NULL) {
		store_profile_clear(out);
		return err_set(e, MUSTER_EINTERNAL, "out of memory");
	}
	memcpy(out->sig, PQgetvalue(r, 0, 5), out->siglen);
	out->sig[out->siglen] = '\0';
	return 0;
}

int
store_pg_profile_current(struct store *st, enum profile_scope scope,
    struct store_profile *out, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	char what[32];
	PGresult *r;
	int rc;

	memset(out, 0, sizeof *out);
	store_pg_text(&q, profile_scope_name(scope));
	if ((r = run(st, ST_PROFILE_CURRENT, &q, "profile", &rc, e)) == NULL)
		return rc;
	snprintf(what, sizeof what, "scope %s", profile_scope_name(scope));
	rc = profile_row(r, what, out, e);
	PQclear(r);
	return rc;
}

int
store_pg_profile_find(struct store *st, const char *id, int64_t serial,
    struct store_profile *out, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	char what[PROFILE_ID_MAX + 48];
	PGresult *r;
	int rc;

	memset(out, 0, sizeof *out);
	store_pg_text(&q, id);
	store_pg_int(&q, serial);
	if ((r = run(st, ST_PROFILE_FIND, &q, "profile", &rc, e)) == NULL)
		return rc;
	snprintf(what, sizeof what, "%s serial %lld", id, (long long)serial);
	rc = profile_row(r, what, out, e);
	PQclear(r);
	return rc;
}

int
store_pg_profile_get(struct store *st, enum profile_scope scope,
    char **bytes, size_t *len, char **sig, size_t *siglen,
    struct muster_err *e)
{
	struct store_profile p;
	int rc;

	*bytes = *sig = NULL;
	*len = *siglen = 0;
	if ((rc = store_pg_profile_current(st, scope, &p, e)) != 0)
		return rc;
	*bytes = p.bytes;
	*len = p.len;
	*sig = p.sig;
	*siglen = p.siglen;
	return 0;
}

static int
count(struct store *st, enum stmt_id id, int64_t *n, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	if ((r = run(st, id, &q, "count", &rc, e)) == NULL)
		return rc;
	*n = store_pg_getint(r, 0, 0);
	PQclear(r);
	return 0;
}

int
store_pg_count_devices(struct store *st, int64_t *n, struct muster_err *e)
{
	return count(st, ST_COUNT_DEVICES, n, e);
}

int
store_pg_count_reports(struct store *st, int64_t *n, struct muster_err *e)
{
	return count(st, ST_COUNT_REPORTS, n, e);
}

int
store_pg_doc_put(struct store *st, const char *name, int64_t version,
    const char *bytes, size_t len, int *stored, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	*stored = 0;
	store_pg_text(&q, name);
	store_pg_int(&q, version);
	store_pg_bin(&q, bytes, len);
	if ((r = run(st, ST_DOC_PUT, &q, "document", &rc, e)) == NULL)
		return rc;
	*stored = PQntuples(r) == 1;
	PQclear(r);
	return 0;
}

int
store_pg_doc_get(struct store *st, const char *name, char **bytes,
    size_t *len, int64_t *version, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	*bytes = NULL;
	*len = 0;
	*version = 0;
	store_pg_text(&q, name);
	if ((r = run(st, ST_DOC_GET, &q, "document", &rc, e)) == NULL)
		return rc;
	if (PQntuples(r) == 0)
		rc = err_set(e, MUSTER_ENOINPUT, "no document %s", name);
	else if ((rc = store_pg_bytea(r, 0, 0, (unsigned char **)bytes, len,
	    e)) == 0)
		*version = store_pg_getint(r, 0, 1);
	PQclear(r);
	return rc;
}

int
store_pg_generation(struct store *st, int64_t *gen, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };
	PGresult *r;
	int rc;

	*gen = 0;
	if ((r = run(st, ST_GENERATION, &q, "generation", &rc, e)) == NULL)
		return rc;
	*gen = store_pg_getint(r, 0, 0);
	PQclear(r);
	return 0;
}

int
store_pg_ping(struct store *st, struct muster_err *e)
{
	struct store_pg_params q = { .n = 0 };

	/* A read of a real table: reachable, the schema there. */
	return run_plain(st, ST_PING, &q, "ping", e);
}
