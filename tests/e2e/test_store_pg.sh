#!/bin/bash
# The PostgreSQL store: a throwaway PostgreSQL (tests/tools/pg.sh: its
# own initdb in a temporary directory, as the unprivileged postgres user,
# on a unix socket only), then
#  - the store contract suite (tests/unit/test_store_contract.c), the
#    same binary make check runs on SQLite, run against it;
#  - the whole server flow on it: `store = "postgresql://..."` in
#    server.cfg, profiles published, personnel and family devices
#    enrolled and run by the real agent, the roll-up by unit and the
#    device list read from PostgreSQL, a revocation, an unenroll;
#  - the device's signature kept with each report: history, the proof
#    file, verify-report and the console's proof read from PostgreSQL;
#    a replaced signature does not verify, a missing one is "not kept";
#  - the database going away under the running server: a report is
#    answered 503 (the agent keeps it spooled, exit 75), never 202; the
#    server reconnects by itself once PostgreSQL is back, and the spooled
#    report is then delivered and stored once;
#  - a configuration whose store is not a PostgreSQL URI, and a server
#    whose database is unreachable at start.
# Every wait is bounded; the server and PostgreSQL are stopped on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
CONTRACT="$MUSTER_BIN/../tests/test_store_contract"
PGSH="$TOP/tests/tools/pg.sh"
DEV=$TOP/examples/devices
SPID= PG_DIR=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi
    [ -n "$PG_DIR" ] && sh "$PGSH" stop "$PG_DIR"; rm -rf "$T"' EXIT

if [ ! -x "$SERVER" ] || [ ! -x "$CONTRACT" ]; then
	t_skip "muster-server or test_store_contract not built"
	t_done
	exit 0
fi
if ! eval "$(sh "$PGSH" start 2>pg.err)"; then
	echo "Bail out! PostgreSQL did not start: $(head -n 3 pg.err)"
	exit 1
fi
Q() { sh "$PGSH" psql "$PG_DIR" "$1"; }

# --- the contract suite against PostgreSQL ----------------------------------
MUSTER_TEST_STORE=$PG_URI CMOCKA_MESSAGE_OUTPUT=TAP "$CONTRACT" \
    >contract.out 2>&1
crc=$?
while read -r line; do
	case "$line" in
	"ok "*) t_ok "contract on PostgreSQL: ${line#ok * - }" ;;
	"not ok "*) t_fail "contract on PostgreSQL: ${line#not ok * - }" ;;
	esac
done <contract.out
t_check "contract suite exit 0 on PostgreSQL (got $crc)" test "$crc" = 0
[ "$crc" = 0 ] || sed 's/^/# /' contract.out | tail -n 30
t_check "contract suite ran on PostgreSQL" \
    grep -q '^# store contract on PostgreSQL' contract.out
# The suite leaves its last store behind: start from an empty database.
Q "DROP SCHEMA public CASCADE; CREATE SCHEMA public AUTHORIZATION muster" \
    2>/dev/null

# --- configuration ------------------------------------------------------------
t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
cp org/server.cfg base.cfg
echo 'store = "sqlite:///var/lib/x";' >>org/server.cfg
t_exit 78 "store that is not a PostgreSQL URI" \
    "$SERVER" report --config org/server.cfg
t_err_line "bad store: one line naming the field" 'server.cfg:[0-9]+: store must be a PostgreSQL URI'
cp base.cfg org/server.cfg
echo "store = \"postgresql://muster:s3cr3t-pw@/muster?host=$T/nothing&port=1\";" \
    >>org/server.cfg
t_exit 75 "server whose database is unreachable: exit 75" \
    timeout 20 "$SERVER" --config org/server.cfg
t_grep "unreachable: says PostgreSQL" 'PostgreSQL' "$T/err"
t_check "unreachable: the password is not in the message" \
    bash -c "! grep -q 's3cr3t' '$T/err'"
cp base.cfg org/server.cfg
echo "store = \"$PG_URI\";" >>org/server.cfg

