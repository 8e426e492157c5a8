#!/usr/bin/env bash
# The web UI, as a person uses it: hornet without --headless serves its page and waits; a real
# browser starts the run from the form, watches the table and the charts update, changes the
# user count (the workers follow), downloads the CSV, stops, and compares two runs in the
# history tab; a screenshot is kept. The numbers are checked against the target, with 20 event
# streams that never read and a slowloris held open on the port all along. Then --autostart
# with --autoquit, HTTPS with --tls-cert/--tls-key, and the flags' mistakes.
. "$(dirname "$0")/../lib.sh"
SC="$SRC/tests/scenarios/it_mix.yaml"
PY=/usr/bin/python3 # Debian's, where python3-selenium is
start_target TGT
ui_port() { log_port "$1" "Starting web interface at"; }

# an earlier run in the same history, for the history tab's comparison
"$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 50 -t 2s --headless --only-summary \
  --db "$T/ui.db" >/dev/null 2>"$T/first.err"; rc=$?
check "a headless run first (exit $rc)" test "$rc" = 1 -o "$rc" = 0

# --- the UI: no --headless, no --autostart: it waits for the form
before=$(target_count "$TGT_PORT" total)
env -u HORNET_HEADLESS "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 3 -r 10 -P 0 \
  --processes 2 --db "$T/ui.db" --csv "$T/ui" --only-summary >"$T/ui.out" 2>"$T/ui.err" &
U=$!; PIDS+=("$U")
UP=$(ui_port "$T/ui.err")
check "the web UI's line names its address" test -n "$UP"
URL="http://127.0.0.1:$UP"
sleep 2 # workers connect; nothing may start without the form
held=$(curl -s --max-time 5 "$URL/stats/requests" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["state"], j["user_count"], len(j["workers"]))')
check "held for the form: ready, 0 users, 2 workers waiting (got '$held')" test "$held" = "ready 0 2"
check "nothing reached the target before the start" test "$(target_count "$TGT_PORT" total)" = "$before"
page=$(curl -s --max-time 5 "$URL/")
check "the page is served from memory, with its chart library" bash -c "grep -q '<title>hornet</title>' <<<\"\$0\" && curl -sf --max-time 5 '$URL/static/dygraph.min.js' | grep -q Dygraph" "$page"

# hostile clients held open all through the browser's session
"$PY" - "$UP" >"$T/hostile.out" 2>&1 <<'PY' &
import socket, sys, time
port = int(sys.argv[1])
streams = []
for _ in range(20):  # event streams that never read a byte
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    streams.append(s)
slow = socket.create_connection(("127.0.0.1", port), timeout=5)
slow.sendall(b"GET / HTTP/1.1\r\n")
sent = 0
end = time.time() + 60
while time.time() < end:
    try:
        slow.sendall(b"X-Slow: 1\r\n")
        sent += 1
    except OSError:
        break
    time.sleep(1)
print("held 20 unread streams; slowloris trickled", sent, "lines")
PY
A=$!; PIDS+=("$A")

if "$PY" -c "import selenium" 2>/dev/null && [ -x /usr/bin/chromedriver ] && [ -x /usr/bin/chromium ]; then
  mkdir -p "$T/dl"
  timeout 150 "$PY" "$SRC/tests/tools/ui_browser.py" "$URL" "$T/ui.png" "$T/chrome" "$T/dl" >"$T/browser.out" 2>&1; brc=$?
  sed 's/^/# /' "$T/browser.out"
  check "a browser: start from the form, live table and charts, users changed mid-run and the workers follow, CSV downloaded, stop, history compared, a New test on the same workers" test "$brc" = 0
  check "a screenshot of the UI" test -s "$T/ui.png"
  if [ -n "${HORNET_ARTIFACTS:-}" ]; then mkdir -p "$HORNET_ARTIFACTS" && cp "$T/ui.png" "$HORNET_ARTIFACTS/webui.png" && cp "$T/ui_stats.png" "$HORNET_ARTIFACTS/webui_stats.png"; fi
else
  if [ "${CI:-}" = true ]; then bad "selenium, chromium or chromedriver missing (scripts/install-deps.sh --test)"; fi
  echo "# no browser here: driving the same steps through the web API"
  curl -s --max-time 5 -X POST -d "user_count=4&spawn_rate=50" "$URL/swarm" >/dev/null
  sleep 3
  curl -s --max-time 5 -X POST -d "user_count=8&spawn_rate=50" "$URL/swarm" >/dev/null
  sleep 3
  curl -s --max-time 5 "$URL/stop" >/dev/null
