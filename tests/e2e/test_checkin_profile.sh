#!/bin/bash
# Issue 13, "profiles of any lintable size work": the limits of lint,
# sign, publish and report agree (muster-profile(5)).  The largest profile
# lint passes (exactly PROTO_PUBLISH_PROFILE_MAX = 46080 bytes, hundreds
# of rules) is signed, published (not 413) and checked and reported by a
# real agent on a sim device (not 65: its report fits); one byte more is
# refused by lint and by sign with one line naming the limit, before
# anything is signed.  Every wait is bounded; the server is killed on exit.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
SERVER="$MUSTER_BIN/muster-server"
SPID=
trap 'if [ -n "$SPID" ]; then kill -9 "$SPID" 2>/dev/null; fi; rm -rf "$T"' EXIT
LIMIT=46080

# gen FILE SIZE: a personnel profile of os-min and setting rules, padded
# in its last rule's title to exactly SIZE bytes.
gen() {
	local f=$1 size=$2 i=0 have pad
	{
		printf 'id = "big";\nserial = 1;\nexpires = "2030-01-01T00:00:00Z";\n'
		printf 'scope = "personnel";\ntitle = "the largest lintable profile";\n'
		printf 'report_interval = 3600;\nrules = (\n'
	} >"$f"
	while :; do
		i=$((i + 1))
		printf '{id="r%04d";kind="setting";severity="low";title="s%d";namespace="secure";key="k_%d";expect="0";},\n' \
		    "$i" "$i" "$i" >>"$f"
		[ "$(stat -c %s "$f")" -lt $((size - 300)) ] || break
	done
	have=$(( $(stat -c %s "$f") + ${#i} + 60 ))
	pad=$((size - have))
	printf '{id="last";kind="os-min";severity="low";min_version="4.4";title="%s"}\n);\n' \
	    "$(head -c "$pad" /dev/zero | tr '\0' x)" >>"$f"
	# Exactly size: trim or extend the padding by what the estimate missed.
	have=$(stat -c %s "$f")
	if [ "$have" -ne "$size" ]; then
		pad=$((pad + size - have))
		head -n -2 "$f" >"$f.tmp"
		printf '{id="last";kind="os-min";severity="low";min_version="4.4";title="%s"}\n);\n' \
		    "$(head -c "$pad" /dev/zero | tr '\0' x)" >>"$f.tmp"
		mv "$f.tmp" "$f"
	fi
}

"$ENROLL" init --org org --server https://127.0.0.1:9 --no-passphrase >/dev/null
gen big.cfg "$LIMIT"
gen over.cfg $((LIMIT + 1))
t_check "the largest profile is exactly $LIMIT bytes" test "$(stat -c %s big.cfg)" = "$LIMIT"
t_check "the other is one byte more" test "$(stat -c %s over.cfg)" = $((LIMIT + 1))
NR=$(grep -c '^{id=' big.cfg)
t_exit 0 "lint passes the largest ($NR rules)" "$ENROLL" lint big.cfg
t_exit 65 "lint refuses one byte more" "$ENROLL" lint over.cfg
t_err_line "lint: one line naming the file and the limit" "^muster-enroll: over.cfg: 46081 bytes, over the 46080"
t_exit 65 "sign refuses one byte more" "$ENROLL" sign --org org over.cfg
t_err_line "sign: one line naming the limit" "46081 bytes, over the 46080"
t_check "nothing was signed" test ! -e over.cfg.minisig
t_exit 0 "sign signs the largest" "$ENROLL" sign --org org big.cfg

if [ ! -x "$SERVER" ] || ! command -v sqlite3 >/dev/null; then
	t_skip "publish and report (no server or sqlite3)"
	t_done
	exit 0
fi
t_port
rm -rf org
"$ENROLL" init --org org --server "$U" --no-passphrase >/dev/null
"$ENROLL" sign --org org big.cfg >/dev/null
"$SERVER" --config org/server.cfg >>server.log 2>&1 &
SPID=$!
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
t_exit 0 "publish takes the largest (no 413)" "$ENROLL" publish --org org big.cfg
"$ENROLL" token --org org --scope personnel --unit U --person P -o b.cfg >/dev/null
cp "$TOP/examples/devices/redmi-1s.cfg" dev.cfg
A() { "$AGENT" --state st --device "sim:$T/dev.cfg" "$@"; }
t_exit 0 "a real agent enrolls and installs it" A enroll b.cfg
t_grep "  (installed)" 'installed profile "big" serial 1' "$T/out"
t_exit 1 "check evaluates all its rules (noncompliant: 1)" A check
t_exit 0 "run --once checks and reports it (exit 0, not 65)" A run --once
D=$(sed -n 's/^device_id = "\(.*\)";/\1/p' st/agent.cfg)
sqlite3 "file:org/data/muster.db?mode=ro" "SELECT seq, length(body), json_array_length(CAST(body AS TEXT), '$.results') FROM reports WHERE device = '$D'" | sed 's/^/# stored: /'
t_check "the server stored the report with one result per rule ($NR)" test \
    "$(sqlite3 "file:org/data/muster.db?mode=ro" "SELECT json_array_length(CAST(body AS TEXT), '\$.results') FROM reports WHERE device = '$D'")" = "$NR"
t_check "the report fits the report limit" test \
    "$(sqlite3 "file:org/data/muster.db?mode=ro" "SELECT length(body) FROM reports WHERE device = '$D'")" -le 65536
kill -TERM "$SPID" 2>/dev/null
for _ in $(seq 1 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
wait "$SPID" 2>/dev/null; SPID=
t_done
