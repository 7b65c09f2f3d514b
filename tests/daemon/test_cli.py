"""The `mlops` command line, run as a real subprocess against a real daemon.

Daemons started here (by `mlops daemon start`) are always
stopped in a ``finally``, and whatever runs they leave behind are killed.
"""

from __future__ import annotations

import json
import re
import stat
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import Cli, show
from support.daemon import DaemonProcess

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="the local executor is Linux-only"),
]

WAIT_S = 60.0


def write_script(project: Path, name: str, code: str) -> None:
    (project / name).write_text(textwrap.dedent(code))


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    """A CLI bound to a fresh MLOPS_HOME whose daemon (if any) is stopped afterwards."""
    runner = Cli(tmp_path / "cli-home")
    try:
        yield runner
    finally:
        runner.stop_daemon()


@pytest.fixture
def served(daemon: DaemonProcess) -> Cli:
    """A CLI talking to the test's daemon (started by the ``daemon`` fixture)."""
    return Cli(daemon.home)


def test_daemon_start_status_stop(cli: Cli) -> None:
    started = cli("daemon", "start", "--port", "0")
    assert started.returncode == 0, show(started) + cli.daemon_log()
    match = re.search(r"started \(pid (\d+)\) at http://127\.0\.0\.1:(\d+)", started.stdout)
    assert match, show(started)
    pid, port = int(match.group(1)), int(match.group(2))
    assert port > 0

    status = cli("daemon", "status")
    assert status.returncode == 0, show(status)
    assert "running" in status.stdout and f":{port}" in status.stdout
    assert f"pid {pid}" in status.stdout

    as_json = cli("daemon", "status", "--json")
    assert as_json.returncode == 0, show(as_json)
    info = json.loads(as_json.stdout)
    assert info["running"] is True
    assert info["pid"] == pid
    assert info["url"] == f"http://127.0.0.1:{port}"
    assert info["home"] == str(cli.home)
    assert info["database"] == "sqlite"
    assert info["concurrency"] == 2

    again = cli("daemon", "start", "--port", "0")
    assert again.returncode == 0, show(again)
    assert "already running" in again.stdout and f":{port}" in again.stdout
    assert json.loads(cli("daemon", "status", "--json").stdout)["pid"] == pid, (
        "a second start must not replace the running daemon"
    )

    token = cli.home / "token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600, oct(token.stat().st_mode)
    assert len(token.read_text().strip()) >= 32

    stopped = cli("daemon", "stop")
    assert stopped.returncode == 0, show(stopped)
    assert "stopped" in stopped.stdout
    assert not (cli.home / "daemon.json").exists()
    after = cli("daemon", "status")
    assert after.returncode == 3, show(after)
    assert "not running" in after.stdout
    after_json = cli("daemon", "status", "--json")
    assert after_json.returncode == 3
    assert json.loads(after_json.stdout)["running"] is False
    assert "not running" in cli("daemon", "stop").stdout


def wait_status(cli: Cli, run_id: str, statuses: set[str]) -> dict[str, Any]:
    """Poll `runs show --json` (bounded) until the run reaches one of ``statuses``."""
    deadline = time.monotonic() + WAIT_S
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        result = cli("runs", "show", run_id, "--json")
        assert result.returncode == 0, show(result)
        run = json.loads(result.stdout)
        if run["status"] in statuses:
            return run
        time.sleep(0.1)
    pytest.fail(f"run {run_id} still {run.get('status')} after {WAIT_S} s:\n{cli.daemon_log()}")


