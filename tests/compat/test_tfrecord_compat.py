"""TFRecord files and tf.Example records: braid against real TensorFlow.

(a) TensorFlow writes, braid reads the same values; (b) braid writes,
TensorFlow reads the same values; (c) damaged files: braid names the file and
the byte offset of the damage (and TensorFlow agrees the file is damaged).

braid's side is build/bin/braid_tfrecord_tool (tfrecord_tool.cc); set
BRAID_TFRECORD_TOOL to use another binary, or BRAID_BUILD_DIR another build.
Run in the project's venv: scripts/venv.sh && .venv/bin/pytest -q tests/compat
"""

import json
import os
import pathlib
import struct
import subprocess

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
NUM_RECORDS = 6
COMPRESSIONS = ["", "GZIP", "ZLIB"]


@pytest.fixture(scope="module")
def tool():
    path = os.environ.get("BRAID_TFRECORD_TOOL")
    if not path:
        build = pathlib.Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
        path = build / "bin" / "braid_tfrecord_tool"
    if not pathlib.Path(path).is_file():
        pytest.fail(f"{path} not found: build the braid_tfrecord_tool target "
                    "or set BRAID_TFRECORD_TOOL")
    return str(path)


# --- the test schema; tfrecord_tool.cc's Expected* compute the same values.

def expected_image(i):
    image = ((i * 784 + np.arange(784)) % 1013).astype(np.float32) / np.float32(7)
    image[0] = np.float32(1e-45)  # the smallest denormal
    image[1] = np.float32(3.4028235e38)  # the largest float
    image[2] = np.float32(-0.0)
    return image


def expected_label(i):
    return (-1 if i % 2 else 1) * i * 1000000000007


def expected_name(i):
    return b"record-%d" % i + b"\x00\xff\n\"\\"


def expected_tags(i):
    return [i + k for k in range(i % 4)]


SPEC = {
    "image": tf.io.FixedLenFeature([784], tf.float32),
    "label": tf.io.FixedLenFeature([], tf.int64),
    "name": tf.io.FixedLenFeature([], tf.string),
    "tags": tf.io.VarLenFeature(tf.int64),
}


def tf_example(i):
    f = tf.train.Feature
    return tf.train.Example(features=tf.train.Features(feature={
        "image": f(float_list=tf.train.FloatList(value=expected_image(i).tolist())),
        "label": f(int64_list=tf.train.Int64List(value=[expected_label(i)])),
        "name": f(bytes_list=tf.train.BytesList(value=[expected_name(i)])),
        "tags": f(int64_list=tf.train.Int64List(value=expected_tags(i))),
    })).SerializeToString()


def tf_write(path, records, compression=""):
    options = tf.io.TFRecordOptions(compression_type=compression)
    with tf.io.TFRecordWriter(str(path), options=options) as writer:
        for record in records:
            writer.write(record)


def bits(values):
    """float32 values as their bit patterns: exact comparison, -0 included."""
    return np.asarray(values, dtype=np.float32).view(np.uint32)


# --- braid's side

def run_tool(tool, *args):
    return subprocess.run([tool, *map(str, args)], capture_output=True, text=True, timeout=60)


def braid_dump(tool, path, *flags, expect_ok=True):
    """(JSON objects printed, stderr); the last object is the summary on success."""
    result = run_tool(tool, "dump-examples", path, *flags)
    if expect_ok:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def check_record(obj, i):
    assert obj["image"]["shape"] == [784]
    assert np.array_equal(bits(obj["image"]["values"]), bits(expected_image(i)))
    assert obj["label"] == {"shape": [], "values": [expected_label(i)]}
    assert obj["name"] == {"shape": [], "values": [expected_name(i).hex()]}
    tags = expected_tags(i)
    assert obj["tags"] == {"indices": list(range(len(tags))), "values": tags,
                           "dense_shape": [len(tags)]}


# --- an independent CRC32C, to check framing bytes without trusting braid's

def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def masked_crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    c ^= 0xFFFFFFFF
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_offsets(data):
    """Offsets and lengths of the records of an uncompressed TFRecord file."""
    out, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<Q", data, at)
        out.append((at, length))
        at += 12 + length + 4
    assert at == len(data)
    return out


