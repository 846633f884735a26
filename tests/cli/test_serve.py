"""End-to-end tests of `braid serve`: a trained Fashion-MNIST model exported,
served over TF Serving's REST API, and replaced by a new version while it runs."""
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid"))
DATA = Path("/usr/share/datasets/fashion-mnist")


def run(*args, timeout=600):
    return subprocess.run([str(BRAID), *args], capture_output=True, text=True, timeout=timeout)


def export(base, version, steps):
    """Trains the MLP for `steps` steps, exports it (as <global step> in a
    staging directory) and moves it into BASE/<version> with one rename, so a
    server watching BASE never sees the staging version."""
    staging = base.parent / f"{base.name}-staging"
    r = run("train", "--model", "mlp", "--epochs", "1", "--max_steps", str(steps),
            "--export_dir", str(staging))
    assert r.returncode == 0, r.stderr
    assert (staging / str(steps)).is_dir(), "braid train exports as version = global step"
    (staging / str(steps)).rename(base / str(version))


def test_images(n):
    with gzip.open(DATA / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(DATA / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return (images[:n] / 255.0).astype(np.float32), labels[:n]


test_images.__test__ = False  # a helper, not a test


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else body.encode())
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(predicate, timeout=60, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    base = tmp_path_factory.mktemp("export")
    export(base, 1, 50)
    return base


@pytest.fixture(scope="module")
def server(base):
    port = free_port()
    proc = subprocess.Popen(
        [str(BRAID), "serve", "--model_name", "fmnist", "--model_base_path", str(base),
         "--rest_api_port", str(port), "--port", "0", "--host", "127.0.0.1",
         "--file_system_poll_wait_seconds", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"

    def ready():
        assert proc.poll() is None, proc.stderr.read()
        try:
            return http("GET", url + "/readyz")[0] == 200
        except OSError:
            return False

    wait_for(ready, what="the server to be ready")
    yield url, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_help_and_flag_errors():
    r = run("serve", "--help")
    assert r.returncode == 0
    for flag in ["--rest_api_port", "--model_name", "--model_base_path", "--port",
                 "--file_system_poll_wait_seconds", "--rest_api_timeout_in_ms",
                 "--version_policy", "--max_request_bytes", "--model_config_file",
                 "--model_config_file_poll_wait_seconds", "--enable_batching",
                 "--batching_parameters_file", "--max_tensor_elements"]:
        assert flag in r.stdout, flag
    r = run("serve", "--model_base_path", "/tmp", "--version_policy", "newest")
    assert r.returncode == 1 and "--version_policy" in r.stderr
    r = run("serve", "--port", "0")
    assert r.returncode == 1 and "--model_config_file" in r.stderr
    r = run("serve", "--model_base_path", "/tmp", "--batching_parameters_file", "/x")
    assert r.returncode == 1 and "needs --enable_batching" in r.stderr


def test_exported_graph_is_a_tensorflow_graph_def(base):
    venv_python = ROOT / ".venv" / "bin" / "python"
    if not venv_python.exists():
        pytest.skip("no project venv with TensorFlow")
    code = ("import sys, tensorflow as tf; g = tf.compat.v1.GraphDef.FromString("
            "open(sys.argv[1], 'rb').read()); print(len(g.node))")
    r = subprocess.run([str(venv_python), "-c", code, str(base / "1" / "graph.pb")],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0 and "No module named" in r.stderr:
        pytest.skip("TensorFlow is not installed in the venv")
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.split()[-1]) > 5


def test_status_and_metadata(server):
    url, _ = server
    status, body = http("GET", url + "/v1/models/fmnist")
    assert status == 200
    assert json.loads(body) == {"model_version_status": [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}]}
    status, body = http("GET", url + "/v1/models/fmnist/versions/1/metadata")
    assert status == 200
    meta = json.loads(body)
    assert meta["model_spec"] == {"name": "fmnist", "signature_name": "", "version": "1"}
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["method_name"] == "tensorflow/serving/predict"
    assert sig["inputs"]["x"]["dtype"] == "DT_FLOAT"
    assert sig["inputs"]["x"]["tensor_shape"] == {
        "dim": [{"size": s, "name": ""} for s in ["-1", "28", "28", "1"]], "unknown_rank": False}
    assert list(sig["outputs"]) == ["probabilities"]
    assert "logits" in meta["metadata"]["signature_def"]["signature_def"]


def test_predict_fashion_mnist_rows_and_columns(server):
    url, _ = server
    images, labels = test_images(200)
    status, body = http("POST", url + "/v1/models/fmnist:predict",
                        json.dumps({"instances": images.tolist()}))
    assert status == 200, body
    predictions = np.array(json.loads(body)["predictions"])
    assert predictions.shape == (200, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, atol=1e-5)
    accuracy = float((predictions.argmax(axis=1) == labels).mean())
    assert accuracy >= 0.7, accuracy

    status, body = http("POST", url + "/v1/models/fmnist/versions/1:predict",
                        json.dumps({"inputs": {"x": images[:3].tolist()}}))
    assert status == 200, body
    np.testing.assert_array_equal(np.array(json.loads(body)["outputs"]), predictions[:3])
    status, body = http("POST", url + "/v1/models/fmnist:predict",
                        json.dumps({"signature_name": "logits", "instances": images[:2].tolist()}))
    assert status == 200, body
    logits = np.array(json.loads(body)["predictions"])
    assert logits.shape == (2, 10) and logits.argmax(1).tolist() == predictions[:2].argmax(1).tolist()


@pytest.mark.parametrize("path,body,code,message", [
    ("/v1/models/fmnist:predict", '{"instances": [[1, 2]', 400, "malformed JSON"),
    ("/v1/models/fmnist:predict", '{"instances": [[1, 2, 3]]}', 400, "has shape [1,3]"),
    ("/v1/models/fmnist:predict", '{"instances": [[[["a"]]]]}', 400, "expected number"),
    ("/v1/models/fmnist:predict", '{"signature_name": "x", "instances": [1]}', 400, "not found"),
    ("/v1/models/fmnist:predict", '{"examples": []}', 400, "needs 'instances'"),
    ("/v1/models/nope:predict", '{"instances": [1]}', 404, "model 'nope'"),
    ("/v1/models/fmnist/versions/9:predict", '{"instances": [1]}', 404, "no version 9"),
])
def test_bad_requests_get_tf_serving_status_codes(server, path, body, code, message):
    url, _ = server
    status, reply = http("POST", url + path, body)
    assert status == code, reply
    assert message in json.loads(reply)["error"]


def test_a_new_version_is_hot_loaded_and_the_old_one_unloaded(server, base):
    url, proc = server
    export(base, 2, 60)

    def version_2_serves():
        status, body = http("GET", url + "/v1/models/fmnist")
        states = {s["version"]: s["state"] for s in json.loads(body)["model_version_status"]}
        return states.get("2") == "AVAILABLE" and states.get("1") == "END"

    wait_for(version_2_serves, what="version 2 to replace version 1")
    images, _ = test_images(2)
    status, _ = http("POST", url + "/v1/models/fmnist/versions/2:predict",
                     json.dumps({"instances": images.tolist()}))
    assert status == 200
    status, body = http("POST", url + "/v1/models/fmnist/versions/1:predict",
                        json.dumps({"instances": images.tolist()}))
    assert status == 404, body
    status, body = http("GET", url + "/v1/models/fmnist/metadata")
    assert json.loads(body)["model_spec"]["version"] == "2"

    # A broken version 3 is reported and version 2 keeps serving.
    (base / "3").mkdir()
    (base / "3" / "graph.pb").write_bytes(b"not a graph")

    def version_3_failed():
        status, body = http("GET", url + "/v1/models/fmnist/versions/3")
        if status != 200:
            return False
        s = json.loads(body)["model_version_status"][0]
        return s["state"] == "END" and s["status"]["error_code"] != "OK"

    wait_for(version_3_failed, what="version 3 to be reported as failed")
    status, body = http("POST", url + "/v1/models/fmnist:predict",
                        json.dumps({"instances": images.tolist()}))
    assert status == 200, body
    assert json.loads(body)["predictions"]


def test_sigterm_stops_the_server_cleanly(server):
    url, proc = server
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "stopped" in proc.stderr.read()


def start(*args):
    """`braid serve` with REST on a free port; returns (process, url)."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BRAID), "serve", "--rest_api_port", str(port), "--port", "0", "--host", "127.0.0.1",
         "--file_system_poll_wait_seconds", "0.2", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, f"http://127.0.0.1:{port}"


def is_ready(url):
    try:
        return http("GET", url + "/readyz")[0] == 200
    except OSError:  # not listening yet
        return False


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()


def fresh_base(tmp_path, base):
    """A base path holding only version 1 of the module's export."""
    fresh = tmp_path / "base"
    shutil.copytree(base / "1", fresh / "1")
    return fresh


def test_model_config_file_is_re_read_and_a_bad_one_keeps_the_models(tmp_path, base):
    base = fresh_base(tmp_path, base)
    config = tmp_path / "models.config"
    config.write_text(f'model_config_list {{ config {{ name: "a" base_path: "{base}" }} }}')
    proc, url = start("--model_config_file", str(config),
                      "--model_config_file_poll_wait_seconds", "0.2")
    try:
        wait_for(lambda: is_ready(url), what="model a")
        images, _ = test_images(2)
        body = json.dumps({"instances": images.tolist()})
        # Add model b, reached by a label; model a stays.
        config.write_text(f'''model_config_list {{
            config {{ name: "a" base_path: "{base}" }}
            config {{ name: "b" base_path: "{base}" version_labels {{ key: "stable" value: 1 }} }}
        }}''')
        wait_for(lambda: http("POST", url + "/v1/models/b/labels/stable:predict", body)[0] == 200,
                 what="model b by its label")
        assert http("POST", url + "/v1/models/a:predict", body)[0] == 200
        # A config that does not parse is reported; both models keep serving.
        config.write_text('model_config_list { config { name: "a" base_path: ')
        time.sleep(1.0)
        assert http("POST", url + "/v1/models/a:predict", body)[0] == 200
        assert http("POST", url + "/v1/models/b/labels/stable:predict", body)[0] == 200
        # Removing model b unloads it.
        config.write_text(f'model_config_list {{ config {{ name: "a" base_path: "{base}" }} }}')
        wait_for(lambda: http("POST", url + "/v1/models/b:predict", body)[0] == 404,
                 what="model b to be removed")
    finally:
        code = stop(proc)
    err = proc.stderr.read()
    assert code == 0, err
    assert "keeping the current models" in err and "line 1, column" in err, err


def test_batching_merges_concurrent_requests(tmp_path, base):
    base = fresh_base(tmp_path, base)
    params = tmp_path / "batching.config"
    params.write_text("max_batch_size { value: 32 } batch_timeout_micros { value: 20000 } "
                      "num_batch_threads { value: 1 }")
    proc, url = start("--model_name", "fmnist", "--model_base_path", str(base),
                      "--enable_batching", "--batching_parameters_file", str(params))
    try:
        wait_for(lambda: is_ready(url), what="the server")
        images, _ = test_images(8)
        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(
                lambda i: http("POST", url + "/v1/models/fmnist:predict",
                               json.dumps({"instances": images[i:i + 1].tolist()})),
                range(8)))
        assert all(status == 200 for status, _ in answers), answers
        # Each caller got its own row: the same as an unbatched request of all 8.
        together = np.array(json.loads(http("POST", url + "/v1/models/fmnist:predict",
                                            json.dumps({"instances": images.tolist()}))[1])
                            ["predictions"])
        for i, (_, body) in enumerate(answers):
            np.testing.assert_allclose(json.loads(body)["predictions"][0], together[i],
                                       rtol=1e-5, atol=1e-7)
        metrics = http("GET", url + "/monitoring/prometheus/metrics")[1]
        count = float(re.search(r'processed_batch_size_count\{model_name="fmnist",version="1"\} '
                                r'(\S+)', metrics).group(1))
        total = float(re.search(r'processed_batch_size_sum\{model_name="fmnist",version="1"\} '
                                r'(\S+)', metrics).group(1))
        assert total >= 16 and count < total, (count, total)  # fewer batches than rows
    finally:
        assert stop(proc) == 0


def test_predict_runs_an_export_locally_and_names_bad_inputs(tmp_path, base):
    images, _ = test_images(3)
    np.save(tmp_path / "x.npy", images)
    r = run("predict", "--model_dir", str(base / "1"), "--input", str(tmp_path / "x.npy"),
            "--output_dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    probabilities = np.load(tmp_path / "probabilities.npy")
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    # float64 is read as float32; the named form selects the input; the
    # output directory is created.
    np.save(tmp_path / "x64.npy", images.astype(np.float64))
    r = run("predict", "--model_dir", str(base / "1"), "--input", f"x={tmp_path / 'x64.npy'}",
            "--output_dir", str(tmp_path / "64"))
    assert r.returncode == 0, r.stderr
    np.testing.assert_allclose(np.load(tmp_path / "64" / "probabilities.npy"), probabilities,
                               rtol=1e-6)
    np.save(tmp_path / "fortran.npy", np.asfortranarray(images[:, :, :, 0]))
    np.save(tmp_path / "ints.npy", np.zeros((1, 28, 28, 1), np.uint8))
    np.save(tmp_path / "flat.npy", images.reshape(3, 784))
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    for args, message in [
        (["--model_dir", str(base)], "must be a version directory"),
        (["--input", str(tmp_path / "junk.npy")], "is not a usable .npy file: no NUMPY magic"),
        (["--input", str(tmp_path / "fortran.npy")], "only C order"),
        (["--input", str(tmp_path / "ints.npy")], "dtype '|u1'"),
        (["--input", str(tmp_path / "flat.npy")], "has shape [3,784]"),
        (["--signature_name", "nope"], "\"nope\" not found"),
    ]:
        full = {"--model_dir": str(base / "1"), "--input": str(tmp_path / "x.npy")}
        full.update(dict(zip(args[::2], args[1::2])))
        r = run("predict", *[x for kv in full.items() for x in kv])
        assert r.returncode == 1 and message in r.stderr, (args, r.stderr)
