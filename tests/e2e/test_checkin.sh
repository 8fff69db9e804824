#!/bin/bash
# Issue 13, check-ins as a phone makes them, against the real server on
# loopback with real TLS, the real agent and reporter, and tcpcut (a TCP
# proxy in tests/tools that counts connections and bytes, and can cut
# one) between them:
#  - a check-in carrying a spool of 20 reports from an outage is one
#    reporter and ONE TCP connection (counted by the proxy), every report
#    stored once, in order;
#  - a connection cut mid-batch (once on the answers' side, once on the
#    requests' side) loses nothing and doubles nothing: every seq stored
#    exactly once, the spool empty, each report once in sent/;
#  - a device whose clock is ten minutes ahead, then ten minutes behind
#    (skewclock.so, an LD_PRELOAD shift of the wall clock: faketime is not
#    installed), reports normally: the server's clock answer (400
#    {"error":"clock"}) is learnt, kept in STATE/clock, never taken as
#    revocation;
#  - reports spooled through an outage longer than the stale window are
#    stored at their own time (a server three hours on);
#  - a server whose writer is held up (the store locked by sqlite3)
#    answers 503 with Retry-After, and the agent waits it out and
#    delivers, keeping the report spooled meanwhile; the daemon opens no
#    connection inside the Retry-After, even for a check-in that falls
#    due (SIGHUP), and delivers after it.
# Every wait is bounded; server, proxy and lock are killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
TOOLS=$MUSTER_BIN/../tests/tools
CUT=$TOOLS/tcpcut
SKEW=$TOOLS/skewclock.so
DEV=$TOP/examples/devices
SPID= PPID_= LPID= APID= DPID=
trap 'for p in $SPID $PPID_ $LPID $APID $DPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

for tool in sqlite3 curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "check-in tests ($tool is not installed)"; t_done; exit 0
	fi
done
if [ ! -x "$SERVER" ] || [ ! -x "$CUT" ] || [ ! -f "$SKEW" ]; then
	t_skip "check-in tests (server or test tools not built)"; t_done; exit 0
fi

# Two free ports: the proxy's (the org's URL) and the server's.
t_port; PP=$PORT
t_port_apart "$PP"; SP=$PORT
U=https://127.0.0.1:$PP
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
sed -i -e "s/^port = [0-9]*;/port = $SP;/" org/server.cfg
DB=org/data/muster.db
q() { sqlite3 "file:$DB?mode=ro" "$1"; }

"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "https://127.0.0.1:$SP/healthz" >/dev/null 2>&1 &&
	    { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ "$up" = 1 ] || { echo "Bail out! muster-server did not start"; exit 1; }

# proxy [CUT]: (re)starts tcpcut on the org's port, counters at zero.
proxy() {
	proxy_stop
	rm -f stats
	"$CUT" "$PP" "$SP" "$T/stats" "$@" 2>>proxy.err &
	PPID_=$!
	for _ in $(seq 1 50); do [ -f stats ] && return 0; sleep 0.05; done
	echo "Bail out! tcpcut did not start"; exit 1
}
proxy_stop() {
	if [ -n "$PPID_" ]; then
		kill -TERM "$PPID_" 2>/dev/null; wait "$PPID_" 2>/dev/null
		PPID_=
	fi
}
stat_of() { sed -n "s/^$1 //p" stats; }
# The proxy writes its counters once a connection has ended; wait for N.
conns_settle() {
	local n=-1
	for _ in $(seq 1 40); do
		n=$(stat_of connections)
		sleep 0.1
		[ "$(stat_of connections)" = "$n" ] && break
	done
}

proxy
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null &&
    "$ENROLL" publish --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the profile"; exit 1; }
for i in 1 2; do
	"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
	    --person "IAF-C$i" -o "b$i.cfg" >/dev/null
	cp "$DEV/redmi-1s.cfg" "dev$i.cfg"
	"$AGENT" --state "st$i" --device "sim:$T/dev$i.cfg" enroll "b$i.cfg" \
	    >/dev/null 2>&1 || { echo "Bail out! enroll $i failed"; exit 1; }
