#!/bin/bash
# The tamper-evident audit log, against a real server on loopback (TLS)
# and its real SQLite file: wrong credentials logged with the client's
# address (the first 5 a minute, the rest counted in one summary); administrative reads logged with their object, escaped when
# shown; a signed checkpoint every 64 entries and at shutdown, each also
# a log line; the audit key 0600.  Then, as an attacker with the file and
# the sqlite3 CLI (but not the audit key), on copies of the store: an
# edited entry, an edited entry with the whole chain after it recomputed,
# a deleted entry, a truncated tail, a forged checkpoint, each detected
# by `muster-server audit verify` (exit 77) naming the entry; the
# rollback to an older checkpoint that the log alone cannot show, caught
# with --witness from the server's logged checkpoint line; a wrong public
# key.  Every wait is bounded; the server is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
BOOT=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
DB=org/data/muster.db
V() { "$SERVER" audit verify --config org/server.cfg "$@"; }
S() { "$SERVER" audit show --config org/server.cfg "$@"; }

start_server() {
	"$SERVER" --config org/server.cfg 2>>server.log &
	SPID=$!
	for _ in $(seq 1 100); do
		[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = "ok" ] && return 0
		kill -0 "$SPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
# stop_server: SIGTERM; STOPPED is the server's exit code.
stop_server() {
	kill -TERM "$SPID"
	wait "$SPID" 2>/dev/null
	STOPPED=$?
	SPID=
}

start_server || { echo "Bail out! the server did not start"; exit 1; }
t_check "the audit key is 0600" test "$(stat -c %a org/data/audit.key)" = 600
t_check "audit.pub is 64 hex digits" grep -Eqx '[0-9a-f]{64}' org/data/audit.pub

# 70 wrong credentials over one connection: the first 5 are entries 2..6
# (after the bootstrap administrator's entry 1), the other 65 are
# counted and written as one summary (entry 7) before the next entry;
# then 64 reads of the roll-up (entries 8..71, past the checkpoint at
# 64) and two more, one with control characters and a bidi override in
# its query.  The flood is kept inside one minute (a bounded wait).
for _ in $(seq 1 15); do [ $((10#$(date +%S))) -lt 45 ] && break; sleep 1; done
urls=()
for _ in $(seq 1 70); do urls+=("$AU/v1/admin/rollup"); done
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $(printf '%064d' 7)" \
    "${urls[@]}" >/dev/null 2>&1
urls=()
for _ in $(seq 1 64); do urls+=("$AU/v1/admin/rollup"); done
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $BOOT" "${urls[@]}" \
    >/dev/null 2>&1
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $BOOT" \
    "$AU/v1/admin/rollup?by=rule&format=csv"
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $BOOT" \
    "$AU/v1/admin/rollup?by=%1b%5b31mred%e2%80%ae%0aforged"
t_exit 0 "audit verify while the server runs" V
t_grep "verify says intact" '^intact: 73 entries, 1 checkpoints verified, signed up to entry 64' "$T/out"
stop_server
t_check "the server stops cleanly (exit 0, no sanitizer report)" \
    test "$STOPPED" = 0
t_grep "the checkpoint at 64 is a log line (the outside witness)" \
    'audit checkpoint 64 [0-9a-f]{64}$' server.log
t_grep "the shutdown checkpoint is a log line" \
    'audit checkpoint 73 [0-9a-f]{64}$' server.log
W64=$(sed -n 's/.*audit checkpoint 64 \([0-9a-f]\{64\}\)$/64:\1/p' server.log)
W73=$(sed -n 's/.*audit checkpoint 73 \([0-9a-f]\{64\}\)$/73:\1/p' server.log)

t_exit 0 "audit verify after a clean stop" V --witness "$W73"
t_grep "everything signed after the stop" \
    '^intact: 73 entries, 2 checkpoints verified, signed up to entry 73; 0 newer' "$T/out"
t_exit 0 "audit show --actor - (refused credentials)" S --actor -
t_check "70 refused credentials: 5 entries and one summary" test "$(wc -l <"$T/out")" = 6
t_grep "the summary counts the other 65, with the address" \
    '^7 [0-9TZ:-]+ - 127\.0\.0\.1 credential "refused credentials in the minute from [0-9TZ:-]+, past the first 5" "refused 401 x 65 from 127\.0\.0\.1"$' \
    "$T/out"
t_grep "a wrong credential is logged with the client's address" \
    '^2 [0-9TZ:-]+ - 127\.0\.0\.1 credential "/v1/admin/rollup" "refused 401"$' \
    "$T/out"
t_exit 0 "audit show --action rollup" S --action rollup
t_grep "the bootstrap administrator's read is logged with its object" \
    '^72 .* admin 127\.0\.0\.1 rollup "rollup by=rule format=csv as_of=-" "ok 200"$' \
    "$T/out"
t_grep "control and bidi characters are escaped when shown" \
    '^73 .*by=\\x1b\[31mred\\xe2\\x80\\xae\\x0aforged' "$T/out"
t_check "no raw escape byte, bidi override or forged line on the terminal" \
    bash -c "! grep -qaP '\\x1b|\\xe2\\x80\\xae|^forged' '$T/out'"
t_exit 0 "audit show --since the future" S --since 2099-01-01T00:00:00Z
t_check "--since: nothing after 2099" test ! -s "$T/out"
t_exit 64 "audit show --since garbage" S --since yesterday
t_exit 64 "audit verify --witness garbage" V --witness 64:xyz
t_exit 64 "audit frobnicate" "$SERVER" audit frobnicate

# --- the attacks, each on a fresh copy of the stopped server's store -----
cp "$DB" clean.db
attack() {
	cp clean.db "$DB"
	rm -f "$DB-wal" "$DB-shm"
	sqlite3 "$DB" "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
	    DROP TRIGGER audit_ckpt_no_update; DROP TRIGGER audit_ckpt_no_delete; $1"
}

attack "UPDATE audit SET outcome = 'ok 200' WHERE seq = 5"
t_exit 77 "an edited entry is detected" V
t_grep "... and located: entry 5" '^problem: entry 5: its hash does not match' "$T/out"
t_grep "... and the verdict says so" '^NOT intact' "$T/out"
t_err_line "... with one error line" 'audit log: entry 5'

attack "UPDATE audit SET actor = 'ops' WHERE seq = 40"
# Recompute every hash from entry 40 on, as the attacker can (the chain
# is not keyed); only the checkpoints' signatures stand in the way.
python3 - "$DB" <<'EOF'
import hashlib, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT seq, time, actor, addr, action, object, outcome "
                  "FROM audit ORDER BY seq").fetchall()
prev = bytes(32)
for seq, tm, *fields in rows:
    h = hashlib.blake2b(digest_size=32)
    h.update(b"muster-audit-entry-v1\0" + prev + struct.pack(">qq", seq, tm))
    for f in fields:
        b = f.encode()
        h.update(struct.pack(">Q", len(b)) + b)
    prev = h.digest()
    db.execute("UPDATE audit SET hash = ? WHERE seq = ?", (prev, seq))
db.commit()
EOF
t_exit 77 "an edit with the whole chain recomputed is detected" V
t_grep "... by the checkpoint at 64" \
    '^problem: entry 64: the chain up to here differs from what checkpoint 64 signed' "$T/out"

attack "DELETE FROM audit WHERE seq = 10"
t_exit 77 "a deleted entry is detected" V
t_grep "... and located: entry 10" '^problem: entry 10 missing \(deleted\)' "$T/out"

attack "DELETE FROM audit WHERE seq BETWEEN 20 AND 22"
t_exit 77 "three deleted entries are detected" V
t_grep "... and located: 20 to 22" '^problem: entries 20 to 22 missing' "$T/out"

attack "DELETE FROM audit WHERE seq > 70"
t_exit 77 "a truncated tail is detected" V
t_grep "... by the shutdown checkpoint" \
    '^problem: truncated: checkpoint 73 signs entries up to 73, the log ends at 70' "$T/out"

attack "UPDATE audit_checkpoints SET sig = zeroblob(64) WHERE seq = 64"
t_exit 77 "a forged checkpoint is detected" V
t_grep "... and located" '^problem: checkpoint 64: bad signature' "$T/out"

attack "DELETE FROM audit_checkpoints WHERE seq = 64"
t_exit 77 "a deleted periodic checkpoint is detected" V
t_grep "... and located" '^problem: entry 64: its checkpoint is missing' "$T/out"

# Rolled back to the checkpoint at 64: entries 65..73 and the shutdown
# checkpoint gone.  The log alone is consistent (what the design cannot
# see, docs/operations.md); the logged checkpoint line is the witness.
attack "DELETE FROM audit WHERE seq > 64; DELETE FROM audit_checkpoints WHERE seq > 64"
t_exit 0 "a rollback to a checkpoint is consistent on its own" V
t_exit 77 "... and caught with the logged checkpoint as --witness" V --witness "$W73"
t_grep "... which says where" '^problem: truncated: the witnessed entry 73 is missing, the log ends at 64' "$T/out"
t_exit 0 "an older witness still agrees" V --witness "$W64"

cp clean.db "$DB"
rm -f "$DB-wal" "$DB-shm"
t_exit 0 "the untouched store verifies again" V
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >other.pub
echo >>other.pub
t_exit 77 "verified with another public key: every checkpoint refused" \
    V --pub other.pub
t_exit 66 "verify with a missing public key" V --pub nope.pub

# --- a server holding another audit key ------------------------------------
# A second server set up without copying audit.key (it makes its own), or
# a key swapped to sign checkpoints over an edited log: the server does
# not start, rather than sign checkpoints no `audit verify` accepts.
cp -p org/data/audit.key good.key; cp -p org/data/audit.pub good.pub
rm org/data/audit.key org/data/audit.pub
t_exit 78 "a server whose audit key did not sign the log's checkpoints: 78" \
    timeout 20 "$SERVER" --config org/server.cfg
t_grep "... one error line naming the key" \
    '^muster-server: error: org/data/audit\.key did not sign the audit log.s checkpoints \(checkpoint 73\)' \
    "$T/err"
t_check "... and only that error" test "$(grep -c ': error: ' "$T/err")" = 1
t_exit 0 "... and the log it refused to extend still verifies" V --pub good.pub
t_exit 78 "muster-server admin refuses that key too" "$SERVER" admin list \
    --config org/server.cfg
cp -p good.key org/data/audit.key; cp -p good.pub org/data/audit.pub
t_check "with its own key back, the server starts" start_server
stop_server
t_check "... and stops cleanly" test "$STOPPED" = 0
t_exit 0 "... and the log verifies" V
t_exit 0 "audit rekey with the key that signs the log: nothing to do" \
    "$SERVER" audit rekey --config org/server.cfg
t_grep "... says so" 'signs the log already' "$T/out"

# A crash leaves entries unsigned; a server started with another key
# then signs none of them, not even at its refusal's close.
start_server
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $BOOT" "$AU/v1/admin/rollup"
kill -9 "$SPID"; wait "$SPID" 2>/dev/null; SPID=
mv org/data/audit.key crash.key; mv org/data/audit.pub crash.pub
t_exit 78 "after a crash, a server with another key: refused" \
    timeout 20 "$SERVER" --config org/server.cfg
t_exit 0 "... the log verifies with the old key" V --pub good.pub
t_grep "... the crash's entry left unsigned, not signed by the new key" \
    '; 1 newer entries not yet signed$' "$T/out"
mv crash.key org/data/audit.key; mv crash.pub org/data/audit.pub

# The key lost for good: a new one is recorded by the operator, in the
# log, before the server signs anything with it.
rm org/data/audit.key org/data/audit.pub
t_exit 78 "a new key (the old one lost): refused" \
    timeout 20 "$SERVER" --config org/server.cfg
NEWPUB=$(tr -d '\n' <org/data/audit.pub)
t_exit 0 "audit rekey records it" "$SERVER" audit rekey --config org/server.cfg
t_exit 0 "audit show --action audit-rekey" S --action audit-rekey
t_grep "... one entry by the local user, naming the new key" \
    " local:[a-z0-9._-]+ local audit-rekey \"key $NEWPUB replaces the key of checkpoint [0-9]+\" \"ok\"" \
    "$T/out"
t_check "then the server starts with the new key" start_server
stop_server
t_check "... and stops cleanly" test "$STOPPED" = 0
t_exit 0 "verify with the old public key kept off the host: intact" \
    V --pub good.pub
t_grep "... the replacement shown with the key it names" \
    "^key replaced at entry [0-9]+: checkpoints from there on verified with $NEWPUB" \
    "$T/out"
t_exit 77 "verify with only the new key: the old checkpoints refused" V
t_grep "... as signed by another key" 'bad signature' "$T/out"
cp -p good.key org/data/audit.key; cp -p good.pub org/data/audit.pub
t_exit 78 "the old key found again, once replaced: refused" \
    timeout 20 "$SERVER" --config org/server.cfg
t_done
