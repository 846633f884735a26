"""Fault tests of braid's cluster mode: real `braid train` tasks under
`braid launch --restart_on_failure`, a task killed with SIGKILL mid-training,
real gRPC on loopback, real Fashion-MNIST."""
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from test_cluster_cli import free_ports

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build")).resolve()
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid")).resolve()


class Launch:
    """`braid launch ARGS` running in the background; its stdout and stderr lines
    are collected as they come (so the launcher never blocks on a full pipe)."""

    def __init__(self, args, cwd):
        env = dict(os.environ)
        env.pop("TF_CONFIG", None)
        self.proc = subprocess.Popen([str(BRAID), "launch", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
        self.out, self.err = [], []
        self.changed = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(s, l), daemon=True)
                        for s, l in [(self.proc.stdout, self.out), (self.proc.stderr, self.err)]]
        for t in self.readers:
            t.start()

    def _read(self, stream, lines):
        for line in stream:
            with self.changed:
                lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for_line(self, text, timeout):
        """Waits until a line of stdout or stderr contains `text`."""
        with self.changed:
            found = self.changed.wait_for(
                lambda: any(text in l for l in self.out + self.err) or self.proc.poll() is not None,
                timeout)
        assert found and any(text in l for l in self.out + self.err), (
            f"no line with {text!r} within {timeout} s:\n" + "\n".join((self.out + self.err)[-50:]))

    def stop(self):
        """SIGTERM: the launcher stops its tasks; SIGKILL if it does not end."""
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def finish(self, timeout):
        """Waits for the launcher to end: (exit code, stdout, stderr)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        for t in self.readers:
            t.join(10)
        return code, "\n".join(self.out), "\n".join(self.err)


def children(pid):
    """The pids whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def task_pid(launcher_pid, job, index):
    """The pid of the launcher's child whose TF_CONFIG names task job:index."""
    for pid in children(launcher_pid):
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for var in env:
            if var.startswith(b"TF_CONFIG="):
                task = json.loads(var[len(b"TF_CONFIG="):])["task"]
                if task == {"type": job, "index": index}:
                    return pid
    raise AssertionError(f"no child of the launcher runs {job}:{index}")


def kill_worker_after_line(launch, index, line):
    """Kills worker `index` with SIGKILL a second after `line` appears."""
    try:
        launch.wait_for_line(line, timeout=300)
        time.sleep(1)
        os.kill(task_pid(launch.proc.pid, "worker", index), signal.SIGKILL)
    except BaseException:
        launch.stop()
        raise


def test_a_worker_killed_mid_training_is_restarted_and_rejoins(tmp_path):
    metrics = tmp_path / "metrics.json"
    launch = Launch(["--ps", "1", "--workers", "2", "--grace_seconds", "60",
                     "--restart_on_failure", "--", "braid", "train", "--model", "mlp",
                     "--epochs", "3", "--metrics_json", str(metrics)], cwd=tmp_path)
    # The line comes with the first progress line: worker 1 trains.
    kill_worker_after_line(launch, 1, "[worker:1] training mlp")
    code, out, err = launch.finish(timeout=900)
    log = out[-4000:] + "\n" + err[-4000:]
    assert code == 0, log
    assert ("braid launch: worker:1 was killed by signal 9 (Killed); restarting it (1 of 3)"
            in err.splitlines()), log
    # The restarted worker built its graph, joined and trained its shard again.
    assert out.count("[worker:1] training mlp") == 2, log
    assert out.count("[worker:1] epoch 3/3:") == 1, log
    assert "[worker:0] epoch 3/3:" in out, log
    result = json.loads(metrics.read_text())
    assert result["test_accuracy"] >= 0.80, result
    # worker 0 trained its shard once; worker 1 one and a bit (3 epochs of
    # 235 steps each), so the global step counts more than 2 * 705 steps.
    assert result["global_step"] > 2 * 3 * 235, result
    # The ps exited by itself once both workers reported done: the launcher
    # stopped nothing.
    assert "[ps:0] braid: /job:ps/replica:0/task:0: every worker is done; exiting" in err, log
    assert "braid launch: stopped" not in err and "braid launch: killed" not in err, log


def committed_step(ckpt_dir):
    """The global step of the newest committed checkpoint in `ckpt_dir`, or -1."""
    try:
        index = (ckpt_dir / "checkpoint").read_text()
    except OSError:
        return -1
    for line in index.splitlines():
        if line.startswith("model_checkpoint_path:"):
            return int(line.split('"')[1].rsplit("-", 1)[1])
    return -1


