"""braid's event files, read by the real TensorBoard.

examples/write_summaries.cc writes two runs into a log directory: `api`
(the SummaryWriter API) and `ops` (summary ops run by a session), with values
that follow fixed formulas (repeated below). TensorBoard then loads them two
ways: its classic EventAccumulator, and its own HTTP application (the WSGI app
`tensorboard --logdir` serves, with the scalars, histograms, distributions,
images, text and graphs plugins), and must see exactly what braid wrote. A
file cut short mid-record must load up to the damage.

The example is found in ${BRAID_BUILD_DIR:-build}/examples (or set
BRAID_WRITE_SUMMARIES). Run in the project's venv:
scripts/venv.sh && .venv/bin/pytest -q tests/compat/test_tensorboard.py
"""

import json
import os
import pathlib
import shutil
import struct
import subprocess

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorboard import default, program  # noqa: E402
from tensorboard.backend import application  # noqa: E402
from tensorboard.backend.event_processing import event_accumulator as ea  # noqa: E402
from werkzeug.test import Client  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
STEPS = 10
RUNS = ["api", "ops"]
TEXT = "**braid** writes summaries that *TensorBoard* reads"
MODEL_NODES = {"model/x", "model/dense/kernel", "model/dense/bias", "model/dense/MatMul",
               "model/dense/BiasAdd", "model/Relu", "model/Softmax"}
# size_guidance 0: keep every event (no reservoir sampling).
KEEP_ALL = {kind: 0 for kind in (ea.SCALARS, ea.HISTOGRAMS, ea.COMPRESSED_HISTOGRAMS,
                                 ea.IMAGES, ea.TENSORS, ea.AUDIO, ea.GRAPH)}


# --- write_summaries.cc's formulas, in float32 as braid computes them.

def loss(step):
    return np.float32(2) / (np.float32(1) + np.float32(step))


def accuracy(step):
    return np.float32(0.5) + np.float32(0.04) * np.float32(step)


def weights(step):
    i = np.arange(1000, dtype=np.float32)
    return (i - np.float32(500)) / np.float32(100) + np.float32(0.1) * np.float32(step)


def image(inverted=False):
    y, x = np.mgrid[0:8, 0:12]
    rgb = np.stack([20 * x, 30 * y, np.full_like(x, 128)], axis=-1).astype(np.uint8)
    return 255 - rgb if inverted else rgb


def image_tags(run):
    return ["image/image/0"] if run == "api" else ["image/image/0", "image/image/1"]


