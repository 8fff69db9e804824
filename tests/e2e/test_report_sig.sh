#!/bin/bash
# Stored reports stay verifiable (docs/operations.md, "Verifying a stored
# report"): a real muster-server on loopback with real TLS, a real agent
# on a sim device whose status changes three times.  The store keeps the
# device's signature with every report; `muster-server history` and the
# console's device page check each status change's report against the
# device's key; the console's proof download verifies with stock openssl
# and with `muster-server verify-report`.  Then, as an attacker with write
# access to the SQLite file (sqlite3 CLI): a report's body rewritten from
# noncompliant to compliant, another's signature replaced, a third's
# row given a genuine report of another seq, a fourth's signature
# dropped.  Each is shown as it is ("signature does not verify", "does not
# match this entry", "not kept"), the untouched one still verifies, and
# the downloaded proofs fail with openssl where they should.  Family
# devices are never shown one by one.  Every wait is bounded; the server
# is killed by its recorded pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

for tool in sqlite3 openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "stored report signatures ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ] || [ ! -x "$AGENT" ]; then
	t_skip "muster-server or muster-agent not built"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
CURL=(curl -sS --max-time 10 --cacert org/server.crt --pinnedpubkey "$PIN")
DB=org/data/muster.db
"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
for _ in $(seq 1 100); do
	"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 && break
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 ||
	{ echo "Bail out! muster-server did not start"; sed 's/^/# /' server.log; exit 1; }
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org p.cfg >/dev/null &&
"$ENROLL" sign --org org f.cfg >/dev/null &&
"$ENROLL" publish --org org p.cfg >/dev/null 2>&1 &&
"$ENROLL" publish --org org f.cfg >/dev/null 2>&1 ||
	{ echo "Bail out! publish failed"; exit 1; }

# --- a real agent whose status changes: compliant, not, compliant -------
cp "$TOP/examples/devices/clean.cfg" dev.cfg
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-R7 -o p.bundle >/dev/null &&
"$AGENT" --state st --device "sim:$T/dev.cfg" enroll p.bundle >agent.log 2>&1 ||
	{ echo "Bail out! enroll failed"; sed 's/^/# /' agent.log; exit 1; }
D=$(sqlite3 "file:$DB?mode=ro" "SELECT id FROM devices WHERE person = 'IAF-R7'")
run_with_os() {
	sed -i "s/^os_version = .*/os_version = \"$1\";/" dev.cfg
	"$AGENT" --state st --device "sim:$T/dev.cfg" run --once >>agent.log 2>&1
	sleep 1.1	# the next report's own time is later
}
run_with_os 5.0		# compliant
run_with_os 4.0		# below os-min 4.4.4: noncompliant
run_with_os 5.0		# compliant again
q() { sqlite3 "file:$DB?mode=ro" "$1"; }
mapfile -t SEQS < <(q "SELECT seq FROM status_history WHERE device = '$D' ORDER BY seq")
t_check "three status changes stored (seqs ${SEQS[*]})" test "${#SEQS[@]}" = 3
S1=${SEQS[0]} S2=${SEQS[1]} S3=${SEQS[2]}
t_check "every stored report keeps a 64-byte signature" test \
    "$(q "SELECT count(*) FROM reports WHERE device = '$D' AND length(sig) = 64")" = \
    "$(q "SELECT count(*) FROM reports WHERE device = '$D'")"
