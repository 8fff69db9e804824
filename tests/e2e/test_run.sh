#!/bin/bash
# muster-agent's network half against muster-server on loopback, with real
# TLS: enroll (and every refusal), run --once, reports that survive an
# outage and arrive once and in order, a replayed report, a wrong pin,
# revocation, family minimality, unenroll (also while the server is away),
# the daemon (no libcurl in its memory, SIGHUP, SIGTERM) and, as root, a
# reporter that runs as "nobody".  Parts that need muster-server print
# TAP skips when it is not built.  Every wait is bounded; the server and
# the daemon are killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
REPORTER="$MUSTER_BIN/muster-reporter"
DEV=$TOP/examples/devices
S=$T/st
SPID=
DPID=
trap 'for p in $SPID $DPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
A() { "$AGENT" --state "$S" --device "sim:$T/dev.cfg" "$@"; }
cp "$DEV/redmi-1s.cfg" dev.cfg

# --- without a server ------------------------------------------------------
for c in enroll run log unenroll; do
	t_exit 0 "$c --help" "$AGENT" "$c" --help
done
"$AGENT" run --help >h
for o in --once --foreground --verbose; do
	t_grep "run --help names $o" "$o" h
done
t_exit 0 "reporter --version" "$REPORTER" --version
t_exit 64 "reporter without its socket refuses" "$REPORTER"
t_err_line "reporter without socket: one line" 'descriptor 3'
t_check "muster-agent is not linked with libcurl" \
    sh -c "! ldd '$AGENT' | grep -q libcurl"
t_check "muster-reporter is linked with libcurl" \
    sh -c "ldd '$REPORTER' | grep -q libcurl"
t_check "muster-reporter is not linked with libsodium" \
    sh -c "! ldd '$REPORTER' | grep -q libsodium"
t_exit 78 "run before enrolling" A run --once
t_exit 66 "enroll with a missing bundle" A enroll nope.bundle
printf 'org_key = "x";\ntoken = "y";\n' >junk.bundle
t_exit 65 "enroll with a garbage bundle" A enroll junk.bundle
t_err_line "garbage bundle: one line" 'junk.bundle'
t_check "a refused bundle created no state" test ! -e "$S"

"$ENROLL" init --org lone --server https://127.0.0.1:9 --no-passphrase >/dev/null
"$AGENT" --state "$T/lonest" trust lone/org.pub >/dev/null
t_exit 78 "run on a trust-only state" "$AGENT" --state "$T/lonest" run --once
t_err_line "trust-only: says not enrolled" 'not enrolled'
t_exit 0 "unenroll of a state never enrolled wipes it" \
    "$AGENT" --state "$T/lonest" unenroll
t_check "the state is gone" test ! -e "$T/lonest"

# --- with a server -----------------------------------------------------------
have_server=0
if [ -x "$SERVER" ]; then
	for _ in 1 2 3 4 5; do
		PORT=$(t_random_port)
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$((PORT + 1))") 2>/dev/null && continue
		rm -rf org
		"$ENROLL" init --org org --server "https://127.0.0.1:$PORT" \
		    --no-passphrase >/dev/null 2>&1 || break
		[ -f org/server.cfg ] && [ -f org/admin.token ] || break
		have_server=1
		break
	done
fi

# start_server: starts it and waits (bounded) until /healthz answers.
start_server() {
	"$SERVER" --config org/server.cfg >>server.log 2>&1 &
	SPID=$!
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 "https://127.0.0.1:$PORT/healthz" \
		    >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop_server() {
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}
# pending: reports waiting in the spool.
pending() { ls "$S/spool" 2>/dev/null | grep -c '\.json$'; }
devid() { sed -n 's/^device_id = "\(.*\)";/\1/p' "$1/agent.cfg"; }
# stored DEVICE: the seqs the server stored for it, in the order stored.
stored() {
	sqlite3 org/data/muster.db "SELECT group_concat(seq) FROM (SELECT seq
	    FROM reports WHERE device = '$1' ORDER BY rowid);" 2>/dev/null
}
have_sqlite=0
command -v sqlite3 >/dev/null && have_sqlite=1

