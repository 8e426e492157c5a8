#!/usr/bin/env bash
# Wrong input and unreachable peers: one line naming the cause, a documented exit code, no hang.
. "$(dirname "$0")/../lib.sh"

run() { # run SECONDS ARGS...: runs hornet, sets RC, OUT, ERR
  local limit=$1; shift
  timeout "$limit" "$HORNET" "$@" >"$T/out" 2>"$T/err"; RC=$?
  ERR=$(cat "$T/err"); OUT=$(cat "$T/out")
}
one_line() { test "$(printf '%s\n' "$ERR" | grep -c .)" = 1; }

run 10 --bogus
check "unknown flag: exit 2 (got $RC)" test "$RC" = 2
check "unknown flag: one line naming it" one_line
check "unknown flag: message" grep -q "unknown flag '--bogus'" "$T/err"

run 10 -u lots
check "bad value: exit 2, names the flag" test "$RC" = 2 -a "$ERR" = "hornet: -u: expected a whole number from 0 to 10000000, got 'lots'"

run 10 -f "$T/nope.yaml" --headless -t 1s
check "missing file: exit 3 (got $RC)" test "$RC" = 3
check "missing file: one line" test "$ERR" = "hornet: $T/nope.yaml: cannot open scenario file: No such file or directory"

printf 'host: http://127.0.0.1:1\nusers:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]\n' > "$T/bad.yaml"
run 10 -f "$T/bad.yaml" --headless -t 1s
check "malformed YAML: exit 3 (got $RC)" test "$RC" = 3
check "malformed YAML: file:line:col" one_line
check "malformed YAML: names the place" grep -q "bad.yaml:5:1: yaml: " "$T/err"

printf 'users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /, metod: GET}}]}]\n' > "$T/typo.yaml"
run 10 -f "$T/typo.yaml" --headless -t 1s
check "typo: exit 3 with a suggestion" test "$RC" = 3 -a "$ERR" = "hornet: $T/typo.yaml:3:47: users[0].tasks[0].steps[0].http: unknown key 'metod' (did you mean 'method'?)"

printf 'users:\n  - name: U\n    tasks: [{name: t, steps: [{http: {url: /}}]}]\n' > "$T/nohost.yaml"
run 10 -f "$T/nohost.yaml" --headless -t 1s
check "no host: exit 3" test "$RC" = 3 -a "$ERR" = "hornet: $T/nohost.yaml: host: none given; set host: in the scenario or pass -H"

# Unreachable target: port 1 on loopback refuses. The run completes, counts failures, exits 1.
SC="$SRC/tests/scenarios/it_mix.yaml"
run 30 -f "$SC" -H http://127.0.0.1:1 -u 2 -r 10 -t 3s --headless --csv "$T/refused/run"
check "unreachable target: exit 1 (got $RC)" test "$RC" = 1
check "unreachable target: failures say Connection refused" grep -q ",Connection refused," "$T/refused/run_failures.csv"
check "unreachable target: every request failed" test "$(csv_get "$T/refused/run_stats.csv" Aggregated "Request Count")" = "$(csv_get "$T/refused/run_stats.csv" Aggregated "Failure Count")"

# A target that never answers: the request timeout ends each request as a counted failure.
start_target HANG --hang-path /healthz --hang-path /billing/usage --hang-path /chat/messages
start=$(date +%s)
run 30 -f "$SC" -H "http://127.0.0.1:$HANG_PORT" -u 2 -r 10 -t 4s --request-timeout 1s --headless --csv "$T/hang/run"
elapsed=$(( $(date +%s) - start ))
check "hanging target: exit 1 within the run time (rc $RC, ${elapsed}s)" test "$RC" = 1 -a "$elapsed" -le 15
check "hanging target: failures say Timeout after 1000 ms" grep -q ",Timeout after 1000 ms," "$T/hang/run_failures.csv"

# A target that resets the connection: a counted failure naming the reset.
start_target RST --reset-path /healthz --reset-path /billing/usage --reset-path /chat/messages
run 30 -f "$SC" -H "http://127.0.0.1:$RST_PORT" -u 2 -r 10 -t 2s --headless --csv "$T/reset/run"
check "resetting target: exit 1 (got $RC)" test "$RC" = 1
check "resetting target: failures say Connection reset by peer" grep -q ",Connection reset by peer," "$T/reset/run_failures.csv"

# A worker of another protocol version is refused with a message on both sides, and hostile
# frames do not stop the master.
"$HORNET" --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 5 \
  --expect-workers-max-wait 20s -f "$SC" -t 5s >"$T/pm.out" 2>"$T/pm.err" &
PM=$!; PIDS+=("$PM")
for _ in $(seq 100); do grep -q "Waiting for" "$T/pm.err" 2>/dev/null && break; sleep 0.05; done
PMPORT=$(sed -n 's/.*Waiting for 5 workers on [^ ]*:\([0-9]*\) .*/\1/p' "$T/pm.err")
"$FAKE_PEER" old-worker 127.0.0.1 "$PMPORT" >"$T/fp.out" 2>&1
check "old worker: refused" test $? = 0
check "old worker: told why" grep -q "refused: protocol version 99 (hornet 9.9.9) differs from the master's 1" "$T/fp.out"
check "master: logs the refusal" grep -q "refused worker fake_.*protocol version 99" "$T/pm.err"
"$FAKE_PEER" garbage 127.0.0.1 "$PMPORT" >"$T/fg.out" 2>&1
check "garbage frames: the master still acks a proper worker afterwards" test $? = 0
check "garbage frames: each dropped with a warning" test "$(grep -c "dropped a message" "$T/pm.err")" -ge 3
kill -INT "$PM"; wait_pid "$PM" 10 pmrc
check "master interrupted while waiting exits 130 (got $pmrc)" test "$pmrc" = 130

# A worker whose master never answers gives up after --master-connect-timeout.
start=$(date +%s)
run 30 --worker --master-host 127.0.0.1 --master-port 1 --master-connect-timeout 2s
elapsed=$(( $(date +%s) - start ))
check "unreachable master: exit 4 (got $RC) within 10 s (${elapsed}s)" test "$RC" = 4 -a "$elapsed" -le 10
check "unreachable master: says so" grep -q "cannot reach the master at 127.0.0.1:1 within 2 s" "$T/err"

# A master whose workers never come gives up after --expect-workers-max-wait.
run 30 --master --master-bind-host 127.0.0.1 --master-bind-port 0 --expect-workers 2 --expect-workers-max-wait 2s -f "$SC" -t 5s
check "missing workers: exit 4 (got $RC)" test "$RC" = 4
check "missing workers: says so" grep -q "only 0 of 2 workers connected within 2 s" "$T/err"

run 10 --version
check "--version prints the version" test "$RC" = 0 -a "$OUT" = "hornet 0.1.0"
run 10 --help
check "--help lists the flags and exit codes" grep -q "Exit codes: 0 ok" "$T/out"
finish