@pytest.fixture(scope="module")
def logdir(tmp_path_factory):
    path = os.environ.get("BRAID_WRITE_SUMMARIES")
    if not path:
        build = pathlib.Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
        path = build / "examples" / "write_summaries"
    if not pathlib.Path(path).is_file():
        pytest.fail(f"{path} not found: build the write_summaries target "
                    "or set BRAID_WRITE_SUMMARIES")
    out = tmp_path_factory.mktemp("logs")
    r = subprocess.run([str(path), "--logdir", str(out), "--steps", str(STEPS)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"--logdir {out}" in r.stdout  # it tells the user how to view them
    return out


def event_file(run_dir):
    files = [p for p in run_dir.iterdir() if "tfevents" in p.name]
    assert len(files) == 1, files
    return files[0]


def accumulator(run_dir):
    acc = ea.EventAccumulator(str(run_dir), size_guidance=KEEP_ALL)
    acc.Reload()
    return acc


def record_ends(data):
    """Byte offsets where each TFRecord of `data` ends (framing only)."""
    ends, offset = [], 0
    while offset < len(data):
        (length,) = struct.unpack("<Q", data[offset:offset + 8])
        offset += 12 + length + 4
        ends.append(offset)
    assert offset == len(data)
    return ends


# --- the files themselves

@pytest.mark.parametrize("run", RUNS)
def test_file_name_and_records(logdir, run):
    path = event_file(logdir / run)
    parts = path.name.split(".")
    assert parts[:3] == ["events", "out", "tfevents"]
    assert len(parts[3]) == 10 and parts[3].isdigit()
    # TensorFlow's reader checks both CRCs of every record.
    records = list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator())
    first = tf.compat.v1.Event.FromString(records[0])
    assert first.file_version == "brain.Event:2"
    assert first.wall_time > 0


# --- TensorBoard's EventAccumulator

@pytest.mark.parametrize("run", RUNS)
def test_accumulator_sees_what_braid_wrote(logdir, run):
    acc = accumulator(logdir / run)
    assert acc.file_version == 2.0
    tags = acc.Tags()
    assert sorted(tags["scalars"]) == ["accuracy", "loss"]
    assert tags["histograms"] == ["weights"]
    assert sorted(tags["images"]) == image_tags(run)
    assert tags["tensors"] == ["notes"]
    assert tags["graph"]

    for tag, formula in (("loss", loss), ("accuracy", accuracy)):
        events = acc.Scalars(tag)
        assert [e.step for e in events] == list(range(STEPS))
        for e in events:
            assert e.value == pytest.approx(float(formula(e.step)), rel=1e-6)

    histograms = acc.Histograms("weights")
    assert [h.step for h in histograms] == list(range(STEPS))
    for h in histograms:
        want = weights(h.step)
        v = h.histogram_value
        assert v.num == 1000 and sum(v.bucket) == 1000
        assert v.min == pytest.approx(float(want.min()), abs=1e-5)
        assert v.max == pytest.approx(float(want.max()), abs=1e-5)
        assert v.sum == pytest.approx(float(want.astype(np.float64).sum()), abs=1e-2)
        assert list(v.bucket_limit) == sorted(v.bucket_limit)

    for k, tag in enumerate(image_tags(run)):
        events = acc.Images(tag)
        assert len(events) == (1 if run == "api" else STEPS)
        for e in events:
            assert (e.width, e.height) == (12, 8)
            pixels = tf.io.decode_png(e.encoded_image_string).numpy()
            np.testing.assert_array_equal(pixels, image(inverted=k == 1))

    assert set(acc.PluginTagToContent("text")) == {"notes"}
    notes = acc.Tensors("notes")
    assert tf.make_ndarray(notes[0].tensor_proto) == TEXT.encode()

    nodes = {n.name: n for n in acc.Graph().node}
    assert MODEL_NODES <= set(nodes)
    matmul = nodes["model/dense/MatMul"]
    assert matmul.op == "MatMul"
    assert list(matmul.input) == ["model/x", "model/dense/kernel"]
    dims = [d.size for d in matmul.attr["_output_shapes"].list.shape[0].dim]
    assert dims == [-1, 3]
    if run == "ops":
        assert {"summaries/step", "summaries/MergeSummary"} <= set(nodes)


# --- TensorBoard's own HTTP application (what `tensorboard --logdir` serves)

@pytest.fixture(scope="module")
def tensorboard(logdir):
    tb = program.TensorBoard(default.get_plugins())
    tb.configure(logdir=str(logdir), load_fast="false", reload_interval=0,
                 reload_task="blocking")
    data_provider, multiplexer = tb._make_data_provider()  # loads the logdir once
    app = application.TensorBoardWSGIApp(tb.flags, tb.plugin_loaders, data_provider,
                                         tb.assets_zip_provider, multiplexer)
    client = Client(app)

    def get(path):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data()[:500])
        return response.get_data()
    return get


def test_tensorboard_lists_the_runs_and_tags(tensorboard):
    assert json.loads(tensorboard("/data/runs")) == RUNS
    tags = json.loads(tensorboard("/data/plugin/scalars/tags"))
    for run in RUNS:
        assert sorted(tags[run]) == ["accuracy", "loss"]


