#!/bin/bash
# Failure injection in the manner of curl's torture tests, with the
# LD_PRELOAD shim tests/faults/failinject.so (see docs/testing.md).
#
#  - agent: for each of malloc, write, fsync and rename, and every N from
#    1 until a run no longer reaches an Nth call, a whole `muster-agent
#    run --once` (a fresh copy of an enrolled state without its profile,
#    so that each run installs the profile, remediates the sim device,
#    spools and sends a report to a real server) whose Nth call fails.
#    Every run ends 0 or with a sysexits code and one error line, never
#    by a signal; the state still loads, the sim device file still reads,
#    no temp file is left behind, and every report acknowledged as
#    delivered is stored.  A sample of N goes through valgrind: no leak
#    (definitely lost) and no bad access on those error paths.
#  - server: a server preloaded with the shim and re-armed (SIGUSR2)
#    before each request: the Nth malloc, write or fsync while it handles
#    one signed report fails (counting only calls from the server itself,
#    SQLite, jansson, libsodium and libmicrohttpd: GnuTLS's stack aborts
#    or crashes on a failed allocation).  It never answers 2xx for a
#    report it did not store, nor 4xx for a good one (an agent never
#    sends again a report refused 4xx), stays up, and every report is
#    stored once when sent again.
#
# libconfig 1.5 does not check its allocations (config_init dereferences
# NULL, its scanner exit(2)s "out of dynamic memory in libconfig_yy...");
# runs that end so are counted apart, and must still leave a whole state.
# The shim and ASan cannot share a process: a sanitizer build prints
# skips.  Knobs: MUSTER_FAULT_JOBS (parallel runs, default 2),
# MUSTER_FAULT_STRIDE (try only every Kth N for the agent's malloc, from
# a random offset printed as MUSTER_FAULT_OFFSET; default 1: every N),
# MUSTER_FAULT_MAX (cap on N, default 4000), MUSTER_FAULT_VALGRIND
# (sampled runs, default 6; 0 to skip), MUSTER_FAULT_SERVER_STRIDE (the
# same for the server's malloc; default 1).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/faults/common.sh"
cd "$T" || exit 1
NTESTS=21
SHIM=$FTOOLS/failinject.so
JOBS=${MUSTER_FAULT_JOBS:-2}
STRIDE=${MUSTER_FAULT_STRIDE:-1}
OFFSET=${MUSTER_FAULT_OFFSET:-$((1 + RANDOM % STRIDE))}
NMAX=${MUSTER_FAULT_MAX:-4000}
NVG=${MUSTER_FAULT_VALGRIND:-6}
SSTRIDE=${MUSTER_FAULT_SERVER_STRIDE:-1}
if fault_sanitized; then
	fault_skip_all "$NTESTS" "LD_PRELOAD of the fault shim conflicts with ASan (runs on the plain build)"
fi
[ -f "$SHIM" ] || fault_skip_all "$NTESTS" "failinject.so not built"
fault_need "$NTESTS"
shopt -s nullglob

fault_org
start_server || { echo "Bail out! the server does not start"; exit 1; }
fault_publish 1 || { echo "Bail out! publish"; exit 1; }
cp "$DEV/redmi-1s.cfg" dev.orig
# A state that only checks (trust + the published profile, no server).
"$AGENT" --state chk trust "$T/org/org.pub" >/dev/null &&
    "$AGENT" --state chk install "$T/pub/p1.cfg" >/dev/null ||
    { echo "Bail out! chk state"; exit 1; }
