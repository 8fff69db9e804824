#!/bin/bash
# muster-server report and devices against a real server's store: sim
# devices enrolled through the server and run once by muster-agent
# (personnel Redmi 1S, cloud sync on, clean, one never run; family
# devices, four in one unit and five in another), then the roll-up by
# unit, rule, model and scope in table, CSV and JSON, the past from
# history, the personnel-only device list, usage and configuration
# errors, and an empty store.  GET /v1/admin/rollup is checked when the
# server routes it.  Every wait is bounded; the server is killed on exit
# by its recorded pid.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
DEV=$TOP/examples/devices
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT
R() { "$SERVER" report --config org/server.cfg "$@"; }

if [ ! -x "$SERVER" ]; then
	t_skip "muster-server not built"
	t_done
	exit 0
fi

# --- without a server: usage, configuration, no data directory ----------
t_exit 0 "report --help" "$SERVER" report --help
t_grep "report --help names --as-of" '--as-of' "$T/out"
t_exit 0 "devices --help" "$SERVER" devices --help
t_exit 64 "report --by person" "$SERVER" report --by person
t_err_line "--by person: one line" 'must be unit, rule, model or scope'
t_exit 64 "report --format xml" "$SERVER" report --format xml
t_exit 64 "report with an argument" "$SERVER" report extra
t_exit 64 "devices --status lost" "$SERVER" devices --status lost
for bad in 2024-01-01 2024-01-01T00:00:00 2024-13-01T00:00:00Z \
    2024-01-01T00:00:00+01:00 yesterday; do
	t_exit 64 "malformed --as-of $bad" "$SERVER" report --as-of "$bad"
done
t_err_line "malformed --as-of: one line" 'YYYY-MM-DDTHH:MM:SSZ'

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }

t_exit 66 "report before the data directory exists" R
t_err_line "no data directory: one line" 'data_dir'
t_exit 66 "devices before the data directory exists" \
    "$SERVER" devices --config org/server.cfg
t_exit 78 "report with a missing configuration" \
    "$SERVER" report --config nope.cfg
chmod 644 org/server.cfg
t_exit 78 "report with a configuration others can read" R
chmod 600 org/server.cfg

# --- the server --------------------------------------------------------------
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
	echo "Bail out! muster-server did not start"
	sed 's/^/# /' server.log
	exit 1
fi

# --- an empty store: zeros, not an error
t_exit 0 "report on an empty store" R
t_grep "empty: a TOTAL line of zeros" '^TOTAL +0 +0 +0 +0 +0 +0$' "$T/out"
t_exit 0 "report --format csv on an empty store" R --format csv
t_check "empty csv: header and a zero total" test "$(tr -d '\r' <"$T/out")" = \
    "$(printf 'unit,devices,compliant,noncompliant,stale,never,family,family_withheld,family_reporting,family_compliant_pct,family_compliant_lo,family_compliant_hi,family_estimate\n,0,0,0,0,0,0,no,,,,,none')"
t_exit 0 "report --by rule --format json on an empty store" \
    R --by rule --format json
t_grep "empty json: zero total" '"total": \{"devices": 0, "failing": 0' "$T/out"
t_exit 0 "devices on an empty store" "$SERVER" devices --config org/server.cfg
t_grep "empty device list" '^0 devices$' "$T/out"

# --- the fleet
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
"$ENROLL" sign --org org f.cfg >/dev/null
t_exit 0 "publish the personnel profile" "$ENROLL" publish --org org p.cfg
t_exit 0 "publish the family profile" "$ENROLL" publish --org org f.cfg

