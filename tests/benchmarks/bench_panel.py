"""The JupyterLab panel with 10,000 runs in the history.

Two homes are seeded directly in their SQLite database (bulk inserts of Project,
Run, Param, Metric and LatestMetric rows, before their daemon starts): one with
10,000 finished runs, the baseline with 25 (one page). Each gets a real daemon and
a real JupyterLab (``ui-tests/jupyter_server_test_config.py``), both up at once.

Measured, round robin over the two:
- in Chromium (``ui-tests/bench/first-paint.mjs``, playwright-core): the time from
  opening the panel to the first painted row of its Runs table, on a fresh page
  each time;
- ``GET /api/runs?per_page=25`` (what the panel asks first): on the daemon
  directly, and through the server extension (``<lab>/mlops/api/runs``).

Needs Node, Debian's Chromium and ``ui-tests/node_modules`` (``cd ui-tests &&
jlpm install``); without them the benchmark reports what is missing.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import (
    BenchResult,
    DaemonProcess,
    Row,
    running_daemon,
    standalone,
    summary,
    temp_dir,
    wait_for,
)
from sqlalchemy import insert

from mlops_daemon.config import HomePaths
from mlops_daemon.store import views
from mlops_daemon.store.models import LatestMetric, Metric, Param, Project, Run
from mlops_daemon.store.repository import Store
from mlops_kernel.schemas import ParamValue, RunSpec

UI_TESTS = Path(__file__).resolve().parents[2] / "ui-tests"
FIRST_PAINT = UI_TESTS / "bench" / "first-paint.mjs"
CHROMIUM = Path(os.environ.get("MLOPS_UI_CHROMIUM", "/usr/bin/chromium"))
PAGE = "/api/runs?per_page=25"
TARGET_RATIO = 2.0
BASELINE_RUNS = 25
METRICS = ("accuracy", "loss", "f1")
STEPS = 5


def missing_tools() -> list[str]:
    """What the browser half needs and this machine lacks."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node")
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if not (UI_TESTS / "node_modules" / "playwright-core").is_dir():
        missing.append("ui-tests/node_modules (cd ui-tests && jlpm install)")
    return missing


def seed(home: Path, project: Path, runs: int) -> float:
    """Write ``runs`` finished runs of ``project`` into the home's database; seconds taken."""
    rng = random.Random(7)
    start = time.perf_counter()
    store = Store(f"sqlite:///{HomePaths(home).database}")  # creates the schema
    base = datetime.now(UTC) - timedelta(days=30)
    run_rows: list[dict[str, Any]] = []
    param_rows: list[dict[str, Any]] = []
    metric_rows: list[dict[str, Any]] = []
    latest_rows: list[dict[str, Any]] = []
    try:
        with store.session(write=True) as s:
            folder = Project(path=str(project), name=project.name, created_at=base)
            s.add(folder)
            s.flush()
            for i in range(runs):
                run_id = f"p{i:011d}"
                params: dict[str, ParamValue] = {
                    "lr": round(rng.uniform(1e-4, 0.1), 5),
                    "depth": i % 12,
                    "opt": "adam",
                }
                spec = RunSpec(project=str(project), entry_point="pkg.train:main", params=params)
                began = base + timedelta(seconds=i * 60)
                failed = i % 10 == 3
                run_rows.append(
                    {
                        "id": run_id,
                        "project_id": folder.id,
                        "entry_point": spec.entry_point,
                        "executor": "local",
                        "status": "failed" if failed else "succeeded",
                        "spec_json": spec.model_dump_json(),
                        "run_dir": str(home / "runs" / run_id),
                        "created_at": began,
                        "started_at": began,
                        "ended_at": began + timedelta(seconds=42),
                        "duration_s": 42.0,
                        "exit_code": 1 if failed else 0,
                        "cancel_requested": False,
                        "metrics_offset": 0,
                        "tags_json": "{}",
                    }
                )
                for key, value in params.items():
                    text, number = views.param_columns(value)
                    param_rows.append(
                        {"run_id": run_id, "key": key, "value_json": text, "value_num": number}
                    )
                t = int(began.timestamp() * 1000)
                for key in METRICS:
                    values = [rng.random() for _ in range(STEPS)]
                    metric_rows.extend(
                        {
                            "run_id": run_id,
                            "key": key,
                            "step": step,
                            "seq": step,
                            "value": value,
                            "time_ms": t + step,
                        }
                        for step, value in enumerate(values)
                    )
                    latest_rows.append(
                        {
                            "run_id": run_id,
                            "key": key,
                            "step": STEPS - 1,
                            "value": values[-1],
                            "time_ms": t + STEPS - 1,
                        }
                    )
            tables: list[tuple[Any, list[dict[str, Any]]]] = [
                (Run, run_rows),
                (Param, param_rows),
                (Metric, metric_rows),
                (LatestMetric, latest_rows),
            ]
            for model, rows in tables:
                s.execute(insert(model.__table__), rows)
    finally:
        store.close()
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
        return body


def lab_ready(url: str) -> bool:
    try:
        status = json.loads(get(f"{url}/mlops/status"))
    except (OSError, ValueError):
        return False
    return bool(status.get("state") == "ok")


