"""End-to-end tests of `braid launch`: real processes, with small Python or
shell programs as the tasks, so that only the launcher itself is under test."""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid"))

# Every task program starts with this: who am I, according to TF_CONFIG.
PRELUDE = """\
import json, os, signal, subprocess, sys, time
CONFIG = json.loads(os.environ["TF_CONFIG"])
TYPE, INDEX = CONFIG["task"]["type"], CONFIG["task"]["index"]
NAME = f"{TYPE}:{INDEX}"
"""


def launch(*args, timeout=60):
    return subprocess.run([str(BRAID), "launch", *args], capture_output=True, text=True,
                          timeout=timeout)


def task_program(tmp_path, body):
    """The command line of a task that runs PRELUDE + body."""
    path = tmp_path / "task.py"
    path.write_text(PRELUDE + textwrap.dedent(body))
    return [sys.executable, str(path)]


def by_task(text):
    """{"worker:1": [its lines without the prefix], ...}; every line must carry a prefix
    except the launcher's own ("braid launch: ...")."""
    lines = {}
    for line in text.splitlines():
        if line.startswith("braid launch: "):
            continue
        m = re.fullmatch(r"\[(\w+:\d+)\] (.*)", line)
        assert m, f"line without a task prefix: {line!r}"
        lines.setdefault(m[1], []).append(m[2])
    return lines


def pids_in(lines_by_task):
    return {name: int(l.split()[1]) for name, lines in lines_by_task.items()
            for l in lines if l.startswith("pid ")}


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def launcher_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("braid launch: ")]


def test_help_documents_flags_tf_config_and_an_example():
    r = subprocess.run([str(BRAID), "--help"], capture_output=True, text=True, timeout=30)
    assert "launch" in r.stdout
    r = launch("--help")
    assert r.returncode == 0
    for text in ["--ps", "--workers", "--chief", "--evaluator", "--port_base", "--host",
                 "--grace_seconds", "--restart_on_failure", "TF_CONFIG", '"rpc_layer": "grpc"', "evaluator",
                 "braid launch --ps 1 --workers 2 -- braid train --model cnn --epochs 3"]:
        assert text in r.stdout, text


def test_every_task_gets_its_tf_config(tmp_path):
    cmd = task_program(tmp_path, 'print("TF_CONFIG", os.environ["TF_CONFIG"])\n')
    r = launch("--ps", "2", "--workers", "3", "--chief", "--evaluator", "--", *cmd)
    assert r.returncode == 0, r.stderr
    configs = {name: json.loads(lines[0].split(" ", 1)[1])
               for name, lines in by_task(r.stdout).items()}
    assert sorted(configs) == ["chief:0", "evaluator:0", "ps:0", "ps:1", "worker:0", "worker:1",
                               "worker:2"]
    cluster = configs["chief:0"]["cluster"]
    assert {job: len(addrs) for job, addrs in cluster.items()} == {"chief": 1, "worker": 3, "ps": 2}
    addresses = [a for addrs in cluster.values() for a in addrs]
    assert all(re.fullmatch(r"127\.0\.0\.1:\d+", a) for a in addresses), addresses
    assert len({a.split(":")[1] for a in addresses}) == 6, "ports must differ"
    for name, config in configs.items():
        job, index = name.split(":")
        assert config["task"] == {"type": job, "index": int(index)}
        assert config["cluster"] == cluster  # the evaluator too sees the cluster, not itself
        assert config["rpc_layer"] == "grpc"
    # The launcher says what it started.
    assert "braid launch: cluster " in r.stderr and json.dumps(cluster).replace(" ", "") in r.stderr


def test_port_base_gives_consecutive_ports_chief_first_and_empty_jobs_are_left_out(tmp_path):
    cmd = task_program(tmp_path, 'print("TF_CONFIG", os.environ["TF_CONFIG"])\n')
    r = launch("--workers", "2", "--chief", "--port_base", "23456", "--host", "localhost",
               "--", *cmd)
    assert r.returncode == 0, r.stderr
    config = json.loads(by_task(r.stdout)["worker:1"][0].split(" ", 1)[1])
    assert config["cluster"] == {"chief": ["localhost:23456"],
                                 "worker": ["localhost:23457", "localhost:23458"]}


def test_braid_as_the_command_runs_this_binary():
    r = launch("--workers", "2", "--", "braid", "--version")
    assert r.returncode == 0, r.stderr
    assert by_task(r.stdout) == {"worker:0": ["braid 0.1"], "worker:1": ["braid 0.1"]}


