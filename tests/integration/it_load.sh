#!/usr/bin/env bash
# The load model through real processes: thresholds judged on the merged stats with their exit
# codes (99 failed, 100 aborted early), the verdicts in CSV, JUnit XML, JSON and the history;
# wrong thresholds refused before any load.
. "$(dirname "$0")/../lib.sh"

start_target A --latency-ms 20
sc() { # sc FILE THRESHOLDS-YAML: a scenario on target A with those thresholds
  printf 'host: http://127.0.0.1:%s\n%s\nusers:\n  - name: U\n    wait: {constant: 0.1}\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
    "$A_PORT" "$2" >"$T/$1"
}

# --- passing thresholds: exit 0, every verdict written
sc pass.yaml "$(printf 'thresholds:\n  Aggregated: ["p(95) < 1000", "fail_ratio < 0.05"]\n  GET /healthz: ["p(50) > 15", "count > 10"]\n')"
"$HORNET" -f "$T/pass.yaml" -u 4 -r 10 -t 3s --headless --only-summary --db "$T/h.db" \
  --csv "$T/p/run" --junit "$T/p/junit.xml" >"$T/pass.out" 2>"$T/pass.err"; rc=$?
check "passing thresholds: exit 0 (got $rc)" test "$rc" = 0
check "passing thresholds: the console table" grep -q "Thresholds: 4 of 4 passed" "$T/pass.out"
check "passing thresholds: PREFIX_thresholds.csv, 4 pass rows" test "$(grep -c ',pass' "$T/p/run_thresholds.csv")" = 4
check "passing thresholds: JUnit with 0 failures" python3 -c "
import xml.etree.ElementTree as E, sys
r = E.parse(sys.argv[1]).getroot()
s = r.find('testsuite')
assert r.tag == 'testsuites' and s.get('tests') == '4' and s.get('failures') == '0'
assert len(s.findall('testcase')) == 4 and not s.findall('testcase/failure')" "$T/p/junit.xml"

# --- a failing threshold and one on a row that never appears: exit 99, both named
sc fail.yaml "$(printf 'thresholds:\n  GET /healthz: ["p(50) < 10"]\n')"
"$HORNET" -f "$T/fail.yaml" -u 4 -r 10 -t 3s --headless --db "$T/h.db" \
  --threshold 'POST /never: count > 0' --csv "$T/f/run" --junit "$T/f/junit.xml" --json "$T/f/r.json" \
  >"$T/fail.out" 2>"$T/fail.err"; rc=$?
check "failing threshold: exit 99 (got $rc)" test "$rc" = 99
check "failing threshold: the observed median is shown" grep -Eq "✗ GET /healthz +p\(50\) < 10 +observed 2[0-9]" "$T/fail.out"
check "a row that never appeared fails at the end" grep -q "no data: the row never appeared" "$T/fail.out"
check "the live console says how the thresholds stand" grep -Eq "^Thresholds: 0 passing, 1 failing, 1 not judged yet; first failing: GET /healthz: p\(50\)=2" "$T/fail.out"
check "failing thresholds: JUnit lists 2 failures with the observed value" python3 -c "
import xml.etree.ElementTree as E, sys
s = E.parse(sys.argv[1]).getroot().find('testsuite')
f = s.findall('testcase/failure')
assert s.get('failures') == '2' and len(f) == 2, (s.attrib, len(f))
assert f[0].get('message').startswith('observed 2'), f[0].get('message')" "$T/f/junit.xml"
check "failing thresholds: in the JSON report" python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))['thresholds']
assert [x['ok'] for x in t] == [False, False] and t[1]['observed'] is None, t" "$T/f/r.json"
run=$("$HORNET" runs --db "$T/h.db" | awk 'NR==2 {print $1}')  # newest first
"$HORNET" report "$run" --db "$T/h.db" --csv "$T/f/again" >/dev/null 2>&1
check "hornet report rewrites PREFIX_thresholds.csv from the history" cmp -s "$T/f/run_thresholds.csv" "$T/f/again_thresholds.csv"

