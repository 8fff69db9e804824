#!/bin/bash
# Issue 15, backup and restore (docs/operations.md, "Backup and restore"),
# as an operator runs them and as devices live through them: a real
# server on loopback with real TLS, real agents on sim devices, real
# SQLite files.
#  - `muster-server backup FILE` while reports keep arriving: 0600 under
#    umask 022, a consistent store (integrity_check; each device's newest
#    report in its row equals its newest stored report; the reports of
#    the device flooding during the backup a gap-free prefix), replaced
#    whole over an old backup, usage and a missing directory refused;
#  - a restore (stop, copy back, start) after more happened: every
#    device reports again without re-enrollment, the one enrolled after
#    the backup re-registering by itself with its enrollment receipt (same
#    id, same key, no new token, no wipe); a device revoked before the
#    backup, one revoked after it, and a device enrolled and revoked after
#    it (by device id and by token id) all stay revoked (exit 77), and a
#    replayed receipt cannot bring them back; a forged or foreign receipt
#    is refused; a device that left (unenrolled) after the backup is not
#    brought back;
#  - the RPO measured: the reports acknowledged between the backup and
#    the restore are what the store lost, and nothing else.
# Every wait and loop is bounded; the server is killed by its pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
AGENT="$MUSTER_BIN/muster-agent"
SPID=
LPID=
trap 'for p in $SPID $LPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

for tool in sqlite3 openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "backup tests ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ]; then
	t_skip "backup tests (muster-server is not built)"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
DB=org/data/muster.db
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
q() { sqlite3 "file:$1?mode=ro" "$2"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
sign() { openssl pkeyutl -sign -inkey "$1" -rawin -in "$2" | base64 -w0; }
pubkey() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }
post() {
	local path=$1 file=$2 key=$3 dev=${4:-} sig
	sig=$(sign "$key" "$file")
	CODE=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H "Muster-Signature: $sig" \
	    ${dev:+-H "Muster-Device: $dev"} --data-binary @"$file" \
	    "$U$path" 2>"$T/cerr")
}
start() {
	"$SERVER" --config org/server.cfg >>server.log 2>&1 &
	SPID=$!
	for _ in $(seq 1 100); do
		"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "Bail out! muster-server did not start"
	exit 1
}
stop() {
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}
# An agent NAME on its own sim device and state dir.
A() { local n=$1; shift; "$AGENT" --state "$T/st-$n" --device "sim:$T/dev-$n.cfg" "$@"; }
# agent NAME: a token for NAME (its id in tok-NAME) and the enrollment.
agent() {
	cp "$TOP/examples/devices/redmi-1s.cfg" "dev-$1.cfg"
	"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
	    --person "IAF-$1" -o "$1.bundle" >"tok-$1.out" 2>&1
	sed -n 's/^token id: //p' "tok-$1.out" >"tok-$1"
	A "$1" enroll "$1.bundle" >"enroll-$1.out" 2>&1
}
devid() { sed -n 's/^device_id = "\(.*\)";/\1/p' "$T/st-$1/agent.cfg"; }
seqs() { q "$1" "SELECT count(*) FROM reports WHERE device = '$2'"; }

start
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null &&
    "$ENROLL" publish --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the profile"; exit 1; }

# --- before the backup --------------------------------------------------------
for n in alpha bravo rvk foxtrot; do
	agent "$n"
	t_check "agent $n enrolls" test -s "$T/st-$n/agent.cfg"
done
t_check "the enrollment receipt is kept, 0600" \
    test "$(stat -c %a "$T/st-alpha/receipt.json")" = 600
t_grep "... it is the server's signed receipt" '"body":"[A-Za-z0-9+/=]+","sig":"[A-Za-z0-9+/=]{88}"' "$T/st-alpha/receipt.json"
t_check "the server's receipt key is 0600" \
    test "$(stat -c %a org/data/receipt.key)" = 600
for n in alpha bravo rvk foxtrot; do A "$n" run --once >/dev/null 2>&1; done
t_exit 0 "revoke rvk (before the backup)" "$ENROLL" revoke --org org "$(devid rvk)"

# A device flooding reports (openssl) while the backup is taken.
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-FLOOD -o fl.bundle >/dev/null 2>&1
openssl genpkey -algorithm ed25519 -out fl.pem 2>/dev/null
printf '{"token":"%s","device_key":"%s","model":"Xiaomi HM 1SW"}' \
    "$(sed -n 's/^token = "\(.*\)";$/\1/p' fl.bundle)" "$(pubkey fl.pem)" >fl.json
