#!/usr/bin/env bash
# Sets everything up and runs the main demo: a local cluster of one ps and two
# workers (three processes on loopback, gRPC between them) training the CNN on
# Fashion-MNIST asynchronously, 3 epochs, ending with the test accuracy (about
# 0.90). The chief writes TensorBoard summaries under runs/ and the demo ends
# with the command that opens the dashboard on them. Extra arguments go to
# `braid train`, e.g. scripts/demo.sh --epochs 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
args=(--model cnn --logdir "runs/cnn-$(date +%Y%m%d-%H%M%S)")
[[ " $* " == *" --epochs "* ]] || args+=(--epochs 3)
build/bin/braid launch --ps 1 --workers 2 -- braid train "${args[@]}" "$@"
echo
echo "Dashboard of this and earlier demo runs: build/bin/braid board --logdir runs"
echo "then open http://127.0.0.1:6006/ (TensorBoard reads the same files: tensorboard --logdir runs)"
