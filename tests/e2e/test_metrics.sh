#!/bin/bash
# /metrics of a real server on loopback over pinned TLS, scraped as an
# operator's Prometheus would: `promtool check metrics` accepts every
# scrape; every family is there with sane values (build info, start time,
# the certificate's notAfter as openssl reads it, the profile's and
# manifest's expiry, store and WAL size); devices by scope and status
# equal `muster-server report --by scope --format json` (three real
# agents: compliant, noncompliant, never run; four family devices, below
# k, withheld); after a load of signed reports (tests/tools/ingest -m:
# 404s, 413s, duplicates and bad signatures among them) the writer's
# batches and commits have moved, the report route's histogram has
# counted them, every histogram's buckets are monotone with _count = +Inf;
# connections over max_per_ip are counted as refused; the device gauges
# are cached (two scrapes inside METRICS_FLEET_TTL give one count).
# docs/alerts.yml passes `promtool check rules` and the alert unit tests
# of tests/e2e/alerts_test.yml.  About 30 s; every wait is bounded; the
# server is killed by its recorded pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
INGEST="$MUSTER_BIN/../tests/tools/ingest"
DEV=$TOP/examples/devices
SPID=
HOLD=
cleanup() {
	[ -n "$SPID" ] && kill -9 "$SPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

if [ ! -x "$SERVER" ]; then
	t_skip "muster-server not built"
	t_done
	exit 0
fi
if ! command -v promtool >/dev/null; then
	echo "Bail out! promtool is missing (Debian package prometheus; scripts/deps.sh installs it)"
	exit 1
fi

# --- the rules, without a server ------------------------------------------
t_exit 0 "promtool check rules docs/alerts.yml" \
    promtool check rules "$TOP/docs/alerts.yml"
t_exit 0 "promtool test rules: each alert fires when it should, only then" \
    promtool test rules "$TOP/tests/e2e/alerts_test.yml"

# --- the server -------------------------------------------------------------
t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
sed -i -e 's/max_per_ip = [0-9]*/max_per_ip = 8/' org/server.cfg
CURL=(curl -s --max-time 10 --cacert org/server.crt
    --pinnedpubkey "$(cat org/server.pin)")
"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 100); do
	[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = ok ] && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
if [ "$up" != 1 ]; then
	echo "Bail out! muster-server did not start"
	sed 's/^/# /' server.log
	exit 1
fi

# scrape FILE: GET /metrics into FILE; promtool must accept it.
N_SCRAPE=0
scrape() {
	N_SCRAPE=$((N_SCRAPE + 1))
	"${CURL[@]}" -H "Authorization: Bearer $(tr -d "\n" <org/admin.token)" -o "$1" -w "%{http_code}" "$U/metrics" >code || true
	[ "$(cat code)" = 200 ] || return 1
	promtool check metrics <"$1" >promtool.out 2>&1 || {
		sed 's/^/# promtool: /' promtool.out | head -n 20
		return 1
	}
}
# v FILE SERIES: the value of the sample exactly named SERIES ("" if none).
v() { awk -v s="$2" '$1 == s { print $2; exit }' "$1"; }
# t_val NAME FILE SERIES TEST VALUE: e.g. t_val "x" m.txt foo -ge 1
t_val() {
	local got
	got=$(v "$2" "$3")
	if [ -n "$got" ] && [ "${got%%.*}" "$4" "$5" ] 2>/dev/null; then
		t_ok "$1 ($3 = $got)"
	else
		t_fail "$1 ($3 = ${got:-absent}, wanted $4 $5)"
	fi
}

t_check "first scrape: 200 and promtool check metrics accepts it" \
    scrape m0.txt
t_val "build info" m0.txt 'muster_build_info{version="0.1.0"}' -eq 1
now=$(date +%s)
st=$(v m0.txt process_start_time_seconds)
t_check "process_start_time_seconds is this server's start (${st:-none}, now $now)" \
    test -n "$st" -a "${st:-0}" -le "$now" -a "${st:-0}" -ge $((now - 60))
na=$(date -d "$(openssl x509 -in org/server.crt -noout -enddate | cut -d= -f2)" +%s)
t_val "certificate notAfter as openssl reads it" m0.txt \
    muster_tls_certificate_not_after_timestamp_seconds -eq "$na"
t_val "store size" m0.txt muster_store_size_bytes -ge 4096
t_val "WAL size reported" m0.txt muster_store_wal_size_bytes -ge 0
t_val "writer queue empty at rest" m0.txt muster_writer_queue_depth -eq 0
for r in connection_limit body_too_large rate_limited unavailable; do
	t_val "refusals counted from zero: $r" m0.txt \
	    "muster_refused_total{reason=\"$r\"}" -eq 0
done
t_val "an empty fleet: no device never reported" m0.txt \
    'muster_devices{scope="personnel",status="never"}' -eq 0

# --- a fleet: a profile (and its manifest), real agents ----------------------
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org p.cfg >/dev/null && "$ENROLL" sign --org org f.cfg >/dev/null
t_exit 0 "publish the personnel profile" "$ENROLL" publish --org org p.cfg
t_exit 0 "publish the family profile" "$ENROLL" publish --org org f.cfg

# device NAME SCOPE UNIT SIM [run]: enrolls a copy of sim SIM, runs it once.
device() {
	local name=$1 scope=$2 unit=$3 sim=$4 run=${5:-} consent=
	[ "$scope" = family ] && consent=--consent
	cp "$DEV/$sim.cfg" "$name.cfg"
	"$ENROLL" token --org org --scope "$scope" --unit "$unit" \
	    --person "$name" -o "$name.bundle" >/dev/null || return 1
	"$AGENT" --state "st-$name" --device "sim:$T/$name.cfg" enroll \
	    "$name.bundle" $consent >"$name.log" 2>&1 || return 1
	[ -z "$run" ] && return 0
	"$AGENT" --state "st-$name" --device "sim:$T/$name.cfg" run --once \
	    >>"$name.log" 2>&1
}
ok=0
device P-REDMI personnel W1 redmi-1s run && ok=$((ok + 1))
device P-CLEAN personnel W1 clean run && ok=$((ok + 1))
device P-IDLE personnel W1 redmi-1s-fixed && ok=$((ok + 1))
for i in 1 2 3 4; do
	device "F-$i" family W1 clean run && ok=$((ok + 1))
done
t_check "7 devices enrolled and run (got $ok)" test "$ok" = 7
[ "$ok" = 7 ] || for f in *.log; do sed "s|^|# $f: |" "$f" | tail -n 3; done

# --- a load: signed reports and every kind of bad request ---------------------
if [ -x "$INGEST" ]; then
	timeout 120 "$INGEST" -m org "$U" 5 20 4 >ingest.out 2>ingest.err
	rc=$?
	sed 's/^/# /' ingest.err | head -n 5
	t_check "ingest: 100 reports and 100 other requests as expected (exit $rc)" \
	    test "$rc" = 0
else
	t_fail "ingest not built ($INGEST): make test builds it"
fi

# --- connections over max_per_ip (8) are refused and counted ----------------
fds=()
for _ in $(seq 1 8); do
	exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" && fds+=("$fd")
done
sleep 0.3
refused=0
"${CURL[@]}" "$U/healthz" >/dev/null 2>&1 || refused=1
t_check "a ninth connection from 127.0.0.1 is refused (${#fds[@]} held)" \
    test "$refused" = 1
for fd in "${fds[@]}"; do exec {fd}>&-; done
for _ in $(seq 1 50); do
	[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = ok ] && break
	sleep 0.1
done

# --- the scrape after: fresh device gauges (the cache is 10 s) ---------------
last=$(date +%s)
fresh=0
for _ in $(seq 1 30); do
	scrape m1.txt || break
	c=$(v m1.txt muster_devices_counted_timestamp_seconds)
	[ -n "$c" ] && [ "$c" -ge "$last" ] && { fresh=1; break; }
	sleep 0.5
done
t_check "device gauges recounted after the load (counted ${c:-never}, load ended $last)" \
    test "$fresh" = 1
t_check "every scrape accepted by promtool check metrics ($N_SCRAPE)" scrape m2.txt
t_check "two scrapes within the cache's life give one count" test \
    "$(v m1.txt muster_devices_counted_timestamp_seconds)" = \
    "$(v m2.txt muster_devices_counted_timestamp_seconds)"

# every family present
for fam in muster_requests_total muster_http_request_duration_seconds \
    muster_refused_total muster_reports_stored_total muster_writer_queue_depth \
    muster_writer_batch_size muster_writer_commit_duration_seconds \
    muster_writer_failed_batches_total muster_devices_enrolled muster_devices \
    muster_devices_policy_stale muster_devices_family_withheld \
    muster_devices_counted_timestamp_seconds \
    muster_devices_count_duration_seconds muster_store_size_bytes \
    muster_store_wal_size_bytes \
    muster_tls_certificate_not_after_timestamp_seconds \
    muster_manifest_expiry_seconds muster_manifest_expiry_timestamp_seconds \
    muster_profile_expiry_timestamp_seconds process_start_time_seconds \
    muster_build_info muster_reports_pruned_total muster_prune_batches_total \
    muster_prune_failed_batches_total muster_audit_entries \
    muster_audit_refused_total muster_audit_refused_entries_total; do
	grep -q "^# TYPE $fam " m1.txt && grep -Eq "^$fam(_bucket|_sum|_count)?(\{| )" m1.txt ||
	    { t_fail "family $fam present"; continue; }
	t_ok "family $fam present"
done
t_check "no unit label anywhere (family figures at the organisation's level)" \
    sh -c "! grep -q 'unit=' m1.txt"

# devices by scope and status, as `report --by scope --format json` says
"$SERVER" report --config org/server.cfg --by scope --format json >rollup.json
for scope in personnel family; do
	statuses="compliant noncompliant stale never"
	# family compliance is randomized on the phone: only an estimate
	[ "$scope" = family ] && statuses="stale never"
	for status in $statuses; do
		want=$(python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
print([g for g in d["groups"] if g["scope"]==sys.argv[2]][0][sys.argv[3]])' \
		    rollup.json "$scope" "$status" 2>/dev/null)
		t_val "devices $scope $status as the roll-up (${want:-?})" m1.txt \
		    "muster_devices{scope=\"$scope\",status=\"$status\"}" \
		    -eq "${want:--1}"
	done
done
t_val "personnel: the clean device compliant, and ingest's" m1.txt \
    'muster_devices{scope="personnel",status="compliant"}' -ge 1
t_val "personnel: the Redmi 1S noncompliant" m1.txt \
    'muster_devices{scope="personnel",status="noncompliant"}' -ge 1
t_val "personnel: the idle device never reported" m1.txt \
    'muster_devices{scope="personnel",status="never"}' -eq 1
t_val "four family devices: withheld" m1.txt muster_devices_family_withheld -eq 1
t_val "four family devices: not counted" m1.txt \
    'muster_devices{scope="family",status="reporting"}' -eq 0
t_check "no family compliance status (randomized on the phone)" \
    sh -c '! grep -q "scope=\"family\",status=\"\(non\)\{0,1\}compliant\"" m1.txt'
t_val "devices enrolled: 3 + 4 + ingest's 5" m1.txt muster_devices_enrolled -eq 12

# the writer moved
stored=$(v m1.txt muster_reports_stored_total)
t_check "reports stored: the agents' and ingest's (${stored:-none})" \
    test "${stored:-0}" -ge 102
t_val "writer batches counted" m1.txt muster_writer_batch_size_count -ge 1
t_check "jobs in batches cover every report stored" \
    test "$(v m1.txt muster_writer_batch_size_sum)" -ge "${stored:-1}"
t_check "commit latency counted once per batch" test \
    "$(v m1.txt muster_writer_commit_duration_seconds_count)" = \
    "$(v m1.txt muster_writer_batch_size_count)"
t_val "writer queue drained" m1.txt muster_writer_queue_depth -eq 0
t_val "no failed batch" m1.txt muster_writer_failed_batches_total -eq 0

# the requests
t_val "report route timed (202s and the rest)" m1.txt \
    'muster_http_request_duration_seconds_count{route="report"}' -ge 102
t_val "every 202 under some bucket" m1.txt \
    'muster_http_request_duration_seconds_bucket{route="report",le="10"}' -ge 100
t_val "404s counted under other" m1.txt \
    'muster_requests_total{route="other",status="404"}' -ge 1
t_val "413s counted as refused: body_too_large" m1.txt \
    'muster_refused_total{reason="body_too_large"}' -ge 1
t_val "the ninth connection: refused by connection_limit" m1.txt \
    'muster_refused_total{reason="connection_limit"}' -ge 1

# histograms: buckets in increasing le, counts never falling, +Inf = _count
awk '
	/^#/ { next }
	/_bucket\{/ {
		key = $1; sub(/le="[^"]*"/, "", key)
		le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
		lev = (le == "+Inf") ? 1e308 : le + 0
		if ((key in lastle) && (lev <= lastle[key] || $2 + 0 < lastv[key])) {
			print "not monotone: " $0; bad = 1
		}
		lastle[key] = lev; lastv[key] = $2 + 0
		if (le == "+Inf") { inf[key] = $2 }
		next
	}
	/_count[{ ]/ {
		key = $1; sub(/_count/, "_bucket", key)
		if (key !~ /\{/) key = key "{}"
		sub(/\}$/, "", key); key = key ",}"; sub(/\{,/, "{", key)
		cnt[key] = $2
	}
	END {
		for (k in inf) if (!(k in cnt) || cnt[k] != inf[k]) {
			print "+Inf != _count: " k " " inf[k] " " cnt[k]; bad = 1
		}
		n = 0; for (k in inf) n++
		if (n < 3) { print "only " n " histograms"; bad = 1 }
		exit bad
	}' m1.txt >hist.out
t_check "histograms: monotone buckets, +Inf = _count ($(grep -c 'le="+Inf"' m1.txt) series)" \
    test ! -s hist.out
sed 's/^/# /' hist.out | head -n 5

# expiry: the profile's as its file says, the manifest's ahead
pe=$(date -d "$(sed -n 's/^expires *= *"\(.*\)";/\1/p' p.cfg)" +%s)
t_val "profile expiry as p.cfg says" m1.txt \
    'muster_profile_expiry_timestamp_seconds{scope="personnel"}' -eq "$pe"
t_val "manifest expiry ahead" m1.txt \
    'muster_manifest_expiry_timestamp_seconds{scope="personnel"}' -gt "$now"

# the bounds: wrong admin credentials counted, the audit log's size
r1=$(v m1.txt muster_audit_refused_total)
urls=()
for _ in $(seq 1 20); do urls+=("$U/metrics"); done
"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $(printf '%064d' 3)" \
    "${urls[@]}" >/dev/null 2>&1
t_check "scrape after 20 wrong credentials" scrape m3.txt
t_val "the 20 refusals counted" m3.txt muster_audit_refused_total -eq $((${r1:-0} + 20))
t_val "their entries bounded (5 a minute and address, and summaries)" \
    m3.txt muster_audit_refused_entries_total -le $((${r1:-0} + 12))
ae=$(sqlite3 -cmd '.timeout 5000' org/data/muster.db 'SELECT max(seq) FROM audit' 2>/dev/null)
t_val "audit entries as the store holds them (${ae:-?})" m3.txt \
    muster_audit_entries -eq "${ae:--1}"
t_val "retention: no batch failed" m3.txt muster_prune_failed_batches_total -eq 0

kill -TERM "$SPID"
for _ in $(seq 1 100); do
	kill -0 "$SPID" 2>/dev/null || { wait "$SPID"; SPID=; break; }
	sleep 0.1
done
t_check "server stops" test -z "$SPID"
t_check "server logged no error" sh -c "! grep -q 'error:' server.log"
t_done
