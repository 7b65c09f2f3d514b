"""Where the daemon keeps things and how it behaves, from the environment.

Convention over configuration: with nothing set, everything lives under
``~/.mlops`` with an embedded SQLite database and the local executor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mlops_kernel.home_files import HomePaths

__all__ = ["DEFAULT_PORT", "HOST", "DaemonConfig", "HomePaths", "default_home"]

DEFAULT_PORT = 8765
HOST = "127.0.0.1"

# What a run inherits from the daemon's environment besides its spec's own
# variables: only what Python and the native maths libraries need to work.
DEFAULT_PASSTHROUGH = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)


def default_home() -> Path:
    return Path(os.environ.get("MLOPS_HOME") or Path.home() / ".mlops").expanduser()


@dataclass(frozen=True)
class DaemonConfig:
    home: Path = field(default_factory=default_home)
    database_url: str = ""
    port: int = DEFAULT_PORT
    concurrency: int = 0
    """How many runs may go at once; 0 means one per CPU."""
    poll_interval_s: float = 0.2
    cancel_grace_s: float = 5.0
    env_passthrough: tuple[str, ...] = DEFAULT_PASSTHROUGH

    @property
    def paths(self) -> HomePaths:
        return HomePaths(self.home)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.paths.database}"

    @property
    def effective_concurrency(self) -> int:
        return self.concurrency if self.concurrency > 0 else (os.cpu_count() or 1)

    @classmethod
    def from_env(cls, **overrides: object) -> DaemonConfig:
        """Read MLOPS_HOME, MLOPS_DATABASE_URL, MLOPS_PORT and MLOPS_CONCURRENCY."""
        values: dict[str, object] = {
            "home": default_home(),
            "database_url": os.environ.get("MLOPS_DATABASE_URL", ""),
            "port": _int_env("MLOPS_PORT", DEFAULT_PORT),
            "concurrency": _int_env("MLOPS_CONCURRENCY", 0),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a whole number") from None
