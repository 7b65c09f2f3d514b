"""Wheels for an exported service (``mlops export-service --wheels``), so that its image
builds with no package index: air-gapped clusters, CI without a registry.

The service's packages are locked with everything they require, at the versions
installed here; their wheels come from the daemon's wheelhouse (the one container runs
fill), else pip downloads them into it. They are copied into ``wheels/`` beside a
``requirements.lock.txt`` in pip's hash-checking mode, and the Dockerfile installs from
there with ``--no-index --require-hashes``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..envlock import gather_wheels, lock_for_packages

WHEELS_DIR = "wheels"
LOCK_FILE = "requirements.lock.txt"
VENV = "/opt/service"

ONLINE_INSTALL = f"""COPY requirements.txt /tmp/service/
RUN python3 -m venv {VENV} \\
 && {VENV}/bin/pip install --no-cache-dir --disable-pip-version-check \\
    -r /tmp/service/requirements.txt"""

OFFLINE_INSTALL = f"""COPY {LOCK_FILE} /tmp/service/
COPY {WHEELS_DIR}/ /tmp/service/{WHEELS_DIR}/
RUN python3 -m venv {VENV} \\
 && {VENV}/bin/pip install --no-cache-dir --disable-pip-version-check --no-index \\
    --find-links /tmp/service/{WHEELS_DIR} --require-hashes -r /tmp/service/{LOCK_FILE}"""


@dataclass(frozen=True)
class WheelSource:
    """Where the wheels come from."""

    wheelhouse: Path
    """The daemon's shared wheelhouse (``$MLOPS_HOME/wheelhouse``), reused and filled."""
    ca_bundle: Path | None = None
    progress: Callable[[str], None] | None = None


def gather_service_wheels(packages: list[str], folder: Path, source: WheelSource) -> None:
    """Write ``wheels/`` and ``requirements.lock.txt`` into ``folder`` (EnvLockError when a
    package is not installed here or pip cannot fetch a wheel)."""
    lock = gather_wheels(
        lock_for_packages(packages),
        source.wheelhouse,
        ca_bundle=source.ca_bundle,
        progress=source.progress,
    )
    text = lock.requirements_text()  # every package has its wheel and hash now
    wheels = folder / WHEELS_DIR
    wheels.mkdir()
    for name in (p.filename for p in lock.packages if p.filename):
        shutil.copy2(source.wheelhouse / name, wheels / name)
    (folder / LOCK_FILE).write_text(text, encoding="utf-8")