done
A1() { "$AGENT" --state st1 --device "sim:$T/dev1.cfg" "$@"; }
A2() { "$AGENT" --state st2 --device "sim:$T/dev2.cfg" "$@"; }
D1=$(sed -n 's/^device_id = "\(.*\)";/\1/p' st1/agent.cfg)
D2=$(sed -n 's/^device_id = "\(.*\)";/\1/p' st2/agent.cfg)
pending() { ls "$1/spool" 2>/dev/null | grep -c '\.json$'; }
count() { q "SELECT count(*) FROM reports WHERE device = '$1'"; }
distinct() { q "SELECT count(DISTINCT seq) FROM reports WHERE device = '$1'"; }
# outage N STATE...: N check-ins of device 1 while its server is away.
outage() {
	local n=$1 i bad=0
	proxy_stop
	for i in $(seq 1 "$n"); do
		A1 run --once >/dev/null 2>&1
		[ $? = 75 ] || bad=$((bad + 1))
	done
	[ "$bad" = 0 ]
}

# checkin_1 WHAT N: a check-in of device 1 (--verbose) through a fresh
# proxy: exit 0, one connection, N exchanges with the reporter.
checkin_1() {
	local x=exchanges
	[ "$2" = 1 ] && x=exchange
	proxy
	t_exit 0 "$1" A1 run --once --verbose
	conns_settle
	t_check "  one connection (proxy: $(stat_of connections))" test "$(stat_of connections)" = 1
	t_grep "  $2 $x with the reporter" "check-in: 1 reporter, $2 $x on the last" "$T/err"
}

# --- one connection for a spool of 20 ---------------------------------------
t_check "20 check-ins during an outage each exit 75" outage 20
t_check "20 reports wait in the spool" test "$(pending st1)" = 20
proxy
t_exit 0 "the check-in after the outage delivers everything" A1 run --once --verbose
conns_settle
t_check "ONE connection for 21 reports and the policy (proxy: $(stat_of connections))" \
    test "$(stat_of connections)" = 1
# The reports first; their answers' policy tag (1:1) is not the device's
# (1:0, enrolled before any manifest), so the policy GET follows: 22.
t_grep "one reporter process for the check-in" 'check-in: 1 reporter, 22 exchanges' "$T/err"
t_grep "the policy GET after the reports, for the manifest it lacked" 'manifest: version 0 -> 1' "$T/err"
t_check "  and no report again: the managed profile is the one it checked" \
    sh -c "! grep -q 'checking and reporting again' '$T/err'"
t_grep "the agent says it delivered 21" 'delivered 21 reports' "$T/err"
t_check "the spool is empty" test "$(pending st1)" = 0
t_check "the server holds 21 reports of the device" test "$(count "$D1")" = 21
t_check "stored in seq order" test "$(q "SELECT group_concat(seq) FROM (SELECT seq FROM reports WHERE device = '$D1' ORDER BY rowid)")" = \
    "$(seq -s, 1 21)"
echo "# bytes through the proxy for that check-in: up $(stat_of up), down $(stat_of down)"
checkin_1 "an unchanged check-in (one report, whose answer says the policy is current)" 1
t_grep "  (the answer's tag)" 'policy 1:1 is current \(the report.s answer\)' "$T/err"
echo "# bytes on the wire of an unchanged check-in: up $(stat_of up), down $(stat_of down)"
ONE_DOWN=$(stat_of down)

