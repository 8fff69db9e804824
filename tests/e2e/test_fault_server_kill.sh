#!/bin/bash
# The server killed with SIGKILL, twice, while sixteen agents report in
# parallel (`run --once` in loops), then restarted.  Afterwards: every
# report an agent holds as delivered (sent/N.ack "delivered", a 2xx) is in
# the store exactly once; every other report is still in its agent's
# spool; none was refused as a replay.  Once the agents run again every
# report of every device is stored exactly once, seqs 1..N with no gap,
# and the spools are empty.  Every run is bounded (killat) and every
# process is stopped by its recorded pid.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/faults/common.sh"
cd "$T" || exit 1
NTESTS=11
NDEV=${MUSTER_FAULT_DEVICES:-16}
ROUNDS=${MUSTER_FAULT_ROUNDS:-6}
fault_need "$NTESTS"

fault_org
start_server || { echo "Bail out! the server does not start"; exit 1; }
fault_publish 1 || { echo "Bail out! publish"; exit 1; }
files=(redmi-1s cloud-sync-on clean redmi-1s-fixed)
for i in $(seq 1 "$NDEV"); do
	fault_enroll "d$i" "$DEV/${files[$((i % 4))]}.cfg" ||
	    { echo "Bail out! enroll d$i"; exit 1; }
done
t_ok "$NDEV sim devices enrolled"

# agent_loop I: ROUNDS runs of device I, each bounded to 60 s; exit
# codes to d$I.rc.
agent_loop() {
	local i=$1 r
	for r in $(seq 1 "$ROUNDS"); do
		"$FTOOLS/killat" 60000000 "$AGENT" --state "$T/d$i" \
		    --device "sim:$T/d$i.cfg" run --once \
		    >"$T/d$i.last" 2>>"$T/d$i.log" </dev/null
		sed -n 's/^exited \([0-9]*\) .*/\1/p; s/^killed .*/killed/p' \
		    "$T/d$i.last" >>"$T/d$i.rc"
	done
}

loops=
for i in $(seq 1 "$NDEV"); do
	agent_loop "$i" &
	loops="$loops $!"
done
F_PIDS="$F_PIDS $loops"
# Two power cuts while they report, at random moments.
restarts=0
for k in 1 2; do
	sleep "0.$((2 + RANDOM % 6))"
	crash_server
	sleep "0.$((1 + RANDOM % 4))"
	start_server && restarts=$((restarts + 1))
done
t_check "the server restarted after each SIGKILL" test "$restarts" = 2
for p in $loops; do wait "$p"; done
F_PIDS=
codes=$(cat d*.rc | sort | uniq -c | awk '{printf "%s%s x%s", s, $2, $1; s=", "}')
echo "# $((NDEV * ROUNDS)) runs: exits $codes"
t_check "every run ended 0 or 75 (queued)" \
    sh -c "! grep -qv '^\(0\|75\)$' d*.rc"

# Every report held as delivered is stored exactly once; every other
# one is still spooled.
lost=0; notstored=0; twice=0; rejected=0; dup200=0; pending=0
for i in $(seq 1 "$NDEV"); do
	D=$(devid "d$i")
	n=$(<"d$i/seq")
	sql "SELECT seq, count(*) FROM reports WHERE device = '$D' GROUP BY seq;" |
	    tr '|' ' ' >"d$i.db"
	for s in $(seq 1 "$n"); do
		c=$(awk -v s="$s" '$1 == s { print $2 }' "d$i.db")
		if [ -f "d$i/sent/$s.ack" ]; then
			case $(<"d$i/sent/$s.ack") in
			"delivered 200 "*) dup200=$((dup200 + 1)) ;;
			delivered*) ;;
			*) rejected=$((rejected + 1)) ;;
			esac
			[ "${c:-0}" = 1 ] || notstored=$((notstored + 1))
		elif [ -f "d$i/spool/$s.json" ]; then
			pending=$((pending + 1))
		else
			lost=$((lost + 1)); echo "# d$i report $s: neither sent nor spooled"
		fi
		[ "${c:-0}" -le 1 ] || twice=$((twice + 1))
	done
done
echo "# after the kills: $pending reports still spooled, $dup200 delivered as duplicates (the answer was lost with the server)"
t_check "every report held as delivered is stored ($notstored not)" test "$notstored" = 0
t_check "no report is stored twice ($twice)" test "$twice" = 0
t_check "every report not delivered is still in its spool ($lost lost)" test "$lost" = 0
t_check "no report was refused ($rejected rejected)" test "$rejected" = 0

# The agents run again: everything arrives, once, in order.
loops=
for i in $(seq 1 "$NDEV"); do
	( "$FTOOLS/killat" 60000000 "$AGENT" --state "$T/d$i" \
	    --device "sim:$T/d$i.cfg" run --once >"$T/d$i.final" \
	    2>"$T/d$i.ferr" </dev/null ) &
	loops="$loops $!"
done
F_PIDS="$F_PIDS $loops"
for p in $loops; do wait "$p"; done
F_PIDS=
t_check "every agent's run after the restart exits 0" \
    sh -c "! cat d*.final | grep -qv '^exited 0 '"
bad=0; spooled=0
for i in $(seq 1 "$NDEV"); do
	D=$(devid "d$i")
	n=$(<"d$i/seq")
	want=$(seq -s, 1 "$n")
	got=$(sql "SELECT group_concat(seq) FROM (SELECT seq FROM reports WHERE device = '$D' ORDER BY seq);")
	if [ "$got" != "$want" ]; then
		bad=$((bad + 1)); echo "# d$i: stored $got, wanted $want"
	fi
	spooled=$((spooled + $(ls "d$i/spool" | grep -c '\.json$')))
done
t_check "every device's seqs 1..N are stored exactly once, no gap ($bad bad)" test "$bad" = 0
t_check "every spool is empty ($spooled left)" test "$spooled" = 0
stop_server
t_check "the store passes integrity_check after two SIGKILLs" \
    test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
t_done