start_server() {
	"$SERVER" --config org/server.cfg >>server.log 2>&1 &
	SPID=$!
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
if ! start_server; then
	echo "Bail out! muster-server on PostgreSQL did not start"
	sed 's/^/# /' server.log
	exit 1
fi
t_check "the schema was migrated to its newest version, 5" \
    test "$(Q 'SELECT max(version) FROM schema_version')" = 5
t_check "no SQLite file in data_dir" test ! -e org/data/muster.db

cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
"$ENROLL" sign --org org f.cfg >/dev/null
t_exit 0 "publish the personnel profile" "$ENROLL" publish --org org p.cfg
t_exit 0 "publish the family profile" "$ENROLL" publish --org org f.cfg
t_check "both profiles are in PostgreSQL" \
    test "$(Q 'SELECT count(*) FROM profiles')" = 2

device() {	# NAME SCOPE UNIT SIM
	local consent=
	[ "$2" = family ] && consent=--consent
	cp "$DEV/$4.cfg" "$1.cfg"
	"$ENROLL" token --org org --scope "$2" --unit "$3" --person "$1" \
	    -o "$1.bundle" >/dev/null || return 1
	"$AGENT" --state "st-$1" --device "sim:$T/$1.cfg" enroll "$1.bundle" \
	    $consent >"$1.log" 2>&1
}
run() { "$AGENT" --state "st-$1" --device "sim:$T/$1.cfg" run --once \
    >>"$1.log" 2>&1; }
W=IAF/25-WING
ok=0
for d in "P-REDMI personnel $W redmi-1s" "P-SYNC personnel $W cloud-sync-on" \
    "P-CLEAN personnel $W clean" "F-1 family $W clean"; do
	# shellcheck disable=SC2086
	device $d && ok=$((ok + 1))
done
t_check "4 devices enrolled through PostgreSQL (got $ok)" test "$ok" = 4
for d in P-REDMI P-SYNC P-CLEAN F-1; do
	t_exit 0 "$d: run --once stores its report" run "$d"
done
t_check "4 devices, 4 reports in PostgreSQL" test \
    "$(Q 'SELECT count(*), sum(last_seq) FROM devices')" = "4|4"
t_check "a consent receipt for the family device" \
    test "$(Q 'SELECT count(*) FROM consents')" = 1
t_exit 0 "roll-up by unit from PostgreSQL" \
    "$SERVER" report --config org/server.cfg --format csv
t_grep "the unit's row: 3 personnel, 2 compliant, 1 not; family withheld" \
    '^IAF/25-WING,3,2,1,0,0,,yes,' "$T/out"
t_exit 0 "roll-up by rule from PostgreSQL" \
    "$SERVER" report --config org/server.cfg --by rule
t_grep "cloud sync named failing" 'cloud' "$T/out"
t_exit 0 "device list from PostgreSQL" \
    "$SERVER" devices --config org/server.cfg
t_grep "three personnel devices listed" '^3 devices$' "$T/out"
t_check "the family member is not listed" bash -c "! grep -q F-1 '$T/out'"

# --- administrators, audit log, console, /metrics on PostgreSQL -----------------
PIN=$(cat org/server.pin)
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
hcode() { "${CURL[@]}" -o "$T/body" -w '%{http_code}' "$@" 2>/dev/null; }
t_exit 0 "admin add ops on the live PostgreSQL store" \
    "$SERVER" admin add --config org/server.cfg --roles read,metrics \
    -o ops.token ops
OPS=$(tr -d '\n' <ops.token)
t_check "ops reads the roll-up at once: 200" test \
    "$(hcode -H "Authorization: Bearer $OPS" "$AU/v1/admin/rollup")" = 200
case $OPS in *0) BAD=${OPS%?}1 ;; *) BAD=${OPS%?}0 ;; esac
t_check "a wrong credential (one digit off): 401" test \
    "$(hcode -H "Authorization: Bearer $BAD" "$AU/v1/admin/rollup")" = 401
t_exit 0 "admin list" "$SERVER" admin list --config org/server.cfg
t_grep "ops and the bootstrap admin listed" '^ops +read,metrics' "$T/out"
t_check "ops's credential is stored as a hash only" \
    test "$(Q "SELECT count(*) FROM admins WHERE name = 'ops' AND length(hash) = 32")" = 1
t_exit 65 "admin add ops again: the name is taken" \
    "$SERVER" admin add --config org/server.cfg --roles read ops
t_exit 0 "audit verify on PostgreSQL while the server runs" \
    "$SERVER" audit verify --config org/server.cfg
