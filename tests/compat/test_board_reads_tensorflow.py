"""`braid board` on event files written by real TensorFlow (tf.summary, the
TensorFlow 2 forms: tensors tagged by plugin, metadata only on a tag's first
value) and by TensorFlow 1's summary protos: it serves the same scalars,
histograms, images, text and graph nodes.

Run in the project's venv: scripts/venv.sh && .venv/bin/pytest -q tests/compat
"""
import json
import os
import pathlib
import re
import subprocess
import time
import urllib.parse
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = pathlib.Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid"))
STEPS = 12


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tf_logs")
    rng = np.random.default_rng(0)
    writer = tf.summary.create_file_writer(str(d / "tf2"))
    with writer.as_default():
        for step in range(STEPS):
            tf.summary.scalar("loss", 1.0 / (step + 1), step=step)
            tf.summary.histogram("weights", rng.normal(size=500) + step, step=step)
            tf.summary.text("notes", f"step {step} note", step=step)
            if step % 4 == 0:
                image = np.full((1, 6, 9, 3), step / STEPS, dtype=np.float32)
                tf.summary.image("picture", image, step=step)
    writer.close()

    @tf.function
    def f(x):
        with tf.name_scope("block"):
            return tf.nn.relu(tf.matmul(x, tf.ones((3, 2))))

    graph = f.get_concrete_function(tf.TensorSpec((None, 3), tf.float32)).graph.as_graph_def()
    # TensorFlow 1's protos: simple_value and HistogramProto, and the graph.
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    v1 = EventFileWriter(str(d / "tf1"))
    v1.add_event(event_pb2.Event(wall_time=time.time(), graph_def=graph.SerializeToString()))
    for step in range(STEPS):
        histo = summary_pb2.HistogramProto(min=0, max=3, num=4, sum=6, sum_squares=14,
                                           bucket_limit=[1, 2, 3], bucket=[1, 1, 2])
        summary = summary_pb2.Summary(value=[
            summary_pb2.Summary.Value(tag="accuracy", simple_value=step / STEPS),
            summary_pb2.Summary.Value(tag="old_histogram", histo=histo)])
        v1.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    v1.close()
    return d


@pytest.fixture(scope="module")
def board(logdir):
    proc = subprocess.Popen([str(BRAID), "board", "--logdir", str(logdir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = re.search(r"(http://\S+/)", proc.stdout.readline()).group(1)

    def get(path, **params):
        q = "?" + urllib.parse.urlencode(params) if params else ""
        with urllib.request.urlopen(url + path.lstrip("/") + q, timeout=30) as r:
            body = r.read()
            return json.loads(body) if "json" in r.headers["Content-Type"] else body

    deadline = time.monotonic() + 30
    while not get("/data/status")["loaded"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    yield get
    proc.terminate()
    proc.wait(timeout=30)


def test_runs_and_scalars(board):
    assert board("/data/runs") == ["tf1", "tf2"]
    loss = board("/data/plugin/scalars/scalars", run="tf2", tag="loss")
    assert [p[1] for p in loss] == list(range(STEPS))
    assert np.allclose([p[2] for p in loss], [1.0 / (s + 1) for s in range(STEPS)], rtol=1e-6)
    acc = board("/data/plugin/scalars/scalars", run="tf1", tag="accuracy")
    assert np.allclose([p[2] for p in acc], [s / STEPS for s in range(STEPS)], rtol=1e-6)
    assert board("/data/problems") == []


def test_histograms_both_forms(board):
    tf2 = board("/data/plugin/histograms/histograms", run="tf2", tag="weights")
    assert len(tf2) == STEPS
    _, step, buckets = tf2[-1]
    assert step == STEPS - 1
    assert sum(c for _, _, c in buckets) == pytest.approx(500)
    centers = sum((l + r) / 2 * c for l, r, c in buckets) / 500
    assert centers == pytest.approx(STEPS - 1, abs=0.3)  # normal around the step
    tf1 = board("/data/plugin/histograms/histograms", run="tf1", tag="old_histogram")
    assert tf1[0][2] == [[0, 1, 1], [1, 2, 1], [2, 3, 2]]


def test_images_and_text(board):
    images = board("/data/plugin/images/images", run="tf2", tag="picture")
    assert [e["step"] for e in images] == [0, 4, 8]
    assert (images[0]["width"], images[0]["height"]) == (9, 6)
    png = board(images[1]["url"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = tf.io.decode_png(png).numpy()
    assert decoded.shape == (6, 9, 3)
    text = board("/data/plugin/text/text", run="tf2", tag="notes")
    assert [e["text"] for e in text] == [f"step {s} note" for s in range(STEPS)]


def test_graph(board):
    nodes = board("/data/plugin/graphs/graph", run="tf1")["nodes"]
    by_name = {n["name"]: n for n in nodes}
    matmul = [n for n in nodes if n["op"] == "MatMul"]
    assert matmul and matmul[0]["name"].startswith("block/")
    relu = [n for n in nodes if n["op"] == "Relu"][0]
    assert matmul[0]["name"] in relu["inputs"]
    assert all(i.lstrip("^").split(":")[0] in by_name for n in nodes for i in n["inputs"])
