#!/bin/bash
# muster-server migrate: a server's SQLite store, filled by real agents
# (personnel and family devices, reports, a status history, a consent, a
# revocation, published profiles and manifests), moved into an empty
# PostgreSQL (tests/tools/pg.sh); then
#  - every roll-up (by unit, rule, model, scope; CSV and JSON; --as-of a
#    past instant) and the device list read the same from PostgreSQL as
#    from SQLite, byte for byte;
#  - the server started on PostgreSQL carries on: agents report with the
#    next seq, an old report sent again is a duplicate (200), the revoked
#    device stays revoked, the manifests are served;
#  - a second migrate into the now non-empty database is refused (64),
#    and so are a destination that is not PostgreSQL (64), a data_dir
#    without a store (66) and an unreachable database (75).
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
PGSH="$TOP/tests/tools/pg.sh"
DEV=$TOP/examples/devices
SPID= PG_DIR=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi
    [ -n "$PG_DIR" ] && sh "$PGSH" stop "$PG_DIR"; rm -rf "$T"' EXIT

if [ ! -x "$SERVER" ]; then
	t_skip "muster-server not built"; t_done; exit 0
fi
if ! eval "$(sh "$PGSH" start 2>pg.err)"; then
	echo "Bail out! PostgreSQL did not start: $(head -n 3 pg.err)"
	exit 1
fi
Q() { sh "$PGSH" psql "$PG_DIR" "$1"; }

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
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
stop_server() { kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=; }
start_server || { echo "Bail out! server on SQLite"; cat server.log; exit 1; }

cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
"$ENROLL" sign --org org f.cfg >/dev/null
"$ENROLL" publish --org org p.cfg >/dev/null &&
    "$ENROLL" publish --org org f.cfg >/dev/null ||
    { echo "Bail out! publish"; exit 1; }
device() {	# NAME SCOPE UNIT SIM
	local consent=
	[ "$2" = family ] && consent=--consent
	cp "$DEV/$4.cfg" "$1.cfg"
	"$ENROLL" token --org org --scope "$2" --unit "$3" --person "$1" \
	    -o "$1.bundle" >/dev/null &&
	"$AGENT" --state "st-$1" --device "sim:$T/$1.cfg" enroll "$1.bundle" \
	    $consent >"$1.log" 2>&1
}
run() { "$AGENT" --state "st-$1" --device "sim:$T/$1.cfg" run --once \
    >>"$1.log" 2>&1; }
W=IAF/25-WING
ok=0
for d in "P-REDMI personnel $W redmi-1s" "P-SYNC personnel $W cloud-sync-on" \
    "P-CLEAN personnel IAF/3-WING clean" "F-1 family $W clean" \
    "F-2 family $W clean" "F-3 family $W redmi-1s" "F-4 family $W clean" \
    "F-5 family $W clean"; do
	# shellcheck disable=SC2086
	device $d && run "${d%% *}" && ok=$((ok + 1))
done
t_check "8 devices enrolled and reporting on SQLite (got $ok)" test "$ok" = 8
sleep 1
ASOF=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
# A change after ASOF: P-REDMI's build fixed, reported again.
sed -i 's/^build = .*/build = "KHHMIBH45.0";/' P-REDMI.cfg
run P-REDMI; run P-CLEAN
pdev=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' st-P-SYNC/agent.cfg)
t_exit 0 "revoke P-SYNC on SQLite" "$ENROLL" revoke --org org "$pdev"
stop_server

outputs() {	# DIR: every roll-up and the device list into DIR
	mkdir -p "$1"
	for by in unit rule model scope; do
		for f in csv json; do
			"$SERVER" report --config org/server.cfg --by $by \
			    --format $f >"$1/$by.$f" 2>&1 || return 1
		done
	done
	"$SERVER" report --config org/server.cfg --as-of "$ASOF" --format csv \
	    >"$1/asof.csv" 2>&1 &&
	"$SERVER" report --config org/server.cfg --by rule --as-of "$ASOF" \
	    --format json >"$1/asof-rule.json" 2>&1 &&
	"$SERVER" devices --config org/server.cfg --format csv \
	    >"$1/devices.csv" 2>&1
}
t_check "roll-ups read from SQLite" outputs sqlite
t_grep "SQLite roll-up has the family unit" 'IAF/25-WING' sqlite/unit.csv

# --- refusals -------------------------------------------------------------------
t_exit 64 "migrate to a destination that is not PostgreSQL" \
    "$SERVER" migrate --config org/server.cfg /tmp/x.db
t_err_line "not PostgreSQL: one line" 'PostgreSQL URI'
t_exit 64 "migrate without a destination" "$SERVER" migrate --config org/server.cfg
t_exit 75 "migrate to an unreachable database" \
    "$SERVER" migrate --config org/server.cfg \
    "postgresql:///muster?host=$T/none&port=1"
