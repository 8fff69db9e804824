#!/bin/bash
# Benchmark: `muster-enroll roster` over ROWS rows (default 175,000, the
# Indian Air Force's personnel count), wall clock, as bundles per second,
# against raw Ed25519 signing (crypto_sign_detached of a 200-byte message)
# on one core measured in the same run by tests/tools/signrate.  Each
# bundle is a signed token written to its own 0600 file, so the ratio
# tells how much of the signing rate the files and the rest cost (target:
# ratio >= 0.3).
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
SIGNRATE=$MUSTER_BIN/../tests/tools/signrate
ROWS=${ROWS:-175000}
[ -x "$SIGNRATE" ] || { echo "roster.sh: no $SIGNRATE (make test)" >&2; exit 1; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
cd "$T"

"$MUSTER_BIN/muster-enroll" init --org org --server https://127.0.0.1:8443 \
    --no-passphrase >/dev/null
# The roster in one awk pass: bounded time whatever ROWS is.
awk -v n="$ROWS" 'BEGIN {
	print "person,unit,scope"
	for (i = 1; i <= n; i++)
		printf "IAF-%06d,IAF/%d-WING,%s\n", i, i % 50, \
		    (i % 10 == 0 ? "family" : "personnel")
}' >roster.csv

# Nothing of the set-up left to write back while we measure.
sync
base=$("$SIGNRATE" 1 | sed -n 's/^signs_per_s=//p')
t0=$(date +%s.%N)
"$MUSTER_BIN/muster-enroll" roster --org org roster.csv --out out >log
t1=$(date +%s.%N)
made=$(find out -name '*.bundle' | wc -l)
[ "$made" -eq "$ROWS" ] || { echo "roster wrote $made of $ROWS bundles" >&2;
	exit 1; }
awk -v rows="$ROWS" -v t0="$t0" -v t1="$t1" -v base="$base" 'BEGIN {
	s = t1 - t0; rate = rows / s
	printf "roster, %d rows (%s):\n", rows, "one bundle file each"
	printf "  wall      %8.2f s\n", s
	printf "  bundles/s %8.0f  (raw Ed25519 signs/s on one core %.0f, ratio %.2f)  %s\n",
	    rate, base, rate / base, (rate / base >= 0.3 ? "ok" : "UNDER")
	printf "BENCH\troster bundles/s (%d rows)\t%.0f /s\t%.2f of raw sign (%.0f /s)\t>= 0.3\t%s\n",
	    rows, rate, rate / base, base, (rate / base >= 0.3 ? "ok" : "UNDER")
}'
