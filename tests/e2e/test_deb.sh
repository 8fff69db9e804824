#!/bin/bash
# The Debian packages as an administrator meets them: `make deb` builds
# muster-server, muster-agent and muster-enroll; `apt-get install ./*.deb`
# installs them on this machine; the INSTALLED server runs from its
# installed paths (/usr/bin, /etc/muster, /var/lib/muster-server) on
# loopback as the system user muster, the way its unit runs it (no
# systemd here: setpriv drops to muster and to no capability); an org made
# by the installed muster-enroll publishes a profile and enrolls a sim
# device with the installed muster-agent (state /var/lib/muster, reporter
# from /usr/libexec/muster), whose report arrives.  The system calls the
# server and the agent made are checked against their units'
# SystemCallFilter=.  Then the packages are removed and purged, and what
# is left is checked against docs/operations.md: no file of the packages,
# no store, no agent state; the administrator's files in /etc/muster and
# the user muster stay (Debian keeps system users on purge).
#
# Root only, and only where no Muster is installed (it refuses to touch a
# real one); run once by run.sh, for build/bin (the packages are built
# from the sources, not from MUSTER_BIN).  Every step is bounded in time;
# the trap stops the server, purges the packages and removes what the
# test made (the user muster too, if it made it), even on failure.
. "$(dirname "$0")/lib.sh"
case ${MUSTER_BIN:-} in
*/build/bin | build/bin) ;;
*)
	echo "1..0 # SKIP the packages are built and installed once, for build/bin"
	exit 0
	;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP installs packages: root only"
	exit 0
fi
PKGS="muster-server muster-agent muster-enroll"
for p in $PKGS; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q installed; then
		echo "1..0 # SKIP $p is installed: not touching a real install"
		exit 0
	fi
done
for d in /etc/muster /var/lib/muster /var/lib/muster-server; do
	if [ -e "$d" ]; then
		echo "1..0 # SKIP $d exists: not touching a real install"
		exit 0
	fi
done
made_user=1
getent passwd muster >/dev/null && made_user=0
getent group muster >/dev/null && made_user=0

