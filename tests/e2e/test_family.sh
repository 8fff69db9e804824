#!/bin/bash
# Family opt-in, end to end on loopback with the real server and agents on
# simulated phones: consent (refused without a terminal or with any answer
# but "yes", nothing sent; given on a terminal or with --consent), the
# signed receipt on both sides, remediation only where the consent covers
# it, a personnel profile refused by a family device, a hand-signed family
# report with a detail refused and not stored, the server's consent
# checks, and the right to leave: unenroll queued while the server is
# away (run sends it and nothing else), then every row and every byte of
# the device gone from the database (the daemon, too, leaves and stops).
# Every wait is bounded; the server and the daemon are killed by their
# recorded pids on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
DEV=$TOP/examples/devices
SPID=
DPID=
trap 'for p in $SPID $DPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

for tool in sqlite3 openssl script setsid curl b2sum; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "family tests ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ]; then
	t_skip "family tests (muster-server is not built)"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
DB=org/data/muster.db
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")

start_server() {
	"$SERVER" --config org/server.cfg >>server.log 2>&1 &
	SPID=$!
	for _ in $(seq 1 100); do
		"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop_server() {
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}
q() { sqlite3 "$DB" "$1"; }
devid() { sed -n 's/^device_id = "\(.*\)";/\1/p' "$1/agent.cfg"; }
bundle_token() { sed -n 's/^token = "\(.*\)";$/\1/p' "$1"; }
# The enrollment requests (enroll and preview) the server has answered.
enroll_requests() {
	"${CURL[@]}" -H "Authorization: Bearer $(tr -d '\n' <org/admin.token)" \
	    "$U/metrics" |
	    awk '/^muster_requests_total\{route="enroll"/ { n += $2 } END { print n + 0 }'
}
# code NAME WANT CURL-ARGS...: the HTTP status is WANT; body in $T/body.
code() {
	local name=$1 want=$2 got; shift 2
	got=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' "$@" 2>"$T/cerr")
	if [ "$got" = "$want" ]; then t_ok "$name"; else
		t_fail "$name (HTTP $got, wanted $want)"
		sed 's/^/# body: /' "$T/body" 2>/dev/null | head -n 5
	fi
}
sign() { openssl pkeyutl -sign -inkey "$1" -rawin -in "$2" | base64 -w0; }
pubkey() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }
# post NAME WANT PATH FILE [KEY [DEVICE]]: a POST, signed when KEY is given.
post() {
	local name=$1 want=$2 path=$3 file=$4 key=${5:-} dev=${6:-} sig=
	[ -n "$key" ] && sig=$(sign "$key" "$file")
	code "$name" "$want" -H 'Content-Type: application/json' \
	    ${sig:+-H "Muster-Signature: $sig"} ${dev:+-H "Muster-Device: $dev"} \
	    --data-binary @"$file" "$U$path"
}
# devkey_pem STATE OUT: the agent's device key (minisign -W format,
# unencrypted) as a PEM Ed25519 key for openssl: the 32-byte seed sits
# after "Ed", the KDF and checksum ids, salt, limits and the key id.
devkey_pem() {
	{ printf '\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20'
	  sed -n 2p "$1/device.key" | base64 -d | tail -c +63 | head -c 32
	} | openssl pkey -inform DER -out "$2"
}
# tty_enroll ANSWER STATE PHONE BUNDLE: enroll on a pseudo-terminal that
# types ANSWER; output in $T/out, the exit code in $T/rc.
tty_enroll() {
	printf '%s\n' "$1" | timeout 60 script -qec "'$AGENT' --state '$2' \
	    --device 'sim:$3' enroll '$4'" /dev/null >"$T/out" 2>&1
	echo $? >"$T/rc"
}
# rows DEVICE: rows naming DEVICE in every table that holds device data.
rows() {
	q "SELECT (SELECT count(*) FROM devices WHERE id = '$1') +
	    (SELECT count(*) FROM reports WHERE device = '$1') +
	    (SELECT count(*) FROM status_history WHERE device = '$1') +
	    (SELECT count(*) FROM failing_history WHERE device = '$1') +
	    (SELECT count(*) FROM device_failing WHERE device = '$1') +
	    (SELECT count(*) FROM consents WHERE device = '$1') +
	    (SELECT count(*) FROM revocations WHERE id = '$1');"
}
# hex2bin: hex digits on stdin to bytes (perl is in every Debian).
hex2bin() { perl -e 'local $/; $_ = <STDIN>; s/\s//g; print pack("H*", $_)'; }
# token_id TOKEN: the id line of a token's body (base64url, unpadded).
token_id() {
	local b
	b=$(printf '%s' "${1%%.*}" | tr '_-' '/+')
	while [ $(( ${#b} % 4 )) -ne 0 ]; do b="$b="; done
	printf '%s' "$b" | base64 -d | sed -n 's/^id=//p'
}
# enroll_json OUT TOKEN KEY [EXTRA]: an enrollment body, by hand.
enroll_json() {
	printf '{"token":"%s","device_key":"%s"%s}' "$2" "$(pubkey "$3")" \
	    "${4:-}" >"$1"
}

# --- the organisation: profiles and bundles ----------------------------------
cat >fam.cfg <<'EOF'
id = "family-test";
serial = 1;
expires = "2030-01-01T00:00:00Z";
scope = "family";
title = "Family test profile";
report_interval = 21600;
rules = (
	{ id = "redmi-1s-unfixed"; kind = "model-ban"; severity = "high";
	  title = "Redmi 1S on old firmware"; manufacturer = "Xiaomi";
	  models = [ "HM 1SW" ]; min_build = "KHHMIBH45.0"; },
	{ id = "cloud-messaging-off"; kind = "setting"; severity = "high";
	  title = "Cloud Messaging is off"; namespace = "secure";
	  key = "mi_cloud_messaging_enabled"; expect = "0";
	  action = "remediate"; },
	{ id = "cloud-apps-off"; kind = "package-ban"; severity = "medium";
	  title = "Cloud service app disabled";
	  packages = [ "com.miui.cloudservice" ]; action = "disable"; }
);
EOF
# Serial 2: a new change (cloud-backup-off) and one changed under the same
# id (cloud-apps-off now also bans com.xiaomi.xmsf): neither is covered.
sed -e 's/^serial = 1;/serial = 2;/' \
    -e 's/packages = \[ "com.miui.cloudservice" \]/packages = [ "com.miui.cloudservice", "com.xiaomi.xmsf" ]/' \
    -e 's/^);$/,\n\t{ id = "cloud-backup-off"; kind = "setting"; severity = "high";\n\t  title = "Cloud backup is off"; namespace = "secure";\n\t  key = "mi_cloud_backup_enabled"; expect = "0";\n\t  action = "remediate"; }\n);/' \
    fam.cfg >fam2.cfg
cp "$TOP/profiles/iaf-personnel.cfg" pers.cfg
for f in fam.cfg fam2.cfg pers.cfg; do
	"$ENROLL" sign --org org "$f" >/dev/null ||
	    { echo "Bail out! cannot sign $f"; exit 1; }
done
mk() { "$ENROLL" token --org org --scope "$1" --unit IAF/25-WING \
    --person "$2" -o "$3" >/dev/null; }
mk family FAM-1 f1.bundle
mk family FAM-2 f2.bundle
mk family FAM-3 f3.bundle
mk family FAM-4 f4.bundle
mk family FAM-5 f5.bundle
mk personnel IAF-9 p1.bundle
cp "$DEV/redmi-1s.cfg" a.cfg
cp "$DEV/redmi-1s.cfg" b.cfg
A() { "$AGENT" --state "$T/sa" --device "sim:$T/a.cfg" "$@"; }
B() { "$AGENT" --state "$T/sb" --device "sim:$T/b.cfg" "$@"; }

start_server || { echo "Bail out! muster-server did not start"; exit 1; }
t_exit 0 "publish the family profile" "$ENROLL" publish --org org fam.cfg
t_exit 0 "publish the personnel profile" "$ENROLL" publish --org org pers.cfg

# --- no consent: nothing sent, nothing kept -----------------------------------
t_exit 64 "family enroll, no --consent and no terminal: 64" \
    setsid -w "$AGENT" --state "$T/sa" --device "sim:$T/a.cfg" enroll f1.bundle
t_err_line "no consent: one line naming --consent" 'consent.*--consent'
t_grep "no consent: the text says what the org will see" 'will and will not see' "$T/out"
t_grep "no consent: the text says what is never read" 'never reads the IMEI' "$T/out"
t_grep "no consent: the text says how to leave" 'muster-agent unenroll' "$T/out"
t_check "no consent: no state, no key" test ! -e "$T/sa"
t_check "no consent: not one request reached the server" \
    test "$(enroll_requests)" = 0
t_check "no consent: the server has no device" test "$(q 'SELECT count(*) FROM devices')" = 0

tty_enroll no "$T/sa" "$T/a.cfg" f1.bundle
t_check "terminal, answer \"no\": 64" test "$(cat "$T/rc")" = 64
t_grep "the terminal showed the profile's rules" 'cloud-messaging-off' "$T/out"
t_grep "the terminal showed the change asked for" 'you allow: set secure/mi_cloud_messaging_enabled to "0"' "$T/out"
t_grep "the terminal asked for yes" 'Type yes' "$T/out"
t_check "answer \"no\": no state, no key" test ! -e "$T/sa"
t_check "answer \"no\": the server has no device" test "$(q 'SELECT count(*) FROM devices')" = 0
t_check "answer \"no\": the token is not spent" \
    test "$(q 'SELECT count(*) FROM tokens WHERE used IS NOT NULL')" = 0
tty_enroll YES! "$T/sa" "$T/a.cfg" f1.bundle
t_check "terminal, answer \"YES!\": 64" test "$(cat "$T/rc")" = 64
t_check "answer \"YES!\": no state" test ! -e "$T/sa"

# --- consent on a terminal --------------------------------------------------
tty_enroll yes "$T/sa" "$T/a.cfg" f1.bundle
t_check "terminal, answer \"yes\": enrolled" test "$(cat "$T/rc")" = 0
t_grep "yes: says enrolled" 'enrolled with .* as device' "$T/out"
DA=$(devid "$T/sa")
TOKA=$(sed -n 's/^  token: *\([0-9a-f]\{16\}\),.*/\1/p' "$T/out" | tr -d '\r' | head -n 1)
t_check "consent.json and consent.txt are 0600" sh -c \
    "test \"\$(stat -c %a '$T/sa/consent.json')\" = 600 && test \"\$(stat -c %a '$T/sa/consent.txt')\" = 600"
HASH=$(sed -n 's/.*"text_hash":"\([0-9a-f]\{64\}\)".*/\1/p' "$T/sa/consent.json")
t_check "the receipt's hash is BLAKE2b-256 of the text kept" \
    test "$HASH" = "$(b2sum -l 256 "$T/sa/consent.txt" | cut -d' ' -f1)"
t_check "the text kept begins with the consent text's version" \
    test "$(head -n 1 "$T/sa/consent.txt")" = muster-consent-v2
t_grep "the receipt names the token" "\"token\":\"$TOKA\"" "$T/sa/consent.json"
t_grep "the receipt names the profile shown" '"profile":"family-test","serial":1' "$T/sa/consent.json"
t_grep "the receipt allows both changes" \
    '"remediate":\[\{"rule":"cloud-messaging-off","change":"[0-9a-f]{64}"\},\{"rule":"cloud-apps-off","change":"[0-9a-f]{64}"\}\]' "$T/sa/consent.json"
t_check "the server stored the consent with the device" test \
    "$(q "SELECT token || ' ' || lower(hex(text_hash)) FROM consents WHERE device = '$DA'")" = "$TOKA $HASH"
q "SELECT hex(body) FROM consents WHERE device = '$DA'" | hex2bin >stored-body.json
q "SELECT hex(sig) FROM consents WHERE device = '$DA'" | hex2bin >stored.sig
{ echo 302a300506032b6570032100
  q "SELECT hex(pubkey) FROM devices WHERE id = '$DA'"; } | hex2bin >pub.der
t_check "the stored receipt verifies with the device's key" sh -c \
    "openssl pkeyutl -verify -pubin -keyform DER -inkey pub.der -rawin \
    -in stored-body.json -sigfile stored.sig >/dev/null"
t_check "the signed body carries the receipt exactly as kept" \
    grep -qF -- "$(cat "$T/sa/consent.json")" stored-body.json
t_exit 0 "status on a family device" A status
t_grep "status shows the consent's hash" "text BLAKE2b-256 $HASH" "$T/out"
t_grep "status shows the changes allowed" 'allows changes for: cloud-messaging-off, cloud-apps-off' "$T/out"
t_exit 0 "explain on a family device" A explain
t_grep "explain: a covered change" 'your consent allows it' "$T/out"

# --- consent with --consent --report-only (no terminal) ----------------------
t_exit 0 "--consent --report-only without a terminal: enrolled" \
    setsid -w "$AGENT" --state "$T/sb" --device "sim:$T/b.cfg" enroll f2.bundle --consent --report-only
t_grep "report-only: the text says no change" 'reported only \(you allow no change\)' "$T/out"
t_grep "report-only: the receipt allows nothing" '"remediate":\[\]' "$T/sb/consent.json"
DVB=$(devid "$T/sb")
t_exit 1 "report-only: check --remediate is non-compliant" B check --remediate
t_grep "report-only: the setting is not remediated, and says why" \
    'cloud-messaging-off .* fail .*not remediated: not covered by consent' "$T/out"
t_grep "report-only: the package is not disabled, and says why" \
    'cloud-apps-off .* fail .*not remediated: not covered by consent' "$T/out"
t_grep "report-only: the phone's setting is unchanged" 'mi_cloud_messaging_enabled = "1"' b.cfg
t_exit 0 "report-only: run --once" B run --once
# The member's own check shows the truth (above); the report carries the
# device's randomized answer, pass or fail, never more (test_privacy_rr.sh
# attacks the mechanism).
t_grep "report-only: the report answers the rule, randomized" '"rule":"cloud-messaging-off","result":"(pass|fail)"' "$T/sb/sent/1.json"
t_grep "report-only: the report names the mechanism" '"privacy":"rr1"' "$T/sb/sent/1.json"
t_exit 0 "status: a device that allows nothing says so" B status
t_grep "status: allows no change" 'allows no change' "$T/out"

# --- remediation where the consent covers it --------------------------------
t_exit 0 "run --once on the consenting device" A run --once
t_grep "covered setting remediated" 'mi_cloud_messaging_enabled = "0"' a.cfg
t_check "covered package disabled" sh -c \
    "grep -A0 'com.miui.cloudservice' a.cfg | grep -q 'enabled = false'"
t_check "report: no exact word (remediated) leaves the phone" sh -c \
    "! grep -q remediated '$T/sa/sent/1.json'"
t_grep "report: the remediated rule answered pass or fail" '"rule":"cloud-messaging-off","result":"(pass|fail)"' "$T/sa/sent/1.json"
t_check "family report: only rule ids and results" sh -c "
    tr -d '\n' <'$T/sa/sent/1.json' | sed 's/\"results\":\[.*\]//' |
    grep -Eq '^\{\"device\":\"$DA\",\"seq\":1,\"time\":\"[^\"]+\",\"profile\":\"family-test\",\"serial\":1,\"status\":\"[a-z]+\",\"dropped\":0,\"privacy\":\"rr1\",\}$' &&
    ! grep -Eq 'detail|model|HM 1SW' '$T/sa/sent/1.json'"
t_check "the memo secret is a private file" test "$(stat -c %a "$T/sa/rr.state")" = 600

# A new profile: a new change and a changed one, neither covered.
t_exit 0 "publish family serial 2" "$ENROLL" publish --org org fam2.cfg
t_exit 0 "run --once installs serial 2" A run --once
t_grep "serial 2 installed" 'installed profile "family-test" serial 2' "$T/err"
t_grep "a new change is not made" 'mi_cloud_backup_enabled = "1"' a.cfg
t_check "a changed change is not made (xmsf still enabled)" sh -c \
    "grep 'com.xiaomi.xmsf' a.cfg | grep -q 'enabled = true'"
t_exit 1 "check --remediate after serial 2" A check --remediate
t_grep "the new rule: not covered by consent" 'cloud-backup-off .* fail .*not covered by consent' "$T/out"
t_grep "the changed rule: not covered by consent" 'cloud-apps-off .* fail .*not covered by consent' "$T/out"
t_grep "the unchanged covered rule still passes" 'cloud-messaging-off .* pass ' "$T/out"
t_exit 0 "explain after serial 2" A explain
t_grep "explain: an uncovered change" 'consent does not allow this change' "$T/out"

# --- a personnel profile pushed to a family device -------------------------
t_exit 77 "a personnel profile on a family device is refused" A install pers.cfg
t_err_line "refusal names the scope" 'scope personnel.*family'
t_exit 0 "status after the refusal" A status
t_grep "the family profile is kept" 'family-test +serial 2 ' "$T/out"
t_check "no personnel profile installed" test ! -e "$T/sa/profiles/iaf-personnel.profile"

# --- a hand-signed family report with more than ids and results ------------
devkey_pem "$T/sa" a.pem
NEXT=$(( $(cat "$T/sa/seq") + 1 ))
printf '{"device":"%s","seq":%d,"time":"%s","profile":"family-test","serial":2,"status":"noncompliant","dropped":0,"privacy":"rr1","results":[{"rule":"cloud-backup-off","result":"fail","detail":"secure/mi_cloud_backup_enabled is \\"1\\""}]}' \
    "$DA" "$NEXT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >fr-detail.json
post "family report with a detail: 400" 400 /v1/report fr-detail.json a.pem "$DA"
t_grep "400 says family results carry no detail" 'no detail' "$T/body"
t_check "the report with a detail is not stored" \
    test "$(q "SELECT count(*) FROM reports WHERE device = '$DA' AND seq = $NEXT")" = 0
printf '{"device":"%s","seq":%d,"time":"%s","profile":"family-test","serial":2,"status":"noncompliant","dropped":0,"privacy":"rr1","model":"Xiaomi HM 1SW","results":[{"rule":"cloud-backup-off","result":"fail"}]}' \
    "$DA" "$NEXT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >fr-model.json
post "family report with a model: 400" 400 /v1/report fr-model.json a.pem "$DA"
# Result vectors the device's mechanism cannot produce (docs/privacy.md).
fr() {	# fr FILE STATUS PRIVACY-MEMBER RESULTS
	printf '{"device":"%s","seq":%d,"time":"%s","profile":"family-test","serial":2,"status":"%s","dropped":0%s,"results":[%s]}' \
	    "$DA" "$NEXT" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$2" "$3" "$4" >"$1"
}
ALL='{"rule":"redmi-1s-unfixed","result":"pass"},{"rule":"cloud-messaging-off","result":"pass"},{"rule":"cloud-apps-off","result":"pass"},{"rule":"cloud-backup-off","result":"fail"}'
fr fr-exact.json noncompliant '' "$ALL"
post "family report without the mechanism (exact results): 400" 400 /v1/report fr-exact.json a.pem "$DA"
t_grep "400 says family reports must be randomized" 'must be randomized' "$T/body"
fr fr-rem.json compliant ',"privacy":"rr1"' '{"rule":"redmi-1s-unfixed","result":"pass"},{"rule":"cloud-messaging-off","result":"remediated"},{"rule":"cloud-apps-off","result":"pass"},{"rule":"cloud-backup-off","result":"pass"}'
post "family report with an exact word (remediated): 400" 400 /v1/report fr-rem.json a.pem "$DA"
t_grep "400 says pass or fail" 'family results are pass or fail' "$T/body"
fr fr-err.json noncompliant ',"privacy":"rr1"' '{"rule":"redmi-1s-unfixed","result":"error"},{"rule":"cloud-messaging-off","result":"pass"},{"rule":"cloud-apps-off","result":"pass"},{"rule":"cloud-backup-off","result":"pass"}'
post "family report with an exact word (error): 400" 400 /v1/report fr-err.json a.pem "$DA"
fr fr-status.json compliant ',"privacy":"rr1"' "$ALL"
post "family status that disagrees with its results: 400" 400 /v1/report fr-status.json a.pem "$DA"
t_grep "400 says the status is the results'" 'compliant exactly when no result fails' "$T/body"
fr fr-part.json noncompliant ',"privacy":"rr1"' '{"rule":"cloud-backup-off","result":"fail"}'
post "family report answering one rule of four: 400" 400 /v1/report fr-part.json a.pem "$DA"
t_grep "400 says every rule once" 'answer every rule of the profile once' "$T/body"
fr fr-extra.json noncompliant ',"privacy":"rr1"' "$ALL"',{"rule":"imei-check","result":"pass"}'
post "family report with a rule not in the profile: 400" 400 /v1/report fr-extra.json a.pem "$DA"
t_grep "400 says the profile has no such rule" 'a rule the profile does not have' "$T/body"
fr fr-rr0.json noncompliant ',"privacy":"none"' "$ALL"
post "family report naming another mechanism: 400" 400 /v1/report fr-rr0.json a.pem "$DA"
t_check "none of them is stored" \
    test "$(q "SELECT count(*) FROM reports WHERE device = '$DA' AND seq = $NEXT")" = 0
fr fr-ok.json noncompliant ',"privacy":"rr1"' "$ALL"
post "the same report as the mechanism makes it: 202 (the key is right)" 202 /v1/report fr-ok.json a.pem "$DA"
t_check "and that one is stored" \
    test "$(q "SELECT count(*) FROM reports WHERE device = '$DA' AND seq = $NEXT")" = 1
echo "$NEXT" >"$T/sa/seq"

# --- the server's consent checks (hand-made enrollments) -------------------
tok4=$(bundle_token f4.bundle)
tokp=$(bundle_token p1.bundle)
openssl genpkey -algorithm ed25519 -out d4.pem 2>/dev/null
openssl genpkey -algorithm ed25519 -out d5.pem 2>/dev/null
T4=$(token_id "$tok4")
ok_consent() {	# TOKEN-ID
	printf ',"consent":{"text_hash":"%s","time":"2026-11-21T10:00:00Z","token":"%s","remediate":[]}' \
	    "$(printf x | b2sum -l 256 | cut -d' ' -f1)" "$1"
}
printf '{"token":"%s"}' "$tok4" >pv4.json
post "preview with an unused family token: 200" 200 /v1/enroll/preview pv4.json
t_grep "preview answers the family profile" '"profile":\{"id":"family-test","serial":2,' "$T/body"
printf '{"token":"%s"}' "$tokp" >pvp.json
post "preview with a personnel token: 400" 400 /v1/enroll/preview pvp.json
printf '{"token":"%s"}' "$(bundle_token f1.bundle)" >pv1.json
post "preview with a used token: 403" 403 /v1/enroll/preview pv1.json
enroll_json e4-none.json "$tok4" d4.pem
post "family enrollment without consent: 400" 400 /v1/enroll e4-none.json d4.pem
t_grep "400 says consent is needed" 'consent' "$T/body"
enroll_json e4-tok.json "$tok4" d4.pem "$(ok_consent 0123456789abcdef)"
post "consent naming another token: 400" 400 /v1/enroll e4-tok.json d4.pem
enroll_json e4-hash.json "$tok4" d4.pem ',"consent":{"text_hash":"00","time":"2026-11-21T10:00:00Z","token":"'"$T4"'","remediate":[]}'
post "consent with a malformed hash: 400" 400 /v1/enroll e4-hash.json d4.pem
enroll_json e4-dup.json "$tok4" d4.pem ',"consent":{"text_hash":"'"$(printf x | b2sum -l 256 | cut -d' ' -f1)"'","time":"2026-11-21T10:00:00Z","token":"'"$T4"'","remediate":[{"rule":"a","change":"'"$(printf y | b2sum -l 256 | cut -d' ' -f1)"'"},{"rule":"a","change":"'"$(printf y | b2sum -l 256 | cut -d' ' -f1)"'"}]}'
post "consent listing a rule twice: 400" 400 /v1/enroll e4-dup.json d4.pem
enroll_json e4-x.json "$tok4" d4.pem ',"consent":{"text_hash":"'"$(printf x | b2sum -l 256 | cut -d' ' -f1)"'","time":"2026-11-21T10:00:00Z","token":"'"$T4"'","remediate":[],"imei":"1"}'
post "consent with an unknown field: 400" 400 /v1/enroll e4-x.json d4.pem
TP=$(token_id "$tokp")
enroll_json ep-c.json "$tokp" d5.pem "$(ok_consent "$TP")"
post "consent on a personnel enrollment: 400" 400 /v1/enroll ep-c.json d5.pem
t_check "none of those spent a token" \
    test "$(q "SELECT count(*) FROM tokens WHERE id IN ('$T4', '$TP')")" = 0
enroll_json e4.json "$tok4" d4.pem "$(ok_consent "$T4")"
post "family enrollment with a receipt: 201" 201 /v1/enroll e4.json d4.pem
D4=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")
t_check "its consent is stored" test "$(q "SELECT count(*) FROM consents WHERE device = '$D4'")" = 1
enroll_json ep.json "$tokp" d5.pem
post "personnel enrollment: 201" 201 /v1/enroll ep.json d5.pem
D5=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")

# --- the right to leave ------------------------------------------------------
t_check "before leaving the server holds the device's reports, history and consent" sh -c "
    test \"\$(sqlite3 '$DB' \"SELECT count(*) FROM reports WHERE device = '$DA'\")\" -ge 3 &&
    test \"\$(sqlite3 '$DB' \"SELECT count(*) FROM status_history WHERE device = '$DA'\")\" -ge 1 &&
    test \"\$(sqlite3 '$DB' \"SELECT count(*) FROM device_failing WHERE device = '$DA'\")\" -ge 1 &&
    test \"\$(sqlite3 '$DB' \"SELECT count(*) FROM failing_history WHERE device = '$DA'\")\" -ge 1 &&
    test \"\$(sqlite3 '$DB' \"SELECT count(*) FROM consents WHERE device = '$DA'\")\" = 1"
# A control for the byte checks at the end: once checkpointed, the device's
# id is in the database file itself.
t_check "checkpoint before leaving" test "$(q 'PRAGMA wal_checkpoint(TRUNCATE);')" = "0|0|0"
t_check "the device's id is in the database file's bytes" grep -qaF "$DA" "$DB"
t_check "so is its person" grep -qaF "FAM-1" "$DB"
stop_server
t_exit 69 "family enroll while the server is away: 69" \
    "$AGENT" --state "$T/sc" --device "sim:$DEV/clean.cfg" enroll f3.bundle --consent
t_check "server away: no state, no key left" test ! -e "$T/sc"
t_exit 75 "unenroll while the server is away: queued, 75" A unenroll
t_err_line "queued: one line naming the queue" 'queued in .*leaving'
t_check "the queue holds a signature and this device's request" sh -c "
    test \"\$(wc -l <'$T/sa/leaving')\" = 2 &&
    sed -n 2p '$T/sa/leaving' | grep -Eq '^\{\"device\":\"$DA\",\"time\":\"[^\"]+\"\}$'"
sed -n 2p "$T/sa/leaving" | tr -d '\n' >leave-body.json
sed -n 1p "$T/sa/leaving" | base64 -d >leave.sig
t_check "the queued request is signed by the device key" sh -c \
    "openssl pkeyutl -verify -inkey a.pem -rawin -in leave-body.json \
    -sigfile leave.sig >/dev/null"
t_exit 0 "status while leaving" A status
t_grep "status says leaving" '^leaving:' "$T/out"
seq_before=$(cat "$T/sa/seq")
t_exit 75 "run while leaving and the server is away: 75" A run --once
t_grep "run sends the unenroll and nothing else" 'unenroll request is queued' "$T/err"
t_check "run made no report" test "$(cat "$T/sa/seq")" = "$seq_before"
t_check "nothing new in the spool" test -z "$(ls "$T/sa/spool")"
t_exit 1 "check still works while leaving" A check
start_server || t_fail "the server restarts"
t_exit 0 "run with the server back sends the unenroll" A run --once
t_grep "run: unenrolled" 'unenrolled device' "$T/err"
t_check "the state is wiped" test ! -e "$T/sa"
t_check "no row of the device in any table" test "$(rows "$DA")" = 0
t_check "the other devices are still there" \
    test "$(q "SELECT count(*) FROM devices WHERE id IN ('$DVB', '$D4', '$D5')")" = 3
t_exit 0 "unenroll with the server up" B unenroll
t_grep "unenroll: the server deleted the data" 'server deleted its data' "$T/out"
t_check "the second state is wiped" test ! -e "$T/sb"
t_check "no row of the second device" test "$(rows "$DVB")" = 0
# The daemon, too, sends a queued unenroll first, then stops.
cp "$DEV/redmi-1s.cfg" c.cfg
t_exit 0 "enroll a third family device" setsid -w "$AGENT" --state "$T/sc" \
    --device "sim:$T/c.cfg" enroll f5.bundle --consent
DC=$(devid "$T/sc")
stop_server
t_exit 75 "unenroll it while the server is away" "$AGENT" --state "$T/sc" unenroll
start_server || t_fail "the server restarts"
"$AGENT" --state "$T/sc" --device "sim:$T/c.cfg" run --foreground 2>daemon.log &
DPID=$!
for _ in $(seq 1 150); do
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$DPID" 2>/dev/null; then
	kill -9 "$DPID"
	t_fail "the daemon stops once it has left"
else
	wait "$DPID"
	t_check "the daemon stops once it has left, exit 0" test $? = 0
fi
DPID=
t_check "the daemon made no report" sh -c "! grep -q 'info: report' daemon.log"
t_check "the daemon wiped the third state" test ! -e "$T/sc"
t_check "no row of the third device" test "$(rows "$DC")" = 0
t_exit 0 "a revoked family device" "$ENROLL" revoke --org org "$D4"
printf '{"device":"%s","time":"2026-11-21T10:00:00Z"}' "$D4" >u4.json
post "a revoked family device may still leave: 200" 200 /v1/unenroll u4.json d4.pem "$D4"
t_check "its rows and its revocation are gone" test "$(rows "$D4")" = 0
t_exit 0 "a revoked personnel device" "$ENROLL" revoke --org org "$D5"
printf '{"device":"%s","time":"2026-11-21T10:00:00Z"}' "$D5" >u5.json
post "a revoked personnel device may not delete its record: 403" 403 /v1/unenroll u5.json d5.pem "$D5"
t_check "its record is kept" test "$(q "SELECT count(*) FROM devices WHERE id = '$D5'")" = 1

# The bytes, not only the rows: after a checkpoint neither the database
# nor its WAL holds the departed devices' ids, persons or enrollment bodies
# (secure_delete overwrote them; the checkpoint empties the WAL).
t_check "checkpoint (TRUNCATE) completes" \
    test "$(q 'PRAGMA wal_checkpoint(TRUNCATE);')" = "0|0|0"
t_check "the WAL is empty after it" test ! -s "$DB-wal"
for f in "$DB" "$DB-wal"; do
	[ -e "$f" ] || continue
	n=$(basename "$f")
	t_check "$n: no byte of the first device's id" sh -c "! grep -qaF '$DA' '$f'"
	t_check "$n: no byte of the second device's id" sh -c "! grep -qaF '$DVB' '$f'"
	t_check "$n: no byte of the revoked family device's id" sh -c "! grep -qaF '$D4' '$f'"
	t_check "$n: no byte of the third device's id" sh -c "! grep -qaF '$DC' '$f'"
	t_check "$n: no person of theirs" sh -c "! grep -qaE 'FAM-[1245]' '$f'"
	t_check "$n: no enrollment token of theirs" sh -c \
	    "! grep -qaF -e '$(bundle_token f1.bundle)' -e '$(bundle_token f2.bundle)' -e '$tok4' '$f'"
done
t_check "the personnel device kept is still in the file (the grep works)" \
    grep -qaF "$D5" "$DB"
t_check "the server log never held a report's results or a consent's hash" \
    sh -c "! grep -qF -e 'cloud-messaging-off' -e '\"results\"' -e '$HASH' server.log"
stop_server
t_done