post /v1/enroll fl.json fl.pem
FD=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")
t_check "the flooding device enrolls" test -n "$FD"
(
	for seq in $(seq 1 400); do
		printf '{"device":"%s","seq":%s,"time":"%s","profile":"iaf-personnel","serial":1,"status":"compliant","dropped":0,"results":[{"rule":"redmi-1s-unfixed","result":"pass"}]}' \
		    "$FD" "$seq" "$(now)" >"ld.json"
		sig=$(sign fl.pem ld.json)
		"${CURL[@]}" -o /dev/null -H 'Content-Type: application/json' \
		    -H "Muster-Signature: $sig" -H "Muster-Device: $FD" \
		    --data-binary @ld.json "$U/v1/report" 2>/dev/null
		[ -e stop-load ] && break
	done
) &
LPID=$!
# Reports are arriving: wait (bounded) for some, then back up.
for _ in $(seq 1 50); do
	[ "$(seqs "$DB" "$FD")" -ge 5 ] && break
	sleep 0.1
done
echo old >backup.db
chmod 644 backup.db
(umask 022; "$SERVER" backup --config org/server.cfg "$T/backup.db" >bk.out 2>bk.err)
bk_rc=$?
t_check "backup under load: exit 0" test "$bk_rc" = 0
t_grep "backup says what it wrote" 'backup of .* written to .*backup.db \([0-9]+ bytes\)' bk.out
sleep 0.5
touch stop-load
wait "$LPID" 2>/dev/null
LPID=
B_AT=$(date +%s)
at_live=$(seqs "$DB" "$FD")
at_bk=$(seqs backup.db "$FD")
echo "# flood: $at_bk reports in the backup, $at_live on the live store when the load stopped"
t_check "the backup file is 0600 (umask 022)" test "$(stat -c %a backup.db)" = 600
t_check "the backup replaced the old file whole" \
    test "$(head -c 15 backup.db)" = "SQLite format 3"
t_check "the backup passes integrity_check" \
    test "$(q backup.db 'PRAGMA integrity_check')" = ok
t_check "reports kept arriving during the backup ($at_bk < $at_live)" \
    test "$at_bk" -lt "$at_live"
t_check "consistent: the flood is a gap-free prefix in the backup" \
    test "$(q backup.db "SELECT count(*) = max(seq) FROM reports WHERE device = '$FD'")" = 1
t_check "consistent: every device's newest report is in its row" \
    test "$(q backup.db "SELECT count(*) FROM devices d WHERE last_seq <> (SELECT coalesce(max(seq), 0) FROM reports r WHERE r.device = d.id)")" = 0
t_check "no temporary file left beside it" \
    test "$(ls | grep -c '^backup\.db\..*\.tmp$')" = 0
t_exit 64 "backup without FILE: 64" "$SERVER" backup --config org/server.cfg
t_err_line "... one line" 'missing FILE'
t_exit 73 "backup into a missing directory: 73" \
    "$SERVER" backup --config org/server.cfg "$T/no/such/b.db"
t_err_line "... one line naming it" 'no/such'
t_exit 0 "backup --help" "$SERVER" backup --help
t_grep "... says how to restore" 'restore' "$T/out"

# --- after the backup: what the restore will lose, and what it must not -----
agent charlie
t_check "charlie enrolls after the backup" test -s "$T/st-charlie/agent.cfg"
agent delta
agent echo
for n in alpha charlie delta echo; do A "$n" run --once >/dev/null 2>&1; done
t_exit 0 "revoke bravo (after the backup)" "$ENROLL" revoke --org org "$(devid bravo)"
t_exit 0 "revoke delta by device id (enrolled after the backup)" \
    "$ENROLL" revoke --org org "$(devid delta)"
t_exit 0 "revoke echo by token id (enrolled after the backup)" \
    "$ENROLL" revoke --org org "$(cat tok-echo)"
for n in alpha charlie; do A "$n" run --once >/dev/null 2>&1; done
fid=$(devid foxtrot)
t_exit 0 "foxtrot unenrolls (after the backup)" A foxtrot unenroll
t_check "the journal is 0600 and names no device that left" sh -c "
	test \"\$(stat -c %a org/data/journal)\" = 600 &&
	! grep -q '$fid' org/data/journal"
lost_alpha=$(( $(seqs "$DB" "$(devid alpha)") - $(seqs backup.db "$(devid alpha)") ))
lost_all=$(( $(q "$DB" 'SELECT count(*) FROM reports') - $(q backup.db 'SELECT count(*) FROM reports') ))

# --- the restore: stop, copy back, start -----------------------------------------
stop
R_AT=$(date +%s)
cp backup.db org/data/muster.db
rm -f org/data/muster.db-wal org/data/muster.db-shm
chmod 600 org/data/muster.db
start
echo "# RPO: $((R_AT - B_AT)) s between backup and restore; $lost_all reports acknowledged in it are gone from the store ($lost_alpha of alpha's)"
t_check "the restored store lost the reports of after the backup ($lost_all)" \
    test "$lost_all" -gt 0
