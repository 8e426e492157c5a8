#!/usr/bin/env bash
# Configuration as a Locust user sets it (config files, LOCUST_*/HORNET_* variables, flags, in
# that order), and the deployment files: the Kubernetes manifests and the compose file checked
# without a cluster (scripts/test-compose.sh runs the compose cluster for real).
. "$(dirname "$0")/../lib.sh"

start_target TGT
SC="$SRC/scenarios/smoke.yaml"
spawned() { sed -n 's/.*All users spawned: .* (\([0-9]*\) total users).*/\1/p' "$1" | head -1; }
hrun() { # hrun NAME ENV... -- ARGS...: a short local run in $T; sets RC, leaves NAME.err
  local name=$1; shift
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done; shift
  (cd "$T" && env "${envs[@]}" timeout 60 "$HORNET" -f "$SC" -H "http://127.0.0.1:$TGT_PORT" \
     -r 100 --no-db --only-summary "$@" >"$T/$name.out" 2>"$T/$name.err"); RC=$?
}

hrun locust_users LOCUST_USERS=7 LOCUST_RUN_TIME=2s -- --headless
check "LOCUST_USERS=7 runs 7 users (exit $RC)" test "$RC" = 0 -a "$(spawned "$T/locust_users.err")" = 7
check "LOCUST_RUN_TIME=2s ends the run" grep -q "Time limit reached" "$T/locust_users.err"

printf '# the team defaults\n[hornet]\nusers = 3\nrun-time = 2s\nspawn_rate: 50\n' >"$T/team.conf"
hrun cfg -- --config team.conf
check "--config: its users are used (exit $RC)" test "$RC" = 0 -a "$(spawned "$T/cfg.err")" = 3
hrun cfg_env HORNET_USERS=5 -- --config team.conf
check "the environment overrides the config file" test "$(spawned "$T/cfg_env.err")" = 5
hrun cfg_cli HORNET_USERS=5 LOCUST_USERS=6 -- --config team.conf -u 4
check "the command line overrides both" test "$(spawned "$T/cfg_cli.err")" = 4
printf 'users = 2\nrun-time = 2s\n' >"$T/hornet.conf"
hrun local_conf --
check "./hornet.conf is read by itself" test "$(spawned "$T/local_conf.err")" = 2
rm -f "$T/hornet.conf"
printf 'users = 3\nusres = 4\n' >"$T/typo.conf"
hrun typo -- --config typo.conf
check "an unknown key: exit 2, one line naming the file and line (got $RC)" \
  test "$RC" = 2 -a "$(cat "$T/typo.err")" = "hornet: typo.conf:2: unknown option 'usres' (did you mean 'users'?)"
hrun badenv LOCUST_SPAWN_RATE=fast -- -t 1s
check "a bad variable: exit 2, the line names it (got $RC)" \
  test "$RC" = 2 -a -n "$(grep '^hornet: LOCUST_SPAWN_RATE: --spawn-rate: expected a rate' "$T/badenv.err")"
hrun noconf -- --config nope.conf -t 1s
check "--config FILE that is not there: exit 2 naming it" test "$RC" = 2 -a -n "$(grep "^hornet: --config nope.conf: No such file" "$T/noconf.err")"
"$HORNET" --help >"$T/help.out"
check "--help shows each option's variables" grep -qE '^  --users +HORNET_USERS, LOCUST_USERS, K6_VUS$' "$T/help.out"
check "--help shows Locust's own names for the exceptions" grep -qE '^  --master-host +HORNET_MASTER_HOST, LOCUST_MASTER_HOST, LOCUST_MASTER_NODE_HOST$' "$T/help.out"

# the deployment files
check "k8s manifests and the compose file pass their checks" python3 "$SRC/tests/tools/deploy_check.py" "$SRC"
python3 -c "import yaml, sys; print(yaml.safe_load(open(sys.argv[1]))['data']['smoke.yaml'], end='')" \
  "$SRC/deploy/k8s/scenario-configmap.yaml" >"$T/cm_smoke.yaml"
check "the ConfigMap's scenario is valid for hornet --check" bash -c "\"\$0\" -f \"\$1\" --check >/dev/null" "$HORNET" "$T/cm_smoke.yaml"
finish
