#!/bin/bash
# muster-agent without the network: trust, install (and every refusal),
# check on sim devices, remediation, egress with a real TCP connection.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
TCPHOLD="$MUSTER_BIN/../tests/tools/tcphold"
DEV=$TOP/examples/devices
S=$T/state
A() { "$AGENT" --state "$S" "$@"; }

"$ENROLL" init --org org --server https://127.0.0.1:8443 --no-passphrase >/dev/null
"$ENROLL" init --org other --server https://127.0.0.1:8443 --no-passphrase >/dev/null
# mk NAME SERIAL [sed-expr]: a copy of iaf-personnel with the given serial.
mk() {
	sed -e "s/^serial = .*/serial = $2;/" ${3:+-e "$3"} \
	    "$TOP/profiles/iaf-personnel.cfg" >"$1"
}
mk p1.cfg 1; "$ENROLL" sign --org org p1.cfg >/dev/null
mk p2.cfg 2; "$ENROLL" sign --org org p2.cfg >/dev/null
mk p3.cfg 3; "$ENROLL" sign --org org p3.cfg >/dev/null

# --- help and usage --------------------------------------------------------
t_exit 0 "--help" "$AGENT" --help
t_exit 0 "--version" "$AGENT" --version
for c in trust install check status explain; do
	t_exit 0 "$c --help" "$AGENT" "$c" --help
done
"$AGENT" check --help >h
for o in --json --remediate --device --state; do
	t_grep "check --help names $o" "$o" h
done
t_exit 64 "unknown command" "$AGENT" --state "$S" frob
t_exit 64 "bad option" A check --frob
t_exit 78 "check before any trust" A --device "sim:$DEV/clean.cfg" check
t_err_line "no state: one line" 'trust'

# --- trust ---------------------------------------------------------------
t_exit 66 "trust a missing key" A trust nope.pub
t_exit 65 "trust a garbage key" A trust /etc/hostname
t_exit 0 "trust" A trust org/org.pub
t_check "state dir is 0700" test "$(stat -c %a "$S")" = 700
t_check "anchor is 0600" test "$(stat -c %a "$S/org.pub")" = 600
t_exit 77 "trust never replaces the anchor" A trust other/org.pub
t_err_line "anchor replace: one line" 'already set'
t_exit 0 "status" A status
t_grep "status names the key id" \
    "$(sed -n 's/key_id = "\(.*\)";/\1/p' org/org.cfg)" "$T/out"
t_grep "status says never checked" 'last check: +never' "$T/out"

# --- install and refusals ------------------------------------------------
t_exit 0 "install serial 2" A install p2.cfg
t_exit 0 "install it again (identical)" A install p2.cfg
t_grep "identical is already installed" 'already installed' "$T/out"
t_check "installed file is 0600" \
    test "$(stat -c %a "$S/profiles/iaf-personnel.profile")" = 600

installed() {	# the serial status reports for iaf-personnel
	A status | sed -n 's/^ *iaf-personnel *serial \([0-9]*\).*/\1/p'
}
refused() {	# refused CODE NAME PROFILE [SIG]
	local code=$1 name=$2; shift 2
	t_exit "$code" "$name is refused" A install "$@"
	t_check "$name: one error line" test "$(wc -l <"$T/err")" -eq 1
	t_check "$name: serial 2 still installed" test "$(installed)" = 2
}
cp p3.cfg t.cfg; cp p3.cfg.minisig t.cfg.minisig
printf 'X' | dd of=t.cfg bs=1 seek=700 conv=notrunc 2>/dev/null
refused 77 "tampered profile" t.cfg
t_grep "tampered: names the signature" 'signature verification failed' "$T/err"
refused 77 "rolled-back profile (serial 1)" p1.cfg
t_grep "rollback: says so" 'rollback' "$T/err"
mk same.cfg 2 's/^title = .*/title = "other content";/'
"$ENROLL" sign --org org same.cfg >/dev/null
refused 77 "same serial, other content" same.cfg
mk old.cfg 4 's/^expires = .*/expires = "2014-10-19T00:00:00Z";/'
tc="muster-profile id=iaf-personnel serial=4 scope=personnel expires=2014-10-19T00:00:00Z"
minisign -S -s org/org.key -m old.cfg -t "$tc" >/dev/null 2>&1
refused 77 "expired profile" old.cfg
t_grep "expired: says so" 'expired' "$T/err"
# A FIFO (or a device) as the profile or its signature: refused at once,
# never waited on (timeout guards against a hang).
mkfifo fifo.cfg fifo2.cfg
cp p3.cfg.minisig fifo.cfg.minisig
t_exit 65 "a FIFO as the profile is refused" timeout 10 "$AGENT" \
    --state "$S" install fifo.cfg
