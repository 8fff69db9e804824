#!/bin/bash
# Issue 15, per-device limits, as a thief with one stolen bundle and as
# an honest device would meet them (docs/protocol.md, "Rate limits"):
# a real server on loopback with real TLS and a real SQLite store.
#  - the thief: hand-signed maximal reports (openssl and curl, as
#    tests/e2e/test_privacy_history.sh signs them) posted as fast as one
#    client can for a few seconds, first with the limits off (the
#    baseline growth), then on: 429 with Retry-After once over the
#    burst, the refused reports not stored, the store growing by no more
#    than the burst and the day's quota allow; a report larger than the
#    whole quota waits a day;
#  - the honest device: the real agent (sim device) reporting faster
#    than its rate, told 429, keeping its reports spooled and delivering
#    every one later, in order, none lost.
# Every wait and loop is bounded; the server is killed by its pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
AGENT="$MUSTER_BIN/muster-agent"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

for tool in sqlite3 openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "rate limit tests ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ]; then
	t_skip "rate limit tests (muster-server is not built)"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
DB=org/data/muster.db
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
q() { sqlite3 "file:$DB?mode=ro" "$1"; }
sign() { openssl pkeyutl -sign -inkey "$1" -rawin -in "$2" | base64 -w0; }
pubkey() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }
# post WANT-VAR PATH FILE KEY [DEVICE]: a signed POST; status in $CODE,
# headers in $T/hdr, body in $T/body.
post() {
	local path=$1 file=$2 key=$3 dev=${4:-} sig
	sig=$(sign "$key" "$file")
	CODE=$("${CURL[@]}" -o "$T/body" -D "$T/hdr" -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H "Muster-Signature: $sig" \
	    ${dev:+-H "Muster-Device: $dev"} --data-binary @"$file" \
	    "$U$path" 2>"$T/cerr")
}
# limits RATE BURST QUOTA: the server's per-device limits.
limits() {
	sed -i -e 's/ device_rate = [0-9]*; device_burst = [0-9]*; device_quota = [0-9]*;//' \
	    -e "s/threads = 4;/threads = 4; device_rate = $1; device_burst = $2; device_quota = $3;/" \
	    org/server.cfg
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
# enroll NAME: a personnel device with an openssl key NAME.pem; id in $D.
enroll() {
	"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
	    --person "IAF-$1" -o "$1.bundle" >/dev/null 2>&1
	openssl genpkey -algorithm ed25519 -out "$1.pem" 2>/dev/null
	printf '{"token":"%s","device_key":"%s","model":"Xiaomi HM 1SW"}' \
	    "$(sed -n 's/^token = "\(.*\)";$/\1/p' "$1.bundle")" \
	    "$(pubkey "$1.pem")" >"$1.json"
	post /v1/enroll "$1.json" "$1.pem"
	D=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")
}
# big FILE DEVICE SEQ: a maximal report, every rule with a 250-byte detail.
DETAIL=$(printf 'x%.0s' $(seq 1 250))
big() {
	local r rules="redmi-1s-unfixed mi-cloud-sync-off cloud-messaging-off cloud-backup-off vendor-cloud-packages no-vendor-cloud-egress android-4-4-4" res=
	for r in $rules; do
		res="$res${res:+,}{\"rule\":\"$r\",\"result\":\"fail\",\"detail\":\"$DETAIL\"}"
	done
	printf '{"device":"%s","seq":%s,"time":"%s","profile":"iaf-personnel","serial":1,"status":"noncompliant","dropped":0,"model":"Xiaomi HM 1SW","results":[%s]}' \
	    "$2" "$3" "$(now)" "$res" >"$1"
}
# flood DEVICE KEY SECONDS: posts maximal reports, new seqs, as fast as
# one client can; counts in $N_ACC (202) and $N_429.
flood() {
	local seq=0 end=$((SECONDS + $3))
	N_ACC=0 N_429=0
	while [ "$SECONDS" -lt "$end" ] && [ "$seq" -lt 2000 ]; do
		seq=$((seq + 1))
		big fl.json "$1" "$seq"
		post /v1/report fl.json "$2" "$1"
		case $CODE in
		202) N_ACC=$((N_ACC + 1)) ;;
		429) N_429=$((N_429 + 1)) ;;
		*) echo "# flood: HTTP $CODE $(head -c 200 "$T/body")" ;;
		esac
	done
	N_SENT=$seq
}
stored_bytes() { q "SELECT coalesce(sum(length(body)), 0) FROM reports WHERE device = '$1'"; }

cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot sign the profile"; exit 1; }

