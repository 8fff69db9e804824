#!/bin/bash
# Benchmark: check-ins as a fleet makes them (issue 13).  One server on
# loopback (real TLS), measured in one run:
#  - the baseline: server CPU per bare TLS handshake, `openssl s_time
#    -new` against the same server for HS_SECONDS;
#    (the server issues its session tickets in it too);
#  - the load tool (tests/tools/checkin): DEVICES devices x ROUNDS rounds
#    of unchanged check-ins, each a new TLS connection carrying one report
#    (whose answer tags the policy held: no policy GET, as the agent
#    does), over THREADS threads, each round
#    followed by as many bare handshakes from the same tool (libcurl
#    CONNECT_ONLY), the baseline measured alike: server CPU per check-in,
#    and its ratio to one handshake (target <= 1.5); once with a full
#    handshake each time, once resuming each device's last TLS session as
#    the agent does (STATE/tls-session);
#  - the real agent for a sample (SAMPLE devices, `run --once` each
#    AGENT_ROUNDS times, resuming; then as many without the kept session)
#    through tcpcut, the counting proxy: connections
#    and bytes on the wire per unchanged check-in, server CPU per
#    check-in, and the CPU of agent + reporter per check-in (wait4's
#    rusage, reporter included) beside /bin/true.  Each agent check-in
#    is followed by one bare handshake (`openssl s_client`, nothing
#    sent), so that both are measured alike: one at a time, the server
#    idle before each (its caches cold), a new process on the client
#    side.  The medians of both, and their ratio, are printed beside the
#    s_time figure (back to back, caches hot), which flatters the
#    handshake;
#  - the drain after an outage: DEVICES devices x SPOOL spooled reports
#    all coming back at once, each device one connection.
# Prints figures; not a pass/fail test.  Needs muster-server and openssl.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=$MUSTER_BIN/../tests/tools
DEVICES=${DEVICES:-200}
ROUNDS=${ROUNDS:-5}
SPOOL=${SPOOL:-20}
THREADS=${THREADS:-4}
SAMPLE=${SAMPLE:-4}
AGENT_ROUNDS=${AGENT_ROUNDS:-10}
HS_SECONDS=${HS_SECONDS:-4}
T=$(mktemp -d)
SPID= PXID=
trap 'for p in $SPID $PXID; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
cd "$T"
for x in "$MUSTER_BIN/muster-server" "$TOOLS/checkin" "$TOOLS/tcpcut" "$TOOLS/rusage"; do
	[ -x "$x" ] || { echo "checkin: skipped ($x not built)"; exit 0; }
done
command -v openssl >/dev/null || { echo "checkin: skipped (no openssl)"; exit 0; }

free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
	done
	return 1
}
SP=$(free_port); PP=$(free_port)
[ "$SP" != "$PP" ] || PP=$(free_port)
E="$MUSTER_BIN/muster-enroll"
"$E" init --org org --server "https://127.0.0.1:$PP" --no-passphrase >/dev/null
sed -i -e "s/^port = [0-9]*;/port = $SP;/" \
    -e "s/max_per_ip = [0-9]*/max_per_ip = $((THREADS + 16))/" org/server.cfg
