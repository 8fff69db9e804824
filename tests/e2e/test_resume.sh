#!/bin/bash
# Issue 13, TLS session resumption between check-ins, against the real
# server on loopback (real TLS), the real agent and reporter, and tcpcut
# (the counting proxy in tests/tools) between them:
#  - the first check-in is a full handshake and keeps the ticket the
#    server issued in STATE/tls-session (0600, bound to server and pin);
#  - the next check-in resumes it (the reporter says so for each
#    exchange) and the server sends fewer bytes: no certificate;
#  - a session the server cannot use (the server restarted: a new ticket
#    key; reloaded: rotated) costs a full handshake and nothing else;
#  - a kept file that is not a session is ignored with a warning;
#  - a server at the same address with another TLS key, offered the kept
#    session, is refused (exit 77, the pin still decides), stores nothing,
#    and the session is forgotten.
# Every wait is bounded; server and proxy are killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
CUT=$MUSTER_BIN/../tests/tools/tcpcut
SPID= PPID_=
trap 'for p in $SPID $PPID_; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

for tool in sqlite3 curl; do
	if ! command -v "$tool" >/dev/null; then
		t_skip "resumption tests ($tool is not installed)"; t_done; exit 0
	fi
done
if [ ! -x "$SERVER" ] || [ ! -x "$CUT" ]; then
	t_skip "resumption tests (server or tcpcut not built)"; t_done; exit 0
fi

t_port; PP=$PORT
t_port_apart "$PP"; SP=$PORT
U=https://127.0.0.1:$PP
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
sed -i -e "s/^port = [0-9]*;/port = $SP;/" org/server.cfg
DB=org/data/muster.db
q() { sqlite3 "file:$DB?mode=ro" "$1"; }

start_server() {
	"$SERVER" --config org/server.cfg >>server.log 2>&1 &
	SPID=$!
	for _ in $(seq 1 100); do
		curl -sk --max-time 1 "https://127.0.0.1:$SP/healthz" \
		    >/dev/null 2>&1 && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	echo "Bail out! muster-server did not start"; exit 1
}
stop_server() {
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null; SPID=
}
proxy() {
	if [ -n "$PPID_" ]; then
		kill -TERM "$PPID_" 2>/dev/null; wait "$PPID_" 2>/dev/null
	fi
	rm -f stats
	"$CUT" "$PP" "$SP" "$T/stats" 2>>proxy.err &
	PPID_=$!
	for _ in $(seq 1 50); do [ -f stats ] && return 0; sleep 0.05; done
	echo "Bail out! tcpcut did not start"; exit 1
}
stat_of() { sed -n "s/^$1 //p" stats; }
# The bytes the server sent in the check-in the proxy last carried.
settle() {
	local n=-1
	for _ in $(seq 1 40); do
		n=$(stat_of down)
		sleep 0.1
		[ "$(stat_of down)" = "$n" ] && [ "$(stat_of connections)" = 1 ] && break
	done
}

start_server
proxy
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null &&
    "$ENROLL" publish --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the profile"; exit 1; }
"$ENROLL" token --org org --scope personnel --unit U --person R-1 \
    -o b1.cfg >/dev/null
cp "$TOP/examples/devices/redmi-1s.cfg" dev1.cfg
"$AGENT" --state st --device "sim:$T/dev1.cfg" enroll b1.cfg >/dev/null 2>&1 ||
	{ echo "Bail out! enroll failed"; exit 1; }
A() { "$AGENT" --state st --device "sim:$T/dev1.cfg" "$@"; }
DEV=$(sed -n 's/^device_id = "\(.*\)";/\1/p' st/agent.cfg)
count() { q "SELECT count(*) FROM reports WHERE device = '$DEV'"; }
rm -f st/tls-session

# --- a full handshake keeps the ticket; the next check-in resumes ----------
proxy
t_exit 0 "first check-in" A run --once --verbose
settle
# The first: the report, then the policy (the device enrolled before the
# manifest it now learns of), over the same connection.
t_grep "a full handshake: nothing resumed" '2 exchanges \(0 on a resumed TLS session\)' "$T/err"
t_check "the ticket is kept in STATE/tls-session" test -s st/tls-session
t_check "  mode 0600" test "$(stat -c %a st/tls-session)" = 600
t_check "  bound to the server URL and the pin set" \
    test "$(sed -n 2p st/tls-session)" = "$U" -a "$(sed -n 3p st/tls-session)" = "$(cat org/server.pin)"
proxy
t_exit 0 "second check-in" A run --once --verbose
settle; resumed=$(stat_of down)
t_grep "it resumes: the reporter says so" '1 exchange \(1 on a resumed TLS session\)' "$T/err"
t_grep "  for the report, whose answer says the policy is current" 'HTTP 202, .*TLS session resumed' "$T/err"
t_check "  over one connection (proxy: $(stat_of connections))" test "$(stat_of connections)" = 1
t_check "two reports stored" test "$(count)" = 2
# The same unchanged check-in without the kept session: a full handshake.
mv st/tls-session kept-session
proxy
t_exit 0 "the same check-in without the kept session" A run --once --verbose
settle; full=$(stat_of down)
t_grep "  a full handshake" '1 exchange \(0 on a resumed TLS session\)' "$T/err"
t_check "the server sent less when resuming: no certificate ($resumed < $full bytes)" \
    test "$resumed" -lt "$full"
