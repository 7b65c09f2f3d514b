"""Runs on an engine that does not share this machine's files (``tcp://``, ``ssh://``).

A bind mount names a path on the engine's machine, so for such an engine the
run's files travel through the API instead:

- the project, the datasets and the run directory's starting files are copied
  into a per-run image ``mlops-run:<run id>`` built on the environment image
  (the container's root stays read-only, so they cannot be changed);
- the run directory is a named volume, filled from that image when the
  container starts (with the run user's ownership);
- while the run goes, its small live files (output, metrics, params, tags) are
  copied back every :data:`SYNC_INTERVAL_S`, so logs and metrics stream as for a
  local engine; when it ends, the whole run directory (artifacts included) is.

Everything here blocks; the executor calls it off the event loop.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, NotFound

from mlops_kernel import runfiles

from .base import ExecutorError, Job
from .docker_container import DATA_DIR, PROJECT_DIR, RUN_DIR, run_user

RUN_IMAGE_REPO = "mlops-run"
LIVE_FILES = (
    runfiles.LOG_FILE,
    runfiles.METRICS_FILE,
    runfiles.PARAMS_FILE,
    runfiles.TAGS_FILE,
)
SYNC_INTERVAL_S = 1.0
SKIPPED_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache"})
"""Folders of a project that a run never needs and that can be large."""
FETCHED_MARK = ".fetched"


def volume_name(run_id: str) -> str:
    return f"mlops-run-{run_id}"


def run_image_tag(run_id: str) -> str:
    return f"{RUN_IMAGE_REPO}:{run_id}"


def build_run_image(client: docker.DockerClient, job: Job, env_image: str) -> str:
    """``mlops-run:<run id>``: the environment image plus the run's project, datasets and
    starting run directory."""
    uid, gid = run_user()
    lines = [f"FROM {env_image}", f"COPY project/ {PROJECT_DIR}/"]
    if job.datasets:
        lines.append(f"COPY data/ {DATA_DIR}/")
    lines.append(f"COPY --chown={uid}:{gid} run/ {RUN_DIR}/")
    tag = run_image_tag(job.run_id)
    with tempfile.TemporaryDirectory(prefix="mlops-run-context-") as tmp:
        context = Path(tmp) / "context.tar"
        with tarfile.open(context, "w") as tar:
            data = ("\n".join(lines) + "\n").encode()
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            _add_tree(tar, Path(job.spec.project), "project", skip=SKIPPED_DIRS)
            for dataset in job.datasets:
                _add_tree(tar, dataset.path, f"data/{dataset.name}", skip=frozenset())
            _add_tree(tar, job.run_dir, "run", skip=frozenset())
        with open(context, "rb") as fileobj:
            try:
                for chunk in client.api.build(
                    fileobj=fileobj, custom_context=True, tag=tag, rm=True, forcerm=True,
                    pull=False, decode=True,
                ):  # fmt: skip
                    if "error" in chunk:
                        raise ExecutorError(f"could not copy the run's files: {chunk['error']}")
            except APIError as exc:
                raise ExecutorError(f"could not copy the run's files: {exc}") from exc
    return tag


def sync_live_files(container: Any, run_dir: Path, names: Iterable[str] = LIVE_FILES) -> None:
    """Copy the run's small live files back (each replaced atomically, so a reader never
    sees half of one)."""
    for name in names:
        with contextlib.suppress(NotFound):
            data = _read_file(container, f"{RUN_DIR}/{name}")
            if data is not None:
                target = run_dir / name
                tmp = target.with_name(f".{name}.sync")
                tmp.write_bytes(data)
                os.replace(tmp, target)


def fetch_run_dir(container: Any, run_dir: Path) -> None:
    """Copy the whole run directory back (artifacts included), once, after the run ended."""
    if (run_dir / FETCHED_MARK).exists():
        return
    try:
        stream, _ = container.get_archive(RUN_DIR)
    except (NotFound, APIError) as exc:
        raise ExecutorError(f"could not copy the run directory back: {exc}") from exc
    with tempfile.TemporaryFile() as buffer:
        for chunk in stream:
            buffer.write(chunk)
        buffer.seek(0)
        with tarfile.open(fileobj=buffer) as tar, tempfile.TemporaryDirectory() as tmp:
            tar.extractall(tmp, filter="data")
            _merge(Path(tmp) / Path(RUN_DIR).name, run_dir)
    (run_dir / FETCHED_MARK).write_text(str(time.time()))


def remove_run_resources(client: docker.DockerClient, run_id: str) -> None:
    """The run's volume and image, once its container is gone."""
    with contextlib.suppress(NotFound, DockerException):
        client.volumes.get(volume_name(run_id)).remove(force=True)
    with contextlib.suppress(NotFound, DockerException):
        client.images.remove(run_image_tag(run_id), force=True)


def _read_file(container: Any, path: str) -> bytes | None:
    stream, _ = container.get_archive(path)
    raw = b"".join(stream)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        if member is None:
            return None
        extracted = tar.extractfile(member)
        return extracted.read() if extracted is not None else None


def _add_tree(tar: tarfile.TarFile, source: Path, arcname: str, skip: frozenset[str]) -> None:
    def exclude(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        parts = Path(info.name).parts
        if any(part in skip for part in parts[1:]):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    try:
        tar.add(str(source), arcname=arcname, recursive=True, filter=exclude)
    except OSError as exc:
        raise ExecutorError(f"could not read {source} to copy it to the engine: {exc}") from exc


def _merge(source: Path, target: Path) -> None:
    """Copy every file of ``source`` over ``target`` (the local run directory)."""
    if not source.is_dir():
        return
    for path in source.rglob("*"):
        destination = target / path.relative_to(source)
        if path.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        elif path.is_file():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
