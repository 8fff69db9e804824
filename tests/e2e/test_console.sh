#!/bin/bash
# The officers' console (docs/console.md) against a real muster-server on
# loopback with real TLS and a real store: personnel and family devices
# enrolled through the server and run once by muster-agent, in units
# whose names hold spaces and UTF-8, one with a hostile model.  As an
# attacker: device strings with bidi or zero-width characters refused at
# enrollment, sign-in without the credential, a form from another site,
# sign-out without the CSRF token, a forged cookie, the credential in a
# URL, the downloads without a session.  Then headless Chromium
# (tests/browser/console_test.py): sign in, every page against
# `muster-server report --format json`, a drill-down, a CSV download
# parsed, the hostile model as text, no CSP violation, JavaScript off,
# screenshots (path printed), axe-core.  `report --format html` and the
# CSV writers checked from the command line.  Every wait is bounded; the
# server is killed on exit by its recorded pid.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
DEV=$TOP/examples/devices
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT
R() { "$SERVER" report --config org/server.cfg "$@"; }

if [ ! -x "$SERVER" ]; then
	t_skip "muster-server not built"
	t_done
	exit 0
fi

t_port
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 ||
	{ echo "Bail out! muster-server did not start"; sed 's/^/# /' server.log; exit 1; }

cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/profiles/family-optin.cfg" f.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
"$ENROLL" sign --org org f.cfg >/dev/null
"$ENROLL" publish --org org p.cfg >/dev/null 2>&1 &&
"$ENROLL" publish --org org f.cfg >/dev/null 2>&1 ||
	{ echo "Bail out! publish failed"; exit 1; }

