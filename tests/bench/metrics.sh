#!/bin/bash
# Benchmark: what a Prometheus scrape of /metrics costs on a large store.
# A store of SIZE devices (default 1000000, a year of history, from
# tests/tools/rollupgen) served by a real muster-server on loopback with
# TLS; prints the best of RUNS (default 5) wall-clock times of: a scrape
# that counts the devices (the cache cold: each run waits out
# METRICS_FLEET_TTL), a scrape served from the cache, and as baselines
# in the same run GET /healthz (the floor of one HTTPS request) and
# `muster-server report --by scope` (the roll-up engine's whole count).
# Also the count's own time as the server reports it
# (muster_devices_count_duration_seconds) and the CPU share a scrape
# every 15 s costs.  A figure, not a pass/fail test.  Needs about 7 GB
# of disk per million devices in TMPDIR; about 3 minutes at a million.
# DATA=DIR uses a store rollupgen made before instead (left as it is).
# BASELINE_BIN=DIR also times /metrics of another build's server (the
# one before this change, say) on the same store, in the same run.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
GEN=$MUSTER_BIN/../tests/tools/rollupgen
SERVER=$MUSTER_BIN/muster-server
ENROLL=$MUSTER_BIN/muster-enroll
SIZE=${SIZE:-1000000}
RUNS=${RUNS:-5}
TTL=10			# METRICS_FLEET_TTL
if [ ! -x "$GEN" ]; then
	echo "metrics.sh: skipped: $GEN is not built"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/muster-metrics-bench.XXXXXX")
SPID=
trap '[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
cd "$T"
need=$(((SIZE * 7 + 999999) / 1000000 + 1))
avail=$(df -Pk "$T" | awk 'NR == 2 { print int($4 / 1048576) }')
if [ -z "${DATA:-}" ] && [ "$avail" -lt "$need" ]; then
	echo "metrics.sh: skipped ($avail GB free, about $need GB needed)"
	exit 0
fi
PORT=$((20000 + RANDOM % 40000))
"$ENROLL" init --org org --server "https://127.0.0.1:$PORT" \
    --no-passphrase >/dev/null
if [ -n "${DATA:-}" ]; then
	sed -i "s|^data_dir = .*|data_dir = \"$(cd "$DATA" && pwd)\";|" \
	    org/server.cfg
	SIZE="(DATA=$DATA)"
else
	"$GEN" org/data "$SIZE" "$TOP/profiles/iaf-personnel.cfg" \
	    "$TOP/profiles/family-optin.cfg" | sed 's/^/  /'
fi
"$SERVER" --config org/server.cfg 2>server.log &
SPID=$!
CURL=(curl -s --max-time 60 --cacert org/server.crt
    --pinnedpubkey "$(cat org/server.pin)"
    -H "Authorization: Bearer $(tr -d "\n" <org/admin.token)")
for _ in $(seq 1 100); do
	"${CURL[@]}" "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
# t URL: wall-clock seconds of one GET.
t() { "${CURL[@]}" -o out.txt -w '%{time_total}' "$1"; }
best() { sort -g | head -n 1; }
U=https://127.0.0.1:$PORT
: >cold; : >warm; : >hz; : >scan; : >roll
for i in $(seq 1 "$RUNS"); do
	[ "$i" -gt 1 ] && sleep "$TTL"
	t "$U/metrics" >>cold; echo >>cold
	awk '$1 == "muster_devices_count_duration_seconds" { print $2 }' \
	    out.txt >>scan
	cp out.txt last.txt
	t "$U/metrics" >>warm; echo >>warm
	t "$U/healthz" >>hz; echo >>hz
	s=$(date +%s%N)
	"$SERVER" report --config org/server.cfg --by scope >/dev/null
	echo "$((($(date +%s%N) - s) / 1000))e-6" >>roll
done
kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=
: >base
if [ -n "${BASELINE_BIN:-}" ]; then
	"$BASELINE_BIN/muster-server" --config org/server.cfg 2>base.log &
	SPID=$!
	for _ in $(seq 1 100); do
		"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	for _ in $(seq 1 "$RUNS"); do t "$U/metrics" >>base; echo >>base; done
	kill "$SPID"; wait "$SPID" 2>/dev/null || true; SPID=
fi
cold=$(best <cold); warm=$(best <warm); hz=$(best <hz)
scan=$(best <scan); roll=$(best <roll)
echo "/metrics on $SIZE devices, $(nproc) CPUs, best of $RUNS:"
printf "  scrape, devices counted     %8.4f s (the count itself %.4f s)\n" "$cold" "$scan"
printf "  scrape, from the cache      %8.4f s\n" "$warm"
printf "  baseline: GET /healthz      %8.4f s\n" "$hz"
printf "  baseline: report --by scope %8.4f s\n" "$roll"
[ -s base ] && printf "  baseline: /metrics of %s %8.4f s\n" \
    "$BASELINE_BIN" "$(best <base)"
awk -v c="$scan" 'BEGIN { printf "  a scrape every 15 s: %.1f%% of one core\n", 100 * c / 15 }'
grep -E '^muster_devices\{|^muster_store' last.txt | sed 's/^/  | /'
