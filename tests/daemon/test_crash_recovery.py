"""Nothing is lost when the daemon dies: SIGKILL it at random moments, restart it.

The runs here log thousands of metric points with known steps and values, in
bursts with small pauses, so that kills land while the daemon is ingesting.
After every restart over the same MLOPS_HOME the daemon must

* reattach to runs whose process is still alive, which then succeed;
* have stored every metric line exactly once (no duplicate, no gap, exact values);
* mark runs whose process died while it was down ``lost``, with a reason;
* record a run that finished while it was down as it ended (not lost);
* still run the runs that were queued.

The kill schedule comes from a seeded ``random.Random``: the seed is printed
(pytest shows it for a failing test) and ``MLOPS_CRASH_SEED=N`` replays it.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess, kill_run_processes
from support.runs import wait_for

from mlops_daemon.process import is_alive

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the local executor is Linux-only"),
]

WAIT_S = 90.0
DEFAULT_SEED = 20240611

# Waits for the file params["start"] if given; logs params["n"] points of "x"
# (automatic steps 0..n-1, value value(i)) and one "burst" point per burst,
# flushing every burst and pausing in between; then creates params["ready"] and
# waits for the file params["go"], if given.
BURST_SCRIPT = """
import os, sys, time
from mlops_kernel import flush, get_params, log_metric

def value(i):
    return i + i / 7

p = get_params()
n, burst, pause = p["n"], p["burst"], p["pause"]

def wait_for_file(path):
    deadline = time.monotonic() + 120
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit("nobody created " + path)
        time.sleep(0.02)

if p.get("start"):
    wait_for_file(p["start"])
