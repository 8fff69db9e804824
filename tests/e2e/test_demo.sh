#!/bin/bash
# make demo's script, run as CI runs it, with its story checked: the
# sergeant's Redmi 1S stays non-compliant on the model ban, the corporal's
# phone is remediated to compliant, the family member's report carries rule
# ids and results only, and the roll-up counts them.
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
TMPDIR=$T bash "$TOP/scripts/demo.sh" "$MUSTER_BIN" >demo.out 2>&1 </dev/null
rc=$?
O=$T/demo.out
t_check "demo exits 0 (exit $rc)" test "$rc" -eq 0
t_grep "org created" 'Created organisation in' "$O"
t_grep "profiles published" 'published' "$O"
t_grep "three enrollments" 'enrolled with https://127.0.0.1:[0-9]+ as device' "$O"
t_check "three devices enrolled" \
    test "$(grep -c 'enrolled with https://127.0.0.1' "$O")" -eq 3
t_grep "sergeant: model ban reason" \
    'redmi-1s-unfixed +critical +fail +model "HM 1SW" is banned; build KHHMIBF5.0 < required KHHMIBH45.0' "$O"
t_grep "sergeant: report noncompliant" 'report 1: noncompliant' "$O"
t_grep "corporal: remediated and compliant" \
    'report 1: compliant \(5 pass, 0 fail, 2 remediated, 0 error\)' "$O"
t_grep "family: delivered" 'delivered 202' "$O"
t_check "family report has rule ids and results only" sh -c \
    "grep '\"profile\":\"family-optin\"' '$O' | grep -vq 'detail\|model'"
t_grep "roll-up by unit: 1 compliant, 1 noncompliant" \
    '^ +IAF/25-WING +2 +1 +1 +0 +0 +<5' "$O"
t_grep "roll-up by rule: the model ban fails once" \
    '^ +redmi-1s-unfixed +critical .* 2 +1 ' "$O"
t_grep "roll-up by model: one Redmi 1S left" '^ +Xiaomi HM 1SW +1 +0 +1 ' "$O"
t_grep "demo says where the files are" 'all files are in' "$O"
dir=$(sed -n 's/.*all files are in \(.*\):$/\1/p' "$O")
t_grep "the server stopped cleanly" 'info: stopped' "$dir/server.log"
t_done
