#!/bin/bash
# Family privacy as a number (issue 12, items 1 and 2; docs/privacy.md),
# attacked as the organisation would, on loopback with real processes: a
# real muster-server (TLS, SQLite), real family phones (muster-agent on
# sim devices) enrolled with consent and run by the agent.
#
#  A. The member's own `check` shows the truth; the report carries the
#     mechanism's answers (pass or fail, "privacy":"rr1"); repeated
#     reports repeat the memoized answers, so they cannot be averaged;
#     the memo secret is a 0600 file the unenroll wipes.
#  B. Differencing, literally: a unit of six, roll-ups (by unit, by
#     rule, CSV) before and after revoking one member and --as-of either
#     side of the revocation: no figure in them says anything of the
#     member's results (the estimates are withheld, no exact family
#     count exists); only the member count the organisation itself
#     changed differs.
#  C. Sybils, literally: the target alone in a unit plus four family
#     phones the attacker enrolls and runs itself (compliant): the unit
#     crosses k = 5 and still shows no result.
#  D. The attacker holding the whole database.  Whatever differencing or
#     sybils isolate, the most they can isolate is the target's own
#     stored answers, which the attacker here reads straight from the
#     SQLite file (sybils: the unit's failing rows minus the sybils' own
#     answers, which the attacker knows from their sent/ reports).  Over
#     many trials (the target's memo state reset between trials, so that
#     each trial is a fresh phone in the same situation: real agent runs,
#     real reports, real server) the attacker's success at guessing the
#     target's true result must stay within the bound computed from
#     epsilon: e^eps / (1 + e^eps) = 0.75 (plus 3.5 standard deviations of
#     the trial count); it must also not fall far below it, or the
#     mechanism would not be the one the estimates assume.
#  E. An organisation-wide estimate: 2,000 family phones (their answers
#     made by the real mechanism with a per-phone secret, by
#     tests/tools/rrsim, written through the store's loader: the one
#     thing here that does not go through the server's ingest) lie within
#     the intervals `muster-server report` prints, and the printed
#     figures are the stated estimator applied to the stored answers.
#  F. Consent that is true: the text a member agreed to says, rule by
#     rule, what a result tells and that the answer sent is the true one
#     3 times in 4.  Oracles: family profiles whose rules together pin
#     down the OS version, the model, the installed apps, the connections
#     or a setting's value are warned about (2-3 rules) or refused (more:
#     lint and sign 65; publish of one signed by hand with stock
#     minisign's format, 65).
#
# Every loop is bounded; the server is killed on exit by its pid.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
RRSIM="$MUSTER_BIN/../tests/tools/rrsim"
DEV=$TOP/examples/devices
SPID=
TRIALS=${TRIALS:-60}
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT
R() { "$SERVER" report --config org/server.cfg "$@"; }
DB=org/data/muster.db
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }

if [ ! -x "$SERVER" ] || [ ! -x "$RRSIM" ] || ! command -v sqlite3 >/dev/null; then
	t_skip "muster-server, rrsim or sqlite3 missing"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
up=
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
[ -n "$up" ] || { echo "Bail out! muster-server did not start"; sed 's/^/# /' server.log; exit 1; }
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org f.cfg >/dev/null
t_exit 0 "publish the family profile (two rules)" "$ENROLL" publish --org org f.cfg

# device NAME UNIT SIM: a family phone, a copy of SIM, enrolled with consent.
device() {
	cp "$DEV/$3.cfg" "$1.cfg"
	"$ENROLL" token --org org --scope family --unit "$2" --person "$1" \
	    -o "$1.bundle" >/dev/null &&
	"$AGENT" --state "st-$1" --device "sim:$T/$1.cfg" enroll "$1.bundle" \
	    --consent >"$1.log" 2>&1
}
run() { "$AGENT" --state "st-$1" --device "sim:$T/$1.cfg" run --once >>"$1.log" 2>&1; }
devid() { sed -n 's/^device_id = "\(.*\)";/\1/p' "st-$1/agent.cfg"; }
# answers NAME: the rules the device's newest stored report fails, as the
# attacker reads them from the database ("redmi-1s-unfixed cloud-...").
answers() { q "SELECT rule FROM device_failing WHERE device = '$(devid "$1")' ORDER BY rule" | tr '\n' ' '; }

