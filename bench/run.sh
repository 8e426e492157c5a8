#!/usr/bin/env bash
# Compares hornet's two HTTP engines with wrk and Locust FastHttpUser in one run on this
# machine, as shared/peers/README.md measured them: nginx pinned to core 1, the generator to
# core 0, 50 keep-alive connections/users on GET /healthz, CPU from /usr/bin/time (user + sys
# of the whole process tree). Prints requests per CPU-second and the ratios, a templated POST
# against the same POST written literally (native engine), and syscalls per request of wrk and
# hornet-native (perf stat); then the idle-memory runs: 5000 and 20000 users that each made one
# request and now hold an open keep-alive connection, on each engine. In between, the p50 each
# engine reports against a 20 ms delay the demo target injects.
# Usage: bench/run.sh [SECONDS (default 15)] [REPEATS (default 3; medians are reported)]
# IDLE_ONLY=1 skips the throughput runs; BENCH_TOOLS="wrk hornet_native" picks generators;
# IDLE_USERS="5000 20000" and IDLE_ENGINES="curl native" pick the idle runs.
set -u
cd "$(dirname "$0")/.."
secs=${1:-15}; reps=${2:-3}
bash scripts/install-deps.sh --bench >/dev/null || exit 1
bash scripts/build.sh >/dev/null || exit 1
B=$(mktemp -d /tmp/hornet-bench.XXXXXX)
mkdir -p "$B/tmp"
port=${BENCH_PORT:-8088}
sed -e "s#__DIR__#$B#g" -e "s#__PORT__#$port#g" bench/nginx.conf > "$B/nginx.conf"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || ulimit -n 20000
taskset -c 1 nginx -p "$B" -c "$B/nginx.conf" -g 'daemon off;' 2>"$B/nginx.stderr" &
NGINX=$!
trap 'kill $NGINX 2>/dev/null; wait $NGINX 2>/dev/null; rm -rf "$B"' EXIT
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$port"

