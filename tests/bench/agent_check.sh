#!/bin/bash
# Benchmark: `muster-agent check` with a 200-rule profile on a sim device.
# Prints peak RSS and CPU per run from wait4() rusage, and their ratio to
# /bin/true measured the same way in the same run (the baseline: what any
# process costs on this machine).  Targets (issue 3): <= 3 MB, < 5 ms.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RUSAGE=$MUSTER_BIN/../tests/tools/rusage
RUNS=${RUNS:-200}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"

"$MUSTER_BIN/muster-enroll" init --org org --server https://127.0.0.1:8443 \
    --no-passphrase >/dev/null
{
	printf 'id = "bench-200";\nserial = 1;\nexpires = "2030-01-01T00:00:00Z";\n'
	printf 'scope = "personnel";\nrules = (\n'
	for i in $(seq 1 200); do
		[ "$i" -gt 1 ] && printf ',\n'
		case $((i % 5)) in
		0) printf '{ id = "s%d"; kind = "setting"; severity = "high"; title = "setting %d"; namespace = "secure"; key = "mi_cloud_sync_enabled"; expect = "0"; action = "report"; }' "$i" "$i" ;;
		1) printf '{ id = "m%d"; kind = "model-ban"; severity = "critical"; title = "model %d"; manufacturer = "Xiaomi"; models = [ "HM 1SW", "HM 1SC" ]; min_build = "KHHMIBH45.0"; }' "$i" "$i" ;;
		2) printf '{ id = "p%d"; kind = "package-ban"; severity = "high"; title = "packages %d"; packages = [ "com.miui.cloudservice", "com.xiaomi.xmsf" ]; action = "report"; }' "$i" "$i" ;;
		3) printf '{ id = "o%d"; kind = "os-min"; severity = "medium"; title = "os %d"; min_version = "4.4.4"; }' "$i" "$i" ;;
		4) printf '{ id = "e%d"; kind = "egress-deny"; severity = "high"; title = "egress %d"; cidrs = [ "203.0.113.0/24", "2001:db8::/32" ]; }' "$i" "$i" ;;
		esac
	done
	printf '\n);\n'
} >bench.cfg
"$MUSTER_BIN/muster-enroll" sign --org org bench.cfg >/dev/null
"$MUSTER_BIN/muster-agent" --state st trust org/org.pub >/dev/null
"$MUSTER_BIN/muster-agent" --state st install bench.cfg >/dev/null
cp "$TOP/examples/devices/clean.cfg" dev.cfg

base=$("$RUSAGE" "$RUNS" /bin/true)
run=$("$RUSAGE" "$RUNS" "$MUSTER_BIN/muster-agent" --state st \
    --device sim:dev.cfg check)
get() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
rss=$(get "$run" maxrss_kb); cpu=$(get "$run" cpu_ms_median)
brss=$(get "$base" maxrss_kb); bcpu=$(get "$base" cpu_ms_median)
awk -v rss="$rss" -v cpu="$cpu" -v brss="$brss" -v bcpu="$bcpu" -v \
    ex="$(get "$run" exit)" 'BEGIN {
	printf "agent check, 200 rules, sim device (exit %d):\n", ex
	printf "  peak RSS  %6.2f MB  (target <= 3 MB; /bin/true %.2f MB, ratio %.2f)  %s\n",
	    rss / 1024, brss / 1024, rss / brss, rss <= 3072 ? "ok" : "OVER"
	printf "  CPU/run   %6.3f ms  (target < 5 ms; /bin/true %.3f ms, ratio %.1f)  %s\n",
	    cpu, bcpu, cpu / bcpu, cpu < 5 ? "ok" : "OVER"
	# One line each for the table of tests/bench/run.sh.
	printf "BENCH\tagent check RSS (200 rules)\t%.2f MB\t%.2fx /bin/true\t<= 3 MB\t%s\n",
	    rss / 1024, rss / brss, rss <= 3072 ? "ok" : "OVER"
	printf "BENCH\tagent check CPU (200 rules)\t%.3f ms\t%.1fx /bin/true\t< 5 ms\t%s\n",
	    cpu, cpu / bcpu, cpu < 5 ? "ok" : "OVER"
}'
