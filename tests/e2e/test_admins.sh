#!/bin/bash
# Named administrators with roles, against a real server on loopback
# (TLS): server.cfg's admin_token_hash as the bootstrap administrator
# `admin`; `muster-server admin add|list|rotate|remove` on the live store
# while the server runs (one pid throughout, no SIGHUP); a `read`
# administrator refused (403) on publish and revoke, a `publish,revoke`
# one refused on the roll-up and accepted by muster-enroll publish and
# revoke; a rotation that refuses the old credential at once and takes
# the new one; a removal; credentials stored only as BLAKE2b-256 hashes;
# a rotated bootstrap credential that stays refused after a restart;
# usage errors.  Every wait is bounded; the server is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
BOOT=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 20 --cacert org/server.crt --pinnedpubkey "$PIN")
A() { "$SERVER" admin "$1" --config org/server.cfg "${@:2}"; }

# code NAME WANT TOKEN CURL-ARGS...: the HTTP status with that credential.
code() {
	local name=$1 want=$2 tok=$3 got; shift 3
	got=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' \
	    -H "Authorization: Bearer $tok" "$@" 2>"$T/cerr")
	if [ "$got" = "$want" ]; then t_ok "$name"; else
		t_fail "$name (HTTP $got, wanted $want)"
		sed 's/^/# body: /' "$T/body" 2>/dev/null | head -n 5
		sed 's/^/# curl: /' "$T/cerr" | head -n 5
	fi
}
rollup() { code "$1" "$2" "$3" "$U/v1/admin/rollup"; }
post() {
	code "$1" "$2" "$3" -H 'Content-Type: application/json' \
	    -d "$5" "$U$4"
}

