#!/bin/bash
# Failover with nothing acknowledged lost: a PostgreSQL primary and a
# synchronous streaming standby made with pg_basebackup
# (tests/tools/pg.sh), two muster-servers behind HAProxy whose store names
# both hosts with target_session_attrs=read-write, and a fleet of real
# agents checking in.  Under that load the primary is SIGKILLed and the
# standby promoted; then:
#  - every report an agent got 202 for (its sent/ directory) is in the
#    new primary, and none twice;
#  - agents that got errors during the switch deliver their spools
#    afterwards: every seq of every agent is stored, none missing;
#  - the time from the kill to the first report acknowledged through the
#    promoted standby is printed.
# Every wait is bounded; everything started is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
PGSH="$TOP/tests/tools/pg.sh"
DEV=$TOP/examples/devices
FLEET=${FLEET:-6}
S1PID= S2PID= HPID= PG_DIR= PG_SDIR= LOAD=
cleanup() {
	for p in $LOAD $S1PID $S2PID $HPID; do kill -9 "$p" 2>/dev/null; done
	[ -n "$PG_DIR" ] && sh "$PGSH" stop "$PG_DIR"
	[ -n "$PG_SDIR" ] && sh "$PGSH" stop "$PG_SDIR"
	rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$SERVER" ]; then
	t_skip "muster-server not built"; t_done; exit 0
fi
if ! command -v haproxy >/dev/null 2>&1; then
	t_skip "haproxy not installed (scripts/deps.sh installs it)"
	t_done; exit 0
fi
if ! eval "$(sh "$PGSH" start 5432 2>pg.err)" ||
    ! eval "$(sh "$PGSH" standby "$PG_DIR" 5433 2>>pg.err)"; then
	echo "Bail out! PostgreSQL primary or standby: $(head -n 5 pg.err)"
	exit 1
fi
t_check "standby streaming, synchronous" test "$(sh "$PGSH" psql "$PG_DIR" \
    "SELECT sync_state FROM pg_stat_replication")" = sync
URI="postgresql:///muster?host=$PG_DIR,$PG_SDIR&port=5432,5433&user=muster&target_session_attrs=read-write"
QN() { sh "$PGSH" psql "$PG_SDIR" "$1"; }	# the standby, later primary

t_port; FRONT=$PORT
t_port_apart "$FRONT"; P1=$PORT
t_port_apart "$FRONT" "$P1"; P2=$PORT
U=https://127.0.0.1:$FRONT
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
for n in 1 2; do
	eval "p=\$P$n"
	sed -e "s/^port = .*/port = $p;/" -e "s/^admin_listen = .*/admin_listen = \"127.0.0.1:$((p + 1))\";/" -e "s/^data_dir = .*/data_dir = \"data$n\";/" \
	    org/server.cfg >"org/s$n.cfg"
	echo "store = \"$URI\";" >>"org/s$n.cfg"
	chmod 600 "org/s$n.cfg"
done
up() {
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 -o /dev/null "$1/healthz" && return 0
		sleep 0.1
	done
	return 1
}
"$SERVER" --config org/s1.cfg >>s1.log 2>&1 & S1PID=$!
up "https://127.0.0.1:$P1" || { echo "Bail out! server 1"; cat s1.log; exit 1; }
"$SERVER" --config org/s2.cfg >>s2.log 2>&1 & S2PID=$!
up "https://127.0.0.1:$P2" || { echo "Bail out! server 2"; cat s2.log; exit 1; }
sed -e "s/@FRONT@/$FRONT/" -e "s/@S1@/$P1/" -e "s/@S2@/$P2/" \
    -e "s/@FRONTA@/$(($FRONT + 1))/" -e "s/@S1A@/$(($P1 + 1))/" -e "s/@S2A@/$(($P2 + 1))/" \
    "$TOP/tests/haproxy/muster.cfg.in" >haproxy.cfg
haproxy -db -f haproxy.cfg >haproxy.log 2>&1 & HPID=$!
up "$U" || { echo "Bail out! haproxy"; cat haproxy.log; exit 1; }
sleep 1

cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
t_exit 0 "publish through HAProxy" "$ENROLL" publish --org org p.cfg
ok=0
for i in $(seq 1 "$FLEET"); do
	cp "$DEV/clean.cfg" "a$i.cfg"
	"$ENROLL" token --org org --scope personnel --unit U --person "a$i" \
	    -o "a$i.bundle" >/dev/null &&
	"$AGENT" --state "st-a$i" --device "sim:$T/a$i.cfg" enroll \
	    "a$i.bundle" >"a$i.log" 2>&1 && ok=$((ok + 1))
done
t_check "$FLEET agents enrolled" test "$ok" = "$FLEET"

# The load: every agent checks in again and again, 0.2 s apart.
loop() {
	while [ ! -e stop ]; do
		"$AGENT" --state "st-a$1" --device "sim:$T/a$1.cfg" run --once \
		    >>"a$1.log" 2>&1
		sleep 0.2
	done
}
for i in $(seq 1 "$FLEET"); do loop "$i" & LOAD="$LOAD $!"; done
sleep 4
before=$(QN 'SELECT count(*) FROM reports')
t_check "reports flowing before the kill ($before on the standby)" \
    test "$before" -gt "$FLEET"

# --- the primary dies; the standby is promoted --------------------------------
sh "$PGSH" kill "$PG_DIR"
t_kill=$(date +%s%N)
sleep 1
t_exit 0 "standby promoted" sh "$PGSH" promote "$PG_SDIR"
# The first report acknowledged after the kill, by an agent of its own.
cp "$DEV/clean.cfg" probe.cfg
"$ENROLL" token --org org --scope personnel --unit U --person probe \
    -o probe.bundle >/dev/null
first=
for _ in $(seq 1 300); do
	if [ ! -d st-probe/sent ]; then
		"$AGENT" --state st-probe --device "sim:$T/probe.cfg" enroll \
		    probe.bundle >>probe.log 2>&1 || { sleep 0.1; continue; }
	fi
	if "$AGENT" --state st-probe --device "sim:$T/probe.cfg" run --once \
	    >>probe.log 2>&1; then
		first=$(( ($(date +%s%N) - t_kill) / 1000000 ))
		break
	fi
	sleep 0.1
done
t_check "a report acknowledged through the promoted standby" test -n "$first"
echo "# kill of the primary to the first 202 on the promoted standby: ${first:-?} ms (promotion at 1000 ms)"
sleep 3		# more load on the new primary
touch stop
for p in $LOAD; do wait "$p" 2>/dev/null; done
LOAD=

# --- every acknowledged report is there, none twice -----------------------------
acked=0 missing=0
for i in $(seq 1 "$FLEET"); do
	d=$(sed -n 's/^device_id *= *"\(.*\)";/\1/p' "st-a$i/agent.cfg")
	echo "$d" >"a$i.id"
	stored=$(QN "SELECT seq FROM reports WHERE device = '$d'" | sort -n)
	for f in st-a$i/sent/*.json; do
		[ -e "$f" ] || continue
		s=$(basename "$f" .json)
		acked=$((acked + 1))
		echo "$stored" | grep -qx "$s" || missing=$((missing + 1))
	done
done
t_check "every acknowledged report is in the new primary ($acked acked, $missing missing)" \
    test "$acked" -gt 0 -a "$missing" = 0
t_check "no report stored twice" test \
    "$(QN 'SELECT count(*) - count(DISTINCT (device, seq)) FROM reports')" = 0
errs=$(grep -c 'exit\|503\|unreachable\|failed' a*.log 2>/dev/null | awk -F: '{s+=$2} END {print s+0}')
echo "# agent runs that met an error during the switch: $errs log lines"

# --- the agents that met errors deliver their spools ---------------------------------
for i in $(seq 1 "$FLEET"); do
	"$AGENT" --state "st-a$i" --device "sim:$T/a$i.cfg" run --once \
	    >>"a$i.log" 2>&1
done
left=$(ls st-a*/spool/*.json 2>/dev/null | wc -l)
t_check "every spool delivered after the switch ($left left)" test "$left" = 0
gaps=0 total=0
for i in $(seq 1 "$FLEET"); do
	d=$(cat "a$i.id")
	got=$(QN "SELECT count(*) || ' ' || max(seq) FROM reports WHERE device = '$d'")
	set -- $got
	total=$((total + $1))
	[ "$1" = "$2" ] || gaps=$((gaps + 1))
done
t_check "every agent's seqs 1..last stored, none missing ($total reports, $gaps agents with gaps)" \
    test "$gaps" = 0
t_check "the old primary stays down" \
    bash -c "! sh '$PGSH' psql '$PG_DIR' 'SELECT 1' >/dev/null 2>&1"
t_done