@contextlib.contextmanager
def running_lab(root: Path, home: Path, log: Path) -> Iterator[str]:
    """A JupyterLab over ``root`` whose panel talks to ``home``'s daemon; yields its URL."""
    port = free_port()
    env = dict(os.environ, MLOPS_UI_ROOT=str(root), MLOPS_HOME=str(home))
    env["MLOPS_UI_ALLOW_START"] = "0"  # the benchmark's daemon, never one of the lab's
    command = [sys.executable, "-m", "jupyterlab", "--config", "jupyter_server_test_config.py"]
    command += ["--port", str(port), "--no-browser"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=UI_TESTS, env=env, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: proc.poll() is not None or lab_ready(url), 120, 0.2, "JupyterLab")
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited ({proc.returncode}); see {log}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def first_paint(targets: dict[str, str], repeat: int) -> dict[str, list[float]]:
    command = ["node", str(FIRST_PAINT), "--repeat", str(repeat), "--chromium", str(CHROMIUM)]
    for name, url in targets.items():
        command += ["--target", f"{name}={url}"]
    done = subprocess.run(command, cwd=UI_TESTS, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"first-paint.mjs failed:\n{done.stderr[-4000:]}")
    samples: dict[str, list[float]] = json.loads(done.stdout)
    return samples


def time_requests(
    daemons: dict[str, DaemonProcess], labs: dict[str, str], reps: int, warmup: int
) -> dict[str, list[float]]:
    """ms per ``GET PAGE`` on each daemon and through each lab, round robin."""
    calls: dict[str, Callable[[], object]] = {}
    for name, daemon in daemons.items():
        calls[f"daemon, {name}"] = functools.partial(daemon.api.request, "GET", PAGE)
        calls[f"through JupyterLab, {name}"] = functools.partial(get, f"{labs[name]}/mlops{PAGE}")
    samples: dict[str, list[float]] = {label: [] for label in calls}
    for rep in range(warmup + reps):
        for label, call in calls.items():
            start = time.perf_counter()
            call()
            if rep >= warmup:
                samples[label].append((time.perf_counter() - start) * 1e3)
    return samples


def run(quick: bool = False) -> BenchResult:
    big, paints, reps, warmup = (1_000, 2, 20, 3) if quick else (10_000, 15, 100, 10)
    result = BenchResult("panel")
    missing = missing_tools()
    if missing:
        result.notes.append("skipped: the browser measurement needs " + ", ".join(missing))
        return result
    sizes = {f"{big:,} runs": big, f"{BASELINE_RUNS} runs": BASELINE_RUNS}
    setup: dict[str, float] = {}
    with temp_dir("panel") as tmp, contextlib.ExitStack() as stack:
        daemons: dict[str, DaemonProcess] = {}
        labs: dict[str, str] = {}
        for index, (name, count) in enumerate(sizes.items()):
            root, home = tmp / f"root-{index}", tmp / f"home-{index}"
            root.mkdir()
            setup[name] = seed(home, root, count)
            daemons[name] = stack.enter_context(running_daemon(home))
            labs[name] = stack.enter_context(running_lab(root, home, tmp / f"lab-{index}.log"))
            total = daemons[name].api.request("GET", PAGE)["total"]
            if total != count:
                raise RuntimeError(f"{name}: the daemon lists {total} runs")
        requests = time_requests(daemons, labs, reps, warmup)
        paint = first_paint(labs, paints)

    big_name, base_name = list(sizes)
    paint_stats = {name: summary(values) for name, values in paint.items()}
    request_stats = {label: summary(values) for label, values in requests.items()}
    slow, fast = paint_stats[big_name]["median"], paint_stats[base_name]["median"]
    ratio = slow / fast
    result.rows.append(
        Row(f"first Runs row painted after opening the panel, {big_name}, median", slow, "ms",
            f"{base_name}", fast, ratio, f"< {TARGET_RATIO:.0f}x", ratio < TARGET_RATIO)
    )  # fmt: skip
    for where in ("daemon", "through JupyterLab"):
        value = request_stats[f"{where}, {big_name}"]["median"]
        base = request_stats[f"{where}, {base_name}"]["median"]
        result.rows.append(
            Row(f"GET {PAGE} ({where}), {big_name}, median", value, "ms", base_name, base,
                value / base)
        )  # fmt: skip
    result.details = {
        "runs": sizes,
        "setup_s": setup,
        "first_paint_ms": paint,
        "first_paint": paint_stats,
        "requests": request_stats,
    }
    result.notes.append(
        "runs seeded by bulk insert in "
        + ", ".join(f"{name} {s:.1f} s" for name, s in setup.items())
        + f"; first paint: {paints} fresh page loads each after a warm-up, medians "
        + ", ".join(
            f"{n} {s['median']:.0f} ms (p95 {s['p95']:.0f})" for n, s in paint_stats.items()
        )
        + f"; {reps} requests each after {warmup} warm-up, p95 (ms): "
        + ", ".join(f"{label} {s['p95']:.1f}" for label, s in request_stats.items())
    )
    return result


if __name__ == "__main__":
    standalone(run)
