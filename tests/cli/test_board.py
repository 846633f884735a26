"""End-to-end tests of `braid board`: a real server on the logdir of a real
`braid train` run, its JSON API, damaged files and new runs while it serves,
and the page itself in headless Chromium."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid"))


def train(logdir):
    r = subprocess.run([str(BRAID), "train", "--model", "mlp", "--epochs", "1", "--logdir",
                        str(logdir), "--summary_steps", "20"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "braid board --logdir" in r.stdout + r.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A logdir written by `braid train` (runs "." and "eval"); copy it to change it."""
    logdir = tmp_path_factory.mktemp("trained") / "logs"
    train(logdir)
    return logdir


class Board:
    """`braid board` on a free port, stopped with SIGINT on exit."""

    def __init__(self, logdir, *extra):
        self.proc = subprocess.Popen(
            [str(BRAID), "board", "--logdir", str(logdir), "--port", "0", "--reload_interval",
             "0.2", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"at (http://[\d.]+:(\d+)/)", line)
        assert m, line + self.proc.stderr.read()
        self.url, self.port = m.group(1), int(m.group(2))
        self.wait_for(lambda: self.json("/data/status")["loaded"])

    def get(self, path):
        """(status, content type, body bytes); errors are answers too."""
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=30) as r:
                return r.status, r.headers["Content-Type"], r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers["Content-Type"], e.read()

    def json(self, path, status=200):
        code, ctype, body = self.get(path)
        assert code == status, (path, code, body[:300])
        assert ctype.startswith("application/json"), (path, ctype)
        return json.loads(body)

    def wait_for(self, condition, timeout=30):
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, self.proc.stderr.read()
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.1)

    def stop(self, sig=signal.SIGINT):
        self.proc.send_signal(sig)
        _, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_json_api_on_a_trained_logdir(trained):
    with Board(trained) as b:
        assert b.json("/data/runs") == [".", "eval"]
        tags = b.json("/data/plugin/scalars/tags")
        assert {"loss", "accuracy"} <= set(tags["."])
        assert {"loss", "accuracy"} <= set(tags["eval"])

        loss = b.json("/data/plugin/scalars/scalars?run=.&tag=loss")
        assert len(loss) > 10
        steps = [p[1] for p in loss]
        assert steps == sorted(steps) and steps[-1] > steps[0]
        assert all(len(p) == 3 and p[0] > 1e9 and p[2] > 0 for p in loss)
        assert loss[-1][2] < loss[0][2]  # it learned
        acc = b.json("/data/plugin/scalars/scalars?run=eval&tag=accuracy")
        assert 0.7 < acc[-1][2] <= 1.0

        both = b.json("/data/plugin/scalars/scalars_multirun?tag=accuracy")
        assert set(both) == {".", "eval"}

        code, ctype, csv = b.get("/data/plugin/scalars/scalars?run=.&tag=loss&format=csv")
        assert code == 200 and ctype.startswith("text/csv")
        lines = csv.decode().splitlines()
        assert lines[0] == "Wall time,Step,Value" and len(lines) == len(loss) + 1

        hist_tags = b.json("/data/plugin/histograms/tags")["."]
        assert hist_tags, "no weight histograms"
        tag = sorted(hist_tags)[0]
        hist = b.json(f"/data/plugin/histograms/histograms?run=.&tag={tag}")
        wall, step, buckets = hist[-1]
        assert buckets and all(left <= right and count >= 0 for left, right, count in buckets)

        graph = b.json("/data/plugin/graphs/graph?run=.")
        names = {n["name"] for n in graph["nodes"]}
        assert any(name.startswith("dense") for name in names)
        assert all({"name", "op", "inputs", "device"} <= set(n) for n in graph["nodes"])

        for path in ["/data/plugin/scalars/scalars?run=nope&tag=loss",
                     "/data/plugin/scalars/scalars?run=.&tag=nope",
                     "/data/plugin/histograms/histograms?run=eval&tag=nope",
                     "/data/plugin/images/images?run=.&tag=nope",
                     "/data/plugin/graphs/graph?run=nope", "/data/nothing"]:
            assert "error" in b.json(path, status=404), path
        for path in ["/data/plugin/scalars/scalars?run=.",
                     "/data/plugin/scalars/scalars?run=.&tag=loss&format=xml"]:
            assert "error" in b.json(path, status=400), path

        code, ctype, page = b.get("/")
        assert code == 200 and b'id="scalar-charts"' in page
        returncode, err = b.stop(signal.SIGTERM)
        assert returncode == 0, err


def middle_of_a_record(data):
    """A byte offset inside the record that spans the middle of a TFRecord file."""
    start = end = 0
    while end <= len(data) // 2:
        start, end = end, end + 16 + int.from_bytes(data[end:end + 8], "little")
    return (start + end) // 2


