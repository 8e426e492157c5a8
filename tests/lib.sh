# Shared helpers for the integration suites: start real processes on loopback, remember their
# PIDs, and end exactly those (by PID) when the test exits, however it exits.
# Needs HORNET and DEMO_TARGET (paths to the binaries) in the environment; CTest sets them.
set -u
: "${HORNET:?set HORNET to the hornet binary}"
: "${DEMO_TARGET:?set DEMO_TARGET to the hornet-demo-target binary}"
SRC=${SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
T=$(mktemp -d /tmp/hornet-it.XXXXXX)
cd "$T" || exit 1 # runs write hornet.db in their working directory: keep it per test
export HOME="$T" # and read ~/.hornet.conf: not the developer's
export HORNET_HEADLESS=true # runs start at once, as in CI; the web UI's tests unset it
PIDS=()
FAILS=0
PASSES=0

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  if [ "$FAILS" -eq 0 ]; then rm -rf "$T"; else echo "logs kept in $T"; fi
}
trap cleanup EXIT

ok()   { PASSES=$((PASSES + 1)); echo "ok   - $*"; }
bad()  { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
finish() { echo "$PASSES passed, $FAILS failed"; [ "$FAILS" -eq 0 ]; exit $?; }

# start_target NAME [flags...]: starts the demo target on a free port; sets NAME_PORT, NAME_PID.
start_target() {
  local name=$1; shift
  rm -f "$T/$name.port"
  "$DEMO_TARGET" --port 0 --port-file "$T/$name.port" "$@" >"$T/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 100); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
  [ -s "$T/$name.port" ] || { bad "demo target $name did not start"; cat "$T/$name.log"; finish; }
  printf -v "${name}_PORT" '%s' "$(cat "$T/$name.port")"
  printf -v "${name}_PID" '%s' "$pid"
}

# target_count PORT KEY: a number from the target's /__counts JSON ("total", "/healthz", "5xx").
target_count() {
  curl -s --max-time 5 "http://127.0.0.1:$1/__counts" | tr ',{}' '\n\n\n' |
    sed -n "s/^\"$2\":\([0-9]*\)$/\1/p"
}

# csv_get FILE NAME COLUMN: the COLUMN of the row whose Name is NAME (Locust CSV layout).
csv_get() {
  awk -F, -v name="$2" -v col="$3" '
    NR == 1 { sub(/\r$/, ""); for (i = 1; i <= NF; i++) idx[$i] = i; next }
    { sub(/\r$/, ""); if ($2 == name) { print $(idx[col]); exit } }' "$1"
}

# wait_pid PID SECONDS VAR: waits for a child of this shell and stores its exit code in VAR
# (124 if it outlived SECONDS and was killed).
wait_pid() {
  local pid=$1 limit=$2 i code=124
  for i in $(seq $((limit * 20))); do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; code=$?; break; fi
    sleep 0.05
  done
  [ "$code" = 124 ] && kill -9 "$pid" 2>/dev/null
  printf -v "$3" '%s' "$code"
}

# log_port FILE WHAT: waits (10 s at most) for the log line "WHAT http(s)://127.0.0.1:PORT" a
# master writes when its HTTP server listens, and prints PORT (nothing if it never came).
log_port() {
  local p
  for _ in $(seq 200); do
    p=$(sed -n "s|.*$2 https\{0,1\}://127.0.0.1:\([0-9]*\).*|\1|p" "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.05
  done
}

# within A B TOLERANCE: |A - B| <= TOLERANCE (floats)
within() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
between() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
