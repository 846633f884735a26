#!/usr/bin/env python3
"""How fast `braid board` serves a large logdir (a benchmark, not a test).

Writes RUNS x TAGS x POINTS scalars (default 100 x 10 x 100,000: 100 million
events, ~4.7 GB) with build/bench/board_logdir_gen, starts `braid board` on
them and measures:
  - the load: time until every file was read, and the board's memory (RSS);
  - the scalars page's data requests, as the page makes them: /data/runs,
    /data/plugin/scalars/tags, then one scalars_multirun request per tag over
    six keep-alive connections (a browser's limit per host); best and median
    of a few rounds (target: < 2 s in all);
  - the same data as one request per (run, tag) series;
  - with chromium installed: the page itself in headless Chromium, from
    navigation until every scalar chart is drawn (the page records it).

Usage: bench/board_load.py [--runs N] [--tags N] [--points N] [--logdir DIR]
A --logdir is kept for later runs (regenerated only when its shape differs);
without one a temporary directory is used and removed.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("BRAID_BUILD_DIR", ROOT / "build"))
BRAID = Path(os.environ.get("BRAID_BIN", BUILD / "bin" / "braid"))
GEN = BUILD / "bench" / "board_logdir_gen"
CONNECTIONS = 6


def rss_mib(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    to_mib = lambda v: int(v.split()[0]) / 1024
    return to_mib(fields["VmRSS"]), to_mib(fields["VmHWM"])


def generate(logdir, runs, tags, points):
    marker = logdir / "board_load.json"
    shape = {"runs": runs, "tags": tags, "points": points}
    if marker.exists() and json.loads(marker.read_text()) == shape:
        print(f"reusing {logdir} ({runs} x {tags} x {points})")
        return
    if not GEN.exists():
        sys.exit(f"{GEN} is missing: build it with `ninja -C {BUILD} board_logdir_gen`")
    shutil.rmtree(logdir, ignore_errors=True)
    t = time.monotonic()
    subprocess.run([str(GEN), str(logdir), str(runs), str(tags), str(points)], check=True)
    size = sum(f.stat().st_size for f in logdir.rglob("*tfevents*"))
    print(f"generated {runs * tags * points:,} events ({size / 2**30:.2f} GiB) "
          f"in {time.monotonic() - t:.1f} s")
    marker.write_text(json.dumps(shape))


def start_board(logdir):
    proc = subprocess.Popen([str(BRAID), "board", "--logdir", str(logdir), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.search(r"http://([\d.]+):(\d+)/", line)
    if not m:
        proc.kill()
        sys.exit(f"braid board did not start: {line}{proc.stderr.read()}")
    return proc, m.group(1), int(m.group(2))


class Client:
    """One keep-alive HTTP connection."""

    def __init__(self, host, port):
        self.conn = http.client.HTTPConnection(host, port, timeout=300)

    def get(self, path):
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {body[:200]!r}")
        return body


def scalars_page_round(clients):
    """The page's requests; returns (seconds, bytes, parse seconds)."""
    t = time.monotonic()
    runs = clients[0].get("/data/runs")
    tags_body = clients[0].get("/data/plugin/scalars/tags")
    tags = sorted({tag for per_run in json.loads(tags_body).values() for tag in per_run})
    paths = ["/data/plugin/scalars/scalars_multirun?" + urllib.parse.urlencode({"tag": tag})
             for tag in tags]
    bodies = fetch_all(clients, paths)
    elapsed = time.monotonic() - t
    t = time.monotonic()
    points = sum(len(series) for body in bodies for series in json.loads(body).values())
    parse = time.monotonic() - t
    size = len(runs) + len(tags_body) + sum(len(b) for b in bodies)
    return elapsed, size, parse, len(tags), points


