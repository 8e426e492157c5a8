#!/usr/bin/env bash
# Installs what hornet needs to build and test, from Debian packages only.
# Idempotent: installs only what is missing. Usage: scripts/install-deps.sh [--test | --compose | --bench | --fuzz]
# (--test: what the test suites also use: python3, openssl, Locust for the side-by-side run)
set -eu
pkgs="build-essential cmake pkg-config git ca-certificates
      libzmq3-dev libcurl4-openssl-dev libuv1-dev libmsgpack-dev libyaml-dev libsqlite3-dev
      libwebsockets-dev libwebsockets-evlib-uv libjansson-dev libmicrohttpd-dev libjs-dygraphs
      libhttp-parser-dev
      libcmocka-dev curl
      procps sqlite3
      chromium"
case "${1:-}" in
  --test) pkgs="$pkgs python3 python3-yaml openssl python3-locust prometheus python3-selenium
                  chromium-driver nginx-light" ;;
  --compose) pkgs="docker.io docker-compose debootstrap iptables" ;;
  --bench) pkgs="$pkgs nginx-light wrk python3-locust time util-linux iproute2" ;;
  --fuzz) pkgs="$pkgs clang libclang-rt-dev" ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages:$missing (run as root, or install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