def test_damaged_files_are_reported_and_new_runs_discovered_while_serving(trained, tmp_path):
    logdir = tmp_path / "logs"
    shutil.copytree(trained, logdir)
    event_file = next(logdir.glob("events.out.tfevents.*"))
    with Board(logdir) as b:
        loss_before = b.json("/data/plugin/scalars/scalars?run=.&tag=loss")
        # Garbage in a run, and a copy of a real file cut in the middle.
        (logdir / "eval" / "events.out.tfevents.9999999999.corrupt").write_bytes(
            b"\x00\x01garbage that is no event file at all" * 10)
        cut = logdir / "cut"
        cut.mkdir()
        data = event_file.read_bytes()
        (cut / event_file.name).write_bytes(data[:middle_of_a_record(data)])
        # A new run from a real training run.
        train(logdir / "second")

        b.wait_for(lambda: {"cut", "second", "second/eval"} <= set(b.json("/data/runs")))
        b.wait_for(lambda: len(b.json("/data/problems")) >= 2, timeout=15)
        problems = b.json("/data/problems")
        corrupt = [p for p in problems if p["file"].endswith(".corrupt")]
        assert corrupt and corrupt[0]["run"] == "eval" and corrupt[0]["offset"] == 0
        assert "CRC" in corrupt[0]["message"]
        truncated = [p for p in problems if p["run"] == "cut"]
        assert truncated and "truncated" in truncated[0]["message"]

        # What was there is still served; the cut file was read up to the cut.
        assert b.json("/data/plugin/scalars/scalars?run=.&tag=loss") == loss_before
        cut_loss = b.json("/data/plugin/scalars/scalars?run=cut&tag=loss")
        assert 0 < len(cut_loss) < len(loss_before)
        assert b.json("/data/plugin/scalars/scalars?run=second&tag=loss")
        assert b.json("/data/status")["problems"] == len(problems)
        returncode, err = b.stop()
        assert returncode == 0
        assert ".corrupt" in err  # reported on stderr too


def test_help_missing_logdir_and_taken_port(trained, tmp_path):
    help_text = subprocess.run([str(BRAID), "board", "--help"], capture_output=True,
                               text=True).stdout
    for flag in ["--logdir", "--port", "--host", "--reload_interval", "--samples_per_plugin"]:
        assert flag in help_text, flag
    r = subprocess.run([str(BRAID), "board", "--logdir", str(tmp_path / "missing")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "does not exist" in lines[0] and "missing" in lines[0], r.stderr
    with Board(trained) as b:
        r = subprocess.run([str(BRAID), "board", "--logdir", str(trained), "--port", str(b.port)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert "already in use" in r.stderr and str(b.port) in r.stderr, r.stderr


def chromium():
    path = shutil.which("chromium")
    if not path:
        pytest.fail("chromium is not installed; scripts/setup.sh installs it (Debian package "
                    "`chromium`), which the browser test of braid board needs")
    return path


def browse(url, profile, *args):
    return subprocess.run(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--virtual-time-budget=10000", "--window-size=1400,1000",
         *args, url], capture_output=True, text=True, timeout=120)


def test_browser_draws_the_loss_and_accuracy_charts(trained, tmp_path):
    with Board(trained) as b:
        dom = browse(b.url, tmp_path / "profile", "--dump-dom").stdout
        charts = {m.group(1): m.group(0) for m in
                  re.finditer(r'<div class="scalar-chart" data-tag="([^"]+)"[^>]*>', dom)}
        for tag in ["loss", "accuracy"]:
            assert tag in charts, (tag, sorted(charts), dom[:2000])
            attrs = charts[tag]
            assert 'data-drawn="true"' in attrs, attrs
            assert int(re.search(r'data-points="(\d+)"', attrs).group(1)) > 10, attrs
            assert int(re.search(r'data-runs="(\d+)"', attrs).group(1)) == 2, attrs  # ., eval
        # Each chart draws on a canvas and has a legend entry per run.
        assert dom.count('class="chart-canvas"') >= len(charts)
        assert 'class="run-toggle"' in dom

        shot = tmp_path / "board.png"
        browse(b.url, tmp_path / "profile", f"--screenshot={shot}")
        assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert shot.stat().st_size > 20000, "the screenshot looks empty"
        out = BUILD / "test-output"
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, out / "board.png")

        hist = browse(b.url + "#histograms", tmp_path / "profile", "--dump-dom").stdout
        assert re.search(r'class="histogram-chart"[^>]*data-drawn="true"', hist), hist[:2000]
        graph = browse(b.url + "#graph", tmp_path / "profile", "--dump-dom").stdout
        assert graph.count('class="graph-node"') + graph.count('class="graph-scope"') > 3
