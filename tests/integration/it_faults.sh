#!/usr/bin/env bash
# Faults a load test provokes, through real processes: targets that refuse, blackhole, lie or
# send oversize WebSocket messages; signals to the process group; requests in flight at the
# stop; full disks, a locked or read-only history; hostile peers. Each case checks numbers and
# exit codes, and failed before the fixes it guards.
. "$(dirname "$0")/../lib.sh"
SC="$SRC/tests/scenarios/it_mix.yaml"
SCW="$SRC/tests/scenarios/it_ws.yaml"
CAN_ROOT=0; [ "$(id -u)" = 0 ] && CAN_ROOT=1

# run SECONDS ARGS...: runs hornet, sets RC, ERR (stderr) and OUT
run() {
  local limit=$1; shift
  timeout "$limit" "$HORNET" "$@" >"$T/out" 2>"$T/err"; RC=$?
  ERR=$(cat "$T/err"); OUT=$(cat "$T/out")
}
no_worker_died() { ! grep -q "its process exited" "$T/err"; }

# --- 1. Abandoning requests during their TCP connect never aborts the worker (5 of 5 crashed)
printf 'host: http://127.0.0.1:1\nusers:\n  - name: U\n    wait: {constant: 0}\n    tasks:\n      - {name: t, steps: [{http: {url: /x}}]}\n' >"$T/nowait.yaml"
crashes=0
for i in 1 2 3 4 5; do
  run 30 -f "$T/nowait.yaml" -u 1 -t 2s --no-db
  { [ "$RC" = 1 ] && no_worker_died && ! grep -q "never arrived" "$T/err"; } || crashes=$((crashes + 1))
done
check "refused target, no wait, stop at 2 s: 5 of 5 runs exit 1 with no worker crash ($crashes bad)" test "$crashes" = 0

# --- 2. Hostile HTTP replies: what is wrong, named the same way by both HTTP engines
start_target LIE --lie-path /healthz=http09 --lie-path /billing/usage=status9999 \
  --lie-path /chat/messages=bigheader
for eng in native curl; do
  run 30 -f "$SC" -H "http://127.0.0.1:$LIE_PORT" -u 2 -r 10 -t 2s --no-db --csv "$T/lie$eng/run" \
    --http-engine "$eng"
  F="$T/lie$eng/run_failures.csv"
  check "$eng: lying target: exit 1 (got $RC)" test "$RC" = 1
  check "$eng: HTTP/0.9 reply named" grep -q "GET,/healthz,Invalid HTTP response: not an HTTP/1.x status line," "$F"
  check "$eng: status 9999 named" grep -q "GET,/billing/usage,Invalid HTTP response: bad status code," "$F"
  check "$eng: 1 MiB header named (not 'Out of memory')" grep -q "POST,/chat/messages,Response headers too large," "$F"
done

# --- 3. A blackholed host (a network namespace whose route drops): connect timeouts are named,
# WebSocket users do not hang, the run ends on time
if [ "$CAN_ROOT" = 1 ] && command -v ip >/dev/null && ip netns add "hnf$$" 2>/dev/null; then
  NS="hnf$$"
  trap 'ip netns del "$NS" 2>/dev/null; cleanup' EXIT
  ip netns exec "$NS" sh -c 'ip link set lo up && ip link add v0 type veth peer name v1 &&
    ip addr add 192.0.2.1/24 dev v0 && ip link set v0 up && ip link set v1 up &&
    ip neigh add 192.0.2.2 lladdr 02:00:00:00:00:02 dev v0'
  start=$(date +%s)
  ip netns exec "$NS" timeout 40 "$HORNET" -f "$SC" -H http://192.0.2.2:80 -u 2 -r 10 -t 4s \
    --connect-timeout 1s --no-db --csv "$T/bh/run" >"$T/out" 2>"$T/err"; RC=$?
  took=$(( $(date +%s) - start ))
  check "blackholed HTTP: exit 1 in time (rc $RC, ${took}s)" test "$RC" = 1 -a "$took" -le 15
  check "blackholed HTTP: 'Connect timeout after 1000 ms', not the request timeout" \
    grep -q ",Connect timeout after 1000 ms," "$T/bh/run_failures.csv"
  check "blackholed HTTP: no worker crash" no_worker_died
  sed 's/              max_message_bytes/              timeout: 1500ms\n              max_message_bytes/' "$SCW" >"$T/wsto.yaml"
  start=$(date +%s)
  ip netns exec "$NS" timeout 40 "$HORNET" -f "$T/wsto.yaml" -H http://192.0.2.2:80 -u 1 -t 5s \
    --no-db --csv "$T/bhw/run" >"$T/out" 2>"$T/err"; RC=$?
  took=$(( $(date +%s) - start ))
  n=$(csv_get "$T/bhw/run_stats.csv" "connect /ws/chat" "Failure Count")
  check "blackholed WebSocket: exit 1 in time (rc $RC, ${took}s)" test "$RC" = 1 -a "$took" -le 15
  check "blackholed WebSocket: the step's timeout: 1500ms is honoured and named" \
    grep -q ",Connect timeout after 1500 ms," "$T/bhw/run_failures.csv"
  check "blackholed WebSocket: the user retries, it does not hang ($n connects in 5 s)" test "${n:-0}" -ge 3
  ip netns del "$NS"
