"""Helpers for end-to-end run tests: write training code, wait for things, read results."""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.daemon import DaemonProcess

WAIT_S = 60.0


def write(project: Path, name: str, code: str) -> str:
    """Write ``code`` (dedented) to ``project/name``; returns ``name``."""
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return name


def wait_for(
    what: str, condition: Callable[[], Any], daemon: DaemonProcess, timeout_s: float = WAIT_S
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with the daemon's log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout_s} s; daemon log:\n{daemon.log_tail()}")


def get(daemon: DaemonProcess, path: str, **query: Any) -> Any:
    return daemon.api.request("GET", path, query=query or None)


def series(daemon: DaemonProcess, run_id: str) -> dict[str, dict[str, Any]]:
    """The run's metric series by key."""
    data = get(daemon, f"/api/runs/{run_id}/metrics")
    return {s["key"]: s for s in data["series"]}


def full_log(daemon: DaemonProcess, run_id: str) -> str:
    return str(get(daemon, f"/api/runs/{run_id}/logs")["text"])


def succeeded(daemon: DaemonProcess, run: dict[str, Any]) -> dict[str, Any]:
    """Wait for ``run`` to end and check that it succeeded (else show its log)."""
    final = daemon.wait(run["id"], timeout=WAIT_S)
    assert final["status"] == "succeeded", (
        f"run {run['id']} {final['status']}: {final['status_reason']}\n"
        f"output:\n{full_log(daemon, run['id'])}\ndaemon log:\n{daemon.log_tail()}"
    )
    return final


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


# A script fragment: block until the test creates the file named by ``GO``
# (bounded, so that a broken test cannot leave a run hanging for ever).
WAIT_FOR_GO = """
import os, sys, time
def wait_for_go(path):
    deadline = time.monotonic() + 60
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit("nobody created " + path)
        time.sleep(0.02)
"""
