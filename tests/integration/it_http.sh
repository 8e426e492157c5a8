#!/usr/bin/env bash
# HttpUser semantics a Locust test relies on, through the real binary against a real server:
# a cookie jar per user, redirects followed (and not, per step), basic auth, TLS verification
# with a CA file, --insecure, and client certificates.
. "$(dirname "$0")/../lib.sh"

# start_sem NAME [flags...]: the semantics server on a free port; sets NAME_PORT.
start_sem() {
  local name=$1; shift
  python3 "$SRC/tests/tools/semantics_server.py" --port-file "$T/$name.port" "$@" >"$T/$name.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 200); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
  [ -s "$T/$name.port" ] || { bad "semantics server $name did not start"; cat "$T/$name.log"; finish; }
  printf -v "${name}_PORT" '%s' "$(cat "$T/$name.port")"
}
count() { # count SCHEME PORT KEY
  curl -sk --max-time 5 "$1://127.0.0.1:$2/__counts" |
    python3 -c "import json,sys; print(json.load(sys.stdin).get(sys.argv[1], 0))" "$3"
}
hrun() { # hrun DIR SCENARIO ARGS...: a 2 s local run; sets RC
  local dir=$1 sc=$2; shift 2
  mkdir -p "$T/$dir"
  timeout 60 "$HORNET" -f "$sc" --headless --no-db --csv "$T/$dir/run" --only-summary "$@" \
    >"$T/$dir/out" 2>"$T/$dir/err"; RC=$?
}
col() { csv_get "$T/$1/run_stats.csv" "$2" "$3"; }

start_sem S

# --- cookies: each user logs in as itself, the login's 302 carries the cookie to /home, and a
# later request sends the user's own cookie back
cat >"$T/cookies.yaml" <<EOF
host: http://127.0.0.1:$S_PORT
users:
  - name: Shopper
    wait: {constant: 0.05}
    on_start:
      - http: {url: "/login?user={{user_id}}", name: /login}
    tasks:
      - name: home
        steps:
          - http: {url: "/home?user={{user_id}}", name: /home}
EOF
hrun cookies "$T/cookies.yaml" -u 8 -r 100 -t 2s
homes=$(col cookies /home "Request Count")
echo "# 8 users: /home $homes requests, $(col cookies /home "Failure Count") failed; server: no cookie $(count http "$S_PORT" home_no_cookie), another user's $(count http "$S_PORT" home_wrong_user)"
check "cookies: the run passes (exit $RC)" test "$RC" = 0
check "cookies: every /home request carried its own user's session" test "$(col cookies /home "Failure Count")" = 0 -a "${homes:-0}" -gt 20
check "cookies: the server saw no request without or with another user's cookie" \
  test "$(count http "$S_PORT" home_no_cookie)" = 0 -a "$(count http "$S_PORT" home_wrong_user)" = 0
check "cookies: a login is one row (the requested URL), its redirect followed" \
  test "$(col cookies /login "Request Count")" = 8 -a "$(col cookies /login "Failure Count")" = 0
check "cookies: requests the server served == requests hornet reports" \
  test "$(count http "$S_PORT" total)" = "$(( $(col cookies Aggregated "Request Count") + 8 ))"

sed 's|name: /home}|name: /home, cookies: false}|' "$T/cookies.yaml" >"$T/nocookies.yaml"
hrun nocookies "$T/nocookies.yaml" -u 2 -r 100 -t 1s
check "cookies: false sends none (every /home is 401: exit $RC)" \
  test "$RC" = 1 -a "$(col nocookies /home "Failure Count")" = "$(col nocookies /home "Request Count")"
check "cookies: false: the failure is the server's 401" grep -q "^GET,/home,HTTP 401," "$T/nocookies/run_failures.csv"

# --- redirects
before=$(count http "$S_PORT" /redirect)
cat >"$T/redirects.yaml" <<EOF
host: http://127.0.0.1:$S_PORT
users:
  - name: R
    tasks:
      - name: hops
        steps:
          - http: {url: /redirect/3}
          - http: {url: /redirect/2, name: no-follow, follow_redirects: false, check: {status: 302}}
          - http: {url: /loop}
EOF
hrun redirects "$T/redirects.yaml" -u 1 -r 10 -t 1s
n3=$(col redirects /redirect/3 "Request Count"); nf=$(col redirects no-follow "Request Count")
served=$(( $(count http "$S_PORT" /redirect) - before ))
echo "# /redirect/3 x$n3, no-follow x$nf; the server served $served /redirect/* requests"
check "redirects: followed to the end (3 hops + the page), row named by the requested URL" \
  test "${n3:-0}" -gt 0 -a "$(col redirects /redirect/3 "Failure Count")" = 0