t_err_line "FIFO profile: one line" 'fifo.cfg: not a regular file'
t_exit 65 "a FIFO as the signature is refused" timeout 10 "$AGENT" \
    --state "$S" install p3.cfg fifo2.cfg
t_err_line "FIFO signature: one line" 'fifo2.cfg: not a regular file'
t_check "FIFOs: serial 2 still installed" test "$(installed)" = 2
cp "$TOP/profiles/family-optin.cfg" fam.cfg
"$ENROLL" sign --org org fam.cfg >/dev/null
refused 77 "family profile on a personnel device" fam.cfg
t_grep "scope: says so" 'scope family' "$T/err"
mk wk.cfg 5; "$ENROLL" sign --org other wk.cfg >/dev/null
refused 77 "profile signed by another key" wk.cfg
{ cat p3.cfg; head -c 270000 /dev/zero | tr '\0' '#'; } >big.cfg
minisign -S -s org/org.key -m big.cfg >/dev/null 2>&1
refused 65 "oversized profile" big.cfg
refused 66 "profile without a signature" p3.cfg nope.minisig
head -c 100 p3.cfg.minisig >trunc.sig
refused 65 "truncated signature" p3.cfg trunc.sig
printf '@include "/etc/passwd"\n' | cat - p3.cfg >inc.cfg
minisign -S -s org/org.key -m inc.cfg >/dev/null 2>&1
refused 65 "signed profile with @include" inc.cfg
t_exit 0 "check still enforces the old profile" A --device \
    "sim:$DEV/clean.cfg" check
t_grep "check shows serial 2" 'profile iaf-personnel serial 2' "$T/out"

# --- check on sim devices ------------------------------------------------
t_exit 1 "redmi-1s is non-compliant" A --device "sim:$DEV/redmi-1s.cfg" check
t_grep "model-ban reason" 'redmi-1s-unfixed .* fail .*model "HM 1SW" is banned; build [^ ]+ < required KHHMIBH45.0' "$T/out"
t_grep "summary line" '^status: noncompliant' "$T/out"
t_exit 0 "redmi-1s on the fixed build passes" A --device \
    "sim:$DEV/redmi-1s-fixed.cfg" check
t_grep "model-ban passes for the fixed build" 'redmi-1s-unfixed .* pass ' "$T/out"
t_exit 0 "clean device is compliant" A --device "sim:$DEV/clean.cfg" check
t_exit 0 "status after a check" A status
t_grep "status shows the last check" 'last check: +20.* compliant' "$T/out"

cp "$DEV/cloud-sync-on.cfg" sync.cfg
sum=$(sha256sum <sync.cfg)
t_exit 1 "cloud sync on: non-compliant" A --device sim:sync.cfg check
t_grep "cloud sync fails" 'mi-cloud-sync-off .* fail ' "$T/out"
t_check "check without --remediate changed nothing" \
    test "$(sha256sum <sync.cfg)" = "$sum"
