"""How a local run sees its datasets: ``<run_dir>/data/<name>`` links to each one.

The local executor cannot mount anything read-only: the link points at the
recorded files themselves, so a run *could* change them (the next run naming the
dataset would then record a new version, or refuse a pinned ``name@N``). The
Docker executor mounts each read-only at ``/mlops/data/<name>`` instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from mlops_kernel.datasets import DATA_DIR

from .base import ExecutorError, Job


def link_datasets(job: Job) -> Path:
    """(Re)create ``<run_dir>/data`` with one symlink per dataset; returns the folder."""
    data = job.run_dir / DATA_DIR
    try:
        if data.is_symlink() or data.is_file():
            data.unlink()
        elif data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True)
        for item in job.datasets:
            (data / item.name).symlink_to(item.path, target_is_directory=item.path.is_dir())
    except OSError as exc:
        raise ExecutorError(f"could not link the run's datasets into {data}: {exc}") from exc
    return data
