#!/bin/bash
# The slow-loris of issue 14, reproduced on loopback and bounded: from
# nine source addresses in 127.1.0.0/16 (nine /24 networks, bound with
# bind()), 540 connections that trickle one byte every two seconds, half
# of them inside the TLS handshake and half inside a request's headers
# (tests/tools/slowloris.py), reopened as the server closes them, for 24 s.
# Meanwhile a legitimate client on 127.0.0.1 asks /healthz twice a second
# and a sim device runs check-ins; every answer must come, in time.  The
# same attack on a server whose limits are opened wide is the baseline.
# The figures (connections the attack held, the legitimate latency with and
# without the attack, what the server cut) are printed as TAP comments.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
AGENT="$MUSTER_BIN/muster-agent"
SPID= APID=
trap 'for p in $SPID $APID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
SRC=$(for i in 1 2 3 4 5 6 7 8 9; do printf '127.1.%d.1,' "$i"; done)
attack() {
	python3 "$TOP/tests/tools/slowloris.py" --port "$PORT" \
	    --sources "${SRC%,}" --per 60 --interval 2 --seconds "$1" \
	    >"$2" 2>&1 &
	APID=$!
}
start() {
	"$SERVER" --config "$1" 2>>server.log &
	SPID=$!
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
}
stop() {
	kill -TERM "$SPID"
	for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	wait "$SPID"; rc=$?; SPID=
}

# The baseline, in this run: the same attack on a server whose slow-client
# limits are opened wide (no request deadline to speak of, no half-open
# caps): what the issue saw.  Figures only.
cp -p org/server.cfg org/open.cfg
sed -i 's/threads = 4;/threads = 4; request_timeout = 600; max_half_open = 65536; max_half_open_per_ip = 65536; max_half_open_per_net = 65536;/' org/open.cfg
start org/open.cfg
attack 12 open.out
sleep 4
ok=0 n=0
for _ in 1 2 3 4 5 6; do
	c=$(curl -sk --max-time 2 -o /dev/null -w '%{http_code}' "$U/healthz" 2>/dev/null)
	n=$((n + 1)); [ "$c" = 200 ] && ok=$((ok + 1))
	sleep 0.5
done
wait "$APID"; APID=
stop
sed 's/^/# limits open: /' open.out
echo "# limits open: $ok of $n /healthz answered within 2 s during the attack"

# The defaults but a shorter request_timeout, so that the test is short,
# and a global half-open cap (100) under what the per-address caps let
# nine addresses hold (9 x 16), so that newcomers evict the oldest too.
sed -i 's/threads = 4;/threads = 4; request_timeout = 4; max_half_open = 100;/' org/server.cfg
: >server.log
start org/server.cfg
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
"$ENROLL" publish --org org p.cfg >/dev/null 2>&1
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-1 -o b.bundle >/dev/null
cp "$TOP/examples/devices/redmi-1s.cfg" dev.cfg
A() { "$AGENT" --state "$T/st" --device "sim:$T/dev.cfg" "$@"; }
t_exit 0 "a sim device enrolls" A enroll b.bundle

# probe FILE N: N GETs of /healthz, two a second; "CODE SECONDS" lines.
probe() {
	for _ in $(seq 1 "$2"); do
		curl -sk --pinnedpubkey "$PIN" --max-time 10 -o /dev/null \
		    -w '%{http_code} %{time_total}\n' "$U/healthz" >>"$1" 2>/dev/null ||
		    echo "000 10" >>"$1"
		sleep 0.5
	done
}
# stats FILE: "max median" of the seconds column.
stats() { sort -n -k2 "$1" | awk '{ t[NR] = $2 } END { printf "%s %s", t[NR], t[int((NR + 1) / 2)] }'; }

probe base.txt 6
read -r bmax bmed <<<"$(stats base.txt)"
echo "# baseline, no attack: /healthz max ${bmax}s, median ${bmed}s"

attack 24 attack.out
sleep 4
probe attack.txt 30 &
PPID2=$!
runs=0 fails=0
for _ in 1 2 3 4 5 6; do
	A run --once >>runs.log 2>&1 || fails=$((fails + 1))
	runs=$((runs + 1))
	sleep 1
done
wait "$PPID2"
wait "$APID"; APID=
read -r amax amed <<<"$(stats attack.txt)"
sed 's/^/# /' attack.out
echo "# under the attack: /healthz max ${amax}s, median ${amed}s over $(wc -l <attack.txt) requests"
t_check "the attack ran (it printed its figures)" grep -q 'held min/avg/max' attack.out
held=$(sed -n 's|.*held min/avg/max [0-9]*/[0-9]*/\([0-9]*\)|\1|p' attack.out)
t_check "the attack held connections (${held:-0} at most)" test "${held:-0}" -ge 50
t_check "every /healthz under the attack answered 200" \
    sh -c "! grep -vq '^200 ' attack.txt"
t_check "no /healthz under the attack took 2 s or more (max ${amax}s)" \
    awk -v m="$amax" 'BEGIN { exit !(m < 2) }'
t_check "the device's check-ins all went through ($runs runs, $fails failed)" \
    test "$fails" = 0
t_check "nothing is left in the device's spool" \
    sh -c "! ls '$T/st/spool' 2>/dev/null | grep -q json"
code=$(curl -sk --pinnedpubkey "$PIN" --max-time 5 -o /dev/null -w '%{http_code}' "$U/healthz")
t_check "the server answers after the attack ($code)" test "$code" = 200
stop
t_check "it stops cleanly after the attack (exit $rc)" test "$rc" = 0
grep 'connections:' server.log | sed 's/^/# server: /'
t_grep "newcomers closed the oldest half-open connections" \
    'connections: .* [1-9][0-9]* half-open closed for newcomers' server.log
t_grep "the refusals are logged with their address, rate-limited" \
    'refused a connection from 127\.1\.[0-9]\.1|more refusals in 10 s not logged' server.log
t_done
