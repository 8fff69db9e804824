#!/bin/bash
# Several servers, one truth: two muster-server processes on one
# PostgreSQL store (tests/tools/pg.sh) behind HAProxy
# (tests/haproxy/muster.cfg.in: TCP mode, TLS passed through, /healthz as
# the health check), real agents enrolling and reporting through it:
#  - profiles and manifests published through HAProxy reach both
#    servers; a profile published straight to server 1 is served by
#    server 2 within the stated bound (srvsync: SRVSYNC_INTERVAL 2 s,
#    checked at 5 s);
#  - one token used by two agents at the same instant through HAProxy,
#    and by two enrollments posted at once straight to server 1 and
#    server 2: one device enrolled, the other refused, every round;
#  - the same signed report posted to both servers at the same instant:
#    stored once, one 202 and one 200, every round;
#  - seq replay across servers: a newer report through one server, then
#    an older never-stored one through the other: 409;
#  - a revocation through one server refuses the device on both at once;
#  - the database gone: 503 from both servers, never 202;
#  - a server killed: HAProxy's /healthz check takes it out and agents
#    keep reporting through the other.
# Every wait is bounded; everything started is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
PGSH="$TOP/tests/tools/pg.sh"
DEV=$TOP/examples/devices
S1PID= S2PID= HPID= PG_DIR=
cleanup() {
	for p in $S1PID $S2PID $HPID; do kill -9 "$p" 2>/dev/null; done
	[ -n "$PG_DIR" ] && sh "$PGSH" stop "$PG_DIR"
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
if ! eval "$(sh "$PGSH" start 2>pg.err)"; then
	echo "Bail out! PostgreSQL did not start: $(head -n 3 pg.err)"
	exit 1
fi
Q() { sh "$PGSH" psql "$PG_DIR" "$1"; }

t_port; FRONT=$PORT
t_port_apart "$FRONT"; P1=$PORT
t_port_apart "$FRONT" "$P1"; P2=$PORT
U=https://127.0.0.1:$FRONT
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
for n in 1 2; do
	eval "p=\$P$n"
	sed -e "s/^port = .*/port = $p;/" -e "s/^admin_listen = .*/admin_listen = \"127.0.0.1:$((p + 1))\";/" -e "s/^data_dir = .*/data_dir = \"data$n\";/" \
	    org/server.cfg >"org/s$n.cfg"
	echo "store = \"$PG_URI\";" >>"org/s$n.cfg"
	chmod 600 "org/s$n.cfg"
done

# up URL: waits (10 s at most) for URL/healthz.
up() {
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 -o /dev/null "$1/healthz" && return 0
		sleep 0.1
	done
	return 1
}
"$SERVER" --config org/s1.cfg >>s1.log 2>&1 & S1PID=$!
up "https://127.0.0.1:$P1" || { echo "Bail out! server 1"; cat s1.log; exit 1; }
# Started after server 1 has migrated the schema; both would be fine.
# Servers on one store share the audit key (docs/operations.md).
mkdir -m 700 org/data2
cp -p org/data1/audit.key org/data1/audit.pub org/data2/
"$SERVER" --config org/s2.cfg >>s2.log 2>&1 & S2PID=$!
up "https://127.0.0.1:$P2" || { echo "Bail out! server 2"; cat s2.log; exit 1; }
sed -e "s/@FRONT@/$FRONT/" -e "s/@S1@/$P1/" -e "s/@S2@/$P2/" \
    -e "s/@FRONTA@/$(($FRONT + 1))/" -e "s/@S1A@/$(($P1 + 1))/" -e "s/@S2A@/$(($P2 + 1))/" \
    "$TOP/tests/haproxy/muster.cfg.in" >haproxy.cfg
haproxy -db -f haproxy.cfg >haproxy.log 2>&1 & HPID=$!
up "$U" || { echo "Bail out! haproxy"; cat haproxy.log; exit 1; }
sleep 1		# both servers seen healthy
t_check "two servers and HAProxy up" kill -0 "$S1PID" "$S2PID" "$HPID"

# --- publications reach both servers ------------------------------------------
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
"$ENROLL" sign --org org f.cfg >/dev/null
t_exit 0 "publish the personnel profile through HAProxy" \
    "$ENROLL" publish --org org p.cfg
t_exit 0 "publish the family profile through HAProxy" \
    "$ENROLL" publish --org org f.cfg
t_check "manifests in the store, for every server" \
    test "$(Q 'SELECT count(*) FROM documents WHERE name LIKE '"'manifest-%'"'')" = 2
t_check "no manifest file in either data_dir" \
    bash -c "! ls org/data1/trust/manifest-* org/data2/trust/manifest-* 2>/dev/null | grep -q ."

device() {	# NAME SIM [ENROLL-ARGS]
	local n=$1 sim=$2; shift 2
	cp "$DEV/$sim.cfg" "$n.cfg"
	"$AGENT" --state "st-$n" --device "sim:$T/$n.cfg" enroll "$@" \
	    >>"$n.log" 2>&1
}
run() { "$AGENT" --state "st-$1" --device "sim:$T/$1.cfg" run --once \
    >>"$1.log" 2>&1; }
devid() { sed -n 's/^device_id *= *"\(.*\)";/\1/p' "st-$1/agent.cfg"; }

# --- one token at the same instant through both servers: one device ---------
wins=0 losses=0 rows_ok=1
for r in 1 2 3 4 5 6; do
	"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
	    --person "race$r" -o "race$r.bundle" >/dev/null
	cp "$DEV/clean.cfg" "ra$r.cfg"; cp "$DEV/clean.cfg" "rb$r.cfg"
	"$AGENT" --state "st-ra$r" --device "sim:$T/ra$r.cfg" enroll \
	    "race$r.bundle" >"ra$r.log" 2>&1 & a=$!
	"$AGENT" --state "st-rb$r" --device "sim:$T/rb$r.cfg" enroll \
	    "race$r.bundle" >"rb$r.log" 2>&1 & b=$!
	wait $a; ra=$?; wait $b; rb=$?
	[ "$ra" = 0 ] && wins=$((wins + 1)); [ "$rb" = 0 ] && wins=$((wins + 1))
	[ "$ra" = 77 ] && losses=$((losses + 1)); [ "$rb" = 77 ] && losses=$((losses + 1))
	[ "$(Q "SELECT count(*) FROM devices WHERE person = 'race$r'")" = 1 ] ||
	    rows_ok=0
done
t_check "6 races of one token: 6 enrolled, 6 refused (got $wins, $losses)" \
    test "$wins" = 6 -a "$losses" = 6
t_check "each raced token enrolled exactly one device" test "$rows_ok" = 1
# Round robin does not promise that two racers reach different servers:
# the same race again, each enrollment posted straight to one server.
sign() { openssl pkeyutl -sign -inkey "$1" -rawin -in "$2" | base64 -w0; }
pubkey() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }
enroll_to() {	# PORT BODY KEY: prints the HTTP status
	curl -sk --pinnedpubkey "$PIN" --max-time 20 -o /dev/null \
	    -w '%{http_code}' -H 'Content-Type: application/json' \
	    -H "Muster-Signature: $(sign "$3" "$2")" \
	    --data-binary @"$2" "https://127.0.0.1:$1/v1/enroll"
}
good=0
for r in 1 2 3 4 5 6; do
	"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
	    --person "direct$r" -o "d$r.bundle" >/dev/null
	tok=$(sed -n 's/^token = "\(.*\)";$/\1/p' "d$r.bundle")
	for k in a b; do
		openssl genpkey -algorithm ed25519 -out "d$r$k.pem" 2>/dev/null
		printf '{"token":"%s","device_key":"%s","model":"Xiaomi HM 1SW"}' \
		    "$tok" "$(pubkey "d$r$k.pem")" >"d$r$k.json"
	done
	enroll_to "$P1" "d${r}a.json" "d${r}a.pem" >c1 & a=$!
	enroll_to "$P2" "d${r}b.json" "d${r}b.pem" >c2 & b=$!
	wait $a $b
	codes=$(sort c1 c2 | tr '\n' ' ')
	# The loser is refused (403), or told to come back (503: its
	# transaction was chosen as a deadlock's victim; sent again it
	# gets 403): either way one device.
	case $codes in
	"201 403 " | "201 503 ") good=$((good + 1)) ;;
	*) echo "# race $r: $codes" ;;
	esac
	[ "$(Q "SELECT count(*) FROM devices WHERE person = 'direct$r'")" = 1 ] ||
	    good=-100
