#!/usr/bin/env bash
# Sets everything up and runs every test: the unit and end-to-end tests of the
# release build (including the accuracy runs of the examples), then the unit
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

echo "== release build and tests"
scripts/build.sh build
(cd build && ctest --output-on-failure -j"$jobs" -LE slow)
(cd build && ctest --output-on-failure -L slow)

echo "== sanitizer build (ASan + UBSan) and unit tests"
scripts/build.sh build-asan -DBRAID_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -j"$jobs")
