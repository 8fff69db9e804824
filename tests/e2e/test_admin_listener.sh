#!/bin/bash
# The admin listener is the default (issue 14, "Two listeners"), tried
# as an attacker on the device port and as an operator would run it:
#  - `muster-enroll init` writes admin_listen (loopback, the next port)
#    and org.cfg's admin_url;
#  - with that configuration, the device port answers 404 for the admin
#    API (rollup, profile, revoke, manifest, root), /metrics and the
#    console, with the right credential as without, and never says 401
#    or WWW-Authenticate there; the admin listener serves them (and
#    refuses a missing credential); /healthz is on both;
#  - muster-enroll publish and revoke reach the admin listener through
#    org.cfg, --admin-url and MUSTER_ADMIN_URL (in that order), and get
#    404 (exit 65) from the device port whatever the token;
#  - a server named by DNS: the admin URL is a loopback address, and the
#    certificate is still checked against the server's name and pinned;
#  - an upgraded configuration without admin_listen: the admin listener
#    on 127.0.0.1 at port + 1 anyway, one warning naming it at start and
#    from -n; a device listener already on that address is refused;
#  - admin_listen = "device": the first wave's one listener, warned.
# Every wait is bounded; what it starts is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

t_port
APORT=$((PORT + 1))
"$ENROLL" init --org org --server "$U" --no-passphrase >init.out ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
TOK=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 10 --cacert org/server.crt --pinnedpubkey "$PIN")

# code NAME WANT CURL-ARGS...: the HTTP status is WANT; the headers are
# in $T/hdr.
code() {
	local name=$1 want=$2 got; shift 2
	got=$("${CURL[@]}" -D "$T/hdr" -o "$T/body" -w '%{http_code}' "$@" \
	    2>"$T/cerr")
	if [ "$got" = "$want" ]; then t_ok "$name"; else
		t_fail "$name (HTTP $got, wanted $want)"
		sed 's/^/# /' "$T/body" "$T/cerr" 2>/dev/null | head -n 5
	fi
}
# start CONFIG: the server, until /healthz answers on the device port.
start() {
	"$SERVER" --config "$1" 2>server.log &
	SPID=$!
	for _ in $(seq 1 300); do
		[ "$(curl -sk --max-time 2 "$U/healthz" 2>/dev/null)" = ok ] &&
		    return 0
		kill -0 "$SPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop() {
	kill -TERM "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; SPID=
}
# The admin requests an attacker would try: NAME|METHOD|PATH|BODY|what
# the admin listener answers without a credential.
ATTACKS=(
	"rollup|GET|/v1/admin/rollup||401"
	"publish|POST|/v1/admin/profile|{\"profile\":\"\",\"signature\":\"\"}|401"
	"revoke|POST|/v1/admin/revoke|{\"revocation\":\"x.y\"}|401"
	"manifest|POST|/v1/admin/manifest|{\"manifest\":{}}|401"
	"root|POST|/v1/admin/root|{\"root\":{}}|401"
	"metrics|GET|/metrics||401"
	"console|GET|/console/||303"
	"console sign-in page|GET|/console/signin||200"
)
# attack BASE device|admin: every request of ATTACKS against BASE: on a
# device listener 404 with the administrator's token and without, and
# never a WWW-Authenticate; on the admin listener, without a token,
# what ATTACKS says.
attack() {
	local base=$1 kind=$2 a name m p b want args
	for a in "${ATTACKS[@]}"; do
		IFS='|' read -r name m p b want <<<"$a"
		args=()
		[ "$m" = POST ] && args=(-H 'Content-Type: application/json' \
		    --data-binary "$b")
		if [ "$kind" = admin ]; then
			code "$base: $name without a token: $want" "$want" \
			    "${args[@]}" "$base$p"
			continue
		fi
		code "$base: $name with the admin token: 404" 404 \
		    -H "Authorization: Bearer $TOK" "${args[@]}" "$base$p"
		t_check "$base: $name: no WWW-Authenticate" \
		    sh -c "! grep -qi '^WWW-Authenticate' '$T/hdr'"
		code "$base: $name without a token: 404" 404 "${args[@]}" \
		    "$base$p"
	done
}

# --- what init writes ----------------------------------------------------------
t_grep "init: server.cfg has admin_listen on loopback, the next port" \
    "^admin_listen = \"127\\.0\\.0\\.1:$APORT\";\$" org/server.cfg
t_grep "init says where the admin listener is" \
    "admin listener: https://127\\.0\\.0\\.1:$APORT \\(loopback only" init.out
t_grep "init: org.cfg has the admin URL" \
    "^admin_url = \"https://127\\.0\\.0\\.1:$APORT\";\$" org/org.cfg