# One enrolled device per parallel job (each has its own seqs), kept as a
# template without its profile.
for k in $(seq 1 "$JOBS"); do
	fault_enroll "tpl$k" || { echo "Bail out! enroll"; exit 1; }
	rm -f "$T/tpl$k"/profiles/*.profile
	mkdir "w$k"
done
# The remediated device, as a clean run leaves it.
rm -rf st; cp -a tpl1 st; cp dev.orig dev.cfg
t_exit 0 "a clean run --once" "$AGENT" --state st --device sim:dev.cfg run --once
cp dev.cfg dev.fixed
read -r -d '' ORIG <dev.orig
read -r -d '' FIXED <dev.fixed
rm -rf st

# inject FN N: in the job's directory, one fresh run whose Nth FN call
# fails.  Sets RC, HIT (the Nth call was reached), CALLS (how many the
# process made; empty when it did not exit) and LOG (the shim's lines).
inject() {
	rm -rf st
	cp -a "$TPL" st
	cp ../dev.orig dev.cfg
	SEQ=$((SEQ + 1))
	echo "$SEQ" >st/seq
	: >fl
	# The braces take the shell's own "Segmentation fault" line.
	{ LD_PRELOAD=$SHIM MUSTER_FAIL_FN=$1 MUSTER_FAIL_AT=$2 \
	    MUSTER_FAIL_LOG=$PWD/fl MUSTER_FAIL_PROG=muster-agent \
	    "$AGENT" --state st --device sim:dev.cfg run --once \
	    >out 2>err </dev/null; RC=$?; } 2>/dev/null
	LOG=$(<fl)
	HIT=0; CALLS=
	[[ $LOG == "hit "* || $LOG == *$'\n'"hit "* ]] && HIT=1
	[[ $LOG =~ calls\ ([0-9]+)\ hit ]] && CALLS=${BASH_REMATCH[1]}
}

# judge FN N: what must hold after every run; says why not on stdout.
# Sets LIB when the run ended inside libconfig (see above).
judge() {
	local bad=0 nerr=0 stray=0 line dev tmp
	LIB=0
	if [[ $LOG =~ crash\ [0-9]+\ in\ [^\ ]+\ via\ libconfig\.so ]] ||
	    { [ "$RC" = 2 ] && [[ $LOG == *" from libconfig.so"* ]] &&
	    [[ $(tail -n 1 err) == "out of dynamic memory in libconfig_yy"* ]]; }; then
		LIB=1
	elif [[ $LOG == *"crash "* ]] || [ -z "$CALLS" ]; then
		echo "# $1 #$2: exit $RC; ${LOG//$'\n'/; }"
		bad=1
	elif [ "$RC" != 0 ] && { [ "$RC" -lt 64 ] || [ "$RC" -gt 78 ]; }; then
		echo "# $1 #$2: exit $RC"; bad=1
	fi
	while IFS= read -r line; do
		case $line in
		"muster-agent: error: "?*) nerr=$((nerr + 1)) ;;
		"muster-agent: info: "?*|"muster-agent: warning: "?*) ;;
		*) stray=$((stray + 1)) ;;
		esac
	done <err
	if [ "$LIB" = 0 ] && [ "$RC" != 0 ] && [ "$RC" != 75 ] &&
	    [ "$nerr" != 1 ]; then
		echo "# $1 #$2: exit $RC with $nerr error lines"; bad=1
	fi
	if [ "$LIB" = 0 ] && [ "$stray" != 0 ]; then
		echo "# $1 #$2: $stray stray lines on stderr"; bad=1
	fi
	state_ok st || bad=1
	# Each setting is remediated atomically: the device file is the
	# original, the remediated one, or something between that reads.
	read -r -d '' dev <dev.cfg
	if [ "$dev" != "$ORIG" ] && [ "$dev" != "$FIXED" ]; then
		"$AGENT" --state ../chk --device sim:dev.cfg check \
		    >/dev/null 2>chk.err
		case $? in
		0|1) ;;
		*) echo "# $1 #$2: the sim device file no longer reads: $(<chk.err)"
		   bad=1 ;;
		esac
	fi
	if [ "$LIB" = 0 ]; then
		tmp=(st/*.tmp.* st/*/*.tmp.* *.tmp.*)
		if [ "${#tmp[@]}" != 0 ]; then
			echo "# $1 #$2: temp files left: ${tmp[*]}"; bad=1
		fi
	fi
	# What the agent took as delivered must be stored (checked at the end).
	if [ -f "st/sent/$((SEQ + 1)).ack" ] &&
	    [[ $(<"st/sent/$((SEQ + 1)).ack") == delivered* ]]; then
		echo "$((SEQ + 1))" >>delivered
	fi
	[ "$bad" = 0 ] || sed "s/^/# $1 #$2 err: /" err | head -n 5
	return "$bad"
}

