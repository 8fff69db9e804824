#!/bin/bash
# The libFuzzer targets of tests/fuzz/, briefly: each replays its
# regression inputs (tests/fuzz/crashes/TARGET/) and then fuzzes for
# FUZZ_CHECK_SECONDS (default 20) from its seeds, FUZZ_CHECK_JOBS (one per
# CPU) at a time; one TAP line per target.
# A crash, leak, UBSan report, an input slower than FUZZ_CHECK_TIMEOUT
# seconds (default 2; `make fuzz` uses 1) or 2 GB of memory fails it.
#
# The fuzzers are built once, with clang, into build-fuzz/ (make
# fuzz-build); run.sh runs this script once per build directory, and it
# does the work for build/ only.  Without clang and its libFuzzer runtime
# (Debian: clang, libclang-rt-14-dev, which scripts/deps.sh installs) it
# fails rather than skip: the fuzzers are part of the suite.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
case ${MUSTER_BIN:-} in
*/build/bin | build/bin) ;;
*)
	echo "1..0 # SKIP the fuzzers run once, for build/bin, not $MUSTER_BIN"
	exit 0
	;;
esac
cd "$TOP" || exit 1
CC=${FUZZ_CC:-clang}
secs=${FUZZ_CHECK_SECONDS:-20}
tmo=${FUZZ_CHECK_TIMEOUT:-2}
targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
ntargets=$(echo "$targets" | wc -w)
T=$(mktemp -d "${TMPDIR:-/tmp}/muster-fuzz-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT

echo "1..$((ntargets + 1))"
fail_all() {	# why: every target not ok
	local n=2 t
	for t in $targets; do
		echo "not ok $n - $t: not run ($1)"
		n=$((n + 1))
	done
	exit 1
}

# Can this clang make a libFuzzer binary at all?
printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
    '{ (void)d; (void)n; return 0; }' >"$T/probe.c"
if ! command -v "$CC" >/dev/null 2>&1 ||
    ! "$CC" -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" \
    >"$T/probe.log" 2>&1; then
	echo "not ok 1 - fuzz-build: $CC cannot build a libFuzzer target" \
	    "(install clang libclang-rt-14-dev)"
	sed 's/^/# /' "$T/probe.log" | head -n 5
	fail_all "no libFuzzer"
fi

# Built from this tree, in build-fuzz/ (clang objects of their own).
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory \
    -j"$(nproc 2>/dev/null || echo 2)" fuzz-build FUZZ_CC="$CC" \
    >"$T/build.log" 2>&1; then
	echo "ok 1 - fuzz-build: $ntargets fuzzers built with $CC"
else
	echo "not ok 1 - fuzz-build failed"
	grep -E 'error|Error' "$T/build.log" | head -n 10 | sed 's/^/# /'
	fail_all "build failed"
fi

# FUZZ_CHECK_JOBS targets at a time (default: one per CPU); the TAP
# lines come out in order once all are done.
jobs=${FUZZ_CHECK_JOBS:-$(nproc 2>/dev/null || echo 2)}
running=0
for t in $targets; do
	(FUZZ_SECONDS=$secs FUZZ_TIMEOUT=$tmo sh tests/fuzz/run.sh "$t" \
	    >"$T/$t.out" 2>&1; echo $? >"$T/$t.rc") &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
n=2
for t in $targets; do
	line=$(cat "$T/$t.out")
	if [ "$(cat "$T/$t.rc" 2>/dev/null)" = 0 ]; then
		echo "ok $n - $(echo "$line" | head -n 1)"
	else
		echo "not ok $n - $(echo "$line" | head -n 1)"
		echo "$line" | tail -n +2 | sed 's/^/# /'
	fi
	n=$((n + 1))
done
