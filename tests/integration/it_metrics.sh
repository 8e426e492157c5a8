#!/usr/bin/env bash
# Prometheus metrics of a headless run (--metrics-port): a real Prometheus server scrapes them
# and its query API returns hornet's request counter equal to the master's count; promtool
# accepts the output; hostile clients on the port (slowloris, 50 idle connections, oversized
# headers, a bad WebSocket upgrade) leave the run's figures and its stats interval alone.
. "$(dirname "$0")/../lib.sh"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  if [ "${CI:-}" = true ]; then bad "prometheus is not installed (scripts/install-deps.sh --test)"; finish; fi
  echo "# prometheus is not installed here (apt-get install prometheus): skipped"
  finish
fi
start_target TGT --latency-ms 5
SC="$SRC/scenarios/smoke.yaml"
metrics_port() { log_port "$1" "Prometheus metrics on"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- a real Prometheus scrapes a run capped at 400 iterations (one request each)
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 6 -r 100 -i 400 -t 60s --processes 2 \
  --headless --no-db --csv "$T/run" --only-summary --metrics-port 0 --autoquit 30s \
  >"$T/m.out" 2>"$T/m.err" &
M=$!; PIDS+=("$M")
MP=$(metrics_port "$T/m.err")
check "the master says where its metrics are" test -n "$MP"
curl -s --max-time 5 "http://127.0.0.1:$MP/metrics" >"$T/sample.txt"
check "promtool check metrics passes on the output" promtool check metrics <"$T/sample.txt"
PP=$(free_port)
cat >"$T/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: hornet
    static_configs: [{targets: ["127.0.0.1:$MP"]}]
EOF
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
  --web.listen-address="127.0.0.1:$PP" >"$T/prometheus.log" 2>&1 &
PIDS+=("$!")
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PP/-/ready" >/dev/null && break; sleep 0.1; done
check "prometheus is up" curl -sf "http://127.0.0.1:$PP/-/ready" -o /dev/null
for _ in $(seq 400); do grep -q "Serving /metrics for" "$T/m.err" && break; sleep 0.1; done
check "the run ended at its 400 iterations and the metrics stay up (--autoquit)" grep -q "Serving /metrics for" "$T/m.err"
reported=$(csv_get "$T/run_stats.csv" Aggregated "Request Count")
q='hornet_requests_total{name="Aggregated"}'
scraped=""
for _ in $(seq 100); do
  scraped=$(curl -s --max-time 5 -G "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$q" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')
  [ "$scraped" = "$reported" ] && break
  sleep 0.2
done
served=$(target_count "$TGT_PORT" total)
echo "# prometheus's query: $scraped; the master's CSV: $reported; the target served $served"
check "prometheus's counter == the master's count == the target's ($scraped, $reported, $served)" \
  test -n "$scraped" -a "$scraped" = "$reported" -a "$reported" = "$served" -a "$reported" = 400
q2='histogram_quantile(0.95, sum by (le) (hornet_response_time_seconds_bucket{name="Aggregated"}))'
p95=$(curl -s --max-time 5 -G "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$q2" |
  python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')
echo "# histogram_quantile(0.95) over hornet's buckets: $p95 s (5 ms injected)"
check "histogram_quantile works on the buckets (p95 between 5 ms and 25 ms: $p95)" \
  python3 -c "import sys; v=float(sys.argv[1]); assert 0.005 <= v <= 0.025, v" "$p95"
check "every query of deploy/grafana-dashboard.json runs on this Prometheus, the rates with data" \
  python3 - "$SRC/deploy/grafana-dashboard.json" "$PP" <<'PY'
import json, sys, urllib.parse, urllib.request
d = json.load(open(sys.argv[1]))
for p in d["panels"]:
    for t in p["targets"]:
        q = t["expr"].replace("$__rate_interval", "10s").replace("$run_id", ".*")
        url = "http://127.0.0.1:%s/api/v1/query?%s" % (sys.argv[2], urllib.parse.urlencode({"query": q}))
        r = json.load(urllib.request.urlopen(url, timeout=5))
        assert r["status"] == "success", (p["title"], q, r)
        if p["title"] in ("Users", "Workers by state", "Response time percentiles (all rows)"):
            assert r["data"]["result"], (p["title"], q, "no data")
PY
kill -INT "$M"; wait_pid "$M" 10 mrc
check "Ctrl-C ends the lingering master at once with the run's code (got $mrc)" test "$mrc" = 0

# --- Locust's web API drives a run: /stats/requests with Locust's names and types, /swarm
# changes the users mid-run and the workers follow, the CSV downloads, /stats/reset, /stop
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 100 -t 60s --processes 2 --headless \
  --no-db --only-summary --metrics-port 0 >"$T/api.out" 2>"$T/api.err" &
W=$!; PIDS+=("$W")
AP=$(metrics_port "$T/api.err")
for _ in $(seq 100); do grep -q "All users spawned" "$T/api.err" && break; sleep 0.1; done
check "the web API drives the run as Locust's does" python3 - "$AP" <<'PY'
import csv, io, json, sys, time, urllib.error, urllib.parse, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
def get(path):
    with urllib.request.urlopen(base + path, timeout=5) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()
def post(path, form):
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
time.sleep(1.5)
_, ctype, body = get("/stats/requests")
assert ctype.startswith("application/json"), ctype
r = json.loads(body)
types = {"stats": list, "errors": list, "total_rps": float, "fail_ratio": float,
         "current_response_time_percentile_95": float, "current_response_time_percentile_50": float,
         "current_response_time_percentiles": dict, "state": str, "user_count": int, "workers": list}
for k, t in types.items():
    assert isinstance(r[k], t), (k, type(r[k]), r[k])
row_types = {"method": str, "name": str, "safe_name": str, "num_requests": int, "num_failures": int,
             "avg_response_time": float, "min_response_time": int, "max_response_time": int,
             "current_rps": float, "current_fail_per_sec": float, "median_response_time": int,
             "ninetieth_response_time": int, "ninety_ninth_response_time": int,
             "avg_content_length": float}
for row in r["stats"]:
    for k, t in row_types.items():
        assert isinstance(row[k], t) or (t is float and isinstance(row[k], int)), (k, row[k])
assert r["stats"][-1]["name"] == "Aggregated" and r["stats"][-1]["num_requests"] > 0, r["stats"][-1]
assert r["state"] == "running" and r["user_count"] == 2, (r["state"], r["user_count"])
for w in r["workers"]:
    assert set(w) >= {"id", "state", "user_count", "cpu_usage", "memory_usage"}, w
code, j = post("/swarm", {"user_count": "lots", "spawn_rate": "10"})
assert code == 400 and j["success"] is False and "user_count" in j["message"], (code, j)
code, j = post("/swarm", {"user_count": "6", "spawn_rate": "100", "host": ""})
assert code == 200 and j["success"] is True and j["message"] == "Swarming started", (code, j)
for _ in range(50):
    r = json.loads(get("/stats/requests")[2])
    if r["user_count"] == 6 and sum(w["user_count"] for w in r["workers"]) == 6:
        break
    time.sleep(0.1)
assert r["user_count"] == 6, r["user_count"]
assert sorted(w["user_count"] for w in r["workers"]) == [3, 3], r["workers"]
rows = list(csv.DictReader(io.StringIO(get("/stats/requests/csv")[2])))
assert rows[-1]["Name"] == "Aggregated" and int(rows[-1]["95%"]) >= 0, rows[-1]
assert get("/stats/failures/csv")[2].startswith("Method,Name,Error,Occurrences")
assert "exceptions" in json.loads(get("/exceptions")[2])
before = json.loads(get("/stats/requests")[2])["stats"][-1]["num_requests"]
assert get("/stats/reset")[2] == "ok"
after = json.loads(get("/stats/requests")[2])["stats"][-1]["num_requests"]
assert after < before, (before, after)
assert json.loads(get("/stop")[2])["message"] == "Test stopped"
print("# /swarm 2 -> 6 users: workers", sorted(w["user_count"] for w in r["workers"]), "; reset", before, "->", after)
PY
wait_pid "$W" 20 wrc
check "/stop ends the run, exit 0 (got $wrc)" test "$wrc" = 0
check "the log says who stopped it" grep -q "Stopped from the web API" "$T/api.err"

# --- --web-auth: basic auth on the server; beyond loopback it is required
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 1 -r 10 -t 4s --headless --no-db \
  --only-summary --metrics-port 0 --web-auth alice:s3cret >"$T/auth.out" 2>"$T/auth.err" &
U=$!; PIDS+=("$U")
UP=$(metrics_port "$T/auth.err")
code=$(curl -s -o /dev/null -D "$T/auth.hdr" -w '%{http_code}' --max-time 5 "http://127.0.0.1:$UP/metrics")
check "--web-auth: without credentials, 401 with a Basic challenge (got $code)" \
  bash -c "test '$code' = 401 && grep -qi '^WWW-Authenticate: Basic realm=\"hornet\"' '$T/auth.hdr'"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u alice:wrong "http://127.0.0.1:$UP/stop")
check "--web-auth: a wrong password is 401, and /stop did nothing (got $code)" test "$code" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -u alice:s3cret "http://127.0.0.1:$UP/metrics")
check "--web-auth: the right one is 200 (got $code)" test "$code" = 200
wait_pid "$U" 20 urc
check "--web-auth: the run ran its course (exit $urc, not stopped)" bash -c "test '$urc' = 0 && grep -q 'Time limit reached' '$T/auth.err'"
timeout 10 "$HORNET" -f "$SC" -t 1s --headless --no-db --metrics-port 0 --web-host 10.1.2.3 \
  >"$T/expose.out" 2>"$T/expose.err"; rc=$?
check "beyond loopback without --web-auth: exit 2, one line saying why (got $rc)" \
  test "$rc" = 2 -a "$(grep -c . "$T/expose.err")" = 1 -a -n "$(grep -- '--web-auth USER:PASSWORD (or --web-no-auth' "$T/expose.err")"

# --- hostile clients against the port during a run
before=$(target_count "$TGT_PORT" total)
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 4 -r 100 -t 6s --headless --no-db \
  --csv "$T/h" --only-summary --metrics-port 0 >"$T/h.out" 2>"$T/h.err" &
H=$!; PIDS+=("$H")
HP=$(metrics_port "$T/h.err")
python3 - "$HP" >"$T/hostile.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s
slow = conn(); slow.sendall(b"GET /metrics HTTP/1.1\r\n")  # slowloris: a header every 0.5 s
idle = [conn() for _ in range(50)]                      # 50 idle connections
big = conn()                                            # 100 KiB of headers
big.settimeout(12)
t0 = time.time()
try:
    big.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
    reply = big.recv(100)
except OSError as e:
    reply = b"closed: " + str(e).encode()
print("oversized headers:", reply[:40], "after %.1f s" % (time.time() - t0))
ws = conn()                                             # a WebSocket upgrade, then junk
ws.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
           b"\x81\xff\xff\xff\xff\xff\xff\xff\xff\xff" + b"\x00" * 64)
