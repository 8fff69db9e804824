#!/bin/bash
# Benchmark: PostgreSQL beside SQLite, in the same run on the same
# machine.
#  1. Report ingest (tests/tools/ingest: DEVICES devices enrolled through
#     /v1/enroll, REPORTS signed reports each over CONNECTIONS keep-alive
#     HTTPS connections): one server on SQLite (the baseline), one server
#     on PostgreSQL, and two servers on PostgreSQL behind HAProxy
#     (tests/haproxy/muster.cfg.in).
#  2. The roll-up (report --by unit, --by rule) of PG_SIZES devices with a
#     year of history (tests/tools/rollupgen), on SQLite and on
#     PostgreSQL.  1,000,000 devices take about 8 GB and several minutes
#     per backend: PG_SIZES=1000000 to run it.
# The PostgreSQL is a throwaway one (tests/tools/pg.sh, default
# settings but shared_buffers 64 MB).  A figure, not a pass/fail test.
set -eu
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
INGEST=$MUSTER_BIN/../tests/tools/ingest
GEN=$MUSTER_BIN/../tests/tools/rollupgen
SERVER=$MUSTER_BIN/muster-server
ENROLL=$MUSTER_BIN/muster-enroll
PGSH=$TOP/tests/tools/pg.sh
DEVICES=${DEVICES:-200}
REPORTS=${REPORTS:-50}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-4}
PG_SIZES=${PG_SIZES:-100000}
for x in "$INGEST" "$GEN" "$SERVER"; do
	[ -x "$x" ] || { echo "pg.sh: skipped: $x is not built"; exit 0; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/muster-pg-bench.XXXXXX")
PIDS= PG_DIR=
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    [ -n "$PG_DIR" ] && sh "$PGSH" stop "$PG_DIR"; rm -rf "$T"' EXIT
cd "$T"
eval "$(sh "$PGSH" start)"
reset_pg() {
	sh "$PGSH" psql "$PG_DIR" "DROP SCHEMA public CASCADE;
	    CREATE SCHEMA public AUTHORIZATION muster" >/dev/null 2>&1
}

freeport() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"; return 0
		fi
	done
	return 1
}
up() {
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 -o /dev/null "$1/healthz" && return 0
		sleep 0.1
	done
	return 1
}

# ingest NAME STORE NSERVERS: one measurement; prints reports/s.
ingest() {
	local name=$1 store=$2 n=$3 d="$T/$1" front p i out pids=
	mkdir "$d" && cd "$d"
	front=$(freeport)
	"$ENROLL" init --org org --server "https://127.0.0.1:$front" \
	    --no-passphrase >/dev/null
	# The load tool opens its CONNECTIONS at once from one address: the
	# per-address caps (connections, and those still in their handshake)
	# must let them all in (as in ingest.sh).
	sed -i -e "s/threads = [0-9]*;/threads = $THREADS; max_half_open_per_ip = $((CONNECTIONS + 8));/" \
	    -e "s/max_per_ip = [0-9]*/max_per_ip = $((CONNECTIONS + 8))/" \
	    org/server.cfg
	[ "$store" = sqlite ] || reset_pg
	for i in $(seq 1 "$n"); do
		if [ "$n" = 1 ]; then p=$front; else p=$(freeport); fi
		sed -e "s/^port = .*/port = $p;/" -e "s/^admin_listen = .*/admin_listen = \"127.0.0.1:$((p + 1))\";/" \
		    -e "s/^data_dir = .*/data_dir = \"data$i\";/" \
		    org/server.cfg >"org/s$i.cfg"
		[ "$store" = sqlite ] || echo "store = \"$PG_URI\";" >>"org/s$i.cfg"
		chmod 600 "org/s$i.cfg"
		"$SERVER" --config "org/s$i.cfg" 2>"s$i.log" &
		pids="$pids $!"; PIDS="$PIDS $!"
		up "https://127.0.0.1:$p" || { echo "server $i did not start"; cat "s$i.log"; return 1; }
		eval "p$i=$p"
	done
	if [ "$n" = 2 ]; then
		sed -e "s/@FRONT@/$front/" -e "s/@S1@/$p1/" -e "s/@S2@/$p2/" \
    -e "s/@FRONTA@/$(($front + 1))/" -e "s/@S1A@/$(($p1 + 1))/" -e "s/@S2A@/$(($p2 + 1))/" \
		    "$TOP/tests/haproxy/muster.cfg.in" >haproxy.cfg
		haproxy -db -f haproxy.cfg >haproxy.log 2>&1 &
		pids="$pids $!"; PIDS="$PIDS $!"
		up "https://127.0.0.1:$front"; sleep 1
	fi
	cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
	"$ENROLL" sign --org org p.cfg >/dev/null
	"$ENROLL" publish --org org p.cfg >/dev/null
	sleep 3		# a publication reaches every server within 2 s
	out=$("$INGEST" org "https://127.0.0.1:$front" "$DEVICES" "$REPORTS" \
	    "$CONNECTIONS" 2>ingest.err) || true
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	cd "$T"
	echo "$out" | tr ' ' '\n' | sed -n 's/^reports_per_s=//p'
	echo "$out" | tr ' ' '\n' | sed -n 's/^stored=//p' >"$d.stored"
}

