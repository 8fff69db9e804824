#!/bin/bash
# muster-server under valgrind's memcheck: 10,000 requests and more over
# keep-alive HTTPS (tests/tools/ingest -m: enrollments, signed reports from
# 20 devices, duplicates, /healthz, /metrics, and bad requests: unknown
# path 404, wrong Content-Type 415, bodies over max_body 413 by
# Content-Length and chunked, a body that is not JSON 400, bad signatures
# and unsigned requests 401, an unknown device 403), then SIGTERM.  The
# server must exit 0 (valgrind's --error-exitcode would make it 99), with
# no memory error and nothing definitely lost.  The plain build only (a
# sanitizer build cannot run under valgrind); skipped without valgrind.
# About a minute on a 2-CPU machine; every wait is bounded, and the
# server is killed by its recorded pid on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
SERVER="$MUSTER_BIN/muster-server"
INGEST="$MUSTER_BIN/../tests/tools/ingest"
DEVICES=20
REPORTS=250		# each followed by another request: 10,020 in all
CONNECTIONS=8

case "$MUSTER_BIN" in
*/build/bin) ;;
*)	echo "1..0 # SKIP valgrind runs on the plain build only (build/bin)"
	exit 0 ;;
esac
if ! command -v valgrind >/dev/null; then
	echo "1..0 # SKIP valgrind is not installed"
	exit 0
fi
if [ ! -x "$INGEST" ]; then
	echo "1..0 # SKIP $INGEST is not built (make test builds it)"
	exit 0
fi

SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT

t_port

"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null ||
	{ echo "Bail out! muster-enroll init failed"; exit 1; }
# Room for the load tool's connections (and its reconnections).
sed -i -e 's/max_per_ip = [0-9]*/max_per_ip = 64/' \
    -e 's/connection_timeout = [0-9]*/connection_timeout = 60/' org/server.cfg
CURL=(curl -s --max-time 10 --cacert org/server.crt --pinnedpubkey "$(cat org/server.pin)")

start=$(date +%s)
valgrind --leak-check=full --errors-for-leak-kinds=definite \
    --error-exitcode=99 --log-file="$T/vg.log" \
    "$SERVER" --config org/server.cfg 2>server.log &
SPID=$!
up=0
for _ in $(seq 1 300); do
	[ "$("${CURL[@]}" "$U/healthz" 2>/dev/null)" = ok ] && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.2
done
if [ "$up" != 1 ]; then
	echo "Bail out! muster-server did not start under valgrind"
	sed 's/^/# /' server.log vg.log | tail -n 30
	exit 1
fi
t_ok "server starts under valgrind"
# The profile the load's reports name (the server checks them against it).
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
"$ENROLL" sign --org org p.cfg >/dev/null &&
    "$ENROLL" publish --org org p.cfg >/dev/null ||
	{ echo "Bail out! cannot publish the profile"; exit 1; }

timeout 600 "$INGEST" -m org "$U" "$DEVICES" "$REPORTS" "$CONNECTIONS" \
    >ingest.out 2>ingest.err
rc=$?
sed 's/^/# /' ingest.err | head -n 10
get() { tr ' ' '\n' <ingest.out | sed -n "s/^$1=//p"; }
requests=$(get requests)
t_check "every request got the status it should (ingest exit $rc, $(get unexpected) unexpected)" \
    test "$rc" = 0
t_check "at least 10,000 requests (${requests:-none})" \
    test "${requests:-0}" -ge 10000
t_check "every report stored ($(get stored) of $((DEVICES * REPORTS)))" \
    test "$(get stored)" = "$((DEVICES * REPORTS))"
alive=$("${CURL[@]}" "$U/healthz" 2>/dev/null)
t_check "server still up after the load" test "$alive" = ok

kill -TERM "$SPID"
src=
for _ in $(seq 1 600); do
	if ! kill -0 "$SPID" 2>/dev/null; then wait "$SPID"; src=$?; break; fi
	sleep 0.2
done
[ -n "$src" ] && SPID=
t_check "SIGTERM: exits 0 under valgrind (exit ${src:-none: still running})" \
    test "${src:-none}" = 0
t_grep "valgrind: no memory errors" 'ERROR SUMMARY: 0 errors' vg.log
t_check "valgrind: nothing definitely lost" sh -c \
    "! grep -Eq 'definitely lost: [1-9]|are definitely lost' vg.log"
if grep -Eq 'are definitely lost|ERROR SUMMARY: [1-9]' vg.log; then
	grep -E -A12 'are definitely lost|Invalid|uninitialised' vg.log |
	    head -n 60 | sed 's/^/# vg: /'
fi
t_check "server logged no error" sh -c "! grep -q 'error:' server.log"
t_grep "stop logged" "info: stopped" server.log
echo "# $requests requests under valgrind; $(($(date +%s) - start)) s from start to exit"
t_done