def test_output_is_prefixed_whole_lines_with_stdout_and_stderr_apart(tmp_path):
    cmd = task_program(tmp_path, """\
        for i in range(3000):  # enough to fill pipes, so tasks' writes overlap in time
            print(f"line {i} " + "x" * 200)
        print("to stderr", file=sys.stderr)
        sys.stdout.write("progress 1\\rprogress 2\\rprogress 3\\r\\ndone\\r\\nno newline")
    """)
    r = launch("--ps", "1", "--workers", "2", "--", *cmd)
    assert r.returncode == 0, r.stderr
    out, err = by_task(r.stdout), by_task(r.stderr)
    assert sorted(out) == sorted(err) == ["ps:0", "worker:0", "worker:1"]
    for name in out:
        assert out[name][:3000] == [f"line {i} " + "x" * 200 for i in range(3000)], name
        assert out[name][3000:] == ["progress 1", "progress 2", "progress 3", "done",
                                    "no newline"]
        assert err[name] == ["to stderr"]


@pytest.mark.parametrize("chief,leader", [(False, "worker:0"), (True, "chief:0")])
def test_exit_code_is_the_leaders(tmp_path, chief, leader):
    cmd = task_program(tmp_path, f"""\
        time.sleep(0.3)
        sys.exit(7 if NAME == "{leader}" else 0)
    """)
    r = launch("--ps", "1", "--workers", "2", *(["--chief"] if chief else []), "--", *cmd)
    assert r.returncode == 7, r.stderr
    assert f"braid launch: {leader} exited with status 7" in r.stderr

    cmd = task_program(tmp_path, "sys.exit(0)\n")
    r = launch("--ps", "1", "--workers", "2", *(["--chief"] if chief else []), "--", *cmd)
    assert r.returncode == 0, r.stderr


def test_chief_alone_is_a_cluster(tmp_path):
    cmd = task_program(tmp_path, "print(sorted(CONFIG['cluster']))\n")
    r = launch("--workers", "0", "--chief", "--", *cmd)
    assert r.returncode == 0, r.stderr
    assert by_task(r.stdout) == {"chief:0": ["['chief']"]}


def test_tasks_left_running_are_stopped_after_the_grace_period(tmp_path):
    # The ps never ends and has a child of its own; the evaluator never ends either.
    cmd = task_program(tmp_path, """\
        print("pid", os.getpid(), flush=True)
        if TYPE == "worker":
            time.sleep(0.5)
            sys.exit(0)
        child = subprocess.Popen(["sleep", "1000"])
        print("child", child.pid, flush=True)
        time.sleep(1000)
    """)
    start = time.monotonic()
    r = launch("--ps", "1", "--workers", "1", "--evaluator", "--grace_seconds", "1", "--", *cmd,
               timeout=30)
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    assert elapsed < 10, elapsed
    assert ("braid launch: stopped ps:0, evaluator:0 (still running 1 s after worker:0 exited)"
            in launcher_lines(r.stderr)), r.stderr
    lines = by_task(r.stdout)
    pids = list(pids_in(lines).values()) + [int(l.split()[1]) for ls in lines.values()
                                            for l in ls if l.startswith("child ")]
    assert len(pids) == 5, lines
    assert not [p for p in pids if alive(p)]


def test_tasks_that_end_by_themselves_within_the_grace_period_are_not_stopped(tmp_path):
    cmd = task_program(tmp_path, "time.sleep(0.5 if TYPE == 'ps' else 0)\n")
    r = launch("--ps", "1", "--workers", "1", "--grace_seconds", "20", "--", *cmd, timeout=15)
    assert r.returncode == 0, r.stderr
    assert "stopped" not in r.stderr


