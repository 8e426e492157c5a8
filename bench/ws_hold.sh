#!/usr/bin/env bash
# One worker holding N open WebSocket sessions (default 10000) against the demo target: RSS per
# open connection (goal <= 4 KiB) and the worker's CPU while idle-holding. Generator on core 0,
# target on core 1. Usage: bench/ws_hold.sh [USERS]
set -u
cd "$(dirname "$0")/.."
users=${1:-10000}
bash scripts/build.sh >/dev/null || exit 1
B=$(mktemp -d /tmp/hornet-wsbench.XXXXXX)
ulimit -n "$(ulimit -Hn)" 2>/dev/null # each session is one descriptor on each side
taskset -c 1 build/deploy/demo-target/hornet-demo-target --port 0 --port-file "$B/port" \
  --latency-ms 1 2>"$B/target.log" &
T=$!
trap 'kill $T 2>/dev/null; wait $T 2>/dev/null; rm -rf "$B"' EXIT
for _ in $(seq 50); do [ -s "$B/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$B/port")"

measure() { # measure USERS: prints "rss_kb cpu_percent open_sessions"
  taskset -c 0 build/hornet --headless -f bench/ws_hold.yaml -H "$URL" -u "$1" -r 2000 -t 90s --processes 1 \
    --only-summary >/dev/null 2>"$B/h.err" &
  local h=$! w
  for _ in $(seq 600); do grep -q "All users spawned" "$B/h.err" && break; sleep 0.1; done
  sleep 10 # replies in, sessions idle
  w=$(pgrep -P "$h" | head -1)
  local t0 t1 kb open
  t0=$(awk '{print $14 + $15}' "/proc/$w/stat")
  sleep 10
  t1=$(awk '{print $14 + $15}' "/proc/$w/stat")
  kb=$(awk '/VmRSS/{print $2}' "/proc/$w/status")
  open=$(ss -tnH state established "( dport = :${URL##*:} )" 2>/dev/null | wc -l)
  kill -INT "$h"; wait "$h" 2>/dev/null
  awk -v k="$kb" -v a="$t0" -v b="$t1" -v o="$open" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%d %.2f %d\n", k, (b - a) / hz / 10 * 100, o }'
}
read -r base_kb _ _ < <(measure 1)
read -r kb cpu open < <(measure "$users")
awk -v k="$kb" -v b="$base_kb" -v u="$users" -v c="$cpu" -v o="$open" 'BEGIN {
  printf "ws idle: %d users, %d open sessions: worker RSS %d KB (1 user: %d KB) = %.1f KiB per open connection (goal <= 4); worker CPU while holding %.2f%% of a core\n",
         u, o, k, b, (k - b) / (o > 0 ? o : u), c }'