SENT=$(base64 -d <"st/sent/$S2.sig" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
t_check "... the device's own, as its agent sent it (sent/$S2.sig)" test \
    "$(q "SELECT hex(sig) FROM reports WHERE device = '$D' AND seq = $S2")" = "$SENT"

# --- muster-server history: every change verified -----------------------
H() { "$SERVER" history --config org/server.cfg "$@"; }
t_exit 0 "history: every kept signature verifies (exit 0)" H "$D"
cp "$T/out" hist.out
t_check "history: three changes, each verified" test \
    "$(grep -c '^seq [0-9]* .* verified$' hist.out)" = 3
t_grep "history: each with its hash and signature" \
    '^  signature [A-Za-z0-9+/]{86}==$' hist.out
t_exit 0 "history --format json" H --format json "$D"
t_check "... JSON: three changes verified, newest first" sh -c \
    "jq -e '[.changes[].check] == [\"verified\",\"verified\",\"verified\"] and .changes[0].seq == $S3' '$T/out' >/dev/null"
t_exit 65 "history of a malformed id: 65" H '../../etc/passwd'
t_err_line "... one line" 'not a device id'
t_exit 66 "history of an unknown device: 66" H 00000000000000000000000000000000
t_exit 64 "history without a device: 64" H
t_exit 64 "history --format xml: 64" H --format xml "$D"
t_exit 64 "history --proof -1: 64" H --proof -1 "$D"
t_exit 66 "history --proof of a seq not stored: 66" H --proof 999 "$D"
t_err_line "... one line naming it" "no stored report 999"

# --- the console --------------------------------------------------------
# Admin routes as test_console.sh reaches them: $AU, signed in with
# org/admin.token.
TOK=$(tr -d '\n' <org/admin.token)
"${CURL[@]}" -o /dev/null -D login.hdr -H "Origin: $AU" \
    --data-urlencode "token=$TOK" "$AU/console/login"
C=$(grep -o 'muster_console=[A-Za-z0-9_-]*' login.hdr)
t_check "console: signed in" test -n "$C"
page() { "${CURL[@]}" -b "$C" -o "$1" -D "$1.hdr" "$AU/console/device?id=$D"; }
# check SEQ FILE: the check the device page shows for report SEQ.
check() {
	tr -d '\n' <"$2" | grep -o "(report $1, received [^)]*)</p><p class=\"check\">Signature: <strong class=\"[^\"]*\">[^<]*<" |
	    sed 's/.*">//; s/<$//'
}
page before.html
for s in "$S1" "$S2" "$S3"; do
	t_check "console: report $s verified" test "$(check "$s" before.html)" = verified
done
t_check "console: each shows its seq, hash and signature" test "$(grep -Eo \
    '<dt>Seq</dt><dd>[0-9]+</dd><dt>Time</dt><dd>[0-9TZ:-]+</dd><dt>BLAKE2b-256</dt><dd><code>[0-9a-f]{64}</code></dd><dt>Signature \(Ed25519\)</dt><dd><code>[A-Za-z0-9+/]{86}==</code>' \
    before.html | wc -l)" = 3
proof() { "${CURL[@]}" -b "$C" -o "$2" -D "$2.hdr" "$AU/console/proof?id=$D&seq=$1"; }
# ossl FILE: verifies a proof file with stock openssl only (sed, base64).
ossl() {
	local f=$1 field
	field() { sed -n "s/^  \"$1\": \"\([A-Za-z0-9+/=]*\)\",\{0,1\}$/\1/p" "$f"; }
	field body_b64 | base64 -d >"$f.body" &&
	field sig_b64 | base64 -d >"$f.sig" &&
	{ printf '\060\052\060\005\006\003\053\145\160\003\041\000'; field pk_b64 | base64 -d; } |
	    openssl pkey -pubin -inform DER -out "$f.pem" 2>/dev/null &&
	openssl pkeyutl -verify -pubin -inkey "$f.pem" -rawin -in "$f.body" \
	    -sigfile "$f.sig" >/dev/null 2>&1
}
nossl() { ! ossl "$1"; }
proof "$S2" p2.json
t_grep "console: the proof is a JSON download" '^Content-Type: application/json' p2.json.hdr
t_grep "... an attachment" "^Content-Disposition: attachment; filename=\"muster-report-$D-$S2.json\"" p2.json.hdr
t_check "... byte for byte what history --proof writes" sh -c \
    "'$SERVER' history --config org/server.cfg --proof $S2 '$D' | cmp -s - p2.json"
t_check "... its body is the report the agent sent (sent/$S2.json)" sh -c \
    "sed -n 's/^  \"body_b64\": \"\(.*\)\",$/\1/p' p2.json | base64 -d | cmp -s - st/sent/$S2.json"
t_check "the proof verifies with stock openssl" ossl p2.json
t_exit 0 "... and with muster-server verify-report" "$SERVER" verify-report p2.json
"${CURL[@]}" -b "$C" -o nope.html -D nope.hdr "$AU/console/proof?id=$D&seq=999"
t_grep "console: the proof of an unknown seq: 404" '^HTTP/1.1 404' nope.hdr
"${CURL[@]}" -o nope.html -D nope.hdr "$AU/console/proof?id=$D&seq=$S2"
t_grep "console: the proof without a session: to sign-in" '^Location: /console/signin' nope.hdr
t_exit 0 "audit show --action 'console proof'" "$SERVER" audit show \
    --config org/server.cfg --action "console proof"
t_grep "the proof download is audited: administrator, device, seq" \
    " admin 127\\.0\\.0\\.1 console proof \"$D seq $S2\" \"ok 200\"" "$T/out"
t_grep "... the refused one too, naming no device" \
    ' admin 127\.0\.0\.1 console proof "/console/proof" "refused 404"' "$T/out"
t_check "... two entries, none for the proof without a session" \
    test "$(wc -l <"$T/out")" = 2

# --- as an attacker with the SQLite file ------------------------------------
for s in "$S1" "$S2" "$S3"; do proof "$s" "good-$s.json"; done
w() { sqlite3 "$DB" ".timeout 5000" "$1"; }
# S2 said noncompliant: rewritten to say compliant (history too).
w "UPDATE reports SET body = CAST(replace(CAST(body AS TEXT), '\"noncompliant\"', '\"compliant\"') AS BLOB), status = 'compliant' WHERE device = '$D' AND seq = $S2"
t_check "tampered: report $S2's body now says compliant" sh -c \
    "sqlite3 'file:$DB?mode=ro' \"SELECT CAST(body AS TEXT) FROM reports WHERE device = '$D' AND seq = $S2\" | grep -q '\"status\":\"compliant\"'"
# S1: its signature replaced with another of the right size.
w "UPDATE reports SET sig = randomblob(64) WHERE device = '$D' AND seq = $S1"
page after.html
t_check "console: the rewritten body does not verify" \
    test "$(check "$S2" after.html)" = "signature does not verify"
t_check "console: the replaced signature does not verify" \
    test "$(check "$S1" after.html)" = "signature does not verify"
t_check "console: the untouched report still verifies" \
    test "$(check "$S3" after.html)" = verified
t_exit 77 "history: a stored report does not verify (exit 77)" H "$D"
cp "$T/out" hist2.out
t_err_line "... said in one line" "2 stored reports of 3 do not verify"
t_check "history: two entries do not verify, one does" sh -c \
    "test \$(grep -c 'signature does not verify\$' hist2.out) = 2 && test \$(grep -c ' verified\$' hist2.out) = 1"
for s in "$S1" "$S2" "$S3"; do proof "$s" "bad-$s.json"; done
t_check "openssl: the untouched report's proof verifies" ossl "bad-$S3.json"
t_check "openssl: the rewritten body's proof does not" nossl "bad-$S2.json"
t_check "openssl: the replaced signature's proof does not" nossl "bad-$S1.json"
t_exit 77 "verify-report: the rewritten body: 77" "$SERVER" verify-report "bad-$S2.json"
t_err_line "... one line" 'signature does not verify'
t_exit 0 "verify-report: the untouched one: 0" "$SERVER" verify-report "bad-$S3.json"
t_check "a proof downloaded before the tampering still verifies" ossl "good-$S2.json"
# A proof file edited by hand: another status, the same signature.
sed 's/"status": "noncompliant"/"status": "compliant"/' "good-$S2.json" >edited.json
t_exit 77 "verify-report: a proof whose status was edited: 77" "$SERVER" verify-report edited.json
t_err_line "... does not match its entry" 'does not match this entry'
# S1's row given S3's genuine report (body, hash and signature): it
# verifies, but it is not the report of this entry.
w "UPDATE reports SET (body, hash, sig) = (SELECT body, hash, sig FROM reports WHERE device = '$D' AND seq = $S3) WHERE device = '$D' AND seq = $S1"
page swap.html
t_check "console: a genuine report moved to another entry: does not match" \
    test "$(check "$S1" swap.html)" = "signed report does not match this entry"
# S3's signature dropped (a report stored before schema 5 reads so).
w "UPDATE reports SET sig = NULL WHERE device = '$D' AND seq = $S3"
page notkept.html
t_check "console: a report without a signature: not kept" \
    test "$(check "$S3" notkept.html)" = "signature not kept (stored before store schema 5)"
proof "$S3" nk.json
t_exit 65 "verify-report: nothing to verify without a signature: 65" "$SERVER" verify-report nk.json
t_exit 65 "verify-report: a truncated proof: 65" sh -c "head -c 200 good-$S3.json >trunc.json; '$SERVER' verify-report trunc.json"
t_exit 66 "verify-report: no such file: 66" "$SERVER" verify-report missing.json
t_check "the column refuses a signature of another size" sh -c \
    "! sqlite3 '$DB' \"UPDATE reports SET sig = x'00' WHERE device = '$D' AND seq = $S2\" 2>/dev/null"

# --- family devices: never one by one -----------------------------------
cp "$TOP/examples/devices/clean.cfg" fam.cfg
"$ENROLL" token --org org --scope family --unit IAF/25-WING --person F-1 \
    -o f.bundle >/dev/null &&
"$AGENT" --state stf --device "sim:$T/fam.cfg" enroll f.bundle --consent >>agent.log 2>&1 &&
"$AGENT" --state stf --device "sim:$T/fam.cfg" run --once >>agent.log 2>&1
F=$(q "SELECT id FROM devices WHERE person = 'F-1'")
FS=$(q "SELECT max(seq) FROM reports WHERE device = '$F'")
t_check "a family device reported (seq $FS)" test -n "$FS"
t_exit 66 "history of a family device: 66" H "$F"
t_err_line "... never shown one by one" 'family devices are never shown one by one'
"${CURL[@]}" -b "$C" -o fam.html -D fam.hdr "$AU/console/proof?id=$F&seq=$FS"
t_grep "console: a family device's proof: 404" '^HTTP/1.1 404' fam.hdr
t_check "the server logged no error" sh -c "! grep -q ' error' server.log"
t_done
