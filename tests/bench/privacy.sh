#!/bin/bash
# Benchmark: the family randomized response (issue 12, docs/privacy.md).
#
# 1. Estimate accuracy: simulated populations of 100, 1,000, 10,000 and
#    100,000 family phones, each answering a three-rule profile (truly
#    failing 10 %, 30 %, 50 %) through the real mechanism (lib/rr.c,
#    each phone its own secret; tests/tools/rrsim bench); per rule, the
#    mean absolute error of the estimate against the truth and the mean
#    half-width of its 95 % interval, in percentage points, how often the
#    interval held the truth, and whether the roll-up prints it (half-
#    width <= 10 points); the same for the share compliant on all three.
# 2. The cost on the device: the agent's evaluation of a 200-rule family
#    profile on a sim device (check_eval, what `check` and `run` do)
#    with and without the randomization of its results (rrmemo_apply:
#    the memo file read, 200 keyed hashes), median CPU of RUNS each,
#    interleaved in the same process and run.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
RRSIM=$MUSTER_BIN/../tests/tools/rrsim
RUNS=${RUNS:-200}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"

echo "family estimates, 95 % intervals (points; mean over the trials):"
printf '  %-16s %8s %7s %10s %11s %9s %s\n' "ESTIMATE" "PHONES" "TRIALS" \
    "ERROR" "HALF-WIDTH" "COVERAGE" "PRINTED"
for n in 100 1000 10000 100000; do
	case $n in 100) tr=400 ;; 1000) tr=100 ;; 10000) tr=20 ;; *) tr=10 ;; esac
	"$RRSIM" bench "$n" "$tr" >b.txt
	awk -v tr="$tr" '{
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "  %-16s %8d %7d %10.2f %11.2f %9.3f %s\n", $1, v["n"], tr,
		    v["error_pts"], v["half_width_pts"], v["coverage"], v["shown"]
		if ($1 == "rule-30%")
			printf "BENCH\tfamily estimate, one rule, %d phones\t+-%.2f pts (95%%)\terror %.2f pts\t<= 3 pts at 10000\t%s\n",
			    v["n"], v["half_width_pts"], v["error_pts"],
			    v["n"] != 10000 ? "-" : (v["half_width_pts"] <= 3 ? "ok" : "OVER")
	}' b.txt
done
echo

{
	printf 'id = "bench-200";\nserial = 1;\nexpires = "2030-01-01T00:00:00Z";\n'
	printf 'scope = "family";\nrules = (\n'
	for i in $(seq 1 200); do
		[ "$i" -gt 1 ] && printf ',\n'
		case $((i % 5)) in
		0) printf '{ id = "s%d"; kind = "setting"; severity = "high"; title = "setting %d"; namespace = "secure"; key = "k%d"; expect = "0"; action = "report"; }' "$i" "$i" "$i" ;;
		1) printf '{ id = "m%d"; kind = "model-ban"; severity = "critical"; title = "model %d"; manufacturer = "Xiaomi"; models = [ "HM 1SW", "M%d" ]; min_build = "KHHMIBH45.0"; }' "$i" "$i" "$i" ;;
		2) printf '{ id = "p%d"; kind = "package-ban"; severity = "high"; title = "packages %d"; packages = [ "com.miui.cloudservice", "com.p%d" ]; action = "report"; }' "$i" "$i" "$i" ;;
		3) printf '{ id = "o%d"; kind = "os-min"; severity = "medium"; title = "os %d"; min_version = "4.4.%d"; }' "$i" "$i" "$i" ;;
		4) printf '{ id = "e%d"; kind = "egress-deny"; severity = "high"; title = "egress %d"; cidrs = [ "203.0.113.0/24", "10.%d.0.0/16" ]; }' "$i" "$i" "$i" ;;
		esac
	done
	printf '\n);\n'
} >bench.cfg
cp "$TOP/examples/devices/clean.cfg" dev.cfg
out=$("$RRSIM" cpu bench.cfg "$T/dev.cfg" "$RUNS")
get() { echo "$out" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
awk -v a="$(get check_ms)" -v b="$(get check_rr_ms)" -v runs="$RUNS" 'BEGIN {
	printf "agent evaluation of 200 family rules on a sim device, median of %d:\n", runs
	printf "  without randomization  %7.3f ms CPU\n", a
	printf "  with randomization     %7.3f ms CPU  (+%.3f ms, %.2fx)\n", b, b - a, b / a
	printf "BENCH\tagent check CPU with randomization (200 rules)\t%.3f ms\t%.2fx without (%.3f ms)\t-\t-\n", b, b / a, a
}'
