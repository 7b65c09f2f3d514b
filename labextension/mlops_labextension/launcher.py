"""Start the daemon from JupyterLab: ``python -m mlops_daemon daemon start``.

The command starts a detached daemon for MLOPS_HOME and returns once it
answers (or says why it could not start). It runs as an asyncio subprocess, so
the Jupyter server's event loop never waits on it, and one lock makes
concurrent start requests share one daemon.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from mlops_kernel.home_files import HomePaths

from .status import Probe, probe_daemon

LOG_TAIL_CHARS = 2000


class StartFailed(Exception):
    """The daemon did not start; ``message`` has the reason and the log tail."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Launcher:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def start(self, home: Path, url: str | None, timeout: float) -> Probe:
        """Start the daemon of ``home`` unless one answers; its state once it does.

        ``url`` is the explicit daemon URL in use (a setting), if any: success
        means that it answers. A daemon of another version counts as started
        ("mismatch"): starting cannot fix that, restarting can.
        """
        async with self._lock:
            probe = await probe_daemon(home, url)
            if probe.state != "down":
                return probe
            await self._run_start_command(home, timeout)
            probe = await probe_daemon(home, url)
            if probe.state == "down":
                tail = await log_tail(home)
                raise StartFailed(
                    f"`mlops daemon start` succeeded but the daemon does not answer: "
                    f"{probe.message}{tail}"
                )
            return probe

    async def _run_start_command(self, home: Path, timeout: float) -> None:
        argv = [sys.executable, "-m", "mlops_daemon", "daemon", "start"]
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(os.environ, MLOPS_HOME=str(home)),
        )
        try:
            output, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            tail = await log_tail(home)
            message = f"the mlops daemon did not start within {timeout:g} s{tail}"
            raise StartFailed(message) from None
        if proc.returncode != 0:
            # The command prints why, with the daemon log's tail when the daemon exited.
            # Its last line is the gist (e.g. "port 8765 is taken: ..."): it goes first.
            text = output.decode("utf-8", "replace").strip()[-LOG_TAIL_CHARS:]
            summary = f"`mlops daemon start` failed (exit code {proc.returncode})"
            if not text:
                raise StartFailed(summary + await log_tail(home))
            raise StartFailed(f"{summary}: {text.splitlines()[-1]}\n{text}")


async def log_tail(home: Path) -> str:
    """The end of ``$MLOPS_HOME/daemon.log`` as a message suffix ("" when there is none)."""
    log = HomePaths(home).log
    text = await asyncio.to_thread(_read_tail, log, LOG_TAIL_CHARS)
    return f"\n{log} ends with:\n{text}" if text else ""


def _read_tail(path: Path, size: int) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - size * 4))
            return fh.read().decode("utf-8", "replace").strip()[-size:]
    except OSError:
        return ""