# --- abort_on_fail: the run ends early (after its delay) with 100
sc abort.yaml "$(printf 'thresholds:\n  GET /healthz: [{expr: "p(50) < 10", abort_on_fail: true, delay: 2s}]\n')"
t0=$(date +%s%N)
"$HORNET" -f "$T/abort.yaml" -u 4 -r 10 -t 60s --headless --only-summary --no-db >"$T/abort.out" 2>"$T/abort.err"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "abort_on_fail: exit 100 (got $rc)" test "$rc" = 100
check "abort_on_fail: the run ended early (${ms} ms of a 60 s run)" test "$ms" -lt 20000
check "abort_on_fail: says which threshold" grep -q "Threshold failed on GET /healthz: p(50)=" "$T/abort.err"

# --- wrong thresholds are refused before any load
before=$(target_count "$A_PORT" total)
sc bad.yaml "$(printf 'thresholds:\n  GET /healthz: ["p(95) <> 3"]\n')"
"$HORNET" -f "$T/bad.yaml" -u 1 -t 2s --headless --no-db >/dev/null 2>"$T/bad.err"; rc=$?
check "bad threshold in the scenario: exit 3 (got $rc)" test "$rc" = 3
check "bad threshold in the scenario: file:line:col and the column in the expression" \
  grep -q "bad.yaml:3:18: thresholds.GET /healthz\[0\]: 'p(95) <> 3': expected a number at column 8" "$T/bad.err"
"$HORNET" -f "$T/pass.yaml" -u 1 -t 2s --headless --no-db --threshold 'Aggregated: p95 < 3' >/dev/null 2>"$T/badcli.err"; rc=$?
check "bad --threshold: exit 2 (got $rc), one line" test "$rc" = 2 -a "$(wc -l <"$T/badcli.err")" = 1
check "no load was sent for either" test "$(target_count "$A_PORT" total)" = "$before"
# --- stages: the history's user count follows the plan, and the plan sets the run time
printf 'host: http://127.0.0.1:%s\nload:\n  stages:\n    - {duration: 3s, users: 2}\n    - {duration: 3s, users: 6, spawn_rate: 50}\n    - {duration: 2s, users: 0}\nusers:\n  - name: U\n    wait: {constant: 0.2}\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
  "$A_PORT" >"$T/stages.yaml"
t0=$(date +%s%N)
timeout 60 "$HORNET" -f "$T/stages.yaml" --headless --only-summary --no-db --csv "$T/s/run" \
  >"$T/stages.out" 2>"$T/stages.err"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "stages: exit 0 (got $rc)" test "$rc" = 0
check "stages: the run time is the plan's 8 s (took ${ms} ms)" test "$ms" -ge 7500 -a "$ms" -lt 20000
counts=$(awk -F, 'NR > 1 {print $2}' "$T/s/run_stats_history.csv" | uniq | tr '\n' ' ')
echo "# stages 2, 6, 0: the history's user counts: $counts"
check "stages: the history follows the plan (2, then 6, then 0)" \
  sh -c "echo '$counts' | grep -Eq '(^| )2 .*6 .*0 '"
check "stages: never above the plan's 6 users" test "$(awk -F, 'NR > 1 && $2 > m {m = $2} END {print m}' "$T/s/run_stats_history.csv")" = 6
check "stages: each stage announced" test "$(grep -c "Load plan, stage" "$T/stages.err")" = 3
# --- capacity search: a target whose latency grows with concurrency (2 ms per other open
# connection); steps of 4 users judged on p(95) < 25 ms stop where the latency crosses 25 ms
start_target C --latency-ms 2 --latency-per-conn-ms 2
printf 'host: http://127.0.0.1:%s\nthresholds:\n  Aggregated: ["p(95) < 25"]\nload:\n  capacity: {start: 4, step: 4, step_duration: 2s, max: 60}\nusers:\n  - name: U\n    wait: {constant: 0.1}\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
  "$C_PORT" >"$T/cap.yaml"
timeout 90 "$HORNET" -f "$T/cap.yaml" --headless --only-summary --db "$T/h.db" --csv "$T/c/run" \
  --json "$T/c/r.json" --html "$T/c/r.html" >"$T/cap.out" 2>"$T/cap.err"; rc=$?