# --- baseline: the limits off --------------------------------------------
limits 0 1 0
start
"$ENROLL" publish --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the profile"; exit 1; }
enroll thief0
t_check "enroll the baseline device: 201" test "$CODE" = 201
big one.json "$D" 1
SIZE=$(stat -c %s one.json)
flood "$D" thief0.pem 3
BASE=$(stored_bytes "$D")
t_check "limits off: every flooded report stored ($N_ACC of $N_SENT)" \
    test "$N_ACC" = "$N_SENT" -a "$N_429" = 0
echo "# limits off: $N_SENT maximal reports ($SIZE bytes) in 3 s, $BASE bytes of reports stored"
stop

# --- the limits on: 1 report per 5 s, a burst of 2, 6000 bytes a day -----
limits 720 2 6000
start
enroll thief
t_check "enroll the thief's device: 201" test "$CODE" = 201
TD=$D
flood "$TD" thief.pem 3
GOT=$(stored_bytes "$TD")
echo "# limits on: $N_SENT maximal reports in 3 s, $N_ACC taken, $N_429 refused 429, $GOT bytes stored (baseline $BASE)"
t_check "the burst was taken (2 reports)" test "$N_ACC" = 2
t_check "every report over the burst was refused 429 ($N_429)" \
    test "$N_429" = $((N_SENT - 2))
t_check "the store grew by no more than the quota ($GOT <= 6000 bytes)" \
    test "$GOT" -le 6000
t_check "nothing refused was stored" \
    test "$(q "SELECT count(*) FROM reports WHERE device = '$TD'")" = 2
t_grep "429 says Retry-After" '^[Rr]etry-[Aa]fter: [0-9]+' "$T/hdr"
t_grep "429 body says retry_after" '"retry_after":[0-9]+' "$T/body"
RA=$(sed -n 's/^[Rr]etry-[Aa]fter: \([0-9]*\).*/\1/p' "$T/hdr")
# 2 x ~2 KB of 6000 taken: the third waits for about a third of a day.
t_check "the quota's Retry-After is hours ($RA s)" test "${RA:-0}" -gt 3600

# A report larger than the whole day's quota: a day.
enroll thief2
limits 720 2 1500
stop
start
big huge.json "$D" 1
post /v1/report huge.json thief2.pem "$D"
t_check "a report larger than the quota: 429" test "$CODE" = 429
t_grep "... Retry-After a day" '^[Rr]etry-[Aa]fter: 86400' "$T/hdr"
# A device's signature must verify before it is charged: a forged one
# spends nothing of the device's budget.
limits 720 1 0
stop
start
enroll honest
HD=$D
for i in 1 2 3; do
	big forged.json "$HD" "$i"
	CODE=$("${CURL[@]}" -o /dev/null -w '%{http_code}' \
	    -H 'Content-Type: application/json' \
	    -H "Muster-Signature: $(sign thief.pem forged.json)" \
	    -H "Muster-Device: $HD" --data-binary @forged.json \
	    "$U/v1/report" 2>/dev/null)
done
t_check "a forged report is 401, not charged" test "$CODE" = 401
big ok.json "$HD" 1
post /v1/report ok.json honest.pem "$HD"
t_check "the device's own report after forgeries: 202" test "$CODE" = 202
stop

# --- the honest agent: over its rate, told 429, delivers everything later --
limits 720 2 0
start
S=$T/st
cp "$TOP/examples/devices/redmi-1s.cfg" dev.cfg
A() { "$AGENT" --state "$S" --device "sim:$T/dev.cfg" "$@"; }
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-AGENT -o agent.bundle >/dev/null 2>&1
t_exit 0 "the agent enrolls" A enroll agent.bundle
AD=$(sed -n 's/^device_id = "\(.*\)";/\1/p' "$S/agent.cfg")
saw429=0
runs=0
for i in 1 2 3 4; do
	A run --once >run$i.out 2>run$i.err
	runs=$((runs + 1))
	grep -q 'HTTP 429' run$i.err && saw429=1
done
t_check "the agent was told 429" test "$saw429" = 1
# Bounded: at most 30 s for the rate (one report per 5 s) to let the rest in.
for _ in $(seq 1 10); do
	left=$(ls "$S/spool" 2>/dev/null | grep -c '\.json$')
	[ "$left" = 0 ] && break
	sleep 3
	A run --once >last.out 2>last.err
	runs=$((runs + 1))
done
want=$(seq -s, 1 "$runs")
got=$(q "SELECT group_concat(seq) FROM (SELECT seq FROM reports WHERE device = '$AD' ORDER BY rowid)")
t_check "every report delivered, once and in order ($got)" test "$got" = "$want"
t_check "the spool is empty" test "$(ls "$S/spool" | grep -c '\.json$')" = 0
A log >log.out 2>&1
t_check "none was rejected" test "$(grep -c rejected log.out)" = 0
t_check "the agent's log lists them delivered" grep -q delivered log.out
stop
t_done
