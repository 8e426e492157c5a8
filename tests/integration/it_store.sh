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
kill_ms=$(date +%s%3N)
kill -9 "$M"; wait "$M" 2>/dev/null
[ -n "$W" ] && kill "$W" 2>/dev/null
check "the database is intact after kill -9" test "$(sqlite3 "$DB" "PRAGMA integrity_check;")" = ok
n=$(sqlite3 "$DB" "SELECT COUNT(DISTINCT ts_ms) FROM intervals WHERE run_id=2;")
last=$(sqlite3 "$DB" "SELECT MAX(ts_ms) FROM intervals WHERE run_id=2;")
echo "# $n intervals kept; the last one $((kill_ms - last)) ms before the kill"
check "intervals before the kill were kept ($n)" test "$n" -ge 2
check "up to the last second before the kill" test $((kill_ms - last)) -le 2500
check "the run still says running until the next open" test "$(sqlite3 "$DB" "SELECT status FROM runs WHERE id=2;")" = running
"$HORNET" runs --db "$DB" >"$T/runs2.out"
check "the next hornet marks it aborted" grep -qE "^ +2 .* aborted " "$T/runs2.out"

# a run whose master is alive is not aborted by someone listing the runs meanwhile
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 20 -t 30s --only-summary --db "$DB" \
  >"$T/live.out" 2>"$T/live.err" &
L=$!; PIDS+=("$L")
for _ in $(seq 100); do grep -q "All users spawned" "$T/live.err" 2>/dev/null && break; sleep 0.05; done
"$HORNET" runs --db "$DB" >"$T/runs3.out"
check "a live run stays 'running' while another hornet reads the history" grep -qE "^ +3 .* running " "$T/runs3.out"
kill -INT "$L"; wait_pid "$L" 20 lrc
check "the interrupted run is finished with its final stats (exit $lrc)" \
  test "$(sqlite3 "$DB" "SELECT status FROM runs WHERE id=3;")" = finished

# a full filesystem: the history degrades, the run and its CSV do not
if mkdir -p "$T/full" && mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null; then
  dd if=/dev/zero of="$T/full/filler" bs=4k count=100 2>/dev/null
  "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 20 -t 2s --only-summary \
    --db "$T/full/h.db" --csv "$T/c/run" --html "$T/c/report.html" >"$T/c.out" 2>"$T/c.err"; rc=$?
  umount "$T/full"
  check "full disk: the run finishes with exit 6 (got $rc)" test "$rc" = 6
  check "full disk: CSV still written" test "$(csv_get "$T/c/run_stats.csv" Aggregated "Request Count")" -gt 10
  check "full disk: said once" test "$(grep -c "history" "$T/c.err")" -ge 1
  check "full disk: the HTML report is still written" grep -q "<h1>hornet run" "$T/c/report.html"
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
check "compare works on an aborted run from its committed seconds, saying so (exit $rc)" \
  test "$rc" != 2 -a -n "$(grep -E '^run 2 was aborted .* compared on the [0-9]+ seconds it committed' "$T/ab.out")"
check "compare on an aborted run: its rows are there" grep -qE "^GET +/healthz " "$T/ab.out"
"$HORNET" report 2 --db "$DB" --csv "$T/ab/run" >"$T/abr.out" 2>&1; rc=$?
check "report works on an aborted run, saying so (exit $rc)" \
  test "$rc" = 0 -a -n "$(grep "run 2 was aborted" "$T/abr.out")" -a "$(csv_get "$T/ab/run_stats.csv" Aggregated "Request Count")" -gt 0
ab_n=$(csv_get "$T/ab/run_stats.csv" Aggregated "Request Count")
ab_db=$(sqlite3 "$DB" "SELECT SUM(requests) FROM intervals WHERE run_id=2 AND name='Aggregated';")
check "report on an aborted run: the committed seconds' requests ($ab_n = $ab_db)" test "$ab_n" = "$ab_db"
# the same test run twice compares clean: noise (a few failures, one slow request) is not a
# regression
start_target NOISY --latency-ms 5 --jitter-ms 4 --fail-ratio 0.01 --fail-path /healthz
for i in 1 2; do
  "$HORNET" -f "$SC" -H "http://127.0.0.1:$NOISY_PORT" -u 4 -r 40 -t 3s --only-summary --db "$DB" \
    >"$T/n$i.out" 2>&1
done
n2=$(sqlite3 "$DB" "SELECT MAX(id) FROM runs;")
"$HORNET" compare $((n2 - 1)) "$n2" --db "$DB" >"$T/noise.out" 2>&1; rc=$?
check "the same test twice compares clean (exit $rc)" test "$rc" = 0
check "compare states its significance rule" grep -q "judged where significant" "$T/noise.out"

# report: CSV regenerated byte for byte, JSON, and an HTML report that renders in a real browser
"$HORNET" -f "$SRC/tests/scenarios/it_hostile.yaml" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 20 \
  -t 3s --only-summary --db "$DB" --csv "$T/h/run" --html "$T/h/live.html" --json "$T/h/live.json" \
  >"$T/h.out" 2>"$T/h.err"; rc=$?
