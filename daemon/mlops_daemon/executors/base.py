"""The one interface every executor implements.

An executor runs a prepared job somewhere (a local process group, a container,
a cluster) and *reports* what happened. It never sets a run's status: the run
service reads the reports and drives the state machine.

Lifecycle, as the run service calls it::

    prepare(job)            blocking; may build things (a work dir, an image)
    handle = start(job)     returns a JSON-able handle, persisted in the store
    locate(job)             after a crash: the handle of a job started but not recorded
    poll(job, handle)       -> Poll(state, exit)   (called every tick)
    logs(job, offset, n)    the output so far, by byte offset (also after the end)
    cancel(job, handle)     asks the job to stop; poll later reports the exit
    collect(job, handle)    after the exit: final ExitInfo, resources released

All methods are blocking and are called off the event loop. A handle is plain
JSON so that a restarted daemon can ``poll`` a job started by its predecessor.
"""

from __future__ import annotations

import enum
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from mlops_kernel.runfiles import ARTIFACTS_DIR, EXIT_FILE, read_json
from mlops_kernel.schemas import RunSpec

ExitReason = Literal["exited", "timeout", "memory", "cpu_time", "cancelled", "start_failed"]


@dataclass(frozen=True)
class MountedDataset:
    """A dataset version a run reads, resolved when it was submitted."""

    name: str
    """Where the run finds it: ``$MLOPS_DATA_DIR/<name>``."""
    version: int
    path: Path
    """The recorded (absolute, resolved) file or folder on this machine."""
    manifest_hash: str
    id: str = ""
    """The dataset version's id in the store."""

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Job:
    """Everything an executor needs to know about one run."""

    run_id: str
    run_dir: Path
    spec: RunSpec
    argv: list[str]
    """The command to run, already resolved from the entry point."""
    env: dict[str, str]
    """The complete environment of the run (already cleaned and filled in)."""
    datasets: tuple[MountedDataset, ...] = ()
    """The dataset versions to make visible under ``env["MLOPS_DATA_DIR"]``."""

    @property
    def work_dir(self) -> Path:
        return self.run_dir / "work"


@dataclass(frozen=True)
class ExitInfo:
    """How a job ended."""

    reason: ExitReason
    message: str
    returncode: int | None = None
    signal: int | None = None
    ended_at: float | None = None
    peak_rss_mb: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.reason == "exited" and self.returncode == 0

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "message": self.message,
            "returncode": self.returncode,
            "signal": self.signal,
            "ended_at": self.ended_at,
            "peak_rss_mb": self.peak_rss_mb,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExitInfo:
        return cls(
            reason=data.get("reason", "exited"),
            message=str(data.get("message", "")),
            returncode=data.get("returncode"),
            signal=data.get("signal"),
            ended_at=data.get("ended_at"),
            peak_rss_mb=data.get("peak_rss_mb"),
        )


def read_exit(job: Job) -> ExitInfo | None:
    """The run's exit record (``exit.json``), or None while there is none."""
    data = read_json(job.run_dir / EXIT_FILE)
    return ExitInfo.from_json(data) if isinstance(data, dict) else None


def fresh_run_dir(job: Job) -> None:
    """The run directory with a fresh working directory, the artifacts folder and ``tmp``
    (every executor starts a run this way)."""
    try:
        job.run_dir.mkdir(parents=True, exist_ok=True)
        if job.work_dir.exists():
            shutil.rmtree(job.work_dir)
        job.work_dir.mkdir()
        (job.run_dir / ARTIFACTS_DIR).mkdir(exist_ok=True)
        (job.run_dir / "tmp").mkdir(exist_ok=True)
    except OSError as exc:
        raise ExecutorError(f"could not prepare the run directory {job.run_dir}: {exc}") from exc


class JobState(enum.Enum):
    RUNNING = "running"
    EXITED = "exited"
    GONE = "gone"
    """The process is gone and left no exit record: the run is lost."""


@dataclass(frozen=True)
class Poll:
    state: JobState
    exit: ExitInfo | None = None
    detail: str = ""


Handle = dict[str, Any]


class ExecutorError(Exception):
    """An executor could not do what was asked (it says why, for the user)."""


class Executor(Protocol):
    """The executor interface. See the module docstring for the lifecycle."""

    name: str
    """The executor's kind, recorded on each run ("local", "docker", ...)."""
    isolation: str
    """How strongly a run is isolated ("process", "container", ...)."""

    def available(self) -> tuple[bool, str]:
        """Whether this executor can take runs now, and if not, why (for ``auto``)."""
        ...

    def environment_key(self, spec: RunSpec) -> str | None:
        """What decides the content of the run's environment (for its identity): the
        environment lock's id, or an image's; None when it cannot be pinned."""
        ...

    def prepare(self, job: Job) -> None: ...

    def start(self, job: Job) -> Handle: ...

    def poll(self, job: Job, handle: Handle) -> Poll: ...

    def logs(self, job: Job, offset: int, max_bytes: int) -> tuple[str, int, int]:
        """The job's output from byte ``offset``: (text, next offset, size so far)."""
        ...

    def cancel(self, job: Job, handle: Handle, grace_s: float = 5.0) -> None: ...

    def collect(self, job: Job, handle: Handle) -> ExitInfo: ...

    def locate(self, job: Job) -> Handle | None:
        """The handle of a job that may have been started without its handle being stored
        (the daemon died in between); None if it never started."""
        ...
