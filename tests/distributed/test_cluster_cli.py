"""End-to-end tests of braid's cluster mode: `braid server`, `braid train` as
ps/worker tasks under `braid launch`, and the in-graph replication example.
Real processes on loopback, real gRPC, real Fashion-MNIST."""
import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build")).resolve()
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid")).resolve()
IN_GRAPH = BUILD / "examples" / "in_graph"


def run(args, env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.pop("TF_CONFIG", None)
    full_env.update(env or {})
    return subprocess.run([str(BRAID), *args], capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.parametrize("tf_config,message", [
    ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "ps", "index": 0}}',
     "'ps'"),
    ('{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 3}}',
     "task index 3 is out of range for job 'worker', which has 1 task"),
    ('{"cluster": {"worker": ["localhost:1", "localhost:1"]}, '
     '"task": {"type": "worker", "index": 0}}', "localhost:1"),
    ('{"cluster": {"worker": ["localhost"]}, "task": {"type": "worker", "index": 0}}',
     "'localhost'"),
    ('{"cluster": {"worker": ["localhost:99999"]}, "task": {"type": "worker", "index": 0}}',
     "99999"),
    ('{"cluster": {"master": ["a:1"], "chief": ["b:1"]}, "task": {"type": "chief"}}',
     "chief"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 0}, '
     '"rpc_layer": "mpi"}', "mpi"),
    ('{"cluster": {"worker": ["a:1"]', "TF_CONFIG"),
])
@pytest.mark.parametrize("command", ["server", "train"])
def test_bad_tf_config_is_one_clear_error(command, tf_config, message):
    r = run([command], env={"TF_CONFIG": tf_config})
    assert r.returncode == 1, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert message in lines[0], lines[0]


def test_bad_cluster_flags_are_clear_errors():
    r = run(["server", "--cluster_spec", '{"ps": ["localhost:2222"]}', "--job_name", "worker"])
    assert r.returncode == 1
    assert "worker" in r.stderr and "ps" in r.stderr
    r = run(["server"])
    assert r.returncode == 1
    assert "TF_CONFIG" in r.stderr


def test_help_documents_the_cluster_flags():
    for command in ["server", "train"]:
        text = run([command, "--help"]).stdout
        for flag in ["--cluster_spec", "--job_name", "--task_index", "--operation_timeout_ms",
                     "--ps_strategy"]:
            assert flag in text, (command, flag)


