#!/usr/bin/env bash
# How one master copes with many workers: N simulated load-free workers (tests/tools/
# sim_workers: the real protocol, CURVE, a 50-row stats delta per worker per second) join one
# master, which runs for SECONDS. Reports the master's CPU (% of one core, from /proc over the
# steady part), its peak RSS, how long the join took, and the largest gap between the master's
# heartbeats seen by any worker (1 s period: the excess bounds the master's lag).
# Usage: bench/master_scale.sh [SECONDS (20)] [N...] (default N: 1000 2000)
set -u
cd "$(dirname "$0")/.."
secs=${1:-20}; [ $# -gt 0 ] && shift
counts=${*:-1000 2000}
bash scripts/build.sh >/dev/null || exit 1
B=$(mktemp -d /tmp/hornet-scale.XXXXXX)
M=; S=
trap 'for p in $M $S; do kill "$p" 2>/dev/null; done; rm -rf "$B"' EXIT
export HORNET_CLUSTER_SECRET=master-scale-bench-secret
ulimit -n "$(ulimit -Hn)"
printf 'host: http://127.0.0.1:1\nusers:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n' >"$B/s.yaml"
ticks=$(getconf CLK_TCK)
for n in $counts; do
  build/hornet --headless --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers "$n" \
    --expect-workers-max-wait 120s -f "$B/s.yaml" -u "$n" -r 100000 -t "${secs}s" --no-db \
    --only-summary --heartbeat-timeout 30s >"$B/m.out" 2>"$B/m.err" &
  M=$!
  for _ in $(seq 100); do grep -q "Waiting for" "$B/m.err" && break; sleep 0.05; done
  port=$(sed -n 's/.*Waiting for [0-9]* workers on [^ ]*:\([0-9]*\) .*/\1/p' "$B/m.err")
  build/tests/sim_workers 127.0.0.1 "$port" "$n" $((secs + 40)) 50 >"$B/sim.out" 2>&1 &
  S=$!
  for _ in $(seq 1200); do grep -q "All users spawned" "$B/m.err" && break; sleep 0.1; done
  sleep 3 # past the join
  t0=$(awk '{print $14 + $15}' "/proc/$M/stat"); w0=$(date +%s%N)
  sleep $((secs / 2))
  t1=$(awk '{print $14 + $15}' "/proc/$M/stat"); w1=$(date +%s%N)
  rss=$(awk '/VmHWM/ {print $2}' "/proc/$M/status")
  wait "$M"; rc=$?
  wait "$S"
  cpu=$(awk -v a="$t0" -v b="$t1" -v t="$ticks" -v w0="$w0" -v w1="$w1" \
    'BEGIN { printf "%.1f", 100 * (b - a) / t / ((w1 - w0) / 1e9) }')
  echo "workers $n: master CPU ${cpu}% of one core, peak RSS $((rss / 1024)) MiB, exit $rc"
  echo "  $(cat "$B/sim.out")"
  M=; S=
done
