# Sourced by tests/e2e/test_fault_*.sh after tests/e2e/lib.sh: an org, a
# server on a random loopback port, enrolled sim devices, and the tools of
# tests/faults/.  Every wait is bounded; processes are stopped by the pid
# recorded when they were started (SPID, and whatever the test adds to
# F_PIDS); fault_cleanup, run from the EXIT trap, kills them.
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
FTOOLS=$(cd "$MUSTER_BIN/.." && pwd)/tests/faults
DEV=$TOP/examples/devices
SPID=
F_PIDS=
F_MOUNTS=

fault_cleanup() {
	local p m
	for p in $SPID $F_PIDS; do
		kill -9 "$p" 2>/dev/null
	done
	for m in $F_MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	rm -rf "$T"
}
trap fault_cleanup EXIT

# fault_sanitized: true when the programs under test are an ASan build.
fault_sanitized() { ldd "$AGENT" 2>/dev/null | grep -q 'libasan'; }

# fault_skip_all N REASON: prints N skips, the plan, and exits.
fault_skip_all() {
	local i
	for i in $(seq 1 "$1"); do t_skip "$2"; done
	t_done
	exit 0
}

# fault_need: skips the whole test without a server, sqlite3 or the tools.
fault_need() {
	local n=$1 x
	for x in "$SERVER" "$FTOOLS/killat"; do
		[ -x "$x" ] || fault_skip_all "$n" "$(basename "$x") not built"
	done
	command -v sqlite3 >/dev/null || fault_skip_all "$n" "no sqlite3"
	command -v curl >/dev/null || fault_skip_all "$n" "no curl"
}

# fault_org: a new org in $T/org for a server on a free port ($PORT, $U).
fault_org() {
	t_port
	"$ENROLL" init --org "$T/org" --server "$U" --no-passphrase \
	    >/dev/null || { echo "Bail out! muster-enroll init"; exit 1; }
	PIN=$(cat "$T/org/server.pin")
	DB=$T/org/data/muster.db
}

# fault_limits FIELD=VALUE...: rewrites limits in org/server.cfg.
fault_limits() {
	local kv
	for kv in "$@"; do
		sed -i "s/\\b${kv%%=*} = [0-9]*;/${kv%%=*} = ${kv#*=};/" \
		    "$T/org/server.cfg"
	done
}

# healthz: one bounded GET /healthz; true on 200.
healthz() {
	[ "$(curl -sk --max-time 2 -o /dev/null -w '%{http_code}' \
	    "$U/healthz" 2>/dev/null)" = 200 ]
}

# start_server [ENV=VALUE...]: starts it (with the environment given)
# and waits, at most 10 s, until /healthz answers.
start_server() {
	env "$@" "$SERVER" --config "$T/org/server.cfg" \
	    >>"$T/server.log" 2>&1 &
	SPID=$!
	for _ in $(seq 1 100); do
		healthz && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	return 1
}

# stop_server: SIGTERM, at most 10 s, then SIGKILL; sets SRC to its exit.
# A server that does not stop has its threads' stacks and its log's end
# printed as TAP comments (gdb, when there is one).
stop_server() {
	[ -n "$SPID" ] || return 0
	kill -TERM "$SPID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SPID" 2>/dev/null; then
		echo "# the server (pid $SPID) did not stop within 10 s of SIGTERM"
		command -v gdb >/dev/null && timeout 30 gdb -p "$SPID" -batch \
		    -ex 'thread apply all bt 12' 2>/dev/null |
		    grep '^#\|^Thread' | sed 's/^/# gdb: /' | head -n 80
		tail -n 10 "$T/server.log" | sed 's/^/# server: /'
	fi
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SRC=$?
	SPID=
}

# crash_server: SIGKILL, as a power cut would.
crash_server() {
	[ -n "$SPID" ] || return 0
	kill -9 "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	SPID=
}

# fault_publish [SERIAL]: signs and publishes the personnel profile
# (with that serial) and keeps a copy of its exact bytes in $T/pub/.
fault_publish() {
	local s=${1:-1}
	mkdir -p "$T/pub"
	sed "s/^serial = [0-9]*;/serial = $s;/" \
	    "$TOP/profiles/iaf-personnel.cfg" >"$T/pub/p$s.cfg"
	"$ENROLL" sign --org "$T/org" "$T/pub/p$s.cfg" >/dev/null &&
	    "$ENROLL" publish --org "$T/org" "$T/pub/p$s.cfg" >/dev/null
}

# fault_enroll NAME [DEVICE-FILE]: enrolls the sim device $T/NAME.cfg
# (a copy of DEVICE-FILE, default the Redmi 1S) with state $T/NAME.
fault_enroll() {
	local name=$1 src=${2:-$DEV/redmi-1s.cfg}
	cp "$src" "$T/$name.cfg"
	"$ENROLL" token --org "$T/org" --scope personnel --unit FAULT/1 \
	    --person "$name" -o "$T/$name.bundle" >/dev/null &&
	    "$AGENT" --state "$T/$name" --device "sim:$T/$name.cfg" \
	    enroll "$T/$name.bundle" >/dev/null
}

devid() { sed -n 's/^device_id = "\(.*\)";/\1/p' "$1/agent.cfg"; }

# report_post DIR DEVICE SEQ [SECONDS]: posts DIR/spool/SEQ.json with its
# signature as DEVICE (curl, --max-time SECONDS, default 20); prints the
# HTTP status (000: no answer).
report_post() {
	curl -sk --pinnedpubkey "$PIN" --max-time "${4:-20}" -o /dev/null \
	    -w '%{http_code}' -H 'Content-Type: application/json' \
	    -H "Muster-Device: $2" \
	    -H "Muster-Signature: $(<"$1/spool/$3.sig")" \
	    --data-binary @"$1/spool/$3.json" "$U/v1/report" 2>/dev/null
}

# sql QUERY: one read-only query of the server's store.
sql() { sqlite3 "file:$DB?mode=ro" "$1" 2>/dev/null; }

# seqs_stored DEVICE: its stored seqs in order, one per line.
seqs_stored() {
	sql "SELECT seq FROM reports WHERE device = '$1' ORDER BY seq;"
}

# state_ok DIR: `status` loads the state (0), or refuses it with exit 78
# and one line naming what is wrong.
# (Its output goes to st.out and st.err in the current directory.)
state_ok() {
	local rc
	"$AGENT" --state "$1" status >st.out 2>st.err </dev/null
	rc=$?
	[ "$rc" = 0 ] && return 0
	[ "$rc" = 78 ] && [ "$(wc -l <st.err)" = 1 ] && return 0
	echo "# status of $1: exit $rc"
	sed 's/^/# status: /' st.err | head -n 5
	return 1
}

# profile_ok DIR: every installed profile holds exactly the bytes of one
# published profile after its four signature lines.
profile_ok() {
	local f ok p
	for f in "$1"/profiles/*.profile; do
		[ -e "$f" ] || continue
		ok=0
		for p in "$T"/pub/p*.cfg; do
			if tail -n +5 "$f" | cmp -s - "$p"; then ok=1; break; fi
		done
		[ "$ok" = 1 ] || { echo "# $f is no published profile"; return 1; }
	done
	return 0
}
