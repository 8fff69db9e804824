#!/bin/bash
# Issue 12, "no identifier leaves any phone", at each of its three gates,
# as an operator or a device would try to get past them:
#  - muster-enroll lint, sign and publish refuse a profile whose setting
#    rule names secure/android_id, global/device_name or a serial number
#    (exit 65, one line naming file:line);
#  - signed by hand (a stock-minisign signature made with openssl from the
#    org key), the same profile is refused by the server's publish (422)
#    and by the agent's install (65), so no agent reads the value;
#  - the server refuses hand-signed reports that carry more than a result:
#    a rule the named profile does not have, a profile it never
#    published, a setting's value quoted past 32 bytes, an IMEI or a MAC
#    address in a detail (400, nothing stored), and takes the report an
#    agent writes (202);
#  - `muster-agent explain` lists every read the installed profile causes.
# Every wait is bounded; the server is killed by its recorded pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
DEV=$TOP/examples/devices
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

for tool in sqlite3 openssl curl b2sum perl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "identifier tests ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ]; then
	t_skip "identifier tests (muster-server is not built)"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
DB=org/data/muster.db
ADMIN=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
q() { sqlite3 "file:$DB?mode=ro" "$1"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
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
post() {
	local name=$1 want=$2 path=$3 file=$4 key=$5 dev=${6:-} sig
	sig=$(sign "$key" "$file")
	code "$name" "$want" -H 'Content-Type: application/json' \
	    -H "Muster-Signature: $sig" ${dev:+-H "Muster-Device: $dev"} \
	    --data-binary @"$file" "$U$path"
}
hex2bin() { perl -e 'local $/; $_ = <STDIN>; s/\s//g; print pack("H*", $_)'; }

# The org's secret key (minisign -W, unencrypted) as PEM for openssl: the
# seed follows "Ed", the KDF and checksum ids, salt, limits and key id.
{ printf '\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20'
  sed -n 2p org/org.key | base64 -d | tail -c +63 | head -c 32
} | openssl pkey -inform DER -out org.pem
# minisig FILE: FILE.minisig as stock minisign writes it (prehashed "ED":
# Ed25519 over BLAKE2b-512, the global signature over the signature and
# the trusted comment), made by hand, bypassing muster-enroll sign.
minisig() {
	local tc="timestamp:1700000000 file:$(basename "$1")"
	b2sum -l 512 "$1" | cut -d' ' -f1 | hex2bin >h.bin
	openssl pkeyutl -sign -inkey org.pem -rawin -in h.bin >s.bin
	{ printf 'ED'; sed -n 2p org/org.pub | base64 -d | head -c 10 |
	    tail -c 8; cat s.bin; } >sl.bin
	{ cat s.bin; printf '%s' "$tc"; } >g.in
	openssl pkeyutl -sign -inkey org.pem -rawin -in g.in >g.bin
	printf 'untrusted comment: signature from minisign secret key\n%s\ntrusted comment: %s\n%s\n' \
	    "$(base64 -w0 sl.bin)" "$tc" "$(base64 -w0 g.bin)" >"$1.minisig"
}
publish_json() {
	printf '{"profile":"%s","signature":"%s"}' "$(base64 -w0 "$1")" \
	    "$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$2" | awk '{printf "%s\\n", $0}')" >"$3"
}

# --- gate 1: lint, sign, publish ------------------------------------------
# idprof FILE NS KEY: the personnel profile with one more setting rule.
idprof() {
	sed -e 's/^serial = 1;/serial = 5;/' -e 's/^);$//' \
	    "$TOP/profiles/iaf-personnel.cfg" >"$1"
	cat >>"$1" <<EOF
	,{
		id = "who";
		kind = "setting";
		severity = "low";
		title = "Who is this";
		namespace = "$2";
		key = "$3";
		expect = "";
	}
);
EOF
}
idprof aid.cfg secure android_id
line=$(grep -n 'key = "android_id"' aid.cfg | cut -d: -f1)
t_exit 65 "lint of a rule reading secure/android_id: 65" "$ENROLL" lint aid.cfg
t_err_line "lint: one line at the key's line" \
    "aid.cfg:$line: rule \"who\": setting secure/android_id names an identifier"
for k in "global device_name" "secure bluetooth_address" \
    "global wifi_mac_address" "system ril.serialnumber" "global line1_number"; do
	idprof k.cfg $k
	t_exit 65 "lint of a rule reading ${k/ //}: 65" "$ENROLL" lint k.cfg
done
t_exit 65 "sign of it: 65" "$ENROLL" sign --org org aid.cfg
t_check "sign wrote no signature" test ! -e aid.cfg.minisig

"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 100); do
	"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ "$up" = 1 ] || { echo "Bail out! muster-server did not start"; exit 1; }

cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
minisig p.cfg
t_exit 0 "the hand signer's signature verifies (the harness works)" \
    "$ENROLL" verify --org org p.cfg
minisig aid.cfg
t_exit 65 "verify of the hand-signed identifier profile: 65" \
    "$ENROLL" verify --org org aid.cfg
t_exit 65 "publish of it: 65" "$ENROLL" publish --org org aid.cfg
publish_json aid.cfg aid.cfg.minisig pub-aid.json
code "the server refuses to publish it: 422" 422 -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $ADMIN" --data-binary @pub-aid.json "$AU/v1/admin/profile"
t_check "no profile published" test "$(q 'SELECT count(*) FROM profiles')" = 0