check "a run with --html and --json exits 0 (got $rc)" test "$rc" = 0
hid=$(sqlite3 "$DB" "SELECT MAX(id) FROM runs;")
"$HORNET" report "$hid" --db "$DB" --csv "$T/r/run" --html "$T/r/report.html" --json "$T/r/r.json"; rc=$?
check "hornet report exits 0 (got $rc)" test "$rc" = 0
for f in stats stats_history failures exceptions; do
  check "report reproduces run_$f.csv byte for byte" cmp -s "$T/h/run_$f.csv" "$T/r/run_$f.csv"
done
check "the JSON summary carries the rows" grep -q '"name":"<script>alert(1)</script>","num_requests":' "$T/r/r.json"
check "the hostile name is escaped in the HTML" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/r/report.html"
check "the hostile name never stands raw in the HTML (nor in its chart data)" test -z "$(grep -i '<script>alert' "$T/r/report.html")"
if command -v chromium >/dev/null; then
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chrome" --dump-dom "file://$T/r/report.html" >"$T/dom.html" 2>/dev/null
  check "chromium renders the report" grep -q "<h1>hornet run $hid</h1>" "$T/dom.html"
  check "the DOM has the charts' SVG paths (5)" test "$(grep -o '<path class="series"' "$T/dom.html" | wc -l)" = 5
  check "the request table has a row per entry plus Aggregated and the header (3)" \
    test "$(awk '/<table id="requests">/,/<\/table>/' "$T/dom.html" | grep -o '<tr>' | wc -l)" = 3
  check "the hostile name is text in the DOM" grep -q '<td class="l">&lt;script&gt;alert(1)&lt;/script&gt;</td>' "$T/dom.html"
  check "the interactive charts are drawn (dygraphs canvases: $(grep -o '<canvas' "$T/dom.html" | wc -l))" \
    test "$(grep -o '<canvas' "$T/dom.html" | wc -l)" -ge 8
  check "the row picker offers the hostile row as text" grep -q '<option value="GET &lt;script&gt;alert(1)&lt;/script&gt;">' "$T/dom.html"
  PY=/usr/bin/python3 # Debian's, where python3-selenium is
  if "$PY" -c "import selenium" 2>/dev/null && [ -x /usr/bin/chromedriver ]; then
    check "a reader's browser: charts drawn, hover values, drag to zoom, row picker, screenshot" \
      timeout 90 "$PY" "$SRC/tests/tools/report_browser.py" "$T/r/report.html" "$T/report.png" "$T/chrome2"
  elif [ "${CI:-}" = true ]; then
    bad "selenium or chromedriver missing (scripts/install-deps.sh --test)"
  fi
else
  echo "# chromium is not installed: browser checks skipped"
fi
"$HORNET" report "$slow" --db "$DB" --html "$T/r/cmp.html" --baseline 1; rc=$?
check "report --baseline exits 0 (got $rc)" test "$rc" = 0
check "the HTML report carries the comparison" grep -q "REGRESSION: p50 +5" "$T/r/cmp.html"
check "the HTML report lists the workers" grep -q '<table id="workers">' "$T/r/cmp.html"
check "the workers are stored with their CPU peak" test "$(sqlite3 "$DB" "SELECT COUNT(*) FROM workers WHERE run_id=$slow AND state='stopped' AND cpu_peak >= 0;")" = 1
"$HORNET" report 999 --db "$DB" --html "$T/x.html" 2>"$T/x.err"; rc=$?
check "report of an unknown run: exit 2 with a reason (got $rc)" test "$rc" = 2 -a -n "$(grep 'not in the database' "$T/x.err")"

"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 20 -t 2s --only-summary --no-db \
  --html "$T/nodb.html" >/dev/null 2>&1; rc=$?
check "--no-db with --html still writes the report (exit $rc)" test "$rc" = 0 -a -s "$T/nodb.html"

# a database from before the run table grew columns is migrated on open, old rows kept
sqlite3 "$T/old.db" "CREATE TABLE runs (id INTEGER PRIMARY KEY, started_ms INTEGER NOT NULL,
  ended_ms INTEGER, status TEXT NOT NULL, command_line TEXT, scenario_path TEXT,
  scenario_text TEXT, scenario_hash TEXT, host TEXT, users INTEGER, spawn_rate REAL,
  run_time_ms INTEGER, version TEXT, exit_code INTEGER);
  INSERT INTO runs (started_ms, status, scenario_path) VALUES (1000, 'finished', 'old.yaml');"
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 20 -t 2s --only-summary \
  --db "$T/old.db" >/dev/null 2>"$T/old.err"; rc=$?
check "a run on an old database is recorded (exit $rc)" test "$rc" = 0
check "the old database was migrated (version 3)" test "$(sqlite3 "$T/old.db" "PRAGMA user_version;")" = 3
check "... with the columns added since (dropped iterations, HTTP connections)" test \
  "$(sqlite3 "$T/old.db" "SELECT COUNT(*) FROM pragma_table_info('runs') WHERE name IN ('dropped_iterations', 'conns_opened', 'conns_reused');")" = 3
check "old runs are kept beside the new one" test "$(sqlite3 "$T/old.db" "SELECT COUNT(*) FROM runs;")" = 2

"$HORNET" runs --db "$T/nope.db" 2>"$T/nope.err"; rc=$?
check "hornet runs on a missing database: exit 2 with a reason" test "$rc" = 2 -a -n "$(grep 'no such database' "$T/nope.err")"
finish