def launch_train(tmp_path, ps, workers, *train_args, timeout=900):
    metrics = tmp_path / "metrics.json"
    r = subprocess.run(
        [str(BRAID), "launch", "--ps", str(ps), "--workers", str(workers), "--grace_seconds",
         "60", "--", "braid", "train", "--metrics_json", str(metrics), *train_args],
        capture_output=True, text=True, timeout=timeout, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    # Every ps exited by itself once the workers were done: the launcher
    # stopped nothing.
    assert "stopped" not in r.stderr, r.stderr
    for i in range(ps):
        assert f"[ps:{i}] braid: /job:ps/replica:0/task:{i}: every worker is done" in r.stderr
    return r, json.loads(metrics.read_text())


def ps_loads(stdout, worker=0):
    """{task: (variables, bytes text)} from worker 0's placement report."""
    loads = {}
    for m in re.finditer(rf"\[worker:{worker}\] ps:(\d+)\s+(\d+) variables\s+([\d.]+ \w+)",
                         stdout):
        loads[int(m.group(1))] = (int(m.group(2)), m.group(3))
    return loads


def test_async_training_with_two_workers(tmp_path):
    r, metrics = launch_train(tmp_path, 1, 2, "--model", "mlp", "--epochs", "1")
    # The chief evaluated after both workers were done; the global step counts
    # both workers' steps (30,000 examples each, batch 128).
    assert metrics["global_step"] == 2 * 235
    assert metrics["steps"] == 235
    assert metrics["test_accuracy"] >= 0.80, metrics
    assert "data shard 1 of 2" in r.stdout and "data shard 2 of 2" in r.stdout


def test_two_ps_share_the_variables_by_bytes(tmp_path):
    r, _ = launch_train(tmp_path, 2, 2, "--model", "mlp", "--epochs", "1")
    loads = ps_loads(r.stdout)
    assert set(loads) == {0, 1}, r.stdout
    assert all(n > 0 for n, _ in loads.values()), loads
    # Both workers placed the variables the same way (they share them).
    assert ps_loads(r.stdout, worker=1) == loads


@pytest.mark.slow
def test_cnn_async_reaches_089(tmp_path):
    _, metrics = launch_train(tmp_path, 1, 2, "--model", "cnn", "--epochs", "3", timeout=1800)
    assert metrics["test_accuracy"] >= 0.89, metrics


def start_servers(cluster):
    spec = json.dumps(cluster)
    procs = []
    for job, addresses in cluster.items():
        for i in range(len(addresses)):
            procs.append(subprocess.Popen(
                [str(BRAID), "server", "--cluster_spec", spec, "--job_name", job,
                 "--task_index", str(i), "--intra_op_threads", "1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def in_graph(*args):
    r = subprocess.run([str(IN_GRAPH), "--epochs", "2", *args], capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    losses = [float(x) for x in re.findall(r"train_loss ([\d.]+)", r.stdout)]
    accuracy = float(re.search(r"final test_accuracy=([\d.]+)", r.stdout).group(1))
    return losses, accuracy


def test_in_graph_replication_trains_like_one_process():
    ports = free_ports(3)
    cluster = {"ps": [f"localhost:{ports[0]}"],
               "worker": [f"localhost:{ports[1]}", f"localhost:{ports[2]}"]}
    servers = start_servers(cluster)
    try:
        losses, accuracy = in_graph("--target", f"grpc://localhost:{ports[1]}", "--towers", "2")
    finally:
        for p in servers:
            p.kill()
            p.wait()
    one_losses, one_accuracy = in_graph("--towers", "1")
    # Two towers on two worker tasks, averaged on the ps, train like one
    # process with the same global batch: the same losses up to float
    # rounding (summation order differs, and training amplifies it a little).
    assert losses == pytest.approx(one_losses, rel=5e-3)
    assert abs(accuracy - one_accuracy) <= 0.005, (accuracy, one_accuracy)


def test_sync_training_applies_once_per_aggregated_step(tmp_path):
    r, metrics = launch_train(tmp_path, 1, 2, "--model", "mlp", "--epochs", "1",
                              "--sync_replicas")
    # Both workers' gradients of a step are averaged and applied once: the
    # global step counts steps, not pushes (235 each of 30,000 examples).
    assert metrics["global_step"] == 235, metrics
    assert metrics["dropped_gradients"] == 0
    assert metrics["test_accuracy"] >= 0.80, metrics
    assert "synchronous training: 235 aggregated steps" in r.stdout


def test_sync_backup_worker_gradients_are_dropped_and_reported(tmp_path):
    # Three workers, two gradients per step; worker 2 sleeps after every step,
    # so its gradients come late for their step and are dropped.
    r, metrics = launch_train(tmp_path, 1, 3, "--model", "mlp", "--epochs", "1",
                              "--sync_replicas", "--replicas_to_aggregate", "2",
                              "--test_slow_replica", "2", "--test_step_delay_ms", "40")
    assert metrics["dropped_gradients"] > 0, metrics
    assert f"{metrics['dropped_gradients']} stale gradients dropped" in r.stdout
    # The chief ended the training for the others when its shard was done.
    assert "the chief ended the synchronous training" in r.stdout
    assert metrics["steps"] == 157, metrics  # 20,000 examples, batch 128


@pytest.mark.parametrize("bound", [0, 2])
def test_bounded_staleness_holds_the_fast_worker_back(tmp_path, bound):
    # Worker 1 sleeps after every step; worker 0 (the chief) may run at most
    # `bound` steps ahead of it. Worker 0 measures its lead apart from the
    # gate: the steps it took against the global step's count of the others'.
    r, metrics = launch_train(tmp_path, 1, 2, "--model", "mlp", "--epochs", "1",
                              "--max_staleness", str(bound), "--test_slow_replica", "1",
                              "--test_step_delay_ms", "15", "--log_step_count_steps", "0")
    staleness = metrics["staleness"]
    assert staleness["max_steps_ahead_of_others_mean"] <= bound, staleness
    assert 0 <= staleness["max_lead"] <= bound, staleness
    assert metrics["global_step"] == 2 * 235, metrics
    assert metrics["test_accuracy"] >= 0.80, metrics


def test_a_loose_staleness_bound_lets_the_fast_worker_run_ahead(tmp_path):
    # The same measurement with a bound that never binds: the fast worker is
    # far ahead, so the test above would see a broken gate.
    _, metrics = launch_train(tmp_path, 1, 2, "--model", "mlp", "--epochs", "1",
                              "--max_staleness", "1000", "--test_slow_replica", "1",
                              "--test_step_delay_ms", "15", "--log_step_count_steps", "0")
    assert metrics["staleness"]["max_steps_ahead_of_others_mean"] > 20, metrics


def test_max_staleness_needs_a_ps_and_excludes_sync(tmp_path):
    r = subprocess.run([str(BRAID), "train", "--max_staleness", "1"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert "--max_staleness needs a cluster with a ps task" in r.stderr, r.stderr
    r = subprocess.run([str(BRAID), "launch", "--ps", "1", "--workers", "1", "--", "braid",
                        "train", "--max_staleness", "1", "--sync_replicas"],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode != 0
    assert "--max_staleness and --sync_replicas exclude each other" in r.stderr, r.stderr


@pytest.mark.slow
def test_cnn_sync_reaches_090(tmp_path):
    _, metrics = launch_train(tmp_path, 1, 2, "--model", "cnn", "--epochs", "3",
                              "--sync_replicas", timeout=1800)
    assert metrics["test_accuracy"] >= 0.90, metrics
    assert metrics["global_step"] == 3 * 235