"$MUSTER_BIN/muster-server" --config org/server.cfg >server.log 2>&1 &
SPID=$!
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "https://127.0.0.1:$SP/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
"$TOOLS/tcpcut" "$PP" "$SP" "$T/stats" &
PXID=$!
sleep 0.2
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$E" sign --org org p.cfg >/dev/null
"$E" publish --org org p.cfg >/dev/null
HZ=$(getconf CLK_TCK)
# The server's CPU so far, in microseconds: the sum of its threads' run
# times (schedstat, nanoseconds; its threads live as long as it does),
# else /proc/PID/stat's clock ticks (10 ms: too coarse for one check-in).
cpu() {
	cat /proc/"$SPID"/task/*/schedstat 2>/dev/null |
	    awk '{ s += $1 } END { if (NR > 0) printf "%.0f\n", s / 1000; else exit 1 }' ||
	    awk -v hz="$HZ" '{ printf "%.0f\n", ($14 + $15) * 1e6 / hz }' "/proc/$SPID/stat"
}
# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# --- the baseline: bare TLS handshakes ------------------------------------
c0=$(cpu)
hs=$(openssl s_time -connect "127.0.0.1:$SP" -new -time "$HS_SECONDS" 2>/dev/null |
    sed -n 's/^\([0-9]*\) connections in .*real seconds.*/\1/p' | head -n 1)
c1=$(cpu)
hs=${hs:-0}
hs_us=$(awk -v c=$((c1 - c0)) -v n="$hs" 'BEGIN { printf "%.0f", (n > 0 ? c / n : 0) }')

# --- the load tool: unchanged check-ins, then the drain ------------------
out=$(MUSTER_SERVER_PID=$SPID "$TOOLS/checkin" org "https://127.0.0.1:$SP" \
    "$DEVICES" "$ROUNDS" "$SPOOL" "$THREADS" 2>checkin.err) || true
get() { echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ck_us=$(awk -v c="$(get checkin_server_cpu_s)" -v n="$(get checkins)" 'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }')
cb_us=$(awk -v c="$(get bare_server_cpu_s)" -v n="$(get bare_handshakes)" 'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }')
rout=$(MUSTER_SERVER_PID=$SPID "$TOOLS/checkin" org "https://127.0.0.1:$SP" \
    "$DEVICES" "$ROUNDS" 0 "$THREADS" resume 2>>checkin.err) || true
rget() { echo "$rout" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
rk_us=$(awk -v c="$(rget checkin_server_cpu_s)" -v n="$(rget checkins)" 'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }')
rb_us=$(awk -v c="$(rget bare_server_cpu_s)" -v n="$(rget bare_handshakes)" 'BEGIN { printf "%.0f", (n > 0 ? c * 1e6 / n : 0) }')

# --- the real agent, through the counting proxy ---------------------------
A_US=0; BYTES=0; CONNS=0; AGENT_US=0; TRUE_US=0
for i in $(seq 1 "$SAMPLE"); do
	"$E" token --org org --scope personnel --unit U --person "S-$i" -o "b$i.cfg" >/dev/null
	cp "$TOP/examples/devices/redmi-1s.cfg" "dev$i.cfg"
	"$MUSTER_BIN/muster-agent" --state "st$i" --device "sim:dev$i.cfg" enroll "b$i.cfg" >/dev/null
	"$MUSTER_BIN/muster-agent" --state "st$i" --device "sim:dev$i.cfg" run --once >/dev/null 2>&1 || true
done
read -r _ c_before < <(grep '^connections' stats)
read -r _ u_before < <(grep '^up' stats)
read -r _ d_before < <(grep '^down' stats)
n=0
: >agent.us; : >bare.us
for _ in $(seq 1 "$AGENT_ROUNDS"); do
	for i in $(seq 1 "$SAMPLE"); do
		c0=$(cpu)
		"$MUSTER_BIN/muster-agent" --state "st$i" --device "sim:dev$i.cfg" run --once >/dev/null 2>&1 || true
		c1=$(cpu)
		echo $((c1 - c0)) >>agent.us
		n=$((n + 1))
		# the same-conditions baseline: one bare full handshake
		c0=$(cpu)
		openssl s_client -connect "127.0.0.1:$SP" </dev/null >/dev/null 2>&1 || true
		c1=$(cpu)
		echo $((c1 - c0)) >>bare.us
	done
done
sleep 0.3
read -r _ c_after < <(grep '^connections' stats)
read -r _ u_after < <(grep '^up' stats)
read -r _ d_after < <(grep '^down' stats)
CONNS=$(awk -v a="$c_after" -v b="$c_before" -v n="$n" 'BEGIN { printf "%.2f", (a - b) / n }')
UP=$(( (u_after - u_before) / n )); DOWN=$(( (d_after - d_before) / n ))
A_US=$(median <agent.us)
A_MEAN=$(awk '{ s += $1 } END { printf "%.0f", (NR > 0 ? s / NR : 0) }' agent.us)
P_US=$(median <bare.us)
# The same check-ins without the kept session: a full handshake each.
: >full.us
for _ in $(seq 1 "$AGENT_ROUNDS"); do
	for i in $(seq 1 "$SAMPLE"); do
		rm -f "st$i/tls-session"
		c0=$(cpu)
		"$MUSTER_BIN/muster-agent" --state "st$i" --device "sim:dev$i.cfg" run --once >/dev/null 2>&1 || true
		c1=$(cpu)
		echo $((c1 - c0)) >>full.us
	done
done
F_US=$(median <full.us)
ru() { "$TOOLS/rusage" "$@" | tr ' ' '\n' | sed -n 's/^cpu_ms_median=//p'; }
AGENT_MS=$(ru 10 "$MUSTER_BIN/muster-agent" --state st1 --device sim:dev1.cfg run --once 2>/dev/null)
TRUE_MS=$(ru 10 /bin/true)

kill -TERM "$PXID" "$SPID" 2>/dev/null || true
wait "$SPID" 2>/dev/null || true
SPID= PXID=

awk -v rkus="$rk_us" -v rres="$(rget resumed)" -v cbus="$cb_us" -v rbus="$rb_us" \
    -v rck="$(rget checkins)" -v fus="$F_US" \
    -v hs="$hs" -v hsus="$hs_us" -v ck="$(get checkins)" -v ckus="$ck_us" \
    -v cks="$(get checkin_s)" -v dr="$(get drain_reports)" -v ds="$(get drain_s)" \
    -v dcpu="$(get drain_server_cpu_s)" -v conns="$(get connections)" \
    -v bad="$(get bad)" -v d="$DEVICES" -v sp="$SPOOL" -v th="$THREADS" \
    -v aus="$A_US" -v amean="$A_MEAN" -v pus="$P_US" -v ac="$CONNS" -v up="$UP" -v down="$DOWN" -v n="$n" \
    -v ams="$AGENT_MS" -v tms="$TRUE_MS" -v cpus="$(nproc)" 'BEGIN {
	printf "check-ins against one server on loopback, %d CPUs:\n", cpus
	printf "  bare TLS handshake (openssl s_time -new): %d in the run, %d us of server CPU each (baseline)\n", hs, hsus
	printf "  load tool: %d check-ins (new connection, one report whose answer tags the policy held), %d threads, %.2f s\n", ck, th, cks
	printf "    full handshake each:     server CPU per check-in %d us = %.2fx the s_time handshake; %.2fx a bare handshake of the tool between its rounds (%d us)\n", ckus, (hsus > 0 ? ckus / hsus : 0), (cbus > 0 ? ckus / cbus : 0), cbus
	printf "    resuming (as the agent): server CPU per check-in %d us = %.2fx the s_time handshake; %.2fx a bare handshake of the tool between its rounds (%d us) (%d of %d resumed)\n", rkus, (hsus > 0 ? rkus / hsus : 0), (rbus > 0 ? rkus / rbus : 0), rbus, rres, rck
	printf "  real agent: %d check-ins of run --once (one report each), resuming\n", n
	printf "    %.2f connections per check-in; %d bytes up, %d down on the wire\n", ac, up, down
	printf "    server CPU per check-in (median; mean %d us) %d us = %.2fx the s_time handshake\n", amean, aus, (hsus > 0 ? aus / hsus : 0)
	printf "    a bare handshake measured alike (one s_client after each check-in; median) %d us: check-in = %.2fx it\n", pus, (pus > 0 ? aus / pus : 0)
	printf "    without the kept session (full handshakes; median): %d us = %.2fx s_time, %.2fx alike\n", fus, (hsus > 0 ? fus / hsus : 0), (pus > 0 ? fus / pus : 0)
	printf "    agent + reporter CPU per check-in %s ms (/bin/true %s ms)\n", ams, tms
	printf "  drain after an outage: %d devices x %d spooled reports = %d in %.2f s (%.0f reports/s), %d connections, server CPU %.2f s\n", d, sp, dr, ds, (ds > 0 ? dr / ds : 0), conns, dcpu
	if (bad > 0) printf "  %d answers were not the ones expected\n", bad
	printf "BENCH\tcheck-in server CPU (load tool, resuming)\t%d us\t%.2fx bare TLS handshake measured alike (%d us)\t<= 1.5x\t%s\n", rkus, (rbus > 0 ? rkus / rbus : 0), rbus, (rbus > 0 && rkus <= 1.5 * rbus ? "ok" : "OVER")
	printf "BENCH\tcheck-in server CPU (load tool, resuming)\t%d us\t%.2fx bare TLS handshake, s_time back to back (%d us)\t<= 1.5x\t%s\n", rkus, (hsus > 0 ? rkus / hsus : 0), hsus, (hsus > 0 && rkus <= 1.5 * hsus ? "ok" : "OVER")
	printf "BENCH\tcheck-in server CPU (load tool, full handshake)\t%d us\t%.2fx bare TLS handshake measured alike (%d us)\t-\t-\n", ckus, (cbus > 0 ? ckus / cbus : 0), cbus
	printf "BENCH\tcheck-in server CPU (real agent, resuming)\t%d us\t%.2fx bare TLS handshake measured alike (%d us)\t<= 1.5x\t%s\n", aus, (pus > 0 ? aus / pus : 0), pus, (pus > 0 && aus <= 1.5 * pus ? "ok" : "OVER")
	printf "BENCH\tcheck-in server CPU (real agent, resuming)\t%d us\t%.2fx bare TLS handshake, s_time back to back (%d us)\t<= 1.5x\t%s\n", aus, (hsus > 0 ? aus / hsus : 0), hsus, (hsus > 0 && aus <= 1.5 * hsus ? "ok" : "OVER")
	printf "BENCH\tcheck-in server CPU (real agent, full handshake)\t%d us\t%.2fx bare TLS handshake measured alike (%d us)\t-\t-\n", fus, (pus > 0 ? fus / pus : 0), pus
	printf "BENCH\tconnections per check-in (real agent)\t%.2f\t-\t1\t%s\n", ac, (ac <= 1.0 ? "ok" : "OVER")
	printf "BENCH\tbytes per unchanged check-in\t%d\t%d up + %d down\t-\t-\n", up + down, up, down
	printf "BENCH\tagent+reporter CPU per check-in\t%s ms\t/bin/true %s ms\t-\t-\n", ams, tms
	printf "BENCH\tdrain %d devices x %d reports\t%.2f s\t%.0f reports/s, %d connections\t-\t-\n", d, sp, ds, (ds > 0 ? dr / ds : 0), conns
}'
sed "s/^/  /" checkin.err; head -n 3 hs.err 2>/dev/null | sed "s/^/  s_time: /"
