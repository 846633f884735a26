#!/usr/bin/env bash
# braid against PyTorch on CPU training, side by side (bench/vs_pytorch.py;
# docs/performance.md). Builds braid and bench/gemm_peak, creates
# .venv-bench/ with PyPI's torch (the first time: several GB, since PyPI's
# Linux wheel brings CUDA libraries it does not use here), then runs PAIRS
# alternating braid/torch runs per model and thread count.
#   bench/vs_pytorch.sh [--pairs 3] [--models mlp,cnn] [--threads 1,2] [--epochs 1]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build >/dev/null
ninja -C build braid_cli gemm_peak >/dev/null
venv=.venv-bench
readonly torch_pin=torch==2.15.0
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import torch, numpy" 2>/dev/null; then
  echo "vs_pytorch: installing $torch_pin and numpy into $venv (once)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --progress-bar off \
    "$torch_pin" numpy
fi
exec python3 bench/vs_pytorch.py --python "$venv/bin/python" "$@"
