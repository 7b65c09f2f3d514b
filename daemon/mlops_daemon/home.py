"""MLOPS_HOME: its directory, the API token and the one-daemon-per-home lock."""

from __future__ import annotations

import fcntl
import os
import secrets
from types import TracebackType
from typing import IO

from .config import HomePaths
from .errors import Conflict


def ensure_home(paths: HomePaths) -> None:
    paths.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths.runs.mkdir(exist_ok=True)


def ensure_token(paths: HomePaths) -> str:
    """The daemon's token, created on first use (random, readable by its owner only)."""
    try:
        token = paths.token.read_text().strip()
        if token:
            os.chmod(paths.token, 0o600)
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    fd = os.open(paths.token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    os.chmod(paths.token, 0o600)
    return token


class HomeLock:
    """An exclusive lock on MLOPS_HOME held while a daemon serves it.

    The kernel drops the lock when the process dies, even by SIGKILL, so a
    crashed daemon never blocks the next one.
    """

    def __init__(self, paths: HomePaths) -> None:
        self.paths = paths
        self._fh: IO[str] | None = None

    def __enter__(self) -> HomeLock:
        fh = open(self.paths.lock, "a+")  # held for the daemon's lifetime
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise Conflict(
                f"another mlops daemon is already serving {self.paths.root} "
                "(`mlops daemon status` shows it)"
            ) from None
        self._fh = fh
        return self

    def __exit__(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
