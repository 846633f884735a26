"""A version swap under load: while clients send predictions without pause
(over REST and over gRPC with TF Serving's official client), version 2 is
dropped into the base path and version 1 removed. No request may fail, the
answers move from version 1 to version 2, and the model status shows the
transition.

Run in the project's venv: scripts/venv.sh && .venv/bin/pytest -q tests/compat/test_serving_swap.py
"""

import json
import os
import shutil
import threading
import time
import urllib.request

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import grpc  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # noqa: E402

from test_serving_clients import (  # noqa: E402
    braid, curl, fashion_mnist_test, start_server, stop_server, wait_until)


def export_version(staging, base, steps, version):
    """Trains `steps` steps and moves the export into BASE/<version> with one
    rename, as a deployment would: the server never sees a partial version."""
    braid("train", "--model", "mlp", "--epochs", "1", "--max_steps", str(steps),
          "--export_dir", str(staging))
    (staging / str(steps)).rename(base / str(version))


class Load:
    """Clients sending requests back to back until stopped; every answer's
    version and every failure is recorded."""

    def __init__(self, url, address, images):
        self.url, self.address, self.images = url, address, images
        self.versions = []  # (time, version) of each answer
        self.failures = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.rest), threading.Thread(target=self.grpc)]

    def record(self, version=None, failure=None):
        with self.lock:
            if failure is not None:
                self.failures.append(failure)
            else:
                self.versions.append((time.time(), version))

    def rest(self):
        body = json.dumps({"instances": self.images.tolist()}).encode()
        while not self.stop.is_set():
            try:
                # A REST answer does not say its version; gRPC's do.
                req = urllib.request.Request(self.url + "/v1/models/fmnist:predict", data=body)
                with urllib.request.urlopen(req, timeout=60) as r:
                    predictions = json.loads(r.read())["predictions"]
                    assert len(predictions) == len(self.images)
                self.record(version=None)
            except Exception as e:  # noqa: BLE001 - any failure counts
                self.record(failure=f"REST: {e!r}")

    def grpc(self):
        with grpc.insecure_channel(self.address) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "fmnist"
            request.inputs["x"].CopyFrom(tf.make_tensor_proto(self.images))
            while not self.stop.is_set():
                try:
                    response = stub.Predict(request, timeout=60)
                    assert tf.make_ndarray(response.outputs["probabilities"]).shape == (
                        len(self.images), 10)
                    self.record(version=response.model_spec.version.value)
                except Exception as e:  # noqa: BLE001
                    self.record(failure=f"gRPC: {e!r}")

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=120)


def test_version_swap_under_load_fails_no_request(tmp_path):
    base, staging = tmp_path / "base", tmp_path / "staging"
    base.mkdir()
    export_version(staging, base, 30, 1)
    proc, address, url = start_server("--model_name", "fmnist", "--model_base_path", str(base))
    try:
        wait_until(lambda: curl(url + "/readyz")[0] == 200, "version 1 to load")
        images, _ = fashion_mnist_test(8)
        statuses = []  # every distinct status the server reported

        def status():
            code, body = curl(url + "/v1/models/fmnist")
            states = {s["version"]: s["state"] for s in json.loads(body)["model_version_status"]}
            if not statuses or statuses[-1] != states:
                statuses.append(states)
            return states

        with Load(url, address, images) as load:
            wait_until(lambda: len(load.versions) > 20, "the load to run")
            status()  # before the swap
            export_version(staging, base, 40, 2)
            shutil.rmtree(base / "1")
            wait_until(lambda: status() == {"1": "END", "2": "AVAILABLE"},
                       "version 2 to replace version 1", timeout=120)
            swapped = time.time()
            wait_until(lambda: any(t > swapped + 1 for t, _ in load.versions),
                       "answers after the swap")
        assert load.failures == [], load.failures[:5]
        grpc_versions = [v for _, v in load.versions if v is not None]
        rest_answers = [v for _, v in load.versions if v is None]
        assert grpc_versions[0] == 1 and grpc_versions[-1] == 2, grpc_versions
        # Once version 2 answered, version 1 never did again.
        first_2 = grpc_versions.index(2)
        assert all(v == 2 for v in grpc_versions[first_2:])
        assert len(rest_answers) > 10 and len(grpc_versions) > 10
        # The status went from version 1 alone to version 2 alone (possibly
        # through both), never without an available version.
        assert statuses[0] == {"1": "AVAILABLE"}, statuses
        assert statuses[-1] == {"1": "END", "2": "AVAILABLE"}, statuses
        for s in statuses:
            assert "AVAILABLE" in s.values(), statuses
        print(f"{len(load.versions)} answers ({len(rest_answers)} REST, {len(grpc_versions)} "
              f"gRPC), no failure; status: {statuses}")
    finally:
        stop_server(proc)
