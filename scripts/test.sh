#!/usr/bin/env bash
# Sets everything up and runs every test: the unit and end-to-end tests of the
# release build (including the accuracy runs of the examples), the command-line
# tests and the compatibility tests against real TensorFlow (pytest, in the
# project's .venv), then the unit tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

echo "== release build and tests"
scripts/build.sh build
(cd build && ctest --output-on-failure -j"$jobs" -LE slow)
(cd build && ctest --output-on-failure -L slow)

echo "== command-line, cluster and TensorFlow compatibility tests (pytest, in .venv)"
scripts/venv.sh
PYTHONDONTWRITEBYTECODE=1 BRAID_BUILD_DIR=build .venv/bin/pytest -q -p no:cacheprovider \
  tests/cli tests/distributed tests/compat

echo "== sanitizer build (ASan + UBSan) and unit tests"
# -O1 keeps the sanitized op tables and small training tests quick.
scripts/build.sh build-asan -DBRAID_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g"

(cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest --output-on-failure -j"$jobs")
