#!/usr/bin/env bash
# The docker-compose cluster, for real: builds deploy/Dockerfile (unchanged) on a Debian base
# image made here with debootstrap (no registry is reachable), brings up the demo target, a
# master and 2 workers with deploy/docker-compose.yml for a short headless run, and checks that
# the target served exactly the requests hornet reports and that the CSV files are on the
# reports volume. Everything it started is removed, on failure too: containers, network,
# volume, and the Docker engine if this script started it (its images stay as a cache).
# Under CI it must run; elsewhere it skips, in one line, only when no engine can start.
# Usage: scripts/test-compose.sh        Exit 0 passed (or skipped), 1 failed.
set -u
cd "$(dirname "$0")/.."
SRC=$PWD
T=$(mktemp -d /tmp/hornet-compose.XXXXXX)
P="hornetct$$"
IMAGE="hornet:compose-test"
CACHE=${HORNET_COMPOSE_CACHE:-/var/cache/hornet-compose}
started_engine=""
FAILS=0
t0=$(date +%s)
say() { echo "compose: $*"; }
ok() { echo "ok   - $*"; }
bad() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
dc() { HORNET_IMAGE=$IMAGE timeout "${DC_TIMEOUT:-120}" docker-compose -p "$P" -f deploy/docker-compose.yml "$@"; }

cleanup() {
  if [ -n "${compose_up:-}" ]; then
    dc down -v --remove-orphans >"$T/down.log" 2>&1 || cat "$T/down.log"
  fi
  # the build stage's layers (about 900 MB with vfs) go; the base image stays as the cache
  docker image prune -f >/dev/null 2>&1
  if [ -n "$started_engine" ]; then
    kill "$started_engine" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$started_engine" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$started_engine" 2>/dev/null
  fi
  if [ "$FAILS" -eq 0 ]; then rm -rf "$T"; else echo "compose: logs kept in $T"; fi
}
trap cleanup EXIT
skip_or_fail() {
  if [ "${CI:-}" = true ]; then bad "$1"; exit 1; fi
  say "skipped: $1"; exit 0
}

if [ "$(id -u)" -ne 0 ] && ! docker info >/dev/null 2>&1; then
  skip_or_fail "not root and no Docker engine reachable"
fi
if [ "$(id -u)" -eq 0 ]; then
  bash scripts/install-deps.sh --compose || skip_or_fail "cannot install docker.io, docker-compose, debootstrap"
fi

# --- the engine: the running one, or one started here (vfs works where overlay does not)
if ! docker info >/dev/null 2>&1; then
  dockerd --storage-driver=vfs >"$T/dockerd.log" 2>&1 &
  started_engine=$!
  for _ in $(seq 600); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
  if ! docker info >/dev/null 2>&1; then
    tail -5 "$T/dockerd.log"
    skip_or_fail "no Docker engine could start here (dockerd --storage-driver=vfs)"
  fi
  say "started dockerd (pid $started_engine, vfs)"
fi

# --- the base image: debian:bookworm-slim made with debootstrap, cached as a tarball
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  mkdir -p "$CACHE"
  if [ ! -s "$CACHE/bookworm-slim.tar" ]; then
    say "debootstrap --variant=minbase bookworm (once; cached in $CACHE)"
    if ! debootstrap --variant=minbase bookworm "$T/root" http://deb.debian.org/debian \
         >"$T/debootstrap.log" 2>&1; then
      tail -5 "$T/debootstrap.log"; bad "debootstrap of the base image failed"; exit 1
    fi
    # trimmed as Debian's bookworm-slim is: no package cache, no apt lists, no docs beyond the
    # copyright files, and dpkg told to leave docs out of later installs too
    R="$T/root"
    rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* "$R"/usr/share/man/* \
      "$R"/usr/share/locale/* "$R"/usr/share/info/*
    find "$R/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null
    printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
      'path-exclude /usr/share/man/*' 'path-exclude /usr/share/locale/*' \
      'path-exclude /usr/share/info/*' >"$R/etc/dpkg/dpkg.cfg.d/slim"
    tar -C "$R" -c . >"$CACHE/bookworm-slim.tar.tmp" && mv "$CACHE/bookworm-slim.tar.tmp" "$CACHE/bookworm-slim.tar"
    rm -rf "$R"
  fi
  docker import "$CACHE/bookworm-slim.tar" debian:bookworm-slim >/dev/null ||
    { bad "docker import of the base image failed"; exit 1; }
fi

# --- the image, from deploy/Dockerfile as it is
b0=$(date +%s)
if ! docker build -q -f deploy/Dockerfile -t "$IMAGE" . >"$T/build.log" 2>&1; then
  tail -20 "$T/build.log"; bad "docker build -f deploy/Dockerfile failed"; exit 1
fi
size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
say "image built in $(( $(date +%s) - b0 )) s: $(( size / 1000000 )) MB"
check "the image runs hornet as a non-root user" test "$(docker run --rm --entrypoint id "$IMAGE" -u)" != 0
check "the image's hornet answers" docker run --rm "$IMAGE" --version

# --- the cluster: target, master, 2 workers; options through the environment
export LOCUST_LOCUSTFILE=/scenarios/smoke.yaml LOCUST_USERS=10 LOCUST_SPAWN_RATE=20 \
  LOCUST_RUN_TIME=8s LOCUST_EXPECT_WORKERS=2 TARGET_LATENCY_MS=5 TARGET_JITTER_MS=2 \
  HORNET_ONLY_SUMMARY=true HORNET_CLUSTER_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
compose_up=1
DC_TIMEOUT=180 dc up --no-build --scale worker=2 --exit-code-from master >"$T/up.log" 2>&1
rc=$?
say "docker-compose up exited $rc"
check "the run's exit code is compose's: 0 (got $rc)" test "$rc" = 0
dc logs --no-color >"$T/logs.txt" 2>&1
check "the master ran 10 users on 2 workers" grep -q 'All users spawned: {"Prober": 10} (10 total users)' "$T/logs.txt"
served=$(sed -n 's/.*hornet-demo-target: served {"total":\([0-9]*\),.*/\1/p' "$T/logs.txt" | tail -1)
vol="${P}_reports"
docker run --rm -v "$vol:/reports" --entrypoint cat "$IMAGE" /reports/run_stats.csv >"$T/run_stats.csv" 2>"$T/cat.err"
reported=$(awk -F, '$2=="Aggregated"{print $3}' "$T/run_stats.csv")
say "the target served ${served:-?} requests; hornet reported ${reported:-?}"
check "the CSV files are on the reports volume" test -n "$reported"
check "requests the target served == requests hornet reports (${served:-?} = ${reported:-?})" \
  test -n "$served" -a "$served" = "$reported" -a "${reported:-0}" -gt 0
files=$(docker run --rm -v "$vol:/reports" --entrypoint ls "$IMAGE" /reports | tr '\n' ' ')
check "history, HTML report and database are there too ($files)" \
  bash -c "echo '$files' | grep -q run_stats_history.csv && echo '$files' | grep -q report.html && echo '$files' | grep -q hornet.db"

dc down -v --remove-orphans >"$T/down.log" 2>&1
compose_up=""
left=$(docker ps -aq --filter "label=com.docker.compose.project=$P"; docker volume ls -q --filter "name=$vol"; docker network ls -q --filter "name=${P}_")
check "nothing is left running: no container, volume or network of the project" test -z "$left"
say "took $(( $(date +%s) - t0 )) s"
echo "$((FAILS == 0 ? 1 : 0)) of 1 compose runs passed"
[ "$FAILS" -eq 0 ]
