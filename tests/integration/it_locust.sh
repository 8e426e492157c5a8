#!/usr/bin/env bash
# A Locust user's first hour: Locust's flag forms, its CSV number formats and its keys, through
# the real binary against the demo target.
. "$(dirname "$0")/../lib.sh"

start_target TGT --latency-ms 2
URL="http://127.0.0.1:$TGT_PORT"
cat >"$T/two.yaml" <<EOF
host: $URL
users:
  - name: Reader
    weight: 3
    wait: {constant: 0.02}
    tasks:
      - {name: read, tags: [r], steps: [{http: {url: /healthz, name: read}}]}
  - name: Writer
    weight: 1
    wait: {constant: 0.02}
    tasks:
      - {name: write, tags: [w], steps: [{http: {url: /auth/status, name: write}}]}
      - {name: other, tags: [x], steps: [{http: {url: /, name: other}}]}
EOF
hrun() { # hrun DIR ARGS...: a local run into DIR; sets RC
  local dir=$1; shift
  mkdir -p "$T/$dir"
  timeout 60 "$HORNET" -f "$T/two.yaml" --headless --no-db --csv "$T/$dir/run" "$@" \
    >"$T/$dir/out" 2>"$T/$dir/err"; RC=$?
}
col() { csv_get "$T/$1/run_stats.csv" "$2" "$3"; }
served() { target_count "$TGT_PORT" total; }

# -i: at most N task iterations in all (each task here is one request), then the run ends
b=$(served)
hrun iter -u 6 -r 100 -i 50 -t 30s --processes 2
echo "# -i 50 over 2 worker processes: hornet reported $(col iter Aggregated "Request Count"), the target served $(( $(served) - b ))"
check "-i 50: exactly 50 requests served and reported, exit 0 (got $RC)" \
  test "$RC" = 0 -a "$(( $(served) - b ))" = 50 -a "$(col iter Aggregated "Request Count")" = 50
check "-i: the run ended on its own, long before -t" grep -q "Iteration limit reached" "$T/iter/err"

# -u 2 at weights 3:1 is one user of each class; positional names pick classes
hrun split -u 2 -r 100 -t 2s
check "-u 2 at 3:1: one user of each class" grep -q 'All users spawned: {"Reader": 1, "Writer": 1}' "$T/split/err"
hrun pick -u 3 -r 100 -t 1s Writer
check "positional class name: only Writer runs" grep -q 'All users spawned: {"Reader": 0, "Writer": 3}' "$T/pick/err"
check "positional class name: no read rows" test -z "$(col pick read "Request Count")"
hrun badpick -u 1 -t 1s Nobody
check "an unknown class name: exit 2 naming it and the classes (got $RC)" \
  test "$RC" = 2 -a "$(cat "$T/badpick/err")" = "hornet: unknown user class 'Nobody' ($T/two.yaml has: Reader, Writer)"

# -T a b / -E a b: space-separated lists
hrun tags -u 4 -r 100 -t 1s -T w x -E x
check "-T w x -E x: only the write task runs (exit $RC)" \
  test "$RC" = 0 -a -n "$(col tags write "Request Count")" -a -z "$(col tags other "Request Count")" -a -z "$(col tags read "Request Count")"

# --show-task-ratio-json and --equal-weights
"$HORNET" -f "$T/two.yaml" --show-task-ratio-json --equal-weights >"$T/ratio.json"
check "--show-task-ratio-json --equal-weights: Locust's shape, classes at 1:1" python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['per_class']['Reader']['ratio'] == 0.5, r
assert r['per_class']['Writer']['tasks']['write']['ratio'] == 0.5, r
assert r['total']['Writer']['tasks']['other']['ratio'] == 0.25, r" "$T/ratio.json"

# -s, --reset-stats, --logfile, -L DEBUG, --processes -1 and the accepted no-op flags
b=$(served)
hrun misc -u 4 -r 2 -t 4s -s 3 --reset-stats --logfile "$T/misc/hornet.log" -L DEBUG \
  --processes -1 --print-stats --skip-log-setup --enable-rebalancing
