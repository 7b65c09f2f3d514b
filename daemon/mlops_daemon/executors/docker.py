"""The Docker executor: each run is a container built from its environment lock.

``prepare`` resolves the run's environment lock, gathers its wheels on the host
and builds (or reuses) the image ``mlops-env:<environment id>``, writing its
progress to the run's log and what it chose to ``environment.json``. ``start``
creates the container (see ``docker_container.py`` for its safety rules) with
labels naming the run and the daemon's home, so a restarted daemon finds it
again. How a run ended is read from the engine (exit code, ``OOMKilled``) and
kept in ``exit.json`` before the container is removed, so collecting twice,
or after a restart, gives the same answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docker.errors import APIError, DockerException, NotFound

from mlops_kernel.runfiles import EXIT_FILE, LOG_FILE, read_json, write_json_atomic
from mlops_kernel.schemas import RunSpec

from ..config import DEFAULT_BASE_IMAGE, DaemonConfig
from ..envlock import gather_wheels, resolve_lock
from ..gpus import gpu_inventory
from ..logs import read_log
from ..project_config import load_project_config
from .base import (
    ExecutorError,
    ExitInfo,
    ExitReason,
    Handle,
    Job,
    JobState,
    Poll,
    fresh_run_dir,
    read_exit,
)
from .docker_command import environment_image, run_in_image
from .docker_container import LABEL_HOME, LABEL_RUN, create_kwargs, run_user
from .docker_engine import Engine
from .docker_image import (
    ImageBuilder,
    environment_id,
    image_id_or_none,
    runtime_hash,
)
from .docker_transfer import (
    SYNC_INTERVAL_S,
    build_run_image,
    fetch_run_dir,
    remove_run_resources,
    sync_live_files,
)
from .environment import ENVIRONMENT_FILE, write_environment

log = logging.getLogger(__name__)

STOP_FILE = "stop.json"
"""Why the daemon stopped the container (cancelled, timeout), read when collecting."""
GPU_RUNTIME_MISSING = ("could not select device driver", "nvidia-container-cli", "unknown runtime")


class DockerExecutor:
    name = "docker"
    isolation = "container"

    def __init__(self, config: DaemonConfig, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine or Engine(config.docker)
        self.images = ImageBuilder(config.home / "wheelhouse")
        self._synced: dict[str, float] = {}
        """When each copied run's live files were last copied back (monotonic seconds)."""

    # -- choosing --------------------------------------------------------------

    def available(self) -> tuple[bool, str]:
        return self.engine.available()

    def environment_key(self, spec: RunSpec) -> str | None:
        """The image's environment id: lock, base image digest (its name while the engine
        lacks it), mlops runtime. An unresolvable lock is the user's error (422)."""
        lock = resolve_lock(Path(spec.project), spec.entry_point)
        base = self._base_image(Path(spec.project))
        base_id = image_id_or_none(self.engine.client(), base) or f"name:{base}"
        return "image:" + environment_id(lock, base_id, runtime_hash())

    def _base_image(self, project: Path) -> str:
        configured = load_project_config(project).docker.base_image
        return self.config.docker.base_image or configured or DEFAULT_BASE_IMAGE

    # -- preparing -------------------------------------------------------------

    def prepare(self, job: Job) -> None:
        project = Path(job.spec.project)
        base_image = self._base_image(project)
        ca_bundle = self.config.docker.ca_bundle or load_project_config(project).docker.ca_bundle
        fresh_run_dir(job)
        say = _progress(job.run_dir)
        client = self.engine.client()
        engine = self.engine.describe()
        say(f"resolving the environment lock of {job.spec.entry_point}")
        lock = resolve_lock(project, job.spec.entry_point)
        say(f"lock {lock.id}: Python {lock.python}, {len(lock.packages)} packages")
        lock = gather_wheels(
            lock, self.config.home / "wheelhouse", ca_bundle=ca_bundle, progress=say
        )
        image = self.images.ensure(client, lock, base_image, ca_bundle, say)
        copied = self._copies(engine.remote)
        run_image = None
        if copied:
            say(f"copying the project and datasets to the engine at {engine.host}")
            run_image = build_run_image(client, job, image.tag)
        gpus = job.spec.resources.gpus
        record = {
            "executor": self.name,
            "isolation": self.isolation,
            "python": lock.python,
            "engine": engine.to_json(),
            "image": image.to_json(),
            "lock": lock.to_json(),
            "network": job.spec.network,
            "transfer": "copy" if copied else "bind",
            "run_image": run_image,
            "datasets": {d.name: d.ref for d in job.datasets},
            "gpus": gpu_inventory(gpus) if gpus and not engine.remote else [],
        }
        write_environment(job, record)

    # -- running ---------------------------------------------------------------

    def start(self, job: Job) -> Handle:
        tag, copied = _prepared(job)
        (job.run_dir / EXIT_FILE).unlink(missing_ok=True)
        (job.run_dir / STOP_FILE).unlink(missing_ok=True)
        if not copied:
            _hand_over(job.run_dir)
        client = self.engine.client()
        try:
            container = client.containers.create(
                **create_kwargs(job, tag, str(self.config.home), copied)
            )
        except APIError as exc:
            raise ExecutorError(f"could not create the run's container: {_explain(exc)}") from exc
        try:
            container.start()
        except APIError as exc:
            _remove(container)
            if any(marker in _explain(exc) for marker in GPU_RUNTIME_MISSING):
                raise ExecutorError(
                    _no_gpu_message(job.spec.resources.gpus, self.engine.describe().host)
                ) from exc
            raise ExecutorError(f"could not start the run's container: {_explain(exc)}") from exc
        return {
            "container_id": container.id,
            "image": tag,
            "started": time.time(),
            "transfer": "copy" if copied else "bind",
        }

    def poll(self, job: Job, handle: Handle) -> Poll:
        recorded = read_exit(job)
        try:
            container = self.engine.client().containers.get(handle["container_id"])
        except NotFound:
            if recorded is not None:
                return Poll(JobState.EXITED, recorded)
            return Poll(JobState.GONE, detail="the run's container is gone")
        state = container.attrs.get("State", {})
        status = state.get("Status")
        copied = handle.get("transfer") == "copy"
        if status in ("running", "restarting", "paused"):
            self._enforce_timeout(job, handle, container)
            if copied:
                self._sync(job, container)
            return Poll(JobState.RUNNING)
        if status == "created":
            _remove(container)
            return Poll(JobState.GONE, detail="the run's container was never started")
        if copied:
            fetch_run_dir(container, job.run_dir)
        return Poll(JobState.EXITED, recorded or self._exit_info(job, state))

    def logs(self, job: Job, offset: int, max_bytes: int) -> tuple[str, int, int]:
        return read_log(job.run_dir, offset, max_bytes)

    def cancel(self, job: Job, handle: Handle, grace_s: float = 5.0) -> None:
        write_json_atomic(job.run_dir / STOP_FILE, {"reason": "cancelled", "at": time.time()})
        try:
            container = self.engine.client().containers.get(handle["container_id"])
            container.stop(timeout=max(0, round(grace_s)))
        except NotFound:
            return
        except DockerException as exc:
            raise ExecutorError(f"could not stop the run's container: {exc}") from exc

    def collect(self, job: Job, handle: Handle) -> ExitInfo:
        recorded = read_exit(job)
        if recorded is not None:
            self._remove_by_id(handle["container_id"])
            return recorded
        try:
            container = self.engine.client().containers.get(handle["container_id"])
        except NotFound as exc:
            raise ExecutorError(
                f"run {job.run_id}: its container and exit record are gone"
            ) from exc
        if handle.get("transfer") == "copy":
            fetch_run_dir(container, job.run_dir)
        info = self._exit_info(job, container.attrs.get("State", {}))
        write_json_atomic(job.run_dir / EXIT_FILE, info.to_json())
        _remove(container)
        if handle.get("transfer") == "copy":
            remove_run_resources(self.engine.client(), job.run_id)
        return info

    def locate(self, job: Job) -> Handle | None:
        try:
            found = self.engine.client().containers.list(
                all=True, filters={"label": f"{LABEL_RUN}={job.run_id}"}
            )
        except DockerException:
            return None
        ours = [c for c in found if c.labels.get(LABEL_HOME) == str(self.config.home)]
        if not ours:
            return None
        return {"container_id": ours[0].id, "image": "", "started": time.time()}

    # -- helpers ---------------------------------------------------------------

    def _enforce_timeout(self, job: Job, handle: Handle, container: Any) -> None:
        limit = job.spec.resources.timeout_s
        if limit is None:
            return
        elapsed = time.time() - float(handle.get("started", time.time()))
        if elapsed <= limit:
            return
        if not (job.run_dir / STOP_FILE).exists():
            write_json_atomic(job.run_dir / STOP_FILE, {"reason": "timeout", "at": time.time()})
            _signal(container, "SIGTERM")
        elif elapsed > limit + self.config.cancel_grace_s:
            _signal(container, "SIGKILL")

    def _exit_info(self, job: Job, state: dict[str, Any]) -> ExitInfo:
        code = state.get("ExitCode")
        returncode = int(code) if code is not None else None
        ended = _parse_time(state.get("FinishedAt"))
        stop = read_json(job.run_dir / STOP_FILE)
        reason: ExitReason = "exited"
        if isinstance(stop, dict) and stop.get("reason") in ("cancelled", "timeout"):
            reason = stop["reason"]
            message = (
                "cancelled"
                if reason == "cancelled"
                else f"timed out after {job.spec.resources.timeout_s:g} s and was stopped"
            )
        elif state.get("OOMKilled"):
            reason = "memory"
            limit = job.spec.resources.memory_mb
            message = "out of memory: the run used more than its " + (
                f"memory limit of {limit} MiB" if limit else "container's memory"
            )
        elif returncode == 0:
            message = "exited with code 0"
        else:
            message = f"exited with code {returncode}" + _error_detail(state)
        return ExitInfo(reason=reason, message=message, returncode=returncode, ended_at=ended)

    def _copies(self, remote: bool) -> bool:
        mode = self.config.docker.transfer
        return mode == "copy" or (mode == "auto" and remote)

    def _sync(self, job: Job, container: Any) -> None:
        now = time.monotonic()
        if now - self._synced.get(job.run_id, 0.0) < SYNC_INTERVAL_S:
            return
        self._synced[job.run_id] = now
        try:
            sync_live_files(container, job.run_dir)
        except DockerException as exc:
            log.warning("run %s: could not copy its live files back: %s", job.run_id, exc)

    def run_in_environment(self, job: Job, argv: list[str], timeout_s: float) -> tuple[int, str]:
        """(exit code, output) of ``argv`` in the image the run trained in (the tests gate)."""
        image = environment_image(job.run_dir)
        return run_in_image(self.engine.client(), image, Path(job.spec.project), argv, timeout_s)

    def _remove_by_id(self, container_id: str) -> None:
        with contextlib.suppress(NotFound, ExecutorError):
            _remove(self.engine.client().containers.get(container_id))


