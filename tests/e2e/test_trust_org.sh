#!/bin/bash
# The organisation's side of issue 11 on loopback, with real processes:
# muster-enroll's roots (init 2-of-3, rotate, the k-of-n ceremony, publish),
# every signature checked with stock minisign, roots an attacker crafts
# (too few signers, one key twice, a removed key, a skipped version)
# refused by `root publish` and by the server when posted raw; manifests
# (the server serves exactly what the newest one names, so a test profile
# published in between cannot stay served); revocations by the revocation
# role only, a used token's device revoked; and a server key rollover with
# an enrolled device that keeps reporting.  Device requests are made with
# openssl (Ed25519), as test_server.sh does.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
AGENT="$MUSTER_BIN/muster-agent"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT
if ! command -v minisign >/dev/null; then
	echo "1..0 # SKIP minisign is not installed"
	exit 0
fi

t_port
E() { "$ENROLL" "$@"; }

# --- init 2-of-3 -------------------------------------------------------------
t_exit 0 "init --root-keys 3 --threshold 2" E init --org org --server "$U" \
    --no-passphrase --root-keys 3 --threshold 2
for f in root-1 root-2 root-3 policy revocation enroll; do
	t_check "init wrote $f.key (0600) and $f.pub" sh -c \
	    "test \"\$(stat -c %a org/$f.key)\" = 600 && test -s org/$f.pub"
done
t_check "org.pub is the policy key" cmp -s org/org.pub org/policy.pub
t_check "org.key is the policy key" cmp -s org/org.key org/policy.key
t_check "root/1.cfg has three signatures" \
    test "$(ls org/root/1.cfg.*.minisig | wc -l)" = 3
t_grep "root 1: threshold 2" 'threshold = 2;' org/root/1.cfg
t_grep "server.cfg names root_dir" '^root_dir = "root";' org/server.cfg
t_exit 64 "init --threshold above --root-keys" E init --org bad --server "$U" \
    --no-passphrase --root-keys 2 --threshold 3
t_exit 64 "init --root-keys 9" E init --org bad --server "$U" \
    --no-passphrase --root-keys 9