SPID=		# setpriv or strace, and below it the server
srv=		# the server itself
cleanup() {
	for p in $srv $SPID; do kill -9 "$p" 2>/dev/null; done
	[ -n "$SPID" ] && wait "$SPID" 2>/dev/null
	for p in $PKGS; do
		if dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -Eq 'installed|config-files'; then
			DEBIAN_FRONTEND=noninteractive timeout 120 \
			    apt-get purge -y -qq $PKGS >/dev/null 2>&1
			break
		fi
	done
	rm -rf /etc/muster /var/lib/muster /var/lib/muster-server
	if [ "$made_user" = 1 ]; then
		userdel muster 2>/dev/null
		groupdel muster 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
# Nothing of a calling make (make check) leaks into the package build.
unset MAKEFLAGS MFLAGS MAKELEVEL
cd "$T" || exit 1

# --- build --------------------------------------------------------------------
missing=
for c in dpkg-buildpackage dh fakeroot apt-get setpriv; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
if [ -n "$missing" ]; then
	t_fail "tools for make deb:$missing missing (scripts/deps.sh installs them)"
	t_done
	exit 1
fi
t_exit 0 "make deb" timeout 300 make -C "$TOP" --no-print-directory deb \
    DEB_DIR="$T/deb"
debs=$(ls "$T"/deb/*.deb 2>/dev/null)
for p in $PKGS; do
	t_check "built $p" test -f "$T/deb/${p}_"*"_$(dpkg --print-architecture).deb"
done
t_check "three packages and nothing else (no -dbgsym)" \
    test "$(echo "$debs" | wc -w)" = 3
for p in $PKGS; do
	dpkg-deb -c "$T/deb/${p}_"*.deb 2>/dev/null | awk '{ print $6 }' \
	    >"$T/$p.contents"
done
t_check "muster-server ships its unit" \
    grep -qx './lib/systemd/system/muster-server.service' muster-server.contents
t_check "muster-agent ships the reporter in /usr/libexec/muster" \
    grep -qx './usr/libexec/muster/muster-reporter' muster-agent.contents
t_check "no package ships a file in /usr/local or /var" \
    sh -c "! cat ./*.contents | grep -E '^\./(usr/local|var)/'"

# --- install ------------------------------------------------------------------
t_exit 0 "apt-get install ./*.deb" timeout 180 \
    apt-get install -y -q --no-install-recommends $debs
for p in $PKGS; do
	dpkg -L "$p" >>"$T/files" 2>/dev/null
done
t_check "the user muster exists, no login shell" \
    test "$(getent passwd muster | cut -d: -f7)" = /usr/sbin/nologin
t_check "muster is a system user" \
    test "$(id -u muster 2>/dev/null || echo 99999)" -lt 1000
t_check "/var/lib/muster-server is 0700 muster:muster" \
    test "$(stat -c '%a %U:%G' /var/lib/muster-server 2>&1)" = "700 muster:muster"
t_check "/etc/muster is 0750 root:muster" \
    test "$(stat -c '%a %U:%G' /etc/muster 2>&1)" = "750 root:muster"
t_check "/etc/muster/server.cfg.example keeps the store in /var/lib" \
    grep -qx 'data_dir = "/var/lib/muster-server";' /etc/muster/server.cfg.example
for m in man1/muster-server.1 man1/muster-agent.1 man1/muster-enroll.1 \
    man5/muster-profile.5; do
	t_check "man page $m installed" test -f "/usr/share/man/$m.gz"
done
t_check "docs installed (operations.md)" \
    test -f /usr/share/doc/muster-server/operations.md -o \
    -f /usr/share/doc/muster-server/operations.md.gz
for u in muster-server muster-agent; do
	t_exit 0 "$u: installed unit verifies" \
	    systemd-analyze verify "/lib/systemd/system/$u.service"
	t_check "$u: verify said nothing" test ! -s "$T/err"
	sed 's/^/# /' "$T/err" | head -n 5
done

# --- the installed server, as muster --------------------------------------------
t_port
t_exit 0 "installed muster-enroll init" /usr/bin/muster-enroll init --org org \
    --server "$U" --no-passphrase
# First as the unit runs it, with secrets muster owns (0600); below,
# started by root with root:muster 0640 secrets (docs/operations.md).
for f in server.crt server.key org.pub; do
	install -m 0600 -o muster -g muster "org/$f" "/etc/muster/$f"
done
# The root of trust (public: the root documents and their signatures).
install -d -m 0700 -o muster -g muster /etc/muster/root
install -m 0600 -o muster -g muster org/root/* /etc/muster/root/
sed 's|^data_dir = "data";|data_dir = "/var/lib/muster-server";|' \
    org/server.cfg >server.cfg
install -m 0600 -o muster -g muster server.cfg /etc/muster/server.cfg
t_check "the config names the packaged store" \
    grep -qx 'data_dir = "/var/lib/muster-server";' /etc/muster/server.cfg
# as_muster CMD...: as the unit runs it: user and group muster, no
# supplementary group, no capability, no_new_privs.
as_muster() {
	setpriv --reuid=muster --regid=muster --init-groups --inh-caps=-all \
	    --bounding-set=-all --no-new-privs -- "$@"
}
STRACE=
command -v strace >/dev/null 2>&1 && STRACE="strace -f -qq -o $T/strace.server"
$STRACE setpriv --reuid=muster --regid=muster --init-groups \
    --inh-caps=-all --bounding-set=-all --no-new-privs -- \
    /usr/bin/muster-server --config /etc/muster/server.cfg >server.log 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
t_check "the installed server answers /healthz" test "$up" = 1
[ "$up" = 1 ] || sed 's/^/# server: /' server.log | tail -n 10
srv=$(pgrep -u muster -x muster-server | head -n 1)
t_check "it runs as muster" test -n "$srv"
t_check "with no capability" \
    sh -c "grep -q '^CapEff:[[:space:]]*0*\$' /proc/$srv/status"
t_check "its store is in /var/lib/muster-server" \
    test -f /var/lib/muster-server/muster.db

# --- a sim device, enrolled with the installed agent --------------------------
cp "$TOP/profiles/iaf-personnel.cfg" p.cfg
cp "$TOP/examples/devices/redmi-1s.cfg" dev.cfg
t_exit 0 "installed muster-enroll signs" /usr/bin/muster-enroll sign --org org p.cfg
t_exit 0 "and publishes" /usr/bin/muster-enroll publish --org org p.cfg
t_exit 0 "and makes a token" /usr/bin/muster-enroll token --org org \
    --scope personnel --unit IAF/25-WING --person IAF-1 -o b.bundle
AGENT_STRACE=
[ -n "$STRACE" ] && AGENT_STRACE="strace -f -qq -o $T/strace.agent"
t_exit 0 "installed muster-agent enrolls (state /var/lib/muster)" \
    $AGENT_STRACE /usr/bin/muster-agent --device "sim:$T/dev.cfg" enroll b.bundle
t_check "the agent's state is /var/lib/muster, 0700" \
    test "$(stat -c %a /var/lib/muster 2>&1)" = 700
[ -n "$STRACE" ] && AGENT_STRACE="strace -f -qq -o $T/strace.run"
t_exit 0 "installed muster-agent run --once (reporter from /usr/libexec)" \
    $AGENT_STRACE /usr/bin/muster-agent --device "sim:$T/dev.cfg" run --once
t_grep "the server accepted report 1" '^delivered 202 ' /var/lib/muster/sent/1.ack
dev=$(sed -n 's/^device_id = "\(.*\)";/\1/p' /var/lib/muster/agent.cfg)
t_exit 0 "muster-server devices, as muster, on the live store" \
    as_muster /usr/bin/muster-server devices --config /etc/muster/server.cfg \
    --format csv
t_grep "lists the enrolled device" "IAF-1" "$T/out"

[ -n "$srv" ] && kill -TERM "$srv" 2>/dev/null
rc=
for _ in $(seq 1 100); do
	kill -0 "$SPID" 2>/dev/null || { wait "$SPID"; rc=$?; break; }
	sleep 0.1
done
t_check "SIGTERM stops the server, exit 0 (got ${rc:-none})" test "$rc" = 0
SPID=
srv=
t_grep "the server logged its clean stop" 'stopped' server.log

# --- started by root: binds, then becomes muster for good ---------------------
# The secrets as an administrator keeps them: root:muster 0640.
chown root:muster /etc/muster/server.cfg /etc/muster/server.key
chmod 0640 /etc/muster/server.cfg /etc/muster/server.key
t_exit 0 "-n, as root, on root:muster 0640 secrets" \
    /usr/bin/muster-server -n --config /etc/muster/server.cfg
/usr/bin/muster-server --config /etc/muster/server.cfg >root.log 2>&1 &
SPID=$!
up=0
for _ in $(seq 1 100); do
	curl -sk --max-time 1 "$U/healthz" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$SPID" 2>/dev/null || break
	sleep 0.1
done
t_check "started as root, it answers /healthz" test "$up" = 1
[ "$up" = 1 ] || sed 's/^/# server: /' root.log | tail -n 10
mu=$(id -u muster); mg=$(id -g muster)
ids=$(awk '/^Uid:|^Gid:/ { print $2, $3, $4, $5 }' "/proc/$SPID/status" | tr '\n' ' ')
t_check "it became muster for good, no user setting needed ($ids)" \
    test "$ids" = "$mu $mu $mu $mu $mg $mg $mg $mg "
t_check "no capability left after the drop" \
    sh -c "grep -q '^CapEff:[[:space:]]*0*\$' /proc/$SPID/status"
kill -HUP "$SPID"
for _ in $(seq 1 50); do grep -q 'info: reloaded' root.log && break; sleep 0.1; done
t_grep "as muster, SIGHUP re-reads the 0640 secrets" 'info: reloaded$' root.log
t_exit 0 "root runs muster-server report against the live configuration" \
    /usr/bin/muster-server report --config /etc/muster/server.cfg
t_grep "the report counts the device" 'IAF/25-WING' "$T/out"
kill -TERM "$SPID"; wait "$SPID"; rc=$?; SPID=
t_check "it stops cleanly (exit $rc)" test "$rc" = 0

# --- the system calls, against the units' filters ------------------------------
# expand SET...: the system calls of a SystemCallFilter= word list.
expand() {
	local w
	for w in "$@"; do
		case $w in
		@*) expand $(systemd-analyze syscall-filter "$w" |
		    sed -e 's/#.*//' | tail -n +2) ;;
		*) echo "$w" ;;
		esac
	done
}
# allowed UNIT: what its SystemCallFilter= lines allow (the first an
# allow list, then ~ removes and a plain list adds, as systemd.exec says).
allowed() {
	local v
	: >"$T/allow"
	while IFS= read -r v; do
		v=${v#SystemCallFilter=}
		case $v in
		"~"*) expand ${v#\~} | sort -u >"$T/set"
		      sort -u "$T/allow" | comm -23 - "$T/set" >"$T/a2" ;;
		*)    expand $v | sort -u >"$T/set"
		      sort -u "$T/allow" "$T/set" >"$T/a2" ;;
		esac
		mv "$T/a2" "$T/allow"
	done < <(grep '^SystemCallFilter=' "$1")
	cat "$T/allow"
}
# used LOG [FROM]: the system calls in an strace -f log, from the line
# matching FROM on (the server's own, not setpriv's).
used() {
	sed -n "${2:-1},\$p" "$1" | sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' |
	    sort -u
}
if [ -n "$STRACE" ]; then
	allowed /lib/systemd/system/muster-server.service >srv.allow
	used strace.server '/execve("\/usr\/bin\/muster-server"/' >srv.used
	comm -23 srv.used srv.allow >srv.denied
	t_check "the server ($(wc -l <srv.used) system calls) made none its unit denies" \
	    test ! -s srv.denied -a -s srv.used
	sed 's/^/# denied: /' srv.denied
	allowed /lib/systemd/system/muster-agent.service >ag.allow
	cat strace.agent strace.run >strace.ag
	used strace.ag >ag.used
	comm -23 ag.used ag.allow >ag.denied
	t_check "the agent and reporter ($(wc -l <ag.used) system calls) made none its unit denies" \
	    test ! -s ag.denied -a -s ag.used
	sed 's/^/# denied: /' ag.denied