# device NAME SCOPE UNIT SIM [MANUFACTURER]: enrolls a copy of sim SIM
# (its manufacturer replaced when given) and runs its agent once.
device() {
	local name=$1 scope=$2 unit=$3 sim=$4 consent=
	[ "$scope" = family ] && consent=--consent
	cp "$DEV/$sim.cfg" "$name.cfg"
	if [ $# -ge 5 ]; then
		grep -v '^manufacturer' "$DEV/$sim.cfg" >"$name.cfg"
		printf 'manufacturer = "%s";\n' "$5" >>"$name.cfg"
	fi
	"$ENROLL" token --org org --scope "$scope" --unit "$unit" \
	    --person "$name" -o "$name.bundle" >/dev/null || return 1
	"$AGENT" --state "st-$name" --device "sim:$T/$name.cfg" enroll \
	    "$name.bundle" $consent >"$name.log" 2>&1 || return 1
	"$AGENT" --state "st-$name" --device "sim:$T/$name.cfg" run --once \
	    >>"$name.log" 2>&1
}
SQ17="IAF/25 Wing/No. 17 Squadron"
SQ18=$(printf 'IAF/25 Wing/Esquadr\303\243o 18')
W3=IAF/3-WING
# As stored: the manufacturer, a space, the model (escaped for libconfig
# in the sim file, plain here).
HOSTILE_M='=HYPERLINK(\"http://evil.example/\",\"x\")<script>window.__pwned=1</script>'
HOSTILE='=HYPERLINK("http://evil.example/","x")<script>window.__pwned=1</script> Nexus 5'
n=0
device P-REDMI personnel "$SQ17" redmi-1s && n=$((n + 1))
device P-CLEAN personnel "$SQ17" clean && n=$((n + 1))
device P-SYNC personnel "$SQ18" cloud-sync-on && n=$((n + 1))
device P-EVIL personnel "$W3" clean "$HOSTILE_M" && n=$((n + 1))
for i in 1 2 3 4 5; do device "F-B$i" family "$W3" clean && n=$((n + 1)); done
for i in 1 2 3; do device "F-A$i" family "$SQ17" clean && n=$((n + 1)); done
t_check "12 devices in units with spaces and UTF-8 enrolled and run ($n)" \
    test "$n" = 12
[ "$n" = 12 ] || for f in *.log; do sed "s|^|# $f: |" "$f" | tail -n 3; done

# --- device strings: bidi and zero-width refused at the server ---------
# Our agent sends printable ASCII only; an attacker holding a token
# speaks to POST /v1/enroll directly.
"$ENROLL" token --org org --scope personnel --unit "$W3" --person BAD \
    -o bad.bundle >/dev/null
BADTOK=$(sed -n 's/^token = "\(.*\)";$/\1/p' bad.bundle)
openssl genpkey -algorithm ed25519 -out bad.pem 2>/dev/null
KEY=$(openssl pkey -in bad.pem -pubout -outform DER | tail -c 32 | base64 -w0)
# enroll MODEL_CODEPOINT|-: POSTs a signed enrollment with that model.
enroll() {
	python3 -c 'import json,sys
m = "Xiaomi HM 1SW" if sys.argv[3] == "-" else \
    "Xiaomi HM" + chr(int(sys.argv[3], 16)) + "1SW"
sys.stdout.write(json.dumps({"token": sys.argv[1], "device_key": sys.argv[2],
    "model": m}))' "$BADTOK" "$KEY" "$1" >enroll.json
	openssl pkeyutl -sign -rawin -inkey bad.pem -in enroll.json \
	    -out enroll.sig 2>/dev/null
	curl -sk --max-time 10 -o enroll.out -w '%{http_code}' \
	    -H 'Content-Type: application/json' \
	    -H "Muster-Signature: $(base64 -w0 enroll.sig)" \
	    --data-binary @enroll.json "$U/v1/enroll"
}
for cp in 202e 200b 0085 2066 feff 061c; do
	code=$(enroll "$cp")
	t_check "a model with U+$cp is refused at enrollment (HTTP $code)" \
	    test "$code" = 400
	t_grep "... as a malformed model" 'malformed model' enroll.out
done
code=$(enroll -)
t_check "the same token and key with a plain model enroll (HTTP $code): the check refused, not the token" \
    test "$code" = 200 -o "$code" = 201
NPERS=5

# --- the command line: CSV, the subtree, report --format html ---------------
t_exit 0 "report --by model --format csv" R --by model --format csv
t_grep "the hostile model is a text cell, not a formula" \
    "^\"'=HYPERLINK\(" "$T/out"
t_check "no CSV cell starts a formula" \
    sh -c "! tr -d '\r' <'$T/out' | grep -Eq '(^|,)[=+@-]'"
t_exit 0 "devices --format csv" "$SERVER" devices --config org/server.cfg \
    --format csv
t_grep "device list: the hostile model is text" ",\"'=HYPERLINK\(" "$T/out"
t_exit 0 "devices --unit IAF (the subtree)" "$SERVER" devices \
    --config org/server.cfg --unit IAF --format csv
t_check "--unit IAF lists all $NPERS personnel devices below IAF" \
    test "$(tr -d '\r' <"$T/out" | tail -n +2 | wc -l)" = "$NPERS"
t_exit 0 "devices --unit 'IAF/25 Wing'" "$SERVER" devices \
    --config org/server.cfg --unit "IAF/25 Wing" --format csv
t_check "--unit 'IAF/25 Wing' lists its 3" \
    test "$(tr -d '\r' <"$T/out" | tail -n +2 | wc -l)" = 3
t_exit 0 "devices --unit IAF/3 (no partial names)" "$SERVER" devices \
    --config org/server.cfg --unit IAF/3 --format csv
t_check "--unit IAF/3 matches no IAF/3-WING" \
    test "$(tr -d '\r' <"$T/out" | tail -n +2 | wc -l)" = 0
t_exit 0 "report --by unit --format csv" R --by unit --format csv
t_grep "a withheld family count is an empty cell, flagged" \
    "^\"?$SQ17\"?,[0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+,,yes" "$T/out"
t_check "no <5 text in a CSV" sh -c "! grep -q '<5' '$T/out'"
t_exit 0 "report --format html" R --format html
cp "$T/out" report.html
t_grep "report html: a document" '^<!DOCTYPE html>' report.html
t_check "report html: no external asset (no src=, no link but data:)" \
    sh -c "! grep -Eo '(src|href)=\"[^\"]*\"' report.html | grep -v 'href=\"data:,\"' | grep -q ."
t_check "report html: no URL but the SVG namespace" \
    sh -c "! grep -Eo 'https?://[^\" <]*' report.html | grep -vx 'http://www.w3.org/2000/svg' | grep -q ."
t_check "report html: its own Content-Security-Policy, no script" \
    sh -c "grep -q 'http-equiv=\"Content-Security-Policy\"' report.html && ! grep -qi '<script' report.html"
t_check "report html: an inline SVG trend" grep -q '<svg class="chart"' report.html
R --by scope --format json >by-scope.json
total=$(python3 -c 'import json,sys; print(json.load(open("by-scope.json"))["total"]["devices"])')
t_grep "report html: the devices counted ($total)" \
    "id=\"f-devices\">$total<" report.html
t_exit 64 "report --format pdf" R --format pdf
t_err_line "--format pdf: one line" 'table, csv, json or html'

# Rosters: units with spaces, UTF-8 and levels; a cell that would start
# a formula in tokens.csv is text.
printf 'person,unit,scope\r\nR1,%s,personnel\r\nR2,"%s, B",personnel\r\nR3,-IAF/@X,personnel\r\nR4,IAF//X,personnel\r\n' \
    "$SQ17" "$SQ18" >roster.csv
t_exit 65 "roster with one bad unit (an empty level)" "$ENROLL" roster \
    --org org roster.csv --out rost
t_grep "the bad row is named by line" '^muster-enroll: roster.csv:5: unit "IAF//X"' "$T/err"
t_check "tokens.csv: the unit with spaces, as it is" \
    grep -q "^R1,$SQ17,personnel," rost/tokens.csv
t_check "tokens.csv: the UTF-8 unit with a comma, quoted" \
    grep -q "^R2,\"$SQ18, B\",personnel," rost/tokens.csv
t_check "tokens.csv: a unit starting with - is text" \
    grep -q "^R3,\"'-IAF/@X\",personnel," rost/tokens.csv

# --- sign-in, sessions and headers, as an attacker would try them --------
TOK=$(cat org/admin.token)
hdr() { curl -sk --max-time 10 -o body.html -D hdr.txt "$@"; }
hdr "$AU/console/"
t_grep "no session: 303 to the sign-in page" '^Location: /console/signin' hdr.txt
hdr "$AU/console/signin"
for h in "Content-Security-Policy: default-src 'none'; style-src 'sha256-" \
    "frame-ancestors 'none'" "X-Frame-Options: DENY" \
    "X-Content-Type-Options: nosniff" "Referrer-Policy: no-referrer" \
    "Cache-Control: no-store"; do
	t_check "header: $h" grep -qF "$h" hdr.txt
done
t_check "no unsafe-inline, no script source" \
    sh -c "! grep -Ei 'unsafe-inline|script-src' hdr.txt"
t_check "sign-in page: a password form that POSTs" \
    grep -q '<form class="signin" method="post" action="/console/login">' body.html
hdr --data-urlencode "token=not-the-token" "$AU/console/login"
t_grep "a wrong credential: 401" '^HTTP/1.1 401' hdr.txt
t_check "a wrong credential: no cookie" sh -c "! grep -qi '^Set-Cookie: muster_console=[A-Za-z0-9]' hdr.txt"
hdr -H 'Content-Type: application/json' --data "{\"token\":\"$TOK\"}" \
    "$AU/console/login"
t_grep "sign-in as JSON: 415" '^HTTP/1.1 415' hdr.txt
hdr "$AU/console/login?token=$TOK"
t_grep "the credential in a URL (GET): refused, 405" '^HTTP/1.1 405' hdr.txt
hdr -H 'Origin: https://evil.example' --data-urlencode "token=$TOK" \
    "$AU/console/login"
t_grep "a sign-in form from another site: 403" '^HTTP/1.1 403' hdr.txt
hdr -H 'Sec-Fetch-Site: cross-site' --data-urlencode "token=$TOK" \
    "$AU/console/login"
t_grep "a cross-site fetch: 403" '^HTTP/1.1 403' hdr.txt
hdr -H "Origin: $AU" --data-urlencode "token=$TOK" "$AU/console/login"
t_grep "the credential: 303 to the overview" '^Location: /console/.?$' hdr.txt
t_grep "the cookie: HttpOnly, Secure, SameSite=Strict, Path=/console, 8 h" \
    '^Set-Cookie: muster_console=[A-Za-z0-9_-]{43}; Path=/console; HttpOnly; Secure; SameSite=Strict; Max-Age=28800' hdr.txt
C=$(grep -o 'muster_console=[A-Za-z0-9_-]*' hdr.txt)
t_check "the credential is in no header or page" \
    sh -c "! grep -qF '$TOK' hdr.txt body.html"
hdr -b "$C" "$AU/console/"
t_grep "with the cookie: the overview" '^HTTP/1.1 200' hdr.txt
CSRF=$(grep -o 'name="csrf" value="[^"]*"' body.html | sed 's/.*value="//; s/"$//')
t_check "the page carries a 43-character CSRF token" test "${#CSRF}" = 43
hdr -b "muster_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "$AU/console/rules"
t_grep "a forged cookie: back to sign-in" '^Location: /console/signin' hdr.txt
hdr "$AU/console/export?by=unit&format=csv"
t_grep "a download without a session: back to sign-in" '^Location: /console/signin' hdr.txt
hdr -b "$C" "$AU/console/export?by=unit&format=csv"
t_grep "a download with the session: CSV" '^Content-Type: text/csv' hdr.txt
t_grep "a download is an attachment" '^Content-Disposition: attachment; filename="muster-unit.csv"' hdr.txt
R --by unit --format csv >by-unit.csv
t_check "the download is report --by unit --format csv, byte for byte" \
    cmp -s body.html by-unit.csv
hdr -b "$C" "$AU/console/export?what=devices&format=json&unit=IAF"
hdr -b "$C" "$AU/console/export?by=nothing&format=csv"
t_exit 0 "audit show --action 'console export'" "$SERVER" audit show \
    --config org/server.cfg --action "console export"
t_grep "the download is audited: administrator, what, format" \
    ' admin 127\.0\.0\.1 console export "by=unit format=csv as_of=-" "ok 200"' \
    "$T/out"
t_grep "... a device list with its filter" \
    ' admin 127\.0\.0\.1 console export "devices format=json unit=IAF status=-" "ok 200"' \
    "$T/out"
t_grep "... and a refused one" \
    ' admin 127\.0\.0\.1 console export "/console/export" "refused 400"' \
    "$T/out"
t_check "... three entries, none for the download without a session" \
    test "$(wc -l <"$T/out")" = 3
hdr -b "$C" "$AU/console/devices?unit=%2E%2E%2F..%2F%E2%80%AEx"
t_grep "a malformed unit filter: 400" '^HTTP/1.1 400' hdr.txt
hdr -b "$C" "$AU/console/device?id=../../etc/passwd"
t_grep "a malformed device id: 404" '^HTTP/1.1 404' hdr.txt
hdr -b "$C" "$AU/console/units?as_of=2999-01-01T00:00:00Z"
t_grep "as of the future: 400" '^HTTP/1.1 400' hdr.txt
hdr -b "$C" "$AU/console/models"
t_check "models: the Redmi 1S by unit, its squadron with 1" \
    grep -q "devices?unit=IAF%2F25%20Wing%2FNo.%2017%20Squadron\">IAF/25 Wing/No. 17 Squadron</a></th><td class=\"num\">1</td><td class=\"num\">1</td>" body.html
hdr -b "$C" "$AU/console/"
t_grep "overview: devices reporting a stale policy, counted" \
    'id="f-devices-policy-stale">0<' body.html
AS=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
hdr -b "$C" "$AU/console/units?as_of=$AS"
t_grep "units as of a past time: from history" '\(from history\)' body.html
t_grep "... and the drill-down keeps the date" \
    "href=\"/console/units\?u=IAF&amp;as_of=${AS//:/%3A}\"" body.html
R --by unit --as-of "$AS" --format json >asof.json
want=$(python3 -c 'import json; print(json.load(open("asof.json"))["total"]["devices"])')
t_check "units as of then: the total of report --as-of ($want)" \
    sh -c "sed 's/<tfoot>/\n/' body.html | tail -n 1 | grep -q '<td class=\"num\">$want</td>'"
hdr -b "$C" "$AU/console/devices?page=-1"
t_grep "page -1: 400" '^HTTP/1.1 400' hdr.txt
hdr -b "$C" --data "csrf=wrong" "$AU/console/logout"
t_grep "sign-out without the CSRF token: 403" '^HTTP/1.1 403' hdr.txt
hdr -b "$C" "$AU/console/"
t_grep "... and the session lives on" '^HTTP/1.1 200' hdr.txt
hdr -b "$C" --data "csrf=$CSRF" "$AU/console/logout"
t_grep "sign-out with the CSRF token: 303" '^Location: /console/signin' hdr.txt
t_grep "sign-out clears the cookie" '^Set-Cookie: muster_console=; .*Max-Age=0' hdr.txt
hdr -b "$C" "$AU/console/"
t_grep "the old cookie no longer works" '^Location: /console/signin' hdr.txt
t_check "no credential or session id in the server's log" \
    sh -c "! grep -qF '$TOK' server.log && ! grep -qF '${C#*=}' server.log"

# --- headless Chromium ----------------------------------------------------
PY=/usr/bin/python3
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ] ||
    ! "$PY" -c 'import selenium' 2>/dev/null; then
	t_fail "chromium, chromium-driver and python3-selenium (scripts/deps.sh) are installed"
	t_done
	exit 0
