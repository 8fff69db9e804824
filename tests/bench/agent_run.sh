#!/bin/bash
# Benchmark: the memory of `muster-agent run` against muster-server on
# loopback (real TLS, a sim device, the iaf-personnel profile).
#  - the daemon between reports: VmRSS from /proc/PID/status while it
#    sleeps, after each of CYCLES cycles (SIGHUP starts one); target <= 3 MB
#  - the reporter: peak RSS of each muster-reporter run, from the wait4()
#    rusage the agent logs at debug level; target <= 12 MB.  Baselines
#    measured in the same run: /bin/true, and muster-reporter --version
#    (what loading libcurl and its libraries costs before any work).
# Prints figures; not a pass/fail test.  Needs muster-server.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUSAGE=$MUSTER_BIN/../tests/tools/rusage
CYCLES=${CYCLES:-20}
ONCE=${ONCE:-20}
T=$(mktemp -d)
SPID=
DPID=
trap 'for p in $SPID $DPID; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
cd "$T"
if [ ! -x "$MUSTER_BIN/muster-server" ]; then
	echo "agent run: skipped (no muster-server)"
	exit 0
fi
PORT=
for _ in $(seq 1 50); do
	p=$((20000 + RANDOM % 40000))
	if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		PORT=$p
		break
	fi
done
E="$MUSTER_BIN/muster-enroll"
"$E" init --org org --server "https://127.0.0.1:$PORT" --no-passphrase >/dev/null
"$MUSTER_BIN/muster-server" --config org/server.cfg >server.log 2>&1 &
SPID=$!
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$E" sign --org org p.cfg >/dev/null
"$E" publish --org org p.cfg >/dev/null
"$E" token --org org --scope personnel --unit U --person P -o b.bundle >/dev/null
cp "$TOP/examples/devices/redmi-1s.cfg" dev.cfg
A=("$MUSTER_BIN/muster-agent" --state st --device sim:dev.cfg)
"${A[@]}" enroll b.bundle >/dev/null

# The reporter, through the agent.
for _ in $(seq 1 "$ONCE"); do
	"${A[@]}" run --once --verbose 2>>once.log
done
rep=$(sed -n 's/.*peak RSS \([0-9]*\) kB.*/\1/p' once.log | sort -n | tail -n 1)
nrep=$(grep -c 'peak RSS' once.log)
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
base=$(get "$("$RUSAGE" 20 /bin/true)" maxrss_kb)
load=$(get "$("$RUSAGE" 20 "$MUSTER_BIN/muster-reporter" --version)" maxrss_kb)

# The daemon, between reports.
"${A[@]}" run --foreground --verbose 2>daemon.log &
DPID=$!
max=0
hwm=0
for i in $(seq 1 "$CYCLES"); do
	for _ in $(seq 1 200); do
		[ "$(grep -c 'info: delivered' daemon.log)" -ge "$i" ] && break
		sleep 0.05
	done
	sleep 0.2	# asleep in ppoll by now
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DPID/status")
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$DPID/status")
	[ "$rss" -gt "$max" ] && max=$rss
	kill -HUP "$DPID"
done
curl=$(grep -c libcurl "/proc/$DPID/maps" || true)
kill -TERM "$DPID"
wait "$DPID" || true
DPID=
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null || true
SPID=
awk -v rss="$max" -v hwm="$hwm" -v rep="$rep" -v nrep="$nrep" -v base="$base" \
    -v load="$load" -v cyc="$CYCLES" -v curl="$curl" 'BEGIN {
	printf "agent run, personnel profile, sim device, loopback TLS:\n"
	printf "  daemon RSS between reports  %6.2f MB  (max of %d cycles; peak %.2f MB; target <= 3 MB; libcurl mappings: %d)  %s\n",
	    rss / 1024, cyc, hwm / 1024, curl, rss <= 3072 ? "ok" : "OVER"
	printf "  reporter peak RSS           %6.2f MB  (max of %d reporter runs; target <= 12 MB)  %s\n",
	    rep / 1024, nrep, rep <= 12288 ? "ok" : "OVER"
	printf "    baselines: /bin/true %.2f MB; muster-reporter --version (libcurl loaded, no work) %.2f MB\n",
	    base / 1024, load / 1024
	printf "BENCH\tagent run daemon RSS\t%.2f MB\t%.2fx /bin/true\t<= 3 MB\t%s\n",
	    rss / 1024, rss / base, rss <= 3072 ? "ok" : "OVER"
	printf "BENCH\treporter peak RSS\t%.2f MB\t%.2fx reporter --version\t<= 12 MB\t%s\n",
	    rep / 1024, rep / load, rep <= 12288 ? "ok" : "OVER"
}'
