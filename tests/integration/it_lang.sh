#!/usr/bin/env bash
# The scenario language through real processes: a captured token opens what the target guards
# (and its absence is a counted failure), checks decide failures, user ids and data rows are
# unique across two workers, on_stop runs at the end, task counts follow the weights, and the
# inspection flags print what the YAML says.
. "$(dirname "$0")/../lib.sh"
SC="$SRC/tests/scenarios/it_lang.yaml"

start_target TGT --require-auth --latency-ms 2 --log-requests "$T/requests.log"
"$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 2 \
  --expect-workers-max-wait 20s -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 10 -r 50 -t 6s \
  --csv "$T/run" >"$T/master.out" 2>"$T/master.err" &
M=$!; PIDS+=("$M")
for _ in $(seq 100); do grep -q "Waiting for 2 workers" "$T/master.err" 2>/dev/null && break; sleep 0.05; done
MPORT=$(sed -n 's/.*Waiting for 2 workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/master.err")
for i in 1 2; do
  "$HORNET" --worker --master-host 127.0.0.1 --master-port "$MPORT" 2>"$T/w$i.err" &
  PIDS+=("$!")
done
wait_pid "$M" 60 rc
check "run exits 1: the tokenless class fails by design (got $rc)" test "$rc" = 1
S="$T/run_stats.csv"

ok_req=$(csv_get "$S" /auth/status "Request Count")
check "with the captured token /auth/status passes ($ok_req requests, 0 failures)" \
  test "$ok_req" -gt 50 -a "$(csv_get "$S" /auth/status "Failure Count")" = 0
nt_req=$(csv_get "$S" "/auth/status (no token)" "Request Count")
check "without it every request is refused ($nt_req)" \
  test "$nt_req" -gt 50 -a "$(csv_get "$S" "/auth/status (no token)" "Failure Count")" = "$nt_req"
check "the failure names the check" grep -q '^GET,/auth/status (no token),status 401 not in \[200\],' "$T/run_failures.csv"
check "the login ran once per Member (5)" test "$(csv_get "$S" /auth/login "Request Count")" = 5

uids=$(sed -n 's/^GET \/healthz?uid=\([0-9]*\)&acct=.*/\1/p' "$T/requests.log" | sort -n)
accts=$(sed -n 's/^GET \/healthz?uid=[0-9]*&acct=\(u[0-9]*\)$/\1/p' "$T/requests.log" | sort)
echo "# user ids of the 5 Members: $(echo $uids); their accounts: $(echo $accts)"
check "5 Members said hello" test "$(echo "$uids" | grep -c .)" = 5
check "user ids are unique across the two workers" test "$(echo "$uids" | sort -u | grep -c .)" = 5
check "user ids lie in 0..9" test "$(echo "$uids" | awk '$1 > 9' | grep -c .)" = 0
check "each Member got its own data row" test "$(echo "$accts" | sort -u | grep -c .)" = 5
check "on_stop ran for every Member at the stop" test "$(grep -c '^GET /healthz?bye=' "$T/requests.log")" = 5
check "on_stop has its own stats row" test "$(csv_get "$S" bye "Request Count")" = 5

st=$ok_req; hl=$(csv_get "$S" /healthz "Request Count")
echo "# Member tasks: status $st, health $hl (weights 3:1)"
check "task counts follow the weights 3:1 (within 4 sigma)" awk -v a="$st" -v b="$hl" \
  'BEGIN { n = a + b; p = a / n; s = sqrt(0.75 * 0.25 / n); exit !(n > 100 && p > 0.75 - 4*s && p < 0.75 + 4*s) }'

"$HORNET" -f "$SC" --show-task-ratio >"$T/ratio.out"
check "--show-task-ratio: classes by weight" grep -q "^  50.0% Member$" "$T/ratio.out"
check "--show-task-ratio: tasks by weight" grep -q "^         75.0% status$" "$T/ratio.out"
check "--show-task-ratio: total" grep -q "^  12.5% Member.health$" "$T/ratio.out"
"$HORNET" -f "$SRC/scenarios/aiaas.yaml" --show-task-ratio --tags billing >"$T/billing.out"
check "--tags keeps only tagged tasks" test "$(grep -c 'NormalUser\.' "$T/billing.out")" = 5 -a "$(grep -c 'HighLoadUser\.' "$T/billing.out")" = 0
"$HORNET" -f "$SC" -l >"$T/list.out"
check "-l lists the classes" test "$(tr -d ' ' < "$T/list.out" | tr '\n' ,)" = "Availableuserclasses:,Member,Stranger,"
"$HORNET" -f "$SRC/scenarios/aiaas.yaml" --check >"$T/check.out"; crc=$?
check "--check validates the default scenario (exit $crc)" test "$crc" = 0
check "--check prints the compiled model" grep -q "capture token from json \$.token" "$T/check.out"
"$HORNET" -f "$SC" -u 20 -t 1s >"$T/rows.out" 2>"$T/rows.err"; rrc=$?
check "more users than data rows: exit 3 (got $rrc)" test "$rrc" = 3
check "more users than data rows: says how to fix it" grep -q "data.accounts: accounts.csv has 12 rows for 20 users; add rows, lower -u, or set wrap: true" "$T/rows.err"
finish
