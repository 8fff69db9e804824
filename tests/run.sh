#!/bin/sh
# Runs every unit test binary and every e2e script once per build directory
# given (build, build-san, ...), reads their TAP output, and ends with the
# one line "N passed, N failed".  Each program's line shows its tests and
# its wall time, to keep the whole run's time in view.  A test program
# that dies before finishing its plan counts its missing tests as failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
pass=0
fail=0
failed_names=""
logdir=$(mktemp -d "${TMPDIR:-/tmp}/muster-tests.XXXXXX")

run_one() {	# label command...
	label=$1; shift
	log="$logdir/$(echo "$label" | tr '/ ' '__').log"
	t0=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - t0))
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
	# cmocka writes a skipped test as "not ok N # SKIP"; a skip is
	# counted as the e2e scripts count theirs ("ok N - # SKIP").
	ok=$(grep -Ec '^ok |^not ok .*# SKIP' "$log")
	nok=$(grep '^not ok ' "$log" | grep -vc '# SKIP')
	missing=0
	if [ -n "$plan" ] && [ $((ok + nok)) -lt "$plan" ]; then
		missing=$((plan - ok - nok))
	fi
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ] && [ "$missing" -eq 0 ]; then
		missing=1
	fi
	pass=$((pass + ok))
	fail=$((fail + nok + missing))
	if [ $((nok + missing)) -gt 0 ]; then
		echo "FAIL $label (exit $rc, ${secs}s): log $log"
		grep '^not ok ' "$log" | grep -v '# SKIP' | sed 's/^/    /'
		[ "$missing" -gt 0 ] && tail -n 15 "$log" | sed 's/^/    | /'
		failed_names="$failed_names $label"
	else
		echo "ok   $label ($ok, ${secs}s)"
	fi
}

for b in "$@"; do
	for t in "$top/$b"/tests/test_*; do
		[ -x "$t" ] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP run_one "$b/$(basename "$t")" "$t"
	done
	for t in "$top"/tests/e2e/test_*.sh; do
		[ -f "$t" ] || continue
		MUSTER_BIN="$top/$b/bin" run_one "$b/e2e/$(basename "$t")" \
		    bash "$t"
	done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && rm -rf "$logdir"
[ "$fail" -eq 0 ]
