#!/usr/bin/env bash
# WebSocket users through real processes against the demo target: messages reconcile, message
# latency matches the injected reply delay, and faults (server closes, silence, refused
# connections, refused upgrades) are counted failures with readable reasons, never a crash.
. "$(dirname "$0")/../lib.sh"
SC="$SRC/tests/scenarios/it_ws.yaml"

start_target TGT --latency-ms 50 --ws-chunks 2
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 10 -r 100 -t 5s --processes 2 \
  --csv "$T/ok/run" >"$T/ok.out" 2>"$T/ok.err"; rc=$?
check "a clean WebSocket run exits 0 (got $rc)" test "$rc" = 0
S="$T/ok/run_stats.csv"
sent=$(awk -F, '$2=="session /ws/chat"{print $3}' "$T/ok/run_messages.csv")
got=$(target_count "$TGT_PORT" ws_messages)
echo "# hornet sent $sent messages, the target received $got"
check "messages the target received == messages hornet sent" test -n "$sent" -a "$sent" = "$got"
p50=$(csv_get "$S" "message /ws/chat" "50%")
echo "# message latency p50 $p50 ms with a 50 ms reply delay (2 partial chunks first)"
check "message p50 within 5 ms of the 50 ms reply delay (ASan on a busy 2-core machine adds 2-3)" between "$p50" 50 55
conns=$(csv_get "$S" "connect /ws/chat" "Request Count"); served=$(target_count "$TGT_PORT" ws_connections)
check "connections reconcile ($conns reported, $served accepted)" test "$served" -ge "$conns" -a $((served - conns)) -le 10
check "sessions are rows too" test "$(csv_get "$S" "session /ws/chat" "Request Count")" -gt 0
check "streamed partial chunks were skipped, not matched" test "$(csv_get "$S" "message /ws/chat" "Failure Count")" = 0

# Users stopped while holding their sessions close them with 1000 (Normal Closure).
start_target HOLD --latency-ms 5
WS_HOLD=60s "$HORNET" -f "$SC" -H "http://127.0.0.1:$HOLD_PORT" -u 6 -r 100 -t 2s \
  --csv "$T/hold/run" >"$T/hold.out" 2>"$T/hold.err"; rc=$?
check "stopping holders exits 0 (got $rc)" test "$rc" = 0
closes=$(target_count "$HOLD_PORT" ws_normal_closes); opened=$(target_count "$HOLD_PORT" ws_connections)
echo "# $opened sessions opened, $closes closed with 1000"
check "every held session was closed with 1000 at the stop" test "$opened" = 6 -a "$closes" = 6
check "stopped sessions count as sessions" test "$(csv_get "$T/hold/run_stats.csv" "session /ws/chat" "Request Count")" = 6

start_target DROP --latency-ms 5 --ws-close-after 1
"$HORNET" -f "$SC" -H "http://127.0.0.1:$DROP_PORT" -u 4 -r 100 -t 3s --csv "$T/drop/run" \
  >"$T/drop.out" 2>"$T/drop.err"; rc=$?
check "server closing mid-flow: exit 1, no crash (got $rc)" test "$rc" = 1
check "the waiting message fails as closed by server, code 1011" grep -q "^WS,message /ws/chat,\"closed by server, code 1011\"," "$T/drop/run_failures.csv"
check "the session fails the same way" grep -q "^WS,session /ws/chat,\"closed by server, code 1011\"," "$T/drop/run_failures.csv"

start_target BIG --latency-ms 5 --ws-reply-bytes 4096
WS_MAX=1024 "$HORNET" -f "$SC" -H "http://127.0.0.1:$BIG_PORT" -u 2 -r 100 -t 2s \
  --csv "$T/big/run" >"$T/big.out" 2>"$T/big.err"; rc=$?
check "an oversize message: exit 1, no crash (got $rc)" test "$rc" = 1
check "the session fails naming the cap" grep -q "^WS,session /ws/chat,message larger than 1024 bytes," "$T/big/run_failures.csv"
check "and the pending expect fails too" grep -q "^WS,message /ws/chat,message larger than 1024 bytes," "$T/big/run_failures.csv"

start_target MUTE --ws-no-reply
"$HORNET" -f "$SC" -H "http://127.0.0.1:$MUTE_PORT" -u 2 -r 100 -t 4s --csv "$T/mute/run" \
  >"$T/mute.out" 2>"$T/mute.err"; rc=$?
check "a silent server: exit 1 (got $rc)" test "$rc" = 1
check "the expect times out with its description" grep -q "^WS,message /ws/chat,no reply matching \$.type == agent_response within 2000 ms," "$T/mute/run_failures.csv"

"$HORNET" -f "$SC" -H "http://127.0.0.1:1" -u 2 -r 100 -t 2s --csv "$T/refused/run" \
  >"$T/refused.out" 2>"$T/refused.err"; rc=$?
check "refused connection: exit 1 (got $rc)" test "$rc" = 1
check "refused connection: counted on the connect row" grep -q "^WS,connect /ws/chat,Connection refused or closed before the handshake," "$T/refused/run_failures.csv"

"$HORNET" -f "$SRC/tests/scenarios/it_ws_bad.yaml" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 100 \
  -t 2s --csv "$T/404/run" >"$T/404.out" 2>"$T/404.err"; rc=$?
check "refused upgrade: exit 1 (got $rc)" test "$rc" = 1
check "refused upgrade: HTTP 404 on upgrade" grep -q "^WS,connect /ws/nope,HTTP 404 on upgrade," "$T/404/run_failures.csv"
finish