# sweep FN K STEP: job K's share of N (offset, then every JOBS*STEP),
# until a run no longer reaches N.  Writes "N RC LIB BAD" lines to
# K.runs, messages to K.msgs, and the last N and its CALLS to K.stop.
sweep() {
	local fn=$1 k=$2 step=$3 n
	cd "w$k" || exit 1
	TPL=$T/tpl$k
	n=$((${4:-1} + (k - 1) * step))
	: >"$fn.runs"
	while [ "$n" -le "$NMAX" ]; do
		inject "$fn" "$n"
		bad=0
		judge "$fn" "$n" >>"$fn.msgs" || bad=1
		echo "$n $RC $LIB $bad" >>"$fn.runs"
		if [ "$HIT" = 0 ] && [ -n "$CALLS" ]; then
			echo "$n $CALLS" >"$fn.stop"
			break
		fi
		n=$((n + JOBS * step))
	done
}

echo "# MUSTER_FAULT_OFFSET=$OFFSET MUSTER_FAULT_STRIDE=$STRIDE MUSTER_FAULT_JOBS=$JOBS"
for k in $(seq 1 "$JOBS"); do : >"w$k/delivered"; done
fi=0
for fn in malloc write fsync rename; do
	fi=$((fi + 1))
	step=1; first=1; what="every N"
	if [ "$fn" = malloc ] && [ "$STRIDE" != 1 ]; then
		step=$STRIDE; first=$OFFSET; what="every ${STRIDE}th N from $OFFSET"
	fi
	t0=$SECONDS
	pids=
	for k in $(seq 1 "$JOBS"); do
		# Seqs rise along each device's life: job, then function.
		( SEQ=$((k * 1000000 + fi * 100000))
		  sweep "$fn" "$k" "$step" "$first" ) &
		pids="$pids $!"
	done
	F_PIDS="$F_PIDS $pids"
	for p in $pids; do wait "$p"; done
	F_PIDS=
	cat w*/"$fn".msgs 2>/dev/null | head -n 40
	runs=$(cat w*/"$fn".runs | wc -l)
	bad=$(awk '$4 == 1' w*/"$fn".runs | wc -l)
	libs=$(awk '$3 == 1' w*/"$fn".runs | wc -l)
	hist=$(awk '{print $2}' w*/"$fn".runs | sort -n | uniq -c |
	    awk '{printf "%s%s x%s", s, $2, $1; s=", "}')
	stops=$(cat w*/"$fn".stop 2>/dev/null | wc -l)
	calls=$(cat w*/"$fn".stop 2>/dev/null | awk '{print $2}' | sort -n | tail -n 1)
	echo "# agent $fn: $runs runs in $((SECONDS - t0)) s; exits: $hist; $libs ended inside libconfig"
	t_check "agent $fn: $what until a run no longer reaches it (${calls:-?} calls)" \
	    test "$stops" = "$JOBS"
	t_check "agent $fn: every run ended cleanly, state and files whole ($bad bad)" \
	    test "$bad" = 0
done

# Every report the agent took as delivered is stored, once.
missing=0; total=0
for k in $(seq 1 "$JOBS"); do
	D=$(devid "$T/tpl$k")
	seqs_stored "$D" >"w$k/stored"
	total=$((total + $(wc -l <"w$k/delivered")))
	missing=$((missing + $(sort "w$k/delivered" | comm -23 - <(sort "w$k/stored") | wc -l)))
	dup=$(sql "SELECT count(*) FROM (SELECT seq FROM reports WHERE device = '$D' GROUP BY seq HAVING count(*) > 1)")
	missing=$((missing + ${dup:-1}))
done
t_check "agent: every report acknowledged as delivered is stored once ($total, $missing missing)" \
    test "$missing" = 0