# --- A. the member sees the truth; the server gets the mechanism's answer
device T1 IAF/D redmi-1s || t_fail "T1 enrolls"
t_exit 1 "the member's own check: non-compliant" "$AGENT" --state st-T1 --device "sim:$T/T1.cfg" check
t_grep "check shows the truth: the model ban fails" 'redmi-1s-unfixed .* fail ' "$T/out"
t_grep "check shows the truth: cloud messaging fails" 'cloud-messaging-off .* fail ' "$T/out"
for i in 1 2 3; do run T1; done
t_check "three reports sent" test -e st-T1/sent/3.json
t_grep "the report names the mechanism" '"privacy":"rr1"' st-T1/sent/1.json
t_check "the report's results are the mechanism's words only" sh -c \
    "! grep -Eq 'remediated|error|detail|model' st-T1/sent/1.json"
t_check "memoized: three reports, the same answers (nothing to average)" sh -c "
    for f in st-T1/sent/1.json st-T1/sent/2.json st-T1/sent/3.json; do
	sed 's/.*\"results\"://' \$f; echo; done | sort -u | wc -l | grep -qx 1"
t_exit 0 "status on the member's phone" "$AGENT" --state st-T1 status
t_grep "status says the answers are randomized, 3 times in 4, epsilon ln 3" '^privacy: +results sent randomized: the true one 3 times in 4 \(epsilon ln 3 = 1\.10$' "$T/out"
t_exit 0 "explain on the member's phone" "$AGENT" --state st-T1 --device "sim:$T/T1.cfg" explain
t_grep "explain says each result is randomized, the true one 3 times in 4" 'each family result is randomized before it leaves: the true one 3 times in 4' "$T/out"
t_grep "explain states epsilon per rule" 'epsilon ln 3 = 1\.10 per rule' "$T/out"
t_check "the memo secret is 0600" test "$(stat -c %a st-T1/rr.state)" = 600
t_check "the memo holds a key and two questions" test "$(grep -c '^q ' st-T1/rr.state)" = 2

# --- B. differencing: a unit of six, before and after one leaves --------
for n in T2 T3 T4 T5 T6; do device "$n" IAF/D clean || t_fail "$n enrolls"; run "$n"; done
t_exit 0 "roll-up by unit before" R --by unit --format csv
cp "$T/out" before-unit.csv
t_exit 0 "roll-up by rule before" R --by rule --format csv
cp "$T/out" before-rule.csv
t_check "before: unit D counts six family phones, estimate withheld" \
    grep -q '^IAF/D,0,0,0,0,0,6,no,6,,,,withheld' before-unit.csv
sleep 1
t_before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
t_exit 0 "revoke the target's phone" "$ENROLL" revoke --org org "$(devid T1)"
sleep 1
t_after=$(date -u +%Y-%m-%dT%H:%M:%SZ)
t_exit 0 "roll-up by unit after" R --by unit --format csv
cp "$T/out" after-unit.csv
t_exit 0 "roll-up by rule after" R --by rule --format csv
cp "$T/out" after-rule.csv
t_check "after: five, estimate withheld" \
    grep -q '^IAF/D,0,0,0,0,0,5,no,5,,,,withheld' after-unit.csv
# The only cells that differ are the member counts (family, reporting).
strip() { tr -d '\r' <"$1" | awk -F, -v OFS=, '{ $7 = ""; $9 = ""; print }'; }
t_check "differencing by unit: nothing but the member count differs" \
    cmp -s <(strip before-unit.csv) <(strip after-unit.csv)
strip_rule() { tr -d '\r' <"$1" | awk -F, -v OFS=, '{ $(NF-4) = ""; print }'; }
t_check "differencing by rule: nothing but the member count differs" \
    cmp -s <(strip_rule before-rule.csv) <(strip_rule after-rule.csv)
t_check "by rule: no exact family failing count, no printed estimate" sh -c \
    "tr -d '\r' <before-rule.csv | grep -q '^cloud-messaging-off,high,family,0,0,.*,6,,,,withheld$'"
