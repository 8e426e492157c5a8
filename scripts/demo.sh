#!/usr/bin/env bash
# The main job, end to end on loopback: build, start the bundled demo target, a master and two
# worker processes, run the default scenario (scenarios/aiaas.yaml) headless for 30 s and leave
# Locust-compatible CSV files under reports/. Every process started here is stopped here.
# Usage: scripts/demo.sh [extra hornet flags, e.g. -t 1m -u 50]
set -u
cd "$(dirname "$0")/.."
bash scripts/build.sh || exit $?
mkdir -p reports
run=$(mktemp -d /tmp/hornet-demo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$run"; }
trap cleanup EXIT

build/deploy/demo-target/hornet-demo-target --port 0 --port-file "$run/port" \
  --latency-ms 20 --jitter-ms 10 --fail-ratio 0.1 --fail-path /billing/usage \
  --require-auth --invoice-ms 300 --ws-chunks 3 2>"$run/target.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$run/port" ] && break; sleep 0.05; done
[ -s "$run/port" ] || { echo "demo: the demo target did not start:"; cat "$run/target.log"; exit 5; }
host="http://127.0.0.1:$(cat "$run/port")"
echo "demo: target $host (20±10 ms latency, 10% failures on /billing/usage)"

# the master and its workers share a cluster secret: their links are authenticated and encrypted
HORNET_CLUSTER_SECRET=${HORNET_CLUSTER_SECRET:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
export HORNET_CLUSTER_SECRET
build/hornet --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 2 \
  -f scenarios/aiaas.yaml -H "$host" -u 40 -r 10 -t 30s --headless --csv reports/aiaas \
  --db reports/hornet.db --html reports/aiaas.html "$@" \
  2> >(tee "$run/master.log" >&2) &
master=$!
pids+=($master)
for _ in $(seq 200); do grep -q "Waiting for" "$run/master.log" 2>/dev/null && break; sleep 0.05; done
port=$(sed -n 's/.*Waiting for [0-9]* workers on [^ ]*:\([0-9]*\) .*/\1/p' "$run/master.log")
[ -n "$port" ] || { echo "demo: the master did not start"; wait "$master"; exit $?; }
for i in 1 2; do
  build/hornet --worker --master-host 127.0.0.1 --master-port "$port" 2>"$run/worker$i.log" &
  pids+=($!)
done
wait "$master"
rc=$?
echo "demo: master exit code $rc (1 = some requests failed, as the target injects failures)"
echo "demo: target says: $(curl -s --max-time 3 "$host/__counts" 2>/dev/null || echo unavailable)"
ls -l reports/aiaas_*.csv reports/aiaas.html
build/hornet runs --db reports/hornet.db | head -5
# Failures are injected on purpose, so exit code 1 is the expected outcome of the demo.
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]
