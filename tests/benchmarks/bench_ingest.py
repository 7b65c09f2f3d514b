"""Metric ingestion: 100,000 ``log_metric`` calls in one run, until all are queryable.

The daemon side is timed from the POST until ``GET /api/runs/{id}/metrics``
returns every point (the run's detail, which carries the latest value of each
key, is polled first: it is cheap, and its last key's final value is committed
in the same transaction as the last points). The baseline, in the same run, is
MLflow's ``mlflow.log_metric`` against a local SQLite tracking store, timed
until ``MlflowClient.get_metric_history`` returns every point. MLflow takes
milliseconds per call, so fewer calls are timed and the rate is extrapolated.

Targets: >= 100,000 points/s, and >= 50x MLflow's rate.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import BenchResult, Row, running_daemon, standalone, temp_dir, wait_for

from mlops_daemon.ingest import Ingester
from mlops_daemon.store.repository import Store
from mlops_kernel import runfiles
from mlops_kernel.schemas import RunSpec

TARGET_RATE = 100_000.0
TARGET_VS_MLFLOW = 50.0
KEYS = 10

TRAIN = """\
import json, time
from mlops_kernel import flush, get_params, log_metric

params = get_params()
keys = [f"m{i}" for i in range(int(params["keys"]))]
start = time.perf_counter()
for step in range(int(params["steps"])):
    for key in keys:
        log_metric(key, step * 0.001)
flush()
print(json.dumps({"seconds": time.perf_counter() - start, "calls": len(keys) * (step + 1)}))
"""

MLFLOW = """\
import json, sys, time
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric

