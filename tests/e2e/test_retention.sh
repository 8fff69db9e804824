#!/bin/bash
# Issue 15, bounded storage (docs/operations.md, "Retention"):
#  - a week of simulated hourly reports from unchanged devices, through
#    the real store and its pruning (tests/tools/storegrow, a simulated
#    clock), grows the store by no more than STORE_BOUND bytes a report
#    once the retention window is full, against about 1.4 KB a report
#    kept for ever before retention (the same tool, retention off); a
#    status change keeps its report for good (at most CHANGE_BOUND);
#  - a real server on loopback with report_retention = "2s": raw reports
#    are pruned in the background while reports keep arriving, the
#    newest report and the report of every status change stay, the
#    latter still verifiable with the device's public key (openssl), and
#    the roll-up, now and --as-of, answers the same after pruning.
# Every wait is bounded; the server is killed by its pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
GROW="$MUSTER_BIN/../tests/tools/storegrow"
STORE_BOUND=32		# bytes a report, a week after the window filled
CHANGE_BOUND=2048	# bytes a status change (its report kept as evidence)
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

# --- a week of hourly reports ------------------------------------------------
if [ -x "$GROW" ]; then
	"$GROW" "$T/grow-off" 50 7 0 >off.out 2>&1
	"$GROW" "$T/grow-on" 50 7 24 4 >on.out 2>&1
	off=$(awk '$1 == "unchanged" { print $4 }' off.out)
	on=$(awk '$1 == "unchanged" { print $4 }' on.out)
	chg=$(awk '$1 == "changes" { print $4 }' on.out)
	n=$(awk '$1 == "unchanged" { print $2 }' on.out)
	echo "# a week, 50 devices hourly ($n reports): retention off $off B/report, 24 h retention $on B/report; $chg B per status change"
	t_check "retention off: every report kept (> 1000 B a report: $off)" \
	    awk -v v="$off" 'BEGIN { exit !(v > 1000) }'
	t_check "24 h retention: a week grew <= $STORE_BOUND B a report ($on)" \
	    awk -v v="$on" -v b="$STORE_BOUND" 'BEGIN { exit !(v <= b) }'
	t_check "a status change keeps its report: <= $CHANGE_BOUND B ($chg)" \
	    awk -v v="$chg" -v b="$CHANGE_BOUND" 'BEGIN { exit !(v > 1000 && v <= b) }'
	t_check "the store after a week is private" \
	    test "$(stat -c %a "$T/grow-on/muster.db")" = 600
else
	t_skip "store growth (tests/tools/storegrow is not built)"
fi

for tool in sqlite3 openssl curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "live retention tests ($tool is not installed)"
		t_done
		exit 0
	fi
done
if [ ! -x "$SERVER" ]; then
	t_skip "live retention tests (muster-server is not built)"
	t_done
	exit 0
fi

# --- a live server prunes --------------------------------------------------
t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
sed -i 's/^data_dir = "data";/data_dir = "data";\nreport_retention = "1h";/' \
    org/server.cfg
