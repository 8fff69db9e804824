#!/bin/sh
# Runs one fuzzer: every input in tests/fuzz/crashes/TARGET/ once (the
# regression inputs of bugs already fixed), then FUZZ_SECONDS of fuzzing
# on a working corpus in $FUZZ_B/corpus/TARGET/ seeded from
# tests/fuzz/corpus/TARGET/.  Prints one summary line and exits 0, or 1 if
# anything crashed, leaked, tripped UBSan, took longer than FUZZ_TIMEOUT
# seconds on one input or used more than 2 GB; the input that did is kept
# in $FUZZ_B/artifacts/TARGET/ and the output in $FUZZ_B/logs/TARGET.log.
#
#	sh tests/fuzz/run.sh TARGET	(from the top of the tree)
set -u
t=${1:?usage: run.sh TARGET}
B=${FUZZ_B:-build-fuzz}
secs=${FUZZ_SECONDS:-60}
tmo=${FUZZ_TIMEOUT:-1}
bin=$B/$t
seeds=tests/fuzz/corpus/$t
crashes=tests/fuzz/crashes/$t
dict=tests/fuzz/dict/$t.dict

# The longest input worth trying: a little over the parser's own cap where
# that is small, else room for every field and a few dozen rules.
case $t in
fuzz_profile)	maxlen=16384 ;;
fuzz_minisig)	maxlen=13000 ;;	# SIG_FILE_MAX is 12288
fuzz_bundle)	maxlen=4096 ;;
fuzz_root)	maxlen=20000 ;;	# ROOT_MAX and MANIFEST_MAX are 16384
fuzz_simdev)	maxlen=16384 ;;
fuzz_proctcp)	maxlen=4096 ;;
fuzz_frame)	maxlen=8192 ;;
fuzz_report)	maxlen=8192 ;;
fuzz_server)	maxlen=8192 ;;
fuzz_http)	maxlen=8192 ;;	# max_body is 2048: room to go over it, pipelined
fuzz_agent)	maxlen=16384 ;;	# room for a base64 profile of ~10 KB
*)		maxlen=4096 ;;
esac

if [ ! -x "$bin" ]; then
	echo "$t: $bin not built (make fuzz-build)"
	exit 1
fi
mkdir -p "$B/corpus/$t" "$B/artifacts/$t" "$B/logs"
log=$B/logs/$t.log
: >"$log"

# The harnesses write only below MUSTER_FUZZ_TMPDIR: on tmpfs when there is
# one, so that the server's fsyncs cost nothing.
base=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
MUSTER_FUZZ_TMPDIR=$(mktemp -d "$base/muster-fuzz.XXXXXX") || exit 1
export MUSTER_FUZZ_TMPDIR
trap 'rm -rf "$MUSTER_FUZZ_TMPDIR"' EXIT INT TERM

opts="-timeout=$tmo -rss_limit_mb=2048 -malloc_limit_mb=2048"

# Regression inputs first, whole (no -max_len): each must now run cleanly.
nreg=0
if [ -d "$crashes" ] && [ -n "$(ls -A "$crashes" 2>/dev/null)" ]; then
	nreg=$(ls -A "$crashes" | wc -l)
	# shellcheck disable=SC2086
	if ! "$bin" $opts -runs=1 "$crashes"/* >>"$log" 2>&1; then
		echo "$t: FAIL: a regression input in $crashes crashes again" \
		    "(log $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|Running:)' "$log" | tail -n 5
		exit 1
	fi
fi

# Seeds are copied (never changed in the tree); the working corpus grows.
[ -d "$seeds" ] && cp -n "$seeds"/* "$B/corpus/$t/" 2>/dev/null
opts="$opts -max_len=$maxlen"
[ -f "$dict" ] && opts="$opts -dict=$dict"
# shellcheck disable=SC2086
"$bin" $opts -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$B/artifacts/$t/" "$B/corpus/$t" >>"$log" 2>&1
rc=$?

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n 1; }
runs=$(stat number_of_executed_units)
eps=$(stat average_exec_per_sec)
new=$(stat new_units_added)
rss=$(stat peak_rss_mb)
cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
ncorp=$(ls -A "$B/corpus/$t" | wc -l)
if [ "$rc" -ne 0 ]; then
	echo "$t: FAIL (exit $rc) after ${runs:-?} runs; input in" \
	    "$B/artifacts/$t/, log $log"
	grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|.*-timeout|.*out-of-memory)' \
	    "$log" | head -n 5
	exit 1
fi
echo "$t: ok: ${secs} s, ${runs:-?} runs, ${eps:-?} exec/s, cov ${cov:-?}," \
    "corpus $ncorp (+${new:-0}), peak ${rss:-?} MB, $nreg regression inputs"
exit 0