def kill_ps_after_checkpoint(launch, ckpt_dir, step):
    """Kills ps 0 with SIGKILL once a checkpoint at `step` or later is
    committed; returns the step of the newest committed one at the kill."""
    try:
        deadline = time.time() + 300
        while (committed_step(ckpt_dir) < step and time.time() < deadline
               and launch.proc.poll() is None):
            time.sleep(0.05)
        before_kill = committed_step(ckpt_dir)
        assert before_kill >= step, "\n".join(launch.out[-30:] + launch.err[-30:])
        os.kill(task_pid(launch.proc.pid, "ps", 0), signal.SIGKILL)
        return before_kill
    except BaseException:
        launch.stop()
        raise


def test_a_ps_killed_mid_training_is_restored_from_the_last_checkpoint(tmp_path):
    metrics, ckpt = tmp_path / "metrics.json", tmp_path / "ckpt"
    launch = Launch(["--ps", "1", "--workers", "2", "--grace_seconds", "60",
                     "--restart_on_failure", "--", "braid", "train", "--model", "mlp",
                     "--epochs", "3", "--checkpoint_dir", str(ckpt),
                     "--save_checkpoints_steps", "200", "--metrics_json", str(metrics)],
                    cwd=tmp_path)
    before_kill = kill_ps_after_checkpoint(launch, ckpt, 400)
    code, out, err = launch.finish(timeout=900)
    log = out[-4000:] + "\n" + err[-4000:]
    assert code == 0, log
    assert ("braid launch: ps:0 was killed by signal 9 (Killed); restarting it (1 of 3)"
            in err.splitlines()), log
    # Both workers saw the ps go, waited for it and went on in the same process.
    for w in ("worker:0", "worker:1"):
        assert f"[{w}] braid: lost a task of the session" in err, log
        assert f"[{w}] braid: session recovered after" in err, log
        assert out.count(f"[{w}] training mlp") == 1, log
    result = json.loads(metrics.read_text())
    # The chief restored the restarted ps from the newest committed checkpoint:
    # at or after the one there was when the ps died, never an older one.
    assert result["recoveries"] == 1, result
    assert len(result["restored_global_steps"]) == 1, result
    restored = result["restored_global_steps"][0]
    assert restored >= before_kill, (restored, before_kill)
    assert f"[worker:0] resumed from {ckpt}/ckpt-{restored} (global step {restored})" in out, log
    # The updates since that checkpoint are lost, the workers' steps are not:
    # both finished their 3 epochs, so the global step ends below 2 * 705.
    assert "[worker:0] epoch 3/3:" in out and "[worker:1] epoch 3/3:" in out, log
    assert restored < result["global_step"] < 2 * 3 * 235, result
    assert result["test_accuracy"] >= 0.80, result
    assert "braid launch: stopped" not in err and "braid launch: killed" not in err, log


def wait_for_text(path, text, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"no {text!r} in {path} within {timeout} s")


def test_a_worker_killed_in_sync_training_without_backups_ends_it_with_a_clear_error(tmp_path):
    # Started by hand, not by braid launch (which would stop the others at
    # once): what do the chief and the ps do when a worker they wait for dies?
    ps_port, w0_port, w1_port = free_ports(3)
    cluster = json.dumps({"ps": [f"127.0.0.1:{ps_port}"],
                          "worker": [f"127.0.0.1:{w0_port}", f"127.0.0.1:{w1_port}"]})
    train = [str(BRAID), "train", "--model", "mlp", "--epochs", "3", "--sync_replicas",
             "--operation_timeout_ms", "8000", "--log_step_count_steps", "0"]
    procs, logs = {}, {}
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    try:
        for job, index in [("ps", 0), ("worker", 0), ("worker", 1)]:
            name = f"{job}{index}"
            logs[name] = tmp_path / f"{name}.log"
            procs[name] = subprocess.Popen(
                train + ["--cluster_spec", cluster, "--job_name", job, "--task_index", str(index)],
                stdout=logs[name].open("w"), stderr=subprocess.STDOUT, cwd=tmp_path, env=env)
        wait_for_text(logs["worker1"], "epoch 1/3 step", timeout=300)
        time.sleep(1)
        procs["worker1"].kill()
        # The chief's step waits for worker 1's gradients at most the barrier's
        # timeout (6 s here), then fails naming it: no hang.
        code = procs["worker0"].wait(120)
        chief_log = logs["worker0"].read_text()
        assert code != 0, chief_log
        assert "nothing yet from replica(s) 1" in chief_log, chief_log[-3000:]
        # The ps waits for the dead worker only until it counts as gone.
        assert procs["ps0"].wait(120) == 0
        ps_log = logs["ps0"].read_text()
        assert ("every worker is done but /job:worker/replica:0/task:1, which is gone; exiting"
                in ps_log), ps_log
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()


