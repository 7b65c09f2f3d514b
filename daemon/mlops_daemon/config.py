"""Where the daemon keeps things and how it behaves, from the environment.

Convention over configuration: with nothing set, everything lives under
``~/.mlops`` with an embedded SQLite database and the local executor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mlops_kernel.home_files import HomePaths

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "DEFAULT_PORT",
    "HOST",
    "DaemonConfig",
    "DockerSettings",
    "HomePaths",
    "default_home",
]

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


DEFAULT_BASE_IMAGE = "python:3.11-slim"


@dataclass(frozen=True)
class DockerSettings:
    """How the Docker executor behaves (environment: ``MLOPS_DOCKER``, ``MLOPS_BASE_IMAGE``,
    ``MLOPS_CA_BUNDLE``; a project's ``mlops.toml`` ``[docker]`` table fills what these leave
    unset). The engine itself is found as the docker CLI finds it (``DOCKER_HOST``,
    ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``)."""

    enabled: bool = True
    """``MLOPS_DOCKER=off`` turns the Docker executor off: ``auto`` then always runs locally."""
    base_image: str | None = None
    """None: the project's ``[docker] base_image``, else :data:`DEFAULT_BASE_IMAGE`."""
    ca_bundle: Path | None = None
    """A CA bundle (PEM) trusted when wheels are downloaded and inside image builds."""
    transfer: str = "auto"
    """How a run's files reach its container: ``bind`` mounts (an engine on this machine),
    ``copy`` through the API (an engine elsewhere), or ``auto``: bind for a unix socket,
    copy for ``tcp://`` and ``ssh://`` engines (``MLOPS_DOCKER_TRANSFER``)."""
    probe_timeout_s: float = 2.0
    """How long ``auto`` waits for an engine to answer before choosing the local executor."""

    @classmethod
    def from_env(cls) -> DockerSettings:
        mode = os.environ.get("MLOPS_DOCKER", "auto").strip().lower() or "auto"
        if mode not in {"auto", "on", "off"}:
            raise SystemExit(f"MLOPS_DOCKER={mode!r}: use auto, on or off")
        ca = os.environ.get("MLOPS_CA_BUNDLE", "").strip()
        transfer = os.environ.get("MLOPS_DOCKER_TRANSFER", "auto").strip().lower() or "auto"
        if transfer not in {"auto", "bind", "copy"}:
            raise SystemExit(f"MLOPS_DOCKER_TRANSFER={transfer!r}: use auto, bind or copy")
        return cls(
            enabled=mode != "off",
            base_image=os.environ.get("MLOPS_BASE_IMAGE", "").strip() or None,
            ca_bundle=Path(ca).expanduser() if ca else None,
            transfer=transfer,
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
    docker: DockerSettings = field(default_factory=DockerSettings)

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
        """Read MLOPS_HOME, MLOPS_DATABASE_URL, MLOPS_PORT, MLOPS_CONCURRENCY and the
        Docker settings (see :class:`DockerSettings`)."""
        values: dict[str, object] = {
            "home": default_home(),
            "docker": DockerSettings.from_env(),
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