# --- gate 2: the agent ------------------------------------------------------
sed -e 's/mi_cloud_sync_enabled = "1";/&\n\t\tandroid_id = "SECRET-ANDROID-7f3a";/' \
    "$DEV/redmi-1s.cfg" >phone.cfg
t_check "the phone holds an Android ID" grep -q SECRET-ANDROID phone.cfg
A() { "$AGENT" --state "$T/sa" --device "sim:$T/phone.cfg" "$@"; }
t_exit 0 "agent trusts the org key" A trust --scope personnel org/org.pub
t_exit 65 "agent install of the hand-signed identifier profile: 65" \
    A install aid.cfg aid.cfg.minisig
t_err_line "install: one line naming the identifier" 'names an identifier'
t_exit 0 "agent install of the org's profile" A install p.cfg p.cfg.minisig
A check >check.out 2>&1
t_check "check shows no Android ID" sh -c "! grep -q SECRET-ANDROID check.out"

# --- explain: every read --------------------------------------------------
t_exit 0 "explain" A explain
t_grep "explain: every read, in total" 'Every read these profiles cause' "$T/out"
t_grep "explain: the model's property" 'property ro.product.manufacturer, ro.product.model' "$T/out"
t_grep "explain: a setting" '^  setting secure/mi_cloud_sync_enabled' "$T/out"
t_grep "explain: the package lists" 'pm list packages' "$T/out"
t_grep "explain: the socket table" 'open TCP connections' "$T/out"
t_grep "explain: no identifier can be read" 'No profile can make it read an identifier' "$T/out"
t_check "explain: each setting once" test \
    "$(grep -c '^  setting secure/mi_cloud_sync_enabled' "$T/out")" = 1

# --- gate 3: the server's report check ------------------------------------
"$ENROLL" publish --org org p.cfg >/dev/null 2>&1 ||
	{ "$ENROLL" sign --org org p.cfg >/dev/null && "$ENROLL" publish --org org p.cfg >/dev/null; }
t_check "the org's profile is published" test "$(q 'SELECT count(*) FROM profiles')" = 1
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-I1 -o b.cfg >/dev/null 2>&1
openssl genpkey -algorithm ed25519 -out dev.pem 2>/dev/null
printf '{"token":"%s","device_key":"%s","model":"Xiaomi HM 1SW"}' \
    "$(sed -n 's/^token = "\(.*\)";$/\1/p' b.cfg)" "$(pubkey dev.pem)" >e.json
post "enroll a personnel device" 201 /v1/enroll e.json dev.pem
D=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")
# rep FILE SEQ RESULTS [PROFILE]: a report of $D, timed now.  Each
# attack has a seq of its own, so that each would be stored on its own.
rep() {
	printf '{"device":"%s","seq":%s,"time":"%s","profile":"%s","serial":1,'\
'"status":"noncompliant","dropped":0,"model":"Xiaomi HM 1SW","results":[%s]}' \
	    "$D" "$2" "$(now)" "${4:-iaf-personnel}" "$3" >"$1"
}
rep x1.json 1 '{"rule":"android-id","result":"fail","detail":"secure/android_id is \"SECRET-ANDROID-7f3a\""}'
post "a result for a rule the profile does not have: 400" 400 /v1/report x1.json dev.pem "$D"
t_grep "400 says so" 'rule the profile does not have' "$T/body"
rep x2.json 2 '{"rule":"mi-cloud-sync-off","result":"fail","detail":"secure/mi_cloud_sync_enabled is \"Jane Doe, 12 Rose Lane, her Redmi\", expected \"0\""}'
post "a setting's value quoted past 32 bytes: 400" 400 /v1/report x2.json dev.pem "$D"
rep x3.json 3 '{"rule":"redmi-1s-unfixed","result":"fail","detail":"model \"HM 1SW\" is banned; IMEI 358240051111110"}'
post "an IMEI in a detail: 400" 400 /v1/report x3.json dev.pem "$D"
rep x4.json 4 '{"rule":"redmi-1s-unfixed","result":"fail","detail":"bt 00:1A:7D:DA:71:13"}'
post "a MAC address in a detail: 400" 400 /v1/report x4.json dev.pem "$D"
rep x5.json 5 '{"rule":"who","result":"fail"}' iaf-shadow
post "a profile the server never published: 400" 400 /v1/report x5.json dev.pem "$D"
t_check "nothing of them is stored" test \
    "$(q "SELECT count(*) FROM reports WHERE device = '$D'")" = 0
rep ok.json 6 '{"rule":"redmi-1s-unfixed","result":"fail","detail":"model \"HM 1SW\" is banned"},{"rule":"mi-cloud-sync-off","result":"fail","detail":"secure/mi_cloud_sync_enabled is \"0123456789abcdefghijklmnopqrstuv\"..., expected \"0\""}'
post "the report an agent writes: 202" 202 /v1/report ok.json dev.pem "$D"
t_check "the server's log holds no value" sh -c "! grep -q -e SECRET-ANDROID -e 'Jane Doe' server.log"

kill -TERM "$SPID"
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
t_done
