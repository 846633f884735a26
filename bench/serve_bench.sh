#!/usr/bin/env bash
# Throughput and latency of `braid serve` on the MLP (or the CNN), over REST and gRPC, with
# and without dynamic batching (docs/performance.md, "Serving"). Builds what
# it needs, exports the MLP once into a temporary directory, then for each
# mode starts `braid serve` on free ports on 127.0.0.1 and runs
# bench/serve_load.cc (closed loop, one request at a time per connection) at
# each concurrency. Prints a table and two figures:
#   - REST overhead at concurrency 1: mean latency of a 1-row predict against
#     GET /healthz on the same HTTP stack, and their difference;
#   - batching ratio: rps with batching / rps without, at the most
#     connections, for REST and for gRPC.
# The load generator runs on the same machine as the server and competes
# with it for the cores; "srv CPU" and "cli CPU" (µs of CPU per request, from
# /proc and getrusage) show how the work splits, and "rows/batch" (from the
# server's Prometheus metrics) how well requests merged.
#
# Settings (environment):
#   MODEL=mlp                 the model served: mlp or cnn (same 28x28x1 input)
#   DURATION=5                measured seconds per run (after a 1 s warm-up)
#   CONNECTIONS="1 16 64"     concurrencies; the batching ratio uses the last
#   MODES="none batching"     which servers to run
#   BATCHING_PARAMETERS='max_batch_size { value: 64 } ...'   the file's text
#   SERVE_FLAGS=""            more `braid serve` flags, e.g. --inter_op_threads 1
#   SERVE_PRELOAD=""          a library to LD_PRELOAD into the server, e.g. another
#                             allocator (/usr/lib/x86_64-linux-gnu/libjemalloc.so.2)
#   KEEP_RESULTS=FILE         also write every run's JSON line (with "mode") here
#   KEEP_WORK=1               keep the temporary directory (model, server logs)
set -euo pipefail
cd "$(dirname "$0")/.."
flock /tmp/braid-build.lock nice ninja -C build -j2 braid_cli serve_load >/dev/null

model=${MODEL:-mlp}
duration=${DURATION:-5}
read -r -a connections <<< "${CONNECTIONS:-1 16 64}"
read -r -a modes <<< "${MODES:-none batching}"
batching_parameters=${BATCHING_PARAMETERS:-"max_batch_size { value: 64 } batch_timeout_micros { value: 1000 } num_batch_threads { value: 2 } max_enqueued_batches { value: 1000 }"}
read -r -a serve_flags <<< "${SERVE_FLAGS:-}"

work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A copy, so that a rebuild of build/bin/braid during the run changes nothing.
cp build/bin/braid "$work/braid"
load=$PWD/build/bench/serve_load
"$work/braid" train --model "$model" --epochs 1 --max_steps 50 --export_dir "$work/model" \
  > "$work/train.log" 2>&1 || { cat "$work/train.log"; exit 1; }
printf '%s\n' "$batching_parameters" > "$work/batching.txt"

