#!/bin/bash
# The oracle lint cannot be bypassed by signing with another tool (issue
# 12): a family profile whose os-min ladder pins down the Android version
# (4 rules, over the 3 allowed on one attribute) is signed with the org's
# own policy key by tests/tools/trustgen (an ordinary minisign signature,
# no lint), its manifest too.  Then, as that administrator would:
#  - POSTed straight to the real server (TLS on loopback) with the admin
#    credential: 422 with the lint's reason, nothing stored (profiles
#    table, manifest), the refusal in the audit log; a 3-rule ladder
#    signed the same way is accepted (the refusal is the lint's, not the
#    tool's).
#  - installed straight on a family agent (`muster-agent install`): exit
#    65, one line naming the ladder, nothing installed; a personnel agent
#    takes the same ladder in a personnel profile (exact results by
#    design, no oracle).
# Every wait is bounded; the server is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
TG="$MUSTER_BIN/../tests/tools/trustgen"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

if [ ! -x "$SERVER" ] || [ ! -x "$TG" ] || ! command -v python3 >/dev/null ||
    ! command -v sqlite3 >/dev/null; then
	t_skip "no muster-server, trustgen, python3 or sqlite3"
	t_exit 0 "status of the personnel agent" "$AGENT" --state stp status
t_check "a personnel device claims no randomization (its results are exact)" sh -c "! grep -q randomized '$T/out'"
t_done
	exit 0
fi
YEAR=$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)
t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
ADMIN=$(tr -d '\n' <org/admin.token)
DB=org/data/muster.db
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }

# ladder N SCOPE FILE: a profile of N os-min rules, each a new step.
ladder() {
	{ printf 'id = "fam-ladder";\nserial = %d;\nexpires = "%s";\n' "$1" "$YEAR"
	  printf 'scope = "%s";\nrules = (\n' "$2"
	  for i in $(seq 1 "$1"); do
		[ "$i" -gt 1 ] && printf ',\n'
		printf '  { id = "r%d"; severity = "low"; title = "step %d"; kind = "os-min"; min_version = "%d.0"; }' "$i" "$i" $((i + 3))
	  done
	  printf '\n);\n'; } >"$3"
}
ladder 4 family bad.cfg
ladder 3 family ok.cfg
"$TG" psign bad.cfg org/policy.key >/dev/null
"$TG" psign ok.cfg org/policy.key >/dev/null
t_exit 0 "the hand-signed ladder verifies (a good signature)" "$ENROLL" verify --org org bad.cfg
t_exit 65 "lint refuses it" "$ENROLL" lint bad.cfg

# manifest VERSION ID SERIAL FILE: the family manifest, signed, as wire JSON.
mkdir -p fman
manifest() {
	"$TG" manifest "fman/$1.cfg" family "$1" "$YEAR" "$2" "$3" "$4" >/dev/null &&
	"$TG" sign "fman/$1.cfg" org/policy.key "muster-manifest scope=family version=$1" >/dev/null &&
	"$TG" doc fman "$1.cfg" "$1"
}
# post FILE MANIFESTJSON: POST /v1/admin/profile; prints the status.
post() {
	python3 - "$1" "$2" >body.json <<'PY'
import base64, json, sys
p = open(sys.argv[1], 'rb').read()
print(json.dumps({"profile": base64.b64encode(p).decode(),
    "signature": open(sys.argv[1] + '.minisig').read(),
    "manifest": json.loads(sys.argv[2])}))
PY
	curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN" \
	    -o reply.json -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
	    -H 'Content-Type: application/json' --data-binary @body.json \
	    "$U/v1/admin/profile"
}

"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
up=
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$up" ] || { echo "Bail out! muster-server did not start"; sed 's/^/# /' server.log; exit 1; }

# --- the server ----------------------------------------------------------
m1=$(manifest 1 fam-ladder 4 bad.cfg)
t_check "POST of the hand-signed 4-rule ladder: 422" test "$(post bad.cfg "$m1")" = 422
t_grep "the reply gives the lint's reason" '"error":"family profile: 4 rules \(r1, r2, r3, r4\) together narrow the Android version.*over the 3 rules allowed' reply.json
t_check "nothing stored: no profile row" test "$(q 'SELECT count(*) FROM profiles')" = 0
t_check "nothing stored: no family manifest" test ! -e org/data/trust/manifest-family.json
t_exit 0 "audit show: the refused publish" "$SERVER" audit show --config org/server.cfg
t_grep "audited: publish, the profile named, refused 422" 'publish.*profile fam-ladder serial 4 scope family.*refused 422' "$T/out"
t_grep "the server's log line names the ladder" 'publish refused: profile fam-ladder serial 4: family profile: 4 rules' server.log
m2=$(manifest 2 fam-ladder 3 ok.cfg)
t_check "the 3-rule ladder signed the same way: 201" test "$(post ok.cfg "$m2")" = 201
t_check "stored: one profile row" test "$(q 'SELECT count(*) FROM profiles')" = 1
t_check "stored: the family manifest" test -s org/data/trust/manifest-family.json

kill -TERM "$SPID"
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=

# --- the agent -------------------------------------------------------------
A() { "$AGENT" --state st "$@"; }
t_exit 0 "a family agent trusts the org key" A trust --scope family org/policy.pub
t_exit 65 "install of the hand-signed ladder: 65" A install bad.cfg
t_err_line "one line naming the ladder and the refusal" 'bad.cfg:[0-9]+: family profile "fam-ladder": 4 rules \(r1, r2, r3, r4\) together narrow the Android version.*; refused$'
t_check "nothing installed" sh -c '! ls st/profiles/ 2>/dev/null | grep -q .'
t_exit 0 "install of the 3-rule ladder" A install ok.cfg
t_check "one profile installed" test "$(ls st/profiles/ | grep -c '\.profile$')" = 1
ladder 4 personnel pers.cfg
"$TG" psign pers.cfg org/policy.key >/dev/null
t_exit 0 "a personnel agent trusts the org key" "$AGENT" --state stp trust org/policy.pub
t_exit 0 "the same ladder, personnel: installed (exact results by design)" "$AGENT" --state stp install pers.cfg
t_exit 0 "status of the personnel agent" "$AGENT" --state stp status
t_check "a personnel device claims no randomization (its results are exact)" sh -c "! grep -q randomized '$T/out'"
t_done
