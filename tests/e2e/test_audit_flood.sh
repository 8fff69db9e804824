#!/bin/bash
# A refused-credential flood cannot grow the audit log without bound
# (issue 15): against a real server on loopback (TLS) and its SQLite
# file, 2,000 wrong admin credentials over 4 connections from one
# address add at most 5 + 1 entries for each minute the flood spans
# (the first 5 refusals per address and minute, then one summary
# "refused 401 x N from ADDR"), every refusal is accounted for in the
# entries, and `audit verify` passes.  Then 60 client addresses
# (127.0.0.2-61, curl --interface) with 8 wrong credentials each: the
# entries from refusals stop at the hourly bound (240) plus one entry
# for the rest, and the count is still exact.  Prints the flood's time
# and entries per refusal.  Every wait is bounded; the server is killed
# on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
SPID=
PIDS=
trap 'for p in $SPID $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
if [ ! -x "$SERVER" ] || ! command -v sqlite3 >/dev/null; then
	t_skip "no muster-server or sqlite3"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
BOOT=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 60 --cacert org/server.crt --pinnedpubkey "$PIN")
DB=org/data/muster.db
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
V() { "$SERVER" audit verify --config org/server.cfg "$@"; }
# refused: "ENTRIES COUNT" of refused credentials as the file holds them.
refused() {
	q "SELECT outcome FROM audit WHERE actor = '-'" | awk '
	    $0 == "refused 401" { n++; c++; next }
	    /^refused 401 x [0-9]+ / { n++; c += $4; next }
	    { bad++ } END { print n + 0, c + 0, bad + 0 }'
}
entries() { q 'SELECT count(*) FROM audit'; }
ms() { date +%s%3N; }

"$SERVER" --config org/server.cfg 2>>server.log &
SPID=$!
up=
for _ in $(seq 1 100); do
	[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = "ok" ] && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$up" ] || { echo "Bail out! the server did not start"; sed 's/^/# /' server.log; exit 1; }

# The baseline, in this run: 50 audited reads, one entry (and fsync) each.
urls=()
for _ in $(seq 1 50); do urls+=("$U/v1/admin/rollup"); done
e0=$(entries)
t0=$(ms)
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $BOOT" "${urls[@]}" >/dev/null 2>&1
t1=$(ms)
e1=$(entries)
t_check "baseline: 50 audited reads are 50 entries" test $((e1 - e0)) = 50
echo "# baseline: one audited request, one entry: $(( (t1 - t0) * 1000 / 50 )) us each"

# The flood: 2,000 wrong credentials, 4 connections of 500 requests.
urls=()
for _ in $(seq 1 500); do urls+=("$U/v1/admin/rollup"); done
t0=$(ms)
PIDS=
for k in 1 2 3 4; do
	"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $(printf '%064d' "$k")" \
	    "${urls[@]}" >/dev/null 2>&1 &
	PIDS="$PIDS $!"
done
for p in $PIDS; do wait "$p"; done
PIDS=
t1=$(ms)
t_check "2,000 refused (the server log says so)" \
    test "$(grep -c 'admin credential refused on /v1/admin/rollup' server.log)" = 2000
# One audited request more brings the pending summary in.
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $BOOT" "$U/v1/admin/rollup"
e2=$(entries)
grown=$((e2 - e1 - 1))
echo "# flood: 2000 refusals in $((t1 - t0)) ms, $grown audit entries ($(awk "BEGIN { printf \"%.4f\", $grown / 2000 }") per refusal; before: 1)"
# At most 5 entries and a summary per minute the flood spans.
mins=$(( t1 / 60000 - t0 / 60000 + 1 ))
t_check "the log grew by at most $mins x (5 + 1) entries ($grown)" test "$grown" -le $((mins * 6))
t_check "... and by at least 6 (5 entries and a summary)" test "$grown" -ge 6
read -r n c bad <<<"$(refused)"
t_check "every refusal accounted for: $c of 2000 in $n entries" test "$c" = 2000
t_check "every refused entry is a refusal or a summary" test "$bad" = 0
t_exit 0 "audit verify passes" V
t_grep "... intact" '^intact: ' "$T/out"
t_exit 0 "audit show: the summary" "$SERVER" audit show --config org/server.cfg --actor -
t_grep "a summary names the count and the address" \
    '"refused 401 x [0-9]+ from 127\.0\.0\.1"$' "$T/out"

# 60 addresses, 8 each (480): past the hourly bound of 240 entries.
if curl -sk --max-time 2 --interface 127.0.0.2 -o /dev/null "$U/healthz"; then
	h0=$(( $(date +%s) / 3600 ))
	PIDS=
	for i in $(seq 2 61); do
		urls=()
		for _ in $(seq 1 8); do urls+=("$U/metrics"); done
		"${CURL[@]}" --interface "127.0.0.$i" -o /dev/null \
		    -H "Authorization: Bearer $(printf '%064d' 9)" \
		    "${urls[@]}" >/dev/null 2>&1 &
		PIDS="$PIDS $!"
	done
	for p in $PIDS; do wait "$p"; done
	PIDS=
	t_check "480 more refused" \
	    test "$(grep -c 'admin credential refused' server.log)" = 2480
	kill -TERM "$SPID"
	wait "$SPID" 2>/dev/null
	SPID=
	read -r n c bad <<<"$(refused)"
	hours=$(( $(date +%s) / 3600 - h0 + 1 ))
	t_check "entries from refusals within the hour's bound: $n <= $hours x 241" \
	    test "$n" -le $((hours * 241))
	t_check "... and the count exact: $c of 2480" test "$c" = 2480
	t_grep "the hour's summary" 'refused 401 x [0-9]+ from any address' \
	    <(q "SELECT outcome FROM audit WHERE addr = '*'")
	t_exit 0 "audit verify after the stop" V
else
	t_skip "no 127.0.0.2 on this machine's loopback"
fi
t_done
