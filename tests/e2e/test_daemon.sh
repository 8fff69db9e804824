#!/bin/bash
# muster-server as an IT department runs it (issue 14): `-n` on a good
# configuration and on broken ones (each named with file and line, exit
# 78, nothing bound); device listeners on IPv4 and IPv6 and an admin
# listener apart (admin routes and /metrics there only, behind the
# token); every refused credential logged with the client's address;
# the access log; sd_notify READY/RELOADING/STOPPING on a NOTIFY_SOCKET;
# SIGHUP reloading a new certificate, limits and the log level (and an
# administrator rotated with `muster-server admin`, no reload) while a sim device keeps reporting (it never sees an
# error); bad reloads refused with the old configuration still serving;
# and, as root, `admin add`, `list` and `audit verify` working as nobody
# (the store and audit key they make are nobody's), then a start that
# binds and then becomes "nobody" for good,
# reading root:nogroup 0640 secrets, while `muster-server report` run by
# root still reads the live configuration.  Every wait is bounded; what
# it starts is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
AGENT="$MUSTER_BIN/muster-agent"
SPID= NPID= LPID= RPID= D=
trap 'for p in $SPID $NPID $LPID $RPID; do kill -9 "$p" 2>/dev/null; done
	[ -n "$D" ] && rm -rf "$D"; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

t_port; DPORT=$PORT
t_port_apart "$DPORT"; APORT=$PORT
U=https://127.0.0.1:$DPORT
UA=https://127.0.0.1:$APORT
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
PIN=$(cat org/server.pin)
ADMIN=$(tr -d '\n' <org/admin.token)
CURL=(curl -sS --max-time 10 --cacert org/server.crt --pinnedpubkey "$PIN")
C6=(curl -sS --max-time 10 -k --pinnedpubkey "$PIN")

