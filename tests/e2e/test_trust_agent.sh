#!/bin/bash
# The phone's side of issue 11 against the real muster-server on loopback:
# a v2 enrollment (the root trusted on first use), check-ins through
# GET /v1/policy, a 2-of-3 root rotation that replaces a root key and the
# policy key followed with no re-enrollment, and then a BREACHED SERVER:
# an attacker's HTTPS server holding every secret a server holds (its TLS
# key, the admin token, every published file: roots, manifests, profiles,
# signatures) but no root or policy secret, serving what it likes.  The
# device must keep its policy every time (and still fail a banned Redmi
# 1S).  Then an expired manifest: still enforced, reported stale.  The
# organisation's roots, manifests and bundles are made with
# tests/tools/trustgen from libmuster's own formats.  Every wait is
# bounded; the servers are killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
TG="$MUSTER_BIN/../tests/tools/trustgen"
DEV=$TOP/examples/devices
S=$T/st
SPID=
BPID=
trap 'for p in $SPID $BPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
A() { "$AGENT" --state "$S" --device "sim:$T/dev.cfg" "$@"; }
cp "$DEV/redmi-1s.cfg" dev.cfg

if [ ! -x "$SERVER" ] || [ ! -x "$TG" ] || ! command -v python3 >/dev/null; then
	t_skip "no muster-server, trustgen or python3"
	t_done
	exit 0
fi

YEAR=$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)
WEEK=$(date -u -d '+7 days' +%Y-%m-%dT%H:%M:%SZ)
t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null
PIN=$(cat org/server.pin)
# The organisation's roots here are trustgen's, whatever init made.
rm -rf org/root
ADMIN=$(cat org/admin.token)
mkdir -p org/root keys
for k in r1 r2 r3 r4 pol pol2 rev enr; do "$TG" key "keys/$k"; done
K=keys
# root VERSION ROOTKEYS POLICYKEY [PINS]: org/root/VERSION.cfg, unsigned.
root() {
	"$TG" root "org/root/$1.cfg" "$1" "$U" "$YEAR" "${4:-$PIN}" \
	    "$2" "${THR:-2}" "$K/$3.pub" 1 "$K/rev.pub" "$K/enr.pub"
}
rsign() { for k in "${@:2}"; do "$TG" sign "org/root/$1.cfg" "$K/$k.key" \
    "muster-root version=$1"; done; }
