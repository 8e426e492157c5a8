#!/usr/bin/env bash
# The run history: a run is recorded and listed; a master killed with SIGKILL mid-run leaves an
# intact database holding every interval before the kill, and the run shows as aborted; a full
# filesystem does not stop the run (reports still written, exit code 6).
. "$(dirname "$0")/../lib.sh"
SC="$SRC/tests/scenarios/it_mix.yaml"
start_target TGT --latency-ms 5
DB="$T/hornet.db"

"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 4 -r 20 -t 3s --only-summary --db "$DB" \
  --csv "$T/a/run" >"$T/a.out" 2>"$T/a.err"; rc=$?
check "a recorded run exits 0 (got $rc)" test "$rc" = 0
"$HORNET" runs --db "$DB" >"$T/runs1.out"; rc=$?
check "hornet runs exits 0 (got $rc)" test "$rc" = 0
check "hornet runs lists it as finished" grep -qE "^ +1 .*it_mix.yaml +4 +3s +finished" "$T/runs1.out"
stored=$(sqlite3 "$DB" "SELECT requests FROM final_stats WHERE run_id=1 AND name='Aggregated';")
check "the stored total equals the CSV total ($stored)" test "$stored" = "$(csv_get "$T/a/run_stats.csv" Aggregated "Request Count")"
sum=$(sqlite3 "$DB" "SELECT SUM(requests) FROM intervals WHERE run_id=1 AND name='Aggregated';")
check "the intervals add up to the total ($sum)" test "$sum" = "$stored"

# kill -9 of the master mid-run (its local worker goes with it, by PID)
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 4 -r 20 -t 60s --only-summary --db "$DB" \
  >"$T/b.out" 2>"$T/b.err" &
M=$!; PIDS+=("$M")
for _ in $(seq 100); do grep -q "All users spawned" "$T/b.err" 2>/dev/null && break; sleep 0.05; done
sleep 4
W=$(pgrep -P "$M")
kill -9 "$M"; wait "$M" 2>/dev/null
[ -n "$W" ] && kill "$W" 2>/dev/null
check "the database is intact after kill -9" test "$(sqlite3 "$DB" "PRAGMA integrity_check;")" = ok
n=$(sqlite3 "$DB" "SELECT COUNT(DISTINCT ts_ms) FROM intervals WHERE run_id=2;")
check "every interval before the kill was kept ($n of ~4)" test "$n" -ge 3
check "the run still says running until the next open" test "$(sqlite3 "$DB" "SELECT status FROM runs WHERE id=2;")" = running
"$HORNET" runs --db "$DB" >"$T/runs2.out"
check "the next hornet marks it aborted" grep -qE "^ +2 .* aborted " "$T/runs2.out"

# a full filesystem: the history degrades, the run and its CSV do not
if mkdir -p "$T/full" && mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null; then
  dd if=/dev/zero of="$T/full/filler" bs=4k count=100 2>/dev/null
  "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 20 -t 2s --only-summary \
    --db "$T/full/h.db" --csv "$T/c/run" >"$T/c.out" 2>"$T/c.err"; rc=$?
  umount "$T/full"
  check "full disk: the run finishes with exit 6 (got $rc)" test "$rc" = 6
  check "full disk: CSV still written" test "$(csv_get "$T/c/run_stats.csv" Aggregated "Request Count")" -gt 10
  check "full disk: said once" test "$(grep -c "history" "$T/c.err")" -ge 1
else
  echo "# no tmpfs mount here (not root?): full-disk case skipped"
fi
# compare: the same scenario against a target 50 ms slower is a regression; a run against
# itself is not
start_target SLOW --latency-ms 55
"$HORNET" -f "$SC" -H "http://127.0.0.1:$SLOW_PORT" -u 4 -r 20 -t 3s --only-summary --db "$DB" \
  >"$T/s.out" 2>"$T/s.err"
slow=$(sqlite3 "$DB" "SELECT MAX(id) FROM runs;")
"$HORNET" compare 1 "$slow" --db "$DB" >"$T/cmp.out" 2>&1; rc=$?
check "compare flags the 50 ms slower run: exit 1 (got $rc)" test "$rc" = 1
check "compare names the regressed percentile" grep -qE "^GET +/healthz .*REGRESSION: p50 \+5[0-9]\.[0-9] ms" "$T/cmp.out"
"$HORNET" compare "$slow" "$slow" --db "$DB" >"$T/same.out" 2>&1; rc=$?
check "compare of a run with itself passes (got $rc)" test "$rc" = 0 -a -n "$(grep '^0 regressions' "$T/same.out")"
"$HORNET" compare 1 2 --db "$DB" >"$T/ab.out" 2>&1; rc=$?
check "compare refuses an aborted run (exit 2)" test "$rc" = 2 -a -n "$(grep 'did not finish (aborted)' "$T/ab.out")"

"$HORNET" runs --db "$T/nope.db" 2>"$T/nope.err"; rc=$?
check "hornet runs on a missing database: exit 2 with a reason" test "$rc" = 2 -a -n "$(grep 'no such database' "$T/nope.err")"
finish