echo "ingest, $DEVICES devices x $REPORTS reports, $CONNECTIONS connections, $(nproc) CPUs:"
r_sq=$(ingest sqlite sqlite 1)
r_pg=$(ingest pg1 pg 1)
if command -v haproxy >/dev/null 2>&1; then
	r_pg2=$(ingest pg2 pg 2)
else
	r_pg2=0
	echo "  (no haproxy: two servers not measured)"
fi
printf "  SQLite, one server           %7.0f reports/s (%s stored)\n" "$r_sq" "$(cat sqlite.stored)"
printf "  PostgreSQL, one server       %7.0f reports/s (%s stored)\n" "$r_pg" "$(cat pg1.stored)"
printf "  PostgreSQL, two + HAProxy    %7.0f reports/s (%s stored)\n" "$r_pg2" "$(cat pg2.stored 2>/dev/null || echo 0)"
awk -v s="$r_sq" -v p="$r_pg" -v p2="$r_pg2" 'BEGIN {
	printf "BENCH\tingest on PostgreSQL, one server\t%.0f /s\t%.2f of SQLite (%.0f /s)\t-\t-\n", p, p / s, s
	if (p2 > 0)
		printf "BENCH\tingest on PostgreSQL, two servers + HAProxy\t%.0f /s\t%.2f of one server on PostgreSQL\t-\t-\n", p2, p2 / p
}'

best() {	# the best of 3 wall-clock times of CMD, in seconds
	local b='' s e
	for _ in 1 2 3; do
		s=$(date +%s%N); "$@" >/dev/null; e=$(date +%s%N)
		if [ -z "$b" ] || [ $((e - s)) -lt "$b" ]; then b=$((e - s)); fi
	done
	awk -v ns="$b" 'BEGIN { printf "%.3f", ns / 1e9 }'
}
for n in $PG_SIZES; do
	mkdir -p "r$n"
	cat >"r$n/server.cfg" <<EOF
listen = "127.0.0.1"; port = 1; tls_cert = "server.crt";
tls_key = "server.key"; org_key = "org.pub"; data_dir = "data";
admin_token_hash = "$(printf '%064d' 0)";
EOF
	cp "r$n/server.cfg" "r$n/pg.cfg"
	echo "store = \"$PG_URI\";" >>"r$n/pg.cfg"
	chmod 600 "r$n/server.cfg" "r$n/pg.cfg"
	reset_pg
	echo "roll-up, $n devices with a year of history:"
	s=$(date +%s)
	"$GEN" "r$n/data" "$n" "$TOP/profiles/iaf-personnel.cfg" \
	    "$TOP/profiles/family-optin.cfg" >/dev/null
	m=$(date +%s)
	"$GEN" "$PG_URI" "$n" "$TOP/profiles/iaf-personnel.cfg" \
	    "$TOP/profiles/family-optin.cfg" >/dev/null
	f=$(date +%s)
	echo "  generated: SQLite $((m - s)) s, PostgreSQL $((f - m)) s"
	for by in unit rule; do
		sq=$(best "$SERVER" report --config "r$n/server.cfg" --by $by --format csv)
		pg=$(best "$SERVER" report --config "r$n/pg.cfg" --by $by --format csv)
		printf "  --by %-5s SQLite %6s s, PostgreSQL %6s s\n" "$by" "$sq" "$pg"
		cmp -s <("$SERVER" report --config "r$n/server.cfg" --by $by --format csv) \
		    <("$SERVER" report --config "r$n/pg.cfg" --by $by --format csv) &&
		    echo "  (the same roll-up from both)" || echo "  (the roll-ups DIFFER)"
		awk -v n="$n" -v by="$by" -v s="$sq" -v p="$pg" 'BEGIN {
			printf "BENCH\troll-up --by %s on PostgreSQL, %d devices\t%.2f s\tSQLite %.2f s\t< 1 s at 1M%s\t%s\n",
			    by, n, p, s, (n >= 1000000 ? "" : " (not run)"),
			    (n >= 1000000 ? (p < 1 ? "ok" : "OVER") : "-")
		}'
	done
	rm -rf "r$n"
done
