"""A project's own settings: ``mlops.toml`` at the project root.

A missing file means the defaults. A file that cannot be read or holds a value
of the wrong type is the user's mistake, reported in one line (never a crash)::

    [docker]
    base_image = "python:3.11-slim"   # what run images are built from
    ca_bundle = "certs/corp-ca.pem"   # relative to the project, or absolute
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InvalidInput

FILE_NAME = "mlops.toml"


@dataclass(frozen=True)
class ProjectDocker:
    base_image: str | None = None
    ca_bundle: Path | None = None


@dataclass(frozen=True)
class ProjectConfig:
    path: Path | None
    """The file read, or None when the project has none."""
    docker: ProjectDocker = ProjectDocker()


def load_project_config(project: Path) -> ProjectConfig:
    """The project's ``mlops.toml`` (InvalidInput when it is malformed)."""
    path = project / FILE_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return ProjectConfig(path=None)
    except OSError as exc:
        raise InvalidInput(f"{path} cannot be read: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid TOML: {exc}") from exc
    return ProjectConfig(path=path, docker=_docker(path, project, data.get("docker", {})))


def _docker(path: Path, project: Path, table: Any) -> ProjectDocker:
    if not isinstance(table, dict):
        raise InvalidInput(f"{path}: [docker] must be a table")
    base = _optional_str(path, table, "base_image")
    ca = _optional_str(path, table, "ca_bundle")
    ca_path = None if ca is None else (project / Path(ca).expanduser())
    return ProjectDocker(base_image=base, ca_bundle=ca_path)


def _optional_str(path: Path, table: dict[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{path}: [docker] {key} must be a non-empty string")
    return value.strip()
