#!/bin/bash
# muster-enroll init, lint, sign, verify with real files, and interop with
# Debian's stock minisign in both directions.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
P=$TOP/profiles/iaf-personnel.cfg
printf 'correct horse\n' >pass; chmod 600 pass
printf 'wrong horse\n' >wrong; chmod 600 wrong

# --- help, version, usage -------------------------------------------------
t_exit 0 "--help" "$ENROLL" --help
t_grep "--help lists sign" "sign" "$T/out"
t_exit 0 "--version" "$ENROLL" --version
for c in init lint sign verify; do
	t_exit 0 "$c --help" "$ENROLL" "$c" --help
done
"$ENROLL" init --help >h; for o in --org --server --no-passphrase admin.token server.cfg; do
	t_grep "init --help names $o" "$o" h; done
"$ENROLL" sign --help >h; for o in --org --key --output; do
	t_grep "sign --help names $o" "$o" h; done
"$ENROLL" verify --help >h; for o in --pub --org --sig; do
	t_grep "verify --help names $o" "$o" h; done
t_exit 64 "no command" "$ENROLL"
t_exit 64 "unknown command" "$ENROLL" frobnicate
t_err_line "unknown command: one line" "unknown command"
t_exit 64 "unknown option" "$ENROLL" sign --bogus x.cfg
t_err_line "unknown option: one line" "bad option"
t_exit 64 "init without --server" "$ENROLL" init --org o
t_exit 64 "init with an http URL" "$ENROLL" init --org o --server http://x
t_exit 64 "init with a URL path" "$ENROLL" init --org o --server https://h/p
t_check "bad init created nothing" test ! -e o

# --- init ----------------------------------------------------------------
t_exit 0 "init --no-passphrase" "$ENROLL" init --org org --server \
    https://127.0.0.1:8443 --no-passphrase
t_check "org dir is 0700" test "$(stat -c %a org)" = 700
t_check "org.key is 0600" test "$(stat -c %a org/org.key)" = 600
t_check "server.key is 0600" test "$(stat -c %a org/server.key)" = 600
for f in org.pub org.cfg server.crt server.pin; do
	t_check "init wrote $f" test -s "org/$f"
