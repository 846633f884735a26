#!/usr/bin/env bash
# Step time of synchronous training on a local cluster (1 ps, 2 workers, each
# with half the global batch) against one process with the whole global
# batch, on loopback. Usage: bench/sync_step_time.sh [MODEL [EPOCHS]]
# (default: mlp 1; the CNN takes minutes). Needs a built build/bin/braid.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-mlp}
epochs=${2:-1}
braid=$PWD/build/bin/braid
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step_ms() {  # metrics.json -> milliseconds per step
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("%.1f" % (1000*m["wall_time_seconds"]/m["steps"]))' "$1"
}

"$braid" train --model "$model" --epochs "$epochs" --batch_size 128 \
  --metrics_json "$work/local.json" > "$work/local.log"
"$braid" launch --ps 1 --workers 2 -- "$braid" train --model "$model" --epochs "$epochs" \
  --batch_size 64 --sync_replicas --metrics_json "$work/sync.json" > "$work/sync.log" 2>&1

local_ms=$(step_ms "$work/local.json")
sync_ms=$(step_ms "$work/sync.json")
echo "model $model, $epochs epoch(s), global batch 128, $(nproc) cores"
echo "one process, batch 128:              $local_ms ms/step"
echo "sync, 1 ps + 2 workers x batch 64:   $sync_ms ms/step"
python3 -c 'import sys; print(f"ratio sync/local: {float(sys.argv[2])/float(sys.argv[1]):.2f}")' \
  "$local_ms" "$sync_ms"