@pytest.mark.parametrize("how,code,message", [
    ("sys.exit(3)", 3, "worker:1 exited with status 3"),
    ("os.kill(os.getpid(), signal.SIGKILL)", 137, "worker:1 was killed by signal 9 (Killed)"),
])
def test_a_failing_task_stops_the_others(tmp_path, how, code, message):
    cmd = task_program(tmp_path, f"""\
        print("pid", os.getpid(), flush=True)
        if NAME == "worker:1":
            time.sleep(0.5)
            {how}
        time.sleep(1000)
    """)
    start = time.monotonic()
    r = launch("--ps", "1", "--workers", "3", "--", *cmd, timeout=30)
    assert r.returncode == code, r.stderr
    assert time.monotonic() - start < 10
    assert f"braid launch: {message}; stopping the other tasks" in launcher_lines(r.stderr)
    pids = pids_in(by_task(r.stdout))
    assert len(pids) == 4 and not [p for p in pids.values() if alive(p)]


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_to_the_launcher_stops_every_task(tmp_path, sig, code):
    ready = tmp_path / "ready"
    ready.mkdir()
    # The ps ignores SIGTERM: it is killed 5 s later.
    cmd = task_program(tmp_path, f"""\
        if TYPE == "ps":
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        child = subprocess.Popen(["sleep", "1000"])
        print("pid", os.getpid(), flush=True)
        print("child", child.pid, flush=True)
        open(os.path.join("{ready}", NAME), "w").close()
        time.sleep(1000)
    """)
    proc = subprocess.Popen([str(BRAID), "launch", "--ps", "1", "--workers", "2", "--evaluator",
                             "--", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        while len(list(ready.iterdir())) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(ready.iterdir())) == 4
        start = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert 4.5 < time.monotonic() - start < 10
    said = launcher_lines(err)
    assert f"braid launch: got {sig.name}; stopping all tasks" in said, err
    assert "braid launch: killed ps:0 (still running 5 s after SIGTERM)" in said, err
    lines = by_task(out)
    pids = [int(l.split()[1]) for ls in lines.values() for l in ls]
    assert len(pids) == 8, lines
    assert not [p for p in pids if alive(p)]


@pytest.mark.parametrize("args,message", [
    (["--workers", "2"], "no command to run"),
    (["--workers", "0", "--", "true"], "--workers 0 without --chief"),
    (["--ps", "-1", "--", "true"], "--ps must be 0 or more, got -1"),
    (["--workers", "-2", "--chief", "--", "true"], "--workers must be 0 or more, got -2"),
    (["--port_base", "65535", "--workers", "2", "--", "true"],
     "--port_base 65535 is out of range for 2 tasks: use 1..65534"),
    (["--grace_seconds", "-1", "--", "true"], "--grace_seconds must be 0 or more, got -1"),
    (["--ps", "2000", "--", "true"], "at most 1024"),
    (["--host", "no-such-host.invalid", "--", "true"], "--host 'no-such-host.invalid'"),
    (["--host", "", "--", "true"], "--host is empty"),
    (["--restart_on_failure=x", "--", "true"],
     "--restart_on_failure=x: give the restarts per task as a number from 0 to"),
    (["--restart_on_failure=-1", "--", "true"], "--restart_on_failure=-1"),
    (["--restart_on_failure", "5", "true"],
     "'5' as the command: give the count of restarts as --restart_on_failure=5"),
])
def test_bad_flags_are_one_clear_line_and_exit_1(args, message):
    r = launch(*args, timeout=30)
    assert r.returncode == 1, r.stderr
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("braid launch: ") and message in lines[0], lines[0]
    assert r.stdout == ""


def test_a_command_that_cannot_run_exits_127():
    r = launch("--ps", "1", "--workers", "2", "--", "no-such-command-xyz", "--flag", timeout=30)
    assert r.returncode == 127, r.stderr
    assert ("braid launch: cannot run 'no-such-command-xyz': No such file or directory"
            in launcher_lines(r.stderr)), r.stderr


# --restart_on_failure. A task's first run leaves a marker file, so its second
# run knows it is one.
RESTART_PRELUDE = """\
DIR = sys.argv[1]
def marker(name):
    return os.path.join(DIR, name.replace(":", "_"))
def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.01)
print("pid", os.getpid(), flush=True)
"""


def restart_program(tmp_path, body):
    markers = tmp_path / "markers"
    markers.mkdir()
    return [*task_program(tmp_path, RESTART_PRELUDE + textwrap.dedent(body)), str(markers)]


@pytest.mark.parametrize("victim,flag,restarts", [
    ("worker:1", "--restart_on_failure", 3),
    ("ps:0", "--restart_on_failure", 3),
    ("worker:1", "--restart_on_failure=1", 1),
])
def test_a_task_killed_once_is_restarted_and_the_others_keep_running(tmp_path, victim, flag,
                                                                      restarts):
    cmd = restart_program(tmp_path, f"""\
        print("TF_CONFIG", os.environ["TF_CONFIG"], flush=True)
        if NAME == "{victim}":
            if not os.path.exists(marker("first")):
                with open(marker("first"), "w") as f:
                    f.write(str(time.time()))
                os.kill(os.getpid(), signal.SIGKILL)
            print("second run, after", time.time() - float(open(marker("first")).read()),
                  flush=True)
            open(marker("second"), "w").close()
        else:
            wait_for(marker("second"))  # the others run on meanwhile
        print("done", flush=True)
    """)
    r = launch("--ps", "1", "--workers", "2", flag, "--", *cmd, timeout=30)
    assert r.returncode == 0, r.stderr
    said = launcher_lines(r.stderr)
    assert (f"braid launch: {victim} was killed by signal 9 (Killed); restarting it "
            f"(1 of {restarts})") in said, r.stderr
    assert not [l for l in said if "stopp" in l], said
    lines = by_task(r.stdout)
    assert sorted(lines) == ["ps:0", "worker:0", "worker:1"], lines
    pids = {name: [int(l.split()[1]) for l in ls if l.startswith("pid ")]
            for name, ls in lines.items()}
    # The victim ran twice under the same prefix, with the same TF_CONFIG; the others once.
    assert len(pids[victim]) == 2 and pids[victim][0] != pids[victim][1], lines
    assert all(len(p) == 1 for name, p in pids.items() if name != victim), lines
    configs = [l for l in lines[victim] if l.startswith("TF_CONFIG ")]
    assert len(configs) == 2 and configs[0] == configs[1], configs
    pause = float(next(l for l in lines[victim] if l.startswith("second run")).split()[-1])
    assert pause >= 0.45, pause
    assert all(ls[-1] == "done" for ls in lines.values()), lines


def test_a_task_that_always_fails_exhausts_its_restarts(tmp_path):
    cmd = restart_program(tmp_path, """\
        if NAME == "worker:1":
            sys.exit(3)
        time.sleep(1000)
    """)
    start = time.monotonic()
    r = launch("--ps", "1", "--workers", "3", "--restart_on_failure=2", "--", *cmd, timeout=30)
    assert r.returncode == 3, r.stderr
    assert time.monotonic() - start < 10
    said = launcher_lines(r.stderr)
    assert said[1:] == [
        "braid launch: worker:1 exited with status 3; restarting it (1 of 2)",
        "braid launch: worker:1 exited with status 3; restarting it (2 of 2)",
        "braid launch: worker:1 exited with status 3; no restarts left (2 used); "
        "stopping the other tasks",
    ], r.stderr
    lines = by_task(r.stdout)
    assert len(lines["worker:1"]) == 3, lines
    pids = [int(l.split()[1]) for ls in lines.values() for l in ls]
    assert len(pids) == 6 and not [p for p in pids if alive(p)]


@pytest.mark.parametrize("chief,leader", [(False, "worker:0"), (True, "chief:0")])
def test_the_leader_is_not_restarted(tmp_path, chief, leader):
    cmd = restart_program(tmp_path, f"""\
        if NAME == "{leader}":
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(1000)
    """)
    r = launch("--ps", "1", "--workers", "2", *(["--chief"] if chief else []),
               "--restart_on_failure", "--", *cmd, timeout=30)
    assert r.returncode == 137, r.stderr
    assert launcher_lines(r.stderr)[1:] == [
        f"braid launch: {leader} was killed by signal 9 (Killed); the leader is not restarted: "
        "stopping the other tasks"], r.stderr
    lines = by_task(r.stdout)
    assert len(lines[leader]) == 1, lines
    pids = [int(l.split()[1]) for ls in lines.values() for l in ls]
    assert not [p for p in pids if alive(p)]


def test_no_restart_once_the_leader_is_done(tmp_path):
    # worker:1 fails; worker:0 ends during the pause before its restart, as
    # soon as the launcher has reaped worker:1 (its /proc entry is gone).
    cmd = restart_program(tmp_path, """\
        if NAME == "worker:1":
            with open(marker("failing"), "w") as f:
                f.write(str(os.getpid()))
            sys.exit(2)
        if NAME == "worker:0":
            wait_for(marker("failing"))
            while os.path.exists(f"/proc/{open(marker('failing')).read()}"):
                time.sleep(0.01)
    """)
    r = launch("--ps", "1", "--workers", "2", "--restart_on_failure", "--", *cmd, timeout=30)
    assert r.returncode == 0, r.stderr
    assert launcher_lines(r.stderr)[1:] == [
        "braid launch: worker:1 exited with status 2; restarting it (1 of 3)",
        "braid launch: not restarting worker:1: worker:0 is done"], r.stderr
    assert len(by_task(r.stdout)["worker:1"]) == 1