def fetch_all(clients, paths):
    """GETs the paths over the clients' connections, each busy with one at a time."""
    queue = list(enumerate(paths))
    bodies = [None] * len(paths)

    def work(client):
        while queue:
            try:
                i, path = queue.pop()
            except IndexError:
                return
            bodies[i] = client.get(path)

    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        for f in [pool.submit(work, c) for c in clients]:
            f.result()
    return bodies


def per_series_round(clients):
    t = time.monotonic()
    tags = json.loads(clients[0].get("/data/plugin/scalars/tags"))
    paths = ["/data/plugin/scalars/scalars?" + urllib.parse.urlencode({"run": run, "tag": tag})
             for run, per_run in tags.items() for tag in per_run]
    bodies = fetch_all(clients, paths)
    return time.monotonic() - t, len(paths), sum(len(b) for b in bodies)


def browser_load_ms(host, port):
    """Milliseconds from navigation until the page drew its scalar charts (the
    page logs it to the console, which headless Chromium prints on stderr)."""
    chromium = shutil.which("chromium")
    if not chromium:
        return None
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
             "--v=0", f"--user-data-dir={profile}", "--window-size=1400,1000",
             f"http://{host}:{port}/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        found = None
        deadline = time.monotonic() + 60
        try:
            for line in proc.stderr:
                m = re.search(r"braid board: (\d+) scalar charts drawn (\d+) ms", line)
                if m:
                    found = (int(m.group(2)), int(m.group(1)))
                    break
                if time.monotonic() > deadline:
                    break
        finally:
            os.killpg(proc.pid, 15)  # chromium and its helpers: the group started here
            proc.wait(timeout=30)
    return found or (None, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--tags", type=int, default=10)
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--logdir", type=Path)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    tmp = None
    logdir = args.logdir
    if logdir is None:
        tmp = tempfile.mkdtemp(prefix="board_load.")
        logdir = Path(tmp)
    try:
        generate(logdir, args.runs, args.tags, args.points)
        os.sync()
        proc, host, port = start_board(logdir)
        try:
            run(proc, host, port, args)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def run(proc, host, port, args):
    client = Client(host, port)
    t = time.monotonic()
    while True:
        status = json.loads(client.get("/data/status"))
        if status["loaded"]:
            break
        time.sleep(0.1)
    load = time.monotonic() - t
    rss, peak = rss_mib(proc.pid)
    print(f"load: {status['events']:,} events, {status['bytes_read'] / 2**30:.2f} GiB "
          f"in {load:.1f} s ({status['events'] / load / 1e6:.1f} M events/s); "
          f"board RSS {rss:.0f} MiB (peak {peak:.0f} MiB), {os.cpu_count()} cores")

    clients = [Client(host, port) for _ in range(CONNECTIONS)]
    rounds = [scalars_page_round(clients) for _ in range(args.rounds)]
    times = [r[0] for r in rounds]
    _, size, parse, ntags, points = rounds[-1]
    print(f"scalars page data (runs + tags + {ntags} scalars_multirun over {CONNECTIONS} "
          f"connections): best {min(times):.3f} s, median {statistics.median(times):.3f} s "
          f"(target < 2 s); {size / 2**20:.1f} MiB, {points:,} points; "
          f"client JSON parse {parse:.3f} s")
    series = [per_series_round(clients) for _ in range(max(1, args.rounds // 2))]
    best = min(series)
    print(f"same data as {best[1]} per-series requests: best {best[0]:.3f} s, "
          f"{best[2] / 2**20:.1f} MiB")
    rss, peak = rss_mib(proc.pid)
    print(f"board RSS after the requests: {rss:.0f} MiB (peak {peak:.0f} MiB)")
    browser = browser_load_ms(host, port)
    if browser is None:
        print("browser: chromium not installed, skipped")
    else:
        ms, charts = browser
        print(f"browser (headless Chromium, 1400x1000): {charts} scalar charts drawn "
              f"{'%d ms' % ms if ms is not None else 'not within 60 s'} after navigation")


if __name__ == "__main__":
    main()
