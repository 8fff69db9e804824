#!/bin/bash
# muster-server on loopback: configuration checks, the HTTP gatekeeping
# (404, 405, 415, 413 by Content-Length and chunked), admin token, profile
# publication (signed by muster-enroll, refused when forged or rolled
# back), enrollment with muster-enroll tokens, signed GET and reports
# (stored, duplicate, replay), family limits, revocation, unenrollment,
# SIGHUP, and a SIGTERM that loses no acknowledged report.  Device keys
# and signatures come from the openssl CLI (Ed25519).  Every wait is
# bounded; the server is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

t_port

"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
# The first wave's server: one org key, no roots (test_trust_org.sh has
# the roots, manifests and roles).
t_first_wave org
if [ ! -f org/server.cfg ]; then
	echo "# muster-enroll init wrote no server.cfg: writing one here"
	hash=$(tr -d '\n' <org/admin.token | b2sum -l 256 | cut -d' ' -f1)
	cat >org/server.cfg <<EOF
listen = "127.0.0.1"; port = $PORT; tls_cert = "server.crt";
tls_key = "server.key"; org_key = "org.pub"; data_dir = "data";
admin_token_hash = "$hash";
log = "stderr"; log_level = "info";
limits = { max_body = 65536; max_connections = 512; max_per_ip = 64;
  connection_timeout = 15; connection_memory = 65536; threads = 4; };
EOF
	chmod 600 org/server.cfg
fi
PIN=$(cat org/server.pin)
ADMIN=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")

# code NAME WANT CURL-ARGS...: the HTTP status is WANT; body in $T/body.
code() {
	local name=$1 want=$2 got; shift 2
	got=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' "$@" 2>"$T/cerr")
	if [ "$got" = "$want" ]; then t_ok "$name"; else
		t_fail "$name (HTTP $got, wanted $want)"
		sed 's/^/# body: /' "$T/body" 2>/dev/null | head -n 5
		sed 's/^/# curl: /' "$T/cerr" | head -n 5
	fi
}

# Prints the base64 Ed25519 signature of file $2 by key $1.
sign() { openssl pkeyutl -sign -inkey "$1" -rawin -in "$2" | base64 -w0; }
# The base64 raw public key of key $1.
pubkey() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }

# post NAME WANT PATH FILE KEY [DEVICE]: a signed device POST.
post() {
	local name=$1 want=$2 path=$3 file=$4 key=$5 dev=${6:-} sig
	sig=$(sign "$key" "$file")
	code "$name" "$want" -H 'Content-Type: application/json' \
	    -H "Muster-Signature: $sig" ${dev:+-H "Muster-Device: $dev"} \
	    --data-binary @"$file" "$U$path"
}

# getp NAME WANT KEY DEVICE [TIME] [CURL-ARGS...]: a signed GET /v1/profile.
getp() {
	local name=$1 want=$2 key=$3 dev=$4 t=${5:-$(date -u +%Y-%m-%dT%H:%M:%SZ)} sig
	shift 4; [ $# -gt 0 ] && shift
	printf 'muster-get-v1\n/v1/profile\n%s\n' "$t" >get.txt
	sig=$(sign "$key" get.txt)
	code "$name" "$want" -H "Muster-Device: $dev" -H "Muster-Time: $t" \
	    -H "Muster-Signature: $sig" "$@" "$U/v1/profile"
}

# report FILE DEVICE SEQ STATUS RESULTS [EXTRA]: writes a report body,
# timed now, naming the profile $RPROF (default iaf-personnel) serial 1.
report() {
	printf '{"device":"%s","seq":%s,"time":"%s",'\
'"profile":"%s","serial":1,"status":"%s","dropped":0%s,'\
'"results":[%s]}' "$2" "$3" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	    "${RPROF:-iaf-personnel}" "$4" "${6:-}" "$5" >"$1"
}

# publish_json PROFILE SIG OUT: the admin publish body, built by hand.
publish_json() {
	printf '{"profile":"%s","signature":"%s"}' "$(base64 -w0 "$1")" \
	    "$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$2" | awk '{printf "%s\\n", $0}')" >"$3"
}