# keyid FILE.pub: the key id as minisign prints it.
keyid() { sed -n 1p "$1" | awk '{print $NF}'; }
# minisig_ok DOC: every DOC.KEYID.minisig verifies with stock minisign and
# the .pub of its key id among the org's files.
minisig_ok() {
	local s id p ok=0
	for s in "$1".*.minisig; do
		id=${s%.minisig}; id=${id##*.}
		ok=1
		for p in org/*.pub; do
			[ "$(keyid "$p")" = "$id" ] || continue
			minisign -Vq -p "$p" -m "$1" -x "$s" >/dev/null 2>&1 && ok=2
		done
		[ "$ok" = 2 ] || return 1
	done
	[ "$ok" = 2 ]
}
t_check "root 1's signatures verify with stock minisign" minisig_ok org/root/1.cfg

# --- the server --------------------------------------------------------------
PIN=$(cat org/server.pin)
ADMIN=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
A=(-H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN")
code() {
	local name=$1 want=$2 got; shift 2
	got=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' "$@" 2>"$T/cerr")
	if [ "$got" = "$want" ]; then t_ok "$name"; else
		t_fail "$name (HTTP $got, wanted $want)"
		sed 's/^/# body: /' "$T/body" 2>/dev/null | head -n 5
		sed 's/^/# curl: /' "$T/cerr" | head -n 5
	fi
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
stop_server() {
	kill -TERM "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
}
start_server || { echo "Bail out! muster-server did not start"; sed 's/^/# /' server.log; exit 1; }
t_ok "the server starts on init's root_dir"
code "GET /v1/root?since=0: 200" 200 "$U/v1/root?since=0"
t_check "it serves root 1" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert [r["version"] for r in d["roots"]]==[1]' "$T/body"
code "GET /v1/root without since: 400" 400 "$U/v1/root"
code "GET /v1/root?since=x: 400" 400 "$U/v1/root?since=x"

# --- rotate: one root key replaced, signed by 2 old + 2 new -------------------
t_exit 0 "root rotate --replace root-2" E root rotate --org org --replace root-2 \
    --no-passphrase
t_check "rotate wrote root/2.cfg unsigned" sh -c \
    'test -s org/root/2.cfg && ! ls org/root/2.cfg.*.minisig 2>/dev/null | grep -q .'
t_check "the replaced key is kept as retired" test -s org/root-2-retired-v1.key
t_check "a new root-2 key" sh -c '! cmp -s org/root-2.pub org/root-2-retired-v1.pub'
t_exit 65 "root publish with no signature" E root publish --org org
t_exit 0 "root sign by old root-1" E root sign --org org --key org/root-1.key
t_exit 77 "root publish signed by 1 of 3" E root publish --org org
t_exit 0 "root sign by root-1 again" E root sign --org org --key org/root-1.key
t_exit 77 "root publish: the same key twice counts once" E root publish --org org
t_exit 77 "root sign by the policy key is refused" E root sign --org org \
    --key org/policy.key
t_exit 0 "root sign by the retired root-2 (old)" E root sign --org org \
    --key org/root-2-retired-v1.key
t_exit 77 "root publish: old threshold met, new one not" E root publish --org org
t_exit 0 "root sign by the new root-2" E root sign --org org --key org/root-2.key
t_exit 0 "root publish: 2 old + 2 new (root-3 is both)" E root publish --org org
t_grep "publish says so" 'root 2 published' "$T/out"
t_check "root 2's signatures verify with stock minisign" minisig_ok org/root/2.cfg
t_exit 0 "root show" E root show --org org
t_grep "root show: the current root" 'root 2 .*the current root' "$T/out"
code "GET /v1/root?since=0 serves the chain" 200 "$U/v1/root?since=0"
t_check "roots 1 and 2, in order" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert [r["version"] for r in d["roots"]]==[1,2]' "$T/body"
code "GET /v1/root?since=1: 200" 200 "$U/v1/root?since=1"
t_check "only root 2" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert [r["version"] for r in d["roots"]]==[2]' "$T/body"

# --- roots an attacker crafts, posted raw ------------------------------------
# doc V FILE SIG...: the wire form of a signed root, by hand.
doc() {
	local v=$1 f=$2; shift 2
	python3 - "$v" "$f" "$@" <<'EOF'
import base64, json, sys
v, f, sigs = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
print(json.dumps({"root": {"version": v,
    "bytes": base64.b64encode(open(f, "rb").read()).decode(),
    "signatures": [open(s).read() for s in sigs]}}))
EOF
}
# A root 3 that changes the server; signed by hand with stock minisign.
sed -e 's/^version = 2;/version = 3;/' -e 's/^# Muster root of trust, version 2/# Muster root of trust, version 3/' \
    org/root/2.cfg >r3.cfg
msign() { minisign -S -s "$1" -m r3.cfg -x "$2" -t "muster-root version=$(sed -n 's/^version = \([0-9]*\);/\1/p' r3.cfg)" >/dev/null 2>&1 </dev/null; }
msign org/root-1.key s1.minisig
msign org/root-2.key s2.minisig
msign org/root-3.key s3.minisig
msign org/root-2-retired-v1.key sold.minisig
doc 3 r3.cfg s1.minisig >one.json
code "a root signed by 1 of 3: 422" 422 "${A[@]}" --data-binary @one.json "$U/v1/admin/root"
doc 3 r3.cfg s1.minisig s1.minisig >twice.json
code "a root signed by the same key twice: 422" 422 "${A[@]}" --data-binary @twice.json "$U/v1/admin/root"
doc 3 r3.cfg s1.minisig sold.minisig >removed.json
code "a root signed by a removed key: 422" 422 "${A[@]}" --data-binary @removed.json "$U/v1/admin/root"
sed -e 's/^version = 3;/version = 4;/' r3.cfg >r4.cfg
cp r4.cfg r3.cfg; msign org/root-1.key k1.minisig; msign org/root-3.key k3.minisig
doc 4 r4.cfg k1.minisig k3.minisig >skip.json
code "a root that skips a version: 409" 409 "${A[@]}" --data-binary @skip.json "$U/v1/admin/root"
code "root 2 again: 409" 409 "${A[@]}" --data-binary @"$(doc 2 org/root/2.cfg org/root/2.cfg.*.minisig >r2.json; echo r2.json)" "$U/v1/admin/root"
code "a root without the admin token: 401" 401 -H 'Content-Type: application/json' --data-binary @one.json "$U/v1/admin/root"
code "a malformed root: 400" 400 "${A[@]}" -d '{"root":{"version":3,"bytes":"%%","signatures":[]}}' "$U/v1/admin/root"
code "the chain is unchanged" 200 "$U/v1/root?since=2"
t_check "no root 3" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["roots"]==[]' "$T/body"
# The same attacks through root publish, from an org directory.
cp -rp org evil
cp r4.cfg evil/root/4.cfg
t_exit 64 "root publish refuses a skipped version" E root publish --org evil 4
rm evil/root/4.cfg
cp org/root/2.cfg evil/root/3.cfg; sed -i 's/^version = 2;/version = 3;/' evil/root/3.cfg
E root sign --org evil --key evil/root-1.key 3 >/dev/null
t_exit 77 "root publish refuses 1 of 3" E root publish --org evil
cp s1.minisig "evil/root/3.cfg.$(keyid org/root-2-retired-v1.pub).minisig"
t_exit 65 "a signature file named for another key is malformed" E root publish --org evil
rm evil/root/3.cfg.*.minisig
E root sign --org evil --key evil/root-1.key 3 >/dev/null
t_exit 77 "root sign with a removed key is refused" E root sign --org evil \
    --key evil/root-2-retired-v1.key 3
t_exit 77 "root publish with one key (and a removed one refused)" E root publish --org evil

# --- manifests ---------------------------------------------------------------
cp "$TOP/profiles/iaf-personnel.cfg" strict.cfg
sed -e 's/^id = .*/id = "iaf-test";/' strict.cfg >test.cfg
grep -q '^id = "iaf-test";' test.cfg || { echo "Bail out! cannot make a test profile"; exit 1; }
E sign --org org strict.cfg >/dev/null
E sign --org org test.cfg >/dev/null
t_exit 0 "publish the strict profile" E publish --org org strict.cfg
t_grep "publish names manifest 1" 'manifest version 1, published' "$T/out"
t_check "manifest/personnel.cfg signed by the policy key" minisig_ok org/manifest/personnel.cfg
t_grep "the manifest names the strict profile's hash" \
    "hash = \"$(b2sum -l 256 strict.cfg | cut -d' ' -f1)\";" org/manifest/personnel.cfg

# A device of scope personnel, enrolled by hand (openssl Ed25519).
sign() { openssl pkeyutl -sign -inkey "$1" -rawin -in "$2" | base64 -w0; }
pubkey() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }
bundle_token() { sed -n 's/^token = "\(.*\)";$/\1/p' "$1"; }
E token --org org --scope personnel --unit U --person P1 -o p1.bundle >tok1.out
t_grep "token: a v2 bundle carries the root" '^root = "' p1.bundle
t_check "token: no org_key in a v2 bundle" sh -c '! grep -q "^org_key" p1.bundle'
tid=$(sed -n 's/^token id: //p' tok1.out)
openssl genpkey -algorithm ed25519 -out dev1.pem 2>/dev/null
printf '{"token":"%s","device_key":"%s","model":"Xiaomi HM 1SW"}' \
    "$(bundle_token p1.bundle)" "$(pubkey dev1.pem)" >e1.json
code "enroll with a v2 token: 201" 201 -H 'Content-Type: application/json' \
    -H "Muster-Signature: $(sign dev1.pem e1.json)" --data-binary @e1.json "$U/v1/enroll"
D1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["device"])' "$T/body")
# policy DEVICE-KEY DEVICE ROOT: a signed GET /v1/policy into $T/body.
policy() {
	local t; t=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	printf 'muster-get-v1\n/v1/policy\n%s\n' "$t" >get.txt
	code "$4" "${5:-200}" -H "Muster-Device: $2" -H "Muster-Time: $t" \
	    -H "Muster-Signature: $(sign "$1" get.txt)" -H "Muster-Root: $3" \
	    "$U/v1/policy"
}
served() {	# the ids the served manifest and profiles name
	python3 -c '
import base64,json,sys; d=json.load(open(sys.argv[1]))
print(" ".join(p["id"] for p in d["profiles"]))' "$T/body"
}
policy dev1.pem "$D1" 0 "GET /v1/policy: 200"
t_check "policy: roots 1 and 2, manifest 1, the strict profile" python3 -c '
import base64,json,sys; d=json.load(open(sys.argv[1]))
assert [r["version"] for r in d["roots"]]==[1,2]
assert d["manifest"]["version"]==1
assert [p["id"] for p in d["profiles"]]==["iaf-personnel"]
assert base64.b64decode(d["profiles"][0]["profile"])==open(sys.argv[2],"rb").read()' "$T/body" strict.cfg
policy dev1.pem "$D1" 2 "GET /v1/policy from root 2: 200"
t_check "policy from root 2: no roots" python3 -c '
import json,sys; d=json.load(open(sys.argv[1])); assert d["roots"]==[]' "$T/body"
t=$(date -u +%Y-%m-%dT%H:%M:%SZ); printf 'muster-get-v1\n/v1/policy\n%s\n' "$t" >get.txt
code "GET /v1/policy: If-None-Match current: 304" 304 -H "Muster-Device: $D1" \
    -H "Muster-Time: $t" -H "Muster-Signature: $(sign dev1.pem get.txt)" \
    -H "Muster-Root: 2" -H 'If-None-Match: "2:1"' "$U/v1/policy"