else
	t_skip "server system calls against its unit (no strace)"
	t_skip "agent system calls against its unit (no strace)"
fi

# --- remove, purge, what is left ---------------------------------------------
t_exit 0 "apt-get remove" timeout 120 apt-get remove -y -q $PKGS
t_check "remove keeps the store" test -d /var/lib/muster-server
t_check "remove keeps the example (a conffile)" \
    test -f /etc/muster/server.cfg.example
t_exit 0 "apt-get purge" timeout 120 apt-get purge -y -q $PKGS
for p in $PKGS; do
	t_check "$p is gone from dpkg" \
	    sh -c "! dpkg-query -W -f='\${Status}' $p 2>/dev/null | grep -Eq 'installed|config-files'"
done
left=$(sort -u "$T/files" | while read -r f; do
	[ -d "$f" ] && continue		# shared directories (/usr/bin ...)
	[ -e "$f" ] || [ -L "$f" ] && echo "$f"
done)
t_check "no file of the packages is left" test -z "$left"
echo "$left" | sed '/^$/d; s/^/# left: /'
t_check "purge removed the store /var/lib/muster-server" \
    test ! -e /var/lib/muster-server
t_check "purge removed the agent's state /var/lib/muster" \
    test ! -e /var/lib/muster
t_check "purge removed the statoverride of /etc/muster" \
    sh -c "! dpkg-statoverride --list /etc/muster >/dev/null"
t_check "purge removed the units' enablement" \
    sh -c "! ls /etc/systemd/system/*/muster-*.service 2>/dev/null | grep -q ."
t_check "the administrator's files in /etc/muster stay (the pinned TLS key)" \
    test -f /etc/muster/server.key -a -f /etc/muster/server.cfg
t_check "the user muster stays (Debian keeps system users)" \
    sh -c "getent passwd muster >/dev/null"
t_done
