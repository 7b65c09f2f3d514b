"""A real daemon process for tests: its own MLOPS_HOME, a free port, real HTTP.

``DaemonProcess`` starts ``python -m mlops_daemon daemon start --foreground
--port 0`` and waits (bounded) until it answers; ``kill`` and ``start`` let
crash tests SIGKILL and restart it over the same home. ``cli`` runs the real
``mlops`` command line against it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_daemon.client import Client, DaemonAddress

START_TIMEOUT_S = 60
TERMINAL = {"succeeded", "failed", "cancelled", "lost"}


class DaemonProcess:
    def __init__(
        self,
        home: Path,
        database_url: str | None = None,
        concurrency: int = 2,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.database_url = database_url
        self.concurrency = concurrency
        self.extra_env = dict(extra_env or {})
        """Added to the daemon's (and ``cli``'s) environment."""
        self.proc: subprocess.Popen[bytes] | None = None
        self.client: Client | None = None
        self.url = ""

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ, MLOPS_HOME=str(self.home), MLOPS_CONCURRENCY=str(self.concurrency))
        if self.database_url:
            env["MLOPS_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env

    def start(self) -> DaemonProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        info = self.home / "daemon.json"
        info.unlink(missing_ok=True)
        log = open(self.home / "test-daemon.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mlops_daemon",
                "daemon",
                "start",
                "--foreground",
                "--port",
                "0",
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the daemon exited at start:\n{self.log_tail()}")
            try:
                data = json.loads(info.read_text())
            except (FileNotFoundError, json.JSONDecodeError):
                time.sleep(0.05)
                continue
            if data.get("pid") == self.proc.pid:
                self.url = data["url"]
                token = (self.home / "token").read_text().strip()
                self.client = Client(DaemonAddress(url=self.url, token=token, pid=self.proc.pid))
                return self
            time.sleep(0.05)
        raise RuntimeError(
            f"the daemon did not start within {START_TIMEOUT_S} s:\n{self.log_tail()}"
        )

    def log_tail(self, size: int = 4000) -> str:
        try:
            return (self.home / "test-daemon.log").read_text(errors="replace")[-size:]
        except FileNotFoundError:
            return ""

    def kill(self, sig: int = signal.SIGKILL) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def api(self) -> Client:
        assert self.client is not None, "the daemon is not started"
        return self.client

    def submit(self, project: Path, entry: str, **spec: Any) -> dict[str, Any]:
        body = {"project": str(project), "entry_point": entry, **spec}
        result: dict[str, Any] = self.api.request("POST", "/api/runs", body=body)
        return result

    def wait(
        self, run_id: str, statuses: set[str] = TERMINAL, timeout: float = 120
    ) -> dict[str, Any]:
        """Poll until the run reaches one of ``statuses`` (bounded; fails with its log)."""
        deadline = time.monotonic() + timeout
        run: dict[str, Any] = {}
        while time.monotonic() < deadline:
            run = self.api.request("GET", f"/api/runs/{run_id}")
            if run["status"] in statuses:
                return run
            time.sleep(0.05)
        status = run.get("status")
        raise AssertionError(
            f"run {run_id} still {status} after {timeout} s; daemon log:\n{self.log_tail()}"
        )

    def cli(
        self, *args: str, check: bool = False, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_mlops(self.env, *args, check=check, timeout=timeout)


def run_mlops(
    env: dict[str, str], *args: str, check: bool = False, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m mlops_daemon ARGS`` with ``env``, output captured, no stdin."""
    return subprocess.run(
        [sys.executable, "-m", "mlops_daemon", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
        stdin=subprocess.DEVNULL,
    )


def kill_run_processes(home: Path) -> None:
    """Kill whatever runs a test left behind (their supervisors and process groups)."""
    for sup in (home / "runs").glob("*/supervisor.json"):
        try:
            data = json.loads(sup.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        for key, kill in (("child_pgid", os.killpg), ("supervisor_pid", os.kill)):
            value = data.get(key)
            if isinstance(value, int) and value > 1:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(value, signal.SIGKILL)


@contextlib.contextmanager
def running_daemon(home: Path, **kwargs: Any) -> Iterator[DaemonProcess]:
    """A started daemon over ``home``; afterwards it is stopped and its runs are killed."""
    proc = DaemonProcess(home, **kwargs)
    try:
        yield proc.start()
    finally:
        proc.stop()
        kill_run_processes(proc.home)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    """A fresh daemon on SQLite in its own MLOPS_HOME, stopped after the test."""
    with running_daemon(tmp_path / "home") as proc:
        yield proc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project directory; tests write their training scripts into it."""
    path = tmp_path / "project"
    path.mkdir()
    return path


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """Start daemons with custom settings; all are stopped and their runs killed."""
    with contextlib.ExitStack() as stack:

        def make(name: str = "home2", **kwargs: Any) -> DaemonProcess:
            return stack.enter_context(running_daemon(tmp_path / name, **kwargs))

        yield make
