#!/usr/bin/env bash
# Version swaps while serving (issue 8's "pains"): one `braid serve` process
# serves two models from a --model_config_file, the MLP ("steady") and the CNN
# ("swapping", 39 MB of variables). While a client sends the MLP predictions
# back to back (bench/serve_load, REST, one connection), 20 new CNN versions
# are dropped into its base path one after another, each replacing the last.
# Prints the server's RSS after every swap (memory must come back after an
# unload) and the MLP's latency before and during the swaps (a load must not
# slow the other model down).
#   bench/serve_swap.sh [SWAPS]
set -euo pipefail
cd "$(dirname "$0")/.."
swaps=${1:-20}
scripts/build.sh build >/dev/null
ninja -C build serve_load >/dev/null
braid=build/bin/braid
work=$(mktemp -d)
server=""
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "== exporting the MLP and the CNN (a few seconds)"
$braid train --model mlp --epochs 1 --max_steps 50 --export_dir "$work/mlp-stage" >/dev/null
$braid train --model cnn --epochs 1 --max_steps 1 --export_dir "$work/cnn-stage" >/dev/null
mkdir -p "$work/mlp" "$work/cnn"
mv "$work/mlp-stage/50" "$work/mlp/1"
template="$work/cnn-stage/1"
cp -r "$template" "$work/cnn/1"
cat >"$work/models.config" <<CONFIG
model_config_list {
  config { name: "steady" base_path: "$work/mlp" }
  config { name: "swapping" base_path: "$work/cnn" }
}
CONFIG
$braid serve --model_config_file "$work/models.config" --port 0 --rest_api_port 0 \
  --host 127.0.0.1 --file_system_poll_wait_seconds 0.2 >"$work/serve.log" 2>&1 &
server=$!
url=""
for _ in $(seq 600); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1 || true)
  [[ -n $url ]] && curl -sf "$url/readyz" >/dev/null && break
  sleep 0.1
done
address=${url#http://}
rss() { awk '/VmRSS/ { print $2 / 1024 }' "/proc/$server/status"; }
version_in() {  # VERSION STATE
  curl -s "$url/v1/models/swapping/versions/$1" | grep -q "\"$2\""
}

echo "== MLP latency with nothing else happening (REST, 1 connection, 8 s)"
baseline=$(build/bench/serve_load --target rest --address "$address" --model steady \
  --connections 1 --seconds 8)
echo "$baseline"
printf "RSS after start: %.1f MiB\n" "$(rss)"

echo "== $swaps CNN swaps while the MLP is served"
build/bench/serve_load --target rest --address "$address" --model steady --connections 1 \
  --seconds $((swaps / 4 + 1)) >"$work/during.json" &  # about as long as the swaps take
load=$!
sleep 1
start=$(date +%s.%N)
for v in $(seq 2 $((swaps + 1))); do
  cp -r "$template" "$work/cnn/.staging" && mv "$work/cnn/.staging" "$work/cnn/$v"
  rm -rf "$work/cnn/$((v - 1))"
  until version_in "$v" AVAILABLE && version_in $((v - 1)) END; do sleep 0.05; done
  sleep 0.3  # the unloaded session is freed and trimmed just after its END
  printf "swap %2d: version %2d available, RSS %.1f MiB\n" $((v - 1)) "$v" "$(rss)"
done
end=$(date +%s.%N)
wait $load
echo "swaps took $(echo "$end - $start" | bc) s"
echo "MLP during the swaps: $(cat "$work/during.json")"
python3 - "$baseline" "$(cat "$work/during.json")" <<'PY'
import json, sys
before, during = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for key in ["p50_us", "p99_us", "mean_us"]:
    print(f"{key}: {before[key]:.0f} before, {during[key]:.0f} during the swaps")
print(f"errors during the swaps: {during['errors']}")
PY
grep -c "unloaded" "$work/serve.log" | xargs echo "unloads logged:"