# cpu_of FILE: user+sys seconds from /usr/bin/time -v output
cpu_of() { awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.3f", u+s}' "$1"; }
rss_of() { awk -F': ' '/Maximum resident/{print $2}' "$1"; }
median() { sort -g | awk '{a[NR]=$1} END{print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

run_wrk() {
  /usr/bin/time -v taskset -c 0 wrk -t1 -c50 -d"${secs}s" "$URL/healthz" >"$B/wrk.out" 2>"$B/wrk.time"
  local n; n=$(awk '/requests in/{print $1}' "$B/wrk.out")
  echo "$n $(cpu_of "$B/wrk.time") $(rss_of "$B/wrk.time")"
}
run_locust() {
  (cd "$B" && /usr/bin/time -v taskset -c 0 locust -f "$OLDPWD/bench/lf_fast.py" --headless \
     -u 50 -r 50 -t "${secs}s" -H "$URL" --csv "$B/locust" --only-summary \
     >"$B/locust.out" 2>"$B/locust.time")
  local n; n=$(awk -F, '$2=="Aggregated"{print $3}' "$B/locust_stats.csv")
  echo "$n $(cpu_of "$B/locust.time") $(rss_of "$B/locust.time")"
}
hornet_with() { # hornet_with SCENARIO ENGINE
  /usr/bin/time -v taskset -c 0 build/hornet --headless -f "$1" -H "$URL" -u 50 -r 1000 \
     -t "${secs}s" --processes 1 --only-summary --csv "$B/hornet" --loglevel WARNING \
     --http-engine "$2" >"$B/hornet.out" 2>"$B/hornet.time"
  local n; n=$(awk -F, '$2=="Aggregated"{print $3}' "$B/hornet_stats.csv")
  echo "$n $(cpu_of "$B/hornet.time") $(rss_of "$B/hornet.time")"
}
run_hornet_curl() { hornet_with bench/healthz.yaml curl; }
run_hornet_native() { hornet_with bench/healthz.yaml native; }
run_hornet_native_templated() { hornet_with bench/templated.yaml native; }
run_hornet_native_static_post() { hornet_with bench/static_post.yaml native; }

if [ -z "${IDLE_ONLY:-}" ]; then
printf "%-28s %12s %14s %12s %10s\n" generator "requests/s" "req/CPU-s" "max RSS KB" "ratio"
declare -A PER_CPU
for tool in ${BENCH_TOOLS:-wrk locust hornet_curl hornet_native hornet_native_static_post hornet_native_templated}; do
  : >"$B/$tool.samples"
  for r in $(seq "$reps"); do
    read -r n cpu rss < <(run_$tool)
    if [ -z "$n" ] || [ -z "$cpu" ]; then echo "$tool: run $r failed (see $B)"; continue; fi
    awk -v n="$n" -v c="$cpu" -v s="$secs" -v rss="$rss" \
      'BEGIN{printf "%.0f %.0f %s\n", n/s, (c>0? n/c : 0), rss}' >>"$B/$tool.samples"
  done
  rps=$(cut -d' ' -f1 "$B/$tool.samples" | median)
  pc=$(cut -d' ' -f2 "$B/$tool.samples" | median)
  rss=$(cut -d' ' -f3 "$B/$tool.samples" | median)
  PER_CPU[$tool]=$pc
  ratio=$(awk -v a="$pc" -v b="${PER_CPU[wrk]}" 'BEGIN{printf "%.2fx wrk", (b>0? a/b : 0)}')
  printf "%-28s %12s %14s %12s %10s\n" "$tool" "$rps" "$pc" "$rss" "$ratio"
done
awk -v h="${PER_CPU[hornet_native]:-0}" -v c="${PER_CPU[hornet_curl]:-0}" \
    -v l="${PER_CPU[locust]:-0}" -v w="${PER_CPU[wrk]:-0}" \
    -v t="${PER_CPU[hornet_native_templated]:-0}" -v p="${PER_CPU[hornet_native_static_post]:-0}" 'BEGIN{
  printf "per CPU-second: hornet-native/wrk %.2f (goal >= 0.90), hornet-curl/wrk %.2f; hornet-native/Locust FastHttpUser %.1fx\n",
         (w>0? h/w : 0), (w>0? c/w : 0), (l>0? h/l : 0)
  printf "native: templated POST (3 headers + JSON body) / the same POST written literally: %.2f (goal >= 0.90)\n",
         (p>0? t/p : 0) }'
# syscalls per request: every system call the generator makes, over the requests it sent
sys_per_req() { # sys_per_req NAME COMMAND...: prints "NAME syscalls requests"
  local name=$1; shift
  perf stat -e raw_syscalls:sys_enter -x, -o "$B/$name.perf" "$@" >"$B/$name.sysout" 2>&1
  awk -F, '/raw_syscalls/{print $1}' "$B/$name.perf"
}
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -x, true >/dev/null 2>&1; then
  s1=$(sys_per_req wrk taskset -c 0 wrk -t1 -c50 -d5s "$URL/healthz")
  n1=$(awk '/requests in/{print $1}' "$B/wrk.sysout")
  s2=$(sys_per_req hn taskset -c 0 build/hornet --headless -f bench/healthz.yaml -H "$URL" -u 50 \
       -r 1000 -t 5s --processes 1 --only-summary --csv "$B/sys" --loglevel WARNING --http-engine native)
  n2=$(awk -F, '$2=="Aggregated"{print $3}' "$B/sys_stats.csv")
  awk -v s1="$s1" -v n1="$n1" -v s2="$s2" -v n2="$n2" 'BEGIN{
    printf "syscalls per request (perf stat, whole process tree): wrk %.2f, hornet-native %.2f\n",
           (n1>0? s1/n1 : 0), (n2>0? s2/n2 : 0) }'
else
  echo "syscalls per request: perf stat cannot count raw_syscalls here (skipped)"
fi
fi

