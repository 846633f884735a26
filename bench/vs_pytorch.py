"""braid against PyTorch, CPU training side by side (issue 4): the same model
(braid's `mlp` and `cnn` presets), data (Fashion-MNIST), optimizer (Adam,
0.002, cosine), batch (128) and float32, at the same thread counts, in
alternating runs (braid, torch, braid, torch, ...). Prints per-pair ratios of
examples/s and their median, peak RSS of each run, and for the CNN the
achieved GFLOP/s against the machine's single-precision GEMM peak as oneDNN
reaches it (build/bench/gemm_peak). Run by bench/vs_pytorch.sh, which builds
and makes the virtual environment with torch.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BRAID = os.path.join(ROOT, "build", "bin", "braid")
GEMM_PEAK = os.path.join(ROOT, "build", "bench", "gemm_peak")


def cnn_training_flops():
    """Multiply-adds x 2 of one example's forward pass, times 3 for training
    (forward, gradient of the inputs, gradient of the weights), less the
    first convolution's input gradient, which nobody needs."""
    conv1 = 28 * 28 * 32 * 5 * 5 * 1
    conv2 = 14 * 14 * 64 * 5 * 5 * 32
    dense1 = 3136 * 1024
    dense2 = 1024 * 10
    forward = 2 * (conv1 + conv2 + dense1 + dense2)
    return 3 * forward - 2 * conv1


def timed(cmd, env=None):
    """Runs a command; returns (its stdout, its peak RSS in MiB)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        err = proc.stderr.read().decode()
        if status != 0:
            sys.exit(f"{' '.join(cmd)} failed:\n{err[-2000:]}")
        out.seek(0)
        return out.read().decode(), usage.ru_maxrss / 1024


def run_braid(model, threads, epochs):
    with tempfile.TemporaryDirectory() as d:
        metrics = os.path.join(d, "m.json")
        _, rss = timed([BRAID, "train", "--model", model, "--epochs", str(epochs),
                        "--batch_size", "128", "--inter_op_threads", "1",
                        "--intra_op_threads", str(threads), "--metrics_json", metrics])
        m = json.load(open(metrics))
    return m["examples_per_second"], rss, m["test_accuracy"]


def run_torch(python, model, threads, epochs):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out, rss = timed([python, os.path.join(ROOT, "bench", "torch_train.py"), "--model", model,
                      "--threads", str(threads), "--epochs", str(epochs)], env=env)
    m = json.loads(out.strip().splitlines()[-1])
    return m["examples_per_second"], rss, m["test_accuracy"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--python", required=True, help="the venv's python, with torch")
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--models", default="mlp,cnn")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--epochs", type=int, default=1)
    a = p.parse_args()
    rows = []
    for threads in [int(t) for t in a.threads.split(",")]:
        peak = json.loads(subprocess.check_output([GEMM_PEAK, str(threads)]))["gflops"]
        print(f"oneDNN f32 GEMM peak, {threads} thread(s): {peak:.1f} GFLOP/s", flush=True)
        for model in a.models.split(","):
            pairs = []
            for i in range(a.pairs):
                b = run_braid(model, threads, a.epochs)
                t = run_torch(a.python, model, threads, a.epochs)
                pairs.append((b, t))
                print(f"  {model} {threads}t pair {i + 1}: braid {b[0]:,.0f} ex/s "
                      f"({b[1]:.0f} MiB, acc {b[2]:.3f}); torch {t[0]:,.0f} ex/s "
                      f"({t[1]:.0f} MiB, acc {t[2]:.3f}); ratio {b[0] / t[0]:.2f}", flush=True)
            ratio = statistics.median(b[0] / t[0] for b, t in pairs)
            braid_eps = statistics.median(b[0] for b, _ in pairs)
            torch_eps = statistics.median(t[0] for _, t in pairs)
            row = {"model": model, "threads": threads, "braid_eps": braid_eps,
                   "torch_eps": torch_eps, "ratio": ratio,
                   "braid_rss": max(b[1] for b, _ in pairs), "torch_rss": max(t[1] for _, t in pairs)}
            if model == "cnn":
                row["braid_gflops"] = braid_eps * cnn_training_flops() / 1e9
                row["torch_gflops"] = torch_eps * cnn_training_flops() / 1e9
                row["peak_gflops"] = peak
            rows.append(row)
    print()
    print("| model | threads | braid ex/s | torch ex/s | median ratio | braid peak RSS MiB | "
          "torch peak RSS MiB | braid GFLOP/s (% of GEMM peak) | torch GFLOP/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        gf = (f"{r['braid_gflops']:.1f} ({100 * r['braid_gflops'] / r['peak_gflops']:.0f}% of "
              f"{r['peak_gflops']:.0f})" if "braid_gflops" in r else "–")
        tg = f"{r['torch_gflops']:.1f}" if "torch_gflops" in r else "–"
        print(f"| {r['model']} | {r['threads']} | {r['braid_eps']:,.0f} | {r['torch_eps']:,.0f} | "
              f"{r['ratio']:.2f} | {r['braid_rss']:.0f} | {r['torch_rss']:.0f} | {gf} | {tg} |")


if __name__ == "__main__":
    main()
