#!/bin/bash
# muster-agent enroll with a muster://enroll URI (what `muster-enroll token
# --qr` prints and its QR code holds): refused when truncated, oversized,
# of another scheme, in another spelling or tampered, each with its
# documented exit code and one line that does not echo the token; then
# enrollments by URI against muster-server on loopback (skipped when it is
# not built), the token verified with the URI's key before it is used.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
DEV=$TOP/examples/devices
SPID=
trap 'for p in $SPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
S=$T/st
A() { "$AGENT" --state "$S" --device "sim:$T/dev.cfg" "$@"; }
cp "$DEV/redmi-1s.cfg" dev.cfg
t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null
"$ENROLL" init --org other --server "$U" --no-passphrase >/dev/null
# The URI's format and refusals on first-wave organisations (k= is their
# org key, the anchor); a v2 organisation's URI is at the end.
t_first_wave org
t_first_wave other
# mkuri ORG SCOPE PERSON FILE: a bundle in FILE, what token printed in
# FILE.out, its URI on stdout.
mkuri() {
	"$ENROLL" token --org "$1" --scope "$2" --unit IAF/25-WING \
	    --person "$3" --qr -o "$4" >"$4.out"
	grep '^muster://' "$4.out"
}
uri=$(mkuri org personnel IAF-1 a.bundle)
t_check "token --qr printed a URI" test -n "$uri"
k=${uri#muster://enroll?k=}; k=${k%%&t=*}
t=${uri#*&t=}

# --- usage and help ---------------------------------------------------------
t_exit 0 "enroll --help" "$AGENT" enroll --help
t_grep "enroll --help names URI" 'BUNDLE\|URI' "$T/out"
t_grep "enroll --help: 65 covers a URI" '65 malformed bundle or URI' "$T/out"
t_exit 64 "enroll with two arguments" A enroll "$uri" a.bundle
t_err_line "two arguments: one line" 'one BUNDLE or URI'

# --- refused URIs: 65 malformed, 77 trust; one line, no secret, no state ----
# refused CODE NAME URI: refused with CODE, one line, no state, and the
# line holds no part of the token.
refused() {
	t_exit "$1" "$2: exit $1" A enroll "$3"
	t_err_line "$2: one line" 'enrollment URI'
	t_check "$2: the token is not echoed" \
	    sh -c "! grep -qF '${t:0:24}' '$T/err' && ! grep -qF '${t: -24}' '$T/err'"
	t_check "$2: no state made" test ! -e "$S"
}
refused 65 "truncated in the signature" "${uri:0:$((${#uri} - 10))}"
refused 65 "truncated in the body" "${uri:0:$((${#uri} / 2))}"
refused 65 "truncated before t=" "muster://enroll?k=$k"
refused 65 "truncated in k=" "${uri:0:40}"
refused 65 "without the signature" "${uri%.*}"
big="$uri$(head -c 3000 /dev/zero | tr '\0' 'A')"
refused 65 "oversized (3000 more bytes)" "$big"
t_grep "oversized: says the limit" 'longer than 2047 bytes' "$T/err"
refused 65 "another scheme" "https://enroll?k=$k&t=$t"
refused 65 "another host" "muster://join?k=$k&t=$t"
refused 65 "upper-case scheme" "MUSTER://enroll?k=$k&t=$t"
refused 65 "lower-case base32" "muster://enroll?k=$k&t=$(printf '%s' "$t" | tr 'A-Z' 'a-z')"
refused 65 "padded base32" "$uri="
refused 65 "a parameter more" "$uri&x=1"
refused 65 "parameters swapped" "muster://enroll?t=$t&k=$k"
refused 65 "k= not a minisign key" "muster://enroll?k=$(printf '%s' "$k" | sed 's/^../AA/')&t=$t"
# A letter of the body changed: the signature no longer holds.
c=${t:20:1}; [ "$c" = A ] && n=B || n=A
refused 77 "tampered token body" "muster://enroll?k=$k&t=${t:0:20}$n${t:21}"
t_grep "tampered: says the signature failed" 'signature verification failed' "$T/err"
# Another org's key in k=: the token names this org's key id.
ouri=$(mkuri other personnel IAF-9 o.bundle)
ok_=${ouri#muster://enroll?k=}; ok_=${ok_%%&t=*}
refused 77 "another org's key in k=" "muster://enroll?k=$ok_&t=$t"
t_grep "another key: names both key ids" 'signed by key [0-9A-F]{16}, not by the trusted key' "$T/err"
# A file, however it is named, is still a file.
t_exit 66 "a missing file is a file (66)" A enroll nope.bundle
t_exit 66 "./x://y is a file" A enroll ./x://y

# --- against muster-server ---------------------------------------------------
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
devid() { sed -n 's/^device_id = "\(.*\)";/\1/p' "$1/agent.cfg"; }
if [ -x "$SERVER" ] && [ -f org/server.cfg ] && start_server; then
	cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
	cp "$TOP/profiles/family-optin.cfg" f.cfg
	"$ENROLL" sign --org org p.cfg >/dev/null
	"$ENROLL" sign --org org f.cfg >/dev/null
	t_exit 0 "publish the personnel profile" "$ENROLL" publish --org org p.cfg
	t_exit 0 "publish the family profile" "$ENROLL" publish --org org f.cfg
	t_exit 0 "enroll by URI" A enroll "$uri"
	t_grep "URI enrollment names the org key" \
	    "org key: +$(sed -n 's/key_id = "\(.*\)";/\1/p' org/org.cfg)" "$T/out"
	t_grep "URI enrollment names the server from the token" "server: +$U" "$T/out"
	t_grep "URI enrollment names the token id" \
	    "token: +$(sed -n 's/^token id: //p' a.bundle.out)," "$T/out"
	t_grep "URI enrollment installed the profile" \
	    'installed profile "iaf-personnel" serial 1' "$T/out"
	t_check "agent.cfg holds a 32-hex device id" \
	    grep -Eq '^[0-9a-f]{32}$' <(devid "$S")
	t_check "the anchor is the URI's org key" \
	    grep -qxF "$(sed -n 2p org/org.pub)" "$S/org.pub"
	t_exit 0 "run --once after a URI enrollment" A run --once
	# The URI's token is the bundle's: once used by URI, the file is used.
	t_exit 77 "the same token as a bundle file is used" \
	    "$AGENT" --state "$T/s2" --device "sim:$T/dev.cfg" enroll a.bundle
	t_err_line "used token: one line" 'expired, already used or revoked'
	# A family enrollment by URI, consent given on the command line.
	furi=$(mkuri org family FAM-1 f.bundle)
	t_exit 0 "family enrollment by URI with --consent" \
	    "$AGENT" --state "$T/fam" --device "sim:$DEV/redmi-1s.cfg" \
	    enroll "$furi" --consent
	t_grep "family by URI: consent shown" 'will and will not see' "$T/out"
	t_exit 64 "--report-only with a personnel URI" \
	    "$AGENT" --state "$T/s3" --device "sim:$T/dev.cfg" enroll \
	    "$(mkuri org personnel IAF-3 c.bundle)" --report-only
	t_err_line "--report-only: names the URI, not its text" \
	    '^muster-agent: --report-only is for a family enrollment; enrollment URI is personnel$'
else
	t_skip "enrollments by URI against muster-server (not built or not started)"
fi

# --- a v2 organisation: the URI names its root, fetched and checked ---------
# Its token carries root=N:HASH, too long for the terminal QR: the PNG
# holds it, decoded here as a phone's camera would.
t_port
"$ENROLL" init --org org2 --server "$U" --no-passphrase >/dev/null
up2=
if [ -x "$SERVER" ] && command -v zbarimg >/dev/null; then
	"$SERVER" --config org2/server.cfg >>server2.log 2>&1 &
	SPID="$SPID $!"
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 &&
		    { up2=1; break; }
		sleep 0.1
	done
fi
if [ -n "$up2" ]; then
	cp "$TOP/profiles/iaf-personnel.cfg" p2.cfg
	"$ENROLL" sign --org org2 p2.cfg >/dev/null
	t_exit 0 "v2: publish" "$ENROLL" publish --org org2 p2.cfg
	t_exit 0 "v2: token --png" "$ENROLL" token --org org2 --scope personnel \
	    --unit IAF/25-WING --person IAF-20 --png v2.png -o v2.bundle
	uri2=$(zbarimg -q --raw v2.png 2>/dev/null)
	t_check "v2: the PNG decodes to a muster:// URI" \
	    grep -q '^muster://enroll?' <<<"$uri2"
	t_exit 0 "v2: enroll by URI" "$AGENT" --state "$T/v2" \
	    --device "sim:$T/dev.cfg" enroll "$uri2"
	t_check "v2: the anchor is the fetched root" test -s "$T/v2/root.json"
	t_check "v2: no first-wave anchor" test ! -e "$T/v2/org.pub"
	t_exit 0 "v2: run --once" "$AGENT" --state "$T/v2" \
	    --device "sim:$T/dev.cfg" run --once
	t_exit 77 "v2: the token is used now" "$AGENT" --state "$T/v2b" \
	    --device "sim:$T/dev.cfg" enroll "$uri2"
else
	t_skip "v2 enrollment by URI (no server, no zbarimg)"
fi
t_done