# manifest VERSION KEY EXPIRES [ID SERIAL FILE]...: man/VERSION.cfg, signed.
mkdir -p man
manifest() {
	"$TG" manifest "man/$1.cfg" personnel "$1" "$3" "${@:4}"
	"$TG" sign "man/$1.cfg" "$K/$2.key" "muster-manifest scope=personnel version=$1"
}
mdoc() { "$TG" doc "${MDIR:-man}" "$1.cfg" "$1"; }
mkdir -p fman
fmanifest() {
	"$TG" manifest "fman/$1.cfg" family "$1" "$3" "${@:4}"
	"$TG" sign "fman/$1.cfg" "$K/$2.key" "muster-manifest scope=family version=$1"
}
rdoc() { "$TG" doc org/root "$1.cfg" "$1"; }
# pjson PROFILE: a profile object as the server serves it.
pjson() {
	python3 - "$1" "${2:-}" "${3:-}" <<'PY'
import base64, json, re, sys
p = open(sys.argv[1], 'rb').read()
sig = open(sys.argv[1] + '.minisig').read()
body = open(sys.argv[2], 'rb').read() if sys.argv[2] else p
pid = re.search(rb'id = "([^"]+)"', p).group(1).decode()
ser = int(re.search(rb'serial = (\d+)', p).group(1))
print(json.dumps({"id": pid, "serial": ser,
    "profile": base64.b64encode(body).decode(), "signature": sig}))
PY
}
# admin PATH JSON: POSTs to the admin API; prints the HTTP status.
admin() {
	curl -sk --max-time 10 -o admin.out -w '%{http_code}' \
	    -H "Authorization: Bearer $ADMIN" \
	    -H 'Content-Type: application/json' --data-binary "$2" "$AU$1"
}
publish() {	# publish PROFILE MANIFESTVERSION
	local pj
	pj=$(pjson "$1")
	admin /v1/admin/profile "$(python3 -c 'import json,sys
p = json.loads(sys.argv[1]); m = json.loads(sys.argv[2])
print(json.dumps({"profile": p["profile"], "signature": p["signature"],
    "manifest": m}))' "$pj" "$(mdoc "$2")")"
}
start_server() {
	"$SERVER" --config org/server.cfg >>server.log 2>&1 &
	SPID=$!
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}
stop_server() {
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}
# snap: what of the state a refused answer must not change.
snap() { (cd "${1:-$S}" && cat root.json manifest.json org.pub agent.cfg \
    profiles/*.profile 2>/dev/null) | sha256sum; }

# --- the organisation: root 1 (2 of 3 root keys), a profile, a manifest ---
root 1 "$K/r1.pub,$K/r2.pub,$K/r3.pub" pol
rsign 1 r1 r2
t_check "each root signature verifies with its key (minisign format)" \
    test "$(ls org/root/1.cfg.*.minisig | wc -l)" = 2
if command -v minisign >/dev/null; then
	for k in r1 r2; do
		id=$(sed -n 2p "$K/$k.pub" | base64 -d | od -An -tx1 -j2 -N8 | tr -d ' \n' | tr a-f A-F)
		t_check "stock minisign verifies root 1 by $k" minisign -Vq \
		    -p "$K/$k.pub" -m org/root/1.cfg -x "org/root/1.cfg.$(echo "$id" | sed 's/\(..\)/\1 /g' | awk '{for(i=NF;i>0;i--)printf $i}').minisig"
	done
fi
sed -i -e '/^org_key = /d' -e '/^root_dir = /d' org/server.cfg
echo 'root_dir = "root";' >>org/server.cfg
sed "s/^serial = .*/serial = 1;/" "$TOP/profiles/iaf-personnel.cfg" >p1.cfg
"$TG" psign p1.cfg "$K/pol.key"
manifest 1 pol "$WEEK" iaf-personnel 1 p1.cfg
start_server || { echo "Bail out! server did not start"; cat server.log; exit 1; }
t_check "publish profile + manifest 1" test "$(publish p1.cfg 1)" = 201

# --- v2 enrollment ---------------------------------------------------------
"$TG" bundle org/root 1.cfg "$K/enr.key" personnel IAF/25-WING IAF-1 "$U" \
    "$PIN" "$WEEK" >b.bundle 2>/dev/null
t_exit 0 "enroll with a v2 bundle" A enroll b.bundle
t_grep "enroll names the root" 'root: +version 1' "$T/out"
t_grep "enroll installed the profile" 'installed profile "iaf-personnel" serial 1' "$T/out"
t_check "the state holds root.json, not org.pub" \
    sh -c "test -f '$S/root.json' && test ! -e '$S/org.pub'"
t_check "root.json is 0600" test "$(stat -c %a "$S/root.json")" = 600
t_exit 0 "run --once through GET /v1/policy" A run --once
t_check "the manifest is held" test -f "$S/manifest.json"
t_exit 0 "status" A status
t_grep "status: root version 1" 'trust anchor: root version 1' "$T/out"
t_grep "status: manifest version 1" 'manifest: +version 1, 1 profile' "$T/out"
t_exit 1 "check: the Redmi 1S fails" A check

# A v2 bundle whose root keeps 1 of its 2 signatures (threshold 2): refused.
"$TG" bundle org/root 1.cfg "$K/enr.key" personnel IAF/25-WING IAF-2 "$U" \
    "$PIN" "$WEEK" >b2.bundle 2>/dev/null
python3 - b2.bundle <<'PY'
import re, sys
s = open(sys.argv[1]).read()
s = re.sub(r'(root_signatures = \(\s*"[^"]*")\s*,\s*"[^"]*"', r'\1', s)
open(sys.argv[1], 'w').write(s)
PY
t_exit 77 "a bundle whose root misses its threshold is refused" \
    "$AGENT" --state "$T/half" --device "sim:$T/dev.cfg" enroll b2.bundle
t_err_line "threshold: one line" 'signed by 1 of the 2'
t_check "nothing was written" test ! -e "$T/half/root.json"

# --- a 2-of-3 root rotation: r3 replaced by r4, pol by pol2 ---------------
root 2 "$K/r1.pub,$K/r2.pub,$K/r4.pub" pol2
rsign 2 r1 r2 r4
t_check "the server takes root 2" \
    test "$(admin /v1/admin/root "{\"root\": $(rdoc 2)}")" = 201
sed "s/^serial = .*/serial = 2;/" "$TOP/profiles/iaf-personnel.cfg" >p2.cfg
"$TG" psign p2.cfg "$K/pol2.key"
manifest 2 pol2 "$WEEK" iaf-personnel 2 p2.cfg
t_check "publish profile serial 2 + manifest 2 (new policy key)" \
    test "$(publish p2.cfg 2)" = 201
t_exit 0 "run --once follows the rotation" A run --once
t_grep "the agent logs the root walked" 'root of trust: version 1 -> 2' "$T/err"
t_exit 0 "status" A status
t_grep "status: root version 2, no re-enrollment" \
    'trust anchor: root version 2' "$T/out"
t_grep "status: manifest 2" 'manifest: +version 2' "$T/out"
t_grep "status: profile serial 2" 'iaf-personnel +serial 2 ' "$T/out"
manifest 3 pol2 "$WEEK" iaf-personnel 2 p2.cfg
t_check "a manifest alone (renewed expiry)" \
    test "$(admin /v1/admin/manifest "{\"manifest\": $(mdoc 3)}")" = 201
t_exit 0 "run --once takes manifest 3" A run --once
t_grep "manifest 2 -> 3" 'manifest: version 2 -> 3' "$T/err"
t_exit 0 "a run with nothing new: no policy GET" A run --once --verbose
t_grep "the report's answer says root 2, manifest 3 are current" \
    'policy 2:3 is current \(the report.s answer\)' "$T/err"
t_grep "  one exchange, the report" 'check-in: 1 reporter, 1 exchange on' "$T/err"

# --- the breached server ----------------------------------------------------
# What the attacker holds: the TLS key, the admin token and every file the
# organisation published (roots 1-2, manifests 1-3, profiles, signatures),
# and a profile a policy key once signed that no manifest names now (an
# old lax test profile).  It stops the real server and answers in its place.
sed -e 's/^id = .*/id = "test-lax";/' -e 's/^serial = .*/serial = 9;/' \
    "$TOP/profiles/family-optin.cfg" >lax0.cfg
sed 's/^scope = .*/scope = "personnel";/' lax0.cfg >lax.cfg
"$TG" psign lax.cfg "$K/pol2.key"
sed "s/^serial = .*/serial = 1;/" "$TOP/profiles/iaf-personnel.cfg" >pold.cfg
"$TG" psign pold.cfg "$K/pol.key"
cat >breach.py <<'PY'
import http.server, json, os, ssl, sys
port, d = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, name):
        p = os.path.join(d, name)
        body = open(p, 'rb').read() if os.path.exists(p) else b'{}'
        self.send_response(200 if os.path.exists(p) else 404)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.answer('policy.json' if self.path.startswith('/v1/policy')
                    else 'profile.json')
    def do_POST(self):
        n = int(self.headers.get('Content-Length', 0))
        body = self.rfile.read(n)
        if self.path in ('/v1/enroll/preview', '/v1/enroll'):
            name = 'preview.json' if self.path.endswith('preview') \
                else 'enroll.json'
            out = open(os.path.join(d, name), 'rb').read()
            self.send_response(200 if name == 'preview.json' else 201)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        with open(os.path.join(d, 'reports.log'), 'ab') as f:
            f.write(body + b'\n')
        self.send_response(202)
        self.send_header('Content-Length', '2')
        self.end_headers()
        self.wfile.write(b'{}')
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, 'org/server.crt'),
                    os.path.join(d, 'org/server.key'))