# --- a connection cut mid-batch ---------------------------------------------
# cut_case WHAT CUT: 20 more reports from an outage, then a check-in over
# a connection the proxy cuts; --once retries over a new one.
cut_case() {
	local what=$1 before
	before=$(count "$D1")
	t_check "$what: 20 more reports spooled" outage 20
	proxy "$2"
	t_exit 0 "$what: the check-in is cut, retries, delivers" A1 run --once
	conns_settle
	t_check "$what: the proxy cut one connection" test "$(stat_of cut)" = 1
	# The reporter (curl on a cut kept-alive connection) or the agent
	# tried again, on a new connection: two in all.
	t_check "$what: one more connection after the cut ($(stat_of connections))" \
	    test "$(stat_of connections)" = 2
	t_check "$what: the spool is empty" test "$(pending st1)" = 0
	t_check "$what: all 21 new reports stored ($(( $(count "$D1") - before )))" \
	    test "$(( $(count "$D1") - before ))" = 21
	t_check "$what: no seq stored twice" test "$(count "$D1")" = "$(distinct "$D1")"
	t_check "$what: seqs 1..N without a gap" test \
	    "$(q "SELECT max(seq) FROM reports WHERE device = '$D1'")" = "$(count "$D1")"
	t_check "$what: each report once in sent/ (newest 32 kept)" test \
	    "$(ls st1/sent | grep -c '\.json$')" = "$(ls st1/sent | grep '\.json$' | sort -u | wc -l)"
}
# Cut the answers after the handshake and a few reports' answers (the
# server stored a report whose answer never arrived: sent again, 200).
cut_case "answers cut" "down:$((ONE_DOWN + 2000))"
# Cut the requests in the middle of the batch.
cut_case "requests cut" "up:9000"
grep -h 'delivered 200' st1/sent/*.ack 2>/dev/null | head -n 1 | sed 's/^/# a re-sent report acknowledged: /'

# --- a new policy: learnt from the report's answer, in the same check-in ---
sed 's/^serial = [0-9]*;/serial = 2;/' p.cfg >p2.cfg
"$ENROLL" sign --org org p2.cfg >/dev/null && "$ENROLL" publish --org org p2.cfg >/dev/null ||
	t_fail "publish serial 2"
before=$(count "$D1")
checkin_1 "a check-in after a new profile was published (the report, the policy, the report again)" 3
t_grep "  the new profile installed from the policy" 'installed profile "iaf-personnel" serial 2' "$T/err"
t_grep "  and checked again" 'policy 1:1 -> 1:2: checking and reporting again' "$T/err"
t_check "  two reports stored: serial 1, then serial 2" test \
    "$(q "SELECT group_concat(serial) FROM (SELECT serial FROM reports WHERE device = '$D1' AND seq > (SELECT max(seq) - 2 FROM reports WHERE device = '$D1') ORDER BY seq)")" = "1,2" -a \
    "$(count "$D1")" = "$((before + 2))"
checkin_1 "the next check-in: unchanged again" 1
t_exit 0 "device 2 takes serial 2 too" A2 run --once

# --- clock ten minutes off --------------------------------------------------
proxy
skewed() {
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    MUSTER_SKEW=$1 LD_PRELOAD=$SKEW "${@:2}"
}
before=$(count "$D2")
t_exit 0 "a device 10 minutes ahead: run --once exits 0" skewed 600 A2 run --once
t_grep "it logs the skew it measured" "clock is (59[0-9]|60[0-9]) s ahead of the server's" "$T/err"
t_check "its report is stored" test "$(count "$D2")" = "$((before + 1))"
t_check "STATE/clock keeps the correction (about -600)" \
    sh -c "o=\$(cat st2/clock); [ \$o -le -599 ] && [ \$o -ge -602 ]"
t_check "STATE/clock is 0600" test "$(stat -c %a st2/clock)" = 600
t_check "the report is stamped by the server's clock" sh -c "
    t=\$(sqlite3 'file:$DB?mode=ro' \"SELECT time FROM reports WHERE device = '$D2' ORDER BY seq DESC LIMIT 1\")
    d=\$(( t - \$(date -u +%s) )); [ \$d -ge -60 ] && [ \$d -le 5 ]"
t_exit 0 "the next check-in needs no correction" skewed 600 A2 run --once
t_check "  (no skew logged again)" sh -c "! grep -q 'clock is' '$T/err'"
t_exit 0 "the same device 10 minutes behind: exit 0" skewed -600 A2 run --once
t_grep "it logs the new skew" "clock is (59[0-9]|60[0-9]) s behind the server's" "$T/err"
t_check "three more reports stored, none refused" test "$(count "$D2")" = "$((before + 3))"
t_exit 0 "muster-agent log still shows no refusal" A2 log
t_check "  (no report rejected)" sh -c "! grep -q rejected '$T/out'"

# --- 503 with Retry-After ---------------------------------------------------
# stall S: the store's writer held by a lock (sqlite3) for S seconds,
# device 1's report waiting in the writer behind it, until the writer is
# WRITER_LAG_MS (2 s) behind: the next report is answered 503 with
# Retry-After.
stall() {
	(echo "BEGIN IMMEDIATE;"; sleep "$1"; echo "COMMIT;") | sqlite3 "$DB" &
	LPID=$!
	sleep 0.5
	A1 run --once >a1.out 2>a1.err &
	APID=$!
	sleep 2.5
}
stall 6
b1=$(count "$D1"); b2=$(count "$D2")
t_exit 0 "device 2 during the stall: 503, waits, delivers, exit 0" A2 run --once
t_grep "it was told 503 with Retry-After" 'server busy \(HTTP 503\), asks to retry in [0-9]+ s; retrying in [0-9]+ s' "$T/err"
wait "$APID"; a1=$?; APID=
t_check "device 1, stuck in the writer meanwhile, delivered too (exit $a1)" test "$a1" = 0
wait "$LPID" 2>/dev/null; LPID=
t_check "both reports stored once" test "$(count "$D1")" = "$((b1 + 1))" -a "$(count "$D2")" = "$((b2 + 1))"
curl -s --max-time 5 --cacert org/server.crt --pinnedpubkey "$(cat org/server.pin)" -H "Authorization: Bearer $(tr -d "\n" <org/admin.token)" \
    "$(t_admin_url "$PP")/metrics" >metrics 2>/dev/null
t_grep "the server counted the 503" 'muster_requests_total\{route="report",status="503"\} [1-9]' metrics

# --- the daemon sends nothing inside a Retry-After ------------------------
# Device 2's daemon is told 503 with Retry-After (3 s or more: the writer
# is 2 s behind); a SIGHUP right after asks it to check in now, as its
# next scheduled check-in would.  It checks and keeps the report, and
# opens no connection until the Retry-After has passed; then the retry
# delivers both reports.
stall 4
b2=$(count "$D2")
# Not through A2: $! must be the agent itself, not a subshell.
"$AGENT" --state st2 --device "sim:$T/dev2.cfg" run --foreground \
    >d2.out 2>d2.err &
DPID=$!
for _ in $(seq 1 50); do grep -q 'HTTP 503' d2.err && break; sleep 0.1; done
t_grep "the daemon is told 503 with Retry-After" 'server busy \(HTTP 503\), asks to retry in [0-9]+ s' d2.err
conns_settle; c0=$(stat_of connections)
kill -HUP "$DPID"
sleep 1.5
conns_settle
t_check "a SIGHUP inside the Retry-After opens no connection" test "$(stat_of connections)" = "$c0"
t_grep "  it checked and kept the report" 'report kept: the server asked to wait' d2.err
wait "$APID"; APID=
wait "$LPID" 2>/dev/null; LPID=
for _ in $(seq 1 150); do [ "$(count "$D2")" -ge $((b2 + 2)) ] && break; sleep 0.1; done
t_check "after the Retry-After the retry delivers both reports" test "$(count "$D2")" = "$((b2 + 2))"
kill -TERM "$DPID"; wait "$DPID" 2>/dev/null; DPID=

# --- a long outage: reports older than the stale window -------------------
# Five reports spooled now; the server comes back with its clock three
# hours on (skewclock): to it they are late (past the stale window, 2
# report intervals of 3600 s), but after the device's previous report, so
# stored at their own time; the device's clock is then 3 h behind the
# server's, which it learns from the clock answer.
# A server under skewclock may sleep in libc's absolute-time waits for
# its skew: after the grace, it is killed.
stop_server() {
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 1 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null; SPID=
}
t_check "5 reports spooled in an outage" outage 5
t0=$(date -u +%s)
stop_server
# env execs the server, so that SPID is the server's own pid (skewed, a
# function, would run in a subshell whose kill left the server behind).
env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    MUSTER_SKEW=10800 LD_PRELOAD="$SKEW" \
    "$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "https://127.0.0.1:$SP/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
proxy
b1=$(count "$D1")
t_exit 0 "after the long outage: run --once exits 0" A1 run --once
t_grep "the device learnt the server is 3 h ahead" 'clock is 10[78][0-9][0-9] s behind' "$T/err"
t_check "all 6 stored (5 late, 1 on time)" test "$(count "$D1")" = "$((b1 + 6))"
t_check "the late ones at their own time, not the server's" test \
    "$(q "SELECT count(*) FROM reports WHERE device = '$D1' AND seq > $b1 AND time BETWEEN $((t0 - 120)) AND $((t0 + 5))")" = 5
t_check "the last at the server's time (3 h on)" test \
    "$(q "SELECT max(time) FROM reports WHERE device = '$D1'")" -ge $((t0 + 10700))
t_check "the server logged 5 late reports" test "$(grep -c 'late report seq' server.log)" = 5
t_check "the spool is empty" test "$(pending st1)" = 0

proxy_stop
stop_server
t_done
