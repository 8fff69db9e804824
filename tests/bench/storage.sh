#!/bin/bash
# Store growth per report (issue 15, bounded storage): DEVICES (200)
# personnel devices reporting hourly with an unchanged status for DAYS
# (7) days after the retention window (24 h) filled, through the real
# store and its pruning with a simulated clock (tests/tools/storegrow);
# the baseline is the same run with retention off, the store as it was
# before (every report kept).  Then the bytes a status change keeps for
# good (its report, as evidence, and its history rows).
set -u
BIN=${MUSTER_BIN:?set MUSTER_BIN}
GROW="$BIN/../tests/tools/storegrow"
DEVICES=${DEVICES:-200}
DAYS=${DAYS:-7}
[ -x "$GROW" ] || { echo "storage: tests/tools/storegrow not built"; exit 0; }
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
"$GROW" "$D/off" "$DEVICES" "$DAYS" 0 >"$D/off.out" || exit 1
"$GROW" "$D/on" "$DEVICES" "$DAYS" 24 4 >"$D/on.out" || exit 1
off=$(awk '$1 == "unchanged" { print $4 }' "$D/off.out")
on=$(awk '$1 == "unchanged" { print $4 }' "$D/on.out")
n=$(awk '$1 == "unchanged" { print $2 }' "$D/on.out")
chg=$(awk '$1 == "changes" { print $4 }' "$D/on.out")
echo "store growth, $DEVICES devices hourly for $DAYS days ($n reports) after a 24 h window filled:"
echo "  retention off (every report kept, as before): $off bytes a report"
echo "  report_retention 24 h:                        $on bytes a report"
echo "  a status change (its report kept as evidence): $chg bytes"
v=$(awk -v v="$on" 'BEGIN { print (v <= 32 ? "ok" : "OVER") }')
printf 'BENCH\tstore growth per unchanged report\t%s B\t%s B (retention off)\t<= 32 B\t%s\n' \
    "$on" "$off" "$v"
printf 'BENCH\tstore growth per status change\t%s B\t-\t-\t-\n' "$chg"