check "capacity: exit 0 when a step passed (got $rc)" test "$rc" = 0
echo "# $(grep '^Capacity:' "$T/cap.out")"
check "capacity: the answer is consistent with p(95) < 25 (last pass under it, first fail over it)" python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))['capacity']
steps = c['steps']
last, first = c['last_passing_users'], c['first_failing_users']
assert last is not None and first == last + 4, c
p = [s for s in steps if s['users'] == last][0]; f = [s for s in steps if s['users'] == first][0]
assert p['p95_ms'] < 25 <= f['p95_ms'], (p, f)
assert all(s['passed'] for s in steps[:-1]) and not steps[-1]['passed']
assert 'Aggregated: p(95)=' in f['failed']
assert [s['users'] for s in steps] == list(range(4, first + 1, 4))" "$T/c/r.json"
check "capacity: PREFIX_capacity.csv has every step" test "$(($(wc -l <"$T/c/run_capacity.csv") - 1))" = "$(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))['capacity']['steps']))" "$T/c/r.json")"
check "capacity: the HTML report answers it" grep -q 'id="capacity-answer"' "$T/c/r.html"
check "capacity: the search ended the run (no -t)" grep -q "the capacity search is over" "$T/cap.err"
# the same search stepping the open model's arrival rate (mode: rate) on a pool of users
start_target R --latency-ms 10 --latency-per-conn-ms 3
printf 'host: http://127.0.0.1:%s\nthresholds:\n  Aggregated: ["p(95) < 25"]\nload:\n  capacity: {mode: rate, start: 100, step: 100, step_duration: 2s, max: 1000, max_users: 80}\nusers:\n  - name: U\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
  "$R_PORT" >"$T/caprate.yaml"
timeout 90 "$HORNET" -f "$T/caprate.yaml" --headless --only-summary --no-db --json "$T/c/rate.json" \
  >"$T/caprate.out" 2>"$T/caprate.err"; rc=$?
echo "# $(grep '^Capacity:' "$T/caprate.out")"
check "capacity by rate: exit 0 (got $rc)" test "$rc" = 0
check "capacity by rate: consistent with p(95) < 25" python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))['capacity']
assert c['mode'] == 'rate', c
last, first = c['last_passing_rate'], c['first_failing_rate']
assert last is not None and first == last + 100, c
p = [s for s in c['steps'] if s['rate'] == last][0]; f = [s for s in c['steps'] if s['rate'] == first][0]
assert p['p95_ms'] < 25 <= f['p95_ms'], (p, f)
# a step's figures are the deltas merged during it (one report a second), so a 2 s step's
# requests/s is not checked against its rate here" "$T/c/rate.json"
printf 'host: http://127.0.0.1:%s\nload:\n  capacity: {start: 4, step: 4, step_duration: 2s, max: 60}\nusers:\n  - name: U\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
  "$C_PORT" >"$T/capnt.yaml"
"$HORNET" -f "$T/capnt.yaml" --headless --no-db >/dev/null 2>"$T/capnt.err"; rc=$?
check "capacity without thresholds: exit 3, says why (got $rc)" test "$rc" = 3 -a -n "$(grep 'needs thresholds' "$T/capnt.err")"
# --- open model: 200 iterations/s for 10 s over 2 worker processes; the target serves
# 2000 +- 1 % whatever the response times
start_target O --latency-ms 5
printf 'host: http://127.0.0.1:%s\nload:\n  arrival_rate: {rate: 200, per: 1s, duration: 10s, max_users: 60}\nusers:\n  - name: U\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
  "$O_PORT" >"$T/open.yaml"
timeout 60 "$HORNET" -f "$T/open.yaml" --processes 2 --headless --only-summary --no-db \
  --csv "$T/o/run" >"$T/open.out" 2>"$T/open.err"; rc=$?
served=$(target_count "$O_PORT" total)
rep=$(csv_get "$T/o/run_stats.csv" Aggregated "Request Count")
echo "# open model 200/s for 10 s: the target served $served, hornet reported $rep; $(grep "^Open model: [0-9]" "$T/open.out")"
check "open model: exit 0 (got $rc)" test "$rc" = 0
check "open model: the target served 2000 +- 1 % ($served)" test "$served" -ge 1980 -a "$served" -le 2020
check "open model: reported = served ($rep = $served)" test "$rep" = "$served"
check "open model: no iteration dropped with a free pool" grep -q "dropped iterations (no free user when due): 0" "$T/open.out"

