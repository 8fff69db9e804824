#!/bin/bash
# A full disk, on a small tmpfs (root only; skipped otherwise).
#
#  - agent: its state on a 512 KiB tmpfs that is then filled.  A run
#    exits with one clear error line (74, no space), a newly published
#    profile is refused and the installed one kept, the state still loads
#    and holds no temp file; once space returns, the next run installs the
#    profile and delivers.
#  - server: its data_dir on a 1 MiB tmpfs that is then filled.  Reports
#    are answered 2xx while SQLite still has room in its files, then 5xx,
#    never 2xx for a report not stored; the server stays up and its store
#    passes integrity_check; once space returns the refused reports are
#    stored when sent again, once each.
# The mounts are undone on exit.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/faults/common.sh"
cd "$T" || exit 1
NTESTS=20
fault_need "$NTESTS"
shopt -s nullglob
if [ "$(id -u)" != 0 ]; then
	fault_skip_all "$NTESTS" "a full disk needs a tmpfs mount (run as root)"
fi
mkdir amnt smnt
if ! mount -t tmpfs -o size=512k,mode=0700 muster-fault amnt 2>/dev/null; then
	fault_skip_all "$NTESTS" "mount -t tmpfs failed here (a container without CAP_SYS_ADMIN?)"
fi
F_MOUNTS="$T/amnt"
if ! mount -t tmpfs -o size=1m,mode=0700 muster-fault smnt 2>/dev/null; then
	fault_skip_all "$NTESTS" "mount -t tmpfs failed here"
fi
F_MOUNTS="$F_MOUNTS $T/smnt"

# fill DIR: fills the file system of DIR (bounded by its size).
fill() { dd if=/dev/zero of="$1/fill" bs=4k count=100000 2>/dev/null; sync; }

fault_org
sed -i "s|^data_dir = .*|data_dir = \"$T/smnt/data\";|" org/server.cfg
DB=$T/smnt/data/muster.db
start_server || { echo "Bail out! the server does not start"; exit 1; }
fault_publish 1 || { echo "Bail out! publish"; exit 1; }
fault_enroll a || { echo "Bail out! enroll"; exit 1; }
fault_enroll gen "$DEV/clean.cfg" || { echo "Bail out! enroll gen"; exit 1; }
"$AGENT" --state gen --device sim:gen.cfg run --once 2>/dev/null
sed -i 's|^server = .*|server = "https://127.0.0.1:1";|' gen/agent.cfg
GD=$(devid gen)
# A device of an org with roots takes its server from the root, not from
# agent.cfg: gen runs without a network (a network namespace of its own).
OFFLINE=()
unshare -rn true 2>/dev/null && OFFLINE=(unshare -rn)

# --- the agent -------------------------------------------------------------
cp -a a amnt/st
S=$T/amnt/st
A() { "$AGENT" --state "$S" --device "sim:$T/a.cfg" "$@"; }
t_exit 0 "agent: a run with its state on the tmpfs" A run --once
fill amnt
t_check "agent: the tmpfs is full" test "$(df --output=avail amnt | tail -n 1)" -le 4
fault_publish 2
t_exit 74 "agent: a run on a full disk exits 74" A run --once
t_check "agent: with one error line naming the cause" \
    test "$(grep -c '^muster-agent: error: ' "$T/err")" = 1 -a \
    "$(grep -c 'No space left on device' "$T/err")" -ge 1
sed 's/^/# /' "$T/err"
t_check "agent: the state still loads" state_ok "$S"
t_check "agent: the installed profile is still serial 1, whole" \
    sh -c "'$AGENT' --state '$S' status | grep -q 'iaf-personnel *serial 1 '"
t_check "agent: the installed profile is a whole published one" profile_ok "$S"
tmp=("$S"/*.tmp.* "$S"/*/*.tmp.*)
t_check "agent: no temp file left (${#tmp[@]})" test "${#tmp[@]}" = 0
rm -f amnt/fill
t_exit 0 "agent: once space returns, a run succeeds" A run --once
t_check "agent: and installs serial 2" \
    sh -c "'$AGENT' --state '$S' status | grep -q 'iaf-personnel *serial 2 '"
t_check "agent: its reports are all stored" \
    test "$(seqs_stored "$(devid "$S")" | tail -n 1)" = "$(<"$S/seq")"

# --- the server ------------------------------------------------------------
# newreport: spools gen's next report offline; sets CUR.
newreport() {
	"${OFFLINE[@]}" "$AGENT" --state gen --device sim:gen.cfg run --once \
	    >/dev/null 2>&1
	CUR=$(<gen/seq)
}
post() { report_post gen "$GD" "$1"; }
stored() { sql "SELECT count(*) FROM reports WHERE device = '$GD' AND seq = $1"; }

fill smnt
t_check "server: the tmpfs is full" test "$(df --output=avail smnt | tail -n 1)" -le 4
ok2xx=0; refused=; wrong=0; codes=
for i in $(seq 1 60); do
	newreport
	code=$(post "$CUR")
	codes="$codes $code"
	case $code in
	200|202) ok2xx=$((ok2xx + 1))
		[ "$(stored "$CUR")" = 1 ] || { wrong=$((wrong + 1)); echo "# $CUR: $code but not stored"; } ;;
	5*)	refused="$refused $CUR"
		[ "$(stored "$CUR")" = 0 ] || echo "# $CUR: $code but stored (it is sent again below)"
		# Two refusals in a row: the disk is surely full.
		[ "$(echo $refused | wc -w)" -ge 2 ] && break ;;
	*)	wrong=$((wrong + 1)); echo "# $CUR: HTTP $code" ;;
	esac
done
echo "# server on a full disk: HTTP$codes"
t_check "server: a full data dir is answered 5xx" test -n "$refused"
t_check "server: never 2xx for a report not stored, nothing but 2xx or 5xx ($wrong wrong)" \
    test "$wrong" = 0
t_check "server: still up on a full disk" healthz
t_check "server: its store passes integrity_check while full" \
    test "$(sql 'PRAGMA integrity_check')" = ok
rm -f smnt/fill
again=0
for s in $refused; do
	code=$(post "$s")
	case $code in 200|202) ;; *) again=$((again + 1)); echo "# $s again: HTTP $code" ;; esac
done
t_check "server: once space returns, the refused reports are stored ($again not)" \
    test "$again" = 0
newreport
t_check "server: and new ones too" test "$(post "$CUR")" = 202
want=$(<gen/seq)
got=$(sql "SELECT count(DISTINCT seq) || ' ' || count(*) FROM reports WHERE device = '$GD'")
t_check "server: every report stored exactly once ($got of $want)" \
    test "$got" = "$want $want"
stop_server
t_check "server: stops cleanly (exit $SRC)" test "$SRC" = 0
t_done
