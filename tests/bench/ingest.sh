#!/bin/bash
# Benchmark: report ingest of muster-server.  DEVICES simulated devices
# (distinct Ed25519 keys, enrolled through POST /v1/enroll) each post
# REPORTS signed reports (signed before timing starts) over CONNECTIONS
# keep-alive HTTPS connections to one server on loopback.  Prints reports
# stored per second and, measured in the same run by the same tool, the
# raw crypto_sign_verify_detached rate on one core, and their ratio
# (target >= 0.5).  RUNS (default 3) repeats the whole measurement, each
# time with a new server and store, and ends with the range of the
# ratios: on a shared machine one run says little.  A figure, not a
# pass/fail test.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
INGEST=$MUSTER_BIN/../tests/tools/ingest
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DEVICES=${DEVICES:-200}
REPORTS=${REPORTS:-50}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-4}
RUNS=${RUNS:-3}
[ -x "$INGEST" ] || { echo "ingest.sh: $INGEST not built"; exit 1; }
T=$(mktemp -d); SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

# One measurement in directory $1: a new org, server and store.
run() {
	local d=$1 p PORT= U out
	mkdir "$d" && cd "$d" || return 1
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
	done
	[ -n "$PORT" ] || { echo "ingest.sh: no free port"; return 1; }
	U=https://127.0.0.1:$PORT
	"$MUSTER_BIN/muster-enroll" init --org org --server "$U" --no-passphrase >/dev/null
	# The load tool opens its CONNECTIONS at once from one address: the
	# per-address caps (connections, and those still in their handshake)
	# must let them all in, or some reports are refused, not measured.
	sed -i -e "s/threads = [0-9]*;/threads = $THREADS; max_half_open_per_ip = $((CONNECTIONS + 8));/" \
	    -e "s/max_per_ip = [0-9]*/max_per_ip = $((CONNECTIONS + 8))/" org/server.cfg
	"$MUSTER_BIN/muster-server" --config org/server.cfg 2>server.log &
	SPID=$!
	CURL=(curl -s --max-time 5 --cacert org/server.crt --pinnedpubkey "$(cat org/server.pin)")
	for _ in $(seq 1 100); do
		[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = ok ] && break
		sleep 0.1
	done
	# The profile the reports name (the server checks them against it).
	cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
	"$MUSTER_BIN/muster-enroll" sign --org org p.cfg >/dev/null
	"$MUSTER_BIN/muster-enroll" publish --org org p.cfg >/dev/null

	out=$(MUSTER_SERVER_PID=$SPID "$INGEST" org "$U" "$DEVICES" "$REPORTS" \
	    "$CONNECTIONS" 2>ingest.err) || true
	kill -TERM "$SPID"; for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	wait "$SPID" && SPID=
	get() { echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	awk -v v="$(get verify_per_s)" -v r="$(get reports_per_s)" \
	    -v ratio="$(get ratio)" -v s="$(get stored)" -v o="$(get other)" \
	    -v sec="$(get seconds)" -v d="$DEVICES" -v n="$REPORTS" \
	    -v c="$CONNECTIONS" -v th="$THREADS" -v cpus="$(nproc)" \
	    -v ccpu="$(get client_cpu_s)" -v scpu="$(get server_cpu_s)" 'BEGIN {
		printf "report ingest, %d devices x %d reports, %d connections, %d server threads, %d CPUs:\n", d, n, c, th, cpus
		printf "  stored    %7d reports in %.2f s (%d not 202)\n", s, sec, o
		printf "  ingest    %7.0f reports/s\n", r
		printf "  verify    %7.0f Ed25519 verifications/s on one core (baseline)\n", v
		printf "  CPU       server %.2f s, load tool %.2f s during the load\n", scpu, ccpu
		if (scpu > 0 && s > 0)
			printf "  per report %6.1f us of server CPU; one verification %.1f us (%.0f%%)\n", scpu * 1e6 / s, 1e6 / v, 100 * (1e6 / v) / (scpu * 1e6 / s)
		printf "  ratio     %7.2f  (target >= 0.5)  %s\n", ratio, (ratio >= 0.5 ? "ok" : "UNDER")
	}'
	sed "s/^/  /" ingest.err
	grep -E "error|warn|transactions" server.log | head -n 5 | sed 's/^/  server: /' || true
	# ratio, reports/s, verify/s, server CPU us per report, for the table
	awk -v r="$(get ratio)" -v rs="$(get reports_per_s)" \
	    -v v="$(get verify_per_s)" -v scpu="$(get server_cpu_s)" \
	    -v s="$(get stored)" 'BEGIN {
		printf "%s %s %s %.0f\n", r, rs, v, (s > 0 ? scpu * 1e6 / s : 0)
	}' >>"$T/ratios"
}

for i in $(seq 1 "$RUNS"); do
	run "$T/run$i" || exit 1
	cd "$T"
done
# The table shows the run with the median ratio.
sort -n "$T/ratios" | awk '{ r[NR] = $1; rs[NR] = $2; v[NR] = $3; us[NR] = $4 } END {
	k = int((NR + 1) / 2); m = r[k]
	if (NR > 1)
		printf "ratio over %d runs: %.2f-%.2f (median %.2f; target >= 0.5)\n", NR, r[1], r[NR], m
	printf "BENCH\tingest reports/s%s\t%.0f /s\t%.2f of raw verify (%.0f /s)\t>= 0.5\t%s\n",
	    (NR > 1 ? sprintf(" (median of %d)", NR) : ""), rs[k], m, v[k],
	    (m >= 0.5 ? "ok" : "UNDER")
	if (us[k] > 0 && v[k] > 0)
		printf "BENCH\tingest server CPU per report\t%.0f us\t%.1fx one verify (%.0f us)\t-\t-\n",
		    us[k], us[k] / (1e6 / v[k]), 1e6 / v[k]
}'
