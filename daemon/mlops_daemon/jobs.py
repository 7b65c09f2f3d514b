"""Build the Job an executor runs from a stored run: its command and clean environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mlops_kernel import runfiles
from mlops_kernel.datasets import DATA_DIR, DATA_DIR_ENV
from mlops_kernel.schemas import RunSpec

from .config import DaemonConfig
from .entrypoints import command_for
from .executors.base import Job, MountedDataset


def clean_environment(
    config: DaemonConfig, spec: RunSpec, run_id: str, run_dir: Path
) -> dict[str, str]:
    """Only what Python needs, the spec's own variables, and where the run writes.

    Nothing else leaks from the daemon's environment, so a run behaves the same
    whoever started the daemon and from which shell.
    """
    env = {name: os.environ[name] for name in config.env_passthrough if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONHASHSEED"] = "0"
    env["TMPDIR"] = str(run_dir / "tmp")
    env.update(spec.env)
    project_path = spec.project
    env["PYTHONPATH"] = (
        f"{project_path}{os.pathsep}{spec.env['PYTHONPATH']}"
        if spec.env.get("PYTHONPATH")
        else project_path
    )
    env[runfiles.RUN_DIR_ENV] = str(run_dir)
    env[runfiles.RUN_ID_ENV] = run_id
    env[runfiles.PARAMS_FILE_ENV] = str(run_dir / runfiles.PARAMS_FILE)
    env[DATA_DIR_ENV] = str(run_dir / DATA_DIR)  # the Docker executor sets its own
    return env


def build_job(
    config: DaemonConfig,
    run_id: str,
    run_dir: Path,
    spec: RunSpec,
    datasets: Sequence[MountedDataset] = (),
) -> Job:
    """The job to start (raises InvalidInput if the entry point cannot be run).

    ``datasets``: the versions ``spec.datasets`` resolved to when it was submitted.
    """
    return Job(
        run_id=run_id,
        run_dir=run_dir,
        spec=spec,
        argv=command_for(spec, sys.executable),
        env=clean_environment(config, spec, run_id, run_dir),
        datasets=tuple(datasets),
    )


def reattach_job(run_id: str, run_dir: Path, spec: RunSpec) -> Job:
    """A job already started (by this daemon or one before it): only watched, never started."""
    return Job(run_id=run_id, run_dir=run_dir, spec=spec, argv=[], env={})


def write_run_dir(run_dir: Path, spec: RunSpec) -> None:
    """Create the run directory with the accepted spec and its params."""
    (run_dir / "tmp").mkdir(parents=True, exist_ok=True)
    runfiles.write_json_atomic(run_dir / runfiles.SPEC_FILE, spec.model_dump(mode="json"))
    runfiles.write_json_atomic(run_dir / runfiles.PARAMS_FILE, spec.params)