t_exit 0 "check --remediate fixes it" A --device sim:sync.cfg check --remediate
t_grep "cloud sync remediated" 'mi-cloud-sync-off .* remediated ' "$T/out"
t_grep "cloud messaging remediated" 'cloud-messaging-off .* remediated ' "$T/out"
t_check "the device file changed" test "$(sha256sum <sync.cfg)" != "$sum"
t_exit 0 "a second check passes" A --device sim:sync.cfg check
t_grep "cloud sync now passes" 'mi-cloud-sync-off .* pass ' "$T/out"

cp "$DEV/redmi-1s.cfg" redmi.cfg
t_exit 1 "redmi-1s --remediate (model ban stays)" A --device sim:redmi.cfg \
    check --remediate
t_grep "banned packages disabled" 'vendor-cloud-packages .* remediated ' "$T/out"
t_exit 1 "after remediation only unfixable rules fail" A --device \
    sim:redmi.cfg check --json
t_grep "json: packages now pass" '"id": "vendor-cloud-packages"' "$T/out"
t_check "json: packages rule passes" sh -c \
    "tr -d '\n ' <'$T/out' | grep -q '\"id\":\"vendor-cloud-packages\",\"kind\":\"package-ban\",\"severity\":\"high\",\"title\":\"[^\"]*\",\"result\":\"pass\"'"
t_check "json: status noncompliant" sh -c \
    "grep -q '\"status\": \"noncompliant\"' '$T/out'"

# --- bad device input ----------------------------------------------------
printf 'manufacturer = "Xiaomi";\nmodel = ;\n' >bad.cfg
t_exit 65 "malformed sim device file" A --device sim:bad.cfg check
t_err_line "malformed device: file:line" 'bad.cfg:2'
t_exit 66 "missing sim device file" A --device sim:nope.cfg check
t_exit 64 "unknown backend" A --device frob check

# --- egress-deny with a real TCP connection -------------------------------
cat >egress3.cfg <<'EOP'
id = "egress-test";
serial = 1;
expires = "2030-01-01T00:00:00Z";
scope = "personnel";
rules = (
	{ id = "no-127-0-0-3"; kind = "egress-deny"; severity = "high";
	  title = "No connection to 127.0.0.3"; cidrs = [ "127.0.0.3/32" ]; }
);
EOP
sed 's/127\.0\.0\.3/127.0.0.4/g; s/no-127-0-0-3/no-127-0-0-4/' egress3.cfg >egress4.cfg
"$ENROLL" sign --org org egress3.cfg >/dev/null
"$ENROLL" sign --org org egress4.cfg >/dev/null
E3=$T/e3; E4=$T/e4
"$AGENT" --state "$E3" trust org/org.pub >/dev/null
"$AGENT" --state "$E3" install egress3.cfg >/dev/null
"$AGENT" --state "$E4" trust org/org.pub >/dev/null
"$AGENT" --state "$E4" install egress4.cfg >/dev/null
t_exit 1 "a connection to 127.0.0.3 is caught" "$TCPHOLD" 127.0.0.3 \
    "$AGENT" --state "$E3" --device "sim:$DEV/clean.cfg" check
t_grep "egress reason names the address" 'no-127-0-0-3 .* fail .*127\.0\.0\.3' "$T/out"
t_exit 0 "not by a profile denying 127.0.0.4" "$TCPHOLD" 127.0.0.3 \
    "$AGENT" --state "$E4" --device "sim:$DEV/clean.cfg" check

