#!/usr/bin/env bash
# Builds the msgpack decoder's libFuzzer target with clang (ASan + UBSan) and fuzzes it from a
# seed corpus of real messages. Usage: scripts/fuzz.sh [SECONDS (default 30)]
set -eu
cd "$(dirname "$0")/.."
secs=${1:-30}
bash scripts/install-deps.sh --fuzz
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DHORNET_FUZZ=ON \
  -DHORNET_WERROR=ON >/dev/null
cmake --build build-fuzz --target fuzz_codec -j"$(nproc)"
corpus=$(mktemp -d /tmp/hornet-fuzz.XXXXXX)
trap 'rm -rf "$corpus"' EXIT
HORNET_FUZZ_SEEDS="$corpus" build-fuzz/proto/fuzz_codec -runs=0 "$corpus" >/dev/null 2>&1
build-fuzz/proto/fuzz_codec -max_total_time="$secs" -rss_limit_mb=1024 "$corpus" 2>&1 | tail -2
