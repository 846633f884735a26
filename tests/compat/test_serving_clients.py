"""`braid serve` against the real clients: TF Serving's official Python client
(pip tensorflow-serving-api, over gRPC) and `curl` (REST), on a Fashion-MNIST
MLP exported by `braid train --export_dir`. Every answer is compared with what
`braid predict` computes locally from the same export.

Run in the project's venv: scripts/venv.sh && .venv/bin/pytest -q tests/compat/test_serving_clients.py
"""

import gzip
import json
import os
import pathlib
import re
import subprocess
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import (  # noqa: E402
    classification_pb2, get_model_metadata_pb2, get_model_status_pb2, model_management_pb2,
    model_service_pb2_grpc, predict_pb2, prediction_service_pb2_grpc)

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = pathlib.Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid"))
DATA = pathlib.Path("/usr/share/datasets/fashion-mnist")
TIMEOUT = 60  # seconds for any one call


def braid(*args, timeout=600):
    r = subprocess.run([str(BRAID), *args], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    return r.stdout


def fashion_mnist_test(n):
    with gzip.open(DATA / "t10k-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28, 1)
    with gzip.open(DATA / "t10k-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return (images[:n] / 255.0).astype(np.float32), labels[:n]


def start_server(*args):
    """Starts `braid serve` on free ports; returns (process, grpc address, REST url)."""
    proc = subprocess.Popen([str(BRAID), "serve", "--port", "0", "--rest_api_port", "0",
                             "--host", "127.0.0.1", "--file_system_poll_wait_seconds", "0.2",
                             *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = ""
    deadline = time.time() + 60
    while "gRPC API at" not in line:
        assert time.time() < deadline and proc.poll() is None, proc.stderr.read()
        line = proc.stdout.readline()
    m = re.search(r"gRPC API at ([\d.]+:\d+); REST API at (http://[\d.]+:\d+)", line)
    assert m, line
    return proc, m.group(1), m.group(2)


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def curl(*args):
    r = subprocess.run(["curl", "-sS", "-w", "\n%{http_code}", *args],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def wait_until(predicate, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    base = tmp_path_factory.mktemp("fmnist")
    braid("train", "--model", "mlp", "--epochs", "1", "--max_steps", "200",
          "--export_dir", str(base))
    (base / "200").rename(base / "1")
    return base


@pytest.fixture(scope="module")
def images():
    return fashion_mnist_test(100)


@pytest.fixture(scope="module")
def local(export, images, tmp_path_factory):
    """What `braid predict` computes from the export, without a server."""
    work = tmp_path_factory.mktemp("local")
    np.save(work / "x.npy", images[0])
    braid("predict", "--model_dir", str(export / "1"), "--input", str(work / "x.npy"),
          "--output_dir", str(work))
    return np.load(work / "probabilities.npy")


@pytest.fixture(scope="module")
def server(export):
    proc, address, url = start_server("--model_name", "fmnist", "--model_base_path", str(export))
    channel = grpc.insecure_channel(address)
    predictions = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    models = model_service_pb2_grpc.ModelServiceStub(channel)

    def ready():
        try:
            return curl(url + "/readyz")[0] == 200
        except AssertionError:
            return False

    wait_until(ready, "the server to be ready")
    yield predictions, models, url, channel
    channel.close()
    stop_server(proc)


def predict_request(images, name="fmnist", **spec):
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    for key, value in spec.items():
        if key == "version":
            request.model_spec.version.value = value
        else:
            setattr(request.model_spec, key, value)
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(images))
    return request


def test_official_client_predict_equals_braid_predict(server, images, local):
    stub, _, _, _ = server
    response = stub.Predict(predict_request(images[0]), timeout=TIMEOUT)
    assert response.model_spec.name == "fmnist"
    assert response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    probabilities = tf.make_ndarray(response.outputs["probabilities"])
    assert probabilities.shape == (100, 10)
    np.testing.assert_allclose(probabilities, local, rtol=1e-5, atol=1e-7)
    assert (probabilities.argmax(1) == local.argmax(1)).all()
    accuracy = float((probabilities.argmax(1) == images[1]).mean())
    assert accuracy > 0.6, accuracy

    # The same request with typed values (float_val) instead of tensor_content.
    request = predict_request(images[0][:3])
    typed = request.inputs["x"]
    typed.ClearField("tensor_content")
    typed.float_val.extend(images[0][:3].ravel().tolist())
    response = stub.Predict(request, timeout=TIMEOUT)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["probabilities"]), local[:3],
                               rtol=1e-5, atol=1e-7)


def test_official_client_metadata_and_status(server):
    stub, models, _, _ = server
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "fmnist"
    request.metadata_field.append("signature_def")
    response = stub.GetModelMetadata(request, timeout=TIMEOUT)
    assert response.model_spec.version.value == 1
    signatures = get_model_metadata_pb2.SignatureDefMap()
    assert response.metadata["signature_def"].Unpack(signatures)
    assert set(signatures.signature_def) == {"serving_default", "logits", "classification"}
    main = signatures.signature_def["serving_default"]
    assert main.method_name == "tensorflow/serving/predict"
    assert main.inputs["x"].dtype == tf.float32.as_datatype_enum
    assert [d.size for d in main.inputs["x"].tensor_shape.dim] == [-1, 28, 28, 1]
    assert [d.size for d in main.outputs["probabilities"].tensor_shape.dim] == [-1, 10]
    assert signatures.signature_def["classification"].method_name == "tensorflow/serving/classify"

    status = models.GetModelStatus(
        get_model_status_pb2.GetModelStatusRequest(model_spec={"name": "fmnist"}),
        timeout=TIMEOUT)
    assert len(status.model_version_status) == 1
    v = status.model_version_status[0]
    assert v.version == 1
    assert v.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert v.status.error_code == 0 and v.status.error_message == ""


def test_official_client_classify(server, images, local):
    stub, _, _, _ = server
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name = "fmnist"
    request.model_spec.signature_name = "classification"
    for image in images[0][:4]:
        example = request.input.example_list.examples.add()
        example.features.feature["x"].float_list.value.extend(image.ravel().tolist())
    response = stub.Classify(request, timeout=TIMEOUT)
    assert len(response.result.classifications) == 4
    for i, c in enumerate(response.result.classifications):
        assert [cls.label for cls in c.classes] == [str(k) for k in range(10)]
        np.testing.assert_allclose([cls.score for cls in c.classes], local[i], rtol=1e-5,
                                   atol=1e-7)


@pytest.mark.parametrize("change,code,message", [
    (lambda r: r.model_spec.__setattr__("name", "nope"), grpc.StatusCode.NOT_FOUND,
     "model 'nope'"),
    (lambda r: r.model_spec.version.__setattr__("value", 9), grpc.StatusCode.NOT_FOUND,
     "no version 9"),
    (lambda r: r.model_spec.__setattr__("version_label", "stable"), grpc.StatusCode.NOT_FOUND,
     "label 'stable'"),
    (lambda r: r.model_spec.__setattr__("signature_name", "nope"),
     grpc.StatusCode.INVALID_ARGUMENT, "\"nope\" not found"),
    (lambda r: r.inputs["x"].CopyFrom(tf.make_tensor_proto(np.zeros((1, 28, 28, 1), np.int64))),
     grpc.StatusCode.INVALID_ARGUMENT, "input 'x' is DT_INT64"),
    (lambda r: r.inputs["x"].CopyFrom(tf.make_tensor_proto(np.zeros((1, 784), np.float32))),
     grpc.StatusCode.INVALID_ARGUMENT, "has shape [1,784]"),
    (lambda r: r.inputs["x"].tensor_shape.dim[0].__setattr__("size", 10**12),
     grpc.StatusCode.INVALID_ARGUMENT, "more than the limit"),
    (lambda r: r.inputs["x"].__setattr__("tensor_content", b"abc"),
     grpc.StatusCode.INVALID_ARGUMENT, "input 'x'"),
    (lambda r: r.inputs.pop("x"), grpc.StatusCode.INVALID_ARGUMENT, "missing input 'x'"),
    (lambda r: r.output_filter.append("nope"), grpc.StatusCode.INVALID_ARGUMENT,
     "output_filter names 'nope'"),
])
def test_official_client_gets_tf_serving_error_codes(server, images, change, code, message):
    stub, _, _, _ = server
    request = predict_request(images[0][:1])
    change(request)
    with pytest.raises(grpc.RpcError) as e:
        stub.Predict(request, timeout=TIMEOUT)
    assert e.value.code() == code, e.value.details()
    assert message in e.value.details()
    # ... and the server keeps serving.
    assert stub.Predict(predict_request(images[0][:1]), timeout=TIMEOUT).outputs


def test_large_batch_passes_the_4mb_default(server):
    stub, _, _, _ = server
    images, _ = fashion_mnist_test(2000)  # 6.3 MB of float32
    response = stub.Predict(predict_request(images), timeout=TIMEOUT)
    assert tf.make_ndarray(response.outputs["probabilities"]).shape == (2000, 10)


def test_grpc_health_service(server):
    _, _, _, channel = server
    check = channel.unary_unary("/grpc.health.v1.Health/Check")
    # HealthCheckRequest{service: ""} is empty; the answer is {status: SERVING (1)}.
    assert check(b"", timeout=TIMEOUT) == b"\x08\x01"
    service = b"\x0a" + bytes([len("tensorflow.serving.PredictionService")]) + \
        b"tensorflow.serving.PredictionService"
    assert check(service, timeout=TIMEOUT) == b"\x08\x01"


def test_curl_row_and_columnar_formats(server, images, local, tmp_path):
    _, _, url, _ = server
    # Row format: {"instances": [...]} -> {"predictions": [...]}, one per instance.
    (tmp_path / "row.json").write_text(json.dumps({"instances": images[0][:3].tolist()}))
    code, body = curl("-d", f"@{tmp_path / 'row.json'}", url + "/v1/models/fmnist:predict")
    assert code == 200, body
    answer = json.loads(body)
    assert list(answer) == ["predictions"]
    np.testing.assert_allclose(np.array(answer["predictions"]), local[:3], rtol=1e-5, atol=1e-7)
    # Columnar format: {"inputs": ...} -> {"outputs": ...}; named or not.
    for inputs in [images[0][:3].tolist(), {"x": images[0][:3].tolist()}]:
        (tmp_path / "col.json").write_text(json.dumps({"inputs": inputs}))
        code, body = curl("-d", f"@{tmp_path / 'col.json'}",
                          url + "/v1/models/fmnist/versions/1:predict")
        assert code == 200, body
        answer = json.loads(body)
        assert list(answer) == ["outputs"]
        np.testing.assert_allclose(np.array(answer["outputs"]), local[:3], rtol=1e-5, atol=1e-7)
    # Classify: {"examples": [...]} -> {"results": [[[label, score], ...], ...]}.
    (tmp_path / "cls.json").write_text(json.dumps({
        "signature_name": "classification",
        "examples": [{"x": images[0][0].ravel().tolist()}]}))
    code, body = curl("-d", f"@{tmp_path / 'cls.json'}", url + "/v1/models/fmnist:classify")
    assert code == 200, body
    results = json.loads(body)["results"]
    assert [label for label, _ in results[0]] == [str(k) for k in range(10)]
    np.testing.assert_allclose([score for _, score in results[0]], local[0], rtol=1e-5,
                               atol=1e-7)
    # Status and errors in TF Serving's exact shapes.
    code, body = curl(url + "/v1/models/fmnist")
    assert (code, json.loads(body)) == (200, {"model_version_status": [
        {"version": "1", "state": "AVAILABLE",
         "status": {"error_code": "OK", "error_message": ""}}]})
    code, body = curl("-d", '{"instances": [[1, 2]', url + "/v1/models/fmnist:predict")
    assert code == 400 and list(json.loads(body)) == ["error"]
    code, body = curl("-d", '{"instances": [1]}', url + "/v1/models/nope:predict")
    assert code == 404 and "model 'nope'" in json.loads(body)["error"]
    code, body = curl(url + "/monitoring/prometheus/metrics")
    assert code == 200
    assert re.search(r':tensorflow:serving:request_count\{model_name="fmnist",version="1",'
                     r'API="predict",entrypoint="GRPC",status="OK"\} [1-9]', body), body


def test_reload_config_adds_a_model_with_labels(server, export, images, local):
    stub, models, url, _ = server
    request = model_management_pb2.ReloadConfigRequest()
    for name in ["fmnist", "copy"]:
        config = request.config.model_config_list.config.add()
        config.name = name
        config.base_path = str(export)
        config.model_platform = "tensorflow"
    config.version_labels["stable"] = 1
    response = models.HandleReloadConfigRequest(request, timeout=TIMEOUT)
    assert response.status.error_code == 0, response.status.error_message

    def copy_serves():
        try:
            stub.Predict(predict_request(images[0][:2], name="copy", version_label="stable"),
                         timeout=TIMEOUT)
            return True
        except grpc.RpcError:
            return False

    wait_until(copy_serves, "model 'copy' to serve by its label")
    response = stub.Predict(predict_request(images[0][:2], name="copy", version_label="stable"),
                            timeout=TIMEOUT)
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["probabilities"]), local[:2],
                               rtol=1e-5, atol=1e-7)
    code, body = curl(url + "/v1/models/copy/labels/stable")
    assert code == 200 and json.loads(body)["model_version_status"][0]["version"] == "1"

    # A config that cannot be served is refused with its reason; nothing changes.
    config.base_path = ""
    with pytest.raises(grpc.RpcError) as e:
        models.HandleReloadConfigRequest(request, timeout=TIMEOUT)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "model 'copy' has no base_path" in e.value.details()
    assert copy_serves()