done
t_check "6 races of one token straight to server 1 and 2: 201 + 403, one device ($good)" \
    test "$good" = 6

# --- the same report through both servers at once: stored once -----------------
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person rep -o rep.bundle >/dev/null
device rep clean rep.bundle
t_exit 0 "rep enrolled through HAProxy" run rep
D=$(devid rep)
# Reports made while HAProxy is away stay spooled: the test posts them.
kill "$HPID"; wait "$HPID" 2>/dev/null; HPID=
for _ in 1 2 3 4; do run rep; done
haproxy -db -f haproxy.cfg >>haproxy.log 2>&1 & HPID=$!
up "$U" || { echo "Bail out! haproxy again"; exit 1; }
sleep 1
spooled=$(ls st-rep/spool/*.json 2>/dev/null | sed 's/.*\/\([0-9]*\)\.json/\1/' | sort -n)
set -- $spooled
t_check "reports spooled while HAProxy was stopped (got $#)" test "$#" -ge 3
s_a=$1 s_b=$2 s_c=$3
postto() {	# PORT SEQ: prints the HTTP status of posting spooled SEQ
	curl -sk --pinnedpubkey "$PIN" --max-time 20 -o /dev/null \
	    -w '%{http_code}' -H 'Content-Type: application/json' \
	    -H "Muster-Device: $D" \
	    -H "Muster-Signature: $(cat "st-rep/spool/$2.sig")" \
	    --data-binary @"st-rep/spool/$2.json" "https://127.0.0.1:$1/v1/report"
}
postto "$P1" "$s_a" >c1 & a=$!; postto "$P2" "$s_a" >c2 & b=$!
wait $a $b
codes=$(sort c1 c2 | tr '\n' ' ')
t_check "one report to both servers at once: 200 and 202 (got $codes)" \
    test "$codes" = "200 202 "
t_check "stored once" test \
    "$(Q "SELECT count(*) FROM reports WHERE device = '$D' AND seq = $s_a")" = 1

# --- replay across servers ---------------------------------------------------------
t_check "seq $s_c through server 1: 202" test "$(postto "$P1" "$s_c")" = 202
t_check "older seq $s_b, never stored, through server 2: 409" \
    test "$(postto "$P2" "$s_b")" = 409
t_check "seq $s_a again through server 2: 200" test "$(postto "$P2" "$s_a")" = 200
t_check "seq $s_b was not stored" test \
    "$(Q "SELECT count(*) FROM reports WHERE device = '$D' AND seq = $s_b")" = 0

# --- a profile published straight to server 1, served by server 2 ------------------
sed -i 's/^serial = \([0-9]*\);/serial = 99;/' p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
cp org/org.cfg org.cfg.keep
sed -i "s|$U|https://127.0.0.1:$P1|" org/org.cfg
reloads() { grep -c 'published through another server' s2.log; }
r0=$(reloads)
t_exit 0 "publish serial 99 straight to server 1" "$ENROLL" publish --org org p.cfg
cp org.cfg.keep org/org.cfg
t0=$(date +%s%N)
ok=0
for _ in $(seq 1 50); do
	[ "$(reloads)" -gt "$r0" ] && { ok=1; break; }
	sleep 0.1
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
t_check "server 2 reloads what server 1 published (after $ms ms; bound 2 s poll + reload)" \
    test "$ok" = 1 -a "$ms" -le 3000
# Two check-ins through HAProxy land on both servers (round robin): both
# hand out serial 99.
"$ENROLL" token --org org --scope personnel --unit U --person s99a -o s99a.bundle >/dev/null
"$ENROLL" token --org org --scope personnel --unit U --person s99b -o s99b.bundle >/dev/null
device s99a clean s99a.bundle; device s99b clean s99b.bundle
run s99a; run s99b
"$AGENT" --state st-s99a status >s99a.status 2>&1
"$AGENT" --state st-s99b status >s99b.status 2>&1
t_grep "agent a runs serial 99" 'serial 99 ' s99a.status
t_grep "agent b runs serial 99" 'serial 99 ' s99b.status

# --- a revocation through one server holds on both, at once -------------------------
t_exit 0 "revoke rep through HAProxy" "$ENROLL" revoke --org org "$D"
c1=$(postto "$P1" "$4" 2>/dev/null || true)
c2=$(postto "$P2" "$4" 2>/dev/null || true)
t_check "revoked: server 1 answers 403 (got $c1)" test "$c1" = 403
t_check "revoked: server 2 answers 403 (got $c2)" test "$c2" = 403

# --- the database gone: 503 on both, never 202 ----------------------------------------
"$ENROLL" token --org org --scope personnel --unit U --person down -o down.bundle >/dev/null
device down clean down.bundle
n0=$(Q 'SELECT count(*) FROM reports')
sh "$PGSH" kill "$PG_DIR"
sleep 0.5
t_exit 75 "database down: a check-in through HAProxy is not acknowledged" run down
t_exit 75 "... nor the next (the other server)" run down
t_grep "the servers answered 503" '503' down.log
# Never a 202 while down: nothing acknowledged to the agent (its sent/
# acks) and, once the database is back, nothing stored meanwhile.
t_check "while down: no report acknowledged to the agent" \
    bash -c "! grep -qs 'delivered' st-down/sent/*.ack"
t_exit 0 "PostgreSQL restarts" sh "$PGSH" restart "$PG_DIR"
n1=$(Q 'SELECT count(*) FROM reports')
t_check "while down: no report stored ($n0 before, $n1 after)" \
    test "$n1" = "$n0"
ok=
for _ in $(seq 1 30); do run down && { ok=1; break; }; sleep 0.5; done
t_check "database back: the spooled reports are delivered" test -n "$ok"
D2=$(devid down)
got=$(Q "SELECT count(*) || ' ' || max(seq) FROM reports WHERE device = '$D2'")
set -- $got
t_check "every spooled seq stored once ($got)" test "$1" = "$2"

# --- a server dies: HAProxy's health check routes around it ---------------------------
kill -9 "$S1PID"; S1PID=
sleep 2
ok=0
for _ in 1 2 3 4; do run down && ok=$((ok + 1)); done
t_check "server 1 killed: 4 of 4 check-ins through HAProxy delivered (got $ok)" \
    test "$ok" = 4
[ "$ok" = 4 ] || { tail -n 12 down.log; tail -n 5 haproxy.log; } | sed 's/^/# /' 
# --- one audit log, written through both servers ----------------------------
t_check "audit entries from both servers in one log" test \
    "$(Q 'SELECT count(*) FROM audit')" -ge 3
kill "$S2PID"; wait "$S2PID" 2>/dev/null; S2PID=
t_exit 0 "audit verify with server 1's key: the chain and server 2's closing checkpoint hold" \
    "$SERVER" audit verify --config org/s1.cfg
# PostgreSQL was restarted above: server 2's audit connection is new.
t_check "server 2 signed a checkpoint at its stop" test \
    "$(Q 'SELECT count(*) FROM audit_checkpoints')" -ge 1
t_grep "server 2 logged its checkpoint" 'audit checkpoint [0-9]+ [0-9a-f]{64}' s2.log
t_done
