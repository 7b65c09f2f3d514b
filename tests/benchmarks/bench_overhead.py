"""What running through the daemon adds to a trivial script.

``print("ok")`` submitted to a real daemon (timed from the client's POST until a
GET, polled every 10 ms, shows ``succeeded``) against the same script run bare
with ``subprocess.run``. Target: under 150 ms extra (median).

Each daemon run is also split into phases from the records it leaves (the run's
timestamps, ``supervisor.json``, ``exit.json``), so a miss says where the time went.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from subprocess import DEVNULL
from typing import Any

import psutil
from benchlib import (
    BenchResult,
    DaemonProcess,
    Row,
    epoch,
    running_daemon,
    standalone,
    summary,
    temp_dir,
    timed,
)

from mlops_daemon.executors.local import SUPERVISOR_MODULE, supervisor_environment

TARGET_EXTRA_MS = 150.0
CLIENT_POLL_S = 0.01
PHASES = (
    ("post", "POST /api/runs until the run row exists"),
    ("dispatch", "row created -> supervisor process exists"),
    ("supervisor_start", "supervisor exists -> it has spawned the script"),
    ("script", "script spawned -> exit.json written (script + supervisor tick)"),
    ("notice", "exit.json -> daemon records 'succeeded' (poll interval)"),
    ("client", "recorded -> client's GET sees it"),
)


def create_time_offset() -> float:
    """psutil's process start times minus the wall clock (its boot time is whole seconds)."""
    offsets = []
    for _ in range(5):
        before = time.time()
        with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.05)"]) as proc:
            offsets.append(psutil.Process(proc.pid).create_time() - before)
    return statistics.median(offsets)


def daemon_run(
    daemon: DaemonProcess, project: Path, offset: float
) -> tuple[float, dict[str, float]]:
    """One run through the daemon: (seconds, phase -> seconds)."""
    wall0, start = time.time(), time.perf_counter()
    run_id = daemon.submit(project, "ok.py", force=True)["id"]
    while True:
        run: dict[str, Any] = daemon.api.request("GET", f"/api/runs/{run_id}")
        if run["status"] in {"succeeded", "failed", "cancelled", "lost"}:
            break
        time.sleep(CLIENT_POLL_S)
    elapsed, wall1 = time.perf_counter() - start, time.time()
    if run["status"] != "succeeded":
        raise RuntimeError(f"run {run_id} ended {run['status']}: {run['status_reason']}")
    run_dir = Path(run["run_dir"])
    sup = json.loads((run_dir / "supervisor.json").read_text())
    ended_at = json.loads((run_dir / "exit.json").read_text())["ended_at"]
    created, recorded = epoch(run["created_at"]), epoch(run["ended_at"])
    assert created is not None and recorded is not None
    marks = [
        wall0,
        created,
        sup["supervisor_create_time"] - offset,
        sup["started_at"],
        ended_at,
        recorded,
        wall1,
    ]
    phases = {name: b - a for (name, _), a, b in zip(PHASES, marks, marks[1:], strict=False)}
    return elapsed, phases


def bare_run(script: Path) -> float:
    return timed(lambda: subprocess.run([sys.executable, str(script)], check=True, stdout=DEVNULL))


def startup_costs(reps: int) -> dict[str, float]:
    """Median seconds of a bare interpreter and of the supervisor's imports."""
    env = supervisor_environment()
    bare = [sys.executable, "-c", "pass"]
    sup = [sys.executable, "-m", SUPERVISOR_MODULE]  # prints its usage and exits
    python = [timed(lambda: subprocess.run(bare)) for _ in range(reps)]
    supervisor = [timed(lambda: subprocess.run(sup, env=env, stderr=DEVNULL)) for _ in range(reps)]
    return {
        "python_c_pass": statistics.median(python),
        "supervisor_usage": statistics.median(supervisor),
    }


def run(quick: bool = False) -> BenchResult:
    reps, warmup = (4, 1) if quick else (15, 2)
    result = BenchResult("overhead")
    with temp_dir("overhead") as tmp:
        project = tmp / "project"
        project.mkdir()
        script = project / "ok.py"
        script.write_text('print("ok")\n')
        offset = create_time_offset()
        with running_daemon(tmp / "home") as daemon:
            for _ in range(warmup):
                bare_run(script)
                daemon_run(daemon, project, offset)
            bare: list[float] = []
            through: list[float] = []
            phases: dict[str, list[float]] = {name: [] for name, _ in PHASES}
            for _ in range(reps):  # interleaved, so drift hits both alike
                bare.append(bare_run(script))
                elapsed, split = daemon_run(daemon, project, offset)
                through.append(elapsed)
                for name, seconds in split.items():
                    phases[name].append(seconds)
        startup = startup_costs(5 if quick else 10)
    b, d = summary([s * 1e3 for s in bare]), summary([s * 1e3 for s in through])
    bm = b["median"]
    extra = d["median"] - bm
    result.rows = [
        Row("bare script, median", b["median"], "ms"),
        Row("bare script, p95", b["p95"], "ms"),
        Row("via daemon, median", d["median"], "ms", "bare", b["median"], d["median"] / bm),
        Row("via daemon, p95", d["p95"], "ms", "bare", b["p95"], d["p95"] / b["p95"]),
        Row(
            "extra per run (median)",
            extra,
            "ms",
            target=f"< {TARGET_EXTRA_MS:.0f} ms",
            passed=extra < TARGET_EXTRA_MS,
        ),
    ]
    phase_ms = {name: statistics.median(v) * 1e3 for name, v in phases.items()}
    result.details = {
        "repetitions": reps,
        "bare_ms": b,
        "daemon_ms": d,
        "phases_median_ms": phase_ms,
        "startup_median_ms": {k: v * 1e3 for k, v in startup.items()},
    }
    result.notes.append(
        "overhead breakdown (median ms, sums to the daemon median): "
        + "; ".join(f"{label}: {phase_ms[name]:.0f}" for name, label in PHASES)
    )
    result.notes.append(
        f"for scale: `python -c pass` {startup['python_c_pass'] * 1e3:.0f} ms; the supervisor's "
        f"interpreter + imports (`python -m {SUPERVISOR_MODULE}`, usage exit) "
        f"{startup['supervisor_usage'] * 1e3:.0f} ms"
    )
    return result


if __name__ == "__main__":
    standalone(run)