t_check "the restored store is the backup (but for who left): nothing of before it lost" \
    test "$(q "$DB" "SELECT count(*) FROM reports WHERE device <> '$fid'")" = "$(q backup.db "SELECT count(*) FROM reports WHERE device <> '$fid'")"
t_check "charlie (enrolled after the backup) is unknown to the restored store" \
    test "$(q "$DB" "SELECT count(*) FROM devices WHERE id = '$(devid charlie)'")" = 0

cid=$(devid charlie)
cp "$T/st-charlie/device.key" charlie.key.before
t_exit 0 "alpha reports again" A alpha run --once
t_exit 0 "charlie reports again, re-registered by its receipt" A charlie run --once
t_grep "... the agent says so" 're-registered' "$T/err"
t_check "... same device id" test "$(devid charlie)" = "$cid"
t_check "... same device key (no wipe)" cmp -s charlie.key.before "$T/st-charlie/device.key"
t_check "... known to the store again, in its unit" \
    test "$(q "$DB" "SELECT unit || ' ' || person FROM devices WHERE id = '$cid' AND revoked IS NULL")" = "IAF/25-WING IAF-charlie"
t_check "... its token marked used again (no new token)" \
    test "$(q "$DB" "SELECT used IS NOT NULL FROM tokens WHERE id = '$(cat tok-charlie)'")" = 1
t_check "... its new report is stored" \
    test "$(q "$DB" "SELECT count(*) FROM reports WHERE device = '$cid'")" -ge 1
t_exit 0 "charlie's next run needs nothing more" A charlie run --once
t_check "alpha's seq goes on from the device (no replay of lost seqs)" \
    test "$(q "$DB" "SELECT last_seq FROM devices WHERE id = '$(devid alpha)'")" -gt "$(q backup.db "SELECT last_seq FROM devices WHERE id = '$(devid alpha)'")"
t_exit 77 "rvk (revoked before the backup) stays revoked" A rvk run --once
t_exit 77 "bravo (revoked after the backup) stays revoked" A bravo run --once
t_check "... the journal put bravo's revocation back" \
    test "$(q "$DB" "SELECT revoked IS NOT NULL FROM devices WHERE id = '$(devid bravo)'")" = 1
t_exit 77 "delta (enrolled and revoked after the backup): its receipt is refused" A delta run --once
t_exit 77 "echo (its token revoked after the backup): its receipt is refused" A echo run --once
t_check "... neither came back into the store" \
    test "$(q "$DB" "SELECT count(*) FROM devices WHERE id IN ('$(devid delta)', '$(devid echo)')")" = 0
t_grep "the server logged the refused re-registrations" 're-registration refused' server.log
t_check "foxtrot, who left after the backup, is not brought back" \
    test "$(q "$DB" "SELECT count(*) FROM devices WHERE id = '$fid'")" = 0
t_check "... nor any report of it" \
    test "$(q "$DB" "SELECT count(*) FROM reports WHERE device = '$fid'")" = 0
t_check "... though the backup holds it (keep backups short: privacy.md)" \
    test "$(q backup.db "SELECT count(*) FROM devices WHERE id = '$fid'")" = 1

# A replayed or forged receipt, presented by hand.
rcpt=$(cat "$T/st-delta/receipt.json")
printf '{"receipt":%s}' "$rcpt" >rr.json
openssl genpkey -algorithm ed25519 -out other.pem 2>/dev/null
post /v1/reregister rr.json other.pem "$(devid delta)"
t_check "delta's receipt signed by another key: 401 or 403 ($CODE)" \
    test "$CODE" = 401 -o "$CODE" = 403
body=$(sed -n 's/.*"body":"\([^"]*\)".*/\1/p' "$T/st-charlie/receipt.json")
forged=$(printf '%s' "$body" | base64 -d | sed 's/IAF-charlie/IAF-mallory/' | base64 -w0)
sig=$(sed -n 's/.*"sig":"\([^"]*\)".*/\1/p' "$T/st-charlie/receipt.json")
printf '{"receipt":{"body":"%s","sig":"%s"}}' "$forged" "$sig" >fr.json
post /v1/reregister fr.json other.pem "$cid"
t_check "an edited receipt: 403" test "$CODE" = 403
t_grep "... refused as a receipt" 'receipt refused' "$T/body"
printf '{"receipt":{"body":"%s","sig":"AAAA"}}' "$body" >fr2.json
post /v1/reregister fr2.json other.pem "$cid"
t_check "a malformed receipt signature: 400" test "$CODE" = 400
head -c 9000 /dev/zero | tr '\0' A >big.b64
printf '{"receipt":{"body":"%s","sig":"%s"}}' "$(cat big.b64)" "$sig" >fr3.json
post /v1/reregister fr3.json other.pem "$cid"
t_check "an oversized receipt: 400" test "$CODE" = 400
t_check "the server is still up" "${CURL[@]}" -o /dev/null "$U/healthz"
stop
t_done
