"""The `mlops` command line as a subprocess, bound to one MLOPS_HOME (for CLI tests).

Commands like ``mlops daemon start`` and ``mlops demo`` start a daemon of their own
over that home; ``stop_daemon`` stops it (killing it if it will not) and its runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from support.daemon import kill_run_processes, run_mlops

from mlops_daemon.process import is_alive, process_create_time


class Cli:
    """`python -m mlops_daemon ...` with MLOPS_HOME pointing at one home."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = dict(os.environ, MLOPS_HOME=str(home), MLOPS_CONCURRENCY="2")
        self.env.pop("MLOPS_DATABASE_URL", None)
        self.env.pop("MLOPS_PORT", None)

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_mlops(self.env, *args, timeout=timeout)

    def daemon_log(self) -> str:
        try:
            return (self.home / "daemon.log").read_text(errors="replace")[-4000:]
        except FileNotFoundError:
            return ""

    def stop_daemon(self) -> None:
        """Stop this home's daemon if one runs (killing it if it will not), and its runs."""
        try:
            pid = int((self.home / "daemon.pid").read_text())
        except (OSError, ValueError):
            pid = None
        started = process_create_time(pid) if pid is not None else None
        try:
            self("daemon", "stop", timeout=60)
        finally:
            if pid is not None and started is not None and is_alive(pid, started):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            kill_run_processes(self.home)


def show(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