reported=$(col misc Aggregated "Request Count"); total=$(( $(served) - b ))
echo "# --reset-stats: reported $reported of $total served (the ramp's requests were reset)"
check "the flags are accepted (exit $RC)" test "$RC" = 0
check "--reset-stats: the ramp's requests are not in the stats" test "${reported:-0}" -gt 0 -a "${reported:-0}" -lt "$total"
check "--logfile: the log is in the file, stderr has none of it" \
  test "$(grep -c "All users spawned" "$T/misc/hornet.log")" = 1 -a "$(grep -c '\] [A-Z]*/' "$T/misc/err")" = 0
check "--logfile: worker processes log there too" grep -q "INFO/worker" "$T/misc/hornet.log"
check "-L DEBUG: each worker message is logged" grep -q "DEBUG/master: received stats from" "$T/misc/hornet.log"
check "-L DEBUG: spawns are logged" grep -q "DEBUG/worker .*: spawning 1 Reader users" "$T/misc/hornet.log"
check "--processes -1: one worker per core ($(nproc))" test "$(grep -c "connected to master" "$T/misc/hornet.log")" = "$(nproc)"

# Locust's CSV number formats: percentiles and medians are integers, the rest floats
check "CSV: Locust's parsing habits work on every row" python3 -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline='')))
assert rows, 'no rows'
for r in rows:
    for k in ['Median Response Time', '50%', '66%', '75%', '80%', '90%', '95%', '98%', '99%', '99.9%', '99.99%', '100%']:
        int(r[k])
    for k in ['Average Response Time', 'Min Response Time', 'Max Response Time', 'Average Content Size', 'Requests/s', 'Failures/s']:
        float(r[k])
    int(r['Request Count']); int(r['Failure Count'])
h = list(csv.DictReader(open(sys.argv[2], newline='')))
ts = [r['Timestamp'] for r in h if r['Name'] == 'Aggregated']
assert len(ts) == len(set(ts)), 'a repeated timestamp: %s' % ts
for r in h:
    if r['95%'] != 'N/A':
        int(r['95%']); int(r['Total Median Response Time'])
" "$T/misc/run_stats.csv" "$T/misc/run_stats_history.csv"
p95=$(col misc Aggregated 95%)
check "CSV: a shell gate on p95 works ($p95)" test "$p95" -lt 500

# the HTML report's requests/s chart follows the real rate: 12 users pacing 0.5 s are 24 req/s
# each second, over 2 worker processes whose reports reach the master at their own times
cat >"$T/paced.yaml" <<EOF
host: $URL
users:
  - name: P
    wait: {pacing: 0.5}
    tasks: [{name: p, steps: [{http: {url: /healthz}}]}]
EOF
timeout 60 "$HORNET" -f "$T/paced.yaml" -u 12 -r 100 -t 8s --headless --no-db --processes 2 \
  --html "$T/paced.html" --only-summary >"$T/paced.out" 2>&1
check "HTML chart: requests/s by the second they happened, no false spikes" python3 - "$T/paced.html" <<'PY'
import re, sys
html = open(sys.argv[1]).read()
vals = [float(v) for v in re.search(r'data-label="requests/s" data-values="([^"]*)"', html).group(1).split(",")]
inner = vals[1:-1]  # the first and last seconds are partial
print("# requests/s per second:", vals)
assert len(vals) >= 7, vals
assert all(18 <= v <= 30 for v in inner), vals
PY

# a locustfile given to -f: said in one line, exit 3; hornet convert turns it into a scenario
LF="$SRC/tests/locustfiles"
timeout 10 "$HORNET" -f "$LF/aiaas_locustfile.py" -t 1s >"$T/lf.out" 2>"$T/lf.err"; rc=$?
check "-f locustfile.py: exit 3, one line pointing to hornet convert (got $rc)" \
  test "$rc" = 3 -a "$(grep -c . "$T/lf.err")" = 1 -a -n "$(grep "is a Python locustfile.*hornet convert" "$T/lf.err")"
