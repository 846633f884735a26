"""End-to-end tests of the `braid` command line: real processes, real data."""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid"))


def run(*args, timeout=600):
    return subprocess.run([str(BRAID), *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_every_subcommand_and_flag():
    top = run("--help")
    assert top.returncode == 0
    assert "train" in top.stdout and "inspect" in top.stdout
    train = run("train", "--help").stdout
    for flag in ["--model", "--data", "--test_data", "--epochs", "--batch_size", "--optimizer",
                 "--learning_rate", "--seed", "--inter_op_threads", "--intra_op_threads",
                 "--checkpoint_dir", "--save_checkpoints_steps", "--metrics_json",
                 "--compression", "--fuse_ops", "--op_stats"]:
        assert flag in train, flag


@pytest.mark.parametrize("args,message", [
    (["train", "--epochs", "0"], "--epochs"),
    (["train", "--no_such_flag"], "no_such_flag"),
    (["train", "--model", "/nonexistent/spec.json"], "neither a preset"),
    (["train", "--data", "/nonexistent.tfrecord"], "/nonexistent.tfrecord"),
    (["inspect", "/nonexistent.json"], "neither a preset"),
])
def test_bad_input_is_one_clear_line_and_nonzero_exit(args, message):
    r = run(*args)
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert message in lines[0]


def test_bad_model_spec_names_the_problem(tmp_path):
    spec = tmp_path / "bad.json"
    spec.write_text('{"input_shape": [28, 28, 1], "layers": [{"type": "dense", "unit": 3}]}')
    r = run("train", "--model", str(spec))
    assert r.returncode == 1
    assert "layers[0] (dense): unknown key 'unit'" in r.stderr


def test_inspect_shows_a_preset():
    r = run("inspect", "cnn")
    assert r.returncode == 0, r.stderr
    assert "total parameters" in r.stdout and "conv2d" in r.stdout


def test_op_stats_prints_where_the_training_time_went():
    r = run("train", "--model", "mlp", "--max_steps", "20", "--op_stats")
    assert r.returncode == 0, r.stderr
    table = r.stdout.split("(--op_stats):\n", 1)[1]
    rows = {}
    for line in table.splitlines()[1:]:
        fields = line.split()  # op, first input's shape (if any), calls, ms, ms/call, share
        if len(fields) == 6:
            rows[(fields[0], fields[1])] = int(fields[2])
    # The fused first layer's forward kernel ran once per training step, on the
    # batch; the evaluation after training (batches of 1000) is not counted.
    assert rows[("_FusedMatMul", "[128,784]")] == 20, table
    assert not any(shape.startswith("[1000,") for _, shape in rows), table
    assert "all kernels" in table


def test_op_stats_is_refused_in_a_cluster():
    r = run("train", "--op_stats", "--cluster_spec", '{"worker": ["localhost:1"]}',
            "--job_name", "worker")
    assert r.returncode != 0
    assert "--op_stats profiles local training" in r.stderr


def test_hand_written_spec_trains(tmp_path):
    spec = tmp_path / "small.json"
    spec.write_text(json.dumps({
        "name": "small",
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "conv2d", "filters": 8, "kernel_size": [3, 3], "strides": [2, 2],
             "padding": "same", "activation": "relu"},
            {"type": "max_pool2d"},
            {"type": "flatten"},
            {"type": "dense", "units": 32, "activation": "relu"},
            {"type": "dropout", "rate": 0.1},
            {"type": "dense", "units": 10},
        ],
        "optimizer": {"type": "adam", "learning_rate": 0.003},
    }))
    metrics = tmp_path / "m.json"
    r = run("train", "--model", str(spec), "--epochs", "1", "--metrics_json", str(metrics))
    assert r.returncode == 0, r.stderr
    m = json.loads(metrics.read_text())
    assert m["test_accuracy"] > 0.8
    assert m["steps"] == 469 and m["global_step"] == 469


def test_mlp_reaches_088_after_5_epochs(tmp_path):
    metrics = tmp_path / "m.json"
    r = run("train", "--model", "mlp", "--epochs", "5", "--metrics_json", str(metrics))
    assert r.returncode == 0, r.stderr
    m = json.loads(metrics.read_text())
    for key in ["test_accuracy", "test_loss", "examples_per_second", "steps", "wall_time_seconds",
                "evaluation_seconds"]:
        assert key in m
    # Five evaluations of the test set took some of the wall time; the
    # training examples/s leave them out.
    assert 0 < m["evaluation_seconds"] < m["wall_time_seconds"]
    training_seconds = m["wall_time_seconds"] - m["evaluation_seconds"]
    assert m["examples_per_second"] == pytest.approx(m["train_examples"] / training_seconds)
    print("mlp 5 epochs:", m)
    assert m["test_accuracy"] >= 0.88


def test_sigkill_then_rerun_resumes_from_the_last_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    args = [str(BRAID), "train", "--model", "mlp", "--epochs", "2", "--checkpoint_dir", str(ckpt),
            "--save_checkpoints_steps", "50"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill once a few checkpoints exist, well before the 938 steps are done.
    deadline = time.time() + 300
    while time.time() < deadline:
        if len(list(ckpt.glob("ckpt-*.manifest"))) >= 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    index = (ckpt / "checkpoint").read_text()
    killed_at = int(index.split('model_checkpoint_path: "ckpt-')[1].split('"')[0])
    assert 0 < killed_at < 938

    metrics = tmp_path / "m.json"
    r = run("train", "--model", "mlp", "--epochs", "2", "--checkpoint_dir", str(ckpt),
            "--save_checkpoints_steps", "50", "--metrics_json", str(metrics))
    assert r.returncode == 0, r.stderr
    assert f"resumed from {ckpt}/ckpt-{killed_at}" in r.stdout
    m = json.loads(metrics.read_text())
    assert m["global_step"] == 938          # the step count continued
    assert m["steps"] == 938 - killed_at    # only the rest was trained
    # Every kept checkpoint is complete and readable.
    for manifest in ckpt.glob("ckpt-*.manifest"):
        r = run("inspect", str(manifest.with_suffix("")))
        assert r.returncode == 0, r.stderr