if [ "$have_server" = 1 ] && start_server; then
	U=https://127.0.0.1:$PORT AU=$(t_admin_url)
	PIN=$(cat org/server.pin)
	cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
	cp "$TOP/profiles/family-optin.cfg" f.cfg
	"$ENROLL" sign --org org p.cfg >/dev/null
	"$ENROLL" sign --org org f.cfg >/dev/null
	t_exit 0 "publish the personnel profile" "$ENROLL" publish --org org p.cfg
	mk() { "$ENROLL" token --org org --scope "$1" --unit IAF/25-WING \
	    --person "$2" -o "$3" >/dev/null; }
	mk personnel IAF-1 b.bundle
	mk personnel IAF-2 b2.bundle
	mk family FAM-1 f.bundle

	# --- enroll
	t_exit 0 "enroll a personnel sim device" A enroll b.bundle
	# A first-wave bundle names the org key, a v2 bundle its root.
	t_grep "enroll names the org key or the root" \
	    "org key: +$(sed -n 's/key_id = "\(.*\)";/\1/p' org/org.cfg)|root: +version [0-9]+," "$T/out"
	t_grep "enroll names the server" "server: +$U" "$T/out"
	t_grep "enroll says what a report carries" 'report carries only' "$T/out"
	t_grep "enroll installed the server's profile" \
	    'installed profile "iaf-personnel" serial 1' "$T/out"
	D1=$(devid "$S")
	t_check "agent.cfg holds a 32-hex device id" \
	    sh -c "echo '$D1' | grep -Eq '^[0-9a-f]{32}$'"
	t_check "agent.cfg holds the pin" grep -qF "pin = \"$PIN\";" "$S/agent.cfg"
	t_check "agent.cfg is 0600" test "$(stat -c %a "$S/agent.cfg")" = 600
	t_check "device.key is 0600" test "$(stat -c %a "$S/device.key")" = 600
	t_grep "device.key is minisign -W format" '^RWQAAEIy' "$S/device.key"
	t_exit 77 "enroll twice is refused" A enroll b.bundle
	t_err_line "enroll twice: one line" 'already enrolled'
	t_exit 77 "a used token is refused by the server" \
	    "$AGENT" --state "$T/used" enroll b.bundle
	t_err_line "used token: one line" 'expired, already used or revoked'
	t_exit 0 "status shows the enrollment" A status
	t_grep "status: server" "server: +$U" "$T/out"
	t_grep "status: device id" "device id: +$D1" "$T/out"
	t_grep "status: spool" 'reports: +0 waiting' "$T/out"

	# --- run --once
	t_exit 0 "run --once delivers a report" A run --once
	t_check "report 1 is in sent/" test -f "$S/sent/1.json" -a -f "$S/sent/1.sig"
	t_check "the spool is empty" test "$(pending)" = 0
	t_grep "personnel report has the model" '"model":"Xiaomi HM 1SW"' "$S/sent/1.json"
	t_grep "personnel report has details" '"detail":' "$S/sent/1.json"
	t_grep "the sim device was remediated" 'mi_cloud_sync_enabled = "0"' dev.cfg
	t_grep "ack says delivered 202" '^delivered 202 ' "$S/sent/1.ack"
	t_check "sent report is 0600" test "$(stat -c %a "$S/sent/1.json")" = 600
	if [ "$have_sqlite" = 1 ]; then
		t_check "the server stored report 1" test "$(stored "$D1")" = 1
	else
		t_skip "the server stored report 1 (no sqlite3)"
	fi

	# --- an outage: three runs queue, one run delivers all, once, in order
	stop_server
	t_exit 69 "enroll while the server is away" \
	    "$AGENT" --state "$T/s2" enroll b2.bundle
	for i in 1 2 3; do
		t_exit 75 "run $i without the server: queued" A run --once
	done
	t_grep "queued: says so" 'queued' "$T/err"
	t_check "three reports wait in the spool" test "$(pending)" = 3
	t_exit 0 "log" A log
	t_grep "log shows report 1 delivered" '^1 .* delivered 202' "$T/out"
	t_grep "log shows report 4 pending" '^4 .* pending' "$T/out"
	start_server || t_fail "server restarts"
	t_exit 0 "run with the server back" A run --once
	t_check "the spool is empty again" test "$(pending)" = 0
	t_check "reports 2-5 are in sent/" sh -c \
	    "cd '$S/sent' && test -f 2.json -a -f 3.json -a -f 4.json -a -f 5.json"
	if [ "$have_sqlite" = 1 ]; then
		t_check "the server stored 1-5 once each, in order" \
		    test "$(stored "$D1")" = "1,2,3,4,5"
	else
		t_skip "server stored 1-5 in order (no sqlite3)"
	fi
	t_exit 0 "enroll again once the server is back (same device key)" \
	    "$AGENT" --state "$T/s2" --device "sim:$DEV/clean.cfg" enroll b2.bundle

	# --- replay
	code=$(curl -sk --pinnedpubkey "$PIN" --max-time 20 -o /dev/null \
	    -w '%{http_code}' -H 'Content-Type: application/json' \
	    -H "Muster-Device: $D1" -H "Muster-Signature: $(cat "$S/sent/3.sig")" \
	    --data-binary @"$S/sent/3.json" "$U/v1/report")
	t_check "a replayed sent report is 200 or 409 (got $code)" \
	    sh -c "test '$code' = 200 -o '$code' = 409"
	if [ "$have_sqlite" = 1 ]; then
		t_check "and is not stored twice" test "$(stored "$D1")" = "1,2,3,4,5"
	else
		t_skip "replay not stored twice (no sqlite3)"
	fi
	# A rewound seq (a restored backup, a clone) with other bytes (the
	# device changed): 409, then never again.
	sed -i 's/^os_version = .*/os_version = "4.4.4";/' dev.cfg
	echo 2 >"$S/seq"
	t_exit 0 "a report the server calls a replay (409) does not block" \
	    A run --once
	t_grep "409: logged" 'replay' "$T/err"
	t_grep "409: kept in sent/ as rejected" '^rejected 409 ' "$S/sent/3.ack"
	t_check "409: nothing left waiting" test "$(pending)" = 0
	echo 5 >"$S/seq"

	# --- a wrong pin: refused, the spool kept
	stop_server
	t_exit 75 "run without the server" A run --once
	start_server || t_fail "server restarts"
	# The pins come from the org's root: a server with another TLS key.
	"$ENROLL" init --org other --server "$U" --no-passphrase >/dev/null
	stop_server
	cp -p org/server.crt org/server.key .
	cp -p other/server.crt other/server.key org/
	start_server || t_fail "server restarts with another key"
	t_exit 77 "a server whose key is not the pin is refused" A run --once
	t_grep "pin: says so" 'does not match the pin' "$T/err"
	# The check-in reports first: this run's report waits with the other.
	t_check "pin: the queued report and this run's are kept" test "$(pending)" = 2
	stop_server
	cp -p server.crt server.key org/
	start_server || t_fail "server restarts with its key"
	t_exit 0 "the right pin again: delivered" A run --once
	t_check "pin: spool empty" test "$(pending)" = 0

	# --- the daemon: no libcurl in its memory, SIGHUP, SIGTERM
	"$AGENT" --state "$S" --device "sim:$T/dev.cfg" run --foreground \
	    --verbose 2>daemon.log &
	DPID=$!
	for _ in $(seq 1 100); do
		grep -q 'delivered' daemon.log && break
		sleep 0.1
	done
	sleep 0.2
	t_check "daemon: read its memory map" grep -q libsodium "/proc/$DPID/maps"
	t_check "daemon: no libcurl in its memory" \
	    sh -c "! grep -q libcurl /proc/$DPID/maps"
	echo "# daemon between reports: $(grep VmRSS "/proc/$DPID/status")"
	n=$(grep -c 'info: report' daemon.log)
	kill -HUP "$DPID"
	for _ in $(seq 1 100); do
		[ "$(grep -c 'info: report' daemon.log)" -gt "$n" ] && break
		sleep 0.1
	done
	t_check "daemon: SIGHUP runs a cycle now" \
	    test "$(grep -c 'info: report' daemon.log)" -gt "$n"
	kill -TERM "$DPID"
	for _ in $(seq 1 100); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	wait "$DPID"
	t_check "daemon: SIGTERM exits 0" test $? = 0
	DPID=
	t_grep "daemon: logged its stop" 'info: stopped' daemon.log

	# --- the reporter's privileges
	if [ "$(id -u)" = 0 ] && id -u nobody >/dev/null 2>&1; then
		t_exit 0 "as root: run --once --verbose" A run --once --verbose
		t_grep "as root: the reporter ran as nobody" \
		    "ran as uid $(id -u nobody):" "$T/err"
		t_check "as root: never as uid 0" \
		    sh -c "! grep -q 'ran as uid 0:' '$T/err'"
	else
		t_skip "reporter drops root to nobody (not run as root)"
	fi

	# --- family: consent, and nothing but rule ids and results
	t_exit 0 "publish the family profile" "$ENROLL" publish --org org f.cfg
	F=$T/fam
	# setsid: no controlling terminal to ask on (tests/e2e/test_family.sh
	# answers on one).
	t_exit 64 "family without --consent is refused" \
	    setsid -w "$AGENT" --state "$F" --device "sim:$DEV/redmi-1s.cfg" enroll f.bundle
	t_grep "family: says what would be reported first" 'will and will not see' "$T/out"
	t_check "family: no state made" test ! -e "$F"
	t_exit 0 "family with --consent" \
	    "$AGENT" --state "$F" --device "sim:$DEV/redmi-1s.cfg" enroll f.bundle --consent
	t_exit 0 "family: run --once" \
	    "$AGENT" --state "$F" --device "sim:$DEV/redmi-1s.cfg" run --once
	t_check "family report: no detail" sh -c "! grep -q detail '$F/sent/1.json'"
	t_check "family report: no model" sh -c "! grep -q model '$F/sent/1.json'"
	t_check "family report: only the minimal keys" sh -c "
	    tr -d '\n' <'$F/sent/1.json' | sed 's/\"results\":\[.*\]//' |
	    grep -Eq '^\{\"device\":\"[0-9a-f]{32}\",\"seq\":1,\"time\":\"[^\"]+\",\"profile\":\"family-optin\",\"serial\":1,\"status\":\"[a-z]+\",\"dropped\":0,\"privacy\":\"rr1\",\}$'"
	t_exit 0 "family: unenroll" "$AGENT" --state "$F" unenroll
	t_check "family: the state is wiped" test ! -e "$F"

	# --- revocation: refused with 77, the spool kept
	t_exit 0 "revoke the device" "$ENROLL" revoke --org org "$D1"
	stop_server
	t_exit 75 "run while the server is away" A run --once
	start_server || t_fail "server restarts"
	t_exit 77 "a revoked device's run exits 77" A run --once
	t_check "revoked: said in one error line" test \
	    "$(grep -c 'error: device revoked or unknown' "$T/err")" = 1 -a \
	    "$(grep -c 'error:' "$T/err")" = 1
	t_check "revoked: the spool is kept (with this run's report)" test "$(pending)" = 2

	# --- unenroll while the server is away, then for real
	stop_server
	t_exit 75 "unenroll without the server: leaving" A unenroll
	t_check "leaving is marked" test -f "$S/leaving"
	t_exit 0 "status says leaving" A status
	t_grep "status: leaving" '^leaving:' "$T/out"
	t_exit 75 "run while leaving" A run --once
	start_server || t_fail "server restarts"
	t_exit 0 "unenroll" A unenroll
	t_check "unenroll wiped the state" test ! -e "$S"
	D2=$(devid "$T/s2")
	t_exit 0 "unenroll the second device" "$AGENT" --state "$T/s2" unenroll
	code=$(curl -sk --pinnedpubkey "$PIN" --max-time 20 \
	    -H "Authorization: Bearer $(tr -d '\n' <org/admin.token)" \
	    "$AU/metrics" | sed -n 's/^muster_devices_enrolled //p')
	t_check "the server knows no device of ours (enrolled: $code)" \
	    test "$code" = 0
	if [ "$have_sqlite" = 1 ]; then
		t_check "the server deleted the second device's reports" \
		    test -z "$(stored "$D2")"
	else
		t_skip "the server deleted the reports (no sqlite3)"
	fi
	stop_server
else
	for n in "enroll" "run --once" "outage: queued then delivered once in order" \
	    "replay" "wrong pin" "daemon: no libcurl in /proc/PID/maps" \
	    "reporter as nobody" "family minimality" "revocation" "unenroll"; do
		t_skip "$n (muster-server or its init files not available)"
	done
fi
t_done
