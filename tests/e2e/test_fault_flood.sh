#!/bin/bash
# muster-server under connection floods (tests/faults/slowloris), with low
# limits: max_per_ip 8, max_connections 40, connection_timeout 3.  Other
# loopback addresses (127.0.0.2 and up) stand for other clients.
#
#  1. From three attacking addresses at once: a slow-loris (TLS done, then
#     HTTP headers one byte every 500 ms, never ending; 20 connections), a
#     flood of idle TCP connections (40), and a TLS ClientHello dribbled
#     one byte at a time (12).  Each address gets at most max_per_ip
#     connections; idle ones are cut after connection_timeout; a normal
#     client on 127.0.0.1 meanwhile gets /healthz (bounded retries) and an
#     agent delivers a report.
#  2. A slow-loris from five addresses, 40 connections, max_connections in
#     all: what a normal client sees during it is printed (libmicrohttpd's
#     connection_timeout is an idle timeout, so a client that trickles
#     bytes keeps its connection); once it ends the server answers again
#     at once, and an agent delivers.
# The server must stay up throughout and stop cleanly.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/faults/common.sh"
cd "$T" || exit 1
NTESTS=14
SL=$FTOOLS/slowloris
fault_need "$NTESTS"
[ -x "$SL" ] || fault_skip_all "$NTESTS" "slowloris not built"

fault_org
fault_limits max_per_ip=8 max_connections=40 connection_timeout=3
start_server || { echo "Bail out! the server does not start"; exit 1; }
fault_publish 1 || { echo "Bail out! publish"; exit 1; }
fault_enroll a || { echo "Bail out! enroll"; exit 1; }
A=("$FTOOLS/killat" 60000000 "$AGENT" --state "$T/a" --device "sim:$T/a.cfg"
    run --once)
"$SL" -m idle -b 127.0.0.2 -n 1 -t 0 127.0.0.1 "$PORT" >probe 2>&1
if ! grep -q '^opened 1 ' probe; then
	fault_skip_all "$NTESTS" "cannot connect from 127.0.0.2 ($(cat probe))"
fi

# healthy [TRIES]: /healthz answers within TRIES tries (0.3 s apart);
# sets TOOK to the tries it took.
healthy() {
	local i
	for i in $(seq 1 "${1:-10}"); do
		TOOK=$i
		healthz && return 0
		sleep 0.3
	done
	return 1
}

# --- 1: one attacker per address, three at once -------------------------------
"$SL" -m tls -b 127.0.0.2 -n 20 -i 500 -t 8 127.0.0.1 "$PORT" >loris.out 2>&1 &
P1=$!
"$SL" -m idle -b 127.0.0.3 -n 40 -i 500 -t 8 127.0.0.1 "$PORT" >idle.out 2>&1 &
P2=$!
"$SL" -m raw -b 127.0.0.4 -n 12 -i 500 -t 8 127.0.0.1 "$PORT" >raw.out 2>&1 &
P3=$!
F_PIDS="$F_PIDS $P1 $P2 $P3"
sleep 1.5
t_check "during the floods: /healthz answers a normal client" healthy 10
echo "# /healthz took $TOOK tries"
out=$("${A[@]}" 2>agent.err)
t_check "during the floods: an agent delivers its report ($out)" \
    test "${out%% *}" = exited -a "$(echo "$out" | cut -d' ' -f2)" = 0
wait "$P1" "$P2" "$P3"
F_PIDS=
echo "# slow-loris 127.0.0.2: $(cat loris.out)"
echo "# idle flood 127.0.0.3: $(cat idle.out)"
echo "# slow hello 127.0.0.4: $(cat raw.out)"
num() { sed -n "s/.*\\b$2 \\(-\\?[0-9]*\\).*/\\1/p" "$1"; }
# The front closes the oldest half-open connections once max_half_open
# (20) are held by the three attackers together, which frees a place for
# a later slow-loris connection: count what was held at once.
t_check "slow-loris: at most max_per_ip (8) of its connections held at once" \
    test "$(num loris.out peak)" -le 8 -a "$(num loris.out peak)" -ge 1 \
    -a "$(num loris.out refused)" -ge 1
t_check "idle flood: none of its 40 connections outlived the 8 s" \
    test "$(num idle.out open_at_end)" = 0
fc=$(num idle.out first_close_ms)
t_check "idle flood: connections over max_per_ip cut at once ($fc ms)" \
    test "$fc" -ge 0 -a "$fc" -lt 2000
t_check "slow hello: at most max_per_ip (8) of its connections kept" \
    test $(( $(num raw.out opened) - $(num raw.out closed) )) -le 8
t_check "the server is up after the floods" kill -0 "$SPID"
t_check "after the floods: /healthz answers at once" healthy 3

# --- 2: more attackers than max_connections ---------------------------------
pids=
for a in 11 12 13 14 15; do
	"$SL" -m tls -b "127.0.0.$a" -n 8 -i 500 -t 5 127.0.0.1 "$PORT" \
	    >"many.$a" 2>&1 &
	pids="$pids $!"
done
F_PIDS="$F_PIDS $pids"
sleep 2
if healthy 3; then during="answered"; else during="refused (locked out)"; fi
for p in $pids; do wait "$p"; done
F_PIDS=
held=$(cat many.* | awk '{s += $2} END {print s}')
echo "# slow-loris from 5 addresses held $held connections; a normal client during it: $during"
t_check "the server is up after the second flood" kill -0 "$SPID"
t_check "after it: /healthz answers again within 3 s" healthy 10
echo "# /healthz took $TOOK tries"
out=$("${A[@]}" 2>agent.err)
t_check "after it: an agent delivers its report ($out)" \
    test "${out%% *}" = exited -a "$(echo "$out" | cut -d' ' -f2)" = 0
t_check "both reports are stored" \
    test "$(seqs_stored "$(devid a)" | wc -l)" = "$(<a/seq)"
stop_server
t_check "the server stops cleanly (exit $SRC)" test "$SRC" = 0
t_check "its log has no error" sh -c "! grep -q ': error: ' '$T/server.log'"
t_done