def _prepared(job: Job) -> tuple[str, bool]:
    """(the image to run, whether the run's files were copied into it), from ``prepare``."""
    record = read_json(job.run_dir / ENVIRONMENT_FILE)
    if not isinstance(record, dict) or "image" not in record:
        raise ExecutorError(f"run {job.run_id} was not prepared (no {ENVIRONMENT_FILE})")
    copied = record.get("transfer") == "copy"
    tag = record.get("run_image") if copied else record["image"]["tag"]
    return str(tag), copied


def _hand_over(run_dir: Path) -> None:
    """Give the run directory to the container's user (only needed when the daemon is root)."""
    uid, gid = run_user()
    if os.getuid() != 0:
        return
    for root, dirs, files in os.walk(run_dir):
        os.chown(root, uid, gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def _progress(run_dir: Path) -> Any:
    path = run_dir / LOG_FILE

    def say(line: str) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"[mlops] {line}\n")

    return say


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except NotFound:
        pass
    except DockerException as exc:
        log.warning("could not remove container %s: %s", getattr(container, "id", "?"), exc)


def _signal(container: Any, name: str) -> None:
    with contextlib.suppress(NotFound, APIError):
        container.kill(signal=name)


def _explain(exc: APIError) -> str:
    return str(exc.explanation or exc)


def _error_detail(state: dict[str, Any]) -> str:
    error = str(state.get("Error") or "").strip()
    return f" ({error})" if error else ""


def _no_gpu_message(count: int, host: str) -> str:
    return (
        f"the run asks for {count} GPU(s) but the Docker engine at {host} has no GPU runtime "
        "(install the NVIDIA Container Toolkit there), or run it with --executor local"
    )


def _parse_time(text: Any) -> float | None:
    """Docker's RFC 3339 time (nanoseconds, ``Z``) as a timestamp; None when unset."""
    if not isinstance(text, str) or text.startswith("0001-"):
        return None
    stamp = text.strip().removesuffix("Z")
    if "." in stamp:
        head, fraction = stamp.split(".", 1)
        stamp = f"{head}.{fraction[:6]}"
    try:
        return datetime.fromisoformat(stamp).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