t_exit 0 "audit show" "$SERVER" audit show --config org/server.cfg
t_grep "ops's roll-up read is in the audit log" 'ops.*rollup' "$T/out"
t_check "an audit row cannot be deleted" \
    bash -c "! sh '$PGSH' psql '$PG_DIR' 'DELETE FROM audit' >/dev/null 2>&1"
t_check "metrics: 200 with the metrics role" test \
    "$(hcode -H "Authorization: Bearer $OPS" "$AU/metrics")" = 200
t_grep "metrics: the database's size" '^muster_store_size_bytes [1-9]' "$T/body"
t_check "metrics: no WAL size claimed for the store" \
    bash -c "! grep -q '^muster_store_wal_size_bytes' '$T/body'"
t_grep "metrics: the fleet gauges from PostgreSQL" '^muster_devices' "$T/body"
"${CURL[@]}" -D hdr.txt -o body.html -H "Origin: $AU" \
    --data-urlencode "token=$OPS" "$AU/console/login" 2>/dev/null
C=$(grep -o 'muster_console=[A-Za-z0-9_-]*' hdr.txt)
t_check "console: sign in with ops's credential" test -n "$C"
PD=$(Q "SELECT id FROM devices WHERE person = 'P-SYNC'")
t_check "console: P-SYNC's page from PostgreSQL" test \
    "$(hcode -b "$C" "$AU/console/device?id=$PD")" = 200
t_grep "console: its history names its signed report" 'noncompliant|Non-compliant' "$T/body"
t_check "console: the devices of IAF and below" test \
    "$(hcode -b "$C" "$AU/console/devices?unit=IAF")" = 200
t_grep "console: P-CLEAN listed under IAF" 'P-CLEAN' "$T/body"
t_exit 64 "backup of a PostgreSQL store: refused (use pg_dump)" \
    "$SERVER" backup --config org/server.cfg pg.db
t_err_line "backup refused: one line naming pg_dump" 'pg_dump'
t_check "backup refused: nothing written" test ! -e pg.db
# The writer holds the store it opened: another store takes a restart.
cp org/server.cfg keep.cfg
sed -i "s|^store = .*|store = \"postgresql:///other?host=$T/none\";|" \
    org/server.cfg
kill -HUP "$SPID"
for _ in $(seq 1 50); do
	grep -q 'store changed' server.log && break
	sleep 0.1
done
t_grep "a reload that changes store is refused: it takes a restart" \
    'store changed: that takes a restart' server.log
cp keep.cfg org/server.cfg
t_check "the server still answers from its store" test \
    "$(hcode -H "Authorization: Bearer $OPS" "$AU/v1/admin/rollup")" = 200

# The same signed report again: a duplicate, stored once.
t_check "a second run stores one more report each" run P-CLEAN
t_check "P-CLEAN has 2 reports" test \
    "$(Q "SELECT count(*) FROM reports r JOIN devices d ON d.id = r.device WHERE d.person = 'P-CLEAN'")" = 2

# --- the device's signature kept with each report, on PostgreSQL ------------
cdev=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' st-P-CLEAN/agent.cfg)
t_check "P-CLEAN's reports keep their 64-byte signatures" test \
    "$(Q "SELECT count(*) FROM reports WHERE device = '$cdev' AND octet_length(sig) = 64")" = 2
H() { "$SERVER" history --config org/server.cfg "$@"; }
t_exit 0 "history from PostgreSQL: the kept signature verifies" H "$cdev"
t_grep "history: seq 1 verified" '^seq 1 .* verified$' "$T/out"
t_exit 0 "history --proof 1 from PostgreSQL" H --proof 1 "$cdev"
cp "$T/out" proof1.json
t_exit 0 "verify-report: the proof read from PostgreSQL verifies" \
    "$SERVER" verify-report proof1.json
t_check "console: the same proof, byte for byte" sh -c \
    "curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey '$PIN' -b '$C' '$AU/console/proof?id=$cdev&seq=1' | cmp -s - proof1.json"
t_check "a signature of 63 bytes is refused by the column" \
    bash -c "! sh '$PGSH' psql '$PG_DIR' \"UPDATE reports SET sig = decode(repeat('00', 63), 'hex') WHERE device = '$cdev'\" >/dev/null 2>&1"