# --- (a) TensorFlow writes, braid reads

@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_braid_reads_tensorflow_records(tool, tmp_path, compression):
    path = tmp_path / "tf.tfrecord"
    records = [tf_example(i) for i in range(NUM_RECORDS)]
    tf_write(path, records, compression)
    objs, _ = braid_dump(tool, path, "--compression", compression or "NONE")
    assert objs[-1] == {"records": NUM_RECORDS, "skipped": 0}
    offset = 0
    for i, obj in enumerate(objs[:-1]):
        check_record(obj, i)
        assert obj["offset"] == offset  # in the decompressed stream
        offset += 12 + len(records[i]) + 4


@pytest.mark.parametrize("compression", ["", "GZIP"])
def test_braid_batch_parse_matches_tf_parse_example(tool, tmp_path, compression):
    path = tmp_path / "batch.tfrecord"
    tf_write(path, [tf_example(i) for i in range(NUM_RECORDS)], compression)
    objs, _ = braid_dump(tool, path, "--batch", "--compression", compression or "NONE")
    ours = objs[0]
    assert ours["batch"] == NUM_RECORDS
    ds = tf.data.TFRecordDataset(str(path), compression_type=compression)
    theirs = tf.io.parse_example(next(iter(ds.batch(100))), SPEC)
    assert ours["image"]["shape"] == [NUM_RECORDS, 784]
    assert np.array_equal(bits(ours["image"]["values"]),
                          bits(theirs["image"].numpy().reshape(-1)))
    assert ours["label"]["values"] == theirs["label"].numpy().tolist()
    assert ours["name"]["values"] == [v.hex() for v in theirs["name"].numpy()]
    tags = theirs["tags"]
    assert ours["tags"]["indices"] == tags.indices.numpy().reshape(-1).tolist()
    assert ours["tags"]["values"] == tags.values.numpy().tolist()
    assert ours["tags"]["dense_shape"] == tags.dense_shape.numpy().tolist()


# --- (b) braid writes, TensorFlow reads

@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_tensorflow_reads_braid_records(tool, tmp_path, compression):
    path = tmp_path / "braid.tfrecord"
    result = run_tool(tool, "write-examples", path, NUM_RECORDS,
                      "--compression", compression or "NONE")
    assert result.returncode == 0, result.stderr
    assert not list(tmp_path.glob("*.tmp.*")), "the atomic writer left its temporary"
    ds = tf.data.TFRecordDataset(str(path), compression_type=compression)
    n = 0
    for i, serialized in enumerate(ds):
        parsed = tf.io.parse_single_example(serialized, SPEC)
        assert np.array_equal(bits(parsed["image"].numpy()), bits(expected_image(i)))
        assert parsed["label"].numpy() == expected_label(i)
        assert parsed["name"].numpy() == expected_name(i)
        assert parsed["tags"].values.numpy().tolist() == expected_tags(i)
        n += 1
    assert n == NUM_RECORDS


def test_braid_framing_checks_out_independently(tool, tmp_path):
    path = tmp_path / "braid.tfrecord"
    assert run_tool(tool, "write-examples", path, 3).returncode == 0
    data = path.read_bytes()
    for at, length in frame_offsets(data):
        assert struct.unpack_from("<I", data, at + 8)[0] == masked_crc32c(data[at:at + 8])
        payload = data[at + 12:at + 12 + length]
        assert struct.unpack_from("<I", data, at + 12 + length)[0] == masked_crc32c(payload)


# --- (c) damaged files

@pytest.fixture
def three_records(tmp_path):
    """An uncompressed TensorFlow-written file of 3 examples, its bytes and frames."""
    path = tmp_path / "damaged.tfrecord"
    tf_write(path, [tf_example(i) for i in range(3)])
    data = bytearray(path.read_bytes())
    return path, data, frame_offsets(bytes(data))


def tf_reads_it(path):
    try:
        for _ in tf.data.TFRecordDataset(str(path)):
            pass
    except tf.errors.DataLossError:
        return False
    return True


