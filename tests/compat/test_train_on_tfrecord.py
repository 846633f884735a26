"""`braid train` on TFRecord files written by TensorFlow: real Fashion-MNIST
images as tf.Example records (raw uint8 bytes in one file, float lists in the
other, GZIP-compressed test set), the format `braid train --help` documents."""

import gzip
import json
import os
import pathlib
import subprocess

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = BUILD / "bin" / "braid"
MNIST = pathlib.Path("/usr/share/datasets/fashion-mnist")


def load(kind):
    with gzip.open(MNIST / f"{kind}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 784)
    with gzip.open(MNIST / f"{kind}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read()[8:], np.uint8)
    return images, labels


def write(path, images, labels, as_bytes, compression=None):
    with tf.io.TFRecordWriter(str(path), options=compression) as w:
        for image, label in zip(images, labels):
            if as_bytes:
                feature = tf.train.Feature(bytes_list=tf.train.BytesList(value=[image.tobytes()]))
            else:
                feature = tf.train.Feature(
                    float_list=tf.train.FloatList(value=(image / 255.0).astype(np.float32)))
            ex = tf.train.Example(features=tf.train.Features(feature={
                "image": feature,
                "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
            }))
            w.write(ex.SerializeToString())


def test_braid_trains_on_tensorflow_written_tfrecords(tmp_path):
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    part1, part2 = tmp_path / "train-0.tfrecord", tmp_path / "train-1.tfrecord"
    write(part1, train_x[:6000], train_y[:6000], as_bytes=True)
    write(part2, train_x[6000:12000], train_y[6000:12000], as_bytes=False)
    test = tmp_path / "test.tfrecord.gz"
    write(test, test_x[:2000], test_y[:2000], as_bytes=True, compression="GZIP")

    inspect = subprocess.run([str(BRAID), "inspect", str(part1)], capture_output=True, text=True)
    assert inspect.returncode == 0, inspect.stderr
    assert "6000 records" in inspect.stdout and "label: int64[1]" in inspect.stdout

    metrics = tmp_path / "m.json"
    r = subprocess.run([str(BRAID), "train", "--model", "mlp", "--epochs", "2",
                        "--data", f"{part1},{part2}", "--test_data", str(test),
                        "--metrics_json", str(metrics)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    m = json.loads(metrics.read_text())
    assert m["train_examples"] == 24000        # 12,000 examples, 2 epochs
    assert m["test_examples"] == 2000
    assert m["test_accuracy"] > 0.78           # 12k examples of real data are enough for that


def test_corrupt_training_file_fails_with_file_and_offset(tmp_path):
    path = tmp_path / "bad.tfrecord"
    train_x, train_y = load("t10k")
    write(path, train_x[:10], train_y[:10], as_bytes=True)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x55
    path.write_bytes(bytes(data))
    r = subprocess.run([str(BRAID), "train", "--data", str(path), "--epochs", "1"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert str(path) in r.stderr and "byte offset" in r.stderr
