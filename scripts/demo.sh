#!/usr/bin/env bash
# Sets everything up and runs the main demo: a local cluster of one ps and two
# workers (three processes on loopback, gRPC between them) training the CNN on
# Fashion-MNIST asynchronously, 3 epochs, ending with the test accuracy (about
# 0.90). Extra arguments go to `braid train`, e.g. scripts/demo.sh --epochs 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
args=(--model cnn)
[[ " $* " == *" --epochs "* ]] || args+=(--epochs 3)
exec build/bin/braid launch --ps 1 --workers 2 -- braid train "${args[@]}" "$@"
