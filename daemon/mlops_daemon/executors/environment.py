"""What every executor records about where a run ran: ``environment.json`` in its run
directory, stored on the run (``RunDetail.environment``) once the run has started."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any

from mlops_kernel.runfiles import read_json, write_json_atomic

from ..gpus import gpu_inventory
from .base import Job

ENVIRONMENT_FILE = "environment.json"


def host_facts(job: Job) -> dict[str, Any]:
    """The interpreter, the machine, and the GPUs the run is given (name, memory)."""
    gpus = job.spec.resources.gpus
    return {
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": platform.node(),
        "gpus": gpu_inventory(gpus) if gpus else [],
    }


def write_environment(job: Job, record: dict[str, Any]) -> None:
    write_json_atomic(job.run_dir / ENVIRONMENT_FILE, record)


def read_environment(run_dir: Path) -> dict[str, Any] | None:
    data = read_json(run_dir / ENVIRONMENT_FILE)
    return data if isinstance(data, dict) else None