def test_flipped_data_byte(tool, three_records):
    path, data, frames = three_records
    at, length = frames[1]
    data[at + 12 + length // 2] ^= 0x10
    path.write_bytes(data)
    assert not tf_reads_it(path)
    objs, err = braid_dump(tool, path, expect_ok=False)
    assert [o["offset"] for o in objs] == [0]  # the first record came out before the error
    stored = struct.unpack_from("<I", data, at + 12 + length)[0]
    assert f"'{path}': record at byte offset {at}: data CRC mismatch (stored 0x{stored:08x}, " \
           "computed 0x" in err
    objs, _ = braid_dump(tool, path, "--skip-corrupt")
    assert [o["offset"] for o in objs[:-1]] == [frames[0][0], frames[2][0]]
    check_record(objs[1], 2)
    assert objs[-1] == {"records": 2, "skipped": 1}


def test_wrong_stored_crc(tool, three_records):
    path, data, frames = three_records
    at, length = frames[2]
    wrong = (struct.unpack_from("<I", data, at + 12 + length)[0] + 1) & 0xFFFFFFFF
    struct.pack_into("<I", data, at + 12 + length, wrong)
    path.write_bytes(data)
    assert not tf_reads_it(path)
    _, err = braid_dump(tool, path, expect_ok=False)
    assert f"record at byte offset {at}: data CRC mismatch (stored 0x{wrong:08x}," in err


def test_flipped_length_byte_resyncs(tool, three_records):
    path, data, frames = three_records
    at, _ = frames[1]
    data[at + 1] ^= 0x01
    path.write_bytes(data)
    assert not tf_reads_it(path)
    _, err = braid_dump(tool, path, expect_ok=False)
    assert f"'{path}': record at byte offset {at}: length CRC mismatch (stored 0x" in err
    objs, _ = braid_dump(tool, path, "--skip-corrupt")
    assert [o["offset"] for o in objs[:-1]] == [frames[0][0], frames[2][0]]
    assert objs[-1]["skipped"] == 1


@pytest.mark.parametrize("cut", ["in_header", "in_data", "in_footer"])
def test_truncated_file(tool, three_records, cut):
    path, data, frames = three_records
    at, length = frames[2]
    end = {"in_header": at + 7, "in_data": at + 12 + length // 2,
           "in_footer": at + 12 + length + 2}[cut]
    path.write_bytes(data[:end])
    # TensorFlow takes a partial header at the end for the end of a file still
    # being written; braid's files are written atomically, so there it is damage.
    assert tf_reads_it(path) == (cut == "in_header")
    objs, err = braid_dump(tool, path, expect_ok=False)
    assert [o["offset"] for o in objs] == [frames[0][0], frames[1][0]]
    assert f"'{path}': record at byte offset {at}: truncated" in err


def test_garbage_length_is_bounded_by_the_file(tool, three_records):
    path, data, frames = three_records
    length = struct.pack("<Q", 1 << 62)  # with a valid CRC: only the file size stops it
    data += length + struct.pack("<I", masked_crc32c(length)) + b"tail"
    path.write_bytes(data)
    _, err = braid_dump(tool, path, expect_ok=False)
    assert f"record at byte offset {len(data) - 16}: truncated: length {1 << 62} but only 4 " \
           "bytes follow the header" in err


@pytest.mark.parametrize("compression", ["GZIP", "ZLIB"])
def test_truncated_compressed_stream(tool, tmp_path, compression):
    path = tmp_path / "cut.tfrecord"
    tf_write(path, [tf_example(i) for i in range(NUM_RECORDS)], compression)
    data = path.read_bytes()
    # The records are alike, so most of the stream is the first one: cut near
    # the end to leave some whole records before the cut.
    path.write_bytes(data[:-20])
    objs, err = braid_dump(tool, path, "--compression", compression, expect_ok=False)
    assert 0 < len(objs) < NUM_RECORDS
    for i, obj in enumerate(objs):
        check_record(obj, i)
    assert f"'{path}': {compression} stream truncated" in err


def test_uncompressed_file_read_as_gzip(tool, three_records):
    path, _, _ = three_records
    _, err = braid_dump(tool, path, "--compression", "GZIP", expect_ok=False)
    assert f"'{path}': corrupt GZIP stream at compressed byte" in err
