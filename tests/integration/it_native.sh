#!/usr/bin/env bash
# The two HTTP engines side by side against real servers: hostile replies named the same way,
# the same rows and figures on a normal scenario, users owning their keep-alive connections,
# a server that closes idle connections (retried once), and the engine flags' mistakes.
. "$(dirname "$0")/../lib.sh"
LIES=(http09 status9999 bigheader endless longbody badchunk garbage midclose midreset)
args=()
for k in "${LIES[@]}"; do args+=(--lie-path "/lie/$k=$k"); done
start_target LIE "${args[@]}" --reset-path /reset --hang-path /hang
SC="$SRC/tests/scenarios/it_hostile_http.yaml"

# --- 1. hostile replies: each a counted failure with a clear message, on both engines
for eng in native curl; do
  "$HORNET" -f "$SC" -H "http://127.0.0.1:$LIE_PORT" -u 2 -r 10 -t 3s --only-summary --no-db \
    --http-engine "$eng" --csv "$T/h_$eng" >"$T/h_$eng.out" 2>"$T/h_$eng.err"; rc=$?
  check "$eng: hostile replies: exit 1, the run ends on time (got $rc)" test "$rc" = 1
  F="$T/h_${eng}_failures.csv"
  check "$eng: the healthy row beside them has no failure" \
    test "$(csv_get "$T/h_${eng}_stats.csv" /healthz "Failure Count")" = 0
  for row in "http09:Invalid HTTP response: not an HTTP/1.x status line" \
             "garbage:Invalid HTTP response: not an HTTP/1.x status line" \
             "status9999:Invalid HTTP response: bad status code" \
             "badchunk:Invalid HTTP response: bad chunk size" \
             "bigheader:Response headers too large" "endless:Response headers too large" \
             "midclose:Connection closed before the response ended" \
             "midreset:Connection reset by peer" \
             "reset:Connection reset by peer" "hang:Timeout after 500 ms"; do
    name=${row%%:*} msg=${row#*:}
    reqs=$(csv_get "$T/h_${eng}_stats.csv" "$name" "Request Count")
    fails=$(csv_get "$T/h_${eng}_stats.csv" "$name" "Failure Count")
    check "$eng: $name: every request failed ($fails of $reqs), as '$msg'" \
      bash -c "test '${reqs:-0}' -gt 0 -a '$reqs' = '$fails' && grep -q 'GET,$name,$msg,' '$F'"
  done
  check "$eng: a reset mid-body is named a reset every time, never a close" \
    bash -c "! grep -q 'GET,midreset,Connection closed' '$F'"
  check "$eng: no worker crashed" bash -c "! grep -qi 'exited\\|signal' '$T/h_$eng.err'"
done
check "native: a body longer than announced is a failure (curl cannot tell)" \
  grep -q "GET,longbody,Response longer than announced (5 more bytes)," "$T/h_native_failures.csv"

# --- 2. the same scenario on both engines: the same rows, served == reported on each
start_target TGT
MIX="$SRC/tests/scenarios/it_mix.yaml"
for eng in native curl; do
  before=$(target_count "$TGT_PORT" total)
  "$HORNET" -f "$MIX" -H "http://127.0.0.1:$TGT_PORT" -u 6 -r 100 -t 3s --only-summary --no-db \
    --http-engine "$eng" --csv "$T/m_$eng" >/dev/null 2>"$T/m_$eng.err"
  served=$(( $(target_count "$TGT_PORT" total) - before ))
  reported=$(csv_get "$T/m_${eng}_stats.csv" Aggregated "Request Count")
  check "$eng: served == reported ($served, $reported)" test "$served" = "$reported" -a "$served" -gt 50
  cut -d, -f1,2 "$T/m_${eng}_stats.csv" >"$T/m_$eng.rows"
  cut -d, -f1,2,3 "$T/m_${eng}_failures.csv" >"$T/m_$eng.fails"
done
check "both engines: the same rows" cmp -s "$T/m_native.rows" "$T/m_curl.rows"
check "both engines: the same failure messages" cmp -s "$T/m_native.fails" "$T/m_curl.fails"

# --- 2b. an injected 20 ms delay: the p50 at or above it and within 3 ms on both engines (exact,
# from the JSON report). The 1 ms goal is bench/run.sh's, pinned on a quiet machine: here the
# machine is busy and the pass under ASan slows the target and the worker (a CI run saw 21.6 ms).
# And nginx, counting what it served in its access log, equal to hornet's count
start_target DELAY --latency-ms 20
for eng in native curl; do
  "$HORNET" -f "$MIX" -H "http://127.0.0.1:$DELAY_PORT" -u 4 -r 100 -t 3s --only-summary --no-db \
    --http-engine "$eng" --json "$T/d_$eng.json" >/dev/null 2>&1
  p50=$(/usr/bin/python3 -c 'import json,sys; r=[x for x in json.load(open(sys.argv[1]))["stats"] if x["name"]=="/healthz"][0]; print(r["response_time_percentiles"]["50%"])' "$T/d_$eng.json")
  check "$eng: p50 of /healthz with 20 ms injected: $p50 ms (within 3 ms)" between "$p50" 20 23
done
if command -v nginx >/dev/null; then
  mkdir -p "$T/ngx/tmp"
  NP=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  sed -e "s#__DIR__#$T/ngx#g" -e "s#__PORT__#$NP#g" \
      -e "s#access_log off;#access_log $T/ngx/access.log;#" "$SRC/bench/nginx.conf" >"$T/ngx/nginx.conf"
  nginx -p "$T/ngx" -c "$T/ngx/nginx.conf" -g 'daemon off;' 2>"$T/ngx/stderr" &
  PIDS+=("$!")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$NP/healthz" >/dev/null && break; sleep 0.05; done
  printf 'host: http://127.0.0.1:1\nusers:\n  - name: U\n    wait: {constant: 0.01}\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' >"$T/ngx.yaml"
  for eng in native curl; do
    before=$(wc -l <"$T/ngx/access.log")
    "$HORNET" -f "$T/ngx.yaml" -H "http://127.0.0.1:$NP" -u 5 -r 100 -t 3s --only-summary --no-db \
      --http-engine "$eng" --csv "$T/n_$eng" >/dev/null 2>&1
    served=$(( $(wc -l <"$T/ngx/access.log") - before ))
    reported=$(csv_get "$T/n_${eng}_stats.csv" Aggregated "Request Count")
    check "$eng: nginx served == hornet reported ($served, $reported)" test "$served" = "$reported" -a "$served" -gt 100
  done
elif [ "${CI:-}" = true ]; then
  bad "nginx missing (scripts/install-deps.sh --test)"
fi

# --- 3. users own their connections: one per user, reused for every request
before=$(curl -s "http://127.0.0.1:$TGT_PORT/__counts" | sed -n 's/.*"connections":\([0-9]*\).*/\1/p')
"$HORNET" -f "$MIX" -H "http://127.0.0.1:$TGT_PORT" -u 8 -r 100 -t 3s --only-summary \
  --http-engine native --csv "$T/k" --json "$T/k.json" --html "$T/k.html" --db "$T/k.db" \
  >"$T/k.out" 2>"$T/k.err"
after=$(( $(curl -s "http://127.0.0.1:$TGT_PORT/__counts" | sed -n 's/.*"connections":\([0-9]*\).*/\1/p') - 1 )) # not this query's
reqs=$(csv_get "$T/k_stats.csv" Aggregated "Request Count")
echo "# 8 users: $((after - before)) connections for $reqs requests; $(grep -o 'native HTTP engine: .*' "$T/k.err")"
check "8 users, $reqs requests: 8 connections (1 per user; the target closes none)" \
  test "$((after - before))" = 8 -a "$reqs" -gt 100
check "the master's summary counts them: 8 opened, the rest reused" \
  grep -q "HTTP connections (native engine): 8 opened, $((reqs - 8)) requests on a reused one" "$T/k.out"
kj=$(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["run"]; print(r["http_connections_opened"], r["http_connection_reuses"])' "$T/k.json")
check "and the JSON report ($kj)" test "$kj" = "8 $((reqs - 8))"
check "and the HTML report" grep -q "HTTP connections (native engine)</th><td class=\"l\">8 opened, $((reqs - 8)) requests" "$T/k.html"
"$HORNET" report 1 --db "$T/k.db" --json "$T/k2.json" >/dev/null 2>&1
check "and the run history (a report made again from it)" cmp -s <(/usr/bin/python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["run"]; print(r["http_connections_opened"], r["http_connection_reuses"])' "$T/k2.json") <(echo "$kj")

# --- 4. a server that answers one request per connection and closes the next one unanswered
# (no Connection: close, as a server whose idle timeout fell just as the request came): the
# request is retried once on a new connection, as curl does; no failure
/usr/bin/python3 - "$T/closer.port" >"$T/closer.log" 2>&1 <<'PY' &
import socket, sys, threading, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(64)
open(sys.argv[1], "w").write(str(srv.getsockname()[1]))
served = 0
def serve(c):
    global served
    c.settimeout(10)
    try:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                return
            data += chunk
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        served += 1
        c.recv(4096)  # the next request on this connection: closed unanswered
    finally:
        c.close()
end = time.time() + 60
srv.settimeout(1)
while time.time() < end:
    try:
        c, _ = srv.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
CL=$!; PIDS+=("$CL")
for _ in $(seq 100); do [ -s "$T/closer.port" ] && break; sleep 0.05; done
printf 'host: http://127.0.0.1:1\nusers:\n  - name: U\n    wait: {constant: 0.2}\n    tasks:\n      - {name: t, steps: [{http: {url: /x}}]}\n' >"$T/closer.yaml"
for eng in native curl; do
  "$HORNET" -f "$T/closer.yaml" -H "http://127.0.0.1:$(cat "$T/closer.port")" -u 2 -r 10 -t 3s \
    --only-summary --no-db --http-engine "$eng" --csv "$T/c_$eng" >/dev/null 2>"$T/c_$eng.err"; rc=$?
done
fails=$(csv_get "$T/c_native_stats.csv" Aggregated "Failure Count")
reqs=$(csv_get "$T/c_native_stats.csv" Aggregated "Request Count")
check "native: connections the server closes unanswered: $reqs requests, $fails failures" \
  test "$fails" = 0 -a "$reqs" -gt 10
# libcurl retries on another cached connection, which may be just as dead: it gives up at times
echo "# curl on the same server: $(csv_get "$T/c_curl_stats.csv" Aggregated "Failure Count") failures of $(csv_get "$T/c_curl_stats.csv" Aggregated "Request Count"): $(/usr/bin/python3 -c 'import csv,sys; print("; ".join(sorted({r["Error"] for r in csv.DictReader(open(sys.argv[1]))})))' "$T/c_curl_failures.csv")"
check "native: the retries are counted" grep -qE "native HTTP engine: .* [1-9][0-9]* retried" "$T/c_native.err"
kill "$CL" 2>/dev/null

# --- 5. more users than descriptors: the ones without a socket fail, counted, no crash (a
# connect refused inside the start of a request is reported from the loop, not from within it)
start_target SLOW --latency-ms 300
printf 'host: http://127.0.0.1:1\nusers:\n  - name: U\n    wait: {constant: 0.5}\n    tasks:\n      - {name: t, steps: [{http: {url: /healthz}}]}\n' >"$T/many.yaml"
(ulimit -n 256; exec "$HORNET" -f "$T/many.yaml" -H "http://127.0.0.1:$SLOW_PORT" -u 400 -r 1000 -t 3s \
  --only-summary --no-db --http-engine native --csv "$T/fd") >/dev/null 2>"$T/fd.err"; rc=$?
check "400 users on 256 descriptors: exit 1, no worker crash (got $rc)" \
  bash -c "test '$rc' = 1 && ! grep -q 'signal' '$T/fd.err'"
check "... the users without a socket fail as 'Too many open files'" \
  grep -q "GET,/healthz,Too many open files," "$T/fd_failures.csv"
check "... and the others' requests succeed" \
  test "$(csv_get "$T/fd_stats.csv" /healthz "Request Count")" -gt "$(csv_get "$T/fd_stats.csv" /healthz "Failure Count")"

# --- 6. the flags
printf 'host: https://127.0.0.1:1\nusers:\n  - name: U\n    tasks:\n      - {name: t, steps: [{http: {url: /x}}]}\n' >"$T/tls.yaml"
"$HORNET" -f "$MIX" --check >"$T/check_auto.out" 2>&1
"$HORNET" -f "$MIX" --check --http-engine curl >"$T/check_curl.out" 2>&1
"$HORNET" -f "$T/tls.yaml" --check >"$T/check_tls.out" 2>&1 || true
check "--check names each step's engine: native for http://, curl for https:// and when asked" \
  bash -c "grep -q 'GET /healthz .*native engine)' '$T/check_auto.out' && grep -q 'GET /healthz .*curl engine)' '$T/check_curl.out' && grep -q 'GET /x .*curl engine)' '$T/check_tls.out'"
timeout 20 "$HORNET" -f "$T/tls.yaml" -u 1 -t 1s --no-db --http-engine native >/dev/null 2>"$T/f1.err"; rc=$?
check "--http-engine native on an https:// step: exit 3, one line naming file, line, step and why (got $rc)" \
  bash -c "test '$rc' = 3 && test \$(grep -c . '$T/f1.err') = 1 && grep -q 'tls.yaml:5: GET /x: the native HTTP engine cannot run it: not an http:// URL' '$T/f1.err'"
timeout 10 "$HORNET" -f "$T/tls.yaml" -u 1 -t 1s --no-db --http-engine fast >/dev/null 2>"$T/f2.err"; rc=$?
check "--http-engine fast: exit 2, one line (got $rc)" \
  bash -c "test '$rc' = 2 && grep -q \"hornet: --http-engine: expected auto, curl or native, got 'fast'\" '$T/f2.err'"
printf 'host: http://127.0.0.1:1\nusers:\n  - name: U\n    tasks:\n      - {name: t, steps: [{http: {url: /x, engine: fast}}]}\n' >"$T/eng.yaml"
timeout 10 "$HORNET" -f "$T/eng.yaml" --check >/dev/null 2>"$T/f3.err"; rc=$?
check "engine: fast in a step: exit 3 naming file, line and field (got $rc)" \
  bash -c "test '$rc' = 3 && grep -q 'eng.yaml:5:.*engine: expected auto, curl or native' '$T/f3.err'"
finish