check "redirects: follow_redirects: false stops at the 302" test "$(col redirects no-follow "Failure Count")" = 0
check "redirects: the server served 4 per followed request and 1 per unfollowed one" test "$served" = $(( 4 * n3 + nf ))
check "redirects: a loop stops after 30 (requests' limit), as one failure" \
  grep -q "^GET,/loop,Maximum (30) redirects followed," "$T/redirects/run_failures.csv"
check "redirects: the loop's 31 responses were all served" test "$(count http "$S_PORT" /loop)" = $(( 31 * $(col redirects /loop "Request Count") ))

# --- basic auth
cat >"$T/auth.yaml" <<EOF
host: http://127.0.0.1:$S_PORT
users:
  - name: A
    tasks:
      - name: t
        steps:
          - http: {url: /basic, name: good, auth: {basic: [alice, s3cret]}}
          - http: {url: /basic, name: bad, auth: {basic: [alice, wrong]}}
EOF
hrun auth "$T/auth.yaml" -u 1 -r 10 -t 1s
check "basic auth: the right password passes" test "$(col auth good "Failure Count")" = 0 -a "$(col auth good "Request Count")" -gt 0
check "basic auth: a wrong one is the server's 401" grep -q "^GET,bad,HTTP 401," "$T/auth/run_failures.csv"

# --- TLS: a CA, a server certificate for 127.0.0.1, a client certificate
mkdir -p "$T/pki" && cd "$T/pki" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=hornet-it-ca >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile san.ext >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout cli.key -out cli.csr -subj /CN=hornet-client >/dev/null 2>&1
openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cli.pem -days 2 >/dev/null 2>&1
cd "$T" || exit 1
check "pki: certificates made" test -s pki/srv.pem -a -s pki/cli.pem
start_sem TLS --cert pki/srv.pem --key pki/srv.key
cat >"$T/tls.yaml" <<EOF
host: https://127.0.0.1:$TLS_PORT
users:
  - name: T
    tasks: [{name: t, steps: [{http: {url: /redirect/0, name: page}}]}]
EOF
hrun tls_untrusted "$T/tls.yaml" -u 1 -r 10 -t 1s
check "tls: an unknown CA fails verification (exit $RC)" test "$RC" = 1 -a "$(col tls_untrusted page "Request Count")" -gt 0
check "tls: the failure names the certificate problem" grep -qi "certificate" "$T/tls_untrusted/run_failures.csv"
hrun tls_insecure "$T/tls.yaml" -u 1 -r 10 -t 1s --insecure
check "tls: --insecure skips verification (exit $RC)" test "$RC" = 0 -a "$(col tls_insecure page "Failure Count")" = 0
sed 's|name: page}|name: page, insecure: true}|' "$T/tls.yaml" >"$T/tls_step.yaml"
hrun tls_step "$T/tls_step.yaml" -u 1 -r 10 -t 1s
check "tls: insecure: true on a step (exit $RC)" test "$RC" = 0
hrun tls_ca "$T/tls.yaml" -u 1 -r 10 -t 1s --ca-file pki/ca.pem
check "tls: --ca-file trusts the test CA (exit $RC)" test "$RC" = 0 -a "$(col tls_ca page "Request Count")" -gt 0
printf 'tls: {ca_file: pki/ca.pem}\n' >>"$T/tls.yaml"
hrun tls_yaml "$T/tls.yaml" -u 1 -r 10 -t 1s
check "tls: tls.ca_file in the scenario (exit $RC)" test "$RC" = 0

start_sem MTLS --cert pki/srv.pem --key pki/srv.key --client-ca pki/ca.pem
cat >"$T/mtls.yaml" <<EOF
host: https://127.0.0.1:$MTLS_PORT
tls: {ca_file: pki/ca.pem}
users:
  - name: M
    tasks: [{name: t, steps: [{http: {url: /whoami, check: {body_contains: hornet-client}}}]}]
EOF
hrun mtls_none "$T/mtls.yaml" -u 1 -r 10 -t 1s
check "mtls: without a client certificate the server refuses (exit $RC)" test "$RC" = 1
hrun mtls "$T/mtls.yaml" -u 1 -r 10 -t 1s --client-cert pki/cli.pem --client-key pki/cli.key
check "mtls: --client-cert/--client-key are presented (the server saw CN=hornet-client; exit $RC)" \
  test "$RC" = 0 -a "$(col mtls /whoami "Request Count")" -gt 0

hrun badflag "$T/mtls.yaml" -u 1 -t 1s --ca-file pki/nope.pem
check "tls: a missing --ca-file is exit 2 naming the flag" \
  test "$RC" = 2 -a "$(cat "$T/badflag/err")" = "hornet: --ca-file: cannot read 'pki/nope.pem': No such file or directory"
finish