@pytest.mark.parametrize("run", RUNS)
def test_tensorboard_scalars(tensorboard, run):
    for tag, formula in (("loss", loss), ("accuracy", accuracy)):
        points = json.loads(tensorboard(f"/data/plugin/scalars/scalars?run={run}&tag={tag}"))
        assert [p[1] for p in points] == list(range(STEPS))
        assert [p[2] for p in points] == pytest.approx(
            [float(formula(s)) for s in range(STEPS)], rel=1e-6)


@pytest.mark.parametrize("run", RUNS)
def test_tensorboard_histograms(tensorboard, run):
    series = json.loads(tensorboard(f"/data/plugin/histograms/histograms?run={run}&tag=weights"))
    assert [s[1] for s in series] == list(range(STEPS))
    for _, step, buckets in series:
        want = weights(step)
        assert sum(count for _, _, count in buckets) == 1000
        # Outer edges are the data's min and max; buckets are contiguous.
        assert buckets[0][0] == pytest.approx(float(want.min()), abs=1e-5)
        assert buckets[-1][1] == pytest.approx(float(want.max()), abs=1e-5)
        for (_, right, _), (left, _, _) in zip(buckets, buckets[1:]):
            assert left == right
        # Each bucket counts the values inside it (TensorFlow's bucket layout).
        for left, right, count in buckets[1:-1]:
            inside = np.count_nonzero((want >= np.float32(left)) & (want < np.float32(right)))
            assert abs(inside - count) <= 1, (left, right, count)
    distributions = json.loads(
        tensorboard(f"/data/plugin/distributions/distributions?run={run}&tag=weights"))
    assert len(distributions) == STEPS


@pytest.mark.parametrize("run", RUNS)
def test_tensorboard_images(tensorboard, run):
    for k, tag in enumerate(image_tags(run)):
        samples = json.loads(
            tensorboard(f"/data/plugin/images/images?run={run}&tag={tag}&sample=0"))
        assert len(samples) == (1 if run == "api" else STEPS)
        png = tensorboard("/data/plugin/images/individualImage?" + samples[-1]["query"])
        np.testing.assert_array_equal(tf.io.decode_png(png).numpy(), image(inverted=k == 1))


@pytest.mark.parametrize("run", RUNS)
def test_tensorboard_text(tensorboard, run):
    entries = json.loads(tensorboard(f"/data/plugin/text/text?run={run}&tag=notes"))
    assert entries[0]["step"] == 0
    # The text plugin renders the Markdown.
    assert entries[0]["text"] == (
        "<p><strong>braid</strong> writes summaries that <em>TensorBoard</em> reads</p>")


@pytest.mark.parametrize("run", RUNS)
def test_tensorboard_graph(tensorboard, run):
    pbtxt = tensorboard(f"/data/plugin/graphs/graph?run={run}").decode()
    for name in MODEL_NODES:
        assert f'name: "{name}"' in pbtxt


# --- damage

def test_truncated_file_loads_up_to_the_damage(logdir, tmp_path):
    source = event_file(logdir / "api")
    data = source.read_bytes()
    ends = record_ends(data)
    # Records of the api run: 0 file_version, 1 graph, then per step s:
    # 2 + 3s loss, 3 + 3s accuracy, 4 + 3s weights.
    damaged = 3 + 3 * 5  # accuracy at step 5
    start = ends[damaged - 1]
    for cut in (start + 5, start + 12 + 7, ends[damaged] - 1):  # header, data, footer
        run_dir = tmp_path / f"cut{cut}"
        run_dir.mkdir()
        (run_dir / source.name).write_bytes(data[:cut])
        acc = accumulator(run_dir)
        assert [e.step for e in acc.Scalars("loss")] == list(range(6))
        assert [e.step for e in acc.Scalars("accuracy")] == list(range(5))
        assert [e.step for e in acc.Histograms("weights")] == list(range(5))
        assert acc.Tags()["graph"]
    # The same file whole has everything.
    whole = tmp_path / "whole"
    whole.mkdir()
    shutil.copy(source, whole / source.name)
    assert [e.step for e in accumulator(whole).Scalars("accuracy")] == list(range(STEPS))