# Latency accuracy: the demo target delays every answer by 20 ms (a floor: never less); 4 users for the run's length on each engine, both pinned as above. The
# p50 hornet reports should be within 1 ms of it (the integration test allows 3 ms: it runs on
# a busy machine, and under ASan). The target keeps its delay to the microsecond (a timerfd, not
# libuv's millisecond timers); what remains above 20 ms is waking up after 20 ms of idleness
# (wrk measured 20.36 ms here, hornet-native 20.42, against a server that sleeps exactly 20 ms
# both measured 20.4 ms).
rm -f "$B/lt.port"
taskset -c 1 build/deploy/demo-target/hornet-demo-target --port 0 --port-file "$B/lt.port" \
  --latency-ms 20 2>"$B/lt.log" &
LT=$!
for _ in $(seq 50); do [ -s "$B/lt.port" ] && break; sleep 0.1; done
for eng in native curl; do
  taskset -c 0 build/hornet --headless -f bench/healthz.yaml -H "http://127.0.0.1:$(cat "$B/lt.port")" \
    -u 4 -r 100 -t "${secs}s" --processes 1 --only-summary --no-db --loglevel WARNING \
    --http-engine "$eng" --json "$B/lt_$eng.json" >/dev/null 2>&1
  /usr/bin/python3 -c 'import json,sys
r=[x for x in json.load(open(sys.argv[1]))["stats"] if x["name"]=="/healthz"][0]
p=r["response_time_percentiles"]
print("latency, %s engine, 20 ms injected: p50 %.2f ms, p99 %.2f ms over %d requests (goal: p50 within 1 ms)"
      % (sys.argv[2], p["50%"], p["99%"], r["num_requests"]))' "$B/lt_$eng.json" "$eng"
done
kill "$LT" 2>/dev/null; wait "$LT" 2>/dev/null

# Idle memory: 5000 users, each one request then 60 s wait with its connection kept open. The
# target is the demo target with a 2 s delay so that every user's first request is in flight at
# once: each then holds its own keep-alive connection while it waits (curl's connection cache is
# sized to the user count).
rm -f "$B/dt.port"
taskset -c 1 build/deploy/demo-target/hornet-demo-target --port 0 --port-file "$B/dt.port" \
  --latency-ms 2000 2>"$B/dt.log" &
DT=$!
trap 'kill $NGINX $DT 2>/dev/null; wait $NGINX $DT 2>/dev/null; rm -rf "$B"' EXIT
for _ in $(seq 50); do [ -s "$B/dt.port" ] && break; sleep 0.1; done
DURL="http://127.0.0.1:$(cat "$B/dt.port")"
idle_rss() { # idle_rss USERS ENGINE: worker VmRSS in KB once every user made its request
  taskset -c 0 build/hornet --headless -f bench/idle.yaml -H "$DURL" -u "$1" -r 5000 -t 60s --processes 1 \
    --only-summary --loglevel INFO --http-engine "$2" >/dev/null 2>"$B/idle.err" &
  local h=$! wpid kb
  for _ in $(seq 300); do grep -q "All users spawned" "$B/idle.err" && break; sleep 0.1; done
  sleep 8 # 2 s for the replies, then idle (the worker trims freed memory every 5 s)
  wpid=$(pgrep -P "$h" | head -1)
  kb=$(awk '/VmRSS/{print $2}' "/proc/$wpid/status")
  ss -tnH state established "( dport = :${DURL##*:} )" 2>/dev/null | wc -l >"$B/conns"
  kill -INT "$h"; wait "$h" 2>/dev/null
  echo "$kb"
}
for eng in ${IDLE_ENGINES:-curl native}; do
  base_kb=$(idle_rss 1 "$eng")
  for users in ${IDLE_USERS:-5000 20000}; do
    rss_kb=$(idle_rss "$users" "$eng")
    awk -v r="$rss_kb" -v b="$base_kb" -v u="$users" -v c="$(cat "$B/conns")" -v e="$eng" 'BEGIN{
      printf "idle, %s engine: %d users holding %d open connections: worker RSS %d KB (1 user: %d KB) = %.1f KiB per idle user (goal native <= 4; Locust FastHttpUser ~15)\n",
             e, u, c, r, b, (r-b)/u }'
  done
done
