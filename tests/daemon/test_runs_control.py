"""Controlling runs end to end: cancel, limits, failures, environment, artifacts, the pool.

Like test_runs_e2e: a real daemon, real run processes, real HTTP; scripts are
synchronised through files, never sleeps, and no test asserts on speed.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from support.daemon import DaemonProcess
from support.runs import (
    WAIT_FOR_GO,
    WAIT_S,
    full_log,
    get,
    group_gone,
    process_gone,
    succeeded,
    wait_for,
    write,
)

from mlops_daemon.errors import Conflict

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the local executor is Linux-only"),
]


# -- cancel ----------------------------------------------------------------------


def test_cancel_a_running_run_kills_its_process_group(daemon: DaemonProcess, project: Path) -> None:
    pids = project / "pids.json"
    entry = write(
        project,
        "forever.py",
        f"""
        import json, os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        tmp = {str(pids)!r} + ".tmp"
        with open(tmp, "w") as fh:
            json.dump({{"pid": os.getpid(), "pgid": os.getpgid(0), "child": child.pid}}, fh)
        os.replace(tmp, {str(pids)!r})
        time.sleep(600)
        """,
    )
    run = daemon.submit(project, entry)
    wait_for("the run to write its pids", pids.exists, daemon)
    info = json.loads(pids.read_text())
    assert info["pgid"] == info["pid"], "the run leads a process group of its own"
    # The process can write its pids before the daemon's next poll records it as running.
    wait_for(
        "the run to be recorded as running",
        lambda: get(daemon, f"/api/runs/{run['id']}")["status"] == "running",
        daemon,
    )

    answer = daemon.api.request("POST", f"/api/runs/{run['id']}/cancel")
    assert answer["cancel_requested"] is True
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "cancelled", daemon.log_tail()
    for pid in (info["pid"], info["child"]):
        wait_for(f"process {pid} to be gone", functools.partial(process_gone, pid), daemon)
    wait_for("the run's process group to be gone", lambda: group_gone(info["pgid"]), daemon)
    # A second cancel of an ended run is refused.
    with pytest.raises(Conflict):
        daemon.api.request("POST", f"/api/runs/{run['id']}/cancel")


def test_cancel_a_queued_run_before_it_starts(
    daemon_factory: Callable[..., DaemonProcess], project: Path
) -> None:
    daemon = daemon_factory(concurrency=1)
    go = project / "go"
    blocker = write(project, "blocker.py", WAIT_FOR_GO + f"\nwait_for_go({str(go)!r})\n")
    marker = project / "never-started"
    never = write(project, "never.py", f"open({str(marker)!r}, 'w').close()\n")
    first = daemon.submit(project, blocker)
    wait_for(
        "the first run to start",
        lambda: get(daemon, f"/api/runs/{first['id']}")["status"] == "running",
        daemon,
    )
    queued = daemon.submit(project, never)
    assert get(daemon, f"/api/runs/{queued['id']}")["status"] == "queued"

    answer = daemon.api.request("POST", f"/api/runs/{queued['id']}/cancel")
    assert answer["status"] == "cancelled", "a queued run is cancelled at once"
    assert answer["started_at"] is None
    assert answer["status_reason"] == "cancelled before it started"

    # Free the only worker; a later run proves the queue moved past the cancelled one.
    go.touch()
    succeeded(daemon, first)
    later = daemon.submit(project, blocker)
    succeeded(daemon, later)
    final = get(daemon, f"/api/runs/{queued['id']}")
    assert final["status"] == "cancelled" and final["started_at"] is None
    assert final["exit_code"] is None
    assert not marker.exists(), "the cancelled run must never have started"
    assert not (Path(final["run_dir"]) / "output.log").exists()
    assert not (Path(final["run_dir"]) / "supervisor.json").exists()


# -- limits and failures ---------------------------------------------------------


def test_memory_limit_fails_the_run(daemon: DaemonProcess, project: Path) -> None:
    entry = write(
        project,
        "hog.py",
        """
        blocks = []
        for _ in range(16):
            blocks.append(bytearray(64 * 1024 * 1024))   # 1 GiB in all, touched
        print("allocated", len(blocks))
        """,
    )
    run = daemon.submit(project, entry, resources={"memory_mb": 200})
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "failed", final
    assert "memory" in final["status_reason"], final["status_reason"]
    assert "200 MiB" in final["status_reason"]
    assert "allocated" not in full_log(daemon, run["id"])


def test_timeout_fails_the_run(daemon: DaemonProcess, project: Path) -> None:
    entry = write(project, "sleepy.py", "import time\ntime.sleep(120)\n")
    run = daemon.submit(project, entry, resources={"timeout_s": 1})
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "failed", final
    assert "timed out" in final["status_reason"], final["status_reason"]
    assert "limit 1 s" in final["status_reason"]


def test_a_failing_script_fails_with_its_traceback(daemon: DaemonProcess, project: Path) -> None:
    entry = write(
        project,
        "broken.py",
        """
        from mlops_kernel import log_metric
        log_metric("before_crash", 1.0)
        def train():
            raise ValueError("the data is bad")
        train()
        """,
    )
    run = daemon.submit(project, entry)
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "failed", final
    assert final["exit_code"] == 1
    assert "code 1" in final["status_reason"]
    log = full_log(daemon, run["id"])
    assert "Traceback (most recent call last)" in log
    assert "ValueError: the data is bad" in log
    assert final["metrics"] == {"before_crash": 1.0}, "what was logged before the crash stays"


# -- the run's environment ---------------------------------------------------------


def test_a_run_gets_a_clean_environment_and_a_fresh_work_dir(
    daemon_factory: Callable[..., DaemonProcess], project: Path
) -> None:
    daemon = daemon_factory(extra_env={"MLOPS_TEST_DAEMON_ONLY": "must-not-leak"})
    report = project / "report.json"
    entry = write(
        project,
        "env.py",
        f"""
        import json, os
        with open({str(report)!r}, "w") as fh:
            json.dump({{"env": dict(os.environ), "cwd": os.getcwd(),
                       "listing": os.listdir(".")}}, fh)
        open("scratch.txt", "w").write("left in the work dir")
        """,
    )
    run = daemon.submit(project, entry, env={"MY_SETTING": "from-the-spec"})
    final = succeeded(daemon, run)
    seen = json.loads(report.read_text())
    env = seen["env"]
    assert "MLOPS_TEST_DAEMON_ONLY" not in env, "the daemon's environment leaked into the run"
    assert env["MY_SETTING"] == "from-the-spec"
    run_dir = Path(final["run_dir"])
    assert env["MLOPS_RUN_DIR"] == str(run_dir)
    assert env["MLOPS_RUN_ID"] == run["id"]
    assert run_dir.parent == daemon.home / "runs"
    assert Path(seen["cwd"]) == run_dir / "work"
    assert seen["listing"] == [], "the work dir starts empty"
    assert (run_dir / "work" / "scratch.txt").exists()

    # A second run of the same project gets its own, empty, work dir.
    report.unlink()
    second = succeeded(daemon, daemon.submit(project, entry))
    again = json.loads(report.read_text())
    assert Path(again["cwd"]) == Path(second["run_dir"]) / "work" != Path(seen["cwd"])
    assert again["listing"] == []


def test_artifacts_are_listed_with_size_and_sha256(daemon: DaemonProcess, project: Path) -> None:
    entry = write(
        project,
        "artifacts.py",
        """
        import os
        from mlops_kernel import log_artifact
        with open("model.bin", "wb") as fh:
            fh.write(bytes(range(256)) * 40)
        os.makedirs("plots/sub")
        open("plots/curve.txt", "w").write("a curve\\n")
        open("plots/sub/roc.txt", "w").write("a roc curve\\n")
        log_artifact("model.bin")
        log_artifact("plots", name="figures")
        """,
    )
    run = daemon.submit(project, entry)
    final = succeeded(daemon, run)
    contents = {
        "figures/curve.txt": b"a curve\n",
        "figures/sub/roc.txt": b"a roc curve\n",
        "model.bin": bytes(range(256)) * 40,
    }
    assert final["artifacts"] == [
        {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for path, data in sorted(contents.items())
    ]
    for path, data in contents.items():
        assert (Path(final["run_dir"]) / "artifacts" / path).read_bytes() == data

    # Each can be downloaded; nothing outside the recorded list can.
    for path, data in contents.items():
        status, headers, body = _download(daemon, final["id"], path)
        assert (status, body) == (200, data)
        assert headers["Content-Disposition"] == f'attachment; filename="{Path(path).name}"'
    assert _download(daemon, final["id"], "figures/sub/../../../spec.json")[0] == 404
    assert _download(daemon, final["id"], "figures")[0] == 404
    assert _download(daemon, "no-such-run", "model.bin")[0] == 404


def _download(daemon: DaemonProcess, run_id: str, path: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(daemon.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    try:
        token = (daemon.home / "token").read_text().strip()
        url = f"/api/runs/{run_id}/artifacts/{quote(path)}"
        conn.request("GET", url, headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


# -- the worker pool ---------------------------------------------------------------


def test_concurrency_one_never_overlaps_runs(
    daemon_factory: Callable[..., DaemonProcess], project: Path
) -> None:
    daemon = daemon_factory(concurrency=1)
    stamps = project / "stamps"
    stamps.mkdir()
    entry = write(
        project,
        "stamp.py",
        f"""
        import json, os, time
        from mlops_kernel import get_params
        name = get_params()["name"]
        stamps = {str(stamps)!r}
        start = time.monotonic_ns()   # CLOCK_MONOTONIC: one clock for every process
        others = sorted(os.listdir(stamps))
        open(os.path.join(stamps, name + ".active"), "w").close()
        time.sleep(0.3)   # long enough that a second worker would overlap
        os.unlink(os.path.join(stamps, name + ".active"))
        end = time.monotonic_ns()
        with open(os.path.join(stamps, name + ".json"), "w") as fh:
            json.dump({{"start": start, "end": end, "others": others}}, fh)
        """,
    )
    runs = [daemon.submit(project, entry, params={"name": f"r{i}"}) for i in range(4)]
    for run in runs:
        succeeded(daemon, run)
    records = sorted(
        (json.loads((stamps / f"r{i}.json").read_text()) for i in range(4)),
        key=lambda r: r["start"],
    )
    for rec in records:
        assert not [n for n in rec["others"] if n.endswith(".active")], (
            f"another run was active when one started: {records}"
        )
    for before, after in itertools.pairwise(records):
        assert before["end"] <= after["start"], f"runs overlapped: {records}"
    assert get(daemon, "/api/info")["concurrency"] == 1
