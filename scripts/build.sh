#!/usr/bin/env bash
# Installs the Debian packages hornet needs (only the missing ones) and builds into build/ with
# warnings as errors. Usage: scripts/build.sh [extra cmake args]
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHORNET_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
