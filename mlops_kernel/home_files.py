"""The files of one MLOPS_HOME that more than the daemon reads.

The daemon writes them; the CLI and the JupyterLab server extension find the
running daemon through them (its address in ``daemon.json``, its API token in
``token``). Kept here, with no dependency beyond the standard library, so every
reader shares one definition without importing the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["HomePaths", "read_token"]


@dataclass(frozen=True)
class HomePaths:
    """The files of one MLOPS_HOME."""

    root: Path

    @property
    def token(self) -> Path:
        return self.root / "token"

    @property
    def pid(self) -> Path:
        return self.root / "daemon.pid"

    @property
    def info(self) -> Path:
        """JSON with the running daemon's pid, port and version (written at start)."""
        return self.root / "daemon.json"

    @property
    def lock(self) -> Path:
        return self.root / "daemon.lock"

    @property
    def log(self) -> Path:
        return self.root / "daemon.log"

    @property
    def database(self) -> Path:
        return self.root / "mlops.db"

    @property
    def runs(self) -> Path:
        return self.root / "runs"


def read_token(paths: HomePaths) -> str | None:
    """The daemon's API token, or None when there is none yet (OSError if unreadable)."""
    try:
        return paths.token.read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None