start_server() {
	"$SERVER" --config org/server.cfg 2>>server.log &
	SPID=$!
	for _ in $(seq 1 300); do	# 30 s: a loaded CI machine
		[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = "ok" ] && return 0
		kill -0 "$SPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- usage -----------------------------------------------------------------
t_exit 0 "admin --help" "$SERVER" admin --help
t_grep "admin --help names the roles" 'publish.*revoke|metrics' "$T/out"
t_exit 0 "audit --help" "$SERVER" audit --help
t_exit 64 "admin without a command" "$SERVER" admin
t_exit 64 "admin frobnicate" "$SERVER" admin frobnicate
t_err_line "unknown admin command: one line" 'unknown command'
t_exit 64 "add without --roles" A add ops
t_exit 64 "add with an unknown role" A add --roles read,root ops
t_err_line "unknown role: one line naming it" '"root"'
t_exit 64 "add with a bad name" A add --roles read 'Ops;rm'
t_exit 64 "add with a name of 65 characters" A add --roles read \
    "$(printf 'a%.0s' $(seq 1 65))"
t_exit 64 "rotate with --roles" A rotate --roles read admin
t_exit 78 "admin with a missing configuration" "$SERVER" admin list \
    --config nope.cfg

# --- the bootstrap administrator --------------------------------------------
start_server || { echo "Bail out! the server did not start"; exit 1; }
PID0=$SPID
t_exit 0 "admin list while the server runs" A list
t_grep "admin (admin_token_hash) holds every role" \
    '^admin +publish,revoke,read,metrics ' "$T/out"
rollup "the bootstrap credential reads the roll-up" 200 "$BOOT"

# --- two administrators with different roles --------------------------------
t_exit 0 "admin add ops --roles read" A add --roles read ops
OPS=$(tr -d '\n' <"$T/out")
t_check "the credential is 64 hex digits, shown once on stdout" \
    grep -Eqx '[0-9a-f]{64}' <<<"$OPS"
t_exit 0 "admin add pub --roles publish,revoke -o pub.token" \
    A add --roles publish,revoke -o pub.token pub
t_check "pub.token is 0600" test "$(stat -c %a pub.token)" = 600
t_check "nothing on stdout with -o" test ! -s "$T/out"
PUB=$(tr -d '\n' <pub.token)
t_exit 65 "admin add ops again: the name is taken" A add --roles read ops
t_err_line "name taken: one line" 'exists'
t_exit 73 "-o onto an existing file" A add --roles read -o pub.token other
t_exit 0 "admin list" A list
t_grep "list: ops with read" '^ops +read ' "$T/out"
t_grep "list: pub with publish,revoke" '^pub +publish,revoke ' "$T/out"
t_check "list shows no credential" \
    bash -c "! grep -qF -e '$OPS' -e '$PUB' '$T/out'"

# Only hashes in the store: BLAKE2b-256 of the 64 digits, no credential.
h=$(printf '%s' "$OPS" | b2sum -l 256 | cut -d' ' -f1)
t_check "the store holds BLAKE2b-256 of ops's credential" test \
    "$(sqlite3 org/data/muster.db "SELECT lower(hex(hash)) FROM admins WHERE name = 'ops'")" = "$h"
t_check "no credential in the store's files" \
    bash -c "! cat org/data/muster.db* | grep -aqF -e '$OPS' -e '$PUB' -e '$BOOT'"

rollup "read: ops reads the roll-up: 200" 200 "$OPS"
post "read: ops publishing a profile: 403" 403 "$OPS" /v1/admin/profile \
    '{"profile":"","signature":""}'
t_grep "the 403 says the role is missing" 'lacks the role' "$T/body"
post "read: ops revoking: 403" 403 "$OPS" /v1/admin/revoke \
    '{"revocation":"x"}'
post "read: ops uploading a manifest: 403" 403 "$OPS" /v1/admin/manifest \
    '{"manifest":{}}'
rollup "publish,revoke: pub reading the roll-up: 403" 403 "$PUB"
post "publish: pub's malformed publish gets past the gate (400)" 400 \
    "$PUB" /v1/admin/profile '{"x":1}'

# muster-enroll with pub's credential in place of the org's admin.token.
cp -a org orgpub
cp pub.token orgpub/admin.token
chmod 600 orgpub/admin.token
cp "$TOP/profiles/iaf-personnel.cfg" p1.cfg
"$ENROLL" sign --org org p1.cfg >/dev/null
t_exit 0 "muster-enroll publish with pub's credential" \
    "$ENROLL" publish --org orgpub p1.cfg
"$ENROLL" token --org org --scope personnel --unit U --person P \
    -o b1.cfg >b1.out 2>&1
tid=$(sed -n 's/^token id: *\([0-9a-f]\{16\}\).*/\1/p' b1.out)
t_exit 0 "muster-enroll revoke with pub's credential" \
    "$ENROLL" revoke --org orgpub "$tid"
# The same with ops's: the server refuses the credential's role.
cp -a org orgops
printf '%s\n' "$OPS" >orgops/admin.token
chmod 600 orgops/admin.token
t_exit 77 "muster-enroll revoke with ops's credential: refused" \
    "$ENROLL" revoke --org orgops "$tid"

# --- rotation and removal, without a restart ------------------------------
t_exit 0 "admin rotate ops while the server runs" A rotate -o ops2.token ops
OPS2=$(tr -d '\n' <ops2.token)
rollup "the old credential is refused at once: 401" 401 "$OPS"
rollup "the new credential reads the roll-up: 200" 200 "$OPS2"
t_exit 66 "admin rotate nobody" A rotate nobody
t_err_line "rotate nobody: one line" 'no administrator "nobody"'
t_exit 0 "admin remove ops" A remove ops
rollup "a removed administrator is refused: 401" 401 "$OPS2"
t_exit 66 "admin remove ops again" A remove ops
t_exit 0 "admin list after the removal" A list
t_check "ops is gone from the list" bash -c "! grep -q '^ops ' '$T/out'"
rollup "the bootstrap credential still works" 200 "$BOOT"
t_check "the same server process throughout (no restart, no SIGHUP)" \
    bash -c "kill -0 $PID0 && [ $SPID = $PID0 ] && ! grep -q SIGHUP server.log"

# --- the bootstrap administrator rotated: server.cfg's hash is history ------
t_exit 0 "admin rotate admin" A rotate -o admin2.token admin
rollup "the old admin.token is refused after rotation" 401 "$BOOT"
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null
SPID=
start_server || { echo "Bail out! the server did not restart"; exit 1; }
rollup "after a restart the old admin.token stays refused" 401 "$BOOT"
rollup "after a restart the rotated credential works" 200 \
    "$(tr -d '\n' <admin2.token)"

# --- what the audit log says about it all -----------------------------------
t_exit 0 "audit verify" "$SERVER" audit verify --config org/server.cfg
t_exit 0 "audit show --actor pub" "$SERVER" audit show \
    --config org/server.cfg --actor pub
t_grep "pub's refused roll-up read is logged as a 403" \
    ' pub 127\.0\.0\.1 credential "/v1/admin/rollup" "denied 403: no read role"' \
    "$T/out"
t_grep "pub's publish is logged with the profile" \
    ' pub 127\.0\.0\.1 publish "profile iaf-personnel serial 1 scope personnel" "ok 20[01]"' \
    "$T/out"
t_grep "pub's revocation is logged with the token" \
    " pub 127\\.0\\.0\\.1 revoke \"token $tid\" \"ok 200\"" "$T/out"
t_exit 0 "audit show --action admin-rotate" "$SERVER" audit show \
    --config org/server.cfg --action admin-rotate
t_grep "the rotation is logged with the local user" \
    ' local:[a-z0-9._-]+ local admin-rotate "administrator ops" "ok"' "$T/out"
t_exit 0 "audit show --action bootstrap" "$SERVER" audit show \
    --config org/server.cfg --action bootstrap
t_check "the bootstrap is logged once" test "$(wc -l <"$T/out")" = 1
t_check "no credential in the server's log" \
    bash -c "! grep -qF -e '$OPS' -e '$OPS2' -e '$PUB' -e '$BOOT' server.log"
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null
SPID=
t_done
