#!/bin/bash
# egress-deny against the running kernel, through netlink sock_diag and
# through the /proc/net/tcp fallback: a connection half-closed by its
# remote end (CLOSE_WAIT) still carries data and must fail the rule.
#
# tcphold -w holds such a connection to 127.77.13.9 (an address no other
# test uses, so that a /32 rule fails only because of it: the listener's
# closed end is in FIN_WAIT2 with the remote address 127.0.0.1).
# tcphold -n runs the agent with socket(AF_NETLINK) refused (EACCES, as
# Android's SELinux refuses sock_diag to apps), which is the one way into
# the fallback: the agent has no switch for it.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
AGENT="$MUSTER_BIN/muster-agent"
TCPHOLD="$MUSTER_BIN/../tests/tools/tcphold"
DEV=$TOP/examples/devices
ADDR=127.77.13.9

"$ENROLL" init --org org --server https://127.0.0.1:8443 --no-passphrase >/dev/null
# profile NAME CIDR: an egress-deny profile installed in state dir NAME.
profile() {
	cat >"$1.cfg" <<EOP
id = "egress-$1";
serial = 1;
expires = "2030-01-01T00:00:00Z";
scope = "personnel";
rules = (
	{ id = "no-$1"; kind = "egress-deny"; severity = "high";
	  title = "No connection to $2"; cidrs = [ "$2" ]; }
);
EOP
	"$ENROLL" sign --org org "$1.cfg" >/dev/null
	"$AGENT" --state "$T/$1" trust org/org.pub >/dev/null
	"$AGENT" --state "$T/$1" install "$1.cfg" >/dev/null
}
profile host "$ADDR/32"
profile lo 127.0.0.0/8
check() { "$AGENT" --state "$T/$1" --device "sim:$DEV/clean.cfg" check; }

# --- netlink sock_diag (the default) --------------------------------------
t_exit 0 "netlink: no connection to $ADDR, the rule passes" check host
t_exit 1 "netlink: CLOSE_WAIT to $ADDR fails the /32 rule" \
    "$TCPHOLD" -w "$ADDR" "$AGENT" --state "$T/host" \
    --device "sim:$DEV/clean.cfg" check
t_grep "netlink: the reason names the half-closed connection" \
    "no-host .* fail .*connection to 127\.77\.13\.9:[0-9]+ in denied range 127\.77\.13\.9/32" "$T/out"
t_exit 1 "netlink: CLOSE_WAIT on loopback fails 127.0.0.0/8" \
    "$TCPHOLD" -w "$ADDR" "$AGENT" --state "$T/lo" \
    --device "sim:$DEV/clean.cfg" check
t_grep "netlink: /8 reason" "no-lo .* fail .*connection to 127\." "$T/out"
t_exit 1 "netlink: ESTABLISHED to $ADDR fails the /32 rule" \
    "$TCPHOLD" "$ADDR" "$AGENT" --state "$T/host" \
    --device "sim:$DEV/clean.cfg" check
t_grep "netlink: established reason" "no-host .* fail .*127\.77\.13\.9:" "$T/out"

# --- /proc/net/tcp, with netlink refused ----------------------------------
t_exit 0 "/proc: netlink refused, another address: the table is read, the rule passes" \
    "$TCPHOLD" -n 127.77.13.10 "$AGENT" --state "$T/host" \
    --device "sim:$DEV/clean.cfg" check
t_grep "/proc: pass reason" "no-host .* pass .*no connection" "$T/out"
t_exit 1 "/proc: CLOSE_WAIT to $ADDR fails the /32 rule" \
    "$TCPHOLD" -n -w "$ADDR" "$AGENT" --state "$T/host" \
    --device "sim:$DEV/clean.cfg" check
t_grep "/proc: the reason names the half-closed connection" \
    "no-host .* fail .*connection to 127\.77\.13\.9:[0-9]+ in denied range 127\.77\.13\.9/32" "$T/out"
t_exit 1 "/proc: CLOSE_WAIT on loopback fails 127.0.0.0/8" \
    "$TCPHOLD" -n -w "$ADDR" "$AGENT" --state "$T/lo" \
    --device "sim:$DEV/clean.cfg" check
t_grep "/proc: /8 reason" "no-lo .* fail .*connection to 127\." "$T/out"
t_exit 1 "/proc: ESTABLISHED to $ADDR fails the /32 rule" \
    "$TCPHOLD" -n "$ADDR" "$AGENT" --state "$T/host" \
    --device "sim:$DEV/clean.cfg" check
t_grep "/proc: established reason" "no-host .* fail .*127\.77\.13\.9:" "$T/out"

# The JSON form carries the same result.
t_exit 1 "/proc: --json, CLOSE_WAIT" "$TCPHOLD" -n -w "$ADDR" "$AGENT" \
    --state "$T/host" --device "sim:$DEV/clean.cfg" check --json
t_check "/proc: --json says fail" sh -c \
    "tr -d '\n ' <'$T/out' | grep -q '\"id\":\"no-host\",[^}]*\"result\":\"fail\"'"
t_done