# --- the android backend, through executables that act as getprop,
# settings and pm do (tests/android-bin) -----------------------------------
# droid DIR BUILD: a fake phone like examples/devices/redmi-1s.cfg.
droid() {
	mkdir -p "$1"; cp "$TOP"/tests/android-bin/* "$1/"
	mkdir -p "$1/state/settings/secure"
	printf '%s\n' ro.product.manufacturer=Xiaomi "ro.product.model=HM 1SW" \
	    "ro.build.version.incremental=$2" ro.build.version.release=4.4.4 \
	    >"$1/state/props"
	for k in mi_cloud_sync_enabled mi_cloud_messaging_enabled \
	    mi_cloud_backup_enabled; do
		printf 1 >"$1/state/settings/secure/$k"
	done
	printf '%s\n' "com.android.settings enabled" \
	    "com.miui.cloudservice enabled" "com.xiaomi.xmsf enabled" \
	    >"$1/state/packages"
}
droid "$T/old" KHHMIBF5.0
droid "$T/new" KHHMIBH52.0
t_exit 1 "android: redmi-1s on the old build is non-compliant" \
    A --device "android:$T/old" check
t_grep "android: model-ban reason" 'redmi-1s-unfixed .* fail .*model "HM 1SW" is banned; build KHHMIBF5.0 < required KHHMIBH45.0' "$T/out"
t_grep "android: cloud sync fails" 'mi-cloud-sync-off .* fail ' "$T/out"
t_check "android: check changed nothing" \
    test "$(cat "$T/new/state/settings/secure/mi_cloud_sync_enabled")" = 1
t_exit 1 "android: the fixed build, before remediation" \
    A --device "android:$T/new" check
t_grep "android: model-ban passes on the fixed build" 'redmi-1s-unfixed .* pass ' "$T/out"
t_exit 0 "android: --remediate makes it compliant" \
    A --device "android:$T/new" check --remediate
t_grep "android: settings remediated" 'cloud-backup-off .* remediated ' "$T/out"
t_grep "android: packages disabled" 'vendor-cloud-packages .* remediated ' "$T/out"
t_check "android: settings put reached the phone" \
    test "$(cat "$T/new/state/settings/secure/mi_cloud_sync_enabled")" = 0
t_grep "android: pm disable-user reached the phone" 'com.xiaomi.xmsf disabled' \
    "$T/new/state/packages"
t_exit 0 "android: a second check passes" A --device "android:$T/new" check
echo settings:hang >"$T/new/mode"
t_exit 1 "android: a hanging settings command" \
    A --device "android:$T/new:300" check
t_grep "android: hang is an error for setting rules" \
    'mi-cloud-sync-off .* error .*' "$T/out"
t_grep "android: other rules still evaluated" 'redmi-1s-unfixed .* pass ' "$T/out"
echo getprop:garbage >"$T/new/mode"
t_exit 1 "android: getprop printing garbage" A --device "android:$T/new:300" check
t_grep "android: garbage is an error for model-ban" 'redmi-1s-unfixed .* error ' "$T/out"
echo pm:fail >"$T/new/mode"
t_exit 1 "android: a failing pm" A --device "android:$T/new:300" check
t_grep "android: failing pm is an error" 'vendor-cloud-packages .* error ' "$T/out"
rm "$T/new/mode"

# --- explain and permissions ---------------------------------------------
t_exit 0 "explain" A explain
t_grep "explain names a setting read" 'secure/mi_cloud_sync_enabled' "$T/out"
t_grep "explain lists report fields" 'seq' "$T/out"
t_grep "explain says no IMEI" 'never reads the IMEI' "$T/out"
chmod 755 "$S"
t_exit 78 "a state dir others can read is refused" A status
t_err_line "loose state: one line" 'chmod 0700'
chmod 700 "$S"; chmod 644 "$S/org.pub"
t_exit 78 "an anchor others can read is refused" A status
chmod 600 "$S/org.pub"
t_exit 0 "status again once fixed" A status
mv "$S/org.pub" "$T/anchor.pub"; ln -s "$T/anchor.pub" "$S/org.pub"
t_exit 78 "an anchor that is a symbolic link is refused" A status
t_err_line "linked anchor: one line" 'org.pub: is a symbolic link'
rm "$S/org.pub"; mv "$T/anchor.pub" "$S/org.pub"
t_exit 0 "status again once the link is gone" A status

t_done
