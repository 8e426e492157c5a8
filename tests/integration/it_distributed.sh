#!/usr/bin/env bash
# A master and two separate worker processes against the demo target: counts reconcile with the
# target's own, each worker runs half the users, an injected failure lands in _failures.csv and
# the latency percentiles match the delay the target injects.
. "$(dirname "$0")/../lib.sh"

start_target TGT --latency-ms 20 --fail-path /billing/usage
"$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 2 \
  --expect-workers-max-wait 20s -f "$SRC/tests/scenarios/it_mix.yaml" \
  -H "http://127.0.0.1:$TGT_PORT" -u 20 -r 10 -t 10s --headless --csv "$T/out/run" \
  >"$T/master.out" 2>"$T/master.err" &
MASTER=$!; PIDS+=("$MASTER")
for _ in $(seq 100); do grep -q "Waiting for 2 workers" "$T/master.err" 2>/dev/null && break; sleep 0.05; done
MPORT=$(sed -n 's/.*Waiting for 2 workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/master.err")
check "master announces its port" test -n "$MPORT"
for i in 1 2; do
  "$HORNET" --worker --master-host 127.0.0.1 --master-port "$MPORT" >"$T/w$i.out" 2>"$T/w$i.err" &
  eval "W$i=\$!"; PIDS+=("$!")
done
wait_pid "$MASTER" 60 rc
check "master exits 1 because requests failed (got $rc)" test "$rc" = 1
wait_pid "$W1" 10 rc1; wait_pid "$W2" 10 rc2
check "workers exit 0 after quit (got $rc1 $rc2)" test "$rc1" = 0 -a "$rc2" = 0

S="$T/out/run_stats.csv"
check "stats csv has Locust's header" test "$(head -1 "$S" | tr -d '\r')" = \
  "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
check "csv lines end in CRLF like Python's csv module" grep -q $'\r$' "$S"
for f in stats_history failures exceptions; do check "run_$f.csv exists" test -s "$T/out/run_$f.csv"; done

reported=$(csv_get "$S" Aggregated "Request Count")
served=$(target_count "$TGT_PORT" total)
echo "# hornet reported $reported requests, the target served $served"
check "target served >= reported" test "$served" -ge "$reported"
check "difference is at most the users in flight at stop (20)" test $((served - reported)) -le 20
check "the run did real work (>1000 requests)" test "$reported" -gt 1000

for i in 1 2; do
  check "worker $i ran half the users" grep -q "spawning complete: 10 users (Prober: 5, Chatter: 5)" "$T/w$i.err"
done

fails=$(csv_get "$S" /billing/usage "Failure Count")
breq=$(csv_get "$S" /billing/usage "Request Count")
check "every /billing/usage request failed ($fails of $breq)" test "$fails" = "$breq" -a "$fails" -gt 0
check "failures.csv names the injected error" grep -q "^GET,/billing/usage,HTTP 500,$fails"$'\r'"$" "$T/out/run_failures.csv"
check "the target's 5xx count matches within in-flight" test $(( $(target_count "$TGT_PORT" 5xx) - fails )) -le 20
check "/healthz has no failures" test "$(csv_get "$S" /healthz "Failure Count")" = 0

p50=$(csv_get "$S" /healthz "50%"); p99=$(csv_get "$S" /healthz "99%"); mn=$(csv_get "$S" /healthz "Min Response Time")
echo "# /healthz p50 $p50 ms, p99 $p99 ms, min $mn ms with a 20 ms injected delay"
check "p50 within 2 ms of the injected 20 ms" between "$p50" 20 22
check "min is not below the injected delay" between "$mn" 20 25
check "the live table has a status line with a progress bar" grep -qE '^\[#+\.*\] [0-9]+s/10s \| users [0-9]+/20 \| workers 2 \| ' "$T/master.out"
check "console printed Locust's percentile table" grep -q "Response time percentiles (approximated)" "$T/master.out"
hist_rows=$(($(wc -l < "$T/out/run_stats_history.csv") - 1))
check "history has one row per second ($hist_rows)" between "$hist_rows" 9 14
finish