def test_a_worker_killed_in_sync_training_rejoins_after_its_restart(tmp_path):
    metrics = tmp_path / "metrics.json"
    launch = Launch(["--ps", "1", "--workers", "2", "--grace_seconds", "60",
                     "--restart_on_failure", "--", "braid", "train", "--model", "mlp",
                     "--epochs", "2", "--sync_replicas", "--metrics_json", str(metrics)],
                    cwd=tmp_path)
    kill_worker_after_line(launch, 1, "[worker:1] epoch 1/2 step")
    code, out, err = launch.finish(timeout=900)
    log = out[-4000:] + "\n" + err[-4000:]
    assert code == 0, log
    assert ("braid launch: worker:1 was killed by signal 9 (Killed); restarting it (1 of 3)"
            in err.splitlines()), log
    # The chief waited for the restarted worker's gradients and went on.
    assert out.count("[worker:1] training mlp") == 2, log
    result = json.loads(metrics.read_text())
    assert result["global_step"] == 2 * 235, result  # every aggregated step, once
    assert result["test_accuracy"] >= 0.80, result


def test_the_chief_killed_while_writing_a_checkpoint_leaves_the_previous_one_intact(tmp_path):
    ckpt = tmp_path / "ckpt"
    train = ["braid", "train", "--model", "mlp", "--epochs", "1", "--checkpoint_dir", str(ckpt),
             "--save_checkpoints_steps", "100", "--log_step_count_steps", "0"]
    launch = [str(BRAID), "launch", "--ps", "1", "--workers", "2", "--"]
    # The chief kills itself with SIGKILL in its second checkpoint, after the
    # shards are written and before the manifest commits them.
    r = subprocess.run(launch + train + ["--test_kill_in_checkpoint", "2"], capture_output=True,
                       text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 128 + 9, r.stdout[-3000:] + r.stderr[-3000:]
    assert "[worker:0] testing: killed while writing checkpoint 2" in r.stdout
    first = committed_step(ckpt)
    assert 100 <= first < 200, (ckpt / "checkpoint").read_text()
    # The second checkpoint's shard is there, uncommitted.
    shards = sorted(p.name for p in ckpt.glob("ckpt-*.shard-*"))
    manifests = sorted(p.name for p in ckpt.glob("ckpt-*.manifest"))
    assert len(shards) == 2 and manifests == [f"ckpt-{first}.manifest"], (shards, manifests)
    # The first is intact: a new run restores it (checking every CRC) and
    # trains on from there.
    r = subprocess.run(launch + train, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"[worker:0] resumed from {ckpt}/ckpt-{first} (global step {first})" in r.stdout
    assert committed_step(ckpt) > first
    # Its saves removed the uncommitted shard: every shard left is committed.
    for shard in ckpt.glob("ckpt-*.shard-*"):
        assert (ckpt / (shard.name.split(".shard-")[0] + ".manifest")).exists(), shard.name


def test_a_ps_killed_in_sync_training_is_restored_and_the_steps_go_on(tmp_path):
    # The accumulators, barrier and step notice live on the ps and come back
    # empty; every worker's local init after the recovery restarts them at
    # sync step 0 together, and the chief's update loop recovers with them.
    metrics, ckpt = tmp_path / "metrics.json", tmp_path / "ckpt"
    launch = Launch(["--ps", "1", "--workers", "2", "--grace_seconds", "60",
                     "--restart_on_failure", "--", "braid", "train", "--model", "mlp",
                     "--epochs", "2", "--sync_replicas", "--checkpoint_dir", str(ckpt),
                     "--save_checkpoints_steps", "100", "--metrics_json", str(metrics)],
                    cwd=tmp_path)
    before_kill = kill_ps_after_checkpoint(launch, ckpt, 200)
    code, out, err = launch.finish(timeout=900)
    log = out[-4000:] + "\n" + err[-4000:]
    assert code == 0, log
    assert "[worker:1] braid: session recovered after" in err, log
    result = json.loads(metrics.read_text())
    assert result["recoveries"] == 1, result
    restored = result["restored_global_steps"][0]
    assert restored >= before_kill, (restored, before_kill)
    # The chief's 470 steps each applied one aggregated update, less those
    # lost with the ps after the checkpoint.
    assert restored < result["global_step"] <= 2 * 235, result
    assert result["test_accuracy"] >= 0.80, result