s = http.server.HTTPServer(('127.0.0.1', port), H)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
stop_server
python3 breach.py "$PORT" "$T" 2>>breach.log &
BPID=$!
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
# evil NAME JSON: serves it as the policy answer, runs the device once and
# checks that the state did not change and the report still fails the
# Redmi 1S under the manifest's profile.
evil() {
	local before
	printf '%s\n' "$2" >policy.json
	: >reports.log
	before=$(snap)
	t_exit 77 "breach: $1: refused" A run --once
	t_check "breach: $1: the state is unchanged" test "$(snap)" = "$before"
	t_check "breach: $1: the device still reports iaf-personnel, noncompliant" \
	    grep -q '"profile":"iaf-personnel","serial":2,"status":"noncompliant"' reports.log
	t_check "breach: $1: the Redmi 1S still fails" \
	    grep -q '"rule":"redmi-1s-unfixed","result":"fail"' reports.log
}
M3=$(mdoc 3)
M2=$(mdoc 2)
P2=$(pjson p2.cfg)
LAX=$(pjson lax.cfg)
pjson lax.cfg >profile.json
evil "a rolled-back manifest (2 < 3)" \
    "{\"roots\": [], \"manifest\": $M2, \"profiles\": [$P2]}"
t_grep "rollback named" 'refused, keeping the policy held: .*(rollback)' "$T/err"
evil "another profile under the manifest's id (hash differs)" \
    "{\"roots\": [], \"manifest\": $M3, \"profiles\": [$(pjson p2.cfg lax.cfg)]}"