timeout 20 "$HORNET" convert "$LF/aiaas_locustfile.py" >"$T/aiaas.yaml" 2>"$T/conv.err"; rc=$?
check "convert: the seed-shaped locustfile converts whole (exit $rc, $(grep -c . "$T/conv.err") notes)" test "$rc" = 0
check "convert: the scenario is valid" "$HORNET" -f "$T/aiaas.yaml" --check
check "convert: classes, weights, tags and waits carried over" python3 - "$HORNET" "$T/aiaas.yaml" <<'PY'
import json, subprocess, sys
r = json.loads(subprocess.check_output([sys.argv[1], "-f", sys.argv[2], "--show-task-ratio-json"]))
assert abs(r["per_class"]["NormalUser"]["ratio"] - 0.75) < 1e-9, r
assert abs(r["per_class"]["NormalUser"]["tasks"]["chat"]["ratio"] - 0.5) < 1e-9, r
assert abs(r["total"]["HighLoadUser"]["tasks"]["rapid_health"]["ratio"] - 0.1875) < 1e-9, r
PY
b=$(served)
timeout 60 "$HORNET" -f "$T/aiaas.yaml" -H "$URL" -u 8 -r 100 -t 3s --headless --no-db \
  --csv "$T/conv/run" --only-summary >"$T/conv.out" 2>&1; rc=$?
reported=$(csv_get "$T/conv/run_stats.csv" Aggregated "Request Count"); total=$(( $(served) - b ))
echo "# the converted seed test against the demo target: $reported requests reported, $total served"
check "convert: the converted test runs against the demo target (exit $rc)" test "$rc" = 0 -a "${reported:-0}" -gt 10
check "convert: requests served == requests reported" test "$reported" = "$total"
check "convert: the on_start login ran once per NormalUser (6 of 8 users at 3:1)" test "$(csv_get "$T/conv/run_stats.csv" "auth login" "Request Count")" = 6
timeout 20 "$HORNET" convert "$LF/example_shapes.py" >"$T/shapes.yaml" 2>"$T/shapes.err"; rc=$?
check "convert: Locust's example shapes convert, with what was left out named (exit $rc)" \
  test "$rc" = 1 -a -n "$(grep -E "example_shapes.py:5[23]: not converted: Fast.status" "$T/shapes.err")"
check "convert: sequence, fixed_count, pacing, throughput, form, request()" python3 - "$T/shapes.yaml" <<'PY'
import sys
t = open(sys.argv[1]).read()
for want in ['sequence:', 'fixed_count: 1', '{"pacing": 0.5}', '{"throughput": 5}',
             '"form": {"amount": "10"}', '"url": "/billing/invoices", "name": "receipt"']:
    assert want in t, want
PY
check "convert: the shapes' scenario is valid" "$HORNET" -f "$T/shapes.yaml" --check
timeout 20 "$HORNET" convert "$LF/not_convertible.py" >/dev/null 2>"$T/none.err"; rc=$?
check "convert: no HttpUser class: exit 2, named" test "$rc" = 2 -a -n "$(grep "only HttpUser and FastHttpUser" "$T/none.err")"

# keys on a terminal: W adds 10 users to a headless run, s removes one
python3 - "$HORNET" "$T/two.yaml" "$T/keys" >"$T/keys.out" 2>&1 <<'EOF'
import os, pty, select, sys, time
hornet, scenario, prefix = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(hornet, [hornet, "-f", scenario, "--headless", "--no-db", "-u", "1", "-r", "100",
                      "-t", "6s", "--csv", prefix])
out = b""
def pump(until, pattern=None):
    global out
    while time.time() < until:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
        if pattern and pattern in out:
            return True
    return False
pump(time.time() + 10, b"All users spawned")
os.write(fd, b"W")
pump(time.time() + 5, b"now 11")
os.write(fd, b"s")
pump(time.time() + 5, b"now 10")
pump(time.time() + 15)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
krc=$?
check "keys: the run under a terminal exits 0 (got $krc)" test "$krc" = 0
check "keys: W adds 10 users" grep -q "Key 'W': adding 10 users (now 11)" "$T/keys.out"
check "keys: s removes one" grep -q "Key 's': removing 1 user (now 10)" "$T/keys.out"
check "keys: the history records the new count (10 users)" grep -q ",10,,Aggregated," "$T/keys_stats_history.csv"
finish