for i in range(n):
    log_metric("x", value(i))
    if (i + 1) % burst == 0:
        log_metric("burst", (i + 1) // burst)
        flush()
        time.sleep(pause)
flush()
if p.get("ready"):
    open(p["ready"], "w").close()
if p.get("go"):
    wait_for_file(p["go"])
print("logged", n, "points", flush=True)
"""


def value(i: int) -> float:
    return i + i / 7


# -- helpers -------------------------------------------------------------------


def held_burst_run(
    daemon: DaemonProcess, project: Path, n: int, burst: int
) -> tuple[dict[str, Any], Path]:
    """Submit a burst run that logs its ``n`` points, then waits for the returned go file."""
    ready, go = project / "ready", project / "go"
    run = daemon.submit(
        project,
        "burst.py",
        params={"n": n, "burst": burst, "pause": 0.0, "ready": str(ready), "go": str(go)},
    )
    wait_for("the run to log its points", ready.exists, daemon)
    return run, go


def get_run(daemon: DaemonProcess, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = daemon.api.request("GET", f"/api/runs/{run_id}")
    return run


def series(daemon: DaemonProcess, run_id: str) -> dict[str, dict[str, Any]]:
    data = daemon.api.request("GET", f"/api/runs/{run_id}/metrics")
    return {s["key"]: s for s in data["series"]}


def assert_prefix(daemon: DaemonProcess, run_id: str, context: str) -> int:
    """What is stored so far is the first k points, each once, exact; returns k."""
    x = series(daemon, run_id).get("x", {"steps": [], "values": []})
    k = len(x["steps"])
    assert x["steps"] == list(range(k)), (
        f"run {run_id} ({context}): stored steps are not 0..{k - 1} once each: "
        f"{_diff(x['steps'])}\n{daemon.log_tail()}"
    )
    assert x["values"] == [value(i) for i in range(k)], f"run {run_id} ({context}): values differ"
    return k


def _diff(steps: list[int]) -> str:
    seen: dict[int, int] = {}
    for s in steps:
        seen[s] = seen.get(s, 0) + 1
    dupes = sorted(s for s, c in seen.items() if c > 1)[:10]
    missing = sorted(set(range(max(steps, default=-1) + 1)) - set(seen))[:10]
    return f"{len(steps)} points, duplicated {dupes}, missing {missing}"


def assert_all_metrics(daemon: DaemonProcess, run: dict[str, Any], n: int, burst: int) -> None:
    """The finished run has exactly the n points it wrote, and its metrics file agrees."""
    run_id = run["id"]
    got = series(daemon, run_id)
    x = got["x"]
    assert len(x["steps"]) == n, f"run {run_id}: {_diff(x['steps'])}\n{daemon.log_tail()}"
    assert x["steps"] == list(range(n)), f"run {run_id}: {_diff(x['steps'])}"
    assert x["values"] == [value(i) for i in range(n)], f"run {run_id}: values differ"
    assert got["burst"]["steps"] == list(range(n // burst))
    assert got["burst"]["values"] == [float(b) for b in range(1, n // burst + 1)]
    assert run["metrics"] == {"burst": float(n // burst), "x": value(n - 1)}
    lines = (Path(run["run_dir"]) / "metrics.jsonl").read_bytes().splitlines()
    assert len(lines) == n + n // burst, "the script wrote each line once"


def supervisor_record(run: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((Path(run["run_dir"]) / "supervisor.json").read_text())
    return data


def kill_run(run: dict[str, Any], daemon: DaemonProcess) -> None:
    """SIGKILL a run's process group and its supervisor; wait until both are gone."""
    rec = supervisor_record(run)
    for kill, target in ((os.killpg, rec["child_pgid"]), (os.kill, rec["supervisor_pid"])):
        with contextlib.suppress(ProcessLookupError):
            kill(target, signal.SIGKILL)
    wait_for(
        "the killed supervisor to be gone",
        lambda: not is_alive(rec["supervisor_pid"], rec["supervisor_create_time"]),
        daemon,
    )
    wait_for("the killed run to be gone", lambda: not is_alive(rec["child_pid"], None), daemon)


def restart(daemon: DaemonProcess) -> None:
    try:
        daemon.start()
    except RuntimeError as exc:
        pytest.fail(f"the daemon did not restart: {exc}")


@pytest.fixture
def rng() -> random.Random:
    """The random kill schedule; its seed is printed, MLOPS_CRASH_SEED replays it."""
    seed = int(os.environ.get("MLOPS_CRASH_SEED", DEFAULT_SEED))
    print(f"crash test seed: {seed} (replay with MLOPS_CRASH_SEED={seed})")
    return random.Random(seed)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """The daemon's home; whatever runs a test leaves behind are killed afterwards."""
    path = tmp_path / "home"
    try:
        yield path
    finally:
        kill_run_processes(path)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "project"
    path.mkdir()
    (path / "burst.py").write_text(textwrap.dedent(BURST_SCRIPT))
    return path


@pytest.fixture
def make_daemon(home: Path) -> Iterator[Callable[..., DaemonProcess]]:
    made: list[DaemonProcess] = []

    def make(**kwargs: Any) -> DaemonProcess:
        proc = DaemonProcess(home, **kwargs)
        made.append(proc)
        return proc.start()

    try:
        yield make
    finally:
        for proc in made:
            proc.stop()


# -- the random kills ------------------------------------------------------------


def test_random_sigkills_lose_nothing(
    make_daemon: Callable[..., DaemonProcess], project: Path, rng: random.Random
) -> None:
    n, burst = 3000, 100
    params = {"n": n, "burst": burst, "pause": 0.08}
    daemon = make_daemon(concurrency=2)

    runs = [daemon.submit(project, "burst.py", params=params) for _ in range(2)]
    cycles = 4
    for cycle in range(cycles):
        if cycle < 3:
            # One more run each cycle: with 2 workers some wait in the queue.
            runs.append(daemon.submit(project, "burst.py", params=params))
        time.sleep(rng.uniform(0.05, 1.5))  # a random moment of the runs' lives
        assert daemon.kill() == -signal.SIGKILL
        time.sleep(rng.uniform(0.0, 0.6))  # the runs go on while nobody watches
        restart(daemon)
        for run in runs:
            assert_prefix(daemon, run["id"], f"after restart {cycle + 1}")
        states = {r["id"]: get_run(daemon, r["id"]) for r in runs}
        print(f"after restart {cycle + 1}: { {k: v['status'] for k, v in states.items()} }")
        for state in states.values():
            if state["status"] == "lost":
                assert_never_started(daemon, state)

    finished = [daemon.wait(run["id"], timeout=WAIT_S) for run in runs]
    for final in finished:
        if final["status"] == "lost":
            assert_never_started(daemon, final)
            continue
        assert final["status"] == "succeeded", (
            f"run {final['id']} {final['status']}: {final['status_reason']}\n{daemon.log_tail()}"
        )
        assert final["exit_code"] == 0
        assert_all_metrics(daemon, final, n, burst)
    assert "succeeded" in [f["status"] for f in finished]
    assert "reattached" in daemon.log_tail(1_000_000), "no kill hit a running run"


def assert_never_started(daemon: DaemonProcess, run: dict[str, Any]) -> None:
    """A run may be lost in a random kill only if the kill came before its process started.

    (Between being taken from the queue and starting its process a run is
    ``preparing`` for a few milliseconds; the daemon reports such a run lost.)
    """
    run_dir = Path(run["run_dir"])
    started = [f for f in ("supervisor.json", "output.log") if (run_dir / f).exists()]
    assert not started and run["status_reason"] == (
        "the daemon stopped before this run's process started"
    ), (
        f"run {run['id']} was lost although its process had started ({started}): "
        f"{run['status_reason']}\n{daemon.log_tail()}"
    )


def stored_state(home: Path, run_id: str) -> tuple[int, int]:
    """(metrics offset, metric rows) of a run, read from the database file directly."""
    db = sqlite3.connect(home / "mlops.db")
    try:
        (offset,) = db.execute("SELECT metrics_offset FROM run WHERE id = ?", (run_id,)).fetchone()
        (rows,) = db.execute("SELECT count(*) FROM metric WHERE run_id = ?", (run_id,)).fetchone()
    finally:
        db.close()
    return int(offset), int(rows)


def test_sigkills_while_a_backlog_is_ingested_lose_nothing(
    make_daemon: Callable[..., DaemonProcess], project: Path, home: Path, rng: random.Random
) -> None:
    """A big backlog takes the restarted daemon a while to ingest: kill it meanwhile.

    After every kill the stored rows must be exactly the lines before the
    stored offset (rows and offset commit together), whatever the kill hit.
    """
    n, burst = 100_000, 1000
    start, ready, go = project / "start", project / "ready", project / "go"
    params = {"n": n, "burst": burst, "pause": 0.0, "start": str(start)}
    params.update(ready=str(ready), go=str(go))
    daemon = make_daemon()
    run = daemon.submit(project, "burst.py", params=params)
    wait_for("the run to start", lambda: get_run(daemon, run["id"])["status"] == "running", daemon)
    assert daemon.kill() == -signal.SIGKILL
    start.touch()  # the whole series is written while no daemon runs
    wait_for("the run to log its points", ready.exists, daemon)
    metrics_file = Path(run["run_dir"]) / "metrics.jsonl"
    content = metrics_file.read_bytes()
    assert content.count(b"\n") == n + n // burst

    for cycle in range(3):
        restart(daemon)
        # Ingesting the backlog starts as the daemon comes up and takes a while
        # (about a second here): most kills land in the middle of it.
        time.sleep(rng.uniform(0.0, 1.0))
        assert daemon.kill() == -signal.SIGKILL
        offset, rows = stored_state(home, run["id"])
        print(f"kill {cycle + 1}: offset {offset} of {len(content)}, {rows} rows")
        assert rows == content[:offset].count(b"\n"), (
            f"kill {cycle + 1}: {rows} rows stored for the first {offset} bytes\n"
            f"{daemon.log_tail()}"
        )
        if offset == len(content):
            break  # all ingested: more kills would test nothing new

    restart(daemon)
    go.touch()
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "succeeded", f"{final}\n{daemon.log_tail()}"
    assert_all_metrics(daemon, final, n, burst)


# -- targeted scenarios ------------------------------------------------------------


def test_run_killed_while_the_daemon_is_down_is_lost(
    make_daemon: Callable[..., DaemonProcess], project: Path
) -> None:
    n, burst = 600, 100
    ready, go = project / "ready", project / "go"  # go is never created
    params = {"n": n, "burst": burst, "pause": 0.0, "ready": str(ready), "go": str(go)}
    daemon = make_daemon()
    doomed = daemon.submit(project, "burst.py", params=params)
    wait_for("the run to log its points", ready.exists, daemon)

    # Its process may get there before the daemon's next poll records it as running.
    def running_now() -> dict[str, Any] | None:
        run = get_run(daemon, doomed["id"])
        return run if run["status"] == "running" else None

    running = wait_for("the run to be recorded as running", running_now, daemon)

    assert daemon.kill() == -signal.SIGKILL
    kill_run(running, daemon)
    restart(daemon)

    final = daemon.wait(doomed["id"], timeout=WAIT_S)
    assert final["status"] == "lost", f"{final}\n{daemon.log_tail()}"
    reason = final["status_reason"]
    assert "gone" in reason and "daemon restarted" in reason, reason
    assert final["exit_code"] is None
    # Everything it wrote before it died was kept, once.
    assert_all_metrics(daemon, final, n, burst)
    # The daemon goes on working.
    fine = daemon.submit(project, "burst.py", params={"n": 10, "burst": 5, "pause": 0.0})
    assert daemon.wait(fine["id"], timeout=WAIT_S)["status"] == "succeeded", daemon.log_tail()


def test_run_that_ends_while_the_daemon_is_down_succeeds_and_the_queue_survives(
    make_daemon: Callable[..., DaemonProcess], project: Path
) -> None:
    n, burst = 1000, 100
    ready, go = project / "ready", project / "go"
    daemon = make_daemon(concurrency=1)
    first = daemon.submit(
        project,
        "burst.py",
        params={"n": n, "burst": burst, "pause": 0.0, "ready": str(ready), "go": str(go)},
    )
    wait_for("the first run to log its points", ready.exists, daemon)
    small = {"n": 200, "burst": 50, "pause": 0.0}
    queued = [daemon.submit(project, "burst.py", params=small) for _ in range(2)]
    assert [get_run(daemon, q["id"])["status"] for q in queued] == ["queued", "queued"]

    assert daemon.kill() == -signal.SIGKILL
    go.touch()  # the first run finishes while nobody watches
    exit_file = Path(first["run_dir"]) / "exit.json"
    wait_for("the first run to end", exit_file.exists, daemon)
    assert json.loads(exit_file.read_text())["returncode"] == 0
    restart(daemon)

    final = daemon.wait(first["id"], timeout=WAIT_S)
    assert final["status"] == "succeeded", f"{final}\n{daemon.log_tail()}"
    assert final["exit_code"] == 0
    assert_all_metrics(daemon, final, n, burst)
    for q in queued:
        done = daemon.wait(q["id"], timeout=WAIT_S)
        assert done["status"] == "succeeded", f"{done}\n{daemon.log_tail()}"
        assert_all_metrics(daemon, done, 200, 50)


def test_sigterm_stops_the_daemon_gracefully_and_the_run_is_reattached(
    make_daemon: Callable[..., DaemonProcess], project: Path
) -> None:
    n, burst = 1000, 100
    daemon = make_daemon()
    run, go = held_burst_run(daemon, project, n, burst)
    rec = supervisor_record(get_run(daemon, run["id"]))

    code = daemon.kill(signal.SIGTERM)
    assert code == 0, f"the daemon exited with {code} on SIGTERM:\n{daemon.log_tail()}"
    assert not (daemon.home / "daemon.json").exists()
    assert not (daemon.home / "daemon.pid").exists()
    assert is_alive(rec["child_pid"], None), "the run must outlive the daemon"
    assert is_alive(rec["supervisor_pid"], rec["supervisor_create_time"])

    restart(daemon)
    assert get_run(daemon, run["id"])["status"] == "running"
    assert f"run {run['id']}: reattached" in daemon.log_tail()
    go.touch()
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "succeeded", f"{final}\n{daemon.log_tail()}"
    assert_all_metrics(daemon, final, n, burst)
    assert "logged 1000 points" in daemon.api.request("GET", f"/api/runs/{run['id']}/logs")["text"]


def test_run_started_just_before_the_daemon_died_is_reattached(
    make_daemon: Callable[..., DaemonProcess], project: Path, home: Path
) -> None:
    """The daemon died after starting a run's process but before storing its handle.

    That window is short, so it is recreated exactly: the run is put back the
    way the store had it then (``preparing``, no handle) while the daemon is down.
    """
    n, burst = 500, 100
    daemon = make_daemon()
    run, go = held_burst_run(daemon, project, n, burst)
    assert daemon.kill() == -signal.SIGKILL
    db = sqlite3.connect(home / "mlops.db")
    try:
        with db:
            changed = db.execute(
                "UPDATE run SET status = 'preparing', handle_json = NULL, started_at = NULL "
                "WHERE id = ?",
                (run["id"],),
            ).rowcount
    finally:
        db.close()
    assert changed == 1

    restart(daemon)
    assert get_run(daemon, run["id"])["status"] == "running", daemon.log_tail()
    # The handle found at recovery is stored: a second crash reattaches again.
    assert daemon.kill() == -signal.SIGKILL
    restart(daemon)
    assert get_run(daemon, run["id"])["status"] == "running", daemon.log_tail()
    go.touch()
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "succeeded", f"{final}\n{daemon.log_tail()}"
    assert_all_metrics(daemon, final, n, burst)
