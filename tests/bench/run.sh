#!/bin/bash
# make bench: runs every tests/bench/*.sh against one build, shows each
# one's own output, then gathers their BENCH lines into one table.  Each
# figure carries a baseline measured in the same run on the same machine.
# Benchmarks print figures; they pass or fail nothing.
set -u
BIN=${1:?usage: run.sh BUILD/bin}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
for b in "$TOP"/tests/bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $(basename "$b")"
	MUSTER_BIN=$BIN bash "$b" 2>&1 | tee -a "$LOG" | grep -v '^BENCH'
	echo
done
echo "== make bench: $(nproc) cores, $(sed -n 's/^PRETTY_NAME="\(.*\)"/\1/p' \
    /etc/os-release), $(date -u +%Y-%m-%dT%H:%MZ)"
{
	printf 'BENCHMARK\tFIGURE\tBASELINE (same run)\tTARGET\tVERDICT\n'
	grep '^BENCH' "$LOG" | cut -f2-
} | awk -F '\t' '{
	for (i = 1; i <= NF; i++) {
		cell[NR, i] = $i
		if (length($i) > w[i]) w[i] = length($i)
	}
	if (NF > nf) nf = NF
} END {
	for (r = 1; r <= NR; r++) {
		line = ""
		for (i = 1; i <= nf; i++)
			line = line sprintf("%-*s  ", w[i], cell[r, i])
		sub(/ +$/, "", line)
		print line
	}
}'
