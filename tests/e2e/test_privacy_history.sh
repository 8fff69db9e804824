#!/bin/bash
# Issue 12, "history that cannot be rewritten", as a device that wants to
# rewrite it would try: hand-signed reports (openssl and curl, as
# tests/e2e/test_server.sh sends them) from an enrolled personnel device.
# A later seq back-dated before the device's previous report, one in the
# year 9999 and one three hours old are refused 400 (the window's answer
# gives the server's time), and nothing of them is stored; `--as-of T`
# taken before them answers the same after them.  `--as-of` before the
# store's first record (the epoch included) and on a store with no record
# is exit 65 with one line, and 400 over GET /v1/admin/rollup.  Every wait
# is bounded; the server is killed by its recorded pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

for tool in sqlite3 openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "history tests ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ]; then
	t_skip "history tests (muster-server is not built)"
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
R() { "$SERVER" report --config org/server.cfg "$@"; }
q() { sqlite3 "file:$DB?mode=ro" "$1"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }

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
# post NAME WANT PATH FILE KEY [DEVICE]: a signed device POST.
post() {
	local name=$1 want=$2 path=$3 file=$4 key=$5 dev=${6:-} sig
	sig=$(sign "$key" "$file")
	code "$name" "$want" -H 'Content-Type: application/json' \
	    -H "Muster-Signature: $sig" ${dev:+-H "Muster-Device: $dev"} \
	    --data-binary @"$file" "$U$path"
}
# report FILE SEQ TIME STATUS RESULT: a report of device $D on the
# personnel profile's Redmi ban, as an agent writes it.
report() {
	printf '{"device":"%s","seq":%s,"time":"%s","profile":"iaf-personnel",'\
'"serial":1,"status":"%s","dropped":0,"model":"Xiaomi HM 1SW","results":'\
'[{"rule":"redmi-1s-unfixed","result":"%s"}]}' "$D" "$2" "$3" "$4" "$5" >"$1"
}

"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 300); do	# 30 s: a sanitizer build on a busy machine
	"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ "$up" = 1 ] || {
	echo "Bail out! muster-server did not start"
	sed 's/^/# /' server.log | tail -n 5
	exit 1
}

# --- a store with no record: no past to answer from -----------------------
t_exit 65 "--as-of on a store with no record: 65" R --as-of "$(now)"
t_err_line "no record: one line" 'no record yet'

cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null &&
    "$ENROLL" publish --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the profile"; exit 1; }
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-H1 -o b.cfg >/dev/null 2>&1
openssl genpkey -algorithm ed25519 -out dev.pem 2>/dev/null
printf '{"token":"%s","device_key":"%s","model":"Xiaomi HM 1SW"}' \
    "$(sed -n 's/^token = "\(.*\)";$/\1/p' b.cfg)" "$(pubkey dev.pem)" >e.json
post "enroll a personnel device" 201 /v1/enroll e.json dev.pem
D=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")

report r1.json 1 "$(now)" compliant pass
post "report seq 1, timed now: 202" 202 /v1/report r1.json dev.pem "$D"
sleep 2
T0=$(now)
sleep 2
t_exit 0 "--as-of T (after seq 1)" R --as-of "$T0" --format csv
cp "$T/out" asof-unit-1.csv
t_exit 0 "--as-of T by rule" R --as-of "$T0" --by rule --format csv
cp "$T/out" asof-rule-1.csv
t_grep "as of T: one compliant device" '^IAF/25-WING,1,1,0,0,0,0,no' asof-unit-1.csv

report r2.json 2 "$(now)" compliant pass
post "report seq 2, timed now (after T): 202" 202 /v1/report r2.json dev.pem "$D"

# --- the attacks ------------------------------------------------------------
back=$(date -u -d "$T0 1 second ago" +%Y-%m-%dT%H:%M:%SZ)
report r3.json 3 "$back" noncompliant fail
post "seq 3 back-dated to just before T (before seq 2's time): 400" \
    400 /v1/report r3.json dev.pem "$D"
t_grep "400 says the time is before the previous report" 'before the device' "$T/body"
report r4.json 4 9999-12-31T23:59:59Z noncompliant fail
post "seq 4 in the year 9999: 400" 400 /v1/report r4.json dev.pem "$D"
t_grep "400 says the time is out of window" 'out of window' "$T/body"
t_grep "400 gives the server's time" '"server_time":"20[0-9][0-9]-[0-9-]{5}T[0-9:]{8}Z"' "$T/body"
report r5.json 5 "$(date -u -d '3 hours ago' +%Y-%m-%dT%H:%M:%SZ)" noncompliant fail
post "seq 5 three hours old (past the stale window): 400" 400 /v1/report r5.json dev.pem "$D"
t_grep "400 for an old time is the window's too" 'out of window' "$T/body"
report r6.json 6 "$(date -u -d '10 minutes' +%Y-%m-%dT%H:%M:%SZ)" noncompliant fail
post "seq 6 ten minutes ahead of the server's clock: 400" 400 /v1/report r6.json dev.pem "$D"
t_check "nothing of seq 3 to 6 is stored" test \
    "$(q "SELECT count(*) FROM reports WHERE device = '$D' AND seq > 2")" = 0
t_check "the device's newest report is still seq 2" test \
    "$(q "SELECT last_seq || last_status FROM devices WHERE id = '$D'")" = 2compliant
t_check "status history: one row, compliant" test \
    "$(q "SELECT group_concat(status) FROM status_history WHERE device = '$D'")" = compliant
t_check "no failing history" test \
    "$(q "SELECT count(*) FROM failing_history WHERE device = '$D'")" = 0
# A refused report is not revocation: the device goes on reporting.
report r7.json 7 "$(now)" noncompliant fail
post "seq 7, timed now: 202 (the device is not cut off)" 202 /v1/report r7.json dev.pem "$D"

t_exit 0 "--as-of T again" R --as-of "$T0" --format csv
t_check "--as-of T answers as before the attacks (by unit)" cmp -s asof-unit-1.csv "$T/out"
t_exit 0 "--as-of T by rule again" R --as-of "$T0" --by rule --format csv
t_check "--as-of T answers as before the attacks (by rule)" cmp -s asof-rule-1.csv "$T/out"
t_exit 0 "the present shows seq 7" R --format csv
t_grep "now: one noncompliant device" '^IAF/25-WING,1,0,1,0,0,0,no' "$T/out"

# --- --as-of before the first record ----------------------------------------
t_exit 65 "--as-of 2020, before the first record: 65" R --as-of 2020-01-01T00:00:00Z
t_err_line "before the first record: one line naming it" \
    "before the store's first record \\(20[0-9-]{8}T"
t_exit 65 "--as-of the epoch (not the present): 65" R --as-of 1970-01-01T00:00:00Z
t_err_line "the epoch: one line" "before the store's first record"
code "GET /v1/admin/rollup as_of 2020: 400" 400 \
    -H "Authorization: Bearer $ADMIN" \
    "$AU/v1/admin/rollup?by=unit&format=csv&as_of=2020-01-01T00:00:00Z"
t_grep "400 names the first record" "before the store's first record" "$T/body"
code "GET /v1/admin/rollup as_of the epoch: 400" 400 \
    -H "Authorization: Bearer $ADMIN" \
    "$AU/v1/admin/rollup?as_of=1970-01-01T00:00:00Z"

kill -TERM "$SPID"
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
t_done