sent = 0
for i in range(10):
    try:
        slow.sendall(b"X-Slow-%d: 1\r\n" % i)
        sent += 1
    except OSError:
        break
    time.sleep(0.5)
print("slowloris trickled", sent, "header lines over 5 s")
print("done")
PY
A=$!; PIDS+=("$A")
sleep 1.5
t0=$(date +%s%N)
code=$(curl -s -o "$T/during.txt" -w '%{http_code}' --max-time 3 "http://127.0.0.1:$HP/metrics")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# /metrics during the attack: HTTP $code in $ms ms"
check "a real client still gets /metrics during the attack (HTTP $code, $ms ms)" test "$code" = 200 -a "$ms" -lt 2000
wait_pid "$H" 30 hrc
wait_pid "$A" 20 arc
cat "$T/hostile.out" | sed 's/^/# /'
check "oversized headers are refused: 431, within the 10 s connection timeout" grep -qE "oversized headers: b'HTTP/1.1 431" "$T/hostile.out"
reported=$(csv_get "$T/h_stats.csv" Aggregated "Request Count")
served=$(( $(target_count "$TGT_PORT" total) - before ))
check "the run under attack: exit 0, served == reported ($served, $reported)" test "$hrc" = 0 -a "$served" = "$reported"
check "the run under attack: the stats kept their one-second interval (no history gap)" python3 - "$T/h_stats_history.csv" <<'PY'
import csv, sys
ts = [int(r["Timestamp"]) for r in csv.DictReader(open(sys.argv[1], newline="")) if r["Name"] == "Aggregated"]
gaps = [b - a for a, b in zip(ts, ts[1:])]
print("# history seconds:", ts)
assert len(ts) >= 5 and max(gaps) <= 2, gaps
PY
finish
