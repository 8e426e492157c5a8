#!/usr/bin/env bash
# The tests: build with warnings as errors, run every unit and integration test through CTest,
# then the unit tests and most suites again under AddressSanitizer and UBSan, fuzz the message
# decoder and the native HTTP engine's response reader briefly (clang + libFuzzer), then run the
# docker-compose cluster for real (scripts/test-compose.sh: image, master, 2 workers, the demo
# target).
set -eu
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
bash scripts/build.sh
# screenshots of the web UI and the HTML report land in build/artifacts
export HORNET_ARTIFACTS="$PWD/build/artifacts"
(cd build && ctest --output-on-failure --timeout 300)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHORNET_WERROR=ON -DHORNET_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
# under ASan: every suite whose code paths differ, but not it_cluster (its 2 minutes are
# partition and timeout waits; unit_cluster runs the same core under ASan) nor the curl re-runs
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --output-on-failure --timeout 300 -E '_curl$' \
    -R 'unit_|it_distributed|it_lang|it_ws|it_store|it_faults|it_load|it_http|it_locust|it_metrics|it_webui|it_native')
bash scripts/fuzz.sh 12
bash scripts/test-compose.sh
