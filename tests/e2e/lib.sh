# Sourced by every tests/e2e/test_*.sh: TAP output and small assertions.
# MUSTER_BIN names the directory holding the programs under test.
set -u
: "${MUSTER_BIN:?set MUSTER_BIN to the bin directory of a build}"
MUSTER_BIN=$(cd "$MUSTER_BIN" && pwd)
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/muster-e2e.XXXXXX")
chmod 700 "$T"
trap 'rm -rf "$T"' EXIT
T_N=0
ENROLL="$MUSTER_BIN/muster-enroll"

t_ok()   { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
t_fail() { T_N=$((T_N + 1)); echo "not ok $T_N - $*"; }
t_skip() { T_N=$((T_N + 1)); echo "ok $T_N - # SKIP $*"; }
t_done() { echo "1..$T_N"; }

# t_check NAME COND...: passes when the command COND succeeds.
t_check() {
	local name=$1; shift
	if "$@"; then t_ok "$name"; else t_fail "$name"; fi
}

# t_exit CODE NAME CMD...: runs CMD with stdout in $T/out and stderr in
# $T/err; passes when it exits CODE.  A failure shows stderr as comments.
t_exit() {
	local want=$1 name=$2 rc; shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		t_ok "$name"
	else
		t_fail "$name (exit $rc, wanted $want)"
		sed 's/^/# err: /' "$T/err" | head -n 20
		sed 's/^/# out: /' "$T/out" | head -n 20
	fi
}

# t_err_line NAME REGEX: the last command wrote exactly one line to stderr,
# matching REGEX.
t_err_line() {
	local name=$1 re=$2 n
	n=$(wc -l <"$T/err")
	if [ "$n" -eq 1 ] && grep -Eq -- "$re" "$T/err"; then
		t_ok "$name"
	else
		t_fail "$name (stderr had $n lines, wanted one matching /$re/)"
		sed 's/^/# err: /' "$T/err" | head -n 20
	fi
}

# t_grep NAME REGEX FILE: FILE has a line matching REGEX.
t_grep() {
	if grep -Eq -- "$2" "$3"; then t_ok "$1"; else
		t_fail "$1 (no /$2/ in $(basename "$3"))"
		sed 's/^/# /' "$3" | head -n 20
	fi
}

# t_random_port: a random port below the kernel's ephemeral range, so
# that no client connection (ours, or another program's) is given it
# between the test choosing it and a server binding it.
t_random_port() {
	local lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	if [ "${lo:-0}" -gt 12000 ]; then
		echo $((10000 + RANDOM % (lo - 10002)))
	else
		echo $((20000 + RANDOM % 40000))
	fi
}

# t_port: PORT, a port nothing on 127.0.0.1 listens on, nor on the
# next one (the admin listener's; 50 tries at most), U, its https URL,
# and AU, the admin listener's URL (t_admin_url); bails out when none is
# found.
t_port() {
	local p
	PORT=
	for _ in $(seq 1 50); do
		p=$(t_random_port)
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
		    ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then
			PORT=$p
			break
		fi
	done
	[ -n "$PORT" ] || { echo "Bail out! no free port"; exit 1; }
	U=https://127.0.0.1:$PORT
	AU=$(t_admin_url "$PORT")
}

# t_port_apart PORT...: t_port, with PORT and PORT + 1 clear of every
# given port and the one after it (a server takes its port and the admin
# listener's, port + 1; the ports are all chosen before any is bound).
t_port_apart() {
	local q ok
	for _ in $(seq 1 50); do
		t_port
		ok=1
		for q in "$@"; do
			[ $((PORT - q)) -ge 2 ] || [ $((q - PORT)) -ge 2 ] || ok=0
		done
		[ "$ok" = 1 ] && return 0
	done
	echo "Bail out! no free port"; exit 1
}

# t_admin_url [PORT]: the URL of the admin listener (the admin API,
# /metrics, /console/) of a server whose device port is PORT (default
# $PORT): https://127.0.0.1:PORT+1, what `muster-enroll init` writes as
# admin_listen and what the server takes without one (docs/server.md).
t_admin_url() {
	local p=${1:-$PORT}
	echo "https://127.0.0.1:$((p < 65535 ? p + 1 : p - 1))"
}

# t_first_wave DIR: turns an organisation `muster-enroll init` made into
# one of the first wave (issue 11's legacy root): one org key (org.key,
# org.pub), no root/, no role keys, server.cfg naming org_key.
t_first_wave() {
	rm -rf "$1/root" "$1/manifest"
	rm -f "$1"/root-*.key "$1"/root-*.pub "$1"/policy.key "$1"/policy.pub \
	    "$1"/revocation.key "$1"/revocation.pub "$1"/enroll.key \
	    "$1"/enroll.pub
	sed -i -e 's/^root_dir = .*/org_key = "org.pub";/' "$1/server.cfg"
}