# device NAME SCOPE UNIT SIM [run]: enrolls a copy of sim SIM as NAME and,
# with "run", runs its agent once.
device() {
	local name=$1 scope=$2 unit=$3 sim=$4 run=${5:-} consent=
	[ "$scope" = family ] && consent=--consent
	cp "$DEV/$sim.cfg" "$name.cfg"
	"$ENROLL" token --org org --scope "$scope" --unit "$unit" \
	    --person "$name" -o "$name.bundle" >/dev/null || return 1
	"$AGENT" --state "st-$name" --device "sim:$T/$name.cfg" enroll \
	    "$name.bundle" $consent >"$name.log" 2>&1 || return 1
	[ -z "$run" ] && return 0
	"$AGENT" --state "st-$name" --device "sim:$T/$name.cfg" run --once \
	    >>"$name.log" 2>&1
}
W=IAF/25-WING
ok=0
device P-REDMI personnel $W redmi-1s run && ok=$((ok + 1))
device P-SYNC personnel $W cloud-sync-on run && ok=$((ok + 1))
device P-CLEAN personnel $W clean run && ok=$((ok + 1))
device P-IDLE personnel $W redmi-1s-fixed && ok=$((ok + 1))
device F-A1 family $W clean run && ok=$((ok + 1))
device F-A2 family $W clean run && ok=$((ok + 1))
device F-A3 family $W clean run && ok=$((ok + 1))
device F-A4 family $W redmi-1s run && ok=$((ok + 1))
for i in 1 2 3 4; do
	device "F-B$i" family IAF/3-WING clean run && ok=$((ok + 1))
done
device F-B5 family IAF/3-WING redmi-1s run && ok=$((ok + 1))
t_check "13 devices enrolled and run (got $ok)" test "$ok" = 13
[ "$ok" = 13 ] || for f in *.log; do sed "s|^|# $f: |" "$f" | tail -n 3; done

# rows FILE: the CSV without its carriage returns.
rows() { tr -d '\r' <"$1"; }
# t_row NAME ROW: the CSV of the last command has exactly this row.
t_row() {
	if rows "$T/out" | grep -qxF -- "$2"; then t_ok "$1"; else
		t_fail "$1 (no row \"$2\")"
		rows "$T/out" | sed 's/^/# /' | head -n 20
	fi
}

# --- by unit: 25-WING has four family devices (withheld), 3-WING five.
# The state columns count personnel devices; family devices are counted
# in "family" and their compliance only estimated from randomized
# reports: five reporting phones make no interval narrow enough to show.
HEAD_FAM=family_reporting,family_compliant_pct,family_compliant_lo,family_compliant_hi,family_estimate
t_exit 0 "report --by unit --format csv" R --by unit --format csv
t_row "unit csv: header" \
    "unit,devices,compliant,noncompliant,stale,never,family,family_withheld,$HEAD_FAM"
t_row "unit csv: 25-WING, family withheld (an empty cell)" "$W,4,2,1,0,1,,yes,,,,,none"
t_row "unit csv: 3-WING, five family counted, estimate withheld" "IAF/3-WING,0,0,0,0,0,5,no,5,,,,withheld"
t_row "unit csv: total" ",4,2,1,0,1,5,yes,5,,,,withheld"
t_check "unit csv: RFC 4180 CRLF line ends" \
    test "$(grep -c $'\r$' "$T/out")" = 4
t_exit 0 "report (table by unit, the default)" R
t_grep "unit table: header" '^UNIT +DEVICES +COMPLIANT +NONCOMPLIANT +STALE +NEVER +FAMILY +FAMILY COMPLIANT \(95% CI\)$' "$T/out"
t_grep "unit table: 25-WING" '^IAF/25-WING +4 +2 +1 +0 +1 +<5$' "$T/out"
t_grep "unit table: 3-WING, estimate withheld" '^IAF/3-WING +0 +0 +0 +0 +0 +5 +-$' "$T/out"
t_grep "unit table: total" '^TOTAL +4 +2 +1 +0 +1 +5\* +-$' "$T/out"
t_grep "unit table: the estimate's rule" 'withheld \(-\) where it is wider than \+-10 points' "$T/out"
t_grep "unit table: k-anonymity note" 'fewer than 5 in their unit' "$T/out"
t_exit 0 "report --format json" R --format json
t_grep "unit json: 25-WING" '^    \{"unit": "IAF/25-WING", "devices": 4, "compliant": 2, "noncompliant": 1, "stale": 0, "never": 1, "family": 0, "family_withheld": true, "family_compliant": null\}' "$T/out"
t_grep "unit json: total" '"total": \{"devices": 4, "compliant": 2, "noncompliant": 1, "stale": 0, "never": 1, "family": 5, "family_withheld": true, "family_compliant": \{"reporting": 5, "pct": null, "lo": null, "hi": null, "shown": false\}\}' "$T/out"
t_grep "unit json: the mechanism" '"family_privacy": \{"mechanism": "rr1", "epsilon": 1.0986, "keep": 0.75, "confidence": 0.95, "max_half_width_pct": 10, "family_rules": 2\}' "$T/out"
t_grep "unit json: version 1" '"version": 1,' "$T/out"
if command -v python3 >/dev/null; then
	t_check "unit json parses" python3 -c 'import json,sys; json.load(sys.stdin)' <"$T/out"
