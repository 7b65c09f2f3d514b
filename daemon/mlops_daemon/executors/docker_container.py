"""What a run's container looks like: its command, environment, mounts and limits.

Pure functions from a Job to the arguments of ``containers.create``, so the
safety rules are easy to read and to test:

- the run's code runs as a non-root user, with every capability dropped,
  ``no-new-privileges`` and a read-only root filesystem (``/tmp`` is a tmpfs);
- the network is off (``network_mode="none"``) unless the run asks for it;
- the project and the datasets are mounted read-only; only the run directory
  is writable;
- CPU and memory limits become the engine's (memory without swap), GPUs a
  device request;
- the run's output goes to the run directory's ``output.log`` (the container
  writes it itself), so logs stream live and survive a daemon restart.
"""

from __future__ import annotations

import os
from typing import Any

from docker.types import DeviceRequest, Mount

from mlops_kernel import runfiles

from .base import Job
from .local import with_limits_environment

PROJECT_DIR = "/mlops/project"
RUN_DIR = "/mlops/run"
DATA_DIR = "/mlops/data"
RUNTIME_PATH = "/opt/mlops/lib"
LABEL_RUN = "io.jupyter-mlops.run"
LABEL_HOME = "io.jupyter-mlops.home"
UNPRIVILEGED_UID = 10001
"""The user a run is when the daemon itself is root (otherwise the daemon's own uid)."""
DATA_DIR_ENV = "MLOPS_DATA_DIR"

_HOST_ONLY = {"PATH", "HOME", "SSL_CERT_FILE", "SSL_CERT_DIR", "VIRTUAL_ENV"}
"""Variables of the host's environment that mean nothing inside the container."""


def run_user() -> tuple[int, int]:
    """(uid, gid) of the run's process: the daemon's own, or an unprivileged one for root."""
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        return UNPRIVILEGED_UID, UNPRIVILEGED_UID
    return uid, gid


def container_command(job: Job) -> list[str]:
    """The job's argv with host paths made container paths, writing its output to the log."""
    project = job.spec.project.rstrip("/")
    argv = ["python", *(_translate(arg, project, str(job.run_dir)) for arg in job.argv[1:])]
    log = f"{RUN_DIR}/{runfiles.LOG_FILE}"
    return ["/bin/sh", "-c", f'exec "$@" >>{log} 2>&1', "mlops-run", *argv]


def container_environment(job: Job) -> dict[str, str]:
    project = job.spec.project.rstrip("/")
    run_dir = str(job.run_dir)
    env = {
        name: _translate(value, project, run_dir)
        for name, value in with_limits_environment(job).items()
        if name not in _HOST_ONLY
    }
    extra = job.spec.env.get("PYTHONPATH", "")
    paths = [PROJECT_DIR, RUNTIME_PATH] + [
        _translate(p, project, run_dir) for p in extra.split(os.pathsep) if p
    ]
    env.update(
        {
            "PYTHONPATH": ":".join(paths),
            "HOME": "/tmp",
            "TMPDIR": f"{RUN_DIR}/tmp",
            DATA_DIR_ENV: DATA_DIR,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def mounts(job: Job, copied: bool = False) -> list[Mount]:
    """Bind mounts of the project, the run directory and the datasets; or, when the files
    were copied into the run's image (an engine elsewhere), only the run's volume."""
    if copied:
        return [Mount(RUN_DIR, f"mlops-run-{job.run_id}", type="volume")]
    found = [
        Mount(PROJECT_DIR, job.spec.project, type="bind", read_only=True),
        Mount(RUN_DIR, str(job.run_dir), type="bind", read_only=False),
    ]
    for dataset in job.datasets:
        found.append(
            Mount(f"{DATA_DIR}/{dataset.name}", str(dataset.path), type="bind", read_only=True)
        )
    return found


def create_kwargs(job: Job, image: str, home: str, copied: bool = False) -> dict[str, Any]:
    """Keyword arguments of ``client.containers.create`` for this job."""
    resources = job.spec.resources
    uid, gid = run_user()
    kwargs: dict[str, Any] = {
        "image": image,
        "command": container_command(job),
        "environment": container_environment(job),
        "working_dir": f"{RUN_DIR}/{runfiles.WORK_DIR}",
        "user": f"{uid}:{gid}",
        "mounts": mounts(job, copied),
        "labels": {LABEL_RUN: job.run_id, LABEL_HOME: home},
        "name": f"mlops-run-{job.run_id}",
        "network_mode": "bridge" if job.spec.network else "none",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        "tmpfs": {"/tmp": "rw,nosuid,nodev,mode=1777"},
        "init": True,
        "pids_limit": 4096,
        "detach": True,
    }
    if resources.memory_mb is not None:
        kwargs["mem_limit"] = f"{resources.memory_mb}m"
        kwargs["memswap_limit"] = f"{resources.memory_mb}m"
    if resources.cpus is not None:
        kwargs["nano_cpus"] = int(resources.cpus * 1e9)
    if resources.gpus:
        kwargs["device_requests"] = [DeviceRequest(count=resources.gpus, capabilities=[["gpu"]])]
    return kwargs


def _translate(value: str, project: str, run_dir: str) -> str:
    """A host path in ``value`` (the project's or the run directory's) as the container sees it."""
    if run_dir and run_dir in value:
        value = value.replace(run_dir, RUN_DIR)
    if project and project in value:
        value = value.replace(project, PROJECT_DIR)
    return value
