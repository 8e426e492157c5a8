#!/usr/bin/env bash
# The same test in Locust 2.12 and in hornet, side by side against one demo target: the CSV
# files have the same headers, line ends and row order, and the same parsing code (Locust's
# habits: int() for medians and percentiles, float() for the rest) reads both.
. "$(dirname "$0")/../lib.sh"

if ! command -v locust >/dev/null; then
  if [ "${CI:-}" = true ]; then bad "locust is not installed (scripts/install-deps.sh --test)"; finish; fi
  echo "# locust is not installed here (apt-get install python3-locust): side-by-side skipped"
  finish
fi
start_target TGT --latency-ms 3 --jitter-ms 2 --fail-ratio 0.2 --fail-path /billing/usage
URL="http://127.0.0.1:$TGT_PORT"
LF="$SRC/tests/locustfiles/sidebyside.py"
"$HORNET" convert "$LF" >"$T/sidebyside.yaml" 2>"$T/convert.err"
check "the locustfile converts whole" test ! -s "$T/convert.err"

mkdir -p "$T/locust" "$T/hornet"
(cd "$T/locust" && timeout 60 locust -f "$LF" --headless -u 4 -r 10 -t 5s -H "$URL" \
  --csv "$T/locust/run" --only-summary >"$T/locust/out" 2>&1); lrc=$?
before=$(target_count "$TGT_PORT" total)
timeout 60 "$HORNET" -f "$T/sidebyside.yaml" --headless -u 4 -r 10 -t 5s -H "$URL" --no-db \
  --csv "$T/hornet/run" --only-summary >"$T/hornet/out" 2>&1; hrc=$?
echo "# exit codes: locust $lrc, hornet $hrc (both 1: /billing/usage fails 20 % of the time)"
check "both runs finished with failures counted (locust $lrc, hornet $hrc)" test "$lrc" = 1 -a "$hrc" = 1

for f in stats failures exceptions stats_history; do
  check "_$f.csv: the header line is byte-identical" \
    test "$(head -1 "$T/locust/run_$f.csv" | od -c)" = "$(head -1 "$T/hornet/run_$f.csv" | od -c)"
done
check "the same parsing code reads both, row by row and column by column" \
  python3 - "$T/locust/run" "$T/hornet/run" <<'PY'
import csv, sys

INTS = ["Request Count", "Failure Count", "Median Response Time", "50%", "66%", "75%", "80%",
        "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
FLOATS = ["Average Response Time", "Min Response Time", "Max Response Time",
          "Average Content Size", "Requests/s", "Failures/s"]

def read(prefix):
    raw = open(prefix + "_stats.csv", "rb").read()
    assert raw.count(b"\r\n") == raw.count(b"\n"), prefix + ": not CRLF line ends"
    rows = list(csv.DictReader(open(prefix + "_stats.csv", newline="")))
    for r in rows:
        for k in INTS:
            int(r[k])          # a shell gate: [ "$p95" -gt 500 ]; a script: int(row["95%"])
        for k in FLOATS:
            float(r[k])
    return rows

loc, hor = read(sys.argv[1]), read(sys.argv[2])
names = lambda rows: [(r["Type"], r["Name"]) for r in rows]
assert names(loc) == names(hor), (names(loc), names(hor))
for a, b in zip(loc, hor):
    assert int(a["Request Count"]) > 0 and int(b["Request Count"]) > 0, (a, b)
    print("# %-22s locust %4s req p50 %3s p95 %3s | hornet %4s req p50 %3s p95 %3s" % (
        a["Name"], a["Request Count"], a["50%"], a["95%"],
        b["Request Count"], b["50%"], b["95%"]))
fl = list(csv.DictReader(open(sys.argv[1] + "_failures.csv", newline="")))
fh = list(csv.DictReader(open(sys.argv[2] + "_failures.csv", newline="")))
assert [r["Name"] for r in fl] == [r["Name"] for r in fh], (fl, fh)
for r in fl + fh:
    int(r["Occurrences"])
hist = list(csv.DictReader(open(sys.argv[2] + "_stats_history.csv", newline="")))
ts = [r["Timestamp"] for r in hist]
assert len(ts) == len(set(ts)), "hornet repeated a history timestamp"
for r in hist:
    int(r["Timestamp"]); int(r["User Count"]); float(r["Requests/s"])
    if r["95%"] != "N/A":
        int(r["95%"]); int(r["Total Median Response Time"])
PY
served=$(( $(target_count "$TGT_PORT" total) - before ))
reported=$(csv_get "$T/hornet/run_stats.csv" Aggregated "Request Count")
check "hornet: requests the target served == requests hornet reports ($served, $reported)" test "$served" = "$reported"
finish