"$ENROLL" init --org v6 --server "https://[::1]:8443" --no-passphrase \
    >/dev/null 2>&1
t_grep "init for an IPv6 host: IPv4 and IPv6 loopback" \
    '^admin_listen = \["127\.0\.0\.1:8444", "\[::1\]:8444"\];$' v6/server.cfg
t_exit 0 "-n on init's configuration" "$SERVER" -n --config org/server.cfg
t_check "-n warns of nothing" test ! -s "$T/err"

# --- the default: attacks on the device port --------------------------------
start org/server.cfg || { echo "Bail out! the server did not start"; exit 1; }
t_check "no warning about the admin listener at start" \
    sh -c "! grep -q 'warn: .*admin' server.log"
t_grep "the log names the admin listener" \
    "listening on https://127\\.0\\.0\\.1:$APORT \\(admin\\)" server.log
attack "$U" device
attack "$AU" admin
code "device port: sign-in with the right credential: 404" 404 \
    --data-urlencode "token=$TOK" "$U/console/login"
t_check "device port: no console cookie" \
    sh -c "! grep -qi '^Set-Cookie' '$T/hdr'"
code "device port: /healthz" 200 "$U/healthz"
# ... and the admin listener serves them.
code "admin: rollup with the token" 200 -H "Authorization: Bearer $TOK" \
    "$AU/v1/admin/rollup"
code "admin: rollup without: 401" 401 "$AU/v1/admin/rollup"
code "admin: /metrics with the token" 200 -H "Authorization: Bearer $TOK" \
    "$AU/metrics"
t_grep "admin: /metrics is Prometheus text" '^# TYPE muster_' "$T/body"
code "admin: /metrics without: 401" 401 "$AU/metrics"
code "admin: the console's sign-in page" 200 "$AU/console/signin"
code "admin: a console sign-in" 303 -H "Origin: $AU" \
    --data-urlencode "token=$TOK" "$AU/console/login"
code "admin: /healthz" 200 "$AU/healthz"
code "admin: a device route is 404 there" 404 "$AU/v1/profile"

# --- muster-enroll finds the admin listener ------------------------------------
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null
t_exit 0 "publish through org.cfg's admin_url" "$ENROLL" publish --org org p.cfg
t_exit 65 "publish to the device port (--admin-url): 404 even with the token" \
    "$ENROLL" publish --org org --admin-url "$U" p.cfg
t_err_line "  one line naming the 404" "127\\.0\\.0\\.1:$PORT/v1/admin/profile: the server answered 404"
t_exit 65 "revoke to the device port: 404" "$ENROLL" revoke --org org \
    --admin-url "$U" 0123456789abcdef
sed -i '/^admin_url = /d' org/org.cfg
t_exit 0 "an org.cfg without admin_url: port + 1" "$ENROLL" revoke \
    --org org 0123456789abcdef
t_exit 69 "MUSTER_ADMIN_URL over org.cfg (nothing on port 1)" \
    env MUSTER_ADMIN_URL=https://127.0.0.1:1 "$ENROLL" revoke --org org \
    0123456789abcdef
t_exit 0 "--admin-url over MUSTER_ADMIN_URL" env \
    MUSTER_ADMIN_URL=https://127.0.0.1:1 "$ENROLL" revoke --org org \
    --admin-url "$AU" 0123456789abcdef
t_exit 64 "--admin-url that is no https URL: usage" "$ENROLL" revoke \
    --org org --admin-url "http://127.0.0.1:$APORT" 0123456789abcdef
t_err_line "  names --admin-url" '^muster-enroll: --admin-url: '
t_exit 78 "a MUSTER_ADMIN_URL that is no URL: configuration" \
    env MUSTER_ADMIN_URL=nope "$ENROLL" revoke --org org 0123456789abcdef
t_err_line "  names MUSTER_ADMIN_URL" 'MUSTER_ADMIN_URL: '
t_exit 0 "manifest --admin-url" "$ENROLL" manifest --org org --admin-url "$AU"
t_exit 65 "root publish --admin-url reaches the admin API" "$ENROLL" root \
    publish --org org --admin-url "$AU"
t_err_line "  which has root 1 already (409)" '/v1/admin/root: the server answered 409: not the next root version'
stop