manifest 9 pol "$YEAR" test-lax 9 lax.cfg
evil "a manifest signed by the removed policy key" \
    "{\"roots\": [], \"manifest\": $(mdoc 9), \"profiles\": [$LAX]}"
THR=1 root 3 "$K/r3.pub" pol "$PIN"
rsign 3 r3
evil "a root 3 signed by the removed root key alone" \
    "{\"roots\": [$(rdoc 3)], \"manifest\": $M3, \"profiles\": [$P2]}"
rm org/root/3.cfg*
root 3 "$K/r1.pub,$K/r2.pub,$K/r4.pub" pol
rsign 3 r1
evil "a root 3 signed by 1 of 3 root keys (threshold 2)" \
    "{\"roots\": [$(rdoc 3)], \"manifest\": $M3, \"profiles\": [$P2]}"
rm org/root/3.cfg*
root 3 "$K/r1.pub,$K/r2.pub,$K/r4.pub" pol
rsign 3 r1 r1
evil "a root 3 signed by the same key twice" \
    "{\"roots\": [$(rdoc 3)], \"manifest\": $M3, \"profiles\": [$P2]}"
rm org/root/3.cfg*
root 4 "$K/r1.pub,$K/r2.pub,$K/r4.pub" pol
rsign 4 r1 r2 r4
evil "a root that skips a version (2 -> 4)" \
    "{\"roots\": [$(rdoc 4)], \"manifest\": $M3, \"profiles\": [$P2]}"
rm org/root/4.cfg*
evil "an old profile signed by the removed policy key, as the manifest's" \
    "{\"roots\": [], \"manifest\": $M3, \"profiles\": [$(pjson pold.cfg)]}"
# Not refused, but ignored: a profile no manifest names, beside the
# current manifest, and a served manifest of null.
printf '{"roots": [], "manifest": %s, "profiles": [%s]}\n' "$M3" "$LAX" >policy.json
: >reports.log
before=$(snap)
t_exit 0 "breach: a profile no manifest names is ignored" A run --once
t_check "breach: it was not installed" test ! -e "$S/profiles/test-lax.profile"
t_check "breach: the state is unchanged" test "$(snap)" = "$before"
t_check "breach: the device still reports the Redmi 1S failing" \
    grep -q '"rule":"redmi-1s-unfixed","result":"fail"' reports.log
printf '{"roots": [], "manifest": null, "profiles": [%s]}\n' "$LAX" >policy.json
t_exit 0 "breach: a withheld manifest (null) changes nothing" A run --once
t_check "breach: the state is unchanged" test "$(snap)" = "$before"
rm policy.json
t_exit 0 "breach: no /v1/policy at all: /v1/profile is not used" A run --once
t_check "breach: the state is unchanged" test "$(snap)" = "$before"
t_grep "breach: said why" 'serves no /v1/policy' "$T/err"

# Consent bait-and-switch: the preview shows one org-signed family
# profile, the enrollment answer carries another.
sed -e 's/^serial = .*/serial = 1;/' "$TOP/profiles/family-optin.cfg" >f1.cfg
"$TG" psign f1.cfg "$K/pol2.key"
printf '{"profile": %s}\n' "$(pjson f1.cfg)" >preview.json
sed 's/^scope = .*/scope = "family";/' lax.cfg >laxf.cfg
"$TG" psign laxf.cfg "$K/pol2.key"
printf '{"device": "%s", "profile": %s}\n' \
    0123456789abcdef0123456789abcdef "$(pjson laxf.cfg)" >enroll.json
"$TG" bundle org/root 2.cfg "$K/enr.key" family FAMILY FAM-9 "$U" "$PIN" \
    "$WEEK" >fb9.bundle 2>/dev/null
