#!/usr/bin/env bash
# Local mode (--processes): full history CSV, a worker killed mid-run hands its users to the
# other, and Ctrl-C on the master still writes the reports.
. "$(dirname "$0")/../lib.sh"

start_target TGT --latency-ms 5
"$HORNET" -f "$SRC/tests/scenarios/it_mix.yaml" -H "http://127.0.0.1:$TGT_PORT" -u 10 -r 100 \
  -t 30s --processes 2 --csv "$T/run" --csv-full-history --heartbeat-timeout 3s \
  >"$T/out" 2>"$T/err" &
M=$!; PIDS+=("$M")
for _ in $(seq 200); do grep -q "All users spawned" "$T/err" 2>/dev/null && break; sleep 0.05; done
check "local mode starts two workers" test "$(grep -c "spawning complete: 5 users" "$T/err")" = 2
sleep 2
victim=$(pgrep -P "$M" | head -1)
kill -9 "$victim"
for _ in $(seq 100); do grep -q "spawning complete: 10 users" "$T/err" 2>/dev/null && break; sleep 0.05; done
check "the master notices the dead worker at once" grep -q "left: its process exited (signal 9)" "$T/err"
check "the survivor takes over all 10 users" grep -q "spawning complete: 10 users (Prober: 5, Chatter: 5)" "$T/err"
sleep 3
kill -INT "$M"
wait_pid "$M" 20 rc
check "Ctrl-C: the master stops, reports, exits 0 (nothing failed) (got $rc)" test "$rc" = 0
check "Ctrl-C: says why it stopped" grep -q "Interrupted" "$T/err"
check "Ctrl-C: final tables printed" grep -q "Response time percentiles" "$T/out"
H="$T/run_stats_history.csv"
check "full history has per-entry rows" grep -q ",GET,/healthz," "$H"
check "full history has Aggregated rows" grep -q ",,Aggregated," "$H"
reported=$(csv_get "$T/run_stats.csv" Aggregated "Request Count")
served=$(target_count "$TGT_PORT" total)
echo "# hornet reported $reported, target served $served"
check "counts reconcile after a worker was killed (lost <= its in-flight + last second)" \
  test "$served" -ge "$reported" -a $((served - reported)) -le 400
check "no orphan worker processes" test -z "$(pgrep -P "$M")"
finish