code "GET /v1/policy without Muster-Root: 400" 400 -H "Muster-Device: $D1" \
    -H "Muster-Time: $t" -H "Muster-Signature: $(sign dev1.pem get.txt)" "$U/v1/policy"
code "GET /v1/policy unsigned: 401" 401 -H "Muster-Root: 0" "$U/v1/policy"

# The issue's bug: a test profile published, then the strict one again.
t_exit 0 "publish a test profile" E publish --org org test.cfg
policy dev1.pem "$D1" 2 "policy after the test profile"
t_check "the test profile alone is served" test "$(served)" = "iaf-test"
t_exit 0 "re-publish the strict profile" E publish --org org strict.cfg
t_grep "re-publish: a new manifest" 'manifest version 3' "$T/out"
policy dev1.pem "$D1" 2 "policy after re-publishing the strict one"
t_check "the strict profile is served again" test "$(served)" = "iaf-personnel"
t_check "manifest 3 is served" python3 -c '
import json,sys; assert json.load(open(sys.argv[1]))["manifest"]["version"]==3' "$T/body"
printf 'muster-get-v1\n/v1/profile\n%s\n' "$t" >getp.txt
code "GET /v1/profile (older agents): 200" 200 -H "Muster-Device: $D1" \
    -H "Muster-Time: $t" -H "Muster-Signature: $(sign dev1.pem getp.txt)" "$U/v1/profile"