else
	t_skip "unit json parses (no python3)"
fi

# --- by scope, model, rule
t_exit 0 "report --by scope --format csv" R --by scope --format csv
t_row "scope csv: personnel" "personnel,4,2,1,0,1,0,no,,,,,none"
t_row "scope csv: family (3-WING's; 25-WING's withheld)" "family,0,0,0,0,0,5,yes,5,,,,withheld"
t_exit 0 "report --by model --format csv" R --by model --format csv
t_row "model csv: Redmi 1S, one run, one never" "Xiaomi HM 1SW,2,0,1,0,1,0,no,,,,,none"
t_row "model csv: Motorola" "Motorola XT1068,1,1,0,0,0,0,no,,,,,none"
t_row "model csv: LGE" "LGE Nexus 5,1,1,0,0,0,0,no,,,,,none"
t_row "model csv: family devices have no model" "unknown,0,0,0,0,0,5,yes,5,,,,withheld"
t_exit 0 "report --by rule --format csv" R --by rule --format csv
t_row "rule csv: header" "rule,severity,scopes,devices,failing,title,family_reporting,family_failing_pct,family_failing_lo,family_failing_hi,family_estimate"
t_row "rule csv: the Redmi ban fails on one personnel device; family estimate withheld" \
    "redmi-1s-unfixed,critical,personnel family,4,1,Redmi 1S on firmware from before the 10 August 2014 update,5,,,,withheld"
t_row "rule csv: Android 4.4.4" "android-4-4-4,medium,personnel,4,1,Android 4.4.4 or later,,,,,none"
t_row "rule csv: remediated settings do not fail" \
    "mi-cloud-sync-off,high,personnel,4,0,Mi Cloud sync is off,,,,,none"
t_row "rule csv: family cloud messaging: no exact family count" \
    "cloud-messaging-off,critical,personnel family,4,0,Cloud Messaging is off (Settings > Mi Cloud > Cloud Messaging),5,,,,withheld"
t_row "rule csv: total" ",,,4,1,,5,,,,withheld"
t_exit 0 "report --by rule (table)" R --by rule
t_grep "rule table: total" '^TOTAL +4 +1 +- +\(failing' "$T/out"
t_exit 0 "report --by rule --format json" R --by rule --format json
t_grep "rule json: Redmi ban" '\{"rule": "redmi-1s-unfixed", "severity": "critical", "title": "[^"]*", "scopes": \["personnel", "family"\], "devices": 4, "failing": 1, "family_failing": \{"reporting": 5, "pct": null, "lo": null, "hi": null, "shown": false\}\}' "$T/out"