# --- valgrind on a sample of the failing runs -------------------------------
if [ "$NVG" -gt 0 ] && command -v valgrind >/dev/null; then
	cd w1 || exit 1
	TPL=$T/tpl1
	SEQ=1900000
	calls=$(awk '{print $2}' malloc.stop 2>/dev/null)
	calls=${calls:-1000}
	vbad=0; vlib=0; vn=0; t0=$SECONDS
	for i in $(seq 1 "$NVG"); do
		for fn in malloc write fsync; do
			case $fn in
			malloc) n=$(( (calls * i) / (NVG + 1) + RANDOM % 7 )) ;;
			*) [ "$i" -le 2 ] || continue
			   n=$(awk '{print $2}' "$fn.stop"); n=$(( 1 + RANDOM % ${n:-1} )) ;;
			esac
			rm -rf st; cp -a "$TPL" st; cp ../dev.orig dev.cfg
			SEQ=$((SEQ + 1)); echo "$SEQ" >st/seq; : >fl
			{ LD_PRELOAD=$SHIM MUSTER_FAIL_FN=$fn MUSTER_FAIL_AT=$n \
			    MUSTER_FAIL_LOG=$PWD/fl MUSTER_FAIL_PROG=muster-agent \
			    valgrind -q --leak-check=full --show-leak-kinds=definite \
			    --errors-for-leak-kinds=definite --error-exitcode=99 \
			    --child-silent-after-fork=yes --log-file=vg.log \
			    "$AGENT" --state st --device sim:dev.cfg run --once \
			    >out 2>err </dev/null; rc=$?; } 2>/dev/null
			vn=$((vn + 1))
			if grep -q ' via libconfig\.so\| from libconfig\.so' fl &&
			    [ "$rc" -ge 128 -o "$rc" = 2 ]; then
				vlib=$((vlib + 1))
			elif [ "$rc" = 99 ] || [ "$rc" -ge 128 ] || [ -s vg.log ]; then
				vbad=$((vbad + 1))
				echo "# valgrind $fn #$n: exit $rc"
				sed 's/^/# vg: /' vg.log | head -n 30
			fi
		done
	done
	echo "# valgrind: $vn runs in $((SECONDS - t0)) s, $vlib ended inside libconfig"
	t_check "valgrind: no leak or bad access on $vn sampled failing runs ($vbad bad)" \
	    test "$vbad" = 0
	cd "$T" || exit 1
else
	t_skip "valgrind sample (no valgrind, or MUSTER_FAULT_VALGRIND=0)"
fi

# --- server ------------------------------------------------------------------
# A device whose reports are made offline: once its profile is installed,
# its server URL is pointed at a closed port, so that run --once spools a
# signed report and exits 75 at once; curl then posts it.
fault_enroll gen "$DEV/clean.cfg" || { echo "Bail out! enroll gen"; exit 1; }
"$AGENT" --state gen --device sim:gen.cfg run --once 2>/dev/null ||
    { echo "Bail out! gen run"; exit 1; }
sed -i 's|^server = .*|server = "https://127.0.0.1:1";|' gen/agent.cfg
GD=$(devid gen)
# A device of an org with roots takes its server from the root, not from
# agent.cfg: gen runs without a network (a network namespace of its own).
OFFLINE=()
unshare -rn true 2>/dev/null && OFFLINE=(unshare -rn)
stop_server
: >ctl
: >slog
# Only calls made by the server's own code and by the libraries that
# promise to survive a failed allocation count: GnuTLS's stack does not
# (GMP aborts on a failed allocation by design; libtasn1 crashes).
SENV=(LD_PRELOAD="$SHIM" MUSTER_FAIL_FN=malloc MUSTER_FAIL_ARM=signal
    MUSTER_FAIL_CTL="$T/ctl" MUSTER_FAIL_LOG="$T/slog"
    MUSTER_FAIL_PROG=muster-server
    MUSTER_FAIL_ONLY=main:libsqlite3:libjansson:libsodium:libmicrohttpd)
start_server "${SENV[@]}" ||
    { echo "Bail out! the preloaded server does not start"; exit 1; }

