#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and fuzzes each from a seed corpus:
# the msgpack decoder (real messages) and the native HTTP engine's response reader (real
# responses). Usage: scripts/fuzz.sh [SECONDS per target (default 30)]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
bash scripts/install-deps.sh --fuzz
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DHORNET_FUZZ=ON \
  -DHORNET_WERROR=ON >/dev/null
cmake --build build-fuzz --target fuzz_codec fuzz_h1resp -j"$(nproc)"
corpus=$(mktemp -d /tmp/hornet-fuzz.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
for t in proto/fuzz_codec worker/fuzz_h1resp; do
  mkdir -p "$corpus/${t#*/}"
  HORNET_FUZZ_SEEDS="$corpus/${t#*/}" "build-fuzz/$t" -runs=0 "$corpus/${t#*/}" >/dev/null 2>&1
  "build-fuzz/$t" -max_total_time="$secs" -rss_limit_mb=1024 "$corpus/${t#*/}" 2>&1 | tail -2
done
