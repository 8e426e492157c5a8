#!/usr/bin/env bash
# The cluster through real processes: an even split, a worker killed (noticed at once, its
# users moved), a worker and the master frozen (SIGSTOP) and thawed, a master killed and
# replaced: no load without a master, no double load, and the numbers reconcile.
. "$(dirname "$0")/../lib.sh"
SC="$SRC/tests/scenarios/it_cluster.yaml"
export HORNET_CLUSTER_SECRET=it-cluster-secret-0123456789

# start_master NAME ARGS...: a master on a free port; sets NAME_PID and NAME_PORT
start_master() {
  local name=$1; shift
  "$HORNET" --master --master-bind-host 127.0.0.1 "$@" >"$T/$name.out" 2>"$T/$name.err" &
  local pid=$!; PIDS+=("$pid")
  for _ in $(seq 100); do grep -q "Waiting for" "$T/$name.err" 2>/dev/null && break; sleep 0.05; done
  printf -v "${name}_PID" '%s' "$pid"
  printf -v "${name}_PORT" '%s' "$(sed -n 's/.*Waiting for [0-9]* workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/$name.err")"
}
# start_worker NAME PORT [flags]: a standalone worker; sets NAME_PID
start_worker() {
  local name=$1 port=$2; shift 2
  "$HORNET" --worker --master-host 127.0.0.1 --master-port "$port" "$@" 2>"$T/$name.err" &
  local pid=$!; PIDS+=("$pid")
  printf -v "${name}_PID" '%s' "$pid"
}
wait_log() { # wait_log FILE PATTERN SECONDS
  for _ in $(seq $(($3 * 20))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
received() { grep -c . "$1"; }
wait_count() { # wait_count FILE PATTERN N SECONDS: PATTERN appears N times
  for _ in $(seq $(($4 * 20))); do [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0; sleep 0.05; done
  return 1
}

# --- 1. 4 workers, weights 3:1, 100 users: 25 each, the mix even on every worker
start_target A --latency-ms 2 --log-requests "$T/a.log"
start_master M1 --master-bind-port 0 --expect-workers 4 -f "$SC" -H "http://127.0.0.1:$A_PORT" \
  -u 100 -r 200 -t 3s --no-db --csv "$T/m1/run"
for i in 1 2 3 4; do start_worker W1$i "$M1_PORT"; done
wait_pid "$M1_PID" 30 rc
check "4 workers: the run exits 0 (got $rc)" test "$rc" = 0
for i in 1 2 3 4; do
  line=$(grep -o "spawning complete: .*" "$T/W1$i.err" | head -1)
  n=$(echo "$line" | sed -n 's/.*Normal: \([0-9]*\), Heavy: \([0-9]*\).*/\1 \2/p')
  set -- $n
  check "worker $i runs 25 users, mix 18-19:6-7 ($line)" test "$(( ${1:-0} + ${2:-0} ))" = 25 -a "${1:-0}" -ge 18 -a "${1:-0}" -le 19
done
check "4 workers: reported = received" test "$(csv_get "$T/m1/run_stats.csv" Aggregated "Request Count")" = "$(received "$T/a.log")"

# --- 2. kill -9 a worker mid-run: missing within 1 s, its users move, the run finishes
start_target B --latency-ms 2 --log-requests "$T/b.log"
start_master M2 --master-bind-port 0 --expect-workers 3 -f "$SC" -H "http://127.0.0.1:$B_PORT" \
  -u 30 -r 100 -t 8s --no-db --csv "$T/m2/run" --heartbeat-timeout 10s
for i in 1 2 3; do start_worker W2$i "$M2_PORT"; done
wait_log "$T/M2.err" "All users spawned" 20
sleep 2
kill -9 "$W23_PID"; killed_at=$(date +%s%N)
wait_log "$T/M2.err" "is missing: its connection closed" 5
seen_at=$(date +%s%N)
ms=$(( (seen_at - killed_at) / 1000000 ))
check "kill -9: the master notices within 1 s (${ms} ms), not after the 10 s heartbeat timeout" test "$ms" -le 1000
check "kill -9: the survivors take all 30 users" wait_log "$T/W21.err" "spawning complete: 15 users" 5
wait_pid "$M2_PID" 30 rc
rep=$(csv_get "$T/m2/run_stats.csv" Aggregated "Request Count"); got=$(received "$T/b.log")
echo "# kill -9: reported $rep, the target received $got"
check "kill -9: the run exits 0 (got $rc)" test "$rc" = 0
check "kill -9: at most one second of the killed worker's requests is missing" \
  test "$got" -ge "$rep" -a $((got - rep)) -le 150

# --- 2b. SIGSTOP a worker 10 s: missing after the heartbeat timeout, its users move; on SIGCONT
# it is re-admitted with a share (the others shed theirs: no double load), its late deltas
# merged once
start_target E --latency-ms 2 --log-requests "$T/e.log"
start_master M6 --master-bind-port 0 --expect-workers 2 -f "$SC" -H "http://127.0.0.1:$E_PORT" \
  -u 10 -r 100 -t 18s --no-db --csv "$T/m6/run" --heartbeat-timeout 3s
for i in 1 2; do start_worker W6$i "$M6_PORT" --heartbeat-timeout 3s; done
wait_log "$T/M6.err" "All users spawned" 20
sleep 1
kill -STOP "$W62_PID"
check "worker frozen: missing after the heartbeat timeout" wait_log "$T/M6.err" "is missing: no message for 3 s" 8
check "worker frozen: the other runs all 10 users" wait_log "$T/W61.err" "spawning complete: 10 users" 5
sleep 4
kill -CONT "$W62_PID"
check "worker thawed: re-admitted" wait_log "$T/M6.err" "is back" 5
check "worker thawed: the others shed its share again" wait_count "$T/W61.err" "spawning 5 users" 2 5
wait_pid "$M6_PID" 40 rc
rep=$(csv_get "$T/m6/run_stats.csv" Aggregated "Request Count"); got=$(received "$T/e.log")
echo "# worker frozen 10 s: reported $rep, the target received $got"
check "worker frozen: the run exits 0 (got $rc)" test "$rc" = 0
check "worker frozen: every request received is reported once ($rep = $got)" test "$rep" = "$got"

# --- 3. SIGSTOP the master 10 s: workers stop their load within the heartbeat timeout, then
# rejoin and the run goes on; every request the target received is reported
start_target C --latency-ms 2 --log-requests "$T/c.log"
start_master M3 --master-bind-port 0 --expect-workers 2 -f "$SC" -H "http://127.0.0.1:$C_PORT" \
  -u 10 -r 100 -t 25s --no-db --csv "$T/m3/run" --heartbeat-timeout 3s
for i in 1 2; do start_worker W3$i "$M3_PORT" --heartbeat-timeout 3s; done
wait_log "$T/M3.err" "All users spawned" 20
sleep 2
kill -STOP "$M3_PID"
sleep 5 # the 3 s heartbeat timeout, and margin
c1=$(received "$T/c.log"); sleep 2; c2=$(received "$T/c.log")
check "master frozen: no load without a master ($c1 then $c2 requests)" test "$c1" = "$c2"
check "master frozen: the workers said so" grep -q "lost the master" "$T/W31.err"
sleep 3
kill -CONT "$M3_PID"
wait_log "$T/W31.err" "connected to master .* as worker #[2-9]" 10
c3=$(received "$T/c.log"); sleep 2; c4=$(received "$T/c.log")
check "master thawed: the workers rejoined and the load resumed ($c3 then $c4)" test "$c4" -gt "$c3"
wait_pid "$M3_PID" 40 rc
rep=$(csv_get "$T/m3/run_stats.csv" Aggregated "Request Count"); got=$(received "$T/c.log")
echo "# master frozen 10 s: reported $rep, the target received $got"
check "master frozen: the run exits 0 (got $rc)" test "$rc" = 0
check "master frozen: every request received is reported ($rep = $got)" test "$rep" = "$got"

# --- 4. kill -9 the master: standalone workers stop their load, keep running, and serve the
# next master on the same address
start_target D --latency-ms 2 --log-requests "$T/d.log"
start_master M4 --master-bind-port 0 --expect-workers 2 -f "$SC" -H "http://127.0.0.1:$D_PORT" \
  -u 10 -r 100 -t 60s --no-db --heartbeat-timeout 3s
for i in 1 2; do start_worker W4$i "$M4_PORT" --heartbeat-timeout 3s; done
wait_log "$T/M4.err" "All users spawned" 20
kill -9 "$M4_PID"
sleep 5
d1=$(received "$T/d.log"); sleep 2; d2=$(received "$T/d.log")
check "master killed: no load without a master ($d1 then $d2)" test "$d1" = "$d2"
check "master killed: the workers keep running" kill -0 "$W41_PID"
: >"$T/d.log"
start_master M5 --master-bind-port "$M4_PORT" --expect-workers 2 -f "$SC" \
  -H "http://127.0.0.1:$D_PORT" -u 10 -r 100 -t 3s --no-db --csv "$T/m5/run" --heartbeat-timeout 3s
wait_pid "$M5_PID" 40 rc
check "a new master on the same address: the waiting workers serve it (exit $rc)" test "$rc" = 0
check "a new master: both workers ran users again" test "$(grep -c "spawning complete: 5 users" "$T/W41.err")" -ge 2
check "a new master: reported = received" test "$(csv_get "$T/m5/run_stats.csv" Aggregated "Request Count")" = "$(received "$T/d.log")"
# --- 4b. Rogue peers against a keyed master: one that takes a live worker's node id and claims
# 3 000 000 requests, one that sends a 64 MiB message; the run goes on and its numbers are the
# target's
start_target R --latency-ms 2 --log-requests "$T/r.log"
start_master M7 --master-bind-port 0 --expect-workers 1 -f "$SC" -H "http://127.0.0.1:$R_PORT" \
  -u 4 -r 100 -t 5s --no-db --csv "$T/m7/run"
start_worker W71 "$M7_PORT"
wait_log "$T/M7.err" "All users spawned" 20
wid=$(sed -n 's/.*INFO\/worker \([^:]*\): connected to master.*/\1/p' "$T/W71.err" | head -1)
"$FAKE_PEER" impostor 127.0.0.1 "$M7_PORT" "$wid" >"$T/imp.out" 2>&1
"$FAKE_PEER" huge 127.0.0.1 "$M7_PORT" >"$T/huge.out" 2>&1
wait_pid "$M7_PID" 30 rc
rep=$(csv_get "$T/m7/run_stats.csv" Aggregated "Request Count"); got=$(received "$T/r.log")
echo "# rogue peers: reported $rep, the target received $got (an impostor of $wid claimed 3000000)"
check "rogue peers: the run exits 0 (got $rc)" test "$rc" = 0
check "rogue peers: the impostor's 3 000 000 requests are not in the results" test "$rep" = "$got"
check "rogue peers: the impostor got no spawn (one split only)" test "$(grep -c "spawning" "$T/W71.err")" -le 2

# --- 4c. Key files: a master admits only the workers whose public key it lists (ZAP); a
# worker with a key of its own that is not listed is refused at the handshake and says so; a
# peer without keys never gets an ack; the run's numbers are the target's
K="$T/keys"; mkdir -p "$K"
for n in master w1 w2; do "$HORNET" keygen "$K/$n" >"$K/$n.out" 2>&1; done
check "keygen: NAME.key is private (mode $(stat -c %a "$K/w1.key"))" test "$(stat -c %a "$K/w1.key")" = 600
"$HORNET" keygen "$K/w1" >/dev/null 2>"$K/again.err"; krc=$?
check "keygen: refuses to replace a key (exit $krc)" test "$krc" = 2
check "keygen: says the file exists" grep -q "already exists" "$K/again.err"
cat "$K/w1.pub" >"$K/allowed"
start_target K --latency-ms 2 --log-requests "$T/k.log"
(unset HORNET_CLUSTER_SECRET; exec "$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 \
  --master-key "$K/master.key" --worker-keys "$K/allowed" --expect-workers 1 -f "$SC" \
  -H "http://127.0.0.1:$K_PORT" -u 4 -r 100 -t 4s --no-db --csv "$T/m9/run") >"$T/M9.out" 2>"$T/M9.err" &
M9_PID=$!; PIDS+=("$M9_PID")
for _ in $(seq 100); do grep -q "Waiting for" "$T/M9.err" 2>/dev/null && break; sleep 0.05; done
M9_PORT=$(sed -n 's/.*Waiting for [0-9]* workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/M9.err")
(unset HORNET_CLUSTER_SECRET; exec "$FAKE_PEER" old-worker 127.0.0.1 "$M9_PORT") >"$T/plain.out" 2>&1 & FP9=$!; PIDS+=("$FP9")
(unset HORNET_CLUSTER_SECRET; exec "$HORNET" --worker --master-host 127.0.0.1 --master-port "$M9_PORT" \
  --worker-key "$K/w2.key" --master-public-key "$K/master.pub") 2>"$T/W92.err" & W92=$!; PIDS+=("$W92")
wait_pid "$W92" 15 w2rc
check "an unlisted worker key: refused at once, exit 4 (got $w2rc)" test "$w2rc" = 4
check "an unlisted worker key: the worker says why" grep -q "did not accept this worker's key" "$T/W92.err"
w2key=$(sed -n 's/public-key = "\(.*\)"/\1/p' "$K/w2.pub")
check "an unlisted worker key: the master names the key" grep -qF "its public key $w2key is not in --worker-keys" "$T/M9.err"
(unset HORNET_CLUSTER_SECRET; exec "$HORNET" --worker --master-host 127.0.0.1 --master-port "$M9_PORT" \
  --worker-key "$K/w1.key" --master-public-key "$K/master.pub") 2>"$T/W91.err" & W91=$!; PIDS+=("$W91")
wait_pid "$M9_PID" 30 rc
wait_pid "$FP9" 15 fprc
rep=$(csv_get "$T/m9/run_stats.csv" Aggregated "Request Count"); got=$(received "$T/k.log")
check "keys: the listed worker ran the run, exit 0 (got $rc)" test "$rc" = 0
check "keys: reported = received ($rep = $got)" test "$rep" = "$got" -a "$got" -gt 0
check "keys: a peer without keys never got an ack" grep -q "no ack" "$T/plain.out"
check "keys: one worker joined" test "$(grep -c "connected; " "$T/M9.err")" = 1
"$HORNET" --master --master-key "$K/master.key" -f "$SC" >/dev/null 2>"$K/half.err"; hrc=$?
check "--master-key without --worker-keys: exit 2 (got $hrc), one line naming it" \
  test "$hrc" = 2 -a "$(wc -l <"$K/half.err")" = 1 -a -n "$(grep 'needs --worker-keys' "$K/half.err")"

# --- 4d. Scale: a master started with a soft open-file limit of 1024 still takes 1200 workers
# (it raises the limit to the hard one; libzmq would stall near 1009 otherwise)
if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 4096 ]; then
  (ulimit -Sn 1024; exec "$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 \
    --expect-workers 1200 --expect-workers-max-wait 60s -f "$SC" -u 1200 -r 100000 -t 4s \
    -H "http://127.0.0.1:1" --no-db --only-summary --heartbeat-timeout 30s) \
    >"$T/M8.out" 2>"$T/M8.err" &
  M8=$!; PIDS+=("$M8")
  for _ in $(seq 100); do grep -q "Waiting for" "$T/M8.err" 2>/dev/null && break; sleep 0.05; done
  M8_PORT=$(sed -n 's/.*Waiting for [0-9]* workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/M8.err")
  "$SIM_WORKERS" 127.0.0.1 "$M8_PORT" 1200 20 5 >"$T/sim.out" 2>&1 & SW=$!; PIDS+=("$SW")
  wait_pid "$M8" 60 rc
  wait_pid "$SW" 30 swrc
  echo "# $(cat "$T/sim.out")"
  check "soft limit 1024: all 1200 workers joined and ran (master exit $rc, sim $swrc)" \
    grep -q "All users spawned: .* (1200 total users)" "$T/M8.err"
else
  echo "# hard open-file limit below 4096 here: the 1200-worker case is skipped"
fi

# --- 4e. Past the hard open-file limit: the master says at start that it cannot hold them all,
# refuses the excess with a clear line (never a stall), and gives up after the wait (exit 4)
(ulimit -n 256; exec "$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 \
  --expect-workers 400 --expect-workers-max-wait 6s -f "$SC" -u 400 -r 100000 -t 2s \
  -H "http://127.0.0.1:1" --no-db --only-summary) >"$T/M10.out" 2>"$T/M10.err" &
M10=$!; PIDS+=("$M10")
for _ in $(seq 100); do grep -q "Waiting for" "$T/M10.err" 2>/dev/null && break; sleep 0.05; done
M10_PORT=$(sed -n 's/.*Waiting for [0-9]* workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/M10.err")
"$SIM_WORKERS" 127.0.0.1 "$M10_PORT" 400 8 5 >"$T/sim10.out" 2>&1 & SW10=$!; PIDS+=("$SW10")
wait_pid "$M10" 30 rc
wait_pid "$SW10" 30 swrc
check "hard limit 256, 400 workers: warned at start" grep -q "leaves room for about 192 workers, fewer than the 400 expected" "$T/M10.err"
check "hard limit 256, 400 workers: the limit reached is said" grep -q "the open-file limit is reached, further workers are refused" "$T/M10.err"
check "hard limit 256, 400 workers: the master gives up after the wait, exit 4 (got $rc)" test "$rc" = 4

# --- 5. Multi-host: the target, the master and two workers each in a network namespace of
# their own, joined by a bridge in another (addresses from 192.0.2.0/24, inside them only)
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "hnsw$$" 2>/dev/null; then
  NSS=("hnsw$$")
  nsdel() { for n in "${NSS[@]}"; do ip netns del "$n" 2>/dev/null; done; }
  trap 'cleanup; nsdel' EXIT
  ip netns exec "hnsw$$" ip link add br0 type bridge
  ip netns exec "hnsw$$" ip link set br0 up
  addr=1
  for node in tgt mst wa wb; do
    ns="hn${node}$$"; ip netns add "$ns"; NSS+=("$ns")
    ip link add "v$node$$" netns "$ns" type veth peer name "s$node$$" netns "hnsw$$"
    ip netns exec "hnsw$$" ip link set "s$node$$" master br0 up
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip addr add "192.0.2.$addr/24" dev "v$node$$"
    ip netns exec "$ns" ip link set "v$node$$" up
    addr=$((addr + 1))
  done
  ip netns exec "hntgt$$" "$DEMO_TARGET" --host 192.0.2.1 --port 8000 --latency-ms 2 \
    >"$T/ns_tgt.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 100); do ip netns exec "hnmst$$" curl -s -m 1 http://192.0.2.1:8000/__counts >/dev/null && break; sleep 0.1; done
  ip netns exec "hnmst$$" "$HORNET" --master --master-bind-host 192.0.2.2 --master-bind-port 5557 \
    --expect-workers 2 -f "$SC" -H http://192.0.2.1:8000 -u 20 -r 100 -t 30s --no-db \
    --heartbeat-timeout 3s --csv "$T/ns/run" >"$T/ns_m.out" 2>"$T/ns_m.err" &
  NM=$!; PIDS+=("$NM")
  for w in wa wb; do
    ip netns exec "hn$w$$" "$HORNET" --worker --master-host 192.0.2.2 --master-port 5557 \
      --heartbeat-timeout 3s 2>"$T/ns_$w.err" &
    PIDS+=("$!")
  done
  wait_log "$T/ns_m.err" "All users spawned" 20
  sleep 3
  # a 15 s partition of the control link: the master's link goes down, the target stays
  # reachable for the workers
  ip netns exec "hnmst$$" ip link set "vmst$$" down
  sleep 7
  p1=$(ip netns exec "hntgt$$" curl -s -m 3 http://192.0.2.1:8000/__counts | tr ',{}' '\n\n\n' | sed -n 's/^"total":\([0-9]*\)$/\1/p')
  sleep 2
  p2=$(ip netns exec "hntgt$$" curl -s -m 3 http://192.0.2.1:8000/__counts | tr ',{}' '\n\n\n' | sed -n 's/^"total":\([0-9]*\)$/\1/p')
  check "partition: no load without a master ($p1 then $p2 requests)" test -n "$p1" -a "$p1" = "$p2"
  sleep 6
  ip netns exec "hnmst$$" ip link set "vmst$$" up
  check "partition healed: the workers are back" wait_count "$T/ns_m.err" "connected; 2 connected" 2 15
  wait_pid "$NM" 60 rc
  rep=$(csv_get "$T/ns/run_stats.csv" Aggregated "Request Count")
  served=$(ip netns exec "hnmst$$" curl -s -m 3 http://192.0.2.1:8000/__counts | tr ',{}' '\n\n\n' | sed -n 's/^"total":\([0-9]*\)$/\1/p')
  echo "# multi-host with a 15 s partition: reported $rep, the target in its own namespace served $served"
  check "multi-host: the run exits 0 (got $rc)" test "$rc" = 0
  check "multi-host: both workers ran users" grep -q "spawning complete: 10 users" "$T/ns_wb.err"
  check "multi-host: counts reconcile across namespaces" test -n "$rep" -a "$rep" = "$served"
  check "multi-host: no warning about an open port (secret set)" eval '! grep -q "takes any peer" "$T/ns_m.err"'
else
  echo "# no network namespaces here (not root?): multi-host case skipped"
fi
finish