# code NAME WANT CURL-ARGS...: the HTTP status is WANT.
code() {
	local name=$1 want=$2 got; shift 2
	got=$("${CURL[@]}" -o "$T/body" -w '%{http_code}' "$@" 2>"$T/cerr")
	if [ "$got" = "$want" ]; then t_ok "$name"; else
		t_fail "$name (HTTP $got, wanted $want)"
		sed 's/^/# /' "$T/body" "$T/cerr" 2>/dev/null | head -n 5
	fi
}
# waitfor FILE REGEX: up to 10 s for a line of FILE to match.
waitfor() {
	for _ in $(seq 1 100); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
served_fp() {
	openssl s_client -connect "127.0.0.1:$DPORT" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null
}
file_fp() { openssl x509 -noout -fingerprint -sha256 -in "$1"; }

# The configuration: two device listeners (IPv4, IPv6), an admin one.
sed -i -e '/^admin_listen = /d' -e "s/^listen = .*/listen = [\"127.0.0.1\", \"[::1]:$DPORT\"];\nadmin_listen = \"127.0.0.1:$APORT\";\naccess_log = \"access.log\";/" \
    org/server.cfg
line_of() { grep -n "^$1" org/server.cfg | head -n 1 | cut -d: -f1; }

# --- -n: the configuration check --------------------------------------------
t_exit 0 "-n: a good configuration" "$SERVER" -n --config org/server.cfg
t_grep "-n says it is ok" 'configuration ok' "$T/out"
t_check "-n bound nothing and started nothing" \
    sh -c "! (exec 3<>/dev/tcp/127.0.0.1/$DPORT) 2>/dev/null"

# bad NAME REGEX SED-EXPR...: a copy of server.cfg, edited, is refused
# by -n with 78 and one line matching REGEX (the file and the line).
bad() {
	local name=$1 re=$2; shift 2
	cp -p org/server.cfg org/bad.cfg
	sed -i "$@" org/bad.cfg
	t_exit 78 "-n refuses $name" "$SERVER" -n --config org/bad.cfg
	t_err_line "-n names $name" "$re"
}
L_KEY=$(line_of tls_key); L_CERT=$(line_of tls_cert)
L_ROOT=$(line_of root_dir); L_LISTEN=$(line_of listen)
bad "an unknown field" "bad.cfg:$(line_of log_level): unknown field \"log_levle\"" \
    -e 's/^log_level/log_levle/'
bad "a missing key file" "bad.cfg:$L_KEY: tls_key: .*nope.key" \
    -e 's/^tls_key = .*/tls_key = "nope.key";/'
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out org/other.key 2>/dev/null && chmod 600 org/other.key
bad "a key that is not the certificate's" \
    "bad.cfg:$L_KEY: tls_key: .*other.key and tls_cert .*server.crt do not start" \
    -e 's/^tls_key = .*/tls_key = "other.key";/'
bad "a certificate that is not PEM" "bad.cfg:$L_CERT: tls_cert: .*not a PEM" \
    -e 's/^tls_cert = .*/tls_cert = "org.cfg";/'
bad "a missing root_dir" "bad.cfg:$L_ROOT: root_dir" \
    -e 's/^root_dir = .*/root_dir = "noroot";/'
bad "a listen that is no address" "bad.cfg:$L_LISTEN: listen: \"localhost\" is not" \
    -e 's/^listen = .*/listen = "localhost";/'
bad "a user that does not exist" "bad.cfg: user muster-nosuch: no such user" \
    -e 's/^log_level = .*/log_level = "info"; user = "muster-nosuch";/'
bad "a request_timeout out of range" "bad.cfg:[0-9]+: \"request_timeout\" = 0 is out of range" \
    -e 's/threads = 4;/threads = 4; request_timeout = 0;/'
cp org/server.key org/loose.key && chmod 644 org/loose.key
bad "a key others can read" "bad.cfg:$L_KEY: tls_key: .*loose.key: mode 0644" \
    -e 's/^tls_key = .*/tls_key = "loose.key";/'
rm -f org/bad.cfg org/loose.key

# --- serving: listeners, notify, logs ----------------------------------------
python3 - "$T/notify.sock" "$T/notify.log" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 90
with open(sys.argv[2], "a") as f:
    while time.time() < end:
        try:
            d = s.recv(4096)
        except socket.timeout:
            continue
        f.write(d.decode().replace("\n", " ") + "\n")
        f.flush()
EOF
NPID=$!
for _ in $(seq 1 50); do [ -S notify.sock ] && break; sleep 0.1; done
NOTIFY_SOCKET=$T/notify.sock "$SERVER" --config org/server.cfg 2>server.log &
SPID=$!
t_check "READY=1 reaches NOTIFY_SOCKET" waitfor notify.log '^READY=1'
t_check "the server is up (/healthz on IPv4)" waitfor server.log 'listening on https://127.0.0.1'
code "/healthz on the IPv4 device listener" 200 "$U/healthz"
got=$("${C6[@]}" -o /dev/null -w '%{http_code}' "https://[::1]:$DPORT/healthz" 2>&1)
t_check "/healthz on the IPv6 device listener [::1] ($got)" test "$got" = 200
t_grep "the log names the admin listener" "listening on https://127.0.0.1:$APORT \\(admin\\)" server.log
code "/v1/admin/rollup on the device listener: 404" 404 \
    -H "Authorization: Bearer $ADMIN" "$U/v1/admin/rollup"
code "/metrics on the device listener: 404" 404 \
    -H "Authorization: Bearer $ADMIN" "$U/metrics"
code "/metrics on the admin listener without the token: 401" 401 "$UA/metrics"
code "/metrics on the admin listener with the token" 200 \
    -H "Authorization: Bearer $ADMIN" "$UA/metrics"
code "/v1/admin/rollup on the admin listener" 200 \
    -H "Authorization: Bearer $ADMIN" "$UA/v1/admin/rollup"
code "a device route on the admin listener: 404" 404 "$UA/v1/profile"
code "/healthz on the admin listener" 200 "$UA/healthz"
code "a wrong admin token: 401" 401 -H "Authorization: Bearer nope" \
    "$UA/v1/admin/rollup"
t_check "the refused token is logged with the client's address" \
    waitfor server.log 'refused the admin credential of 127.0.0.1 on GET admin_rollup'
t_check "the token itself is never logged" sh -c "! grep -q nope server.log"
code "two Content-Length headers: 400" 400 -H 'Content-Type: application/json' \
    -H 'Content-Length: 2' -H 'Content-Length: 2' --data-binary '{}' \
    "$U/v1/report"
t_check "the access log has the GET with address, status and time" \
    waitfor org/access.log '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z 127.0.0.1 "GET /healthz" 200 3 [0-9]+ms -$'

# A TLS 1.2 client offering only CBC suites gets no handshake.
if openssl s_client -connect "127.0.0.1:$DPORT" -tls1_2 \
    -cipher 'ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:AES128-SHA' \
    </dev/null >tls.out 2>&1; then
	t_fail "TLS 1.2 with CBC-SHA1 suites only is refused"
else
	t_ok "TLS 1.2 with CBC-SHA1 suites only is refused"
fi
openssl s_client -connect "127.0.0.1:$DPORT" -tls1_2 </dev/null >tls.out 2>&1
t_grep "TLS 1.2 gets an AEAD suite" 'Cipher is .*(GCM|CHACHA20)' tls.out

# --- a device that keeps reporting through reloads ---------------------------
# The admin's client points at the admin listener (a copy of the org
# whose org.cfg names it); bundles keep naming the device listener.
cp -rp org adm
sed -i "s|^admin_url = .*|admin_url = \"$UA\";|" adm/org.cfg
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org adm p.cfg >/dev/null
t_exit 0 "publish through the admin listener" "$ENROLL" publish --org adm p.cfg
"$ENROLL" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-1 -o b.bundle >/dev/null
cp "$TOP/examples/devices/redmi-1s.cfg" dev.cfg
A() { "$AGENT" --state "$T/st" --device "sim:$T/dev.cfg" "$@"; }
t_exit 0 "enroll a sim device" A enroll b.bundle
: >rcs
(
	for _ in $(seq 1 150); do
		[ -e stop ] && break
		A run --once >>runs.log 2>&1
		echo $? >>rcs
	done
) &
LPID=$!
waitfor rcs '.' || true

# 1. A rotated administrator's credential (no reload needed), then a new
#    certificate (same key: the pin stays), other limits and the debug
#    level, all in one SIGHUP.
# Administrators live in the store: a rotation holds at once, no reload.
"$SERVER" admin rotate admin --config org/server.cfg -o new.token \
    >/dev/null 2>admin.err
NEW=$(tr -d '\n' <new.token)
code "a rotated credential is taken before any reload" 200 \
    -H "Authorization: Bearer $NEW" "$UA/v1/admin/rollup"
old_fp=$(served_fp)
"$ENROLL" cert renew --org org >/dev/null 2>&1
mv org/server-next.crt org/server.crt && rm -f org/server-next.pin
sed -i -e 's/^log_level = .*/log_level = "debug";/' \
    -e 's/threads = 4;/threads = 2; request_timeout = 3;/' org/server.cfg
: >notify.log
kill -HUP "$SPID"
t_check "SIGHUP: the server says it reloaded" waitfor server.log '^muster-server: info: reloaded$'
waitfor notify.log '^READY=1' || true
t_check "RELOADING=1, then READY=1, reach NOTIFY_SOCKET" \
    test "$(cut -d= -f1 notify.log | tr '\n' ' ')" = "RELOADING READY "
new_fp=$(served_fp)
t_check "the new certificate is served ($new_fp)" \
    test "$new_fp" = "$(file_fp org/server.crt)" -a "$new_fp" != "$old_fp"
code "the old admin credential is refused after the reload" 401 \
    -H "Authorization: Bearer $ADMIN" "$UA/v1/admin/rollup"
code "the rotated admin credential is taken after the reload" 200 \
    -H "Authorization: Bearer $NEW" "$UA/v1/admin/rollup"
t_check "the log level is debug now" waitfor server.log 'debug: '

# The reloaded request_timeout (3 s) holds a request that trickles: TLS
# done, then a header byte every 0.3 s; the server closes it at 3 s,
# though no gap between bytes is longer than 0.3 s.
life=$(python3 - "$DPORT" <<'EOF'
import socket, ssl, sys, time
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
t0 = time.monotonic()
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
s.settimeout(0.3)
hdr = b"GET /healthz HTTP/1.1\r\nHost: m\r\nX-Slow: " + b"a" * 200
for i in range(60):
    try:
        s.send(hdr[i:i + 1])
        if s.recv(1) == b"":
            break
    except socket.timeout:
        continue
    except (OSError, ssl.SSLError):
        break
print("%.1f" % (time.monotonic() - t0))
EOF
)
t_check "a trickling request is cut at request_timeout (after ${life}s)" \
    awk -v l="$life" 'BEGIN { exit !(l >= 2.5 && l <= 5) }'
sleep 1

# 2. Bad reloads: refused, logged, and what was loaded keeps serving.
cp -p org/server.cfg good.cfg
sed -i 's/^log_level = .*/log_level = "loud";/' org/server.cfg
kill -HUP "$SPID"
t_check "a bad configuration is refused on SIGHUP, naming file and line" \
    waitfor server.log "reload refused: .*server.cfg:$(line_of log_level): log_level must be"
code "after a refused reload the rotated token still works" 200 \
    -H "Authorization: Bearer $NEW" "$UA/v1/admin/rollup"
cp -p good.cfg org/server.cfg
sed -i "s/^listen = .*/listen = \"127.0.0.1\";/" org/server.cfg
kill -HUP "$SPID"
t_check "a new listen address is refused: it takes a restart" \
    waitfor server.log 'reload refused: .*listen changed: that takes a restart'
cp -p good.cfg org/server.cfg
sed -i 's/^tls_key = .*/tls_key = "other.key";/' org/server.cfg
kill -HUP "$SPID"
t_check "a key that is not the certificate's is refused on SIGHUP" \
    waitfor server.log 'reload refused: .*other.key and tls_cert .* do not start'
t_check "the certificate served is still the reloaded one" \
    test "$(served_fp)" = "$new_fp"
cp -p good.cfg org/server.cfg
sleep 1
touch stop
wait "$LPID" 2>/dev/null
LPID=
runs=$(wc -l <rcs)
fails=$(grep -vc '^0$' rcs)
echo "# the device ran $runs check-ins through 4 reloads; $fails not 0"
t_check "the device reported through the reloads ($runs runs)" test "$runs" -ge 5
t_check "the device never saw an error ($fails failed runs)" test "$fails" = 0
t_check "nothing is left in the device's spool" \
    sh -c "! ls '$T/st/spool' 2>/dev/null | grep -q json"
if command -v sqlite3 >/dev/null; then
	n=$(sqlite3 org/data/muster.db 'SELECT count(*) FROM reports;')
	t_check "every run's report is stored ($n of $runs)" test "$n" = "$runs"
else
	t_skip "sqlite3 not installed"
fi
t_exit 0 "-n still passes on the live configuration while it serves" \
    "$SERVER" -n --config org/server.cfg

# /healthz is a read of the store: a store that no longer answers is 503.
if command -v sqlite3 >/dev/null; then
	sqlite3 org/data/muster.db 'PRAGMA foreign_keys=OFF; DROP TABLE devices;'
	code "/healthz when the store does not answer: 503" 503 "$U/healthz"
	t_check "the failed health check is logged" \
	    waitfor server.log 'error: healthz: the store does not answer'
else
	t_skip "sqlite3 not installed"; t_skip "sqlite3 not installed"
fi

: >notify.log
kill -TERM "$SPID"
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
wait "$SPID"; rc=$?
SPID=
t_check "SIGTERM: a clean stop (exit $rc)" test "$rc" = 0
t_grep "STOPPING=1 reaches NOTIFY_SOCKET" '^STOPPING=1' notify.log
kill "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null; NPID=

# --- as root: bind, then become nobody for good --------------------------------
if [ "$(id -u)" != 0 ] || ! getent passwd nobody >/dev/null ||
    ! getent group nogroup >/dev/null; then
	t_skip "not root, or no nobody:nogroup: the privilege drop is not tried"
	t_done
	exit 0
fi
D=$(mktemp -d /tmp/muster-daemon.XXXXXX)
chmod 711 "$D"
mkdir "$D/etc" "$D/data"
cp -rp org/root org/server.crt org/server.key "$D/etc/"
grep -v '^admin_listen\|^access_log\|^listen\|^data_dir' org/server.cfg >"$D/etc/server.cfg"
cat >>"$D/etc/server.cfg" <<EOF
listen = "127.0.0.1";
data_dir = "$D/data";
user = "nobody";
EOF
chown -R root:nogroup "$D/etc"
chmod 750 "$D/etc"; chmod 755 "$D/etc/root"; chmod 644 "$D/etc/root/"*
chmod 640 "$D/etc/server.cfg" "$D/etc/server.key"
chown nobody:nogroup "$D/data"; chmod 700 "$D/data"
# Root sets up an administrator before the server ever ran: what that
# makes in data_dir (the store, the audit key) must be nobody's, or the
# server could not open it; the credential file is root's, where asked.
t_exit 0 "root adds an administrator to the store not yet made" \
    "$SERVER" admin add --config "$D/etc/server.cfg" --roles read \
    -o "$T/ops.token" ops
t_check "every file it made in data_dir is nobody's" \
    test -n "$(ls "$D/data")" -a -z "$(find "$D/data" ! -user nobody)"
t_check "the credential file is root's, 0600" \
    test "$(stat -c %U:%a "$T/ops.token")" = root:600
t_exit 0 "root lists the administrators" \
    "$SERVER" admin list --config "$D/etc/server.cfg"
t_grep "  the new one among them" '^ops ' "$T/out"
t_exit 0 "root verifies the audit log" \
    "$SERVER" audit verify --config "$D/etc/server.cfg"
t_exit 0 "-n accepts root:nogroup 0640 secrets for user nobody" \
    "$SERVER" -n --config "$D/etc/server.cfg"
"$SERVER" --config "$D/etc/server.cfg" 2>"$T/root.log" &
RPID=$!
waitfor "$T/root.log" 'listening on' || true
code "the dropped server answers /healthz" 200 "$U/healthz"
ids=$(awk '/^Uid:|^Gid:/ { print $2, $3, $4, $5 }' "/proc/$RPID/status" | tr '\n' ' ')
nb=$(id -u nobody); ng=$(getent group nogroup | cut -d: -f3)
t_check "every uid and gid is nobody's ($ids)" \
    test "$ids" = "$nb $nb $nb $nb $ng $ng $ng $ng "
t_check "no supplementary group but nogroup" \
    test "$(awk '/^Groups:/ { print $2 $3 }' "/proc/$RPID/status")" = "$ng"
t_check "no capability left" \
    test "$(awk '/^CapEff:|^CapPrm:/ { print $2 }' "/proc/$RPID/status" | sort -u)" = 0000000000000000
kill -HUP "$RPID"
t_check "as nobody, SIGHUP re-reads the 0640 configuration and key" \
    waitfor "$T/root.log" '^muster-server: info: reloaded$'
t_exit 0 "root runs muster-server report against the live configuration" \
    "$SERVER" report --config "$D/etc/server.cfg"
kill -TERM "$RPID"; wait "$RPID" 2>/dev/null; RPID=
# nobody can open a key it owns: the group that may read it is checked.
chown nobody:root "$D/etc/server.key"
t_exit 78 "a key readable by another group than nobody's is refused" \
    "$SERVER" -n --config "$D/etc/server.cfg"
t_err_line "the refusal names the key and the group" \
    "server.key: mode 0640 lets group 0 in, which is not the service's group"
chgrp root "$D/etc/server.cfg"
t_exit 78 "a configuration readable by another group is refused" \
    "$SERVER" -n --config "$D/etc/server.cfg"
t_err_line "the refusal names the configuration" \
    "server.cfg: mode 0640 lets group 0 in, which is not the group of the server's user"
t_done