else
  echo "# no network namespaces here (not root?): blackhole cases skipped"
fi

# --- 4. WebSocket messages over max_message_bytes (1 MiB): a counted failure and a 1009 close,
# never a crash, whole or fragmented
for spec in "1048577" "2097152" "67108864" "2097152 --ws-fragment-bytes 65536"; do
  set -- $spec
  size=$1; shift
  start_target WSBIG --ws-reply-bytes "$size" "$@"
  run 60 -f "$SCW" -H "http://127.0.0.1:$WSBIG_PORT" -u 1 -t 2s --no-db --csv "$T/wsbig/run"
  closes=$(target_count "$WSBIG_PORT" ws_toobig_closes)
  normal=$(target_count "$WSBIG_PORT" ws_normal_closes)
  sessions=$(target_count "$WSBIG_PORT" ws_connections)
  check "ws reply of $size bytes $*: exit 1, no crash (rc $RC)" test "$RC" = 1
  check "ws reply of $size bytes $*: counted as too large" \
    grep -q ",message /ws/chat,message larger than 1048576 bytes," "$T/wsbig/run_failures.csv"
  check "ws reply of $size bytes $*: sessions close with 1009 ($closes, and $normal with 1000 at the stop, of $sessions)" \
    test "${closes:-0}" -ge 1 -a $((closes + normal)) = "$sessions"
  kill "$WSBIG_PID"
done
start_target WSFRAG --ws-reply-bytes 524288 --ws-fragment-bytes 65536
run 30 -f "$SCW" -H "http://127.0.0.1:$WSFRAG_PORT" -u 1 -t 2s --no-db
check "a fragmented 512 KiB message under the cap is joined and matched (rc $RC)" test "$RC" = 0

# --- 5. Terminal Ctrl-C (SIGINT to the process group) and timeout's SIGTERM in local mode: the
# master alone stops the run, the numbers are complete, the exit code comes from the results
for how in INT TERM; do
  start_target SIG$how --latency-ms 5
  port_var="SIG${how}_PORT"; port=${!port_var}
  setsid "$HORNET" -f "$SC" -H "http://127.0.0.1:$port" -u 10 -r 100 -t 60s --processes 2 \
    --csv "$T/sig$how/run" --html "$T/sig$how/r.html" >"$T/sig.out" 2>"$T/sig$how.err" &
  M=$!; PIDS+=("$M")
  for _ in $(seq 200); do grep -q "All users spawned" "$T/sig$how.err" 2>/dev/null && break; sleep 0.05; done
  sleep 1
  kill -"$how" -- -"$M"
  wait_pid "$M" 30 rc
  reported=$(csv_get "$T/sig$how/run_stats.csv" Aggregated "Request Count")
  served=$(target_count "$port" total)
  check "SIG$how to the group: exit 0 from the results (got $rc)" test "$rc" = 0
  check "SIG$how to the group: no 'final stats never arrived'" eval '! grep -q "never arrived" "$T/sig$how.err"'
  check "SIG$how to the group: the HTML report is written" test -s "$T/sig$how/r.html"
  check "SIG$how to the group: reported $reported = served $served" test "$reported" = "$served"