# --- a rate plan: 50/s for 3 s then 150/s for 3 s over 2 workers: 600 +- 2 % at the target
start_target Q --latency-ms 5
printf 'host: http://127.0.0.1:%s\nload:\n  arrival_stages:\n    - {duration: 3s, rate: 50}\n    - {duration: 3s, rate: 150}\n  max_users: 40\nusers:\n  - name: U\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
  "$Q_PORT" >"$T/ramp.yaml"
timeout 60 "$HORNET" -f "$T/ramp.yaml" --processes 2 --headless --only-summary --no-db >"$T/ramp.out" 2>"$T/ramp.err"; rc=$?
served=$(target_count "$Q_PORT" total)
echo "# arrival stages 50/s x 3 s, 150/s x 3 s: the target served $served (600 planned)"
check "arrival stages: exit 0 (got $rc)" test "$rc" = 0
check "arrival stages: the target served 600 +- 2 % ($served)" test "$served" -ge 588 -a "$served" -le 612
check "arrival stages: both stages announced" test "$(grep -c "Load plan, arrival stage" "$T/ramp.err")" = 2

# --- a pool too small for the rate: iterations are dropped and counted, not queued
start_target P --latency-ms 200
printf 'host: http://127.0.0.1:%s\nthresholds:\n  Aggregated: ["dropped_iterations == 0"]\nload:\n  arrival_rate: {rate: 100, per: 1s, duration: 4s, max_users: 4}\nusers:\n  - name: U\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' \
  "$P_PORT" >"$T/drop.yaml"
timeout 60 "$HORNET" -f "$T/drop.yaml" --headless --only-summary --no-db --csv "$T/d/run" \
  --json "$T/d/r.json" >"$T/drop.out" 2>"$T/drop.err"; rc=$?
dropped=$(sed -n 's/.*dropped iterations (no free user when due): \([0-9]*\).*/\1/p' "$T/drop.out")
served=$(target_count "$P_PORT" total)
echo "# 100/s on 4 users at 200 ms (capacity 20/s) for 4 s: served $served, dropped $dropped"
check "dropped iterations: counted (${dropped:-none}, about 320 expected)" test -n "$dropped" -a "${dropped:-0}" -ge 250 -a "${dropped:-0}" -le 360
check "dropped iterations: the pool still served its capacity (about 80: $served)" test "$served" -ge 60 -a "$served" -le 100
check "dropped iterations: a dropped_iterations == 0 threshold fails, exit 99 (got $rc)" test "$rc" = 99
check "dropped iterations: a row in PREFIX_open_model.csv" test "$(sed -n 2p "$T/d/run_open_model.csv" | tr -d '\r')" = "100,4,$dropped"
corr=$(csv_get "$T/d/run_stats.csv" Aggregated 99%); svc=$(csv_get "$T/d/run_service_time.csv" Aggregated 99%)
echo "# open model p99: corrected $corr ms, service time $svc ms"
check "open model: the service time is kept beside the corrected time (p99 $svc <= $corr, which Locust's CSV rounds to 10 ms)" \
  python3 -c "import sys; c, s = int(sys.argv[1]), float(sys.argv[2]); assert 190 <= s <= c + 5, (s, c)" "$corr" "$svc"
check "open model: the JSON has both" python3 -c "
import json, sys
r = [x for x in json.load(open(sys.argv[1]))['stats'] if x['name'] == '/healthz'][0]
assert r['service_time_percentiles']['99%'] <= r['response_time_percentiles']['99%'], r" "$T/d/r.json"
"$HORNET" -f "$T/stages.yaml" --stages 1s:1,1x:2 --headless --no-db >/dev/null 2>"$T/badst.err"; rc=$?
check "bad --stages: exit 2 naming the stage (got $rc)" test "$rc" = 2 -a -n "$(grep "stage 2: bad duration '1x'" "$T/badst.err")"
finish