cp "$DEV/redmi-1s.cfg" fdev.cfg
t_exit 77 "breach: enrollment answer with another family profile than shown" \
    "$AGENT" --state "$T/fst" --device "sim:$T/fdev.cfg" enroll fb9.bundle --consent
t_err_line "bait-and-switch: one line" 'not the one the member was shown'
t_check "bait-and-switch: no profile installed" \
    sh -c "! ls '$T/fst/profiles/'*.profile 2>/dev/null | grep -q ."
t_check "bait-and-switch: no receipt kept" test ! -e "$T/fst/consent.json"
t_check "bait-and-switch: not enrolled" sh -c "! grep -q device_id '$T/fst/agent.cfg'"

# A first-wave device (a v1 bundle: the org key is its anchor, and its
# organisation publishes no manifest): the breached server serves no
# /v1/policy and, on /v1/profile, an org-signed lax profile of another id
# (the mix-and-match of issue 11, which the first wave's agent installed,
# reporting the banned Redmi 1S compliant).
"$TG" key "$K/legacy"
sed "s/^serial = .*/serial = 1;/" "$TOP/profiles/iaf-personnel.cfg" >lp.cfg
"$TG" psign lp.cfg "$K/legacy.key"
cp lax.cfg llax.cfg
"$TG" psign llax.cfg "$K/legacy.key"
"$TG" bundle1 "$K/legacy.key" personnel IAF/25-WING IAF-L "$U" "$PIN" \
    "$WEEK" >lb.bundle
printf '{"device": "%s", "profile": %s}\n' \
    fedcba9876543210fedcba9876543210 "$(pjson lp.cfg)" >enroll.json
L=$T/lst
LA() { "$AGENT" --state "$L" --device "sim:$T/dev.cfg" "$@"; }
t_exit 0 "breach: a first-wave device enrolls (v1 bundle)" LA enroll lb.bundle
rm -f policy.json
pjson llax.cfg >profile.json
: >reports.log
before=$(snap "$L")
t_exit 77 "breach: a first-wave device refuses a profile of another id" \
    LA run --once
t_grep "breach: says why" 'no manifest names it' "$T/err"
t_check "breach: the first-wave state is unchanged" test "$(snap "$L")" = "$before"
t_check "breach: it still reports iaf-personnel, the Redmi 1S failing" \
    grep -q '"profile":"iaf-personnel","serial":1,"status":"noncompliant"' reports.log

kill "$BPID" 2>/dev/null
wait "$BPID" 2>/dev/null
BPID=

# --- an expired manifest: still enforced, reported stale ---------------------
start_server || { echo "Bail out! server did not restart"; exit 1; }
SOON=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%SZ)
manifest 4 pol2 "$SOON" iaf-personnel 2 p2.cfg
t_check "a manifest that expires in 5 s" \
    test "$(admin /v1/admin/manifest "{\"manifest\": $(mdoc 4)}")" = 201
t_exit 0 "run --once takes it" A run --once
for _ in $(seq 1 80); do
	[ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \> "$SOON" ] && break
	sleep 0.1
done
sleep 1
t_exit 0 "run --once with the manifest expired: still checks and reports" \
    A run --once
