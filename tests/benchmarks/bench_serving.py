"""What serving a model through the daemon costs, against predicting in process.

1. ``POST /serve/iris/production`` with one row per request, from a sequential
   client on one kept-alive connection (``http.client``), against the native
   scikit-learn pipeline's ``predict`` on the same single-row inputs in this
   process: p50/p99 latency and requests per second, reported as ratios. The
   served answers are checked to equal the native predictions.
2. Cut-out: the time from ``POST /api/models/iris/cutout`` returning to the first
   503 answer of ``/serve`` (target: the very next request, well under a second),
   then restored.

The model is a StandardScaler + LogisticRegression pipeline on iris, logged with
``log_model`` and registered through the store.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

import numpy as np
from benchlib import BenchResult, DaemonProcess, Row, standalone, summary, temp_dir
from support.daemon import running_daemon
from support.serving_models import daemon_store, iris, register

CUTOUT_TARGET_MS = 1000.0


class ServeClient:
    """One kept-alive connection, requests one after another."""

    def __init__(self, daemon: DaemonProcess) -> None:
        self.conn = http.client.HTTPConnection(daemon.api.host, daemon.api.port, timeout=60)
        self.headers = {
            "Authorization": f"Bearer {daemon.api.token}",
            "Content-Type": "application/json",
        }

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        self.conn.request("POST", path, body=json.dumps(body), headers=self.headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read())

    def close(self) -> None:
        self.conn.close()


def serve_latencies(client: ServeClient, rows: list[list[float]]) -> tuple[list[float], list[Any]]:
    times, outputs = [], []
    for row in rows:
        start = time.perf_counter()
        status, answer = client.post("/serve/iris/production", {"inputs": [row]})
        times.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"/serve answered {status}: {answer}")
        outputs.extend(answer["outputs"])
    return times, outputs


def native_latencies(model: Any, rows: list[list[float]]) -> tuple[list[float], list[Any]]:
    times, outputs = [], []
    for row in rows:
        start = time.perf_counter()
        value = model.predict(np.asarray([row]))
        times.append(time.perf_counter() - start)
        outputs.extend(value.tolist())
    return times, outputs


def cutout_to_503(client: ServeClient, rows: list[list[float]]) -> tuple[float, int]:
    """ms from the cut-out's answer to the first 503, and how many requests it took."""
    body = {"alias": "production", "reason": "benchmark"}
    status, answer = client.post("/api/models/iris/cutout", body)
    if status != 200:
        raise RuntimeError(f"cutout answered {status}: {answer}")
    start = time.perf_counter()
    attempts = 0
    while attempts < 1000:
        attempts += 1
        status, _ = client.post("/serve/iris/production", {"inputs": [rows[0]]})
        if status == 503:
            break
    else:
        raise RuntimeError("no 503 after 1000 requests following the cut-out")
    elapsed = (time.perf_counter() - start) * 1000
    status, answer = client.post("/api/models/iris/restore", {"alias": "production"})
    if status != 200:
        raise RuntimeError(f"restore answered {status}: {answer}")
    return elapsed, attempts


def run(quick: bool = False) -> BenchResult:
    n = 300 if quick else 3000
    result = BenchResult("serving")
    with temp_dir("serving") as tmp:
        logged = iris(tmp / "run")
        rows = [logged.rows[i % len(logged.rows)] for i in range(n)]
        with running_daemon(tmp / "home") as daemon:
            store = daemon_store(daemon.home)
            register(store, logged, "bench-run")
            store.close()
            client = ServeClient(daemon)
            try:
                serve_latencies(client, rows[:50])  # warm: session loaded, caches filled
                native_latencies(logged.native, rows[:50])
                served, served_out = serve_latencies(client, rows)
                native, native_out = native_latencies(logged.native, rows)
                cut_ms, attempts = cutout_to_503(client, rows)
            finally:
                client.close()
    if served_out != native_out:
        raise RuntimeError("served predictions differ from the native model's")
    s = summary([t * 1e3 for t in served])
    s["p99"] = float(np.percentile([t * 1e3 for t in served], 99))
    nat = summary([t * 1e3 for t in native])
    nat["p99"] = float(np.percentile([t * 1e3 for t in native], 99))
    served_rps, native_rps = n / sum(served), n / sum(native)
    result.rows = [
        Row("native predict in process, one row (p50)", nat["median"], "ms"),
        Row(
            "POST /serve, one row, kept-alive sequential client (p50)",
            s["median"],
            "ms",
            "native",
            nat["median"],
            s["median"] / nat["median"],
        ),
        Row(
            "POST /serve, one row (p99)",
            s["p99"],
            "ms",
            "native p99",
            nat["p99"],
            s["p99"] / nat["p99"],
        ),
        Row(
            "POST /serve requests per second (sequential)",
            served_rps,
            "req/s",
            "native calls/s",
            native_rps,
            served_rps / native_rps,
        ),
        Row(
            "cut-out answered -> first 503",
            cut_ms,
            "ms",
            target=f"< {CUTOUT_TARGET_MS:.0f} ms, the next request",
            passed=cut_ms < CUTOUT_TARGET_MS and attempts == 1,
        ),
    ]
    result.details = {
        "requests": n,
        "served_ms": s,
        "native_ms": nat,
        "served_rps": served_rps,
        "native_rps": native_rps,
        "cutout_ms": cut_ms,
        "cutout_requests": attempts,
    }
    result.notes = [
        f"{n} single-row requests; every served prediction equals the native one. The "
        "served time includes HTTP, JSON, token check, alias lookup, row "
        "validation and onnxruntime on a worker thread; native predict runs the "
        "scikit-learn pipeline directly on a 1x4 array.",
        f"The first 503 came {attempts} request(s) after the cut-out was answered.",
    ]
    return result


if __name__ == "__main__":
    standalone(run)
