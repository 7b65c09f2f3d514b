"""Write a gathered lock next to what it builds: ``requirements.lock`` and ``env-lock.json``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .model import EnvLock, EnvLockError

REQUIREMENTS_FILE = "requirements.lock"
JSON_FILE = "env-lock.json"


def write_lock_files(lock: EnvLock, directory: Path) -> None:
    """``requirements.lock`` (pip hash-checking mode; the lock must be gathered) and
    ``env-lock.json`` (:meth:`EnvLock.to_json`), each written atomically."""
    requirements = lock.requirements_text()
    document = json.dumps(lock.to_json(), indent=2, sort_keys=True) + "\n"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write(directory / REQUIREMENTS_FILE, requirements)
        _write(directory / JSON_FILE, document)
    except OSError as exc:
        raise EnvLockError(f"cannot write the environment lock into {directory}: {exc}") from exc


def read_lock_file(path: Path) -> EnvLock:
    """The lock in an ``env-lock.json`` written by :func:`write_lock_files`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EnvLockError(f"cannot read the environment lock {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise EnvLockError(f"{path} does not hold an environment lock")
    return EnvLock.from_json(data)


def _write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