PIN=$(cat org/server.pin)
DB=org/data/muster.db
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
R() { "$SERVER" report --config org/server.cfg "$@"; }
q() { sqlite3 "file:$DB?mode=ro" "$1"; }
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
report() {
	printf '{"device":"%s","seq":%s,"time":"%s","profile":"iaf-personnel",'\
'"serial":1,"status":"%s","dropped":0,"model":"Xiaomi HM 1SW","results":'\
'[{"rule":"redmi-1s-unfixed","result":"%s"}]}' "$D" "$2" "$(now)" "$3" "$4" >"$1"
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
start
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null &&
    "$ENROLL" publish --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the profile"; exit 1; }
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-R1 -o b.cfg >/dev/null 2>&1
openssl genpkey -algorithm ed25519 -out dev.pem 2>/dev/null
openssl pkey -in dev.pem -pubout -out dev.pub 2>/dev/null
printf '{"token":"%s","device_key":"%s","model":"Xiaomi HM 1SW"}' \
    "$(sed -n 's/^token = "\(.*\)";$/\1/p' b.cfg)" "$(pubkey dev.pem)" >e.json
post /v1/enroll e.json dev.pem
t_check "enroll: 201" test "$CODE" = 201
D=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")

# compliant 1, 2; noncompliant from 3 (the change) to 6.
declare -a AT
for seq in 1 2 3 4 5 6; do
	if [ "$seq" -lt 3 ]; then report r$seq.json $seq compliant pass
	else report r$seq.json $seq noncompliant fail; fi
	post /v1/report r$seq.json dev.pem "$D"
	[ "$CODE" = 202 ] || echo "# seq $seq: HTTP $CODE"
	sleep 1.1
	AT[$seq]=$(now)
	sleep 0.5
done
t_check "six reports stored" test "$(q "SELECT max(seq) FROM reports WHERE device = '$D'")" = 6
for seq in 1 2 3 4 5 6; do
	R --as-of "${AT[$seq]}" --format csv >asof-$seq.before 2>&1
done
R --format csv >now.before 2>&1
t_check "an hour's retention: nothing pruned yet" \
    test "$(q "SELECT count(*) FROM reports WHERE device = '$D'")" = 6
# The same store under a server whose window is 2 s.
stop
sed -i 's/^report_retention = .*/report_retention = "2s";/' org/server.cfg
start
# Bounded: the pass after the window (2 s) comes within a second or two.
for _ in $(seq 1 50); do
	[ "$(q "SELECT count(*) FROM reports WHERE device = '$D'")" = 3 ] && break
	sleep 0.2
done
kept=$(q "SELECT group_concat(seq) FROM (SELECT seq FROM reports WHERE device = '$D' ORDER BY seq)")
t_check "pruned: kept the first, the change and the newest (1,3,6: $kept)" \
    test "$kept" = "1,3,6"
t_check "history kept (2 status changes)" \
    test "$(q "SELECT count(*) FROM status_history WHERE device = '$D'")" = 2
same=1
for seq in 1 2 3 4 5 6; do
	R --as-of "${AT[$seq]}" --format csv >asof-$seq.after 2>&1
	cmp -s asof-$seq.before asof-$seq.after || { same=0; diff asof-$seq.before asof-$seq.after | sed 's/^/# /'; }
done
t_check "--as-of answers the same after pruning (6 instants)" test "$same" = 1
# The operator sees it: /metrics counts the 3 reports pruned.
"${CURL[@]}" -H "Authorization: Bearer $(tr -d '\n' <org/admin.token)" "$U/metrics" >m.txt
t_check "metrics: 3 reports pruned, in batches, none failed, a last time" sh -c \
    "grep -qx 'muster_reports_pruned_total 3' m.txt && grep -Eq '^muster_prune_batches_total [1-9]' m.txt &&
     grep -qx 'muster_prune_failed_batches_total 0' m.txt && grep -Eq '^muster_prune_last_timestamp_seconds [0-9]+$' m.txt"
t_grep "... and at the change's instant: noncompliant" '^IAF/25-WING,1,0,1,0,0' asof-3.after
R --format csv >now.after 2>&1
t_check "the present roll-up is the same" cmp -s now.before now.after
# Evidence: the change's report, as stored, verifies with the device key.
q "SELECT writefile('ev.json', body) FROM reports WHERE device = '$D' AND seq = 3" >/dev/null
sign dev.pem r3.json | base64 -d >ev.sig
t_check "the change's report is kept byte for byte" cmp -s ev.json r3.json
t_check "... and verifies with the device's public key" sh -c \
    "openssl pkeyutl -verify -pubin -inkey dev.pub -rawin -in ev.json -sigfile ev.sig >/dev/null"
echo tampered >>ev.json
t_check "... a tampered copy does not" \
    sh -c "! openssl pkeyutl -verify -pubin -inkey dev.pub -rawin -in ev.json -sigfile ev.sig >/dev/null 2>&1"
# Ingest goes on while the pruner works; the duplicate of a pruned seq is
# a replay now (docs/protocol.md).
report r7.json 7 noncompliant fail
post /v1/report r7.json dev.pem "$D"
t_check "a report after pruning: 202" test "$CODE" = 202
post /v1/report r7.json dev.pem "$D"
t_check "its duplicate: 200" test "$CODE" = 200
post /v1/report r2.json dev.pem "$D"
t_check "a pruned seq sent again: 409 (never stored twice)" test "$CODE" = 409
t_check "the server logged no error" sh -c "! grep -q ' error' server.log"
t_check "config: report_retention \"0s\" is refused (78)" sh -c "
	sed 's/^report_retention = .*/report_retention = \"0s\";/' org/server.cfg >org/bad.cfg
	chmod 600 org/bad.cfg
	'$SERVER' report --config org/bad.cfg >/dev/null 2>&1; test \$? = 78"
stop
t_done