# --- a server named by DNS: the admin URL an address, the name checked ---------
if getent hosts localhost >/dev/null; then
	"$ENROLL" init --org dns --server "https://localhost:$PORT" \
	    --no-passphrase >/dev/null
	sed -i 's/^listen = .*/listen = "127.0.0.1";/' dns/server.cfg
	PIN=$(cat dns/server.pin)
	CURL=(curl -sS --max-time 10 --cacert dns/server.crt --pinnedpubkey "$PIN")
	start dns/server.cfg || t_fail "the DNS-named server starts"
	"${CURL[@]}" -o /dev/null -H "Authorization: Bearer $TOK" \
	    "$AU/metrics" 2>curl.err
	t_grep "a plain client to $AU meets a certificate for localhost" \
	    'no alternative certificate subject name matches|does not match' curl.err
	cp p.cfg pd.cfg
	"$ENROLL" sign --org dns pd.cfg >/dev/null
	t_exit 0 "publish to https://127.0.0.1 for a server named localhost" \
	    "$ENROLL" publish --org dns pd.cfg
	sed -i 's|^pin = .*|pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";|' \
	    dns/org.cfg
	rm -rf dns/root
	t_exit 77 "  the pin still holds on the admin listener" \
	    "$ENROLL" revoke --org dns 0123456789abcdef
	t_err_line "  one line: the pin" 'does not match the pin'
	stop
	PIN=$(cat org/server.pin)
	CURL=(curl -sS --max-time 10 --cacert org/server.crt --pinnedpubkey "$PIN")
else
	t_skip "no localhost name: the DNS-named server is not tried"
fi

# --- an upgraded configuration without admin_listen ------------------------------
sed '/^admin_listen = /d' org/server.cfg >org/old.cfg
chmod 600 org/old.cfg
t_exit 0 "-n on a configuration without admin_listen" \
    "$SERVER" -n --config org/old.cfg
t_err_line "-n: one warning naming the default admin address" \
    "warning: .*old.cfg: no admin_listen: the admin routes, /metrics and the console are on 127\\.0\\.0\\.1:$APORT only"
t_grep "-n: and the configuration is ok" 'configuration ok' "$T/out"
# The first wave's connection_memory default: a pool mapped per connection.
sed 's/connection_memory = [0-9]*/connection_memory = 65536/' org/server.cfg >org/mem.cfg
chmod 600 org/mem.cfg
t_exit 0 "-n on connection_memory = 65536 (the old default)" \
    "$SERVER" -n --config org/mem.cfg
t_grep "-n: a warning that it is mapped per connection" \
    "warning: .*mem.cfg: connection_memory = 65536: over 32768 bytes" "$T/err"
start org/old.cfg || t_fail "the upgraded configuration starts"
t_check "one warning at start, naming the address" test "$(grep -c \
    "warn: .*no admin_listen: .*127\\.0\\.0\\.1:$APORT only" server.log)" = 1
attack "$U" device
attack "$AU" admin
code "upgraded: the admin listener serves the roll-up" 200 \
    -H "Authorization: Bearer $TOK" "$AU/v1/admin/rollup"
t_exit 0 "upgraded: publish finds it (org.cfg without admin_url)" \
    "$ENROLL" publish --org org p.cfg
stop
sed -i "s/^listen = .*/listen = [\"127.0.0.1\", \"0.0.0.0:$APORT\"];/" org/old.cfg
t_exit 78 "a device listener on the default admin address is refused" \
    "$SERVER" -n --config org/old.cfg
t_err_line "  naming the line and saying what to set" \
    "old.cfg:[0-9]+: listen: 0\\.0\\.0\\.0:$APORT takes 127\\.0\\.0\\.1:$APORT.*set admin_listen"

# --- the deliberate opt-in to one listener -------------------------------------
sed 's/^admin_listen = .*/admin_listen = "device";/' org/server.cfg >org/one.cfg
chmod 600 org/one.cfg
t_exit 0 "-n on admin_listen = \"device\"" "$SERVER" -n --config org/one.cfg
t_err_line "-n warns that the device listeners serve the admin routes" \
    'warning: .*one.cfg: admin_listen = "device": the admin routes, /metrics and the console are served on the device listeners'
start org/one.cfg || t_fail "the one-listener configuration starts"
t_grep "warned at start" 'warn: .*admin_listen = "device"' server.log
t_grep "the log says the listener serves both" \
    "listening on https://127\\.0\\.0\\.1:$PORT \\(devices and admin\\)" server.log
code "one listener: /metrics with the token" 200 \
    -H "Authorization: Bearer $TOK" "$U/metrics"
code "one listener: /metrics without: 401" 401 "$U/metrics"
t_check "one listener: nothing on port + 1" \
    sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$APORT) 2>/dev/null"
t_exit 0 "one listener: publish with --admin-url naming it" \
    "$ENROLL" publish --org org --admin-url "$U" p.cfg
stop
sed 's/^admin_listen = .*/admin_listen = ["device"];/' org/server.cfg >org/bad.cfg
chmod 600 org/bad.cfg
t_exit 78 "\"device\" in a list is refused" "$SERVER" -n --config org/bad.cfg
t_err_line "  one line" 'admin_listen: "device" must stand alone'
t_done
