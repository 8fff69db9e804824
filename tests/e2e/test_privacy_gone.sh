#!/bin/bash
# Issue 12, "gone means gone", as a curious operator would check it: a
# family member with a distinctive person id enrolls through the real
# agent (consent given), reports, and leaves with `muster-agent unenroll`
# while the server keeps running.  Once the unenroll is answered, not one
# byte of their person id, device id or token id is left in muster.db,
# muster.db-wal or muster.db-shm (raw bytes, `strings`, and the sqlite3
# CLI's .dump), and the server's log (at debug) never named them.  Then
# the same with a reader holding an old snapshot across the unenroll: the
# server's checkpoint waits for it, and retries until the bytes are gone
# within the documented bound.  Every wait is bounded; the server is
# killed by its recorded pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
DEV=$TOP/examples/devices
SPID=
RPID=
trap 'for p in $SPID $RPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

for tool in sqlite3 strings setsid curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "privacy tests ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ]; then
	t_skip "privacy tests (muster-server is not built)"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
sed -i 's/^log_level = .*/log_level = "debug";/' org/server.cfg
grep -q '^log_level = "debug";' org/server.cfg ||
	echo 'log_level = "debug";' >>org/server.cfg
PIN=$(cat org/server.pin)
DATA=org/data
DB=$DATA/muster.db
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")

"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 100); do
	"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ "$up" = 1 ] || { echo "Bail out! muster-server did not start"; exit 1; }

cp "$TOP/profiles/family-optin.cfg" fam.cfg
"$ENROLL" sign --org org fam.cfg >/dev/null &&
    "$ENROLL" publish --org org fam.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the family profile"; exit 1; }

devid() { sed -n 's/^device_id = "\(.*\)";/\1/p' "$1/agent.cfg"; }
# member N PERSON: a family token for PERSON (its id in TOK), enrolled
# with consent by an agent on a copy of the Redmi 1S (its id in DID).
member() {
	"$ENROLL" token --org org --scope family --unit IAF/25-WING \
	    --person "$2" -o "m$1.bundle" >"m$1.out" 2>&1
	TOK=$(sed -n 's/^token id: *\([0-9a-f]\{16\}\).*/\1/p' "m$1.out")
	cp "$DEV/redmi-1s.cfg" "m$1.cfg"
	t_exit 0 "member $1 enrolls with consent" setsid -w "$AGENT" \
	    --state "$T/s$1" --device "sim:$T/m$1.cfg" enroll "m$1.bundle" \
	    --consent
	DID=$(devid "$T/s$1")
	t_exit 0 "member $1 reports" "$AGENT" --state "$T/s$1" \
	    --device "sim:$T/m$1.cfg" run --once
}
# found WHAT: where WHAT still is, one name per line: the raw files,
# their printable strings, the sqlite3 CLI's dump, the server's log.
found() {
	local f
	for f in "$DB" "$DB-wal" "$DB-shm"; do
		[ -e "$f" ] || continue
		grep -qaF -- "$1" "$f" && echo "$(basename "$f")"
		strings -a -n 6 "$f" | grep -qF -- "$1" &&
		    echo "$(basename "$f") (strings)"
	done
	sqlite3 "file:$DB?mode=ro" .dump | grep -qF -- "$1" && echo "sqlite3 .dump"
	grep -qF -- "$1" server.log && echo "server.log"
}
# gone NAME WHAT: WHAT is in none of the places found() looks.
gone() {
	local where
	where=$(found "$2" | tr '\n' ' ')
	if [ -z "$where" ]; then t_ok "$1"; else t_fail "$1 (still in: $where)"; fi
}

# --- one member, no reader ------------------------------------------------
PERSON1=FAM-GONE-7Q3ZK1
member 1 "$PERSON1"
TOK1=$TOK
DID1=$DID
t_check "member 1's id and token id are known" test -n "$DID1" -a -n "$TOK1"
t_check "the scan finds member 1 before they leave (the scan works)" \
    sh -c "sqlite3 'file:$DB?mode=ro' .dump | grep -qF '$PERSON1'"
t_check "the store holds member 1's report" test \
    "$(sqlite3 "file:$DB?mode=ro" "SELECT count(*) FROM reports WHERE device = '$DID1'")" = 1
# A second member stays: their rows are untouched.
member 2 FAM-STAYS-2
DID2=$DID

t_exit 0 "member 1 unenrolls while the server runs" \
    "$AGENT" --state "$T/s1" unenroll
t_grep "the agent says the server deleted the data" 'deleted' "$T/out"
# From here on nothing may wait for a checkpoint: it had to happen
# before the answer.
gone "no byte of member 1's person id anywhere" "$PERSON1"
gone "no byte of member 1's device id anywhere" "$DID1"
gone "no byte of member 1's token id anywhere" "$TOK1"
t_check "the WAL is empty once the unenroll is answered" test ! -s "$DB-wal"
t_check "no row of member 1 (sqlite3)" test "$(sqlite3 "file:$DB?mode=ro" \
    "SELECT (SELECT count(*) FROM devices WHERE id = '$DID1' OR person = '$PERSON1') +
     (SELECT count(*) FROM reports WHERE device = '$DID1') +
     (SELECT count(*) FROM status_history WHERE device = '$DID1') +
     (SELECT count(*) FROM consents WHERE device = '$DID1' OR token = '$TOK1') +
     (SELECT count(*) FROM tokens WHERE id = '$TOK1')")" = 0
t_check "member 2 is still there" test "$(sqlite3 "file:$DB?mode=ro" \
    "SELECT count(*) FROM devices WHERE id = '$DID2'")" = 1
t_check "the server's log never named a family member" sh -c \
    "! grep -qF -e 'FAM-STAYS-2' -e '$DID2' server.log"
t_grep "the server's log says a family device left" 'a family device.* unenrolled' server.log

# --- a reader holds an old snapshot across the unenroll -------------------
PERSON3=FAM-GONE-READER-9X
member 3 "$PERSON3"
TOK3=$TOK
DID3=$DID
# The reader begins a read transaction and keeps it 3 s (a long roll-up).
{ printf 'BEGIN;\nSELECT count(*) FROM devices;\n'; sleep 3
  printf 'COMMIT;\n'; } | sqlite3 "file:$DB?mode=ro" >/dev/null 2>&1 &
RPID=$!
sleep 0.5
t_exit 0 "member 3 unenrolls while a reader holds an old snapshot" \
    "$AGENT" --state "$T/s3" unenroll
t_check "the reader is still reading" kill -0 "$RPID"
wait "$RPID" 2>/dev/null
RPID=
# The writer retries every second: within 3 s of the reader's end.
for _ in $(seq 1 30); do
	[ -z "$(found "$DID3")" ] && [ ! -s "$DB-wal" ] && break
	sleep 0.1
done
gone "after the reader: no byte of member 3's person id" "$PERSON3"
gone "after the reader: no byte of member 3's device id" "$DID3"
gone "after the reader: no byte of member 3's token id" "$TOK3"
t_check "after the reader: the WAL is empty" test ! -s "$DB-wal"

kill -TERM "$SPID"
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
gone "after the server stopped: no byte of member 1" "$DID1"
gone "after the server stopped: no person of member 3" "$PERSON3"
t_done