done
t_grep "org.cfg names the server" 'server = "https://127.0.0.1:8443"' org/org.cfg
t_grep "unencrypted key as minisign -W" '^RWQAAEIy' org/org.key
pin=$(openssl x509 -in org/server.crt -pubkey -noout |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
t_check "server.pin matches openssl's SPKI hash" \
    test "$(cat org/server.pin)" = "sha256//$pin"
t_check "certificate names 127.0.0.1" \
    sh -c 'openssl x509 -in org/server.crt -noout -ext subjectAltName | grep -q "IP Address:127.0.0.1"'
t_check "admin.token is 0600" test "$(stat -c %a org/admin.token)" = 600
t_check "admin.token is 64 lowercase hex and a newline" \
    sh -c "grep -Eqx '[0-9a-f]{64}' org/admin.token && test \$(wc -c <org/admin.token) = 65"
t_check "server.cfg is 0600" test "$(stat -c %a org/server.cfg)" = 600
t_grep "server.cfg listens on the URL's host" '^listen = "127.0.0.1";' org/server.cfg
t_grep "server.cfg has the URL's port" '^port = 8443;$' org/server.cfg
for f in 'tls_cert = "server.crt";' 'tls_key = "server.key";' \
    'root_dir = "root";' 'data_dir = "data";' 'log = "stderr";' \
    'log_level = "info";' 'max_body = 65536;' 'threads = 4;'; do
	t_grep "server.cfg: $f" "$f" org/server.cfg
done
h=$(tr -d '\n' <org/admin.token | b2sum -l 256 | cut -d' ' -f1)
t_grep "server.cfg holds BLAKE2b-256 of the admin token" \
    "^admin_token_hash = \"$h\";" org/server.cfg
t_check "server.cfg does not hold the admin token" \
    sh -c "! grep -qF \"\$(cat org/admin.token)\" org/server.cfg"
sum=$(cat org/* org/root/* 2>/dev/null | sha256sum)
t_exit 73 "init refuses an existing org dir" "$ENROLL" init --org org \
    --server https://127.0.0.1:8443 --no-passphrase
t_err_line "existing dir: one line" "already exists"
t_check "existing org untouched" test "$(cat org/* org/root/* 2>/dev/null | sha256sum)" = "$sum"
mkdir empty
t_exit 73 "init refuses even an empty dir" "$ENROLL" init --org empty \
    --server https://muster.example.org --no-passphrase
t_check "empty dir stays empty" test -z "$(ls -A empty)"

MUSTER_PASSPHRASE_FILE=$T/pass t_exit 0 "init with a passphrase file" \
    "$ENROLL" init --org enc --server https://[::1]:8443
t_grep "encrypted key (scrypt)" '^RWRTY0Iy' enc/org.key
t_grep "IPv6 host listened on without brackets" '^listen = "::1";' enc/server.cfg
"$ENROLL" init --org dns --server https://muster.example.org --no-passphrase >/dev/null
t_grep "a DNS name listens on every IPv4 address" '^listen = "0.0.0.0";' dns/server.cfg
t_grep "default port 443" '^port = 443;$' dns/server.cfg
t_check "two orgs, two admin tokens" test "$(cat org/admin.token)" != "$(cat dns/admin.token)"
t_exit 64 "init with no passphrase source and no terminal" "$ENROLL" init \
    --org nopass --server https://127.0.0.1
t_check "failed init leaves nothing" sh -c '! ls -d nopass* 2>/dev/null'
chmod 644 wrong
MUSTER_PASSPHRASE_FILE=$T/wrong t_exit 78 "passphrase file others can read" \
    "$ENROLL" init --org loose --server https://127.0.0.1
chmod 600 wrong

# --- lint ----------------------------------------------------------------
t_exit 0 "lint iaf-personnel" "$ENROLL" lint "$P"
t_exit 0 "lint family-optin" "$ENROLL" lint "$TOP/profiles/family-optin.cfg"
t_exit 66 "lint a missing file" "$ENROLL" lint nope.cfg
t_err_line "missing file: one line naming it" "nope.cfg"
sed 's/^\([[:space:]]*\)expect = /\1expct = /' "$P" >typo.cfg
t_exit 65 "lint an unknown field" "$ENROLL" lint typo.cfg
t_err_line "unknown field: file:line" '^muster-enroll: typo.cfg:[0-9]+: .*expct'
{ echo '@include "/etc/passwd"'; cat "$P"; } >inc.cfg
t_exit 65 "lint an @include" "$ENROLL" lint inc.cfg
t_err_line "@include: file:line" 'inc.cfg:1:'
head -c 300000 /dev/zero | tr '\0' '#' >big.cfg
t_exit 65 "lint an oversized file" "$ENROLL" lint big.cfg
sed 's/^expires = .*/expires = "2014-10-19T00:00:00Z";/' "$P" >old.cfg
t_exit 65 "lint an expired profile" "$ENROLL" lint old.cfg

# --- sign and verify -----------------------------------------------------
cp "$P" p.cfg
t_exit 0 "sign" "$ENROLL" sign --org org p.cfg
t_grep "trusted comment names the profile" \
    '^trusted comment: muster-profile id=iaf-personnel serial=1 scope=personnel expires=' p.cfg.minisig
t_exit 0 "verify --org" "$ENROLL" verify --org org p.cfg
for f in 'id: +iaf-personnel' 'serial: +1' 'scope: +personnel' \
    'expires: +20' "key id: +$(sed -n 's/key_id = "\(.*\)";/\1/p' org/org.cfg)"; do
	t_grep "verify prints $f" "$f" "$T/out"
done
t_exit 0 "verify --pub" "$ENROLL" verify --pub org/org.pub p.cfg
MUSTER_ORG=$T/org t_exit 0 "verify with MUSTER_ORG" "$ENROLL" verify p.cfg
t_exit 0 "stock minisign -V verifies a muster signature" \
    minisign -V -p org/org.pub -m p.cfg
t_exit 65 "sign refuses a profile that does not lint" "$ENROLL" sign \
    --org org typo.cfg
t_check "no signature written for it" test ! -e typo.cfg.minisig
t_exit 66 "sign a missing file" "$ENROLL" sign --org org nope.cfg
t_exit 66 "verify without a signature file" "$ENROLL" verify --org org typo.cfg

# Forgeries: every one exits 77 (trust) or 65 (malformed), with one line.
cp p.cfg.minisig good.sig
for off in 0 17 100 500 1000 $(($(stat -c %s p.cfg) - 2)); do
	cp p.cfg t.cfg; cp good.sig t.cfg.minisig
	printf '\x01' | dd of=t.cfg bs=1 seek="$off" conv=notrunc 2>/dev/null
	t_exit 77 "profile byte $off changed" "$ENROLL" verify --org org t.cfg
	t_err_line "changed profile: one line" 'signature verification failed'
done
cp p.cfg t.cfg
sl=$(stat -c %s good.sig)
for off in 60 80 150 $((sl - 20)) $((sl - 5)); do
	cp good.sig t.cfg.minisig
	c=$(dd if=good.sig bs=1 skip="$off" count=1 2>/dev/null)
	n=$( [ "$c" = A ] && echo B || echo A )
	printf '%s' "$n" | dd of=t.cfg.minisig bs=1 seek="$off" conv=notrunc 2>/dev/null
	"$ENROLL" verify --org org t.cfg >/dev/null 2>err; rc=$?
	t_check "signature byte $off changed: refused ($rc)" \
	    test "$rc" = 77 -o "$rc" = 65
done
head -c 150 good.sig >t.cfg.minisig
t_exit 65 "truncated signature" "$ENROLL" verify --org org t.cfg
t_err_line "truncated: one line" 'not a minisign signature'
: >t.cfg.minisig
t_exit 65 "empty signature" "$ENROLL" verify --org org t.cfg
t_err_line "empty: one line" 'empty signature'
sed 's/^trusted comment: muster-profile id=iaf-personnel serial=1/trusted comment: muster-profile id=iaf-personnel serial=9/' good.sig >t.cfg.minisig
t_exit 77 "edited trusted comment" "$ENROLL" verify --org org t.cfg
t_err_line "edited trusted comment: one line" 'trusted comment'
sed 's/^trusted comment: muster/trusted comment: \x07muster/' good.sig >t.cfg.minisig
t_exit 65 "control character in trusted comment" "$ENROLL" verify --org org t.cfg
sed '1s/.*/untrusted comment: edited by anyone, still fine/' good.sig >t.cfg.minisig
t_exit 0 "edited untrusted comment still verifies" "$ENROLL" verify --org org t.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org f.cfg >/dev/null
cp f.cfg.minisig t.cfg.minisig
t_exit 77 "signature of another file" "$ENROLL" verify --org org t.cfg
t_exit 77 "wrong public key" "$ENROLL" verify --pub enc/org.pub p.cfg
t_err_line "wrong key: one line" 'not by the trusted key'
old_sig=$(mktemp -p "$T")
MUSTER_PASSPHRASE_FILE=$T/wrong t_exit 77 "sign with the wrong passphrase" \
    "$ENROLL" sign --org enc p.cfg
t_err_line "wrong passphrase: one line" 'wrong passphrase'
MUSTER_PASSPHRASE_FILE=$T/pass t_exit 0 "sign with the right passphrase" \
    "$ENROLL" sign --org enc p.cfg -o enc.sig
t_exit 0 "verify the encrypted key's signature" "$ENROLL" verify \
    --org enc --sig enc.sig p.cfg
chmod 644 org/org.key
t_exit 78 "sign refuses an org.key others can read" "$ENROLL" sign --org org p.cfg
t_err_line "loose key: one line" 'chmod 0600'
chmod 600 org/org.key
# A symbolic link in place of the key is refused, even to a good key
# (checked on the file opened, O_NOFOLLOW: no window for a swap).
mkdir lnk; cp org/org.pub lnk/; ln -s "$T/org/org.key" lnk/org.key
t_exit 78 "sign refuses an org.key that is a symbolic link" "$ENROLL" sign \
    --org lnk p.cfg
t_err_line "linked key: one line" 'org.key: is a symbolic link'
mkdir mix; cp org/org.pub mix/; cp enc/org.key mix/
MUSTER_PASSPHRASE_FILE=$T/pass t_exit 78 "sign refuses a key not matching org.pub" \
    "$ENROLL" sign --org mix p.cfg
t_err_line "mismatched key: one line" 'does not belong to'
t_exit 64 "--org and --key together" "$ENROLL" sign --org org --key ms.key p.cfg
rm -f "$old_sig"

# --- stock minisign keys and signatures ----------------------------------
minisign -G -W -p ms.pub -s ms.key >/dev/null 2>&1
printf 'ms pass\nms pass\n' | minisign -G -p mse.pub -s mse.key >/dev/null 2>&1
cp "$P" m.cfg
minisign -S -s ms.key -m m.cfg >/dev/null 2>&1
t_exit 0 "minisign -S (no passphrase) verifies with muster" \
    "$ENROLL" verify --pub ms.pub m.cfg
t_grep "minisign's trusted comment shown" 'trusted comment: timestamp:' "$T/out"
minisign -S -l -s ms.key -m m.cfg -x legacy.sig >/dev/null 2>&1
t_exit 0 "legacy minisign -l signature verifies" "$ENROLL" verify \
    --pub ms.pub --sig legacy.sig m.cfg
printf 'ms pass\n' | minisign -S -s mse.key -m m.cfg -x e.sig >/dev/null 2>&1
t_exit 0 "minisign -S (passphrase) verifies with muster" "$ENROLL" verify \
    --pub mse.pub --sig e.sig m.cfg
t_exit 0 "muster signs with a minisign -W key" "$ENROLL" sign --key ms.key \
    -o ms-by-muster.sig m.cfg
t_exit 0 "minisign verifies it" minisign -V -p ms.pub -x ms-by-muster.sig -m m.cfg
printf 'ms pass\n' >msp; chmod 600 msp
MUSTER_PASSPHRASE_FILE=$T/msp t_exit 0 "muster signs with an encrypted minisign key" \
    "$ENROLL" sign --key mse.key -o mse-by-muster.sig m.cfg
t_exit 0 "minisign verifies that too" minisign -V -p mse.pub \
    -x mse-by-muster.sig -m m.cfg
t_exit 77 "minisign key is not the org key" "$ENROLL" verify --org org \
    --sig ms-by-muster.sig m.cfg

t_done