fi
ART=${MUSTER_ARTIFACTS:-${TMPDIR:-/tmp}/muster-artifacts}/console-$(date -u +%Y%m%dT%H%M%SZ)-$$
mkdir -p "$ART"
echo "# artifacts (screenshots, the printed overview, downloads): $ART"
AXE_DIR=${MUSTER_TEST_CACHE:-$HOME/.cache/muster-tests}/axe
AXE_JS=$AXE_DIR/node_modules/axe-core/axe.min.js
if [ ! -f "$AXE_JS" ] && command -v npm >/dev/null 2>&1; then
	mkdir -p "$AXE_DIR"
	(cd "$AXE_DIR" && timeout 120 npm install --no-audit --no-fund \
	    --silent axe-core@4 >/dev/null 2>&1)
fi
t_check "axe-core is at hand ($AXE_JS)" test -f "$AXE_JS"
[ -f "$AXE_JS" ] || AXE_JS=
for by in unit rule model scope; do
	R --by $by --format json >"by-$by.json"
done
CONSOLE_URL=$AU CONSOLE_TOKEN_FILE=$T/org/admin.token CONSOLE_REPORT_DIR=$T \
CONSOLE_ARTIFACTS=$ART CONSOLE_HOSTILE=$HOSTILE AXE_JS=$AXE_JS \
    timeout 300 "$PY" "$TOP/tests/browser/console_test.py" >browser.tap 2>browser.err
rc=$?
nb=0
while IFS= read -r line; do
	case $line in
	"ok - "*) t_ok "browser: ${line#ok - }"; nb=$((nb + 1)) ;;
	"not ok - "*) t_fail "browser: ${line#not ok - }"; nb=$((nb + 1)) ;;
	*) echo "$line" ;;
	esac
done <browser.tap
t_check "the browser test ran (exit $rc, $nb checks)" test "$rc" = 0 -a "$nb" -gt 60
[ "$rc" = 0 ] || sed 's/^/# browser: /' browser.err | tail -n 20
t_check "no credential or session id in the server's log after the browser" \
    sh -c "! grep -qF '$TOK' server.log"
t_done