# --- the past
t_exit 65 "--as-of before anything was enrolled or published" R --as-of 2020-01-01T00:00:00Z --format csv
t_err_line "--as-of 2020: one line" "before the store.s first record"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t_exit 0 "--as-of now" R --as-of "$now" --format csv
t_row "as of now: as the present" ",4,2,1,0,1,5,yes,5,,,,withheld"
t_exit 0 "--as-of now, by rule" R --as-of "$now" --by rule --format csv
t_row "as of now, by rule: total" ",,,4,1,,5,,,,withheld"
t_exit 0 "--as-of now, json" R --as-of "$now" --format json
t_grep "as-of json: from_history" '"from_history": true' "$T/out"
t_exit 64 "--as-of tomorrow" R --as-of "$(date -u -d tomorrow +%Y-%m-%dT%H:%M:%SZ)"
t_err_line "--as-of tomorrow: one line" 'future'

# --- the device list: personnel only
D() { "$SERVER" devices --config org/server.cfg "$@"; }
t_exit 0 "devices --format csv" D --format csv
t_check "devices csv: header and four personnel devices" \
    test "$(rows "$T/out" | wc -l)" = 5
t_check "devices csv: no family device" sh -c "! grep -q 'F-' '$T/out'"
t_grep "devices csv: the Redmi with its failing rules" \
    "^[0-9a-f]{32},$W,P-REDMI,Xiaomi HM 1SW,[0-9T:Z-]{20},noncompliant,android-4-4-4 redmi-1s-unfixed" "$T/out"
t_grep "devices csv: the idle one never reported" \
    "^[0-9a-f]{32},$W,P-IDLE,Xiaomi HM 1SW,,never," "$T/out"
t_exit 0 "devices --status noncompliant" D --status noncompliant
t_grep "noncompliant: the Redmi" 'P-REDMI' "$T/out"
t_grep "noncompliant: one device" '^1 device$' "$T/out"
t_exit 0 "devices --unit IAF/3-WING (family only)" D --unit IAF/3-WING --format json
t_grep "family unit: no device listed" '"count": 0' "$T/out"
t_exit 0 "devices --status compliant --format json" D --status compliant --format json
t_grep "compliant: two" '"count": 2' "$T/out"

# --- GET /v1/admin/rollup, once the server routes it
PIN=$(cat org/server.pin)
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
got=$("${CURL[@]}" -o body -w '%{http_code}' \
    -H "Authorization: Bearer $(tr -d '\n' <org/admin.token)" \
    "$U/v1/admin/rollup?by=unit&format=json" 2>/dev/null)
if [ "$got" = 404 ]; then
	for n in "json" "csv" "bad by" "unknown parameter" "no token"; do
		t_skip "GET /v1/admin/rollup $n (not routed yet)"
	done
else
	t_check "GET /v1/admin/rollup: 200 (got $got)" test "$got" = 200
	t_grep "GET rollup json: total" '"total": \{"devices": 4,' body
	got=$("${CURL[@]}" -o body -w '%{http_code} %{content_type}' \
	    -H "Authorization: Bearer $(tr -d '\n' <org/admin.token)" \
	    "$U/v1/admin/rollup?by=rule&format=csv")
	t_check "GET rollup csv: 200 text/csv (got $got)" \
	    sh -c "echo '$got' | grep -q '^200 text/csv'"
	got=$("${CURL[@]}" -o body -w '%{http_code}' \
	    -H "Authorization: Bearer $(tr -d '\n' <org/admin.token)" \
	    "$U/v1/admin/rollup?by=person")
	t_check "GET rollup by=person: 400 (got $got)" test "$got" = 400
	got=$("${CURL[@]}" -o body -w '%{http_code}' \
	    -H "Authorization: Bearer $(tr -d '\n' <org/admin.token)" \
	    "$U/v1/admin/rollup?group=unit")
	t_check "GET rollup group=unit: 400 (got $got)" test "$got" = 400
	got=$("${CURL[@]}" -o body -w '%{http_code}' "$U/v1/admin/rollup")
	t_check "GET rollup without the token: 401 (got $got)" test "$got" = 401
fi

kill -TERM "$SPID"
for _ in $(seq 1 100); do
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=

# --- with the server stopped, the store still reads
t_exit 0 "report after the server stopped" R --format csv
t_row "stopped: the same total" ",4,2,1,0,1,5,yes,5,,,,withheld"
t_done