def test_run_show_and_list(served: Cli, daemon: DaemonProcess, project: Path) -> None:
    write_script(
        project,
        "train.py",
        """
        from mlops_kernel import get_params, log_metric
        lr = get_params()["lr"]
        for step in range(3):
            log_metric("loss", lr * (3 - step))
        print("trained with", lr)
        """,
    )
    submitted = served("run", "train.py", "--project", str(project), "--param", "lr=0.1", "--json")
    assert submitted.returncode == 0, show(submitted)
    lines = submitted.stdout.strip().splitlines()
    assert len(lines) == 1, show(submitted)
    answer = json.loads(lines[0])
    assert set(answer) == {"id", "status"}
    assert answer["status"] == "queued"
    run_id = answer["id"]
    final = wait_status(served, run_id, {"succeeded", "failed", "cancelled", "lost"})
    assert final["status"] == "succeeded", final

    # runs show, as JSON and as text
    assert final["params"] == {"lr": 0.1}
    assert final["metrics"] == {"loss": pytest.approx(0.1)}
    assert final["executor"] == "local"
    assert final["duration_s"] is not None
    text = served("runs", "show", run_id)
    assert text.returncode == 0, show(text)
    for expected in (
        f"run {run_id}",
        "status:      succeeded",
        "executor:    local",
        "lr = 0.1",
        "loss = 0.1",
        "exit code:   0",
    ):
        assert expected in text.stdout, show(text)
    assert re.search(r"duration:\s+\d+\.\ds", text.stdout), show(text)

    # A second, failing run for the list.
    write_script(project, "bad.py", "raise SystemExit(1)\n")
    bad = served("run", "bad.py", "--project", str(project))
    assert bad.returncode == 0, show(bad)
    bad_id = bad.stdout.strip()
    assert wait_status(served, bad_id, {"failed"})["exit_code"] == 1

    table = served("runs", "list")
    assert table.returncode == 0, show(table)
    header, *rows = table.stdout.strip().splitlines()
    assert header.split() == [
        "ID",
        "STATUS",
        "ENTRY",
        "EXECUTOR",
        "CREATED",
        "DURATION",
        "METRICS",
    ]
    assert rows[0].split()[:2] == [bad_id, "failed"], "newest first"
    assert rows[1].split()[:2] == [run_id, "succeeded"]
    assert "loss=0.1" in rows[1]

    page = json.loads(served("runs", "list", "--json").stdout)
    assert page["total"] == 2
    assert [r["id"] for r in page["runs"]] == [bad_id, run_id]
    only_failed = json.loads(served("runs", "list", "--status", "failed", "--json").stdout)
    assert [r["id"] for r in only_failed["runs"]] == [bad_id]
    by_loss = json.loads(served("runs", "list", "--sort", "metrics.loss", "--asc", "--json").stdout)
    assert [r["id"] for r in by_loss["runs"]] == [run_id, bad_id], "runs without it last"
    limited = served("runs", "list", "--limit", "1")
    assert "(1 of 2; --limit shows more)" in limited.stdout, show(limited)

    missing = served("runs", "show", "nosuchrun")
    assert missing.returncode == 1 and "no run with id" in missing.stderr, show(missing)


def test_run_follow_exit_codes(served: Cli, project: Path) -> None:
    write_script(
        project,
        "ok.py",
        """
        from mlops_kernel import log_metric
        print("hello from the run")
        log_metric("acc", 0.75)
        """,
    )
    write_script(
        project,
        "crash.py",
        """
        print("about to fail")
        raise RuntimeError("deliberate failure")
        """,
    )
    ok = served("run", "ok.py", "--project", str(project), "--follow")
    assert ok.returncode == 0, show(ok) + served.daemon_log()
    assert "hello from the run" in ok.stdout
    assert re.search(r"run \w+ succeeded", ok.stderr), show(ok)
    assert "acc=0.75" in ok.stderr

    crash = served("run", "crash.py", "--project", str(project), "--follow")
    assert crash.returncode == 1, show(crash)
    assert "about to fail" in crash.stdout
    assert "RuntimeError: deliberate failure" in crash.stdout
    assert re.search(r"run \w+ failed: exited with code 1", crash.stderr), show(crash)

    # --follow --json: the output goes to stderr, one JSON object to stdout.
    as_json = served("run", "ok.py", "--project", str(project), "--follow", "--json")
    assert as_json.returncode == 0, show(as_json)
    final = json.loads(as_json.stdout)
    assert final["status"] == "succeeded" and final["metrics"] == {"acc": 0.75}
    assert "hello from the run" in as_json.stderr


def test_runs_cancel(served: Cli, daemon: DaemonProcess, project: Path) -> None:
    started = project / "started"
    write_script(
        project,
        "forever.py",
        f"""
        import time
        open({str(started)!r}, "w").close()
        time.sleep(600)
        """,
    )
    submitted = served("run", "forever.py", "--project", str(project))
    assert submitted.returncode == 0, show(submitted)
    run_id = submitted.stdout.strip()
    deadline = time.monotonic() + WAIT_S
    while not started.exists():
        assert time.monotonic() < deadline, f"the run did not start:\n{daemon.log_tail()}"
        time.sleep(0.05)
    cancelled = served("runs", "cancel", run_id)
    assert cancelled.returncode == 0, show(cancelled)
    assert cancelled.stdout.strip() in (f"run {run_id}: cancelling", f"run {run_id}: cancelled")
    final = wait_status(served, run_id, {"cancelled", "failed", "succeeded", "lost"})
    assert final["status"] == "cancelled", final
    again = served("runs", "cancel", run_id)
    assert again.returncode == 1 and "already ended" in again.stderr, show(again)