# An attacker with write access to the database swaps the signature.
Q "UPDATE reports SET sig = decode(repeat('ab', 64), 'hex') WHERE device = '$cdev' AND seq = 1" >/dev/null
t_exit 77 "history: the replaced signature does not verify (77)" H "$cdev"
t_grep "history: says so" 'signature does not verify$' "$T/out"
t_exit 0 "history --proof 1 after the swap" H --proof 1 "$cdev"
cp "$T/out" proof1-bad.json
t_grep "... its check: bad-signature" '"check": "bad-signature"' proof1-bad.json
t_exit 77 "verify-report: the proof of the swapped row does not verify (77)" \
    "$SERVER" verify-report proof1-bad.json
t_exit 0 "... the proof taken before the swap still verifies" \
    "$SERVER" verify-report proof1.json
# A row stored before migration 5 has no signature: "not kept", not a failure.
Q "UPDATE reports SET sig = NULL WHERE device = '$cdev' AND seq = 1" >/dev/null
t_exit 0 "history: a signature not kept is no failure" H "$cdev"
t_grep "history: not kept" '^seq 1 .*signature not kept' "$T/out"

# Revocation: every request after it refused.
pdev=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' st-P-SYNC/agent.cfg)
t_exit 0 "revoke P-SYNC" "$ENROLL" revoke --org org "$pdev"
t_exit 77 "P-SYNC revoked: run exits 77" \
    "$AGENT" --state st-P-SYNC --device "sim:$T/P-SYNC.cfg" run --once

# Unenroll: the family device's rows are gone from PostgreSQL.
fdev=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' st-F-1/agent.cfg)
t_exit 0 "F-1 unenrolls" "$AGENT" --state st-F-1 unenroll
t_check "F-1's device, reports and consent are gone" test \
    "$(Q "SELECT (SELECT count(*) FROM devices WHERE id = '$fdev') + (SELECT count(*) FROM reports WHERE device = '$fdev') + (SELECT count(*) FROM consents)")" = 0

# --- PostgreSQL goes away under the running server ---------------------------
n0=$(Q 'SELECT count(*) FROM reports')
sh "$PGSH" kill "$PG_DIR"
sleep 0.5
t_exit 75 "database down: P-CLEAN's report is not acknowledged (75)" run P-CLEAN
t_check "its report stays in the spool" \
    bash -c "ls st-P-CLEAN/spool/*.json >/dev/null 2>&1"
t_grep "the server answered 503" '503' P-CLEAN.log
t_check "the server is still running" kill -0 "$SPID"
t_check "/healthz still answers" curl -sk --max-time 2 -o /dev/null "$U/healthz"
# Restart the same cluster on the same socket (crash recovery).
t_exit 0 "PostgreSQL restarts" sh "$PGSH" restart "$PG_DIR"
ok=
for _ in $(seq 1 60); do
	if run P-CLEAN; then ok=1; break; fi
	sleep 0.5
done
t_check "database back: the spooled report is delivered" test -n "$ok"
t_check "spool empty after delivery" \
    bash -c "! ls st-P-CLEAN/spool/*.json >/dev/null 2>&1"
# Each failed run spooled a report of its own (a new seq): every one of
# them is stored, none twice, none missing.
n1=$(Q 'SELECT count(*) FROM reports')
cdev=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' st-P-CLEAN/agent.cfg)
got=$(Q "SELECT count(*) || ' ' || count(DISTINCT seq) || ' ' || max(seq) FROM reports WHERE device = '$cdev'")
set -- $got
t_check "P-CLEAN: seqs 1..$3 all stored once ($1 rows, $2 distinct)" \
    test "$1" = "$3" -a "$2" = "$3" -a "$3" -gt 2
t_check "reports $n0 before the outage, $n1 after: P-CLEAN's only" \
    test $((n1 - n0)) = $(($3 - 2))
t_grep "the server logged the lost connection" 'PostgreSQL|connection' server.log

# --- PostgreSQL restarted while the server is idle ---------------------------
# Every handle of the server (the writer, each worker's reader) still
# holds a connection to the old cluster; none may cost a device a 503.
# Eight check-ins: more than the four workers and the writer together.
sh "$PGSH" kill "$PG_DIR"
t_exit 0 "PostgreSQL crashes and restarts while the server is idle" \
    sh "$PGSH" restart "$PG_DIR"
fails=0
for i in 1 2 3 4 5 6 7 8; do run P-CLEAN || fails=$((fails + 1)); done
t_check "after the restart: 8 check-ins of 8 delivered at once ($fails refused)" \
    test "$fails" = 0
t_done