t_check "GET /v1/profile serves the manifest's profile" python3 -c '
import json,sys; assert json.load(open(sys.argv[1]))["id"]=="iaf-personnel"' "$T/body"
t_exit 0 "publish the strict profile once more: unchanged" E publish --org org strict.cfg
t_grep "already published, the same manifest" 'manifest version 3, was already published' "$T/out"

# Manifests an attacker posts raw.
mdoc() {	# MANIFEST-FILE: the admin/manifest body for it and its signatures
	python3 - "$1" "$1".*.minisig <<'EOF'
import base64, json, re, sys
f, sigs = sys.argv[1], sys.argv[2:]
b = open(f, "rb").read()
v = int(re.search(rb"^version = (\d+);", b, re.M).group(1))
print(json.dumps({"manifest": {"version": v, "bytes": base64.b64encode(b).decode(),
    "signatures": [open(s).read() for s in sigs]}}))
EOF
}
mdoc org/manifest/personnel.cfg >m3.json
code "the current manifest again: 200" 200 "${A[@]}" --data-binary @m3.json "$U/v1/admin/manifest"
mkdir -p old; cp org/manifest/personnel.cfg old/
sed -i 's/^version = 3;/version = 2;/' old/personnel.cfg
minisign -S -s org/policy.key -m old/personnel.cfg -x "old/personnel.cfg.$(keyid org/policy.pub).minisig" \
    -t "muster-manifest scope=personnel version=2" >/dev/null 2>&1 </dev/null
mdoc old/personnel.cfg >m2.json
code "a lower manifest version (rollback): 409" 409 "${A[@]}" --data-binary @m2.json "$U/v1/admin/manifest"
cp org/manifest/personnel.cfg old/personnel.cfg; rm old/*.minisig
sed -i 's/^version = 3;/version = 4;/' old/personnel.cfg
minisign -S -s org/revocation.key -m old/personnel.cfg -x "old/personnel.cfg.$(keyid org/revocation.pub).minisig" \
    -t "muster-manifest scope=personnel version=4" >/dev/null 2>&1 </dev/null
mdoc old/personnel.cfg >mr.json
code "a manifest signed by the revocation key: 422" 422 "${A[@]}" --data-binary @mr.json "$U/v1/admin/manifest"
rm old/*.minisig
sed -i "s/^    hash = .*/    hash = \"$(printf '0%.0s' $(seq 64))\";/" old/personnel.cfg
minisign -S -s org/policy.key -m old/personnel.cfg -x "old/personnel.cfg.$(keyid org/policy.pub).minisig" \
    -t "muster-manifest scope=personnel version=4" >/dev/null 2>&1 </dev/null
mdoc old/personnel.cfg >mh.json
code "a manifest naming a profile the server does not hold: 422" 422 "${A[@]}" --data-binary @mh.json "$U/v1/admin/manifest"
code "publish without a manifest on a root org: 422" 422 "${A[@]}" -d \
    "{\"profile\":\"$(base64 -w0 strict.cfg)\",\"signature\":$(python3 -c 'import json,sys;print(json.dumps(open(sys.argv[1]).read()))' strict.cfg.minisig)}" \
    "$U/v1/admin/profile"