alive() {
	local b
	b=$("${CURL[@]}" "$U/healthz" 2>/dev/null)
	if [ "$b" = "ok" ]; then t_ok "server still up $1"; else
		t_fail "server still up $1"; fi
}

start_server() {
	"$SERVER" --config org/server.cfg 2>>server.log &
	SPID=$!
	for _ in $(seq 1 100); do
		[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = "ok" ] && return 0
		kill -0 "$SPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- command line and configuration ---------------------------------------
t_exit 0 "--help" "$SERVER" --help
t_grep "--help names --config" "--config" "$T/out"
t_exit 0 "--version" "$SERVER" --version
t_exit 64 "unknown option" "$SERVER" --bogus
t_exit 64 "stray argument" "$SERVER" extra
cp org/server.cfg loose.cfg; chmod 644 loose.cfg
t_exit 78 "config others can read" "$SERVER" --config loose.cfg
t_err_line "loose config: one line naming the file" "loose.cfg"
{ cat org/server.cfg; echo 'bogus_field = 1;'; } >org/unknown.cfg
chmod 600 org/unknown.cfg
t_exit 78 "unknown field" "$SERVER" --config org/unknown.cfg
t_err_line "unknown field: FILE:LINE" 'unknown.cfg:[0-9]+: unknown field "bogus_field"'
sed 's/^port = .*/port = "x";/' org/server.cfg >org/badtype.cfg
chmod 600 org/badtype.cfg
t_exit 78 "port of the wrong type" "$SERVER" --config org/badtype.cfg
t_err_line "wrong type: FILE:LINE" 'badtype.cfg:[0-9]+: .*port'
sed '/^admin_token_hash/d' org/server.cfg >org/nohash.cfg
chmod 600 org/nohash.cfg
t_exit 78 "missing admin_token_hash" "$SERVER" --config org/nohash.cfg
t_exit 78 "missing config file" "$SERVER" --config org/none.cfg

if ! start_server; then
	echo "Bail out! muster-server did not start"
	sed 's/^/# /' server.log
	exit 1
fi
t_ok "server starts and answers /healthz"
t_check "data dir is 0700" test "$(stat -c %a org/data)" = 700
t_check "database is 0600" test "$(stat -c %a org/data/muster.db)" = 600
if command -v ss >/dev/null; then
	ss -ltnH "sport = :$PORT" >listen.txt
	t_check "listens on 127.0.0.1 only" test "$(awk '{print $4}' listen.txt)" = "127.0.0.1:$PORT"
fi
t_exit 69 "a second server on the same port" "$SERVER" --config org/server.cfg
t_grep "cannot listen names the address" "cannot listen on 127.0.0.1:$PORT" "$T/err"

# --- gatekeeping ------------------------------------------------------------
code "healthz" 200 "$U/healthz"
t_grep "healthz says ok" '^ok$' "$T/body"
code "metrics without the admin token: 401" 401 "$U/metrics"
code "metrics" 200 -H "Authorization: Bearer $ADMIN" "$U/metrics"
t_grep "metrics counts healthz" 'muster_requests_total\{route="healthz",status="200"\} [0-9]+' "$T/body"
t_grep "metrics has the devices gauge" '^muster_devices_enrolled 0$' "$T/body"
t_grep "metrics has the stored counter" '^muster_reports_stored_total 0$' "$T/body"
code "unknown path: 404" 404 "$U/v2/nothing"
t_grep "404 body is a JSON error" '^\{"error":"[^"]+"\}$' "$T/body"
code "GET on a POST route: 405" 405 "$U/v1/report"
code "POST on a GET route: 405" 405 -X POST -H 'Content-Type: application/json' -d '{}' "$U/healthz"
code "wrong content type: 415" 415 -H 'Content-Type: text/plain' -d '{}' "$U/v1/report"
code "no content type: 415" 415 -H 'Content-Type:' -d '{}' "$U/v1/enroll"
head -c 70000 /dev/zero | tr '\0' 'a' >big.json
code "Content-Length over max_body: 413" 413 -H 'Content-Type: application/json' -H 'Expect: 100-continue' --data-binary @big.json "$U/v1/report"
code "chunked body over max_body: 413" 413 -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @big.json "$U/v1/report"
code "chunked admin body over max_body: 413" 413 -H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" -H 'Transfer-Encoding: chunked' --data-binary @big.json "$U/v1/admin/profile"
printf 'garbage' >garbage.json
code "garbage report, unsigned: 401" 401 -H 'Content-Type: application/json' --data-binary @garbage.json "$U/v1/report"
openssl genpkey -algorithm ed25519 -out dev1.pem 2>/dev/null
post "garbage enroll, signed: 400" 400 /v1/enroll garbage.json dev1.pem
printf '{"a":{"b":{"c":{"d":[[[[1]]]]}}}}' >deep.json
post "deep enroll JSON: 400" 400 /v1/enroll deep.json dev1.pem
printf '{"token":"x","token":"y","device_key":"AA=="}' >dup.json
post "duplicate keys: 400" 400 /v1/enroll dup.json dev1.pem
code "bad signature header: 401" 401 -H 'Content-Type: application/json' -H 'Muster-Device: 00112233445566778899aabbccddeeff' -H 'Muster-Signature: %%%' -d '{}' "$U/v1/report"
t_grep "a refused device signature is logged with the client's address" \
    'warn: refused the device signature of 127\.0\.0\.1 on POST report' server.log
alive "after bad input"

# --- administration: publish ----------------------------------------------
cp "$TOP/profiles/iaf-personnel.cfg" p1.cfg
sed 's/^serial = 1;/serial = 2;/' p1.cfg >p2.cfg
cp "$TOP/profiles/family-optin.cfg" fam.cfg
for f in p1 p2 fam; do "$ENROLL" sign --org org "$f.cfg" >/dev/null; done
publish_json p1.cfg p1.cfg.minisig pub1.json
publish_json p2.cfg p2.cfg.minisig pub2.json
publish_json fam.cfg fam.cfg.minisig pubf.json
code "publish without a token: 401" 401 -H 'Content-Type: application/json' --data-binary @pub1.json "$U/v1/admin/profile"
code "publish with a wrong token: 401" 401 -H 'Content-Type: application/json' -H "Authorization: Bearer $(printf '%064d' 0)" --data-binary @pub1.json "$U/v1/admin/profile"
t_grep "a refused admin token is logged with the client's address" \
    'warn: refused the admin credential of 127\.0\.0\.1 on POST admin_profile' server.log
t_check "the token itself is never logged" \
    sh -c "! grep -q '$(printf '%064d' 0)' server.log"
code "revoke without a token: 401" 401 -H 'Content-Type: application/json' -d '{"revocation":"x"}' "$U/v1/admin/revoke"
A=(-H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN")
code "publish serial 1: 201" 201 "${A[@]}" --data-binary @pub1.json "$U/v1/admin/profile"
code "publish the same again: 200" 200 "${A[@]}" --data-binary @pub1.json "$U/v1/admin/profile"
code "publish serial 2: 201" 201 "${A[@]}" --data-binary @pub2.json "$U/v1/admin/profile"
code "publish serial 1 after 2 (rollback): 409" 409 "${A[@]}" --data-binary @pub1.json "$U/v1/admin/profile"
{ cat p2.cfg; echo '# tampered'; } >p2t.cfg
publish_json p2t.cfg p2.cfg.minisig pubt.json
code "tampered profile: 422" 422 "${A[@]}" --data-binary @pubt.json "$U/v1/admin/profile"
"$ENROLL" init --org other --server "$U" --no-passphrase >/dev/null
"$ENROLL" sign --org other -o p1.other.minisig p1.cfg >/dev/null
publish_json p1.cfg p1.other.minisig pubo.json
code "profile signed by another org: 422" 422 "${A[@]}" --data-binary @pubo.json "$U/v1/admin/profile"
code "publish with malformed base64: 400" 400 "${A[@]}" -d '{"profile":"%%%","signature":"x"}' "$U/v1/admin/profile"
code "publish with an unknown field: 400" 400 "${A[@]}" -d '{"profile":"","signature":"","x":1}' "$U/v1/admin/profile"
code "publish family profile: 201" 201 "${A[@]}" --data-binary @pubf.json "$U/v1/admin/profile"
if "$ENROLL" publish --help >/dev/null 2>&1; then
	t_exit 0 "muster-enroll publish of the same profile" "$ENROLL" publish --org org p2.cfg
else
	echo "# muster-enroll publish not available: skipped"
fi
alive "after publishing"

# --- enrollment -------------------------------------------------------------
bundle_token() { sed -n 's/^token = "\(.*\)";$/\1/p' "$1"; }
enroll_json() {	# OUT TOKEN KEY [EXTRA]
	printf '{"token":"%s","device_key":"%s"%s}' "$2" "$(pubkey "$3")" \
	    "${4:-}" >"$1"
}
if "$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-1 -o b1.cfg >/dev/null 2>&1 &&
    "$ENROLL" token --org org --scope family --unit IAF/25-WING \
    --person FAM-1 -o b2.cfg >/dev/null 2>&1; then
	HAVE_TOKENS=1
else
	HAVE_TOKENS=0
	echo "# muster-enroll token is not available: enrollment, reports," \
	    "revocation and unenrollment are skipped"
fi

if [ "$HAVE_TOKENS" = 1 ]; then
	tok1=$(bundle_token b1.cfg)
	tok2=$(bundle_token b2.cfg)
	openssl genpkey -algorithm ed25519 -out dev2.pem 2>/dev/null
	openssl genpkey -algorithm ed25519 -out evil.pem 2>/dev/null
	enroll_json e1.json "$tok1" dev1.pem ',"model":"Xiaomi HM 1SW"'
	post "enroll signed by another key: 401" 401 /v1/enroll e1.json evil.pem
	post "enroll personnel: 201" 201 /v1/enroll e1.json dev1.pem
	D1=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")
	t_check "enroll answers a device id" test -n "$D1"
	t_grep "enroll answers the current profile" '"profile":\{"id":"iaf-personnel","serial":2,' "$T/body"
	post "same token again: 403" 403 /v1/enroll e1.json dev1.pem
	enroll_json e2m.json "$tok2" dev2.pem ',"model":"Xiaomi HM 1SW"'
	post "family enroll with a model: 400" 400 /v1/enroll e2m.json dev2.pem
	enroll_json e2n.json "$tok2" dev2.pem
	post "family enroll without a consent receipt: 400" 400 /v1/enroll e2n.json dev2.pem
	# A receipt (docs/protocol.md, "Family consent"), bound to the token.
	id2=$(b=$(printf '%s' "${tok2%%.*}" | tr '_-' '/+'); while [ $(( ${#b} % 4 )) -ne 0 ]; do b="$b="; done; printf '%s' "$b" | base64 -d | sed -n 's/^id=//p')
	consent=',"consent":{"text_hash":"'"$(printf x | b2sum -l 256 | cut -d' ' -f1)"'","time":"2026-11-21T10:00:00Z","token":"'"$id2"'","remediate":[]}'
	enroll_json e1c.json "$tok1" dev1.pem "$consent"
	post "a consent receipt on a personnel token: 400" 400 /v1/enroll e1c.json dev1.pem
	enroll_json e2.json "$tok2" dev2.pem "$consent"
	post "enroll family: 201" 201 /v1/enroll e2.json dev2.pem
	D2=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")
	t_grep "family enroll answers the family profile" '"id":"family-optin"' "$T/body"
	"$ENROLL" token --org other --scope personnel --unit U --person P \
	    -o bo.cfg >/dev/null 2>&1
	enroll_json eo.json "$(bundle_token bo.cfg)" dev1.pem
	post "token signed by another org: 403" 403 /v1/enroll eo.json dev1.pem
	enroll_json ef.json "x$tok1" dev1.pem
	post "malformed token: 400" 400 /v1/enroll ef.json dev1.pem

	# --- signed GET /v1/profile ---------------------------------------
	getp "GET profile: 200" 200 dev1.pem "$D1"
	t_grep "profile object has the serial" '"serial":2' "$T/body"
	getp "GET profile, If-None-Match current: 304" 304 dev1.pem "$D1" "" -H 'If-None-Match: "iaf-personnel:2"'
	getp "GET profile, If-None-Match old: 200" 200 dev1.pem "$D1" "" -H 'If-None-Match: "iaf-personnel:1"'
	# Clock skew is not a bad signature (issue 13): 400 with our time.
	getp "GET profile, time 10 minutes old: 400 (clock)" 400 dev1.pem "$D1" "$(date -u -d '-10 min' +%Y-%m-%dT%H:%M:%SZ)"
	t_grep "the clock answer gives the server's time" '^\{"error":"clock","server_time":"20[0-9-]{8}T[0-9:]{8}Z"\}' "$T/body"
	getp "GET profile, another key: 401" 401 evil.pem "$D1"
	getp "GET profile, unknown device: 403" 403 dev1.pem 00112233445566778899aabbccddeeff
	getp "GET family profile: 200" 200 dev2.pem "$D2"
	t_grep "family device gets the family profile" '"id":"family-optin"' "$T/body"

	# --- reports -----------------------------------------------------
	report r1.json "$D1" 1 noncompliant '{"rule":"redmi-1s-unfixed","result":"fail","detail":"model \"HM 1SW\" is banned"},{"rule":"mi-cloud-sync-off","result":"pass"}' ',"model":"Xiaomi HM 1SW"'
	post "report seq 1: 202" 202 /v1/report r1.json dev1.pem "$D1"
	post "report seq 1 again: 200" 200 /v1/report r1.json dev1.pem "$D1"
	report r1b.json "$D1" 1 compliant '{"rule":"redmi-1s-unfixed","result":"pass"}'
	post "report seq 1 other bytes: 409" 409 /v1/report r1b.json dev1.pem "$D1"
	t_grep "replay logged with the device id" "warn: .*$D1.*replay" server.log
	report r2.json "$D1" 2 compliant '{"rule":"redmi-1s-unfixed","result":"pass"}'
	post "report signed by another key: 401" 401 /v1/report r2.json evil.pem "$D1"
	post "report under another device's id: 401" 401 /v1/report r2.json dev2.pem "$D1"
	report rx.json "$D1" 2 compliant '{"rule":"a","result":"pass"}' ',"extra":1'
	post "report with an unknown field: 400" 400 /v1/report rx.json dev1.pem "$D1"
	report rw.json "$D1" '"2"' compliant '{"rule":"a","result":"pass"}'
	post "report with seq as a string: 400" 400 /v1/report rw.json dev1.pem "$D1"
	report rm.json "$D2" 2 compliant '{"rule":"a","result":"pass"}'
	post "report naming another device: 400" 400 /v1/report rm.json dev1.pem "$D1"
	report rr.json "$D1" 2 compliant '{"rule":"a","result":"maybe"}'
	post "report with a bad result: 400" 400 /v1/report rr.json dev1.pem "$D1"
	post "report seq 2: 202" 202 /v1/report r2.json dev1.pem "$D1"
	report f1.json "$D2" 1 noncompliant '{"rule":"redmi-1s-unfixed","result":"fail","detail":"x"}'
	post "family report with detail: 400" 400 /v1/report f1.json dev2.pem "$D2"
	report f2.json "$D2" 1 compliant '{"rule":"redmi-1s-unfixed","result":"pass"}' ',"model":"Xiaomi HM 1SW"'
	post "family report with a model: 400" 400 /v1/report f2.json dev2.pem "$D2"
	# A family report as the randomized response makes it: every rule of
	# the profile answered pass or fail, the mechanism named.
	RPROF=family-optin report f3.json "$D2" 1 compliant '{"rule":"redmi-1s-unfixed","result":"pass"},{"rule":"cloud-messaging-off","result":"pass"}' ',"privacy":"rr1"'
	post "family report: 202" 202 /v1/report f3.json dev2.pem "$D2"
	code "metrics after reports" 200 -H "Authorization: Bearer $ADMIN" \
	    "$U/metrics"
	t_grep "metrics: 3 reports stored" '^muster_reports_stored_total 3$' "$T/body"
	t_grep "metrics: 2 devices" '^muster_devices_enrolled 2$' "$T/body"
	t_grep "metrics: a 409 on report" 'muster_requests_total\{route="report",status="409"\} 1' "$T/body"
	t_check "server log has no token, key or signature" sh -c \
	    "! grep -qF -e '$tok1' -e '$(pubkey dev1.pem)' -e 'redmi-1s-unfixed' -e 'HM 1SW' server.log"
	alive "after reports"

	# --- revocation --------------------------------------------------
	if "$ENROLL" revoke --help >/dev/null 2>&1; then
		t_exit 0 "muster-enroll revoke a device" "$ENROLL" revoke --org org "$D1"
		report r3.json "$D1" 3 compliant '{"rule":"redmi-1s-unfixed","result":"pass"}'
		post "report from a revoked device: 403" 403 /v1/report r3.json dev1.pem "$D1"
		getp "GET profile from a revoked device: 403" 403 dev1.pem "$D1"
		"$ENROLL" token --org org --scope personnel --unit U --person P \
		    -o b3.cfg >b3.out 2>&1
		tid=$(sed -n 's/^token id: *\([0-9a-f]\{16\}\).*/\1/p' b3.out)
		t_exit 0 "muster-enroll revoke a token" "$ENROLL" revoke --org org "$tid"
		openssl genpkey -algorithm ed25519 -out dev3.pem 2>/dev/null
		enroll_json e3.json "$(bundle_token b3.cfg)" dev3.pem
		post "enroll with a revoked token: 403" 403 /v1/enroll e3.json dev3.pem
	else
		echo "# muster-enroll revoke not available: revocation skipped"
	fi
	code "revoke with a garbage revocation: 400" 400 "${A[@]}" -d '{"revocation":"x.y"}' "$U/v1/admin/revoke"

	# --- unenroll ----------------------------------------------------
	printf '{"device":"%s","time":"2026-11-21T10:00:00Z"}' "$D2" >u2.json
	post "unenroll signed by another key: 401" 401 /v1/unenroll u2.json evil.pem "$D2"
	post "unenroll: 200" 200 /v1/unenroll u2.json dev2.pem "$D2"
	post "unenroll again: 403" 403 /v1/unenroll u2.json dev2.pem "$D2"
	report f4.json "$D2" 2 compliant '{"rule":"redmi-1s-unfixed","result":"pass"}'
	post "report after unenroll: 403" 403 /v1/report f4.json dev2.pem "$D2"
	if command -v sqlite3 >/dev/null; then
		n=$(sqlite3 "file:org/data/muster.db?mode=ro" "SELECT (SELECT count(*) FROM reports WHERE device='$D2') + (SELECT count(*) FROM status_history WHERE device='$D2') + (SELECT count(*) FROM devices WHERE id='$D2')")
		t_check "unenroll deleted the device's rows" test "$n" = 0
	fi
fi

# --- SIGHUP -------------------------------------------------------------------
kill -HUP "$SPID"
for _ in $(seq 1 50); do grep -q "reloaded org key" server.log && break; sleep 0.1; done
t_grep "SIGHUP re-reads the org key" "reloaded org key [0-9A-F]{16}" server.log
alive "after SIGHUP"

# --- SIGTERM with reports in flight --------------------------------------------
if [ "$HAVE_TOKENS" = 1 ]; then
	"$ENROLL" token --org org --scope personnel --unit U --person P4 \
	    -o b4.cfg >/dev/null 2>&1
	openssl genpkey -algorithm ed25519 -out dev4.pem 2>/dev/null
	enroll_json e4.json "$(bundle_token b4.cfg)" dev4.pem
	post "enroll a fourth device" 201 /v1/enroll e4.json dev4.pem
	D4=$(sed -n 's/.*"device":"\([0-9a-f]\{32\}\)".*/\1/p' "$T/body")
	# Pre-sign 300 reports, then send them one after another.
	for s in $(seq 1 300); do
		report "s$s.json" "$D4" "$s" compliant '{"rule":"redmi-1s-unfixed","result":"pass"}'
		sign dev4.pem "s$s.json" >"s$s.sig"
	done
	(
		for s in $(seq 1 300); do
			c=$("${CURL[@]}" -o /dev/null -w '%{http_code}' \
			    -H 'Content-Type: application/json' \
			    -H "Muster-Device: $D4" \
			    -H "Muster-Signature: $(cat "s$s.sig")" \
			    --data-binary @"s$s.json" "$U/v1/report" 2>/dev/null)
			echo "$s $c"
			[ "$c" = 202 ] || break
		done >sent.log
	) &
	LOOP=$!
	for _ in $(seq 1 200); do
		[ "$(wc -l <sent.log 2>/dev/null || echo 0)" -ge 20 ] && break
		sleep 0.05
	done
	kill -TERM "$SPID"
	rc=
	for _ in $(seq 1 300); do
		if ! kill -0 "$SPID" 2>/dev/null; then wait "$SPID"; rc=$?; break; fi
		sleep 0.1
	done
	t_check "SIGTERM: exits 0" test "${rc:-none}" = 0
	[ -n "$rc" ] && SPID=
	for _ in $(seq 1 300); do kill -0 "$LOOP" 2>/dev/null || break; sleep 0.1; done
	kill "$LOOP" 2>/dev/null; wait "$LOOP" 2>/dev/null
	acked=$(awk '$2 == 202' sent.log | wc -l)
	echo "# $acked reports acknowledged before the stop"
	t_check "some reports were acknowledged" test "$acked" -ge 20
	if command -v sqlite3 >/dev/null; then
		stored=$(sqlite3 "file:org/data/muster.db?mode=ro" "SELECT count(*) FROM reports WHERE device='$D4'")
		maxok=$(awk '$2 == 202 { m = $1 } END { print m + 0 }' sent.log)
		have=$(sqlite3 "file:org/data/muster.db?mode=ro" "SELECT count(*) FROM reports WHERE device='$D4' AND seq <= $maxok")
		t_check "every acknowledged report is stored ($acked acked, $stored stored)" test "$have" = "$maxok" -a "$acked" = "$maxok"
	fi
	t_grep "stop logged" "info: stopped" server.log
else
	kill -TERM "$SPID"
	rc=
	for _ in $(seq 1 300); do
		if ! kill -0 "$SPID" 2>/dev/null; then wait "$SPID"; rc=$?; break; fi
		sleep 0.1
	done
	t_check "SIGTERM: exits 0" test "${rc:-none}" = 0
	[ -n "$rc" ] && SPID=
fi
t_done