mkdir -m 700 empty
sed 's/^data_dir = .*/data_dir = "empty";/' org/server.cfg >org/empty.cfg
chmod 600 org/empty.cfg
t_exit 66 "migrate a data_dir without a store" \
    "$SERVER" migrate --config org/empty.cfg "$PG_URI"
t_check "nothing written by the refusals" \
    test "$(Q "SELECT count(*) FROM pg_tables WHERE tablename = 'devices'")" = 0

# --- the move -------------------------------------------------------------------------
t_exit 0 "migrate the SQLite store into PostgreSQL" \
    "$SERVER" migrate --config org/server.cfg "$PG_URI"
cp "$T/out" migrate.out
t_grep "8 devices copied" '^devices +8$' migrate.out
t_grep "the manifests copied as documents" '^documents +2$' migrate.out
nrep=$(sqlite3 org/data/muster.db 'SELECT count(*) FROM reports' 2>/dev/null ||
    awk '$1 == "reports" {print $2}' migrate.out)
t_check "every report in PostgreSQL ($nrep)" \
    test "$(Q 'SELECT count(*) FROM reports')" = "$nrep"
# The open runs live in devices, the closed ones in report_runs.
runs='SELECT count(run_first), sum(run_first), (SELECT count(*) FROM report_runs) FROM devices'
nruns=$(sqlite3 org/data/muster.db "$runs")
t_check "the runs of reports in PostgreSQL ($nruns)" test \
    "$(Q "$runs")" = "$nruns" -a "${nruns%%|*}" -gt 0
naud=$(sqlite3 org/data/muster.db 'SELECT count(*) FROM audit')
t_check "the audit log in PostgreSQL ($naud entries)" test \
    "$(Q 'SELECT count(*) FROM audit')" = "$naud" -a "$naud" -gt 0
t_check "the administrators in PostgreSQL" test \
    "$(Q 'SELECT count(*) FROM admins')" = \
    "$(sqlite3 org/data/muster.db 'SELECT count(*) FROM admins')"
nsig=$(sqlite3 org/data/muster.db 'SELECT count(*) FROM reports WHERE length(sig) = 64')
t_check "every kept signature in PostgreSQL ($nsig)" test \
    "$(Q 'SELECT count(*) FROM reports WHERE octet_length(sig) = 64')" = "$nsig" -a "$nsig" -gt 0
t_exit 64 "a second migrate into the filled database is refused" \
    "$SERVER" migrate --config org/server.cfg "$PG_URI"
t_err_line "not empty: one line" 'not empty'

echo "store = \"$PG_URI\";" >>org/server.cfg
t_exit 0 "audit verify on PostgreSQL: the moved chain and checkpoints hold" \
    "$SERVER" audit verify --config org/server.cfg
t_check "roll-ups read from PostgreSQL" outputs pg
pcdev=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' st-P-CLEAN/agent.cfg)
t_exit 0 "history on PostgreSQL: the moved reports' signatures verify" \
    "$SERVER" history --config org/server.cfg "$pcdev"
t_grep "... verified" ' verified$' "$T/out"
# The present's JSON says when it was made ("as_of"): all else the same.
for f in unit.json rule.json model.json scope.json; do
	sed -i '/^  "as_of": /d' "sqlite/$f" "pg/$f"
done
for f in unit.csv unit.json rule.csv rule.json model.csv model.json \
    scope.csv scope.json asof.csv asof-rule.json devices.csv; do
	t_check "$f: the same from PostgreSQL as from SQLite" \
	    cmp -s "sqlite/$f" "pg/$f"
done

# --- the server carries on, on PostgreSQL ----------------------------------------------
# The old listener's port may linger a moment (connections in TIME_WAIT).
for _ in $(seq 1 20); do start_server && break; sleep 0.5; done
[ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null ||
	{ echo "Bail out! server on PostgreSQL"; cat server.log; exit 1; }
last=$(ls st-P-CLEAN/sent/*.json | sed 's/.*\/\([0-9]*\)\.json/\1/' | sort -n | tail -n 1)
t_exit 0 "P-CLEAN reports on PostgreSQL" run P-CLEAN
cdev=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' st-P-CLEAN/agent.cfg)
t_check "its next seq $((last + 1)) is stored" test \
    "$(Q "SELECT max(seq) FROM reports WHERE device = '$cdev'")" = $((last + 1))
code=$(curl -sk --pinnedpubkey "$PIN" --max-time 20 -o /dev/null \
    -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Muster-Device: $cdev" \
    -H "Muster-Signature: $(cat "st-P-CLEAN/sent/$last.sig")" \
    --data-binary @"st-P-CLEAN/sent/$last.json" "$U/v1/report")
t_check "a report stored on SQLite, sent again: 200 (got $code)" test "$code" = 200
t_exit 77 "P-SYNC stays revoked" run P-SYNC
t_exit 0 "a family device reports on PostgreSQL" run F-1
t_grep "the manifest is served from the documents" 'manifest' F-1.log
t_done