fi
# the run is over; the UI stays until Ctrl-C, with the run's exit code
sleep 1
check "after the run the UI stays up" kill -0 "$U"
code=$(curl -s -o "$T/after.html" -w '%{http_code}' --max-time 5 "$URL/stats/report")
check "the finished run's HTML report is served (HTTP $code)" test "$code" = 200
code=$(curl -s -o "$T/after.json" -w '%{http_code}' --max-time 5 "$URL/stats/report.json")
check "and its JSON report (HTTP $code)" bash -c "test '$code' = 200 && /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '$T/after.json'"
kill -INT "$U"
wait_pid "$U" 20 urc
check "Ctrl-C ends the UI with the run's exit code (got $urc)" test "$urc" = 0 -o "$urc" = 1
kill "$A" 2>/dev/null
# every test of this master (the browser's second is a New test) is a run in the history
reported=$("$PY" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT sum(requests), count(*) FROM final_stats WHERE run_id > 1 AND name = ?", ("Aggregated",)).fetchone()[0])' "$T/ui.db")
served=$(( $(target_count "$TGT_PORT" total) - before ))
check "requests the target served equal those reported, all tests (served $served, reported $reported)" \
  test -n "$reported" -a "$served" = "$reported" -a "${reported:-0}" -gt 0
check "the stats kept their one-second interval under the hostile clients" "$PY" - "$T/ui_stats_history.csv" <<'PY'
import csv, sys
ts = [int(r["Timestamp"]) for r in csv.DictReader(open(sys.argv[1], newline="")) if r["Name"] == "Aggregated"]
gaps = [b - a for a, b in zip(ts, ts[1:])]
print("# history seconds:", len(ts), "largest gap:", max(gaps) if gaps else None)
assert len(ts) >= 4 and max(gaps) <= 2, gaps
PY

# --- the start form's class picker through the API: only the picked class runs, with a fixed count
env -u HORNET_HEADLESS timeout 40 "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -P 0 \
  --no-db --only-summary >"$T/pick.out" 2>"$T/pick.err" &
PK=$!; PIDS+=("$PK")
PP=$(ui_port "$T/pick.err")
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PP/stats/report")
check "/stats/report before a run starts: 409 (got $code)" test "$code" = 409
bad_form=$(curl -s --max-time 5 -X POST -d "user_count=3&spawn_rate=50&user_classes=Nobody" "http://127.0.0.1:$PP/swarm")
check "/swarm with an unknown class: refused, naming it ($bad_form)" grep -q "no class named 'Nobody'" <<<"$bad_form"
bad_form=$(curl -s --max-time 5 -X POST -d "user_count=3&spawn_rate=50&weight.Prober=x" "http://127.0.0.1:$PP/swarm")
check "/swarm with a bad weight: refused, naming the field ($bad_form)" grep -q "weight.Prober" <<<"$bad_form"
ok_form=$(curl -s --max-time 5 -X POST -d "user_count=3&spawn_rate=50&run_time=3s&user_classes=Chatter" "http://127.0.0.1:$PP/swarm")
check "/swarm starts the held run with the picked class ($ok_form)" grep -q '"success":true' <<<"$ok_form"
sleep 2
rows=$(curl -s --max-time 5 "http://127.0.0.1:$PP/stats/requests" | /usr/bin/python3 -c 'import json,sys; print(" ".join(sorted(r["method"] + ":" + r["name"] for r in json.load(sys.stdin)["stats"])))')
check "only the picked class's requests ($rows)" test "$rows" = ":Aggregated POST:/chat/messages"
mid=$(curl -s --max-time 10 "http://127.0.0.1:$PP/stats/report.json" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); r=[x for x in j["stats"] if x["name"]=="/chat/messages"]; print(j["run"]["status"], r[0]["num_requests"] if r else 0, j["run"]["exit_code"])')
check "mid-run, the JSON report is the run so far, with no exit code yet ($mid)" bash -c "set -- $mid; test \"\$1\" = running -a \"\${2:-0}\" -gt 0 -a \"\$3\" = None"
code=$(curl -s -o "$T/mid.html" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$PP/stats/report")
check "mid-run, the HTML report too (HTTP $code)" bash -c "test '$code' = 200 && grep -q 'running' '$T/mid.html'"
late=$(curl -s --max-time 5 -X POST -d "user_count=3&spawn_rate=50&user_classes=Prober" "http://127.0.0.1:$PP/swarm")
check "classes cannot change mid-run ($late)" grep -q "set when the run starts" <<<"$late"
curl -s --max-time 5 "http://127.0.0.1:$PP/stop" >/dev/null
kill -INT "$PK" 2>/dev/null
wait_pid "$PK" 20 prc

# --- a load plan in the web UI: the form starts it, the plan sets the users; after it ends a
# New test through /swarm runs the plan again on the same worker
# (no timeout(1) around it: its own process group would get the Ctrl-C twice, which is
# Ctrl-C twice; lib.sh ends what is left at exit)
env -u HORNET_HEADLESS "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -P 0 \
  --stages 2s:2,2s:3 --no-db --only-summary >"$T/plan.out" 2>"$T/plan.err" &
PL=$!; PIDS+=("$PL")
LP="http://127.0.0.1:$(ui_port "$T/plan.err")"
state() { curl -s --max-time 5 "$LP/stats/requests" | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["state"], j["user_count"], " ".join(w["id"] for w in j["workers"]))'; }
until_state() { for _ in $(seq 100); do st=$(state); [[ "$st" == $1 ]] && return 0; sleep 0.2; done; return 1; }
ok_form=$(curl -s --max-time 5 -X POST -d "user_count=50&spawn_rate=50" "$LP/swarm")
check "/swarm starts a held run with a load plan ($ok_form)" grep -q '"success":true' <<<"$ok_form"
check "the plan's second stage: 3 users, not the form's 50" until_state "running 3 *"
w1=$(state | cut -d' ' -f3-)
check "the plan ends the test; the master stays for another" until_state "stopped 0 *"
ok_form=$(curl -s --max-time 5 -X POST -d "user_count=50&spawn_rate=50" "$LP/swarm")
check "New test through /swarm ($ok_form)" grep -q '"success":true' <<<"$ok_form"
check "the plan runs again on the same worker" until_state "running 2 $w1"
check "Locust's stages are announced for the second test too" \
  test "$(grep -c 'Load plan, stage 1 of 2' "$T/plan.err")" = 2
curl -s --max-time 5 "$LP/stop" >/dev/null
check "stopped from the API" until_state "stopped 0 *"
WK=$(pgrep -P "$PL" | head -1)
kill "$WK" 2>/dev/null
gone() { curl -s --max-time 5 "$LP/stats/requests" | grep -q '"state": *"gone"'; }
for _ in $(seq 50); do gone && break; sleep 0.2; done
late=$(curl -s --max-time 5 -X POST -d "user_count=2&spawn_rate=50" "$LP/swarm")
check "a New test without its worker is refused, saying why ($late)" \
  grep -q "0 of the 1 workers the run expects are connected: a local worker process is gone" <<<"$late"
kill -INT "$PL"
wait_pid "$PL" 20 plrc
check "Ctrl-C ends it with the test's own exit code (got $plrc)" test "$plrc" = 0 -o "$plrc" = 1

# --- --autostart: the run starts at once with -u/-r/-t; --autoquit ends the UI after it
before=$(target_count "$TGT_PORT" total)
env -u HORNET_HEADLESS timeout 40 "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 2 -r 50 \
  -t 2s -P 0 --autostart --autoquit 2s --no-db --csv "$T/auto" --only-summary \
  >"$T/auto.out" 2>"$T/auto.err" &
AU=$!; PIDS+=("$AU")
AP=$(ui_port "$T/auto.err")
sleep 1
st=$(curl -s --max-time 5 "http://127.0.0.1:$AP/stats/requests" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
check "--autostart: running without the form (state '$st')" bash -c "test '$st' = running -o '$st' = spawning"
wait_pid "$AU" 30 arc
check "--autoquit: the process ends by itself after the run (exit $arc)" test "$arc" = 0 -o "$arc" = 1
check "--autoquit: it said so" grep -q "for 2 s more (--autoquit)" "$T/auto.err"
reported=$(csv_get "$T/auto_stats.csv" Aggregated "Request Count")
served=$(( $(target_count "$TGT_PORT" total) - before ))
check "--autostart: served == reported ($served, $reported)" test "$served" = "$reported"

# --- HTTPS
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$T/ui.key" -out "$T/ui.crt" >/dev/null 2>&1
env -u HORNET_HEADLESS timeout 40 "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" -u 1 -r 50 \
  -t 2s -P 0 --autostart --autoquit 1s --no-db --only-summary --tls-cert "$T/ui.crt" \
  --tls-key "$T/ui.key" >"$T/tls.out" 2>"$T/tls.err" &
TU=$!; PIDS+=("$TU")
TP=$(ui_port "$T/tls.err")
check "--tls-cert: the line says https" grep -q "Starting web interface at https://" "$T/tls.err"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$T/ui.crt" "https://127.0.0.1:$TP/stats/requests")
check "--tls-cert: the API answers over HTTPS with that certificate (HTTP $code)" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$TP/stats/requests")
check "--tls-cert: plain HTTP gets no page (got $code)" test "$code" != 200
wait_pid "$TU" 30 trc

# --- the flags' mistakes: one line, exit 2
env -u HORNET_HEADLESS timeout 10 "$HORNET" -f "$SC" -t 1s --tls-cert "$T/ui.crt" >/dev/null 2>"$T/e1.err"; rc=$?
check "--tls-cert without --tls-key: exit 2, one line (got $rc)" bash -c "test '$rc' = 2 && test \$(grep -c . '$T/e1.err') = 1 && grep -q -- '--tls-key' '$T/e1.err'"
env -u HORNET_HEADLESS timeout 10 "$HORNET" -f "$SC" -t 1s -P 70000 >/dev/null 2>"$T/e2.err"; rc=$?
check "-P 70000: exit 2 naming the flag (got $rc)" bash -c "test '$rc' = 2 && grep -q -- '-P' '$T/e2.err'"
env -u HORNET_HEADLESS timeout 10 "$HORNET" -f "$SC" -t 1s -P 0 --tls-cert "$T/nope.crt" --tls-key "$T/ui.key" >/dev/null 2>"$T/e3.err"; rc=$?
check "--tls-cert missing file: exit 2, one line naming it (got $rc)" bash -c "test '$rc' = 2 && test \$(grep -c . '$T/e3.err') = 1 && grep -q 'nope.crt' '$T/e3.err'"
finish
