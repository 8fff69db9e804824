#!/bin/bash
# make demo: the whole Muster story on loopback, with real TLS, the real
# server, real agents and simulated phones.  Everything lives in a fresh
# temporary directory, which is named at the end.
set -euo pipefail
BIN=$(cd "${1:-build/bin}" && pwd)
TOP=$(cd "$(dirname "$0")/.." && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/muster-demo.XXXXXX")
chmod 700 "$D"
SERVER_PID=
stop_server() {
	if [ -n "$SERVER_PID" ]; then
		kill -TERM "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
}
trap stop_server EXIT
say()  { printf '\n\033[1m%s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
run()  { printf '   $ %s\n' "$*" | sed "s|$D|\$DEMO|g; s|$BIN/||g"; "$@" 2>&1 | sed 's/^/     /'; }
cd "$D"

say "Muster: the Redmi 1S story, on this machine only (127.0.0.1)"
note "October 2014: the Indian Air Force tells 175,000 personnel and their"
note "families to stop using the Xiaomi Redmi 1S, which sent the IMEI, phone"
note "number, contacts and SMS to servers abroad until an update of 10 August"
note "2014 made Cloud Messaging opt-in.  Muster enforces that policy."

say "1. IT creates the organisation: an org signing key and the server's TLS identity"
for i in 1 2 3 4 5 6 7 8 9 10; do
	PORT=$((20000 + RANDOM % 40000))
	# The port and the next one, the admin listener's, both free.
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null ||
	    (exec 3<>"/dev/tcp/127.0.0.1/$((PORT + 1))") 2>/dev/null || break
done
run "$BIN/muster-enroll" init --org org --server "https://127.0.0.1:$PORT" --no-passphrase
note "(a real org key is encrypted and kept offline; the demo skips the passphrase)"

say "2. The command server starts"
"$BIN/muster-server" --config org/server.cfg >server.log 2>&1 &
SERVER_PID=$!
for i in $(seq 1 50); do
	curl -s --cacert org/server.crt --max-time 1 \
	    "https://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done
note "muster-server listening on https://127.0.0.1:$PORT for devices, https://127.0.0.1:$((PORT + 1)) for the admin (log: \$DEMO/server.log)"

say "3. IT signs and publishes two profiles"
cp "$TOP/profiles/iaf-personnel.cfg" "$TOP/profiles/family-optin.cfg" .
run "$BIN/muster-enroll" sign --org org iaf-personnel.cfg
run "$BIN/muster-enroll" sign --org org family-optin.cfg
note "anyone can check them with stock minisign:"
run minisign -V -p org/org.pub -m iaf-personnel.cfg
run "$BIN/muster-enroll" publish --org org iaf-personnel.cfg
run "$BIN/muster-enroll" publish --org org family-optin.cfg

say "4. IT issues enrollment bundles (org-signed tokens; the server URL and pin inside)"
run "$BIN/muster-enroll" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-704512 -o sgt.bundle
run "$BIN/muster-enroll" token --org org --scope personnel --unit IAF/25-WING \
    --person IAF-688311 -o cpl.bundle
run "$BIN/muster-enroll" token --org org --scope family --unit IAF/25-WING \
    --person FAM-704512-1 -o family.bundle

say "5. Three phones enroll"
cp "$TOP/examples/devices/redmi-1s.cfg" sgt-phone.cfg
cp "$TOP/examples/devices/cloud-sync-on.cfg" cpl-phone.cfg
cp "$TOP/examples/devices/clean.cfg" family-phone.cfg
note "Sergeant IAF-704512: a Redmi 1S (HM 1SW) still on the build that sent data"
run "$BIN/muster-agent" --state sgt --device sim:sgt-phone.cfg enroll sgt.bundle
note "Corporal IAF-688311: an allowed phone, but Mi Cloud sync and Cloud Messaging on"
run "$BIN/muster-agent" --state cpl --device sim:cpl-phone.cfg enroll cpl.bundle
note "A family member opts in, after reading what the organisation will and will not see"
run "$BIN/muster-agent" --state family --device sim:family-phone.cfg enroll family.bundle --consent

say "6. Each agent runs once: fetch the profile, check, remediate where allowed, report"
set +e
run "$BIN/muster-agent" --state sgt --device sim:sgt-phone.cfg run --once
note "the sergeant's phone: cloud settings and packages were fixed, but the model"
note "ban cannot be remediated: the phone must be updated or replaced"
run "$BIN/muster-agent" --state sgt --device sim:sgt-phone.cfg check
run "$BIN/muster-agent" --state cpl --device sim:cpl-phone.cfg run --once
note "the corporal's phone was remediated: Mi Cloud sync and Cloud Messaging are now off"
run "$BIN/muster-agent" --state cpl --device sim:cpl-phone.cfg check
run "$BIN/muster-agent" --state family --device sim:family-phone.cfg run --once
note "what left the family member's phone, byte for byte (rule ids and results only):"
run "$BIN/muster-agent" --state family log
run cat family/sent/1.json
echo
set -e

say "7. The officers read the roll-up"
run "$BIN/muster-server" report --config org/server.cfg --by unit
run "$BIN/muster-server" report --config org/server.cfg --by rule
run "$BIN/muster-server" report --config org/server.cfg --by model

say "8. The server stops"
stop_server
note "all files are in $D:"
note "  org/          the organisation (org.key, server TLS identity, server.cfg, data/)"
note "  sgt/ cpl/ family/   each agent's state (spool/, sent/ hold exactly what left each phone)"
note "  *-phone.cfg   the simulated phones (the corporal's was rewritten by remediation)"
