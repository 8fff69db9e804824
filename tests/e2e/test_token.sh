#!/bin/bash
# muster-enroll token, roster, publish and revoke: enrollment bundles
# checked byte for byte against docs/protocol.md (the token's signature
# verified independently with openssl), rosters with good and bad rows,
# and the admin calls against the real muster-server (when built) and a
# stand-in HTTPS server (when python3 is there) for every answer code.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
printf 'correct horse\n' >pass; chmod 600 pass
printf 'wrong horse\n' >wrong; chmod 600 wrong

# base64url (no padding) to bytes.
b64url_dec() {
	local s
	s=$(printf '%s' "$1" | tr '_-' '/+')
	while [ $((${#s} % 4)) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | base64 -d
}
# base32 (RFC 4648, no padding) to bytes.
b32_dec() {
	local s=$1
	while [ $((${#s} % 8)) -ne 0 ]; do s="$s="; done
	printf '%s' "$s" | base32 -d
}
bundle_token() { sed -n 's/^token = "\(.*\)";$/\1/p' "$1"; }
bundle_key() { sed -n 's/^org_key = "\(.*\)";$/\1/p' "$1"; }

"$ENROLL" init --org org --server https://127.0.0.1:8443 --no-passphrase \
    >/dev/null
MUSTER_PASSPHRASE_FILE=$T/pass "$ENROLL" init --org enc \
    --server https://127.0.0.1:8443 >/dev/null
# The first wave's v1 tokens and bundles, byte for byte (the v2 ones of an
# organisation with roots are test_trust_org.sh's).
t_first_wave org
t_first_wave enc

# --- help and usage --------------------------------------------------------
for c in token roster publish revoke; do
	t_exit 0 "$c --help" "$ENROLL" "$c" --help
done
"$ENROLL" --help >h
for c in token roster publish revoke; do t_grep "--help lists $c" "^  $c " h; done
"$ENROLL" token --help >h
for o in --org --scope --unit --person --expires --qr --png --output; do
	t_grep "token --help names $o" "$o" h
done
"$ENROLL" roster --help >h
for o in --org --out --expires; do t_grep "roster --help names $o" "$o" h; done
"$ENROLL" publish --help >h
for o in --org --sig; do t_grep "publish --help names $o" "$o" h; done
"$ENROLL" revoke --help >h
t_grep "revoke --help names --org" "--org" h
T1=(--org org --scope personnel --unit IAF/25-WING --person IAF-704512)
t_exit 64 "token without -o" "$ENROLL" token "${T1[@]}"
t_exit 64 "token without --person" "$ENROLL" token --org org --scope \
    personnel --unit U -o x.bundle
t_exit 64 "token with a bad scope" "$ENROLL" token --org org --scope admin \
    --unit U --person P -o x.bundle
t_err_line "bad scope: one line" 'scope'
# Units may hold spaces and UTF-8 letters; '/' separates non-empty levels.
t_exit 64 "token with an empty level in --unit" "$ENROLL" token --org org \
    --scope personnel --unit "A//B" --person P -o x.bundle
t_exit 64 "token with a zero-width space in --unit" "$ENROLL" token \
    --org org --scope personnel --unit "$(printf 'A\342\200\213B')" \
    --person P -o x.bundle
t_exit 64 "token with a bidi override in --unit" "$ENROLL" token \
    --org org --scope personnel --unit "$(printf 'A\342\200\256B')" \
    --person P -o x.bundle
t_exit 0 "token with spaces and UTF-8 in --unit" "$ENROLL" token --org org \
    --scope personnel --unit "$(printf 'IAF/25 Wing/No. 17 Esquadr\303\243o')" \
    --person P -o sp.bundle
t_exit 64 "token with = in --person" "$ENROLL" token --org org \
    --scope personnel --unit U --person "a=b" -o x.bundle
t_exit 64 "token with / in --person" "$ENROLL" token --org org \
    --scope personnel --unit U --person "a/b" -o x.bundle
t_exit 64 "token with a 65-byte --person" "$ENROLL" token --org org \
    --scope personnel --unit U --person "$(printf 'p%.0s' $(seq 65))" -o x.bundle
t_exit 64 "token with a newline in --unit" "$ENROLL" token --org org \
    --scope personnel --unit "$(printf 'a\nb')" --person P -o x.bundle
t_exit 0 "token with a 64-byte --person" "$ENROLL" token --org org \
    --scope personnel --unit U --person "$(printf 'p%.0s' $(seq 64))" -o p64.bundle
for x in 0m 59s 366d 8761h 14 d -1d 1w 1.5d 99999999999999d \
    2014-10-19T00:00:00Z 2099-01-01T00:00:00Z 2026-13-01T00:00:00Z; do
	t_exit 64 "--expires $x refused" "$ENROLL" token "${T1[@]}" \
	    --expires "$x" -o x.bundle
done
t_check "no bundle from refused arguments" test ! -e x.bundle

# --- token ---------------------------------------------------------------
t_exit 0 "token" "$ENROLL" token "${T1[@]}" -o a.bundle
cp "$T/out" a.out
t_check "bundle is 0600" test "$(stat -c %a a.bundle)" = 600
t_grep "prints the token id" '^token id: [0-9a-f]{16}$' a.out
t_grep "prints the expiry" '^expires:  [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' a.out
exp=$(sed -n 's/^expires:  //p' a.out)
want=$(date -u -d '+14 days' +%s)
got=$(date -u -d "$exp" +%s)
t_check "default expiry is 14 days" test $((want - got)) -ge 0 -a $((want - got)) -le 5
t_grep "bundle comment names person, unit and scope" \
    '^# Muster enrollment bundle for IAF-704512 \(IAF/25-WING\), personnel\.$' a.bundle
t_check "bundle org_key is org.pub's key" test "$(bundle_key a.bundle)" = \
    "$(sed -n 2p org/org.pub)"
tok=$(bundle_token a.bundle)
t_check "token is base64url.base64url" \
    sh -c "printf '%s' '$tok' | grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'"
b64url_dec "${tok%%.*}" >body
b64url_dec "${tok#*.}" >sig
id=$(sed -n 's/^token id: //p' a.out)
keyid=$(sed -n 's/^key_id = "\(.*\)";/\1/p' org/org.cfg)
printf 'muster-token-v1\nid=%s\nserver=https://127.0.0.1:8443\npin=%s\nscope=personnel\nunit=IAF/25-WING\nperson=IAF-704512\nexpires=%s\nkey=%s\n' \
    "$id" "$(cat org/server.pin)" "$exp" "$keyid" >want
t_check "token body is exactly docs/protocol.md's" cmp -s body want
t_check "signature is 64 bytes" test "$(stat -c %s sig)" = 64
# The org key as an Ed25519 SPKI for openssl: raw signature over the body.
sed -n 2p org/org.pub | base64 -d | tail -c 32 >pk.raw
{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; cat pk.raw; } >pk.der
openssl pkey -pubin -inform DER -in pk.der -out pk.pem 2>/dev/null
t_exit 0 "openssl verifies the token's raw Ed25519 signature" \
    openssl pkeyutl -verify -pubin -inkey pk.pem -rawin -in body -sigfile sig
printf 'X' | dd of=body bs=1 seek=20 conv=notrunc 2>/dev/null
t_exit 1 "openssl refuses a changed body" \
    openssl pkeyutl -verify -pubin -inkey pk.pem -rawin -in body -sigfile sig
sum=$(sha256sum a.bundle)
t_exit 73 "token never overwrites" "$ENROLL" token "${T1[@]}" -o a.bundle
t_err_line "existing bundle: one line" 'a.bundle: already exists'
t_check "existing bundle untouched" test "$(sha256sum a.bundle)" = "$sum"
ln -s nowhere link.bundle
t_exit 73 "token refuses a symlink as -o" "$ENROLL" token "${T1[@]}" -o link.bundle
t_check "symlink target not created" test ! -e nowhere
t_exit 0 "token --expires 2h" "$ENROLL" token "${T1[@]}" --expires 2h -o h.bundle
got=$(date -u -d "$(sed -n 's/^expires:  //p' "$T/out")" +%s)
want=$(date -u -d '+2 hours' +%s)
t_check "2h is two hours" test $((want - got)) -ge 0 -a $((want - got)) -le 5
t_exit 0 "token --expires 1m" "$ENROLL" token "${T1[@]}" --expires 1m -o m.bundle
t_exit 0 "token --expires 365d" "$ENROLL" token "${T1[@]}" --expires 365d -o y.bundle
at=$(date -u -d '+3 days' +%Y-%m-%dT%H:%M:%SZ)
t_exit 0 "token --expires RFC 3339" "$ENROLL" token "${T1[@]}" --expires "$at" -o r.bundle
t_grep "RFC 3339 expiry kept" "^expires:  $at\$" "$T/out"
t_exit 0 "family token" "$ENROLL" token --org org --scope family --unit \
    Families.West --person spouse@704512 -o f.bundle
b64url_dec "$(bundle_token f.bundle | cut -d. -f1)" >fbody
t_grep "family scope in the body" '^scope=family$' fbody
MUSTER_ORG=$T/org t_exit 0 "token with MUSTER_ORG" "$ENROLL" token \
    --scope personnel --unit U --person env -o env.bundle

# --- QR code and PNG -----------------------------------------------------
t_exit 0 "token --qr --png" "$ENROLL" token "${T1[@]}" --qr --png q.png -o q.bundle
cp "$T/out" q.out
uri=$(grep '^muster://' q.out)
hex() { od -An -tx1 | tr -d ' \n'; }
k=${uri#muster://enroll?k=}; k=${k%%&t=*}
ut=${uri#*&t=}
qtok=$(bundle_token q.bundle)
t_check "URI t= is base32 of the bundle's token body" test \
    "$(b32_dec "${ut%%.*}" | hex)" = "$(b64url_dec "${qtok%%.*}" | hex)"
t_check "URI t= has base32 of the bundle's token signature" test \
    "$(b32_dec "${ut#*.}" | hex)" = "$(b64url_dec "${qtok#*.}" | hex)"
t_check "URI k= is the org key bytes, base32" test \
    "$(b32_dec "$k" | hex)" = "$(sed -n 2p org/org.pub | base64 -d | hex)"
t_check "URI after k= is only A-Z 2-7 . and &t=" sh -c \
    "printf '%s' '${uri#muster://enroll?k=}' | grep -Eq '^[A-Z2-7]+&t=[A-Z2-7]+\.[A-Z2-7]+$'"
t_check "QR code drawn with half blocks" test "$(grep -c '█' q.out)" -gt 20
t_check "PNG is 0600" test "$(stat -c %a q.png)" = 600
t_check "PNG signature" test "$(head -c 8 q.png | od -An -tx1 | tr -d ' ')" = \
    89504e470d0a1a0a
w=$((16#$(dd if=q.png bs=1 skip=16 count=4 2>/dev/null | od -An -tx1 | tr -d ' ')))
t_check "PNG is 6 px per module with a 4-module quiet zone ($w px)" \
    test $((w % 6)) -eq 0 -a $(((w / 6 - 8 - 17) % 4)) -eq 0 -a "$w" -ge 300
t_check "PNG is 1-bit greyscale" test \
    "$(dd if=q.png bs=1 skip=24 count=2 2>/dev/null | od -An -tx1 | tr -d ' ')" = 0100
t_check "no QR on stdout without --qr" sh -c '! grep -q "^muster://" a.out'

# Decoded as a phone would see it: the terminal's cells drawn as pixels
# (tests/tools/termqr), the PNG as it is.  The code is drawn for a dark
# terminal; on a terminal it forces white on black, so it scans on a
# light one too (muster-enroll(1) promises both).
TERMQR=$(dirname "$MUSTER_BIN")/tests/tools/termqr
qr_lines() { sed -n '/^muster:/,$p' "$1" | tail -n +3; }
# Columns in characters, whatever the locale: each block counted once.
qr_cols() {
	sed 's/█/x/g; s/▀/x/g; s/▄/x/g; s/\x1b\[[0-9;]*m//g; s/\r$//' "$1" |
	    LC_ALL=C awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }'
}
qr_lines q.out >q.txt
if ! command -v zbarimg >/dev/null 2>&1; then
	for c in "terminal QR decodes on a dark terminal" \
	    "terminal QR decodes on a light terminal (tty)" \
	    "terminal QR decodes on a dark terminal (tty)" "PNG decodes" \
	    "long bundle: PNG decodes"; do
		t_skip "$c: no zbarimg (Debian zbar-tools; scripts/deps.sh)"
	done
elif [ ! -x "$TERMQR" ]; then
	echo "Bail out! no $TERMQR: build with make test"
	exit 1
else
	zbar() { zbarimg -q --raw "$1" 2>/dev/null | tr -d '\n'; }
	t_check "terminal QR renders" sh -c "'$TERMQR' dark qd.pgm <q.txt >qd.size"
	t_check "terminal QR decodes on a dark terminal" test "$(zbar qd.pgm)" = "$uri"
	t_check "PNG decodes" test "$(zbar q.png)" = "$uri"
	# On a pty, as a person runs it: the colours of a light terminal.
	if command -v script >/dev/null 2>&1; then
		script -qec "'$ENROLL' token --org org --scope personnel \
		    --unit IAF/25-WING --person IAF-704512 --qr -o tty.bundle" \
		    /dev/null >tty.out 2>&1 </dev/null
		turi=$(grep -a '^muster://' tty.out | tr -d '\r')
		qr_lines tty.out >tty.txt
		t_check "tty: QR lines carry colours" grep -q $'\033\\[40;97m' tty.txt
		"$TERMQR" light ql.pgm <tty.txt >ql.size
		t_check "terminal QR decodes on a light terminal (tty)" \
		    test "$(zbar ql.pgm)" = "$turi"
		"$TERMQR" dark qt.pgm <tty.txt >qt.size
		t_check "terminal QR decodes on a dark terminal (tty)" \
		    test "$(zbar qt.pgm)" = "$turi"
		t_check "tty: at most 80 columns" test "$(qr_cols tty.txt)" -le 80 \
		    -a "$(cut -d' ' -f1 ql.size)" -le 80
	else
		t_skip "terminal QR decodes on a light terminal (tty): no script(1)"
		t_skip "terminal QR decodes on a dark terminal (tty): no script(1)"
	fi
	# Half blocks upside down must not scan: the test can tell.
	sed 's/▀/X/g; s/▄/▀/g; s/X/▄/g' q.txt >qs.txt
	"$TERMQR" dark qs.pgm <qs.txt >/dev/null
	t_check "swapped half blocks do not decode" test -z "$(zbar qs.pgm)"
	# The longest fields: too wide for a terminal, fine as a PNG.
	t_exit 0 "long bundle: --png alone" "$ENROLL" token --org org --scope \
	    personnel --unit "$(printf 'u%.0s' $(seq 64))" \
	    --person "$(printf 'p%.0s' $(seq 64))" --png long.png -o long.bundle
	t_check "long bundle: PNG decodes" sh -c \
	    "test \"\$(zbarimg -q --raw long.png 2>/dev/null | grep -c '^muster://enroll?k=')\" = 1"
fi
t_check "terminal QR is at most 80 columns ($(qr_cols q.txt))" test "$(qr_cols q.txt)" -le 80
t_check "terminal QR is as tall as wide, two modules a line" test \
    "$(wc -l <q.txt)" -eq $((($(qr_cols q.txt) + 1) / 2))
t_check "terminal QR: top quiet rows are full blocks" test \
    "$(head -n 2 q.txt | sed 's/█//g' | tr -d '\n')" = ""
t_check "terminal QR: a 4-module quiet zone, then the finder pattern" \
    grep -q '^████ ' <(sed -n 3p q.txt)
t_exit 65 "--qr refused when the code would be wider than 80 columns" \
    "$ENROLL" token --org org --scope personnel \
    --unit "$(printf 'u%.0s' $(seq 64))" \
    --person "$(printf 'p%.0s' $(seq 64))" --qr -o wide.bundle
t_err_line "too wide: one line naming the way out" \
    'columns wide on a terminal.*more than 80; nothing written: use --png FILE instead of --qr'
t_check "too wide: no bundle written" test ! -e wide.bundle

# --- keys and configuration -----------------------------------------------
MUSTER_PASSPHRASE_FILE=$T/pass t_exit 0 "token with an encrypted org key" \
    "$ENROLL" token --org enc --scope personnel --unit U --person P -o e.bundle
MUSTER_PASSPHRASE_FILE=$T/wrong t_exit 77 "token with the wrong passphrase" \
    "$ENROLL" token --org enc --scope personnel --unit U --person P -o e2.bundle
t_err_line "wrong passphrase: one line" 'wrong passphrase'
t_exit 64 "token with no passphrase source" "$ENROLL" token --org enc \
    --scope personnel --unit U --person P -o e3.bundle
t_check "nothing written without the key" test ! -e e2.bundle -a ! -e e3.bundle
chmod 644 org/org.key
t_exit 78 "token refuses an org.key others can read" "$ENROLL" token \
    "${T1[@]}" -o loose.bundle
chmod 600 org/org.key
mkdir mix; cp org/org.pub org/org.cfg mix/; cp enc/org.key mix/
MUSTER_PASSPHRASE_FILE=$T/pass t_exit 78 "token refuses a key not matching org.pub" \
    "$ENROLL" token --org mix --scope personnel --unit U --person P -o mix.bundle
t_err_line "mismatched key: one line" 'does not belong to'
mkdir nocfg; cp org/org.pub org/org.key nocfg/
t_exit 66 "token without org.cfg" "$ENROLL" token --org nocfg --scope \
    personnel --unit U --person P -o n.bundle
t_err_line "missing org.cfg: one line naming it" 'nocfg/org.cfg'
mkdir badcfg; cp org/org.pub org/org.key badcfg/
sed 's|^server = .*|server = "http://127.0.0.1";|' org/org.cfg >badcfg/org.cfg
t_exit 78 "token with an http server in org.cfg" "$ENROLL" token --org badcfg \
    --scope personnel --unit U --person P -o n.bundle
{ echo '@include "/etc/passwd"'; cat org/org.cfg; } >badcfg/org.cfg
t_exit 78 "token with @include in org.cfg" "$ENROLL" token --org badcfg \
    --scope personnel --unit U --person P -o n.bundle
t_err_line "@include: file:line" 'badcfg/org.cfg:1:'

# --- roster --------------------------------------------------------------
printf 'person,unit,scope\r\nIAF-1,IAF/1-WING,personnel\r\n"IAF-2","IAF/2-WING",family\n\n' >ro.csv
printf 'bad person,U,personnel\nIAF-3,U,admin\nIAF-1,U,family\n"IAF-4,x",U,personnel\n' >>ro.csv
printf '"IAF-5"x,U,personnel\nIAF-6,U\nIAF-7,"multi\nline",personnel\nIAF-8,U,personnel\n' >>ro.csv
printf '"IAF-9","U","family"\nIAF-10,%s,personnel\n"IAF-11",U/"""x""",family\n' \
    "$(printf 'u%.0s' $(seq 65))" >>ro.csv
printf 'IAF-12,U,personnel,extra\n"unterminated,U,personnel\n' >>ro.csv
t_exit 65 "roster with bad rows" "$ENROLL" roster --org org ro.csv --out b1
cp "$T/err" ro.err; cp "$T/out" ro.out
for l in 5 6 7 8 9 10 11 15 16 17 18; do
	t_grep "roster reports line $l" "^muster-enroll: ro.csv:$l: " ro.err
done
t_check "roster reports nothing else" test "$(wc -l <ro.err)" -eq 11
t_grep "duplicate named with its first line" 'ro.csv:7: person "IAF-1" again \(first on line 2\)' ro.err
t_grep "summary counts" '^ro.csv: 4 bundles written to b1, 11 rows refused' "$T/out"
for p in IAF-1 IAF-2 IAF-8 IAF-9; do
	t_check "roster wrote $p.bundle 0600" test "$(stat -c %a "b1/$p.bundle")" = 600
done
t_check "roster wrote only the good rows and tokens.csv" test \
    "$(ls b1 | tr '\n' ' ')" = "IAF-1.bundle IAF-2.bundle IAF-8.bundle IAF-9.bundle tokens.csv "
t_check "out dir is 0700" test "$(stat -c %a b1)" = 700
b64url_dec "$(bundle_token b1/IAF-2.bundle | cut -d. -f1)" >r2body
t_grep "quoted fields unquoted" '^unit=IAF/2-WING$' r2body
t_grep "roster scope kept" '^scope=family$' r2body
rtok=$(bundle_token b1/IAF-9.bundle)
b64url_dec "${rtok%%.*}" >rb; b64url_dec "${rtok#*.}" >rs
t_exit 0 "openssl verifies a roster token" openssl pkeyutl -verify -pubin \
    -inkey pk.pem -rawin -in rb -sigfile rs
ids=$(for f in b1/*.bundle; do b64url_dec "$(bundle_token "$f" | cut -d. -f1)" | sed -n 's/^id=//p'; done | sort -u | wc -l)
t_check "every roster token has its own id" test "$ids" -eq 4

# tokens.csv: which token went to whom, each id its bundle's token's.
t_check "tokens.csv is 0600" test "$(stat -c %a b1/tokens.csv)" = 600
t_check "tokens.csv: CRLF line ends" test "$(grep -c $'\r$' b1/tokens.csv)" -eq 5
tr -d '\r' <b1/tokens.csv >tok1
t_check "tokens.csv: header" test "$(head -n 1 tok1)" = \
    "person,unit,scope,token_id,expires,bundle"
t_check "tokens.csv: a row for each bundle, in roster order" test \
    "$(tail -n +2 tok1 | cut -d, -f1 | tr '\n' ' ')" = "IAF-1 IAF-2 IAF-8 IAF-9 "
rexp=$(sed -n 's/.*tokens expire //p' ro.out)
tail -n +2 tok1 >tok1.rows
while IFS=, read -r person unit scope id exp file; do
	b64url_dec "$(bundle_token "b1/$file" | cut -d. -f1)" >tb
	t_check "tokens.csv: $person's id, unit, scope and expiry are its bundle's" \
	    test "$(sed -n 's/^id=//p; s/^unit=//p; s/^scope=//p; s/^expires=//p; s/^person=//p' tb | tr '\n' ' ')" \
	    = "$id $scope $unit $person $exp " -a "$exp" = "$rexp" -a "$file" = "$person.bundle"
done <tok1.rows
sum=$(cat b1/*.bundle | sha256sum)
tsum=$(sha256sum <b1/tokens.csv)
t_exit 65 "roster again: every bundle exists" "$ENROLL" roster --org org ro.csv --out b1
t_grep "existing bundle reported" 'ro.csv:2: b1/IAF-1.bundle: already exists' "$T/err"
t_check "existing bundles untouched" test "$(cat b1/*.bundle | sha256sum)" = "$sum"
t_check "tokens.csv unchanged when nothing was written" \
    test "$(sha256sum <b1/tokens.csv)" = "$tsum"
# A later run into the same directory adds its rows; names a spreadsheet
# would run as formulas (the charsets allow a leading - or @) stay text.
printf 'person,unit,scope\n@SUM,-U,personnel\n-2,@x,family\n' >evil.csv
t_exit 0 "roster of formula-like names into b1" "$ENROLL" roster --org org \
    evil.csv --out b1
t_grep "roster names the token list" '^token ids: b1/tokens.csv$' "$T/out"
t_check "tokens.csv kept the first run's rows" test \
    "$(head -n 5 b1/tokens.csv | sha256sum)" = "$tsum"
tr -d '\r' <b1/tokens.csv | tail -n 2 >tok2
t_check "tokens.csv: formula-like cells quoted behind a '" test \
    "$(cut -d, -f1,2,3,6 tok2 | tr '\n' ' ')" = \
    "\"'@SUM\",\"'-U\",personnel,\"'@SUM.bundle\" \"'-2\",\"'@x\",family,\"'-2.bundle\" "
t_check "tokens.csv: no cell starts a formula" sh -c \
    "! tr -d '\r' <b1/tokens.csv | tr ',' '\n' | grep -q '^[-=+@]'"
id2=$(b64url_dec "$(bundle_token b1/@SUM.bundle | cut -d. -f1)" | sed -n 's/^id=//p')
t_check "tokens.csv: @SUM's token id" test "$(sed -n 1p tok2 | cut -d, -f4)" = "$id2"
# Something else in the way of tokens.csv: refused before anything.
printf 'person,unit,scope\nZ,U,personnel\n' >z.csv
mkdir -m 700 b4; printf 'x,y\r\n' >b4/tokens.csv; chmod 600 b4/tokens.csv
t_exit 65 "roster refuses a tokens.csv it did not write" "$ENROLL" roster \
    --org org z.csv --out b4
t_err_line "foreign tokens.csv: one line naming it" 'b4/tokens.csv: not a token list'
t_check "foreign tokens.csv: nothing written" test "$(ls b4)" = tokens.csv
printf '\xef\xbb\xbfperson,unit,scope\nA,U,personnel\nB,U,family\n' >good.csv
t_exit 0 "roster, all good, with a byte order mark" "$ENROLL" roster --org org \
    good.csv --out b2 --expires 30d
t_grep "roster summary" '^good.csv: 2 bundles written to b2, 0 rows refused; tokens expire ' "$T/out"
exp=$(sed -n 's/.*tokens expire //p' "$T/out")
b64url_dec "$(bundle_token b2/A.bundle | cut -d. -f1)" >abody
t_grep "roster --expires used" "^expires=$exp\$" abody
printf 'name,unit,scope\nA,U,personnel\n' >hdr.csv
t_exit 65 "roster with a wrong header" "$ENROLL" roster --org org hdr.csv --out b3
t_err_line "wrong header: file:1" 'hdr.csv:1: want the header line'
t_check "wrong header wrote nothing" test ! -e b3
: >empty.csv
t_exit 65 "roster of an empty file" "$ENROLL" roster --org org empty.csv --out b3
t_exit 66 "roster of a missing file" "$ENROLL" roster --org org nope.csv --out b3
t_exit 64 "roster without --out" "$ENROLL" roster --org org good.csv
t_exit 64 "roster with a bad --expires" "$ENROLL" roster --org org good.csv \
    --out b3 --expires 400d
mkdir -m 755 open
t_exit 78 "roster refuses an --out others can read" "$ENROLL" roster --org org \
    good.csv --out open
t_check "nothing written there" test -z "$(ls open)"
awk 'BEGIN { print "person,unit,scope"; for (i = 1; i <= 3000; i++)
    printf "P%05d,U/%d,%s\n", i, i % 7, (i % 3 ? "personnel" : "family") }' >many.csv
echo 'P00010,U,personnel' >>many.csv
t_exit 65 "roster of 3000 rows and a duplicate" "$ENROLL" roster --org org \
    many.csv --out many
t_check "3000 bundles" test "$(ls many/*.bundle | wc -l)" -eq 3000
t_check "3000 token ids" test "$(tr -d '\r' <many/tokens.csv | tail -n +2 |
    cut -d, -f4 | sort -u | grep -c '^[0-9a-f]\{16\}$')" -eq 3000
t_err_line "the duplicate at the end is the one line" 'many.csv:3002: person "P00010" again'

# --- publish and revoke without a server ----------------------------------
P=$TOP/profiles/iaf-personnel.cfg
cp "$P" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
t_exit 64 "revoke a non-id" "$ENROLL" revoke --org org ../../etc/passwd
t_exit 64 "revoke an upper-case id" "$ENROLL" revoke --org org 0123456789ABCDEF
t_exit 64 "revoke a 17-digit id" "$ENROLL" revoke --org org 0123456789abcdef0
t_exit 64 "publish with no file" "$ENROLL" publish --org org
sed 's/serial = 1;/serial = 2;/' p.cfg >t.cfg; cp p.cfg.minisig t.cfg.minisig
t_exit 77 "publish checks the signature first" "$ENROLL" publish --org org t.cfg
t_err_line "bad signature: one line" 'signature verification failed'
t_exit 77 "publish refuses another org's signature" "$ENROLL" publish --org enc p.cfg
t_exit 66 "publish without a signature" "$ENROLL" publish --org org "$P"
# Nothing listens on port 1: unavailable (69), quickly.
mkdir down; cp org/* down/ 2>/dev/null
sed -i -e 's|^server = .*|server = "https://127.0.0.1:1";|' \
    -e 's|^admin_url = .*|admin_url = "https://127.0.0.1:1";|' down/org.cfg
t_exit 69 "publish to a server that is down" "$ENROLL" publish --org down p.cfg
t_err_line "down: one line" 'server unavailable'
t_exit 69 "revoke to a server that is down" "$ENROLL" revoke --org down 0123456789abcdef
chmod 644 down/admin.token
t_exit 78 "publish refuses an admin.token others can read" "$ENROLL" publish \
    --org down p.cfg
t_err_line "loose admin.token: one line" 'admin.token.*chmod 0600'
chmod 600 down/admin.token
echo nothex >down/admin.token
t_exit 78 "publish refuses a malformed admin.token" "$ENROLL" publish --org down p.cfg
t_check "malformed admin.token not echoed" sh -c "! grep -q nothex '$T/err'"
rm down/admin.token
t_exit 66 "publish without admin.token" "$ENROLL" publish --org down p.cfg

# --- against the real muster-server ----------------------------------------
SERVER=$MUSTER_BIN/muster-server
if [ -x "$SERVER" ]; then
	srv_pid=
	for try in 1 2 3 4 5; do
		port=$(t_random_port)
		rm -rf live
		"$ENROLL" init --org live --server "https://127.0.0.1:$port" \
		    --no-passphrase >/dev/null
		"$SERVER" --config live/server.cfg >srv.log 2>&1 &
		srv_pid=$!
		for _ in $(seq 50); do
			grep -q 'listening' srv.log && break
			kill -0 "$srv_pid" 2>/dev/null || break
			sleep 0.1
		done
		grep -q 'listening' srv.log && break
		kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=
	done
	trap '[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null; rm -rf "$T"' EXIT
	t_check "muster-server starts with init's server.cfg" test -n "$srv_pid"
	cp "$P" lp.cfg
	"$ENROLL" sign --org live lp.cfg >/dev/null
	t_exit 0 "publish to muster-server" "$ENROLL" publish --org live lp.cfg
	t_grep "publish says published" 'published$' "$T/out"
	t_check "admin token never printed" sh -c \
	    "! grep -qF '$(cat live/admin.token)' '$T/out' '$T/err'"
	t_exit 0 "publish the same again" "$ENROLL" publish --org live lp.cfg
	t_grep "publish says already published" 'already published' "$T/out"
	"$ENROLL" token --org live --scope personnel --unit U --person P \
	    -o live.bundle >live.out
	tid=$(sed -n 's/^token id: //p' live.out)
	t_exit 0 "revoke a token on muster-server" "$ENROLL" revoke --org live "$tid"
	t_grep "revoke says so" "^revoked token $tid\$" "$T/out"
	t_exit 0 "revoke a device id on muster-server" "$ENROLL" revoke \
	    --org live 0123456789abcdef0123456789abcdef
	mkdir live2; cp -p live/* live2/ 2>/dev/null
	printf '%064d\n' 0 >live2/admin.token
	t_exit 77 "muster-server refuses another admin token" "$ENROLL" revoke \
	    --org live2 "$tid"
	t_err_line "refused admin token: one line" '401'
	cp -p live/admin.token live2/admin.token
	sed -i 's|^pin = .*|pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";|' live2/org.cfg
	t_exit 77 "pin mismatch with muster-server" "$ENROLL" revoke --org live2 "$tid"
	t_err_line "pin mismatch: one line" 'does not match the pin'
	kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; srv_pid=
else
	echo "# no muster-server in $MUSTER_BIN: real-server checks skipped"
fi

# --- every answer code, from a stand-in server -----------------------------
if command -v python3 >/dev/null 2>&1; then
	cat >fake.py <<'EOF'
# Answers every POST with the status in STATUS; logs each request to LOG.
import http.server, json, ssl, sys
cert, key, status_file, log_file, port_file = sys.argv[1:6]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(log_file, "a") as f:
            f.write(json.dumps({"path": self.path,
                "auth": self.headers.get("Authorization", ""),
                "type": self.headers.get("Content-Type", ""),
                "body": json.loads(body)}) + "\n")
        code = int(open(status_file).read().strip())
        out = json.dumps({"error": "stand-in says %d" % code}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(port_file, "w").write(str(srv.server_address[1]))
srv.serve_forever()
EOF
	echo 201 >status
	python3 fake.py org/server.crt org/server.key status req.log port &
	fake_pid=$!
	trap '[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null; rm -rf "$T"' EXIT
	for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
	mkdir fk; cp -p org/* fk/
	sed -i -e "s|^server = .*|server = \"https://127.0.0.1:$(cat port)\";|" \
	    -e "s|^admin_url = .*|admin_url = \"https://127.0.0.1:$(cat port)\";|" fk/org.cfg
	t_exit 0 "publish: 201 is success" "$ENROLL" publish --org fk p.cfg
	python3 - req.log fk/admin.token p.cfg p.cfg.minisig >chk 2>&1 <<'EOF'
import base64, json, sys
req = json.loads(open(sys.argv[1]).readlines()[-1])
tok = open(sys.argv[2]).read().strip()
assert req["path"] == "/v1/admin/profile", req["path"]
assert req["auth"] == "Bearer " + tok
assert req["type"] == "application/json"
assert base64.b64decode(req["body"]["profile"]) == open(sys.argv[3], "rb").read()
assert req["body"]["signature"] == open(sys.argv[4]).read()
assert sorted(req["body"]) == ["manifest", "profile", "signature"]
import hashlib
h = hashlib.blake2b(open(sys.argv[3], "rb").read(), digest_size=32).hexdigest()
assert ('hash = "%s";' % h) in base64.b64decode(req["body"]["manifest"]["bytes"]).decode()
print("ok")
EOF
	t_grep "publish sends the exact bytes, signature and admin token" '^ok$' chk
	t_exit 0 "revoke: 201 is success" "$ENROLL" revoke --org fk 0123456789abcdef
	python3 - req.log >rev.txt <<'EOF'
import json, sys
req = json.loads(open(sys.argv[1]).readlines()[-1])
assert req["path"] == "/v1/admin/revoke"
assert sorted(req["body"]) == ["revocation"]
print(req["body"]["revocation"])
EOF
	rv=$(cat rev.txt)
	b64url_dec "${rv%%.*}" >rvbody; b64url_dec "${rv#*.}" >rvsig
	t_grep "revocation body names the id" '^id=0123456789abcdef$' rvbody
	rvtime=$(sed -n 's/^time=//p' rvbody)
	printf 'muster-revoke-v1\nid=0123456789abcdef\ntime=%s\nkey=%s\n' \
	    "$rvtime" "$keyid" >rvwant
	t_check "revocation body is docs/protocol.md's" cmp -s rvbody rvwant
	t_check "revocation time is now" test $(($(date -u +%s) - \
	    $(date -u -d "$rvtime" +%s))) -le 5
	t_exit 0 "openssl verifies the revocation" openssl pkeyutl -verify \
	    -pubin -inkey pk.pem -rawin -in rvbody -sigfile rvsig
	for case in 200:0 400:65 401:77 403:77 409:65 413:65 422:77 500:75 503:75; do
		echo "${case%%:*}" >status
		t_exit "${case#*:}" "answer ${case%%:*} exits ${case#*:}" \
		    "$ENROLL" revoke --org fk 0123456789abcdef
		[ "${case#*:}" = 0 ] || t_err_line "answer ${case%%:*}: one line with the server's message" \
		    "stand-in says ${case%%:*}"
	done
	t_check "the admin token was never printed" sh -c \
	    "! grep -rqF '$(cat fk/admin.token)' '$T/out' '$T/err'"
	cp -p fk/org.cfg fk/org.cfg.good
	sed -i 's|^pin = .*|pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";|' fk/org.cfg
	t_exit 77 "pin mismatch exits 77" "$ENROLL" revoke --org fk 0123456789abcdef
	t_err_line "pin mismatch: one line" 'does not match the pin'
	cp -p fk/org.cfg.good fk/org.cfg
	cp enc/server.crt fk/server.crt
	t_exit 77 "another certificate exits 77" "$ENROLL" revoke --org fk 0123456789abcdef
	kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fake_pid=
else
	echo "# no python3: stand-in server checks skipped"
fi

t_done
