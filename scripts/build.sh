#!/usr/bin/env bash
# Configures and builds braid into build/ (or $1), passing the remaining
# arguments to CMake. ccache keeps rebuilds cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
ninja -C "$dir"