calls, keys, where = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mlflow.set_tracking_uri(f"sqlite:///{where}/mlflow.db")
mlflow.set_experiment("bench")  # creates the database: setup, not timed
client = MlflowClient()
start = time.perf_counter()
with mlflow.start_run() as run:
    for i in range(calls):
        mlflow.log_metric(f"m{i % keys}", (i // keys) * 0.001, step=i // keys)
seen = sum(len(client.get_metric_history(run.info.run_id, f"m{k}")) for k in range(keys))
log_metric_s = time.perf_counter() - start
start = time.perf_counter()
batch_run = client.create_run(mlflow.get_experiment_by_name("bench").experiment_id).info.run_id
now = int(time.time() * 1000)
points = [Metric(f"m{i % keys}", (i // keys) * 0.001, now, i // keys) for i in range(calls * 5)]
for first in range(0, len(points), 1000):
    client.log_batch(batch_run, metrics=points[first : first + 1000])
batch_seen = sum(len(client.get_metric_history(batch_run, f"m{k}")) for k in range(keys))
log_batch_s = time.perf_counter() - start
out = {"calls": calls, "seen": seen, "seconds": log_metric_s}
out.update(batch_points=len(points), batch_seen=batch_seen, batch_seconds=log_batch_s)
print(json.dumps(out))
"""


def through_daemon(tmp: Path, steps: int) -> dict[str, float]:
    total = steps * KEYS
    project = tmp / "project"
    project.mkdir()
    (project / "train.py").write_text(TRAIN)
    final = (steps - 1) * 0.001
    with running_daemon(tmp / "home") as daemon:
        start = time.perf_counter()
        run_id = daemon.submit(
            project, "train.py", params={"steps": steps, "keys": KEYS}, force=True
        )["id"]
        last = f"m{KEYS - 1}"

        def committed() -> bool:
            run = daemon.api.request("GET", f"/api/runs/{run_id}")
            if run["status"] in {"failed", "cancelled", "lost"}:
                raise RuntimeError(f"the ingest run ended {run['status']}: {run['status_reason']}")
            return bool(run["metrics"].get(last) == final)

        wait_for(committed, timeout=600, interval=0.025, what="all points ingested")
        seen = time.perf_counter() - start
        series = daemon.api.request("GET", f"/api/runs/{run_id}/metrics")["series"]
        queryable = time.perf_counter() - start
        count = sum(len(s["steps"]) for s in series)
        if count != total:
            raise RuntimeError(f"GET /metrics returned {count} points, expected {total}")
        run = daemon.wait(run_id, timeout=120)
        output = (Path(run["run_dir"]) / runfiles.LOG_FILE).read_text().strip().splitlines()
        in_run = json.loads(output[-1])
    return {
        "points": total,
        "committed_s": seen,
        "queryable_s": queryable,
        "full_fetch_s": queryable - seen,
        "in_run_logging_s": in_run["seconds"],
    }


def client_and_store_costs(tmp: Path, steps: int) -> dict[str, float]:
    """log_metric in a plain process, then parsing and storing its file in-process."""
    run_dir = tmp / "bare-run"
    run_dir.mkdir()
    runfiles.write_json_atomic(run_dir / runfiles.PARAMS_FILE, {"steps": steps, "keys": KEYS})
    script = tmp / "train_bare.py"
    script.write_text(TRAIN)
    env = dict(os.environ, **{runfiles.RUN_DIR_ENV: str(run_dir)})
    env.pop(runfiles.PARAMS_FILE_ENV, None)
    out = subprocess.run(
        [sys.executable, str(script)], env=env, check=True, capture_output=True, text=True
    )
    client = json.loads(out.stdout.strip().splitlines()[-1])
    data = (run_dir / runfiles.METRICS_FILE).read_bytes()
    start = time.perf_counter()
    points = [runfiles.decode_metric(line) for line in data.splitlines()]
    parse_s = time.perf_counter() - start
    store = Store(f"sqlite:///{tmp / 'ingest.db'}")
    try:
        spec = RunSpec(project=str(tmp), entry_point="train.py")
        store.create_run("bench", spec, "local", run_dir)
        start = time.perf_counter()
        Ingester(store, "bench", run_dir, 0).ingest()
        ingest_s = time.perf_counter() - start
        start = time.perf_counter()
        fetched = sum(len(s.steps) for s in store.metrics("bench").series)
        read_s = time.perf_counter() - start
    finally:
        store.close()
    assert fetched == len(points) == client["calls"]
    return {
        "client_us_per_call": client["seconds"] / client["calls"] * 1e6,
        "parse_us_per_point": parse_s / len(points) * 1e6,
        "ingest_points_per_s": len(points) / ingest_s,
        "store_read_s": read_s,
    }


def mlflow_baseline(tmp: Path, calls: int) -> dict[str, Any] | None:
    if importlib.util.find_spec("mlflow") is None:
        return None
    where = tmp / "mlflow"
    where.mkdir()
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    out = subprocess.run(
        [sys.executable, "-c", MLFLOW, str(calls), str(KEYS), str(where)],
        env=env,
        cwd=where,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the MLflow baseline failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["seen"] == calls and result["batch_seen"] == result["batch_points"]
    return result


def run(quick: bool = False) -> BenchResult:
    steps, mlflow_calls = (1_000, 200) if quick else (10_000, 2_000)
    result = BenchResult("ingest")
    with temp_dir("ingest") as tmp:
        daemon = through_daemon(tmp, steps)
        costs = client_and_store_costs(tmp, steps)
        mlflow = mlflow_baseline(tmp, mlflow_calls)
    points = daemon["points"]
    rate = points / daemon["queryable_s"]
    result.rows.append(
        Row(
            f"{points:,} points: submit -> all queryable",
            rate,
            "points/s",
            target=f">= {TARGET_RATE:,.0f} points/s",
            passed=rate >= TARGET_RATE,
        )
    )
    result.rows.append(
        Row("same, excluding the one full GET /metrics", points / daemon["committed_s"], "points/s")
    )
    if mlflow is None:
        result.notes.append(
            'MLflow is not installed, so its baseline was skipped: pip install "mlflow>=2.16" '
            '(or pip install ".[bench]")'
        )
    else:
        ml_rate = mlflow["calls"] / mlflow["seconds"]
        result.rows.append(
            Row(
                "vs MLflow log_metric (SQLite)",
                rate,
                "points/s",
                "MLflow",
                ml_rate,
                rate / ml_rate,
                f">= {TARGET_VS_MLFLOW:.0f}x",
                rate / ml_rate >= TARGET_VS_MLFLOW,
            )
        )
        batch_rate = mlflow["batch_points"] / mlflow["batch_seconds"]
        result.rows.append(
            Row(
                "vs MLflow log_batch, 1000/batch (info)",
                rate,
                "points/s",
                "MLflow",
                batch_rate,
                rate / batch_rate,
            )
        )
        result.notes.append(
            f"MLflow baseline EXTRAPOLATED: {mlflow['calls']:,} mlflow.log_metric calls timed "
            f"({mlflow['seconds']:.1f} s, until get_metric_history returned them all), "
            f"i.e. {ml_rate:,.0f} points/s -> {points / ml_rate:,.0f} s for {points:,}; "
            f"log_batch: {mlflow['batch_points']:,} points in {mlflow['batch_seconds']:.2f} s"
        )
    result.rows.append(
        Row("tracking client: log_metric in-process", costs["client_us_per_call"], "us/call")
    )
    result.details = {"daemon": daemon, "components": costs, "mlflow": mlflow}
    result.notes.append(
        f"ingest breakdown: the run's own logging loop {daemon['in_run_logging_s']:.2f} s; "
        f"commit of the last point seen after {daemon['committed_s']:.2f} s; "
        f"the full GET /metrics of {points:,} points took {daemon['full_fetch_s']:.2f} s. "
        f"In-process components: parse {costs['parse_us_per_point']:.1f} us/point, "
        f"Ingester.ingest into a fresh SQLite store {costs['ingest_points_per_s']:,.0f} points/s, "
        f"Store.metrics read-back {costs['store_read_s']:.2f} s"
    )
    return result


if __name__ == "__main__":
    standalone(run)
