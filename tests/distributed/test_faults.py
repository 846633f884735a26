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


def test_a_worker_killed_mid_training_is_restarted_and_rejoins(tmp_path):
    metrics = tmp_path / "metrics.json"
    launch = Launch(["--ps", "1", "--workers", "2", "--grace_seconds", "60",
                     "--restart_on_failure", "--", "braid", "train", "--model", "mlp",
                     "--epochs", "3", "--metrics_json", str(metrics)], cwd=tmp_path)
    try:
        # The line comes with the first progress line: worker 1 trains.
        launch.wait_for_line("[worker:1] training mlp", timeout=300)
        time.sleep(1)
        os.kill(task_pid(launch.proc.pid, "worker", 1), signal.SIGKILL)
    except BaseException:
        launch.stop()
        raise
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