done

# --- 6. A standalone worker sent SIGTERM mid-run stops its users gracefully and sends its final
# delta before leaving: nothing is missing, nothing fails
start_target STW --latency-ms 5 --log-requests "$T/stw.log"
"$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 2 \
  -f "$SC" -H "http://127.0.0.1:$STW_PORT" -u 6 -r 100 -t 5s --no-db --csv "$T/stw/run" \
  >"$T/stw.out" 2>"$T/stw.err" &
M=$!; PIDS+=("$M")
for _ in $(seq 100); do grep -q "Waiting for" "$T/stw.err" 2>/dev/null && break; sleep 0.05; done
MPORT=$(sed -n 's/.*Waiting for 2 workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/stw.err")
"$HORNET" --worker --master-host 127.0.0.1 --master-port "$MPORT" 2>"$T/stw1.err" & W1=$!; PIDS+=("$W1")
"$HORNET" --worker --master-host 127.0.0.1 --master-port "$MPORT" 2>"$T/stw2.err" & W2=$!; PIDS+=("$W2")
for _ in $(seq 200); do grep -q "All users spawned" "$T/stw.err" 2>/dev/null && break; sleep 0.05; done
sleep 1
kill -TERM "$W1"
wait_pid "$W1" 15 w1rc
wait_pid "$M" 30 rc
reported=$(csv_get "$T/stw/run_stats.csv" Aggregated "Request Count")
received=$(grep -c . "$T/stw.log")
check "worker SIGTERM: it exits 130 (got $w1rc), the run 0 (got $rc)" test "$w1rc" = 130 -a "$rc" = 0
check "worker SIGTERM: its users moved to the other worker" grep -q "spawning complete: 6 users" "$T/stw2.err"
check "worker SIGTERM: reported $reported = received by the target $received" test "$reported" = "$received"

# --- 7. Requests in flight at the stop: they finish within --stop-timeout, or are counted as
# interrupted; never dropped (10 of 30 were reported before)
start_target SLOW --latency-ms 3000 --log-requests "$T/slow.log"
run 60 -f "$SC" -H "http://127.0.0.1:$SLOW_PORT" -u 10 -r 100 -t 4s --stop-timeout 1s \
  --processes 2 --no-db --csv "$T/fl1/run"
sent=$(grep -c . "$T/slow.log")
reported=$(csv_get "$T/fl1/run_stats.csv" Aggregated "Request Count")
interrupted=$(awk -F, '/Interrupted: no response before the stop timeout/ {n += $NF} END {print n + 0}' "$T/fl1/run_failures.csv")
check "stop timeout 1 s, 3 s replies: every request sent is reported ($reported of $sent)" test "$reported" = "$sent"
check "stop timeout 1 s: the cut ones are interrupted failures ($interrupted), exit 1 ($RC)" \
  test "$interrupted" -ge 1 -a "$RC" = 1
: >"$T/slow.log"
run 60 -f "$SC" -H "http://127.0.0.1:$SLOW_PORT" -u 10 -r 100 -t 4s --stop-timeout 5s \
  --processes 2 --no-db --csv "$T/fl5/run"
sent=$(grep -c . "$T/slow.log")
reported=$(csv_get "$T/fl5/run_stats.csv" Aggregated "Request Count")
check "stop timeout 5 s: requests in flight finish and count ($reported of $sent), exit 0 ($RC)" \
  test "$reported" = "$sent" -a "$RC" = 0

# --- 8. Outputs that cannot be written: named, exit 6, never "CSV written"
start_target OUT --latency-ms 5
if [ "$CAN_ROOT" = 1 ] && mkdir -p "$T/full" && mount -t tmpfs -o size=64k tmpfs "$T/full" 2>/dev/null; then
  dd if=/dev/zero of="$T/full/filler" bs=1k count=56 2>/dev/null
  run 30 -f "$SC" -H "http://127.0.0.1:$OUT_PORT" -u 10 -r 100 -t 4s --csv "$T/full/run" \
    --csv-full-history --no-db
  umount "$T/full"
  check "full disk under --csv: exit 6 (got $RC)" test "$RC" = 6
  check "full disk under --csv: the file is named" grep -q "cannot write $T/full/run_" "$T/err"
  check "full disk under --csv: no 'CSV written'" eval '! grep -q "CSV written" "$T/err"'
else
  echo "# no tmpfs mount here: full-disk CSV case skipped"
fi
run 10 -f "$SC" -H "http://127.0.0.1:$OUT_PORT" -u 1 -t 30s --json "/proc/nope/x.json"
check "unusable --json: exit 2 before any load (got $RC)" test "$RC" = 2
check "unusable --json: one line naming it" test "$ERR" = "hornet: --json /proc/nope/x.json: cannot create its folder: No such file or directory"
run 10 -f "$SC" -H "http://127.0.0.1:$OUT_PORT" -u 1 -t 30s --db "$T"
check "--db naming a folder: exit 2, one line (got $RC: $ERR)" test "$RC" = 2 -a "$ERR" = "hornet: --db $T: cannot write there: is a folder"

# --- 9. The history survives another writer holding the lock for 5 s, and is readable when
# read-only
DB="$T/lock.db"
"$HORNET" -f "$SC" -H "http://127.0.0.1:$OUT_PORT" -u 4 -r 100 -t 10s --only-summary --db "$DB" \
  >"$T/lk.out" 2>"$T/lk.err" &
M=$!; PIDS+=("$M")
for _ in $(seq 200); do grep -q "All users spawned" "$T/lk.err" 2>/dev/null && break; sleep 0.05; done
sleep 2
(echo "BEGIN EXCLUSIVE; INSERT INTO events VALUES (0, 0, 'lock', 'held');"; sleep 5; echo "ROLLBACK;") | sqlite3 "$DB"
wait_pid "$M" 30 rc
check "locked history: the run exits 0 (got $rc)" test "$rc" = 0
check "locked history: retried, then recovered" grep -q "the database accepts writes again" "$T/lk.err"
check "locked history: the run is finished, not aborted" test "$(sqlite3 "$DB" "SELECT status FROM runs;")" = finished
isum=$(sqlite3 "$DB" "SELECT SUM(requests) FROM intervals WHERE name='Aggregated' AND type='';")
fsum=$(sqlite3 "$DB" "SELECT requests FROM final_stats WHERE name='Aggregated' AND type='';")
check "locked history: every second kept (intervals $isum = final $fsum)" test -n "$isum" -a "$isum" = "$fsum"
if [ "$CAN_ROOT" = 1 ] && id nobody >/dev/null 2>&1; then
  mkdir -p "$T/ro" && cp "$DB" "$T/ro/h.db" && chmod 444 "$T/ro/h.db" && chmod 555 "$T/ro" && chmod 755 "$T"
  su nobody -s /bin/sh -c "'$HORNET' runs --db '$T/ro/h.db'" >"$T/ro.out" 2>"$T/ro.err"; rc=$?
  check "read-only history: hornet runs works (rc $rc)" test "$rc" = 0
  check "read-only history: lists the finished run" grep -q finished "$T/ro.out"
  check "read-only history: nothing created beside it" test "$(ls "$T/ro")" = h.db
else
  echo "# not root: read-only history case skipped"
fi

# --- 10. Hostile peers: a stranger cannot make a master with a cluster secret hold 600 MB; junk
# is dropped with a bounded number of log lines; a worker with the wrong secret says why
export HORNET_CLUSTER_SECRET=it-faults-secret-0123456789
"$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 1 \
  --expect-workers-max-wait 30s -f "$SC" -t 5s --no-db >"$T/pm.out" 2>"$T/pm.err" &
PM=$!; PIDS+=("$PM")
for _ in $(seq 100); do grep -q "Waiting for" "$T/pm.err" 2>/dev/null && break; sleep 0.05; done
PMPORT=$(sed -n 's/.*Waiting for 1 workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/pm.err")
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$PM/status")
"$FAKE_PEER" bloat 127.0.0.1 "$PMPORT" >"$T/bloat.out" 2>&1 & FB=$!; PIDS+=("$FB")
peak=$rss0
while kill -0 "$FB" 2>/dev/null; do
  r=$(awk '/VmRSS/ {print $2}' "/proc/$PM/status"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.1
done
echo "# master RSS $rss0 kB before, $peak kB at most while a stranger sent 40 x 15 MiB frames"
check "a stranger's 600 MB of frames: the master grows under 20 MB" test $((peak - rss0)) -lt 20480
HORNET_CLUSTER_SECRET=not-the-right-secret-42 timeout 20 "$HORNET" --worker --master-host 127.0.0.1 \
  --master-port "$PMPORT" --master-connect-timeout 2s >"$T/ww.out" 2>"$T/ww.err"; rc=$?
check "wrong cluster secret: the worker gives up with exit 4 (got $rc)" test "$rc" = 4
check "wrong cluster secret: says the secret may differ" grep -q "cluster secret or key differs" "$T/ww.err"
"$FAKE_PEER" old-worker 127.0.0.1 "$PMPORT" >"$T/fp.out" 2>&1
check "a peer with the secret is heard (old protocol refused)" grep -q "refused: protocol version 99" "$T/fp.out"
kill -INT "$PM"; wait_pid "$PM" 10 pmrc
unset HORNET_CLUSTER_SECRET
"$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 2 \
  --expect-workers-max-wait 30s -f "$SC" -t 5s --no-db >"$T/fl.out" 2>"$T/fl.err" &
PM=$!; PIDS+=("$PM")
for _ in $(seq 100); do grep -q "Waiting for" "$T/fl.err" 2>/dev/null && break; sleep 0.05; done
PMPORT=$(sed -n 's/.*Waiting for 2 workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/fl.err")
"$FAKE_PEER" flood 127.0.0.1 "$PMPORT" >/dev/null 2>&1
"$FAKE_PEER" garbage 127.0.0.1 "$PMPORT" >"$T/fg.out" 2>&1; grc=$?
kill -INT "$PM"; wait_pid "$PM" 10 pmrc
lines=$(grep -c "dropped a message" "$T/fl.err")
check "20 000 junk frames: the master still acks a proper worker (rc $grc)" test "$grc" = 0
check "20 000 junk frames: at most a few dozen log lines ($lines)" test "$lines" -ge 1 -a "$lines" -le 60
check "junk in log lines is escaped: no raw control characters" eval '! grep -q "$(printf "\\x1b")" "$T/fl.err"'

# --- 11. Wrong input refused in one line before anything starts
mkfifo "$T/fifo"
run 10 -f "$T/fifo" --check
check "-f naming a FIFO: exit 3 at once, one line (rc $RC)" test "$RC" = 3 -a "$ERR" = "hornet: $T/fifo: cannot open scenario file: not a regular file"
run 10 -f "$SC" -H "http://[::1" -t 1s
check "-H http://[::1: exit 2, one line" test "$RC" = 2 -a "$ERR" = "hornet: -H: the IPv6 address has no closing ']', got 'http://[::1'"
printf 'host: http://127.0.0.1:99999\nusers:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n' >"$T/badhost.yaml"
run 10 -f "$T/badhost.yaml" -t 1s
check "scenario host with port 99999: exit 3, one line naming file:line" \
  test "$RC" = 3 -a "$ERR" = "hornet: $T/badhost.yaml:1:7: host: port 99999 is out of range (1 to 65535), got 'http://127.0.0.1:99999'"
HORNET_HOST="http://exa mple.com" timeout 10 "$HORNET" -f "$SC" -t 1s >"$T/out" 2>"$T/err"; RC=$?
check "HORNET_HOST malformed: exit 2 (got $RC)" test "$RC" = 2
check "HORNET_HOST malformed: the line names the variable" grep -q "^hornet: HORNET_HOST: " "$T/err"
run 10 -f "$SC" -t 1s1s1s
check "-t 1s1s1s: exit 2" test "$RC" = 2
run 10 -f "$SC" --csv ''
check "--csv '': exit 2" test "$RC" = 2
finish