t_grep "the agent logs the policy stale" 'policy stale' "$T/err"
last=$(ls "$S/sent"/*.json | sort -t/ -k2 -V | tail -1)
t_check "the report says stale: policy" grep -q '"stale":\["policy"\]' "$last"
t_check "the report still fails the Redmi 1S" \
    grep -q '"rule":"redmi-1s-unfixed","result":"fail"' "$last"
t_exit 0 "status" A status
t_grep "status shows the policy stale" 'EXPIRED \(policy stale\)' "$T/out"
t_exit 1 "check still enforces the profile" A check
t_exit 0 "the roll-up's device list" "$SERVER" devices --config org/server.cfg
t_grep "the roll-up shows the device's policy stale" \
    'noncompliant \(stale: policy\)' "$T/out"
t_exit 0 "the roll-up's device list as JSON" "$SERVER" devices \
    --config org/server.cfg --format json
t_grep "JSON: stale policy" '"stale": \["policy"\]' "$T/out"

# --- server key rollover: root 3 adds the next pin, then the server switches -
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout org/next.key -out org/next.crt -days 30 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
PIN2="sha256//$(openssl pkey -in org/next.key -pubout -outform der 2>/dev/null |
    openssl dgst -sha256 -binary | base64)"
root 3 "$K/r1.pub,$K/r2.pub,$K/r4.pub" pol2 "$PIN,$PIN2"
rsign 3 r1 r2
t_check "the server takes root 3 (current and next pin)" \
    test "$(admin /v1/admin/root "{\"root\": $(rdoc 3)}")" = 201
t_exit 0 "run --once takes root 3" A run --once
t_grep "root 2 -> 3" 'root of trust: version 2 -> 3' "$T/err"
stop_server
sed -i -e 's|^tls_cert = .*|tls_cert = "next.crt";|' \
    -e 's|^tls_key = .*|tls_key = "next.key";|' org/server.cfg
start_server || { echo "Bail out! server did not start with the next key"; exit 1; }
t_exit 0 "after the server key rollover the device still reports" A run --once
t_check "with no re-enrollment (root 3, same device)" \
    grep -q '"version":3' "$S/root.json"

# --- consent bound to bytes on the real server ------------------------------
fmanifest 1 pol2 "$WEEK" family-optin 1 f1.cfg
t_check "publish family profile 1 + family manifest 1" \
    test "$(MDIR=fman publish f1.cfg 1)" = 201
F=$T/fam
FA() { "$AGENT" --state "$F" --device "sim:$T/fdev.cfg" "$@"; }
"$TG" bundle org/root 3.cfg "$K/enr.key" family FAMILY FAM-1 "$U" "$PIN2" \
    "$WEEK" >fb1.bundle 2>/dev/null
t_exit 0 "family v2 enrollment with consent" FA enroll fb1.bundle --consent
t_check "the receipt names the profile's hash" \
    grep -q "\"hash\":\"$("$TG" hash f1.cfg)\"" "$F/consent.json"
t_check "the consented profile is kept" test -f "$F/consented.profile"
t_exit 0 "family run --once" FA run --once
# Serial 2 reads something new (a package list): it waits for consent.
python3 - f1.cfg f2.cfg <<'PY'
import sys
s = open(sys.argv[1]).read().replace('serial = 1;', 'serial = 2;')
s = s.replace('\t}\n);', '\t},\n\t{\n\t\tid = "cloud-apps-off";\n'
    '\t\tkind = "package-ban";\n\t\tseverity = "medium";\n'
    '\t\ttitle = "Mi Cloud apps are disabled";\n'
    '\t\tpackages = [ "com.miui.cloudservice" ];\n'
    '\t\taction = "report";\n\t}\n);')
open(sys.argv[2], 'w').write(s)
PY
"$TG" psign f2.cfg "$K/pol2.key"
fmanifest 2 pol2 "$WEEK" family-optin 2 f2.cfg
t_check "publish family profile 2 (a new rule) + manifest 2" \
    test "$(MDIR=fman publish f2.cfg 2)" = 201
t_exit 0 "family run --once: serial 2 installed, not evaluated" FA run --once
t_grep "the agent says consent is pending" 'consent pending' "$T/err"
last=$(ls "$F/sent"/*.json | sort -t/ -k2 -V | tail -1)
t_check "the report is of the consented serial 1" \
    grep -q '"profile":"family-optin","serial":1,' "$last"
t_check "the report says stale: consent" grep -q '"stale":\["consent"\]' "$last"
t_check "the new rule is not reported" sh -c "! grep -q cloud-apps-off '$last'"
t_exit 64 "consent without a terminal or --consent" setsid -w \
    "$AGENT" --state "$F" consent </dev/null
t_grep "consent shows the new rule" 'cloud-apps-off \(new rule\)' "$T/out"
t_exit 0 "consent --consent sends a new receipt" FA consent --consent
t_grep "consent given" 'Consent given for profile "family-optin" serial 2' "$T/out"
t_check "the receipt names serial 2's hash" \
    grep -q "\"hash\":\"$("$TG" hash f2.cfg)\"" "$F/consent.json"
t_exit 0 "family run --once after consent" FA run --once
last=$(ls "$F/sent"/*.json | sort -t/ -k2 -V | tail -1)
t_check "the report is of serial 2 now" \
    grep -q '"profile":"family-optin","serial":2,' "$last"
t_check "nothing is stale" sh -c "! grep -q stale '$last'"
t_exit 0 "consent again: nothing waits" FA consent --consent
t_grep "consent: nothing waits" 'nothing waits for consent' "$T/out"
stop_server
t_done