rest_address= grpc_address=
start_server() {  # MODE
  local flags=(--model_name "$model" --model_base_path "$work/model" --port 0 --rest_api_port 0
               --host 127.0.0.1 "${serve_flags[@]}")
  [[ $1 == batching ]] && flags+=(--enable_batching --batching_parameters_file "$work/batching.txt")
  LD_PRELOAD=${SERVE_PRELOAD:-} "$work/braid" serve "${flags[@]}" > "$work/serve_$1.log" 2>&1 &
  server_pid=$!
  local line=
  for _ in $(seq 100); do
    line=$(grep -o 'gRPC API at [0-9.:]*; REST API at http://[0-9.:]*' "$work/serve_$1.log" || true)
    [[ -n $line ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve_$1.log"; exit 1; }
    sleep 0.1
  done
  [[ -n $line ]] || { echo "braid serve did not start"; cat "$work/serve_$1.log"; exit 1; }
  grpc_address=$(sed -E 's/gRPC API at ([0-9.:]*);.*/\1/' <<< "$line")
  rest_address=$(sed -E 's#.*http://##' <<< "$line")
  for _ in $(seq 100); do
    curl -sf "http://$rest_address/readyz" >/dev/null && return 0
    sleep 0.1
  done
  echo "braid serve never became ready"; cat "$work/serve_$1.log"; exit 1
}
stop_server() {
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
}
server_cpu_ticks() {
  if ! awk '{print $14 + $15}' "/proc/$server_pid/stat" 2>/dev/null; then
    echo "braid serve exited during the run:"; cat "$work"/serve_*.log; exit 1
  fi
}

# "SUM COUNT" of the rows per executed batch so far (0 0 without batching).
batch_rows() {
  curl -sf --max-time 5 "http://$rest_address/monitoring/prometheus/metrics" | awk '
    /^:tensorflow:serving:batching_session:processed_batch_size_sum/ { s += $NF }
    /^:tensorflow:serving:batching_session:processed_batch_size_count/ { c += $NF }
    END { print s + 0, c + 0 }'
}

run() {  # MODE TARGET CONNECTIONS
  local address=$rest_address
  [[ $2 == grpc ]] && address=$grpc_address
  "$load" --target "$2" --address "$address" --model "$model" --connections "$3" \
    --seconds "$duration" > "$work/run.json" 2> "$work/run.err" &
  local pid=$!
  sleep 1  # serve_load's warm-up
  # The metrics are fetched in the background: with every HTTP thread busy
  # the answer can take a while, which must not stretch the CPU window.
  local from; from=$(server_cpu_ticks)
  batch_rows > "$work/rows_from" &
  local fetch=$!
  sleep "$duration"
  local to; to=$(server_cpu_ticks)
  batch_rows > "$work/rows_to"
  wait "$fetch"
  local rows_from rows_to
  rows_from=$(cat "$work/rows_from") rows_to=$(cat "$work/rows_to")
  wait "$pid" || { cat "$work/run.err"; exit 1; }
  [[ -s $work/run.err ]] && sed "s/^/  [$1 $2 $3] /" "$work/run.err" >&2
  python3 - "$work/run.json" "$1" "$((to - from))" "$(getconf CLK_TCK)" "$rows_from" "$rows_to" \
    >> "$work/results.jsonl" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
r["mode"] = sys.argv[2]
ticks, hz = int(sys.argv[3]), int(sys.argv[4])
(s0, c0), (s1, c1) = (map(float, a.split()) for a in sys.argv[5:7])
r["mean_batch_rows"] = (s1 - s0) / (c1 - c0) if c1 > c0 else None
r["server_cpu_us_per_request"] = ticks / hz * 1e6 / r["requests"] if r["requests"] else 0
print(json.dumps(r))
EOF
}

# How busy the machine is without us (1 s of /proc/stat): other engineers'
# builds and tests skew every figure.
cpu_busy_percent() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
  sleep 1
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}
busy_before=$(cpu_busy_percent)

: > "$work/results.jsonl"
for mode in "${modes[@]}"; do
  start_server "$mode"
  if [[ $mode == "${modes[0]}" ]]; then
    for c in "${connections[@]}"; do run "$mode" rest-empty "$c"; done
  fi
  for target in rest grpc; do
    for c in "${connections[@]}"; do run "$mode" "$target" "$c"; done
  done
  stop_server
done
[[ -n ${KEEP_RESULTS:-} ]] && cp "$work/results.jsonl" "$KEEP_RESULTS"

echo "braid serve, MLP, 1 row per request, $duration s per run after 1 s of warm-up, 127.0.0.1"
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')); before the runs other processes kept ${busy_before}% of the CPUs busy"
echo "batching parameters: $batching_parameters"
[[ ${#serve_flags[@]} -gt 0 ]] && echo "serve flags: ${serve_flags[*]}"
echo "note: serve_load runs on the same $(nproc) cores as the server and competes with it;"
echo "      srv/cli CPU are CPU microseconds per request of the server and of the load generator."
python3 - "$work/results.jsonl" <<'EOF'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print()
print("| target | batching | connections | rps | p50 µs | p99 µs | mean µs | errors "
      "| srv CPU µs/req | cli CPU µs/req | rows/batch |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in runs:
    batch = "–" if r["mean_batch_rows"] is None else f"{r['mean_batch_rows']:.1f}"
    print(f"| {r['target']} | {'yes' if r['mode'] == 'batching' else 'no'} | {r['connections']} "
          f"| {r['rps']:.0f} | {r['p50_us']} | {r['p99_us']} | {r['mean_us']:.0f} | {r['errors']} "
          f"| {r['server_cpu_us_per_request']:.0f} | {r['client_cpu_us_per_request']:.0f} | {batch} |")

def find(mode, target, conns):
    for r in runs:
        if r["mode"] == mode and r["target"] == target and r["connections"] == conns:
            return r
    return None

print()
first = runs[0]["mode"]
most = max(r["connections"] for r in runs)
least = min(r["connections"] for r in runs)
predict, empty = find(first, "rest", least), find(first, "rest-empty", least)
if predict and empty:
    print(f"REST overhead at concurrency {least} (batching: {'yes' if first == 'batching' else 'no'}): "
          f"predict mean {predict['mean_us']:.0f} µs (p50 {predict['p50_us']}), "
          f"empty endpoint /healthz mean {empty['mean_us']:.0f} µs (p50 {empty['p50_us']}); "
          f"difference {predict['mean_us'] - empty['mean_us']:.0f} µs "
          f"(p50 {predict['p50_us'] - empty['p50_us']})")
for target in ("rest", "grpc"):
    on, off = find("batching", target, most), find("none", target, most)
    if on and off and off["rps"] > 0:
        print(f"batching ratio, {target}, {most} connections: {on['rps']:.0f} / {off['rps']:.0f} rps "
              f"= {on['rps'] / off['rps']:.2f}x")
EOF
