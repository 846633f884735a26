#!/usr/bin/env bash
# What TensorBoard summaries cost a training step: `braid train` with and
# without --logdir (default period: --summary_steps 100), alternating runs,
# the median of the per-pair ratios of examples/s.
# Usage: bench/summary_overhead.sh [MODEL [STEPS [PAIRS]]] (default: cnn 400 3).
# Needs a built build/bin/braid.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-cnn}
steps=${2:-400}
pairs=${3:-3}
braid=$PWD/build/bin/braid
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rate() {  # metrics.json -> examples/s
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["examples_per_second"])' "$1"
}
run() {  # name, extra flags...
  local name=$1
  shift
  "$braid" train --model "$model" --epochs 100 --max_steps "$steps" --log_step_count_steps 0 \
    --metrics_json "$work/$name.json" "$@" > "$work/$name.log"
  rate "$work/$name.json"
}

echo "model $model, $steps steps, $(nproc) cores, --summary_steps 100 (default)"
ratios=()
for i in $(seq "$pairs"); do
  rm -rf "$work/logs"
  without=$(run "without$i")
  with=$(run "with$i" --logdir "$work/logs")
  ratio=$(python3 -c "print(f'{$with / $without:.4f}')")
  ratios+=("$ratio")
  printf 'pair %d: without %.0f ex/s, with summaries %.0f ex/s, ratio %s\n' "$i" "$without" "$with" "$ratio"
done
python3 - "${ratios[@]}" <<'PY'
import statistics, sys
r = statistics.median(float(x) for x in sys.argv[1:])
print(f"median ratio {r:.4f}: summaries cost {100 * (1 - r):.2f}% of the step time")
PY