t_exit 0 "--as-of a second before the revocation" R --as-of "$t_before" --by rule --format csv
cp "$T/out" asof-before.csv
t_exit 0 "--as-of after the revocation" R --as-of "$t_after" --by rule --format csv
cp "$T/out" asof-after.csv
t_check "--as-of either side: nothing but the member count differs" \
    cmp -s <(strip_rule asof-before.csv) <(strip_rule asof-after.csv)
t_check "--as-of before: the target's results are in no cell" sh -c \
    "tr -d '\r' <asof-before.csv | grep -q '^cloud-messaging-off,.*,6,,,,withheld$'"

# --- C. sybils: the target alone, plus four phones the attacker runs ----
device S1 IAF/S redmi-1s || t_fail "S1 (the target) enrolls"
run S1
for n in Y1 Y2 Y3 Y4; do device "$n" IAF/S clean || t_fail "sybil $n enrolls"; run "$n"; done
t_exit 0 "roll-up by unit with the sybils" R --by unit --format csv
t_check "the unit crosses k = 5 and shows no result" \
    grep -q '^IAF/S,0,0,0,0,0,5,no,5,,,,withheld' "$T/out"
t_exit 0 "roll-up by unit (table) with the sybils" R --by unit
t_grep "table: the estimate is withheld (-)" '^IAF/S +0 +0 +0 +0 +0 +5 +-$' "$T/out"