t_check "no secret in the log: the agent's lines name no session bytes" \
    sh -c "! grep -aq 'MUTS1' '$T/err'"

# --- sessions the server cannot use: a full handshake, nothing else --------
kill -HUP "$SPID"
for _ in $(seq 1 50); do grep -q 'reload' server.log && break; sleep 0.1; done
sleep 0.3
t_exit 0 "after a reload (ticket key rotated)" A run --once --verbose
t_grep "  a full handshake" '1 exchange \(0 on a resumed TLS session\)' "$T/err"
t_exit 0 "  then resumed again" A run --once --verbose
t_grep "  resumed" '1 exchange \(1 on a resumed TLS session\)' "$T/err"
stop_server; start_server
t_exit 0 "after a restart (a new ticket key)" A run --once --verbose
t_grep "  a full handshake" '1 exchange \(0 on a resumed TLS session\)' "$T/err"
printf 'garbage\n' >st/tls-session; chmod 600 st/tls-session
t_exit 0 "a kept file that is not a session" A run --once --verbose
t_grep "  a warning" 'not a TLS session file' "$T/err"
t_grep "  a full handshake" '1 exchange \(0 on a resumed TLS session\)' "$T/err"
{ printf 'MUTS1\n%s\n%s\n' "$U" "$(cat org/server.pin)"; head -c 300 /dev/urandom; } >st/tls-session
t_exit 0 "a kept session that is no DER (offered to the reporter)" A run --once --verbose
t_grep "  a full handshake" '1 exchange \(0 on a resumed TLS session\)' "$T/err"
t_check "  and a good session kept in its place" test "$(head -c 5 st/tls-session)" = MUTS1 -a "$(stat -c %s st/tls-session)" -gt 200
t_check "eight reports stored so far" test "$(count)" = 8

# --- the pin still decides: another key at the same address ----------------
t_exit 0 "a check-in that keeps a fresh session" A run --once --verbose
t_check "  kept" test -s st/tls-session
"$ENROLL" init --org other --server "$U" --no-passphrase >/dev/null
stop_server
cp -p org/server.crt org/server.key .
cp -p other/server.crt other/server.key org/
start_server
before=$(count)
proxy
t_exit 77 "a server with another TLS key, offered the kept session, is refused" \
    A run --once --verbose
t_grep "  the pin says so" 'does not match the pin' "$T/err"
t_check "  nothing stored" test "$(count)" = "$before"
t_check "  the kept session is forgotten" test ! -e st/tls-session
stop_server
cp -p server.crt server.key org/
start_server
t_exit 0 "the right key again: a full handshake, delivered" A run --once --verbose
t_grep "  full" '\(0 on a resumed TLS session\)' "$T/err"
t_check "  the queued report is stored" test "$(count)" -gt "$before"

# --- a RESUMED handshake is still checked against the pin ------------------
# The reporter itself, driven over its frame socket (frame.h): a session
# from a full handshake with the right pin, then a new reporter offered
# it under a pin set that does not name the server's key.  The server
# resumes (it issued the ticket); the reporter must still refuse.
REP=$MUSTER_BIN/muster-reporter
cat >drive.py <<'PY'
import os, socket, struct, subprocess, sys
rep, url, pin = sys.argv[1], sys.argv[2], sys.argv[3]
sess = open(sys.argv[4], 'rb').read() if len(sys.argv) > 4 else b''
a, b = socket.socketpair()
def child():
    if b.fileno() != 3:
        os.dup2(b.fileno(), 3)
    os.set_inheritable(3, True)
p = subprocess.Popen([rep], preexec_fn=child, close_fds=False)
b.close()
f = [b'GET', url.encode(), pin.encode(), b'', b'', sess]
a.sendall(b'MUQ3' + b''.join(struct.pack('>I', len(x)) for x in f) + b''.join(f))
def rd(n):
    d = b''
    while len(d) < n:
        c = a.recv(n - len(d))
        if not c: sys.exit('short answer')
        d += c
    return d
h = rd(40)
assert h[:4] == b'MUR3', h[:4]
out, st, ra, uid, el, ml, bl, fl, sl = struct.unpack('>9I', h[4:])
rd(el); msg = rd(ml); rd(bl); s = rd(sl)
a.shutdown(socket.SHUT_WR); p.wait()
if s: open('sess.der', 'wb').write(s)
print('outcome=%d status=%d resumed=%d session=%d' % (out, st, fl & 1, sl))
PY
OTHERPIN=$(cat other/server.pin)
RPIN=$(cat org/server.pin)
rm -f sess.der
t_check "reporter, right pin: a full handshake hands back a session" \
    sh -c "python3 drive.py '$REP' '$U/healthz' '$RPIN' | grep -q 'outcome=0 status=200 resumed=0 session=[1-9]'"
cp sess.der first.der
t_check "reporter offered it, right pin: resumed" \
    sh -c "python3 drive.py '$REP' '$U/healthz' '$RPIN' first.der | grep -q 'outcome=0 status=200 resumed=1'"
python3 drive.py "$REP" "$U/healthz" "$OTHERPIN" first.der >drive.out 2>&1
t_check "reporter offered it under a pin set without the server's key: resumed, and refused by the pin ($(cat drive.out))" \
    grep -q 'outcome=2 status=0 resumed=1 session=0' drive.out
t_done