# newreport: spools the next report of gen; sets CUR to its seq.
newreport() {
	"${OFFLINE[@]}" "$AGENT" --state gen --device sim:gen.cfg run --once \
	    >/dev/null 2>&1
	CUR=$(<gen/seq)
	[ -f "gen/spool/$CUR.json" ]
}
# post SEQ: sends it; prints the HTTP status (000: no answer).
post() { report_post gen "$GD" "$1" 10; }
# arm "FN N" (N 0: count only): re-arms the shim in the server and waits,
# at most 2 s, until it says so.  Sets SCALLS and SHIT for the round that
# ended.
arm() {
	local n0 log
	n0=$(grep -c . slog)
	echo "$1" >ctl
	SCALLS=; SHIT=
	kill -USR2 "$SPID" 2>/dev/null || return 1
	for _ in $(seq 1 200); do
		log=$(tail -n +$((n0 + 1)) slog)
		[[ $log == *"armed "* ]] && break
		sleep 0.01
	done
	if [[ $log =~ calls\ ([0-9]+)\ hit\ ([01]) ]]; then
		SCALLS=${BASH_REMATCH[1]}
		SHIT=${BASH_REMATCH[2]}
	fi
}

newreport || { echo "Bail out! no report spooled"; exit 1; }
PENDING=
for fn in malloc write fsync; do
	step=1; what="every N"
	if [ "$fn" = malloc ] && [ "$SSTRIDE" != 1 ]; then
		step=$SSTRIDE; what="every ${SSTRIDE}th N"
	fi
	n=$((1 + RANDOM % step)); rounds=0; sbad=0; codes=; stop=; t0=$SECONDS
	while [ "$n" -le "$NMAX" ]; do
		arm "$fn $n" || break
		code=$({ post "$CUR"; } 2>/dev/null)
		arm "$fn 0"
		rounds=$((rounds + 1))
		codes="$codes $code"
		if ! kill -0 "$SPID" 2>/dev/null; then
			echo "# server $fn #$n: the server died: $(grep '^crash ' slog | tail -n 1)" >>smsgs
			sbad=$((sbad + 1))
			wait "$SPID" 2>/dev/null; SPID=
			start_server "${SENV[@]}" ||
			    { echo "Bail out! the server does not restart"; exit 1; }
		fi
		case $code in
		200|202)
			if [ "$(sql "SELECT count(*) FROM reports WHERE device = '$GD' AND seq = $CUR")" != 1 ]; then
				echo "# server $fn #$n: HTTP $code for report $CUR, not stored" >>smsgs
				sbad=$((sbad + 1))
			fi
			newreport || { echo "Bail out! no report spooled"; exit 1; } ;;
		000|500|503) PENDING="$PENDING $CUR" ;;
		*)	echo "# server $fn #$n: HTTP $code" >>smsgs
			sbad=$((sbad + 1)); PENDING="$PENDING $CUR" ;;
		esac
		if [ "$SHIT" = 0 ] && [ -n "$SCALLS" ] && [ "$SCALLS" -lt "$n" ]; then
			stop=$SCALLS
			break
		fi
		n=$((n + step))
	done
	[ -s smsgs ] && head -n 10 smsgs && rm -f smsgs
	hist=$(echo $codes | tr ' ' '\n' | sort | uniq -c |
	    awk '{printf "%s%s x%s", s, $2, $1; s=", "}')
	echo "# server $fn: $rounds requests in $((SECONDS - t0)) s; HTTP: $hist"
	t_check "server $fn: $what until a request no longer reaches it (${stop:-?} calls)" \
	    test -n "$stop"
	t_check "server $fn: up throughout, 2xx only for stored reports, nothing but 2xx/5xx or no answer ($sbad bad)" \
	    test "$sbad" = 0
done
arm "malloc 0"
# Sent again without failures, every report is stored, once.
again=0
for s in $(echo $PENDING $CUR | tr ' ' '\n' | sort -un); do
	code=$(post "$s")
	case $code in 200|202) ;; *) again=$((again + 1)); echo "# report $s sent again: HTTP $code" ;; esac
done
stored=$(sql "SELECT count(DISTINCT seq) || ' ' || count(*) FROM reports WHERE device = '$GD'")
want=$(( $(<gen/seq) ))
t_check "server: every report refused or unanswered is stored when sent again ($again not)" \
    test "$again" = 0
t_check "server: every report of the device stored exactly once ($stored of $want)" \
    test "$stored" = "$want $want"
stop_server
t_check "server: stops cleanly after all that (exit $SRC)" test "$SRC" = 0
t_check "server: the store passes integrity_check" \
    test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
t_done
