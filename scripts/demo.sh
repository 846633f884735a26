#!/usr/bin/env bash
# Sets everything up and runs the main demo: a local cluster of one ps and two
# workers (three processes on loopback, gRPC between them) training the CNN on
# Fashion-MNIST asynchronously, 3 epochs, ending with the test accuracy (about
# 0.90). The chief writes TensorBoard summaries under runs/ and exports the
# trained model; the demo then serves the export with `braid serve`, sends it
# one test image over TF Serving's REST API, prints the answer and stops the
# server. Extra arguments go to `braid train`, e.g. scripts/demo.sh --epochs 1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh build
run="cnn-$(date +%Y%m%d-%H%M%S)"
export_dir="runs/$run-export"
args=(--model cnn --logdir "runs/$run" --export_dir "$export_dir")
[[ " $* " == *" --epochs "* ]] || args+=(--epochs 3)
build/bin/braid launch --ps 1 --workers 2 -- braid train "${args[@]}" "$@"

echo
echo "== serving the exported model: braid serve --model_name fmnist --model_base_path $export_dir"
log=$(mktemp)
build/bin/braid serve --model_name fmnist --model_base_path "$export_dir" \
  --port 0 --rest_api_port 0 --host 127.0.0.1 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
url=""
for _ in $(seq 600); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 || true)
  [[ -n $url ]] && curl -sf "$url/readyz" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done

# The first Fashion-MNIST test image as TF Serving's row format: 28 x 28 x 1
# nested lists of pixels / 255. (head closes the pipes early, which pipefail
# would count as a failure of gzip.)
set +o pipefail
data=/usr/share/datasets/fashion-mnist
image=$(gzip -dc $data/t10k-images-idx3-ubyte.gz | tail -c +17 | head -c 784 | od -An -tu1 -v |
  awk '{ for (i = 1; i <= NF; i++) p[n++] = $i }
       END { s = "["; for (r = 0; r < 28; r++) { s = s (r ? "," : "") "[";
               for (c = 0; c < 28; c++) s = s (c ? "," : "") "[" p[r * 28 + c] / 255 "]";
               s = s "]" } print s "]" }')
label=$(gzip -dc $data/t10k-labels-idx1-ubyte.gz | tail -c +9 | head -c 1 | od -An -tu1 | tr -d ' ')
echo "\$ curl -d '{\"instances\": [IMAGE]}' $url/v1/models/fmnist:predict"
answer=$(curl -sS -d "{\"instances\": [$image]}" "$url/v1/models/fmnist:predict")
echo "$answer"
names=("T-shirt/top" Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag "Ankle boot")
predicted=$(echo "$answer" | sed 's/.*\[\[//; s/\]\].*//' |
  awk -F, '{ m = 1; for (i = 2; i <= NF; i++) if ($i + 0 > $m + 0) m = i; print m - 1 }')
echo "predicted class $predicted (${names[$predicted]}); the image is labelled $label (${names[$label]})"
kill -TERM $server
wait $server || true
echo "server stopped"
echo
echo "Dashboard of this and earlier demo runs: build/bin/braid board --logdir runs"
echo "then open http://127.0.0.1:6006/ (TensorBoard reads the same files: tensorboard --logdir runs)"
