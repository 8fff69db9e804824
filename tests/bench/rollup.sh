#!/bin/bash
# Benchmark: the compliance roll-up (muster-server report) on stores of
# SIZES devices (default 100000 300000 1000000), each with a year of
# history kept as the server keeps it (about ten status changes per device,
# with their reports and failing-rule changes), generated straight into a
# new store by tests/tools/rollupgen (schema from store_open, the
# repository's two profiles published).  Prints the generation time, then
# for each size the best of RUNS (default 3) wall-clock times of
# `report --by unit|rule|model|scope` (target: under 1 s at 1,000,000),
# of the past (`--as-of`, 30 days back), and of `devices --status noncompliant`, and how
# the times grow with the devices.  A figure, not a pass/fail test.
# Needs about 6.5 GB of disk per million devices in TMPDIR.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
GEN=$MUSTER_BIN/../tests/tools/rollupgen
SERVER=$MUSTER_BIN/muster-server
SIZES=${SIZES:-"100000 300000 1000000"}	# 1M needs ~8 GB of disk
RUNS=${RUNS:-3}
if [ ! -x "$GEN" ]; then
	echo "rollup.sh: skipped: $GEN is not built"
	exit 0
fi
[ -x "$SERVER" ] || { echo "rollup.sh: $SERVER not built"; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/muster-rollup-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

# best CMD...: the best of RUNS wall-clock times of CMD, in seconds.
best() {
	local b='' s e
	for _ in $(seq 1 "$RUNS"); do
		s=$(date +%s%N)
		"$@" >/dev/null
		e=$(date +%s%N)
		if [ -z "$b" ] || [ $((e - s)) -lt "$b" ]; then b=$((e - s)); fi
	done
	awk -v ns="$b" 'BEGIN { printf "%.3f", ns / 1e9 }'
}

asof=$(date -u -d '30 days ago' +%Y-%m-%dT%H:%M:%SZ)
echo "roll-up benchmark, $(nproc) CPUs, best of $RUNS runs; as-of $asof"
results=
for n in $SIZES; do
	need=$(((n * 7 + 999999) / 1000000 + 1))	# GB, with room
	avail=$(df -Pk "$T" | awk 'NR == 2 { print int($4 / 1048576) }')
	if [ "$avail" -lt "$need" ]; then
		echo "$n devices: skipped ($avail GB free, about $need GB needed)"
		continue
	fi
	mkdir "s$n"
	cat >"s$n/server.cfg" <<EOF
listen = "127.0.0.1"; port = 1; tls_cert = "server.crt";
tls_key = "server.key"; org_key = "org.pub"; data_dir = "data";
admin_token_hash = "$(printf '%064d' 0)";
EOF
	chmod 600 "s$n/server.cfg"
	echo "$n devices:"
	"$GEN" "s$n/data" "$n" "$TOP/profiles/iaf-personnel.cfg" \
	    "$TOP/profiles/family-optin.cfg" | sed 's/^/  /'
	echo "  store $(du -sh "s$n/data" | cut -f1)"
	R=("$SERVER" report --config "s$n/server.cfg" --format csv)
	unit=$(best "${R[@]}" --by unit)
	rule=$(best "${R[@]}" --by rule)
	model=$(best "${R[@]}" --by model)
	scope=$(best "${R[@]}" --by scope)
	past_unit=$(best "${R[@]}" --by unit --as-of "$asof")
	past_rule=$(best "${R[@]}" --by rule --as-of "$asof")
	past_unit_ix=$past_unit
	list=$(best "$SERVER" devices --config "s$n/server.cfg" \
	    --status noncompliant --format csv)
	printf "  report --by unit   %6s s\n" "$unit"
	printf "  report --by rule   %6s s\n" "$rule"
	printf "  report --by model  %6s s\n" "$model"
	printf "  report --by scope  %6s s\n" "$scope"
	printf "  --as-of, by unit   %6s s\n" "$past_unit"
	printf "  --as-of, by rule   %6s s\n" "$past_rule"
	printf "  devices --status noncompliant %6s s\n" "$list"
	"${R[@]}" --by scope | tr -d '\r' | sed 's/^/  | /'
	results="$results$n $unit $rule $past_unit_ix
"
	rm -rf "s$n"
done
echo "growth (time per million devices; flat means linear):"
printf '%s' "$results" | awk 'NF == 4 {
	printf "  %8d devices: by unit %.2f s/M, by rule %.2f s/M, as-of by unit %.2f s/M\n",
	    $1, $2 * 1e6 / $1, $3 * 1e6 / $1, $4 * 1e6 / $1
	if (NR == 1) { n0 = $1; u0 = $2; r0 = $3 }
	last = $1; ul = $2; rl = $3
} END {
	if (last > n0 && u0 > 0 && r0 > 0)
		printf "  %gx the devices: %.1fx the time by unit, %.1fx by rule\n",
		    last / n0, ul / u0, rl / r0
	if (last >= 1000000)
		printf "  target under 1 s at %d devices: by unit %s, by rule %s\n",
		    last, (ul < 1 ? "ok" : "OVER"), (rl < 1 ? "ok" : "OVER")
	t = last >= 1000000 ? "< 1 s at 1M" : "< 1 s at 1M (not run)"
	v1 = last >= 1000000 ? (ul < 1 ? "ok" : "OVER") : "-"
	v2 = last >= 1000000 ? (rl < 1 ? "ok" : "OVER") : "-"
	printf "BENCH\troll-up --by unit, %d devices\t%.2f s\t%.2f s per 1M\t%s\t%s\n",
	    last, ul, ul * 1e6 / last, t, v1
	printf "BENCH\troll-up --by rule, %d devices\t%.2f s\t%.2f s per 1M\t%s\t%s\n",
	    last, rl, rl * 1e6 / last, t, v2
}'
echo "  (stores hold only the reports that changed a status, about ten a"
echo "  year per device, so most devices look stale 30 days back)"