# --- D. many trials, the attacker holding the database -------------------
# Differencing target: T7 (Redmi 1S, cloud messaging on: both rules truly
# fail) and T8 (clean: both truly pass), in unit IAF/E; the sybil target
# S1 (both fail) whose unit the attacker filled with four known phones.
device T7 IAF/E redmi-1s || t_fail "T7 enrolls"
device T8 IAF/E clean || t_fail "T8 enrolls"
for n in Y1 Y2 Y3 Y4; do run "$n"; done
sybil_fails() {	# the sybils' own answers: the attacker reads its phones
	local n c=0
	for n in Y1 Y2 Y3 Y4; do
		f=$(ls st-$n/sent/*.json | sort -t/ -k3 -n | tail -n 1)
		grep -q "\"rule\":\"$1\",\"result\":\"fail\"" "$f" && c=$((c + 1))
	done
	echo $c
}
ok_d=0 n_d=0 ok_s=0 n_s=0
for i in $(seq 1 "$TRIALS"); do
	rm -f st-T7/rr.state st-T8/rr.state st-S1/rr.state
	run T7; run T8; run S1
	a7=$(answers T7); a8=$(answers T8)
	for rule in redmi-1s-unfixed cloud-messaging-off; do
		# guess "fails" iff the stored answer fails
		case " $a7" in *" $rule "*) ok_d=$((ok_d + 1)) ;; esac
		case " $a8" in *" $rule "*) ;; *) ok_d=$((ok_d + 1)) ;; esac
		n_d=$((n_d + 2))
		# sybils: the unit's failing rows minus the sybils' own
		unit=$(q "SELECT count(*) FROM device_failing f JOIN devices d ON d.id = f.device WHERE d.unit = 'IAF/S' AND f.rule = '$rule'")
		[ $((unit - $(sybil_fails "$rule"))) -ge 1 ] && ok_s=$((ok_s + 1))
		n_s=$((n_s + 1))
	done
done
# The bound from epsilon, and the trials' spread around it.
verdict() {	# verdict OK N: "rate lo hi" and exit 0 when within
	awk -v ok="$1" -v n="$2" -v eps=1.0986122886681098 'BEGIN {
		b = exp(eps) / (1 + exp(eps)); sd = sqrt(b * (1 - b) / n)
		r = ok / n; lo = b - 3.5 * sd; hi = b + 3.5 * sd
		printf "%.3f %.3f %.3f %.3f\n", r, b, lo, hi
		exit !(r <= hi && r >= lo) }'
}
v=$(verdict "$ok_d" "$n_d"); rc=$?
echo "# differencing/database attacker: $ok_d of $n_d right; rate, bound, window: $v"
t_check "differencing: attacker's success $ok_d/$n_d within the bound e^eps/(1+e^eps) = 0.75" test "$rc" = 0
v=$(verdict "$ok_s" "$n_s"); rc=$?
echo "# sybil attacker: $ok_s of $n_s right; rate, bound, window: $v"
t_check "sybils: attacker's success $ok_s/$n_s within the bound 0.75" test "$rc" = 0
t_check "every trial reached the server (reports stored)" test \
    "$(q "SELECT count(*) FROM reports WHERE device = '$(devid T7)'")" -ge "$TRIALS"

# --- unenroll wipes the memo ----------------------------------------------
t_exit 0 "the member leaves" "$AGENT" --state st-T8 unenroll
t_check "the memo secret is gone with the state" test ! -e st-T8/rr.state

# --- E. an organisation-wide estimate over 2,000 phones -------------------
mkdir -m 700 pop
sed 's|^data_dir = .*|data_dir = "pop";|' org/server.cfg >org/pop.cfg
chmod 600 org/pop.cfg
mkdir -m 700 org/pop
RRSIM_SEED=1 "$RRSIM" pop org/pop 2000 f.cfg >truth.txt
t_check "2,000 family phones loaded" test "$(wc -l <truth.txt)" = 3
t_exit 0 "roll-up by rule of 2,000 family phones" "$SERVER" report --config org/pop.cfg --by rule --format csv
tr -d '\r' <"$T/out" >pop-rule.csv
within() {	# within RULE TRUTH: the rule's row holds TRUTH (percent) in its interval
	awk -F, -v r="$1" -v t="$2" '$1 == r && $NF == "shown" {
		found = 1; lo = $(NF-2); hi = $(NF-1)
		printf "# %s: truth %.2f, printed %s (%s-%s)\n", (r == "" ? "TOTAL" : r), t, $(NF-3), lo, hi
		ok = (t >= lo - 0.05 && t <= hi + 0.05 && hi - lo <= 20.1)
	} END { exit !(found && ok) }' pop-rule.csv
}
for rule in redmi-1s-unfixed cloud-messaging-off; do
	truth=$(awk -v r="$rule" '$1 == "rule" && $2 == r { sub("failing=", "", $3); print $3 * 100 }' truth.txt)
	t_check "estimate of $rule within its printed interval" within "$rule" "$truth"
	# The printed figure is the stated estimator on the stored answers:
	# (yes/n - 1/4) / (1/2), where yes counts the phones answering fail.
	yes=$(sqlite3 org/pop/muster.db "SELECT count(*) FROM device_failing WHERE rule = '$rule'")
	want=$(awk -v y="$yes" 'BEGIN { e = (y / 2000 - 0.25) / 0.5 * 100; if (e < 0) e = 0; printf "%.1f", e }')
	t_check "$rule: the printed estimate is (yes/n - 1/4)/(1/2) = $want" \
	    awk -F, -v r="$rule" -v w="$want" '$1 == r { exit !($(NF-3) == w) }' pop-rule.csv
done
truth=$(awk -F= '/^compliant=/ { print (1 - $2) * 100 }' truth.txt)
t_check "estimate of phones failing any rule within its printed interval" within "" "$truth"
t_exit 0 "roll-up by unit of 2,000 family phones" "$SERVER" report --config org/pop.cfg --by unit --format csv
t_check "units of 500: the status estimate is too wide, withheld" \
    sh -c "tr -d '\r' <'$T/out' | grep -q '^FAM/A,0,0,0,0,0,500,no,500,,,,withheld$'"
t_check "the organisation: shown" \
    sh -c "tr -d '\r' <'$T/out' | grep -Eq '^,0,0,0,0,0,2000,no,2000,[0-9.]+,[0-9.]+,[0-9.]+,shown$'"

# --- F. the consent text and the oracle lint -------------------------------
t_grep "consent: what the model-ban's result tells" 'its result tells: whether the phone is one of 3 Xiaomi models named, on a build before the fixed one' st-T1/consent.txt
t_grep "consent: what the setting's result tells" 'its result tells: whether the setting secure/mi_cloud_messaging_enabled is "0"' st-T1/consent.txt
t_check "consent: each rule says how much the noise hides" \
    test "$(grep -c 'the answer sent: the true result 3 times in 4' st-T1/consent.txt)" = 2
t_grep "consent: the guarantee in one sentence" 'right at most 3 times in 4' st-T1/consent.txt
# oracle KIND N FILE: a family profile of N rules of KIND, each a new step.
oracle() {
	{ printf 'id = "fam-oracle";\nserial = 9;\nexpires = "2030-01-01T00:00:00Z";\n'
	  printf 'scope = "family";\nrules = (\n'
	  for i in $(seq 1 "$2"); do
		[ "$i" -gt 1 ] && printf ',\n'
		printf '  { id = "r%d"; severity = "low"; title = "step %d"; ' "$i" "$i"
		case $1 in
		os-min) printf 'kind = "os-min"; min_version = "%d.0"; }' $((i + 3)) ;;
		model-ban) printf 'kind = "model-ban"; manufacturer = "Xiaomi"; models = [ "M%d" ]; }' "$i" ;;
		package-ban) printf 'kind = "package-ban"; packages = [ "com.app%d" ]; }' "$i" ;;
		egress-deny) printf 'kind = "egress-deny"; cidrs = [ "10.%d.0.0/16" ]; }' "$i" ;;
		setting) printf 'kind = "setting"; namespace = "system"; key = "font_scale"; expect = "%d"; }' "$i" ;;
		esac
	  done
	  printf '\n);\n'; } >"$3"
}
for kind in os-min model-ban package-ban egress-deny setting; do
	oracle "$kind" 2 "ok-$kind.cfg"
	t_exit 0 "lint: two $kind rules pass" "$ENROLL" lint "ok-$kind.cfg"
	t_grep "lint: two $kind rules: a warning naming them" "ok-$kind.cfg:[0-9]+: warning: 2 rules \\(r1, r2\\) together .*epsilon 2 x ln 3 = 2.20" "$T/err"
	oracle "$kind" 4 "bad-$kind.cfg"
	t_exit 65 "lint: a $kind ladder of four is refused" "$ENROLL" lint "bad-$kind.cfg"
	t_err_line "lint: $kind: one line, what it reveals" "bad-$kind.cfg:[0-9]+: family profile: 4 rules .* together (narrow|tell) .*over the 3 rules allowed"
	t_exit 65 "sign: a $kind ladder of four is refused" "$ENROLL" sign --org org "bad-$kind.cfg"
	t_check "sign wrote no signature" test ! -e "bad-$kind.cfg.minisig"
done
t_exit 65 "lint of the os-min ladder again" "$ENROLL" lint bad-os-min.cfg
t_grep "os-min: says it narrows the Android version" 'narrow the Android version' "$T/err"
oracle os-min 4 pers.cfg
sed -i 's/scope = "family"/scope = "personnel"/' pers.cfg
t_exit 0 "the same ladder in a personnel profile: no oracle (exact results by design)" "$ENROLL" lint pers.cfg
# publish of a family oracle signed by hand (stock minisign's format)
hex2bin() { perl -e 'local $/; $_ = <STDIN>; s/\s//g; print pack("H*", $_)'; }
{ printf '\x30\x2e\x02\x01\x00\x30\x05\x06\x03\x2b\x65\x70\x04\x22\x04\x20'
  sed -n 2p org/org.key | base64 -d | tail -c +63 | head -c 32
} | openssl pkey -inform DER -out org.pem 2>/dev/null
tc="timestamp:1700000000 file:bad-os-min.cfg"
b2sum -l 512 bad-os-min.cfg | cut -d' ' -f1 | hex2bin >h.bin
openssl pkeyutl -sign -inkey org.pem -rawin -in h.bin >s.bin
{ printf 'ED'; sed -n 2p org/org.pub | base64 -d | head -c 10 | tail -c 8; cat s.bin; } >sl.bin
{ cat s.bin; printf '%s' "$tc"; } >g.in
openssl pkeyutl -sign -inkey org.pem -rawin -in g.in >g.bin
printf 'untrusted comment: signature from minisign secret key\n%s\ntrusted comment: %s\n%s\n' \
    "$(base64 -w0 sl.bin)" "$tc" "$(base64 -w0 g.bin)" >bad-os-min.cfg.minisig
t_exit 0 "the hand-signed oracle verifies (the signature is good)" "$ENROLL" verify --org org bad-os-min.cfg
t_exit 65 "publish of the hand-signed oracle: refused" "$ENROLL" publish --org org bad-os-min.cfg
t_err_line "publish: one line naming the ladder" 'family profile: 4 rules \(r1, r2, r3, r4\)'

kill -TERM "$SPID"
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
t_done