t_exit 0 "manifest: re-sign with a new expiry" E manifest --org org --expires 30d
t_grep "manifest: version 4 uploaded" 'personnel version 4 .*uploaded' "$T/out"
t_check "the family scope has no manifest: skipped" sh -c "! grep -q family '$T/out'"
"${CURL[@]}" -H "Authorization: Bearer $ADMIN" "$U/metrics" >metrics.txt
t_grep "metrics: the manifest's expiry gauge" '^muster_manifest_expiry_seconds\{scope="personnel"\} [0-9]+$' metrics.txt

# --- revocation -------------------------------------------------------------
cp -rp org pol
cp -p org/policy.key pol/revocation.key; cp -p org/policy.pub pol/revocation.pub
t_exit 77 "a revocation signed by the policy key is refused" E revoke --org pol "$D1"
t_grep "refused by the server (422)" '422' "$T/err"
printf '{"device":"%s","seq":1,"time":"%s","profile":"iaf-personnel","serial":1,"status":"compliant","dropped":0,"model":"Xiaomi HM 1SW","results":[]}' "$D1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >r1.json
code "the device reports: 202" 202 -H 'Content-Type: application/json' \
    -H "Muster-Signature: $(sign dev1.pem r1.json)" -H "Muster-Device: $D1" \
    --data-binary @r1.json "$U/v1/report"
t_exit 0 "revoke the used token" E revoke --org org "$tid"
t_grep "revoke names the device the token enrolled" "revoked device $D1" "$T/out"
printf '{"device":"%s","seq":2,"time":"2026-11-21T10:00:00Z","profile":"iaf-personnel","serial":1,"status":"compliant","dropped":0,"model":"Xiaomi HM 1SW","results":[]}' "$D1" >r2.json
code "the device's next report: 403" 403 -H 'Content-Type: application/json' \
    -H "Muster-Signature: $(sign dev1.pem r2.json)" -H "Muster-Device: $D1" \
    --data-binary @r2.json "$U/v1/report"
E token --org org --scope personnel --unit U --person P2 -o p2.bundle >tok2.out
tid2=$(sed -n 's/^token id: //p' tok2.out)
t_exit 0 "revoke an unused token" E revoke --org org "$tid2"
t_check "no device named for an unused token" sh -c "! grep -q 'revoked device' '$T/out'"
openssl genpkey -algorithm ed25519 -out dev2.pem 2>/dev/null
printf '{"token":"%s","device_key":"%s"}' "$(bundle_token p2.bundle)" "$(pubkey dev2.pem)" >e2.json
code "the unused revoked token cannot enroll: 403" 403 -H 'Content-Type: application/json' \
    -H "Muster-Signature: $(sign dev2.pem e2.json)" --data-binary @e2.json "$U/v1/enroll"

# --- server key rollover, an enrolled agent keeps reporting -------------------
S=$T/st
AG() { "$AGENT" --state "$S" --device "sim:$T/dev.cfg" "$@"; }
cp "$TOP/examples/devices/redmi-1s.cfg" dev.cfg
E token --org org --scope personnel --unit U --person P3 -o p3.bundle >/dev/null
t_exit 0 "an agent enrolls with a v2 bundle" AG enroll p3.bundle
t_exit 0 "it reports" AG run --once
t_exit 0 "cert renew --new-key" E cert renew --org org --new-key
NEWPIN=$(sed -n 's/^pin: //p' "$T/out")
t_check "the new pin is server-next.pin's" test "$NEWPIN" = "$(cat org/server-next.pin)"
t_check "server-next.key is 0600" test "$(stat -c %a org/server-next.key)" = 600
t_check "the current key is untouched" test "$(cat org/server.pin)" = "$PIN"
t_exit 0 "root rotate --add-pin" E root rotate --org org --add-pin "$NEWPIN"
E root sign --org org --key org/root-1.key >/dev/null
E root sign --org org --key org/root-3.key >/dev/null
t_exit 0 "root 3 with both pins published" E root publish --org org
t_exit 0 "the agent follows root 3" AG run --once
stop_server
mv org/server-next.key org/server.key; mv org/server-next.crt org/server.crt
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$NEWPIN")
start_server || t_fail "the server restarts with its new key"
t_exit 0 "the agent reports to the new key, not re-enrolled" AG run --once
t_exit 0 "admin commands reach the new key (the root's pins)" E manifest --org org
stop_server
t_done
