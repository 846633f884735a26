"""`braid train --logdir` read by the real TensorBoard: its own event
processing code (EventAccumulator) loads what a real training run wrote, on
one process and as the chief of a local cluster."""

import os
import pathlib
import subprocess

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tensorboard.backend.event_processing import event_accumulator  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build")).resolve()
BRAID = BUILD / "bin" / "braid"


def load(run_dir):
    acc = event_accumulator.EventAccumulator(str(run_dir), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0,
        event_accumulator.TENSORS: 0, event_accumulator.GRAPH: 0})
    acc.Reload()
    return acc


def scalar_steps(acc, tag):
    return [e.step for e in acc.Scalars(tag)]


def test_a_training_run_writes_what_tensorboard_reads(tmp_path):
    logdir = tmp_path / "logs"
    r = subprocess.run([str(BRAID), "train", "--model", "mlp", "--epochs", "1", "--logdir",
                        str(logdir), "--summary_steps", "100", "--log_step_count_steps", "0"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"to see them: braid board --logdir {logdir}" in r.stdout
    files = list(logdir.glob("events.out.tfevents.*"))
    assert len(files) == 1, files

    train = load(logdir)
    tags = train.Tags()
    for tag in ["loss", "accuracy", "learning_rate", "examples_per_second"]:
        assert tag in tags["scalars"], tags
    # The first step, then every 100 global steps (469 steps in the epoch).
    assert scalar_steps(train, "loss") == [1, 101, 201, 301, 401]
    assert scalar_steps(train, "examples_per_second") == [101, 201, 301, 401]
    losses = [e.value for e in train.Scalars("loss")]
    assert losses[0] > 1.5 and losses[-1] < 0.8, losses  # it learned
    assert all(0 <= e.value <= 1 for e in train.Scalars("accuracy"))
    # The preset's Adam: 0.002, decaying along a cosine.
    rates = [e.value for e in train.Scalars("learning_rate")]
    assert abs(rates[0] - 0.002) < 1e-5 and rates == sorted(rates, reverse=True), rates
    assert rates[-1] < rates[0]
    # A histogram of every trainable variable, each over all its values.
    for var, count in [("dense/kernel", 784 * 256), ("dense/bias", 256),
                       ("dense_2/kernel", 128 * 10)]:
        assert var in tags["histograms"], tags
        histos = train.Histograms(var)
        assert [h.step for h in histos] == [1, 101, 201, 301, 401]
        assert histos[-1].histogram_value.num == count
    # The graph, with the model's scoped node names.
    names = {n.name for n in train.Graph().node}
    assert "dense/kernel" in names and "train_step" in names, sorted(names)[:20]

    # Test metrics in eval/, at the global step of the end of the epoch.
    test = load(logdir / "eval")
    assert scalar_steps(test, "accuracy") == [469]
    assert test.Scalars("accuracy")[0].value >= 0.80


def test_only_the_chief_of_a_cluster_writes_summaries(tmp_path):
    logdir = tmp_path / "logs"
    r = subprocess.run([str(BRAID), "launch", "--ps", "1", "--workers", "2", "--", "braid",
                        "train", "--model", "mlp", "--epochs", "1", "--logdir", str(logdir),
                        "--summary_steps", "50", "--log_step_count_steps", "0"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert len(list(logdir.glob("events.out.tfevents.*"))) == 1
    train = load(logdir)
    steps = scalar_steps(train, "loss")
    # The global step counts both workers' steps (2 x 235); the chief's hook
    # writes whenever 50 of them passed since its last summary.
    assert steps[0] <= 2 and steps[-1] > 400, steps
    assert all(b - a >= 50 for a, b in zip(steps, steps[1:])), steps
    assert "dense/kernel" in train.Tags()["histograms"]
    test = load(logdir / "eval")
    assert scalar_steps(test, "accuracy") == [470]
